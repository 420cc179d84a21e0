/* test_engine_batch: continuous batching and prefix reuse in the engine, on
 * the demo model (random weights, fixed seed) and stories260K when
 * ../shared/models is present. Outputs of jobs run together, alone, cold and
 * from a reused prefix (kept in the context, in RAM, or on disk across a
 * restart) must be the same tokens; the cache's own byte accounting must stay
 * under its budget. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "lib/util.h"
#include "bsink.h"
#include "unit.h"

static ia_engine *load(const char *path, const char *name, int parallel, bool cold, const char *dir,
                       int64_t ram) {
    return load_ctx(path, name, parallel, 1, cold, dir, ram);
}

static const char *stories_path(char *buf, size_t cap) {
    const char *dir = ia_test_shared_models();
    if (!dir) return NULL;
    snprintf(buf, cap, "%s/stories260K.gguf", dir);
    return buf;
}

#define NJ 4
static const char *PROMPTS[NJ] = {"Once upon a time", "The little dog", "Tom and Lily went to the park",
                                  "She had a red ball"};

/* Runs NJ jobs together on a parallel engine and each alone on a one-slot
 * cold engine; greedy and seeded sampling alike. */
static int batched_vs_alone(const char *path, const char *name, bool with_system, int contexts) {
    ia_engine *par = load_ctx(path, name, NJ, contexts, true, NULL, 0), *one = load(path, name, 1, true, NULL, 0);
    if (!par || !one) {
        ia_engine_free(par);
        ia_engine_free(one);
        return 0;
    }
    bsink a[NJ], b[NJ];
    ia_engine_params p[NJ];
    for (int i = 0; i < NJ; i++) {
        bs_init(&a[i]);
        bs_init(&b[i]);
        p[i] = (ia_engine_params){.has_temperature = true, .temperature = 0.0, .max_tokens = 40 + 8 * i};
        if (i == 3) p[i] = (ia_engine_params){.has_temperature = true, .temperature = 1.0, .has_seed = true,
                                              .seed = 7, .max_tokens = 48};
    }
    int ok = 1;
    for (int i = 0; i < NJ; i++) {
        ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo."}, {.role = IA_MSG_USER, .text = PROMPTS[i]}};
        ok &= bs_submit(par, with_system ? m : m + 1, with_system ? 2 : 1, &p[i], &a[i], NULL) == 0;
    }
    for (int i = 0; i < NJ; i++) bs_wait(&a[i]);
    for (int i = 0; i < NJ; i++) {
        ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo."}, {.role = IA_MSG_USER, .text = PROMPTS[i]}};
        ok &= bs_submit(one, with_system ? m : m + 1, with_system ? 2 : 1, &p[i], &b[i], NULL) == 0;
        bs_wait(&b[i]);
    }
    ia_engine_stats st;
    ia_engine_get_stats(par, &st);
    ia_engine_free(par);
    ia_engine_free(one);
    for (int i = 0; i < NJ; i++) {
        bool same = a[i].text.len > 0 && a[i].text.len == b[i].text.len &&
                    memcmp(a[i].text.data, b[i].text.data, a[i].text.len) == 0 &&
                    a[i].res.n_output == b[i].res.n_output && a[i].res.finish == b[i].res.finish;
        if (!same) fprintf(stderr, "  job %d batched: %s\n  job %d alone:   %s\n", i, a[i].text.data, i,
                           b[i].text.data);
        ok &= same;
        bs_free(&a[i]);
        bs_free(&b[i]);
    }
    /* They really ran together, on every context. */
    if (st.max_batch_seqs < 2 || st.max_contexts_busy != contexts)
        fprintf(stderr, "  max_batch_seqs %lld, contexts busy at once %lld\n", (long long)st.max_batch_seqs,
                (long long)st.max_contexts_busy);
    ok &= st.max_batch_seqs >= 2 && st.max_contexts_busy == contexts && st.jobs_done == NJ;
    return ok;
}

