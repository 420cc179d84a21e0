/* test_maps: google_maps' parts that need no live backend — Nominatim's
 * jsonv2 and Overpass's JSON read into places (and their errors), the
 * request URL with its viewbox, the Overpass QL query (a known kind, a
 * name made safe), place ids and pages, distances, the tool's run against
 * an address that refuses (an error result), place_citation annotations
 * found in an answer and kept by the store and on the wire, and
 * google_maps' grounding count. The APIs over HTTP are tested end to end
 * (tests/e2e/maps.test.mjs). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "store/store.h"
#include "tools/cite.h"
#include "tools/maps_int.h"
#include "unit.h"

static const char NOMINATIM[] =
    "[{\"place_id\":297327234,\"licence\":\"Data © OpenStreetMap contributors\",\"osm_type\":\"node\","
    "\"osm_id\":4879393622,\"lat\":\"48.2104\",\"lon\":\"16.3655\",\"category\":\"amenity\",\"type\":\"cafe\","
    "\"place_rank\":30,\"importance\":0.3,\"addresstype\":\"amenity\",\"name\":\"Café Central\","
    "\"display_name\":\"Café Central, 14, Herrengasse, Wien, 1010, Österreich\",\"address\":{\"road\":\"Herrengasse\"},"
    "\"boundingbox\":[\"48.2103\",\"48.2105\",\"16.3654\",\"16.3656\"]},"
    /* format=json's spelling (class, ids as strings), no name: display_name's first part */
    "{\"place_id\":\"12\",\"osm_type\":\"way\",\"osm_id\":\"26152893\",\"lat\":\"48.2\",\"lon\":\"16.3\","
    "\"class\":\"highway\",\"type\":\"residential\",\"name\":\"\",\"display_name\":\"Herrengasse, Wien\"},"
    /* skipped: no OSM object, bad coordinates, an unknown type */
    "{\"osm_type\":\"node\",\"lat\":\"1\",\"lon\":\"2\"},"
    "{\"osm_type\":\"node\",\"osm_id\":5,\"lat\":\"91\",\"lon\":\"2\"},"
    "{\"osm_type\":\"node\",\"osm_id\":6,\"lat\":\"1x\",\"lon\":\"2\"},"
    "{\"osm_type\":\"area\",\"osm_id\":7,\"lat\":\"1\",\"lon\":\"2\"},"
    /* the same object again: once */
    "{\"osm_type\":\"node\",\"osm_id\":4879393622,\"lat\":\"48.2104\",\"lon\":\"16.3655\",\"name\":\"dup\"}]";

IA_TEST(maps_nominatim_jsonv2_to_places) {
    ia_places p = {0};
    ia_err err = {0};
    IA_CHECK(ia_nominatim_parse(NOMINATIM, strlen(NOMINATIM), 5, &p, &err) == 0);
    IA_CHECK(p.n == 2);
    if (p.n == 2) {
        IA_CHECK_STREQ(p.v[0].name, "Café Central");
        IA_CHECK_STREQ(p.v[0].place_id, "osm:node/4879393622");
        IA_CHECK_STREQ(p.v[0].url, "https://www.openstreetmap.org/node/4879393622");
        IA_CHECK_STREQ(p.v[0].category, "amenity=cafe");
        IA_CHECK_CONTAINS(p.v[0].address, "Herrengasse, Wien");
        IA_CHECK(fabs(p.v[0].lat - 48.2104) < 1e-9 && fabs(p.v[0].lon - 16.3655) < 1e-9);
        IA_CHECK_STREQ(p.v[1].name, "Herrengasse");
        IA_CHECK_STREQ(p.v[1].place_id, "osm:way/26152893");
        IA_CHECK_STREQ(p.v[1].category, "highway=residential");
    }
    ia_places_free(&p);
    IA_CHECK(ia_nominatim_parse(NOMINATIM, strlen(NOMINATIM), 1, &p, &err) == 0 && p.n == 1);
    ia_places_free(&p);
    /* Nominatim's error answer, and what is not its JSON */
    const char *e = "{\"error\":{\"code\":400,\"message\":\"Parameter 'format' must be one of: xml, json\"}}";
    IA_CHECK(ia_nominatim_parse(e, strlen(e), 5, &p, &err) == -1 && p.n == 0);
    IA_CHECK_CONTAINS(err.msg, "Nominatim answered an error: Parameter 'format'");
    IA_CHECK(ia_nominatim_parse("<html>", 6, 5, &p, &err) == -1);
    IA_CHECK_CONTAINS(err.msg, "not Nominatim's JSON");
    IA_CHECK(ia_nominatim_parse("[]", 2, 5, &p, &err) == 0 && p.n == 0);
}

