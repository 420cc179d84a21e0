/* maps_int: the OpenStreetMap backends' parts the tool (maps.c), the tests
 * and the fuzz target reach (maps.h has the contract). */
#ifndef IA_TOOLS_MAPS_INT_H
#define IA_TOOLS_MAPS_INT_H

#include "tools/maps.h"

typedef struct ia_place {
    char *name;     /* one line; never empty (a place without one is named by its category) */
    char *place_id; /* "osm:node/123", "osm:way/5", "osm:relation/9" */
    char *url;      /* https://www.openstreetmap.org/node/123 */
    char *category; /* "amenity=cafe"; may be "" */
    char *address;  /* one line; may be "" */
    double lat, lon;
} ia_place;

typedef struct ia_places {
    ia_place *v;
    size_t n;
} ia_places;
void ia_places_free(ia_places *p);

/* Nominatim's /search answer (format=jsonv2: a list of places, each with
 * osm_type, osm_id, lat and lon as strings, name, display_name, category,
 * type, address) into at most max places; entries without an OSM object
 * or coordinates are skipped. 0, or -1 + err when it is not that list
 * (Nominatim's own {error: ...} answer named). */
int ia_nominatim_parse(const char *body, size_t len, size_t max, ia_places *out, ia_err *err);
/* Overpass's JSON answer ({elements: [{type, id, lat, lon | center,
 * tags}]}) into at most max places; elements without a name or
 * coordinates skipped. 0, or -1 + err (its `remark` named when it gave
 * one, as it does on a runtime error). */
int ia_overpass_parse(const char *body, size_t len, size_t max, ia_places *out, ia_err *err);

/* base + "/search?q=Q&format=jsonv2&limit=N&addressdetails=1", with
 * "&viewbox=LON1,LAT1,LON2,LAT2&bounded=1" (a box of about radius_m
 * around where) when where is known. malloc'd. */
char *ia_nominatim_url(const char *base, const char *q, size_t limit, const ia_maps_where *where, double radius_m);
/* The OSM tag a category query asks for ("cafes near me" →
 * "amenity=cafe"), or NULL when q names no category this table knows. */
const char *ia_maps_category(const char *q);
/* The Overpass QL query for places within radius_m of where, tagged tag
 * or (tag NULL) named like name (case-insensitive):
 * "[out:json][timeout:T];nwr[KEY=VALUE](around:R,LAT,LON);out center N;"
 * or ...nwr["name"~"WORDS",i](around:...)...; the words' regex and
 * quoting characters made '.'. malloc'd. */
char *ia_overpass_ql(const char *tag, const char *name, const ia_maps_where *where, double radius_m, size_t max,
                     int timeout_s);
/* The great-circle distance in metres. */
double ia_maps_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
