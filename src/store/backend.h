/* backend: the seam between store.h's contract and its implementations.
 * An ia_store is a table of functions (ops) that a backend fills; each
 * backend's own state follows it in a larger struct whose first member is
 * the ia_store (so a backend casts the ia_store * it is handed). store.c
 * picks the backend from the spec given to ia_store_open and forwards every
 * store.h call through the table; the codec (codec.c, codec_events.c) is
 * shared, so both backends keep the same neutral JSON in their columns.
 * Not part of the store's contract (store.h is). */
#ifndef IA_STORE_BACKEND_H
#define IA_STORE_BACKEND_H

#include "store/agents.h"
#include "store/store.h"

typedef struct ia_store_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(ia_store *s);
    void (*set_instance)(ia_store *s, const char *instance); /* NULL: ignored */
    int (*put)(ia_store *s, const ia_interaction *it, ia_err *err);
    int (*finish)(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err);
    int (*append_events)(ia_store *s, const char *id, const ia_event *evs, size_t n, ia_err *err);
    int (*last_seq)(ia_store *s, const char *id, int64_t *out, ia_err *err);
    int (*get)(ia_store *s, const char *id, const char *owner, int64_t now, ia_interaction *out,
               ia_err *err);
    int (*del)(ia_store *s, const char *id, const char *owner, ia_err *err);
    int (*events)(ia_store *s, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                  ia_err *err);
    int (*recover)(ia_store *s, int64_t now, const char *message, ia_err *err);
    int (*sweep)(ia_store *s, int64_t now, ia_err *err);
    int (*tokens_put)(ia_store *s, const char *owner, const char *vocab, const char *hash,
                      const char *id, const int32_t *toks, size_t n, ia_err *err);
    int (*tokens_get)(ia_store *s, const char *owner, const char *vocab, const char *hash,
                      const char *id, int32_t **out, size_t *n, ia_err *err);
    int (*meta_get)(ia_store *s, const char *key, char **out, ia_err *err);
    int (*meta_put)(ia_store *s, const char *key, const char *value, ia_err *err);
    int (*file_insert)(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err);
    int (*file_update)(ia_store *s, const ia_file *f, ia_err *err);
    int (*file_get)(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out,
                    ia_err *err);
    int (*file_by_upload)(ia_store *s, const char *owner, const char *upload_id, int64_t now,
                          ia_file *out, ia_err *err);
    int (*file_list)(ia_store *s, const char *owner, int64_t now, int64_t after, int limit,
                     ia_file **out, size_t *n, int64_t *next, ia_err *err);
    int (*file_delete)(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                       char blob[48], ia_err *err);
    int (*file_usage)(ia_store *s, const char *owner, int64_t now, const char *except,
                      int64_t *out, ia_err *err);
    int (*file_sweep)(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err);
    int (*file_blob_known)(ia_store *s, const char *blob, bool *known, ia_err *err);
    /* shared stores only (store.h's leases); NULL: the store.c defaults */
    void (*set_lease)(ia_store *s, int64_t lease_ms);
    int (*lease_renew)(ia_store *s, char *const *live, size_t n, char ***cancel, size_t *n_cancel,
                       char ***lost, size_t *n_lost, ia_err *err);
    int (*takeover)(ia_store *s, char *const *live, size_t n, int64_t now, const char *message, ia_err *err);
    int (*cancel_request)(ia_store *s, const char *id, const char *owner, int64_t now, bool *pending,
                          ia_err *err);
    int (*listen)(ia_store *s, int timeout_ms, char ***ids, size_t *n, bool *events);
    int (*list)(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id,
                int limit, ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err);
    /* file search rows (store/fsearch.h); NULL: not served by this backend */
    const struct ia_store_fs_ops *fs;
    /* custom agents (store/agents.h; owner and after_id never NULL here) */
    int (*agent_create)(ia_store *s, const ia_agent_def *d, ia_err *err);
    int (*agent_get)(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err);
    int (*agent_list)(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                      size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err);
    int (*agent_delete)(ia_store *s, const char *owner, const char *id, ia_err *err);
} ia_store_ops;

struct ia_store {
    const ia_store_ops *ops;
};

/* The backends' constructors (NULL and err filled on failure). */
ia_store *ia_store_sqlite_open(const char *path, ia_err *err);
ia_store *ia_store_pg_open(const char *conninfo, ia_err *err);

/* Stable stored names of event kinds ("start", "content_delta", ...), shared
 * by both backends; NULL / -1 when unknown. */
const char *ia_store_event_kind_name(ia_event_kind k);
int ia_store_event_kind_parse(const char *s);

/* What both backends' recovery does to one row's stored log (store.h's
 * ia_store_recover): the row's new output as codec JSON (malloc'd; NULL when
 * the log describes no item, the output then stays), from its events. */
char *ia_store_recovered_output(const ia_event *evs, size_t n);

#endif
