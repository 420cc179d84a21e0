/* config.c: the --config file's parser, its merge under the flags and the
 * environment, and --print-config (config.h). */
#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"

static void push_kv(cli_kv **out, size_t *n, const char *k, size_t kl, char *v, int line) {
    *out = ia_xrealloc(*out, (*n + 1) * sizeof **out);
    (*out)[(*n)++] = (cli_kv){.key = ia_strndup(k, kl), .val = v, .line = line};
}

/* A quoted string at *p (p[0] is the quote) into a new string; *p past it. */
static char *quoted(const char **p, const char *end, ia_err *err, int line) {
    char q = **p;
    ia_buf b;
    ia_buf_init(&b, 0);
    const char *s = *p + 1;
    for (; s < end && *s != q; s++) {
        char c = *s;
        if (q == '"' && c == '\\' && s + 1 < end) {
            c = *++s;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
            if (!strchr("\"\\\n\t\r", c)) {
                ia_buf_free(&b);
                ia_fail(err, IA_EINVALID, "line %d: unknown escape \\%c in a quoted value", line, *s);
                return NULL;
            }
        }
        ia_buf_append(&b, &c, 1);
    }
    if (s >= end) {
        ia_buf_free(&b);
        ia_fail(err, IA_EINVALID, "line %d: a quoted value without its closing %c", line, q);
        return NULL;
    }
    *p = s + 1;
    ia_buf_append(&b, "", 1);
    return ia_buf_take(&b);
}

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return p;
}

/* what may follow a value: blanks, then nothing or a comment */
static bool rest_ok(const char *p, const char *end) {
    p = skip_ws(p, end);
    return p == end || *p == '#';
}

/* ["a", 'b'] into one setting each */
static int array_val(const char *p, const char *end, const char *k, size_t kl, int line, cli_kv **out, size_t *n,
                     ia_err *err) {
    p = skip_ws(p + 1, end);
    while (p < end && *p != ']') {
        if (*p != '"' && *p != '\'')
            return ia_fail(err, IA_EINVALID, "line %d: an array holds quoted strings only", line);
        char *v = quoted(&p, end, err, line);
        if (!v) return -1;
        push_kv(out, n, k, kl, v, line);
        p = skip_ws(p, end);
        if (p < end && *p == ',') p = skip_ws(p + 1, end);
    }
    if (p >= end || !rest_ok(p + 1, end)) return ia_fail(err, IA_EINVALID, "line %d: an array without its ']'", line);
    return 0;
}

static int parse_line(const char *p, const char *end, int line, cli_kv **out, size_t *n, ia_err *err) {
    p = skip_ws(p, end);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
    if (p == end || *p == '#' || *p == '[') return 0; /* blank, comment, [section] */
    if ((size_t)(end - p) > 7 && !strncmp(p, "export ", 7)) p = skip_ws(p + 7, end);
    const char *k = p;
    while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '-')) p++;
    size_t kl = (size_t)(p - k);
    p = skip_ws(p, end);
    if (!kl || p == end || *p != '=') return ia_fail(err, IA_EINVALID, "line %d: expected KEY = VALUE", line);
    p = skip_ws(p + 1, end);
    if (p < end && *p == '[') return array_val(p, end, k, kl, line, out, n, err);
    char *v;
    if (p < end && (*p == '"' || *p == '\'')) {
        if (!(v = quoted(&p, end, err, line))) return -1;
        if (!rest_ok(p, end)) {
            free(v);
            return ia_fail(err, IA_EINVALID, "line %d: text after the quoted value", line);
        }
    } else {
        const char *e = p;
        while (e < end && !(*e == '#' && (e == p || e[-1] == ' ' || e[-1] == '\t'))) e++;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
        v = ia_strndup(p, (size_t)(e - p));
    }
    push_kv(out, n, k, kl, v, line);
    return 0;
}

int cli_config_parse(const char *text, size_t n, cli_kv **out, size_t *n_out, ia_err *err) {
    *out = NULL;
    *n_out = 0;
    if (memchr(text, '\0', n)) return ia_fail(err, IA_EINVALID, "the file holds a NUL byte: not a text file");
    const char *p = text, *end = text + n;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        if (parse_line(p, le, line, out, n_out, err) < 0) {
            cli_config_free(*out, *n_out);
            *out = NULL;
            *n_out = 0;
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

void cli_config_free(cli_kv *kv, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].val);
    }
    free(kv);
}

static char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    ia_buf b;
    ia_buf_init(&b, 1 << 20);
    char buf[4096];
    size_t r;
    bool ok = true;
    while (ok && (r = fread(buf, 1, sizeof buf, f)) > 0) ok = ia_buf_append(&b, buf, r) == 0;
    ok = ok && !ferror(f);
    fclose(f);
    *n = b.len;
    if (!ok) {
        ia_buf_free(&b);
        errno = EFBIG;
        return NULL;
    }
    ia_buf_append(&b, "", 1);
    return ia_buf_take(&b);
}

static bool repeatable(int f) {
    return f == F_MODEL || f == F_CHAT_TEMPLATE || f == F_MMPROJ || f == F_SEARCH_INDEX || f == F_UPSTREAM ||
           f == F_SPEECH_MODEL || f == F_EMBED_MODEL;
}

static void push_rep(cfg *c, int f, const char *v) {
    if (f == F_MODEL) cli_push(&c->models, &c->n_models, v);
    else if (f == F_CHAT_TEMPLATE) cli_push(&c->templates, &c->n_templates, v);
    else if (f == F_MMPROJ) cli_push(&c->mmprojs, &c->n_mmprojs, v);
    else if (f == F_SEARCH_INDEX) cli_push(&c->search_dirs, &c->n_search_dirs, v);
    else if (f == F_SPEECH_MODEL) cli_push(&c->speech_models, &c->n_speech_models, v);
    else if (f == F_EMBED_MODEL) cli_push(&c->embed_models, &c->n_embed_models, v);
    else cli_push(&c->upstreams, &c->n_upstreams, v);
}

