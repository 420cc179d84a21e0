/* Fuzz target: the PDF decoder (src/core/pdf.c over poppler-glib and cairo):
 * a `document` part's bytes as a client sends them.
 *
 * Input: the whole input is the file. Checks: a refusal is IA_EINVALID with
 * a message that starts with the field and is valid UTF-8, and leaves no
 * handle; an opened document has 1 to IA_PDF_MAX_PAGES pages; for its first
 * two pages, the text is valid UTF-8 within IA_PDF_MAX_PAGE_TEXT, and a
 * picture is either drawn at the size asked (longer side SIDE, the other
 * 1..SIDE) or refused as IA_EINVALID naming the field. SIDE is small: the
 * work is in poppler's parse and drawing, not in the pixels. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/pdf.h"
#include "lib/util.h"

#define FIELD "data"
#define SIDE 48

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

static void check_refusal(const ia_err *e) {
    FUZZ_CHECK(e->code == IA_EINVALID);
    FUZZ_CHECK(!strncmp(e->msg, FIELD ": ", strlen(FIELD) + 2));
    FUZZ_CHECK(ia_utf8_valid(e->msg, strlen(e->msg)));
}

static void page(ia_pdf *p, int i) {
    char *t = ia_pdf_page_text(p, i);
    FUZZ_CHECK(t != NULL);
    size_t n = strlen(t);
    FUZZ_CHECK(n <= IA_PDF_MAX_PAGE_TEXT && ia_utf8_valid(t, n));
    free(t);
    unsigned char *rgb = NULL;
    int w = -1, h = -1;
    ia_err e;
    if (ia_pdf_page_rgb(p, i, SIDE, &rgb, &w, &h, &e) < 0) {
        FUZZ_CHECK(rgb == NULL && w == 0 && h == 0);
        check_refusal(&e);
        return;
    }
    FUZZ_CHECK(rgb != NULL && w >= 1 && h >= 1 && w <= SIDE && h <= SIDE && (w == SIDE || h == SIDE));
    free(rgb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ia_pdf *p = NULL;
    ia_err e;
    if (ia_pdf_open(data, size, FIELD, &p, &e) < 0) {
        FUZZ_CHECK(p == NULL);
        check_refusal(&e);
        return 0;
    }
    int n = ia_pdf_pages(p);
    FUZZ_CHECK(n >= 1 && n <= IA_PDF_MAX_PAGES);
    for (int i = 0; i < n && i < 2; i++) page(p, i);
    FUZZ_CHECK(ia_pdf_page_text(p, n) == NULL);
    ia_pdf_close(p);
    return 0;
}
