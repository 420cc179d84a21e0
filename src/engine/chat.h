/* chat: C interface to the C++ shim (chat.cpp) over llama.cpp's common chat
 * library (libllama-common): the model's own Jinja chat template rendered by
 * llama.cpp's Jinja engine. The only C++ in the project lives behind this.
 *
 * Plain fallback: a model with no template (and no override) is rendered as
 * the turns' text with no role markers, a blank line ("\n\n") before each
 * turn but the model's, which continues the text right where it was
 * generated — what a base (non-chat) model such as a TinyStories model
 * continues naturally, and a prompt that starts with what the model saw.
 *
 * Not thread-safe per object: the engine's workers render one at a time
 * (a mutex in the engine); the states it returns are per job. */
#ifndef IA_ENGINE_CHAT_H
#define IA_ENGINE_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct llama_model;
typedef struct ia_chat ia_chat;

/* A tool call, as the model wrote it (assistant messages) or as the parser
 * read it (ia_chat_parsed). arguments: a JSON object as text. */
typedef struct ia_chat_call {
    const char *id;
    const char *name;
    const char *arguments;
} ia_chat_call;

typedef struct ia_chat_msg {
    const char *role; /* "system", "user", "assistant", "tool" */
    const char *content;
    /* assistant: the calls it made (rendered by the template's tool syntax) */
    const ia_chat_call *calls;
    size_t n_calls;
    /* tool: the call this message answers, and the function's name */
    const char *tool_call_id;
    const char *tool_name;
    /* assistant: its reasoning, for templates that render it */
    const char *reasoning;
    /* assistant: the tokens the model sampled for content, when known (the
     * template ignores them; the engine's tokenizer splices them in) */
    const int32_t *tokens;
    size_t n_tokens;
} ia_chat_msg;

/* A function the model may call: parameters is a JSON Schema as text. */
typedef struct ia_chat_tool {
    const char *name;
    const char *description;
    const char *parameters;
} ia_chat_tool;

typedef enum {
    IA_CHAT_TOOLS_AUTO = 0, /* the model chooses; a call is grammar-bound once it starts */
    IA_CHAT_TOOLS_REQUIRED, /* the model must call: exactly one call, first thing in the
                               answer (the grammar is active from the first token) */
    IA_CHAT_TOOLS_NONE,     /* tools are described but no call is parsed or allowed */
} ia_chat_tool_choice;

/* What a render decides beyond the prompt: the template family's output
 * format and parser, its tool-call grammar and triggers, extra stops. */
typedef struct ia_chat_opts {
    const ia_chat_tool *tools;
    size_t n_tools;
    ia_chat_tool_choice tool_choice;
    bool parallel_tool_calls;
    /* Reasoning: < 0 switches the template's thinking off (and closes a
     * thinking block at once); > 0 allows at most that many reasoning
     * tokens (ia_chat_state_budget_sampler); 0 leaves the model free. */
    int thinking_budget;
    /* With tools: a GBNF grammar (root "root") the answer must follow when
     * the model does not call (structured output beside tools). The call
     * grammar then becomes "one call, or the answer", on from the first
     * token. */
    const char *answer_grammar;
} ia_chat_opts;
typedef struct ia_chat_state ia_chat_state;

/* Quiets libllama-common's own log (template warnings and errors, which
 * ia_chat_new / ia_chat_render report through *err anyway) unless verbose.
 * Call once at start-up, before any other ia_chat function (not
 * thread-safe); ia_engine_global_init does. */
void ia_chat_set_verbose(bool verbose);

/* template_override: Jinja source, or NULL to use the model's own.
 * Returns NULL with a malloc'd message in *err on failure (e.g. a template
 * the Jinja engine cannot parse). */
ia_chat *ia_chat_new(const struct llama_model *model, const char *template_override, char **err);
void ia_chat_free(ia_chat *c);
bool ia_chat_is_plain(const ia_chat *c);

