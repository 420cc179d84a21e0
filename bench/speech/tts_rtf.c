/* tts_rtf: llama.cpp's speech generation (src/speech/tts.c: libmtmd's
 * gen-audio pipeline behind --speech-model) on this machine, for the same
 * English paragraph as speech_rtf, RUNS times after one warm-up: the
 * real-time factor (generation wall time / audio length; below 1 is faster
 * than playback) and the time to the first chunk. Medians are printed,
 * then one Markdown table row. By default the build's random-weight
 * PocketTTS pair (tools/mkdemo_tts.c), whose sizes are tiny: its figure is
 * the path's own cost (the pipeline, libmtmd's graphs, the copies), not a
 * real voice model's.
 *
 *   build/tts_rtf [RUNS] [THREADS] [BACKBONE.gguf MMPROJ.gguf]
 *   (defaults: 7, 1, build/pockettts.gguf build/mmproj-pockettts.gguf) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "lib/util.h"
#include "speech/tts.h"

static const char PARAGRAPH[] =
    "The Interactions API keeps the state of a conversation on the server, so a client sends only its new "
    "turn and the name of the one before it. Answers can stream as they are made: text arrives in small "
    "deltas, and speech arrives as pieces of audio that a player can start on at once. Thirty prebuilt "
    "voices are offered, from bright and upbeat to soft and mature, and two speakers can share one "
    "request, each line of the transcript spoken by its own voice. Nothing here needs a network: the "
    "model and the voices run inside the server's own process, on the machine's processor, and every "
    "interaction is kept in a local database until it expires.";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct run {
    double start, first, end;
    size_t samples;
} run;

static int on_pcm(void *ud, const int16_t *pcm, size_t n) {
    (void)pcm;
    run *r = ud;
    if (!r->samples) r->first = now();
    r->samples += n;
    return 0;
}

static void speak(ia_tts *t, run *r) {
    ia_speech_req req = {.text = PARAGRAPH, .len = strlen(PARAGRAPH)};
    ia_err err;
    r->samples = 0;
    r->start = now();
    if (ia_tts_speak(t, &req, 0, 1234, on_pcm, r, NULL, &err) != 0) {
        fprintf(stderr, "tts_rtf: %s\n", err.msg);
        exit(1);
    }
    r->end = now();
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return v[n / 2];
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 7, threads = argc > 2 ? atoi(argv[2]) : 1;
    const char *model = argc > 4 ? argv[3] : "build/pockettts.gguf";
    const char *mmproj = argc > 4 ? argv[4] : "build/mmproj-pockettts.gguf";
    if (runs < 1 || runs > 100) return 2;
    ia_engine_global_init(NULL, false);
    ia_tts_spec spec = {.name = ia_strdup("bench"), .model = ia_strdup(model), .mmproj = ia_strdup(mmproj)};
    ia_err err;
    ia_tts *t = ia_tts_open(&spec, threads, &err);
    if (!t) {
        fprintf(stderr, "tts_rtf: %s\n", err.msg);
        return 1;
    }
    run warm;
    speak(t, &warm);
    double rtf[100], first[100], audio = 0;
    for (int i = 0; i < runs; i++) {
        run r;
        speak(t, &r);
        audio = (double)r.samples / IA_SPEECH_RATE;
        rtf[i] = (r.end - r.start) / audio;
        first[i] = (r.first - r.start) * 1000;
    }
    double m_rtf = median(rtf, runs), m_first = median(first, runs);
    printf("model %s (%s), %d thread%s; text %zu bytes; audio %.2f s; %d runs (medians)\n", model,
           ia_tts_describe(t), threads, threads == 1 ? "" : "s", strlen(PARAGRAPH), audio, runs);
    printf("RTF %.4f (%.0fx faster than real time), first chunk after %.1f ms\n", m_rtf, 1 / m_rtf, m_first);
    printf("| %.2f s | %.4f | %.0fx | %.1f ms |\n", audio, m_rtf, 1 / m_rtf, m_first);
    ia_tts_free(t);
    return 0;
}
