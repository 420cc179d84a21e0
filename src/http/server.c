/* server: the libmicrohttpd daemon and the request handlers. Each request
 * gets one `req` (allocated on libmicrohttpd's first call, freed in the
 * completion callback, which also writes the access-log line). Everything
 * the headers decide is decided on that first call, before any body byte is
 * read: the connection's admission (limits.c: past --max-connections, a
 * 503), routing (routes.c: the endpoint and the dialect), the method, auth
 * (the owner), and a Content-Length over the cap. A request refused there
 * never has its body buffered, so a client without a key cannot make the
 * server hold --max-body bytes; a body it sends anyway is read and dropped,
 * up to a bound, before the answer (see precheck). The body of an accepted
 * request is gathered under a hard cap; then the core is called with structs
 * that api/ decoded and its results are encoded by api/ again: no wire JSON
 * is written here except /healthz and the last-resort error body (/metrics
 * is Prometheus text, written by metrics.c). */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http.h"
#include "http/http_int.h"
#include "lib/log.h"

#define DEFAULT_MAX_BODY ((size_t)10 << 20)
/* libmicrohttpd's per-connection memory pool, cleared (memset) before every
 * request on a connection, so its size is paid on each GET: at 128 KiB that
 * clearing was ~8% of a stored GET (bench/RESULTS.md). It holds the request
 * line and headers (parsed in place) with their index, the read buffer whose
 * contents are the upload chunks on_request sees (the body itself is copied
 * out into req.body, so the chunk size only sets how often we are called),
 * the response headers, and the block an SSE frame is written through (sse.c
 * writes a frame over several blocks when it must). None of that needs more
 * than a few KiB for our clients (the SDK sends < 2 KiB of headers); 32 KiB,
 * libmicrohttpd's own default, still takes one header of ~30 KiB or about
 * 100 headers of 100 bytes (tests/e2e/basics.test.mjs checks 16 KiB); more
 * is answered 431 by libmicrohttpd itself. */
#define CONN_POOL ((size_t)32 << 10)
/* A body the client sends although it is refused (over --max-body, or
 * before a 401/404/...) is read and dropped before the answer: closing under
 * a client that is still writing makes it fail on the write (Node's fetch,
 * so the SDK, and Python's requests report a reset, not the 413). The
 * bound is that of nginx's lingering close, in bytes and time: past
 * max(64 MiB, 4 x --max-body) or DRAIN_MS from the request's start, the
 * answer goes out at once and the connection is closed. */
#define DRAIN_MIN ((uint64_t)64 << 20)
#define DRAIN_MS 10000.0
/* Each connection's thread: what a handler needs (jansson's parser nests at
 * most 2,048 deep, SQLite, the core) is far below this; glibc's default,
 * the 8 MiB of `ulimit -s`, is reserved address space per connection. */
#define THREAD_STACK ((size_t)1 << 20)
/* Defaults when ia_http_opts leaves them 0 (cli/main.c passes its own). */
#define DEFAULT_MAX_CONNS 1024u

typedef ia_http_req req;

/* Monotonic milliseconds with a fraction: the access log shows sub-ms times. */
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* libmicrohttpd's own messages (a client that went away mid-stream, ...)
 * are routine for a server: debug lines in our format, not raw stderr. */
static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    ia_debug("http: %s", msg);
}

/* ---- responses ------------------------------------------------------------ */

/* A /v1beta interaction's answer is in the dialect its Api-Revision and
 * x-goog-api-client picked (dialect.c): a cache must not hand one client's
 * body to the other. */
static void add_vary(const req *r, struct MHD_Response *resp) {
    if (ia_http_route_varies(&r->rt))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Api-Revision, x-goog-api-client");
}

