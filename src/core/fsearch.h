/* fsearch: the file search service — stores of documents per API key,
 * ingestion of a document (its text extracted, chunked and indexed), and
 * search over one or more stores for the file_search tool. It knows
 * neither HTTP nor the wire JSON: http/fsearch.c drives it, api/fsearch.c
 * writes what it returns. Rows live in the store (store/fsearch.h).
 *
 * Ingestion runs synchronously in the request that brings the bytes (the
 * upload's final chunk, importFile): the document is written PENDING, then
 * ACTIVE with its chunks or FAILED with the reason, before the call
 * returns, so the operation answered is already done. A crash in between
 * leaves it PENDING; ia_fsearch_new turns such documents FAILED ("upload
 * it again"), so no operation stays pending forever.
 *
 * An upload to a store is a Files API upload (core/files.h, the same
 * resumable protocol and limits) that an UPLOADING document waits for; when
 * it is finalized, ia_fsearch_upload_done claims the document (UPLOADING ->
 * PENDING in one conditional update: one finalize ingests), ingests it and
 * deletes the file. Ingestion's end applies only to a document still
 * PENDING, so one deleted meanwhile keeps no chunks; a store error there is
 * written as FAILED. A document is at most IA_FS_DOC_MAX bytes
 * (core/fs_ingest.h), refused at the upload's start and at importFile.
 *
 * Ranking (ia_fsearch_search): candidate lists of chunk ids, fused by
 * reciprocal rank fusion (core/fs_rank.h): the lexical one (FTS5 bm25 over
 * the chunks' words) and, when an embedding model is served
 * (ia_fsearch_set_embed), the vector one (core/fs_vector.h: cosine to the
 * query's embedding, brute force over the stores' chunk vectors):
 *   - ingestion: fs_ingest_bytes (fsearch.c) computes each chunk's vector
 *     with the store's embedding model and the store keeps it with the
 *     chunk; an embedder failure fails the document;
 *   - query: fs_candidates (fsearch.c) adds one vector list per embedding
 *     model among the searched stores to the lexical list.
 * With no --embedding-model, ranking is lexical only (the start-up log
 * says so). A store's embeddingModel must be served (else IA_EINVALID
 * naming it and the flag); none given: the server's default, the first
 * --embedding-model.
 *
 * Threads: every function may be called from any thread. */
#ifndef IA_CORE_FSEARCH_H
#define IA_CORE_FSEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/files.h"
#include "core/fs_filter.h"
#include "lib/err.h"
#include "model/fsearch.h"
#include "store/store.h"

struct ia_embed_set; /* engine/embed.h */
typedef struct ia_fsearch ia_fsearch;

/* Over store and files (borrowed; files may be NULL: uploads and imports
 * then answer a clear error). Fails documents a crash left PENDING. */
ia_fsearch *ia_fsearch_new(ia_store *store, ia_files *files, ia_err *err);
void ia_fsearch_free(ia_fsearch *fs); /* NULL is a no-op */
/* The embedding models (borrowed, outliving fs; NULL: none) that make file
 * search hybrid; logs which ranking is on. Call before serving. */
void ia_fsearch_set_embed(ia_fsearch *fs, const struct ia_embed_set *set);

/* true when id may name a store or document: 1..40 of [a-z0-9-], no dash
 * first or last. */
bool ia_fs_id_valid(const char *id);

/* stores ------------------------------------------------------------------ */
int ia_fsearch_create(ia_fsearch *fs, const char *owner, const char *display_name, const char *embedding_model,
                      ia_fs_store *out, ia_err *err);
int ia_fsearch_get(ia_fsearch *fs, const char *owner, const char *id, ia_fs_store *out, ia_err *err);
int ia_fsearch_list(ia_fsearch *fs, const char *owner, int64_t after, int limit, ia_fs_store **out, size_t *n,
                    int64_t *next, ia_err *err);
int ia_fsearch_delete(ia_fsearch *fs, const char *owner, const char *id, bool force, ia_err *err);

/* What a new document is given (uploadToFileSearchStore's body, importFile's). */
typedef struct ia_fs_add {
    const char *display_name; /* or NULL */
    const char *mime_type;    /* upload: required (body or header); import: NULL = the file's */
    const ia_fs_meta *meta;
    size_t n_meta;
    ia_fs_chunking chunking;
} ia_fs_add;

/* documents ------------------------------------------------------------------ */
/* Starts the upload of a document of `size` bytes (-1: not announced) into
 * store: *up is the Files API upload to send the bytes to (its upload_id
 * goes into the upload URL). IA_EINVALID naming mimeType for a type that
 * cannot be indexed, x-goog-upload-header-content-length past
 * IA_FS_DOC_MAX. */
int ia_fsearch_upload_start(ia_fsearch *fs, const char *owner, const char *store, const ia_fs_add *a,
                            int64_t size, ia_file *up, ia_err *err);
/* A Files API upload f was finalized: 0 when no document waits for it (a
 * plain file, or one another finalize claimed); 1 when one did — it is
 * ingested, the file deleted, *doc the document (ACTIVE or FAILED); -1 with
 * err on a store error, or IA_ENOTFOUND when it was deleted meanwhile. */
int ia_fsearch_upload_done(ia_fsearch *fs, const char *owner, const ia_file *f, ia_fs_doc *doc, ia_err *err);
/* importFile: a new document from owner's Files API file file_id (ACTIVE),
 * ingested before the return; *doc ACTIVE or FAILED. A file of a type that
 * cannot be indexed or past IA_FS_DOC_MAX: IA_EINVALID naming fileName, no
 * document. */
int ia_fsearch_import(ia_fsearch *fs, const char *owner, const char *store, const char *file_id,
                      const ia_fs_add *a, ia_fs_doc *doc, ia_err *err);
int ia_fsearch_doc_get(ia_fsearch *fs, const char *owner, const char *store, const char *id, ia_fs_doc *out,
                       ia_err *err);
int ia_fsearch_doc_list(ia_fsearch *fs, const char *owner, const char *store, int64_t after, int limit,
                        ia_fs_doc **out, size_t *n, int64_t *next, ia_err *err);
int ia_fsearch_doc_delete(ia_fsearch *fs, const char *owner, const char *store, const char *id, bool force,
                          ia_err *err);

/* search --------------------------------------------------------------------- */
#define IA_FS_TOP_K_DEFAULT 5
#define IA_FS_TOP_K_MAX 50
/* Checks that each of stores[0..n) is owner's (IA_ENOTFOUND naming
 * field[i] and the store otherwise). */
int ia_fsearch_check_stores(ia_fsearch *fs, const char *owner, const char *const *stores, size_t n,
                            const char *field, ia_err *err);
/* The top_k (1..IA_FS_TOP_K_MAX; 0: default) chunks of owner's stores best
 * matching query whose documents pass filter (NULL: all), best first. */
int ia_fsearch_search(ia_fsearch *fs, const char *owner, const char *const *stores, size_t n_stores,
                      const char *query, const ia_fs_filter *filter, int top_k, ia_fs_hit **out, size_t *n,
                      ia_err *err);

#endif
