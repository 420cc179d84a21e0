/* agents.c: custom agents on the wire (SDK 3.3.0's agents.create / list /
 * get / delete, its `Agent` type), and a definition merged into the
 * create request that names it (api.h says what wins). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "lib/util.h"

/* The tool types SDK 3.3.0's AgentTool unions. */
static const char *const AGENT_TOOL_TYPES[] = {"code_execution", "function", "google_search", "mcp_server",
                                               "url_context"};

bool ia_api_agent_id_valid(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n >= IA_AGENT_ID_MAX || id[0] < 'a' || id[0] > 'z' || id[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-')) return false;
    return true;
}

static int check_tools(json_t *v, ia_err *err) {
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "tools: expected an array");
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        const char *type = json_string_value(json_object_get(t, "type"));
        bool ok = false;
        for (size_t k = 0; type && k < sizeof AGENT_TOOL_TYPES / sizeof *AGENT_TOOL_TYPES; k++)
            ok = ok || strcmp(type, AGENT_TOOL_TYPES[k]) == 0;
        if (!ok)
            return ia_fail(err, IA_EINVALID, "tools[%zu].type: an agent's tools are code_execution, function, "
                           "google_search, mcp_server or url_context, not '%.40s'", i, type ? type : "");
    }
    ia_request tmp = {0};
    int rc = ia_api_decode_tools(v, &tmp, err); /* each tool as a request's tools[] takes it */
    ia_request_free(&tmp);
    return rc < 0 ? -1 : 0;
}

/* agent_config of an Agent: SDK 3.3.0 types it as AntigravityAgentConfig
 * {type: "antigravity", model, max_total_tokens}; model names the served
 * model the agent runs on (the same as base_agent naming it). */
static int decode_config(json_t *v, ia_agent_def *d, const char **model, ia_err *err) {
    if (!json_is_object(v)) return ia_fail(err, IA_EINVALID, "agent_config: expected an object");
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type || strcmp(type, "antigravity"))
        return ia_fail(err, IA_EINVALID, "agent_config.type: expected 'antigravity' (the only agent_config an "
                       "Agent takes)");
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        char p[IA_API_PATH_MAX];
        ia_api_mkpath(p, "agent_config.%s", key);
        if (!strcmp(key, "type") || json_is_null(val)) continue;
        if (!strcmp(key, "model")) {
            if (ia_api_get_string(val, p, model, err) < 0) return -1;
        } else if (!strcmp(key, "max_total_tokens")) {
            return ia_fail(err, IA_EUNIMPLEMENTED, "%s: a token budget across an agent's whole run is not "
                           "enforced by this server; leave it unset", p);
        } else {
            return ia_api_unknown_field(err, p);
        }
    }
    d->agent_config = json_dumps(v, JSON_COMPACT);
    return 0;
}

static int dup_str(json_t *v, const char *path, char **out, ia_err *err) {
    const char *s;
    if (ia_api_get_string(v, path, &s, err) < 0) return -1;
    *out = ia_strndup(s, json_string_length(v));
    return 0;
}

static int decode_field(const char *key, json_t *v, ia_agent_def *d, const char **model, ia_err *err) {
    if (!strcmp(key, "id")) {
        const char *s;
        if (ia_api_get_string(v, key, &s, err) < 0) return -1;
        if (!ia_api_agent_id_valid(s))
            return ia_fail(err, IA_EINVALID, "id: '%.80s' is not an agent id: 1 to %d lowercase letters, digits "
                           "and '-', starting with a letter and not ending with '-'", s, IA_AGENT_ID_MAX - 1);
        if (ia_agent_name_known(s))
            return ia_fail(err, IA_EINVALID, "id: '%s' is a built-in agent's name; pick another id", s);
        snprintf(d->id, sizeof d->id, "%s", s);
        return 0;
    }
    if (!strcmp(key, "base_agent")) return dup_str(v, key, &d->base_agent, err);
    if (!strcmp(key, "description")) return dup_str(v, key, &d->description, err);
    if (!strcmp(key, "system_instruction")) return dup_str(v, key, &d->system_instruction, err);
    if (!strcmp(key, "tools")) {
        if (check_tools(v, err) < 0) return -1;
        d->tools = json_dumps(v, JSON_COMPACT);
        return 0;
    }
    if (!strcmp(key, "agent_config")) return decode_config(v, d, model, err);
    if (!strcmp(key, "base_environment"))
        return ia_fail(err, IA_EUNIMPLEMENTED, "base_environment: agent environments (remote sources) are not "
                       "served by this server; leave it unset");
    return ia_api_unknown_field(err, key);
}

