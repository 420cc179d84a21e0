/* rformat: the form of the output a create request asks for —
 * `response_format` with the deprecated top-level `response_mime_type`
 * beside it (structured output), and `response_modalities`. Three shapes of
 * response_format reach
 * the server, and both dialects take all three:
 *   - a bare JSON Schema (the guide's and SDK 1.x's form; JSON implied);
 *   - one typed format, {type: "text", mime_type?, schema?} (SDK 2.x / 3.x);
 *   - a list of typed formats, at most one per output type (SDK 3.x's
 *     `ResponseFormat | ResponseFormat[]`).
 * A text format that asks for JSON (a schema, or mime_type application/json)
 * goes through the very schema check and grammar of the bare schema; a text
 * format with text/plain (or no mime type) and no schema is plain text. The
 * image, audio and video formats carry output settings: their fields are
 * checked as strictly as any other field (a typo is named now, not when that
 * output arrives). An image format's settings are kept (ia_rformat.image)
 * and ask for an image output (ia_request.modalities), which core routes to an
 * upstream engine (src/upstream/) or refuses naming --upstream; an audio
 * format's settings are kept too (ia_rformat.audio, resolved by
 * src/speech/audiofmt.h) and ask for speech output; the video format is
 * refused as an output this server does not serve yet — never as an
 * unknown type. generation_config.image_config (both dialects;
 * deprecated in SDK 3.x for the image format) is read here too. The order
 * of the answers is fixed: each entry's own fields and a repeated output
 * type first (list order), then a text format at odds with itself or
 * response_mime_type, then an output that is not served. */
#include "api/api.h"
#include "api/api_int.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "schema/schema.h"
#include "speech/audiofmt.h"

#define PATH_LEN IA_API_PATH_MAX
/* One per output type, and the entry being checked: a list is refused at
 * its first repeat, so no more are ever held. */
#define MAX_ENTRIES 5

/* Formats a field path; a pathological key is cut short, which only
 * shortens the message that names it. */
__attribute__((format(printf, 2, 3))) static void mkpath(char p[PATH_LEN], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, PATH_LEN, fmt, ap);
    va_end(ap);
}

/* ---- the output formats' settings (SDK 3.3.0's typings) ------------------ */

/* V_ENUM_CI: an enum read in any case and kept in the list's spelling (the
 * guide writes image_size "2k", the typings "2K"). */
typedef enum { V_ENUM, V_ENUM_CI, V_MIME, V_POSINT, V_STRING } value_kind;

typedef struct field_rule {
    const char *name;
    value_kind kind;
    const char *const *values; /* V_ENUM: the accepted values, NULL-ended */
} field_rule;

static const char *const IMAGE_RATIOS[] = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16",
                                           "16:9", "21:9", "1:8", "8:1", "1:4", "4:1", NULL};
static const char *const IMAGE_SIZES[] = {"512", "1K", "2K", "4K", NULL};
static const char *const DELIVERY[] = {"inline", "uri", NULL};
static const char *const VIDEO_RATIOS[] = {"16:9", "9:16", NULL};
static const char *const VIDEO_RESOLUTIONS[] = {"360p", "720p", "1080p", "4k", NULL};

static const field_rule IMAGE_FIELDS[] = {
    {"aspect_ratio", V_ENUM, IMAGE_RATIOS}, {"image_size", V_ENUM_CI, IMAGE_SIZES},
    {"mime_type", V_MIME, NULL},            {"delivery", V_ENUM, DELIVERY},
    {NULL, V_STRING, NULL},
};
/* generation_config.image_config: SDK 3.3.0's ImageConfig has these two. */
static const field_rule IMAGE_CONFIG_FIELDS[] = {
    {"aspect_ratio", V_ENUM, IMAGE_RATIOS}, {"image_size", V_ENUM_CI, IMAGE_SIZES}, {NULL, V_STRING, NULL},
};
/* What an upstream engine is asked for and passed through (upstream/images.h). */
static const char *const IMAGE_MIMES[] = {"image/png", "image/jpeg", "image/webp", NULL};
static const field_rule AUDIO_FIELDS[] = {
    {"sample_rate", V_POSINT, NULL}, {"bit_rate", V_POSINT, NULL},
    {"mime_type", V_MIME, NULL},     {"delivery", V_ENUM, DELIVERY},
    {NULL, V_STRING, NULL},
};
/* No mime_type: SDK 3.3.0's VideoResponseFormat has none (the video's
 * container is not the client's to pick), so one is an unknown field. */
