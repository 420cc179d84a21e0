/* tools: the request's tools[] (client functions, and the built-in tools
 * the server runs) and generation_config.tool_choice, from wire JSON into
 * ia_request. Split from decode.c, which calls in here for those two fields
 * and, once the whole body is read, for allowed_tools (it names functions
 * that may come later in the body). Same rules as decode.c: errors start
 * with the field path, unknown fields are refused. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_int.h"
#include "lib/fetch.h"
#include "lib/util.h"
#include "schema/schema.h"
#include "tools/computer_use.h"

/* Valid function names, as Gemini documents them: letters, digits,
 * underscores, dots, colons and dashes, at most 64, not starting with a
 * digit. */
static bool valid_function_name(const char *n) {
    size_t len = strlen(n);
    if (len == 0 || len > 64 || (n[0] >= '0' && n[0] <= '9')) return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ||
              n[i] == '_' || n[i] == '.' || n[i] == ':' || n[i] == '-'))
            return false;
    return true;
}

/* google_search's search_types: a list of the three names, into bits. */
static int decode_search_types(json_t *v, const char *p, unsigned *out, ia_err *err) {
    static const char *const names[] = {"web_search", "image_search", "enterprise_web_search"};
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected a list of search types", p);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        unsigned bit = 0;
        for (unsigned k = 0; k < 3 && json_is_string(e); k++)
            if (strcmp(json_string_value(e), names[k]) == 0) bit = 1u << k;
        if (!bit)
            return ia_fail(err, IA_EINVALID,
                           "%s[%zu]: expected one of 'web_search', 'image_search', 'enterprise_web_search'", p, i);
        *out |= bit;
    }
    return 0;
}
static int decode_mcp(json_t *t, const char *p, ia_request *r, ia_err *err);

/* google_maps' settings: latitude and longitude (both or neither, in
 * range) into b; enable_widget true is refused — the widget's context
 * token is Google's Maps JavaScript widget, which has no counterpart on
 * OpenStreetMap. */
static int decode_maps_field(const char *key, json_t *val, const char *q, ia_builtin_tool *b, bool *has_lat,
                             bool *has_lon, ia_err *err) {
    if (strcmp(key, "enable_widget") == 0) {
        if (!json_is_boolean(val)) return ia_fail(err, IA_EINVALID, "%s: expected a boolean", q);
        if (json_is_true(val))
            return ia_fail(err, IA_EUNIMPLEMENTED, "%s: the Google Maps widget is not available on this server "
                           "(its places come from OpenStreetMap, with no widget context token); leave it unset or "
                           "false", q);
        return 0;
    }
    bool lat = strcmp(key, "latitude") == 0;
    if (!lat && strcmp(key, "longitude") != 0) return ia_api_unknown_field(err, q);
    double lim = lat ? 90 : 180;
    if (!json_is_number(val) || json_number_value(val) < -lim || json_number_value(val) > lim)
        return ia_fail(err, IA_EINVALID, "%s: expected a number from %g to %g (degrees)", q, -lim, lim);
    *(lat ? &b->latitude : &b->longitude) = json_number_value(val);
    *(lat ? has_lat : has_lon) = true;
    return 0;
}

static int decode_maps_location(bool has_lat, bool has_lon, const char *p, ia_builtin_tool *b, ia_err *err) {
    if (has_lat != has_lon)
        return ia_fail(err, IA_EINVALID, "%s.%s: required with %s (the user's location is both or neither)", p,
                       has_lat ? "longitude" : "latitude", has_lat ? "latitude" : "longitude");
    b->has_location = has_lat;
    return 0;
}

/* file_search: file_search_store_names (1 to 10 names, "fileSearchStores/ID"
 * or a bare ID), top_k (1..50), metadata_filter (a string; core parses
 * it). The stores are checked against the caller's in core. */
