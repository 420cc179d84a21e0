/* prompt: the conversation (dialect-free turns of typed items) as the
 * engine's chat messages — text joined per run of same-role turns, a model
 * turn's calls and reasoning on its assistant message, function results as
 * tool messages — and the checks that only make sense on the whole
 * conversation (every result answers a call). Internal to src/core/. */
#ifndef IA_CORE_PROMPT_H
#define IA_CORE_PROMPT_H

#include "model/types.h"
#include "engine/engine.h"
#include "lib/err.h"

/* Engine messages and the memory behind them (free with ia_msgbuf_free). */
typedef struct {
    ia_engine_msg *msgs;
    size_t n, cap;
    char **strs; /* owned strings */
    size_t n_strs;
    ia_engine_call **calls; /* owned call arrays */
    size_t n_calls;
    ia_engine_media **media; /* owned media arrays (the bytes are the conversation's) */
    size_t n_media;
} ia_msgbuf;

void ia_prompt_messages(const char *system, const ia_conv *conv, ia_msgbuf *m);
void ia_msgbuf_free(ia_msgbuf *m);
/* IA_EINVALID when a function_result's call_id matches no function_call. */
int ia_prompt_check_results(const ia_conv *conv, ia_err *err);

#endif
