/* chat: C interface to the C++ shim (chat.cpp) over llama.cpp's common chat
 * library (libllama-common): the model's own Jinja chat template rendered by
 * llama.cpp's Jinja engine. The only C++ in the project lives behind this.
 *
 * Plain fallback: a model with no template (and no override) is rendered as
 * the turns' text joined by "\n\n" with no role markers — what a base
 * (non-chat) model such as a TinyStories model continues naturally.
 *
 * Not thread-safe per object: the engine thread owns its ia_chat. */
#ifndef IA_ENGINE_CHAT_H
#define IA_ENGINE_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct llama_model;
typedef struct ia_chat ia_chat;

typedef struct ia_chat_msg {
    const char *role; /* "system", "user", "assistant" */
    const char *content;
} ia_chat_msg;

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

#ifdef __cplusplus
}
#endif
#endif
