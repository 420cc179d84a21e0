/* engine_int: the engine's insides, shared by llama.c (loading, the queue,
 * the public calls) and sched.c (the worker threads: slots, batches,
 * sampling, prefix reuse). Not part of the engine's contract.
 *
 * One model is served by one or more workers. A worker is one llama.cpp
 * context over the shared (read-only) model, the slots whose sequences live
 * in it, and the thread that alone decodes on it. On a CPU, several
 * single-threaded contexts decode more tokens per second together than one
 * context with as many threads (whose threads meet at a barrier after every
 * graph node), so the engine may split its slots across workers.
 *
 * A slot is one llama.cpp sequence (seq_id = the slot's index in its
 * worker). It runs at most one job; idle, it keeps the tokens and KV of the
 * last job it ran, for the next job that shares their prefix. kv[0..n_kv)
 * are always exactly the tokens whose KV the sequence holds, at positions
 * 0..n_kv-1; other workers read them (under the owner's kv_mu) to send a
 * job to the worker that already holds its prefix. */
#ifndef IA_ENGINE_ENGINE_INT_H
#define IA_ENGINE_ENGINE_INT_H

#include <llama.h>
#include <pthread.h>

#include "engine/chat.h"
#include "engine/engine.h"
#include "engine/kvcache.h"
#include "engine/media.h"
#include "engine/items.h"
#include "engine/outfilter.h"
#include "engine/pace.h"
#include "lib/util.h"

/* A queued job: deep copies of everything the caller passed, so the caller's
 * request memory can die as soon as submit returns. */
typedef struct job {
    struct job *next;
    ia_chat_msg *msgs;
    size_t n_msgs;
    ia_engine_media *media; /* every message's media parts, in order (copies) */
    size_t n_media;
    ia_engine_params params; /* stop and grammar point into the copies below;
                                tools is NULL (the copy is tools below) */
    char **stops;
    char *grammar;
    ia_chat_tool *tools; /* params.n_tools of them (jobmsg.c) */
    ia_engine_cb cb;
    atomic_bool *cancel;
    /* Set when a worker rendered the job and handed it to another worker
     * (whose slots hold a longer prefix of it): the prompt's tokens, the
     * render's state, and when the job was first taken. */
    llama_token *toks;
    int n_toks;
    ia_mspan *spans; /* the prompt's media runs (media.h) */
    int n_spans;
    ia_chat_state *cst;
    int64_t t_taken;
    /* Set while the job visits another worker only to have that worker
     * copy the sequence holding its prefix into the shared cache: the
     * worker it goes back to, which keeps its slot reserved. */
    struct worker *fetch_for;
} job;

typedef struct worker worker;
typedef struct ia_move ia_move;

typedef struct slot {
    int id;                   /* the llama.cpp sequence in its worker's context */
    job *j;                   /* running job; NULL = idle */
    llama_token *kv;          /* tokens held in the KV memory */
    int n_kv, cap_kv;
    uint64_t last_used;       /* LRU among idle slots */
    /* The running job. */
    llama_token *prompt;
    int n_prompt;
    ia_mspan *spans;          /* the prompt's media runs, decoded whole (media.h) */
    int n_spans;
    struct llama_sampler *smpl; /* the job's chain: reasoning budget, call grammar
                                   or the schema's grammar, then the draw */
    ia_chat_state *cst;       /* the render's state: samplers, stops, parser */
    struct llama_sampler *budget; /* the reasoning budget in smpl's chain, or NULL */
    bool argmax;              /* greedy, nothing ahead of the draw: sampled without smpl */
    int64_t n_inside;         /* tokens sampled inside the thinking block */
    bool parse;               /* the output is parsed at the end (tools, reasoning) */
    ia_buf whole;             /* parse: the text passed on so far, kept whole */
    size_t parsed_at;         /* parse: whole.len at the last partial parse */
    ia_items items;           /* the job's item stream (items.h) */
    ia_outfilter of;
    ia_engine_result res;
    int64_t max_tokens, t_start, t_first;
    bool gen;                 /* prompt decoded, generating */
    llama_token next;         /* sampled, decoded in the next step */
    /* The last sampled token when it was text but never decoded (the job
     * was cut by max tokens): part of the output's tokens. */
    bool has_tail;
    llama_token tail;
    int i_logits;             /* batch index of this slot's logits in this step, or -1 */
    uint64_t admitted;        /* admission order (engine-wide): prompt chunks go first-come first */
} slot;