enum MHD_Result ia_http_send(req *r, struct MHD_Connection *c, int status, char *body, const char *ctype,
                             const char *const *hdrs) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "x-request-id", r->rid);
    add_vary(r, resp);
    for (size_t i = 0; hdrs && hdrs[i] && hdrs[i + 1]; i += 2) MHD_add_response_header(resp, hdrs[i], hdrs[i + 1]);
    if (r->close_after) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->status = status;
    r->responded = true;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Queues body (malloc'd, taken over) with status and the common headers. */
static enum MHD_Result send_body(req *r, struct MHD_Connection *c, int status, char *body,
                                 const char *ctype, const char *allow, int retry_after) {
    char ra[24];
    const char *hdrs[5] = {NULL};
    size_t n = 0;
    if (allow && *allow) hdrs[n++] = MHD_HTTP_HEADER_ALLOW, hdrs[n++] = allow;
    if (retry_after > 0) {
        snprintf(ra, sizeof ra, "%d", retry_after);
        hdrs[n++] = MHD_HTTP_HEADER_RETRY_AFTER, hdrs[n++] = ra;
    }
    return ia_http_send(r, c, status, body, ctype, hdrs);
}

static enum MHD_Result send_json(req *r, struct MHD_Connection *c, int status, char *json) {
    return send_body(r, c, status, json, "application/json", NULL, 0);
}

static enum MHD_Result send_err_hdrs(req *r, struct MHD_Connection *c, const ia_err *e,
                                     const char *allow, const char *const *more) {
    /* The Files API answers in Google's classic error shape, the
     * Interactions API in its own. */
    char *body = IA_HTTP_CLASSIC_ROUTE(r->rt.kind) ? ia_api_files_encode_error(e) : ia_api_encode_error(e);
    if (!body) {
        /* Last resort (api/ could not encode): the same shape, by hand. */
        json_t *o = json_pack("{s:{s:s,s:s}}", "error", "message", e->msg, "code",
                              ia_err_wire_code(e->code));
        body = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!body) body = ia_strdup("{\"error\":{\"message\":\"internal error\",\"code\":\"internal\"}}");
    }
    r->err_code = ia_err_wire_code(e->code);
    size_t n = strnlen(e->msg, sizeof r->err_reason - 1);
    memcpy(r->err_reason, e->msg, n);
    r->err_reason[n] = '\0';
    char ra[24];
    const char *hdrs[16] = {NULL};
    size_t k = 0;
    if (allow && *allow) hdrs[k++] = MHD_HTTP_HEADER_ALLOW, hdrs[k++] = allow;
    if (e->code == IA_EOVERLOADED || e->code == IA_ERATELIMIT || e->code == IA_ECONFLICT) {
        snprintf(ra, sizeof ra, "%d", e->retry_after > 0 ? e->retry_after : 1);
        hdrs[k++] = MHD_HTTP_HEADER_RETRY_AFTER, hdrs[k++] = ra;
    }
    for (size_t i = 0; more && more[i] && more[i + 1] && k + 2 < 16; i += 2)
        hdrs[k++] = more[i], hdrs[k++] = more[i + 1];
    return ia_http_send(r, c, ia_err_http_status(e->code), body, "application/json", hdrs);
}

enum MHD_Result ia_http_send_err(req *r, struct MHD_Connection *c, const ia_err *e, const char *const *hdrs) {
    return send_err_hdrs(r, c, e, NULL, hdrs);
}

static enum MHD_Result send_err_allow(req *r, struct MHD_Connection *c, const ia_err *e,
                                      const char *allow) {
    return send_err_hdrs(r, c, e, allow, NULL);
}

static enum MHD_Result send_err(req *r, struct MHD_Connection *c, const ia_err *e) {
    return send_err_allow(r, c, e, NULL);
}

