/* test_mrope: media placed with M-RoPE positions (Qwen2-VL and its kin:
 * an image of nx by ny tokens takes max(nx, ny) positions), on the
 * random-weight Qwen2-VL pair the build writes (build/qwen2vl.gguf,
 * build/mmproj-qwen2vl.gguf; 16x16 pixels a token).
 *
 * The engine's greedy tokens are compared with a reference run on the same
 * files through libmtmd's own helper (mtmd_helper_eval_chunks, which
 * places every chunk itself) and a plain greedy loop: a position off
 * anywhere — the text after an image, a reused prefix cut through the
 * KV by index instead of position — changes the tokens. The chat template
 * is the bare concatenation of the messages, so both runs see the same
 * prompt. */
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bsink.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "mkmedia.h"
#include "unit.h"

#define QWEN IA_SOURCE_DIR "/build/qwen2vl.gguf"
#define QWEN_VISION IA_SOURCE_DIR "/build/mmproj-qwen2vl.gguf"
#define N_OUT 8

static const char BARE_TEMPLATE[] = "{%- for m in messages -%}{{- m['content'] -}}{%- endfor -%}";

/* The template in a file of its own (the engine takes a path). */
static char *bare_template_file(void) {
    char *path = ia_strdup("/tmp/ia-mrope-tmpl-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE *fp = fdopen(fd, "w");
    fputs(BARE_TEMPLATE, fp);
    fclose(fp);
    return path;
}

/* A prompt: texts[0], image 0, texts[1], image 1, ..., texts[n]. */
typedef struct {
    const char *texts[3];
    const unsigned char *img[2];
    size_t len[2];
    int n; /* images */
} prompt;

static char *join(const prompt *p, const char *marker) {
    ia_buf b;
    ia_buf_init(&b, 0);
    for (int i = 0; i <= p->n; i++) {
        ia_buf_puts(&b, p->texts[i]);
        if (i < p->n) ia_buf_puts(&b, marker);
    }
    return ia_buf_take(&b);
}

/* The greedy continuation of the model's context at pos (logits of its
 * last token ready): up to N_OUT tokens; their count, -1 on failure. */
static int greedy_loop(struct llama_context *ctx, const struct llama_vocab *v, llama_pos pos, int32_t *out) {
    int nv = llama_vocab_n_tokens(v), n = 0;
    struct llama_batch b = llama_batch_init(1, 0, 1);
    while (n < N_OUT) {
        const float *lg = llama_get_logits_ith(ctx, -1);
        llama_token t = 0;
        for (int k = 1; k < nv; k++)
            if (lg[k] > lg[t]) t = k;
        if (llama_vocab_is_eog(v, t)) break;
        out[n++] = t;
        b.n_tokens = 1;
        b.token[0] = t;
        b.pos[0] = pos++;
        b.n_seq_id[0] = 1;
        b.seq_id[0][0] = 0;
        b.logits[0] = true;
        if (llama_decode(ctx, b) != 0) {
            n = -1;
            break;
        }
    }
    llama_batch_free(b);
    return n;
}

/* Greedy tokens for prompt p through libmtmd's helper, at the positions it
 * gives each chunk; the number of tokens (<= N_OUT), -1 on failure. The
 * last image's tokens and positions go to *n_img / *n_img_pos. */
static int reference(const prompt *p, int32_t *out, int *n_img, int *n_img_pos) {
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *m = llama_model_load_from_file(QWEN, mp);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 1024;
    cp.n_batch = cp.n_ubatch = 1024;
    cp.n_threads = cp.n_threads_batch = 1;
    struct llama_context *ctx = m ? llama_init_from_model(m, cp) : NULL;
    struct mtmd_context_params mcp = mtmd_context_params_default();
    mcp.use_gpu = false;
    mcp.n_threads = 1;
    mcp.print_timings = false;
    mcp.warmup = false;
    mtmd_context *mc = ctx ? mtmd_init_from_file(QWEN_VISION, m, mcp) : NULL;
    int n = -1;
    if (!mc) goto done;
    const mtmd_bitmap *bms[2] = {NULL, NULL};
    for (int i = 0; i < p->n; i++)
        bms[i] = mtmd_helper_bitmap_init_from_buf(mc, p->img[i], p->len[i], false, mtmd_helper_init_opt_default()).bitmap;
    char *text = join(p, mtmd_default_marker());
    mtmd_input_text in = {.text = text, .text_len = strlen(text), .add_special = false, .parse_special = true};
    mtmd_input_chunks *ch = mtmd_input_chunks_init();
    llama_pos pos = 0;
    if ((p->n < 1 || bms[0]) && (p->n < 2 || bms[1]) && mtmd_tokenize(mc, ch, &in, bms, (size_t)p->n) == 0 &&
        mtmd_helper_eval_chunks(mc, ctx, ch, 0, 0, 1024, true, &pos) == 0) {
        for (size_t i = 0; i < mtmd_input_chunks_size(ch); i++) {
            const mtmd_input_chunk *c = mtmd_input_chunks_get(ch, i);
            if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                *n_img = (int)mtmd_input_chunk_get_n_tokens(c);
                *n_img_pos = (int)mtmd_input_chunk_get_n_pos(c);
            }
        }
        n = greedy_loop(ctx, llama_model_get_vocab(m), pos, out);
    }
    mtmd_input_chunks_free(ch);
    free(text);
    for (int i = 0; i < p->n; i++) mtmd_bitmap_free((mtmd_bitmap *)bms[i]);
done:
    if (mc) mtmd_free(mc);
    if (ctx) llama_free(ctx);
    if (m) llama_model_free(m);
    return n;
}

