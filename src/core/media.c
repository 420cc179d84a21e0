/* media.c: media items made ready for the model (media.h). */
#include "core/media.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/avtrack.h"
#include "core/filecheck.h"
#include "core/files.h"
#include "core/pdf.h"
#include "lib/b64.h"
#include "lib/fetch.h"
#include "lib/util.h"

#define DEFAULT_MAX ((int64_t)20 << 20)
/* A Files API file read into memory for a turn, at most: the Files API
 * takes files of gigabytes (video), which a prompt samples anyway. */
#define MAX_FILE_PART ((int64_t)512 << 20)

static const char *where(const ia_content *c) { return c->path ? c->path : "input (an earlier turn's media)"; }

static ia_modality modality(ia_content_kind k) {
    switch (k) {
    case IA_CONTENT_IMAGE: return IA_MOD_IMAGE;
    case IA_CONTENT_AUDIO: return IA_MOD_AUDIO;
    case IA_CONTENT_VIDEO: return IA_MOD_VIDEO;
    default: return IA_MOD_DOCUMENT;
    }
}

static int fetch_one(const ia_media_opts *o, ia_content *c, ia_err *err) {
    char field[256];
    snprintf(field, sizeof field, "%s.uri", where(c));
    ia_fetch_opts fo = {.max_bytes = (size_t)(o->max_bytes > 0 ? o->max_bytes : DEFAULT_MAX),
                        .timeout_ms = o->timeout_ms, .allow_private = o->allow_private,
                        .allow_addrs = o->allow_addrs};
    ia_fetched f;
    if (ia_fetch(c->uri, &fo, field, &f, err) < 0) {
        size_t n = err ? strlen(err->msg) : 0;
        if (err && err->code == IA_ETOOLARGE && n < sizeof err->msg - 40)
            snprintf(err->msg + n, sizeof err->msg - n, " (the server's --max-media-size)");
        return -1;
    }
    free(c->fetched);
    c->fetched = ia_b64_encode(f.data, f.len);
    ia_fetched_free(&f);
    return 0;
}

/* Whether the model takes the item at all (a video: its frames or its
 * audio track); else the engine's 400 naming the part and what it takes. */
static int takes(ia_engine *eng, const ia_content *c, ia_err *err) {
    ia_modality m = modality(c->kind);
    if (c->kind == IA_CONTENT_DOCUMENT || ia_engine_takes(eng, m) ||
        (c->kind == IA_CONTENT_VIDEO && ia_engine_takes(eng, IA_MOD_AUDIO)))
        return 0;
    ia_engine_media em = {.modality = m, .form = IA_EMEDIA_FILE};
    return ia_engine_media_check(eng, &em, where(c), err);
}

/* A Files URI must name an ACTIVE file of owner's: another key's is a 404
 * like a missing one. */
static int file_ref(const ia_media_opts *o, const char *owner, const ia_content *c, const char *id, ia_err *err) {
    ia_file f;
    if (!o->files) return ia_fail(err, IA_ENOTFOUND, "%s.uri: files/%s not found", where(c), id);
    if (ia_files_get(o->files, owner, id, &f, err) < 0) {
        if (err && err->code == IA_ENOTFOUND) ia_fail(err, IA_ENOTFOUND, "%s.uri: files/%s not found", where(c), id);
        return -1;
    }
    bool active = f.state == IA_FILE_ACTIVE;
    ia_file_free(&f);
    if (!active)
        return ia_fail(err, IA_EINVALID, "%s.uri: files/%s is not ACTIVE yet (or FAILED); wait for files.get to say "
                       "ACTIVE", where(c), id);
    return 0;
}

int ia_media_fetch(const ia_media_opts *o, ia_engine *eng, const char *owner, ia_conv *in, ia_err *err) {
    /* in order: Files URIs (404 for another key's), what the model cannot
     * take, then the fetches, so nothing is fetched for a request refused */
    for (int pass = 0; pass < 3; pass++)
        for (size_t t = 0; t < in->n; t++)
            for (size_t k = 0; k < in->turns[t].n; k++) {
                ia_content *c = &in->turns[t].items[k];
                if (!ia_content_is_media(c->kind)) continue;
                char id[IA_FILE_ID_MAX];
                bool file = c->uri && ia_files_uri_id(c->uri, id) == 0;
                if (pass == 0 && file && file_ref(o, owner, c, id, err) < 0) return -1;
                if (pass == 1 && takes(eng, c, err) < 0) return -1;
                if (pass != 2 || !c->uri || file) continue;
                if (strncmp(c->uri, "http://", 7) && strncmp(c->uri, "https://", 8))
                    return ia_fail(err, IA_EINVALID, "%s.uri: expected an http(s) URL or a Files API URI "
                                   "(files/NAME, as files.upload returns it), not '%.80s'", where(c), c->uri);
                if (fetch_one(o, c, err) < 0) return -1;
            }
    return 0;
}

