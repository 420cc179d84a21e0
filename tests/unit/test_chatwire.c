/* test_chatwire: the terminal chat's wire (api/chatwire.c) — the create
 * body it sends, the SSE reader under every split of a real stream (LF and
 * CRLF, comments, a frame over the limit), the events it decodes (text,
 * thought, call, start/complete ids and status, error, junk), an error
 * body's message — and the console's routes (routes.c: "/" and
 * "/console/..." are the console's, GET/HEAD only). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/chatwire.h"
#include "http/http_int.h"
#include "lib/util.h"
#include "unit.h"

IA_TEST(chatwire_request_body) {
    ia_chat_req r = {.model = "demo", .input = "hi\n\"there\"", .system = "be brief", .previous_id = "v1_x",
                     .max_output_tokens = 7, .temperature = 0, .stream = true};
    char *s = ia_chatwire_request(&r);
    json_t *o = json_loads(s, 0, NULL);
    IA_CHECK(o != NULL);
    IA_CHECK_STREQ(json_string_value(json_object_get(o, "model")), "demo");
    IA_CHECK_STREQ(json_string_value(json_object_get(o, "input")), "hi\n\"there\"");
    IA_CHECK_STREQ(json_string_value(json_object_get(o, "system_instruction")), "be brief");
    IA_CHECK_STREQ(json_string_value(json_object_get(o, "previous_interaction_id")), "v1_x");
    IA_CHECK(json_is_true(json_object_get(o, "stream")));
    json_t *gc = json_object_get(o, "generation_config");
    IA_CHECK(json_integer_value(json_object_get(gc, "max_output_tokens")) == 7);
    IA_CHECK(json_is_real(json_object_get(gc, "temperature")) && json_real_value(json_object_get(gc, "temperature")) == 0);
    json_decref(o);
    free(s);
    /* defaults leave the fields out */
    ia_chat_req bare = {.model = "m", .input = "x", .temperature = -1};
    s = ia_chatwire_request(&bare);
    o = json_loads(s, 0, NULL);
    IA_CHECK(json_object_size(o) == 2); /* model and input only */
    json_decref(o);
    free(s);
    ia_chat_req none = {.model = NULL, .input = "x"};
    IA_CHECK(ia_chatwire_request(&none) == NULL);
}

typedef struct frames {
    char got[16][256];
    int n;
} frames;

static void collect(void *ud, const char *data, size_t len) {
    frames *f = ud;
    if (f->n < 16) snprintf(f->got[f->n++], sizeof f->got[0], "%.*s", (int)len, data);
}

IA_TEST(chatwire_sse_reader_any_split) {
    const char *stream = ": ping\n\nevent: content.delta\ndata: {\"a\":1}\n\n"
                         "event: x\r\ndata: one\r\ndata: two\r\n\r\n"
                         "id: 5\ndata:nospace\n\nevent: done\ndata: [DONE]\n\n";
    size_t n = strlen(stream);
    for (size_t cut = 0; cut <= n; cut++) {
        ia_sse_reader r = {0};
        frames f = {0};
        IA_CHECK(ia_sse_feed(&r, stream, cut, 1024, collect, &f) == 0);
        IA_CHECK(ia_sse_feed(&r, stream + cut, n - cut, 1024, collect, &f) == 0);
        IA_CHECK(f.n == 4);
        IA_CHECK_STREQ(f.got[0], "{\"a\":1}");
        IA_CHECK_STREQ(f.got[1], "one\ntwo");
        IA_CHECK_STREQ(f.got[2], "nospace");
        IA_CHECK_STREQ(f.got[3], "[DONE]");
        IA_CHECK(r.len == 0);
        ia_sse_reader_free(&r);
    }
    /* byte by byte */
    ia_sse_reader r = {0};
    frames f = {0};
    for (size_t i = 0; i < n; i++) ia_sse_feed(&r, stream + i, 1, 1024, collect, &f);
    IA_CHECK(f.n == 4);
    ia_sse_reader_free(&r);
    /* a frame that never ends is refused past the limit */
    char big[300];
    memset(big, 'x', sizeof big);
    ia_sse_reader r2 = {0};
    frames f2 = {0};
    IA_CHECK(ia_sse_feed(&r2, big, sizeof big, 256, collect, &f2) == -1);
    IA_CHECK(f2.n == 0 && r2.len == 0);
    ia_sse_reader_free(&r2);
}

static ia_chatev ev_of(const char *json) {
    ia_chatev e;
    ia_chatwire_event(json, strlen(json), &e);
    return e;
}

