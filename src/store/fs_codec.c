/* fs_codec: a document's customMetadata as the store keeps it, neutral JSON
 * (store/fsearch.h), shared by the backends. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/fsearch.h"

char *ia_fs_meta_encode(const ia_fs_meta *m, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s}", "key", m[i].key ? m[i].key : "");
        if (m[i].kind == IA_FS_META_STRING) json_object_set_new(o, "string", json_string(m[i].str ? m[i].str : ""));
        else if (m[i].kind == IA_FS_META_NUMERIC) json_object_set_new(o, "number", json_real(m[i].num));
        else {
            json_t *l = json_array();
            for (size_t j = 0; j < m[i].n_list; j++) json_array_append_new(l, json_string(m[i].list[j]));
            json_object_set_new(o, "list", l);
        }
        json_array_append_new(a, o);
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

int ia_fs_meta_decode(const char *text, ia_fs_meta **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!text || !*text) return 0;
    json_t *a = json_loads(text, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return -1;
    }
    size_t k = json_array_size(a);
    ia_fs_meta *m = k ? ia_xcalloc(k, sizeof *m) : NULL;
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        json_t *o = json_array_get(a, i), *v;
        const char *key = json_string_value(json_object_get(o, "key"));
        if (!key) {
            rc = -1;
            break;
        }
        m[i].key = ia_strdup(key);
        if ((v = json_object_get(o, "string")) && json_is_string(v)) {
            m[i].kind = IA_FS_META_STRING;
            m[i].str = ia_strdup(json_string_value(v));
        } else if ((v = json_object_get(o, "number")) && json_is_number(v)) {
            m[i].kind = IA_FS_META_NUMERIC;
            m[i].num = json_number_value(v);
        } else if ((v = json_object_get(o, "list")) && json_is_array(v)) {
            m[i].kind = IA_FS_META_LIST;
            m[i].n_list = json_array_size(v);
            m[i].list = m[i].n_list ? ia_xcalloc(m[i].n_list, sizeof *m[i].list) : NULL;
            for (size_t j = 0; j < m[i].n_list; j++) {
                const char *s = json_string_value(json_array_get(v, j));
                m[i].list[j] = ia_strdup(s ? s : "");
            }
        } else {
            rc = -1;
        }
    }
    json_decref(a);
    if (rc < 0) {
        ia_fs_meta_free(m, k);
        return -1;
    }
    *out = m;
    *n = k;
    return 0;
}
