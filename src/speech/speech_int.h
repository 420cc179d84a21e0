/* speech_int: what the files of src/speech/ share among themselves — a
 * growable PCM buffer, the resampler (resample.c) and the one door into
 * espeak-ng (espeak.c). Not part of the module's contract (speech.h is). */
#ifndef IA_SPEECH_SPEECH_INT_H
#define IA_SPEECH_SPEECH_INT_H

#include "speech/speech.h"

/* Samples, malloc'd; aborts on OOM like ia_xrealloc. */
typedef struct ia_pcm {
    int16_t *v;
    size_t n, cap;
} ia_pcm;
void ia_pcm_reserve(ia_pcm *p, size_t more);
void ia_pcm_append(ia_pcm *p, const int16_t *s, size_t n);
void ia_pcm_silence(ia_pcm *p, size_t n);
void ia_pcm_free(ia_pcm *p);

/* A streaming resampler of 16-bit mono PCM (libsoxr, high quality, no
 * dither, one thread): the output of a stream pushed in any pieces is the
 * same samples as of the stream pushed whole. end flushes what the filter
 * still holds; the resampler is spent after it. */
typedef struct ia_resampler ia_resampler;
ia_resampler *ia_resampler_new(double in_rate, double out_rate, ia_err *err);
int ia_resampler_push(ia_resampler *r, const int16_t *in, size_t n, ia_pcm *out, ia_err *err);
int ia_resampler_end(ia_resampler *r, ia_pcm *out, ia_err *err);
void ia_resampler_free(ia_resampler *r);

/* espeak-ng's own sample rate (22,050 for Debian's data); starts espeak-ng
 * on first use. -1 with IA_EINTERNAL when it cannot start. */
int ia_espeak_rate(ia_err *err);
/* Speaks one sentence, text[0, len), in espeak-ng language lang (as
 * ia_speech_language resolved it) with voice v, under the lock; appends the
 * native-rate samples to out. cancel (may be NULL) is polled after every
 * buffer espeak-ng fills: IA_ECANCELLED. */
int ia_espeak_say(const char *text, size_t len, const char *lang, const ia_speech_voice *v, atomic_bool *cancel,
                  ia_pcm *out, ia_err *err);

#endif
