/* sched.c: the worker threads — continuous batching over one llama.cpp
 * context each. A worker takes jobs from the model's FIFO while it has a
 * free slot and no other worker with a free slot runs fewer jobs (so
 * streams spread across the contexts), renders and tokenizes them, and
 * hands a job to another worker whose sequences hold a longer prefix of its
 * prompt (a chain's next turn goes where its history is). In a slot (one
 * sequence each) a job's prompt is matched against what the worker's
 * sequences and the kept-sequence cache (shared by the workers) hold: the
 * longest common token prefix is reused — kept in place, shared from
 * another sequence (its cells, or across KV streams a copy of its state),
 * or restored from RAM or disk —
 * and the rest prefilled, then generated. Each step is one llama_decode of
 * one batch: the next token of every generating slot, then as many pending
 * prompt tokens as the chunk allows (the earliest admitted job first), so a
 * long prompt costs the others at most one chunk's time per token. After
 * the decode each slot that got logits samples with its own sampler chain
 * and passes the text through its own output filter. Structured output,
 * tools and reasoning live in that per-job chain (the reasoning budget and
 * the family's call grammar from the chat shim, or the schema's grammar,
 * ahead of the draw) and in a parse of the job's whole text at its end into
 * text, reasoning and calls (ia_engine_result.parsed), with partial parses
 * of the text so far as it grows for live reasoning and text — all passed
 * on as one typed item stream (items.h);
 * they touch neither
 * the batch nor prefix reuse, since a sampler only sees generated tokens. A
 * job that ends (end-of-generation, stop sequence, max tokens, cancel) frees
 * its slot at once, and the slot keeps its tokens and KV for a later job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "lib/log.h"
#include "lib/util.h"

/* The draw for one job; NULL when its grammar does not parse. The grammar
 * comes first, so the truncations and the draw only ever see tokens it
 * allows. */
static struct llama_sampler *make_sampler(const struct llama_vocab *vocab, const ia_engine_params *p) {
    struct llama_sampler_chain_params sp = llama_sampler_chain_default_params();
    sp.no_perf = true;
    struct llama_sampler *s = llama_sampler_chain_init(sp);
    if (p->grammar) {
        struct llama_sampler *g = llama_sampler_init_grammar(vocab, p->grammar, "root");
        if (!g) {
            llama_sampler_free(s);
            return NULL;
        }
        llama_sampler_chain_add(s, g);
    }
    double temp = p->has_temperature ? p->temperature : 1.0;
    if (temp <= 0.0) {
        llama_sampler_chain_add(s, llama_sampler_init_greedy());
        return s;
    }
    uint32_t seed = LLAMA_DEFAULT_SEED; /* llama.cpp: draw a random seed */
    if (p->has_seed) {
        /* Fold 64 bits to llama's 32; keep clear of the "random" value. */
        seed = (uint32_t)(p->seed ^ (p->seed >> 32));
        if (seed == LLAMA_DEFAULT_SEED) seed--;
    }
    int top_k = p->has_top_k ? p->top_k : 64;
    double top_p = p->has_top_p ? p->top_p : 0.95;
    if (top_k > 0) llama_sampler_chain_add(s, llama_sampler_init_top_k(top_k));
    if (top_p < 1.0) llama_sampler_chain_add(s, llama_sampler_init_top_p((float)top_p, 1));
    llama_sampler_chain_add(s, llama_sampler_init_temp((float)temp));
    llama_sampler_chain_add(s, llama_sampler_init_dist(seed));
    return s;
}

static bool should_stop(ia_engine *e, const job *j) {
    return atomic_load(&e->stop) || (j->cancel && atomic_load(j->cancel));
}

/* Tokenizes the rendered prompt: BOS as the vocabulary asks (the chat shim
 * already stripped a template's own BOS), special tokens parsed, since the
 * template writes them as text. Returns the count, or -1. */
static int tokenize(ia_engine *e, const char *text, llama_token **out) {
    size_t len = strlen(text);
    if (len > INT32_MAX / 2) return -1;
    int cap = (int)len + 8;
    llama_token *t = ia_xmalloc((size_t)cap * sizeof *t);
    int n = llama_tokenize(e->vocab, text, (int32_t)len, t, cap, true, true);
    if (n < 0) {
        cap = -n;
        t = ia_xrealloc(t, (size_t)cap * sizeof *t);
        n = llama_tokenize(e->vocab, text, (int32_t)len, t, cap, true, true);
    }
    if (n < 0) {
        free(t);
        return -1;
    }
    *out = t;
    return n;
}

