/* test_engine: the in-process llama.cpp engine on the project's demo model
 * (random weights, fixed seed: greedy output is deterministic) and, when
 * ../shared/models is present, on the real stories260K model; plus the
 * output filter (stop sequences and UTF-8 hold-back) on hand-made pieces. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/outfilter.h"
#include "lib/util.h"
#include "unit.h"

/* ---- a synchronous caller ------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, started;
    int n_text_calls;
    int stop_after_calls;   /* on_item returns 1 on this text delta (0 = never) */
    int sleep_ms;           /* on_item sleeps this long per text delta */
    atomic_bool *cancel_on_start;
    ia_buf text;
    ia_engine_result res;
} sink;

static void sink_init(sink *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    ia_buf_init(&s->text, 0);
}

static void sink_free(sink *s) {
    ia_buf_free(&s->text);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

static void on_start(void *ud, int64_t n_prompt) {
    sink *s = ud;
    (void)n_prompt;
    if (s->cancel_on_start) atomic_store(s->cancel_on_start, true);
    pthread_mutex_lock(&s->mu);
    s->started = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int on_item(void *ud, const ia_engine_item *it) {
    sink *s = ud;
    if (it->kind != IA_ITEM_TEXT || !it->len) return 0;
    ia_buf_append(&s->text, it->delta, it->len);
    s->n_text_calls++;
    if (s->sleep_ms) usleep((useconds_t)s->sleep_ms * 1000);
    return s->stop_after_calls && s->n_text_calls >= s->stop_after_calls;
}

static void on_done(void *ud, const ia_engine_result *res) {
    sink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->res = *res;
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void sink_wait(sink *s, bool for_start) {
    pthread_mutex_lock(&s->mu);
    while (!(for_start ? s->started || s->done : s->done)) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static int submit(ia_engine *e, const char *user, const ia_engine_params *p, sink *s,
                  atomic_bool *cancel, ia_err *err) {
    ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo."}, {.role = IA_MSG_USER, .text = user}};
    ia_engine_cb cb = {s, on_start, on_item, on_done};
    return ia_engine_submit(e, m, 2, p, &cb, cancel, err);
}

/* Runs one job to the end; 0 or -1 (submit refused). */
static int run(ia_engine *e, const char *user, const ia_engine_params *p, sink *s) {
    if (submit(e, user, p, s, NULL, NULL) != 0) return -1;
    sink_wait(s, false);
    return 0;
}

static ia_engine *load_demo_par(int n_ctx, int max_queue, int parallel) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "demo", .path = ia_test_demo_model(), .threads = 0,
                        .n_ctx = n_ctx, .max_queue = max_queue, .parallel = parallel};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    return e;
}

static ia_engine *load_demo(int n_ctx, int max_queue) { return load_demo_par(n_ctx, max_queue, 0); }

static ia_engine_params greedy(int64_t max_tokens) {
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = max_tokens};
    return p;
}

/* ---- the demo model ------------------------------------------------------- */

IA_TEST(engine_demo_loads) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    int ok = strcmp(ia_engine_name(e), "demo") == 0 && strcmp(ia_engine_template_kind(e), "jinja") == 0 &&
             ia_engine_n_ctx(e) == 4096;
    ia_engine_free(e);
    IA_CHECK(ok);
}

IA_TEST(engine_missing_model_is_error) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "nope", .path = "/nonexistent/model.gguf"};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    IA_CHECK(e == NULL);
    IA_CHECK(err.code == IA_EINVALID);
    IA_CHECK_CONTAINS(err.msg, "/nonexistent/model.gguf");
}

IA_TEST(engine_greedy_deterministic) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = greedy(48);
    sink a, b;
    sink_init(&a);
    sink_init(&b);
    run(e, "Hello there", &p, &a);
    run(e, "Hello there", &p, &b);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    int same = a.text.len > 0 && a.text.len == b.text.len && memcmp(a.text.data, b.text.data, a.text.len) == 0;
    int counts = a.res.n_prompt > 5 && a.res.n_prompt == b.res.n_prompt && a.res.n_output == b.res.n_output &&
                 a.res.n_output >= 1 && a.res.n_output <= 48;
    int valid = ia_utf8_valid(a.text.data, a.text.len);
    int stats = st.jobs_done == 2 && st.tokens_generated == a.res.n_output + b.res.n_output && st.queued == 0;
    if (!same) fprintf(stderr, "  a: %s\n  b: %s\n", a.text.data, b.text.data);
    sink_free(&a);
    sink_free(&b);
    IA_CHECK(same);
    IA_CHECK(counts);
    IA_CHECK(valid);
    IA_CHECK(stats);
}