static enum MHD_Result fail(req *r, struct MHD_Connection *c, ia_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result fail(req *r, struct MHD_Connection *c, ia_errcode code, const char *fmt, ...) {
    ia_err e;
    va_list ap;
    va_start(ap, fmt);
    ia_vfail(&e, code, fmt, ap);
    va_end(ap);
    return send_err(r, c, &e);
}

static enum MHD_Result send_stream(ia_http *h, req *r, struct MHD_Connection *c, ia_sub *sub,
                                   ia_dialect d) {
    const char *id = ia_sub_id(sub);
    if (id) snprintf(r->iid, sizeof r->iid, "%s", id);
    struct MHD_Response *resp = ia_http_sse_response(sub, d, c, h->conns.timeout_s, &h->stopping, &r->sink);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, "x-request-id", r->rid);
    add_vary(r, resp);
    r->status = 200;
    r->responded = true;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Sends the interaction as JSON and notes it for the access log. fetched:
 * as GET answers it (in the steps dialect its steps begin with the input). */
static enum MHD_Result send_interaction(req *r, struct MHD_Connection *c, ia_interaction *it,
                                       bool include_input, bool fetched, ia_dialect d) {
    snprintf(r->iid, sizeof r->iid, "%s", it->id);
    if (it->has_usage) r->tokens = it->usage.input + it->usage.output + it->usage.thought;
    char *body = fetched ? ia_api_encode_fetched(it, include_input, d)
                         : ia_api_encode_interaction(it, include_input, d);
    ia_interaction_free(it);
    if (!body) return fail(r, c, IA_EINTERNAL, "could not encode the interaction");
    return send_json(r, c, 200, body);
}

/* ---- query parameters ------------------------------------------------------- */

/* The decoded value of query parameter name (malloc'd), or NULL if absent.
 * *bad is set when it is present but not decodable. */
static char *query(struct MHD_Connection *c, const char *name, bool *bad) {
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v) return NULL;
    char *s = ia_strdup(v);
    if (ia_http_pct_decode(s) < 0) {
        *bad = true;
        free(s);
        return NULL;
    }
    return s;
}

/* A boolean query parameter: 0, or -1 after answering 400. */
static int query_bool(req *r, struct MHD_Connection *c, const char *name, bool *out) {
    bool bad = false;
    char *v = query(c, name, &bad);
    int rc = 0;
    if (bad || (v && ia_http_parse_bool(v, out) < 0)) {
        fail(r, c, IA_EINVALID, "%s: expected true or false", name);
        rc = -1;
    }
    free(v);
    return rc;
}

/* ---- auth ------------------------------------------------------------------- */

/* Fills owner from the headers (or ?key=); -1 with e set to the 401/403. */
static int authenticate(ia_http *h, struct MHD_Connection *c, char owner[65], ia_err *e) {
    owner[0] = '\0';
    if (!ia_http_keys_count(h->keys)) return 0;
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-goog-api-key");
    char *qkey = NULL;
    if (!key || !*key) {
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (a && !strncasecmp(a, "Bearer ", 7)) {
            key = a + 7;
            while (*key == ' ') key++;
        }
    }
    if (!key || !*key) {
        bool bad = false;
        qkey = query(c, "key", &bad);
        key = qkey;
    }
    int rc = 0;
    if (!key || !*key)
        rc = ia_fail(e, IA_EUNAUTHENTICATED,
                     "missing API key: send it in the x-goog-api-key header (or ?key=)");
    else if (!ia_http_keys_check(h->keys, key, owner))
        rc = ia_fail(e, IA_EPERMISSION, "API key not valid");
    free(qkey);
    return rc;
}

/* ---- endpoints -------------------------------------------------------------- */

static enum MHD_Result do_healthz(ia_http *h, req *r, struct MHD_Connection *c) {
    json_t *models = json_array();
    const char *names = h->core ? ia_core_model_names(h->core) : "";
    while (names && *names) {
        while (*names == ' ') names++; /* the list reads "a, b" */
        const char *comma = strchr(names, ',');
        size_t n = comma ? (size_t)(comma - names) : strlen(names);
        if (n) json_array_append_new(models, json_stringn(names, n));
        names += n;
        if (*names == ',') names++;
    }
    json_t *o = json_pack("{s:s,s:o}", "status", "ok", "models", models);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return send_json(r, c, 200, body ? body : ia_strdup("{\"status\":\"ok\"}"));
}

/* /metrics is not open like /healthz: it tells how much each model is used
 * (jobs, tokens, cache), which is not every client's business, so with keys
 * configured it needs one like the API routes (precheck); any valid key will
 * do, since the counters belong to no one key. */
static enum MHD_Result do_metrics(ia_http *h, req *r, struct MHD_Connection *c) {
    return send_body(r, c, 200, ia_http_metrics_text(h->core), IA_HTTP_METRICS_CTYPE, NULL, 0);
}

