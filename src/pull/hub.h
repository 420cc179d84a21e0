/* hub: what `interactd pull` reads from the Hugging Face hub, as pure
 * functions over its bytes (no I/O here, so the parsers are fuzzed):
 *
 *  - the reference "OWNER/REPO[:QUANT_OR_FILE]" (llama.cpp's -hf syntax):
 *    QUANT is matched against the repository's file names, FILE (ending in
 *    .gguf) names one file exactly;
 *  - the listing `GET {endpoint}/api/models/{repo}/tree/main?recursive=true`
 *    answers: a JSON array of {"type":"file","path","size","oid",
 *    "lfs":{"oid":SHA256,"size"}}; an LFS file's SHA-256 is lfs.oid (a git
 *    blob's oid is a SHA-1 of the blob, not of the file: not used);
 *  - the choice of the model file: a .gguf whose name is no projector
 *    (mmproj), imatrix or split part past the first, containing QUANT
 *    followed by '.' or '-' (case-insensitive); with no QUANT, Q4_K_M,
 *    then Q8_0, then the first model file; and the projector: a .gguf with
 *    "mmproj" in its name, the one sharing QUANT first, else F16, else the
 *    first. Split models (NAME-00001-of-00003.gguf) are refused: serve
 *    loads one file. */
#ifndef IA_PULL_HUB_H
#define IA_PULL_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

typedef struct ia_hub_ref {
    char *repo; /* "owner/name" */
    char *tag;  /* QUANT or FILE, NULL when none was given */
} ia_hub_ref;

typedef struct ia_hub_file {
    char *path;      /* inside the repository, '/'-separated */
    int64_t size;    /* bytes; -1 unknown */
    char sha256[65]; /* lowercase hex, "" when the hub gave none (not LFS) */
} ia_hub_file;

typedef struct ia_hub_files {
    ia_hub_file *v;
    size_t n;
} ia_hub_files;

/* Parses "owner/name[:tag]"; an owner and a name of [A-Za-z0-9._-] (no
 * "..", no leading '.' or '-'), a tag of [A-Za-z0-9._-/]. -1 + err. */
int ia_hub_ref_parse(const char *s, ia_hub_ref *out, ia_err *err);
void ia_hub_ref_free(ia_hub_ref *r);

/* Parses the tree listing (json[0..n)); entries other than files, and
 * files without a path, are skipped; a path with "..", a leading '/' or a
 * NUL is refused. -1 + err when the text is no JSON array. */
int ia_hub_files_parse(const char *json, size_t n, ia_hub_files *out, ia_err *err);
void ia_hub_files_free(ia_hub_files *f);

/* The model file for tag (NULL: the default choice), or NULL + err naming
 * the GGUF files there are. */
const ia_hub_file *ia_hub_pick_model(const ia_hub_files *f, const char *tag, ia_err *err);
/* The projector to fetch beside model, or NULL when the repository has none. */
const ia_hub_file *ia_hub_pick_mmproj(const ia_hub_files *f, const char *tag);
/* The file's base name (after the last '/'). */
const char *ia_hub_basename(const char *path);
/* The quantization in a GGUF file name ("gemma-3-1b-it-Q4_K_M.gguf" ->
 * "Q4_K_M", uppercase) into out, or "" when it shows none. */
void ia_hub_quant_of(const char *name, char *out, size_t cap);

#endif
