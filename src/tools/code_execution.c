/* code_execution.c: Python 3 from the model, run in the sandbox
 * (code_execution.h). */
#include "tools/code_execution.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

void ia_code_execution_offer(int max_chars, char *buf, size_t size, ia_tool_offer *out) {
    snprintf(buf, size,
             "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\",\"maxLength\":%d,"
             "\"description\":\"the Python 3 source to run\"},\"language\":{\"type\":\"string\",\"enum\":"
             "[\"python\"]}},\"required\":[\"code\"]}",
             max_chars);
    out->name = "code_execution";
    out->description = "Runs Python 3 code and returns what it prints (stdout, then stderr). Use it to compute, "
                       "to check an answer or to transform data. The code runs in a sandbox: no network, no files "
                       "but a private /tmp, the standard library only, a few seconds at most. Print the results "
                       "you need.";
    out->parameters = buf;
}

static void result_string(const char *text, char **result_json) {
    json_t *s = json_string(text);
    if (!s) s = json_string("(output not valid UTF-8)");
    *result_json = json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(s);
}

/* Why a run ended early, as a line for the model; NULL when it ran out. */
static char *stopped_line(const ia_sandbox_opts *o, const ia_sandbox_result *r) {
    if (r->cancelled) return ia_strdup("[stopped: the interaction was cancelled]");
    if (r->timed_out) return ia_asprintf("[stopped: the code ran past its time limit of %d ms]", o->wall_ms ? o->wall_ms : 10000);
    if (r->killed_for_output) return ia_strdup("[stopped: the code printed more than its output limit]");
    if (r->exit_code < 0) return ia_asprintf("[stopped: the process was killed by signal %d]", r->term_signal);
    return NULL;
}

void ia_code_execution_run(const ia_sandbox_opts *o, const char *args_json, atomic_bool *cancel,
                           char **result_json, bool *is_error) {
    *is_error = true;
    json_t *args = json_loads(args_json ? args_json : "", 0, NULL);
    const char *code = json_string_value(json_object_get(args, "code"));
    const char *lang = json_string_value(json_object_get(args, "language"));
    if (!code) {
        result_string("error: the call has no code (arguments: {\"code\": \"...\"})", result_json);
    } else if (lang && strcmp(lang, "python") != 0 && strcmp(lang, "PYTHON") != 0) {
        result_string("error: only Python code runs here (language: \"python\")", result_json);
    } else {
        ia_sandbox_result r = {0};
        ia_err err = {0};
        if (ia_sandbox_python(o, code, cancel, &r, &err) != 0) {
            char *m = ia_asprintf("error: the sandbox could not start: %s", err.msg);
            result_string(m, result_json);
            free(m);
        } else {
            ia_buf b;
            ia_buf_init(&b, 0);
            ia_buf_puts(&b, r.out ? r.out : "");
            if (r.out_truncated) ia_buf_puts(&b, "\n[output cut]");
            if (r.err && *r.err) ia_buf_printf(&b, "%s%s", b.len && b.data[b.len - 1] != '\n' ? "\n" : "", r.err);
            if (r.err_truncated) ia_buf_puts(&b, "\n[error output cut]");
            char *why = stopped_line(o, &r);
            if (why) ia_buf_printf(&b, "%s%s", b.len && b.data[b.len - 1] != '\n' ? "\n" : "", why);
            *is_error = why != NULL || r.exit_code != 0;
            free(why);
            char *text = ia_buf_take(&b);
            result_string(text, result_json);
            free(text);
        }
        ia_sandbox_result_free(&r);
    }
    json_decref(args);
}
