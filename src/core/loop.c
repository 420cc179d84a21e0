/* loop.c: an interaction's run as model steps and tool steps (loop.h).
 * The engine's callbacks of a model step (engine thread) append to the
 * run's log; the end of a step decides what comes next; a tool step runs
 * on a detached thread of its own, counted in the core so that shutdown
 * waits for it before the engines go. */
#include "core/loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/agent.h"

#include "core/core_int.h"
#include "core/fs_tool.h"
#include "core/outputs.h"
#include "lib/b64.h"
#include "lib/log.h"
#include "lib/util.h"
#include "schema/schema.h"
#include "speech/tts.h"
#include "tools/mcp.h"

/* url_context's URLs of one run at most (the prompt's and the searches'):
 * its call's schema enumerates them. */
#define IA_LOOP_MAX_URLS 64

struct ia_loop {
    ia_core *core;
    ia_engine *eng;
    char *owner;
    ia_conv conv;            /* the chain and this turn's input, media prepared */
    ia_gen_config gen;       /* the request's generation settings */
    char *grammar;           /* structured output; NULL = free text */
    char *schema;            /* the schema it was built from (a remote engine sends it) */
    ia_tool *fns;            /* the client's functions */
    size_t n_fns;
    ia_tool_choice choice;
    ia_builtin_tool *builtins;
    size_t n_builtins;
    ia_outtok_chain oc;      /* the chain's answers, for their kept tokens */
    char **urls;             /* url_context: the URLs the user's text names */
    size_t n_urls;
    int steps;               /* model steps submitted */
    /* Media outputs (outputs.h): the modalities asked for (IA_MOD_BIT_*);
     * with no engine, the model speaks (a speech model's name, or up: an
     * api=speech upstream) or draws (up: the image upstream serving it)
     * the input, and nothing else runs. */
    unsigned modalities;
    const ia_upstream *up;
    struct ia_tts *tts; /* the --speech-model speaking it, when the model is one */
    bool then_requires_action; /* the last model step also called a client function */
    int64_t started_ms;      /* the run's start (ia_mono_ms), for --max-run-time */
    /* Summed over the steps (usage); the last step's prompt and output,
     * for the tokens the tools' results added (total_tool_use_tokens). */
    int64_t n_prompt, n_output, n_cached, last_prompt, last_output;
    int64_t by[IA_N_MODALITIES], cached_by[IA_N_MODALITIES];
};

/* ---- set-up ------------------------------------------------------------------ */

int ia_loop_check(ia_core *c, const ia_request *req, ia_err *err) {
    for (size_t i = 0; i < req->n_builtins; i++) {
        char field[32];
        snprintf(field, sizeof field, "tools (%s)", ia_builtin_name(req->builtins[i].type));
        if (ia_tools_check(&c->tools, req->builtins[i].type, field, err) != 0) return -1;
        for (size_t k = 0; req->builtins[i].type != IA_BUILTIN_MCP_SERVER && k < req->n_tools; k++)
            if (strcmp(req->tools[k].name, ia_builtin_name(req->builtins[i].type)) == 0)
                return ia_fail(err, IA_EINVALID,
                               "tools: a function named '%s' clashes with the built-in tool of that name "
                               "given beside it; rename the function",
                               req->tools[k].name);
    }
    return 0;
}

/* ---- mcp_server: the servers' tools, listed at create ---------------------- */

/* Whether fn is already a function of the request: a client's or an
 * offer made so far. */
static bool fn_taken(const ia_request *req, const char *fn) {
    for (size_t k = 0; k < req->n_tools; k++)
        if (strcmp(req->tools[k].name, fn) == 0) return true;
    for (size_t i = 0; i < req->n_builtins; i++)
        for (size_t k = 0; k < req->builtins[i].n_offers; k++)
            if (strcmp(req->builtins[i].offers[k].fn, fn) == 0) return true;
    return false;
}

static bool allowed(const ia_builtin_tool *b, const char *tool) {
    for (size_t i = 0; i < b->n_denied; i++)
        if (strcmp(b->denied[i], tool) == 0) return false;
    for (size_t i = 0; i < b->n_allowed; i++)
        if (strcmp(b->allowed[i], tool) == 0) return true;
    return !b->has_allowed;
}

