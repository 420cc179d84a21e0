/* Fuzz target: what a remote MCP server answers (src/tools/mcp_proto.c):
 * its bytes are whatever that server sends.
 *
 * Input: byte 0 picks the parser — 0: a JSON-RPC response in a JSON body,
 * 1: in an SSE body (both for request id 1), 2: a tools/list result, 3: a
 * tools/call result; the rest is the body or the result. Checks: a
 * response's result is JSON, a refusal's reason valid UTF-8; listed tools
 * have a name, at most IA_MCP_MAX_TOOLS of them, each schema a JSON
 * object; a call's wire result is JSON and its model text valid UTF-8. */
#include "fuzz.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/mcp.h"

static void response(const char *body, size_t n, bool sse) {
    char *result = NULL, why[300] = "";
    if (ia_mcp_parse_response(body, n, sse, 1, &result, why, sizeof why) == 0) {
        json_t *j = json_loads(result, JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(j != NULL);
        json_decref(j);
    } else {
        FUZZ_CHECK(!result && why[0] && ia_utf8_valid(why, strlen(why)));
    }
    free(result);
}

static void tools(const char *text) {
    ia_mcp_tool *t = NULL;
    size_t n = 0;
    char *next = NULL, why[300];
    /* twice: a second page appends to the first */
    for (int page = 0; page < 2; page++) {
        free(next);
        next = NULL;
        if (ia_mcp_parse_tools(text, &t, &n, &next, why, sizeof why) != 0) FUZZ_CHECK(!next);
    }
    FUZZ_CHECK(n <= IA_MCP_MAX_TOOLS);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(t[i].name[0] && t[i].description);
        json_t *s = json_loads(t[i].schema, 0, NULL);
        FUZZ_CHECK(json_is_object(s));
        json_decref(s);
    }
    ia_mcp_tools_free(t, n);
    free(next);
}

static void call(const char *text) {
    char *wire = NULL, *model = NULL;
    bool err;
    ia_mcp_call_result(text, &wire, &model, &err);
    json_t *j = json_loads(wire, JSON_DECODE_ANY, NULL);
    FUZZ_CHECK(j != NULL);
    FUZZ_CHECK(model && ia_utf8_valid(model, strlen(model)));
    json_decref(j);
    free(wire);
    free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *s = ia_strndup((const char *)data + 1, size - 1);
    switch (data[0] & 3) {
    case 0: response((const char *)data + 1, size - 1, false); break;
    case 1: response((const char *)data + 1, size - 1, true); break;
    case 2: tools(s); break;
    default: call(s); break;
    }
    free(s);
    return 0;
}
