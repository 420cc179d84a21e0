/* fetch: http(s) GET into memory over libcurl, with the address policy of
 * netaddr.h applied to every socket (fetch.h states the contract).
 *
 * Redirects are followed here, not by curl (CURLOPT_FOLLOWLOCATION off):
 * each Location goes through the same checks as the first URL (scheme,
 * user and password, IP literal, the proxy decision) before it is
 * requested, and an error can say which hop was refused and where it was
 * redirected from. The open-socket callback is the check that matters; the
 * checks on the URL only refuse early what is plain from its text, and
 * are all there is for what a proxy connects to. */
#include "lib/fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/netaddr.h"
#include "lib/util.h"

/* A URL in a message is cut to this many characters, so the reason after
 * it still fits ia_err's 512 bytes. */
#define URL_SHOWN 150
#define ALLOW_HINT "(start the server with --allow-private-urls to allow it)"

/* ---- curl's global state -------------------------------------------- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_init_once(void) { g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

int ia_fetch_global_init(ia_err *e) {
    pthread_once(&g_once, global_init_once);
    if (g_init_rc != CURLE_OK)
        return ia_fail(e, IA_EINTERNAL, "fetch: curl_global_init: %s", curl_easy_strerror(g_init_rc));
    return 0;
}

/* ---- options ------------------------------------------------------------ */

typedef struct {
    size_t max_bytes;
    long timeout_ms, connect_ms;
    int max_redirects;
    const ia_fetch_opts *o; /* allow_private, allow_addrs, proxy, user agent */
} cfg;

static cfg cfg_of(const ia_fetch_opts *o) {
    static const ia_fetch_opts none;
    if (!o) o = &none;
    cfg c = {.o = o};
    c.max_bytes = o->max_bytes ? o->max_bytes : IA_FETCH_DEFAULT_MAX_BYTES;
    if (c.max_bytes > ((size_t)1 << 40)) c.max_bytes = (size_t)1 << 40; /* curl_off_t, cap + 1 */
    c.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : IA_FETCH_DEFAULT_TIMEOUT_MS;
    c.connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : IA_FETCH_DEFAULT_CONNECT_TIMEOUT_MS;
    c.max_redirects = o->max_redirects < 0   ? 0
                      : o->max_redirects ? o->max_redirects
                                         : IA_FETCH_DEFAULT_MAX_REDIRECTS;
    return c;
}

/* ---- proxies -------------------------------------------------------- */

static const char *env2(const char *a, const char *b) {
    const char *v = getenv(a);
    if ((!v || !*v) && b) v = getenv(b);
    return v && *v ? v : NULL;
}

/* A no_proxy name entry matches the host itself or a domain below it;
 * leading and trailing dots do not count (".example.com" = "example.com"). */
static bool name_match(const char *host, const char *tok, size_t tn) {
    size_t hn = strlen(host);
    while (tn && *tok == '.') tok++, tn--;
    if (tn && tok[tn - 1] == '.') tn--;
    if (hn && host[hn - 1] == '.') hn--;
    if (!tn) return false;
    if (hn == tn) return strncasecmp(host, tok, tn) == 0;
    return hn > tn && host[hn - tn - 1] == '.' && strncasecmp(host + hn - tn, tok, tn) == 0;
}

static bool no_proxy_match(const char *list, const char *host) {
    struct sockaddr_storage ss;
    bool literal = ia_addr_parse_literal(host, &ss) == 0;
    for (const char *p = list; p && *p;) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n == 1 && *p == '*') return true;
        if (n && (literal ? ia_addr_net_match(p, n, (struct sockaddr *)&ss) : name_match(host, p, n)))
            return true;
        p += n;
    }
    return false;
}

