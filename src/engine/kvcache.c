/* kvcache.c: kept sequences outside the context, in RAM under a budget and
 * in files under the cache folder (see kvcache.h). Entries live in one
 * array scanned linearly: there are tens to hundreds of them, and a scan
 * costs far less than the prefill it saves.
 *
 * File format (host byte order; the cache is local to the machine):
 *   "IAKVC1\0\0", fingerprint (80 bytes, NUL-padded), u32 n_tokens,
 *   u64 state bytes, the tokens, then the state (seqstate.h's form).
 * Files are written to NAME.tmp and renamed, so a crash leaves no torn
 * entry; a file is named by the SHA-256 of its tokens. */
#include "engine/kvcache.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/seqstate.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAGIC "IAKVC1\0\0"
#define FP_LEN 80
#define HEADER_LEN (8 + FP_LEN + 4 + 8)

struct ia_kvc_entry {
    llama_token *toks;
    int n;
    uint8_t *data; /* RAM copy; NULL when only on disk */
    size_t size;   /* state bytes */
    char *path;    /* file; NULL when only in RAM */
    int64_t file_size;
    uint64_t last_used;
};

struct ia_kvc {
    char *dir;
    char fp[FP_LEN];
    ia_kvc_entry **v;
    size_t n, cap;
    uint64_t tick;
    bool streams; /* the contexts' KV layout (seqstate.h) */
    ia_kvc_stats st;
};

int ia_kvc_lcp(const llama_token *a, int na, const llama_token *b, int nb) {
    int n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

static void mkdirs(const char *dir) {
    char *p = ia_strdup(dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
    free(p);
}

static void add_entry(ia_kvc *c, ia_kvc_entry *en) {
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = ia_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = en;
}

/* Takes entry i out of the cache: its RAM copy, its file, itself. */
static void drop(ia_kvc *c, size_t i) {
    ia_kvc_entry *en = c->v[i];
    if (en->data) {
        c->st.ram_bytes -= (int64_t)en->size;
        c->st.ram_entries--;
    }
    if (en->path) {
        unlink(en->path);
        c->st.disk_bytes -= en->file_size;
        c->st.disk_entries--;
    }
    free(en->data);
    free(en->path);
    free(en->toks);
    free(en);
    c->v[i] = c->v[--c->n];
}

/* Unlinks the least recently used files until the folder fits its budget. */
static void fit_disk(ia_kvc *c) {
    while (c->st.disk_bytes > c->st.disk_budget) {
        ssize_t lru = -1;
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i]->path && (lru < 0 || c->v[i]->last_used < c->v[lru]->last_used)) lru = (ssize_t)i;
        if (lru < 0) break;
        ia_kvc_entry *en = c->v[lru];
        if (!en->data) {
            drop(c, (size_t)lru);
            continue;
        }
        unlink(en->path); /* still in RAM: keep the entry, lose the file */
        free(en->path);
        en->path = NULL;
        c->st.disk_bytes -= en->file_size;
        c->st.disk_entries--;
    }
}

static int write_file(ia_kvc *c, ia_kvc_entry *en, const uint8_t *data, size_t size) {
    char hex[65];
    ia_sha256_hex((const char *)en->toks, (size_t)en->n * sizeof *en->toks, hex);
    char *path = ia_asprintf("%s/%.40s.kv", c->dir, hex);
    char *tmp = ia_asprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    uint32_t n = (uint32_t)en->n;
    uint64_t sz = size;
    bool ok = f && fwrite(MAGIC, 1, 8, f) == 8 && fwrite(c->fp, 1, FP_LEN, f) == FP_LEN &&
              fwrite(&n, sizeof n, 1, f) == 1 && fwrite(&sz, sizeof sz, 1, f) == 1 &&
              fwrite(en->toks, sizeof *en->toks, (size_t)en->n, f) == (size_t)en->n &&
              fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        ia_warn("kv cache: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        free(path);
        free(tmp);
        return -1;
    }
    free(tmp);
    en->path = path;
    en->file_size = (int64_t)(HEADER_LEN + (size_t)en->n * sizeof *en->toks + size);
    c->st.disk_bytes += en->file_size;
    c->st.disk_entries++;
    return 0;
}

