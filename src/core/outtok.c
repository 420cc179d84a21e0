/* outtok: the tokens the model sampled for an answer, kept in the store
 * beside the interaction (found again by owner, model and a hash of the
 * answer's text) and attached to the engine's messages of a later turn that
 * carries the same text, chained or resent (see outtok.h). */
#include <stdlib.h>
#include <string.h>

#include "core/outtok.h"
#include "lib/log.h"
#include "lib/util.h"

/* An answer of plain text keeps the tokens the model sampled for it, found
 * again by its text when a later turn (chained or resent) carries it, so
 * that turn's prompt holds them rather than a new tokenization of the text
 * (src/engine/splice.c): its KV cache is then reused whole. */
ia_outtok_kept *ia_outtok_take_locked(const ia_run *r, const ia_engine_result *res) {
    if (!r->store || !r->vocab || !res || res->n_out_tokens <= 0) return NULL;
    const ia_turn *o = &r->it.output;
    const char *text = o->n == 1 && o->items[0].kind == IA_CONTENT_TEXT && o->items[0].text && *o->items[0].text
                           ? o->items[0].text
                           : NULL;
    if (!text) return NULL;
    ia_outtok_kept *k = ia_xcalloc(1, sizeof *k);
    k->vocab = ia_strdup(r->vocab);
    ia_sha256_hex(text, strlen(text), k->hash);
    k->n = (size_t)res->n_out_tokens;
    k->toks = ia_xmalloc(k->n * sizeof *k->toks);
    memcpy(k->toks, res->out_tokens, k->n * sizeof *k->toks);
    return k;
}

void ia_outtok_put(ia_store *st, const ia_interaction *it, const ia_outtok_kept *k) {
    ia_err err = {0};
    if (ia_store_tokens_put(st, it->owner, k->vocab, k->hash, it->id, k->toks, k->n, &err) != 0)
        ia_warn("store: could not keep the tokens of %s: %s", it->id, err.msg);
}

void ia_outtok_kept_free(ia_outtok_kept *k) {
    if (!k) return;
    free(k->vocab);
    free(k->toks);
    free(k);
}

/* The tokens kept for each earlier answer of plain text in mb (ia_outtok_put),
 * attached to its message; returns the arrays to free once submitted. */
void ia_outtok_chain_add(ia_outtok_chain *oc, const char *id, const ia_turn *o) {
    if (o->n != 1 || o->items[0].kind != IA_CONTENT_TEXT || !o->items[0].text || !*o->items[0].text) return;
    oc->ids = ia_xrealloc(oc->ids, (oc->n + 1) * sizeof *oc->ids);
    oc->texts = ia_xrealloc(oc->texts, (oc->n + 1) * sizeof *oc->texts);
    oc->ids[oc->n] = ia_strdup(id);
    oc->texts[oc->n] = ia_strdup(o->items[0].text);
    oc->n++;
}

void ia_outtok_chain_free(ia_outtok_chain *oc) {
    for (size_t i = 0; i < oc->n; i++) {
        free(oc->ids[i]);
        free(oc->texts[i]);
    }
    free(oc->ids);
    free(oc->texts);
    memset(oc, 0, sizeof *oc);
}

int32_t **ia_outtok_attach(ia_store *st, const char *owner, const char *vocab, const ia_outtok_chain *oc,
                           ia_msgbuf *mb, size_t *n_own) {
    int32_t **own = ia_xcalloc(mb->n ? mb->n : 1, sizeof *own);
    *n_own = 0;
    size_t next = 0; /* the chain's answer the next assistant message may be */
    for (size_t i = 0; i < mb->n; i++) {
        ia_engine_msg *m = &mb->msgs[i];
        if (m->role != IA_MSG_ASSISTANT || !m->text || !*m->text || m->n_calls || (m->reasoning && *m->reasoning))
            continue;
        char hash[65];
        ia_sha256_hex(m->text, strlen(m->text), hash);
        int32_t *t = NULL;
        size_t n = 0;
        const char *id = NULL;
        if (oc && next < oc->n && !strcmp(oc->texts[next], m->text)) id = oc->ids[next++];
        if (ia_store_tokens_get(st, owner, vocab, hash, id, &t, &n, NULL) == 0 && t) {
            m->tokens = t;
            m->n_tokens = n;
            own[(*n_own)++] = t;
        }
    }
    return own;
}

