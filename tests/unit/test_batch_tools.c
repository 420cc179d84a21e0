/* test_batch_tools: structured output, tools and thinking under continuous
 * batching (the merge of the two branches). Each job's sampler chain and
 * end-of-job parse belong to its own sequence, so jobs with different
 * grammars, a forced call and free text decoded in the same steps must give
 * exactly what each gives alone on a cold one-slot engine, every grammar
 * output must be valid, and a grammar-bound job whose prompt another
 * sequence already holds reuses that prefix (n_cached > 0) and still obeys
 * its grammar. Thinking jobs with different budgets run side by side and
 * each keeps its own bound; their live partial parses (on_parsed) add up to
 * the final one. All on the demo model (random weights). */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "lib/util.h"
#include "schema/schema.h"
#include "unit.h"

const char *ia_test_demo_model(void);
const char *ia_test_llama_src(void);

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    ia_buf text;
    ia_engine_result res;
    char *content, *reasoning, *call_name, *call_args;
    size_t n_calls;
    ia_buf live_r, live_c; /* the thought's and the text's deltas, joined */
    int n_live_r, n_live_c;
    int n_items, n_call_items;
    int open;              /* the open item's index, or -1 */
    int last_kind;         /* the last item's kind (items come thought, text, calls) */
    bool late;             /* an item after on_done */
    bool bad;              /* an item out of order, or after its end */
} xsink;

static void xs_init(xsink *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    ia_buf_init(&s->text, 0);
    ia_buf_init(&s->live_r, 0);
    ia_buf_init(&s->live_c, 0);
    s->open = -1;
    s->last_kind = -1;
}

