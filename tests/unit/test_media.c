/* test_media: media parts through the engine (engine/media.c, splice.c,
 * sched.c) on real parts: the random-weight Gemma 3 text model the build
 * writes (build/gemma3.gguf) with the real tinygemma3 vision projector
 * (../shared/models/mmproj-tinygemma3.gguf: 32×32 images, 256 tokens each;
 * those tests are skipped, saying so, where ../shared/models is absent)
 * and with the build's random-weight Ultravox audio projector
 * (build/mmproj-audio.gguf); and the demo model, text only.
 *
 * Images are made here: binary PPM and 24-bit BMP (stb_image inside
 * libmtmd reads both), and packed RGB (a PDF page's form); audio is a WAV
 * written by hand (16 kHz mono PCM16, a 1 s sine). Jobs are greedy and
 * short, so outputs are deterministic and comparable token for token. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bsink.h"
#include "mkmedia.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "unit.h"

#define GEMMA3 IA_SOURCE_DIR "/build/gemma3.gguf"
#define VISION IA_SOURCE_DIR "/../shared/models/mmproj-tinygemma3.gguf"
#define AUDIO IA_SOURCE_DIR "/build/mmproj-audio.gguf"
#define IMAGE_TOKENS 256 /* tinygemma3: one 32×32 image, whatever its size */

static ia_engine_media file_part(ia_modality m, const unsigned char *d, size_t len) {
    return (ia_engine_media){.modality = m, .form = IA_EMEDIA_FILE, .data = d, .len = len};
}

/* ---- the engine and its jobs ----------------------------------------------- */

static bool have(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The vision projector is third-party data outside the repository. */
static bool vision_or_skip(void) {
    if (have(VISION)) return true;
    fprintf(stderr, "SKIPPED (../shared/models/mmproj-tinygemma3.gguf absent: no image test) ");
    return false;
}

static void report_clear(void);

/* The model with a projector (or none) on one-thread contexts; starts the
 * test's report afresh. */
static ia_engine *load_mm(const char *model, const char *mmproj, int parallel, int contexts) {
    report_clear();
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "mm", .path = model, .mmproj = mmproj, .threads = 1, .contexts = contexts,
                        .parallel = parallel, .n_ctx = 1024, .max_queue = 16, .cache_ram_bytes = -1};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load %s + %s: %s\n", model, mmproj ? mmproj : "-", err.msg);
    return e;
}

/* A job's sink with its output tokens kept (res.out_tokens lives only
 * during on_done). */
typedef struct {
    bsink b; /* first: bs_start / bs_item take the sink as a bsink */
    int32_t toks[64];
    int n_toks;
} msink;

static void ms_done(void *ud, const ia_engine_result *res) {
    msink *m = ud;
    m->n_toks = 0;
    for (int64_t i = 0; res->out_tokens && i < res->n_out_tokens && m->n_toks < 64; i++)
        m->toks[m->n_toks++] = res->out_tokens[i];
    bs_done(&m->b, res);
}

static ia_engine_params greedy(void) {
    return (ia_engine_params){.has_temperature = true, .temperature = 0.0, .max_tokens = 8};
}

/* One user message: before, a marker per part, after. gated: the job holds
 * its engine thread at its start until bs_open. */
static int submit(ia_engine *e, const char *before, const char *after, const ia_engine_media *parts, size_t n,
                  msink *s, bool gated) {
    const char *mark = ia_engine_media_marker();
    ia_buf t;
    ia_buf_init(&t, 0);
    ia_buf_puts(&t, before);
    for (size_t i = 0; i < n; i++) ia_buf_puts(&t, mark);
    ia_buf_puts(&t, after);
    ia_engine_msg m = {.role = IA_MSG_USER, .text = t.data, .media = parts, .n_media = n};
    ia_engine_params p = greedy();
    memset(s, 0, sizeof *s);
    bs_init(&s->b);
    s->b.gated = gated;
    ia_engine_cb cb = {s, bs_start, bs_item, ms_done};
    ia_err err = {0};
    int rc = ia_engine_submit(e, &m, 1, &p, &cb, NULL, &err);
    if (rc != 0) fprintf(stderr, "  submit: %s\n", err.msg);
    ia_buf_free(&t);
    return rc;
}

