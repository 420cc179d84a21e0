/* sq_util.c: helpers shared by the SQLite store's files (sq_util.h). */
#include "store/sq_util.h"

#include <stdio.h>

#include "lib/util.h"

sqlite3_stmt *ia_sq_prep(sqlite3 *db, const char *sql, const char *what, ia_err *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        ia_fail(err, IA_EINTERNAL, "store: %s: %s", what, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

void ia_sq_text(sqlite3_stmt *st, int i, const char *v) {
    if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

char *ia_sq_col(sqlite3_stmt *st, int i) {
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? ia_strdup((const char *)v) : NULL;
}

void ia_sq_col_into(sqlite3_stmt *st, int i, char *out, size_t cap) {
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(out, cap, "%s", v ? (const char *)v : "");
}