const char *ia_fetch_proxy_for(const ia_fetch_opts *o, const char *scheme, const char *host) {
    const char *proxy, *no_proxy;
    if (o && o->proxy) {
        proxy = *o->proxy ? o->proxy : NULL;
        no_proxy = o->no_proxy;
    } else {
        /* As curl: no upper-case HTTP_PROXY, which a CGI's request header
         * could set ("httpoxy"). */
        proxy = strcasecmp(scheme, "https") == 0 ? env2("https_proxy", "HTTPS_PROXY")
                                                 : env2("http_proxy", NULL);
        if (!proxy) proxy = env2("all_proxy", "ALL_PROXY");
        no_proxy = env2("no_proxy", "NO_PROXY");
    }
    return proxy && !no_proxy_match(no_proxy, host) ? proxy : NULL;
}

/* ---- messages ----------------------------------------------------------- */

/* Where a failure happened: the field, the hop's URL and, after a
 * redirect, the URL that redirected there. */
typedef struct {
    const char *field, *url, *from;
} where;

static void cut(const char *url, char out[URL_SHOWN + 4]) {
    snprintf(out, URL_SHOWN + 4, "%.*s%s", URL_SHOWN, url, strlen(url) > URL_SHOWN ? "..." : "");
}

/* "FIELD: LEAD URL (redirected from FROM): REASON" */
__attribute__((format(printf, 5, 6))) static int fail_at(ia_err *e, ia_errcode code, const where *w,
                                                         const char *lead, const char *fmt, ...) {
    char reason[384], url[URL_SHOWN + 4], from[URL_SHOWN + 4] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    cut(w->url, url);
    if (w->from) cut(w->from, from);
    return ia_fail(e, code, "%s: %s%s%s%s%s: %s", w->field, lead, url, w->from ? " (redirected from " : "",
                   from, w->from ? ")" : "", reason);
}

/* ---- the checks on a URL's text ----------------------------------------- */

/* The URL's scheme, lower-cased, into out; -1 when it has none. */
static int scheme_of(const char *url, char out[16]) {
    size_t n = 0;
    if (!isalpha((unsigned char)url[0])) return -1;
    while (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' || url[n] == '.') n++;
    if (url[n] != ':') return -1;
    snprintf(out, 16, "%.*s", (int)(n < 15 ? n : 15), url);
    for (char *p = out; *p; p++) *p = (char)tolower((unsigned char)*p);
    return 0;
}

static bool is_localhost_name(const char *h) {
    size_t n = strlen(h);
    if (n && h[n - 1] == '.') n--;
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(h + n - 10, ".localhost", 10) == 0);
}

/* A parsed hop. curl is given the URL as its own parser wrote it back
 * (not the CURLU: a reused easy handle keeps reporting the previous
 * handle's URL), and parses that normalized text to the same parts. */
typedef struct {
    CURLU *u;
    char *url; /* normalized */
    char scheme[16];
    char *host;
    long port;
    const char *proxy; /* NULL: direct */
} hop;

static void hop_free(hop *h) {
    curl_url_cleanup(h->u);
    curl_free(h->url);
    curl_free(h->host);
    *h = (hop){0};
}

static int parse_hop(const char *url, const where *w, hop *h, ia_err *e) {
    if (scheme_of(url, h->scheme) != 0)
        return fail_at(e, IA_EINVALID, w, "", "not an absolute http or https URL");
    if (strcmp(h->scheme, "http") != 0 && strcmp(h->scheme, "https") != 0)
        return fail_at(e, IA_EINVALID, w, "", "only http and https URLs are fetched, not %s:", h->scheme);
    if (!(h->u = curl_url())) return ia_fail(e, IA_EINTERNAL, "%s: out of memory", w->field);
    CURLUcode uc = curl_url_set(h->u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK)
        return fail_at(e, IA_EINVALID, w, "", "not a valid URL (%s)", curl_url_strerror(uc));
    char *user = NULL, *pw = NULL, *port = NULL;
    bool creds = curl_url_get(h->u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                 curl_url_get(h->u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK;
    curl_free(user);
    curl_free(pw);
    /* Not echoed: the URL holds a secret. */
    if (creds)
        return ia_fail(e, IA_EINVALID, "%s: a URL with a user name or password is not fetched", w->field);
    if (curl_url_get(h->u, CURLUPART_URL, &h->url, 0) != CURLUE_OK)
        return ia_fail(e, IA_EINTERNAL, "%s: out of memory", w->field);
    if (curl_url_get(h->u, CURLUPART_HOST, &h->host, CURLU_URLDECODE) != CURLUE_OK || !h->host[0])
        return fail_at(e, IA_EINVALID, w, "", "the URL has no host");
    if (curl_url_get(h->u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) h->port = atol(port);
    curl_free(port);
    return 0;
}

/* The host as an address with the URL's port, for the allow list. */
static bool literal_allowed(const hop *h, const cfg *c, struct sockaddr_storage *ss) {
    if (ss->ss_family == AF_INET) ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)h->port);
    else ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)h->port);
    return ia_addr_list_match(c->o->allow_addrs, (struct sockaddr *)ss);
}

