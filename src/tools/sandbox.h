/* sandbox: runs untrusted Python 3 source (the built-in code_execution
 * tool) under bubblewrap, Debian's `bwrap`, with rlimits and a wall clock.
 *
 * What the code sees and may do:
 *  - namespaces: every one bwrap has (user, pid, net, ipc, uts, cgroup,
 *    mount), and no further user namespaces inside (--disable-userns);
 *    no capabilities. The net namespace has only its own loopback, so no
 *    TCP/UDP to the host or beyond, and no host unix socket either: nothing
 *    of the host's /run, /tmp, /var, /home, /root, /work or /etc is mounted.
 *  - files: /usr read-only (and the /bin, /sbin, /lib* links or folders the
 *    host has), a fresh /proc of its own pid namespace (only its own
 *    processes), a minimal /dev remounted read-only, a private tmpfs at /tmp
 *    (tmpfs_bytes; the working folder and HOME) and one at /dev/shm (a
 *    quarter of it, for multiprocessing's semaphores). Nothing else.
 *  - the code goes in on stdin (a memfd read by `python3 -`), never argv;
 *    the environment is only PATH, HOME=/tmp, TMPDIR=/tmp, LANG=C.UTF-8,
 *    PYTHONDONTWRITEBYTECODE=1, PYTHONUNBUFFERED=1 (so a killed run's
 *    output so far is kept); every other inherited fd is closed.
 *  - limits: RLIMIT_CPU (cpu_s; SIGXCPU, SIGKILL a second later), RLIMIT_AS
 *    (mem_bytes per process), RLIMIT_FSIZE (tmpfs_bytes), RLIMIT_CORE 0,
 *    RLIMIT_NOFILE 256, RLIMIT_NPROC (max_procs), the wall clock (wall_ms:
 *    the whole sandbox killed) and max_output per stream (beyond it the run
 *    is killed and the stream marked truncated).
 *  - processes: RLIMIT_NPROC counts per uid, and not at all for root. So a
 *    server running as root drops every run, before exec'ing bwrap, to a uid
 *    and gid of its own (uid_base + a slot free at the time; no
 *    supplementary groups), which makes the count this run's alone. A
 *    server running as another user cannot change uid: it sets RLIMIT_NPROC
 *    inside the sandbox through util-linux's prlimit, where the kernel
 *    (>= 5.14) counts the processes of the sandbox's own user namespace.
 *    max_procs includes bwrap's own two processes.
 *  - the kill: SIGKILL to the sandbox's pid 1 (through a pidfd, from bwrap's
 *    --info-fd), which takes every process of its pid namespace with it.
 *    A keeper process between the server and bwrap (a child subreaper)
 *    reaps bwrap and its pid 1, which bwrap itself leaves unreaped, so no
 *    zombie is ever left to the host's init; it exits last, and the server
 *    reaps it. When the run is over, no process of it is left.
 *
 * Not bounded: the total memory of a run is max_procs x mem_bytes plus the
 * tmpfs (no memory cgroup is used).
 *
 * Threading: any number of runs at once from any threads; the only shared
 * state is the uid slots (a mutex). Each run forks the keeper (only
 * syscalls from fork to exec) and all its fds are close-on-exec in the
 * server, so a run started at the same time on another thread cannot hold
 * this one's pipes open. */
#ifndef IA_TOOLS_SANDBOX_H
#define IA_TOOLS_SANDBOX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define IA_SANDBOX_UID_BASE 0x70000000u /* above login, system and container ranges */
#define IA_SANDBOX_SLOTS 4096           /* runs at once (as root) */

typedef struct ia_sandbox_opts {
    const char *bwrap;   /* bubblewrap binary; NULL = "bwrap" found on PATH */
    const char *python;  /* the interpreter inside, under /usr; NULL = /usr/bin/python3 */
    int wall_ms;         /* 0 = 10000 */
    int cpu_s;           /* 0 = 10 (RLIMIT_CPU) */
    int64_t mem_bytes;   /* 0 = 512 MiB (address space, per process) */
    int max_procs;       /* 0 = 32 processes/threads */
    size_t max_output;   /* per stream; 0 = 64 KiB; beyond it: truncated, and the run is stopped */
    int64_t tmpfs_bytes; /* the writable /tmp; 0 = 64 MiB */
    uint32_t uid_base;   /* as root: runs take uids uid_base + slot; 0 = IA_SANDBOX_UID_BASE */
} ia_sandbox_opts;

typedef struct ia_sandbox_result {
    char *out, *err;              /* captured stdout / stderr, NUL-terminated, valid UTF-8 (invalid bytes replaced) */
    bool out_truncated, err_truncated;
    int exit_code;                /* -1 when ended by a signal (see below) */
    int term_signal;
    bool timed_out, cancelled, killed_for_output;
    int64_t wall_ms;
} ia_sandbox_result;

/* Whether code can run here: bwrap found, python present under /usr, and a
 * trivial run (import math, json, datetime) works, which proves the
 * namespaces and the uid change are allowed. 0, or -1 with err
 * (IA_EUNIMPLEMENTED) saying what is missing; a missing bwrap names the
 * Debian package bubblewrap. Costs one sandbox start (~50 ms). */
int ia_sandbox_probe(const ia_sandbox_opts *o, ia_err *err);

/* Runs code (Python 3 source, NUL-terminated) to its end or a limit. 0 with
 * res filled (a non-zero exit, a timeout, a kill are results, not errors),
 * or -1 with err when the sandbox itself could not start (res then holds
 * nothing to free, though freeing it is harmless). cancel (may be NULL) is
 * polled about every 50 ms: once set, the run is killed and res->cancelled
 * set. A process ended by a signal is exit_code -1 and term_signal; bwrap
 * reports the code's death by signal N as status 128 + N, so an exit status
 * in 129..192 is read as that signal (a sys.exit(130) reads as SIGINT). */
int ia_sandbox_python(const ia_sandbox_opts *o, const char *code, atomic_bool *cancel,
                      ia_sandbox_result *res, ia_err *err);

/* Frees what a result holds (not the struct); NULL-safe, idempotent. */
void ia_sandbox_result_free(ia_sandbox_result *r);

#endif
