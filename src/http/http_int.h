/* http_int: what the files of src/http/ share among themselves — the route
 * table (routes.c), the /metrics text (metrics.c), the SSE writer (sse.c),
 * the connection limits (limits.c), the per-request state and the answer
 * helpers (server.c), and the Files API's handlers (files.c). Not part of the module's contract; tests may use it. */
#ifndef IA_HTTP_HTTP_INT_H
#define IA_HTTP_HTTP_INT_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "core/core.h"
#include "core/files.h"
#include "core/fsearch.h"
#include "http/http.h"
#include "lib/util.h"

/* ---- routes (routes.c) --------------------------------------------------- */

typedef enum {
    IA_RT_NONE = 0, /* no such path: 404 */
    IA_RT_HEALTHZ,  /* GET /healthz */
    IA_RT_METRICS,  /* GET /metrics */
    IA_RT_CREATE,   /* POST /{v}/interactions; GET lists them (list.c) */
    IA_RT_ITEM,     /* GET | DELETE /{v}/interactions/{id} */
    IA_RT_CANCEL,   /* POST /{v}/interactions/{id}/cancel */
    IA_RT_UPLOAD,   /* POST /upload/{v}/files: the resumable upload (files.c) */
    IA_RT_FILES,    /* GET /{v}/files */
    IA_RT_FILE,     /* GET | DELETE /{v}/files/{id} */
    IA_RT_FILES_REGISTER, /* POST /{v}/files:register (GCS files: not served) */
    IA_RT_MODELS,   /* GET /{v}/models (models.c) */
    IA_RT_MODEL,    /* GET /{v}/models/{name} */
    IA_RT_CONSOLE,  /* GET / and /console/...: the web console (console.c), no key */
    IA_RT_AGENTS,   /* GET | POST /{v}/agents: SDK 3.3.0's custom agents (agents.c) */
    IA_RT_AGENT,    /* GET | DELETE /{v}/agents/{id} */
    IA_RT_STORES,   /* /{v}/fileSearchStores[...] and its upload door (fsearch.c) */
    IA_RT_EMBED,    /* POST /{v}/models/{name}:embedContent | :batchEmbedContents (embed.c) */
} ia_http_route_kind;

/* The Files API's routes answer errors in Google's classic shape. */
#define IA_HTTP_FILES_ROUTE(k) ((k) >= IA_RT_UPLOAD && (k) <= IA_RT_FILES_REGISTER)
/* ... and so do the models' (Google's models.list / models.get). */
#define IA_HTTP_CLASSIC_ROUTE(k) \
    (IA_HTTP_FILES_ROUTE(k) || (k) == IA_RT_MODELS || (k) == IA_RT_MODEL || (k) == IA_RT_STORES || \
     (k) == IA_RT_EMBED)

