/* test_http: the HTTP layer — route table, percent-decoding, the API key
 * set, and a live server on a free port answered over a raw socket for what
 * needs no model: /healthz, /metrics (format, auth), 404, 405 + Allow, 413 (declared and chunked),
 * 401/403, the dialect each path, Api-Revision, x-goog-api-client and
 * --default-dialect select (seen in how a create body is decoded), and an
 * over-long id. Interactions
 * themselves are exercised end to end by tests/e2e with the real SDK. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "http/http_int.h"
#include "unit.h"

IA_TEST(http_routes) {
    ia_http_route r;
    ia_http_route_parse("/healthz", NULL, &r);
    IA_CHECK(r.kind == IA_RT_HEALTHZ);
    ia_http_route_parse("/metrics", NULL, &r);
    IA_CHECK(r.kind == IA_RT_METRICS);
    IA_CHECK(ia_http_route_method_ok(IA_RT_METRICS, "GET"));
    IA_CHECK(!ia_http_route_method_ok(IA_RT_METRICS, "POST"));
    ia_http_route_parse("/metrics/x", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    ia_http_route_parse("/v1beta/interactions", NULL, &r);
    IA_CHECK(r.kind == IA_RT_CREATE && r.dialect == IA_DIALECT_LEGACY);
    ia_http_hints rev_new = {.api_revision = "2026-05-20"}, rev_old = {.api_revision = "2025-01-01"};
    ia_http_route_parse("/v1beta/interactions", &rev_new, &r);
    IA_CHECK(r.kind == IA_RT_CREATE && r.dialect == IA_DIALECT_STEPS);
    ia_http_route_parse("/v1beta/interactions", &rev_old, &r);
    IA_CHECK(r.dialect == IA_DIALECT_LEGACY);
    ia_http_route_parse("/v1/interactions/abc", NULL, &r);
    IA_CHECK(r.kind == IA_RT_ITEM && r.dialect == IA_DIALECT_STEPS);
    ia_http_route_parse("/v1beta/interactions/v1_a%2Db/cancel", NULL, &r);
    IA_CHECK(r.kind == IA_RT_CANCEL);
    IA_CHECK_STREQ(r.id, "v1_a-b");
    ia_http_route_parse("/v1beta/interactions/a%2Fb", NULL, &r); /* an encoded slash stays in the id */
    IA_CHECK(r.kind == IA_RT_ITEM);
    IA_CHECK_STREQ(r.id, "a/b");
    ia_http_route_parse("/v1beta/interactions/a/b", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    ia_http_route_parse("/v1beta/interactions/", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    ia_http_route_parse("/v1betax/interactions", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    ia_http_route_parse("/v2/interactions", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    char longid[200];
    memset(longid, 'x', sizeof longid);
    memcpy(longid, "/v1beta/interactions/", 21);
    longid[21 + IA_ID_MAX] = '\0';
    ia_http_route_parse(longid, NULL, &r);
    IA_CHECK(r.kind == IA_RT_ITEM && r.id_too_long);
    ia_http_route_parse("/v1beta/interactions/bad%zz", NULL, &r);
    IA_CHECK(r.kind == IA_RT_ITEM && r.id_too_long);
    IA_CHECK(ia_http_route_method_ok(IA_RT_ITEM, "DELETE"));
    IA_CHECK(!ia_http_route_method_ok(IA_RT_ITEM, "POST"));
    IA_CHECK_STREQ(ia_http_route_allow(IA_RT_ITEM), "GET, DELETE");
}

IA_TEST(http_agents_routes) {
    ia_http_route r;
    ia_http_route_parse("/v1/agents", NULL, &r);
    IA_CHECK(r.kind == IA_RT_AGENTS && !strcmp(r.version, "v1"));
    ia_http_route_parse("/v1beta/agents/my-bot", NULL, &r);
    IA_CHECK(r.kind == IA_RT_AGENT && !r.id_too_long && !strcmp(r.version, "v1beta"));
    IA_CHECK_STREQ(r.id, "my-bot");
    ia_http_route_parse("/v1/agents/my%2Dbot", NULL, &r); /* percent-decoded */
    IA_CHECK(r.kind == IA_RT_AGENT && !r.id_too_long);
    IA_CHECK_STREQ(r.id, "my-bot");
    /* not an agent id: a 404 naming what was asked */
    ia_http_route_parse("/v1/agents/Bad_Id", NULL, &r);
    IA_CHECK(r.kind == IA_RT_AGENT && r.id_too_long);
    IA_CHECK_STREQ(r.id, "Bad_Id");
    ia_http_route_parse("/v1/agents/a%2Fb", NULL, &r);
    IA_CHECK(r.kind == IA_RT_AGENT && r.id_too_long);
    ia_http_route_parse("/v1/agents/a/b", NULL, &r);
    IA_CHECK(r.kind == IA_RT_AGENT && r.id_too_long);
    ia_http_route_parse("/v1/agentsx", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    IA_CHECK(ia_http_route_method_ok(IA_RT_AGENTS, "POST") && ia_http_route_method_ok(IA_RT_AGENTS, "GET"));
    IA_CHECK(!ia_http_route_method_ok(IA_RT_AGENTS, "DELETE"));
    IA_CHECK(ia_http_route_method_ok(IA_RT_AGENT, "DELETE") && !ia_http_route_method_ok(IA_RT_AGENT, "PATCH"));
    IA_CHECK_STREQ(ia_http_route_allow(IA_RT_AGENT), "GET, DELETE");
}

IA_TEST(http_pct_decode) {
    char s[] = "a%20b%41%7e";
    IA_CHECK(ia_http_pct_decode(s) == 5);
    IA_CHECK_STREQ(s, "a bA~");
    char bad1[] = "x%2", bad2[] = "x%00y";
    IA_CHECK(ia_http_pct_decode(bad1) < 0);
    IA_CHECK(ia_http_pct_decode(bad2) < 0);
    bool b = false;
    IA_CHECK(ia_http_parse_bool("true", &b) == 0 && b);
    IA_CHECK(ia_http_parse_bool("false", &b) == 0 && !b);
    IA_CHECK(ia_http_parse_bool("yes please", &b) < 0);
}

IA_TEST(http_keys) {
    char path[512];
    snprintf(path, sizeof path, "%s/keys.txt", ia_test_tmpdir());
    FILE *f = fopen(path, "w");
    IA_CHECK(f != NULL);
    fputs("# team keys\n\n  alpha  \nbeta\n#gamma\n", f);
    fclose(f);
    ia_http_keys *k = ia_http_keys_new();
    ia_err e;
    IA_CHECK(ia_http_keys_load_file(k, path, &e) == 0);
    ia_http_keys_add_list(k, " delta, ,alpha");
    IA_CHECK(ia_http_keys_count(k) == 3);
    char owner[65], expect[65];
    bool ok_alpha = ia_http_keys_check(k, "alpha", owner);
    ia_sha256_hex("alpha", 5, expect);
    bool ok_gamma = ia_http_keys_check(k, "gamma", owner);
    bool ok_delta = ia_http_keys_check(k, "delta", owner);
    bool missing = ia_http_keys_load_file(k, "/nonexistent/keys", &e) < 0;
    ia_http_keys_free(k);
    IA_CHECK(ok_alpha && !ok_gamma && ok_delta && missing);
    IA_CHECK_CONTAINS(e.msg, "/nonexistent/keys");
    IA_CHECK(strlen(expect) == 64);
}

/* Sends raw and returns everything the server wrote until it closed. */
static char *roundtrip(int port, const char *raw, size_t n) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return strdup("");
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, raw + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break; /* the server may answer (413) and close early */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    ia_buf b;
    ia_buf_init(&b, 0);
    char tmp[4096];
    ssize_t r;
    while ((r = recv(fd, tmp, sizeof tmp, 0)) > 0) ia_buf_append(&b, tmp, (size_t)r);
    close(fd);
    return ia_buf_take(&b);
}

static char *get(int port, const char *method, const char *path, const char *extra) {
    char *req = ia_asprintf("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n", method, path,
                            extra ? extra : "");
    char *res = roundtrip(port, req, strlen(req));
    free(req);
    return res;
}

IA_TEST(http_server_no_model_paths) {
    ia_http_opts o = {.host = "127.0.0.1", .port = 0, .max_body = 64};
    ia_err e;
    ia_http *h = ia_http_start(&o, &e);
    IA_CHECK(h != NULL);
    int port = ia_http_port(h);
    char *hz = get(port, "GET", "/healthz", NULL);
    char *nf = get(port, "GET", "/nope", NULL);
    char *me = get(port, "GET", "/metrics", NULL);
    char *mp = get(port, "POST", "/metrics", NULL);
    char *ma = get(port, "PUT", "/v1beta/interactions/abc", NULL);
    /* A field only SDK 3.x has tells the dialect apart without a model: the
     * steps dialect names it as not served, the legacy one as unknown. */
    const char *b3 = "Content-Length: 44\r\n\r\n{\"model\":\"m\",\"input\":\"x\",\"labels\":{\"a\":\"b\"}}";
    char *v1 = get(port, "POST", "/v1/interactions", b3);
    char *v1b = get(port, "POST", "/v1beta/interactions", b3);
    char rev_hdr[160];
    snprintf(rev_hdr, sizeof rev_hdr, "Api-Revision: 2026-05-20\r\n%s", b3);
    char *rev = get(port, "POST", "/v1beta/interactions", rev_hdr);
    char big[400];
    int hl = snprintf(big, sizeof big, "POST /v1beta/interactions HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\nContent-Length: 200\r\n\r\n");
    memset(big + hl, 'x', 200);
    char *tl = roundtrip(port, big, (size_t)hl + 200);
    const char *chunked = "POST /v1beta/interactions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"
                          "40\r\n{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                          "40\r\n{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n0\r\n\r\n";
    char *tc = roundtrip(port, chunked, strlen(chunked));
    ia_http_stop(h);
    int failed = 0;
#define EXPECT(cond) do { if (!(cond)) { fprintf(stderr, "  expect failed: %s\n", #cond); failed = 1; } } while (0)
    EXPECT(strstr(hz, "HTTP/1.1 200") && strstr(hz, "\"status\":\"ok\"") && strstr(hz, "\"models\":[]"));
    EXPECT(strstr(nf, "HTTP/1.1 404") && strstr(nf, "\"code\":\"not_found\""));
    /* No engine: every family's HELP and TYPE, no sample. */
    EXPECT(strstr(me, "HTTP/1.1 200") && strstr(me, "Content-Type: text/plain; version=0.0.4") &&
           strstr(me, "# TYPE interactd_jobs_done_total counter\n") &&
           strstr(me, "# TYPE interactd_jobs_queued gauge\n") && !strstr(me, "{model="));
    EXPECT(strstr(mp, "HTTP/1.1 405") && strstr(mp, "Allow: GET, HEAD\r\n"));
    EXPECT(strstr(ma, "HTTP/1.1 405") && strstr(ma, "Allow: GET, DELETE") &&
           strstr(ma, "method_not_allowed"));
    EXPECT(strstr(v1, "HTTP/1.1 400") && strstr(v1, "\"code\":\"unimplemented\"") &&
           strstr(v1, "labels: not supported yet"));
    EXPECT(strstr(rev, "HTTP/1.1 400") && strstr(rev, "labels: not supported yet"));
    EXPECT(strstr(v1b, "HTTP/1.1 400") && strstr(v1b, "unknown field 'labels'"));
    EXPECT(strstr(tl, "HTTP/1.1 413") && strstr(tl, "payload_too_large"));
    EXPECT(strstr(tc, "HTTP/1.1 413") && strstr(tc, "payload_too_large"));
    EXPECT(strstr(nf, "Content-Type: application/json"));
    if (failed) fprintf(stderr, "%s\n---\n%s\n---\n%s\n---\n%s\n", hz, ma, tl, tc);
    free(hz), free(nf), free(me), free(mp), free(ma), free(v1), free(v1b), free(rev), free(tl), free(tc);
    IA_CHECK(!failed);
}

IA_TEST(http_server_auth) {
    ia_http_keys *k = ia_http_keys_new();
    ia_http_keys_add(k, "sekrit");
    ia_http_opts o = {.host = "127.0.0.1", .port = 0, .keys = k};
    ia_err e;
    ia_http *h = ia_http_start(&o, &e);
    IA_CHECK(h != NULL);
    int port = ia_http_port(h);
    char *none = get(port, "GET", "/v1beta/interactions/abc", NULL);
    char *wrong = get(port, "GET", "/v1beta/interactions/abc", "x-goog-api-key: nope\r\n");
    char *wrongq = get(port, "GET", "/v1beta/interactions/abc?key=nope", NULL);
    char *bearer = get(port, "DELETE", "/v1beta/interactions/abc", "Authorization: Bearer nah\r\n");
    char *hz = get(port, "GET", "/healthz", NULL);
    char *mnone = get(port, "GET", "/metrics", NULL);
    char *mkey = get(port, "GET", "/metrics", "x-goog-api-key: sekrit\r\n");
    /* With the right key the request gets past auth; an over-long id is then
     * a 404 without reaching the core. */
    char path[200];
    memset(path, 0, sizeof path);
    strcpy(path, "/v1beta/interactions/");
    memset(path + strlen(path), 'a', IA_ID_MAX + 5);
    char *longid = get(port, "GET", path, "x-goog-api-key: sekrit\r\n");
    bool auth = ia_http_auth_enabled(h);
    ia_http_stop(h);
    ia_http_keys_free(k);
    int failed = 0;
    EXPECT(auth);
    EXPECT(strstr(none, "HTTP/1.1 401") && strstr(none, "unauthenticated"));
    EXPECT(strstr(wrong, "HTTP/1.1 403") && strstr(wrong, "permission_denied"));
    EXPECT(strstr(wrongq, "HTTP/1.1 403"));
    EXPECT(strstr(bearer, "HTTP/1.1 403"));
    EXPECT(strstr(hz, "HTTP/1.1 200"));
    EXPECT(strstr(mnone, "HTTP/1.1 401") && strstr(mnone, "unauthenticated"));
    EXPECT(strstr(mkey, "HTTP/1.1 200") && strstr(mkey, "# HELP interactd_"));
    EXPECT(strstr(longid, "HTTP/1.1 404") && strstr(longid, "not_found"));
    free(none), free(wrong), free(wrongq), free(bearer), free(hz), free(mnone), free(mkey), free(longid);
    IA_CHECK(!failed);
}

IA_TEST(http_loopback_without_keys) {
    ia_http_opts o = {.host = "0.0.0.0", .port = 0};
    ia_err e;
    ia_http *h = ia_http_start(&o, &e);
    IA_CHECK(h != NULL);
    char host[64];
    snprintf(host, sizeof host, "%s", ia_http_host(h));
    bool auth = ia_http_auth_enabled(h);
    ia_http_stop(h);
    IA_CHECK_STREQ(host, "127.0.0.1");
    IA_CHECK(!auth);
}

/* ---- the dialect of a request (issue 17) ----------------------------------- */

IA_TEST(http_sdk_major_from_api_client) {
    /* what the SDKs send, verbatim */
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/2.19.0 gl-python/3.11.7") == 2);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/1.52.0 gl-node/v20.19.4") == 1);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/3.3.0 gl-node/v22.1.0") == 3);
    /* the token anywhere among others, any version spelling */
    IA_CHECK(ia_http_sdk_major("gl-python/3.12.1 google-genai-sdk/2.0.0rc1") == 2); /* a Python pre-release */
    IA_CHECK(ia_http_sdk_major("gl-python/3.12.1  google-genai-sdk/2.0.0") == 2);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/2") == 2);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/12.1.0-beta") == 12);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/0.9.0") == 0);
    /* not the SDK, or not a version */
    IA_CHECK(ia_http_sdk_major(NULL) == -1);
    IA_CHECK(ia_http_sdk_major("") == -1);
    IA_CHECK(ia_http_sdk_major("curl/8.5.0") == -1);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/") == -1);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/v2.1") == -1);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/2x") == -1);
    IA_CHECK(ia_http_sdk_major("my-google-genai-sdk/2.0.0") == -1); /* inside another name */
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/99999999999999999999") >= 2); /* capped, no overflow */
    /* the product name in any case (HTTP's product tokens are) */
    IA_CHECK(ia_http_sdk_major("Google-GenAI-SDK/2.19.0 gl-python/3.11.7") == 2);
    IA_CHECK(ia_http_sdk_major("gl-node/v22 GOOGLE-GENAI-SDK/3.3.0") == 3);
    IA_CHECK(ia_http_sdk_major("My-Google-GenAI-SDK/2.0.0") == -1);
    /* commas between tokens: within a line, and where several lines joined */
    IA_CHECK(ia_http_sdk_major("gl-python/3.11.7,google-genai-sdk/2.19.0") == 2);
    IA_CHECK(ia_http_sdk_major("gl-node/v20.19.4, google-genai-sdk/3.3.0") == 3);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/2.19.0,gl-python/3.11.7") == 2);
    IA_CHECK(ia_http_sdk_major(" , ,") == -1);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/,2") == -1);
    /* the first SDK token with a version decides; one without is passed over */
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/1.52.0, google-genai-sdk/2.19.0") == 1);
    IA_CHECK(ia_http_sdk_major("google-genai-sdk/v2 google-genai-sdk/2.1") == 2);
}

