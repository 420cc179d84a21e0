/* models: the wire JSON of models.list and models.get (api.h, "Models"):
 * Google's Model resource — name "models/NAME", baseModelId, version,
 * displayName, description, inputTokenLimit, outputTokenLimit,
 * supportedGenerationMethods — in a {"models": [...], "nextPageToken"}
 * page, the last page without a token (as the Files API's). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "lib/util.h"

static json_t *model_json(const ia_api_model *m) {
    char *name = ia_asprintf("models/%s", m->name);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    free(name);
    json_object_set_new(o, "baseModelId", json_string(m->name));
    json_object_set_new(o, "version", json_string(m->version ? m->version : "local"));
    json_object_set_new(o, "displayName", json_string(m->display_name ? m->display_name : m->name));
    if (m->description) json_object_set_new(o, "description", json_string(m->description));
    if (m->input_limit > 0) json_object_set_new(o, "inputTokenLimit", json_integer(m->input_limit));
    if (m->output_limit > 0) json_object_set_new(o, "outputTokenLimit", json_integer(m->output_limit));
    /* what this server does with it: interactions.create, or embeddings
     * (no generateContent here, so none is claimed) */
    json_object_set_new(o, "supportedGenerationMethods", m->embedding ? json_pack("[ss]", "embedContent",
                                                                                  "batchEmbedContents")
                                                                      : json_pack("[s]", "createInteraction"));
    return o;
}

static char *dump(json_t *o) {
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    return s;
}

char *ia_api_model_encode(const ia_api_model *m) { return dump(model_json(m)); }

char *ia_api_models_encode_list(const ia_api_model *v, size_t n, size_t next) {
    json_t *o = json_object(), *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, model_json(&v[i]));
    json_object_set_new(o, "models", a);
    if (next) {
        char tok[40];
        ia_api_models_page_token(next, tok);
        json_object_set_new(o, "nextPageToken", json_string(tok));
    }
    return dump(o);
}

void ia_api_models_page_token(size_t next, char out[40]) { snprintf(out, 40, "m%zu", next); }

long ia_api_models_parse_page_token(const char *s) {
    if (!s || s[0] != 'm' || !s[1] || strlen(s) > 12) return -1;
    long v = 0;
    for (const char *p = s + 1; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    return v > 0 ? v : -1;
}
