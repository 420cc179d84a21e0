/* test_tools: function calling and thinking through the chat shim on the
 * bundle's real chat templates (models/templates/<name>.jinja): the
 * template's tool section renders the functions, llama.cpp's chat library
 * picks the family's format and builds its call grammar, and model text
 * written in each family's own call syntax parses into calls (name,
 * arguments), reasoning and text — malformed or truncated calls become an
 * error or are dropped, never a crash. Then the engine on the demo model:
 * forced calls are valid, the composed call-or-answer grammar, reasoning
 * budgets under a reasoning template; and the stored form of calls and the
 * thought signatures. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "unit.h"



/* Renders one user turn with WEATHER (+ a second tool) for template name
 * and parses text as the model's answer. Returns 0 and fills out, or -1. */
static const ia_chat_tool TWO[] = {
    {"get_weather", "Gets the weather for a given location.",
     "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}},\"required\":[\"location\"]}"},
    {"get_time", "Gets the local time.", "{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\"}}}"},
};

/* mode: 0 a final parse, 1 a partial (live) one, 2 the parse of a turn cut short */
static int parse_as(const char *tmpl, const char *text, int mode, ia_chat_parsed *out, char **perr) {
    ia_engine_global_init(NULL, false); /* quiets the chat library's log */
    char *src = ia_test_read_template(tmpl), *err = NULL, *prompt = NULL;
    ia_chat *c = src ? ia_chat_new(NULL, src, &err) : NULL;
    ia_chat_state *st = NULL;
    ia_chat_msg m[] = {{.role = "user", .content = "Weather in Paris?"}};
    ia_chat_opts o = {.tools = TWO, .n_tools = 2, .parallel_tool_calls = true};
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (c && ia_chat_render_ex(c, m, 1, &o, &prompt, &st, &err) == 0) rc = mode == 2 ? ia_chat_parse_cut(st, text, out, &err) : ia_chat_parse(st, text, mode == 1, out, &err);
    if (perr) *perr = err;
    else free(err);
    free(prompt);
    ia_chat_state_free(st);
    ia_chat_free(c);
    free(src);
    return rc;
}

/* One family: its template, a turn in its call syntax, what must come out. */
typedef struct {
    const char *tmpl, *text;
    size_t n_calls;
    const char *name0, *args0, *name1; /* first call (and second) */
    const char *content;              /* expected text ("" = none) */
} family_case;

static const family_case FAMILIES[] = {
    /* Qwen3: Hermes-style <tool_call> JSON, text before it kept */
    {"Qwen-Qwen3-0.6B",
     "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}\n</tool_call>",
     1, "get_weather", "{\"location\": \"Paris\"}", NULL, "Let me check.\n"},
    /* Hermes 2 Pro: two calls in one turn, kept in order */
    {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use",
     "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}\n</tool_call>\n"
     "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>",
     2, "get_weather", "{\"location\": \"Paris\"}", "get_time", ""},
    /* Llama 3.1: a bare JSON object with "parameters" */
    {"meta-llama-Llama-3.1-8B-Instruct", "{\"name\": \"get_weather\", \"parameters\": {\"location\": \"Paris\"}}",
     1, "get_weather", "{\"location\": \"Paris\"}", NULL, ""},
    /* Mistral Nemo: [TOOL_CALLS] and a JSON list with ids */
    {"mistralai-Mistral-Nemo-Instruct-2407",
     "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}, \"id\": \"abc123def\"}]",
     1, "get_weather", "{\"location\": \"Paris\"}", NULL, ""},
    /* gpt-oss: harmony channels */
    {"openai-gpt-oss-120b",
     "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"location\": \"Paris\"}",
     1, "get_weather", "{\"location\": \"Paris\"}", NULL, ""},
    /* DeepSeek V3.1: its own call tokens after the thinking block */
    {"deepseek-ai-DeepSeek-V3.1",
     "</think><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"location\": \"Paris\"}"
     "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
     1, "get_weather", "{\"location\": \"Paris\"}", NULL, ""},
    /* Gemma 4: call:name{key:<|"|>value<|"|>} */
    {"google-gemma-4-31B-it", "<|tool_call>call:get_weather{location:<|\"|>Paris<|\"|>}<tool_call|>",
     1, "get_weather", "{\"location\":\"Paris\"}", NULL, ""},
    /* plain text, no call: all content */
    {"Qwen-Qwen3-0.6B", "It is sunny in Paris.", 0, NULL, NULL, NULL, "It is sunny in Paris."},
};

