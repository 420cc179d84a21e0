/* fetch: GET an http(s) URL a client named (a media part's `uri`; later
 * url_context, MCP servers, upstreams) into memory, without letting the URL
 * reach what only the server can reach.
 *
 * What is refused, each as an ia_err whose message starts with `field`:
 *  - schemes other than http and https (file:, ftp:, gopher:, data:, ...),
 *    for the URL and for every redirect, and URLs with a user or password:
 *    400;
 *  - non-public addresses (netaddr.h: loopback, private, link-local, ...),
 *    unless allow_private or the address is in allow_addrs: 400, naming
 *    the address, its kind and the --allow-private-urls flag. The check is
 *    made on the address each socket is about to connect to (curl's
 *    open-socket callback), for the first request and every redirect, so
 *    neither a name that resolves to a private address, DNS rebinding
 *    between a check and the connect, nor a redirect gets past it; a
 *    reused connection was checked when it was opened. IP literals (and,
 *    through a proxy, "localhost" names) are refused before any I/O;
 *  - more than max_redirects redirects: 400;
 *  - a body over max_bytes: 413, refused from its Content-Length before
 *    the body, else when the bytes pass the limit (chunked); never more
 *    than max_bytes are held;
 *  - the remote answering a status outside 2xx (after redirects): 400
 *    naming it — the client's URL is bad, our server is not;
 *  - names that do not resolve, refused connections, TLS failures, broken
 *    answers, timeouts (total or connect): 400. Not 504 or 408: the SDKs
 *    retry those, and a URL that does not answer in time is the user's to
 *    fix, not something a retry of the same request mends;
 *  - a configured proxy that cannot be resolved or reached, running out of
 *    memory: 500 (the server's, not the client's).
 *
 * Proxies: with no explicit opts.proxy, the proxy is taken from the
 * environment the way curl reads it (http_proxy; https_proxy/HTTPS_PROXY;
 * all_proxy/ALL_PROXY; no_proxy/NO_PROXY excludes hosts), but decided here,
 * per request, and handed to curl explicitly, so this module always knows
 * whether a socket goes to the proxy. A proxy is trusted as the operator
 * configured it: its own address is not checked (a corporate proxy is
 * usually a private address), and where it connects is its business — we
 * cannot see the address it resolves a name to. What the URL itself shows
 * is still refused: a non-public IP literal, and "localhost" / "*.localhost"
 * (loopback by definition, RFC 6761). Hosts excluded by no_proxy are
 * connected to directly and checked like any other.
 *
 * Threads: ia_fetch may run in many threads at once; each call has its own
 * curl handle (no shared connection pool or DNS cache). curl's global state
 * is set up once, under pthread_once, by ia_fetch_global_init, which the
 * first ia_fetch calls; a server may call it at start-up so that the set-up
 * (and a failure of it) comes before any request. Nothing else in the
 * process may call curl_global_init or _cleanup. Timeouts do not use signals
 * (CURLOPT_NOSIGNAL), so the process must ignore SIGPIPE (the server
 * does). */
#ifndef IA_LIB_FETCH_H
#define IA_LIB_FETCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

#define IA_FETCH_DEFAULT_MAX_BYTES ((size_t)20 << 20) /* 20 MiB */
#define IA_FETCH_DEFAULT_TIMEOUT_MS 30000
#define IA_FETCH_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define IA_FETCH_DEFAULT_MAX_REDIRECTS 5

/* A zeroed struct (or NULL) is the defaults. */
typedef struct ia_fetch_opts {
    size_t max_bytes;       /* body cap; 0: IA_FETCH_DEFAULT_MAX_BYTES */
    int timeout_ms;         /* the whole fetch, redirects included; 0: default */
    int connect_timeout_ms; /* each connection; 0: default */
    int max_redirects;      /* 0: default (5); < 0: none followed */
    bool allow_private;     /* --allow-private-urls: no address is refused */
    /* Non-public addresses allowed all the same (an operator's internal
     * hosts), as netaddr.h's lists: "10.0.0.5:8080, [fd00::1], 10.20.0.0/16";
     * matched against the address connected to (and an IP literal in the
     * URL), never a name. NULL: none. Check it at start-up with
     * ia_addr_list_check. */
    const char *allow_addrs;
    /* NULL: from the environment (see above); "": no proxy; else the proxy
     * URL for every request, with no_proxy (curl's syntax, NULL = none)
     * naming the hosts that go direct. */
    const char *proxy;
    const char *no_proxy;
    const char *user_agent; /* NULL: "interactd" */
} ia_fetch_opts;

typedef struct ia_fetched {
    unsigned char *data; /* malloc'd, len bytes plus a NUL not counted */
    size_t len;
    char *content_type;  /* the mime type without parameters, lower case; NULL if none */
    char *final_url;     /* after redirects */
    long status;         /* the final HTTP status (2xx, or any with any_status) */
    char *header;        /* ia_fetch_req.keep_header's value in the answer; NULL if absent */
} ia_fetched;

