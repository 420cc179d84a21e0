/* fs_ingest: a document's bytes made into the chunks file search indexes.
 * Pure over bytes (no store, no I/O), so it is unit-tested and fuzzed.
 *
 * Formats: text/plain and other text/ types as UTF-8 (text/markdown kept as
 * written: its marks are words too), text/html and application/xhtml+xml
 * through libxml2's HTML parser (tools/html.h: scripts and styles dropped),
 * application/pdf through poppler (core/pdf.h: each page's text). Anything
 * else is refused with IA_EINVALID naming the type and the ones taken
 * (core/fsearch.c checks the type before a document exists: a 400).
 *
 * Chunking (chunkingConfig.whiteSpaceConfig): tokens are approximated by
 * white-space separated words; a chunk holds at most max_tokens words and
 * starts overlap words before the previous one ended. Defaults: 200 words,
 * 20 overlap; limits: 1..2048 words, overlap at most half of max_tokens.
 * A chunk's offsets are bytes of the extracted text, its text the words as
 * they stand there (white space between them kept). Bounds against a
 * document made to blow up: a chunk holds at most IA_FS_CHUNK_BYTES (a
 * longer word is cut), a document makes at most IA_FS_MAX_CHUNKS chunks
 * holding at most IA_FS_CHUNK_GROWTH times its text; past them it fails. */
#ifndef IA_CORE_FS_INGEST_H
#define IA_CORE_FS_INGEST_H

#include <stddef.h>

#include "lib/err.h"
#include "model/fsearch.h"

#define IA_FS_CHUNK_DEFAULT 200
#define IA_FS_OVERLAP_DEFAULT 20
#define IA_FS_CHUNK_MAX 2048
#define IA_FS_CHUNK_BYTES ((size_t)64 << 10)
#define IA_FS_MAX_CHUNKS 100000
#define IA_FS_CHUNK_GROWTH 4
/* The largest document taken (bytes of the file, as Google's 100 MB). */
#define IA_FS_DOC_MAX ((int64_t)100 << 20)

/* true for a mime type ia_fs_extract takes (parameters ignored). */
bool ia_fs_mime_ok(const char *mime);
/* The text of data[0..len) read as mime (malloc'd, NUL-terminated, valid
 * UTF-8). -1 with err (IA_EINVALID naming the type, or the PDF's fault). */
int ia_fs_extract(const char *mime, const unsigned char *data, size_t len, char **text, ia_err *err);
/* Checks a chunking config (0 fields take the defaults): -1 with err naming
 * chunkingConfig.whiteSpaceConfig.FIELD when out of range. */
int ia_fs_chunking_check(const ia_fs_chunking *c, ia_err *err);
/* The chunks of text under c (checked; 0 fields: defaults). *out malloc'd
 * (free with ia_fs_chunks_free); text with no word gives none. -1 with err
 * (IA_EINVALID naming chunkingConfig) past the bounds above, none kept. */
int ia_fs_chunk_text(const char *text, const ia_fs_chunking *c, ia_fs_chunk **out, size_t *n, ia_err *err);

#endif
