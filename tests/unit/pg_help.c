/* pg_help: see pg_help.h. */
#include "pg_help.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_conninfo[1024]; /* the server's, dbname=postgres */
static char g_dir[512];
static int g_state; /* 0 not tried, 1 up, 2 not installed, 3 broken */
static pid_t g_owner;

static void stop_server(void) {
    if (getpid() != g_owner || !g_dir[0]) return; /* forked children leave it */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/tests/pg.sh stop '%s'", IA_SOURCE_DIR, g_dir);
    if (system(cmd) != 0) fprintf(stderr, "pg_help: tests/pg.sh stop failed\n");
}

static void start_once(void) {
    if (g_state) return;
    const char *env = getenv("IA_TEST_PG");
    if (env && *env) {
        snprintf(g_conninfo, sizeof g_conninfo, "%s", env);
        const char *d = getenv("IA_TEST_PG_DIR");
        if (d) snprintf(g_dir, sizeof g_dir, "%s", d);
        g_state = 1;
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/tests/pg.sh start", IA_SOURCE_DIR);
    fflush(NULL);
    FILE *p = popen(cmd, "r");
    char dir[512] = "";
    if (p && fgets(dir, sizeof dir, p)) dir[strcspn(dir, "\n")] = '\0';
    int rc = p ? pclose(p) : -1;
    if (rc != 0 || !dir[0]) {
        g_state = (rc != -1 && WEXITSTATUS(rc) == 3) ? 2 : 3;
        fprintf(stderr, g_state == 2 ? "  PostgreSQL is not installed: the _pg store tests are skipped\n"
                                     : "  tests/pg.sh start failed: the _pg store tests fail\n");
        return;
    }
    snprintf(g_dir, sizeof g_dir, "%s", dir);
    g_owner = getpid();
    atexit(stop_server);
    char path[600];
    snprintf(path, sizeof path, "%s/conninfo", dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(g_conninfo, sizeof g_conninfo, f)) {
        g_state = 3;
        if (f) fclose(f);
        return;
    }
    fclose(f);
    g_conninfo[strcspn(g_conninfo, "\n")] = '\0';
    g_state = 1;
}

const char *ia_test_pg_dir(void) {
    start_once();
    return g_dir[0] ? g_dir : NULL;
}

static void quiet(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

int ia_test_pg_exec(const char *conninfo, const char *sql) {
    PGconn *c = PQconnectdb(conninfo);
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
        PGresult *r = PQexec(c, sql);
        ExecStatusType st = PQresultStatus(r);
        rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
        if (rc) fprintf(stderr, "  pg_help: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        fprintf(stderr, "  pg_help: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return rc;
}

long long ia_test_pg_int(const char *conninfo, const char *sql) {
    PGconn *c = PQconnectdb(conninfo);
    long long v = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    }
    PQfinish(c);
    return v;
}

bool ia_test_pg_db(char *buf, size_t n, const char *name, bool *broken) {
    *broken = false;
    start_once();
    if (g_state != 1) {
        *broken = g_state == 3;
        return false;
    }
    char db[80], sql[200];
    snprintf(db, sizeof db, "t_%s", name);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db);
    if (ia_test_pg_exec(g_conninfo, sql) != 0) goto broken;
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", db);
    if (ia_test_pg_exec(g_conninfo, sql) != 0) goto broken;
    /* the server's conninfo with its dbname replaced (a later dbname wins) */
    snprintf(buf, n, "%s dbname=%s", g_conninfo, db);
    return true;
broken:
    *broken = true;
    return false;
}

bool ia_test_store_pg;

bool ia_test_store_spec(char *buf, size_t n, const char *name, const char *sqlite_path, int *failed) {
    if (!ia_test_store_pg) {
        snprintf(buf, n, "%s", sqlite_path);
        return true;
    }
    bool broken = false;
    if (ia_test_pg_db(buf, n, name, &broken)) return true;
    if (broken) {
        fprintf(stderr, "  %s: no PostgreSQL database (tests/pg.sh start failed)\n", name);
        *failed = 1;
    } else {
        fprintf(stderr, "  skipped: PostgreSQL is not installed (initdb not found)\n");
    }
    return false;
}
