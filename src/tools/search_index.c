/* search_index.c: google_search's embedded backend — a full-text index
 * (SQLite FTS5, bm25 ranking, snippets) over folders of the operator's
 * documents: plain text and Markdown (.txt .text .md .markdown .rst) and
 * HTML (.html .htm .xhtml, read as text by html.h). PDFs are not indexed
 * yet: their reader (core/pdf.h) sits above tools/.
 *
 * The index is a SQLite file of its own (never the interactions'
 * database): `files` (path, mtime, size, the scan that last saw it) and
 * the FTS5 table `docs` (title, body) sharing its rowid. A scan walks the
 * folders (hidden entries and symbolic links skipped), re-reads a file
 * whose mtime or size changed, and drops the files it no longer finds,
 * in one transaction; it runs before the server starts serving and then
 * every rescan_s seconds on a thread of its own. Queries use their own
 * connection (WAL: a scan never blocks them). A hit's url is the file's
 * `file://` URL (its absolute path, percent-encoded). */
#include <dirent.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "tools/html.h"
#include "tools/search_int.h"

#define INDEX_MAX_FILE ((off_t)16 << 20) /* larger files are not read */
#define INDEX_MAX_TEXT ((size_t)2 << 20) /* text kept of one file */
#define INDEX_MAX_DEPTH 32

typedef struct idx {
    char **dirs;
    size_t n_dirs;
    sqlite3 *qdb, *sdb;          /* queries' connection; scans' connection */
    pthread_mutex_t qmu, smu;    /* one user of each at a time */
    pthread_mutex_t mu;          /* guards stop */
    pthread_cond_t cv;
    bool stop, started;
    int rescan_s;
    pthread_t th;
    int64_t gen;                 /* the scan under way */
} idx;

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, "
    "  mtime INTEGER NOT NULL, size INTEGER NOT NULL, gen INTEGER NOT NULL);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(title, body, tokenize='unicode61 remove_diacritics 2');";

/* ---- reading a file ------------------------------------------------------------ */

static bool has_ext(const char *name, const char *const *exts) {
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && exts[i]; i++)
        if (strcasecmp(dot + 1, exts[i]) == 0) return true;
    return false;
}
static const char *const TEXT_EXTS[] = {"txt", "text", "md", "markdown", "rst", NULL};
static const char *const HTML_EXTS[] = {"html", "htm", "xhtml", NULL};

/* The file at path, if it is still the regular file lstat saw (want):
 * opened without following a link and without blocking (a name swapped
 * for a link, a FIFO or a device between the walk and the open is
 * refused), read to at most INDEX_MAX_FILE bytes. */
static char *slurp(const char *path, const struct stat *want, size_t *len) {
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
        close(fd);
        return NULL;
    }
    ia_buf b;
    ia_buf_init(&b, 0);
    char chunk[65536];
    ssize_t n;
    while (b.len < (size_t)INDEX_MAX_FILE && (n = read(fd, chunk, sizeof chunk)) > 0) ia_buf_append(&b, chunk, (size_t)n);
    close(fd);
    if (b.len > (size_t)INDEX_MAX_FILE) b.len = (size_t)INDEX_MAX_FILE, b.data[b.len] = 0;
    *len = b.len;
    char *s = ia_buf_take(&b);
    return s ? s : ia_strdup("");
}

/* A Markdown file's title: its first heading line ("# Title"). */
static char *markdown_title(const char *text) {
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 2 && p[0] == '#') {
            size_t k = 0;
            while (k < n && p[k] == '#') k++;
            while (k < n && p[k] == ' ') k++;
            if (k < n) return ia_strndup(p + k, n - k);
        }
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

/* The file's title and text; -1 when it cannot be read. */
static int read_doc(const char *path, const struct stat *st, char **title, char **text) {
    size_t len = 0;
    char *raw = slurp(path, st, &len);
    if (!raw) return -1;
    *title = NULL;
    if (has_ext(path, HTML_EXTS)) {
        *text = ia_html_text(raw, len, INDEX_MAX_TEXT, title);
    } else {
        *text = ia_utf8_sanitize(raw, len < INDEX_MAX_TEXT ? len : ia_utf8_complete_prefix(raw, INDEX_MAX_TEXT));
        *title = markdown_title(*text);
    }
    free(raw);
    if (!*title || !**title) {
        free(*title);
        const char *base = strrchr(path, '/');
        *title = ia_strdup(base ? base + 1 : path);
    }
    return 0;
}

/* ---- scanning ---------------------------------------------------------------------- */

static int exec_sql(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1; }

/* The file's row id when it is indexed as it is now (its gen updated); 0
 * when it must be read again (*old: its row id, or 0 when new). */