static const field_rule VIDEO_FIELDS[] = {
    {"aspect_ratio", V_ENUM, VIDEO_RATIOS}, {"resolution", V_ENUM, VIDEO_RESOLUTIONS},
    {"duration", V_STRING, NULL},           {"gcs_uri", V_STRING, NULL},
    {"delivery", V_ENUM, DELIVERY},         {NULL, V_STRING, NULL},
};
/* The text format's fields, for their names only: check_text_entry checks
 * their values itself. */
static const field_rule TEXT_FIELDS[] = {
    {"mime_type", V_MIME, NULL}, {"schema", V_STRING, NULL}, {NULL, V_STRING, NULL},
};

static const struct output_kind {
    const char *type;
    const field_rule *fields;
    const char *mime_example;
} OUTPUTS[] = {
    {"image", IMAGE_FIELDS, "image/jpeg"},
    {"audio", AUDIO_FIELDS, "audio/wav"},
    {"video", VIDEO_FIELDS, NULL},
};

static const struct output_kind *output_kind(const char *type) {
    for (size_t i = 0; i < sizeof OUTPUTS / sizeof *OUTPUTS; i++)
        if (strcmp(OUTPUTS[i].type, type) == 0) return &OUTPUTS[i];
    return NULL;
}

/* The SDKs' other spelling of these keys (their generateContent classes
 * are camelCase): named with the wire's, not only as unknown. */
static const struct {
    const char *seen, *spelled;
} CAMEL[] = {
    {"mimeType", "mime_type"},     {"aspectRatio", "aspect_ratio"}, {"imageSize", "image_size"},
    {"sampleRate", "sample_rate"}, {"bitRate", "bit_rate"},         {"gcsUri", "gcs_uri"},
    {"responseSchema", "schema"},  {"jsonSchema", "schema"},
};

static const field_rule *find_field(const field_rule *fields, const char *name) {
    while (fields->name && strcmp(fields->name, name) != 0) fields++;
    return fields->name ? fields : NULL;
}

/* A key the entry does not have; the other spelling of one it has is
 * pointed at its wire name (a video's mimeType is simply unknown). */
static int unknown_key(const char *path, const char *key, const field_rule *fields, ia_err *err) {
    for (size_t i = 0; i < sizeof CAMEL / sizeof *CAMEL; i++)
        if (strcmp(key, CAMEL[i].seen) == 0 && find_field(fields, CAMEL[i].spelled))
            return ia_fail(err, IA_EINVALID, "%s.%s: not a field here; it is spelled %s", path, key,
                           CAMEL[i].spelled);
    return ia_fail(err, IA_EINVALID, "unknown field '%s.%s'", path, key);
}

/* "'a', 'b', 'c'" for a message. */
static void list_values(const char *const *v, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; v[i] && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s'%s'", i ? ", " : "", v[i]);
}

/* A positive integer; 24000.0 counts (Python's json writes floats so). */
static bool positive_int(json_t *v) {
    if (json_is_integer(v)) return json_integer_value(v) > 0;
    if (!json_is_real(v)) return false;
    double d = json_real_value(v);
    return d == floor(d) && d >= 1 && d <= 1e12;
}

