/* Fuzz target: the small parsers of ids a client sends back to us — the
 * interaction id (ia_id_parse: previous_interaction_id, the {id} of GET /
 * DELETE / cancel), the route of a raw path with its percent-decoding and
 * the Api-Revision and x-goog-api-client headers (ia_http_route_parse,
 * ia_http_sdk_major, ia_http_pct_decode), the SSE resume point
 * (`last_event_id`, ia_api_parse_event_id), the base64url under ids, and
 * the query booleans and time/duration parsers.
 *
 * Input: the first byte picks the parser; the rest is its text (for the
 * route: path "\n" Api-Revision "\n" x-goog-api-client). Checks: what
 * parses is what our own formatter writes (an id or event id that parses
 * formats back to the same string, so one interaction / event has one
 * spelling); an event id never parses for another interaction; a route's id
 * is what decoding the raw segment gives; a route's dialect is the rule's
 * (steps exactly on /v1, for a valid Api-Revision from 2026-05-20, or
 * without one for google-genai-sdk/N >= 2), a revision is valid exactly
 * when it is a calendar day as YYYY-MM-DD, and only /v1beta flags an
 * invalid one. */
#include "fuzz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"
#include "lib/util.h"

/* A well-formed interaction id (set up once). */
static char SOME_ID[IA_ID_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    ia_id_format("rootrootrootrootrootroo", "ownownownownownownownow", SOME_ID);
    return 0;
}

static void interaction_id(const char *s) {
    char root[24], own[24];
    if (ia_id_parse(s, root, own) != 0) return;
    char again[IA_ID_MAX];
    ia_id_format(root, own, again);
    FUZZ_CHECK(strcmp(again, s) == 0);
    FUZZ_CHECK(strlen(root) == IA_ID_INNER_LEN && strlen(own) == IA_ID_INNER_LEN);
}

/* s as an event id of interaction SOME_ID, and of s itself; then the tail
 * of s after a valid tag, so the seq parser sees fuzzed digits. */
static void event_id(const char *s) {
    int64_t seq = ia_api_parse_event_id(SOME_ID, s);
    FUZZ_CHECK(seq == -1 || seq >= 1);
    if (seq >= 1) {
        char *again = ia_api_event_id(SOME_ID, seq);
        FUZZ_CHECK(strcmp(again, s) == 0);
        FUZZ_CHECK(ia_api_parse_event_id(s, s) == -1 || strcmp(s, SOME_ID) == 0);
        free(again);
    }
    char *prefix = ia_api_event_id(s, 1);
    prefix[strlen(prefix) - 1] = '\0'; /* "evt_<tag of s>_" */
    char *joined = ia_asprintf("%s%s", prefix, s);
    seq = ia_api_parse_event_id(s, joined);
    FUZZ_CHECK(seq == -1 || seq >= 1);
    if (seq >= 1) {
        char *again = ia_api_event_id(s, seq);
        FUZZ_CHECK(strcmp(again, joined) == 0);
        FUZZ_CHECK(ia_api_parse_event_id(SOME_ID, joined) == -1 || strcmp(s, SOME_ID) == 0);
        free(again);
    }
    free(prefix);
    free(joined);
}

/* rev is a real date written YYYY-MM-DD, by another road than dialect.c's:
 * the calendar of timegm gives the same day back only for a real one. */
static bool revision_is_date(const char *rev) {
    if (!rev || strlen(rev) != 10) return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? rev[i] != '-' : !isdigit((unsigned char)rev[i])) return false;
    int y = atoi(rev), m = atoi(rev + 5), d = atoi(rev + 8);
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    struct tm back;
    if (!gmtime_r(&t, &back)) return false;
    return back.tm_year == y - 1900 && back.tm_mon == m - 1 && back.tm_mday == d;
}

/* The path's API version as routes.c reads it ("/upload" first for the
 * Files API's door): "v1beta", "v1" or NULL. */
static const char *path_version(const char *p) {
    if (!strncmp(p, "/upload", 7) && (p[7] == '/' || !p[7])) p += 7;
    if (!strncmp(p, "/v1beta", 7) && (p[7] == '/' || !p[7])) return "v1beta";
    if (!strncmp(p, "/v1", 3) && (p[3] == '/' || !p[3])) return "v1";
    return NULL;
}

