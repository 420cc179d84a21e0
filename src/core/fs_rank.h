/* fs_rank: reciprocal rank fusion of N ranked lists of chunk ids, the one
 * place where file search's lists meet. Today there is one list (lexical,
 * store/fsearch.h's ia_store_fs_search); a vector list from an embedding
 * model is a second ia_fs_ranked handed to the same call (core/fsearch.c,
 * fs_candidates). Pure; thread-safe. */
#ifndef IA_CORE_FS_RANK_H
#define IA_CORE_FS_RANK_H

#include <stddef.h>
#include <stdint.h>

/* The k of RRF (Cormack et al., 2009): score(d) = sum over lists of
 * 1 / (k + rank of d in the list), ranks from 1. */
#define IA_FS_RRF_K 60

typedef struct ia_fs_ranked {
    const int64_t *ids; /* best first; an id appears at most once per list */
    size_t n;
} ia_fs_ranked;

/* Fuses lists[0..n_lists) with k (<= 0: IA_FS_RRF_K) into ids / scores
 * (each at least cap long): the distinct ids, best first (equal scores:
 * the better best rank first, then the smaller id); returns how many were
 * written (at most cap). */
size_t ia_fs_rrf(const ia_fs_ranked *lists, size_t n_lists, int k, int64_t *ids, double *scores, size_t cap);

#endif
