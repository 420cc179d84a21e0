/* call: one HTTP exchange with an upstream engine over lib/fetch.c, and
 * the engine's failures as the API's errors (images.h has the table).
 *
 * The upstream's URL is the operator's (upstream.h), so its address is
 * allowed whatever it is; no redirect is followed (a request with a body
 * follows none anyway, and a poll that is sent elsewhere would leave the
 * engine the operator named); no environment proxy. Every status comes
 * back (any_status), so an engine's error body can be quoted. The fetch's
 * own message names the URL: it goes to the log, and the client gets one
 * that names the upstream only. */
#include "upstream/images_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

#define MSG_MAX 300
#define CONNECT_MS 10000
/* An engine that could not be reached: how soon a retry may find it up. */
#define UNREACHABLE_RETRY_S 5

void ia_up_answer_free(ia_up_answer *a) {
    if (!a) return;
    free(a->body);
    free(a->retry_after);
    memset(a, 0, sizeof *a);
}

int ia_up_timeout(const ia_upstream *u, ia_err *err) {
    return ia_fail(err, IA_EDEADLINE, "upstream '%s': no answer within %d s (its timeout=)", u->name, u->timeout_s);
}

/* A failed fetch as the API's error; the fetch's message (with the URL) is
 * logged. */
static int fetch_error(const ia_upstream *u, ia_fetch_fail f, const ia_err *fe, ia_err *err) {
    if (f != IA_FETCH_FAIL_CANCELLED) ia_warn("upstream %s: %s", u->name, fe->msg);
    switch (f) {
    case IA_FETCH_FAIL_CANCELLED: return ia_fail(err, IA_ECANCELLED, "upstream '%s': cancelled", u->name);
    case IA_FETCH_FAIL_TIMEOUT: return ia_up_timeout(u, err);
    case IA_FETCH_FAIL_CONNECT:
        ia_fail(err, IA_EOVERLOADED, "upstream '%s' is unreachable (no connection could be made); retry later",
                u->name);
        if (err) err->retry_after = UNREACHABLE_RETRY_S;
        return -1;
    case IA_FETCH_FAIL_TOO_BIG:
        return ia_fail(err, IA_EUPSTREAM, "upstream '%s': the answer is larger than %zu bytes", u->name, u->max_bytes);
    case IA_FETCH_FAIL_REDIRECT:
        return ia_fail(err, IA_EUPSTREAM, "upstream '%s' answered with a redirect, which is not followed (point "
                                          "--upstream at the engine itself)", u->name);
    default:
        return ia_fail(err, IA_EUPSTREAM, "upstream '%s': the exchange failed (a broken or cut answer)", u->name);
    }
}

/* The fetch options for the engine: any address, no proxy, no redirect,
 * what is left of the deadline. */
static ia_fetch_opts engine_opts(const ia_upstream *u, int64_t left) {
    return (ia_fetch_opts){.max_bytes = u->max_bytes, .timeout_ms = (int)left,
                           .connect_timeout_ms = left < CONNECT_MS ? (int)left : CONNECT_MS, .max_redirects = -1,
                           .allow_private = true, .proxy = "", .user_agent = "interactd"};
}

