/* test_api_speech: the request side of speech output (issue 13) —
 * response_modalities in either case, generation_config.speech_config in
 * both shapes (the guide's one object, the SDKs' list with speakers) and
 * both dialects, each 400 with its exact message, the refusal of what is
 * not served yet (audio until the speech engine is hooked into runs, and
 * images), the steps dialect's echo and the store codec's round trip. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "speech/speech.h"
#include "store/store.h"
#include "unit.h"

#define REQ(extra) "{\"model\":\"demo\",\"input\":\"Say the following: WOOHOO This is so much fun!.\"" extra "}"
#define AUDIO ",\"response_modalities\":[\"AUDIO\"]"
#define GUIDE_ONE ",\"generation_config\":{\"speech_config\":{\"language\":\"en-us\",\"voice\":\"kore\"}}"
#define GUIDE_TWO                                                                                   \
    ",\"generation_config\":{\"speech_config\":[{\"voice\":\"Zephyr\",\"speaker\":\"Alice\",\"language\":" \
    "\"en-US\"},{\"voice\":\"Puck\",\"speaker\":\"Bob\",\"language\":\"en-US\"}]}"
#define SPEECH(v) ",\"generation_config\":{\"speech_config\":" v "}"

static int dec(const char *body, ia_dialect d, ia_request *r) {
    ia_err e;
    ia_err_clear(&e);
    int rc = ia_api_decode_create_dialect(body, strlen(body), d, r, &e);
    if (rc != 0) fprintf(stderr, "    body %s\n    failed: %s\n", body, e.msg);
    return rc;
}

/* body fails with code and exactly msg, in both dialects, leaving nothing. */
static int fails(const char *body, ia_errcode code, const char *msg) {
    for (int d = 0; d < 2; d++) {
        ia_request r;
        ia_err e;
        ia_err_clear(&e);
        int rc = ia_api_decode_create_dialect(body, strlen(body), (ia_dialect)d, &r, &e);
        int ok = rc == -1 && e.code == code && strcmp(e.msg, msg) == 0 && r.gen.speech.n == 0 && r.model == NULL;
        if (!ok)
            fprintf(stderr, "    body %s (dialect %d)\n    got rc=%d code=%s msg=\"%s\"\n    expected %s \"%s\"\n",
                    body, d, rc, ia_err_wire_code(e.code), e.msg, ia_err_wire_code(code), msg);
        ia_request_free(&r);
        if (!ok) return 0;
    }
    return 1;
}

/* ---- response_modalities ------------------------------------------------------ */

IA_TEST(api_speech_modalities_in_any_case_refused_until_served) {
    ia_api_serve_outputs(0);
    IA_CHECK(ia_api_served_outputs() == (IA_MOD_BIT_TEXT | IA_MOD_BIT_IMAGE));
    for (int d = 0; d < 2; d++) {
        ia_request r;
        IA_CHECK(dec(REQ(",\"response_modalities\":[\"TEXT\",\"text\",\"Text\"]"), (ia_dialect)d, &r) == 0);
        IA_CHECK(r.modalities == IA_MOD_BIT_TEXT);
        ia_request_free(&r);
        IA_CHECK(dec(REQ(",\"response_modalities\":[]"), (ia_dialect)d, &r) == 0);
        IA_CHECK(r.modalities == 0);
        ia_request_free(&r);
    }
    IA_CHECK(fails(REQ(AUDIO), IA_EUNIMPLEMENTED, "response_modalities[0]: 'audio' output is not supported yet"));
    IA_CHECK(fails(REQ(",\"response_modalities\":[\"TEXT\",\"audio\"]"), IA_EUNIMPLEMENTED,
                   "response_modalities[1]: 'audio' output is not supported yet"));
    IA_CHECK(fails(REQ(",\"response_modalities\":[\"VIDEO\"]"), IA_EUNIMPLEMENTED,
                   "response_modalities[0]: 'video' output is not supported yet"));
    IA_CHECK(fails(REQ(",\"response_modalities\":[\"Smell\"]"), IA_EINVALID,
                   "response_modalities[0]: expected one of 'text', 'image', 'audio', 'video', 'document' (in any "
                   "case)"));
    IA_CHECK(fails(REQ(",\"response_modalities\":\"AUDIO\""), IA_EINVALID,
                   "response_modalities: expected an array of strings"));
    IA_CHECK(fails(REQ(",\"response_modalities\":[1]"), IA_EINVALID, "response_modalities[0]: expected a string"));
    /* speech_config is decoded and checked, then refused while audio is not served */
    IA_CHECK(fails(REQ(GUIDE_ONE), IA_EUNIMPLEMENTED,
                   "generation_config.speech_config: speech output is not supported yet by this server"));
    IA_CHECK(fails(REQ(AUDIO GUIDE_TWO), IA_EUNIMPLEMENTED,
                   "response_modalities[0]: 'audio' output is not supported yet"));
    /* a bad speech_config is named first, whichever key comes first */
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"voice\":\"Bo\\ngus\"}")), IA_EINVALID,
                   "generation_config.speech_config.voice: a voice name has no control character"));
}

