/* seqstate: a sequence's KV state carried between contexts with different
 * numbers of KV streams (the load-following layout's context 0 holds every
 * slot, the others their share), for a plain KV cache (the demo model) and
 * a sliding-window model's two caches (build/gemma3.gguf with a window
 * given at load). What is put back must compute what the original does:
 * the next token's logits agree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine_int.h"
#include "engine/seqstate.h"
#include "bsink.h"
#include "gguf.h"
#include "unit.h"

#define GEMMA3 IA_SOURCE_DIR "/build/gemma3.gguf"
#define N_PROMPT 24

static struct llama_model *load(const char *path, int swa) {
    ia_engine_global_init(NULL, false);
    static struct llama_model_kv_override ov[2];
    memset(ov, 0, sizeof ov);
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    if (swa > 0) {
        ov[0].tag = LLAMA_KV_OVERRIDE_TYPE_INT;
        strcpy(ov[0].key, "gemma3.attention.sliding_window");
        ov[0].val_i64 = swa;
        mp.kv_overrides = ov;
    }
    return llama_model_load_from_file(path, mp);
}

static struct llama_context *ctx_of(struct llama_model *m, int n_seq, bool streams) {
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 256 * (uint32_t)n_seq;
    cp.n_batch = cp.n_ubatch = 64;
    cp.n_seq_max = (uint32_t)n_seq;
    cp.kv_unified = !streams;
    cp.n_threads = cp.n_threads_batch = 1;
    return llama_init_from_model(m, cp);
}

/* Decodes toks[0..n) into seq at positions from pos; the last token's logits
 * copied to out (n_vocab floats). */
static bool decode(struct llama_context *ctx, int seq, const llama_token *toks, int n, int pos, float *out) {
    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = toks[i];
        b.pos[i] = pos + i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = seq;
        b.logits[i] = i == n - 1;
    }
    b.n_tokens = n;
    bool ok = llama_decode(ctx, b) == 0;
    llama_batch_free(b);
    if (!ok) return false;
    int nv = llama_vocab_n_tokens(llama_model_get_vocab(llama_get_model(ctx)));
    memcpy(out, llama_get_logits_ith(ctx, -1), (size_t)nv * sizeof *out);
    return true;
}