/* What the URL's text alone shows: a non-public IP literal, and through a
 * proxy (which we cannot watch connect) the names that are loopback. */
static int check_host(const hop *h, const cfg *c, const where *w, ia_err *e) {
    struct sockaddr_storage ss;
    if (c->o->allow_private) return 0;
    if (ia_addr_parse_literal(h->host, &ss) == 0) {
        if (ia_addr_is_public((struct sockaddr *)&ss) || literal_allowed(h, c, &ss)) return 0;
        char text[IA_ADDR_TEXT_MAX];
        ia_addr_text((struct sockaddr *)&ss, text);
        return fail_at(e, IA_EINVALID, w, "refused to fetch ", "%s is %s " ALLOW_HINT, text,
                       ia_addr_kind_name(ia_addr_kind_of((struct sockaddr *)&ss)));
    }
    if (h->proxy && is_localhost_name(h->host))
        return fail_at(e, IA_EINVALID, w, "refused to fetch ", "%s is a loopback name " ALLOW_HINT, h->host);
    return 0;
}

static int check_hop(const char *url, const cfg *c, const where *w, hop *h, ia_err *e) {
    *h = (hop){0};
    if (parse_hop(url, w, h, e) != 0) return -1;
    h->proxy = ia_fetch_proxy_for(c->o, h->scheme, h->host);
    return check_host(h, c, w, e);
}

int ia_fetch_check_url(const char *url, const ia_fetch_opts *o, const char *field, ia_err *e) {
    if (!field) field = "url";
    if (!url) return ia_fail(e, IA_EINVALID, "%s: no URL", field);
    cfg c = cfg_of(o);
    where w = {field, url, NULL};
    hop h;
    int rc = check_hop(w.url, &c, &w, &h, e);
    hop_free(&h);
    return rc;
}

/* ---- the transfer ------------------------------------------------------- */

typedef struct {
    /* the socket policy, set per hop */
    bool direct; /* false: the hop goes through the proxy, which is trusted */
    const cfg *c;
    bool refused;
    char refused_addr[IA_ADDR_TEXT_MAX];
    ia_addr_kind refused_kind;
    /* the answer */
    long status;    /* from the last status line */
    char *location; /* a 3xx answer's Location, as sent */
    bool skipped;   /* a body not read: not a 2xx answer's */
    unsigned char *data;
    size_t len, cap;
    bool too_big;
    /* ia_fetch_ex's request (NULL: a plain GET) and the header it keeps */
    const ia_fetch_req *rq;
    char *kept;
    bool cancelled;
    curl_mime *mime; /* rq's parts, freed with the transfer */
} xfer;

/* The caller asked for every answer, not only 2xx ones. */
static bool any_status(const xfer *x) { return x->rq && x->rq->any_status; }

/* A 2xx answer's body goes to the caller's sink, not into memory. */
static bool sunk(const xfer *x) { return x->rq && x->rq->sink && x->status >= 200 && x->status < 300; }

/* An answer whose body and kept header are wanted. */
static bool wanted(const xfer *x) { return (x->status >= 200 && x->status < 300) || any_status(x); }

static void set_fail(const xfer *x, ia_fetch_fail f) {
    if (x->rq && x->rq->fail && *x->rq->fail == IA_FETCH_FAIL_NONE) *x->rq->fail = f;
}

