/* prefill.c: a job's prompt into a slot — the slot and the longest prefix
 * of the prompt kept anywhere (its own sequences, the shared cache), cut
 * back to the start of a media run it would end inside — and the media
 * runs of a prompt decoded whole at their place in the prefill. Worker
 * threads only (each on its own worker); locks as engine_int.h says. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/seqstate.h"
#include "engine/media.h"
#include "lib/log.h"

/* Runs of consecutive ids among the running slots, with slot x counted
 * as running too: how many ubatches a step of them all takes. */
static int runs_with(const worker *w, const slot *x) {
    int runs = 0;
    bool prev = false;
    for (int i = 0; i < w->n_slots; i++) {
        bool on = w->slots[i].j || &w->slots[i] == x;
        runs += on && !prev;
        prev = on;
    }
    return runs;
}

slot *ia_slot_spare(worker *w) {
    slot *best = NULL;
    int best_runs = 0;
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        if (s->j) continue;
        int r = runs_with(w, s);
        if (!best || r < best_runs ||
            (r == best_runs && (s->n_kv < best->n_kv || (s->n_kv == best->n_kv && s->last_used < best->last_used)))) {
            best = s;
            best_runs = r;
        }
    }
    return best;
}

/* Copies src's KV and tokens into dst, the first m of them at least
 * (dst is cut to its prefix afterwards). In one unified cache the two
 * sequences share the cells (llama_memory_seq_cp); across KV streams
 * llama.cpp copies only whole streams and later, at the next decode, so
 * the state is copied here at once. dst is left empty on failure. Under
 * w's kv_mu. */
static void copy_seq(worker *w, slot *src, slot *dst, int m, llama_pos end) {
    llama_memory_t mem = llama_get_memory(w->ctx);
    llama_memory_seq_rm(mem, dst->id, -1, -1);
    if (!w->e->streams) {
        llama_memory_seq_cp(mem, src->id, dst->id, 0, end);
        ia_slot_kv_set(dst, src->kv, m);
        return;
    }
    size_t size = 0;
    uint8_t *buf = ia_seqstate_get(w->ctx, src->id, true, &size);
    bool ok = buf && ia_seqstate_set(w->ctx, dst->id, true, buf, size);
    free(buf);
    if (!ok) llama_memory_seq_rm(mem, dst->id, -1, -1);
    ia_slot_kv_set(dst, src->kv, ok ? src->n_kv : 0);
}

/* Chooses the worker's slot for a prompt and fills it with the longest
 * prefix of the prompt that any of its sequences or the shared cache holds.
 * Returns the slot, its KV now holding prompt[0..n_kv). */
slot *ia_slot_place(worker *w, const llama_token *p, int n, const ia_mspan *spans, int n_spans) {
    ia_engine *e = w->e;
    llama_memory_t mem = llama_get_memory(w->ctx);
    slot *dst = NULL, *src = NULL;
    int dst_l = -1, src_l = 0;
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        int l = e->no_prefix_cache ? 0 : ia_kvc_lcp(s->kv, s->n_kv, p, n);
        if (!s->j && (l > dst_l || (l == dst_l && s->last_used < dst->last_used))) {
            dst = s;
            dst_l = l;
        }
        if (l > src_l) {
            src = s;
            src_l = l;
        }
    }
    /* A match of a few tokens (a template's opening) is not worth
     * overwriting another conversation's kept turns for. */
    if (dst_l < IA_MIN_KEEP_TOKENS && dst_l * 10 < n) {
        dst = ia_slot_spare(w);
        dst_l = e->no_prefix_cache ? 0 : ia_kvc_lcp(dst->kv, dst->n_kv, p, n);
    }
    if (dst_l >= src_l) src = dst; /* as good in place as anywhere */
    pthread_mutex_lock(&w->kv_mu);
    if (e->kvc) pthread_mutex_lock(&e->kvc_mu);
    ia_kvc_entry *en = NULL;
    int cache_l = e->no_prefix_cache || !e->kvc ? 0 : ia_kvc_match(e->kvc, p, n, e->n_ctx - 1, &en);
    enum { COLD, IN_PLACE, COPY, RESTORE } how = COLD;
    if (e->no_prefix_cache) how = COLD;
    else if (cache_l > src_l) how = RESTORE;
    else if (src_l > 0) how = src == dst ? IN_PLACE : COPY;

    /* What dst held and will lose: kept for later if it is worth it. */
    int keep = how == IN_PLACE ? (dst_l < n - 1 ? dst_l : n - 1) : 0;
    if (e->kvc && !e->no_prefix_cache && dst->n_kv - keep >= IA_MIN_KEEP_TOKENS)
        ia_kvc_save(e->kvc, w->ctx, dst->id, dst->kv, dst->n_kv);

    if (how == COLD) {
        llama_memory_seq_rm(mem, dst->id, -1, -1);
        dst->n_kv = 0;
    } else if (how == RESTORE) {
        const llama_token *toks = NULL;
        int got = ia_kvc_restore(e->kvc, en, w->ctx, dst->id, &toks);
        if (got < 0) {
            llama_memory_seq_rm(mem, dst->id, -1, -1);
            dst->n_kv = 0;
        } else {
            ia_slot_kv_set(dst, toks, got);
        }
    } else if (how == COPY) {
        int m = src_l < n - 1 ? src_l : n - 1;
        copy_seq(w, src, dst, m, ia_mspans_pos(spans, n_spans, m)); /* cut to the prefix below */
    }
    if (e->kvc) {
        ia_engine_publish_kvst(e);
        pthread_mutex_unlock(&e->kvc_mu);
    }
    /* Now cut dst to the reused prefix. */
    int reuse = ia_kvc_lcp(dst->kv, dst->n_kv, p, n);
    if (reuse > n - 1) reuse = n - 1;
    reuse = ia_mspans_snap(spans, n_spans, reuse); /* a media run is decoded whole */
    if (reuse < dst->n_kv) {
        if (!llama_memory_seq_rm(mem, dst->id, ia_mspans_pos(spans, n_spans, reuse), -1)) {
            llama_memory_seq_rm(mem, dst->id, -1, -1);
            reuse = 0;
        }
        dst->n_kv = reuse;
    }
    /* A sliding-window cache keeps only the window behind a sequence's
     * last position (llama.cpp's state of it too): a prefix cut from a
     * sequence that went on past it lacks the window before the cut, and
     * would be attended as if nothing stood there. Then nothing is reused
     * (as llama-server does). */
    int n_swa = llama_model_n_swa(e->model);
    if (reuse > 0 && n_swa > 0) {
        int at = ia_mspans_pos(spans, n_spans, reuse);
        llama_pos lo = llama_memory_seq_pos_min(mem, dst->id);
        if (lo < 0 || lo > (at > n_swa ? at - n_swa : 0)) {
            llama_memory_seq_rm(mem, dst->id, -1, -1);
            dst->n_kv = 0;
        }
    }
    pthread_mutex_unlock(&w->kv_mu);
    return dst;
}

