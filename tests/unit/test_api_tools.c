/* test_api_tools: the built-in tools' call and result items on the wire
 * (src/api/toolitems.c) — each of the twelve types decoded from a history
 * and encoded back byte for byte in both dialects (as input, as outputs /
 * steps), the SSE frames of TOOL_CALL / TOOL_RESULT events in both
 * dialects, the 400s that name the field path, and the store codec's round
 * trip of the same items. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "store/store.h"
#include "unit.h"

#define ID "v1_ChdDekJ5YVktZ0VlYUx4czBQczl5VDRRVRIXQ3pCeWFZLWdFZWFMeHMwUHM5eVQ0UVU"
#define TAG "80a335b3cd2c322a" /* sha256(ID)[:16], as in test_api.c */

/* One item of each type, in the key order the encoder writes, so what
 * comes back must be these very bytes. */
#define ITEMS                                                                                              \
    "{\"type\":\"code_execution_call\",\"id\":\"c1\",\"arguments\":{\"code\":\"print(1)\","                \
    "\"language\":\"python\"}},"                                                                           \
    "{\"type\":\"code_execution_result\",\"call_id\":\"c1\",\"result\":\"1\\n\"},"                        \
    "{\"type\":\"code_execution_call\",\"id\":\"c2\",\"arguments\":{\"code\":\"1/0\"}},"                  \
    "{\"type\":\"code_execution_result\",\"call_id\":\"c2\",\"result\":\"ZeroDivisionError\","            \
    "\"is_error\":true},"                                                                                  \
    "{\"type\":\"url_context_call\",\"id\":\"u1\",\"arguments\":{\"urls\":[\"https://example.com/\"]}},"  \
    "{\"type\":\"url_context_result\",\"call_id\":\"u1\",\"result\":[{\"url\":\"https://example.com/\","  \
    "\"status\":\"success\"}]},"                                                                           \
    "{\"type\":\"google_search_call\",\"id\":\"g1\",\"arguments\":{\"queries\":[\"weather\"]},"           \
    "\"search_type\":\"web_search\"},"                                                                     \
    "{\"type\":\"google_search_result\",\"call_id\":\"g1\",\"result\":[{\"search_suggestions\":"          \
    "\"<div>s</div>\"}],\"rendered_content\":\"<div>s</div>\"},"                                      \
    "{\"type\":\"google_maps_call\",\"id\":\"m1\",\"arguments\":{\"queries\":[\"cafe\"]}},"               \
    "{\"type\":\"google_maps_result\",\"call_id\":\"m1\",\"result\":[{\"places\":[{\"name\":\"Cafe\","    \
    "\"place_id\":\"p1\"}]}]},"                                                                            \
    "{\"type\":\"mcp_server_tool_call\",\"id\":\"s1\",\"name\":\"get_time\",\"server_name\":\"clock\","   \
    "\"arguments\":{\"tz\":\"UTC\"}},"                                                                     \
    "{\"type\":\"mcp_server_tool_result\",\"call_id\":\"s1\",\"name\":\"get_time\",\"server_name\":"      \
    "\"clock\",\"result\":{\"time\":\"12:00\"}},"                                                          \
    "{\"type\":\"file_search_call\",\"id\":\"f1\"},"                                                      \
    "{\"type\":\"file_search_result\",\"call_id\":\"f1\",\"result\":[{\"text\":\"doc\"}]}"
#define N_ITEMS 14

static int dec(const char *body, ia_dialect d, ia_request *r, ia_err *e) {
    ia_err_clear(e);
    int rc = ia_api_decode_create_dialect(body, strlen(body), d, r, e);
    if (rc != 0) fprintf(stderr, "    body %s\n    failed: %s\n", body, e->msg);
    return rc;
}

static int fails(const char *body, ia_dialect d, const char *msg) {
    ia_request r;
    ia_err e;
    ia_err_clear(&e);
    int rc = ia_api_decode_create_dialect(body, strlen(body), d, &r, &e);
    int ok = rc == -1 && e.code == IA_EINVALID && strcmp(e.msg, msg) == 0;
    if (!ok)
        fprintf(stderr, "    body %s\n    got rc=%d code=%s msg=\"%s\"\n    expected \"%s\"\n", body, rc,
                ia_err_wire_code(e.code), e.msg, msg);
    ia_request_free(&r);
    return ok;
}