/* Every socket curl opens, to the origin or a redirect's host, passes
 * here with the address it is about to connect to. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
    xfer *x = clientp;
    struct sockaddr_storage ss = {0};
    (void)purpose;
    memcpy(&ss, &a->addr, a->addrlen < sizeof ss ? a->addrlen : sizeof ss);
    const struct sockaddr *sa = (const struct sockaddr *)&ss;
    if (x->direct && !x->c->o->allow_private && !ia_addr_is_public(sa) &&
        !ia_addr_list_match(x->c->o->allow_addrs, sa)) {
        if (!x->refused) {
            x->refused = true;
            ia_addr_text(sa, x->refused_addr);
            x->refused_kind = ia_addr_kind_of(sa);
        }
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static bool ok_status(long s) { return s >= 200 && s < 300; }

/* The value of header line p[0..len) if it is the header name's, trimmed
 * (malloc'd), else NULL. */
static char *header_value(const char *p, size_t len, const char *name) {
    size_t n = strlen(name);
    if (len <= n || strncasecmp(p, name, n) != 0 || p[n] != ':') return NULL;
    const char *v = p + n + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && isspace((unsigned char)end[-1])) end--;
    return ia_strndup(v, (size_t)(end - v));
}

/* Keeps the status and a redirect's Location, and refuses a 2xx answer
 * whose Content-Length is over the cap before its body. (Not
 * CURLOPT_MAXFILESIZE: it would refuse a 404's or a redirect's length
 * too, and curl keeps no redirect URL from a transfer it ended.) */
static size_t on_header(char *p, size_t size, size_t n, void *clientp) {
    xfer *x = clientp;
    size_t len = size * n;
    char *v;
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new answer (after a 1xx) */
        const char *code = memchr(p, ' ', len);
        x->status = code ? strtol(code + 1, NULL, 10) : 0;
        free(x->location);
        x->location = NULL;
    } else if (x->status >= 300 && x->status < 400 && !x->location &&
               (v = header_value(p, len, "location"))) {
        x->location = v;
    } else if (wanted(x) && x->rq && x->rq->keep_header && !x->kept &&
               (v = header_value(p, len, x->rq->keep_header))) {
        x->kept = v;
    } else if (wanted(x) && !sunk(x) && (v = header_value(p, len, "content-length"))) {
        bool over = strtoull(v, NULL, 10) > x->c->max_bytes;
        free(v);
        if (over) {
            x->too_big = true;
            return 0; /* CURLE_WRITE_ERROR */
        }
    }
    return len;
}

/* Holds at most max_bytes: a body that would pass them ends the transfer.
 * A body that is not a 2xx answer's ends it at once: only its status (or
 * its Location) is wanted. */