IA_TEST(http_revision_form) {
    static const char *const valid[] = {"2026-05-20", "2025-01-01", "2024-02-29", "2000-02-29", "2026-12-31",
                                        "0001-01-01", "9999-12-31", "2026-04-30"};
    static const char *const invalid[] = {
        "latest", "2026-5-1", "v2", "2026-05-2", "2026-05-200", "20260520", "2026/05/20", "2026-05-20 ",
        " 2026-05-20", "2026-05-20T00:00:00Z", "2026-13-01", "2026-00-10", "2026-05-00", "2026-02-30",
        "2023-02-29", "1900-02-29", "2026-04-31", "+026-05-20", "2026-0x-20", "9999-99-99", "", "-",
    };
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        if (!ia_http_revision_valid(valid[i])) fprintf(stderr, "  valid: %s\n", valid[i]);
        IA_CHECK(ia_http_revision_valid(valid[i]));
    }
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        if (ia_http_revision_valid(invalid[i])) fprintf(stderr, "  invalid: '%s'\n", invalid[i]);
        IA_CHECK(!ia_http_revision_valid(invalid[i]));
    }
    IA_CHECK(!ia_http_revision_valid(NULL));
    /* bad: present, non-empty and not a date (empty reads as absent) */
    ia_http_hints latest = {.api_revision = "latest"}, empty = {.api_revision = ""}, none = {0};
    IA_CHECK(ia_http_revision_bad(&latest) && !ia_http_revision_bad(&empty) && !ia_http_revision_bad(&none));
    IA_CHECK(!ia_http_revision_bad(NULL));
    /* the 400 names the header and the form, and quotes the value safely */
    ia_err e;
    IA_CHECK(ia_http_revision_refusal("latest", &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_STREQ(e.msg, "Api-Revision: expected a date like 2026-05-20, not 'latest'");
    ia_http_revision_refusal("2026-5-1", &e);
    IA_CHECK_STREQ(e.msg, "Api-Revision: expected a date like 2026-05-20, not '2026-5-1'");
    ia_http_revision_refusal("x\xff\x01y", &e);
    IA_CHECK_STREQ(e.msg, "Api-Revision: expected a date like 2026-05-20, not 'x??y'");
    ia_http_revision_refusal("0123456789012345678901234567890123456789ABCDEF", &e);
    IA_CHECK_STREQ(e.msg, "Api-Revision: expected a date like 2026-05-20, not "
                          "'0123456789012345678901234567890123456789...'");
}

IA_TEST(http_dialect_rule) {
    const ia_dialect L = IA_DIALECT_LEGACY, S = IA_DIALECT_STEPS;
    const char *sdk2 = "google-genai-sdk/2.19.0 gl-python/3.11.7", *sdk1 = "google-genai-sdk/1.52.0 gl-node/v20";
    static const struct {
        bool v1;
        const char *rev, *client;
        ia_dialect dflt, want;
    } cases[] = {
        {false, NULL, NULL, IA_DIALECT_LEGACY, IA_DIALECT_LEGACY},           /* curl */
        {false, NULL, "google-genai-sdk/2.19.0 gl-python/3.11.7", IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
        {false, NULL, "google-genai-sdk/1.52.0 gl-node/v20", IA_DIALECT_LEGACY, IA_DIALECT_LEGACY},
        {false, "", "google-genai-sdk/2.19.0", IA_DIALECT_LEGACY, IA_DIALECT_STEPS}, /* empty = absent */
        /* an explicit Api-Revision wins over the SDK and the default */
        {false, "2025-01-01", "google-genai-sdk/2.19.0", IA_DIALECT_LEGACY, IA_DIALECT_LEGACY},
        {false, "2025-01-01", NULL, IA_DIALECT_STEPS, IA_DIALECT_LEGACY},
        {false, "2026-05-20", "google-genai-sdk/1.52.0", IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
        {false, "2026-07-01", NULL, IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
        /* --default-dialect steps: everyone who names nothing newer */
        {false, NULL, NULL, IA_DIALECT_STEPS, IA_DIALECT_STEPS},
        {false, NULL, "google-genai-sdk/1.52.0 gl-node/v20", IA_DIALECT_STEPS, IA_DIALECT_STEPS},
        {false, NULL, "google-genai-sdk/2.19.0", IA_DIALECT_STEPS, IA_DIALECT_STEPS},
        /* /v1 is steps whatever is sent */
        {true, "2025-01-01", "google-genai-sdk/1.52.0", IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
        {true, "latest", NULL, IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
        /* a revision that is not a date decides nothing (the request is
         * refused, in the dialect the rest of the rule gives) */
        {false, "latest", NULL, IA_DIALECT_LEGACY, IA_DIALECT_LEGACY},
        {false, "latest", NULL, IA_DIALECT_STEPS, IA_DIALECT_STEPS},
        {false, "2026-5-1", "google-genai-sdk/2.19.0", IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
        {false, "v2", "google-genai-sdk/1.52.0", IA_DIALECT_LEGACY, IA_DIALECT_LEGACY},
        {false, "2026-02-30", NULL, IA_DIALECT_LEGACY, IA_DIALECT_LEGACY}, /* no such day */
        {false, "9999-99-99", NULL, IA_DIALECT_LEGACY, IA_DIALECT_LEGACY},
        /* the SDK token in any case, among commas */
        {false, NULL, "gl-python/3.11.7,Google-GenAI-SDK/2.19.0", IA_DIALECT_LEGACY, IA_DIALECT_STEPS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ia_http_hints h = {.api_revision = cases[i].rev, .api_client = cases[i].client,
                           .default_dialect = cases[i].dflt};
        if (ia_http_pick_dialect(cases[i].v1, &h) != cases[i].want) fprintf(stderr, "  case %zu\n", i);
        IA_CHECK(ia_http_pick_dialect(cases[i].v1, &h) == cases[i].want);
    }
    IA_CHECK(ia_http_pick_dialect(false, NULL) == L && ia_http_pick_dialect(true, NULL) == S);
    /* the route carries it, for every route of the API */
    ia_http_hints h2 = {.api_client = sdk2}, h1 = {.api_client = sdk1};
    ia_http_route r;
    ia_http_route_parse("/v1beta/interactions/abc", &h2, &r);
    IA_CHECK(r.kind == IA_RT_ITEM && r.dialect == S);
    ia_http_route_parse("/v1beta/interactions/abc/cancel", &h1, &r);
    IA_CHECK(r.kind == IA_RT_CANCEL && r.dialect == L);
    IA_CHECK(!r.bad_revision);
    /* a malformed revision is flagged where it is read: /v1beta only */
    ia_http_hints bad2 = {.api_revision = "latest", .api_client = sdk2}, bad = {.api_revision = "v2"};
    ia_http_route_parse("/v1beta/interactions", &bad2, &r);
    IA_CHECK(r.kind == IA_RT_CREATE && r.bad_revision && r.dialect == S);
    ia_http_route_parse("/v1beta/interactions/abc", &bad, &r);
    IA_CHECK(r.kind == IA_RT_ITEM && r.bad_revision && r.dialect == L);
    ia_http_route_parse("/v1/interactions", &bad, &r);
    IA_CHECK(r.kind == IA_RT_CREATE && !r.bad_revision && r.dialect == S);
    ia_http_route_parse("/healthz", &bad, &r);
    IA_CHECK(!r.bad_revision);
    /* which answers vary with the headers */
    ia_http_route_parse("/v1beta/interactions/abc", NULL, &r);
    IA_CHECK(ia_http_route_varies(&r));
    ia_http_route_parse("/v1beta/interactions/abc/cancel", NULL, &r);
    IA_CHECK(ia_http_route_varies(&r));
    ia_http_route_parse("/v1/interactions", NULL, &r);
    IA_CHECK(!ia_http_route_varies(&r));
    ia_http_route_parse("/v1beta/files", NULL, &r);
    IA_CHECK(!ia_http_route_varies(&r));
    ia_http_route_parse("/healthz", NULL, &r);
    IA_CHECK(!ia_http_route_varies(&r));
}

/* The rule on a live server (no model needed): a field only the steps
 * dialect knows is "not supported yet" there and an unknown field in
 * legacy, so each answer shows which dialect decoded the body. */
IA_TEST(http_server_dialect_by_client) {
    const char *b3 = "Content-Length: 44\r\n\r\n{\"model\":\"m\",\"input\":\"x\",\"labels\":{\"a\":\"b\"}}";
    static const struct {
        ia_dialect dflt;
        const char *headers;
        bool steps;
    } cases[] = {
        {IA_DIALECT_LEGACY, "x-goog-api-client: google-genai-sdk/2.19.0 gl-python/3.11.7\r\n", true},
        {IA_DIALECT_LEGACY, "X-Goog-Api-Client: google-genai-sdk/2.19.0 gl-python/3.11.7\r\n", true},
        {IA_DIALECT_LEGACY, "x-goog-api-client: google-genai-sdk/1.52.0 gl-node/v20.19.4\r\n", false},
        {IA_DIALECT_LEGACY, "User-Agent: curl/8.5.0\r\n", false},
        {IA_DIALECT_LEGACY, "x-goog-api-client: google-genai-sdk/2.19.0\r\nApi-Revision: 2025-01-01\r\n", false},
        {IA_DIALECT_STEPS, "User-Agent: curl/8.5.0\r\n", true},
        {IA_DIALECT_STEPS, "Api-Revision: 2025-01-01\r\n", false},
        /* the SDK's token in any case, after a comma, or on a later line
         * of the header (a proxy or wrapper may add its own first) */
        {IA_DIALECT_LEGACY, "x-goog-api-client: Google-GenAI-SDK/2.19.0 gl-python/3.11.7\r\n", true},
        {IA_DIALECT_LEGACY, "x-goog-api-client: gl-python/3.11.7,google-genai-sdk/2.19.0\r\n", true},
        {IA_DIALECT_LEGACY, "x-goog-api-client: gl-python/3.11.7\r\nX-Goog-Api-Client: google-genai-sdk/2.19.0\r\n",
         true},
        {IA_DIALECT_LEGACY, "x-goog-api-client: my-proxy/1.0\r\nx-goog-api-client: google-genai-sdk/1.52.0\r\n",
         false},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ia_http_opts o = {.host = "127.0.0.1", .port = 0, .default_dialect = cases[i].dflt};
        ia_err e;
        ia_http *h = ia_http_start(&o, &e);
        IA_CHECK(h != NULL);
        char *hdr = ia_asprintf("%s%s", cases[i].headers, b3);
        char *res = get(ia_http_port(h), "POST", "/v1beta/interactions", hdr);
        ia_http_stop(h);
        bool steps = strstr(res, "labels: not supported yet") != NULL;
        bool legacy = strstr(res, "unknown field 'labels'") != NULL;
        if (!(cases[i].steps ? steps : legacy)) {
            fprintf(stderr, "  case %zu (%s): %s\n", i, cases[i].headers, res);
            failed = 1;
        }
        free(hdr);
        free(res);
    }
    IA_CHECK(!failed);
}

/* Has the response (status line and headers, then the body) header line? */
static bool has_header(const char *res, const char *line) {
    const char *end = strstr(res, "\r\n\r\n");
    const char *at = strstr(res, line);
    return at && end && at < end;
}

/* A malformed Api-Revision is a 400 that names the header and the form,
 * whatever else the request says; /v1 does not read it. /v1beta's
 * interaction answers, errors too, carry Vary for the two headers that pick
 * the dialect; the other paths do not. */
IA_TEST(http_server_revision_and_vary) {
    ia_http_opts o = {.host = "127.0.0.1", .port = 0};
    ia_err e;
    ia_http *h = ia_http_start(&o, &e);
    IA_CHECK(h != NULL);
    int port = ia_http_port(h);
    const char *b3 = "Content-Length: 44\r\n\r\n{\"model\":\"m\",\"input\":\"x\",\"labels\":{\"a\":\"b\"}}";
    char *latest_hdr = ia_asprintf("Api-Revision: latest\r\n%s", b3);
    char *sdk2_hdr = ia_asprintf("Api-Revision: 2026-5-1\r\n"
                                 "x-goog-api-client: google-genai-sdk/2.19.0 gl-python/3.11.7\r\n%s", b3);
    char *v1_hdr = ia_asprintf("Api-Revision: v2\r\n%s", b3);
    char *legacy_hdr = ia_asprintf("Api-Revision: 2025-01-01\r\n%s", b3);
    char *latest = get(port, "POST", "/v1beta/interactions", latest_hdr);
    char *sdk2 = get(port, "POST", "/v1beta/interactions", sdk2_hdr);
    char *getbad = get(port, "GET", "/v1beta/interactions/abc", "Api-Revision: 2026-02-30\r\n");
    char *v1 = get(port, "POST", "/v1/interactions", v1_hdr);
    char *legacy = get(port, "POST", "/v1beta/interactions", legacy_hdr);
    char *plain = get(port, "POST", "/v1beta/interactions", b3);
    char longid[200]; /* not one of ours: a 404 before the core (there is none here) */
    snprintf(longid, sizeof longid, "/v1beta/interactions/%0*d", IA_ID_MAX + 5, 0);
    char *missing = get(port, "GET", longid, NULL);
    char *files = get(port, "GET", "/v1beta/files", NULL);
    char *hz = get(port, "GET", "/healthz", NULL);
    ia_http_stop(h);
    const char *vary = "Vary: Api-Revision, x-goog-api-client\r\n";
    int failed = 0;
    EXPECT(strstr(latest, "HTTP/1.1 400") && strstr(latest, "\"code\":\"invalid_request\"") &&
           strstr(latest, "Api-Revision: expected a date like 2026-05-20, not 'latest'"));
    EXPECT(strstr(sdk2, "HTTP/1.1 400") &&
           strstr(sdk2, "Api-Revision: expected a date like 2026-05-20, not '2026-5-1'"));
    EXPECT(strstr(getbad, "HTTP/1.1 400") &&
           strstr(getbad, "Api-Revision: expected a date like 2026-05-20, not '2026-02-30'"));
    EXPECT(strstr(v1, "HTTP/1.1 400") && strstr(v1, "labels: not supported yet"));
    EXPECT(strstr(legacy, "unknown field 'labels'") && strstr(plain, "unknown field 'labels'"));
    EXPECT(has_header(latest, vary) && has_header(getbad, vary) && has_header(legacy, vary));
    EXPECT(has_header(plain, vary) && has_header(missing, vary) && strstr(missing, "HTTP/1.1 404"));
    EXPECT(!strstr(v1, "Vary:") && !strstr(files, "Vary:") && !strstr(hz, "Vary:"));
    if (failed) fprintf(stderr, "%s\n---\n%s\n---\n%s\n---\n%s\n", latest, sdk2, getbad, plain);
    free(latest_hdr), free(sdk2_hdr), free(v1_hdr), free(legacy_hdr);
    free(latest), free(sdk2), free(getbad), free(v1), free(legacy), free(plain), free(missing), free(files), free(hz);
    IA_CHECK(!failed);
}
