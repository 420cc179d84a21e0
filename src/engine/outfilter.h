/* outfilter: turns a model's raw output bytes, token piece by token piece,
 * into the text a client may see. It holds back (1) any tail that could be
 * the beginning of a stop sequence, until the next pieces decide, and (2) a
 * multi-byte UTF-8 character split across tokens, until it is whole. A stop
 * sequence ends the output and is itself never emitted. What it emits is
 * always valid UTF-8 (junk bytes become U+FFFD). Used by the engine thread;
 * one filter per job; no locking. */
#ifndef IA_ENGINE_OUTFILTER_H
#define IA_ENGINE_OUTFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

/* Receives emitted text; returns nonzero to stop the generation. */
typedef int (*ia_outfilter_sink)(void *ud, const char *text, size_t len);

typedef struct ia_outfilter {
    const char *const *stop; /* borrowed; empty strings are ignored */
    size_t n_stop;
    ia_outfilter_sink sink;  /* NULL: text is dropped */
    void *ud;
    ia_buf pend;             /* bytes received, not yet emitted */
    bool done;               /* a stop sequence matched, or the sink said stop */
} ia_outfilter;

enum {
    IA_OUTFILTER_OK = 0,       /* keep generating */
    IA_OUTFILTER_STOP_SEQ = 1, /* a stop sequence matched: finish STOP */
    IA_OUTFILTER_STOPPED = 2,  /* the sink returned nonzero: finish CANCELLED */
};

void ia_outfilter_init(ia_outfilter *f, const char *const *stop, size_t n_stop,
                       ia_outfilter_sink sink, void *ud);
/* Adds len bytes of output; emits what can no longer be part of a stop
 * sequence or a split character. Returns one of the IA_OUTFILTER_ values;
 * after a non-OK result further pushes are ignored. */
int ia_outfilter_push(ia_outfilter *f, const char *text, size_t len);
/* End of output: emits everything still held (sanitized). Returns
 * IA_OUTFILTER_OK or IA_OUTFILTER_STOPPED; a no-op once done. */
int ia_outfilter_flush(ia_outfilter *f);
void ia_outfilter_free(ia_outfilter *f);

#endif
