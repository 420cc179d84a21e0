/* espeak: the one door into espeak-ng (speech.h: Threads). espeak-ng keeps
 * the voice, the rate and pitch, the synthesis callback and the synthesis
 * itself in process-wide globals, with no locking of its own; so every call
 * into it is made here, under `lock`, and the lock is held for one sentence
 * at a time. espeak-ng is started on first use, in synchronous mode (no
 * audio device, no thread of its own: the callback runs on the caller's
 * thread, inside espeak_Synth), and never terminated: its data stays
 * mapped for the process's life, reachable from its globals.
 *
 * The languages espeak-ng speaks are read once, when it starts, from its
 * voice list (each voice names its language codes, "pt-br", "en-us",
 * "cmn"); mbrola voices are left out (they need mbrola's own program and
 * data, which are not installed). */
#include "speech/speech_int.h"

#include <ctype.h>
#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* Audio handed to the callback per call: also how often cancel is polled. */
#define BUFFER_MS 50
#define MAX_LANGS 512

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Under lock: 0 not started, > 0 started (espeak-ng's sample rate), < 0
 * failed to start (for good: its data does not appear by itself). */
static int state;
static char *langs[MAX_LANGS]; /* lower case; written once, at start */
static size_t n_langs;

/* The sentence being spoken (under lock): where its samples go. */
typedef struct say_ctx {
    ia_pcm *out;
    atomic_bool *cancel;
    bool cancelled;
} say_ctx;
static say_ctx *saying;

static int on_synth(short *wav, int n, espeak_EVENT *events) {
    (void)events;
    if (wav && n > 0) ia_pcm_append(saying->out, wav, (size_t)n);
    if (saying->cancel && atomic_load(saying->cancel)) {
        saying->cancelled = true;
        return 1; /* espeak-ng stops and clears its queue (SpeakNextClause(2)) */
    }
    return 0;
}

static void add_lang(const char *code) {
    if (n_langs == MAX_LANGS) return;
    for (size_t i = 0; i < n_langs; i++)
        if (strcmp(langs[i], code) == 0) return;
    char *c = ia_strdup(code);
    for (char *p = c; *p; p++) *p = (char)tolower((unsigned char)*p);
    langs[n_langs++] = c;
}

/* espeak_VOICE.languages: { priority byte, code, NUL }..., then a 0 byte. */
static void read_languages(void) {
    const espeak_VOICE **v = espeak_ListVoices(NULL);
    for (size_t i = 0; v && v[i]; i++) {
        if (v[i]->identifier && strncmp(v[i]->identifier, "mb/", 3) == 0) continue;
        for (const char *l = v[i]->languages; l && *l; l += strlen(l + 1) + 2) add_lang(l + 1);
    }
}

static int start_locked(ia_err *err) {
    if (state > 0) return 0;
    if (state == 0) {
        /* DONT_EXIT: espeak-ng's default is to exit() the process when its
         * data folder is missing. */
        int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, NULL, espeakINITIALIZE_DONT_EXIT);
        if (rate > 0) {
            espeak_SetSynthCallback(on_synth);
            read_languages();
        }
        state = rate > 0 && n_langs > 0 ? rate : -1;
    }
    if (state < 0)
        return ia_fail(err, IA_EINTERNAL,
                       "speech: espeak-ng could not start (its data folder, espeak-ng-data, is missing or "
                       "unreadable; ESPEAK_DATA_PATH names another)");
    return 0;
}

int ia_espeak_rate(ia_err *err) {
    pthread_mutex_lock(&lock);
    int rc = start_locked(err);
    int rate = state;
    pthread_mutex_unlock(&lock);
    return rc < 0 ? -1 : rate;
}

/* ---- languages -------------------------------------------------------------- */

/* BCP-47's shape, loosely: a primary subtag of 2 to 8 letters, then
 * subtags of 1 to 8 letters or digits, split by '-' (or '_', as POSIX
 * locales write it); written to out in lower case with '-'. */
