/* pg_files: the Files API's rows (table `files`) in PostgreSQL behind
 * store.h's contract, as ops run by pg.c's pool; the semantics are
 * store/files.c's (SQLite), `seq` standing for SQLite's rowid in the
 * listing's order and cursor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/pg_int.h"

#define COLS "owner, id, upload_id, blob, display_name, mime_type, state, declared, size, " \
             "sha256, error, created, updated, expires"
#define VISIBLE "owner = $1 AND expires > $2"

typedef struct {
    const ia_file *f;
    const char *owner, *key, *except;
    int64_t now, after, total;
    int limit;
    bool by_upload, known;
    ia_file *out;
    ia_file *list;
    size_t n;
    int64_t next;
    char *blob; /* 48 bytes */
    char **blobs;
} file_arg;

/* Row i of a COLS result into out; -1 on a state this build does not know. */
static int row(const PGresult *r, int i, ia_file *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    out->owner = ia_pg_dup(r, i, 0);
    ia_pg_into(r, i, 1, out->id, sizeof out->id);
    ia_pg_into(r, i, 2, out->upload_id, sizeof out->upload_id);
    ia_pg_into(r, i, 3, out->blob, sizeof out->blob);
    out->display_name = ia_pg_dup(r, i, 4);
    out->mime_type = ia_pg_dup(r, i, 5);
    int state = ia_file_state_parse(PQgetvalue(r, i, 6));
    out->declared = ia_pg_int(r, i, 7);
    out->size = ia_pg_int(r, i, 8);
    ia_pg_into(r, i, 9, out->sha256, sizeof out->sha256);
    out->error = ia_pg_dup(r, i, 10);
    out->created = ia_pg_int(r, i, 11);
    out->updated = ia_pg_int(r, i, 12);
    out->expires = ia_pg_int(r, i, 13);
    if (state < 0) {
        ia_fail(err, IA_EINTERNAL, "store: file %s has an unknown state", out->id);
        ia_file_free(out);
        return -1;
    }
    out->state = (ia_file_state)state;
    return 0;
}

static void file_args(pgargs *a, const ia_file *f) {
    ia_pg_text(a, f->owner ? f->owner : "");
    ia_pg_text(a, f->id);
    ia_pg_text(a, f->upload_id);
    ia_pg_text(a, f->blob);
    ia_pg_text(a, f->display_name);
    ia_pg_text(a, f->mime_type ? f->mime_type : "");
    ia_pg_text(a, ia_file_state_name(f->state));
    ia_pg_i64(a, f->declared);
    ia_pg_i64(a, f->size);
    ia_pg_text(a, f->sha256[0] ? f->sha256 : NULL);
    ia_pg_text(a, f->error);
    ia_pg_i64(a, f->created);
    ia_pg_i64(a, f->updated);
    ia_pg_i64(a, f->expires);
}

static int op_insert(pgx *x, void *p) {
    file_arg *fa = p;
    const ia_file *f = fa->f;
    fa->blob[0] = '\0';
    if (ia_pg_exec(x, "files insert", "BEGIN", NULL) != 0) return -1;
    pgargs a = {0};
    ia_pg_text(&a, f->owner ? f->owner : "");
    ia_pg_text(&a, f->id);
    ia_pg_i64(&a, fa->now);
    /* The name is taken unless its row has expired (then it goes, and its
     * blob with it: the sweeper would have removed both). */
    PGresult *r = ia_pg_q(x, "files insert",
                          "SELECT blob, expires > $3 FROM files WHERE owner = $1 AND id = $2 FOR UPDATE", &a);
    if (!r) return -1;
    bool taken = PQntuples(r) > 0 && PQgetvalue(r, 0, 1)[0] == 't';
    char old[48] = "";
    if (PQntuples(r) > 0) ia_pg_into(r, 0, 0, old, sizeof old);
    PQclear(r);
    if (taken)
        return ia_fail(x->err, IA_EINVALID, "file.name: files/%s already exists; delete it first or choose "
                       "another name (or none: one is made up)", f->id);
    if (old[0]) {
        pgargs d = {0};
        ia_pg_text(&d, f->owner ? f->owner : "");
        ia_pg_text(&d, f->id);
        if (ia_pg_exec(x, "files insert", "DELETE FROM files WHERE owner = $1 AND id = $2", &d) != 0) return -1;
    }
    pgargs ins = {0};
    file_args(&ins, f);
    if (ia_pg_exec(x, "files insert",
                   "INSERT INTO files (" COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                   "$13, $14)", &ins) != 0)
        return -1;
    x->committing = true;
    if (ia_pg_exec(x, "files insert", "COMMIT", NULL) != 0) return -1;
    snprintf(fa->blob, 48, "%s", old);
    return 0;
}

