/* speech: text to speech for `response_modalities: ["AUDIO"]` — the
 * embedded engine, espeak-ng in process, behind the Gemini voice names.
 * It knows the dialect-free ia_speech_cfg (model/types.h) and nothing of
 * runs, events or the wire; the caller (core, once it is hooked up) turns
 * what comes out into audio items and deltas.
 *
 * Output: 16-bit signed mono PCM at IA_SPEECH_RATE (24,000 Hz, what Gemini's
 * TTS models send and the guide's wave_file() writes), host byte order in
 * memory; ia_speech_pcm_b64 gives the wire form (base64 of little-endian
 * samples) and IA_SPEECH_MIME its mime_type. espeak-ng speaks at its own
 * rate (22,050 Hz); libsoxr resamples (a real band-limited resampler:
 * linear interpolation would alias the sibilants).
 *
 * Voices: each of Gemini's 30 prebuilt voice names maps to one espeak-ng
 * voice variant (female names to female variants, male to male, after the
 * genders Google's voice list gives) with its own base pitch, pitch range
 * and speed, so that any two names sound different; the table is in
 * voices.c. A name is matched in any case ("kore" is Kore, as the guide
 * writes it). No voice: IA_SPEECH_DEFAULT_VOICE.
 *
 * Languages: a BCP-47 tag ("en-US", "pt-BR", "de-DE", any case, '_' read
 * as '-') picks espeak-ng's language of that tag, else of its primary
 * subtag ("de-DE" is spoken as "de"); a tag whose language espeak-ng does
 * not speak is refused (a 400 naming the field), never spoken with the
 * wrong phonetics. No language: IA_SPEECH_DEFAULT_LANGUAGE (Gemini detects
 * the language from the text; espeak-ng cannot).
 *
 * Several speakers: the text is a transcript whose lines start with a
 * speaker's name and a colon ("Alice: Hi Bob"). ia_speech_split cuts it
 * into turns at those labels (the label itself is not spoken); a line
 * without a label continues the turn before it, and text before the first
 * label is spoken with the first entry's voice. Each turn is spoken with
 * its speaker's voice and language, turns separated by
 * IA_SPEECH_TURN_PAUSE_MS of silence. With one entry, labels of its
 * speaker (if it names one) are cut the same way.
 *
 * Streaming: a turn is spoken one sentence at a time (ia_speech_sentence:
 * up to a '.', '!', '?' or ';' and the blanks after it, a line break, or
 * IA_SPEECH_SEGMENT_MAX bytes cut at a blank), and each sentence's audio is
 * handed to on_pcm as soon as it is made, in pieces of at most
 * IA_SPEECH_CHUNK_MAX samples: a client plays the first sentence while
 * the rest is made. The chunks, concatenated, are the whole audio.
 *
 * Threads: espeak-ng keeps its voice, parameters and synthesis state in
 * globals and is not thread-safe, so every call into it holds one
 * process-wide lock, taken for one sentence at a time (a long text on one
 * thread lets other threads' sentences in between; the voice is set again
 * each time). on_pcm is called without the lock held, on the caller's
 * thread. espeak-ng is initialized on first use (a few ms, once) and never
 * terminated. Everything else here is reentrant.
 *
 * Determinism: espeak-ng adds a pitch "flutter" from a table whose position
 * it keeps across calls, so the same text spoken twice differs slightly
 * (durations within a fraction of a percent); the resampler itself is
 * exact and deterministic.
 *
 * Errors: functions return 0, or -1 with err filled; messages about the
 * request name the field under "generation_config.speech_config". */
#ifndef IA_SPEECH_SPEECH_H
#define IA_SPEECH_SPEECH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "model/types.h"

#define IA_SPEECH_RATE 24000
#define IA_SPEECH_CHANNELS 1
/* The mime_type of Gemini's TTS audio: raw 16-bit PCM, its rate named. */
#define IA_SPEECH_MIME "audio/L16;codec=pcm;rate=24000"
#define IA_SPEECH_DEFAULT_VOICE "Kore"
#define IA_SPEECH_DEFAULT_LANGUAGE "en-US"
#define IA_SPEECH_TURN_PAUSE_MS 300
#define IA_SPEECH_CHUNK_MAX 24000 /* samples: one second a delta at most */
#define IA_SPEECH_SEGMENT_MAX 600 /* bytes of text spoken under the lock at once */

/* ---- voices (voices.c; pure) ---------------------------------------------- */

/* One prebuilt voice and the espeak-ng voice it is spoken with. */
typedef struct ia_speech_voice {
    const char *name;    /* Gemini's spelling: "Kore" */
    const char *trait;   /* Google's one-word character: "Firm" */
    bool female;         /* the gender of Google's voice */
    const char *variant; /* espeak-ng voice variant (voices/!v/NAME) */
    int pitch, range;    /* espeakPITCH / espeakRANGE, 0..100 */
    int rate;            /* espeakRATE, words per minute */
} ia_speech_voice;

