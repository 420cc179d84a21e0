/* tts: natural voices in process — llama.cpp's own speech generation
 * (libmtmd's gen-audio API and its helper pipeline: Qwen3-TTS, PocketTTS)
 * behind a model name, configured with `serve --speech-model`.
 *
 * A spec is NAME=BACKBONE.gguf[,mmproj=FILE][,speaker=REF.wav]
 * [,voice=VOICE:REF.wav]...: the backbone GGUF, its speech projector (the
 * caller finds one beside the backbone when mmproj= is not given), the
 * speaker reference audio of the default voice, and one per named voice
 * (a request's speech_config voice, any case; an unknown name gets the
 * default). Paths hold no commas. ia_tts_spec_parse is pure (fuzzed).
 *
 * Loading (ia_tts_open): the backbone with embeddings on and its own
 * context, the projector, a check that the projector generates audio, and
 * the reference files decoded (WAV, MP3, FLAC) and checked against a
 * projector that can encode a voice. Any failure is an error naming what
 * failed; the caller names the flag.
 *
 * Speaking (ia_tts_speak): the text is cut into turns as espeak-ng's are
 * (ia_speech_split: one voice per speaker, IA_SPEECH_TURN_PAUSE_MS of
 * silence between turns). Each turn is one run of llama.cpp's pipeline:
 * the prompt, then one frame at a time, the PCM collected every
 * IA_TTS_FLUSH_FRAMES frames, made 16-bit and resampled to
 * IA_SPEECH_RATE with libsoxr when the model speaks at another rate, and
 * handed to on_pcm as it comes. cancel is polled between frames. A turn
 * ends at the model's end of speech, at the pipeline's own budget, or at
 * max_frames over the whole text. The language (speech_config.language,
 * its primary subtag) goes to pipelines that take one (Qwen3-TTS); the
 * seed makes generation deterministic (same text, voice and seed: the
 * same samples).
 *
 * Threads: a model has one context; a turn holds the model's lock, so two
 * requests for one model take turns (turn by turn), and requests for two
 * models run side by side. Everything else is reentrant. */
#ifndef IA_SPEECH_TTS_H
#define IA_SPEECH_TTS_H

#include <stdatomic.h>
#include <stdint.h>

#include "speech/speech.h"

#define IA_TTS_MAX_VOICES 8
#define IA_TTS_FLUSH_FRAMES 4  /* frames of audio decoded and sent at once */
#define IA_TTS_MAX_FRAMES 1500 /* a request's cap without max_output_tokens */

typedef struct ia_tts_voice {
    char *name; /* NULL: the default voice */
    char *file;
} ia_tts_voice;

typedef struct ia_tts_spec {
    char *name, *model, *mmproj; /* mmproj NULL: not given */
    ia_tts_voice voices[IA_TTS_MAX_VOICES + 1];
    size_t n_voices;
} ia_tts_spec;

/* Parses spec into out (all malloc'd; ia_tts_spec_free). -1 with
 * IA_EINVALID saying what is wrong. */
int ia_tts_spec_parse(const char *spec, ia_tts_spec *out, ia_err *err);
void ia_tts_spec_free(ia_tts_spec *s);

typedef struct ia_tts ia_tts;

/* Loads spec (spec->mmproj must be set; taken over: spec is emptied).
 * threads: CPU threads of the context and the projector (0: 1). */
ia_tts *ia_tts_open(ia_tts_spec *spec, int threads, ia_err *err);
void ia_tts_free(ia_tts *t);
const char *ia_tts_name(const ia_tts *t);
/* "pockettts 24000 Hz, 2 voices" for the start-up log; static buffer per t. */
const char *ia_tts_describe(const ia_tts *t);

/* The loaded models, by name. */
typedef struct ia_tts_set {
    ia_tts **v;
    size_t n;
} ia_tts_set;
ia_tts *ia_tts_find(const ia_tts_set *s, const char *name);
void ia_tts_set_free(ia_tts_set *s);

/* Speaks req (see above). max_frames <= 0: IA_TTS_MAX_FRAMES. 0, or -1:
 * IA_ECANCELLED (cancel set or on_pcm non-zero), IA_EINTERNAL (the
 * pipeline failed: its message). */
int ia_tts_speak(ia_tts *t, const ia_speech_req *req, int64_t max_frames, uint32_t seed, ia_speech_pcm_fn on_pcm,
                 void *ud, atomic_bool *cancel, ia_err *err);

#endif
