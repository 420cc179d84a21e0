/* listen: the listening socket, made apart from the daemon so that `serve`
 * can bind its port first — a busy port is reported in a second, before the
 * data folder's store is recovered and before minutes of model loading —
 * and hand the socket to libmicrohttpd once the core exists. Connections
 * that arrive meanwhile wait in the kernel's backlog. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "lib/log.h"

#define BACKLOG 1024

static bool is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* host → one address with the port set; with auth off, a host that is not
 * loopback becomes 127.0.0.1 (with a loud warning). */
static int resolve(const char *host, int port, bool auth, struct sockaddr_storage *ss, ia_err *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, NULL, &hints, &ai);
    if (gai != 0 || !ai) {
        ia_fail(err, IA_EINVALID, "cannot resolve host %s: %s", host, gai_strerror(gai));
        return -1;
    }
    memset(ss, 0, sizeof *ss);
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!auth && !is_loopback((struct sockaddr *)ss)) {
        ia_warn("!!! no API keys are configured, so interactd will NOT listen on %s: "
                "it binds 127.0.0.1 only. Give --api-keys FILE or INTERACTD_API_KEYS to serve "
                "other machines. !!!", host);
        memset(ss, 0, sizeof *ss);
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (ss->ss_family == AF_INET6) ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    else ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    return 0;
}

int ia_http_listen(const char *host, int port, bool auth, ia_http_listener *l, ia_err *err) {
    l->fd = -1;
    if (!host || !*host) host = "127.0.0.1";
    if (port < 0 || port > 65535) {
        ia_fail(err, IA_EINVALID, "port %d out of range", port);
        return -1;
    }
    struct sockaddr_storage ss;
    if (resolve(host, port, auth, &ss, err) < 0) return -1;
    bool v6 = ss.ss_family == AF_INET6;
    if (v6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, l->host, sizeof l->host);
    else inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, l->host, sizeof l->host);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ia_fail(err, IA_EINTERNAL, "cannot make a socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    /* SO_REUSEADDR lets a restart bind while old connections sit in
     * TIME_WAIT; it does not let two servers listen on one port. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, BACKLOG) < 0) {
        int e = errno;
        close(fd);
        ia_fail(err, IA_EINTERNAL, "cannot listen on %s%s%s:%d: %s%s", v6 ? "[" : "", l->host,
                v6 ? "]" : "", port, strerror(e),
                e == EADDRINUSE ? " (another server holds the port; pick another with --port)" : "");
        return -1;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    l->port = port;
    if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
        l->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                  : ((struct sockaddr_in *)&got)->sin_port);
    l->fd = fd;
    return 0;
}

void ia_http_listener_close(ia_http_listener *l) {
    if (l && l->fd >= 0) close(l->fd);
    if (l) l->fd = -1;
}
