/* fsearch: the dialect-free types of file search — a store, a document in
 * it with its custom metadata, a chunk of its text, and a search hit. What
 * core/fsearch.h, api/ and store/ all speak; no JSON, no I/O. Free with the
 * functions below (model/fsearch.c). */
#ifndef IA_MODEL_FSEARCH_H
#define IA_MODEL_FSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A store's or a document's id: 1..40 of [a-z0-9-] (as Google's). */
#define IA_FS_ID_MAX 41

/* One customMetadata entry: a string, a number or a list of strings. */
typedef enum { IA_FS_META_STRING = 0, IA_FS_META_NUMERIC, IA_FS_META_LIST } ia_fs_meta_kind;
typedef struct ia_fs_meta {
    char *key;
    ia_fs_meta_kind kind;
    char *str;     /* STRING */
    double num;    /* NUMERIC */
    char **list;   /* LIST */
    size_t n_list;
} ia_fs_meta;

typedef struct ia_fs_store {
    char id[IA_FS_ID_MAX];
    char *owner;
    char *display_name;    /* NULL when none was given */
    char *embedding_model; /* as given (kept and echoed; see core/fsearch.h), or NULL */
    int64_t created, updated; /* epoch seconds */
    /* computed from the documents when read */
    int64_t n_active, n_pending, n_failed, size_bytes;
} ia_fs_store;

/* UPLOADING: the bytes are still coming through the resumable upload
 * (internal: never listed); PENDING: being ingested; then ACTIVE or FAILED. */
typedef enum { IA_DOC_UPLOADING = 0, IA_DOC_PENDING, IA_DOC_ACTIVE, IA_DOC_FAILED } ia_doc_state;

/* chunkingConfig.whiteSpaceConfig; 0 = the default. */
typedef struct ia_fs_chunking {
    int max_tokens;   /* words in a chunk */
    int overlap;      /* words shared with the previous chunk */
} ia_fs_chunking;

typedef struct ia_fs_doc {
    char id[IA_FS_ID_MAX];
    char store[IA_FS_ID_MAX];
    char *owner;
    char *display_name;
    char *mime_type;
    ia_doc_state state;
    int64_t size;          /* the source's bytes */
    char *error;           /* FAILED: why */
    char upload_id[48];    /* UPLOADING: the Files API upload it waits for; "" otherwise */
    ia_fs_meta *meta;
    size_t n_meta;
    ia_fs_chunking chunking;
    int64_t created, updated;
} ia_fs_doc;

/* A chunk as ingestion yields it: a piece of the document's text and its
 * byte offsets [start, end) in the extracted text. */
typedef struct ia_fs_chunk {
    char *text;
    int64_t start, end;
    /* its embedding (hybrid ranking, core/fs_vector.h): dim floats of unit
     * length, malloc'd, by the embedding model vec_model (borrowed); NULL
     * when none was computed (no embedding model served) */
    float *vec;
    int dim;
    const char *vec_model;
} ia_fs_chunk;

/* A chunk found by a search, with its document's name and metadata. */
typedef struct ia_fs_hit {
    int64_t chunk_id;     /* the store's id of the chunk: the ranked lists' key */
    char store[IA_FS_ID_MAX];
    char doc[IA_FS_ID_MAX];
    char *doc_title;      /* the document's display name (or its id) */
    char *text;
    double score;         /* the fused score (higher first) */
    ia_fs_meta *meta;     /* the document's */
    size_t n_meta;
} ia_fs_hit;

void ia_fs_meta_free(ia_fs_meta *m, size_t n); /* each entry and the array */
/* A deep copy of m[0..n) (malloc'd; NULL when n is 0). */
ia_fs_meta *ia_fs_meta_dup(const ia_fs_meta *m, size_t n);
void ia_fs_store_free(ia_fs_store *s);
void ia_fs_doc_free(ia_fs_doc *d);
void ia_fs_chunks_free(ia_fs_chunk *c, size_t n);
void ia_fs_hits_free(ia_fs_hit *h, size_t n);
const char *ia_doc_state_name(ia_doc_state s); /* "uploading", "pending", ... */
int ia_doc_state_parse(const char *s);          /* -1 when unknown */

#endif