static int64_t unchanged(idx *x, const char *path, const struct stat *st, int64_t *old) {
    sqlite3_stmt *q = NULL;
    int64_t id = 0;
    *old = 0;
    sqlite3_prepare_v2(x->sdb, "SELECT id, mtime, size FROM files WHERE path = ?", -1, &q, NULL);
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        *old = sqlite3_column_int64(q, 0);
        int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
        if (sqlite3_column_int64(q, 1) == mt && sqlite3_column_int64(q, 2) == (int64_t)st->st_size) id = *old;
    }
    sqlite3_finalize(q);
    if (id) {
        sqlite3_prepare_v2(x->sdb, "UPDATE files SET gen = ? WHERE id = ?", -1, &q, NULL);
        sqlite3_bind_int64(q, 1, x->gen);
        sqlite3_bind_int64(q, 2, id);
        sqlite3_step(q);
        sqlite3_finalize(q);
    }
    return id;
}

static void run_stmt(sqlite3 *db, const char *sql, int64_t a, int64_t b) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return;
    sqlite3_bind_int64(q, 1, a);
    if (sqlite3_bind_parameter_count(q) > 1) sqlite3_bind_int64(q, 2, b);
    sqlite3_step(q);
    sqlite3_finalize(q);
}

/* One file into the index (again). Returns 1 when it was (re)read. */
static int index_file(idx *x, const char *path, const struct stat *st) {
    int64_t old = 0;
    if (unchanged(x, path, st, &old)) return 0;
    char *title = NULL, *text = NULL;
    if (read_doc(path, st, &title, &text) != 0) return 0;
    int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    if (old) run_stmt(x->sdb, "DELETE FROM docs WHERE rowid = ?", old, 0);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(x->sdb,
                       "INSERT INTO files(path, mtime, size, gen) VALUES (?, ?, ?, ?) ON CONFLICT(path) DO "
                       "UPDATE SET mtime = excluded.mtime, size = excluded.size, gen = excluded.gen RETURNING id",
                       -1, &q, NULL);
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, mt);
    sqlite3_bind_int64(q, 3, (int64_t)st->st_size);
    sqlite3_bind_int64(q, 4, x->gen);
    int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (id) {
        sqlite3_prepare_v2(x->sdb, "INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", -1, &q, NULL);
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_text(q, 2, title, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
        sqlite3_step(q);
        sqlite3_finalize(q);
    }
    free(title);
    free(text);
    return id ? 1 : 0;
}

static int walk(idx *x, const char *dir, int depth) {
    /* never through a link: a folder swapped for one after lstat is refused */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0) close(dfd);
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* hidden, and . and .. */
        char *p = ia_asprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode) && depth < INDEX_MAX_DEPTH) n += walk(x, p, depth + 1);
            else if (S_ISREG(st.st_mode) && st.st_size <= INDEX_MAX_FILE &&
                     (has_ext(e->d_name, TEXT_EXTS) || has_ext(e->d_name, HTML_EXTS)))
                n += index_file(x, p, &st);
        }
        free(p);
    }
    closedir(d);
    return n;
}

int ia_index_rescan(void *self) {
    idx *x = self;
    pthread_mutex_lock(&x->smu);
    x->gen++;
    int n = -1;
    if (exec_sql(x->sdb, "BEGIN IMMEDIATE") == 0) {
        n = 0;
        for (size_t i = 0; i < x->n_dirs; i++) n += walk(x, x->dirs[i], 0);
        /* what the walk did not see is gone */
        run_stmt(x->sdb, "DELETE FROM docs WHERE rowid IN (SELECT id FROM files WHERE gen <> ?)", x->gen, 0);
        run_stmt(x->sdb, "DELETE FROM files WHERE gen <> ?", x->gen, 0);
        if (exec_sql(x->sdb, "COMMIT") != 0) {
            ia_warn("search index: a scan could not be saved: %s", sqlite3_errmsg(x->sdb));
            exec_sql(x->sdb, "ROLLBACK");
            n = -1;
        }
    }
    pthread_mutex_unlock(&x->smu);
    return n;
}

