/* sandbox: real runs of Python under bubblewrap — what ordinary code gets
 * (output, exit codes, errors) and the limits (wall clock, CPU, memory,
 * output, tmpfs, cancel), and that many runs leak neither fds nor
 * processes. The escape attempts are in test_sandbox_escape.c. Small limits
 * keep the file fast. */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_help.h"
#include "tools/sandbox.h"
#include "unit.h"

IA_TEST(sandbox_hello_world) {
    ia_sandbox_opts o = tsb_small();
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "print('hello, world')\n", &r) == 0);
    IA_CHECK_STREQ(r.out, "hello, world\n");
    IA_CHECK_STREQ(r.err, "");
    IA_CHECK(r.exit_code == 0 && r.term_signal == 0);
    IA_CHECK(!r.timed_out && !r.cancelled && !r.killed_for_output);
    IA_CHECK(!r.out_truncated && !r.err_truncated);
    ia_sandbox_result_free(&r);
    IA_CHECK(tsb_run(&o, "import sys\nsys.exit(3)\n", &r) == 0);
    IA_CHECK(r.exit_code == 3);
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_exception_and_syntax_error) {
    ia_sandbox_opts o = tsb_small();
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "print('before')\nraise ValueError('boom')\n", &r) == 0);
    IA_CHECK_STREQ(r.out, "before\n");
    IA_CHECK_CONTAINS(r.err, "Traceback");
    IA_CHECK_CONTAINS(r.err, "ValueError: boom");
    IA_CHECK(r.exit_code == 1);
    ia_sandbox_result_free(&r);
    IA_CHECK(tsb_run(&o, "print('never')\ndef (:\n", &r) == 0);
    IA_CHECK_STREQ(r.out, ""); /* parsed whole before anything runs */
    IA_CHECK_CONTAINS(r.err, "SyntaxError");
    IA_CHECK(r.exit_code == 1);
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_output_is_valid_utf8_and_stdin_is_empty) {
    ia_sandbox_opts o = tsb_small();
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "import sys\nsys.stdout.buffer.write(b'a\\xffb\\n')\n"
                        "print(repr(sys.stdin.read()))\nprint('\\u00e9')\n", &r) == 0);
    IA_CHECK_STREQ(r.out, "a\xEF\xBF\xBD" "b\n''\n\xC3\xA9\n");
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_huge_output_is_cut_and_stopped) {
    ia_sandbox_opts o = tsb_small();
    o.max_output = 16384;
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "while True: print('x' * 99)\n", &r) == 0);
    IA_CHECK(r.out_truncated && r.killed_for_output && !r.timed_out);
    IA_CHECK(strlen(r.out) == 16384);
    IA_CHECK(r.exit_code == -1 && r.term_signal == SIGKILL);
    IA_CHECK(r.wall_ms < o.wall_ms); /* stopped at once, not at the wall */
    ia_sandbox_result_free(&r);
    IA_CHECK(tsb_run(&o, "import sys\nprint('out')\nwhile True: sys.stderr.write('e' * 1000)\n", &r) == 0);
    IA_CHECK(r.err_truncated && !r.out_truncated && r.killed_for_output);
    IA_CHECK(strlen(r.err) == 16384);
    IA_CHECK_STREQ(r.out, "out\n");
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_busy_loop_is_killed) {
    ia_sandbox_opts o = tsb_small();
    o.cpu_s = 1;
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "while True: pass\n", &r) == 0);
    IA_CHECK(r.exit_code == -1);
    IA_CHECK(r.term_signal == SIGXCPU || r.term_signal == SIGKILL);
    IA_CHECK(r.wall_ms < o.wall_ms + 1000);
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_sleep_ends_at_the_wall_clock) {
    ia_sandbox_opts o = tsb_small();
    o.wall_ms = 1000;
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "import time\nprint('before')\ntime.sleep(1000)\n", &r) == 0);
    IA_CHECK(r.timed_out && !r.cancelled);
    IA_CHECK(r.exit_code == -1 && r.term_signal == SIGKILL);
    IA_CHECK(r.wall_ms >= 1000 && r.wall_ms < 2000);
    IA_CHECK_STREQ(r.out, "before\n"); /* unbuffered: what came before is kept */
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_memory_is_bounded) {
    ia_sandbox_opts o = tsb_small();
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o, "try:\n    b = bytearray(2 * 1024 ** 3)\n    print('ALLOCATED')\n"
                        "except MemoryError:\n    print('MemoryError')\n", &r) == 0);
    IA_CHECK(strstr(r.out, "ALLOCATED") == NULL);
    IA_CHECK(strstr(r.out, "MemoryError") != NULL || r.term_signal != 0);
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_tmpfs_is_bounded) {
    ia_sandbox_opts o = tsb_small(); /* tmpfs_bytes 4 MiB */
    ia_sandbox_result r;
    IA_CHECK(tsb_run(&o,
                    "import os\n"
                    "def fill(path, mib):\n"
                    "    try:\n"
                    "        with open(path, 'wb') as f:\n"
                    "            for _ in range(mib): f.write(b'0' * 1048576)\n"
                    "        return 'wrote'\n"
                    "    except OSError as e:\n"
                    "        return 'failed %d' % e.errno\n"
                    "print('small', fill('/tmp/small', 1))\n"
                    "print('big', fill('/tmp/big', 8))\n"
                    "print('second', fill('/tmp/b2', 3))\n"
                    "print('shm', fill('/dev/shm/big', 8))\n", &r) == 0);
    IA_CHECK_CONTAINS(r.out, "small wrote\n");
    IA_CHECK_CONTAINS(r.out, "big failed"); /* ENOSPC or EFBIG (RLIMIT_FSIZE) */
    IA_CHECK_CONTAINS(r.out, "second failed 28\n"); /* ENOSPC: the tmpfs is full */
    IA_CHECK_CONTAINS(r.out, "shm failed");
    IA_CHECK(r.exit_code == 0);
    ia_sandbox_result_free(&r);
}

