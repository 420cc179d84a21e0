/* Fuzz target: the Files API's parsers of outside bytes — the resumable
 * upload's headers (x-goog-upload-command, the offsets and lengths:
 * ia_http_upload_command, ia_http_parse_int64), the start body
 * (ia_api_files_decode_start), list page tokens, Files URIs and the walk of
 * a create body for them (ia_api_file_ref, ia_api_files_refs), the mime
 * table and the content check of an uploaded file (core/filecheck.c), fed
 * in pieces whose sizes the input picks.
 *
 * Input: the first byte picks the parser; the rest is its text (the
 * content check: byte 1 is the piece size, then the mime type up to a
 * newline, then the content). Checks: a command that parses is one of the
 * six the protocol has; a parsed int64 prints back as its digits; a decoded
 * start body's name is a valid id and its size is -1 or >= 0; a page token
 * that parses is the one we would write for its cursor; a Files URI's id is
 * valid and appears in the URI; the content check's verdict does not depend
 * on how the bytes were split. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filecheck.h"
#include "core/files.h"
#include "http/http_int.h"
#include "lib/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

static void command(const char *s) {
    unsigned c = 0;
    if (ia_http_upload_command(s, &c) < 0) return;
    FUZZ_CHECK(c == IA_UPLOAD_START || c == IA_UPLOAD_UPLOAD || c == (IA_UPLOAD_UPLOAD | IA_UPLOAD_FINALIZE) ||
               c == IA_UPLOAD_FINALIZE || c == IA_UPLOAD_QUERY || c == IA_UPLOAD_CANCEL);
}

static void int64s(const char *s) {
    int64_t v = -1;
    if (ia_http_parse_int64(s, &v) < 0) return;
    FUZZ_CHECK(v >= 0);
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    /* the digits, less leading zeros and blanks */
    const char *p = s;
    while (*p == ' ' || *p == '\t') p++;
    while (*p == '0' && p[1] >= '0' && p[1] <= '9') p++;
    FUZZ_CHECK(!strncmp(p, buf, strlen(buf)));
}

static void start_body(const char *s) {
    ia_api_file_meta m;
    ia_err e;
    if (ia_api_files_decode_start(s, strlen(s), &m, &e) < 0) {
        FUZZ_CHECK(e.code == IA_EINVALID && !m.id && !m.mime_type && !m.display_name);
        return;
    }
    FUZZ_CHECK(m.size >= -1);
    FUZZ_CHECK(!m.id || ia_file_id_valid(m.id));
    ia_api_file_meta_free(&m);
}

static void page_token(const char *s) {
    int64_t cur = 0;
    if (ia_api_files_parse_page_token(s, &cur) < 0) return;
    FUZZ_CHECK(cur > 0);
    char again[40];
    ia_api_files_page_token(cur, again);
    FUZZ_CHECK(!strcmp(again, s));
}

static int count_ref(const char *path, const char *id, void *ud) {
    FUZZ_CHECK(path && *path && ia_file_id_valid(id));
    (*(int *)ud)++;
    return 0;
}

static void uris(const char *s) {
    char id[IA_FILE_ID_MAX];
    if (ia_api_file_ref(s, id) == 0) FUZZ_CHECK(ia_file_id_valid(id) && strstr(s, id));
    int n = 0;
    (void)ia_api_files_refs(s, strlen(s), count_ref, &n);
}

static void content(const uint8_t *d, size_t n) {
    if (n < 1) return;
    size_t piece = d[0] % 64 + 1;
    d++, n--;
    const uint8_t *nl = memchr(d, '\n', n);
    size_t ml = nl ? (size_t)(nl - d) : n;
    char *mime = fuzz_cstr(d, ml);
    const uint8_t *body = nl ? nl + 1 : d + n;
    size_t bn = nl ? n - ml - 1 : 0;
    char base[64];
    ia_media_kind k = ia_filecheck_kind(mime, base);
    FUZZ_CHECK(k == IA_MEDIA_NONE || strlen(base) > 2);
    ia_filecheck a, b;
    ia_filecheck_init(&a, mime);
    ia_filecheck_init(&b, mime);
    ia_filecheck_feed(&a, body, bn);
    for (size_t i = 0; i < bn; i += piece) ia_filecheck_feed(&b, body + i, bn - i < piece ? bn - i : piece);
    char ma[400], mb[400];
    int ra = ia_filecheck_finish(&a, ma, sizeof ma), rb = ia_filecheck_finish(&b, mb, sizeof mb);
    FUZZ_CHECK(ra == rb);
    if (ra < 0) FUZZ_CHECK(!strcmp(ma, mb));
    free(mime);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] % 6 == 5) {
        content(data + 1, size - 1);
        return 0;
    }
    char *s = fuzz_cstr(data + 1, size - 1);
    switch (data[0] % 6) {
    case 0: command(s); break;
    case 1: int64s(s); break;
    case 2: start_body(s); break;
    case 3: page_token(s); break;
    default: uris(s); break;
    }
    free(s);
    return 0;
}