/* ---- speech_config, with audio served (as the hookup will set it) --------------- */

IA_TEST(api_speech_config_decodes_both_shapes) {
    ia_api_serve_outputs(IA_MOD_BIT_AUDIO);
    for (int d = 0; d < 2; d++) {
        ia_request r;
        int rc = dec(REQ(AUDIO GUIDE_ONE), (ia_dialect)d, &r);
        int ok = rc == 0 && r.modalities == IA_MOD_BIT_AUDIO && r.gen.speech.n == 1 && !r.gen.speech.listed &&
                 strcmp(r.gen.speech.v[0].voice, "kore") == 0 && strcmp(r.gen.speech.v[0].language, "en-us") == 0 &&
                 r.gen.speech.v[0].speaker == NULL && ia_gen_config_is_set(&r.gen);
        ia_request_free(&r);
        IA_CHECK(ok);
        rc = dec(REQ(",\"response_modalities\":[\"TEXT\",\"AUDIO\",\"audio\"]" GUIDE_TWO), (ia_dialect)d, &r);
        ok = rc == 0 && r.modalities == (IA_MOD_BIT_TEXT | IA_MOD_BIT_AUDIO) && r.gen.speech.n == 2 &&
             r.gen.speech.listed && strcmp(r.gen.speech.v[0].voice, "Zephyr") == 0 &&
             strcmp(r.gen.speech.v[0].speaker, "Alice") == 0 && strcmp(r.gen.speech.v[1].voice, "Puck") == 0 &&
             strcmp(r.gen.speech.v[1].speaker, "Bob") == 0 && strcmp(r.gen.speech.v[1].language, "en-US") == 0;
        ia_request_free(&r);
        IA_CHECK(ok);
        /* a list of one; nulls are "not set"; no speech_config at all */
        rc = dec(REQ(AUDIO SPEECH("[{\"voice\":\"Charon\",\"language\":null,\"speaker\":null}]")), (ia_dialect)d, &r);
        ok = rc == 0 && r.gen.speech.n == 1 && r.gen.speech.listed && !r.gen.speech.v[0].language;
        ia_request_free(&r);
        IA_CHECK(ok);
        rc = dec(REQ(AUDIO SPEECH("{}")), (ia_dialect)d, &r);
        ok = rc == 0 && r.gen.speech.n == 1 && !r.gen.speech.v[0].voice;
        ia_request_free(&r);
        IA_CHECK(ok);
        rc = dec(REQ(AUDIO), (ia_dialect)d, &r);
        ok = rc == 0 && r.gen.speech.n == 0 && r.modalities == IA_MOD_BIT_AUDIO;
        ia_request_free(&r);
        IA_CHECK(ok);
    }
    /* speech settings asked without audio output */
    IA_CHECK(fails(REQ(GUIDE_ONE), IA_EINVALID,
                   "generation_config.speech_config: speech settings, but response_modalities does not ask for "
                   "'audio'; add it (response_modalities: ['AUDIO']) or leave speech_config out"));
    IA_CHECK(fails(REQ(",\"response_modalities\":[\"text\"]" GUIDE_ONE), IA_EINVALID,
                   "generation_config.speech_config: speech settings, but response_modalities does not ask for "
                   "'audio'; add it (response_modalities: ['AUDIO']) or leave speech_config out"));
    /* video is not served (images are core's to route: test_images_req.c) */
    IA_CHECK(fails(REQ(",\"response_modalities\":[\"AUDIO\",\"VIDEO\"]"), IA_EUNIMPLEMENTED,
                   "response_modalities[1]: 'video' output is not supported yet"));
    ia_api_serve_outputs(IA_MOD_BIT_AUDIO); /* the server's default */
}