/* The job's whole chain: the family's reasoning budget and call grammar
 * (from the render's state) ahead of make_sampler's. With tools the schema's
 * grammar is already composed into the call grammar (ia_chat_opts
 * .answer_grammar), so the plain grammar sampler is left out. *budget: the
 * reasoning budget sampler inside the chain (its state tells which tokens
 * are reasoning), or NULL. Returns NULL with a malloc'd or static message in
 * *msg. */
static struct llama_sampler *job_sampler(ia_engine *e, const job *j, const ia_chat_state *cst, char **cerr,
                                         const char **msg, struct llama_sampler **budget, bool *argmax) {
    ia_engine_params sp = j->params;
    if (j->tools && j->params.tool_choice != IA_TOOLS_NONE) sp.grammar = NULL;
    *budget = NULL;
    /* Greedy with nothing ahead of the draw: the chain would pick the first
     * largest logit; sample() does that without it (see there). */
    *argmax = sp.has_temperature && sp.temperature <= 0.0 && !sp.grammar;
    struct llama_sampler *smpl = make_sampler(e->vocab, &sp);
    if (!smpl) {
        *msg = "response_format: llama.cpp could not parse the grammar";
        return NULL;
    }
    if (!cst) return smpl;
    struct llama_sampler *tg = NULL, *bg = NULL;
    if ((j->tools && ia_chat_state_sampler(cst, e->vocab, &tg, cerr) != 0) ||
        ia_chat_state_budget_sampler(cst, e->vocab, &bg, cerr) != 0) {
        if (tg) llama_sampler_free(tg);
        llama_sampler_free(smpl);
        *msg = *cerr ? *cerr : "tools: no grammar";
        return NULL;
    }
    if (!tg && !bg) return smpl;
    *argmax = false;
    *budget = bg;
    struct llama_sampler_chain_params cp = llama_sampler_chain_default_params();
    cp.no_perf = true;
    struct llama_sampler *chain = llama_sampler_chain_init(cp);
    if (bg) llama_sampler_chain_add(chain, bg);
    if (tg) llama_sampler_chain_add(chain, tg);
    llama_sampler_chain_add(chain, smpl);
    return chain;
}

/* Passes on what a partial parse adds to a field beyond what was already
 * passed on (*sent); nothing when the parse no longer starts with it (the
 * field would shrink or change: it is held until a later parse agrees). */
static int live_field(slot *s, ia_item_kind kind, const ia_buf *sent, const char *now) {
    size_t n = strlen(now);
    if (n <= sent->len || (sent->len && memcmp(now, sent->data, sent->len) != 0)) return 0;
    return ia_items_delta(&s->items, &s->j->cb, kind, now + sent->len, n - sent->len);
}

/* Re-parses the text so far as partial and passes on the newly stable
 * reasoning and text (engine.h, the item stream). Only once the text has
 * grown by max(32, len/64) bytes (at most 256) since the last parse: a
 * parse costs the whole text, so one per piece would be quadratic over a
 * long reasoning for little gain in latency. */
static int live_parse(slot *s) {
    size_t len = s->whole.len, step = len / 64;
    if (step < 32) step = 32;
    if (step > 256) step = 256;
    if (len < s->parsed_at + step) return 0;
    s->parsed_at = len;
    ia_chat_parsed p = {0};
    if (ia_chat_parse(s->cst, s->whole.data, true, &p, NULL) != 0) return 0; /* the final parse decides */
    int stop = 0;
    if (p.reasoning) stop = live_field(s, IA_ITEM_THOUGHT, &s->items.sent_r, p.reasoning);
    /* text only after the reasoning, once closed (the parse reports text
     * only past the end of the thinking block) and all passed on: the
     * text's first delta ends the thought. With tools too: the partial
     * parse holds back what could start a call, so its text only grows
     * into the final text (test_tools.c checks every family's call syntax
     * cut at each byte). */
    bool whole_r = !p.reasoning || strlen(p.reasoning) == s->items.sent_r.len;
    if (!stop && whole_r && p.content && *p.content)
        stop = live_field(s, IA_ITEM_TEXT, &s->items.sent_c, p.content);
    ia_chat_parsed_free(&p);
    return stop;
}

/* The output filter's sink: an unparsed job's pieces are its text item's
 * deltas; a parsed job keeps the text whole and parses it as it grows. */