int ia_pg_file_insert(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err) {
    old_blob[0] = '\0';
    file_arg fa = {.f = f, .now = now, .blob = old_blob};
    int rc = ia_pg_run(s, op_insert, &fa, false, err);
    if (rc != 0) old_blob[0] = '\0';
    return rc;
}

static int op_update(pgx *x, void *p) {
    const ia_file *f = ((file_arg *)p)->f;
    pgargs a = {0};
    ia_pg_text(&a, f->owner ? f->owner : "");
    ia_pg_text(&a, f->id);
    ia_pg_text(&a, ia_file_state_name(f->state));
    ia_pg_i64(&a, f->declared);
    ia_pg_i64(&a, f->size);
    ia_pg_text(&a, f->sha256[0] ? f->sha256 : NULL);
    ia_pg_text(&a, f->error);
    ia_pg_i64(&a, f->updated);
    PGresult *r = ia_pg_q(x, "files update",
                          "UPDATE files SET state = $3, declared = $4, size = $5, sha256 = $6, error = $7, "
                          "updated = $8 WHERE owner = $1 AND id = $2", &a);
    if (!r) return -1;
    int changed = ia_pg_changed(r);
    PQclear(r);
    return changed ? 0 : ia_fail(x->err, IA_ENOTFOUND, "files/%s not found", f->id);
}

int ia_pg_file_update(ia_store *s, const ia_file *f, ia_err *err) {
    file_arg fa = {.f = f};
    return ia_pg_run(s, op_update, &fa, true, err); /* sets the same values again */
}

/* One row by id (not uploading) or by upload id. */
static int op_get(pgx *x, void *p) {
    file_arg *fa = p;
    memset(fa->out, 0, sizeof *fa->out);
    pgargs a = {0};
    ia_pg_text(&a, fa->owner ? fa->owner : "");
    ia_pg_i64(&a, fa->now);
    ia_pg_text(&a, fa->key);
    PGresult *r = ia_pg_q(x, "files get",
                          fa->by_upload ? "SELECT " COLS " FROM files WHERE " VISIBLE " AND upload_id = $3"
                                        : "SELECT " COLS " FROM files WHERE " VISIBLE " AND id = $3 "
                                          "AND state != 'uploading'", &a);
    if (!r) return -1;
    int rc;
    if (PQntuples(r) == 0) {
        if (fa->by_upload) rc = ia_fail(x->err, IA_ENOTFOUND, "upload not found");
        else rc = ia_fail(x->err, IA_ENOTFOUND, "files/%.40s not found", fa->key ? fa->key : "");
    } else {
        rc = row(r, 0, fa->out, x->err);
    }
    PQclear(r);
    return rc;
}

int ia_pg_file_get(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    file_arg fa = {.owner = owner, .key = id, .now = now, .out = out};
    return ia_pg_run(s, op_get, &fa, true, err);
}

int ia_pg_file_by_upload(ia_store *s, const char *owner, const char *upload_id, int64_t now, ia_file *out,
                         ia_err *err) {
    memset(out, 0, sizeof *out);
    file_arg fa = {.owner = owner, .key = upload_id, .now = now, .out = out, .by_upload = true};
    return ia_pg_run(s, op_get, &fa, true, err);
}

static void free_list(file_arg *fa) {
    for (size_t i = 0; i < fa->n; i++) ia_file_free(&fa->list[i]);
    free(fa->list);
    fa->list = NULL;
    fa->n = 0;
    fa->next = 0;
}

static int op_list(pgx *x, void *p) {
    file_arg *fa = p;
    free_list(fa);
    pgargs a = {0};
    ia_pg_text(&a, fa->owner ? fa->owner : "");
    ia_pg_i64(&a, fa->now);
    ia_pg_i64(&a, fa->after);
    ia_pg_i64(&a, fa->limit + 1);
    /* one row more than the page says whether another page follows */
    PGresult *r = ia_pg_q(x, "files list",
                          "SELECT " COLS ", seq FROM files WHERE " VISIBLE " AND state != 'uploading' "
                          "AND ($3 = 0 OR seq < $3) ORDER BY seq DESC LIMIT $4", &a);
    if (!r) return -1;
    int rows = PQntuples(r), rc = 0;
    fa->list = ia_xcalloc((size_t)fa->limit, sizeof *fa->list);
    for (int i = 0; i < rows; i++) {
        if (i == fa->limit) {
            fa->next = ia_pg_int(r, i - 1, 14);
            break;
        }
        if (row(r, i, &fa->list[i], x->err) < 0) {
            rc = -1;
            break;
        }
        fa->n++;
    }
    PQclear(r);
    if (rc != 0) free_list(fa);
    return rc;
}

