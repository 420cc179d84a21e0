/* media.c: images, audio and video in a prompt, through libmtmd (media.h).
 *
 * A part is turned into libmtmd chunks by mtmd_tokenize on a text holding
 * only libmtmd's marker (one per bitmap), so the projector's family adds
 * its own wrapper tokens around each; a video goes through libmtmd's video
 * helper (ffmpeg) as frames with timestamp text between them. */
#include "engine/media.h"

#include <mtmd-helper.h>
#include <mtmd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/imgsize.h"
#include "lib/log.h"
#include "lib/util.h"

struct ia_mm {
    mtmd_context *ctx;
    pthread_mutex_t mu;   /* the encoder is not thread-safe */
    unsigned char fp[32]; /* the projector's identity, mixed into every media hash */
    bool vision, audio, video;
    int batch; /* the smallest batch of the model's contexts (ia_mm_set_batch) */
};

/* The largest chunk of a Gemma 3 class image (a fixed 256) with room for
 * the families whose images are bigger: decoded in one batch when the
 * family attends to an image non-causally. */
#define IA_MM_BATCH_MIN 1024
/* An image's pixels, at most, read from its header before it is decoded
 * (3 bytes each once decoded): far past what any projector looks at. */
#define IA_MM_MAX_PIXELS ((uint64_t)64000000)

static void quiet_log(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (level == GGML_LOG_LEVEL_ERROR) ia_debug("mtmd: %s", text);
}

ia_mm *ia_mm_load(const char *path, const struct llama_model *model, int threads, ia_err *err) {
    mtmd_helper_log_set(quiet_log, NULL);
    struct mtmd_context_params p = mtmd_context_params_default();
    p.use_gpu = true;
    p.print_timings = false;
    p.n_threads = threads > 0 ? threads : 1;
    p.warmup = true; /* reserves the encoder's compute buffers once, at load */
    mtmd_context *ctx = mtmd_init_from_file(path, model, p);
    if (!ctx) {
        ia_fail(err, IA_EINVALID, "cannot load the projector %s (not an mmproj GGUF for this model?)", path);
        return NULL;
    }
    ia_mm *mm = ia_xcalloc(1, sizeof *mm);
    mm->ctx = ctx;
    pthread_mutex_init(&mm->mu, NULL);
    mm->vision = mtmd_support_vision(ctx);
    mm->audio = mtmd_support_audio(ctx);
    mm->video = mm->vision && mtmd_helper_support_video(ctx);
    /* A state computed with one projector file fits no other. */
    struct stat st;
    char id[1024];
    int k = snprintf(id, sizeof id, "%s|%lld|%lld", path, stat(path, &st) == 0 ? (long long)st.st_size : -1LL,
                     stat(path, &st) == 0 ? (long long)st.st_mtime : -1LL);
    SHA256((const unsigned char *)id, (size_t)(k > 0 ? k : 0), mm->fp);
    return mm;
}

void ia_mm_free(ia_mm *mm) {
    if (!mm) return;
    mtmd_free(mm->ctx);
    pthread_mutex_destroy(&mm->mu);
    free(mm);
}

bool ia_mm_takes(const ia_mm *mm, ia_modality m) {
    switch (m) {
    case IA_MOD_TEXT:
    case IA_MOD_DOCUMENT: return true;
    case IA_MOD_IMAGE: return mm && mm->vision;
    case IA_MOD_AUDIO: return mm && mm->audio;
    case IA_MOD_VIDEO: return mm && mm->video;
    default: return false;
    }
}

int ia_mm_batch_min(const ia_mm *mm) { return mm && mm->vision ? IA_MM_BATCH_MIN : 0; }

void ia_mm_set_batch(ia_mm *mm, int batch) {
    if (mm) mm->batch = batch;
}

static const char *mod_name(ia_modality m) {
    static const char *const n[IA_MOD__COUNT] = {"text", "image", "audio", "video", "document"};
    return m < IA_MOD__COUNT ? n[m] : "media";
}

/* A bitmap whose longer side is over max_side, scaled down by area
 * averaging (each output pixel the mean of the input pixels it covers), so
 * a dynamic-resolution projector gets fewer tokens for a lower
 * `resolution`; others unchanged. */
