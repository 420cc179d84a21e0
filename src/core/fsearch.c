/* fsearch: the file search service (core/fsearch.h). */
#include "core/fsearch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs_ingest.h"
#include "core/fs_rank.h"
#include "core/fs_vector.h"
#include "lib/log.h"
#include "lib/util.h"
#include "store/fsearch.h"

struct ia_fsearch {
    ia_store *store;
    ia_files *files;
    const ia_embed_set *embed; /* --embedding-model's; NULL or empty: lexical only */
};

/* Candidates of each list before fusion: enough for a filter to leave
 * top_k, few enough to rank in microseconds. */
#define CANDIDATES 200
/* Words of a query used: past this a query is a document, not a question. */
#define MAX_TERMS 32
/* Ranked lists fused: the lexical one and one per embedding model among
 * the searched stores (a model past the fourth adds none). */
#define MAX_LISTS 5

ia_fsearch *ia_fsearch_new(ia_store *store, ia_files *files, ia_err *err) {
    int n = ia_store_fs_recover(store, ia_now(), "the server stopped while this document was being ingested; "
                                "upload or import it again", err);
    if (n < 0) return NULL;
    if (n > 0) ia_info("file search: %d document(s) left pending by a stop marked failed", n);
    ia_fsearch *fs = ia_xcalloc(1, sizeof *fs);
    fs->store = store;
    fs->files = files;
    return fs;
}

void ia_fsearch_free(ia_fsearch *fs) { free(fs); }

void ia_fsearch_set_embed(ia_fsearch *fs, const ia_embed_set *set) {
    fs->embed = set;
    ia_embedder *e = ia_fs_vec_embedder(set, NULL);
    if (e) ia_info("file search: hybrid ranking (lexical + %s vectors, fused by RRF)", ia_embedder_name(e));
    else ia_info("file search: lexical ranking only (no --embedding-model)");
}