/* arguments compared as JSON, whatever the spacing */
static bool same_json(const char *a, const char *b) {
    json_t *x = json_loads(a, JSON_DECODE_ANY, NULL), *y = json_loads(b, JSON_DECODE_ANY, NULL);
    bool eq = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

IA_TEST(tools_calls_parse_in_seven_families) {
    for (size_t i = 0; i < sizeof FAMILIES / sizeof *FAMILIES; i++) {
        const family_case *f = &FAMILIES[i];
        ia_chat_parsed p;
        char *err = NULL;
        int rc = parse_as(f->tmpl, f->text, false, &p, &err);
        bool ok = rc == 0 && p.n_calls == f->n_calls && p.content && strcmp(p.content, f->content) == 0;
        if (ok && f->n_calls >= 1)
            ok = strcmp(p.calls[0].name, f->name0) == 0 && same_json(p.calls[0].arguments, f->args0);
        if (ok && f->n_calls >= 2) ok = strcmp(p.calls[1].name, f->name1) == 0 && same_json(p.calls[1].arguments, "{}");
        if (!ok)
            fprintf(stderr, "  %s: rc %d (%s), %zu calls, content [%s]\n", f->tmpl, rc, err ? err : "", p.n_calls,
                    p.content ? p.content : "");
        free(err);
        ia_chat_parsed_free(&p);
        IA_CHECK(ok);
    }
}

IA_TEST(tools_malformed_and_truncated_calls_never_crash) {
    static const struct {
        const char *tmpl, *text;
        bool partial;
    } BAD[] = {
        {"Qwen-Qwen3-0.6B", "<tool_call>\n{\"name\": \"get_weather\", \"argu", true},
        {"Qwen-Qwen3-0.6B", "<tool_call>\n{\"name\": \"get_weather\", \"argu", false},
        {"Qwen-Qwen3-0.6B", "<tool_call>{not json at all}</tool_call>", false},
        {"Qwen-Qwen3-0.6B", "<tool_call>\n{\"name\": \"no_such_tool\", \"arguments\": {}}\n</tool_call>", false},
        {"mistralai-Mistral-Nemo-Instruct-2407", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"loc", true},
        {"openai-gpt-oss-120b", "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"loc", true},
        {"google-gemma-4-31B-it", "<|tool_call>call:get_weather{location:<|\"|>Par", true},
        {"meta-llama-Llama-3.1-8B-Instruct", "{\"name\": \"get_weather\", \"parameters\": ", false},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        ia_chat_parsed p;
        char *err = NULL;
        int rc = parse_as(BAD[i].tmpl, BAD[i].text, BAD[i].partial, &p, &err);
        /* A clear outcome: an error message, or calls that are complete JSON
         * (a truncated call is never reported as a finished one with broken
         * arguments), and an unknown function is never a call. */
        bool ok = rc == 0 || (err && *err);
        for (size_t k = 0; rc == 0 && k < p.n_calls; k++) {
            json_t *j = json_loads(p.calls[k].arguments, 0, NULL);
            if (!BAD[i].partial && !j) ok = false;
            if (strcmp(p.calls[k].name, "no_such_tool") == 0) ok = false;
            json_decref(j);
        }
        if (!ok) fprintf(stderr, "  bad[%zu] %s: rc %d err %s calls %zu\n", i, BAD[i].tmpl, rc, err ? err : "", p.n_calls);
        free(err);
        ia_chat_parsed_free(&p);
        IA_CHECK(ok);
    }
}

/* A turn cut short (max_output_tokens, a full context) never returns a
 * call, whole or not: what the model wrote after its reasoning, the call
 * syntax included, is its text; the reasoning stays reasoning. */
IA_TEST(tools_cut_turn_keeps_call_syntax_as_text) {
    static const struct {
        const char *tmpl, *text, *reasoning, *content;
    } C[] = {
        {"Qwen-Qwen3-0.6B", "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Par",
         "", "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Par"},
        /* a whole call, but the turn did not end */
        {"Qwen-Qwen3-0.6B", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}\n</tool_call>\n<tool",
         "", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"location\": \"Paris\"}}\n</tool_call>\n<tool"},
        {"Qwen-Qwen3-0.6B", "<think>\nCheck Paris.\n</think>\n\n<tool_call>\n{\"name\": \"get_w",
         "Check Paris.", "<tool_call>\n{\"name\": \"get_w"},
        {"Qwen-Qwen3-0.6B", "<think>\nCheck Paris and then", "Check Paris and then", ""},
        {"Qwen-Qwen3-0.6B", "Just text, cut mid-wo", "", "Just text, cut mid-wo"},
        {"mistralai-Mistral-Nemo-Instruct-2407", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"loc",
         "", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"loc"},
        /* a family whose reasoning may end at a call's opener (its prompt opens the
         * thinking block): the opener is the text's */
        {"Qwen3.5-4B", "Check Paris.\n<tool_call>\n<function=get_weather>\n<parameter=location>\nPar",
         "Check Paris.", "<tool_call>\n<function=get_weather>\n<parameter=location>\nPar"},
        /* an empty thinking block is layout, not text */
        {"Qwen-Qwen3-0.6B", "<think>\n\n</think>\n\n<tool_call>\n{\"name\": \"get_w", "",
         "<tool_call>\n{\"name\": \"get_w"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof C / sizeof *C; i++) {
        ia_chat_parsed p;
        char *err = NULL;
        int rc = parse_as(C[i].tmpl, C[i].text, 2, &p, &err);
        bool ok = rc == 0 && p.n_calls == 0 && p.reasoning && !strcmp(p.reasoning, C[i].reasoning) && p.content &&
                  !strcmp(p.content, C[i].content);
        if (!ok) {
            fprintf(stderr, "  cut[%zu] %s: rc %d err %s calls %zu reasoning [%s] content [%s]\n", i, C[i].tmpl, rc,
                    err ? err : "", p.n_calls, p.reasoning ? p.reasoning : "", p.content ? p.content : "");
            bad++;
        }
        free(err);
        ia_chat_parsed_free(&p);
    }
    IA_CHECK(bad == 0);
}

IA_TEST(tools_reasoning_parses_for_thinking_families) {
    static const struct {
        const char *tmpl, *text, *reasoning, *content;
    } R[] = {
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", "The user wants weather.\n</think>\n\nIt is sunny.",
         "The user wants weather.", "It is sunny."},
        {"Qwen-Qwen3-0.6B", "<think>\nCheck Paris.\n</think>\n\nIt is sunny.", "Check Paris.", "It is sunny."},
        {"openai-gpt-oss-120b", "<|channel|>analysis<|message|>Check Paris.<|end|><|start|>assistant<|channel|>final<|message|>It is sunny.",
         "Check Paris.", "It is sunny."},
        {"GLM-4.6", "<think>Check Paris.</think>It is sunny.", "Check Paris.", "It is sunny."},
        /* These two open the thinking block in the generation prompt, so the
         * model's text starts inside it. */
        {"MiniMax-M2", "Check Paris.</think>It is sunny.", "Check Paris.", "It is sunny."},
        {"mistralai-Ministral-3-14B-Reasoning-2512", "[THINK]Check Paris.[/THINK]It is sunny.", "Check Paris.", "It is sunny."},
        {"Kimi-K2-Thinking", "<think>Check Paris.</think>It is sunny.", "Check Paris.", "It is sunny."},
        {"NVIDIA-Nemotron-Nano-v2", "\nCheck Paris.\n</think>\nIt is sunny.", "Check Paris.", "It is sunny."},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof R / sizeof *R; i++) {
        ia_chat_parsed p;
        char *err = NULL;
        int rc = parse_as(R[i].tmpl, R[i].text, false, &p, &err);
        bool ok = rc == 0 && p.reasoning && strcmp(p.reasoning, R[i].reasoning) == 0 && p.content &&
                  strcmp(p.content, R[i].content) == 0 && p.n_calls == 0;
        if (!ok) fprintf(stderr, "  %s: rc %d err %s reasoning [%s] content [%s]\n", R[i].tmpl, rc, err ? err : "",
                         p.reasoning ? p.reasoning : "", p.content ? p.content : "");
        free(err);
        ia_chat_parsed_free(&p);
        if (!ok) bad++;
    }
    IA_CHECK(bad == 0);
}

IA_TEST(tools_history_renders_calls_and_results) {
    /* a model turn with a call and the tool's answer reach the template */
    char *src = ia_test_read_template("Qwen-Qwen3-0.6B"), *err = NULL, *prompt = NULL;
    ia_chat *c = ia_chat_new(NULL, src, &err);
    IA_CHECK(c != NULL);
    ia_chat_call call = {"call_1", "get_weather", "{\"location\":\"Paris\"}"};
    ia_chat_msg m[] = {
        {.role = "user", .content = "Weather in Paris?"},
        {.role = "assistant", .content = "", .calls = &call, .n_calls = 1},
        {.role = "tool", .content = "{\"temp\":21}", .tool_call_id = "call_1", .tool_name = "get_weather"},
    };
    ia_chat_opts o = {.tools = TWO, .n_tools = 2};
    ia_chat_state *st = NULL;
    int rc = ia_chat_render_ex(c, m, 3, &o, &prompt, &st, &err);
    if (rc) fprintf(stderr, "  %s\n", err);
    bool ok = rc == 0 && strstr(prompt, "\"name\": \"get_weather\"") && strstr(prompt, "<tool_response>") &&
              strstr(prompt, "{\"temp\":21}") && strstr(prompt, "Paris");
    if (!ok && prompt) fprintf(stderr, "%s\n", prompt);
    free(prompt);
    free(err);
    ia_chat_state_free(st);
    ia_chat_free(c);
    free(src);
    IA_CHECK(ok);
}

/* ---- the engine on the demo model (random weights) ------------------------------ */

#include <pthread.h>

const char *ia_test_demo_model(void);

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    ia_engine_result res;
    char *content;
    size_t n_calls;
    char names[4][64];
    char *args[4];
} tsink;

