/* test_urlctx: url_context's parts that need no network — the URLs a
 * user's text names, the call's schema, a page's text through libxml2
 * (src/tools/url_context.c, html.c). The fetches themselves are tested
 * end to end against a real HTTP server (tests/e2e/url-context.test.mjs). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/html.h"
#include "tools/url_context.h"
#include "unit.h"

static void free_urls(char **u, size_t n) {
    for (size_t i = 0; i < n; i++) free(u[i]);
    free(u);
}

IA_TEST(urlctx_finds_urls_in_text) {
    char **u = NULL;
    size_t n = 0;
    ia_url_context_find("Summarize https://www.wikipedia.org/, then (see http://a.example/x?y=1&z=2). "
                        "Again: https://www.wikipedia.org/ and \"https://q.example/p\" but not ftp://f.example "
                        "nor xhttp://no.example nor https:// alone.",
                        &u, &n);
    IA_CHECK(n == 3);
    IA_CHECK(n == 3 && strcmp(u[0], "https://www.wikipedia.org/") == 0);
    IA_CHECK(n == 3 && strcmp(u[1], "http://a.example/x?y=1&z=2") == 0);
    IA_CHECK(n == 3 && strcmp(u[2], "https://q.example/p") == 0);
    free_urls(u, n);
    /* at most 20, as Gemini's url_context */
    ia_buf b;
    ia_buf_init(&b, 0);
    for (int i = 0; i < 30; i++) ia_buf_printf(&b, "http://h%d.example/ ", i);
    u = NULL;
    n = 0;
    ia_url_context_find(b.data, &u, &n);
    IA_CHECK(n == IA_URL_CONTEXT_MAX_URLS);
    free_urls(u, n);
    ia_buf_free(&b);
}

IA_TEST(urlctx_schema_enumerates_the_urls) {
    const char *urls[] = {"https://a.example/", "http://b.example/x"};
    char *p = ia_url_context_params(urls, 2);
    json_t *j = json_loads(p, 0, NULL);
    json_t *items = json_object_get(json_object_get(json_object_get(j, "properties"), "urls"), "items");
    IA_CHECK(json_array_size(json_object_get(items, "enum")) == 2);
    IA_CHECK(strcmp(json_string_value(json_array_get(json_object_get(items, "enum"), 1)), urls[1]) == 0);
    IA_CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(j, "properties"), "urls"),
                                                "maxItems")) == 2);
    json_decref(j);
    free(p);
}

IA_TEST(urlctx_page_text) {
    static const char page[] =
        "<!doctype html><html><head><title> The  Page </title><style>p{color:red}</style>"
        "<script>alert('no')</script></head><body><nav>Home</nav><h1>Heading</h1>"
        "<p>First   paragraph with <b>bold</b>\n text.</p><ul><li>one</li><li>two</li></ul>"
        "<p>caf&eacute; &amp; &#x263A;</p><noscript>enable js</noscript></body></html>";
    char *title = NULL;
    char *t = ia_html_text(page, sizeof page - 1, 10000, &title);
    IA_CHECK(title && strcmp(title, "The Page") == 0);
    IA_CHECK(strcmp(t, "Home\nHeading\nFirst paragraph with bold text.\none\ntwo\ncaf\xc3\xa9 & \xe2\x98\xba") == 0);
    IA_CHECK(!strstr(t, "alert") && !strstr(t, "color") && !strstr(t, "enable js"));
    free(t);
    free(title);
    /* cut at the cap, on a character boundary; broken markup still reads */
    t = ia_html_text("<p>\xc3\xa9\xc3\xa9\xc3\xa9", 9, 3, NULL);
    IA_CHECK(strcmp(t, "\xc3\xa9") == 0);
    free(t);
    t = ia_html_text("<div><p>unclosed <i>tags", 24, 100, NULL);
    IA_CHECK(strcmp(t, "unclosed tags") == 0);
    free(t);
    t = ia_html_text("", 0, 100, &title);
    IA_CHECK(t && !*t && !title);
    free(t);
}
