/* run: the in-memory state of one interaction being generated — its event
 * log and the subscriptions that read it (contract in run.h and, for
 * ia_sub_*, core.h). A subscription is either live (a reference on a run,
 * reading its log by seq and sleeping on its condvar) or stored (events
 * loaded from the store for an interaction that has ended). Both yield the
 * same events, so a client cannot tell a replay from a live stream. */
#include "core/run.h"

#include <stdio.h>

#include "core/lease.h"
#include "core/loop.h"
#include "core/outtok.h"
#include "core/thought.h"
#include "lib/log.h"
#include "tools/cite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ia_sub {
    ia_run *run;          /* live: a reference; NULL for stored */
    int64_t next_seq;     /* live: next seq to hand out */
    bool owner;           /* closing early cancels the run */
    ia_interaction stored; /* stored: the interaction, for snapshots */
    ia_event *evs;        /* stored: the events left to replay */
    size_t n, pos;
    char id[IA_ID_MAX];
    ia_store *tail;       /* a tail: stored, refilled from the store until its end */
    struct ia_lease *wake; /* a tail: its wake-ups (lease.h); NULL: it polls */
    char *tail_owner;     /* a tail: for reading the row */
    int64_t last_seq;     /* a tail: the last seq handed out */
    bool ended;           /* a tail: its complete event was handed out */
};

ia_run *ia_run_new(void) {
    ia_run *r = ia_xcalloc(1, sizeof *r);
    atomic_init(&r->refs, 1);
    atomic_init(&r->cancel, false);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    ia_buf_init(&r->open_text, 0);
    r->open_kind = -1;
    r->open_media = -1;
    return r;
}

void ia_run_ref(ia_run *r) { atomic_fetch_add(&r->refs, 1); }

