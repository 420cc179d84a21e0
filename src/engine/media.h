/* media: images, audio and video in a prompt, through libmtmd (internal to
 * src/engine/).
 *
 * A model served with a projector (--mmproj) has an ia_mm. A media part of
 * a message becomes, in the job's prompt, the tokens the projector's family
 * wraps it in (Gemma 3's <start_of_image> ... <end_of_image>) and one
 * placeholder token per embedding position: a negative id (never a real
 * token) drawn from a SHA-256 of the part's bytes and the projector, so
 * that prefix matching — kept sequences, the RAM and disk cache, also
 * after a restart — compares media by content and never runs the encoder
 * again for a cached prefix. Such a run of placeholders is a span: the
 * scheduler decodes it whole (encode, then the embeddings into the
 * sequence) at its place in the prefill, and a reused prefix never ends
 * inside one.
 *
 * Threads: tokenizing (decoding the file, the projector's preprocessing) is
 * safe on any thread; the encoder is not, so ia_mm_eval holds the model's
 * mm lock across encode and decode (one media part at a time per model). */
#ifndef IA_ENGINE_MEDIA_H
#define IA_ENGINE_MEDIA_H

#include <llama.h>
#include <stdbool.h>

#include "engine/engine.h"
#include "lib/err.h"

typedef struct ia_mm ia_mm;
struct mtmd_input_chunk;

/* A run of prompt tokens standing for one media chunk (chunk != NULL:
 * decoded through libmtmd) or for a document's text (chunk NULL: plain
 * tokens, kept only for the usage count). A run takes n_pos positions in
 * its sequence: n, except where the model places media with M-RoPE (Qwen-VL:
 * an image of nx by ny tokens takes max(nx, ny)), so that a token's
 * position is its index less what the runs before it saved (ia_mspans_pos). */
typedef struct ia_mspan {
    int start, n, n_pos;
    ia_modality mod;
    bool media;                     /* decoded through libmtmd (else a document's text) */
    struct mtmd_input_chunk *chunk; /* media not decoded yet (freed once it is in the KV) */
} ia_mspan;

/* Loads the projector for model; NULL + err on failure (also for a
 * projector whose positions this engine cannot keep: M-RoPE). */
ia_mm *ia_mm_load(const char *path, const struct llama_model *model, int threads, ia_err *err);
void ia_mm_free(ia_mm *mm);
bool ia_mm_takes(const ia_mm *mm, ia_modality m);
/* Most tokens one media chunk may have that must be decoded in one batch
 * (a non-causal image): the contexts' batch is made at least this wide. */
int ia_mm_batch_min(const ia_mm *mm);
/* The smallest batch (n_ubatch) of the model's contexts, once made. */
void ia_mm_set_batch(ia_mm *mm, int batch);
int ia_mm_check(ia_mm *mm, const ia_engine_media *m, const char *field, ia_err *err);
/* The tokens of media part m appended to the prompt so far, *toks (count
 * *n, capacity *cap), its spans (prompt indexes) to *spans; a video is
 * sampled to fit budget tokens (the context). */
int ia_mm_tokenize(ia_mm *mm, const struct llama_vocab *v, const ia_engine_media *m, int budget, llama_token **toks,
                   int *n, int *cap, ia_mspan **spans, int *n_spans, ia_err *err);
/* Decodes span sp into ctx's sequence seq at position pos (the encoder,
 * then the embeddings; sp->n tokens at sp->n_pos positions). 0, or -1 with
 * err. */
int ia_mm_eval(ia_mm *mm, struct llama_context *ctx, const ia_mspan *sp, int pos, llama_seq_id seq, ia_err *err);
void ia_mspans_free(ia_mspan *spans, int n);
/* Frees the chunks of the media spans wholly within the first n tokens
 * (in the KV already: never encoded again). */
void ia_mspans_drop_before(ia_mspan *spans, int n_spans, int n);
/* Where a reused prefix of `reuse` tokens must end so that it does not cut
 * a span: the span's start when it falls inside one. */
int ia_mspans_snap(const ia_mspan *spans, int n, int reuse);
/* The position of the token at prompt index idx (not inside a span): idx
 * less the positions the spans before it do not take. Positions, not
 * indexes, are what the KV cache's sequence operations and a batch take. */
int ia_mspans_pos(const ia_mspan *spans, int n, int idx);

#endif
