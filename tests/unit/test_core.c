/* Unit tests of the interaction service (core/) over the real parts: a real
 * SQLite file and the demo model in llama.cpp. They check the chain rebuild
 * (a continued turn sees exactly what a stateless resend of the same history
 * sees), the event log, background runs, cancel, store=false, delete,
 * recovery after a crash and the retention sweeper. */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "core/core.h"
#include "lib/util.h"

typedef struct fixture {
    ia_store *store;
    ia_engine *eng;
    ia_core *core;
    char path[512];
} fixture;

static int fx_open(fixture *f, const char *name, int64_t retention_s, int64_t sweep_s) {
    memset(f, 0, sizeof *f);
    static bool global;
    if (!global) {
        ia_engine_global_init(NULL, false);
        global = true;
    }
    snprintf(f->path, sizeof f->path, "%s/%s.db", ia_test_tmpdir(), name);
    ia_err err = {0};
    f->store = ia_store_open(f->path, &err);
    if (!f->store) return fprintf(stderr, "store: %s\n", err.msg), -1;
    /* One job at a time (parallel 1): tests queue a job behind a running one. */
    ia_engine_opts eo = {.name = "demo", .path = ia_test_demo_model(), .threads = 1, .n_ctx = 2048, .parallel = 1};
    f->eng = ia_engine_load(&eo, &err);
    if (!f->eng) return fprintf(stderr, "engine: %s\n", err.msg), -1;
    ia_core_opts co = {.store = f->store, .engines = &f->eng, .n_engines = 1,
                       .retention_s = retention_s, .sweep_interval_s = sweep_s};
    f->core = ia_core_new(&co, &err);
    if (!f->core) return fprintf(stderr, "core: %s\n", err.msg), -1;
    return 0;
}

static void fx_close(fixture *f) {
    ia_core_free(f->core);
    ia_engine_free(f->eng);
    ia_store_close(f->store);
}

/* A greedy request with the given new user text. */
static void req_text(ia_request *r, const char *text, int max_tokens) {
    memset(r, 0, sizeof *r);
    r->model = ia_strdup("demo");
    r->store = true;
    ia_turn *t = ia_conv_add_turn(&r->input, IA_ROLE_USER);
    ia_turn_add_text(t, text, strlen(text));
    r->gen.has_temperature = true;
    r->gen.temperature = 0;
    r->gen.has_max_output_tokens = true;
    r->gen.max_output_tokens = max_tokens;
}

static const char *out_text(const ia_interaction *it) {
    return it->output.n ? it->output.items[it->output.n - 1].text : NULL;
}