static mtmd_bitmap *fit(mtmd_bitmap *b, int max_side) {
    uint32_t nx = mtmd_bitmap_get_nx(b), ny = mtmd_bitmap_get_ny(b);
    uint32_t side = nx > ny ? nx : ny;
    if (max_side <= 0 || mtmd_bitmap_is_audio(b) || side <= (uint32_t)max_side) return b;
    uint32_t ox = (uint32_t)((uint64_t)nx * (uint32_t)max_side / side), oy = (uint32_t)((uint64_t)ny * (uint32_t)max_side / side);
    if (ox < 1) ox = 1;
    if (oy < 1) oy = 1;
    const unsigned char *in = mtmd_bitmap_get_data(b);
    unsigned char *out = ia_xmalloc((size_t)ox * oy * 3);
    for (uint32_t y = 0; y < oy; y++) {
        uint32_t y0 = (uint32_t)((uint64_t)y * ny / oy), y1 = (uint32_t)((uint64_t)(y + 1) * ny / oy);
        if (y1 <= y0) y1 = y0 + 1;
        for (uint32_t x = 0; x < ox; x++) {
            uint32_t x0 = (uint32_t)((uint64_t)x * nx / ox), x1 = (uint32_t)((uint64_t)(x + 1) * nx / ox);
            if (x1 <= x0) x1 = x0 + 1;
            uint64_t sum[3] = {0, 0, 0};
            for (uint32_t yy = y0; yy < y1; yy++)
                for (uint32_t xx = x0; xx < x1; xx++)
                    for (int c = 0; c < 3; c++) sum[c] += in[((size_t)yy * nx + xx) * 3 + c];
            uint64_t n = (uint64_t)(y1 - y0) * (x1 - x0);
            for (int c = 0; c < 3; c++) out[((size_t)y * ox + x) * 3 + c] = (unsigned char)((sum[c] + n / 2) / n);
        }
    }
    mtmd_bitmap *r = mtmd_bitmap_init(ox, oy, out);
    free(out);
    mtmd_bitmap_free(b);
    return r;
}

/* The decoded form of one part: a bitmap (image, audio) or a video. */
typedef struct {
    mtmd_bitmap *bitmap;
    mtmd_helper_video *video;
} decoded;

static void decoded_free(decoded *d) {
    if (d->bitmap) mtmd_bitmap_free(d->bitmap);
    if (d->video) mtmd_helper_video_free(d->video);
    d->bitmap = NULL;
    d->video = NULL;
}

static int undecodable(const ia_engine_media *m, const char *field, ia_err *err) {
    static const char *const what[IA_MOD__COUNT] = {
        "", "an image this server decodes (PNG, JPEG, GIF, BMP, WebP, ...)",
        "audio this server decodes (WAV, MP3, FLAC)", "a video ffmpeg decodes", ""};
    return ia_fail(err, IA_EINVALID, "%s: not %s; the bytes are corrupt, truncated or of another type", field,
                   what[m->modality < IA_MOD__COUNT ? m->modality : 0]);
}

static int decode(ia_mm *mm, const ia_engine_media *m, const char *field, decoded *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    if (m->form == IA_EMEDIA_RGB) {
        if (m->width <= 0 || m->height <= 0 || (size_t)m->width * (size_t)m->height * 3 != m->len)
            return ia_fail(err, IA_EINVALID, "%s: a page image of the wrong size", field);
        out->bitmap = mtmd_bitmap_init((uint32_t)m->width, (uint32_t)m->height, m->data);
        return out->bitmap ? 0 : ia_fail(err, IA_EINTERNAL, "%s: cannot hold the page image", field);
    }
    if (!m->len) return ia_fail(err, IA_EINVALID, "%s: empty", field);
    uint32_t iw = 0, ih = 0;
    if (m->modality == IA_MOD_IMAGE && ia_image_size(m->data, m->len, &iw, &ih) == 0 &&
        (uint64_t)iw * ih > IA_MM_MAX_PIXELS)
        return ia_fail(err, IA_EINVALID, "%s: the image is %u x %u pixels, more than the %d megapixels this server "
                       "decodes; scale it down", field, iw, ih, (int)(IA_MM_MAX_PIXELS / 1000000));
    mtmd_helper_init_opt opt = mtmd_helper_init_opt_default();
    struct mtmd_helper_bitmap_wrapper w = {0};
    if (m->modality == IA_MOD_VIDEO) {
        opt.video_params.fps_target = 1.0f; /* Gemini samples a video at one frame a second */
        w.video_ctx = mtmd_helper_video_init_from_buf(mm->ctx, m->data, m->len, opt.video_params);
    } else {
        w = mtmd_helper_bitmap_init_from_buf(mm->ctx, m->data, m->len, false, opt);
    }
    out->bitmap = w.bitmap;
    out->video = w.video_ctx;
    bool ok = m->modality == IA_MOD_VIDEO ? out->video != NULL
            : m->modality == IA_MOD_AUDIO ? out->bitmap && mtmd_bitmap_is_audio(out->bitmap)
                                          : out->bitmap && !mtmd_bitmap_is_audio(out->bitmap);
    if (ok) return 0;
    decoded_free(out);
    return undecodable(m, field, err);
}

