/* splice.c: a conversation continues from its own tokens.
 *
 * A turn's prompt is rendered as text by the chat template, and the model's
 * earlier answers seldom tokenize back to the tokens it sampled (another
 * split of the same bytes, bytes that are not valid UTF-8, control tokens
 * it emitted), so a prompt tokenized whole stops matching the kept KV at
 * the first earlier answer and everything after it is computed again.
 *
 * Here the prompt is tokenized in segments cut at the earlier answers whose
 * sampled tokens the core found (stored beside the interaction, found again
 * by a hash of the answer's text, so a stateless resend of the same text
 * finds them too): the text before an answer is tokenized as it was when
 * that answer was generated (the prompt of that turn ended there), the
 * answer is its sampled tokens, as far as they spell its text (as the
 * output filter stored it: NUL bytes dropped, ill-formed UTF-8 as U+FFFD,
 * control tokens as nothing), and the rest goes on. A segment that starts
 * at a special token (a template's end-of-turn marker) is tokenized as the
 * whole prompt would be there, since the tokenizer starts afresh after one;
 * one that starts mid-text (the plain fallback, or after an answer only
 * partly spelled) is tokenized on its own and accepted only when its
 * pieces spell exactly its text. The result depends only on the prompt and
 * the stored tokens, never on what the cache holds, so greedy outputs are
 * the same with the prefix cache on or off; a template that renders an
 * answer otherwise than it was generated (dropping earlier reasoning, say)
 * simply finds no such text, and that answer is tokenized from its text. */
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/media.h"
#include "lib/log.h"
#include "lib/util.h"

/* A growing token array. */
typedef struct {
    llama_token *t;
    int n, cap;
} ia_tokv;

static void ia_tokv_push(ia_tokv *v, const llama_token *t, int n) {
    if (n <= 0) return;
    if (v->n + n > v->cap) {
        v->cap = (v->n + n) * 2 + 64;
        v->t = ia_xrealloc(v->t, (size_t)v->cap * sizeof *v->t);
    }
    memcpy(v->t + v->n, t, (size_t)n * sizeof *t);
    v->n += n;
}

/* Room for any token's piece (the longest seen, command-r's, is 512 bytes;
 * one longer reads as no text, which only stops a match). */
#define PIECE_MAX 1024

/* A token's bytes as the prompt's text spells it (special tokens as their
 * text: templates write them). */
static int piece(const struct llama_vocab *v, llama_token t, char *buf, int cap) {
    int n = llama_token_to_piece(v, t, buf, cap, 0, true);
    return n < 0 ? 0 : n;
}

static bool special(const struct llama_vocab *v, llama_token t) {
    return (llama_vocab_get_attr(v, t) & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED)) != 0;
}

static bool spells(const struct llama_vocab *v, const llama_token *t, int n, const char *s, size_t len) {
    char buf[PIECE_MAX];
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        int k = piece(v, t[i], buf, sizeof buf);
        if (at + (size_t)k > len || memcmp(s + at, buf, (size_t)k) != 0) return false;
        at += (size_t)k;
    }
    return at == len;
}

/* Tokens whose pieces spell exactly s[0..len), or -1. A tokenizer that
 * starts every fragment with a space (SentencePiece's prefix) gets the text
 * without its own leading space, or loses the lone space token it added. */
static int tok_exact(const struct llama_vocab *v, const char *s, size_t len, llama_token **out) {
    int cap = (int)len + 8;
    llama_token *t = ia_xmalloc((size_t)cap * sizeof *t);
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *from = attempt == 1 && len && s[0] == ' ' ? s + 1 : s;
        size_t n_in = len - (size_t)(from - s);
        if (attempt == 1 && from == s) break;
        int n = llama_tokenize(v, from, (int32_t)n_in, t, cap, false, true);
        if (n < 0) break;
        if (spells(v, t, n, s, len)) {
            *out = t;
            return n;
        }
        char buf[8];
        if (n > 0 && piece(v, t[0], buf, sizeof buf) == 1 && buf[0] == ' ' && spells(v, t + 1, n - 1, s, len)) {
            memmove(t, t + 1, (size_t)(n - 1) * sizeof *t);
            *out = t;
            return n - 1;
        }
    }
    free(t);
    return -1;
}

