/* test_chat: the chat shim renders conversations with real chat templates
 * (the llama.cpp bundle's models/templates/<name>.jinja) over real tokenizers
 * (models/ggml-vocab-*.gguf, loaded vocab-only), through llama.cpp's own
 * Jinja engine in libllama-common; plus the model's own template, the plain
 * fallback, and a broken template that must be an error, not a crash. */
#include <llama.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "unit.h"

static struct llama_model *load_vocab(const char *name) {
    ia_engine_global_init(NULL, false);
    char path[1024];
    snprintf(path, sizeof path, "%s/models/ggml-vocab-%s.gguf", ia_test_llama_src(), name);
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    return llama_model_load_from_file(path, mp);
}


static const ia_chat_msg CONVO[] = {
    {.role = "system", .content = "Be brief."},
    {.role = "user", .content = "Hi"},
    {.role = "assistant", .content = "Hello!"},
    {.role = "user", .content = "How are you?"},
};

/* Renders CONVO (or its last n turns) with template tmpl_name over vocabulary
 * vocab_name; returns the malloc'd prompt or NULL. */
static char *render_with(const char *vocab_name, const char *tmpl_name, size_t skip) {
    struct llama_model *m = load_vocab(vocab_name);
    if (!m) return NULL;
    char *src = ia_test_read_template(tmpl_name), *out = NULL, *err = NULL;
    ia_chat *c = src ? ia_chat_new(m, src, &err) : NULL;
    if (c && ia_chat_render(c, CONVO + skip, sizeof CONVO / sizeof *CONVO - skip, &out, &err) != 0) out = NULL;
    if (err) fprintf(stderr, "  render %s: %s\n", tmpl_name, err);
    free(err);
    ia_chat_free(c);
    free(src);
    llama_model_free(m);
    return out;
}

