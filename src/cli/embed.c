/* embed: --embedding-model at start-up (cli/embed.h). */
#include "cli/embed.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/* The specs of every --embedding-model (the flag repeated, each value a
 * comma list; "none" alone: none), split into *out over the joined copy
 * *buf. */
static size_t split(const cfg *c, char **buf, char ***out) {
    *out = NULL;
    ia_buf all;
    ia_buf_init(&all, 0);
    for (size_t i = 0; i < c->n_embed_models; i++)
        if (strcmp(c->embed_models[i], "none") != 0) ia_buf_printf(&all, "%s,", c->embed_models[i]);
    ia_buf_append(&all, "", 1);
    *buf = ia_buf_take(&all);
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(*buf, ", \t\n", &save); t; t = strtok_r(NULL, ", \t\n", &save)) {
        *out = ia_xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = t;
    }
    return n;
}

void cli_embed_check(const cfg *c, const char *const *names, size_t n) {
    char *buf, **specs;
    size_t ns = split(c, &buf, &specs);
    ia_embed_spec *s = ia_xcalloc(ns + 1, sizeof *s);
    for (size_t i = 0; i < ns; i++) {
        ia_err err = {0};
        if (ia_embed_spec_parse(specs[i], &s[i], &err) != 0) cli_bad(cli_flags[F_EMBED_MODEL].name, "%s", err.msg);
        for (size_t k = 0; k < n; k++)
            if (!strcmp(names[k], s[i].name))
                cli_bad(cli_flags[F_EMBED_MODEL].name, "'%s' is already a --model's name; give it another "
                        "with NAME=FILE.gguf", s[i].name);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(s[k].name, s[i].name)) cli_bad(cli_flags[F_EMBED_MODEL].name, "'%s' is given twice", s[i].name);
        if (access(s[i].path, R_OK) < 0)
            cli_bad(cli_flags[F_EMBED_MODEL].name, "cannot read '%s'", s[i].path);
    }
    for (size_t i = 0; i < ns; i++) ia_embed_spec_free(&s[i]);
    free(s);
    free(specs);
    free(buf);
}

int cli_embed_open(const cfg *c, int threads, ia_embed_set *set, ia_err *err) {
    char *buf, **specs;
    size_t ns = split(c, &buf, &specs);
    set->v = ia_xcalloc(ns + 1, sizeof *set->v);
    set->n = 0;
    int rc = 0;
    for (size_t i = 0; i < ns && rc == 0; i++) {
        ia_embed_spec s;
        if ((rc = ia_embed_spec_parse(specs[i], &s, err)) != 0) break;
        ia_info("loading embedding model %s from %s", s.name, s.path);
        ia_embedder *e = ia_embedder_open(&s, threads, err);
        ia_embed_spec_free(&s);
        if (!e) {
            rc = -1;
            break;
        }
        set->v[set->n++] = e;
        ia_info("embedding model %s ready (%s)%s", ia_embedder_name(e), ia_embedder_describe(e),
                i == 0 ? "; also served as gemini-embedding-001 and text-embedding-004" : "");
    }
    free(specs);
    free(buf);
    return rc;
}