static void xs_free(xsink *s) {
    ia_buf_free(&s->text);
    ia_buf_free(&s->live_r);
    ia_buf_free(&s->live_c);
    free(s->content);
    free(s->reasoning);
    free(s->call_name);
    free(s->call_args);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* The item stream (engine.h): every piece joined into text (thoughts,
 * text and calls, for the determinism checks), each kind's deltas apart,
 * and its order checked: indexes dense from 0, kinds in output order, no
 * delta after an item's end. */
static int xs_item(void *ud, const ia_engine_item *it) {
    xsink *s = ud;
    pthread_mutex_lock(&s->mu);
    if (s->done) s->late = true;
    if (it->index != s->open) { /* a new item */
        if (s->open >= 0 || it->index != s->n_items || (int)it->kind < s->last_kind ||
            (it->kind != IA_ITEM_CALL && (int)it->kind == s->last_kind))
            s->bad = true;
        s->n_items++;
        s->open = it->index;
        s->last_kind = (int)it->kind;
    }
    if (it->kind == IA_ITEM_CALL) {
        s->n_call_items++;
        if (!it->end || !it->call) s->bad = true;
        else ia_buf_printf(&s->text, "%s(%s)", it->call->name, it->call->arguments);
    } else if (it->len) {
        ia_buf_append(&s->text, it->delta, it->len);
        ia_buf_append(it->kind == IA_ITEM_THOUGHT ? &s->live_r : &s->live_c, it->delta, it->len);
        *(it->kind == IA_ITEM_THOUGHT ? &s->n_live_r : &s->n_live_c) += 1;
    }
    if (it->end) s->open = -1;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* The parsed strings live only during on_done: copied here. */
static void xs_done(void *ud, const ia_engine_result *r) {
    xsink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->res = *r;
    if (s->open >= 0) s->bad = true; /* every item ends before on_done */
    if (r->parsed) {
        s->content = ia_strdup(r->content ? r->content : "");
        s->reasoning = ia_strdup(r->reasoning ? r->reasoning : "");
        s->n_calls = r->n_calls;
        if (r->n_calls) {
            s->call_name = ia_strdup(r->calls[0].name ? r->calls[0].name : "");
            s->call_args = ia_strdup(r->calls[0].arguments ? r->calls[0].arguments : "");
        }
    }
    s->res.content = s->res.reasoning = NULL;
    s->res.calls = NULL;
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void xs_wait(xsink *s) {
    pthread_mutex_lock(&s->mu);
    while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static int xs_submit(ia_engine *e, const ia_engine_msg *m, size_t n, const ia_engine_params *p, xsink *s) {
    ia_engine_cb cb = {.ud = s, .on_item = xs_item, .on_done = xs_done};
    ia_err err = {0};
    int rc = ia_engine_submit(e, m, n, p, &cb, NULL, &err);
    if (rc != 0) fprintf(stderr, "  submit: %s\n", err.msg);
    return rc;
}

static ia_engine *load(int parallel, bool cold, const char *tmpl) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "demo", .path = ia_test_demo_model(), .threads = 1, .parallel = parallel,
                        .no_prefix_cache = cold, .cache_ram_bytes = -1, .chat_template = tmpl};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    return e;
}

/* The prepared schema (for the validator) and its grammar. */
static char *grammar_of(const char *schema, json_t **prepared) {
    json_t *s = json_loads(schema, JSON_DECODE_ANY, NULL);
    ia_err err = {0};
    *prepared = s ? ia_schema_prepare(s, "response_format", &err) : NULL;
    json_decref(s);
    char *g = *prepared ? ia_schema_grammar(*prepared, "response_format", &err) : NULL;
    if (!g) fprintf(stderr, "  schema %s: %s\n", schema, err.msg);
    return g;
}

static bool valid_under(json_t *prepared, const char *text) {
    json_t *inst = json_loads(text, JSON_DECODE_ANY, NULL);
    char why[256] = "";
    bool ok = inst && ia_schema_validate(prepared, inst, why, sizeof why);
    if (!ok) fprintf(stderr, "  not valid (%s): %.300s\n", inst ? why : "no JSON", text);
    json_decref(inst);
    return ok;
}

static const ia_engine_tool TOOL[] = {
    {"get_weather", "Gets the weather for a given location.",
     "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"maxLength\":20},"
     "\"unit\":{\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"location\",\"unit\"]}"},
};

#define SCHEMA_OBJ "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"},\"ok\":{\"type\":\"boolean\"}}," \
                   "\"required\":[\"n\",\"ok\"],\"additionalProperties\":false}"
#define SCHEMA_ENUM "{\"type\":\"string\",\"enum\":[\"red\",\"green\",\"blue\"]}"

enum { J_OBJ, J_ENUM, J_CALL, J_FREE, NJOBS };

/* Job k's messages and parameters (grammars from g[]). */
static void job_of(int k, char *const g[2], ia_engine_msg m[2], ia_engine_params *p) {
    static const char *users[NJOBS] = {"Give me a number.", "Pick a colour.", "What is the weather like in Paris?",
                                       "Tell me a story."};
    m[0] = (ia_engine_msg){.role = IA_MSG_SYSTEM, .text = "You are a demo. Answer briefly."};
    m[1] = (ia_engine_msg){.role = IA_MSG_USER, .text = users[k]};
    *p = (ia_engine_params){.has_seed = true, .seed = 11 + (uint64_t)k, .max_tokens = 400};
    if (k == J_OBJ) p->grammar = g[0];
    if (k == J_ENUM) p->grammar = g[1];
    if (k == J_CALL) {
        p->tools = TOOL;
        p->n_tools = 1;
        p->tool_choice = IA_TOOLS_REQUIRED;
    }
    if (k == J_FREE) p->max_tokens = 60;
}

IA_TEST(batch_grammar_call_and_free_jobs_match_alone) {
    json_t *prep[2] = {NULL, NULL};
    char *g[2] = {grammar_of(SCHEMA_OBJ, &prep[0]), grammar_of(SCHEMA_ENUM, &prep[1])};
    IA_CHECK(g[0] && g[1]);
    ia_engine *par = load(NJOBS, false, NULL), *one = load(1, true, NULL);
    IA_CHECK(par && one);
    xsink tog[NJOBS], alone[NJOBS];
    for (int k = 0; k < NJOBS; k++) {
        ia_engine_msg m[2];
        ia_engine_params p;
        job_of(k, g, m, &p);
        xs_init(&tog[k]);
        xs_submit(par, m, 2, &p, &tog[k]);
    }
    for (int k = 0; k < NJOBS; k++) xs_wait(&tog[k]);
    for (int k = 0; k < NJOBS; k++) {
        ia_engine_msg m[2];
        ia_engine_params p;
        job_of(k, g, m, &p);
        xs_init(&alone[k]);
        xs_submit(one, m, 2, &p, &alone[k]);
        xs_wait(&alone[k]);
    }
    ia_engine_stats st;
    ia_engine_get_stats(par, &st);
    bool ok = st.max_batch_seqs >= 2;
    if (!ok) fprintf(stderr, "  never batched (max %lld sequences a step)\n", (long long)st.max_batch_seqs);
    for (int k = 0; k < NJOBS; k++) {
        const char *a = tog[k].text.data ? tog[k].text.data : "", *b = alone[k].text.data ? alone[k].text.data : "";
        bool same = strcmp(a, b) == 0 && tog[k].res.finish == alone[k].res.finish &&
                    tog[k].res.n_output == alone[k].res.n_output;
        if (!same) fprintf(stderr, "  job %d together [%s] (%d) vs alone [%s] (%d)\n", k, a, tog[k].res.finish, b,
                           alone[k].res.finish);
        ok = ok && same && tog[k].res.finish != IA_FINISH_ERROR;
    }
    ok = ok && tog[J_OBJ].res.finish == IA_FINISH_STOP && valid_under(prep[0], tog[J_OBJ].text.data);
    ok = ok && tog[J_ENUM].res.finish == IA_FINISH_STOP && valid_under(prep[1], tog[J_ENUM].text.data);
    /* the forced call: parsed into one call of the tool, arguments valid */
    json_t *args = tog[J_CALL].call_args ? json_loads(tog[J_CALL].call_args, 0, NULL) : NULL;
    const char *unit = json_string_value(json_object_get(args, "unit"));
    bool call_ok = tog[J_CALL].res.parsed && tog[J_CALL].n_calls == 1 && tog[J_CALL].call_name &&
                   strcmp(tog[J_CALL].call_name, "get_weather") == 0 && unit &&
                   (strcmp(unit, "celsius") == 0 || strcmp(unit, "fahrenheit") == 0);
    if (!call_ok) fprintf(stderr, "  call: parsed %d, %zu calls, %s\n", tog[J_CALL].res.parsed, tog[J_CALL].n_calls,
                          tog[J_CALL].call_args ? tog[J_CALL].call_args : "(none)");
    json_decref(args);
    /* a job without tools on a template that does not reason is not parsed */
    ok = ok && call_ok && !tog[J_OBJ].res.parsed && !tog[J_FREE].res.parsed;
    for (int k = 0; k < NJOBS; k++) {
        xs_free(&tog[k]);
        xs_free(&alone[k]);
    }
    ia_engine_free(par);
    ia_engine_free(one);
    free(g[0]);
    free(g[1]);
    json_decref(prep[0]);
    json_decref(prep[1]);
    IA_CHECK(ok);
}

IA_TEST(batch_grammar_job_reuses_a_kept_prefix) {
    json_t *prep = NULL;
    char *g = grammar_of(SCHEMA_OBJ, &prep);
    IA_CHECK(g != NULL);
    ia_engine *warm = load(2, false, NULL), *cold = load(1, true, NULL);
    IA_CHECK(warm && cold);
    ia_engine_msg m[] = {{.role = IA_MSG_SYSTEM, .text = "You are a demo. Answer briefly."},
                         {.role = IA_MSG_USER, .text = "Give me a number and say whether it is fine."}};
    ia_engine_params free_p = {.has_temperature = true, .temperature = 0.0, .max_tokens = 16};
    ia_engine_params gram_p = {.has_seed = true, .seed = 5, .max_tokens = 400, .grammar = g};
    xsink first, reused, base;
    xs_init(&first);
    xs_init(&reused);
    xs_init(&base);
    xs_submit(warm, m, 2, &free_p, &first); /* free text first: its sequence keeps the prompt */
    xs_wait(&first);
    xs_submit(warm, m, 2, &gram_p, &reused);
    xs_wait(&reused);
    xs_submit(cold, m, 2, &gram_p, &base);
    xs_wait(&base);
    const char *a = reused.text.data ? reused.text.data : "", *b = base.text.data ? base.text.data : "";
    bool ok = reused.res.finish == IA_FINISH_STOP && reused.res.n_cached > 0 &&
              reused.res.n_cached < reused.res.n_prompt && base.res.n_cached == 0 && strcmp(a, b) == 0 &&
              valid_under(prep, a);
    if (!ok) fprintf(stderr, "  reused %lld of %lld: [%s] vs cold [%s]\n", (long long)reused.res.n_cached,
                     (long long)reused.res.n_prompt, a, b);
    xs_free(&first);
    xs_free(&reused);
    xs_free(&base);
    ia_engine_free(warm);
    ia_engine_free(cold);
    free(g);
    json_decref(prep);
    IA_CHECK(ok);
}

IA_TEST(batch_thinking_budgets_side_by_side) {
    char tmpl[1024];
    snprintf(tmpl, sizeof tmpl, "%s/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
             ia_test_llama_src());
    ia_engine *e = load(3, false, tmpl);
    IA_CHECK(e != NULL);
    const int budgets[3] = {16, 64, -1};
    xsink s[3];
    for (int k = 0; k < 3; k++) {
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Why is the sky blue?"}};
        ia_engine_params p = {.has_seed = true, .seed = 3, .max_tokens = budgets[k] < 0 ? 40 : 200,
                              .thinking_budget = budgets[k]};
        xs_init(&s[k]);
        xs_submit(e, m, 1, &p, &s[k]);
    }
    for (int k = 0; k < 3; k++) xs_wait(&s[k]);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    bool ok = ia_engine_reasons(e) && st.max_batch_seqs >= 2 && s[0].res.parsed && s[1].res.parsed &&
              s[2].res.parsed && s[0].res.n_thought > 0 && s[0].res.n_thought <= 24 &&
              s[1].res.n_thought > s[0].res.n_thought && s[1].res.n_thought <= 80 && s[2].reasoning &&
              strlen(s[2].reasoning) == 0;
    if (!ok)
        fprintf(stderr, "  batched %lld; thoughts %lld / %lld; off: [%s]\n", (long long)st.max_batch_seqs,
                (long long)s[0].res.n_thought, (long long)s[1].res.n_thought, s[2].reasoning ? s[2].reasoning : "-");
    for (int k = 0; k < 3; k++) xs_free(&s[k]);
    ia_engine_free(e);
    IA_CHECK(ok);
}

/* Whether the joined deltas b are exactly final. */
static bool same(const ia_buf *b, const char *final) {
    return final && strlen(final) == b->len && (!b->len || memcmp(final, b->data, b->len) == 0);
}

/* The item stream of parsed jobs: a thinking job's thought and text come
 * in several deltas (most before the end, from the partial parses) that
 * add up exactly to the final parse's reasoning and text; the text only
 * once the thought has ended; a job that may call gets both too (the
 * partial parse holds back what could start a call), then its calls; a
 * job that is not parsed gets one text item and no thought. Each stream
 * in order, every item ended before on_done. */
IA_TEST(engine_live_parse_deltas) {
    char tmpl[1024];
    snprintf(tmpl, sizeof tmpl, "%s/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
             ia_test_llama_src());
    ia_engine *e = load(2, false, tmpl);
    ia_engine *plain = load(1, false, NULL);
    IA_CHECK(e != NULL && plain != NULL);
    xsink s[3];
    for (int k = 0; k < 3; k++) {
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Why is the sky blue?"}};
        /* a budget the reasoning runs into, so an answer follows it */
        ia_engine_params p = {.has_seed = true, .seed = 3, .max_tokens = 300, .thinking_budget = 64};
        if (k == 1) {
            p.tools = TOOL;
            p.n_tools = 1;
        }
        xs_init(&s[k]);
        xs_submit(k == 2 ? plain : e, m, 1, &p, &s[k]);
    }
    for (int k = 0; k < 3; k++) xs_wait(&s[k]);
    bool ok = s[0].res.parsed && s[0].n_live_r >= 2 && s[0].n_live_c >= 2 && s[0].live_c.len &&
              same(&s[0].live_r, s[0].reasoning) && same(&s[0].live_c, s[0].content) && s[0].n_call_items == 0 &&
              s[1].res.parsed && s[1].n_live_r >= 2 && same(&s[1].live_r, s[1].reasoning) &&
              same(&s[1].live_c, s[1].content) && s[1].n_call_items == (int)s[1].n_calls &&
              !s[2].res.parsed && s[2].n_live_r == 0 && s[2].n_live_c >= 1 && s[2].n_items == 1;
    for (int k = 0; k < 3; k++) ok = ok && !s[k].late && !s[k].bad;
    if (!ok)
        fprintf(stderr, "  thinking: %d/%d deltas (%zu/%zu of %zu/%zu bytes); with tools: %d/%d; plain: %d/%d\n",
                s[0].n_live_r, s[0].n_live_c, s[0].live_r.len, s[0].live_c.len,
                s[0].reasoning ? strlen(s[0].reasoning) : 0, s[0].content ? strlen(s[0].content) : 0,
                s[1].n_live_r, s[1].n_live_c, s[2].n_live_r, s[2].n_live_c);
    for (int k = 0; k < 3; k++) xs_free(&s[k]);
    ia_engine_free(e);
    ia_engine_free(plain);
    IA_CHECK(ok);
}
