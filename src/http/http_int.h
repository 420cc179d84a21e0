/* http_int: what the files of src/http/ share among themselves — the route
 * table (routes.c), the /metrics text (metrics.c), the SSE writer (sse.c),
 * the connection limits (limits.c) and the per-request state (server.c). Not part of the module's contract; tests may use it. */
#ifndef IA_HTTP_HTTP_INT_H
#define IA_HTTP_HTTP_INT_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "core/core.h"
#include "lib/util.h"

/* ---- routes (routes.c) --------------------------------------------------- */

typedef enum {
    IA_RT_NONE = 0, /* no such path: 404 */
    IA_RT_HEALTHZ,  /* GET /healthz */
    IA_RT_METRICS,  /* GET /metrics */
    IA_RT_CREATE,   /* POST /{v}/interactions */
    IA_RT_ITEM,     /* GET | DELETE /{v}/interactions/{id} */
    IA_RT_CANCEL,   /* POST /{v}/interactions/{id}/cancel */
} ia_http_route_kind;

typedef struct ia_http_route {
    ia_http_route_kind kind;
    ia_dialect dialect;
    bool id_too_long;   /* the {id} is longer than any id of ours: 404 */
    char id[IA_ID_MAX]; /* percent-decoded {id} for ITEM and CANCEL */
} ia_http_route;

/* The oldest Api-Revision that selects the steps dialect. */
#define IA_HTTP_STEPS_REVISION "2026-05-20"

/* ---- dialect (dialect.c) -------------------------------------------------- */

/* What a request says about the dialect it parses, and the server's default
 * for one that says nothing. */
typedef struct ia_http_hints {
    const char *api_revision;   /* the Api-Revision header, or NULL */
    const char *api_client;     /* the x-goog-api-client header, or NULL */
    ia_dialect default_dialect; /* --default-dialect */
} ia_http_hints;

/* The major version N of a `google-genai-sdk/N[.x.y]` token in an
 * x-goog-api-client value ("google-genai-sdk/2.19.0 gl-python/3.11.7": 2);
 * -1 when there is none or it is not a version. */
int ia_http_sdk_major(const char *api_client);
/* The dialect of a request (the rule is in dialect.c): steps_path for /v1;
 * h may be NULL (no headers, legacy default). */
ia_dialect ia_http_pick_dialect(bool steps_path, const ia_http_hints *h);

/* Routes a raw (still percent-encoded, query-less) path; the dialect comes
 * from the path and h (NULL: no headers, legacy default). Fills out; kind
 * NONE when nothing matches. */
void ia_http_route_parse(const char *raw_path, const ia_http_hints *h, ia_http_route *out);
/* The methods a route accepts, for Allow ("GET, DELETE"). */
const char *ia_http_route_allow(ia_http_route_kind k);
/* true when method is one the route accepts. */
bool ia_http_route_method_ok(ia_http_route_kind k, const char *method);
/* Percent-decodes s in place; returns its new length, or -1 on a malformed
 * escape or an encoded NUL (s is then unspecified). */
long ia_http_pct_decode(char *s);
/* Parses a query boolean ("true"/"false", also "1"/"0"): 0 / -1. */
int ia_http_parse_bool(const char *s, bool *out);

/* ---- metrics (metrics.c) ------------------------------------------------ */

/* The Prometheus text (exposition format 0.0.4) of every engine of core
 * (NULL: no engine, only the HELP and TYPE lines). malloc'd. */
char *ia_http_metrics_text(ia_core *core);
#define IA_HTTP_METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---- connection limits (limits.c) --------------------------------------- */

typedef struct ia_http_conns {
    unsigned max;        /* connections served at once */
    unsigned overflow;   /* accepted beyond max only to be answered 503 */
    unsigned per_ip;     /* per client address; 0 = none */
    unsigned timeout_s;  /* inactivity timeout; 0 = none */
    atomic_uint served;  /* open connections counted against max */
    atomic_uint over;    /* open connections of the 503 room */
} ia_http_conns;

/* Raises the descriptor limit, fits max (and the 503 room, max/16, at least
 * 16) under it, and logs the limits. */
void ia_http_conns_init(ia_http_conns *k, unsigned max, unsigned per_ip, unsigned timeout_s);
/* libmicrohttpd's accept policy (cls = the conns): closes a connection at
 * once when both the served and the 503 room are full. */
enum MHD_Result ia_http_conns_accept(void *cls, const struct sockaddr *addr, socklen_t len);
/* libmicrohttpd's connection notification (cls = the conns): counts and
 * marks each connection as served or overflow. */
void ia_http_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
/* true when c was accepted beyond max: its requests are answered 503. */
bool ia_http_conn_overflow(struct MHD_Connection *c);
/* Stops c's inactivity clock (a handler is working: not the client's idle). */
void ia_http_conn_hold(struct MHD_Connection *c);
/* Restarts c's inactivity clock from now at timeout_s (0: no timeout). */
void ia_http_conn_touch(struct MHD_Connection *c, unsigned timeout_s);

/* ---- SSE (sse.c) --------------------------------------------------------- */

/* Where a stream reports what the access log wants; owned by the request,
 * unlinked by whichever side goes first (both run on the connection's
 * thread, so no lock is needed). */
typedef struct ia_http_sse ia_http_sse;
typedef struct ia_http_sse_sink {
    int64_t tokens;      /* usage total once the COMPLETE event passed; -1 before */
    ia_http_sse *stream; /* NULL once the stream was freed */
} ia_http_sse_sink;

/* A streaming response over sub (taken over: closed when the response is
 * freed). stopping, when set, ends the stream at the next tick. Each frame
 * handed out restarts conn's inactivity clock at timeout_s (0: none), so
 * only a client that stops reading times out. NULL on OOM (sub is then
 * closed). */
struct MHD_Response *ia_http_sse_response(ia_sub *sub, ia_dialect d,
                                          struct MHD_Connection *conn, unsigned timeout_s,
                                          const atomic_bool *stopping,
                                          ia_http_sse_sink *sink);
/* The request is done: the stream must not touch sink any more. */
void ia_http_sse_unlink(ia_http_sse_sink *sink);

/* Keep-alive comment after this much silence. */
#define IA_HTTP_PING_MS 15000
/* How long the SSE reader waits for an event before checking the peer. */
#define IA_HTTP_TICK_MS 250

/* true when the peer of socket fd hung up or the socket failed (fd < 0:
 * unknown, false). One non-blocking poll. */
bool ia_http_peer_gone(int fd);

#endif
