/* chat: the upstream chat engine's backend (chat.h): a job is a thread
 * running one streamed POST /v1/chat/completions, its answer read by
 * chat_sse.c as it arrives and turned into engine.h's item stream. */
#include "upstream/chat.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "upstream/chat_int.h"
#include "upstream/images_int.h"

#define PATH "/v1/chat/completions"

typedef struct backend backend;

typedef struct job {
    backend *be;
    char *body;
    ia_engine_cb cb;
    atomic_bool own_cancel, *cancel; /* the caller's flag, or own_cancel */
    struct job *next;                /* the backend's running jobs */
    /* the item stream */
    ia_upchat_answer ans;
    bool started;
    int next_index, thought_index, text_index; /* -1: not open */
    bool thought_done, stop;
    char **fns;       /* the functions offered (a call must name one) */
    size_t n_fns;
    bool feed_failed; /* the answer broke the protocol: feed_err says how */
    ia_err feed_err;
} job;

struct backend {
    const ia_upstream *u;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *running;
    int64_t n_running, jobs_done, tokens;
    bool stopping;
};

/* ---- the item stream ---------------------------------------------------------- */

static int emit(job *j, ia_item_kind kind, int index, const char *p, size_t n, bool end, bool cut) {
    ia_engine_item it = {.kind = kind, .index = index, .delta = p, .len = n, .end = end, .cut = cut,
                         .n_output = j->ans.n_deltas};
    return j->cb.on_item ? j->cb.on_item(j->cb.ud, &it) : 0;
}

static void begin(job *j) {
    if (j->started) return;
    j->started = true;
    if (j->cb.on_start) j->cb.on_start(j->cb.ud, 0); /* the prompt's count comes with usage */
}

/* A delta of the answer: the thought grows until the text begins (which
 * ends it); reasoning after that is not passed on (and not kept). */
static int on_delta(void *ud, bool reasoning, const char *p, size_t n) {
    job *j = ud;
    begin(j);
    if (reasoning) {
        if (j->text_index >= 0) {
            j->ans.reasoning.len -= n; /* not passed on: not the result's either */
            j->ans.reasoning.data[j->ans.reasoning.len] = '\0';
            j->ans.n_reasoning_deltas--;
            return 0;
        }
        if (j->thought_index < 0) j->thought_index = j->next_index++;
        return j->stop = emit(j, IA_ITEM_THOUGHT, j->thought_index, p, n, false, false) != 0;
    }
    if (j->thought_index >= 0 && !j->thought_done) {
        j->thought_done = true;
        if (emit(j, IA_ITEM_THOUGHT, j->thought_index, "", 0, true, false)) return j->stop = true;
    }
    if (j->text_index < 0) j->text_index = j->next_index++;
    return j->stop = emit(j, IA_ITEM_TEXT, j->text_index, p, n, false, false) != 0;
}

static void end_open(job *j, bool cut) {
    if (j->thought_index >= 0 && !j->thought_done) {
        j->thought_done = true;
        emit(j, IA_ITEM_THOUGHT, j->thought_index, "", 0, true, cut);
    }
    if (j->text_index >= 0) emit(j, IA_ITEM_TEXT, j->text_index, "", 0, true, cut);
}

static int sink(void *ud, const unsigned char *p, size_t n) {
    job *j = ud;
    begin(j);
    ia_err e = {0};
    int rc = ia_upchat_feed(&j->ans, (const char *)p, n, j->be->u->name, &e);
    if (rc < 0) {
        j->feed_failed = true;
        j->feed_err = e;
    }
    return rc != 0 || atomic_load(j->cancel);
}

/* ---- the end of a job ------------------------------------------------------------ */

static bool offered(const job *j, const char *name) {
    for (size_t i = 0; i < j->n_fns; i++)
        if (strcmp(j->fns[i], name) == 0) return true;
    return false;
}

/* The answer's calls, checked: a function offered, and arguments that are
 * a JSON object (a local engine's grammar ensures both; an upstream's
 * model may write anything). */