IA_TEST(engine_batched_equals_alone_demo) { IA_CHECK(batched_vs_alone(ia_test_demo_model(), "demo", true, 1)); }

/* Two contexts sharing the weights, two sequences each: the same tokens as
 * one job alone on one context. */
IA_TEST(engine_two_contexts_equal_alone_demo) {
    IA_CHECK(batched_vs_alone(ia_test_demo_model(), "demo", true, 2));
}

IA_TEST(engine_batched_equals_alone_stories260k) {
    char buf[4096];
    const char *path = stories_path(buf, sizeof buf);
    if (!path) {
        fprintf(stderr, "SKIPPED (../shared/models absent) ");
        return;
    }
    IA_CHECK(batched_vs_alone(path, "stories", false, 1));
}

IA_TEST(engine_cancel_frees_slot) {
    ia_engine *e = load(ia_test_demo_model(), "demo", 1, false, NULL, 0);
    IA_CHECK(e != NULL);
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 100000};
    ia_engine_params q = {.has_temperature = true, .temperature = 0.0, .max_tokens = 16};
    atomic_bool cancel;
    atomic_init(&cancel, false);
    bsink a, b;
    bs_init(&a);
    bs_init(&b);
    ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Go on forever"}};
    ia_engine_msg m2[] = {{.role = IA_MSG_USER, .text = "Then me"}};
    /* a takes the only slot and cancels itself at its first text; b waits
     * behind it (max_tokens 100000 would otherwise hold the slot for good). */
    a.cancel_on_start = &cancel;
    int rc = bs_submit(e, m, 1, &p, &a, &cancel);
    rc |= bs_submit(e, m2, 1, &q, &b, NULL);
    bs_wait(&a);
    bs_wait(&b);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    int ok = rc == 0 && a.res.finish == IA_FINISH_CANCELLED && a.res.n_output < 100000 &&
             b.res.finish != IA_FINISH_CANCELLED && b.res.finish != IA_FINISH_ERROR && b.res.n_output > 0 &&
             st.running == 0 && st.queued == 0 && st.jobs_done == 2;
    if (!ok) fprintf(stderr, "  a %d/%lld b %d/%lld\n", (int)a.res.finish, (long long)a.res.n_output,
                     (int)b.res.finish, (long long)b.res.n_output);
    bs_free(&a);
    bs_free(&b);
    IA_CHECK(ok);
}

/* ---- prefix reuse ------------------------------------------------------------ */

/* Turn 1 then turn 2 of one chain on e; the second turn's sink in *t2. */
static void chain(ia_engine *e, const char *first_answer, bsink *t2) {
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 24};
    ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo. Tell long stories about cats and dogs."},
                         {.role = IA_MSG_USER, .text = "Tell me about the cat that sat on the mat and the dog that ran."},
                         {.role = IA_MSG_ASSISTANT, .text = first_answer},
                         {.role = IA_MSG_USER, .text = "And then what happened?"}};
    bs_submit(e, m, 4, &p, t2, NULL);
    bs_wait(t2);
}

static char *turn1(ia_engine *e, ia_engine_result *res) {
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 40};
    ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo. Tell long stories about cats and dogs."},
                         {.role = IA_MSG_USER, .text = "Tell me about the cat that sat on the mat and the dog that ran."}};
    bsink s;
    bs_init(&s);
    bs_submit(e, m, 2, &p, &s, NULL);
    bs_wait(&s);
    *res = s.res;
    char *t = ia_strdup(s.text.data ? s.text.data : "");
    bs_free(&s);
    return t;
}

