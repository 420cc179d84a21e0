/* models: the models folder that `interactd pull` fills and `serve` and
 * `interactd models` read.
 *
 * The folder: --models-dir, else INTERACTD_MODELS_DIR, else
 * $XDG_DATA_HOME/interactd/models, else ~/.local/share/interactd/models.
 * It is flat: each pulled model is FILE.gguf (the repository's file name),
 * its projector beside it as mmproj-STEM.gguf (STEM: the model's file name
 * without .gguf, the name serve looks for a projector by), a download in
 * progress FILE.gguf.part.
 *
 * A model's NAME is its STEM. `serve --model NAME` (a value with no '/'
 * that is no file) resolves NAME in the folder: the model whose STEM is
 * NAME, else the one model whose STEM starts with NAME (case-insensitive;
 * "gemma-3-1b-it" finds gemma-3-1b-it-Q4_K_M.gguf); none or several is an
 * error naming what there is. */
#ifndef IA_PULL_MODELS_H
#define IA_PULL_MODELS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "lib/err.h"

typedef struct ia_local_model {
    char *name;   /* STEM */
    char *path;   /* DIR/STEM.gguf */
    char *mmproj; /* DIR/mmproj-STEM.gguf, NULL when absent */
    int64_t size; /* bytes of the model file */
    char quant[24]; /* from the file name, "" when it shows none */
} ia_local_model;

/* The folder as above (flag_value: --models-dir, or NULL); caller frees. */
char *ia_models_dir(const char *flag_value);
/* The models in dir, sorted by name; *n = 0 when dir does not exist. */
int ia_models_list(const char *dir, ia_local_model **out, size_t *n, ia_err *err);
void ia_models_free(ia_local_model *v, size_t n);
/* The model file NAME stands for (see above), or NULL + err. */
char *ia_models_resolve(const char *dir, const char *name, ia_err *err);
/* mkdir -p dir; -1 + err. */
int ia_models_mkdir(const char *dir, ia_err *err);

#endif
