/* sdcpp: stable-diffusion.cpp's sd-server through its native async API
 * (images.h): a job submitted, polled until it ends, cancelled when the
 * caller cancels or the timeout passes — an engine left drawing an image
 * nobody will read holds its GPU for minutes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/b64.h"
#include "lib/log.h"
#include "lib/util.h"
#include "upstream/images_int.h"

#define POLL_MAX_MS 2000
#define SLICE_MS 20
/* The cancel request's own time: the job is the engine's to stop. */
#define CANCEL_MS 5000

/* {"prompt", "width", "height", "seed", "batch_count", "output_format"}
 * and, for an edit, "init_image" (base64, as sd-server takes it). */
static char *job_body(const ia_image_req *req) {
    json_t *o = json_pack("{s:s, s:i, s:i, s:I, s:i, s:s}", "prompt", req->prompt, "width", req->width, "height",
                          req->height, "seed", (json_int_t)(req->has_seed ? req->seed : -1), "batch_count",
                          req->n > 0 ? req->n : 1, "output_format", ia_up_format(req));
    if (o && req->init) {
        char *b64 = ia_b64_encode(req->init, req->init_len);
        json_object_set_new(o, "init_image", json_string(b64));
        free(b64);
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* Asks the engine to drop the job; what it answers is only logged (the
 * caller's error is already decided). */
static void cancel_job(const ia_upstream *u, const char *id) {
    char path[160];
    snprintf(path, sizeof path, "/sdcpp/v1/jobs/%s/cancel", id);
    ia_up_call c = {.method = "POST", .path = path, .json = "{}", .deadline = ia_mono_ms() + CANCEL_MS};
    ia_up_answer a;
    ia_err e = {0};
    if (ia_up_send(u, &c, &a, &e) != 0) ia_warn("upstream %s: cancelling job %s: %s", u->name, id, e.msg);
    else if (a.status < 200 || a.status > 299)
        ia_info("upstream %s: cancelling job %s: HTTP %ld", u->name, id, a.status);
    ia_up_answer_free(&a);
}

/* Sleeps ms, waking every SLICE_MS for the cancel flag and the deadline:
 * 0, or -1 with the reason. */
static int wait_ms(const ia_upstream *u, int ms, int64_t deadline, atomic_bool *cancel, ia_err *err) {
    int64_t until = ia_mono_ms() + ms;
    for (;;) {
        if (cancel && atomic_load(cancel)) return ia_fail(err, IA_ECANCELLED, "upstream '%s': cancelled", u->name);
        int64_t now = ia_mono_ms();
        if (now >= deadline) return ia_up_timeout(u, err);
        if (now >= until) return 0;
        int64_t step = until - now < SLICE_MS ? until - now : SLICE_MS;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* A job that ended without images. */
static int ended(const ia_upstream *u, const ia_sdjob *j, ia_err *err) {
    return ia_fail(err, IA_EUPSTREAM, "upstream '%s': the job %s%s%s", u->name,
                   j->status == IA_SDJOB_FAILED ? "failed" : "was cancelled by the engine", j->error ? ": " : "",
                   j->error ? j->error : "");
}

/* One poll of job id into *j (freed first), keeping at most max images. */
static int poll_job(const ia_upstream *u, const char *id, size_t max, int64_t deadline, atomic_bool *cancel,
                    ia_sdjob *j, ia_err *err) {
    char path[128];
    snprintf(path, sizeof path, "/sdcpp/v1/jobs/%s", id);
    ia_up_call c = {.method = "GET", .path = path, .deadline = deadline, .cancel = cancel};
    ia_up_answer a;
    if (ia_up_send(u, &c, &a, err) != 0) return -1;
    int rc;
    if (a.status == 404 || a.status == 410)
        rc = ia_fail(err, IA_EUPSTREAM, "upstream '%s': job %s is %s (HTTP %ld)", u->name, id,
                     a.status == 404 ? "gone (was the engine restarted?)" : "expired", a.status);
    else if (a.status < 200 || a.status > 299)
        rc = ia_up_status_error(u, &a, "GET /sdcpp/v1/jobs/{id}", false, err);
    else {
        ia_sdjob_free(j);
        rc = ia_up_parse_job(u, a.body, a.len, id, max, j, err);
    }
    ia_up_answer_free(&a);
    return rc;
}

/* Polls until the job ends; the images into out. */
static int follow(const ia_upstream *u, ia_sdjob *j, size_t max, int64_t deadline, atomic_bool *cancel,
                  ia_up_images *out, ia_err *err) {
    int interval = u->poll_ms > 0 ? u->poll_ms : 250;
    char id[sizeof j->id];
    memcpy(id, j->id, sizeof id);
    for (;;) {
        if (j->status == IA_SDJOB_COMPLETED) {
            *out = j->images;
            memset(&j->images, 0, sizeof j->images);
            return 0;
        }
        if (j->status == IA_SDJOB_FAILED || j->status == IA_SDJOB_CANCELLED) return ended(u, j, err);
        if (wait_ms(u, interval, deadline, cancel, err) != 0 || poll_job(u, id, max, deadline, cancel, j, err) != 0) {
            cancel_job(u, id);
            return -1;
        }
        interval = interval * 3 / 2 < POLL_MAX_MS ? interval * 3 / 2 : POLL_MAX_MS;
    }
}

int ia_up_sdcpp(const ia_upstream *u, const ia_image_req *req, int64_t deadline, atomic_bool *cancel,
                ia_up_images *out, ia_err *err) {
    char *body = job_body(req);
    if (!body) return ia_fail(err, IA_EINTERNAL, "upstream '%s': out of memory", u->name);
    ia_up_call c = {.method = "POST", .path = "/sdcpp/v1/img_gen", .json = body, .deadline = deadline,
                    .cancel = cancel};
    ia_up_answer a;
    int rc = ia_up_send(u, &c, &a, err);
    free(body);
    if (rc != 0) return -1;
    ia_sdjob j = {0};
    size_t max = (size_t)(req->n > 0 ? req->n : 1); /* no more images than asked for */
    if (a.status < 200 || a.status > 299) rc = ia_up_status_error(u, &a, "POST /sdcpp/v1/img_gen", false, err);
    else rc = ia_up_parse_job(u, a.body, a.len, NULL, max, &j, err);
    ia_up_answer_free(&a);
    if (rc == 0) rc = follow(u, &j, max, deadline, cancel, out, err);
    ia_sdjob_free(&j);
    return rc;
}