/* Runs one job to its end; 0, or -1 when refused at submit. */
static int run(ia_engine *e, const char *before, const char *after, const ia_engine_media *part, msink *s) {
    if (submit(e, before, after, part, part ? 1 : 0, s, false) != 0) return -1;
    bs_wait(&s->b);
    return 0;
}

static bool same_tokens(const msink *a, const msink *b) {
    return a->n_toks > 0 && a->n_toks == b->n_toks && memcmp(a->toks, b->toks, (size_t)a->n_toks * 4) == 0;
}

/* What the test's jobs gave, printed only when a check fails (told). */
static ia_buf report;

static void show(const char *what, const msink *s) {
    const ia_engine_result *r = &s->b.res;
    if (!report.data) ia_buf_init(&report, 0);
    ia_buf_printf(&report, "  %s: finish %d, prompt %lld (image %lld, audio %lld, document %lld), cached %lld (image %lld, audio %lld), %d tokens:",
                  what, (int)r->finish, (long long)r->n_prompt, (long long)r->n_prompt_by[IA_MOD_IMAGE],
                  (long long)r->n_prompt_by[IA_MOD_AUDIO], (long long)r->n_prompt_by[IA_MOD_DOCUMENT],
                  (long long)r->n_cached, (long long)r->n_cached_by[IA_MOD_IMAGE],
                  (long long)r->n_cached_by[IA_MOD_AUDIO], s->n_toks);
    for (int i = 0; i < s->n_toks; i++) ia_buf_printf(&report, " %d", s->toks[i]);
    ia_buf_printf(&report, "%s%s\n", r->finish == IA_FINISH_ERROR ? " — " : "",
                  r->finish == IA_FINISH_ERROR ? r->err.msg : "");
}

static void report_clear(void) {
    ia_buf_free(&report);
    memset(&report, 0, sizeof report);
}

static bool told(bool ok) {
    if (!ok && report.data) fputs(report.data, stderr);
    if (!ok) report_clear();
    return ok;
}

/* The by-modality counts add up to the totals. */
static bool counts_add_up(const ia_engine_result *r) {
    int64_t p = 0, c = 0;
    for (int m = 0; m < IA_MOD__COUNT; m++) {
        p += r->n_prompt_by[m];
        c += r->n_cached_by[m];
        if (r->n_cached_by[m] > r->n_prompt_by[m] || r->n_cached_by[m] < 0) return false;
    }
    return p == r->n_prompt && c == r->n_cached;
}

/* ---- images ------------------------------------------------------------------ */

IA_TEST(media_image_tokens_cache_and_output) {
    if (!vision_or_skip()) return;
    ia_engine *e = load_mm(GEMMA3, VISION, 1, 1);
    IA_CHECK(e != NULL);
    size_t la, lb;
    unsigned char *a = ppm(32, 32, 11, &la), *b = bmp(32, 32, &lb);
    ia_engine_media pa = file_part(IA_MOD_IMAGE, a, la), pb = file_part(IA_MOD_IMAGE, b, lb);
    msink s1, s2, s3;
    run(e, "Look at this: ", " What is it?", &pa, &s1);
    run(e, "Look at this: ", " What is it?", &pa, &s2);
    run(e, "Look at this: ", " What is it?", &pb, &s3);
    ia_engine_free(e);
    free(a);
    free(b);
    show("image a", &s1);
    show("image a again", &s2);
    show("image b", &s3);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        msink *s = i == 0 ? &s1 : i == 1 ? &s2 : &s3;
        ok &= s->b.res.finish == IA_FINISH_LENGTH && s->b.res.n_output == 8;
        ok &= s->b.res.n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS && counts_add_up(&s->b.res);
        /* the wrapper tokens and the text around them count as text */
        ok &= s->b.res.n_prompt_by[IA_MOD_TEXT] > 4 && s->b.res.n_prompt == s1.b.res.n_prompt;
    }
    /* the same image: the same tokens, the whole prompt but its last token
     * reused from the kept sequence, the image span with it */
    bool same = same_tokens(&s1, &s2);
    bool cached = s1.b.res.n_cached_by[IA_MOD_IMAGE] == 0 && s2.b.res.n_cached_by[IA_MOD_IMAGE] == IMAGE_TOKENS &&
                  s2.b.res.n_cached == s2.b.res.n_prompt - 1;
    /* another image: another answer, and the span is not reused (its
     * placeholders hash other bytes); the text before it is */
    bool differ = s3.n_toks > 0 && !same_tokens(&s1, &s3);
    bool not_cached = s3.b.res.n_cached_by[IA_MOD_IMAGE] == 0 && s3.b.res.n_cached_by[IA_MOD_TEXT] > 0 &&
                      s3.b.res.n_cached < s3.b.res.n_prompt - IMAGE_TOKENS;
    for (int i = 0; i < 3; i++) bs_free(i == 0 ? &s1.b : i == 1 ? &s2.b : &s3.b);
    IA_CHECK(told(ok));
    IA_CHECK(told(same));
    IA_CHECK(told(cached));
    IA_CHECK(told(differ));
    IA_CHECK(told(not_cached));
}

