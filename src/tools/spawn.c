/* spawn: starting, killing and reaping one bubblewrap sandbox (the rules
 * are in sandbox.h), the server's side; what runs after fork is child.c.
 * Everything the child needs (argv, environment, fds) is made here before
 * fork: the server is multithreaded, and after fork only syscalls are safe.
 *
 * The processes: the server forks a keeper (child.c), which forks bwrap;
 * bwrap runs its pid 1, which runs python. bwrap exits as soon as its pid 1
 * reports the code's status, without reaping it; the keeper is a child
 * subreaper, so that orphan is reaped there and never left to the host's
 * init (where, with no init reaping, it stays a zombie). */
#include "tools/sandbox_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define PRLIMIT "/usr/bin/prlimit"

/* ---- uid slots (root only) ---------------------------------------------- */

/* A uid per run makes RLIMIT_NPROC count that run alone; taken round-robin
 * so a uid whose last processes are still dying is not handed out at once. */
static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t slot_used[IA_SANDBOX_SLOTS / 64];
static int slot_next;

static int slot_take(void) {
    int got = -1;
    pthread_mutex_lock(&slot_mu);
    for (int i = 0; i < IA_SANDBOX_SLOTS && got < 0; i++) {
        int s = (slot_next + i) % IA_SANDBOX_SLOTS;
        if (!(slot_used[s / 64] & (1ull << (s % 64)))) {
            slot_used[s / 64] |= 1ull << (s % 64);
            slot_next = (s + 1) % IA_SANDBOX_SLOTS;
            got = s;
        }
    }
    pthread_mutex_unlock(&slot_mu);
    return got;
}

static void slot_give(int s) {
    if (s < 0) return;
    pthread_mutex_lock(&slot_mu);
    slot_used[s / 64] &= ~(1ull << (s % 64));
    pthread_mutex_unlock(&slot_mu);
}

/* ---- configuration -------------------------------------------------------- */

static int find_bwrap(const char *name, char out[4096]) {
    if (strchr(name, '/')) {
        snprintf(out, 4096, "%s", name);
        return access(out, X_OK);
    }
    const char *env = getenv("PATH");
    char *path = ia_strdup(env && *env ? env : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
    int rc = -1;
    for (char *d = strtok_r(path, ":", &save); d && rc; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, 4096, "%s/%s", d, name);
        rc = access(out, X_OK);
    }
    free(path);
    return rc;
}

int sb_config(const ia_sandbox_opts *o, sb_cfg *c, ia_err *err) {
    static const ia_sandbox_opts none;
    if (!o) o = &none;
    memset(c, 0, sizeof *c);
    c->python = o->python ? o->python : "/usr/bin/python3";
    c->wall_ms = o->wall_ms > 0 ? o->wall_ms : 10000;
    c->cpu_s = o->cpu_s > 0 ? o->cpu_s : 10;
    c->mem_bytes = o->mem_bytes > 0 ? o->mem_bytes : (int64_t)512 << 20;
    c->max_procs = o->max_procs > 0 ? o->max_procs : 32;
    c->max_output = o->max_output > 0 ? o->max_output : 64 << 10;
    c->tmpfs_bytes = o->tmpfs_bytes > 0 ? o->tmpfs_bytes : (int64_t)64 << 20;
    c->uid_base = o->uid_base ? o->uid_base : IA_SANDBOX_UID_BASE;
    const char *bw = o->bwrap ? o->bwrap : "bwrap";
    if (find_bwrap(bw, c->bwrap) != 0)
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "code_execution: bubblewrap (%s) not found or not executable: install "
                       "the Debian package bubblewrap", bw);
    /* Only /usr of the host is inside, at the same path. */
    if (strncmp(c->python, "/usr/", 5) != 0 || strstr(c->python, "/../"))
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "code_execution: python %s: must be a path under /usr, the only host "
                       "folder the sandbox sees", c->python);
    if (access(c->python, X_OK) != 0)
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "code_execution: %s not found: install the Debian package python3", c->python);
    if (geteuid() != 0 && access(PRLIMIT, X_OK) != 0)
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "code_execution: " PRLIMIT " (util-linux) is needed to bound processes "
                       "when the server does not run as root");
    return 0;
}

