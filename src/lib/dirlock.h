/* dirlock: one server per data folder. The store, the kept KV files and
 * crash recovery all assume a single owner: a second server on the same
 * folder would "recover" the first one's running interactions as failed
 * and then collide with its event writes. So `serve` takes an exclusive
 * flock(2) on DATA/LOCK for its whole life, before it touches the store.
 * The kernel drops the lock when the process dies (kill -9 included), so a
 * stale LOCK file never blocks a restart; the holder's PID is written in it
 * only to name the holder in the refusal. */
#ifndef IA_LIB_DIRLOCK_H
#define IA_LIB_DIRLOCK_H

#include "lib/err.h"

/* Locks dir (which must exist). Returns the lock's descriptor (keep it open;
 * close it to release), or -1 with err; when another process holds the
 * lock, the message names the folder and the holder's PID (as the holder
 * wrote it in the file; 0 if unknown). */
int ia_dirlock(const char *dir, ia_err *err);
void ia_dirunlock(int fd); /* -1 is a no-op */

#endif