/* text + image + text, then the same with another last text: the reused
 * prefix runs through the image and into the text after it. */
IA_TEST(media_image_prefix_reuse_through_the_span) {
    if (!vision_or_skip()) return;
    ia_engine *e = load_mm(GEMMA3, VISION, 1, 1);
    IA_CHECK(e != NULL);
    size_t la;
    unsigned char *a = ppm(32, 32, 5, &la);
    ia_engine_media pa = file_part(IA_MOD_IMAGE, a, la);
    msink s1, s2, s3, s4;
    run(e, "Here is a picture of my garden. ", " Which flowers grow in it, and when do they bloom?", &pa, &s1);
    run(e, "Here is a picture of my garden. ", " Which trees grow in it, and when do they bloom?", &pa, &s2);
    /* the text after the image differs at once: the reuse ends after the
     * image's wrapper, before the first word */
    run(e, "Here is a picture of my garden. ", " Where are the trees in it?", &pa, &s3);
    /* the same image at another place (other text before it): its
     * placeholders are the same tokens, but the prefix ends before them */
    run(e, "This is a picture of my garden. ", " Which trees grow in it, and when do they bloom?", &pa, &s4);
    ia_engine_free(e);
    free(a);
    show("flowers", &s1);
    show("trees", &s2);
    show("where", &s3);
    show("other text before", &s4);
    const ia_engine_result *r1 = &s1.b.res, *r2 = &s2.b.res, *r3 = &s3.b.res, *r4 = &s4.b.res;
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        const ia_engine_result *r = i == 0 ? r1 : i == 1 ? r2 : i == 2 ? r3 : r4;
        ok &= r->finish == IA_FINISH_LENGTH && r->n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS && counts_add_up(r);
    }
    /* the second reuses the text before, the image and the text after it
     * up to where " flowers" and " trees" part: more than the third,
     * which parts right after the image */
    bool reused = r1->n_cached == 0 && r2->n_cached_by[IA_MOD_IMAGE] == IMAGE_TOKENS &&
                  r2->n_cached < r2->n_prompt - 1 && r3->n_cached_by[IA_MOD_IMAGE] == IMAGE_TOKENS &&
                  r3->n_cached > IMAGE_TOKENS && r2->n_cached > r3->n_cached &&
                  r2->n_cached_by[IA_MOD_TEXT] > r3->n_cached_by[IA_MOD_TEXT];
    bool not_through = r4->n_cached_by[IA_MOD_IMAGE] == 0 && r4->n_cached < r3->n_cached - IMAGE_TOKENS;
    bs_free(&s1.b);
    bs_free(&s2.b);
    bs_free(&s3.b);
    bs_free(&s4.b);
    IA_CHECK(told(ok));
    IA_CHECK(told(reused));
    IA_CHECK(told(not_through));
}

