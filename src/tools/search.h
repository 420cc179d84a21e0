/* search: google_search's backends behind one small interface, and the
 * tool itself (what it offers the model, one call's run).
 *
 * A backend answers a query with its best hits (url, title, snippet):
 *  - SearxNG (search_searx.c): `--search-url URL`, the JSON API of an
 *    instance the operator runs (GET URL/search?q=...&format=json);
 *  - the local index (search_index.c): `--search-index DIR`, SQLite FTS5
 *    over the text, Markdown and HTML files of the operator's folders,
 *    in its own database file, rescanned on a timer.
 * With both configured, every query asks both (the web's hits first).
 * Internal to src/tools/ but for the set-up (cli/main.c) and the tests.
 * Thread-safe: calls run on the loop's tool threads, many at once. */
#ifndef IA_TOOLS_SEARCH_H
#define IA_TOOLS_SEARCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

typedef struct ia_search_hit {
    char *url, *title, *snippet; /* one line each (valid UTF-8, no newlines); title may be "" */
} ia_search_hit;

typedef struct ia_search_hits {
    ia_search_hit *v;
    size_t n;
} ia_search_hits;
/* Appends a hit (copied; text made one line of valid UTF-8, the snippet
 * cut at IA_SEARCH_SNIPPET_MAX bytes); a hit whose url is already in h is
 * dropped. */
void ia_search_hits_add(ia_search_hits *h, const char *url, const char *title, const char *snippet);
void ia_search_hits_free(ia_search_hits *h);
#define IA_SEARCH_SNIPPET_MAX 400

/* One backend. query appends the query's best hits (at most max) to out:
 * 0, or -1 + err when it could not answer (a message for the model).
 * cancel (may be NULL): the run's flag; a backend that waits on the
 * network polls it and gives up once it is set. */
typedef struct ia_search_backend {
    const char *kind; /* "searxng", "index" */
    void *self;
    int (*query)(void *self, const char *q, bool images, size_t max, atomic_bool *cancel, ia_search_hits *out,
                 ia_err *err);
    void (*destroy)(void *self);
} ia_search_backend;

typedef struct ia_search_opts {
    const char *url;          /* SearxNG's base URL; NULL: none */
    const char *const *dirs;  /* folders to index; n_dirs 0: no index */
    size_t n_dirs;
    const char *index_path;   /* the index's SQLite file (not the interactions' database) */
    int rescan_s;             /* how often the folders are looked at again; 0 = 30 */
    int timeout_ms;           /* one SearxNG request; 0 = 10000 */
    size_t max_bytes;         /* one SearxNG answer; 0 = 4 MiB */
} ia_search_opts;

typedef struct ia_search ia_search;

/* The configured backends (the index built before it returns, then kept
 * up to date by a thread of its own). NULL + err when one cannot start
 * (an unreadable folder, a URL that is not http(s)). */
ia_search *ia_search_new(const ia_search_opts *o, ia_err *err);
void ia_search_free(ia_search *s);
/* "SearxNG at URL", "an index of N files in DIR, ..." (for the log). */
const char *ia_search_describe(const ia_search *s);
/* Every backend's best hits for q (at most max each), in s's order; -1
 * + err when none could answer. cancel: as for a backend's query. */
int ia_search_query(ia_search *s, const char *q, bool images, size_t max, atomic_bool *cancel, ia_search_hits *out,
                    ia_err *err);

/* The tool: the call's JSON Schema ({queries: 1..IA_SEARCH_MAX_QUERIES
 * strings}) and one call's run — each query's best hits as the wire's
 * result (search_suggestions first, then {url, title} per source), and
 * the numbered list the model reads ("[n] title / URL: ... / snippet").
 * cancel (may be NULL): the run's flag; once set, the request under way
 * ends within curl's poll (about a second) and no further query is asked. */
#define IA_SEARCH_MAX_QUERIES 5
#define IA_SEARCH_HITS_PER_QUERY 5
extern const char IA_SEARCH_PARAMS[];
void ia_search_run(ia_search *s, const char *args_json, bool images, atomic_bool *cancel, char **result_json,
                   bool *is_error, char **model_text);

#endif
