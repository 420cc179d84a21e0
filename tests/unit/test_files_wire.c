/* test_files_wire: the Files API's parsers of outside bytes and its wire —
 * the mime table and content checks (core/filecheck.c), the upload headers
 * (http/files.c), the routes, the start body, the File JSON, page tokens,
 * the error shape and Files URIs (api/files.c). */
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/filecheck.h"
#include "core/files.h"
#include "http/http_int.h"
#include "lib/util.h"

/* The check of data as mime, fed in pieces of `piece` bytes; 0 = matches. */
static int check(const char *mime, const void *data, size_t n, size_t piece, char *msg, size_t cap) {
    ia_filecheck c;
    ia_filecheck_init(&c, mime);
    const char *p = data;
    for (size_t i = 0; i < n; i += piece) ia_filecheck_feed(&c, p + i, n - i < piece ? n - i : piece);
    return ia_filecheck_finish(&c, msg, cap);
}

IA_TEST(files_mime_kinds) {
    char base[64];
    IA_CHECK(ia_filecheck_kind("image/png", base) == IA_MEDIA_IMAGE);
    IA_CHECK_STREQ(base, "image/png");
    IA_CHECK(ia_filecheck_kind(" Image/PNG ; charset=x", base) == IA_MEDIA_IMAGE);
    IA_CHECK_STREQ(base, "image/png");
    IA_CHECK(ia_filecheck_kind("audio/mpeg", NULL) == IA_MEDIA_AUDIO);
    IA_CHECK(ia_filecheck_kind("video/quicktime", NULL) == IA_MEDIA_VIDEO);
    IA_CHECK(ia_filecheck_kind("application/pdf", NULL) == IA_MEDIA_DOCUMENT);
    IA_CHECK(ia_filecheck_kind("text/x-python", NULL) == IA_MEDIA_TEXT);
    IA_CHECK(ia_filecheck_kind("text/plain; charset=utf-8", NULL) == IA_MEDIA_TEXT);
    IA_CHECK(ia_filecheck_kind("application/json", NULL) == IA_MEDIA_TEXT);
    IA_CHECK(ia_filecheck_kind("application/octet-stream", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind("application/zip", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind("image", base) == IA_MEDIA_NONE);
    IA_CHECK_STREQ(base, "");
    IA_CHECK(ia_filecheck_kind("image/png/x", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind("/png", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind("image/", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind("image/p ng", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind("", NULL) == IA_MEDIA_NONE);
    IA_CHECK(ia_filecheck_kind(NULL, NULL) == IA_MEDIA_NONE);
    char longer[200];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    longer[5] = '/';
    IA_CHECK(ia_filecheck_kind(longer, base) == IA_MEDIA_NONE);
}

IA_TEST(files_content_signatures) {
    char msg[400];
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H'};
    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F'};
    IA_CHECK(check("image/png", png, sizeof png, 3, msg, sizeof msg) == 0);
    IA_CHECK(check("image/jpeg", jpeg, sizeof jpeg, 100, msg, sizeof msg) == 0);
    IA_CHECK(check("image/png", jpeg, sizeof jpeg, 100, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "not image/png");
    IA_CHECK_CONTAINS(msg, "PNG signature");
    IA_CHECK(check("image/gif", "GIF89a\1\0\1\0", 10, 1, msg, sizeof msg) == 0);
    IA_CHECK(check("image/webp", "RIFF\0\0\0\0WEBPVP8 ", 16, 5, msg, sizeof msg) == 0);
    IA_CHECK(check("audio/wav", "RIFF\0\0\0\0WEBPVP8 ", 16, 5, msg, sizeof msg) < 0);
    IA_CHECK(check("audio/wav", "RIFF\x24\0\0\0WAVEfmt ", 16, 5, msg, sizeof msg) == 0);
    IA_CHECK(check("video/avi", "RIFF\x24\0\0\0AVI LIST", 16, 5, msg, sizeof msg) == 0);
    IA_CHECK(check("audio/mp3", "ID3\3\0\0\0\0\0\0", 10, 2, msg, sizeof msg) == 0);
    IA_CHECK(check("audio/mpeg", "\xFF\xFB\x90\x00", 4, 2, msg, sizeof msg) == 0);
    IA_CHECK(check("audio/mpeg", "\xFF\x0B\x90\x00", 4, 2, msg, sizeof msg) < 0);
    IA_CHECK(check("audio/flac", "fLaC\0\0\0\x22", 8, 8, msg, sizeof msg) == 0);
    IA_CHECK(check("audio/ogg", "OggS\0\2", 6, 6, msg, sizeof msg) == 0);
    IA_CHECK(check("video/mp4", "\0\0\0\x18" "ftypisom", 12, 4, msg, sizeof msg) == 0);
    IA_CHECK(check("video/mov", "\0\0\0\x08" "wide", 8, 4, msg, sizeof msg) == 0);
    IA_CHECK(check("image/heic", "\0\0\0\x18" "ftypheic", 12, 4, msg, sizeof msg) == 0);
    IA_CHECK(check("image/heic", "\0\0\0\x18" "ftypisom", 12, 4, msg, sizeof msg) < 0);
    IA_CHECK(check("video/webm", "\x1A\x45\xDF\xA3\x9F", 5, 1, msg, sizeof msg) == 0);
    IA_CHECK(check("video/mpeg", "\0\0\x01\xBA\x44", 5, 1, msg, sizeof msg) == 0);
    IA_CHECK(check("video/x-flv", "FLV\x01\x05", 5, 1, msg, sizeof msg) == 0);
    IA_CHECK(check("video/wmv", "\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6", 9, 1, msg, sizeof msg) == 0);
    IA_CHECK(check("application/msword", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, 8, msg, sizeof msg) == 0);
    IA_CHECK(check("application/vnd.oasis.opendocument.text", "PK\x03\x04\x14", 5, 8, msg, sizeof msg) == 0);
    IA_CHECK(check("image/tiff", "II*\0\x08", 5, 8, msg, sizeof msg) == 0);
    IA_CHECK(check("image/bmp", "BM", 2, 8, msg, sizeof msg) < 0); /* shorter than its header */
    /* PDF: the header may follow up to 1,024 bytes of anything */
    char pdf[1200];
    memset(pdf, ' ', sizeof pdf);
    memcpy(pdf + 1000, "%PDF-1.7", 8);
    IA_CHECK(check("application/pdf", pdf, sizeof pdf, 7, msg, sizeof msg) == 0);
    memset(pdf, ' ', sizeof pdf);
    memcpy(pdf + 1100, "%PDF-1.7", 8);
    IA_CHECK(check("application/pdf", pdf, sizeof pdf, 7, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "%PDF-");
    /* headerless audio */
    IA_CHECK(check("audio/l16", "\1\2\3\4", 4, 1, msg, sizeof msg) == 0);
    IA_CHECK(check("audio/l16", "\1\2\3", 3, 1, msg, sizeof msg) < 0);
    IA_CHECK(check("audio/mulaw", "\x7f", 1, 1, msg, sizeof msg) == 0);
    /* empty: nothing matches */
    IA_CHECK(check("audio/mulaw", "", 0, 1, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "empty");
    IA_CHECK(check("application/zip", "PK\3\4", 4, 1, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "not one this server accepts");
}

IA_TEST(files_content_text) {
    char msg[400];
    const char *ok = "hello \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 end\n";
    for (size_t piece = 1; piece <= 5; piece++)
        IA_CHECK(check("text/plain", ok, strlen(ok), piece, msg, sizeof msg) == 0);
    IA_CHECK(check("text/plain", "ab\0cd", 5, 2, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "a NUL byte at byte 2");
    IA_CHECK(check("text/csv", "a,b\n\xFF", 5, 1, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "invalid UTF-8 at byte 4");
    IA_CHECK(check("text/plain", "ab\xE2\x82", 4, 1, msg, sizeof msg) < 0);
    IA_CHECK_CONTAINS(msg, "ends inside a character");
    IA_CHECK(check("text/plain", "\xC0\x80", 2, 1, msg, sizeof msg) < 0);     /* overlong */
    IA_CHECK(check("text/plain", "\xED\xA0\x80", 3, 1, msg, sizeof msg) < 0); /* surrogate */
    IA_CHECK(check("text/plain", "\xF4\x90\x80\x80", 4, 1, msg, sizeof msg) < 0); /* > U+10FFFF */
    IA_CHECK(check("application/json", "{\"a\":1}", 7, 3, msg, sizeof msg) == 0);
}

IA_TEST(files_upload_headers) {
    unsigned c = 0;
    IA_CHECK(ia_http_upload_command("start", &c) == 0 && c == IA_UPLOAD_START);
    IA_CHECK(ia_http_upload_command("upload", &c) == 0 && c == IA_UPLOAD_UPLOAD);
    IA_CHECK(ia_http_upload_command("upload, finalize", &c) == 0 && c == (IA_UPLOAD_UPLOAD | IA_UPLOAD_FINALIZE));
    IA_CHECK(ia_http_upload_command(" Upload ,FINALIZE ", &c) == 0 && c == (IA_UPLOAD_UPLOAD | IA_UPLOAD_FINALIZE));
    IA_CHECK(ia_http_upload_command("finalize", &c) == 0 && c == IA_UPLOAD_FINALIZE);
    IA_CHECK(ia_http_upload_command("query", &c) == 0 && c == IA_UPLOAD_QUERY);
    IA_CHECK(ia_http_upload_command("cancel", &c) == 0 && c == IA_UPLOAD_CANCEL);
    IA_CHECK(ia_http_upload_command("", &c) < 0);
    IA_CHECK(ia_http_upload_command(NULL, &c) < 0);
    IA_CHECK(ia_http_upload_command("upload finalize", &c) < 0);
    IA_CHECK(ia_http_upload_command("upload,,finalize", &c) < 0);
    IA_CHECK(ia_http_upload_command("upload, upload", &c) < 0);
    IA_CHECK(ia_http_upload_command("start, upload", &c) < 0);
    IA_CHECK(ia_http_upload_command("query, cancel", &c) < 0);
    IA_CHECK(ia_http_upload_command("uploadx", &c) < 0);
    IA_CHECK(ia_http_upload_command("upload,", &c) < 0);
    int64_t v = -1;
    IA_CHECK(ia_http_parse_int64("0", &v) == 0 && v == 0);
    IA_CHECK(ia_http_parse_int64(" 8388608 ", &v) == 0 && v == 8388608);
    IA_CHECK(ia_http_parse_int64("9223372036854775807", &v) == 0 && v == INT64_MAX);
    IA_CHECK(ia_http_parse_int64("9223372036854775808", &v) < 0);
    IA_CHECK(ia_http_parse_int64("-1", &v) < 0);
    IA_CHECK(ia_http_parse_int64("+1", &v) < 0);
    IA_CHECK(ia_http_parse_int64("1e3", &v) < 0);
    IA_CHECK(ia_http_parse_int64("1 2", &v) < 0);
    IA_CHECK(ia_http_parse_int64("", &v) < 0);
    IA_CHECK(ia_http_parse_int64(NULL, &v) < 0);
}

IA_TEST(files_routes) {
    ia_http_route r;
    ia_http_route_parse("/upload/v1beta/files", NULL, &r);
    IA_CHECK(r.kind == IA_RT_UPLOAD);
    IA_CHECK_STREQ(r.version, "v1beta");
    ia_http_route_parse("/upload/v1/files", NULL, &r);
    IA_CHECK(r.kind == IA_RT_UPLOAD);
    IA_CHECK_STREQ(r.version, "v1");
    ia_http_route_parse("/upload/v1beta/interactions", NULL, &r);
    IA_CHECK(r.kind == IA_RT_NONE);
    ia_http_route_parse("/v1beta/files", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILES);
    ia_http_route_parse("/v1/files/abc-123", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILE && !r.id_too_long);
    IA_CHECK_STREQ(r.id, "abc-123");
    ia_http_route_parse("/v1beta/files/ab%63", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILE && !r.id_too_long);
    IA_CHECK_STREQ(r.id, "abc");
    ia_http_route_parse("/v1beta/files/ABC", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILE && r.id_too_long);
    ia_http_route_parse("/v1beta/files/abc:download", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILE && r.id_too_long);
    ia_http_route_parse("/v1beta/files/a/b", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILE && r.id_too_long);
    ia_http_route_parse("/v1beta/files/", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILE && r.id_too_long);
    ia_http_route_parse("/v1beta/files:register", NULL, &r);
    IA_CHECK(r.kind == IA_RT_FILES_REGISTER);
    IA_CHECK(ia_http_route_method_ok(IA_RT_FILE, "DELETE") && !ia_http_route_method_ok(IA_RT_FILES, "POST"));
    IA_CHECK(ia_file_id_valid("a") && ia_file_id_valid("abc-1") && !ia_file_id_valid("-a") &&
             !ia_file_id_valid("a-") && !ia_file_id_valid("") && !ia_file_id_valid("a_b"));
    IA_CHECK(ia_file_id_valid("0123456789012345678901234567890123456789"));
    IA_CHECK(!ia_file_id_valid("01234567890123456789012345678901234567890"));
}

IA_TEST(files_decode_start) {
    ia_api_file_meta m;
    ia_err e;
    IA_CHECK(ia_api_files_decode_start("", 0, &m, &e) == 0 && !m.mime_type && m.size == -1);
    IA_CHECK(ia_api_files_decode_start(" \n", 2, &m, &e) == 0);
    const char *b = "{\"file\":{\"mimeType\":\"image/png\",\"displayName\":\"cat\",\"name\":\"files/my-cat\","
                    "\"sizeBytes\":\"1234\"}}";
    IA_CHECK(ia_api_files_decode_start(b, strlen(b), &m, &e) == 0);
    IA_CHECK_STREQ(m.mime_type, "image/png");
    IA_CHECK_STREQ(m.display_name, "cat");
    IA_CHECK_STREQ(m.id, "my-cat");
    IA_CHECK(m.size == 1234);
    ia_api_file_meta_free(&m);
    b = "{\"file\":{\"mime_type\":\"text/plain\",\"size_bytes\":7,\"name\":\"x\"}}";
    IA_CHECK(ia_api_files_decode_start(b, strlen(b), &m, &e) == 0 && m.size == 7);
    IA_CHECK_STREQ(m.id, "x");
    ia_api_file_meta_free(&m);
    static const struct { const char *body, *msg; } bad[] = {
        {"{", "malformed JSON"},
        {"[]", "must be a JSON object"},
        {"{\"files\":{}}", "unknown field 'files'"},
        {"{\"file\":[]}", "file: expected an object"},
        {"{\"file\":{\"uri\":\"x\"}}", "unknown field 'file.uri'"},
        {"{\"file\":{\"mimeType\":3}}", "file.mimeType: expected a string"},
        {"{\"file\":{\"sizeBytes\":\"-4\"}}", "file.sizeBytes: expected a non-negative"},
        {"{\"file\":{\"sizeBytes\":\"12a\"}}", "file.sizeBytes"},
        {"{\"file\":{\"sizeBytes\":-1}}", "file.sizeBytes"},
        {"{\"file\":{\"name\":\"files/Bad_Name\"}}", "file.name: 'files/Bad_Name' is not a valid name"},
        {"{\"file\":{\"displayName\":\"a\\u0000b\"}}", "malformed JSON"},
        {"{\"file\":{\"name\":\"a\",\"name\":\"b\"}}", "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ia_err_clear(&e);
        IA_CHECK(ia_api_files_decode_start(bad[i].body, strlen(bad[i].body), &m, &e) < 0);
        IA_CHECK(e.code == IA_EINVALID);
        IA_CHECK_CONTAINS(e.msg, bad[i].msg);
        IA_CHECK(!m.mime_type && !m.id && !m.display_name);
    }
}

IA_TEST(files_encode) {
    ia_file f;
    memset(&f, 0, sizeof f);
    snprintf(f.id, sizeof f.id, "abc");
    f.mime_type = ia_strdup("image/png");
    f.state = IA_FILE_ACTIVE;
    f.size = 5000000000LL;
    f.created = 1700000000;
    f.updated = 1700000001;
    f.expires = 1700172800;
    ia_sha256_hex("hello", 5, f.sha256);
    char *s = ia_api_files_encode(&f, "http://h:1/v1beta", false);
    json_t *j = json_loads(s, 0, NULL);
    IA_CHECK(j);
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "name")), "files/abc");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "uri")), "http://h:1/v1beta/files/abc");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "sizeBytes")), "5000000000");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "state")), "ACTIVE");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "source")), "UPLOADED");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "createTime")), "2023-11-14T22:13:20Z");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "expirationTime")), "2023-11-16T22:13:20Z");
    /* base64 of the hex digest of "hello" (2cf24dba...) */
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "sha256Hash")),
                   "MmNmMjRkYmE1ZmIwYTMwZTI2ZTgzYjJhYzViOWUyOWUxYjE2MWU1YzFmYTc0MjVlNzMwNDMzNjI5MzhiOTgyNA==");
    IA_CHECK(!json_object_get(j, "displayName") && !json_object_get(j, "error"));
    json_decref(j);
    free(s);
    f.state = IA_FILE_FAILED;
    f.error = ia_strdup("the content is not image/png");
    f.display_name = ia_strdup("d");
    s = ia_api_files_encode(&f, "http://h:1/v1", true);
    j = json_loads(s, 0, NULL);
    json_t *file = json_object_get(j, "file");
    IA_CHECK_STREQ(json_string_value(json_object_get(file, "state")), "FAILED");
    IA_CHECK_STREQ(json_string_value(json_object_get(file, "displayName")), "d");
    IA_CHECK(json_integer_value(json_object_get(json_object_get(file, "error"), "code")) == 3);
    IA_CHECK_STREQ(json_string_value(json_object_get(json_object_get(file, "error"), "message")),
                   "the content is not image/png");
    json_decref(j);
    free(s);
    /* lists: no key for an empty page, no token on the last */
    s = ia_api_files_encode_list(NULL, 0, "b", 0);
    IA_CHECK_STREQ(s, "{}");
    free(s);
    s = ia_api_files_encode_list(&f, 1, "b", 42);
    j = json_loads(s, 0, NULL);
    IA_CHECK(json_array_size(json_object_get(j, "files")) == 1);
    int64_t cur = 0;
    IA_CHECK(ia_api_files_parse_page_token(json_string_value(json_object_get(j, "nextPageToken")), &cur) == 0);
    IA_CHECK(cur == 42);
    json_decref(j);
    free(s);
    ia_file_free(&f);
    char tok[40];
    ia_api_files_page_token(INT64_MAX, tok);
    IA_CHECK(ia_api_files_parse_page_token(tok, &cur) == 0 && cur == INT64_MAX);
    IA_CHECK(ia_api_files_parse_page_token("", &cur) < 0);
    IA_CHECK(ia_api_files_parse_page_token("p", &cur) < 0);
    IA_CHECK(ia_api_files_parse_page_token("x12", &cur) < 0);
    IA_CHECK(ia_api_files_parse_page_token("pMA", &cur) < 0); /* "0" */
    IA_CHECK(ia_api_files_parse_page_token("pYWI", &cur) < 0); /* "ab" */
    IA_CHECK(ia_api_files_parse_page_token("p!!!", &cur) < 0);
    IA_CHECK(ia_api_files_parse_page_token("pND", &cur) < 0); /* "pNA" with stray bits */
    IA_CHECK(ia_api_files_parse_page_token("pNA", &cur) == 0 && cur == 4);
    /* errors: Google's classic shape */
    ia_err e;
    ia_fail(&e, IA_ENOTFOUND, "files/x not found");
    s = ia_api_files_encode_error(&e);
    IA_CHECK_STREQ(s, "{\"error\":{\"code\":404,\"message\":\"files/x not found\",\"status\":\"NOT_FOUND\"}}");
    free(s);
    ia_fail(&e, IA_ETOOLARGE, "big");
    s = ia_api_files_encode_error(&e);
    IA_CHECK_CONTAINS(s, "\"code\":413");
    free(s);
}

