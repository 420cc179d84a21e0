/* store_int: what the SQLite files of src/store/ share — the one connection and its
 * mutex, so that store/files.c runs its statements on the connection
 * sqlite.c opened (and migrated), under the same lock. Not part of the
 * store's contract (store.h is). */
#ifndef IA_STORE_STORE_INT_H
#define IA_STORE_STORE_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "store/agents.h"
#include "store/store.h"

/* Takes the store's mutex and returns its connection; every statement run
 * on it is reset before ia_store_unlock, so no read snapshot lingers. */
sqlite3 *ia_sq_lock(ia_store *s);
void ia_sq_unlock(ia_store *s);

/* files.c: the SQLite backend's Files API rows (store.h's ia_store_file_*). */
int ia_sq_file_insert(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err);
int ia_sq_file_update(ia_store *s, const ia_file *f, ia_err *err);
int ia_sq_file_get(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out,
                   ia_err *err);
int ia_sq_file_by_upload(ia_store *s, const char *owner, const char *upload_id, int64_t now,
                         ia_file *out, ia_err *err);
int ia_sq_file_list(ia_store *s, const char *owner, int64_t now, int64_t after, int limit,
                    ia_file **out, size_t *n, int64_t *next, ia_err *err);
int ia_sq_file_delete(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                      char blob[48], ia_err *err);
int ia_sq_file_usage(ia_store *s, const char *owner, int64_t now, const char *except, int64_t *out,
                     ia_err *err);
int ia_sq_file_sweep(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err);
int ia_sq_file_blob_known(ia_store *s, const char *blob, bool *known, ia_err *err);
/* sqlite_list.c: store.h's ia_store_list. */
int ia_sq_list(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id, int limit,
               ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err);

/* sqlite_agents.c: store/agents.h's calls. */
int ia_sq_agent_create(ia_store *s, const ia_agent_def *d, ia_err *err);
int ia_sq_agent_get(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err);
int ia_sq_agent_list(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                     size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err);
int ia_sq_agent_delete(ia_store *s, const char *owner, const char *id, ia_err *err);

/* schema.c: migrations[i] takes a file from user_version i to i + 1. */
extern const char *const ia_store_migrations[];
extern const int ia_store_n_migrations;

/* codec.c: a text item's citations as [{url, start, end, title?}] (NULL
 * when one cannot be encoded), and back into c (-1 when malformed; what
 * was read is c's to free). Shared with the events' codec. */
json_t *ia_codec_annotations_json(const ia_annotation *a, size_t n);
int ia_codec_annotations_from_json(json_t *a, ia_content *c);

#endif