static int decode_fs_field(const char *key, json_t *val, const char *q, ia_builtin_tool *b, ia_err *err) {
    if (strcmp(key, "top_k") == 0) {
        if (!json_is_integer(val) || json_integer_value(val) < 1 || json_integer_value(val) > 50)
            return ia_fail(err, IA_EINVALID, "%s: expected an integer from 1 to 50", q);
        b->top_k = (int)json_integer_value(val);
        return 0;
    }
    if (strcmp(key, "metadata_filter") == 0) {
        if (!json_is_string(val)) return ia_fail(err, IA_EINVALID, "%s: expected a string (AIP-160 filter)", q);
        b->filter = ia_strdup(json_string_value(val));
        return 0;
    }
    if (strcmp(key, "file_search_store_names") != 0) return ia_api_unknown_field(err, q);
    if (!json_is_array(val) || json_array_size(val) < 1 || json_array_size(val) > 10)
        return ia_fail(err, IA_EINVALID, "%s: expected a list of 1 to 10 store names (fileSearchStores/ID)", q);
    b->stores = ia_xcalloc(json_array_size(val), sizeof *b->stores);
    size_t i;
    json_t *s;
    json_array_foreach(val, i, s) {
        const char *n = json_string_value(s);
        if (!n) return ia_fail(err, IA_EINVALID, "%s[%zu]: expected a string (fileSearchStores/ID)", q, i);
        if (!strncmp(n, "fileSearchStores/", 17)) n += 17;
        b->stores[b->n_stores++] = ia_strdup(n);
    }
    return 0;
}

static int decode_file_search(json_t *t, const char *p, ia_request *r, ia_err *err) {
    ia_builtin_tool b = {.type = IA_BUILTIN_FILE_SEARCH, .field = ia_strdup(p)};
    const char *key;
    json_t *val;
    int rc = 0;
    json_object_foreach(t, key, val) {
        if (strcmp(key, "type") == 0 || json_is_null(val)) continue;
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s.%s", p, key);
        if ((rc = decode_fs_field(key, val, q, &b, err)) < 0) break;
    }
    if (rc == 0 && !b.n_stores)
        rc = ia_fail(err, IA_EINVALID, "%s.file_search_store_names: required, the stores to search", p);
    for (size_t k = 0; rc == 0 && k < r->n_builtins; k++)
        if (r->builtins[k].type == IA_BUILTIN_FILE_SEARCH)
            rc = ia_fail(err, IA_EINVALID, "%s: the tool 'file_search' is given twice", p);
    if (rc < 0) {
        ia_builtin_tool_clear(&b);
        return -1;
    }
    r->builtins = ia_xrealloc(r->builtins, (r->n_builtins + 1) * sizeof *r->builtins);
    r->builtins[r->n_builtins++] = b;
    return 0;
}

/* Built-in tools the server runs (a tools[] entry of another type than
 * function): code_execution and url_context take no settings,
 * google_search its search_types, google_maps the user's location. Each type at most once; a type the
 * server does not run yet is IA_EUNIMPLEMENTED. */
static int decode_builtin(json_t *t, const char *type, const char *p, ia_request *r, ia_err *err) {
    int b = ia_builtin_parse(type);
    if (b == IA_BUILTIN_MCP_SERVER) return decode_mcp(t, p, r, err);
    if (b == IA_BUILTIN_FILE_SEARCH) return decode_file_search(t, p, r, err);
    if (b != IA_BUILTIN_CODE_EXECUTION && b != IA_BUILTIN_URL_CONTEXT && b != IA_BUILTIN_GOOGLE_SEARCH &&
        b != IA_BUILTIN_GOOGLE_MAPS)
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s: tool type '%s' is not supported yet by this server", p, type);
    unsigned search_types = 0;
    ia_builtin_tool maps = {0};
    bool has_lat = false, has_lon = false;
    const char *key;
    json_t *val;
    json_object_foreach(t, key, val) {
        if (strcmp(key, "type") == 0 || json_is_null(val)) continue;
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s.%s", p, key);
        if (b == IA_BUILTIN_GOOGLE_SEARCH && strcmp(key, "search_types") == 0) {
            if (decode_search_types(val, q, &search_types, err) < 0) return -1;
            continue;
        }
        if (b == IA_BUILTIN_GOOGLE_MAPS) {
            if (decode_maps_field(key, val, q, &maps, &has_lat, &has_lon, err) < 0) return -1;
            continue;
        }
        return ia_api_unknown_field(err, q);
    }
    if (b == IA_BUILTIN_GOOGLE_MAPS && decode_maps_location(has_lat, has_lon, p, &maps, err) < 0) return -1;
    for (size_t k = 0; k < r->n_builtins; k++)
        if (r->builtins[k].type == (ia_builtin)b)
            return ia_fail(err, IA_EINVALID, "%s: the tool '%s' is given twice", p, type);
    r->builtins = ia_xrealloc(r->builtins, (r->n_builtins + 1) * sizeof *r->builtins);
    r->builtins[r->n_builtins++] = (ia_builtin_tool){.type = (ia_builtin)b, .search_types = search_types,
                                                     .has_location = maps.has_location, .latitude = maps.latitude,
                                                     .longitude = maps.longitude};
    return 0;
}

