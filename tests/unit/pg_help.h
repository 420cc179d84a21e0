/* pg_help: a real PostgreSQL for the store tests. The first test that asks
 * starts one with tests/pg.sh (its own folder and port, torn down when the
 * test binary exits), unless IA_TEST_PG already names a server's conninfo
 * (the Makefile's test target starts one and passes it). Each test gets a
 * database of its own, made fresh. */
#ifndef IA_TESTS_PG_HELP_H
#define IA_TESTS_PG_HELP_H

#include <stdbool.h>
#include <stddef.h>

#include "unit.h"

/* A fresh, empty database named after the test into buf as a libpq
 * conninfo (for ia_store_open). false, with the reason printed once, when
 * PostgreSQL is not installed (the test then skips); a server that should
 * start and does not is a failure the caller reports (false too, with
 * *broken set). */
bool ia_test_pg_db(char *buf, size_t n, const char *name, bool *broken);
/* The running server's folder (tests/pg.sh's DIR), for pg.sh restart;
 * NULL when the server came from IA_TEST_PG without IA_TEST_PG_DIR. */
const char *ia_test_pg_dir(void);
/* Runs one SQL text on the database of conninfo; 0 / -1. */
int ia_test_pg_exec(const char *conninfo, const char *sql);
/* The first column of the first row of sql's result as an integer (-1 on
 * failure). */
long long ia_test_pg_int(const char *conninfo, const char *sql);

/* Store tests that run against both backends: IA_STORE_TEST(name) { ... }
 * registers `name` (SQLite) and `name_pg` (PostgreSQL), the same body;
 * ia_test_store_pg says which one runs. The body asks for its database
 * with ia_test_store_spec: sqlite_path as given for SQLite, a fresh
 * database for PostgreSQL; false means return at once (skipped, said on
 * stderr, or failed: *failed set). */
extern bool ia_test_store_pg;
bool ia_test_store_spec(char *buf, size_t n, const char *name, const char *sqlite_path, int *failed);
#define IA_STORE_TEST(name)                                                      \
    static void ia_sbody_##name(int *ia_failed_);                                \
    IA_TEST(name) {                                                              \
        ia_test_store_pg = false;                                                \
        ia_sbody_##name(ia_failed_);                                             \
    }                                                                            \
    IA_TEST(name##_pg) {                                                         \
        ia_test_store_pg = true;                                                 \
        ia_sbody_##name(ia_failed_);                                             \
        ia_test_store_pg = false;                                                \
    }                                                                            \
    static void ia_sbody_##name(int *ia_failed_)

#endif
