/* test_tts: llama.cpp's own speech generation (src/speech/tts.c) with the
 * random-weight PocketTTS pair tools/mkdemo_tts.c writes (build/
 * pockettts.gguf, build/mmproj-pockettts.gguf): the real pipeline of
 * libmtmd (backbone, flow net, mimi decoder) end to end. The audio is
 * noise; what is checked is what the path guarantees: PCM in whole 80 ms
 * frames at 24 kHz, not silent, the same samples for the same text and
 * seed, other samples for another text, seed or speaker reference, a
 * length that grows with the text, cancel and max_frames honoured, two
 * speakers' turns joined by the pause; and the spec's parser and the
 * start-up errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "speech/speech_int.h"
#include "speech/tts.h"
#include "unit.h"

#define BACKBONE IA_SOURCE_DIR "/build/pockettts.gguf"
#define MMPROJ IA_SOURCE_DIR "/build/mmproj-pockettts.gguf"
#define FRAME 1920 /* samples of one 80 ms frame at 24 kHz */

/* ---- helpers ------------------------------------------------------------------ */

static ia_tts *open_tts(const char *spec_text, ia_err *err) {
    ia_engine_global_init(NULL, false);
    ia_tts_spec spec;
    if (ia_tts_spec_parse(spec_text, &spec, err) != 0) return NULL;
    if (!spec.mmproj) spec.mmproj = strdup(MMPROJ);
    ia_tts *t = ia_tts_open(&spec, 1, err);
    ia_tts_spec_free(&spec);
    return t;
}

typedef struct collected {
    ia_pcm pcm;
    size_t chunks;
    size_t stop_after; /* non-zero: on_pcm asks to stop after this many chunks */
} collected;

static int on_pcm(void *ud, const int16_t *pcm, size_t n) {
    collected *c = ud;
    ia_pcm_append(&c->pcm, pcm, n);
    c->chunks++;
    return c->stop_after && c->chunks >= c->stop_after;
}

static int speak(ia_tts *t, const char *text, const ia_speech_cfg *cfg, int64_t max_frames, uint32_t seed,
                 collected *c, ia_err *err) {
    ia_speech_req q = {.text = text, .len = strlen(text), .cfg = cfg};
    return ia_tts_speak(t, &q, max_frames, seed, on_pcm, c, NULL, err);
}

static double rms(const int16_t *v, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e += (double)v[i] * v[i];
    return n ? sqrt(e / (double)n) : 0;
}

static bool same(const collected *a, const collected *b) {
    return a->pcm.n == b->pcm.n && memcmp(a->pcm.v, b->pcm.v, a->pcm.n * sizeof *a->pcm.v) == 0;
}

/* A second of a tone as a mono 16-bit WAV: a speaker reference. */
static void write_tone(const char *path, double hz) {
    enum { N = 24000 };
    static int16_t s[N];
    for (int i = 0; i < N; i++) s[i] = (int16_t)(8000 * sin(2 * M_PI * hz * i / 24000.0));
    FILE *f = fopen(path, "wb");
    uint32_t data = N * 2, riff = 36 + data, fmt = 16, rate = 24000, byte_rate = 48000;
    uint16_t pcm = 1, ch = 1, align = 2, bits = 16;
    fwrite("RIFF", 1, 4, f), fwrite(&riff, 4, 1, f), fwrite("WAVEfmt ", 1, 8, f), fwrite(&fmt, 4, 1, f);
    fwrite(&pcm, 2, 1, f), fwrite(&ch, 2, 1, f), fwrite(&rate, 4, 1, f), fwrite(&byte_rate, 4, 1, f);
    fwrite(&align, 2, 1, f), fwrite(&bits, 2, 1, f), fwrite("data", 1, 4, f), fwrite(&data, 4, 1, f);
    fwrite(s, 2, N, f);
    fclose(f);
}

/* ---- the spec ------------------------------------------------------------------- */

IA_TEST(tts_spec_parses_name_backbone_and_options) {
    ia_tts_spec s;
    ia_err err = {0};
    IA_CHECK(ia_tts_spec_parse("pocket=/m/b.gguf,mmproj=/m/p.gguf,speaker=/a/d.wav,voice=Kore:/a/k.wav", &s,
                               &err) == 0);
    IA_CHECK_STREQ(s.name, "pocket");
    IA_CHECK_STREQ(s.model, "/m/b.gguf");
    IA_CHECK_STREQ(s.mmproj, "/m/p.gguf");
    IA_CHECK(s.n_voices == 2);
    IA_CHECK(s.voices[0].name == NULL);
    IA_CHECK_STREQ(s.voices[0].file, "/a/d.wav");
    IA_CHECK_STREQ(s.voices[1].name, "Kore");
    IA_CHECK_STREQ(s.voices[1].file, "/a/k.wav");
    ia_tts_spec_free(&s);
    IA_CHECK(ia_tts_spec_parse("tts=b.gguf", &s, &err) == 0);
    IA_CHECK(s.mmproj == NULL && s.n_voices == 0);
    ia_tts_spec_free(&s);
}

