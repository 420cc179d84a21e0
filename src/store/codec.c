/* codec: the storage form of a conversation and of a turn, as neutral JSON.
 *
 * This is what the store keeps in the interactions.input / .output columns.
 * It is deliberately NOT the wire format: the wire has two dialects (legacy
 * `outputs`, steps `steps`) that api/ encodes from core types, while a stored
 * row must stay readable by every later build whichever dialect made it. The
 * shape is
 *
 *     conv: {"turns":[<turn>, ...]}
 *     turn: {"role":"user"|"model","items":[<item>, ...]}
 *     item: {"kind":"text","text":"..."}
 *         | {"kind":"function_call","id":"...","name":"...","arguments":"<JSON text>"}
 *         | {"kind":"function_result","call_id":"...","name":"..."?,
 *            "result":"<JSON text>","is_error":true?}
 *         | {"kind":"thought","reasoning":"...","signature":"...","hide_summary":true?}
 *
 * Every item names its kind, and each kind owns its own keys, so a later
 * content kind (function_call, thought, image, ...) is a new "kind" value with
 * new keys: old rows stay valid and no schema migration is needed. Decoding
 * ignores keys it does not know on a kind it knows (a newer build may have
 * added optional ones) but refuses a kind it does not know, because silently
 * dropping content from a conversation would corrupt the chain rebuilt from
 * it. Malformed input of any shape gives -1, never a crash.
 *
 * A request's generation_config (the interactions.gen_config column) is kept
 * the same way, as neutral JSON of the fields the client set:
 *
 *     {"temperature":0.7,"top_p":..,"top_k":..,"seed":..,
 *      "max_output_tokens":..,"stop_sequences":["..."],
 *      "speech_config":{"voice"?,"language"?,"speaker"?} | [{...}, ...],
 *      "image_config":{"aspect_ratio":"16:9"?,"image_size":"2K"?}}
 *
 * (speech_config in the shape the client gave it: one object or a list.)
 * A key it does not know is ignored (a newer build's field).
 *
 * A request's response_format (the interactions.response_format column),
 * kept for the steps dialect's echo, names the shape the client used and
 * the text format's fields as given:
 *
 *     {"shape":"schema"|"text"|"text_list"|"image","mime_type":"..."?,
 *      "schema":"<JSON text>"?,"image":{<image settings>}?,"list":"ti"?}
 *
 * (image: the image format's settings, as image_config's plus mime_type
 * and delivery; list: a list's entry types in order, 't' text, 'i' image,
 * absent for a list of the text format alone.)
 *
 * A shape it does not know (a newer build's) reads as none: the field is
 * only echoed, so a GET answers without it rather than failing.
 *
 * The events table's texts (a content event's part) have their own neutral
 * JSON, documented in codec_events.c. */
#include "store/store.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdio.h>

#include "lib/util.h"

/* ---- kind names ---------------------------------------------------------- */

static const char *role_name(ia_role r) { return r == IA_ROLE_MODEL ? "model" : "user"; }

static int role_parse(const char *s, ia_role *out) {
    if (strcmp(s, "user") == 0) { *out = IA_ROLE_USER; return 0; }
    if (strcmp(s, "model") == 0) { *out = IA_ROLE_MODEL; return 0; }
    return -1;
}

/* Stable names for stored content kinds: the store never persists enum
 * numbers, so reordering the enum cannot reinterpret old rows. */
const char *ia_codec_content_kind_name(ia_content_kind k) {
    switch (k) {
    case IA_CONTENT_TEXT: return "text";
    case IA_CONTENT_FUNCTION_CALL: return "function_call";
    case IA_CONTENT_FUNCTION_RESULT: return "function_result";
    case IA_CONTENT_THOUGHT: return "thought";
    case IA_CONTENT_IMAGE: return "image";
    case IA_CONTENT_AUDIO: return "audio";
    case IA_CONTENT_VIDEO: return "video";
    case IA_CONTENT_DOCUMENT: return "document";
    case IA_CONTENT_TOOL_CALL: return "tool_call";
    case IA_CONTENT_TOOL_RESULT: return "tool_result";
    }
    return NULL;
}

