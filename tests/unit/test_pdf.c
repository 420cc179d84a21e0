/* test_pdf: the PDF decoder (core/pdf.c) on PDFs made here and now by
 * cairo's PDF surface (text in an embedded font, a black rectangle, blank
 * pages) and by hand (an encrypted one, which cairo cannot write): page
 * count, each page's text, the picture's size and pixels; the refusals —
 * truncated, random, empty, a PNG, encrypted, too many pages — each naming
 * the field and printing nothing, even with G_MESSAGES_DEBUG=all; hostile
 * nesting (arrays, forms, graphics states, the page tree) on a 1 MiB stack; and several threads with
 * libmicrohttpd-sized stacks decoding documents of their own at once. */
#include "unit.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/pdf.h"
#include "lib/util.h"

/* A4 in points; the rectangle of page 3, in points from the top left. */
#define PW 595.0
#define PH 842.0
#define RX0 100
#define RY0 200
#define RX1 300
#define RY1 500

static cairo_status_t to_buf(void *ud, const unsigned char *d, unsigned int n) {
    return ia_buf_append(ud, d, n) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static void text_page(cairo_t *cr, const char *text) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 24);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, 72, 120);
    cairo_show_text(cr, text);
    cairo_show_page(cr);
}

/* The three-page PDF (pages 1 and 2: a line of text each, 3: the black
 * rectangle and no text), then `blank` empty pages; malloc'd, size in *n. */
static char *make_pdf(int blank, size_t *n) {
    ia_buf b;
    ia_buf_init(&b, 0);
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_buf, &b, PW, PH);
    cairo_t *cr = cairo_create(s);
    text_page(cr, "page one alpha");
    text_page(cr, "page two beta");
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, RX0, RY0, RX1 - RX0, RY1 - RY0);
    cairo_fill(cr);
    cairo_show_page(cr);
    for (int i = 0; i < blank; i++) cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    int ok = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS;
    cairo_surface_destroy(s);
    *n = b.len;
    if (!ok) ia_buf_free(&b);
    return ok ? ia_buf_take(&b) : NULL;
}

/* s without leading and trailing white space, in place. */
static char *trim(char *s) {
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    while (isspace((unsigned char)*s)) s++;
    return s;
}

/* Whether every pixel of rgb (w x h, one pixel per point) inside the
 * rectangle, less a margin of 2, is dark and every one outside it, plus a
 * margin of 2, is white. */
static int rect_pixels_ok(const unsigned char *rgb, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const unsigned char *px = rgb + ((size_t)y * w + x) * 3;
            int in = x >= RX0 + 2 && x < RX1 - 2 && y >= RY0 + 2 && y < RY1 - 2;
            int out = x < RX0 - 2 || x >= RX1 + 2 || y < RY0 - 2 || y >= RY1 + 2;
            if (in && (px[0] > 40 || px[1] > 40 || px[2] > 40)) return 0;
            if (out && (px[0] < 250 || px[1] < 250 || px[2] < 250)) return 0;
        }
    return 1;
}