/* Appends raw[0..n) as the output filter stored it: ill-formed UTF-8 as
 * U+FFFD (ia_utf8_sanitize; the NUL bytes are already gone). */
static void put_sanitized(ia_buf *out, const char *raw, size_t n) {
    char *s = ia_utf8_sanitize(raw, n);
    ia_buf_puts(out, s);
    free(s);
}

/* k[0..nk) as the stored text of it reads, held against the prompt's text
 * ptext: the pieces' bytes without NUL bytes, ill-formed UTF-8 as U+FFFD
 * (what the output filter and the core make of the model's text), and a
 * control token as its text where the prompt spells it there (a template's
 * marker) but as nothing elsewhere (one the model sampled: the output has
 * no text for it). at[t]: the text's length after t tokens where that is a
 * clean boundary (no character cut), else -1. */
static char *as_stored(const struct llama_vocab *v, const llama_token *k, int nk, const char *ptext, size_t plen,
                       int *at, size_t *len) {
    ia_buf out, pend;
    ia_buf_init(&out, 0);
    ia_buf_init(&pend, 0);
    char buf[PIECE_MAX], plain[PIECE_MAX];
    for (int t = 0; t < nk; t++) {
        at[t] = pend.len ? -1 : (int)out.len;
        int n = piece(v, k[t], buf, sizeof buf);
        int np = llama_token_to_piece(v, k[t], plain, sizeof plain, 0, false);
        if (np < 0) np = 0;
        bool marker = out.len + (size_t)n <= plen && !memcmp(ptext + out.len, buf, (size_t)n);
        const char *use = !pend.len && marker ? buf : plain;
        int nu = use == buf ? n : np;
        for (int i = 0; i < nu; i++)
            if (use[i]) ia_buf_append(&pend, use + i, 1);
        size_t done = ia_utf8_complete_prefix(pend.data ? pend.data : "", pend.len);
        if (done) {
            put_sanitized(&out, pend.data, done);
            memmove(pend.data, pend.data + done, pend.len - done);
            pend.len -= done;
        }
    }
    at[nk] = pend.len ? -1 : (int)out.len;
    if (pend.len) put_sanitized(&out, pend.data, pend.len);
    ia_buf_free(&pend);
    *len = out.len;
    return ia_buf_take(&out);
}

/* Tokenizes seg[0..len) as the whole prompt reads it there (special tokens
 * parsed). n tokens or -1. */
static int tok_plain(const struct llama_vocab *v, const char *seg, size_t len, bool bos, llama_token **out) {
    int cap = (int)len + 8;
    llama_token *t = ia_xmalloc((size_t)cap * sizeof *t);
    int n = llama_tokenize(v, seg, (int32_t)len, t, cap, bos, true);
    if (n < 0) {
        free(t);
        return -1;
    }
    *out = t;
    return n;
}

/* Bytes of seg[0..len) before its first special token (len if none). */
static size_t before_special(const struct llama_vocab *v, const char *seg, size_t len) {
    llama_token *t = NULL;
    int n = tok_plain(v, seg, len, false, &t);
    size_t at = 0;
    char buf[PIECE_MAX];
    for (int i = 0; i < n && !special(v, t[i]); i++) at += (size_t)piece(v, t[i], buf, sizeof buf);
    free(t);
    return n < 0 || at > len ? len : at;
}

/* Whether a segment starting at seg (not the prompt's start) can be
 * tokenized so that its text up to its first special token is spelled
 * exactly (a tokenizer's own space prefix would add a byte the prompt does
 * not have); from the special token on it reads as the whole prompt does. */
static bool joins(const struct llama_vocab *v, const char *seg, size_t len) {
    size_t gap = before_special(v, seg, len);
    if (!gap) return true;
    llama_token *t = NULL;
    int n = tok_exact(v, seg, gap, &t);
    free(t);
    return n >= 0;
}

