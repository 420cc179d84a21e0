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
#include "tools/sandbox.h"

/* The server's settings of its built-in tools (flags of `serve`). */
typedef struct ia_tool_offer {
    const char *name, *description, *parameters; /* parameters: a JSON Schema */
} ia_tool_offer;

typedef struct ia_tools_cfg {
    ia_sandbox_opts sandbox; /* code_execution's limits */
    int code_max_chars;      /* longest code the model may write (its call's grammar ends it); 0 = 10000 */
    bool code_execution;     /* the sandbox ran its probe here */
    char why[600];           /* when it did not: what is missing */
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

/* Runs one call of b with its arguments (a JSON object as text). Never
 * fails as a call: a tool's failure (bad arguments, a timeout, the code's
 * own error) is a result with *is_error set. *result_json: the wire
 * `result` value as compact JSON (malloc'd). cancel is polled. */
void ia_tools_run(const ia_tools_cfg *cfg, ia_builtin b, const char *args_json, atomic_bool *cancel,
                  char **result_json, bool *is_error);

#endif
