/* mcp.c: the streamable HTTP client of mcp.h — one session per use
 * (initialize, notifications/initialized, the request, DELETE), every
 * request a POST through lib/fetch.h. */
#include "tools/mcp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

#define MAX_PAGES 20 /* tools/list pages followed */

/* The protocol versions whose transport and tool calls this client
 * speaks; a server that answers another is refused (the spec's rule). */
static const char *const VERSIONS[] = {"2025-11-25", "2025-06-18", "2025-03-26", NULL};

typedef struct {
    const ia_fetch_opts *fo;
    const ia_builtin_tool *srv;
    atomic_bool *cancel;
    char field[128]; /* "tools[0] (mcp_server 'weather')", the start of every message */
    char *sid;       /* Mcp-Session-Id, when the server gave one */
    char version[32];
    long next_id;
    int64_t deadline_ms; /* ia_mono_ms() by which the whole exchange ends (listing: every request of it) */
} sess;

static void sess_init(sess *s, const ia_fetch_opts *fo, const ia_builtin_tool *srv, atomic_bool *cancel) {
    int t = fo && fo->timeout_ms > 0 ? fo->timeout_ms : IA_FETCH_DEFAULT_TIMEOUT_MS;
    *s = (sess){.fo = fo, .srv = srv, .cancel = cancel, .next_id = 1, .deadline_ms = ia_mono_ms() + t};
    snprintf(s->field, sizeof s->field, "%s (mcp_server '%s')", srv->field ? srv->field : "tools",
             srv->name ? srv->name : "");
}

/* The request's headers, then the transport's. */
static const char **headers_of(const sess *s, size_t *n, char extra[2][160]) {
    const char **h = ia_xcalloc(s->srv->n_headers + 4, sizeof *h);
    *n = 0;
    for (size_t i = 0; i < s->srv->n_headers; i++) h[(*n)++] = s->srv->headers[i];
    h[(*n)++] = "Content-Type: application/json";
    h[(*n)++] = "Accept: application/json, text/event-stream";
    if (s->sid) {
        snprintf(extra[0], 160, "Mcp-Session-Id: %.120s", s->sid);
        h[(*n)++] = extra[0];
    }
    if (s->version[0]) {
        snprintf(extra[1], 160, "MCP-Protocol-Version: %s", s->version);
        h[(*n)++] = extra[1];
    }
    return h;
}

/* One HTTP exchange with the server: method and a body (NULL for none). */
static int exchange(sess *s, const char *method, const char *body, const char *keep, ia_fetched *f, ia_err *e) {
    size_t n;
    char extra[2][160];
    const char **h = headers_of(s, &n, extra);
    ia_fetch_req rq = {.method = method, .body = body, .body_len = body ? strlen(body) : 0,
                       .headers = h, .n_headers = n, .keep_header = keep, .cancel = s->cancel};
    /* one time limit for the whole session (its requests together), so a
     * slow server cannot stretch it request by request */
    ia_fetch_opts fo = s->fo ? *s->fo : (ia_fetch_opts){0};
    int64_t left = s->deadline_ms - ia_mono_ms();
    if (left < 1) {
        free(h);
        return ia_fail(e, IA_EINVALID, "%s: the server took longer than the time limit (--fetch-timeout)", s->field);
    }
    fo.timeout_ms = (int)left;
    int rc = ia_fetch_ex(s->srv->url, &fo, &rq, s->field, f, e);
    free(h);
    return rc;
}

/* A session id is visible ASCII (the spec's rule); another is not echoed
 * into a header line. */
static bool valid_sid(const char *v) {
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e) return false;
    return n > 0 && n <= 120;
}

/* A JSON-RPC request (or, with no result wanted, a notification) and,
 * for a request, its response's result (malloc'd compact JSON). */
static int rpc(sess *s, const char *method, json_t *params, char **result, ia_err *e) {
    long id = s->next_id++;
    json_t *m = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (result) json_object_set_new(m, "id", json_integer(id));
    if (params) json_object_set(m, "params", params);
    char *body = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    ia_fetched f;
    int rc = exchange(s, "POST", body, result && !s->sid ? "mcp-session-id" : NULL, &f, e);
    free(body);
    if (rc != 0 || !result) {
        ia_fetched_free(&f);
        return rc;
    }
    if (f.header && !s->sid && valid_sid(f.header)) s->sid = ia_strdup(f.header);
    bool sse = f.content_type && strcmp(f.content_type, "text/event-stream") == 0;
    char why[400];
    rc = ia_mcp_parse_response((const char *)f.data, f.len, sse, id, result, why, sizeof why);
    ia_fetched_free(&f);
    if (rc != 0) return ia_fail(e, IA_EINVALID, "%s: %s: %s", s->field, method, why);
    return 0;
}

