/* test_store: the store (each IA_STORE_TEST twice: a real SQLite file under
 * ia_test_tmpdir(), then a fresh database on a real PostgreSQL, pg_help.h)
 * and the storage codec — every field round-trips, owners and expiry
 * hide rows exactly like missing ones, finish lands row and events together,
 * recovery after an unfinished run (a real crash: a child process writes
 * and dies by SIGKILL, the parent reopens the file) leaves a failed row with
 * terminal events, and concurrent writers do not corrupt each other. */
#include "unit.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/util.h"
#include "store/store.h"
#include "pg_help.h"

/* A fresh database for one test: a file under the test folder (SQLite)
 * or a new database on the tests' PostgreSQL (pg_help.h); false: skip. */
static bool db_path(char *buf, size_t n, const char *name, int *failed) {
    char file[512];
    snprintf(file, sizeof file, "%s/store-%s.db", ia_test_tmpdir(), name);
    remove(file);
    return ia_test_store_spec(buf, n, name, file, failed);
}
#define DB_PATH(buf, name)                                           \
    do {                                                             \
        if (!db_path(buf, sizeof buf, name, ia_failed_)) return;     \
    } while (0)

/* A fully populated interaction: every field differs from its zero value. */
static void sample(ia_interaction *it, const char *id, const char *owner) {
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%s", id);
    it->owner = ia_strdup(owner);
    it->model = ia_strdup("demo");
    it->previous_id = ia_strdup("v1_prev");
    it->system_instruction = ia_strdup("be brief");
    it->status = IA_STATUS_COMPLETED;
    it->created = 1700000000;
    it->updated = 1700000005;
    it->expires = 0;
    it->background = true;
    ia_turn *u = ia_conv_add_turn(&it->input, IA_ROLE_USER);
    ia_turn_add_text(u, "hello", 5);
    ia_turn_add_text(u, "world", 5);
    it->output.role = IA_ROLE_MODEL;
    ia_turn_add_text(&it->output, "héllo ✓", strlen("héllo ✓"));
    it->has_usage = true;
    it->usage = (ia_usage){.input = 11, .output = 22, .thought = 3, .cached = 4, .tool_use = 5};
    it->error = ia_strdup("an error text");
    it->error_code = IA_EINVALID;
}

/* Stores it as a run does: its row written in_progress first (on
 * PostgreSQL a run's events and final write go only to a row that its
 * instance still holds in_progress), then evs with the record. */
static int store_run(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err) {
    ia_interaction running = *it; /* shallow: put only reads it */
    running.status = IA_STATUS_IN_PROGRESS;
    if (ia_store_put(s, &running, err) != 0) return -1;
    return ia_store_finish(s, it, evs, n, err);
}

static ia_event text_event(ia_event_kind kind, int64_t seq, const char *text) {
    return (ia_event){.seq = seq, .kind = kind, .index = 0, .text = (char *)text};
}

IA_STORE_TEST(store_put_get_roundtrip) {
    char path[512];
    DB_PATH(path, "roundtrip");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction in, out;
    sample(&in, "v1_a", "owner1");
    int rc = ia_store_put(s, &in, &err);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    int in_wal = ia_test_store_pg || access(wal, F_OK) == 0; /* the file really runs in WAL mode */
    int got = rc == 0 ? ia_store_get(s, "v1_a", "owner1", 1700000010, &out, &err) : -1;
    int ok = got == 0 && strcmp(out.id, "v1_a") == 0 && strcmp(out.owner, "owner1") == 0 &&
             strcmp(out.model, "demo") == 0 && strcmp(out.previous_id, "v1_prev") == 0 &&
             strcmp(out.system_instruction, "be brief") == 0 &&
             out.status == IA_STATUS_COMPLETED && out.created == 1700000000 &&
             out.updated == 1700000005 && out.expires == 0 && out.background &&
             out.input.n == 1 && out.input.turns[0].role == IA_ROLE_USER &&
             out.input.turns[0].n == 2 && strcmp(out.input.turns[0].items[1].text, "world") == 0 &&
             out.output.role == IA_ROLE_MODEL && out.output.n == 1 &&
             strcmp(out.output.items[0].text, "héllo ✓") == 0 && out.has_usage &&
             out.usage.input == 11 && out.usage.output == 22 && out.usage.thought == 3 &&
             out.usage.cached == 4 && out.usage.tool_use == 5 &&
             strcmp(out.error, "an error text") == 0 && out.error_code == IA_EINVALID;
    /* NULL strings stay NULL, false stays false. */
    ia_interaction bare = {0}, bare_out = {0};
    snprintf(bare.id, sizeof bare.id, "v1_bare");
    bare.status = IA_STATUS_IN_PROGRESS;
    int bare_ok = ia_store_put(s, &bare, &err) == 0 &&
                  ia_store_get(s, "v1_bare", "", 0, &bare_out, &err) == 0 &&
                  !bare_out.model && !bare_out.previous_id && !bare_out.error &&
                  bare_out.error_code == IA_OK &&
                  strcmp(bare_out.owner, "") == 0 && !bare_out.has_usage &&
                  !bare_out.background && bare_out.input.n == 0 && bare_out.output.n == 0 &&
                  bare_out.status == IA_STATUS_IN_PROGRESS;
    if (got == 0) ia_interaction_free(&out);
    ia_interaction_free(&bare_out);
    ia_interaction_free(&in);
    ia_store_close(s);
    IA_CHECK(rc == 0);
    IA_CHECK(in_wal);
    IA_CHECK(ok);
    IA_CHECK(bare_ok);
}

