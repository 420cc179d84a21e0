/* Fuzz target: google_search's outside bytes — a SearxNG instance's JSON
 * answer read into hits (src/tools/search_searx.c; jansson parses, the
 * conversion is ours), and the citation matcher over the sources those
 * hits make (src/tools/cite.c), the answer's text being the same bytes.
 *
 * Checks: at most max hits, each url http(s), every field one line of valid
 * UTF-8 within its cap; every citation's range within the text, start <
 * end, its url one of the sources'. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/cite.h"
#include "tools/search_int.h"

static bool one_line(const char *s) {
    if (!ia_utf8_valid(s, strlen(s))) return false;
    for (const char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r') return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ia_search_hits h = {0};
    ia_err err = {0};
    if (ia_searx_parse((const char *)data, size, 5, &h, &err) != 0) FUZZ_CHECK(h.n == 0 && err.msg[0]);
    FUZZ_CHECK(h.n <= 5);
    ia_buf list;
    ia_buf_init(&list, 0);
    for (size_t i = 0; i < h.n; i++) {
        const ia_search_hit *x = &h.v[i];
        FUZZ_CHECK(!strncmp(x->url, "http://", 7) || !strncmp(x->url, "https://", 8));
        FUZZ_CHECK(one_line(x->url) && one_line(x->title) && one_line(x->snippet));
        FUZZ_CHECK(strlen(x->snippet) <= IA_SEARCH_SNIPPET_MAX);
        ia_buf_printf(&list, "[%zu] %s\nURL: %s\n%s\n", i + 1, *x->title ? x->title : x->url, x->url, x->snippet);
    }
    ia_cite_sources s = {0};
    ia_cite_sources_read(list.data ? list.data : "", &s);
    FUZZ_CHECK(s.n == h.n);
    char *text = fuzz_cstr(data, size);
    size_t n = 0, len = strlen(text);
    ia_annotation *a = ia_cite(text, &s, &n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(a[i].start >= 0 && a[i].start < a[i].end && (size_t)a[i].end <= len);
        bool known = false;
        for (size_t k = 0; k < s.n && !known; k++) known = strcmp(s.v[k].url, a[i].url) == 0;
        FUZZ_CHECK(known);
    }
    ia_annotations_free(a, n);
    free(text);
    ia_cite_sources_free(&s);
    ia_buf_free(&list);
    ia_search_hits_free(&h);
    return 0;
}
