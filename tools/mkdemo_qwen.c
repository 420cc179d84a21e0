/* mkdemo_qwen: a random-weight Qwen2-VL pair, so that the tests exercise
 * media placed with M-RoPE positions (an image of nx by ny tokens takes
 * max(nx, ny) positions, not nx * ny) without downloading anything.
 *
 * qwen2vl: a text model of llama.cpp's qwen2vl architecture (multi-section
 * RoPE), embedding size 128, with the real Phi-3 tokenizer (as the Gemma 3
 * test model) plus ChatML's and Qwen-VL's control tokens; its chat template
 * is given with --template (the bundle's Qwen2.5 Instruct, ChatML).
 *
 * qwen2vl-mmproj: a Qwen2-VL vision encoder cut down to 2 layers of width
 * 64 with 8-pixel patches, and its merger (2x2 patches into one token,
 * an MLP out to 128). Every 16x16 pixels of an image are one token. */
#include "mkdemo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TT_UNKNOWN = 2, TT_UNUSED = 5, TT_BYTE = 6 };

/* ---- the text model -------------------------------------------------------- */

enum { Q_EMBD = 128, Q_LAYERS = 2, Q_HEADS = 4, Q_HEADS_KV = 2, Q_HEAD_DIM = 32, Q_FF = 512, Q_CTX = 8192 };

/* ChatML's turn markers and the delimiters libmtmd's qwen2vl projector
 * writes around every image. */
static const char *QWEN_TOKENS[] = {"<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"};
enum { N_QWEN_TOKENS = 4, QWEN_IM_END = 1 };

static void qwen2vl_meta(struct gguf_context *g, const tok_list *v, const char *tmpl) {
    gguf_set_val_str(g, "general.architecture", "qwen2vl");
    gguf_set_val_str(g, "general.name", "interactd-qwen2vl (random weights)");
    gguf_set_val_u32(g, "general.file_type", 0); /* ALL_F32 */
    gguf_set_val_u32(g, "qwen2vl.context_length", Q_CTX);
    gguf_set_val_u32(g, "qwen2vl.embedding_length", Q_EMBD);
    gguf_set_val_u32(g, "qwen2vl.block_count", Q_LAYERS);
    gguf_set_val_u32(g, "qwen2vl.feed_forward_length", Q_FF);
    gguf_set_val_u32(g, "qwen2vl.attention.head_count", Q_HEADS);
    gguf_set_val_u32(g, "qwen2vl.attention.head_count_kv", Q_HEADS_KV);
    gguf_set_val_f32(g, "qwen2vl.attention.layer_norm_rms_epsilon", 1e-6f);
    gguf_set_val_f32(g, "qwen2vl.rope.freq_base", 1000000.0f);
    /* The rotary pairs of a head (16) split among time, height and width
     * as Qwen2-VL splits its 64: [16, 24, 24] scaled down. */
    const int32_t sections[4] = {4, 6, 6, 0};
    gguf_set_arr_data(g, "qwen2vl.rope.dimension_sections", GGUF_TYPE_INT32, sections, 4);

    static const char *COPY[] = {"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
                                 "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
                                 "tokenizer.ggml.add_eos_token"};
    for (size_t i = 0; i < sizeof COPY / sizeof *COPY; i++) mkdemo_copy_key(g, v->src, COPY[i]);
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", v->text, (size_t)v->n);
    gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v->score, (size_t)v->n);
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->type, (size_t)v->n);
    /* As Qwen's: no BOS, a turn ends with <|im_end|>. */
    gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", false);
    uint32_t eot = (uint32_t)(v->n - N_QWEN_TOKENS + QWEN_IM_END);
    gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", eot);
    gguf_set_val_u32(g, "tokenizer.ggml.eot_token_id", eot);
    gguf_set_val_bool(g, "tokenizer.ggml.add_space_prefix", false);
    gguf_set_val_str(g, "tokenizer.chat_template", tmpl);
}

/* The tensors in llama.cpp's qwen2vl names, all F32 (see the Gemma 3 test
 * model for why); output rows of byte, unknown and unused tokens zero, so
 * greedy decoding never emits a lone byte. */
