/* maps_osm.c: OpenStreetMap's two APIs as google_maps reads them
 * (maps_int.h): Nominatim's /search (format=jsonv2) and the Overpass
 * API's JSON output — the requests built, the answers parsed into places.
 * Pure functions; the network is maps.c's. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "tools/maps_int.h"
#include "tools/search_int.h"

#define EARTH_RADIUS_M 6371008.8

void ia_places_free(ia_places *p) {
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].place_id);
        free(p->v[i].url);
        free(p->v[i].category);
        free(p->v[i].address);
    }
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* ---- ids and pages ------------------------------------------------------------------ */

static bool osm_type_ok(const char *t) {
    return t && (!strcmp(t, "node") || !strcmp(t, "way") || !strcmp(t, "relation"));
}

/* "TYPE/ID" at s: the type and a number in digits only (no sign, no
 * blank: %llu alone would take "-5"). */
static bool type_and_id(const char *s, char type[16], unsigned long long *id) {
    int used = 0;
    const char *slash = strchr(s, '/');
    if (!slash || !isdigit((unsigned char)slash[1]) || sscanf(s, "%15[a-z]/%llu%n", type, id, &used) != 2)
        return false;
    return !s[used] && osm_type_ok(type) && *id > 0;
}

char *ia_maps_place_url(const char *place_id) {
    char type[16];
    unsigned long long id;
    if (!place_id || strncmp(place_id, "osm:", 4) || !type_and_id(place_id + 4, type, &id)) return NULL;
    return ia_asprintf("https://www.openstreetmap.org/%s/%llu", type, id);
}

char *ia_maps_place_id(const char *url) {
    static const char P[] = "https://www.openstreetmap.org/";
    char type[16];
    unsigned long long id;
    if (!url || strncmp(url, P, sizeof P - 1) || !type_and_id(url + sizeof P - 1, type, &id)) return NULL;
    return ia_asprintf("osm:%s/%llu", type, id);
}

/* An OSM id as Nominatim writes it: a number, or (older versions) a string
 * of digits. */
static bool osm_id_of(json_t *v, unsigned long long *id) {
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *id = (unsigned long long)json_integer_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 19) return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    *id = strtoull(s, NULL, 10);
    return *id > 0;
}

/* A coordinate: a number, or a decimal string (Nominatim's lat/lon). */
static bool coord_of(json_t *v, double lim, double *out) {
    const char *s = json_string_value(v);
    char *end = NULL;
    double d = json_is_number(v) ? json_number_value(v) : s ? strtod(s, &end) : NAN;
    if (s && (end == s || *end)) return false;
    if (!isfinite(d) || d < -lim || d > lim) return false;
    *out = d;
    return true;
}

static void add_place(ia_places *out, const char *type, unsigned long long id, const char *name,
                      const char *category, const char *address, double lat, double lon) {
    char *pid = ia_asprintf("osm:%s/%llu", type, id);
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->v[i].place_id, pid) == 0) {
            free(pid);
            return;
        }
    char *n = ia_one_line(name, 200);
    if (!*n) { /* a place without a name: its category names it */
        free(n);
        n = ia_one_line(*category ? category : pid, 200);
    }
    out->v = ia_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
    out->v[out->n++] = (ia_place){n, pid, ia_maps_place_url(pid), ia_one_line(category, 100), ia_one_line(address, 300),
                                  lat, lon};
}

/* ---- Nominatim ------------------------------------------------------------------------ */

int ia_nominatim_parse(const char *body, size_t len, size_t max, ia_places *out, ia_err *err) {
    json_t *j = json_loadb(body ? body : "", len, 0, NULL);
    if (!json_is_array(j)) {
        const char *e = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        if (!e) e = json_string_value(json_object_get(j, "error"));
        char *msg = e ? ia_one_line(e, 200) : NULL;
        int rc = msg ? ia_fail(err, IA_EINVALID, "Nominatim answered an error: %s", msg)
                     : ia_fail(err, IA_EINVALID, "the answer is not Nominatim's JSON (a list of places)");
        free(msg);
        json_decref(j);
        return rc;
    }
    size_t i;
    json_t *r;
    json_array_foreach(j, i, r) {
        if (out->n >= max) break;
        const char *type = json_string_value(json_object_get(r, "osm_type"));
        unsigned long long id;
        double lat, lon;
        if (!osm_type_ok(type) || !osm_id_of(json_object_get(r, "osm_id"), &id) ||
            !coord_of(json_object_get(r, "lat"), 90, &lat) || !coord_of(json_object_get(r, "lon"), 180, &lon))
            continue;
        /* jsonv2 says category; format=json said class */
        const char *k = json_string_value(json_object_get(r, "category"));
        if (!k) k = json_string_value(json_object_get(r, "class"));
        const char *v = json_string_value(json_object_get(r, "type"));
        char *cat = k && v ? ia_asprintf("%s=%s", k, v) : ia_strdup(v ? v : k ? k : "");
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *display = json_string_value(json_object_get(r, "display_name"));
        char *first = NULL; /* without a name, display_name's first part is the place's */
        if ((!name || !*name) && display) first = ia_strndup(display, strcspn(display, ","));
        add_place(out, type, id, name && *name ? name : first ? first : "", cat, display ? display : "", lat, lon);
        free(first);
        free(cat);
    }
    json_decref(j);
    return 0;
}