static int tee_text(void *ud, const char *text, size_t len) {
    slot *s = ud;
    s->items.n_output = s->res.n_output;
    if (!s->parse) return ia_items_delta(&s->items, &s->j->cb, IA_ITEM_TEXT, text, len);
    /* The parse reads a C string: a NUL byte the model emitted (a <0x00>
     * byte token) would cut off everything after it. The item stream drops
     * NULs too, so both read the same text. */
    for (size_t i = 0; i < len;) {
        size_t k = i;
        while (k < len && text[k]) k++;
        if (k > i) ia_buf_append(&s->whole, text + i, k - i);
        i = k + 1;
    }
    return live_parse(s);
}

/* Splits a finished job's text into answer, reasoning and calls (res points
 * into *parsed, which the caller frees after on_done). A parse failure
 * turns the job into an error. */
static void parse_output(ia_engine *e, slot *s, ia_chat_parsed *parsed) {
    ia_engine_result *res = &s->res;
    char *cerr = NULL;
    const char *text = s->whole.data ? s->whole.data : "";
    int rc = res->finish == IA_FINISH_STOP ? ia_chat_parse(s->cst, text, false, parsed, &cerr)
                                           : ia_chat_parse_cut(s->cst, text, parsed, &cerr);
    if (rc != 0) {
        res->finish = IA_FINISH_ERROR;
        ia_fail(&res->err, IA_EINTERNAL, "%s", cerr ? cerr : "parsing the output failed");
        free(cerr);
        return;
    }
    res->parsed = true;
    res->content = parsed->content;
    res->reasoning = parsed->reasoning;
    /* ia_chat_parsed's call triple has ia_engine_call's layout */
    res->calls = (const ia_engine_call *)(const void *)parsed->calls;
    res->n_calls = parsed->n_calls;
    if (parsed->reasoning && *parsed->reasoning && s->budget) {
        res->n_thought = s->n_inside; /* counted as sampled */
    } else if (parsed->reasoning && *parsed->reasoning) {
        llama_token *rt = NULL;
        int nr = tokenize(e, parsed->reasoning, &rt);
        res->n_thought = nr > 0 ? nr - (llama_vocab_get_add_bos(e->vocab) ? 1 : 0) : 0; /* not the BOS */
        if (res->n_thought > res->n_output) res->n_thought = res->n_output;
        free(rt);
    }
}

/* A slot's kv changes under its worker's kv_mu, for readers on other
 * workers (route); the caller holds it. */
void ia_slot_kv_set(slot *s, const llama_token *t, int n) {
    if (n > s->cap_kv) {
        s->cap_kv = n + 256;
        s->kv = ia_xrealloc(s->kv, (size_t)s->cap_kv * sizeof *s->kv);
    }
    if (n && t != s->kv) memcpy(s->kv, t, (size_t)n * sizeof *t);
    s->n_kv = n;
}

static void kv_push(slot *s, llama_token t) {
    if (s->n_kv == s->cap_kv) {
        s->cap_kv = s->cap_kv ? s->cap_kv * 2 : 256;
        s->kv = ia_xrealloc(s->kv, (size_t)s->cap_kv * sizeof *s->kv);
    }
    s->kv[s->n_kv++] = t;
}

/* Copies the cache's counters where ia_engine_get_stats reads them; the
 * caller holds kvc_mu (so no one waits on a cache write just to count). */
void ia_engine_publish_kvst(ia_engine *e) {
    pthread_mutex_lock(&e->stats_mu);
    ia_kvc_get_stats(e->kvc, &e->kvst);
    pthread_mutex_unlock(&e->stats_mu);
}

/* Bookkeeping of a job's end and its one on_done. */
static void job_done(worker *w, job *j, const ia_engine_result *res, int64_t t_start) {
    ia_engine *e = w->e;
    pthread_mutex_lock(&e->mu);
    e->n_running--;
    ia_route_running_add(e, w, -1);
    e->jobs_done++;
    e->tokens_generated += res->n_output;
    e->tokens_cached += res->n_cached;
    double ms = (double)(ia_mono_ms() - t_start);
    e->avg_job_ms = e->avg_job_ms > 0 ? 0.8 * e->avg_job_ms + 0.2 * ms : ms;
    ia_layout_update(e);
    pthread_cond_broadcast(&e->cv); /* a freed slot: a waiting job may now fit */
    pthread_mutex_unlock(&e->mu);
    j->cb.on_done(j->cb.ud, res);
    ia_engine_job_free(j);
}