int ia_codec_content_kind_parse(const char *s) {
    if (!s) return -1;
    if (strcmp(s, "text") == 0) return IA_CONTENT_TEXT;
    if (strcmp(s, "function_call") == 0) return IA_CONTENT_FUNCTION_CALL;
    if (strcmp(s, "function_result") == 0) return IA_CONTENT_FUNCTION_RESULT;
    if (strcmp(s, "thought") == 0) return IA_CONTENT_THOUGHT;
    if (strcmp(s, "image") == 0) return IA_CONTENT_IMAGE;
    if (strcmp(s, "audio") == 0) return IA_CONTENT_AUDIO;
    if (strcmp(s, "video") == 0) return IA_CONTENT_VIDEO;
    if (strcmp(s, "document") == 0) return IA_CONTENT_DOCUMENT;
    if (strcmp(s, "tool_call") == 0) return IA_CONTENT_TOOL_CALL;
    if (strcmp(s, "tool_result") == 0) return IA_CONTENT_TOOL_RESULT;
    return -1;
}

/* ---- encode -------------------------------------------------------------- */

/* A media item's fields, each only when set. */
static int media_to_json(const ia_content *c, json_t *item) {
    const char *keys[] = {"data", "uri", "mime_type", "resolution", "fetched"};
    const char *vals[] = {c->text, c->uri, c->mime_type, c->resolution, c->fetched};
    for (size_t i = 0; i < 5; i++)
        if (vals[i] && json_object_set_new(item, keys[i], json_string(vals[i])) != 0) return -1;
    if (c->sample_rate && json_object_set_new(item, "sample_rate", json_integer(c->sample_rate)) != 0) return -1;
    if (c->channels && json_object_set_new(item, "channels", json_integer(c->channels)) != 0) return -1;
    return 0;
}

static int media_from_json(json_t *item, ia_content_kind k, ia_turn *t) {
    const char *keys[] = {"data", "uri", "mime_type", "resolution", "fetched"};
    ia_content c = {.kind = k};
    char **dst[] = {&c.text, &c.uri, &c.mime_type, &c.resolution, &c.fetched};
    for (size_t i = 0; i < 5; i++) {
        json_t *v = json_object_get(item, keys[i]);
        if (v && !json_is_string(v)) {
            for (size_t q = 0; q < i; q++) free(*dst[q]);
            return -1;
        }
        *dst[i] = v ? ia_strdup(json_string_value(v)) : NULL;
    }
    c.sample_rate = json_integer_value(json_object_get(item, "sample_rate"));
    c.channels = json_integer_value(json_object_get(item, "channels"));
    t->items = ia_xrealloc(t->items, (t->n + 1) * sizeof *t->items);
    t->items[t->n++] = c;
    return 0;
}

/* A built-in tool's call or result: the tool by name, the strings each
 * only when set (the payload, JSON text, as a string like a function's). */
static int tool_to_json(const ia_content *c, json_t *item) {
    bool call = c->kind == IA_CONTENT_TOOL_CALL;
    const char *keys[] = {"tool", call ? "id" : "call_id", "name", "server_name", "search_type",
                          call ? "arguments" : "result", "read"};
    const char *vals[] = {ia_builtin_name(c->tool), c->id ? c->id : "", c->name, c->server_name, c->search_type,
                          c->text ? c->text : (call ? "{}" : "null"), c->fetched};
    if (!vals[0]) return -1;
    for (size_t i = 0; i < 7; i++)
        if (vals[i] && json_object_set_new(item, keys[i], json_string(vals[i])) != 0) return -1;
    if (c->is_error && json_object_set_new(item, "is_error", json_true()) != 0) return -1;
    return 0;
}

static int tool_from_json(json_t *item, ia_content_kind k, ia_turn *t) {
    bool call = k == IA_CONTENT_TOOL_CALL;
    const char *keys[] = {"tool", call ? "id" : "call_id", "name", "server_name", "search_type",
                          call ? "arguments" : "result"};
    const char *v[6];
    for (size_t i = 0; i < 6; i++) {
        json_t *j = json_object_get(item, keys[i]);
        if (j && !json_is_string(j)) return -1;
        v[i] = j ? json_string_value(j) : NULL;
    }
    int tool = ia_builtin_parse(v[0]);
    if (tool < 0 || !v[1] || !v[5]) return -1;
    ia_content *c = call ? ia_turn_add_tool_call(t, (ia_builtin)tool, v[1], v[2], v[5])
                         : ia_turn_add_tool_result(t, (ia_builtin)tool, v[1], v[2], v[5],
                                                   json_is_true(json_object_get(item, "is_error")));
    c->server_name = v[3] ? ia_strdup(v[3]) : NULL;
    c->search_type = v[4] ? ia_strdup(v[4]) : NULL;
    json_t *read = json_object_get(item, "read"); /* what the model read of a result (a page's text) */
    if (read && !json_is_string(read)) return -1;
    c->fetched = read ? ia_strdup(json_string_value(read)) : NULL;
    return 0;
}