/* ---- mcp_server ---------------------------------------------------------- */

/* A server's name, as the guide asks: snake_case letters, digits and
 * underscores ("-" is refused: the offered functions are named
 * <server>__<tool>, tools/mcp.h), at most 64. */
static bool valid_server_name(const char *n) {
    size_t len = strlen(n);
    if (len == 0 || len > 64) return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') || (n[i] >= '0' && n[i] <= '9') ||
              n[i] == '_'))
            return false;
    return true;
}

/* headers: {name: value}, each sent as "name: value" on every request to
 * the server. Names are HTTP tokens and values hold no line break, so no
 * header (or request) can be smuggled in. */
static int decode_headers(json_t *v, const char *p, ia_builtin_tool *b, ia_err *err) {
    if (!json_is_object(v)) return ia_fail(err, IA_EINVALID, "%s: expected an object of strings", p);
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        const char *s = json_string_value(val);
        if (!s) return ia_fail(err, IA_EINVALID, "%s.%s: expected a string", p, key);
        bool ok = *key != 0;
        for (const char *k = key; *k && ok; k++)
            ok = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
                 strchr("!#$%&'*+-.^_`|~", *k);
        if (!ok) return ia_fail(err, IA_EINVALID, "%s: '%s' is not a valid header name", p, key);
        /* the transport's own headers are the server's to set */
        static const char *const RESERVED[] = {"host", "content-length", "transfer-encoding", "connection",
                                               "expect", "mcp-session-id", "mcp-protocol-version", "content-type",
                                               "accept", "te", "upgrade", "proxy-authorization"};
        for (size_t i = 0; i < sizeof RESERVED / sizeof *RESERVED; i++)
            if (strcasecmp(key, RESERVED[i]) == 0)
                return ia_fail(err, IA_EINVALID, "%s.%s: this header is set by the server's MCP client, not by a "
                               "request", p, key);
        if (strpbrk(s, "\r\n")) return ia_fail(err, IA_EINVALID, "%s.%s: a header value cannot hold a line break", p, key);
        b->headers = ia_xrealloc(b->headers, (b->n_headers + 1) * sizeof *b->headers);
        b->headers[b->n_headers++] = ia_asprintf("%s: %s", key, s);
    }
    return 0;
}

/* allowed_tools: [{mode?, tools?: [names]}]: the tools named by entries
 * whose mode is not "none" are the ones offered (all, when no such entry
 * names any), less those named by "none" entries; mode is otherwise the
 * request's tool_choice's business. */
