/* url_context: the built-in tool that reads the web pages a prompt names.
 * The model may fetch only URLs the user's text holds (its call's schema
 * enumerates them, so the grammar keeps it to them, and the run checks
 * again); each is fetched through lib/fetch.h — size, time and redirect
 * limits, non-public addresses refused on every connection unless
 * configured — and read as text (html.h). Internal to src/tools/. */
#ifndef IA_TOOLS_URL_CONTEXT_H
#define IA_TOOLS_URL_CONTEXT_H

#include "tools/tools.h"

#define IA_URL_CONTEXT_MAX_URLS 20 /* as Gemini: at most 20 URLs a request */

/* The http(s) URLs in text, appended to *urls (malloc'd strings; *n of
 * them, at most IA_URL_CONTEXT_MAX_URLS in all, each once): a URL ends at
 * white space, quotes or angle brackets, trailing punctuation dropped. */
void ia_url_context_find(const char *text, char ***urls, size_t *n);

/* The call's JSON Schema for these URLs (malloc'd). */
char *ia_url_context_params(const char *const *urls, size_t n);

/* Fetches the call's URLs (those among allowed; others are `unsafe`):
 * out->result_json [{url, status}] (success, error, unsafe), out->model_text
 * each page's title and text (or why not), is_error when none succeeded. */
void ia_url_context_run(const ia_tools_cfg *cfg, const char *args_json, const ia_tool_ctx *ctx,
                        ia_tool_out *out);

#endif
