/* fs_rank: reciprocal rank fusion (core/fs_rank.h). Lists are short (a few
 * hundred candidates), so the distinct ids are gathered in an array and
 * sorted; no hash table. */
#include "core/fs_rank.h"

#include <stdlib.h>

#include "lib/util.h"

typedef struct {
    int64_t id;
    double score;
    size_t best; /* the best rank in any list, from 0 */
} fused;

static int by_id(const void *a, const void *b) {
    int64_t x = ((const fused *)a)->id, y = ((const fused *)b)->id;
    return x < y ? -1 : x > y;
}

static int by_score(const void *a, const void *b) {
    const fused *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->best != y->best) return x->best < y->best ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

size_t ia_fs_rrf(const ia_fs_ranked *lists, size_t n_lists, int k, int64_t *ids, double *scores, size_t cap) {
    if (k <= 0) k = IA_FS_RRF_K;
    size_t total = 0;
    for (size_t l = 0; l < n_lists; l++) total += lists[l].n;
    if (!total || !cap) return 0;
    fused *all = ia_xcalloc(total, sizeof *all);
    size_t m = 0;
    for (size_t l = 0; l < n_lists; l++)
        for (size_t r = 0; r < lists[l].n; r++)
            all[m++] = (fused){lists[l].ids[r], 1.0 / (double)(k + (int64_t)r + 1), r};
    qsort(all, m, sizeof *all, by_id);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u && all[u - 1].id == all[i].id) {
            all[u - 1].score += all[i].score;
            if (all[i].best < all[u - 1].best) all[u - 1].best = all[i].best;
        } else {
            all[u++] = all[i];
        }
    }
    qsort(all, u, sizeof *all, by_score);
    size_t n = u < cap ? u : cap;
    for (size_t i = 0; i < n; i++) {
        ids[i] = all[i].id;
        if (scores) scores[i] = all[i].score;
    }
    free(all);
    return n;
}