static int qwen2vl_tensors(tdesc *td, const tok_list *v, const uint8_t *zero_rows) {
    const int64_t E = Q_EMBD, KV = Q_HEADS_KV * Q_HEAD_DIM, F = Q_FF;
    const float se = 1.0f / sqrtf((float)E), sf = 1.0f / sqrtf((float)F), sb = 0.02f;
    int k = 0;
    td[k++] = (tdesc){"token_embd.weight", E, v->n, GGML_TYPE_F32, se, 0, NULL, 0};
    td[k++] = (tdesc){"output_norm.weight", E, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    td[k++] = (tdesc){"output.weight", E, v->n, GGML_TYPE_F32, 1.0f, 0, zero_rows, 0};
    for (int l = 0; l < Q_LAYERS; l++) {
        struct { const char *n; int64_t a, b; float s; } L[] = {
            {"attn_norm.weight", E, 1, 0}, {"attn_q.weight", E, E, se}, {"attn_q.bias", E, 1, sb},
            {"attn_k.weight", E, KV, se},  {"attn_k.bias", KV, 1, sb},  {"attn_v.weight", E, KV, se},
            {"attn_v.bias", KV, 1, sb},    {"attn_output.weight", E, E, se}, {"ffn_norm.weight", E, 1, 0},
            {"ffn_gate.weight", E, F, se}, {"ffn_up.weight", E, F, se}, {"ffn_down.weight", F, E, sf},
        };
        for (size_t j = 0; j < sizeof L / sizeof *L; j++, k++) {
            td[k] = (tdesc){.ne0 = L[j].a, .ne1 = L[j].b, .type = GGML_TYPE_F32, .init = L[j].s};
            snprintf(td[k].name, sizeof td[k].name, "blk.%d.%s", l, L[j].n);
        }
    }
    return k;
}

int mkdemo_qwen2vl(const char *out, const char *vocab_path, const char *template_path) {
    tok_list v = {0};
    char *tmpl = NULL;
    uint8_t *zero_rows = NULL;
    tdesc *td = NULL;
    struct gguf_context *g = NULL;
    int rc = 1;
    if (!template_path) {
        fputs("mkdemo: --size qwen2vl needs --template (a ChatML template)\n", stderr);
        return 1;
    }
    if (mkdemo_vocab_load(vocab_path, QWEN_TOKENS, N_QWEN_TOKENS, &v) != 0) goto done;
    if (!(tmpl = mkdemo_read_text(template_path))) goto done;
    zero_rows = calloc((size_t)v.n, 1);
    td = calloc(3 + 12 * Q_LAYERS, sizeof *td);
    if (!zero_rows || !td) { fputs("mkdemo: out of memory\n", stderr); goto done; }
    for (int i = 0; i < v.n; i++)
        zero_rows[i] = v.type[i] == TT_BYTE || v.type[i] == TT_UNKNOWN || v.type[i] == TT_UNUSED;
    g = gguf_init_empty();
    qwen2vl_meta(g, &v, tmpl);
    int n_t = qwen2vl_tensors(td, &v, zero_rows);
    int64_t n_params = 0;
    if ((rc = mkdemo_write(g, td, n_t, out, &n_params)) == 0)
        fprintf(stderr, "mkdemo: wrote %s (qwen2vl: %.1fM parameters, %d tokens, %d layers)\n", out,
                (double)n_params / 1e6, v.n, Q_LAYERS);
done:
    if (g) gguf_free(g);
    free(td);
    free(zero_rows);
    free(tmpl);
    mkdemo_vocab_free(&v);
    return rc;
}

/* ---- the vision projector -------------------------------------------------- */

enum { V_EMBD = 64, V_LAYERS = 2, V_HEADS = 4, V_FF = 256, V_PATCH = 8, V_IMAGE = 64, V_MERGE = 2 };

static void vision_meta(struct gguf_context *g) {
    gguf_set_val_str(g, "general.architecture", "clip");
    gguf_set_val_str(g, "general.type", "mmproj");
    gguf_set_val_str(g, "general.name", "interactd-qwen2vl-mmproj (random weights)");
    gguf_set_val_bool(g, "clip.has_vision_encoder", true);
    gguf_set_val_str(g, "clip.projector_type", "qwen2vl_merger");
    gguf_set_val_u32(g, "clip.vision.embedding_length", V_EMBD);
    gguf_set_val_u32(g, "clip.vision.feed_forward_length", V_FF);
    gguf_set_val_u32(g, "clip.vision.block_count", V_LAYERS);
    gguf_set_val_u32(g, "clip.vision.attention.head_count", V_HEADS);
    gguf_set_val_f32(g, "clip.vision.attention.layer_norm_epsilon", 1e-6f);
    gguf_set_val_u32(g, "clip.vision.projection_dim", Q_EMBD);
    gguf_set_val_u32(g, "clip.vision.image_size", V_IMAGE);
    gguf_set_val_u32(g, "clip.vision.patch_size", V_PATCH);
    gguf_set_val_u32(g, "clip.vision.spatial_merge_size", V_MERGE);
    /* Qwen2-VL's normalisation (OpenAI CLIP's). */
    const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f}, std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    gguf_set_arr_data(g, "clip.vision.image_mean", GGUF_TYPE_FLOAT32, mean, 3);
    gguf_set_arr_data(g, "clip.vision.image_std", GGUF_TYPE_FLOAT32, std, 3);
}