IA_TEST(core_chain_equals_stateless_history) {
    fixture f;
    IA_CHECK(fx_open(&f, "chain", 0, 0) == 0);
    ia_err err = {0};
    ia_request r;
    ia_interaction t1 = {0}, t2 = {0}, t3 = {0}, s3 = {0};
    req_text(&r, "Hi, my name is Phil.", 8);
    r.system_instruction = ia_strdup("Be brief.");
    IA_CHECK(ia_core_create(f.core, "", &r, &t1, NULL, &err) == 0);
    IA_CHECK(t1.status == IA_STATUS_INCOMPLETE /* 8 tokens, no end: cut */);
    IA_CHECK(t1.has_usage && t1.usage.output > 0 && t1.usage.input > 0);
    IA_CHECK(strncmp(t1.id, "v1_", 3) == 0);

    req_text(&r, "What is my name?", 8);
    r.previous_interaction_id = ia_strdup(t1.id);
    IA_CHECK(ia_core_create(f.core, "", &r, &t2, NULL, &err) == 0);
    IA_CHECK_STREQ(t2.previous_id, t1.id);
    /* Only history is inherited: no system instruction on turn 2. */
    IA_CHECK(t2.system_instruction == NULL);
    /* The chain's root is carried in the id (field 1 of Google's id). */
    char root1[24], own1[24], root2[24], own2[24];
    IA_CHECK(ia_id_parse(t1.id, root1, own1) == 0 && ia_id_parse(t2.id, root2, own2) == 0);
    IA_CHECK_STREQ(root2, root1);
    IA_CHECK(strcmp(own2, own1) != 0);
    IA_CHECK(t2.usage.input > t1.usage.input + 3);

    req_text(&r, "And again?", 8);
    r.previous_interaction_id = ia_strdup(t2.id);
    IA_CHECK(ia_core_create(f.core, "", &r, &t3, NULL, &err) == 0);

    /* The same conversation sent whole, stateless: same prompt, same greedy text. */
    req_text(&r, "Hi, my name is Phil.", 8);
    ia_turn *m = ia_conv_add_turn(&r.input, IA_ROLE_MODEL);
    ia_turn_add_text(m, out_text(&t1), strlen(out_text(&t1)));
    ia_turn *u = ia_conv_add_turn(&r.input, IA_ROLE_USER);
    ia_turn_add_text(u, "What is my name?", 16);
    m = ia_conv_add_turn(&r.input, IA_ROLE_MODEL);
    ia_turn_add_text(m, out_text(&t2), strlen(out_text(&t2)));
    u = ia_conv_add_turn(&r.input, IA_ROLE_USER);
    ia_turn_add_text(u, "And again?", 10);
    r.store = false;
    IA_CHECK(ia_core_create(f.core, "", &r, &s3, NULL, &err) == 0);
    IA_CHECK(s3.usage.input == t3.usage.input);
    IA_CHECK_STREQ(out_text(&s3), out_text(&t3));

    /* store=false: not gettable, not usable as previous. */
    ia_interaction g = {0};
    IA_CHECK(ia_core_get(f.core, "", s3.id, &g, &err) == -1 && err.code == IA_ENOTFOUND);
    req_text(&r, "x", 2);
    r.previous_interaction_id = ia_strdup(s3.id);
    IA_CHECK(ia_core_create(f.core, "", &r, &g, NULL, &err) == -1 && err.code == IA_ENOTFOUND);
    IA_CHECK_CONTAINS(err.msg, "previous_interaction_id");

    /* Another owner sees nothing. */
    IA_CHECK(ia_core_get(f.core, "someone-else", t1.id, &g, &err) == -1 && err.code == IA_ENOTFOUND);
    req_text(&r, "x", 2);
    r.previous_interaction_id = ia_strdup(t1.id);
    IA_CHECK(ia_core_create(f.core, "someone-else", &r, &g, NULL, &err) == -1);
    IA_CHECK(err.code == IA_ENOTFOUND);

    /* Unknown model names the served ones. */
    req_text(&r, "x", 2);
    free(r.model);
    r.model = ia_strdup("nope");
    IA_CHECK(ia_core_create(f.core, "", &r, &g, NULL, &err) == -1 && err.code == IA_ENOTFOUND);
    IA_CHECK_CONTAINS(err.msg, "demo");

    ia_interaction_free(&t1);
    ia_interaction_free(&t2);
    ia_interaction_free(&t3);
    ia_interaction_free(&s3);
    fx_close(&f);
}

