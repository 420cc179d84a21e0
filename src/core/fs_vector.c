/* fs_vector: the vector half of hybrid file search (core/fs_vector.h). */
#include "core/fs_vector.h"

#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "lib/util.h"
#include "store/fsearch.h"

ia_embedder *ia_fs_vec_embedder(const ia_embed_set *set, const char *model) {
    if (!set || !set->n) return NULL;
    if (!model || !*model) return set->v[0];
    return ia_embed_find(set, model);
}

int ia_fs_vec_embed_chunks(ia_embedder *e, ia_fs_chunk *chunks, size_t n, ia_err *err) {
    int dim = ia_embedder_dim(e);
    const char *texts[IA_FS_VEC_BATCH];
    size_t lens[IA_FS_VEC_BATCH];
    /* a batch at a time: one decode packs what fits, and memory stays bounded */
    for (size_t from = 0; from < n; from += IA_FS_VEC_BATCH) {
        size_t m = n - from < IA_FS_VEC_BATCH ? n - from : IA_FS_VEC_BATCH;
        float *v = ia_xcalloc(m * (size_t)dim, sizeof *v);
        for (size_t i = 0; i < m; i++) {
            texts[i] = chunks[from + i].text;
            lens[i] = strlen(texts[i]);
        }
        if (ia_embedder_embed(e, texts, lens, m, v, NULL, err) != 0) {
            free(v);
            return -1;
        }
        for (size_t i = 0; i < m; i++) {
            ia_fs_chunk *c = &chunks[from + i];
            c->vec = ia_xcalloc((size_t)dim, sizeof *c->vec);
            memcpy(c->vec, v + i * (size_t)dim, (size_t)dim * sizeof *c->vec);
            c->dim = dim;
            c->vec_model = ia_embedder_name(e);
        }
        free(v);
    }
    return 0;
}

typedef struct scored {
    int64_t id;
    float score;
} scored;

static int by_score(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static ssize_t pool_find(const ia_fs_hit *pool, size_t n, int64_t id) {
    for (size_t i = 0; i < n; i++)
        if (pool[i].chunk_id == id) return (ssize_t)i;
    return -1;
}

/* Reads the hits of top[0..m) missing from *pool and appends them. */
static int fill_pool(ia_store *st, const char *owner, const scored *top, size_t m, ia_fs_hit **pool,
                     size_t *n_pool, ia_err *err) {
    int64_t *want = ia_xcalloc(m + 1, sizeof *want);
    size_t nw = 0;
    for (size_t i = 0; i < m; i++)
        if (pool_find(*pool, *n_pool, top[i].id) < 0) want[nw++] = top[i].id;
    ia_fs_hit *got = NULL;
    size_t ng = 0;
    int rc = ia_store_fs_hits(st, owner, want, nw, &got, &ng, err);
    free(want);
    if (rc < 0) return -1;
    if (ng) {
        *pool = ia_xrealloc(*pool, (*n_pool + ng) * sizeof **pool);
        memcpy(*pool + *n_pool, got, ng * sizeof *got);
        *n_pool += ng;
    }
    free(got); /* the hits' members moved into the pool */
    return 0;
}

int ia_fs_vec_list(ia_store *st, ia_embedder *e, const char *owner, const char *const *stores, size_t n_stores,
                   const char *query, const ia_fs_filter *filter, ia_fs_hit **pool, size_t *n_pool, int64_t **ids,
                   ia_fs_ranked *out, ia_err *err) {
    *ids = NULL;
    *out = (ia_fs_ranked){NULL, 0};
    int dim = ia_embedder_dim(e);
    size_t ql = strlen(query);
    if (!ql || strspn(query, " \t\r\n") == ql) return 0;
    float *q = ia_xcalloc((size_t)dim, sizeof *q);
    int64_t *vid = NULL;
    float *vecs = NULL;
    int vdim = 0;
    size_t nv = 0;
    scored *sc = NULL;
    int rc = ia_embedder_embed(e, &query, &ql, 1, q, NULL, err);
    if (rc == 0)
        rc = ia_store_fs_vectors(st, owner, stores, n_stores, ia_embedder_name(e), &vid, &vecs, &vdim, &nv, err);
    if (rc == 0 && nv && vdim == dim) {
        sc = ia_xcalloc(nv, sizeof *sc);
        for (size_t i = 0; i < nv; i++) {
            const float *v = vecs + i * (size_t)dim;
            float dot = 0; /* both unit length: the cosine */
            for (int j = 0; j < dim; j++) dot += q[j] * v[j];
            sc[i] = (scored){vid[i], dot};
        }
        qsort(sc, nv, sizeof *sc, by_score);
        /* twice the list's length before the filter, so a filter that drops
         * many still leaves a full list most of the time */
        size_t m = nv < 2 * IA_FS_VEC_CANDIDATES ? nv : 2 * IA_FS_VEC_CANDIDATES;
        rc = fill_pool(st, owner, sc, m, pool, n_pool, err);
        int64_t *list = ia_xcalloc(IA_FS_VEC_CANDIDATES, sizeof *list);
        size_t k = 0;
        for (size_t i = 0; rc == 0 && i < m && k < IA_FS_VEC_CANDIDATES; i++) {
            ssize_t at = pool_find(*pool, *n_pool, sc[i].id);
            if (at >= 0 && ia_fs_filter_match(filter, (*pool)[at].meta, (*pool)[at].n_meta)) list[k++] = sc[i].id;
        }
        *ids = list;
        *out = (ia_fs_ranked){list, k};
    }
    free(sc);
    free(q);
    free(vid);
    free(vecs);
    return rc;
}