static float max_diff(const float *a, const float *b, int n) {
    float d = 0;
    for (int i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

/* A prompt into src's sequence s_seq, its state into dst's d_seq, then one
 * more token in both: the logits agree. */
static void carry(int *ia_failed_, struct llama_model *m, bool streams, int n_src, int s_seq, int n_dst, int d_seq,
                  uint32_t sections) {
    struct llama_context *src = ctx_of(m, n_src, streams), *dst = ctx_of(m, n_dst, streams);
    IA_CHECK(src && dst);
    if (!src || !dst) return;
    int nv = llama_vocab_n_tokens(llama_model_get_vocab(m));
    float *a = malloc((size_t)nv * sizeof *a), *b = malloc((size_t)nv * sizeof *b);
    llama_token p[N_PROMPT], next = 7;
    for (int i = 0; i < N_PROMPT; i++) p[i] = 10 + (i * 37) % 200;
    /* Another sequence in the source first, so the state is not stream 0's
     * by accident. */
    if (n_src > 1) IA_CHECK(decode(src, (s_seq + 1) % n_src, p, 5, 0, a));
    IA_CHECK(decode(src, s_seq, p, N_PROMPT, 0, a));
    size_t size = 0;
    uint8_t *st = ia_seqstate_get(src, s_seq, streams, &size);
    IA_CHECK(st != NULL && size > 8);
    uint32_t nsec = 0;
    if (streams) memcpy(&nsec, st + 4, 4); /* the neutral form's section count */
    IA_CHECK(!streams || nsec == sections);
    IA_CHECK(ia_seqstate_set(dst, d_seq, streams, st, size));
    IA_CHECK(llama_memory_seq_pos_max(llama_get_memory(dst), d_seq) == N_PROMPT - 1);
    IA_CHECK(decode(src, s_seq, &next, 1, N_PROMPT, a));
    IA_CHECK(decode(dst, d_seq, &next, 1, N_PROMPT, b));
    IA_CHECK(max_diff(a, b, nv) < 1e-4f);
    /* A cut state does not load, and leaves the sequence empty. */
    if (streams) {
        llama_memory_seq_rm(llama_get_memory(dst), d_seq, -1, -1);
        IA_CHECK(!ia_seqstate_set(dst, d_seq, streams, st, size - 9));
        IA_CHECK(llama_memory_seq_pos_max(llama_get_memory(dst), d_seq) < 0);
    }
    /* An empty sequence's state loads as empty. */
    llama_memory_seq_rm(llama_get_memory(src), s_seq, -1, -1);
    free(st);
    st = ia_seqstate_get(src, s_seq, streams, &size);
    IA_CHECK(st != NULL);
    llama_memory_seq_rm(llama_get_memory(dst), d_seq, -1, -1);
    IA_CHECK(st && ia_seqstate_set(dst, d_seq, streams, st, size));
    IA_CHECK(llama_memory_seq_pos_max(llama_get_memory(dst), d_seq) < 0);
    free(st);
    free(a);
    free(b);
    llama_free(src);
    llama_free(dst);
}

IA_TEST(seqstate_moves_between_stream_counts) {
    struct llama_model *m = load(ia_test_demo_model(), 0);
    IA_CHECK(m != NULL);
    if (!m) return;
    carry(ia_failed_, m, true, 4, 3, 2, 1, 1); /* wider to narrower, last stream to another */
    carry(ia_failed_, m, true, 2, 0, 6, 5, 1); /* narrower to wider */
    IA_CHECK(ia_seqstate_streams_ok(m));
    carry(ia_failed_, m, true, 1, 0, 3, 2, 1); /* one stream */
    carry(ia_failed_, m, true, 4, 3, 4, 0, 1); /* the same count: llama.cpp's bytes as they are */
    carry(ia_failed_, m, false, 4, 2, 2, 0, 0); /* unified: llama.cpp's own bytes */
    llama_model_free(m);
}

IA_TEST(seqstate_moves_a_sliding_window_models_two_caches) {
    struct llama_model *m = load(GEMMA3, 16);
    IA_CHECK(m != NULL);
    if (!m) return;
    IA_CHECK(llama_model_n_swa(m) == 16);
    IA_CHECK(ia_seqstate_streams_ok(m));
    carry(ia_failed_, m, true, 4, 2, 2, 1, 2);
    carry(ia_failed_, m, true, 2, 1, 4, 3, 2);
    llama_model_free(m);
}

/* With one KV stream per slot, a step is one ubatch per run of consecutive
 * running sequence ids: a free slot is chosen to keep the runs fewest,
 * then by the fewest kept tokens, then the least recently used. */
IA_TEST(engine_slot_spare_keeps_running_ids_consecutive) {
    slot s[6];
    memset(s, 0, sizeof s);
    job *running = (job *)&s; /* any non-NULL: only compared with NULL */
    worker w = {.slots = s, .n_slots = 6};
    for (int i = 0; i < 6; i++) s[i].id = i, s[i].last_used = (uint64_t)(10 - i);
    /* Nothing runs: the least kept, then the least recently used. */
    s[0].n_kv = 5, s[1].n_kv = 5, s[2].n_kv = 5, s[3].n_kv = 5, s[4].n_kv = 5, s[5].n_kv = 0;
    IA_CHECK(ia_slot_spare(&w) == &s[5]);
    /* 0 and 2 run: 1 fills the hole, whatever it keeps. */
    s[0].j = s[2].j = running;
    s[1].n_kv = 900;
    IA_CHECK(ia_slot_spare(&w) == &s[1]);
    /* 0, 1, 2 run: 3 extends the run (5 would start a second one). */
    s[1].j = running;
    IA_CHECK(ia_slot_spare(&w) == &s[3]);
    /* 1 and 2 run: 0 and 3 both extend it; 0 keeps fewer tokens. */
    s[0].j = NULL;
    s[0].n_kv = 1;
    IA_CHECK(ia_slot_spare(&w) == &s[0]);
    /* Every slot runs: none. */
    for (int i = 0; i < 6; i++) s[i].j = running;
    IA_CHECK(ia_slot_spare(&w) == NULL);
}

/* A sliding-window model (a window of 16): a second job whose prompt
 * shares a long prefix with a running one, which has gone on well past the
 * window, cannot reuse that prefix (the state holds only the window behind
 * the running sequence's end): it computes its prompt, and gives what it
 * gives alone. */
static bool text_at_least(bsink *s, size_t n) {
    pthread_mutex_lock(&s->mu);
    bool t = s->text.len >= n || s->done;
    pthread_mutex_unlock(&s->mu);
    return t;
}

IA_TEST(engine_sliding_window_prefix_not_reused_past_the_window) {
    char path[1024];
    snprintf(path, sizeof path, "%s/gemma3-swa16.gguf", ia_test_tmpdir());
    /* The same file with a window: its metadata rewritten, its tensor data
     * copied after it at the alignment (offsets are relative to it). */
    struct gguf_init_params ip = {.no_alloc = true, .ctx = NULL};
    struct gguf_context *g = gguf_init_from_file(GEMMA3, ip);
    IA_CHECK(g != NULL);
    gguf_set_val_u32(g, "gemma3.attention.sliding_window", 16);
    IA_CHECK(gguf_write_to_file(g, path, true));
    FILE *in = fopen(GEMMA3, "rb"), *out = fopen(path, "ab");
    IA_CHECK(in && out);
    long at = ftell(out);
    size_t align = gguf_get_alignment(g);
    for (; at % (long)align; at++) fputc(0, out);
    fseek(in, (long)gguf_get_data_offset(g), SEEK_SET);
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) IA_CHECK(fwrite(buf, 1, k, out) == k);
    fclose(in);
    IA_CHECK(fclose(out) == 0);
    gguf_free(g);
    ia_engine *e = load_ctx(path, "g", 2, 1, false, NULL, 0);
    ia_engine *alone = load_ctx(path, "g", 1, 1, true, NULL, 0);
    IA_CHECK(e && alone);
    const char *base = "Tell me a long story about a lighthouse keeper who counts the waves every night and "
                       "writes each number down in a small red notebook by the window";
    char longer[512];
    snprintf(longer, sizeof longer, "%s, and then stops.", base);
    ia_engine_params hp = {.has_temperature = true, .temperature = 0.0, .max_tokens = 100000,
                           .grammar = "root ::= [a-z ] root"};
    ia_engine_params gp = {.has_temperature = true, .temperature = 0.0, .max_tokens = 200,
                           .grammar = "root ::= [a-z ]{40}"};
    bsink hold, b, ref;
    atomic_bool stop;
    atomic_init(&stop, false);
    bs_init(&hold);
    bs_init(&b);
    bs_init(&ref);
    ia_engine_msg mh[] = {{.role = IA_MSG_USER, .text = base}};
    IA_CHECK(bs_submit(e, mh, 1, &hp, &hold, &stop) == 0);
    for (int i = 0; i < 20000 && !text_at_least(&hold, 600); i++) usleep(500); /* well past the window */
    fprintf(stderr, "  held job: %zu chars\n", hold.text.len);
    ia_engine_msg mb[] = {{.role = IA_MSG_USER, .text = longer}};
    IA_CHECK(bs_submit(e, mb, 1, &gp, &b, NULL) == 0);
    bs_wait(&b);
    atomic_store(&stop, true);
    bs_wait(&hold);
    IA_CHECK(bs_submit(alone, mb, 1, &gp, &ref, NULL) == 0);
    bs_wait(&ref);
    fprintf(stderr, "  cached %lld of %lld; %s | %s\n", (long long)b.res.n_cached, (long long)b.res.n_prompt,
            b.text.data ? b.text.data : "", ref.text.data ? ref.text.data : "");
    IA_CHECK(b.res.n_cached == 0);
    IA_CHECK(b.text.len > 0 && ref.text.len == b.text.len && strcmp(b.text.data, ref.text.data) == 0);
    bs_free(&hold);
    bs_free(&b);
    bs_free(&ref);
    ia_engine_free(e);
    ia_engine_free(alone);
}
