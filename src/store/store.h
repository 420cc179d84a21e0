/* store: durable interactions and their event logs.
 *
 * Two implementations behind one table of functions (store/backend.h):
 * SQLite in WAL mode (store/sqlite.c, the default) and PostgreSQL through
 * libpq (store/pg.c), both keeping the same neutral JSON (the codec below).
 * All functions are thread-safe. Ownership: functions that fill an out-struct allocate its
 * members (the caller frees them with the matching *_free from model/types.h).
 *
 * Visibility: an interaction is visible to `owner` only (the hex SHA-256 of
 * the caller's API key, "" when auth is off). A row of another owner, or one
 * whose expiry has passed, is reported exactly like a missing row
 * (IA_ENOTFOUND), so ids never leak across keys. An expires of 0 means the
 * row never expires.
 *
 * Errors: every failure of the database itself is IA_EINTERNAL with the
 * database's message; nothing here aborts. */
#ifndef IA_STORE_STORE_H
#define IA_STORE_STORE_H

#include "model/types.h"
#include "lib/err.h"

typedef struct ia_store ia_store;

/* Opens the store named by spec, bringing its schema up to date: a
 * PostgreSQL database when spec is a postgres:// or postgresql:// URI or a
 * libpq keyword string starting with host=, hostaddr=, dbname=, user=,
 * port= or service= (store/pg.c), else the SQLite file at that path,
 * created when missing (store/sqlite.c). Returns NULL and fills err on
 * failure. */
ia_store *ia_store_open(const char *spec, ia_err *err);
bool ia_store_spec_is_pg(const char *spec);
/* spec with a password (URI user:PASSWORD@, or password=...) masked, for
 * logs (malloc'd). */
char *ia_store_spec_redacted(const char *spec);
/* "sqlite" or "postgres". */
const char *ia_store_backend(const ia_store *s);
void ia_store_close(ia_store *s); /* NULL is a no-op */

/* Inserts or replaces the interaction row (not its events; replacing a row
 * keeps its event log). it->owner NULL is stored as "". */
int ia_store_put(ia_store *s, const ia_interaction *it, ia_err *err);

/* Replaces the row and appends evs[0..n) to its event log in one
 * transaction: the record and the events that led to it land together.
 * A shared store (PostgreSQL) replaces only the row this instance wrote
 * in_progress (ia_store_put first) and still holds: one another instance
 * ended (a takeover) or deleted is left as it is, IA_ECONFLICT. */
int ia_store_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n,
                    ia_err *err);

/* Appends events only (for long runs flushed while in progress), in one
 * transaction. The interaction row must already exist (put it first): events
 * belong to a row and go with it on delete and sweep. An event's seq is kept
 * as given; a seq <= 0 means "the next free one" (max stored seq + 1). A seq
 * already stored for id is kept as it was and the rest of the batch written:
 * a batch sent again after a COMMIT whose answer was lost succeeds. Any
 * other failure writes nothing of the batch. A shared store appends only to
 * a row this instance holds in_progress (IA_ECONFLICT otherwise, as finish).
 * The same rules hold for the events of ia_store_finish. */
int ia_store_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n,
                           ia_err *err);

/* The highest stored seq of id's events into *out (0 when none). */
int ia_store_last_seq(ia_store *s, const char *id, int64_t *out, ia_err *err);

/* Loads one interaction visible to owner at time now. IA_ENOTFOUND if none.
 * *out is overwritten (zeroed first); on success free it with
 * ia_interaction_free, on failure it holds nothing. */
int ia_store_get(ia_store *s, const char *id, const char *owner, int64_t now,
                 ia_interaction *out, ia_err *err);

/* Deletes it and its events. IA_ENOTFOUND if not visible to owner (an
 * expired row counts as missing, judged at the current time). */
int ia_store_delete(ia_store *s, const char *id, const char *owner, ia_err *err);

/* The events of id with seq > after_seq, in order. *out is malloc'd (free
 * with ia_events_free); *n may be 0. */
