/* sandbox escapes: code that tries to get out — the network (a TCP port and
 * a unix socket this test listens on), writes outside its tmpfs, the host's
 * secrets and data folder, the host's processes, new namespaces or root,
 * and a fork bomb. Each attempt must fail inside, and the host is checked
 * to be unharmed afterwards. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "sandbox_help.h"
#include "unit.h"

/* Runs code made by printf from fmt and a..c; the output in r. */
static int run_fmt(ia_sandbox_result *r, const char *fmt, const char *a, const char *b,
                   const char *c) {
    char code[4096];
    snprintf(code, sizeof code, fmt, a, b, c);
    ia_sandbox_opts o = tsb_small();
    return tsb_run(&o, code, r);
}

IA_TEST(sandbox_escape_network) {
    int tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof in;
    IA_CHECK(bind(tcp, (struct sockaddr *)&in, sizeof in) == 0 && listen(tcp, 8) == 0);
    IA_CHECK(getsockname(tcp, (struct sockaddr *)&in, &len) == 0);
    char dir[] = "/tmp/ia-sock-XXXXXX", port[16];
    IA_CHECK(mkdtemp(dir) != NULL);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s/s", dir);
    int ux = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    IA_CHECK(bind(ux, (struct sockaddr *)&un, sizeof un) == 0 && listen(ux, 8) == 0);
    chmod(un.sun_path, 0777); /* so only the sandbox's walls keep it out */
    snprintf(port, sizeof port, "%d", ntohs(in.sin_port));
    ia_sandbox_result r;
    IA_CHECK(run_fmt(&r,
                     "import socket\n"
                     "def go(fam, addr):\n"
                     "    s = socket.socket(fam, socket.SOCK_STREAM)\n"
                     "    s.settimeout(1)\n"
                     "    try:\n"
                     "        s.connect(addr)\n"
                     "        return 'CONNECTED'\n"
                     "    except OSError as e:\n"
                     "        return 'failed %%s' %% e.errno\n"
                     "print('tcp', go(socket.AF_INET, ('127.0.0.1', %s)))\n"
                     "print('unix', go(socket.AF_UNIX, '%s'))\n"
                     "print('public', go(socket.AF_INET, ('1.1.1.1', 53)))\n"
                     "print('ifaces', [n for _, n in socket.if_nameindex()])\n",
                     port, un.sun_path, NULL) == 0);
    IA_CHECK(strstr(r.out, "CONNECTED") == NULL);
    IA_CHECK_CONTAINS(r.out, "tcp failed 111\n");    /* its own loopback: nobody there */
    IA_CHECK_CONTAINS(r.out, "unix failed 2\n");     /* the host's /tmp is not there */
    IA_CHECK_CONTAINS(r.out, "public failed 101\n"); /* no route at all */
    IA_CHECK_CONTAINS(r.out, "ifaces ['lo']\n");
    /* Nothing reached the host's listeners. */
    IA_CHECK(accept(tcp, NULL, NULL) < 0 && errno == EAGAIN);
    IA_CHECK(accept(ux, NULL, NULL) < 0 && errno == EAGAIN);
    ia_sandbox_result_free(&r);
    close(tcp), close(ux), unlink(un.sun_path), rmdir(dir);
}