/* The dialect rule, restated: steps on /v1; on /v1beta a valid revision
 * decides by date, else google-genai-sdk/N with N >= 2, else the default
 * (legacy here). A revision that is not a date is flagged (a 400) and
 * decides nothing. */
static void check_dialect(const char *path, const char *rev, const char *client, const ia_http_route *r) {
    int major = ia_http_sdk_major(client);
    FUZZ_CHECK(major >= -1);
    FUZZ_CHECK(major == -1 || (client && strcasestr(client, "google-genai-sdk/")));
    const char *v = path_version(path);
    if (!v) return; /* no API route: nothing to answer in a dialect */
    FUZZ_CHECK(strcmp(r->version, v) == 0);
    bool v1 = strcmp(v, "v1") == 0;
    bool valid = revision_is_date(rev);
    FUZZ_CHECK(ia_http_revision_valid(rev) == valid);
    bool steps = v1 || (valid && strcmp(rev, IA_HTTP_STEPS_REVISION) >= 0) || (!valid && major >= 2);
    FUZZ_CHECK(r->dialect == (steps ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY));
    FUZZ_CHECK(r->bad_revision == (!v1 && rev && *rev && !valid));
}

/* path \n Api-Revision \n x-goog-api-client: each line after the first optional */
static void route(char *s) {
    char *rev = strchr(s, '\n');
    if (rev) *rev++ = '\0';
    char *client = rev ? strchr(rev, '\n') : NULL;
    if (client) *client++ = '\0';
    ia_http_hints h = {.api_revision = rev, .api_client = client, .default_dialect = IA_DIALECT_LEGACY};
    ia_http_route r;
    ia_http_route_parse(s, &h, &r);
    check_dialect(s, rev, client, &r);
    FUZZ_CHECK(memchr(r.id, '\0', sizeof r.id) != NULL);
    if ((r.kind == IA_RT_ITEM || r.kind == IA_RT_CANCEL) && !r.id_too_long) {
        FUZZ_CHECK(r.id[0] != '\0');
        /* the id is the percent-decoded segment after /interactions/ */
        const char *seg = strstr(s, "/interactions/");
        FUZZ_CHECK(seg != NULL);
        char *raw = ia_strdup(seg + strlen("/interactions/"));
        char *slash = strchr(raw, '/');
        if (slash) *slash = '\0';
        FUZZ_CHECK(ia_http_pct_decode(raw) > 0 && strcmp(raw, r.id) == 0);
        free(raw);
    }
    if (r.kind == IA_RT_AGENT && !r.id_too_long) FUZZ_CHECK(ia_api_agent_id_valid(r.id)); /* else a 404 */
    FUZZ_CHECK(ia_http_route_allow(r.kind) != NULL);
}

static void pct(char *s) {
    size_t before = strlen(s);
    long n = ia_http_pct_decode(s);
    FUZZ_CHECK(n == -1 || ((size_t)n <= before && (size_t)n == strlen(s)));
}

static void b64(const char *s) {
    uint8_t out[256];
    size_t n = strlen(s);
    long got = ia_b64url_decode(s, n, out, sizeof out);
    FUZZ_CHECK(got >= -1 && got <= (long)sizeof out);
    if (got >= 0) {
        char again[4 * sizeof out / 3 + 8];
        size_t m = ia_b64url_encode(out, (size_t)got, again);
        FUZZ_CHECK(m == n);
    }
}

static void scalars(const char *s) {
    bool b;
    (void)ia_http_parse_bool(s, &b);
    int64_t t = ia_time_parse_rfc3339(s);
    if (t != -1) {
        char buf[32];
        ia_time_rfc3339(t, buf);
        FUZZ_CHECK(strcmp(buf, s) == 0);
    }
    FUZZ_CHECK(ia_parse_duration(s) >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *s = fuzz_cstr(data + 1, size - 1);
    switch (data[0] % 6) {
    case 0: interaction_id(s); break;
    case 1: event_id(s); break;
    case 2: route(s); break;
    case 3: pct(s); break;
    case 4: b64(s); break;
    default: scalars(s); break;
    }
    free(s);
    return 0;
}
