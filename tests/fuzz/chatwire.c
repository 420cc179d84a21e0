/* Fuzz target: the terminal chat's reading of a server's answer
 * (src/api/chatwire.c): the SSE reader, each frame's event decoder and the
 * error body's message — bytes from the network, whatever server the user
 * pointed `interactd chat --url` at.
 *
 * Input: byte 0 is where to split the rest in two (modulo its length); the
 * rest is the stream. Checks: the frames do not depend on the split (one
 * feed, two feeds, byte by byte give the same list); a frame holds no data
 * line's CR; each decoded event's kind is one of the enum's and carries
 * exactly the fields its kind promises (an error always a message);
 * decoding the same data twice gives the same event. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "api/chatwire.h"
#include "lib/util.h"

#define MAXF 4096

typedef struct list {
    ia_buf all; /* each frame's data, NUL-separated */
    int n;
} list;

static void take(void *ud, const char *data, size_t len) {
    list *l = ud;
    ia_buf_append(&l->all, data, len);
    ia_buf_append(&l->all, "", 1);
    l->n++;
    ia_chatev a, b;
    ia_chatwire_event(data, len, &a);
    ia_chatwire_event(data, len, &b);
    FUZZ_CHECK(a.kind >= IA_CHATEV_OTHER && a.kind <= IA_CHATEV_BAD);
    FUZZ_CHECK(a.kind == b.kind);
    FUZZ_CHECK(!a.text == !b.text && (!a.text || !strcmp(a.text, b.text)));
    if (a.kind == IA_CHATEV_ERROR) FUZZ_CHECK(a.text != NULL);
    if (a.kind != IA_CHATEV_START && a.kind != IA_CHATEV_COMPLETE) FUZZ_CHECK(a.id == NULL);
    if (a.kind != IA_CHATEV_STATUS && a.kind != IA_CHATEV_COMPLETE) FUZZ_CHECK(a.status == NULL);
    if (a.kind == IA_CHATEV_BAD || a.kind == IA_CHATEV_OTHER) FUZZ_CHECK(a.text == NULL);
    ia_chatev_free(&a);
    ia_chatev_free(&b);
}

static void run(const char *s, size_t n, size_t cut, bool bytewise, list *out) {
    ia_sse_reader r = {0};
    ia_buf_init(&out->all, 0);
    out->n = 0;
    if (bytewise) {
        for (size_t i = 0; i < n; i++) ia_sse_feed(&r, s + i, 1, MAXF, take, out);
    } else {
        ia_sse_feed(&r, s, cut, MAXF, take, out);
        ia_sse_feed(&r, s + cut, n - cut, MAXF, take, out);
    }
    ia_sse_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    size_t cut = n ? data[0] % (n + 1) : 0;
    char *msg = ia_chatwire_error_message(s, n);
    free(msg);
    /* Past MAXF a frame is dropped, where depends on the split: compare
     * only inputs that stay under it. */
    list one, two, bytes;
    run(s, n, n, false, &one);
    run(s, n, cut, false, &two);
    run(s, n, 0, true, &bytes);
    if (n < MAXF) {
        FUZZ_CHECK(one.n == two.n && one.n == bytes.n);
        FUZZ_CHECK(one.all.len == two.all.len && one.all.len == bytes.all.len);
        FUZZ_CHECK(one.all.len == 0 || (!memcmp(one.all.data, two.all.data, one.all.len) &&
                                         !memcmp(one.all.data, bytes.all.data, one.all.len)));
    }
    ia_buf_free(&one.all);
    ia_buf_free(&two.all);
    ia_buf_free(&bytes.all);
    return 0;
}
