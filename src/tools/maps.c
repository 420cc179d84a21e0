/* maps.c: google_maps' backends (Nominatim, Overpass) over the network,
 * and the tool's run (maps.h). */
#include "tools/maps.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fetch.h"
#include "lib/log.h"
#include "lib/util.h"
#include "tools/maps_int.h"
#include "tools/search_int.h"

/* Nominatim's usage policy asks every client to name itself. */
#define MAPS_USER_AGENT "interactd google_maps (OpenStreetMap Nominatim/Overpass client)"
#define NEAR_RADIUS_M 3000.0  /* "near me": Overpass's around, and first Nominatim's viewbox */
#define VIEWBOX_RADIUS_M 20000.0

typedef struct instance {
    char *base, *allow;
    ia_fetch_opts fetch;
} instance;

struct ia_maps {
    instance nominatim, overpass; /* overpass.base NULL: none */
    char *describe;
};

static int instance_open(instance *in, const char *url, const char *flag, const ia_maps_opts *o, ia_err *err) {
    if (ia_backend_allow(url, flag, &in->allow, err) != 0) return -1;
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/') n--;
    in->base = ia_strndup(url, n);
    in->fetch = (ia_fetch_opts){.max_bytes = o->max_bytes ? o->max_bytes : (size_t)4 << 20,
                                .timeout_ms = o->timeout_ms ? o->timeout_ms : 10000,
                                .connect_timeout_ms = 5000,
                                .max_redirects = -1,
                                .allow_addrs = in->allow,
                                .user_agent = MAPS_USER_AGENT};
    return 0;
}

ia_maps *ia_maps_new(const ia_maps_opts *o, ia_err *err) {
    ia_maps *m = ia_xcalloc(1, sizeof *m);
    if (!o->url) {
        ia_fail(err, IA_EINVALID, "--maps-url: required for google_maps (--overpass-url alone is not enough)");
        goto fail;
    }
    if (instance_open(&m->nominatim, o->url, "--maps-url", o, err) != 0) goto fail;
    if (o->overpass_url && instance_open(&m->overpass, o->overpass_url, "--overpass-url", o, err) != 0) goto fail;
    m->describe = o->overpass_url ? ia_asprintf("Nominatim at %s and Overpass at %s", o->url, o->overpass_url)
                                  : ia_asprintf("Nominatim at %s", o->url);
    return m;
fail:
    ia_maps_free(m);
    return NULL;
}

void ia_maps_free(ia_maps *m) {
    if (!m) return;
    free(m->nominatim.base);
    free(m->nominatim.allow);
    free(m->overpass.base);
    free(m->overpass.allow);
    free(m->describe);
    free(m);
}

const char *ia_maps_describe(const ia_maps *m) { return m && m->describe ? m->describe : "none"; }

/* ---- the two APIs ----------------------------------------------------------------------- */

static int nominatim(ia_maps *m, const char *q, const ia_maps_where *where, double radius_m, atomic_bool *cancel,
                     ia_places *out, ia_err *err) {
    char *url = ia_nominatim_url(m->nominatim.base, q, IA_MAPS_PLACES_PER_QUERY, where, radius_m);
    ia_fetched f = {0};
    ia_fetch_req rq = {.cancel = cancel};
    int rc = ia_fetch_ex(url, &m->nominatim.fetch, &rq, "Nominatim", &f, err);
    free(url);
    if (rc == 0) rc = ia_nominatim_parse((const char *)f.data, f.len, IA_MAPS_PLACES_PER_QUERY, out, err);
    ia_fetched_free(&f);
    return rc;
}

/* POST /api/interpreter with data=QUERY (a form, as Overpass reads it). */
static int overpass(ia_maps *m, const char *q, const ia_maps_where *where, atomic_bool *cancel, ia_places *out,
                    ia_err *err) {
    int timeout_s = m->overpass.fetch.timeout_ms / 1000 > 1 ? m->overpass.fetch.timeout_ms / 1000 : 1;
    char *ql = ia_overpass_ql(ia_maps_category(q), q, where, NEAR_RADIUS_M, 20, timeout_s);
    ia_buf body;
    ia_buf_init(&body, 0);
    ia_buf_puts(&body, "data=");
    ia_backend_escape(&body, ql);
    free(ql);
    char *url = ia_asprintf("%s/api/interpreter", m->overpass.base);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded"};
    ia_fetch_req rq = {.method = "POST", .body = body.data, .body_len = body.len, .headers = headers,
                       .n_headers = 1, .cancel = cancel};
    ia_fetched f = {0};
    int rc = ia_fetch_ex(url, &m->overpass.fetch, &rq, "Overpass", &f, err);
    free(url);
    ia_buf_free(&body);
    ia_places all = {0}; /* its order is the database's: the nearest kept */
    if (rc == 0) rc = ia_overpass_parse((const char *)f.data, f.len, 20, &all, err);
    ia_fetched_free(&f);
    for (size_t i = 1; i < all.n; i++) /* insertion sort by distance: at most 20 */
        for (size_t k = i; k > 0; k--) {
            double a = ia_maps_distance_m(where->lat, where->lon, all.v[k - 1].lat, all.v[k - 1].lon);
            double b = ia_maps_distance_m(where->lat, where->lon, all.v[k].lat, all.v[k].lon);
            if (a <= b) break;
            ia_place t = all.v[k];
            all.v[k] = all.v[k - 1];
            all.v[k - 1] = t;
        }
    for (size_t i = 0; i < all.n && i < IA_MAPS_PLACES_PER_QUERY; i++) {
        out->v = ia_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n++] = all.v[i];
        memset(&all.v[i], 0, sizeof all.v[i]); /* moved: the rest is freed below */
    }
    ia_places_free(&all);
    return rc;
}

