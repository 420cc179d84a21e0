/* toolitems: the built-in tools' call and result items on the wire —
 * code_execution_call / _result, url_context_*, google_search_*,
 * google_maps_*, mcp_server_tool_*, file_search_* — decoded from a request's
 * history (stateless tool-context circulation: the client sends back what
 * it got) and encoded for `outputs`, `steps` and both dialects' stream
 * events.
 *
 * One table for both dialects, because SDK 1.52.0's Content types and SDK
 * 3.3.0's step types of these names carry the same fields (genai.d.ts of
 * each: CodeExecutionCallContent / CodeExecutionCallStep, ...). What the
 * typings require (id, call_id, mcp's name and server_name, the result
 * where both SDKs require one) is required; any other field is refused by
 * name. Accepted liberally, where the two SDKs or the two places differ: a
 * missing `arguments` is {} (as for function_call); code_execution_result's
 * result a string (1.52.0) or a list of content (3.3.0); is_error on every
 * result (we may write it on any); `signature` on every item — checked to
 * be a string and dropped, since no item of ours carries one and the store
 * keeps none. Inside `arguments` and result entries only the typed fields'
 * types are checked: the rest is the tool's, passed through. The role of
 * the turn an item came in is kept (core renders it). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "lib/util.h"

typedef enum {
    RES_ANY,     /* any JSON value (mcp_server, as function_result) */
    RES_TEXT,    /* a string, or a list of content objects */
    RES_OBJECTS, /* a list of objects */
    RES_LIST,    /* a list of anything (file_search: unknown[]) */
} res_shape;

typedef struct {
    ia_builtin tool;
    const char *call, *result;   /* the wire types */
    bool args;                   /* the call carries `arguments` */
    const char *str_arg[2];      /* argument fields that are strings */
    const char *list_arg;        /* an argument field that is a list of strings */
    res_shape shape;
    bool result_required;
    bool named;       /* mcp: name and server_name (required on the call) */
    bool search_type; /* google_search_call's search_type */
} tool_spec;

static const tool_spec SPECS[] = {
    {IA_BUILTIN_CODE_EXECUTION, "code_execution_call", "code_execution_result", true, {"code", "language"}, NULL,
     RES_TEXT, true, false, false},
    {IA_BUILTIN_URL_CONTEXT, "url_context_call", "url_context_result", true, {NULL, NULL}, "urls", RES_OBJECTS,
     true, false, false},
    {IA_BUILTIN_GOOGLE_SEARCH, "google_search_call", "google_search_result", true, {NULL, NULL}, "queries",
     RES_OBJECTS, true, false, true},
    {IA_BUILTIN_GOOGLE_MAPS, "google_maps_call", "google_maps_result", true, {NULL, NULL}, "queries", RES_OBJECTS,
     false, false, false},
    {IA_BUILTIN_MCP_SERVER, "mcp_server_tool_call", "mcp_server_tool_result", true, {NULL, NULL}, NULL, RES_ANY,
     true, true, false},
    {IA_BUILTIN_FILE_SEARCH, "file_search_call", "file_search_result", false, {NULL, NULL}, NULL, RES_LIST, false,
     false, false},
};

static const tool_spec *spec_of_type(const char *t, bool *call) {
    for (size_t i = 0; t && i < sizeof SPECS / sizeof *SPECS; i++) {
        if (strcmp(t, SPECS[i].call) == 0 || strcmp(t, SPECS[i].result) == 0) {
            *call = strcmp(t, SPECS[i].call) == 0;
            return &SPECS[i];
        }
    }
    return NULL;
}

static const tool_spec *spec_of_tool(ia_builtin b) {
    for (size_t i = 0; i < sizeof SPECS / sizeof *SPECS; i++)
        if (SPECS[i].tool == b) return &SPECS[i];
    return NULL;
}

bool ia_api_tool_item_type(const char *t) {
    bool call;
    return spec_of_type(t, &call) != NULL;
}

/* ---- decode ------------------------------------------------------------------ */

typedef struct {
    const char *id, *name, *server_name, *search_type;
    json_t *payload; /* arguments / result as given */
    bool is_error;
} item_fields;