/* A tool's inputSchema as the model's call is sampled under it: checked
 * and prepared as a client function's is. One the grammar converter
 * cannot take is offered as any JSON object (the server checks the
 * arguments itself), so one odd schema does not keep the rest from the
 * model. */
static char *offer_schema(const ia_builtin_tool *b, const ia_mcp_tool *t) {
    ia_err err = {0};
    char *out = ia_schema_offer(t->schema, "inputSchema", &err);
    if (!out) {
        ia_warn("mcp_server '%s': tool '%s': its inputSchema is offered as any object (%s)", b->name, t->name,
                err.msg[0] ? err.msg : "not a JSON Schema");
        out = ia_strdup("{\"type\":\"object\"}");
    }
    return out;
}

/* The listed tools of b that allowed_tools lets through, as offers. A
 * name another function of the request has already is skipped (the model
 * could not say which it calls). */
static void add_offers(ia_request *req, ia_builtin_tool *b, const ia_mcp_tool *t, size_t n) {
    b->offers = ia_xcalloc(n ? n : 1, sizeof *b->offers);
    for (size_t i = 0; i < n; i++) {
        if (!allowed(b, t[i].name)) continue;
        char *fn = ia_mcp_fn_name(b->name, t[i].name);
        if (fn_taken(req, fn)) {
            ia_warn("mcp_server '%s': tool '%s' not offered: the function %s is already given", b->name, t[i].name, fn);
            free(fn);
            continue;
        }
        b->offers[b->n_offers++] = (ia_mcp_offer){fn, ia_strdup(t[i].name), ia_strdup(t[i].description),
                                                   offer_schema(b, &t[i])};
    }
}

int ia_loop_list_mcp(ia_core *c, ia_request *req, ia_err *err) {
    for (size_t i = 0; i < req->n_builtins; i++) {
        ia_builtin_tool *b = &req->builtins[i];
        if (b->type != IA_BUILTIN_MCP_SERVER) continue;
        ia_mcp_tool *t = NULL;
        size_t n = 0;
        int64_t t0 = ia_mono_ms();
        if (ia_mcp_list(&c->tools.fetch, b, NULL, &t, &n, err) != 0) return -1;
        add_offers(req, b, t, n);
        ia_debug("mcp_server '%s': %zu tools listed in %lld ms, %zu offered", b->name, n,
                 (long long)(ia_mono_ms() - t0), b->n_offers);
        ia_mcp_tools_free(t, n);
    }
    return 0;
}

ia_loop *ia_loop_new(ia_core *c, ia_run *r, ia_engine *eng, const char *owner, ia_conv *conv, ia_request *req,
                     ia_outtok_chain *oc) {
    ia_loop *L = ia_xcalloc(1, sizeof *L);
    L->core = c;
    L->eng = eng;
    L->owner = ia_strdup(owner);
    L->conv = *conv;
    memset(conv, 0, sizeof *conv);
    ia_gen_config_copy(&L->gen, &req->gen);
    L->grammar = req->grammar;
    L->schema = req->grammar && req->response_format ? ia_strdup(req->response_format) : NULL;
    req->grammar = NULL;
    L->fns = req->tools;
    L->n_fns = req->n_tools;
    req->tools = NULL;
    req->n_tools = 0;
    L->choice = req->tool_choice;
    L->builtins = req->builtins;
    L->n_builtins = req->n_builtins;
    req->builtins = NULL;
    req->n_builtins = 0;
    L->oc = *oc;
    memset(oc, 0, sizeof *oc);
    L->started_ms = ia_mono_ms();
    for (size_t i = 0; i < L->conv.n; i++) /* what url_context may fetch */
        for (size_t k = 0; L->conv.turns[i].role == IA_ROLE_USER && k < L->conv.turns[i].n; k++)
            if (L->conv.turns[i].items[k].kind == IA_CONTENT_TEXT)
                ia_tools_find_urls(L->conv.turns[i].items[k].text, &L->urls, &L->n_urls);
    r->hide_summary = req->gen.thinking_summaries_none;
    r->vocab = eng ? ia_engine_vocab_id(eng) : NULL; /* the engine outlives its runs */
    L->modalities = req->modalities;
    const ia_upstream *up = !eng ? ia_upstream_for(c->upstreams, r->it.model) : NULL;
    L->up = up && (up->kind == IA_UPSTREAM_SPEECH || (req->modalities & IA_MOD_BIT_IMAGE)) ? up : NULL;
    L->tts = !eng ? ia_tts_find(c->tts, r->it.model) : NULL;
    return L;
}

