/* test_fsearch: file search — white-space chunking and text extraction
 * (core/fs_ingest.h), the metadata_filter parser (core/fs_filter.h),
 * reciprocal rank fusion (core/fs_rank.h), and the service over a real
 * store and Files API folder (core/fsearch.h on store/fsearch.h): stores,
 * documents ingested through an upload, force, isolation between owners,
 * recovery of a document a crash left pending, and lexical ranking on a
 * known corpus — a distinctive phrase finds its document first, and
 * recall@5 over 26 questions whose right document is known (printed). */
#include "fs_corpus.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "api/api_int.h"
#include "api/fsearch.h"
#include "core/files.h"
#include "core/fs_filter.h"
#include "core/fs_ingest.h"
#include "core/fs_rank.h"
#include "core/fsearch.h"
#include "lib/util.h"
#include "store/fsearch.h"
#include "store/store.h"
#include "tools/cite.h"
#include "tools/file_search.h"
#include "pg_help.h"

/* ---- chunking and extraction ---------------------------------------------------- */

static char *words(int n) {
    ia_buf b;
    ia_buf_init(&b, 0);
    for (int i = 0; i < n; i++) ia_buf_printf(&b, "%sw%d", i ? (i % 7 ? " " : "\n  ") : "", i);
    return ia_buf_take(&b);
}

IA_TEST(fs_chunk_windows_and_overlap) {
    char *t = words(50);
    ia_fs_chunk *c;
    size_t n;
    ia_fs_chunking cfg = {.max_tokens = 10, .overlap = 2};
    IA_CHECK(ia_fs_chunk_text(t, &cfg, &c, &n, NULL) == 0);
    IA_CHECK(n == 6); /* windows start at words 0, 8, 16, 24, 32, 40 */
    IA_CHECK(!strncmp(c[0].text, "w0 w1", 5));
    IA_CHECK(strstr(c[0].text, "w9") && !strstr(c[0].text, "w10"));
    IA_CHECK(!strncmp(c[1].text, "w8 ", 3));              /* two words shared with the first */
    IA_CHECK(c[0].start == 0 && c[0].end == (int64_t)(strstr(t, "w9") - t) + 2);
    IA_CHECK(!strncmp(t + c[1].start, "w8", 2));
    IA_CHECK(!strcmp(c[5].text + strlen(c[5].text) - 3, "w49"));
    for (size_t i = 0; i < n; i++) IA_CHECK(!strncmp(t + c[i].start, c[i].text, (size_t)(c[i].end - c[i].start)));
    ia_fs_chunks_free(c, n);
    /* defaults: 200 words, 20 overlap */
    free(t);
    t = words(450);
    IA_CHECK(ia_fs_chunk_text(t, NULL, &c, &n, NULL) == 0);
    IA_CHECK(n == 3); /* 0..199, 180..379, 360..449 */
    IA_CHECK(!strncmp(c[1].text, "w180 ", 5) && !strncmp(c[2].text, "w360 ", 5));
    ia_fs_chunks_free(c, n);
    free(t);
    IA_CHECK(ia_fs_chunk_text(" \n\t ", NULL, &c, &n, NULL) == 0);
    IA_CHECK(n == 0 && c == NULL);
}

IA_TEST(fs_chunking_check_names_the_field) {
    ia_err e;
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){0, 0}, &e) == 0);
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){5000, 0}, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "chunkingConfig.whiteSpaceConfig.maxTokensPerChunk");
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){10, 10}, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "maxOverlapTokens");
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){0, 250}, &e) < 0); /* above the default 200 */
}

/* Review M1: a config or a text made to blow chunking up is refused or
 * bounded, never half a million chunks. */
IA_TEST(fs_chunking_is_bounded) {
    ia_err e;
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){10, 5}, &e) == 0);
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){10, 6}, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "chunkingConfig.whiteSpaceConfig.maxOverlapTokens: 6");
    IA_CHECK(ia_fs_chunking_check(&(ia_fs_chunking){2048, 2047}, &e) < 0);
    /* 1 MB of one-letter words, one word a chunk: past the chunk cap */
    size_t len = (size_t)1 << 20;
    char *t = ia_xmalloc(len + 1);
    for (size_t i = 0; i < len; i += 2) memcpy(t + i, "a ", 2);
    t[len] = '\0';
    ia_fs_chunk *c = NULL;
    size_t n = 7;
    IA_CHECK(ia_fs_chunk_text(t, &(ia_fs_chunking){1, 0}, &c, &n, &e) < 0);
    IA_CHECK(c == NULL && n == 0);
    IA_CHECK_CONTAINS(e.msg, "chunkingConfig: the document makes more than 100000 chunks");
    /* the same text under the defaults: about 2,900 chunks */
    IA_CHECK(ia_fs_chunk_text(t, NULL, &c, &n, &e) == 0 && n > 2000 && n < 4000);
    ia_fs_chunks_free(c, n);
    /* one 200 KB word: cut into pieces of at most 64 KB, all of it kept */
    memset(t, 'x', 200000);
    t[200000] = '\0';
    IA_CHECK(ia_fs_chunk_text(t, NULL, &c, &n, &e) == 0 && n == 4);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        IA_CHECK(strlen(c[i].text) <= IA_FS_CHUNK_BYTES);
        total += strlen(c[i].text);
    }
    IA_CHECK(total == 200000);
    ia_fs_chunks_free(c, n);
    /* 40 KB words under 2048 / 1024: one word a chunk (bytes), the overlap
     * shrunk with the window, so every word is in one chunk only */
    for (size_t i = 0; i < 400000; i++) t[i] = i % 40000 == 39999 ? ' ' : 'y';
    t[400000] = '\0';
    IA_CHECK(ia_fs_chunk_text(t, &(ia_fs_chunking){2048, 1024}, &c, &n, &e) == 0 && n == 10);
    for (size_t i = 0; i < n; i++) IA_CHECK(strlen(c[i].text) <= IA_FS_CHUNK_BYTES);
    ia_fs_chunks_free(c, n);
    free(t);
}

