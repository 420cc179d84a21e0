/* files: the Files API service of files.h — blobs on disk, rows in the store,
 * the writers of the resumable protocol, the finalize pass (SHA-256 and the
 * content check in one read of the blob), quotas and expiry. The only state
 * held in memory is the set of uploads with a writer open (so two requests
 * never write one blob at once); everything else is in the store and on
 * disk, so an upload survives a restart. */
#include "core/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/filecheck.h"
#include "lib/log.h"
#include "lib/util.h"

/* The finalize pass reads the blob in pieces of this size: memory stays
 * flat whatever the file's size. */
#define READ_PIECE ((size_t)256 << 10)

typedef struct busy {
    char upload_id[IA_FILE_UPLOAD_ID_MAX];
    struct busy *next;
} busy;

struct ia_files {
    ia_store *store;
    char *dir;
    int64_t max_size, quota, ttl_s;
    /* mu guards `writing`, and is held across a start's or an open's quota
     * check and what it commits, so two uploads racing for the last bytes of
     * a quota cannot both pass. */
    pthread_mutex_t mu;
    busy *writing;
};

struct ia_files_writer {
    ia_files *f;
    ia_file file;    /* the upload's row as opened */
    int fd;
    int64_t pos;     /* bytes in the blob */
    int64_t limit;   /* the blob may not pass this */
    ia_errcode limit_code;
    char limit_why[200];
    bool spent;
};

/* ---- helpers -------------------------------------------------------------- */

static char *blob_path(const ia_files *f, const char *blob) { return ia_asprintf("%s/%s", f->dir, blob); }

static void blob_remove(const ia_files *f, const char *blob) {
    if (!blob || !*blob) return;
    char *p = blob_path(f, blob);
    if (unlink(p) < 0 && errno != ENOENT) ia_warn("files: cannot remove %s: %s", p, strerror(errno));
    free(p);
}

static bool is_blob_name(const char *s) {
    size_t n = strlen(s);
    if (n != 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i])) return false;
    return true;
}

bool ia_file_id_valid(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > IA_FILE_ID_MAX - 1 || id[0] == '-' || id[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-')) return false;
    return true;
}

/* n random characters of alphabet into out (rejection sampling: no bias). */
static void random_chars(char *out, size_t n, const char *alphabet) {
    size_t k = strlen(alphabet), lim = 256 - 256 % k, i = 0;
    while (i < n) {
        unsigned char b[32];
        ia_random(b, sizeof b);
        for (size_t j = 0; j < sizeof b && i < n; j++)
            if (b[j] < lim) out[i++] = alphabet[b[j] % k];
    }
    out[n] = '\0';
}

static bool busy_has(ia_files *f, const char *upload_id) {
    for (busy *b = f->writing; b; b = b->next)
        if (!strcmp(b->upload_id, upload_id)) return true;
    return false;
}

static void busy_drop(ia_files *f, const char *upload_id) {
    pthread_mutex_lock(&f->mu);
    for (busy **p = &f->writing; *p; p = &(*p)->next)
        if (!strcmp((*p)->upload_id, upload_id)) {
            busy *b = *p;
            *p = b->next;
            free(b);
            break;
        }
    pthread_mutex_unlock(&f->mu);
}

static void fmt_bytes(int64_t n, char out[32]) {
    if (n >= ((int64_t)1 << 30) && n % ((int64_t)1 << 30) == 0) snprintf(out, 32, "%lld GiB", (long long)(n >> 30));
    else if (n >= ((int64_t)1 << 20) && n % ((int64_t)1 << 20) == 0) snprintf(out, 32, "%lld MiB", (long long)(n >> 20));
    else snprintf(out, 32, "%lld bytes", (long long)n);
}

/* The room an owner has left, leaving out upload except: -1 on a store error. */
static int room(ia_files *f, const char *owner, const char *except, int64_t *left, ia_err *err) {
    int64_t used = 0;
    if (ia_store_file_usage(f->store, owner, ia_now(), except, &used, err) < 0) return -1;
    *left = f->quota - used;
    return 0;
}

static int too_large(ia_files *f, int64_t size, ia_err *err) {
    char lim[32];
    fmt_bytes(f->max_size, lim);
    return ia_fail(err, IA_ETOOLARGE, "the file's %lld bytes are over the limit of %s a file "
                   "(--max-file-size)", (long long)size, lim);
}

static int over_quota(ia_files *f, int64_t want, int64_t left, ia_err *err) {
    char q[32];
    fmt_bytes(f->quota, q);
    return ia_fail(err, IA_ETOOLARGE, "storage quota exceeded: %lld more bytes do not fit in this key's "
                   "%s (--files-quota; %lld bytes left); delete files or wait for them to expire",
                   (long long)want, q, (long long)(left > 0 ? left : 0));
}

/* ---- life ------------------------------------------------------------------ */

/* Blobs no row names: a crash between a row's delete and its blob's. */
static void remove_orphans(ia_files *f) {
    DIR *d = opendir(f->dir);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (!is_blob_name(e->d_name)) continue;
        bool known = true;
        ia_err err;
        if (ia_store_file_blob_known(f->store, e->d_name, &known, &err) == 0 && !known) {
            blob_remove(f, e->d_name);
            n++;
        }
    }
    closedir(d);
    if (n) ia_info("files: removed %d blob(s) left by an earlier run", n);
}

