/* store: durable interactions and their event logs.
 *
 * The one implementation today is SQLite in WAL mode (store/sqlite.c); the
 * interface is shaped so a PostgreSQL one can follow. All functions are
 * thread-safe. Ownership: functions that fill an out-struct allocate its
 * members (the caller frees them with the matching *_free from core/types.h).
 *
 * Visibility: an interaction is visible to `owner` only (the hex SHA-256 of
 * the caller's API key, "" when auth is off). A row of another owner, or one
 * whose expiry has passed, is reported exactly like a missing row
 * (IA_ENOTFOUND), so ids never leak across keys. */
#ifndef IA_STORE_STORE_H
#define IA_STORE_STORE_H

#include "core/types.h"
#include "lib/err.h"

typedef struct ia_store ia_store;

/* Opens (creating when missing) the database at path, with its schema.
 * Returns NULL and fills err on failure. */
ia_store *ia_store_open(const char *path, ia_err *err);
void ia_store_close(ia_store *s); /* NULL is a no-op */

/* Inserts or replaces the interaction row (not its events). */
int ia_store_put(ia_store *s, const ia_interaction *it, ia_err *err);

/* Replaces the row and appends evs[0..n) to its event log in one
 * transaction: the record and the events that led to it land together. */
int ia_store_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n,
                    ia_err *err);

/* Appends events only (for long runs flushed while in progress). */
int ia_store_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n,
                           ia_err *err);

/* Loads one interaction visible to owner at time now. IA_ENOTFOUND if none. */
int ia_store_get(ia_store *s, const char *id, const char *owner, int64_t now,
                 ia_interaction *out, ia_err *err);

/* Deletes it and its events. IA_ENOTFOUND if not visible to owner. */
int ia_store_delete(ia_store *s, const char *id, const char *owner, ia_err *err);

/* The events of id with seq > after_seq, in order. *out is malloc'd (free
 * with ia_events_free); *n may be 0. */
int ia_store_events(ia_store *s, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                    ia_err *err);

/* After a restart: every row still in_progress gets status failed, the given
 * error message, updated = now, and a terminal error + status event appended
 * to its log so a resumed stream ends. Returns how many rows, or -1. */
int ia_store_recover(ia_store *s, int64_t now, const char *message, ia_err *err);

/* Deletes rows (and events) whose expiry is <= now. Returns how many, or -1. */
int ia_store_sweep(ia_store *s, int64_t now, ia_err *err);

/* A small key/value table for server state (e.g. signing keys). get returns a
 * malloc'd value in *out (NULL when absent). */
int ia_store_meta_get(ia_store *s, const char *key, char **out, ia_err *err);
int ia_store_meta_put(ia_store *s, const char *key, const char *value, ia_err *err);

/* The storage codec (store/codec.c): the conversation as a neutral JSON text
 * (not the wire format). Used by the store; exposed for tests. */
char *ia_codec_conv_encode(const ia_conv *c);            /* malloc'd */
int ia_codec_conv_decode(const char *json, ia_conv *out); /* 0 / -1 */
char *ia_codec_turn_encode(const ia_turn *t);
int ia_codec_turn_decode(const char *json, ia_turn *out);

#endif
