/* Fuzz target: what an upstream chat engine sends (src/upstream/chat_sse.c):
 * an OpenAI chat completions answer, an SSE stream of chunks or one JSON
 * document, read as it arrives. The SSE framing, the chunks' fields, the
 * tool-call deltas by index and the bounds are ours; jansson parses each
 * event's JSON.
 *
 * Byte 0 sets the piece size the body is fed in (1 to 64 bytes); the rest
 * is the body. Checks: the deltas handed on are non-empty valid UTF-8
 * without NUL and add up exactly to the answer's reasoning and content; the
 * outcome (refusal or not, what was read) does not depend on the piece
 * size (compared with the body fed whole); a refusal is bad_gateway naming
 * the upstream; calls at most 128; an error event's message is one line of
 * valid UTF-8 within 300 bytes. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "upstream/chat_int.h"

typedef struct seen {
    ia_buf r, c;
} seen;

static int on_delta(void *ud, bool reasoning, const char *p, size_t n) {
    seen *s = ud;
    FUZZ_CHECK(n > 0 && ia_utf8_valid(p, n) && !memchr(p, '\0', n));
    ia_buf_append(reasoning ? &s->r : &s->c, p, n);
    return 0;
}

static int run(const char *body, size_t len, size_t piece, ia_upchat_answer *a, seen *s, ia_err *e) {
    ia_upchat_answer_init(a);
    ia_buf_init(&s->r, 0);
    ia_buf_init(&s->c, 0);
    a->on_delta = on_delta;
    a->ud = s;
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0; at += piece)
        rc = ia_upchat_feed(a, body + at, len - at < piece ? len - at : piece, "fz", e);
    if (rc == 0) rc = ia_upchat_end(a, "fz", e);
    return rc;
}

static void done(ia_upchat_answer *a, seen *s) {
    ia_upchat_answer_free(a);
    ia_buf_free(&s->r);
    ia_buf_free(&s->c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t piece = (size_t)(data[0] % 64) + 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    ia_upchat_answer a, w;
    seen s, ws;
    ia_err e = {0}, we = {0};
    int rc = run(body, len, piece, &a, &s, &e);
    int wrc = run(body, len, len ? len : 1, &w, &ws, &we);
    FUZZ_CHECK(rc == wrc);
    if (rc < 0) {
        FUZZ_CHECK(e.code == IA_EUPSTREAM && !strncmp(e.msg, "upstream 'fz'", 13));
        FUZZ_CHECK(ia_utf8_valid(e.msg, strlen(e.msg)));
    } else {
        FUZZ_CHECK(s.r.len == a.reasoning.len && !memcmp(s.r.data, a.reasoning.data, s.r.len));
        FUZZ_CHECK(s.c.len == a.content.len && !memcmp(s.c.data, a.content.data, s.c.len));
        FUZZ_CHECK(a.content.len == w.content.len && !memcmp(a.content.data, w.content.data, a.content.len));
        FUZZ_CHECK(a.reasoning.len == w.reasoning.len);
        FUZZ_CHECK(a.n_calls == w.n_calls && a.n_calls <= 128 && a.done == w.done);
        FUZZ_CHECK(!strcmp(a.finish, w.finish) && a.prompt == w.prompt && a.cached == w.cached);
        for (size_t i = 0; i < a.n_calls; i++)
            FUZZ_CHECK(a.calls[i].args.len == w.calls[i].args.len);
        FUZZ_CHECK(!a.error == !w.error);
        if (a.error)
            FUZZ_CHECK(strlen(a.error) <= 300 && ia_utf8_valid(a.error, strlen(a.error)) && !strpbrk(a.error, "\r\n"));
    }
    done(&a, &s);
    done(&w, &ws);
    return 0;
}
