/* core_int: what the service (core.c) and its run loop (loop.c) share,
 * internal to src/core/: the core's state, the run table, event flushing
 * and the one finalization of a run. Lock order: a run's mu, then the
 * core's mu; nothing takes them the other way. */
#ifndef IA_CORE_CORE_INT_H
#define IA_CORE_CORE_INT_H

#include <pthread.h>

#include "core/core.h"
#include "core/media.h"
#include "core/run.h"
#include "core/thought.h"
#include "tools/tools.h"

/* A running interaction's events reach the store at least this often, so a
 * crash loses few of them and recovery's seq gap covers every id a client
 * may have seen live (store.h, IA_STORE_RECOVER_SEQ_GAP). */
#define IA_CORE_FLUSH_EVERY 32

struct ia_core {
    ia_store *store;
    ia_engine **engines;
    size_t n_engines;
    char *names;
    int64_t retention_s, sweep_interval_s;
    struct ia_files *files; /* swept with the interactions; may be NULL */
    ia_media_opts media;    /* where media bytes come from (media.h) */
    ia_tools_cfg tools;     /* the built-in tools (tools/tools.h) */
    int max_steps;          /* model steps of one run, at most */
    int max_run_s;          /* a run's steps start within this many seconds of its start */
    const struct ia_upstreams *upstreams; /* --upstream engines; may be NULL */

    pthread_mutex_t mu; /* guards runs, stopping, tool_threads */
    pthread_cond_t cv;  /* signalled when a run leaves the table or a tool thread ends */
    ia_run *runs;       /* every live run, stored or not */
    bool stopping;
    int tool_threads;   /* the loop's tool steps running (shutdown waits for them) */

    uint8_t thought_key[IA_THOUGHT_KEY_LEN]; /* seals reasoning (thought.h) */

    pthread_t sweeper;
    pthread_mutex_t sweep_mu;
    pthread_cond_t sweep_cv;
    bool sweep_stop, sweeper_started;
};

void ia_core_table_add(ia_core *c, ia_run *r);
void ia_core_table_remove(ia_core *c, ia_run *r);
bool ia_core_stopping(ia_core *c);
/* Writes the events not yet stored, under r->mu (a failure only logs). */
void ia_core_flush_locked(ia_core *c, ia_run *r);
/* Sets the terminal status, emits the closing events, persists the record
 * with its events and takes the run out of the table. Idempotent: the
 * first caller wins. n_prompt / n_output: the run's totals (-1: keep). */
void ia_core_finalize(ia_core *c, ia_run *r, ia_status status, const ia_err *err, int64_t n_prompt,
                      int64_t n_output);

#endif