bool ia_fs_id_valid(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n >= IA_FS_ID_MAX || id[0] == '-' || id[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-')) return false;
    return true;
}

/* A new id: 16 random [a-z0-9]. */
static void new_id(char out[IA_FS_ID_MAX]) {
    static const char AL[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[16];
    ia_random(r, sizeof r);
    for (int i = 0; i < 16; i++) out[i] = AL[r[i] % 36];
    out[16] = '\0';
}

/* ---- stores ------------------------------------------------------------------ */

int ia_fsearch_create(ia_fsearch *fs, const char *owner, const char *display_name, const char *embedding_model,
                      ia_fs_store *out, ia_err *err) {
    if (embedding_model && *embedding_model && !ia_fs_vec_embedder(fs->embed, embedding_model)) {
        char *names = ia_embed_names(fs->embed);
        int rc = ia_fail(err, IA_EINVALID, "embeddingModel: '%.80s' is not an embedding model this server serves "
                         "(embedding models: %s); serve it with --embedding-model, or leave embeddingModel out "
                         "for the default", embedding_model, names);
        free(names);
        return rc;
    }
    if (display_name && strlen(display_name) > 512)
        return ia_fail(err, IA_EINVALID, "displayName: longer than 512 characters");
    ia_fs_store st = {.owner = (char *)owner, .display_name = (char *)display_name,
                      .embedding_model = embedding_model && *embedding_model ? (char *)embedding_model : NULL};
    new_id(st.id);
    st.created = st.updated = ia_now();
    if (ia_store_fs_store_put(fs->store, &st, err) < 0) return -1;
    return ia_store_fs_store_get(fs->store, owner, st.id, out, err);
}

int ia_fsearch_get(ia_fsearch *fs, const char *owner, const char *id, ia_fs_store *out, ia_err *err) {
    if (!ia_fs_id_valid(id)) return ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%.60s not found", id);
    return ia_store_fs_store_get(fs->store, owner, id, out, err);
}

int ia_fsearch_list(ia_fsearch *fs, const char *owner, int64_t after, int limit, ia_fs_store **out, size_t *n,
                    int64_t *next, ia_err *err) {
    return ia_store_fs_store_list(fs->store, owner, after, limit, out, n, next, err);
}

int ia_fsearch_delete(ia_fsearch *fs, const char *owner, const char *id, bool force, ia_err *err) {
    if (!ia_fs_id_valid(id)) return ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%.60s not found", id);
    return ia_store_fs_store_delete(fs->store, owner, id, force, err);
}

/* ---- documents ------------------------------------------------------------------ */

static int no_files(ia_err *err) {
    return ia_fail(err, IA_EUNIMPLEMENTED, "the Files API is not served here, and file search takes its "
                   "documents through it");
}

/* A new document row from a, in state st. */
static void doc_init(ia_fs_doc *d, const char *owner, const char *store, const ia_fs_add *a, const char *mime,
                     ia_doc_state st) {
    memset(d, 0, sizeof *d);
    new_id(d->id);
    snprintf(d->store, sizeof d->store, "%s", store);
    d->owner = ia_strdup(owner);
    d->display_name = ia_strdup(a->display_name);
    d->mime_type = ia_strdup(mime);
    d->state = st;
    d->meta = ia_fs_meta_dup(a->meta, a->n_meta);
    d->n_meta = a->n_meta;
    d->chunking = a->chunking;
    d->created = d->updated = ia_now();
}

static int check_add(const ia_fs_add *a, const char *mime, ia_err *err) {
    if (ia_fs_chunking_check(&a->chunking, err) < 0) return -1;
    if (mime && !ia_fs_mime_ok(mime))
        return ia_fail(err, IA_EINVALID, "mimeType: '%.80s' cannot be indexed by file search here; send "
                       "text/plain, text/markdown (or another text/ type), text/html or application/pdf", mime);
    return 0;
}

/* The chunks' vectors by the store's embedding model (core/fs_vector.h);
 * nothing when no embedding model is served at all. -1 with why when the
 * embedder fails, or when the store names a model this server no longer
 * serves (restarted without it): vectors silently missing would make the
 * document rank lexically only, so it fails and says which flag to give. */
static int embed_chunks(ia_fsearch *fs, const ia_fs_doc *d, ia_fs_chunk *chunks, size_t n, ia_err *why) {
    ia_fs_store st;
    ia_err ignore;
    if (!fs->embed || !fs->embed->n || ia_store_fs_store_get(fs->store, d->owner, d->store, &st, &ignore) < 0)
        return 0;
    ia_embedder *e = ia_fs_vec_embedder(fs->embed, st.embedding_model);
    if (!e) ia_fail(why, IA_EINVALID, "embeddingModel: the store's '%.80s' is not served by this server any more; "
                    "serve it with --embedding-model and upload or import the document again",
                    st.embedding_model ? st.embedding_model : "");
    ia_fs_store_free(&st);
    return e ? ia_fs_vec_embed_chunks(e, chunks, n, why) : -1;
}

/* Ends a PENDING document FAILED with why (no chunks). IA_ENOTFOUND when
 * it is no longer PENDING (deleted meanwhile). */
static int doc_fail(ia_fsearch *fs, ia_fs_doc *d, const char *why, ia_err *err) {
    d->state = IA_DOC_FAILED;
    d->upload_id[0] = '\0';
    d->updated = ia_now();
    char *msg = ia_strdup(why); /* why may be d->error itself */
    free(d->error);
    d->error = msg;
    return ia_store_fs_doc_update(fs->store, d, IA_DOC_PENDING, NULL, 0, err);
}

/* The chunks of d's bytes, with their vectors; 0 chunks with why when the
 * document cannot be indexed. */
static void doc_chunks(ia_fsearch *fs, const ia_fs_doc *d, const unsigned char *data, size_t len,
                       ia_fs_chunk **chunks, size_t *n, ia_err *why) {
    char *text = NULL;
    *chunks = NULL;
    *n = 0;
    if (ia_fs_extract(d->mime_type, data, len, &text, why) == 0 &&
        ia_fs_chunk_text(text, &d->chunking, chunks, n, why) == 0) {
        if (!*n) ia_fail(why, IA_EINVALID, "the document has no text to index");
        if (*n && embed_chunks(fs, d, *chunks, *n, why) < 0) {
            ia_fs_chunks_free(*chunks, *n);
            *chunks = NULL;
            *n = 0;
        }
    }
    free(text);
}

/* THE SEAM (ingestion): the PENDING document's bytes become its chunks,
 * stored with it in one transaction; d goes ACTIVE, or FAILED with the
 * reason. Each chunk's vector is computed here (embed_chunks), between
 * ia_fs_chunk_text and ia_store_fs_doc_update. The update applies only to a
 * row still PENDING: a document deleted meanwhile gets no chunks (-1,
 * IA_ENOTFOUND). A store error on the update is written as FAILED in a
 * second update, so the operation ends instead of staying PENDING until a
 * restart; -1 only when that fails too. */
static int fs_ingest_bytes(ia_fsearch *fs, ia_fs_doc *d, const unsigned char *data, size_t len, ia_err *err) {
    ia_err why;
    ia_fs_chunk *chunks = NULL;
    size_t n = 0;
    d->size = (int64_t)len;
    doc_chunks(fs, d, data, len, &chunks, &n, &why);
    d->updated = ia_now();
    d->upload_id[0] = '\0';
    if (!n) return doc_fail(fs, d, why.msg, err);
    d->state = IA_DOC_ACTIVE;
    int rc = ia_store_fs_doc_update(fs->store, d, IA_DOC_PENDING, chunks, n, err);
    ia_fs_chunks_free(chunks, n);
    if (rc == 0 || err->code == IA_ENOTFOUND) return rc;
    /* the store's own words stay in the log: they are no client's business */
    ia_warn("file search: document %s/%s: %s", d->store, d->id, err->msg);
    return doc_fail(fs, d, "the document's chunks could not be stored (a store error, in the server's log); "
                    "upload or import it again", err);
}

int ia_fsearch_upload_start(ia_fsearch *fs, const char *owner, const char *store, const ia_fs_add *a,
                            int64_t size, ia_file *up, ia_err *err) {
    if (!fs->files) return no_files(err);
    ia_fs_store st;
    if (ia_fsearch_get(fs, owner, store, &st, err) < 0) return -1;
    ia_fs_store_free(&st);
    if (!a->mime_type || !*a->mime_type)
        return ia_fail(err, IA_EINVALID, "mimeType: required (in the body, or as "
                       "x-goog-upload-header-content-type)");
    if (check_add(a, a->mime_type, err) < 0) return -1;
    if (size > IA_FS_DOC_MAX)
        return ia_fail(err, IA_EINVALID, "x-goog-upload-header-content-length: %lld bytes is more than the %lld a "
                       "file search document may have", (long long)size, (long long)IA_FS_DOC_MAX);
    ia_file_start fst = {.display_name = a->display_name, .mime_type = a->mime_type, .size = size};
    if (ia_files_start(fs->files, owner, &fst, up, err) < 0) return -1;
    ia_fs_doc d;
    doc_init(&d, owner, store, a, a->mime_type, IA_DOC_UPLOADING);
    snprintf(d.upload_id, sizeof d.upload_id, "%s", up->upload_id);
    int rc = ia_store_fs_doc_put(fs->store, &d, err);
    ia_fs_doc_free(&d);
    if (rc < 0) {
        ia_files_cancel(fs->files, owner, up->upload_id, NULL);
        ia_file_free(up);
    }
    return rc;
}

/* Claims the UPLOADING document waiting for upload_id: it goes PENDING
 * (upload_id cleared) in one conditional update, so of two finalizes (or a
 * finalize and a query after it) exactly one ingests. 1 claimed, 0 none
 * waits (a plain Files API upload, or claimed already), -1 error. */
static int doc_claim(ia_fsearch *fs, const char *owner, const char *upload_id, ia_fs_doc *doc, ia_err *err) {
    ia_err e;
    if (ia_store_fs_doc_by_upload(fs->store, owner, upload_id, doc, &e) < 0) {
        if (e.code == IA_ENOTFOUND) return 0;
        *err = e;
        return -1;
    }
    doc->state = IA_DOC_PENDING;
    doc->upload_id[0] = '\0';
    doc->updated = ia_now();
    int rc = ia_store_fs_doc_update(fs->store, doc, IA_DOC_UPLOADING, NULL, 0, &e);
    if (rc == 0) return 1;
    ia_fs_doc_free(doc);
    if (e.code == IA_ENOTFOUND) return 0;
    *err = e;
    return -1;
}

int ia_fsearch_upload_done(ia_fsearch *fs, const char *owner, const ia_file *f, ia_fs_doc *doc, ia_err *err) {
    ia_err e;
    int claimed = doc_claim(fs, owner, f->upload_id, doc, err);
    if (claimed <= 0) return claimed;
    ia_file meta;
    unsigned char *data = NULL;
    size_t len = 0;
    int rc;
    if (ia_files_read(fs->files, owner, f->id, IA_FS_DOC_MAX, &meta, &data, &len, &e) < 0) {
        rc = doc_fail(fs, doc, e.msg, err);
    } else {
        rc = fs_ingest_bytes(fs, doc, data, len, err);
        ia_file_free(&meta);
        free(data);
    }
    /* The bytes were the document's only: the file does not outlive it. */
    ia_files_delete(fs->files, owner, f->id, NULL);
    if (rc < 0) {
        ia_fs_doc_free(doc);
        return -1;
    }
    return 1;
}

/* What importFile refuses before reading a byte, as Google does: a file
 * too large, or of a type file search cannot index (a 400 naming
 * fileName, not a FAILED document). */
static int import_check(ia_fsearch *fs, const char *owner, const char *file_id, ia_err *err) {
    ia_file meta;
    ia_err e;
    if (ia_files_get(fs->files, owner, file_id, &meta, &e) < 0) {
        if (e.code == IA_ENOTFOUND) return ia_fail(err, IA_ENOTFOUND, "fileName: files/%s not found", file_id);
        return ia_fail(err, e.code, "fileName: %s", e.msg);
    }
    int rc = 0;
    if (meta.size > IA_FS_DOC_MAX)
        rc = ia_fail(err, IA_EINVALID, "fileName: files/%s is %lld bytes, more than the %lld a file search document "
                     "may have", file_id, (long long)meta.size, (long long)IA_FS_DOC_MAX);
    else if (!ia_fs_mime_ok(meta.mime_type))
        rc = ia_fail(err, IA_EINVALID, "fileName: files/%s is '%.80s', which file search cannot index here; the "
                     "types taken are text/plain, text/markdown and other text/*, text/html and application/pdf",
                     file_id, meta.mime_type ? meta.mime_type : "");
    ia_file_free(&meta);
    return rc;
}

int ia_fsearch_import(ia_fsearch *fs, const char *owner, const char *store, const char *file_id,
                      const ia_fs_add *a, ia_fs_doc *doc, ia_err *err) {
    if (!fs->files) return no_files(err);
    ia_fs_store st;
    if (ia_fsearch_get(fs, owner, store, &st, err) < 0) return -1;
    ia_fs_store_free(&st);
    if (check_add(a, NULL, err) < 0) return -1;
    ia_file meta;
    unsigned char *data = NULL;
    size_t len = 0;
    ia_err e;
    if (import_check(fs, owner, file_id, err) < 0) return -1;
    if (ia_files_read(fs->files, owner, file_id, IA_FS_DOC_MAX, &meta, &data, &len, &e) < 0) {
        if (e.code == IA_ENOTFOUND) return ia_fail(err, IA_ENOTFOUND, "fileName: files/%s not found", file_id);
        return ia_fail(err, e.code, "fileName: %s", e.msg);
    }
    ia_fs_add named = *a;
    if (!named.display_name) named.display_name = meta.display_name ? meta.display_name : meta.id;
    doc_init(doc, owner, store, &named, meta.mime_type, IA_DOC_PENDING);
    int rc = ia_store_fs_doc_put(fs->store, doc, err);
    if (rc == 0) rc = fs_ingest_bytes(fs, doc, data, len, err);
    ia_file_free(&meta);
    free(data);
    if (rc < 0) ia_fs_doc_free(doc);
    return rc;
}

int ia_fsearch_doc_get(ia_fsearch *fs, const char *owner, const char *store, const char *id, ia_fs_doc *out,
                       ia_err *err) {
    if (!ia_fs_id_valid(store) || !ia_fs_id_valid(id))
        return ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%.60s/documents/%.60s not found", store, id);
    return ia_store_fs_doc_get(fs->store, owner, store, id, out, err);
}

int ia_fsearch_doc_list(ia_fsearch *fs, const char *owner, const char *store, int64_t after, int limit,
                        ia_fs_doc **out, size_t *n, int64_t *next, ia_err *err) {
    if (!ia_fs_id_valid(store)) return ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%.60s not found", store);
    return ia_store_fs_doc_list(fs->store, owner, store, after, limit, out, n, next, err);
}

int ia_fsearch_doc_delete(ia_fsearch *fs, const char *owner, const char *store, const char *id, bool force,
                          ia_err *err) {
    if (!ia_fs_id_valid(store) || !ia_fs_id_valid(id))
        return ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%.60s/documents/%.60s not found", store, id);
    return ia_store_fs_doc_delete(fs->store, owner, store, id, force, err);
}

/* ---- search ---------------------------------------------------------------------- */

int ia_fsearch_check_stores(ia_fsearch *fs, const char *owner, const char *const *stores, size_t n,
                            const char *field, ia_err *err) {
    for (size_t i = 0; i < n; i++) {
        ia_fs_store st;
        ia_err e;
        if (ia_fsearch_get(fs, owner, stores[i], &st, &e) < 0) {
            if (e.code == IA_ENOTFOUND)
                return ia_fail(err, IA_ENOTFOUND, "%s[%zu]: fileSearchStores/%.60s not found", field, i, stores[i]);
            *err = e;
            return -1;
        }
        ia_fs_store_free(&st);
    }
    return 0;
}

/* The query's words, lower-cased, distinct, at most MAX_TERMS (bytes of
 * multi-byte UTF-8 characters count as letters). *terms and each term
 * malloc'd. */
static size_t query_terms(const char *q, char ***terms) {
    char **t = ia_xcalloc(MAX_TERMS, sizeof *t);
    size_t n = 0;
    for (const char *p = q; *p && n < MAX_TERMS;) {
        while (*p && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80) p++;
        const char *b = p;
        while (*p && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)) p++;
        if (p == b) continue;
        char *w = ia_strndup(b, (size_t)(p - b));
        for (char *c = w; *c; c++) *c = (char)tolower((unsigned char)*c);
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++) dup = !strcmp(t[i], w);
        if (dup) free(w);
        else t[n++] = w;
    }
    *terms = t;
    return n;
}

