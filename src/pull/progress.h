/* progress: what `interactd pull` shows while a file comes in. On a
 * terminal (isatty) one bar redrawn in place at most 10 times a second:
 * "NAME  42% [=======>      ] 1.2 GiB / 2.9 GiB  35.1 MiB/s  ETA 0:48";
 * otherwise (a log, a pipe, a test) plain lines, one per 10% (or per 10 s
 * when the size is unknown): "NAME: 1234 / 5678 bytes (21%), 3.0 MiB/s,
 * ETA 12 s". The rate counts this run's bytes only, not those resumed. */
#ifndef IA_PULL_PROGRESS_H
#define IA_PULL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ia_progress {
    FILE *out;
    bool tty;
    const char *name;
    int64_t start_ms, last_ms, first_done; /* first_done: -1 before the first report */
    int64_t last_done;                     /* the last figure shown, -1: none */
    int last_step;                         /* the last tenth (or 10 s) reported */
} ia_progress;

void ia_progress_init(ia_progress *p, FILE *out, const char *name);
/* An ia_dl_progress: done of total bytes (total -1: unknown). */
void ia_progress_update(void *p, int64_t done, int64_t total);
/* Ends the bar's line (terminal) with the final figure. */
void ia_progress_done(ia_progress *p, int64_t bytes);
/* "1.2 GiB" into buf */
const char *ia_progress_bytes(int64_t n, char *buf, size_t cap);

#endif