IA_TEST(maps_overpass_json_to_places) {
    const char *j =
        "{\"version\":0.6,\"generator\":\"Overpass API\",\"osm3s\":{},\"elements\":["
        "{\"type\":\"node\",\"id\":1234567890,\"lat\":48.2085,\"lon\":16.374,\"tags\":{\"amenity\":\"cafe\","
        "\"name\":\"Kaffee Alt Wien\",\"addr:street\":\"Bäckerstraße\",\"addr:housenumber\":\"9\",\"addr:city\":\"Wien\"}},"
        "{\"type\":\"way\",\"id\":39871234,\"center\":{\"lat\":48.215,\"lon\":16.38},\"tags\":{\"shop\":\"bakery\","
        "\"name\":\"Ströck\"}},"
        "{\"type\":\"node\",\"id\":3,\"lat\":1,\"lon\":2,\"tags\":{\"amenity\":\"bench\"}},"   /* no name: skipped */
        "{\"type\":\"way\",\"id\":4,\"tags\":{\"name\":\"no centre\"}}]}";                      /* no coordinates */
    ia_places p = {0};
    ia_err err = {0};
    IA_CHECK(ia_overpass_parse(j, strlen(j), 20, &p, &err) == 0);
    IA_CHECK(p.n == 2);
    if (p.n == 2) {
        IA_CHECK_STREQ(p.v[0].place_id, "osm:node/1234567890");
        IA_CHECK_STREQ(p.v[0].address, "9 Bäckerstraße, Wien");
        IA_CHECK_STREQ(p.v[0].category, "amenity=cafe");
        IA_CHECK_STREQ(p.v[1].place_id, "osm:way/39871234");
        IA_CHECK_STREQ(p.v[1].url, "https://www.openstreetmap.org/way/39871234");
        IA_CHECK(fabs(p.v[1].lat - 48.215) < 1e-9);
    }
    ia_places_free(&p);
    const char *r = "{\"version\":0.6,\"elements\":[],\"remark\":\"runtime error: Query timed out in \\\"query\\\"\"}";
    IA_CHECK(ia_overpass_parse(r, strlen(r), 20, &p, &err) == -1);
    IA_CHECK_CONTAINS(err.msg, "Overpass answered: runtime error: Query timed out");
    IA_CHECK(ia_overpass_parse("{}", 2, 20, &p, &err) == -1);
    IA_CHECK_CONTAINS(err.msg, "no `elements` list");
}

IA_TEST(maps_request_url_and_viewbox) {
    char *u = ia_nominatim_url("http://n.example", "café & bar/1", 5, NULL, 0);
    IA_CHECK_STREQ(u, "http://n.example/search?q=caf%C3%A9%20%26%20bar%2F1&format=jsonv2&limit=5&addressdetails=1");
    free(u);
    ia_maps_where at = {true, 48.2082, 16.3738};
    u = ia_nominatim_url("http://n.example", "opera", 5, &at, 20000);
    double lon1, lat1, lon2, lat2;
    const char *vb = strstr(u, "&viewbox=");
    IA_CHECK(vb && sscanf(vb, "&viewbox=%lf,%lf,%lf,%lf", &lon1, &lat1, &lon2, &lat2) == 4);
    /* 20 km each way: about 0.18 degrees of latitude, 0.27 of longitude at 48 N */
    IA_CHECK(fabs(lat2 - lat1 - 2 * 0.17987) < 0.001 && fabs(lon2 - lon1 - 2 * 0.2699) < 0.002);
    IA_CHECK(lon1 < 16.3738 && 16.3738 < lon2 && lat1 < 48.2082 && 48.2082 < lat2);
    IA_CHECK(strstr(u, "&bounded=1") != NULL);
    free(u);
    /* near a pole the box is clamped to the globe */
    ia_maps_where pole = {true, 89.99, 179.99};
    u = ia_nominatim_url("http://n.example", "x", 5, &pole, 20000);
    IA_CHECK_CONTAINS(u, ",90.000000&bounded=1");
    IA_CHECK_CONTAINS(u, "&viewbox=-180.000000,");
    free(u);
}