IA_TEST(files_uri_refs) {
    char id[IA_FILE_ID_MAX];
    IA_CHECK(ia_api_file_ref("files/abc", id) == 0);
    IA_CHECK_STREQ(id, "abc");
    IA_CHECK(ia_api_file_ref("https://generativelanguage.googleapis.com/v1beta/files/x-1", id) == 0);
    IA_CHECK_STREQ(id, "x-1");
    IA_CHECK(ia_api_file_ref("http://127.0.0.1:8080/v1/files/q?alt=media", id) == 0);
    IA_CHECK_STREQ(id, "q");
    IA_CHECK(ia_api_file_ref("http://127.0.0.1:8080/files/q", id) < 0);
    IA_CHECK(ia_api_file_ref("https://example.com/cat.png", id) < 0);
    IA_CHECK(ia_api_file_ref("files/", id) < 0);
    IA_CHECK(ia_api_file_ref("files/a/b", id) < 0);
    IA_CHECK(ia_api_file_ref("files/UPPER", id) < 0);
    IA_CHECK(ia_api_file_ref("gs://bucket/files/a", id) < 0);
    IA_CHECK(ia_api_file_ref("http://h", id) < 0);
    IA_CHECK(ia_api_file_ref(NULL, id) < 0);
}

typedef struct seen {
    char paths[4][160];
    char ids[4][IA_FILE_ID_MAX];
    int n;
} seen;