IA_TEST(media_image_check_and_undecodable_job) {
    if (!vision_or_skip()) return;
    ia_engine *e = load_mm(GEMMA3, VISION, 1, 1);
    IA_CHECK(e != NULL);
    /* video too where libmtmd was built with ffmpeg: not asked here */
    bool takes = ia_engine_takes(e, IA_MOD_IMAGE) && !ia_engine_takes(e, IA_MOD_AUDIO) &&
                 ia_engine_takes(e, IA_MOD_DOCUMENT) &&
                 strncmp(ia_engine_modalities(e), "text, image", 11) == 0;
    size_t la;
    unsigned char *a = ppm(32, 32, 3, &la);
    ia_engine_media good = file_part(IA_MOD_IMAGE, a, la);
    ia_err err = {0};
    bool good_ok = ia_engine_media_check(e, &good, "input[0].data", &err) == 0;
    /* a corrupt stream: the PPM's magic broken, a PNG signature over a
     * PPM's body, a BMP header with 13 bits per pixel (which ffprobe takes
     * for a one-frame video whose frame ffmpeg then cannot decode), random
     * bytes, nothing. (A truncated BMP or PPM is not among them: stb_image
     * reads past the end as zeros and gives a picture.) */
    const char *field = "input[1].content[0].data";
    size_t lb;
    unsigned char *b13 = bmp(32, 32, &lb); /* 13 bits per pixel: no such BMP */
    le16(b13 + 28, 13);
    unsigned char *bad = ia_xmalloc(la > lb ? la : lb);
    int n_bad = 0, n_refused = 0;
    for (int k = 0; k < 5; k++) {
        memcpy(bad, a, la);
        size_t len = la;
        if (k == 0) bad[1] = '9';
        if (k == 1) memcpy(bad, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
        if (k == 2) {
            memcpy(bad, b13, lb);
            len = lb;
        }
        if (k == 3)
            for (size_t i = 0; i < len; i++) bad[i] = (unsigned char)(i * 131 + 7);
        if (k == 4) len = 0;
        ia_engine_media m = file_part(IA_MOD_IMAGE, bad, len);
        ia_err_clear(&err);
        n_bad++;
        if (ia_engine_media_check(e, &m, field, &err) == -1 && err.code == IA_EINVALID &&
            strncmp(err.msg, field, strlen(field)) == 0 && err.msg[strlen(field)] == ':')
            n_refused++;
        else
            fprintf(stderr, "  corrupt %d: code %d, %s\n", k, (int)err.code, err.msg);
    }
    /* an image sent as audio is refused too (this model takes no audio) */
    ia_engine_media as_audio = file_part(IA_MOD_AUDIO, a, la);
    ia_err_clear(&err);
    bool audio_refused = ia_engine_media_check(e, &as_audio, "input[2].data", &err) == -1 &&
                         err.code == IA_EINVALID && strncmp(err.msg, "input[2].data: ", 15) == 0;
    /* jobs whose image cannot be decoded at tokenize time (never checked):
     * an error, not a crash, and the engine serves the next job. One that
     * neither stb_image nor ffprobe reads, one that ffprobe takes and
     * ffmpeg does not decode. */
    memcpy(bad, a, la);
    bad[0] = 'X';
    ia_engine_media corrupt = file_part(IA_MOD_IMAGE, bad, la);
    ia_engine_media probed = file_part(IA_MOD_IMAGE, b13, lb);
    msink s1, s2, s3;
    run(e, "What is this? ", " Tell me.", &corrupt, &s1);
    run(e, "And this? ", " Tell me.", &probed, &s2);
    run(e, "Fine: ", " Tell me.", &good, &s3);
    ia_engine_free(e);
    show("corrupt", &s1);
    show("probed, not decoded", &s2);
    show("fine after them", &s3);
    bool job_failed = s1.b.res.finish == IA_FINISH_ERROR && s1.b.res.err.code == IA_EINVALID &&
                      strstr(s1.b.res.err.msg, "not an image") != NULL && s1.n_toks == 0 &&
                      s2.b.res.finish == IA_FINISH_ERROR && s2.b.res.err.code == IA_EINVALID && s2.n_toks == 0;
    bool served = s3.b.res.finish == IA_FINISH_LENGTH && s3.b.res.n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS;
    free(a);
    free(bad);
    free(b13);
    bs_free(&s1.b);
    bs_free(&s2.b);
    bs_free(&s3.b);
    IA_CHECK(told(takes));
    IA_CHECK(told(good_ok));
    IA_CHECK(told(n_refused == n_bad));
    IA_CHECK(told(audio_refused));
    IA_CHECK(told(job_failed));
    IA_CHECK(told(served));
}

/* The markers and the parts must agree: a mismatch ends the job
 * IA_FINISH_ERROR. */
IA_TEST(media_markers_and_parts_disagree) {
    if (!vision_or_skip()) return;
    ia_engine *e = load_mm(GEMMA3, VISION, 1, 1);
    IA_CHECK(e != NULL);
    size_t la;
    unsigned char *a = ppm(32, 32, 9, &la);
    ia_engine_media part = file_part(IA_MOD_IMAGE, a, la);
    const char *mark = ia_engine_media_marker();
    msink s[3];
    /* two marks, one part */
    char *two = ia_asprintf("A %s and %s.", mark, mark);
    ia_engine_msg m1 = {.role = IA_MSG_USER, .text = two, .media = &part, .n_media = 1};
    /* one part, no mark */
    ia_engine_msg m2 = {.role = IA_MSG_USER, .text = "no mark", .media = &part, .n_media = 1};
    ia_engine_params p = greedy();
    const ia_engine_msg *jobs[2] = {&m1, &m2};
    for (int i = 0; i < 2; i++) {
        memset(&s[i], 0, sizeof s[i]);
        bs_init(&s[i].b);
        ia_engine_cb cb = {&s[i], bs_start, bs_item, ms_done};
        IA_CHECK(told(ia_engine_submit(e, jobs[i], 1, &p, &cb, NULL, NULL) == 0));
        bs_wait(&s[i].b);
    }
    free(two);
    /* a message of the image alone: the turn's wrapper follows it */
    run(e, "", "", &part, &s[2]);
    ia_engine_free(e);
    free(a);
    for (int i = 0; i < 3; i++) show(i == 0 ? "two marks" : i == 1 ? "no mark" : "image only", &s[i]);
    bool ok = s[0].b.res.finish == IA_FINISH_ERROR && strstr(s[0].b.res.err.msg, "more media") != NULL &&
              s[1].b.res.finish == IA_FINISH_ERROR && strstr(s[1].b.res.err.msg, "left out") != NULL &&
              s[2].b.res.finish == IA_FINISH_LENGTH && s[2].b.res.n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS;
    for (int i = 0; i < 3; i++) bs_free(&s[i].b);
    IA_CHECK(told(ok));
}

/* A rendered page (packed RGB) counts as an image; a page of the wrong
 * size is refused naming the field; a document's text counts as document
 * tokens. */
IA_TEST(media_rgb_page_and_document_text) {
    if (!vision_or_skip()) return;
    ia_engine *e = load_mm(GEMMA3, VISION, 1, 1);
    IA_CHECK(e != NULL);
    int w = 48, h = 20;
    unsigned char *rgb = ia_xmalloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) rgb[i] = (unsigned char)(i % 251);
    ia_engine_media page = {.modality = IA_MOD_IMAGE, .form = IA_EMEDIA_RGB, .data = rgb,
                            .len = (size_t)w * h * 3, .width = w, .height = h};
    ia_err err = {0};
    bool page_ok = ia_engine_media_check(e, &page, "input[0].data", &err) == 0;
    ia_engine_media wrong = page;
    wrong.len--;
    bool wrong_refused = ia_engine_media_check(e, &wrong, "input[0].data", &err) == -1 &&
                         err.code == IA_EINVALID && strncmp(err.msg, "input[0].data: ", 15) == 0;
    static const char doc[] = "Invoice 42. Total due: 17 euros, by the end of March.";
    ia_engine_media text = {.modality = IA_MOD_DOCUMENT, .form = IA_EMEDIA_TEXT,
                            .data = (const unsigned char *)doc, .len = sizeof doc - 1};
    bool text_ok = ia_engine_media_check(e, &text, "input[1].data", &err) == 0;
    msink s1, s2, s3;
    run(e, "Page one: ", " Summarize.", &page, &s1);
    run(e, "The document: ", " Summarize.", &text, &s2);
    ia_engine_media both[2] = {page, text};
    submit(e, "Both: ", " Summarize.", both, 2, &s3, false);
    bs_wait(&s3.b);
    ia_engine_free(e);
    free(rgb);
    show("page", &s1);
    show("document", &s2);
    show("both", &s3);
    const ia_engine_result *r1 = &s1.b.res, *r2 = &s2.b.res, *r3 = &s3.b.res;
    bool page_counts = r1->finish == IA_FINISH_LENGTH && r1->n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS &&
                       r1->n_prompt_by[IA_MOD_DOCUMENT] == 0 && counts_add_up(r1);
    bool doc_counts = r2->finish == IA_FINISH_LENGTH && r2->n_prompt_by[IA_MOD_DOCUMENT] >= 10 &&
                      r2->n_prompt_by[IA_MOD_DOCUMENT] <= (int64_t)sizeof doc && r2->n_prompt_by[IA_MOD_IMAGE] == 0 &&
                      counts_add_up(r2);
    bool both_counts = r3->finish == IA_FINISH_LENGTH && r3->n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS &&
                       r3->n_prompt_by[IA_MOD_DOCUMENT] == r2->n_prompt_by[IA_MOD_DOCUMENT] && counts_add_up(r3);
    bs_free(&s1.b);
    bs_free(&s2.b);
    bs_free(&s3.b);
    IA_CHECK(told(page_ok));
    IA_CHECK(told(wrong_refused));
    IA_CHECK(told(text_ok));
    IA_CHECK(told(page_counts));
    IA_CHECK(told(doc_counts));
    IA_CHECK(told(both_counts));
}