IA_TEST(pdf_pages_text_and_pictures) {
    size_t n;
    char *pdf = make_pdf(0, &n);
    IA_CHECK(pdf != NULL);
    ia_pdf *p;
    ia_err e;
    IA_CHECK(ia_pdf_open((unsigned char *)pdf, n, "input[0].data", &p, &e) == 0);
    IA_CHECK(ia_pdf_pages(p) == 3);
    const char *want[] = {"page one alpha", "page two beta", ""};
    for (int i = 0; i < 3; i++) {
        char *t = ia_pdf_page_text(p, i);
        IA_CHECK(t != NULL);
        int same = !strcmp(trim(t), want[i]);
        if (!same) fprintf(stderr, "  page %d: '%s'\n", i + 1, t);
        free(t);
        IA_CHECK(same);
    }
    IA_CHECK(ia_pdf_page_text(p, 3) == NULL && ia_pdf_page_text(p, -1) == NULL);

    unsigned char *rgb;
    int w, h;
    IA_CHECK(ia_pdf_page_rgb(p, 0, 200, &rgb, &w, &h, &e) == 0);
    IA_CHECK(h == 200 && w == 141); /* 595 x 842 scaled: 141.3 x 200 */
    free(rgb);
    /* one pixel per point: the rectangle where it was drawn */
    IA_CHECK(ia_pdf_page_rgb(p, 2, 842, &rgb, &w, &h, &e) == 0);
    IA_CHECK(w == 595 && h == 842);
    int ok = rect_pixels_ok(rgb, w, h);
    free(rgb);
    IA_CHECK(ok);

    IA_CHECK(ia_pdf_page_rgb(p, 0, IA_PDF_MAX_SIDE + 1, &rgb, &w, &h, &e) < 0 && e.code == IA_EINTERNAL);
    IA_CHECK(rgb == NULL && w == 0 && h == 0);
    IA_CHECK_CONTAINS(e.msg, "input[0].data: ");
    IA_CHECK(ia_pdf_page_rgb(p, 0, 0, &rgb, &w, &h, &e) < 0);
    IA_CHECK(ia_pdf_page_rgb(p, 3, 100, &rgb, &w, &h, &e) < 0 && e.code == IA_EINTERNAL);
    ia_pdf_close(p);
    free(pdf);
}

IA_TEST(pdf_page_limit) {
    size_t n;
    char *pdf = make_pdf(IA_PDF_MAX_PAGES - 3, &n);
    IA_CHECK(pdf != NULL);
    ia_pdf *p;
    ia_err e;
    IA_CHECK(ia_pdf_open((unsigned char *)pdf, n, "input[2].data", &p, &e) == 0);
    IA_CHECK(ia_pdf_pages(p) == IA_PDF_MAX_PAGES);
    ia_pdf_close(p);
    free(pdf);
    pdf = make_pdf(IA_PDF_MAX_PAGES - 2, &n);
    IA_CHECK(pdf != NULL);
    int rc = ia_pdf_open((unsigned char *)pdf, n, "input[2].data", &p, &e);
    free(pdf);
    IA_CHECK(rc < 0 && p == NULL && e.code == IA_EINVALID);
    IA_CHECK(!strncmp(e.msg, "input[2].data: ", 15));
    IA_CHECK_CONTAINS(e.msg, "1001 pages");
    IA_CHECK_CONTAINS(e.msg, "1000");
}

/* A hand-written PDF: "%PDF-1.4", the objects numbered from 1, the xref
 * table at the offsets they landed on, the trailer with `trailer` added. */
static char *hand_pdf(const char *const *objs, int nobj, const char *trailer, size_t *n) {
    ia_buf b;
    ia_buf_init(&b, 0);
    long *off = ia_xcalloc((size_t)nobj, sizeof *off);
    ia_buf_puts(&b, "%PDF-1.4\n");
    for (int i = 0; i < nobj; i++) {
        off[i] = (long)b.len;
        ia_buf_printf(&b, "%d 0 obj\n", i + 1);
        ia_buf_puts(&b, objs[i]);
        ia_buf_puts(&b, "\nendobj\n");
    }
    long xref = (long)b.len;
    ia_buf_printf(&b, "xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
    for (int i = 0; i < nobj; i++) ia_buf_printf(&b, "%010ld 00000 n \n", off[i]);
    ia_buf_printf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%ld\n%%%%EOF\n", nobj + 1, trailer, xref);
    free(off);
    *n = b.len;
    return ia_buf_take(&b);
}

/* Standard security handler, revision 2, with O and U that no password
 * gives: encrypted with a password this test does not know either. */
static char *encrypted_pdf(size_t *n) {
    const char *objs[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        "<< /Filter /Standard /V 1 /R 2 /P -44"
        " /O <8f3a1c22d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f50617283940a1b2c3d4e>"
        " /U <1122334455667788990011223344556677889900aabbccddeeff001122334455> >>",
    };
    return hand_pdf(objs, 4, "/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]", n);
}

/* stdout and stderr sent to a file while a test runs code that must print
 * nothing (GLib's default handler writes INFO and DEBUG to stdout). */
typedef struct quiet { int saved[2]; char path[300]; } quiet;

static void quiet_begin(quiet *q) {
    snprintf(q->path, sizeof q->path, "%s/pdf-output", ia_test_tmpdir());
    fflush(stdout);
    fflush(stderr);
    int fd = open(q->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; i < 2; i++) {
        q->saved[i] = dup(i + 1);
        dup2(fd, i + 1);
    }
    close(fd);
}

/* Restores stdout and stderr; the number of bytes printed meanwhile. */
static long quiet_end(quiet *q) {
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        dup2(q->saved[i], i + 1);
        close(q->saved[i]);
    }
    struct stat st;
    return stat(q->path, &st) == 0 ? (long)st.st_size : -1;
}

