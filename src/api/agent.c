/* agent: a create's agent_config (SDK 1.52.0's DeepResearchAgentConfig
 * {type: "deep-research", thinking_summaries, collaborative_planning,
 * visualization}, with SDK 3.3.0's enable_bigquery_tool, and DynamicAgentConfig {type: "dynamic", ...}) into
 * ia_request: what it sets, and the field as checked (its known keys, nulls
 * dropped; compact JSON in r->agent_config) for the record, which both
 * dialects echo. Which agents exist and what they run is core's
 * (core/agent.h); the wire is here. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

static int drop(json_t *j, int rc) {
    json_decref(j);
    return rc;
}

static int decode_deep_research(json_t *v, ia_request *r, ia_err *err) {
    const char *key;
    json_t *val;
    json_t *norm = json_object();
    json_object_set_new(norm, "type", json_string("deep-research"));
    json_object_foreach(v, key, val) {
        if (strcmp(key, "type") && !json_is_null(val)) json_object_set(norm, key, val); /* dropped on error */
        char p[IA_API_PATH_MAX];
        ia_api_mkpath(p, "agent_config.%s", key);
        if (strcmp(key, "type") == 0 || json_is_null(val)) continue;
        const char *s = json_string_value(val);
        if (strcmp(key, "thinking_summaries") == 0) {
            if (!s || (strcmp(s, "auto") && strcmp(s, "none")))
                return drop(norm, ia_fail(err, IA_EINVALID, "%s: expected 'auto' or 'none'", p));
            r->agent_summaries_none = strcmp(s, "none") == 0;
        } else if (strcmp(key, "visualization") == 0) {
            /* "auto" lets the agent draw charts when it sees fit; this one
             * writes text reports only, which "auto" allows. */
            if (!s || (strcmp(s, "auto") && strcmp(s, "off")))
                return drop(norm, ia_fail(err, IA_EINVALID, "%s: expected 'auto' or 'off'", p));
        } else if (strcmp(key, "enable_bigquery_tool") == 0) { /* SDK 3.3.0's */
            if (!json_is_boolean(val)) return drop(norm, ia_fail(err, IA_EINVALID, "%s: expected a boolean", p));
            if (json_is_true(val))
                return drop(norm, ia_fail(err, IA_EUNIMPLEMENTED, "%s: BigQuery is not a tool of this server; "
                                          "leave it unset or false", p));
        } else if (strcmp(key, "collaborative_planning") == 0) {
            if (!json_is_boolean(val)) return drop(norm, ia_fail(err, IA_EINVALID, "%s: expected a boolean", p));
            if (json_is_true(val))
                return drop(norm, ia_fail(err, IA_EUNIMPLEMENTED, "%s: a plan reviewed before the research runs "
                                          "is not available on this server; leave it unset or false", p));
        } else {
            json_decref(norm);
            return ia_api_unknown_field(err, p);
        }
    }
    free(r->agent_config);
    r->agent_config = ia_api_dump(norm);
    return 0;
}

int ia_api_decode_agent_config(json_t *v, ia_request *r, ia_err *err) {
    if (json_is_null(v)) return 0;
    if (!json_is_object(v)) return ia_fail(err, IA_EINVALID, "agent_config: expected an object");
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) return ia_fail(err, IA_EINVALID, "agent_config.type: required ('deep-research')");
    if (strcmp(type, "deep-research") == 0) return decode_deep_research(v, r, err);
    if (strcmp(type, "dynamic") == 0)
        return ia_fail(err, IA_EUNIMPLEMENTED, "agent_config.type: 'dynamic' agents are not served by this server "
                       "yet; use 'deep-research'");
    return ia_fail(err, IA_EINVALID, "agent_config.type: expected 'deep-research', not '%s'", type);
}
