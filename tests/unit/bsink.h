/* bsink: what the engine tests' jobs deliver — their text and result,
 * with waits for their start and end, and an optional gate that holds a
 * job's engine thread in on_start until the test opens it. Shared by the
 * engine test files. */
#ifndef IA_TESTS_UNIT_BSINK_H
#define IA_TESTS_UNIT_BSINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "engine/engine.h"
#include "lib/util.h"

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, started;
    bool gated, gate_open; /* gated: on_start holds the job's engine thread until the gate opens */
    atomic_bool *cancel_on_start;
    ia_buf text;
    ia_engine_result res;
} bsink;

void bs_init(bsink *s);
void bs_free(bsink *s);
void bs_start(void *ud, int64_t n);
void bs_wait_started(bsink *s);
void bs_open(bsink *s);
/* on_item: the text item's deltas into text. */
int bs_item(void *ud, const ia_engine_item *it);
void bs_done(void *ud, const ia_engine_result *res);
void bs_wait(bsink *s);
int bs_submit(ia_engine *e, const ia_engine_msg *m, size_t n, const ia_engine_params *p, bsink *s,
              atomic_bool *cancel);
/* A model on `contexts` contexts of one thread (or NULL, said why). */
ia_engine *load_ctx(const char *path, const char *name, int parallel, int contexts, bool cold,
                    const char *dir, int64_t ram);

#endif