IA_STORE_TEST(store_put_replaces_and_keeps_events) {
    char path[512];
    DB_PATH(path, "replace");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it, out = {0};
    sample(&it, "v1_r", "o");
    it.status = IA_STATUS_IN_PROGRESS;
    ia_event ev = text_event(IA_EV_START, 1, NULL);
    int rc1 = ia_store_put(s, &it, &err) == 0 && ia_store_append_events(s, "v1_r", &ev, 1, &err) == 0;
    it.status = IA_STATUS_CANCELLED;
    int rc2 = ia_store_put(s, &it, &err) == 0 && ia_store_get(s, "v1_r", "o", 0, &out, &err) == 0;
    ia_event *evs = NULL;
    size_t n = 0;
    int rc3 = ia_store_events(s, "v1_r", 0, &evs, &n, &err);
    ia_status st = out.status;
    ia_interaction_free(&out);
    ia_interaction_free(&it);
    ia_events_free(evs, n);
    ia_store_close(s);
    IA_CHECK(rc1 && rc2 && rc3 == 0);
    IA_CHECK(st == IA_STATUS_CANCELLED);
    IA_CHECK(n == 1); /* the upsert did not cascade-delete the log */
}

IA_STORE_TEST(store_owner_isolation) {
    char path[512];
    DB_PATH(path, "owner");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it, out;
    sample(&it, "v1_o", "alice");
    ia_store_put(s, &it, &err);
    ia_interaction_free(&it);
    ia_err e1 = {0}, e2 = {0}, e3 = {0};
    int foreign = ia_store_get(s, "v1_o", "bob", 0, &out, &e1);
    int missing = ia_store_get(s, "v1_nope", "bob", 0, &out, &e2);
    int del_foreign = ia_store_delete(s, "v1_o", "bob", &e3);
    int mine = ia_store_get(s, "v1_o", "alice", 0, &out, &err);
    if (mine == 0) ia_interaction_free(&out);
    ia_store_close(s);
    IA_CHECK(foreign == -1 && e1.code == IA_ENOTFOUND);
    IA_CHECK(missing == -1 && e2.code == IA_ENOTFOUND);
    IA_CHECK(del_foreign == -1 && e3.code == IA_ENOTFOUND);
    IA_CHECK(mine == 0); /* bob's delete did not touch alice's row */
}

IA_STORE_TEST(store_expiry_and_sweep) {
    char path[512];
    DB_PATH(path, "expiry");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction a, b, c, out;
    sample(&a, "v1_exp", "o");
    a.expires = 1000;
    sample(&b, "v1_live", "o");
    b.expires = 5000;
    sample(&c, "v1_forever", "o");
    c.expires = 0;
    ia_event ev = text_event(IA_EV_START, 1, NULL);
    int put = store_run(s, &a, &ev, 1, &err) == 0 && ia_store_put(s, &b, &err) == 0 &&
              ia_store_put(s, &c, &err) == 0;
    ia_interaction_free(&a);
    ia_interaction_free(&b);
    ia_interaction_free(&c);
    int before = ia_store_get(s, "v1_exp", "o", 999, &out, &err);
    if (before == 0) ia_interaction_free(&out);
    ia_err e = {0};
    int at = ia_store_get(s, "v1_exp", "o", 1000, &out, &e); /* expiry <= now: gone */
    int swept = ia_store_sweep(s, 1000, &err);
    ia_event *evs = NULL;
    size_t n = 9;
    int evrc = ia_store_events(s, "v1_exp", 0, &evs, &n, &err);
    ia_events_free(evs, n);
    int live = ia_store_get(s, "v1_live", "o", 1000, &out, &err);
    if (live == 0) ia_interaction_free(&out);
    int forever = ia_store_get(s, "v1_forever", "o", INT64_MAX / 2, &out, &err);
    if (forever == 0) ia_interaction_free(&out);
    int again = ia_store_sweep(s, 1000, &err);
    ia_store_close(s);
    IA_CHECK(put);
    IA_CHECK(before == 0);
    IA_CHECK(at == -1 && e.code == IA_ENOTFOUND);
    IA_CHECK(swept == 1);
    IA_CHECK(evrc == 0 && n == 0);
    IA_CHECK(live == 0 && forever == 0);
    IA_CHECK(again == 0);
}

