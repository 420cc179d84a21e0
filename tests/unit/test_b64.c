/* test_b64: standard base64 for media bytes (lib/b64.h) — round trips of
 * every length 0..300 (random bytes from a fixed seed), with and without
 * padding, with whitespace and in the URL-safe alphabet; RFC 4648's test
 * vectors; the refusals with the offset they report (a bad character, '='
 * followed by data, one digit left over, padding that does not complete a
 * group, too much padding); and the validate-only mode (out NULL). */
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/b64.h"
#include "lib/util.h"

/* xorshift64*: the same bytes on every run */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint8_t rng_byte(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint8_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 56);
}

/* Decodes s (all of it) and compares with want[0..n); also in validate-only
 * mode. 1 when both agree. */
static int decodes_to(const char *s, size_t slen, const uint8_t *want, size_t n) {
    uint8_t *out = NULL;
    size_t len = 12345, bad = 777;
    if (ia_b64_decode(s, slen, &out, &len, &bad) != 0) {
        fprintf(stderr, "  refused at %zu: %.*s\n", bad, (int)slen, s);
        return 0;
    }
    int ok = out != NULL && len == n && (n == 0 || memcmp(out, want, n) == 0) && bad == 777;
    free(out);
    size_t vlen = 999;
    ok &= ia_b64_decode(s, slen, NULL, &vlen, NULL) == 0;
    ok &= vlen == n; /* the length is reported without a buffer too */
    ok &= ia_b64_decode(s, slen, NULL, NULL, NULL) == 0;
    return ok;
}

/* Refused, with *bad_at == at, with and without an output buffer. */
static int refused_at(const char *s, size_t at) {
    size_t n = strlen(s);
    uint8_t *out = (uint8_t *)"untouched";
    size_t len = 4242, bad = 999999;
    int ok = ia_b64_decode(s, n, &out, &len, &bad) == -1;
    ok &= strcmp((const char *)out, "untouched") == 0 && len == 4242;
    if (bad != at) fprintf(stderr, "  '%s': bad_at %zu, expected %zu\n", s, bad, at);
    ok &= bad == at;
    size_t vbad = 999999;
    ok &= ia_b64_decode(s, n, NULL, NULL, &vbad) == -1 && vbad == at;
    ok &= ia_b64_decode(s, n, NULL, NULL, NULL) == -1; /* bad_at may be NULL */
    return ok;
}

IA_TEST(b64_rfc4648_vectors) {
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *e = ia_b64_encode((const uint8_t *)plain[i], strlen(plain[i]));
        IA_CHECK_STREQ(e, coded[i]);
        free(e);
        IA_CHECK(decodes_to(coded[i], strlen(coded[i]), (const uint8_t *)plain[i], strlen(plain[i])));
    }
    /* encode of nothing from a NULL pointer: an empty string */
    char *e = ia_b64_encode(NULL, 0);
    IA_CHECK_STREQ(e, "");
    free(e);
}

IA_TEST(b64_round_trips_0_to_300) {
    uint8_t buf[301] = {0};
    for (size_t n = 0; n <= 300; n++) {
        for (size_t i = 0; i < n; i++) buf[i] = rng_byte();
        char *s = ia_b64_encode(buf, n);
        size_t sl = strlen(s);
        /* padded: a whole number of groups of 4, only A-Z a-z 0-9 + / = */
        IA_CHECK(sl == (n + 2) / 3 * 4);
        for (size_t i = 0; i < sl; i++)
            IA_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]) && s[i]);
        IA_CHECK(decodes_to(s, sl, buf, n));
        /* padding optional */
        size_t bare = sl;
        while (bare && s[bare - 1] == '=') bare--;
        IA_CHECK(sl - bare == (3 - n % 3) % 3);
        IA_CHECK(decodes_to(s, bare, buf, n));
        /* the URL-safe alphabet, unpadded as base64url usually is */
        char *u = ia_strdup(s);
        for (size_t i = 0; i < sl; i++) u[i] = u[i] == '+' ? '-' : u[i] == '/' ? '_' : u[i];
        IA_CHECK(decodes_to(u, bare, buf, n));
        IA_CHECK(decodes_to(u, sl, buf, n));
        free(u);
        /* MIME-style: a line break every 76 characters (CRLF), a blank and a
         * tab here and there, trailing newline */
        ia_buf w;
        ia_buf_init(&w, 0);
        for (size_t i = 0; i < sl; i++) {
            if (i && i % 76 == 0) ia_buf_puts(&w, "\r\n");
            if (i % 29 == 7) ia_buf_puts(&w, " ");
            if (i % 41 == 3) ia_buf_puts(&w, "\t");
            ia_buf_append(&w, &s[i], 1);
        }
        ia_buf_puts(&w, "\n");
        int ok = decodes_to(w.data, w.len, buf, n);
        ia_buf_free(&w);
        free(s);
        IA_CHECK(ok);
    }
}