static int check_setting(const struct output_kind *k, const field_rule *f, json_t *v, const char *p,
                         ia_err *err) {
    if (f->kind == V_POSINT)
        return positive_int(v) ? 0 : ia_fail(err, IA_EINVALID, "%s: expected a positive integer", p);
    if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", p);
    const char *s = json_string_value(v);
    if (f->kind == V_MIME) {
        size_t n = strlen(k->type);
        if (strncmp(s, k->type, n) != 0 || s[n] != '/' || !s[n + 1])
            return ia_fail(err, IA_EINVALID, "%s: expected a MIME type %s/..., such as '%s', got '%s'", p,
                           k->type, k->mime_example, s);
        return 0;
    }
    if (f->kind == V_ENUM || f->kind == V_ENUM_CI) {
        for (size_t i = 0; f->values[i]; i++)
            if ((f->kind == V_ENUM ? strcmp : strcasecmp)(s, f->values[i]) == 0) return 0;
        char vals[256];
        list_values(f->values, vals, sizeof vals);
        return ia_fail(err, IA_EINVALID, "%s: expected one of %s, got '%s'", p, vals, s);
    }
    return *s ? 0 : ia_fail(err, IA_EINVALID, "%s: must not be empty", p);
}

/* The value of a checked enum field in its list's spelling ("2k" -> "2K"). */
static const char *canonical(const field_rule *f, const char *s) {
    for (size_t i = 0; f->values && f->values[i]; i++)
        if (strcasecmp(s, f->values[i]) == 0) return f->values[i];
    return s;
}

/* A checked image setting kept in img. mime_type must be one an engine is
 * asked for and passed through; delivery 'uri' would need a place to
 * keep images at a URL, which this server does not have. */
static int keep_image_setting(const field_rule *f, json_t *v, const char *p, ia_image_cfg *img, ia_err *err) {
    const char *s = json_string_value(v);
    if (!s) return 0; /* a number: no image field is one */
    if (strcmp(f->name, "mime_type") == 0) {
        const char *m = canonical(&(field_rule){"", V_ENUM_CI, IMAGE_MIMES}, s);
        if (m == s)
            return ia_fail(err, IA_EUNIMPLEMENTED,
                           "%s: '%s' is not produced here (image/png, image/jpeg or image/webp)", p, s);
        snprintf(img->mime_type, sizeof img->mime_type, "%s", m);
    } else if (strcmp(f->name, "delivery") == 0) {
        if (strcmp(s, "inline") != 0)
            return ia_fail(err, IA_EUNIMPLEMENTED,
                           "%s: '%s' delivery is not served (images come inline, as base64 data)", p, s);
        snprintf(img->delivery, sizeof img->delivery, "%s", s);
    } else if (strcmp(f->name, "aspect_ratio") == 0) {
        snprintf(img->aspect_ratio, sizeof img->aspect_ratio, "%s", s);
    } else if (strcmp(f->name, "image_size") == 0) {
        snprintf(img->image_size, sizeof img->image_size, "%s", canonical(f, s));
    }
    return 0;
}

/* An image / audio / video format's fields (or image_config's, with
 * fields given): each known one checked, any other refused. An image's
 * settings are kept in *img (NULL: audio and video, refused next). */
static int check_fields(const struct output_kind *k, const field_rule *fields, json_t *o, const char *path,
                        ia_image_cfg *img, ia_err *err) {
    const char *key;
    json_t *v;
    if (img) img->set = true;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "type") == 0 || json_is_null(v)) continue;
        const field_rule *f = find_field(fields, key);
        if (!f) return unknown_key(path, key, fields, err);
        char p[PATH_LEN];
        mkpath(p, "%s.%s", path, key);
        if (check_setting(k, f, v, p, err) < 0) return -1;
        if (img && keep_image_setting(f, v, p, img, err) < 0) return -1;
    }
    return 0;
}

int ia_api_decode_image_config(json_t *v, ia_image_cfg *out, ia_err *err) {
    const char *path = "generation_config.image_config";
    if (!json_is_object(v))
        return ia_fail(err, IA_EINVALID, "%s: expected an object ({aspect_ratio?, image_size?})", path);
    /* "type" is no field of image_config: named as unknown, not skipped */
    if (json_object_get(v, "type")) return ia_fail(err, IA_EINVALID, "unknown field '%s.type'", path);
    return check_fields(output_kind("image"), IMAGE_CONFIG_FIELDS, v, path, out, err);
}

/* ---- the text format ------------------------------------------------------ */

