/* splice: a prompt carries an earlier answer as the tokens the model sampled
 * (here a deliberately non-canonical split, one token per character), at
 * the place the template put its text; the tokens around it are the
 * template's own; the whole still spells the prompt's text exactly; tokens
 * that spell only part of the text are used as far as they agree. Real
 * vocabularies from the llama.cpp bundle: Qwen2's BPE (ChatML markers are
 * special tokens) and Llama's SentencePiece (a space prefix on every
 * fragment, the plain fallback's case). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "unit.h"

static struct llama_model *vocab_model(const char *name) {
    ia_engine_global_init(NULL, false);
    char path[1024];
    snprintf(path, sizeof path, "%s/models/ggml-vocab-%s.gguf", ia_test_llama_src(), name);
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    return llama_model_load_from_file(path, mp);
}

static int tok(const struct llama_vocab *v, const char *s, bool special, llama_token *out, int cap) {
    return llama_tokenize(v, s, (int32_t)strlen(s), out, cap, special, true);
}

/* The text of t[0..n) (special tokens as text). */
static void spell(const struct llama_vocab *v, const llama_token *t, int n, char *out, size_t cap) {
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        char b[128];
        int k = llama_token_to_piece(v, t[i], b, sizeof b, 0, true);
        if (k > 0 && at + (size_t)k < cap) memcpy(out + at, b, (size_t)k), at += (size_t)k;
    }
    out[at] = '\0';
}

static int find(const llama_token *h, int nh, const llama_token *n, int nn) {
    for (int i = 0; i + nn <= nh; i++)
        if (!memcmp(h + i, n, (size_t)nn * sizeof *n)) return i;
    return -1;
}

IA_TEST(splice_chatml_answer_as_sampled) {
    struct llama_model *m = vocab_model("qwen2");
    IA_CHECK(m);
    const struct llama_vocab *v = llama_model_get_vocab(m);
    const char *head = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
    const char *prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello world<|im_end|>\n"
                         "<|im_start|>user\nMore<|im_end|>\n<|im_start|>assistant\n";
    /* one token per character: not how the text tokenizes */
    llama_token ans[32];
    int na = 0;
    for (const char *c = "Hello world"; *c; c++) {
        char one[2] = {*c, 0};
        na += tok(v, one, false, ans + na, 32 - na);
    }
    llama_token whole[64];
    int nw = tok(v, "Hello world", false, whole, 64);
    IA_CHECK(na == 11 && nw < na);
    ia_chat_msg msgs[] = {{.role = "user", .content = "Hi"},
                          {.role = "assistant", .content = "Hello world", .tokens = ans, .n_tokens = (size_t)na},
                          {.role = "user", .content = "More"}};
    llama_token *out = NULL;
    long at3[3] = {-1, (long)strlen(head), -1};
    int n = ia_splice_tokenize(v, prompt, msgs, 3, at3, NULL, &out);
    llama_token pre[64];
    int np = tok(v, head, true, pre, 64);
    char text[512];
    spell(v, out, n, text, sizeof text);
    int at = find(out, n, ans, na);
    int ok = n > 0 && at == np && !memcmp(out, pre, (size_t)np * sizeof *pre) && !strcmp(text, prompt);
    /* the same answer text with tokens that say something else from "Hello " on */
    llama_token other[32];
    int no = 0;
    for (const char *c = "Hello there"; *c; c++) {
        char one[2] = {*c, 0};
        no += tok(v, one, false, other + no, 32 - no);
    }
    msgs[1].tokens = other;
    msgs[1].n_tokens = (size_t)no;
    llama_token *out2 = NULL;
    int n2 = ia_splice_tokenize(v, prompt, msgs, 3, at3, NULL, &out2);
    spell(v, out2, n2, text, sizeof text);
    int ok2 = n2 > 0 && find(out2, n2, other, 6) == np && find(out2, n2, other, 7) < 0 && !strcmp(text, prompt);
    free(out);
    free(out2);
    llama_model_free(m);
    IA_CHECK(ok);
    IA_CHECK(ok2);
}