/* Reads a file's header and tokens; the state bytes too when data != NULL.
 * Returns 0 and fills the out-parameters, or -1. */
static int read_file(const char *path, const char *fp, llama_token **toks, int *n, uint8_t **data,
                     size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char magic[8], fpb[FP_LEN];
    uint32_t nt = 0;
    uint64_t sz = 0;
    int rc = -1;
    llama_token *t = NULL;
    uint8_t *d = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || fread(magic, 1, 8, f) != 8 || memcmp(magic, MAGIC, 8) != 0 ||
        fread(fpb, 1, FP_LEN, f) != FP_LEN || memcmp(fpb, fp, FP_LEN) != 0 || fread(&nt, sizeof nt, 1, f) != 1 ||
        fread(&sz, sizeof sz, 1, f) != 1 || nt == 0 || nt > (1u << 24) ||
        (uint64_t)sb.st_size != HEADER_LEN + (uint64_t)nt * sizeof *t + sz)
        goto out;
    t = ia_xmalloc((size_t)nt * sizeof *t);
    if (fread(t, sizeof *t, nt, f) != nt) goto out;
    if (data) {
        d = ia_xmalloc_big(sz ? (size_t)sz : 1);
        if (fread(d, 1, (size_t)sz, f) != sz) goto out;
        *data = d;
        d = NULL;
    }
    *toks = t;
    t = NULL;
    *n = (int)nt;
    *size = (size_t)sz;
    rc = 0;
out:
    free(t);
    free(d);
    fclose(f);
    return rc;
}

/* Finds the files a previous run left (same model only). */
static void scan_dir(ia_kvc *c) {
    DIR *d = opendir(c->dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        char *path = ia_asprintf("%s/%s", c->dir, de->d_name);
        if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) {
            unlink(path); /* a write a crash interrupted */
        } else if (len > 3 && strcmp(de->d_name + len - 3, ".kv") == 0) {
            ia_kvc_entry *en = ia_xcalloc(1, sizeof *en);
            struct stat sb;
            if (read_file(path, c->fp, &en->toks, &en->n, NULL, &en->size) == 0 && stat(path, &sb) == 0) {
                en->path = path;
                path = NULL;
                en->file_size = (int64_t)sb.st_size;
                en->last_used = (uint64_t)sb.st_mtime * 1000;
                c->st.disk_bytes += en->file_size;
                c->st.disk_entries++;
                add_entry(c, en);
            } else {
                free(en);
            }
        }
        free(path);
    }
    closedir(d);
    fit_disk(c);
}

ia_kvc *ia_kvc_new(const char *dir, int64_t ram_budget, int64_t disk_budget, const char *fingerprint, bool streams) {
    ia_kvc *c = ia_xcalloc(1, sizeof *c);
    /* A state's bytes differ with the KV layout (seqstate.h): files of the
     * other layout are another model's, as far as loading goes. */
    snprintf(c->fp, sizeof c->fp, "%s|%s", streams ? "s" : "u", fingerprint ? fingerprint : "");
    c->streams = streams;
    c->st.ram_budget = ram_budget > 0 ? ram_budget : 0;
    c->st.disk_budget = dir ? disk_budget : 0;
    /* Milliseconds of wall time: comparable with the files' mtimes. */
    c->tick = (uint64_t)time(NULL) * 1000;
    if (dir && *dir) {
        c->dir = ia_strdup(dir);
        mkdirs(dir);
        scan_dir(c);
    }
    return c;
}

/* Moves RAM entries, least recently used first, to disk (or drops them)
 * until `need` more bytes fit the RAM budget. */
static void make_room(ia_kvc *c, size_t need) {
    while (c->st.ram_bytes + (int64_t)need > c->st.ram_budget) {
        ssize_t lru = -1;
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i]->data && (lru < 0 || c->v[i]->last_used < c->v[lru]->last_used)) lru = (ssize_t)i;
        if (lru < 0) return;
        ia_kvc_entry *en = c->v[lru];
        if (!en->path && c->dir && write_file(c, en, en->data, en->size) == 0) c->st.evicted_to_disk++;
        if (!en->path) {
            drop(c, (size_t)lru);
            continue;
        }
        free(en->data);
        en->data = NULL;
        c->st.ram_bytes -= (int64_t)en->size;
        c->st.ram_entries--;
    }
    fit_disk(c);
}