/* Ends the slot's job; the slot keeps its tokens and KV. */
static void finish(worker *w, slot *s, ia_finish f) {
    ia_engine *e = w->e;
    job *j = s->j;
    s->res.finish = f;
    ia_chat_parsed parsed = {0};
    /* a cancelled or failed job ends as it was; one that ended on its own
     * (or on a limit) has its last deltas and the calls from the final
     * parse: all before on_done */
    if (s->parse && s->cst && (f == IA_FINISH_STOP || f == IA_FINISH_LENGTH)) parse_output(e, s, &parsed);
    s->items.n_output = s->res.n_output;
    if (s->res.parsed) ia_items_final(&s->items, &j->cb, &s->res, s->res.finish == IA_FINISH_STOP);
    else ia_items_end_open(&s->items, &j->cb, s->res.finish == IA_FINISH_CANCELLED || s->res.finish == IA_FINISH_ERROR);
    ia_outfilter_free(&s->of);
    ia_buf_free(&s->whole);
    ia_chat_state_free(s->cst);
    s->cst = NULL;
    s->parse = false;
    llama_sampler_free(s->smpl);
    s->smpl = NULL;
    s->budget = NULL;
    free(s->prompt);
    s->prompt = NULL;
    ia_mspans_free(s->spans, s->n_spans);
    s->spans = NULL;
    s->n_spans = 0;
    s->j = NULL;
    s->last_used = ++w->tick;
    ia_debug("engine %s: context %d sequence %d done: %lld prompt tokens (%lld reused), %lld generated; first "
             "token after %lld ms, %lld ms in all", e->name, w->idx, s->id, (long long)s->res.n_prompt,
             (long long)s->res.n_cached, (long long)s->res.n_output,
             (long long)(s->t_first ? s->t_first - s->t_start : -1), (long long)(ia_mono_ms() - s->t_start));
    ia_engine_result res = s->res;
    /* The output's tokens: what was decoded after the prompt, and the last
     * sampled one when a limit cut it before it was decoded. */
    llama_token *out = NULL;
    int n_gen = s->gen && s->n_kv > s->n_prompt ? s->n_kv - s->n_prompt : 0;
    if (f != IA_FINISH_ERROR && (n_gen || s->has_tail)) {
        out = ia_xmalloc(((size_t)n_gen + 1) * sizeof *out);
        memcpy(out, s->kv + s->n_prompt, (size_t)n_gen * sizeof *out);
        if (s->has_tail) out[n_gen++] = s->tail;
        res.out_tokens = out;
        res.n_out_tokens = n_gen;
    }
    s->has_tail = false;
    job_done(w, j, &res, s->t_start);
    free(out);
    ia_chat_parsed_free(&parsed);
    ia_items_free(&s->items); /* res's reasoning and content pointed into it */
}

/* Ends a running slot's job from layout.c: flushed first when it was
 * generating, with an error message when f is IA_FINISH_ERROR. */
void ia_slot_end(worker *w, slot *s, ia_finish f, const char *error) {
    if (f == IA_FINISH_ERROR) ia_fail(&s->res.err, IA_EINTERNAL, "%s", error);
    else if (s->gen) ia_outfilter_flush(&s->of);
    finish(w, s, f);
}

static void fail_job(worker *w, job *j, ia_engine_result *res, int64_t t0, ia_errcode code, const char *msg) {
    res->finish = IA_FINISH_ERROR;
    ia_fail(&res->err, code, "%s", msg);
    job_done(w, j, res, t0);
}

/* Renders and tokenizes a job taken from the queue (j->toks, j->cst).
 * Returns false when the job ended (failed or cancelled). */