struct worker {
    ia_engine *e;
    int idx;
    struct llama_context *ctx;
    struct ggml_threadpool *tp; /* ours, not polling; NULL: ggml's default */
    slot *slots;
    int n_slots;
    struct llama_batch batch;
    uint64_t tick;            /* LRU clock of this worker's slots */
    int cur_threads;          /* what its decodes run with now */
    ia_pace pace;
    /* Guards slots[].kv / n_kv against readers on other workers; the
     * worker's own thread reads them without it. */
    pthread_mutex_t kv_mu;
    pthread_t thread;
    bool thread_started;
    /* Under the engine's mu: */
    job *inbox, *inbox_tail;  /* rendered jobs handed over by another worker */
    ia_move *moves;           /* running sequences moved here by another worker (layout.c) */
    int n_running;            /* slots reserved: running jobs, jobs being admitted, inbox, moves */
    int share;                /* its part of the slots while the layout is split */
    int chunk_now;            /* prompt tokens per step now (wider while it runs everything) */
};

struct ia_engine {
    char *name;
    /* A remote engine (ia_engine_remote): only name, vocab_id and be are
     * set; every public function hands over to be first (remote.c). */
    bool remote;
    ia_engine_backend be;
    struct llama_model *model;
    void (*tp_free)(struct ggml_threadpool *);
    const struct llama_vocab *vocab;
    char vocab_id[17];  /* hex prefix of a hash of the vocabulary (ia_engine_vocab_id) */
    ia_chat *chat;
    bool reasons; /* the template thinks (ia_chat_reasons, at load) */
    bool streams; /* one KV stream per slot (llama.c's worker_init; seqstate.h) */
    int n_ctx, max_queue, default_max_tokens;
    int n_slots, chunk; /* n_slots: all workers' together */
    int chunk_wide;     /* worker 0's chunk while it runs every sequence */
    int threads;        /* per worker when all are busy */
    int threads_total;  /* all workers' together: a worker alone busy uses them all */
    atomic_int busy;    /* workers with jobs (changes under mu) */
    atomic_ullong admit_seq; /* admission order of jobs, all workers (slot.admitted) */
    bool no_prefix_cache;

    worker *workers;
    int n_workers;
    /* The kept sequences outside the contexts, shared by the workers:
     * kvc_mu is held across a match and the restore it leads to. Lock
     * order: a worker's kv_mu, then kvc_mu, then stats_mu; mu is never
     * held with any of them, nor chat_mu. */
    ia_kvc *kvc;
    pthread_mutex_t kvc_mu;
    pthread_mutex_t chat_mu; /* around rendering with chat (not thread-safe) */
    pthread_mutex_t stats_mu; /* kvst; may be taken under kvc_mu */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail; /* FIFO, under mu */
    int n_queued;     /* under mu */
    int n_running;    /* under mu, all workers */
    atomic_bool stop; /* set by ia_engine_free; checked every step */

    /* Counters and the job-time estimate behind Retry-After, under mu. */
    int64_t jobs_done, tokens_generated, steps, max_batch_seqs, tokens_cached, routed, fetched, max_contexts_busy;
    /* The load-following layout (layout.c), under mu: follow = it may move
     * sequences; one_batch = every sequence runs on worker 0 now. */
    bool follow, one_batch;
    int64_t moved, layout_changes;
    double avg_job_ms;
    ia_kvc_stats kvst; /* under stats_mu (not mu) */
    ia_mm *mm;         /* the projector (media.h); NULL: text only */
};

/* A kept sequence shorter than this is not worth saving, nor a job worth
 * moving to another worker for. */
#define IA_MIN_KEEP_TOKENS 64

/* route.c (under mu where said). */
void ia_route_running_add(ia_engine *e, worker *w, int d); /* under mu */
bool ia_route_may_take(const ia_engine *e, const worker *w); /* under mu */
/* Sends rendered job j elsewhere if another worker holds more of its
 * prefix; returns whether it left w. */
bool ia_route_job(worker *w, job *j);
/* On the worker a job visits: copy its prefix into the cache, send it back. */
void ia_route_fetch_done(worker *w, job *j);