IA_TEST(engine_chain_reuses_prefix) {
    ia_engine *e = load(ia_test_demo_model(), "demo", 2, false, NULL, 0);
    ia_engine *cold = load(ia_test_demo_model(), "demo", 1, true, NULL, 0);
    IA_CHECK(e && cold);
    ia_engine_result r1;
    char *a1 = turn1(e, &r1);
    bsink hot, ref;
    bs_init(&hot);
    bs_init(&ref);
    chain(e, a1, &hot);
    chain(cold, a1, &ref);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    ia_engine_free(cold);
    /* Everything of turn 1's prompt at least is reused. */
    int ok = r1.n_cached == 0 && hot.res.n_cached >= r1.n_prompt && hot.res.n_cached < hot.res.n_prompt &&
             ref.res.n_cached == 0 && hot.res.n_prompt == ref.res.n_prompt && hot.text.len > 0 &&
             strcmp(hot.text.data, ref.text.data) == 0 && hot.res.n_output == ref.res.n_output &&
             st.tokens_cached == hot.res.n_cached;
    if (!ok || getenv("DBG")) fprintf(stderr, "  turn1 prompt %lld; cached %lld of %lld\n  hot: %s\n  ref: %s\n",
                     (long long)r1.n_prompt, (long long)hot.res.n_cached, (long long)hot.res.n_prompt,
                     hot.text.data, ref.text.data);
    free(a1);
    bs_free(&hot);
    bs_free(&ref);
    IA_CHECK(ok);
}

IA_TEST(engine_chain_restored_after_restart) {
    char *dir = ia_asprintf("%s/kv-restart", ia_test_tmpdir());
    ia_engine *e = load(ia_test_demo_model(), "demo", 2, false, dir, 0);
    IA_CHECK(e != NULL);
    ia_engine_result r1;
    char *a1 = turn1(e, &r1);
    ia_engine_free(e); /* saves its sequences under dir */
    e = load(ia_test_demo_model(), "demo", 2, false, dir, 0);
    ia_engine *cold = load(ia_test_demo_model(), "demo", 1, true, NULL, 0);
    bsink hot, ref;
    bs_init(&hot);
    bs_init(&ref);
    ia_engine_stats st0, st;
    if (e) ia_engine_get_stats(e, &st0);
    if (e && cold) {
        chain(e, a1, &hot);
        chain(cold, a1, &ref);
        ia_engine_get_stats(e, &st);
    }
    ia_engine_free(e);
    ia_engine_free(cold);
    int ok = e && cold && st0.disk_entries >= 1 && st.restored == 1 && hot.res.n_cached >= r1.n_prompt &&
             strcmp(hot.text.data, ref.text.data) == 0 && hot.res.n_output == ref.res.n_output;
    if ((!ok || getenv("DBG")) && e && cold)
        fprintf(stderr, "  disk entries %lld restored %lld cached %lld\n  hot: %s\n  ref: %s\n",
                (long long)st0.disk_entries, (long long)st.restored, (long long)hot.res.n_cached,
                hot.text.data, ref.text.data);
    free(a1);
    free(dir);
    bs_free(&hot);
    bs_free(&ref);
    IA_CHECK(ok);
}

/* Many distinct conversations through one slot: each pushes the last out of
 * the context into RAM, RAM over its budget spills to disk; the budget holds
 * at every step, and the first conversation still comes back (from disk). */
