/* core: the interaction service — lifecycle, chaining, background runs,
 * cancel, retention. It knows neither HTTP nor SQL nor the wire JSON: the
 * HTTP layer calls it with decoded structs (api/) and encodes what it gets
 * back; it persists through store/ and generates through engine/.
 *
 * A run is one interaction being generated. Its events (start, status,
 * content start/delta/stop, complete, error) go to one in-memory log that
 * every consumer reads: the blocking create, a streaming client, a client
 * that resumes with last_event_id, and the store (the whole log is persisted
 * with the final record in one transaction). Stored interactions are written
 * as in_progress before generation starts, so a crash leaves a row that the
 * next start-up turns into a terminal `failed`: never lost, never stuck.
 *
 * Threads: every function here may be called from any HTTP thread.
 * Engine callbacks run on the engine's thread and only touch the run. */
#ifndef IA_CORE_CORE_H
#define IA_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/media.h"
#include "tools/sandbox.h"
#include "model/types.h"
#include "engine/engine.h"
#include "lib/err.h"
#include "store/store.h"

typedef struct ia_core ia_core;
typedef struct ia_sub ia_sub;

typedef struct ia_core_opts {
    ia_store *store;           /* borrowed; outlives the core */
    ia_engine *const *engines; /* borrowed; one per served model name */
    size_t n_engines;
    int64_t retention_s;       /* stored interactions expire after this; 0 = 55 days */
    int64_t sweep_interval_s;  /* how often expired rows are deleted; 0 = 3600 */
    struct ia_files *files;    /* borrowed, may be NULL: its expired files are
                                  swept by the same thread (core/files.h) */
    struct ia_fsearch *fsearch; /* borrowed, may be NULL: file_search's stores
                                  (core/fsearch.h) */
    ia_media_opts media;       /* media bytes: fetch limits, private addresses
                                  (core/media.h; its files is set from files) */
    ia_sandbox_opts sandbox;   /* code_execution's limits (tools/sandbox.h) */
    int max_steps;             /* model steps of one run at most (tool loops); 0 = 10 */
    int lease_s;               /* a shared store's lease on a run (core/lease.h); 0 = 30 */
    int max_run_s;             /* no model step of a run starts past this many seconds; 0 = 600 */
    const char *agent_model;   /* the served model Deep Research runs on (core/agent.h); NULL: none */
    int agent_max_steps;       /* model steps of an agent's run at most; 0 = 30 */
    int code_max_chars;        /* code_execution: longest code the model may write; 0 = 10000 */
    size_t url_max_bytes;      /* url_context: largest page fetched; 0 = 10 MiB (time and
                                  addresses as media's) */
    struct ia_search *search;  /* google_search's backends (tools/search.h); borrowed,
                                  outlives the core; NULL: not configured */
    struct ia_maps *maps;      /* google_maps' backends (tools/maps.h); borrowed, as search */
    const struct ia_upstreams *upstreams; /* --upstream engines by model name
                                  (upstream/upstream.h); borrowed, outlives the
                                  core; NULL: none */
    const struct ia_tts_set *tts; /* --speech-model engines by model name
                                  (speech/tts.h); borrowed, outlives the core;
                                  NULL: none */
    const struct ia_embed_set *embed; /* --embedding-model's embedders
                                  (engine/embed.h); borrowed, outlives the core;
                                  NULL: none */
} ia_core_opts;

/* Recovers interactions left in_progress by a crash (they become failed with
 * an error message), then starts the retention sweeper. NULL + err on failure. */
ia_core *ia_core_new(const ia_core_opts *opts, ia_err *err);
/* Begins a shutdown: new creates are refused (IA_EOVERLOADED, retry), every
 * run still going is asked to stop and ends failed ("server stopped") as its
 * engine lets go of it. Call before stopping the HTTP server (so blocked
 * creates return at once) and before freeing the engines (whose last
 * callbacks then still find the core). */
void ia_core_shutdown(ia_core *c);

/* Stops the sweeper, fails every run still going ("server stopped") and
 * waits for them to be persisted, then frees. The engines and store are the
 * caller's to free afterwards. */
void ia_core_free(ia_core *c);

/* Comma-separated served model names, for messages (static storage). */
const char *ia_core_model_names(const ia_core *c);

