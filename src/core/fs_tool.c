/* fs_tool: the file_search tool in the run loop (core/fs_tool.h). */
#include "core/fs_tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/file_search.h"

int ia_fs_tool_check(ia_fsearch *fs, const char *owner, const ia_request *req, ia_err *err) {
    for (size_t i = 0; i < req->n_builtins; i++) {
        const ia_builtin_tool *t = &req->builtins[i];
        if (t->type != IA_BUILTIN_FILE_SEARCH) continue;
        const char *field = t->field ? t->field : "tools";
        if (!fs) return ia_fail(err, IA_EUNIMPLEMENTED, "%s: file_search is not served here", field);
        char f[96];
        snprintf(f, sizeof f, "%s.file_search_store_names", field);
        if (ia_fsearch_check_stores(fs, owner, (const char *const *)t->stores, t->n_stores, f, err) < 0) return -1;
        snprintf(f, sizeof f, "%s.metadata_filter", field);
        ia_fs_filter *flt;
        if (ia_fs_filter_parse(t->filter, f, &flt, err) < 0) return -1;
        ia_fs_filter_free(flt);
    }
    return 0;
}

static void error_result(const char *msg, char **result_json, bool *is_error, char **model_text) {
    char *q = ia_asprintf("file_search failed: %s", msg);
    *model_text = q;
    *result_json = ia_asprintf("[{\"error\":\"%s\"}]", "file_search failed; see the text the model read");
    *is_error = true;
}

void ia_fs_tool_run(ia_fsearch *fs, const char *owner, const ia_builtin_tool *t, const char *args_json,
                    char **result_json, bool *is_error, char **model_text) {
    *is_error = false;
    const char *why = NULL;
    char *query = ia_file_search_query(args_json, &why);
    if (!query) {
        error_result(why, result_json, is_error, model_text);
        return;
    }
    ia_err e;
    ia_fs_filter *flt = NULL;
    ia_fs_hit *hits = NULL;
    size_t n = 0;
    if (ia_fs_filter_parse(t->filter, "metadata_filter", &flt, &e) < 0 ||
        ia_fsearch_search(fs, owner, (const char *const *)t->stores, t->n_stores, query, flt, t->top_k, &hits, &n,
                          &e) < 0)
        error_result(e.msg, result_json, is_error, model_text);
    else
        ia_file_search_result(hits, n, result_json, model_text);
    ia_fs_hits_free(hits, n);
    ia_fs_filter_free(flt);
    free(query);
}