IA_TEST(chatwire_events) {
    ia_chatev e = ev_of("{\"event_type\":\"interaction.start\",\"interaction\":{\"id\":\"v1_a\",\"status\":\"in_progress\"}}");
    IA_CHECK(e.kind == IA_CHATEV_START);
    IA_CHECK_STREQ(e.id, "v1_a");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"content.delta\",\"index\":0,\"delta\":{\"type\":\"text\",\"text\":\"Hel\"}}");
    IA_CHECK(e.kind == IA_CHATEV_TEXT);
    IA_CHECK_STREQ(e.text, "Hel");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"content.delta\",\"delta\":{\"type\":\"thought_summary\",\"content\":{\"type\":\"text\",\"text\":\"hmm\"}}}");
    IA_CHECK(e.kind == IA_CHATEV_THOUGHT);
    IA_CHECK_STREQ(e.text, "hmm");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"content.delta\",\"delta\":{\"type\":\"function_call\",\"name\":\"f\",\"arguments\":{\"x\":1}}}");
    IA_CHECK(e.kind == IA_CHATEV_CALL);
    IA_CHECK_STREQ(e.text, "function_call f {\"x\":1}");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"content.delta\",\"delta\":{\"type\":\"thought_signature\",\"signature\":\"s\"}}");
    IA_CHECK(e.kind == IA_CHATEV_OTHER && !e.text);
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"interaction.complete\",\"interaction\":{\"id\":\"v1_a\",\"status\":\"incomplete\"}}");
    IA_CHECK(e.kind == IA_CHATEV_COMPLETE);
    IA_CHECK_STREQ(e.id, "v1_a");
    IA_CHECK_STREQ(e.status, "incomplete");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"interaction.status_update\",\"status\":\"cancelled\"}");
    IA_CHECK(e.kind == IA_CHATEV_STATUS);
    IA_CHECK_STREQ(e.status, "cancelled");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"error\",\"error\":{\"code\":\"internal\",\"message\":\"boom\"}}");
    IA_CHECK(e.kind == IA_CHATEV_ERROR);
    IA_CHECK_STREQ(e.text, "boom");
    ia_chatev_free(&e);
    e = ev_of("{\"event_type\":\"error\"}");
    IA_CHECK(e.kind == IA_CHATEV_ERROR && e.text);
    ia_chatev_free(&e);
    e = ev_of("[DONE]");
    IA_CHECK(e.kind == IA_CHATEV_OTHER);
    ia_chatev_free(&e);
    const char *junk[] = {"", "{", "[1]", "{\"event_type\":3}", "{\"a\":1}", "{\"event_type\":\"x\",\"event_type\":\"y\"}"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        e = ev_of(junk[i]);
        IA_CHECK(e.kind == IA_CHATEV_BAD);
        ia_chatev_free(&e);
    }
    /* wrong types inside are not shown, not trusted */
    e = ev_of("{\"event_type\":\"content.delta\",\"delta\":{\"type\":\"text\",\"text\":5}}");
    IA_CHECK(e.kind == IA_CHATEV_TEXT && e.text == NULL);
    ia_chatev_free(&e);
}

IA_TEST(chatwire_error_message) {
    const char *b = "{\"error\":{\"message\":\"model: no such model\",\"code\":\"not_found\"}}";
    char *m = ia_chatwire_error_message(b, strlen(b));
    IA_CHECK_STREQ(m, "model: no such model");
    free(m);
    IA_CHECK(ia_chatwire_error_message("<html>", 6) == NULL);
}

IA_TEST(http_console_routes) {
    ia_http_route r;
    const char *ours[] = {"/", "/console", "/console/", "/console/app.js", "/console/nope"};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        ia_http_route_parse(ours[i], NULL, &r);
        IA_CHECK(r.kind == IA_RT_CONSOLE);
    }
    const char *not_ours[] = {"/consoles", "/x", "//", "/index.html"};
    for (size_t i = 0; i < sizeof not_ours / sizeof not_ours[0]; i++) {
        ia_http_route_parse(not_ours[i], NULL, &r);
        IA_CHECK(r.kind == IA_RT_NONE);
    }
    IA_CHECK(ia_http_route_method_ok(IA_RT_CONSOLE, "GET"));
    IA_CHECK(ia_http_route_method_ok(IA_RT_CONSOLE, "HEAD"));
    IA_CHECK(!ia_http_route_method_ok(IA_RT_CONSOLE, "POST"));
    IA_CHECK_STREQ(ia_http_route_allow(IA_RT_CONSOLE), "GET, HEAD");
}