IA_TEST(engine_cache_budget_and_spill) {
    char *dir = ia_asprintf("%s/kv-budget", ia_test_tmpdir());
    ia_engine_global_init(NULL, false);
    /* Learn one conversation's state size first. */
    ia_engine *e = load(ia_test_demo_model(), "demo", 1, false, NULL, 1 << 30);
    IA_CHECK(e != NULL);
    char user[512];
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 8};
    int64_t one = 0;
    for (int i = 0; i < 2; i++) {
        snprintf(user, sizeof user, "Story %d: the cat, the dog, the bird, the fish and the frog all went "
                 "to the big green park by the river to play with a ball and a kite all day long.", i);
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = user}};
        bsink s;
        bs_init(&s);
        bs_submit(e, m, 1, &p, &s, NULL);
        bs_wait(&s);
        bs_free(&s);
    }
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    one = st.ram_bytes;
    ia_engine_free(e);
    IA_CHECK(one > 0 && st.saved == 1);

    int64_t budget = one * 5 / 2; /* two fit, not three */
    e = load(ia_test_demo_model(), "demo", 1, false, dir, budget);
    IA_CHECK(e != NULL);
    int ok = 1;
    for (int i = 0; i < 8 && ok; i++) {
        snprintf(user, sizeof user, "Story %d: the cat, the dog, the bird, the fish and the frog all went "
                 "to the big green park by the river to play with a ball and a kite all day long.", i);
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = user}};
        bsink s;
        bs_init(&s);
        bs_submit(e, m, 1, &p, &s, NULL);
        bs_wait(&s);
        ia_engine_get_stats(e, &st);
        ok &= st.ram_bytes <= budget && st.ram_peak <= budget && st.ram_budget == budget &&
              st.disk_bytes <= st.disk_budget;
        bs_free(&s);
    }
    ia_engine_stats mid = st;
    /* Back to story 0: long gone from RAM, found on disk. */
    snprintf(user, sizeof user, "Story 0: the cat, the dog, the bird, the fish and the frog all went "
             "to the big green park by the river to play with a ball and a kite all day long.");
    ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = user}};
    bsink s;
    bs_init(&s);
    bs_submit(e, m, 1, &p, &s, NULL);
    bs_wait(&s);
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    ok &= mid.saved >= 7 && mid.evicted_to_disk >= 4 && mid.ram_entries <= 2 && mid.disk_entries >= 4 &&
          st.restored == mid.restored + 1 && s.res.n_cached == s.res.n_prompt - 1;
    if (!ok || getenv("DBG")) fprintf(stderr, "  budget %lld ram %lld peak %lld saved %lld spilled %lld disk %lld restored %lld "
                     "cached %lld/%lld\n", (long long)budget, (long long)mid.ram_bytes, (long long)mid.ram_peak,
                     (long long)mid.saved, (long long)mid.evicted_to_disk, (long long)mid.disk_entries,
                     (long long)st.restored, (long long)s.res.n_cached, (long long)s.res.n_prompt);
    bs_free(&s);
    free(dir);
    IA_CHECK(ok);
}

/* Saved states belong to the model (file, name) that computed them: another
 * model pointed at the same folder ignores them, the same one finds them. */
IA_TEST(engine_cache_files_of_another_model_ignored) {
    char *dir = ia_asprintf("%s/kv-other", ia_test_tmpdir());
    ia_engine *e = load(ia_test_demo_model(), "demo", 1, false, dir, 0);
    IA_CHECK(e != NULL);
    ia_engine_result r1;
    free(turn1(e, &r1));
    ia_engine_free(e);
    ia_engine *other = load(ia_test_demo_model(), "other", 1, false, dir, 0);
    ia_engine *same = load(ia_test_demo_model(), "demo", 1, false, dir, 0);
    ia_engine_stats so = {0}, ss = {0};
    if (other) ia_engine_get_stats(other, &so);
    if (same) ia_engine_get_stats(same, &ss);
    ia_engine_free(other);
    ia_engine_free(same);
    free(dir);
    IA_CHECK(other && same);
    IA_CHECK(so.disk_entries == 0 && ss.disk_entries == 1);
}

/* A chain's next turn taken by a context that does not hold its history is
 * sent to the one that does. Two contexts of two slots: blocker b1 holds
 * context P (its engine thread waits in on_start), so turn 1 runs on Q;
 * blocker b2 then holds Q, b1 is cancelled, and turn 2 arrives when P runs
 * fewer jobs: P takes it, finds its prefix in Q and routes it there. */
