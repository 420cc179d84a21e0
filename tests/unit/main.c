/* The unit test runner: runs every registered IA_TEST (or those whose name
 * contains argv[1]) and ends with the line "N passed, N failed". */
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TESTS 1024
static struct { const char *name, *file; ia_test_fn fn; } tests[MAX_TESTS];
static int n_tests;

void ia_test_register(const char *name, const char *file, ia_test_fn fn) {
    if (n_tests < MAX_TESTS) {
        tests[n_tests].name = name;
        tests[n_tests].file = file;
        tests[n_tests].fn = fn;
        n_tests++;
    }
}

const char *ia_test_llama_src(void) { return IA_SOURCE_DIR "/build/llama.cpp"; }
const char *ia_test_demo_model(void) { return IA_DEMO_MODEL; }

const char *ia_test_shared_models(void) {
    static char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/../shared/models", IA_SOURCE_DIR);
    return stat(path, &st) == 0 ? path : NULL;
}

char *ia_test_read_template(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/templates/%s.jinja", ia_test_llama_src(), name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

const char *ia_test_tmpdir(void) {
    static char path[256];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/interactd-unit-XXXXXX");
        if (!mkdtemp(path)) { perror("mkdtemp"); exit(2); }
    }
    return path;
}

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        int f = 0;
        fprintf(stderr, "test %s ... ", tests[i].name);
        tests[i].fn(&f);
        fprintf(stderr, "%s\n", f ? "FAILED" : "ok");
        if (f) failed++; else passed++;
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ia_test_tmpdir());
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", ia_test_tmpdir());
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
