/* Fuzz target: google_maps' outside bytes — a Nominatim /search answer
 * (jsonv2) or an Overpass API answer read into places
 * (src/tools/maps_osm.c; jansson parses, the conversion is ours); the
 * place citations found over the list the model reads (src/tools/cite.c),
 * the answer's text being the same bytes; and the same bytes as the
 * words of an Overpass name query.
 *
 * Byte 0: even, Nominatim; odd, Overpass. Checks: at most max places, each
 * named (one line of valid UTF-8 within its cap), its id osm:TYPE/N with
 * the page it names and back, coordinates on the globe; the list gives
 * back as many places; every citation's range is within the text (start <
 * end) and names a place; the QL query keeps the words inside its one
 * quoted string (four quotes, no backslash). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/cite.h"
#include "tools/maps_int.h"

static bool one_line(const char *s, size_t max) {
    if (!ia_utf8_valid(s, strlen(s)) || strlen(s) > max) return false;
    for (const char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r') return false;
    return true;
}

static void check_place(const ia_place *p) {
    FUZZ_CHECK(*p->name && one_line(p->name, 200) && one_line(p->category, 100) && one_line(p->address, 300));
    FUZZ_CHECK(!strncmp(p->place_id, "osm:node/", 9) || !strncmp(p->place_id, "osm:way/", 8) ||
               !strncmp(p->place_id, "osm:relation/", 13));
    char *url = ia_maps_place_url(p->place_id), *id = ia_maps_place_id(p->url);
    FUZZ_CHECK(url && strcmp(url, p->url) == 0 && id && strcmp(id, p->place_id) == 0);
    free(url);
    free(id);
    FUZZ_CHECK(p->lat >= -90 && p->lat <= 90 && p->lon >= -180 && p->lon <= 180);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool overpass = data[0] & 1;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    ia_places ps = {0};
    ia_err err = {0};
    int rc = overpass ? ia_overpass_parse(body, len, 5, &ps, &err) : ia_nominatim_parse(body, len, 5, &ps, &err);
    if (rc != 0) FUZZ_CHECK(ps.n == 0 && err.msg[0]);
    FUZZ_CHECK(ps.n <= 5);
    ia_buf list;
    ia_buf_init(&list, 0);
    for (size_t i = 0; i < ps.n; i++) {
        check_place(&ps.v[i]);
        ia_buf_printf(&list, "[%zu] %s\nURL: %s\n%s; %s\n", i + 1, ps.v[i].name, ps.v[i].url, ps.v[i].category,
                      ps.v[i].address);
    }
    ia_cite_sources s = {0};
    ia_cite_places_read(list.data ? list.data : "", &s);
    FUZZ_CHECK(s.n == ps.n);
    char *text = fuzz_cstr(data + 1, len);
    size_t n = 0, tl = strlen(text);
    ia_annotation *a = ia_cite(text, &s, &n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(a[i].start >= 0 && a[i].start < a[i].end && (size_t)a[i].end <= tl);
        bool known = false;
        for (size_t k = 0; k < ps.n && !known; k++)
            known = a[i].place_id && strcmp(ps.v[k].place_id, a[i].place_id) == 0 && !strcmp(ps.v[k].url, a[i].url);
        FUZZ_CHECK(known);
    }
    ia_annotations_free(a, n);
    ia_maps_where at = {true, 48.2, 16.37};
    char *ql = ia_overpass_ql(NULL, text, &at, 3000, 20, 10);
    size_t quotes = 0;
    for (const char *p = ql; *p; p++) quotes += *p == '"';
    FUZZ_CHECK(quotes == 4 && !strchr(ql, '\\'));
    free(ql);
    free(text);
    ia_cite_sources_free(&s);
    ia_buf_free(&list);
    ia_places_free(&ps);
    return 0;
}