/* Opens data, which must fail naming "input[1].data"; the message. */
static int refused(const void *data, size_t n, ia_err *e) {
    ia_pdf *p = (ia_pdf *)1;
    int rc = ia_pdf_open(data, n, "input[1].data", &p, e);
    if (rc == 0) ia_pdf_close(p);
    return rc < 0 && p == NULL && e->code == IA_EINVALID && !strncmp(e->msg, "input[1].data: ", 15);
}

IA_TEST(pdf_refusals) {
    size_t n;
    char *pdf = make_pdf(0, &n);
    IA_CHECK(pdf != NULL);
    unsigned char rnd[4096], hdr_rnd[4096];
    IA_CHECK(ia_random(rnd, sizeof rnd) == 0);
    memcpy(hdr_rnd, rnd, sizeof hdr_rnd);
    memcpy(hdr_rnd, "%PDF-1.7\n", 9); /* gets past the header check into poppler */
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                        0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde};
    size_t en;
    char *enc = encrypted_pdf(&en);
    ia_err e[7];
    int r[7];
    /* poppler's parse errors would be printed by GLib's default handler
     * when G_MESSAGES_DEBUG asks for them: ours must swallow them */
    setenv("G_MESSAGES_DEBUG", "all", 1);
    quiet q;
    quiet_begin(&q);
    r[0] = refused(pdf, n / 2, &e[0]);
    r[1] = refused(rnd, sizeof rnd, &e[1]);
    r[2] = refused(hdr_rnd, sizeof hdr_rnd, &e[2]);
    r[3] = refused(pdf, 0, &e[3]);
    r[4] = refused(png, sizeof png, &e[4]);
    r[5] = refused(enc, en, &e[5]);
    r[6] = refused(NULL, 0, &e[6]);
    long printed = quiet_end(&q);
    unsetenv("G_MESSAGES_DEBUG");
    free(pdf);
    free(enc);
    for (int i = 0; i < 7; i++) {
        if (!r[i]) fprintf(stderr, "  case %d: %s\n", i, e[i].msg);
        IA_CHECK(r[i]);
    }
    IA_CHECK(printed == 0);
    IA_CHECK_CONTAINS(e[0].msg, "not a readable PDF");
    IA_CHECK_CONTAINS(e[1].msg, "not a PDF");
    IA_CHECK_CONTAINS(e[2].msg, "not a readable PDF");
    IA_CHECK_CONTAINS(e[2].msg, "(poppler: "); /* poppler's own complaint, kept for the client */
    IA_CHECK_CONTAINS(e[3].msg, "not a PDF");
    IA_CHECK_CONTAINS(e[4].msg, "not a PDF");
    IA_CHECK_CONTAINS(e[5].msg, "encrypted with a password");
    for (int i = 0; i < 7; i++) IA_CHECK(ia_utf8_valid(e[i].msg, strlen(e[i].msg)));
}

