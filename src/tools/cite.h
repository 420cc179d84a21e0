/* cite: url_citation annotations for an answer written after google_search
 * results, and place_citation ones after google_maps results. A local model writes no citation metadata, so they are found
 * in its text: each sentence (byte offsets, end exclusive) cites
 *  - the sources its markers name ("[2]", "[1, 3]": the numbers of the
 *    list the model read, search.h), or, without markers,
 *  - the places (google_maps) whose names it holds as words (any case), or
 *  - the source whose title and snippet share the most words with it,
 *    when they share at least CITE_MIN_WORDS words and a third of the
 *    sentence's words (so that noise cites nothing).
 * Pure functions of their inputs; thread-safe. */
#ifndef IA_TOOLS_CITE_H
#define IA_TOOLS_CITE_H

#include <stdbool.h>
#include <stddef.h>

#include "model/types.h"

typedef struct ia_cite_source {
    int number; /* as the model read it: "[number] title" */
    char *url, *title, *snippet;
    char *place_id; /* a google_maps place (its name is title); NULL: a search hit */
    bool file;      /* a file_search chunk (url: its document's name) */
} ia_cite_source;

typedef struct ia_cite_sources {
    ia_cite_source *v;
    size_t n;
} ia_cite_sources;

/* Appends the sources of one google_search result as the model read it
 * (its `fetched` text: "[n] title\nURL: url\nsnippet" blocks). */
void ia_cite_sources_read(const char *model_text, ia_cite_sources *s);
void ia_cite_sources_free(ia_cite_sources *s);

/* The citations of text (malloc'd, *n of them; NULL when none), in text
 * order. A marker naming a number read twice cites the later source. */
ia_annotation *ia_cite(const char *text, const ia_cite_sources *s, size_t *n);

/* The sources of one file_search result as the model read it (the same
 * blocks, the URL line naming the chunk's document,
 * fileSearchStores/S/documents/D): file_citation annotations. */
void ia_cite_files_read(const char *model_text, ia_cite_sources *s);

/* The sources of one google_maps result as the model read it (the same
 * blocks; each a place, its id from its OpenStreetMap URL). */
void ia_cite_places_read(const char *model_text, ia_cite_sources *s);

/* The citations of an answer's text from the google_search (and
 * google_maps) results among
 * outputs (what the model read of each: their `fetched`); NULL, *n 0,
 * when there are none. */
ia_annotation *ia_cite_answer(const char *text, const ia_turn *outputs, size_t *n);

#endif
