/* filecheck: what decides a Files API upload's state, ACTIVE or FAILED.
 *
 * The media decoders belong to the model that reads a file (a projector,
 * ffmpeg, poppler: core/media.c checks a part when a turn uses it), so the
 * check at upload is what is cheap and certain without one:
 *
 * 1. The mime type (its base type, parameters ignored, any case) must be one
 *    the API takes as input: the image, audio, video and document types the
 *    SDKs declare (3.3.0's lists, a superset of 1.52.0's), their common
 *    aliases (image/jpg, video/quicktime, audio/x-wav, ...), and text
 *    (every text/\* type, application/json, application/xml, JavaScript,
 *    Python). Anything else is refused when the upload starts.
 * 2. The content must match the type: binary types by their signature in
 *    the first bytes (PNG, JPEG, GIF, WebP, BMP, TIFF, HEIF/HEIC, WAV,
 *    AIFF, MP3, AAC, Ogg/Opus, FLAC, M4A/MP4/MOV/3GPP (ISO BMFF), WebM,
 *    MPEG-PS/TS, AVI, FLV, WMV (ASF), JPEG 2000, PDF, ZIP-based office
 *    documents, OLE2 office documents); headerless audio (L16, A-law,
 *    mu-law) only by being non-empty (L16: an even length); text types by
 *    being valid UTF-8 without NUL bytes, over the whole file. An empty file
 *    matches nothing.
 *
 * The content check is streamed: feed the file in pieces, in order (core
 * feeds it from the same pass that computes the SHA-256), then finish. No
 * allocation; the state is a plain struct. */
#ifndef IA_CORE_FILECHECK_H
#define IA_CORE_FILECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    IA_MEDIA_NONE = 0, /* not a type the API takes */
    IA_MEDIA_IMAGE,
    IA_MEDIA_AUDIO,
    IA_MEDIA_VIDEO,
    IA_MEDIA_DOCUMENT,
    IA_MEDIA_TEXT,
} ia_media_kind;

/* The kind of mime type s ("Image/PNG; x=y" is image/png). base, when not
 * NULL, receives the lowercased base type ("" for a malformed one). */
ia_media_kind ia_filecheck_kind(const char *s, char base[64]);
/* The accepted types in a few words, for error messages (static). */
const char *ia_filecheck_accepted(void);

#define IA_FILECHECK_HEAD 1040 /* first bytes kept: a PDF header may sit within 1,024 */
typedef struct ia_filecheck {
    char base[64];
    ia_media_kind kind;
    int sig;                   /* which signature check applies */
    uint8_t head[IA_FILECHECK_HEAD];
    size_t head_len;
    int64_t total;             /* bytes fed */
    /* text: a streaming UTF-8 check */
    int need;                  /* continuation bytes still due */
    uint8_t lo, hi;            /* the range of the next continuation byte */
    int64_t bad_at;            /* offset of the first bad byte; -1 none */
    bool nul;                  /* that byte is a NUL */
} ia_filecheck;

void ia_filecheck_init(ia_filecheck *c, const char *mime);
void ia_filecheck_feed(ia_filecheck *c, const void *p, size_t n);
/* 0 when the content matches its type; -1 with why not in msg (a sentence
 * naming the type and what was expected). */
int ia_filecheck_finish(ia_filecheck *c, char *msg, size_t cap);

#endif
