/* parse: the engines' answers read into images (images_int.h), and the
 * check that bytes are the image they claim to be (images.h). These read
 * what another program sent: every field is type-checked, base64 decoded
 * strictly (lib/b64.h), counts bounded, and nothing is trusted to be an
 * image before its header says so (tests/fuzz/images.c runs them on
 * arbitrary bytes). */
#include "upstream/images_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/b64.h"
#include "lib/imgsize.h"
#include "lib/util.h"

/* Longer sides than any engine draws: a header claiming more is refused. */
#define MAX_SIDE 65535

void ia_up_images_free(ia_up_images *im) {
    if (!im) return;
    for (size_t i = 0; i < im->n; i++) {
        free(im->v[i].data);
        free(im->v[i].url);
    }
    free(im->v);
    memset(im, 0, sizeof *im);
}

void ia_sdjob_free(ia_sdjob *j) {
    if (!j) return;
    ia_up_images_free(&j->images);
    free(j->error);
    memset(j, 0, sizeof *j);
}

/* ---- images in JSON ----------------------------------------------------------- */

static int bad(const ia_upstream *u, ia_err *err, const char *what) {
    return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered %s", u->name, what);
}

/* A base64 image, raw or as a data: URL (some engines send one). */
static int decode_b64(const ia_upstream *u, json_t *v, const char *where, ia_up_image *im, ia_err *err) {
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), bad_at = 0;
    if (n > 5 && strncmp(s, "data:", 5) == 0) {
        const char *comma = memchr(s, ',', n);
        if (!comma || comma - s < 12 || strncmp(comma - 7, ";base64", 7) != 0)
            return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered %s: a data URL that is not base64", u->name,
                           where);
        n -= (size_t)(comma + 1 - s);
        s = comma + 1;
    }
    if (ia_b64_decode(s, n, &im->data, &im->len, &bad_at) != 0)
        return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered %s: not valid base64 (at byte %zu)", u->name,
                       where, bad_at);
    if (im->len == 0) /* "", or only the blanks base64 skips */
        return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered %s: empty", u->name, where);
    return 0;
}

static ia_up_image *add_image(ia_up_images *out) {
    out->v = ia_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
    ia_up_image *im = &out->v[out->n++];
    memset(im, 0, sizeof *im);
    return im;
}

