/* tools: the built-in tools the server runs for a model, as the run loop
 * (core/loop.c) sees them: what each offers the model (a function's name,
 * description and JSON Schema, so the model's call is grammar-bound like a
 * client function's), whether it can run here, and running one call. One
 * file per tool (code_execution.c: Python in the sandbox of sandbox.h).
 * Depends on lib/ and model/ only. Thread-safe: calls run on the loop's
 * tool threads, many at once. */
#ifndef IA_TOOLS_TOOLS_H
#define IA_TOOLS_TOOLS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "lib/err.h"
#include "model/types.h"
#include "lib/fetch.h"
#include "tools/sandbox.h"

/* The server's settings of its built-in tools (flags of `serve`). */
typedef struct ia_tool_offer {
    const char *name, *description, *parameters; /* parameters: a JSON Schema */
} ia_tool_offer;

typedef struct ia_tools_cfg {
    ia_sandbox_opts sandbox; /* code_execution's limits */
    ia_fetch_opts fetch;     /* url_context's fetches (size, time, private addresses) */
    size_t url_max_chars;    /* url_context: text of one page the model reads; 0 = 20000 */
    int code_max_chars;      /* longest code the model may write (its call's grammar ends it); 0 = 10000 */
    bool code_execution;     /* the sandbox ran its probe here */
    char why[600];           /* when it did not: what is missing */
    struct ia_search *search; /* google_search's backends (search.h; borrowed); NULL: not configured */
    struct ia_maps *maps;     /* google_maps' backends (maps.h; borrowed); NULL: not configured */
    /* Set by ia_tools_init: what each tool offers the model. */
    char code_params[512];
    ia_tool_offer code_offer;
} ia_tools_cfg;

/* Probes what can run here (the sandbox) and fills cfg's flags; logs what
 * cannot. */
void ia_tools_init(ia_tools_cfg *cfg);

/* What built-in b offers the model; NULL for a tool not served. */
const ia_tool_offer *ia_tools_offer(const ia_tools_cfg *cfg, ia_builtin b);

/* Whether a request may use b here: 0, or -1 with err (IA_EUNIMPLEMENTED
 * naming what to install or configure). field: the request's tools[i]. */
int ia_tools_check(const ia_tools_cfg *cfg, ia_builtin b, const char *field, ia_err *err);

/* What a call may use beyond its arguments. */
typedef struct ia_tool_ctx {
    const char *const *urls; /* url_context: the URLs the prompt names */
    size_t n_urls;
    atomic_bool *cancel;     /* polled; may be NULL */
    bool search_images;      /* google_search: the call's search_type is image_search */
    /* mcp_server: the server the call names (NULL: not offered) and its tool */
    const ia_builtin_tool *mcp_server;
    const char *mcp_tool;
    const ia_builtin_tool *maps_at; /* google_maps: the request's tool (its latitude, longitude); may be NULL */
} ia_tool_ctx;

/* A call's result: the wire `result` value as compact JSON, is_error, and
 * what the model reads of it when that is more than the wire says (a
 * page's text; NULL: the result itself). malloc'd strings. */
typedef struct ia_tool_out {
    char *result_json;
    bool is_error;
    char *model_text;
    /* google_search: the results' URLs, which url_context may then read
     * in the same run (malloc'd, each and the array); NULL / 0 otherwise */
    char **urls;
    size_t n_urls;
} ia_tool_out;

/* Runs one call of b with its arguments (a JSON object as text). Never
 * fails as a call: a tool's failure (bad arguments, a timeout, the code's
 * own error) is a result with is_error set. */
void ia_tools_run(const ia_tools_cfg *cfg, ia_builtin b, const char *args_json, const ia_tool_ctx *ctx,
                  ia_tool_out *out);

/* url_context's schema for the URLs the prompt names (malloc'd); the
 * tool is not offered when there are none. */
char *ia_tools_url_params(const char *const *urls, size_t n);
/* The URLs of text (url_context.h), appended to *urls / *n. */
void ia_tools_find_urls(const char *text, char ***urls, size_t *n);

#endif
