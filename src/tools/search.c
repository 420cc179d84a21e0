/* search.c: google_search's backends as one, and the tool's run
 * (search.h). */
#include "tools/search.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "tools/search_int.h"

/* ---- hits ---------------------------------------------------------------------- */

void ia_search_hits_add(ia_search_hits *h, const char *url, const char *title, const char *snippet) {
    char *u = ia_one_line(url, 2048);
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->v[i].url, u) == 0 || !*u) {
            free(u);
            return;
        }
    }
    if (!*u) {
        free(u);
        return;
    }
    h->v = ia_xrealloc(h->v, (h->n + 1) * sizeof *h->v);
    h->v[h->n++] = (ia_search_hit){u, ia_one_line(title, 300), ia_one_line(snippet, IA_SEARCH_SNIPPET_MAX)};
}

void ia_search_hits_free(ia_search_hits *h) {
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].url);
        free(h->v[i].title);
        free(h->v[i].snippet);
    }
    free(h->v);
    memset(h, 0, sizeof *h);
}

/* ---- the backends as one ------------------------------------------------------- */

struct ia_search {
    ia_search_backend b[2];
    size_t n;
    char *describe;
    char *base; /* SearxNG's base URL: the suggestions link to its result pages */
};

ia_search *ia_search_new(const ia_search_opts *o, ia_err *err) {
    ia_search *s = ia_xcalloc(1, sizeof *s);
    ia_buf d;
    ia_buf_init(&d, 0);
    if (o->url) {
        if (ia_searx_open(o->url, o->timeout_ms, o->max_bytes, &s->b[s->n], err) != 0) goto fail;
        s->n++;
        s->base = ia_strdup(o->url);
        ia_buf_printf(&d, "SearxNG at %s", o->url);
    }
    if (o->n_dirs) {
        if (ia_index_open(o->dirs, o->n_dirs, o->index_path, o->rescan_s, &s->b[s->n], err) != 0) goto fail;
        s->n++;
        ia_buf_printf(&d, "%sa full-text index of", d.len ? " and " : "");
        for (size_t i = 0; i < o->n_dirs; i++) ia_buf_printf(&d, "%s %s", i ? "," : "", o->dirs[i]);
        ia_buf_printf(&d, " (%s)", o->index_path);
    }
    s->describe = ia_buf_take(&d);
    return s;
fail:
    ia_buf_free(&d);
    ia_search_free(s);
    return NULL;
}

void ia_search_free(ia_search *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) s->b[i].destroy(s->b[i].self);
    free(s->describe);
    free(s->base);
    free(s);
}

const char *ia_search_describe(const ia_search *s) { return s && s->describe ? s->describe : "none"; }

int ia_search_query(ia_search *s, const char *q, bool images, size_t max, atomic_bool *cancel, ia_search_hits *out,
                    ia_err *err) {
    int ok = 0;
    ia_err last = {0};
    for (size_t i = 0; i < s->n; i++) {
        ia_err e = {0};
        if (s->b[i].query(s->b[i].self, q, images, max, cancel, out, &e) == 0) ok++;
        else last = e;
    }
    if (ok || !s->n) return 0;
    *err = last;
    return -1;
}

/* ---- the tool --------------------------------------------------------------------- */

/* Short strings, so that a model's call ends well within its budget. */
const char IA_SEARCH_PARAMS[] =
    "{\"type\":\"object\",\"properties\":{\"queries\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":5,"
    "\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":200},"
    "\"description\":\"the searches to run, each a few words\"}},\"required\":[\"queries\"]}";

static void html_escaped(ia_buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': ia_buf_puts(b, "&lt;"); break;
        case '>': ia_buf_puts(b, "&gt;"); break;
        case '&': ia_buf_puts(b, "&amp;"); break;
        case '"': ia_buf_puts(b, "&quot;"); break;
        default: ia_buf_append(b, s, 1);
        }
    }
}

