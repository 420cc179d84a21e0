/* util: small helpers shared by every layer — time, ids, strings, UTF-8.
 * Nothing here allocates except where the contract says "malloc'd": the
 * caller frees those with free(). */
#ifndef IA_LIB_UTIL_H
#define IA_LIB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall-clock seconds since the epoch, and a monotonic clock in ms. */
int64_t ia_now(void);
int64_t ia_mono_ms(void);

/* RFC 3339 UTC to the second ("2025-12-29T11:06:25Z") into buf (>= 21 bytes). */
void ia_time_rfc3339(int64_t t, char buf[32]);
/* Parses what ia_time_rfc3339 writes; -1 if malformed. */
int64_t ia_time_parse_rfc3339(const char *s);

/* Parses "55d", "12h", "30m", "45s", "1w" or a bare number of seconds.
 * Returns seconds, or -1 when malformed. */
int64_t ia_parse_duration(const char *s);

/* Fills buf with n random bytes from the OS (OpenSSL RAND_bytes). 0 / -1. */
int ia_random(void *buf, size_t n);

/* Interaction ids, shaped like Google's: "v1_" + unpadded base64url of the
 * protobuf {1: root_id, 2: own_id}, each inner id 23 url-safe chars.
 * ia_id_new writes a new own_id into own (24 bytes incl. NUL).
 * ia_id_format writes the full id for (root, own) into out (>= 80 bytes).
 * ia_id_parse recovers root and own (24 bytes each); -1 if not such an id. */
#define IA_ID_INNER_LEN 23
#define IA_ID_MAX 80
int ia_id_new(char own[24]);
void ia_id_format(const char *root, const char *own, char out[IA_ID_MAX]);
int ia_id_parse(const char *id, char root[24], char own[24]);

/* base64url without padding of n bytes into out (>= 4*ceil(n/3)+1). */
size_t ia_b64url_encode(const uint8_t *in, size_t n, char *out);
/* Decodes unpadded base64url; returns bytes written or -1. */
long ia_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* strdup that aborts on OOM (a server out of memory cannot answer anyway);
 * NULL in, NULL out. */
char *ia_strdup(const char *s);
char *ia_strndup(const char *s, size_t n);
void *ia_xmalloc(size_t n);
void *ia_xcalloc(size_t n, size_t size);
/* For buffers of megabytes written whole right away (saved KV states): from
 * 2 MiB on, 2 MiB-aligned and advised to transparent huge pages, so the
 * first write takes one page fault per 2 MiB instead of per 4 KiB (on a VM
 * where faults are slow, ~100 ms less per 35 MB). Freed with free(). */
void *ia_xmalloc_big(size_t n);
void *ia_xrealloc(void *p, size_t n);
/* malloc'd printf. */
char *ia_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer with a ceiling (0 = none). Appends return -1 once the
 * ceiling would be passed and leave the buffer as it was. data is always
 * NUL-terminated. */
typedef struct ia_buf {
    char *data;
    size_t len, cap, max;
} ia_buf;
void ia_buf_init(ia_buf *b, size_t max);
int ia_buf_append(ia_buf *b, const void *p, size_t n);
int ia_buf_puts(ia_buf *b, const char *s);
int ia_buf_printf(ia_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ia_buf_free(ia_buf *b);
/* Hands the data over (caller frees) and resets the buffer. */
char *ia_buf_take(ia_buf *b);

/* UTF-8: length of the longest prefix of s[0..n) that ends on a complete
 * code point (so a caller can hold back a split multi-byte character). */
size_t ia_utf8_complete_prefix(const char *s, size_t n);
/* Copies s[0..n) into a malloc'd NUL-terminated string, replacing every
 * invalid sequence with U+FFFD, so the result is always valid UTF-8. */
char *ia_utf8_sanitize(const char *s, size_t n);
bool ia_utf8_valid(const char *s, size_t n);
/* s as one line of valid UTF-8 (NULL as ""): control characters and runs
 * of white space become one space, ends trimmed, cut at max bytes on a
 * character boundary. malloc'd. */
char *ia_one_line(const char *s, size_t max);

/* Hex SHA-256 of s (65 bytes incl. NUL). Used to keep API keys out of the
 * store: an interaction's owner is the hash of the key that made it. */
void ia_sha256_hex(const char *s, size_t n, char out[65]);

#endif