/* A job's output tokens, kept past on_done. */
typedef struct {
    bsink b;
    int32_t toks[N_OUT];
    int n;
} tsink;

static void ts_done(void *ud, const ia_engine_result *res) {
    tsink *t = ud;
    t->n = 0;
    for (int64_t i = 0; res->out_tokens && i < res->n_out_tokens && t->n < N_OUT; i++) t->toks[t->n++] = res->out_tokens[i];
    bs_done(&t->b, res);
}

/* Submits prompt p (greedy, max_tokens tokens) to t's sink. */
static void submit(ia_engine *e, const prompt *p, int max_tokens, tsink *t) {
    char *text = join(p, ia_engine_media_marker());
    ia_engine_media parts[2];
    for (int i = 0; i < p->n; i++)
        parts[i] = (ia_engine_media){.modality = IA_MOD_IMAGE, .form = IA_EMEDIA_FILE, .data = p->img[i], .len = p->len[i]};
    ia_engine_msg m = {.role = IA_MSG_USER, .text = text, .media = parts, .n_media = (size_t)p->n};
    ia_engine_params ep = {.has_temperature = true, .temperature = 0.0, .max_tokens = max_tokens};
    memset(t, 0, sizeof *t);
    bs_init(&t->b);
    ia_engine_cb cb = {t, bs_start, bs_item, ts_done};
    ia_err err = {0};
    if (ia_engine_submit(e, &m, 1, &ep, &cb, NULL, &err) != 0) {
        fprintf(stderr, "  submit: %s\n", err.msg);
        t->b.done = true;
    }
    free(text);
}

static void run(ia_engine *e, const prompt *p, tsink *t) {
    submit(e, p, N_OUT, t);
    bs_wait(&t->b);
}

/* The engine with the bare template, one context of one thread. */
static ia_engine *load_qwen(int parallel, char **tmpl) {
    ia_engine_global_init(NULL, false);
    *tmpl = bare_template_file();
    if (!*tmpl) return NULL;
    ia_engine_opts o = {.name = "qwen", .path = QWEN, .mmproj = QWEN_VISION, .chat_template = *tmpl, .threads = 1,
                        .contexts = 1, .parallel = parallel, .n_ctx = 1024, .max_queue = 4, .cache_ram_bytes = -1};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    return e;
}

static void unload(ia_engine *e, char *tmpl) {
    if (e) ia_engine_free(e);
    if (tmpl) unlink(tmpl);
    free(tmpl);
}

static bool same(const tsink *t, const int32_t *ref, int n_ref) {
    bool ok = t->b.res.finish != IA_FINISH_ERROR && n_ref > 0 && t->n == n_ref && !memcmp(t->toks, ref, (size_t)n_ref * 4);
    if (!ok) {
        fprintf(stderr, "  engine (finish %d, prompt %lld, cached %lld):", (int)t->b.res.finish,
                (long long)t->b.res.n_prompt, (long long)t->b.res.n_cached);
        for (int i = 0; i < t->n; i++) fprintf(stderr, " %d", t->toks[i]);
        fprintf(stderr, "\n  reference:");
        for (int i = 0; i < n_ref; i++) fprintf(stderr, " %d", ref[i]);
        fprintf(stderr, "%s\n", t->b.res.finish == IA_FINISH_ERROR ? t->b.res.err.msg : "");
    }
    return ok;
}

/* A wide image (6 by 2 tokens: 12 tokens at 6 positions) between two
 * texts; then the same image with another text after it, reusing the kept
 * sequence through the image; then another image after the same text, the
 * kept sequence cut back to before the first. Each matches the reference. */