static size_t rep_count(const cfg *c, int f) {
    return f == F_MODEL ? c->n_models : f == F_CHAT_TEMPLATE ? c->n_templates : f == F_MMPROJ ? c->n_mmprojs
         : f == F_SEARCH_INDEX ? c->n_search_dirs : f == F_SPEECH_MODEL ? c->n_speech_models
         : f == F_EMBED_MODEL ? c->n_embed_models : c->n_upstreams;
}

_Noreturn static void bad_file(const cfg *c, const char *msg) {
    fprintf(stderr, "interactd: --config %s: %s\n(see interactd serve --help)\n", c->config_path, msg);
    exit(2);
}

void cli_config_apply(cfg *c) {
    size_t n;
    char *text = read_all(c->config_path, &n);
    if (!text) {
        char m[300];
        snprintf(m, sizeof m, "cannot read it: %s", strerror(errno));
        bad_file(c, m);
    }
    ia_err err = {0};
    int rc = cli_config_parse(text, n, &c->file_kv, &c->n_file_kv, &err);
    free(text);
    if (rc < 0) bad_file(c, err.msg);
    bool had[F__COUNT];
    for (int f = 0; f < F__COUNT; f++) had[f] = repeatable(f) ? rep_count(c, f) > 0 : c->val[f] != NULL;
    for (size_t i = 0; i < c->n_file_kv; i++) {
        const cli_kv *kv = &c->file_kv[i];
        int f = cli_flag_lookup(kv->key);
        if (f < 0 || f == F_CONFIG) {
            char m[300];
            snprintf(m, sizeof m, "line %d: unknown setting '%.100s' (a serve flag's name or its INTERACTD_* "
                                  "variable)", kv->line, kv->key);
            bad_file(c, m);
        }
        if (had[f]) continue;
        if (repeatable(f) && (f == F_MODEL || f == F_UPSTREAM || f == F_SPEECH_MODEL) &&
            !strcmp(kv->key, cli_flags[f].env)) {
            /* INTERACTD_MODELS / _UPSTREAMS / _SPEECH_MODELS: lists, as in the environment */
            const char *sep = f == F_MODEL ? "," : " \t";
            for (char *save = NULL, *t = strtok_r(kv->val, sep, &save); t; t = strtok_r(NULL, sep, &save))
                push_rep(c, f, t);
        } else if (repeatable(f)) push_rep(c, f, kv->val);
        else c->val[f] = kv->val;
        c->source[f] = "file";
        c->file_line[f] = kv->line;
    }
}

/* v as a TOML basic string; an upstream spec's key=SECRET shown as key=***
 * (key=env:VAR names no secret and stays) */
static void put_quoted(FILE *f, const char *v) {
    fputc('"', f);
    for (; *v; v++) {
        if ((v[0] == ',' && !strncmp(v + 1, "key=", 4) && strncmp(v + 5, "env:", 4))) {
            fputs(",key=***", f);
            v += 4;
            while (v[1] && v[1] != ',') v++;
            continue;
        }
        if (*v == '"' || *v == '\\') fprintf(f, "\\%c", *v);
        else if (*v == '\n') fputs("\\n", f);
        else if (*v == '\t') fputs("\\t", f);
        else fputc(*v, f);
    }
    fputc('"', f);
}

static void put_source(const cfg *c, int f, FILE *out) {
    const char *s = c->source[f];
    if (!s) fprintf(out, "  # default\n");
    else if (!strcmp(s, "flag")) fprintf(out, "  # flag --%s\n", cli_flags[f].name);
    else if (!strcmp(s, "env")) fprintf(out, "  # env %s\n", cli_flags[f].env);
    else fprintf(out, "  # file %s:%d\n", c->config_path, c->file_line[f]);
}

void cli_print_config(const cfg *c, FILE *out) {
    fprintf(out, "# interactd serve: each setting's value and where it came from (flag > environment > "
                 "config file > default)\n");
    if (c->config_path) fprintf(out, "# config file: %s\n", c->config_path);
    for (int f = 0; f < F__COUNT; f++) {
        if (f == F_CONFIG) continue;
        const char *name = cli_flags[f].name;
        if (repeatable(f)) {
            size_t n = rep_count(c, f);
            const char *const *v = f == F_MODEL ? c->models : f == F_CHAT_TEMPLATE ? c->templates
                                 : f == F_MMPROJ ? c->mmprojs : f == F_SEARCH_INDEX ? c->search_dirs
                                 : f == F_SPEECH_MODEL ? c->speech_models
                                 : f == F_EMBED_MODEL ? c->embed_models : c->upstreams;
            if (!n) {
                fprintf(out, "# %s: default %s\n", name, cli_flags[f].def);
                continue;
            }
            fprintf(out, "%s = [", name);
            for (size_t i = 0; i < n; i++) {
                if (i) fputs(", ", out);
                put_quoted(out, v[i]);
            }
            fputc(']', out);
        } else if (!c->val[f]) {
            fprintf(out, "# %s: default %s\n", name, cli_flags[f].def);
            continue;
        } else {
            fprintf(out, "%s = ", name);
            char *shown = f == F_STORE ? ia_store_spec_redacted(c->val[f]) : NULL; /* no password */
            put_quoted(out, shown ? shown : c->val[f]);
            free(shown);
        }
        put_source(c, f, out);
    }
}
