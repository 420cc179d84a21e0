/* mkdemo: writes the project's demo model, a GGUF that llama.cpp loads and
 * runs, with random weights drawn from a fixed seed so that every build
 * writes the same bytes (greedy output is then the same everywhere and tests
 * may rely on it). It is a llama-architecture model with a SentencePiece
 * ("llama") vocabulary: the three classic specials, ChatML control tokens,
 * all 256 byte-fallback tokens and a few hundred word pieces, plus a small
 * ChatML Jinja chat template. Its text is noise; it exists so that the whole
 * server can be exercised (and benchmarked, with --size 135m|500m) without
 * downloading a model. The weights are streamed to the file tensor by tensor,
 * so even the 0.5B model needs little memory.
 *
 * Two more outputs let tests exercise multimodal input through libmtmd
 * (mkdemo_mm.c): a Gemma 3 text model that pairs with a real vision
 * projector, and a random-weight audio projector for it; and a Qwen2-VL
 * text model with its vision projector (mkdemo_qwen.c), whose media take
 * M-RoPE positions.
 *
 *     mkdemo --out PATH [--size demo|135m|500m|embed]
 *     mkdemo --out PATH --size gemma3 --vocab PHI3_VOCAB.gguf [--template FILE]
 *     mkdemo --out PATH --size audio-mmproj
 *     mkdemo --out PATH --size qwen2vl --vocab PHI3_VOCAB.gguf --template CHATML.jinja
 *     mkdemo --out PATH --size qwen2vl-mmproj
 *     mkdemo --out PATH --size pockettts --vocab PHI3_VOCAB.gguf
 *     mkdemo --out PATH --size pockettts-mmproj */
#include "mkdemo.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    int n_vocab_pad;        /* pad the vocabulary with unused tokens to this size (0 = no) */
    enum ggml_type wtype;   /* type of the 2-D weight matrices */
    int pooling;            /* 0: a generator; else an embedding model with this llama pooling type */
} size_spec;

static const size_spec SIZES[] = {
    /* Tiny: decodes in microseconds, even under ASan. */
    {"demo", 64, 2, 4, 2, 192, 4096, 0, GGML_TYPE_F32, 0},
    /* The embedding model (--embedding-model): the same vocabulary and
     * blocks, attention over the whole text (not causal), the hidden states
     * mean-pooled (LLAMA_POOLING_TYPE_MEAN = 1), no output matrix. A short
     * context so that tests reach truncation with a paragraph. */
    {"embed", 64, 2, 4, 2, 192, 512, 0, GGML_TYPE_F32, 1},
    /* About 135M parameters (SmolLM-135M class): 14 layers x 6.3M + 2 x 24.6M embeddings. */
    {"135m", 768, 14, 12, 4, 2048, 8192, 32000, GGML_TYPE_Q8_0, 0},
    /* About 0.5B parameters (Qwen2.5-0.5B class): 22 layers x 18.9M + 2 x 32.8M embeddings. */
    {"500m", 1024, 22, 16, 8, 5120, 8192, 32000, GGML_TYPE_Q8_0, 0},
};

/* A ChatML template, as Qwen and SmolLM use, small enough to read at a glance. */
static const char CHAT_TEMPLATE[] =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "{{- '<|im_start|>assistant\\n' -}}\n"
    "{%- endif -%}\n";

/* Words whose "▁"-prefixed pieces (and every prefix of them, so that the
 * SentencePiece merge loop can reach the whole word) enter the vocabulary. */
static const char *WORDS[] = {
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "is", "was", "are", "were",
    "be", "it", "he", "she", "they", "we", "you", "i", "that", "this", "with", "for", "as",
    "but", "not", "have", "had", "has", "do", "did", "said", "say", "one", "two", "three",
    "little", "big", "day", "time", "once", "upon", "there", "then", "when", "what", "who",
    "how", "why", "where", "hello", "world", "model", "demo", "random", "text", "noise",
    "cat", "dog", "sun", "tree", "house", "happy", "sad", "play", "go", "went", "see", "saw",
    "good", "very", "so", "all", "can", "will", "would", "could", "from", "by", "up", "down",
    "out", "about", "into", "over", "after", "before", "yes", "no", "hi", "friend", "name",
};

