/* pg: the PostgreSQL store behind the store.h contract, through libpq.
 *
 * A small pool of connections (POOL_MAX, mutex-guarded: core calls the store
 * from several threads) that each call borrows for its whole run. A lost
 * connection (the database restarted, the network dropped) is found by the
 * call that uses it: that call drops every idle connection (they shared the
 * server's fate) and is retried once on a fresh one when that is safe
 * (pg_int.h: a read, a write that had not committed, an idempotent upsert),
 * and a call that finds the database unreachable waits for it a few
 * seconds (CONNECT_WAIT_MS) before failing, so a restart of PostgreSQL
 * costs at most a write whose COMMIT was cut, never the server's own
 * restart. Rows hold the same neutral JSON
 * as SQLite's (store/codec.c); the schema is pg_schema.c's, the
 * interactions' calls pg_rows.c's, the files' pg_files.c's. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "store/pg_int.h"

#define POOL_MAX 4
/* How long a call waits for an unreachable database (restarting, say)
 * before it fails: connection attempts 100 ms apart, doubling to 1 s. */
#define CONNECT_WAIT_MS 5000

typedef struct pg_store {
    ia_store base; /* first: the ops table (store/backend.h) */
    char *conninfo;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    PGconn *idle[POOL_MAX];
    int n_idle, n_open; /* n_open counts idle and borrowed ones */
    char *instance;     /* set before serving, read by every op */
    int64_t lease_ms;   /* ia_store_set_lease's */
    PGconn *listen;     /* ia_store_listen' own (LISTEN), outside the pool;
                           only the lease thread uses it */
    PGconn *lease;      /* the renewals' and takeovers' own (ia_pg_run_lease),
                           outside the pool: requests holding every pooled
                           connection never starve a renewal */
} pg_store;


/* ---- query helpers (pg_int.h) ---------------------------------------------- */

void ia_pg_text(pgargs *a, const char *s) { a->v[a->n++] = s; }

void ia_pg_i64(pgargs *a, int64_t x) {
    snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)x);
    a->v[a->n] = a->num[a->n];
    a->n++;
}

/* libpq's messages end in a newline; the store's errors are one line. */
static int fail_pg(pgx *x, const char *what, const char *msg) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", msg && *msg ? msg : "unknown error");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    return ia_fail(x->err, IA_EINTERNAL, "store: %s: %s", what, buf);
}

