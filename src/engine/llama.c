/* llama.c: the in-process engine — loading one llama.cpp model, choosing
 * how many contexts (workers) serve it and with how many threads, creating
 * them (one sequence per slot, each its own KV stream of n_ctx cells, or
 * one unified cache where seqstate.c cannot carry the memory: recurrent,
 * hybrid and other models), the kept-sequence cache they share, and the
 * calls other threads make: ia_engine_submit copies the job into a
 * bounded FIFO (full: IA_EOVERLOADED with a Retry-After estimate) and
 * returns at once; the worker threads of sched.c take it from there, each
 * alone touching its context. A job's messages and functions are copied
 * by jobmsg.c; its grammar, tools and reasoning budget become samplers of
 * its own sequence in sched.c. */
#include "engine/engine_int.h"
#include "engine/seqstate.h"

#include <dlfcn.h>
#include <llama.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "engine/jobmsg.h"
#include "lib/log.h"
#include "lib/util.h"

#define DEFAULT_MAX_QUEUE 64
#define DEFAULT_MAX_TOKENS 2048
#define DEFAULT_CTX_CAP 8192
#define TINY_MODEL_PARAMS 20000000 /* below this, threads=0 means one thread */

#define DEFAULT_PARALLEL 4
#define DEFAULT_CHUNK 256
#define MIN_CHUNK 128
#define DEFAULT_DISK_BUDGET (4LL << 30)
#define MAX_RAM_BUDGET (2LL << 30)

/* ---- process-wide set-up -------------------------------------------------- */

static bool g_verbose;

/* llama.cpp and ggml log a great deal at load time; the server keeps only
 * their errors unless asked to be verbose. */
