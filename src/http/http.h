/* http: the HTTP front door (libmicrohttpd). It parses requests, enforces the
 * body cap, authenticates API keys, routes to the core and encodes what the
 * core returns through api/ — JSON for plain calls, Server-Sent Events for
 * streams. It knows nothing of models or storage.
 *
 * Threads: libmicrohttpd runs one thread per connection, so a handler may
 * block (a non-streaming create waits for its generation to end). A client
 * that disconnects from a non-background stream cancels its generation.
 *
 * Limits: connections in total and per client address, an inactivity
 * timeout for reading requests and for idle keep-alive connections (not for
 * a handler at work or a stream handing out events), and a body over the cap
 * read and dropped up to a bound before its 413 (limits.c, server.c).
 *
 * Dialects, per request (dialect.c): /v1 is the steps dialect (SDK 3.x). On
 * /v1beta an explicit `Api-Revision` decides (>= 2026-05-20: steps, older:
 * legacy); without one, a client naming itself `google-genai-sdk/N`, N >= 2,
 * in `x-goog-api-client` (SDK 2.x / 3.x) gets steps, and anyone else (SDK
 * 1.x, curl, no header) opts->default_dialect, legacy unless set otherwise.
 * Both are served over the same core and store: the request is decoded and
 * every answer (JSON, SSE, GET of an interaction made in the other dialect)
 * encoded in the caller's dialect. Error bodies have one shape in both.
 *
 * Metrics: GET /metrics answers every served model's engine counters and
 * layout in Prometheus' text format (label model="NAME").
 *
 * Auth: with at least one key, every route but /healthz needs a valid key
 * (x-goog-api-key, `Authorization: Bearer`, or ?key=): none is a 401, a wrong
 * one a 403. The caller's identity (owner) is the hex SHA-256 of its key, so
 * keys never reach the store. /metrics is no exception (it reveals usage);
 * /healthz is open, for load balancers and probes. With no key the owner is
 * "" and the server binds loopback only, whatever host was asked for. */
#ifndef IA_HTTP_HTTP_H
#define IA_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "core/core.h"
#include "core/files.h"
#include "lib/err.h"

/* ---- API keys ---------------------------------------------------------- */

/* A set of API keys, held as SHA-256 hashes only. */
typedef struct ia_http_keys ia_http_keys;

ia_http_keys *ia_http_keys_new(void);
void ia_http_keys_free(ia_http_keys *k); /* NULL is a no-op */
/* Adds one key; surrounding blanks are trimmed; an empty key is ignored. */
void ia_http_keys_add(ia_http_keys *k, const char *key);
/* Adds each key of a comma-separated list (INTERACTD_API_KEYS). */
void ia_http_keys_add_list(ia_http_keys *k, const char *csv);
/* Adds the keys of a file: one a line, `#` comments and blank lines ignored.
 * -1 with err (naming the path) when it cannot be read. */
int ia_http_keys_load_file(ia_http_keys *k, const char *path, ia_err *err);
size_t ia_http_keys_count(const ia_http_keys *k);
/* true when key is in the set; then owner holds its hex SHA-256. The whole
 * set is compared in constant time, whatever matches. */
bool ia_http_keys_check(const ia_http_keys *k, const char *key, char owner[65]);

/* ---- the server ---------------------------------------------------------- */

typedef struct ia_http ia_http;

/* A bound, listening socket (listen.c), made before the daemon exists. */
typedef struct ia_http_listener {
    int fd;                        /* -1 when none */
    char host[64];                 /* the address bound, numeric */
    int port;                      /* the port bound (the one picked for 0) */
} ia_http_listener;

/* Resolves host, binds host:port and listens. With auth off and a host that
 * is not loopback, it warns loudly and binds 127.0.0.1 instead. -1 + err
 * naming address, port and reason (a taken port says so) on failure. */
int ia_http_listen(const char *host, int port, bool auth, ia_http_listener *l, ia_err *err);
/* Closes a listener that was never handed to ia_http_start. */
void ia_http_listener_close(ia_http_listener *l);

typedef struct ia_http_opts {
    const char *host;           /* address to bind; NULL = 127.0.0.1 */
    int port;                   /* 0 = a free port (see ia_http_port) */
    size_t max_body;            /* request body cap in bytes; 0 = 10 MiB */
    ia_core *core;              /* borrowed; outlives the server */
    const ia_http_keys *keys;   /* borrowed; NULL or empty = auth off */
    unsigned max_connections;   /* served at once; 0 = 1024. Beyond: 503, then closed */
    unsigned max_connections_per_ip; /* per client address; 0 = no limit */
    unsigned read_timeout_s;    /* inactivity while reading a request or idle
                                   between requests; 0 = none */
    ia_http_listener *listener; /* NULL: bind host:port here; else its socket
                                   is taken over (on success and on failure) */
    ia_dialect default_dialect; /* /v1beta without Api-Revision nor an SDK >= 2
                                   header; 0 = IA_DIALECT_LEGACY */
    ia_files *files;            /* borrowed; the Files API (NULL: its routes
                                   answer 404) */
    struct ia_fsearch *fsearch; /* borrowed; file search stores (NULL: their
                                   routes answer 400) */
} ia_http_opts;

/* Starts serving, on opts->listener or on a socket bound here as
 * ia_http_listen does. NULL + err on failure (e.g. the port is taken:
 * IA_EINTERNAL naming host and port). */
ia_http *ia_http_start(const ia_http_opts *opts, ia_err *err);
/* The port and address actually bound. */
int ia_http_port(const ia_http *h);
const char *ia_http_host(const ia_http *h);
bool ia_http_auth_enabled(const ia_http *h);
/* Stops accepting, ends open streams, waits for handlers to return, frees.
 * A blocking create still running finishes first. NULL is a no-op. */
void ia_http_stop(ia_http *h);

#endif
