/* sandbox_help: what the sandbox tests share — small limits, a run that
 * prints the error it failed with, and counts of this process's fds,
 * children and the sandbox's processes read from /proc. */
#ifndef IA_TESTS_SANDBOX_HELP_H
#define IA_TESTS_SANDBOX_HELP_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/sandbox.h"

static inline ia_sandbox_opts tsb_small(void) {
    return (ia_sandbox_opts){.wall_ms = 3000, .cpu_s = 2, .mem_bytes = (int64_t)256 << 20,
                             .max_procs = 16, .max_output = 65536,
                             .tmpfs_bytes = (int64_t)4 << 20};
}

static inline int tsb_run(const ia_sandbox_opts *o, const char *code, ia_sandbox_result *r) {
    ia_err e;
    int rc = ia_sandbox_python(o, code, NULL, r, &e);
    if (rc != 0) fprintf(stderr, "  sandbox: %s\n", e.msg);
    return rc;
}

static inline int tsb_count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));) n += de->d_name[0] != '.';
    if (d) closedir(d);
    return n - 1; /* the DIR's own */
}

/* A field ("PPid:", "Uid:") of /proc/PID/status; -1 if unreadable. */
static inline long tsb_status_field(const char *pid, const char *field) {
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "re");
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) v = strtol(line + strlen(field), NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Processes matching: which 0 = all, 1 = children of this process, 2 = of
 * the sandbox's uids (as root each run has one of its own). */
static inline int tsb_count(int which) {
    DIR *d = opendir("/proc");
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
        long v = which == 1 ? tsb_status_field(de->d_name, "PPid:")
                 : which == 2 ? tsb_status_field(de->d_name, "Uid:") : 0;
        if (which == 0) n++;
        else if (which == 1 && v == (long)getpid()) n++;
        else if (which == 2 && v >= (long)IA_SANDBOX_UID_BASE &&
                 v < (long)IA_SANDBOX_UID_BASE + IA_SANDBOX_SLOTS) n++;
    }
    if (d) closedir(d);
    return n;
}

static inline int tsb_count_children(void) { return tsb_count(1); }
static inline int tsb_count_sandbox_procs(void) { return tsb_count(2); }

#endif
