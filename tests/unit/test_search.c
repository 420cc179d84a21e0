/* test_search: google_search's parts that need no network — the local
 * FTS5 index over a folder (indexing, bm25 hits, rescans that see files
 * added, changed and removed), SearxNG's JSON read into hits, the tool's
 * result and model text, the citation matcher, and the store's copy of
 * annotations and grounding counts, and a cancel that ends a request to a
 * SearxNG that never answers (a loopback stand-in). SearxNG's answers
 * over HTTP are tested end to end (tests/e2e/search.test.mjs). */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "api/api.h"
#include "store/store.h"
#include "tools/cite.h"
#include "tools/search_int.h"
#include "unit.h"

static void write_file(const char *dir, const char *name, const char *text) {
    char *p = ia_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    free(p);
}

static char *fresh_dir(const char *name) {
    char *d = ia_asprintf("%s/%s", ia_test_tmpdir(), name);
    mkdir(d, 0700);
    return d;
}

static bool has_url_ending(const ia_search_hits *h, const char *tail) {
    for (size_t i = 0; i < h->n; i++) {
        size_t a = strlen(h->v[i].url), b = strlen(tail);
        if (a >= b && strcmp(h->v[i].url + a - b, tail) == 0) return true;
    }
    return false;
}

IA_TEST(search_index_finds_ranks_and_rescans) {
    char *dir = fresh_dir("docs");
    char *sub = ia_asprintf("%s/sub", dir);
    mkdir(sub, 0700);
    write_file(dir, "azalea.md", "# Azalea care\n\nAzaleas bloom in spring. Azaleas like acidic soil and shade.\n");
    write_file(dir, "rose.txt", "Roses need full sun and some azalea-free soil.\n");
    write_file(sub, "page.html", "<html><head><title>Tulip page</title><script>azalea()</script></head>"
                                 "<body><p>Tulips are bulbs planted in autumn.</p></body></html>");
    write_file(dir, "image.png", "azalea azalea");   /* not a text file: not indexed */
    write_file(dir, ".hidden.txt", "azalea azalea"); /* hidden: skipped */
    char *db = ia_asprintf("%s/index.db", ia_test_tmpdir());
    const char *dirs[] = {dir};
    ia_search_backend b;
    ia_err err = {0};
    IA_CHECK(ia_index_open(dirs, 1, db, 3600, &b, &err) == 0);
    ia_search_hits h = {0};
    IA_CHECK(b.query(b.self, "azalea soil", false, 5, NULL, &h, &err) == 0);
    /* the page about azaleas first (bm25, the title weighted), the rose after */
    IA_CHECK(h.n == 2);
    IA_CHECK(h.n == 2 && strncmp(h.v[0].url, "file:///", 8) == 0 && has_url_ending(&h, "/azalea.md"));
    IA_CHECK(h.n == 2 && strstr(h.v[0].url, "azalea.md") != NULL);
    IA_CHECK_STREQ(h.n ? h.v[0].title : "", "Azalea care");
    IA_CHECK(h.n && strstr(h.v[0].snippet, "Azaleas") != NULL);
    ia_search_hits_free(&h);
    /* HTML read as text: its title, not its script */
    IA_CHECK(b.query(b.self, "tulips autumn", false, 5, NULL, &h, &err) == 0);
    IA_CHECK(h.n == 1 && has_url_ending(&h, "/sub/page.html"));
    IA_CHECK_STREQ(h.n ? h.v[0].title : "", "Tulip page");
    ia_search_hits_free(&h);
    /* FTS5 syntax in a query is only words */
    IA_CHECK(b.query(b.self, "\"azalea* OR NEAR( -) :title", false, 5, NULL, &h, &err) == 0);
    ia_search_hits_free(&h);
    IA_CHECK(b.query(b.self, "!!! ???", false, 5, NULL, &h, &err) == 0 && h.n == 0);
    /* a file added, one changed, one removed: the rescan sees all three */
    write_file(dir, "new.txt", "Magnolias flower early.\n");
    write_file(dir, "rose.txt", "Roses and magnolias, side by side, in a longer text than before.\n");
    char *gone = ia_asprintf("%s/azalea.md", dir);
    unlink(gone);
    IA_CHECK(ia_index_rescan(b.self) == 2);
    IA_CHECK(b.query(b.self, "magnolias", false, 5, NULL, &h, &err) == 0 && h.n == 2);
    ia_search_hits_free(&h);
    IA_CHECK(b.query(b.self, "acidic", false, 5, NULL, &h, &err) == 0 && h.n == 0);
    ia_search_hits_free(&h);
    IA_CHECK(ia_index_rescan(b.self) == 0); /* nothing changed */
    b.destroy(b.self);
    /* a folder that is not one */
    const char *bad[] = {"/nonexistent/folder"};
    IA_CHECK(ia_index_open(bad, 1, db, 30, &b, &err) == -1 && strstr(err.msg, "--search-index") != NULL);
    free(gone);
    free(db);
    free(sub);
    free(dir);
}

