/* embed: text embeddings in process — a GGUF embedding model run by
 * llama.cpp on a context of its own (embeddings on, pooled per sequence),
 * behind a model name, configured with `serve --embedding-model`.
 *
 * A spec is [NAME=]FILE.gguf: NAME defaults to the file's name without
 * .gguf (ia_embed_spec_parse is pure, fuzzed with the other flag parsers).
 *
 * Loading (ia_embedder_open): the model, then a context of n_ctx tokens
 * (the model's training context, at most IA_EMBED_MAX_CTX) that decodes up
 * to IA_EMBED_MAX_SEQ texts at once, each its own sequence. The pooling is
 * the model's own (mean, CLS, last); a model that names none is mean-pooled;
 * a reranker (pooling "rank") is refused, it scores pairs, not texts.
 *
 * Embedding (ia_embedder_embed): each text is tokenized with the model's
 * specials (BOS/CLS, EOS/SEP as its vocabulary asks) and cut to n_ctx
 * tokens when longer — its truncated flag says so; texts are packed into
 * one decode while their tokens fit the context (at most IA_EMBED_MAX_SEQ),
 * and each pooled vector is scaled to unit L2 norm. A text's vector does
 * not depend on the others decoded beside it (each is its own sequence;
 * the sums of a larger batch run in another order: values differ by at
 * most ~1e-4, a cosine of 1 - 1e-6).
 *
 * Threads: one context per model; a call holds the model's lock for its
 * whole run, so two calls for one model take turns and calls for two
 * models run side by side. Everything else is reentrant. */
#ifndef IA_ENGINE_EMBED_H
#define IA_ENGINE_EMBED_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

/* Tokens of one text at most, whatever the model was trained on: Google's
 * embedding models take 2,048, and a non-causal model decodes a text in
 * one ubatch, whose attention scores grow with its square (8,192 tokens
 * would be ~3 GB a layer for a 12-head BERT). */
#define IA_EMBED_MAX_CTX 2048
#define IA_EMBED_MAX_SEQ 16   /* texts decoded together at most */

/* The names the first --embedding-model also answers to: Google's
 * embedding models, so that code written for Gemini runs unchanged. */
#define IA_EMBED_ALIASES "gemini-embedding-001", "text-embedding-004"

typedef struct ia_embed_spec {
    char *name, *path;
} ia_embed_spec;

/* Parses spec into out (malloc'd; ia_embed_spec_free). -1 with IA_EINVALID
 * saying what is wrong. */
int ia_embed_spec_parse(const char *spec, ia_embed_spec *out, ia_err *err);
void ia_embed_spec_free(ia_embed_spec *s);

typedef struct ia_embedder ia_embedder;

/* Loads spec's model (see above). threads: CPU threads (0: 1). NULL with
 * err naming what failed; the caller names the flag. */
ia_embedder *ia_embedder_open(const ia_embed_spec *spec, int threads, ia_err *err);
void ia_embedder_free(ia_embedder *e);
const char *ia_embedder_name(const ia_embedder *e);
/* The length of its vectors. */
int ia_embedder_dim(const ia_embedder *e);
/* Tokens of one text at most (longer ones are truncated). */
int ia_embedder_n_ctx(const ia_embedder *e);
/* "mean pooling, 64 dimensions, 512 tokens" for the log and models.list;
 * a static buffer per e. */
const char *ia_embedder_describe(const ia_embedder *e);

/* What became of one text. */
typedef struct ia_embed_info {
    bool truncated; /* cut to n_ctx tokens */
    int n_tokens;   /* its tokens, before any cut */
} ia_embed_info;

/* Embeds texts[i] (lens[i] bytes, need not be NUL-terminated) for i < n
 * into out[i * dim .. (i + 1) * dim), unit-normalised; info[i] (when info
 * is not NULL) says what became of text i. 0, or -1 with err (a decode
 * failure; a text with no tokens at all is IA_EINVALID naming its
 * index). */
int ia_embedder_embed(ia_embedder *e, const char *const *texts, const size_t *lens, size_t n, float *out,
                      ia_embed_info *info, ia_err *err);

/* Matryoshka reduction, as Google's outputDimensionality: the first k of
 * v's dim values, rescaled to unit norm (k >= dim: a copy). out may be v. */
void ia_embed_reduce(const float *v, int dim, int k, float *out);
/* The cosine of a and b (length dim); 0 when either is zero. */
float ia_embed_cosine(const float *a, const float *b, int dim);

/* The loaded models. The first also answers to IA_EMBED_ALIASES (a model
 * loaded under one of those names keeps it). */
typedef struct ia_embed_set {
    ia_embedder **v;
    size_t n;
} ia_embed_set;
/* By name, "models/NAME" too; NULL when none. */
ia_embedder *ia_embed_find(const ia_embed_set *s, const char *name);
/* "a, b (gemini-embedding-001, text-embedding-004)" for errors; malloc'd,
 * "none" when s is empty. */
char *ia_embed_names(const ia_embed_set *s);
void ia_embed_set_free(ia_embed_set *s);

#endif