typedef struct entry {
    char path[PATH_LEN];
    const char *type;
    const char *mime; /* text: mime_type as given; NULL = absent */
    json_t *schema;   /* text: the schema as given; NULL = none */
    ia_image_cfg image; /* image: its settings */
    ia_audio_fmt audio; /* audio: its settings */
} entry;

static bool is_format_type(const char *t);

/* The audio format's checked fields kept as given; audiofmt.h judges
 * their values (keep_audio). */
static void keep_audio_settings(json_t *o, ia_audio_fmt *a) {
    a->set = true;
    json_t *v;
    if ((v = json_object_get(o, "mime_type")) && json_is_string(v))
        snprintf(a->mime_type, sizeof a->mime_type, "%s", json_string_value(v));
    if ((v = json_object_get(o, "delivery")) && json_is_string(v))
        snprintf(a->delivery, sizeof a->delivery, "%s", json_string_value(v));
    if ((v = json_object_get(o, "sample_rate")) && json_is_number(v)) a->sample_rate = (int64_t)json_number_value(v);
    if ((v = json_object_get(o, "bit_rate")) && json_is_number(v)) a->bit_rate = (int64_t)json_number_value(v);
}

static int check_output_entry(const struct output_kind *k, json_t *o, entry *e, ia_err *err) {
    bool image = strcmp(k->type, "image") == 0;
    if (check_fields(k, k->fields, o, e->path, image ? &e->image : NULL, err) < 0) return -1;
    if (strcmp(k->type, "audio") == 0) keep_audio_settings(o, &e->audio);
    return 0;
}

/* A text format's schema that is itself a typed format (the format wrapped
 * twice): named as misplaced, where the schema check would call its type
 * an unknown JSON type. */
static int check_not_a_format(json_t *schema, const char *p, ia_err *err) {
    json_t *type = json_object_get(schema, "type");
    if (!json_is_string(type) || !is_format_type(json_string_value(type))) return 0;
    return ia_fail(err, IA_EINVALID,
                   "%s: this is a response format (type '%s'), not a JSON Schema; put the schema itself "
                   "here ({type: 'object', properties: {...}}), without wrapping it in another format",
                   p, json_string_value(type));
}

static int check_text_entry(json_t *o, entry *e, ia_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "type") == 0 || json_is_null(v)) continue;
        char p[PATH_LEN];
        mkpath(p, "%s.%s", e->path, key);
        if (strcmp(key, "mime_type") == 0) {
            if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", p);
            e->mime = json_string_value(v);
            if (strcmp(e->mime, "application/json") && strcmp(e->mime, "text/plain"))
                return ia_fail(err, IA_EUNIMPLEMENTED,
                               "%s: '%s' is not supported (text/plain or application/json)", p, e->mime);
        } else if (strcmp(key, "schema") == 0) {
            if (!json_is_object(v)) return ia_fail(err, IA_EINVALID, "%s: expected a JSON Schema object", p);
            if (check_not_a_format(v, p, err) < 0) return -1;
            e->schema = v;
        } else {
            return unknown_key(e->path, key, TEXT_FIELDS, err);
        }
    }
    return 0;
}

static bool is_format_type(const char *t) {
    return strcmp(t, "text") == 0 || output_kind(t) != NULL;
}