/* Two contexts, two image jobs at once: each context's worker encodes its
 * own image (the encoder is shared: one at a time under the mm lock) and
 * both get their 256 image tokens and the answer they get alone. */
IA_TEST(media_two_contexts_two_images_at_once) {
    if (!vision_or_skip()) return;
    ia_engine *e = load_mm(GEMMA3, VISION, 2, 2);
    IA_CHECK(e != NULL);
    if (ia_engine_contexts(e) != 2) {
        ia_engine_free(e);
        IA_CHECK(told(!"two contexts"));
    }
    size_t la, lb;
    unsigned char *a = ppm(32, 32, 21, &la), *b = bmp(32, 32, &lb);
    ia_engine_media pa = file_part(IA_MOD_IMAGE, a, la), pb = file_part(IA_MOD_IMAGE, b, lb);
    msink s[4];
    /* both at once: each holds its worker at its start (admitted, the
     * image not yet encoded) until both are there, so the two workers
     * prefill their images side by side */
    submit(e, "First: ", " Describe it.", &pa, 1, &s[0], true);
    submit(e, "Second: ", " Describe it.", &pb, 1, &s[1], true);
    bs_wait_started(&s[0].b);
    bs_wait_started(&s[1].b);
    bs_open(&s[0].b);
    bs_open(&s[1].b);
    for (int i = 0; i < 2; i++) bs_wait(&s[i].b);
    ia_engine_stats st;
    ia_engine_get_stats(e, &st);
    ia_engine_free(e);
    /* each alone, on a fresh one-context engine: the same tokens */
    e = load_mm(GEMMA3, VISION, 1, 1);
    IA_CHECK(e != NULL);
    run(e, "First: ", " Describe it.", &pa, &s[2]);
    run(e, "Second: ", " Describe it.", &pb, &s[3]);
    ia_engine_free(e);
    free(a);
    free(b);
    for (int i = 0; i < 4; i++) show(i < 2 ? "together" : "alone", &s[i]);
    bool ok = true;
    for (int i = 0; i < 4; i++)
        ok &= s[i].b.res.finish == IA_FINISH_LENGTH && s[i].b.res.n_prompt_by[IA_MOD_IMAGE] == IMAGE_TOKENS &&
              s[i].b.res.n_cached_by[IA_MOD_IMAGE] == 0;
    bool same = same_tokens(&s[0], &s[2]) && same_tokens(&s[1], &s[3]);
    for (int i = 0; i < 4; i++) bs_free(&s[i].b);
    IA_CHECK(told(ok));
    IA_CHECK(told(same));
    IA_CHECK(told(st.jobs_done == 2));
    IA_CHECK(told(st.max_contexts_busy == 2));
}