static int check_calls(job *j, ia_err *err) {
    for (size_t i = 0; i < j->ans.n_calls; i++) {
        ia_upchat_call *c = &j->ans.calls[i];
        if (!c->name)
            return ia_fail(err, IA_EUPSTREAM, "upstream '%s': the model's call #%zu has no function name",
                           j->be->u->name, i);
        if (!offered(j, c->name))
            return ia_fail(err, IA_EUPSTREAM, "upstream '%s': the model called '%.100s', a function it was not "
                           "offered", j->be->u->name, c->name);
        if (c->args.len == 0) ia_buf_puts(&c->args, "{}");
        json_t *a = json_loadb(c->args.data, c->args.len, 0, NULL);
        bool ok = json_is_object(a);
        json_decref(a);
        if (!ok)
            return ia_fail(err, IA_EUPSTREAM, "upstream '%s': the model called '%s' with arguments that are not "
                           "a JSON object", j->be->u->name, c->name);
    }
    return 0;
}

static void finish(job *j, ia_finish fin, const ia_err *err) {
    ia_upchat_answer *a = &j->ans;
    bool cut = fin == IA_FINISH_ERROR || fin == IA_FINISH_CANCELLED;
    ia_engine_result res = {.finish = fin, .parsed = !cut};
    ia_err call_err = {0};
    if (fin == IA_FINISH_STOP && check_calls(j, &call_err) != 0) {
        fin = res.finish = IA_FINISH_ERROR;
        err = &call_err;
        cut = true;
        res.parsed = false;
    }
    end_open(j, cut);
    ia_engine_call *calls = ia_xcalloc(a->n_calls ? a->n_calls : 1, sizeof *calls);
    if (fin == IA_FINISH_STOP)
        for (size_t i = 0; i < a->n_calls; i++) {
            calls[i] = (ia_engine_call){"", a->calls[i].name, a->calls[i].args.data};
            ia_engine_item it = {.kind = IA_ITEM_CALL, .index = j->next_index++, .end = true, .call = &calls[i],
                                 .n_output = a->n_deltas};
            if (j->cb.on_item) j->cb.on_item(j->cb.ud, &it);
        }
    if (err) res.err = *err;
    res.n_output = a->has_usage ? a->completion : a->n_deltas;
    res.n_prompt = a->prompt;
    res.n_cached = a->cached < a->prompt ? a->cached : (a->prompt ? a->prompt - 1 : 0);
    res.n_prompt_by[IA_MOD_TEXT] = res.n_prompt;
    res.n_cached_by[IA_MOD_TEXT] = res.n_cached;
    if (res.parsed) {
        res.content = a->content.data;
        res.reasoning = a->reasoning.data;
        res.calls = calls;
        res.n_calls = fin == IA_FINISH_STOP ? a->n_calls : 0;
        res.n_thought = a->reasoning_tokens ? a->reasoning_tokens : a->n_reasoning_deltas;
        if (res.n_thought > res.n_output) res.n_thought = res.n_output;
    }
    j->cb.on_done(j->cb.ud, &res);
    free(calls);
}

/* What the exchange's outcome means for the job. */
static void conclude(job *j, int rc, const ia_up_answer *ans, ia_err *err) {
    ia_upchat_answer *a = &j->ans;
    const char *who = j->be->u->name;
    if (j->feed_failed) return finish(j, IA_FINISH_ERROR, &j->feed_err);
    if (rc != 0) {
        if (err->code == IA_ECANCELLED || atomic_load(j->cancel)) return finish(j, IA_FINISH_CANCELLED, NULL);
        return finish(j, IA_FINISH_ERROR, err);
    }
    if (ans->status < 200 || ans->status > 299) {
        ia_up_status_error(j->be->u, ans, "POST " PATH, false, err);
        return finish(j, IA_FINISH_ERROR, err);
    }
    int e = ia_upchat_end(a, who, err);
    if (e == 1 || j->stop) return finish(j, IA_FINISH_CANCELLED, NULL);
    if (e != 0) return finish(j, IA_FINISH_ERROR, err);
    if (a->error) {
        ia_fail(err, IA_EUPSTREAM, "upstream '%s' failed while answering: %s", who, a->error);
        return finish(j, IA_FINISH_ERROR, err);
    }
    if (!a->done && !a->finish[0]) {
        ia_fail(err, IA_EUPSTREAM, "upstream '%s': the answer ended before it was complete", who);
        return finish(j, IA_FINISH_ERROR, err);
    }
    finish(j, strcmp(a->finish, "length") == 0 ? IA_FINISH_LENGTH : IA_FINISH_STOP, NULL);
}

static void job_free(job *j) {
    ia_upchat_answer_free(&j->ans);
    for (size_t i = 0; i < j->n_fns; i++) free(j->fns[i]);
    free(j->fns);
    free(j->body);
    free(j);
}