ia_files *ia_files_new(const ia_files_opts *o, ia_err *err) {
    if (!o->store || !o->dir) {
        ia_fail(err, IA_EINTERNAL, "files: no store or folder");
        return NULL;
    }
    if (mkdir(o->dir, 0700) < 0 && errno != EEXIST) {
        ia_fail(err, IA_EINTERNAL, "files: cannot create %s: %s", o->dir, strerror(errno));
        return NULL;
    }
    ia_files *f = ia_xcalloc(1, sizeof *f);
    f->store = o->store;
    f->dir = ia_strdup(o->dir);
    f->max_size = o->max_file_size > 0 ? o->max_file_size : IA_FILES_DEFAULT_MAX;
    f->quota = o->quota > 0 ? o->quota : IA_FILES_DEFAULT_QUOTA;
    f->ttl_s = o->ttl_s > 0 ? o->ttl_s : IA_FILES_DEFAULT_TTL;
    pthread_mutex_init(&f->mu, NULL);
    remove_orphans(f);
    return f;
}

void ia_files_free(ia_files *f) {
    if (!f) return;
    while (f->writing) {
        busy *b = f->writing;
        f->writing = b->next;
        free(b);
    }
    pthread_mutex_destroy(&f->mu);
    free(f->dir);
    free(f);
}

int64_t ia_files_max_size(const ia_files *f) { return f->max_size; }
int64_t ia_files_quota(const ia_files *f) { return f->quota; }

/* ---- start ----------------------------------------------------------------- */

