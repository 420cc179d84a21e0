/* routes: the path table of the Interactions API and the Files API, and
 * their small parsers. Paths
 * arrive raw (libmicrohttpd's unescaping is switched off, see server.c) so
 * that routing splits on the real `/` separators first and the {id} segment
 * is percent-decoded exactly once, afterwards. The version prefix and the
 * client's headers pick the wire dialect (dialect.c). */
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>

#include "core/files.h"

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long ia_http_pct_decode(char *s) {
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        int hi = hexval(r[1]), lo = hi < 0 ? -1 : hexval(r[2]);
        if (hi < 0 || lo < 0) return -1;
        char c = (char)(hi * 16 + lo);
        if (c == '\0') return -1; /* an id or key never holds NUL */
        *w++ = c;
        r += 2;
    }
    *w = '\0';
    return (long)(w - s);
}

int ia_http_parse_bool(const char *s, bool *out) {
    if (!s) return -1;
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "True")) *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "False")) *out = false;
    else return -1;
    return 0;
}

/* Strips prefix from *p when it is followed by '/' or the end. */
static bool eat(const char **p, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(*p, prefix, n) != 0 || ((*p)[n] != '/' && (*p)[n] != '\0')) return false;
    *p += n;
    return true;
}

/* GET | DELETE /{v}/files/{id}: the id percent-decoded; one that no file
 * could have (files.h's rule) is kept out and reported as not found. */
static void files_id(const char *seg, ia_http_route *out) {
    out->kind = IA_RT_FILE;
    char tmp[IA_FILE_ID_MAX * 3 + 1];
    size_t n = strlen(seg);
    if (n == 0 || n >= sizeof tmp || strchr(seg, '/')) {
        out->id_too_long = true;
        return;
    }
    memcpy(tmp, seg, n + 1);
    long k = ia_http_pct_decode(tmp);
    if (k <= 0 || !ia_file_id_valid(tmp)) {
        out->id_too_long = true;
        snprintf(out->id, sizeof out->id, "%.60s", k > 0 ? tmp : "");
        return;
    }
    memcpy(out->id, tmp, (size_t)k + 1);
}

/* {id} of /agents/{id} (SDK 3.3.0's custom agents): percent-decoded; one
 * that cannot be an agent's id is a 404 naming it. */
static void agent_id(const char *seg, ia_http_route *out) {
    out->kind = IA_RT_AGENT;
    char tmp[IA_ID_MAX];
    if (strlen(seg) >= sizeof tmp) {
        out->id_too_long = true;
        return;
    }
    snprintf(tmp, sizeof tmp, "%s", seg);
    long n = ia_http_pct_decode(tmp);
    if (n <= 0 || strchr(tmp, '/') || !ia_api_agent_id_valid(tmp)) {
        out->id_too_long = true;
        snprintf(out->id, sizeof out->id, "%.60s", n > 0 ? tmp : "");
        return;
    }
    memcpy(out->id, tmp, (size_t)n + 1);
}

/* {name} of /models/{name}: percent-decoded; one that cannot be a served
 * name (empty, too long, a '/') is a 404 too. */
static void model_name(const char *seg, ia_http_route *out) {
    out->kind = IA_RT_MODEL;
    char tmp[IA_ID_MAX];
    if (strlen(seg) >= sizeof tmp) {
        out->id_too_long = true;
        return;
    }
    snprintf(tmp, sizeof tmp, "%s", seg);
    long n = ia_http_pct_decode(tmp);
    if (n <= 0 || strchr(tmp, '/')) {
        out->id_too_long = true;
        return;
    }
    memcpy(out->id, tmp, (size_t)n + 1);
}

/* models/{name}:embedContent and :batchEmbedContents, Google's custom
 * methods: the suffix off the name (a name may hold other colons). */
static void embed_method(ia_http_route *out) {
    static const char *const M[] = {":embedContent", ":batchEmbedContents"};
    size_t n = strlen(out->id);
    for (int i = 0; i < 2 && !out->id_too_long; i++) {
        size_t k = strlen(M[i]);
        if (n > k && !strcmp(out->id + n - k, M[i])) {
            out->id[n - k] = '\0';
            out->kind = IA_RT_EMBED;
            out->embed_batch = i == 1;
        }
    }
}

