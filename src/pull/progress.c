/* progress.c: the pull's progress bar and lines (progress.h). */
#include "pull/progress.h"

#include <string.h>
#include <unistd.h>

#include "lib/util.h"

void ia_progress_init(ia_progress *p, FILE *out, const char *name) {
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = isatty(fileno(out));
    p->name = name;
    p->start_ms = ia_mono_ms();
    p->first_done = -1;
    p->last_step = -1;
    p->last_done = -1;
}

const char *ia_progress_bytes(int64_t n, char *buf, size_t cap) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1024 && i < 4) v /= 1024, i++;
    if (i == 0) snprintf(buf, cap, "%lld B", (long long)n);
    else snprintf(buf, cap, "%.1f %s", v, u[i]);
    return buf;
}

static void eta_str(double s, char *buf, size_t cap) {
    if (s < 0 || s > 99 * 3600) snprintf(buf, cap, "--:--");
    else if (s >= 3600) snprintf(buf, cap, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else snprintf(buf, cap, "%d:%02d", (int)s / 60, (int)s % 60);
}

void ia_progress_update(void *vp, int64_t done, int64_t total) {
    ia_progress *p = vp;
    int64_t now = ia_mono_ms();
    if (p->first_done < 0) p->first_done = done; /* bytes resumed (and the first chunk) are not this run's rate */
    if (done == p->last_done) return;              /* curl reports the same figure many times */
    p->last_done = done;
    double secs = (double)(now - p->start_ms) / 1000.0;
    double rate = secs > 0.01 ? (double)(done - p->first_done) / secs : 0;
    double eta = rate > 0 && total > 0 ? (double)(total - done) / rate : -1;
    char d[32], t[32], r[32], e[16];
    ia_progress_bytes(done, d, sizeof d);
    ia_progress_bytes(total > 0 ? total : 0, t, sizeof t);
    ia_progress_bytes((int64_t)rate, r, sizeof r);
    eta_str(eta, e, sizeof e);
    int pct = total > 0 ? (int)(done * 100 / total) : -1;
    if (p->tty) {
        if (now - p->last_ms < 100 && done != total) return;
        p->last_ms = now;
        char bar[31];
        int fill = pct >= 0 ? pct * 30 / 100 : 0;
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[30] = '\0';
        fprintf(p->out, "\r%s %3d%% [%s] %s / %s  %s/s  ETA %s\033[K", p->name, pct < 0 ? 0 : pct, bar, d,
                total > 0 ? t : "?", r, e);
        fflush(p->out);
        return;
    }
    int step = pct >= 0 ? pct / 10 : (int)(secs / 10);
    if (step == p->last_step) return;
    p->last_step = step;
    if (pct >= 0)
        fprintf(p->out, "%s: %lld / %lld bytes (%d%%), %s/s, ETA %s\n", p->name, (long long)done, (long long)total, pct,
                r, e);
    else
        fprintf(p->out, "%s: %lld bytes, %s/s\n", p->name, (long long)done, r);
    fflush(p->out);
}

void ia_progress_done(ia_progress *p, int64_t bytes) {
    (void)bytes;
    if (p->tty && p->first_done >= 0) fputc('\n', p->out);
    fflush(p->out);
}