static void put_coord(ia_buf *b, double d) { ia_buf_printf(b, "%.6f", d); }

char *ia_nominatim_url(const char *base, const char *q, size_t limit, const ia_maps_where *where, double radius_m) {
    ia_buf b;
    ia_buf_init(&b, 0);
    ia_buf_printf(&b, "%s/search?q=", base);
    ia_backend_escape(&b, q);
    ia_buf_printf(&b, "&format=jsonv2&limit=%zu&addressdetails=1", limit);
    if (where && where->known) {
        /* viewbox=<x1>,<y1>,<x2>,<y2>: longitudes and latitudes of two corners */
        double dlat = radius_m / EARTH_RADIUS_M * 180 / M_PI;
        double c = cos(where->lat * M_PI / 180);
        double dlon = c > 0.01 ? dlat / c : 360; /* near a pole: every longitude */
        double lat1 = fmax(where->lat - dlat, -90), lat2 = fmin(where->lat + dlat, 90);
        double lon1 = dlon >= 180 ? -180 : fmax(where->lon - dlon, -180);
        double lon2 = dlon >= 180 ? 180 : fmin(where->lon + dlon, 180);
        ia_buf_puts(&b, "&viewbox=");
        put_coord(&b, lon1);
        ia_buf_puts(&b, ",");
        put_coord(&b, lat1);
        ia_buf_puts(&b, ",");
        put_coord(&b, lon2);
        ia_buf_puts(&b, ",");
        put_coord(&b, lat2);
        ia_buf_puts(&b, "&bounded=1");
    }
    return ia_buf_take(&b);
}

/* ---- Overpass ------------------------------------------------------------------------- */

/* The address an element's addr:* tags spell, "" without them. */
static char *tags_address(json_t *tags) {
    static const char *const parts[] = {"addr:housenumber", "addr:street", "addr:postcode", "addr:city", NULL};
    ia_buf b;
    ia_buf_init(&b, 0);
    for (size_t i = 0; parts[i]; i++) {
        const char *v = json_string_value(json_object_get(tags, parts[i]));
        if (!v || !*v) continue;
        /* "12 Main Street, 1010 Vienna": the number before its street */
        ia_buf_printf(&b, "%s%s", !b.len ? "" : i == 1 && json_object_get(tags, parts[0]) ? " " : ", ", v);
    }
    return ia_buf_take(&b);
}

static char *tags_category(json_t *tags) {
    static const char *const keys[] = {"amenity", "shop", "tourism", "leisure", "healthcare", "office", "craft",
                                       "historic", NULL};
    for (size_t i = 0; keys[i]; i++) {
        const char *v = json_string_value(json_object_get(tags, keys[i]));
        if (v && *v) return ia_asprintf("%s=%s", keys[i], v);
    }
    return ia_strdup("");
}

int ia_overpass_parse(const char *body, size_t len, size_t max, ia_places *out, ia_err *err) {
    json_t *j = json_loadb(body ? body : "", len, 0, NULL);
    json_t *els = json_object_get(j, "elements");
    const char *remark = json_string_value(json_object_get(j, "remark"));
    if (!json_is_array(els) || (remark && !json_array_size(els))) {
        char *msg = remark ? ia_one_line(remark, 200) : NULL;
        int rc = msg ? ia_fail(err, IA_EINVALID, "Overpass answered: %s", msg)
                     : ia_fail(err, IA_EINVALID, "the answer is not the Overpass API's JSON (no `elements` list)");
        free(msg);
        json_decref(j);
        return rc;
    }
    size_t i;
    json_t *e;
    json_array_foreach(els, i, e) {
        if (out->n >= max) break;
        const char *type = json_string_value(json_object_get(e, "type"));
        json_t *tags = json_object_get(e, "tags");
        const char *name = json_string_value(json_object_get(tags, "name"));
        json_t *at = json_object_get(e, "center") ? json_object_get(e, "center") : e; /* ways, relations: center */
        unsigned long long id;
        double lat, lon;
        if (!osm_type_ok(type) || !name || !*name || !json_is_integer(json_object_get(e, "id")) ||
            !osm_id_of(json_object_get(e, "id"), &id) || !coord_of(json_object_get(at, "lat"), 90, &lat) ||
            !coord_of(json_object_get(at, "lon"), 180, &lon))
            continue;
        char *addr = tags_address(tags), *cat = tags_category(tags);
        add_place(out, type, id, name, cat, addr, lat, lon);
        free(addr);
        free(cat);
    }
    json_decref(j);
    return 0;
}