int ia_api_agent_decode(const char *body, size_t len, ia_agent_def *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return ia_fail(err, IA_EINVALID, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
    int rc = 0;
    const char *model = NULL;
    if (!json_is_object(root)) rc = ia_fail(err, IA_EINVALID, "body: expected an Agent object");
    const char *key;
    json_t *v;
    if (rc == 0) json_object_foreach(root, key, v) {
        if (json_is_null(v)) continue;
        if ((rc = decode_field(key, v, out, &model, err)) < 0) break;
    }
    if (rc == 0 && model && out->base_agent && strcmp(model, out->base_agent))
        rc = ia_fail(err, IA_EINVALID, "agent_config.model: '%s' differs from base_agent '%s'; give the model in "
                     "one of them", model, out->base_agent);
    if (rc == 0 && !out->base_agent && model) out->base_agent = ia_strdup(model);
    if (rc == 0 && (!out->base_agent || !*out->base_agent))
        rc = ia_fail(err, IA_EINVALID, "base_agent: required: the agent this one extends (e.g. "
                     "'deep-research-pro-preview-12-2025') or the served model it runs on");
    json_decref(root);
    if (rc < 0) ia_agent_def_free(out);
    return rc;
}

static json_t *agent_json(const ia_agent_def *d) {
    json_t *o = json_object();
    json_object_set_new(o, "id", ia_api_jstr(d->id));
    json_object_set_new(o, "base_agent", ia_api_jstr(d->base_agent));
    if (d->description) json_object_set_new(o, "description", ia_api_jstr(d->description));
    if (d->system_instruction) json_object_set_new(o, "system_instruction", ia_api_jstr(d->system_instruction));
    if (d->tools) json_object_set_new(o, "tools", ia_api_json_value(d->tools, false));
    if (d->agent_config) json_object_set_new(o, "agent_config", ia_api_json_value(d->agent_config, true));
    char ts[32];
    ia_time_rfc3339(d->created, ts);
    json_object_set_new(o, "create_time", json_string(ts));
    return o;
}

char *ia_api_agent_encode(const ia_agent_def *d) { return ia_api_dump(agent_json(d)); }

char *ia_api_agent_list_encode(const ia_agent_def *v, size_t n, const char *next_id) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, agent_json(&v[i]));
    json_t *o = json_object();
    json_object_set_new(o, "agents", list);
    if (next_id && *next_id) json_object_set_new(o, "next_page_token", ia_api_jstr(next_id));
    return ia_api_dump(o);
}

/* ---- running one: its definition merged into the request -------------------- */

static bool has_function(const ia_request *r, const char *name) {
    for (size_t i = 0; i < r->n_tools; i++)
        if (!strcmp(r->tools[i].name, name)) return true;
    return false;
}

static bool has_builtin(const ia_request *r, ia_builtin b) {
    for (size_t i = 0; i < r->n_builtins; i++)
        if (r->builtins[i].type == b) return true;
    return false;
}

/* The agent's tools join the request's; a request tool of the same
 * function name or built-in type replaces the agent's. */
static int merge_tools(const ia_agent_def *d, ia_request *r, ia_err *err) {
    json_t *v = d->tools ? json_loads(d->tools, 0, NULL) : NULL;
    if (!v) return 0;
    ia_request a = {0};
    int rc = ia_api_decode_tools(v, &a, err);
    json_decref(v);
    if (rc < 0) {
        ia_request_free(&a);
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return ia_fail(err, IA_EINTERNAL, "agent %s: its stored tools no longer decode: %.300s", d->id, why);
    }
    for (size_t i = 0; i < a.n_tools; i++) {
        if (has_function(r, a.tools[i].name)) continue;
        r->tools = ia_xrealloc(r->tools, (r->n_tools + 1) * sizeof *r->tools);
        r->tools[r->n_tools++] = a.tools[i];
        memset(&a.tools[i], 0, sizeof a.tools[i]);
    }
    for (size_t i = 0; i < a.n_builtins; i++) {
        if (has_builtin(r, a.builtins[i].type)) continue;
        r->builtins = ia_xrealloc(r->builtins, (r->n_builtins + 1) * sizeof *r->builtins);
        r->builtins[r->n_builtins++] = a.builtins[i];
        memset(&a.builtins[i], 0, sizeof a.builtins[i]);
    }
    ia_request_free(&a);
    return 0;
}

int ia_api_agent_apply(const ia_agent_def *d, ia_request *r, ia_err *err) {
    bool research = ia_agent_name_known(d->base_agent);
    if (!research && r->agent_config)
        return ia_fail(err, IA_EINVALID, "agent_config: agent '%s' runs on the model '%s', which takes no "
                       "agent_config; leave it unset", d->id, d->base_agent);
    if (research && (ia_gen_config_is_set(&r->gen) || r->tool_choice != IA_TOOL_CHOICE_AUTO))
        return ia_fail(err, IA_EINVALID, "generation_config: agent '%s' extends %s, which takes agent_config, not "
                       "generation_config", d->id, d->base_agent);
    if (merge_tools(d, r, err) < 0) return -1;
    if (d->system_instruction) {
        char *s = r->system_instruction ? ia_asprintf("%s\n\n%s", d->system_instruction, r->system_instruction)
                                        : ia_strdup(d->system_instruction);
        free(r->system_instruction);
        r->system_instruction = s;
    }
    free(r->custom_agent);
    r->custom_agent = r->agent; /* the record names the custom agent */
    r->agent = research ? ia_strdup(d->base_agent) : NULL;
    if (!research) r->model = ia_strdup(d->base_agent);
    return 0;
}