/* SplitMix64: tiny, fast, and the same on every platform. */
static uint64_t rng_state = 0x1a2b3c4d5e6f7788ULL;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
/* Uniform in [-a, a). Float arithmetic from integers only, so the bytes do
 * not depend on libm. */
float rng_uniform(float a) {
    return (float)((double)(rng_next() >> 40) / (double)(1ULL << 24) * 2.0 - 1.0) * a;
}

/* The vocabulary under construction. */
typedef struct {
    char **text;
    float *score;
    int32_t *type;
    int n, cap;
} vocab;

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_UNUSED = 5, TT_BYTE = 6 };

static int vocab_find(const vocab *v, const char *s) {
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->text[i], s) == 0) return i;
    return -1;
}

static void vocab_add(vocab *v, const char *s, float score, int type) {
    if (vocab_find(v, s) >= 0) return;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 512;
        v->text = realloc(v->text, (size_t)v->cap * sizeof *v->text);
        v->score = realloc(v->score, (size_t)v->cap * sizeof *v->score);
        v->type = realloc(v->type, (size_t)v->cap * sizeof *v->type);
        if (!v->text || !v->score || !v->type) { fputs("mkdemo: out of memory\n", stderr); exit(1); }
    }
    v->text[v->n] = strdup(s);
    v->score[v->n] = score;
    v->type[v->n] = type;
    v->n++;
}

