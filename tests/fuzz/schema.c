/* Fuzz target: the structured-output schema path (src/schema/): the keyword
 * check and normalization (ia_schema_prepare), llama.cpp's schema-to-grammar
 * converter behind our C++ guard (ia_schema_grammar, src/engine/chat.cpp)
 * and the validator (ia_schema_validate). A client's response_format and
 * every function's parameters reach these from the request body.
 *
 * Input: a JSON Schema, optionally followed by "\n--\n" and a JSON instance
 * to validate against it. Checks: a refusal is IA_EINVALID with a message; a
 * prepared schema is accepted again when prepared a second time (what we
 * store and reload must pass our own check); a grammar the converter wrote
 * for an accepted schema is one llama.cpp's grammar parser accepts (the
 * engine builds its sampler from it: a grammar that does not parse would
 * fail the run after the request was accepted), and the converter did not
 * warn that it dropped part of it ("conversion was incomplete"). */
#include "fuzz.h"

#include <jansson.h>
#include <llama.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "schema/schema.h"

static struct llama_model *g_model; /* kept for the process: its vocab is used */
static const struct llama_vocab *g_vocab;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    ia_engine_global_init(NULL, false); /* quiets llama.cpp's log */
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    g_model = llama_model_load_from_file(IA_DEMO_MODEL, mp);
    if (g_model) g_vocab = llama_model_get_vocab(g_model);
    else fprintf(stderr, "schema fuzz: no %s, the grammar-parse check is off\n", IA_DEMO_MODEL);
    return 0;
}

static void check_grammar(json_t *prep) {
    ia_err err;
    memset(&err, 0, sizeof err);
    fuzz_stderr_begin();
    char *g = ia_schema_grammar(prep, "response_format", &err);
    /* a schema we accepted that the converter only partly turned into
     * grammar (it warns and drops the part: the output is not bound by it) */
    FUZZ_CHECK(!fuzz_stderr_end_warned() || !g);
    if (!g) {
        FUZZ_CHECK(err.code == IA_EINVALID && err.msg[0]);
        return;
    }
    if (g_vocab) {
        struct llama_sampler *s = llama_sampler_init_grammar(g_vocab, g, "root");
        if (!s) fprintf(stderr, "grammar that llama.cpp refuses:\n%s\n", g);
        FUZZ_CHECK(s != NULL);
        llama_sampler_free(s);
    }
    free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    char *inst_text = strstr(text, "\n--\n");
    if (inst_text) {
        *inst_text = '\0';
        inst_text += 4;
    }
    json_t *schema = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!schema) goto out;
    ia_err err;
    memset(&err, 0, sizeof err);
    json_t *prep = ia_schema_prepare(schema, "response_format", &err);
    if (!prep) {
        FUZZ_CHECK(err.code == IA_EINVALID && err.msg[0]);
        json_decref(schema);
        goto out;
    }
    json_t *again = ia_schema_prepare(prep, "response_format", &err);
    if (!again) fprintf(stderr, "re-prepare refused: %s\n", err.msg);
    FUZZ_CHECK(again != NULL);
    json_decref(again);
    check_grammar(prep);
    json_t *inst = inst_text ? json_loads(inst_text, JSON_DECODE_ANY, NULL) : NULL;
    if (inst) {
        char why[256];
        why[0] = '\0';
        if (!ia_schema_validate(prep, inst, why, sizeof why)) FUZZ_CHECK(why[0] != '\0');
        json_decref(inst);
    }
    json_decref(prep);
    json_decref(schema);
out:
    free(text);
    return 0;
}
