/* store/fsearch: the file search rows behind the store — stores, their
 * documents (with custom metadata and chunking settings), the documents'
 * chunks and a lexical index over the chunks' text. A backend serves them
 * through its ops->fs table (backend.h); a backend without one answers
 * IA_EUNIMPLEMENTED naming the store. SQLite: tables fs_stores, fs_docs,
 * fs_chunks and an FTS5 index fs_chunks_fts (porter + unicode61), ranked by
 * bm25 (store/fs_sqlite.c, migration 8). PostgreSQL: the same tables with
 * a tsvector column (english) under a GIN index, ranked by ts_rank
 * (store/pg_fsearch.c, its migration 3).
 *
 * Visibility: every call takes the caller's owner; another owner's store or
 * document reads as missing (IA_ENOTFOUND naming it). Documents in state
 * UPLOADING are internal (never listed, never counted).
 *
 * The vector half of hybrid search: a chunk may carry its embedding (dim
 * float32 and the model's name; SQLite: columns vec BLOB and vec_model of
 * fs_chunks, migration 10), written by ia_store_fs_doc_update with the
 * chunk; ia_store_fs_vectors hands core every vector of a model in the
 * stores (core ranks them by cosine, brute force: core/fs_vector.h) and
 * ia_store_fs_hits the chunks it picked that the lexical list lacks. */
#ifndef IA_STORE_FSEARCH_H
#define IA_STORE_FSEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "model/fsearch.h"
#include "store/store.h"

/* Inserts a store row (id unique per owner: IA_EINVALID when taken). */
int ia_store_fs_store_put(ia_store *s, const ia_fs_store *st, ia_err *err);
/* A store with its documents' counts and bytes; IA_ENOTFOUND naming it. */
int ia_store_fs_store_get(ia_store *s, const char *owner, const char *id, ia_fs_store *out, ia_err *err);
/* A page of owner's stores, newest first, after cursor `after` (0: the
 * first page); *next is the next page's cursor (0: none). */
int ia_store_fs_store_list(ia_store *s, const char *owner, int64_t after, int limit, ia_fs_store **out,
                           size_t *n, int64_t *next, ia_err *err);
/* Deletes a store. With documents and !force: IA_EINVALID naming `force`;
 * with force: its documents and chunks go too. */
int ia_store_fs_store_delete(ia_store *s, const char *owner, const char *id, bool force, ia_err *err);

/* Inserts a document row (its store must exist: IA_ENOTFOUND). */
int ia_store_fs_doc_put(ia_store *s, const ia_fs_doc *d, ia_err *err);
/* Updates a document's state, size, error, upload_id and updated time and,
 * when chunks are given, stores them (numbered 0..n-1) in the same
 * transaction: a document is never ACTIVE without its chunks. Applies only
 * to a row in state `from` (the claim UPLOADING -> PENDING is atomic, and
 * ingestion's end neither revives a deleted document nor flips one that
 * recovery failed); none: IA_ENOTFOUND and nothing written. */
int ia_store_fs_doc_update(ia_store *s, const ia_fs_doc *d, ia_doc_state from, const ia_fs_chunk *chunks,
                           size_t n, ia_err *err);
int ia_store_fs_doc_get(ia_store *s, const char *owner, const char *store, const char *id, ia_fs_doc *out,
                        ia_err *err);
/* The UPLOADING document waiting for Files API upload upload_id;
 * IA_ENOTFOUND when none (a plain Files API upload). */
int ia_store_fs_doc_by_upload(ia_store *s, const char *owner, const char *upload_id, ia_fs_doc *out,
                              ia_err *err);
/* A page of a store's documents (not UPLOADING), newest first; cursors as
 * for stores. The store must exist (IA_ENOTFOUND). */
int ia_store_fs_doc_list(ia_store *s, const char *owner, const char *store, int64_t after, int limit,
                         ia_fs_doc **out, size_t *n, int64_t *next, ia_err *err);
