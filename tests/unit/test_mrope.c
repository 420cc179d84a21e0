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

/* Greedy tokens for before + image + after through libmtmd's helper, at
 * the positions it gives each chunk; the number of tokens (<= N_OUT). The
 * image's positions are reported in *n_img / *n_img_pos. */
static int reference(const unsigned char *img, size_t len, const char *before, const char *after, int32_t *out,
                     int *n_img, int *n_img_pos) {
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    struct llama_model *m = llama_model_load_from_file(QWEN, mp);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 1024;
    cp.n_batch = cp.n_ubatch = 1024;
    cp.n_threads = cp.n_threads_batch = 1;
    struct llama_context *ctx = m ? llama_init_from_model(m, cp) : NULL;
    struct mtmd_context_params p = mtmd_context_params_default();
    p.use_gpu = false;
    p.n_threads = 1;
    p.print_timings = false;
    p.warmup = false;
    mtmd_context *mc = ctx ? mtmd_init_from_file(QWEN_VISION, m, p) : NULL;
    int n = -1;
    if (!mc) goto done;
    mtmd_bitmap *bm = mtmd_helper_bitmap_init_from_buf(mc, img, len, false, mtmd_helper_init_opt_default()).bitmap;
    char *text = ia_asprintf("%s%s%s", before, mtmd_default_marker(), after);
    mtmd_input_text in = {.text = text, .text_len = strlen(text), .add_special = false, .parse_special = true};
    mtmd_input_chunks *ch = mtmd_input_chunks_init();
    const mtmd_bitmap *bms[1] = {bm};
    llama_pos pos = 0;
    if (bm && mtmd_tokenize(mc, ch, &in, bms, 1) == 0 &&
        mtmd_helper_eval_chunks(mc, ctx, ch, 0, 0, 1024, true, &pos) == 0) {
        for (size_t i = 0; i < mtmd_input_chunks_size(ch); i++) {
            const mtmd_input_chunk *c = mtmd_input_chunks_get(ch, i);
            if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_IMAGE) {
                *n_img = (int)mtmd_input_chunk_get_n_tokens(c);
                *n_img_pos = (int)mtmd_input_chunk_get_n_pos(c);
            }
        }
        const struct llama_vocab *v = llama_model_get_vocab(m);
        int nv = llama_vocab_n_tokens(v);
        struct llama_batch b = llama_batch_init(1, 0, 1);
        for (n = 0; n < N_OUT;) {
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
    }
    mtmd_input_chunks_free(ch);
    free(text);
    mtmd_bitmap_free(bm);
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

static void run(ia_engine *e, const unsigned char *img, size_t len, const char *before, const char *after, tsink *t) {
    char *text = ia_asprintf("%s%s%s", before, ia_engine_media_marker(), after);
    ia_engine_media part = {.modality = IA_MOD_IMAGE, .form = IA_EMEDIA_FILE, .data = img, .len = len};
    ia_engine_msg m = {.role = IA_MSG_USER, .text = text, .media = &part, .n_media = 1};
    ia_engine_params p = {.has_temperature = true, .temperature = 0.0, .max_tokens = N_OUT};
    memset(t, 0, sizeof *t);
    bs_init(&t->b);
    ia_engine_cb cb = {t, bs_start, bs_text, ts_done, NULL};
    ia_err err = {0};
    if (ia_engine_submit(e, &m, 1, &p, &cb, NULL, &err) != 0) {
        fprintf(stderr, "  submit: %s\n", err.msg);
        t->b.done = true;
    }
    bs_wait(&t->b);
    free(text);
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
    ia_engine_global_init(NULL, false);
    char *tmpl = bare_template_file();
    IA_CHECK(tmpl != NULL);
    ia_engine_opts o = {.name = "qwen", .path = QWEN, .mmproj = QWEN_VISION, .chat_template = tmpl, .threads = 1,
                        .contexts = 1, .parallel = 1, .n_ctx = 1024, .max_queue = 4, .cache_ram_bytes = -1};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    IA_CHECK(e != NULL);
    size_t la, lb;
    unsigned char *a = ppm(96, 32, 7, &la), *b = ppm(96, 32, 29, &lb);
    static const char BEFORE[] = "Here is a picture of my garden: ";
    static const char *AFTER[] = {" Which flowers grow in it?", " Which trees grow in it?"};
    int32_t ref[3][N_OUT];
    int n_ref[3], n_img = 0, n_img_pos = 0;
    n_ref[0] = reference(a, la, BEFORE, AFTER[0], ref[0], &n_img, &n_img_pos);
    n_ref[1] = reference(a, la, BEFORE, AFTER[1], ref[1], &n_img, &n_img_pos);
    n_ref[2] = reference(b, lb, BEFORE, AFTER[1], ref[2], &n_img, &n_img_pos);
    tsink t[3];
    run(e, a, la, BEFORE, AFTER[0], &t[0]);
    run(e, a, la, BEFORE, AFTER[1], &t[1]);
    run(e, b, lb, BEFORE, AFTER[1], &t[2]);
    ia_engine_free(e);
    unlink(tmpl);
    free(tmpl);
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