static void log_cb(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (g_verbose || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

/* The folder of the library that holds ggml's backend registry (libggml):
 * its loadable backends (the CPU variants of a GGML_BACKEND_DL build, CUDA)
 * are installed beside it, wherever that folder is (the build tree, an
 * install's lib/interactd, a system llama.cpp). dlsym, not the function's
 * address, which may be a PLT stub in the executable. */
static bool ggml_lib_dir(char *out, size_t cap) {
    void *sym = dlsym(RTLD_DEFAULT, "ggml_backend_load_all_from_path");
    Dl_info di;
    if (!sym || !dladdr(sym, &di) || !di.dli_fname) return false;
    const char *slash = strrchr(di.dli_fname, '/');
    if (!slash || (size_t)(slash - di.dli_fname) + 1 > cap) return false;
    memcpy(out, di.dli_fname, (size_t)(slash - di.dli_fname));
    out[slash - di.dli_fname] = '\0';
    return true;
}

static bool have_cpu_backend(void) {
    return ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU) != NULL;
}

void ia_engine_global_init(const char *backends_dir, bool verbose) {
    static bool done;
    if (done) return;
    done = true;
    g_verbose = verbose;
    llama_log_set(log_cb, NULL);
    ia_chat_set_verbose(verbose);
    /* A build with loadable backends (GGML_BACKEND_DL: the CPU variants,
     * CUDA) registers none until they are loaded: without them every model
     * load fails. Looked for in backends_dir (--backends) if given, else
     * beside libggml, else libggml's ../bin (where llama.cpp's own install
     * puts them) and ggml's defaults (the executable's folder, the working
     * folder). A build with the CPU backend linked in has one already; the
     * search then only adds a GPU module if one is there. */
    char dir[4096];
    if (backends_dir && *backends_dir) {
        ggml_backend_load_all_from_path(backends_dir);
        if (!have_cpu_backend()) fprintf(stderr, "interactd: no CPU backend (libggml-cpu*.so) in %s\n", backends_dir);
    } else if (ggml_lib_dir(dir, sizeof dir)) {
        ggml_backend_load_all_from_path(dir);
        if (!have_cpu_backend() && strlen(dir) + 8 < sizeof dir) {
            strcat(dir, "/../bin");
            ggml_backend_load_all_from_path(dir);
        }
    }
    if (!have_cpu_backend()) ggml_backend_load_all();
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
static void attach_threadpool(ia_engine *e, worker *w, int threads) {
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : NULL;
    if (!reg) return;
    typedef struct ggml_threadpool *(*tp_new_fn)(struct ggml_threadpool_params *);
    tp_new_fn tp_new = (tp_new_fn)ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new");
    e->tp_free = (void (*)(struct ggml_threadpool *))ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free");
    if (!tp_new || !e->tp_free) return;
    struct ggml_threadpool_params tpp = ggml_threadpool_params_default(threads);
    tpp.poll = 0;
    w->tp = tp_new(&tpp);
    if (w->tp) llama_attach_threadpool(w->ctx, w->tp, w->tp);
}

/* How many contexts and threads per context serve the model. Measured on
 * 2 shared vCPUs (bench/RESULTS.md): two single-threaded contexts decoded
 * up to 1.7x more tokens per second together than one context of two
 * threads, whose threads wait for each other after every graph node, and
 * batching more sequences into one context bought little, the small model's
 * matmuls being compute-bound there. With many cores that reverses: a
 * large model is bound by memory bandwidth, where one context reading the
 * weights once per step for all its sequences wins. So the automatic
 * layout splits only small machines (at most 4 cores) into one context
 * per core, and otherwise keeps one context with every core's thread; a
 * model too small to gain from threads gets one context of one thread
 * (tests run several servers side by side). */
#define SPLIT_MAX_CORES 4
static void choose_layout(const ia_engine_opts *o, bool tiny, int n_slots, int *contexts, int *threads) {
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    int c = o->contexts, t = o->threads;
    if (c <= 0 && t <= 0) {
        if (tiny) c = 1, t = 1;
        else if (cores <= SPLIT_MAX_CORES) c = cores, t = 1;
        else c = 1, t = cores;
    } else if (c <= 0) {
        c = tiny ? 1 : cores / t;
    } else if (t <= 0) {
        t = tiny ? 1 : cores / c;
    }
    if (c > n_slots) {
        /* More contexts than sequences would idle: fewer contexts, and
         * unless the threads were given, the cores shared among them. */
        c = n_slots;
        if (o->threads <= 0 && !tiny) t = cores / c;
    }
    *contexts = c < 1 ? 1 : c;
    *threads = t < 1 ? 1 : t;
}

/* One worker's context, threads, slots and batch. */
static int worker_init(ia_engine *e, worker *w, int idx, int n_slots, int chunk) {
    w->e = e;
    w->idx = idx;
    w->n_slots = n_slots;
    w->chunk_now = e->chunk;
    pthread_mutex_init(&w->kv_mu, NULL);
    /* One KV stream per slot (llama.cpp's non-unified cache, as
     * llama-server runs with -np): each sequence attends over its own
     * cells only. In one unified cache every token of a batch of eight
     * walks all eight histories' cells under the mask, ~10 % of a step
     * (llama-batched-bench, 135M, 8 x 115 + 64: 330 against 295 tok/s of
     * generation). The price: a batch is one ubatch only when its
     * sequences' ids are consecutive (llama.cpp's sequential split), so
     * slots are chosen to keep the running ones together
     * (ia_slot_spare), and a prefix is shared by copying its state. */
    int batch_cap = chunk + n_slots;
    /* a media run (an image attended non-causally) is decoded in one batch */
    if (batch_cap < ia_mm_batch_min(e->mm)) batch_cap = ia_mm_batch_min(e->mm);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)e->n_ctx * (uint32_t)n_slots;
    cp.n_batch = (uint32_t)batch_cap;
    cp.n_ubatch = (uint32_t)batch_cap;
    cp.n_seq_max = (uint32_t)n_slots;
    /* A step asks logits of at most one token per slot (its next token, or
     * the last of its prompt): without this, llama.cpp sizes the logits
     * buffer for n_batch outputs — n_vocab × 512 floats, ~300 MB for a
     * 150k-token vocabulary. */
    cp.n_outputs_max = (uint32_t)n_slots;
    cp.kv_unified = !e->streams;
    cp.n_threads = e->threads;
    cp.n_threads_batch = e->threads;
    cp.no_perf = true;
    w->ctx = llama_init_from_model(e->model, cp);
    if (!w->ctx) return -1;
    attach_threadpool(e, w, e->threads_total); /* room to borrow idle workers' cores */
    w->cur_threads = e->threads;
    w->batch = llama_batch_init(batch_cap, 0, 1);
    w->slots = ia_xcalloc((size_t)n_slots, sizeof *w->slots);
    for (int i = 0; i < n_slots; i++) w->slots[i].id = i;
    return 0;
}


/* Which vocabulary the model tokenizes with: a hash of every token's text
 * and kind, so that kept tokens go only to a model that reads them the same
 * (another name for the same file, or a sibling of one family). */
static void vocab_fingerprint(ia_engine *e) {
    ia_buf b;
    ia_buf_init(&b, 0);
    int n = llama_vocab_n_tokens(e->vocab);
    ia_buf_printf(&b, "%d|", n);
    for (int t = 0; t < n; t++) {
        const char *s = llama_vocab_get_text(e->vocab, t);
        ia_buf_printf(&b, "%s|%d|", s ? s : "", (int)llama_vocab_get_attr(e->vocab, t));
    }
    char hex[65];
    ia_sha256_hex(b.data ? b.data : "", b.len, hex);
    memcpy(e->vocab_id, hex, 16);
    e->vocab_id[16] = '\0';
    ia_buf_free(&b);
}

ia_engine *ia_engine_load(const ia_engine_opts *opts, ia_err *err) {
    ia_engine *e = ia_xcalloc(1, sizeof *e);
    char *tmpl = NULL;
    e->name = ia_strdup(opts->name ? opts->name : "model");
    e->max_queue = opts->max_queue > 0 ? opts->max_queue : DEFAULT_MAX_QUEUE;
    e->default_max_tokens = opts->default_max_tokens > 0 ? opts->default_max_tokens : DEFAULT_MAX_TOKENS;
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->kvc_mu, NULL);
    pthread_mutex_init(&e->chat_mu, NULL);
    pthread_mutex_init(&e->stats_mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    atomic_init(&e->stop, false);
    atomic_init(&e->busy, 0);

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
    vocab_fingerprint(e);

    int n_train = llama_model_n_ctx_train(e->model);
    e->n_ctx = opts->n_ctx > 0 ? opts->n_ctx : (n_train > 0 && n_train < DEFAULT_CTX_CAP ? n_train : DEFAULT_CTX_CAP);
    e->n_slots = opts->parallel > 0 ? opts->parallel : DEFAULT_PARALLEL;
    if (e->n_slots > 256) e->n_slots = 256; /* llama.cpp's LLAMA_MAX_SEQ */
    e->no_prefix_cache = opts->no_prefix_cache;
    bool tiny = llama_model_n_params(e->model) < TINY_MODEL_PARAMS;
    /* Recurrent and hybrid models' memory has no KV streams, and another
     * memory seqstate.c cannot carry between contexts: one unified cache,
     * as before. */
    e->streams = !llama_model_is_recurrent(e->model) && !llama_model_is_hybrid(e->model) &&
                 ia_seqstate_streams_ok(e->model);
    choose_layout(opts, tiny, e->n_slots, &e->n_workers, &e->threads);
    /* What a lone busy context may borrow: the other contexts' threads,
     * but never more than the machine's cores (oversubscribed threads
     * spin at ggml's barrier). */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    e->threads_total = e->n_workers * e->threads;
    if (cores > 0 && e->threads_total > cores) e->threads_total = (int)cores;
    if (e->threads_total < e->threads) e->threads_total = e->threads;
    if (opts->mmproj) {
        ia_err merr;
        e->mm = ia_mm_load(opts->mmproj, e->model, e->threads_total, &merr);
        if (!e->mm) {
            ia_fail(err, merr.code, "model %s: %s", e->name, merr.msg);
            goto fail;
        }
        ia_info("model %s: projector %s (%s)", e->name, opts->mmproj, ia_engine_modalities(e));
    }
    /* The default chunk is shared out among the contexts: each context's
     * scratch memory grows with its chunk, and the contexts prefill side by
     * side anyway. Small, because on the CPU backend prefill runs as fast
     * in chunks of 128 as of 512 (llama-batched-bench, 135M Q8_0: 455 /
     * 462 / 435 tok/s at 128 / 256 / 512), while the scratch and the other
     * streams' wait for the chunk grow with it. */
    e->chunk = DEFAULT_CHUNK / e->n_workers;
    if (e->chunk < MIN_CHUNK) e->chunk = MIN_CHUNK;
    if (opts->prefill_chunk > 0) e->chunk = opts->prefill_chunk;
    /* With the load-following layout (layout.c) worker 0 may run every
     * sequence as one batch, so its context has room for all of them and
     * a chunk as wide as all the contexts' together; the others keep
     * their share. */
    e->follow = e->n_workers > 1 && !opts->fixed_layout;
    e->chunk_wide = opts->prefill_chunk > 0 ? e->chunk : e->chunk * e->n_workers;
    e->workers = ia_xcalloc((size_t)e->n_workers, sizeof *e->workers);
    for (int i = 0; i < e->n_workers; i++) {
        /* The slots spread evenly, the first workers taking the remainder. */
        int n = e->n_slots / e->n_workers + (i < e->n_slots % e->n_workers);
        bool all = e->follow && i == 0;
        e->workers[i].share = n;
        if (worker_init(e, &e->workers[i], i, all ? e->n_slots : n, all ? e->chunk_wide : e->chunk) != 0) {
            ia_fail(err, IA_EINTERNAL, "model %s: cannot create a context of %d tokens", e->name, e->n_ctx);
            goto fail;
        }
    }
    int ub = 0;
    for (int i = 0; i < e->n_workers; i++)
        if (!ub || (int)llama_n_ubatch(e->workers[i].ctx) < ub) ub = (int)llama_n_ubatch(e->workers[i].ctx);
    ia_mm_set_batch(e->mm, ub);
    ia_info("model %s: %d context%s of %d thread%s, %d parallel sequences%s", e->name, e->n_workers,
            e->n_workers == 1 ? "" : "s", e->threads, e->threads == 1 ? "" : "s", e->n_slots,
            e->follow ? " (one batch in one context past 2 sequences per context)" : "");
    if (!e->no_prefix_cache) {
        char desc[128], fp[256];
        struct stat sb;
        llama_model_desc(e->model, desc, sizeof desc);
        /* Saved states fit only the very model file that computed them. */
        bool st_ok = stat(opts->path, &sb) == 0;
        snprintf(fp, sizeof fp, "%s|%llu|%lld|%lld|%s", desc, (unsigned long long)llama_model_n_params(e->model),
                 st_ok ? (long long)sb.st_size : -1LL, st_ok ? (long long)sb.st_mtime : -1LL, e->name);
        int64_t ram = opts->cache_ram_bytes;
        if (ram == 0) {
            ram = (int64_t)sysconf(_SC_AVPHYS_PAGES) * (int64_t)sysconf(_SC_PAGESIZE) / 8;
            if (ram > MAX_RAM_BUDGET || ram <= 0) ram = MAX_RAM_BUDGET;
        }
        e->kvc = ia_kvc_new(opts->cache_dir, ram, opts->cache_disk_bytes > 0 ? opts->cache_disk_bytes
                                                                              : DEFAULT_DISK_BUDGET, fp, e->streams);
        ia_kvc_get_stats(e->kvc, &e->kvst);
    }

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

    for (int i = 0; i < e->n_workers; i++) {
        worker *w = &e->workers[i];
        if (pthread_create(&w->thread, NULL, ia_engine_main, w) != 0) {
            ia_fail(err, IA_EINTERNAL, "model %s: cannot start its engine thread", e->name);
            goto fail;
        }
        w->thread_started = true;
    }
    return e;
fail:
    free(tmpl);
    ia_engine_free(e);
    return NULL;
}

const char *ia_engine_name(const ia_engine *e) { return e->name; }

static char media_marker[48];
static void make_marker(void) {
    unsigned char r[8] = {0};
    (void)ia_random(r, sizeof r);
    snprintf(media_marker, sizeof media_marker, "<__ia_media_%02x%02x%02x%02x%02x%02x%02x%02x__>", r[0], r[1], r[2],
             r[3], r[4], r[5], r[6], r[7]);
}

const char *ia_engine_media_marker(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_marker);
    return media_marker;
}