IA_TEST(engine_chain_routed_to_its_context) {
    ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 4, 2, false, NULL, 0);
    ia_engine *cold = load(ia_test_demo_model(), "demo", 1, true, NULL, 0);
    IA_CHECK(e && cold);
    ia_engine_params bp = {.has_temperature = true, .temperature = 0.0, .max_tokens = 100000};
    atomic_bool c1, c2;
    atomic_init(&c1, false);
    atomic_init(&c2, false);
    bsink b1, b2, hot, ref;
    bs_init(&b1);
    bs_init(&b2);
    bs_init(&hot);
    bs_init(&ref);
    b1.gated = b2.gated = true;
    ia_engine_msg m1[] = {{.role = IA_MSG_USER, .text = "Blocker one"}};
    ia_engine_msg m2[] = {{.role = IA_MSG_USER, .text = "Blocker two"}};
    int rc = bs_submit(e, m1, 1, &bp, &b1, &c1);
    bs_wait_started(&b1);
    ia_engine_result r1;
    char *a1 = turn1(e, &r1);
    rc |= bs_submit(e, m2, 1, &bp, &b2, &c2);
    bs_wait_started(&b2);
    atomic_store(&c1, true);
    bs_open(&b1);
    bs_wait(&b1);
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 24};
    ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo. Tell long stories about cats and dogs."},
                         {.role = IA_MSG_USER, .text = "Tell me about the cat that sat on the mat and the dog that ran."},
                         {.role = IA_MSG_ASSISTANT, .text = a1},
                         {.role = IA_MSG_USER, .text = "And then what happened?"}};
    rc |= bs_submit(e, m, 4, &p, &hot, NULL);
    /* Routed or not, turn 2 waits for Q, which b2 holds: let it go. */
    ia_engine_stats mid;
    for (int i = 0; i < 2000; i++) {
        ia_engine_get_stats(e, &mid);
        if (mid.routed > 0) break;
        usleep(1000);
    }
    atomic_store(&c2, true);
    bs_open(&b2);
    bs_wait(&b2);
    bs_wait(&hot);
    chain(cold, a1, &ref);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    ia_engine_free(cold);
    int ok = rc == 0 && b1.res.finish == IA_FINISH_CANCELLED && b2.res.finish == IA_FINISH_CANCELLED &&
             st.routed == 1 && hot.res.n_cached >= r1.n_prompt && hot.res.n_prompt == ref.res.n_prompt &&
             hot.text.len > 0 && strcmp(hot.text.data, ref.text.data) == 0 && hot.res.n_output == ref.res.n_output &&
             st.restored == 0;
    if (!ok || getenv("DBG"))
        fprintf(stderr, "  routed %lld restored %lld; turn1 prompt %lld; cached %lld of %lld\n  hot: %s\n  ref: %s\n",
                (long long)st.routed, (long long)st.restored, (long long)r1.n_prompt, (long long)hot.res.n_cached,
                (long long)hot.res.n_prompt, hot.text.data, ref.text.data);
    free(a1);
    bs_free(&b1);
    bs_free(&b2);
    bs_free(&hot);
    bs_free(&ref);
    IA_CHECK(ok);
}

/* Two forks of turn 1's chain on a 2-context engine of one slot each:
 * fork a (held in its on_start by its gate) runs where the history is, fork
 * b is taken by the other context, which must fetch the history through the
 * cache. Returns once fork b has asked for it (or after 5 s); *mid then
 * holds the stats of that moment. Nonzero: a submit failed. */
static int start_forks(ia_engine *e, const char *a1, int64_t max_tokens, bsink *fa, bsink *fb,
                       ia_engine_stats *mid) {
    fa->gated = true;
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = max_tokens};
    ia_engine_msg ma[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo. Tell long stories about cats and dogs."},
                          {.role = IA_MSG_USER, .text = "Tell me about the cat that sat on the mat and the dog that ran."},
                          {.role = IA_MSG_ASSISTANT, .text = a1},
                          {.role = IA_MSG_USER, .text = "What was the dog's name?"}};
    ia_engine_msg mb[] = {ma[0], ma[1], ma[2], {.role = IA_MSG_USER, .text = "And then what happened?"}};
    int rc = bs_submit(e, ma, 4, &p, fa, NULL);
    bs_wait_started(fa);
    rc |= bs_submit(e, mb, 4, &p, fb, NULL);
    memset(mid, 0, sizeof *mid);
    for (int i = 0; i < 5000; i++) {
        ia_engine_get_stats(e, mid);
        if (mid->fetched > 0) break;
        usleep(1000);
    }
    return rc;
}