static int decode_allowed(json_t *v, const char *p, ia_builtin_tool *b, ia_err *err) {
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected an array", p);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s[%zu]", p, i);
        if (!json_is_object(e)) return ia_fail(err, IA_EINVALID, "%s: expected an object", q);
        const char *key, *mode = NULL;
        json_t *val, *names = NULL;
        json_object_foreach(e, key, val) {
            char f[IA_API_PATH_MAX];
            ia_api_mkpath(f, "%s.%s", q, key);
            if (json_is_null(val)) continue;
            if (strcmp(key, "mode") == 0) {
                if (ia_api_get_string(val, f, &mode, err) < 0) return -1;
                if (strcmp(mode, "auto") && strcmp(mode, "any") && strcmp(mode, "none") && strcmp(mode, "validated"))
                    return ia_fail(err, IA_EINVALID, "%s: expected one of 'auto', 'any', 'none', 'validated'", f);
            } else if (strcmp(key, "tools") == 0) {
                if (!json_is_array(val)) return ia_fail(err, IA_EINVALID, "%s: expected an array of tool names", f);
                names = val;
            } else {
                return ia_api_unknown_field(err, f);
            }
        }
        size_t k;
        json_t *n;
        json_array_foreach(names, k, n) {
            if (!json_is_string(n))
                return ia_fail(err, IA_EINVALID, "%s.tools[%zu]: expected a tool name (a string)", q, k);
            bool none = mode && strcmp(mode, "none") == 0;
            char ***list = none ? &b->denied : &b->allowed;
            size_t *len = none ? &b->n_denied : &b->n_allowed;
            *list = ia_xrealloc(*list, (*len + 1) * sizeof **list);
            (*list)[(*len)++] = ia_strdup(json_string_value(n));
            if (!none) b->has_allowed = true;
        }
    }
    return 0;
}

/* One mcp_server setting (key at q) into b. */
static int decode_mcp_field(const char *key, json_t *val, const char *q, ia_builtin_tool *b, ia_err *err) {
    const char *s;
    if (strcmp(key, "name") == 0 || strcmp(key, "url") == 0) {
        if (ia_api_get_string(val, q, &s, err) < 0) return -1;
        *(key[0] == 'n' ? &b->name : &b->url) = ia_strdup(s);
        return 0;
    }
    if (strcmp(key, "headers") == 0) return decode_headers(val, q, b, err);
    if (strcmp(key, "allowed_tools") == 0) return decode_allowed(val, q, b, err);
    return ia_api_unknown_field(err, q);
}

/* {type: "mcp_server", name, url, headers?, allowed_tools?}: a remote MCP
 * server (streamable HTTP) whose tools the run offers the model; several
 * may be given, each under its own name. The URL's address is checked
 * against the server's rules when its tools are listed (core). */
#define MAX_MCP_SERVERS 8 /* each is listed while the request is decoded: a bound on that wait */

static int decode_mcp(json_t *t, const char *p, ia_request *r, ia_err *err) {
    size_t have = 0;
    for (size_t i = 0; i < r->n_builtins; i++) have += r->builtins[i].type == IA_BUILTIN_MCP_SERVER;
    if (have >= MAX_MCP_SERVERS)
        return ia_fail(err, IA_EINVALID, "%s: at most %d mcp_server tools a request", p, MAX_MCP_SERVERS);
    ia_builtin_tool b = {.type = IA_BUILTIN_MCP_SERVER, .field = ia_strdup(p)};
    const char *key;
    json_t *val;
    int rc = 0;
    json_object_foreach(t, key, val) {
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s.%s", p, key);
        if (strcmp(key, "type") == 0 || json_is_null(val)) continue;
        if ((rc = decode_mcp_field(key, val, q, &b, err)) < 0) break;
    }
    ia_fetch_opts syntax = {.allow_private = true, .proxy = ""}; /* the URL's text only */
    char q[IA_API_PATH_MAX];
    ia_api_mkpath(q, "%s.url", p);
    if (rc == 0 && !b.name)
        rc = ia_fail(err, IA_EINVALID, "%s.name: required (an MCP server needs a name)", p);
    else if (rc == 0 && !valid_server_name(b.name))
        rc = ia_fail(err, IA_EINVALID, "%s.name: '%s' is not a valid MCP server name (letters, digits and "
                     "underscores, at most 64; no '-': use snake_case)", p, b.name);
    else if (rc == 0 && !b.url)
        rc = ia_fail(err, IA_EINVALID, "%s.url: required (the server's streamable HTTP endpoint)", p);
    else if (rc == 0)
        rc = ia_fetch_check_url(b.url, &syntax, q, err);
    for (size_t k = 0; rc == 0 && k < r->n_builtins; k++)
        if (r->builtins[k].type == IA_BUILTIN_MCP_SERVER && strcmp(r->builtins[k].name, b.name) == 0)
            rc = ia_fail(err, IA_EINVALID, "%s.name: the MCP server '%s' is given twice", p, b.name);
    if (rc != 0) {
        ia_builtin_tool_clear(&b);
        return -1;
    }
    r->builtins = ia_xrealloc(r->builtins, (r->n_builtins + 1) * sizeof *r->builtins);
    r->builtins[r->n_builtins++] = b;
    return 0;
}