/* ---- argv ------------------------------------------------------------------- */

typedef struct sb_argv {
    char *v[72];
    int n;
    char tmp_size[24], shm_size[24], nproc[40];
    char links[6][256];
} sb_argv;

static void add(sb_argv *a, const char *s) { a->v[a->n++] = (char *)s; }

/* Debian 12 is usrmerged (/bin, /lib... are links into /usr): recreate
 * each as the host has it, a link or a read-only folder, or not at all. */
static void add_root_links(sb_argv *a) {
    static const char *const names[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
    for (int i = 0; i < 6; i++) {
        struct stat st;
        if (lstat(names[i], &st) != 0) continue;
        if (S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(names[i], a->links[i], sizeof a->links[i] - 1);
            if (k <= 0) continue;
            a->links[i][k] = '\0';
            add(a, "--symlink"), add(a, a->links[i]), add(a, names[i]);
        } else if (S_ISDIR(st.st_mode)) {
            add(a, "--ro-bind"), add(a, names[i]), add(a, names[i]);
        }
    }
}

static void build_argv(const sb_cfg *c, bool as_root, sb_argv *a) {
    static const char *const head[] = {
        "--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
        "--die-with-parent", "--new-session", "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr"};
    a->n = 0;
    add(a, c->bwrap);
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) add(a, head[i]);
    add_root_links(a);
    snprintf(a->tmp_size, sizeof a->tmp_size, "%lld", (long long)c->tmpfs_bytes);
    int64_t shm = c->tmpfs_bytes / 4 < (1 << 20) ? (1 << 20) : c->tmpfs_bytes / 4;
    snprintf(a->shm_size, sizeof a->shm_size, "%lld", (long long)shm);
    /* bwrap's /dev is a tmpfs the code could fill without bound: read-only,
     * with a small tmpfs of its own at /dev/shm. */
    add(a, "--proc"), add(a, "/proc"), add(a, "--dev"), add(a, "/dev");
    add(a, "--size"), add(a, a->shm_size), add(a, "--tmpfs"), add(a, "/dev/shm");
    add(a, "--remount-ro"), add(a, "/dev");
    add(a, "--size"), add(a, a->tmp_size), add(a, "--tmpfs"), add(a, "/tmp");
    /* The root is another tmpfs of bwrap's, as unbounded: read-only too. */
    add(a, "--remount-ro"), add(a, "/");
    add(a, "--chdir"), add(a, "/tmp"), add(a, "--info-fd"), add(a, "3");
    if (!as_root) {
        snprintf(a->nproc, sizeof a->nproc, "--nproc=%d:%d", c->max_procs, c->max_procs);
        add(a, PRLIMIT), add(a, a->nproc);
    }
    add(a, c->python), add(a, "-");
    a->v[a->n] = NULL;
}

