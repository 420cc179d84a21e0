/* chat.cpp: the project's only C++ — a thin shim that lets C code render a
 * conversation with a model's own Jinja chat template through llama.cpp's
 * common chat library (libllama-common: its Jinja engine, the same code
 * llama-server runs). It converts C messages to common_chat_msg, calls
 * common_chat_templates_init / common_chat_templates_apply, and turns every
 * C++ exception into an error string at the C boundary, so a broken template
 * is a request error and never a crash. Everything here is per-object state;
 * the engine thread owns its ia_chat. */
#include "engine/chat.h"

#include <chat.h>
#include <llama.h>
#include <log.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

struct ia_chat {
    common_chat_templates_ptr tmpls; /* null for the plain fallback */
};

/* malloc'd copy, so that C callers free() what they get. */
static char *dup_cstr(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

static void set_err(char **err, const std::string &msg) {
    if (err) *err = dup_cstr(msg);
}

extern "C" void ia_chat_set_verbose(bool verbose) {
    /* Below LOG_LEVEL_ERROR nothing passes the LOG_* macros' threshold test,
     * so the common log's worker thread is never even started. */
    common_log_set_verbosity_thold(verbose ? LOG_LEVEL_INFO : LOG_LEVEL_OUTPUT);
}

extern "C" ia_chat *ia_chat_new(const struct llama_model *model, const char *template_override, char **err) {
    if (err) *err = nullptr;
    try {
        std::unique_ptr<ia_chat> c(new ia_chat());
        bool has_override = template_override && *template_override;
        /* common_chat_templates_init would substitute ChatML for a model with
         * no template; a base model (TinyStories) continues plain text far
         * better, so that case is ours: the documented plain fallback. */
        if (!has_override && (!model || !llama_model_chat_template(model, nullptr))) return c.release();
        c->tmpls = common_chat_templates_init(model, has_override ? template_override : "");
        if (!c->tmpls) {
            set_err(err, "chat template: initialisation failed");
            return nullptr;
        }
        return c.release();
    } catch (const std::exception &e) {
        set_err(err, std::string("chat template: ") + e.what());
    } catch (...) {
        set_err(err, "chat template: unknown error");
    }
    return nullptr;
}

extern "C" void ia_chat_free(ia_chat *c) {
    delete c;
}

extern "C" bool ia_chat_is_plain(const ia_chat *c) {
    return !c || !c->tmpls;
}

extern "C" int ia_chat_render(ia_chat *c, const ia_chat_msg *msgs, size_t n, char **out, char **err) {
    if (out) *out = nullptr;
    if (err) *err = nullptr;
    try {
        std::string text;
        if (!c->tmpls) {
            /* Plain fallback: the turns' text, no roles (see chat.h). */
            for (size_t i = 0; i < n; i++) {
                if (!msgs[i].content || !*msgs[i].content) continue;
                if (!text.empty()) text += "\n\n";
                text += msgs[i].content;
            }
        } else {
            common_chat_templates_inputs in;
            in.use_jinja = true;
            in.add_generation_prompt = true;
            for (size_t i = 0; i < n; i++) {
                common_chat_msg m;
                m.role = msgs[i].role ? msgs[i].role : "user";
                m.content = msgs[i].content ? msgs[i].content : "";
                in.messages.push_back(std::move(m));
            }
            text = common_chat_templates_apply(c->tmpls.get(), in).prompt;
        }
        *out = dup_cstr(text);
        if (!*out) {
            set_err(err, "out of memory");
            return -1;
        }
        return 0;
    } catch (const std::exception &e) {
        set_err(err, std::string("chat template: ") + e.what());
    } catch (...) {
        set_err(err, "chat template: unknown error");
    }
    return -1;
}
