/* search_searx.c: google_search against a SearxNG instance's JSON API
 * (GET BASE/search?q=...&format=json; its answer's `results`, each with
 * url, title, content, engine ...). The operator names the instance, and
 * self-hosted ones mostly sit on a private address: exactly its host:port
 * is allowed (resolved once, at start), nothing else, no redirect followed,
 * under a time and size limit, so a slow or broken instance is an error
 * result, never a hung run. */
#include <curl/curl.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/fetch.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/util.h"
#include "tools/search_int.h"

typedef struct searx {
    char *base;  /* without a trailing slash */
    char *allow; /* the instance's addresses with its port (fetch.h's allow_addrs) */
    ia_fetch_opts fetch;
} searx;

void ia_backend_escape(ia_buf *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            ia_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ia_buf_append(b, e, 3);
        }
    }
}

char *ia_searx_url(const char *base, const char *q, bool images) {
    ia_buf b;
    ia_buf_init(&b, 0);
    ia_buf_printf(&b, "%s/search?q=", base);
    ia_backend_escape(&b, q);
    ia_buf_puts(&b, "&format=json");
    if (images) ia_buf_puts(&b, "&categories=images");
    return ia_buf_take(&b);
}

int ia_searx_parse(const char *body, size_t len, size_t max, ia_search_hits *out, ia_err *err) {
    json_t *j = json_loadb(body ? body : "", len, 0, NULL);
    json_t *results = json_object_get(j, "results");
    if (!json_is_array(results)) {
        json_decref(j);
        return ia_fail(err, IA_EINVALID, "the instance's answer is not SearxNG's JSON (no `results` list)");
    }
    size_t i, taken = 0;
    json_t *r;
    json_array_foreach(results, i, r) {
        if (taken >= max) break;
        const char *url = json_string_value(json_object_get(r, "url"));
        if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) continue;
        size_t before = out->n;
        ia_search_hits_add(out, url, json_string_value(json_object_get(r, "title")),
                           json_string_value(json_object_get(r, "content")));
        taken += out->n > before;
    }
    json_decref(j);
    return 0;
}

static int searx_query(void *self, const char *q, bool images, size_t max, atomic_bool *cancel, ia_search_hits *out,
                       ia_err *err) {
    searx *s = self;
    char *url = ia_searx_url(s->base, q, images);
    ia_fetched f = {0};
    ia_err e = {0};
    ia_fetch_req rq = {.cancel = cancel}; /* a cancelled run does not wait for a slow instance */
    int rc = ia_fetch_ex(url, &s->fetch, &rq, "SearxNG", &f, &e);
    free(url);
    if (rc != 0) {
        /* SearxNG answers 403 when its settings.yml leaves json out of search.formats */
        return ia_fail(err, IA_EINVALID, "%s%s", e.msg,
                       strstr(e.msg, "403") ? " (is json among search.formats in its settings.yml?)" : "");
    }
    rc = ia_searx_parse((const char *)f.data, f.len, max, out, err);
    ia_fetched_free(&f);
    return rc;
}

static void searx_destroy(void *self) {
    searx *s = self;
    if (!s) return;
    free(s->base);
    free(s->allow);
    free(s);
}

/* "ADDR:PORT, [ADDR6]:PORT, ..." for every address host resolves to. */
static char *instance_addresses(const char *host, const char *port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, port, &hints, &res) != 0) return NULL;
    ia_buf b;
    ia_buf_init(&b, 0);
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char t[IA_ADDR_TEXT_MAX];
        ia_addr_text(a->ai_addr, t);
        ia_buf_printf(&b, "%s%s%s%s:%s", b.len ? "," : "", a->ai_family == AF_INET6 ? "[" : "", t,
                      a->ai_family == AF_INET6 ? "]" : "", port);
    }
    freeaddrinfo(res);
    return ia_buf_take(&b);
}

/* The URL's host and port (the scheme's when none is written). */
static int split_url(const char *url, const char *flag, char **host, char **port, ia_err *err) {
    CURLU *u = curl_url();
    char *h = NULL, *p = NULL;
    int rc = 0;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
        rc = ia_fail(err, IA_EINVALID, "%s: '%s' is not a URL", flag, url);
    if (rc == 0) {
        /* the brackets of an IPv6 host are the URL's, not the address's */
        size_t n = strlen(h);
        *host = h[0] == '[' && n > 1 ? ia_strndup(h + 1, n - 2) : ia_strdup(h);
        *port = ia_strdup(p);
    }
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

int ia_backend_allow(const char *url, const char *flag, char **allow, ia_err *err) {
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return ia_fail(err, IA_EINVALID, "%s: '%s' is not an http(s) URL", flag, url);
    if (ia_fetch_global_init(err) != 0) return -1;
    char *host = NULL, *port = NULL;
    if (split_url(url, flag, &host, &port, err) != 0) return -1;
    *allow = instance_addresses(host, port);
    if (!*allow || !**allow) {
        ia_warn("%s: %s does not resolve now; only a public address will be reached", flag, host);
        free(*allow);
        *allow = NULL;
    }
    free(host);
    free(port);
    return 0;
}

int ia_searx_open(const char *url, int timeout_ms, size_t max_bytes, ia_search_backend *out, ia_err *err) {
    char *allow = NULL;
    if (ia_backend_allow(url, "--search-url", &allow, err) != 0) return -1;
    searx *s = ia_xcalloc(1, sizeof *s);
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') n--;
    s->base = ia_strndup(url, n);
    s->allow = allow;
    s->fetch = (ia_fetch_opts){.max_bytes = max_bytes ? max_bytes : (size_t)4 << 20,
                               .timeout_ms = timeout_ms ? timeout_ms : 10000,
                               .connect_timeout_ms = 5000,
                               .max_redirects = -1,
                               .allow_addrs = s->allow,
                               .user_agent = "interactd google_search (SearxNG JSON API)"};
    *out = (ia_search_backend){.kind = "searxng", .self = s, .query = searx_query, .destroy = searx_destroy};
    return 0;
}