/* Citations: [{url, start, end, title?}] (on a text item, and as a text
 * block's citations event, codec_events.c). NULL when one cannot be
 * encoded. */
json_t *ia_codec_annotations_json(const ia_annotation *a, size_t n) {
    json_t *l = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:I, s:I}", "url", a[i].url ? a[i].url : "", "start", (json_int_t)a[i].start,
                              "end", (json_int_t)a[i].end);
        if (o && a[i].title) json_object_set_new(o, "title", json_string(a[i].title));
        if (o && a[i].place_id) json_object_set_new(o, "place_id", json_string(a[i].place_id));
        if (o && a[i].file) json_object_set_new(o, "file", json_true());
        if (!o || json_array_append_new(l, o) != 0) {
            json_decref(l);
            return NULL;
        }
    }
    return l;
}

static int annotations_to_json(const ia_content *c, json_t *item) {
    if (!c->n_annotations) return 0;
    json_t *a = ia_codec_annotations_json(c->annotations, c->n_annotations);
    return a ? json_object_set_new(item, "annotations", a) : -1;
}

int ia_codec_annotations_from_json(json_t *a, ia_content *c) {
    if (!a) return 0;
    if (!json_is_array(a)) return -1;
    c->annotations = ia_xcalloc(json_array_size(a) ? json_array_size(a) : 1, sizeof *c->annotations);
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o) {
        json_t *url = json_object_get(o, "url"), *title = json_object_get(o, "title");
        json_t *place = json_object_get(o, "place_id");
        if (!json_is_string(url) || (title && !json_is_string(title)) || (place && !json_is_string(place))) return -1;
        ia_annotation *n = &c->annotations[c->n_annotations++];
        n->url = ia_strdup(json_string_value(url));
        n->title = title ? ia_strdup(json_string_value(title)) : NULL;
        n->place_id = place ? ia_strdup(json_string_value(place)) : NULL;
        n->file = json_is_true(json_object_get(o, "file"));
        n->start = json_integer_value(json_object_get(o, "start"));
        n->end = json_integer_value(json_object_get(o, "end"));
    }
    return 0;
}

/* Builds the JSON object of one turn; NULL when an item cannot be encoded
 * (e.g. text that is not valid UTF-8, which jansson refuses). */
