/* limits: what bounds the connections, so that no client can exhaust the
 * server (issue 9 §4). Contract:
 *
 * - Total: at most `max` connections are served. Connections accepted
 *   beyond it, up to `overflow` more, are marked at accept and answered
 *   503 `unavailable` + Connection: close once their headers arrive (a
 *   clear refusal the SDK retries); past that they are closed at accept.
 *   Connections already served are never refused because others came.
 * - Per client address: at most `per_ip` at once (libmicrohttpd's own
 *   check, before ours): the rest are closed at accept, at once.
 * - Time: `timeout_s` of inactivity while reading headers or a body, or on
 *   an idle keep-alive connection, closes it. A handler that is working (a
 *   blocking create waiting for its generation) holds the clock
 *   (ia_http_conn_hold), and an answer restarts it (ia_http_conn_touch):
 *   an SSE stream restarts it at each frame it hands out, so a stream that
 *   waits on a long prefill is never idle, while its reader still notices a
 *   client that left.
 * - File descriptors: one per connection, so start-up raises the soft
 *   RLIMIT_NOFILE to the hard one (as nginx's worker_rlimit_nofile and
 *   redis do) and lowers `max` to fit under it, saying so.
 *
 * Threads: the accept policy and the notifications run on libmicrohttpd's
 * listening thread (a connection's close notification too, at its clean-up);
 * the counters are atomic, so /metrics or a handler may read them anywhere. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "http/http_int.h"
#include "lib/log.h"

/* Descriptors kept for everything else: the store, the listening socket,
 * kvcache files, model loading, logs. */
#define FD_RESERVE 128

/* The two marks a connection's socket context carries. */
static char MARK_SERVED, MARK_OVERFLOW;

/* Raises the soft descriptor limit to the hard one; returns the limit. */
static unsigned long raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1ul << 20 : (unsigned long)rl.rlim_cur;
}

void ia_http_conns_init(ia_http_conns *k, unsigned max, unsigned per_ip, unsigned timeout_s) {
    memset(k, 0, sizeof *k);
    unsigned long nofile = raise_nofile();
    unsigned long room = nofile > 2 * FD_RESERVE ? nofile - FD_RESERVE : nofile / 2;
    unsigned over = max / 16 > 16 ? max / 16 : 16;
    if (max + (unsigned long)over > room) {
        unsigned fit = (unsigned)(room * 16 / 17);
        ia_warn("connections: --max-connections %u does not fit under the descriptor limit "
                "(ulimit -n %lu): serving at most %u", max, nofile, fit);
        max = fit;
        over = (unsigned)(room - fit);
    }
    k->max = max;
    k->overflow = over;
    k->per_ip = per_ip && per_ip < max ? per_ip : 0;
    k->timeout_s = timeout_s;
    atomic_init(&k->served, 0);
    atomic_init(&k->over, 0);
    char ip[32] = "no per-address limit";
    if (k->per_ip) snprintf(ip, sizeof ip, "%u per address", k->per_ip);
    ia_info("connections: at most %u (then %u more get 503, the rest are closed), %s; "
            "read timeout %us; descriptor limit %lu", k->max, k->overflow, ip, k->timeout_s, nofile);
}

enum MHD_Result ia_http_conns_accept(void *cls, const struct sockaddr *addr, socklen_t len) {
    (void)addr;
    (void)len;
    ia_http_conns *k = cls;
    /* Past the 503 room: closed at once, before a thread is made for it. */
    if (atomic_load(&k->served) >= k->max && atomic_load(&k->over) >= k->overflow) return MHD_NO;
    return MHD_YES;
}

void ia_http_conns_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    (void)c;
    ia_http_conns *k = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        /* Both notifications and the accept policy run on the listening
         * thread, so the check and the increment cannot race each other;
         * a close elsewhere only makes room. */
        if (atomic_load(&k->served) < k->max) {
            atomic_fetch_add(&k->served, 1);
            *socket_context = &MARK_SERVED;
        } else {
            atomic_fetch_add(&k->over, 1);
            *socket_context = &MARK_OVERFLOW;
        }
        return;
    }
    if (*socket_context == &MARK_SERVED) atomic_fetch_sub(&k->served, 1);
    else if (*socket_context == &MARK_OVERFLOW) atomic_fetch_sub(&k->over, 1);
    *socket_context = NULL;
}

bool ia_http_conn_overflow(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci && ci->socket_context == &MARK_OVERFLOW;
}

void ia_http_conn_hold(struct MHD_Connection *c) {
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
}

void ia_http_conn_touch(struct MHD_Connection *c, unsigned timeout_s) {
    if (!timeout_s) return;
    /* libmicrohttpd restarts the inactivity clock when a timeout is set on
     * a connection that had none: hold, then set. */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, timeout_s);
}
