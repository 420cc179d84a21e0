/* speech_rtf: the embedded speech engine's speed (src/speech/: espeak-ng,
 * then libsoxr to 24 kHz) on this machine. For one paragraph of English
 * (117 words), RUNS times: the real-time factor (synthesis wall time /
 * audio length; below 1 is faster than playback), the time to the first
 * chunk (how long a streaming client waits before it can play), and the
 * same paragraph on two threads at once (espeak-ng runs under one
 * process-wide lock, so two requests share one core's worth of speech).
 * Medians are printed, then one Markdown table row.
 *
 *   build/speech_rtf [RUNS] [VOICE]      (defaults: 7, Kore) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "speech/speech.h"

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
    const char *voice;
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

static void *speak(void *arg) {
    run *r = arg;
    ia_speech_entry e = {(char *)r->voice, NULL, NULL};
    ia_speech_cfg cfg = {.v = &e, .n = 1};
    ia_speech_req req = {.text = PARAGRAPH, .len = strlen(PARAGRAPH), .cfg = &cfg};
    ia_err err;
    r->samples = 0;
    r->start = now();
    if (ia_speech_synth(&req, on_pcm, r, NULL, &err) != 0) {
        fprintf(stderr, "speech_rtf: %s\n", err.msg);
        exit(1);
    }
    r->end = now();
    return NULL;
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
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    const char *voice = argc > 2 ? argv[2] : "Kore";
    if (runs < 1 || runs > 100) return 2;
    run warm = {.voice = voice};
    speak(&warm); /* espeak-ng's start and its data in the page cache */
    double rtf[100], first[100], pair[100], audio = 0;
    for (int i = 0; i < runs; i++) {
        run r = {.voice = voice};
        speak(&r);
        audio = (double)r.samples / IA_SPEECH_RATE;
        rtf[i] = (r.end - r.start) / audio;
        first[i] = (r.first - r.start) * 1000;
        run two[2] = {{.voice = voice}, {.voice = voice}};
        pthread_t th[2];
        double t0 = now();
        for (int k = 0; k < 2; k++) pthread_create(&th[k], NULL, speak, &two[k]);
        for (int k = 0; k < 2; k++) pthread_join(th[k], NULL);
        pair[i] = (now() - t0) / (2 * audio); /* wall time per second of audio, both together */
    }
    double m_rtf = median(rtf, runs), m_first = median(first, runs), m_pair = median(pair, runs);
    printf("text: %zu bytes, 117 words; audio %.2f s at %d Hz; voice %s; %d runs (medians)\n", strlen(PARAGRAPH),
           audio, IA_SPEECH_RATE, voice, runs);
    printf("one request:  RTF %.4f (%.0fx faster than real time), first chunk after %.1f ms\n", m_rtf,
           1 / m_rtf, m_first);
    printf("two at once:  %.4f s of wall time per second of audio (aggregate %.0fx real time)\n", m_pair,
           1 / m_pair);
    printf("| %.2f s | %.4f | %.0fx | %.1f ms | %.4f |\n", audio, m_rtf, 1 / m_rtf, m_first, m_pair);
    return 0;
}
