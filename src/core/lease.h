/* lease: what the core does when it shares its store with other instances
 * (store.h's leases; PostgreSQL). Internal to src/core/.
 *
 * One thread per core ticks every IA_LEASE_TICK_MS: it renews the leases
 * of the stored runs live here, cancels those another instance was asked
 * to cancel (through the local cancel, on a thread of its own so the tick
 * keeps time), and takes over the rows whose lease has passed (their
 * instance died or lost the database): they end failed with
 * IA_LEASE_TAKEOVER_MSG, as a restart's recovery ends its own. Between
 * ticks it waits on the store's cancel notifications (PostgreSQL's
 * LISTEN/NOTIFY), so a cancel asked elsewhere reaches its run at once; the
 * tick's look at the row's flag is the fallback when a notification was
 * missed (the listening connection was lost). The lease
 * (--lease-seconds) must be a few ticks long, so a renewal late by a tick
 * or a short database outage does not lose a live run.
 *
 * A cancel of a run live on another instance (ia_lease_cancel_remote)
 * asks its runner through the row and waits for the row to end, as a
 * local cancel waits for its run; a runner that is dead ends it here once
 * its lease has passed. Not started for a store that is not shared. */
#ifndef IA_CORE_LEASE_H
#define IA_CORE_LEASE_H

#include "core/core.h"

#include <stdint.h>

#define IA_LEASE_TICK_MS 1000
#define IA_LEASE_TAKEOVER_MSG                                                                            \
    "the server instance running this interaction stopped (crash, kill or lost database) before it "     \
    "finished, and another instance took it over after its lease expired; it was not resumed"

typedef struct ia_lease ia_lease;

/* Streams followed from the store (run.c's tails) wait here for other
 * instances' events: the count of events notifications so far, and a wait
 * (up to ms) for it to move past gen. Read the count before looking at the
 * store, so a notification in between is not missed. */
uint64_t ia_lease_events_gen(ia_lease *l);
void ia_lease_events_wait(ia_lease *l, uint64_t gen, int ms);

/* NULL (and nothing started) when c's store is not shared, or the thread
 * could not be started (the caller refuses to serve: core.c). */
ia_lease *ia_lease_start(ia_core *c, int64_t lease_ms);
/* Stops the thread and waits for the cancels it started. NULL: no-op. */
void ia_lease_stop(ia_lease *l);

/* A cancel of id, in_progress in the store but not live here: returns the
 * row once it has ended (cancelled by its runner, by this call when its
 * runner is dead, or ended otherwise meanwhile). IA_EOVERLOADED (503) when its
 * runner neither ended it nor let its lease pass within lease + 10 s. */
int ia_lease_cancel_remote(ia_core *c, int64_t lease_ms, const char *owner, const char *id,
                           ia_interaction *out, ia_err *err);

#endif