int ia_store_events(ia_store *s, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                    ia_err *err);

/* After a restart: every row still in_progress gets status failed, the given
 * error message and error code "internal", updated = now, its output the
 * items its stored event log describes (ia_events_fold: every block whose
 * stop was stored, and the text of an unfinished last text block; a log
 * with no item leaves the output as it was; a tool result without its
 * `fetched`, which no event holds), and three events: IA_EV_ERROR
 * (text = message, code = "internal"), IA_EV_STATUS (failed) and
 * IA_EV_COMPLETE, so a resumed stream ends as a live failure does. Their seqs start at the last
 * stored seq + IA_STORE_RECOVER_SEQ_GAP + 1: a running interaction flushes
 * its events to the store at least every IA_STORE_RECOVER_SEQ_GAP events, so
 * no event id a client saw live is ever reused. One transaction. Returns how
 * many rows, or -1. */
#define IA_STORE_RECOVER_SEQ_GAP 1000
int ia_store_recover(ia_store *s, int64_t now, const char *message, ia_err *err);

/* Names the server instance writing through s (a stable id per data
 * folder, so a restarted server is the same instance). A shared store
 * (PostgreSQL) records it on every interaction row it writes, and
 * ia_store_recover then fails only the in_progress rows of this instance
 * (or of none recorded), never those a live neighbour on the same database
 * is running. SQLite (one server per file, DATA/LOCK) ignores it. NULL:
 * none (recover takes every in_progress row). Call before serving. */
void ia_store_set_instance(ia_store *s, const char *instance);

/* ---- several instances on one shared store (PostgreSQL) -------------------
 * A row written in_progress carries a lease (its runner, the instance that
 * wrote it, and an expiry on the database's clock, lease_ms ahead). The
 * runner renews the leases of the runs it holds; once a lease has passed
 * (its runner died or lost the database), any instance takes the row over:
 * it ends it as ia_store_recover does (failed, message, outputs from the
 * stored log), and the late runner's own events and end are then dropped
 * (append and finish fail with IA_ECONFLICT; its renewal lists the run as
 * lost). A row with no lease (lease_until 0: written before leases) is not
 * taken over. SQLite (one server per file) has no leases: renew
 * and takeover do nothing, ia_store_shared is false. */
#define IA_STORE_LEASE_DEFAULT_MS 30000
bool ia_store_shared(const ia_store *s);
/* The lease rows written from now on get (ms; <= 0: the default). Call
 * before serving. */
void ia_store_set_lease(ia_store *s, int64_t lease_ms);
/* Renews the lease of this instance's in_progress rows whose ids are
 * live[0..n) (those it runs), and lists in *cancel (malloc'd array of
 * malloc'd ids, *n_cancel of them; free with ia_store_ids_free) those that
 * another instance was asked to cancel, and in *lost (the same) the live
 * ids it did not renew: rows no longer this instance's in_progress ones —
 * taken over after its lease passed (a partition, a stall), deleted, or
 * ended meanwhile; the caller stops a run of those still going, since its
 * end would be refused. One statement. */
int ia_store_lease_renew(ia_store *s, char *const *live, size_t n, char ***cancel, size_t *n_cancel,
                         char ***lost, size_t *n_lost, ia_err *err);
/* Takes over rows in_progress whose lease has passed, but for ids live
 * here (live[0..n)), claimed with FOR UPDATE SKIP LOCKED so two instances
 * never end the same row; at most 100 per call, one transaction. A row
 * that a cancel was asked for ends cancelled (as that cancel would have
 * ended it), the others failed with message. Returns how many, or -1. */
int ia_store_takeover(ia_store *s, char *const *live, size_t n, int64_t now, const char *message, ia_err *err);
/* A cancel of id (visible to owner) that no run of this instance holds:
 * *pending false when the row has ended — already, or here and now because
 * its lease had passed (it is then ended cancelled: a cancelled status and
 * complete event past the seq gap, outputs from its log); *pending true
 * when its live runner was asked to cancel it (it sees the request at its
 * next renewal). IA_ENOTFOUND if not visible. SQLite: *pending false. */