/* Whether ffmpeg gives a picture of v: ffprobe took the bytes (a video, or
 * an image stb_image does not read), which does not mean they decode. */
static bool has_frame(mtmd_helper_video *v) {
    for (int i = 0; i < 4; i++) { /* a text (timestamp, prompt start) may come first */
        mtmd_bitmap *b = NULL;
        char *t = NULL;
        int32_t r = mtmd_helper_video_read_next(v, &b, &t);
        free(t);
        if (b) {
            mtmd_bitmap_free(b);
            return true;
        }
        if (r != 0) return false;
    }
    return false;
}

int ia_mm_check(ia_mm *mm, const ia_engine_media *m, const char *field, ia_err *err) {
    if (m->form == IA_EMEDIA_TEXT) return 0;
    if (!ia_mm_takes(mm, m->modality))
        return ia_fail(err, IA_EINVALID, "%s: this model does not take %s input", field, mod_name(m->modality));
    decoded d;
    if (decode(mm, m, field, &d, err) < 0) return -1;
    bool ok = !d.video || has_frame(d.video);
    decoded_free(&d);
    return ok ? 0 : undecodable(m, field, err);
}

/* ---- tokens ----------------------------------------------------------------- */

static void push(llama_token **toks, int *n, int *cap, const llama_token *t, int k) {
    if (k <= 0) return;
    if (*n + k > *cap) {
        *cap = (*n + k) * 2 + 64;
        *toks = ia_xrealloc(*toks, (size_t)*cap * sizeof **toks);
    }
    memcpy(*toks + *n, t, (size_t)k * sizeof *t);
    *n += k;
}

/* Placeholder i of a chunk whose content hash is h: negative, never -1
 * (LLAMA_TOKEN_NULL), different per position. */
static llama_token placeholder(const unsigned char h[32], int i) {
    uint32_t w;
    memcpy(&w, h + (i % 8) * 4, 4);
    w ^= (uint32_t)i * 0x9E3779B9u;
    return -(llama_token)(2 + (w & 0x3fffffff));
}

static void add_span(ia_mspan **spans, int *n_spans, int start, int n, ia_modality mod, mtmd_input_chunk *c) {
    *spans = ia_xrealloc(*spans, (size_t)(*n_spans + 1) * sizeof **spans);
    int n_pos = c ? (int)mtmd_input_chunk_get_n_pos(c) : n;
    (*spans)[(*n_spans)++] =
        (ia_mspan){.start = start, .n = n, .n_pos = n_pos, .mod = mod, .media = c != NULL, .chunk = c};
}

/* Appends the chunks: text as tokens, media as placeholders with a span.
 * A chunk the family attends to non-causally must fit one batch (split, its
 * attention would silently be wrong): refused when it does not. */
static int put_chunks(ia_mm *mm, const mtmd_input_chunks *ch, const unsigned char base[32], ia_modality mod,
                      llama_token **toks, int *n, int *cap, ia_mspan **spans, int *n_spans, ia_err *err) {
    size_t nc = mtmd_input_chunks_size(ch);
    for (size_t i = 0; i < nc; i++) {
        const mtmd_input_chunk *c = mtmd_input_chunks_get(ch, i);
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t k = 0;
            const llama_token *t = mtmd_input_chunk_get_tokens_text(c, &k);
            push(toks, n, cap, t, (int)k);
            continue;
        }
        int k = (int)mtmd_input_chunk_get_n_tokens(c);
        if (mm->batch > 0 && k > mm->batch && mtmd_decode_use_non_causal(mm->ctx, c))
            return ia_fail(err, IA_EINVALID, "input: a %s of %d tokens is more than this model's batch of %d (the "
                           "image is attended whole); send it at resolution low or medium", mod_name(mod), k,
                           mm->batch);
        unsigned char h[32 + 8];
        memcpy(h, base, 32);
        uint64_t idx = i;
        memcpy(h + 32, &idx, 8);
        unsigned char hh[32];
        SHA256(h, sizeof h, hh);
        int start = *n;
        for (int p = 0; p < k; p++) {
            llama_token t = placeholder(hh, p);
            push(toks, n, cap, &t, 1);
        }
        add_span(spans, n_spans, start, k, mod, mtmd_input_chunk_copy(c));
    }
    return 0;
}