static void t_done(void *ud, const ia_engine_result *r) {
    tsink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->res = *r;
    if (r->parsed) {
        s->content = ia_strdup(r->content ? r->content : "");
        s->n_calls = r->n_calls;
        for (size_t i = 0; i < r->n_calls && i < 4; i++) {
            snprintf(s->names[i], sizeof s->names[i], "%s", r->calls[i].name);
            s->args[i] = ia_strdup(r->calls[i].arguments);
        }
    }
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static const ia_engine_tool ENGINE_TOOLS[] = {
    {"get_weather", "Gets the weather for a given location.",
     "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"maxLength\":20},"
     "\"unit\":{\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"location\",\"unit\"]}"},
};

IA_TEST(tools_demo_model_forced_call_is_valid) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "demo", .path = ia_test_demo_model()};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    IA_CHECK(e != NULL);
    int good = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        tsink s;
        memset(&s, 0, sizeof s);
        pthread_mutex_init(&s.mu, NULL);
        pthread_cond_init(&s.cv, NULL);
        ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "What is the weather like in Paris?"}};
        ia_engine_params p = {.has_seed = true, .seed = seed, .max_tokens = 1500, .tools = ENGINE_TOOLS, .n_tools = 1,
                              .tool_choice = IA_TOOLS_REQUIRED};
        ia_engine_cb cb = {.ud = &s, .on_done = t_done};
        IA_CHECK(ia_engine_submit(e, m, 1, &p, &cb, NULL, &err) == 0);
        pthread_mutex_lock(&s.mu);
        while (!s.done) pthread_cond_wait(&s.cv, &s.mu);
        pthread_mutex_unlock(&s.mu);
        json_t *a = s.n_calls ? json_loads(s.args[0], 0, NULL) : NULL;
        const char *unit = json_string_value(json_object_get(a, "unit"));
        bool ok = s.res.finish == IA_FINISH_STOP && s.res.parsed && s.n_calls >= 1 &&
                  strcmp(s.names[0], "get_weather") == 0 && json_is_string(json_object_get(a, "location")) && unit &&
                  (strcmp(unit, "celsius") == 0 || strcmp(unit, "fahrenheit") == 0);
        if (!ok)
            fprintf(stderr, "  seed %llu: finish %d parsed %d calls %zu %s %s (%s)\n", (unsigned long long)seed,
                    s.res.finish, s.res.parsed, s.n_calls, s.names[0], s.args[0] ? s.args[0] : "", s.res.err.msg);
        good += ok;
        json_decref(a);
        free(s.content);
        for (size_t i = 0; i < 4; i++) free(s.args[i]);
        pthread_mutex_destroy(&s.mu);
        pthread_cond_destroy(&s.cv);
    }
    ia_engine_free(e);
    IA_CHECK(good == 5);
}

