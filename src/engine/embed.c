/* embed: text embeddings in process (embed.h). */
#include "engine/embed.h"

#include <llama.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct ia_embedder {
    char *name, *path;
    struct llama_model *model;
    struct llama_context *ctx;
    const struct llama_vocab *vocab;
    int dim, n_ctx;
    enum llama_pooling_type pooling;
    pthread_mutex_t mu; /* one decode at a time on ctx */
    char desc[96];
};

int ia_embed_spec_parse(const char *spec, ia_embed_spec *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    if (!spec || !*spec) return ia_fail(err, IA_EINVALID, "expected [NAME=]FILE.gguf, got an empty value");
    const char *eq = strchr(spec, '='), *path = eq ? eq + 1 : spec;
    if (eq && eq == spec) return ia_fail(err, IA_EINVALID, "expected NAME=FILE.gguf, the name is empty in '%.200s'", spec);
    if (!*path) return ia_fail(err, IA_EINVALID, "expected [NAME=]FILE.gguf, the file is empty in '%.200s'", spec);
    if (eq) {
        out->name = ia_strndup(spec, (size_t)(eq - spec));
    } else { /* FILE alone: its name without .gguf */
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t n = strlen(base);
        if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
        if (!n) return ia_fail(err, IA_EINVALID, "'%.200s' names no file", spec);
        out->name = ia_strndup(base, n);
    }
    /* a name travels in URL paths (models/NAME:embedContent) and lists */
    for (const char *p = out->name; *p; p++)
        if (*p == '/' || *p == ':' || *p == ',' || *p == ' ' || (unsigned char)*p < 0x20) {
            ia_fail(err, IA_EINVALID, "model name '%.100s' may not hold '/', ':', ',', blanks or control characters",
                    out->name);
            ia_embed_spec_free(out);
            return -1;
        }
    out->path = ia_strdup(path);
    return 0;
}

void ia_embed_spec_free(ia_embed_spec *s) {
    if (!s) return;
    free(s->name);
    free(s->path);
    s->name = s->path = NULL;
}

static const char *pooling_name(enum llama_pooling_type p) {
    switch (p) {
    case LLAMA_POOLING_TYPE_MEAN: return "mean";
    case LLAMA_POOLING_TYPE_CLS: return "CLS";
    case LLAMA_POOLING_TYPE_LAST: return "last-token";
    default: return "?";
    }
}

static int load(ia_embedder *e, int threads, ia_err *err) {
    struct llama_model_params mp = llama_model_default_params();
    if (!(e->model = llama_model_load_from_file(e->path, mp)))
        return ia_fail(err, IA_EINVALID, "'%s': cannot load %s (not a GGUF model llama.cpp can run?)", e->name, e->path);
    if (llama_model_has_encoder(e->model) && llama_model_has_decoder(e->model))
        return ia_fail(err, IA_EINVALID, "'%s': %s is an encoder-decoder model, not an embedding model", e->name, e->path);
    int n_train = llama_model_n_ctx_train(e->model);
    e->n_ctx = n_train > 0 && n_train < IA_EMBED_MAX_CTX ? n_train : IA_EMBED_MAX_CTX;
    struct llama_context_params cp = llama_context_default_params();
    cp.embeddings = true;
    /* the whole batch is one ubatch: a non-causal model attends over each
     * text at once */
    cp.n_ctx = cp.n_batch = cp.n_ubatch = (uint32_t)e->n_ctx;
    cp.n_seq_max = IA_EMBED_MAX_SEQ;
    cp.kv_unified = true; /* the texts of one decode share the context's cells */
    cp.n_threads = cp.n_threads_batch = threads;
    cp.no_perf = true;
    if (!(e->ctx = llama_init_from_model(e->model, cp)))
        return ia_fail(err, IA_EINVALID, "'%s': cannot make a context for %s", e->name, e->path);
    e->pooling = llama_pooling_type(e->ctx);
    if (e->pooling == LLAMA_POOLING_TYPE_RANK)
        return ia_fail(err, IA_EINVALID, "'%s': %s is a reranker (pooling 'rank'), not an embedding model", e->name,
                       e->path);
    if (e->pooling == LLAMA_POOLING_TYPE_NONE || e->pooling == LLAMA_POOLING_TYPE_UNSPECIFIED) {
        /* a model that names no pooling: mean over its tokens */
        llama_free(e->ctx);
        cp.pooling_type = LLAMA_POOLING_TYPE_MEAN;
        if (!(e->ctx = llama_init_from_model(e->model, cp)))
            return ia_fail(err, IA_EINVALID, "'%s': cannot make a context for %s", e->name, e->path);
        e->pooling = LLAMA_POOLING_TYPE_MEAN;
    }
    e->vocab = llama_model_get_vocab(e->model);
    e->dim = llama_model_n_embd_out(e->model);
    if (e->dim <= 0) e->dim = llama_model_n_embd(e->model);
    snprintf(e->desc, sizeof e->desc, "%s pooling, %d dimensions, %d tokens", pooling_name(e->pooling), e->dim,
             e->n_ctx);
    return 0;
}