/* Renders msgs with the generation prompt appended. *out is malloc'd.
 * Returns 0, or -1 with a malloc'd *err. */
int ia_chat_render(ia_chat *c, const ia_chat_msg *msgs, size_t n, char **out, char **err);

/* ia_chat_render with tools: also returns *state (free with
 * ia_chat_state_free), which samples and parses this turn's output. A plain
 * (template-less) chat refuses tools (IA_EINVALID-worthy *err). */
int ia_chat_render_ex(ia_chat *c, const ia_chat_msg *msgs, size_t n, const ia_chat_opts *opts,
                      char **out, ia_chat_state **state, char **err);
void ia_chat_state_free(ia_chat_state *st);
/* The family's output format, as llama.cpp names it (e.g. "peg-native"). */
const char *ia_chat_state_format(const ia_chat_state *st);
/* The tool-call grammar of the turn as a llama_sampler (lazy, switched on by
 * the family's triggers, unless the choice is REQUIRED), or NULL in *out
 * when the turn has none. Returns 0, or -1 with *err. */
struct llama_vocab;
struct llama_sampler;
int ia_chat_state_sampler(const ia_chat_state *st, const struct llama_vocab *vocab,
                          struct llama_sampler **out, char **err);
/* Whether the template reasons (a thinking block the parser splits off). */
bool ia_chat_state_reasons(const ia_chat_state *st);
/* Whether the chat's template reasons at all (probed once, at load). */
bool ia_chat_reasons(ia_chat *c);
/* The reasoning budget of the turn as a llama_sampler (llama.cpp's own:
 * counts tokens inside the thinking block and forces its end tag when the
 * budget is spent), or NULL in *out when the turn has no budget or the
 * family no thinking tags. Returns 0, or -1 with *err. */
int ia_chat_state_budget_sampler(const ia_chat_state *st, const struct llama_vocab *vocab,
                                 struct llama_sampler **out, char **err);

/* Whether the next token of a job with that budget sampler is inside the
 * thinking block (so counts as reasoning). */
bool ia_chat_budget_inside(const struct llama_sampler *budget);

/* Extra stop strings the family needs (e.g. "<|im_end|>"): *n of them,
 * owned by st. */
const char *const *ia_chat_state_stops(const ia_chat_state *st, size_t *n);

/* The model's text of one turn, parsed: the answer's text, its reasoning,
 * and its tool calls in order (id: the one the model wrote, "" when none;
 * the caller gives calls ids of its own). Every string is malloc'd. */
typedef struct ia_chat_parsed {
    char *content;
    char *reasoning;
    struct {
        char *id, *name, *arguments;
    } *calls;
    size_t n_calls;
} ia_chat_parsed;
/* partial: the text may stop mid-call (a truncated output); a malformed
 * call is then text, never a crash. Returns 0, or -1 with *err. */
int ia_chat_parse(const ia_chat_state *st, const char *text, bool partial, ia_chat_parsed *out, char **err);
/* The final parse of a turn cut short (max tokens, a full context, a
 * cancel): as a partial parse, except that a turn that may call returns no
 * call at all — one may be unfinished — and its text is everything the
 * model wrote after its reasoning, call syntax included. */
int ia_chat_parse_cut(const ia_chat_state *st, const char *text, ia_chat_parsed *out, char **err);
void ia_chat_parsed_free(ia_chat_parsed *p);

/* Whether llama.cpp's grammar engine takes a GBNF grammar: 0, or -1 with
 * *why (its reason) and *rule (the rule it failed in; both malloc'd). */
int ia_chat_grammar_check(const char *gbnf, char **why, char **rule);

/* llama_sampler_sample behind a C++ exception guard: 0 with *out set, or -1
 * when llama.cpp threw (a grammar with no way forward). */
struct llama_sampler;
struct llama_context;
int ia_chat_sample(struct llama_sampler *smpl, struct llama_context *ctx, int idx, int32_t *out);

#ifdef __cplusplus
}
#endif
#endif