/* ---- the stored form of calls and results ---------------------------------------- */

#include "store/store.h"

IA_TEST(tools_codec_roundtrips_calls_and_results) {
    ia_turn t = {.role = IA_ROLE_MODEL};
    ia_turn_add_text(&t, "Checking.", 9);
    ia_turn_add_call(&t, "call_1", "get_weather", "{\"location\":\"Paris\"}");
    ia_turn_add_result(&t, "call_1", NULL, "[{\"type\":\"text\",\"text\":\"ok\"}]", true);
    char *enc = ia_codec_turn_encode(&t);
    ia_turn back;
    int rc = enc ? ia_codec_turn_decode(enc, &back) : -1;
    bool ok = rc == 0 && back.n == 3 && back.items[1].kind == IA_CONTENT_FUNCTION_CALL &&
              strcmp(back.items[1].id, "call_1") == 0 && strcmp(back.items[1].name, "get_weather") == 0 &&
              strcmp(back.items[1].text, "{\"location\":\"Paris\"}") == 0 &&
              back.items[2].kind == IA_CONTENT_FUNCTION_RESULT && back.items[2].name == NULL &&
              back.items[2].is_error && strcmp(back.items[2].text, "[{\"type\":\"text\",\"text\":\"ok\"}]") == 0;
    if (!ok) fprintf(stderr, "  %s\n", enc ? enc : "(null)");
    /* a call without a name is malformed */
    ia_turn bad;
    int rc2 = ia_codec_turn_decode("{\"role\":\"model\",\"items\":[{\"kind\":\"function_call\",\"id\":\"c\",\"arguments\":\"{}\"}]}", &bad);
    free(enc);
    ia_turn_free(&t);
    if (rc == 0) ia_turn_free(&back);
    IA_CHECK(ok);
    IA_CHECK(rc2 == -1);
}

