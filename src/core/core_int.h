/* core_int: what the service (core.c), its run loop (loop.c) and its store
 * writer (writer.c) share, internal to src/core/: the core's state, the run
 * table, event flushing and the one finalization of a run.
 *
 * Lock order: a run's mu, then the core's mu or the writer's queue lock
 * (each taken last, never both at once); nothing takes them the other way.
 * The store is never called under a run's mu on an engine thread: every
 * write of a run's events and record is the writer's (writer.h). */
#ifndef IA_CORE_CORE_INT_H
#define IA_CORE_CORE_INT_H

#include <pthread.h>

#include "core/core.h"
#include "core/media.h"
#include "core/run.h"
#include "core/thought.h"
#include "core/writer.h"
#include "tools/tools.h"

/* A running interaction's events are handed to the writer at least this
 * often, so a crash loses few of them; recovery's seq gap covers every id a
 * client may have seen live (store.h, IA_STORE_RECOVER_SEQ_GAP), since
 * readers stay within IA_RUN_AHEAD of the store (run.h). */
#define IA_CORE_FLUSH_EVERY 32

struct ia_core {
    ia_store *store;
    ia_engine **engines;
    size_t n_engines;
    char *names;
    int64_t retention_s, sweep_interval_s;
    struct ia_files *files; /* swept with the interactions; may be NULL */
    struct ia_fsearch *fsearch; /* file_search's stores; may be NULL */
    ia_media_opts media;    /* where media bytes come from (media.h) */
    ia_tools_cfg tools;     /* the built-in tools (tools/tools.h) */
    int max_steps;          /* model steps of one run, at most */
    char *agent_model;      /* --agent-model: the served model agents run on; NULL: none */
    int agent_max_steps;    /* an agent's run: model steps at most */
    int max_run_s;          /* a run's steps start within this many seconds of its start */
    const struct ia_upstreams *upstreams; /* --upstream engines; may be NULL */
    const struct ia_tts_set *tts;         /* --speech-model engines; may be NULL */
    const struct ia_embed_set *embed;     /* --embedding-model embedders; may be NULL */

    pthread_mutex_t mu; /* guards runs, stopping, tool_threads */
    pthread_cond_t cv;  /* signalled when a run leaves the table or a tool thread ends */
    ia_run *runs;       /* every live run, stored or not */
    bool stopping;
    int tool_threads;   /* the loop's tool steps running (shutdown waits for them) */

    uint8_t thought_key[IA_THOUGHT_KEY_LEN]; /* seals reasoning (thought.h) */

    ia_writer *writer; /* writes the runs' events and records (writer.h) */
    struct ia_lease *lease; /* leases on a shared store (lease.h); NULL otherwise */
    int64_t lease_ms;
    size_t flush_every;     /* events between flushes: 1 on a shared store, whose
                               other instances follow a stream through it */

    pthread_t sweeper;
    pthread_mutex_t sweep_mu;
    pthread_cond_t sweep_cv;
    bool sweep_stop, sweeper_started;
};

void ia_core_table_add(ia_core *c, ia_run *r);
/* The live stored run of id (any owner), referenced; or NULL. */
ia_run *ia_core_table_find_id(ia_core *c, const char *id);
/* A local cancel: stops r's engine (within a grace) and waits until r is
 * stored and out of the table. */
void ia_core_cancel_run(ia_core *c, ia_run *r);
void ia_core_table_remove(ia_core *c, ia_run *r);
bool ia_core_stopping(ia_core *c);
/* Under r->mu: hands the events not yet stored to the writer (cheap: it
 * only queues the run; the writer writes them and logs a failure). No-op
 * for an unstored or ended run. */
void ia_core_flush_locked(ia_core *c, ia_run *r);
/* Ends the run: sets the terminal status, emits the closing events, copies
 * the answer's kept tokens (from r->done_res) and marks it ended; then a
 * stored run is queued for the writer, which persists the record with its
 * events, takes it out of the table and finalizes it (writer.h); an
 * unstored one is taken out and finalized here. Never waits for the store,
 * so an engine thread may call it. Idempotent: the first caller wins.
 * n_prompt / n_output: the run's totals (-1: keep). */
void ia_core_finalize(ia_core *c, ia_run *r, ia_status status, const ia_err *err, int64_t n_prompt,
                      int64_t n_output);

#endif
