/* files: the Files API's rows (table `files`, migration 6) behind store.h's
 * contract. Statements are prepared per call rather than cached like the
 * interactions' in sqlite.c: file calls are a few per upload, and a prepare
 * costs microseconds next to the upload's disk work. Every call holds the
 * store's one mutex (store_int.h) for its whole run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"
#include "store/sq_util.h"
#include "store/store_int.h"

#define COLS "owner, id, upload_id, blob, display_name, mime_type, state, declared, size, " \
             "sha256, error, created, updated, expires"
/* The rule of store.h: the caller's own, unexpired rows. */
#define VISIBLE "owner = ?1 AND expires > ?2"

static int fail_db(sqlite3 *db, ia_err *err, const char *what) {
    return ia_fail(err, IA_EINTERNAL, "store: files %s: %s", what, sqlite3_errmsg(db));
}

/* A row of COLS into out; -1 on a state this build does not know. */
static int row(sqlite3_stmt *st, ia_file *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    out->owner = ia_sq_col(st, 0);
    ia_sq_col_into(st, 1, out->id, sizeof out->id);
    ia_sq_col_into(st, 2, out->upload_id, sizeof out->upload_id);
    ia_sq_col_into(st, 3, out->blob, sizeof out->blob);
    out->display_name = ia_sq_col(st, 4);
    out->mime_type = ia_sq_col(st, 5);
    int state = ia_file_state_parse((const char *)sqlite3_column_text(st, 6));
    out->declared = sqlite3_column_int64(st, 7);
    out->size = sqlite3_column_int64(st, 8);
    ia_sq_col_into(st, 9, out->sha256, sizeof out->sha256);
    out->error = ia_sq_col(st, 10);
    out->created = sqlite3_column_int64(st, 11);
    out->updated = sqlite3_column_int64(st, 12);
    out->expires = sqlite3_column_int64(st, 13);
    if (state < 0) {
        ia_fail(err, IA_EINTERNAL, "store: file %s has an unknown state", out->id);
        ia_file_free(out);
        return -1;
    }
    out->state = (ia_file_state)state;
    return 0;
}

/* Runs a one-row lookup; IA_ENOTFOUND (naming what) when there is none. */
static int one(sqlite3 *db, sqlite3_stmt *st, ia_file *out, const char *what, ia_err *err) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return row(st, out, err);
    if (rc == SQLITE_DONE) return ia_fail(err, IA_ENOTFOUND, "%s not found", what);
    return fail_db(db, err, "get");
}

static int exec(sqlite3 *db, const char *sql, ia_err *err) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return fail_db(db, err, sql);
    return 0;
}

