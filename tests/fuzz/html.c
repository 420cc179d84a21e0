/* Fuzz target: a fetched web page's text (src/tools/html.c, url_context)
 * and the URLs found in a user's text (src/tools/url_context.c), both
 * outside bytes: a page is whatever a remote server sends.
 *
 * Input: the page (all of it), also read as a user's text. Checks: the
 * text is valid UTF-8 within its cap, the title valid UTF-8; the URLs
 * found are at most 20, distinct, each http(s) with no white space, and
 * the call schema built for them is a JSON object. */
#include "fuzz.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "tools/html.h"
#include "tools/url_context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *title = NULL;
    char *text = ia_html_text((const char *)data, size, 4096, &title);
    FUZZ_CHECK(text && strlen(text) <= 4096 && ia_utf8_valid(text, strlen(text)));
    if (title) FUZZ_CHECK(ia_utf8_valid(title, strlen(title)));
    free(text);
    free(title);

    char *s = ia_strndup((const char *)data, size);
    char **urls = NULL;
    size_t n = 0;
    ia_url_context_find(s, &urls, &n);
    FUZZ_CHECK(n <= IA_URL_CONTEXT_MAX_URLS);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(!strncasecmp(urls[i], "http://", 7) || !strncasecmp(urls[i], "https://", 8));
        for (const char *p = urls[i]; *p; p++) FUZZ_CHECK((unsigned char)*p > ' ');
        for (size_t k = 0; k < i; k++) FUZZ_CHECK(strcmp(urls[i], urls[k]) != 0);
    }
    if (n) {
        char *params = ia_url_context_params((const char *const *)urls, n);
        json_t *j = json_loads(params ? params : "", 0, NULL);
        FUZZ_CHECK(json_is_object(j));
        json_decref(j);
        free(params);
    }
    for (size_t i = 0; i < n; i++) free(urls[i]);
    free(urls);
    free(s);
    return 0;
}