static json_t *turn_to_json(const ia_turn *t) {
    json_t *items = json_array();
    json_t *obj = json_object();
    if (!items || !obj) goto fail;
    for (size_t i = 0; i < t->n; i++) {
        const ia_content *c = &t->items[i];
        const char *kind = ia_codec_content_kind_name(c->kind);
        if (!kind) goto fail;
        json_t *item = json_object();
        if (!item || json_array_append_new(items, item) != 0) goto fail;
        if (json_object_set_new(item, "kind", json_string(kind)) != 0) goto fail;
        switch (c->kind) {
        case IA_CONTENT_TEXT: {
            const char *txt = c->text ? c->text : "";
            json_t *s = json_stringn(txt, strlen(txt));
            if (!s || json_object_set_new(item, "text", s) != 0) goto fail;
            if (annotations_to_json(c, item) != 0) goto fail;
            break;
        }
        case IA_CONTENT_FUNCTION_CALL:
        case IA_CONTENT_FUNCTION_RESULT: {
            bool call = c->kind == IA_CONTENT_FUNCTION_CALL;
            json_t *id = json_string(c->id ? c->id : "");
            json_t *payload = json_string(c->text ? c->text : (call ? "{}" : "\"\""));
            if (!id || json_object_set_new(item, call ? "id" : "call_id", id) != 0) {
                json_decref(payload);
                goto fail;
            }
            if (c->name && json_object_set_new(item, "name", json_string(c->name)) != 0) {
                json_decref(payload);
                goto fail;
            }
            if (!payload || json_object_set_new(item, call ? "arguments" : "result", payload) != 0) goto fail;
            if (!call && c->is_error && json_object_set_new(item, "is_error", json_true()) != 0) goto fail;
            break;
        }
        case IA_CONTENT_THOUGHT: {
            json_t *r = json_string(c->text ? c->text : "");
            json_t *sg = json_string(c->signature ? c->signature : "");
            if (!r || json_object_set_new(item, "reasoning", r) != 0) {
                json_decref(sg);
                goto fail;
            }
            if (!sg || json_object_set_new(item, "signature", sg) != 0) goto fail;
            if (c->hide_summary && json_object_set_new(item, "hide_summary", json_true()) != 0) goto fail;
            break;
        }
        case IA_CONTENT_IMAGE:
        case IA_CONTENT_AUDIO:
        case IA_CONTENT_VIDEO:
        case IA_CONTENT_DOCUMENT:
            if (media_to_json(c, item) != 0) goto fail;
            break;
        case IA_CONTENT_TOOL_CALL:
        case IA_CONTENT_TOOL_RESULT:
            if (tool_to_json(c, item) != 0) goto fail;
            break;
        }
    }
    if (json_object_set_new(obj, "role", json_string(role_name(t->role))) != 0) goto fail;
    if (json_object_set_new(obj, "items", items) != 0) { items = NULL; goto fail; }
    return obj;
fail:
    json_decref(items);
    json_decref(obj);
    return NULL;
}

/* Compact UTF-8 text of j (consumed); NULL on failure. json_dumps allocates
 * with malloc (jansson's default allocator), so callers free() the result. */
static char *dump_and_release(json_t *j) {
    if (!j) return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

char *ia_codec_turn_encode(const ia_turn *t) {
    if (!t) return NULL;
    return dump_and_release(turn_to_json(t));
}

char *ia_codec_conv_encode(const ia_conv *c) {
    if (!c) return NULL;
    json_t *turns = json_array();
    json_t *root = json_object();
    if (!turns || !root) goto fail;
    for (size_t i = 0; i < c->n; i++) {
        json_t *t = turn_to_json(&c->turns[i]);
        if (!t || json_array_append_new(turns, t) != 0) goto fail;
    }
    if (json_object_set_new(root, "turns", turns) != 0) { turns = NULL; goto fail; }
    return dump_and_release(root);
fail:
    json_decref(turns);
    json_decref(root);
    return NULL;
}

/* ---- decode -------------------------------------------------------------- */

/* Fills t (zeroed by the caller) from a turn object; -1 on any malformation,
 * leaving whatever was added for the caller to free. */
static int turn_from_json(json_t *obj, ia_turn *t) {
    if (!json_is_object(obj)) return -1;
    json_t *role = json_object_get(obj, "role");
    json_t *items = json_object_get(obj, "items");
    if (!json_is_string(role) || role_parse(json_string_value(role), &t->role) != 0) return -1;
    /* A turn with no items may omit the key: nothing is lost either way. */
    if (items && !json_is_array(items)) return -1;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (!json_is_object(item)) return -1;
        json_t *kind = json_object_get(item, "kind");
        if (!json_is_string(kind)) return -1;
        int k = ia_codec_content_kind_parse(json_string_value(kind));
        if (k < 0) return -1;
        switch ((ia_content_kind)k) {
        case IA_CONTENT_TEXT: {
            json_t *text = json_object_get(item, "text");
            if (!json_is_string(text)) return -1;
            ia_turn_add_text(t, json_string_value(text), json_string_length(text));
            if (ia_codec_annotations_from_json(json_object_get(item, "annotations"), &t->items[t->n - 1]) != 0)
                return -1;
            break;
        }
        case IA_CONTENT_FUNCTION_CALL:
        case IA_CONTENT_FUNCTION_RESULT: {
            bool call = k == IA_CONTENT_FUNCTION_CALL;
            json_t *id = json_object_get(item, call ? "id" : "call_id");
            json_t *name = json_object_get(item, "name");
            json_t *payload = json_object_get(item, call ? "arguments" : "result");
            if (!json_is_string(id) || !json_is_string(payload) || (name && !json_is_string(name))) return -1;
            if (call && !name) return -1;
            if (call) ia_turn_add_call(t, json_string_value(id), json_string_value(name), json_string_value(payload));
            else ia_turn_add_result(t, json_string_value(id), name ? json_string_value(name) : NULL,
                                    json_string_value(payload), json_is_true(json_object_get(item, "is_error")));
            break;
        }
        case IA_CONTENT_THOUGHT: {
            json_t *r = json_object_get(item, "reasoning"), *sg = json_object_get(item, "signature");
            if (!json_is_string(r) || !json_is_string(sg)) return -1;
            ia_turn_add_thought(t, json_string_value(r), json_string_value(sg),
                                json_is_true(json_object_get(item, "hide_summary")));
            break;
        }
        case IA_CONTENT_IMAGE:
        case IA_CONTENT_AUDIO:
        case IA_CONTENT_VIDEO:
        case IA_CONTENT_DOCUMENT:
            if (media_from_json(item, (ia_content_kind)k, t) != 0) return -1;
            break;
        case IA_CONTENT_TOOL_CALL:
        case IA_CONTENT_TOOL_RESULT:
            if (tool_from_json(item, (ia_content_kind)k, t) != 0) return -1;
            break;
        }
    }
    return 0;
}

