/* outputs: a run's media outputs — speech and images — made after its
 * answer (or instead of one, for a model that only speaks or draws).
 * Internal to src/core/; called from the run loop's output step, a thread
 * of its own (loop.c), never the engine's.
 *
 * Each output is a content block of the run's log in output order, as a
 * client reads it live in either dialect: content.start with the item's
 * type and format (mime_type, and for audio sample_rate and channels),
 * then its data in deltas, then content.stop; the item joins the run's
 * outputs whole (data: base64 of all of it). Speech comes as it is made,
 * a sentence at a time, in deltas of whole 3-sample groups, so that each
 * delta's base64 decodes alone and the deltas' texts concatenated are the
 * item's data. An image comes whole in one delta (an engine gives it
 * whole). The events reach the store through the writer as the model's
 * do. */
#ifndef IA_CORE_OUTPUTS_H
#define IA_CORE_OUTPUTS_H

#include "core/run.h"
#include "upstream/images.h"

struct ia_core;
struct ia_tts;

/* The text of conv's user turns' text items, joined by line breaks:
 * what a speech or image model is asked to say or draw (malloc'd; "" when
 * there is none). */
char *ia_outputs_input_text(const ia_conv *input);

/* Speaks text with gen's speech_config voices as one audio output of r:
 * through up (an api=speech upstream, src/upstream/speech.h) when not
 * NULL, else tts (a --speech-model: llama.cpp's speech generation,
 * src/speech/tts.h; gen's seed, else IA_OUTPUTS_TTS_SEED, and its
 * max_output_tokens at 25 tokens a second of audio bound it) when not
 * NULL, else the embedded espeak-ng (src/speech/). Either way the audio
 * streams as deltas while it is made, in fmt's format (an audio response
 * format, src/speech/audiofmt.h; NULL or unset: the engines' own 24 kHz
 * PCM), encoded as it comes; the deltas' texts joined are the item's data
 * (a WAV's stored header alone has its real sizes where the streamed one
 * says "unknown"). Text with nothing to say makes no
 * output. 0, or -1 with err (IA_ECANCELLED when r's cancel flag stopped
 * it). */
#define IA_OUTPUTS_TTS_SEED 1234
int ia_outputs_speech(struct ia_core *c, ia_run *r, const ia_upstream *up, struct ia_tts *tts, const char *text,
                      const ia_gen_config *gen, const ia_audio_fmt *fmt, ia_err *err);

/* Draws q through upstream u (src/upstream/images.h) as image outputs of
 * r, in the order the engine gave them. 0, or -1 with err. */
int ia_outputs_images(struct ia_core *c, ia_run *r, const ia_upstream *u, const ia_image_req *q, ia_err *err);

#endif