typedef struct waiter {
    ia_http *h;
    int fd;
} waiter;

static bool client_gone(void *ud) {
    waiter *w = ud;
    return atomic_load(&w->h->stopping) || ia_http_peer_gone(w->fd);
}

static enum MHD_Result do_create(ia_http *h, req *r, struct MHD_Connection *c, const char *owner,
                                 ia_dialect d) {
    ia_request rq;
    ia_err e;
    ia_err_clear(&e);
    memset(&rq, 0, sizeof rq);
    if (ia_api_decode_create_dialect(r->body.data, r->body.len, d, &rq, &e) < 0) {
        ia_request_free(&rq);
        /* Media parts are not served yet (400), but one naming a file that
         * is not the caller's is a 404 first, as it will stay. */
        if (e.code == IA_EUNIMPLEMENTED)
            ia_http_files_check_refs(h, owner, r->body.data, r->body.len, &e);
        return send_err(r, c, &e);
    }
    if (ia_http_agents_resolve(h, owner, &rq, &e) < 0) {
        ia_request_free(&rq);
        return send_err(r, c, &e);
    }
    bool stream = rq.stream;
    ia_interaction out;
    memset(&out, 0, sizeof out);
    ia_sub *sub = NULL;
    /* A plain create waits for its generation; if its client leaves (the
     * SDK gives up after its timeout, then retries) or the server stops,
     * the generation is cancelled rather than run for nobody. */
    waiter w = {.h = h, .fd = -1};
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) w.fd = ci->connect_fd;
    int rc = ia_core_create_ex(h->core, owner, &rq, &out, stream ? &sub : NULL, client_gone, &w, &e);
    ia_request_free(&rq); /* zeroed by the core; frees what a failure left */
    if (rc < 0) {
        ia_interaction_free(&out);
        return send_err(r, c, &e);
    }
    if (stream) return send_stream(h, r, c, sub, d);
    return send_interaction(r, c, &out, false, false, d);
}

static enum MHD_Result do_get(ia_http *h, req *r, struct MHD_Connection *c, const char *owner,
                              const ia_http_route *rt) {
    bool include_input = false, stream = false;
    if (query_bool(r, c, "include_input", &include_input) < 0) return MHD_YES;
    if (query_bool(r, c, "stream", &stream) < 0) return MHD_YES;
    ia_err e;
    ia_err_clear(&e);
    if (stream) {
        int64_t after = 0;
        bool bad = false;
        char *leid = query(c, "last_event_id", &bad);
        if (bad) return fail(r, c, IA_EINVALID, "last_event_id: malformed percent-encoding");
        if (leid && *leid) {
            after = ia_api_parse_event_id(rt->id, leid);
            if (after < 0) {
                free(leid);
                return fail(r, c, IA_EINVALID,
                            "last_event_id: not an event of interaction %s", rt->id);
            }
        }
        free(leid);
        ia_sub *sub = NULL;
        if (ia_core_subscribe(h->core, owner, rt->id, after, &sub, &e) < 0) return send_err(r, c, &e);
        return send_stream(h, r, c, sub, rt->dialect);
    }
    ia_interaction it;
    memset(&it, 0, sizeof it);
    if (ia_core_get(h->core, owner, rt->id, &it, &e) < 0) {
        ia_interaction_free(&it);
        return send_err(r, c, &e);
    }
    return send_interaction(r, c, &it, include_input, true, rt->dialect);
}

static enum MHD_Result do_cancel(ia_http *h, req *r, struct MHD_Connection *c, const char *owner,
                                 const ia_http_route *rt) {
    ia_err e;
    ia_err_clear(&e);
    ia_interaction it;
    memset(&it, 0, sizeof it);
    if (ia_core_cancel(h->core, owner, rt->id, &it, &e) < 0) {
        ia_interaction_free(&it);
        return send_err(r, c, &e);
    }
    return send_interaction(r, c, &it, false, false, rt->dialect);
}

static enum MHD_Result do_delete(ia_http *h, req *r, struct MHD_Connection *c, const char *owner,
                                 const ia_http_route *rt) {
    ia_err e;
    ia_err_clear(&e);
    snprintf(r->iid, sizeof r->iid, "%s", rt->id);
    if (ia_core_delete(h->core, owner, rt->id, &e) < 0) return send_err(r, c, &e);
    return send_json(r, c, 200, ia_strdup("{}"));
}