bool ia_engine_takes(const ia_engine *e, ia_modality m) {
    return e->remote ? ia_remote_takes(m) : ia_mm_takes(e->mm, m);
}

const char *ia_engine_modalities(const ia_engine *e) {
    if (e->remote) return "text";
    bool i = ia_mm_takes(e->mm, IA_MOD_IMAGE), a = ia_mm_takes(e->mm, IA_MOD_AUDIO),
         v = ia_mm_takes(e->mm, IA_MOD_VIDEO);
    static const char *const names[8] = {"text", "text, image", "text, audio", "text, image, audio",
                                         "text, video", "text, image, video", "text, audio, video",
                                         "text, image, audio, video"};
    return names[(i ? 1 : 0) | (a ? 2 : 0) | (v ? 4 : 0)];
}

int ia_engine_media_check(ia_engine *e, const ia_engine_media *m, const char *field, ia_err *err) {
    if (e->remote) return ia_remote_media_check(e, m, field, err);
    if (m->form != IA_EMEDIA_TEXT && !ia_mm_takes(e->mm, m->modality)) {
        static const char *const mn[IA_MOD__COUNT] = {"text", "image", "audio", "video", "document"};
        return ia_fail(err, IA_EINVALID, "%s: model %s does not take %s input (it takes %s%s)", field, e->name,
                       mn[m->modality < IA_MOD__COUNT ? m->modality : 0], ia_engine_modalities(e),
                       e->mm ? "" : "; serve it with its projector: --mmproj NAME=PATH");
    }
    return ia_mm_check(e->mm, m, field, err);
}
const char *ia_engine_vocab_id(const ia_engine *e) { return e->vocab_id; }