/* A client function: {type: "function", name, description?, parameters?}
 * at p, appended to r->tools; its schema must be one the grammar converter
 * takes, since the call is sampled under it. */
static int decode_function(json_t *t, const char *p, ia_request *r, ia_err *err) {
    const char *name = NULL, *desc = NULL;
    json_t *params = NULL;
    const char *key;
    json_t *val;
    json_object_foreach(t, key, val) {
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s.%s", p, key);
        if (strcmp(key, "type") == 0 || json_is_null(val)) continue;
        if (strcmp(key, "name") == 0) {
            if (ia_api_get_string(val, q, &name, err) < 0) return -1;
        } else if (strcmp(key, "description") == 0) {
            if (ia_api_get_string(val, q, &desc, err) < 0) return -1;
        } else if (strcmp(key, "parameters") == 0) {
            params = val;
        } else {
            return ia_api_unknown_field(err, q);
        }
    }
    if (!name) return ia_fail(err, IA_EINVALID, "%s.name: required (a function needs a name)", p);
    if (!valid_function_name(name))
        return ia_fail(err, IA_EINVALID, "%s.name: '%s' is not a valid function name (letters, digits, "
                       "_ . : -, at most 64, not starting with a digit)", p, name);
    for (size_t k = 0; k < r->n_tools; k++)
        if (strcmp(r->tools[k].name, name) == 0)
            return ia_fail(err, IA_EINVALID, "%s.name: function '%s' is declared twice%s", p, name,
                           ia_cu_find(name) >= 0 ? " (computer_use offers it: exclude it with "
                                                   "excludedPredefinedFunctions to declare your own)" : "");
    char *ptext = NULL;
    if (params) {
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s.parameters", p);
        if (!json_is_object(params))
            return ia_fail(err, IA_EINVALID, "%s: expected a JSON Schema object", q);
        json_t *prep = ia_schema_prepare(params, q, err);
        if (!prep) return -1;
        char *g = ia_schema_grammar(prep, q, err); /* the converter must take it too */
        free(g);
        if (!g) {
            json_decref(prep);
            return -1;
        }
        ptext = json_dumps(prep, JSON_COMPACT);
        json_decref(prep);
    }
    ia_tool *dst = &r->tools[r->n_tools++];
    dst->name = ia_strdup(name);
    dst->description = ia_strdup(desc ? desc : "");
    dst->parameters = ptext ? ptext : ia_strdup("{\"type\":\"object\",\"properties\":{}}");
    return 0;
}

/* ---- computer_use ---------------------------------------------------------- */

/* excludedPredefinedFunctions (SDK 1.x, camelCase) or
 * excluded_predefined_functions (3.3.0): names of predefined functions,
 * as bits of *out. */
static int decode_excluded(json_t *v, const char *p, unsigned *out, ia_err *err) {
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected a list of function names", p);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        int k = json_is_string(e) ? ia_cu_find(json_string_value(e)) : -1;
        if (k < 0)
            return ia_fail(err, IA_EINVALID, "%s[%zu]: not a predefined function of computer_use (open_web_browser, "
                           "wait_5_seconds, go_back, go_forward, search, navigate, click_at, hover_at, "
                           "type_text_at, key_combination, scroll_document, scroll_at, drag_and_drop)", p, i);
        *out |= 1u << k;
    }
    return 0;
}