size_t ia_speech_voice_count(void);              /* 30 */
const ia_speech_voice *ia_speech_voice_at(size_t i);
/* The voice called name in any case; NULL if none is. */
const ia_speech_voice *ia_speech_voice_find(const char *name);
/* "Zephyr, Puck, ..." for an error message. */
const char *ia_speech_voice_names(void);

/* ---- model names (voices.c; pure) ------------------------------------------ */

/* Whether a request's model names the embedded speech engine: Gemini's
 * TTS model names (gemini-2.5-flash-preview-tts, gemini-2.5-pro-preview-tts,
 * gemini-3.1-flash-tts-preview), so the guide's requests run unchanged, and
 * "espeak". Such a model speaks its input. */
bool ia_speech_model(const char *name);
/* Those names, "a, b, c", for error messages. */
const char *ia_speech_model_names(void);

/* ---- languages (espeak.c) ------------------------------------------------- */

/* Whether espeak-ng speaks the BCP-47 tag; on 0, out holds espeak-ng's
 * language code for it ("pt-br", "de"). -1 (err: IA_EINVALID naming path)
 * for a malformed tag or a language espeak-ng lacks, IA_EINTERNAL when
 * espeak-ng cannot start (its data folder missing). Takes the lock. */
int ia_speech_language(const char *tag, const char *path, char out[32], ia_err *err);

/* ---- transcripts (split.c; pure) ------------------------------------------ */

/* One turn: the text text[off, off + len) (its label cut off) spoken with
 * the voice of cfg entry `entry` (0 with no cfg). */
typedef struct ia_speech_turn {
    size_t entry, off, len;
} ia_speech_turn;
/* The turns of text[0, len) for cfg (NULL or n == 0: one voice, no
 * labels); *out malloc'd (NULL when *n == 0). Turns with nothing but blanks
 * are left out. Never fails but for memory (which aborts). */
void ia_speech_split(const char *text, size_t len, const ia_speech_cfg *cfg, ia_speech_turn **out, size_t *n);
/* The length of the first sentence of s[0, len) (see Streaming above);
 * len when s is one sentence. Cuts on a UTF-8 character boundary. */
size_t ia_speech_sentence(const char *s, size_t len);

/* ---- synthesis (synth.c) --------------------------------------------------- */

typedef struct ia_speech_req {
    const char *text; /* UTF-8; the transcript for several speakers */
    size_t len;
    const ia_speech_cfg *cfg; /* NULL = the default voice and language */
} ia_speech_req;

/* Receives n > 0 samples at IA_SPEECH_RATE; non-zero stops the synthesis
 * (ia_speech_synth then fails with IA_ECANCELLED). */
typedef int (*ia_speech_pcm_fn)(void *ud, const int16_t *pcm, size_t n);

/* Speaks req, handing the audio to on_pcm as it is made. cancel (may be
 * NULL) is polled between espeak-ng's buffers (~50 ms of audio): once set,
 * synthesis stops within one buffer and this fails with IA_ECANCELLED.
 * The cfg is checked again (voices, languages, speaker count: IA_EINVALID),
 * before any audio. Text with nothing to say gives no chunk and 0. */
int ia_speech_synth(const ia_speech_req *req, ia_speech_pcm_fn on_pcm, void *ud, atomic_bool *cancel,
                    ia_err *err);
/* The check ia_speech_synth makes of cfg (NULL: the defaults) before any
 * audio: each voice one of the 30 (IA_EINVALID "FIELD.voice: unknown voice
 * 'X' (one of ...)"), each language one espeak-ng speaks, at most
 * IA_SPEECH_MAX_SPEAKERS entries. Core calls it on a create whose speech
 * is this engine's (the API accepts any voice name: an upstream engine
 * has its own). Takes the lock. 0 / -1. */
int ia_speech_check(const ia_speech_cfg *cfg, ia_err *err);
/* The same, collected: *pcm malloc'd (NULL when *n == 0). */
int ia_speech_synth_all(const ia_speech_req *req, atomic_bool *cancel, int16_t **pcm, size_t *n, ia_err *err);

/* ---- the wire form (synth.c; pure) ----------------------------------------- */

/* base64 (standard, padded) of the samples as little-endian 16-bit bytes,
 * the `data` of an audio item or delta; malloc'd, NUL-terminated. Whole
 * samples per chunk, so the decoded deltas concatenate to the audio. */
char *ia_speech_pcm_b64(const int16_t *pcm, size_t n);

#endif
