/* membw: this machine's memory read bandwidth, the ceiling on single-stream
 * decode. Decoding one token reads every weight once, so on a CPU that is
 * memory-bound the best possible rate is bandwidth / weight bytes; run.sh
 * divides the measured decode rate by that figure. The buffer (1 GiB by
 * default) is far larger than any cache, it is written once before timing
 * (so pages are faulted in and not the zero page), and each pass sums it
 * with T threads, each over its own contiguous slice, the way ggml's matmul
 * splits rows. The best pass of several is the ceiling (the machine is
 * shared, so the median is also printed).
 *
 *     membw [--mib N] [--threads T] [--passes P]
 *
 * Last line: RESULT threads=T mib=N best_gbs=.. median_gbs=..   (GB = 1e9 B)
 *
 * Build (as run.sh does): cc -O3 -march=native -pthread bench/membw.c -o bench/out/membw */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} slice;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Eight independent accumulators so the loop is bound by loads, not by the
 * add chain; the compiler vectorises it at -O3. */
static void *reader(void *arg) {
    slice *s = arg;
    uint64_t a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= s->n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += s->p[i + k];
    for (; i < s->n; i++) a[0] += s->p[i];
    s->sum = a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
    return NULL;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    size_t mib = 1024;
    int threads = 1, passes = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--mib") == 0 && i + 1 < argc) mib = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--passes") == 0 && i + 1 < argc) passes = atoi(argv[++i]);
        else {
            fputs("usage: membw [--mib N] [--threads T] [--passes P]\n", stderr);
            return 2;
        }
    }
    if (mib < 64 || threads < 1 || threads > 256 || passes < 1 || passes > 100) return 2;
    size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t *buf = aligned_alloc(64, n * sizeof *buf);
    if (!buf) {
        fputs("membw: out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < n; i++) buf[i] = i * 0x9E3779B97F4A7C15ull;

    double *gbs = calloc((size_t)passes, sizeof *gbs);
    slice sl[256];
    pthread_t th[256];
    uint64_t check = 0;
    for (int p = 0; p < passes; p++) {
        size_t per = n / (size_t)threads;
        double t0 = now_s();
        for (int t = 0; t < threads; t++) {
            sl[t].p = buf + (size_t)t * per;
            sl[t].n = t == threads - 1 ? n - (size_t)t * per : per;
            pthread_create(&th[t], NULL, reader, &sl[t]);
        }
        for (int t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
            check += sl[t].sum;
        }
        double dt = now_s() - t0;
        gbs[p] = (double)(n * sizeof *buf) / dt / 1e9;
        printf("pass %d: %.2f GB/s\n", p + 1, gbs[p]);
    }
    double best = 0;
    for (int p = 0; p < passes; p++) best = gbs[p] > best ? gbs[p] : best;
    qsort(gbs, (size_t)passes, sizeof *gbs, cmp_double);
    /* check keeps the sums live, so the reads cannot be optimised away. */
    printf("RESULT threads=%d mib=%zu best_gbs=%.2f median_gbs=%.2f check=%llu\n", threads, mib, best,
           gbs[passes / 2], (unsigned long long)(check & 0xff));
    free(gbs);
    free(buf);
    return 0;
}
