/* pace.c: the pair-split choice of pace.h, from running averages of the
 * worker's own decode times. */
#include "engine/pace.h"

#include <time.h>

/* Every EXPLORE_EVERY-th choice goes the other way, so a stale average
 * (the machine got busier or quieter) is measured again. */
#define EXPLORE_EVERY 64
/* New measurements weigh this much in the running average. */
#define ALPHA 0.2

int64_t ia_pace_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ia_pace_set_threads(ia_pace *p, int threads) {
    if (p->threads == threads) return;
    p->threads = threads;
    p->us1 = p->us2 = 0;
}

bool ia_pace_split_pair(ia_pace *p) {
    if (p->us2 <= 0) return false; /* measure the pair first */
    if (p->us1 <= 0) return true;  /* then one alone */
    bool split = p->us2 > 2.0 * p->us1;
    if (++p->decisions % EXPLORE_EVERY == 0) split = !split;
    return split;
}

void ia_pace_record(ia_pace *p, int n_tokens, int64_t us) {
    double *avg = n_tokens == 1 ? &p->us1 : n_tokens == 2 ? &p->us2 : NULL;
    if (!avg || us <= 0) return;
    *avg = *avg > 0 ? (1 - ALPHA) * *avg + ALPHA * (double)us : (double)us;
}