/* An interaction whose input is r's and whose output is `out` (moved). */
static void fixture(ia_interaction *it, ia_request *r, ia_turn *out) {
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%s", ID);
    it->model = ia_strdup("demo");
    it->status = IA_STATUS_COMPLETED;
    it->created = it->updated = 1767006385;
    it->input = r->input;
    memset(&r->input, 0, sizeof r->input);
    it->output.role = IA_ROLE_MODEL;
    if (out) {
        it->output = *out;
        memset(out, 0, sizeof *out);
    }
}

/* The text between `"key":` and the end marker in s, malloc'd. */
static char *between(const char *s, const char *key, const char *end) {
    const char *a = s ? strstr(s, key) : NULL;
    const char *b = a ? strstr(a + strlen(key), end) : NULL;
    return b ? ia_strndup(a + strlen(key), (size_t)(b - a - strlen(key))) : NULL;
}

IA_TEST(api_tools_legacy_items_round_trip) {
    const char *in = "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]},"
                     "{\"role\":\"model\",\"content\":[" ITEMS "]}]";
    char *body = ia_asprintf("{\"model\":\"demo\",\"input\":%s}", in);
    ia_request r;
    ia_err e;
    IA_CHECK(dec(body, IA_DIALECT_LEGACY, &r, &e) == 0);
    free(body);
    IA_CHECK(r.input.n == 2 && r.input.turns[1].role == IA_ROLE_MODEL && r.input.turns[1].n == N_ITEMS);
    const ia_content *c = r.input.turns[1].items;
    IA_CHECK(c[0].kind == IA_CONTENT_TOOL_CALL && c[0].tool == IA_BUILTIN_CODE_EXECUTION);
    IA_CHECK_STREQ(c[0].id, "c1");
    IA_CHECK_STREQ(c[0].text, "{\"code\":\"print(1)\",\"language\":\"python\"}");
    IA_CHECK(c[1].kind == IA_CONTENT_TOOL_RESULT && !c[1].is_error && c[3].is_error);
    IA_CHECK_STREQ(c[1].text, "\"1\\n\"");
    IA_CHECK_STREQ(c[6].search_type, "web_search");
    IA_CHECK(c[10].tool == IA_BUILTIN_MCP_SERVER);
    IA_CHECK_STREQ(c[10].name, "get_time");
    IA_CHECK_STREQ(c[10].server_name, "clock");
    IA_CHECK(c[12].tool == IA_BUILTIN_FILE_SEARCH && c[13].kind == IA_CONTENT_TOOL_RESULT);
    /* The same items as this turn's outputs, and the input given back. */
    ia_turn out;
    ia_turn_copy(&out, &r.input.turns[1]);
    ia_interaction it;
    fixture(&it, &r, &out);
    ia_request_free(&r);
    char *s = ia_api_encode_interaction(&it, true, IA_DIALECT_LEGACY);
    char *outputs = between(s, "\"outputs\":", ",\"usage\"");
    if (!outputs) outputs = between(s, "\"outputs\":", ",\"input\"");
    IA_CHECK_STREQ(outputs, "[" ITEMS "]");
    IA_CHECK_CONTAINS(s, in);
    free(outputs);
    free(s);
    ia_interaction_free(&it);
}

#define STEPS_IN                                                                                           \
    "[{\"type\":\"user_input\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}," ITEMS                  \
    ",{\"type\":\"model_output\",\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}]"

IA_TEST(api_tools_steps_items_round_trip) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":" STEPS_IN "}", IA_DIALECT_STEPS, &r, &e) == 0);
    /* One turn per step; call and result both the model's. */
    IA_CHECK(r.input.n == N_ITEMS + 2);
    for (size_t i = 1; i <= N_ITEMS; i++) IA_CHECK(r.input.turns[i].role == IA_ROLE_MODEL && r.input.turns[i].n == 1);
    IA_CHECK(r.input.turns[2].items[0].kind == IA_CONTENT_TOOL_RESULT);
    IA_CHECK_STREQ(r.input.turns[13].items[0].id, "f1");
    ia_turn out = {.role = IA_ROLE_MODEL};
    for (size_t i = 1; i <= N_ITEMS; i++) {
        ia_turn one;
        ia_turn_copy(&one, &r.input.turns[i]);
        out.items = ia_xrealloc(out.items, (out.n + 1) * sizeof *out.items);
        out.items[out.n++] = one.items[0];
        free(one.items);
    }
    ia_interaction it;
    fixture(&it, &r, &out);
    ia_request_free(&r);
    /* Outputs as steps, one per item; the GET form's input as these steps. */
    char *s = ia_api_encode_interaction(&it, true, IA_DIALECT_STEPS);
    char *steps = between(s, "\"steps\":", ",\"input\"");
    IA_CHECK_STREQ(steps, "[" ITEMS "]");
    free(steps);
    IA_CHECK_CONTAINS(s, "\"input\":" STEPS_IN);
    free(s);
    ia_interaction_free(&it);
}

