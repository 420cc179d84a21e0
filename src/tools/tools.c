/* tools.c: the registry of built-in tools (tools.h). */
#include "tools/tools.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "tools/code_execution.h"
#include "tools/maps.h"
#include "tools/search.h"
#include "tools/mcp.h"
#include "tools/url_context.h"

void ia_tools_init(ia_tools_cfg *cfg) {
    ia_code_execution_offer(cfg->code_max_chars > 0 ? cfg->code_max_chars : 10000, cfg->code_params,
                            sizeof cfg->code_params, &cfg->code_offer);
    ia_err err = {0};
    cfg->code_execution = ia_sandbox_probe(&cfg->sandbox, &err) == 0;
    cfg->why[0] = 0;
    if (!cfg->code_execution) {
        snprintf(cfg->why, sizeof cfg->why, "%s", err.msg);
        ia_warn("code_execution: not available here: %s", err.msg);
    }
}

static const ia_tool_offer URL_OFFER = {
    .name = "url_context",
    .description = "Fetches web pages whose URLs the user gave and returns their text, so you can read them. "
                   "Call it with the URLs to read; only those in the user's message can be fetched.",
    .parameters = NULL, /* per request: ia_tools_url_params */
};

static const ia_tool_offer SEARCH_OFFER = {
    .name = "google_search",
    .description = "Searches the web (or the documents this server indexes) and returns the best results, "
                   "numbered, each with its title, URL and a snippet. Call it with one to five short queries "
                   "when the answer needs facts you do not know; cite a result by its number, as [1].",
    .parameters = IA_SEARCH_PARAMS,
};

static const ia_tool_offer MAPS_OFFER = {
    .name = "google_maps",
    .description = "Looks up places on the map (OpenStreetMap): each query's places, numbered, with their name, "
                   "category, address, coordinates and distance from the user when known. Call it with one to "
                   "five short queries (a place's name, an address, or a kind of place such as 'cafes'); name "
                   "the places you mention, or cite one by its number, as [1].",
    .parameters = IA_MAPS_PARAMS,
};

/* file_search runs in core (core/fs_tool.c: it reads the store); what the
 * model is offered is here with the others'. */
static const ia_tool_offer FILE_SEARCH_OFFER = {
    .name = "file_search",
    .description = "Searches the user's documents (their file search stores) and returns the passages that "
                   "best match, numbered, each with its document's name. Call it with a short query of the "
                   "words to look for; cite a passage by its number, as [1].",
    .parameters = "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"minLength\":1,"
                  "\"maxLength\":200,\"description\":\"the words to look for\"}},\"required\":[\"query\"]}",
};

const ia_tool_offer *ia_tools_offer(const ia_tools_cfg *cfg, ia_builtin b) {
    switch (b) {
    case IA_BUILTIN_CODE_EXECUTION: return &cfg->code_offer;
    case IA_BUILTIN_URL_CONTEXT: return &URL_OFFER;
    case IA_BUILTIN_GOOGLE_SEARCH: return &SEARCH_OFFER;
    case IA_BUILTIN_GOOGLE_MAPS: return &MAPS_OFFER;
    case IA_BUILTIN_FILE_SEARCH: return &FILE_SEARCH_OFFER;
    default: return NULL;
    }
}

int ia_tools_check(const ia_tools_cfg *cfg, ia_builtin b, const char *field, ia_err *err) {
    /* file_search: its stores are checked in core (core/fs_tool.h) */
    if (b == IA_BUILTIN_URL_CONTEXT || b == IA_BUILTIN_MCP_SERVER || b == IA_BUILTIN_FILE_SEARCH) return 0;
    if (b == IA_BUILTIN_GOOGLE_SEARCH) {
        if (cfg->search) return 0;
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "%s: google_search has no search backend on this server: start it with --search-url "
                       "URL (a SearxNG instance's JSON API) or --search-index DIR (a local full-text index of "
                       "your documents)", field);
    }
    if (b == IA_BUILTIN_GOOGLE_MAPS) {
        if (cfg->maps) return 0;
        return ia_fail(err, IA_EUNIMPLEMENTED,
                       "%s: google_maps has no maps backend on this server: start it with --maps-url URL (an "
                       "OpenStreetMap Nominatim instance) and optionally --overpass-url URL (an Overpass API "
                       "instance, for places near the user)", field);
    }
    if (b == IA_BUILTIN_CODE_EXECUTION) {
        if (cfg->code_execution) return 0;
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s: code_execution cannot run on this server: %s", field,
                       cfg->why[0] ? cfg->why : "its sandbox is not available");
    }
    return ia_fail(err, IA_EUNIMPLEMENTED, "%s: tool type '%s' is not supported yet by this server", field,
                   ia_builtin_name(b) ? ia_builtin_name(b) : "?");
}

/* The {url, title} entries of a google_search result, into out->urls. */
static void result_urls(ia_tool_out *out) {
    json_t *res = json_loads(out->result_json ? out->result_json : "", 0, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(res, i, e) {
        const char *u = json_string_value(json_object_get(e, "url"));
        if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))) continue; /* file:// of the index */
        out->urls = ia_xrealloc(out->urls, (out->n_urls + 1) * sizeof *out->urls);
        out->urls[out->n_urls++] = ia_strdup(u);
    }
    json_decref(res);
}

void ia_tools_run(const ia_tools_cfg *cfg, ia_builtin b, const char *args_json, const ia_tool_ctx *ctx,
                  ia_tool_out *out) {
    memset(out, 0, sizeof *out);
    if (b == IA_BUILTIN_CODE_EXECUTION) {
        ia_code_execution_run(&cfg->sandbox, args_json, ctx->cancel, &out->result_json, &out->is_error);
        return;
    }
    if (b == IA_BUILTIN_URL_CONTEXT) {
        ia_url_context_run(cfg, args_json, ctx, out);
        return;
    }
    if (b == IA_BUILTIN_GOOGLE_SEARCH) {
        ia_search_run(cfg->search, args_json, ctx->search_images, ctx->cancel, &out->result_json, &out->is_error,
                      &out->model_text);
        result_urls(out);
        return;
    }
    if (b == IA_BUILTIN_GOOGLE_MAPS) {
        const ia_builtin_tool *t = ctx->maps_at;
        ia_maps_where where = {t && t->has_location, t ? t->latitude : 0, t ? t->longitude : 0};
        ia_maps_run(cfg->maps, args_json, &where, ctx->cancel, &out->result_json, &out->is_error, &out->model_text);
        return;
    }
    if (b == IA_BUILTIN_MCP_SERVER && ctx->mcp_server) {
        ia_mcp_call(&cfg->fetch, ctx->mcp_server, ctx->mcp_tool, args_json, ctx->cancel, &out->result_json,
                    &out->model_text, &out->is_error);
        return;
    }
    out->result_json = ia_strdup("\"this tool is not served here\"");
    out->is_error = true;
}

char *ia_tools_url_params(const char *const *urls, size_t n) { return ia_url_context_params(urls, n); }

void ia_tools_find_urls(const char *text, char ***urls, size_t *n) { ia_url_context_find(text, urls, n); }