int ia_pg_file_list(ia_store *s, const char *owner, int64_t now, int64_t after, int limit, ia_file **out,
                    size_t *n, int64_t *next, ia_err *err) {
    file_arg fa = {.owner = owner, .now = now, .after = after, .limit = limit < 1 ? 1 : limit};
    int rc = ia_pg_run(s, op_list, &fa, true, err);
    if (rc != 0) free_list(&fa);
    *out = fa.list;
    *n = fa.n;
    *next = fa.next;
    return rc;
}

static int op_delete(pgx *x, void *p) {
    file_arg *fa = p;
    fa->blob[0] = '\0';
    pgargs a = {0};
    ia_pg_text(&a, fa->owner ? fa->owner : "");
    ia_pg_i64(&a, fa->now);
    ia_pg_text(&a, fa->key);
    PGresult *r = ia_pg_qw(x, "files delete",
                           fa->by_upload ? "DELETE FROM files WHERE " VISIBLE " AND upload_id = $3 RETURNING blob"
                                         : "DELETE FROM files WHERE " VISIBLE " AND id = $3 "
                                           "AND state != 'uploading' RETURNING blob", &a);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) > 0) ia_pg_into(r, 0, 0, fa->blob, 48);
    else if (fa->by_upload) rc = ia_fail(x->err, IA_ENOTFOUND, "upload not found");
    else rc = ia_fail(x->err, IA_ENOTFOUND, "files/%.40s not found", fa->key ? fa->key : "");
    PQclear(r);
    return rc;
}

int ia_pg_file_delete(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                      char blob[48], ia_err *err) {
    blob[0] = '\0';
    file_arg fa = {.owner = owner, .key = key, .by_upload = by_upload, .now = now, .blob = blob};
    return ia_pg_run(s, op_delete, &fa, false, err);
}

static int op_usage(pgx *x, void *p) {
    file_arg *fa = p;
    pgargs a = {0};
    ia_pg_text(&a, fa->owner ? fa->owner : "");
    ia_pg_i64(&a, fa->now);
    ia_pg_text(&a, fa->except);
    PGresult *r = ia_pg_q(x, "files usage",
                          "SELECT coalesce(sum(greatest(size, declared)), 0) FROM files WHERE " VISIBLE
                          " AND ($3::text IS NULL OR upload_id != $3::text)", &a);
    if (!r) return -1;
    fa->total = ia_pg_int(r, 0, 0);
    PQclear(r);
    return 0;
}

int ia_pg_file_usage(ia_store *s, const char *owner, int64_t now, const char *except, int64_t *out,
                     ia_err *err) {
    file_arg fa = {.owner = owner, .now = now, .except = except};
    int rc = ia_pg_run(s, op_usage, &fa, true, err);
    *out = rc == 0 ? fa.total : 0;
    return rc;
}

static void free_blobs(file_arg *fa) {
    for (size_t i = 0; i < fa->n; i++) free(fa->blobs[i]);
    free(fa->blobs);
    fa->blobs = NULL;
    fa->n = 0;
}

static int op_sweep(pgx *x, void *p) {
    file_arg *fa = p;
    free_blobs(fa);
    pgargs a = {0};
    ia_pg_i64(&a, fa->now);
    PGresult *r = ia_pg_qw(x, "files sweep", "DELETE FROM files WHERE expires <= $1 RETURNING blob", &a);
    if (!r) return -1;
    int rows = PQntuples(r);
    fa->blobs = rows ? ia_xcalloc((size_t)rows, sizeof *fa->blobs) : NULL;
    for (int i = 0; i < rows; i++) fa->blobs[fa->n++] = ia_pg_dup(r, i, 0);
    PQclear(r);
    return 0;
}

int ia_pg_file_sweep(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err) {
    file_arg fa = {.now = now};
    int rc = ia_pg_run(s, op_sweep, &fa, false, err);
    if (rc != 0) free_blobs(&fa);
    *blobs = fa.blobs;
    *n = fa.n;
    return rc == 0 ? (int)fa.n : -1;
}

static int op_blob_known(pgx *x, void *p) {
    file_arg *fa = p;
    pgargs a = {0};
    ia_pg_text(&a, fa->key);
    PGresult *r = ia_pg_q(x, "files blob", "SELECT 1 FROM files WHERE blob = $1 LIMIT 1", &a);
    if (!r) return -1;
    fa->known = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

int ia_pg_file_blob_known(ia_store *s, const char *blob, bool *known, ia_err *err) {
    file_arg fa = {.key = blob};
    int rc = ia_pg_run(s, op_blob_known, &fa, true, err);
    *known = rc == 0 && fa.known;
    return rc;
}
