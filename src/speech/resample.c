/* resample: libsoxr behind speech_int.h's streaming resampler, and the PCM
 * buffer. Why soxr: it is a band-limited (windowed-sinc, polyphase/FFT)
 * converter, so 22,050 -> 24,000 Hz keeps the band below 11 kHz intact
 * and adds no aliasing; its "high quality" (20-bit) preset is far beyond
 * what 16-bit samples can show. Dither is off, so the output is a pure
 * function of the input (the tests compare samples exactly), and one
 * thread, so a request never fans out over the server's cores. */
#include "speech/speech_int.h"

#include <soxr.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void ia_pcm_reserve(ia_pcm *p, size_t more) {
    if (p->cap - p->n >= more) return;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap - p->n < more) cap *= 2;
    p->v = ia_xrealloc(p->v, cap * sizeof *p->v);
    p->cap = cap;
}

void ia_pcm_append(ia_pcm *p, const int16_t *s, size_t n) {
    if (!n) return;
    ia_pcm_reserve(p, n);
    memcpy(p->v + p->n, s, n * sizeof *s);
    p->n += n;
}

void ia_pcm_silence(ia_pcm *p, size_t n) {
    ia_pcm_reserve(p, n);
    memset(p->v + p->n, 0, n * sizeof *p->v);
    p->n += n;
}

void ia_pcm_free(ia_pcm *p) {
    free(p->v);
    memset(p, 0, sizeof *p);
}

struct ia_resampler {
    soxr_t soxr;
    double ratio;
};

ia_resampler *ia_resampler_new(double in_rate, double out_rate, ia_err *err) {
    soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
    io.flags |= SOXR_NO_DITHER;
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    soxr_error_t e = NULL;
    soxr_t s = soxr_create(in_rate, out_rate, 1, &e, &io, &q, &rt);
    if (!s || e) {
        ia_fail(err, IA_EINTERNAL, "speech: the resampler could not start: %s", e ? e : "unknown error");
        soxr_delete(s);
        return NULL;
    }
    ia_resampler *r = ia_xcalloc(1, sizeof *r);
    r->soxr = s;
    r->ratio = out_rate / in_rate;
    return r;
}

/* One soxr_process call into out's free room (grown first); in NULL
 * flushes. */
static int process(ia_resampler *r, const int16_t *in, size_t n, size_t *used, size_t *made, ia_pcm *out,
                   ia_err *err) {
    size_t room = (size_t)((double)n * r->ratio) + 1024;
    ia_pcm_reserve(out, room);
    soxr_error_t e = soxr_process(r->soxr, in, n, used, out->v + out->n, room, made);
    if (e) return ia_fail(err, IA_EINTERNAL, "speech: resampling failed: %s", e);
    out->n += *made;
    return 0;
}

int ia_resampler_push(ia_resampler *r, const int16_t *in, size_t n, ia_pcm *out, ia_err *err) {
    /* soxr takes what its buffers hold and makes what fits: call until the
     * input is all in. It always takes or makes something when given room,
     * so this ends; the bound is for a soxr that would not. */
    for (int tries = 0; n > 0; tries++) {
        size_t used = 0, made = 0;
        if (process(r, in, n, &used, &made, out, err) < 0) return -1;
        if (!used && !made && tries > 64)
            return ia_fail(err, IA_EINTERNAL, "speech: the resampler takes no more input");
        in += used;
        n -= used;
    }
    return 0;
}

int ia_resampler_end(ia_resampler *r, ia_pcm *out, ia_err *err) {
    for (;;) {
        size_t made = 0;
        if (process(r, NULL, 0, NULL, &made, out, err) < 0) return -1;
        if (!made) return 0;
    }
}

void ia_resampler_free(ia_resampler *r) {
    if (!r) return;
    soxr_delete(r->soxr);
    free(r);
}