/* Appends the tokens of seg[0..len): the prompt's start with BOS as the
 * vocabulary asks, else the text before its first special token spelled
 * exactly (checked by joins; the plain tokenization if it cannot be) and
 * the rest as the whole prompt reads it. */
static int put_segment(const struct llama_vocab *v, const char *seg, size_t len, bool first, ia_tokv *out) {
    if (!len) {
        /* an answer opens the prompt: it still starts with BOS */
        llama_token bos = llama_vocab_bos(v);
        if (first && llama_vocab_get_add_bos(v) && bos != LLAMA_TOKEN_NULL) ia_tokv_push(out, &bos, 1);
        return 0;
    }
    llama_token *t = NULL;
    int n;
    size_t gap = first ? 0 : before_special(v, seg, len);
    if (gap && (n = tok_exact(v, seg, gap, &t)) >= 0) {
        ia_tokv_push(out, t, n);
        free(t);
        t = NULL;
        seg += gap;
        len -= gap;
        if (!len) return 0;
    }
    if ((n = tok_plain(v, seg, len, first, &t)) < 0) return -1;
    ia_tokv_push(out, t, n);
    free(t);
    return 0;
}

/* Appends seg[0..len) as put_segment does, with each media mark in it
 * replaced by its part's tokens (media.c): the text between marks is
 * tokenized piece by piece, as libmtmd tokenizes a prompt. */
static int put_text(const struct llama_vocab *v, const char *seg, size_t len, bool first, ia_tokv *out,
                    ia_splice_media *mx) {
    while (mx && mx->mlen) {
        const char *m = memmem(seg, len, mx->marker, mx->mlen);
        if (!m) break;
        size_t k = (size_t)(m - seg);
        if (put_segment(v, seg, k, first, out) != 0) return -1;
        if (mx->next >= mx->n_media) {
            ia_fail(&mx->err, IA_EINTERNAL, "input: the prompt marks more media than were sent");
            return -1;
        }
        if (ia_mm_tokenize(mx->mm, v, &mx->media[mx->next++], mx->budget, &out->t, &out->n, &out->cap, &mx->spans,
                           &mx->n_spans, &mx->err) < 0)
            return -1;
        first = false;
        seg = m + mx->mlen;
        len -= k + mx->mlen;
    }
    return put_segment(v, seg, len, first, out);
}

/* Where the template put each answer that carries tokens: the prompt is
 * rendered once more with each such answer replaced by a marker, so the
 * template itself says where the text goes; the places hold only if putting
 * the answers back in place of the markers gives the prompt exactly (a
 * template that trims or rewrites an answer does not). -1 where unknown. */
long *ia_splice_locate(ia_engine *e, const ia_chat_msg *msgs, size_t n, const ia_chat_opts *copts,
                       const char *prompt) {
    long *at = ia_xmalloc((n ? n : 1) * sizeof *at);
    ia_chat_msg *marked = ia_xcalloc(n ? n : 1, sizeof *marked);
    char **marks = ia_xcalloc(n ? n : 1, sizeof *marks);
    size_t known = 0;
    for (size_t i = 0; i < n; i++) {
        at[i] = -1;
        marked[i] = msgs[i];
        if (msgs[i].n_tokens && msgs[i].content && *msgs[i].content) {
            marks[i] = ia_asprintf("\x1fia-answer-%zu\x1f", i);
            marked[i].content = marks[i];
            known++;
        }
    }
    char *mprompt = NULL, *cerr = NULL;
    ia_chat_state *st = NULL;
    int rc = -1;
    if (known) {
        pthread_mutex_lock(&e->chat_mu);
        rc = ia_chat_render_ex(e->chat, marked, n, copts, &mprompt, &st, &cerr);
        pthread_mutex_unlock(&e->chat_mu);
    }
    ia_chat_state_free(st);
    free(cerr);
    bool ok = rc == 0 && mprompt;
    if (ok) { /* put the answers back, noting where each lands */
        ia_buf b;
        ia_buf_init(&b, 0);
        const char *p = mprompt;
        while (ok && *p) {
            const char *m = strstr(p, "\x1fia-answer-");
            if (!m) {
                ia_buf_puts(&b, p);
                break;
            }
            ia_buf_append(&b, p, (size_t)(m - p));
            char *end = NULL;
            unsigned long i = strtoul(m + 11, &end, 10);
            if (!end || *end != '\x1f' || i >= n || !marks[i] || at[i] >= 0) ok = false;
            else {
                at[i] = (long)b.len;
                ia_buf_puts(&b, msgs[i].content);
                p = end + 1;
            }
        }
        ok = ok && b.len == strlen(prompt) && !memcmp(b.data ? b.data : "", prompt, b.len);
        ia_buf_free(&b);
    }
    if (!ok) {
        ia_debug("splice: the template does not place the answers verbatim (render %d): tokenized from text", rc);
        for (size_t i = 0; i < n; i++) at[i] = -1;
    }
    for (size_t i = 0; i < n; i++) free(marks[i]);
    free(marks);
    free(marked);
    free(mprompt);
    return at;
}