PGresult *ia_pg_q(pgx *x, const char *what, const char *sql, const pgargs *a) {
    /* without parameters PQexec, which also runs a script (migrations) */
    PGresult *r = a ? PQexecParams(x->c, sql, a->n, NULL, a->v, NULL, NULL, 0) : PQexec(x->c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
    fail_pg(x, what, r ? PQresultErrorMessage(r) : PQerrorMessage(x->c));
    PQclear(r);
    return NULL;
}

PGresult *ia_pg_qw(pgx *x, const char *what, const char *sql, const pgargs *a) {
    x->committing = true;
    return ia_pg_q(x, what, sql, a);
}

int ia_pg_exec(pgx *x, const char *what, const char *sql, const pgargs *a) {
    PGresult *r = ia_pg_q(x, what, sql, a);
    PQclear(r);
    return r ? 0 : -1;
}

void ia_pg_rollback(pgx *x) {
    if (PQtransactionStatus(x->c) != PQTRANS_IDLE) PQclear(PQexec(x->c, "ROLLBACK"));
}

char *ia_pg_dup(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? NULL : ia_strdup(PQgetvalue(r, row, col));
}

int64_t ia_pg_int(const PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void ia_pg_into(const PGresult *r, int row, int col, char *out, size_t cap) {
    snprintf(out, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

int ia_pg_changed(const PGresult *r) { return atoi(PQcmdTuples((PGresult *)r)); }

/* ---- the pool ---------------------------------------------------------------- */

static PGconn *connect_one(pg_store *s, ia_err *err) {
    /* Bounds libpq has none of by default, so an unreachable host or a
     * half-open connection fails a call instead of blocking the writer for
     * the kernel's TCP timeouts. Given before dbname, whose expanded spec
     * overrides them when it sets its own. */
    static const char *const keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                                       "keepalives_count", "dbname", NULL};
    const char *vals[] = {"5", "30", "10", "3", s->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        pgx x = {.c = c, .err = err};
        fail_pg(&x, "cannot connect to PostgreSQL", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    /* The store's notices (e.g. "relation already exists, skipping") are
     * not the operator's business. A transaction left open by a stalled or
     * cut-off process (SIGSTOP, a partition: the server sees it idle) is
     * ended by the server, so the row locks it held (an append's FOR SHARE,
     * a finish's update) never keep another instance from taking its runs
     * over; ours send their statements back to back. */
    PQclear(PQexec(c, "SET client_min_messages = warning; "
                      "SET idle_in_transaction_session_timeout = '" IA_PG_IDLE_TX_TIMEOUT "'"));
    return c;
}

/* A connection to use for one call: an idle one, or a new one while fewer
 * than POOL_MAX are open (else it waits for one to come back). */
static PGconn *acquire(pg_store *s, ia_err *err) {
    pthread_mutex_lock(&s->mu);
    while (s->n_idle == 0 && s->n_open >= POOL_MAX) pthread_cond_wait(&s->freed, &s->mu);
    if (s->n_idle > 0) {
        PGconn *c = s->idle[--s->n_idle];
        pthread_mutex_unlock(&s->mu);
        return c;
    }
    s->n_open++;
    pthread_mutex_unlock(&s->mu);
    PGconn *c = connect_one(s, err); /* outside the lock: connecting takes a while */
    if (!c) {
        pthread_mutex_lock(&s->mu);
        s->n_open--;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->mu);
    }
    return c;
}

/* Gives c back; a broken one is closed, and with it every idle one when
 * `lost` (they connected to the same server, which is gone). */
static void release(pg_store *s, PGconn *c, bool lost) {
    PGconn *drop[POOL_MAX];
    int n_drop = 0;
    pthread_mutex_lock(&s->mu);
    if (lost || PQstatus(c) != CONNECTION_OK || PQtransactionStatus(c) != PQTRANS_IDLE) {
        drop[n_drop++] = c;
        s->n_open--;
        if (lost) {
            while (s->n_idle > 0 && n_drop < POOL_MAX) {
                drop[n_drop++] = s->idle[--s->n_idle];
                s->n_open--;
            }
        }
    } else {
        s->idle[s->n_idle++] = c;
    }
    pthread_cond_broadcast(&s->freed);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n_drop; i++) PQfinish(drop[i]);
}

/* acquire, waiting up to CONNECT_WAIT_MS while the database cannot be
 * reached, so a call made while it restarts is served once it is back. */
static PGconn *acquire_waiting(pg_store *s, ia_err *err) {
    long waited = 0, pause = 100;
    for (;;) {
        PGconn *c = acquire(s, err);
        if (c || waited >= CONNECT_WAIT_MS) return c;
        struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (pause % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        waited += pause;
        pause = pause * 2 > 1000 ? 1000 : pause * 2;
    }
}

int ia_pg_run(ia_store *b, ia_pg_op op, void *arg, bool idempotent, ia_err *err) {
    pg_store *s = (pg_store *)b;
    for (int attempt = 0;; attempt++) {
        PGconn *c = acquire_waiting(s, err);
        if (!c) return -1;
        pgx x = {.c = c, .err = err, .instance = s->instance, .lease_ms = s->lease_ms};
        int rc = op(&x, arg);
        bool lost = PQstatus(c) != CONNECTION_OK;
        if (rc != 0 && !lost) ia_pg_rollback(&x);
        release(s, c, lost);
        if (rc == 0 || !lost || attempt > 0) return rc;
        if (x.committing && !idempotent) {
            ia_warn("store: the PostgreSQL connection was lost while a write may have committed; "
                    "not retried (%s)", err ? err->msg : "");
            return rc;
        }
        ia_warn("store: the PostgreSQL connection was lost (%s); retrying once on a new connection",
                err ? err->msg : "");
    }
}

/* The lease thread's connection, made (again) when missing or broken. Its
 * statements are bounded: a renewal that waits on a row lock or a slow
 * server gives up (the next tick tries again) rather than letting this
 * instance's leases pass while it waits. */
static PGconn *lease_conn(pg_store *s, ia_err *err) {
    if (s->lease && PQstatus(s->lease) == CONNECTION_OK) return s->lease;
    if (s->lease) PQfinish(s->lease);
    s->lease = connect_one(s, err);
    if (!s->lease) return NULL;
    PGresult *r = PQexec(s->lease, "SET lock_timeout = '" IA_PG_LEASE_LOCK_TIMEOUT "'; "
                                   "SET statement_timeout = '" IA_PG_LEASE_STATEMENT_TIMEOUT "'");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        pgx x = {.c = s->lease, .err = err};
        fail_pg(&x, "cannot set the lease connection's timeouts", PQerrorMessage(s->lease));
        PQfinish(s->lease);
        s->lease = NULL;
    }
    return s->lease;
}

int ia_pg_run_lease(ia_store *b, ia_pg_op op, void *arg, ia_err *err) {
    pg_store *s = (pg_store *)b;
    for (int attempt = 0;; attempt++) {
        PGconn *c = lease_conn(s, err);
        if (!c) return -1;
        pgx x = {.c = c, .err = err, .instance = s->instance, .lease_ms = s->lease_ms};
        int rc = op(&x, arg);
        bool lost = PQstatus(c) != CONNECTION_OK;
        if (rc != 0 && !lost) ia_pg_rollback(&x);
        if (lost) {
            PQfinish(c); /* made again by the retry or the next tick */
            s->lease = NULL;
        }
        /* the lease ops are idempotent: one retry on a new connection */
        if (rc == 0 || !lost || attempt > 0) return rc;
    }
}

/* ---- open / close -------------------------------------------------------------- */

ia_store *ia_store_pg_open(const char *conninfo, ia_err *err) {
    pg_store *s = ia_xcalloc(1, sizeof *s);
    s->base.ops = &ia_pg_ops;
    s->conninfo = ia_strdup(conninfo);
    s->lease_ms = IA_STORE_LEASE_DEFAULT_MS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->freed, NULL);
    /* The first connection migrates the schema and then joins the pool. */
    PGconn *c = connect_one(s, err);
    if (!c) goto fail;
    if (ia_pg_migrate(c, err) != 0) {
        PQfinish(c);
        goto fail;
    }
    s->idle[s->n_idle++] = c;
    s->n_open = 1;
    return &s->base;
fail:
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    free(s->conninfo);
    free(s);
    return NULL;
}

void ia_pg_set_instance(ia_store *b, const char *instance) {
    pg_store *s = (pg_store *)b;
    free(s->instance);
    s->instance = instance ? ia_strdup(instance) : NULL;
}

void ia_pg_set_lease(ia_store *b, int64_t lease_ms) {
    ((pg_store *)b)->lease_ms = lease_ms > 0 ? lease_ms : IA_STORE_LEASE_DEFAULT_MS;
}

/* ---- cancel notifications (store.h's ia_store_listen) ----------------- */

/* The listening connection, made (again) when missing or broken. */
static PGconn *listener(pg_store *s) {
    if (s->listen && PQstatus(s->listen) == CONNECTION_OK) return s->listen;
    if (s->listen) PQfinish(s->listen);
    ia_err err = {0};
    s->listen = connect_one(s, &err);
    if (!s->listen) return NULL;
    PGresult *r = PQexec(s->listen, "LISTEN " IA_PG_CANCEL_CHANNEL "; LISTEN " IA_PG_EVENTS_CHANNEL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(s->listen);
        s->listen = NULL;
    }
    return s->listen;
}

int ia_pg_listen(ia_store *b, int timeout_ms, char ***ids, size_t *n, bool *events) {
    pg_store *s = (pg_store *)b;
    *ids = NULL;
    *n = 0;
    PGconn *c = listener(s);
    if (!c) {
        /* the database is away: the renewals say so; wait out the time */
        struct timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return -1;
    }
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) > 0 && !PQconsumeInput(c)) {
        PQfinish(c); /* broken: made again next time */
        s->listen = NULL;
        return -1;
    }
    for (PGnotify *nt = PQnotifies(c); nt; nt = PQnotifies(c)) {
        if (strcmp(nt->relname, IA_PG_EVENTS_CHANNEL) == 0) {
            *events = true;
        } else {
            *ids = ia_xrealloc(*ids, (*n + 1) * sizeof **ids);
            (*ids)[(*n)++] = ia_strdup(nt->extra);
        }
        PQfreemem(nt);
    }
    return 0;
}

void ia_pg_close(ia_store *b) {
    pg_store *s = (pg_store *)b;
    if (s->listen) PQfinish(s->listen);
    if (s->lease) PQfinish(s->lease);
    free(s->instance);
    for (int i = 0; i < s->n_idle; i++) PQfinish(s->idle[i]);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    free(s->conninfo);
    free(s);
}