/* A valid document whose one page has a page size of zero: opened, the
 * text empty, the picture refused with a reason. */
IA_TEST(pdf_unusable_page) {
    const char *objs[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 0 0] >>",
    };
    size_t n;
    char *pdf = hand_pdf(objs, 3, "", &n);
    ia_pdf *p;
    ia_err e;
    quiet q;
    quiet_begin(&q);
    int rc = ia_pdf_open((unsigned char *)pdf, n, "doc", &p, &e);
    char *t = rc == 0 ? ia_pdf_page_text(p, 0) : NULL;
    unsigned char *rgb = NULL;
    int w, h, rr = rc == 0 ? ia_pdf_page_rgb(p, 0, 100, &rgb, &w, &h, &e) : 0;
    long printed = quiet_end(&q);
    if (rc == 0) ia_pdf_close(p);
    free(pdf);
    IA_CHECK(rc == 0);
    IA_CHECK(t && !strcmp(trim(t), ""));
    free(t);
    if (rr == 0) { /* poppler may mend the box (to US Letter): then a picture */
        IA_CHECK(w > 0 && h > 0 && (w == 100 || h == 100));
        free(rgb);
    } else {
        IA_CHECK(!strncmp(e.msg, "doc: page 1", 11));
    }
    IA_CHECK(printed == 0);
}

/* A content stream object: the dictionary's extra entries, then the data. */
static char *stream_obj(const char *dict, const char *data) {
    return ia_asprintf("<< /Length %zu %s >>\nstream\n%s\nendstream", strlen(data), dict, data);
}

/* s repeated n times (malloc'd). */
static char *repeat(const char *s, int n) {
    size_t k = strlen(s);
    char *r = ia_xmalloc(k * n + 1);
    for (int i = 0; i < n; i++) memcpy(r + k * i, s, k);
    r[k * n] = '\0';
    return r;
}

enum { DEEP_FORMS = 2000, DEEP_TREE = 2000, DEEP = 4 };

/* Hostile nesting: 100,000 nested arrays in the page dictionary, a chain of
 * 2,000 form XObjects each drawing the next, 20,000 nested q ... Q, a page
 * tree 2,000 levels deep. */
static char *deep_pdf(int kind, size_t *n) {
    int cap = 8 + DEEP_FORMS + DEEP_TREE, k = 0;
    char **o = ia_xcalloc((size_t)cap, sizeof *o);
    o[k++] = ia_strdup("<< /Type /Catalog /Pages 2 0 R >>");
    if (kind == 3) {
        for (int i = 0; i < DEEP_TREE; i++, k++) /* object k + 1, its kid k + 2 */
            o[k] = ia_asprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", k + 2);
        o[k++] = ia_strdup("<< /Type /Page /MediaBox [0 0 200 200] >>");
    } else {
        o[k++] = ia_strdup("<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        char *a = repeat("[", 100000), *z = repeat("]", 100000);
        o[k++] = ia_asprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R"
                             " /Resources << /XObject << /X 5 0 R >> >> %s%s%s >>",
                             kind == 0 ? "/Junk " : "", kind == 0 ? a : "", kind == 0 ? z : "");
        free(a), free(z);
        char *q = repeat("q ", 20000), *qq = repeat("Q ", 20000);
        char *page = kind == 2 ? ia_asprintf("%s 0 0 0 rg 0 0 10 10 re f %s", q, qq) : ia_strdup("/X Do");
        o[k++] = stream_obj("", page);
        free(q), free(qq), free(page);
        for (int i = 0; kind == 1 && i < DEEP_FORMS; i++, k++) { /* object k + 1 draws k + 2 */
            char *d = ia_asprintf("/Type /XObject /Subtype /Form /BBox [0 0 200 200] /Resources << /XObject << /X %d 0 R >> >>",
                                  k + 2);
            o[k] = stream_obj(d, "0.99 0 0 0.99 1 1 cm 0 0 0 rg 0 0 9 9 re f /X Do");
            free(d);
        }
        if (kind != 1) o[k++] = stream_obj("/Type /XObject /Subtype /Form /BBox [0 0 9 9]", "");
    }
    char *pdf = hand_pdf((const char *const *)o, k, "", n);
    for (int i = 0; i < k; i++) free(o[i]);
    free(o);
    return pdf;
}

