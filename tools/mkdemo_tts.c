/* mkdemo_tts: a random-weight PocketTTS pair, so that the tests can run
 * llama.cpp's own speech generation (libmtmd's gen-audio API) end to end
 * without downloading anything. Its audio is noise; the path is real.
 *
 * PocketTTS needs far fewer tensors than Qwen3-TTS (whose code-to-wave
 * decoder has its sizes fixed in libmtmd: 8 layers of width 512), and every
 * size of it below is read from the tensors' shapes or the GGUF keys.
 *
 * pockettts: the backbone (llama.cpp's "pockettts" architecture: a pre-norm
 * transformer with biased layer norms and a GELU MLP, no output head) of
 * width 64, 2 layers, the real Phi-3 tokenizer plus PocketTTS's control
 * tokens (<|audio_bos|> starts the audio).
 *
 * pockettts-mmproj: both halves libmtmd wants in one projector file: the
 * voice encoder (pockettts_spkenc: SEANet encoder, a mimi transformer layer,
 * the stride-16 downsampling, the projection into the backbone) so that a
 * speaker reference WAV can be given, and the generator (pockettts_gen: the
 * flow net that turns a backbone state into a latent frame, the end-of-speech
 * probe, and the mimi decoder back to 24 kHz PCM). One latent frame is 80 ms
 * of audio (1,920 samples). The end-of-speech probe's bias is far below
 * libmtmd's threshold, so a turn lasts the frame budget libmtmd derives from
 * the text's length (PocketTTS's own estimate), never a random early stop. */
#include "mkdemo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the backbone ------------------------------------------------------------ */

enum { P_EMBD = 64, P_LAYERS = 2, P_HEADS = 4, P_FF = 128, P_CTX = 4096 };

static const char *P_TOKENS[] = {"<|pad|>", "<|bos_before_voice|>", "<|audio_bos|>"};
enum { N_P_TOKENS = 3 };

static void pocket_meta(struct gguf_context *g, const tok_list *v) {
    gguf_set_val_str(g, "general.architecture", "pockettts");
    gguf_set_val_str(g, "general.name", "interactd-pockettts (random weights)");
    gguf_set_val_u32(g, "general.file_type", 0); /* ALL_F32 */
    gguf_set_val_u32(g, "pockettts.context_length", P_CTX);
    gguf_set_val_u32(g, "pockettts.embedding_length", P_EMBD);
    gguf_set_val_u32(g, "pockettts.block_count", P_LAYERS);
    gguf_set_val_u32(g, "pockettts.feed_forward_length", P_FF);
    gguf_set_val_u32(g, "pockettts.attention.head_count", P_HEADS);
    gguf_set_val_u32(g, "pockettts.attention.head_count_kv", P_HEADS);
    gguf_set_val_f32(g, "pockettts.attention.layer_norm_epsilon", 1e-5f);
    static const char *COPY[] = {"tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id",
                                 "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                                 "tokenizer.ggml.padding_token_id"};
    for (size_t i = 0; i < sizeof COPY / sizeof *COPY; i++) mkdemo_copy_key(g, v->src, COPY[i]);
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", v->text, (size_t)v->n);
    gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v->score, (size_t)v->n);
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v->type, (size_t)v->n);
    /* As PocketTTS's converter writes it: the text goes in bare. */
    gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", false);
    gguf_set_val_bool(g, "tokenizer.ggml.add_eos_token", false);
}

