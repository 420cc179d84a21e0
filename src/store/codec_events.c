/* codec_events: the storage form of a content event's part (model/types.h),
 * the text (and code) columns of the events table.
 *
 * The form is the neutral JSON earlier builds wrote into those columns when
 * core itself carried it in the events, so rows of any version read back
 * alike. Which shape a text has follows from the event's kind and ckind
 * (columns of their own):
 *
 *   thought (ckind thought)   START: {}
 *                             DELTA: {"summary":"<a piece>"} | {"signature":"..."}
 *   function call             START: {"id":"...","name":"..."}
 *   (ckind function_call)     DELTA: {"id":"...","name":"...","arguments":"<JSON text>"}
 *   built-in tool's call      START and DELTA alike, the whole item:
 *   (ckind tool_call)         {"tool":"code_execution","id":"...","name":"..."?,
 *                              "server_name":"..."?,"search_type":"..."?,
 *                              "arguments":<JSON value>}
 *   its result                {"tool":"...","call_id":"...","name":"..."?,
 *   (ckind tool_result)        "server_name":"..."?,"result":<JSON value>,
 *                              "is_error":true|false}
 *   a text's citations        DELTA (ckind text) with code "annotations":
 *                             [{"url":"...","start":N,"end":N,"title":"..."?}]
 *   an image or audio output  START: {"mime_type":"...","sample_rate":N?,
 *   (ckind image, audio)       "channels":N?}; DELTA: the same and "data"
 *                             (base64 of a piece: the pieces' texts join)
 *
 * Every other event keeps its text and code as they are (a text delta's
 * piece, an error's message and wire code; a text block's START stores "").
 * A tool item's payload is embedded as a value, not as JSON text: one that
 * is not JSON is stored as {} (arguments) / null (a result), as api/
 * frames it. What the model read of a result (`fetched`) is never in an
 * event: the interaction's output keeps it.
 *
 * Decoding is lenient, as the frames built from these texts always were: a
 * text that is not the expected JSON gives a part with what could be read
 * ("" ids, {} / null payloads), so a damaged event still frames. Strings
 * that are not valid UTF-8 are repaired with U+FFFD rather than lost. */
#include "store/store.h"
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* The code column's marker of a text block's citations event. */
#define ANNOTATIONS_CODE "annotations"

/* ---- encode ------------------------------------------------------------------ */

/* A JSON string of s ("" for NULL), invalid UTF-8 repaired. */
static json_t *jstr(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    if (ia_utf8_valid(s, n)) return json_stringn(s, n);
    char *fixed = ia_utf8_sanitize(s, n);
    json_t *j = json_string(fixed);
    free(fixed);
    return j;
}

static void set_str(json_t *o, const char *key, const char *v) {
    if (v) json_object_set_new(o, key, jstr(v));
}

static json_t *thought_json(const ia_content *p) {
    json_t *o = json_object();
    if (p->signature) set_str(o, "signature", p->signature);
    else set_str(o, "summary", p->text);
    return o;
}

static json_t *call_json(const ia_content *p, bool delta) {
    json_t *o = json_object();
    json_object_set_new(o, "id", jstr(p->id));
    json_object_set_new(o, "name", jstr(p->name));
    if (delta) json_object_set_new(o, "arguments", jstr(p->text ? p->text : "{}"));
    return o;
}

static json_t *tool_json(const ia_content *p) {
    bool call = p->kind == IA_CONTENT_TOOL_CALL;
    json_t *o = json_object();
    set_str(o, "tool", ia_builtin_name(p->tool));
    json_object_set_new(o, call ? "id" : "call_id", jstr(p->id));
    set_str(o, "name", p->name);
    set_str(o, "server_name", p->server_name);
    if (call) set_str(o, "search_type", p->search_type);
    json_t *v = json_loads(p->text ? p->text : "", JSON_DECODE_ANY, NULL);
    json_object_set_new(o, call ? "arguments" : "result", v ? v : call ? json_object() : json_null());
    if (!call) json_object_set_new(o, "is_error", json_boolean(p->is_error));
    return o;
}

static json_t *media_json(const ia_content *p) {
    json_t *o = json_object();
    set_str(o, "mime_type", p->mime_type);
    if (p->sample_rate) json_object_set_new(o, "sample_rate", json_integer(p->sample_rate));
    if (p->channels) json_object_set_new(o, "channels", json_integer(p->channels));
    set_str(o, "data", p->text);
    return o;
}