const char *ia_engine_template_kind(const ia_engine *e) {
    if (e->remote) return e->be.kind;
    return ia_chat_is_plain(e->chat) ? "plain" : "jinja";
}

int ia_engine_n_ctx(const ia_engine *e) { return e->remote ? 0 : e->n_ctx; }

int ia_engine_parallel(const ia_engine *e) { return e->remote ? 0 : e->n_slots; }

int ia_engine_contexts(const ia_engine *e) { return e->remote ? 0 : e->n_workers; }

int ia_engine_threads(const ia_engine *e) { return e->remote ? 0 : e->threads; }

bool ia_engine_reasons(const ia_engine *e) { return !e->remote && e->reasons; }

/* ---- the queue ------------------------------------------------------------ */

void ia_engine_job_free(job *j) {
    if (!j) return;
    ia_jobmsg_free(j->msgs, j->n_msgs);
    ia_jobmsg_free_tools(j->tools, j->params.n_tools);
    for (size_t i = 0; i < j->params.n_stop; i++) free(j->stops[i]);
    free(j->stops);
    free(j->grammar);
    free(j->toks);
    ia_mspans_free(j->spans, j->n_spans);
    for (size_t i = 0; i < j->n_media; i++) free((unsigned char *)j->media[i].data);
    free(j->media);
    ia_chat_state_free(j->cst);
    free(j);
}

