/* test_files: the Files API service (core/files.c) over a real store (a
 * SQLite file, then again a PostgreSQL database: IA_STORE_TEST) and blob
 * folder under ia_test_tmpdir() — an upload written in pieces and
 * finalized ACTIVE with the SHA-256 of its bytes, a chunk sent again from an
 * earlier offset, resumption after a writer was abandoned, FAILED content,
 * the limits (announced size, --max-file-size, the quota), one writer at a
 * time, isolation between owners, pages that end, delete and the sweep
 * taking the blobs with them, and blobs left by a crash removed at start. */
#include "unit.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"
#include "lib/util.h"
#include "store/store.h"
#include "pg_help.h"

typedef struct fx {
    char dir[512], db[1024];
    ia_store *store;
    ia_files *files;
} fx;

/* 0, -1 on failure, 1 when the test is to be skipped (pg_help.h) */
static int fx_open(fx *x, const char *name, int64_t max, int64_t quota, int64_t ttl, int *failed) {
    snprintf(x->dir, sizeof x->dir, "%s/files-%s%s", ia_test_tmpdir(), name, ia_test_store_pg ? "-pg" : "");
    char file[512], db[64];
    snprintf(file, sizeof file, "%s/files-%s.db", ia_test_tmpdir(), name);
    snprintf(db, sizeof db, "files_%s", name);
    if (!ia_test_store_spec(x->db, sizeof x->db, db, file, failed)) return 1;
    ia_err e;
    x->store = ia_store_open(x->db, &e);
    if (!x->store) return -1;
    ia_files_opts o = {.store = x->store, .dir = x->dir, .max_file_size = max, .quota = quota, .ttl_s = ttl};
    x->files = ia_files_new(&o, &e);
    return x->files ? 0 : -1;
}

#define FX_OPEN(x, ...)                                              \
    do {                                                             \
        int o_ = fx_open(x, __VA_ARGS__, ia_failed_);                \
        if (o_ == 1) return;                                         \
        IA_CHECK(o_ == 0);                                           \
    } while (0)

static void fx_close(fx *x) {
    ia_files_free(x->files);
    ia_store_close(x->store);
}

