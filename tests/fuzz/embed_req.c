/* Fuzz target: models.embedContent's request body (src/api/embed.c's
 * ia_api_embed_decode), the batch form {requests: [...]} or the single
 * {content, ...}, as a client posts it, and --embedding-model's spec
 * (src/engine/embed.c's ia_embed_spec_parse) from the same bytes.
 *
 * Input: byte 0's low bit picks the form; the rest is the body.
 * Checks: a refusal is a 400 (invalid or unimplemented) leaving nothing;
 * an accepted body holds 1..IA_API_EMBED_MAX requests (1 for the single
 * form), each with a text that is not blank and holds no NUL, a model
 * without the "models/" prefix, a dimensionality >= 0. A refused spec
 * leaves nothing; an accepted one has a name without '/', ':', ',' or
 * blanks and a non-empty path. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "engine/embed.h"

static void check_spec(const char *text) {
    ia_embed_spec s;
    ia_err err = {0};
    if (ia_embed_spec_parse(text, &s, &err) != 0) {
        FUZZ_CHECK(err.code == IA_EINVALID && !s.name && !s.path);
        return;
    }
    FUZZ_CHECK(s.name && *s.name && s.path && *s.path);
    FUZZ_CHECK(!strpbrk(s.name, "/:, \t\n"));
    ia_embed_spec_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool batch = data[0] & 1;
    ia_api_embed_req *q = NULL;
    size_t n = 0;
    ia_err err = {0};
    if (ia_api_embed_decode((const char *)data + 1, size - 1, batch, &q, &n, &err) != 0) {
        FUZZ_CHECK(err.code == IA_EINVALID || err.code == IA_EUNIMPLEMENTED);
        FUZZ_CHECK(!q && n == 0);
    } else {
        FUZZ_CHECK(n >= 1 && n <= (batch ? IA_API_EMBED_MAX : 1));
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(q[i].text && q[i].len > 0 && strlen(q[i].text) == q[i].len);
            FUZZ_CHECK(strspn(q[i].text, " \t\r\n") < q[i].len);
            FUZZ_CHECK(!q[i].model || strncmp(q[i].model, "models/", 7) != 0);
            FUZZ_CHECK(q[i].out_dim >= 0);
        }
        ia_api_embed_free(q, n);
    }
    char *text = fuzz_cstr(data + 1, size - 1);
    check_spec(text);
    free(text);
    return 0;
}
