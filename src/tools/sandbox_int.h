/* sandbox_int: between the run loop (sandbox.c) and the process start and
 * kill (spawn.c). Not for other modules. */
#ifndef IA_TOOLS_SANDBOX_INT_H
#define IA_TOOLS_SANDBOX_INT_H

#include <sys/types.h>

#include "tools/sandbox.h"

/* The options with their defaults applied and bwrap's path resolved. */
typedef struct sb_cfg {
    char bwrap[4096];
    const char *python;
    int wall_ms, cpu_s, max_procs;
    int64_t mem_bytes, tmpfs_bytes;
    size_t max_output;
    uint32_t uid_base;
} sb_cfg;

/* One started sandbox. The fds are the server's ends, close-on-exec. */
typedef struct sb_proc {
    pid_t pid;        /* the keeper, leader of its own process group */
    int out_fd, err_fd;
    int info_fd;      /* bwrap's --info-fd: JSON with the sandbox's pid 1 */
    int pidfd;        /* the sandbox's pid 1, once the info is read; -1 before */
    int slot;         /* the uid slot held (as root), or -1 */
} sb_proc;

/* The fds the child gets (the server's copies, close-on-exec): code on a
 * memfd, the write ends of stdout, stderr and bwrap's info, and a pipe that
 * reports a failure before exec as {SB_STEP_*, errno}. */
typedef struct sb_fds { int code, out, err, info, report; } sb_fds;
enum { SB_STEP_FDS = 1, SB_STEP_RLIMIT, SB_STEP_SETUID, SB_STEP_SUBREAPER, SB_STEP_CHDIR,
       SB_STEP_EXEC, SB_STEP_FORK };

/* The forked child (the keeper): never returns. uid 0 = keep the server's
 * uid (and set RLIMIT_NPROC inside, through argv's prlimit). */
_Noreturn void sb_child(const sb_cfg *c, const sb_fds *f, pid_t parent, uid_t uid, char **argv);

/* Fills c from o; -1 with err (IA_EUNIMPLEMENTED) when bwrap is not found
 * or python is not an absolute path under /usr. */
int sb_config(const ia_sandbox_opts *o, sb_cfg *c, ia_err *err);

/* Starts bwrap with code on its stdin. -1 with err when it could not be
 * started (fork, pipes, no uid slot, exec failure). */
int sb_spawn(const sb_cfg *c, const char *code, sb_proc *p, ia_err *err);

/* Takes the sandbox's pid 1 from the info JSON bwrap wrote and holds a pidfd
 * on it (verified to be bwrap's child, so never a recycled pid). */
void sb_take_info(sb_proc *p, const char *json);

/* Whether the keeper has exited (without reaping it). */
bool sb_exited(pid_t pid);

/* Kills the whole sandbox: its pid 1 (and with it its pid namespace); should
 * the keeper not be done within a second, SIGTERM to the keeper (which
 * kills bwrap's group), and a second later SIGKILL to the keeper. */
void sb_kill(sb_proc *p);

/* Reaps bwrap (blocking), closes every fd, frees the uid slot; returns the
 * wait status. */
int sb_reap(sb_proc *p);

#endif
