/* pg_int: what the PostgreSQL files of src/store/ share (pg.c, pg_rows.c,
 * pg_files.c, pg_schema.c) — the connection pool's call wrapper and the query helpers.
 * Not part of the store's contract (store.h is).
 *
 * Every store call runs as an op: a function handed one pooled connection
 * (pgx) that it uses for the whole call. ia_pg_run retries the op once on a
 * fresh connection when the connection was lost mid-call and retrying is
 * safe: the op had not yet sent a statement that commits (ia_pg_qw, or the
 * COMMIT of a transaction), or the op is idempotent (an upsert). Ops start
 * by clearing their outputs, so a retry begins clean. */
#ifndef IA_STORE_PG_INT_H
#define IA_STORE_PG_INT_H

#include <libpq-fe.h>

#include "model/fsearch.h"
#include "store/backend.h"

typedef struct pgx {
    PGconn *c;
    ia_err *err;
    bool committing; /* a statement that may commit was sent */
    const char *instance; /* ia_store_set_instance's, or NULL */
    int64_t lease_ms;     /* ia_store_set_lease's */
} pgx;

/* The database's clock in ms: leases are judged on one clock, whatever
 * the instances' own say. */
#define IA_PG_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

/* Parameters as text (libpq's text format); at most IA_PG_MAX_ARGS (an
 * interaction's upsert takes 26). */
#define IA_PG_MAX_ARGS 32
typedef struct pgargs {
    const char *v[IA_PG_MAX_ARGS];
    char num[IA_PG_MAX_ARGS][24];
    int n;
} pgargs;
void ia_pg_text(pgargs *a, const char *s); /* NULL: SQL NULL */
void ia_pg_i64(pgargs *a, int64_t x);

/* Runs sql with a's parameters (a may be NULL); the result when it
 * succeeded (PQclear it), else NULL with x->err filled (IA_EINTERNAL,
 * naming what). ia_pg_qw first marks the call as committing: for a write
 * that commits by itself (autocommit) or the COMMIT of a transaction. */
PGresult *ia_pg_q(pgx *x, const char *what, const char *sql, const pgargs *a);
PGresult *ia_pg_qw(pgx *x, const char *what, const char *sql, const pgargs *a);
/* A statement whose result is not needed: 0 / -1. */
int ia_pg_exec(pgx *x, const char *what, const char *sql, const pgargs *a);
/* Ends an open transaction after a failure (errors ignored). */
void ia_pg_rollback(pgx *x);

/* Column helpers: a malloc'd copy (NULL for SQL NULL), an integer (0 for
 * NULL), the text into a buffer. */
char *ia_pg_dup(const PGresult *r, int row, int col);
int64_t ia_pg_int(const PGresult *r, int row, int col);
void ia_pg_into(const PGresult *r, int row, int col, char *out, size_t cap);
/* The rows a command touched (PQcmdTuples). */
int ia_pg_changed(const PGresult *r);

typedef int (*ia_pg_op)(pgx *x, void *arg);
int ia_pg_run(ia_store *s, ia_pg_op op, void *arg, bool idempotent, ia_err *err);
/* An idempotent op on the lease thread's own connection (outside the pool,
 * made again when lost; one caller at a time: renewals and takeovers), with
 * lock_timeout and statement_timeout set. */
#define IA_PG_LEASE_LOCK_TIMEOUT "500ms"
/* Every connection's idle_in_transaction_session_timeout (pg.c). */
#define IA_PG_IDLE_TX_TIMEOUT "5s"
#define IA_PG_LEASE_STATEMENT_TIMEOUT "5s"
int ia_pg_run_lease(ia_store *s, ia_pg_op op, void *arg, ia_err *err);

/* pg_rows.c: ends an in_progress row inside the caller's transaction as
 * store.h's recovery does (outputs from its log, closing events past the
 * seq gap): failed with message (an error event first) or cancelled; the
 * row's runner becomes this instance. */