static int check_version(sess *s, const char *result, ia_err *e) {
    json_t *r = json_loads(result, 0, NULL);
    const char *v = json_string_value(json_object_get(r, "protocolVersion"));
    bool known = false;
    for (size_t i = 0; v && VERSIONS[i] && !known; i++) known = strcmp(v, VERSIONS[i]) == 0;
    if (known) snprintf(s->version, sizeof s->version, "%s", v);
    json_decref(r);
    if (known) return 0;
    return ia_fail(e, IA_EINVALID, "%s: the server speaks MCP protocol version '%.40s', which this server "
                   "does not (it speaks %s, 2025-03-26)", s->field, v ? v : "(none)", IA_MCP_PROTOCOL_VERSION);
}

/* initialize, then notifications/initialized. */
static int sess_open(sess *s, ia_err *e) {
    json_t *p = json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", IA_MCP_PROTOCOL_VERSION,
                          "capabilities", "clientInfo", "name", "interactd", "version", "1");
    char *result = NULL;
    int rc = rpc(s, "initialize", p, &result, e);
    json_decref(p);
    if (rc == 0) rc = check_version(s, result, e);
    free(result);
    if (rc == 0) rc = rpc(s, "notifications/initialized", NULL, NULL, e);
    return rc;
}

/* Ends the session on the server (it may refuse: 405 is allowed), and
 * frees it. Not after a failure: a server that timed out or broke would
 * only cost the run another wait; its session expires on its own. */
static void sess_close(sess *s, bool ok) {
    if (s->sid && ok && !(s->cancel && atomic_load(s->cancel))) {
        ia_fetched f;
        ia_err e;
        if (exchange(s, "DELETE", NULL, NULL, &f, &e) != 0) ia_debug("%s: ending the session: %s", s->field, e.msg);
        ia_fetched_free(&f);
    }
    free(s->sid);
    s->sid = NULL;
}

/* ---- tools/list ---------------------------------------------------------- */

static int list_pages(sess *s, ia_mcp_tool **tools, size_t *n, ia_err *e) {
    char *cursor = NULL;
    int rc = 0;
    for (int page = 0; rc == 0 && page < MAX_PAGES; page++) {
        json_t *p = cursor ? json_pack("{s:s}", "cursor", cursor) : NULL;
        char *result = NULL, why[300];
        rc = rpc(s, "tools/list", p, &result, e);
        json_decref(p);
        free(cursor);
        cursor = NULL;
        if (rc == 0 && ia_mcp_parse_tools(result, tools, n, &cursor, why, sizeof why) != 0)
            rc = ia_fail(e, IA_EINVALID, "%s: tools/list: %s", s->field, why);
        free(result);
        if (!cursor || *n >= IA_MCP_MAX_TOOLS) break;
    }
    free(cursor);
    return rc;
}

int ia_mcp_list(const ia_fetch_opts *fo, const ia_builtin_tool *srv, atomic_bool *cancel, ia_mcp_tool **tools,
                size_t *n, ia_err *e) {
    sess s;
    sess_init(&s, fo, srv, cancel);
    *tools = NULL;
    *n = 0;
    int rc = sess_open(&s, e);
    if (rc == 0) rc = list_pages(&s, tools, n, e);
    sess_close(&s, rc == 0);
    if (rc != 0) {
        ia_mcp_tools_free(*tools, *n);
        *tools = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- tools/call ---------------------------------------------------------- */

/* A failure as the call's result: the reason, as text. */
static void error_result(const char *why, char **wire_json, char **model_text, bool *is_error) {
    /* a message cut to ia_err's size may end inside a character */
    char *text = ia_utf8_sanitize(why, strlen(why));
    json_t *w = json_pack("[{s:s, s:s}]", "type", "text", "text", text);
    *wire_json = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    *model_text = text;
    *is_error = true;
}

void ia_mcp_call(const ia_fetch_opts *fo, const ia_builtin_tool *srv, const char *tool, const char *args_json,
                 atomic_bool *cancel, char **wire_json, char **model_text, bool *is_error) {
    sess s;
    ia_err e = {0};
    char *result = NULL;
    sess_init(&s, fo, srv, cancel);
    json_t *args = json_loads(args_json ? args_json : "", 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        args = json_object();
    }
    json_t *p = json_pack("{s:s, s:O}", "name", tool ? tool : "", "arguments", args);
    int rc = sess_open(&s, &e);
    if (rc == 0) rc = rpc(&s, "tools/call", p, &result, &e);
    sess_close(&s, rc == 0);
    json_decref(p);
    json_decref(args);
    if (rc == 0) ia_mcp_call_result(result, wire_json, model_text, is_error);
    else error_result(e.msg, wire_json, model_text, is_error);
    free(result);
}
