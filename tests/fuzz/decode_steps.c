/* Fuzz target: the steps dialect's create decoder (src/api/steps.c input as
 * steps, and decode.c's SDK 3.x fields; POST /v1/interactions): the same
 * outside bytes as the legacy target, a different input grammar (typed
 * steps, function_call / function_result / thought steps) and field set.
 * Checks: fuzz_decode_create. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_decode_create(data, size, IA_DIALECT_STEPS);
    return 0;
}