IA_TEST(core_stream_events_and_replay) {
    fixture f;
    IA_CHECK(fx_open(&f, "stream", 0, 0) == 0);
    ia_err err = {0};
    ia_request r;
    req_text(&r, "Tell me a story.", 6);
    r.stream = true;
    ia_sub *sub = NULL;
    ia_interaction unused = {0};
    IA_CHECK(ia_core_create(f.core, "", &r, &unused, &sub, &err) == 0 && sub);
    char id[IA_ID_MAX];
    snprintf(id, sizeof id, "%s", ia_sub_id(sub));
    ia_event ev;
    ia_interaction snap;
    int kinds[64], n = 0, rc;
    ia_buf text;
    ia_buf_init(&text, 0);
    while ((rc = ia_sub_next(sub, 5000, &ev, &snap)) != -1) {
        IA_CHECK(rc == 1 && n < 64);
        IA_CHECK(ev.seq == n + 1);
        IA_CHECK_STREQ(snap.id, id);
        kinds[n++] = ev.kind;
        if (ev.kind == IA_EV_CONTENT_DELTA) ia_buf_puts(&text, ev.text);
        if (ev.kind == IA_EV_COMPLETE) IA_CHECK(snap.has_usage && (snap.status == IA_STATUS_COMPLETED || snap.status == IA_STATUS_INCOMPLETE));
        if (ev.kind == IA_EV_START) IA_CHECK(!snap.has_usage && snap.status == IA_STATUS_IN_PROGRESS);
        ia_event_free(&ev);
        ia_interaction_free(&snap);
    }
    ia_sub_close(sub);
    IA_CHECK(n >= 6);
    IA_CHECK(kinds[0] == IA_EV_START && kinds[1] == IA_EV_STATUS);
    IA_CHECK(kinds[2] == IA_EV_CONTENT_START && kinds[3] == IA_EV_CONTENT_DELTA);
    IA_CHECK(kinds[n - 1] == IA_EV_COMPLETE && kinds[n - 2] == IA_EV_STATUS &&
             kinds[n - 3] == IA_EV_CONTENT_STOP);

    /* The stored record matches the deltas; a replay after seq 3 gives the rest. */
    ia_interaction got = {0};
    IA_CHECK(ia_core_get(f.core, "", id, &got, &err) == 0);
    IA_CHECK_STREQ(out_text(&got), text.data);
    IA_CHECK(ia_core_subscribe(f.core, "", id, 3, &sub, &err) == 0);
    int m = 0;
    while ((rc = ia_sub_next(sub, 1000, &ev, &snap)) == 1) {
        IA_CHECK(ev.seq == 4 + m);
        IA_CHECK((int)ev.kind == kinds[3 + m]);
        m++;
        ia_event_free(&ev);
        ia_interaction_free(&snap);
    }
    ia_sub_close(sub);
    IA_CHECK(m == n - 3);
    ia_interaction_free(&got);
    ia_buf_free(&text);
    fx_close(&f);
}

IA_TEST(core_background_cancel_delete) {
    fixture f;
    IA_CHECK(fx_open(&f, "bg", 0, 0) == 0);
    ia_err err = {0};
    ia_request r;
    ia_interaction it = {0}, got = {0};
    req_text(&r, "Go on and on.", 100000);
    r.background = true;
    IA_CHECK(ia_core_create(f.core, "", &r, &it, NULL, &err) == 0);
    IA_CHECK(it.status == IA_STATUS_IN_PROGRESS && !it.has_usage && it.output.n == 0);
    IA_CHECK(ia_core_cancel(f.core, "", it.id, &got, &err) == 0);
    IA_CHECK(got.status == IA_STATUS_CANCELLED);
    IA_CHECK(got.has_usage);
    ia_interaction_free(&got);
    IA_CHECK(ia_core_get(f.core, "", it.id, &got, &err) == 0);
    IA_CHECK(got.status == IA_STATUS_CANCELLED);
    ia_interaction_free(&got);
    /* Cancelling an ended one returns it unchanged. */
    IA_CHECK(ia_core_cancel(f.core, "", it.id, &got, &err) == 0 && got.status == IA_STATUS_CANCELLED);
    ia_interaction_free(&got);
    IA_CHECK(ia_core_delete(f.core, "", it.id, &err) == 0);
    IA_CHECK(ia_core_get(f.core, "", it.id, &got, &err) == -1 && err.code == IA_ENOTFOUND);
    IA_CHECK(ia_core_delete(f.core, "", it.id, &err) == -1 && err.code == IA_ENOTFOUND);

    /* store=false with background is refused. */
    req_text(&r, "x", 2);
    r.background = true;
    r.store = false;
    IA_CHECK(ia_core_create(f.core, "", &r, &got, NULL, &err) == -1 && err.code == IA_EINVALID);
    ia_interaction_free(&it);
    fx_close(&f);
}