IA_TEST(search_index_match_quotes_words) {
    char *m = ia_index_match("C'est l'été: \"NEAR\"(x) *");
    IA_CHECK_STREQ(m, "\"C\" OR \"est\" OR \"l\" OR \"été\" OR \"NEAR\" OR \"x\"");
    free(m);
    IA_CHECK(ia_index_match(" - * ") == NULL);
}

IA_TEST(search_searx_json_to_hits) {
    static const char body[] =
        "{\"query\":\"azalea\",\"number_of_results\":3,\"results\":["
        "{\"url\":\"https://a.example/1\",\"title\":\"One\",\"content\":\"first\\nline  two\",\"engine\":\"bing\"},"
        "{\"url\":\"ftp://b.example/\",\"title\":\"not http\"},"
        "{\"title\":\"no url\"},"
        "{\"url\":\"https://a.example/1\",\"title\":\"again\"},"
        "{\"url\":\"https://c.example/3\",\"content\":\"third\"},"
        "{\"url\":\"https://d.example/4\",\"title\":\"Four\"}],"
        "\"answers\":[],\"corrections\":[],\"infoboxes\":[],\"suggestions\":[],\"unresponsive_engines\":[]}";
    ia_search_hits h = {0};
    ia_err err = {0};
    IA_CHECK(ia_searx_parse(body, strlen(body), 2, &h, &err) == 0);
    IA_CHECK(h.n == 2);
    IA_CHECK_STREQ(h.n > 1 ? h.v[1].url : "", "https://c.example/3");
    IA_CHECK_STREQ(h.n ? h.v[0].snippet : "", "first line two");
    IA_CHECK_STREQ(h.n > 1 ? h.v[1].title : "x", "");
    ia_search_hits_free(&h);
    IA_CHECK(ia_searx_parse("<html>", 6, 5, &h, &err) == -1 && strstr(err.msg, "SearxNG") != NULL);
    IA_CHECK(ia_searx_parse("{\"results\":{}}", 14, 5, &h, &err) == -1);
    char *u = ia_searx_url("http://s.example:8888", "a b&c=d/é", false);
    IA_CHECK_STREQ(u, "http://s.example:8888/search?q=a%20b%26c%3Dd%2F%C3%A9&format=json");
    free(u);
    u = ia_searx_url("http://s", "x", true);
    IA_CHECK_STREQ(u, "http://s/search?q=x&format=json&categories=images");
    free(u);
    ia_search_backend b;
    IA_CHECK(ia_searx_open("ftp://s.example/", 0, 0, &b, &err) == -1 && strstr(err.msg, "--search-url") != NULL);
}

/* A SearxNG that never answers: it reads each request and holds the
 * connection open until the client leaves (or 15 s pass). */
typedef struct mute_srv {
    int fd, port;
    atomic_bool stop;
    atomic_int requests;
    pthread_t t;
} mute_srv;

static void hold_until_closed(int c) {
    char buf[4096];
    for (int waited = 0; waited < 15000; waited += 100) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        if (poll(&p, 1, 100) == 1 && read(c, buf, sizeof buf) <= 0) return; /* the client left */
    }
}