int ia_files_start(ia_files *f, const char *owner, const ia_file_start *s, ia_file *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    if (!s->mime_type || !*s->mime_type)
        return ia_fail(err, IA_EINVALID, "x-goog-upload-header-content-type: required (the file's mime "
                       "type; or file.mimeType in the body)");
    if (ia_filecheck_kind(s->mime_type, NULL) == IA_MEDIA_NONE)
        return ia_fail(err, IA_EINVALID, "mime type '%.100s' is not accepted; upload %s", s->mime_type,
                       ia_filecheck_accepted());
    if (s->size == 0)
        return ia_fail(err, IA_EINVALID, "x-goog-upload-header-content-length: the file is empty; a file "
                       "has at least 1 byte");
    if (s->size > f->max_size) return too_large(f, s->size, err);
    if (s->id && !ia_file_id_valid(s->id))
        return ia_fail(err, IA_EINVALID, "file.name: 'files/%.60s' is not a valid name (1 to 40 of a-z, "
                       "0-9 and '-', not starting or ending with '-')", s->id);
    ia_file *u = out;
    u->owner = ia_strdup(owner ? owner : "");
    u->display_name = s->display_name ? ia_strdup(s->display_name) : NULL;
    u->mime_type = ia_strdup(s->mime_type);
    u->state = IA_FILE_UPLOADING;
    u->declared = s->size;
    u->created = u->updated = ia_now();
    u->expires = u->created + f->ttl_s;
    random_chars(u->upload_id, 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    random_chars(u->blob, 32, "0123456789abcdef");
    char *path = blob_path(f, u->blob);
    int rc = -1;
    pthread_mutex_lock(&f->mu);
    int64_t left = 0;
    if (room(f, owner, NULL, &left, err) < 0) goto out;
    if (s->size > left) {
        over_quota(f, s->size, left, err);
        goto out;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        ia_fail(err, IA_EINTERNAL, "files: cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    close(fd);
    /* A made-up id that happens to be taken is made again; a chosen one
     * that is taken is the client's error. */
    for (int tries = 0; tries < 5; tries++) {
        if (s->id) snprintf(u->id, sizeof u->id, "%s", s->id);
        else random_chars(u->id, 12, "abcdefghijklmnopqrstuvwxyz0123456789");
        char old[48];
        ia_err e;
        ia_err_clear(&e);
        rc = ia_store_file_insert(f->store, u, u->created, old, &e);
        if (rc == 0) blob_remove(f, old);
        if (rc < 0 && err) *err = e;
        if (rc == 0 || s->id || e.code != IA_EINVALID) break;
    }
    if (rc < 0) unlink(path);
out:
    pthread_mutex_unlock(&f->mu);
    free(path);
    if (rc < 0) ia_file_free(out);
    return rc;
}

int ia_files_upload(ia_files *f, const char *owner, const char *upload_id, ia_file *out, ia_err *err) {
    return ia_store_file_by_upload(f->store, owner, upload_id, ia_now(), out, err);
}

/* ---- writers ----------------------------------------------------------------- */

int ia_files_write_open(ia_files *f, const char *owner, const char *upload_id, int64_t offset,
                        int64_t length, ia_files_writer **wp, ia_err *err) {
    *wp = NULL;
    ia_files_writer *w = ia_xcalloc(1, sizeof *w);
    w->f = f;
    w->fd = -1;
    int rc = -1;
    pthread_mutex_lock(&f->mu);
    if (ia_store_file_by_upload(f->store, owner, upload_id, ia_now(), &w->file, err) < 0) goto out;
    if (w->file.state != IA_FILE_UPLOADING) {
        ia_fail(err, IA_EINVALID, "this upload is already finalized (files/%s); ask with "
                "x-goog-upload-command: query for the file", w->file.id);
        goto out;
    }
    if (busy_has(f, upload_id)) {
        ia_fail(err, IA_ECONFLICT, "another request is writing to this upload; wait for it to end, then "
                "ask with x-goog-upload-command: query where to resume");
        goto out;
    }
    char *path = blob_path(f, w->file.blob);
    w->fd = open(path, O_WRONLY | O_CLOEXEC);
    struct stat st;
    if (w->fd < 0 || fstat(w->fd, &st) < 0) {
        ia_fail(err, IA_EINTERNAL, "files: cannot open %s: %s", path, strerror(errno));
        free(path);
        goto out;
    }
    free(path);
    int64_t received = (int64_t)st.st_size;
    int64_t end = length >= 0 ? offset + length : offset;
    int64_t left = 0;
    if (offset > received) {
        ia_fail(err, IA_EINVALID, "x-goog-upload-offset: %lld is past the %lld bytes received; ask with "
                "x-goog-upload-command: query and resume from x-goog-upload-size-received",
                (long long)offset, (long long)received);
        goto out;
    }
    if (w->file.declared >= 0 && end > w->file.declared) {
        ia_fail(err, IA_EINVALID, "the chunk would end at byte %lld, past the %lld bytes announced in "
                "x-goog-upload-header-content-length", (long long)end, (long long)w->file.declared);
        goto out;
    }
    if (end > f->max_size) {
        too_large(f, end, err);
        goto out;
    }
    if (room(f, owner, upload_id, &left, err) < 0) goto out;
    if (end > left) {
        over_quota(f, end, left, err);
        goto out;
    }
    /* An earlier offset sends bytes again: what lies past it goes. */
    if ((offset < received && ftruncate(w->fd, (off_t)offset) < 0) || lseek(w->fd, (off_t)offset, SEEK_SET) < 0) {
        ia_fail(err, IA_EINTERNAL, "files: cannot rewind the upload: %s", strerror(errno));
        goto out;
    }
    w->pos = offset;
    /* The tightest bound decides, and its message is the one given. */
    w->limit = f->max_size;
    w->limit_code = IA_ETOOLARGE;
    snprintf(w->limit_why, sizeof w->limit_why, "--max-file-size");
    if (left < w->limit) {
        w->limit = left;
        snprintf(w->limit_why, sizeof w->limit_why, "--files-quota");
    }
    if (w->file.declared >= 0 && w->file.declared <= w->limit) {
        w->limit = w->file.declared;
        w->limit_code = IA_EINVALID;
        snprintf(w->limit_why, sizeof w->limit_why, "x-goog-upload-header-content-length");
    }
    busy *b = ia_xcalloc(1, sizeof *b);
    snprintf(b->upload_id, sizeof b->upload_id, "%s", upload_id);
    b->next = f->writing;
    f->writing = b;
    rc = 0;
out:
    pthread_mutex_unlock(&f->mu);
    if (rc < 0) {
        if (w->fd >= 0) close(w->fd);
        ia_file_free(&w->file);
        free(w);
        return -1;
    }
    *wp = w;
    return 0;
}

int ia_files_write(ia_files_writer *w, const void *p, size_t n, ia_err *err) {
    if (w->spent) return ia_fail(err, IA_EINTERNAL, "files: the upload's writer failed earlier");
    if (w->pos + (int64_t)n > w->limit) {
        w->spent = true;
        if (w->limit_code == IA_EINVALID)
            return ia_fail(err, IA_EINVALID, "the upload got more bytes than the %lld announced in "
                           "x-goog-upload-header-content-length", (long long)w->limit);
        if (!strcmp(w->limit_why, "--files-quota"))
            return over_quota(w->f, w->pos + (int64_t)n, w->limit, err);
        return too_large(w->f, w->pos + (int64_t)n, err);
    }
    const char *b = p;
    while (n) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            w->spent = true;
            return ia_fail(err, IA_EINTERNAL, "files: cannot write the upload: %s",
                           k < 0 ? strerror(errno) : "short write");
        }
        b += k;
        n -= (size_t)k;
        w->pos += k;
    }
    return 0;
}

/* The finalize pass: one read of the blob computes its SHA-256 and feeds the
 * content check; the file ends ACTIVE or FAILED. */
static int process(ia_files *f, ia_file *file, ia_err *err) {
    file->state = IA_FILE_PROCESSING;
    file->updated = ia_now();
    if (ia_store_file_update(f->store, file, err) < 0) return -1;
    char *path = blob_path(f, file->blob);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) return ia_fail(err, IA_EINTERNAL, "files: cannot read the upload: %s", strerror(errno));
    ia_filecheck *chk = ia_xmalloc(sizeof *chk);
    ia_filecheck_init(chk, file->mime_type);
    unsigned char *buf = ia_xmalloc(READ_PIECE);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
    int64_t total = 0;
    while (rc == 0) {
        ssize_t k = read(fd, buf, READ_PIECE);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) rc = ia_fail(err, IA_EINTERNAL, "files: cannot read the upload: %s", strerror(errno));
        if (k <= 0) break;
        EVP_DigestUpdate(md, buf, (size_t)k);
        ia_filecheck_feed(chk, buf, (size_t)k);
        total += k;
    }
    close(fd);
    unsigned char dig[32];
    unsigned dn = 0;
    if (rc == 0 && EVP_DigestFinal_ex(md, dig, &dn) == 1 && dn == 32) {
        for (int i = 0; i < 32; i++) snprintf(file->sha256 + 2 * i, 3, "%02x", dig[i]);
        char why[400];
        file->size = total;
        file->state = ia_filecheck_finish(chk, why, sizeof why) == 0 ? IA_FILE_ACTIVE : IA_FILE_FAILED;
        free(file->error);
        file->error = file->state == IA_FILE_FAILED ? ia_strdup(why) : NULL;
        file->updated = ia_now();
        rc = ia_store_file_update(f->store, file, err);
    } else if (rc == 0) {
        rc = ia_fail(err, IA_EINTERNAL, "files: SHA-256 failed");
    }
    EVP_MD_CTX_free(md);
    free(buf);
    free(chk);
    return rc;
}

