/* mcp_proto.c: what an MCP server's answers mean (mcp.h): JSON-RPC
 * responses in JSON or SSE bodies, tools/list and tools/call results. No
 * I/O: these read bytes a remote server chose, so they are fuzzed
 * (tests/fuzz/fuzz_mcp.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/mcp.h"

char *ia_mcp_fn_name(const char *server, const char *tool) {
    return ia_asprintf("%s__%s", server ? server : "", tool ? tool : "");
}

/* ---- JSON-RPC responses -------------------------------------------------- */

typedef struct {
    long id;
    json_t *found; /* the response object (borrowed from its message) */
    json_t *keep;  /* the message holding it */
} seek;

static bool is_response_to(json_t *m, long id) {
    json_t *i = json_object_get(m, "id");
    return json_is_object(m) && json_is_integer(i) && json_integer_value(i) == id &&
           (json_object_get(m, "result") || json_object_get(m, "error"));
}

/* One message or batch (text of n bytes): keeps the response to s->id.
 * Requests and notifications the server sends (progress, logging, ping)
 * are not answered: this client asks for nothing of the kind. */
static void take_message(seek *s, const char *text, size_t n) {
    if (s->found) return;
    json_t *m = json_loadb(text, n, JSON_DECODE_ANY, NULL);
    if (!m) return;
    json_t *hit = NULL;
    if (json_is_array(m)) {
        size_t i;
        json_t *e;
        json_array_foreach(m, i, e) if (!hit && is_response_to(e, s->id)) hit = e;
    } else if (is_response_to(m, s->id)) {
        hit = m;
    }
    if (hit) {
        s->found = hit;
        s->keep = m;
    } else {
        json_decref(m);
    }
}

/* The end of the line at p (before end): the index of its terminator
 * (CR, LF or CRLF, as SSE allows) and *next past it. */
static size_t line_end(const char *p, const char *end, const char **next) {
    const char *q = p;
    while (q < end && *q != '\r' && *q != '\n') q++;
    const char *t = q;
    if (t < end && *t == '\r') {
        t++;
        if (t < end && *t == '\n') t++;
    } else if (t < end) {
        t++;
    }
    *next = t;
    return (size_t)(q - p);
}

/* An SSE stream: each event's data lines joined by "\n", dispatched at a
 * blank line (or at the end of the body: a server that closes right after
 * its last data line still said it). Fields other than data are ignored. */
static void take_sse(seek *s, const char *body, size_t len) {
    const char *p = body, *end = body + len, *next;
    ia_buf data;
    ia_buf_init(&data, 0);
    bool have = false;
    while (p < end && !s->found) {
        size_t n = line_end(p, end, &next);
        if (n == 0) {
            if (have) take_message(s, data.data, data.len);
            data.len = 0;
            have = false;
        } else if (n >= 4 && memcmp(p, "data", 4) == 0 && (n == 4 || p[4] == ':')) {
            size_t skip = n == 4 ? 4 : 5;
            const char *v = p + skip;
            size_t vn = n - skip;
            if (vn && *v == ' ') v++, vn--;
            if (have) ia_buf_append(&data, "\n", 1);
            ia_buf_append(&data, v, vn);
            have = true;
        }
        p = next;
    }
    if (have && !s->found) take_message(s, data.data, data.len);
    ia_buf_free(&data);
}

static void error_text(json_t *er, char *why, size_t why_n) {
    json_t *code = json_object_get(er, "code");
    const char *msg = json_string_value(json_object_get(er, "message"));
    if (!msg) msg = "(no message)";
    /* cut on a whole character: the message goes into JSON */
    size_t n = strlen(msg) > 300 ? ia_utf8_complete_prefix(msg, 300) : strlen(msg);
    snprintf(why, why_n, "the server answered error %lld: %.*s", (long long)json_integer_value(code), (int)n, msg);
}

int ia_mcp_parse_response(const char *body, size_t len, bool sse, long id, char **result_json, char *why,
                          size_t why_n) {
    seek s = {.id = id};
    *result_json = NULL;
    if (sse) take_sse(&s, body ? body : "", body ? len : 0);
    else if (body) take_message(&s, body, len);
    int rc = -1;
    if (!s.found) {
        snprintf(why, why_n, "the server's answer holds no JSON-RPC response to request %ld", id);
    } else if (json_object_get(s.found, "error")) {
        error_text(json_object_get(s.found, "error"), why, why_n);
    } else {
        *result_json = json_dumps(json_object_get(s.found, "result"), JSON_COMPACT | JSON_ENCODE_ANY);
        rc = *result_json ? 0 : -1;
        if (rc) snprintf(why, why_n, "the server's result could not be read");
    }
    json_decref(s.keep);
    return rc;
}

/* ---- tools/list ---------------------------------------------------------- */

/* A tool's inputSchema as compact JSON; an object schema with no type is
 * one (MCP requires type "object"; some servers leave it out). */
