/* Fuzz target: standard base64 for media bytes (src/lib/b64.c), which
 * reads a client's `data` field (every image, audio, video and document
 * part sent inline) before anything else looks at it.
 *
 * Input: the text to decode, all of it (NUL bytes included). Checks: the
 * validate-only mode (out NULL) and the decoding one agree on the verdict,
 * the length and the offset; a refusal names an offset within the text
 * that holds what b64.h calls bad (a byte outside both alphabets and the
 * skipped whitespace, or an '=' before the end) or is the length itself;
 * the same text without its whitespace gets the same verdict and bytes;
 * what decodes encodes (padded, standard alphabet) to a text that decodes
 * to the same bytes, and encoding that again gives the same text. The
 * same bytes, and what they decode to, go through the image header reader
 * (lib/imgsize.c: the next reader of a media part's bytes), which must
 * stay within them. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lib/b64.h"
#include "lib/imgsize.h"
#include "lib/util.h"

static bool digit(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '-' || c == '_';
}

static bool space(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t iw, ih;
    (void)ia_image_size(data, size, &iw, &ih);
    const char *in = (const char *)data;
    uint8_t *out = NULL;
    size_t len = 0, bad = 0;
    int rc = ia_b64_decode(in, size, &out, &len, &bad);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) (void)ia_image_size(out, len, &iw, &ih);

    /* validate-only: the same verdict, length, offset */
    size_t vlen = 0, vbad = 0;
    int vrc = ia_b64_decode(in, size, NULL, &vlen, &vbad);
    FUZZ_CHECK(vrc == rc);
    if (rc == 0) FUZZ_CHECK(vlen == len);
    else FUZZ_CHECK(vbad == bad);

    /* without whitespace: the same verdict and bytes */
    char *bare = ia_xmalloc(size + 1);
    size_t nb = 0;
    for (size_t i = 0; i < size; i++)
        if (!space(data[i])) bare[nb++] = in[i];
    uint8_t *bout = NULL;
    size_t blen = 0;
    int brc = ia_b64_decode(bare, nb, &bout, &blen, NULL);
    FUZZ_CHECK(brc == rc);
    if (rc == 0) FUZZ_CHECK(blen == len && (len == 0 || memcmp(bout, out, len) == 0));
    free(bout);

    if (rc < 0) {
        FUZZ_CHECK(out == NULL);
        FUZZ_CHECK(bad <= size);
        if (bad < size) FUZZ_CHECK(!space(data[bad]) && (data[bad] == '=' || !digit(data[bad])));
        free(bare);
        return 0;
    }

    /* whole bytes only: at most 3 per 4 digits */
    size_t digits = 0;
    for (size_t i = 0; i < nb; i++) digits += digit((unsigned char)bare[i]);
    FUZZ_CHECK(len == digits * 6 / 8);

    char *enc = ia_b64_encode(out, len);
    size_t el = strlen(enc);
    FUZZ_CHECK(el == (len + 2) / 3 * 4);
    uint8_t *again = NULL;
    size_t alen = 0;
    FUZZ_CHECK(ia_b64_decode(enc, el, &again, &alen, NULL) == 0);
    FUZZ_CHECK(alen == len && (len == 0 || memcmp(again, out, len) == 0));
    char *enc2 = ia_b64_encode(again, alen);
    FUZZ_CHECK(strcmp(enc, enc2) == 0);
    free(enc2);
    free(again);
    free(enc);
    free(bare);
    free(out);
    return 0;
}