/* Deletes a document. With chunks and !force: IA_EINVALID naming `force`. */
int ia_store_fs_doc_delete(ia_store *s, const char *owner, const char *store, const char *id, bool force,
                           ia_err *err);

/* The lexical list: chunks of ACTIVE documents of owner's stores that hold
 * any of terms (plain words; the backend quotes them), best first (SQLite:
 * bm25), at most limit. hits' score is the backend's rank, higher better. */
int ia_store_fs_search(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                       const char *const *terms, size_t n_terms, int limit, ia_fs_hit **out, size_t *n,
                       ia_err *err);
/* Every chunk vector made by embedding model `model` of ACTIVE documents
 * of owner's stores: *ids[i] and (*vecs)[i * dim ..], dim floats each
 * (*dim: the first vector's length; a vector of another length is
 * skipped). */
int ia_store_fs_vectors(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                        const char *model, int64_t **ids, float **vecs, int *dim, size_t *n, ia_err *err);
/* The chunks ids[0..n_ids) of owner's ACTIVE documents as hits (score 0),
 * in no particular order; an id not found is left out. */
int ia_store_fs_hits(ia_store *s, const char *owner, const int64_t *ids, size_t n_ids, ia_fs_hit **out,
                     size_t *n, ia_err *err);
/* Start-up: documents a crash left PENDING (mid-ingestion) go FAILED with
 * message; returns how many (or -1). UPLOADING ones wait for their upload,
 * which may still be resumed. */
int ia_store_fs_recover(ia_store *s, int64_t now, const char *message, ia_err *err);

/* The backend's table (backend.h's ops->fs). */
typedef struct ia_store_fs_ops {
    int (*store_put)(ia_store *, const ia_fs_store *, ia_err *);
    int (*store_get)(ia_store *, const char *, const char *, ia_fs_store *, ia_err *);
    int (*store_list)(ia_store *, const char *, int64_t, int, ia_fs_store **, size_t *, int64_t *, ia_err *);
    int (*store_delete)(ia_store *, const char *, const char *, bool, ia_err *);
    int (*doc_put)(ia_store *, const ia_fs_doc *, ia_err *);
    int (*doc_update)(ia_store *, const ia_fs_doc *, ia_doc_state, const ia_fs_chunk *, size_t, ia_err *);
    int (*doc_get)(ia_store *, const char *, const char *, const char *, ia_fs_doc *, ia_err *);
    int (*doc_by_upload)(ia_store *, const char *, const char *, ia_fs_doc *, ia_err *);
    int (*doc_list)(ia_store *, const char *, const char *, int64_t, int, ia_fs_doc **, size_t *, int64_t *,
                    ia_err *);
    int (*doc_delete)(ia_store *, const char *, const char *, const char *, bool, ia_err *);
    int (*search)(ia_store *, const char *, const char *const *, size_t, const char *const *, size_t, int,
                  ia_fs_hit **, size_t *, ia_err *);
    int (*recover)(ia_store *, int64_t, const char *, ia_err *);
    int (*vectors)(ia_store *, const char *, const char *const *, size_t, const char *, int64_t **, float **,
                   int *, size_t *, ia_err *);
    int (*hits)(ia_store *, const char *, const int64_t *, size_t, ia_fs_hit **, size_t *, ia_err *);
} ia_store_fs_ops;

extern const ia_store_fs_ops ia_sq_fs_ops; /* fs_sqlite.c */
extern const ia_store_fs_ops ia_pg_fs_ops; /* pg_fsearch.c */

/* fs_codec.c: customMetadata as the store keeps it (neutral JSON:
 * [{"key","string"} | {"key","number"} | {"key","list":[...]}]); decode
 * gives -1 on malformed text. */
char *ia_fs_meta_encode(const ia_fs_meta *m, size_t n);
int ia_fs_meta_decode(const char *json, ia_fs_meta **out, size_t *n);

#endif