static bool is_schema_type(const char *t) {
    static const char *const types[] = {"object", "array", "string", "number", "integer", "boolean", "null"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (strcmp(t, types[i]) == 0) return true;
    return false;
}

/* One typed format at e->path: its type, then its own fields. */
static int check_entry(json_t *o, entry *e, ia_err *err) {
    if (!json_is_object(o))
        return ia_fail(err, IA_EINVALID,
                       "%s: expected a response format object ({type: 'text'|'image'|'audio'|'video', ...})",
                       e->path);
    json_t *type = json_object_get(o, "type");
    if (!type || json_is_null(type))
        return ia_fail(err, IA_EINVALID, "%s.type: required ('text', 'image', 'audio' or 'video')", e->path);
    if (!json_is_string(type)) return ia_fail(err, IA_EINVALID, "%s.type: expected a string", e->path);
    e->type = json_string_value(type);
    if (is_schema_type(e->type))
        return ia_fail(err, IA_EINVALID,
                       "%s.type: '%s' is a JSON Schema type; in a list each entry is a typed format: "
                       "{type: 'text', mime_type: 'application/json', schema: {...}}", e->path, e->type);
    if (!is_format_type(e->type))
        return ia_fail(err, IA_EINVALID,
                       "%s.type: unknown format type '%s' (expected 'text', 'image', 'audio' or 'video')",
                       e->path, e->type);
    if (strcmp(e->type, "text") == 0) return check_text_entry(o, e, err);
    return check_output_entry(output_kind(e->type), o, e, err);
}

/* ---- response_mime_type, response_modalities --------------------------------- */

/* "text/plain" and ["text"] ask for what is served anyway, so they are
 * accepted; JSON is structured output; anything else is a later issue's. */
int ia_api_rformat_check_mime(json_t *v, const char **out, ia_err *err) {
    if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "response_mime_type: expected a string");
    *out = json_string_value(v);
    if (strcmp(*out, "text/plain") && strcmp(*out, "application/json"))
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "response_mime_type: '%s' is not supported (text/plain or application/json)", *out);
    return 0;
}

/* Which outputs this process serves: text; images, which core routes to
 * an upstream engine by model name (a model without one is core's 400
 * naming --upstream); audio, from the embedded speech engine (src/speech/).
 * Tests turn audio off to see the refusal a server without it gives. */
#define IA_SERVED_ALWAYS (IA_MOD_BIT_TEXT | IA_MOD_BIT_IMAGE)
static _Atomic unsigned served = IA_SERVED_ALWAYS | IA_MOD_BIT_AUDIO;

void ia_api_serve_outputs(unsigned bits) { served = bits | IA_SERVED_ALWAYS; }

unsigned ia_api_served_outputs(void) { return served; }

/* Either case: the guide writes ["AUDIO"], the SDKs' typings 'audio'. A
 * modality given twice is the same ask (folded). */
int ia_api_decode_modalities(json_t *v, unsigned *bits, ia_err *err) {
    const char *path = "response_modalities";
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected an array of strings", path);
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) {
        if (!json_is_string(m)) return ia_fail(err, IA_EINVALID, "%s[%zu]: expected a string", path, i);
        int k = 0;
        while (k < IA_N_MODALITIES && strcasecmp(json_string_value(m), ia_modality_name(k)) != 0) k++;
        if (k == IA_N_MODALITIES)
            return ia_fail(err, IA_EINVALID,
                           "%s[%zu]: expected one of 'text', 'image', 'audio', 'video', 'document' (in any case)",
                           path, i);
        *bits |= 1u << k;
    }
    return 0;
}

int ia_api_check_outputs(const ia_request *r, json_t *modalities, ia_err *err) {
    unsigned on = served;
    size_t i;
    json_t *m;
    json_array_foreach(modalities, i, m) {
        for (int k = 0; k < IA_N_MODALITIES; k++)
            if (strcasecmp(json_string_value(m), ia_modality_name(k)) == 0 && !(on & (1u << k)))
                return ia_fail(err, IA_EUNIMPLEMENTED, "response_modalities[%zu]: '%s' output is not supported yet",
                               i, ia_modality_name(k));
    }
    if (!r->gen.speech.n) return 0;
    if (!(on & IA_MOD_BIT_AUDIO))
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "generation_config.speech_config: speech output is not supported yet by this server");
    if (!(r->modalities & IA_MOD_BIT_AUDIO))
        return ia_fail(err, IA_EINVALID,
                       "generation_config.speech_config: speech settings, but response_modalities does not ask "
                       "for 'audio'; add it (response_modalities: ['AUDIO']) or leave speech_config out");
    return 0;
}

/* ---- the shapes --------------------------------------------------------------- */

int ia_api_rformat_check_shape(json_t *v, ia_err *err) {
    if (json_is_array(v) && json_array_size(v) == 0)
        return ia_fail(err, IA_EINVALID,
                       "response_format: an empty list; give at least one format, or leave the field out");
    if (json_is_object(v) || json_is_array(v)) return 0;
    return ia_fail(err, IA_EINVALID,
                   "response_format: expected a JSON Schema object, a response format ({type: 'text', "
                   "mime_type, schema}) or a list of response formats");
}

