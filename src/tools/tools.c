/* tools.c: the registry of built-in tools (tools.h). */
#include "tools/tools.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "tools/code_execution.h"

void ia_tools_init(ia_tools_cfg *cfg) {
    ia_code_execution_offer(cfg->code_max_chars > 0 ? cfg->code_max_chars : 10000, cfg->code_params,
                            sizeof cfg->code_params, &cfg->code_offer);
    ia_err err = {0};
    cfg->code_execution = ia_sandbox_probe(&cfg->sandbox, &err) == 0;
    cfg->why[0] = 0;
    if (!cfg->code_execution) {
        snprintf(cfg->why, sizeof cfg->why, "%s", err.msg);
        ia_warn("code_execution: not available here: %s", err.msg);
    }
}

const ia_tool_offer *ia_tools_offer(const ia_tools_cfg *cfg, ia_builtin b) {
    switch (b) {
    case IA_BUILTIN_CODE_EXECUTION: return &cfg->code_offer;
    default: return NULL;
    }
}

int ia_tools_check(const ia_tools_cfg *cfg, ia_builtin b, const char *field, ia_err *err) {
    if (b == IA_BUILTIN_CODE_EXECUTION) {
        if (cfg->code_execution) return 0;
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s: code_execution cannot run on this server: %s", field,
                       cfg->why[0] ? cfg->why : "its sandbox is not available");
    }
    return ia_fail(err, IA_EUNIMPLEMENTED, "%s: tool type '%s' is not supported yet by this server", field,
                   ia_builtin_name(b) ? ia_builtin_name(b) : "?");
}

void ia_tools_run(const ia_tools_cfg *cfg, ia_builtin b, const char *args_json, atomic_bool *cancel,
                  char **result_json, bool *is_error) {
    if (b == IA_BUILTIN_CODE_EXECUTION) {
        ia_code_execution_run(&cfg->sandbox, args_json, cancel, result_json, is_error);
        return;
    }
    *result_json = ia_strdup("\"this tool is not served here\"");
    *is_error = true;
}