/* ---- audio ----------------------------------------------------------------- */

IA_TEST(media_audio_wav) {
    ia_engine *e = load_mm(GEMMA3, AUDIO, 1, 1);
    IA_CHECK(e != NULL);
    bool takes = ia_engine_takes(e, IA_MOD_AUDIO) && !ia_engine_takes(e, IA_MOD_IMAGE) &&
                 strcmp(ia_engine_modalities(e), "text, audio") == 0;
    size_t lw, li;
    unsigned char *w = wav(1.0, &lw), *img = bmp(32, 32, &li);
    ia_engine_media pw = file_part(IA_MOD_AUDIO, w, lw);
    ia_err err = {0};
    bool check_ok = ia_engine_media_check(e, &pw, "input[0].data", &err) == 0;
    if (!check_ok) fprintf(stderr, "  check: %s\n", err.msg);
    /* an image is not audio, a truncated header is not audio either */
    ia_engine_media as_audio = file_part(IA_MOD_AUDIO, img, li), cut = file_part(IA_MOD_AUDIO, w, 30);
    ia_engine_media image = file_part(IA_MOD_IMAGE, img, li);
    bool refused = ia_engine_media_check(e, &as_audio, "input[1].data", &err) == -1 &&
                   strncmp(err.msg, "input[1].data: ", 15) == 0 &&
                   ia_engine_media_check(e, &cut, "input[2].data", &err) == -1 &&
                   strncmp(err.msg, "input[2].data: ", 15) == 0 &&
                   ia_engine_media_check(e, &image, "input[3].data", &err) == -1 &&
                   strncmp(err.msg, "input[3].data: ", 15) == 0 && strstr(err.msg, "image") != NULL;
    msink s1, s2;
    run(e, "Listen: ", " What do you hear?", &pw, &s1);
    run(e, "Listen: ", " What do you hear?", &pw, &s2);
    ia_engine_free(e);
    free(w);
    free(img);
    show("audio", &s1);
    show("audio again", &s2);
    const ia_engine_result *r1 = &s1.b.res, *r2 = &s2.b.res;
    bool counts = r1->finish == IA_FINISH_LENGTH && r1->n_prompt_by[IA_MOD_AUDIO] > 0 &&
                  r1->n_prompt_by[IA_MOD_IMAGE] == 0 && counts_add_up(r1);
    bool again = r2->finish == IA_FINISH_LENGTH && same_tokens(&s1, &s2) &&
                 r2->n_cached_by[IA_MOD_AUDIO] == r1->n_prompt_by[IA_MOD_AUDIO] && counts_add_up(r2);
    bs_free(&s1.b);
    bs_free(&s2.b);
    IA_CHECK(told(takes));
    IA_CHECK(told(check_ok));
    IA_CHECK(told(refused));
    IA_CHECK(told(counts));
    IA_CHECK(told(again));
}

