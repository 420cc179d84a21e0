/* images: image output from an upstream engine (images.h states the
 * contract): the settings as a size, OpenAI's images API, and the checks
 * on what comes back. sd-server's own async API is sdcpp.c's. */
#include "upstream/images.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/util.h"
#include "upstream/images_int.h"

/* ---- the settings as a size ------------------------------------------------------ */

static const struct {
    const char *name;
    int side;
} SIZES[] = {{"512", 512}, {"1K", 1024}, {"2K", 2048}, {"4K", 4096}};

static const char *const RATIOS[] = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4",
                                     "9:16", "16:9", "21:9", "1:8", "8:1", "1:4", "4:1"};

void ia_image_cfg_merge(const ia_image_cfg *gen, const ia_image_cfg *format, ia_image_cfg *out) {
    static const ia_image_cfg none;
    if (!gen) gen = &none;
    if (!format) format = &none;
    *out = *gen;
    out->set = gen->set || format->set;
    if (format->aspect_ratio[0]) memcpy(out->aspect_ratio, format->aspect_ratio, sizeof out->aspect_ratio);
    if (format->image_size[0]) memcpy(out->image_size, format->image_size, sizeof out->image_size);
    if (format->mime_type[0]) memcpy(out->mime_type, format->mime_type, sizeof out->mime_type);
    if (format->delivery[0]) memcpy(out->delivery, format->delivery, sizeof out->delivery);
}

/* n rounded to the nearest multiple of 64, at least 64. */
static int round64(double n) {
    int r = (int)((n + 32) / 64) * 64;
    return r < 64 ? 64 : r;
}

int ia_image_dims(const ia_image_cfg *c, int *width, int *height, ia_err *err) {
    const char *size = c && c->image_size[0] ? c->image_size : "1K";
    const char *ratio = c && c->aspect_ratio[0] ? c->aspect_ratio : "1:1";
    int side = 0;
    for (size_t i = 0; i < sizeof SIZES / sizeof *SIZES; i++)
        if (strcmp(size, SIZES[i].name) == 0) side = SIZES[i].side;
    if (!side)
        return ia_fail(err, IA_EINVALID, "image_config.image_size: expected one of '512', '1K', '2K', '4K', got '%s'",
                       size);
    bool known = false;
    for (size_t i = 0; i < sizeof RATIOS / sizeof *RATIOS; i++) known = known || strcmp(ratio, RATIOS[i]) == 0;
    int a = 0, b = 0;
    if (!known || sscanf(ratio, "%d:%d", &a, &b) != 2 || a <= 0 || b <= 0)
        return ia_fail(err, IA_EINVALID,
                       "image_config.aspect_ratio: expected one of '1:1', '2:3', '3:2', '3:4', '4:3', '4:5', "
                       "'5:4', '9:16', '16:9', '21:9', '1:8', '8:1', '1:4', '4:1', got '%s'", ratio);
    int lo = a < b ? a : b, hi = a < b ? b : a;
    int s = round64((double)side * lo / hi);
    *width = a >= b ? side : s;
    *height = a >= b ? s : side;
    return 0;
}

/* ---- OpenAI's images API ------------------------------------------------------- */

const char *ia_up_format(const ia_image_req *req) {
    if (req->mime_type && strcmp(req->mime_type, "image/jpeg") == 0) return "jpeg";
    if (req->mime_type && strcmp(req->mime_type, "image/webp") == 0) return "webp";
    return "png";
}

static const char *model_of(const ia_upstream *u) { return u->remote_model ? u->remote_model : u->name; }

/* The JSON body of a generation. output_format only for a format other
 * than PNG (sd-server's default): an engine that knows no such field
 * (OpenAI's dall-e models) is not sent one for nothing. */
static char *generation_body(const ia_upstream *u, const ia_image_req *req) {
    char size[32];
    snprintf(size, sizeof size, "%dx%d", req->width, req->height);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "model", model_of(u), "prompt", req->prompt, "n",
                          req->n > 0 ? req->n : 1, "size", size, "response_format", "b64_json");
    if (o && strcmp(ia_up_format(req), "png") != 0)
        json_object_set_new(o, "output_format", json_string(ia_up_format(req)));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* The multipart form of an edit: the same fields, the image as image[]. */