/* The settings of a computer_use tool into *excluded; 0 or -1. */
static int decode_cu_settings(json_t *t, const char *p, unsigned *excluded, ia_err *err) {
    const char *key;
    json_t *val;
    json_object_foreach(t, key, val) {
        char q[IA_API_PATH_MAX];
        ia_api_mkpath(q, "%s.%s", p, key);
        if (strcmp(key, "type") == 0 || json_is_null(val)) continue;
        if (strcmp(key, "environment") == 0) {
            const char *env = NULL;
            if (ia_api_get_string(val, q, &env, err) < 0) return -1;
            if (!ia_cu_environment_ok(env))
                return ia_fail(err, IA_EINVALID, "%s: expected 'browser', the environment this server offers", q);
        } else if (strcmp(key, "excludedPredefinedFunctions") == 0 || strcmp(key, "excluded_predefined_functions") == 0) {
            if (decode_excluded(val, q, excluded, err) < 0) return -1;
        } else if (strcmp(key, "disabled_safety_policies") == 0) {
            /* Nothing to disable: this server runs no safety classifier on
             * the model's actions (the client confirms what it runs). */
            if (!json_is_array(val)) return ia_fail(err, IA_EINVALID, "%s: expected a list of policy names", q);
        } else if (strcmp(key, "enable_prompt_injection_detection") == 0) {
            if (!json_is_boolean(val)) return ia_fail(err, IA_EINVALID, "%s: expected a boolean", q);
            if (json_is_true(val))
                return ia_fail(err, IA_EUNIMPLEMENTED, "%s: prompt injection detection on screenshots is not "
                               "available on this server; leave it unset or false", q);
        } else {
            return ia_api_unknown_field(err, q);
        }
    }
    return 0;
}

/* computer_use: its predefined browser actions, less the excluded ones,
 * join the request's functions (tools/computer_use.h): the model calls
 * them like any function and the client runs them. */
static int decode_computer_use(json_t *t, const char *p, ia_request *r, bool *seen, ia_err *err) {
    if (*seen) return ia_fail(err, IA_EINVALID, "%s: the tool 'computer_use' is given twice", p);
    *seen = true;
    unsigned excluded = 0;
    if (decode_cu_settings(t, p, &excluded, err) < 0) return -1;
    size_t n;
    const ia_cu_function *f = ia_cu_functions(&n);
    for (size_t i = 0; i < n; i++) {
        if (excluded & (1u << i)) continue;
        for (size_t k = 0; k < r->n_tools; k++)
            if (strcmp(r->tools[k].name, f[i].name) == 0)
                return ia_fail(err, IA_EINVALID, "%s: the function '%s' is declared and is also one of computer_use's "
                               "predefined functions: exclude it with excludedPredefinedFunctions to declare your own",
                               p, f[i].name);
        json_t *schema = json_loads(f[i].parameters, 0, NULL);
        json_t *prep = schema ? ia_schema_prepare(schema, p, err) : NULL;
        json_decref(schema);
        if (!prep) return -1;
        ia_tool *dst = &r->tools[r->n_tools++];
        dst->name = ia_strdup(f[i].name);
        dst->description = ia_strdup(f[i].description);
        dst->parameters = json_dumps(prep, JSON_COMPACT);
        json_decref(prep);
    }
    return 0;
}

int ia_api_decode_tools(json_t *v, ia_request *r, ia_err *err) {
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "tools: expected an array");
    size_t n_cu;
    ia_cu_functions(&n_cu);
    /* room for every entry, computer_use's functions included */
    r->tools = ia_xcalloc(json_array_size(v) + n_cu, sizeof *r->tools);
    bool cu_seen = false;
    size_t i;
    json_t *t;
    char p[IA_API_PATH_MAX];
    json_array_foreach(v, i, t) {
        ia_api_mkpath(p, "tools[%zu]", i);
        if (!json_is_object(t)) return ia_fail(err, IA_EINVALID, "%s: expected a tool object", p);
        const char *type = json_string_value(json_object_get(t, "type"));
        if (!type) return ia_fail(err, IA_EINVALID, "%s.type: required", p);
        int rc = strcmp(type, "function") == 0       ? decode_function(t, p, r, err)
                 : strcmp(type, "computer_use") == 0 ? decode_computer_use(t, p, r, &cu_seen, err)
                                                     : decode_builtin(t, type, p, r, err);
        if (rc < 0) return -1;
    }
    return 0;
}