/* The item's bytes: data, the fetched copy, or the file. */
static int item_bytes(const ia_media_opts *o, const char *owner, const ia_content *c, uint8_t **data,
                      size_t *len, ia_err *err) {
    const char *b64 = c->text ? c->text : c->fetched;
    if (b64) {
        if (ia_b64_decode(b64, strlen(b64), data, len, NULL) < 0)
            return ia_fail(err, IA_EINVALID, "%s.data: not valid base64", where(c));
        return 0;
    }
    char id[IA_FILE_ID_MAX];
    if (!c->uri || ia_files_uri_id(c->uri, id) < 0 || !o->files)
        return ia_fail(err, IA_EINVALID, "%s: the media's bytes are not known (a uri that was not fetched)",
                       where(c));
    ia_file f;
    ia_err e;
    if (ia_files_read(o->files, owner, id, MAX_FILE_PART, &f, data, len, &e) < 0)
        return ia_fail(err, e.code == IA_ENOTFOUND ? IA_EINVALID : e.code, "%s.uri: %s%s", where(c), e.msg,
                       c->path ? "" : " (a file an earlier turn used has expired or was deleted)");
    ia_file_free(&f);
    return 0;
}

/* `resolution` as the longer side an image or video frame keeps: Gemini's
 * levels are about 280, 560 and 1,120 tokens an image, which a projector
 * of dynamic resolution (patches of 14 px merged 2 x 2) reaches near these
 * sides; ultra_high (and none) keeps the picture as sent. */
static int max_side(const char *resolution) {
    if (!resolution) return 0;
    if (!strcmp(resolution, "low")) return 448;
    if (!strcmp(resolution, "medium")) return 672;
    if (!strcmp(resolution, "high")) return 1024;
    return 0;
}

static void add_part(ia_content *c, int form, uint8_t *data, size_t len) {
    c->parts = ia_xrealloc(c->parts, (c->n_parts + 1) * sizeof *c->parts);
    c->parts[c->n_parts++] = (ia_media_part){.form = form, .modality = modality(c->kind), .data = data, .len = len,
                                             .max_side = max_side(c->resolution)};
}

/* The side a PDF page is drawn at for a vision model: Gemma 3's and
 * SigLIP's native 896; the projector scales it to its own size. */
#define PAGE_SIDE 896
/* Pages drawn, at most (3 MiB of pixels each until the engine has them;
 * a page is hundreds of tokens, so more would not fit a context anyway):
 * the text of every page still goes. */
#define MAX_DRAWN_PAGES 32
/* A document's text, at most: far more than any context holds (about 2M
 * tokens), small enough to hold in memory per request. */
#define MAX_DOC_TEXT ((size_t)8 << 20)

static void add_rgb(ia_content *c, unsigned char *rgb, int w, int h) {
    add_part(c, IA_EMEDIA_RGB, rgb, (size_t)w * (size_t)h * 3);
    c->parts[c->n_parts - 1].w = w;
    c->parts[c->n_parts - 1].h = h;
}

/* A PDF: each page's text (poppler's reading order) under a page heading,
 * and for a model that takes images the page drawn (the first
 * MAX_DRAWN_PAGES), so figures and layout reach it too. */
static int pdf_parts(ia_engine *eng, ia_content *c, uint8_t *data, size_t len, ia_err *err) {
    char field[256];
    snprintf(field, sizeof field, "%s.%s", where(c), c->text ? "data" : "uri");
    ia_pdf *pdf = NULL;
    int rc = ia_pdf_open(data, len, field, &pdf, err);
    bool vision = rc == 0 && ia_engine_takes(eng, IA_MOD_IMAGE);
    size_t total = 0;
    for (int p = 0; rc == 0 && p < ia_pdf_pages(pdf); p++) {
        char *text = ia_pdf_page_text(pdf, p);
        char *t = ia_asprintf("--- page %d of %d ---\n%s\n", p + 1, ia_pdf_pages(pdf), text ? text : "");
        free(text);
        total += strlen(t);
        add_part(c, IA_EMEDIA_TEXT, (uint8_t *)t, strlen(t));
        if (total > MAX_DOC_TEXT) {
            rc = ia_fail(err, IA_EINVALID, "%s: the PDF's text passes %zu MiB by page %d, more than a model's context "
                         "holds; send the pages needed", field, MAX_DOC_TEXT >> 20, p + 1);
            break;
        }
        if (!vision || p >= MAX_DRAWN_PAGES) continue;
        unsigned char *rgb = NULL;
        int w = 0, h = 0;
        if ((rc = ia_pdf_page_rgb(pdf, p, PAGE_SIDE, &rgb, &w, &h, err)) == 0) add_rgb(c, rgb, w, h);
    }
    ia_pdf_close(pdf);
    free(data);
    return rc;
}