/* One query's places: near the user, Overpass first (places of the kind
 * the query names, "cafes", else places named like it), then Nominatim
 * within a box around them, then anywhere. */
static int places_for(ia_maps *m, const char *q, const ia_maps_where *where, atomic_bool *cancel, ia_places *out,
                      ia_err *err) {
    ia_err e = {0};
    bool near = where->known && m->overpass.base;
    if (near && overpass(m, q, where, cancel, out, &e) == 0 && out->n) return 0;
    if (near) ia_debug("google_maps: Overpass: %s", e.msg[0] ? e.msg : "no places near the user");
    if (where->known) {
        if (nominatim(m, q, where, VIEWBOX_RADIUS_M, cancel, out, err) != 0) return -1;
        if (out->n) return 0;
    }
    ia_maps_where anywhere = {0};
    return nominatim(m, q, &anywhere, 0, cancel, out, err);
}

/* ---- the tool --------------------------------------------------------------------------- */

const char IA_MAPS_PARAMS[] =
    "{\"type\":\"object\",\"properties\":{\"queries\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":5,"
    "\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
    "\"description\":\"the places to look for, each a few words (a name, an address, or a kind of place)\"}},"
    "\"required\":[\"queries\"]}";

static void distance_text(ia_buf *b, double m) {
    if (m < 1000) ia_buf_printf(b, "; %.0f m from the user", m);
    else ia_buf_printf(b, "; %.1f km from the user", m / 1000);
}

/* One query: its places into the result and the model's numbered list. */
static bool run_query(ia_maps *m, const char *q, const ia_maps_where *where, atomic_bool *cancel, json_t *result,
                      ia_buf *text, int *number) {
    ia_places ps = {0};
    ia_err err = {0};
    char *q1 = ia_utf8_sanitize(q, strlen(q));
    for (char *c = q1; *c; c++) /* one line: a query cannot forge a numbered place */
        if ((unsigned char)*c < ' ') *c = ' ';
    ia_buf_printf(text, "%sPlaces for \"%s\":\n", text->len ? "\n" : "", q1);
    free(q1);
    json_t *places = json_array();
    json_array_append_new(result, json_pack("{s:o}", "places", places));
    if (!m || places_for(m, q, where, cancel, &ps, &err) != 0) {
        ia_buf_printf(text, "The maps search failed: %s\n", m ? err.msg : "no maps backend");
        ia_places_free(&ps);
        return false;
    }
    if (!ps.n) ia_buf_puts(text, "No places found.\n");
    for (size_t i = 0; i < ps.n; i++) {
        const ia_place *p = &ps.v[i];
        ia_buf_printf(text, "[%d] %s\nURL: %s\n", ++*number, p->name, p->url);
        ia_buf_printf(text, "%s%s%s%s%.6f, %.6f", p->category, *p->category ? "; " : "", p->address,
                      *p->address ? "; " : "", p->lat, p->lon);
        if (where->known) distance_text(text, ia_maps_distance_m(where->lat, where->lon, p->lat, p->lon));
        ia_buf_puts(text, "\n");
        json_array_append_new(places, json_pack("{s:s, s:s, s:s}", "name", p->name, "place_id", p->place_id, "url",
                                                p->url));
    }
    ia_places_free(&ps);
    return true;
}

void ia_maps_run(ia_maps *m, const char *args_json, const ia_maps_where *where, atomic_bool *cancel,
                 char **result_json, bool *is_error, char **model_text) {
    json_t *args = json_loads(args_json ? args_json : "", 0, NULL);
    json_t *queries = json_object_get(args, "queries");
    json_t *result = json_array();
    ia_maps_where none = {0};
    if (!where) where = &none;
    ia_buf text;
    ia_buf_init(&text, 0);
    if (where->known) ia_buf_printf(&text, "The user is at %.6f, %.6f.\n", where->lat, where->lon);
    int number = 0, asked = 0, answered = 0;
    size_t i;
    json_t *q;
    json_array_foreach(queries, i, q) {
        const char *qs = json_string_value(q);
        if (!qs || !*qs || asked >= IA_MAPS_MAX_QUERIES) continue;
        if (cancel && atomic_load(cancel)) break;
        asked++;
        answered += run_query(m, qs, where, cancel, result, &text, &number);
    }
    if (!asked) ia_buf_puts(&text, "No place was given to look for.");
    *is_error = answered == 0;
    *result_json = json_dumps(result, JSON_COMPACT);
    *model_text = ia_buf_take(&text);
    json_decref(result);
    json_decref(args);
}