static char *schema_of(json_t *t) {
    json_t *sc = json_object_get(t, "inputSchema");
    if (!json_is_object(sc)) return ia_strdup("{\"type\":\"object\",\"properties\":{}}");
    json_t *c = json_deep_copy(sc);
    if (!json_object_get(c, "type")) json_object_set_new(c, "type", json_string("object"));
    char *s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

/* A tool name a model's function may carry: [A-Za-z0-9_.-], 1 to 48
 * characters (the offered name adds the server's and "__"). */
static bool tool_name_ok(const char *n) {
    size_t len = strlen(n);
    if (!len || len > 48) return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.'))
            return false;
    return true;
}

int ia_mcp_parse_tools(const char *result_json, ia_mcp_tool **tools, size_t *n, char **next, char *why,
                       size_t why_n) {
    *next = NULL;
    json_t *r = json_loads(result_json ? result_json : "", 0, NULL);
    json_t *list = json_object_get(r, "tools");
    if (!json_is_array(list)) {
        snprintf(why, why_n, "the server's tools/list result has no list of tools");
        json_decref(r);
        return -1;
    }
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        /* a name the model can call by (a function's rules: letters,
         * digits, _ . -, at most 64 with the server's prefix), a bounded
         * description: a server cannot break the prompt or its grammar */
        if (!name || !*name || *n >= IA_MCP_MAX_TOOLS || !tool_name_ok(name)) continue;
        const char *desc = json_string_value(json_object_get(t, "description"));
        if (!desc) desc = json_string_value(json_object_get(t, "title"));
        char *d = ia_utf8_sanitize(desc ? desc : "", desc ? ia_utf8_complete_prefix(desc, strlen(desc) < 2048 ? strlen(desc) : 2048) : 0);
        *tools = ia_xrealloc(*tools, (*n + 1) * sizeof **tools);
        (*tools)[(*n)++] = (ia_mcp_tool){ia_strdup(name), d, schema_of(t)};
    }
    const char *cur = json_string_value(json_object_get(r, "nextCursor"));
    if (cur && *cur) *next = ia_strdup(cur);
    json_decref(r);
    return 0;
}

void ia_mcp_tools_free(ia_mcp_tool *t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(t[i].name);
        free(t[i].description);
        free(t[i].schema);
    }
    free(t);
}

/* ---- tools/call ---------------------------------------------------------- */

/* One content part: its wire form (a text part) and what the model reads.
 * Text stays text; an image, audio or resource is kept on the wire as its
 * JSON (nothing is lost) and named for the model, not inlined (base64 is
 * noise to it); an embedded text resource is read as its text. */
static void add_part(json_t *wire, ia_buf *model, json_t *part) {
    const char *type = json_string_value(json_object_get(part, "type"));
    const char *text = json_string_value(json_object_get(part, "text"));
    json_t *res = json_object_get(part, "resource");
    if (!text && json_is_object(res)) text = json_string_value(json_object_get(res, "text"));
    char *dump = NULL;
    if (type && !strcmp(type, "text") && text) {
        json_array_append_new(wire, json_pack("{s:s, s:s}", "type", "text", "text", text));
    } else if ((dump = json_dumps(part, JSON_COMPACT | JSON_ENCODE_ANY))) {
        json_array_append_new(wire, json_pack("{s:s, s:s}", "type", "text", "text", dump));
    }
    if (model->len) ia_buf_puts(model, "\n");
    if (text) {
        ia_buf_puts(model, text);
    } else {
        const char *mime = json_string_value(json_object_get(part, "mimeType"));
        const char *uri = json_string_value(json_object_get(part, "uri"));
        ia_buf_printf(model, "[%s content%s%s%s%s]", type ? type : "unknown", mime ? ", " : "", mime ? mime : "",
                      uri ? ": " : "", uri ? uri : "");
    }
    free(dump);
}

void ia_mcp_call_result(const char *result_json, char **wire_json, char **model_text, bool *is_error) {
    json_t *r = json_loads(result_json ? result_json : "", JSON_DECODE_ANY, NULL);
    json_t *content = json_object_get(r, "content"), *sc = json_object_get(r, "structuredContent");
    *is_error = json_is_true(json_object_get(r, "isError"));
    json_t *wire = NULL;
    ia_buf model;
    ia_buf_init(&model, 0);
    if (json_array_size(content)) {
        wire = json_array();
        size_t i;
        json_t *part;
        json_array_foreach(content, i, part) add_part(wire, &model, part);
    } else if (sc) {
        wire = json_incref(sc);
        char *s = json_dumps(sc, JSON_COMPACT | JSON_ENCODE_ANY);
        ia_buf_puts(&model, s ? s : "");
        free(s);
    } else {
        wire = json_string("");
    }
    *wire_json = json_dumps(wire, JSON_COMPACT | JSON_ENCODE_ANY);
    *model_text = ia_buf_take(&model);
    if (!*model_text) *model_text = ia_strdup("");
    json_decref(wire);
    json_decref(r);
}
