/* embed: the wire JSON of models.embedContent / batchEmbedContents
 * (api.h, "Embeddings"). Google's names: EmbedContentRequest {model,
 * content, taskType, title, outputDimensionality}, the answer's
 * ContentEmbedding {values, statistics}. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "lib/util.h"

/* Google's TaskType names (EmbedContentRequest.taskType). */
static const char *const TASKS[] = {
    "TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION",
    "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY",
};

static int bad(ia_err *err, const char *path, const char *what) {
    return ia_fail(err, IA_EINVALID, "%s: %s", path, what);
}

/* content {parts: [{text}], role?} into b after its first head bytes;
 * the text parts joined by "\n". */
static int decode_content(json_t *c, const char *path, ia_buf *b, size_t head, ia_err *err) {
    char p[IA_API_PATH_MAX];
    if (!json_is_object(c)) return bad(err, path, "expected an object {\"parts\": [{\"text\": \"...\"}]}");
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        ia_api_mkpath(p, "%s.%s", path, key);
        if (!strcmp(key, "role")) {
            if (!json_is_string(v) && !json_is_null(v)) return bad(err, p, "expected a string");
        } else if (strcmp(key, "parts") != 0) {
            return ia_fail(err, IA_EINVALID, "%s: unknown field (a content is {parts, role})", p);
        }
    }
    json_t *parts = json_object_get(c, "parts");
    ia_api_mkpath(p, "%s.parts", path);
    if (!json_is_array(parts)) return bad(err, p, "expected an array of {\"text\": \"...\"} parts");
    size_t i;
    json_array_foreach(parts, i, v) {
        ia_api_mkpath(p, "%s.parts[%zu]", path, i);
        if (!json_is_object(v)) return bad(err, p, "expected an object {\"text\": \"...\"}");
        json_object_foreach(v, key, c) {
            if (strcmp(key, "text") != 0)
                return ia_fail(err, IA_EUNIMPLEMENTED, "%s.%s: only text parts are embedded by this server", p, key);
        }
        json_t *t = json_object_get(v, "text");
        if (!json_is_string(t)) return bad(err, p, "expected a text part {\"text\": \"...\"}");
        if (strlen(json_string_value(t)) != json_string_length(t)) return bad(err, p, "the text contains a NUL");
        if (!json_string_length(t)) continue;
        if (b->len > head) ia_buf_append(b, "\n", 1);
        ia_buf_append(b, json_string_value(t), json_string_length(t));
    }
    return 0;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

static int decode_scalar(const char *key, json_t *v, const char *p, ia_api_embed_req *r, const char **task,
                         const char **title, ia_err *err) {
    if (!strcmp(key, "model")) {
        if (!json_is_string(v)) return bad(err, p, "expected a string (\"models/NAME\")");
        const char *m = json_string_value(v);
        const char *name = !strncmp(m, "models/", 7) ? m + 7 : m;
        /* a model's name has no '/' (the URL's {model} cannot carry one) */
        if (!*name || strchr(name, '/')) return bad(err, p, "not a model name: expected \"models/NAME\" or NAME");
        r->model = ia_strdup(name);
    } else if (!strcmp(key, "taskType")) {
        if (!json_is_string(v)) return bad(err, p, "expected a string");
        *task = json_string_value(v);
        bool ok = false;
        for (size_t i = 0; i < sizeof TASKS / sizeof *TASKS; i++) ok = ok || !strcmp(TASKS[i], *task);
        if (!ok)
            return ia_fail(err, IA_EINVALID, "%s: '%.60s' is not a task type (RETRIEVAL_QUERY, RETRIEVAL_DOCUMENT, "
                           "SEMANTIC_SIMILARITY, CLASSIFICATION, CLUSTERING, QUESTION_ANSWERING, "
                           "FACT_VERIFICATION, CODE_RETRIEVAL_QUERY)", p, *task);
    } else if (!strcmp(key, "title")) {
        if (!json_is_string(v)) return bad(err, p, "expected a string");
        *title = json_string_value(v);
    } else if (!strcmp(key, "outputDimensionality")) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000)
            return bad(err, p, "expected a positive integer (the first N values are kept, renormalised)");
        r->out_dim = json_integer_value(v);
    } else {
        return ia_fail(err, IA_EINVALID, "%s: unknown field (a request is {model, content, taskType, title, "
                       "outputDimensionality})", p);
    }
    return 0;
}

