/* outtok: a conversation continues from its own tokens. When a turn ends
 * with an answer of plain text, the tokens the model sampled for it are
 * stored with the interaction (ia_store_tokens_put; deleted with it); a later
 * turn whose history carries the same text (previous_interaction_id or a
 * stateless resend, same owner, a model of the same vocabulary) gets them on that assistant
 * message, and the engine's tokenizer splices them in (src/engine/splice.c)
 * so the earlier turn's KV cache is reused whole. Answers with reasoning or
 * calls are rendered by the template otherwise than they were generated and
 * keep no tokens. Internal to src/core/. */
#ifndef IA_CORE_OUTTOK_H
#define IA_CORE_OUTTOK_H

#include "core/prompt.h"
#include "core/run.h"
#include "store/store.h"

/* Under r->mu, as the finished record is written (so a next turn sent at
 * once finds them): keeps res's output tokens when r is stored and its
 * output is one text item. */
void ia_outtok_keep_locked(ia_store *st, ia_run *r, const ia_engine_result *res);
/* The answers of a chain (previous_interaction_id), oldest first: their
 * interaction ids and texts, so each gets its own tokens even when another
 * answer has the same text. */
typedef struct {
    char **ids, **texts;
    size_t n;
} ia_outtok_chain;
void ia_outtok_chain_add(ia_outtok_chain *oc, const char *id, const ia_turn *output);
void ia_outtok_chain_free(ia_outtok_chain *oc);

/* Attaches the kept tokens to each plain-text assistant message of mb (a
 * chain's answer by its interaction, another by its text); returns the
 * arrays to free once the job is submitted (*n_own of them). */
int32_t **ia_outtok_attach(ia_store *st, const char *owner, const char *vocab, const ia_outtok_chain *oc,
                           ia_msgbuf *mb, size_t *n_own);

#endif
