/* test_speech: the speech engine (src/speech/, issue 13) over the real
 * espeak-ng and libsoxr — the guide's sentences spoken and checked as audio:
 * written as a WAV file and read back by sox (rate, channels, sample size,
 * length, loudness), the length in proportion to the text, the pitch of
 * voices measured by autocorrelation, the guide's Alice/Bob transcript cut
 * into turns each spoken with its speaker's voice, chunks that concatenate
 * to the whole, cancel, the errors, and the wire form.
 *
 * espeak-ng's pitch flutter keeps a position across calls (speech.h), so
 * two syntheses of one text differ by a few samples: what is compared
 * across syntheses is compared within a tolerance; the resampler, which
 * is exact, is compared sample for sample. */
#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/b64.h"
#include "speech/speech.h"
#include "store/store.h"
#include "speech/speech_int.h"
#include "unit.h"

#define GUIDE_SAY "Say the following: WOOHOO This is so much fun!."
#define GUIDE_TRANSCRIPT                                            \
    "TTS the following conversation between Alice and Bob:\n"       \
    "Alice: Hi Bob, how are you doing today?\n"                     \
    "Bob: I'm doing great, thanks for asking! How about you?\n"     \
    "Alice: Fantastic! I just learned about the Gemini API."

/* ---- helpers ------------------------------------------------------------------ */

static ia_speech_entry entry(const char *voice, const char *language, const char *speaker) {
    return (ia_speech_entry){(char *)voice, (char *)language, (char *)speaker};
}

/* Speaks text with cfg (NULL: defaults); *n samples, malloc'd. */
static int16_t *say(const char *text, const ia_speech_cfg *cfg, size_t *n) {
    ia_speech_req req = {.text = text, .len = strlen(text), .cfg = cfg};
    int16_t *pcm = NULL;
    ia_err e;
    ia_err_clear(&e);
    if (ia_speech_synth_all(&req, NULL, &pcm, n, &e) != 0) {
        fprintf(stderr, "    synth failed: %s\n", e.msg);
        return NULL;
    }
    return pcm;
}

static int16_t *say_voice(const char *text, const char *voice, size_t *n) {
    ia_speech_entry v = entry(voice, NULL, NULL);
    ia_speech_cfg cfg = {.v = &v, .n = 1};
    return say(text, &cfg, n);
}

static double seconds(size_t n) { return (double)n / IA_SPEECH_RATE; }

static double rms(const int16_t *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

/* The median fundamental frequency of the voiced frames of x (24 kHz):
 * 30 ms frames every 15 ms at 12 kHz (pairs averaged), each loud enough
 * frame's normalized autocorrelation peak between 60 and 400 Hz, kept when
 * that peak is clearly periodic (> 0.6). 0 when nothing is voiced. */
static double median_f0(const int16_t *x, size_t n) {
    size_t m = n / 2;
    double *y = malloc((m ? m : 1) * sizeof *y);
    for (size_t i = 0; i < m; i++) y[i] = ((double)x[2 * i] + x[2 * i + 1]) / 2;
    const int rate = 12000, frame = 360, hop = 180, lo = rate / 400, hi = rate / 60;
    size_t cap = m / hop + 1, nf = 0;
    double *f0 = malloc(cap * sizeof *f0);
    for (size_t s = 0; s + frame + hi < m; s += hop) {
        double e = 0;
        for (int i = 0; i < frame; i++) e += y[s + i] * y[s + i];
        if (sqrt(e / frame) < 800) continue;
        double best = 0;
        int lag = 0;
        for (int l = lo; l <= hi; l++) {
            double c = 0, e2 = 0;
            for (int i = 0; i < frame; i++) {
                c += y[s + i] * y[s + i + l];
                e2 += y[s + i + l] * y[s + i + l];
            }
            double r = c / sqrt(e * e2 + 1);
            if (r > best) best = r, lag = l;
        }
        if (best > 0.6) f0[nf++] = (double)rate / lag;
    }
    for (size_t i = 1; i < nf; i++)
        for (size_t j = i; j > 0 && f0[j] < f0[j - 1]; j--) {
            double t = f0[j];
            f0[j] = f0[j - 1];
            f0[j - 1] = t;
        }
    double med = nf ? f0[nf / 2] : 0;
    free(y);
    free(f0);
    return med;
}

static void put32(FILE *f, uint32_t v) {
    for (int i = 0; i < 4; i++) fputc((int)((v >> (8 * i)) & 0xff), f);
}
static void put16(FILE *f, uint16_t v) {
    fputc(v & 0xff, f);
    fputc(v >> 8, f);
}

/* The guide's wave_file(): a RIFF/WAVE header (1 channel, 24 kHz, 16-bit)
 * and the wire's bytes, decoded from base64 as a client does. */
static int write_wav(const char *path, const int16_t *pcm, size_t n) {
    char *b64 = ia_speech_pcm_b64(pcm, n);
    uint8_t *bytes = NULL;
    size_t len = 0, bad = 0;
    int rc = ia_b64_decode(b64, strlen(b64), &bytes, &len, &bad);
    free(b64);
    if (rc != 0 || len != n * 2) return -1;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite("RIFF", 1, 4, f);
    put32(f, (uint32_t)(36 + len));
    fwrite("WAVEfmt ", 1, 8, f);
    put32(f, 16);
    put16(f, 1); /* PCM */
    put16(f, IA_SPEECH_CHANNELS);
    put32(f, IA_SPEECH_RATE);
    put32(f, IA_SPEECH_RATE * 2);
    put16(f, 2);
    put16(f, 16);
    fwrite("data", 1, 4, f);
    put32(f, (uint32_t)len);
    fwrite(bytes, 1, len, f);
    free(bytes);
    return fclose(f);
}

/* The first line of `cmd` (stdout and stderr), trimmed; "" if none. */
static void run_line(const char *cmd, char *out, size_t cap) {
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(out, (int)cap, p)) out[0] = '\0';
    pclose(p);
    out[strcspn(out, "\r\n")] = '\0';
}

