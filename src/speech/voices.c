/* voices: Gemini's 30 prebuilt voice names and the espeak-ng voice each is
 * spoken with (speech.h). Pure data and lookups.
 *
 * Why this mapping: a name must keep its character across requests and two
 * names must never sound alike. So each takes an espeak-ng variant of its
 * gender (Google's voice list gives each a gender and a one-word trait) —
 * the variants differ in formants, breath and roughness, i.e. in timbre —
 * and its own base pitch, pitch range and speed, read off the trait:
 * "Excitable", "Lively" and "Upbeat" voices speak faster with a wider
 * range, "Firm" and "Even" ones with a narrow range, "Mature", "Gentle",
 * "Soft" and "Warm" ones lower and slower. No two entries share a variant,
 * so no two names differ by pitch alone. Every variant named here is one
 * Debian 12's espeak-ng-data ships (test_speech checks the files). */
#include "speech/speech.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define F true
#define M false

static const ia_speech_voice VOICES[] = {
    /* name            trait            gender variant   pitch range rate */
    {"Zephyr",        "Bright",        F, "f3",       62, 60, 175},
    {"Puck",          "Upbeat",        M, "m3",       55, 70, 185},
    {"Charon",        "Informative",   M, "m1",       42, 45, 165},
    {"Kore",          "Firm",          F, "f1",       50, 38, 170},
    {"Fenrir",        "Excitable",     M, "m6",       62, 85, 200},
    {"Leda",          "Youthful",      F, "anika",    60, 65, 180},
    {"Orus",          "Firm",          M, "m2",       38, 38, 165},
    {"Aoede",         "Breezy",        F, "f2",       55, 58, 182},
    {"Callirrhoe",    "Easy-going",    F, "f4",       48, 50, 162},
    {"Autonoe",       "Bright",        F, "Annie",    58, 62, 176},
    {"Enceladus",     "Breathy",       M, "m7",       45, 50, 158},
    {"Iapetus",       "Clear",         M, "m5",       52, 50, 172},
    {"Umbriel",       "Easy-going",    M, "Andy",     46, 52, 160},
    {"Algieba",       "Smooth",        M, "Lee",      50, 42, 166},
    {"Despina",       "Smooth",        F, "belinda",  44, 42, 166},
    {"Erinome",       "Clear",         F, "linda",    56, 50, 174},
    {"Algenib",       "Gravelly",      M, "croak",    32, 45, 160},
    {"Rasalgethi",    "Informative",   M, "Denis",    54, 48, 170},
    {"Laomedeia",     "Upbeat",        F, "f5",       64, 72, 186},
    {"Achernar",      "Soft",          F, "steph",    46, 40, 156},
    {"Alnilam",       "Firm",          M, "m8",       40, 36, 170},
    {"Schedar",       "Even",          M, "michel",   47, 32, 168},
    {"Gacrux",        "Mature",        F, "grandma",  38, 45, 152},
    {"Pulcherrima",   "Forward",       F, "Andrea",   54, 60, 184},
    {"Achird",        "Friendly",      M, "antonio",  50, 60, 176},
    {"Zubenelgenubi", "Casual",        M, "Henrique", 44, 56, 164},
    {"Vindemiatrix",  "Gentle",        F, "Alicia",   42, 44, 154},
    {"Sadachbia",     "Lively",        M, "Marco",    58, 78, 190},
    {"Sadaltager",    "Knowledgeable", M, "victor",   48, 44, 166},
    {"Sulafat",       "Warm",          F, "shelby",   40, 50, 158},
};
#define N_VOICES (sizeof VOICES / sizeof *VOICES)

size_t ia_speech_voice_count(void) { return N_VOICES; }

const ia_speech_voice *ia_speech_voice_at(size_t i) { return i < N_VOICES ? &VOICES[i] : NULL; }

const ia_speech_voice *ia_speech_voice_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < N_VOICES; i++)
        if (strcasecmp(VOICES[i].name, name) == 0) return &VOICES[i];
    return NULL;
}

/* Plenty: 30 names of at most 13 bytes and their separators. */
static char names[N_VOICES * 16];

static void build_names(void) {
    size_t n = 0;
    for (size_t i = 0; i < N_VOICES; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", VOICES[i].name);
}

const char *ia_speech_voice_names(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_names);
    return names;
}

/* ---- model names ---------------------------------------------------------- */

static const char *const MODELS[] = {"gemini-2.5-flash-preview-tts", "gemini-2.5-pro-preview-tts",
                                     "gemini-3.1-flash-tts-preview", "espeak"};

bool ia_speech_model(const char *name) {
    for (size_t i = 0; name && i < sizeof MODELS / sizeof *MODELS; i++)
        if (strcmp(name, MODELS[i]) == 0) return true;
    return false;
}

const char *ia_speech_model_names(void) {
    return "gemini-2.5-flash-preview-tts, gemini-2.5-pro-preview-tts, gemini-3.1-flash-tts-preview, espeak";
}