void ia_loop_free(ia_loop *L) {
    if (!L) return;
    free(L->owner);
    ia_conv_free(&L->conv);
    ia_gen_config_free(&L->gen);
    free(L->grammar);
    free(L->schema);
    for (size_t i = 0; i < L->n_fns; i++) ia_tool_clear(&L->fns[i]);
    free(L->fns);
    for (size_t i = 0; i < L->n_builtins; i++) ia_builtin_tool_clear(&L->builtins[i]);
    free(L->builtins);
    ia_outtok_chain_free(&L->oc);
    for (size_t i = 0; i < L->n_urls; i++) free(L->urls[i]);
    free(L->urls);
    free(L);
}

/* ---- the engine's callbacks of a model step (engine thread) -------------------------- */

typedef struct job {
    ia_core *core;
    ia_run *run;
} job;

static void on_start(void *ud, int64_t n_prompt) {
    ia_run *r = ((job *)ud)->run;
    pthread_mutex_lock(&r->mu);
    r->started = true;
    r->it.usage.input = r->loop->n_prompt + n_prompt; /* the run's so far: a cancel keeps it */
    pthread_mutex_unlock(&r->mu);
}

/* The engine's item stream (engine.h): appended to the run's log and
 * outputs (run.h, ia_run_item_locked); the events reach the store every
 * IA_CORE_FLUSH_EVERY. Returns nonzero once the run has ended (a cancel
 * that did not wait for the engine): it stops generating. */
static int on_item(void *ud, const ia_engine_item *item) {
    job *j = ud;
    ia_run *r = j->run;
    ia_loop *L = r->loop;
    pthread_mutex_lock(&r->mu);
    if (!r->ended) {
        r->it.usage.output = L->n_output + item->n_output; /* the run's so far: a cancel keeps it */
        ia_run_item_locked(r, item, j->core->thought_key, L->builtins, L->n_builtins);
        if (r->n_evs - r->n_persisted >= IA_CORE_FLUSH_EVERY) ia_core_flush_locked(j->core, r);
    }
    int stop = r->ended;
    pthread_mutex_unlock(&r->mu);
    return stop;
}

/* The step's counts into the run's totals. */
static void add_usage(ia_loop *L, ia_run *r, const ia_engine_result *res) {
    if (L->steps > 1) {
        int64_t added = res->n_prompt - L->last_prompt - L->last_output; /* the tools' results, mostly */
        pthread_mutex_lock(&r->mu);
        if (added > 0) r->it.usage.tool_use += added;
        pthread_mutex_unlock(&r->mu);
    }
    L->last_prompt = res->n_prompt;
    L->last_output = res->n_output;
    L->n_prompt += res->n_prompt;
    L->n_output += res->n_output;
    L->n_cached += res->n_cached;
    for (int m = 0; m < IA_N_MODALITIES && m < IA_MOD__COUNT; m++) {
        L->by[m] += res->n_prompt_by[m];
        L->cached_by[m] += res->n_cached_by[m];
    }
    pthread_mutex_lock(&r->mu); /* prompt tokens the engine reused: usage.total_cached_tokens */
    r->it.usage.cached = L->n_cached;
    for (int m = 0; m < IA_N_MODALITIES; m++) {
        r->it.usage.input_by[m] = L->by[m];
        r->it.usage.cached_by[m] = L->cached_by[m];
    }
    pthread_mutex_unlock(&r->mu);
}

static void start_tool_step(ia_core *c, ia_run *r);
static void start_media_step(ia_core *c, ia_run *r);