IA_TEST(splice_plain_fallback_spm) {
    struct llama_model *m = vocab_model("llama-spm");
    IA_CHECK(m);
    const struct llama_vocab *v = llama_model_get_vocab(m);
    llama_token ans[32];
    int na = tok(v, "upon a time", false, ans, 32); /* spells " upon a time" */
    IA_CHECK(na > 0);
    const char *prompt = "Once upon a time\n\nMore";
    ia_chat_msg msgs[] = {{.role = "user", .content = "Once"},
                          {.role = "assistant", .content = " upon a time", .tokens = ans, .n_tokens = (size_t)na},
                          {.role = "user", .content = "More"}};
    llama_token *out = NULL;
    long at3[3] = {-1, 4, -1};
    int n = ia_splice_tokenize(v, prompt, msgs, 3, at3, NULL, &out);
    char text[256];
    spell(v, out, n, text, sizeof text);
    llama_token pre[16];
    int np = tok(v, "Once", true, pre, 16);
    /* BOS + "Once" as the first turn's prompt was, the sampled tokens, then
     * "\n\nMore" spelled exactly (no space the tokenizer would prefix) */
    int ok = n > 0 && find(out, n, ans, na) == np && !memcmp(out, pre, (size_t)np * sizeof *pre) &&
             strstr(text, " upon a time\n\nMore") && strlen(strstr(text, " upon")) == strlen(" upon a time\n\nMore");
    if (!ok) fprintf(stderr, "  got [%s] (%d tokens)\n", text, n);
    free(out);
    llama_model_free(m);
    IA_CHECK(ok);
}

/* Where an answer goes is asked of the template (a render with a marker in
 * its place), not searched for: an answer "im" is not found inside the
 * user's text before it nor inside the markers' text after it; a damaged
 * stored token id is never fed (llama.cpp would throw). */
IA_TEST(splice_locates_by_the_template) {
    struct llama_model *m = vocab_model("qwen2");
    IA_CHECK(m);
    const struct llama_vocab *v = llama_model_get_vocab(m);
    char *src = ia_test_read_template("Qwen-Qwen2.5-7B-Instruct");
    char *err = NULL;
    ia_engine e;
    memset(&e, 0, sizeof e);
    e.chat = src ? ia_chat_new(m, src, &err) : NULL;
    pthread_mutex_init(&e.chat_mu, NULL);
    IA_CHECK(e.chat);
    llama_token ans[4];
    int na = tok(v, "im", false, ans, 4);
    ia_chat_msg msgs[] = {{.role = "user", .content = "Why im?"},
                          {.role = "assistant", .content = "im", .tokens = ans, .n_tokens = (size_t)na},
                          {.role = "user", .content = "im again"}};
    char *prompt = NULL;
    ia_chat_state *st = NULL;
    ia_chat_opts o = {0};
    int rc = ia_chat_render_ex(e.chat, msgs, 3, &o, &prompt, &st, &err);
    ia_chat_state_free(st);
    long *at = rc == 0 ? ia_splice_locate(&e, msgs, 3, &o, prompt) : NULL;
    const char *want = prompt ? strstr(prompt, "<|im_start|>assistant\nim<|im_end|>") : NULL;
    int ok = at && want && at[0] == -1 && at[2] == -1 && at[1] == (long)(want - prompt) + 22;
    llama_token *out = NULL;
    int n = ok ? ia_splice_tokenize(v, prompt, msgs, 3, at, NULL, &out) : -1;
    llama_token whole[256];
    int nw = prompt ? tok(v, prompt, true, whole, 256) : -1;
    /* "im" tokenizes alike on its own, so the splice changes nothing here:
     * every marker stays a special token */
    ok = ok && n == nw && n > 0 && !memcmp(out, whole, (size_t)n * sizeof *out);
    free(out);
    /* a damaged id: that answer is tokenized from its text */
    int32_t bad[1] = {99999999};
    msgs[1].tokens = bad;
    msgs[1].n_tokens = 1;
    n = at ? ia_splice_tokenize(v, prompt, msgs, 3, at, NULL, &out) : -1;
    int ok2 = n == nw && n > 0 && !memcmp(out, whole, (size_t)n * sizeof *out);
    free(out);
    free(at);
    free(prompt);
    free(src);
    free(err);
    ia_chat_free(e.chat);
    pthread_mutex_destroy(&e.chat_mu);
    llama_model_free(m);
    IA_CHECK(ok);
    IA_CHECK(ok2);
}