/* One EmbedContentRequest at path into r. */
static int decode_one(json_t *o, const char *path, ia_api_embed_req *r, ia_err *err) {
    char p[IA_API_PATH_MAX];
    if (!json_is_object(o)) return bad(err, path[0] ? path : "body", "expected an object {content: {parts}}");
    const char *key, *task = NULL, *title = NULL;
    json_t *v;
    ia_buf b = {0};
    json_t *content = NULL;
    json_object_foreach(o, key, v) {
        ia_api_mkpath(p, "%s%s%s", path, path[0] ? "." : "", key);
        if (!strcmp(key, "content")) content = v;
        else if (decode_scalar(key, v, p, r, &task, &title, err) != 0) return -1;
    }
    ia_api_mkpath(p, "%s%scontent", path, path[0] ? "." : "");
    if (!content) return bad(err, p, "missing: the text to embed, {\"parts\": [{\"text\": \"...\"}]}");
    if (title && (!task || strcmp(task, "RETRIEVAL_DOCUMENT") != 0)) {
        ia_api_mkpath(p, "%s%stitle", path, path[0] ? "." : "");
        return bad(err, p, "only with taskType RETRIEVAL_DOCUMENT");
    }
    if (title && *title) ia_buf_printf(&b, "%s\n\n", title);
    size_t head = b.len;
    if (decode_content(content, p, &b, head, err) != 0) {
        free(b.data);
        return -1;
    }
    if (b.len == head || blank(b.data + head, b.len - head)) {
        free(b.data);
        return bad(err, p, "no text to embed (every part is empty)");
    }
    r->text = b.data;
    r->len = b.len;
    return 0;
}

static int decode_body(json_t *root, bool batch, ia_api_embed_req **out, size_t *n, ia_err *err) {
    if (!batch) {
        *out = ia_xcalloc(1, sizeof **out);
        *n = 1;
        return decode_one(root, "", *out, err);
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "requests") != 0)
            return ia_fail(err, IA_EINVALID, "unknown field '%.60s' (the body is {\"requests\": [...]})", key);
    }
    json_t *reqs = json_object_get(root, "requests");
    if (!json_is_array(reqs) || !json_array_size(reqs))
        return bad(err, "requests", "expected a non-empty array of {content: {parts: [{text}]}}");
    if (json_array_size(reqs) > IA_API_EMBED_MAX)
        return ia_fail(err, IA_EINVALID, "requests: %zu requests, at most %d in one batch", json_array_size(reqs),
                       IA_API_EMBED_MAX);
    *out = ia_xcalloc(json_array_size(reqs), sizeof **out);
    size_t i;
    json_array_foreach(reqs, i, v) {
        char p[IA_API_PATH_MAX];
        ia_api_mkpath(p, "requests[%zu]", i);
        *n = i + 1;
        if (decode_one(v, p, &(*out)[i], err) != 0) return -1;
    }
    return 0;
}

int ia_api_embed_decode(const char *body, size_t len, bool batch, ia_api_embed_req **out, size_t *n, ia_err *err) {
    *out = NULL;
    *n = 0;
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ia_fail(err, IA_EINVALID, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    int rc = json_is_object(root) ? decode_body(root, batch, out, n, err)
                                  : ia_fail(err, IA_EINVALID, "the request body must be a JSON object");
    json_decref(root);
    if (rc != 0) {
        ia_api_embed_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void ia_api_embed_free(ia_api_embed_req *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].model);
        free(v[i].text);
    }
    free(v);
}

static json_t *embedding_json(const ia_api_embedding *e) {
    json_t *vals = json_array();
    for (int i = 0; i < e->dim; i++) json_array_append_new(vals, json_real(e->v[i]));
    return json_pack("{s:o, s:{s:b, s:i}}", "values", vals, "statistics", "truncated", e->truncated, "tokenCount",
                     (json_int_t)e->n_tokens);
}

char *ia_api_embed_encode(const ia_api_embedding *e, size_t n, bool batch) {
    json_t *o;
    if (batch) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(a, embedding_json(&e[i]));
        o = json_pack("{s:o}", "embeddings", a);
    } else {
        o = json_pack("{s:o}", "embedding", embedding_json(&e[0]));
    }
    /* a float32 holds 9 significant digits; more only lengthens the body */
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(o);
    return s;
}
