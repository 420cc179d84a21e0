/* dialect: which of the two wire dialects answers a request. The path
 * decides first: /v1 is SDK 3.x's and only ever the steps dialect. On
 * /v1beta, which both generations of SDK call, the rule is, in order:
 *   1. an explicit `Api-Revision` header: 2026-05-20 or later is steps, an
 *      older one legacy (the real API's switch; a client that names a
 *      revision has said what it parses);
 *   2. a client that names itself `google-genai-sdk/N` with N >= 2 in
 *      `x-goog-api-client` is steps: SDK 2.x and 3.x parse only steps, and
 *      the Python SDK 2.x sends no Api-Revision, only that header;
 *   3. anyone else (SDK 1.x, curl, the guide's examples, no header) gets
 *      the server's default, legacy unless `--default-dialect steps`.
 * Every answer to the request — create, stream, GET, resume, errors — is
 * then in that dialect; the store keeps neither, so a chain begun in one is
 * read in the other. */
#include "http/http_int.h"

#include <ctype.h>
#include <string.h>

#define SDK_TOKEN "google-genai-sdk/"

int ia_http_sdk_major(const char *api_client) {
    if (!api_client) return -1;
    size_t n = strlen(SDK_TOKEN);
    for (const char *p = api_client; (p = strstr(p, SDK_TOKEN)) != NULL; p += n) {
        /* a whole token: at the start or after a blank, not inside another name */
        if (p != api_client && !isspace((unsigned char)p[-1])) continue;
        const char *v = p + n;
        if (!isdigit((unsigned char)*v)) return -1;
        long major = 0;
        for (; isdigit((unsigned char)*v); v++) /* saturates: a silly major is still "new" */
            major = major < 100000 ? major * 10 + (*v - '0') : major;
        /* "2", "2.19.0", "2.19.0-rc1": the major ends at a dot, a blank or the end */
        if (*v && *v != '.' && *v != '-' && *v != '+' && !isspace((unsigned char)*v)) return -1;
        return (int)major;
    }
    return -1;
}

ia_dialect ia_http_pick_dialect(bool steps_path, const ia_http_hints *h) {
    if (steps_path) return IA_DIALECT_STEPS;
    if (!h) return IA_DIALECT_LEGACY;
    /* Dates compare as strings: YYYY-MM-DD. */
    if (h->api_revision && *h->api_revision)
        return strcmp(h->api_revision, IA_HTTP_STEPS_REVISION) >= 0 ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY;
    if (ia_http_sdk_major(h->api_client) >= 2) return IA_DIALECT_STEPS;
    return h->default_dialect;
}