IA_STORE_TEST(store_delete_removes_events) {
    char path[512];
    DB_PATH(path, "delete");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it, out;
    sample(&it, "v1_d", "o");
    ia_event evs_in[3] = {text_event(IA_EV_START, 1, NULL),
                          text_event(IA_EV_CONTENT_DELTA, 2, "x"),
                          text_event(IA_EV_COMPLETE, 3, NULL)};
    int fin = store_run(s, &it, evs_in, 3, &err);
    ia_interaction_free(&it);
    int del = ia_store_delete(s, "v1_d", "o", &err);
    ia_err e = {0}, e2 = {0};
    int get = ia_store_get(s, "v1_d", "o", 0, &out, &e);
    int del2 = ia_store_delete(s, "v1_d", "o", &e2);
    ia_event *evs = NULL;
    size_t n = 9;
    int evrc = ia_store_events(s, "v1_d", 0, &evs, &n, &err);
    ia_events_free(evs, n);
    ia_store_close(s);
    IA_CHECK(fin == 0);
    IA_CHECK(del == 0);
    IA_CHECK(get == -1 && e.code == IA_ENOTFOUND);
    IA_CHECK(del2 == -1 && e2.code == IA_ENOTFOUND);
    IA_CHECK(evrc == 0 && n == 0 && evs == NULL);
}

IA_STORE_TEST(store_finish_is_atomic) {
    char path[512];
    DB_PATH(path, "atomic");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it, out;
    sample(&it, "v1_f", "o");
    it.status = IA_STATUS_IN_PROGRESS;
    ia_event first = text_event(IA_EV_START, 1, NULL);
    int setup = ia_store_put(s, &it, &err) == 0 && ia_store_append_events(s, "v1_f", &first, 1, &err) == 0;
    /* The second event cannot be stored (no such kind): the batch must
     * fail as a whole, and the row update must be rolled back with it. (A
     * seq stored already is not a failure: a batch sent again after a lost
     * COMMIT keeps what landed.) */
    it.status = IA_STATUS_COMPLETED;
    ia_event bad[2] = {text_event(IA_EV_CONTENT_DELTA, 2, "a"), text_event((ia_event_kind)999, 3, NULL)};
    ia_err fe = {0};
    int fail = ia_store_finish(s, &it, bad, 2, &fe);
    int g1 = ia_store_get(s, "v1_f", "o", 0, &out, &err);
    ia_status after_fail = out.status;
    ia_interaction_free(&out);
    ia_event *evs = NULL;
    size_t n1 = 0, n2 = 0;
    ia_store_events(s, "v1_f", 0, &evs, &n1, &err);
    ia_events_free(evs, n1);
    /* Then a good finish lands row and events together. */
    ia_event good[2] = {text_event(IA_EV_CONTENT_DELTA, 2, "a"), text_event(IA_EV_COMPLETE, 3, NULL)};
    int ok = ia_store_finish(s, &it, good, 2, &err);
    int g2 = ia_store_get(s, "v1_f", "o", 0, &out, &err);
    ia_status after_ok = out.status;
    ia_interaction_free(&out);
    ia_store_events(s, "v1_f", 0, &evs, &n2, &err);
    ia_events_free(evs, n2);
    ia_interaction_free(&it);
    ia_store_close(s);
    IA_CHECK(setup);
    IA_CHECK(fail == -1 && fe.code == IA_EINTERNAL && fe.msg[0]);
    IA_CHECK(g1 == 0 && after_fail == IA_STATUS_IN_PROGRESS);
    IA_CHECK(n1 == 1);
    IA_CHECK(ok == 0 && g2 == 0 && after_ok == IA_STATUS_COMPLETED);
    IA_CHECK(n2 == 3);
}

