/* fetch + netaddr: the address classes, IP literals and lists; the URL
 * checks made before any I/O; and ia_fetch against a real HTTP/1.1 server
 * on 127.0.0.1 run by a thread of this test (answers, content types,
 * redirects re-checked, size and time caps, remote errors, a proxy).
 *
 * The loopback server is reached with allow_private, or with its exact
 * address:port in allow_addrs — the operator's allow list, a real feature
 * — so a redirect from it to another non-public address is refused by the
 * same checks as in production; nothing here is a test-only bypass. No
 * test needs the internet. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fetch.h"
#include "lib/netaddr.h"
#include "lib/util.h"
#include "unit.h"

/* ---- the classifier --------------------------------------------------- */

static struct sockaddr_storage sa_of(const char *text, unsigned port) {
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
    }
    return ss;
}

IA_TEST(fetch_addr_kinds) {
    static const struct { const char *a; ia_addr_kind k; } cases[] = {
        {"0.0.0.0", IA_ADDR_UNSPECIFIED}, {"0.1.2.3", IA_ADDR_UNSPECIFIED},
        {"10.1.2.3", IA_ADDR_PRIVATE}, {"100.64.0.1", IA_ADDR_SHARED},
        {"100.127.255.255", IA_ADDR_SHARED}, {"100.128.0.1", IA_ADDR_PUBLIC},
        {"127.0.0.1", IA_ADDR_LOOPBACK}, {"127.255.0.9", IA_ADDR_LOOPBACK},
        {"169.254.169.254", IA_ADDR_LINK_LOCAL}, {"172.16.0.1", IA_ADDR_PRIVATE},
        {"172.31.255.255", IA_ADDR_PRIVATE}, {"172.32.0.1", IA_ADDR_PUBLIC},
        {"192.0.0.8", IA_ADDR_RESERVED}, {"192.168.1.1", IA_ADDR_PRIVATE},
        {"198.18.0.1", IA_ADDR_RESERVED}, {"198.19.255.255", IA_ADDR_RESERVED},
        {"198.20.0.1", IA_ADDR_PUBLIC}, {"224.0.0.1", IA_ADDR_MULTICAST},
        {"239.255.255.255", IA_ADDR_MULTICAST}, {"240.0.0.1", IA_ADDR_RESERVED},
        {"255.255.255.255", IA_ADDR_RESERVED}, {"8.8.8.8", IA_ADDR_PUBLIC},
        {"11.0.0.1", IA_ADDR_PUBLIC}, {"93.184.216.34", IA_ADDR_PUBLIC},
        {"::", IA_ADDR_UNSPECIFIED}, {"::1", IA_ADDR_LOOPBACK},
        {"::ffff:127.0.0.1", IA_ADDR_LOOPBACK}, {"::ffff:10.0.0.1", IA_ADDR_PRIVATE},
        {"::ffff:169.254.169.254", IA_ADDR_LINK_LOCAL}, {"::ffff:8.8.8.8", IA_ADDR_PUBLIC},
        {"::127.0.0.1", IA_ADDR_LOOPBACK}, {"::8.8.8.8", IA_ADDR_PUBLIC},
        {"64:ff9b::10.0.0.1", IA_ADDR_PRIVATE}, {"64:ff9b::8.8.8.8", IA_ADDR_PUBLIC},
        {"64:ff9b:1::1", IA_ADDR_RESERVED}, {"2002:a00:1::", IA_ADDR_PRIVATE},
        {"2002:7f00:1::5", IA_ADDR_LOOPBACK}, {"2002:808:808::", IA_ADDR_PUBLIC},
        {"fc00::1", IA_ADDR_PRIVATE}, {"fd12:3456::1", IA_ADDR_PRIVATE},
        {"fe80::1", IA_ADDR_LINK_LOCAL}, {"febf::1", IA_ADDR_LINK_LOCAL},
        {"fec0::1", IA_ADDR_PRIVATE}, {"ff02::1", IA_ADDR_MULTICAST},
        {"2001:db8::1", IA_ADDR_RESERVED}, {"100::1", IA_ADDR_RESERVED},
        {"2001:4860:4860::8888", IA_ADDR_PUBLIC}, {"2606:4700::1111", IA_ADDR_PUBLIC},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sockaddr_storage ss = sa_of(cases[i].a, 443);
        IA_CHECK(ss.ss_family != 0);
        ia_addr_kind k = ia_addr_kind_of((struct sockaddr *)&ss);
        if (k != cases[i].k) fprintf(stderr, "  %s: kind %d, expected %d\n", cases[i].a, k, cases[i].k);
        IA_CHECK(k == cases[i].k);
        IA_CHECK(ia_addr_is_public((struct sockaddr *)&ss) == (cases[i].k == IA_ADDR_PUBLIC));
    }
    struct sockaddr unix_sa = {.sa_family = AF_UNIX};
    IA_CHECK(!ia_addr_is_public(&unix_sa));
}

