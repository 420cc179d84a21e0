/* dialect: which of the two wire dialects answers a request. The path
 * decides first: /v1 is SDK 3.x's and only ever the steps dialect. On
 * /v1beta, which both generations of SDK call, the rule is, in order:
 *   1. an explicit `Api-Revision` header, a date YYYY-MM-DD: 2026-05-20 or
 *      later is steps, an older one legacy (the real API's switch; a client
 *      that names a revision has said what it parses). A value that is not
 *      such a date ("latest", "2026-5-1", "2026-02-30") decides nothing:
 *      the request is refused (400, server.c), in the dialect the rest of
 *      the rule gives, since a guess would answer a shape the client may
 *      not parse;
 *   2. a client that names itself `google-genai-sdk/N` with N >= 2 in
 *      `x-goog-api-client` is steps: SDK 2.x and 3.x parse only steps, and
 *      the Python SDK 2.x sends no Api-Revision, only that header;
 *   3. anyone else (SDK 1.x, curl, the guide's examples, no header) gets
 *      the server's default, legacy unless `--default-dialect steps`.
 * Every answer to the request — create, stream, GET, resume, errors — is
 * then in that dialect; the store keeps neither, so a chain begun in one is
 * read in the other. As the answer depends on those two headers, /v1beta's
 * interaction answers carry `Vary: Api-Revision, x-goog-api-client`. */
#include "http/http_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define SDK_TOKEN "google-genai-sdk/"
/* How much of a malformed Api-Revision its 400 quotes. */
#define REVISION_QUOTE 40

/* ---- Api-Revision -------------------------------------------------------- */

static bool digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

static int num(const char *s, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

static int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly YYYY-MM-DD, and a day the calendar has: only then do two
 * revisions compare as strings in date order. */
bool ia_http_revision_valid(const char *rev) {
    if (!rev || strlen(rev) != 10 || rev[4] != '-' || rev[7] != '-') return false;
    if (!digits(rev, 4) || !digits(rev + 5, 2) || !digits(rev + 8, 2)) return false;
    int y = num(rev, 4), m = num(rev + 5, 2), d = num(rev + 8, 2);
    return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

bool ia_http_revision_bad(const ia_http_hints *h) {
    return h && h->api_revision && *h->api_revision && !ia_http_revision_valid(h->api_revision);
}

int ia_http_revision_refusal(const char *rev, ia_err *e) {
    /* The quote is cut short and kept to printable ASCII: a header may hold
     * any byte, an error message must be UTF-8. */
    char q[REVISION_QUOTE + 4];
    size_t n = 0;
    for (; rev[n] && n < REVISION_QUOTE; n++) q[n] = isprint((unsigned char)rev[n]) ? rev[n] : '?';
    q[n] = '\0';
    if (rev[n]) strcpy(q + n, "...");
    return ia_fail(e, IA_EINVALID, "Api-Revision: expected a date like %s, not '%s'", IA_HTTP_STEPS_REVISION,
                   q);
}

/* ---- x-goog-api-client ------------------------------------------------------ */

/* The major of one token's version after "google-genai-sdk/": digits ending
 * at a dot, a pre-release or build suffix, or the token's end; -1 if it is
 * not a version. */
static int token_major(const char *v, size_t len) {
    if (len == 0 || !isdigit((unsigned char)*v)) return -1;
    long major = 0;
    size_t i = 0;
    for (; i < len && isdigit((unsigned char)v[i]); i++) /* saturates: a silly major is still "new" */
        major = major < 100000 ? major * 10 + (v[i] - '0') : major;
    /* "2", "2.19.0", "2.19.0-rc1", "2.0.0rc1" (the rc after the dot) */
    if (i < len && v[i] != '.' && v[i] != '-' && v[i] != '+') return -1;
    return (int)major;
}

/* Tokens are separated by blanks or commas: one header line lists them
 * with blanks, several lines of the header join with commas (HTTP's rule
 * for a repeated header, and how ia_http_api_client hands them over). */
static bool separator(char c) {
    return c == ',' || isspace((unsigned char)c);
}

int ia_http_sdk_major(const char *api_client) {
    if (!api_client) return -1;
    size_t n = strlen(SDK_TOKEN);
    for (const char *p = api_client; *p;) {
        while (*p && separator(*p)) p++;
        size_t len = 0;
        while (p[len] && !separator(p[len])) len++;
        /* the product name is case-insensitive, as HTTP's product tokens */
        int major = len > n && strncasecmp(p, SDK_TOKEN, n) == 0 ? token_major(p + n, len - n) : -1;
        if (major >= 0) return major; /* the first SDK token with a version decides */
        p += len;
    }
    return -1;
}

/* One x-goog-api-client line, appended to the list being built. */
static enum MHD_Result add_api_client(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    (void)kind;
    ia_buf *b = cls;
    if (!key || !value || strcasecmp(key, "x-goog-api-client") != 0) return MHD_YES;
    if (b->len) ia_buf_append(b, ", ", 2);
    ia_buf_append(b, value, strlen(value));
    return MHD_YES;
}

char *ia_http_api_client(struct MHD_Connection *c) {
    /* MHD_lookup_connection_value gives only the first line; a proxy or a
     * wrapper may add its own before the SDK's, so every line is read. */
    ia_buf b;
    ia_buf_init(&b, 0);
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_api_client, &b);
    if (!b.len) {
        ia_buf_free(&b);
        return NULL;
    }
    return ia_buf_take(&b);
}

/* ---- the rule ----------------------------------------------------------------- */

ia_dialect ia_http_pick_dialect(bool steps_path, const ia_http_hints *h) {
    if (steps_path) return IA_DIALECT_STEPS;
    if (!h) return IA_DIALECT_LEGACY;
    /* Valid dates compare as strings: YYYY-MM-DD. A malformed one is
     * refused by the caller and passed over here. */
    if (ia_http_revision_valid(h->api_revision))
        return strcmp(h->api_revision, IA_HTTP_STEPS_REVISION) >= 0 ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY;
    if (ia_http_sdk_major(h->api_client) >= 2) return IA_DIALECT_STEPS;
    return h->default_dialect;
}