/* Is this one object a typed format rather than a bare JSON Schema? A
 * format's type names an output; a schema's a JSON type (or a list of
 * them, or none). Anything else is named here: before typed formats
 * existed, a type such as 'text' read as a misspelt schema type. */
static int single_is_typed(json_t *o, bool *typed, ia_err *err) {
    json_t *type = json_object_get(o, "type");
    *typed = false;
    if (json_is_string(type)) {
        const char *t = json_string_value(type);
        if (is_format_type(t)) {
            *typed = true;
            return 0;
        }
        if (!is_schema_type(t))
            return ia_fail(err, IA_EINVALID,
                           "response_format.type: unknown type '%s' (a response format's type is 'text', "
                           "'image', 'audio' or 'video'; a JSON Schema's is 'object', 'array', 'string', "
                           "'number', 'integer', 'boolean' or 'null')", t);
        return 0;
    }
    if (!type && (json_object_get(o, "schema") || json_object_get(o, "mime_type")))
        return ia_fail(err, IA_EINVALID,
                       "response_format.type: required ('text' for a text format with mime_type and schema)");
    return 0;
}

/* The entries of a typed response_format, in order, each checked alone and
 * against the ones before it (one per output type). */
static int collect(json_t *rf, entry *es, size_t *n, ia_err *err) {
    size_t count = json_is_array(rf) ? json_array_size(rf) : 1;
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        entry *e = &es[*n];
        memset(e, 0, sizeof *e);
        if (json_is_array(rf)) mkpath(e->path, "response_format[%zu]", i);
        else mkpath(e->path, "response_format");
        if (check_entry(json_is_array(rf) ? json_array_get(rf, i) : rf, e, err) < 0) return -1;
        for (size_t k = 0; k < *n; k++)
            if (strcmp(es[k].type, e->type) == 0)
                return ia_fail(err, IA_EINVALID,
                               "%s: a second '%s' format (%s is one already); give one format per output type",
                               e->path, e->type, es[k].path);
        (*n)++; /* one per known type at most: MAX_ENTRIES is never passed */
    }
    return 0;
}

/* The grammar for JSON under schema ({} asks for any JSON object), checked
 * and converted as src/schema/ does for every schema; path names it. */
static int json_grammar(json_t *schema, const char *path, ia_request *r, ia_err *err) {
    json_t *any = schema ? NULL : json_object();
    json_t *prep = ia_schema_prepare(schema ? schema : any, path, err);
    json_decref(any);
    if (!prep) return -1;
    r->grammar = ia_schema_grammar(prep, path, err);
    r->response_format = r->grammar ? json_dumps(prep, JSON_COMPACT) : NULL;
    json_decref(prep);
    return r->grammar ? 0 : -1;
}

/* The text format with response_mime_type: one MIME type, given in either
 * place (the format's wins only when they agree), and a schema only for
 * JSON. */
static int apply_text(const entry *e, const char *mime, bool listed, ia_request *r, ia_err *err) {
    if (e->mime && mime && strcmp(e->mime, mime) != 0)
        return ia_fail(err, IA_EINVALID,
                       "response_mime_type: '%s' contradicts %s.mime_type '%s'; give the MIME type once, "
                       "in the format", mime, e->path, e->mime);
    const char *m = e->mime ? e->mime : mime;
    if (e->schema && m && strcmp(m, "text/plain") == 0)
        return ia_fail(err, IA_EINVALID,
                       "%s.schema: a JSON Schema asks for JSON, but %s is 'text/plain'; set it to "
                       "'application/json', or leave the schema out for plain text",
                       e->path, e->mime ? "mime_type" : "response_mime_type");
    if (e->schema || (m && strcmp(m, "application/json") == 0)) {
        char p[PATH_LEN];
        mkpath(p, "%s.schema", e->path);
        if (json_grammar(e->schema, p, r, err) < 0) return -1;
    }
    r->rformat.shape = listed ? IA_RFORMAT_TEXT_LIST : IA_RFORMAT_TEXT;
    r->rformat.mime_type = e->mime ? ia_strdup(e->mime) : NULL;
    r->rformat.schema = e->schema ? json_dumps(e->schema, JSON_COMPACT) : NULL;
    return 0;
}

