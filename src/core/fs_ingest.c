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
    if (c->overlap < 0 || (c->overlap && c->overlap >= max))
        return ia_fail(err, IA_EINVALID, "chunkingConfig.whiteSpaceConfig.maxOverlapTokens: %d must be 0 or more "
                       "and below maxTokensPerChunk (%d)", c->overlap, max);
    return 0;
}

static bool space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

void ia_fs_chunk_text(const char *text, const ia_fs_chunking *c, ia_fs_chunk **out, size_t *n) {
    *out = NULL;
    *n = 0;
    int max = c && c->max_tokens > 0 ? c->max_tokens : IA_FS_CHUNK_DEFAULT;
    int overlap = c && (c->max_tokens > 0 || c->overlap > 0) ? c->overlap : IA_FS_OVERLAP_DEFAULT;
    if (overlap >= max) overlap = max - 1;
    /* The words' byte spans, then windows over them. */
    size_t cap = 64, k = 0;
    size_t *st = ia_xrealloc(NULL, cap * sizeof *st), *en = ia_xrealloc(NULL, cap * sizeof *en);
    for (size_t i = 0; text[i];) {
        while (text[i] && space(text[i])) i++;
        if (!text[i]) break;
        size_t b = i;
        while (text[i] && !space(text[i])) i++;
        if (k == cap) {
            cap *= 2;
            st = ia_xrealloc(st, cap * sizeof *st);
            en = ia_xrealloc(en, cap * sizeof *en);
        }
        st[k] = b;
        en[k++] = i;
    }
    if (k) {
        size_t step = (size_t)(max - overlap), cn = 0;
        ia_fs_chunk *v = ia_xcalloc(k / step + 2, sizeof *v);
        for (size_t w = 0; w < k; w += step) {
            size_t last = w + (size_t)max < k ? w + (size_t)max - 1 : k - 1;
            v[cn].start = (int64_t)st[w];
            v[cn].end = (int64_t)en[last];
            v[cn].text = ia_strndup(text + st[w], en[last] - st[w]);
            cn++;
            if (last == k - 1) break;
        }
        *out = v;
        *n = cn;
    }
    free(st);
    free(en);
}