IA_STORE_TEST(store_events_after_seq_in_order) {
    char path[512];
    DB_PATH(path, "events");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it;
    sample(&it, "v1_e", "o");
    it.status = IA_STATUS_IN_PROGRESS; /* events are a running interaction's */
    int put = ia_store_put(s, &it, &err);
    ia_interaction_free(&it);
    /* Appended out of order, across two batches; seq 0 means "next". */
    ia_event b1[2] = {text_event(IA_EV_CONTENT_DELTA, 3, "three"), text_event(IA_EV_START, 1, NULL)};
    ia_event b2[3] = {
        {.seq = 2, .kind = IA_EV_CONTENT_START, .index = 7, .ckind = IA_CONTENT_TEXT},
        {.seq = 0, .kind = IA_EV_STATUS, .status = IA_STATUS_CANCELLED},
        {.seq = 0, .kind = IA_EV_ERROR, .text = "boom", .code = "internal"},
    };
    int a1 = ia_store_append_events(s, "v1_e", b1, 2, &err);
    int a2 = ia_store_append_events(s, "v1_e", b2, 3, &err);
    int64_t last = -1;
    int ls = ia_store_last_seq(s, "v1_e", &last, &err);
    ia_event *evs = NULL, *tail = NULL;
    size_t n = 0, nt = 0;
    int rc = ia_store_events(s, "v1_e", 0, &evs, &n, &err);
    int rct = ia_store_events(s, "v1_e", 3, &tail, &nt, &err);
    int ok = rc == 0 && n == 5 && evs[0].seq == 1 && evs[0].kind == IA_EV_START &&
             evs[1].seq == 2 && evs[1].kind == IA_EV_CONTENT_START && evs[1].index == 7 &&
             evs[1].ckind == IA_CONTENT_TEXT && evs[2].seq == 3 &&
             evs[2].kind == IA_EV_CONTENT_DELTA && evs[2].text && strcmp(evs[2].text, "three") == 0 &&
             evs[3].seq == 4 && evs[3].kind == IA_EV_STATUS && evs[3].status == IA_STATUS_CANCELLED &&
             evs[4].seq == 5 && evs[4].kind == IA_EV_ERROR && evs[4].code &&
             strcmp(evs[4].code, "internal") == 0 && strcmp(evs[4].text, "boom") == 0 &&
             evs[0].text == NULL;
    int tail_ok = rct == 0 && nt == 2 && tail[0].seq == 4 && tail[1].seq == 5;
    ia_events_free(evs, n);
    ia_events_free(tail, nt);
    /* Events for a row that was never put are refused. */
    ia_err oe = {0};
    ia_event orphan = text_event(IA_EV_START, 1, NULL);
    int orc = ia_store_append_events(s, "v1_none", &orphan, 1, &oe);
    ia_store_close(s);
    IA_CHECK(put == 0 && a1 == 0 && a2 == 0);
    IA_CHECK(ls == 0 && last == 5);
    IA_CHECK(ok);
    IA_CHECK(tail_ok);
    IA_CHECK(orc == -1 && oe.code == IA_EINTERNAL);
}

/* The child half of the crash test: starts a run (row + flushed events),
 * stores a completed one, then dies by SIGKILL without closing anything. */
static void crash_child(const char *path) {
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    if (!s) _exit(3);
    ia_interaction run, done_it;
    sample(&run, "v1_run", "o");
    run.status = IA_STATUS_IN_PROGRESS;
    free(run.error);
    run.error = NULL;
    ia_event flushed[2] = {text_event(IA_EV_START, 1, NULL), text_event(IA_EV_CONTENT_DELTA, 2, "par")};
    sample(&done_it, "v1_done", "o");
    if (ia_store_put(s, &run, &err) != 0 ||
        ia_store_append_events(s, "v1_run", flushed, 2, &err) != 0 ||
        store_run(s, &done_it, NULL, 0, &err) != 0)
        _exit(4);
    raise(SIGKILL);
    _exit(5);
}

