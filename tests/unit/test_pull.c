/* test_pull: what `interactd pull` reads from the hub (pull/hub.h) — the
 * OWNER/REPO[:TAG] reference, the tree listing (LFS SHA-256s kept, git
 * SHA-1s not, directories skipped, bad paths refused), the model file
 * chosen by quantization (case-insensitive, followed by '.' or '-', never
 * a projector, a split model refused, Q4_K_M then Q8_0 by default), the
 * projector chosen, the quantization read from a name — and the models
 * folder (pull/models.h): listing with projectors, NAME resolution by
 * exact name or unique prefix. */
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"
#include "pull/hub.h"
#include "pull/models.h"

IA_TEST(pull_ref_parse) {
    ia_hub_ref r;
    ia_err err;
    IA_CHECK(ia_hub_ref_parse("ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", &r, &err) == 0);
    IA_CHECK_STREQ(r.repo, "ggml-org/gemma-3-1b-it-GGUF");
    IA_CHECK_STREQ(r.tag, "Q4_K_M");
    ia_hub_ref_free(&r);
    IA_CHECK(ia_hub_ref_parse("a/b", &r, &err) == 0 && r.tag == NULL);
    ia_hub_ref_free(&r);
    const char *bad[] = {"noslash", "a/b/c", "../x", "a/..", "a/b:", "/b", "a/", "a/b:x y", "a b/c", ".a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        IA_CHECK(ia_hub_ref_parse(bad[i], &r, &err) == -1);
        IA_CHECK(err.code == IA_EINVALID);
    }
}

static const char *TREE =
    "[{\"type\":\"directory\",\"oid\":\"aaaa\",\"size\":0,\"path\":\"docs\"},"
    "{\"type\":\"file\",\"oid\":\"1111111111111111111111111111111111111111\",\"size\":10,\"path\":\"README.md\"},"
    "{\"type\":\"file\",\"oid\":\"2222\",\"size\":100,\"path\":\"gemma-3-1b-it-Q8_0.gguf\",\"lfs\":{\"oid\":"
    "\"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\",\"size\":1000,\"pointerSize\":134}},"
    "{\"type\":\"file\",\"oid\":\"3333\",\"size\":5,\"path\":\"gemma-3-1b-it-Q4_K_M.gguf\",\"lfs\":{\"oid\":"
    "\"0000000000000000000000000000000000000000000000000000000000000001\",\"size\":500}},"
    "{\"type\":\"file\",\"path\":\"mmproj-model-f16.gguf\",\"size\":7},"
    "{\"type\":\"file\",\"path\":\"mmproj-model-Q8_0.gguf\",\"size\":6},"
    "{\"type\":\"file\",\"path\":\"big/big-Q6_K-00001-of-00002.gguf\",\"size\":6},"
    "{\"type\":\"file\",\"path\":\"big/big-Q6_K-00002-of-00002.gguf\",\"size\":6},"
    "{\"type\":\"file\",\"path\":\"imatrix-Q5_K_M.gguf\",\"size\":6}]";