/* A document: a PDF as its pages, a text type as its text. */
static int document_parts(ia_engine *eng, ia_content *c, uint8_t *data, size_t len, ia_err *err) {
    char base[64] = "";
    ia_media_kind mk = c->mime_type ? ia_filecheck_kind(c->mime_type, base) : IA_MEDIA_NONE;
    bool pdf = memmem(data, len < 1024 ? len : 1024, "%PDF-", 5) != NULL;
    if (pdf || mk == IA_MEDIA_DOCUMENT) return pdf_parts(eng, c, data, len, err);
    if (!ia_utf8_valid((const char *)data, len) || memchr(data, 0, len)) {
        free(data);
        return ia_fail(err, IA_EINVALID, "%s: a document must be a PDF or UTF-8 text", where(c));
    }
    add_part(c, IA_EMEDIA_TEXT, data, len);
    return 0;
}

/* A video for a model that takes audio: its audio track too (after the
 * frames, or alone for a model that takes no video), counted as audio. */
static int video_parts(ia_engine *eng, ia_content *c, uint8_t *data, size_t len, ia_err *err) {
    char field[256];
    snprintf(field, sizeof field, "%s.%s", where(c), c->text ? "data" : "uri");
    bool frames = ia_engine_takes(eng, IA_MOD_VIDEO);
    uint8_t *wav = NULL;
    size_t wlen = 0;
    int t = ia_audio_track(data, len, 16000, &wav, &wlen, field, err);
    if (t < 0 || (t == 1 && !frames)) {
        free(data);
        if (t == 1)
            return ia_fail(err, IA_EINVALID, "%s: the video has no audio track, and model %s takes no video (it "
                           "takes %s)", field, ia_engine_name(eng), ia_engine_modalities(eng));
        return -1;
    }
    if (frames) add_part(c, IA_EMEDIA_FILE, data, len);
    else free(data);
    if (t == 0) {
        add_part(c, IA_EMEDIA_FILE, wav, wlen);
        c->parts[c->n_parts - 1].modality = IA_MOD_AUDIO;
    }
    if (!c->path) return 0;
    for (size_t i = 0; i < c->n_parts; i++) {
        ia_engine_media m = {.modality = (ia_modality)c->parts[i].modality, .form = IA_EMEDIA_FILE,
                             .data = c->parts[i].data, .len = c->parts[i].len};
        if (ia_engine_media_check(eng, &m, field, err) < 0) return -1;
    }
    return 0;
}

/* A mime parameter's integer value ("audio/L16;rate=24000"), or 0. */
static int mime_param(const char *mime, const char *name) {
    const char *p = mime ? strcasestr(mime, name) : NULL;
    return p && p[strlen(name)] == '=' ? atoi(p + strlen(name) + 1) : 0;
}

/* Formats libmtmd reads itself (stb_image; miniaudio's WAV, MP3, FLAC). */
static bool native(const char *base, bool image) {
    static const char *const img[] = {"image/png", "image/jpeg", "image/jpg", "image/pjpeg", "image/gif",
                                      "image/bmp", "image/x-ms-bmp", "image/webp", "image/x-portable-pixmap", NULL};
    static const char *const aud[] = {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/mp3",
                                      "audio/mpeg", "audio/mpeg3", "audio/x-mpeg-3", "audio/flac", "audio/x-flac",
                                      NULL};
    for (const char *const *t = image ? img : aud; *t; t++)
        if (!strcmp(base, *t)) return true;
    return false;
}

/* An image or audio file in a format libmtmd does not read, as one it
 * does (ffmpeg): TIFF, HEIF, AAC, Ogg/Opus, M4A, AIFF, and headerless L16
 * (big-endian, rate and channels from the part or the mime type), A-law
 * and mu-law. The mime type decides; without one the bytes go as sent. */
