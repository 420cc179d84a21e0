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
    float init;               /* > 0: uniform(+-init); 0: all ones (norm weights) */
    int64_t ne2;              /* third dimension (convolution kernels); 0 = none */
    const uint8_t *zero_rows; /* NULL, or one flag per row (ne1): nonzero = all zeros */
} tdesc;

/* Uniform in [-a, a), the same sequence on every platform. */
float rng_uniform(float a);

/* Writes the metadata in g and the tensors td[0..n_t) to out, filling each
 * tensor from the generator as it goes. 0 on success, else 1 (reported). */
int mkdemo_write(struct gguf_context *g, const tdesc *td, int n_t, const char *out, int64_t *n_params);

/* The multimodal test models (mkdemo_mm.c); 0 on success, else 1. */
int mkdemo_gemma3(const char *out, const char *vocab_path, const char *template_path);
int mkdemo_audio_mmproj(const char *out);

#endif
