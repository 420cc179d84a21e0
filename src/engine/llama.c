/* llama.c: the in-process engine — one llama.cpp model served by one engine
 * thread. ia_engine_load loads the model (progress dots on stderr), creates
 * its llama_context and starts the thread; from then on only that thread
 * touches the context, the chat template and the vocabulary. HTTP and core
 * threads call ia_engine_submit, which copies the job into a bounded FIFO
 * (full: IA_EOVERLOADED with a Retry-After estimate) and returns at once.
 * The thread runs jobs one at a time: render the conversation through the
 * chat shim, tokenize, check it fits the context, clear the KV memory, decode
 * the prompt, then sample token by token (a llama_sampler chain per job),
 * passing the text through the output filter of outfilter.c (stop sequences,
 * UTF-8 hold-back) to on_text. Structured output, tools and reasoning add
 * samplers at the head of the chain (the schema's grammar; the family's
 * call grammar and reasoning budget from the chat shim) and, for a job with
 * tools or a reasoning template, a parse of the whole text at the end
 * (ia_engine_result.parsed). One job is one sequence on one context: the
 * continuous-batching issue turns the single running job into a set of
 * sequences without changing this file's contract. */
#include "engine/engine.h"

#include <llama.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/chat.h"
#include "engine/jobmsg.h"
#include "engine/outfilter.h"
#include "lib/log.h"
#include "lib/util.h"

#ifndef IA_BACKENDS_DIR
#define IA_BACKENDS_DIR NULL
#endif

#define DEFAULT_MAX_QUEUE 64
#define DEFAULT_MAX_TOKENS 2048
#define DEFAULT_CTX_CAP 8192
#define TINY_MODEL_PARAMS 20000000 /* below this, threads=0 means one thread */

/* A queued job: deep copies of everything the caller passed, so the caller's
 * request memory can die as soon as submit returns. */
typedef struct job {
    struct job *next;
    ia_chat_msg *msgs;
    size_t n_msgs;
    ia_engine_params params; /* stop points into stops below */
    char **stops;
    char *grammar; /* params.grammar points here */
    ia_chat_tool *tools; /* params.tools, copied (jobmsg.c) */
    ia_engine_cb cb;
    atomic_bool *cancel;
} job;

struct ia_engine {
    char *name;
    struct llama_model *model;
    struct llama_context *ctx;
    struct ggml_threadpool *tp; /* ours, not polling; NULL: ggml's default */
    void (*tp_free)(struct ggml_threadpool *);
    const struct llama_vocab *vocab;
    ia_chat *chat;
    bool reasons; /* the template thinks (ia_chat_reasons, at load) */
    int n_ctx, n_batch, max_queue, default_max_tokens;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail; /* FIFO, under mu */
    int n_queued;     /* under mu */
    bool running;     /* under mu */
    atomic_bool stop; /* set by ia_engine_free; the running job checks it per token */

    /* Counters and the job-time estimate behind Retry-After, under mu. */
    int64_t jobs_done, tokens_generated;
    double avg_job_ms;
};

/* ---- process-wide set-up -------------------------------------------------- */

static bool g_verbose;

/* llama.cpp and ggml log a great deal at load time; the server keeps only
 * their errors unless asked to be verbose. */
