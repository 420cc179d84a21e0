/* html: a web page's readable text, for url_context (what the model reads
 * of a fetched page). Parsed with libxml2's HTML parser (forgiving, as
 * browsers are, and never touching the network: no DTD, no entities from
 * outside); script, style and other non-content elements dropped, block
 * elements on lines of their own, runs of white space collapsed.
 * Thread-safe (libxml2's parser is, once initialized: ia_html_text does). */
#ifndef IA_TOOLS_HTML_H
#define IA_TOOLS_HTML_H

#include <stddef.h>

/* The text of html[0..len), at most max_chars bytes of it (cut on a UTF-8
 * boundary); *title (may be NULL) gets the page's <title>, or NULL. Both
 * malloc'd, valid UTF-8. Never NULL: a page with no text gives "". */
char *ia_html_text(const char *html, size_t len, size_t max_chars, char **title);

#endif