/* A legacy history decoded is the same steps history: the dialects meet in
 * the core types. */
IA_TEST(api_tools_legacy_history_reads_as_steps) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"model\","
                 "\"content\":[" ITEMS ",{\"type\":\"text\",\"text\":\"done\"}]}]}",
                 IA_DIALECT_LEGACY, &r, &e) == 0);
    ia_interaction it;
    fixture(&it, &r, NULL);
    ia_request_free(&r);
    char *s = ia_api_encode_fetched(&it, true, IA_DIALECT_STEPS);
    IA_CHECK_CONTAINS(s, "\"input\":" STEPS_IN);
    free(s);
    ia_interaction_free(&it);
}

/* Liberal where the typings allow it: signature kept by no item (dropped),
 * a missing arguments is {}, nulls are "not set", code_execution_result's
 * 3.3.0 list of content, an optional result left out stays out, a result
 * in a user turn stays there. */
IA_TEST(api_tools_decode_liberal_forms) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":[{\"type\":\"code_execution_call\",\"id\":\"c\","
                 "\"signature\":\"sig\",\"search_type\":null},"
                 "{\"type\":\"code_execution_result\",\"call_id\":\"c\",\"result\":[{\"type\":\"text\","
                 "\"text\":\"out\"}],\"signature\":\"s\"},"
                 "{\"type\":\"google_maps_result\",\"call_id\":\"m\"}]}",
                 IA_DIALECT_LEGACY, &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].role == IA_ROLE_USER && r.input.turns[0].n == 3);
    ia_turn *t = &r.input.turns[0];
    IA_CHECK_STREQ(t->items[0].text, "{}");
    IA_CHECK(t->items[0].signature == NULL && t->items[0].search_type == NULL);
    ia_interaction it;
    fixture(&it, &r, NULL);
    ia_request_free(&r);
    char *s = ia_api_encode_interaction(&it, true, IA_DIALECT_LEGACY);
    IA_CHECK_CONTAINS(s, "[{\"type\":\"code_execution_call\",\"id\":\"c\",\"arguments\":{}},"
                         "{\"type\":\"code_execution_result\",\"call_id\":\"c\",\"result\":[{\"type\":\"text\","
                         "\"text\":\"out\"}]},{\"type\":\"google_maps_result\",\"call_id\":\"m\"}]");
    IA_CHECK(strstr(s, "signature") == NULL);
    free(s);
    ia_interaction_free(&it);
}

/* ---- 400s -------------------------------------------------------------------- */

#define LEG(items) "{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"model\"," \
    "\"content\":[" items "]}]}"
#define STP(step) "{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":\"Hi\"}," step "]}"
#define CALL "{\"type\":\"code_execution_call\",\"id\":\"c\",\"arguments\":{}}"

