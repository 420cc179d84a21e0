/* download.c: libcurl transfers of `interactd pull` (download.h). */
#include "pull/download.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fetch.h"
#include "lib/util.h"

static CURL *easy(const char *url, const char *token, struct curl_slist **hdrs, ia_err *err) {
    if (ia_fetch_global_init(err) < 0) return NULL;
    CURL *c = curl_easy_init();
    if (!c) {
        ia_fail(err, IA_EINTERNAL, "out of memory");
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "interactd-pull/1");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a stalled transfer (under 1 byte/s for 60 s) fails; a slow one goes on */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    *hdrs = NULL;
    if (token && *token) {
        char *h = ia_asprintf("Authorization: Bearer %s", token);
        *hdrs = curl_slist_append(*hdrs, h);
        free(h);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
    }
    return c;
}

static size_t to_buf(char *p, size_t sz, size_t nm, void *ud) {
    return ia_buf_append(ud, p, sz * nm) == 0 ? sz * nm : 0;
}

static int status_fail(long code, const char *url, ia_err *err) {
    if (code == 401 || code == 403)
        return ia_fail(err, IA_EPERMISSION,
                       "%s answered %ld: the repository is gated or private; accept its terms on the hub "
                       "and set HF_TOKEN to a token that may read it",
                       url, code);
    if (code == 404) return ia_fail(err, IA_ENOTFOUND, "%s answered 404: no such repository or file", url);
    return ia_fail(err, IA_EUPSTREAM, "%s answered HTTP %ld", url, code);
}

int ia_dl_get(const char *url, const char *token, size_t max, char **out, size_t *n, ia_err *err) {
    struct curl_slist *h;
    CURL *c = easy(url, token, &h, err);
    if (!c) return -1;
    ia_buf b;
    ia_buf_init(&b, max);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    int r = 0;
    if (rc != CURLE_OK) r = ia_fail(err, IA_EUPSTREAM, "%s: %s", url, curl_easy_strerror(rc));
    else if (code != 200) r = status_fail(code, url, err);
    if (r < 0) {
        ia_buf_free(&b);
        return -1;
    }
    *n = b.len;
    ia_buf_append(&b, "", 1);
    *out = ia_buf_take(&b);
    if (!*out) *out = ia_strdup("");
    return 0;
}

typedef struct head_st {
    char etag[80];
    int64_t size;
} head_st;

/* "name: value\r\n" with name matched case-insensitively; the value trimmed */
static bool header_is(const char *line, size_t n, const char *name, char *val, size_t cap) {
    size_t nl = strlen(name);
    if (n <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':') return false;
    const char *v = line + nl + 1, *e = line + n;
    while (v < e && (*v == ' ' || *v == '\t')) v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ')) e--;
    snprintf(val, cap, "%.*s", (int)(e - v), v);
    return true;
}

static size_t head_hdr(char *p, size_t sz, size_t nm, void *ud) {
    head_st *h = ud;
    char v[80];
    if (header_is(p, sz * nm, "x-linked-etag", v, sizeof v)) snprintf(h->etag, sizeof h->etag, "%s", v);
    else if (header_is(p, sz * nm, "x-linked-size", v, sizeof v)) h->size = strtoll(v, NULL, 10);
    return sz * nm;
}

/* '"abc..."' or 'W/"abc"' -> abc, when it is 64 hex digits */
static void etag_sha(const char *etag, char out[65]) {
    out[0] = '\0';
    const char *s = etag;
    if (!strncmp(s, "W/", 2)) s += 2;
    if (*s == '"') s++;
    size_t n = 0;
    while (isxdigit((unsigned char)s[n])) n++;
    if (n != 64 || (s[n] && s[n] != '"')) return;
    for (int i = 0; i < 64; i++) out[i] = (char)tolower((unsigned char)s[i]);
    out[64] = '\0';
}

int ia_dl_head(const char *url, const char *token, char sha256[65], int64_t *size, ia_err *err) {
    struct curl_slist *h;
    CURL *c = easy(url, token, &h, err);
    if (!c) return -1;
    head_st st = {.size = -1};
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, head_hdr);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) return ia_fail(err, IA_EUPSTREAM, "%s: %s", url, curl_easy_strerror(rc));
    if (code >= 400) return status_fail(code, url, err);
    etag_sha(st.etag, sha256);
    *size = st.size;
    return 0;
}