static bool render(worker *w, job *j) {
    ia_engine *e = w->e;
    ia_engine_result res = {0};
    char *prompt = NULL, *cerr = NULL;
    ia_chat_opts copts = {.tools = j->tools, .n_tools = j->params.n_tools, .parallel_tool_calls = true,
                          .tool_choice = (ia_chat_tool_choice)j->params.tool_choice,
                          .thinking_budget = j->params.thinking_budget,
                          .answer_grammar = j->tools ? j->params.grammar : NULL};
    /* The template object is not thread-safe (chat.h; llama.cpp's renderer
     * also reads the clock through localtime()): one render at a time. */
    pthread_mutex_lock(&e->chat_mu);
    int rrc = ia_chat_render_ex(e->chat, j->msgs, j->n_msgs, &copts, &prompt, &j->cst, &cerr);
    pthread_mutex_unlock(&e->chat_mu);
    if (rrc != 0) {
        fail_job(w, j, &res, j->t_taken, IA_EINVALID, cerr ? cerr : "chat template failed");
        free(cerr);
        return false;
    }
    /* earlier answers as the model sampled them, where their tokens are known */
    long *at = ia_splice_locate(e, j->msgs, j->n_msgs, &copts, prompt);
    const char *mark = ia_engine_media_marker();
    ia_splice_media mx = {.mm = e->mm, .marker = mark, .mlen = strlen(mark), .media = j->media,
                          .n_media = j->n_media, .budget = e->n_ctx};
    ia_err_clear(&mx.err);
    int n = ia_splice_tokenize(e->vocab, prompt, j->msgs, j->n_msgs, at, j->n_media ? &mx : NULL, &j->toks);
    free(at);
    free(prompt);
    j->spans = mx.spans;
    j->n_spans = mx.n_spans;
    /* the parts are chunks now: the files' bytes are not needed again */
    for (size_t i = 0; i < j->n_media; i++) free((unsigned char *)j->media[i].data);
    free(j->media);
    j->media = NULL;
    j->n_media = 0;
    if (n < 0) {
        bool m = mx.err.code != IA_OK;
        fail_job(w, j, &res, j->t_taken, m ? mx.err.code : IA_EINTERNAL, m ? mx.err.msg : "tokenization failed");
        return false;
    }
    if (j->n_spans && j->spans[j->n_spans - 1].media &&
        j->spans[j->n_spans - 1].start + j->spans[j->n_spans - 1].n >= n) {
        /* the last prompt token's logits start the answer: media has none */
        fail_job(w, j, &res, j->t_taken, IA_EINVALID, "input: the prompt ends with a media part; add text after it");
        return false;
    }
    j->n_toks = n;
    res.n_prompt = n;
    if (n == 0 || n >= e->n_ctx) {
        char msg[256];
        if (n == 0) snprintf(msg, sizeof msg, "input: the prompt is empty");
        else snprintf(msg, sizeof msg,
                      "input: the prompt is %d tokens, which does not fit model %s's context of %d tokens", n,
                      e->name, e->n_ctx);
        fail_job(w, j, &res, j->t_taken, IA_EINVALID, msg);
        return false;
    }
    return true;
}

/* Takes a job into one of w's slots: rendered here unless another worker
 * did, perhaps routed on, else placed and started. */
static void admit(worker *w, job *j) {
    ia_engine *e = w->e;
    ia_engine_result res = {0};
    char *cerr = NULL;
    if (!j->toks) j->t_taken = ia_mono_ms();
    if (should_stop(e, j)) {
        res.finish = IA_FINISH_CANCELLED;
        job_done(w, j, &res, j->t_taken);
        return;
    }
    if (!j->toks) {
        if (!render(w, j)) return;
        if (ia_route_job(w, j)) return;
    }
    int64_t t0 = j->t_taken;
    res.n_prompt = j->n_toks;
    /* The sampler before the slot: a grammar llama.cpp refuses ends the job
     * without disturbing any sequence. */
    const char *smsg = NULL;
    struct llama_sampler *budget = NULL;
    bool argmax = false;
    struct llama_sampler *smpl = job_sampler(e, j, j->cst, &cerr, &smsg, &budget, &argmax);
    if (!smpl) {
        fail_job(w, j, &res, t0, IA_EINVALID, smsg);
        free(cerr);
        return;
    }
    free(cerr);
    int64_t tp = ia_mono_ms();
    int n = j->n_toks;
    slot *s = ia_slot_place(w, j->toks, n, j->spans, j->n_spans);
    ia_debug("engine %s: job on context %d sequence %d: prompt %d tokens, %d reused (rendered in %lld ms, placed "
             "in %lld ms)", e->name, w->idx, s->id, n, s->n_kv, (long long)(tp - t0),
             (long long)(ia_mono_ms() - tp));
    s->j = j;
    s->prompt = j->toks; /* the slot owns them and the render's state from here */
    j->toks = NULL;
    s->n_prompt = n;
    s->spans = j->spans;
    s->n_spans = j->n_spans;
    j->spans = NULL;
    j->n_spans = 0;
    s->res = res;
    s->res.n_cached = s->n_kv;
    ia_slot_count_modalities(s);
    ia_mspans_drop_before(s->spans, s->n_spans, s->n_kv); /* reused: never encoded */
    s->t_start = t0;
    s->gen = false;
    s->t_first = 0;
    s->i_logits = -1;
    s->admitted = atomic_fetch_add(&e->admit_seq, 1) + 1; /* engine-wide: moved jobs keep their place */
    s->max_tokens = j->params.max_tokens > 0 ? j->params.max_tokens : e->default_max_tokens;
    s->smpl = smpl;
    s->budget = budget;
    s->argmax = argmax;
    s->n_inside = 0;
    s->cst = j->cst;
    j->cst = NULL;
    s->parse = s->cst && (j->tools || e->reasons); /* split into text, reasoning, calls */
    ia_buf_init(&s->whole, 0);
    ia_items_init(&s->items);
    s->parsed_at = 0;
    ia_outfilter_init(&s->of, j->params.stop, j->params.n_stop, tee_text, s);
    if (j->cb.on_start) j->cb.on_start(j->cb.ud, n);
}

