/* seqstate.h: one sequence's KV state in a form every context of the
 * model takes, whatever its number of KV streams.
 *
 * llama.cpp writes a sequence's state as, per KV cache (one, or two for a
 * sliding-window model), the cache's stream count, then each stream's cell
 * count and cells; it reads back only into a context with the same stream
 * count. Contexts here have one stream per slot and differ in slots (the
 * load-following layout's context 0 holds them all), so a state is kept
 * in a neutral form: llama.cpp's bytes behind a small header that says
 * where each cache's one non-empty stream lies; a context with the same
 * stream count reads the bytes as they are, another gets them rebuilt
 * with its own count.
 *
 * With streams false (a unified cache, as for recurrent models) the
 * bytes are llama.cpp's own, unchanged. Thread safety: as llama.cpp's
 * state calls (the caller holds the context). */
#ifndef IA_ENGINE_SEQSTATE_H
#define IA_ENGINE_SEQSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llama.h"

/* Sequence seq's state, malloc'd (ia_xmalloc_big); NULL when it has none
 * or it cannot be read. *size: its bytes. */
uint8_t *ia_seqstate_get(struct llama_context *ctx, int seq, bool streams, size_t *size);

/* Puts a state from ia_seqstate_get (of any context of the same model and
 * the same streams setting) into sequence seq, which the caller emptied.
 * False when it does not load (seq is then left empty by llama.cpp). */
bool ia_seqstate_set(struct llama_context *ctx, int seq, bool streams, const uint8_t *buf, size_t size);

/* Whether the model's KV memory is one this form knows (a plain or a
 * sliding-window cache: one or two sections of streams), probed on a small
 * context of two streams; false for other memories (e.g. a sparse
 * attention's indexer cache beside the KV), which then keep one unified
 * cache. */
bool ia_seqstate_streams_ok(struct llama_model *model);

#endif