int ia_sq_file_insert(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err) {
    old_blob[0] = '\0';
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = NULL;
    if (exec(db, "BEGIN IMMEDIATE", err) < 0) goto out;
    /* The name is taken unless its row has expired (then it goes, and its
     * blob with it: the sweeper would have removed both). */
    st = ia_sq_prep(db, "SELECT blob, expires > ?3 FROM files WHERE owner = ?1 AND id = ?2", "files prepare", err);
    if (!st) goto rollback;
    ia_sq_text(st, 1, f->owner ? f->owner : "");
    ia_sq_text(st, 2, f->id);
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int(st, 1)) {
        ia_fail(err, IA_EINVALID, "file.name: files/%s already exists; delete it first or choose another "
                "name (or none: one is made up)", f->id);
        goto rollback;
    }
    if (rc == SQLITE_ROW) ia_sq_col_into(st, 0, old_blob, 48);
    else if (rc != SQLITE_DONE) {
        fail_db(db, err, "insert");
        goto rollback;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (old_blob[0]) {
        st = ia_sq_prep(db, "DELETE FROM files WHERE owner = ?1 AND id = ?2", "files prepare", err);
        if (!st) goto rollback;
        ia_sq_text(st, 1, f->owner ? f->owner : "");
        ia_sq_text(st, 2, f->id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fail_db(db, err, "insert");
            goto rollback;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    st = ia_sq_prep(db, "INSERT INTO files (" COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                  "?12, ?13, ?14)", "files prepare", err);
    if (!st) goto rollback;
    ia_sq_text(st, 1, f->owner ? f->owner : "");
    ia_sq_text(st, 2, f->id);
    ia_sq_text(st, 3, f->upload_id);
    ia_sq_text(st, 4, f->blob);
    ia_sq_text(st, 5, f->display_name);
    ia_sq_text(st, 6, f->mime_type ? f->mime_type : "");
    ia_sq_text(st, 7, ia_file_state_name(f->state));
    sqlite3_bind_int64(st, 8, f->declared);
    sqlite3_bind_int64(st, 9, f->size);
    ia_sq_text(st, 10, f->sha256[0] ? f->sha256 : NULL);
    ia_sq_text(st, 11, f->error);
    sqlite3_bind_int64(st, 12, f->created);
    sqlite3_bind_int64(st, 13, f->updated);
    sqlite3_bind_int64(st, 14, f->expires);
    if (sqlite3_step(st) != SQLITE_DONE) {
        fail_db(db, err, "insert");
        goto rollback;
    }
    if (exec(db, "COMMIT", err) < 0) goto rollback;
    ret = 0;
    goto out;
rollback:
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (ret < 0) old_blob[0] = '\0';
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_file_update(ia_store *s, const ia_file *f, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "UPDATE files SET state = ?3, declared = ?4, size = ?5, sha256 = ?6, "
                                "error = ?7, updated = ?8 WHERE owner = ?1 AND id = ?2", "files prepare", err);
    if (st) {
        ia_sq_text(st, 1, f->owner ? f->owner : "");
        ia_sq_text(st, 2, f->id);
        ia_sq_text(st, 3, ia_file_state_name(f->state));
        sqlite3_bind_int64(st, 4, f->declared);
        sqlite3_bind_int64(st, 5, f->size);
        ia_sq_text(st, 6, f->sha256[0] ? f->sha256 : NULL);
        ia_sq_text(st, 7, f->error);
        sqlite3_bind_int64(st, 8, f->updated);
        if (sqlite3_step(st) != SQLITE_DONE) fail_db(db, err, "update");
        else if (sqlite3_changes(db) == 0) ia_fail(err, IA_ENOTFOUND, "files/%s not found", f->id);
        else ret = 0;
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_file_get(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out,
                      ia_err *err) {
    memset(out, 0, sizeof *out);
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT " COLS " FROM files WHERE " VISIBLE " AND id = ?3 "
                                "AND state != 'uploading'", "files prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner ? owner : "");
        sqlite3_bind_int64(st, 2, now);
        ia_sq_text(st, 3, id);
        char what[64];
        snprintf(what, sizeof what, "files/%.40s", id ? id : "");
        ret = one(db, st, out, what, err);
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_file_by_upload(ia_store *s, const char *owner, const char *upload_id, int64_t now,
                            ia_file *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT " COLS " FROM files WHERE " VISIBLE " AND upload_id = ?3", "files prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner ? owner : "");
        sqlite3_bind_int64(st, 2, now);
        ia_sq_text(st, 3, upload_id);
        ret = one(db, st, out, "upload", err);
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_file_list(ia_store *s, const char *owner, int64_t now, int64_t after, int limit,
                       ia_file **out, size_t *n, int64_t *next, ia_err *err) {
    *out = NULL;
    *n = 0;
    *next = 0;
    if (limit < 1) limit = 1;
    sqlite3 *db = ia_sq_lock(s);
    int ret = 0;
    /* rowid order is insertion order; one row more than the page says
     * whether another page follows, so the last page carries no cursor. */
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT " COLS ", rowid FROM files WHERE " VISIBLE
                                " AND state != 'uploading' AND (?3 = 0 OR rowid < ?3) "
                                "ORDER BY rowid DESC LIMIT ?4", "files prepare", err);
    if (!st) ret = -1;
    ia_file *files = NULL;
    size_t len = 0;
    if (st) {
        ia_sq_text(st, 1, owner ? owner : "");
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, after);
        sqlite3_bind_int(st, 4, limit + 1);
        files = ia_xcalloc((size_t)limit, sizeof *files);
        int rc;
        int64_t last = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (len == (size_t)limit) {
                *next = last;
                break;
            }
            if (row(st, &files[len], err) < 0) {
                ret = -1;
                break;
            }
            last = sqlite3_column_int64(st, 14);
            len++;
        }
        if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE) ret = fail_db(db, err, "list");
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    if (ret < 0) {
        for (size_t i = 0; i < len; i++) ia_file_free(&files[i]);
        free(files);
        *next = 0;
        return -1;
    }
    *out = files;
    *n = len;
    return 0;
}

int ia_sq_file_delete(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                         char blob[48], ia_err *err) {
    blob[0] = '\0';
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, by_upload ? "DELETE FROM files WHERE " VISIBLE " AND upload_id = ?3 RETURNING blob"
                                          : "DELETE FROM files WHERE " VISIBLE " AND id = ?3 "
                                            "AND state != 'uploading' RETURNING blob", "files prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner ? owner : "");
        sqlite3_bind_int64(st, 2, now);
        ia_sq_text(st, 3, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            ia_sq_col_into(st, 0, blob, 48);
            rc = sqlite3_step(st);
        } else if (rc == SQLITE_DONE) {
            ia_fail(err, IA_ENOTFOUND, by_upload ? "upload not found" : "files/%.40s not found", key ? key : "");
            rc = -1;
        }
        if (rc == SQLITE_DONE) ret = 0;
        else if (rc != -1) fail_db(db, err, "delete");
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_file_usage(ia_store *s, const char *owner, int64_t now, const char *except, int64_t *out,
                        ia_err *err) {
    *out = 0;
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT coalesce(sum(max(size, declared)), 0) FROM files WHERE " VISIBLE
                                " AND (?3 IS NULL OR upload_id != ?3)", "files prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner ? owner : "");
        sqlite3_bind_int64(st, 2, now);
        ia_sq_text(st, 3, except);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            ret = 0;
        } else {
            fail_db(db, err, "usage");
        }
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_file_sweep(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err) {
    *blobs = NULL;
    *n = 0;
    sqlite3 *db = ia_sq_lock(s);
    char **names = NULL;
    size_t len = 0, cap = 0;
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "DELETE FROM files WHERE expires <= ?1 RETURNING blob", "files prepare", err);
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (len == cap) {
                cap = cap ? cap * 2 : 8;
                names = ia_xrealloc(names, cap * sizeof *names);
            }
            names[len++] = ia_sq_col(st, 0);
        }
        if (rc == SQLITE_DONE) ret = (int)len;
        else fail_db(db, err, "sweep");
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    if (ret < 0) {
        for (size_t i = 0; i < len; i++) free(names[i]);
        free(names);
        return -1;
    }
    *blobs = names;
    *n = len;
    return ret;
}

int ia_sq_file_blob_known(ia_store *s, const char *blob, bool *known, ia_err *err) {
    *known = false;
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT 1 FROM files WHERE blob = ?1 LIMIT 1", "files prepare", err);
    if (st) {
        ia_sq_text(st, 1, blob);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
            *known = rc == SQLITE_ROW;
            ret = 0;
        } else {
            fail_db(db, err, "blob");
        }
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}