static void build_vocab(vocab *v, int pad_to) {
    char buf[64];
    vocab_add(v, "<unk>", 0, TT_UNKNOWN);        /* 0 */
    vocab_add(v, "<s>", 0, TT_CONTROL);          /* 1 */
    vocab_add(v, "</s>", 0, TT_CONTROL);         /* 2 */
    vocab_add(v, "<|im_start|>", 0, TT_CONTROL); /* 3 */
    vocab_add(v, "<|im_end|>", 0, TT_CONTROL);   /* 4 */
    for (int b = 0; b < 256; b++) {
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        vocab_add(v, buf, 0, TT_BYTE);
    }
    /* Single characters first (the merge loop starts from them), then the
     * word pieces; a shorter piece scores higher, as in a trained SPM model. */
    static const char CHARS[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\";:-()";
    float score = -1.0f;
    vocab_add(v, "\xe2\x96\x81", score, TT_NORMAL); /* "▁", the SentencePiece space */
    for (const char *c = CHARS; *c; c++) {
        buf[0] = *c;
        buf[1] = 0;
        vocab_add(v, buf, score -= 0.01f, TT_NORMAL);
        snprintf(buf, sizeof buf, "\xe2\x96\x81%c", *c);
        vocab_add(v, buf, score -= 0.01f, TT_NORMAL);
    }
    for (size_t w = 0; w < sizeof WORDS / sizeof *WORDS; w++) {
        size_t len = strlen(WORDS[w]);
        for (size_t k = 2; k <= len; k++) {
            snprintf(buf, sizeof buf, "\xe2\x96\x81%.*s", (int)k, WORDS[w]);
            vocab_add(v, buf, -2.0f - (float)k * 0.1f - (float)w * 0.001f, TT_NORMAL);
        }
    }
    /* Benchmark sizes pad the vocabulary to a realistic size, so the output
     * projection costs what it costs in a real small model. */
    for (int i = v->n; i < pad_to; i++) {
        snprintf(buf, sizeof buf, "<unused%d>", i);
        vocab_add(v, buf, -1000.0f, TT_UNUSED);
    }
}

static void vocab_free(vocab *v) {
    for (int i = 0; i < v->n; i++) free(v->text[i]);
    free(v->text);
    free(v->score);
    free(v->type);
}

static int usage(void) {
    fputs("usage: mkdemo --out PATH [--size demo|135m|500m|embed]\n"
          "       mkdemo --out PATH --size gemma3 --vocab PHI3_VOCAB.gguf [--template FILE]\n"
          "       mkdemo --out PATH --size audio-mmproj\n"
          "       mkdemo --out PATH --size qwen2vl --vocab PHI3_VOCAB.gguf --template CHATML.jinja\n"
          "       mkdemo --out PATH --size qwen2vl-mmproj\n"
          "       mkdemo --out PATH --size pockettts --vocab PHI3_VOCAB.gguf\n"
          "       mkdemo --out PATH --size pockettts-mmproj\n", stderr);
    return 2;
}

/* Fills tensor t (n values) from the generator, in row order. */
static void fill(const tdesc *t, float *f, int64_t n) {
    for (int64_t j = 0; j < n; j++) f[j] = t->init > 0 ? rng_uniform(t->init) : t->init < 0 ? t->init : 1.0f;
    if (!t->zero_rows) return;
    for (int64_t r = 0; r < t->ne1; r++)
        if (t->zero_rows[r]) memset(f + r * t->ne0, 0, (size_t)t->ne0 * sizeof *f);
}

/* Registers the tensors with g (descriptors only, no_alloc: the data is
 * generated and written one tensor at a time by write_tensor). The returned
 * context holds them until the file is written. */
static struct ggml_context *add_tensors(struct gguf_context *g, const tdesc *td, int n_t, int64_t *n_params) {
    struct ggml_init_params ip = {.mem_size = (size_t)n_t * ggml_tensor_overhead() + 1024,
                                  .mem_buffer = NULL, .no_alloc = true};
    struct ggml_context *gc = ggml_init(ip);
    *n_params = 0;
    for (int i = 0; i < n_t; i++) {
        int64_t ne2 = td[i].ne2 > 0 ? td[i].ne2 : 1, ne3 = td[i].ne3 > 0 ? td[i].ne3 : 1;
        struct ggml_tensor *t =
            td[i].ne3 > 0   ? ggml_new_tensor_4d(gc, td[i].type, td[i].ne0, td[i].ne1, ne2, ne3)
            : td[i].ne2 > 0 ? ggml_new_tensor_3d(gc, td[i].type, td[i].ne0, td[i].ne1, ne2)
            : td[i].ne1 == 1 ? ggml_new_tensor_1d(gc, td[i].type, td[i].ne0)
                             : ggml_new_tensor_2d(gc, td[i].type, td[i].ne0, td[i].ne1);
        ggml_set_name(t, td[i].name);
        gguf_add_tensor(g, t);
        *n_params += td[i].ne0 * td[i].ne1 * ne2 * ne3;
    }
    return gc;
}

/* Generates tensor t and appends it to fp, converted to its type; 0 on
 * success. */
static int write_tensor(const tdesc *t, FILE *fp, size_t *nbytes) {
    int64_t rows = t->ne1 * (t->ne2 > 0 ? t->ne2 : 1) * (t->ne3 > 0 ? t->ne3 : 1), n = t->ne0 * rows;
    float *f = malloc((size_t)n * sizeof *f);
    void *q = NULL;
    if (!f) return 1;
    fill(t, f, n);
    const void *data = f;
    *nbytes = (size_t)n * sizeof *f;
    if (t->type != GGML_TYPE_F32) {
        if (!(q = malloc(ggml_row_size(t->type, t->ne0) * (size_t)rows))) { free(f); return 1; }
        *nbytes = ggml_quantize_chunk(t->type, f, q, 0, rows, t->ne0, NULL);
        data = q;
    }
    int rc = fwrite(data, 1, *nbytes, fp) != *nbytes;
    free(f);
    free(q);
    return rc;
}

int mkdemo_write(struct gguf_context *g, const tdesc *td, int n_t, const char *out, int64_t *n_params) {
    struct ggml_context *gc = add_tensors(g, td, n_t, n_params);
    int rc = 1;
    uint8_t *meta = NULL;
    FILE *fp = fopen(out, "wb");
    if (!fp) { perror(out); goto done; }
    size_t meta_size = gguf_get_meta_size(g);
    if (!(meta = malloc(meta_size))) goto io_error;
    gguf_get_meta_data(g, meta);
    if (fwrite(meta, 1, meta_size, fp) != meta_size) goto io_error;
    size_t align = gguf_get_alignment(g), pos = 0, nbytes;
    for (int i = 0; i < n_t; i++) {
        for (size_t off = gguf_get_tensor_offset(g, i); pos < off; pos++)
            if (fputc(0, fp) == EOF) goto io_error;
        if (write_tensor(&td[i], fp, &nbytes) != 0) goto io_error;
        pos += nbytes;
    }
    for (; pos % align; pos++)
        if (fputc(0, fp) == EOF) goto io_error;
    if (fclose(fp) != 0) { fp = NULL; goto io_error; }
    fp = NULL;
    rc = 0;
    goto done;
io_error:
    perror(out);
done:
    if (fp) fclose(fp);
    free(meta);
    ggml_free(gc);
    return rc;
}

int main(int argc, char **argv) {
    const char *out = NULL, *size = "demo", *vocab_path = NULL, *template_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) size = argv[++i];
        else if (strcmp(argv[i], "--vocab") == 0 && i + 1 < argc) vocab_path = argv[++i];
        else if (strcmp(argv[i], "--template") == 0 && i + 1 < argc) template_path = argv[++i];
        else return usage();
    }
    if (!out) return usage();
    if (strcmp(size, "gemma3") == 0) return vocab_path ? mkdemo_gemma3(out, vocab_path, template_path) : usage();
    if (strcmp(size, "audio-mmproj") == 0) return mkdemo_audio_mmproj(out);
    if (strcmp(size, "qwen2vl") == 0) return vocab_path ? mkdemo_qwen2vl(out, vocab_path, template_path) : usage();
    if (strcmp(size, "qwen2vl-mmproj") == 0) return mkdemo_qwen2vl_mmproj(out);
    if (strcmp(size, "pockettts") == 0) return vocab_path ? mkdemo_pockettts(out, vocab_path) : usage();
    if (strcmp(size, "pockettts-mmproj") == 0) return mkdemo_pockettts_mmproj(out);
    const size_spec *sp = NULL;
    for (size_t i = 0; i < sizeof SIZES / sizeof *SIZES; i++)
        if (strcmp(SIZES[i].name, size) == 0) sp = &SIZES[i];
    if (!sp) return usage();

    vocab v = {0};
    build_vocab(&v, sp->n_vocab_pad);

    struct gguf_context *g = gguf_init_empty();
    char gname[64];
    snprintf(gname, sizeof gname, "interactd-%s (random weights)", sp->name);
    gguf_set_val_str(g, "general.architecture", "llama");
    gguf_set_val_str(g, "general.name", gname);
    gguf_set_val_u32(g, "llama.context_length", (uint32_t)sp->n_ctx);
    gguf_set_val_u32(g, "llama.embedding_length", (uint32_t)sp->n_embd);
    gguf_set_val_u32(g, "llama.block_count", (uint32_t)sp->n_layer);
    gguf_set_val_u32(g, "llama.feed_forward_length", (uint32_t)sp->n_ff);
    gguf_set_val_u32(g, "llama.attention.head_count", (uint32_t)sp->n_head);
    gguf_set_val_u32(g, "llama.attention.head_count_kv", (uint32_t)sp->n_head_kv);
    gguf_set_val_u32(g, "llama.rope.dimension_count", (uint32_t)(sp->n_embd / sp->n_head));
    gguf_set_val_f32(g, "llama.rope.freq_base", 10000.0f);
    gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_set_val_u32(g, "llama.vocab_size", (uint32_t)v.n);
    gguf_set_val_u32(g, "general.file_type", sp->wtype == GGML_TYPE_F32 ? 0 : 7 /* MOSTLY_Q8_0 */);

    gguf_set_val_str(g, "tokenizer.ggml.model", "llama");
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", (const char **)v.text, (size_t)v.n);
    gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v.score, (size_t)v.n);
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v.type, (size_t)v.n);
    gguf_set_val_u32(g, "tokenizer.ggml.unknown_token_id", 0);
    gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", 1);
    gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", 4); /* <|im_end|>; </s> is EOG too */
    gguf_set_val_u32(g, "tokenizer.ggml.eot_token_id", 4);
    gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", true);
    gguf_set_val_bool(g, "tokenizer.ggml.add_eos_token", false);
    /* ChatML puts text right after control tokens; a SentencePiece space
     * prefix there would turn "<|im_start|>user" into "▁user". */
    gguf_set_val_bool(g, "tokenizer.ggml.add_space_prefix", false);
    if (sp->pooling) {
        gguf_set_val_u32(g, "llama.pooling_type", (uint32_t)sp->pooling);
        gguf_set_val_bool(g, "llama.attention.causal", false);
    } else {
        gguf_set_val_str(g, "tokenizer.chat_template", CHAT_TEMPLATE);
    }

    /* The tensors, in llama.cpp's names. output.weight is its own random
     * matrix: tied to token_embd, a random model's residual stream stays
     * close to the input embedding and greedy decoding just repeats the
     * last token; untied, it wanders over the vocabulary like real text. */
    int n_t = (sp->pooling ? 2 : 3) + 9 * sp->n_layer, k = 0;
    tdesc *td = calloc((size_t)n_t, sizeof *td);
    int64_t E = sp->n_embd, F = sp->n_ff, KV = (int64_t)sp->n_embd / sp->n_head * sp->n_head_kv;
    float se = 1.0f / sqrtf((float)E), sf = 1.0f / sqrtf((float)F);
    /* Rows of unit scale, larger than the projections, so that logits
     * spread and greedy decoding is not a tie-break lottery. */
    td[k++] = (tdesc){"token_embd.weight", E, v.n, sp->wtype, 1.0f, 0, NULL, 0};
    td[k++] = (tdesc){"output_norm.weight", E, 1, GGML_TYPE_F32, 0, 0, NULL, 0};
    if (!sp->pooling) td[k++] = (tdesc){"output.weight", E, v.n, sp->wtype, 1.0f, 0, NULL, 0};
    for (int l = 0; l < sp->n_layer; l++) {
        struct { const char *n; int64_t a, b; float s; enum ggml_type t; } L[] = {
            {"attn_norm", E, 1, 0, GGML_TYPE_F32},
            {"attn_q", E, E, se, sp->wtype},
            {"attn_k", E, KV, se, sp->wtype},
            {"attn_v", E, KV, se, sp->wtype},
            {"attn_output", E, E, se, sp->wtype},
            {"ffn_norm", E, 1, 0, GGML_TYPE_F32},
            {"ffn_gate", E, F, se, sp->wtype},
            {"ffn_up", E, F, se, sp->wtype},
            {"ffn_down", F, E, sf, sp->wtype},
        };
        for (size_t j = 0; j < sizeof L / sizeof *L; j++) {
            snprintf(td[k].name, sizeof td[k].name, "blk.%d.%s.weight", l, L[j].n);
            td[k].ne0 = L[j].a;
            td[k].ne1 = L[j].b;
            td[k].type = L[j].t;
            td[k].init = L[j].s;
            k++;
        }
    }

    int64_t n_params = 0;
    int rc = mkdemo_write(g, td, n_t, out, &n_params);
    if (rc == 0)
        fprintf(stderr, "mkdemo: wrote %s (%s: %.1fM parameters, %d tokens, %d layers)\n", out, sp->name,
                (double)n_params / 1e6, v.n, sp->n_layer);
    free(td);
    gguf_free(g);
    ggml_quantize_free();
    vocab_free(&v);
    return rc;
}
