/* lease: the core's side of a shared store (contract in lease.h): the
 * renew / cancel / takeover tick, and a cancel sent to an instance that
 * does not run the interaction. */
#include "core/lease.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_int.h"
#include "lib/log.h"
#include "lib/util.h"

struct ia_lease {
    ia_core *core;
    int64_t lease_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* stop was set, or a cancel thread ended */
    bool stop;
    int cancels; /* cancel threads still going */
    /* events notifications (ia_lease_events_*): a count and its waiters */
    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv;
    uint64_t ev_gen;
};

uint64_t ia_lease_events_gen(ia_lease *l) {
    pthread_mutex_lock(&l->ev_mu);
    uint64_t g = l->ev_gen;
    pthread_mutex_unlock(&l->ev_mu);
    return g;
}

void ia_lease_events_wait(ia_lease *l, uint64_t gen, int ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->ev_mu);
    while (l->ev_gen == gen)
        if (pthread_cond_timedwait(&l->ev_cv, &l->ev_mu, &until) != 0) break;
    pthread_mutex_unlock(&l->ev_mu);
}

static void events_came(ia_lease *l) {
    pthread_mutex_lock(&l->ev_mu);
    l->ev_gen++;
    pthread_cond_broadcast(&l->ev_cv);
    pthread_mutex_unlock(&l->ev_mu);
}

/* The ids of the stored runs live here (malloc'd copies). */
static char **live_ids(ia_core *c, size_t *n) {
    char **ids = NULL;
    size_t len = 0;
    pthread_mutex_lock(&c->mu);
    for (ia_run *r = c->runs; r; r = r->next) {
        if (!r->store) continue;
        ids = ia_xrealloc(ids, (len + 1) * sizeof *ids);
        ids[len++] = ia_strdup(r->it.id); /* fixed from the create on */
    }
    pthread_mutex_unlock(&c->mu);
    *n = len;
    return ids;
}

typedef struct {
    ia_lease *l;
    ia_run *r;
} cancel_job;

static void *cancel_main(void *arg) {
    cancel_job *j = arg;
    ia_core_cancel_run(j->l->core, j->r);
    ia_run_unref(j->r);
    pthread_mutex_lock(&j->l->mu);
    j->l->cancels--;
    pthread_cond_broadcast(&j->l->cv);
    pthread_mutex_unlock(&j->l->mu);
    free(j);
    return NULL;
}

/* The local cancel of the run of id, on a thread of its own (it waits for
 * the engine to let go): asked on another instance, or (lost) the run's
 * row is no longer this instance's to run — its end would be refused, and
 * the writer then tells its client the stored end. */
static void cancel_one(ia_lease *l, const char *id, bool lost) {
    ia_run *r = ia_core_table_find_id(l->core, id);
    if (!r) return; /* another instance's, or over */
    pthread_mutex_lock(&r->mu);
    bool ended = r->ended;
    pthread_mutex_unlock(&r->mu);
    /* over, or being cancelled already (a lost run's cancel flag may be
     * the writer's alone, which does not make sure it ends: cancelled here,
     * once, whatever ticks list it again meanwhile) */
    bool again = lost ? atomic_exchange(&r->lost, true) : atomic_load(&r->cancel);
    if (ended || again) {
        ia_run_unref(r);
        return;
    }
    if (lost)
        ia_warn("lease: %s was taken over, ended or deleted by another instance (this instance's lease "
                "had passed); stopping it here", id);
    else
        ia_info("lease: cancelling %s, as another instance was asked to", id);
    cancel_job *j = ia_xcalloc(1, sizeof *j);
    j->l = l;
    j->r = r;
    pthread_mutex_lock(&l->mu);
    l->cancels++;
    pthread_mutex_unlock(&l->mu);
    pthread_t t;
    if (pthread_create(&t, NULL, cancel_main, j) != 0) {
        cancel_main(j); /* no thread to spare: here, late */
        return;
    }
    pthread_detach(t);
}

