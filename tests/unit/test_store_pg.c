/* test_store_pg: what only the PostgreSQL store has, against a real server
 * that the tests start (pg_help.h): the schema migrated once when several
 * instances open a new database at the same moment (advisory lock), a
 * newer schema refused, a restart of the database in the middle of a
 * store's life — no committed row lost, the next calls served on fresh
 * connections without reopening the store; a call made while the database
 * is down for a moment waits for it, one made while it stays down fails
 * clearly and the store serves again once it is back — and a server that
 * cannot be reached refused at open with a clear error.
 * (The store's shared contract runs against both backends in test_store.c
 * and test_files.c.) */
#include "unit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "pg_help.h"
#include "store/store.h"

/* A fresh database, or return (skipped: said on stderr; or failed). */
#define PG_DB(buf, name)                                                           \
    do {                                                                           \
        ia_test_store_pg = true;                                                   \
        bool ok_ = ia_test_store_spec(buf, sizeof buf, name, "", ia_failed_);      \
        ia_test_store_pg = false;                                                  \
        if (!ok_) return;                                                          \
    } while (0)

static void row(ia_interaction *it, const char *id) {
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%s", id);
    it->owner = ia_strdup("o");
    it->model = ia_strdup("demo");
    it->status = IA_STATUS_COMPLETED;
    it->created = it->updated = 1700000000;
    ia_turn *u = ia_conv_add_turn(&it->input, IA_ROLE_USER);
    ia_turn_add_text(u, "hi", 2);
    it->output.role = IA_ROLE_MODEL;
    ia_turn_add_text(&it->output, "ok", 2);
}

struct opener { const char *conninfo; ia_store *s; };

static void *open_worker(void *arg) {
    struct opener *o = arg;
    ia_err err = {0};
    o->s = ia_store_open(o->conninfo, &err);
    return NULL;
}

IA_TEST(store_pg_migrates_once_under_concurrent_opens) {
    char ci[1024];
    PG_DB(ci, "pg_migrate_once");
    pthread_t th[6];
    struct opener o[6];
    for (int i = 0; i < 6; i++) {
        o[i] = (struct opener){.conninfo = ci};
        pthread_create(&th[i], NULL, open_worker, &o[i]);
    }
    for (int i = 0; i < 6; i++) pthread_join(th[i], NULL);
    int opened = 0;
    for (int i = 0; i < 6; i++) opened += o[i].s != NULL;
    ia_interaction it;
    row(&it, "v1_m");
    ia_err err = {0};
    int put = o[0].s ? ia_store_put(o[0].s, &it, &err) : -1;
    ia_interaction_free(&it);
    for (int i = 0; i < 6; i++) ia_store_close(o[i].s);
    IA_CHECK(opened == 6);
    IA_CHECK(put == 0);
    /* one version row, the current one; the tables made once */
    IA_CHECK(ia_test_pg_int(ci, "SELECT count(*) FROM interactd_schema") == 1);
    IA_CHECK(ia_test_pg_int(ci, "SELECT max(version) FROM interactd_schema") >= 1);
    IA_CHECK(ia_test_pg_int(ci, "SELECT count(*) FROM pg_tables WHERE tablename = 'interactions'") == 1);
}

IA_TEST(store_pg_refuses_newer_schema) {
    char ci[1024];
    PG_DB(ci, "pg_newer");
    ia_err err = {0};
    ia_store *s = ia_store_open(ci, &err);
    IA_CHECK(s);
    IA_CHECK_STREQ(ia_store_backend(s), "postgres");
    ia_store_close(s);
    IA_CHECK(ia_test_pg_exec(ci, "UPDATE interactd_schema SET version = 99") == 0);
    ia_err e = {0};
    s = ia_store_open(ci, &e);
    ia_store_close(s);
    IA_CHECK(s == NULL);
    IA_CHECK_CONTAINS(e.msg, "newer");
}

IA_TEST(store_pg_open_fails_clearly) {
    ia_err e = {0};
    /* a port nothing listens on (the kernel's port 1 needs root to bind) */
    ia_store *s = ia_store_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", &e);
    ia_store_close(s);
    IA_CHECK(s == NULL);
    IA_CHECK(e.code == IA_EINTERNAL);
    IA_CHECK_CONTAINS(e.msg, "cannot connect to PostgreSQL");
}

