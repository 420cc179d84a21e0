/* images_int: what images.c (OpenAI's API), sdcpp.c (sd-server's jobs) and
 * call.c (one HTTP exchange, the engine's errors) share, and the parsers of
 * the engines' answers that the tests and the fuzz target call directly.
 * Every message starts "upstream 'NAME': " (images.h lists the codes). */
#ifndef IA_UPSTREAM_IMAGES_INT_H
#define IA_UPSTREAM_IMAGES_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/fetch.h"
#include "upstream/images.h"
#include "upstream/upstream.h"

/* ---- one exchange (call.c) ------------------------------------------------ */

/* An engine's answer, whatever its status. */
typedef struct ia_up_answer {
    long status;
    char *body; /* NUL-terminated, len bytes */
    size_t len;
    char *retry_after; /* the Retry-After header; NULL if absent */
} ia_up_answer;
void ia_up_answer_free(ia_up_answer *a);

/* A request to the engine: method and path (appended to u->url), a JSON
 * body or multipart parts (or neither), by the monotonic deadline (ms),
 * polling cancel (may be NULL). No redirect is followed. 0 with *a for
 * any final status; -1 with the failure mapped (images.h). */
typedef struct ia_up_call {
    const char *method, *path;
    const char *json;
    const ia_fetch_part *parts;
    size_t n_parts;
    int64_t deadline;
    atomic_bool *cancel;
    const char *accept; /* the Accept header's value; NULL: application/json */
    /* Not NULL: a 2xx answer's body goes here as it arrives (lib/fetch.h's
     * sink; non-zero stops it: IA_ECANCELLED), and a->body is empty. */
    int (*sink)(void *ud, const unsigned char *p, size_t n);
    void *sink_ud;
} ia_up_call;
int ia_up_send(const ia_upstream *u, const ia_up_call *c, ia_up_answer *a, ia_err *err);

/* The error for an answer outside 2xx to `what` ("POST /v1/images/edits"):
 * the status mapped to a code (images.h), the engine's own message quoted.
 * edit: the request was an edit (404, 405, 501 mean no edit endpoint).
 * Always -1. */
int ia_up_status_error(const ia_upstream *u, const ia_up_answer *a, const char *what, bool edit, ia_err *err);
/* The message in an engine's error body — error.message, error (a
 * string), message or detail — one line, at most 300 bytes, valid UTF-8
 * (malloc'd); NULL when there is none. */
char *ia_up_error_message(const char *body, size_t len);
/* The deadline's timeout message (IA_EDEADLINE); always -1. */
int ia_up_timeout(const ia_upstream *u, ia_err *err);

/* ---- the answers' images (parse.c) ------------------------------------------ */

/* One image as an answer gives it: decoded bytes, or a URL to fetch. */
typedef struct ia_up_image {
    uint8_t *data;
    size_t len;
    char *url;
} ia_up_image;
typedef struct ia_up_images {
    ia_up_image *v;
    size_t n;
} ia_up_images;
void ia_up_images_free(ia_up_images *im);

/* OpenAI's {"data": [{"b64_json"} | {"url"}, ...]} into *out (at most max
 * images). No image, bad base64, not JSON: IA_EUPSTREAM. 0 / -1. */
int ia_up_parse_openai(const ia_upstream *u, const char *body, size_t len, size_t max, ia_up_images *out,
                       ia_err *err);

/* sd-server's job document. */
typedef enum {
    IA_SDJOB_QUEUED = 0,
    IA_SDJOB_GENERATING,
    IA_SDJOB_COMPLETED,
    IA_SDJOB_FAILED,
    IA_SDJOB_CANCELLED,
} ia_sdjob_status;
typedef struct ia_sdjob {
    char id[96];         /* [A-Za-z0-9_.-]+: put in a URL path as is */
    ia_sdjob_status status;
    ia_up_images images; /* COMPLETED: result.images[].b64_json */
    char *error;         /* FAILED / CANCELLED: error.message (or code); may be NULL */
} ia_sdjob;
void ia_sdjob_free(ia_sdjob *j);
/* A job document into *j; an id that is not one, an unknown status, a
 * completed job without images, not JSON: IA_EUPSTREAM. want_id: the id
 * the document must carry (a poll), NULL at submission. 0 / -1. */
int ia_up_parse_job(const ia_upstream *u, const char *body, size_t len, const char *want_id, size_t max,
                    ia_sdjob *j, ia_err *err);

/* ---- the engines -------------------------------------------------------------- */

/* The raw images for req from each API (before the bytes are checked). */
int ia_up_openai(const ia_upstream *u, const ia_image_req *req, int64_t deadline, atomic_bool *cancel,
                 ia_up_images *out, ia_err *err);
int ia_up_sdcpp(const ia_upstream *u, const ia_image_req *req, int64_t deadline, atomic_bool *cancel,
                ia_up_images *out, ia_err *err);
/* "png", "jpeg", "webp" for the MIME type asked (NULL: png). */
const char *ia_up_format(const ia_image_req *req);

#endif
