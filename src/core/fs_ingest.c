/* fs_ingest: text extraction and white-space chunking (core/fs_ingest.h). */
#include "core/fs_ingest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/pdf.h"
#include "lib/util.h"
#include "tools/html.h"

/* The longest text kept of an HTML page (bytes), well past a long book;
 * plain text is bounded by the Files API's file size. */
#define MAX_TEXT ((size_t)64 << 20)

static bool mime_is(const char *mime, const char *want) {
    size_t n = strlen(want);
    return !strncasecmp(mime, want, n) && (mime[n] == '\0' || mime[n] == ';' || mime[n] == ' ');
}

static bool is_html(const char *m) { return mime_is(m, "text/html") || mime_is(m, "application/xhtml+xml"); }

bool ia_fs_mime_ok(const char *m) {
    if (!m) return false;
    return !strncasecmp(m, "text/", 5) || is_html(m) || mime_is(m, "application/pdf");
}

static int pdf_text(const unsigned char *data, size_t len, char **text, ia_err *err) {
    ia_pdf *p;
    if (ia_pdf_open(data, len, "document", &p, err) < 0) return -1;
    ia_buf b;
    ia_buf_init(&b, 0);
    for (int i = 0; i < ia_pdf_pages(p); i++) {
        char *t = ia_pdf_page_text(p, i);
        if (t) {
            if (b.len) ia_buf_puts(&b, "\n\n");
            ia_buf_puts(&b, t);
        }
        free(t);
    }
    ia_pdf_close(p);
    *text = b.len ? ia_buf_take(&b) : (ia_buf_free(&b), ia_strdup(""));
    return 0;
}

int ia_fs_extract(const char *mime, const unsigned char *data, size_t len, char **text, ia_err *err) {
    *text = NULL;
    if (!ia_fs_mime_ok(mime))
        return ia_fail(err, IA_EINVALID, "mimeType '%.80s' cannot be indexed by file search here; the types "
                       "taken are text/plain, text/markdown and other text/*, text/html and application/pdf",
                       mime ? mime : "");
    if (mime_is(mime, "application/pdf")) return pdf_text(data, len, text, err);
    if (is_html(mime)) {
        *text = ia_html_text((const char *)data, len, MAX_TEXT, NULL);
        return 0;
    }
    if (memchr(data, '\0', len) || !ia_utf8_valid((const char *)data, len))
        return ia_fail(err, IA_EINVALID, "document: a %.60s document must be UTF-8 text without NUL bytes", mime);
    *text = ia_strndup((const char *)data, len);
    return 0;
}

int ia_fs_chunking_check(const ia_fs_chunking *c, ia_err *err) {
    int max = c->max_tokens ? c->max_tokens : IA_FS_CHUNK_DEFAULT;
    if (c->max_tokens < 0 || max > IA_FS_CHUNK_MAX)
        return ia_fail(err, IA_EINVALID, "chunkingConfig.whiteSpaceConfig.maxTokensPerChunk: %d is out of range; "
                       "give 1 to %d (words: tokens are counted as white-space separated words here)",
                       c->max_tokens, IA_FS_CHUNK_MAX);
    /* An overlap near max would make a chunk per word: a 1 MB text of
     * one-letter words, half a million chunks. Half of max bounds the
     * chunks' total to about twice the text. */
    if (c->overlap < 0 || c->overlap > max / 2)
        return ia_fail(err, IA_EINVALID, "chunkingConfig.whiteSpaceConfig.maxOverlapTokens: %d must be 0 to half "
                       "of maxTokensPerChunk (%d), so at most %d", c->overlap, max, max / 2);
    return 0;
}

static bool space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

typedef struct spans {
    size_t *st, *en, k, cap;
} spans;

static void span_add(spans *w, size_t b, size_t e) {
    if (w->k == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->st = ia_xrealloc(w->st, w->cap * sizeof *w->st);
        w->en = ia_xrealloc(w->en, w->cap * sizeof *w->en);
    }
    w->st[w->k] = b;
    w->en[w->k++] = e;
}

/* The words' byte spans; a word longer than IA_FS_CHUNK_BYTES is cut in
 * pieces at UTF-8 character starts, so that every chunk fits the stores'
 * index (PostgreSQL's tsvector takes at most 1 MB). */
static void word_spans(const char *text, spans *w) {
    for (size_t i = 0; text[i];) {
        while (text[i] && space(text[i])) i++;
        if (!text[i]) break;
        size_t b = i;
        while (text[i] && !space(text[i])) i++;
        while (i - b > IA_FS_CHUNK_BYTES) {
            size_t e = b + IA_FS_CHUNK_BYTES;
            while (e > b + 1 && ((unsigned char)text[e] & 0xC0) == 0x80) e--;
            span_add(w, b, e);
            b = e;
        }
        span_add(w, b, i);
    }
}

static int too_many(size_t cn, size_t bytes, size_t len, ia_err *err) {
    if (cn > IA_FS_MAX_CHUNKS)
        return ia_fail(err, IA_EINVALID, "chunkingConfig: the document makes more than %d chunks; give a larger "
                       "chunkingConfig.whiteSpaceConfig.maxTokensPerChunk, or split the document", IA_FS_MAX_CHUNKS);
    if (bytes > IA_FS_CHUNK_GROWTH * len + IA_FS_CHUNK_BYTES)
        return ia_fail(err, IA_EINVALID, "chunkingConfig: the document's chunks would hold more than %d times its "
                       "text; give a smaller chunkingConfig.whiteSpaceConfig.maxOverlapTokens", IA_FS_CHUNK_GROWTH);
    return 0;
}

int ia_fs_chunk_text(const char *text, const ia_fs_chunking *c, ia_fs_chunk **out, size_t *n, ia_err *err) {
    *out = NULL;
    *n = 0;
    size_t max = c && c->max_tokens > 0 ? (size_t)c->max_tokens : IA_FS_CHUNK_DEFAULT;
    size_t overlap = c && (c->max_tokens > 0 || c->overlap > 0) ? (size_t)c->overlap : IA_FS_OVERLAP_DEFAULT;
    spans w = {0};
    word_spans(text, &w);
    size_t len = strlen(text), cn = 0, cap = 0, bytes = 0;
    ia_fs_chunk *v = NULL;
    int rc = 0;
    for (size_t at = 0; at < w.k && rc == 0;) {
        size_t last = at + max < w.k ? at + max - 1 : w.k - 1;
        while (last > at && w.en[last] - w.st[at] > IA_FS_CHUNK_BYTES) last--;
        if (cn == cap) {
            cap = cap ? cap * 2 : 16;
            v = ia_xrealloc(v, cap * sizeof *v);
        }
        bytes += w.en[last] - w.st[at];
        v[cn] = (ia_fs_chunk){.start = (int64_t)w.st[at], .end = (int64_t)w.en[last],
                              .text = ia_strndup(text + w.st[at], w.en[last] - w.st[at])};
        cn++;
        rc = too_many(cn, bytes, len, err);
        if (last == w.k - 1) break;
        /* a window cut short by bytes shares at most half its words, so
         * the next one always starts further on */
        size_t m = last - at + 1, ov = overlap < m / 2 ? overlap : m / 2;
        at = last + 1 - ov;
    }
    free(w.st);
    free(w.en);
    if (rc < 0) {
        ia_fs_chunks_free(v, cn);
        return -1;
    }
    *out = v;
    *n = cn;
    return 0;
}
