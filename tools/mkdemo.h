/* mkdemo's parts: the seeded generator and the streaming GGUF writer
 * (mkdemo.c), shared by the multimodal test models (mkdemo_mm.c). */
#ifndef MKDEMO_H
#define MKDEMO_H

#include <ggml.h>
#include <gguf.h>

#include <stdint.h>

/* One tensor to write: its shape, its type, and how to fill it. */
typedef struct {
    char name[64];
    int64_t ne0, ne1;         /* ne1 = 1 for vectors */
    enum ggml_type type;
    float init;               /* > 0: uniform(+-init); 0: all ones (norm weights); < 0: all init */
    int64_t ne2;              /* third dimension (convolution kernels); 0 = none */
    const uint8_t *zero_rows; /* NULL, or one flag per row (ne1): nonzero = all zeros */
    int64_t ne3;              /* fourth dimension (2-D convolution kernels); 0 = none */
} tdesc;

/* Uniform in [-a, a), the same sequence on every platform. */
float rng_uniform(float a);

/* Writes the metadata in g and the tensors td[0..n_t) to out, filling each
 * tensor from the generator as it goes. 0 on success, else 1 (reported). */
int mkdemo_write(struct gguf_context *g, const tdesc *td, int n_t, const char *out, int64_t *n_params);
/* A projector GGUF: meta writes its keys, tensors fills at most max_t
 * descriptors and returns how many; what and layers name it in the log
 * line. 0 on success, else 1 (mkdemo_mm.c). */
int mkdemo_projector(const char *out, void (*meta)(struct gguf_context *), int (*tensors)(tdesc *), int max_t,
                     const char *what, int layers);

/* A SentencePiece vocabulary read from a GGUF (pointers into src), with
 * n_extra control tokens appended (mkdemo_mm.c). */
typedef struct {
    struct gguf_context *src;
    const char **text;
    float *score;
    int32_t *type;
    int n;
} tok_list;
int mkdemo_vocab_load(const char *path, const char *const *extra, int n_extra, tok_list *v);
void mkdemo_vocab_free(tok_list *v);
/* Copies a scalar key (string, u32 or bool) from src when it is there. */
void mkdemo_copy_key(struct gguf_context *g, const struct gguf_context *src, const char *key);
/* A whole file as a string (malloc'd), or NULL (reported). */
char *mkdemo_read_text(const char *path);

/* The multimodal test models (mkdemo_mm.c); 0 on success, else 1. */
int mkdemo_gemma3(const char *out, const char *vocab_path, const char *template_path);
int mkdemo_audio_mmproj(const char *out);
/* A Qwen2-VL text model and its vision projector (mkdemo_qwen.c): M-RoPE. */
int mkdemo_qwen2vl(const char *out, const char *vocab_path, const char *template_path);
int mkdemo_qwen2vl_mmproj(const char *out);
/* A PocketTTS backbone and its speech projector (mkdemo_tts.c). */
int mkdemo_pockettts(const char *out, const char *vocab_path);
int mkdemo_pockettts_mmproj(const char *out);

#endif
