/* Fuzz target: the legacy dialect's create decoder (src/api/decode.c,
 * POST /v1beta/interactions): every byte of a request body comes from the
 * client, and the decoder walks it into core structs (input turns and
 * content items, generation_config, tools, tool_choice, response_format
 * through the schema check and grammar). Checks: fuzz_decode_create. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_decode_create(data, size, IA_DIALECT_LEGACY);
    return 0;
}