int ia_store_cancel_request(ia_store *s, const char *id, const char *owner, int64_t now, bool *pending,
                            ia_err *err);
/* Waits up to timeout_ms for the notifications of other instances: cancel
 * requests (ia_store_cancel_request's), their ids in *ids (as renew's
 * *cancel), which the instance that runs one cancels at once instead of at
 * its next renewal; and events appended or a row ended by any instance
 * (*events true), which wake the streams followed from the store. Not
 * thread-safe: one caller (the lease thread). -1 when the database could
 * not be reached (the time is waited out all the same). */
int ia_store_listen(ia_store *s, int timeout_ms, char ***ids, size_t *n, bool *events);
void ia_store_ids_free(char **ids, size_t n);

/* Deletes rows (and events) whose expiry is <= now. Returns how many, or -1. */
int ia_store_sweep(ia_store *s, int64_t now, ia_err *err);

/* A small key/value table for server state (e.g. signing keys). get returns a
 * malloc'd value in *out (NULL when absent). */
/* The tokens a model sampled for interaction id's answer, with the owner,
 * the vocabulary's id and a hash of the text (deleted with the
 * interaction). get: those of interaction id when id is given, else the
 * newest answer of that owner, vocabulary and text.
 * get: *out NULL (and *n 0) when none; malloc'd otherwise. */
int ia_store_tokens_put(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                        const int32_t *toks, size_t n, ia_err *err);
int ia_store_tokens_get(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                        int32_t **out, size_t *n, ia_err *err);
int ia_store_meta_get(ia_store *s, const char *key, char **out, ia_err *err);
int ia_store_meta_put(ia_store *s, const char *key, const char *value, ia_err *err);

/* The storage codec (store/codec.c): the conversation as a neutral JSON text
 * (not the wire format). Used by the store; exposed for tests.
 *   conv: {"turns":[turn...]}   turn: {"role":"user"|"model","items":[item...]}
 *   item: {"kind":"text","text":"..."}
 *       | {"kind":"function_call","id","name","arguments":"<JSON text>"}
 *       | {"kind":"function_result","call_id","name"?,"result":"<JSON text>","is_error"?}
 *       | {"kind":"thought","reasoning","signature","hide_summary"?}
 *   (later kinds: a new "kind", own keys)
 * Encoders return malloc'd text, or NULL when something cannot be encoded
 * (text that is not valid UTF-8). Decoders overwrite *out (zeroed first) and
 * return 0, or -1 on malformed input or an unknown kind, leaving *out empty. */
char *ia_codec_conv_encode(const ia_conv *c);            /* malloc'd */
int ia_codec_conv_decode(const char *json, ia_conv *out); /* 0 / -1 */
char *ia_codec_turn_encode(const ia_turn *t);
int ia_codec_turn_decode(const char *json, ia_turn *out);
/* generation_config as neutral JSON of the fields set: NULL when none is
 * (also on failure); decode of NULL gives an empty config, -1 on malformed. */
char *ia_codec_gen_encode(const ia_gen_config *g);
int ia_codec_gen_decode(const char *json, ia_gen_config *out);
/* response_format as given, as neutral JSON ({"shape","mime_type"?,
 * "schema"?}): NULL when none was given; decode of NULL (or of a shape this
 * build does not know) gives none, -1 on malformed. */
char *ia_codec_rformat_encode(const ia_rformat *f);
int ia_codec_rformat_decode(const char *json, ia_rformat *out);
/* Usage by modality as "i t i a v d c t i a v d" (input, then cached, per
 * modality), then " g N" when N google_search calls ran (grounding): into
 * buf (cap bytes), NULL when all are zero. Decoding NULL or a malformed
 * text leaves the counts zero. */