static size_t on_body(char *p, size_t size, size_t n, void *clientp) {
    xfer *x = clientp;
    size_t add = size * n, max = x->c->max_bytes;
    if (!wanted(x) || (x->location && x->status >= 300 && x->status < 400)) {
        x->skipped = true;
        return 0;
    }
    if (sunk(x)) {
        if (add && x->rq->sink(x->rq->sink_ud, (const unsigned char *)p, add) != 0) {
            x->cancelled = true;
            return 0; /* CURLE_WRITE_ERROR */
        }
        return add;
    }
    if (add > max - x->len) {
        x->too_big = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (x->len + add > x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16384;
        if (cap < x->len + add) cap = x->len + add;
        if (cap > max) cap = max;
        x->data = ia_xrealloc(x->data, cap + 1);
        x->cap = cap;
    }
    memcpy(x->data + x->len, p, add);
    x->len += add;
    return add;
}

/* The caller's cancel flag, polled by curl (about once a second while
 * waiting, more often while data flows). */
static int on_progress(void *clientp, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    xfer *x = clientp;
    (void)dt, (void)dn, (void)ut, (void)un;
    if (x->rq && x->rq->cancel && atomic_load(x->rq->cancel)) x->cancelled = true;
    return x->cancelled;
}

/* A multipart/form-data body from rq's parts (x->mime, freed with the
 * transfer). */
static int set_parts(CURL *h, xfer *x) {
    const ia_fetch_req *rq = x->rq;
    if (!(x->mime = curl_mime_init(h))) return -1;
    int bad = 0;
    for (size_t i = 0; i < rq->n_parts; i++) {
        const ia_fetch_part *p = &rq->parts[i];
        curl_mimepart *m = curl_mime_addpart(x->mime);
        if (!m) return -1;
        bad |= curl_mime_name(m, p->name) | curl_mime_data(m, p->data ? p->data : "", p->len);
        if (p->filename) bad |= curl_mime_filename(m, p->filename);
        if (p->type) bad |= curl_mime_type(m, p->type);
    }
    return bad || curl_easy_setopt(h, CURLOPT_MIMEPOST, x->mime) ? -1 : 0;
}

/* The method, body, headers and cancel flag of ia_fetch_ex's request;
 * *hdrs is the header list to free after the transfer. */
static int set_request(CURL *h, xfer *x, struct curl_slist **hdrs) {
    const ia_fetch_req *rq = x->rq;
    int bad = 0;
    *hdrs = NULL;
    if (!rq) return 0;
    if (rq->method && strcmp(rq->method, "POST") == 0 && rq->n_parts) {
        if (set_parts(h, x) != 0) return -1;
    } else if (rq->method && strcmp(rq->method, "POST") == 0)
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len) |
               curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    else if (rq->method && strcmp(rq->method, "GET") != 0)
        bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    for (size_t i = 0; i < rq->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(*hdrs, rq->headers[i]);
        if (!n) return -1;
        *hdrs = n;
    }
    /* no "Expect: 100-continue" round trip before a larger body */
    struct curl_slist *n = curl_slist_append(*hdrs, "Expect:");
    if (!n) return -1;
    *hdrs = n;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    if (rq->cancel)
        bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) |
               curl_easy_setopt(h, CURLOPT_XFERINFODATA, x) | curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    return bad ? -1 : 0;
}

static CURL *easy_new(xfer *x, const cfg *c, char errbuf[CURL_ERROR_SIZE]) {
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    const char *ua = c->o->user_agent ? c->o->user_agent : "interactd";
    int bad = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) |
              curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") |
              curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") |
              curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) |
              curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) |
              curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket) |
              curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, x) |
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) |
              curl_easy_setopt(h, CURLOPT_WRITEDATA, x) |
              curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) |
              curl_easy_setopt(h, CURLOPT_HEADERDATA, x) |
              /* A proxy's CONNECT answer is not the origin's. */
              curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L) |
              curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms) |
              curl_easy_setopt(h, CURLOPT_USERAGENT, ua) |
              curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) |
              /* The proxy is set per hop; never curl's own pick from the
               * environment, which this module could not see. */
              curl_easy_setopt(h, CURLOPT_NOPROXY, "");
    if (bad) {
        curl_easy_cleanup(h);
        return NULL;
    }
    return h;
}

static int transfer_error(CURLcode rc, const xfer *x, const hop *h, const cfg *c, const where *w,
                          const char *errbuf, ia_err *e) {
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    set_fail(x, x->refused && rc == CURLE_COULDNT_CONNECT ? IA_FETCH_FAIL_REFUSED
                : x->cancelled                            ? IA_FETCH_FAIL_CANCELLED
                : x->too_big                              ? IA_FETCH_FAIL_TOO_BIG
                : rc == CURLE_OPERATION_TIMEDOUT          ? IA_FETCH_FAIL_TIMEOUT
                : rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ? IA_FETCH_FAIL_CONNECT
                                                          : IA_FETCH_FAIL_OTHER);
    /* A refused address ends as "could not connect" once no other
     * address of the host was allowed and answered. */
    if (x->refused && rc == CURLE_COULDNT_CONNECT)
        return fail_at(e, IA_EINVALID, w, "refused to fetch ", "%s is %s " ALLOW_HINT, x->refused_addr,
                       ia_addr_kind_name(x->refused_kind));
    if (x->cancelled) return fail_at(e, IA_EINVALID, w, "", "cancelled");
    if (x->too_big)
        return fail_at(e, IA_ETOOLARGE, w, "", "the response is larger than the limit of %zu bytes",
                       c->max_bytes);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return fail_at(e, IA_EINVALID, w, "", "timed out (%s)", why);
    case CURLE_COULDNT_RESOLVE_HOST:
        return fail_at(e, IA_EINVALID, w, "", "could not resolve the host name");
    case CURLE_COULDNT_RESOLVE_PROXY:
        return fail_at(e, IA_EINTERNAL, w, "", "the configured proxy could not be resolved (%s)", why);
    case CURLE_COULDNT_CONNECT:
        if (h->proxy) return fail_at(e, IA_EINTERNAL, w, "", "the configured proxy is unreachable (%s)", why);
        return fail_at(e, IA_EINVALID, w, "", "could not connect (%s)", why);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
        return fail_at(e, IA_EINTERNAL, w, "", "%s", why);
    default:
        return fail_at(e, IA_EINVALID, w, "", "%s", why);
    }
}

