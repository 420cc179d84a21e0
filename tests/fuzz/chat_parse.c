/* Fuzz target: the end-of-turn and live parse of a model's output
 * (ia_chat_parse, src/engine/chat.cpp over llama.cpp's common_chat_parse):
 * the text a model writes is outside bytes too — a random or adversarial
 * model, or a prompt that steers one, writes anything, and the parse splits
 * it into text, reasoning and tool calls in each template family's syntax.
 *
 * Set-up (once): real templates of the llama.cpp bundle rendered with two
 * functions, giving one parser state per family (Hermes/Qwen <tool_call>,
 * Llama 3.1 JSON, Mistral [TOOL_CALLS], gpt-oss harmony, DeepSeek V3.1,
 * Gemma 4, Qwen3-Coder XML, the built-in ChatML + Hermes tools, reasoning
 * only, and a required call). Input: byte 0 picks the state, bit 0 of byte 1
 * says partial (a turn cut by max tokens, or the live re-parse); the rest is
 * the model's text. Checks: a parse either fails with a message or gives
 * text and reasoning, and every call has a name and arguments that are a
 * JSON object (what core stores and the wire sends as an object).
 *
 * Reported, not fatal: the engine streams text and reasoning live from
 * partial parses of the text so far and core sends only what the final
 * parse adds to them (src/core/run.c rest_of; a final parse that does not
 * start with what was streamed leaves stream and store different). For a
 * final parse that succeeds, the partial parse of a cut of the text (where:
 * the upper bits of byte 1) is checked to be a prefix of it; a mismatch is
 * printed ("live-prefix mismatch") and its first inputs saved as
 * build/fuzz/artifacts/chat_parse/prefix-N, since it is llama.cpp's parsers'
 * behaviour more than ours. */
#include "fuzz.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "lib/util.h"

typedef struct {
    const char *tmpl; /* file under models/templates, or NULL for CHATML */
    int n_tools;
    ia_chat_tool_choice choice;
} family;

static const family FAMILIES[] = {
    {"Qwen-Qwen3-0.6B", 2, IA_CHAT_TOOLS_AUTO},
    {"Qwen-Qwen3-0.6B", 0, IA_CHAT_TOOLS_AUTO},
    {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", 2, IA_CHAT_TOOLS_AUTO},
    {"meta-llama-Llama-3.1-8B-Instruct", 2, IA_CHAT_TOOLS_AUTO},
    {"mistralai-Mistral-Nemo-Instruct-2407", 2, IA_CHAT_TOOLS_AUTO},
    {"openai-gpt-oss-120b", 2, IA_CHAT_TOOLS_AUTO},
    {"deepseek-ai-DeepSeek-V3.1", 2, IA_CHAT_TOOLS_AUTO},
    {"google-gemma-4-31B-it", 2, IA_CHAT_TOOLS_AUTO},
    {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", 0, IA_CHAT_TOOLS_AUTO},
    {"Qwen3-Coder", 2, IA_CHAT_TOOLS_AUTO},
    {NULL, 2, IA_CHAT_TOOLS_AUTO},
    {"Qwen-Qwen3-0.6B", 2, IA_CHAT_TOOLS_REQUIRED},
};
#define N_FAMILIES (sizeof FAMILIES / sizeof *FAMILIES)

/* A ChatML template with no tool section: the shim pairs it with its
 * built-in ChatML + Hermes tool template (the demo model's case). */
static const char CHATML[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

static const ia_chat_tool TOOLS[] = {
    {"get_weather", "Gets the weather for a given location.",
     "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}},"
     "\"required\":[\"location\"]}"},
    {"get_time", "Gets the local time.", "{\"type\":\"object\",\"properties\":{\"tz\":{\"type\":\"string\"}}}"},
};

static ia_chat *g_chats[N_FAMILIES];
static unsigned g_mismatches;
static ia_chat_state *g_states[N_FAMILIES];
static size_t g_n;

static char *read_template(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.jinja", IA_FUZZ_TEMPLATES, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    ia_chat_set_verbose(false);
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const family *f = &FAMILIES[i];
        char *src = f->tmpl ? read_template(f->tmpl) : strdup(CHATML), *err = NULL, *prompt = NULL;
        ia_chat *c = src ? ia_chat_new(NULL, src, &err) : NULL;
        ia_chat_msg m[] = {{.role = "user", .content = "Weather in Paris?"}};
        ia_chat_opts o = {.tools = TOOLS, .n_tools = (size_t)f->n_tools, .tool_choice = f->choice,
                          .parallel_tool_calls = true};
        ia_chat_state *st = NULL;
        if (c && ia_chat_render_ex(c, m, 1, &o, &prompt, &st, &err) == 0) {
            g_chats[g_n] = c;
            g_states[g_n++] = st;
        } else {
            fprintf(stderr, "chat_parse fuzz: %s left out: %s\n", f->tmpl ? f->tmpl : "chatml",
                    err ? err : "template not found");
            ia_chat_free(c);
        }
        free(err);
        free(prompt);
        free(src);
    }
    if (g_n == 0) {
        fprintf(stderr, "chat_parse fuzz: no template could be set up (%s)\n", IA_FUZZ_TEMPLATES);
        abort();
    }
    return 0;
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The partial parse of text cut at `cut` against the final parse fin. */
static void check_live_prefix(const ia_chat_state *st, const char *text, size_t cut, const ia_chat_parsed *fin,
                              const uint8_t *data, size_t size) {
    char *part = strndup(text, cut);
    ia_chat_parsed p;
    char *err = NULL;
    if (part && ia_chat_parse(st, part, true, &p, &err) == 0) {
        bool ok = starts_with(fin->reasoning, p.reasoning) && starts_with(fin->content, p.content);
        if (!ok && g_mismatches++ < 20) {
            fprintf(stderr, "live-prefix mismatch (state %u, cut %zu): partial [%s|%s] final [%s|%s]\n",
                    (unsigned)data[0], cut, p.reasoning, p.content, fin->reasoning, fin->content);
            char path[1200];
            snprintf(path, sizeof path, "%s/build/fuzz/artifacts/chat_parse/prefix-%u", IA_SOURCE_DIR,
                     g_mismatches);
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(data, 1, size, f);
                fclose(f);
            }
        }
        ia_chat_parsed_free(&p);
    }
    free(err);
    free(part);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const ia_chat_state *st = g_states[data[0] % g_n];
    bool partial = data[1] & 1;
    char *text = fuzz_cstr(data + 2, size - 2);
    ia_chat_parsed p;
    char *err = NULL;
    if (ia_chat_parse(st, text, partial, &p, &err) == 0) {
        FUZZ_CHECK(err == NULL);
        FUZZ_CHECK(p.content != NULL && p.reasoning != NULL);
        for (size_t i = 0; i < p.n_calls; i++) {
            FUZZ_CHECK(p.calls[i].id && p.calls[i].name && p.calls[i].arguments);
            json_t *a = json_loads(p.calls[i].arguments, 0, NULL);
            FUZZ_CHECK(json_is_object(a));
            json_decref(a);
        }
        size_t len = strlen(text);
        /* the engine parses only whole UTF-8 (its output filter holds back a split character) */
        size_t cut = ia_utf8_complete_prefix(text, (size_t)(data[1] >> 1) * len / 128);
        if (!partial && len) check_live_prefix(st, text, cut, &p, data, size);
    } else {
        FUZZ_CHECK(err != NULL && err[0] != '\0');
        FUZZ_CHECK(p.n_calls == 0 && p.content == NULL);
    }
    ia_chat_parsed_free(&p);
    free(err);
    free(text);
    return 0;
}