int ia_files_write_close(ia_files_writer *w, bool finalize, ia_file *out, ia_err *err) {
    ia_files *f = w->f;
    ia_file *file = &w->file;
    struct stat st;
    int rc = 0;
    if (fstat(w->fd, &st) == 0) file->size = (int64_t)st.st_size;
    close(w->fd);
    file->updated = ia_now();
    if (ia_store_file_update(f->store, file, err) < 0) rc = -1;
    if (rc == 0 && finalize) {
        if (file->declared >= 0 && file->size != file->declared)
            rc = ia_fail(err, IA_EINVALID, "finalize after %lld bytes, but %lld were announced in "
                         "x-goog-upload-header-content-length; send the rest (from x-goog-upload-offset "
                         "%lld), then finalize", (long long)file->size, (long long)file->declared,
                         (long long)file->size);
        else
            rc = process(f, file, err);
    }
    busy_drop(f, file->upload_id);
    if (rc == 0 && out) {
        *out = *file;
        memset(file, 0, sizeof *file);
    }
    ia_file_free(file);
    free(w);
    return rc;
}

int ia_files_finalize(ia_files *f, const char *owner, const char *upload_id, ia_file *out, ia_err *err) {
    ia_file cur;
    if (ia_files_upload(f, owner, upload_id, &cur, err) < 0) return -1;
    if (cur.state != IA_FILE_UPLOADING) {
        *out = cur;
        return 0;
    }
    /* No bytes come: the writer opens where the blob ends. */
    struct stat st;
    char *path = blob_path(f, cur.blob);
    int64_t at = stat(path, &st) == 0 ? (int64_t)st.st_size : cur.size;
    free(path);
    ia_file_free(&cur);
    ia_files_writer *w;
    if (ia_files_write_open(f, owner, upload_id, at, 0, &w, err) < 0) return -1;
    return ia_files_write_close(w, true, out, err);
}