typedef struct ia_http_route {
    ia_http_route_kind kind;
    ia_dialect dialect;
    char version[8];    /* "v1beta" or "v1", as the path said */
    bool id_too_long;   /* the {id} is not one of ours (too long, malformed): 404 */
    bool bad_revision;  /* /v1beta with an Api-Revision that is not a date: 400 */
    bool embed_batch;   /* EMBED: :batchEmbedContents (else :embedContent) */
    char id[IA_ID_MAX]; /* percent-decoded {id} for ITEM, CANCEL and FILE; {name} for MODEL */
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

/* The major version N of the first `google-genai-sdk/N[.x.y]` token (the
 * name in any case) with a version in an x-goog-api-client value, tokens
 * split by blanks or commas ("google-genai-sdk/2.19.0 gl-python/3.11.7":
 * 2); -1 when there is none. */
int ia_http_sdk_major(const char *api_client);
/* Every x-goog-api-client line of the request, joined with ", " (malloc'd),
 * or NULL when there is none. */
char *ia_http_api_client(struct MHD_Connection *c);
/* true when rev is a real date written YYYY-MM-DD ("2026-05-20"). */
bool ia_http_revision_valid(const char *rev);
/* true when h carries a non-empty Api-Revision that is not valid. */
bool ia_http_revision_bad(const ia_http_hints *h);
/* Fills e with the 400 for a malformed Api-Revision rev; returns -1. */
int ia_http_revision_refusal(const char *rev, ia_err *e);
/* The dialect of a request (the rule is in dialect.c): steps_path for /v1;
 * h may be NULL (no headers, legacy default). */
ia_dialect ia_http_pick_dialect(bool steps_path, const ia_http_hints *h);

/* Routes a raw (still percent-encoded, query-less) path; the dialect comes
 * from the path and h (NULL: no headers, legacy default). Fills out; kind
 * NONE when nothing matches. */
void ia_http_route_parse(const char *raw_path, const ia_http_hints *h, ia_http_route *out);
/* true for an Interactions API route on /v1beta: its answer depends on
 * Api-Revision and x-goog-api-client (Vary). */
bool ia_http_route_varies(const ia_http_route *rt);
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

/* ---- the server and its requests (server.c) ------------------------------ */

struct ia_http {
    struct MHD_Daemon *daemon;
    ia_core *core;
    ia_files *files;    /* the Files API; NULL: its routes answer 404 */
    ia_fsearch *fsearch; /* file search stores; NULL: their routes answer 400 */
    const ia_http_keys *keys;
    size_t max_body;
    uint64_t drain_max; /* bytes of a refused body read and dropped, at most */
    ia_http_conns conns;
    ia_dialect default_dialect; /* for a /v1beta client that names none */
    char host[64];
    int port;
    atomic_bool stopping;
};

/* The upload commands of x-goog-upload-command (files.c). */
enum {
    IA_UPLOAD_START = 1,
    IA_UPLOAD_UPLOAD = 2,
    IA_UPLOAD_FINALIZE = 4,
    IA_UPLOAD_QUERY = 8,
    IA_UPLOAD_CANCEL = 16,
};

/* One request, from its first call to its completion. */
typedef struct ia_http_req {
    char rid[16];
    const char *err_code;  /* the wire code of the error answered, for the log */
    char err_reason[160];  /* its message, cut */
    double t0_ms;
    char method[16];
    char *path;       /* raw path, no query: for the log */
    ia_buf body;
    bool overflow;    /* the body passed the cap */
    bool responded;   /* a response is queued */
    bool refused;     /* refused from the headers; answered once the body ends */
    bool close_after; /* the answer says Connection: close (413, 503) */
    uint64_t dropped; /* body bytes read and dropped */
    ia_err refusal;   /* that answer */
    const char *refusal_allow; /* its Allow header (a static string), or NULL */
    ia_http_route rt; /* decided from the headers on the first call */
    char owner[65];   /* the authenticated owner ("" without keys) */
    int status;
    char iid[IA_ID_MAX];
    int64_t tokens;   /* -1 = unknown */
    ia_http_sse_sink sink;
    /* an upload request (IA_RT_UPLOAD with an upload_id): its command, and
     * the writer its body streams into (never into `body`) */
    unsigned upload_cmd;
    char upload_id[IA_FILE_UPLOAD_ID_MAX];
    ia_files_writer *writer;
} ia_http_req;

/* Queues body (malloc'd, taken over; "" for none) with status, ctype (NULL:
 * none) and the common headers, plus hdrs: NULL-terminated name, value
 * pairs (may be NULL). */
enum MHD_Result ia_http_send(ia_http_req *r, struct MHD_Connection *c, int status, char *body,
                             const char *ctype, const char *const *hdrs);
/* The error e in the shape of r's route (the Files API's or the
 * Interactions API's), plus hdrs as above. */
enum MHD_Result ia_http_send_err(ia_http_req *r, struct MHD_Connection *c, const ia_err *e,
                                 const char *const *hdrs);
/* GET /{v}/interactions: a page of owner's stored interactions (list.c). */
enum MHD_Result ia_http_list(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const char *owner);

/* ---- the Files API (files.c) ------------------------------------------------ */

/* x-goog-upload-command: comma-separated commands, any case and blanks:
 * "start", "upload", "upload, finalize", "finalize", "query", "cancel" (as
 * IA_UPLOAD_* bits). -1 for an unknown word or another combination. */
int ia_http_upload_command(const char *s, unsigned *out);
/* A header's non-negative decimal int64 (digits only, no sign, no blanks
 * but around it); -1 when malformed or out of range. */
int ia_http_parse_int64(const char *s, int64_t *out);
/* Called from precheck once auth passed, for a Files API route: checks what
 * the headers alone decide and, for an upload chunk, opens its writer
 * (r->writer). -1 with e set: the request is refused. */
int ia_http_files_precheck(ia_http *h, ia_http_req *r, struct MHD_Connection *c, ia_err *e);
/* true when the request's body streams to an upload (not gathered). */
bool ia_http_files_streams(const ia_http_req *r);
/* A body piece of an upload chunk: written through r->writer. -1 with e set
 * when it cannot be (the writer is then closed; the rest of the body is to
 * be dropped and e answered). */
int ia_http_files_piece(ia_http_req *r, const char *data, size_t n, ia_err *e);
/* The whole request is in: answer it. */
/* ---- the web console (console.c) ------------------------------------------ */

/* true for the paths the console answers: "/", "/console", "/console/...". */
bool ia_http_console_path(const char *raw_path);
/* Answers GET/HEAD of a console path: the embedded file with its content
 * type, ETag (304 on a matching If-None-Match) and no-cache; 404 JSON for a
 * name that is not one of the console's files. */
enum MHD_Result ia_http_console_serve(ia_http_req *r, struct MHD_Connection *c);

enum MHD_Result ia_http_files_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c);
/* http://HOST + prefix + "/" + version: the base of the URLs answered (the
 * client's Host when it is a plain host[:port], else the address bound). */
char *ia_http_base_url(ia_http *h, struct MHD_Connection *c, const char *prefix, const char *version);
/* ---- file search stores (fsearch.c) ---------------------------------------- */
enum MHD_Result ia_http_fsearch_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c);
/* A Files API upload f was just finalized: when a store's document waits
 * for it, ingests it and answers the Operation (*handled true). */
enum MHD_Result ia_http_fsearch_finalized(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const ia_file *f,
                                          bool *handled);
/* ---- models (models.c): GET /{v}/models[/{name}] -------------------------- */
enum MHD_Result ia_http_agents_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c,
                                        const char *method);
/* A create body whose agent names a custom agent: that agent merged into
 * rq (api's ia_api_agent_apply); 0 with nothing done for any other. */
int ia_http_agents_resolve(ia_http *h, const char *owner, ia_request *rq, ia_err *e);
enum MHD_Result ia_http_models_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c);
/* POST /{v}/models/{name}:embedContent and :batchEmbedContents (embed.c). */
enum MHD_Result ia_http_embed_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c);
/* The request ends (completed or abandoned): a writer still open records the
 * bytes that arrived, so the upload resumes from there. */
void ia_http_files_done(ia_http_req *r);
/* For a create whose input names Files API files (image/audio/video/document
 * content with a files URI): -1 with e = 404 naming the part when one is not
 * the caller's (or does not exist). */
int ia_http_files_check_refs(ia_http *h, const char *owner, const char *body, size_t len, ia_err *e);

#endif