static int edit_call(const ia_upstream *u, const ia_image_req *req, ia_up_call *c, ia_fetch_part parts[8],
                     char bufs[3][32]) {
    snprintf(bufs[0], 32, "%dx%d", req->width, req->height);
    snprintf(bufs[1], 32, "%d", req->n > 0 ? req->n : 1);
    const char *mime = req->init_mime ? req->init_mime : "image/png";
    const char *ext = strchr(mime, '/') ? strchr(mime, '/') + 1 : "png";
    snprintf(bufs[2], 32, "image.%.16s", ext);
    size_t k = 0;
    parts[k++] = (ia_fetch_part){.name = "model", .data = model_of(u), .len = strlen(model_of(u))};
    parts[k++] = (ia_fetch_part){.name = "prompt", .data = req->prompt, .len = strlen(req->prompt)};
    parts[k++] = (ia_fetch_part){.name = "n", .data = bufs[1], .len = strlen(bufs[1])};
    parts[k++] = (ia_fetch_part){.name = "size", .data = bufs[0], .len = strlen(bufs[0])};
    parts[k++] = (ia_fetch_part){.name = "response_format", .data = "b64_json", .len = 8};
    if (strcmp(ia_up_format(req), "png") != 0)
        parts[k++] = (ia_fetch_part){.name = "output_format", .data = ia_up_format(req),
                                     .len = strlen(ia_up_format(req))};
    parts[k++] = (ia_fetch_part){.name = "image[]", .data = (const char *)req->init, .len = req->init_len,
                                 .filename = bufs[2], .type = mime};
    c->parts = parts;
    c->n_parts = k;
    return 0;
}

int ia_up_openai(const ia_upstream *u, const ia_image_req *req, int64_t deadline, atomic_bool *cancel,
                 ia_up_images *out, ia_err *err) {
    bool edit = req->init != NULL;
    ia_up_call c = {.method = "POST", .path = edit ? "/v1/images/edits" : "/v1/images/generations",
                    .deadline = deadline, .cancel = cancel};
    ia_fetch_part parts[8];
    char bufs[3][32];
    char *body = NULL;
    if (edit) edit_call(u, req, &c, parts, bufs);
    else if (!(c.json = body = generation_body(u, req)))
        return ia_fail(err, IA_EINTERNAL, "upstream '%s': out of memory", u->name);
    ia_up_answer a;
    int rc = ia_up_send(u, &c, &a, err);
    free(body);
    if (rc != 0) return -1;
    char what[48];
    snprintf(what, sizeof what, "POST %s", c.path);
    if (a.status < 200 || a.status > 299) rc = ia_up_status_error(u, &a, what, edit, err);
    else rc = ia_up_parse_openai(u, a.body, a.len, (size_t)(req->n > 0 ? req->n : 1), out, err);
    ia_up_answer_free(&a);
    return rc;
}

/* ---- what comes back ------------------------------------------------------------------ */

void ia_image_outs_free(ia_image_out *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i].data);
    free(v);
}

/* Whether url is on the upstream's own origin (scheme, host, port). */
static bool same_origin(const char *base, const char *url) {
    CURLU *a = curl_url(), *b = curl_url();
    bool same = false;
    if (a && b && curl_url_set(a, CURLUPART_URL, base, 0) == CURLUE_OK &&
        curl_url_set(b, CURLUPART_URL, url, 0) == CURLUE_OK) {
        same = true;
        const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
        for (size_t i = 0; i < 3 && same; i++) {
            char *x = NULL, *y = NULL;
            curl_url_get(a, parts[i], &x, CURLU_DEFAULT_PORT);
            curl_url_get(b, parts[i], &y, CURLU_DEFAULT_PORT);
            same = x && y && strcasecmp(x, y) == 0;
            curl_free(x);
            curl_free(y);
        }
    }
    curl_url_cleanup(a);
    curl_url_cleanup(b);
    return same;
}

/* An image the engine gave by URL: on its own origin with the engine's
 * allowances, elsewhere under the server's rules for client URLs; the
 * same cap, what is left of the deadline. */