static void batch_add(struct llama_batch *b, llama_token t, llama_pos pos, llama_seq_id seq, bool logits) {
    int i = b->n_tokens++;
    b->token[i] = t;
    b->pos[i] = pos;
    b->n_seq_id[i] = 1;
    b->seq_id[i][0] = seq;
    b->logits[i] = logits;
}

/* Greedy decoding straight from the logits: the first largest, as
 * llama.cpp's greedy sampler picks. The sampler chain would first copy
 * every vocabulary entry into a candidate array (~600 KB for a 49k-token
 * vocabulary, per token of every sequence), a few percent of a step at
 * eight sequences. Returns nonzero when there are no logits. */
static int argmax_sample(ia_engine *e, struct llama_context *ctx, int idx, llama_token *out) {
    const float *l = llama_get_logits_ith(ctx, idx);
    int n = llama_vocab_n_tokens(e->vocab);
    if (!l || n < 1) return -1;
    int best = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[best]) best = i;
    *out = best;
    return 0;
}

/* Samples the token a slot's logits give and decides whether it goes on. */
static void sample(worker *w, slot *s) {
    ia_engine *e = w->e;
    bool inside = s->budget && ia_chat_budget_inside(s->budget); /* before the sample moves it */
    llama_token t;
    int rc = s->argmax ? argmax_sample(e, w->ctx, s->i_logits, &t) : ia_chat_sample(s->smpl, w->ctx, s->i_logits, &t);
    s->i_logits = -1;
    if (rc != 0) {
        /* llama.cpp throws when a grammar leaves no way forward: that job
         * fails, the others and the process go on. */
        ia_fail(&s->res.err, IA_EINTERNAL, "sampling failed: the output's grammar allows no next token");
        finish(w, s, IA_FINISH_ERROR);
        return;
    }
    if (!s->gen) s->t_first = ia_mono_ms();
    s->gen = true;
    s->res.n_output++;
    s->n_inside += inside;
    if (llama_vocab_is_eog(e->vocab, t)) {
        ia_outfilter_flush(&s->of);
        finish(w, s, IA_FINISH_STOP);
        return;
    }
    char buf[256], *piece = buf;
    /* special=false: control tokens the model emits are not text. */
    int len = llama_token_to_piece(e->vocab, t, buf, sizeof buf, 0, false);
    if (len < 0) { /* a piece longer than the buffer (some vocabularies have 512-byte ones) */
        piece = ia_xmalloc((size_t)-len);
        len = llama_token_to_piece(e->vocab, t, piece, -len, 0, false);
        if (len < 0) len = 0;
    }
    int r = ia_outfilter_push(&s->of, piece, (size_t)len);
    if (piece != buf) free(piece);
    if (r == IA_OUTFILTER_STOPPED) {
        finish(w, s, IA_FINISH_CANCELLED);
        return;
    }
    if (r == IA_OUTFILTER_STOP_SEQ) {
        finish(w, s, IA_FINISH_STOP);
        return;
    }
    if (s->res.n_output >= s->max_tokens || s->n_kv + 1 >= e->n_ctx) {
        ia_outfilter_flush(&s->of);
        s->has_tail = true;
        s->tail = t;
        finish(w, s, IA_FINISH_LENGTH);
        return;
    }
    s->next = t;
}

static void count_step(ia_engine *e, int n_seqs) {
    pthread_mutex_lock(&e->mu);
    e->steps++;
    if (n_seqs > e->max_batch_seqs) e->max_batch_seqs = n_seqs;
    pthread_mutex_unlock(&e->mu);
}

/* A decode failed: the batch's sequences are in an unknown state, so their
 * jobs end and they are emptied. */