/* Stores it as a run does: in_progress first, then the record (a run's
 * final write only updates the row its instance holds in_progress). */
static int store_run(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err) {
    ia_interaction running = *it; /* shallow: put only reads it */
    running.status = IA_STATUS_IN_PROGRESS;
    if (ia_store_put(s, &running, err) != 0) return -1;
    return ia_store_finish(s, it, evs, n, err);
}

/* tests/pg.sh restart / pause / resume on the tests' server. */
static int pg_sh(const char *what) {
    const char *dir = ia_test_pg_dir();
    if (!dir) return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/tests/pg.sh %s '%s'", IA_SOURCE_DIR, what, dir);
    fflush(NULL);
    return system(cmd) == 0 ? 0 : -1;
}

static int restart_db(void) { return pg_sh("restart"); }

IA_TEST(store_pg_survives_a_database_restart) {
    char ci[1024];
    PG_DB(ci, "pg_restart");
    if (!ia_test_pg_dir()) {
        fprintf(stderr, "  skipped: IA_TEST_PG given without IA_TEST_PG_DIR (cannot restart it)\n");
        return;
    }
    ia_err err = {0};
    ia_store *s = ia_store_open(ci, &err);
    IA_CHECK(s);
    /* every pooled connection in use before the restart */
    ia_interaction it;
    int before = 0;
    for (int i = 0; i < 8; i++) {
        char id[32];
        snprintf(id, sizeof id, "v1_b%d", i);
        row(&it, id);
        ia_event ev = {.seq = 1, .kind = IA_EV_START};
        before += store_run(s, &it, &ev, 1, &err) == 0;
        ia_interaction_free(&it);
    }
    int restarted = restart_db();
    /* a read on a connection the restart cut: retried on a new one */
    ia_interaction out;
    int g = ia_store_get(s, "v1_b3", "o", 0, &out, &err);
    int got = g == 0 && out.status == IA_STATUS_COMPLETED && out.output.n == 1;
    if (g == 0) ia_interaction_free(&out);
    /* writes after it: served */
    row(&it, "v1_after");
    ia_event evs[2] = {{.seq = 1, .kind = IA_EV_START}, {.seq = 2, .kind = IA_EV_COMPLETE}};
    int fin = store_run(s, &it, evs, 2, &err);
    ia_interaction_free(&it);
    ia_event *got_evs = NULL;
    size_t n = 0;
    int ev = ia_store_events(s, "v1_after", 0, &got_evs, &n, &err);
    ia_events_free(got_evs, n);
    int all = 0;
    for (int i = 0; i < 8; i++) {
        char id[32];
        snprintf(id, sizeof id, "v1_b%d", i);
        if (ia_store_get(s, id, "o", 0, &out, &err) == 0) {
            all++;
            ia_interaction_free(&out);
        }
    }
    ia_store_close(s);
    IA_CHECK(before == 8);
    IA_CHECK(restarted == 0);
    IA_CHECK(got);
    IA_CHECK(fin == 0);
    IA_CHECK(ev == 0 && n == 2);
    IA_CHECK(all == 8); /* nothing committed was lost */
}

/* Two instances on one database: a starting instance recovers its own
 * interrupted runs (and those no instance claimed), never a live
 * neighbour's. */