IA_TEST(tts_spec_refuses_what_it_cannot_use) {
    static const char *BAD[][2] = {
        {"b.gguf", "is not NAME=BACKBONE.gguf"},
        {"=b.gguf", "is not NAME=BACKBONE.gguf"},
        {"a b=b.gguf", "letters, digits"},
        {"t=", "no backbone"},
        {"t=,mmproj=p", "no backbone"},
        {"t=b.gguf,speed=2", "unknown option 'speed'"},
        {"t=b.gguf,mmproj", "not KEY=VALUE"},
        {"t=b.gguf,mmproj=a,mmproj=b", "mmproj= needs one file"},
        {"t=b.gguf,voice=Kore", "VOICE:REF.wav"},
        {"t=b.gguf,voice=:x.wav", "VOICE:REF.wav"},
        {"t=b.gguf,voice=Ko re:x.wav", "is not letters"},
        {"t=b.gguf,voice=Kore:", "needs a reference audio file"},
        {"t=b.gguf,voice=Kore:a.wav,voice=kore:b.wav", "given twice"},
        {"t=b.gguf,speaker=a.wav,speaker=b.wav", "given twice"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        ia_tts_spec s;
        ia_err err = {0};
        IA_CHECK(ia_tts_spec_parse(BAD[i][0], &s, &err) == -1);
        IA_CHECK(err.code == IA_EINVALID);
        IA_CHECK_CONTAINS(err.msg, BAD[i][1]);
    }
}

/* ---- loading -------------------------------------------------------------------- */

IA_TEST(tts_open_refuses_a_projector_without_audio_generation) {
    ia_err err = {0};
    IA_CHECK(open_tts("t=" BACKBONE ",mmproj=" IA_SOURCE_DIR "/build/mmproj-audio.gguf", &err) == NULL);
    IA_CHECK(err.code == IA_EINVALID);
    IA_CHECK_CONTAINS(err.msg, "mmproj-audio.gguf does not generate audio");
    err = (ia_err){0};
    IA_CHECK(open_tts("t=" BACKBONE ",mmproj=" IA_SOURCE_DIR "/Makefile", &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "cannot read the projector");
    err = (ia_err){0};
    IA_CHECK(open_tts("t=" IA_SOURCE_DIR "/build/nothing.gguf", &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "cannot load the backbone");
    err = (ia_err){0};
    IA_CHECK(open_tts("t=" BACKBONE ",speaker=" IA_SOURCE_DIR "/Makefile", &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "cannot read the speaker reference");
}

/* ---- speaking ------------------------------------------------------------------- */

IA_TEST(tts_pipeline_makes_frames_of_pcm_deterministically) {
    ia_err err = {0};
    ia_tts *t = open_tts("pocket=" BACKBONE, &err);
    IA_CHECK(t != NULL);
    if (!t) return;
    IA_CHECK(strstr(ia_tts_describe(t), "pockettts, 24000 Hz") != NULL);
    collected a = {0}, b = {0}, other = {0}, seeded = {0}, longer = {0};
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 7, &a, &err) == 0);
    IA_CHECK(a.pcm.n > 0 && a.pcm.n % FRAME == 0);
    IA_CHECK(a.chunks > 1); /* handed on as it is made, not at the end */
    IA_CHECK(rms(a.pcm.v, a.pcm.n) > 100);
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 7, &b, &err) == 0);
    IA_CHECK(same(&a, &b));
    IA_CHECK(speak(t, "Have a terrible night!", NULL, 0, 7, &other, &err) == 0);
    IA_CHECK(other.pcm.n > 0 && !same(&a, &other));
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 8, &seeded, &err) == 0);
    IA_CHECK(seeded.pcm.n == a.pcm.n && !same(&a, &seeded));
    /* PocketTTS's frame budget grows with the text (the random end-of-speech
     * probe never fires: mkdemo_tts.c) */
    IA_CHECK(speak(t, "Have a wonderful day, and a wonderful evening with all of your friends and family!", NULL,
                   0, 7, &longer, &err) == 0);
    IA_CHECK(longer.pcm.n > a.pcm.n);
    ia_pcm_free(&a.pcm), ia_pcm_free(&b.pcm), ia_pcm_free(&other.pcm), ia_pcm_free(&seeded.pcm);
    ia_pcm_free(&longer.pcm);
    ia_tts_free(t);
}

