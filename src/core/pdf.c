/* pdf: pdf.h over poppler-glib and cairo. Every entry into poppler holds
 * pdf_mu (pdf.h says why); poppler's diagnostics go through GLib's log
 * domain "Poppler" to a handler that keeps the first one of the calling
 * thread's current operation for the error message, and prints nothing. */
#include "core/pdf.h"

#include <cairo.h>
#include <math.h>
#include <poppler.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct ia_pdf {
    PopplerDocument *doc;
    GBytes *bytes; /* borrowed data, wrapped without a copy */
    int pages;
    char *field;
};

static pthread_mutex_t pdf_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* The first diagnostic poppler gave during this thread's current call. */
static _Thread_local char diag[200];

/* poppler-glib logs every parse error at G_LOG_LEVEL_INFO in its domain:
 * hidden by GLib's default handler unless G_MESSAGES_DEBUG names it, in
 * which case a hostile file would write one line per broken object. Ours
 * never prints; it keeps what the client's error message can carry. */
static void on_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer ud) {
    (void)domain, (void)level, (void)ud;
    if (diag[0] || !msg) return;
    /* the message may quote the file's bytes (a font's name) */
    char *u = ia_utf8_sanitize(msg, strnlen(msg, sizeof diag - 1));
    size_t n = ia_utf8_complete_prefix(u, strnlen(u, sizeof diag - 1));
    memcpy(diag, u, n);
    diag[n] = '\0';
    free(u);
    for (char *c = diag; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' '; /* one line in a JSON message */
}

static void install_log(void) {
    g_log_set_handler("Poppler", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, on_log, NULL);
}

/* Takes the lock and starts a fresh diagnostic for this call. */
static void enter(void) {
    pthread_once(&log_once, install_log);
    pthread_mutex_lock(&pdf_mu);
    diag[0] = '\0';
}

static void leave(void) { pthread_mutex_unlock(&pdf_mu); }

/* " (poppler: ...)" when poppler said something, else "". */
static void diag_suffix(char *out, size_t cap) {
    if (diag[0]) snprintf(out, cap, " (poppler: %s)", diag);
    else if (cap) out[0] = '\0';
}

/* The Files API's rule (core/filecheck.c): "%PDF-" in the first 1,024
 * bytes. Poppler itself only warns and parses on, whatever the bytes are. */
static int has_header(const unsigned char *d, size_t n) {
    size_t lim = n < 1024 ? n : 1024;
    for (size_t i = 0; i + 5 <= lim; i++)
        if (!memcmp(d + i, "%PDF-", 5)) return 1;
    return 0;
}

static int open_fail(const GError *ge, const char *field, ia_err *e) {
    char sfx[sizeof diag + 16];
    diag_suffix(sfx, sizeof sfx);
    if (ge && ge->domain == POPPLER_ERROR && ge->code == POPPLER_ERROR_ENCRYPTED)
        return ia_fail(e, IA_EINVALID, "%s: the PDF is encrypted with a password, which this server does not take", field);
    return ia_fail(e, IA_EINVALID, "%s: not a readable PDF: %s%s", field,
                   ge && ge->message ? ge->message : "poppler could not load it", sfx);
}

/* Under the lock: the document and its page count, or -1 and e. */
static int open_locked(ia_pdf *p, ia_err *e) {
    GError *ge = NULL;
    p->doc = poppler_document_new_from_bytes(p->bytes, NULL, &ge);
    if (!p->doc) {
        open_fail(ge, p->field, e);
        g_clear_error(&ge);
        return -1;
    }
    p->pages = poppler_document_get_n_pages(p->doc);
    if (p->pages < 1) {
        char sfx[sizeof diag + 16];
        diag_suffix(sfx, sizeof sfx);
        return ia_fail(e, IA_EINVALID, "%s: the PDF has no pages%s", p->field, sfx);
    }
    if (p->pages > IA_PDF_MAX_PAGES)
        return ia_fail(e, IA_EINVALID, "%s: the PDF has %d pages, more than the %d this server reads; split it",
                       p->field, p->pages, IA_PDF_MAX_PAGES);
    return 0;
}

int ia_pdf_open(const unsigned char *data, size_t len, const char *field, ia_pdf **out, ia_err *e) {
    *out = NULL;
    if (!field) field = "data";
    if (!data || !has_header(data, len))
        return ia_fail(e, IA_EINVALID, "%s: not a PDF (no '%%PDF-' header in the first 1,024 bytes)", field);
    ia_pdf *p = ia_xcalloc(1, sizeof *p);
    p->field = ia_strdup(field);
    p->bytes = g_bytes_new_static(data, len);
    enter();
    int rc = open_locked(p, e);
    leave();
    if (rc < 0) {
        ia_pdf_close(p);
        return -1;
    }
    *out = p;
    return 0;
}

int ia_pdf_pages(const ia_pdf *p) { return p ? p->pages : 0; }

/* Under the lock: poppler's text of the page (g_free), or NULL. */
static gchar *text_locked(ia_pdf *p, int page) {
    PopplerPage *pg = poppler_document_get_page(p->doc, page);
    if (!pg) return NULL;
    gchar *t = poppler_page_get_text(pg);
    g_object_unref(pg);
    return t;
}

char *ia_pdf_page_text(ia_pdf *p, int page) {
    if (!p || page < 0 || page >= p->pages) return NULL;
    enter();
    gchar *t = text_locked(p, page);
    leave();
    if (!t) return ia_strdup("");
    size_t n = strlen(t);
    if (n > IA_PDF_MAX_PAGE_TEXT) n = ia_utf8_complete_prefix(t, IA_PDF_MAX_PAGE_TEXT);
    char *s = ia_utf8_sanitize(t, n); /* poppler's UTF-8 is not promised valid */
    g_free(t);
    return s;
}

/* The picture's size for a page of wpt x hpt points: the longer side
 * max_side, the other in proportion, at least 1. */
static void fit(double wpt, double hpt, int max_side, int *w, int *h) {
    double s = max_side / fmax(wpt, hpt);
    long lw = lround(wpt * s), lh = lround(hpt * s);
    *w = lw < 1 ? 1 : lw > max_side ? max_side : (int)lw;
    *h = lh < 1 ? 1 : lh > max_side ? max_side : (int)lh;
}

/* cairo's RGB24 (one native-endian 0x00RRGGBB word per pixel) to packed RGB8. */
static unsigned char *to_rgb(cairo_surface_t *s, int w, int h) {
    unsigned char *rgb = ia_xmalloc((size_t)w * h * 3), *o = rgb;
    const unsigned char *base = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        const unsigned char *row = base + (size_t)y * stride;
        for (int x = 0; x < w; x++) {
            uint32_t px;
            memcpy(&px, row + (size_t)x * 4, 4);
            *o++ = (unsigned char)(px >> 16);
            *o++ = (unsigned char)(px >> 8);
            *o++ = (unsigned char)px;
        }
    }
    return rgb;
}

