/* fsearch: the file search stores' wire JSON (api/fsearch.h). */
#include "api/fsearch.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"

/* The body as an object ({} when empty); IA_EINVALID otherwise. */
static json_t *body_object(const char *body, size_t len, ia_err *err) {
    if (!body || !len) return json_object();
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        ia_fail(err, IA_EINVALID, "the body must be a JSON object%s%s", o ? "" : ": ", o ? "" : je.text);
        return NULL;
    }
    return o;
}

/* Refuses a key of o not in allowed (NULL-terminated), naming it. */
static int only(json_t *o, const char *path, const char *const *allowed, ia_err *err) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(*a, k);
        if (!ok) return ia_fail(err, IA_EINVALID, "%s%s%s: unknown field", path, *path ? "." : "", k);
    }
    return 0;
}

static int opt_str(json_t *o, const char *key, char **out, ia_err *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: must be a string", key);
    *out = ia_strdup(json_string_value(v));
    return 0;
}

int ia_api_fs_decode_create(const char *body, size_t len, char **display_name, char **embedding_model,
                            ia_err *err) {
    static const char *const KEYS[] = {"displayName", "embeddingModel", NULL};
    *display_name = *embedding_model = NULL;
    json_t *o = body_object(body, len, err);
    if (!o) return -1;
    int rc = only(o, "", KEYS, err);
    if (rc == 0) rc = opt_str(o, "displayName", display_name, err);
    if (rc == 0) rc = opt_str(o, "embeddingModel", embedding_model, err);
    json_decref(o);
    if (rc < 0) {
        free(*display_name);
        free(*embedding_model);
        *display_name = *embedding_model = NULL;
    }
    return rc;
}

/* customMetadata's bounds (bytes): a document's metadata is copied into
 * every search hit, so an unbounded one would make each hit as large. */
#define META_KEY_MAX 256
#define META_VALUE_MAX 1024
#define META_LIST_MAX 100

/* -1 naming path.field when v is longer than max bytes. */
static int too_long(const char *path, const char *field, json_t *v, size_t max, ia_err *err) {
    size_t n = json_string_length(v);
    if (n <= max) return 0;
    return ia_fail(err, IA_EINVALID, "%s.%s: %zu bytes, longer than the %zu taken", path, field, n, max);
}

/* One customMetadata entry {key, stringValue | numericValue |
 * stringListValue: {values}} at path. */
static int meta_entry(json_t *e, const char *path, ia_fs_meta *m, ia_err *err) {
    static const char *const KEYS[] = {"key", "stringValue", "numericValue", "stringListValue", NULL};
    if (!json_is_object(e)) return ia_fail(err, IA_EINVALID, "%s: must be an object {key, stringValue | "
                                           "numericValue | stringListValue}", path);
    if (only(e, path, KEYS, err) < 0) return -1;
    json_t *k = json_object_get(e, "key"), *s = json_object_get(e, "stringValue"),
           *n = json_object_get(e, "numericValue"), *l = json_object_get(e, "stringListValue");
    if (!json_is_string(k) || !*json_string_value(k))
        return ia_fail(err, IA_EINVALID, "%s.key: required, a non-empty string", path);
    if (too_long(path, "key", k, META_KEY_MAX, err) < 0) return -1;
    if ((s != NULL) + (n != NULL) + (l != NULL) != 1)
        return ia_fail(err, IA_EINVALID, "%s: give exactly one of stringValue, numericValue, stringListValue", path);
    m->key = ia_strdup(json_string_value(k));
    if (s) {
        if (!json_is_string(s)) return ia_fail(err, IA_EINVALID, "%s.stringValue: must be a string", path);
        if (too_long(path, "stringValue", s, META_VALUE_MAX, err) < 0) return -1;
        m->kind = IA_FS_META_STRING;
        m->str = ia_strdup(json_string_value(s));
    } else if (n) {
        if (!json_is_number(n) || !isfinite(json_number_value(n)))
            return ia_fail(err, IA_EINVALID, "%s.numericValue: must be a number", path);
        m->kind = IA_FS_META_NUMERIC;
        m->num = json_number_value(n);
    } else {
        json_t *vals = json_is_object(l) ? json_object_get(l, "values") : NULL;
        if (!json_is_array(vals) && !(json_is_object(l) && !vals))
            return ia_fail(err, IA_EINVALID, "%s.stringListValue: must be {values: [strings]}", path);
        if (json_array_size(vals) > META_LIST_MAX)
            return ia_fail(err, IA_EINVALID, "%s.stringListValue.values: %zu strings, more than the %d taken", path,
                           json_array_size(vals), META_LIST_MAX);
        m->kind = IA_FS_META_LIST;
        m->n_list = json_array_size(vals);
        m->list = m->n_list ? ia_xcalloc(m->n_list, sizeof *m->list) : NULL;
        for (size_t j = 0; j < m->n_list; j++) {
            json_t *x = json_array_get(vals, j);
            if (!json_is_string(x))
                return ia_fail(err, IA_EINVALID, "%s.stringListValue.values[%zu]: must be a string", path, j);
            char field[48];
            snprintf(field, sizeof field, "stringListValue.values[%zu]", j);
            if (too_long(path, field, x, META_VALUE_MAX, err) < 0) return -1;
            m->list[j] = ia_strdup(json_string_value(x));
        }
    }
    return 0;
}