/* The headers are in, no body byte yet: check the connection's admission,
 * route, check the method, authenticate, check a declared length. A request
 * refused here (503, 404, 405, 401, 403, 413) never has its body buffered.
 * When no body is to come, or the client waits for "100 Continue" before
 * sending it, or it declared more than the drain bound, the answer is
 * queued at once: libmicrohttpd then sends no 100, reads no more of the
 * body and closes the connection after the answer. Otherwise (a body the
 * client is already sending) the body is read and dropped as it comes, up
 * to the bound (DRAIN_MIN), and the answer goes out when it ends: closing
 * under a client that is still writing makes it fail on the write (Node's
 * fetch, so the SDK, reports EPIPE or a reset instead of the answer). */
static enum MHD_Result precheck(ia_http *h, req *r, struct MHD_Connection *c, const char *url,
                                const char *method) {
    ia_http_route *rt = &r->rt;
    char *api_client = ia_http_api_client(c);
    const char *revision = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Api-Revision");
    ia_http_hints hints = {.api_revision = revision, .api_client = api_client,
                           .default_dialect = h->default_dialect};
    ia_http_route_parse(url, &hints, rt);
    free(api_client);
    ia_err *e = &r->refusal;
    const char *allow = NULL;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = 0;
    if (cl) {
        char *end;
        declared = strtoull(cl, &end, 10);
        if (end == cl) declared = 0;
    }
    if (ia_http_conn_overflow(c)) {
        /* Accepted beyond --max-connections: a clear answer the SDK retries
         * (503 with Retry-After), and the connection is given back. */
        r->close_after = true;
        ia_fail(e, IA_EOVERLOADED, "the server is at its connection limit (--max-connections %u); "
                "retry shortly", h->conns.max);
    } else if (rt->kind == IA_RT_NONE) {
        ia_fail(e, IA_ENOTFOUND, "no such path: %s", r->path);
    } else if (!ia_http_route_method_ok(rt->kind, method)) {
        allow = ia_http_route_allow(rt->kind);
        ia_fail(e, IA_EMETHOD, "method %s is not allowed on %s (allowed: %s)", method, r->path, allow);
    } else if (rt->kind != IA_RT_HEALTHZ /* open; /metrics is not (do_metrics) */ &&
               rt->kind != IA_RT_CONSOLE /* static files; the page asks for the key */ &&
               authenticate(h, c, r->owner, e) < 0) {
        /* e is the 401/403 */
    } else if (rt->bad_revision && !IA_HTTP_CLASSIC_ROUTE(rt->kind)) {
        /* A revision that is not a date cannot be compared: answered in the
         * dialect the rest of the rule gave, never guessed from it. */
        ia_http_revision_refusal(revision, e);
    } else if (IA_HTTP_FILES_ROUTE(rt->kind) && ia_http_files_precheck(h, r, c, e) < 0) {
        /* e says why (an upload chunk's limits are checked there: its body
         * streams to disk, so --max-body does not apply to it) */
    } else if (declared > h->max_body && !ia_http_files_streams(r)) {
        r->close_after = true;
        ia_fail(e, IA_ETOOLARGE, "request body over the limit of %zu bytes (--max-body)", h->max_body);
    } else {
        return MHD_YES; /* accepted: the body (if any) is gathered */
    }
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    bool body_coming = declared > 0 || (te && *te);
    bool waits_for_100 = expect && strcasestr(expect, "100-continue");
    if (!body_coming || waits_for_100 || declared > h->drain_max)
        return send_err_allow(r, c, e, allow);
    r->refused = true;
    r->refusal_allow = allow;
    return MHD_YES;
}