int ia_pg_end_row(pgx *x, const char *id, ia_status status, const char *message, int64_t now);

/* pg_lease.c: the shared-store calls of store.h (leases, takeover, a
 * cancel asked of another instance). */
int ia_pg_lease_renew(ia_store *s, char *const *live, size_t n, char ***cancel, size_t *n_cancel, char ***lost,
                      size_t *n_lost, ia_err *err);
int ia_pg_takeover(ia_store *s, char *const *live, size_t n, int64_t now, const char *message, ia_err *err);
int ia_pg_cancel_request(ia_store *s, const char *id, const char *owner, int64_t now, bool *pending,
                         ia_err *err);
void ia_pg_set_lease(ia_store *s, int64_t lease_ms);
/* pg.c: store.h's ia_store_listen, on a connection of its own that
 * LISTENs on IA_PG_CANCEL_CHANNEL (a cancel request NOTIFYs it with the
 * interaction's id) and IA_PG_EVENTS_CHANNEL (every transaction that
 * appends events or ends a row NOTIFYs it with the row's id). */
#define IA_PG_CANCEL_CHANNEL "interactd_cancel"
#define IA_PG_EVENTS_CHANNEL "interactd_events"
int ia_pg_listen(ia_store *s, int timeout_ms, char ***ids, size_t *n, bool *events);

/* pg.c: closes the pool (the ops table's close). pg_rows.c: the table. */
void ia_pg_close(ia_store *s);
void ia_pg_set_instance(ia_store *s, const char *instance);
extern const ia_store_ops ia_pg_ops;

/* pg_schema.c: brings the database to the current schema under an advisory
 * lock (whichever instance starts first migrates; the others wait, then
 * find nothing to do). */
int ia_pg_migrate(PGconn *c, ia_err *err);
extern const int ia_pg_schema_version;

/* pg_files.c: the Files API rows (store.h's ia_store_file_*). */
int ia_pg_file_insert(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err);
int ia_pg_file_update(ia_store *s, const ia_file *f, ia_err *err);
int ia_pg_file_get(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out,
                   ia_err *err);
int ia_pg_file_by_upload(ia_store *s, const char *owner, const char *upload_id, int64_t now,
                         ia_file *out, ia_err *err);
int ia_pg_file_list(ia_store *s, const char *owner, int64_t now, int64_t after, int limit,
                    ia_file **out, size_t *n, int64_t *next, ia_err *err);
int ia_pg_file_delete(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                      char blob[48], ia_err *err);
int ia_pg_file_usage(ia_store *s, const char *owner, int64_t now, const char *except, int64_t *out,
                     ia_err *err);
int ia_pg_file_sweep(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err);
/* pg_list.c: store.h's ia_store_list. */
int ia_pg_list(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id, int limit,
               ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err);
int ia_pg_file_blob_known(ia_store *s, const char *blob, bool *known, ia_err *err);
/* pg_agents.c: store/agents.h's calls. */
int ia_pg_agent_create(ia_store *s, const ia_agent_def *d, ia_err *err);
int ia_pg_agent_get(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err);
int ia_pg_agent_list(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                     size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err);
int ia_pg_agent_delete(ia_store *s, const char *owner, const char *id, ia_err *err);

/* pg_fs_vec.c: chunk vectors for hybrid file search (store/fsearch.h's
 * vectors and hits ops). ia_pg_vec_hex: v[0..dim) as bytea's hex input
 * ("\\x..."), malloc'd; NULL when v is NULL or dim <= 0. */
char *ia_pg_vec_hex(const float *v, int dim);
int ia_pg_fs_vectors(ia_store *s, const char *owner, const char *const *stores, size_t n_stores, const char *model,
                     int64_t **ids, float **vecs, int *dim, size_t *n, ia_err *err);
int ia_pg_fs_hits(ia_store *s, const char *owner, const int64_t *ids, size_t n_ids, ia_fs_hit **out, size_t *n,
                  ia_err *err);

#endif