IA_TEST(api_tools_decode_errors_name_the_path) {
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_call\",\"id\":\"c\",\"arguments\":\"print(1)\"}"),
                   IA_DIALECT_LEGACY, "input[1].content[0].arguments: expected an object"));
    IA_CHECK(fails(LEG(CALL ",{\"type\":\"code_execution_result\",\"result\":\"1\"}"), IA_DIALECT_LEGACY,
                   "input[1].content[1].call_id: required"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_call\",\"id\":\"c\",\"foo\":1}"), IA_DIALECT_LEGACY,
                   "unknown field 'input[1].content[0].foo'"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_call\",\"id\":\"\"}"), IA_DIALECT_LEGACY,
                   "input[1].content[0].id: required"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_call\",\"id\":\"c\",\"name\":\"x\"}"), IA_DIALECT_LEGACY,
                   "unknown field 'input[1].content[0].name'"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_call\",\"id\":\"c\",\"arguments\":{\"code\":1}}"),
                   IA_DIALECT_LEGACY, "input[1].content[0].arguments.code: expected a string"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_result\",\"call_id\":\"c\",\"result\":5}"), IA_DIALECT_LEGACY,
                   "input[1].content[0].result: expected a string or a list of content objects"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_result\",\"call_id\":\"c\",\"result\":\"\",\"is_error\":1}"),
                   IA_DIALECT_LEGACY, "input[1].content[0].is_error: expected a boolean"));
    IA_CHECK(fails(LEG("{\"type\":\"code_execution_result\",\"call_id\":\"c\"}"), IA_DIALECT_LEGACY,
                   "input[1].content[0].result: required"));
    IA_CHECK(fails(LEG("{\"type\":\"url_context_call\",\"id\":\"u\",\"arguments\":{\"urls\":\"x\"}}"),
                   IA_DIALECT_LEGACY, "input[1].content[0].arguments.urls: expected a list of strings"));
    IA_CHECK(fails(LEG("{\"type\":\"google_search_call\",\"id\":\"g\",\"arguments\":{\"queries\":[\"a\",2]}}"),
                   IA_DIALECT_LEGACY, "input[1].content[0].arguments.queries[1]: expected a string"));
    IA_CHECK(fails(LEG("{\"type\":\"url_context_result\",\"call_id\":\"u\",\"result\":[1]}"), IA_DIALECT_LEGACY,
                   "input[1].content[0].result[0]: expected an object"));
    IA_CHECK(fails(LEG("{\"type\":\"google_search_result\",\"call_id\":\"g\",\"result\":{}}"), IA_DIALECT_LEGACY,
                   "input[1].content[0].result: expected a list"));
    IA_CHECK(fails(LEG("{\"type\":\"mcp_server_tool_call\",\"id\":\"s\",\"name\":\"t\",\"arguments\":{}}"),
                   IA_DIALECT_LEGACY, "input[1].content[0].server_name: required"));
    IA_CHECK(fails(LEG("{\"type\":\"file_search_call\",\"id\":\"f\",\"arguments\":{}}"), IA_DIALECT_LEGACY,
                   "unknown field 'input[1].content[0].arguments'"));
    IA_CHECK(fails(LEG("{\"type\":\"google_maps_call\",\"id\":\"m\",\"signature\":7}"), IA_DIALECT_LEGACY,
                   "input[1].content[0].signature: expected a string"));
    /* Steps: the same rules at the step's path. */
    IA_CHECK(fails(STP("{\"type\":\"code_execution_call\",\"id\":\"c\",\"arguments\":[]}"), IA_DIALECT_STEPS,
                   "input[1].arguments: expected an object"));
    IA_CHECK(fails(STP("{\"type\":\"mcp_server_tool_result\",\"result\":\"ok\"}"), IA_DIALECT_STEPS,
                   "input[1].call_id: required"));
    IA_CHECK(fails(STP("{\"type\":\"google_search_call\",\"id\":\"g\",\"bar\":true}"), IA_DIALECT_STEPS,
                   "unknown field 'input[1].bar'"));
    IA_CHECK(fails(STP("{\"type\":\"google_search_call\",\"id\":\"g\",\"search_type\":3}"), IA_DIALECT_STEPS,
                   "input[1].search_type: expected a string"));
    /* 3.3.0's Content has no tool items: inside a step's content they are unknown. */
    IA_CHECK(fails(STP("{\"type\":\"model_output\",\"content\":[" CALL "]}"), IA_DIALECT_STEPS,
                   "input[1].content[0]: unknown content type 'code_execution_call'"));
}

IA_TEST(api_tools_unserved_step_types_still_name_themselves) {
    ia_request r;
    ia_err e;
    ia_err_clear(&e);
    const char *body = STP("{\"type\":\"processing_call\",\"id\":\"p\"}");
    IA_CHECK(ia_api_decode_create_dialect(body, strlen(body), IA_DIALECT_STEPS, &r, &e) == -1);
    IA_CHECK(e.code == IA_EUNIMPLEMENTED);
    IA_CHECK_STREQ(e.msg, "input[1]: step type 'processing_call' is not supported yet");
    ia_request_free(&r);
}

/* ---- SSE frames ----------------------------------------------------------------- */

/* The frame of an event read back from the store with this neutral JSON
 * in its text column (store/codec_events.c): rows of earlier builds frame
 * as they always did. */
static char *frame(ia_event_kind k, int64_t seq, ia_content_kind ck, const char *text, ia_dialect d) {
    ia_event ev = {.seq = seq, .kind = k, .index = 1, .ckind = ck};
    ia_codec_event_decode(&ev, text, NULL);
    char *f = ia_api_encode_frame(ID, NULL, &ev, d);
    ia_event_free(&ev);
    return f;
}

