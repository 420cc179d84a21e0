/* sqlite_agents.c: the SQLite backend's custom agents (store/agents.h), on
 * the connection sqlite.c opened (store_int.h); the table is migration 8's
 * (schema.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/backend.h"
#include "store/sq_util.h"
#include "store/store_int.h"

#define AGENT_COLS "id, owner, base_agent, description, system_instruction, tools, agent_config, created"

static void row(sqlite3_stmt *st, ia_agent_def *d) {
    ia_sq_col_into(st, 0, d->id, sizeof d->id);
    d->owner = ia_sq_col(st, 1);
    d->base_agent = ia_sq_col(st, 2);
    d->description = ia_sq_col(st, 3);
    d->system_instruction = ia_sq_col(st, 4);
    d->tools = ia_sq_col(st, 5);
    d->agent_config = ia_sq_col(st, 6);
    d->created = sqlite3_column_int64(st, 7);
}

int ia_sq_agent_create(ia_store *s, const ia_agent_def *d, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = 0;
    sqlite3_stmt *st = ia_sq_prep(db, "INSERT INTO agents (" AGENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            "agent create", err);
    if (!st) {
        ret = -1;
    } else {
        ia_sq_text(st, 1, d->id);
        ia_sq_text(st, 2, d->owner ? d->owner : "");
        ia_sq_text(st, 3, d->base_agent);
        ia_sq_text(st, 4, d->description);
        ia_sq_text(st, 5, d->system_instruction);
        ia_sq_text(st, 6, d->tools);
        ia_sq_text(st, 7, d->agent_config);
        sqlite3_bind_int64(st, 8, d->created);
        int rc = sqlite3_step(st);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            ret = ia_fail(err, IA_ECONFLICT, "id: an agent '%s' already exists; delete it first or pick another id",
                          d->id);
        else if (rc != SQLITE_DONE)
            ret = ia_fail(err, IA_EINTERNAL, "store: agent create: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_agent_get(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = 0;
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT " AGENT_COLS " FROM agents WHERE owner = ?1 AND id = ?2", "agent get", err);
    if (!st) {
        ret = -1;
    } else {
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) row(st, out);
        else if (rc == SQLITE_DONE) ret = ia_fail(err, IA_ENOTFOUND, "agent '%s' not found", id);
        else ret = ia_fail(err, IA_EINTERNAL, "store: agent get: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}

int ia_sq_agent_list(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                     size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = 0;
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT " AGENT_COLS " FROM agents WHERE owner = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                            "agent list", err);
    if (!st) {
        ret = -1;
    } else {
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, after_id);
        sqlite3_bind_int(st, 3, limit + 1); /* one more says whether a page follows */
        *out = ia_xcalloc((size_t)limit, sizeof **out);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == (size_t)limit) {
                snprintf(next_id, IA_AGENT_ID_MAX, "%s", (*out)[*n - 1].id);
                break;
            }
            row(st, &(*out)[(*n)++]);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            ret = ia_fail(err, IA_EINTERNAL, "store: agent list: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    if (ret < 0) {
        ia_agent_defs_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return ret;
}

int ia_sq_agent_delete(ia_store *s, const char *owner, const char *id, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = 0;
    sqlite3_stmt *st = ia_sq_prep(db, "DELETE FROM agents WHERE owner = ?1 AND id = ?2", "agent delete", err);
    if (!st) {
        ret = -1;
    } else {
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, id);
        if (sqlite3_step(st) != SQLITE_DONE) ret = ia_fail(err, IA_EINTERNAL, "store: agent delete: %s", sqlite3_errmsg(db));
        else if (sqlite3_changes(db) == 0) ret = ia_fail(err, IA_ENOTFOUND, "agent '%s' not found", id);
    }
    sqlite3_finalize(st);
    ia_sq_unlock(s);
    return ret;
}