/* Review S3: customMetadata's keys, values and lists are bounded, the
 * error naming the entry and field. */
IA_TEST(fs_custom_metadata_is_bounded) {
    ia_api_fs_add a;
    ia_err e;
    char key[300], val[1100];
    memset(key, 'k', 257);
    key[257] = '\0';
    memset(val, 'v', 1025);
    val[1025] = '\0';
    char *body = ia_asprintf("{\"customMetadata\":[{\"key\":\"ok\",\"stringValue\":\"x\"},"
                             "{\"key\":\"%s\",\"stringValue\":\"x\"}]}", key);
    IA_CHECK(ia_api_fs_decode_add(body, strlen(body), false, &a, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "customMetadata[1].key: 257 bytes");
    free(body);
    body = ia_asprintf("{\"customMetadata\":[{\"key\":\"a\",\"stringValue\":\"%s\"}]}", val);
    IA_CHECK(ia_api_fs_decode_add(body, strlen(body), false, &a, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "customMetadata[0].stringValue: 1025 bytes");
    free(body);
    body = ia_asprintf("{\"customMetadata\":[{\"key\":\"a\",\"stringListValue\":{\"values\":[\"x\",\"%s\"]}}]}", val);
    IA_CHECK(ia_api_fs_decode_add(body, strlen(body), false, &a, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "customMetadata[0].stringListValue.values[1]: 1025 bytes");
    free(body);
    ia_buf b;
    ia_buf_init(&b, 0);
    ia_buf_puts(&b, "{\"customMetadata\":[{\"key\":\"a\",\"stringListValue\":{\"values\":[\"x\"");
    for (int i = 0; i < 100; i++) ia_buf_puts(&b, ",\"x\"");
    ia_buf_puts(&b, "]}}]}");
    body = ia_buf_take(&b);
    IA_CHECK(ia_api_fs_decode_add(body, strlen(body), false, &a, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "customMetadata[0].stringListValue.values: 101 strings");
    free(body);
    /* at the bounds: taken */
    key[256] = '\0';
    val[1024] = '\0';
    body = ia_asprintf("{\"customMetadata\":[{\"key\":\"%s\",\"stringValue\":\"%s\"}]}", key, val);
    IA_CHECK(ia_api_fs_decode_add(body, strlen(body), false, &a, &e) == 0 && a.n_meta == 1);
    ia_api_fs_add_free(&a);
    free(body);
}

IA_TEST(fs_extract_formats) {
    char *t;
    ia_err e;
    const char *html = "<html><head><title>T</title><script>var secret=1;</script></head>"
                       "<body><h1>Head</h1><p>Body &amp; soul</p></body></html>";
    IA_CHECK(ia_fs_extract("text/html; charset=utf-8", (const unsigned char *)html, strlen(html), &t, &e) == 0);
    IA_CHECK_CONTAINS(t, "Body & soul");
    IA_CHECK(!strstr(t, "secret"));
    free(t);
    IA_CHECK(ia_fs_extract("text/markdown", (const unsigned char *)"# A *b*", 7, &t, &e) == 0);
    IA_CHECK_STREQ(t, "# A *b*");
    free(t);
    IA_CHECK(ia_fs_extract("text/plain", (const unsigned char *)"a\xff", 2, &t, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "UTF-8");
    IA_CHECK(ia_fs_extract("image/png", (const unsigned char *)"x", 1, &t, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "image/png");
    IA_CHECK(ia_fs_extract("application/pdf", (const unsigned char *)"not a pdf", 9, &t, &e) < 0);
}

/* ---- metadata_filter ----------------------------------------------------------------- */

static const ia_fs_meta GRAVES[] = {
    {.key = "author", .kind = IA_FS_META_STRING, .str = "Robert Graves"},
    {.key = "year", .kind = IA_FS_META_NUMERIC, .num = 1934},
    {.key = "tags", .kind = IA_FS_META_LIST, .list = (char *[]){"rome", "novel"}, .n_list = 2},
};

static int match(const char *text) {
    ia_fs_filter *f;
    ia_err e;
    if (ia_fs_filter_parse(text, "metadata_filter", &f, &e) < 0) return -1;
    int m = ia_fs_filter_match(f, GRAVES, 3);
    ia_fs_filter_free(f);
    return m;
}

IA_TEST(fs_filter_parse_and_match) {
    IA_CHECK(match("author = \"Robert Graves\"") == 1);
    IA_CHECK(match("author != \"Robert Graves\"") == 0);
    IA_CHECK(match("year > 1900 AND author = \"Robert Graves\"") == 1);
    IA_CHECK(match("year >= 1934 AND year <= 1934 AND year < 1935") == 1);
    IA_CHECK(match("year > 1934") == 0);
    IA_CHECK(match("year = 1934.0") == 1);
    IA_CHECK(match("year = \"1934\"") == 0);          /* a number is not a string */
    IA_CHECK(match("genre = \"fiction\"") == 0);      /* a key it lacks */
    IA_CHECK(match("genre = \"fiction\" OR year < 2000") == 1);
    /* AND binds tighter: false OR (true AND false) */
    IA_CHECK(match("year > 2000 OR year = 1934 AND author = x") == 0);
    IA_CHECK(match("(year > 2000 OR year = 1934) AND NOT author = x") == 1);
    IA_CHECK(match("-year = 1934") == 0);
    IA_CHECK(match("tags = rome AND tags: novel AND tags != poem") == 1);
    IA_CHECK(match("  ") == 1); /* no filter */
    ia_fs_filter *f;
    ia_err e;
    const char *bad[] = {"author =", "author = \"open", "= 3", "year > \"x\"", "a = 1 and b = 2", "(a = 1",
                         "a = 1)", "a ~ 1", "((((((((((((((((((a = 1))))))))))))))))))", "a = 1 AND"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        IA_CHECK(ia_fs_filter_parse(bad[i], "tools[0].metadata_filter", &f, &e) < 0);
        IA_CHECK_CONTAINS(e.msg, "tools[0].metadata_filter: ");
    }
    IA_CHECK(ia_fs_filter_parse("a = ", "x", &f, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "at character 5");
}

/* ---- reciprocal rank fusion -------------------------------------------------------------- */

IA_TEST(fs_rrf_fuses_lists) {
    int64_t a[] = {1, 2, 3}, b[] = {3, 4, 1};
    ia_fs_ranked l[] = {{a, 3}, {b, 3}};
    int64_t ids[8];
    double sc[8];
    size_t n = ia_fs_rrf(l, 2, 60, ids, sc, 8);
    IA_CHECK(n == 4);
    /* 1: 1/61 + 1/63; 3: 1/63 + 1/61 — equal, 1's best rank (1st) equals 3's (1st): the smaller id */
    IA_CHECK(ids[0] == 1 && ids[1] == 3 && ids[2] == 2 && ids[3] == 4);
    IA_CHECK(sc[0] > 1.0 / 61 + 1.0 / 63 - 1e-12 && sc[0] < 1.0 / 61 + 1.0 / 63 + 1e-12);
    IA_CHECK(sc[2] > 1.0 / 62 - 1e-12 && sc[2] < 1.0 / 62 + 1e-12);
    /* one list keeps its order; cap cuts */
    n = ia_fs_rrf(l, 1, 0, ids, sc, 2);
    IA_CHECK(n == 2 && ids[0] == 1 && ids[1] == 2);
    IA_CHECK(ia_fs_rrf(l, 0, 60, ids, sc, 8) == 0);
}

/* ---- the service over a real store --------------------------------------------------------- */

typedef struct fx {
    char dir[512], db[1024];
    ia_store *store;
    ia_files *files;
    ia_fsearch *fs;
} fx;

static int fx_open(fx *x, const char *name, int *failed) {
    snprintf(x->dir, sizeof x->dir, "%s/fs-%s%s", ia_test_tmpdir(), name, ia_test_store_pg ? "-pg" : "");
    char file[512], db[64];
    snprintf(file, sizeof file, "%s/fs-%s.db", ia_test_tmpdir(), name);
    snprintf(db, sizeof db, "fs_%s", name);
    if (!ia_test_store_spec(x->db, sizeof x->db, db, file, failed)) return 1;
    ia_err e;
    x->store = ia_store_open(x->db, &e);
    if (!x->store) return -1;
    ia_files_opts o = {.store = x->store, .dir = x->dir};
    x->files = ia_files_new(&o, &e);
    x->fs = x->files ? ia_fsearch_new(x->store, x->files, &e) : NULL;
    return x->fs ? 0 : -1;
}

#define FX_OPEN(x, name)                                  \
    do {                                                  \
        int o_ = fx_open(x, name, ia_failed_);            \
        if (o_ == 1) return;                              \
        IA_CHECK(o_ == 0);                                \
        if (o_ != 0) return;                              \
    } while (0)

static void fx_close(fx *x) {
    ia_fsearch_free(x->fs);
    ia_files_free(x->files);
    ia_store_close(x->store);
}

/* A document through the upload path: start, the bytes, finalize, ingest. */
static int add_doc(fx *x, const char *owner, const char *store, const char *name, const char *mime, const char *text,
                   const ia_fs_meta *meta, size_t n_meta, ia_fs_doc *doc) {
    ia_fs_add a = {.display_name = name, .mime_type = mime, .meta = meta, .n_meta = n_meta};
    ia_file up, f;
    ia_err e;
    if (ia_fsearch_upload_start(x->fs, owner, store, &a, (int64_t)strlen(text), &up, &e) < 0) return -1;
    ia_files_writer *w;
    int rc = ia_files_write_open(x->files, owner, up.upload_id, 0, (int64_t)strlen(text), &w, &e);
    if (rc == 0) rc = ia_files_write(w, text, strlen(text), &e);
    if (rc == 0) rc = ia_files_write_close(w, true, &f, &e);
    if (rc == 0) {
        rc = ia_fsearch_upload_done(x->fs, owner, &f, doc, &e) == 1 ? 0 : -1;
        ia_file_free(&f);
    }
    ia_file_free(&up);
    return rc;
}

IA_STORE_TEST(fs_service_stores_documents_owners) {
    fx x;
    FX_OPEN(&x, "svc");
    ia_fs_store st, got;
    ia_err e;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", "Library", NULL, &st, &e) == 0);
    IA_CHECK(ia_fs_id_valid(st.id) && st.n_active == 0);
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, "models/gemini-embedding-001", &got, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "embeddingModel");
    ia_fs_meta meta[] = {{.key = "genre", .kind = IA_FS_META_STRING, .str = "fiction"}};
    ia_fs_doc d, d2;
    IA_CHECK(add_doc(&x, "k1", st.id, "one.txt", "text/plain", "Alpha bravo charlie delta.", meta, 1, &d) == 0);
    IA_CHECK(d.state == IA_DOC_ACTIVE && d.size == 26);
    IA_CHECK(add_doc(&x, "k1", st.id, "bad.bin", "text/plain", "\xff\xfe", NULL, 0, &d2) == 0);
    IA_CHECK(d2.state == IA_DOC_FAILED && d2.error);
    char failed_id[IA_FS_ID_MAX];
    snprintf(failed_id, sizeof failed_id, "%s", d2.id);
    ia_fs_doc_free(&d2);
    IA_CHECK(ia_fsearch_get(x.fs, "k1", st.id, &got, &e) == 0);
    IA_CHECK(got.n_active == 1 && got.n_failed == 1 && got.n_pending == 0 && got.size_bytes == 26);
    ia_fs_store_free(&got);
    /* the upload's file does not outlive the ingestion */
    ia_file *files;
    size_t nf;
    int64_t next;
    IA_CHECK(ia_files_list(x.files, "k1", 0, 10, &files, &nf, &next, &e) == 0 && nf == 0);
    ia_files_list_free(files, nf);
    /* another owner sees nothing */
    IA_CHECK(ia_fsearch_get(x.fs, "k2", st.id, &got, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(ia_fsearch_doc_get(x.fs, "k2", st.id, d.id, &d2, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(ia_fsearch_delete(x.fs, "k2", st.id, true, &e) < 0 && e.code == IA_ENOTFOUND);
    const char *stores[] = {st.id};
    IA_CHECK(ia_fsearch_check_stores(x.fs, "k2", stores, 1, "tools[0].file_search_store_names", &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "tools[0].file_search_store_names[0]: fileSearchStores/");
    ia_fs_hit *h;
    size_t nh;
    IA_CHECK(ia_fsearch_search(x.fs, "k2", stores, 1, "bravo", NULL, 5, &h, &nh, &e) == 0 && nh == 0);
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "bravo", NULL, 5, &h, &nh, &e) == 0 && nh == 1);
    IA_CHECK(nh == 1 && !strcmp(h[0].doc, d.id) && h[0].n_meta == 1 && !strcmp(h[0].meta[0].str, "fiction"));
    ia_fs_hits_free(h, nh);
    /* force: a document with chunks, a store with documents */
    IA_CHECK(ia_fsearch_doc_delete(x.fs, "k1", st.id, d.id, false, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "force");
    IA_CHECK(ia_fsearch_doc_delete(x.fs, "k1", st.id, failed_id, false, &e) == 0); /* failed: no chunks */
    IA_CHECK(ia_fsearch_delete(x.fs, "k1", st.id, false, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "force=true");
    IA_CHECK(ia_fsearch_delete(x.fs, "k1", st.id, true, &e) == 0);
    IA_CHECK(ia_fsearch_doc_get(x.fs, "k1", st.id, d.id, &d2, &e) < 0 && e.code == IA_ENOTFOUND);
    ia_fs_doc_free(&d);
    ia_fs_store_free(&st);
    fx_close(&x);
}

IA_STORE_TEST(fs_service_pages_and_recovery) {
    fx x;
    FX_OPEN(&x, "pages");
    ia_err e;
    ia_fs_store st[5];
    for (int i = 0; i < 5; i++) IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, NULL, &st[i], &e) == 0);
    int64_t after = 0, next;
    int seen = 0, pages = 0;
    do {
        ia_fs_store *v;
        size_t n;
        IA_CHECK(ia_fsearch_list(x.fs, "k1", after, 2, &v, &n, &next, &e) == 0);
        for (size_t i = 0; i < n; i++) {
            IA_CHECK(!strcmp(v[i].id, st[4 - seen].id)); /* newest first */
            seen++;
            ia_fs_store_free(&v[i]);
        }
        free(v);
        after = next;
        pages++;
    } while (next && pages < 10);
    IA_CHECK(seen == 5 && pages == 3);
    /* a document a crash left PENDING is FAILED at the next start */
    ia_fs_doc d = {.owner = "k1", .mime_type = "text/plain", .state = IA_DOC_PENDING, .created = 1, .updated = 1};
    snprintf(d.id, sizeof d.id, "stuck");
    snprintf(d.store, sizeof d.store, "%s", st[0].id);
    IA_CHECK(ia_store_fs_doc_put(x.store, &d, &e) == 0);
    ia_fsearch_free(x.fs);
    x.fs = ia_fsearch_new(x.store, x.files, &e);
    IA_CHECK(x.fs != NULL);
    ia_fs_doc got;
    IA_CHECK(ia_fsearch_doc_get(x.fs, "k1", st[0].id, "stuck", &got, &e) == 0);
    IA_CHECK(got.state == IA_DOC_FAILED && got.error && strstr(got.error, "again"));
    ia_fs_doc_free(&got);
    for (int i = 0; i < 5; i++) ia_fs_store_free(&st[i]);
    fx_close(&x);
}

/* ---- ingestion against concurrent deletes, repeats and store errors (review M4, M5) ---- */

/* Runs sql on the fixture's database through a connection of its own. */
static int fx_sql(fx *x, const char *sql) {
    if (ia_test_store_pg) return ia_test_pg_exec(x->db, sql);
    sqlite3 *db;
    int rc = sqlite3_open(x->db, &db) == SQLITE_OK ? 0 : -1;
    sqlite3_busy_timeout(db, 10000);
    if (rc == 0 && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) rc = -1;
    sqlite3_close(db);
    return rc;
}

/* The chunk rows of document doc (any store, any owner). */
static long long chunk_rows(fx *x, const char *doc) {
    char *sql = ia_asprintf("SELECT count(*) FROM fs_chunks WHERE doc = '%s'", doc);
    long long n = -1;
    if (ia_test_store_pg) {
        n = ia_test_pg_int(x->db, sql);
    } else {
        sqlite3 *db;
        sqlite3_stmt *st;
        if (sqlite3_open(x->db, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
    }
    free(sql);
    return n;
}

/* A PENDING document row `id` in store, as ingestion's start leaves it. */
static int pending_doc(fx *x, const char *store, const char *id, ia_fs_doc *d) {
    *d = (ia_fs_doc){.owner = "k1", .mime_type = "text/plain", .state = IA_DOC_PENDING, .created = 1, .updated = 1};
    snprintf(d->id, sizeof d->id, "%s", id);
    snprintf(d->store, sizeof d->store, "%s", store);
    ia_err e;
    return ia_store_fs_doc_put(x->store, d, &e);
}

IA_STORE_TEST(fs_ingestion_end_needs_a_pending_doc) {
    fx x;
    FX_OPEN(&x, "race");
    ia_err e;
    ia_fs_store st, st2;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, NULL, &st, &e) == 0);
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, NULL, &st2, &e) == 0);
    ia_fs_chunk ch = {.text = "words to index", .start = 0, .end = 14};
    /* the document deleted while its text was chunked: no chunks stored */
    ia_fs_doc d;
    IA_CHECK(pending_doc(&x, st.id, "gone", &d) == 0);
    IA_CHECK(ia_fsearch_doc_delete(x.fs, "k1", st.id, "gone", true, &e) == 0);
    d.state = IA_DOC_ACTIVE;
    IA_CHECK(ia_store_fs_doc_update(x.store, &d, IA_DOC_PENDING, &ch, 1, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(chunk_rows(&x, "gone") == 0);
    /* its store deleted (force) meanwhile: the same */
    IA_CHECK(pending_doc(&x, st2.id, "orphan", &d) == 0);
    IA_CHECK(ia_fsearch_delete(x.fs, "k1", st2.id, true, &e) == 0);
    d.state = IA_DOC_ACTIVE;
    IA_CHECK(ia_store_fs_doc_update(x.store, &d, IA_DOC_PENDING, &ch, 1, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(chunk_rows(&x, "orphan") == 0);
    /* failed by recovery meanwhile: ingestion's end does not revive it */
    IA_CHECK(pending_doc(&x, st.id, "late", &d) == 0);
    IA_CHECK(ia_store_fs_recover(x.store, 2, "stopped", &e) == 1);
    d.state = IA_DOC_ACTIVE;
    IA_CHECK(ia_store_fs_doc_update(x.store, &d, IA_DOC_PENDING, &ch, 1, &e) < 0 && e.code == IA_ENOTFOUND);
    ia_fs_doc got;
    IA_CHECK(ia_fsearch_doc_get(x.fs, "k1", st.id, "late", &got, &e) == 0 && got.state == IA_DOC_FAILED);
    IA_CHECK(chunk_rows(&x, "late") == 0);
    ia_fs_doc_free(&got);
    /* still PENDING: applied, with its chunk */
    IA_CHECK(pending_doc(&x, st.id, "kept", &d) == 0);
    d.state = IA_DOC_ACTIVE;
    IA_CHECK(ia_store_fs_doc_update(x.store, &d, IA_DOC_PENDING, &ch, 1, &e) == 0);
    IA_CHECK(chunk_rows(&x, "kept") == 1);
    ia_fs_store_free(&st);
    ia_fs_store_free(&st2);
    fx_close(&x);
}

IA_STORE_TEST(fs_upload_is_ingested_once) {
    fx x;
    FX_OPEN(&x, "once");
    ia_err e;
    ia_fs_store st;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, NULL, &st, &e) == 0);
    const char *text = "Alpha bravo charlie delta.";
    ia_fs_add a = {.display_name = "one.txt", .mime_type = "text/plain"};
    ia_file up, f;
    IA_CHECK(ia_fsearch_upload_start(x.fs, "k1", st.id, &a, (int64_t)strlen(text), &up, &e) == 0);
    ia_files_writer *w;
    IA_CHECK(ia_files_write_open(x.files, "k1", up.upload_id, 0, (int64_t)strlen(text), &w, &e) == 0);
    IA_CHECK(ia_files_write(w, text, strlen(text), &e) == 0);
    IA_CHECK(ia_files_write_close(w, true, &f, &e) == 0);
    /* two finalizes that both found the UPLOADING row: one claim wins */
    ia_fs_doc r1, r2;
    IA_CHECK(ia_store_fs_doc_by_upload(x.store, "k1", up.upload_id, &r1, &e) == 0);
    IA_CHECK(ia_store_fs_doc_by_upload(x.store, "k1", up.upload_id, &r2, &e) == 0);
    r1.state = r2.state = IA_DOC_PENDING;
    IA_CHECK(ia_store_fs_doc_update(x.store, &r1, IA_DOC_UPLOADING, NULL, 0, &e) == 0);
    IA_CHECK(ia_store_fs_doc_update(x.store, &r2, IA_DOC_UPLOADING, NULL, 0, &e) < 0 && e.code == IA_ENOTFOUND);
    /* put back as it was, then through the service: the second finalize
     * (or a query after it) finds nothing to ingest */
    r1.state = IA_DOC_UPLOADING;
    IA_CHECK(ia_store_fs_doc_update(x.store, &r1, IA_DOC_PENDING, NULL, 0, &e) == 0);
    ia_fs_doc d, d2;
    IA_CHECK(ia_fsearch_upload_done(x.fs, "k1", &f, &d, &e) == 1 && d.state == IA_DOC_ACTIVE);
    IA_CHECK(ia_fsearch_upload_done(x.fs, "k1", &f, &d2, &e) == 0);
    IA_CHECK(chunk_rows(&x, d.id) == 1);
    ia_fs_store got;
    IA_CHECK(ia_fsearch_get(x.fs, "k1", st.id, &got, &e) == 0 && got.n_active == 1 && got.n_pending == 0);
    ia_fs_store_free(&got);
    ia_fs_doc_free(&r1);
    ia_fs_doc_free(&r2);
    ia_fs_doc_free(&d);
    ia_file_free(&f);
    ia_file_free(&up);
    ia_fs_store_free(&st);
    fx_close(&x);
}

IA_STORE_TEST(fs_store_error_ends_the_document_failed) {
    fx x;
    FX_OPEN(&x, "boom");
    ia_err e;
    ia_fs_store st;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, NULL, &st, &e) == 0);
    /* every chunk insert refused: the update with chunks fails, the one
     * without them (FAILED) still goes through */
    const char *trigger = ia_test_store_pg
        ? "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'chunk refused'; END $$ "
          "LANGUAGE plpgsql; CREATE TRIGGER boom BEFORE INSERT ON fs_chunks FOR EACH ROW EXECUTE FUNCTION boom();"
        : "CREATE TRIGGER boom BEFORE INSERT ON fs_chunks BEGIN SELECT RAISE(ABORT, 'chunk refused'); END;";
    IA_CHECK(fx_sql(&x, trigger) == 0);
    ia_fs_doc d;
    IA_CHECK(add_doc(&x, "k1", st.id, "one.txt", "text/plain", "Alpha bravo charlie.", NULL, 0, &d) == 0);
    IA_CHECK(d.state == IA_DOC_FAILED && d.error);
    if (d.error) IA_CHECK_CONTAINS(d.error, "could not be stored");
    ia_fs_doc got;
    IA_CHECK(ia_fsearch_doc_get(x.fs, "k1", st.id, d.id, &got, &e) == 0 && got.state == IA_DOC_FAILED);
    IA_CHECK(chunk_rows(&x, d.id) == 0);
    ia_fs_doc_free(&got);
    ia_fs_doc_free(&d);
    ia_fs_store_free(&st);
    fx_close(&x);
}

/* Review M3: on a shared PostgreSQL store, start-up recovery fails only
 * the PENDING documents of its own instance (the one that put or claimed
 * them), never those another live instance is ingesting. */
IA_TEST(fs_pg_recovery_is_per_instance) {
    char db[1024];
    bool broken = false;
    if (!ia_test_pg_db(db, sizeof db, "fs_runner", &broken)) {
        IA_CHECK(!broken);
        return;
    }
    ia_err e;
    ia_store *a = ia_store_open(db, &e), *b = a ? ia_store_open(db, &e) : NULL;
    IA_CHECK(a && b);
    if (!a || !b) return;
    ia_store_set_instance(a, "inst-a");
    ia_store_set_instance(b, "inst-b");
    ia_fs_store st = {.id = "s1", .owner = "k1", .created = 1, .updated = 1};
    IA_CHECK(ia_store_fs_store_put(a, &st, &e) == 0);
    ia_fs_doc d = {.owner = "k1", .mime_type = "text/plain", .state = IA_DOC_PENDING, .created = 1, .updated = 1};
    snprintf(d.store, sizeof d.store, "s1");
    snprintf(d.id, sizeof d.id, "by-a");
    IA_CHECK(ia_store_fs_doc_put(a, &d, &e) == 0);
    /* put UPLOADING by b, claimed by a: a's */
    ia_fs_doc u = d;
    snprintf(u.id, sizeof u.id, "claimed-by-a");
    u.state = IA_DOC_UPLOADING;
    snprintf(u.upload_id, sizeof u.upload_id, "up1");
    IA_CHECK(ia_store_fs_doc_put(b, &u, &e) == 0);
    u.state = IA_DOC_PENDING;
    u.upload_id[0] = '\0';
    IA_CHECK(ia_store_fs_doc_update(a, &u, IA_DOC_UPLOADING, NULL, 0, &e) == 0);
    IA_CHECK(ia_store_fs_recover(b, 2, "stopped", &e) == 0);
    ia_fs_doc got;
    IA_CHECK(ia_store_fs_doc_get(b, "k1", "s1", "by-a", &got, &e) == 0 && got.state == IA_DOC_PENDING);
    ia_fs_doc_free(&got);
    IA_CHECK(ia_store_fs_recover(a, 2, "stopped", &e) == 2);
    IA_CHECK(ia_store_fs_doc_get(b, "k1", "s1", "claimed-by-a", &got, &e) == 0 && got.state == IA_DOC_FAILED);
    ia_fs_doc_free(&got);
    ia_store_close(b);
    ia_store_close(a);
}

/* Review item 7 and M2: what importFile and an upload refuse up front. */
IA_STORE_TEST(fs_import_refuses_what_cannot_be_indexed) {
    fx x;
    FX_OPEN(&x, "imp");
    ia_err e;
    ia_fs_store st;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, NULL, &st, &e) == 0);
    ia_file up, f;
    ia_file_start fst = {.display_name = "pic.png", .mime_type = "image/png", .size = 4};
    IA_CHECK(ia_files_start(x.files, "k1", &fst, &up, &e) == 0);
    ia_files_writer *w;
    IA_CHECK(ia_files_write_open(x.files, "k1", up.upload_id, 0, 4, &w, &e) == 0);
    IA_CHECK(ia_files_write(w, "\x89PNG", 4, &e) == 0);
    IA_CHECK(ia_files_write_close(w, true, &f, &e) == 0);
    ia_fs_add a = {0};
    ia_fs_doc d;
    IA_CHECK(ia_fsearch_import(x.fs, "k1", st.id, f.id, &a, &d, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "fileName: files/");
    IA_CHECK_CONTAINS(e.msg, "image/png");
    IA_CHECK_CONTAINS(e.msg, "text/plain");
    ia_fs_doc *v;
    size_t n;
    int64_t next;
    IA_CHECK(ia_fsearch_doc_list(x.fs, "k1", st.id, 0, 10, &v, &n, &next, &e) == 0 && n == 0);
    free(v);
    /* an upload announcing more than a document may have */
    ia_fs_add big = {.mime_type = "text/plain"};
    IA_CHECK(ia_fsearch_upload_start(x.fs, "k1", st.id, &big, IA_FS_DOC_MAX + 1, &up, &e) < 0);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "x-goog-upload-header-content-length: 104857601 bytes");
    ia_file_free(&f);
    ia_file_free(&up);
    ia_fs_store_free(&st);
    fx_close(&x);
}

/* ---- ranking on a known corpus ------------------------------------------------------------- */

/* CORPUS and QUESTIONS: tests/unit/fs_corpus.h (test_fs_hybrid.c ranks them too). */

IA_STORE_TEST(fs_ranking_recall_at_5) {
    fx x;
    FX_OPEN(&x, "rank");
    ia_err e;
    ia_fs_store st;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", "corpus", NULL, &st, &e) == 0);
    char ids[N_CORPUS][IA_FS_ID_MAX];
    for (size_t i = 0; i < N_CORPUS; i++) {
        ia_fs_doc d;
        IA_CHECK(add_doc(&x, "k1", st.id, CORPUS[i][0], "text/plain", CORPUS[i][1], NULL, 0, &d) == 0);
        snprintf(ids[i], sizeof ids[i], "%s", d.id);
        ia_fs_doc_free(&d);
    }
    const char *stores[] = {st.id};
    /* a distinctive phrase finds its document first */
    ia_fs_hit *h;
    size_t n;
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "waggle dance", NULL, 5, &h, &n, &e) == 0);
    IA_CHECK(n >= 1 && !strcmp(h[0].doc_title, "bees"));
    ia_fs_hits_free(h, n);
    int hits = 0;
    for (size_t q = 0; q < N_QUESTIONS; q++) {
        IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, QUESTIONS[q][0], NULL, 5, &h, &n, &e) == 0);
        bool found = false;
        for (size_t i = 0; i < n; i++) found = found || !strcmp(h[i].doc_title, QUESTIONS[q][1]);
        if (!found) fprintf(stderr, "  recall miss: '%s' (want %s, first %s)\n", QUESTIONS[q][0], QUESTIONS[q][1],
                            n ? h[0].doc_title : "none");
        hits += found;
        ia_fs_hits_free(h, n);
    }
    fprintf(stderr, "  file search (%s) lexical recall@5: %d/%zu = %.3f\n", ia_store_backend(x.store), hits,
            N_QUESTIONS, (double)hits / N_QUESTIONS);
    IA_CHECK(hits * 10 >= (int)N_QUESTIONS * 9); /* at least 0.9 */
    ia_fs_store_free(&st);
    fx_close(&x);
}

/* ---- file_citation: the result the model reads, cited back ------------------------------------- */

IA_TEST(fs_file_citations_from_the_result) {
    ia_fs_hit hits[2] = {
        {.chunk_id = 1, .store = "s1", .doc = "d1", .doc_title = "bees.txt", .text = "Honeybees dance the\nwaggle dance.", .score = 1},
        {.chunk_id = 2, .store = "s1", .doc = "d2", .doc_title = "tea.md", .text = "Matcha whisk.", .score = 0.5},
    };
    char *json, *model;
    ia_file_search_result(hits, 2, &json, &model);
    IA_CHECK_CONTAINS(json, "\"document\":\"fileSearchStores/s1/documents/d1\"");
    IA_CHECK_CONTAINS(model, "[1] bees.txt\nURL: fileSearchStores/s1/documents/d1\nHoneybees dance the waggle dance.\n");
    ia_content res = {.kind = IA_CONTENT_TOOL_RESULT, .tool = IA_BUILTIN_FILE_SEARCH, .text = json, .fetched = model};
    ia_turn out = {.role = IA_ROLE_MODEL, .items = &res, .n = 1};
    const char *answer = "Bees tell distance with a dance [1]. Tea needs a whisk [2].";
    size_t n;
    ia_annotation *a = ia_cite_answer(answer, &out, &n);
    IA_CHECK(n == 2);
    if (n == 2) {
        IA_CHECK(a[0].file && !strcmp(a[0].url, "fileSearchStores/s1/documents/d1") && !strcmp(a[0].title, "bees.txt"));
        IA_CHECK(a[0].start == 0 && a[1].file && !strcmp(a[1].url, "fileSearchStores/s1/documents/d2"));
        json_t *j = ia_api_annotations_json(a, n);
        char *s = json_dumps(j, JSON_COMPACT);
        IA_CHECK_CONTAINS(s, "\"type\":\"file_citation\"");
        IA_CHECK_CONTAINS(s, "\"document_uri\":\"fileSearchStores/s1/documents/d1\"");
        IA_CHECK_CONTAINS(s, "\"file_name\":\"bees.txt\"");
        free(s);
        json_decref(j);
        /* the store keeps it a file citation */
        ia_content t = {.kind = IA_CONTENT_TEXT, .text = (char *)answer, .annotations = a, .n_annotations = n};
        ia_turn tt = {.role = IA_ROLE_MODEL, .items = &t, .n = 1};
        char *enc = ia_codec_turn_encode(&tt);
        ia_turn back;
        IA_CHECK(enc && ia_codec_turn_decode(enc, &back) == 0);
        IA_CHECK(back.n == 1 && back.items[0].n_annotations == 2 && back.items[0].annotations[1].file);
        ia_turn_free(&back);
        free(enc);
    }
    ia_annotations_free(a, n);
    free(json);
    free(model);
}