ia_embedder *ia_embedder_open(const ia_embed_spec *spec, int threads, ia_err *err) {
    ia_embedder *e = ia_xcalloc(1, sizeof *e);
    e->name = ia_strdup(spec->name);
    e->path = ia_strdup(spec->path);
    pthread_mutex_init(&e->mu, NULL);
    if (load(e, threads > 0 ? threads : 1, err) != 0) {
        ia_embedder_free(e);
        return NULL;
    }
    return e;
}

void ia_embedder_free(ia_embedder *e) {
    if (!e) return;
    if (e->ctx) llama_free(e->ctx);
    if (e->model) llama_model_free(e->model);
    pthread_mutex_destroy(&e->mu);
    free(e->name);
    free(e->path);
    free(e);
}

const char *ia_embedder_name(const ia_embedder *e) { return e->name; }
int ia_embedder_dim(const ia_embedder *e) { return e->dim; }
int ia_embedder_n_ctx(const ia_embedder *e) { return e->n_ctx; }
const char *ia_embedder_describe(const ia_embedder *e) { return e->desc; }

/* Text i's tokens, at most n_ctx (info says how many it had); malloc'd,
 * NULL when it has none. */
static llama_token *tokenize(const ia_embedder *e, const char *text, size_t len, int *n_out, ia_embed_info *info) {
    int cap = len + 8 < (size_t)e->n_ctx * 8 ? (int)len + 8 : e->n_ctx * 8;
    llama_token *t = ia_xcalloc((size_t)cap, sizeof *t);
    int n = llama_tokenize(e->vocab, text, (int32_t)len, t, cap, true, false);
    if (n < 0) { /* more tokens than cap: ask again with room for all */
        cap = -n;
        t = ia_xrealloc(t, (size_t)cap * sizeof *t);
        n = llama_tokenize(e->vocab, text, (int32_t)len, t, cap, true, false);
    }
    info->n_tokens = n > 0 ? n : 0;
    info->truncated = n > e->n_ctx;
    if (info->truncated) {
        /* keep the model's closing special (SEP/EOS) where it adds one */
        llama_token last = t[n - 1];
        n = e->n_ctx;
        if (llama_vocab_get_add_eos(e->vocab) || llama_vocab_get_add_sep(e->vocab)) t[n - 1] = last;
    }
    if (n <= 0) {
        free(t);
        return NULL;
    }
    *n_out = n;
    return t;
}

static void normalise(float *v, int dim) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)v[i] * v[i];
    float k = s > 0 ? (float)(1.0 / sqrt(s)) : 0;
    for (int i = 0; i < dim; i++) v[i] *= k;
}

/* One decode of toks[from..to): each its own sequence; the pooled vectors
 * land in out. Called with e->mu held. */
