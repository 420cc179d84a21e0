/* util: the small helpers every layer leans on — clocks and RFC 3339 time,
 * duration strings, randomness and Google-shaped interaction ids, base64url,
 * allocation that aborts on OOM, the capped ia_buf, UTF-8 checks and repair,
 * and SHA-256. Everything here is stateless and thread-safe; the contracts
 * live in util.h. */
#include "lib/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

/* ---- time ---------------------------------------------------------------- */

int64_t ia_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t ia_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ia_time_rfc3339(int64_t t, char buf[32]) {
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm)) {
        /* Only absurd times get here; a fixed valid stamp beats garbage. */
        snprintf(buf, 32, "1970-01-01T00:00:00Z");
        return;
    }
    /* Fields clamped to their ranges so the compiler can prove the fit. */
    snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}

/* Reads exactly n decimal digits; -1 if any is not a digit. */
static int read_digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int64_t ia_time_parse_rfc3339(const char *s) {
    if (!s || strlen(s) != 20) return -1;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != 'Z')
        return -1;
    int y = read_digits(s, 4), mo = read_digits(s + 5, 2), d = read_digits(s + 8, 2);
    int h = read_digits(s + 11, 2), mi = read_digits(s + 14, 2), se = read_digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || se < 0 || se > 59)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    /* timegm normalizes "Feb 30" into March; a changed day means it was bogus. */
    if (tm.tm_mday != d || tm.tm_mon != mo - 1) return -1;
    return (int64_t)t;
}

int64_t ia_parse_duration(const char *s) {
    if (!s || !*s) return -1;
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (*p - '0');
    }
    if (p == s) return -1;
    int64_t mult;
    switch (*p) {
    case '\0': return v;
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 7 * 86400; break;
    default: return -1;
    }
    if (p[1] != '\0') return -1;
    if (v > INT64_MAX / mult) return -1;
    return v * mult;
}

/* ---- randomness and ids ---------------------------------------------------- */

int ia_random(void *buf, size_t n) {
    unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        if (RAND_bytes(p, chunk) != 1) return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

int ia_id_new(char own[24]) {
    uint8_t r[IA_ID_INNER_LEN];
    if (ia_random(r, sizeof r) != 0) return -1;
    /* 64 divides 256, so masking keeps every character equally likely. */
    for (int i = 0; i < IA_ID_INNER_LEN; i++) own[i] = b64url_alphabet[r[i] & 63];
    own[IA_ID_INNER_LEN] = '\0';
    return 0;
}

/* The protobuf the id wraps: two length-delimited string fields. */
#define ID_PB_LEN (2 * (2 + IA_ID_INNER_LEN))

void ia_id_format(const char *root, const char *own, char out[IA_ID_MAX]) {
    uint8_t pb[ID_PB_LEN];
    /* The first turn of a chain is its own root. */
    if (!root) root = own;
    pb[0] = 0x0A;
    pb[1] = IA_ID_INNER_LEN;
    memcpy(pb + 2, root, IA_ID_INNER_LEN);
    pb[2 + IA_ID_INNER_LEN] = 0x12;
    pb[3 + IA_ID_INNER_LEN] = IA_ID_INNER_LEN;
    memcpy(pb + 4 + IA_ID_INNER_LEN, own, IA_ID_INNER_LEN);
    memcpy(out, "v1_", 3);
    ia_b64url_encode(pb, sizeof pb, out + 3);
}

static bool inner_id_ok(const uint8_t *p) {
    for (int i = 0; i < IA_ID_INNER_LEN; i++)
        if (b64url_value(p[i]) < 0) return false;
    return true;
}

int ia_id_parse(const char *id, char root[24], char own[24]) {
    if (!id || strncmp(id, "v1_", 3) != 0) return -1;
    size_t n = strlen(id + 3);
    if (n > IA_ID_MAX) return -1;
    uint8_t pb[IA_ID_MAX];
    long got = ia_b64url_decode(id + 3, n, pb, sizeof pb);
    if (got != ID_PB_LEN) return -1;
    if (pb[0] != 0x0A || pb[1] != IA_ID_INNER_LEN || pb[2 + IA_ID_INNER_LEN] != 0x12 ||
        pb[3 + IA_ID_INNER_LEN] != IA_ID_INNER_LEN)
        return -1;
    if (!inner_id_ok(pb + 2) || !inner_id_ok(pb + 4 + IA_ID_INNER_LEN)) return -1;
    char r[24], o[24];
    memcpy(r, pb + 2, IA_ID_INNER_LEN);
    r[IA_ID_INNER_LEN] = '\0';
    memcpy(o, pb + 4 + IA_ID_INNER_LEN, IA_ID_INNER_LEN);
    o[IA_ID_INNER_LEN] = '\0';
    /* Unpadded base64 leaves spare low bits in the last character; insisting
     * on the canonical spelling keeps one id per interaction, so ids can be
     * compared and used as keys as plain strings. */
    char again[IA_ID_MAX];
    ia_id_format(r, o, again);
    if (strcmp(again, id) != 0) return -1;
    memcpy(root, r, 24);
    memcpy(own, o, 24);
    return 0;
}

/* ---- base64url --------------------------------------------------------------- */

size_t ia_b64url_encode(const uint8_t *in, size_t n, char *out) {
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

long ia_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap) {
    /* One leftover character carries only 6 bits: never a whole byte. */
    if (n % 4 == 1) return -1;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap) return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

/* ---- allocation ------------------------------------------------------------ */

static void oom(size_t n) {
    fprintf(stderr, "interactd: out of memory (%zu bytes)\n", n);
    abort();
}

void *ia_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *ia_xmalloc_big(size_t n) {
    const size_t huge = (size_t)2 << 20;
    if (n < huge) return ia_xmalloc(n);
    void *p = NULL;
    if (posix_memalign(&p, huge, n) != 0) oom(n);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, n & ~(size_t)4095, MADV_HUGEPAGE); /* advice only: THP may be off */
#endif
    return p;
}

