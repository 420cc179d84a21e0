/* mcp: the mcp_server built-in tool, a client of remote MCP servers over
 * the streamable HTTP transport (MCP 2025-06-18; 2025-03-26 servers answer
 * the same way). Every request is a JSON-RPC POST through lib/fetch.h —
 * the same address rules as url_context and media (non-public addresses
 * refused on every connection unless --allow-private-urls or
 * --allow-addresses), the same size and time limits (--url-max-size,
 * --fetch-timeout per request), the caller's cancel flag polled — with
 * the request's `headers`, `Accept: application/json, text/event-stream`,
 * and after initialize the server's Mcp-Session-Id and the negotiated
 * MCP-Protocol-Version. An answer is JSON or an SSE stream (read to its
 * end; the response whose id matches is taken, other messages ignored).
 *
 * Each use is a session of its own: initialize, notifications/initialized,
 * then tools/list (every page) or tools/call, then DELETE of the session
 * when the server gave one. So a tool step holds no connection between
 * calls, and a server restarted between calls is no trouble.
 *
 * The model sees a server's tool as the function "<server>__<tool>"
 * (ia_mcp_fn_name): server names are [A-Za-z0-9_] (api/tools.c), so the
 * name maps back through the request's offers, which keep both parts.
 * Internal to src/tools/ and core/ (naming, listing). */
#ifndef IA_TOOLS_MCP_H
#define IA_TOOLS_MCP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"
#include "lib/fetch.h"
#include "model/types.h"

#define IA_MCP_PROTOCOL_VERSION "2025-06-18"
#define IA_MCP_MAX_TOOLS 256 /* tools taken from one server's list */

/* The function a server's tool is offered as: "<server>__<tool>" (malloc'd). */
char *ia_mcp_fn_name(const char *server, const char *tool);

/* ---- the server's bytes (mcp_proto.c: no I/O; unit tests, a fuzz target) ---- */

/* The JSON-RPC response to request id in an answer's body: one message or
 * a batch (application/json), or the events of an SSE stream (sse; each
 * event's data lines joined, each a message or a batch). 0 with
 * *result_json (its `result`, compact, malloc'd); -1 with why: the
 * server's JSON-RPC error ("error -32602: ..."), or no such response. */
int ia_mcp_parse_response(const char *body, size_t len, bool sse, long id, char **result_json, char *why,
                          size_t why_n);

typedef struct ia_mcp_tool {
    char *name, *description, *schema; /* schema: its inputSchema, compact JSON */
} ia_mcp_tool;

/* A tools/list result: its tools appended to *tools / *n (at most
 * IA_MCP_MAX_TOOLS in all; nameless entries skipped), *next its nextCursor
 * (malloc'd, NULL when none). 0, or -1 with why (not a list). */
int ia_mcp_parse_tools(const char *result_json, ia_mcp_tool **tools, size_t *n, char **next, char *why,
                       size_t why_n);
void ia_mcp_tools_free(ia_mcp_tool *t, size_t n);

/* A tools/call result as the wire's mcp_server_tool_result `result`: its
 * content as a list of text parts ({type: "text", text}; a part of another
 * kind as its JSON), or structuredContent when there is no content;
 * *model_text what the model reads (the texts; other parts named, not
 * inlined); is_error from isError. Strings malloc'd. */
void ia_mcp_call_result(const char *result_json, char **wire_json, char **model_text, bool *is_error);

/* ---- the client (mcp.c) ---- */

/* Lists srv's tools (every page) into *tools / *n. -1 with e: a message
 * starting with srv->field that says what failed (connect, time, HTTP
 * status, a JSON-RPC error, a refused address: IA_EINVALID, or fetch's
 * code). */
int ia_mcp_list(const ia_fetch_opts *fo, const ia_builtin_tool *srv, atomic_bool *cancel, ia_mcp_tool **tools,
                size_t *n, ia_err *e);

/* Calls srv's tool with args (a JSON object as text). Never fails as a
 * call: a server that is down, slow, refuses or answers isError is a
 * result with *is_error set and the reason as its text. */
void ia_mcp_call(const ia_fetch_opts *fo, const ia_builtin_tool *srv, const char *tool, const char *args_json,
                 atomic_bool *cancel, char **wire_json, char **model_text, bool *is_error);

#endif