IA_TEST(fetch_host_literals) {
    static const struct { const char *h; ia_addr_kind k; } lit[] = {
        {"127.0.0.1", IA_ADDR_LOOPBACK}, {"127.1", IA_ADDR_LOOPBACK},
        {"0x7f.0.0.1", IA_ADDR_LOOPBACK}, {"2130706433", IA_ADDR_LOOPBACK},
        {"017700000001", IA_ADDR_LOOPBACK}, {"[::1]", IA_ADDR_LOOPBACK},
        {"::1", IA_ADDR_LOOPBACK}, {"[::ffff:127.0.0.1]", IA_ADDR_LOOPBACK},
        {"[fe80::1%eth0]", IA_ADDR_LINK_LOCAL}, {"0.0.0.0", IA_ADDR_UNSPECIFIED},
        {"10.1.2.3", IA_ADDR_PRIVATE}, {"8.8.8.8", IA_ADDR_PUBLIC},
        {"[2001:4860:4860::8888]", IA_ADDR_PUBLIC},
    };
    for (size_t i = 0; i < sizeof lit / sizeof *lit; i++) {
        ia_addr_kind k = IA_ADDR_PUBLIC;
        IA_CHECK(ia_addr_host_kind(lit[i].h, &k));
        if (k != lit[i].k) fprintf(stderr, "  %s: kind %d\n", lit[i].h, k);
        IA_CHECK(k == lit[i].k);
    }
    static const char *names[] = {"example.com", "localhost", "1.2.3.4.example", "10.0.0.1 x",
                                  "", "[::1", "::g", "1.2.3.4:80"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        ia_addr_kind k;
        IA_CHECK(!ia_addr_host_kind(names[i], &k));
    }
    char text[IA_ADDR_TEXT_MAX];
    struct sockaddr_storage ss = sa_of("::ffff:10.0.0.1", 0);
    ia_addr_text((struct sockaddr *)&ss, text);
    IA_CHECK_STREQ(text, "::ffff:10.0.0.1");
    IA_CHECK_STREQ(ia_addr_kind_name(IA_ADDR_LINK_LOCAL), "a link-local address");
}