static bool tag_shape(const char *tag, char out[32]) {
    size_t n = strlen(tag), run = 0, first = 0;
    if (n == 0 || n >= 32) return false;
    for (size_t i = 0; i <= n; i++) {
        char c = tag[i];
        if (c == '-' || c == '_' || c == '\0') {
            if (run == 0 || run > 8) return false;
            if (!first) first = run;
            run = 0;
            out[i] = c ? '-' : '\0';
            continue;
        }
        if (!isalnum((unsigned char)c) || (!first && !isalpha((unsigned char)c))) return false;
        out[i] = (char)tolower((unsigned char)c);
        run++;
    }
    return first >= 2;
}

static bool known_locked(const char *code) {
    for (size_t i = 0; i < n_langs; i++)
        if (strcmp(langs[i], code) == 0) return true;
    return false;
}

int ia_speech_language(const char *tag, const char *path, char out[32], ia_err *err) {
    char norm[32];
    if (!tag || !tag_shape(tag, norm))
        return ia_fail(err, IA_EINVALID, "%s: '%s' is not a language tag (BCP-47, such as 'en-US' or 'pt-BR')", path,
                       tag ? tag : "");
    pthread_mutex_lock(&lock);
    int rc = start_locked(err);
    if (rc == 0) {
        char primary[32];
        snprintf(primary, sizeof primary, "%.*s", (int)strcspn(norm, "-"), norm);
        if (known_locked(norm)) snprintf(out, 32, "%s", norm);
        else if (known_locked(primary)) snprintf(out, 32, "%s", primary);
        else rc = ia_fail(err, IA_EINVALID, "%s: language '%s' is not supported by this server's speech engine "
                                            "(espeak-ng; such as 'en-US', 'pt-BR', 'es', 'fr', 'de', 'hi', 'ja', "
                                            "'cmn')", path, tag);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* ---- speaking -------------------------------------------------------------- */

/* The voice, rate and pitch: set again for every sentence, since another
 * thread's sentence may have changed them in between. */
static int set_voice_locked(const char *lang, const ia_speech_voice *v, ia_err *err) {
    char name[64];
    snprintf(name, sizeof name, "%s+%s", lang, v->variant);
    if (espeak_SetVoiceByName(name) != EE_OK)
        return ia_fail(err, IA_EINTERNAL, "speech: espeak-ng has no voice '%s'", name);
    espeak_SetParameter(espeakRATE, v->rate, 0);
    espeak_SetParameter(espeakPITCH, v->pitch, 0);
    espeak_SetParameter(espeakRANGE, v->range, 0);
    espeak_SetParameter(espeakVOLUME, 100, 0);
    return 0;
}

int ia_espeak_say(const char *text, size_t len, const char *lang, const ia_speech_voice *v, atomic_bool *cancel,
                  ia_pcm *out, ia_err *err) {
    char *s = ia_strndup(text, len); /* espeak-ng reads to a NUL */
    say_ctx ctx = {.out = out, .cancel = cancel};
    pthread_mutex_lock(&lock);
    int rc = start_locked(err);
    if (rc == 0) rc = set_voice_locked(lang, v, err);
    if (rc == 0) {
        saying = &ctx;
        /* ENDPAUSE: the pause a sentence ends with, which espeak-ng leaves
         * out at the end of a text; each sentence is a text here. */
        espeak_ERROR e = espeak_Synth(s, strlen(s) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8 | espeakENDPAUSE,
                                      NULL, NULL);
        saying = NULL;
        if (ctx.cancelled) rc = ia_fail(err, IA_ECANCELLED, "speech: cancelled");
        else if (e != EE_OK) rc = ia_fail(err, IA_EINTERNAL, "speech: espeak-ng failed to speak (error %d)", (int)e);
    }
    pthread_mutex_unlock(&lock);
    free(s);
    return rc;
}