static void *mute_main(void *arg) {
    mute_srv *m = arg;
    while (!atomic_load(&m->stop)) {
        struct pollfd p = {.fd = m->fd, .events = POLLIN};
        if (poll(&p, 1, 100) != 1) continue;
        int c = accept(m->fd, NULL, NULL);
        if (c < 0) continue;
        atomic_fetch_add(&m->requests, 1);
        hold_until_closed(c);
        close(c);
    }
    return NULL;
}

static int mute_start(mute_srv *m) {
    memset(m, 0, sizeof *m);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    m->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(m->fd, 8) != 0 ||
        getsockname(m->fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    m->port = ntohs(a.sin_port);
    return pthread_create(&m->t, NULL, mute_main, m) == 0 ? 0 : -1;
}

static void mute_stop(mute_srv *m) {
    atomic_store(&m->stop, true);
    pthread_join(m->t, NULL);
    close(m->fd);
}

typedef struct later {
    atomic_bool *flag;
    int ms;
} later;

static void *set_later(void *arg) {
    later *l = arg;
    usleep((useconds_t)l->ms * 1000);
    atomic_store(l->flag, true);
    return NULL;
}

IA_TEST(search_searx_cancel_ends_a_slow_request) {
    mute_srv m;
    IA_CHECK(mute_start(&m) == 0);
    char *url = ia_asprintf("http://127.0.0.1:%d", m.port);
    /* 10 s per request: two queries would hold the run 20 s without the cancel */
    ia_search_opts o = {.url = url, .timeout_ms = 10000};
    ia_err err = {0};
    ia_search *s = ia_search_new(&o, &err);
    IA_CHECK(s != NULL);
    atomic_bool cancel = false;
    later l = {&cancel, 300};
    pthread_t t;
    IA_CHECK(pthread_create(&t, NULL, set_later, &l) == 0);
    char *result = NULL, *text = NULL;
    bool is_error = false;
    int64_t t0 = ia_mono_ms();
    ia_search_run(s, "{\"queries\":[\"azaleas\",\"tulips\"]}", false, &cancel, &result, &is_error, &text);
    int64_t took = ia_mono_ms() - t0;
    pthread_join(t, NULL);
    /* curl polls the flag about once a second; the second query is not asked */
    IA_CHECK(took < 3000);
    IA_CHECK(is_error);
    IA_CHECK_CONTAINS(text, "cancelled");
    IA_CHECK(atomic_load(&m.requests) == 1);
    free(result);
    free(text);
    ia_search_free(s);
    mute_stop(&m);
    free(url);
}

IA_TEST(search_run_result_and_model_text) {
    char *dir = fresh_dir("run");
    write_file(dir, "a.txt", "Azaleas bloom in spring <b>& summer</b>.\n");
    char *db = ia_asprintf("%s/run.db", ia_test_tmpdir());
    const char *dirs[] = {dir};
    ia_search_opts o = {.dirs = dirs, .n_dirs = 1, .index_path = db};
    ia_err err = {0};
    ia_search *s = ia_search_new(&o, &err);
    IA_CHECK(s != NULL);
    char *result = NULL, *text = NULL;
    bool is_error = true;
    ia_search_run(s, "{\"queries\":[\"azaleas <spring>\",\"nothing matches this\"]}", false, NULL, &result, &is_error,
                  &text);
    IA_CHECK(!is_error);
    json_t *r = json_loads(result ? result : "", 0, NULL);
    IA_CHECK(json_array_size(r) == 2);
    /* the chips first, the queries HTML-escaped; then the source */
    IA_CHECK_CONTAINS(json_string_value(json_object_get(json_array_get(r, 0), "search_suggestions")),
                      "<span class=\"chip\">azaleas &lt;spring&gt;</span>");
    IA_CHECK(strncmp(json_string_value(json_object_get(json_array_get(r, 1), "url")), "file://", 7) == 0);
    IA_CHECK_CONTAINS(text, "Search results for \"azaleas <spring>\":\n[1] a.txt\nURL: file://");
    IA_CHECK_CONTAINS(text, "Search results for \"nothing matches this\":\nNo results.");
    /* what the model read is what the citations read back */
    ia_cite_sources src = {0};
    ia_cite_sources_read(text, &src);
    IA_CHECK(src.n == 1 && src.v[0].number == 1 && strncmp(src.v[0].url, "file://", 7) == 0);
    IA_CHECK(src.n == 1 && strstr(src.v[0].snippet, "Azaleas") != NULL);
    ia_cite_sources_free(&src);
    json_decref(r);
    free(result);
    free(text);
    /* no query: an error result */
    ia_search_run(s, "{\"queries\":[]}", false, NULL, &result, &is_error, &text);
    IA_CHECK(is_error);
    IA_CHECK_CONTAINS(text, "No query");
    free(result);
    free(text);
    ia_search_free(s);
    free(db);
    free(dir);
}

static const char LIST[] = "Search results for \"q\":\n"
                           "[1] Azalea care\nURL: https://a.example/azalea\nAzaleas bloom in spring and like acidic soil.\n"
                           "[2] Roses\nURL: https://b.example/rose\nRoses need full sun all summer long.\n";

IA_TEST(search_cite_by_words_and_markers) {
    ia_cite_sources s = {0};
    ia_cite_sources_read(LIST, &s);
    IA_CHECK(s.n == 2);
    /* "é" is two bytes: offsets are bytes */
    const char *text = "Azaléa: azaleas bloom in spring in acidic soil. Roses want sun [2]. Nothing here at all.";
    size_t n = 0;
    ia_annotation *a = ia_cite(text, &s, &n);
    IA_CHECK(n == 2);
    if (n == 2) {
        IA_CHECK_STREQ(a[0].url, "https://a.example/azalea");
        IA_CHECK_STREQ(a[0].title, "Azalea care");
        IA_CHECK(a[0].start == 0 && a[0].end == (int64_t)(strstr(text, "soil.") - text + 5));
        IA_CHECK_STREQ(a[1].url, "https://b.example/rose");
        IA_CHECK(a[1].start == (int64_t)(strstr(text, "Roses") - text));
        IA_CHECK(a[1].end == (int64_t)(strstr(text, "[2].") - text + 4));
    }
    ia_annotations_free(a, n);
    /* a list of markers, and a marker naming no source */
    a = ia_cite("See both [1, 2]. And [9].", &s, &n);
    IA_CHECK(n == 2 && a[0].start == 0 && a[1].start == 0 && a[0].end == 16);
    ia_annotations_free(a, n);
    /* one shared word is not enough; noise cites nothing */
    a = ia_cite("Spring is here.\nqzx wvv the and of", &s, &n);
    IA_CHECK(n == 0 && a == NULL);
    ia_cite_sources_free(&s);
    /* no sources: nothing */
    a = ia_cite("Azaleas bloom in spring.", &s, &n);
    IA_CHECK(n == 0);
}

IA_TEST(search_cite_answer_reads_the_runs_results) {
    ia_turn out = {.role = IA_ROLE_MODEL};
    ia_turn_add_tool_call(&out, IA_BUILTIN_GOOGLE_SEARCH, "c1", NULL, "{\"queries\":[\"q\"]}");
    ia_content *res = ia_turn_add_tool_result(&out, IA_BUILTIN_GOOGLE_SEARCH, "c1", NULL, "[]", false);
    res->fetched = ia_strdup(LIST);
    size_t n = 0;
    ia_annotation *a = ia_cite_answer("Roses need sun in summer.", &out, &n);
    IA_CHECK(n == 1 && strcmp(a[0].url, "https://b.example/rose") == 0);
    ia_annotations_free(a, n);
    ia_turn_free(&out);
}

IA_TEST(search_store_keeps_annotations_and_grounding) {
    ia_turn t = {.role = IA_ROLE_MODEL};
    ia_turn_add_text(&t, "Roses need sun.", 15);
    t.items[0].annotations = ia_xcalloc(1, sizeof(ia_annotation));
    t.items[0].annotations[0] = (ia_annotation){ia_strdup("https://b.example/rose"), ia_strdup("Roses"), 0, 15, NULL, false};
    t.items[0].n_annotations = 1;
    char *js = ia_codec_turn_encode(&t);
    ia_turn back = {0};
    IA_CHECK(js && ia_codec_turn_decode(js, &back) == 0);
    IA_CHECK(back.n == 1 && back.items[0].n_annotations == 1);
    if (back.n == 1 && back.items[0].n_annotations == 1) {
        IA_CHECK_STREQ(back.items[0].annotations[0].url, "https://b.example/rose");
        IA_CHECK_STREQ(back.items[0].annotations[0].title, "Roses");
        IA_CHECK(back.items[0].annotations[0].end == 15);
    }
    ia_turn copy;
    ia_turn_copy(&copy, &back);
    IA_CHECK(copy.items[0].n_annotations == 1 && copy.items[0].annotations != back.items[0].annotations);
    ia_turn_free(&copy);
    ia_turn_free(&back);
    ia_turn_free(&t);
    free(js);
    /* grounding rides on the usage column; older rows read as none */
    ia_usage u = {.search_calls = 3}, v = {0};
    char buf[512];
    ia_codec_usage_by_decode(ia_codec_usage_by_encode(&u, buf, sizeof buf), &v);
    IA_CHECK(v.search_calls == 3);
    ia_usage w = {.search_calls = 9};
    ia_codec_usage_by_decode("i 1 2 3 4 5 c 0 0 0 0 0", &w);
    IA_CHECK(w.search_calls == 0 && w.input_by[1] == 2);
}

/* A text item's annotations on the wire, both dialects: on the stored
 * item, and as the stream's delta before the block's stop. */
IA_TEST(search_annotations_on_the_wire) {
    ia_annotation a = {.url = "https://b.example/rose", .title = "Roses", .start = 0, .end = 15};
    ia_content part = {.kind = IA_CONTENT_TEXT, .annotations = &a, .n_annotations = 1};
    ia_event ev = {.seq = 5, .kind = IA_EV_CONTENT_DELTA, .index = 2, .ckind = IA_CONTENT_TEXT, .part = &part};
    char *legacy = ia_api_encode_frame("v1_x", NULL, &ev, IA_DIALECT_LEGACY);
    IA_CHECK_CONTAINS(legacy, "\"delta\":{\"type\":\"text_annotation\",\"annotations\":[{\"type\":\"url_citation\","
                              "\"url\":\"https://b.example/rose\",\"title\":\"Roses\",\"start_index\":0,"
                              "\"end_index\":15}]}");
    char *steps = ia_api_encode_frame("v1_x", NULL, &ev, IA_DIALECT_STEPS);
    IA_CHECK_CONTAINS(steps, "\"type\":\"text_annotation_delta\",\"annotations\":[{\"type\":\"url_citation\"");
    free(legacy);
    free(steps);
    ia_interaction it = {.status = IA_STATUS_COMPLETED, .model = "demo"};
    snprintf(it.id, sizeof it.id, "v1_x");
    it.output.role = IA_ROLE_MODEL;
    ia_turn_add_text(&it.output, "Roses need sun.", 15);
    it.output.items[0].annotations = ia_xcalloc(1, sizeof(ia_annotation));
    it.output.items[0].annotations[0] = (ia_annotation){ia_strdup("https://b.example/rose"), NULL, 0, 15, NULL, false};
    it.output.items[0].n_annotations = 1;
    it.has_usage = true;
    it.usage.search_calls = 2;
    for (int d = 0; d < 2; d++) {
        char *s = ia_api_encode_interaction(&it, false, d ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY);
        IA_CHECK_CONTAINS(s, "{\"type\":\"text\",\"text\":\"Roses need sun.\",\"annotations\":[{\"type\":"
                             "\"url_citation\",\"url\":\"https://b.example/rose\",\"start_index\":0,\"end_index\":15}]}");
        IA_CHECK_CONTAINS(s, "\"grounding_tool_count\":[{\"type\":\"google_search\",\"count\":2}]");
        free(s);
    }
    ia_turn_free(&it.output);
}