/* The whole request is in and passed precheck: serve it. */
static enum MHD_Result dispatch(ia_http *h, req *r, struct MHD_Connection *c, const char *method) {
    if (r->overflow) {
        r->close_after = true;
        return fail(r, c, IA_ETOOLARGE, "request body over the limit of %zu bytes (--max-body)",
                    h->max_body);
    }
    const ia_http_route *rt = &r->rt;
    if (rt->kind == IA_RT_HEALTHZ) return do_healthz(h, r, c);
    if (rt->kind == IA_RT_METRICS) return do_metrics(h, r, c);
    if (rt->kind == IA_RT_CONSOLE) return ia_http_console_serve(r, c);
    /* Both dialects are served: the handlers pass rt->dialect to api/, which
     * decodes and encodes in it over the same core and store. */
    if (IA_HTTP_FILES_ROUTE(rt->kind)) return ia_http_files_dispatch(h, r, c);
    if (rt->kind == IA_RT_MODELS || rt->kind == IA_RT_MODEL) return ia_http_models_dispatch(h, r, c);
    if (rt->kind == IA_RT_EMBED) return ia_http_embed_dispatch(h, r, c);
    if (rt->kind == IA_RT_AGENTS || rt->kind == IA_RT_AGENT) return ia_http_agents_dispatch(h, r, c, method);
    if (rt->kind == IA_RT_STORES) return ia_http_fsearch_dispatch(h, r, c);
    if (rt->id_too_long) return fail(r, c, IA_ENOTFOUND, "interaction not found");
    switch (rt->kind) {
    case IA_RT_CREATE:
        return !strcmp(method, "GET") ? ia_http_list(h, r, c, r->owner) : do_create(h, r, c, r->owner, rt->dialect);
    case IA_RT_CANCEL: return do_cancel(h, r, c, r->owner, rt);
    case IA_RT_ITEM:
        return !strcmp(method, "DELETE") ? do_delete(h, r, c, r->owner, rt)
                                         : do_get(h, r, c, r->owner, rt);
    default: return fail(r, c, IA_ENOTFOUND, "no such path: %s", r->path);
    }
}

/* Drops an upload chunk of a refused body; true once past the drain bound. */
static bool drop(ia_http *h, req *r, size_t *upload_size) {
    r->dropped += *upload_size;
    *upload_size = 0;
    if (r->dropped <= h->drain_max && now_ms() - r->t0_ms <= DRAIN_MS) return false;
    r->close_after = true;
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls) {
    (void)version;
    ia_http *h = cls;
    req *r = *con_cls;
    if (!r) {
        r = ia_xcalloc(1, sizeof *r);
        r->t0_ms = now_ms();
        r->tokens = -1;
        r->sink.tokens = -1;
        unsigned char rnd[6] = {0};
        ia_random(rnd, sizeof rnd);
        for (int i = 0; i < 6; i++) snprintf(r->rid + 2 * i, 3, "%02x", rnd[i]);
        snprintf(r->method, sizeof r->method, "%s", method);
        r->path = ia_strdup(url);
        ia_buf_init(&r->body, h->max_body);
        *con_cls = r;
        return precheck(h, r, c, url, method);
    }
    if (r->responded || r->refused) {
        /* Refused from the headers: whatever body comes is dropped, never
         * buffered; a refusal still owed goes out when the body has ended,
         * or at once past the drain bound. */
        if (*upload_size) {
            bool past = drop(h, r, upload_size);
            if (past && !r->responded) return send_err_allow(r, c, &r->refusal, r->refusal_allow);
            return MHD_YES;
        }
        return r->responded ? MHD_YES : send_err_allow(r, c, &r->refusal, r->refusal_allow);
    }
    if (*upload_size && r->writer) {
        /* An upload chunk streams to its blob as it comes; a piece it
         * cannot take (past a limit, a disk error) ends the writing, and
         * the rest is dropped before the answer, as for a refusal. */
        ia_err e;
        if (ia_http_files_piece(r, upload_data, *upload_size, &e) < 0) {
            r->refusal = e;
            r->refused = true;
            r->refusal_allow = NULL;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        /* A chunked body has no length up front: past the cap the rest is
         * dropped as it comes, and the answer is 413 once it ends (or at
         * once past the drain bound). */
        if (!r->overflow && ia_buf_append(&r->body, upload_data, *upload_size) < 0) {
            r->overflow = true;
            ia_buf_free(&r->body);
        }
        if (!r->overflow) *upload_size = 0;
        else if (drop(h, r, upload_size)) return dispatch(h, r, c, method);
        return MHD_YES;
    }
    /* The handler's time (a create waits for its generation) is not the
     * client's idle time: the inactivity clock stops, and restarts with the
     * answer. */
    ia_http_conn_hold(c);
    enum MHD_Result ret = dispatch(h, r, c, method);
    ia_http_conn_touch(c, h->conns.timeout_s);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    ia_http_sse_unlink(&r->sink);
    ia_http_files_done(r);
    int status = r->status;
    if (!r->responded) status = 499; /* the client left before an answer */
    int64_t tokens = r->tokens >= 0 ? r->tokens : r->sink.tokens;
    ia_log_request(r->rid, r->method, r->path, status, now_ms() - r->t0_ms,
                   r->iid, tokens, r->err_code, r->err_reason);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && r->responded)
        ia_debug("request %s ended early (%d)", r->rid, (int)toe);
    ia_buf_free(&r->body);
    free(r->path);
    free(r);
}

