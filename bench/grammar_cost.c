/* grammar_cost: what structured output costs in decode speed. Runs the
 * engine (src/engine/, as the server does) on one model, the same prompt
 * and seeds, with and without the grammar that src/schema/ builds for the
 * guide's moderation schema (zod 4's form), and prints generated tokens per
 * second for each (time from on_start to on_done: prompt decode included,
 * a few tokens of prompt). Output: one line per mode, for bench/RESULTS.md.
 *
 *     grammar_cost MODEL.gguf [RUNS] [MAX_TOKENS] */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "lib/util.h"
#include "schema/schema.h"

static const char *SCHEMA =
    "{\"type\":\"object\",\"properties\":{\"decision\":{\"anyOf\":[{\"type\":\"object\",\"properties\":{"
    "\"reason\":{\"type\":\"string\"},\"spam_type\":{\"type\":\"string\",\"enum\":[\"phishing\",\"scam\","
    "\"unsolicited promotion\",\"other\"]}},\"required\":[\"reason\",\"spam_type\"],\"additionalProperties\":false},"
    "{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\"},\"is_safe\":{\"type\":\"boolean\"}},"
    "\"required\":[\"summary\",\"is_safe\"],\"additionalProperties\":false}]}},\"required\":[\"decision\"],"
    "\"additionalProperties\":false}";

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int64_t t0, t1, n;
} run;

static void on_start(void *ud, int64_t n_prompt) {
    (void)n_prompt;
    ((run *)ud)->t0 = ia_mono_ms();
}
static void on_done(void *ud, const ia_engine_result *res) {
    run *r = ud;
    pthread_mutex_lock(&r->mu);
    r->t1 = ia_mono_ms();
    r->n = res->n_output;
    r->done = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: grammar_cost MODEL.gguf [RUNS] [MAX_TOKENS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    int max_tokens = argc > 3 ? atoi(argv[3]) : 256;
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "bench", .path = argv[1], .threads = 0};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) {
        fprintf(stderr, "load: %s\n", err.msg);
        return 1;
    }
    json_t *s = json_loads(SCHEMA, 0, NULL);
    json_t *prep = ia_schema_prepare(s, "response_format", &err);
    char *grammar = prep ? ia_schema_grammar(prep, "response_format", &err) : NULL;
    if (!grammar) {
        fprintf(stderr, "schema: %s\n", err.msg);
        return 1;
    }
    /* Runs alternate between the modes after one warm-up run, so that a
     * cold cache or a busy neighbour does not favour either. */
    int64_t toks[2] = {0}, ms[2] = {0};
    for (int k = -1; k < 2 * runs; k++) {
        int mode = k < 0 ? 0 : k % 2, i = k < 0 ? 0 : k / 2;
        {
            run r;
            memset(&r, 0, sizeof r);
            pthread_mutex_init(&r.mu, NULL);
            pthread_cond_init(&r.cv, NULL);
            ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Moderate the following content: 'You won a cruise!'"}};
            ia_engine_params p = {.has_seed = true, .seed = (uint64_t)(i + 1), .max_tokens = max_tokens,
                                  .grammar = mode ? grammar : NULL};
            ia_engine_cb cb = {.ud = &r, .on_start = on_start, .on_done = on_done};
            if (ia_engine_submit(e, m, 1, &p, &cb, NULL, &err) != 0) return 1;
            pthread_mutex_lock(&r.mu);
            while (!r.done) pthread_cond_wait(&r.cv, &r.mu);
            pthread_mutex_unlock(&r.mu);
            pthread_mutex_destroy(&r.mu);
            pthread_cond_destroy(&r.cv);
            if (k < 0) continue;
            toks[mode] += r.n;
            ms[mode] += r.t1 - r.t0;
        }
    }
    for (int mode = 0; mode < 2; mode++)
        printf("%-12s runs %d  tokens %6lld  ms %7lld  tokens/s %8.1f\n", mode ? "grammar" : "free text", runs,
               (long long)toks[mode], (long long)ms[mode], ms[mode] ? 1000.0 * (double)toks[mode] / (double)ms[mode] : 0.0);
    free(grammar);
    json_decref(prep);
    json_decref(s);
    ia_engine_free(e);
    return 0;
}