/* The prompt's and the reused prefix's tokens by what they stand for. */
void ia_slot_count_modalities(slot *s) {
    int64_t media = 0, cached = 0;
    for (int i = 0; i < s->n_spans; i++) {
        const ia_mspan *sp = &s->spans[i];
        s->res.n_prompt_by[sp->mod] += sp->n;
        media += sp->n;
        if (sp->start + sp->n <= s->n_kv) {
            s->res.n_cached_by[sp->mod] += sp->n;
            cached += sp->n;
        }
    }
    s->res.n_prompt_by[IA_MOD_TEXT] += s->n_prompt - media;
    s->res.n_cached_by[IA_MOD_TEXT] += s->res.n_cached - cached;
}

/* Tokens before s's next media run in the rest of its prompt (0: it is
 * next), or -1 when none is left. */
int ia_slot_media_ahead(const slot *s) {
    for (int i = 0; i < s->n_spans; i++)
        if (s->spans[i].media && s->spans[i].start >= s->n_kv) return s->spans[i].start - s->n_kv;
    return -1;
}

/* Decodes the media run that is next in a prefilling slot's prompt: the
 * earliest admitted such slot, one run per step while others generate (a
 * run is a decode of its own, up to an image's worth of tokens), else
 * every run that is next. */
void ia_slot_prefill_media(worker *w, bool others) {
    for (;;) {
        slot *first = NULL;
        for (int i = 0; i < w->n_slots; i++) {
            slot *s = &w->slots[i];
            if (s->j && !s->gen && s->n_kv < s->n_prompt && ia_slot_media_ahead(s) == 0 &&
                (!first || s->admitted < first->admitted))
                first = s;
        }
        if (!first) return;
        const ia_mspan *sp = NULL;
        for (int i = 0; i < first->n_spans && !sp; i++)
            if (first->spans[i].media && first->spans[i].start == first->n_kv) sp = &first->spans[i];
        ia_err e;
        int pos = ia_mspans_pos(first->spans, first->n_spans, first->n_kv);
        if (ia_mm_eval(w->e->mm, w->ctx, sp, pos, first->id, &e) < 0) {
            llama_memory_seq_rm(llama_get_memory(w->ctx), first->id, pos, -1);
            ia_slot_end(w, first, IA_FINISH_ERROR, e.msg);
            continue;
        }
        pthread_mutex_lock(&w->kv_mu);
        ia_slot_kv_set(first, first->prompt, first->n_kv + sp->n);
        pthread_mutex_unlock(&w->kv_mu);
        ia_mspans_drop_before(first->spans, first->n_spans, first->n_kv);
        if (others) return;
    }
}