/* Whether every token id is one of the vocabulary's (a stored row could be
 * damaged; llama.cpp throws on an id out of range). */
static bool valid_ids(const struct llama_vocab *v, const int32_t *t, size_t n) {
    int32_t nv = llama_vocab_n_tokens(v);
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0 || t[i] >= nv) return false;
    return true;
}

int ia_splice_tokenize(const struct llama_vocab *v, const char *prompt, const ia_chat_msg *msgs, size_t n_msgs,
                       const long *at, ia_splice_media *mx, llama_token **out) {
    size_t plen = strlen(prompt);
    ia_tokv tv = {0};
    size_t cur = 0;
    int spliced = 0;
    for (size_t i = 0; at && i < n_msgs && !(mx && mx->err.code != IA_OK); i++) {
        if (at[i] < 0 || (size_t)at[i] < cur || !valid_ids(v, msgs[i].tokens, msgs[i].n_tokens)) continue;
        const char *text = msgs[i].content;
        size_t tl = strlen(text);
        int nt = (int)msgs[i].n_tokens;
        int *bound = ia_xmalloc(((size_t)nt + 1) * sizeof *bound);
        size_t kl = 0;
        char *ktext = as_stored(v, msgs[i].tokens, nt, text, tl, bound, &kl);
        size_t same = 0;
        while (same < kl && same < tl && ktext[same] == text[same]) same++;
        /* the rest of the prompt, up to the next answer with a place, must
         * join the tokens taken without a byte the prompt lacks */
        size_t next = plen;
        for (size_t k = i + 1; k < n_msgs; k++)
            if (at[k] >= 0) {
                next = (size_t)at[k];
                break;
            }
        int t = nt;
        for (; t > 0; t--) {
            if (bound[t] < 0 || (size_t)bound[t] > same) continue;
            size_t after = (size_t)at[i] + (size_t)bound[t];
            if (after <= next && joins(v, prompt + after, next - after)) break;
        }
        ia_debug("splice: message %zu: %d tokens spell %zu of its %zu bytes (%zu as stored); %d taken", i, nt, same,
                 tl, kl, t);
        if (t > 0 && put_text(v, prompt + cur, (size_t)at[i] - cur, cur == 0, &tv, mx) == 0) {
            ia_tokv_push(&tv, msgs[i].tokens, t);
            cur = (size_t)at[i] + (size_t)bound[t];
            spliced += t;
        }
        free(ktext);
        free(bound);
    }
    if (mx && mx->err.code != IA_OK) { /* a media part failed before an answer */
        free(tv.t);
        return -1;
    }
    if (put_text(v, prompt + cur, plen - cur, cur == 0, &tv, mx) != 0) {
        free(tv.t);
        return -1;
    }
    if (mx && mx->next != mx->n_media) {
        ia_fail(&mx->err, IA_EINVALID, "input: the chat template left out %zu of the %zu media parts",
                mx->n_media - mx->next, mx->n_media);
        free(tv.t);
        return -1;
    }
    if (spliced) ia_debug("splice: %d tokens of earlier answers as sampled, %d in all", spliced, tv.n);
    *out = tv.t;
    return tv.n;
}
