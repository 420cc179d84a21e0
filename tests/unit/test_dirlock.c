/* dirlock: a data folder has one holder; a second lock names it; closing
 * releases. (flock locks belong to the open file description, so a second
 * open in this same process conflicts just as another process would.) */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/dirlock.h"
#include "unit.h"

IA_TEST(dirlock_one_holder) {
    char dir[] = "/tmp/ia-dirlock-XXXXXX";
    IA_CHECK(mkdtemp(dir) != NULL);
    ia_err e;
    ia_err_clear(&e);
    int fd = ia_dirlock(dir, &e);
    IA_CHECK(fd >= 0);
    char want[64];
    snprintf(want, sizeof want, "PID %ld", (long)getpid());
    IA_CHECK(ia_dirlock(dir, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, dir);
    IA_CHECK_CONTAINS(e.msg, want);
    IA_CHECK_CONTAINS(e.msg, "--data");
    ia_dirunlock(fd);
    ia_err_clear(&e);
    fd = ia_dirlock(dir, &e); /* released: taken again */
    IA_CHECK(fd >= 0);
    ia_dirunlock(fd);
    char lock[128];
    snprintf(lock, sizeof lock, "%s/LOCK", dir);
    unlink(lock);
    rmdir(dir);
}
