/* writer: the core's one thread that writes runs to the store, so that no
 * engine thread ever waits for SQLite (an fsync there would stall the
 * decode of every sequence of its context). Internal to src/core/.
 *
 * Contract:
 * - ia_writer_push(w, r), under r->mu, queues r (at most once: a run
 *   already queued is not queued again; the queue holds a reference). It
 *   never blocks on the store, only on the queue's own lock.
 * - The writer takes a queued run, copies under r->mu what is to be
 *   written, writes it with r->mu released, then advances r->n_persisted
 *   under r->mu and wakes r's readers:
 *     a live run (not r->ended): the events not yet stored
 *       (ia_store_append_events);
 *     an ended run: the record with those events (ia_store_finish) and the
 *       answer's kept tokens (r->kept, outtok.h); then it takes r out of
 *       the core's table and only then sets r->finalized and broadcasts —
 *       so anyone told that the run ended (a blocking create returning, a
 *       stream's closing events, a cancel's answer) finds the stored
 *       record, never a live run. A store error is logged and the run
 *       finalizes all the same.
 * - Only stored runs (r->store) are pushed: an unstored one has nothing to
 *   write and is finalized by ia_core_finalize itself.
 * - ia_writer_free drains the queue (every run pushed is written) and joins
 *   the thread; call it once no run can be pushed any more (every run of
 *   the core finalized).
 * Lock order: r->mu, then the writer's lock (push); the writer never holds
 * its lock while it takes a run's. */
#ifndef IA_CORE_WRITER_H
#define IA_CORE_WRITER_H

#include <stdbool.h>

#include "core/run.h"
#include "lib/err.h"

struct ia_core;
typedef struct ia_writer ia_writer;

/* Starts the thread. NULL + err when it cannot. */
ia_writer *ia_writer_new(struct ia_core *c, ia_err *err);
void ia_writer_push(ia_writer *w, ia_run *r); /* under r->mu */
void ia_writer_free(ia_writer *w);            /* NULL is a no-op */

/* Whether the calling thread is a writer's (for assertions and tests). */
bool ia_writer_on_thread(void);

#endif
