/* mkdemo_mm: random-weight models that let the tests send images and audio
 * through libmtmd without downloading anything.
 *
 * gemma3: a Gemma 3 text model of embedding size 128, the size of the real
 * tinygemma3 vision projector (../shared/models/mmproj-tinygemma3.gguf), so
 * that the two pair. Its vocabulary is the real Phi-3 tokenizer (read from
 * llama.cpp's models/ggml-vocab-phi-3.gguf at build time) plus Gemma's turn
 * and image control tokens; its chat template is Gemma 3's prompt format.
 *
 * audio-mmproj: an Ultravox audio projector (a small Whisper encoder, frame
 * stacking and a SwiGLU projection) whose output size is also 128, so that
 * the same text model can be served with audio input instead. Ultravox needs
 * no marker tokens in the text vocabulary and ties libmtmd to no text
 * architecture, and real Ultravox releases include Gemma 3 text models. */
#include "mkdemo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TT_UNKNOWN = 2, TT_CONTROL = 3, TT_UNUSED = 5, TT_BYTE = 6 };

/* ---- the Gemma 3 text model ------------------------------------------------ */

enum { G_EMBD = 128, G_LAYERS = 2, G_HEADS = 4, G_HEADS_KV = 2, G_HEAD_DIM = 32, G_FF = 512, G_CTX = 8192 };

/* Gemma's turn markers, and the image delimiters that libmtmd's gemma3
 * projector writes around every image (tokenized with special tokens on, so
 * they must be control tokens to stay single tokens). */
static const char *GEMMA_TOKENS[] = {"<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>"};
enum { N_GEMMA_TOKENS = 4, GEMMA_END_OF_TURN = 1 };

/* Gemma 3's prompt format, written here because llama.cpp's template bundle
 * has Gemma 2's and 4's but not 3's: <bos>, turns of user and model that must
 * alternate, a system message folded into the first user turn after a blank
 * line, images as <start_of_image>. */
static const char GEMMA3_TEMPLATE[] =
    "{{- bos_token -}}\n"
    "{%- set prefix = '' -%}\n"
    "{%- set turns = messages -%}\n"
    "{%- if messages and messages[0]['role'] == 'system' -%}\n"
    "{%- set sys = messages[0]['content'] -%}\n"
    "{%- set prefix = (sys if sys is string else sys[0]['text']) + '\\n\\n' -%}\n"
    "{%- set turns = messages[1:] -%}\n"
    "{%- endif -%}\n"
    "{%- for m in turns -%}\n"
    "{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n"
    "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}\n"
    "{%- endif -%}\n"
    "{{- '<start_of_turn>' + ('model' if m['role'] == 'assistant' else m['role']) + '\\n' -}}\n"
    "{{- prefix if loop.first else '' -}}\n"
    "{%- if m['content'] is string -%}\n"
    "{{- m['content'] | trim -}}\n"
    "{%- else -%}\n"
    "{%- for part in m['content'] -%}\n"
    "{%- if part['type'] == 'image' -%}{{- '<start_of_image>' -}}\n"
    "{%- elif part['type'] == 'text' -%}{{- part['text'] | trim -}}{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endif -%}\n"
    "{{- '<end_of_turn>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<start_of_turn>model\\n' -}}{%- endif -%}\n";

static int64_t find_arr(const struct gguf_context *g, const char *key, enum gguf_type t) {
    int64_t k = gguf_find_key(g, key);
    if (k < 0 || gguf_get_kv_type(g, k) != GGUF_TYPE_ARRAY || gguf_get_arr_type(g, k) != t) return -1;
    return k;
}

