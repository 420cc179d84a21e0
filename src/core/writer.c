/* writer: one thread per core writes the runs' events and final records to
 * the store (contract in writer.h). The engine threads and the tool steps
 * only queue a run; the SQLite transactions, with their fsyncs, happen
 * here. */
#include "core/writer.h"

#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "core/outtok.h"
#include "lib/log.h"
#include "lib/util.h"

struct ia_writer {
    ia_core *core;
    pthread_t thread;
    pthread_mutex_t mu; /* guards the queue and stop (and each queued run's wnext / wqueued) */
    pthread_cond_t cv;  /* a run was queued, or stop was set */
    ia_run *head, *tail;
    bool stop;
};

static _Thread_local bool on_writer;

bool ia_writer_on_thread(void) { return on_writer; }

void ia_writer_push(ia_writer *w, ia_run *r) {
    pthread_mutex_lock(&w->mu);
    if (!r->wqueued) {
        ia_run_ref(r); /* the queue's, let go once written */
        r->wqueued = true;
        r->wnext = NULL;
        if (w->tail) w->tail->wnext = r;
        else w->head = r;
        w->tail = r;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

/* Deep copies of evs[0..n): the run's array may grow (and move) while the
 * copies are written. */
static ia_event *events_copy(const ia_event *evs, size_t n) {
    ia_event *out = ia_xcalloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; i < n; i++) ia_event_copy(&out[i], &evs[i]); /* their parts too */
    return out;
}

/* What one pass writes, copied under r->mu. */
typedef struct pass {
    bool final;           /* r has ended: its record, then finalized */
    size_t to;            /* r->n_evs when copied: n_persisted afterwards */
    ia_event *evs;        /* the events not yet stored */
    size_t n;
    ia_interaction it;    /* final: the record */
    ia_outtok_kept *kept; /* final: the answer's tokens (taken from r) */
} pass;

static bool take_pass(ia_run *r, pass *p) {
    memset(p, 0, sizeof *p);
    pthread_mutex_lock(&r->mu);
    bool todo = !r->finalized; /* a second pass after the last has nothing to do */
    if (todo) {
        p->final = r->ended;
        p->to = r->n_evs;
        p->n = r->n_evs - r->n_persisted;
        p->evs = events_copy(r->evs + r->n_persisted, p->n);
        if (p->final) {
            ia_interaction_copy(&p->it, &r->it);
            p->kept = r->kept;
            r->kept = NULL;
        }
    }
    pthread_mutex_unlock(&r->mu);
    return todo;
}

/* The store's part of a pass, r->mu not held. 0 when the events landed;
 * *lost: the store refused them because another instance ended (took
 * over) or deleted the row (IA_ECONFLICT, store.h's leases). */
static int store_pass(ia_store *st, const char *id, const pass *p, bool *lost) {
    ia_err err = {0};
    *lost = false;
    if (p->final) {
        int rc = ia_store_finish(st, &p->it, p->evs, p->n, &err);
        *lost = rc != 0 && err.code == IA_ECONFLICT;
        if (*lost) ia_warn("%s", err.msg); /* says what and why */
        else if (rc != 0) ia_error("store: could not persist interaction %s: %s", id, err.msg);
        /* before anyone is told it ended: a next turn sent at once finds them */
        if (p->kept && !*lost) ia_outtok_put(st, &p->it, p->kept);
        return rc;
    }
    if (!p->n) return 0;
    int rc = ia_store_append_events(st, id, p->evs, p->n, &err);
    *lost = rc != 0 && err.code == IA_ECONFLICT;
    if (rc != 0) ia_warn("store: could not flush events of %s: %s", id, err.msg);
    return rc;
}

/* The stored row's end as the run's own, r->mu held and r ended but not
 * yet finalized: its closing events (hidden till then, run.h) are replaced
 * by the stored end's, so the local client — blocking or streaming — is
 * told what the store says (the takeover's failure), not an end no other
 * instance will ever see. Takes stored's end; r->it.id is left alone (read
 * without r->mu, run.h). */
static void adopt_locked(ia_run *r, ia_interaction *stored) {
    for (size_t i = r->n_live; i < r->n_evs; i++) ia_event_free(&r->evs[i]);
    r->n_evs = r->n_live;
    ia_status st = stored->status;
    r->err_code = stored->error_code != IA_OK ? stored->error_code : IA_EINTERNAL;
    if (st == IA_STATUS_FAILED)
        ia_run_emit_locked(r, IA_EV_ERROR, 0, st, stored->error ? stored->error : "failed",
                           ia_err_wire_code(r->err_code));
    ia_run_emit_locked(r, IA_EV_STATUS, 0, st, NULL, NULL);
    ia_run_emit_locked(r, IA_EV_COMPLETE, 0, st, NULL, NULL);
    r->it.status = st;
    r->it.updated = stored->updated;
    r->it.error_code = stored->error_code;
    free(r->it.error);
    r->it.error = stored->error;
    stored->error = NULL;
    ia_turn_free(&r->it.output);
    r->it.output = stored->output;
    memset(&stored->output, 0, sizeof stored->output);
}

/* A run whose row another instance ended or deleted: a final pass hands
 * the stored end to the local client; an earlier pass stops the run (it
 * then ends here and the final pass does so). Its events will never land:
 * counted as written, so no pass retries them. */
static void lost_run(ia_store *st, ia_run *r, const pass *p) {
    ia_interaction stored;
    ia_err err = {0};
    /* gone (a delete elsewhere cancels first): the run's own end stays */
    bool found = p->final && ia_store_get(st, p->it.id, p->it.owner, ia_now(), &stored, &err) == 0;
    atomic_store(&r->cancel, true);
    pthread_mutex_lock(&r->mu);
    if (found && stored.status != IA_STATUS_IN_PROGRESS) adopt_locked(r, &stored);
    if (p->to > r->n_persisted) r->n_persisted = p->to;
    pthread_mutex_unlock(&r->mu);
    if (found) ia_interaction_free(&stored);
}

static void write_run(ia_writer *w, ia_run *r) {
    pass p;
    if (!take_pass(r, &p)) return;
    bool lost = false;
    int rc = store_pass(w->core->store, r->it.id, &p, &lost); /* it.id is fixed from the create on */
    if (lost) lost_run(w->core->store, r, &p);
    pthread_mutex_lock(&r->mu);
    if (rc == 0 && p.to > r->n_persisted) r->n_persisted = p.to;
    pthread_cond_broadcast(&r->cv); /* readers held back by the store (run.h, visibility) */
    pthread_mutex_unlock(&r->mu);
    if (p.final) {
        /* Out of the table before anyone is told it ended: a client that
         * continues the chain at once must find the stored record, not a
         * live run. (Lock order: r->mu, then c->mu; not nested here.) */
        ia_core_table_remove(w->core, r);
        pthread_mutex_lock(&r->mu);
        r->finalized = true;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
    ia_events_free(p.evs, p.n);
    ia_interaction_free(&p.it);
    ia_outtok_kept_free(p.kept);
}

/* Runs are written in the order they were queued; on stop, the queue is
 * drained first, so every run pushed reaches the store. */
static void *writer_main(void *arg) {
    ia_writer *w = arg;
    on_writer = true;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        ia_run *r = w->head;
        if (!r) break; /* stopping, and nothing left */
        w->head = r->wnext;
        if (!w->head) w->tail = NULL;
        r->wnext = NULL;
        r->wqueued = false; /* events appended from now on queue it again */
        pthread_mutex_unlock(&w->mu);
        write_run(w, r);
        ia_run_unref(r);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

ia_writer *ia_writer_new(ia_core *c, ia_err *err) {
    ia_writer *w = ia_xcalloc(1, sizeof *w);
    w->core = c;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        ia_fail(err, IA_EINTERNAL, "could not start the store writer");
        return NULL;
    }
    return w;
}

void ia_writer_free(ia_writer *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
