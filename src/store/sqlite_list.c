/* sqlite_list.c: the SQLite backend's interaction list (store.h's
 * ia_store_list): a page of the owner's unexpired rows, newest first, on
 * the connection sqlite.c opened (store_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"
#include "store/sq_util.h"
#include "store/store_int.h"

/* The cursor (created, id) is a keyset: rows strictly before it in the
 * order created DESC, id DESC, whatever was inserted or deleted since. */
#define LIST_SQL                                                                                        \
    "SELECT id, model, previous_id, status, created, updated, input, agent FROM interactions "                \
    "WHERE owner = ?1 AND (expires = 0 OR expires > ?2) AND (?4 = '' OR created < ?3 OR "               \
    "(created = ?3 AND id < ?4)) ORDER BY created DESC, id DESC LIMIT ?5"

static void entry(sqlite3_stmt *st, ia_entry *e) {
    const unsigned char *id = sqlite3_column_text(st, 0);
    snprintf(e->id, sizeof e->id, "%s", id ? (const char *)id : "");
    e->model = ia_sq_col(st, 1);
    e->previous_id = ia_sq_col(st, 2);
    int s = ia_status_parse((const char *)sqlite3_column_text(st, 3));
    e->status = s < 0 ? IA_STATUS_FAILED : (ia_status)s;
    e->created = sqlite3_column_int64(st, 4);
    e->updated = sqlite3_column_int64(st, 5);
    e->title = ia_store_title_of((const char *)sqlite3_column_text(st, 6));
    if (sqlite3_column_type(st, 7) != SQLITE_NULL) { /* a custom agent's run names the agent */
        free(e->model);
        e->model = ia_sq_col(st, 7);
        e->custom_agent = true;
    }
}

int ia_sq_list(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id, int limit,
               ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err) {
    *out = NULL;
    *n = 0;
    *next_created = 0;
    next_id[0] = 0;
    if (limit < 1) limit = 1;
    sqlite3 *db = ia_sq_lock(s);
    sqlite3_stmt *st = NULL;
    int ret = 0;
    if (sqlite3_prepare_v2(db, LIST_SQL, -1, &st, NULL) != SQLITE_OK) {
        ret = ia_fail(err, IA_EINTERNAL, "store: list: %s", sqlite3_errmsg(db));
    } else {
        sqlite3_bind_text(st, 1, owner ? owner : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, after_created);
        sqlite3_bind_text(st, 4, after_id ? after_id : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, limit + 1); /* one more says whether a page follows */
        *out = ia_xcalloc((size_t)limit, sizeof **out);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == (size_t)limit) {
                *next_created = (*out)[*n - 1].created;
                snprintf(next_id, 80, "%s", (*out)[*n - 1].id);
                break;
            }
            entry(st, &(*out)[(*n)++]);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) ret = ia_fail(err, IA_EINTERNAL, "store: list: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    if (ret < 0) {
        ia_entries_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}