IA_TEST(core_recovers_after_crash_and_sweeps) {
    char path[512];
    snprintf(path, sizeof path, "%s/crash.db", ia_test_tmpdir());
    ia_err err = {0};
    /* A row left in_progress by a process that died. */
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it = {0};
    char own[24];
    IA_CHECK(ia_id_new(own) == 0);
    ia_id_format(own, own, it.id);
    it.owner = ia_strdup("");
    it.model = ia_strdup("demo");
    it.status = IA_STATUS_IN_PROGRESS;
    it.created = it.updated = ia_now();
    it.expires = it.created + 3600;
    it.background = true;
    ia_turn_add_text(ia_conv_add_turn(&it.input, IA_ROLE_USER), "hi", 2);
    IA_CHECK(ia_store_put(s, &it, &err) == 0);
    /* what it had flushed: a text block and a built-in tool's call */
    ia_content call = {.kind = IA_CONTENT_TOOL_CALL, .tool = IA_BUILTIN_CODE_EXECUTION, .id = "c1",
                       .text = "{\"code\":\"print(2)\"}"};
    ia_event flushed[] = {
        {.seq = 1, .kind = IA_EV_START},
        {.seq = 2, .kind = IA_EV_CONTENT_START, .text = ""},
        {.seq = 3, .kind = IA_EV_CONTENT_DELTA, .text = "partial answer"},
        {.seq = 4, .kind = IA_EV_CONTENT_STOP},
        {.seq = 5, .kind = IA_EV_CONTENT_START, .index = 1, .ckind = call.kind, .part = &call},
        {.seq = 6, .kind = IA_EV_CONTENT_DELTA, .index = 1, .ckind = call.kind, .part = &call},
        {.seq = 7, .kind = IA_EV_CONTENT_STOP, .index = 1},
    };
    IA_CHECK(ia_store_append_events(s, it.id, flushed, sizeof flushed / sizeof *flushed, &err) == 0);
    ia_store_close(s);

    fixture f;
    memset(&f, 0, sizeof f);
    snprintf(f.path, sizeof f.path, "%s", path);
    ia_engine_global_init(NULL, false);
    f.store = ia_store_open(path, &err);
    ia_engine_opts eo = {.name = "demo", .path = ia_test_demo_model(), .threads = 1, .n_ctx = 1024};
    f.eng = ia_engine_load(&eo, &err);
    IA_CHECK(f.store && f.eng);
    ia_core_opts co = {.store = f.store, .engines = &f.eng, .n_engines = 1, .retention_s = 1,
                       .sweep_interval_s = 1};
    f.core = ia_core_new(&co, &err);
    IA_CHECK(f.core);
    ia_interaction got = {0};
    IA_CHECK(ia_core_get(f.core, "", it.id, &got, &err) == 0);
    IA_CHECK(got.status == IA_STATUS_FAILED);
    IA_CHECK(got.error && strstr(got.error, "stopped"));
    /* the outputs its stored events describe are kept */
    bool kept = got.output.n == 2 && !strcmp(got.output.items[0].text, "partial answer") &&
                got.output.items[1].kind == IA_CONTENT_TOOL_CALL && !strcmp(got.output.items[1].id, "c1");
    ia_interaction_free(&got);
    IA_CHECK(kept);
    /* A resumed stream of it ends with error, status, and nothing more. */
    ia_sub *sub = NULL;
    IA_CHECK(ia_core_subscribe(f.core, "", it.id, 0, &sub, &err) == 0);
    ia_event ev;
    ia_interaction snap;
    int n = 0, saw_error = 0, saw_complete = 0;
    while (ia_sub_next(sub, 1000, &ev, &snap) == 1) {
        if (ev.kind == IA_EV_ERROR) saw_error = 1;
        if (ev.kind == IA_EV_COMPLETE) saw_complete = snap.status == IA_STATUS_FAILED;
        n++;
        ia_event_free(&ev);
        ia_interaction_free(&snap);
    }
    ia_sub_close(sub);
    IA_CHECK(saw_error && saw_complete && n >= 3);

    /* Retention 1 s, sweep every 1 s: a new interaction disappears. */
    ia_request r;
    req_text(&r, "short-lived", 2);
    ia_interaction made = {0};
    IA_CHECK(ia_core_create(f.core, "", &r, &made, NULL, &err) == 0);
    int gone = 0;
    for (int i = 0; i < 50 && !gone; i++) {
        usleep(100 * 1000);
        gone = ia_core_get(f.core, "", made.id, &got, &err) == -1;
        if (!gone) ia_interaction_free(&got);
    }
    IA_CHECK(gone && err.code == IA_ENOTFOUND);
    ia_interaction_free(&made);
    ia_interaction_free(&it);
    fx_close(&f);
}

