/* hub.c: the hub's repository reference, tree listing and file choice
 * (hub.h). */
#include "pull/hub.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

static bool name_ok(const char *s, size_t n, bool slash) {
    if (n == 0 || n > 96 || s[0] == '.' || s[0] == '-') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-' && !(slash && c == '/')) return false;
        if (c == '.' && i + 1 < n && s[i + 1] == '.') return false;
    }
    return true;
}

int ia_hub_ref_parse(const char *s, ia_hub_ref *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    const char *colon = strchr(s, ':'), *end = colon ? colon : s + strlen(s);
    const char *slash = memchr(s, '/', (size_t)(end - s));
    if (!slash || !name_ok(s, (size_t)(slash - s), false) || !name_ok(slash + 1, (size_t)(end - slash - 1), false))
        return ia_fail(err, IA_EINVALID,
                       "'%s' is no Hugging Face repository: expected OWNER/NAME[:QUANT], e.g. "
                       "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M",
                       s);
    if (colon && !name_ok(colon + 1, strlen(colon + 1), true))
        return ia_fail(err, IA_EINVALID, "'%s': the part after ':' should be a quantization (Q4_K_M) or a .gguf file",
                       colon + 1);
    out->repo = ia_strndup(s, (size_t)(end - s));
    out->tag = colon ? ia_strdup(colon + 1) : NULL;
    return 0;
}

void ia_hub_ref_free(ia_hub_ref *r) {
    free(r->repo);
    free(r->tag);
    memset(r, 0, sizeof *r);
}

static bool hex64(const char *s) {
    if (strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return true;
}

static bool path_ok(const char *p, size_t n) {
    return n > 0 && p[0] != '/' && !memchr(p, '\0', n) && !strstr(p, "..") && !strchr(p, '\\');
}

int ia_hub_files_parse(const char *json, size_t n, ia_hub_files *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json, n, JSON_ALLOW_NUL, &je);
    if (!root || !json_is_array(root)) {
        json_decref(root);
        return ia_fail(err, IA_EUPSTREAM, "the hub's file listing is no JSON array%s%s", root ? "" : ": ",
                       root ? "" : je.text);
    }
    out->v = ia_xcalloc(json_array_size(root) + 1, sizeof *out->v);
    size_t i;
    json_t *it;
    json_array_foreach(root, i, it) {
        json_t *type = json_object_get(it, "type"), *path = json_object_get(it, "path");
        if (!json_is_string(path) || (type && (!json_is_string(type) || strcmp(json_string_value(type), "file"))))
            continue;
        if (!path_ok(json_string_value(path), json_string_length(path))) {
            ia_hub_files_free(out);
            json_decref(root);
            return ia_fail(err, IA_EUPSTREAM, "the hub's file listing names a bad path");
        }
        ia_hub_file *f = &out->v[out->n++];
        f->path = ia_strdup(json_string_value(path));
        json_t *size = json_object_get(it, "size"), *lfs = json_object_get(it, "lfs");
        f->size = json_is_integer(size) && json_integer_value(size) >= 0 ? json_integer_value(size) : -1;
        json_t *oid = json_is_object(lfs) ? json_object_get(lfs, "oid") : NULL;
        if (json_is_string(oid) && hex64(json_string_value(oid))) {
            for (int k = 0; k < 64; k++) f->sha256[k] = (char)tolower((unsigned char)json_string_value(oid)[k]);
            f->sha256[64] = '\0';
            json_t *ls = json_object_get(lfs, "size");
            if (json_is_integer(ls) && json_integer_value(ls) >= 0) f->size = json_integer_value(ls);
        }
    }
    json_decref(root);
    return 0;
}

void ia_hub_files_free(ia_hub_files *f) {
    for (size_t i = 0; i < f->n; i++) free(f->v[i].path);
    free(f->v);
    memset(f, 0, sizeof *f);
}