bool ia_kvc_can_keep(const ia_kvc *c) { return c->st.ram_budget > 0 || c->dir; }

void ia_kvc_save(ia_kvc *c, struct llama_context *ctx, int seq, const llama_token *toks, int n) {
    if (n <= 0 || !ia_kvc_can_keep(c)) return;
    for (size_t i = 0; i < c->n;) {
        ia_kvc_entry *en = c->v[i];
        int l = ia_kvc_lcp(en->toks, en->n, toks, n);
        if (l == n) { /* already covered */
            en->last_used = ++c->tick;
            return;
        }
        if (l == en->n) drop(c, i); /* a prefix of what comes in */
        else i++;
    }
    size_t size = 0;
    uint8_t *data = ia_seqstate_get(ctx, seq, c->streams, &size);
    if (!data) {
        ia_warn("kv cache: reading sequence %d failed", seq);
        return;
    }
    ia_kvc_entry *en = ia_xcalloc(1, sizeof *en);
    en->toks = ia_xmalloc((size_t)n * sizeof *toks);
    memcpy(en->toks, toks, (size_t)n * sizeof *toks);
    en->n = n;
    en->size = size;
    en->last_used = ++c->tick;
    if ((int64_t)size <= c->st.ram_budget) {
        make_room(c, size);
        en->data = data;
        c->st.ram_bytes += (int64_t)size;
        c->st.ram_entries++;
        if (c->st.ram_bytes > c->st.ram_peak) c->st.ram_peak = c->st.ram_bytes;
    } else {
        /* Larger than the whole RAM budget: straight to disk, if any. */
        int rc = c->dir ? write_file(c, en, data, size) : -1;
        free(data);
        if (rc != 0) {
            free(en->toks);
            free(en);
            return;
        }
    }
    add_entry(c, en);
    c->st.saved++;
    fit_disk(c);
}

int ia_kvc_match(ia_kvc *c, const llama_token *toks, int n, int max_tokens, ia_kvc_entry **best) {
    int bl = 0;
    *best = NULL;
    for (size_t i = 0; i < c->n; i++) {
        ia_kvc_entry *en = c->v[i];
        if (en->n > max_tokens) continue;
        int l = ia_kvc_lcp(en->toks, en->n, toks, n);
        /* Ties go to the smaller entry: less to load. */
        if (l > bl || (l == bl && l > 0 && en->n < (*best)->n)) {
            bl = l;
            *best = en;
        }
    }
    return bl;
}

int ia_kvc_restore(ia_kvc *c, ia_kvc_entry *en, struct llama_context *ctx, int seq, const llama_token **toks) {
    size_t i = 0;
    while (i < c->n && c->v[i] != en) i++;
    if (i == c->n) return -1;
    uint8_t *buf = en->data, *owned = NULL;
    size_t size = en->size;
    if (!buf) {
        llama_token *t = NULL;
        int n = 0;
        if (read_file(en->path, c->fp, &t, &n, &owned, &size) != 0 || n != en->n ||
            memcmp(t, en->toks, (size_t)n * sizeof *t) != 0) {
            ia_warn("kv cache: %s is unreadable; dropped", en->path);
            free(t);
            free(owned);
            drop(c, i);
            return -1;
        }
        free(t);
        buf = owned;
    }
    bool ok = ia_seqstate_set(ctx, seq, c->streams, buf, size);
    free(owned);
    if (!ok) {
        ia_warn("kv cache: a kept sequence of %d tokens does not load; dropped", en->n);
        drop(c, i);
        return -1;
    }
    en->last_used = ++c->tick;
    c->st.restored++;
    *toks = en->toks;
    return en->n;
}

void ia_kvc_get_stats(const ia_kvc *c, ia_kvc_stats *st) { *st = c->st; }

void ia_kvc_free(ia_kvc *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        ia_kvc_entry *en = c->v[i];
        if (c->dir && en->data && !en->path) write_file(c, en, en->data, en->size);
    }
    fit_disk(c);
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i]->data);
        free(c->v[i]->path);
        free(c->v[i]->toks);
        free(c->v[i]);
    }
    free(c->v);
    free(c->dir);
    free(c);
}
