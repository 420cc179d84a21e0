/* test_mcp: the mcp_server tool's parts that need no network — JSON-RPC
 * responses in JSON and SSE bodies, tools/list and tools/call results
 * (src/tools/mcp_proto.c), the offered function's name, and the decoding
 * of an mcp_server tools[] entry (src/api/tools.c). The client itself runs
 * end to end against the official SDK's server (tests/e2e/mcp.test.mjs). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/prompt.h"
#include "lib/util.h"
#include "tools/mcp.h"
#include "unit.h"

static char *parse(const char *body, bool sse, long id, char why[300]) {
    char *r = NULL;
    why[0] = 0;
    if (ia_mcp_parse_response(body, strlen(body), sse, id, &r, why, 300) != 0) return NULL;
    return r;
}

IA_TEST(mcp_json_response_and_batch) {
    char why[300], *r;
    r = parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"tools\":[]}}", false, 3, why);
    IA_CHECK(r && strcmp(r, "{\"tools\":[]}") == 0);
    free(r);
    /* a batch: the response with our id, whatever comes around it */
    r = parse("[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"},"
              "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1},{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"x\"}]",
              false, 7, why);
    IA_CHECK(r && strcmp(r, "\"x\"") == 0);
    free(r);
    /* another id, a string id, no result: not ours */
    IA_CHECK(!parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}", false, 3, why));
    IA_CHECK_CONTAINS(why, "no JSON-RPC response to request 3");
    IA_CHECK(!parse("{\"jsonrpc\":\"2.0\",\"id\":\"3\",\"result\":{}}", false, 3, why));
    IA_CHECK(!parse("{\"jsonrpc\":\"2.0\",\"id\":3}", false, 3, why));
    IA_CHECK(!parse("not json", false, 3, why));
    IA_CHECK(!parse("", false, 3, why));
}

IA_TEST(mcp_jsonrpc_error_is_named) {
    char why[300];
    IA_CHECK(!parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":\"Unknown tool: x\"}}",
                    false, 1, why));
    IA_CHECK_STREQ(why, "the server answered error -32602: Unknown tool: x");
    IA_CHECK(!parse("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000}}\n\n", true,
                    1, why));
    IA_CHECK_CONTAINS(why, "error -32000: (no message)");
}

IA_TEST(mcp_sse_events) {
    char why[300], *r;
    /* the SDK's shape: an event per message, a notification first */
    r = parse("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n"
              "event: message\nid: 5\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"ok\":true}}\n\n",
              true, 2, why);
    IA_CHECK(r && strcmp(r, "{\"ok\":true}") == 0);
    free(r);
    /* data split over lines (joined by \n, valid JSON white space), CRLF
     * and bare CR line ends, a comment, "data:" without its space */
    r = parse(": keep-alive\r\ndata:{\"jsonrpc\":\"2.0\",\r\ndata: \"id\":9,\r\ndata: \"result\":[1,2]}\r\n\r\n", true,
              9, why);
    IA_CHECK(r && strcmp(r, "[1,2]") == 0);
    free(r);
    r = parse("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":0}\r\r", true, 1, why);
    IA_CHECK(r && strcmp(r, "0") == 0);
    free(r);
    /* the last event without its blank line: the body ended, still read */
    r = parse("data: {\"jsonrpc\":\"2.0\",\"id\":4,\"result\":\"end\"}", true, 4, why);
    IA_CHECK(r && strcmp(r, "\"end\"") == 0);
    free(r);
    /* a data field of another name is not data; an empty stream has nothing */
    IA_CHECK(!parse("dataX: {\"jsonrpc\":\"2.0\",\"id\":4,\"result\":1}\n\n", true, 4, why));
    IA_CHECK(!parse("", true, 4, why));
    IA_CHECK(!parse("data\n\n", true, 4, why));
}

