/* layout.c: the load-following layout of a model served by several
 * contexts. Few sequences run split across the contexts, one context per
 * core: on a CPU, single-threaded contexts side by side decode more than
 * one context whose threads meet at a barrier after every graph node, and a
 * pair of sequences in one batch can cost more than two singles (pace.h).
 * Many sequences run as one batch in worker 0's context with every thread:
 * there a batch reads the weights once for all of them and the threads
 * scale (bench/RESULTS.md: 135M Q8_0 on 2 cores, 8 sequences decode at 422
 * tok/s in one 2-thread context against 2 x 150 in two 1-thread ones).
 *
 * The switch follows the load — running plus queued jobs — with a gap
 * between the two thresholds so a job's end and the next one's arrival do
 * not move sequences back and forth: one batch past two sequences per
 * context, split again at one per context plus one. A switch moves the
 * running sequences at once, each at its worker's next step boundary: the
 * sequence's KV (llama_state_seq_get_data) and its job's whole state (the
 * sampler chain, the output filter, the text so far) go to a free slot of
 * the other worker, which goes on from the same token. The old slot keeps
 * its tokens and KV, like any finished job's, for prefix reuse. Worker 0's
 * context is sized for every sequence; the others for their share.
 * Reservations (n_running) move with the sequences, under mu. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/seqstate.h"
#include "lib/log.h"
#include "lib/util.h"

int ia_layout_cap(const ia_engine *e, const worker *w) {
    if (!e->follow) return w->n_slots;
    if (e->one_batch) return w == e->workers ? e->n_slots : 0;
    return w->share;
}

void ia_layout_update(ia_engine *e) {
    if (!e->follow) return;
    int load = e->n_running + e->n_queued;
    bool one = e->one_batch;
    if (!one && load > 2 * e->n_workers) one = true;
    else if (one && load <= e->n_workers + 1) one = false;
    if (one == e->one_batch) return;
    e->one_batch = one;
    e->layout_changes++;
    ia_debug("engine %s: %d jobs: %s", e->name, load,
             one ? "one batch in context 0" : "split across the contexts");
    pthread_cond_broadcast(&e->cv); /* the workers move their sequences */
}

/* The worker other than w running the fewest jobs among those with room
 * under their cap, or NULL. Under mu. */
static worker *least_loaded(ia_engine *e, const worker *w) {
    worker *best = NULL;
    for (int i = 0; i < e->n_workers; i++) {
        worker *o = &e->workers[i];
        if (o != w && o->n_running < ia_layout_cap(e, o) && (!best || o->n_running < best->n_running)) best = o;
    }
    return best;
}

/* Whether w should hand one more sequence to d, pending already being on
 * their way: all of them while w may run none (or fewer than it does), and
 * while split, as long as that evens the load (w runs at least two more
 * than d). Under mu. */
static bool should_move(const ia_engine *e, const worker *w, const worker *d, int pending) {
    int mine = w->n_running - pending;
    if (mine > ia_layout_cap(e, w)) return true;
    return !e->one_batch && mine >= d->n_running + 2;
}

/* The running slot cheapest to move (fewest tokens) not yet picked. */
static slot *cheapest(worker *w, const bool *picked) {
    slot *best = NULL;
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        if (s->j && !picked[i] && (!best || s->n_kv < best->n_kv)) best = s;
    }
    return best;
}

/* Sends s's sequence to worker to, whose slot is reserved already. When
 * the engine stops meanwhile (or the state cannot be read), the job stays
 * here and the reservation comes back. */
static void move_out(worker *w, slot *s, worker *to) {
    ia_engine *e = w->e;
    /* m is whole before it is handed over: the other worker may take it
     * in and free it as soon as it is in its list. */
    ia_move *m = ia_xcalloc(1, sizeof *m);
    m->state = ia_seqstate_get(w->ctx, s->id, e->streams, &m->n_state);
    m->s = *s;
    m->kv = ia_xmalloc(((size_t)s->n_kv + 1) * sizeof *m->kv);
    if (s->n_kv) memcpy(m->kv, s->kv, (size_t)s->n_kv * sizeof *m->kv);
    m->n_kv = s->n_kv;
    bool ok = m->state != NULL;
    pthread_mutex_lock(&e->mu);
    ok = ok && !atomic_load(&e->stop);
    if (ok) {
        m->next = to->moves;
        to->moves = m;
        e->moved++;
        /* w's reservation goes only now: until here the job held it, so
         * no job routed to w meanwhile could find w without a slot. */
        ia_route_running_add(e, w, -1);
        pthread_cond_broadcast(&e->cv);
    } else {
        ia_route_running_add(e, to, -1);
    }
    pthread_mutex_unlock(&e->mu);
    if (!ok) { /* the job stays in s */
        free(m->kv);
        free(m->state);
        free(m);
        return;
    }
    ia_debug("engine %s: sequence of %d tokens moved from context %d to %d", e->name, s->n_kv, w->idx, to->idx);
    /* The job's state is the other worker's now; s stays, idle, with its
     * tokens and KV. */
    s->j = NULL;
    s->prompt = NULL;
    s->spans = NULL;
    s->n_spans = 0;
    s->smpl = s->budget = NULL;
    s->cst = NULL;
    s->parse = s->gen = s->has_tail = false;
    memset(&s->whole, 0, sizeof s->whole);
    memset(&s->items, 0, sizeof s->items);
    memset(&s->of, 0, sizeof s->of);
    s->i_logits = -1;
    s->last_used = ++w->tick;
}

