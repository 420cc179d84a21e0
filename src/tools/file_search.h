/* file_search: the file_search tool's call and result as the model and the
 * wire see them — the call's arguments ({"query"}) read, and the chunks a
 * search found (model/fsearch.h) written as the result JSON and the text
 * the model reads. The search itself runs in core (core/fs_tool.h: it
 * reads the store). Pure; thread-safe. */
#ifndef IA_TOOLS_FILE_SEARCH_H
#define IA_TOOLS_FILE_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "model/fsearch.h"

/* The call's query (malloc'd), or NULL with *why (static) when the
 * arguments hold none. */
char *ia_file_search_query(const char *args_json, const char **why);
/* The result: JSON [{title, text, file_search_store, document, score,
 * custom_metadata?}] (compact, malloc'd) and what the model reads:
 * "[n] title\nURL: fileSearchStores/S/documents/D\ntext" blocks, the
 * shape tools/cite.h reads back for file_citation annotations. */
void ia_file_search_result(const ia_fs_hit *hits, size_t n, char **result_json, char **model_text);

#endif