IA_TEST(api_speech_config_errors_name_the_field) {
    ia_api_serve_outputs(IA_MOD_BIT_AUDIO);
    IA_CHECK(fails(REQ(AUDIO SPEECH("\"Kore\"")), IA_EINVALID,
                   "generation_config.speech_config: expected an object {voice, language, speaker} or a list of "
                   "them (one per speaker)"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("[]")), IA_EINVALID,
                   "generation_config.speech_config: an empty list; give one {voice, language}, one {voice, "
                   "speaker} per speaker, or leave the field out"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("[{\"speaker\":\"A\"},{\"speaker\":\"B\"},{\"speaker\":\"C\"}]")), IA_EINVALID,
                   "generation_config.speech_config: at most 2 speakers, got 3"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("[\"Kore\"]")), IA_EINVALID,
                   "generation_config.speech_config[0]: expected an object {voice, language, speaker}"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"voice\":42}")), IA_EINVALID,
                   "generation_config.speech_config.voice: expected a string"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"voice\":\"\"}")), IA_EINVALID,
                   "generation_config.speech_config.voice: must not be empty"));
    /* any voice name decodes (an upstream engine has its own: af_heart); the
     * embedded engine's check (core calls it once the model is known)
     * refuses one of none of its 30 with the same message as before */
    {
        const char *body = REQ(AUDIO SPEECH("[{\"voice\":\"Kore\",\"speaker\":\"A\"},{\"voice\":\"Korea\",\"speaker\":\"B\"}]"));
        ia_request r;
        IA_CHECK(dec(body, IA_DIALECT_STEPS, &r) == 0 && strcmp(r.gen.speech.v[1].voice, "Korea") == 0);
        ia_err e;
        ia_err_clear(&e);
        IA_CHECK(ia_speech_check(&r.gen.speech, &e) == -1 && e.code == IA_EINVALID &&
                 strcmp(e.msg, "generation_config.speech_config[1].voice: unknown voice 'Korea' (one of Zephyr, "
                               "Puck, Charon, Kore, Fenrir, Leda, Orus, Aoede, Callirrhoe, Autonoe, Enceladus, "
                               "Iapetus, Umbriel, Algieba, Despina, Erinome, Algenib, Rasalgethi, Laomedeia, "
                               "Achernar, Alnilam, Schedar, Gacrux, Pulcherrima, Achird, Zubenelgenubi, "
                               "Vindemiatrix, Sadachbia, Sadaltager, Sulafat)") == 0);
        ia_request_free(&r);
        IA_CHECK(dec(REQ(AUDIO SPEECH("{\"voice\":\"af_heart\"}")), IA_DIALECT_STEPS, &r) == 0);
        ia_request_free(&r);
    }
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"language\":\"xx-YY\"}")), IA_EINVALID,
                   "generation_config.speech_config.language: language 'xx-YY' is not supported by this server's "
                   "speech engine (espeak-ng; such as 'en-US', 'pt-BR', 'es', 'fr', 'de', 'hi', 'ja', 'cmn')"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("[{\"language\":\"english!\"}]")), IA_EINVALID,
                   "generation_config.speech_config[0].language: 'english!' is not a language tag (BCP-47, such as "
                   "'en-US' or 'pt-BR')"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("[{\"voice\":\"Zephyr\",\"speaker\":\"Alice\"},{\"voice\":\"Puck\"}]")),
                   IA_EINVALID,
                   "generation_config.speech_config[1].speaker: required when several voices are given (the name "
                   "that labels this voice's lines in the text, as in 'Alice: Hi')"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("[{\"speaker\":\"Alice\"},{\"speaker\":\"alice\"}]")), IA_EINVALID,
                   "generation_config.speech_config[1].speaker: 'alice' is already "
                   "generation_config.speech_config[0]'s"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"speaker\":\"Dr: Who\"}")), IA_EINVALID,
                   "generation_config.speech_config.speaker: 'Dr: Who' cannot label a line of the transcript (no ':' "
                   "or line break in a speaker's name)"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"pitch\":2}")), IA_EINVALID,
                   "unknown field 'generation_config.speech_config.pitch'"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"voice_config\":{\"prebuilt_voice_config\":{\"voice_name\":\"Kore\"}}}")),
                   IA_EINVALID,
                   "generation_config.speech_config.voice_config: not a field here; name the voice in 'voice' "
                   "({voice: 'Kore'})"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"languageCode\":\"en-US\"}")), IA_EINVALID,
                   "generation_config.speech_config.languageCode: not a field here; it is spelled language"));
    IA_CHECK(fails(REQ(AUDIO SPEECH("{\"multi_speaker_voice_config\":{}}")), IA_EINVALID,
                   "generation_config.speech_config.multi_speaker_voice_config: not a field here; for several "
                   "speakers, speech_config is a list of {voice, speaker}"));
    ia_api_serve_outputs(IA_MOD_BIT_AUDIO); /* the server's default */
}