/* layout.c: the load-following layout. With several contexts, few
 * sequences run split across them (one context per core decodes more than
 * one batch with every core's threads); past two sequences per context,
 * every sequence runs in worker 0's context as one batch with every
 * thread. Sequences move between contexts with their KV and their job's
 * whole state at a step boundary. */
/* A running sequence on its way to another worker: the slot's state by
 * value (its id and kv fields are not used), its tokens and its KV. */
struct ia_move {
    ia_move *next;
    slot s;
    llama_token *kv;
    int n_kv;
    uint8_t *state; /* llama_state_seq_get_data */
    size_t n_state;
};
/* How many running jobs w may hold now. Under mu. */
int ia_layout_cap(const ia_engine *e, const worker *w);
/* Recomputes the layout from the load (running + queued jobs), waking the
 * workers when it changes. Under mu. */
void ia_layout_update(ia_engine *e);
/* On w's thread between steps: moves out the sequences beyond its cap. */
void ia_layout_shed(worker *w);
/* On w's thread: takes in a moved sequence (restore = false at shutdown:
 * the job only ends, cancelled). */
void ia_layout_settle(worker *w, ia_move *m, bool restore);

/* sched.c, for layout.c and prefill.c (w's thread). */
void ia_slot_kv_set(slot *s, const llama_token *t, int n); /* under w's kv_mu */
void ia_slot_end(worker *w, slot *s, ia_finish f, const char *error);

/* prefill.c (w's thread). The idle slot to overwrite when none holds a
 * prefix worth keeping: the one that keeps the running slots' ids most
 * consecutive (a batch of consecutive sequences is one ubatch), then the
 * fewest kept tokens, then the least recently used. NULL when none is idle. */
slot *ia_slot_spare(worker *w);
/* prefill.c (w's thread). The slot for prompt p[0..n) with its KV now
 * holding the longest reusable prefix (never ending inside a media span). */
slot *ia_slot_place(worker *w, const llama_token *p, int n, const ia_mspan *spans, int n_spans);
/* Fills s->res's counts by modality from its spans and reused prefix. */
void ia_slot_count_modalities(slot *s);
/* Tokens before s's next media span (0: it is next), -1 when none left. */
int ia_slot_media_ahead(const slot *s);
/* Decodes the media spans that are next in prefilling slots' prompts (one
 * when others run this step, else all). Takes w's kv_mu itself. */
void ia_slot_prefill_media(worker *w, bool others);

/* Copies the cache's counters for ia_engine_get_stats; under kvc_mu. */
void ia_engine_publish_kvst(ia_engine *e);

/* The media of a prompt being tokenized (splice.c, media.c): the marks in
 * the rendered text, the parts in their order, and what they became. */
typedef struct ia_splice_media {
    ia_mm *mm;
    const char *marker;
    size_t mlen;
    const ia_engine_media *media;
    size_t n_media, next;
    int budget;      /* tokens a video's frames may fill (the context) */
    ia_mspan *spans; /* out: malloc'd, the caller's */
    int n_spans;
    ia_err err;      /* why a part failed */
} ia_splice_media;

/* splice.c: tokenizes a rendered prompt with the earlier answers whose
 * sampled tokens msgs carry spliced in where the template placed their
 * text, and the media parts of mx (NULL: none) where their marks are; BOS
 * as the vocabulary asks. Returns the count (*out malloc'd), or -1 (a
 * media part's error in mx->err). */
int ia_splice_tokenize(const struct llama_vocab *v, const char *prompt, const ia_chat_msg *msgs, size_t n_msgs,
                       const long *at, ia_splice_media *mx, llama_token **out);
/* Where the template put each answer of msgs that carries tokens (byte
 * offsets into prompt; -1 where unknown), from a render with markers in
 * their place (takes chat_mu). malloc'd, n of them. */
long *ia_splice_locate(ia_engine *e, const ia_chat_msg *msgs, size_t n, const ia_chat_opts *copts,
                       const char *prompt);

/* A worker's thread (sched.c); arg is the worker. */
void *ia_engine_main(void *arg);
void ia_engine_job_free(job *j);

/* remote.c: a remote engine's (ia_engine_remote) answers to the public
 * functions that are not a one-liner in llama.c. */
bool ia_remote_takes(ia_modality m);
int ia_remote_media_check(const ia_engine *e, const ia_engine_media *m, const char *field, ia_err *err);
void ia_remote_stats(ia_engine *e, ia_engine_stats *st);
void ia_remote_free(ia_engine *e);

#endif