/* The number after "label:" in `sox FILE -n stat`'s report. */
static double sox_stat(const char *wav, const char *label) {
    char cmd[1024], line[256];
    snprintf(cmd, sizeof cmd, "sox '%s' -n stat 2>&1 | grep '^%s' | sed 's/.*: *//'", wav, label);
    run_line(cmd, line, sizeof line);
    return line[0] ? atof(line) : -1;
}

/* ---- voices --------------------------------------------------------------------- */

IA_TEST(speech_voices_are_gemini_names_on_distinct_espeak_variants) {
    static const char *const gemini[] = {
        "Zephyr",  "Puck",     "Charon",     "Kore",      "Fenrir",      "Leda",    "Orus",    "Aoede",
        "Callirrhoe", "Autonoe", "Enceladus", "Iapetus",  "Umbriel",     "Algieba", "Despina", "Erinome",
        "Algenib", "Rasalgethi", "Laomedeia", "Achernar", "Alnilam",     "Schedar", "Gacrux",  "Pulcherrima",
        "Achird",  "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat"};
    IA_CHECK(ia_speech_voice_count() == 30);
    ia_err e;
    IA_CHECK(ia_espeak_rate(&e) == 22050); /* espeak-ng started: its data path is known */
    const char *data = NULL;
    espeak_Info(&data);
    IA_CHECK(data != NULL);
    size_t female = 0;
    for (size_t i = 0; i < 30; i++) {
        const ia_speech_voice *v = ia_speech_voice_find(gemini[i]);
        IA_CHECK(v != NULL && strcmp(v->name, gemini[i]) == 0);
        female += v->female;
        IA_CHECK(v->pitch >= 0 && v->pitch <= 100 && v->range >= 0 && v->range <= 100);
        IA_CHECK(v->rate >= 120 && v->rate <= 220);
        char path[512];
        snprintf(path, sizeof path, "%s/voices/!v/%s", data, v->variant);
        struct stat st;
        if (stat(path, &st) != 0) fprintf(stderr, "    no variant file %s\n", path);
        IA_CHECK(stat(path, &st) == 0);
        for (size_t j = 0; j < i; j++) IA_CHECK(strcmp(ia_speech_voice_find(gemini[j])->variant, v->variant) != 0);
    }
    IA_CHECK(female == 14);
    /* any case, as the guide writes "kore" */
    IA_CHECK(ia_speech_voice_find("kore") == ia_speech_voice_find("Kore"));
    IA_CHECK(ia_speech_voice_find("ZEPHYR") == ia_speech_voice_find("Zephyr"));
    IA_CHECK(ia_speech_voice_find("Bogus") == NULL && ia_speech_voice_find(NULL) == NULL);
    IA_CHECK(ia_speech_voice_find("Kor") == NULL);
    IA_CHECK(strncmp(ia_speech_voice_names(), "Zephyr, Puck, Charon, Kore,", 27) == 0);
    IA_CHECK(strstr(ia_speech_voice_names(), ", Sulafat") != NULL);
}

