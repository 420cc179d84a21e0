/* Fuzz target: the settings file of `interactd serve --config FILE`
 * (src/cli/config.c: cli_config_parse), a file an operator (or a tool
 * writing it) hands the server.
 *
 * Input: the file's bytes. Checks: a parse gives keys of [A-Za-z0-9_-],
 * non-empty, each with a value and a line within the file's, in order; a
 * refusal says which line ("line N:", N within the file) or that the file
 * holds a NUL, and leaves nothing; a parsed key that names a flag maps to
 * that flag's name or environment variable. */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

#include "cli/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int lines = 1;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    cli_kv *kv = (cli_kv *)1;
    size_t n = 99;
    ia_err err;
    if (cli_config_parse((const char *)data, size, &kv, &n, &err) == 0) {
        int last = 0;
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(kv[i].key && *kv[i].key && kv[i].val);
            for (const char *p = kv[i].key; *p; p++)
                FUZZ_CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                           *p == '_' || *p == '-');
            FUZZ_CHECK(kv[i].line >= 1 && kv[i].line <= lines && kv[i].line >= last);
            last = kv[i].line;
            int f = cli_flag_lookup(kv[i].key);
            FUZZ_CHECK(f < 0 || !strcmp(cli_flags[f].env, kv[i].key) || strlen(cli_flags[f].name) == strlen(kv[i].key));
        }
        cli_config_free(kv, n);
    } else {
        FUZZ_CHECK(kv == NULL && n == 0);
        int line = 0;
        FUZZ_CHECK((sscanf(err.msg, "line %d:", &line) == 1 && line >= 1 && line <= lines) || strstr(err.msg, "NUL"));
    }
    return 0;
}
