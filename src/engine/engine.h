/* engine: runs a model on a conversation and streams its text back.
 *
 * One ia_engine serves one model. ia_engine_load loads it on the caller's
 * thread and starts its engine thread, which from then on alone calls
 * llama.cpp for that model (chat-template rendering, tokenization, decode,
 * sampling); HTTP and core threads only enqueue jobs.
 * Continuous batching: up to `parallel` jobs run at once, one llama.cpp
 * sequence each, spread over `contexts` llama.cpp contexts that share the
 * model's weights, each with its own engine thread; every decode step of a
 * context is one batch holding each of its generating jobs' next token plus
 * a bounded chunk of pending prompt tokens. Jobs past `parallel` wait in a FIFO (admitted in arrival
 * order); the queue is bounded, and a full queue refuses at once with
 * IA_EOVERLOADED and a Retry-After hint.
 *
 * Prefix reuse: a finished job's tokens and KV stay in its sequence; a new
 * job whose prompt shares a prefix with a kept sequence (a running one too;
 * the job moves to the context that holds it) only prefills the rest (ia_engine_result.n_cached). Sequences pushed out
 * of the context are kept in RAM under a byte budget (LRU), and past it, or
 * at shutdown, saved under cache_dir, from where a later job (also after a
 * restart) restores them.
 *
 * Determinism: greedy and seeded runs give the same tokens alone, batched
 * with others and with a reused prefix on the models tested (demo,
 * stories260K). llama.cpp does not promise bitwise batch invariance in
 * general (other kernels or backends may round differently), so on other
 * models a long generation may rarely diverge after a near-tie.
 *
 * Callbacks run on an engine thread (different jobs' callbacks may run at
 * once on different threads) and must not block for long. */
#ifndef IA_ENGINE_ENGINE_H
#define IA_ENGINE_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

typedef struct ia_engine ia_engine;

typedef struct ia_engine_opts {
    const char *name;          /* served name ("demo") */
    const char *path;          /* GGUF file */
    const char *chat_template; /* file with a Jinja template overriding the model's; NULL = none */
    int threads;               /* decode and prompt threads per context; 0 = automatic
                                  (see contexts) */
    int contexts;              /* llama.cpp contexts (engine threads) sharing the weights,
                                  the parallel sequences split among them; 0 = automatic:
                                  with threads also 0, one single-threaded context per
                                  core on machines of at most 4 cores, else one context
                                  of all cores; with threads set, cores / threads. A
                                  model under 20M parameters gets one context of one
                                  thread (threads cost it more than they give) */
    int n_ctx;                 /* 0 = min(model's training context, 8192) */
    int max_queue;             /* jobs waiting beyond the running ones; 0 = 64 */
    int default_max_tokens;    /* when the request sets no max_output_tokens; 0 = 2048 */
    int parallel;              /* jobs running at once (sequences); 0 = 4. The KV cache
                                  holds parallel * n_ctx cells */
    int prefill_chunk;         /* prompt tokens per decode step of one context, all its
                                  jobs together: a long prompt delays the others' next
                                  token by one chunk at most; 0 = 256 / contexts (at
                                  least 128) */
    bool no_prefix_cache;      /* every job starts cold (benchmarks, checks) */
    bool fixed_layout;         /* with several contexts: keep each sequence in the context
                                  it started in (no load-following layout, see layout.c) */
    int64_t cache_ram_bytes;   /* budget for sequences kept in RAM outside the context;
                                  0 = min(1/8 of available memory, 2 GiB); < 0 = none */
    const char *cache_dir;     /* where sequences evicted from RAM (and all kept ones at
                                  shutdown) are saved; created if missing; NULL = no disk */
    int64_t cache_disk_bytes;  /* budget for cache_dir; 0 = 4 GiB */
    const char *mmproj;        /* the model's multimodal projector (GGUF) for image / audio /
                                  video input through libmtmd; NULL = text only */
} ia_engine_opts;

/* What a prompt token stands for, in usage counts. */
typedef enum {
    IA_MOD_TEXT = 0,
    IA_MOD_IMAGE,
    IA_MOD_AUDIO,
    IA_MOD_VIDEO,
    IA_MOD_DOCUMENT,
    IA_MOD__COUNT
} ia_modality;

/* How a media part reaches the engine. */
typedef enum {
    IA_EMEDIA_FILE = 0, /* an image, audio or video file's bytes as sent (PNG, JPEG, WAV, MP3,
                          MP4, ...): decoded by libmtmd's helpers (video through ffmpeg) */
    IA_EMEDIA_RGB,      /* packed 8-bit RGB, width x height (a rendered PDF page) */
    IA_EMEDIA_TEXT,     /* text extracted from a document: tokenized as plain text (no
                          special tokens), counted as its modality */
} ia_media_form;