IA_TEST(speech_language_tags_pick_espeak_languages) {
    static const struct {
        const char *tag, *lang;
    } ok[] = {{"en-US", "en-us"}, {"en-us", "en-us"}, {"EN_us", "en-us"}, {"pt-BR", "pt-br"}, {"de-DE", "de"},
              {"fr-FR", "fr-fr"}, {"ja-JP", "ja"},    {"hi-IN", "hi"},    {"es-419", "es-419"}, {"cmn", "cmn"},
              {"en", "en"}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char out[32];
        ia_err e;
        ia_err_clear(&e);
        int rc = ia_speech_language(ok[i].tag, "f", out, &e);
        if (rc != 0) fprintf(stderr, "    %s: %s\n", ok[i].tag, e.msg);
        IA_CHECK(rc == 0);
        IA_CHECK_STREQ(out, ok[i].lang);
    }
    static const char *const bad[] = {"xx-YY", "tlh", "english!", "", "e", "en--us", "12-US", "en-toolongsubtag",
                                      "a-very-long-tag-that-goes-on-and-on"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char out[32];
        ia_err e;
        ia_err_clear(&e);
        IA_CHECK(ia_speech_language(bad[i], "x.language", out, &e) == -1);
        IA_CHECK(e.code == IA_EINVALID);
        IA_CHECK(strncmp(e.msg, "x.language: ", 12) == 0);
    }
    ia_err e;
    char out[32];
    ia_speech_language("xx-YY", "generation_config.speech_config.language", out, &e);
    IA_CHECK(strstr(e.msg, "language 'xx-YY' is not supported") != NULL);
    ia_speech_language("english!", "generation_config.speech_config.language", out, &e);
    IA_CHECK(strstr(e.msg, "'english!' is not a language tag (BCP-47") != NULL);
}

/* ---- text ----------------------------------------------------------------------- */

static int turn_is(const char *text, const ia_speech_turn *t, size_t entry, const char *words) {
    int ok = t->entry == entry && t->len == strlen(words) && memcmp(text + t->off, words, t->len) == 0;
    if (!ok) fprintf(stderr, "    turn (%zu) \"%.*s\", expected (%zu) \"%s\"\n", t->entry, (int)t->len, text + t->off,
                     entry, words);
    return ok;
}

IA_TEST(speech_split_cuts_the_guides_transcript_at_speaker_labels) {
    ia_speech_entry v[2] = {entry("Zephyr", "en-US", "Alice"), entry("Puck", "en-US", "Bob")};
    ia_speech_cfg cfg = {.v = v, .n = 2, .listed = true};
    const char *t = GUIDE_TRANSCRIPT;
    ia_speech_turn *turns;
    size_t n;
    ia_speech_split(t, strlen(t), &cfg, &turns, &n);
    IA_CHECK(n == 4);
    /* before any label: the first voice */
    IA_CHECK(turn_is(t, &turns[0], 0, "TTS the following conversation between Alice and Bob:"));
    IA_CHECK(turn_is(t, &turns[1], 0, "Hi Bob, how are you doing today?"));
    IA_CHECK(turn_is(t, &turns[2], 1, "I'm doing great, thanks for asking! How about you?"));
    IA_CHECK(turn_is(t, &turns[3], 0, "Fantastic! I just learned about the Gemini API."));
    free(turns);

    /* a line without a label goes on; labels in any case, blanks around
     * them; a name inside a line or only a prefix of a word is no label */
    const char *u = "  bob : First.\nStill Bob.\nAlicia: not a label\n\tALICE:Then me. Bob: inside\n\nBob:\n";
    ia_speech_split(u, strlen(u), &cfg, &turns, &n);
    IA_CHECK(n == 2);
    IA_CHECK(turn_is(u, &turns[0], 1, "First.\nStill Bob.\nAlicia: not a label"));
    IA_CHECK(turn_is(u, &turns[1], 0, "Then me. Bob: inside")); /* Bob's last turn is empty */
    free(turns);

    /* one voice without a speaker: no labels, the whole text trimmed */
    ia_speech_cfg one = {.v = v, .n = 1};
    ia_speech_entry plain = entry("Kore", NULL, NULL);
    one.v = &plain;
    ia_speech_split(t, strlen(t), &one, &turns, &n);
    IA_CHECK(n == 1 && turns[0].off == 0 && turns[0].len == strlen(t));
    free(turns);
    ia_speech_split(" \n\t ", 4, NULL, &turns, &n);
    IA_CHECK(n == 0 && turns == NULL);
    ia_speech_split(NULL, 0, NULL, &turns, &n);
    IA_CHECK(n == 0);
}