/* Tokens one frame becomes (its chunk alone), 0 on failure. */
static int frame_tokens(ia_mm *mm, const mtmd_bitmap *b) {
    const char *mk = mtmd_default_marker();
    mtmd_input_text in = {.text = mk, .text_len = strlen(mk), .add_special = false, .parse_special = true};
    mtmd_input_chunks *ch = mtmd_input_chunks_init();
    int n = 0;
    if (mtmd_tokenize(mm->ctx, ch, &in, &b, 1) == 0)
        for (size_t i = 0; i < mtmd_input_chunks_size(ch); i++) {
            const mtmd_input_chunk *c = mtmd_input_chunks_get(ch, i);
            if (mtmd_input_chunk_get_type(c) != MTMD_INPUT_CHUNK_TYPE_TEXT) n += (int)mtmd_input_chunk_get_n_tokens(c);
        }
    mtmd_input_chunks_free(ch);
    return n;
}

/* The text libmtmd tokenizes for a video: its frames' markers with the
 * helper's timestamps between them; the frames in *bm. Frames come at one
 * a second (Gemini's sampling), scaled to at most VIDEO_SIDE, and no more
 * of them than fill three quarters of `budget` tokens: a longer video is
 * sampled evenly over its length (from the frame count ffprobe gives), so
 * memory and time stay bounded whatever the file says. */
#define VIDEO_SIDE 896
static int video_parts(ia_mm *mm, mtmd_helper_video *v, int budget, int max_side, ia_buf *text, mtmd_bitmap ***bm,
                       size_t *nb, const char *field, ia_err *err) {
    struct mtmd_helper_video_info info = mtmd_helper_video_get_info(v);
    int max_frames = 0, seen = 0;
    for (;;) {
        mtmd_bitmap *b = NULL;
        char *t = NULL;
        int32_t r = mtmd_helper_video_read_next(v, &b, &t);
        if (r == -1) break;
        if (r != 0) return ia_fail(err, IA_EINVALID, "%s: the video cannot be decoded (ffmpeg failed)", field);
        if (t) {
            ia_buf_puts(text, t);
            free(t);
        }
        if (!b) continue;
        b = fit(b, max_side > 0 && max_side < VIDEO_SIDE ? max_side : VIDEO_SIDE);
        if (!max_frames) {
            int per = frame_tokens(mm, b);
            max_frames = per > 0 && budget > 0 ? budget * 3 / 4 / per : 1;
            if (max_frames < 1) max_frames = 1;
        }
        int i = seen++;
        bool keep = info.n_frames > max_frames
                        ? i == 0 || (int64_t)i * max_frames / info.n_frames != (int64_t)(i - 1) * max_frames / info.n_frames
                        : *nb < (size_t)max_frames;
        if (!keep) {
            mtmd_bitmap_free(b);
            if (info.n_frames <= max_frames) break; /* length unknown: the first max_frames */
            continue;
        }
        ia_buf_puts(text, mtmd_default_marker());
        *bm = ia_xrealloc(*bm, (*nb + 1) * sizeof **bm);
        (*bm)[(*nb)++] = b;
    }
    if (!*nb) return ia_fail(err, IA_EINVALID, "%s: the video has no frames", field);
    if (seen > (int)*nb) ia_debug("media: video of %d frames at 1 fps sampled to %zu", seen, *nb);
    return 0;
}