static void on_done(void *ud, const ia_engine_result *res) {
    job *j = ud;
    ia_core *c = j->core;
    ia_run *r = j->run;
    free(j);
    ia_loop *L = r->loop;
    pthread_mutex_lock(&r->mu);
    bool already = r->ended;
    pthread_mutex_unlock(&r->mu);
    if (already) { /* a cancel or shutdown ended it while the job waited */
        ia_run_unref(r);
        return;
    }
    add_usage(L, r, res);
    ia_status st = IA_STATUS_COMPLETED;
    const ia_err *err = NULL;
    ia_err stopped = {0};
    /* `completed` means the model ended on its own (or on a stop
     * sequence); output cut by max_output_tokens or a full context is
     * `incomplete`, and keeps what was generated, calls never (the engine
     * passes calls only for a whole output), so requires_action only ever
     * follows whole calls. */
    pthread_mutex_lock(&r->mu);
    size_t n_client = r->step_client, n_builtin = r->step_builtin;
    if (res->parsed) r->it.usage.thought += res->n_thought;
    pthread_mutex_unlock(&r->mu);
    switch (res->finish) {
    case IA_FINISH_STOP:
        if (n_client) st = IA_STATUS_REQUIRES_ACTION;
        break;
    case IA_FINISH_LENGTH:
        st = IA_STATUS_INCOMPLETE;
        break;
    case IA_FINISH_CANCELLED:
        if (ia_core_stopping(c)) {
            st = IA_STATUS_FAILED;
            ia_fail(&stopped, IA_EINTERNAL, "the server stopped before this interaction finished");
            err = &stopped;
        } else {
            st = IA_STATUS_CANCELLED;
        }
        break;
    case IA_FINISH_ERROR:
        st = IA_STATUS_FAILED;
        err = &res->err;
        break;
    }
    /* Built-in calls: their results, then the model again (the tool step
     * decides, within the run's limits) — or, when the step also called a
     * client function, requires_action once they have run, so the next
     * turn holds every call's result. */
    if ((st == IA_STATUS_COMPLETED || st == IA_STATUS_REQUIRES_ACTION) && n_builtin) {
        L->then_requires_action = st == IA_STATUS_REQUIRES_ACTION;
        start_tool_step(c, r); /* takes over the job's reference */
        return;
    }
    if (st == IA_STATUS_COMPLETED && (L->modalities & IA_MOD_BIT_AUDIO)) {
        start_media_step(c, r); /* the answer spoken; takes over the job's reference */
        return;
    }
    r->done_res = res; /* finalize copies its output tokens, for the writer */
    ia_core_finalize(c, r, st, err, L->n_prompt, L->n_output);
    r->done_res = NULL; /* res lives on the engine's stack */
    ia_run_unref(r);
}

/* ---- model steps ------------------------------------------------------------ */

static void engine_params(const ia_loop *L, ia_engine_params *p) {
    const ia_gen_config *g = &L->gen;
    memset(p, 0, sizeof *p);
    p->has_temperature = g->has_temperature;
    p->temperature = g->temperature;
    p->has_top_p = g->has_top_p;
    p->top_p = g->top_p;
    p->has_top_k = g->has_top_k;
    p->top_k = g->top_k;
    p->has_seed = g->has_seed;
    p->seed = (uint64_t)g->seed;
    /* max_output_tokens bounds the whole run: each step gets what is left */
    p->max_tokens = g->has_max_output_tokens ? g->max_output_tokens - L->n_output : 0;
    if (g->has_max_output_tokens && p->max_tokens < 1) p->max_tokens = 1;
    p->stop = (const char *const *)g->stop;
    p->n_stop = g->n_stop;
    p->grammar = L->grammar; /* structured output; the engine copies it */
    p->json_schema = L->schema;
    /* thinking_level: a budget of reasoning tokens per level (README) */
    static const int budgets[] = {[IA_THINKING_MINIMAL] = -1, [IA_THINKING_LOW] = 512,
                                  [IA_THINKING_MEDIUM] = 2048, [IA_THINKING_HIGH] = 8192};
    p->thinking_budget = budgets[g->has_thinking_level ? g->thinking_level : IA_THINKING_HIGH];
}

/* The functions offered: the client's, then each built-in tool's
 * (url_context only when the prompt names URLs: its schema enumerates
 * them; *url_params holds that schema until the job is submitted). */