static size_t first(const char *s) { return ia_speech_sentence(s, strlen(s)); }

IA_TEST(speech_sentences_end_at_stops_and_lines_within_the_limit) {
    IA_CHECK(first("Hello there. How are you?") == strlen("Hello there. "));
    IA_CHECK(first("Pi is 3.14 or so. Yes") == strlen("Pi is 3.14 or so. "));
    IA_CHECK(first("Wow!?! Yes") == strlen("Wow!?! "));
    IA_CHECK(first("Wait... what") == strlen("Wait... "));
    IA_CHECK(first("one line\nnext") == strlen("one line\n"));
    IA_CHECK(first("a; b") == strlen("a; "));
    IA_CHECK(first("no stop at all") == strlen("no stop at all"));
    IA_CHECK(first("end.") == 4);
    IA_CHECK(first("\xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x82\xe4\xb8\x96\xe7\x95\x8c") == 9); /* 你好。世界 */
    /* too long: cut at a blank in the second half, or on a character */
    char words[2000], wide[2000];
    size_t n = 0;
    while (n + 6 < sizeof words) n += (size_t)snprintf(words + n, sizeof words - n, "word ");
    size_t cut = first(words);
    IA_CHECK(cut <= IA_SPEECH_SEGMENT_MAX && cut > IA_SPEECH_SEGMENT_MAX / 2 && words[cut - 1] == ' ');
    for (n = 0; n + 3 < sizeof wide; n += 3) memcpy(wide + n, "\xe4\xbd\xa0", 3);
    wide[n] = '\0';
    cut = first(wide);
    IA_CHECK(cut <= IA_SPEECH_SEGMENT_MAX && cut % 3 == 0 && cut > 0);
    memset(words, '.', sizeof words - 1);
    words[sizeof words - 1] = '\0';
    IA_CHECK(first(words) <= IA_SPEECH_SEGMENT_MAX);
}

/* ---- the resampler --------------------------------------------------------------- */

IA_TEST(speech_resampler_is_exact_in_pieces_and_keeps_frequencies) {
    /* 2 s of a 1 kHz tone plus a little noise, at espeak-ng's rate */
    size_t n = 44100;
    int16_t *in = malloc(n * sizeof *in);
    uint32_t seed = 7;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        in[i] = (int16_t)(8000 * sin(2 * M_PI * 1000 * (double)i / 22050) + (int)(seed >> 24) - 128);
    }
    ia_err e;
    ia_pcm whole = {0}, parts = {0};
    ia_resampler *a = ia_resampler_new(22050, 24000, &e), *b = ia_resampler_new(22050, 24000, &e);
    IA_CHECK(a && b);
    IA_CHECK(ia_resampler_push(a, in, n, &whole, &e) == 0 && ia_resampler_end(a, &whole, &e) == 0);
    for (size_t at = 0, k = 1; at < n; k = k * 7 % 1031 + 1) {
        size_t m = at + k > n ? n - at : k;
        IA_CHECK(ia_resampler_push(b, in + at, m, &parts, &e) == 0);
        at += m;
    }
    IA_CHECK(ia_resampler_end(b, &parts, &e) == 0);
    IA_CHECK(whole.n == parts.n && memcmp(whole.v, parts.v, whole.n * sizeof *whole.v) == 0);
    /* 2 s at 24 kHz, give or take the filter's edges */
    IA_CHECK(whole.n > 47900 && whole.n < 48100);
    /* still 1 kHz: count upward zero crossings over the middle second */
    size_t up = 0;
    for (size_t i = 12000; i < 36000; i++) up += whole.v[i - 1] < 0 && whole.v[i] >= 0;
    IA_CHECK(up >= 990 && up <= 1010);
    ia_resampler_free(a);
    ia_resampler_free(b);
    ia_pcm_free(&whole);
    ia_pcm_free(&parts);
    free(in);
}