int mkdemo_vocab_load(const char *path, const char *const *extra, int n_extra, tok_list *v) {
    struct gguf_init_params p = {.no_alloc = true, .ctx = NULL};
    if (!(v->src = gguf_init_from_file(path, p))) {
        fprintf(stderr, "mkdemo: cannot read the vocabulary %s\n", path);
        return 1;
    }
    int64_t kt = find_arr(v->src, "tokenizer.ggml.tokens", GGUF_TYPE_STRING);
    int64_t ks = find_arr(v->src, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32);
    int64_t ky = find_arr(v->src, "tokenizer.ggml.token_type", GGUF_TYPE_INT32);
    int64_t km = gguf_find_key(v->src, "tokenizer.ggml.model");
    if (kt < 0 || ks < 0 || ky < 0 || km < 0 || strcmp(gguf_get_val_str(v->src, km), "llama") != 0 ||
        gguf_get_arr_n(v->src, ks) != gguf_get_arr_n(v->src, kt) ||
        gguf_get_arr_n(v->src, ky) != gguf_get_arr_n(v->src, kt)) {
        fprintf(stderr, "mkdemo: %s is not a SentencePiece (\"llama\") vocabulary\n", path);
        return 1;
    }
    int n_src = (int)gguf_get_arr_n(v->src, kt);
    v->n = n_src + n_extra;
    v->text = malloc((size_t)v->n * sizeof *v->text);
    v->score = malloc((size_t)v->n * sizeof *v->score);
    v->type = malloc((size_t)v->n * sizeof *v->type);
    if (!v->text || !v->score || !v->type) { fputs("mkdemo: out of memory\n", stderr); return 1; }
    const float *score = gguf_get_arr_data(v->src, ks);
    const int32_t *type = gguf_get_arr_data(v->src, ky);
    for (int i = 0; i < n_src; i++) {
        v->text[i] = gguf_get_arr_str(v->src, kt, i);
        v->score[i] = score[i];
        v->type[i] = type[i];
    }
    for (int j = 0; j < n_extra; j++) {
        v->text[n_src + j] = extra[j];
        v->score[n_src + j] = -1000.0f; /* as Phi-3's own control tokens */
        v->type[n_src + j] = TT_CONTROL;
    }
    return 0;
}

void mkdemo_vocab_free(tok_list *v) {
    free(v->text);
    free(v->score);
    free(v->type);
    if (v->src) gguf_free(v->src);
}

/* Copies a scalar tokenizer key (string, u32 or bool) from the vocabulary
 * file when it is there. */
void mkdemo_copy_key(struct gguf_context *g, const struct gguf_context *src, const char *key) {
    int64_t k = gguf_find_key(src, key);
    if (k < 0) return;
    switch (gguf_get_kv_type(src, k)) {
    case GGUF_TYPE_STRING: gguf_set_val_str(g, key, gguf_get_val_str(src, k)); break;
    case GGUF_TYPE_UINT32: gguf_set_val_u32(g, key, gguf_get_val_u32(src, k)); break;
    case GGUF_TYPE_BOOL: gguf_set_val_bool(g, key, gguf_get_val_bool(src, k)); break;
    default: break;
    }
}

char *mkdemo_read_text(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { perror(path); return NULL; }
    char *s = NULL;
    long n = -1;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
        (s = malloc((size_t)n + 1)) && fread(s, 1, (size_t)n, fp) == (size_t)n) {
        s[n] = 0;
    } else {
        perror(path);
        free(s);
        s = NULL;
    }
    fclose(fp);
    return s;
}

