/* engine_int: the engine's insides, shared by llama.c (loading, the queue,
 * the public calls) and sched.c (the engine thread: slots, batches,
 * sampling, prefix reuse). Not part of the engine's contract.
 *
 * A slot is one llama.cpp sequence (seq_id = slot index). It runs at most
 * one job; idle, it keeps the tokens and KV of the last job it ran, for the
 * next job that shares their prefix. kv[0..n_kv) are always exactly the
 * tokens whose KV the sequence holds, at positions 0..n_kv-1. */
#ifndef IA_ENGINE_ENGINE_INT_H
#define IA_ENGINE_ENGINE_INT_H

#include <llama.h>
#include <pthread.h>

#include "engine/chat.h"
#include "engine/engine.h"
#include "engine/kvcache.h"
#include "engine/outfilter.h"
#include "lib/util.h"

/* A queued job: deep copies of everything the caller passed, so the caller's
 * request memory can die as soon as submit returns. */
typedef struct job {
    struct job *next;
    ia_chat_msg *msgs;
    size_t n_msgs;
    ia_engine_params params; /* stop and grammar point into the copies below;
                                tools is NULL (the copy is tools below) */
    char **stops;
    char *grammar;
    ia_chat_tool *tools; /* params.n_tools of them (jobmsg.c) */
    ia_engine_cb cb;
    atomic_bool *cancel;
} job;

typedef struct slot {
    int id;                   /* the llama.cpp sequence */
    job *j;                   /* running job; NULL = idle */
    llama_token *kv;          /* tokens held in the KV memory */
    int n_kv, cap_kv;
    uint64_t last_used;       /* LRU among idle slots */
    /* The running job. */
    llama_token *prompt;
    int n_prompt;
    struct llama_sampler *smpl; /* the job's chain: reasoning budget, call grammar
                                   or the schema's grammar, then the draw */
    ia_chat_state *cst;       /* the render's state: samplers, stops, parser */
    struct llama_sampler *budget; /* the reasoning budget in smpl's chain, or NULL */
    int64_t n_inside;         /* tokens sampled inside the thinking block */
    bool parse;               /* the output is parsed at the end (tools, reasoning) */
    ia_buf whole;             /* parse: the text passed on so far, kept whole */
    ia_outfilter of;
    ia_engine_result res;
    int64_t max_tokens, t_start, t_first;
    bool gen;                 /* prompt decoded, generating */
    llama_token next;         /* sampled, decoded in the next step */
    int i_logits;             /* batch index of this slot's logits in this step, or -1 */
    uint64_t admitted;        /* admission order: prompt chunks go first-come first */
} slot;

struct ia_engine {
    char *name;
    struct llama_model *model;
    struct llama_context *ctx;
    struct ggml_threadpool *tp; /* ours, not polling; NULL: ggml's default */
    void (*tp_free)(struct ggml_threadpool *);
    const struct llama_vocab *vocab;
    ia_chat *chat;
    bool reasons; /* the template thinks (ia_chat_reasons, at load) */
    int n_ctx, max_queue, default_max_tokens;
    int n_slots, chunk;
    bool no_prefix_cache;

    /* Engine thread only. */
    slot *slots;
    struct llama_batch batch;
    int batch_cap;
    ia_kvc *kvc;
    uint64_t tick;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail; /* FIFO, under mu */
    int n_queued;     /* under mu */
    int n_running;    /* under mu */
    atomic_bool stop; /* set by ia_engine_free; checked every step */

    /* Counters and the job-time estimate behind Retry-After, under mu. */
    int64_t jobs_done, tokens_generated, steps, max_batch_seqs, tokens_cached;
    double avg_job_ms;
    ia_kvc_stats kvst;
};

/* The engine thread (sched.c). */
void *ia_engine_main(void *arg);
void ia_engine_job_free(job *j);

#endif