/* ---- speaking --------------------------------------------------------------------- */

IA_TEST(speech_guide_sentence_is_24k_mono_16bit_audio_sox_reads) {
    /* the guide's request: speech_config {language: "en-us", voice: "kore"} */
    ia_speech_entry v = entry("kore", "en-us", NULL);
    ia_speech_cfg cfg = {.v = &v, .n = 1};
    size_t n = 0;
    int16_t *pcm = say(GUIDE_SAY, &cfg, &n);
    IA_CHECK(pcm != NULL);
    IA_CHECK(seconds(n) > 1.5 && seconds(n) < 8);
    IA_CHECK(rms(pcm, n) > 1000); /* not silent */
    char wav[512], line[256];
    snprintf(wav, sizeof wav, "%s/guide.wav", ia_test_tmpdir());
    IA_CHECK(write_wav(wav, pcm, n) == 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sox --i -r '%s' 2>&1", wav);
    run_line(cmd, line, sizeof line);
    IA_CHECK_STREQ(line, "24000");
    snprintf(cmd, sizeof cmd, "sox --i -c '%s' 2>&1", wav);
    run_line(cmd, line, sizeof line);
    IA_CHECK_STREQ(line, "1");
    snprintf(cmd, sizeof cmd, "sox --i -b '%s' 2>&1", wav);
    run_line(cmd, line, sizeof line);
    IA_CHECK_STREQ(line, "16");
    snprintf(cmd, sizeof cmd, "sox --i -s '%s' 2>&1", wav);
    run_line(cmd, line, sizeof line);
    IA_CHECK(strtoull(line, NULL, 10) == n);
    double len = sox_stat(wav, "Length"), amp = sox_stat(wav, "RMS     amplitude");
    IA_CHECK(fabs(len - seconds(n)) < 0.01);
    IA_CHECK(amp > 0.03 && amp < 0.9);
    free(pcm);
}

IA_TEST(speech_length_follows_the_text) {
    const char *one = "I just learned about the Gemini API.";
    const char *three = "I just learned about the Gemini API. It can speak with thirty voices, in many "
                        "languages. Two people can talk to each other in one request.";
    size_t n1 = 0, n3 = 0;
    int16_t *a = say(one, NULL, &n1), *b = say(three, NULL, &n3);
    IA_CHECK(a && b);
    double ratio = seconds(n3) / seconds(n1);
    if (ratio < 2.2 || ratio > 4.5) fprintf(stderr, "    %.2fs vs %.2fs\n", seconds(n1), seconds(n3));
    IA_CHECK(ratio > 2.2 && ratio < 4.5);
    IA_CHECK(rms(b, n3) > 1000);
    free(a);
    free(b);
    size_t n0 = 1;
    int16_t *none = say(" \n ", NULL, &n0); /* nothing to say: no audio, no error */
    IA_CHECK(n0 == 0 && none == NULL);
}

IA_TEST(speech_voices_differ_in_pitch) {
    const char *t = "Hi Bob, how are you doing today? I just learned about the Gemini API.";
    size_t nz = 0, np = 0;
    int16_t *zephyr = say_voice(t, "Zephyr", &nz), *puck = say_voice(t, "Puck", &np);
    IA_CHECK(zephyr && puck);
    double fz = median_f0(zephyr, nz), fp = median_f0(puck, np);
    fprintf(stderr, "    f0: Zephyr %.0f Hz, Puck %.0f Hz\n", fz, fp);
    IA_CHECK(fp > 60 && fz > 1.4 * fp);
    free(zephyr);
    free(puck);
    /* every voice: its own audio, the female ones higher on average */
    double fem = 0, male = 0;
    uint64_t hashes[30];
    for (size_t i = 0; i < ia_speech_voice_count(); i++) {
        const ia_speech_voice *v = ia_speech_voice_at(i);
        size_t n = 0;
        int16_t *pcm = say_voice("How are you doing today?", v->name, &n);
        IA_CHECK(pcm && rms(pcm, n) > 500);
        double f = median_f0(pcm, n);
        IA_CHECK(f > 0);
        *(v->female ? &fem : &male) += f;
        uint64_t h = 1469598103934665603ull;
        for (size_t k = 0; k < n; k++) h = (h ^ (uint16_t)pcm[k]) * 1099511628211ull;
        hashes[i] = h ^ n;
        for (size_t j = 0; j < i; j++) IA_CHECK(hashes[j] != hashes[i]);
        free(pcm);
    }
    IA_CHECK(fem / 14 > 1.5 * (male / 16));
}

/* ---- several speakers -------------------------------------------------------------- */

typedef struct chunks {
    ia_pcm all;
    size_t n_chunks, max_chunk;
    size_t cuts[16], n_cuts; /* where each pause between turns starts */
    atomic_bool *cancel;     /* set after the first chunk, when not NULL */
    int stop_after;          /* > 0: on_pcm fails at that chunk */
} chunks;

static int on_chunk(void *ud, const int16_t *pcm, size_t n) {
    chunks *c = ud;
    bool pause = n == (size_t)IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000 && rms(pcm, n) == 0;
    if (pause && c->n_cuts < 16) c->cuts[c->n_cuts++] = c->all.n;
    ia_pcm_append(&c->all, pcm, n);
    c->n_chunks++;
    if (n > c->max_chunk) c->max_chunk = n;
    if (c->cancel) atomic_store(c->cancel, true);
    return c->stop_after && (int)c->n_chunks >= c->stop_after;
}

IA_TEST(speech_two_speakers_each_turn_in_its_voice) {
    ia_speech_entry v[2] = {entry("Zephyr", "en-US", "Alice"), entry("Puck", "en-US", "Bob")};
    ia_speech_cfg cfg = {.v = v, .n = 2, .listed = true};
    const char *t = GUIDE_TRANSCRIPT;
    ia_speech_req req = {.text = t, .len = strlen(t), .cfg = &cfg};
    chunks c = {0};
    ia_err e;
    IA_CHECK(ia_speech_synth(&req, on_chunk, &c, NULL, &e) == 0);
    IA_CHECK(c.n_cuts == 3); /* four turns, three pauses */
    static const char *const lines[4] = {"TTS the following conversation between Alice and Bob:",
                                         "Hi Bob, how are you doing today?",
                                         "I'm doing great, thanks for asking! How about you?",
                                         "Fantastic! I just learned about the Gemini API."};
    static const char *const who[4] = {"Zephyr", "Zephyr", "Puck", "Zephyr"};
    const size_t pause = (size_t)IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000;
    double f0[4];
    for (size_t i = 0; i < 4; i++) {
        size_t from = i ? c.cuts[i - 1] + pause : 0, to = i < 3 ? c.cuts[i] : c.all.n;
        size_t n = 0;
        int16_t *alone = say_voice(lines[i], who[i], &n);
        IA_CHECK(alone != NULL);
        /* the turn is that voice saying that line (to espeak-ng's flutter) */
        double got = seconds(to - from), want = seconds(n);
        if (fabs(got - want) > 0.02 * want) fprintf(stderr, "    turn %zu: %.3fs, alone %.3fs\n", i, got, want);
        IA_CHECK(fabs(got - want) <= 0.02 * want);
        f0[i] = median_f0(c.all.v + from, to - from);
        double f_alone = median_f0(alone, n);
        IA_CHECK(fabs(f0[i] - f_alone) < 0.1 * f_alone);
        free(alone);
    }
    IA_CHECK(f0[1] > 1.4 * f0[2] && f0[3] > 1.4 * f0[2]); /* Alice (Zephyr) above Bob (Puck) */
    ia_pcm_free(&c.all);

    /* more speakers than Gemini's two: refused before any audio */
    ia_speech_entry three[3] = {entry("Zephyr", NULL, "A"), entry("Puck", NULL, "B"), entry("Kore", NULL, "C")};
    ia_speech_cfg too_many = {.v = three, .n = 3, .listed = true};
    req.cfg = &too_many;
    chunks none = {0};
    IA_CHECK(ia_speech_synth(&req, on_chunk, &none, NULL, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID && none.n_chunks == 0);
    IA_CHECK_STREQ(e.msg, "generation_config.speech_config: at most 2 speakers, got 3");
}

/* ---- streaming and cancel ------------------------------------------------------------ */

#define PARAGRAPH                                                                                        \
    "The Interactions API keeps the state of a conversation on the server. Each turn names the one "   \
    "before it. A client can stream the answer as it is made. Audio output arrives in small pieces, "  \
    "so playback starts at once. The last piece ends the stream. Nothing is lost on the way."

IA_TEST(speech_chunks_stream_and_concatenate_to_the_whole) {
    ia_speech_req req = {.text = PARAGRAPH, .len = strlen(PARAGRAPH)};
    chunks c = {0};
    ia_err e;
    IA_CHECK(ia_speech_synth(&req, on_chunk, &c, NULL, &e) == 0);
    IA_CHECK(c.n_chunks >= 6); /* a sentence at a time, at least */
    IA_CHECK(c.max_chunk <= IA_SPEECH_CHUNK_MAX);
    size_t n = 0;
    int16_t *whole = say(PARAGRAPH, NULL, &n);
    IA_CHECK(whole != NULL);
    IA_CHECK(fabs(seconds(c.all.n) - seconds(n)) <= 0.01 * seconds(n));
    free(whole);
    /* the wire: each chunk's base64 decodes to its bytes, and they add up */
    ia_pcm back = {0};
    for (size_t at = 0; at < c.all.n; at += 5000) {
        size_t m = c.all.n - at < 5000 ? c.all.n - at : 5000;
        char *b64 = ia_speech_pcm_b64(c.all.v + at, m);
        uint8_t *bytes;
        size_t len, bad;
        IA_CHECK(ia_b64_decode(b64, strlen(b64), &bytes, &len, &bad) == 0 && len == 2 * m);
        for (size_t k = 0; k < m; k++) {
            int16_t s = (int16_t)(uint16_t)(bytes[2 * k] | bytes[2 * k + 1] << 8); /* little-endian */
            ia_pcm_append(&back, &s, 1);
        }
        free(bytes);
        free(b64);
    }
    IA_CHECK(back.n == c.all.n && memcmp(back.v, c.all.v, back.n * 2) == 0);
    ia_pcm_free(&back);
    ia_pcm_free(&c.all);
}

IA_TEST(speech_pcm_b64_is_little_endian) {
    int16_t s[3] = {1, -2, 0x1234};
    char *b = ia_speech_pcm_b64(s, 3);
    IA_CHECK_STREQ(b, "AQD+/zQS"); /* 01 00 fe ff 34 12 */
    free(b);
    b = ia_speech_pcm_b64(NULL, 0);
    IA_CHECK_STREQ(b, "");
    free(b);
    IA_CHECK_STREQ(IA_SPEECH_MIME, "audio/L16;codec=pcm;rate=24000");
}

typedef struct {
    atomic_bool *flag;
    int ms;
} later;

static void *set_later(void *arg) {
    later *l = arg;
    struct timespec ts = {0, l->ms * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(l->flag, true);
    return NULL;
}

IA_TEST(speech_cancel_stops_early) {
    ia_speech_req req = {.text = PARAGRAPH, .len = strlen(PARAGRAPH)};
    size_t full = 0;
    int16_t *whole = say(PARAGRAPH, NULL, &full);
    IA_CHECK(whole != NULL);
    free(whole);
    ia_err e;
    /* set after the first chunk: stops before the next sentence */
    atomic_bool cancel = false;
    chunks c = {.cancel = &cancel};
    IA_CHECK(ia_speech_synth(&req, on_chunk, &c, &cancel, &e) == -1);
    IA_CHECK(e.code == IA_ECANCELLED);
    IA_CHECK(c.n_chunks >= 1 && c.all.n < full / 3);
    ia_pcm_free(&c.all);
    /* set before: nothing at all */
    chunks d = {0};
    IA_CHECK(ia_speech_synth(&req, on_chunk, &d, &cancel, &e) == -1 && e.code == IA_ECANCELLED);
    IA_CHECK(d.n_chunks == 0);
    /* the receiver refusing a chunk stops it too */
    chunks f = {.stop_after = 2};
    IA_CHECK(ia_speech_synth(&req, on_chunk, &f, NULL, &e) == -1 && e.code == IA_ECANCELLED);
    IA_CHECK(f.n_chunks == 2);
    ia_pcm_free(&f.all);
    /* set from another thread inside one long sentence: espeak-ng stops
     * within a buffer, and the next request is whole again */
    char lng[IA_SPEECH_SEGMENT_MAX];
    size_t k = 0;
    while (k + 12 < sizeof lng) k += (size_t)snprintf(lng + k, sizeof lng - k, "and so on, ");
    ia_speech_req long_req = {.text = lng, .len = k};
    atomic_bool mid = false;
    later l = {&mid, 5};
    pthread_t th;
    pthread_create(&th, NULL, set_later, &l);
    chunks g = {0};
    int rc = ia_speech_synth(&long_req, on_chunk, &g, &mid, &e);
    pthread_join(th, NULL);
    IA_CHECK(rc == -1 && e.code == IA_ECANCELLED);
    IA_CHECK(g.n_chunks == 0); /* the sentence never finished */
    size_t again = 0;
    whole = say(PARAGRAPH, NULL, &again);
    IA_CHECK(whole && fabs(seconds(again) - seconds(full)) <= 0.01 * seconds(full));
    free(whole);
}

/* ---- errors ---------------------------------------------------------------------------- */

static int synth_fails(const ia_speech_cfg *cfg, const char *msg) {
    ia_speech_req req = {.text = "Hello.", .len = 6, .cfg = cfg};
    chunks c = {0};
    ia_err e;
    ia_err_clear(&e);
    int rc = ia_speech_synth(&req, on_chunk, &c, NULL, &e);
    int ok = rc == -1 && e.code == IA_EINVALID && c.n_chunks == 0 && strncmp(e.msg, msg, strlen(msg)) == 0;
    if (!ok) fprintf(stderr, "    got rc=%d \"%s\", expected \"%s...\"\n", rc, e.msg, msg);
    return ok;
}

IA_TEST(speech_errors_name_the_field) {
    ia_speech_entry bogus = entry("Bogus", NULL, NULL);
    ia_speech_cfg one = {.v = &bogus, .n = 1};
    IA_CHECK(synth_fails(&one, "generation_config.speech_config.voice: unknown voice 'Bogus' (one of Zephyr, "
                               "Puck, Charon, Kore,"));
    ia_speech_entry two[2] = {entry("Kore", NULL, "A"), entry("Puck", "xx-YY", "B")};
    ia_speech_cfg listed = {.v = two, .n = 2, .listed = true};
    IA_CHECK(synth_fails(&listed, "generation_config.speech_config[1].language: language 'xx-YY' is not supported"));
    ia_speech_entry lang = entry(NULL, "pt-BR", NULL); /* no voice: the default, in Portuguese */
    ia_speech_cfg pt = {.v = &lang, .n = 1};
    size_t n = 0;
    int16_t *pcm = say("Olá! Como vai você?", &pt, &n);
    IA_CHECK(pcm && rms(pcm, n) > 1000);
    free(pcm);
}

/* Speech's output tokens ride on the usage column after the grounding
 * count; rows written before it read as none, and grounding alone still
 * reads back. */
IA_TEST(speech_usage_audio_tokens_round_trip) {
    char buf[512];
    ia_usage u = {.output_audio = 75, .input_by = {4}}, v = {0};
    ia_codec_usage_by_decode(ia_codec_usage_by_encode(&u, buf, sizeof buf), &v);
    IA_CHECK(v.output_audio == 75 && v.search_calls == 0 && v.input_by[0] == 4);
    ia_usage g = {.search_calls = 2}, h = {0};
    ia_codec_usage_by_decode(ia_codec_usage_by_encode(&g, buf, sizeof buf), &h);
    IA_CHECK(h.search_calls == 2 && h.output_audio == 0);
    ia_usage old = {.output_audio = 9};
    ia_codec_usage_by_decode("i 1 0 0 0 0 c 0 0 0 0 0 g 1", &old);
    IA_CHECK(old.output_audio == 0 && old.search_calls == 1);
}
