/* Fuzz target: what `interactd pull` reads from a Hugging Face hub
 * (src/pull/hub.c) — the hub's tree listing (JSON from the network) and
 * the OWNER/REPO[:TAG] reference the user types, then the choice of files
 * and the quantization read from a name.
 *
 * Input: the reference on the first line, the listing after it. Checks: a
 * parsed reference has one '/', no "..", and a tag without ':'; a listing's
 * paths are non-empty, relative, without ".." or '\\', each SHA-256 empty
 * or 64 lowercase hex digits; a chosen model is one of the listed files, a
 * .gguf that is no projector, whose name holds the tag (case-insensitive)
 * when a quantization was asked; a projector is a listed .gguf with
 * "mmproj" in its name; a quantization read from a name is uppercase and
 * in the name. */
#include "fuzz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pull/hub.h"

static bool in_list(const ia_hub_files *f, const ia_hub_file *x) { return x >= f->v && x < f->v + f->n; }

static void check_quant(const char *name) {
    char q[24];
    ia_hub_quant_of(name, q, sizeof q);
    for (const char *p = q; *p; p++) FUZZ_CHECK(!islower((unsigned char)*p));
    FUZZ_CHECK(!*q || strcasestr(ia_hub_basename(name), q));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - data) : size;
    char *ref_s = fuzz_cstr(data, first);
    ia_hub_ref ref;
    ia_err err;
    const char *tag = NULL;
    bool have_ref = ia_hub_ref_parse(ref_s, &ref, &err) == 0;
    if (have_ref) {
        const char *s = strchr(ref.repo, '/');
        FUZZ_CHECK(s && !strchr(s + 1, '/') && !strstr(ref.repo, ".."));
        FUZZ_CHECK(!ref.tag || (*ref.tag && !strchr(ref.tag, ':') && !strstr(ref.tag, "..")));
        tag = ref.tag;
    }
    const char *rest = nl ? (const char *)nl + 1 : "";
    size_t rn = nl ? size - first - 1 : 0;
    ia_hub_files f;
    if (ia_hub_files_parse(rest, rn, &f, &err) == 0) {
        for (size_t i = 0; i < f.n; i++) {
            const char *p = f.v[i].path;
            FUZZ_CHECK(*p && *p != '/' && !strstr(p, "..") && !strchr(p, '\\'));
            size_t hl = strlen(f.v[i].sha256);
            FUZZ_CHECK(hl == 0 || hl == 64);
            for (size_t k = 0; k < hl; k++)
                FUZZ_CHECK(isdigit((unsigned char)f.v[i].sha256[k]) || (f.v[i].sha256[k] >= 'a' && f.v[i].sha256[k] <= 'f'));
            check_quant(p);
        }
        const ia_hub_file *m = ia_hub_pick_model(&f, tag, &err);
        if (m) {
            FUZZ_CHECK(in_list(&f, m));
            const char *b = ia_hub_basename(m->path);
            size_t bl = strlen(b);
            FUZZ_CHECK(bl > 5 && !strcasecmp(b + bl - 5, ".gguf"));
            bool exact = tag && strlen(tag) > 5 && !strcasecmp(tag + strlen(tag) - 5, ".gguf");
            FUZZ_CHECK(exact || !strcasestr(b, "mmproj"));
            FUZZ_CHECK(!tag || exact || strcasestr(b, tag));
        } else {
            FUZZ_CHECK(err.msg[0] != '\0');
        }
        const ia_hub_file *p = ia_hub_pick_mmproj(&f, tag);
        FUZZ_CHECK(!p || (in_list(&f, p) && strcasestr(ia_hub_basename(p->path), "mmproj")));
        ia_hub_files_free(&f);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    if (have_ref) ia_hub_ref_free(&ref);
    free(ref_s);
    return 0;
}