/* ---- echo and store ---------------------------------------------------------------- */

static int check_echo(const char *body, const char *want) {
    ia_request r;
    if (dec(body, IA_DIALECT_STEPS, &r) != 0) return 0;
    ia_interaction it;
    memset(&it, 0, sizeof it);
    snprintf(it.id, sizeof it.id, "v1_sp");
    it.model = ia_strdup("demo");
    it.status = IA_STATUS_COMPLETED;
    it.output.role = IA_ROLE_MODEL;
    ia_gen_config_copy(&it.gen, &r.gen);
    ia_request_free(&r);
    char *steps = ia_api_encode_fetched(&it, false, IA_DIALECT_STEPS);
    char *legacy = ia_api_encode_fetched(&it, false, IA_DIALECT_LEGACY);
    ia_interaction_free(&it);
    int ok = steps && strstr(steps, want) && legacy && !strstr(legacy, "speech_config");
    if (!ok) fprintf(stderr, "    %s\n    wanted %s\n", steps, want);
    free(steps);
    free(legacy);
    return ok;
}

IA_TEST(api_speech_config_echoed_as_given_in_steps) {
    ia_api_serve_outputs(IA_MOD_BIT_AUDIO);
    int one = check_echo(REQ(AUDIO GUIDE_ONE),
                         "\"generation_config\":{\"speech_config\":{\"voice\":\"kore\",\"language\":\"en-us\"}}");
    int two = check_echo(REQ(AUDIO GUIDE_TWO),
                         "\"generation_config\":{\"speech_config\":[{\"voice\":\"Zephyr\",\"language\":\"en-US\","
                         "\"speaker\":\"Alice\"},{\"voice\":\"Puck\",\"language\":\"en-US\",\"speaker\":\"Bob\"}]}");
    ia_api_serve_outputs(0);
    IA_CHECK(one && two);
}

