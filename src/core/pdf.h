/* pdf: a PDF document decoded for the model — its pages' text and their
 * pictures — over poppler's GLib API, with cairo rendering. A decoder only:
 * it knows no other core type, and the caller decides what of it a prompt
 * gets.
 *
 * Input is hostile. What bounds it here:
 * - The bytes never touch the disk: poppler reads them in place.
 * - Not a PDF (no "%PDF-" in the first 1,024 bytes, the rule the Files API's
 *   content check uses), corrupt, truncated, encrypted with a password, with
 *   no pages or with more than IA_PDF_MAX_PAGES: an IA_EINVALID error whose
 *   message starts with the field named at open ("input[0].data: ..."),
 *   carrying poppler's own first complaint where it made one. Past the page
 *   limit the document is refused rather than cut: a model answering over a
 *   silently shortened document gives wrong answers with no sign of it, and
 *   the client can split the file (1,000 is the Gemini API's documented
 *   maximum of document pages).
 * - A page's text is cut at IA_PDF_MAX_PAGE_TEXT bytes (a real page holds a
 *   few KB; more is a hidden text layer or a bomb) on a whole UTF-8 character.
 * - A picture's longer side is at most IA_PDF_MAX_SIDE pixels (3,072, the
 *   size to which the Gemini API scales larger pages down).
 * - Poppler's diagnostics (GLib's log domain "Poppler", which GLib prints
 *   when G_MESSAGES_DEBUG asks; 100,000 nested arrays make ~99,500 of them)
 *   never reach the server's output: the first of each call is kept, per
 *   thread, for the error message only.
 * What is not bounded: the time and memory poppler spends on one page (a
 * compressed stream that inflates to gigabytes, a page of a million
 * operators); poppler-glib offers no way to stop it midway.
 *
 * Threads: every call that enters poppler holds one process-wide lock, so
 * documents on several threads are safe but decoded one at a time. Why:
 * poppler 22.12 (Debian 12) shares state between documents without locks —
 * one FreeType library for every document's embedded fonts (FT_New_Face and
 * FT_Done_Face on it unserialized, which FreeType forbids), and LittleCMS
 * profiles built lazily on the first page drawn (GfxState's constructor) —
 * and poppler-glib promises no thread safety. The lock also means one render
 * buffer (<= 3072 x 3072 x 4 bytes, 36 MiB) at a time in the whole process,
 * and a slow hostile file delays every other PDF behind it. Poppler
 * recurses on nested content (forms to 100 deep, arrays to its parser's
 * limit): a stack of 1 MiB, libmicrohttpd's, is enough (the unit tests
 * decode deep nesting on one, also under ASan).
 *
 * Nothing else in the server may draw with cairo: cairo's own font cache
 * releases poppler's font faces (FT_Done_Face on poppler's FreeType
 * library) from whichever cairo call evicts them, which must be one made
 * here, under the lock.
 *
 * Pages are numbered from 0 (error messages count from 1, as a reader
 * does). Strings and pixels returned are malloc'd; the caller frees them
 * with free(). */
#ifndef IA_CORE_PDF_H
#define IA_CORE_PDF_H

#include <stddef.h>

#include "lib/err.h"

#define IA_PDF_MAX_PAGES 1000
#define IA_PDF_MAX_PAGE_TEXT (1u << 20)
#define IA_PDF_MAX_SIDE 3072

typedef struct ia_pdf ia_pdf;

/* Opens the PDF in data[0..len). The bytes are borrowed: they must outlive
 * the handle. field names the input in error messages ("input[0].data"; a
 * copy is kept for the page calls' errors). 0 and *out, or -1 and e. */
int ia_pdf_open(const unsigned char *data, size_t len, const char *field, ia_pdf **out, ia_err *e);

/* The number of pages, 1 to IA_PDF_MAX_PAGES. */
int ia_pdf_pages(const ia_pdf *p);

/* Page page's text in reading order, valid UTF-8, "" for a page without text
 * or one poppler cannot load; NULL only for a page out of range. */
char *ia_pdf_page_text(ia_pdf *p, int page);

/* Renders page page to packed RGB8 (*w x *h x 3 bytes, rows top to bottom),
 * scaled so that its longer side is max_side pixels (1 to IA_PDF_MAX_SIDE),
 * aspect kept (the shorter side at least 1), on white. -1 and e: a page
 * poppler cannot load or draw (IA_EINVALID), max_side or page out of range,
 * or no memory (IA_EINTERNAL). */
int ia_pdf_page_rgb(ia_pdf *p, int page, int max_side, unsigned char **rgb, int *w, int *h, ia_err *e);

/* NULL is a no-op. */
void ia_pdf_close(ia_pdf *p);

#endif