/* After lists[0..nl): one vector list per embedding model among the
 * stores (core/fs_vector.h), its storage in owned[]. Returns the new count. */
static int vector_lists(ia_fsearch *fs, const char *owner, const char *const *stores, size_t n_stores,
                        const char *query, const ia_fs_filter *filter, ia_fs_hit **pool, size_t *n_pool,
                        int64_t *owned[MAX_LISTS], ia_fs_ranked lists[MAX_LISTS], int nl, ia_err *err) {
    if (!fs->embed || !fs->embed->n) return nl;
    ia_embedder **by = ia_xcalloc(n_stores + 1, sizeof *by);
    const char **group = ia_xcalloc(n_stores + 1, sizeof *group);
    for (size_t i = 0; i < n_stores; i++) {
        ia_fs_store st;
        ia_err ignore;
        if (ia_store_fs_store_get(fs->store, owner, stores[i], &st, &ignore) < 0) continue;
        by[i] = ia_fs_vec_embedder(fs->embed, st.embedding_model);
        ia_fs_store_free(&st);
    }
    for (size_t i = 0; i < n_stores && nl < MAX_LISTS && nl >= 0; i++) {
        ia_embedder *e = by[i];
        bool first = e != NULL;
        for (size_t j = 0; j < i && first; j++) first = by[j] != e;
        if (!first) continue;
        size_t ng = 0;
        for (size_t j = i; j < n_stores; j++)
            if (by[j] == e) group[ng++] = stores[j];
        if (ia_fs_vec_list(fs->store, e, owner, group, ng, query, filter, pool, n_pool, &owned[nl], &lists[nl],
                           err) < 0)
            nl = -1;
        else
            nl++;
    }
    free(by);
    free(group);
    return nl;
}

