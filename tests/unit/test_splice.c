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
    int n = ia_splice_tokenize(v, prompt, msgs, 3, &out);
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
    int n2 = ia_splice_tokenize(v, prompt, msgs, 3, &out2);
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
    int n = ia_splice_tokenize(v, prompt, msgs, 3, &out);
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
