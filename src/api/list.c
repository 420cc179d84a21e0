/* list.c: GET /{v}/interactions' answer and page token (api.h). Not in
 * Google's API, whose SDKs list no interactions; shaped like its other
 * lists (webhooks: page_size, page_token, next_page_token) and like the
 * Interaction resource's own fields. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "lib/util.h"

static json_t *entry_json(const ia_entry *e) {
    char ts[32];
    json_t *o = json_object();
    json_object_set_new(o, "id", ia_api_jstr(e->id));
    json_object_set_new(o, "object", json_string("interaction"));
    json_object_set_new(o, "status", json_string(ia_status_name(e->status)));
    ia_time_rfc3339(e->created, ts);
    json_object_set_new(o, "created", json_string(ts));
    ia_time_rfc3339(e->updated, ts);
    json_object_set_new(o, "updated", json_string(ts));
    if (e->model)
        json_object_set_new(o, e->custom_agent || ia_agent_name_known(e->model) ? "agent" : "model",
                            ia_api_jstr(e->model));
    if (e->previous_id && *e->previous_id)
        json_object_set_new(o, "previous_interaction_id", ia_api_jstr(e->previous_id));
    if (e->title) json_object_set_new(o, "title", ia_api_jstr(e->title));
    return o;
}

char *ia_api_list_encode(const ia_entry *v, size_t n, int64_t next_created, const char *next_id) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, entry_json(&v[i]));
    json_t *o = json_object();
    json_object_set_new(o, "interactions", list);
    if (next_id && *next_id) {
        char raw[128], tok[200];
        int len = snprintf(raw, sizeof raw, "%" PRId64 "/%s", next_created, next_id);
        ia_b64url_encode((const uint8_t *)raw, (size_t)len, tok);
        json_object_set_new(o, "next_page_token", json_string(tok));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int ia_api_list_parse_token(const char *tok, int64_t *created, char id[80]) {
    uint8_t raw[128];
    size_t tl = strlen(tok);
    if (tl == 0 || tl > 170) return -1;
    long n = ia_b64url_decode(tok, tl, raw, sizeof raw - 1);
    if (n <= 0) return -1;
    raw[n] = 0;
    char *slash = strchr((char *)raw, '/'), *end;
    if (!slash || slash == (char *)raw) return -1;
    *slash = 0;
    long long c = strtoll((char *)raw, &end, 10);
    size_t il = strlen(slash + 1);
    if (*end || c < 0 || il == 0 || il >= 80) return -1;
    for (const char *p = slash + 1; *p; p++) /* an id's alphabet: base64url and the v1_ prefix */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return -1;
    *created = c;
    memcpy(id, slash + 1, il + 1);
    return 0;
}