int ia_files_cancel(ia_files *f, const char *owner, const char *upload_id, ia_err *err) {
    pthread_mutex_lock(&f->mu);
    int rc = -1;
    char blob[48] = "";
    if (busy_has(f, upload_id))
        ia_fail(err, IA_ECONFLICT, "another request is writing to this upload; cancel it once that ends");
    else
        rc = ia_store_file_delete(f->store, owner, upload_id, true, ia_now(), blob, err);
    pthread_mutex_unlock(&f->mu);
    if (rc == 0) blob_remove(f, blob);
    return rc;
}

/* ---- files ------------------------------------------------------------------- */

int ia_files_get(ia_files *f, const char *owner, const char *id, ia_file *out, ia_err *err) {
    return ia_store_file_get(f->store, owner, id, ia_now(), out, err);
}

int ia_files_uri_id(const char *uri, char id[IA_FILE_ID_MAX]) {
    if (!uri) return -1;
    const char *p = uri;
    if (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8)) {
        p = strchr(p + (p[4] == 's' ? 8 : 7), '/');
        if (!p) return -1;
        p++;
        /* the version segment: v1, v1beta, v1alpha, ... */
        if (p[0] != 'v' || p[1] < '0' || p[1] > '9') return -1;
        p = strchr(p, '/');
        if (!p) return -1;
        p++;
    }
    if (strncmp(p, "files/", 6) != 0) return -1;
    p += 6;
    size_t n = strcspn(p, "?#");
    if (n == 0 || n >= IA_FILE_ID_MAX || p[n] == '/') return -1;
    memcpy(id, p, n);
    id[n] = '\0';
    return ia_file_id_valid(id) ? 0 : -1;
}