IA_TEST(tts_cancel_and_max_frames_stop_it) {
    ia_err err = {0};
    ia_tts *t = open_tts("pocket=" BACKBONE, &err);
    IA_CHECK(t != NULL);
    if (!t) return;
    collected capped = {0}, stopped = {0}, whole = {0};
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 3, 7, &capped, &err) == 0);
    IA_CHECK(capped.pcm.n == 3 * FRAME);
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 7, &whole, &err) == 0);
    stopped.stop_after = 1;
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 7, &stopped, &err) == -1);
    IA_CHECK(err.code == IA_ECANCELLED);
    IA_CHECK(stopped.pcm.n > 0 && stopped.pcm.n < whole.pcm.n);
    atomic_bool cancel = true;
    collected none = {0};
    ia_speech_req q = {.text = "Hello there.", .len = 12};
    err = (ia_err){0};
    IA_CHECK(ia_tts_speak(t, &q, 0, 7, on_pcm, &none, &cancel, &err) == -1);
    IA_CHECK(err.code == IA_ECANCELLED && none.pcm.n == 0);
    /* the model is still usable after a cancel, and gives the same audio */
    collected again = {0};
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 7, &again, &err) == 0);
    IA_CHECK(same(&again, &whole));
    ia_pcm_free(&capped.pcm), ia_pcm_free(&stopped.pcm), ia_pcm_free(&whole.pcm), ia_pcm_free(&again.pcm);
    ia_tts_free(t);
}

IA_TEST(tts_speakers_references_and_turns) {
    char low[512], high[512], spec[1600];
    snprintf(low, sizeof low, "%s/tts-low.wav", ia_test_tmpdir());
    snprintf(high, sizeof high, "%s/tts-high.wav", ia_test_tmpdir());
    write_tone(low, 150);
    write_tone(high, 400);
    snprintf(spec, sizeof spec, "pocket=" BACKBONE ",speaker=%s,voice=Puck:%s", low, high);
    ia_err err = {0};
    ia_tts *t = open_tts(spec, &err);
    IA_CHECK(t != NULL);
    if (!t) return;
    IA_CHECK(strstr(ia_tts_describe(t), "2 speaker references") != NULL);
    /* the default reference, a named one (any case), an unknown name: the default */
    ia_speech_entry kore = {.voice = "Kore"}, puck = {.voice = "puck"};
    ia_speech_cfg c_kore = {.v = &kore, .n = 1}, c_puck = {.v = &puck, .n = 1};
    collected d = {0}, k = {0}, p = {0};
    IA_CHECK(speak(t, "Have a wonderful day!", NULL, 0, 7, &d, &err) == 0);
    IA_CHECK(speak(t, "Have a wonderful day!", &c_kore, 0, 7, &k, &err) == 0);
    IA_CHECK(speak(t, "Have a wonderful day!", &c_puck, 0, 7, &p, &err) == 0);
    IA_CHECK(same(&d, &k));
    IA_CHECK(p.pcm.n > 0 && !same(&d, &p));
    /* two speakers: each turn with its speaker's voice, the pause between */
    ia_speech_entry two[2] = {{.voice = "Kore", .speaker = "Alice"}, {.voice = "Puck", .speaker = "Bob"}};
    ia_speech_cfg c_two = {.v = two, .n = 2, .listed = true};
    collected both = {0}, alice = {0}, bob = {0};
    IA_CHECK(speak(t, "Alice: Hi Bob!\nBob: Hi Alice!", &c_two, 0, 7, &both, &err) == 0);
    IA_CHECK(speak(t, "Hi Bob!", &c_kore, 0, 7, &alice, &err) == 0);
    IA_CHECK(speak(t, "Hi Alice!", &c_puck, 0, 7, &bob, &err) == 0);
    size_t pause = IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000;
    IA_CHECK(both.pcm.n == alice.pcm.n + pause + bob.pcm.n);
    if (both.pcm.n == alice.pcm.n + pause + bob.pcm.n) {
        IA_CHECK(memcmp(both.pcm.v, alice.pcm.v, alice.pcm.n * 2) == 0);
        IA_CHECK(rms(both.pcm.v + alice.pcm.n, pause) == 0);
        IA_CHECK(memcmp(both.pcm.v + alice.pcm.n + pause, bob.pcm.v, bob.pcm.n * 2) == 0);
    }
    ia_pcm_free(&d.pcm), ia_pcm_free(&k.pcm), ia_pcm_free(&p.pcm);
    ia_pcm_free(&both.pcm), ia_pcm_free(&alice.pcm), ia_pcm_free(&bob.pcm);
    ia_tts_free(t);
}