IA_TEST(mcp_tools_list_result) {
    ia_mcp_tool *t = NULL;
    size_t n = 0;
    char *next = NULL, why[300];
    IA_CHECK(ia_mcp_parse_tools("{\"tools\":[{\"name\":\"add\",\"description\":\"Adds.\",\"inputSchema\":"
                                "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"}}}},"
                                "{\"name\":\"t\",\"title\":\"Titled\",\"inputSchema\":{\"properties\":{}}},"
                                "{\"description\":\"nameless\"},{\"name\":\"bare\"}],\"nextCursor\":\"p2\"}",
                                &t, &n, &next, why, sizeof why) == 0);
    IA_CHECK(n == 3);
    IA_CHECK(n == 3 && strcmp(t[0].name, "add") == 0 && strcmp(t[0].description, "Adds.") == 0);
    IA_CHECK(n == 3 && strstr(t[0].schema, "\"a\":{\"type\":\"number\"}"));
    /* a title stands in for a missing description; a schema gets its type */
    IA_CHECK(n == 3 && strcmp(t[1].description, "Titled") == 0 && strstr(t[1].schema, "\"type\":\"object\""));
    IA_CHECK(n == 3 && strcmp(t[2].name, "bare") == 0 && strstr(t[2].schema, "\"type\":\"object\""));
    IA_CHECK(next && strcmp(next, "p2") == 0);
    free(next);
    /* a second page appends */
    IA_CHECK(ia_mcp_parse_tools("{\"tools\":[{\"name\":\"more\"}]}", &t, &n, &next, why, sizeof why) == 0);
    IA_CHECK(n == 4 && !next);
    ia_mcp_tools_free(t, n);
    t = NULL;
    n = 0;
    IA_CHECK(ia_mcp_parse_tools("{\"items\":[]}", &t, &n, &next, why, sizeof why) == -1);
    IA_CHECK_CONTAINS(why, "no list of tools");
    IA_CHECK(ia_mcp_parse_tools("[", &t, &n, &next, why, sizeof why) == -1 && n == 0);
}

static void call_result(int *ia_failed_, const char *in, const char *wire, const char *model, bool err) {
    char *w = NULL, *m = NULL;
    bool e = !err;
    ia_mcp_call_result(in, &w, &m, &e);
    IA_CHECK_STREQ(w, wire);
    IA_CHECK_STREQ(m, model);
    IA_CHECK(e == err);
    free(w);
    free(m);
}

IA_TEST(mcp_tools_call_result) {
    call_result(ia_failed_, "{\"content\":[{\"type\":\"text\",\"text\":\"5\"}]}", "[{\"type\":\"text\",\"text\":\"5\"}]", "5",
                false);
    call_result(ia_failed_, "{\"content\":[{\"type\":\"text\",\"text\":\"no\"}],\"isError\":true}",
                "[{\"type\":\"text\",\"text\":\"no\"}]", "no", true);
    /* an image: kept on the wire as its JSON, named for the model */
    call_result(ia_failed_, "{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"image\",\"data\":\"AAAA\","
                "\"mimeType\":\"image/png\"}]}",
                "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":"
                "\"{\\\"type\\\":\\\"image\\\",\\\"data\\\":\\\"AAAA\\\",\\\"mimeType\\\":\\\"image/png\\\"}\"}]",
                "a\n[image content, image/png]", false);
    /* an embedded text resource is read as its text */
    call_result(ia_failed_, "{\"content\":[{\"type\":\"resource\",\"resource\":{\"uri\":\"f:x\",\"text\":\"body\"}}]}",
                "[{\"type\":\"text\",\"text\":\"{\\\"type\\\":\\\"resource\\\",\\\"resource\\\":{\\\"uri\\\":"
                "\\\"f:x\\\",\\\"text\\\":\\\"body\\\"}}\"}]",
                "body", false);
    /* no content: structuredContent; nothing at all: "" */
    call_result(ia_failed_, "{\"content\":[],\"structuredContent\":{\"t\":1}}", "{\"t\":1}", "{\"t\":1}", false);
    call_result(ia_failed_, "{}", "\"\"", "", false);
    call_result(ia_failed_, "garbage", "\"\"", "", false);
}

IA_TEST(mcp_fn_name) {
    char *s = ia_mcp_fn_name("weather", "get_forecast");
    IA_CHECK_STREQ(s, "weather__get_forecast");
    free(s);
}

/* ---- the tools[] entry ----------------------------------------------------- */

static int decode(const char *tools, ia_request *r, ia_err *e) {
    char *body = ia_asprintf("{\"model\":\"m\",\"input\":\"hi\",\"tools\":%s}", tools);
    ia_err_clear(e);
    int rc = ia_api_decode_create_dialect(body, strlen(body), IA_DIALECT_LEGACY, r, e);
    free(body);
    return rc;
}

