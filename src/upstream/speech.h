/* speech (upstream): speech output from an engine outside this process
 * that speaks OpenAI's /v1/audio/speech — Kokoro-FastAPI, Piper's OpenAI
 * servers, LocalAI — configured as `--upstream NAME=URL,api=speech
 * [,model=REMOTE][,voice=VOICE][,key=KEY][,timeout=SECONDS]` (upstream.h).
 * core's media step calls it instead of the embedded engine (src/speech/)
 * when the run's model is such an upstream's NAME.
 *
 * The exchange: POST {URL}/v1/audio/speech with a bearer key when set and
 *     {"model": REMOTE (default NAME), "input": text, "voice": VOICE,
 *      "response_format": "pcm"}
 * OpenAI's "pcm" is raw 24 kHz 16-bit little-endian mono: the embedded
 * engine's output format exactly (IA_SPEECH_RATE, IA_SPEECH_MIME), so the
 * bytes pass through unchanged. The body is read as it arrives and handed
 * to on_pcm in whole samples (an odd byte at a piece's end is carried to
 * the next; one left at the very end is dropped), so a client hears the
 * first words while the engine still speaks.
 *
 * Voices: VOICE is the request's speech_config voice as given (the
 * engine's own names: "af_heart", "en_US-lessac-medium", ...; not checked
 * here, the engine refuses what it lacks), else the upstream's voice=,
 * else "alloy". A speech_config language is not sent (OpenAI's API has no
 * such field: the voice implies it).
 *
 * Several speakers: OpenAI's API has none, so the transcript is cut into
 * turns as the embedded engine does (ia_speech_split: "Alice: ..." lines)
 * and each turn is one request with its speaker's voice, in order, the
 * turns joined by IA_SPEECH_TURN_PAUSE_MS of silence.
 *
 * Errors, each message starting "upstream 'NAME': " (images.h's table):
 * 400 / 422 from the engine: IA_EINVALID quoting its message; 429 / 503:
 * IA_ERATELIMIT / IA_EOVERLOADED with its Retry-After; unreachable:
 * IA_EOVERLOADED; no answer within timeout= (each request): IA_EDEADLINE;
 * 401/403, other statuses, a redirect, a cut answer: IA_EUPSTREAM. The
 * cancel flag set (polled by the transfer), or on_pcm returning non-zero:
 * the transfer is aborted, IA_ECANCELLED. Audio already handed on stays
 * handed on.
 *
 * Threads: blocks its caller; may run in many threads at once. */
#ifndef IA_UPSTREAM_SPEECH_H
#define IA_UPSTREAM_SPEECH_H

#include <stdatomic.h>

#include "lib/err.h"
#include "model/types.h"
#include "speech/speech.h"
#include "upstream/upstream.h"

#define IA_UPSTREAM_SPEECH_DEFAULT_VOICE "alloy"
#define IA_UPSTREAM_SPEECH_PATH "/v1/audio/speech"

/* Speaks text (UTF-8; a transcript with several speakers) through u (an
 * api=speech upstream) with cfg's voices (NULL or n == 0: the default),
 * handing the samples to on_pcm as they come. Text with nothing to say
 * sends no request and gives 0. cancel may be NULL. 0 / -1. */
int ia_upstream_speak(const ia_upstream *u, const char *text, const ia_speech_cfg *cfg, ia_speech_pcm_fn on_pcm,
                      void *ud, atomic_bool *cancel, ia_err *err);

#endif
