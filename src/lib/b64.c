/* b64.c: standard base64 for media bytes (b64.h). */
#include "lib/b64.h"

#include <stdlib.h>

#include "lib/util.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

static int space(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

int ia_b64_decode(const char *in, size_t n, uint8_t **out, size_t *len, size_t *bad_at) {
    uint8_t *buf = out ? ia_xmalloc(n / 4 * 3 + 3) : NULL;
    size_t o = 0, digits = 0, pad = 0, pad_at = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (space(c)) continue;
        int v = c == '=' ? -2 : value(c);
        if (v == -2 && pad < 2) { /* padding: only at the end */
            if (!pad) pad_at = i;
            pad++;
            continue;
        }
        if (v < 0 || pad) { /* a digit after padding: the '=' was not the end */
            free(buf);
            if (bad_at) *bad_at = v >= 0 ? pad_at : i;
            return -1;
        }
        digits++;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (buf) buf[o] = (uint8_t)(acc >> bits);
            o++;
        }
    }
    /* one digit alone carries 6 bits: never a whole byte; padding, when
     * present, must complete the last group */
    if (digits % 4 == 1 || (pad && (digits + pad) % 4 != 0)) {
        free(buf);
        if (bad_at) *bad_at = n;
        return -1;
    }
    if (out) *out = buf;
    if (len) *len = o;
    return 0;
}

char *ia_b64_encode(const uint8_t *in, size_t n) {
    char *s = ia_xmalloc((n + 2) / 3 * 4 + 1);
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        s[o++] = alphabet[v >> 18 & 63];
        s[o++] = alphabet[v >> 12 & 63];
        s[o++] = alphabet[v >> 6 & 63];
        s[o++] = alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        s[o++] = alphabet[v >> 18 & 63];
        s[o++] = alphabet[v >> 12 & 63];
        s[o++] = '=';
        s[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        s[o++] = alphabet[v >> 18 & 63];
        s[o++] = alphabet[v >> 12 & 63];
        s[o++] = alphabet[v >> 6 & 63];
        s[o++] = '=';
    }
    s[o] = '\0';
    return s;
}
