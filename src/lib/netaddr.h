/* netaddr: is a network address one the server may fetch from on a client's
 * behalf? The fetcher (fetch.h) asks this about every address it connects
 * to, so a URL cannot make the server reach its own loopback, the cloud's
 * metadata service (169.254.169.254) or the private network it sits in
 * (server-side request forgery).
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address it maps
 * (an AF_INET6 socket connects to exactly that); the IPv4-compatible
 * (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002:AABB:CCDD::/48) forms
 * are classified by the IPv4 address they embed, since a translator or
 * relay may deliver them there.
 *
 * Pure functions of their arguments: no allocation, no I/O, thread-safe. */
#ifndef IA_LIB_NETADDR_H
#define IA_LIB_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "lib/err.h"

typedef enum {
    IA_ADDR_PUBLIC,
    IA_ADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
    IA_ADDR_LOOPBACK,    /* 127/8, ::1 */
    IA_ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 */
    IA_ADDR_SHARED,      /* 100.64/10, carrier-grade NAT */
    IA_ADDR_LINK_LOCAL,  /* 169.254/16 (cloud metadata), fe80::/10 */
    IA_ADDR_MULTICAST,   /* 224/4, ff00::/8 */
    IA_ADDR_RESERVED,    /* 192.0.0/24, 192.0.2/24, 198.18/15, 198.51.100/24,
                            203.0.113/24, 240/4, 255.255.255.255, 100::/64,
                            2001:db8::/32, 64:ff9b:1::/48; any other family */
} ia_addr_kind;

/* The kind of sa (AF_INET or AF_INET6; the port is not looked at). */
ia_addr_kind ia_addr_kind_of(const struct sockaddr *sa);
bool ia_addr_is_public(const struct sockaddr *sa);
/* "a loopback address", "a private address", ... for messages. */
const char *ia_addr_kind_name(ia_addr_kind k);

/* The address (without port) as text into buf: "10.0.0.1", "::1". */
#define IA_ADDR_TEXT_MAX 64
void ia_addr_text(const struct sockaddr *sa, char buf[IA_ADDR_TEXT_MAX]);

/* Parses an IP literal as a URL's host spells it: IPv4, also in the
 * shorthand forms inet_aton and URL parsers take ("127.1", "0x7f000001",
 * "2130706433"); IPv6 with or without its brackets (a zone "%eth0" is
 * ignored). Fills ss (port 0) and returns 0, or -1 when host is a name. */
int ia_addr_parse_literal(const char *host, struct sockaddr_storage *ss);

/* The check before any DNS: true when host is an IP literal, with its kind
 * in *kind; false for a name (only the address connected to can tell). */
bool ia_addr_host_kind(const char *host, ia_addr_kind *kind);

/* Address lists, as operators write them in a flag: entries separated by
 * commas or blanks, each an address ("10.0.0.5", "fd00::1"), an address
 * with a port ("10.0.0.5:8080", "[fd00::1]:443") or a network in CIDR
 * ("10.20.0.0/16", "fd00::/8"). A mapped address matches as its IPv4.
 * ia_addr_list_match: does sa (with its port) match an entry? Entries that
 * do not parse never match; ia_addr_list_check refuses them up front, with
 * a message that starts with what (the flag's name). */
bool ia_addr_list_match(const char *list, const struct sockaddr *sa);
int ia_addr_list_check(const char *list, const char *what, ia_err *e);

/* Does the literal address in entry[0..n) ("10.0.0.0/8", "::1") contain sa?
 * false when the entry is not an address or network (a host name). */
bool ia_addr_net_match(const char *entry, size_t n, const struct sockaddr *sa);

#endif
