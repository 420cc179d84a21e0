/* pg_lease: several instances on one PostgreSQL database (store.h's
 * leases): renewing the leases of the runs an instance holds, taking over
 * the rows whose lease has passed, and a cancel asked of an instance that
 * does not run the row. Leases are judged on the database's clock
 * (IA_PG_NOW_MS), so the instances' own clocks may disagree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/pg_int.h"

/* ids as a text[] literal ({"a","b"}); ids are the server's own (letters,
 * digits, '_' and '-'), quoted all the same. */
static char *id_array(char *const *ids, size_t n) {
    ia_buf b;
    ia_buf_init(&b, 64);
    ia_buf_printf(&b, "{");
    for (size_t i = 0; i < n; i++) {
        ia_buf_printf(&b, "%s\"", i ? "," : "");
        for (const char *p = ids[i]; *p; p++)
            if (*p != '"' && *p != '\\') ia_buf_printf(&b, "%c", *p);
        ia_buf_printf(&b, "\"");
    }
    ia_buf_printf(&b, "}");
    return ia_buf_take(&b);
}

typedef struct {
    char *const *live;
    size_t n;
    char **cancel, **lost;
    size_t n_cancel, n_lost;
    int64_t now;
    const char *message, *id, *owner;
    bool pending;
    int count;
} lease_arg;

static void push_id(char ***ids, size_t *n, const char *id) {
    *ids = ia_xrealloc(*ids, (*n + 1) * sizeof **ids);
    (*ids)[(*n)++] = ia_strdup(id);
}

static bool renewed(const PGresult *r, const char *id) {
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 0), id) == 0) return true;
    return false;
}

static int op_renew(pgx *x, void *p) {
    lease_arg *l = p;
    ia_store_ids_free(l->cancel, l->n_cancel);
    ia_store_ids_free(l->lost, l->n_lost);
    l->cancel = l->lost = NULL;
    l->n_cancel = l->n_lost = 0;
    char *arr = id_array(l->live, l->n);
    pgargs a = {0};
    ia_pg_text(&a, x->instance);
    ia_pg_text(&a, arr);
    ia_pg_i64(&a, x->lease_ms);
    /* idempotent: a lease set twice is the same lease */
    PGresult *r = ia_pg_q(x, "renew leases",
                          "UPDATE interactions SET lease_until = " IA_PG_NOW_MS " + $3::bigint "
                          "WHERE status = 'in_progress' AND runner IS NOT DISTINCT FROM $1 "
                          "AND id = ANY($2::text[]) RETURNING id, cancel_requested", &a);
    free(arr);
    if (!r) return -1;
    for (int i = 0; i < PQntuples(r); i++)
        if (strcmp(PQgetvalue(r, i, 1), "t") == 0) push_id(&l->cancel, &l->n_cancel, PQgetvalue(r, i, 0));
    /* a live id the UPDATE did not match is no longer ours to run (n is a
     * tick's live runs: the quadratic look is cheap) */
    for (size_t i = 0; i < l->n; i++)
        if (!renewed(r, l->live[i])) push_id(&l->lost, &l->n_lost, l->live[i]);
    PQclear(r);
    return 0;
}

int ia_pg_lease_renew(ia_store *s, char *const *live, size_t n, char ***cancel, size_t *n_cancel, char ***lost,
                      size_t *n_lost, ia_err *err) {
    lease_arg l = {.live = live, .n = n};
    int rc = n ? ia_pg_run_lease(s, op_renew, &l, err) : 0;
    if (rc != 0) {
        ia_store_ids_free(l.cancel, l.n_cancel);
        ia_store_ids_free(l.lost, l.n_lost);
        return rc;
    }
    *cancel = l.cancel;
    *n_cancel = l.n_cancel;
    *lost = l.lost;
    *n_lost = l.n_lost;
    return 0;
}