IA_TEST(chat_qwen3) {
    char *s = render_with("qwen2", "Qwen-Qwen3-0.6B", 0);
    IA_CHECK(s != NULL);
    int ok = strstr(s, "<|im_start|>system\nBe brief.<|im_end|>\n") &&
             strstr(s, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n") &&
             strstr(s, "<|im_start|>user\nHow are you?<|im_end|>\n<|im_start|>assistant\n");
    size_t len = strlen(s);
    int ends = len > 22 && strcmp(s + len - 22, "<|im_start|>assistant\n") == 0;
    if (!ok || !ends) fprintf(stderr, "  got: %s\n", s);
    free(s);
    IA_CHECK(ok);
    IA_CHECK(ends);
}

IA_TEST(chat_llama32) {
    char *s = render_with("llama-bpe", "meta-llama-Llama-3.2-3B-Instruct", 0);
    IA_CHECK(s != NULL);
    /* The template writes <|begin_of_text|>; the shim drops it because the
     * tokenizer adds BOS itself, so it is not doubled. */
    int ok = strncmp(s, "<|start_header_id|>system<|end_header_id|>\n\n", 44) == 0 &&
             strstr(s, "Be brief.<|eot_id|>") &&
             strstr(s, "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>") &&
             strstr(s, "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>") &&
             strstr(s, "How are you?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    if (!ok) fprintf(stderr, "  got: %s\n", s);
    free(s);
    IA_CHECK(ok);
}

IA_TEST(chat_gemma) {
    char *s = render_with("gemma-4", "google-gemma-2-2b-it", 0);
    IA_CHECK(s != NULL);
    /* Gemma has no system role: the shim's library folds it into the first
     * user turn. */
    int ok = strstr(s, "<start_of_turn>user\nBe brief.") &&
             strstr(s, "Hi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n") &&
             strstr(s, "<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n");
    if (!ok) fprintf(stderr, "  got: %s\n", s);
    free(s);
    IA_CHECK(ok);
}

IA_TEST(chat_phi35) {
    char *s = render_with("phi-3", "microsoft-Phi-3.5-mini-instruct", 0);
    IA_CHECK(s != NULL);
    int ok = strstr(s, "<|system|>\nBe brief.<|end|>\n") && strstr(s, "<|user|>\nHi<|end|>\n") &&
             strstr(s, "<|assistant|>\nHello!<|end|>\n") &&
             strstr(s, "<|user|>\nHow are you?<|end|>\n<|assistant|>\n");
    if (!ok) fprintf(stderr, "  got: %s\n", s);
    free(s);
    IA_CHECK(ok);
}

IA_TEST(chat_mistral_nemo) {
    char *s = render_with("llama-spm", "mistralai-Mistral-Nemo-Instruct-2407", 0);
    IA_CHECK(s != NULL);
    /* Mistral puts the system prompt into the last user turn. */
    int ok = strstr(s, "[INST]Hi[/INST]Hello!</s>") &&
             strstr(s, "[INST]Be brief.\n\nHow are you?[/INST]");
    if (!ok) fprintf(stderr, "  got: %s\n", s);
    free(s);
    IA_CHECK(ok);
}

IA_TEST(chat_model_own_template_phi3) {
    /* The Phi-3 tokenizer carries its real template: no override. */
    struct llama_model *m = load_vocab("phi-3");
    IA_CHECK(m != NULL);
    IA_CHECK(llama_model_chat_template(m, NULL) != NULL);
    char *out = NULL, *err = NULL;
    ia_chat *c = ia_chat_new(m, NULL, &err);
    int ok = c && !ia_chat_is_plain(c) && ia_chat_render(c, CONVO + 1, 1, &out, &err) == 0;
    if (ok && !strstr(out, "<|user|>\nHi<|end|>\n<|assistant|>\n")) {
        fprintf(stderr, "  got: %s\n", out);
        ok = 0;
    }
    free(out);
    free(err);
    ia_chat_free(c);
    llama_model_free(m);
    IA_CHECK(ok);
}

IA_TEST(chat_plain_fallback) {
    /* The llama-spm vocabulary has no chat template. */
    struct llama_model *m = load_vocab("llama-spm");
    IA_CHECK(m != NULL);
    IA_CHECK(llama_model_chat_template(m, NULL) == NULL);
    char *out = NULL, *err = NULL;
    ia_chat *c = ia_chat_new(m, NULL, &err);
    int plain = c && ia_chat_is_plain(c);
    int rc = c ? ia_chat_render(c, CONVO, 4, &out, &err) : -1;
    /* the model's turn continues the text where it was generated */
    int ok = rc == 0 && out && strcmp(out, "Be brief.\n\nHiHello!\n\nHow are you?") == 0;
    if (!ok) fprintf(stderr, "  got: %s\n", out ? out : "(null)");
    free(out);
    free(err);
    ia_chat_free(c);
    llama_model_free(m);
    IA_CHECK(plain);
    IA_CHECK(ok);
}

IA_TEST(chat_broken_template_is_error) {
    struct llama_model *m = load_vocab("llama-spm");
    IA_CHECK(m != NULL);
    char *err = NULL, *out = NULL;
    /* Unterminated block: the parser must reject it. */
    ia_chat *c = ia_chat_new(m, "{% for message in messages %}{{ message.content ", &err);
    int parse_rejected = c == NULL && err && *err;
    if (c) {
        ia_chat_free(c);
        c = NULL;
    }
    free(err);
    err = NULL;
    /* Parses, but raises at render time, as real templates do for a bad
     * role order. */
    c = ia_chat_new(m, "{{ raise_exception('roles must alternate') }}", &err);
    int render_rejected = c && ia_chat_render(c, CONVO, 2, &out, &err) == -1 && err &&
                          strstr(err, "roles must alternate") && out == NULL;
    if (!render_rejected) fprintf(stderr, "  err: %s\n", err ? err : "(null)");
    free(out);
    free(err);
    ia_chat_free(c);
    llama_model_free(m);
    IA_CHECK(parse_rejected);
    IA_CHECK(render_rejected);
}