static ia_engine_tool *offered(const ia_loop *L, size_t *n, char **url_params) {
    size_t cap = L->n_fns + L->n_builtins + 1;
    for (size_t i = 0; i < L->n_builtins; i++) cap += L->builtins[i].n_offers;
    ia_engine_tool *t = ia_xcalloc(cap, sizeof *t);
    *n = 0;
    *url_params = NULL;
    for (size_t i = 0; i < L->n_fns; i++)
        t[(*n)++] = (ia_engine_tool){L->fns[i].name, L->fns[i].description, L->fns[i].parameters};
    for (size_t i = 0; i < L->n_builtins; i++) {
        for (size_t k = 0; k < L->builtins[i].n_offers; k++) { /* mcp_server: each listed tool */
            const ia_mcp_offer *m = &L->builtins[i].offers[k];
            t[(*n)++] = (ia_engine_tool){m->fn, m->description, m->parameters};
        }
        const ia_tool_offer *o = ia_tools_offer(&L->core->tools, L->builtins[i].type);
        if (!o) continue;
        const char *params = o->parameters;
        if (L->builtins[i].type == IA_BUILTIN_URL_CONTEXT) {
            if (!L->n_urls) continue;
            params = *url_params = ia_tools_url_params((const char *const *)L->urls, L->n_urls);
        }
        t[(*n)++] = (ia_engine_tool){o->name, o->description, params};
    }
    return t;
}

/* The first step's full queue is the client's to retry (503); a later
 * step's is not (a retry would run the tools again): it waits for room,
 * up to a minute, while the run is not cancelled. */