IA_TEST(pull_tree_parse_and_pick) {
    ia_hub_files f;
    ia_err err;
    IA_CHECK(ia_hub_files_parse(TREE, strlen(TREE), &f, &err) == 0);
    IA_CHECK(f.n == 8); /* the directory skipped */
    IA_CHECK_STREQ(f.v[0].path, "README.md");
    IA_CHECK_STREQ(f.v[0].sha256, ""); /* a git SHA-1 is no file hash */
    IA_CHECK_STREQ(f.v[1].sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    IA_CHECK(f.v[1].size == 1000); /* the LFS size, not the pointer's */
    const ia_hub_file *m = ia_hub_pick_model(&f, "q8_0", &err);
    IA_CHECK(m && !strcmp(m->path, "gemma-3-1b-it-Q8_0.gguf"));
    m = ia_hub_pick_model(&f, NULL, &err); /* Q4_K_M first by default */
    IA_CHECK(m && !strcmp(m->path, "gemma-3-1b-it-Q4_K_M.gguf"));
    m = ia_hub_pick_model(&f, "gemma-3-1b-it-Q8_0.gguf", &err);
    IA_CHECK(m && m->size == 1000);
    IA_CHECK(ia_hub_pick_model(&f, "Q4_K", &err) == NULL); /* Q4_K_M is not Q4_K */
    IA_CHECK(err.code == IA_ENOTFOUND);
    IA_CHECK_CONTAINS(err.msg, "gemma-3-1b-it-Q4_K_M.gguf");
    IA_CHECK(ia_hub_pick_model(&f, "Q6_K", &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "split");
    IA_CHECK(ia_hub_pick_model(&f, "Q5_K_M", &err) == NULL); /* an imatrix is no model */
    IA_CHECK(ia_hub_pick_model(&f, "missing.gguf", &err) == NULL);
    const ia_hub_file *p = ia_hub_pick_mmproj(&f, "Q8_0");
    IA_CHECK(p && !strcmp(p->path, "mmproj-model-Q8_0.gguf"));
    p = ia_hub_pick_mmproj(&f, "Q4_K_M"); /* none of that quantization: F16 */
    IA_CHECK(p && !strcmp(p->path, "mmproj-model-f16.gguf"));
    ia_hub_files_free(&f);

    const char *none = "[{\"type\":\"file\",\"path\":\"a-Q4_K_M.gguf\"}]";
    IA_CHECK(ia_hub_files_parse(none, strlen(none), &f, &err) == 0);
    IA_CHECK(ia_hub_pick_mmproj(&f, NULL) == NULL);
    ia_hub_files_free(&f);
    const char *bad[] = {"{}", "[", "[{\"type\":\"file\",\"path\":\"../etc/passwd\"}]",
                         "[{\"type\":\"file\",\"path\":\"/abs\"}]"};
    for (size_t i = 0; i < 4; i++) {
        IA_CHECK(ia_hub_files_parse(bad[i], strlen(bad[i]), &f, &err) == -1);
        IA_CHECK(f.n == 0 && f.v == NULL);
    }
}

IA_TEST(pull_quant_of) {
    char q[24];
    ia_hub_quant_of("gemma-3-1b-it-Q4_K_M.gguf", q, sizeof q);
    IA_CHECK_STREQ(q, "Q4_K_M");
    ia_hub_quant_of("Qwen2.5-7B-Instruct.q8_0.gguf", q, sizeof q);
    IA_CHECK_STREQ(q, "Q8_0");
    ia_hub_quant_of("model-IQ2_XS.gguf", q, sizeof q);
    IA_CHECK_STREQ(q, "IQ2_XS");
    ia_hub_quant_of("model-bf16.gguf", q, sizeof q);
    IA_CHECK_STREQ(q, "BF16");
    ia_hub_quant_of("demo.gguf", q, sizeof q);
    IA_CHECK_STREQ(q, "");
    ia_hub_quant_of("Q4_0.gguf", q, sizeof q);
    IA_CHECK_STREQ(q, "Q4_0");
}

static void touch(const char *dir, const char *name) {
    char *p = ia_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) fputs("x", f), fclose(f);
    free(p);
}

IA_TEST(pull_models_folder) {
    char tmpl[] = "/tmp/ia-models-XXXXXX";
    IA_CHECK(mkdtemp(tmpl) != NULL);
    touch(tmpl, "gemma-3-1b-it-Q4_K_M.gguf");
    touch(tmpl, "mmproj-gemma-3-1b-it-Q4_K_M.gguf");
    touch(tmpl, "qwen-Q8_0.gguf");
    touch(tmpl, "qwen-Q4_0.gguf");
    touch(tmpl, "late-Q4_0.gguf.part");
    ia_local_model *v;
    size_t n;
    ia_err err;
    IA_CHECK(ia_models_list(tmpl, &v, &n, &err) == 0);
    IA_CHECK(n == 3);
    IA_CHECK_STREQ(v[0].name, "gemma-3-1b-it-Q4_K_M");
    IA_CHECK_STREQ(v[0].quant, "Q4_K_M");
    IA_CHECK(v[0].mmproj && strstr(v[0].mmproj, "/mmproj-gemma-3-1b-it-Q4_K_M.gguf"));
    IA_CHECK(v[0].size == 1 && v[1].mmproj == NULL);
    ia_models_free(v, n);
    char *p = ia_models_resolve(tmpl, "gemma", &err);
    IA_CHECK(p && strstr(p, "/gemma-3-1b-it-Q4_K_M.gguf"));
    free(p);
    p = ia_models_resolve(tmpl, "qwen-Q4_0", &err);
    IA_CHECK(p && strstr(p, "/qwen-Q4_0.gguf"));
    free(p);
    IA_CHECK(ia_models_resolve(tmpl, "qwen", &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "matches several models");
    IA_CHECK(ia_models_resolve(tmpl, "llama", &err) == NULL);
    IA_CHECK(err.code == IA_ENOTFOUND);
    IA_CHECK(ia_models_resolve(tmpl, "mmproj", &err) == NULL); /* a projector is no model */
    IA_CHECK(ia_models_list("/nonexistent/ia", &v, &n, &err) == 0 && n == 0);
    char *cmd = ia_asprintf("rm -rf '%s'", tmpl);
    IA_CHECK(system(cmd) == 0);
    free(cmd);
}

IA_TEST(pull_models_dir_default) {
    char *old_x = getenv("XDG_DATA_HOME") ? ia_strdup(getenv("XDG_DATA_HOME")) : NULL;
    char *old_m = getenv("INTERACTD_MODELS_DIR") ? ia_strdup(getenv("INTERACTD_MODELS_DIR")) : NULL;
    unsetenv("INTERACTD_MODELS_DIR");
    setenv("XDG_DATA_HOME", "/srv/data", 1);
    char *d = ia_models_dir(NULL);
    int ok = !strcmp(d, "/srv/data/interactd/models");
    free(d);
    setenv("INTERACTD_MODELS_DIR", "/m", 1);
    d = ia_models_dir(NULL);
    ok = ok && !strcmp(d, "/m");
    free(d);
    d = ia_models_dir("/flag");
    ok = ok && !strcmp(d, "/flag");
    free(d);
    unsetenv("XDG_DATA_HOME");
    unsetenv("INTERACTD_MODELS_DIR");
    d = ia_models_dir(NULL);
    ok = ok && strstr(d, "/.local/share/interactd/models") != NULL;
    free(d);
    if (old_x) setenv("XDG_DATA_HOME", old_x, 1);
    if (old_m) setenv("INTERACTD_MODELS_DIR", old_m, 1);
    free(old_x);
    free(old_m);
    IA_CHECK(ok);
}