IA_STORE_TEST(store_recover_after_crash) {
    char path[512];
    DB_PATH(path, "recover");
    ia_err err = {0};
    ia_interaction out;
    fflush(NULL);
    pid_t pid = fork();
    IA_CHECK(pid >= 0);
    if (pid == 0) crash_child(path);
    int wst = 0;
    waitpid(pid, &wst, 0);
    IA_CHECK(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);

    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    int n = ia_store_recover(s, 1800000000, "the server restarted", &err);
    int g = ia_store_get(s, "v1_run", "o", 0, &out, &err);
    int row_ok = g == 0 && out.status == IA_STATUS_FAILED && out.updated == 1800000000 &&
                 out.error && strcmp(out.error, "the server restarted") == 0 &&
                 out.error_code == IA_EINTERNAL && out.output.n == 1; /* partial output kept */
    if (g == 0) ia_interaction_free(&out);
    int gd = ia_store_get(s, "v1_done", "o", 0, &out, &err);
    int done_ok = gd == 0 && out.status == IA_STATUS_COMPLETED && out.updated == 1700000005;
    if (gd == 0) ia_interaction_free(&out);
    ia_event *evs = NULL;
    size_t ne = 0;
    int er = ia_store_events(s, "v1_run", 2, &evs, &ne, &err);
    /* Past the last stored seq (2) by the gap: ids a live client may have
     * seen beyond what was flushed are never reused. */
    const int64_t g0 = 2 + IA_STORE_RECOVER_SEQ_GAP;
    int ev_ok = er == 0 && ne == 3 && evs[0].seq == g0 + 1 && evs[0].kind == IA_EV_ERROR &&
                strcmp(evs[0].text, "the server restarted") == 0 && evs[0].code &&
                evs[1].seq == g0 + 2 && evs[1].kind == IA_EV_STATUS &&
                evs[1].status == IA_STATUS_FAILED && evs[2].seq == g0 + 3 &&
                evs[2].kind == IA_EV_COMPLETE && evs[2].status == IA_STATUS_FAILED;
    ia_events_free(evs, ne);
    int again = ia_store_recover(s, 1800000001, "x", &err);
    ia_store_close(s);
    IA_CHECK(n == 1);
    IA_CHECK(row_ok);
    IA_CHECK(done_ok);
    IA_CHECK(ev_ok);
    IA_CHECK(again == 0);
}

IA_STORE_TEST(store_meta) {
    char path[512];
    DB_PATH(path, "meta");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    char *v0 = (char *)1, *v1 = NULL, *v2 = NULL;
    int r0 = ia_store_meta_get(s, "k", &v0, &err);
    int r1 = ia_store_meta_put(s, "k", "one", &err) == 0 && ia_store_meta_get(s, "k", &v1, &err) == 0;
    int r2 = ia_store_meta_put(s, "k", "two", &err) == 0 && ia_store_meta_get(s, "k", &v2, &err) == 0;
    ia_store_close(s);
    /* And it persists across a reopen. */
    char *v3 = NULL;
    s = ia_store_open(path, &err);
    int r3 = s && ia_store_meta_get(s, "k", &v3, &err) == 0;
    ia_store_close(s);
    int ok = r0 == 0 && v0 == NULL && r1 && v1 && strcmp(v1, "one") == 0 && r2 && v2 &&
             strcmp(v2, "two") == 0 && r3 && v3 && strcmp(v3, "two") == 0;
    free(v1);
    free(v2);
    free(v3);
    IA_CHECK(ok);
}

/* A file from before the error_code column (user_version 2) is upgraded in
 * place: its failed rows read as "internal" (all the old build knew), and a
 * code stored after the upgrade reads back as stored. */