/* ---- thinking: budgets on the demo model under a reasoning template --------------- */

#include "core/thought.h"

static ia_engine *load_thinking_demo(void) {
    ia_engine_global_init(NULL, false);
    char tmpl[1024];
    snprintf(tmpl, sizeof tmpl, "%s/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", ia_test_llama_src());
    ia_engine_opts o = {.name = "think", .path = ia_test_demo_model(), .chat_template = tmpl};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    return e;
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    ia_engine_result res;
    char *reasoning, *content;
} rsink;

static void r_done(void *ud, const ia_engine_result *r) {
    rsink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->res = *r;
    s->reasoning = ia_strdup(r->parsed && r->reasoning ? r->reasoning : "");
    s->content = ia_strdup(r->parsed && r->content ? r->content : "");
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void think_once(ia_engine *e, int budget, int64_t max_tokens, rsink *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Why is the sky blue?"}};
    ia_engine_params p = {.has_seed = true, .seed = 3, .max_tokens = max_tokens, .thinking_budget = budget};
    ia_engine_cb cb = {.ud = s, .on_done = r_done};
    ia_err err = {0};
    if (ia_engine_submit(e, m, 1, &p, &cb, NULL, &err) != 0) return;
    pthread_mutex_lock(&s->mu);
    while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void rsink_free(rsink *s) {
    free(s->reasoning);
    free(s->content);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

IA_TEST(thinking_budget_bounds_the_reasoning) {
    ia_engine *e = load_thinking_demo();
    IA_CHECK(e != NULL);
    bool reasons = ia_engine_reasons(e);
    rsink a, b, c;
    think_once(e, 16, 200, &a);  /* a small budget: the end tag is forced after it */
    think_once(e, 64, 200, &b);  /* a larger one: more reasoning */
    think_once(e, -1, 40, &c);   /* thinking off: the block closes at once */
    ia_engine_free(e);
    bool ok = reasons && a.res.parsed && b.res.parsed && c.res.parsed && a.res.n_thought > 0 &&
              a.res.n_thought <= 24 && b.res.n_thought > a.res.n_thought && b.res.n_thought <= 80 &&
              strlen(c.reasoning) == 0 && a.res.n_output > a.res.n_thought;
    if (!ok)
        fprintf(stderr, "  reasons %d; a: %lld/%lld [%s|%s]; b: %lld; c: [%s]\n", reasons, (long long)a.res.n_thought,
                (long long)a.res.n_output, a.reasoning, a.content, (long long)b.res.n_thought, c.reasoning);
    rsink_free(&a);
    rsink_free(&b);
    rsink_free(&c);
    IA_CHECK(ok);
}

IA_TEST(thinking_signature_seals_and_refuses_forgery) {
    uint8_t key[IA_THOUGHT_KEY_LEN], other[IA_THOUGHT_KEY_LEN];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    char *sig = ia_thought_seal(key, "I should check the weather first.");
    IA_CHECK(sig && strncmp(sig, "v1.", 3) == 0);
    char *back = ia_thought_open(key, sig);
    bool same = back && strcmp(back, "I should check the weather first.") == 0;
    char *wrong_key = ia_thought_open(other, sig);
    sig[10] = sig[10] == 'A' ? 'B' : 'A'; /* one character altered */
    char *altered = ia_thought_open(key, sig);
    char *junk = ia_thought_open(key, "v1.AAAA");
    char *none = ia_thought_open(key, "not a signature");
    char *empty = ia_thought_seal(key, "");
    char *empty_back = ia_thought_open(key, empty);
    bool ok = same && !wrong_key && !altered && !junk && !none && empty_back && !*empty_back;
    free(sig);
    free(back);
    free(wrong_key);
    free(altered);
    free(empty);
    free(empty_back);
    IA_CHECK(ok);
}

/* ---- tools + structured output: the composed grammar ---------------------------- */

#include <llama.h>
#include <math.h>

/* Does grammar sampler g accept text, token by token (the tokens of text
 * under vocab)? Each token is offered alone; the sampler must leave its
 * logit finite, then accepts it. */
static bool grammar_accepts(struct llama_sampler *g, const struct llama_vocab *vocab, const char *text) {
    llama_token toks[512];
    int n = llama_tokenize(vocab, text, (int32_t)strlen(text), toks, 512, false, true);
    if (n <= 0) return false;
    for (int i = 0; i < n; i++) {
        llama_token_data d = {toks[i], 1.0f, 0.0f};
        llama_token_data_array arr = {&d, 1, -1, false};
        llama_sampler_apply(g, &arr);
        if (!isfinite(d.logit)) return false;
        llama_sampler_accept(g, toks[i]);
    }
    return true;
}

IA_TEST(tools_with_schema_grammar_allows_a_call_or_the_answer) {
    ia_engine_global_init(NULL, false);
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    struct llama_model *m = llama_model_load_from_file(ia_test_demo_model(), mp);
    IA_CHECK(m != NULL);
    const struct llama_vocab *vocab = llama_model_get_vocab(m);
    char *err = NULL, *prompt = NULL;
    ia_chat *c = ia_chat_new(m, NULL, &err);
    const char *answer = "root ::= \"{\" space \"\\\"ok\\\"\" space \":\" space (\"true\" | \"false\") space \"}\"\n"
                         "space ::= | \" \"\n";
    ia_chat_msg msg[] = {{.role = "user", .content = "Weather?"}};
    ia_chat_opts o = {.tools = TWO, .n_tools = 2, .answer_grammar = answer};
    const char *texts[] = {
        "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"UTC\"}}\n</tool_call>", /* a call */
        "{\"ok\": true}",                                                                   /* the answer */
        "Hello there",                                                                      /* free text: no */
        "{\"ok\": 3}",                                                                      /* off-schema: no */
    };
    const bool want[] = {true, true, false, false};
    bool ok = c != NULL;
    for (size_t i = 0; ok && i < 4; i++) {
        ia_chat_state *st = NULL;
        struct llama_sampler *g = NULL;
        if (ia_chat_render_ex(c, msg, 1, &o, &prompt, &st, &err) != 0 || ia_chat_state_sampler(st, vocab, &g, &err) != 0 || !g) {
            fprintf(stderr, "  %s\n", err ? err : "no grammar");
            ok = false;
        } else if (grammar_accepts(g, vocab, texts[i]) != want[i]) {
            fprintf(stderr, "  [%zu] %s: expected %s\n", i, texts[i], want[i] ? "accepted" : "refused");
            ok = false;
        }
        if (g) llama_sampler_free(g);
        ia_chat_state_free(st);
        free(prompt);
        prompt = NULL;
    }
    free(err);
    ia_chat_free(c);
    llama_model_free(m);
    IA_CHECK(ok);
}

/* ---- the conversation as chat messages (core/prompt.c) -------------------------- */

#include "core/prompt.h"

IA_TEST(tools_prompt_messages_carry_calls_results_and_reasoning) {
    ia_conv conv = {0};
    ia_turn *u = ia_conv_add_turn(&conv, IA_ROLE_USER);
    ia_turn_add_text(u, "Weather?", 8);
    ia_turn *mdl = ia_conv_add_turn(&conv, IA_ROLE_MODEL);
    ia_turn_add_thought(mdl, "Check Paris.", "v1.x", false);
    ia_turn_add_call(mdl, "call_a", "get_weather", "{\"location\":\"Paris\"}");
    ia_turn *r = ia_conv_add_turn(&conv, IA_ROLE_USER);
    ia_turn_add_result(r, "call_a", NULL, "[{\"type\":\"text\",\"text\":\"sunny\"}]", false);
    ia_turn_add_result(r, "call_a", "get_weather", "{\"t\":21}", true);
    ia_turn_add_text(r, "Thanks.", 7);
    ia_msgbuf mb = {0};
    ia_prompt_messages("Be brief.", &conv, &mb);
    ia_err err = {0};
    int ok_results = ia_prompt_check_results(&conv, &err);
    bool ok = mb.n == 6 && mb.msgs[0].role == IA_MSG_SYSTEM && mb.msgs[1].role == IA_MSG_USER &&
              mb.msgs[2].role == IA_MSG_ASSISTANT && mb.msgs[2].n_calls == 1 &&
              strcmp(mb.msgs[2].calls[0].name, "get_weather") == 0 && mb.msgs[2].reasoning &&
              strcmp(mb.msgs[2].reasoning, "Check Paris.") == 0 && mb.msgs[3].role == IA_MSG_TOOL &&
              strcmp(mb.msgs[3].text, "sunny") == 0 && strcmp(mb.msgs[3].name, "get_weather") == 0 &&
              strcmp(mb.msgs[3].call_id, "call_a") == 0 && mb.msgs[4].role == IA_MSG_TOOL &&
              strcmp(mb.msgs[4].text, "error: {\"t\":21}") == 0 && mb.msgs[5].role == IA_MSG_USER &&
              strcmp(mb.msgs[5].text, "Thanks.") == 0 && ok_results == 0;
    /* a result for a call the conversation never made */
    ia_turn_add_result(r, "call_zzz", NULL, "\"x\"", false);
    int bad = ia_prompt_check_results(&conv, &err);
    ia_msgbuf_free(&mb);
    ia_conv_free(&conv);
    IA_CHECK(ok);
    IA_CHECK(bad == -1 && err.code == IA_EINVALID);
    IA_CHECK_CONTAINS(err.msg, "call_id 'call_zzz' matches no function_call");
}

/* Live text for requests with tools: the text a partial parse reports for
 * every prefix of a turn (cut at each byte, as tokens arrive) must be a
 * prefix of the final text, in every family, so streaming it can never show
 * call syntax as text nor take text back. */
IA_TEST(tools_partial_parse_text_is_a_prefix_of_the_final) {
    static const char *extra[][2] = {
        {"Qwen-Qwen3-0.6B", "Sure, here it is: <tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"},
        {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "The weather is fine. No call needed <tool"},
        {"mistralai-Mistral-Nemo-Instruct-2407", "Plain answer with [brackets] and {braces}."},
        {"meta-llama-Llama-3.1-8B-Instruct", "It is 20 degrees and sunny."},
        {"google-gemma-4-31B-it", "No call: just <b>text</b>."},
        /* blank lines before a call: no text at all, live or final */
        {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use",
         "\n\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"},
        {"Qwen-Qwen3-0.6B", "\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"},
        {"meta-llama-Llama-3.1-8B-Instruct", "\n{\"name\": \"get_time\", \"parameters\": {}}"},
        {"mistralai-Mistral-Nemo-Instruct-2407",
         " [TOOL_CALLS][{\"name\": \"get_time\", \"arguments\": {}, \"id\": \"abc123def\"}]"},
        {"google-gemma-4-31B-it", "\n<|tool_call>call:get_time{}<tool_call|>"},
    };
    size_t nf = sizeof FAMILIES / sizeof *FAMILIES, ne = sizeof extra / sizeof *extra;
    int bad = 0;
    for (size_t k = 0; k < nf + ne; k++) {
        const char *tmpl = k < nf ? FAMILIES[k].tmpl : extra[k - nf][0];
        const char *text = k < nf ? FAMILIES[k].text : extra[k - nf][1];
        ia_chat_parsed fin;
        char *err = NULL;
        /* the final parse of a turn cut short is partial too: compare against the full turn's */
        if (parse_as(tmpl, text, false, &fin, &err) != 0) {
            fprintf(stderr, "  %s: final parse failed: %s\n", tmpl, err ? err : "");
            free(err);
            bad++;
            continue;
        }
        free(err);
        size_t len = strlen(text);
        for (size_t cut = 1; cut < len; cut++) {
            if (((unsigned char)text[cut] & 0xC0) == 0x80) continue; /* inside a UTF-8 sequence */
            char *pre = ia_strndup(text, cut);
            ia_chat_parsed p;
            err = NULL;
            if (parse_as(tmpl, pre, true, &p, &err) == 0 && p.content &&
                strncmp(p.content, fin.content ? fin.content : "", strlen(p.content)) != 0) {
                fprintf(stderr, "  %s: after %zu bytes the text is [%s], not a prefix of [%s]\n", tmpl, cut,
                        p.content, fin.content ? fin.content : "");
                bad++;
                free(err);
                ia_chat_parsed_free(&p);
                free(pre);
                break;
            }
            free(err);
            ia_chat_parsed_free(&p);
            free(pre);
        }
        ia_chat_parsed_free(&fin);
    }
    IA_CHECK(bad == 0);
}