void ia_run_unref(ia_run *r) {
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    ia_interaction_free(&r->it);
    ia_buf_free(&r->open_text);
    ia_turn_free(&r->parsed_out);
    ia_loop_free(r->loop);
    ia_outtok_kept_free(r->kept);
    ia_events_free(r->evs, r->n_evs);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

int64_t ia_run_emit_locked(ia_run *r, ia_event_kind kind, int index, ia_status status,
                           const char *text, const char *code) {
    if (r->n_evs == r->cap_evs) {
        r->cap_evs = r->cap_evs ? r->cap_evs * 2 : 16;
        r->evs = ia_xrealloc(r->evs, r->cap_evs * sizeof *r->evs);
    }
    ia_event *e = &r->evs[r->n_evs];
    memset(e, 0, sizeof *e);
    e->seq = (int64_t)++r->n_evs;
    e->kind = kind;
    e->index = index;
    e->status = status;
    e->ckind = IA_CONTENT_TEXT;
    e->text = ia_strdup(text);
    e->code = ia_strdup(code);
    if (!r->ended) r->n_live = r->n_evs; /* the closing events wait for the record (run.h) */
    pthread_cond_broadcast(&r->cv);
    return e->seq;
}

int64_t ia_run_emit_part_locked(ia_run *r, ia_event_kind kind, int index, ia_content *part) {
    int64_t seq = ia_run_emit_locked(r, kind, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
    r->evs[seq - 1].ckind = part->kind;
    r->evs[seq - 1].part = part;
    return seq;
}

void ia_run_snapshot_locked(ia_run *r, ia_event_kind kind, ia_interaction *out) {
    ia_interaction_copy(out, &r->it);
    if (kind == IA_EV_START) {
        out->status = IA_STATUS_IN_PROGRESS;
        out->has_usage = false;
        ia_turn_free(&out->output);
        out->output.role = IA_ROLE_MODEL;
    }
}

ia_sub *ia_sub_for_run(ia_run *r, int64_t after_seq, bool owner) {
    ia_sub *s = ia_xcalloc(1, sizeof *s);
    ia_run_ref(r);
    s->run = r;
    s->next_seq = after_seq < 0 ? 1 : after_seq + 1;
    s->owner = owner;
    snprintf(s->id, sizeof s->id, "%s", r->it.id);
    return s;
}

ia_sub *ia_sub_for_stored(ia_interaction *it, ia_event *evs, size_t n) {
    ia_sub *s = ia_xcalloc(1, sizeof *s);
    s->stored = *it;
    memset(it, 0, sizeof *it);
    s->evs = evs;
    s->n = n;
    snprintf(s->id, sizeof s->id, "%s", s->stored.id);
    return s;
}

ia_sub *ia_sub_for_tail(ia_store *st, struct ia_lease *wake, const char *owner, ia_interaction *it,
                        ia_event *evs, size_t n, int64_t after_seq) {
    ia_sub *s = ia_sub_for_stored(it, evs, n);
    s->tail = st;
    s->wake = wake;
    s->tail_owner = ia_strdup(owner ? owner : "");
    s->last_seq = after_seq < 0 ? 0 : after_seq;
    return s;
}

const char *ia_sub_id(const ia_sub *s) { return s->id; }

/* A tail with nothing left to replay: the events its run's instance wrote
 * since, looked for in the store when the events notification wakes it
 * (TAIL_RECHECK_MS at the latest, for one missed while the listening
 * connection was down), or every TAIL_POLL_MS without one, within
 * timeout_ms. 1: some came; 0: none yet; -1: the stream is over (its
 * complete event was handed out, or the row ended or went without one, or
 * the store failed). */
#define TAIL_POLL_MS 50
#define TAIL_RECHECK_MS 1000
static int tail_refill(ia_sub *s, int timeout_ms) {
    if (s->ended) return -1;
    int64_t until = ia_mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    for (;;) {
        uint64_t gen = s->wake ? ia_lease_events_gen(s->wake) : 0;
        ia_err err = {0};
        ia_event *evs = NULL;
        size_t n = 0;
        if (ia_store_events(s->tail, s->id, s->last_seq, &evs, &n, &err) != 0) return -1;
        if (n) {
            ia_events_free(s->evs, s->n);
            s->evs = evs;
            s->n = n;
            s->pos = 0;
            return 1;
        }
        /* a row that ended wrote its last events with it: none will come */
        ia_interaction it = {0};
        if (ia_store_get(s->tail, s->id, s->tail_owner, ia_now(), &it, &err) != 0) return -1;
        bool over = it.status != IA_STATUS_IN_PROGRESS;
        ia_interaction_free(&it);
        if (over) {
            if (ia_store_events(s->tail, s->id, s->last_seq, &evs, &n, &err) != 0 || !n) return -1;
            ia_events_free(s->evs, s->n);
            s->evs = evs;
            s->n = n;
            s->pos = 0;
            return 1;
        }
        int64_t left = until - ia_mono_ms();
        if (left <= 0) return 0;
        if (s->wake) {
            ia_lease_events_wait(s->wake, gen, (int)(left < TAIL_RECHECK_MS ? left : TAIL_RECHECK_MS));
        } else {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = TAIL_POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* A tail's complete event describes the row as it ended: read again. */
static void tail_reload(ia_sub *s) {
    ia_interaction it = {0};
    ia_err err = {0};
    if (ia_store_get(s->tail, s->id, s->tail_owner, ia_now(), &it, &err) != 0) return;
    ia_interaction_free(&s->stored);
    s->stored = it;
}

/* The snapshot of the events that describe no interaction (every one but
 * START and COMPLETE): its id only, which is all their frames name. Cheap,
 * since it runs once per token. */
static void light_snapshot(const ia_interaction *it, ia_interaction *snap) {
    memset(snap, 0, sizeof *snap);
    snprintf(snap->id, sizeof snap->id, "%s", it->id);
}

static void deadline_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* How many of r's events a live reader may have (the visibility rule of
 * run.h): all once finalized; before, those appended while it was live,
 * and for a stored run no more than IA_RUN_AHEAD past the store. */
static size_t visible_locked(const ia_run *r) {
    if (r->finalized) return r->n_evs;
    size_t n = r->n_live;
    if (r->store && n > r->n_persisted + IA_RUN_AHEAD) n = r->n_persisted + IA_RUN_AHEAD;
    return n;
}

int ia_sub_next(ia_sub *s, int timeout_ms, ia_event *ev, ia_interaction *snap) {
    memset(ev, 0, sizeof *ev);
    memset(snap, 0, sizeof *snap);
    if (!s->run) {
        if (s->pos >= s->n && !s->tail) return -1;
        if (s->pos >= s->n) {
            int got = tail_refill(s, timeout_ms);
            if (got <= 0) return got;
        }
        const ia_event *src = &s->evs[s->pos++];
        ia_event_copy(ev, src);
        if (s->tail) {
            s->last_seq = src->seq;
            if (src->kind == IA_EV_COMPLETE) {
                s->ended = true;
                tail_reload(s);
            }
        }
        if (src->kind == IA_EV_START || src->kind == IA_EV_COMPLETE) {
            ia_interaction_copy(snap, &s->stored);
            if (src->kind == IA_EV_START) {
                snap->status = IA_STATUS_IN_PROGRESS;
                snap->has_usage = false;
                ia_turn_free(&snap->output);
            }
        } else {
            light_snapshot(&s->stored, snap);
        }
        return 1;
    }
    ia_run *r = s->run;
    pthread_mutex_lock(&r->mu);
    struct timespec until;
    deadline_in(&until, timeout_ms < 0 ? 0 : timeout_ms);
    while ((size_t)s->next_seq > visible_locked(r) && !r->finalized) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) break;
    }
    int rc;
    if ((size_t)s->next_seq <= visible_locked(r)) {
        const ia_event *src = &r->evs[s->next_seq - 1];
        ia_event_copy(ev, src);
        if (src->kind == IA_EV_START || src->kind == IA_EV_COMPLETE)
            ia_run_snapshot_locked(r, src->kind, snap);
        else
            light_snapshot(&r->it, snap);
        s->next_seq++;
        rc = 1;
    } else {
        rc = r->finalized ? -1 : 0;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void ia_sub_close(ia_sub *s) {
    if (!s) return;
    if (s->run) {
        ia_run *r = s->run;
        if (s->owner) {
            pthread_mutex_lock(&r->mu);
            bool early = !r->ended && r->cancel_on_close;
            pthread_mutex_unlock(&r->mu);
            /* The client of a plain streaming create left: nobody will read
             * the rest, so stop generating (a background run goes on). */
            if (early) atomic_store(&r->cancel, true);
        }
        ia_run_unref(r);
    } else {
        ia_interaction_free(&s->stored);
        ia_events_free(s->evs, s->n);
        free(s->tail_owner);
    }
    free(s);
}

/* ---- the parsed output of a turn ------------------------------------------- */

/* A fresh call id: "call_" + 24 hex digits, unique across interactions. */
static void new_call_id(char out[32]) {
    unsigned char b[12];
    if (ia_random(b, sizeof b) != 0) memset(b, 0, sizeof b);
    strcpy(out, "call_");
    for (size_t i = 0; i < sizeof b; i++) snprintf(out + 5 + 2 * i, 3, "%02x", b[i]);
}

/* The built-in tool a call names, among those offered; NONE for a client
 * function. An mcp_server's tool is offered under its own function name
 * (tools/mcp.h): *mcp is then its offer and *server the server's name. */
static ia_builtin builtin_named(const ia_builtin_tool *b, size_t n, const char *name, const ia_mcp_offer **mcp,
                                const char **server) {
    *mcp = NULL;
    for (size_t i = 0; name && i < n; i++) {
        for (size_t k = 0; k < b[i].n_offers; k++)
            if (strcmp(b[i].offers[k].fn, name) == 0) {
                *mcp = &b[i].offers[k];
                *server = b[i].name;
                return b[i].type;
            }
        if (b[i].type != IA_BUILTIN_MCP_SERVER && strcmp(ia_builtin_name(b[i].type), name) == 0) return b[i].type;
    }
    return IA_BUILTIN_NONE;
}

/* A fresh part of the given kind (a content event's payload, types.h). */
static ia_content *new_part(ia_content_kind kind) {
    ia_content *p = ia_xcalloc(1, sizeof *p);
    p->kind = kind;
    return p;
}

/* One thought event at index: its start, a delta whose field ("summary"
 * or "signature") is value, or its stop. */
static void emit_thought_locked(ia_run *r, ia_event_kind kind, int index, const char *field, const char *value) {
    if (kind == IA_EV_CONTENT_STOP) {
        ia_run_emit_locked(r, kind, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
        return;
    }
    ia_content *p = new_part(IA_CONTENT_THOUGHT);
    if (field && strcmp(field, "signature") == 0) p->signature = ia_strdup(value ? value : "");
    else if (field) p->text = ia_strdup(value ? value : "");
    ia_run_emit_part_locked(r, kind, index, p);
}

/* google_search's call names the kind of search the request asked for:
 * web_search unless it named only others. */
static const char *search_type_of(const ia_builtin_tool *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (b[i].type != IA_BUILTIN_GOOGLE_SEARCH) continue;
        unsigned t = b[i].search_types;
        return !t || (t & IA_SEARCH_WEB) ? "web_search" : (t & IA_SEARCH_IMAGE) ? "image_search" : "enterprise_web_search";
    }
    return NULL;
}

/* The text's citations from the google_search results among the outputs
 * so far (tools/cite.h), onto its item and streamed as one more delta of
 * its block (a part with a copy of them). */
static void emit_cites_locked(ia_run *r, ia_content *item, int index) {
    item->annotations = ia_cite_answer(item->text, &r->parsed_out, &item->n_annotations);
    if (!item->n_annotations) return;
    ia_content *p = new_part(IA_CONTENT_TEXT);
    p->annotations = ia_annotations_copy(item->annotations, item->n_annotations);
    p->n_annotations = item->n_annotations;
    ia_run_emit_part_locked(r, IA_EV_CONTENT_DELTA, index, p);
}

/* A client function's call: content.start with its id and name, one delta
 * with the whole call, content.stop. */
static void emit_call_locked(ia_run *r, int index, const char *id, const char *name, const char *args) {
    ia_content *p = new_part(IA_CONTENT_FUNCTION_CALL);
    p->id = ia_strdup(id);
    p->name = ia_strdup(name ? name : "");
    ia_content *d = ia_content_dup(p);
    d->text = ia_strdup(args);
    ia_run_emit_part_locked(r, IA_EV_CONTENT_START, index, p);
    ia_run_emit_part_locked(r, IA_EV_CONTENT_DELTA, index, d);
    ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
}

/* A call item of the engine: a built-in tool's among builtins as a
 * TOOL_CALL output, any other as a client's FUNCTION_CALL, under a fresh
 * "call_" id (the model's own ids are not unique across turns). */
static void add_call_locked(ia_run *r, int index, const ia_engine_call *call, const ia_builtin_tool *builtins,
                            size_t n_builtins) {
    char id[32];
    new_call_id(id);
    const char *args = call->arguments ? call->arguments : "{}";
    const ia_mcp_offer *mcp;
    const char *server = NULL;
    ia_builtin b = builtin_named(builtins, n_builtins, call->name, &mcp, &server);
    if (b != IA_BUILTIN_NONE) {
        ia_content item = {.kind = IA_CONTENT_TOOL_CALL, .tool = b, .id = id, .text = (char *)args,
                           .search_type = (char *)(b == IA_BUILTIN_GOOGLE_SEARCH ? search_type_of(builtins, n_builtins)
                                                                                 : NULL),
                           .name = mcp ? mcp->tool : NULL, .server_name = (char *)server};
        ia_run_emit_item_locked(r, &item);
        r->step_builtin++;
        return;
    }
    ia_turn_add_call(&r->parsed_out, id, call->name, args);
    emit_call_locked(r, index, id, call->name, args);
    r->step_client++;
}

/* Opens a thought or text block at the next output index. A thought whose
 * summary is hidden sends its content.start only as it ends. */
static void open_item_locked(ia_run *r, ia_item_kind kind) {
    r->open_kind = (int)kind;
    r->open_index = (int)r->parsed_out.n;
    r->open_sent = kind == IA_ITEM_TEXT || !r->hide_summary;
    ia_buf_free(&r->open_text);
    ia_buf_init(&r->open_text, 0);
    if (!r->open_sent) return;
    if (kind == IA_ITEM_THOUGHT) emit_thought_locked(r, IA_EV_CONTENT_START, r->open_index, NULL, NULL);
    else ia_run_emit_locked(r, IA_EV_CONTENT_START, r->open_index, IA_STATUS_IN_PROGRESS, "", NULL);
}

/* Ends the open block: a thought sealed (a cut one, of a run cancelled or
 * failed while it thought, closes without a signature on the stream, as
 * it is not the whole reasoning; the stored item is sealed all the same,
 * so it can be sent back), a text with its citations. */
static void end_open_locked(ia_run *r, const uint8_t key[IA_THOUGHT_KEY_LEN], bool cut) {
    if (r->open_kind < 0) return;
    const char *t = r->open_text.data ? r->open_text.data : "";
    int index = r->open_index;
    if (r->open_kind == IA_ITEM_THOUGHT) {
        /* the reasoning whole: its signature seals it (thought.h) */
        char *sig = ia_thought_seal(key, t);
        if (!r->open_sent) emit_thought_locked(r, IA_EV_CONTENT_START, index, NULL, NULL);
        if (!cut) emit_thought_locked(r, IA_EV_CONTENT_DELTA, index, "signature", sig ? sig : "");
        emit_thought_locked(r, IA_EV_CONTENT_STOP, index, NULL, NULL);
        ia_turn_add_thought(&r->parsed_out, t, sig ? sig : "", r->hide_summary);
        free(sig);
    } else {
        ia_turn_add_text(&r->parsed_out, t, r->open_text.len);
        emit_cites_locked(r, &r->parsed_out.items[r->parsed_out.n - 1], index);
        ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
        r->step_text = true;
    }
    r->open_kind = -1;
    ia_buf_free(&r->open_text);
    ia_buf_init(&r->open_text, 0);
}

void ia_run_item_locked(ia_run *r, const ia_engine_item *it, const uint8_t key[IA_THOUGHT_KEY_LEN],
                        const ia_builtin_tool *builtins, size_t n_builtins) {
    if (r->ended) return;
    if (it->kind == IA_ITEM_CALL) {
        end_open_locked(r, key, false);
        add_call_locked(r, (int)r->parsed_out.n, it->call, builtins, n_builtins);
        return;
    }
    if (it->len) {
        if (r->open_kind != (int)it->kind) {
            end_open_locked(r, key, false);
            open_item_locked(r, it->kind);
        }
        ia_buf_append(&r->open_text, it->delta, it->len);
        if (it->kind == IA_ITEM_TEXT)
            ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, r->open_index, IA_STATUS_IN_PROGRESS, r->open_text.data +
                               r->open_text.len - it->len, NULL);
        else if (r->open_sent)
            emit_thought_locked(r, IA_EV_CONTENT_DELTA, r->open_index, "summary",
                                r->open_text.data + r->open_text.len - it->len);
    }
    if (it->end && r->open_kind == (int)it->kind) end_open_locked(r, key, it->cut);
}

void ia_run_step_end_locked(ia_run *r, const uint8_t key[IA_THOUGHT_KEY_LEN], bool answered) {
    end_open_locked(r, key, !answered);
    if (r->open_media >= 0) { /* cut while streamed (outputs.c did not close it) */
        ia_run_emit_locked(r, IA_EV_CONTENT_STOP, r->open_media, IA_STATUS_IN_PROGRESS, NULL, NULL);
        r->open_media = -1;
    }
    if (!answered || r->step_text || r->step_client || r->step_builtin) return;
    /* A completed (or incomplete) turn always carries one text output,
     * even an empty one (a model may end at once): clients read
     * `outputs[-1].text`, and one rebuilding it from the stream must find
     * it there too. */
    int index = (int)r->parsed_out.n;
    ia_turn_add_text(&r->parsed_out, "", 0);
    ia_run_emit_locked(r, IA_EV_CONTENT_START, index, IA_STATUS_IN_PROGRESS, "", NULL);
    ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
    r->step_text = true;
}

/* A built-in tool's item as its events' part: the whole item, less what
 * the model read of it (`fetched`, never on the wire). */
static ia_content *tool_part(const ia_content *item) {
    ia_content *p = ia_content_dup(item);
    free(p->fetched);
    p->fetched = NULL;
    free(p->path);
    p->path = NULL;
    return p;
}

void ia_run_emit_item_locked(ia_run *r, const ia_content *item) {
    ia_turn *out = &r->parsed_out;
    out->role = IA_ROLE_MODEL;
    ia_turn one = {.role = IA_ROLE_MODEL, .items = (ia_content *)item, .n = 1}, copy;
    ia_turn_copy(&copy, &one);
    out->items = ia_xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    out->items[out->n++] = copy.items[0];
    free(copy.items);
    int index = (int)out->n - 1;
    ia_run_emit_part_locked(r, IA_EV_CONTENT_START, index, tool_part(item));
    ia_run_emit_part_locked(r, IA_EV_CONTENT_DELTA, index, tool_part(item));
    ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
}

void ia_run_next_step_locked(ia_run *r) {
    r->base_index = (int)r->parsed_out.n;
    r->started = false; /* until the engine takes this step (a cancel before ends it at once) */
    r->open_kind = -1;
    r->step_text = false;
    r->step_client = r->step_builtin = 0;
    ia_buf_free(&r->open_text);
    ia_buf_init(&r->open_text, 0);
}
