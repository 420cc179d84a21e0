/* dirlock: see dirlock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/dirlock.h"
#include "lib/util.h"

static long read_pid(int fd) {
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int ia_dirlock(const char *dir, ia_err *err) {
    char *path = ia_asprintf("%s/LOCK", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ia_fail(err, IA_EINTERNAL, "cannot open %s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        long pid = e == EWOULDBLOCK ? read_pid(fd) : 0;
        if (e == EWOULDBLOCK)
            ia_fail(err, IA_EINTERNAL,
                    "the data folder %s is in use by another interactd (PID %ld, lock %s): one server "
                    "per data folder; stop it or give this one another --data", dir, pid, path);
        else
            ia_fail(err, IA_EINTERNAL, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        free(path);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        ia_fail(err, IA_EINTERNAL, "cannot write %s: %s", path, strerror(errno)); /* the lock holds */
    free(path);
    return fd;
}

void ia_dirunlock(int fd) {
    if (fd >= 0) close(fd);
}