static void tick(ia_lease *l) {
    ia_core *c = l->core;
    size_t n = 0, n_cancel = 0, n_lost = 0;
    char **live = live_ids(c, &n);
    char **cancel = NULL, **lost = NULL;
    ia_err err = {0};
    if (ia_store_lease_renew(c->store, live, n, &cancel, &n_cancel, &lost, &n_lost, &err) != 0)
        ia_warn("lease: could not renew the leases of %zu run(s): %s", n, err.msg);
    for (size_t i = 0; i < n_cancel; i++) cancel_one(l, cancel[i], false);
    /* (a run that ended since live_ids is not renewed either: cancel_one
     * finds it ended or gone and leaves it) */
    for (size_t i = 0; i < n_lost; i++) cancel_one(l, lost[i], true);
    ia_store_ids_free(cancel, n_cancel);
    ia_store_ids_free(lost, n_lost);
    int taken = ia_store_takeover(c->store, live, n, ia_now(), IA_LEASE_TAKEOVER_MSG, &err);
    if (taken > 0) ia_warn("lease: took over %d interaction(s) whose instance stopped; marked failed", taken);
    if (taken < 0) ia_warn("lease: the takeover scan failed: %s", err.msg);
    ia_store_ids_free(live, n);
}

static bool stopping(ia_lease *l) {
    pthread_mutex_lock(&l->mu);
    bool stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    return stop;
}

/* Ticks every IA_LEASE_TICK_MS; in between, waits on the store for cancel
 * requests (a stop is seen within IA_LEASE_WAKE_MS). */
#define IA_LEASE_WAKE_MS 200
static void *lease_main(void *arg) {
    ia_lease *l = arg;
    int64_t next = 0;
    while (!stopping(l)) {
        if (ia_mono_ms() >= next) {
            tick(l);
            next = ia_mono_ms() + IA_LEASE_TICK_MS;
        }
        char **ids = NULL;
        size_t n = 0;
        bool events = false;
        ia_store_listen(l->core->store, IA_LEASE_WAKE_MS, &ids, &n, &events);
        if (events) events_came(l);
        for (size_t i = 0; i < n; i++) cancel_one(l, ids[i], false);
        ia_store_ids_free(ids, n);
    }
    return NULL;
}

ia_lease *ia_lease_start(ia_core *c, int64_t lease_ms) {
    if (!ia_store_shared(c->store)) return NULL;
    ia_lease *l = ia_xcalloc(1, sizeof *l);
    l->core = c;
    l->lease_ms = lease_ms;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_mutex_init(&l->ev_mu, NULL);
    pthread_cond_init(&l->ev_cv, NULL);
    if (pthread_create(&l->thread, NULL, lease_main, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->ev_mu);
        pthread_cond_destroy(&l->ev_cv);
        free(l);
        return NULL;
    }
    return l;
}

void ia_lease_stop(ia_lease *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_lock(&l->mu);
    while (l->cancels) pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->ev_mu);
    pthread_cond_destroy(&l->ev_cv);
    free(l);
}

int ia_lease_cancel_remote(ia_core *c, int64_t lease_ms, const char *owner, const char *id,
                           ia_interaction *out, ia_err *err) {
    /* the runner sees the request within a tick; one that is dead lets
     * its lease pass, and then the request ends the row itself */
    int64_t deadline = ia_mono_ms() + lease_ms + 10000;
    for (;;) {
        bool pending = false;
        if (ia_store_cancel_request(c->store, id, owner, ia_now(), &pending, err) != 0) return -1;
        if (!pending) return ia_core_get(c, owner, id, out, err);
        if (ia_mono_ms() > deadline)
            return ia_fail(err, IA_EOVERLOADED,
                           "interaction '%s' runs on another instance, which neither cancelled it nor let "
                           "its lease expire; try again", id);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