/* The media type of a Content-Type: no parameters, no blanks, lower case. */
static char *mime_of(const char *ct) {
    if (!ct) return NULL;
    while (isspace((unsigned char)*ct)) ct++;
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1])) n--;
    if (!n) return NULL;
    char *m = ia_strndup(ct, n);
    for (char *p = m; *p; p++) *p = (char)tolower((unsigned char)*p);
    return m;
}

static void take_result(CURL *ch, xfer *x, const hop *h, long status, ia_fetched *out) {
    char *ct = NULL;
    curl_easy_getinfo(ch, CURLINFO_CONTENT_TYPE, &ct);
    if (!x->data) x->data = ia_xmalloc(1);
    x->data[x->len] = '\0';
    out->data = x->data;
    out->len = x->len;
    out->content_type = mime_of(ct);
    out->final_url = ia_strdup(h->url);
    out->status = status;
    out->header = x->kept;
    x->kept = NULL;
    x->data = NULL;
}

/* A Location against the URL it came from. What does not resolve is
 * followed as written, so that the checks on the next hop name it. */
static char *resolve(const hop *h, const char *loc) {
    CURLU *u = curl_url_dup(h->u);
    char *abs = NULL, *r;
    if (u && curl_url_set(u, CURLUPART_URL, loc, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
        curl_url_get(u, CURLUPART_URL, &abs, 0);
    r = ia_strdup(abs ? abs : loc);
    curl_free(abs);
    curl_url_cleanup(u);
    return r;
}

/* One request. 0 with *next set (malloc'd) for a redirect to follow, 0
 * with *next NULL for a 2xx answer in *out, -1 with e. */
static int one_hop(CURL *ch, xfer *x, const hop *h, const cfg *c, const where *w, int64_t deadline,
                   char *errbuf, ia_fetched *out, char **next, ia_err *e) {
    int64_t left = deadline - ia_mono_ms();
    if (left <= 0) {
        set_fail(x, IA_FETCH_FAIL_TIMEOUT);
        return fail_at(e, IA_EINVALID, w, "", "timed out (%ld ms in all)", c->timeout_ms);
    }
    x->direct = h->proxy == NULL;
    x->refused = x->too_big = x->skipped = false;
    x->status = 0;
    free(x->location);
    x->location = NULL;
    x->len = 0;
    errbuf[0] = '\0';
    curl_easy_setopt(ch, CURLOPT_URL, h->url);
    curl_easy_setopt(ch, CURLOPT_PROXY, h->proxy ? h->proxy : "");
    curl_easy_setopt(ch, CURLOPT_TIMEOUT_MS, (long)left);
    CURLcode rc = curl_easy_perform(ch);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x->skipped))
        return transfer_error(rc, x, h, c, w, errbuf, e);
    long status = 0;
    curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &status);
    *next = NULL;
    if (status >= 300 && status < 400 && x->location) {
        *next = resolve(h, x->location);
        return 0;
    }
    if (!ok_status(status) && !any_status(x)) {
        set_fail(x, IA_FETCH_FAIL_STATUS);
        return fail_at(e, IA_EINVALID, w, "", "the server answered HTTP %ld", status);
    }
    take_result(ch, x, h, status, out);
    return 0;
}