/* Greedy decoding takes the first largest logit without the sampler chain
 * (sched.c, argmax_sample); the chain with top-k 1 picks the same token
 * through llama.cpp's own samplers. The same text, token for token. */
IA_TEST(engine_greedy_fast_path_equals_the_chain) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = greedy(64);
    ia_engine_params k1 = {.has_temperature = true, .temperature = 1.0, .has_seed = true, .seed = 5,
                           .has_top_k = true, .top_k = 1, .max_tokens = 64};
    const char *prompts[] = {"Hello there", "Tell me a story", "The cat sat"};
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        sink a, b;
        sink_init(&a);
        sink_init(&b);
        run(e, prompts[i], &p, &a);
        run(e, prompts[i], &k1, &b);
        bool same = a.text.len > 0 && strcmp(a.text.data, b.text.data) == 0 && a.res.n_output == b.res.n_output;
        if (!same) fprintf(stderr, "  argmax: %s\n  top-k 1: %s\n", a.text.data, b.text.data);
        ok &= same;
        sink_free(&a);
        sink_free(&b);
    }
    ia_engine_free(e);
    IA_CHECK(ok);
}

IA_TEST(engine_seeded_sampling_deterministic) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = {.has_temperature = true, .temperature = 1.5, .has_seed = true, .seed = 42,
                          .has_top_k = true, .top_k = 0, .has_top_p = true, .top_p = 1.0, .max_tokens = 32};
    sink a, b, c, g;
    sink_init(&a);
    sink_init(&b);
    sink_init(&c);
    sink_init(&g);
    run(e, "Tell me a story", &p, &a);
    run(e, "Tell me a story", &p, &b);
    p.seed = 43;
    run(e, "Tell me a story", &p, &c);
    ia_engine_params gp = greedy(32);
    run(e, "Tell me a story", &gp, &g);
    ia_engine_free(e);
    int same = a.text.len > 0 && strcmp(a.text.data, b.text.data) == 0;
    /* Another seed, and greedy, give other text (at temperature 1.5 over a
     * 600-token vocabulary a collision is practically impossible). */
    int differ = strcmp(a.text.data, c.text.data) != 0 && strcmp(a.text.data, g.text.data) != 0;
    sink_free(&a);
    sink_free(&b);
    sink_free(&c);
    sink_free(&g);
    IA_CHECK(same);
    IA_CHECK(differ);
}

IA_TEST(engine_max_tokens) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = greedy(64), p5 = greedy(5);
    sink full, cut;
    sink_init(&full);
    sink_init(&cut);
    run(e, "Count with me", &p, &full);
    run(e, "Count with me", &p5, &cut);
    ia_engine_free(e);
    /* With 5 tokens: either LENGTH after exactly 5, or the model ended
     * earlier by itself; in both cases a prefix of the longer run. */
    int ok = cut.res.n_output <= 5 &&
             (cut.res.finish == IA_FINISH_LENGTH ? cut.res.n_output == 5 : cut.res.finish == IA_FINISH_STOP) &&
             strncmp(full.text.data, cut.text.data, cut.text.len) == 0 && full.res.n_output > 5;
    if (!ok) fprintf(stderr, "  finish %d n_output %lld / full %lld\n", (int)cut.res.finish,
                     (long long)cut.res.n_output, (long long)full.res.n_output);
    sink_free(&full);
    sink_free(&cut);
    IA_CHECK(ok);
}

IA_TEST(engine_stop_sequence) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = greedy(64);
    sink full, cut;
    sink_init(&full);
    sink_init(&cut);
    run(e, "Say something", &p, &full);
    /* Pick two ASCII letters from the middle of the free run as the stop
     * sequence; the stopped run must be exactly the text before their first
     * occurrence. */
    const char *t = full.text.data;
    size_t at = 0;
    for (size_t i = full.text.len / 3; i + 1 < full.text.len; i++)
        if ((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z' && (t[i + 1] | 0x20) >= 'a' && (t[i + 1] | 0x20) <= 'z') {
            at = i;
            break;
        }
    char stop[3] = {t[at], t[at + 1], 0};
    const char *stops[] = {"\x01never", stop};
    const char *first = strstr(t, stop);
    p.stop = stops;
    p.n_stop = 2;
    run(e, "Say something", &p, &cut);
    ia_engine_free(e);
    int ok = at > 0 && first && cut.res.finish == IA_FINISH_STOP &&
             cut.text.len == (size_t)(first - t) && strncmp(cut.text.data, t, cut.text.len) == 0 &&
             !strstr(cut.text.data, stop);
    if (!ok) fprintf(stderr, "  stop '%s'\n  full: %s\n  cut:  %s\n", stop, t, cut.text.data);
    sink_free(&full);
    sink_free(&cut);
    IA_CHECK(ok);
}