/* The words of a "near me" query and the OSM tags they ask for: a small
 * table of the common ones. */
static const struct {
    const char *word, *tag;
} CATEGORIES[] = {
    {"cafe", "amenity=cafe"},         {"café", "amenity=cafe"},         {"coffee", "amenity=cafe"},
    {"restaurant", "amenity=restaurant"}, {"bar", "amenity=bar"},       {"pub", "amenity=pub"},
    {"pharmacy", "amenity=pharmacy"}, {"hospital", "amenity=hospital"}, {"bank", "amenity=bank"},
    {"atm", "amenity=atm"},           {"parking", "amenity=parking"},   {"library", "amenity=library"},
    {"school", "amenity=school"},     {"toilet", "amenity=toilets"},    {"fuel", "amenity=fuel"},
    {"cinema", "amenity=cinema"},     {"supermarket", "shop=supermarket"}, {"bakery", "shop=bakery"},
    {"hotel", "tourism=hotel"},       {"museum", "tourism=museum"},     {"park", "leisure=park"},
    {"playground", "leisure=playground"},
};

/* Whether w[0..n) is word t or its plural ("cafes", "pharmacies"). */
static bool word_is(const char *w, size_t n, const char *t) {
    size_t k = strlen(t);
    if (n == k || (n == k + 1 && tolower((unsigned char)w[k]) == 's')) return !strncasecmp(w, t, k);
    return n == k + 2 && t[k - 1] == 'y' && !strncasecmp(w, t, k - 1) && !strncasecmp(w + k - 1, "ies", 3);
}

const char *ia_maps_category(const char *q) {
    for (const char *p = q; p && *p;) {
        while (*p && !isalnum((unsigned char)*p) && (unsigned char)*p < 0x80) p++;
        const char *w = p;
        while (*p && (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)) p++;
        for (size_t i = 0; p > w && i < sizeof CATEGORIES / sizeof *CATEGORIES; i++)
            if (word_is(w, (size_t)(p - w), CATEGORIES[i].word)) return CATEGORIES[i].tag;
    }
    return NULL;
}

/* A user's words as a case-insensitive regular expression inside a QL
 * string: every character that means something to the regex or to QL's
 * quoting (and any control character) becomes '.', which matches it too,
 * so nothing the model writes can end the string or the query. */
static char *name_pattern(const char *q) {
    char *p = ia_one_line(q, 100);
    for (char *c = p; *c; c++)
        if (strchr("\\\"'.^$|?*+()[]{}", *c)) *c = '.';
    return p;
}

char *ia_overpass_ql(const char *tag, const char *name, const ia_maps_where *where, double radius_m, size_t max,
                     int timeout_s) {
    char *filter;
    if (tag) {
        const char *eq = strchr(tag, '=');
        /* the table's tags only: letters, '_' and ':' need no quoting in QL */
        filter = ia_asprintf("[%.*s=%s]", eq ? (int)(eq - tag) : (int)strlen(tag), tag, eq ? eq + 1 : "yes");
    } else {
        char *pat = name_pattern(name ? name : "");
        filter = ia_asprintf("[\"name\"~\"%s\",i]", pat);
        free(pat);
    }
    char *ql = ia_asprintf("[out:json][timeout:%d];nwr%s(around:%.0f,%.6f,%.6f);out center %zu;", timeout_s, filter,
                           radius_m, where->lat, where->lon, max);
    free(filter);
    return ql;
}

double ia_maps_distance_m(double lat1, double lon1, double lat2, double lon2) {
    double r = M_PI / 180, dlat = (lat2 - lat1) * r, dlon = (lon2 - lon1) * r;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * r) * cos(lat2 * r) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * EARTH_RADIUS_M * atan2(sqrt(a), sqrt(1 - a));
}