static void decode_failed(worker *w, const struct llama_batch *b, int rc) {
    llama_memory_t mem = llama_get_memory(w->ctx);
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        bool in = false;
        for (int k = 0; k < b->n_tokens && !in; k++) in = b->seq_id[k][0] == s->id;
        in = in || (s->j && s->i_logits >= 0); /* a pair's second, never decoded */
        if (!in) continue;
        llama_memory_seq_rm(mem, s->id, -1, -1);
        pthread_mutex_lock(&w->kv_mu);
        s->n_kv = 0;
        pthread_mutex_unlock(&w->kv_mu);
        s->i_logits = -1;
        if (s->j) {
            ia_fail(&s->res.err, IA_EINTERNAL, "decoding failed (llama_decode returned %d)", rc);
            finish(w, s, IA_FINISH_ERROR);
        }
    }
}

/* One decode of every running slot's next token plus a prompt chunk.
 * Returns false when there was nothing to do. */
static bool step(worker *w) {
    ia_engine *e = w->e;
    struct llama_batch *b = &w->batch;
    b->n_tokens = 0;
    int n_seqs = 0;
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        if (s->j && should_stop(e, s->j)) {
            if (s->gen) ia_outfilter_flush(&s->of);
            finish(w, s, IA_FINISH_CANCELLED);
        }
    }
    pthread_mutex_lock(&w->kv_mu);
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        if (s->j && s->gen) {
            s->i_logits = b->n_tokens;
            batch_add(b, s->next, ia_mspans_pos(s->spans, s->n_spans, s->n_kv), s->id, true);
            kv_push(s, s->next);
            n_seqs++;
        }
    }
    /* The cores of idle workers are lent to the busy ones: one stream
     * alone decodes with every thread, as many as there are contexts with
     * one thread each. The prompt chunk follows the threads: a step is as
     * long with one thread as with two, so that a worker borrowing threads
     * back does not wait long for a step begun on fewer. */
    int busy = atomic_load(&e->busy);
    int want = e->threads_total / (busy > 1 ? busy : 1);
    if (want < e->threads) want = e->threads;
    int budget = e->chunk * want / e->threads;
    if (budget > w->chunk_now) budget = w->chunk_now;
    pthread_mutex_unlock(&w->kv_mu);
    if (w->e->mm) ia_slot_prefill_media(w, b->n_tokens > 0);
    pthread_mutex_lock(&w->kv_mu);
    while (budget > 0) {
        slot *first = NULL; /* the earliest admitted slot still prefilling */
        for (int i = 0; i < w->n_slots; i++) {
            slot *s = &w->slots[i];
            if (s->j && !s->gen && s->i_logits < 0 && s->n_kv < s->n_prompt &&
                (!first || s->admitted < first->admitted))
                first = s;
        }
        if (!first) break;
        int k = first->n_prompt - first->n_kv;
        if (k > budget) k = budget;
        int to_media = ia_slot_media_ahead(first);
        if (to_media == 0) break; /* its media part goes first, next step */
        if (to_media > 0 && k > to_media) k = to_media;
        int pos = ia_mspans_pos(first->spans, first->n_spans, first->n_kv); /* no media run among the k */
        for (int t = 0; t < k; t++) {
            bool last = first->n_kv + 1 == first->n_prompt;
            if (last) first->i_logits = b->n_tokens;
            batch_add(b, first->prompt[first->n_kv], pos + t, first->id, last);
            kv_push(first, first->prompt[first->n_kv]);
        }
        budget -= k;
        n_seqs++;
        if (first->i_logits < 0) break; /* budget spent mid-prompt, or a media part next */
    }
    pthread_mutex_unlock(&w->kv_mu);
    if (b->n_tokens == 0) return false;

    if (want != w->cur_threads) {
        llama_set_n_threads(w->ctx, want, want);
        w->cur_threads = want;
    }
    ia_pace_set_threads(&w->pace, want);
    int rc = 0;
    if (n_seqs == 2 && b->n_tokens == 2 && b->logits[0] && b->logits[1] && ia_pace_split_pair(&w->pace)) {
        /* Two sequences' next tokens, one decode each (see pace.h). */
        slot *pair[2] = {NULL, NULL};
        for (int i = 0; i < w->n_slots; i++)
            if (w->slots[i].j && w->slots[i].i_logits >= 0) pair[pair[0] ? 1 : 0] = &w->slots[i];
        for (int k = 0; k < 2 && rc == 0; k++) {
            slot *s = pair[k];
            b->n_tokens = 0;
            batch_add(b, s->kv[s->n_kv - 1], ia_mspans_pos(s->spans, s->n_spans, s->n_kv - 1), s->id, true);
            s->i_logits = 0;
            int64_t t0 = ia_pace_now_us();
            rc = llama_decode(w->ctx, *b);
            ia_pace_record(&w->pace, 1, ia_pace_now_us() - t0);
            if (rc == 0) sample(w, s);
        }
        if (rc != 0) decode_failed(w, b, rc);
        count_step(e, n_seqs);
        return true;
    }
    int64_t t0 = ia_pace_now_us();
    rc = llama_decode(w->ctx, *b);
    if (n_seqs == b->n_tokens) ia_pace_record(&w->pace, b->n_tokens, ia_pace_now_us() - t0);
    count_step(e, n_seqs);
    if (rc != 0) {
        decode_failed(w, b, rc);
        return true;
    }
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        if (s->j && s->i_logits >= 0) sample(w, s);
    }
    return true;
}

