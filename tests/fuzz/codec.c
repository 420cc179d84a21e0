/* Fuzz target: the store codec's decoders (src/store/codec.c, and the
 * events' parts of codec_events.c): the stored conversation, turn,
 * generation_config, response_format and event texts are read back from the
 * SQLite file on every GET, chain rebuild and replay, so a damaged or
 * foreign database file is outside bytes too.
 *
 * Input: the first byte picks conv / turn / generation_config /
 * response_format / event (whose second byte picks its kind, ckind and
 * code); the rest is the stored text. Checks: what decodes encodes again, and that text decodes
 * and encodes to the same text (the codec's form is a fixpoint: a row
 * rewritten by the store reads the same); a failed decode leaves *out
 * empty. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "model/types.h"
#include "store/store.h"

static void conv(const char *s) {
    ia_conv c;
    if (ia_codec_conv_decode(s, &c) != 0) {
        FUZZ_CHECK(c.n == 0 && c.turns == NULL);
        return;
    }
    char *a = ia_codec_conv_encode(&c);
    FUZZ_CHECK(a != NULL);
    ia_conv back;
    FUZZ_CHECK(ia_codec_conv_decode(a, &back) == 0 && back.n == c.n);
    char *b = ia_codec_conv_encode(&back);
    FUZZ_CHECK(b != NULL && strcmp(a, b) == 0);
    free(a);
    free(b);
    ia_conv_free(&back);
    ia_conv_free(&c);
}

static void turn(const char *s) {
    ia_turn t;
    if (ia_codec_turn_decode(s, &t) != 0) {
        FUZZ_CHECK(t.n == 0 && t.items == NULL);
        return;
    }
    char *a = ia_codec_turn_encode(&t);
    FUZZ_CHECK(a != NULL);
    ia_turn back;
    FUZZ_CHECK(ia_codec_turn_decode(a, &back) == 0 && back.n == t.n && back.role == t.role);
    char *b = ia_codec_turn_encode(&back);
    FUZZ_CHECK(b != NULL && strcmp(a, b) == 0);
    free(a);
    free(b);
    ia_turn_free(&back);
    ia_turn_free(&t);
}

static void gen(const char *s) {
    ia_gen_config g;
    if (ia_codec_gen_decode(s, &g) != 0) {
        FUZZ_CHECK(g.n_stop == 0 && g.stop == NULL);
        return;
    }
    char *a = ia_codec_gen_encode(&g);
    FUZZ_CHECK((a != NULL) == ia_gen_config_is_set(&g));
    ia_gen_config back;
    FUZZ_CHECK(ia_codec_gen_decode(a, &back) == 0);
    char *b = ia_codec_gen_encode(&back);
    FUZZ_CHECK((!a && !b) || (a && b && strcmp(a, b) == 0));
    free(a);
    free(b);
    ia_gen_config_free(&back);
    ia_gen_config_free(&g);
}

/* response_format as given (the steps dialect's echo). */
static void rformat(const char *s) {
    ia_rformat f;
    if (ia_codec_rformat_decode(s, &f) != 0) {
        FUZZ_CHECK(f.shape == IA_RFORMAT_NONE && !f.mime_type && !f.schema && !f.modalities);
        return;
    }
    char *a = ia_codec_rformat_encode(&f);
    FUZZ_CHECK((a != NULL) == (f.shape != IA_RFORMAT_NONE || f.modalities != 0));
    ia_rformat back;
    FUZZ_CHECK(ia_codec_rformat_decode(a, &back) == 0 && back.shape == f.shape && back.modalities == f.modalities);
    char *b = ia_codec_rformat_encode(&back);
    FUZZ_CHECK((!a && !b) || (a && b && strcmp(a, b) == 0));
    free(a);
    free(b);
    ia_rformat_free(&back);
    ia_rformat_free(&f);
}

/* An event's text column: decoding never fails, and a part's neutral
 * JSON is a fixpoint (what a part encodes to decodes to the same part). */
static void event(uint8_t sel, const char *s) {
    ia_event e = {.kind = sel & 1 ? IA_EV_CONTENT_DELTA : IA_EV_CONTENT_START,
                  .ckind = (ia_content_kind)((sel >> 1) % 10)};
    const char *code = sel & 0x80 ? "annotations" : NULL;
    ia_codec_event_decode(&e, s, code);
    char *a = ia_codec_event_encode(&e);
    ia_event back = {.kind = e.kind, .ckind = e.ckind};
    ia_codec_event_decode(&back, a ? a : e.text, ia_codec_event_code(&e));
    char *b = ia_codec_event_encode(&back);
    FUZZ_CHECK((!a && !b) || (a && b && strcmp(a, b) == 0));
    free(a);
    free(b);
    ia_event_free(&back);
    ia_event_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] % 5 == 4) {
        if (size < 2) return 0;
        char *s = fuzz_cstr(data + 2, size - 2);
        event(data[1], s);
        free(s);
        return 0;
    }
    char *s = fuzz_cstr(data + 1, size - 1);
    switch (data[0] % 5) {
    case 0: conv(s); break;
    case 1: turn(s); break;
    case 2: gen(s); break;
    default: rformat(s); break;
    }
    free(s);
    return 0;
}
