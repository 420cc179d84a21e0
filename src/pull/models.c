/* models.c: the models folder's location, listing and name resolution
 * (models.h). */
#include "pull/models.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "pull/hub.h"

char *ia_models_dir(const char *flag_value) {
    if (flag_value && *flag_value) return ia_strdup(flag_value);
    const char *e = getenv("INTERACTD_MODELS_DIR");
    if (e && *e) return ia_strdup(e);
    const char *x = getenv("XDG_DATA_HOME");
    if (x && *x == '/') return ia_asprintf("%s/interactd/models", x);
    const char *h = getenv("HOME");
    return ia_asprintf("%s/.local/share/interactd/models", h && *h ? h : ".");
}

static bool model_file(const char *n) {
    size_t l = strlen(n);
    return l > 5 && !strcmp(n + l - 5, ".gguf") && strncmp(n, "mmproj", 6) != 0 && n[0] != '.';
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const ia_local_model *)a)->name, ((const ia_local_model *)b)->name);
}

int ia_models_list(const char *dir, ia_local_model **out, size_t *n, ia_err *err) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : ia_fail(err, IA_EINTERNAL, "cannot read %s: %s", dir, strerror(errno));
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!model_file(e->d_name)) continue;
        char *path = ia_asprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (*n == cap) *out = ia_xrealloc(*out, (cap = cap ? cap * 2 : 8) * sizeof **out);
        ia_local_model *m = &(*out)[(*n)++];
        memset(m, 0, sizeof *m);
        m->name = ia_strndup(e->d_name, strlen(e->d_name) - 5);
        m->path = path;
        m->size = st.st_size;
        ia_hub_quant_of(e->d_name, m->quant, sizeof m->quant);
        char *mp = ia_asprintf("%s/mmproj-%s.gguf", dir, m->name);
        if (access(mp, R_OK) == 0) m->mmproj = mp;
        else free(mp);
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof **out, by_name);
    return 0;
}

void ia_models_free(ia_local_model *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].path);
        free(v[i].mmproj);
    }
    free(v);
}

char *ia_models_resolve(const char *dir, const char *name, ia_err *err) {
    ia_local_model *v;
    size_t n;
    if (ia_models_list(dir, &v, &n, err) < 0) return NULL;
    char *hit = NULL;
    size_t prefixed = 0, which = 0;
    for (size_t i = 0; i < n && !hit; i++) {
        if (!strcmp(v[i].name, name)) hit = ia_strdup(v[i].path);
        else if (!strncasecmp(v[i].name, name, strlen(name))) prefixed++, which = i;
    }
    if (!hit && prefixed == 1) hit = ia_strdup(v[which].path);
    if (!hit) {
        ia_buf b;
        ia_buf_init(&b, 400);
        for (size_t i = 0; i < n; i++)
            if (prefixed == 0 || !strncasecmp(v[i].name, name, strlen(name)))
                ia_buf_printf(&b, "%s%s", b.len ? ", " : "", v[i].name);
        char *names = ia_buf_take(&b);
        if (prefixed > 1)
            ia_fail(err, IA_EINVALID, "'%s' matches several models in %s: %s; give more of the name", name, dir,
                    names);
        else
            ia_fail(err, IA_ENOTFOUND,
                    "no model '%s' in %s (there: %s); `interactd pull OWNER/REPO:QUANT` fetches one, "
                    "`interactd models` lists them, NAME=PATH serves a file",
                    name, dir, names && *names ? names : "none");
        free(names);
    }
    ia_models_free(v, n);
    return hit;
}

int ia_models_mkdir(const char *dir, ia_err *err) {
    char *p = ia_strdup(dir);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s) continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return ia_fail(err, IA_EINTERNAL, "cannot create the models folder %s: %s", dir, strerror(e));
        }
        *s = saved;
        if (!saved) break;
    }
    free(p);
    return 0;
}
