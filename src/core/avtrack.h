/* avtrack: the audio track of a video, for a model that takes audio, and
 * media in formats libmtmd does not read, through ffmpeg (internal to
 * src/core/). Runs Debian's ffmpeg as a child process on a
 * private temporary copy of the bytes, at most 60 s and 256 MiB of output.
 * Threads: any. */
#ifndef IA_CORE_AVTRACK_H
#define IA_CORE_AVTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* The track as a WAV (16-bit mono PCM at rate Hz; malloc'd). 0 with it,
 * 1 when the video has no audio ffmpeg can read, -1 with err (field named)
 * when ffmpeg cannot run or the file takes too long or too much. */
int ia_audio_track(const uint8_t *data, size_t len, int rate, uint8_t **wav, size_t *wlen, const char *field,
                   ia_err *err);
/* Audio (or an image) in a format libmtmd does not read — AAC, Ogg/Opus,
 * M4A, AIFF; headerless L16 / A-law / mu-law given in_format ("s16be",
 * "alaw", "mulaw") with their rate and channels; TIFF, HEIF ... — as a
 * 16 kHz mono WAV (a PNG). 0 with it, 1 when ffmpeg cannot read it, -1
 * with err. */
int ia_ffmpeg_convert(const uint8_t *data, size_t len, const char *in_format, int in_rate, int in_channels, bool image,
                      uint8_t **out, size_t *out_len, const char *field, ia_err *err);

#endif
