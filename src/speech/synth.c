/* synth: a speech request from text to 24 kHz chunks (speech.h). The
 * config is resolved first (voices, languages: every error before any
 * audio), the text cut into turns, each turn into sentences; a sentence is
 * spoken by espeak-ng under its lock (espeak.c), resampled here outside it,
 * and handed on at once. Each turn has its own resampler, ended at the
 * turn's end, so a turn's audio is exactly what that turn alone would give
 * (the tests compare them) and the pause between turns is true silence. */
#include "speech/speech_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/b64.h"
#include "lib/util.h"

#define FIELD "generation_config.speech_config"

/* The config resolved: each entry's voice and espeak-ng language. */
typedef struct plan {
    const ia_speech_voice *voice[IA_SPEECH_MAX_SPEAKERS];
    char lang[IA_SPEECH_MAX_SPEAKERS][32];
} plan;

static void entry_path(const ia_speech_cfg *cfg, size_t i, const char *field, char *p, size_t cap) {
    if (cfg->listed) snprintf(p, cap, FIELD "[%zu].%s", i, field);
    else snprintf(p, cap, FIELD ".%s", field);
}

static int make_plan(const ia_speech_cfg *cfg, plan *p, ia_err *err) {
    static const ia_speech_cfg none = {0};
    static ia_speech_entry plain; /* all NULL: the defaults */
    if (!cfg) cfg = &none;
    if (cfg->n > IA_SPEECH_MAX_SPEAKERS)
        return ia_fail(err, IA_EINVALID, FIELD ": at most %d speakers, got %zu", IA_SPEECH_MAX_SPEAKERS, cfg->n);
    size_t n = cfg->n ? cfg->n : 1;
    for (size_t i = 0; i < n; i++) {
        const ia_speech_entry *e = cfg->n ? &cfg->v[i] : &plain;
        char path[128];
        entry_path(cfg, i, "voice", path, sizeof path);
        p->voice[i] = ia_speech_voice_find(e->voice ? e->voice : IA_SPEECH_DEFAULT_VOICE);
        if (!p->voice[i])
            return ia_fail(err, IA_EINVALID, "%s: unknown voice '%s' (one of %s)", path, e->voice,
                           ia_speech_voice_names());
        entry_path(cfg, i, "language", path, sizeof path);
        const char *tag = e->language ? e->language : IA_SPEECH_DEFAULT_LANGUAGE;
        if (ia_speech_language(tag, path, p->lang[i], err) < 0) return -1;
    }
    return 0;
}

int ia_speech_check(const ia_speech_cfg *cfg, ia_err *err) {
    plan p;
    return make_plan(cfg && cfg->n ? cfg : NULL, &p, err);
}

/* ---- one request ------------------------------------------------------------ */

typedef struct job {
    const char *text;
    const plan *plan;
    atomic_bool *cancel;
    ia_speech_pcm_fn on_pcm;
    void *ud;
    double native_rate;
    ia_pcm native, out; /* reused from sentence to sentence */
} job;

static bool cancelled(const job *j) { return j->cancel && atomic_load(j->cancel); }

/* Hands j->out on in chunks of at most IA_SPEECH_CHUNK_MAX samples. */
static int emit(job *j, ia_err *err) {
    for (size_t at = 0; at < j->out.n;) {
        size_t n = j->out.n - at < IA_SPEECH_CHUNK_MAX ? j->out.n - at : IA_SPEECH_CHUNK_MAX;
        if (j->on_pcm(j->ud, j->out.v + at, n) != 0)
            return ia_fail(err, IA_ECANCELLED, "speech: stopped by the receiver of its audio");
        at += n;
    }
    j->out.n = 0;
    return 0;
}

static bool all_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return false;
    return true;
}

/* One sentence: spoken, resampled, handed on. */
static int say_sentence(job *j, const ia_speech_turn *t, const char *s, size_t n, ia_resampler *rs, ia_err *err) {
    if (all_blank(s, n)) return 0;
    j->native.n = 0;
    if (ia_espeak_say(s, n, j->plan->lang[t->entry], j->plan->voice[t->entry], j->cancel, &j->native, err) < 0)
        return -1;
    if (ia_resampler_push(rs, j->native.v, j->native.n, &j->out, err) < 0) return -1;
    return emit(j, err);
}

static int say_turn(job *j, const ia_speech_turn *t, ia_err *err) {
    ia_resampler *rs = ia_resampler_new(j->native_rate, IA_SPEECH_RATE, err);
    if (!rs) return -1;
    int rc = 0;
    const char *s = j->text + t->off;
    for (size_t at = 0; rc == 0 && at < t->len;) {
        if (cancelled(j)) {
            rc = ia_fail(err, IA_ECANCELLED, "speech: cancelled");
            break;
        }
        size_t n = ia_speech_sentence(s + at, t->len - at);
        rc = say_sentence(j, t, s + at, n, rs, err);
        at += n;
    }
    if (rc == 0) rc = ia_resampler_end(rs, &j->out, err);
    if (rc == 0) rc = emit(j, err);
    ia_resampler_free(rs);
    return rc;
}

int ia_speech_synth(const ia_speech_req *req, ia_speech_pcm_fn on_pcm, void *ud, atomic_bool *cancel,
                    ia_err *err) {
    plan p;
    if (make_plan(req->cfg, &p, err) < 0) return -1;
    int rate = ia_espeak_rate(err);
    if (rate < 0) return -1;
    job j = {.text = req->text, .plan = &p, .cancel = cancel, .on_pcm = on_pcm, .ud = ud, .native_rate = rate};
    ia_speech_turn *turns = NULL;
    size_t n = 0;
    ia_speech_split(req->text ? req->text : "", req->text ? req->len : 0, req->cfg, &turns, &n);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0) {
            ia_pcm_silence(&j.out, (size_t)IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000);
            rc = emit(&j, err);
        }
        if (rc == 0) rc = say_turn(&j, &turns[i], err);
    }
    free(turns);
    ia_pcm_free(&j.native);
    ia_pcm_free(&j.out);
    return rc;
}

static int collect(void *ud, const int16_t *pcm, size_t n) {
    ia_pcm_append(ud, pcm, n);
    return 0;
}

int ia_speech_synth_all(const ia_speech_req *req, atomic_bool *cancel, int16_t **pcm, size_t *n, ia_err *err) {
    ia_pcm all = {0};
    *pcm = NULL;
    *n = 0;
    if (ia_speech_synth(req, collect, &all, cancel, err) < 0) {
        ia_pcm_free(&all);
        return -1;
    }
    *pcm = all.v;
    *n = all.n;
    return 0;
}

char *ia_speech_pcm_b64(const int16_t *pcm, size_t n) {
    uint8_t *b = ia_xmalloc(n ? n * 2 : 1);
    for (size_t i = 0; i < n; i++) {
        uint16_t u = (uint16_t)pcm[i];
        b[2 * i] = (uint8_t)(u & 0xff);
        b[2 * i + 1] = (uint8_t)(u >> 8);
    }
    char *s = ia_b64_encode(b, n * 2);
    free(b);
    return s;
}