static void log_cb(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (g_verbose || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

void ia_engine_global_init(const char *backends_dir, bool verbose) {
    static bool done;
    if (done) return;
    done = true;
    g_verbose = verbose;
    llama_log_set(log_cb, NULL);
    ia_chat_set_verbose(verbose);
    /* The prebuilt bundle ships its CPU backends as loadable variants
     * (haswell, skylakex, ...): without this call no backend exists and
     * every model load fails. */
    const char *dir = backends_dir ? backends_dir : IA_BACKENDS_DIR;
    if (dir) ggml_backend_load_all_from_path(dir);
    else ggml_backend_load_all();
    llama_backend_init();
}

/* ---- loading -------------------------------------------------------------- */

/* A dot per 5% on one stderr line: readable on a terminal and in a log file
 * alike (no carriage returns). */
typedef struct {
    const char *name;
    int dots;
} progress;

static bool on_progress(float p, void *ud) {
    progress *pr = ud;
    if (pr->dots == 0) {
        fprintf(stderr, "loading model %s ", pr->name);
        pr->dots = 1;
    }
    int want = 1 + (int)(p * 20.0f);
    for (; pr->dots < want && pr->dots <= 20; pr->dots++) fputc('.', stderr);
    if (p >= 1.0f && pr->dots <= 21) {
        fputs(" 100%\n", stderr);
        pr->dots = 22;
    }
    return true;
}

static char *read_file(const char *path, ia_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        ia_fail(err, IA_EINVALID, "chat template %s: cannot open", path);
        return NULL;
    }
    ia_buf b;
    ia_buf_init(&b, 4 << 20);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rc = ia_buf_append(&b, chunk, n);
    bool bad = ferror(f) || rc != 0;
    fclose(f);
    if (bad) {
        ia_buf_free(&b);
        ia_fail(err, IA_EINVALID, "chat template %s: unreadable or larger than 4 MiB", path);
        return NULL;
    }
    return ia_buf_take(&b);
}

/* A CPU threadpool whose idle workers sleep instead of spinning (poll 0).
 * Measured on 2 cores with other processes busy (135M model, Q8_0):
 * ggml's default pool decoded 5 tokens/s with 2 threads, this one 30-120
 * (1 thread: 110). The functions live in the dynamically loaded CPU
 * backend, so they are looked up through the backend registry, as
 * llama.cpp's own common library does. */
static void attach_threadpool(ia_engine *e, int threads) {
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : NULL;
    if (!reg) return;
    typedef struct ggml_threadpool *(*tp_new_fn)(struct ggml_threadpool_params *);
    tp_new_fn tp_new = (tp_new_fn)ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new");
    e->tp_free = (void (*)(struct ggml_threadpool *))ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free");
    if (!tp_new || !e->tp_free) return;
    struct ggml_threadpool_params tpp = ggml_threadpool_params_default(threads);
    tpp.poll = 0;
    e->tp = tp_new(&tpp);
    if (e->tp) llama_attach_threadpool(e->ctx, e->tp, e->tp);
}

static void *engine_main(void *arg);

ia_engine *ia_engine_load(const ia_engine_opts *opts, ia_err *err) {
    ia_engine *e = ia_xcalloc(1, sizeof *e);
    char *tmpl = NULL;
    e->name = ia_strdup(opts->name ? opts->name : "model");
    e->max_queue = opts->max_queue > 0 ? opts->max_queue : DEFAULT_MAX_QUEUE;
    e->default_max_tokens = opts->default_max_tokens > 0 ? opts->default_max_tokens : DEFAULT_MAX_TOKENS;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    atomic_init(&e->stop, false);

    if (!opts->path) {
        ia_fail(err, IA_EINVALID, "model %s: no GGUF path", e->name);
        goto fail;
    }
    if (opts->chat_template && !(tmpl = read_file(opts->chat_template, err))) goto fail;

    progress pr = {e->name, 0};
    struct llama_model_params mp = llama_model_default_params();
    mp.progress_callback = on_progress;
    mp.progress_callback_user_data = &pr;
    e->model = llama_model_load_from_file(opts->path, mp);
    if (pr.dots > 0 && pr.dots <= 21) fputs(e->model ? " 100%\n" : " failed\n", stderr);
    if (!e->model) {
        ia_fail(err, IA_EINVALID, "model %s: cannot load %s (not a GGUF model llama.cpp can run?)", e->name,
                opts->path);
        goto fail;
    }
    e->vocab = llama_model_get_vocab(e->model);

    int n_train = llama_model_n_ctx_train(e->model);
    e->n_ctx = opts->n_ctx > 0 ? opts->n_ctx : (n_train > 0 && n_train < DEFAULT_CTX_CAP ? n_train : DEFAULT_CTX_CAP);
    e->n_batch = e->n_ctx < 2048 ? e->n_ctx : 2048;
    int threads = opts->threads;
    if (threads <= 0) {
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
        /* ggml's workers spin while they wait for each other: for a model
         * this small a token costs microseconds, so extra threads only add
         * synchronisation, and on a busy machine (tests running beside the
         * server) the spinning turns milliseconds into seconds. */
        if (llama_model_n_params(e->model) < TINY_MODEL_PARAMS) threads = 1;
    }
    if (threads < 1) threads = 1;

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)e->n_ctx;
    cp.n_batch = (uint32_t)e->n_batch;
    cp.n_ubatch = cp.n_batch < 512 ? cp.n_batch : 512;
    cp.n_seq_max = 1;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    e->ctx = llama_init_from_model(e->model, cp);
    if (!e->ctx) {
        ia_fail(err, IA_EINTERNAL, "model %s: cannot create a context of %d tokens", e->name, e->n_ctx);
        goto fail;
    }
    attach_threadpool(e, threads);

    char *cerr = NULL;
    e->chat = ia_chat_new(e->model, tmpl, &cerr);
    if (!e->chat) {
        ia_fail(err, IA_EINVALID, "model %s: %s", e->name, cerr ? cerr : "chat template rejected");
        free(cerr);
        goto fail;
    }
    free(tmpl);
    tmpl = NULL;
    e->reasons = ia_chat_reasons(e->chat);

    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        ia_fail(err, IA_EINTERNAL, "model %s: cannot start its engine thread", e->name);
        goto fail;
    }
    e->thread_started = true;
    return e;