static int op_takeover(pgx *x, void *p) {
    lease_arg *l = p;
    l->count = 0;
    if (ia_pg_exec(x, "begin", "BEGIN", NULL) != 0) return -1;
    char *arr = id_array(l->live, l->n);
    pgargs a = {0};
    ia_pg_text(&a, arr);
    /* SKIP LOCKED: a row another instance is taking over (or whose runner
     * is writing it right now) is left to them. lease_until > 0: a row
     * written without a lease (a build before leases, or before schema 3,
     * during a rolling upgrade) has no lease to pass; its own runner's
     * restart recovery ends it if that runner died. */
    PGresult *r = ia_pg_q(x, "takeover",
                          "SELECT id, cancel_requested FROM interactions WHERE status = 'in_progress' AND lease_until > 0 "
                          "AND lease_until < " IA_PG_NOW_MS " AND NOT (id = ANY($1::text[])) ORDER BY id LIMIT 100 "
                          "FOR UPDATE SKIP LOCKED", &a);
    free(arr);
    if (!r) return -1;
    int rows = PQntuples(r), rc = 0;
    /* a row someone asked to cancel ends as that cancel would have */
    for (int i = 0; i < rows && rc == 0; i++) {
        bool cancel = strcmp(PQgetvalue(r, i, 1), "t") == 0;
        rc = ia_pg_end_row(x, PQgetvalue(r, i, 0), cancel ? IA_STATUS_CANCELLED : IA_STATUS_FAILED,
                           cancel ? NULL : l->message, l->now);
    }
    PQclear(r);
    if (rc != 0) return -1;
    x->committing = true;
    if (ia_pg_exec(x, "commit", "COMMIT", NULL) != 0) return -1;
    l->count = rows;
    return 0;
}

int ia_pg_takeover(ia_store *s, char *const *live, size_t n, int64_t now, const char *message, ia_err *err) {
    lease_arg l = {.live = live, .n = n, .now = now, .message = message};
    /* idempotent: a takeover cut before its COMMIT left the rows as they
     * were, and one that committed leaves none to take again */
    return ia_pg_run_lease(s, op_takeover, &l, err) == 0 ? l.count : -1;
}

static int op_cancel_request(pgx *x, void *p) {
    lease_arg *l = p;
    l->pending = false;
    if (ia_pg_exec(x, "begin", "BEGIN", NULL) != 0) return -1;
    pgargs a = {0};
    ia_pg_text(&a, l->id);
    ia_pg_text(&a, l->owner ? l->owner : "");
    ia_pg_i64(&a, l->now);
    PGresult *r = ia_pg_q(x, "cancel",
                          "SELECT status = 'in_progress', lease_until < " IA_PG_NOW_MS " FROM interactions "
                          "WHERE id = $1 AND owner = $2 AND (expires = 0 OR expires > $3) FOR UPDATE", &a);
    if (!r) return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return ia_fail(x->err, IA_ENOTFOUND, "interaction %s not found", l->id);
    }
    bool running = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    bool expired = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    int rc = 0;
    if (running && expired) {
        /* its runner is gone: nobody else will end it, so the cancel does */
        rc = ia_pg_end_row(x, l->id, IA_STATUS_CANCELLED, NULL, l->now);
    } else if (running) {
        pgargs b = {0};
        ia_pg_text(&b, l->id);
        /* the flag for the renewals, the notification for at once (sent
         * at COMMIT) */
        rc = ia_pg_exec(x, "cancel",
                        "UPDATE interactions SET cancel_requested = true WHERE id = $1 RETURNING "
                        "pg_notify('" IA_PG_CANCEL_CHANNEL "', id)", &b);
        l->pending = true;
    }
    if (rc != 0) return -1;
    x->committing = true;
    return ia_pg_exec(x, "commit", "COMMIT", NULL);
}

int ia_pg_cancel_request(ia_store *s, const char *id, const char *owner, int64_t now, bool *pending,
                         ia_err *err) {
    lease_arg l = {.id = id, .owner = owner, .now = now};
    /* idempotent: asked twice, or ended once, it stays so */
    int rc = ia_pg_run(s, op_cancel_request, &l, true, err);
    *pending = rc == 0 && l.pending;
    return rc;
}