/* libmicrohttpd's unescaping is switched off: routes.c decodes the {id} and
 * query values itself, after splitting (a `%2F` in an id stays in the id). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s) {
    (void)cls;
    (void)c;
    return strlen(s);
}

/* ---- start / stop ------------------------------------------------------------ */

ia_http *ia_http_start(const ia_http_opts *o, ia_err *err) {
    ia_http_listener own, *l = o->listener;
    if (!l) {
        l = &own;
        if (ia_http_listen(o->host, o->port, ia_http_keys_count(o->keys) > 0, l, err) < 0) return NULL;
    }
    ia_http *h = ia_xcalloc(1, sizeof *h);
    h->core = o->core;
    h->files = o->files;
    h->fsearch = o->fsearch;
    h->keys = o->keys;
    h->default_dialect = o->default_dialect;
    h->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    h->drain_max = (uint64_t)h->max_body * 4 > DRAIN_MIN ? (uint64_t)h->max_body * 4 : DRAIN_MIN;
    ia_http_conns_init(&h->conns, o->max_connections ? o->max_connections : DEFAULT_MAX_CONNS,
                       o->max_connections_per_ip, o->read_timeout_s);
    atomic_init(&h->stopping, false);
    snprintf(h->host, sizeof h->host, "%s", l->host);
    h->port = l->port;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | MHD_USE_POLL;
    if (strchr(l->host, ':')) flags |= MHD_USE_IPv6;
    /* libmicrohttpd's own total limit stays above ours: at its limit it
     * stops accepting, and new clients would wait in the backlog; ours
     * answers them (ia_http_conns_accept, then precheck's 503). */
    unsigned mhd_limit = h->conns.max + h->conns.overflow + 16;
    h->daemon = MHD_start_daemon(flags, 0, ia_http_conns_accept, &h->conns, on_request, h,
                                 MHD_OPTION_LISTEN_SOCKET, (MHD_socket)l->fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL,
                                 MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->conns.per_ip,
                                 MHD_OPTION_CONNECTION_TIMEOUT, h->conns.timeout_s,
                                 MHD_OPTION_NOTIFY_CONNECTION, ia_http_conns_notify, &h->conns,
                                 MHD_OPTION_THREAD_STACK_SIZE, THREAD_STACK,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        ia_fail(err, IA_EINTERNAL, "cannot serve on %s:%d", h->host, h->port);
        ia_http_listener_close(l);
        free(h);
        return NULL;
    }
    l->fd = -1; /* the daemon owns (and closes) it now */
    return h;
}

int ia_http_port(const ia_http *h) { return h->port; }
const char *ia_http_host(const ia_http *h) { return h->host; }
bool ia_http_auth_enabled(const ia_http *h) { return ia_http_keys_count(h->keys) > 0; }

void ia_http_stop(ia_http *h) {
    if (!h) return;
    /* Streams see the flag on their next tick and end, so the stop below
     * does not wait on a generation that nobody will read. */
    atomic_store(&h->stopping, true);
    MHD_stop_daemon(h->daemon);
    free(h);
}