/* The served engines, in the order given to ia_core_new (for /metrics, which
 * reads their counters). Fixed for the core's life; i < ia_core_n_engines. */
size_t ia_core_n_engines(const ia_core *c);
ia_engine *ia_core_engine(const ia_core *c, size_t i);
/* The --upstream registry the core was given (NULL: none), for listing. */
const struct ia_upstreams *ia_core_upstreams(const ia_core *c);
/* The --speech-model engines (speech/tts.h), or NULL. */
const struct ia_tts_set *ia_core_tts(const ia_core *c);
/* The --embedding-model embedders (engine/embed.h), or NULL. */
const struct ia_embed_set *ia_core_embed(const ia_core *c);

/* Creates an interaction from req (whose members the core takes over; req is
 * left zeroed). owner is the caller's identity ("" with auth off).
 * - req->stream: *sub receives the event stream (close it with ia_sub_close);
 *   out is left untouched.
 * - req->background: out is the in_progress interaction, generation goes on.
 * - otherwise blocks until generation ends; out is the final interaction.
 * Errors: IA_ENOTFOUND (unknown model, unknown previous interaction),
 * IA_EINVALID (previous still in progress, prompt too long, image output
 * for a model no --upstream serves), IA_EUNIMPLEMENTED (image output
 * through an upstream: not called by the run loop yet),
 * IA_EOVERLOADED (engine queue full; err->retry_after set). */
int ia_core_create(ia_core *c, const char *owner, ia_request *req, ia_interaction *out,
                   ia_sub **sub, ia_err *err);

/* ia_core_create, where a blocking create (neither stream nor background)
 * asks gone(gone_ud) every 250 ms while it waits: true (the client left, or
 * the server stops) cancels the run, and the call returns its cancelled
 * interaction, or an error if the cancel came too late. */
int ia_core_create_ex(ia_core *c, const char *owner, ia_request *req, ia_interaction *out,
                      ia_sub **sub, bool (*gone)(void *ud), void *gone_ud, ia_err *err);

/* The interaction as stored, or as running. IA_ENOTFOUND if not visible. */
int ia_core_get(ia_core *c, const char *owner, const char *id, ia_interaction *out, ia_err *err);

/* A page of owner's stored interactions, newest first (store.h's
 * ia_store_list; a run still going shows in_progress). */
int ia_core_list(ia_core *c, const char *owner, int64_t after_created, const char *after_id, int limit,
                 ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err);

/* Streams the events of id with seq > after_seq: live ones as they come for a
 * running interaction, from the store for a finished one. */
int ia_core_subscribe(ia_core *c, const char *owner, const char *id, int64_t after_seq,
                      ia_sub **sub, ia_err *err);

/* (On a shared store, ia_core_subscribe follows a run that another
 * instance runs through the store's event log, as that instance writes it,
 * until its complete event: its own, or a takeover's.) */
/* Cancels a running interaction (status cancelled, partial outputs kept) and
 * returns it. An interaction that already ended is returned unchanged. One
 * in_progress in a shared store but not running here is cancelled by the
 * instance that runs it, asked through the store (core/lease.h), and
 * returned once it has ended; IA_EOVERLOADED when that instance neither
 * answers nor lets its lease expire. */
int ia_core_cancel(ia_core *c, const char *owner, const char *id, ia_interaction *out,
                   ia_err *err);

/* Deletes a stored interaction (cancelling it first if running). */
int ia_core_delete(ia_core *c, const char *owner, const char *id, ia_err *err);

/* Next event of a subscription. Returns 1 with *ev and *snap filled: for
 * START and COMPLETE events snap is the interaction the event describes, for
 * the others it holds only the interaction's id — the
 * caller frees both with ia_event_free / ia_interaction_free; 0 when nothing
 * came within timeout_ms; -1 when the stream has ended. */
int ia_sub_next(ia_sub *s, int timeout_ms, ia_event *ev, ia_interaction *snap);
/* The interaction the subscription follows. */
const char *ia_sub_id(const ia_sub *s);
/* Ends the subscription. Closing a subscription made by a non-background
 * streaming create before its run ended cancels the run: a client that
 * disconnects stops its generation. */
void ia_sub_close(ia_sub *s);

#endif