static void refused(int *ia_failed_, const char *tools, const char *msg) {
    ia_request r;
    ia_err e;
    IA_CHECK(decode(tools, &r, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, msg);
    ia_request_free(&r);
}

IA_TEST(mcp_decodes_its_settings) {
    ia_request r;
    ia_err e;
    IA_CHECK(decode("[{\"type\":\"function\",\"name\":\"f\"},"
                    "{\"type\":\"mcp_server\",\"name\":\"weather_1\",\"url\":\"https://mcp.example/mcp\","
                    "\"headers\":{\"Authorization\":\"Bearer k\",\"X-A\":\"b\"},"
                    "\"allowed_tools\":[{\"mode\":\"auto\",\"tools\":[\"a\",\"b\"]},{\"mode\":\"none\",\"tools\":[\"c\"]}]},"
                    "{\"type\":\"mcp_server\",\"name\":\"other\",\"url\":\"http://10.0.0.1:8080/\"}]",
                    &r, &e) == 0);
    IA_CHECK(r.n_builtins == 2 && r.n_tools == 1);
    ia_builtin_tool *b = &r.builtins[0];
    IA_CHECK(b->type == IA_BUILTIN_MCP_SERVER && strcmp(b->name, "weather_1") == 0);
    IA_CHECK_STREQ(b->field, "tools[1]");
    IA_CHECK(b->n_headers == 2 && strcmp(b->headers[0], "Authorization: Bearer k") == 0);
    /* the names of a "none" entry are not offered */
    IA_CHECK(b->has_allowed && b->n_allowed == 2 && strcmp(b->allowed[1], "b") == 0);
    IA_CHECK(b->n_denied == 1 && strcmp(b->denied[0], "c") == 0);
    /* a private address is the server's rule, checked when listed, not here */
    IA_CHECK(!r.builtins[1].has_allowed && strcmp(r.builtins[1].url, "http://10.0.0.1:8080/") == 0);
    ia_request_free(&r);
}

IA_TEST(mcp_decode_refusals) {
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"my-server\",\"url\":\"https://a.example/\"}]",
            "tools[0].name: 'my-server' is not a valid MCP server name");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"url\":\"https://a.example/\"}]", "tools[0].name: required");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\"}]", "tools[0].url: required");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"file:///etc/passwd\"}]",
            "tools[0].url: file:///etc/passwd: only http and https URLs are fetched, not file:");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://u:p@a.example/\"}]",
            "tools[0].url: a URL with a user name or password is not fetched");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\"},"
            "{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://b.example/\"}]",
            "tools[1].name: the MCP server 's' is given twice");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\",\"headers\":{\"X\":\"a\\r\\nB: c\"}}]",
            "tools[0].headers.X: a header value cannot hold a line break");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\",\"headers\":{\"X Y\":\"a\"}}]",
            "tools[0].headers: 'X Y' is not a valid header name");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\",\"headers\":{\"X\":1}}]",
            "tools[0].headers.X: expected a string");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\",\"allowed_tools\":[{\"mode\":\"x\"}]}]",
            "tools[0].allowed_tools[0].mode: expected one of");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\",\"allowed_tools\":[{\"tools\":[1]}]}]",
            "tools[0].allowed_tools[0].tools[0]: expected a tool name");
    refused(ia_failed_, "[{\"type\":\"mcp_server\",\"name\":\"s\",\"url\":\"https://a.example/\",\"extra\":1}]",
            "tools[0].extra");
}

/* ---- the prompt ------------------------------------------------------------ */

/* The call and its result render as a call of "<server>__<tool>" and a
 * tool message of that name, as the function was offered; a result sent
 * back without its names takes its call's. */
IA_TEST(mcp_prompt_names_call_and_result_as_offered) {
    ia_conv conv = {0};
    ia_turn *u = ia_conv_add_turn(&conv, IA_ROLE_USER);
    ia_turn_add_text(u, "Add 2 and 3.", 12);
    ia_turn *m = ia_conv_add_turn(&conv, IA_ROLE_MODEL);
    ia_content *c = ia_turn_add_tool_call(m, IA_BUILTIN_MCP_SERVER, "call_1", "add", "{\"a\":2,\"b\":3}");
    c->server_name = ia_strdup("calc");
    c = ia_turn_add_tool_result(m, IA_BUILTIN_MCP_SERVER, "call_1", "add", "[{\"type\":\"text\",\"text\":\"5\"}]",
                                false);
    c->server_name = ia_strdup("calc");
    ia_turn_add_tool_call(m, IA_BUILTIN_MCP_SERVER, "call_2", "add", "{}")->server_name = ia_strdup("calc");
    ia_turn_add_tool_result(m, IA_BUILTIN_MCP_SERVER, "call_2", NULL, "\"bare\"", true);
    ia_msgbuf mb = {0};
    ia_prompt_messages(NULL, &conv, &mb);
    size_t calls = 0, tools = 0;
    for (size_t i = 0; i < mb.n; i++) {
        for (size_t k = 0; k < mb.msgs[i].n_calls; k++, calls++)
            IA_CHECK_STREQ(mb.msgs[i].calls[k].name, "calc__add");
        if (mb.msgs[i].role == IA_MSG_TOOL) {
            tools++;
            IA_CHECK_STREQ(mb.msgs[i].name, "calc__add");
        }
    }
    IA_CHECK(calls == 2 && tools == 2);
    ia_msgbuf_free(&mb);
    ia_conv_free(&conv);
}
