/* core: the interaction service (contract in core.h). It turns a decoded
 * request into a run — the chain rebuilt from the store, the conversation
 * handed to the engine of the named model — and keeps the run's life in one
 * place: the in_progress row written before generation starts (so a crash
 * leaves a row that recovery turns into `failed`), the events appended as
 * the engine produces text, and one finalization that sets the terminal
 * status; the core's writer thread (writer.c) persists the events as they
 * come and the record with the rest of its log in one store transaction,
 * off the engine thread. Blocking, background and streaming creates differ
 * only in how the caller waits. A sweeper thread deletes expired
 * interactions. */
#include "core/agent.h"
#include "core/core_int.h"
#include "core/lease.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/files.h"
#include "core/fs_tool.h"
#include "speech/speech.h"
#include "speech/tts.h"
#include "core/media.h"
#include "core/outtok.h"
#include "core/prompt.h"
#include "core/loop.h"
#include "core/run.h"
#include "core/thought.h"
#include "lib/log.h"
#include "lib/util.h"
#include "upstream/upstream.h"

#include <stdio.h>

#define CHAIN_MAX 100000      /* a longer chain is a loop, not a conversation */
#define CANCEL_GRACE_MS 2000  /* how long cancel waits for the engine to stop */
#define WAIT_TICK_MS 250      /* how often a blocking create asks whether its client left */
#define RETENTION_MAX_S ((int64_t)100 * 366 * 86400)
_Static_assert(IA_CORE_FLUSH_EVERY < IA_RUN_AHEAD && IA_RUN_AHEAD < IA_STORE_RECOVER_SEQ_GAP,
               "recovery gap must cover what readers may see ahead of the store");

/* ---- the run table --------------------------------------------------------- */

void ia_core_table_add(ia_core *c, ia_run *r) {
    pthread_mutex_lock(&c->mu);
    ia_run_ref(r);
    r->next = c->runs;
    c->runs = r;
    pthread_mutex_unlock(&c->mu);
}