void ia_http_route_parse(const char *raw_path, const ia_http_hints *h, ia_http_route *out) {
    memset(out, 0, sizeof *out);
    const char *p = raw_path ? raw_path : "";
    if (!strcmp(p, "/healthz")) {
        out->kind = IA_RT_HEALTHZ;
        return;
    }
    if (!strcmp(p, "/metrics")) {
        out->kind = IA_RT_METRICS;
        return;
    }
    if (ia_http_console_path(p)) {
        out->kind = IA_RT_CONSOLE;
        return;
    }
    /* The Files API: its upload door under /upload/, the rest beside
     * /interactions, in both versions (SDK 1.x: v1beta, 3.x: v1). */
    bool upload = eat(&p, "/upload");
    if (eat(&p, "/v1beta")) {
        out->dialect = ia_http_pick_dialect(false, h);
        out->bad_revision = ia_http_revision_bad(h); /* only /v1beta reads it */
        snprintf(out->version, sizeof out->version, "v1beta");
    } else if (eat(&p, "/v1")) {
        out->dialect = ia_http_pick_dialect(true, h);
        snprintf(out->version, sizeof out->version, "v1");
    } else {
        return;
    }
    /* File search stores, their upload door included (fsearch.c routes
     * within). */
    if (!strncmp(p, "/fileSearchStores", 17) && (!p[17] || p[17] == '/' || p[17] == ':')) {
        out->kind = IA_RT_STORES;
        return;
    }
    if (upload) {
        if (!strcmp(p, "/files")) out->kind = IA_RT_UPLOAD;
        return;
    }
    if (!strcmp(p, "/agents")) {
        out->kind = IA_RT_AGENTS;
        return;
    }
    if (!strncmp(p, "/agents/", 8)) {
        agent_id(p + 8, out);
        return;
    }
    if (!strcmp(p, "/files")) {
        out->kind = IA_RT_FILES;
        return;
    }
    if (!strcmp(p, "/files:register")) {
        out->kind = IA_RT_FILES_REGISTER;
        return;
    }
    if (!strncmp(p, "/files/", 7)) {
        files_id(p + 7, out);
        return;
    }
    if (!strcmp(p, "/models")) {
        out->kind = IA_RT_MODELS;
        return;
    }
    if (!strncmp(p, "/models/", 8)) {
        model_name(p + 8, out);
        embed_method(out);
        return;
    }
    if (!eat(&p, "/interactions")) return;
    if (*p == '\0') {
        out->kind = IA_RT_CREATE;
        return;
    }
    p++; /* the '/' */
    const char *slash = strchr(p, '/');
    size_t idlen = slash ? (size_t)(slash - p) : strlen(p);
    if (idlen == 0) return;
    ia_http_route_kind kind;
    if (!slash) kind = IA_RT_ITEM;
    else if (!strcmp(slash, "/cancel")) kind = IA_RT_CANCEL;
    else return;
    /* Percent-encoding only lengthens: a raw segment short enough is decoded
     * in place; a longer one may still decode short, so decode a bounded copy. */
    char tmp[IA_ID_MAX * 3 + 1];
    if (idlen >= sizeof tmp) {
        out->kind = kind;
        out->id_too_long = true;
        return;
    }
    memcpy(tmp, p, idlen);
    tmp[idlen] = '\0';
    long n = ia_http_pct_decode(tmp);
    out->kind = kind;
    if (n < 0 || n == 0 || (size_t)n >= IA_ID_MAX) {
        /* Not an id we could have made: reported like any unknown id. */
        out->id_too_long = true;
        return;
    }
    memcpy(out->id, tmp, (size_t)n + 1);
}

bool ia_http_route_varies(const ia_http_route *rt) {
    /* /v1 answers steps whatever is sent, the Files API one shape, and a
     * path that is no route a plain 404: only /v1beta's interactions pick
     * their dialect from the request's headers. */
    bool interactions = rt->kind == IA_RT_CREATE || rt->kind == IA_RT_ITEM || rt->kind == IA_RT_CANCEL;
    return interactions && strcmp(rt->version, "v1beta") == 0;
}

const char *ia_http_route_allow(ia_http_route_kind k) {
    switch (k) {
    case IA_RT_HEALTHZ: return "GET, HEAD";
    case IA_RT_METRICS: return "GET, HEAD";
    case IA_RT_CONSOLE: return "GET, HEAD";
    case IA_RT_CREATE: return "GET, POST";
    case IA_RT_ITEM: return "GET, DELETE";
    case IA_RT_CANCEL: return "POST";
    case IA_RT_UPLOAD: return "POST";
    case IA_RT_FILES: return "GET";
    case IA_RT_FILE: return "GET, DELETE";
    case IA_RT_FILES_REGISTER: return "POST";
    case IA_RT_MODELS: return "GET";
    case IA_RT_MODEL: return "GET";
    case IA_RT_EMBED: return "POST";
    case IA_RT_AGENTS: return "GET, POST";
    case IA_RT_AGENT: return "GET, DELETE";
    case IA_RT_STORES: return "GET, POST, DELETE";
    default: return "";
    }
}

bool ia_http_route_method_ok(ia_http_route_kind k, const char *m) {
    switch (k) {
    case IA_RT_HEALTHZ: return !strcmp(m, "GET") || !strcmp(m, "HEAD");
    case IA_RT_METRICS:
    case IA_RT_CONSOLE: return !strcmp(m, "GET") || !strcmp(m, "HEAD");
    case IA_RT_CREATE: return !strcmp(m, "POST") || !strcmp(m, "GET");
    case IA_RT_CANCEL:
    case IA_RT_UPLOAD:
    case IA_RT_EMBED:
    case IA_RT_FILES_REGISTER: return !strcmp(m, "POST");
    case IA_RT_FILES:
    case IA_RT_MODELS:
    case IA_RT_MODEL: return !strcmp(m, "GET");
    case IA_RT_ITEM:
    case IA_RT_AGENT:
    case IA_RT_FILE: return !strcmp(m, "GET") || !strcmp(m, "DELETE");
    case IA_RT_AGENTS: return !strcmp(m, "GET") || !strcmp(m, "POST");
    case IA_RT_STORES: return !strcmp(m, "GET") || !strcmp(m, "POST") || !strcmp(m, "DELETE");
    default: return false;
    }
}