int ia_files_read(ia_files *f, const char *owner, const char *id, int64_t max, ia_file *meta, unsigned char **data,
                  size_t *len, ia_err *err) {
    if (ia_files_get(f, owner, id, meta, err) < 0) return -1;
    if (meta->state != IA_FILE_ACTIVE) {
        ia_fail(err, IA_EINVALID, "files/%s is %s, not ACTIVE%s%s", id, ia_file_state_name(meta->state),
                meta->error ? ": " : "", meta->error ? meta->error : "");
        ia_file_free(meta);
        return -1;
    }
    if (max > 0 && meta->size > max) {
        ia_fail(err, IA_EINVALID, "files/%s is %lld bytes, more than the %lld taken here", id,
                (long long)meta->size, (long long)max);
        ia_file_free(meta);
        return -1;
    }
    char *path = blob_path(f, meta->blob);
    FILE *fp = fopen(path, "rbe"); /* ffmpeg children must not inherit it */
    free(path);
    unsigned char *buf = ia_xmalloc(meta->size > 0 ? (size_t)meta->size : 1);
    size_t got = fp ? fread(buf, 1, (size_t)meta->size, fp) : 0;
    if (fp) fclose(fp);
    if (!fp || got != (size_t)meta->size) {
        free(buf);
        ia_file_free(meta);
        return ia_fail(err, IA_EINTERNAL, "files/%s: its bytes cannot be read", id);
    }
    *data = buf;
    *len = got;
    return 0;
}

int ia_files_list(ia_files *f, const char *owner, int64_t after, int limit, ia_file **out, size_t *n,
                  int64_t *next, ia_err *err) {
    return ia_store_file_list(f->store, owner, ia_now(), after, limit, out, n, next, err);
}

void ia_files_list_free(ia_file *files, size_t n) {
    for (size_t i = 0; i < n; i++) ia_file_free(&files[i]);
    free(files);
}

int ia_files_delete(ia_files *f, const char *owner, const char *id, ia_err *err) {
    char blob[48];
    if (ia_store_file_delete(f->store, owner, id, false, ia_now(), blob, err) < 0) return -1;
    blob_remove(f, blob);
    return 0;
}

int ia_files_sweep(ia_files *f, int64_t now) {
    char **blobs = NULL;
    size_t n = 0;
    ia_err err;
    int rc = ia_store_file_sweep(f->store, now, &blobs, &n, &err);
    if (rc < 0) {
        ia_warn("files: sweep failed: %s", err.msg);
        return -1;
    }
    /* A blob with a writer still open is unlinked under it: the writer's
     * bytes go to a file nobody can reach, and its close finds no row. */
    for (size_t i = 0; i < n; i++) {
        blob_remove(f, blobs[i]);
        free(blobs[i]);
    }
    free(blobs);
    if (rc > 0) ia_info("files: deleted %d expired file(s) and upload(s)", rc);
    return rc;
}