fail:
    free(tmpl);
    ia_engine_free(e);
    return NULL;
}

const char *ia_engine_name(const ia_engine *e) { return e->name; }

const char *ia_engine_template_kind(const ia_engine *e) {
    return ia_chat_is_plain(e->chat) ? "plain" : "jinja";
}

int ia_engine_n_ctx(const ia_engine *e) { return e->n_ctx; }

bool ia_engine_reasons(const ia_engine *e) { return e->reasons; }

/* ---- the queue ------------------------------------------------------------ */

static void job_free(job *j) {
    if (!j) return;
    ia_jobmsg_free(j->msgs, j->n_msgs);
    ia_jobmsg_free_tools(j->tools, j->params.n_tools);
    for (size_t i = 0; i < j->params.n_stop; i++) free(j->stops[i]);
    free(j->stops);
    free(j->grammar);
    free(j);
}

int ia_engine_submit(ia_engine *e, const ia_engine_msg *msgs, size_t n_msgs,
                     const ia_engine_params *params, const ia_engine_cb *cb,
                     atomic_bool *cancel, ia_err *err) {
    job *j = ia_xcalloc(1, sizeof *j);
    j->msgs = ia_jobmsg_copy(msgs, n_msgs);
    j->n_msgs = n_msgs;
    if (params) j->params = *params;
    j->tools = ia_jobmsg_copy_tools(j->params.tools, j->params.n_tools);
    j->params.tools = NULL; /* the shim reads j->tools */
    j->stops = ia_xcalloc(j->params.n_stop ? j->params.n_stop : 1, sizeof *j->stops);
    for (size_t i = 0; i < j->params.n_stop; i++) j->stops[i] = ia_strdup(params->stop[i] ? params->stop[i] : "");
    j->params.stop = (const char *const *)j->stops;
    j->grammar = j->params.grammar ? ia_strdup(j->params.grammar) : NULL;
    j->params.grammar = j->grammar;
    j->cb = *cb;
    j->cancel = cancel;

    pthread_mutex_lock(&e->mu);
    if (atomic_load(&e->stop)) {
        pthread_mutex_unlock(&e->mu);
        job_free(j);
        return ia_fail(err, IA_EOVERLOADED, "model %s is shutting down", e->name);
    }
    if (e->n_queued >= e->max_queue) {
        /* Retry-After: the time to drain what is ahead, from the running
         * average job time; at least a second. */
        double ms = e->avg_job_ms > 0 ? e->avg_job_ms : 1000.0;
        int ra = (int)((e->n_queued + 1) * ms / 1000.0 + 0.999);
        int n = e->n_queued;
        pthread_mutex_unlock(&e->mu);
        job_free(j);
        ia_fail(err, IA_EOVERLOADED, "model %s is overloaded (%d requests waiting); retry later", e->name, n);
        if (err) err->retry_after = ra < 1 ? 1 : ra > 600 ? 600 : ra;
        return -1;
    }
    if (e->tail) e->tail->next = j;
    else e->head = j;
    e->tail = j;
    e->n_queued++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

void ia_engine_get_stats(ia_engine *e, ia_engine_stats *st) {
    pthread_mutex_lock(&e->mu);
    st->jobs_done = e->jobs_done;
    st->tokens_generated = e->tokens_generated;
    st->queued = e->n_queued;
    st->running = e->running ? 1 : 0;
    pthread_mutex_unlock(&e->mu);
}

/* ---- running a job -------------------------------------------------------- */

/* The chain for one job; NULL when its grammar does not parse. The grammar
 * comes first, so the truncations and the draw only ever see tokens it
 * allows. */
static struct llama_sampler *make_sampler(const struct llama_vocab *vocab, const ia_engine_params *p) {
    struct llama_sampler_chain_params sp = llama_sampler_chain_default_params();
    sp.no_perf = true;
    struct llama_sampler *s = llama_sampler_chain_init(sp);
    if (p->grammar) {
        struct llama_sampler *g = llama_sampler_init_grammar(vocab, p->grammar, "root");
        if (!g) {
            llama_sampler_free(s);
            return NULL;
        }
        llama_sampler_chain_add(s, g);
    }
    double temp = p->has_temperature ? p->temperature : 1.0;
    if (temp <= 0.0) {
        llama_sampler_chain_add(s, llama_sampler_init_greedy());
        return s;
    }
    uint32_t seed = LLAMA_DEFAULT_SEED; /* llama.cpp: draw a random seed */
    if (p->has_seed) {
        /* Fold 64 bits to llama's 32; keep clear of the "random" value. */
        seed = (uint32_t)(p->seed ^ (p->seed >> 32));
        if (seed == LLAMA_DEFAULT_SEED) seed--;
    }
    int top_k = p->has_top_k ? p->top_k : 64;
    double top_p = p->has_top_p ? p->top_p : 0.95;
    if (top_k > 0) llama_sampler_chain_add(s, llama_sampler_init_top_k(top_k));
    if (top_p < 1.0) llama_sampler_chain_add(s, llama_sampler_init_top_p((float)top_p, 1));
    llama_sampler_chain_add(s, llama_sampler_init_temp((float)temp));
    llama_sampler_chain_add(s, llama_sampler_init_dist(seed));
    return s;
}

static bool should_stop(ia_engine *e, const job *j) {
    return atomic_load(&e->stop) || (j->cancel && atomic_load(j->cancel));
}

/* Tokenizes the rendered prompt: BOS as the vocabulary asks (the chat shim
 * already stripped a template's own BOS), special tokens parsed, since the
 * template writes them as text. Returns the count, or -1. */
static int tokenize(ia_engine *e, const char *text, llama_token **out) {
    size_t len = strlen(text);
    if (len > INT32_MAX / 2) return -1;
    int cap = (int)len + 8;
    llama_token *t = ia_xmalloc((size_t)cap * sizeof *t);
    int n = llama_tokenize(e->vocab, text, (int32_t)len, t, cap, true, true);
    if (n < 0) {
        cap = -n;
        t = ia_xrealloc(t, (size_t)cap * sizeof *t);
        n = llama_tokenize(e->vocab, text, (int32_t)len, t, cap, true, true);
    }
    if (n < 0) {
        free(t);
        return -1;
    }
    *out = t;
    return n;
}

/* With tools, the text passed on is also kept whole for the parser. */
typedef struct {
    job *j;
    ia_buf *text;
} tee;

static int tee_text(void *ud, const char *text, size_t len) {
    tee *t = ud;
    if (t->text) ia_buf_append(t->text, text, len);
    return t->j->cb.on_text(t->j->cb.ud, text, len);
}

/* Runs one job to completion and fills res (its parsed output lives in
 * *parsed, which the caller frees after on_done). Does not call on_done. */
static void run_job(ia_engine *e, job *j, ia_engine_result *res, ia_chat_parsed *parsed) {
    char *prompt = NULL, *cerr = NULL;
    llama_token *toks = NULL;
    struct llama_sampler *smpl = NULL, *budget = NULL; /* budget: owned by smpl's chain */
    int64_t n_inside = 0; /* tokens sampled inside the thinking block */
    ia_chat_state *cst = NULL;
    ia_buf whole;
    ia_buf_init(&whole, 0);
    bool parse = j->tools || e->reasons; /* the output is split into text, reasoning, calls */
    tee tt = {j, parse ? &whole : NULL};
    ia_outfilter of;
    ia_outfilter_init(&of, j->params.stop, j->params.n_stop, tee_text, &tt);

    if (should_stop(e, j)) {
        res->finish = IA_FINISH_CANCELLED;
        goto done;
    }
    ia_chat_opts copts = {.tools = j->tools, .n_tools = j->params.n_tools, .parallel_tool_calls = true,
                          .tool_choice = (ia_chat_tool_choice)j->params.tool_choice,
                          .thinking_budget = j->params.thinking_budget,
                          .answer_grammar = j->tools ? j->params.grammar : NULL};
    if (ia_chat_render_ex(e->chat, j->msgs, j->n_msgs, &copts, &prompt, &cst, &cerr) != 0) {
        res->finish = IA_FINISH_ERROR;
        ia_fail(&res->err, IA_EINVALID, "%s", cerr ? cerr : "chat template failed");
        goto done;
    }
    int n = tokenize(e, prompt, &toks);
    if (n < 0) {
        res->finish = IA_FINISH_ERROR;
        ia_fail(&res->err, IA_EINTERNAL, "tokenization failed");
        goto done;
    }
    res->n_prompt = n;
    if (n == 0 || n >= e->n_ctx) {
        res->finish = IA_FINISH_ERROR;
        if (n == 0) ia_fail(&res->err, IA_EINVALID, "input: the prompt is empty");
        else ia_fail(&res->err, IA_EINVALID,
                     "input: the prompt is %d tokens, which does not fit model %s's context of %d tokens",
                     n, e->name, e->n_ctx);
        goto done;
    }

    llama_memory_clear(llama_get_memory(e->ctx), true);
    /* with tools, a schema's grammar is composed into the call grammar */
    ia_engine_params sp = j->params;
    if (j->tools && j->params.tool_choice != IA_TOOLS_NONE) sp.grammar = NULL;
    smpl = make_sampler(e->vocab, &sp);
    if (!smpl) {
        res->finish = IA_FINISH_ERROR;
        ia_fail(&res->err, IA_EINVALID, "response_format: llama.cpp could not parse the grammar");
        goto done;
    }
    if (cst) { /* the family's call grammar and reasoning budget go first in the chain */
        struct llama_sampler *tg = NULL, *bg = NULL;
        if ((j->tools && ia_chat_state_sampler(cst, e->vocab, &tg, &cerr) != 0) ||
            ia_chat_state_budget_sampler(cst, e->vocab, &bg, &cerr) != 0) {
            if (tg) llama_sampler_free(tg);
            res->finish = IA_FINISH_ERROR;
            ia_fail(&res->err, IA_EINVALID, "%s", cerr ? cerr : "tools: no grammar");
            goto done;
        }
        budget = bg;
        if (tg || bg) {
            struct llama_sampler *chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
            if (bg) llama_sampler_chain_add(chain, bg);
            if (tg) llama_sampler_chain_add(chain, tg);
            llama_sampler_chain_add(chain, smpl);
            smpl = chain;
        }
    }
    if (j->cb.on_start) j->cb.on_start(j->cb.ud, n);

    /* The prompt, in batches; logits come back for its last token only. */
    for (int i = 0; i < n; i += e->n_batch) {
        if (should_stop(e, j)) {
            res->finish = IA_FINISH_CANCELLED;
            goto done;
        }
        int k = n - i < e->n_batch ? n - i : e->n_batch;
        if (llama_decode(e->ctx, llama_batch_get_one(toks + i, k)) != 0) {
            res->finish = IA_FINISH_ERROR;
            ia_fail(&res->err, IA_EINTERNAL, "decoding the prompt failed");
            goto done;
        }
    }

    int64_t max_tokens = j->params.max_tokens > 0 ? j->params.max_tokens : e->default_max_tokens;
    int pos = n;
    for (;;) {
        if (should_stop(e, j)) {
            ia_outfilter_flush(&of);
            res->finish = IA_FINISH_CANCELLED;
            break;
        }
        bool inside = budget && ia_chat_budget_inside(budget);
        llama_token t = llama_sampler_sample(smpl, e->ctx, -1);
        res->n_output++;
        n_inside += inside;
        if (llama_vocab_is_eog(e->vocab, t)) {
            ia_outfilter_flush(&of);
            res->finish = IA_FINISH_STOP;
            break;
        }
        char piece[256];
        /* special=false: control tokens the model emits are not text. */
        int len = llama_token_to_piece(e->vocab, t, piece, sizeof piece, 0, false);
        if (len < 0) len = 0;
        int r = ia_outfilter_push(&of, piece, (size_t)len);
        if (r == IA_OUTFILTER_STOPPED) {
            res->finish = IA_FINISH_CANCELLED;
            break;
        }
        if (r == IA_OUTFILTER_STOP_SEQ) {
            res->finish = IA_FINISH_STOP;
            break;
        }
        if (res->n_output >= max_tokens || pos + 1 >= e->n_ctx) {
            ia_outfilter_flush(&of);
            res->finish = IA_FINISH_LENGTH;
            break;
        }
        if (llama_decode(e->ctx, llama_batch_get_one(&t, 1)) != 0) {
            res->finish = IA_FINISH_ERROR;
            ia_fail(&res->err, IA_EINTERNAL, "decoding failed at position %d", pos);
            break;
        }
        pos++;
    }
    if (parse && cst && res->finish != IA_FINISH_ERROR) {
        bool partial = res->finish != IA_FINISH_STOP;
        if (ia_chat_parse(cst, whole.data ? whole.data : "", partial, parsed, &cerr) != 0) {
            res->finish = IA_FINISH_ERROR;
            ia_fail(&res->err, IA_EINTERNAL, "%s", cerr ? cerr : "parsing the output failed");
        } else {
            res->parsed = true;
            res->content = parsed->content;
            res->reasoning = parsed->reasoning;
            /* ia_chat_parsed's call triple has ia_engine_call's layout */
            res->calls = (const ia_engine_call *)(const void *)parsed->calls;
            res->n_calls = parsed->n_calls;
            if (parsed->reasoning && *parsed->reasoning && budget) {
                res->n_thought = n_inside; /* counted as sampled */
            } else if (parsed->reasoning && *parsed->reasoning) {
                llama_token *rt = NULL;
                int nr = tokenize(e, parsed->reasoning, &rt);
                res->n_thought = nr > 0 ? nr - (llama_vocab_get_add_bos(e->vocab) ? 1 : 0) : 0; /* not the BOS */
                if (res->n_thought > res->n_output) res->n_thought = res->n_output;
                free(rt);
            }
        }
    }
done:
    ia_outfilter_free(&of);
    ia_buf_free(&whole);
    ia_chat_state_free(cst);
    if (smpl) llama_sampler_free(smpl);
    free(toks);
    free(prompt);
    free(cerr);
}

static void *engine_main(void *arg) {
    ia_engine *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        while (!e->head && !atomic_load(&e->stop)) pthread_cond_wait(&e->cv, &e->mu);
        if (atomic_load(&e->stop)) {
            pthread_mutex_unlock(&e->mu);
            break;
        }
        job *j = e->head;
        e->head = j->next;
        if (!e->head) e->tail = NULL;
        e->n_queued--;
        e->running = true;
        pthread_mutex_unlock(&e->mu);

        int64_t t0 = ia_mono_ms();
        ia_engine_result res = {0};
        ia_chat_parsed parsed = {0};
        run_job(e, j, &res, &parsed);

        pthread_mutex_lock(&e->mu);
        e->running = false;
        e->jobs_done++;
        e->tokens_generated += res.n_output;
        double ms = (double)(ia_mono_ms() - t0);
        e->avg_job_ms = e->avg_job_ms > 0 ? 0.8 * e->avg_job_ms + 0.2 * ms : ms;
        pthread_mutex_unlock(&e->mu);

        j->cb.on_done(j->cb.ud, &res);
        ia_chat_parsed_free(&parsed);
        job_free(j);
    }
    return NULL;
}

void ia_engine_free(ia_engine *e) {
    if (!e) return;
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->stop, true);
    pthread_cond_broadcast(&e->cv);
    job *pending = e->head;
    e->head = e->tail = NULL;
    e->n_queued = 0;
    pthread_mutex_unlock(&e->mu);
    if (e->thread_started) pthread_join(e->thread, NULL);
    /* Jobs that never ran still get their one on_done, as the contract says. */
    while (pending) {
        job *next = pending->next;
        ia_engine_result res = {.finish = IA_FINISH_CANCELLED};
        pending->cb.on_done(pending->cb.ud, &res);
        job_free(pending);
        pending = next;
    }
    ia_chat_free(e->chat);
    if (e->ctx) llama_free(e->ctx);
    if (e->tp) e->tp_free(e->tp); /* after the context that used it */
    if (e->model) llama_model_free(e->model);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
    free(e->name);
    free(e);
}