/* An http(s) URL of an image (fetched by images.c under its rules). */
static bool is_http_url(json_t *v) {
    const char *s = json_string_value(v);
    return s && (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
           json_string_length(v) < 4096 && !memchr(s, '\0', json_string_length(v));
}

/* images[i] ({b64_json} or, with urls, {url}) into out. */
static int take_images(const ia_upstream *u, json_t *list, const char *name, bool urls, size_t max,
                       ia_up_images *out, ia_err *err) {
    char where[64];
    if (!json_is_array(list) || json_array_size(list) == 0) {
        snprintf(where, sizeof where, "no image (%s is %s)", name, json_is_array(list) ? "empty" : "missing");
        return bad(u, err, where);
    }
    for (size_t i = 0; i < json_array_size(list) && out->n < max; i++) {
        json_t *e = json_array_get(list, i), *b = json_object_get(e, "b64_json"), *url = json_object_get(e, "url");
        snprintf(where, sizeof where, "%s[%zu].b64_json", name, i);
        if (json_is_string(b)) {
            if (decode_b64(u, b, where, add_image(out), err) != 0) return -1;
        } else if (urls && is_http_url(url)) {
            add_image(out)->url = ia_strdup(json_string_value(url));
        } else {
            snprintf(where, sizeof where, "%s[%zu] without %s", name, i, urls ? "b64_json or an http(s) url" : "b64_json");
            return bad(u, err, where);
        }
    }
    return 0;
}

static json_t *load_object(const ia_upstream *u, const char *body, size_t len, ia_err *err) {
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    if (json_is_object(j)) return j;
    json_decref(j);
    bad(u, err, "something that is not a JSON object");
    return NULL;
}

int ia_up_parse_openai(const ia_upstream *u, const char *body, size_t len, size_t max, ia_up_images *out,
                       ia_err *err) {
    memset(out, 0, sizeof *out);
    json_t *j = load_object(u, body, len, err);
    if (!j) return -1;
    int rc = take_images(u, json_object_get(j, "data"), "data", true, max, out, err);
    json_decref(j);
    if (rc != 0) ia_up_images_free(out);
    return rc;
}

/* ---- sd-server's jobs --------------------------------------------------------------- */

static const char *const JOB_STATUS[] = {
    [IA_SDJOB_QUEUED] = "queued",       [IA_SDJOB_GENERATING] = "generating", [IA_SDJOB_COMPLETED] = "completed",
    [IA_SDJOB_FAILED] = "failed",       [IA_SDJOB_CANCELLED] = "cancelled",
};

/* A job id goes into a URL path as it is: only these characters. */
static bool good_id(const char *s, size_t n) {
    if (n == 0 || n >= sizeof ((ia_sdjob *)0)->id) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", s[i]) || !s[i]) return false;
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int job_error(json_t *j, ia_sdjob *job) {
    json_t *e = json_object_get(j, "error");
    json_t *m = json_object_get(e, "message"), *c = json_object_get(e, "code");
    json_t *v = json_is_string(m) && json_string_length(m) ? m : json_is_string(c) ? c : NULL;
    if (json_is_string(e)) v = e;
    if (v) {
        size_t n = json_string_length(v);
        if (n > 300) n = ia_utf8_complete_prefix(json_string_value(v), 300);
        job->error = ia_utf8_sanitize(json_string_value(v), n);
    }
    return 0;
}

int ia_up_parse_job(const ia_upstream *u, const char *body, size_t len, const char *want_id, size_t max,
                    ia_sdjob *job, ia_err *err) {
    memset(job, 0, sizeof *job);
    json_t *j = load_object(u, body, len, err);
    if (!j) return -1;
    int rc = -1;
    json_t *id = json_object_get(j, "id"), *st = json_object_get(j, "status");
    if (!json_is_string(id) || !good_id(json_string_value(id), json_string_length(id))) {
        bad(u, err, "a job without a usable id");
        goto done;
    }
    if (want_id && strcmp(want_id, json_string_value(id)) != 0) {
        bad(u, err, "another job's document when polled");
        goto done;
    }
    snprintf(job->id, sizeof job->id, "%s", json_string_value(id));
    int s = -1;
    for (int i = 0; json_is_string(st) && i < (int)(sizeof JOB_STATUS / sizeof *JOB_STATUS); i++)
        if (strcmp(json_string_value(st), JOB_STATUS[i]) == 0) s = i;
    if (s < 0) {
        bad(u, err, "a job status that is not queued, generating, completed, failed or cancelled");
        goto done;
    }
    job->status = (ia_sdjob_status)s;
    if (s == IA_SDJOB_COMPLETED) {
        json_t *res = json_object_get(j, "result");
        if (take_images(u, json_object_get(res, "images"), "result.images", false, max, &job->images, err) != 0)
            goto done;
    } else if (s == IA_SDJOB_FAILED || s == IA_SDJOB_CANCELLED) {
        job_error(j, job);
    }
    rc = 0;
done:
    json_decref(j);
    if (rc != 0) ia_sdjob_free(job);
    return rc;
}

/* ---- is it an image? ---------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* CRC-32 as PNG computes it (ISO 3309), bit by bit: 17 bytes are checked. */
static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* The signature, then IHDR first: length 13, its CRC right, width and
 * height not 0, a bit depth and color type PNG defines. */
static const char *png_check(const uint8_t *d, size_t len, uint32_t *w, uint32_t *h) {
    if (len < 33) return "a PNG cut short";
    if (be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0) return "a PNG without IHDR first";
    if (crc32_png(d + 12, 17) != be32(d + 29)) return "a PNG whose IHDR checksum is wrong";
    *w = be32(d + 16);
    *h = be32(d + 20);
    uint8_t depth = d[24], type = d[25];
    bool ok_type = type == 0 || type == 2 || type == 3 || type == 4 || type == 6;
    bool ok_depth = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    if (!ok_type || !ok_depth) return "a PNG with an unknown color type or bit depth";
    return NULL;
}

int ia_image_identify(const uint8_t *d, size_t len, const char *what, const char **mime, uint32_t *w,
                      uint32_t *h, ia_err *err) {
    const char *why = NULL;
    *w = *h = 0;
    *mime = NULL;
    if (len >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
        *mime = "image/png";
        why = png_check(d, len, w, h);
    } else if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        *mime = "image/jpeg";
        why = ia_image_size(d, len, w, h) != 0 ? "a JPEG without a frame header" : NULL;
    } else if (len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) {
        *mime = "image/webp";
        why = ia_image_size(d, len, w, h) != 0 ? "a WebP without a known first chunk" : NULL;
    } else {
        why = "bytes that are not a PNG, JPEG or WebP image";
    }
    if (!why && (*w == 0 || *h == 0 || *w > MAX_SIDE || *h > MAX_SIDE)) why = "an image whose size is 0 or absurd";
    if (!why) return 0;
    *mime = NULL;
    return ia_fail(err, IA_EUPSTREAM, "%s: %s", what, why);
}
