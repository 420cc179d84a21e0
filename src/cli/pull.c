/* pull.c: `interactd pull OWNER/REPO[:QUANT|:FILE]` — the repository's
 * file list from the hub's API, the model file (and its projector) chosen,
 * each downloaded with progress, resumed, checked against its SHA-256 and
 * moved into the models folder — and `interactd models`, its listing. */
#include "cli/pull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "pull/download.h"
#include "pull/hub.h"
#include "pull/models.h"
#include "pull/progress.h"

static void pull_usage(FILE *f) {
    fprintf(f, "usage: interactd pull [--models-dir DIR] OWNER/REPO[:QUANT|:FILE.gguf]\n"
               "  e.g. interactd pull ggml-org/gemma-3-1b-it-GGUF:Q4_K_M\n"
               "  Downloads the repository's GGUF of that quantization (default Q4_K_M, then Q8_0)\n"
               "  and its projector (mmproj) if it has one into the models folder:\n"
               "  --models-dir, else INTERACTD_MODELS_DIR, else $XDG_DATA_HOME/interactd/models,\n"
               "  else ~/.local/share/interactd/models. HF_ENDPOINT (default https://huggingface.co),\n"
               "  HF_TOKEN (gated repositories) and http(s)_proxy / no_proxy are honoured.\n"
               "  An interrupted download resumes when run again.\n"
               "usage: interactd models [--models-dir DIR]   lists the models folder\n");
}

/* --models-dir DIR / --models-dir=DIR, --help; the one positional into *pos */
static int common_args(int argc, char **argv, const char **dir, const char **pos, bool want_pos) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            pull_usage(stdout);
            exit(0);
        } else if (!strncmp(a, "--models-dir=", 13)) *dir = a + 13;
        else if (!strcmp(a, "--models-dir") && i + 1 < argc) *dir = argv[++i];
        else if (a[0] == '-' || !want_pos || *pos) {
            fprintf(stderr, "interactd: unexpected argument '%s'\n", a);
            pull_usage(stderr);
            return -1;
        } else *pos = a;
    }
    if (want_pos && !*pos) {
        pull_usage(stderr);
        return -1;
    }
    return 0;
}

static char *endpoint(void) {
    const char *e = getenv("HF_ENDPOINT");
    char *s = ia_strdup(e && *e ? e : "https://huggingface.co");
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/') s[--n] = '\0';
    return s;
}

/* One file of the repository into dest: its SHA-256 from the listing, else
 * the resolve URL's x-linked-etag. */
static int fetch_one(const char *ep, const char *repo, const ia_hub_file *f, const char *dest, const char *token) {
    char *esc = ia_dl_escape_path(f->path);
    char *url = ia_asprintf("%s/%s/resolve/main/%s", ep, repo, esc);
    free(esc);
    ia_err err = {0};
    char sha[65];
    int64_t size = f->size;
    snprintf(sha, sizeof sha, "%s", f->sha256);
    int rc = 1;
    char hsha[65];
    int64_t hsize;
    if (ia_dl_head(url, token, hsha, &hsize, &err) < 0) goto out;
    if (!*sha) snprintf(sha, sizeof sha, "%s", hsha);
    else if (*hsha && strcmp(sha, hsha)) {
        fprintf(stderr, "interactd: %s: the listing's SHA-256 %s and the file's x-linked-etag %s differ; "
                        "the repository changed during the pull, run it again\n", f->path, sha, hsha);
        goto done;
    }
    if (size < 0) size = hsize;
    char have[65];
    if (access(dest, R_OK) == 0 && *sha && ia_dl_sha256_file(dest, have, &err) == 0 && !strcmp(have, sha)) {
        printf("%s: already in %s (SHA-256 checked)\n", f->path, dest);
        rc = 0;
        goto done;
    }
    if (!*sha) fprintf(stderr, "interactd: %s: the hub gives no SHA-256 for it; not checked\n", f->path);
    ia_progress pr;
    ia_progress_init(&pr, stderr, ia_hub_basename(f->path));
    int64_t resumed = 0;
    int r = ia_dl_file(url, token, dest, sha, size, ia_progress_update, &pr, &resumed, &err);
    ia_progress_done(&pr, size);
    if (r < 0) goto out;
    char sz[32];
    printf("%s: saved %s (%s%s%s)\n", f->path, dest, ia_progress_bytes(size, sz, sizeof sz),
           *sha ? ", SHA-256 checked" : "", resumed ? ", resumed" : "");
    rc = 0;
    goto done;
out:
    fprintf(stderr, "interactd: %s\n", err.msg);
done:
    free(url);
    return rc;
}