static void *job_main(void *arg) {
    job *j = arg;
    backend *be = j->be;
    const ia_upstream *u = be->u;
    ia_up_call c = {.method = "POST", .path = PATH, .json = j->body, .accept = "text/event-stream",
                    .deadline = ia_mono_ms() + (int64_t)u->timeout_s * 1000, .cancel = j->cancel,
                    .sink = sink, .sink_ud = j};
    ia_up_answer ans;
    ia_err err = {0};
    int rc = ia_up_send(u, &c, &ans, &err);
    int64_t n_out = j->ans.n_deltas;
    /* Out of the running list before on_done (conclude), which may free the
     * run that j->cancel points into: backend_free must not touch it after
     * that. n_running still counts the job, so backend_free waits for it. */
    pthread_mutex_lock(&be->mu);
    for (job **p = &be->running; *p; p = &(*p)->next)
        if (*p == j) {
            *p = j->next;
            break;
        }
    pthread_mutex_unlock(&be->mu);
    conclude(j, rc, &ans, &err);
    ia_up_answer_free(&ans);
    pthread_mutex_lock(&be->mu);
    be->n_running--;
    be->jobs_done++;
    be->tokens += n_out;
    pthread_cond_broadcast(&be->cv);
    pthread_mutex_unlock(&be->mu);
    job_free(j);
    return NULL;
}

/* ---- the backend's operations ---------------------------------------------------- */

static int submit(void *impl, const ia_engine_msg *msgs, size_t n, const ia_engine_params *p, const ia_engine_cb *cb,
                  atomic_bool *cancel, ia_err *err) {
    backend *be = impl;
    ia_engine_params none = {0};
    job *j = ia_xcalloc(1, sizeof *j);
    j->be = be;
    j->body = ia_upchat_body(be->u, msgs, n, p ? p : &none); /* copies all the job needs */
    j->cb = *cb;
    j->n_fns = p ? p->n_tools : 0;
    j->fns = ia_xcalloc(j->n_fns ? j->n_fns : 1, sizeof *j->fns);
    for (size_t i = 0; i < j->n_fns; i++) j->fns[i] = ia_strdup(p->tools[i].name ? p->tools[i].name : "");
    atomic_init(&j->own_cancel, false);
    j->cancel = cancel ? cancel : &j->own_cancel;
    j->thought_index = j->text_index = -1;
    ia_upchat_answer_init(&j->ans);
    j->ans.on_delta = on_delta;
    j->ans.ud = j;
    pthread_mutex_lock(&be->mu);
    if (be->stopping) {
        pthread_mutex_unlock(&be->mu);
        job_free(j);
        ia_fail(err, IA_EOVERLOADED, "the server is shutting down; retry shortly");
        if (err) err->retry_after = 1;
        return -1;
    }
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    j->next = be->running;
    be->running = j;
    be->n_running++;
    int rc = pthread_create(&t, &a, job_main, j);
    pthread_attr_destroy(&a);
    if (rc != 0) {
        be->running = j->next;
        be->n_running--;
    }
    pthread_mutex_unlock(&be->mu);
    if (rc == 0) return 0;
    job_free(j);
    return ia_fail(err, IA_EINTERNAL, "could not start a thread for upstream '%s'", be->u->name);
}

static void get_stats(void *impl, ia_engine_stats *st) {
    backend *be = impl;
    pthread_mutex_lock(&be->mu);
    st->running = be->n_running;
    st->jobs_done = be->jobs_done;
    st->tokens_generated = be->tokens;
    pthread_mutex_unlock(&be->mu);
}

static void backend_free(void *impl) {
    backend *be = impl;
    pthread_mutex_lock(&be->mu);
    be->stopping = true;
    for (job *j = be->running; j; j = j->next) atomic_store(j->cancel, true);
    while (be->n_running) pthread_cond_wait(&be->cv, &be->mu);
    pthread_mutex_unlock(&be->mu);
    pthread_mutex_destroy(&be->mu);
    pthread_cond_destroy(&be->cv);
    free(be);
}

ia_engine *ia_upstream_chat_engine(const ia_upstream *u) {
    backend *be = ia_xcalloc(1, sizeof *be);
    be->u = u;
    pthread_mutex_init(&be->mu, NULL);
    pthread_cond_init(&be->cv, NULL);
    ia_engine_backend ops = {.impl = be, .kind = "upstream", .submit = submit, .get_stats = get_stats,
                             .free = backend_free};
    return ia_engine_remote(u->name, &ops);
}
