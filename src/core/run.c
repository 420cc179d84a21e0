/* run: the in-memory state of one interaction being generated — its event
 * log and the subscriptions that read it (contract in run.h and, for
 * ia_sub_*, core.h). A subscription is either live (a reference on a run,
 * reading its log by seq and sleeping on its condvar) or stored (events
 * loaded from the store for an interaction that has ended). Both yield the
 * same events, so a client cannot tell a replay from a live stream. */
#include "core/run.h"

#include <jansson.h>
#include <stdio.h>

#include "core/loop.h"
#include "core/outtok.h"
#include "core/thought.h"
#include "lib/log.h"

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
};

ia_run *ia_run_new(void) {
    ia_run *r = ia_xcalloc(1, sizeof *r);
    atomic_init(&r->refs, 1);
    atomic_init(&r->cancel, false);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    ia_buf_init(&r->text, 0);
    ia_buf_init(&r->live_r, 0);
    ia_buf_init(&r->live_text, 0);
    return r;
}

void ia_run_ref(ia_run *r) { atomic_fetch_add(&r->refs, 1); }

void ia_run_unref(ia_run *r) {
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    ia_interaction_free(&r->it);
    ia_buf_free(&r->text);
    ia_buf_free(&r->live_r);
    ia_buf_free(&r->live_text);
    free(r->live_sig);
    ia_turn_free(&r->parsed_out);
    ia_loop_free(r->loop);
    ia_annotations_free(r->cites, r->n_cites);
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

void ia_run_snapshot_locked(ia_run *r, ia_event_kind kind, ia_interaction *out) {
    ia_interaction_copy(out, &r->it);
    if (kind == IA_EV_START) {
        out->status = IA_STATUS_IN_PROGRESS;
        out->has_usage = false;
        ia_turn_free(&out->output);
        out->output.role = IA_ROLE_MODEL;
    }
}

static void event_copy(ia_event *dst, const ia_event *src) {
    *dst = *src;
    dst->text = ia_strdup(src->text);
    dst->code = ia_strdup(src->code);
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

const char *ia_sub_id(const ia_sub *s) { return s->id; }

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
        if (s->pos >= s->n) return -1;
        const ia_event *src = &s->evs[s->pos++];
        event_copy(ev, src);
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
        event_copy(ev, src);
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

/* One thought event (a thought is always a step's first output). */
static void emit_thought_locked(ia_run *r, ia_event_kind kind, const char *field, const char *value) {
    char *dt = NULL;
    if (field) {
        json_t *d = json_pack("{s:s}", field, value);
        dt = json_dumps(d, JSON_COMPACT);
        json_decref(d);
    }
    int64_t seq = ia_run_emit_locked(r, kind, r->base_index, IA_STATUS_IN_PROGRESS,
                                     kind == IA_EV_CONTENT_START ? "{}" : dt, NULL);
    if (kind != IA_EV_CONTENT_STOP) r->evs[seq - 1].ckind = IA_CONTENT_THOUGHT;
    free(dt);
}

/* Signature and stop of the thought (its start first if not yet sent);
 * sig: the seal of the whole reasoning. */
static void seal_thought_locked(ia_run *r, const char *sig) {
    if (r->thought_state == 0) emit_thought_locked(r, IA_EV_CONTENT_START, NULL, NULL);
    emit_thought_locked(r, IA_EV_CONTENT_DELTA, "signature", sig);
    emit_thought_locked(r, IA_EV_CONTENT_STOP, NULL, NULL);
    r->thought_state = 2;
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

/* The answer's citations (r->cites, the loop's) onto its text item, and
 * streamed as one more delta of its block: [{url, title?, start, end}]. */
static void emit_cites_locked(ia_run *r, ia_content *item, int index) {
    if (!r->n_cites) return;
    item->annotations = r->cites;
    item->n_annotations = r->n_cites;
    r->cites = NULL;
    r->n_cites = 0;
    json_t *a = json_array();
    for (size_t i = 0; i < item->n_annotations; i++) {
        const ia_annotation *n = &item->annotations[i];
        json_t *o = json_pack("{s:s, s:I, s:I}", "url", n->url, "start", (json_int_t)n->start, "end", (json_int_t)n->end);
        if (n->title) json_object_set_new(o, "title", json_string(n->title));
        json_array_append_new(a, o);
    }
    char *j = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, index, IA_STATUS_IN_PROGRESS, j, IA_EV_ANNOTATIONS);
    free(j);
}

/* The part of final beyond what was passed on live (all of it when nothing
 * was); NULL when final no longer starts with it (the partial parses
 * disagreed with the final one: what was sent stands, the store keeps the
 * final text). */
static const char *rest_of(const ia_buf *sent, const char *final, const char *what, const char *id) {
    if (!sent->len) return final;
    if (strlen(final) >= sent->len && memcmp(final, sent->data, sent->len) == 0) return final + sent->len;
    ia_warn("interaction %s: the %s streamed live differs from the final parse's", id, what);
    return NULL;
}

void ia_run_live_locked(ia_run *r, ia_parsed_kind kind, const char *delta, size_t len,
                        const uint8_t key[IA_THOUGHT_KEY_LEN]) {
    if (r->ended || !r->hold_text || !len) return;
    char *piece = ia_xmalloc(len + 1); /* a NUL byte would cut the text short (see on_text) */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (delta[i]) piece[n++] = delta[i];
    piece[n] = '\0';
    if (n && kind == IA_PARSED_REASONING && r->thought_state < 2 && !r->content_open) {
        ia_buf_append(&r->live_r, piece, n);
        if (!r->hide_summary) {
            if (r->thought_state == 0) emit_thought_locked(r, IA_EV_CONTENT_START, NULL, NULL);
            r->thought_state = 1;
            emit_thought_locked(r, IA_EV_CONTENT_DELTA, "summary", piece);
        }
    } else if (n && kind == IA_PARSED_CONTENT) {
        if (!r->content_open) {
            /* the reasoning is whole once text follows it: seal it now,
             * so the thought precedes the text as at the end */
            if (r->live_r.len && r->thought_state < 2) {
                r->live_sig = ia_thought_seal(key, r->live_r.data);
                seal_thought_locked(r, r->live_sig ? r->live_sig : "");
            }
            r->open_index = r->base_index + (r->thought_state == 2 ? 1 : 0);
            ia_run_emit_locked(r, IA_EV_CONTENT_START, r->open_index, IA_STATUS_IN_PROGRESS, "", NULL);
            r->content_open = true;
        }
        ia_buf_append(&r->live_text, piece, n);
        ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, r->open_index, IA_STATUS_IN_PROGRESS, piece, NULL);
    }
    free(piece);
}

void ia_run_close_live_locked(ia_run *r) {
    if (r->thought_state == 1) {
        emit_thought_locked(r, IA_EV_CONTENT_STOP, NULL, NULL);
        r->thought_state = 2;
    }
}

/* The parsed output of a turn with tools, as items and as events: its text
 * (one block; also an empty one when nothing else came, as for any
 * completed turn), then each call as content.start / one delta with the
 * whole arguments / content.stop. A call's events carry {"id","name",
 * "arguments"} as their text (api/ reads it). Returns the number of calls. */
size_t ia_run_emit_parsed(ia_run *r, const ia_engine_result *res, const uint8_t key[IA_THOUGHT_KEY_LEN],
                          const ia_builtin_tool *builtins, size_t n_builtins, size_t *n_builtin) {
    if (n_builtin) *n_builtin = 0;
    pthread_mutex_lock(&r->mu);
    if (r->ended) {
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    ia_turn *out = &r->parsed_out;
    out->role = IA_ROLE_MODEL;
    int index = r->base_index;
    if (res->reasoning && *res->reasoning) {
        /* the thought first: its summary (the reasoning itself, unless the
         * client asked for none) and the signature that seals it; what
         * live parsing sent already is not sent again */
        bool same = r->live_sig && strcmp(r->live_r.data, res->reasoning) == 0;
        if (r->live_sig && !same)
            ia_warn("interaction %s: the reasoning sealed live differs from the final parse's", r->it.id);
        char *sig = same ? ia_strdup(r->live_sig) : ia_thought_seal(key, res->reasoning);
        ia_turn_add_thought(out, res->reasoning, sig ? sig : "", r->hide_summary);
        if (r->thought_state < 2) {
            const char *rest = rest_of(&r->live_r, res->reasoning, "reasoning", r->it.id);
            if (r->thought_state == 0) emit_thought_locked(r, IA_EV_CONTENT_START, NULL, NULL);
            r->thought_state = 1;
            if (!r->hide_summary && rest && *rest) emit_thought_locked(r, IA_EV_CONTENT_DELTA, "summary", rest);
            seal_thought_locked(r, sig ? sig : "");
        }
        free(sig);
        index++;
        r->it.usage.thought += res->n_thought;
    } else if (r->thought_state > 0) {
        /* The final parse found no reasoning, but a thought was streamed
         * (and sealed, if text followed it): it stays an output, as sent,
         * so every event's index is its item's place in the outputs. */
        ia_run_close_live_locked(r);
        char *sig = r->live_sig ? ia_strdup(r->live_sig) : ia_thought_seal(key, r->live_r.data ? r->live_r.data : "");
        ia_turn_add_thought(out, r->live_r.data ? r->live_r.data : "", sig ? sig : "", r->hide_summary);
        free(sig);
        index++;
    }
    const char *text = res->content ? res->content : "";
    if (r->content_open) { /* the text streamed live: its rest, and its stop */
        ia_turn_add_text(out, text, strlen(text));
        const char *rest = rest_of(&r->live_text, text, "text", r->it.id);
        if (rest && *rest) ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, r->open_index, IA_STATUS_IN_PROGRESS, rest, NULL);
        emit_cites_locked(r, &out->items[out->n - 1], r->open_index);
        ia_run_emit_locked(r, IA_EV_CONTENT_STOP, r->open_index, IA_STATUS_IN_PROGRESS, NULL, NULL);
        index = r->open_index + 1;
    } else if (*text || res->n_calls == 0) {
        ia_turn_add_text(out, text, strlen(text));
        ia_run_emit_locked(r, IA_EV_CONTENT_START, index, IA_STATUS_IN_PROGRESS, "", NULL);
        if (*text) ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, index, IA_STATUS_IN_PROGRESS, text, NULL);
        emit_cites_locked(r, &out->items[out->n - 1], index);
        ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
        index++;
    }
    size_t n_client = 0;
    for (size_t i = 0; i < res->n_calls; i++, index++) {
        char id[32];
        new_call_id(id);
        const char *args = res->calls[i].arguments ? res->calls[i].arguments : "{}";
        const ia_mcp_offer *mcp;
        const char *server = NULL;
        ia_builtin b = builtin_named(builtins, n_builtins, res->calls[i].name, &mcp, &server);
        if (b != IA_BUILTIN_NONE) {
            ia_content item = {.kind = IA_CONTENT_TOOL_CALL, .tool = b, .id = id, .text = (char *)args,
                               .search_type = (char *)(b == IA_BUILTIN_GOOGLE_SEARCH
                                                           ? search_type_of(builtins, n_builtins) : NULL),
                               .name = mcp ? mcp->tool : NULL, .server_name = (char *)server};
            ia_run_emit_item_locked(r, &item);
            if (n_builtin) (*n_builtin)++;
            continue;
        }
        n_client++;
        ia_turn_add_call(out, id, res->calls[i].name, args);
        json_t *head = json_pack("{s:s, s:s}", "id", id, "name", res->calls[i].name ? res->calls[i].name : "");
        char *h = json_dumps(head, JSON_COMPACT);
        json_object_set_new(head, "arguments", json_string(args));
        char *full = json_dumps(head, JSON_COMPACT);
        json_decref(head);
        int64_t seq = ia_run_emit_locked(r, IA_EV_CONTENT_START, index, IA_STATUS_IN_PROGRESS, h, NULL);
        r->evs[seq - 1].ckind = IA_CONTENT_FUNCTION_CALL;
        seq = ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, index, IA_STATUS_IN_PROGRESS, full, NULL);
        r->evs[seq - 1].ckind = IA_CONTENT_FUNCTION_CALL;
        ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
        free(h);
        free(full);
    }
    r->parsed = true;
    r->step_parsed = true;
    r->content_open = false;
    pthread_mutex_unlock(&r->mu);
    return n_client;
}

