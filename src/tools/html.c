/* html.c: a page's readable text through libxml2's HTML parser (html.h). */
#include "tools/html.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

/* Elements whose content is not the page's text. */
static const char *const SKIP[] = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object",
                                   "canvas", "select", "button"};
/* Elements that start a line of their own. */
static const char *const BLOCK[] = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article",
                                    "header", "footer", "nav", "aside", "main", "h1", "h2", "h3", "h4", "h5",
                                    "h6", "pre", "blockquote", "dd", "dt", "dl", "hr", "form", "figure",
                                    "figcaption", "title", "td", "th"};

static bool in_list(const char *name, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(name, list[i]) == 0) return true;
    return false;
}

typedef struct {
    ia_buf out;
    size_t max;
    bool space; /* a space is owed before the next word */
    bool line;  /* a line break is owed */
} walker;

static void put_text(walker *w, const char *t) {
    for (const unsigned char *p = (const unsigned char *)t; *p && w->out.len < w->max; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f') {
            w->space = true;
            continue;
        }
        if (w->out.len && w->line) ia_buf_puts(&w->out, "\n");
        else if (w->out.len && w->space) ia_buf_puts(&w->out, " ");
        w->line = w->space = false;
        ia_buf_append(&w->out, p, 1);
    }
}

static void walk(walker *w, xmlNode *n) {
    for (; n && w->out.len < w->max; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content) put_text(w, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE && n->name) {
            const char *name = (const char *)n->name;
            if (in_list(name, SKIP, sizeof SKIP / sizeof *SKIP)) continue;
            bool block = in_list(name, BLOCK, sizeof BLOCK / sizeof *BLOCK);
            if (block) w->line = true;
            walk(w, n->children);
            if (block) w->line = true;
        }
    }
}

/* The first <title> under n, as text. */
static char *find_title(xmlNode *n) {
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (n->name && strcasecmp((const char *)n->name, "title") == 0) {
            xmlChar *c = xmlNodeGetContent(n);
            walker w = {.max = 1024};
            ia_buf_init(&w.out, 0);
            if (c) put_text(&w, (const char *)c);
            xmlFree(c);
            return ia_buf_take(&w.out);
        }
        char *t = find_title(n->children);
        if (t) return t;
    }
    return NULL;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_parser(void) { xmlInitParser(); }

char *ia_html_text(const char *html, size_t len, size_t max_chars, char **title) {
    pthread_once(&once, init_parser);
    if (title) *title = NULL;
    if (len > (size_t)INT32_MAX) len = INT32_MAX;
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, NULL,
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                        HTML_PARSE_NONET | HTML_PARSE_COMPACT);
    walker w = {.max = max_chars};
    ia_buf_init(&w.out, 0);
    if (doc) {
        xmlNode *root = xmlDocGetRootElement(doc);
        if (title) *title = root ? find_title(root) : NULL;
        if (root) walk(&w, root);
        xmlFreeDoc(doc);
    }
    char *raw = ia_buf_take(&w.out);
    /* The cut may split a character; the parser hands out UTF-8. */
    char *text = ia_utf8_sanitize(raw, ia_utf8_complete_prefix(raw, strlen(raw)));
    free(raw);
    if (title && *title) {
        char *t = ia_utf8_sanitize(*title, strlen(*title));
        free(*title);
        *title = t;
    }
    return text;
}
