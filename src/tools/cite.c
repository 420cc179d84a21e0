/* cite.c: an answer's url_citation annotations from the search results it
 * follows (cite.h). */
#include "tools/cite.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "tools/maps.h"

#define CITE_MIN_WORDS 2
#define MAX_WORDS 256

/* ---- the sources ------------------------------------------------------------------- */

static char *line_at(const char **p) {
    const char *e = strchr(*p, '\n');
    size_t n = e ? (size_t)(e - *p) : strlen(*p);
    char *l = ia_strndup(*p, n);
    *p = e ? e + 1 : *p + n;
    return l;
}

static void read_blocks(const char *model_text, ia_cite_sources *s, bool files);

void ia_cite_sources_read(const char *model_text, ia_cite_sources *s) { read_blocks(model_text, s, false); }

void ia_cite_files_read(const char *model_text, ia_cite_sources *s) { read_blocks(model_text, s, true); }

static void read_blocks(const char *model_text, ia_cite_sources *s, bool files) {
    for (const char *p = model_text; p && *p;) {
        char *head = line_at(&p);
        int number = 0, used = 0;
        if (head[0] == '[' && sscanf(head, "[%d]%n", &number, &used) == 1 && head[used] == ' ' &&
            strncmp(p, "URL: ", 5) == 0) {
            char *url = line_at(&p);
            char *snippet = line_at(&p);
            /* only the schemes a search hit has: nothing else may become a link */
            const char *u = url + 5;
            bool ok = files ? !strncmp(u, "fileSearchStores/", 17)
                            : !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8) || !strncmp(u, "file://", 7);
            if (ok) {
                s->v = ia_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
                s->v[s->n++] = (ia_cite_source){number, ia_strdup(u), ia_strdup(head + used + 1), snippet, NULL, files};
            } else {
                free(snippet);
            }
            free(url);
        }
        free(head);
    }
}

void ia_cite_places_read(const char *model_text, ia_cite_sources *s) {
    size_t from = s->n;
    ia_cite_sources_read(model_text, s);
    for (size_t i = from; i < s->n; i++) s->v[i].place_id = ia_maps_place_id(s->v[i].url);
    size_t k = from; /* a block whose URL is no place's cites nothing */
    for (size_t i = from; i < s->n; i++) {
        if (s->v[i].place_id) {
            s->v[k++] = s->v[i];
        } else {
            free(s->v[i].url);
            free(s->v[i].title);
            free(s->v[i].snippet);
        }
    }
    s->n = k;
}

void ia_cite_sources_free(ia_cite_sources *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].place_id);
        free(s->v[i].url);
        free(s->v[i].title);
        free(s->v[i].snippet);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- words ---------------------------------------------------------------------------- */

typedef struct {
    char *w[MAX_WORDS];
    size_t n;
} words;