#define EVT(n, type) ",\"event_id\":\"evt_" TAG "_" #n "\",\"event_type\":\"" type "\"}\n\n"
/* The events' neutral JSON (store/codec_events.c). */
#define EV_CALL "{\"tool\":\"code_execution\",\"id\":\"c1\",\"arguments\":{\"code\":\"print(1)\"}}"
#define EV_RESULT "{\"tool\":\"code_execution\",\"call_id\":\"c1\",\"result\":\"1\\n\",\"is_error\":false}"
#define EV_SEARCH "{\"tool\":\"google_search\",\"id\":\"g1\",\"arguments\":{\"queries\":[\"q\"]}," \
    "\"search_type\":\"web_search\"}"
#define EV_MCP "{\"tool\":\"mcp_server\",\"call_id\":\"s1\",\"result\":{\"t\":1},\"is_error\":true," \
    "\"name\":\"now\",\"server_name\":\"clock\"}"
#define W_CALL "{\"type\":\"code_execution_call\",\"id\":\"c1\",\"arguments\":{\"code\":\"print(1)\"}}"
#define W_RESULT "{\"type\":\"code_execution_result\",\"call_id\":\"c1\",\"result\":\"1\\n\"}"
#define W_SEARCH "{\"type\":\"google_search_call\",\"id\":\"g1\",\"arguments\":{\"queries\":[\"q\"]}," \
    "\"search_type\":\"web_search\"}"
#define W_MCP "{\"type\":\"mcp_server_tool_result\",\"call_id\":\"s1\",\"name\":\"now\",\"server_name\":" \
    "\"clock\",\"result\":{\"t\":1},\"is_error\":true}"

static int frame_is(ia_event_kind k, int64_t seq, ia_content_kind ck, const char *text, ia_dialect d,
                    const char *want) {
    char *s = frame(k, seq, ck, text, d);
    int ok = s && strcmp(s, want) == 0;
    if (!ok) fprintf(stderr, "    got:      %s    expected: %s", s ? s : "(null)\n", want);
    free(s);
    return ok;
}

IA_TEST(api_tools_legacy_frames) {
    const ia_dialect L = IA_DIALECT_LEGACY;
    IA_CHECK(frame_is(IA_EV_CONTENT_START, 3, IA_CONTENT_TOOL_CALL, EV_CALL, L,
                      "event: content.start\ndata: {\"index\":1,\"content\":" W_CALL EVT(3, "content.start")));
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 4, IA_CONTENT_TOOL_CALL, EV_CALL, L,
                      "event: content.delta\ndata: {\"index\":1,\"delta\":" W_CALL EVT(4, "content.delta")));
    IA_CHECK(frame_is(IA_EV_CONTENT_STOP, 5, IA_CONTENT_TOOL_CALL, NULL, L,
                      "event: content.stop\ndata: {\"index\":1" EVT(5, "content.stop")));
    IA_CHECK(frame_is(IA_EV_CONTENT_START, 6, IA_CONTENT_TOOL_RESULT, EV_RESULT, L,
                      "event: content.start\ndata: {\"index\":1,\"content\":" W_RESULT EVT(6, "content.start")));
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 7, IA_CONTENT_TOOL_RESULT, EV_RESULT, L,
                      "event: content.delta\ndata: {\"index\":1,\"delta\":" W_RESULT EVT(7, "content.delta")));
    /* 1.52.0's delta types carry the Content's fields, search_type and ids included. */
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 8, IA_CONTENT_TOOL_CALL, EV_SEARCH, L,
                      "event: content.delta\ndata: {\"index\":1,\"delta\":" W_SEARCH EVT(8, "content.delta")));
    IA_CHECK(frame_is(IA_EV_CONTENT_START, 9, IA_CONTENT_TOOL_RESULT, EV_MCP, L,
                      "event: content.start\ndata: {\"index\":1,\"content\":" W_MCP EVT(9, "content.start")));
}