/* Parses text into a JSON object; NULL when it is not one. \u0000 inside
 * strings is refused (jansson's default) since our texts are C strings. */
static json_t *parse_object(const char *text) {
    if (!text) return NULL;
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

int ia_codec_turn_decode(const char *json, ia_turn *out) {
    if (!out) return -1;
    memset(out, 0, sizeof *out);
    json_t *j = parse_object(json);
    if (!j) return -1;
    int rc = turn_from_json(j, out);
    json_decref(j);
    if (rc != 0) ia_turn_free(out);
    return rc;
}

int ia_codec_conv_decode(const char *json, ia_conv *out) {
    if (!out) return -1;
    memset(out, 0, sizeof *out);
    json_t *j = parse_object(json);
    if (!j) return -1;
    int rc = -1;
    json_t *turns = json_object_get(j, "turns");
    if (!json_is_array(turns)) goto done;
    size_t i;
    json_t *tj;
    json_array_foreach(turns, i, tj) {
        if (!json_is_object(tj)) goto done;
        json_t *role = json_object_get(tj, "role");
        ia_role r;
        if (!json_is_string(role) || role_parse(json_string_value(role), &r) != 0) goto done;
        ia_turn *t = ia_conv_add_turn(out, r);
        if (turn_from_json(tj, t) != 0) goto done;
    }
    rc = 0;
done:
    json_decref(j);
    if (rc != 0) ia_conv_free(out);
    return rc;
}

/* ---- image settings (image_config, the image format) ------------------------- */

static json_t *image_cfg_json(const ia_image_cfg *c) {
    json_t *o = json_object();
    if (c->aspect_ratio[0]) json_object_set_new(o, "aspect_ratio", json_string(c->aspect_ratio));
    if (c->image_size[0]) json_object_set_new(o, "image_size", json_string(c->image_size));
    if (c->mime_type[0]) json_object_set_new(o, "mime_type", json_string(c->mime_type));
    if (c->delivery[0]) json_object_set_new(o, "delivery", json_string(c->delivery));
    return o;
}

/* One setting into its fixed array; a value that does not fit (no build
 * wrote one) is malformed. */
static int image_field(json_t *o, const char *key, char *out, size_t cap) {
    json_t *v = json_object_get(o, key);
    if (!v) return 0;
    if (!json_is_string(v) || json_string_length(v) >= cap) return -1;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int image_cfg_parse(json_t *o, ia_image_cfg *c) {
    if (!json_is_object(o)) return -1;
    c->set = true;
    return image_field(o, "aspect_ratio", c->aspect_ratio, sizeof c->aspect_ratio) |
           image_field(o, "image_size", c->image_size, sizeof c->image_size) |
           image_field(o, "mime_type", c->mime_type, sizeof c->mime_type) |
           image_field(o, "delivery", c->delivery, sizeof c->delivery);
}

/* ---- generation_config ----------------------------------------------------- */

static json_t *speech_to_json(const ia_speech_cfg *c) {
    json_t *list = json_array();
    for (size_t i = 0; i < c->n; i++) {
        json_t *o = json_object();
        if (c->v[i].voice) json_object_set_new(o, "voice", json_string(c->v[i].voice));
        if (c->v[i].language) json_object_set_new(o, "language", json_string(c->v[i].language));
        if (c->v[i].speaker) json_object_set_new(o, "speaker", json_string(c->v[i].speaker));
        if (!c->listed) {
            json_decref(list);
            return o;
        }
        json_array_append_new(list, o);
    }
    return list;
}

/* One entry's optional string: absent (or null) is NULL; any other
 * non-string is malformed. */
static int speech_string(json_t *o, const char *key, char **out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return -1;
    *out = ia_strdup(json_string_value(v));
    return 0;
}

static int speech_from_json(json_t *v, ia_speech_cfg *c) {
    c->listed = json_is_array(v);
    size_t n = c->listed ? json_array_size(v) : 1;
    if ((!c->listed && !json_is_object(v)) || n == 0) return -1;
    c->v = ia_xcalloc(n, sizeof *c->v);
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        json_t *o = c->listed ? json_array_get(v, i) : v;
        if (!json_is_object(o) || speech_string(o, "voice", &c->v[i].voice) != 0 ||
            speech_string(o, "language", &c->v[i].language) != 0 ||
            speech_string(o, "speaker", &c->v[i].speaker) != 0)
            return -1;
    }
    return 0;
}

char *ia_codec_gen_encode(const ia_gen_config *g) {
    if (!g || !ia_gen_config_is_set(g)) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    if (g->has_temperature) json_object_set_new(o, "temperature", json_real(g->temperature));
    if (g->has_top_p) json_object_set_new(o, "top_p", json_real(g->top_p));
    if (g->has_top_k) json_object_set_new(o, "top_k", json_integer(g->top_k));
    if (g->has_seed) json_object_set_new(o, "seed", json_integer(g->seed));
    if (g->has_max_output_tokens)
        json_object_set_new(o, "max_output_tokens", json_integer(g->max_output_tokens));
    if (g->n_stop) {
        json_t *a = json_array();
        for (size_t i = 0; i < g->n_stop; i++) {
            json_t *str = json_string(g->stop[i] ? g->stop[i] : "");
            if (!str || json_array_append_new(a, str) != 0) {
                json_decref(a);
                json_decref(o);
                return NULL;
            }
        }
        json_object_set_new(o, "stop_sequences", a);
    }
    if (g->has_thinking_level)
        json_object_set_new(o, "thinking_level", json_string(ia_thinking_level_name(g->thinking_level)));
    if (g->has_thinking_summaries)
        json_object_set_new(o, "thinking_summaries", json_string(g->thinking_summaries_none ? "none" : "auto"));
    if (g->speech.n) json_object_set_new(o, "speech_config", speech_to_json(&g->speech));
    if (g->image.set) json_object_set_new(o, "image_config", image_cfg_json(&g->image));
    return dump_and_release(o);
}

int ia_codec_gen_decode(const char *text, ia_gen_config *out) {
    if (!out) return -1;
    memset(out, 0, sizeof *out);
    if (!text) return 0; /* nothing was set */
    json_t *j = parse_object(text);
    if (!j) return -1;
    int rc = -1;
    json_t *v;
    if ((v = json_object_get(j, "temperature"))) {
        if (!json_is_number(v)) goto done;
        out->temperature = json_number_value(v);
        out->has_temperature = true;
    }
    if ((v = json_object_get(j, "top_p"))) {
        if (!json_is_number(v)) goto done;
        out->top_p = json_number_value(v);
        out->has_top_p = true;
    }
    if ((v = json_object_get(j, "top_k"))) {
        if (!json_is_integer(v)) goto done;
        out->top_k = (int)json_integer_value(v);
        out->has_top_k = true;
    }
    if ((v = json_object_get(j, "seed"))) {
        if (!json_is_integer(v)) goto done;
        out->seed = (int64_t)json_integer_value(v);
        out->has_seed = true;
    }
    if ((v = json_object_get(j, "max_output_tokens"))) {
        if (!json_is_integer(v)) goto done;
        out->max_output_tokens = (int64_t)json_integer_value(v);
        out->has_max_output_tokens = true;
    }
    if ((v = json_object_get(j, "stop_sequences"))) {
        if (!json_is_array(v)) goto done;
        size_t n = json_array_size(v);
        out->stop = calloc(n ? n : 1, sizeof *out->stop);
        if (!out->stop) goto done;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(v, i);
            if (!json_is_string(e)) goto done;
            out->stop[i] = strdup(json_string_value(e));
            if (!out->stop[i]) goto done;
            out->n_stop = i + 1;
        }
    }
    if ((v = json_object_get(j, "thinking_level"))) {
        int l = ia_thinking_level_parse(json_string_value(v));
        if (l < 0) goto done;
        out->thinking_level = (ia_thinking_level)l;
        out->has_thinking_level = true;
    }
    if ((v = json_object_get(j, "thinking_summaries"))) {
        if (!json_is_string(v)) goto done;
        out->thinking_summaries_none = strcmp(json_string_value(v), "none") == 0;
        out->has_thinking_summaries = true;
    }
    if ((v = json_object_get(j, "speech_config")) && speech_from_json(v, &out->speech) != 0) goto done;
    if ((v = json_object_get(j, "image_config")) && image_cfg_parse(v, &out->image) != 0) goto done;
    rc = 0;
done:
    json_decref(j);
    if (rc != 0) ia_gen_config_free(out);
    return rc;
}

