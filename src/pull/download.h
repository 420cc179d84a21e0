/* download: the HTTP side of `interactd pull`, with libcurl — the hub's
 * JSON listing into memory, the resolve URL's HEAD (its redirect not
 * followed: the hub answers it with the file's SHA-256 in x-linked-etag
 * and its size in x-linked-size), and a file into DEST.part, resumed from
 * the bytes already there with `Range: bytes=N-` (206 + Content-Range
 * continues it; a 200 starts it over), then checked against the SHA-256
 * and renamed to DEST; a mismatch removes the .part and fails.
 *
 * The URLs are the operator's (HF_ENDPOINT): loopback and private
 * addresses are allowed, unlike lib/fetch.h's client URLs. Proxies come
 * from the environment as curl reads them (http_proxy, https_proxy,
 * no_proxy). The token goes as `Authorization: Bearer`; curl drops it when
 * a redirect changes host (the CDN needs none). Redirects: 10 at most. */
#ifndef IA_PULL_DOWNLOAD_H
#define IA_PULL_DOWNLOAD_H

#include <stdint.h>
#include <stddef.h>

#include "lib/err.h"

typedef void (*ia_dl_progress)(void *ud, int64_t done, int64_t total);

/* GET url into *out (NUL-terminated, at most max bytes). A status other
 * than 200 fails with a message naming it (401/403: a gated or private
 * repository, set HF_TOKEN; 404: no such repository). */
int ia_dl_get(const char *url, const char *token, size_t max, char **out, size_t *n, ia_err *err);
/* HEAD url without following its redirect: the hub's x-linked-etag (the
 * SHA-256, quotes dropped, lowercase; "" when absent or no SHA-256) and
 * x-linked-size (-1 when absent). */
int ia_dl_head(const char *url, const char *token, char sha256[65], int64_t *size, ia_err *err);
/* Fetches url into dest as above; sha256: the expected hex digest ("" or
 * NULL: not checked, said on stderr). resumed: set to the offset resumed
 * from (0 when fresh). */
int ia_dl_file(const char *url, const char *token, const char *dest, const char *sha256, int64_t size,
               ia_dl_progress cb, void *ud, int64_t *resumed, ia_err *err);
/* path with each '/'-separated segment percent-encoded (RFC 3986's
 * unreserved characters kept); caller frees. */
char *ia_dl_escape_path(const char *path);
/* The SHA-256 of a file as lowercase hex; -1 + err. */
int ia_dl_sha256_file(const char *path, char out[65], ia_err *err);

#endif