void ia_layout_shed(worker *w) {
    ia_engine *e = w->e;
    if (!e->follow) return;
    int running = 0;
    for (int i = 0; i < w->n_slots; i++) running += w->slots[i].j != NULL;
    if (!running) return;
    worker **to = ia_xcalloc((size_t)running, sizeof *to);
    int n = 0;
    pthread_mutex_lock(&e->mu);
    /* The destinations' slots are reserved here; w's reservations go as
     * each move is handed over (move_out). pending counts those. */
    int pending = 0;
    while (n < running && !atomic_load(&e->stop)) {
        worker *d = least_loaded(e, w);
        if (!d || !should_move(e, w, d, pending)) break;
        ia_route_running_add(e, d, 1);
        to[n++] = d;
        pending++;
    }
    pthread_mutex_unlock(&e->mu);
    bool *picked = ia_xcalloc((size_t)w->n_slots, sizeof *picked);
    for (int k = 0; k < n; k++) {
        slot *s = cheapest(w, picked);
        picked[s - w->slots] = true;
        move_out(w, s, to[k]);
    }
    free(picked);
    free(to);
}

/* Puts m's state into d and its KV into d's sequence; false when the
 * context would not take it. */
static bool restore(worker *w, slot *d, ia_move *m) {
    ia_engine *e = w->e;
    llama_memory_t mem = llama_get_memory(w->ctx);
    /* What d kept is worth keeping elsewhere, as when a job takes a slot. */
    if (e->kvc && !e->no_prefix_cache && d->n_kv >= IA_MIN_KEEP_TOKENS) {
        pthread_mutex_lock(&e->kvc_mu);
        ia_kvc_save(e->kvc, w->ctx, d->id, d->kv, d->n_kv);
        ia_engine_publish_kvst(e);
        pthread_mutex_unlock(&e->kvc_mu);
    }
    pthread_mutex_lock(&w->kv_mu);
    llama_memory_seq_rm(mem, d->id, -1, -1);
    bool ok = ia_seqstate_set(w->ctx, d->id, e->streams, m->state, m->n_state);
    if (!ok) llama_memory_seq_rm(mem, d->id, -1, -1);
    ia_slot_kv_set(d, m->kv, ok ? m->n_kv : 0);
    pthread_mutex_unlock(&w->kv_mu);
    return ok;
}

void ia_layout_settle(worker *w, ia_move *m, bool restore_kv) {
    slot *d = ia_slot_spare(w);
    if (!d) { /* cannot be: the move reserved a slot here */
        ia_error("engine %s: no free slot for a moved sequence on context %d", w->e->name, w->idx);
        abort();
    }
    bool ok = restore_kv && restore(w, d, m);
    /* The job's state, with d's own identity and tokens (which other
     * workers read under kv_mu). */
    pthread_mutex_lock(&w->kv_mu);
    slot keep = *d;
    *d = m->s;
    d->id = keep.id;
    d->kv = keep.kv;
    d->n_kv = keep.n_kv;
    d->cap_kv = keep.cap_kv;
    pthread_mutex_unlock(&w->kv_mu);
    d->of.ud = d; /* the output filter's sink writes to its slot */
    d->i_logits = -1; /* keeps its admission order: the prompt chunks stay first-come */
    if (!restore_kv) {
        /* Stopping: the text held back goes out; the job has no tokens
         * here (d's KV and tokens are another conversation's). */
        if (d->gen) ia_outfilter_flush(&d->of);
        d->gen = d->has_tail = false;
        ia_slot_end(w, d, IA_FINISH_CANCELLED, NULL);
    }
    else if (!ok) ia_slot_end(w, d, IA_FINISH_ERROR, "moving the sequence to another context failed");
    free(m->kv);
    free(m->state);
    free(m);
}