int ia_up_send(const ia_upstream *u, const ia_up_call *c, ia_up_answer *a, ia_err *err) {
    memset(a, 0, sizeof *a);
    int64_t left = c->deadline - ia_mono_ms();
    if (left <= 0) return ia_up_timeout(u, err);
    if (left > (int64_t)IA_UPSTREAM_MAX_TIMEOUT_S * 1000) left = (int64_t)IA_UPSTREAM_MAX_TIMEOUT_S * 1000;
    char *auth = u->key ? ia_asprintf("Authorization: Bearer %s", u->key) : NULL;
    const char *hdrs[3];
    size_t nh = 0;
    char *accept = ia_asprintf("Accept: %s", c->accept ? c->accept : "application/json");
    hdrs[nh++] = accept;
    if (c->json) hdrs[nh++] = "Content-Type: application/json";
    if (auth) hdrs[nh++] = auth;
    ia_fetch_fail f = IA_FETCH_FAIL_NONE;
    ia_fetch_req rq = {.method = c->method, .body = c->json, .body_len = c->json ? strlen(c->json) : 0,
                       .parts = c->parts, .n_parts = c->n_parts, .headers = hdrs, .n_headers = nh,
                       .keep_header = "retry-after", .cancel = c->cancel, .any_status = true, .fail = &f,
                       .sink = c->sink, .sink_ud = c->sink_ud};
    ia_fetch_opts o = engine_opts(u, left);
    char *url = ia_asprintf("%s%s", u->url, c->path);
    ia_fetched got;
    ia_err fe = {0};
    int rc = ia_fetch_ex(url, &o, &rq, "upstream", &got, &fe);
    free(url);
    free(accept);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (rc != 0) return fetch_error(u, f, &fe, err);
    a->status = got.status;
    a->body = (char *)got.data; /* NUL-terminated by fetch */
    a->len = got.len;
    a->retry_after = got.header;
    got.data = NULL;
    got.header = NULL;
    ia_fetched_free(&got);
    return 0;
}

/* ---- the engine's errors ------------------------------------------------------ */

/* s as one line of valid UTF-8, at most MSG_MAX bytes (malloc'd). */
static char *one_line(const char *s, size_t n) {
    if (n > MSG_MAX) n = ia_utf8_complete_prefix(s, MSG_MAX);
    char *out = ia_utf8_sanitize(s, n);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
    return out;
}

static char *string_at(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) && json_string_length(v) ? one_line(json_string_value(v), json_string_length(v))
                                                      : NULL;
}

char *ia_up_error_message(const char *body, size_t len) {
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    json_t *e = json_object_get(j, "error");
    char *m = json_is_object(e) ? string_at(e, "message") : string_at(j, "error");
    if (!m && json_is_object(e)) m = string_at(e, "code");
    if (!m) m = string_at(j, "message");
    if (!m) m = string_at(j, "detail");
    json_decref(j);
    return m;
}

/* Retry-After in whole seconds (an HTTP date is not worth parsing: 1). */
static int retry_after(const ia_up_answer *a) {
    long s = a->retry_after ? strtol(a->retry_after, NULL, 10) : 0;
    return s > 0 && s < 3600 ? (int)s : 1;
}

/* The code for an engine's status (images.h). */
static ia_errcode status_code(long st, bool edit) {
    if (st == 400 || st == 422) return IA_EINVALID;
    if (edit && (st == 404 || st == 405 || st == 501)) return IA_EUNIMPLEMENTED;
    if (st == 413) return IA_ETOOLARGE;
    if (st == 429) return IA_ERATELIMIT;
    if (st == 503) return IA_EOVERLOADED;
    return IA_EUPSTREAM;
}

int ia_up_status_error(const ia_upstream *u, const ia_up_answer *a, const char *what, bool edit, ia_err *err) {
    char *m = ia_up_error_message(a->body, a->len);
    ia_errcode code = status_code(a->status, edit);
    const char *lead = code == IA_EINVALID        ? "refused the request"
                       : code == IA_EUNIMPLEMENTED ? "does not edit images"
                       : code == IA_ETOOLARGE      ? "refused the request as too large"
                       : code == IA_ERATELIMIT || code == IA_EOVERLOADED ? "is busy"
                       : a->status == 401 || a->status == 403
                           ? "refused this server's credentials (check key= in --upstream)"
                           : "failed";
    ia_fail(err, code, "upstream '%s' %s (%s: HTTP %ld)%s%s", u->name, lead, what, a->status, m ? ": " : "",
            m ? m : "");
    if (err && (code == IA_ERATELIMIT || code == IA_EOVERLOADED)) err->retry_after = retry_after(a);
    free(m);
    return -1;
}