IA_TEST(api_tools_steps_frames) {
    const ia_dialect S = IA_DIALECT_STEPS;
    IA_CHECK(frame_is(IA_EV_CONTENT_START, 3, IA_CONTENT_TOOL_CALL, EV_CALL, S,
                      "event: step.start\ndata: {\"index\":1,\"step\":" W_CALL EVT(3, "step.start")));
    /* 3.3.0's CodeExecutionCallDelta: no id (the step.start named it). */
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 4, IA_CONTENT_TOOL_CALL, EV_CALL, S,
                      "event: step.delta\ndata: {\"index\":1,\"delta\":{\"type\":\"code_execution_call\","
                      "\"arguments\":{\"code\":\"print(1)\"}}" EVT(4, "step.delta")));
    IA_CHECK(frame_is(IA_EV_CONTENT_STOP, 5, IA_CONTENT_TOOL_CALL, NULL, S,
                      "event: step.stop\ndata: {\"index\":1" EVT(5, "step.stop")));
    IA_CHECK(frame_is(IA_EV_CONTENT_START, 6, IA_CONTENT_TOOL_RESULT, EV_RESULT, S,
                      "event: step.start\ndata: {\"index\":1,\"step\":" W_RESULT EVT(6, "step.start")));
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 7, IA_CONTENT_TOOL_RESULT, EV_RESULT, S,
                      "event: step.delta\ndata: {\"index\":1,\"delta\":{\"type\":\"code_execution_result\","
                      "\"result\":\"1\\n\"}" EVT(7, "step.delta")));
    IA_CHECK(frame_is(IA_EV_CONTENT_START, 8, IA_CONTENT_TOOL_CALL, EV_SEARCH, S,
                      "event: step.start\ndata: {\"index\":1,\"step\":" W_SEARCH EVT(8, "step.start")));
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 9, IA_CONTENT_TOOL_CALL, EV_SEARCH, S,
                      "event: step.delta\ndata: {\"index\":1,\"delta\":{\"type\":\"google_search_call\","
                      "\"arguments\":{\"queries\":[\"q\"]}}" EVT(9, "step.delta")));
    IA_CHECK(frame_is(IA_EV_CONTENT_DELTA, 10, IA_CONTENT_TOOL_RESULT, EV_MCP, S,
                      "event: step.delta\ndata: {\"index\":1,\"delta\":{\"type\":\"mcp_server_tool_result\","
                      "\"name\":\"now\",\"server_name\":\"clock\",\"result\":{\"t\":1},\"is_error\":true}"
                      EVT(10, "step.delta")));
    /* A damaged event still frames, never crashes. */
    char *s = frame(IA_EV_CONTENT_START, 11, IA_CONTENT_TOOL_CALL, "not json", S);
    IA_CHECK_CONTAINS(s, "\"step\":{\"type\":\"tool_call\",\"id\":\"\",\"arguments\":{}}");
    free(s);
}

/* ---- store codec ---------------------------------------------------------------- */

IA_TEST(api_tools_codec_round_trip) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec(LEG(ITEMS), IA_DIALECT_LEGACY, &r, &e) == 0);
    const ia_turn *t = &r.input.turns[1];
    char *js = ia_codec_turn_encode(t);
    ia_turn back = {0};
    int rc = ia_codec_turn_decode(js, &back);
    char *js2 = rc == 0 ? ia_codec_turn_encode(&back) : NULL;
    int same = rc == 0 && back.role == IA_ROLE_MODEL && back.n == t->n;
    for (size_t i = 0; same && i < t->n; i++) {
        const ia_content *a = &t->items[i], *b = &back.items[i];
        same = a->kind == b->kind && a->tool == b->tool && a->is_error == b->is_error &&
               strcmp(a->id, b->id) == 0 && strcmp(a->text, b->text) == 0 &&
               !a->name == !b->name && (!a->name || strcmp(a->name, b->name) == 0) &&
               !a->server_name == !b->server_name && (!a->server_name || strcmp(a->server_name, b->server_name) == 0) &&
               !a->search_type == !b->search_type && (!a->search_type || strcmp(a->search_type, b->search_type) == 0);
        if (!same) fprintf(stderr, "    item %zu differs after the codec\n", i);
    }
    int stable = js && js2 && strcmp(js, js2) == 0;
    /* And the wire from the stored turn is the wire that came in. */
    ia_interaction it;
    ia_request none = {0};
    fixture(&it, &none, &back);
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    int wire = s && strstr(s, "\"outputs\":[" ITEMS "]") != NULL;
    free(s);
    ia_interaction_free(&it);
    free(js);
    free(js2);
    ia_request_free(&r);
    IA_CHECK(same);
    IA_CHECK(stable);
    IA_CHECK(wire);
}
