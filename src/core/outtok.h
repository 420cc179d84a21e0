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

/* An answer's tokens as the store keeps them (ia_outtok_put), copied from
 * the engine's result: that result lives only during on_done, and the
 * store writer (writer.h) writes them later, off the engine thread. */
typedef struct ia_outtok_kept {
    char *vocab;     /* the engine's vocabulary id (copied: the engine may be gone by the write) */
    char hash[65];   /* SHA-256 of the answer's text, hex */
    int32_t *toks;
    size_t n;
} ia_outtok_kept;
/* Under r->mu, once the run's output is final: a copy of res's output
 * tokens when r is stored and its output is one text item; NULL when
 * nothing is kept. */
ia_outtok_kept *ia_outtok_take_locked(const ia_run *r, const ia_engine_result *res);
/* Writes them for interaction it (a failure only logs). The writer calls it
 * as the finished record is written, before anyone is told the run ended,
 * so a next turn sent at once finds them. */
void ia_outtok_put(ia_store *st, const ia_interaction *it, const ia_outtok_kept *k);
void ia_outtok_kept_free(ia_outtok_kept *k); /* NULL is a no-op */
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
