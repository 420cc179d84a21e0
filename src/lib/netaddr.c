/* netaddr: address classes, IP literals and address lists (netaddr.h). */
#include "lib/netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An address reduced to what matters here: IPv4 (a mapped IPv6 address
 * included) in a[0..4), or IPv6 in a[0..16); port 0 when none. */
typedef struct {
    int fam; /* 4 or 6; 0 = neither */
    uint8_t a[16];
    unsigned port;
} naddr;

static const uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static naddr from_sockaddr(const struct sockaddr *sa) {
    naddr n = {0};
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        n.fam = 4;
        memcpy(n.a, &in->sin_addr, 4);
        n.port = ntohs(in->sin_port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = in6->sin6_addr.s6_addr;
        n.port = ntohs(in6->sin6_port);
        if (memcmp(b, MAPPED, 12) == 0) {
            n.fam = 4;
            memcpy(n.a, b + 12, 4);
        } else {
            n.fam = 6;
            memcpy(n.a, b, 16);
        }
    }
    return n;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *net, int bits) {
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)whole) != 0) return false;
    if (!rest) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

/* ---- one entry: "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT", "NET/BITS" ---- */

typedef struct {
    naddr addr;
    int bits;
} nentry;

static int parse_port(const char *s, size_t n, unsigned *port) {
    if (n == 0 || n > 5) return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535) return -1;
    *port = v;
    return 0;
}

static int parse_bits(const char *s, size_t n, int max, int *bits) {
    if (n == 0 || n > 3) return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max) return -1;
    *bits = v;
    return 0;
}

/* The address in s[0..n), strictly (dotted quad or IPv6 text): a list is
 * written by an operator, so no shorthand forms there. */
static int parse_addr(const char *s, size_t n, naddr *out) {
    char buf[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    struct sockaddr_in in = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, buf, &in.sin_addr) == 1) {
        *out = from_sockaddr((struct sockaddr *)&in);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &in6.sin6_addr) == 1) {
        *out = from_sockaddr((struct sockaddr *)&in6);
        return 0;
    }
    return -1;
}

static int parse_entry(const char *s, size_t n, nentry *e) {
    const char *addr = s, *end = s + n, *tail;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return -1;
        addr = s + 1;
        tail = close + 1;
        if (parse_addr(addr, (size_t)(close - addr), &e->addr) || e->addr.fam != 6) return -1;
    } else {
        const char *slash = memchr(s, '/', n);
        const char *colon = memchr(s, ':', n);
        bool v4_port = colon && !memchr(colon + 1, ':', (size_t)(end - colon - 1));
        tail = slash ? slash : v4_port ? colon : end;
        if (parse_addr(addr, (size_t)(tail - addr), &e->addr)) return -1;
    }
    e->bits = e->addr.fam == 4 ? 32 : 128;
    e->addr.port = 0;
    if (tail == end) return 0;
    if (*tail == ':') return parse_port(tail + 1, (size_t)(end - tail - 1), &e->addr.port);
    if (*tail == '/') return parse_bits(tail + 1, (size_t)(end - tail - 1), e->bits, &e->bits);
    return -1;
}

static bool entry_match(const nentry *e, const naddr *a) {
    if (e->addr.fam != a->fam) return false;
    if (e->addr.port && e->addr.port != a->port) return false;
    return prefix_eq(a->a, e->addr.a, e->bits);
}

bool ia_addr_net_match(const char *entry, size_t n, const struct sockaddr *sa) {
    nentry e;
    naddr a = from_sockaddr(sa);
    return a.fam && parse_entry(entry, n, &e) == 0 && entry_match(&e, &a);
}

/* ---- classes ---------------------------------------------------------- */

typedef struct {
    const char *net;
    ia_addr_kind kind;
} klass;

/* First match wins. */
static const klass V4[] = {
    {"0.0.0.0/8", IA_ADDR_UNSPECIFIED},    {"10.0.0.0/8", IA_ADDR_PRIVATE},
    {"100.64.0.0/10", IA_ADDR_SHARED},     {"127.0.0.0/8", IA_ADDR_LOOPBACK},
    {"169.254.0.0/16", IA_ADDR_LINK_LOCAL}, {"172.16.0.0/12", IA_ADDR_PRIVATE},
    {"192.0.0.0/24", IA_ADDR_RESERVED},    {"192.0.2.0/24", IA_ADDR_RESERVED},
    {"192.168.0.0/16", IA_ADDR_PRIVATE},   {"198.18.0.0/15", IA_ADDR_RESERVED},
    {"198.51.100.0/24", IA_ADDR_RESERVED}, {"203.0.113.0/24", IA_ADDR_RESERVED},
    {"224.0.0.0/4", IA_ADDR_MULTICAST},    {"240.0.0.0/4", IA_ADDR_RESERVED},
};
static const klass V6[] = {
    {"::/128", IA_ADDR_UNSPECIFIED},     {"::1/128", IA_ADDR_LOOPBACK},
    {"64:ff9b:1::/48", IA_ADDR_RESERVED}, {"100::/64", IA_ADDR_RESERVED},
    {"2001:db8::/32", IA_ADDR_RESERVED}, {"fc00::/7", IA_ADDR_PRIVATE},
    {"fe80::/10", IA_ADDR_LINK_LOCAL},   {"fec0::/10", IA_ADDR_PRIVATE},
    {"ff00::/8", IA_ADDR_MULTICAST},
};