/* A media part of a message. Its place in the message's text is marked by
 * ia_engine_media_marker(), once per part, in order. */
typedef struct ia_engine_media {
    ia_modality modality; /* IMAGE, AUDIO or VIDEO for a FILE; what it counts as */
    ia_media_form form;
    const unsigned char *data;
    size_t len;
    int width, height;    /* RGB */
    int max_side;         /* an image's or video frame's longer side is scaled down to this
                             before the projector sees it (the request's `resolution`);
                             0 = as sent. Families of a fixed input size scale anyway */
} ia_engine_media;

typedef enum { IA_MSG_SYSTEM, IA_MSG_USER, IA_MSG_ASSISTANT, IA_MSG_TOOL } ia_msg_role;

/* A function call (arguments: a JSON object as text). */
typedef struct ia_engine_call {
    const char *id;
    const char *name;
    const char *arguments;
} ia_engine_call;

typedef struct ia_engine_msg {
    ia_msg_role role;
    const char *text;
    const ia_engine_call *calls; /* IA_MSG_ASSISTANT: the calls it made */
    size_t n_calls;
    const char *call_id;         /* IA_MSG_TOOL: the call it answers ... */
    const char *name;            /* ... and the function's name */
    const char *reasoning;       /* IA_MSG_ASSISTANT: its reasoning, for templates that show it */
    /* IA_MSG_ASSISTANT: the tokens the model sampled for text, when known
     * (ia_engine_result.out_tokens of the turn that wrote it): the prompt
     * carries them where the template places text, rather than a new
     * tokenization of it (splice.c). */
    const int32_t *tokens;
    size_t n_tokens;
    /* Media parts, each where the text holds ia_engine_media_marker(). */
    const ia_engine_media *media;
    size_t n_media;
} ia_engine_msg;

/* A function the model may call (parameters: a JSON Schema as text). */
typedef struct ia_engine_tool {
    const char *name;
    const char *description;
    const char *parameters;
} ia_engine_tool;

typedef enum {
    IA_TOOLS_AUTO = 0, /* the model may call; a started call is grammar-bound */
    IA_TOOLS_REQUIRED, /* the model must call one of the tools */
    IA_TOOLS_NONE,     /* the tools are described; no call is allowed or parsed */
} ia_engine_tool_choice;

typedef struct ia_engine_params {
    bool has_temperature, has_top_p, has_top_k, has_seed;
    double temperature; /* default 1.0; 0 = greedy */
    double top_p;       /* default 0.95 */
    int top_k;          /* default 64 */
    uint64_t seed;      /* default: random */
    int64_t max_tokens; /* 0 = engine default */
    const char *const *stop;
    size_t n_stop;
    /* GBNF grammar (root rule "root") constraining every sampled token, as
     * built by src/schema/ from a JSON Schema; NULL = free text. A grammar
     * llama.cpp cannot parse finishes the job IA_FINISH_ERROR (IA_EINVALID). */
    const char *grammar;
    /* The JSON Schema (compact JSON) that grammar was built from: what a
     * remote engine (ia_engine_backend) sends in its grammar's place, and
     * the local engine ignores. NULL with grammar NULL. */
    const char *json_schema;
    /* Functions, rendered through the template's tool section; the output
     * is then parsed (ia_engine_result.parsed) into items. */
    const ia_engine_tool *tools;
    size_t n_tools;
    ia_engine_tool_choice tool_choice;
    /* Reasoning, for templates that think: 0 = the model's default, < 0 =
     * thinking off, > 0 = at most this many reasoning tokens (then the
     * family's end tag is forced). With a thinking template the output is
     * parsed (ia_engine_result.parsed) as with tools. */
    int thinking_budget;
} ia_engine_params;

typedef enum {
    IA_FINISH_STOP = 0,   /* end-of-generation token or a stop sequence */
    IA_FINISH_LENGTH,     /* max_tokens reached, or the context is full */
    IA_FINISH_CANCELLED,  /* the cancel flag was set, or on_item asked to stop */
    IA_FINISH_ERROR,      /* err says why (e.g. input longer than the context) */
} ia_finish;

