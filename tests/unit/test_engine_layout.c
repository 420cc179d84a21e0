/* test_engine_layout: the load-following layout (src/engine/layout.c) on
 * the demo model. Sequences move between contexts, mid-generation, with
 * their KV and their job's state, and go on with exactly the tokens they
 * would have produced where they were; the layout switches to one batch
 * past two sequences per context and back when the load falls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bsink.h"
#include "lib/log.h"
#include "unit.h"

/* A job that runs until cancelled: its grammar never lets it end. */
#define HOLD_PARAMS                                                                                        \
    ((ia_engine_params){.has_temperature = true, .temperature = 0.0, .max_tokens = 100000,                \
                        .grammar = "root ::= [a-z ] root"})

/* Polls the engine's stats until pred holds (or ~10 s); returns it. */
static bool wait_stats(ia_engine *e, bool (*pred)(const ia_engine_stats *), ia_engine_stats *st) {
    for (int i = 0; i < 10000; i++) {
        ia_engine_get_stats(e, st);
        if (pred(st)) return true;
        usleep(1000);
    }
    return false;
}

static bool one_batch_settled(const ia_engine_stats *st) { return st->one_batch && st->contexts_busy == 1; }
static bool split_settled(const ia_engine_stats *st) {
    return !st->one_batch && st->contexts_busy == 2 && st->running == 2;
}

static bool has_text(bsink *s) {
    pthread_mutex_lock(&s->mu);
    bool t = s->text.len > 0 || s->done;
    pthread_mutex_unlock(&s->mu);
    return t;
}

static bool is_done(bsink *s) {
    pthread_mutex_lock(&s->mu);
    bool d = s->done;
    pthread_mutex_unlock(&s->mu);
    return d;
}

static const char *const GEN[2] = {"Once upon a time", "The little dog"};
static const char *const HOLD[3] = {"Blocker one", "Blocker two", "Blocker three"};

/* One try of the scenario below with jobs held to n_chars characters;
 * 1 passed, 0 failed, -1 when its premise did not hold (a job of the two
 * ended before the layout joined: a slow or preempted test thread), so
 * the caller tries again with longer jobs. */
static int moves_with_the_load(int n_chars) {
    ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 6, 2, false, NULL, 0);
    ia_engine *one = load_ctx(ia_test_demo_model(), "demo", 1, 1, true, NULL, 0);
    if (!e || !one) return 0;
    /* Greedy, held by a grammar to n_chars characters (a free greedy draw
     * on random weights reaches end-of-generation within ~80 tokens), so
     * both are still generating when the layout changes. */
    char grammar[64];
    snprintf(grammar, sizeof grammar, "root ::= [a-z ]{%d}", n_chars);
    ia_engine_params gp = {.has_temperature = true, .temperature = 0.0, .max_tokens = 3000, .grammar = grammar};
    ia_engine_params hp = HOLD_PARAMS;
    bsink g[2], h[3], ref[2];
    atomic_bool hc[3];
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        bs_init(&g[i]);
        bs_init(&ref[i]);
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = GEN[i]}};
        rc |= bs_submit(e, m, 1, &gp, &g[i], NULL);
    }
    /* Both may start on one context and be evened out a moment later. */
    ia_engine_stats st1, st2, st3;
    bool split1 = wait_stats(e, split_settled, &st1);
    for (int i = 0; i < 3; i++) {
        bs_init(&h[i]);
        atomic_init(&hc[i], false);
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = HOLD[i]}};
        rc |= bs_submit(e, m, 1, &hp, &h[i], &hc[i]);
    }
    for (int i = 0; i < 3; i++)
        while (!has_text(&h[i])) usleep(200);
    bool joined = wait_stats(e, one_batch_settled, &st2);
    bool mid1 = !is_done(&g[0]) && !is_done(&g[1]); /* so the move was mid-generation */
    for (int i = 0; i < 3; i++) atomic_store(&hc[i], true);
    bool split = wait_stats(e, split_settled, &st3);
    /* A move is reserved (the busy count) a moment before it is counted. */
    for (int i = 0; i < 1000 && st3.moved == st2.moved; i++) {
        usleep(1000);
        ia_engine_get_stats(e, &st3);
    }
    for (int i = 0; i < 2; i++) bs_wait(&g[i]);
    for (int i = 0; i < 3; i++) bs_wait(&h[i]);
    ia_engine_stats fin;
    ia_engine_get_stats(e, &fin);
    for (int i = 0; i < 2; i++) {
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = GEN[i]}};
        rc |= bs_submit(one, m, 1, &gp, &ref[i], NULL);
        bs_wait(&ref[i]);
    }
    ia_engine_free(e);
    ia_engine_free(one);
    fprintf(stderr, "  %d chars: split %d (moved %lld); one batch: %d (moved %lld, both running %d); split again: "
            "%d (moved %lld); outputs %lld, %lld tokens; layout changes %lld\n", n_chars, split1,
            (long long)st1.moved, joined, (long long)st2.moved, mid1, split, (long long)st3.moved,
            (long long)g[0].res.n_output, (long long)g[1].res.n_output, (long long)fin.layout_changes);
    int ok = rc == 0 && split1 && joined && st2.moved > st1.moved && mid1 && split && st3.moved > st2.moved &&
             fin.layout_changes >= 2;
    for (int i = 0; i < 2; i++) {
        bool same = g[i].res.finish == ref[i].res.finish && g[i].res.n_output == ref[i].res.n_output &&
                    g[i].text.len > 0 && strcmp(g[i].text.data, ref[i].text.data) == 0;
        if (!same) fprintf(stderr, "  job %d moved: %s\n  job %d alone: %s\n", i, g[i].text.data, i, ref[i].text.data);
        ok &= same;
    }
    for (int i = 0; i < 3; i++) {
        bool cancelled = h[i].res.finish == IA_FINISH_CANCELLED && h[i].res.n_output > 0;
        if (!cancelled) fprintf(stderr, "  hold %d: finish %d, %lld tokens\n", i, (int)h[i].res.finish,
                                (long long)h[i].res.n_output);
        ok &= cancelled;
    }
    for (int i = 0; i < 2; i++) {
        bs_free(&g[i]);
        bs_free(&ref[i]);
    }
    for (int i = 0; i < 3; i++) bs_free(&h[i]);
    if (!ok && rc == 0 && !mid1) return -1;
    return ok;
}