static int decode_meta(json_t *a, ia_api_fs_add *out, ia_err *err) {
    if (!a || json_is_null(a)) return 0;
    if (!json_is_array(a)) return ia_fail(err, IA_EINVALID, "customMetadata: must be a list of {key, value}");
    if (json_array_size(a) > 20)
        return ia_fail(err, IA_EINVALID, "customMetadata: at most 20 entries (as Google's), got %zu",
                       json_array_size(a));
    out->n_meta = json_array_size(a);
    out->meta = out->n_meta ? ia_xcalloc(out->n_meta, sizeof *out->meta) : NULL;
    for (size_t i = 0; i < out->n_meta; i++) {
        char path[48];
        snprintf(path, sizeof path, "customMetadata[%zu]", i);
        if (meta_entry(json_array_get(a, i), path, &out->meta[i], err) < 0) return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(out->meta[j].key, out->meta[i].key))
                return ia_fail(err, IA_EINVALID, "%s.key: '%.60s' is given twice", path, out->meta[i].key);
    }
    return 0;
}

static int int_field(json_t *o, const char *path, const char *key, int *out, ia_err *err) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000)
        return ia_fail(err, IA_EINVALID, "%s.%s: must be a non-negative integer", path, key);
    *out = (int)json_integer_value(v);
    return 0;
}

static int decode_chunking(json_t *c, ia_fs_chunking *out, ia_err *err) {
    static const char *const KEYS[] = {"whiteSpaceConfig", NULL};
    static const char *const WS[] = {"maxTokensPerChunk", "maxOverlapTokens", NULL};
    if (!c || json_is_null(c)) return 0;
    if (!json_is_object(c)) return ia_fail(err, IA_EINVALID, "chunkingConfig: must be an object");
    if (only(c, "chunkingConfig", KEYS, err) < 0) return -1;
    json_t *w = json_object_get(c, "whiteSpaceConfig");
    if (!w || json_is_null(w)) return 0;
    if (!json_is_object(w)) return ia_fail(err, IA_EINVALID, "chunkingConfig.whiteSpaceConfig: must be an object");
    const char *p = "chunkingConfig.whiteSpaceConfig";
    if (only(w, p, WS, err) < 0 || int_field(w, p, "maxTokensPerChunk", &out->max_tokens, err) < 0 ||
        int_field(w, p, "maxOverlapTokens", &out->overlap, err) < 0)
        return -1;
    return 0;
}

int ia_api_fs_decode_add(const char *body, size_t len, bool import, ia_api_fs_add *out, ia_err *err) {
    static const char *const UP[] = {"mimeType", "displayName", "customMetadata", "chunkingConfig", NULL};
    static const char *const IMP[] = {"fileName", "customMetadata", "chunkingConfig", NULL};
    memset(out, 0, sizeof *out);
    json_t *o = body_object(body, len, err);
    if (!o) return -1;
    int rc = only(o, "", import ? IMP : UP, err);
    char *file = NULL;
    if (rc == 0 && !import) rc = opt_str(o, "mimeType", &out->mime_type, err);
    if (rc == 0 && !import) rc = opt_str(o, "displayName", &out->display_name, err);
    if (rc == 0 && import) rc = opt_str(o, "fileName", &file, err);
    if (rc == 0 && import) {
        char id[IA_FILE_ID_MAX];
        if (!file) rc = ia_fail(err, IA_EINVALID, "fileName: required, the name of a Files API file (files/ID)");
        else if (ia_api_file_ref(file, id) < 0)
            rc = ia_fail(err, IA_EINVALID, "fileName: '%.80s' is not a Files API file name (files/ID)", file);
        else out->file_id = ia_strdup(id);
    }
    if (rc == 0) rc = decode_meta(json_object_get(o, "customMetadata"), out, err);
    if (rc == 0) rc = decode_chunking(json_object_get(o, "chunkingConfig"), &out->chunking, err);
    free(file);
    json_decref(o);
    if (rc < 0) ia_api_fs_add_free(out);
    return rc;
}

void ia_api_fs_add_free(ia_api_fs_add *a) {
    if (!a) return;
    free(a->display_name);
    free(a->mime_type);
    free(a->file_id);
    ia_fs_meta_free(a->meta, a->n_meta);
    memset(a, 0, sizeof *a);
}

/* ---- encoding -------------------------------------------------------------- */