static int parse_choice(const char *s, const char *path, ia_tool_choice *out, ia_err *err) {
    if (strcmp(s, "auto") == 0) *out = IA_TOOL_CHOICE_AUTO;
    else if (strcmp(s, "any") == 0) *out = IA_TOOL_CHOICE_ANY;
    else if (strcmp(s, "none") == 0) *out = IA_TOOL_CHOICE_NONE;
    else if (strcmp(s, "validated") == 0) *out = IA_TOOL_CHOICE_VALIDATED;
    else return ia_fail(err, IA_EINVALID, "%s: expected one of 'auto', 'any', 'none', 'validated'", path);
    return 0;
}

/* generation_config.tool_choice: a mode, or {allowed_tools: {mode, tools}};
 * the allowed names are applied once the whole body is read. */
int ia_api_decode_tool_choice(json_t *v, ia_tool_choice *out, json_t **allowed, ia_err *err) {
    const char *path = "generation_config.tool_choice";
    if (json_is_string(v)) return parse_choice(json_string_value(v), path, out, err);
    if (!json_is_object(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string or an object", path);
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        if (strcmp(key, "allowed_tools") != 0) {
            char p[IA_API_PATH_MAX];
            ia_api_mkpath(p, "%s.%s", path, key);
            return ia_api_unknown_field(err, p);
        }
        if (!json_is_object(val)) return ia_fail(err, IA_EINVALID, "%s.allowed_tools: expected an object", path);
        const char *k2;
        json_t *v2;
        json_object_foreach(val, k2, v2) {
            char p[IA_API_PATH_MAX];
            ia_api_mkpath(p, "%s.allowed_tools.%s", path, k2);
            if (strcmp(k2, "mode") == 0) {
                if (!json_is_string(v2)) return ia_fail(err, IA_EINVALID, "%s: expected a string", p);
                if (parse_choice(json_string_value(v2), p, out, err) < 0) return -1;
            } else if (strcmp(k2, "tools") == 0) {
                if (!json_is_array(v2)) return ia_fail(err, IA_EINVALID, "%s: expected an array of names", p);
                size_t i;
                json_t *n;
                json_array_foreach(v2, i, n) if (!json_is_string(n))
                    return ia_fail(err, IA_EINVALID, "%s[%zu]: expected a function name", p, i);
                *allowed = v2;
            } else {
                return ia_api_unknown_field(err, p);
            }
        }
    }
    return 0;
}

/* allowed_tools: only the named functions stay offered; a name that is
 * not among tools is a client mistake. */
int ia_api_apply_allowed(json_t *names, ia_request *r, ia_err *err) {
    size_t i;
    json_t *n;
    json_array_foreach(names, i, n) {
        bool found = false;
        for (size_t k = 0; k < r->n_tools && !found; k++) found = strcmp(r->tools[k].name, json_string_value(n)) == 0;
        if (!found)
            return ia_fail(err, IA_EINVALID,
                           "generation_config.tool_choice.allowed_tools.tools[%zu]: '%s' is not among tools", i,
                           json_string_value(n));
    }
    size_t keep = 0;
    for (size_t k = 0; k < r->n_tools; k++) {
        bool allowed = false;
        json_array_foreach(names, i, n) allowed = allowed || strcmp(r->tools[k].name, json_string_value(n)) == 0;
        if (allowed) {
            r->tools[keep++] = r->tools[k];
        } else {
            ia_tool_clear(&r->tools[k]);
        }
    }
    r->n_tools = keep;
    return 0;
}

