/* url_context.c: the pages a prompt names, fetched and read as text
 * (url_context.h). */
#include "tools/url_context.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/util.h"
#include "tools/html.h"

#define URL_MAX_LEN 2048

static bool ends_url(unsigned char c) {
    return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' ||
           c == '|' || c == '\\' || c == '^' || c == 0x7f;
}

void ia_url_context_find(const char *text, char ***urls, size_t *n) {
    for (const char *p = text; p && *p && *n < IA_URL_CONTEXT_MAX_URLS;) {
        const char *h = strstr(p, "http");
        if (!h) break;
        size_t scheme = !strncasecmp(h, "https://", 8) ? 8 : !strncasecmp(h, "http://", 7) ? 7 : 0;
        if (!scheme || (h > text && (isalnum((unsigned char)h[-1])))) {
            p = h + 4;
            continue;
        }
        size_t k = scheme;
        while (h[k] && !ends_url((unsigned char)h[k])) k++;
        /* trailing punctuation belongs to the sentence, and a closing
         * bracket to one opened before the URL */
        while (k > scheme && strchr(".,;:!?)]", h[k - 1])) k--;
        if (k > scheme && k <= URL_MAX_LEN) {
            char *u = ia_strndup(h, k);
            bool seen = false;
            for (size_t i = 0; i < *n && !seen; i++) seen = strcmp((*urls)[i], u) == 0;
            if (seen) {
                free(u);
            } else {
                *urls = ia_xrealloc(*urls, (*n + 1) * sizeof **urls);
                (*urls)[(*n)++] = u;
            }
        }
        p = h + (k > 4 ? k : 4);
    }
}

char *ia_url_context_params(const char *const *urls, size_t n) {
    json_t *e = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(e, json_string(urls[i]));
    json_t *s = json_pack("{s:s, s:{s:{s:s, s:{s:s, s:o}, s:i, s:i}}, s:[s]}", "type", "object", "properties",
                          "urls", "type", "array", "items", "type", "string", "enum", e, "minItems", 1,
                          "maxItems", (int)n, "required", "urls");
    char *out = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    return out;
}

/* One URL: its status, and the model's text about it into b. */
static const char *read_one(const ia_tools_cfg *cfg, const char *url, bool allowed, atomic_bool *cancel,
                            ia_buf *b) {
    ia_buf_printf(b, "%sURL: %s\n", b->len ? "\n\n" : "", url);
    if (!allowed) {
        ia_buf_puts(b, "Status: unsafe (not a URL the user gave)\n");
        return "unsafe";
    }
    ia_fetched f = {0};
    ia_err err = {0};
    ia_fetch_req rq = {.cancel = cancel}; /* a cancelled run does not wait for a slow page */
    if (ia_fetch_ex(url, &cfg->fetch, &rq, "url", &f, &err) != 0) {
        bool unsafe = ia_fetch_refused(&err);
        ia_buf_printf(b, "Status: %s (%s)\n", unsafe ? "unsafe" : "error", err.msg);
        return unsafe ? "unsafe" : "error";
    }
    size_t max = cfg->url_max_chars ? cfg->url_max_chars : 20000;
    const char *ct = f.content_type ? f.content_type : "";
    char *title = NULL, *text;
    if (!*ct || strstr(ct, "html") || strstr(ct, "xml")) {
        text = ia_html_text((const char *)f.data, f.len, max, &title);
    } else if (!strncmp(ct, "text/", 5) || strstr(ct, "json")) {
        text = ia_utf8_sanitize((const char *)f.data, f.len < max ? f.len : ia_utf8_complete_prefix((const char *)f.data, max));
    } else {
        ia_buf_printf(b, "Status: error (a %s document, not text this tool reads)\n", ct);
        ia_fetched_free(&f);
        return "error";
    }
    ia_buf_puts(b, "Status: success\n");
    if (title && *title) ia_buf_printf(b, "Title: %s\n", title);
    ia_buf_printf(b, "\n%s\n", text);
    free(title);
    free(text);
    ia_fetched_free(&f);
    return "success";
}

void ia_url_context_run(const ia_tools_cfg *cfg, const char *args_json, const ia_tool_ctx *ctx,
                        ia_tool_out *out) {
    json_t *args = json_loads(args_json ? args_json : "", 0, NULL);
    json_t *list = json_object_get(args, "urls");
    json_t *result = json_array();
    ia_buf b;
    ia_buf_init(&b, 0);
    size_t i, ok = 0;
    json_t *u;
    json_array_foreach(list, i, u) {
        const char *url = json_string_value(u);
        if (!url || i >= IA_URL_CONTEXT_MAX_URLS) continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++) dup = json_equal(json_array_get(list, k), u);
        if (dup) continue;
        bool allowed = false;
        for (size_t k = 0; k < ctx->n_urls && !allowed; k++) allowed = strcmp(ctx->urls[k], url) == 0;
        if (ctx->cancel && atomic_load(ctx->cancel)) break;
        const char *status = read_one(cfg, url, allowed, ctx->cancel, &b);
        ok += strcmp(status, "success") == 0;
        json_array_append_new(result, json_pack("{s:s, s:s}", "url", url, "status", status));
    }
    if (!json_array_size(result)) ia_buf_puts(&b, "No URL was given to read.");
    out->result_json = json_dumps(result, JSON_COMPACT);
    out->is_error = ok == 0;
    out->model_text = ia_buf_take(&b);
    json_decref(result);
    json_decref(args);
}
