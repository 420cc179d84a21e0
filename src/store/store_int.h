/* store_int: what the files of src/store/ share — the one connection and its
 * mutex, so that store/files.c runs its statements on the connection
 * sqlite.c opened (and migrated), under the same lock. Not part of the
 * store's contract (store.h is). */
#ifndef IA_STORE_STORE_INT_H
#define IA_STORE_STORE_INT_H

#include <jansson.h>
#include <sqlite3.h>

#include "store/store.h"

/* Takes the store's mutex and returns its connection; every statement run
 * on it is reset before ia_store_unlock, so no read snapshot lingers. */
sqlite3 *ia_store_lock(ia_store *s);
void ia_store_unlock(ia_store *s);

/* schema.c: migrations[i] takes a file from user_version i to i + 1. */
extern const char *const ia_store_migrations[];
extern const int ia_store_n_migrations;

/* codec.c: a text item's citations as [{url, start, end, title?}] (NULL
 * when one cannot be encoded), and back into c (-1 when malformed; what
 * was read is c's to free). Shared with the events' codec. */
json_t *ia_codec_annotations_json(const ia_annotation *a, size_t n);
int ia_codec_annotations_from_json(json_t *a, ia_content *c);

#endif
