/* console: the web console's static files (web/), embedded in the binary at
 * build time (scripts/embed-web.sh writes build/gen/web_assets.inc), served
 * at `/` (the page) and `/console/NAME` (its scripts and styles) without a
 * key: they hold nothing of anyone's, and the page asks the user for the key
 * that its API calls then carry. Each answer has its content type, a strong
 * ETag (a hash of the file) and `Cache-Control: no-cache`, so a browser
 * revalidates and gets a 304 until the binary changes; a strict
 * Content-Security-Policy keeps the page to its own scripts, whatever a
 * model's answer holds. */
#include "http/http_int.h"

#include <string.h>

typedef struct ia_console_asset {
    const char *path;  /* "/console/app.js" */
    const char *ctype;
    const unsigned char *data;
    size_t len;
    const char *etag;  /* quoted */
} ia_console_asset;

#include "web_assets.inc"

#define NASSETS (sizeof CONSOLE_ASSETS / sizeof CONSOLE_ASSETS[0])

/* blob: and data: for the media the page builds from base64 outputs (a
 * WAV made in the page, images); connect-src 'self' for the API. */
static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data: blob:; media-src 'self' data: blob:; "
                          "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

bool ia_http_console_path(const char *p) {
    return !strcmp(p, "/") || !strcmp(p, "/console") || !strncmp(p, "/console/", 9);
}

static const ia_console_asset *find(const char *path) {
    if (!strcmp(path, "/") || !strcmp(path, "/console") || !strcmp(path, "/console/"))
        path = "/console/index.html";
    for (size_t i = 0; i < NASSETS; i++)
        if (!strcmp(CONSOLE_ASSETS[i].path, path)) return &CONSOLE_ASSETS[i];
    return NULL;
}

/* An If-None-Match list ("a", "b" or *) that names etag. */
static bool etag_matches(const char *inm, const char *etag) {
    if (!inm) return false;
    if (!strcmp(inm, "*")) return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
        bool start = p == inm || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/';
        bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
        if (start && end) return true;
    }
    return false;
}

enum MHD_Result ia_http_console_serve(ia_http_req *r, struct MHD_Connection *c) {
    const ia_console_asset *a = find(r->path);
    if (!a) {
        ia_err e;
        ia_fail(&e, IA_ENOTFOUND, "no such console file: %s", r->path);
        return ia_http_send_err(r, c, &e, NULL);
    }
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    bool fresh = etag_matches(inm, a->etag);
    struct MHD_Response *resp =
        fresh ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
              : MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    if (!fresh) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, a->etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (strstr(a->ctype, "text/html")) MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "x-request-id", r->rid);
    int status = fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK;
    r->status = status;
    r->responded = true;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}