typedef struct ia_engine_result {
    ia_finish finish;
    int64_t n_prompt;  /* prompt tokens */
    int64_t n_output;  /* generated tokens: every sampled token, the end-of-generation
                          one included; at most max_tokens */
    int64_t n_cached;  /* prompt tokens whose KV was reused rather than computed
                          (from a kept sequence, RAM or disk); < n_prompt */
    ia_err err;        /* set when finish == IA_FINISH_ERROR (code IA_EINVALID for
                          a prompt that does not fit or a conversation the chat
                          template refuses, IA_EINTERNAL otherwise) */
    /* The output as the chat library parsed it (for a job with tools, and
     * every job on a template that reasons, unless it ended in an error;
     * strings valid during on_done): the answer's text, its reasoning, its
     * calls in order (id "" unless the model wrote one) — exactly what the
     * item stream carried. */
    bool parsed;
    const char *content;
    const char *reasoning;
    const ia_engine_call *calls;
    size_t n_calls;
    int64_t n_thought; /* tokens of the reasoning (part of n_output) */
    /* The sampled tokens that became the output's text, end-of-generation
     * token excluded (valid during on_done; NULL after an error). */
    const int32_t *out_tokens;
    int64_t n_out_tokens;
    /* n_prompt and n_cached by what the tokens stand for (ia_modality). */
    int64_t n_prompt_by[IA_MOD__COUNT], n_cached_by[IA_MOD__COUNT];
} ia_engine_result;

/* The engine's output, one typed item stream (on_item). A job's items are,
 * in order: its thought (a template that reasons), its text, its calls —
 * each optional. index is the item's place among the job's items (0, 1,
 * ...). A thought or text item grows by deltas (valid, complete UTF-8, no
 * NUL byte, never inside a stop sequence) and ends once (end set, with or
 * without a last delta); a call comes whole in one item (end set). Every
 * item that begins ends before on_done, however the job ends; the deltas of
 * an item add up exactly to the result's field (reasoning, content) and
 * the call items are the result's calls, in order. A cancelled or failed
 * job is not parsed at the end: its open item ends where it was (cut).
 *
 * An unparsed job (no tools, no reasoning) has one text item, growing
 * piece by piece as sampled. A parsed one's thought and text grow as the
 * chat library's partial parse of the text so far reads them: re-parsed
 * when the text has grown by a few dozen bytes (at least 32 and 1/64 of
 * it, at most 256: a bound on the quadratic cost of re-parsing a long
 * reasoning), never retracted (a parse that would shrink or change what
 * was passed on holds that field back), the rest from the final parse at
 * the end; the text begins only once the reasoning is closed (its first
 * delta ends the thought), and holds back what could start a call. Where
 * a partial parse read the text otherwise than the final one, what was
 * passed on stands and the result's field is rewritten to it. Calls come
 * only at the end, and only for a job that finished STOP (a cut output's
 * call syntax stays in its text). */
typedef enum { IA_ITEM_THOUGHT = 0, IA_ITEM_TEXT, IA_ITEM_CALL } ia_item_kind;

typedef struct ia_engine_item {
    ia_item_kind kind;
    int index;
    const char *delta; /* THOUGHT, TEXT: what the item grows by (len bytes; may be empty) */
    size_t len;
    bool end;          /* the item is whole: nothing more comes for it */
    bool cut;          /* with end: the job was cancelled or failed, so the item
                          holds what it had, not what the model would have ended it with */
    const ia_engine_call *call; /* CALL: the call (id "" unless the model wrote one) */
    int64_t n_output;  /* the job's generated tokens so far */
} ia_engine_item;

typedef struct ia_engine_cb {
    void *ud;
    /* Prompt rendered and tokenized; generation begins. May be NULL. */
    void (*on_start)(void *ud, int64_t n_prompt);
    /* The next piece of the item stream (above). May be NULL. Return
     * nonzero to stop generating (finish = CANCELLED; the open items still
     * end). Called between on_start and on_done. */
    int (*on_item)(void *ud, const ia_engine_item *item);
    /* Called exactly once per accepted job, last; after it the engine keeps
     * no reference to ud, msgs or params. */
    void (*on_done)(void *ud, const ia_engine_result *res);
} ia_engine_cb;

/* Process-wide set-up: loads ggml's loadable backends (CPU variants, GPU)
 * from backends_dir, or (NULL) from beside libggml wherever it was loaded
 * from, and quiets llama.cpp's logs unless verbose. Call once. */
void ia_engine_global_init(const char *backends_dir, bool verbose);

/* Loads the model (progress on stderr) and starts its engine thread.
 * NULL + err on failure. */
ia_engine *ia_engine_load(const ia_engine_opts *opts, ia_err *err);
/* Stops the thread (jobs still queued finish as CANCELLED) and frees. */
void ia_engine_free(ia_engine *e);

const char *ia_engine_name(const ia_engine *e);
/* An id of the model's vocabulary: equal for models whose token ids mean
 * the same text (kept output tokens are shared among them). */
const char *ia_engine_vocab_id(const ia_engine *e);
/* "jinja" (model's or override template) or "plain" (the fallback of
 * chat.h: turns after a blank line, a model turn right after the text before it, for base
 * models with no template). */