static int check_string_list(json_t *v, const char *p, ia_err *err) {
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected a list of strings", p);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e))
        return ia_fail(err, IA_EINVALID, "%s[%zu]: expected a string", p, i);
    return 0;
}

static int check_arguments(const tool_spec *s, json_t *a, const char *p, ia_err *err) {
    if (!json_is_object(a)) return ia_fail(err, IA_EINVALID, "%s: expected an object", p);
    char q[IA_API_PATH_MAX];
    for (size_t i = 0; i < 2 && s->str_arg[i]; i++) {
        json_t *v = json_object_get(a, s->str_arg[i]);
        ia_api_mkpath(q, "%s.%s", p, s->str_arg[i]);
        if (v && !json_is_null(v) && !json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", q);
    }
    json_t *l = s->list_arg ? json_object_get(a, s->list_arg) : NULL;
    ia_api_mkpath(q, "%s.%s", p, s->list_arg ? s->list_arg : "");
    return l && !json_is_null(l) ? check_string_list(l, q, err) : 0;
}

static int check_result(const tool_spec *s, json_t *r, const char *p, ia_err *err) {
    if (s->shape == RES_ANY) return 0;
    if (s->shape == RES_TEXT && json_is_string(r)) return 0;
    if (!json_is_array(r))
        return ia_fail(err, IA_EINVALID, s->shape == RES_TEXT ? "%s: expected a string or a list of content objects"
                                                              : "%s: expected a list", p);
    size_t i;
    json_t *e;
    json_array_foreach(r, i, e) if (s->shape != RES_LIST && !json_is_object(e))
        return ia_fail(err, IA_EINVALID, "%s[%zu]: expected an object", p, i);
    return 0;
}

/* One field of an item; a field this type does not have is unknown. */
static int read_field(const tool_spec *s, bool call, const char *key, json_t *v, const char *p, item_fields *f,
                      ia_err *err) {
    if (strcmp(key, call ? "id" : "call_id") == 0) return ia_api_get_string(v, p, &f->id, err);
    if (strcmp(key, "signature") == 0) { /* kept by no item of ours: checked, dropped */
        const char *sig;
        return ia_api_get_string(v, p, &sig, err);
    }
    if (s->named && strcmp(key, "name") == 0) return ia_api_get_string(v, p, &f->name, err);
    if (s->named && strcmp(key, "server_name") == 0) return ia_api_get_string(v, p, &f->server_name, err);
    if (call && s->search_type && strcmp(key, "search_type") == 0)
        return ia_api_get_string(v, p, &f->search_type, err);
    if (call && s->args && strcmp(key, "arguments") == 0) {
        f->payload = v;
        return check_arguments(s, v, p, err);
    }
    if (!call && strcmp(key, "result") == 0) {
        f->payload = v;
        return check_result(s, v, p, err);
    }
    if (!call && strcmp(key, "is_error") == 0) return ia_api_get_bool(v, p, &f->is_error, err);
    if (!call && s->tool == IA_BUILTIN_GOOGLE_SEARCH && strcmp(key, "rendered_content") == 0) {
        const char *html; /* the guide's copy of result[0].search_suggestions: derived, dropped */
        return ia_api_get_string(v, p, &html, err);
    }
    return ia_api_unknown_field(err, p);
}

static int check_required(const tool_spec *s, bool call, const item_fields *f, const char *path, ia_err *err) {
    if (!f->id || !*f->id) return ia_fail(err, IA_EINVALID, "%s.%s: required", path, call ? "id" : "call_id");
    if (call && s->named && (!f->name || !*f->name)) return ia_fail(err, IA_EINVALID, "%s.name: required", path);
    if (call && s->named && (!f->server_name || !*f->server_name))
        return ia_fail(err, IA_EINVALID, "%s.server_name: required", path);
    if (!call && s->result_required && !f->payload) return ia_fail(err, IA_EINVALID, "%s.result: required", path);
    return 0;
}

int ia_api_decode_tool_item(json_t *c, const char *path, ia_turn *turn, ia_err *err) {
    bool call = false;
    const tool_spec *s = spec_of_type(json_string_value(json_object_get(c, "type")), &call);
    if (!s) return ia_fail(err, IA_EINVALID, "%s.type: not a built-in tool's call or result", path);
    item_fields f = {0};
    char p[IA_API_PATH_MAX];
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        if (strcmp(key, "type") == 0 || json_is_null(v)) continue; /* null: not set */
        ia_api_mkpath(p, "%s.%s", path, key);
        if (read_field(s, call, key, v, p, &f, err) < 0) return -1;
    }
    if (check_required(s, call, &f, path, err) < 0) return -1;
    char *text = f.payload ? json_dumps(f.payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (f.payload && !text) return ia_fail(err, IA_EINVALID, "%s: cannot be encoded", path);
    ia_content *it = call ? ia_turn_add_tool_call(turn, s->tool, f.id, f.name, text)
                          : ia_turn_add_tool_result(turn, s->tool, f.id, f.name, text, f.is_error);
    free(text);
    it->server_name = f.server_name ? ia_strdup(f.server_name) : NULL;
    it->search_type = f.search_type ? ia_strdup(f.search_type) : NULL;
    it->path = ia_strdup(path); /* names the item in core's later messages */
    return 0;
}

/* ---- encode ------------------------------------------------------------------ */

/* {type: NAME_call, id, name?, server_name?, arguments, search_type?} /
 * {type: NAME_result, call_id, name?, server_name?, result, is_error?}:
 * the typings' fields, the same in 1.52.0's Content and 3.3.0's steps.
 * file_search_call has no arguments; an optional result never given
 * (google_maps, file_search) stays absent rather than null. */
json_t *ia_api_tool_item_json(const ia_content *c) {
    const tool_spec *s = spec_of_tool(c->tool);
    bool call = c->kind == IA_CONTENT_TOOL_CALL;
    const char *type = s ? (call ? s->call : s->result) : call ? "tool_call" : "tool_result";
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, call ? "id" : "call_id", ia_api_jstr(c->id));
    if (c->name) json_object_set_new(o, "name", ia_api_jstr(c->name));
    if (c->server_name) json_object_set_new(o, "server_name", ia_api_jstr(c->server_name));
    if (call) {
        if (!s || s->args) json_object_set_new(o, "arguments", ia_api_json_value(c->text, true));
        if (c->search_type) json_object_set_new(o, "search_type", ia_api_jstr(c->search_type));
        return o;
    }
    bool absent = s && !s->result_required && (!c->text || strcmp(c->text, "null") == 0);
    json_t *res = absent ? NULL : ia_api_json_value(c->text, false);
    if (res) json_object_set_new(o, "result", res);
    /* The guide's google_search_result shows the suggestions' HTML as
     * rendered_content beside result; the typings carry it as
     * result[0].search_suggestions. Both, from the one stored copy. */
    json_t *html = c->tool == IA_BUILTIN_GOOGLE_SEARCH
                       ? json_object_get(json_array_get(res, 0), "search_suggestions") : NULL;
    if (json_is_string(html)) json_object_set(o, "rendered_content", html);
    if (c->is_error) json_object_set_new(o, "is_error", json_true());
    return o;
}

/* The item a tool event carries (its part) as the old neutral JSON's
 * readers saw it: a payload that is missing or not JSON is {} (a call's
 * arguments) / null (a result), as the store keeps it (store/codec.c), so a
 * live frame and its replay agree; a missing part frames as a "tool_call"
 * with no tool. */
json_t *ia_api_tool_event_json(const ia_event *ev, bool delta) {
    bool call = ev->ckind == IA_CONTENT_TOOL_CALL;
    ia_content c = ev->part ? *ev->part : (ia_content){0};
    c.kind = call ? IA_CONTENT_TOOL_CALL : IA_CONTENT_TOOL_RESULT;
    json_t *v = json_loads(c.text ? c.text : "", JSON_DECODE_ANY, NULL);
    if (!v) c.text = call ? "{}" : "null";
    json_decref(v);
    json_t *o = ia_api_tool_item_json(&c); /* c is a shallow view: nothing to free */
    if (delta) {
        /* 3.3.0's *Delta types (CodeExecutionCallDelta, ...) have neither:
         * the step.start named the call, and the index names the step. */
        json_object_del(o, "id");
        json_object_del(o, "call_id");
        json_object_del(o, "search_type");
    }
    return o;
}
