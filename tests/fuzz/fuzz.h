/* fuzz: what the libFuzzer targets of tests/fuzz/ share. Each target is one
 * file with LLVMFuzzerTestOneInput over one parser that takes outside bytes;
 * besides "no crash, no leak, no UB" (ASan + UBSan), each checks what its
 * parser promises about what it returns (FUZZ_CHECK aborts, which libFuzzer
 * reports as a crash with the input saved). README.md says how to run them. */
#ifndef IA_TESTS_FUZZ_H
#define IA_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Prints what failed and aborts: a finding. */
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));
#define FUZZ_CHECK(cond)                                          \
    do {                                                          \
        if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond);        \
    } while (0)

/* data[0..size) as a malloc'd NUL-terminated string (cut at an embedded NUL,
 * as a C API reading it would see it). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* true when s is a JSON text (any value) jansson accepts. */
bool fuzz_is_json(const char *s);

/* Captures what is printed through stdio's stderr between begin and end
 * (ASan and libFuzzer write to the file descriptor and stay visible): end
 * returns true when the capture holds llama.cpp's "JSON schema conversion was
 * incomplete" warning, which means the converter dropped part of a schema we
 * accepted (the grammar then does not bind the output to it); it prints the
 * capture to the real stderr first. */
void fuzz_stderr_begin(void);
bool fuzz_stderr_end_warned(void);

/* The create decoder of dialect d on body, with the checks both decode
 * targets share: an error has a code and a message that encodes as an error
 * body; a decoded request's conversation and generation_config go through
 * the store codec and back unchanged, its schema and tools' parameters are
 * JSON, and an interaction holding it encodes in both dialects as JSON. */
void fuzz_decode_create(const uint8_t *body, size_t len, ia_dialect d);

#endif
