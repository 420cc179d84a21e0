/* maps: google_maps on OpenStreetMap — the places a query names, from a
 * Nominatim instance (its /search API, jsonv2) and, when the request gives
 * the user's latitude/longitude, an Overpass API instance first (POST
 * /api/interpreter, an Overpass QL `around` query: places of the kind the
 * query names, "cafes", else places named like it; the nearest first),
 * Nominatim then within a box around the user, then anywhere; and the
 * tool itself (what it offers the model, one
 * call's run). Both are the operator's own instances (`--maps-url`,
 * `--overpass-url`), self-hosted or public: exactly their host:port is
 * reached (allowed even on a private address), no redirect followed,
 * under a time and size limit.
 * Internal to src/tools/ but for the set-up (cli/main.c) and the tests.
 * Thread-safe: calls run on the loop's tool threads, many at once. */
#ifndef IA_TOOLS_MAPS_H
#define IA_TOOLS_MAPS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

typedef struct ia_maps_opts {
    const char *url;          /* Nominatim's base URL (required) */
    const char *overpass_url; /* Overpass API's base URL; NULL: none */
    int timeout_ms;           /* one request; 0 = 10000 */
    size_t max_bytes;         /* one answer; 0 = 4 MiB */
} ia_maps_opts;

typedef struct ia_maps ia_maps;

/* NULL + err (naming the flag) when a URL is not http(s). */
ia_maps *ia_maps_new(const ia_maps_opts *o, ia_err *err);
void ia_maps_free(ia_maps *m);
/* "Nominatim at URL (and Overpass at URL)" (for the log). */
const char *ia_maps_describe(const ia_maps *m);

/* Where the user is, when the request says (google_maps' latitude and
 * longitude). */
typedef struct ia_maps_where {
    bool known;
    double lat, lon;
} ia_maps_where;

/* The tool: the call's JSON Schema ({queries: 1..IA_MAPS_MAX_QUERIES
 * strings}) and one call's run — each query's places as the wire's
 * result ([{places: [{name, place_id, url}]}], one entry per query) and
 * the numbered list the model reads ("[n] name / URL: ... / category,
 * address, coordinates, distance"; the form cite.h reads back). cancel
 * (may be NULL): the run's flag. m NULL: every query an error. */
#define IA_MAPS_MAX_QUERIES 5
#define IA_MAPS_PLACES_PER_QUERY 5
extern const char IA_MAPS_PARAMS[];
void ia_maps_run(ia_maps *m, const char *args_json, const ia_maps_where *where, atomic_bool *cancel,
                 char **result_json, bool *is_error, char **model_text);

/* The OpenStreetMap page of a place id ("osm:node/123" →
 * https://www.openstreetmap.org/node/123), and back; NULL when it is not
 * one. malloc'd. */
char *ia_maps_place_url(const char *place_id);
char *ia_maps_place_id(const char *url);

#endif