/* Two greedy jobs run split, one per context; three more make the load 5
 * (> 2 per context): the one on context 1 moves to context 0 as the five
 * run as one batch. The three are cancelled: the load falls to 2 and one
 * of the two moves back. Both end with the very text they give
 * alone. */
IA_TEST(engine_layout_moves_sequences_with_the_load) {
    if (getenv("DBG")) ia_log_set_level(IA_LOG_DEBUG);
    int r = -1;
    for (int n_chars = 1200; r < 0 && n_chars <= 4800; n_chars *= 2) r = moves_with_the_load(n_chars);
    IA_CHECK(r == 1);
}

/* The engine stops while sequences are on their way between contexts or
 * just moved: every job still gets its one on_done. */
IA_TEST(engine_layout_stop_while_moving) {
    for (int round = 0; round < 5; round++) {
        ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 6, 2, false, NULL, 0);
        IA_CHECK(e != NULL);
        ia_engine_params hp = HOLD_PARAMS;
        bsink h[6];
        int rc = 0;
        for (int i = 0; i < 6; i++) {
            bs_init(&h[i]);
            ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = i % 2 ? GEN[i % 2] : HOLD[i % 3]}};
            rc |= bs_submit(e, m, 1, &hp, &h[i], NULL);
            if (i == 1) usleep(2000 * (useconds_t)round); /* split first, for a while */
        }
        usleep(1000 * (useconds_t)round);
        ia_engine_free(e); /* waits for every on_done */
        int ok = rc == 0;
        for (int i = 0; i < 6; i++) {
            ok &= h[i].done && h[i].res.finish == IA_FINISH_CANCELLED;
            bs_free(&h[i]);
        }
        IA_CHECK(ok);
    }
}

/* --layout fixed: nothing moves, whatever the load. */
IA_TEST(engine_layout_fixed_moves_nothing) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "demo", .path = ia_test_demo_model(), .threads = 1, .parallel = 6,
                        .contexts = 2, .fixed_layout = true, .max_queue = 16};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    IA_CHECK(e != NULL);
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 48};
    bsink s[6];
    int rc = 0;
    for (int i = 0; i < 6; i++) {
        bs_init(&s[i]);
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = i % 2 ? GEN[i % 2] : HOLD[i % 3]}};
        rc |= bs_submit(e, m, 1, &p, &s[i], NULL);
    }
    for (int i = 0; i < 6; i++) bs_wait(&s[i]);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    for (int i = 0; i < 6; i++) bs_free(&s[i]);
    IA_CHECK(rc == 0 && st.moved == 0 && st.layout_changes == 0 && st.max_contexts_busy == 2 && st.jobs_done == 6);
}

/* Four jobs run 2 + 2 on two contexts of --parallel 4; two more arrive
 * (load 6: one batch). Worker 0 may take every slot only as the others'
 * sequences move in: never more than four run, the two wait, and the
 * layout settles into one context. */
IA_TEST(engine_layout_never_runs_more_than_parallel) {
    for (int round = 0; round < 4; round++) {
        ia_engine *e = load_ctx(ia_test_demo_model(), "demo", 4, 2, false, NULL, 0);
        IA_CHECK(e != NULL);
        ia_engine_params hp = HOLD_PARAMS;
        bsink h[6];
        atomic_bool hc[6];
        int rc = 0;
        for (int i = 0; i < 6; i++) {
            bs_init(&h[i]);
            atomic_init(&hc[i], false);
        }
        for (int i = 0; i < 4; i++) {
            ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = i % 2 ? GEN[i % 2] : HOLD[i % 3]}};
            rc |= bs_submit(e, m, 1, &hp, &h[i], &hc[i]);
        }
        for (int i = 0; i < 4; i++)
            while (!has_text(&h[i])) usleep(200);
        for (int i = 4; i < 6; i++) {
            ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = HOLD[i % 3]}};
            rc |= bs_submit(e, m, 1, &hp, &h[i], &hc[i]);
        }
        int64_t most = 0;
        ia_engine_stats st;
        bool settled = false;
        for (int i = 0; i < 3000 && !settled; i++) {
            ia_engine_get_stats(e, &st);
            if (st.running > most) most = st.running;
            settled = st.one_batch && st.contexts_busy == 1 && st.running == 4 && st.queued == 2;
            usleep(100);
        }
        for (int i = 0; i < 6; i++) atomic_store(&hc[i], true);
        for (int i = 0; i < 6; i++) bs_wait(&h[i]);
        ia_engine_free(e);
        for (int i = 0; i < 6; i++) bs_free(&h[i]);
        if (most > 4 || !settled)
            fprintf(stderr, "  round %d: most running %lld, settled %d (busy %lld, running %lld, queued %lld)\n", round,
                    (long long)most, settled, (long long)st.contexts_busy, (long long)st.running,
                    (long long)st.queued);
        IA_CHECK(rc == 0 && most <= 4 && settled);
    }
}