static int submit_patiently(ia_loop *L, ia_run *r, const ia_engine_msg *msgs, size_t n, const ia_engine_params *p,
                            const ia_engine_cb *cb, ia_err *err) {
    int64_t until = ia_mono_ms() + 60000;
    for (int wait_ms = 50;; wait_ms = wait_ms < 1000 ? wait_ms * 2 : 1000) {
        int rc = ia_engine_submit(L->eng, msgs, n, p, cb, &r->cancel, err);
        if (rc == 0 || L->steps == 1 || err->code != IA_EOVERLOADED) return rc;
        if (atomic_load(&r->cancel) || ia_core_stopping(L->core) || ia_mono_ms() > until) {
            ia_fail(err, IA_EINTERNAL, "the model's queue stayed full for a minute between the steps of this "
                                       "interaction");
            return -1;
        }
        struct timespec ts = {.tv_sec = wait_ms / 1000, .tv_nsec = (long)(wait_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int ia_loop_submit(ia_loop *L, ia_run *r, ia_err *err) {
    ia_core *c = L->core;
    if (!L->eng) { /* a model that only speaks or draws */
        pthread_mutex_lock(&r->mu);
        r->started = true; /* a cancel waits for the media step to stop (it polls the flag) */
        pthread_mutex_unlock(&r->mu);
        ia_run_ref(r);
        start_media_step(c, r);
        return 0;
    }
    /* The conversation so far: the chain and the input, then what the
     * earlier steps of this run wrote (one model turn). */
    ia_conv conv = L->conv;
    ia_turn extra[1];
    pthread_mutex_lock(&r->mu);
    ia_turn_copy(&extra[0], &r->parsed_out);
    ia_run_next_step_locked(r);
    pthread_mutex_unlock(&r->mu);
    extra[0].role = IA_ROLE_MODEL;
    ia_conv all = {.n = conv.n + (extra[0].n ? 1 : 0)};
    all.turns = ia_xcalloc(all.n ? all.n : 1, sizeof *all.turns);
    memcpy(all.turns, conv.turns, conv.n * sizeof *conv.turns); /* borrowed, not copied */
    if (extra[0].n) all.turns[conv.n] = extra[0];
    ia_msgbuf mb = {0};
    /* an agent's steps get its research instruction first (agent.h) */
    char *agent_sys = ia_agent_name_known(r->it.model) ? ia_agent_system(r->it.system_instruction) : NULL;
    ia_prompt_messages(agent_sys ? agent_sys : r->it.system_instruction, &all, &mb);
    ia_engine_params params;
    engine_params(L, &params);
    size_t n_tools = 0;
    char *url_params = NULL;
    ia_engine_tool *tools = offered(L, &n_tools, &url_params);
    if (n_tools) {
        params.tools = tools;
        params.n_tools = n_tools;
        params.tool_choice = L->choice == IA_TOOL_CHOICE_ANY && L->steps == 0 ? IA_TOOLS_REQUIRED
                             : L->choice == IA_TOOL_CHOICE_NONE                 ? IA_TOOLS_NONE
                                                                                : IA_TOOLS_AUTO;
    }
    job *j = ia_xcalloc(1, sizeof *j);
    j->core = c;
    j->run = r;
    ia_engine_cb cb = {.ud = j, .on_start = on_start, .on_item = on_item, .on_done = on_done};
    ia_run_ref(r); /* the job's */
    size_t n_kept = 0;
    int32_t **kept = ia_outtok_attach(c->store, L->owner, r->vocab, &L->oc, &mb, &n_kept);
    L->steps++; /* before the engine may end the step (on_done reads it) */
    int rc = submit_patiently(L, r, mb.msgs, mb.n, &params, &cb, err); /* copies all */
    for (size_t i = 0; i < n_kept; i++) free(kept[i]);
    free(kept);
    free(tools);
    free(url_params);
    ia_msgbuf_free(&mb);
    free(agent_sys);
    free(all.turns);
    ia_turn_free(&extra[0]);
    if (rc != 0) {
        L->steps--;
        ia_run_unref(r);
        free(j);
        return -1;
    }
    return 0;
}

/* ---- tool steps (a thread each) ------------------------------------------------ */

/* The mcp_server tool of the request named name; NULL if none. */
static const ia_builtin_tool *mcp_named(const ia_loop *L, const char *name) {
    for (size_t i = 0; name && i < L->n_builtins; i++)
        if (L->builtins[i].type == IA_BUILTIN_MCP_SERVER && strcmp(L->builtins[i].name, name) == 0)
            return &L->builtins[i];
    return NULL;
}

/* The request's google_maps tool (its latitude and longitude); NULL if none. */
static const ia_builtin_tool *maps_tool(const ia_loop *L) {
    for (size_t i = 0; i < L->n_builtins; i++)
        if (L->builtins[i].type == IA_BUILTIN_GOOGLE_MAPS) return &L->builtins[i];
    return NULL;
}

/* A step thread's end: its reference on r let go, and shutdown told. */
static const ia_builtin_tool *fs_tool(const ia_loop *L) {
    static const ia_builtin_tool none = {.type = IA_BUILTIN_FILE_SEARCH};
    for (size_t i = 0; i < L->n_builtins; i++)
        if (L->builtins[i].type == IA_BUILTIN_FILE_SEARCH) return &L->builtins[i];
    return &none;
}

static void step_thread_done(ia_core *c, ia_run *r) {
    ia_run_unref(r);
    pthread_mutex_lock(&c->mu);
    c->tool_threads--;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* A search's result URLs join those url_context may read in this run's
 * later steps (the step thread alone touches L->urls); urls is freed. */
static void add_urls(ia_loop *L, char **urls, size_t n) {
    for (size_t i = 0; i < n; i++) {
        bool have = false;
        for (size_t k = 0; k < L->n_urls && !have; k++) have = strcmp(L->urls[k], urls[i]) == 0;
        if (have || L->n_urls >= IA_LOOP_MAX_URLS) {
            free(urls[i]);
            continue;
        }
        L->urls = ia_xrealloc(L->urls, (L->n_urls + 1) * sizeof *L->urls);
        L->urls[L->n_urls++] = urls[i];
    }
    free(urls);
}

/* Runs the built-in calls of the last model step, in order, each result
 * appended after them; then the next model step. */
static void *tool_step_main(void *arg) {
    ia_run *r = arg;
    ia_loop *L = r->loop;
    ia_core *c = L->core;
    pthread_mutex_lock(&r->mu);
    ia_turn calls;
    ia_turn one = {.role = IA_ROLE_MODEL, .items = r->parsed_out.items + r->base_index,
                   .n = r->parsed_out.n - (size_t)r->base_index};
    ia_turn_copy(&calls, &one);
    ia_core_flush_locked(c, r); /* the calls go to the store (the writer's) as they run */
    pthread_mutex_unlock(&r->mu);
    for (size_t i = 0; i < calls.n && !atomic_load(&r->cancel); i++) {
        const ia_content *call = &calls.items[i];
        if (call->kind != IA_CONTENT_TOOL_CALL) continue;
        ia_tool_ctx ctx = {.urls = (const char *const *)L->urls, .n_urls = L->n_urls, .cancel = &r->cancel,
                           .search_images = call->search_type && !strcmp(call->search_type, "image_search"),
                           .mcp_server = mcp_named(L, call->server_name), .mcp_tool = call->name,
                           .maps_at = maps_tool(L)};
        ia_tool_out out;
        int64_t t0 = ia_mono_ms();
        if (call->tool == IA_BUILTIN_FILE_SEARCH) { /* over the store: core's (fs_tool.h) */
            memset(&out, 0, sizeof out);
            ia_fs_tool_run(c->fsearch, L->owner, fs_tool(L), call->text, &out.result_json, &out.is_error,
                           &out.model_text);
        } else {
            ia_tools_run(&c->tools, call->tool, call->text, &ctx, &out);
        }
        ia_debug("interaction %s: %s call %s ran in %lld ms%s", r->it.id, ia_builtin_name(call->tool), call->id,
                 (long long)(ia_mono_ms() - t0), out.is_error ? " (an error result)" : "");
        /* what the model reads of it (a page's text) is kept with the
         * item, so the chain's later turns read the same */
        ia_content item = {.kind = IA_CONTENT_TOOL_RESULT, .tool = call->tool, .id = call->id,
                           .text = out.result_json, .is_error = out.is_error, .fetched = out.model_text,
                           .name = call->name, .server_name = call->server_name};
        pthread_mutex_lock(&r->mu);
        if (!r->ended) {
            r->it.usage.search_calls += call->tool == IA_BUILTIN_GOOGLE_SEARCH; /* grounding_tool_count */
            r->it.usage.maps_calls += call->tool == IA_BUILTIN_GOOGLE_MAPS;
            ia_run_emit_item_locked(r, &item);
            ia_core_flush_locked(c, r);
        }
        pthread_mutex_unlock(&r->mu);
        free(out.result_json);
        free(out.model_text);
        add_urls(L, out.urls, out.n_urls);
    }
    ia_turn_free(&calls);
    ia_err err = {0};
    int64_t max = L->gen.has_max_output_tokens ? L->gen.max_output_tokens : 0;
    if (ia_core_stopping(c)) {
        ia_fail(&err, IA_EINTERNAL, "the server stopped before this interaction finished");
        ia_core_finalize(c, r, IA_STATUS_FAILED, &err, L->n_prompt, L->n_output);
    } else if (atomic_load(&r->cancel)) {
        ia_core_finalize(c, r, IA_STATUS_CANCELLED, NULL, L->n_prompt, L->n_output);
    } else if (L->then_requires_action) {
        ia_core_finalize(c, r, IA_STATUS_REQUIRES_ACTION, NULL, L->n_prompt, L->n_output);
    } else if (L->steps >= (ia_agent_name_known(r->it.model) ? c->agent_max_steps : c->max_steps) ||
               (max && L->n_output >= max) ||
               ia_mono_ms() - L->started_ms >= (int64_t)c->max_run_s * 1000) {
        /* the run's limits: what it has is the answer, cut short */
        ia_warn("interaction %s: ended after %d model steps, %lld output tokens and %lld s, its limit", r->it.id,
                L->steps, (long long)L->n_output, (long long)(ia_mono_ms() - L->started_ms) / 1000);
        ia_core_finalize(c, r, IA_STATUS_INCOMPLETE, NULL, L->n_prompt, L->n_output);
    } else if (ia_loop_submit(L, r, &err) != 0) {
        ia_core_finalize(c, r, IA_STATUS_FAILED, &err, L->n_prompt, L->n_output);
    }
    step_thread_done(c, r);
    return NULL;
}

/* ---- the media step (a thread) ------------------------------------------------- */

/* Image output: what to draw (the input's text), its size, and an input
 * image to edit when there is one with inline data. */
static int draw(ia_core *c, ia_run *r, ia_loop *L, ia_err *err) {
    ia_image_cfg cfg;
    ia_image_cfg_merge(&L->gen.image, &r->it.rformat.image, &cfg);
    ia_image_req q = {.n = 1, .has_seed = L->gen.has_seed, .seed = L->gen.seed,
                      .mime_type = cfg.mime_type[0] ? cfg.mime_type : NULL};
    if (ia_image_dims(&cfg, &q.width, &q.height, err) != 0) return -1;
    char *prompt = ia_outputs_input_text(&r->it.input);
    uint8_t *init = NULL;
    int rc = -1;
    if (!*prompt) {
        ia_fail(err, IA_EINVALID, "input: say what to draw: an image model needs text in the input");
        goto done;
    }
    q.prompt = prompt;
    for (size_t i = 0; !init && i < r->it.input.n; i++)
        for (size_t k = 0; !init && k < r->it.input.turns[i].n; k++) {
            const ia_content *m = &r->it.input.turns[i].items[k];
            if (m->kind != IA_CONTENT_IMAGE) continue;
            const char *b64 = m->text ? m->text : m->fetched;
            if (!b64) {
                ia_fail(err, IA_EINVALID, "input: an image to edit comes as inline data (base64) for an image "
                                          "model; fetch it and send its bytes");
                goto done;
            }
            if (ia_b64_decode(b64, strlen(b64), &init, &q.init_len, NULL) != 0) init = NULL;
            q.init_mime = m->mime_type;
        }
    q.init = init;
    rc = ia_outputs_images(c, r, L->up, &q, err);
done:
    free(init);
    free(prompt);
    return rc;
}

/* Speech output: a speech model says the input; a text model its answer
 * (the run's last text output). */
static int speak(ia_core *c, ia_run *r, ia_loop *L, ia_err *err) {
    char *text = NULL;
    if (!L->eng) {
        text = ia_outputs_input_text(&r->it.input);
    } else {
        pthread_mutex_lock(&r->mu); /* the last model step's text: its answer */
        for (size_t i = r->parsed_out.n; !text && i-- > (size_t)r->base_index;)
            if (r->parsed_out.items[i].kind == IA_CONTENT_TEXT) text = ia_strdup(r->parsed_out.items[i].text);
        pthread_mutex_unlock(&r->mu);
    }
    const ia_upstream *up = L->up && L->up->kind == IA_UPSTREAM_SPEECH ? L->up : NULL;
    int rc = text && *text ? ia_outputs_speech(c, r, up, L->tts, text, &L->gen, &r->it.rformat.audio, err) : 0;
    free(text);
    return rc;
}

static void *media_step_main(void *arg) {
    ia_run *r = arg;
    ia_loop *L = r->loop;
    ia_core *c = L->core;
    ia_err err = {0};
    int rc = L->up && L->up->kind == IA_UPSTREAM_IMAGES ? draw(c, r, L, &err) : speak(c, r, L, &err);
    if (ia_core_stopping(c)) {
        ia_fail(&err, IA_EINTERNAL, "the server stopped before this interaction finished");
        ia_core_finalize(c, r, IA_STATUS_FAILED, &err, L->n_prompt, L->n_output);
    } else if (atomic_load(&r->cancel)) {
        ia_core_finalize(c, r, IA_STATUS_CANCELLED, NULL, L->n_prompt, L->n_output);
    } else {
        ia_core_finalize(c, r, rc == 0 ? IA_STATUS_COMPLETED : IA_STATUS_FAILED, rc == 0 ? NULL : &err, L->n_prompt,
                         L->n_output);
    }
    step_thread_done(c, r);
    return NULL;
}

/* Hands r (and a reference on it) to a thread of its own running fn,
 * counted in the core so that shutdown waits for it. */
static void spawn_step(ia_core *c, ia_run *r, void *(*fn)(void *), const char *what) {
    pthread_mutex_lock(&c->mu);
    c->tool_threads++;
    pthread_mutex_unlock(&c->mu);
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &a, fn, r);
    pthread_attr_destroy(&a);
    if (rc == 0) return;
    ia_err err;
    ia_fail(&err, IA_EINTERNAL, "could not start a thread for %s", what);
    ia_core_finalize(c, r, IA_STATUS_FAILED, &err, r->loop->n_prompt, r->loop->n_output);
    step_thread_done(c, r);
}

static void start_media_step(ia_core *c, ia_run *r) { spawn_step(c, r, media_step_main, "the media outputs"); }

/* Hands r (and the reference its model step held) to a tool step. */
static void start_tool_step(ia_core *c, ia_run *r) { spawn_step(c, r, tool_step_main, "the tool calls"); }