const char *ia_codec_usage_by_encode(const ia_usage *u, char *buf, size_t cap);
void ia_codec_usage_by_decode(const char *s, ia_usage *u);
/* A content event's part (model/types.h) as the events table keeps it
 * (store/codec_events.c documents the neutral JSON): encode gives the text
 * column's malloc'd JSON, NULL when e carries no part (its own text is
 * stored then); event_code the code column (a text block's citations
 * event is marked "annotations"). decode fills e's text and code, or its
 * part when e's kind, ckind and code say the text holds one (e->kind and
 * e->ckind set first); it never fails: a damaged text gives a part with
 * what could be read. */
char *ia_codec_event_encode(const ia_event *e);
const char *ia_codec_event_code(const ia_event *e);
void ia_codec_event_decode(ia_event *e, const char *text, const char *code);
/* Stable stored names of content kinds ("text", "function_call",
 * "function_result", "thought"); NULL / -1 when unknown. generation_config
 * also keeps thinking_level and thinking_summaries. */
const char *ia_codec_content_kind_name(ia_content_kind k);
int ia_codec_content_kind_parse(const char *s);

/* ---- Files API files (store/files.c) --------------------------------------
 * Metadata of uploaded files (core/files.c keeps the bytes). Visibility as
 * for interactions: a row of another owner, or one whose expiry has passed,
 * is reported as missing (IA_ENOTFOUND). An upload still in progress (state
 * UPLOADING) is found only through its upload id: get, list and delete see
 * files whose bytes are all in. */

/* Inserts f (a starting upload). A visible row of that owner and id is
 * IA_EINVALID ("files/ID already exists"); an expired one is replaced, and
 * its blob's name is copied to old_blob (else old_blob is ""), for the
 * caller to remove. */
int ia_store_file_insert(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err);
/* Writes f's state, declared, size, sha256, error and updated to its row. */
int ia_store_file_update(ia_store *s, const ia_file *f, ia_err *err);
/* A file (not uploading) by id, or an upload in any state by upload id. *out
 * is overwritten; free with ia_file_free. */
int ia_store_file_get(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out,
                      ia_err *err);
int ia_store_file_by_upload(ia_store *s, const char *owner, const char *upload_id, int64_t now,
                            ia_file *out, ia_err *err);
/* One page of owner's files (not uploading), newest first, starting after
 * the cursor `after` (0: from the newest): at most limit into *out
 * (malloc'd array; free each with ia_file_free, then the array); *next is
 * the cursor of the next page, 0 when this one is the last. */
int ia_store_file_list(ia_store *s, const char *owner, int64_t now, int64_t after, int limit,
                       ia_file **out, size_t *n, int64_t *next, ia_err *err);

/* A page of owner's unexpired interactions, newest first (created, then
 * id, descending): at most limit, those after the cursor (after_created,
 * after_id; after_id NULL or "" = from the newest). *next_id is set to the
 * cursor of the next page (its created in *next_created), or "" on the
 * last page. */
int ia_store_list(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id,
                  int limit, ia_entry **out, size_t *n, int64_t *next_created, char next_id[80],
                  ia_err *err);
/* list.c: the title of an input column's codec JSON (malloc'd or NULL). */
char *ia_store_title_of(const char *input_json);
/* Deletes a file by id (not uploading), or an upload by upload id
 * (by_upload), copying its blob's name to blob. IA_ENOTFOUND if none. */
int ia_store_file_delete(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                         char blob[48], ia_err *err);
/* The bytes owner holds, for the quota: over its unexpired rows, the larger
 * of size and declared, leaving out the row of upload id except (NULL:
 * none). */
int ia_store_file_usage(ia_store *s, const char *owner, int64_t now, const char *except, int64_t *out,
                        ia_err *err);
/* Deletes every row whose expiry is <= now; their blobs' names into *blobs
 * (malloc'd array of malloc'd names, *n of them). Returns how many, or -1. */
int ia_store_file_sweep(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err);
/* *known: whether a row names blob (finds blobs a crash left behind). */
int ia_store_file_blob_known(ia_store *s, const char *blob, bool *known, ia_err *err);

#endif