static int blobs_in(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

/* Writes data[off..off+n) through one writer; finalize at the end if asked. */
static int put(fx *x, const char *owner, const char *uid, int64_t off, const char *data, size_t n, bool fin,
               ia_file *out, ia_err *e) {
    ia_files_writer *w;
    if (ia_files_write_open(x->files, owner, uid, off, (int64_t)n, &w, e) < 0) return -1;
    for (size_t i = 0; i < n; i += 3)
        if (ia_files_write(w, data + i, n - i < 3 ? n - i : 3, e) < 0) {
            ia_files_write_close(w, false, NULL, NULL);
            return -1;
        }
    return ia_files_write_close(w, fin, out, e);
}

IA_STORE_TEST(files_upload_roundtrip) {
    fx x;
    FX_OPEN(&x, "rt", 0, 0, 0);
    const char *text = "hello, files \xE2\x9C\x93\n";
    size_t n = strlen(text);
    ia_file_start st = {.display_name = "greeting", .mime_type = "text/plain", .size = (int64_t)n};
    ia_file up, f;
    ia_err e;
    IA_CHECK(ia_files_start(x.files, "k1", &st, &up, &e) == 0);
    IA_CHECK(up.state == IA_FILE_UPLOADING && strlen(up.id) == 12 && strlen(up.upload_id) == 32);
    IA_CHECK(up.expires == up.created + IA_FILES_DEFAULT_TTL);
    /* not visible before it is finalized */
    IA_CHECK(ia_files_get(x.files, "k1", up.id, &f, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(put(&x, "k1", up.upload_id, 0, text, 5, false, &f, &e) == 0);
    IA_CHECK(f.state == IA_FILE_UPLOADING && f.size == 5);
    ia_file_free(&f);
    /* past the bytes received: refused, saying where to resume */
    IA_CHECK(put(&x, "k1", up.upload_id, 6, text + 6, 2, false, &f, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "past the 5 bytes received");
    /* a chunk sent again from an earlier offset replaces what followed it */
    IA_CHECK(put(&x, "k1", up.upload_id, 2, "XXXXXXXX", 8, false, &f, &e) == 0 && f.size == 10);
    ia_file_free(&f);
    IA_CHECK(put(&x, "k1", up.upload_id, 2, text + 2, 4, false, &f, &e) == 0 && f.size == 6);
    ia_file_free(&f);
    /* finalize before every byte is in: refused, the upload stays open */
    IA_CHECK(ia_files_finalize(x.files, "k1", up.upload_id, &f, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "finalize after 6 bytes, but");
    IA_CHECK(put(&x, "k1", up.upload_id, 6, text + 6, n - 6, true, &f, &e) == 0);
    IA_CHECK(f.state == IA_FILE_ACTIVE && f.size == (int64_t)n && !f.error);
    char hex[65];
    ia_sha256_hex(text, n, hex);
    IA_CHECK_STREQ(f.sha256, hex);
    ia_file_free(&f);
    IA_CHECK(ia_files_get(x.files, "k1", up.id, &f, &e) == 0 && f.state == IA_FILE_ACTIVE);
    IA_CHECK_STREQ(f.display_name, "greeting");
    IA_CHECK_STREQ(f.sha256, hex);
    ia_file_free(&f);
    /* a second finalize gives the file again; more bytes are refused */
    IA_CHECK(ia_files_finalize(x.files, "k1", up.upload_id, &f, &e) == 0 && f.state == IA_FILE_ACTIVE);
    ia_file_free(&f);
    IA_CHECK(put(&x, "k1", up.upload_id, (int64_t)n, "x", 1, false, &f, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "already finalized");
    /* another owner sees nothing */
    IA_CHECK(ia_files_get(x.files, "k2", up.id, &f, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(ia_files_delete(x.files, "k2", up.id, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(ia_files_upload(x.files, "k2", up.upload_id, &f, &e) < 0 && e.code == IA_ENOTFOUND);
    IA_CHECK(blobs_in(x.dir) == 1);
    IA_CHECK(ia_files_delete(x.files, "k1", up.id, &e) == 0);
    IA_CHECK(blobs_in(x.dir) == 0);
    IA_CHECK(ia_files_get(x.files, "k1", up.id, &f, &e) < 0 && e.code == IA_ENOTFOUND);
    ia_file_free(&up);
    fx_close(&x);
}

IA_STORE_TEST(files_failed_and_refused) {
    fx x;
    FX_OPEN(&x, "bad", 100, 250, 0);
    ia_file up, f;
    ia_err e;
    ia_file_start st = {.mime_type = "image/png", .size = 8};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) == 0);
    IA_CHECK(put(&x, "k", up.upload_id, 0, "GIF89a..", 8, true, &f, &e) == 0);
    IA_CHECK(f.state == IA_FILE_FAILED && f.sha256[0]);
    IA_CHECK_CONTAINS(f.error, "not image/png");
    ia_file_free(&f);
    ia_file_free(&up);
    /* refused at start */
    st = (ia_file_start){.mime_type = "application/octet-stream", .size = 3};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "is not accepted");
    st = (ia_file_start){.size = 3};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "x-goog-upload-header-content-type: required");
    st = (ia_file_start){.mime_type = "text/plain", .size = 0};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) < 0);
    IA_CHECK_CONTAINS(e.msg, "empty");
    st = (ia_file_start){.mime_type = "text/plain", .size = 101};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) < 0 && e.code == IA_ETOOLARGE);
    IA_CHECK_CONTAINS(e.msg, "--max-file-size");
    /* the quota: 8 bytes held, 250 allowed */
    st = (ia_file_start){.mime_type = "text/plain", .size = 100};
    ia_file a, b;
    IA_CHECK(ia_files_start(x.files, "k", &st, &a, &e) == 0);
    IA_CHECK(ia_files_start(x.files, "k", &st, &b, &e) == 0);
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) < 0 && e.code == IA_ETOOLARGE);
    IA_CHECK_CONTAINS(e.msg, "storage quota exceeded");
    IA_CHECK_CONTAINS(e.msg, "42 bytes left");
    /* another key has its own quota */
    IA_CHECK(ia_files_start(x.files, "other", &st, &up, &e) == 0);
    ia_file_free(&up);
    /* unannounced size: the limit bites while writing */
    IA_CHECK(ia_files_cancel(x.files, "k", b.upload_id, &e) == 0);
    st = (ia_file_start){.mime_type = "text/plain", .size = -1};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) == 0);
    char big[150];
    memset(big, 'a', sizeof big);
    IA_CHECK(put(&x, "k", up.upload_id, 0, big, 101, false, &f, &e) < 0 && e.code == IA_ETOOLARGE);
    ia_files_writer *w;
    IA_CHECK(ia_files_write_open(x.files, "k", up.upload_id, 0, -1, &w, &e) == 0);
    IA_CHECK(ia_files_write(w, big, 100, &e) == 0);
    IA_CHECK(ia_files_write(w, big, 1, &e) < 0 && e.code == IA_ETOOLARGE);
    ia_files_write_close(w, false, NULL, NULL);
    ia_file_free(&up);
    /* announced size: a chunk past it, or more bytes than it */
    st = (ia_file_start){.mime_type = "text/plain", .size = 4};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) == 0);
    IA_CHECK(put(&x, "k", up.upload_id, 0, "12345", 5, false, &f, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "past the 4 bytes announced");
    IA_CHECK(ia_files_write_open(x.files, "k", up.upload_id, 0, -1, &w, &e) == 0);
    IA_CHECK(ia_files_write(w, "12345", 5, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "more bytes than the 4 announced");
    ia_files_write_close(w, false, NULL, NULL);
    ia_file_free(&up);
    ia_file_free(&a);
    ia_file_free(&b);
    fx_close(&x);
}

IA_STORE_TEST(files_one_writer_and_resume) {
    fx x;
    FX_OPEN(&x, "busy", 0, 0, 0);
    ia_file up, f;
    ia_err e;
    ia_file_start st = {.mime_type = "text/plain", .size = 10, .id = "my-notes"};
    IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) == 0);
    IA_CHECK_STREQ(up.id, "my-notes");
    ia_file dup;
    IA_CHECK(ia_files_start(x.files, "k", &st, &dup, &e) < 0 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "files/my-notes already exists");
    /* another key may use the same name */
    IA_CHECK(ia_files_start(x.files, "k2", &st, &dup, &e) == 0);
    ia_file_free(&dup);
    ia_files_writer *w, *w2;
    IA_CHECK(ia_files_write_open(x.files, "k", up.upload_id, 0, 10, &w, &e) == 0);
    IA_CHECK(ia_files_write(w, "01234", 5, &e) == 0);
    IA_CHECK(ia_files_write_open(x.files, "k", up.upload_id, 0, 10, &w2, &e) < 0 && e.code == IA_ECONFLICT);
    IA_CHECK(ia_files_cancel(x.files, "k", up.upload_id, &e) < 0 && e.code == IA_ECONFLICT);
    /* the client leaves mid-chunk: the bytes that arrived stay */
    IA_CHECK(ia_files_write_close(w, false, NULL, &e) == 0);
    IA_CHECK(ia_files_upload(x.files, "k", up.upload_id, &f, &e) == 0 && f.size == 5);
    ia_file_free(&f);
    /* ... also across a restart of the service */
    ia_files_free(x.files);
    ia_files_opts o = {.store = x.store, .dir = x.dir};
    x.files = ia_files_new(&o, &e);
    IA_CHECK(x.files);
    IA_CHECK(put(&x, "k", up.upload_id, 5, "56789", 5, true, &f, &e) == 0);
    IA_CHECK(f.state == IA_FILE_ACTIVE && f.size == 10);
    ia_file_free(&f);
    ia_file_free(&up);
    fx_close(&x);
}

