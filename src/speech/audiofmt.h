/* audiofmt: the audio formats speech output can be delivered in (SDK 3.x's
 * AudioResponseFormat: mime_type, sample_rate, bit_rate, delivery), and an
 * encoder that turns the speech engines' PCM into one of them as it is made.
 *
 * Every engine speaks IA_SPEECH_RATE Hz 16-bit mono PCM (speech.h); without
 * a format (or with audio/l16 at that rate) the PCM itself is the output,
 * as Gemini gives it. Any other format goes through Debian's ffmpeg as a
 * child process, fed the PCM on a pipe while the engine runs and read back
 * on another, so a compressed stream is delivered while it is made:
 *   audio/l16      raw 16-bit little-endian PCM ("audio/L16;codec=pcm;rate=R"),
 *                  the rate resampled;
 *   audio/wav      PCM in a RIFF/WAVE file (streamed with the "unknown size"
 *                  header streaming producers write; the stored item's
 *                  sizes are the real ones);
 *   audio/mp3      MPEG-1/2 layer III (libmp3lame), bit_rate default 64 kb/s;
 *   audio/ogg_opus Opus in Ogg ("audio/ogg"), bit_rate default 32 kb/s;
 *   audio/alaw, audio/mulaw  G.711, default 8 kHz (telephony).
 * The output is bit-exact for the same PCM (ffmpeg's +bitexact, no tags). */
#ifndef IA_SPEECH_AUDIOFMT_H
#define IA_SPEECH_AUDIOFMT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "model/types.h"

/* A format resolved: what is sent and how it is made. */
typedef struct ia_audio_spec {
    char mime[48];     /* the output's mime_type ("audio/mp3", "audio/L16;codec=pcm;rate=16000") */
    int rate;          /* its sample rate (the output's sample_rate) */
    int64_t bit_rate;  /* compressed formats: bits a second; else 0 */
    int kind;          /* internal: which row of the format table */
    bool passthrough;  /* the engines' own PCM, unchanged: no encoder */
} ia_audio_spec;

/* Checks f (a client's format: NULL or !f->set means none) and resolves it
 * into *out. Errors name the field under path ("response_format[1]") and
 * what is accepted: IA_EUNIMPLEMENTED for a mime_type or delivery not
 * served, IA_EINVALID for a rate or bit rate the format cannot take. */
int ia_audio_spec_resolve(const ia_audio_fmt *f, const char *path, ia_audio_spec *out, ia_err *err);

typedef struct ia_audio_enc ia_audio_enc;

/* Starts an encoder for spec (not passthrough). NULL with err when ffmpeg
 * cannot be started. */
ia_audio_enc *ia_audio_enc_open(const ia_audio_spec *spec, ia_err *err);
/* Feeds n samples of IA_SPEECH_RATE Hz PCM. -1 with err when the encoder
 * died. */
int ia_audio_enc_write(ia_audio_enc *e, const int16_t *pcm, size_t n, ia_err *err);
/* How many encoded bytes exist so far, and a copy of [from, that) in *out
 * (malloc'd; NULL when none). */
size_t ia_audio_enc_take(ia_audio_enc *e, size_t from, uint8_t **out);
/* Ends the input and waits for the encoder: afterwards take() has every
 * byte. -1 with err when ffmpeg failed. */
int ia_audio_enc_finish(ia_audio_enc *e, ia_err *err);
/* The whole output as it is to be stored (malloc'd, *len): WAV with its
 * real sizes written in. Call after finish. */
uint8_t *ia_audio_enc_stored(ia_audio_enc *e, size_t *len);
/* Stops the child (killed if still running) and frees e. NULL is a no-op. */
void ia_audio_enc_free(ia_audio_enc *e);

#endif