IA_TEST(store_migrates_error_code) {
    char path[512];
    DB_PATH(path, "migrate3");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it;
    sample(&it, "v1_old", "o");
    it.status = IA_STATUS_FAILED;
    int put = ia_store_put(s, &it, &err);
    ia_store_close(s);
    IA_CHECK(put == 0);
    /* Turn the file back into what the previous build wrote. */
    sqlite3 *db = NULL;
    int down = sqlite3_open(path, &db) == SQLITE_OK &&
               sqlite3_exec(db, "DROP TABLE agents; ALTER TABLE interactions DROP COLUMN agent; "
                            "ALTER TABLE interactions DROP COLUMN agent_config; DROP TABLE files; ALTER TABLE interactions DROP COLUMN usage_by; DROP TABLE output_tokens; ALTER TABLE interactions DROP COLUMN error_code; "
                            "ALTER TABLE interactions DROP COLUMN response_format; DROP TABLE fs_chunks_fts; DROP TABLE fs_chunks; "
                            "DROP TABLE fs_docs; DROP TABLE fs_stores; PRAGMA user_version = 2",
                            NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    IA_CHECK(down);
    s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction out;
    int g = ia_store_get(s, "v1_old", "o", 0, &out, &err);
    int old_ok = g == 0 && out.status == IA_STATUS_FAILED && out.error_code == IA_OK &&
                 out.error && strcmp(out.error, "an error text") == 0;
    if (g == 0) ia_interaction_free(&out);
    snprintf(it.id, sizeof it.id, "v1_new");
    it.error_code = IA_ETOOLARGE;
    int g2 = ia_store_put(s, &it, &err) == 0 ? ia_store_get(s, "v1_new", "o", 0, &out, &err) : -1;
    int new_ok = g2 == 0 && out.error_code == IA_ETOOLARGE;
    if (g2 == 0) ia_interaction_free(&out);
    ia_interaction_free(&it);
    ia_store_close(s);
    IA_CHECK(old_ok);
    IA_CHECK(new_ok);
}

IA_TEST(store_refuses_newer_schema) {
    char path[512];
    DB_PATH(path, "newer");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    IA_CHECK(ia_store_meta_put(s, "x", "y", &err) == 0);
    ia_store_close(s);
    /* Bump user_version behind the store's back, as a newer build would. */
    sqlite3 *db = NULL;
    int bumped = sqlite3_open(path, &db) == SQLITE_OK &&
                 sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    IA_CHECK(bumped);
    ia_err e = {0};
    s = ia_store_open(path, &e);
    ia_store_close(s);
    IA_CHECK(s == NULL);
    IA_CHECK_CONTAINS(e.msg, "newer");
    IA_CHECK(e.code == IA_EINTERNAL);
}

/* ---- concurrency --------------------------------------------------------- */

struct worker { ia_store *s; int tid; int failures; };

static void *put_worker(void *arg) {
    struct worker *w = arg;
    ia_err err = {0};
    for (int i = 0; i < 50; i++) {
        char id[64];
        snprintf(id, sizeof id, "v1_t%d_%d", w->tid, i);
        ia_interaction it;
        sample(&it, id, "o");
        ia_event evs[2] = {text_event(IA_EV_START, 1, NULL), text_event(IA_EV_COMPLETE, 2, id)};
        if (store_run(w->s, &it, evs, 2, &err) != 0) w->failures++;
        ia_interaction out;
        if (ia_store_get(w->s, id, "o", 0, &out, &err) != 0) w->failures++;
        else {
            if (strcmp(out.id, id) != 0 || out.output.n != 1) w->failures++;
            ia_interaction_free(&out);
        }
        ia_interaction_free(&it);
    }
    return NULL;
}

IA_STORE_TEST(store_concurrent_puts) {
    char path[512];
    DB_PATH(path, "threads");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.s = s, .tid = i};
        pthread_create(&th[i], NULL, put_worker, &w[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    int failures = 0, bad = 0;
    for (int i = 0; i < 4; i++) failures += w[i].failures;
    for (int t = 0; t < 4 && !bad; t++) {
        for (int i = 0; i < 50; i++) {
            char id[64];
            snprintf(id, sizeof id, "v1_t%d_%d", t, i);
            ia_event *evs = NULL;
            size_t n = 0;
            if (ia_store_events(s, id, 0, &evs, &n, &err) != 0 || n != 2 ||
                strcmp(evs[1].text, id) != 0)
                bad++;
            ia_events_free(evs, n);
        }
    }
    ia_store_close(s);
    IA_CHECK(failures == 0);
    IA_CHECK(bad == 0);
}

/* ---- codec --------------------------------------------------------------- */

IA_TEST(codec_conv_roundtrip) {
    ia_conv c = {0}, back = {0};
    ia_turn *u = ia_conv_add_turn(&c, IA_ROLE_USER);
    ia_turn_add_text(u, "quote \" backslash \\ newline \n tab \t", strlen("quote \" backslash \\ newline \n tab \t"));
    ia_turn_add_text(u, "日本語 🙂 ü", strlen("日本語 🙂 ü"));
    ia_conv_add_turn(&c, IA_ROLE_MODEL); /* an empty turn */
    ia_turn *m = ia_conv_add_turn(&c, IA_ROLE_MODEL);
    ia_turn_add_text(m, "", 0);
    char *js = ia_codec_conv_encode(&c);
    int rc = ia_codec_conv_decode(js, &back);
    int ok = rc == 0 && back.n == 3 && back.turns[0].role == IA_ROLE_USER && back.turns[0].n == 2 &&
             strcmp(back.turns[0].items[0].text, c.turns[0].items[0].text) == 0 &&
             strcmp(back.turns[0].items[1].text, "日本語 🙂 ü") == 0 &&
             back.turns[1].role == IA_ROLE_MODEL && back.turns[1].n == 0 &&
             back.turns[2].n == 1 && strcmp(back.turns[2].items[0].text, "") == 0;
    char *js2 = ia_codec_conv_encode(&back); /* stable: same text again */
    int stable = js && js2 && strcmp(js, js2) == 0;
    /* Empty conversation. */
    ia_conv empty = {0}, eback = {0};
    char *ej = ia_codec_conv_encode(&empty);
    int erc = ia_codec_conv_decode(ej, &eback);
    fprintf(stderr, "[%s] ", js ? js : "(null)");
    free(js);
    free(js2);
    free(ej);
    ia_conv_free(&c);
    ia_conv_free(&back);
    ia_conv_free(&eback);
    IA_CHECK(ok);
    IA_CHECK(stable);
    IA_CHECK(erc == 0 && eback.n == 0);
}

IA_TEST(codec_turn_roundtrip_and_forward_keys) {
    ia_turn t = {0}, back = {0};
    t.role = IA_ROLE_MODEL;
    ia_turn_add_text(&t, "a", 1);
    char *js = ia_codec_turn_encode(&t);
    int rc = ia_codec_turn_decode(js, &back);
    int ok = rc == 0 && back.role == IA_ROLE_MODEL && back.n == 1 && strcmp(back.items[0].text, "a") == 0;
    ia_turn_free(&back);
    /* A newer build's extra keys on a known kind are ignored. */
    ia_turn fw = {0};
    int frc = ia_codec_turn_decode(
        "{\"role\":\"user\",\"x\":1,\"items\":[{\"kind\":\"text\",\"text\":\"t\",\"annotations\":[]}]}", &fw);
    int fok = frc == 0 && fw.n == 1 && strcmp(fw.items[0].text, "t") == 0;
    ia_turn_free(&fw);
    free(js);
    ia_turn_free(&t);
    IA_CHECK(ok);
    IA_CHECK(fok);
}

IA_TEST(codec_rejects_malformed) {
    static const char *const bad_convs[] = {
        NULL, "", "nope", "[]", "{}", "{\"turns\":{}}", "{\"turns\":[1]}",
        "{\"turns\":[{\"items\":[]}]}",                               /* no role */
        "{\"turns\":[{\"role\":\"system\",\"items\":[]}]}",           /* unknown role */
        "{\"turns\":[{\"role\":\"user\",\"items\":{}}]}",
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"kind\":\"text\"}]}]}",     /* no text */
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"kind\":\"text\",\"text\":5}]}]}",
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"kind\":\"hologram\",\"data\":\"x\"}]}]}",
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"text\":\"x\"}]}]}",        /* no kind */
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"kind\":\"text\",\"text\":\"a\\u0000b\"}]}]}",
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"kind\":\"text\",\"text\":\"ok\"}]},{\"role\":1}]}",
        "{\"turns\":[], \"turns\":[]}",                               /* duplicate key */
        "{\"turns\":[{\"role\":\"user\",\"items\":[{\"kind\":\"text\",\"text\":\"\\ud800\"}]}]}",
        "{\"turns\":[",
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof bad_convs / sizeof bad_convs[0]; i++) {
        ia_conv c;
        memset(&c, 0xAB, sizeof c); /* decode must not trust *out */
        if (ia_codec_conv_decode(bad_convs[i], &c) != -1 || c.n != 0 || c.turns != NULL) {
            fprintf(stderr, "  accepted: %s\n", bad_convs[i] ? bad_convs[i] : "NULL");
            failures++;
        }
        ia_conv_free(&c);
    }
    ia_turn t;
    int t1 = ia_codec_turn_decode("{\"role\":\"model\",\"items\":[null]}", &t);
    int t2 = ia_codec_turn_decode("\"text\"", &t);
    /* Encoding refuses text that is not UTF-8 instead of storing garbage. */
    ia_turn badutf = {0};
    ia_turn_add_text(&badutf, "\xff\xfe", 2);
    char *enc = ia_codec_turn_encode(&badutf);
    ia_turn_free(&badutf);
    free(enc);
    IA_CHECK(failures == 0);
    IA_CHECK(t1 == -1 && t2 == -1);
    IA_CHECK(enc == NULL);
}

/* generation_config (schema 2): the fields set come back as set, the others
 * stay unset; a row with none has none; the codec refuses a mistyped field. */
IA_STORE_TEST(store_gen_config_roundtrip) {
    char path[512];
    DB_PATH(path, "genconfig");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction in, out, bare, bare_out;
    sample(&in, "v1_g", "o");
    in.gen.has_temperature = true;
    in.gen.temperature = 0.25;
    in.gen.has_max_output_tokens = true;
    in.gen.max_output_tokens = 77;
    in.gen.has_seed = true;
    in.gen.seed = -3;
    in.gen.stop = calloc(2, sizeof *in.gen.stop);
    in.gen.stop[0] = ia_strdup("END");
    in.gen.stop[1] = ia_strdup("\xe2\x9c\x93");
    in.gen.n_stop = 2;
    sample(&bare, "v1_nogen", "o");
    int rc = ia_store_put(s, &in, &err) | ia_store_put(s, &bare, &err);
    int got = rc == 0 ? ia_store_get(s, "v1_g", "o", 1700000010, &out, &err) : -1;
    int got2 = rc == 0 ? ia_store_get(s, "v1_nogen", "o", 1700000010, &bare_out, &err) : -1;
    int ok = got == 0 && got2 == 0 && out.gen.has_temperature && out.gen.temperature == 0.25 &&
             out.gen.has_max_output_tokens && out.gen.max_output_tokens == 77 && out.gen.has_seed &&
             out.gen.seed == -3 && !out.gen.has_top_p && !out.gen.has_top_k && out.gen.n_stop == 2 &&
             strcmp(out.gen.stop[1], "\xe2\x9c\x93") == 0 && !ia_gen_config_is_set(&bare_out.gen);
    ia_gen_config g;
    int bad = ia_codec_gen_decode("{\"top_k\":1.5}", &g);
    int none = ia_codec_gen_decode(NULL, &g);
    char *enc = ia_codec_gen_encode(&bare.gen);
    ia_interaction_free(&in);
    ia_interaction_free(&bare);
    if (got == 0) ia_interaction_free(&out);
    if (got2 == 0) ia_interaction_free(&bare_out);
    ia_store_close(s);
    IA_CHECK(ok);
    IA_CHECK(bad == -1 && none == 0 && !ia_gen_config_is_set(&g) && enc == NULL);
}

/* An answer's sampled tokens: kept by owner, model and text hash, read back
 * whole, invisible to another owner or vocabulary, and gone with the interaction
 * that wrote them. */
IA_STORE_TEST(store_output_tokens) {
    char path[512];
    DB_PATH(path, "outtok");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it;
    sample(&it, "v1_tok", "o");
    IA_CHECK(ia_store_put(s, &it, &err) == 0);
    const int32_t toks[] = {5, -1, 70000, 3};
    IA_CHECK(ia_store_tokens_put(s, "o", "demo", "h1", "v1_tok", toks, 4, &err) == 0);
    /* another interaction's answer with the same text: a chain asks for its own */
    ia_interaction it2;
    sample(&it2, "v1_tok2", "o");
    IA_CHECK(ia_store_put(s, &it2, &err) == 0);
    const int32_t other[] = {9, 9};
    IA_CHECK(ia_store_tokens_put(s, "o", "demo", "h1", "v1_tok2", other, 2, &err) == 0);
    int32_t *got = NULL;
    size_t n = 0;
    IA_CHECK(ia_store_tokens_get(s, "o", "demo", "h1", NULL, &got, &n, &err) == 0);
    int newest = got && n == 2 && got[0] == 9;
    free(got);
    IA_CHECK(newest);
    IA_CHECK(ia_store_delete(s, "v1_tok2", "o", &err) == 0);
    ia_interaction_free(&it2);
    IA_CHECK(ia_store_tokens_get(s, "o", "demo", "h1", "v1_tok", &got, &n, &err) == 0);
    int same = got && n == 4 && memcmp(got, toks, sizeof toks) == 0;
    free(got);
    IA_CHECK(same);
    IA_CHECK(ia_store_tokens_get(s, "other", "demo", "h1", NULL, &got, &n, &err) == 0 && !got && n == 0);
    IA_CHECK(ia_store_tokens_get(s, "o", "demo2", "h1", NULL, &got, &n, &err) == 0 && !got);
    IA_CHECK(ia_store_delete(s, "v1_tok", "o", &err) == 0);
    IA_CHECK(ia_store_tokens_get(s, "o", "demo", "h1", NULL, &got, &n, &err) == 0 && !got);
    ia_interaction_free(&it);
    ia_store_close(s);
}