static int same(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

IA_TEST(api_speech_config_codec_roundtrip) {
    ia_speech_entry v[2] = {{"Zephyr", "en-US", "Alice"}, {"Puck", NULL, "B\xc3\xb6" "b"}};
    for (int listed = 0; listed < 2; listed++) {
        ia_gen_config g = {0};
        g.speech = (ia_speech_cfg){.v = v, .n = listed ? 2 : 1, .listed = listed};
        char *enc = ia_codec_gen_encode(&g);
        ia_gen_config back;
        int rc = ia_codec_gen_decode(enc, &back);
        int ok = enc && rc == 0 && back.speech.n == g.speech.n && back.speech.listed == g.speech.listed;
        for (size_t i = 0; ok && i < g.speech.n; i++)
            ok = same(back.speech.v[i].voice, v[i].voice) && same(back.speech.v[i].language, v[i].language) &&
                 same(back.speech.v[i].speaker, v[i].speaker);
        char *again = ok ? ia_codec_gen_encode(&back) : NULL;
        ok = ok && again && strcmp(enc, again) == 0;
        /* and a copy is deep */
        ia_gen_config copy;
        ia_gen_config_copy(&copy, &back);
        ia_gen_config_free(&back);
        ok = ok && copy.speech.n == g.speech.n && strcmp(copy.speech.v[0].voice, "Zephyr") == 0;
        ia_gen_config_free(&copy);
        if (!ok) fprintf(stderr, "    %s\n    %s\n", enc, again ? again : "(null)");
        free(enc);
        free(again);
        IA_CHECK(ok);
    }
    /* a malformed stored speech_config is malformed */
    static const char *const bad[] = {"{\"speech_config\":5}", "{\"speech_config\":[]}",
                                      "{\"speech_config\":[{\"voice\":1}]}", "{\"speech_config\":[7]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ia_gen_config g;
        IA_CHECK(ia_codec_gen_decode(bad[i], &g) == -1 && g.speech.n == 0);
    }
}

/* response_modalities is echoed on the Interaction in both dialects (both
 * SDKs' Interaction types have it), lower case in the SDKs' order, as the
 * client asked (kept by the store codec with response_format's record,
 * alone or beside a format). */
IA_TEST(api_response_modalities_echoed_in_both_dialects_and_stored) {
    ia_interaction it = {.status = IA_STATUS_COMPLETED, .model = "m"};
    memcpy(it.id, "v1_x", 5);
    char *legacy = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK(legacy && !strstr(legacy, "response_modalities")); /* none asked: none echoed */
    free(legacy);
    it.rformat.modalities = IA_MOD_BIT_AUDIO | IA_MOD_BIT_TEXT;
    legacy = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    char *steps = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_CONTAINS(legacy, "\"response_modalities\":[\"text\",\"audio\"]");
    IA_CHECK_CONTAINS(steps, "\"response_modalities\":[\"text\",\"audio\"]");
    free(legacy);
    free(steps);
    ia_rformat back;
    char *enc = ia_codec_rformat_encode(&it.rformat);
    IA_CHECK(enc && ia_codec_rformat_decode(enc, &back) == 0);
    IA_CHECK(back.modalities == it.rformat.modalities && back.shape == IA_RFORMAT_NONE);
    free(enc);
    ia_rformat f = {.shape = IA_RFORMAT_SCHEMA, .schema = "{\"type\":\"object\"}", .modalities = IA_MOD_BIT_TEXT};
    enc = ia_codec_rformat_encode(&f);
    IA_CHECK(enc && ia_codec_rformat_decode(enc, &back) == 0);
    IA_CHECK(back.modalities == IA_MOD_BIT_TEXT && back.shape == IA_RFORMAT_SCHEMA);
    ia_rformat_free(&back);
    free(enc);
    /* rows from before the key: none asked */
    IA_CHECK(ia_codec_rformat_decode("{\"shape\":\"schema\",\"schema\":\"{}\"}", &back) == 0 && !back.modalities);
    ia_rformat_free(&back);
    IA_CHECK(ia_codec_rformat_decode("{\"modalities\":\"audio\"}", &back) == -1);
}