static int collect(const char *path, const char *id, void *ud) {
    seen *s = ud;
    if (s->n < 4) {
        snprintf(s->paths[s->n], sizeof s->paths[0], "%s", path);
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s", id);
    }
    s->n++;
    return 0;
}

IA_TEST(files_refs_in_body) {
    const char *b = "{\"model\":\"demo\",\"input\":[{\"type\":\"text\",\"text\":\"files/zzz\"},"
                    "{\"type\":\"image\",\"uri\":\"files/aaa\"},{\"role\":\"user\",\"content\":[{\"type\":"
                    "\"document\",\"uri\":\"http://x/v1beta/files/bbb\"},{\"type\":\"image\",\"uri\":"
                    "\"https://e.com/x.png\"}]}]}";
    seen s = {0};
    IA_CHECK(ia_api_files_refs(b, strlen(b), collect, &s) == 0);
    IA_CHECK(s.n == 2);
    IA_CHECK_STREQ(s.paths[0], "input[1]");
    IA_CHECK_STREQ(s.ids[0], "aaa");
    IA_CHECK_STREQ(s.paths[1], "input[2].content[0]");
    IA_CHECK_STREQ(s.ids[1], "bbb");
    memset(&s, 0, sizeof s);
    b = "{\"input\":{\"type\":\"audio\",\"uri\":\"files/one\"}}";
    IA_CHECK(ia_api_files_refs(b, strlen(b), collect, &s) == 0 && s.n == 1);
    IA_CHECK_STREQ(s.paths[0], "input");
    memset(&s, 0, sizeof s);
    IA_CHECK(ia_api_files_refs("{nope", 5, collect, &s) == 0 && s.n == 0);
}