IA_TEST(b64_whitespace_anywhere) {
    /* only ASCII blank, tab, CR, LF are skipped: also inside the padding */
    IA_CHECK(decodes_to(" Zm9v\nYmE = \r\n", 14, (const uint8_t *)"fooba", 5));
    IA_CHECK(decodes_to("Zg=\t=", 5, (const uint8_t *)"f", 1));
    IA_CHECK(decodes_to(" \n\r\t", 4, (const uint8_t *)"", 0));
    /* other whitespace is a bad character */
    IA_CHECK(refused_at("Zm9v\vYmFy", 4));
    IA_CHECK(refused_at("Zm9v\fYmFy", 4));
}

IA_TEST(b64_mixed_alphabets) {
    /* +/ and -_ may even be mixed in one text: both read as 62 and 63 */
    static const uint8_t want[] = {0xfb, 0xff, 0xbf, 0xfb, 0xff, 0xbf};
    IA_CHECK(decodes_to("+/+/-_-_", 8, want, 6));
    IA_CHECK(decodes_to("-_-_+/+/", 8, want, 6));
}

IA_TEST(b64_refusals_name_the_offset) {
    /* a character outside both alphabets: its own offset */
    IA_CHECK(refused_at("Zm9v!mFy", 4));
    IA_CHECK(refused_at("*", 0));
    IA_CHECK(refused_at("Zm9vYmF.", 7));
    IA_CHECK(refused_at("Zm 9v\x80", 5));
    IA_CHECK(refused_at("Zm9v\"", 4));
    /* a NUL inside the given length is a bad character, not an end */
    {
        size_t bad = 0;
        IA_CHECK(ia_b64_decode("Zm9v\0YmFy", 9, NULL, NULL, &bad) == -1 && bad == 4);
    }
    /* '=' before the end: the offset of that '=' (the data after it shows
     * the padding was not the end) */
    IA_CHECK(refused_at("Zg==Zm9v", 2));
    IA_CHECK(refused_at("Zm9=v", 3));
    IA_CHECK(refused_at("Zm = 9v", 3));
    IA_CHECK(refused_at("=Zm9v", 0));
    /* more than two '=': the third */
    IA_CHECK(refused_at("Zg===", 4));
    IA_CHECK(refused_at("Zm8= = =", 7));
    /* the length: one digit left over carries 6 bits, never a byte: n */
    IA_CHECK(refused_at("Z", 1));
    IA_CHECK(refused_at("Zm9vY", 5));
    IA_CHECK(refused_at("Zm9vY\n", 6));
    IA_CHECK(refused_at("Zm9vY=", 6));
    IA_CHECK(refused_at("Zm9vY==", 7));
    /* padding that does not complete a group of 4: n */
    IA_CHECK(refused_at("Zm8==", 5));
    IA_CHECK(refused_at("Zg=", 3));
    IA_CHECK(refused_at("Zm9v=", 5));
    IA_CHECK(refused_at("Zm9v==", 6));
    IA_CHECK(refused_at("=", 1));
    IA_CHECK(refused_at("==", 2));
}

IA_TEST(b64_lenient_trailing_bits) {
    /* bits below the last whole byte are ignored, as Python's and Node's
     * decoders do: "Zh==" and "Zg==" are both "f" */
    IA_CHECK(decodes_to("Zh==", 4, (const uint8_t *)"f", 1));
    IA_CHECK(decodes_to("Zm9=", 4, (const uint8_t *)"fo", 2));
}

IA_TEST(b64_validate_only_large) {
    /* out NULL: nothing is allocated, the length still comes back; a long
     * text (1 MiB of output) in both modes */
    size_t n = 1 << 20;
    uint8_t *buf = ia_xmalloc(n);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7 + (i >> 9));
    char *s = ia_b64_encode(buf, n);
    size_t len = 0;
    IA_CHECK(ia_b64_decode(s, strlen(s), NULL, &len, NULL) == 0 && len == n);
    uint8_t *out = NULL;
    int ok = ia_b64_decode(s, strlen(s), &out, &len, NULL) == 0 && len == n && memcmp(out, buf, n) == 0;
    /* one bad byte deep inside: found at its offset, in both modes */
    size_t at = strlen(s) / 2 + 1;
    s[at] = '#';
    size_t bad = 0;
    ok &= ia_b64_decode(s, strlen(s), NULL, NULL, &bad) == -1 && bad == at;
    uint8_t *out2 = NULL;
    bad = 0;
    ok &= ia_b64_decode(s, strlen(s), &out2, NULL, &bad) == -1 && bad == at && out2 == NULL;
    free(out);
    free(s);
    free(buf);
    IA_CHECK(ok);
}