static int fetch_url(const ia_upstream *u, ia_up_image *im, int64_t deadline, atomic_bool *cancel, ia_err *err) {
    int64_t left = deadline - ia_mono_ms();
    if (left <= 0) return ia_up_timeout(u, err);
    bool own = same_origin(u->url, im->url);
    ia_fetch_opts o = own ? (ia_fetch_opts){.allow_private = true, .proxy = "", .max_redirects = -1} : u->other;
    o.max_bytes = u->max_bytes;
    o.timeout_ms = (int)(left < INT32_MAX ? left : INT32_MAX);
    ia_fetch_fail f = IA_FETCH_FAIL_NONE;
    ia_fetch_req rq = {.cancel = cancel, .fail = &f};
    ia_fetched got;
    ia_err fe = {0};
    if (ia_fetch_ex(im->url, &o, &rq, "url", &got, &fe) != 0) {
        ia_warn("upstream %s: image url: %s", u->name, fe.msg);
        if (f == IA_FETCH_FAIL_CANCELLED) return ia_fail(err, IA_ECANCELLED, "upstream '%s': cancelled", u->name);
        if (f == IA_FETCH_FAIL_TIMEOUT) return ia_up_timeout(u, err);
        return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered an image URL that could not be fetched%s",
                       u->name, f == IA_FETCH_FAIL_REFUSED ? " (its address is not one this server may reach)" : "");
    }
    im->data = got.data;
    im->len = got.len;
    got.data = NULL;
    ia_fetched_free(&got);
    return 0;
}

/* The raw images as checked outputs. */
static int finish(const ia_upstream *u, ia_up_images *raw, int64_t deadline, atomic_bool *cancel,
                  ia_image_out **out, size_t *n, ia_err *err) {
    if (raw->n == 0) return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered no image", u->name);
    ia_image_out *v = ia_xcalloc(raw->n, sizeof *v);
    size_t k = 0;
    for (; k < raw->n; k++) {
        ia_up_image *im = &raw->v[k];
        if (im->url && !im->data && fetch_url(u, im, deadline, cancel, err) != 0) break;
        char what[96];
        snprintf(what, sizeof what, "upstream '%s' answered image %zu", u->name, k);
        if (ia_image_identify(im->data, im->len, what, &v[k].mime_type, &v[k].width, &v[k].height, err) != 0) break;
        v[k].data = im->data;
        v[k].len = im->len;
        im->data = NULL;
    }
    if (k < raw->n) {
        ia_image_outs_free(v, k);
        return -1;
    }
    *out = v;
    *n = k;
    return 0;
}

static int check_req(const ia_upstream *u, const ia_image_req *req, ia_err *err) {
    if (u->kind != IA_UPSTREAM_IMAGES)
        return ia_fail(err, IA_EINTERNAL, "upstream '%s' does not serve images", u->name);
    if (!req->prompt || !*req->prompt)
        return ia_fail(err, IA_EINVALID, "input: an image needs a text prompt saying what to draw");
    if (req->n < 0 || req->n > IA_IMAGES_MAX_N)
        return ia_fail(err, IA_EINVALID, "upstream '%s': %d images asked, at most %d", u->name, req->n,
                       IA_IMAGES_MAX_N);
    if (req->width < 64 || req->height < 64 || req->width > 8192 || req->height > 8192)
        return ia_fail(err, IA_EINVALID, "upstream '%s': a size of %dx%d", u->name, req->width, req->height);
    return 0;
}

int ia_images_generate(const ia_upstream *u, const ia_image_req *req, atomic_bool *cancel, ia_image_out **out,
                       size_t *n, ia_err *err) {
    *out = NULL;
    *n = 0;
    if (check_req(u, req, err) != 0) return -1;
    if (ia_fetch_global_init(err) != 0) return -1;
    int64_t deadline = ia_mono_ms() + (int64_t)u->timeout_s * 1000;
    ia_up_images raw = {0};
    int rc = u->api == IA_UPSTREAM_SDCPP ? ia_up_sdcpp(u, req, deadline, cancel, &raw, err)
                                         : ia_up_openai(u, req, deadline, cancel, &raw, err);
    if (rc == 0) rc = finish(u, &raw, deadline, cancel, out, n, err);
    ia_up_images_free(&raw);
    return rc;
}