static int pocket_tensors(tdesc *td, int n_vocab) {
    const int64_t E = P_EMBD, F = P_FF;
    const float se = 1.0f / sqrtf((float)E), sf = 1.0f / sqrtf((float)F), sb = 0.02f;
    int k = 0;
    /* Rows of unit scale: the text is all the backbone sees of the prompt. */
    td[k++] = (tdesc){"token_embd.weight", E, n_vocab, GGML_TYPE_F32, 1.0f, 0, NULL, 0};
    td[k++] = (tdesc){"output_norm.weight", E, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    td[k++] = (tdesc){"output_norm.bias", E, 1, GGML_TYPE_F32, sb, 0, NULL, 0};
    for (int l = 0; l < P_LAYERS; l++) {
        struct { const char *n; int64_t a, b; float s; } L[] = {
            {"attn_norm.weight", E, 1, 0}, {"attn_norm.bias", E, 1, sb}, {"attn_q.weight", E, E, se},
            {"attn_k.weight", E, E, se},   {"attn_v.weight", E, E, se},  {"attn_output.weight", E, E, se},
            {"ffn_norm.weight", E, 1, 0},  {"ffn_norm.bias", E, 1, sb},  {"ffn_up.weight", E, F, se},
            {"ffn_down.weight", F, E, sf},
        };
        for (size_t j = 0; j < sizeof L / sizeof *L; j++, k++) {
            td[k] = (tdesc){.ne0 = L[j].a, .ne1 = L[j].b, .type = GGML_TYPE_F32, .init = L[j].s};
            snprintf(td[k].name, sizeof td[k].name, "blk.%d.%s", l, L[j].n);
        }
    }
    return k;
}

int mkdemo_pockettts(const char *out, const char *vocab_path) {
    tok_list v = {0};
    tdesc *td = NULL;
    struct gguf_context *g = NULL;
    int rc = 1;
    if (mkdemo_vocab_load(vocab_path, P_TOKENS, N_P_TOKENS, &v) != 0) goto done;
    if (!(td = calloc(3 + 10 * P_LAYERS, sizeof *td))) { fputs("mkdemo: out of memory\n", stderr); goto done; }
    g = gguf_init_empty();
    pocket_meta(g, &v);
    int n_t = pocket_tensors(td, v.n);
    int64_t n_params = 0;
    if ((rc = mkdemo_write(g, td, n_t, out, &n_params)) == 0)
        fprintf(stderr, "mkdemo: wrote %s (pockettts: %.2fM parameters, %d tokens, %d layers)\n", out,
                (double)n_params / 1e6, v.n, P_LAYERS);
done:
    if (g) gguf_free(g);
    free(td);
    mkdemo_vocab_free(&v);
    return rc;
}

/* ---- the speech projector ------------------------------------------------------- */

/* D: the mimi codec's width; C0: SEANet's first channel count (doubled at
 * each of its three stages, whose strides libmtmd fixes at 4, 5, 6); NL: the
 * latent frame's size; NC: the flow net's width; TF: its time embedding's. */
enum { M_D = 16, M_HEADS = 2, M_FF = 32, M_LAYERS = 1, C0 = 4, NL = 8, NC = 32, TF = 32, DOWN = 16 };
static const int RATIOS[3] = {4, 5, 6};

static void pocket_mmproj_meta(struct gguf_context *g) {
    gguf_set_val_str(g, "general.architecture", "clip");
    gguf_set_val_str(g, "general.type", "mmproj");
    gguf_set_val_str(g, "general.name", "interactd-pockettts-mmproj (random weights)");
    gguf_set_val_bool(g, "clip.has_audio_encoder", true);
    gguf_set_val_bool(g, "clip.has_gen_audio_encoder", true);
    gguf_set_val_str(g, "clip.audio.projector_type", "pockettts_spkenc");
    gguf_set_val_str(g, "clip.gen.audio.projector_type", "pockettts_gen");
    gguf_set_val_str(g, "clip.gen.audio.model_variant", "english");
    static const char *P[] = {"audio", "gen.audio"};
    char key[96];
    for (int i = 0; i < 2; i++) {
#define KEY(fmt) (snprintf(key, sizeof key, "clip.%s." fmt, P[i]), key)
        gguf_set_val_u32(g, KEY("embedding_length"), M_D);
        gguf_set_val_u32(g, KEY("feed_forward_length"), M_FF);
        gguf_set_val_u32(g, KEY("block_count"), M_LAYERS);
        gguf_set_val_u32(g, KEY("attention.head_count"), M_HEADS);
        gguf_set_val_f32(g, KEY("attention.layer_norm_epsilon"), 1e-5f);
        gguf_set_val_u32(g, KEY("projection_dim"), P_EMBD);
#undef KEY
    }
    gguf_set_val_u32(g, "clip.audio.num_mel_bins", 1);
}

static int add(tdesc *td, int k, const char *name, int64_t a, int64_t b, int64_t c, enum ggml_type t, float s) {
    td[k] = (tdesc){.ne0 = a, .ne1 = b, .ne2 = c, .type = t, .init = s};
    snprintf(td[k].name, sizeof td[k].name, "%s", name);
    return k + 1;
}

/* A convolution kernel [K, IC, OC] (F16, as the converter writes SEANet's)
 * and its bias. */
static int conv(tdesc *td, int k, const char *name, int64_t kk, int64_t ic, int64_t oc) {
    char n[64];
    snprintf(n, sizeof n, "%s.weight", name);
    k = add(td, k, n, kk, ic, oc, GGML_TYPE_F16, 1.0f / sqrtf((float)(kk * ic)));
    snprintf(n, sizeof n, "%s.bias", name);
    return add(td, k, n, oc, 1, 0, GGML_TYPE_F32, 0.02f);
}

/* One mimi transformer layer of width D: layer norms with biases, layer
 * scales on both residual paths. */
static int mimi_layer(tdesc *td, int k, const char *prefix, int l) {
    const float se = 1.0f / sqrtf((float)M_D);
    struct { const char *n; int64_t a, b; float s; } L[] = {
        {"ln1.weight", M_D, 1, 0},        {"ln1.bias", M_D, 1, 0.02f},     {"attn_q.weight", M_D, M_D, se},
        {"attn_k.weight", M_D, M_D, se},  {"attn_v.weight", M_D, M_D, se}, {"attn_out.weight", M_D, M_D, se},
        {"ls1.weight", M_D, 1, 0.1f},     {"ln2.weight", M_D, 1, 0},       {"ln2.bias", M_D, 1, 0.02f},
        {"ffn_up.weight", M_D, M_FF, se}, {"ffn_down.weight", M_FF, M_D, 1.0f / sqrtf((float)M_FF)},
        {"ls2.weight", M_D, 1, 0.1f},
    };
    char n[64];
    for (size_t j = 0; j < sizeof L / sizeof *L; j++) {
        snprintf(n, sizeof n, "%s.blk.%d.%s", prefix, l, L[j].n);
        k = add(td, k, n, L[j].a, L[j].b, 0, GGML_TYPE_F32, L[j].s);
    }
    return k;
}

/* The voice encoder: waveform -> SEANet (C0 .. 8*C0 channels) -> D ->
 * transformer -> stride-16 downsampling -> the backbone's width. */
static int spkenc_tensors(tdesc *td, int k) {
    char n[64];
    k = conv(td, k, "a.seanet.conv_in", 7, 1, C0);
    for (int i = 0, c = C0; i < 3; i++, c *= 2) {
        snprintf(n, sizeof n, "a.seanet.blk.%d.res_conv1", i);
        k = conv(td, k, n, 3, c, c / 2);
        snprintf(n, sizeof n, "a.seanet.blk.%d.res_conv2", i);
        k = conv(td, k, n, 1, c / 2, c);
        snprintf(n, sizeof n, "a.seanet.blk.%d.scale_conv", i);
        k = conv(td, k, n, 2 * RATIOS[i], c, 2 * c);
    }
    k = conv(td, k, "a.seanet.conv_out", 7, 8 * C0, M_D);
    for (int l = 0; l < M_LAYERS; l++) k = mimi_layer(td, k, "a", l);
    k = add(td, k, "a.downsample.conv.weight", 2 * DOWN, M_D, M_D, GGML_TYPE_F16, 1.0f / sqrtf(2.0f * DOWN * M_D));
    return add(td, k, "a.speaker_proj.weight", M_D, P_EMBD, 0, GGML_TYPE_F32, 1.0f / sqrtf((float)M_D));
}

/* The generator: the flow net (one AdaLN block), the end-of-speech probe,
 * the latent's way back into the backbone, and the mimi decoder. */
static int gen_tensors(tdesc *td, int k) {
    const float sc = 1.0f / sqrtf((float)NC), sb = 0.02f;
    char n[64];
    k = add(td, k, "a.gen.flow.input_proj.weight", NL, NC, 0, GGML_TYPE_F32, 1.0f / sqrtf((float)NL));
    k = add(td, k, "a.gen.flow.input_proj.bias", NC, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.flow.cond_embd.weight", P_EMBD, NC, 0, GGML_TYPE_F32, 1.0f / sqrtf((float)P_EMBD));
    k = add(td, k, "a.gen.flow.cond_embd.bias", NC, 1, 0, GGML_TYPE_F32, sb);
    for (int i = 0; i < 2; i++) {
        /* Frequencies of a sinusoidal embedding. */
        snprintf(n, sizeof n, "a.gen.flow.time.%d.freqs", i);
        k = add(td, k, n, TF / 2, 1, 0, GGML_TYPE_F32, 1.0f);
        snprintf(n, sizeof n, "a.gen.flow.time.%d.up.weight", i);
        k = add(td, k, n, TF, NC, 0, GGML_TYPE_F32, 1.0f / sqrtf((float)TF));
        snprintf(n, sizeof n, "a.gen.flow.time.%d.up.bias", i);
        k = add(td, k, n, NC, 1, 0, GGML_TYPE_F32, sb);
        snprintf(n, sizeof n, "a.gen.flow.time.%d.down.weight", i);
        k = add(td, k, n, NC, NC, 0, GGML_TYPE_F32, sc);
        snprintf(n, sizeof n, "a.gen.flow.time.%d.down.bias", i);
        k = add(td, k, n, NC, 1, 0, GGML_TYPE_F32, sb);
        snprintf(n, sizeof n, "a.gen.flow.time.%d.norm", i);
        k = add(td, k, n, NC, 1, 0, GGML_TYPE_F32, 0);
    }
    k = add(td, k, "a.gen.flow.blk.0.norm.weight", NC, 1, 0, GGML_TYPE_F32, 0);
    k = add(td, k, "a.gen.flow.blk.0.norm.bias", NC, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.flow.blk.0.up.weight", NC, NC, 0, GGML_TYPE_F32, sc);
    k = add(td, k, "a.gen.flow.blk.0.up.bias", NC, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.flow.blk.0.down.weight", NC, NC, 0, GGML_TYPE_F32, sc);
    k = add(td, k, "a.gen.flow.blk.0.down.bias", NC, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.flow.blk.0.ada.weight", NC, 3 * NC, 0, GGML_TYPE_F32, sc);
    k = add(td, k, "a.gen.flow.blk.0.ada.bias", 3 * NC, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.flow.final.ada.weight", NC, 2 * NC, 0, GGML_TYPE_F32, sc);
    k = add(td, k, "a.gen.flow.final.ada.bias", 2 * NC, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.flow.final.proj.weight", NC, NL, 0, GGML_TYPE_F32, sc);
    k = add(td, k, "a.gen.flow.final.proj.bias", NL, 1, 0, GGML_TYPE_F32, sb);
    /* The end-of-speech score: about -20, against libmtmd's threshold -4. */
    k = add(td, k, "a.gen.out_eos.weight", P_EMBD, 1, 0, GGML_TYPE_F32, 0.001f);
    k = add(td, k, "a.gen.out_eos.bias", 1, 1, 0, GGML_TYPE_F32, -20.0f);
    k = add(td, k, "a.gen.input_linear.weight", NL, P_EMBD, 0, GGML_TYPE_F32, 1.0f / sqrtf((float)NL));
    k = add(td, k, "a.gen.emb_mean", NL, 1, 0, GGML_TYPE_F32, sb);
    k = add(td, k, "a.gen.emb_std", NL, 1, 0, GGML_TYPE_F32, 0);
    /* mimi decoder: latent -> D, 12.5 Hz -> 200 Hz (depthwise), transformer,
     * SEANet back down from 8*C0 channels to the waveform (strides 6, 5, 4). */
    k = add(td, k, "a.gen.wav.quant_out.weight", NL, M_D, 0, GGML_TYPE_F32, 1.0f / sqrtf((float)NL));
    k = add(td, k, "a.gen.wav.upsample.weight", 2 * DOWN, 1, M_D, GGML_TYPE_F16, 1.0f / sqrtf(2.0f));
    for (int l = 0; l < M_LAYERS; l++) k = mimi_layer(td, k, "a.gen.wav.tfm", l);
    k = conv(td, k, "a.gen.wav.seanet.conv_in", 7, M_D, 8 * C0);
    for (int i = 0, c = 8 * C0; i < 3; i++, c /= 2) {
        /* A transposed convolution's kernel is [K, OC, IC]. */
        snprintf(n, sizeof n, "a.gen.wav.seanet.blk.%d.scale_conv.weight", i);
        k = add(td, k, n, 2 * RATIOS[2 - i], c / 2, c, GGML_TYPE_F16, 1.0f / sqrtf((float)c));
        snprintf(n, sizeof n, "a.gen.wav.seanet.blk.%d.scale_conv.bias", i);
        k = add(td, k, n, c / 2, 1, 0, GGML_TYPE_F32, sb);
        snprintf(n, sizeof n, "a.gen.wav.seanet.blk.%d.res_conv1", i);
        k = conv(td, k, n, 3, c / 2, c / 4);
        snprintf(n, sizeof n, "a.gen.wav.seanet.blk.%d.res_conv2", i);
        k = conv(td, k, n, 1, c / 4, c / 2);
    }
    return conv(td, k, "a.gen.wav.seanet.conv_out", 7, C0, 1);
}

static int pocket_mmproj_tensors(tdesc *td) {
    return gen_tensors(td, spkenc_tensors(td, 0));
}

int mkdemo_pockettts_mmproj(const char *out) {
    return mkdemo_projector(out, pocket_mmproj_meta, pocket_mmproj_tensors, 256, "pockettts speech projector",
                            M_LAYERS);
}