IA_STORE_TEST(files_list_pages_sweep_orphans) {
    fx x;
    FX_OPEN(&x, "list", 0, 0, 0);
    ia_err e;
    char ids[7][IA_FILE_ID_MAX];
    for (int i = 0; i < 7; i++) {
        ia_file up, f;
        ia_file_start st = {.mime_type = "text/plain", .size = 2};
        IA_CHECK(ia_files_start(x.files, "k", &st, &up, &e) == 0);
        IA_CHECK(put(&x, "k", up.upload_id, 0, "hi", 2, true, &f, &e) == 0);
        snprintf(ids[i], sizeof ids[i], "%s", f.id);
        ia_file_free(&f);
        ia_file_free(&up);
    }
    /* an upload in progress is not listed */
    ia_file pending;
    ia_file_start st = {.mime_type = "text/plain", .size = 2};
    IA_CHECK(ia_files_start(x.files, "k", &st, &pending, &e) == 0);
    int64_t after = 0, next = 0;
    int seen = 0, pages = 0;
    do {
        ia_file *page;
        size_t n;
        IA_CHECK(ia_files_list(x.files, "k", after, 3, &page, &n, &next, &e) == 0);
        for (size_t i = 0; i < n; i++, seen++) IA_CHECK_STREQ(page[i].id, ids[6 - seen]); /* newest first */
        ia_files_list_free(page, n);
        after = next;
        pages++;
    } while (next && pages < 10);
    IA_CHECK(seen == 7 && pages == 3);
    ia_file *page;
    size_t n;
    IA_CHECK(ia_files_list(x.files, "nobody", 0, 3, &page, &n, &next, &e) == 0 && n == 0 && next == 0);
    ia_files_list_free(page, n);
    /* the sweep: everything expired goes with its blob */
    IA_CHECK(blobs_in(x.dir) == 8);
    IA_CHECK(ia_files_sweep(x.files, ia_now()) == 0);
    IA_CHECK(ia_files_sweep(x.files, ia_now() + IA_FILES_DEFAULT_TTL + 1) == 8);
    IA_CHECK(blobs_in(x.dir) == 0);
    ia_file_free(&pending);
    /* a blob no row names (a crash) is removed when the service starts */
    char orphan[700];
    snprintf(orphan, sizeof orphan, "%s/0123456789abcdef0123456789abcdef", x.dir);
    FILE *fp = fopen(orphan, "w");
    IA_CHECK(fp);
    fclose(fp);
    char keep[700];
    snprintf(keep, sizeof keep, "%s/README", x.dir);
    fp = fopen(keep, "w");
    IA_CHECK(fp);
    fclose(fp);
    ia_files_free(x.files);
    ia_files_opts o = {.store = x.store, .dir = x.dir};
    x.files = ia_files_new(&o, &e);
    IA_CHECK(x.files);
    IA_CHECK(access(orphan, F_OK) != 0 && access(keep, F_OK) == 0);
    fx_close(&x);
}