IA_TEST(mrope_positions_match_libmtmd_helper) {
    char *tmpl = NULL;
    ia_engine *e = load_qwen(1, &tmpl);
    IA_CHECK(e != NULL);
    size_t la, lb;
    unsigned char *a = ppm(96, 32, 7, &la), *b = ppm(96, 32, 29, &lb);
    static const char BEFORE[] = "Here is a picture of my garden: ";
    prompt p[3] = {
        {.texts = {BEFORE, " Which flowers grow in it?"}, .img = {a}, .len = {la}, .n = 1},
        {.texts = {BEFORE, " Which trees grow in it?"}, .img = {a}, .len = {la}, .n = 1},
        {.texts = {BEFORE, " Which trees grow in it?"}, .img = {b}, .len = {lb}, .n = 1},
    };
    int32_t ref[3][N_OUT];
    int n_ref[3], n_img = 0, n_img_pos = 0;
    tsink t[3];
    for (int i = 0; i < 3; i++) n_ref[i] = reference(&p[i], ref[i], &n_img, &n_img_pos);
    for (int i = 0; i < 3; i++) run(e, &p[i], &t[i]);
    unload(e, tmpl);
    free(a);
    free(b);
    /* the image takes fewer positions than tokens: positions are not
     * indexes past it */
    IA_CHECK(n_img == 12 && n_img_pos == 6);
    IA_CHECK(t[0].b.res.n_prompt_by[IA_MOD_IMAGE] == 12);
    IA_CHECK(same(&t[0], ref[0], n_ref[0]));
    /* reused through the image, cut after it by position */
    IA_CHECK(t[1].b.res.n_cached_by[IA_MOD_IMAGE] == 12 && t[1].b.res.n_cached > 12);
    IA_CHECK(same(&t[1], ref[1], n_ref[1]));
    /* another image: the kept sequence cut before the first one */
    IA_CHECK(t[2].b.res.n_cached_by[IA_MOD_IMAGE] == 0 && t[2].b.res.n_cached > 0);
    IA_CHECK(same(&t[2], ref[2], n_ref[2]));
    /* the images and texts matter */
    IA_CHECK(memcmp(ref[0], ref[1], sizeof ref[0]) != 0 && memcmp(ref[1], ref[2], sizeof ref[1]) != 0);
    for (int i = 0; i < 3; i++) bs_free(&t[i].b);
}

/* Two images: the second is placed after the positions the first saved
 * (its index is 6 past its position); then the same two images with other
 * text after them, reused through both. */
IA_TEST(mrope_two_images) {
    char *tmpl = NULL;
    ia_engine *e = load_qwen(1, &tmpl);
    IA_CHECK(e != NULL);
    size_t la, lb;
    unsigned char *a = ppm(96, 32, 7, &la), *b = ppm(32, 96, 29, &lb);
    prompt p[2] = {
        {.texts = {"First ", " then ", " and what now?"}, .img = {a, b}, .len = {la, lb}, .n = 2},
        {.texts = {"First ", " then ", " and which one is taller?"}, .img = {a, b}, .len = {la, lb}, .n = 2},
    };
    int32_t ref[2][N_OUT];
    int n_ref[2], n_img = 0, n_img_pos = 0;
    tsink t[2];
    for (int i = 0; i < 2; i++) n_ref[i] = reference(&p[i], ref[i], &n_img, &n_img_pos);
    for (int i = 0; i < 2; i++) run(e, &p[i], &t[i]);
    unload(e, tmpl);
    free(a);
    free(b);
    IA_CHECK(n_img == 12 && n_img_pos == 6); /* the tall one: 2 by 6 */
    IA_CHECK(t[0].b.res.n_prompt_by[IA_MOD_IMAGE] == 24);
    IA_CHECK(same(&t[0], ref[0], n_ref[0]));
    IA_CHECK(t[1].b.res.n_cached_by[IA_MOD_IMAGE] == 24);
    IA_CHECK(same(&t[1], ref[1], n_ref[1]));
    for (int i = 0; i < 2; i++) bs_free(&t[i].b);
}

/* Whether t's job has passed some text on (its prompt is in the KV). */
static bool has_text(tsink *t) {
    pthread_mutex_lock(&t->b.mu);
    bool y = t->b.text.len > 0 || t->b.done;
    pthread_mutex_unlock(&t->b.mu);
    return y;
}

/* Two sequences: while a job with the image still generates, another with
 * the same image and other text after it is placed in the second slot, its
 * prefix copied from the first's sequence (up to a position) rather than
 * computed; both match the reference. */
IA_TEST(mrope_prefix_copied_from_a_running_sequence) {
    char *tmpl = NULL;
    ia_engine *e = load_qwen(2, &tmpl);
    IA_CHECK(e != NULL);
    size_t la;
    unsigned char *a = ppm(96, 32, 7, &la);
    prompt p[2] = {
        {.texts = {"Here is a picture of my garden: ", " Which flowers grow in it?"}, .img = {a}, .len = {la}, .n = 1},
        {.texts = {"Here is a picture of my garden: ", " Which trees grow in it?"}, .img = {a}, .len = {la}, .n = 1},
    };
    int32_t ref[N_OUT];
    int n_img = 0, n_img_pos = 0;
    int n_ref = reference(&p[1], ref, &n_img, &n_img_pos);
    tsink first, second;
    submit(e, &p[0], 400, &first); /* long: still running when the second comes */
    while (!has_text(&first)) usleep(1000);
    run(e, &p[1], &second);
    bool first_running = !first.b.done;
    bs_wait(&first.b);
    unload(e, tmpl);
    free(a);
    IA_CHECK(first_running);
    IA_CHECK(second.b.res.n_cached_by[IA_MOD_IMAGE] == 12 && second.b.res.n_cached > 12);
    IA_CHECK(same(&second, ref, n_ref));
    bs_free(&first.b);
    bs_free(&second.b);
}
