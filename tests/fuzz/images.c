/* Fuzz target: what an upstream image engine sends (src/upstream/parse.c
 * and call.c): OpenAI's images answer, sd-server's job document, an error
 * body's message, and the check that bytes are a PNG, JPEG or WebP image.
 * jansson parses the JSON; the rest — base64 (also in data: URLs), the job
 * id put into a URL path, the PNG header and its CRC, the JPEG and WebP
 * headers — is ours.
 *
 * Byte 0 picks the parser (0: OpenAI, 1: a job, 2: an error body, 3: image
 * bytes); the rest is the input. Checks: a refusal leaves nothing and says
 * why, as IA_EUPSTREAM naming the upstream; at most max images, each either
 * bytes or an http(s) URL; a job id of [A-Za-z0-9_.-] only (it goes into a
 * path), never "." or ".."; a completed job has images; messages are one
 * line of valid UTF-8 within their cap; an identified image has a known
 * MIME type and a size within 1..65535 on both sides. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "upstream/images_int.h"

static bool one_line(const char *s, size_t cap) {
    size_t n = strlen(s);
    if (n > cap || !ia_utf8_valid(s, n)) return false;
    return !strpbrk(s, "\r\n");
}

static void check_images(const ia_up_images *im, size_t max, bool urls) {
    FUZZ_CHECK(im->n >= 1 && im->n <= max);
    for (size_t i = 0; i < im->n; i++) {
        const ia_up_image *x = &im->v[i];
        FUZZ_CHECK((x->data != NULL) != (x->url != NULL));
        if (x->url) FUZZ_CHECK(urls && (!strncmp(x->url, "http://", 7) || !strncmp(x->url, "https://", 8)));
        if (x->data) FUZZ_CHECK(x->len > 0);
    }
}

static void refused(const ia_err *e) {
    FUZZ_CHECK(e->code == IA_EUPSTREAM && !strncmp(e->msg, "upstream 'fz'", 13));
    FUZZ_CHECK(ia_utf8_valid(e->msg, strlen(e->msg)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    ia_upstream u = {.name = "fz"};
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    ia_err e = {0};
    switch (data[0] % 4) {
    case 0: {
        ia_up_images im;
        if (ia_up_parse_openai(&u, body, len, 3, &im, &e) == 0) {
            check_images(&im, 3, true);
        } else {
            FUZZ_CHECK(im.n == 0 && !im.v);
            refused(&e);
        }
        ia_up_images_free(&im);
        break;
    }
    case 1: {
        ia_sdjob j;
        if (ia_up_parse_job(&u, body, len, NULL, 2, &j, &e) == 0) {
            FUZZ_CHECK(j.id[0] && strspn(j.id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                                      strlen(j.id));
            FUZZ_CHECK(strcmp(j.id, ".") && strcmp(j.id, ".."));
            FUZZ_CHECK(j.status <= IA_SDJOB_CANCELLED);
            if (j.status == IA_SDJOB_COMPLETED) check_images(&j.images, 2, false);
            else FUZZ_CHECK(j.images.n == 0);
            if (j.error) FUZZ_CHECK(ia_utf8_valid(j.error, strlen(j.error)) && strlen(j.error) <= 300);
        } else {
            FUZZ_CHECK(!j.id[0] && !j.error && !j.images.n);
            refused(&e);
        }
        ia_sdjob_free(&j);
        break;
    }
    case 2: {
        char *m = ia_up_error_message(body, len);
        if (m) FUZZ_CHECK(*m && one_line(m, 300));
        free(m);
        break;
    }
    default: {
        const char *mime = NULL;
        uint32_t w = 0, h = 0;
        if (ia_image_identify(data + 1, len, "upstream 'fz' answered image 0", &mime, &w, &h, &e) == 0) {
            FUZZ_CHECK(mime && (!strcmp(mime, "image/png") || !strcmp(mime, "image/jpeg") || !strcmp(mime, "image/webp")));
            FUZZ_CHECK(w >= 1 && h >= 1 && w <= 65535 && h <= 65535);
        } else {
            FUZZ_CHECK(mime == NULL);
            refused(&e);
        }
    }
    }
    return 0;
}
