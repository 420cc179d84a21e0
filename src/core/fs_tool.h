/* fs_tool: the file_search tool of the run loop — a request's file_search
 * tools checked at create (each store the caller's: 404 naming the field
 * and the store; the metadata_filter parsed: 400 naming the field), and a
 * call run over core/fsearch.h (the result written by tools/file_search.h).
 * Thread-safe. */
#ifndef IA_CORE_FS_TOOL_H
#define IA_CORE_FS_TOOL_H

#include <stdbool.h>

#include "core/fsearch.h"
#include "lib/err.h"
#include "model/types.h"

/* 0, or -1 with err. fs NULL with a file_search tool: IA_EUNIMPLEMENTED. */
int ia_fs_tool_check(ia_fsearch *fs, const char *owner, const ia_request *req, ia_err *err);
/* Runs one call of tool t (its stores, top_k, filter) for owner. Never
 * fails as a call: a failure is a result with *is_error set. */
void ia_fs_tool_run(ia_fsearch *fs, const char *owner, const ia_builtin_tool *t, const char *args_json,
                    char **result_json, bool *is_error, char **model_text);

#endif