/* ---- the parent ----------------------------------------------------------- */

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static int code_memfd(const char *code) {
    int fd = memfd_create("ia-sandbox-code", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = strlen(code), off = 0;
    while (off < n) {
        ssize_t k = write(fd, code + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return close(fd), -1;
        off += (size_t)k;
    }
    if (lseek(fd, 0, SEEK_SET) != 0) return close(fd), -1;
    return fd;
}

/* Which step of the child failed (SB_STEP_*), for the error message. */
static const char *step_name(int step) {
    static const char *const names[] = {"?", "fds", "setrlimit", "setuid", "subreaper",
                                        "chdir", "exec", "fork"};
    return step >= 1 && step <= 7 ? names[step] : "?";
}

static int open_fds(const char *code, int pipes[4][2], int *memfd) {
    for (int i = 0; i < 4; i++) pipes[i][0] = pipes[i][1] = -1;
    if ((*memfd = code_memfd(code)) < 0) return -1;
    for (int i = 0; i < 4; i++)
        if (pipe2(pipes[i], O_CLOEXEC) != 0) return -1;
    return 0;
}

static void close_all(int pipes[4][2], int *memfd) {
    for (int i = 0; i < 4; i++) close_fd(&pipes[i][0]), close_fd(&pipes[i][1]);
    close_fd(memfd);
}

int sb_spawn(const sb_cfg *c, const char *code, sb_proc *p, ia_err *err) {
    bool as_root = geteuid() == 0;
    *p = (sb_proc){.pid = -1, .out_fd = -1, .err_fd = -1, .info_fd = -1, .pidfd = -1, .slot = -1};
    if (as_root && (p->slot = slot_take()) < 0)
        return ia_fail(err, IA_EOVERLOADED, "code_execution: %d runs at once already", IA_SANDBOX_SLOTS);
    sb_argv a;
    build_argv(c, as_root, &a);
    int pipes[4][2], memfd; /* stdout, stderr, info, the child's failure report */
    if (open_fds(code, pipes, &memfd) != 0) {
        int e = errno;
        close_all(pipes, &memfd), slot_give(p->slot);
        return ia_fail(err, IA_EINTERNAL, "code_execution: sandbox pipes: %s", strerror(e));
    }
    sb_fds f = {memfd, pipes[0][1], pipes[1][1], pipes[2][1], pipes[3][1]};
    uid_t uid = as_root ? (uid_t)(c->uid_base + (uint32_t)p->slot) : 0;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) sb_child(c, &f, parent, uid, a.v);
    int fork_errno = errno;
    close_fd(&memfd);
    for (int i = 0; i < 4; i++) close_fd(&pipes[i][1]);
    if (pid > 0) setpgid(pid, pid); /* also here, so a kill at once finds the group */
    int msg[2] = {0, 0};
    ssize_t k = 0;
    while (pid > 0 && (k = read(pipes[3][0], msg, sizeof msg)) < 0 && errno == EINTR) {}
    close_fd(&pipes[3][0]);
    if (pid < 0 || k > 0) {
        if (pid > 0) waitpid(pid, NULL, 0);
        close_all(pipes, &memfd), slot_give(p->slot);
        return ia_fail(err, IA_EINTERNAL, "code_execution: starting %s: %s: %s", c->bwrap,
                       pid < 0 ? "fork" : step_name(msg[0]), strerror(pid < 0 ? fork_errno : msg[1]));
    }
    p->pid = pid;
    p->out_fd = pipes[0][0], p->err_fd = pipes[1][0], p->info_fd = pipes[2][0];
    return 0;
}

/* The parent of pid (from /proc/PID/stat), or -1. */
static long parent_of(long pid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "re");
    size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
    if (fp) fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')'); /* the name may hold anything */
    long ppid = -1;
    if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1) return -1;
    return ppid;
}

void sb_take_info(sb_proc *p, const char *json) {
    const char *s = json ? strstr(json, "\"child-pid\"") : NULL;
    if (!s || !(s = strchr(s, ':')) || p->pidfd >= 0) return;
    long child = strtol(s + 1, NULL, 10);
    int fd = child > 0 ? pidfd_open((pid_t)child, 0) : -1;
    if (fd < 0) return;
    /* The pidfd holds whatever process had that pid when it was opened; it
     * is ours if that process is still bwrap's child, bwrap being the
     * keeper's only child of its own. */
    long bwrap = parent_of(child);
    if (bwrap > 0 && parent_of(bwrap) == p->pid) p->pidfd = fd;
    else close(fd);
}

bool sb_exited(pid_t pid) {
    siginfo_t si = {0};
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

static bool wait_exit(pid_t pid, int ms) {
    for (int i = 0; i < ms / 5; i++) {
        if (sb_exited(pid)) return true;
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
    }
    return sb_exited(pid);
}

void sb_kill(sb_proc *p) {
    /* SIGKILL to pid 1 ends its whole namespace at once; bwrap then exits
     * and the keeper reaps both. */
    if (p->pidfd >= 0 && pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0) == 0 && wait_exit(p->pid, 1000))
        return;
    /* No pid 1 known yet (killed during bwrap's setup), or it did not end. */
    kill(p->pid, SIGTERM);
    if (!wait_exit(p->pid, 1000)) kill(-p->pid, SIGKILL);
}

int sb_reap(sb_proc *p) {
    int st = 0;
    while (p->pid > 0 && waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {}
    p->pid = -1;
    close_fd(&p->out_fd), close_fd(&p->err_fd), close_fd(&p->info_fd), close_fd(&p->pidfd);
    slot_give(p->slot);
    p->slot = -1;
    return st;
}
