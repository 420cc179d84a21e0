/* sq_util: the small helpers every file of the SQLite store shares — a
 * statement prepared with its failure named, a NULL-aware text binding,
 * and a column's text as a copy or into a buffer. Internal to src/store/.
 * None takes the store's lock: callers hold it (ia_sq_lock). */
#ifndef IA_STORE_SQ_UTIL_H
#define IA_STORE_SQ_UTIL_H

#include <sqlite3.h>
#include <stddef.h>

#include "lib/err.h"

/* sql prepared on db; NULL with err "store: WHAT: sqlite's message". */
sqlite3_stmt *ia_sq_prep(sqlite3 *db, const char *sql, const char *what, ia_err *err);
/* Binds v as text (copied: SQLITE_TRANSIENT), or NULL when v is NULL. */
void ia_sq_text(sqlite3_stmt *st, int i, const char *v);
/* Column i's text as a malloc'd copy; NULL for SQL NULL. */
char *ia_sq_col(sqlite3_stmt *st, int i);
/* Column i's text into out (cut to cap; "" for SQL NULL). */
void ia_sq_col_into(sqlite3_stmt *st, int i, char *out, size_t cap);

#endif