/* ---- response_format ------------------------------------------------------- */

static const char *const rformat_shapes[] = {
    [IA_RFORMAT_NONE] = NULL,
    [IA_RFORMAT_SCHEMA] = "schema",
    [IA_RFORMAT_TEXT] = "text",
    [IA_RFORMAT_TEXT_LIST] = "text_list",
    [IA_RFORMAT_IMAGE] = "image",
    [IA_RFORMAT_AUDIO] = "audio",
};
#define N_RFORMAT_SHAPES ((int)(sizeof rformat_shapes / sizeof rformat_shapes[0]))

/* An audio format's settings: {mime_type?, sample_rate?, bit_rate?,
 * delivery?} (a key added to the record: older rows have none). */
static json_t *audio_fmt_json(const ia_audio_fmt *a) {
    json_t *o = json_object();
    if (a->mime_type[0]) json_object_set_new(o, "mime_type", json_string(a->mime_type));
    if (a->sample_rate) json_object_set_new(o, "sample_rate", json_integer(a->sample_rate));
    if (a->bit_rate) json_object_set_new(o, "bit_rate", json_integer(a->bit_rate));
    if (a->delivery[0]) json_object_set_new(o, "delivery", json_string(a->delivery));
    return o;
}

static int audio_fmt_parse(json_t *o, ia_audio_fmt *a) {
    if (!json_is_object(o)) return -1;
    a->set = true;
    json_t *v;
    if ((v = json_object_get(o, "sample_rate"))) {
        if (!json_is_integer(v)) return -1;
        a->sample_rate = json_integer_value(v);
    }
    if ((v = json_object_get(o, "bit_rate"))) {
        if (!json_is_integer(v)) return -1;
        a->bit_rate = json_integer_value(v);
    }
    if (image_field(o, "mime_type", a->mime_type, sizeof a->mime_type) != 0) return -1;
    return image_field(o, "delivery", a->delivery, sizeof a->delivery);
}