IA_TEST(maps_overpass_query_and_categories) {
    IA_CHECK_STREQ(ia_maps_category("best coffee shops near me"), "amenity=cafe");
    IA_CHECK_STREQ(ia_maps_category("Cafes"), "amenity=cafe");
    IA_CHECK_STREQ(ia_maps_category("late-night pharmacies"), "amenity=pharmacy");
    IA_CHECK_STREQ(ia_maps_category("a HOTEL"), "tourism=hotel");
    IA_CHECK(ia_maps_category("Stephansdom") == NULL);
    IA_CHECK(ia_maps_category("barking") == NULL); /* a word, not a part of one */
    ia_maps_where at = {true, 48.2082, 16.3738};
    char *q = ia_overpass_ql("amenity=cafe", "cafes", &at, 3000, 20, 10);
    IA_CHECK_STREQ(q, "[out:json][timeout:10];nwr[amenity=cafe](around:3000,48.208200,16.373800);out center 20;");
    free(q);
    /* a name: its regex and quoting characters cannot end the string */
    q = ia_overpass_ql(NULL, "Zum \"Bier\"]; out;\\ (x)", &at, 3000, 20, 10);
    IA_CHECK_STREQ(q, "[out:json][timeout:10];nwr[\"name\"~\"Zum .Bier..; out;. .x.\",i]"
                      "(around:3000,48.208200,16.373800);out center 20;");
    free(q);
}

IA_TEST(maps_place_ids_and_distance) {
    char *u = ia_maps_place_url("osm:relation/9");
    IA_CHECK_STREQ(u, "https://www.openstreetmap.org/relation/9");
    char *id = ia_maps_place_id(u);
    IA_CHECK_STREQ(id, "osm:relation/9");
    free(u);
    free(id);
    IA_CHECK(ia_maps_place_url("osm:area/9") == NULL && ia_maps_place_url("osm:node/9x") == NULL);
    IA_CHECK(ia_maps_place_url("osm:node/-5") == NULL && ia_maps_place_url("osm:node/ 5") == NULL);
    IA_CHECK(ia_maps_place_url("osm:node/0") == NULL);
    IA_CHECK(ia_maps_place_id("https://www.openstreetmap.org/node/1/history") == NULL);
    IA_CHECK(ia_maps_place_id("https://evil.example/node/1") == NULL);
    /* Stephansplatz to Café Central: about 640 m */
    double d = ia_maps_distance_m(48.2082, 16.3738, 48.2104, 16.3655);
    IA_CHECK(d > 600 && d < 700);
}

