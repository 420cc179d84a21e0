/* fs_vector: the vector half of hybrid file search, over the
 * --embedding-model embedders (engine/embed.h) and the chunk vectors the
 * store keeps (store/fsearch.h). core/fsearch.c calls it at its two seams.
 *
 * Which model: a store's embeddingModel when it names one (it must be
 * served: ia_fs_vec_embedder), else the server's default, the first
 * --embedding-model; none served: no vectors, file search is lexical.
 * Vectors are tagged with the model's own name and only ever compared
 * with vectors of that model, so a store ingested under another default
 * (the server restarted with another model) ranks lexically until its
 * documents are ingested again.
 *
 * Ranking: brute force — every vector of the searched stores of that model
 * is read and scored by cosine (unit vectors: a dot product) against the
 * query's; fine for the thousands of chunks a store here holds, linear in
 * them (no ANN index). The best IA_FS_VEC_CANDIDATES become a ranked list
 * for reciprocal rank fusion with the lexical one (core/fs_rank.h). */
#ifndef IA_CORE_FS_VECTOR_H
#define IA_CORE_FS_VECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "core/fs_filter.h"
#include "core/fs_rank.h"
#include "engine/embed.h"
#include "lib/err.h"
#include "model/fsearch.h"
#include "store/store.h"

#define IA_FS_VEC_CANDIDATES 200
#define IA_FS_VEC_BATCH 32 /* chunks embedded per embedder call at ingestion */

/* The embedder for a store whose embeddingModel is model (NULL or "": the
 * default, the set's first); NULL when none is served (set NULL or empty,
 * or model not among them). */
ia_embedder *ia_fs_vec_embedder(const ia_embed_set *set, const char *model);

/* Ingestion: computes chunks[i].vec for i < n with e (vec_model its name).
 * -1 with err when the embedder fails (the caller fails the document). */
int ia_fs_vec_embed_chunks(ia_embedder *e, ia_fs_chunk *chunks, size_t n, ia_err *err);

/* Query: the ranked list of chunk ids by cosine to query under e, over
 * owner's stores[0..n_stores) (those ingested with e), best first, at most
 * IA_FS_VEC_CANDIDATES, keeping only chunks whose document passes filter.
 * The hits not yet in *pool (by chunk id) are read from the store and
 * appended to it, so every listed id has its hit there. *ids is malloc'd
 * (the list's storage); out->n may be 0. */
int ia_fs_vec_list(ia_store *st, ia_embedder *e, const char *owner, const char *const *stores, size_t n_stores,
                   const char *query, const ia_fs_filter *filter, ia_fs_hit **pool, size_t *n_pool, int64_t **ids,
                   ia_fs_ranked *out, ia_err *err);

#endif