static json_t *jint64(int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

static json_t *jtime(int64_t t) {
    char s[32];
    ia_time_rfc3339(t, s);
    return json_string(s);
}

static char *dump(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static json_t *store_json(const ia_fs_store *s) {
    char name[80];
    snprintf(name, sizeof name, "fileSearchStores/%s", s->id);
    json_t *o = json_pack("{s:s}", "name", name);
    if (s->display_name) json_object_set_new(o, "displayName", json_string(s->display_name));
    json_object_set_new(o, "createTime", jtime(s->created));
    json_object_set_new(o, "updateTime", jtime(s->updated));
    json_object_set_new(o, "activeDocumentsCount", jint64(s->n_active));
    json_object_set_new(o, "pendingDocumentsCount", jint64(s->n_pending));
    json_object_set_new(o, "failedDocumentsCount", jint64(s->n_failed));
    json_object_set_new(o, "sizeBytes", jint64(s->size_bytes));
    if (s->embedding_model) json_object_set_new(o, "embeddingModel", json_string(s->embedding_model));
    return o;
}

char *ia_api_fs_encode_store(const ia_fs_store *s) { return dump(store_json(s)); }

static void page_token(json_t *o, int64_t next) {
    if (next <= 0) return; /* the last page: no token (an empty one loops the SDK's pager) */
    char tok[40];
    ia_api_files_page_token(next, tok);
    json_object_set_new(o, "nextPageToken", json_string(tok));
}

char *ia_api_fs_encode_stores(const ia_fs_store *s, size_t n, int64_t next) {
    json_t *o = json_object();
    if (n) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(a, store_json(&s[i]));
        json_object_set_new(o, "fileSearchStores", a);
    }
    page_token(o, next);
    return dump(o);
}

static json_t *meta_json(const ia_fs_meta *m, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s}", "key", m[i].key);
        if (m[i].kind == IA_FS_META_STRING) json_object_set_new(e, "stringValue", json_string(m[i].str));
        else if (m[i].kind == IA_FS_META_NUMERIC) json_object_set_new(e, "numericValue", json_real(m[i].num));
        else {
            json_t *v = json_array();
            for (size_t j = 0; j < m[i].n_list; j++) json_array_append_new(v, json_string(m[i].list[j]));
            json_object_set_new(e, "stringListValue", json_pack("{s:o}", "values", v));
        }
        json_array_append_new(a, e);
    }
    return a;
}

static const char *doc_state(ia_doc_state s) {
    switch (s) {
    case IA_DOC_ACTIVE: return "STATE_ACTIVE";
    case IA_DOC_FAILED: return "STATE_FAILED";
    default: return "STATE_PENDING";
    }
}

static json_t *doc_json(const ia_fs_doc *d) {
    char name[160];
    snprintf(name, sizeof name, "fileSearchStores/%s/documents/%s", d->store, d->id);
    json_t *o = json_pack("{s:s}", "name", name);
    if (d->display_name) json_object_set_new(o, "displayName", json_string(d->display_name));
    json_object_set_new(o, "state", json_string(doc_state(d->state)));
    json_object_set_new(o, "sizeBytes", jint64(d->size));
    if (d->mime_type) json_object_set_new(o, "mimeType", json_string(d->mime_type));
    json_object_set_new(o, "createTime", jtime(d->created));
    json_object_set_new(o, "updateTime", jtime(d->updated));
    if (d->n_meta) json_object_set_new(o, "customMetadata", meta_json(d->meta, d->n_meta));
    return o;
}

char *ia_api_fs_encode_doc(const ia_fs_doc *d) { return dump(doc_json(d)); }

char *ia_api_fs_encode_docs(const ia_fs_doc *d, size_t n, int64_t next) {
    json_t *o = json_object();
    if (n) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(a, doc_json(&d[i]));
        json_object_set_new(o, "documents", a);
    }
    page_token(o, next);
    return dump(o);
}

char *ia_api_fs_encode_op(const ia_fs_doc *d, bool upload) {
    char name[200], parent[80], doc[160];
    snprintf(name, sizeof name, "fileSearchStores/%s/%soperations/%s", d->store, upload ? "upload/" : "", d->id);
    snprintf(parent, sizeof parent, "fileSearchStores/%s", d->store);
    snprintf(doc, sizeof doc, "%s/documents/%s", parent, d->id);
    bool done = d->state == IA_DOC_ACTIVE || d->state == IA_DOC_FAILED;
    json_t *o = json_pack("{s:s, s:b}", "name", name, "done", done);
    if (d->state == IA_DOC_FAILED)
        json_object_set_new(o, "error", json_pack("{s:i, s:s}", "code", 3, "message",
                                                  d->error ? d->error : "ingestion failed"));
    else if (done)
        json_object_set_new(o, "response", json_pack("{s:s, s:s, s:s}", "@type", upload
                                ? "type.googleapis.com/google.ai.generativelanguage.v1main.UploadToFileSearchStoreResponse"
                                : "type.googleapis.com/google.ai.generativelanguage.v1main.ImportFileResponse",
                                "parent", parent, "documentName", doc));
    return dump(o);
}
