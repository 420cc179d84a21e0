/* b64: standard base64 (RFC 4648 section 4) for media bytes in JSON, as
 * the SDKs send them (Python's base64.b64encode, Node's Buffer). Decoding
 * is lenient where clients differ and strict where it matters: the URL-safe
 * alphabet is read too, padding is optional, ASCII whitespace (line breaks
 * of MIME-style encoders) is skipped; any other byte, '=' before the end, or
 * a length that cannot be whole bytes is an error. Pure functions. */
#ifndef IA_LIB_B64_H
#define IA_LIB_B64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes in[0..n) into a malloc'd buffer (*out, *len), or with out NULL
 * only checks. 0, or -1 with the offset of the first bad character in
 * *bad_at (n when the length is wrong). */
int ia_b64_decode(const char *in, size_t n, uint8_t **out, size_t *len, size_t *bad_at);
/* Encodes with padding; malloc'd, NUL-terminated. */
char *ia_b64_encode(const uint8_t *in, size_t n);

#endif