static int gone_calls;
static bool gone_at_once(void *ud) {
    (void)ud;
    gone_calls++;
    return true;
}

IA_TEST(core_blocking_create_stops_when_client_leaves) {
    fixture f;
    IA_CHECK(fx_open(&f, "gone", 0, 0) == 0);
    ia_err err = {0};
    ia_request r;
    ia_interaction it = {0};
    /* Two long jobs: the second waits in the queue behind the first. */
    req_text(&r, "Go on and on.", 100000);
    r.background = true;
    IA_CHECK(ia_core_create(f.core, "", &r, &it, NULL, &err) == 0);
    char first[IA_ID_MAX];
    snprintf(first, sizeof first, "%s", it.id);
    ia_interaction_free(&it);
    req_text(&r, "Tell me everything.", 100000);
    gone_calls = 0;
    int rc = ia_core_create_ex(f.core, "", &r, &it, NULL, gone_at_once, NULL, &err);
    IA_CHECK(gone_calls >= 1);
    /* Ended cancelled, well before 100000 tokens. */
    IA_CHECK(rc == 0 && it.status == IA_STATUS_CANCELLED);
    IA_CHECK(it.usage.output < 100000);
    ia_interaction_free(&it);
    ia_interaction got = {0};
    IA_CHECK(ia_core_cancel(f.core, "", first, &got, &err) == 0);
    ia_interaction_free(&got);
    fx_close(&f);
}

IA_TEST(core_shutdown_refuses_new_creates) {
    fixture f;
    IA_CHECK(fx_open(&f, "shutdown", 0, 0) == 0);
    ia_err err = {0};
    ia_request r;
    ia_interaction it = {0};
    req_text(&r, "Go on and on.", 100000);
    r.background = true;
    IA_CHECK(ia_core_create(f.core, "", &r, &it, NULL, &err) == 0);
    ia_core_shutdown(f.core);
    ia_engine_free(f.eng);
    f.eng = NULL;
    /* The running background interaction ended failed, with a message, as
     * the engine let go of it; the writer persists it a moment later (until
     * then a GET sees it in progress). */
    ia_interaction got = {0};
    for (int i = 0; i < 100; i++) {
        IA_CHECK(ia_core_get(f.core, "", it.id, &got, &err) == 0);
        if (got.status != IA_STATUS_IN_PROGRESS) break;
        ia_interaction_free(&got);
        usleep(50 * 1000);
    }
    IA_CHECK(got.status == IA_STATUS_FAILED && got.error && strstr(got.error, "stopped"));
    ia_interaction_free(&got);
    req_text(&r, "late", 2);
    IA_CHECK(ia_core_create(f.core, "", &r, &got, NULL, &err) == -1);
    IA_CHECK(err.code == IA_EOVERLOADED && err.retry_after > 0);
    ia_interaction_free(&it);
    ia_core_free(f.core);
    ia_store_close(f.store);
}

/* ---- who writes a run to the store ------------------------------------------
 * The unit test binary is linked with --wrap for the store's three run
 * writes (Makefile, UNIT_WRAP): while `watching`, each call is counted, and
 * counted again when it is not made on the core's writer thread. The
 * create's own first append (the start events, seq 1, before generation)
 * is the create's and is left out. */
#include <stdatomic.h>

#include "core/writer.h"