/* The tensors in libmtmd's names: two patch kernels (a still image goes
 * through both, as Qwen2-VL's temporal pair), pre-norm layers with biased
 * attention and a quick-GELU MLP, then the merger over 4 patches. The
 * kernels are F16 as llama.cpp's converter writes them; the merger's
 * output rows are of the text model's token embedding scale. */
static int vision_tensors(tdesc *td) {
    const int64_t E = V_EMBD, M = (int64_t)V_EMBD * V_MERGE * V_MERGE;
    const float se = 1.0f / sqrtf((float)E), sb = 0.02f, sk = 1.0f / sqrtf(3.0f * V_PATCH * V_PATCH);
    int k = 0;
    /* ggml's conv_2d kernel: [KW, KH, IC, OC]. */
    td[k++] = (tdesc){"v.patch_embd.weight", V_PATCH, V_PATCH, GGML_TYPE_F16, sk, 3, NULL, E};
    td[k++] = (tdesc){"v.patch_embd.weight.1", V_PATCH, V_PATCH, GGML_TYPE_F16, sk, 3, NULL, E};
    for (int l = 0; l < V_LAYERS; l++) {
        struct { const char *n; int64_t a, b; float s; } L[] = {
            {"ln1.weight", E, 1, 0},          {"ln1.bias", E, 1, sb},
            {"attn_q.weight", E, E, se},      {"attn_q.bias", E, 1, sb},
            {"attn_k.weight", E, E, se},      {"attn_k.bias", E, 1, sb},
            {"attn_v.weight", E, E, se},      {"attn_v.bias", E, 1, sb},
            {"attn_out.weight", E, E, se},    {"attn_out.bias", E, 1, sb},
            {"ln2.weight", E, 1, 0},          {"ln2.bias", E, 1, sb},
            {"ffn_up.weight", E, V_FF, se},   {"ffn_up.bias", V_FF, 1, sb},
            {"ffn_down.weight", V_FF, E, 1.0f / sqrtf((float)V_FF)}, {"ffn_down.bias", E, 1, sb},
        };
        for (size_t j = 0; j < sizeof L / sizeof *L; j++, k++) {
            td[k] = (tdesc){.ne0 = L[j].a, .ne1 = L[j].b, .type = GGML_TYPE_F32, .init = L[j].s};
            snprintf(td[k].name, sizeof td[k].name, "v.blk.%d.%s", l, L[j].n);
        }
    }
    td[k++] = (tdesc){"mm.0.weight", M, M, GGML_TYPE_F32, 1.0f / sqrtf((float)M), 0, NULL, 0};
    td[k++] = (tdesc){"mm.0.bias", M, 1, GGML_TYPE_F32, sb, 0, NULL, 0};
    td[k++] = (tdesc){"mm.2.weight", M, Q_EMBD, GGML_TYPE_F32, 1.0f / sqrtf((float)M), 0, NULL, 0};
    td[k++] = (tdesc){"mm.2.bias", Q_EMBD, 1, GGML_TYPE_F32, sb, 0, NULL, 0};
    return k;
}

int mkdemo_qwen2vl_mmproj(const char *out) {
    return mkdemo_projector(out, vision_meta, vision_tensors, 2 + 16 * V_LAYERS + 4, "qwen2vl vision projector",
                            V_LAYERS);
}