const char *ia_hub_basename(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static bool ends_gguf(const char *s) {
    size_t n = strlen(s);
    return n > 5 && !strcasecmp(s + n - 5, ".gguf");
}

static bool has_ci(const char *hay, const char *needle) { return strcasestr(hay, needle) != NULL; }

/* "-00002-of-00003.gguf": a split part; *first when it is part 1 */
static bool split_part(const char *name, bool *first) {
    const char *of = strstr(name, "-of-");
    if (!of || of - name < 6) return false;
    const char *d = of - 5;
    for (int i = 0; i < 5; i++)
        if (!isdigit((unsigned char)d[i]) || !isdigit((unsigned char)of[4 + i])) return false;
    if (d[-1] != '-') return false;
    *first = !strncmp(d, "00001", 5);
    return true;
}

static bool is_model(const char *path) {
    const char *b = ia_hub_basename(path);
    return ends_gguf(b) && !has_ci(b, "mmproj") && !has_ci(b, "imatrix");
}

/* tag followed by '.' or '-' somewhere in the base name, case-insensitive */
static bool matches_tag(const char *path, const char *tag) {
    const char *b = ia_hub_basename(path);
    size_t tl = strlen(tag);
    for (const char *p = b; (p = strcasestr(p, tag)); p++)
        if (p[tl] == '.' || p[tl] == '-') return true;
    return false;
}

static const ia_hub_file *first_match(const ia_hub_files *f, const char *tag, bool *split) {
    for (size_t i = 0; i < f->n; i++) {
        if (!is_model(f->v[i].path) || (tag && !matches_tag(f->v[i].path, tag))) continue;
        bool first = false;
        if (split_part(ia_hub_basename(f->v[i].path), &first)) {
            *split = true;
            continue;
        }
        return &f->v[i];
    }
    return NULL;
}

static void list_ggufs(const ia_hub_files *f, ia_err *err, const char *what) {
    ia_buf b;
    ia_buf_init(&b, 400);
    for (size_t i = 0; i < f->n; i++)
        if (is_model(f->v[i].path)) ia_buf_printf(&b, "%s%s", b.len ? ", " : "", ia_hub_basename(f->v[i].path));
    char *names = ia_buf_take(&b);
    ia_fail(err, IA_ENOTFOUND, "%s; its GGUF files: %s", what, names && *names ? names : "none");
    free(names);
}

const ia_hub_file *ia_hub_pick_model(const ia_hub_files *f, const char *tag, ia_err *err) {
    bool split = false;
    if (tag && ends_gguf(tag)) {
        for (size_t i = 0; i < f->n; i++)
            if (!strcmp(f->v[i].path, tag) || !strcmp(ia_hub_basename(f->v[i].path), tag)) return &f->v[i];
        list_ggufs(f, err, "the repository has no such file");
        return NULL;
    }
    const char *defaults[] = {"Q4_K_M", "Q8_0", NULL};
    const ia_hub_file *hit = NULL;
    if (tag) hit = first_match(f, tag, &split);
    else
        for (int i = 0; i < 3 && !hit; i++) hit = first_match(f, defaults[i], &split);
    if (hit) return hit;
    if (split) {
        ia_fail(err, IA_EUNIMPLEMENTED,
                "the repository's %s model is split into several files, which pull does not join; choose "
                "another quantization",
                tag ? tag : "default");
        return NULL;
    }
    list_ggufs(f, err, tag ? "no GGUF file of the repository matches that quantization" : "the repository has no GGUF model");
    return NULL;
}

const ia_hub_file *ia_hub_pick_mmproj(const ia_hub_files *f, const char *tag) {
    const ia_hub_file *first = NULL, *f16 = NULL;
    for (size_t i = 0; i < f->n; i++) {
        const char *b = ia_hub_basename(f->v[i].path);
        if (!ends_gguf(b) || !has_ci(b, "mmproj")) continue;
        if (tag && !ends_gguf(tag) && matches_tag(b, tag)) return &f->v[i];
        if (!f16 && matches_tag(b, "F16")) f16 = &f->v[i];
        if (!first) first = &f->v[i];
    }
    return f16 ? f16 : first;
}

void ia_hub_quant_of(const char *name, char *out, size_t cap) {
    out[0] = '\0';
    const char *b = ia_hub_basename(name);
    size_t n = strlen(b);
    if (n > 5 && !strcasecmp(b + n - 5, ".gguf")) n -= 5;
    /* the last '-' or '.' separated part that looks like a quantization:
     * Q.., IQ.., F16, F32, BF16 */
    size_t end = n;
    for (size_t i = n; i-- > 0;) {
        if (b[i] != '-' && b[i] != '.' && i != 0) continue;
        size_t s = (b[i] == '-' || b[i] == '.') ? i + 1 : i, len = end - s;
        const char *p = b + s;
        bool q = len >= 2 && len < cap &&
                 (((p[0] == 'Q' || p[0] == 'q') && isdigit((unsigned char)p[1])) ||
                  (len >= 3 && !strncasecmp(p, "IQ", 2) && isdigit((unsigned char)p[2])) ||
                  ((len == 3) && (!strncasecmp(p, "F16", 3) || !strncasecmp(p, "F32", 3))) ||
                  (len == 4 && !strncasecmp(p, "BF16", 4)));
        if (q) {
            for (size_t k = 0; k < len; k++) out[k] = (char)toupper((unsigned char)p[k]);
            out[len] = '\0';
            return;
        }
        end = i;
    }
}
