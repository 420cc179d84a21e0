/* media: image, audio, video and document items made ready for the model
 * (internal to src/core/).
 *
 * Where the bytes come from: `data` (base64) as sent; an http(s) `uri`,
 * fetched once when the item is sent (lib/fetch.h: size and time limits,
 * no private addresses unless allowed) and kept with the interaction
 * (ia_content.fetched), so a chain replays the same bytes; a Files API URI,
 * read from the caller's own ACTIVE file at every turn. What the model
 * gets (ia_content.parts): an image, audio or video file as it is (the
 * engine decodes it through libmtmd), a text document as its text. A
 * part the model cannot take, or bytes that do not decode, are a 400
 * naming the item (`input[1].data`) before anything is stored.
 *
 * Threads: any (called on the create's thread). */
#ifndef IA_CORE_MEDIA_H
#define IA_CORE_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "model/types.h"
#include "engine/engine.h"
#include "lib/err.h"

struct ia_files;

typedef struct ia_media_opts {
    struct ia_files *files;  /* Files API URIs; NULL: none served */
    int64_t max_bytes;       /* a fetched uri or a file; 0 = 20 MiB / the file's own limit */
    int timeout_ms;          /* a uri's fetch; 0 = 30 s */
    bool allow_private;      /* --allow-private-urls */
    const char *allow_addrs; /* hosts allowed all the same (lib/fetch.h) */
} ia_media_opts;

/* The new input's media: first, each must be one the model takes (a 400
 * naming it and what the model takes); then a Files URI must name an
 * ACTIVE file of owner, an http(s) uri is fetched into item->fetched. */
int ia_media_fetch(const ia_media_opts *o, ia_engine *eng, const char *owner, ia_conv *input, ia_err *err);
/* Every media item of conv's user turns made ready (item->parts) and
 * checked against the model: the bytes of those with a path (the new
 * input) are decoded as the engine will. A model turn's media (its own
 * speech or images) are left out of the prompt. */
int ia_media_prepare(const ia_media_opts *o, ia_engine *eng, const char *owner, ia_conv *conv, ia_err *err);

#endif