/* The neutral JSON of a built-in tool's item (types.h, above ia_event). */
static char *tool_item_json(const ia_content *c) {
    bool call = c->kind == IA_CONTENT_TOOL_CALL;
    json_t *o = json_object();
    json_object_set_new(o, "tool", json_string(ia_builtin_name(c->tool)));
    json_object_set_new(o, call ? "id" : "call_id", json_string(c->id ? c->id : ""));
    if (c->name) json_object_set_new(o, "name", json_string(c->name));
    if (c->server_name) json_object_set_new(o, "server_name", json_string(c->server_name));
    if (call && c->search_type) json_object_set_new(o, "search_type", json_string(c->search_type));
    json_t *v = json_loads(c->text ? c->text : "", JSON_DECODE_ANY, NULL);
    json_object_set_new(o, call ? "arguments" : "result", v ? v : call ? json_object() : json_null());
    if (!call) json_object_set_new(o, "is_error", json_boolean(c->is_error));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
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
    char *j = tool_item_json(item);
    int64_t seq = ia_run_emit_locked(r, IA_EV_CONTENT_START, index, IA_STATUS_IN_PROGRESS, j, NULL);
    r->evs[seq - 1].ckind = item->kind;
    seq = ia_run_emit_locked(r, IA_EV_CONTENT_DELTA, index, IA_STATUS_IN_PROGRESS, j, NULL);
    r->evs[seq - 1].ckind = item->kind;
    ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
    free(j);
    r->parsed = true;
}

void ia_run_next_step_locked(ia_run *r) {
    r->base_index = (int)r->parsed_out.n;
    r->started = false; /* until the engine takes this step (a cancel before ends it at once) */
    r->step_parsed = false;
    r->thought_state = 0;
    r->content_open = false;
    ia_buf_free(&r->live_r);
    ia_buf_free(&r->live_text);
    ia_buf_free(&r->text);
    free(r->live_sig);
    r->live_sig = NULL;
}