/* Whether any of w's slots runs a job (w's thread only). */
static bool has_jobs(const worker *w) {
    for (int i = 0; i < w->n_slots; i++)
        if (w->slots[i].j) return true;
    return false;
}

void *ia_engine_main(void *arg) {
    worker *w = arg;
    ia_engine *e = w->e;
    job **taken = ia_xcalloc((size_t)w->n_slots, sizeof *taken);
    for (;;) {
        pthread_mutex_lock(&e->mu);
        while (!w->inbox && !w->moves && !(e->head && ia_route_may_take(e, w)) && !has_jobs(w) &&
               !atomic_load(&e->stop))
            pthread_cond_wait(&e->cv, &e->mu);
        if (atomic_load(&e->stop)) {
            pthread_mutex_unlock(&e->mu);
            break;
        }
        int nt = 0;
        /* Handed-over jobs hold slots reserved for them already; visiting
         * ones (fetch_for) only want a sequence copied. */
        job *visiting = NULL;
        while (w->inbox) {
            job *j = w->inbox;
            w->inbox = j->next;
            if (!w->inbox) w->inbox_tail = NULL;
            if (j->fetch_for) {
                j->next = visiting;
                visiting = j;
            } else {
                taken[nt++] = j;
            }
        }
        bool took = false;
        while (e->head && ia_route_may_take(e, w)) {
            job *j = e->head;
            e->head = j->next;
            if (!e->head) e->tail = NULL;
            e->n_queued--;
            e->n_running++; /* its slot is reserved from here */
            ia_route_running_add(e, w, 1);
            taken[nt++] = j;
            took = true;
        }
        /* Another worker may take the rest now that w runs more: one
         * waiting with jobs reserved elsewhere only wakes on a broadcast. */
        if (took && e->head) pthread_cond_broadcast(&e->cv);
        ia_move *moves = w->moves;
        w->moves = NULL;
        if (took) ia_layout_update(e);
        w->chunk_now = e->one_batch && w == e->workers ? e->chunk_wide : e->chunk;
        int busy = 0;
        for (int i = 0; i < e->n_workers; i++) busy += e->workers[i].n_running > 0;
        if (busy > e->max_contexts_busy) e->max_contexts_busy = busy;
        pthread_mutex_unlock(&e->mu);
        while (visiting) {
            job *j = visiting;
            visiting = j->next;
            ia_route_fetch_done(w, j);
        }
        while (moves) {
            ia_move *m = moves;
            moves = m->next;
            ia_layout_settle(w, m, true);
        }
        for (int i = 0; i < nt; i++) admit(w, taken[i]);
        ia_layout_shed(w);
        step(w);
    }
    /* Stopping: sequences moved here end with the others. A worker moves
     * nothing once it has seen stop under mu, so none arrives later. */
    pthread_mutex_lock(&e->mu);
    ia_move *moves = w->moves;
    w->moves = NULL;
    pthread_mutex_unlock(&e->mu);
    while (moves) {
        ia_move *m = moves;
        moves = m->next;
        ia_layout_settle(w, m, false);
    }
    /* Stopping: running jobs end as CANCELLED (queued ones: ia_engine_free). */
    for (int i = 0; i < w->n_slots; i++) {
        slot *s = &w->slots[i];
        if (!s->j) continue;
        if (s->gen) ia_outfilter_flush(&s->of);
        finish(w, s, IA_FINISH_CANCELLED);
    }
    free(taken);
    return NULL;
}