char *ia_codec_event_encode(const ia_event *e) {
    const ia_content *p = e->part;
    if (!p || (e->kind != IA_EV_CONTENT_START && e->kind != IA_EV_CONTENT_DELTA)) return NULL;
    json_t *j = NULL;
    switch (p->kind) {
    case IA_CONTENT_THOUGHT: j = thought_json(p); break;
    case IA_CONTENT_FUNCTION_CALL: j = call_json(p, e->kind == IA_EV_CONTENT_DELTA); break;
    case IA_CONTENT_TOOL_CALL:
    case IA_CONTENT_TOOL_RESULT: j = tool_json(p); break;
    case IA_CONTENT_TEXT: j = p->n_annotations ? ia_codec_annotations_json(p->annotations, p->n_annotations) : NULL; break;
    case IA_CONTENT_IMAGE:
    case IA_CONTENT_AUDIO: j = media_json(p); break;
    default: break;
    }
    if (!j) return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    return s;
}

const char *ia_codec_event_code(const ia_event *e) {
    return ia_event_is_annotations(e) ? ANNOTATIONS_CODE : e->code;
}

/* ---- decode ------------------------------------------------------------------ */

/* o's string at key, copied; NULL when absent or not a string. */
static char *get_dup(json_t *o, const char *key) {
    const char *v = json_string_value(json_object_get(o, key));
    return v ? ia_strdup(v) : NULL;
}

static void thought_part(json_t *j, ia_content *p) {
    p->signature = get_dup(j, "signature");
    if (!p->signature) p->text = get_dup(j, "summary");
}

static void call_part(json_t *j, bool delta, ia_content *p) {
    p->id = get_dup(j, "id");
    p->name = get_dup(j, "name");
    if (!p->id) p->id = ia_strdup("");
    if (!p->name) p->name = ia_strdup("");
    p->text = delta ? get_dup(j, "arguments") : NULL;
    if (delta && !p->text) p->text = ia_strdup("{}");
}

static void tool_part(json_t *j, ia_content *p) {
    bool call = p->kind == IA_CONTENT_TOOL_CALL;
    int b = ia_builtin_parse(json_string_value(json_object_get(j, "tool")));
    p->tool = b < 0 ? IA_BUILTIN_NONE : (ia_builtin)b;
    p->id = get_dup(j, call ? "id" : "call_id");
    if (!p->id) p->id = ia_strdup("");
    p->name = get_dup(j, "name");
    p->server_name = get_dup(j, "server_name");
    p->search_type = call ? get_dup(j, "search_type") : NULL;
    json_t *payload = json_object_get(j, call ? "arguments" : "result");
    p->text = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!p->text) p->text = ia_strdup(call ? "{}" : "null");
    p->is_error = json_is_true(json_object_get(j, "is_error"));
}

static void media_part(json_t *j, ia_content *p) {
    p->mime_type = get_dup(j, "mime_type");
    p->sample_rate = json_integer_value(json_object_get(j, "sample_rate"));
    p->channels = json_integer_value(json_object_get(j, "channels"));
    p->text = get_dup(j, "data");
}

/* Whether e's text column holds a part, by its kind, ckind and code. */
static bool has_part(const ia_event *e, const char *code) {
    if (e->kind != IA_EV_CONTENT_START && e->kind != IA_EV_CONTENT_DELTA) return false;
    switch (e->ckind) {
    case IA_CONTENT_THOUGHT:
    case IA_CONTENT_FUNCTION_CALL:
    case IA_CONTENT_TOOL_CALL:
    case IA_CONTENT_TOOL_RESULT:
    case IA_CONTENT_IMAGE:
    case IA_CONTENT_AUDIO: return true;
    case IA_CONTENT_TEXT: return e->kind == IA_EV_CONTENT_DELTA && code && strcmp(code, ANNOTATIONS_CODE) == 0;
    default: return false;
    }
}

void ia_codec_event_decode(ia_event *e, const char *text, const char *code) {
    free(e->text);
    free(e->code);
    e->text = e->code = NULL;
    if (!has_part(e, code)) {
        e->text = text ? ia_strdup(text) : NULL;
        e->code = code ? ia_strdup(code) : NULL;
        return;
    }
    ia_content *p = ia_xcalloc(1, sizeof *p);
    p->kind = e->ckind;
    json_t *j = json_loads(text ? text : "", JSON_DECODE_ANY, NULL);
    switch (e->ckind) {
    case IA_CONTENT_THOUGHT: thought_part(j, p); break;
    case IA_CONTENT_FUNCTION_CALL: call_part(j, e->kind == IA_EV_CONTENT_DELTA, p); break;
    case IA_CONTENT_TEXT:
        /* a damaged list keeps the citations read before the damage */
        (void)ia_codec_annotations_from_json(j, p);
        break;
    case IA_CONTENT_IMAGE:
    case IA_CONTENT_AUDIO: media_part(j, p); break;
    default: tool_part(j, p); break;
    }
    json_decref(j);
    e->part = p;
}