IA_TEST(sandbox_escape_writes_outside_tmpfs) {
    char cwd[1024], mine[1100];
    IA_CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(mine, sizeof mine, "%s/ia-sandbox-escape", cwd);
    struct stat before, after;
    IA_CHECK(stat("/usr/lib/python3.11/os.py", &before) == 0);
    ia_sandbox_result r;
    IA_CHECK(run_fmt(&r,
                     "import os\n"
                     "for p in ['/usr/ia-x', '/usr/lib/python3.11/os.py', '/etc/ia-x', '/ia-x',\n"
                     "          '/proc/ia-x', '/dev/ia-x', '/bin/ia-x', '%s', '/tmp/ok']:\n"
                     "    try:\n"
                     "        open(p, 'a').write('x')\n"
                     "        print('WROTE', p)\n"
                     "    except OSError as e:\n"
                     "        print('denied', p, e.errno)\n"
                     "try:\n"
                     "    os.mkdir('/usr/ia-dir'); print('WROTE mkdir')\n"
                     "except OSError as e:\n"
                     "    print('denied mkdir', e.errno)\n",
                     mine, NULL, NULL) == 0);
    IA_CHECK_CONTAINS(r.out, "WROTE /tmp/ok\n"); /* its own tmpfs, the control */
    static const char *const denied[] = {
        "denied /usr/ia-x 30\n", "denied /usr/lib/python3.11/os.py 13\n", /* EROFS, EACCES */
        "denied /etc/ia-x 2\n", "denied /ia-x 30\n", "denied /proc/ia-x 2\n",
        "denied /dev/ia-x 30\n", "denied /bin/ia-x 30\n"};
    for (size_t i = 0; i < sizeof denied / sizeof *denied; i++) IA_CHECK_CONTAINS(r.out, denied[i]);
    IA_CHECK_CONTAINS(r.out, "denied mkdir");
    ia_sandbox_result_free(&r);
    /* And the host is as it was. */
    IA_CHECK(access(mine, F_OK) != 0);
    IA_CHECK(access("/usr/ia-x", F_OK) != 0 && access("/ia-x", F_OK) != 0);
    IA_CHECK(stat("/usr/lib/python3.11/os.py", &after) == 0);
    IA_CHECK(after.st_size == before.st_size && after.st_mtime == before.st_mtime);
}

IA_TEST(sandbox_escape_secrets_and_data_folder_invisible) {
    char secret_dir[] = "/tmp/ia-secret-XXXXXX", secret[64], data[512], db[600];
    IA_CHECK(mkdtemp(secret_dir) != NULL);
    snprintf(secret, sizeof secret, "%s/key", secret_dir);
    snprintf(data, sizeof data, "%s/data", ia_test_tmpdir());
    snprintf(db, sizeof db, "%s/interactd.db", data);
    mkdir(data, 0755);
    FILE *f = fopen(secret, "w"), *g = fopen(db, "w");
    IA_CHECK(f && g);
    fputs("s3cret-key", f), fputs("s3cret-db", g), fclose(f), fclose(g);
    chmod(secret, 0644), chmod(db, 0644);
    setenv("IA_SANDBOX_CANARY", "s3cret-env", 1);
    ia_sandbox_result r;
    IA_CHECK(run_fmt(&r,
                     "import os\n"
                     "for p in ['%s', '%s', '%s', '/root', '/home', '/work', '/etc', '/var',\n"
                     "          '/run', '/etc/passwd']:\n"
                     "    print(p, os.path.exists(p))\n"
                     "    try: print(open(p).read())\n"
                     "    except OSError: pass\n"
                     "print('root', sorted(os.listdir('/')))\n"
                     "print('tmp', os.listdir('/tmp'), os.getcwd(), os.environ['HOME'])\n"
                     "print('env', sorted(os.environ))\n"
                     "print('fds', sorted(os.listdir('/proc/self/fd')))\n",
                     secret, data, db) == 0);
    IA_CHECK(strstr(r.out, "s3cret") == NULL);
    IA_CHECK(strstr(r.out, "True") == NULL); /* none of them exists in there */
    static const char *const hidden[] = {"'root'", "'home'", "'work'", "'etc'", "'var'", "'run'"};
    for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++) IA_CHECK(strstr(r.out, hidden[i]) == NULL);
    IA_CHECK_CONTAINS(r.out, "tmp [] /tmp /tmp\n");
    IA_CHECK_CONTAINS(r.out, "env ['HOME', 'LANG', 'PATH', 'PWD', 'PYTHONDONTWRITEBYTECODE', "
                             "'PYTHONUNBUFFERED', 'TMPDIR']\n");
    IA_CHECK_CONTAINS(r.out, "fds ['0', '1', '2', '3']\n"); /* 3: listdir's own */
    ia_sandbox_result_free(&r);
    unsetenv("IA_SANDBOX_CANARY");
    unlink(secret), rmdir(secret_dir), unlink(db), rmdir(data);
}