int __real_ia_store_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err);
int __real_ia_store_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n, ia_err *err);
int __real_ia_store_tokens_put(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                               const int32_t *toks, size_t n, ia_err *err);
int __wrap_ia_store_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err);
int __wrap_ia_store_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n, ia_err *err);
int __wrap_ia_store_tokens_put(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                               const int32_t *toks, size_t n, ia_err *err);

static atomic_bool watching;
static atomic_int n_finish, n_append, n_tokens, n_elsewhere;

static void count_write(atomic_int *n) {
    if (!atomic_load(&watching)) return;
    atomic_fetch_add(n, 1);
    if (!ia_writer_on_thread()) atomic_fetch_add(&n_elsewhere, 1);
}

int __wrap_ia_store_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err) {
    count_write(&n_finish);
    return __real_ia_store_finish(s, it, evs, n, err);
}

int __wrap_ia_store_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n, ia_err *err) {
    if (!(n && evs[0].seq == 1)) count_write(&n_append);
    return __real_ia_store_append_events(s, id, evs, n, err);
}

int __wrap_ia_store_tokens_put(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                               const int32_t *toks, size_t n, ia_err *err) {
    count_write(&n_tokens);
    return __real_ia_store_tokens_put(s, owner, vocab, hash, id, toks, n, err);
}

IA_TEST(core_runs_are_written_by_the_writer_thread) {
    fixture f;
    IA_CHECK(fx_open(&f, "writer", 0, 0) == 0);
    ia_err err = {0};
    ia_request r;
    ia_interaction it = {0}, got = {0};
    atomic_store(&n_finish, 0);
    atomic_store(&n_append, 0);
    atomic_store(&n_tokens, 0);
    atomic_store(&n_elsewhere, 0);
    atomic_store(&watching, true);
    /* 80 tokens: flushed in the middle (every 32 events), then finished,
     * an answer of plain text whose tokens are kept. */
    req_text(&r, "Go on and on.", 80);
    r.stream = true;
    ia_sub *sub = NULL;
    IA_CHECK(ia_core_create(f.core, "", &r, &it, &sub, &err) == 0 && sub);
    char id[IA_ID_MAX];
    snprintf(id, sizeof id, "%s", ia_sub_id(sub));
    ia_event ev;
    ia_interaction snap;
    int64_t last = 0;
    int rc;
    while ((rc = ia_sub_next(sub, 5000, &ev, &snap)) == 1) {
        IA_CHECK(ev.seq == last + 1);
        last = ev.seq;
        bool complete = ev.kind == IA_EV_COMPLETE;
        ia_event_free(&ev);
        ia_interaction_free(&snap);
        if (!complete) continue;
        /* Told it ended: the record is stored and no longer a live run, so
         * a next turn sent at once continues from it. */
        IA_CHECK(ia_store_get(f.store, id, "", ia_now(), &got, &err) == 0);
        IA_CHECK(got.status == IA_STATUS_INCOMPLETE && got.output.n == 1);
        ia_interaction_free(&got);
        ia_event *stored = NULL;
        size_t n_stored = 0;
        IA_CHECK(ia_store_events(f.store, id, 0, &stored, &n_stored, &err) == 0);
        ia_events_free(stored, n_stored);
        IA_CHECK((int64_t)n_stored == last);
        req_text(&r, "And then?", 2);
        r.previous_interaction_id = ia_strdup(id);
        IA_CHECK(ia_core_create(f.core, "", &r, &got, NULL, &err) == 0);
        ia_interaction_free(&got);
    }
    IA_CHECK(rc == -1 && last > 40); /* more events than one flush's worth */
    ia_sub_close(sub);
    atomic_store(&watching, false);
    /* Both runs finished and one answer's tokens kept, the long one's
     * events flushed while it ran: every write on the writer's thread. */
    IA_CHECK(atomic_load(&n_finish) == 2 && atomic_load(&n_tokens) >= 1 && atomic_load(&n_append) >= 1);
    IA_CHECK(atomic_load(&n_elsewhere) == 0);
    ia_interaction_free(&it);
    fx_close(&f);
}
