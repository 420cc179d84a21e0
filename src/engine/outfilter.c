/* outfilter.c: stop-sequence and UTF-8 hold-back between the sampler and the
 * client (see outfilter.h). The held tail is never longer than the longest
 * stop sequence plus three bytes of a split character, so scanning the whole
 * pending buffer on every token costs next to nothing. */
#include "engine/outfilter.h"

#include <stdlib.h>
#include <string.h>

void ia_outfilter_init(ia_outfilter *f, const char *const *stop, size_t n_stop,
                       ia_outfilter_sink sink, void *ud) {
    memset(f, 0, sizeof *f);
    f->stop = stop;
    f->n_stop = stop ? n_stop : 0;
    f->sink = sink;
    f->ud = ud;
    ia_buf_init(&f->pend, 0);
}

void ia_outfilter_free(ia_outfilter *f) { ia_buf_free(&f->pend); }

/* Emits pend[0..n) and drops it from the buffer. Returns the sink's verdict. */
static int emit(ia_outfilter *f, size_t n) {
    int r = 0;
    if (n == 0) return 0; /* also keeps us off ia_buf's shared empty string */
    if (n > 0 && f->sink) {
        if (ia_utf8_valid(f->pend.data, n)) {
            r = f->sink(f->ud, f->pend.data, n);
        } else {
            char *s = ia_utf8_sanitize(f->pend.data, n);
            r = f->sink(f->ud, s, strlen(s));
            free(s);
        }
    }
    memmove(f->pend.data, f->pend.data + n, f->pend.len - n + 1);
    f->pend.len -= n;
    return r;
}

/* Length of the longest proper prefix of stop that s[0..n) ends with. */
static size_t partial_suffix(const char *s, size_t n, const char *stop, size_t slen) {
    size_t k = slen - 1 < n ? slen - 1 : n;
    for (; k > 0; k--)
        if (memcmp(s + n - k, stop, k) == 0) return k;
    return 0;
}

int ia_outfilter_push(ia_outfilter *f, const char *text, size_t len) {
    if (f->done) return IA_OUTFILTER_STOPPED;
    if (len && ia_buf_append(&f->pend, text, len) != 0) return IA_OUTFILTER_STOPPED;

    /* The earliest complete stop sequence wins. */
    const char *hit = NULL;
    for (size_t i = 0; i < f->n_stop; i++) {
        size_t slen = f->stop[i] ? strlen(f->stop[i]) : 0;
        if (!slen) continue;
        const char *p = memmem(f->pend.data, f->pend.len, f->stop[i], slen);
        if (p && (!hit || p < hit)) hit = p;
    }
    if (hit) {
        f->done = true;
        f->pend.len = (size_t)(hit - f->pend.data);
        f->pend.data[f->pend.len] = '\0';
        return emit(f, f->pend.len) ? IA_OUTFILTER_STOPPED : IA_OUTFILTER_STOP_SEQ;
    }

    size_t hold = 0;
    for (size_t i = 0; i < f->n_stop; i++) {
        size_t slen = f->stop[i] ? strlen(f->stop[i]) : 0;
        if (!slen) continue;
        size_t k = partial_suffix(f->pend.data, f->pend.len, f->stop[i], slen);
        if (k > hold) hold = k;
    }
    size_t n = ia_utf8_complete_prefix(f->pend.data, f->pend.len - hold);
    if (emit(f, n)) {
        f->done = true;
        return IA_OUTFILTER_STOPPED;
    }
    return IA_OUTFILTER_OK;
}

int ia_outfilter_flush(ia_outfilter *f) {
    if (f->done) return IA_OUTFILTER_OK;
    f->done = true;
    return emit(f, f->pend.len) ? IA_OUTFILTER_STOPPED : IA_OUTFILTER_OK;
}