/* ---- a text-only model ------------------------------------------------------- */

IA_TEST(media_text_only_model) {
    ia_engine *e = load_mm(ia_test_demo_model(), NULL, 1, 1);
    IA_CHECK(e != NULL);
    bool takes = !ia_engine_takes(e, IA_MOD_IMAGE) && !ia_engine_takes(e, IA_MOD_AUDIO) &&
                 !ia_engine_takes(e, IA_MOD_VIDEO) && ia_engine_takes(e, IA_MOD_DOCUMENT) &&
                 ia_engine_takes(e, IA_MOD_TEXT) && strcmp(ia_engine_modalities(e), "text") == 0;
    size_t la;
    unsigned char *a = ppm(32, 32, 1, &la);
    ia_engine_media img = file_part(IA_MOD_IMAGE, a, la);
    ia_err err = {0};
    bool refused = ia_engine_media_check(e, &img, "input[0].data", &err) == -1 && err.code == IA_EINVALID &&
                   strncmp(err.msg, "input[0].data: ", 15) == 0 && strstr(err.msg, "--mmproj") != NULL &&
                   strstr(err.msg, "image") != NULL;
    if (!refused) fprintf(stderr, "  check: %s\n", err.msg);
    /* a document's text needs no projector */
    static const char doc[] = "Meeting notes: ship on Friday.";
    ia_engine_media text = {.modality = IA_MOD_DOCUMENT, .form = IA_EMEDIA_TEXT,
                            .data = (const unsigned char *)doc, .len = sizeof doc - 1};
    bool text_ok = ia_engine_media_check(e, &text, "input[1].data", &err) == 0;
    msink s1, s2;
    run(e, "Notes: ", " Summarize.", &text, &s1);
    /* an image job that slipped past the check: an error, not a crash */
    run(e, "Look: ", " Describe.", &img, &s2);
    ia_engine_free(e);
    free(a);
    show("document", &s1);
    show("image on a text model", &s2);
    bool doc_counts = s1.b.res.finish != IA_FINISH_ERROR && s1.b.res.n_prompt_by[IA_MOD_DOCUMENT] > 0 &&
                      counts_add_up(&s1.b.res);
    bool image_failed = s2.b.res.finish == IA_FINISH_ERROR && s2.b.res.err.code == IA_EINVALID;
    bs_free(&s1.b);
    bs_free(&s2.b);
    IA_CHECK(told(takes));
    IA_CHECK(told(refused));
    IA_CHECK(told(text_ok));
    IA_CHECK(told(doc_counts));
    IA_CHECK(told(image_failed));
}