/* Two forks of one chain, one slot per context: fork a runs where turn 1's
 * history is (held at its start by the test), so fork b, taken by the other
 * context, has the busy one copy the history into the shared cache for it
 * and restores it from there — not one token of turn 1 is computed again. */
IA_TEST(engine_chain_prefix_fetched_from_busy_context) {
    ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 2, 2, false, NULL, 0);
    ia_engine *cold = load(ia_test_demo_model(), "demo", 1, true, NULL, 0);
    IA_CHECK(e && cold);
    ia_engine_result r1;
    char *a1 = turn1(e, &r1);
    bsink fa, fb, ref;
    bs_init(&fa);
    bs_init(&fb);
    bs_init(&ref);
    ia_engine_stats mid;
    int rc = start_forks(e, a1, 24, &fa, &fb, &mid);
    bs_open(&fa);
    bs_wait(&fa);
    bs_wait(&fb);
    chain(cold, a1, &ref); /* fork b's conversation, cold */
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    ia_engine_free(cold);
    int ok = rc == 0 && st.fetched == 1 && st.restored >= 1 && fa.res.n_cached >= r1.n_prompt &&
             fb.res.n_cached >= r1.n_prompt && fb.res.n_prompt == ref.res.n_prompt && fb.text.len > 0 &&
             strcmp(fb.text.data, ref.text.data) == 0 && fb.res.n_output == ref.res.n_output;
    if (!ok || getenv("DBG"))
        fprintf(stderr, "  fetched %lld routed %lld restored %lld; turn1 %lld; a cached %lld; b cached %lld of %lld\n"
                "  b:   %s\n  ref: %s\n", (long long)st.fetched, (long long)st.routed, (long long)st.restored,
                (long long)r1.n_prompt, (long long)fa.res.n_cached, (long long)fb.res.n_cached,
                (long long)fb.res.n_prompt, fb.text.data, ref.text.data);
    free(a1);
    bs_free(&fa);
    bs_free(&fb);
    bs_free(&ref);
    IA_CHECK(ok);
}

/* ---- several contexts: concurrency ------------------------------------------ */

static double proc_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* While a job visits a busy context for its prefix (fetch_for), the context
 * it comes back to holds only that job's reservation and has nothing to
 * decode: it must sleep, not spin on the engine's mutex. Context P is held
 * in fork a's on_start (as in the fetch test) for 1 s after the fetch began;
 * the process must use far less than a core meanwhile. */
IA_TEST(engine_fetch_waiter_does_not_spin) {
    ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 2, 2, false, NULL, 0);
    IA_CHECK(e);
    ia_engine_result r1;
    char *a1 = turn1(e, &r1);
    bsink fa, fb;
    bs_init(&fa);
    bs_init(&fb);
    ia_engine_stats mid;
    int rc = start_forks(e, a1, 4, &fa, &fb, &mid);
    usleep(50000);
    double c0 = proc_cpu_s();
    usleep(1000000);
    double cpu = proc_cpu_s() - c0;
    bs_open(&fa);
    bs_wait(&fa);
    bs_wait(&fb);
    ia_engine_free(e);
    fprintf(stderr, "  fetched %lld; CPU during 1 s of waiting for the fetch: %.3f s\n", (long long)mid.fetched, cpu);
    free(a1);
    bs_free(&fa);
    bs_free(&fb);
    IA_CHECK(rc == 0 && mid.fetched == 1);
    IA_CHECK(cpu < 0.2);
}

typedef struct {
    atomic_int done, texts;
    atomic_bool cancel;
    int finish;
} ssink;

static void ss_start(void *ud, int64_t n) { (void)ud; (void)n; }
static int ss_item(void *ud, const ia_engine_item *it) {
    (void)it;
    atomic_fetch_add(&((ssink *)ud)->texts, 1);
    return 0;
}
static void ss_done(void *ud, const ia_engine_result *res) {
    ssink *s = ud;
    s->finish = res->finish;
    atomic_fetch_add(&s->done, 1);
}