static int convert(ia_content *c, uint8_t **data, size_t *len, ia_err *err) {
    char base[64] = "";
    bool image = c->kind == IA_CONTENT_IMAGE;
    if (!c->mime_type || (c->kind != IA_CONTENT_IMAGE && c->kind != IA_CONTENT_AUDIO)) return 0;
    ia_filecheck_kind(c->mime_type, base);
    if (!base[0] || native(base, image)) return 0;
    const char *raw = !strcmp(base, "audio/l16") ? "s16be"
                    : !strcmp(base, "audio/alaw") || !strcmp(base, "audio/pcma") ? "alaw"
                    : !strcmp(base, "audio/mulaw") || !strcmp(base, "audio/basic") || !strcmp(base, "audio/pcmu")
                        ? "mulaw"
                        : NULL;
    int rate = c->sample_rate ? (int)c->sample_rate : mime_param(c->mime_type, "rate");
    int ch = c->channels ? (int)c->channels : mime_param(c->mime_type, "channels");
    char field[256];
    snprintf(field, sizeof field, "%s.%s", where(c), c->text ? "data" : "uri");
    uint8_t *out = NULL;
    size_t n = 0;
    int rc = ia_ffmpeg_convert(*data, *len, raw, rate, ch,
                               image, &out, &n, field, err);
    if (rc < 0) return -1;
    if (rc == 1)
        return ia_fail(err, IA_EINVALID, "%s: not %s ffmpeg can decode as %s; the bytes are corrupt, truncated or of "
                       "another type", field, image ? "an image" : "audio", base);
    free(*data);
    *data = out;
    *len = n;
    return 0;
}

static int prepare_one(const ia_media_opts *o, ia_engine *eng, const char *owner, ia_content *c, ia_err *err) {
    ia_content_parts_free(c);
    bool track = c->kind == IA_CONTENT_VIDEO && ia_engine_takes(eng, IA_MOD_AUDIO);
    if (takes(eng, c, err) < 0) return -1;
    uint8_t *data = NULL;
    size_t len = 0;
    if (item_bytes(o, owner, c, &data, &len, err) < 0) return -1;
    if (c->kind == IA_CONTENT_DOCUMENT) return document_parts(eng, c, data, len, err);
    if (track) return video_parts(eng, c, data, len, err);
    if (convert(c, &data, &len, err) < 0) {
        free(data);
        return -1;
    }
    add_part(c, IA_EMEDIA_FILE, data, len);
    if (!c->path) return 0; /* decoded when it was sent */
    char field[256];
    snprintf(field, sizeof field, "%s.%s", where(c), c->text ? "data" : "uri");
    ia_engine_media m = {.modality = modality(c->kind), .form = IA_EMEDIA_FILE, .data = data, .len = len};
    return ia_engine_media_check(eng, &m, field, err);
}

/* A function result's image parts (a list of content with images: the
 * guide's screenshot) as parts of the result item, in order. */
static int result_parts(const ia_media_opts *o, ia_engine *eng, const char *owner, ia_content *c, ia_err *err) {
    ia_content_parts_free(c);
    json_t *v = json_loads(c->text ? c->text : "", JSON_DECODE_ANY, NULL);
    size_t i;
    json_t *part;
    int rc = 0;
    json_array_foreach(v, i, part) {
        const char *ty = json_string_value(json_object_get(part, "type"));
        if (!ty || strcmp(ty, "image")) continue;
        /* the part as an image item of its own, for the same checks */
        ia_content img = {.kind = IA_CONTENT_IMAGE};
        const char *data = json_string_value(json_object_get(part, "data"));
        const char *uri = json_string_value(json_object_get(part, "uri"));
        img.text = data ? ia_strdup(data) : NULL;
        img.uri = uri ? ia_strdup(uri) : NULL;
        img.path = c->path ? ia_asprintf("%s.result[%zu]", c->path, i) : NULL;
        if (uri && !data && ia_files_uri_id(uri, (char[IA_FILE_ID_MAX]){0}) < 0)
            rc = ia_fail(err, IA_EINVALID, "%s.uri: an image in a function result takes data (base64) or a Files "
                         "API URI", img.path ? img.path : "input");
        else
            rc = prepare_one(o, eng, owner, &img, err);
        if (rc == 0 && img.n_parts) {
            c->parts = ia_xrealloc(c->parts, (c->n_parts + 1) * sizeof *c->parts);
            c->parts[c->n_parts++] = img.parts[0];
            img.n_parts = 0; /* moved */
        }
        ia_content_clear(&img);
        if (rc < 0) break;
    }
    json_decref(v);
    return rc;
}

int ia_media_prepare(const ia_media_opts *o, ia_engine *eng, const char *owner, ia_conv *conv, ia_err *err) {
    for (size_t t = 0; t < conv->n; t++)
        for (size_t k = 0; k < conv->turns[t].n; k++) {
            ia_content *c = &conv->turns[t].items[k];
            /* a model's own speech or image (an earlier turn's output) is
             * not read back: it says what its text or the prompt said */
            bool own = conv->turns[t].role == IA_ROLE_MODEL;
            if (ia_content_is_media(c->kind) && !own && prepare_one(o, eng, owner, c, err) < 0) return -1;
            if (c->kind == IA_CONTENT_FUNCTION_RESULT && c->text && c->text[0] == '[' &&
                strstr(c->text, "\"image\"") && result_parts(o, eng, owner, c, err) < 0)
                return -1;
        }
    return 0;
}