int ia_mm_tokenize(ia_mm *mm, const struct llama_vocab *v, const ia_engine_media *m, int budget, llama_token **toks,
                   int *n, int *cap, ia_mspan **spans, int *n_spans, ia_err *err) {
    const char *field = "input";
    if (m->form == IA_EMEDIA_TEXT) { /* a document's text: no special tokens */
        int k = -llama_tokenize(v, (const char *)m->data, (int32_t)m->len, NULL, 0, false, false);
        if (k < 0) k = 0;
        llama_token *t = ia_xmalloc(((size_t)k + 1) * sizeof *t);
        k = k ? llama_tokenize(v, (const char *)m->data, (int32_t)m->len, t, k, false, false) : 0;
        if (k > 0) {
            add_span(spans, n_spans, *n, k, m->modality, NULL);
            push(toks, n, cap, t, k);
        }
        free(t);
        return 0;
    }
    if (!ia_mm_takes(mm, m->form == IA_EMEDIA_RGB ? IA_MOD_IMAGE : m->modality))
        return ia_fail(err, IA_EINVALID, "input: this model does not take %s input", mod_name(m->modality));
    decoded d;
    if (decode(mm, m, field, &d, err) < 0) return -1;
    ia_buf text;
    ia_buf_init(&text, 0);
    mtmd_bitmap **bm = NULL;
    size_t nb = 0;
    int rc = -1;
    if (d.video) {
        if (video_parts(mm, d.video, budget, m->max_side, &text, &bm, &nb, field, err) < 0) goto out;
    } else {
        ia_buf_puts(&text, mtmd_default_marker());
        bm = ia_xmalloc(sizeof *bm);
        bm[nb++] = fit(d.bitmap, m->max_side);
        d.bitmap = NULL;
    }
    /* the content's identity: projector, form, size and bytes */
    unsigned char base[32];
    EVP_MD_CTX *sc = EVP_MD_CTX_new();
    int hdr[4] = {(int)m->form, m->width, m->height, m->max_side};
    EVP_DigestInit_ex(sc, EVP_sha256(), NULL);
    EVP_DigestUpdate(sc, mm->fp, sizeof mm->fp);
    EVP_DigestUpdate(sc, hdr, sizeof hdr);
    EVP_DigestUpdate(sc, m->data, m->len);
    EVP_DigestFinal_ex(sc, base, NULL);
    EVP_MD_CTX_free(sc);
    mtmd_input_text in = {.text = text.data, .text_len = text.len, .add_special = false, .parse_special = true};
    mtmd_input_chunks *ch = mtmd_input_chunks_init();
    int32_t tr = mtmd_tokenize(mm->ctx, ch, &in, (const mtmd_bitmap **)bm, nb);
    if (tr != 0) {
        ia_fail(err, IA_EINVALID, "input: the %s cannot be prepared for this model (libmtmd error %d)",
                mod_name(m->modality), (int)tr);
    } else {
        rc = put_chunks(mm, ch, base, m->modality, toks, n, cap, spans, n_spans, err);
    }
    mtmd_input_chunks_free(ch);
out:
    for (size_t i = 0; i < nb; i++) mtmd_bitmap_free(bm[i]);
    free(bm);
    ia_buf_free(&text);
    decoded_free(&d);
    return rc;
}

int ia_mm_eval(ia_mm *mm, struct llama_context *ctx, const ia_mspan *sp, int pos, llama_seq_id seq, ia_err *err) {
    llama_pos new_pos = 0;
    if (!sp->chunk) return ia_fail(err, IA_EINTERNAL, "a %s was not kept for decoding", mod_name(sp->mod));
    int64_t t0 = ia_mono_ms();
    pthread_mutex_lock(&mm->mu); /* the encoder's output lives in mm->ctx until the next encode */
    int64_t t1 = ia_mono_ms();
    int32_t r = mtmd_encode_chunk(mm->ctx, sp->chunk);
    int64_t t2 = ia_mono_ms();
    if (r == 0)
        r = mtmd_helper_decode_image_chunk(mm->ctx, ctx, sp->chunk, mtmd_get_output_embd(mm->ctx), pos, seq,
                                           (int32_t)llama_n_batch(ctx), &new_pos, NULL, NULL);
    pthread_mutex_unlock(&mm->mu);
    ia_debug("media: %s of %d tokens encoded in %lld ms, its embeddings decoded in %lld ms (waited %lld ms for the "
             "encoder)", mod_name(sp->mod), sp->n, (long long)(t2 - t1), (long long)(ia_mono_ms() - t2),
             (long long)(t1 - t0));
    if (r != 0) return ia_fail(err, IA_EINTERNAL, "the %s could not be encoded (libmtmd error %d)", mod_name(sp->mod), r);
    if (new_pos != pos + sp->n_pos)
        return ia_fail(err, IA_EINTERNAL, "the %s took %d positions, not the %d its chunk said", mod_name(sp->mod),
                       (int)(new_pos - pos), sp->n_pos);
    return 0;
}

void ia_mspans_free(ia_mspan *spans, int n) {
    for (int i = 0; i < n; i++)
        if (spans[i].chunk) mtmd_input_chunk_free(spans[i].chunk);
    free(spans);
}

void ia_mspans_drop_before(ia_mspan *spans, int n_spans, int n) {
    for (int i = 0; i < n_spans; i++)
        if (spans[i].chunk && spans[i].start + spans[i].n <= n) {
            mtmd_input_chunk_free(spans[i].chunk);
            spans[i].chunk = NULL;
        }
}

int ia_mspans_snap(const ia_mspan *spans, int n, int reuse) {
    for (int i = 0; i < n; i++)
        if (spans[i].media && spans[i].start < reuse && reuse < spans[i].start + spans[i].n) return spans[i].start;
    return reuse;
}

int ia_mspans_pos(const ia_mspan *spans, int n, int idx) {
    int pos = idx;
    for (int i = 0; i < n; i++)
        if (spans[i].start + spans[i].n <= idx) pos -= spans[i].n - spans[i].n_pos;
    return pos;
}
