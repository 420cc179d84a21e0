/* Fuzz target: the --speech-model spec (src/speech/tts.c's
 * ia_tts_spec_parse): NAME=BACKBONE.gguf[,mmproj=FILE][,speaker=REF]
 * [,voice=VOICE:REF]..., from a flag or INTERACTD_SPEECH_MODELS.
 *
 * Input: the spec, cut at a NUL as the flag would be.
 * Checks: a refusal is IA_EINVALID with a one-line message and leaves the
 * spec empty; an accepted spec has a non-empty name of letters, digits and
 * ". _ - :", a non-empty backbone path without a comma, at most one
 * default voice and IA_TTS_MAX_VOICES named ones, each with a non-empty
 * file, the named ones of letters, digits, '_' or '-' and distinct in any
 * case; written back as a spec it parses to the same. */
#include "fuzz.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "speech/tts.h"

static bool name_ok(const char *s, const char *extra) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(extra, *s)) return false;
    return true;
}

static char *write_back(const ia_tts_spec *s) {
    char *out = ia_asprintf("%s=%s", s->name, s->model);
    if (s->mmproj) {
        char *t = ia_asprintf("%s,mmproj=%s", out, s->mmproj);
        free(out);
        out = t;
    }
    for (size_t i = 0; i < s->n_voices; i++) {
        char *t = s->voices[i].name ? ia_asprintf("%s,voice=%s:%s", out, s->voices[i].name, s->voices[i].file)
                                    : ia_asprintf("%s,speaker=%s", out, s->voices[i].file);
        free(out);
        out = t;
    }
    return out;
}

static bool same(const ia_tts_spec *a, const ia_tts_spec *b) {
    if (strcmp(a->name, b->name) || strcmp(a->model, b->model) || (!a->mmproj != !b->mmproj) ||
        (a->mmproj && strcmp(a->mmproj, b->mmproj)) || a->n_voices != b->n_voices)
        return false;
    for (size_t i = 0; i < a->n_voices; i++)
        if ((!a->voices[i].name != !b->voices[i].name) ||
            (a->voices[i].name && strcmp(a->voices[i].name, b->voices[i].name)) ||
            strcmp(a->voices[i].file, b->voices[i].file))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    ia_tts_spec s;
    ia_err err = {0};
    if (ia_tts_spec_parse(text, &s, &err) != 0) {
        FUZZ_CHECK(err.code == IA_EINVALID && !s.name && !s.model && !s.mmproj && s.n_voices == 0);
        FUZZ_CHECK(!strchr(err.msg, '\n') || strchr(text, '\n'));
        free(text);
        return 0;
    }
    FUZZ_CHECK(name_ok(s.name, "._-:"));
    FUZZ_CHECK(s.model && *s.model && !strchr(s.model, ','));
    FUZZ_CHECK(!s.mmproj || (*s.mmproj && !strchr(s.mmproj, ',')));
    size_t defaults = 0;
    for (size_t i = 0; i < s.n_voices; i++) {
        FUZZ_CHECK(s.voices[i].file && *s.voices[i].file && !strchr(s.voices[i].file, ','));
        if (!s.voices[i].name) {
            defaults++;
            continue;
        }
        FUZZ_CHECK(name_ok(s.voices[i].name, "_-"));
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(!s.voices[k].name || strcasecmp(s.voices[k].name, s.voices[i].name) != 0);
    }
    FUZZ_CHECK(defaults <= 1 && s.n_voices <= IA_TTS_MAX_VOICES + 1);
    char *again = write_back(&s);
    ia_tts_spec back;
    FUZZ_CHECK(ia_tts_spec_parse(again, &back, &err) == 0 && same(&s, &back));
    ia_tts_spec_free(&back);
    ia_tts_spec_free(&s);
    free(again);
    free(text);
    return 0;
}