/* THE SEAM (query): the ranked candidate lists fused by ia_fs_rrf: the
 * lexical list, already filtered, then the vector lists (the query's
 * embedding's nearest chunks of the same stores, filtered alike).
 * *pool holds every candidate hit (the lists' ids index into it by chunk
 * id); owned[] each list's storage. Returns the number of lists. */
static int fs_candidates(ia_fsearch *fs, const char *owner, const char *const *stores, size_t n_stores,
                         const char *query, const ia_fs_filter *filter, ia_fs_hit **pool, size_t *n_pool,
                         int64_t *owned[MAX_LISTS], ia_fs_ranked lists[MAX_LISTS], ia_err *err) {
    char **terms;
    size_t nt = query_terms(query, &terms);
    int rc = ia_store_fs_search(fs->store, owner, stores, n_stores, (const char *const *)terms, nt, CANDIDATES,
                                pool, n_pool, err);
    for (size_t i = 0; i < nt; i++) free(terms[i]);
    free(terms);
    if (rc < 0) return -1;
    int64_t *ids = ia_xcalloc(*n_pool + 1, sizeof *ids);
    size_t k = 0;
    for (size_t i = 0; i < *n_pool; i++)
        if (ia_fs_filter_match(filter, (*pool)[i].meta, (*pool)[i].n_meta)) ids[k++] = (*pool)[i].chunk_id;
    owned[0] = ids;
    lists[0] = (ia_fs_ranked){ids, k};
    return vector_lists(fs, owner, stores, n_stores, query, filter, pool, n_pool, owned, lists, 1, err);
}

