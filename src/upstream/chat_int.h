/* chat_int: the parts of chat.c (the backend) that the unit tests and the
 * fuzz target call directly: the request body (chat_req.c) and the
 * answer's parser (chat_sse.c). */
#ifndef IA_UPSTREAM_CHAT_INT_H
#define IA_UPSTREAM_CHAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "lib/err.h"
#include "lib/util.h"
#include "upstream/upstream.h"

/* ---- the request (chat_req.c) ------------------------------------------------ */

/* The JSON body of POST /v1/chat/completions for a job (malloc'd). A media
 * part given as text (IA_EMEDIA_TEXT: a document's) goes in its message's
 * text where its marker is; other media never reach here (the engine
 * refuses them on create). A function's parameters that are not JSON go
 * as an empty object schema. */
char *ia_upchat_body(const ia_upstream *u, const ia_engine_msg *msgs, size_t n, const ia_engine_params *p);

/* ---- the answer (chat_sse.c) ------------------------------------------------- */

/* A call as its deltas built it (by index). */
typedef struct ia_upchat_call {
    char *id, *name;
    ia_buf args;
} ia_upchat_call;

/* The answer as read so far. Fed the body in pieces of any size (an SSE
 * stream of `data: {chunk}` events ending `data: [DONE]`, or one JSON
 * document when the first byte is '{'); on_delta (may be NULL) gets each
 * reasoning or content delta as it is read (valid UTF-8, no NUL, not
 * empty), nonzero from it stops the feed. */
typedef struct ia_upchat_answer {
    int (*on_delta)(void *ud, bool reasoning, const char *p, size_t n);
    void *ud;
    /* what was read */
    ia_buf reasoning, content;
    ia_upchat_call *calls;
    size_t n_calls;
    char finish[24];        /* the last finish_reason ("stop", "length", "tool_calls"); "" none */
    bool has_usage;
    int64_t prompt, completion, cached, reasoning_tokens;
    int64_t n_deltas;       /* content and reasoning deltas so far (a token each, on llama-server) */
    int64_t n_reasoning_deltas;
    bool done;              /* [DONE], or the whole JSON document read */
    char *error;            /* an error event's message (one line); the stream is over */
    /* the parser's state */
    bool begun, whole, started, cr;
    ia_buf line, data, doc;
} ia_upchat_answer;

void ia_upchat_answer_init(ia_upchat_answer *a);
void ia_upchat_answer_free(ia_upchat_answer *a);
/* Feeds n bytes. 0; 1 when on_delta asked to stop; -1 with err
 * (IA_EUPSTREAM naming the upstream `who`) for a chunk that is not what the
 * protocol says (not JSON, a delta of the wrong type, an answer past its
 * bounds). After done or error, more bytes are ignored. */
int ia_upchat_feed(ia_upchat_answer *a, const char *p, size_t n, const char *who, ia_err *err);
/* The body ended: the last event (no blank line after it) or the whole
 * document is read. 0 / 1 / -1 as feed. */
int ia_upchat_end(ia_upchat_answer *a, const char *who, ia_err *err);

#endif