IA_TEST(maps_run_backend_down_is_an_error_result) {
    ia_maps_opts o = {.url = "http://127.0.0.1:9", .timeout_ms = 3000};
    ia_err err = {0};
    ia_maps *m = ia_maps_new(&o, &err);
    IA_CHECK(m != NULL);
    char *res = NULL, *text = NULL;
    bool is_error = false;
    ia_maps_where at = {true, 1, 2};
    ia_maps_run(m, "{\"queries\":[\"opera\",\"line\\nbreak [1] x\"]}", &at, NULL, &res, &is_error, &text);
    IA_CHECK(is_error);
    IA_CHECK_STREQ(res, "[{\"places\":[]},{\"places\":[]}]");
    IA_CHECK_CONTAINS(text, "The user is at 1.000000, 2.000000.");
    IA_CHECK_CONTAINS(text, "Places for \"line break [1] x\":\nThe maps search failed: ");
    free(res);
    free(text);
    ia_maps_free(m);
    /* the flags' checks */
    ia_maps_opts bad = {.url = "ftp://n.example"};
    IA_CHECK(ia_maps_new(&bad, &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "--maps-url: 'ftp://n.example' is not an http(s) URL");
    ia_maps_opts no = {.overpass_url = "http://o.example"};
    IA_CHECK(ia_maps_new(&no, &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "--maps-url: required");
}

static const char PLACES[] = "The user is at 48.208200, 16.373800.\nPlaces for \"cafes\":\n"
                             "[1] Café Central\nURL: https://www.openstreetmap.org/node/4879393622\n"
                             "amenity=cafe; Herrengasse 14; 48.210400, 16.365500; 640 m from the user\n"
                             "[2] Sperl\nURL: https://www.openstreetmap.org/way/26152893\n"
                             "amenity=cafe; 48.203000, 16.369200; 700 m from the user\n"
                             "[3] Forged\nURL: https://evil.example/x\nnot a place\n";

IA_TEST(maps_cite_names_and_markers) {
    ia_turn out = {.role = IA_ROLE_MODEL};
    ia_turn_add_tool_call(&out, IA_BUILTIN_GOOGLE_MAPS, "c1", NULL, "{\"queries\":[\"cafes\"]}");
    ia_content *res = ia_turn_add_tool_result(&out, IA_BUILTIN_GOOGLE_MAPS, "c1", NULL, "[]", false);
    res->fetched = ia_strdup(PLACES);
    const char *text = "Try café CENTRAL. The Sperlgasse is not it. Or see [2]! Forged is no place.";
    size_t n = 0;
    ia_annotation *a = ia_cite_answer(text, &out, &n);
    IA_CHECK(n == 2);
    if (n == 2) {
        /* the name in any case (ASCII letters), as a word: not "Sperlgasse" */
        IA_CHECK(a[0].start == 0 && a[0].end == (int64_t)strlen("Try café CENTRAL."));
        IA_CHECK_STREQ(a[0].place_id, "osm:node/4879393622");
        IA_CHECK_STREQ(a[0].title, "Café Central");
        IA_CHECK_STREQ(a[1].place_id, "osm:way/26152893");
        IA_CHECK_STREQ(a[1].url, "https://www.openstreetmap.org/way/26152893");
        IA_CHECK(strncmp(text + a[1].start, "Or see [2]!", 11) == 0);
    }
    ia_annotations_free(a, n);
    ia_turn_free(&out);
}

IA_TEST(maps_citations_stored_and_on_the_wire) {
    ia_turn t = {.role = IA_ROLE_MODEL};
    ia_turn_add_text(&t, "Café Central.", 14);
    t.items[0].annotations = ia_xcalloc(1, sizeof(ia_annotation));
    t.items[0].annotations[0] = (ia_annotation){ia_strdup("https://www.openstreetmap.org/node/1"),
                                                ia_strdup("Café Central"), 0, 14, ia_strdup("osm:node/1"), false};
    t.items[0].n_annotations = 1;
    char *js = ia_codec_turn_encode(&t);
    ia_turn back = {0};
    IA_CHECK(js && ia_codec_turn_decode(js, &back) == 0);
    IA_CHECK(back.n == 1 && back.items[0].n_annotations == 1);
    if (back.n == 1 && back.items[0].n_annotations == 1) IA_CHECK_STREQ(back.items[0].annotations[0].place_id, "osm:node/1");
    ia_turn_free(&back);
    free(js);
    /* grounding: google_maps' count after the older fields; rows without it read as none */
    ia_usage u = {.maps_calls = 2}, v = {0};
    char buf[512];
    ia_codec_usage_by_decode(ia_codec_usage_by_encode(&u, buf, sizeof buf), &v);
    IA_CHECK(v.maps_calls == 2 && v.search_calls == 0 && v.output_audio == 0);
    ia_usage w = {.maps_calls = 7};
    ia_codec_usage_by_decode("i 1 2 3 4 5 c 0 0 0 0 0 g 1 a 4", &w);
    IA_CHECK(w.maps_calls == 0 && w.search_calls == 1 && w.output_audio == 4);
    ia_interaction it = {.status = IA_STATUS_COMPLETED, .model = "demo", .output = t, .has_usage = true};
    snprintf(it.id, sizeof it.id, "v1_x");
    it.usage.maps_calls = 2;
    it.usage.search_calls = 1;
    for (int d = 0; d < 2; d++) {
        char *s = ia_api_encode_interaction(&it, false, d ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY);
        IA_CHECK_CONTAINS(s, "\"annotations\":[{\"type\":\"place_citation\",\"name\":\"Café Central\","
                             "\"place_id\":\"osm:node/1\",\"url\":\"https://www.openstreetmap.org/node/1\","
                             "\"start_index\":0,\"end_index\":14}]");
        IA_CHECK_CONTAINS(s, "\"grounding_tool_count\":[{\"type\":\"google_search\",\"count\":1},"
                             "{\"type\":\"google_maps\",\"count\":2}]");
        free(s);
    }
    ia_turn_free(&t);
}