int ia_engine_submit(ia_engine *e, const ia_engine_msg *msgs, size_t n_msgs,
                     const ia_engine_params *params, const ia_engine_cb *cb,
                     atomic_bool *cancel, ia_err *err) {
    if (e->remote) return e->be.submit(e->be.impl, msgs, n_msgs, params, cb, cancel, err);
    job *j = ia_xcalloc(1, sizeof *j);
    j->msgs = ia_jobmsg_copy(msgs, n_msgs);
    j->n_msgs = n_msgs;
    j->media = ia_jobmsg_copy_media(msgs, n_msgs, &j->n_media);
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
        ia_engine_job_free(j);
        return ia_fail(err, IA_EOVERLOADED, "model %s is shutting down", e->name);
    }
    if (e->n_queued >= e->max_queue) {
        /* Retry-After: the time to drain what is ahead, from the running
         * average job time; at least a second. */
        double ms = e->avg_job_ms > 0 ? e->avg_job_ms : 1000.0;
        int ra = (int)((e->n_queued + 1) * ms / e->n_slots / 1000.0 + 0.999);
        int n = e->n_queued;
        pthread_mutex_unlock(&e->mu);
        ia_engine_job_free(j);
        ia_fail(err, IA_EOVERLOADED, "model %s is overloaded (%d requests waiting); retry later", e->name, n);
        if (err) err->retry_after = ra < 1 ? 1 : ra > 600 ? 600 : ra;
        return -1;
    }
    if (e->tail) e->tail->next = j;
    else e->head = j;
    e->tail = j;
    e->n_queued++;
    ia_layout_update(e);
    pthread_cond_broadcast(&e->cv); /* the workers decide among themselves which takes it */
    pthread_mutex_unlock(&e->mu);
    return 0;
}