static bool word_byte(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* Too common to tell sources apart. */
static bool stop_word(const char *w) {
    static const char *const stop[] = {"the", "and", "for", "are", "was", "were", "with", "that", "this", "from",
                                       "has", "have", "its", "not", "but", "you", "your", "our", "can", "all",
                                       "his", "her", "they", "them", "their", "there", "which", "what", "who",
                                       "when", "will", "would", "about", "into", "than", "then", "also", NULL};
    for (size_t i = 0; stop[i]; i++)
        if (strcmp(w, stop[i]) == 0) return true;
    return false;
}

/* The distinct words of s[0..len) of three bytes or more, lower case. */
static void words_of(const char *s, size_t len, words *out) {
    out->n = 0;
    for (size_t i = 0; i < len && out->n < MAX_WORDS;) {
        size_t k = i;
        while (k < len && word_byte((unsigned char)s[k])) k++;
        if (k - i >= 3) {
            char *w = ia_strndup(s + i, k - i);
            for (char *c = w; *c; c++) *c = (char)tolower((unsigned char)*c);
            bool seen = stop_word(w);
            for (size_t j = 0; j < out->n && !seen; j++) seen = strcmp(out->w[j], w) == 0;
            if (seen) free(w);
            else out->w[out->n++] = w;
        }
        i = k > i ? k : i + 1;
    }
}

static void words_free(words *w) {
    for (size_t i = 0; i < w->n; i++) free(w->w[i]);
    w->n = 0;
}

static size_t shared(const words *a, const words *b) {
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (strcmp(a->w[i], b->w[j]) == 0) {
                n++;
                break;
            }
    return n;
}

/* ---- sentences and citations ------------------------------------------------------- */

typedef struct {
    ia_annotation *v;
    size_t n;
} cites;

static void add_cite(cites *c, const ia_cite_source *src, size_t start, size_t end) {
    for (size_t i = 0; i < c->n; i++) /* a sentence cites a source once */
        if (c->v[i].start == (int64_t)start && strcmp(c->v[i].url, src->url) == 0) return;
    c->v = ia_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    c->v[c->n++] = (ia_annotation){ia_strdup(src->url), *src->title ? ia_strdup(src->title) : NULL,
                                   (int64_t)start, (int64_t)end, src->place_id ? ia_strdup(src->place_id) : NULL,
                                   src->file};
}

static const ia_cite_source *numbered(const ia_cite_sources *s, long n) {
    for (size_t i = s->n; i-- > 0;)
        if (s->v[i].number == n) return &s->v[i];
    return NULL;
}

/* The markers in text[start..end): "[2]", "[1, 3]", "[1][2]". Returns
 * how many named a source. */
static size_t cite_markers(const char *text, size_t start, size_t end, const ia_cite_sources *s, cites *c) {
    size_t found = 0;
    for (size_t i = start; i < end; i++) {
        if (text[i] != '[') continue;
        const char *p = text + i + 1;
        while (p < text + end) {
            char *e;
            long n = strtol(p, &e, 10);
            if (e == p || !isdigit((unsigned char)*p)) break;
            const ia_cite_source *src = numbered(s, n);
            if (src) {
                add_cite(c, src, start, end);
                found++;
            }
            p = e;
            while (p < text + end && (*p == ',' || *p == ' ')) p++;
            if (*p == ']') break;
        }
    }
    return found;
}

/* The places whose names text[start..end) holds as words (not inside a
 * longer one), in any case (a name of three bytes or more). Returns how
 * many. */
static size_t cite_names(const char *text, size_t start, size_t end, const ia_cite_sources *s, cites *c) {
    size_t found = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t k = strlen(s->v[i].title);
        if (!s->v[i].place_id || k < 3 || k > end - start) continue;
        for (size_t at = start; at + k <= end; at++)
            if (strncasecmp(text + at, s->v[i].title, k) == 0 &&
                (at == start || !word_byte((unsigned char)text[at - 1])) &&
                (at + k == end || !word_byte((unsigned char)text[at + k]))) {
                add_cite(c, &s->v[i], start, end);
                found++;
                break;
            }
    }
    return found;
}

/* The source sharing the most words with the sentence, above the bar. */
static void cite_by_words(const char *text, size_t start, size_t end, const ia_cite_sources *s, cites *c) {
    words sw, src;
    words_of(text + start, end - start, &sw);
    size_t best = 0, best_i = 0;
    for (size_t i = 0; i < s->n && sw.n; i++) {
        char *both = ia_asprintf("%s %s", s->v[i].title, s->v[i].snippet);
        words_of(both, strlen(both), &src);
        size_t k = shared(&sw, &src);
        if (k > best) {
            best = k;
            best_i = i;
        }
        words_free(&src);
        free(both);
    }
    if (best >= CITE_MIN_WORDS && best * 3 >= sw.n) add_cite(c, &s->v[best_i], start, end);
    words_free(&sw);
}

/* Where the sentence starting at i ends (exclusive): after ". ", "! ", "? "
 * (and their runs), at a newline, or at the end. */
static size_t sentence_end(const char *text, size_t i, size_t len) {
    for (; i < len; i++) {
        if (text[i] == '\n') return i;
        if (strchr(".!?", text[i]) && (i + 1 == len || isspace((unsigned char)text[i + 1]))) return i + 1;
    }
    return len;
}

ia_annotation *ia_cite(const char *text, const ia_cite_sources *s, size_t *n) {
    cites c = {0};
    size_t len = text ? strlen(text) : 0;
    for (size_t i = 0; i < len && s->n;) {
        while (i < len && isspace((unsigned char)text[i])) i++;
        if (i >= len) break;
        size_t end = sentence_end(text, i, len);
        if (!cite_markers(text, i, end, s, &c) && !cite_names(text, i, end, s, &c)) cite_by_words(text, i, end, s, &c);
        i = end;
    }
    *n = c.n;
    return c.v;
}

ia_annotation *ia_cite_answer(const char *text, const ia_turn *outputs, size_t *n) {
    ia_cite_sources s = {0};
    for (size_t i = 0; i < outputs->n; i++) {
        const ia_content *c = &outputs->items[i];
        if (c->kind != IA_CONTENT_TOOL_RESULT || !c->fetched) continue;
        if (c->tool == IA_BUILTIN_GOOGLE_SEARCH) ia_cite_sources_read(c->fetched, &s);
        if (c->tool == IA_BUILTIN_GOOGLE_MAPS) ia_cite_places_read(c->fetched, &s);
        if (c->tool == IA_BUILTIN_FILE_SEARCH) ia_cite_files_read(c->fetched, &s);
    }
    ia_annotation *a = s.n ? ia_cite(text, &s, n) : NULL;
    if (!s.n) *n = 0;
    ia_cite_sources_free(&s);
    return a;
}