/* Draws pg on white into s, scaled from wpt x hpt points to w x h pixels.
 * 0, or -1 with cairo's complaint in *why. */
static int draw(PopplerPage *pg, cairo_surface_t *s, double sx, double sy, const char **why) {
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, sx, sy);
    poppler_page_render(pg, cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    *why = cairo_status_to_string(st);
    return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

/* Under the lock: renders one page; the pixels in *rgb, or -1 and e. */
static int render_locked(ia_pdf *p, int page, int max_side, unsigned char **rgb, int *w, int *h, ia_err *e) {
    char sfx[sizeof diag + 16];
    PopplerPage *pg = poppler_document_get_page(p->doc, page);
    if (!pg) {
        diag_suffix(sfx, sizeof sfx);
        return ia_fail(e, IA_EINVALID, "%s: page %d of the PDF cannot be read%s", p->field, page + 1, sfx);
    }
    double wpt = 0, hpt = 0;
    poppler_page_get_size(pg, &wpt, &hpt); /* in points, the page's rotation applied */
    if (!isfinite(wpt) || !isfinite(hpt) || wpt <= 0 || hpt <= 0) {
        g_object_unref(pg);
        return ia_fail(e, IA_EINVALID, "%s: page %d of the PDF has no usable size (%g x %g points)", p->field,
                       page + 1, wpt, hpt);
    }
    fit(wpt, hpt, max_side, w, h);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, *w, *h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        g_object_unref(pg);
        return ia_fail(e, IA_EINTERNAL, "%s: page %d: no memory for a %dx%d picture", p->field, page + 1, *w, *h);
    }
    const char *why = NULL;
    int rc = draw(pg, s, *w / wpt, *h / hpt, &why);
    g_object_unref(pg);
    if (rc == 0) *rgb = to_rgb(s, *w, *h);
    cairo_surface_destroy(s);
    if (rc < 0) {
        diag_suffix(sfx, sizeof sfx);
        return ia_fail(e, IA_EINVALID, "%s: page %d of the PDF cannot be drawn: %s%s", p->field, page + 1, why, sfx);
    }
    return 0;
}

int ia_pdf_page_rgb(ia_pdf *p, int page, int max_side, unsigned char **rgb, int *w, int *h, ia_err *e) {
    *rgb = NULL;
    *w = *h = 0;
    if (!p || page < 0 || page >= p->pages)
        return ia_fail(e, IA_EINTERNAL, "%s: page %d out of range (the PDF has %d)", p ? p->field : "pdf", page + 1,
                       p ? p->pages : 0);
    if (max_side < 1 || max_side > IA_PDF_MAX_SIDE)
        return ia_fail(e, IA_EINTERNAL, "%s: picture size %d outside 1..%d", p->field, max_side, IA_PDF_MAX_SIDE);
    enter();
    int rc = render_locked(p, page, max_side, rgb, w, h, e);
    leave();
    if (rc < 0) *w = *h = 0;
    return rc;
}

void ia_pdf_close(ia_pdf *p) {
    if (!p) return;
    if (p->doc) {
        /* The document's last reference drops poppler's fonts and, with the
         * process's last document, its global parameters: poppler state. */
        enter();
        g_object_unref(p->doc);
        leave();
    }
    g_bytes_unref(p->bytes);
    free(p->field);
    free(p);
}