int cli_pull(int argc, char **argv) {
    const char *dirflag = NULL, *ref_s = NULL;
    if (common_args(argc, argv, &dirflag, &ref_s, true) < 0) return 2;
    ia_hub_ref ref;
    ia_err err = {0};
    if (ia_hub_ref_parse(ref_s, &ref, &err) < 0) {
        fprintf(stderr, "interactd: %s\n", err.msg);
        return 2;
    }
    char *dir = ia_models_dir(dirflag), *ep = endpoint(), *json = NULL;
    const char *token = getenv("HF_TOKEN");
    ia_hub_files files = {0};
    int rc = 1;
    char *url = ia_asprintf("%s/api/models/%s/tree/main?recursive=true", ep, ref.repo);
    size_t n;
    if (ia_models_mkdir(dir, &err) < 0 || ia_dl_get(url, token, 64u << 20, &json, &n, &err) < 0 ||
        ia_hub_files_parse(json, n, &files, &err) < 0) {
        fprintf(stderr, "interactd: %s\n", err.msg);
        goto out;
    }
    const ia_hub_file *model = ia_hub_pick_model(&files, ref.tag, &err);
    if (!model) {
        fprintf(stderr, "interactd: %s: %s\n", ref.repo, err.msg);
        goto out;
    }
    const ia_hub_file *proj = ia_hub_pick_mmproj(&files, ref.tag);
    const char *base = ia_hub_basename(model->path);
    char *dest = ia_asprintf("%s/%s", dir, base);
    rc = fetch_one(ep, ref.repo, model, dest, token);
    free(dest);
    char *stem = ia_strndup(base, strlen(base) - 5);
    if (rc == 0 && proj) {
        char *pdest = ia_asprintf("%s/mmproj-%s.gguf", dir, stem);
        rc = fetch_one(ep, ref.repo, proj, pdest, token);
        free(pdest);
    }
    if (rc == 0) printf("ready: interactd serve --model %s\n", stem);
    free(stem);
out:
    ia_hub_files_free(&files);
    ia_hub_ref_free(&ref);
    free(json);
    free(url);
    free(dir);
    free(ep);
    return rc;
}

int cli_models(int argc, char **argv) {
    const char *dirflag = NULL, *none = NULL;
    if (common_args(argc, argv, &dirflag, &none, false) < 0) return 2;
    char *dir = ia_models_dir(dirflag);
    ia_local_model *v;
    size_t n;
    ia_err err = {0};
    if (ia_models_list(dir, &v, &n, &err) < 0) {
        fprintf(stderr, "interactd: %s\n", err.msg);
        free(dir);
        return 1;
    }
    printf("models in %s:\n", dir);
    if (!n) printf("  none yet: interactd pull OWNER/REPO:QUANT fetches one\n");
    else printf("  %-40s %10s  %-8s %s\n", "NAME", "SIZE", "QUANT", "PROJECTOR");
    for (size_t i = 0; i < n; i++) {
        char sz[32];
        const char *pj = v[i].mmproj ? strrchr(v[i].mmproj, '/') + 1 : "-";
        printf("  %-40s %10s  %-8s %s\n", v[i].name, ia_progress_bytes(v[i].size, sz, sizeof sz),
               *v[i].quant ? v[i].quant : "-", pj);
    }
    ia_models_free(v, n);
    free(dir);
    return 0;
}
