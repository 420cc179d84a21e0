/* unit: a tiny C test runner. A test file writes
 *
 *     IA_TEST(json_roundtrip) { IA_CHECK(1 + 1 == 2); IA_CHECK_STREQ(a, b); }
 *
 * and the test registers itself at load time (constructor); main.c runs all
 * (or those whose name contains argv[1]) and prints "N passed, N failed".
 * A failed check records the failure and returns from the test. */
#ifndef IA_TESTS_UNIT_H
#define IA_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

typedef void (*ia_test_fn)(int *failed);
void ia_test_register(const char *name, const char *file, ia_test_fn fn);

#define IA_TEST(name)                                                        \
    static void ia_test_##name(int *ia_failed_);                             \
    __attribute__((constructor)) static void ia_test_reg_##name(void) {      \
        ia_test_register(#name, __FILE__, ia_test_##name);                   \
    }                                                                        \
    static void ia_test_##name(int *ia_failed_)

#define IA_CHECK(cond)                                                       \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            *ia_failed_ = 1;                                                 \
            return;                                                          \
        }                                                                    \
    } while (0)

#define IA_CHECK_STREQ(a, b)                                                 \
    do {                                                                     \
        const char *ia_a_ = (a), *ia_b_ = (b);                               \
        if (!ia_a_ || !ia_b_ || strcmp(ia_a_, ia_b_) != 0) {                 \
            fprintf(stderr, "  %s:%d: %s == %s\n    got:      %s\n    expected: %s\n", \
                    __FILE__, __LINE__, #a, #b, ia_a_ ? ia_a_ : "(null)",    \
                    ia_b_ ? ia_b_ : "(null)");                               \
            *ia_failed_ = 1;                                                 \
            return;                                                          \
        }                                                                    \
    } while (0)

#define IA_CHECK_CONTAINS(hay, needle)                                       \
    do {                                                                     \
        const char *ia_h_ = (hay), *ia_n_ = (needle);                        \
        if (!ia_h_ || !strstr(ia_h_, ia_n_)) {                               \
            fprintf(stderr, "  %s:%d: %s contains %s\n    got: %s\n",        \
                    __FILE__, __LINE__, #hay, ia_n_, ia_h_ ? ia_h_ : "(null)"); \
            *ia_failed_ = 1;                                                 \
            return;                                                          \
        }                                                                    \
    } while (0)

/* Where tests find fixtures: the llama.cpp source tree (templates and
 * vocabularies) and ../shared/models. */
const char *ia_test_llama_src(void);   /* <repo>/build/llama.cpp */
const char *ia_test_shared_models(void); /* <repo>/../shared/models, or NULL if absent */
const char *ia_test_demo_model(void);  /* build/demo.gguf */
const char *ia_test_tmpdir(void);      /* a fresh directory for this run */
/* The text of the bundle's models/templates/<name>.jinja (malloc'd), or NULL. */
char *ia_test_read_template(const char *name);

#endif