int ia_fsearch_search(ia_fsearch *fs, const char *owner, const char *const *stores, size_t n_stores,
                      const char *query, const ia_fs_filter *filter, int top_k, ia_fs_hit **out, size_t *n,
                      ia_err *err) {
    *out = NULL;
    *n = 0;
    if (top_k <= 0) top_k = IA_FS_TOP_K_DEFAULT;
    if (top_k > IA_FS_TOP_K_MAX) top_k = IA_FS_TOP_K_MAX;
    ia_fs_hit *pool = NULL;
    size_t np = 0;
    int64_t *owned[MAX_LISTS] = {0};
    ia_fs_ranked lists[MAX_LISTS];
    int nl = fs_candidates(fs, owner, stores, n_stores, query ? query : "", filter, &pool, &np, owned, lists, err);
    if (nl < 0) {
        ia_fs_hits_free(pool, np);
        for (int i = 0; i < MAX_LISTS; i++) free(owned[i]);
        return -1;
    }
    int64_t ids[IA_FS_TOP_K_MAX];
    double scores[IA_FS_TOP_K_MAX];
    size_t m = ia_fs_rrf(lists, (size_t)nl, IA_FS_RRF_K, ids, scores, (size_t)top_k);
    ia_fs_hit *res = m ? ia_xcalloc(m, sizeof *res) : NULL;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < np; j++)
            if (pool[j].chunk_id == ids[i]) {
                res[i] = pool[j]; /* moved out of the pool */
                memset(&pool[j], 0, sizeof pool[j]);
                res[i].score = scores[i];
                break;
            }
    ia_fs_hits_free(pool, np);
    for (int i = 0; i < MAX_LISTS; i++) free(owned[i]);
    *out = res;
    *n = m;
    return 0;
}