/* Why an ia_fetch_ex failed, for a caller that maps failures to its own
 * errors (an upstream engine's timeout is a 504, not the 400 of a client's
 * URL). */
typedef enum {
    IA_FETCH_FAIL_NONE = 0,
    IA_FETCH_FAIL_REFUSED,   /* the URL or an address refused by the rules above */
    IA_FETCH_FAIL_TIMEOUT,   /* the whole fetch or a connection took too long */
    IA_FETCH_FAIL_CONNECT,   /* the name did not resolve, or no connection was made */
    IA_FETCH_FAIL_TOO_BIG,   /* the answer passed max_bytes */
    IA_FETCH_FAIL_CANCELLED, /* the cancel flag was set */
    IA_FETCH_FAIL_STATUS,    /* an answer outside 2xx (without any_status) */
    IA_FETCH_FAIL_REDIRECT,  /* a redirect not followed (a body's, or too many) */
    IA_FETCH_FAIL_OTHER,     /* a broken answer, TLS, out of memory, ... */
} ia_fetch_fail;

/* One part of a multipart/form-data body (curl's MIME API builds it). */
typedef struct ia_fetch_part {
    const char *name;     /* the form field's name ("prompt", "image[]") */
    const char *data;     /* len bytes */
    size_t len;
    const char *filename; /* a file part's name; NULL for a plain field */
    const char *type;     /* a file part's Content-Type; NULL: curl's guess */
} ia_fetch_part;

/* A request beyond a plain GET (an MCP server's JSON-RPC over POST). The
 * same address rules, limits and messages as ia_fetch; a request with a
 * body follows no redirect (a 3xx answer is an error naming it), since
 * re-sending a body to wherever a Location points is not the client's
 * call to make. */
typedef struct ia_fetch_req {
    const char *method;          /* NULL or "GET"; "POST" (sends body or parts); "DELETE" */
    const char *body;            /* POST's body, body_len bytes */
    size_t body_len;
    const ia_fetch_part *parts;  /* POST: a multipart/form-data body instead of body */
    size_t n_parts;
    const char *const *headers;  /* "Name: value" lines sent with the request */
    size_t n_headers;
    const char *keep_header;     /* a 2xx answer's header kept in ia_fetched.header */
    atomic_bool *cancel;         /* polled while the transfer runs: set, it ends with an error */
    /* Every final answer is returned, whatever its status (ia_fetched.status),
     * with its body under the same cap, and keep_header kept from it: for a
     * caller that reads an API's error bodies. A redirect is still a
     * redirect (followed or refused as above). */
    bool any_status;
    ia_fetch_fail *fail;         /* not NULL: set to why the fetch failed (NONE on success) */
    /* Not NULL: a 2xx answer's body is handed to sink as it arrives, in
     * the pieces curl reads (any size > 0), instead of being held:
     * ia_fetched.data is then empty, and max_bytes does not bound it (the
     * timeout does). Non-zero from sink ends the transfer as cancelled
     * (IA_FETCH_FAIL_CANCELLED). Other answers' bodies are held as
     * above (any_status). */
    int (*sink)(void *ud, const unsigned char *p, size_t n);
    void *sink_ud;
} ia_fetch_req;

/* Sets up libcurl's global state; once per process, thread-safe. 0 / -1. */
int ia_fetch_global_init(ia_err *e);

/* GETs url into *out (zeroed first; on failure left empty, so there is
 * nothing to free). o may be NULL. field names the URL's place in the
 * request ("input[0].uri") and starts every message. 0 / -1. */
int ia_fetch(const char *url, const ia_fetch_opts *o, const char *field, ia_fetched *out,
             ia_err *e);
/* ia_fetch with rq (NULL: ia_fetch itself). */
int ia_fetch_ex(const char *url, const ia_fetch_opts *o, const ia_fetch_req *rq, const char *field,
                ia_fetched *out, ia_err *e);
void ia_fetched_free(ia_fetched *f);
/* Whether a failed ia_fetch was refused for a non-public address (rather
 * than failing on the network or at the remote). */
bool ia_fetch_refused(const ia_err *e);

/* The checks made before any I/O (scheme, user and password, an IP literal
 * or, through a proxy, localhost as the host), so a request can be refused
 * while it is decoded. 0 / -1. */
int ia_fetch_check_url(const char *url, const ia_fetch_opts *o, const char *field, ia_err *e);

/* The proxy ia_fetch uses for a URL of this scheme ("http", "https") and
 * host, or NULL to connect directly (curl's rules for the environment and
 * no_proxy: "*", names matching as themselves or as a domain suffix, IP
 * addresses and CIDR networks). The string is o's or the environment's. */
const char *ia_fetch_proxy_for(const ia_fetch_opts *o, const char *scheme, const char *host);

#endif