void ia_core_table_remove(ia_core *c, ia_run *r) {
    pthread_mutex_lock(&c->mu);
    for (ia_run **p = &c->runs; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            r->next = NULL;
            pthread_cond_broadcast(&c->cv);
            pthread_mutex_unlock(&c->mu);
            ia_run_unref(r);
            return;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

ia_run *ia_core_table_find_id(ia_core *c, const char *id) {
    ia_run *found = NULL;
    pthread_mutex_lock(&c->mu);
    for (ia_run *r = c->runs; r; r = r->next) {
        if (r->store && strcmp(r->it.id, id) == 0) {
            ia_run_ref(r);
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* A live, stored run with this id visible to owner, referenced; or NULL. */
static ia_run *table_find(ia_core *c, const char *owner, const char *id) {
    ia_run *found = NULL;
    pthread_mutex_lock(&c->mu);
    for (ia_run *r = c->runs; r; r = r->next) {
        if (r->store && strcmp(r->it.id, id) == 0 && strcmp(r->it.owner, owner) == 0) {
            ia_run_ref(r);
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* ---- finalization ------------------------------------------------------------ */

/* Sets the terminal status, emits the closing events and hands the run to
 * the writer, which persists it and only then finalizes it (core_int.h).
 * Idempotent: the first caller (engine's on_done, a tool step, or a cancel
 * that stopped waiting) wins. */
void ia_core_finalize(ia_core *c, ia_run *r, ia_status status, const ia_err *err, int64_t n_prompt,
                      int64_t n_output) {
    pthread_mutex_lock(&r->mu);
    if (r->ended) {
        pthread_mutex_unlock(&r->mu);
        return;
    }
    /* what the engine still had open (a cancel or shutdown that did not
     * wait for it) ends here; an answer always has a text (run.h) */
    ia_run_step_end_locked(r, c->thought_key, status == IA_STATUS_COMPLETED || status == IA_STATUS_INCOMPLETE);
    r->ended = true; /* nothing more is appended; what follows is hidden until finalized (run.h) */
    ia_interaction *it = &r->it;
    it->status = status;
    it->updated = ia_now();
    ia_turn_free(&it->output);
    ia_turn_copy(&it->output, &r->parsed_out);
    it->output.role = IA_ROLE_MODEL;
    it->has_usage = true;
    if (n_prompt >= 0) it->usage.input = n_prompt;
    if (n_output >= 0) it->usage.output = n_output - it->usage.thought; /* thoughts are counted apart */
    if (n_output >= 0) it->usage.output += it->usage.output_audio; /* speech made after the text (outputs.c) */
    if (status == IA_STATUS_FAILED) {
        const char *msg = err && err->msg[0] ? err->msg : "generation failed";
        free(it->error);
        it->error = ia_strdup(msg);
        r->err_code = err && err->code != IA_OK ? err->code : IA_EINTERNAL;
        /* Kept with the record, so a later GET (also after a restart)
         * reports the code the stream and a blocking create reported. */
        it->error_code = r->err_code;
        ia_run_emit_locked(r, IA_EV_ERROR, 0, status, msg, ia_err_wire_code(r->err_code));
    }
    ia_run_emit_locked(r, IA_EV_STATUS, 0, status, NULL, NULL);
    ia_run_emit_locked(r, IA_EV_COMPLETE, 0, status, NULL, NULL);
    if (r->store) {
        /* copied now: the engine's result dies when on_done returns */
        if (status == IA_STATUS_COMPLETED || status == IA_STATUS_INCOMPLETE)
            r->kept = ia_outtok_take_locked(r, r->done_res);
        ia_writer_push(c->writer, r); /* it writes, takes r out of the table, finalizes */
    } else {
        /* Nothing to write: out of the table, then told (lock order: r->mu,
         * then c->mu). */
        ia_core_table_remove(c, r);
        r->finalized = true;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void ia_core_flush_locked(ia_core *c, ia_run *r) {
    if (!r->store || r->ended || r->n_persisted == r->n_evs) return;
    ia_writer_push(c->writer, r);
}

/* Until the writer has persisted r (or r was unstored) and it is out of the
 * table: what a caller about to answer for an ended run waits for. */
static void wait_finalized(ia_run *r) {
    pthread_mutex_lock(&r->mu);
    while (!r->finalized) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

bool ia_core_stopping(ia_core *c) {
    pthread_mutex_lock(&c->mu);
    bool s = c->stopping;
    pthread_mutex_unlock(&c->mu);
    return s;
}

/* ---- building the conversation --------------------------------------------------- */

static ia_engine *engine_for(ia_core *c, const char *model) {
    for (size_t i = 0; i < c->n_engines; i++)
        if (strcmp(ia_engine_name(c->engines[i]), model) == 0) return c->engines[i];
    return NULL;
}

/* Loads the chain ending at prev_id (oldest first) into conv: each earlier
 * turn's input and output. Also reports the chain's root id. */
static int load_chain(ia_core *c, const char *owner, const char *prev_id, ia_conv *conv,
                      char root[24], ia_outtok_chain *oc, ia_err *err) {
    ia_interaction *chain = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    char own[24];
    if (ia_id_parse(prev_id, root, own) != 0) {
        ia_fail(err, IA_ENOTFOUND, "previous_interaction_id: interaction '%s' not found", prev_id);
        goto done;
    }
    ia_run *live = table_find(c, owner, prev_id);
    if (live) {
        ia_run_unref(live);
        ia_fail(err, IA_EINVALID,
                "previous_interaction_id: interaction '%s' is still in progress; wait for it "
                "to finish (or cancel it) before continuing the conversation",
                prev_id);
        goto done;
    }
    const char *want = prev_id;
    int64_t now = ia_now();
    while (want) {
        if (n == CHAIN_MAX) {
            ia_fail(err, IA_EINVALID, "previous_interaction_id: the chain is too long");
            goto done;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            chain = ia_xrealloc(chain, cap * sizeof *chain);
        }
        ia_err gerr = {0};
        if (ia_store_get(c->store, want, owner, now, &chain[n], &gerr) != 0) {
            if (n == 0 || gerr.code == IA_ENOTFOUND) {
                if (gerr.code == IA_ENOTFOUND)
                    ia_fail(err, IA_ENOTFOUND,
                            n == 0 ? "previous_interaction_id: interaction '%s' not found"
                                   : "previous_interaction_id: an earlier interaction of the "
                                     "chain ('%s') no longer exists",
                            want);
                else
                    *err = gerr;
            } else {
                *err = gerr;
            }
            goto done;
        }
        n++;
        if (n == 1 && chain[0].status == IA_STATUS_IN_PROGRESS) {
            ia_fail(err, IA_EINVALID,
                    "previous_interaction_id: interaction '%s' is still in progress", prev_id);
            goto done;
        }
        want = chain[n - 1].previous_id;
    }
    for (size_t i = n; i-- > 0;) {
        ia_conv_append_copy(conv, &chain[i].input);
        if (chain[i].output.n) {
            ia_turn *t = ia_conv_add_turn(conv, IA_ROLE_MODEL);
            ia_turn_copy(t, &chain[i].output);
            t->role = IA_ROLE_MODEL;
            ia_outtok_chain_add(oc, chain[i].id, &chain[i].output);
        }
    }
    rc = 0;
done:
    for (size_t i = 0; i < n; i++) ia_interaction_free(&chain[i]);
    free(chain);
    return rc;
}

/* Asks the engine to stop r and waits a little for it; if the engine is busy
 * elsewhere (the job still queued), ends the run here — its later on_done
 * finds it ended and only lets go of it. Returns once r is finalized (its
 * record written), so the caller may answer with it, or delete it without
 * the writer writing it again after. */
void ia_core_cancel_run(ia_core *c, ia_run *r) {
    atomic_store(&r->cancel, true);
    pthread_mutex_lock(&r->mu);
    if (!r->started && !r->ended) {
        /* Still queued behind other jobs: nothing to wait for. */
        pthread_mutex_unlock(&r->mu);
        ia_core_finalize(c, r, IA_STATUS_CANCELLED, NULL, -1, 0);
        wait_finalized(r);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CANCEL_GRACE_MS / 1000;
    while (!r->ended)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) break;
    bool done = r->ended;
    int64_t n_out = r->it.usage.output;
    pthread_mutex_unlock(&r->mu);
    if (!done) ia_core_finalize(c, r, IA_STATUS_CANCELLED, NULL, -1, n_out);
    wait_finalized(r);
}

/* ---- the service ----------------------------------------------------------------- */

int ia_core_create(ia_core *c, const char *owner, ia_request *req, ia_interaction *out,
                   ia_sub **sub, ia_err *err) {
    return ia_core_create_ex(c, owner, req, out, sub, NULL, NULL, err);
}

int ia_core_create_ex(ia_core *c, const char *owner, ia_request *req, ia_interaction *out,
                      ia_sub **sub, bool (*gone)(void *ud), void *gone_ud, ia_err *err) {
    int rc = -1;
    ia_conv conv = {0};
    ia_outtok_chain oc = {0}; /* the chain's answers, for their own kept tokens */
    ia_run *r = NULL;
    char root[24] = {0}, own[24];

    if (ia_core_stopping(c)) { /* first: the engines may already be gone */
        ia_fail(err, IA_EOVERLOADED, "the server is shutting down; retry shortly");
        if (err) err->retry_after = 1;
        goto done;
    }
    if (req->agent && ia_agent_setup(c, req, err) != 0) goto done;
    ia_engine *eng = req->model ? engine_for(c, req->model) : NULL;
    /* Image output comes from an upstream engine by model name (a model
     * without one is a 400 naming --upstream); speech from the embedded
     * engine, by its model names or after a text model's answer. A model
     * that only draws or speaks has no engine here: its run is the media
     * step alone (loop.c). */
    if (ia_upstream_check_outputs(c->upstreams, req, err) != 0) goto done;
    const ia_upstream *speech_up = !eng ? ia_upstream_speech_for(c->upstreams, req->model) : NULL;
    const ia_tts *tts = !eng && !speech_up ? ia_tts_find(c->tts, req->model) : NULL;
    bool speaks = speech_up || tts || (req->model && ia_speech_model(req->model));
    bool media_only = !eng && req->model && (((req->modalities & IA_MOD_BIT_IMAGE) &&
                                              ia_upstream_for(c->upstreams, req->model)) || speaks);
    if (!eng && !media_only) {
        ia_buf tn; /* the --speech-model names too */
        ia_buf_init(&tn, 0);
        for (size_t i = 0; c->tts && i < c->tts->n; i++) ia_buf_printf(&tn, ", %s", ia_tts_name(c->tts->v[i]));
        char *tts_names = ia_buf_take(&tn);
        ia_fail(err, IA_ENOTFOUND, "model: '%s' is not served here; served models: %s%s%s%s",
                req->model ? req->model : "", c->names, *c->names ? ", " : "", ia_speech_model_names(),
                tts_names ? tts_names : "");
        free(tts_names);
        goto done;
    }
    unsigned asked = req->modalities; /* echoed as the client sent them */
    if (media_only && speaks) req->modalities |= IA_MOD_BIT_AUDIO;
    /* the embedded engine's voices and languages (an upstream's and a
     * --speech-model's are their own: an unknown voice is the default one) */
    if ((req->modalities & IA_MOD_BIT_AUDIO) && !speech_up && !tts && ia_speech_check(&req->gen.speech, err) != 0)
        goto done;
    if ((req->modalities & IA_MOD_BIT_IMAGE) && (eng || (req->modalities & IA_MOD_BIT_AUDIO))) {
        ia_fail(err, IA_EINVALID, "response_modalities: model '%s' %s; ask it for %s", req->model,
                eng ? "is a local text model, and image output comes from an --upstream of another name"
                    : "draws images and does not speak",
                eng ? "text (or audio)" : "'IMAGE' alone");
        goto done;
    }
    if (media_only && (req->n_tools || req->n_builtins || req->previous_interaction_id)) {
        ia_fail(err, IA_EINVALID, "%s: model '%s' only %s its input; it takes no tools and no earlier turns",
                req->previous_interaction_id ? "previous_interaction_id" : "tools", req->model,
                speaks ? "speaks" : "draws");
        goto done;
    }
    if (!req->store && req->background) {
        ia_fail(err, IA_EINVALID, "background: a background interaction must be stored "
                                  "(store=false cannot be combined with background=true)");
        goto done;
    }
    if (ia_loop_check(c, req, err) != 0) goto done;
    if (ia_loop_list_mcp(c, req, err) != 0) goto done;
    if (ia_fs_tool_check(c->fsearch, owner, req, err) != 0) goto done;
    if (req->previous_interaction_id &&
        load_chain(c, owner, req->previous_interaction_id, &conv, root, &oc, err) != 0)
        goto done;
    if (ia_thought_open_all(c->thought_key, &req->input, err) != 0) goto done;
    if (eng && ia_media_fetch(&c->media, eng, owner, &req->input, err) != 0) goto done;
    ia_conv_append_copy(&conv, &req->input);
    if (ia_prompt_check_results(&conv, err) != 0) goto done;
    if (eng && ia_media_prepare(&c->media, eng, owner, &conv, err) != 0) goto done;

    if (ia_id_new(own) != 0) {
        ia_fail(err, IA_EINTERNAL, "could not draw a random id");
        goto done;
    }
    if (!root[0]) memcpy(root, own, sizeof root);

    r = ia_run_new();
    ia_interaction *it = &r->it;
    ia_id_format(root, own, it->id);
    it->owner = ia_strdup(owner);
    it->model = req->agent ? req->agent : req->model; /* an agent's record names the agent */
    it->agent = req->custom_agent; /* a custom agent's id; model then holds its base */
    req->custom_agent = NULL;
    it->agent_config = req->agent_config;
    req->agent_config = NULL;
    if (req->agent) req->agent = NULL;
    else req->model = NULL;
    it->previous_id = req->previous_interaction_id;
    req->previous_interaction_id = NULL;
    it->system_instruction = req->system_instruction;
    req->system_instruction = NULL;
    ia_gen_config_copy(&it->gen, &req->gen); /* kept for the record; req's drives the engine */
    it->rformat = req->rformat; /* for the record; the engine gets only the grammar */
    it->rformat.modalities = asked;
    memset(&req->rformat, 0, sizeof req->rformat);
    it->status = IA_STATUS_IN_PROGRESS;
    it->created = it->updated = ia_now();
    it->expires = it->created + c->retention_s;
    it->background = req->background;
    it->input = req->input;
    memset(&req->input, 0, sizeof req->input);
    it->output.role = IA_ROLE_MODEL;
    r->store = req->store;
    r->cancel_on_close = req->stream && !req->background;

    pthread_mutex_lock(&r->mu);
    ia_run_emit_locked(r, IA_EV_START, 0, IA_STATUS_IN_PROGRESS, NULL, NULL);
    ia_run_emit_locked(r, IA_EV_STATUS, 0, IA_STATUS_IN_PROGRESS, NULL, NULL);
    pthread_mutex_unlock(&r->mu);

    /* Written before generation starts: a crash from here on leaves a row
     * that the next start-up marks failed, never a silent loss. */
    if (r->store) {
        if (ia_store_put(c->store, it, err) != 0) goto done;
        if (ia_store_append_events(c->store, it->id, r->evs, r->n_evs, err) != 0) {
            ia_store_delete(c->store, it->id, owner, NULL);
            goto done;
        }
        r->n_persisted = r->n_evs;
    }

    /* The run loop takes the conversation and the request's settings. */
    r->loop = ia_loop_new(c, r, eng, owner, &conv, req, &oc);
    ia_core_table_add(c, r);
    if (ia_loop_submit(r->loop, r, err) != 0) {
        ia_core_table_remove(c, r);
        /* The client is told to retry; the row it never saw goes away. */
        if (r->store) ia_store_delete(c->store, it->id, owner, NULL);
        goto done;
    }

    if (req->stream) {
        *sub = ia_sub_for_run(r, 0, true);
    } else if (req->background) {
        pthread_mutex_lock(&r->mu);
        ia_run_snapshot_locked(r, IA_EV_START, out);
        pthread_mutex_unlock(&r->mu);
    } else {
        pthread_mutex_lock(&r->mu);
        while (!r->finalized) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += WAIT_TICK_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT || !gone) continue;
            pthread_mutex_unlock(&r->mu);
            /* Nobody will read the answer (the client left, or the server
             * stops): stop generating instead of finishing for no one. */
            bool left = gone(gone_ud);
            if (left) ia_core_cancel_run(c, r);
            pthread_mutex_lock(&r->mu);
        }
        ia_status st = r->it.status;
        /* A blocking create that failed answers with the error itself; the
         * record is kept (failed, with its message) for a later GET. */
        if (st == IA_STATUS_FAILED && r->it.error) {
            ia_fail(err, r->err_code, "%s", r->it.error);
            pthread_mutex_unlock(&r->mu);
            goto done;
        }
        ia_run_snapshot_locked(r, IA_EV_COMPLETE, out);
        pthread_mutex_unlock(&r->mu);
    }
    rc = 0;
done:
    ia_conv_free(&conv);
    ia_outtok_chain_free(&oc);
    ia_request_free(req);
    ia_run_unref(r);
    return rc;
}

int ia_core_list(ia_core *c, const char *owner, int64_t after_created, const char *after_id, int limit,
                 ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err) {
    return ia_store_list(c->store, owner, ia_now(), after_created, after_id, limit, out, n, next_created, next_id,
                         err);
}

int ia_core_get(ia_core *c, const char *owner, const char *id, ia_interaction *out, ia_err *err) {
    ia_run *r = table_find(c, owner, id);
    if (r) {
        pthread_mutex_lock(&r->mu);
        ia_run_snapshot_locked(r, r->finalized ? IA_EV_COMPLETE : IA_EV_START, out);
        pthread_mutex_unlock(&r->mu);
        ia_run_unref(r);
        return 0;
    }
    if (ia_store_get(c->store, id, owner, ia_now(), out, err) != 0) {
        if (err && err->code == IA_ENOTFOUND) ia_fail(err, IA_ENOTFOUND, "interaction '%s' not found", id);
        return -1;
    }
    return 0;
}

int ia_core_subscribe(ia_core *c, const char *owner, const char *id, int64_t after_seq,
                      ia_sub **sub, ia_err *err) {
    ia_run *r = table_find(c, owner, id);
    if (r) {
        *sub = ia_sub_for_run(r, after_seq, false);
        ia_run_unref(r);
        return 0;
    }
    ia_interaction it = {0};
    if (ia_store_get(c->store, id, owner, ia_now(), &it, err) != 0) {
        if (err && err->code == IA_ENOTFOUND) ia_fail(err, IA_ENOTFOUND, "interaction '%s' not found", id);
        return -1;
    }
    ia_event *evs = NULL;
    size_t n = 0;
    if (ia_store_events(c->store, id, after_seq, &evs, &n, err) != 0) {
        ia_interaction_free(&it);
        return -1;
    }
    /* in_progress but not running here: another instance on a shared
     * store runs it; its events are followed through the store */
    if (it.status == IA_STATUS_IN_PROGRESS && ia_store_shared(c->store))
        *sub = ia_sub_for_tail(c->store, c->lease, owner, &it, evs, n, after_seq);
    else
        *sub = ia_sub_for_stored(&it, evs, n);
    return 0;
}

int ia_core_cancel(ia_core *c, const char *owner, const char *id, ia_interaction *out,
                   ia_err *err) {
    ia_run *r = table_find(c, owner, id);
    if (r) {
        ia_core_cancel_run(c, r);
        pthread_mutex_lock(&r->mu);
        ia_run_snapshot_locked(r, IA_EV_COMPLETE, out);
        pthread_mutex_unlock(&r->mu);
        ia_run_unref(r);
        return 0;
    }
    if (ia_core_get(c, owner, id, out, err) != 0) return -1;
    /* Not running here yet in_progress in the store: another instance on
     * a shared store runs it (or ran it, and died) */
    if (out->status == IA_STATUS_IN_PROGRESS && ia_store_shared(c->store)) {
        ia_interaction_free(out);
        return ia_lease_cancel_remote(c, c->lease_ms, owner, id, out, err);
    }
    return 0;
}

int ia_core_delete(ia_core *c, const char *owner, const char *id, ia_err *err) {
    ia_run *r = table_find(c, owner, id);
    if (r) {
        ia_core_cancel_run(c, r);
        ia_run_unref(r);
    } else if (ia_store_shared(c->store)) {
        /* a run on another instance is cancelled there first, as here: it
         * would write its row back as it ends */
        ia_interaction it = {0};
        if (ia_core_cancel(c, owner, id, &it, err) != 0) return -1;
        ia_interaction_free(&it);
    }
    if (ia_store_delete(c->store, id, owner, err) != 0) {
        if (err && err->code == IA_ENOTFOUND) ia_fail(err, IA_ENOTFOUND, "interaction '%s' not found", id);
        return -1;
    }
    return 0;
}

const char *ia_core_model_names(const ia_core *c) { return c->names; }

size_t ia_core_n_engines(const ia_core *c) { return c->n_engines; }

ia_engine *ia_core_engine(const ia_core *c, size_t i) { return i < c->n_engines ? c->engines[i] : NULL; }

const struct ia_upstreams *ia_core_upstreams(const ia_core *c) { return c->upstreams; }

const struct ia_tts_set *ia_core_tts(const ia_core *c) { return c->tts; }
const struct ia_embed_set *ia_core_embed(const ia_core *c) { return c->embed; }

/* ---- retention --------------------------------------------------------------------- */

static void *sweeper_main(void *arg) {
    ia_core *c = arg;
    pthread_mutex_lock(&c->sweep_mu);
    while (!c->sweep_stop) {
        pthread_mutex_unlock(&c->sweep_mu);
        ia_err err = {0};
        int n = ia_store_sweep(c->store, ia_now(), &err);
        if (n > 0) ia_info("retention: deleted %d expired interaction(s)", n);
        if (n < 0) ia_warn("retention: sweep failed: %s", err.msg);
        if (c->files) ia_files_sweep(c->files, ia_now()); /* logs itself */
        pthread_mutex_lock(&c->sweep_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += c->sweep_interval_s;
        while (!c->sweep_stop)
            if (pthread_cond_timedwait(&c->sweep_cv, &c->sweep_mu, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&c->sweep_mu);
    return NULL;
}

ia_core *ia_core_new(const ia_core_opts *opts, ia_err *err) {
    ia_core *c = ia_xcalloc(1, sizeof *c);
    c->store = opts->store;
    c->files = opts->files;
    c->fsearch = opts->fsearch;
    c->media = opts->media;
    c->media.files = opts->files;
    c->n_engines = opts->n_engines;
    c->engines = ia_xcalloc(opts->n_engines ? opts->n_engines : 1, sizeof *c->engines);
    ia_buf names;
    ia_buf_init(&names, 0);
    for (size_t i = 0; i < opts->n_engines; i++) {
        c->engines[i] = opts->engines[i];
        ia_buf_printf(&names, "%s%s", i ? ", " : "", ia_engine_name(opts->engines[i]));
    }
    c->names = ia_buf_take(&names);
    if (!c->names) c->names = ia_strdup("");
    c->retention_s = opts->retention_s > 0 ? opts->retention_s : 55 * 86400;
    if (c->retention_s > RETENTION_MAX_S) c->retention_s = RETENTION_MAX_S; /* no overflow in created + retention */
    c->sweep_interval_s = opts->sweep_interval_s > 0 ? opts->sweep_interval_s : 3600;
    c->max_steps = opts->max_steps > 0 ? opts->max_steps : 10;
    c->max_run_s = opts->max_run_s > 0 ? opts->max_run_s : 600;
    c->lease_ms = (int64_t)(opts->lease_s > 0 ? opts->lease_s : IA_STORE_LEASE_DEFAULT_MS / 1000) * 1000;
    ia_store_set_lease(c->store, c->lease_ms);
    c->flush_every = ia_store_shared(c->store) ? 1 : IA_CORE_FLUSH_EVERY;
    c->agent_model = opts->agent_model ? ia_strdup(opts->agent_model) : NULL;
    c->agent_max_steps = opts->agent_max_steps > 0 ? opts->agent_max_steps : 30;
    c->tools.sandbox = opts->sandbox;
    c->tools.code_max_chars = opts->code_max_chars;
    c->tools.fetch = (ia_fetch_opts){.max_bytes = opts->url_max_bytes ? opts->url_max_bytes : (size_t)10 << 20,
                                     .timeout_ms = opts->media.timeout_ms,
                                     .allow_private = opts->media.allow_private,
                                     .allow_addrs = opts->media.allow_addrs};
    c->tools.search = opts->search;
    c->tools.maps = opts->maps;
    c->upstreams = opts->upstreams;
    c->tts = opts->tts;
    c->embed = opts->embed;
    ia_tools_init(&c->tools);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_mutex_init(&c->sweep_mu, NULL);
    pthread_cond_init(&c->sweep_cv, NULL);

    if (c->agent_model && !engine_for(c, c->agent_model)) {
        ia_fail(err, IA_EINVALID, "--agent-model: '%s' is not a served model (served: %s)", c->agent_model,
                c->names);
        ia_core_free(c);
        return NULL;
    }
    if (ia_thought_key(c->store, c->thought_key, err) != 0) {
        ia_core_free(c);
        return NULL;
    }
    int n = ia_store_recover(c->store, ia_now(),
                             "the server stopped before this interaction finished (crash or "
                             "restart); it was not resumed",
                             err);
    if (n < 0) {
        ia_core_free(c);
        return NULL;
    }
    if (n > 0) ia_warn("recovery: %d interaction(s) left in progress by a previous run marked failed", n);
    c->writer = ia_writer_new(c, err);
    if (!c->writer) {
        ia_core_free(c);
        return NULL;
    }
    c->lease = ia_lease_start(c, c->lease_ms);
    if (!c->lease && ia_store_shared(c->store)) {
        /* without renewals every run here would be taken over by another
         * instance after one lease: refuse to serve rather than fail them */
        ia_fail(err, IA_EINTERNAL, "could not start the lease thread for the shared (PostgreSQL) store");
        ia_core_free(c);
        return NULL;
    }
    if (pthread_create(&c->sweeper, NULL, sweeper_main, c) != 0) {
        ia_fail(err, IA_EINTERNAL, "could not start the retention sweeper");
        ia_core_free(c);
        return NULL;
    }
    c->sweeper_started = true;
    return c;
}

void ia_core_shutdown(ia_core *c) {
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    for (ia_run *r = c->runs; r; r = r->next) atomic_store(&r->cancel, true);
    /* A tool step may submit its next model step: none must be left when
     * the engines go (they see the cancel within a poll of the sandbox). */
    while (c->tool_threads) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

void ia_core_free(ia_core *c) {
    if (!c) return;
    if (c->sweeper_started) {
        pthread_mutex_lock(&c->sweep_mu);
        c->sweep_stop = true;
        pthread_cond_broadcast(&c->sweep_cv);
        pthread_mutex_unlock(&c->sweep_mu);
        pthread_join(c->sweeper, NULL);
    }
    /* Every run still going ends as failed ("server stopped"): on_done sees
     * `stopping`; one stuck behind a busy engine is ended here. Each is
     * persisted by the writer before it leaves the table, so none is left
     * in_progress in the store; then the writer, its queue drained, stops. */
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    for (ia_run *r = c->runs; r; r = r->next) atomic_store(&r->cancel, true);
    while (c->tool_threads) pthread_cond_wait(&c->cv, &c->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while (c->runs)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT) break;
    while (c->runs) {
        ia_run *r = c->runs;
        ia_run_ref(r);
        pthread_mutex_unlock(&c->mu);
        ia_err stopped;
        ia_fail(&stopped, IA_EINTERNAL, "the server stopped before this interaction finished");
        ia_core_finalize(c, r, IA_STATUS_FAILED, &stopped, -1, -1);
        wait_finalized(r); /* written and out of the table */
        ia_run_unref(r);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    /* Renewing until here: the runs ended above keep their leases (no
     * other instance takes them over) until they are written. */
    ia_lease_stop(c->lease);
    ia_writer_free(c->writer);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->sweep_mu);
    pthread_cond_destroy(&c->sweep_cv);
    free(c->engines);
    free(c->names);
    free(c->agent_model);
    free(c);
}