char *ia_codec_rformat_encode(const ia_rformat *f) {
    bool shaped = f && f->shape > IA_RFORMAT_NONE && (int)f->shape < N_RFORMAT_SHAPES;
    if (!f || (!shaped && !f->modalities)) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    if (shaped) json_object_set_new(o, "shape", json_string(rformat_shapes[f->shape]));
    /* response_modalities (a later key: rows without it asked none) */
    if (f->modalities) json_object_set_new(o, "modalities", json_integer(f->modalities));
    if (f->mime_type) json_object_set_new(o, "mime_type", json_string(f->mime_type));
    if (f->schema) json_object_set_new(o, "schema", json_string(f->schema));
    if (f->image.set) json_object_set_new(o, "image", image_cfg_json(&f->image));
    if (f->audio.set) json_object_set_new(o, "audio", audio_fmt_json(&f->audio));
    if (f->list[0]) json_object_set_new(o, "list", json_string(f->list));
    return dump_and_release(o);
}

int ia_codec_rformat_decode(const char *text, ia_rformat *out) {
    if (!out) return -1;
    memset(out, 0, sizeof *out);
    if (!text) return 0; /* none was given */
    json_t *j = parse_object(text);
    if (!j) return -1;
    int rc = -1;
    json_t *shape = json_object_get(j, "shape");
    json_t *mime = json_object_get(j, "mime_type");
    json_t *schema = json_object_get(j, "schema");
    json_t *mods = json_object_get(j, "modalities");
    if ((shape && !json_is_string(shape)) || (mime && !json_is_string(mime)) || (schema && !json_is_string(schema)) ||
        (mods && !json_is_integer(mods)))
        goto done;
    rc = 0;
    if (mods) out->modalities = (unsigned)json_integer_value(mods) & ((1u << IA_N_MODALITIES) - 1);
    if (!shape) goto done; /* only response_modalities was given */
    for (int i = 1; i < N_RFORMAT_SHAPES; i++)
        if (strcmp(rformat_shapes[i], json_string_value(shape)) == 0) out->shape = (ia_rformat_shape)i;
    if (out->shape == IA_RFORMAT_NONE) goto done; /* a newer build's shape: not echoed */
    out->mime_type = mime ? strdup(json_string_value(mime)) : NULL;
    out->schema = schema ? strdup(json_string_value(schema)) : NULL;
    if ((mime && !out->mime_type) || (schema && !out->schema)) rc = -1;
    json_t *image = json_object_get(j, "image");
    if (image && image_cfg_parse(image, &out->image) != 0) rc = -1;
    json_t *audio = json_object_get(j, "audio");
    if (audio && audio_fmt_parse(audio, &out->audio) != 0) rc = -1;
    if (image_field(j, "list", out->list, sizeof out->list) != 0) rc = -1;
done:
    json_decref(j);
    if (rc != 0) ia_rformat_free(out);
    return rc;
}