static ia_addr_kind kind_in(const klass *t, size_t n, const naddr *a) {
    for (size_t i = 0; i < n; i++) {
        nentry e;
        if (parse_entry(t[i].net, strlen(t[i].net), &e) == 0 && entry_match(&e, a)) return t[i].kind;
    }
    return IA_ADDR_PUBLIC;
}

/* The IPv4 address an IPv6 one embeds where a translator or relay may take
 * it: IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:AABB:CCDD::. */
static bool embedded_v4(const naddr *a, naddr *v4) {
    static const uint8_t ZERO[12] = {0};
    static const uint8_t NAT64[12] = {0, 0x64, 0xff, 0x9b};
    const uint8_t *src = NULL;
    if (memcmp(a->a, ZERO, 12) == 0) src = a->a + 12;
    else if (memcmp(a->a, NAT64, 12) == 0) src = a->a + 12;
    else if (a->a[0] == 0x20 && a->a[1] == 0x02) src = a->a + 2;
    if (!src) return false;
    *v4 = (naddr){.fam = 4};
    memcpy(v4->a, src, 4);
    return true;
}

ia_addr_kind ia_addr_kind_of(const struct sockaddr *sa) {
    naddr a = from_sockaddr(sa), v4;
    if (a.fam == 4) return kind_in(V4, sizeof V4 / sizeof *V4, &a);
    if (a.fam != 6) return IA_ADDR_RESERVED;
    ia_addr_kind k = kind_in(V6, sizeof V6 / sizeof *V6, &a);
    if (k != IA_ADDR_PUBLIC) return k; /* :: and ::1 before ::/96 */
    return embedded_v4(&a, &v4) ? kind_in(V4, sizeof V4 / sizeof *V4, &v4) : k;
}

bool ia_addr_is_public(const struct sockaddr *sa) { return ia_addr_kind_of(sa) == IA_ADDR_PUBLIC; }

const char *ia_addr_kind_name(ia_addr_kind k) {
    switch (k) {
    case IA_ADDR_PUBLIC: return "a public address";
    case IA_ADDR_UNSPECIFIED: return "an unspecified (this-host) address";
    case IA_ADDR_LOOPBACK: return "a loopback address";
    case IA_ADDR_PRIVATE: return "a private address";
    case IA_ADDR_SHARED: return "a shared (carrier-grade NAT) address";
    case IA_ADDR_LINK_LOCAL: return "a link-local address";
    case IA_ADDR_MULTICAST: return "a multicast address";
    case IA_ADDR_RESERVED: break;
    }
    return "a reserved, non-public address";
}

void ia_addr_text(const struct sockaddr *sa, char buf[IA_ADDR_TEXT_MAX]) {
    const void *src = NULL;
    if (sa->sa_family == AF_INET) src = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6) src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!src || !inet_ntop(sa->sa_family, src, buf, IA_ADDR_TEXT_MAX))
        snprintf(buf, IA_ADDR_TEXT_MAX, "(address family %d)", sa->sa_family);
}

/* ---- literals in URLs ------------------------------------------------- */

int ia_addr_parse_literal(const char *host, struct sockaddr_storage *ss) {
    char buf[INET6_ADDRSTRLEN + 64];
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n >= sizeof buf) return -1;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[') {
        if (n < 2 || host[n - 1] != ']') return -1;
        host++;
        n -= 2;
    }
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (strchr(buf, ':')) {
        char *zone = strchr(buf, '%');
        if (zone) *zone = '\0';
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        return inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1 ? 0 : -1;
    }
    /* inet_aton stops at a blank and takes what came before it. */
    for (size_t i = 0; i < n; i++)
        if (isspace((unsigned char)buf[i])) return -1;
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    return inet_aton(buf, &in->sin_addr) ? 0 : -1;
}

bool ia_addr_host_kind(const char *host, ia_addr_kind *kind) {
    struct sockaddr_storage ss;
    if (ia_addr_parse_literal(host, &ss) != 0) return false;
    *kind = ia_addr_kind_of((struct sockaddr *)&ss);
    return true;
}

/* ---- lists ------------------------------------------------------------ */

static const char *next_token(const char *p, size_t *n) {
    while (*p == ',' || isspace((unsigned char)*p)) p++;
    *n = strcspn(p, ", \t\r\n");
    return *n ? p : NULL;
}

bool ia_addr_list_match(const char *list, const struct sockaddr *sa) {
    naddr a = from_sockaddr(sa);
    size_t n;
    if (!list || !a.fam) return false;
    for (const char *t = next_token(list, &n); t; t = next_token(t + n, &n)) {
        nentry e;
        if (parse_entry(t, n, &e) == 0 && entry_match(&e, &a)) return true;
    }
    return false;
}

int ia_addr_list_check(const char *list, const char *what, ia_err *e) {
    size_t n;
    if (!list) return 0;
    for (const char *t = next_token(list, &n); t; t = next_token(t + n, &n)) {
        nentry ent;
        if (parse_entry(t, n, &ent) != 0)
            return ia_fail(e, IA_EINVALID,
                           "%s: '%.*s' is not an address, address:port or network "
                           "(10.0.0.5, 10.0.0.5:8080, [fd00::1]:443, 10.20.0.0/16)",
                           what, (int)n, t);
    }
    return 0;
}
