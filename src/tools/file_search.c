/* file_search: the tool's arguments and result (tools/file_search.h). */
#include "tools/file_search.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

char *ia_file_search_query(const char *args_json, const char **why) {
    json_t *a = json_loads(args_json ? args_json : "", 0, NULL);
    const char *q = json_string_value(json_object_get(a, "query"));
    char *out = q && *q ? ia_strdup(q) : NULL;
    json_decref(a);
    if (!out) *why = "the call's arguments have no query: call file_search with {\"query\": \"words to look for\"}";
    return out;
}

static json_t *meta_object(const ia_fs_meta *m, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind == IA_FS_META_STRING) json_object_set_new(o, m[i].key, json_string(m[i].str));
        else if (m[i].kind == IA_FS_META_NUMERIC) json_object_set_new(o, m[i].key, json_real(m[i].num));
        else {
            json_t *l = json_array();
            for (size_t j = 0; j < m[i].n_list; j++) json_array_append_new(l, json_string(m[i].list[j]));
            json_object_set_new(o, m[i].key, l);
        }
    }
    return o;
}

void ia_file_search_result(const ia_fs_hit *hits, size_t n, char **result_json, char **model_text) {
    json_t *a = json_array();
    ia_buf t;
    ia_buf_init(&t, 0);
    for (size_t i = 0; i < n; i++) {
        const ia_fs_hit *h = &hits[i];
        char store[64], doc[128];
        snprintf(store, sizeof store, "fileSearchStores/%s", h->store);
        snprintf(doc, sizeof doc, "%s/documents/%s", store, h->doc);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f}", "title", h->doc_title ? h->doc_title : h->doc, "text",
                              h->text ? h->text : "", "file_search_store", store, "document", doc, "score", h->score);
        if (h->n_meta) json_object_set_new(o, "custom_metadata", meta_object(h->meta, h->n_meta));
        json_array_append_new(a, o);
        /* the title on one line, so cite.c reads the block back */
        char *title = ia_strdup(h->doc_title ? h->doc_title : h->doc);
        for (char *c = title; *c; c++)
            if (*c == '\n' || *c == '\r') *c = ' ';
        ia_buf_printf(&t, "%s[%zu] %s\nURL: %s\n", i ? "\n" : "", i + 1, title, doc);
        free(title);
        /* the text on one line too: the block's third line is its snippet */
        for (const char *c = h->text ? h->text : ""; *c; c++) ia_buf_append(&t, *c == '\n' || *c == '\r' ? " " : c, 1);
        ia_buf_puts(&t, "\n");
    }
    if (!n) ia_buf_puts(&t, "No passage of the documents matches the query.\n");
    *result_json = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    *model_text = ia_buf_take(&t);
}