int ia_dl_sha256_file(const char *path, char out[65], ia_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return ia_fail(err, IA_EINTERNAL, "cannot read %s: %s", path, strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static char buf[1 << 16];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(md, buf, r);
    bool bad = ferror(f);
    fclose(f);
    unsigned char d[32];
    unsigned dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    EVP_MD_CTX_free(md);
    if (bad) return ia_fail(err, IA_EINTERNAL, "cannot read %s", path);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
    return 0;
}

typedef struct get_st {
    FILE *f;
    int64_t offset; /* bytes of the .part before this response */
    bool checked, restarted, bad_range;
    char crange[96];
    ia_dl_progress cb;
    void *ud;
    int64_t total;
    CURL *c;
} get_st;

static size_t get_hdr(char *p, size_t sz, size_t nm, void *ud) {
    get_st *g = ud;
    char v[96];
    if (sz * nm >= 5 && !strncmp(p, "HTTP/", 5)) g->crange[0] = '\0'; /* a new response (a redirect's) */
    else if (header_is(p, sz * nm, "content-range", v, sizeof v)) snprintf(g->crange, sizeof g->crange, "%s", v);
    return sz * nm;
}

/* The first bytes of the final response decide: 206 continues the .part at
 * its end (Content-Range must start there), 200 starts it over, anything
 * else stops the transfer (its status is reported). */
static bool check_start(get_st *g) {
    long code = 0;
    curl_easy_getinfo(g->c, CURLINFO_RESPONSE_CODE, &code);
    if (code == 206) {
        long long start = -1;
        if (sscanf(g->crange, "bytes %lld-", &start) != 1 || start != g->offset) {
            g->bad_range = true;
            return false;
        }
        return true;
    }
    if (code != 200) return false;
    if (g->offset > 0) {
        if (ftruncate(fileno(g->f), 0) < 0) return false;
        g->offset = 0;
        g->restarted = true;
    }
    return true;
}

static size_t get_body(char *p, size_t sz, size_t nm, void *ud) {
    get_st *g = ud;
    if (!g->checked) {
        g->checked = true;
        if (!check_start(g)) return 0;
    }
    return fwrite(p, 1, sz * nm, g->f) == sz * nm ? sz * nm : 0;
}

static int get_prog(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ut, curl_off_t un) {
    (void)ut, (void)un;
    get_st *g = ud;
    if (g->cb && g->checked) g->cb(g->ud, g->offset + dlnow, g->total > 0 ? g->total : dltotal > 0 ? g->offset + dltotal : -1);
    return 0;
}

static int64_t file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* One GET of url into part from its current end; -1 + err. */
static int get_part(const char *url, const char *token, const char *part, int64_t size, ia_dl_progress cb, void *ud,
                    int64_t *resumed, ia_err *err) {
    get_st g = {.cb = cb, .ud = ud, .total = size};
    g.f = fopen(part, "ab");
    if (!g.f) return ia_fail(err, IA_EINTERNAL, "cannot write %s: %s", part, strerror(errno));
    g.offset = file_size(part);
    if (size >= 0 && g.offset > size) { /* longer than the file: not ours */
        if (ftruncate(fileno(g.f), 0) < 0) g.offset = -1;
        else g.offset = 0;
    }
    *resumed = g.offset > 0 ? g.offset : 0;
    if (g.offset < 0 || (size >= 0 && g.offset == size)) {
        fclose(g.f);
        return g.offset < 0 ? ia_fail(err, IA_EINTERNAL, "cannot truncate %s", part) : 0;
    }
    struct curl_slist *h;
    CURL *c = easy(url, token, &h, err);
    if (!c) {
        fclose(g.f);
        return -1;
    }
    g.c = c;
    char range[48];
    if (g.offset > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)g.offset);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, get_hdr);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &g);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, get_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, get_prog);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &g);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    bool wrote = fclose(g.f) == 0;
    if (g.restarted) *resumed = 0;
    if (g.bad_range) return ia_fail(err, IA_EUPSTREAM, "%s: a range answer that does not continue the file (%s)", url, g.crange);
    if (code == 416 && g.offset > 0) return -2; /* the .part is past the file's end: not ours */
    if (code != 200 && code != 206 && code != 0) return status_fail(code, url, err);
    if (rc != CURLE_OK || !wrote) {
        int64_t have = file_size(part);
        return ia_fail(err, IA_EUPSTREAM, "download interrupted after %lld bytes (%s); run the same pull again to resume",
                       (long long)(have > 0 ? have : 0), rc != CURLE_OK ? curl_easy_strerror(rc) : strerror(errno));
    }
    return 0;
}

int ia_dl_file(const char *url, const char *token, const char *dest, const char *sha256, int64_t size,
               ia_dl_progress cb, void *ud, int64_t *resumed, ia_err *err) {
    *resumed = 0;
    char *part = ia_asprintf("%s.part", dest);
    int r = get_part(url, token, part, size, cb, ud, resumed, err);
    if (r == -2) { /* once, from the start */
        unlink(part);
        r = get_part(url, token, part, size, cb, ud, resumed, err);
        if (r == -2) r = ia_fail(err, IA_EUPSTREAM, "%s answered 416 to a request from byte 0", url);
    }
    int64_t have = file_size(part);
    if (r == 0 && size >= 0 && have != size)
        r = ia_fail(err, IA_EUPSTREAM, "download ended at %lld of %lld bytes; run the same pull again to resume",
                    (long long)have, (long long)size);
    char got[65];
    if (r == 0 && sha256 && *sha256) {
        r = ia_dl_sha256_file(part, got, err);
        if (r == 0 && strcmp(got, sha256)) {
            unlink(part);
            r = ia_fail(err, IA_EUPSTREAM,
                        "the download's SHA-256 is %s, not the %s the hub gives: refused and removed (a corrupt "
                        "transfer or a changed file; run the pull again)",
                        got, sha256);
        }
    }
    if (r == 0 && rename(part, dest) < 0)
        r = ia_fail(err, IA_EINTERNAL, "cannot rename %s to %s: %s", part, dest, strerror(errno));
    free(part);
    return r;
}

char *ia_dl_escape_path(const char *path) {
    ia_buf b;
    ia_buf_init(&b, 0);
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("-._~/", *p)) ia_buf_append(&b, p, 1);
        else ia_buf_printf(&b, "%%%02X", *p);
    }
    ia_buf_append(&b, "", 1);
    return ia_buf_take(&b);
}
