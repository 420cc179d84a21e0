/* code_execution: the built-in tool that runs the model's Python 3 in the
 * sandbox (sandbox.h) and returns what it printed. Internal to src/tools/. */
#ifndef IA_TOOLS_CODE_EXECUTION_H
#define IA_TOOLS_CODE_EXECUTION_H

#include "tools/tools.h"

/* What the tool offers the model, its code at most max_chars characters
 * (the call's grammar closes the string there: a model that rambles still
 * ends its call); the schema is written into buf. */
void ia_code_execution_offer(int max_chars, char *buf, size_t size, ia_tool_offer *out);

/* args_json: {"code": "...", "language": "python"} (language optional).
 * *result_json: a JSON string — stdout, then stderr, then a line saying
 * why the run was stopped when it was; *is_error: the code failed (an
 * exception, a non-zero exit, a limit) or the arguments were not usable. */
void ia_code_execution_run(const ia_sandbox_opts *o, const char *args_json, atomic_bool *cancel,
                           char **result_json, bool *is_error);

#endif
