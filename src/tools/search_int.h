/* search_int: the backends' constructors and the parts of them the tests
 * and the fuzz target reach (search.h has the contract). */
#ifndef IA_TOOLS_SEARCH_INT_H
#define IA_TOOLS_SEARCH_INT_H

#include "tools/search.h"

/* SearxNG at base URL url (search_searx.c): requests go to exactly the
 * instance's host and port (allowed even on a private address, as the
 * operator configured it; nothing else is), no redirects followed. */
int ia_searx_open(const char *url, int timeout_ms, size_t max_bytes, ia_search_backend *out, ia_err *err);
/* SearxNG's JSON answer body[0..len) into at most max hits (its results'
 * url, title, content; entries without a URL skipped). 0, or -1 + err
 * when it is not SearxNG's JSON. */
int ia_searx_parse(const char *body, size_t len, size_t max, ia_search_hits *out, ia_err *err);
/* The query URL: base + "/search?q=" + q percent-encoded + "&format=json"
 * (+ "&categories=images"). malloc'd. */
char *ia_searx_url(const char *base, const char *q, bool images);

/* Shared with the maps backends (maps_osm.c): an operator's instance at
 * url may be reached at exactly its host:port — *allow its addresses with
 * the port, for fetch.h's allow_addrs (NULL when the host does not resolve
 * now: then only a public address is reached). -1 + err naming flag when
 * url is not an http(s) URL. */
int ia_backend_allow(const char *url, const char *flag, char **allow, ia_err *err);
/* s percent-encoded (all but RFC 3986's unreserved characters). */
struct ia_buf;
void ia_backend_escape(struct ia_buf *b, const char *s);

/* The local index (search_index.c) over dirs, kept in the SQLite file
 * path; indexed before it returns, then every rescan_s seconds. */
int ia_index_open(const char *const *dirs, size_t n_dirs, const char *path, int rescan_s,
                  ia_search_backend *out, ia_err *err);
/* One scan now (what the timer does): files added, changed and removed
 * since the last. Returns the number of files indexed, or -1. */
int ia_index_rescan(void *self);
/* The FTS5 query for a user's words: each word quoted, joined by OR (so
 * no text is ever FTS5 syntax); NULL when q has no word. malloc'd. */
char *ia_index_match(const char *q);

#endif