/* Follows redirects from url until an answer, a failure or too many. */
static int run(CURL *ch, xfer *x, const char *url, const cfg *c, const char *field, char *errbuf,
               ia_fetched *out, ia_err *e) {
    int64_t deadline = ia_mono_ms() + c->timeout_ms;
    char *cur = ia_strdup(url), *prev = NULL, *next = NULL;
    hop h = {0};
    int rc = -1;
    for (int n = 0;; n++) {
        where w = {field, cur, prev};
        if (check_hop(cur, c, &w, &h, e) != 0) break;
        if (one_hop(ch, x, &h, c, &w, deadline, errbuf, out, &next, e) != 0) break;
        if (!next) {
            rc = 0;
            break;
        }
        if (c->max_redirects == 0 || n >= c->max_redirects) set_fail(x, IA_FETCH_FAIL_REDIRECT);
        if (c->max_redirects == 0) {
            fail_at(e, IA_EINVALID, &w, "", "redirected to %.*s (no redirect is followed here)", URL_SHOWN, next);
            break;
        }
        if (n >= c->max_redirects) {
            fail_at(e, IA_EINVALID, &w, "", "more than %d redirects (the last to %.*s)", c->max_redirects,
                    URL_SHOWN, next);
            break;
        }
        hop_free(&h);
        free(prev);
        prev = cur;
        cur = next;
        next = NULL;
    }
    hop_free(&h);
    free(next);
    free(cur);
    free(prev);
    return rc;
}

int ia_fetch_ex(const char *url, const ia_fetch_opts *o, const ia_fetch_req *rq, const char *field,
                ia_fetched *out, ia_err *e) {
    *out = (ia_fetched){0};
    if (rq && rq->fail) *rq->fail = IA_FETCH_FAIL_NONE;
    if (!field) field = "url";
    if (!url) {
        if (rq && rq->fail) *rq->fail = IA_FETCH_FAIL_REFUSED;
        return ia_fail(e, IA_EINVALID, "%s: no URL", field);
    }
    if (ia_fetch_global_init(e) != 0) return -1;
    cfg c = cfg_of(o);
    if (rq && rq->method && strcmp(rq->method, "GET") != 0) c.max_redirects = 0; /* fetch.h: no redirect */
    xfer x = {.c = &c, .rq = rq};
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    CURL *ch = easy_new(&x, &c, errbuf);
    if (ch && set_request(ch, &x, &hdrs) != 0) {
        curl_easy_cleanup(ch);
        ch = NULL;
    }
    if (!ch) {
        curl_mime_free(x.mime);
        curl_slist_free_all(hdrs);
        if (rq && rq->fail) *rq->fail = IA_FETCH_FAIL_OTHER;
        return ia_fail(e, IA_EINTERNAL, "%s: could not set up a transfer", field);
    }
    int rc = run(ch, &x, url, &c, field, errbuf, out, e);
    /* what is left: the checks on a hop's URL (and running out of memory) */
    if (rc != 0) set_fail(&x, e && e->code == IA_EINTERNAL ? IA_FETCH_FAIL_OTHER : IA_FETCH_FAIL_REFUSED);
    curl_easy_cleanup(ch);
    curl_mime_free(x.mime);
    curl_slist_free_all(hdrs);
    free(x.data);
    free(x.location);
    free(x.kept);
    return rc;
}

int ia_fetch(const char *url, const ia_fetch_opts *o, const char *field, ia_fetched *out, ia_err *e) {
    return ia_fetch_ex(url, o, NULL, field, out, e);
}

void ia_fetched_free(ia_fetched *f) {
    if (!f) return;
    free(f->data);
    free(f->content_type);
    free(f->final_url);
    free(f->header);
    *f = (ia_fetched){0};
}

bool ia_fetch_refused(const ia_err *e) { return e && strstr(e->msg, ALLOW_HINT) != NULL; }
