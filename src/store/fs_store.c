/* fs_store: store/fsearch.h's entry points, forwarded through the backend's
 * ops->fs table; a backend without one answers a clear error. */
#include "store/backend.h"
#include "store/fsearch.h"

static int none(ia_store *s, ia_err *err) {
    return ia_fail(err, IA_EUNIMPLEMENTED, "file search stores are not served on the %s store yet; run the "
                   "server with the SQLite store (--store PATH)", s->ops->name);
}

#define FS(s) ((s)->ops->fs)

int ia_store_fs_store_put(ia_store *s, const ia_fs_store *st, ia_err *err) {
    return FS(s) ? FS(s)->store_put(s, st, err) : none(s, err);
}
int ia_store_fs_store_get(ia_store *s, const char *owner, const char *id, ia_fs_store *out, ia_err *err) {
    return FS(s) ? FS(s)->store_get(s, owner, id, out, err) : none(s, err);
}
int ia_store_fs_store_list(ia_store *s, const char *owner, int64_t after, int limit, ia_fs_store **out,
                           size_t *n, int64_t *next, ia_err *err) {
    return FS(s) ? FS(s)->store_list(s, owner, after, limit, out, n, next, err) : none(s, err);
}
int ia_store_fs_store_delete(ia_store *s, const char *owner, const char *id, bool force, ia_err *err) {
    return FS(s) ? FS(s)->store_delete(s, owner, id, force, err) : none(s, err);
}
int ia_store_fs_doc_put(ia_store *s, const ia_fs_doc *d, ia_err *err) {
    return FS(s) ? FS(s)->doc_put(s, d, err) : none(s, err);
}
int ia_store_fs_doc_update(ia_store *s, const ia_fs_doc *d, ia_doc_state from, const ia_fs_chunk *chunks,
                           size_t n, ia_err *err) {
    return FS(s) ? FS(s)->doc_update(s, d, from, chunks, n, err) : none(s, err);
}
int ia_store_fs_doc_get(ia_store *s, const char *owner, const char *store, const char *id, ia_fs_doc *out,
                        ia_err *err) {
    return FS(s) ? FS(s)->doc_get(s, owner, store, id, out, err) : none(s, err);
}
int ia_store_fs_doc_by_upload(ia_store *s, const char *owner, const char *upload_id, ia_fs_doc *out,
                              ia_err *err) {
    return FS(s) ? FS(s)->doc_by_upload(s, owner, upload_id, out, err) : none(s, err);
}
int ia_store_fs_doc_list(ia_store *s, const char *owner, const char *store, int64_t after, int limit,
                         ia_fs_doc **out, size_t *n, int64_t *next, ia_err *err) {
    return FS(s) ? FS(s)->doc_list(s, owner, store, after, limit, out, n, next, err) : none(s, err);
}
int ia_store_fs_doc_delete(ia_store *s, const char *owner, const char *store, const char *id, bool force,
                           ia_err *err) {
    return FS(s) ? FS(s)->doc_delete(s, owner, store, id, force, err) : none(s, err);
}
int ia_store_fs_search(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                       const char *const *terms, size_t n_terms, int limit, ia_fs_hit **out, size_t *n,
                       ia_err *err) {
    *out = NULL;
    *n = 0;
    return FS(s) ? FS(s)->search(s, owner, stores, n_stores, terms, n_terms, limit, out, n, err) : none(s, err);
}
int ia_store_fs_recover(ia_store *s, int64_t now, const char *message, ia_err *err) {
    return FS(s) ? FS(s)->recover(s, now, message, err) : 0;
}
int ia_store_fs_vectors(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                        const char *model, int64_t **ids, float **vecs, int *dim, size_t *n, ia_err *err) {
    *ids = NULL;
    *vecs = NULL;
    *dim = 0;
    *n = 0;
    /* a backend that keeps no vectors ranks lexically only */
    if (FS(s) && !FS(s)->vectors) return 0;
    return FS(s) ? FS(s)->vectors(s, owner, stores, n_stores, model, ids, vecs, dim, n, err) : none(s, err);
}
int ia_store_fs_hits(ia_store *s, const char *owner, const int64_t *ids, size_t n_ids, ia_fs_hit **out,
                     size_t *n, ia_err *err) {
    *out = NULL;
    *n = 0;
    if (FS(s) && !FS(s)->hits) return 0;
    return FS(s) ? FS(s)->hits(s, owner, ids, n_ids, out, n, err) : none(s, err);
}
