/* media.c: image, audio, video and document content on the wire, the same
 * in both dialects (SDK 1.52.0's Content and 3.3.0's narrowed Content):
 * `data` (base64) or `uri`, `mime_type`, an image's or video's
 * `resolution`, audio's `sample_rate` / `channels` (and the deprecated
 * `rate`). Exactly one of data and uri; data must be base64 (checked here,
 * decoded by core/media.c); the mime type, when given, must be of the
 * content's kind (core/filecheck.h's lists). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/api_int.h"
#include "core/filecheck.h"
#include "lib/b64.h"
#include "lib/util.h"

static const struct {
    const char *type;
    ia_content_kind kind;
    ia_media_kind mk;
} KINDS[] = {
    {"image", IA_CONTENT_IMAGE, IA_MEDIA_IMAGE},
    {"audio", IA_CONTENT_AUDIO, IA_MEDIA_AUDIO},
    {"video", IA_CONTENT_VIDEO, IA_MEDIA_VIDEO},
    {"document", IA_CONTENT_DOCUMENT, IA_MEDIA_DOCUMENT},
};

bool ia_api_is_media_type(const char *t) {
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        if (!strcmp(t, KINDS[i].type)) return true;
    return false;
}

static const char *const RESOLUTIONS[] = {"low", "medium", "high", "ultra_high"};

static int check_mime(const char *mime, size_t k, const char *p, ia_err *err) {
    char base[64];
    ia_media_kind mk = ia_filecheck_kind(mime, base);
    /* a document may be any text type too (text/plain, text/markdown, ...) */
    if (mk == KINDS[k].mk || (KINDS[k].kind == IA_CONTENT_DOCUMENT && mk == IA_MEDIA_TEXT)) return 0;
    return ia_fail(err, IA_EINVALID, "%s: '%s' is not %s %s type%s", p, mime,
                   KINDS[k].type[0] == 'i' || KINDS[k].type[0] == 'a' ? "an" : "a", KINDS[k].type,
                   KINDS[k].kind == IA_CONTENT_DOCUMENT ? " (application/pdf or a text type)" : "");
}

static int get_int(json_t *v, const char *p, int64_t lo, int64_t hi, int64_t *out, ia_err *err) {
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return ia_fail(err, IA_EINVALID, "%s: expected an integer from %lld to %lld", p, (long long)lo,
                       (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int field(json_t *v, const char *key, const char *p, size_t k, ia_content *c, ia_err *err) {
    bool visual = KINDS[k].kind == IA_CONTENT_IMAGE || KINDS[k].kind == IA_CONTENT_VIDEO;
    bool audio = KINDS[k].kind == IA_CONTENT_AUDIO;
    if (!strcmp(key, "data") || !strcmp(key, "uri") || !strcmp(key, "mime_type") ||
        (visual && !strcmp(key, "resolution"))) {
        if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", p);
        const char *s = json_string_value(v);
        if (!strcmp(key, "data")) {
            size_t bad = 0;
            if (ia_b64_decode(s, json_string_length(v), NULL, NULL, &bad) < 0)
                return ia_fail(err, IA_EINVALID, "%s: not valid base64 (%s %zu); send the file's bytes base64-encoded",
                               p, bad < json_string_length(v) ? "bad character at offset" : "truncated: length",
                               bad < json_string_length(v) ? bad : json_string_length(v));
            c->text = ia_strdup(s);
        } else if (!strcmp(key, "uri")) {
            if (!*s) return ia_fail(err, IA_EINVALID, "%s: empty", p);
            c->uri = ia_strdup(s);
        } else if (!strcmp(key, "mime_type")) {
            if (check_mime(s, k, p, err) < 0) return -1;
            c->mime_type = ia_strdup(s);
        } else {
            size_t i = 0;
            while (i < 4 && strcmp(s, RESOLUTIONS[i])) i++;
            if (i == 4)
                return ia_fail(err, IA_EINVALID, "%s: expected low, medium, high or ultra_high, got '%s'", p, s);
            c->resolution = ia_strdup(s);
        }
        return 0;
    }
    if (audio && (!strcmp(key, "sample_rate") || !strcmp(key, "rate")))
        return get_int(v, p, 1, 1000000, &c->sample_rate, err);
    if (audio && !strcmp(key, "channels")) return get_int(v, p, 1, 64, &c->channels, err);
    return ia_fail(err, IA_EINVALID, "unknown field '%s'", p);
}

int ia_api_decode_media(json_t *o, const char *path, ia_turn *turn, ia_err *err) {
    const char *t = json_string_value(json_object_get(o, "type"));
    size_t k = 0;
    while (k < sizeof KINDS / sizeof *KINDS && strcmp(t, KINDS[k].type)) k++;
    if (k == sizeof KINDS / sizeof *KINDS) return ia_fail(err, IA_EINVALID, "%s: unknown content type", path);
    ia_content c = {.kind = KINDS[k].kind};
    char p[IA_API_PATH_MAX];
    const char *key;
    json_t *v;
    int rc = 0;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "type") || json_is_null(v)) continue;
        snprintf(p, sizeof p, "%s.%s", path, key);
        if ((rc = field(v, key, p, k, &c, err)) < 0) break;
    }
    if (!rc && !c.text == !c.uri)
        rc = ia_fail(err, IA_EINVALID, c.text ? "%s: give data or uri, not both"
                                              : "%s: %s content needs data (base64) or uri (a URL or a Files API URI)",
                     path, KINDS[k].type);
    if (rc < 0) {
        free(c.text);
        free(c.uri);
        free(c.mime_type);
        free(c.resolution);
        return -1;
    }
    c.path = ia_strdup(path);
    turn->items = ia_xrealloc(turn->items, (turn->n + 1) * sizeof *turn->items);
    turn->items[turn->n++] = c;
    return 0;
}

json_t *ia_api_media_json(const ia_content *c) {
    json_t *o = json_object();
    const char *type = "image";
    for (size_t k = 0; k < sizeof KINDS / sizeof *KINDS; k++)
        if (KINDS[k].kind == c->kind) type = KINDS[k].type;
    json_object_set_new(o, "type", json_string(type));
    if (c->text) json_object_set_new(o, "data", ia_api_jstr(c->text));
    if (c->uri) json_object_set_new(o, "uri", ia_api_jstr(c->uri));
    if (c->mime_type) json_object_set_new(o, "mime_type", ia_api_jstr(c->mime_type));
    if (c->resolution) json_object_set_new(o, "resolution", ia_api_jstr(c->resolution));
    if (c->sample_rate) json_object_set_new(o, "sample_rate", json_integer(c->sample_rate));
    if (c->channels) json_object_set_new(o, "channels", json_integer(c->channels));
    return o;
}
