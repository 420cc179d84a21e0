/* route.c: which worker runs a job. A worker takes queued jobs while it
 * has a free slot and no other worker with a free slot runs fewer (streams
 * spread across the contexts); once a job is rendered, it goes to the
 * worker whose sequences hold a longer prefix of it — to run there if that
 * worker has a slot free, else only to have that worker copy the sequence
 * into the shared kept-sequence cache, after which it comes back and
 * restores it. Slot reservations (n_running) and the busy-worker count are
 * kept here, under the engine's mu. */
#include "engine/engine_int.h"
#include "lib/log.h"

/* w's reserved slots change by d; e->busy counts the workers with any.
 * Under mu. */
void ia_route_running_add(ia_engine *e, worker *w, int d) {
    bool was = w->n_running > 0;
    w->n_running += d;
    if (was != (w->n_running > 0)) atomic_fetch_add(&e->busy, was ? -1 : 1);
}

/* The longest prefix of p[0..n) that one of w's sequences holds. From
 * another worker's thread: under w's kv_mu. */
static int worker_lcp(worker *w, const llama_token *p, int n, bool other) {
    int best = 0;
    if (other) pthread_mutex_lock(&w->kv_mu);
    for (int i = 0; i < w->n_slots; i++) {
        int l = ia_kvc_lcp(w->slots[i].kv, w->slots[i].n_kv, p, n);
        if (l > best) best = l;
    }
    if (other) pthread_mutex_unlock(&w->kv_mu);
    return best;
}

static void inbox_push(worker *to, job *j) {
    j->next = NULL;
    if (to->inbox_tail) to->inbox_tail->next = j;
    else to->inbox = j;
    to->inbox_tail = j;
}

/* Sends a rendered job to the worker whose sequences hold a longer prefix
 * of its prompt than w's do (by at least IA_MIN_KEEP_TOKENS: less is cheaper
 * to prefill again than a queue hop). If that worker has a slot free, the
 * job runs there; if not, it goes there only to have the sequence copied
 * into the shared cache (fetch_for), and comes back to run here from it —
 * a chain's history is never computed twice because the context holding
 * it was busy. Returns whether the job left. */
bool ia_route_job(worker *w, job *j) {
    ia_engine *e = w->e;
    if (e->n_workers < 2 || e->no_prefix_cache) return false;
    int own = worker_lcp(w, j->toks, j->n_toks, false);
    if (e->kvc) { /* what w could restore from the shared cache counts as its own */
        ia_kvc_entry *en = NULL;
        pthread_mutex_lock(&e->kvc_mu);
        int l = ia_kvc_match(e->kvc, j->toks, j->n_toks, e->n_ctx - 1, &en);
        pthread_mutex_unlock(&e->kvc_mu);
        if (l > own) own = l;
    }
    int best_l = own + IA_MIN_KEEP_TOKENS - 1;
    worker *best = NULL;
    for (int i = 0; i < e->n_workers; i++) {
        worker *o = &e->workers[i];
        if (o == w) continue;
        int l = worker_lcp(o, j->toks, j->n_toks, true);
        if (l > best_l) {
            best = o;
            best_l = l;
        }
    }
    if (!best) return false;
    pthread_mutex_lock(&e->mu);
    bool stop = atomic_load(&e->stop);
    bool room = !stop && best->n_running < ia_layout_cap(e, best);
    bool fetch = !stop && !room && e->kvc && ia_kvc_can_keep(e->kvc);
    if (room) {
        ia_route_running_add(e, w, -1);
        ia_route_running_add(e, best, 1);
        e->routed++;
    } else if (fetch) {
        j->fetch_for = w; /* w keeps the job's slot */
        e->fetched++;
    }
    if (room || fetch) {
        inbox_push(best, j);
        pthread_cond_broadcast(&e->cv);
    }
    pthread_mutex_unlock(&e->mu);
    if (room || fetch)
        ia_debug("engine %s: job %s context %d to %d (%d tokens of its prefix there, %d here)", e->name,
                 room ? "sent from" : "fetches its prefix from", w->idx, best->idx, best_l, own);
    return room || fetch;
}

/* For a job visiting from another worker: copies the sequence holding the
 * longest prefix of its prompt into the shared cache, and sends the job
 * back. */
void ia_route_fetch_done(worker *w, job *j) {
    ia_engine *e = w->e;
    slot *best = NULL;
    int best_l = 0;
    for (int i = 0; i < w->n_slots; i++) {
        int l = ia_kvc_lcp(w->slots[i].kv, w->slots[i].n_kv, j->toks, j->n_toks);
        if (l > best_l) {
            best = &w->slots[i];
            best_l = l;
        }
    }
    if (best && best_l >= IA_MIN_KEEP_TOKENS) {
        pthread_mutex_lock(&e->kvc_mu);
        /* The whole sequence: an entry's state must hold exactly its tokens
         * (between steps, kv[] is exactly what was decoded); the job takes
         * the prefix it shares. */
        ia_kvc_save(e->kvc, w->ctx, best->id, best->kv, best->n_kv);
        ia_engine_publish_kvst(e);
        pthread_mutex_unlock(&e->kvc_mu);
    }
    worker *back = j->fetch_for;
    j->fetch_for = NULL;
    pthread_mutex_lock(&e->mu);
    inbox_push(back, j);
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* Whether w should take the next queued job: room under its cap (the
 * layout's, layout.c), and no other worker with room runs fewer jobs
 * (that one takes it). Under mu. */
bool ia_route_may_take(const ia_engine *e, const worker *w) {
    if (w->n_running >= ia_layout_cap(e, w)) return false;
    /* While sequences are on their way into worker 0 its cap is every
     * slot, yet the others still hold theirs: the total bounds it. */
    if (e->follow && e->n_running >= e->n_slots) return false;
    for (int i = 0; i < e->n_workers; i++) {
        const worker *o = &e->workers[i];
        if (o != w && o->n_running < ia_layout_cap(e, o) && o->n_running < w->n_running) return false;
    }
    return true;
}