static void *rescan_main(void *arg) {
    idx *x = arg;
    pthread_mutex_lock(&x->mu);
    while (!x->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += x->rescan_s;
        while (!x->stop && pthread_cond_timedwait(&x->cv, &x->mu, &until) != ETIMEDOUT) {
        }
        if (x->stop) break;
        pthread_mutex_unlock(&x->mu);
        int n = ia_index_rescan(x);
        if (n > 0) ia_debug("search index: %d file(s) read again", n);
        pthread_mutex_lock(&x->mu);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ---- querying ------------------------------------------------------------------------- */

char *ia_index_match(const char *q) {
    ia_buf b;
    ia_buf_init(&b, 0);
    int words = 0;
    for (const unsigned char *p = (const unsigned char *)q; *p && words < 32;) {
        size_t n = 0;
        while (p[n] && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
                        p[n] >= 0x80))
            n++;
        if (n) {
            ia_buf_printf(&b, "%s\"%.*s\"", words++ ? " OR " : "", (int)n, (const char *)p);
            p += n;
        } else {
            p++;
        }
    }
    if (!words) {
        ia_buf_free(&b);
        return NULL;
    }
    return ia_buf_take(&b);
}

/* file:// and the absolute path, percent-encoded but for its slashes. */
static char *file_url(const char *path) {
    static const char hex[] = "0123456789ABCDEF";
    ia_buf b;
    ia_buf_init(&b, 0);
    ia_buf_puts(&b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
            ia_buf_append(&b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ia_buf_append(&b, e, 3);
        }
    }
    return ia_buf_take(&b);
}

static int index_query(void *self, const char *q, bool images, size_t max, atomic_bool *cancel, ia_search_hits *out,
                       ia_err *err) {
    (void)cancel; /* a local index answers in milliseconds */
    (void)images; /* documents have no images to find */
    idx *x = self;
    char *match = ia_index_match(q);
    if (!match) return 0;
    pthread_mutex_lock(&x->qmu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(x->qdb,
                                "SELECT files.path, docs.title, snippet(docs, 1, '', '', ' … ', 24) FROM docs "
                                "JOIN files ON files.id = docs.rowid WHERE docs MATCH ? "
                                "ORDER BY bm25(docs, 5.0, 1.0) LIMIT ?",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)max);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            char *url = file_url((const char *)sqlite3_column_text(st, 0));
            ia_search_hits_add(out, url, (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2));
            free(url);
        }
    }
    int ok = rc == SQLITE_DONE;
    if (!ok) ia_fail(err, IA_EINTERNAL, "the local index could not be searched: %s", sqlite3_errmsg(x->qdb));
    sqlite3_finalize(st);
    pthread_mutex_unlock(&x->qmu);
    free(match);
    return ok ? 0 : -1;
}

/* ---- life --------------------------------------------------------------------------- */

static void index_destroy(void *self) {
    idx *x = self;
    if (!x) return;
    if (x->started) {
        pthread_mutex_lock(&x->mu);
        x->stop = true;
        pthread_cond_broadcast(&x->cv);
        pthread_mutex_unlock(&x->mu);
        pthread_join(x->th, NULL);
    }
    sqlite3_close(x->qdb);
    sqlite3_close(x->sdb);
    for (size_t i = 0; i < x->n_dirs; i++) free(x->dirs[i]);
    free(x->dirs);
    pthread_mutex_destroy(&x->qmu);
    pthread_mutex_destroy(&x->smu);
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
}

static int open_db(const char *path, sqlite3 **db, ia_err *err) {
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return ia_fail(err, IA_EINTERNAL, "--search-index: cannot open %s: %s", path, sqlite3_errmsg(*db));
    sqlite3_busy_timeout(*db, 10000);
    if (exec_sql(*db, SCHEMA) != 0)
        return ia_fail(err, IA_EINTERNAL, "--search-index: cannot set up %s: %s", path, sqlite3_errmsg(*db));
    return 0;
}

int ia_index_open(const char *const *dirs, size_t n_dirs, const char *path, int rescan_s, ia_search_backend *out,
                  ia_err *err) {
    idx *x = ia_xcalloc(1, sizeof *x);
    pthread_mutex_init(&x->qmu, NULL);
    pthread_mutex_init(&x->smu, NULL);
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    x->rescan_s = rescan_s > 0 ? rescan_s : 30;
    x->dirs = ia_xcalloc(n_dirs, sizeof *x->dirs);
    for (size_t i = 0; i < n_dirs; i++) {
        char real[PATH_MAX];
        struct stat st;
        if (!realpath(dirs[i], real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
            ia_fail(err, IA_EINVALID, "--search-index: '%s' is not a folder that can be read", dirs[i]);
            index_destroy(x);
            return -1;
        }
        x->dirs[x->n_dirs++] = ia_strdup(real);
    }
    if (open_db(path, &x->sdb, err) != 0 || open_db(path, &x->qdb, err) != 0) {
        index_destroy(x);
        return -1;
    }
    int n = ia_index_rescan(x);
    ia_info("search index: %d file(s) read into %s", n, path);
    if (pthread_create(&x->th, NULL, rescan_main, x) != 0) {
        index_destroy(x);
        return ia_fail(err, IA_EINTERNAL, "--search-index: could not start its rescan thread");
    }
    x->started = true;
    *out = (ia_search_backend){.kind = "index", .self = x, .query = index_query, .destroy = index_destroy};
    return 0;
}
