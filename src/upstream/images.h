/* images: image output from an upstream engine (upstream.h), the module
 * core's run loop calls for a request that asks for an image
 * (ia_request.modalities & IA_MOD_BIT_IMAGE) once ia_upstream_check_outputs found
 * an upstream for its model:
 *
 *     ia_image_cfg cfg;
 *     ia_image_cfg_merge(&req->gen.image, &req->rformat.image, &cfg);
 *     ia_image_req q = {.prompt = text, .n = 1};
 *     if (ia_image_dims(&cfg, &q.width, &q.height, err) != 0) ...   // 400
 *     ia_image_out *imgs; size_t n;
 *     if (ia_images_generate(u, &q, &run->cancel, &imgs, &n, err) != 0) ...
 *     // each imgs[i]: bytes, mime_type, width, height -> an image output
 *     // (base64 on the wire: lib/b64.h), then ia_image_outs_free(imgs, n)
 *
 * Engines (ia_upstream.api):
 *  - openai: POST {URL}/v1/images/generations {"model", "prompt", "n",
 *    "size": "WxH", "response_format": "b64_json"} (+ "output_format" when
 *    JPEG or WebP is asked for), a bearer key when set; the answer's
 *    data[].b64_json, or data[].url fetched under the same limits (on
 *    another origin, under the server's rules for client URLs). Editing (an
 *    input image): POST {URL}/v1/images/edits as multipart/form-data
 *    (prompt, model, n, size, response_format, image[]).
 *  - sdcpp: POST {URL}/sdcpp/v1/img_gen {"prompt", "width", "height",
 *    "seed", "batch_count", "output_format"} (+ "init_image", base64, for
 *    editing) -> 202 {"id", "status": "queued", ...}; then GET
 *    {URL}/sdcpp/v1/jobs/{id} until completed, failed or cancelled, every
 *    poll_ms growing by half to 2 s; result.images[].b64_json. A cancel (the
 *    flag) or the timeout sends POST {URL}/sdcpp/v1/jobs/{id}/cancel, so the
 *    engine stops drawing what nobody will read.
 *
 * What comes back: every image's bytes unchanged, checked to be PNG
 * (signature, an IHDR chunk whose CRC matches, width and height read),
 * JPEG or WebP (their headers' sizes read: lib/imgsize.h), with the MIME
 * type the bytes are. PNG is what is asked for (unless the request's image
 * format asked JPEG or WebP), but an engine that answers JPEG or WebP
 * anyway has its image passed through as what it is: the API's image
 * content names its mime_type, and re-encoding would lose quality and
 * pull in an image library. Any other bytes are refused, never passed on
 * as an image.
 *
 * Errors, each message starting "upstream 'NAME': " (the engine's URL and
 * key never appear; the URL is logged):
 *  - the engine refuses the request (HTTP 400, 422: its message quoted):
 *    IA_EINVALID; no edit endpoint (404, 405, 501 on /v1/images/edits):
 *    IA_EUNIMPLEMENTED; the input image too large for it (413):
 *    IA_ETOOLARGE;
 *  - busy (429, 503; sdcpp's queue full): IA_ERATELIMIT / IA_EOVERLOADED
 *    with the engine's Retry-After; unreachable (connection refused, name
 *    not resolved): IA_EOVERLOADED;
 *  - no answer within timeout_s: IA_EDEADLINE (504);
 *  - anything else the engine gets wrong — 401/403 (a bad key=), other
 *    4xx and 5xx (OpenAI's {"error": {"message"}} quoted), a redirect, an
 *    answer that is not JSON or over max_bytes, no image, an image that is
 *    not PNG/JPEG/WebP, a failed or cancelled sdcpp job (its
 *    error.message), a job gone (404, 410): IA_EUPSTREAM (502);
 *  - the cancel flag set: IA_ECANCELLED.
 *
 * Threads: ia_images_generate blocks its caller (seconds to minutes) and
 * may run in many threads at once; everything else is pure. */
#ifndef IA_UPSTREAM_IMAGES_H
#define IA_UPSTREAM_IMAGES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "model/types.h"
#include "upstream/upstream.h"

#define IA_IMAGES_MAX_N 8

typedef struct ia_image_req {
    const char *prompt;  /* what to draw (UTF-8, non-empty) */
    int width, height;   /* from ia_image_dims */
    int n;               /* images wanted, 1..IA_IMAGES_MAX_N; 0 = 1 */
    bool has_seed;       /* sdcpp only (OpenAI's API has no seed) */
    int64_t seed;
    /* Editing: the input image's bytes and MIME type; NULL = generate. */
    const uint8_t *init;
    size_t init_len;
    const char *init_mime;
    const char *mime_type; /* asked of the engine: "image/png" (NULL), "image/jpeg", "image/webp" */
} ia_image_req;

typedef struct ia_image_out {
    uint8_t *data; /* the engine's bytes, unchanged (malloc'd) */
    size_t len;
    const char *mime_type; /* static: "image/png", "image/jpeg", "image/webp" */
    uint32_t width, height;
} ia_image_out;
void ia_image_outs_free(ia_image_out *v, size_t n); /* the members and the array */

/* The request's image settings: an image response format's fields (SDK
 * 3.x) over generation_config.image_config's (the guide's). Either may be
 * unset. */
void ia_image_cfg_merge(const ia_image_cfg *gen, const ia_image_cfg *format, ia_image_cfg *out);

/* Width and height for the settings: the long side from image_size (512,
 * 1K = 1024 (the default), 2K = 2048, 4K = 4096), the short side from
 * aspect_ratio (default 1:1) as long * short / long ratio, both multiples
 * of 64 (what diffusion engines need), the short side at least 64.
 * Values outside the API's lists: IA_EINVALID naming the field and the
 * allowed values. 0 / -1. */
int ia_image_dims(const ia_image_cfg *c, int *width, int *height, ia_err *err);

/* Draws req->n images (see above). On success *out holds 1 to req->n
 * images (an engine may give fewer; more are dropped; free with
 * ia_image_outs_free); on failure *out is NULL and *n 0. cancel may be
 * NULL. 0 / -1. */
int ia_images_generate(const ia_upstream *u, const ia_image_req *req, atomic_bool *cancel, ia_image_out **out,
                       size_t *n, ia_err *err);

/* The image kind of bytes (the check above, also for tests and fuzzing):
 * 0 with *mime ("image/png", ...), *w and *h, or -1 with a reason in err
 * (IA_EUPSTREAM; the message starts with what). */
int ia_image_identify(const uint8_t *d, size_t len, const char *what, const char **mime, uint32_t *w,
                      uint32_t *h, ia_err *err);

#endif