/* ---- usage by modality ------------------------------------------------- */

const char *ia_codec_usage_by_encode(const ia_usage *u, char *buf, size_t cap) {
    bool any = false;
    for (int m = 0; m < IA_N_MODALITIES; m++) any = any || u->input_by[m] || u->cached_by[m];
    if (!any && !u->search_calls && !u->output_audio && !u->maps_calls) return NULL;
    size_t at = 0;
    for (int k = 0; k < 2; k++) {
        const int64_t *v = k ? u->cached_by : u->input_by;
        if (at >= cap) break;
        int w = snprintf(buf + at, cap - at, "%s%c", k ? " " : "", k ? 'c' : 'i');
        at += w > 0 ? (size_t)w : 0;
        for (int m = 0; m < IA_N_MODALITIES && at < cap; m++) {
            w = snprintf(buf + at, cap - at, " %lld", (long long)v[m]);
            at += w > 0 ? (size_t)w : 0;
        }
    }
    /* google_search calls (grounding_tool_count), then speech's output
     * tokens: later fields of the same column, so no migration and older
     * rows read as none */
    /* google_maps calls after those (" m N"; its fields before it written) */
    if ((u->search_calls || u->output_audio || u->maps_calls) && at < cap)
        at += (size_t)snprintf(buf + at, cap - at, " g %lld", (long long)u->search_calls);
    if ((u->output_audio || u->maps_calls) && at < cap)
        at += (size_t)snprintf(buf + at, cap - at, " a %lld", (long long)u->output_audio);
    if (u->maps_calls && at < cap) snprintf(buf + at, cap - at, " m %lld", (long long)u->maps_calls);
    return buf;
}

void ia_codec_usage_by_decode(const char *s, ia_usage *u) {
    long long a[2][IA_N_MODALITIES], g = 0, au = 0, mp = 0;
    int n = s ? sscanf(s, "i %lld %lld %lld %lld %lld c %lld %lld %lld %lld %lld g %lld a %lld m %lld", &a[0][0],
                       &a[0][1], &a[0][2], &a[0][3], &a[0][4], &a[1][0], &a[1][1], &a[1][2], &a[1][3], &a[1][4], &g,
                       &au, &mp)
                 : 0;
    if (n < 10) return;
    u->search_calls = n >= 11 ? g : 0;
    u->output_audio = n >= 12 ? au : 0;
    u->maps_calls = n == 13 ? mp : 0;
    for (int m = 0; m < IA_N_MODALITIES; m++) {
        u->input_by[m] = a[0][m];
        u->cached_by[m] = a[1][m];
    }
}