void *ia_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *ia_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *ia_strdup(const char *s) {
    return s ? ia_strndup(s, strlen(s)) : NULL;
}

char *ia_strndup(const char *s, size_t n) {
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *p = ia_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ia_asprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int r = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (r < 0) oom(0);
    return p;
}

/* ---- ia_buf ------------------------------------------------------------------ */

/* An empty buffer points here so data is NUL-terminated without allocating;
 * cap == 0 marks it as not ours to free. */
static char buf_empty[1];

void ia_buf_init(ia_buf *b, size_t max) {
    b->data = buf_empty;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

int ia_buf_append(ia_buf *b, const void *p, size_t n) {
    if (n > SIZE_MAX - b->len - 1) return -1;
    if (b->max && b->len + n > b->max) return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
        /* Never reserve past what the ceiling allows anyway. */
        if (b->max && cap > b->max + 1) cap = b->max + 1;
        b->data = ia_xrealloc(b->cap ? b->data : NULL, cap);
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ia_buf_puts(ia_buf *b, const char *s) {
    return ia_buf_append(b, s, strlen(s));
}

int ia_buf_printf(ia_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return ia_buf_append(b, small, (size_t)n);
    char *big = ia_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int r = ia_buf_append(b, big, (size_t)n);
    free(big);
    return r;
}

void ia_buf_free(ia_buf *b) {
    if (b->cap) free(b->data);
    ia_buf_init(b, b->max);
}

char *ia_buf_take(ia_buf *b) {
    char *p = b->cap ? b->data : ia_strdup("");
    ia_buf_init(b, b->max);
    return p;
}

/* ---- UTF-8 ------------------------------------------------------------------- */

/* Length of the valid code point at s[0..n), or 0 if ill-formed; *sub gets the
 * length of the maximal subpart (the bytes one U+FFFD stands for, >= 1), as
 * Unicode recommends so replacement counts match other decoders. */
static size_t utf8_decode(const unsigned char *s, size_t n, size_t *sub) {
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    *sub = 1;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        else if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        else if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
    } else
        return 0;
    for (size_t i = 1; i < need; i++) {
        if (i >= n) return 0;
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
        if (s[i] < l || s[i] > h) return 0;
        *sub = i + 1;
    }
    return need;
}

size_t ia_utf8_complete_prefix(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    /* Walk back over at most three continuation bytes to the lead byte. */
    size_t i = n, back = 0;
    while (i > 0 && back < 3 && (u[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0) return n;
    unsigned char c = u[i - 1];
    size_t need = c >= 0xC2 && c <= 0xF4 ? (c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2) : 1;
    size_t have = back + 1;
    if (need > 1 && have < need) {
        /* Hold back only what could still become valid; junk passes on to
         * be replaced by whoever sanitizes it. */
        size_t sub;
        if (utf8_decode(u + i - 1, have, &sub) == 0 && sub == have) return i - 1;
    }
    return n;
}

bool ia_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, sub;
    while (i < n) {
        size_t k = utf8_decode(u + i, n - i, &sub);
        if (!k) return false;
        i += k;
    }
    return true;
}

char *ia_utf8_sanitize(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    /* Worst case: every byte becomes the three bytes of U+FFFD. */
    if (n > (SIZE_MAX - 1) / 3) oom(n);
    char *out = ia_xmalloc(n * 3 + 1);
    size_t i = 0, o = 0, sub;
    while (i < n) {
        size_t k = utf8_decode(u + i, n - i, &sub);
        if (k) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += sub;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- hashing ----------------------------------------------------------------- */

void ia_sha256_hex(const char *s, size_t n, char out[65]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static const char hex[] = "0123456789abcdef";
    if (EVP_Digest(s, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        /* Only OOM or a broken libcrypto gets here. A fixed fallback would
         * give every key the same owner, so stop like any other OOM. */
        oom(0);
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

char *ia_one_line(const char *s, size_t max) {
    char *v = ia_utf8_sanitize(s ? s : "", s ? strlen(s) : 0);
    size_t k = 0;
    bool space = true; /* drops leading white space */
    for (size_t i = 0; v[i]; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == 0x7f) {
            if (!space) v[k++] = ' ';
            space = true;
        } else {
            v[k++] = v[i];
            space = false;
        }
    }
    while (k && v[k - 1] == ' ') k--;
    if (k > max) k = ia_utf8_complete_prefix(v, max);
    v[k] = '\0';
    return v;
}