/* Opens, reads and draws every deep_pdf kind; ok when each ends opened and
 * drawn or refused naming the field: no crash, on this thread's stack. */
static void *deep_worker(void *arg) {
    int *ok = arg;
    *ok = 1;
    for (int kind = 0; kind < DEEP; kind++) {
        size_t n;
        char *pdf = deep_pdf(kind, &n);
        ia_pdf *p;
        ia_err e;
        if (ia_pdf_open((unsigned char *)pdf, n, "deep", &p, &e) < 0) {
            if (strncmp(e.msg, "deep: ", 6)) *ok = 0;
        } else {
            char *t = ia_pdf_page_text(p, 0);
            unsigned char *rgb = NULL;
            int w, h;
            if (!t || (ia_pdf_page_rgb(p, 0, 64, &rgb, &w, &h, &e) < 0 && strncmp(e.msg, "deep: ", 6))) *ok = 0;
            free(t);
            free(rgb);
            ia_pdf_close(p);
        }
        if (!*ok) fprintf(stderr, "  kind %d: %s\n", kind, e.msg);
        free(pdf);
    }
    return NULL;
}

IA_TEST(pdf_deep_nesting_on_a_small_stack) {
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 1 << 20); /* libmicrohttpd's connection threads' */
    int ok = 0;
    quiet q;
    quiet_begin(&q);
    int rc = pthread_create(&th, &at, deep_worker, &ok);
    if (rc == 0) pthread_join(th, NULL);
    long printed = quiet_end(&q);
    pthread_attr_destroy(&at);
    IA_CHECK(rc == 0 && ok);
    IA_CHECK(printed == 0);
}

/* Each worker makes its own PDF and decodes it, rounds times. */
typedef struct worker { int rounds, ok; } worker;

static void *decode_worker(void *arg) {
    worker *wk = arg;
    wk->ok = 1;
    for (int r = 0; r < wk->rounds && wk->ok; r++) {
        size_t n;
        char *pdf = make_pdf(0, &n);
        ia_pdf *p = NULL;
        ia_err e;
        if (!pdf || ia_pdf_open((unsigned char *)pdf, n, "x", &p, &e) < 0) wk->ok = 0;
        for (int i = 0; wk->ok && i < 3; i++) {
            char *t = ia_pdf_page_text(p, i);
            if (!t || (i == 0 && !strstr(t, "alpha")) || (i == 1 && !strstr(t, "beta"))) wk->ok = 0;
            free(t);
            unsigned char *rgb = NULL;
            int w, h;
            if (wk->ok && ia_pdf_page_rgb(p, i, 842, &rgb, &w, &h, &e) < 0) wk->ok = 0;
            if (wk->ok && i == 2 && !rect_pixels_ok(rgb, w, h)) wk->ok = 0;
            free(rgb);
        }
        ia_pdf_close(p);
        free(pdf);
    }
    return NULL;
}

IA_TEST(pdf_threads) {
    enum { N = 4 };
    pthread_t th[N];
    worker wk[N];
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 1 << 20); /* libmicrohttpd's connection threads' */
    for (int i = 0; i < N; i++) {
        wk[i].rounds = 3;
        IA_CHECK(pthread_create(&th[i], &at, decode_worker, &wk[i]) == 0);
    }
    pthread_attr_destroy(&at);
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) IA_CHECK(wk[i].ok);
}