IA_TEST(sandbox_escape_host_processes_invisible) {
    char host_pid[16];
    snprintf(host_pid, sizeof host_pid, "%ld", (long)getpid());
    setenv("IA_SANDBOX_CANARY", "s3cret-env", 1);
    ia_sandbox_result r;
    IA_CHECK(run_fmt(&r,
                     "import os\n"
                     "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
                     "print('pids', pids)\n"
                     "for p in pids:\n"
                     "    print(p, open('/proc/%%d/cmdline' %% p, 'rb').read().split(b'\\0')[0])\n"
                     "try: print('environ1', open('/proc/1/environ', 'rb').read())\n"
                     "except OSError as e: print('environ1 denied', e.errno)\n"
                     "try: os.kill(%s, 0); print('HOST PID SIGNALLED')\n"
                     "except OSError as e: print('kill failed', e.errno)\n",
                     host_pid, NULL, NULL) == 0);
    unsetenv("IA_SANDBOX_CANARY");
    IA_CHECK_CONTAINS(r.out, "pids [1, 2]\n"); /* bwrap's init and the code */
    IA_CHECK(strstr(r.out, "unit_tests") == NULL && strstr(r.out, "s3cret") == NULL);
    IA_CHECK(strstr(r.out, "HOST PID") == NULL);
    IA_CHECK_CONTAINS(r.out, "kill failed 3\n"); /* ESRCH */
    ia_sandbox_result_free(&r);
}

IA_TEST(sandbox_escape_no_root_no_namespaces) {
    ia_sandbox_result r;
    IA_CHECK(run_fmt(&r,
                     "import os, subprocess\n"
                     "for cmd in (['unshare', '-U', 'true'], ['unshare', '-rn', 'true']):\n"
                     "    print(cmd[1], subprocess.run(cmd, capture_output=True).returncode)\n"
                     "try: os.setuid(0); print('ROOT')\n"
                     "except OSError as e: print('setuid failed', e.errno)\n"
                     "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')]\n"
                     "print(caps[0].split()[1], os.uname().nodename)\n",
                     NULL, NULL, NULL) == 0);
    IA_CHECK_CONTAINS(r.out, "-U 1\n-rn 1\n"); /* --disable-userns */
    IA_CHECK_CONTAINS(r.out, "setuid failed 22\n"); /* EINVAL: no uid 0 in its namespace */
    IA_CHECK_CONTAINS(r.out, "0000000000000000 sandbox\n");
    ia_sandbox_result_free(&r);
}

/* The fork bomb's processes, sampled from the host while it runs. */
typedef struct { atomic_bool done; int max; } sampler;

static int count_descendants(void) {
    static long pid[65536], ppid[65536];
    int n = 0, found = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *de; d && (de = readdir(d)) && n < 65536;) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
        pid[n] = atol(de->d_name), ppid[n++] = tsb_status_field(de->d_name, "PPid:");
    }
    if (d) closedir(d);
    for (int i = 0; i < n; i++) {
        long up = ppid[i];
        for (int depth = 0; depth < 64 && up > 1 && up != getpid(); depth++) {
            long next = -1;
            for (int j = 0; j < n && next < 0; j++) if (pid[j] == up) next = ppid[j];
            up = next;
        }
        found += up == getpid();
    }
    return found;
}

static void *sample(void *arg) {
    sampler *s = arg;
    while (!atomic_load(&s->done)) {
        int k = count_descendants();
        if (k > s->max) s->max = k;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return NULL;
}

IA_TEST(sandbox_escape_fork_bomb) {
    int children = tsb_count_children(), left = tsb_count_sandbox_procs();
    ia_sandbox_opts o = tsb_small();
    o.wall_ms = 2000;
    sampler s = {.max = 0};
    pthread_t t;
    IA_CHECK(pthread_create(&t, NULL, sample, &s) == 0);
    ia_sandbox_result r;
    int rc = tsb_run(&o, "import os\nwhile True: os.fork()\n", &r);
    atomic_store(&s.done, true);
    pthread_join(t, NULL);
    IA_CHECK(rc == 0);
    IA_CHECK(r.wall_ms < o.wall_ms + 1000);
    IA_CHECK_CONTAINS(r.err, "BlockingIOError"); /* fork refused: RLIMIT_NPROC */
    fprintf(stderr, "(at most %d processes seen, limit %d) ", s.max, o.max_procs);
    /* + the keeper, and bwrap when not root (RLIMIT_NPROC set inside) */
    IA_CHECK(s.max > 2 && s.max <= o.max_procs + (geteuid() == 0 ? 1 : 2));
    ia_sandbox_result_free(&r);
    /* Nothing left: no child, no descendant, no process of a sandbox uid
     * (beyond zombies an earlier crash may have left to an init that does
     * not reap). */
    IA_CHECK(tsb_count_children() == children);
    IA_CHECK(count_descendants() == 0);
    IA_CHECK(tsb_count_sandbox_procs() == left);
}
