/* child: the sandbox's processes between the server's fork and bwrap's
 * exec (see spawn.c for the tree). This is a fork of a multithreaded
 * server, so only system calls run here: no malloc, no stdio, no locks.
 *
 * The keeper holds nothing of the server (every fd closed), reaps bwrap and
 * whatever the sandbox orphans, and exits with bwrap's status (128 + N for
 * a death by signal N, as bwrap reports its code's). SIGTERM to the keeper
 * SIGKILLs bwrap's process group. */
#include "tools/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPORT_FD 4

static char *const sb_env[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
    "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", NULL};

/* Tells the server which step failed and why, then exits. */
static _Noreturn void fail(int step) {
    int msg[2] = {step, errno};
    ssize_t k = write(REPORT_FD, msg, sizeof msg);
    (void)k;
    _exit(127);
}

/* The server's blocked and ignored signals would survive exec. */
static void reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fds 0..4 become code, stdout, stderr, bwrap's info and the report; every
 * other fd of the server (sockets, the SQLite file, other runs' pipes) is
 * closed. Each is lifted above 4 first, since one may sit at 0..4 already. */
static void place_fds(const sb_fds *f) {
    int src[5] = {f->code, f->out, f->err, f->info, f->report}, hi[5];
    for (int i = 0; i < 5; i++)
        if ((hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16)) < 0) _exit(127);
    for (int i = 0; i < 4; i++)
        if (dup2(hi[i], i) < 0) _exit(127);
    if (dup3(hi[4], REPORT_FD, O_CLOEXEC) < 0) _exit(127);
    if (close_range(REPORT_FD + 1, ~0u, 0) != 0) fail(SB_STEP_FDS);
}

static void set_limits(const sb_cfg *c, bool nproc) {
    struct { int res; rlim_t soft, hard; } lim[] = {
        {RLIMIT_CPU, (rlim_t)c->cpu_s, (rlim_t)c->cpu_s + 1}, /* SIGXCPU, then SIGKILL */
        {RLIMIT_AS, (rlim_t)c->mem_bytes, (rlim_t)c->mem_bytes},
        {RLIMIT_FSIZE, (rlim_t)c->tmpfs_bytes, (rlim_t)c->tmpfs_bytes},
        {RLIMIT_CORE, 0, 0},
        {RLIMIT_NOFILE, 256, 256},
        /* Under the server's own uid its threads would count: set inside. */
        {nproc ? RLIMIT_NPROC : -1, (rlim_t)c->max_procs, (rlim_t)c->max_procs},
    };
    for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
        struct rlimit r = {lim[i].soft, lim[i].hard};
        if (lim[i].res >= 0 && setrlimit(lim[i].res, &r) != 0) fail(SB_STEP_RLIMIT);
    }
}

static _Noreturn void exec_bwrap(const sb_cfg *c, pid_t keeper, uid_t uid, char **argv) {
    setpgid(0, 0);
    reset_signals();
    set_limits(c, uid != 0);
    if (uid != 0) {
        /* Raw syscalls: glibc's wrappers would try to reach the server's
         * other threads, which do not exist in this process. */
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, uid, uid, uid) != 0 ||
            syscall(SYS_setresuid, uid, uid, uid) != 0)
            fail(SB_STEP_SETUID);
    }
    /* After the uid change, which clears it; a keeper gone meanwhile: stop. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != keeper) _exit(127);
    if (chdir("/") != 0) fail(SB_STEP_CHDIR);
    execve(c->bwrap, argv, sb_env);
    fail(SB_STEP_EXEC);
}

static volatile pid_t bwrap_group; /* for on_term, set before it can run */

static void on_term(int sig) {
    (void)sig;
    if (bwrap_group > 0) kill(-bwrap_group, SIGKILL);
}

_Noreturn void sb_child(const sb_cfg *c, const sb_fds *f, pid_t parent, uid_t uid, char **argv) {
    setpgid(0, 0);
    reset_signals();
    place_fds(f);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) fail(SB_STEP_SUBREAPER);
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    pid_t keeper = getpid(), g = fork();
    if (g == 0) exec_bwrap(c, keeper, uid, argv);
    if (g < 0) fail(SB_STEP_FORK);
    setpgid(g, g);
    bwrap_group = g;
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* The pipes' ends stay only with bwrap, so the server sees their EOF. */
    close_range(0, ~0u, 0);
    int st = 0, gst = 0;
    for (;;) {
        pid_t w = waitpid(-1, &st, 0);
        if (w == g) gst = st;
        else if (w < 0 && errno != EINTR) break; /* ECHILD: all reaped */
    }
    _exit(WIFEXITED(gst) ? WEXITSTATUS(gst) : 128 + WTERMSIG(gst));
}