/* The image format: its settings for the echo and the engine, an image
 * output asked for, and for a list the entries' order (rformat.list). */
static void keep_image(const entry *es, size_t n, const entry *img, bool listed, ia_request *r) {
    r->rformat.image = img->image;
    r->modalities |= IA_MOD_BIT_IMAGE;
    if (!listed) {
        r->rformat.shape = IA_RFORMAT_IMAGE;
        return;
    }
    r->rformat.shape = IA_RFORMAT_TEXT_LIST;
    for (size_t i = 0, k = 0; i < n && k + 1 < sizeof r->rformat.list; i++)
        r->rformat.list[k++] = es[i].type[0]; /* 't', 'i' or 'a': the three kept */
}

/* The audio format: speech output asked for, in the format it names
 * (checked here, so a bad rate is a 400 before the run), kept for the
 * echo and the speech step. */
static int keep_audio(const entry *es, size_t n, const entry *au, bool listed, ia_request *r, ia_err *err) {
    if (!(served & IA_MOD_BIT_AUDIO))
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s: speech output is not supported by this server", au->path);
    ia_audio_spec spec;
    if (ia_audio_spec_resolve(&au->audio, au->path, &spec, err) < 0) return -1;
    r->rformat.audio = au->audio;
    r->modalities |= IA_MOD_BIT_AUDIO;
    if (!listed) {
        if (r->rformat.shape == IA_RFORMAT_NONE) r->rformat.shape = IA_RFORMAT_AUDIO;
        return 0;
    }
    r->rformat.shape = IA_RFORMAT_TEXT_LIST;
    for (size_t i = 0, k = 0; i < n && k + 1 < sizeof r->rformat.list; i++)
        r->rformat.list[k++] = es[i].type[0];
    return 0;
}

static int decode_typed(json_t *rf, const char *mime, ia_request *r, ia_err *err) {
    entry es[MAX_ENTRIES];
    size_t n = 0;
    if (collect(rf, es, &n, err) < 0) return -1;
    const entry *text = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].type, "text") == 0) text = &es[i];
    if (text && apply_text(text, mime, json_is_array(rf), r, err) < 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].type, "video") == 0)
            return ia_fail(err, IA_EUNIMPLEMENTED,
                           "%s: the video format is not supported yet by this server; leave it out", es[i].path);
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].type, "image") == 0) keep_image(es, n, &es[i], json_is_array(rf), r);
    for (size_t i = 0; i < n; i++)
        if (strcmp(es[i].type, "audio") == 0 && keep_audio(es, n, &es[i], json_is_array(rf), r, err) < 0) return -1;
    return 0;
}

/* The bare JSON Schema and response_mime_type, as before typed formats:
 * JSON is implied by a schema; application/json alone asks for any JSON
 * object; text/plain beside a schema contradicts it. */
static int decode_bare(json_t *schema, const char *mime, ia_request *r, ia_err *err) {
    if (mime && strcmp(mime, "text/plain") == 0) {
        if (schema)
            return ia_fail(err, IA_EINVALID,
                           "response_mime_type: 'text/plain' contradicts response_format (a JSON "
                           "Schema asks for JSON: use 'application/json' or leave it out)");
        return 0;
    }
    if (!schema && !mime) return 0;
    if (json_grammar(schema, "response_format", r, err) < 0) return -1;
    if (schema) {
        r->rformat.shape = IA_RFORMAT_SCHEMA;
        r->rformat.schema = json_dumps(schema, JSON_COMPACT);
    }
    return 0;
}

int ia_api_decode_rformat(json_t *rf, const char *mime, ia_request *r, ia_err *err) {
    bool typed = json_is_array(rf);
    if (json_is_object(rf) && single_is_typed(rf, &typed, err) < 0) return -1;
    return typed ? decode_typed(rf, mime, r, err) : decode_bare(rf, mime, r, err);
}