typedef struct { atomic_bool *flag; int after_ms; } canceller;

static void *cancel_later(void *arg) {
    canceller *c = arg;
    nanosleep(&(struct timespec){0, c->after_ms * 1000000L}, NULL);
    atomic_store(c->flag, true);
    return NULL;
}

IA_TEST(sandbox_cancel_ends_a_sleeping_run) {
    ia_sandbox_opts o = tsb_small();
    o.wall_ms = 5000;
    atomic_bool flag = false;
    canceller c = {&flag, 300};
    pthread_t t;
    IA_CHECK(pthread_create(&t, NULL, cancel_later, &c) == 0);
    ia_sandbox_result r;
    ia_err e;
    int rc = ia_sandbox_python(&o, "import time\ntime.sleep(1000)\n", &flag, &r, &e);
    pthread_join(t, NULL);
    IA_CHECK(rc == 0);
    IA_CHECK(r.cancelled && !r.timed_out);
    IA_CHECK(r.exit_code == -1 && r.term_signal == SIGKILL);
    IA_CHECK(r.wall_ms >= 300 && r.wall_ms < 1000);
    ia_sandbox_result_free(&r);
}

static void *run_one(void *arg) {
    int *i = arg;
    ia_sandbox_opts o = tsb_small();
    char code[64];
    snprintf(code, sizeof code, "print(%d * 7)\n", *i);
    ia_sandbox_result r;
    ia_err e;
    if (ia_sandbox_python(&o, code, NULL, &r, &e) == 0) {
        *i = r.exit_code == 0 ? atoi(r.out) : -1;
        ia_sandbox_result_free(&r);
    } else {
        *i = -1;
    }
    return NULL;
}

IA_TEST(sandbox_runs_at_once_and_in_a_row_leak_nothing) {
    int fds = tsb_count_fds(), procs = tsb_count_children(), left = tsb_count_sandbox_procs();
    for (int round = 0; round < 5; round++) {
        int v[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) v[i] = i + round, pthread_create(&t[i], NULL, run_one, &v[i]);
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        for (int i = 0; i < 4; i++) IA_CHECK(v[i] == (i + round) * 7);
    }
    ia_sandbox_opts o = tsb_small(), quick = tsb_small();
    quick.wall_ms = 200; /* the killed path too */
    for (int i = 0; i < 10; i++) {
        ia_sandbox_result r;
        if (i % 2) {
            IA_CHECK(tsb_run(&quick, "import time\ntime.sleep(5)\n", &r) == 0);
            IA_CHECK(r.timed_out);
        } else {
            IA_CHECK(tsb_run(&o, "print(1)\n", &r) == 0);
            IA_CHECK_STREQ(r.out, "1\n");
        }
        ia_sandbox_result_free(&r);
    }
    IA_CHECK(tsb_count_fds() == fds);
    IA_CHECK(tsb_count_children() == procs);
    IA_CHECK(tsb_count_sandbox_procs() == left);
}

IA_TEST(sandbox_probe_names_bubblewrap) {
    ia_err e;
    ia_err_clear(&e);
    IA_CHECK(ia_sandbox_probe(NULL, &e) == 0);
    ia_sandbox_opts o = {.bwrap = "/nonexistent/bwrap"};
    IA_CHECK(ia_sandbox_probe(&o, &e) == -1);
    IA_CHECK(e.code == IA_EUNIMPLEMENTED);
    IA_CHECK_CONTAINS(e.msg, "bubblewrap");
    o = (ia_sandbox_opts){.python = "/opt/python3"};
    IA_CHECK(ia_sandbox_probe(&o, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "under /usr");
    ia_sandbox_result r;
    o = (ia_sandbox_opts){.bwrap = "no-such-bwrap-binary"};
    IA_CHECK(ia_sandbox_python(&o, "print(1)", NULL, &r, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "bubblewrap");
}
