/* sandbox: one run of Python code, from the start of bwrap to its reaping
 * (the rules are in sandbox.h; the process side is in spawn.c). One thread
 * per run polls both output pipes, so neither can fill and block the code,
 * and wakes at least every 50 ms for the wall clock and the cancel flag. */
#include "tools/sandbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "tools/sandbox_int.h"

#define TICK_MS 50

typedef struct sb_run {
    sb_proc p;
    ia_buf out, err, info;
    size_t max_output;
    bool stop;                 /* a limit was hit: kill, stop reading */
    ia_sandbox_result *res;
} sb_run;

/* Reads what is there from *fd into b; EOF or an error closes *fd. Past
 * max_output the rest is cut, the stream marked, and the run stopped. */
static void read_stream(sb_run *r, int *fd, ia_buf *b, bool *truncated) {
    char chunk[16384];
    ssize_t k = read(*fd, chunk, sizeof chunk);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (k <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    size_t room = r->max_output - b->len;
    if ((size_t)k > room) {
        ia_buf_append(b, chunk, room);
        *truncated = true;
        r->res->killed_for_output = true;
        r->stop = true;
        return;
    }
    ia_buf_append(b, chunk, (size_t)k);
}

/* bwrap's --info-fd: a small JSON object naming the sandbox's pid 1. */
static void read_info(sb_run *r) {
    char chunk[1024];
    ssize_t k = read(r->p.info_fd, chunk, sizeof chunk);
    if (k < 0 && errno == EINTR) return;
    if (k <= 0 || ia_buf_append(&r->info, chunk, (size_t)k) != 0) {
        close(r->p.info_fd);
        r->p.info_fd = -1;
    }
    if (r->p.pidfd < 0 && r->info.data && strchr(r->info.data, '}'))
        sb_take_info(&r->p, r->info.data);
}

/* One wait of at most wait_ms on whichever pipes are still open. */
static void poll_once(sb_run *r, int wait_ms) {
    struct pollfd pf[3];
    int *fds[3] = {&r->p.out_fd, &r->p.err_fd, &r->p.info_fd}, which[3], n = 0;
    for (int i = 0; i < 3; i++)
        if (*fds[i] >= 0) pf[n] = (struct pollfd){.fd = *fds[i], .events = POLLIN}, which[n++] = i;
    if (poll(pf, (nfds_t)n, wait_ms) <= 0) return;
    for (int j = 0; j < n && !r->stop; j++) {
        if (!(pf[j].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        if (which[j] == 0) read_stream(r, &r->p.out_fd, &r->out, &r->res->out_truncated);
        else if (which[j] == 1) read_stream(r, &r->p.err_fd, &r->err, &r->res->err_truncated);
        else read_info(r);
    }
}

/* Until the code ends (both pipes at EOF and bwrap gone) or a limit. */
static void run_loop(sb_run *r, int64_t deadline, atomic_bool *cancel) {
    for (;;) {
        if (r->stop) break; /* the output cap, in the last poll */
        int64_t left = deadline - ia_mono_ms();
        if (left <= 0) r->res->timed_out = r->stop = true;
        else if (cancel && atomic_load(cancel)) r->res->cancelled = r->stop = true;
        if (r->stop) break;
        bool pipes_open = r->p.out_fd >= 0 || r->p.err_fd >= 0;
        /* Once bwrap is gone so is every process of the sandbox, and the
         * pipes read EOF right after: a tight loop only until then. */
        if (!pipes_open && sb_exited(r->p.pid)) break;
        poll_once(r, left < TICK_MS ? (int)left : TICK_MS);
    }
    if (r->stop) sb_kill(&r->p);
}

/* bwrap exits with the code's status, or 128 + N for its death by signal N. */
static void set_status(ia_sandbox_result *res, int st) {
    res->exit_code = -1;
    if (WIFSIGNALED(st)) {
        res->term_signal = WTERMSIG(st);
    } else {
        int code = WEXITSTATUS(st);
        if (code > 128 && code <= 128 + 64) res->term_signal = code - 128;
        else res->exit_code = code;
    }
}

/* bwrap's own failure (a mount refused, no user namespaces): status 1 and
 * its "bwrap: ..." line, before the code could print anything. */
static bool setup_failed(const sb_run *r, int st) {
    return !r->stop && WIFEXITED(st) && WEXITSTATUS(st) == 1 && r->out.len == 0 &&
           r->err.data && strncmp(r->err.data, "bwrap: ", 7) == 0;
}

static void run_free(sb_run *r) {
    ia_buf_free(&r->out);
    ia_buf_free(&r->err);
    ia_buf_free(&r->info);
}

int ia_sandbox_python(const ia_sandbox_opts *o, const char *code, atomic_bool *cancel,
                      ia_sandbox_result *res, ia_err *err) {
    memset(res, 0, sizeof *res);
    sb_cfg c;
    if (sb_config(o, &c, err) != 0) return -1;
    int64_t start = ia_mono_ms();
    sb_run r = {.max_output = c.max_output, .res = res};
    ia_buf_init(&r.out, 0);
    ia_buf_init(&r.err, 0);
    ia_buf_init(&r.info, 4096);
    if (sb_spawn(&c, code ? code : "", &r.p, err) != 0) return run_free(&r), -1;
    run_loop(&r, start + c.wall_ms, cancel);
    int st = sb_reap(&r.p);
    res->wall_ms = ia_mono_ms() - start;
    if (setup_failed(&r, st)) {
        size_t line = strcspn(r.err.data, "\n");
        ia_fail(err, IA_EINTERNAL, "code_execution: the sandbox did not start: %.*s",
                (int)(line > 300 ? 300 : line), r.err.data);
        memset(res, 0, sizeof *res);
        return run_free(&r), -1;
    }
    set_status(res, st);
    res->out = ia_utf8_sanitize(r.out.data ? r.out.data : "", r.out.len);
    res->err = ia_utf8_sanitize(r.err.data ? r.err.data : "", r.err.len);
    run_free(&r);
    return 0;
}

int ia_sandbox_probe(const ia_sandbox_opts *o, ia_err *err) {
    ia_sandbox_opts probe = o ? *o : (ia_sandbox_opts){0};
    if (probe.wall_ms <= 0 || probe.wall_ms > 10000) probe.wall_ms = 10000;
    ia_sandbox_result res;
    ia_err why;
    if (ia_sandbox_python(&probe, "import math, json, datetime\nprint('ok')\n", NULL, &res, &why) != 0)
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s", why.msg);
    bool ok = res.exit_code == 0 && strcmp(res.out, "ok\n") == 0;
    if (!ok)
        ia_fail(err, IA_EUNIMPLEMENTED,
                "code_execution: a trial run in the sandbox failed (exit %d, signal %d): %.200s "
                "(bubblewrap needs unprivileged user namespaces: user.max_user_namespaces > 0)",
                res.exit_code, res.term_signal, res.err);
    ia_sandbox_result_free(&res);
    return ok ? 0 : -1;
}

void ia_sandbox_result_free(ia_sandbox_result *r) {
    if (!r) return;
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