/* What Google's search_suggestions is for: chips naming the searches made,
 * to show beside the answer; each links to SearxNG's own result page when
 * that is the backend (the local index has no page of its own). */
static char *suggestions_html(const ia_search *s, json_t *queries) {
    ia_buf b;
    ia_buf_init(&b, 0);
    ia_buf_puts(&b, "<div class=\"search-suggestions\">");
    size_t i;
    json_t *q;
    json_array_foreach(queries, i, q) {
        const char *text = json_string_value(q);
        if (!text) continue;
        if (s && s->base) {
            char *u = ia_searx_url(s->base, text, false);
            char *page = u;
            char *fmt = strstr(u, "&format=json");
            if (fmt) *fmt = '\0'; /* the page a person reads, not the JSON */
            ia_buf_puts(&b, "<a class=\"chip\" href=\"");
            html_escaped(&b, page);
            ia_buf_puts(&b, "\">");
            free(u);
        } else {
            ia_buf_puts(&b, "<span class=\"chip\">");
        }
        html_escaped(&b, text);
        ia_buf_puts(&b, s && s->base ? "</a>" : "</span>");
    }
    ia_buf_puts(&b, "</div>");
    return ia_buf_take(&b);
}

/* One query: its hits into the result and the model's numbered list. */
static bool run_query(ia_search *s, const char *q, bool images, atomic_bool *cancel, json_t *result, ia_buf *text,
                      int *number) {
    ia_search_hits hits = {0};
    ia_err err = {0};
    /* the query on one line: a model's query cannot forge a numbered source */
    char *q1 = ia_one_line(q, 300);
    ia_buf_printf(text, "%sSearch results for \"%s\":\n", text->len ? "\n" : "", q1);
    free(q1);
    if (ia_search_query(s, q, images, IA_SEARCH_HITS_PER_QUERY, cancel, &hits, &err) != 0) {
        ia_buf_printf(text, "The search failed: %s\n", err.msg);
        ia_search_hits_free(&hits);
        return false;
    }
    if (!hits.n) ia_buf_puts(text, "No results.\n");
    for (size_t i = 0; i < hits.n; i++) {
        const ia_search_hit *h = &hits.v[i];
        ia_buf_printf(text, "[%d] %s\nURL: %s\n%s\n", ++*number, *h->title ? h->title : h->url, h->url,
                      *h->snippet ? h->snippet : "(no snippet)");
        json_t *e = json_pack("{s:s}", "url", h->url);
        if (*h->title) json_object_set_new(e, "title", json_string(h->title));
        json_array_append_new(result, e);
    }
    ia_search_hits_free(&hits);
    return true;
}

void ia_search_run(ia_search *s, const char *args_json, bool images, atomic_bool *cancel, char **result_json,
                   bool *is_error, char **model_text) {
    json_t *args = json_loads(args_json ? args_json : "", 0, NULL);
    json_t *queries = json_object_get(args, "queries");
    json_t *result = json_array();
    char *html = suggestions_html(s, queries);
    json_array_append_new(result, json_pack("{s:s}", "search_suggestions", html));
    free(html);
    ia_buf text;
    ia_buf_init(&text, 0);
    int number = 0, asked = 0, answered = 0;
    size_t i;
    json_t *q;
    json_array_foreach(queries, i, q) {
        const char *qs = json_string_value(q);
        if (!qs || !*qs || asked >= IA_SEARCH_MAX_QUERIES) continue;
        if (cancel && atomic_load(cancel)) break; /* the run is over: nobody reads the rest */
        asked++;
        answered += s && run_query(s, qs, images, cancel, result, &text, &number);
    }
    if (!asked) ia_buf_puts(&text, "No query was given to search for.");
    *is_error = answered == 0;
    *result_json = json_dumps(result, JSON_COMPACT);
    *model_text = ia_buf_take(&text);
    json_decref(result);
    json_decref(args);
}