IA_TEST(fetch_addr_lists) {
    const char *list = "10.0.0.5:8080, [fd00::1] 10.20.0.0/16,127.0.0.1:9,fd00:1::/32";
    static const struct { const char *a; unsigned port; bool in; } cases[] = {
        {"10.0.0.5", 8080, true},  {"10.0.0.5", 8081, false}, {"fd00::1", 1, true},
        {"fd00::2", 1, false},     {"10.20.3.4", 80, true},   {"10.21.0.1", 80, false},
        {"127.0.0.1", 9, true},    {"127.0.0.1", 10, false},  {"::ffff:127.0.0.1", 9, true},
        {"fd00:1:2::3", 443, true}, {"fd00:2::3", 443, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sockaddr_storage ss = sa_of(cases[i].a, cases[i].port);
        IA_CHECK(ia_addr_list_match(list, (struct sockaddr *)&ss) == cases[i].in);
    }
    struct sockaddr_storage ss = sa_of("10.0.0.5", 8080);
    IA_CHECK(!ia_addr_list_match(NULL, (struct sockaddr *)&ss));
    ia_err e;
    IA_CHECK(ia_addr_list_check(list, "--allow-url-addrs", &e) == 0);
    static const char *bad[] = {"10.0.0.5:99999", "intranet.example", "10.0.0.0/33",
                                "[::1", "fd00::/129", "10.0.0.5:", "1.2.3.4:80/8"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ia_err_clear(&e);
        IA_CHECK(ia_addr_list_check(bad[i], "--allow-url-addrs", &e) == -1);
        IA_CHECK(e.code == IA_EINVALID);
        IA_CHECK_CONTAINS(e.msg, "--allow-url-addrs: '");
        IA_CHECK_CONTAINS(e.msg, bad[i]);
    }
}

/* ---- the checks before any I/O ------------------------------------------ */

static const ia_fetch_opts NO_PROXY_OPTS = {.proxy = ""};

/* Refused at once, with the field and what was wrong in the message. */
IA_TEST(fetch_refused_urls) {
    static const struct { const char *url, *want; } cases[] = {
        {"http://127.0.0.1/", "refused to fetch http://127.0.0.1/: 127.0.0.1 is a loopback address"},
        {"http://10.1.2.3/", "10.1.2.3 is a private address (start the server with --allow-private-urls"},
        {"http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"},
        {"http://[::1]/", "::1 is a loopback address"},
        {"http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address"},
        {"http://0.0.0.0/", "0.0.0.0 is an unspecified"},
        {"http://0x7f.1/", "127.0.0.1 is a loopback address"},
        {"http://%31%32%37.0.0.1/", "127.0.0.1 is a loopback address"},
        {"https://[fd00::5]:8443/x", "fd00::5 is a private address"},
        {"file:///etc/passwd", "only http and https URLs are fetched, not file:"},
        {"ftp://x/", "only http and https URLs are fetched, not ftp:"},
        {"gopher://x/", "not gopher:"},
        {"data:image/png;base64,AAAA", "not data:"},
        {"//example.com/x", "not an absolute http or https URL"},
        {"http://user:pw@example.com/", "a URL with a user name or password is not fetched"},
        {"http://user@example.com/", "a URL with a user name or password is not fetched"},
        {"http://exa mple.com/", "not a valid URL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ia_err e;
        ia_err_clear(&e);
        IA_CHECK(ia_fetch_check_url(cases[i].url, &NO_PROXY_OPTS, "input[0].uri", &e) == -1);
        IA_CHECK(e.code == IA_EINVALID);
        IA_CHECK(strncmp(e.msg, "input[0].uri: ", 14) == 0);
        IA_CHECK_CONTAINS(e.msg, cases[i].want);
        /* And ia_fetch refuses them the same way, without a connection. */
        ia_fetched f;
        ia_err_clear(&e);
        IA_CHECK(ia_fetch(cases[i].url, &NO_PROXY_OPTS, "input[0].uri", &f, &e) == -1);
        IA_CHECK_CONTAINS(e.msg, cases[i].want);
        IA_CHECK(f.data == NULL && f.content_type == NULL && f.final_url == NULL);
    }
    ia_err e;
    IA_CHECK(ia_fetch_check_url("http://user:secret@example.com/", NULL, "u", &e) == -1);
    IA_CHECK(strstr(e.msg, "secret") == NULL);
    IA_CHECK(ia_fetch_check_url("http://example.com/a.png", &NO_PROXY_OPTS, "u", &e) == 0);
    IA_CHECK(ia_fetch_check_url("HTTPS://8.8.8.8/", &NO_PROXY_OPTS, "u", &e) == 0);
    ia_fetch_opts priv = {.proxy = "", .allow_private = true};
    IA_CHECK(ia_fetch_check_url("http://10.1.2.3/", &priv, "u", &e) == 0);
    IA_CHECK(ia_fetch_check_url("file:///etc/passwd", &priv, "u", &e) == -1);
    ia_fetch_opts list = {.proxy = "", .allow_addrs = "10.1.2.3:8080"};
    IA_CHECK(ia_fetch_check_url("http://10.1.2.3:8080/", &list, "u", &e) == 0);
    IA_CHECK(ia_fetch_check_url("http://10.1.2.3/", &list, "u", &e) == -1);
}

/* localhost is no literal: curl resolves it to loopback, and the address
 * connected to is refused (no connection is made). */
IA_TEST(fetch_localhost_refused_at_connect) {
    ia_fetched f;
    ia_err e;
    ia_err_clear(&e);
    IA_CHECK(ia_fetch("http://localhost/", &NO_PROXY_OPTS, "input[0].uri", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "input[0].uri: refused to fetch http://localhost/: ");
    IA_CHECK_CONTAINS(e.msg, "is a loopback address (start the server with --allow-private-urls");
}

IA_TEST(fetch_proxy_choice) {
    ia_fetch_opts o = {.proxy = "http://proxy.corp:3128",
                       .no_proxy = "example.com, .corp  10.0.0.0/8,::1,1.2.3.4"};
    static const struct { const char *host; bool direct; } cases[] = {
        {"example.com", true},  {"a.b.example.com", true}, {"EXAMPLE.COM.", true},
        {"badexample.com", false}, {"x.corp", true},       {"corp", true},
        {"10.2.3.4", true},     {"11.0.0.1", false},       {"[::1]", true},
        {"[::2]", false},       {"1.2.3.4", true},         {"google.com", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p = ia_fetch_proxy_for(&o, "http", cases[i].host);
        if (cases[i].direct) IA_CHECK(p == NULL);
        else IA_CHECK_STREQ(p, "http://proxy.corp:3128");
    }
    o.no_proxy = "*";
    IA_CHECK(ia_fetch_proxy_for(&o, "https", "example.org") == NULL);
    o.proxy = "";
    IA_CHECK(ia_fetch_proxy_for(&o, "https", "example.org") == NULL);
    /* The environment, as curl reads it (only when nothing is set there
     * already: a developer's proxy is left alone). */
    static const char *vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                 "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return;
    setenv("HTTP_PROXY", "http://httpoxy:1", 1);
    setenv("HTTPS_PROXY", "http://secure:2", 1);
    setenv("no_proxy", "internal.example", 1);
    const char *plain = ia_fetch_proxy_for(NULL, "http", "example.org");
    const char *tls = ia_fetch_proxy_for(NULL, "https", "example.org");
    const char *skip = ia_fetch_proxy_for(NULL, "https", "a.internal.example");
    unsetenv("HTTP_PROXY");
    unsetenv("HTTPS_PROXY");
    unsetenv("no_proxy");
    IA_CHECK(plain == NULL); /* upper-case HTTP_PROXY is not read */
    IA_CHECK_STREQ(tls, "http://secure:2");
    IA_CHECK(skip == NULL);
}

/* ---- a loopback HTTP/1.1 server ----------------------------------------- */

typedef struct {
    int lfd, port, other_port; /* other_port: a port nothing listens on */
    int stop[2];
    pthread_t th;
    pthread_mutex_t mu;
    int requests;
    char last[2048]; /* the last request's head */
} tsrv;

static void send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

static void sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sendf(int fd, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) send_all(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Waits until the client goes away or the server stops (at most 3 s). */
static void stall(tsrv *s, int fd) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    char junk[256];
    while (poll(p, 2, 3000) > 0 && !p[1].revents && recv(fd, junk, sizeof junk, 0) > 0) {}
}

static void redirect(int fd, const char *loc) {
    sendf(fd, "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", loc);
}

static void answer_body(int fd, const char *ctype, const char *body, size_t n) {
    sendf(fd, "HTTP/1.1 200 OK\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
          ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", n);
    send_all(fd, body, n);
}

static void answer_chunked(int fd, size_t total) {
    char chunk[100];
    memset(chunk, 'c', sizeof chunk);
    sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    for (size_t sent = 0; sent < total; sent += sizeof chunk) {
        sendf(fd, "%zx\r\n", sizeof chunk);
        send_all(fd, chunk, sizeof chunk);
        sendf(fd, "\r\n");
    }
    sendf(fd, "0\r\n\r\n");
}

static void route(tsrv *s, int fd, const char *path) {
    char loc[128];
    if (!strcmp(path, "/ok")) answer_body(fd, "image/png; charset=x", "\x89PNG\r\n\x1a\nhello", 13);
    else if (!strcmp(path, "/upper")) answer_body(fd, " Text/HTML ;charset=UTF-8", "<p>", 3);
    else if (!strcmp(path, "/none")) answer_body(fd, NULL, "", 0);
    else if (!strcmp(path, "/redir")) redirect(fd, "/ok");
    else if (!strcmp(path, "/loop")) redirect(fd, "/loop");
    else if (!strcmp(path, "/redir-private")) redirect(fd, "http://10.0.0.1/x");
    else if (!strcmp(path, "/redir-metadata")) redirect(fd, "http://169.254.169.254/latest/meta-data");
    else if (!strcmp(path, "/redir-file")) redirect(fd, "file:///etc/passwd");
    else if (!strcmp(path, "/redir-abs")) {
        snprintf(loc, sizeof loc, "http://127.0.0.1:%d/ok", s->port);
        redirect(fd, loc);
    } else if (!strcmp(path, "/redir-localhost")) {
        snprintf(loc, sizeof loc, "http://localhost:%d/ok", s->port);
        redirect(fd, loc);
    } else if (!strcmp(path, "/redir-localhost-other")) {
        snprintf(loc, sizeof loc, "http://localhost:%d/ok", s->other_port);
        redirect(fd, loc);
    } else if (!strcmp(path, "/big")) {
        char body[5000];
        memset(body, 'b', sizeof body);
        answer_body(fd, "image/png", body, sizeof body);
    } else if (!strcmp(path, "/exact")) {
        char body[1000];
        memset(body, 'e', sizeof body);
        answer_body(fd, "image/png", body, sizeof body);
    } else if (!strcmp(path, "/redir-body")) {
        char body[3000];
        memset(body, 'r', sizeof body);
        sendf(fd, "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: %zu\r\n\r\n", sizeof body);
        send_all(fd, body, sizeof body);
    } else if (!strcmp(path, "/missing-big")) {
        sendf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 100000\r\n\r\nnot found, and more to come");
        stall(s, fd);
    } else if (!strcmp(path, "/chunked")) answer_chunked(fd, 5000);
    else if (!strcmp(path, "/chunked-small")) answer_chunked(fd, 500);
    else if (!strcmp(path, "/stall-body")) {
        sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc");
        stall(s, fd);
    } else if (!strcmp(path, "/stall")) stall(s, fd);
    else sendf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
}

/* Reads a request head; answers by its path (an absolute-form target, as a
 * client sends to a proxy, is answered by its path too). */
static void serve_one(tsrv *s, int fd) {
    char req[2048];
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (n < sizeof req - 1 && poll(&p, 1, 2000) > 0) {
        ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[n] = '\0';
    char target[1024] = "";
    if (sscanf(req, "GET %1023s", target) != 1) return;
    pthread_mutex_lock(&s->mu);
    s->requests++;
    snprintf(s->last, sizeof s->last, "%s", req);
    pthread_mutex_unlock(&s->mu);
    const char *path = target;
    if (!strncmp(target, "http://", 7)) path = strchr(target + 7, '/');
    route(s, fd, path ? path : "/");
}

static void *serve(void *arg) {
    tsrv *s = arg;
    struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    while (poll(p, 2, -1) > 0 && !p[1].revents) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        serve_one(s, fd);
        close(fd);
    }
    return NULL;
}

static int bind_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int tsrv_start(tsrv *s) {
    memset(s, 0, sizeof *s);
    int other = bind_loopback(&s->other_port); /* closed at once: nothing listens there */
    if (other >= 0) close(other);
    if ((s->lfd = bind_loopback(&s->port)) < 0 || pipe(s->stop) != 0) return -1;
    pthread_mutex_init(&s->mu, NULL);
    return pthread_create(&s->th, NULL, serve, s) == 0 ? 0 : -1;
}

static void tsrv_stop(tsrv *s) {
    if (write(s->stop[1], "x", 1) != 1) perror("tsrv_stop");
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
    pthread_mutex_destroy(&s->mu);
}

static void tsrv_last(tsrv *s, char *out, size_t n) {
    pthread_mutex_lock(&s->mu);
    snprintf(out, n, "%s", s->last);
    pthread_mutex_unlock(&s->mu);
}

static int tsrv_requests(tsrv *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- fetches ------------------------------------------------------------ */

#define URL(s, path) (snprintf(url, sizeof url, "http://127.0.0.1:%d%s", (s)->port, path), url)

IA_TEST(fetch_answers) {
    tsrv s;
    IA_CHECK(tsrv_start(&s) == 0);
    char url[256], allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%d", s.port);
    ia_fetch_opts o = {.proxy = "", .allow_private = true, .user_agent = "interactd-test/1"};
    ia_fetched f;
    ia_err e;
    int rc = ia_fetch(URL(&s, "/ok"), &o, "input[0].uri", &f, &e);
    if (rc) fprintf(stderr, "  %s\n", e.msg);
    IA_CHECK(rc == 0);
    IA_CHECK(f.len == 13 && memcmp(f.data, "\x89PNG\r\n\x1a\nhello", 13) == 0 && f.data[13] == 0);
    IA_CHECK_STREQ(f.content_type, "image/png");
    IA_CHECK_STREQ(f.final_url, url);
    IA_CHECK(f.status == 200);
    ia_fetched_free(&f);
    IA_CHECK(f.data == NULL);
    char last[2048];
    tsrv_last(&s, last, sizeof last);
    IA_CHECK_CONTAINS(last, "User-Agent: interactd-test/1\r\n");

    IA_CHECK(ia_fetch(URL(&s, "/upper"), &o, "u", &f, &e) == 0);
    IA_CHECK_STREQ(f.content_type, "text/html");
    ia_fetched_free(&f);
    IA_CHECK(ia_fetch(URL(&s, "/none"), &o, "u", &f, &e) == 0);
    IA_CHECK(f.content_type == NULL && f.len == 0 && f.data && f.data[0] == 0);
    ia_fetched_free(&f);

    /* The operator's allow list instead of allow_private: that address and
     * port only. */
    ia_fetch_opts listed = {.proxy = "", .allow_addrs = allow};
    IA_CHECK(ia_fetch(URL(&s, "/ok"), &listed, "u", &f, &e) == 0);
    ia_fetched_free(&f);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", s.other_port);
    IA_CHECK(ia_fetch(url, &listed, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "127.0.0.1 is a loopback address");

    IA_CHECK(ia_fetch(URL(&s, "/missing"), &o, "input[2].uri", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "input[2].uri: ");
    IA_CHECK_CONTAINS(e.msg, "/missing: the server answered HTTP 404");
    IA_CHECK(f.data == NULL);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", s.other_port);
    IA_CHECK(ia_fetch(url, &o, "u", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "could not connect");
    /* Resolving may also time out where no name server answers. */
    ia_fetch_opts quick = {.proxy = "", .allow_private = true, .timeout_ms = 1500};
    IA_CHECK(ia_fetch("http://no-such-host.invalid/x", &quick, "u", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "u: http://no-such-host.invalid/x: ");
    tsrv_stop(&s);
}

IA_TEST(fetch_redirects) {
    tsrv s;
    IA_CHECK(tsrv_start(&s) == 0);
    char url[256], allow[64], ok[256];
    snprintf(allow, sizeof allow, "127.0.0.1:%d", s.port);
    snprintf(ok, sizeof ok, "http://127.0.0.1:%d/ok", s.port);
    ia_fetch_opts priv = {.proxy = "", .allow_private = true};
    ia_fetch_opts listed = {.proxy = "", .allow_addrs = allow};
    ia_fetched f;
    ia_err e;
    IA_CHECK(ia_fetch(URL(&s, "/redir"), &listed, "u", &f, &e) == 0);
    IA_CHECK_STREQ(f.final_url, ok);
    IA_CHECK_STREQ(f.content_type, "image/png");
    ia_fetched_free(&f);
    IA_CHECK(ia_fetch(URL(&s, "/redir-abs"), &priv, "u", &f, &e) == 0);
    IA_CHECK_STREQ(f.final_url, ok);
    ia_fetched_free(&f);
    /* localhost:PORT is 127.0.0.1:PORT (allowed) and ::1 (refused): the
     * check is per address connected to. */
    IA_CHECK(ia_fetch(URL(&s, "/redir-localhost"), &listed, "u", &f, &e) == 0);
    ia_fetched_free(&f);

    /* Every hop is checked again: a literal, the address connected to, the
     * scheme. */
    IA_CHECK(ia_fetch(URL(&s, "/redir-private"), &listed, "input[0].uri", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "input[0].uri: refused to fetch http://10.0.0.1/x (redirected from http://127.0.0.1:");
    IA_CHECK_CONTAINS(e.msg, "): 10.0.0.1 is a private address (start the server with --allow-private-urls to allow it)");
    IA_CHECK(ia_fetch(URL(&s, "/redir-metadata"), &listed, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "169.254.169.254 is a link-local address");
    IA_CHECK(ia_fetch(URL(&s, "/redir-localhost-other"), &listed, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "u: refused to fetch http://localhost:");
    IA_CHECK_CONTAINS(e.msg, "is a loopback address");
    IA_CHECK(ia_fetch(URL(&s, "/redir-file"), &priv, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "u: file:///etc/passwd (redirected from http://127.0.0.1:");
    IA_CHECK_CONTAINS(e.msg, "only http and https URLs are fetched, not file:");

    ia_fetch_opts few = {.proxy = "", .allow_private = true, .max_redirects = 3};
    int before = tsrv_requests(&s);
    IA_CHECK(ia_fetch(URL(&s, "/loop"), &few, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "more than 3 redirects");
    IA_CHECK(tsrv_requests(&s) - before == 4);
    ia_fetch_opts none = {.proxy = "", .allow_private = true, .max_redirects = -1};
    IA_CHECK(ia_fetch(URL(&s, "/redir"), &none, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "no redirect is followed");
    IA_CHECK(ia_fetch(URL(&s, "/loop"), &priv, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "more than 5 redirects");
    tsrv_stop(&s);
}

IA_TEST(fetch_size_cap) {
    tsrv s;
    IA_CHECK(tsrv_start(&s) == 0);
    char url[256];
    ia_fetch_opts o = {.proxy = "", .allow_private = true, .max_bytes = 1000};
    ia_fetched f;
    ia_err e;
    IA_CHECK(ia_fetch(URL(&s, "/big"), &o, "input[1].uri", &f, &e) == -1);
    IA_CHECK(e.code == IA_ETOOLARGE);
    IA_CHECK_CONTAINS(e.msg, "input[1].uri: ");
    IA_CHECK_CONTAINS(e.msg, "the response is larger than the limit of 1000 bytes");
    /* Not a 2xx answer: its body is not read, its size does not matter. */
    int rrc = ia_fetch(URL(&s, "/redir-body"), &o, "u", &f, &e);
    if (rrc) fprintf(stderr, "  %s\n", e.msg);
    IA_CHECK(rrc == 0);
    IA_CHECK_STREQ(f.content_type, "image/png");
    ia_fetched_free(&f);
    int64_t t0 = ia_mono_ms();
    IA_CHECK(ia_fetch(URL(&s, "/missing-big"), &o, "u", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "the server answered HTTP 404");
    IA_CHECK(ia_mono_ms() - t0 < 1000); /* not waiting for the rest */
    IA_CHECK(ia_fetch(URL(&s, "/chunked"), &o, "u", &f, &e) == -1);
    IA_CHECK(e.code == IA_ETOOLARGE);
    IA_CHECK_CONTAINS(e.msg, "larger than the limit of 1000 bytes");
    IA_CHECK(ia_fetch(URL(&s, "/exact"), &o, "u", &f, &e) == 0);
    IA_CHECK(f.len == 1000 && f.data[0] == 'e' && f.data[999] == 'e');
    ia_fetched_free(&f);
    IA_CHECK(ia_fetch(URL(&s, "/chunked-small"), &o, "u", &f, &e) == 0);
    IA_CHECK(f.len == 500 && f.data[499] == 'c');
    IA_CHECK_STREQ(f.content_type, "application/octet-stream");
    ia_fetched_free(&f);
    tsrv_stop(&s);
}

IA_TEST(fetch_timeout) {
    tsrv s;
    IA_CHECK(tsrv_start(&s) == 0);
    char url[256];
    ia_fetch_opts o = {.proxy = "", .allow_private = true, .timeout_ms = 300};
    ia_fetched f;
    ia_err e;
    int64_t t0 = ia_mono_ms();
    IA_CHECK(ia_fetch(URL(&s, "/stall"), &o, "input[0].uri", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "input[0].uri: ");
    IA_CHECK_CONTAINS(e.msg, "timed out");
    IA_CHECK(ia_fetch(URL(&s, "/stall-body"), &o, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "timed out");
    int64_t ms = ia_mono_ms() - t0;
    IA_CHECK(ms >= 590 && ms < 1800);
    tsrv_stop(&s);
}

/* Through a proxy the proxy is trusted (it is on loopback here and
 * allow_private is off), and what the URL shows is still refused. */
IA_TEST(fetch_through_proxy) {
    tsrv s;
    IA_CHECK(tsrv_start(&s) == 0);
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", s.port);
    ia_fetch_opts o = {.proxy = proxy};
    ia_fetched f;
    ia_err e;
    int rc = ia_fetch("http://media.example/ok", &o, "u", &f, &e);
    if (rc) fprintf(stderr, "  %s\n", e.msg);
    IA_CHECK(rc == 0);
    IA_CHECK_STREQ(f.content_type, "image/png");
    IA_CHECK_STREQ(f.final_url, "http://media.example/ok");
    ia_fetched_free(&f);
    char last[2048];
    tsrv_last(&s, last, sizeof last);
    IA_CHECK(strncmp(last, "GET http://media.example/ok HTTP/1.1\r\n", 38) == 0);
    int before = tsrv_requests(&s);
    IA_CHECK(ia_fetch("http://10.0.0.1/ok", &o, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "10.0.0.1 is a private address");
    IA_CHECK(ia_fetch("http://localhost/ok", &o, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "localhost is a loopback name");
    IA_CHECK(ia_fetch("http://a.localhost./ok", &o, "u", &f, &e) == -1);
    IA_CHECK(tsrv_requests(&s) == before);
    /* A host no_proxy sends direct is checked at connect like any other. */
    o.no_proxy = "direct.localhost";
    IA_CHECK(ia_fetch("http://direct.localhost/ok", &o, "u", &f, &e) == -1);
    IA_CHECK_CONTAINS(e.msg, "is a loopback address");
    /* A proxy that is not there is the server's problem, not the client's. */
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", s.other_port);
    o.no_proxy = NULL;
    IA_CHECK(ia_fetch("http://media.example/ok", &o, "u", &f, &e) == -1);
    IA_CHECK(e.code == IA_EINTERNAL);
    IA_CHECK_CONTAINS(e.msg, "the configured proxy is unreachable");
    tsrv_stop(&s);
}

/* Many threads at once, each with its own transfer. */
typedef struct {
    const char *url;
    int ok;
} fetch_job;

static void *fetch_many(void *arg) {
    fetch_job *j = arg;
    ia_fetch_opts o = {.proxy = "", .allow_private = true};
    for (int i = 0; i < 5; i++) {
        ia_fetched f;
        ia_err e;
        if (ia_fetch(j->url, &o, "u", &f, &e) == 0 && f.len == 13) j->ok++;
        ia_fetched_free(&f);
    }
    return NULL;
}

IA_TEST(fetch_threads) {
    tsrv s;
    IA_CHECK(tsrv_start(&s) == 0);
    char url[256];
    URL(&s, "/ok");
    pthread_t th[4];
    fetch_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (fetch_job){url, 0};
        IA_CHECK(pthread_create(&th[i], NULL, fetch_many, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    tsrv_stop(&s);
    for (int i = 0; i < 4; i++) IA_CHECK(jobs[i].ok == 5);
}