static void gemma3_meta(struct gguf_context *g, const tok_list *v, const char *tmpl) {
    gguf_set_val_str(g, "general.architecture", "gemma3");
    gguf_set_val_str(g, "general.name", "interactd-gemma3 (random weights)");
    gguf_set_val_u32(g, "general.file_type", 0); /* ALL_F32 */
    gguf_set_val_u32(g, "gemma3.context_length", G_CTX);
    gguf_set_val_u32(g, "gemma3.embedding_length", G_EMBD);
    gguf_set_val_u32(g, "gemma3.block_count", G_LAYERS);
    gguf_set_val_u32(g, "gemma3.feed_forward_length", G_FF);
    gguf_set_val_u32(g, "gemma3.attention.head_count", G_HEADS);
    gguf_set_val_u32(g, "gemma3.attention.head_count_kv", G_HEADS_KV);
    gguf_set_val_u32(g, "gemma3.attention.key_length", G_HEAD_DIM);
    gguf_set_val_u32(g, "gemma3.attention.value_length", G_HEAD_DIM);
    gguf_set_val_f32(g, "gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
    /* Gemma 3's global-attention RoPE base. No attention.sliding_window: then
     * every layer attends globally and llama.cpp keeps one plain KV cache, so
     * the server's prefix reuse (partial sequence removal, which a sliding
     * window cache refuses beyond its window) works as with the demo model. */
    gguf_set_val_f32(g, "gemma3.rope.freq_base", 1000000.0f);

    static const char *COPY[] = {"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
                                 "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                                 "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"};
    for (size_t i = 0; i < sizeof COPY / sizeof *COPY; i++) mkdemo_copy_key(g, v->src, COPY[i]);
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", v->text, (size_t)v->n);
    gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v->score, (size_t)v->n);
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->type, (size_t)v->n);
    /* A turn ends with <end_of_turn>, as in Gemma; Phi-3's <|endoftext|> and
     * <|end|> stay end-of-generation tokens too (llama.cpp knows them). */
    uint32_t eot = (uint32_t)(v->n - N_GEMMA_TOKENS + GEMMA_END_OF_TURN);
    gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", eot);
    gguf_set_val_u32(g, "tokenizer.ggml.eot_token_id", eot);
    /* As Gemma's tokenizer: text right after "<start_of_turn>" is "user",
     * not "▁user". */
    gguf_set_val_bool(g, "tokenizer.ggml.add_space_prefix", false);
    gguf_set_val_str(g, "tokenizer.chat_template", tmpl);
}

/* The tensors, in llama.cpp's gemma3 names, all F32: with the two
 * vocabulary matrices in Q8_0 (a third of the file's 35 MB), a prompt
 * computed from scratch and the same prompt after a cached prefix gave
 * different greedy tokens in the server. token_embd's rows are small: Gemma
 * scales token embeddings by sqrt(n_embd) but not image embeddings, and rows
 * of about the projectors' output scale leave the media a say in what
 * follows. output.weight is its own matrix (tied, greedy decoding repeats one
 * token), its rows of unit scale so that logits spread; its rows of byte
 * tokens are zero, so that greedy decoding never emits a lone byte that is
 * not valid UTF-8 (nor Phi-3's [PAD] fillers). */