IA_TEST(store_pg_recover_takes_only_its_own_runs) {
    char ci[1024];
    PG_DB(ci, "pg_recover_own");
    ia_err err = {0};
    ia_store *a = ia_store_open(ci, &err);
    ia_store *b = ia_store_open(ci, &err);
    IA_CHECK(a && b);
    ia_store_set_instance(a, "instance-a");
    ia_store_set_instance(b, "instance-b");
    ia_interaction it;
    row(&it, "v1_on_a");
    it.status = IA_STATUS_IN_PROGRESS;
    int put_a = ia_store_put(a, &it, &err);
    ia_interaction_free(&it);
    row(&it, "v1_on_b");
    it.status = IA_STATUS_IN_PROGRESS;
    int put_b = ia_store_put(b, &it, &err);
    ia_interaction_free(&it);
    /* b restarts: only its own run fails */
    int nb = ia_store_recover(b, 1800000000, "b restarted", &err);
    ia_interaction out;
    int ga = ia_store_get(b, "v1_on_a", "o", 0, &out, &err);
    ia_status sa = ga == 0 ? out.status : IA_STATUS_FAILED;
    if (ga == 0) ia_interaction_free(&out);
    int gb = ia_store_get(a, "v1_on_b", "o", 0, &out, &err);
    ia_status sb = gb == 0 ? out.status : IA_STATUS_IN_PROGRESS;
    if (gb == 0) ia_interaction_free(&out);
    /* a store that names no instance (one server alone) takes every run */
    ia_store *c = ia_store_open(ci, &err);
    int nc = c ? ia_store_recover(c, 1800000001, "all", &err) : -1;
    ia_store_close(c);
    ia_store_close(a);
    ia_store_close(b);
    IA_CHECK(put_a == 0 && put_b == 0);
    IA_CHECK(nb == 1);
    IA_CHECK(ga == 0 && sa == IA_STATUS_IN_PROGRESS);
    IA_CHECK(gb == 0 && sb == IA_STATUS_FAILED);
    IA_CHECK(nc == 1);
}

static int64_t ia_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *resume_later(void *arg) {
    (void)arg;
    usleep(500 * 1000); /* soon: its start must fit in the call's 5 s on a busy machine */
    return (void *)(intptr_t)pg_sh("resume");
}

/* The database down for a moment (stopped, started again 0.5 s later): a
 * call made meanwhile waits for it and is served; one made while it stays
 * down fails after a few seconds with a clear error, and the same store
 * serves again once it is back. */
IA_TEST(store_pg_waits_for_a_database_coming_back) {
    char ci[1024];
    PG_DB(ci, "pg_down");
    if (!ia_test_pg_dir()) {
        fprintf(stderr, "  skipped: IA_TEST_PG given without IA_TEST_PG_DIR (cannot stop it)\n");
        return;
    }
    ia_err err = {0};
    ia_store *s = ia_store_open(ci, &err);
    IA_CHECK(s);
    ia_interaction it, out;
    row(&it, "v1_before_down");
    int put = ia_store_put(s, &it, &err);
    ia_interaction_free(&it);
    int paused = pg_sh("pause");
    pthread_t th;
    pthread_create(&th, NULL, resume_later, NULL);
    int64_t t0 = ia_now_ms();
    int g = ia_store_get(s, "v1_before_down", "o", 0, &out, &err);
    int64_t waited = ia_now_ms() - t0;
    if (g == 0) ia_interaction_free(&out);
    void *resumed = NULL;
    pthread_join(th, &resumed);
    /* down for longer than a call waits */
    int paused2 = pg_sh("pause");
    ia_err down = {0};
    t0 = ia_now_ms();
    int gd = ia_store_get(s, "v1_before_down", "o", 0, &out, &down);
    int64_t gave_up = ia_now_ms() - t0;
    if (gd == 0) ia_interaction_free(&out);
    int resumed2 = pg_sh("resume");
    row(&it, "v1_after_down");
    int fin = store_run(s, &it, NULL, 0, &err);
    ia_interaction_free(&it);
    int g2 = ia_store_get(s, "v1_after_down", "o", 0, &out, &err);
    if (g2 == 0) ia_interaction_free(&out);
    ia_store_close(s);
    IA_CHECK(put == 0 && paused == 0 && resumed == NULL && paused2 == 0 && resumed2 == 0);
    IA_CHECK(g == 0);
    IA_CHECK(waited >= 400); /* it did wait for the database (down 0.5 s at least) */
    IA_CHECK(gd == -1 && down.code == IA_EINTERNAL);
    IA_CHECK_CONTAINS(down.msg, "cannot connect to PostgreSQL");
    IA_CHECK(gave_up >= 4000 && gave_up < 30000);
    IA_CHECK(fin == 0 && g2 == 0);
}
