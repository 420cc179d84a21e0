/* pace: how a worker decodes a step whose batch is exactly two sequences'
 * next tokens — as one batch of two, or as two decodes of one — chosen by
 * the step times the worker itself measures.
 *
 * Why: on the CPU backend a batch of two single-token sequences can cost
 * more than two batches of one (bench/RESULTS.md: 135M Q8_0, one thread,
 * 99 tokens/s together against 141 alone; the matmul path for two rows is
 * slower than the one for one row or for four), while on other hardware
 * the pair is nearly free. So no fixed rule: the worker keeps a running
 * average of both decode times at its current thread count, and splits the
 * pair while two single decodes are the cheaper, re-trying the other way
 * now and then in case the machine changed. Worker thread only. */
#ifndef IA_ENGINE_PACE_H
#define IA_ENGINE_PACE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ia_pace {
    double us1, us2;    /* average decode time of 1 and of 2 single-token sequences; 0 = unknown */
    int threads;        /* the thread count they were measured at */
    unsigned decisions;
} ia_pace;

/* The thread count decodes run with from now on: a change forgets the times. */
void ia_pace_set_threads(ia_pace *p, int threads);
/* Whether to decode two single-token sequences one at a time. */
bool ia_pace_split_pair(ia_pace *p);
/* A decode of n_tokens single-token sequences (no prompt) took us. */
void ia_pace_record(ia_pace *p, int n_tokens, int64_t us);
int64_t ia_pace_now_us(void);

#endif