static int decode_group(ia_embedder *e, llama_token **toks, const int *nt, size_t from, size_t to, float *out,
                        ia_err *err) {
    int total = 0;
    for (size_t i = from; i < to; i++) total += nt[i];
    struct llama_batch b = llama_batch_init(total, 0, 1);
    for (size_t i = from; i < to; i++)
        for (int j = 0; j < nt[i]; j++) {
            int k = b.n_tokens++;
            b.token[k] = toks[i][j];
            b.pos[k] = j;
            b.n_seq_id[k] = 1;
            b.seq_id[k][0] = (llama_seq_id)(i - from);
            b.logits[k] = true;
        }
    llama_memory_t mem = llama_get_memory(e->ctx);
    if (mem) llama_memory_clear(mem, true);
    int rc = llama_decode(e->ctx, b);
    llama_batch_free(b);
    if (rc != 0) return ia_fail(err, IA_EINTERNAL, "'%s': llama_decode failed (%d)", e->name, rc);
    for (size_t i = from; i < to; i++) {
        const float *v = llama_get_embeddings_seq(e->ctx, (llama_seq_id)(i - from));
        if (!v) return ia_fail(err, IA_EINTERNAL, "'%s': no pooled embedding for a sequence", e->name);
        memcpy(out + i * (size_t)e->dim, v, (size_t)e->dim * sizeof *v);
        normalise(out + i * (size_t)e->dim, e->dim);
    }
    return 0;
}

int ia_embedder_embed(ia_embedder *e, const char *const *texts, const size_t *lens, size_t n, float *out,
                      ia_embed_info *info, ia_err *err) {
    llama_token **toks = ia_xcalloc(n ? n : 1, sizeof *toks);
    int *nt = ia_xcalloc(n ? n : 1, sizeof *nt);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        ia_embed_info in = {0};
        if (!(toks[i] = tokenize(e, texts[i], lens[i], &nt[i], &in)))
            rc = ia_fail(err, IA_EINVALID, "text %zu has no tokens for '%s'", i, e->name);
        if (info) info[i] = in;
    }
    pthread_mutex_lock(&e->mu);
    /* pack texts while their tokens fit one context */
    for (size_t from = 0; from < n && rc == 0;) {
        size_t to = from;
        int used = 0;
        while (to < n && to - from < IA_EMBED_MAX_SEQ && used + nt[to] <= e->n_ctx) used += nt[to++];
        rc = decode_group(e, toks, nt, from, to, out, err);
        from = to;
    }
    pthread_mutex_unlock(&e->mu);
    for (size_t i = 0; i < n; i++) free(toks[i]);
    free(toks);
    free(nt);
    return rc;
}

void ia_embed_reduce(const float *v, int dim, int k, float *out) {
    if (k > dim || k <= 0) k = dim;
    memmove(out, v, (size_t)k * sizeof *out);
    normalise(out, k);
}

float ia_embed_cosine(const float *a, const float *b, int dim) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < dim; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? (float)(ab / sqrt(aa * bb)) : 0;
}

static const char *const ALIASES[] = {IA_EMBED_ALIASES};

ia_embedder *ia_embed_find(const ia_embed_set *s, const char *name) {
    if (!s || !s->n || !name) return NULL;
    if (!strncmp(name, "models/", 7)) name += 7;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i]->name, name)) return s->v[i];
    for (size_t i = 0; i < sizeof ALIASES / sizeof *ALIASES; i++)
        if (!strcmp(ALIASES[i], name)) return s->v[0];
    return NULL;
}

char *ia_embed_names(const ia_embed_set *s) {
    if (!s || !s->n) return ia_strdup("none");
    ia_buf b = {0};
    for (size_t i = 0; i < s->n; i++) ia_buf_printf(&b, "%s%s", i ? ", " : "", s->v[i]->name);
    ia_buf_printf(&b, " (and as %s", ALIASES[0]);
    for (size_t i = 1; i < sizeof ALIASES / sizeof *ALIASES; i++) ia_buf_printf(&b, ", %s", ALIASES[i]);
    ia_buf_printf(&b, ")");
    return ia_buf_take(&b);
}

void ia_embed_set_free(ia_embed_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) ia_embedder_free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}