const char *ia_engine_template_kind(const ia_engine *e);
/* Whether the model's chat template thinks (its output carries a reasoning
 * block that ia_engine_result.reasoning splits off). */
bool ia_engine_reasons(const ia_engine *e);
/* The text that marks a media part's place in a message (ia_engine_msg):
 * the same for the whole process, random per process, so that no client
 * text can forge one. */
const char *ia_engine_media_marker(void);
/* Whether the model takes this modality (a projector that does; a
 * DOCUMENT always, as text). */
bool ia_engine_takes(const ia_engine *e, ia_modality m);
/* "text, image" ...: what the model takes, for error messages. */
const char *ia_engine_modalities(const ia_engine *e);
/* Decodes a media part as a job would (on the caller's thread), to refuse
 * what cannot be decoded before anything is stored: IA_EINVALID naming
 * field ("input[0].data: not an image this server can decode ..."). */
int ia_engine_media_check(ia_engine *e, const ia_engine_media *m, const char *field, ia_err *err);

/* The context size in tokens (prompt + output) each job gets. */
int ia_engine_n_ctx(const ia_engine *e);
/* Jobs that run at once. */
int ia_engine_parallel(const ia_engine *e);
/* The layout chosen: contexts, and threads per context. */
int ia_engine_contexts(const ia_engine *e);
int ia_engine_threads(const ia_engine *e);

/* Enqueues a job. The engine copies msgs and params; cancel (may be NULL)
 * must stay valid until on_done. Returns 0, or -1 with err (IA_EOVERLOADED
 * with retry_after set when the queue is full, or while ia_engine_free runs;
 * on_done is then never called). cb->on_done is required. */
int ia_engine_submit(ia_engine *e, const ia_engine_msg *msgs, size_t n_msgs,
                     const ia_engine_params *params, const ia_engine_cb *cb,
                     atomic_bool *cancel, ia_err *err);

/* Counters for tests and benchmarks. */
typedef struct ia_engine_stats {
    int64_t jobs_done, tokens_generated, queued, running;
    int64_t steps;             /* decode calls */
    int64_t max_batch_seqs;    /* most sequences one decode step has held */
    int64_t tokens_cached;     /* prompt tokens reused, all jobs */
    int64_t routed;            /* jobs sent to the context holding their prefix */
    int64_t fetched;           /* jobs that asked another (full) context to copy their
                                  prefix into the kept-sequence cache for them */
    int64_t max_contexts_busy; /* most contexts running jobs at once */
    int64_t contexts_busy;     /* contexts running jobs now */
    int64_t moved;             /* running sequences moved to another context with their KV */
    int64_t layout_changes;    /* switches between split contexts and one batch */
    int64_t one_batch;         /* 1 while the layout runs every sequence in one context */
    /* The kept-sequence cache outside the context (the engine's own accounting). */
    int64_t ram_bytes, ram_budget, ram_peak, ram_entries;
    int64_t disk_bytes, disk_budget, disk_entries;
    int64_t saved, restored, evicted_to_disk;
} ia_engine_stats;
void ia_engine_get_stats(ia_engine *e, ia_engine_stats *st);

/* A model served outside this process (an upstream chat engine, issue 14)
 * behind the same ia_engine, so that core runs it as it runs a local one:
 * submit keeps this file's contract (msgs and params copied, on_start /
 * on_item / on_done from a thread of the backend's, the item stream in the
 * same order: thought, text, calls; on_done exactly once; *cancel polled
 * while the job runs); free ends the running jobs (their *cancel set) and
 * waits for their on_done. Such an engine takes text (and documents as
 * their text, IA_EMEDIA_TEXT) only, has no vocabulary of its own
 * (vocab_id "remote:NAME", no out_tokens) and reports no layout (n_ctx,
 * parallel, contexts, threads: 0; stats: running and jobs_done only). */
typedef struct ia_engine_backend {
    void *impl;
    const char *kind; /* for ia_engine_template_kind ("upstream") */
    int (*submit)(void *impl, const ia_engine_msg *msgs, size_t n_msgs, const ia_engine_params *params,
                  const ia_engine_cb *cb, atomic_bool *cancel, ia_err *err);
    void (*get_stats)(void *impl, ia_engine_stats *st); /* may be NULL */
    void (*free)(void *impl);
} ia_engine_backend;
/* An engine named name over be (copied; be->impl is the engine's to free). */
ia_engine *ia_engine_remote(const char *name, const ia_engine_backend *be);
/* Whether e is one (ia_engine_remote). */
bool ia_engine_is_remote(const ia_engine *e);


#endif