void ia_engine_get_stats(ia_engine *e, ia_engine_stats *st) {
    if (e->remote) {
        ia_remote_stats(e, st);
        return;
    }
    pthread_mutex_lock(&e->mu);
    st->jobs_done = e->jobs_done;
    st->tokens_generated = e->tokens_generated;
    st->queued = e->n_queued;
    st->running = e->n_running;
    st->steps = e->steps;
    st->max_batch_seqs = e->max_batch_seqs;
    st->tokens_cached = e->tokens_cached;
    st->routed = e->routed;
    st->fetched = e->fetched;
    st->max_contexts_busy = e->max_contexts_busy;
    st->contexts_busy = atomic_load(&e->busy);
    st->moved = e->moved;
    st->layout_changes = e->layout_changes;
    st->one_batch = e->one_batch;
    pthread_mutex_unlock(&e->mu);
    pthread_mutex_lock(&e->stats_mu);
    st->ram_bytes = e->kvst.ram_bytes;
    st->ram_budget = e->kvst.ram_budget;
    st->ram_peak = e->kvst.ram_peak;
    st->ram_entries = e->kvst.ram_entries;
    st->disk_bytes = e->kvst.disk_bytes;
    st->disk_budget = e->kvst.disk_budget;
    st->disk_entries = e->kvst.disk_entries;
    st->saved = e->kvst.saved;
    st->restored = e->kvst.restored;
    st->evicted_to_disk = e->kvst.evicted_to_disk;
    pthread_mutex_unlock(&e->stats_mu);
}

/* Jobs that never ran still get their one on_done, as the contract says. */
static void cancel_all(job *pending) {
    while (pending) {
        job *next = pending->next;
        ia_engine_result res = {.finish = IA_FINISH_CANCELLED};
        pending->cb.on_done(pending->cb.ud, &res);
        ia_engine_job_free(pending);
        pending = next;
    }
}

void ia_engine_free(ia_engine *e) {
    if (!e) return;
    if (e->remote) {
        ia_remote_free(e);
        return;
    }
    pthread_mutex_lock(&e->mu);
    atomic_store(&e->stop, true);
    pthread_cond_broadcast(&e->cv);
    job *pending = e->head;
    e->head = e->tail = NULL;
    e->n_queued = 0;
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < e->n_workers; i++)
        if (e->workers[i].thread_started) pthread_join(e->workers[i].thread, NULL);
    cancel_all(pending);
    for (int i = 0; i < e->n_workers; i++) {
        cancel_all(e->workers[i].inbox); /* handed over as the engine stopped */
        e->workers[i].inbox = NULL;
    }
    /* What the sequences hold outlives the process when there is a cache
     * folder: kept in the cache, which writes it to disk as it closes. */
    for (int k = 0; k < e->n_workers; k++) {
        worker *w = &e->workers[k];
        if (e->kvc && w->ctx && e->kvst.disk_budget > 0)
            for (int i = 0; i < w->n_slots; i++)
                if (w->slots[i].n_kv > 0) ia_kvc_save(e->kvc, w->ctx, i, w->slots[i].kv, w->slots[i].n_kv);
    }
    ia_kvc_free(e->kvc);
    for (int k = 0; k < e->n_workers; k++) {
        worker *w = &e->workers[k];
        if (w->slots) {
            for (int i = 0; i < w->n_slots; i++) free(w->slots[i].kv);
            free(w->slots);
            llama_batch_free(w->batch);
        }
        if (w->ctx) llama_free(w->ctx);
        if (w->tp) e->tp_free(w->tp); /* after the context that used it */
        if (w->e) pthread_mutex_destroy(&w->kv_mu);
    }
    free(e->workers);
    ia_mm_free(e->mm);
    ia_chat_free(e->chat);
    if (e->model) llama_model_free(e->model);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->kvc_mu);
    pthread_mutex_destroy(&e->chat_mu);
    pthread_mutex_destroy(&e->stats_mu);
    pthread_cond_destroy(&e->cv);
    free(e->name);
    free(e);
}