/* Many jobs over a few long shared prefixes on 2 contexts of 2 slots (routing
 * and fetches), random cancels, and the engine freed with jobs queued, in
 * inboxes and running: every accepted job gets exactly one on_done. */
IA_TEST(engine_stress_exactly_once) {
    enum { NS = 40 };
    static ssink s[NS];
    unsigned seed = 12345;
    for (int round = 0; round < 3; round++) {
        ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 4, 2, false, NULL, 0);
        IA_CHECK(e);
        bool accepted[NS];
        char sys[3][600];
        for (int k = 0; k < 3; k++) {
            int o = snprintf(sys[k], sizeof sys[k], "History %d:", k);
            for (int i = 0; i < 40; i++) o += snprintf(sys[k] + o, sizeof sys[k] - o, " w%d_%d", k, i);
        }
        for (int i = 0; i < NS; i++) {
            memset(&s[i], 0, sizeof s[i]);
            atomic_init(&s[i].done, 0);
            atomic_init(&s[i].texts, 0);
            atomic_init(&s[i].cancel, false);
            char user[64];
            snprintf(user, sizeof user, "question %d", i);
            ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = sys[i % 3]}, {.role = IA_MSG_USER, .text = user}};
            ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 20 + (int)(rand_r(&seed) % 300)};
            ia_engine_cb cb = {&s[i], ss_start, ss_item, ss_done};
            ia_err err = {0};
            accepted[i] = ia_engine_submit(e, m, 2, &p, &cb, &s[i].cancel, &err) == 0;
            if (rand_r(&seed) % 4 == 0) atomic_store(&s[(int)(rand_r(&seed) % (unsigned)(i + 1))].cancel, true);
            usleep(rand_r(&seed) % 3000);
        }
        usleep(round * 20000);
        ia_engine_stats st;
        ia_engine_get_stats(e, &st);
        ia_engine_free(e);
        int bad = 0, acc = 0;
        for (int i = 0; i < NS; i++) {
            int want = accepted[i] ? 1 : 0;
            acc += accepted[i];
            if (atomic_load(&s[i].done) != want) {
                fprintf(stderr, "  round %d job %d: on_done %d times (accepted %d)\n", round, i,
                        atomic_load(&s[i].done), accepted[i]);
                bad++;
            }
        }
        fprintf(stderr, "  round %d: accepted %d, done %lld, routed %lld, fetched %lld\n", round, acc,
                (long long)st.jobs_done, (long long)st.routed, (long long)st.fetched);
        IA_CHECK(bad == 0);
    }
}

static void *free_engine_thread(void *arg) {
    ia_engine_free(arg);
    return NULL;
}

/* The engine stops while a job visits the busy context for its prefix (in
 * that context's inbox, the context held in another job's on_start): both
 * jobs end once, cancelled. */
IA_TEST(engine_stop_with_job_visiting) {
    ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 2, 2, false, NULL, 0);
    IA_CHECK(e);
    ia_engine_result r1;
    char *a1 = turn1(e, &r1);
    bsink fa, fb;
    bs_init(&fa);
    bs_init(&fb);
    ia_engine_stats mid;
    int rc = start_forks(e, a1, 24, &fa, &fb, &mid);
    pthread_t t;
    pthread_create(&t, NULL, free_engine_thread, e);
    usleep(100000);
    bs_open(&fa);
    pthread_join(t, NULL);
    fprintf(stderr, "  fetched %lld; a done %d finish %d; b done %d finish %d\n", (long long)mid.fetched, fa.done,
            fa.res.finish, fb.done, fb.res.finish);
    IA_CHECK(rc == 0 && mid.fetched == 1 && fa.done && fb.done && fb.res.finish == IA_FINISH_CANCELLED);
    free(a1);
    bs_free(&fa);
    bs_free(&fb);
}