IA_TEST(engine_cancel) {
    ia_engine *e = load_demo(0, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = greedy(1000);
    /* The flag, set as generation begins, stops it within a token. */
    atomic_bool cancel;
    atomic_init(&cancel, false);
    sink a;
    sink_init(&a);
    a.cancel_on_start = &cancel;
    int rc = submit(e, "Go on forever", &p, &a, &cancel, NULL);
    sink_wait(&a, false);
    /* on_item asking to stop does the same, with no call after it. */
    sink b;
    sink_init(&b);
    b.stop_after_calls = 2;
    run(e, "Go on forever", &p, &b);
    ia_engine_free(e);
    int ok_a = rc == 0 && a.res.finish == IA_FINISH_CANCELLED && a.res.n_output <= 1;
    int ok_b = b.res.finish == IA_FINISH_CANCELLED && b.n_text_calls == 2 && b.res.n_output < 1000;
    sink_free(&a);
    sink_free(&b);
    IA_CHECK(ok_a);
    IA_CHECK(ok_b);
}

IA_TEST(engine_queue_overflow_and_free) {
    ia_engine *e = load_demo_par(0, 1, 1); /* one slot: a runs, b waits, c is refused */
    IA_CHECK(e != NULL);
    ia_engine_params p = greedy(4000);
    sink a, b, c;
    sink_init(&a);
    sink_init(&b);
    sink_init(&c);
    a.sleep_ms = 5; /* a slow consumer keeps job a running */
    ia_err err = {0};
    int rc_a = submit(e, "first", &p, &a, NULL, &err);
    sink_wait(&a, true);
    int rc_b = submit(e, "second", &p, &b, NULL, &err);
    int rc_c = submit(e, "third", &p, &c, NULL, &err);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    /* Freeing stops the running job and cancels the queued one. */
    ia_engine_free(e);
    int ok = rc_a == 0 && rc_b == 0 && rc_c == -1 && err.code == IA_EOVERLOADED && err.retry_after >= 1 &&
             st.running == 1 && st.queued == 1 && a.done && a.res.finish == IA_FINISH_CANCELLED && b.done &&
             b.res.finish == IA_FINISH_CANCELLED && b.res.n_output == 0 && !c.done;
    if (!ok) fprintf(stderr, "  rc %d %d %d code %d ra %d running %lld queued %lld a %d b %d\n", rc_a, rc_b, rc_c,
                     (int)err.code, err.retry_after, (long long)st.running, (long long)st.queued,
                     (int)a.res.finish, (int)b.res.finish);
    sink_free(&a);
    sink_free(&b);
    sink_free(&c);
    IA_CHECK(ok);
}

IA_TEST(engine_prompt_too_long) {
    ia_engine *e = load_demo(64, 0);
    IA_CHECK(e != NULL);
    ia_buf long_text;
    ia_buf_init(&long_text, 0);
    for (int i = 0; i < 100; i++) ia_buf_puts(&long_text, "the cat was happy ");
    ia_engine_params p = greedy(8);
    sink a, b;
    sink_init(&a);
    sink_init(&b);
    run(e, long_text.data, &p, &a);
    /* The engine is still fine afterwards. */
    run(e, "hi", &p, &b);
    ia_engine_free(e);
    int ok = a.res.finish == IA_FINISH_ERROR && a.res.err.code == IA_EINVALID && a.res.n_prompt > 64 &&
             a.text.len == 0 && b.res.finish != IA_FINISH_ERROR && b.res.n_output > 0;
    if (!ok) fprintf(stderr, "  finish %d code %d n_prompt %lld: %s\n", (int)a.res.finish, (int)a.res.err.code,
                     (long long)a.res.n_prompt, a.res.err.msg);
    ia_buf_free(&long_text);
    sink_free(&a);
    sink_free(&b);
    IA_CHECK(ok);
}

/* ---- a real model ---------------------------------------------------------- */

IA_TEST(engine_stories260k_english) {
    const char *dir = ia_test_shared_models();
    if (!dir) {
        fprintf(stderr, "SKIPPED (../shared/models absent: stories260K not tested) ");
        return;
    }
    ia_engine_global_init(NULL, false);
    char path[4096];
    snprintf(path, sizeof path, "%s/stories260K.gguf", dir);
    ia_engine_opts o = {.name = "stories", .path = path, .threads = 1};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    IA_CHECK(e != NULL);
    const char *kind = ia_engine_template_kind(e);
    ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Once upon a time"}};
    ia_engine_params p = greedy(60);
    sink s;
    sink_init(&s);
    ia_engine_cb cb = {&s, on_start, on_item, on_done};
    int rc = ia_engine_submit(e, m, 1, &p, &cb, NULL, &err);
    if (rc == 0) sink_wait(&s, false);
    ia_engine_free(e);
    int plain = strcmp(kind, "plain") == 0;
    int english = rc == 0 && (strstr(s.text.data, " the ") || strstr(s.text.data, " was ")) && s.text.len > 40;
    for (size_t i = 0; english && i < s.text.len; i++) {
        unsigned char c = (unsigned char)s.text.data[i];
        if (!(c == '\n' || (c >= 0x20 && c < 0x7f))) english = 0;
    }
    if (!english) fprintf(stderr, "  got: %s\n", s.text.data);
    sink_free(&s);
    IA_CHECK(plain);
    IA_CHECK(english);
}

/* ---- the output filter ------------------------------------------------------ */

static int collect(void *ud, const char *text, size_t len) {
    ia_buf_append(ud, text, len);
    ia_buf_append(ud, "|", 1); /* marks each emission */
    return 0;
}

IA_TEST(outfilter_stop_across_pieces) {
    const char *stops[] = {"END", "xyz"};
    ia_buf out;
    ia_buf_init(&out, 0);
    ia_outfilter f;
    ia_outfilter_init(&f, stops, 2, collect, &out);
    int r1 = ia_outfilter_push(&f, "abc E", 5);  /* "E" may start END: held */
    int r2 = ia_outfilter_push(&f, "N", 1);      /* "EN" still may */
    int r3 = ia_outfilter_push(&f, "D tail", 6); /* "END" completes */
    ia_outfilter_flush(&f);
    ia_outfilter_free(&f);
    int ok = r1 == IA_OUTFILTER_OK && r2 == IA_OUTFILTER_OK && r3 == IA_OUTFILTER_STOP_SEQ;
    IA_CHECK(ok);
    IA_CHECK_STREQ(out.data, "abc |");
    ia_buf_free(&out);
}

IA_TEST(outfilter_false_alarm_released) {
    const char *stops[] = {"END", "xyz"};
    ia_buf out;
    ia_buf_init(&out, 0);
    ia_outfilter f;
    ia_outfilter_init(&f, stops, 2, collect, &out);
    ia_outfilter_push(&f, "a E", 3);
    ia_outfilter_push(&f, "Nd", 2); /* "ENd" is not "END": all released */
    ia_outfilter_push(&f, " EN", 3);
    ia_outfilter_push(&f, "x", 1);  /* "ENx": released, but "x" may start xyz */
    ia_outfilter_push(&f, " E", 2);
    ia_outfilter_flush(&f);         /* the held "E" is flushed at the end */
    ia_outfilter_free(&f);
    IA_CHECK_STREQ(out.data, "a |ENd| |EN|x |E|");
    ia_buf_free(&out);
}

IA_TEST(outfilter_utf8_split) {
    ia_buf out;
    ia_buf_init(&out, 0);
    ia_outfilter f;
    ia_outfilter_init(&f, NULL, 0, collect, &out);
    /* "é" (C3 A9) and "€" (E2 82 AC) arrive split across pieces. */
    ia_outfilter_push(&f, "caf\xC3", 4);
    ia_outfilter_push(&f, "\xA9 \xE2\x82", 4);
    ia_outfilter_push(&f, "\xAC", 1);
    ia_outfilter_push(&f, "x\xE2", 2); /* ends on a lone lead byte */
    ia_outfilter_flush(&f);           /* which becomes U+FFFD */
    ia_outfilter_free(&f);
    IA_CHECK_STREQ(out.data, "caf|\xC3\xA9 |\xE2\x82\xAC|x|\xEF\xBF\xBD|");
    ia_buf_free(&out);
}