static int gemma3_tensors(tdesc *td, const tok_list *v, const uint8_t *zero_rows) {
    const int64_t E = G_EMBD, Q = G_HEADS * G_HEAD_DIM, KV = G_HEADS_KV * G_HEAD_DIM, F = G_FF;
    float se = 1.0f / sqrtf((float)E), sq = 1.0f / sqrtf((float)Q), sf = 1.0f / sqrtf((float)F);
    int k = 0;
    td[k++] = (tdesc){"token_embd.weight", E, v->n, GGML_TYPE_F32, se, 0, NULL, 0};
    td[k++] = (tdesc){"output_norm.weight", E, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    td[k++] = (tdesc){"output.weight", E, v->n, GGML_TYPE_F32, 1.0f, 0, zero_rows, 0};
    for (int l = 0; l < G_LAYERS; l++) {
        struct { const char *n; int64_t a, b; float s; } L[] = {
            {"attn_norm", E, 1, 0},           {"attn_q", E, Q, se},
            {"attn_k", E, KV, se},            {"attn_v", E, KV, se},
            {"attn_q_norm", G_HEAD_DIM, 1, 0}, {"attn_k_norm", G_HEAD_DIM, 1, 0},
            {"attn_output", Q, E, sq},        {"post_attention_norm", E, 1, 0},
            {"ffn_norm", E, 1, 0},            {"ffn_gate", E, F, se},
            {"ffn_up", E, F, se},             {"ffn_down", F, E, sf},
            {"post_ffw_norm", E, 1, 0},
        };
        for (size_t j = 0; j < sizeof L / sizeof *L; j++, k++) {
            snprintf(td[k].name, sizeof td[k].name, "blk.%d.%s.weight", l, L[j].n);
            td[k].ne0 = L[j].a;
            td[k].ne1 = L[j].b;
            td[k].type = GGML_TYPE_F32;
            td[k].init = L[j].s;
        }
    }
    return k;
}

int mkdemo_gemma3(const char *out, const char *vocab_path, const char *template_path) {
    tok_list v = {0};
    char *tmpl = NULL;
    uint8_t *zero_rows = NULL;
    tdesc *td = NULL;
    struct gguf_context *g = NULL;
    int rc = 1;
    if (mkdemo_vocab_load(vocab_path, GEMMA_TOKENS, N_GEMMA_TOKENS, &v) != 0) goto done;
    if (template_path && !(tmpl = mkdemo_read_text(template_path))) goto done;
    zero_rows = calloc((size_t)v.n, 1);
    td = calloc(3 + 13 * G_LAYERS, sizeof *td);
    if (!zero_rows || !td) { fputs("mkdemo: out of memory\n", stderr); goto done; }
    for (int i = 0; i < v.n; i++)
        zero_rows[i] = v.type[i] == TT_BYTE || v.type[i] == TT_UNKNOWN || v.type[i] == TT_UNUSED;

    g = gguf_init_empty();
    gemma3_meta(g, &v, tmpl ? tmpl : GEMMA3_TEMPLATE);
    int n_t = gemma3_tensors(td, &v, zero_rows);
    int64_t n_params = 0;
    if ((rc = mkdemo_write(g, td, n_t, out, &n_params)) == 0)
        fprintf(stderr, "mkdemo: wrote %s (gemma3: %.1fM parameters, %d tokens, %d layers)\n", out,
                (double)n_params / 1e6, v.n, G_LAYERS);
done:
    if (g) gguf_free(g);
    free(td);
    free(zero_rows);
    free(tmpl);
    mkdemo_vocab_free(&v);
    return rc;
}

/* ---- the Ultravox audio projector ------------------------------------------ */

/* A Whisper encoder cut down to 2 layers of width 64 (Whisper's 128 mel
 * bins, its 1,500 positions per 30 s window), then Ultravox's projector:
 * 10 frames stacked, RMS norm, SwiGLU to 256, RMS norm, out to 128. So
 * every started 30 s of audio is 150 tokens. The stack factor must divide
 * 1,500: libmtmd counts ultravox tokens as 3,000 / stack / 2 but its graph
 * pads 1,500 / stack up, and aborts when the two differ (Ultravox's own
 * factor 8 gives 187 against 188). */
enum { A_EMBD = 64, A_LAYERS = 2, A_HEADS = 4, A_FF = 256, A_MEL = 128, A_POS = 1500,
       A_STACK = 10, A_HIDDEN = 256, A_PROJ = G_EMBD };

static void audio_meta(struct gguf_context *g) {
    gguf_set_val_str(g, "general.architecture", "clip");
    gguf_set_val_str(g, "general.type", "mmproj");
    gguf_set_val_str(g, "general.name", "interactd-audio-mmproj (random weights)");
    gguf_set_val_bool(g, "clip.has_audio_encoder", true);
    gguf_set_val_str(g, "clip.projector_type", "ultravox");
    gguf_set_val_u32(g, "clip.audio.embedding_length", A_EMBD);
    gguf_set_val_u32(g, "clip.audio.feed_forward_length", A_FF);
    gguf_set_val_u32(g, "clip.audio.block_count", A_LAYERS);
    gguf_set_val_u32(g, "clip.audio.attention.head_count", A_HEADS);
    gguf_set_val_f32(g, "clip.audio.attention.layer_norm_epsilon", 1e-5f);
    gguf_set_val_u32(g, "clip.audio.projection_dim", A_PROJ);
    gguf_set_val_u32(g, "clip.audio.num_mel_bins", A_MEL);
    gguf_set_val_u32(g, "clip.audio.projector.stack_factor", A_STACK);
}

/* The tensors, in libmtmd's names. Norm weights are ones and biases small;
 * the convolution kernels are F16 as llama.cpp's converter writes them; the
 * output rows are of the text model's token embedding scale. */
static int audio_tensors(tdesc *td) {
    const int64_t E = A_EMBD, S = (int64_t)A_EMBD * A_STACK;
    const float se = 1.0f / sqrtf((float)E), sb = 0.02f;
    int k = 0;
    td[k++] = (tdesc){"a.conv1d.1.weight", 3, A_MEL, GGML_TYPE_F16, 1.0f / sqrtf(3.0f * A_MEL), E, NULL, 0};
    td[k++] = (tdesc){"a.conv1d.1.bias", 1, E, GGML_TYPE_F32, sb, 0, NULL, 0};
    td[k++] = (tdesc){"a.conv1d.2.weight", 3, E, GGML_TYPE_F16, 1.0f / sqrtf(3.0f * E), E, NULL, 0};
    td[k++] = (tdesc){"a.conv1d.2.bias", 1, E, GGML_TYPE_F32, sb, 0, NULL, 0};
    td[k++] = (tdesc){"a.position_embd.weight", E, A_POS, GGML_TYPE_F32, 0.5f, 0, NULL, 0};
    for (int l = 0; l < A_LAYERS; l++) {
        /* Whisper's attention has no key bias. */
        struct { const char *n; int64_t a, b; float s; } L[] = {
            {"ln1.weight", E, 1, 0},          {"ln1.bias", E, 1, sb},
            {"attn_q.weight", E, E, se},      {"attn_q.bias", E, 1, sb},
            {"attn_k.weight", E, E, se},      {"attn_v.weight", E, E, se},
            {"attn_v.bias", E, 1, sb},        {"attn_out.weight", E, E, se},
            {"attn_out.bias", E, 1, sb},      {"ln2.weight", E, 1, 0},
            {"ln2.bias", E, 1, sb},           {"ffn_up.weight", E, A_FF, se},
            {"ffn_up.bias", A_FF, 1, sb},     {"ffn_down.weight", A_FF, E, 1.0f / sqrtf((float)A_FF)},
            {"ffn_down.bias", E, 1, sb},
        };
        for (size_t j = 0; j < sizeof L / sizeof *L; j++, k++) {
            td[k] = (tdesc){.ne0 = L[j].a, .ne1 = L[j].b, .type = GGML_TYPE_F32, .init = L[j].s};
            snprintf(td[k].name, sizeof td[k].name, "a.blk.%d.%s", l, L[j].n);
        }
    }
    td[k++] = (tdesc){"a.post_ln.weight", E, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    td[k++] = (tdesc){"a.post_ln.bias", E, 1, GGML_TYPE_F32, sb, 0, NULL, 0};
    td[k++] = (tdesc){"mm.a.norm_pre.weight", S, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    td[k++] = (tdesc){"mm.a.mlp.1.weight", S, 2 * A_HIDDEN, GGML_TYPE_F32, 1.0f / sqrtf((float)S), 0, NULL, 0};
    td[k++] = (tdesc){"mm.a.norm_mid.weight", A_HIDDEN, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    td[k++] = (tdesc){"mm.a.mlp.2.weight", A_HIDDEN, A_PROJ, GGML_TYPE_F32, 1.0f / sqrtf((float)A_HIDDEN), 0, NULL, 0};
    return k;
}

int mkdemo_projector(const char *out, void (*meta)(struct gguf_context *), int (*tensors)(tdesc *), int max_t,
                     const char *what, int layers) {
    tdesc *td = calloc((size_t)max_t, sizeof *td);
    if (!td) { fputs("mkdemo: out of memory\n", stderr); return 1; }
    struct gguf_context *g = gguf_init_empty();
    meta(g);
    int n_t = tensors(td);
    int64_t n_params = 0;
    int rc = mkdemo_write(g, td, n_t, out, &n_params);
    if (rc == 0)
        fprintf(stderr, "mkdemo: wrote %s (%s: %.2fM parameters, %d layers)\n", out, what, (double)n_params / 1e6,
                layers);
    gguf_free(g);
    free(td);
    return rc;
}

int mkdemo_audio_mmproj(const char *out) {
    return mkdemo_projector(out, audio_meta, audio_tensors, 5 + 15 * A_LAYERS + 6, "ultravox audio projector",
                            A_LAYERS);
}
