/* speech (upstream): OpenAI's /v1/audio/speech, streamed (speech.h). */
#include "upstream/speech.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "upstream/images_int.h"

#define PIECE 4096 /* samples handed to on_pcm at once, at most */

/* The PCM body as it arrives: little-endian bytes into whole samples. */
typedef struct pcm_sink {
    ia_speech_pcm_fn on_pcm;
    void *ud;
    int has_odd;
    unsigned char odd; /* a sample's first byte, from the piece before */
    size_t samples;    /* handed on so far */
} pcm_sink;

static int sink_out(pcm_sink *s, const int16_t *v, size_t n) {
    s->samples += n;
    return n ? s->on_pcm(s->ud, v, n) : 0;
}

static int on_bytes(void *ud, const unsigned char *p, size_t n) {
    pcm_sink *s = ud;
    int16_t buf[PIECE];
    size_t k = 0;
    if (s->has_odd && n) {
        buf[k++] = (int16_t)(uint16_t)(s->odd | (unsigned)p[0] << 8);
        p++, n--;
        s->has_odd = 0;
    }
    for (; n >= 2; p += 2, n -= 2) {
        buf[k++] = (int16_t)(uint16_t)(p[0] | (unsigned)p[1] << 8);
        if (k == PIECE) {
            if (sink_out(s, buf, k) != 0) return 1;
            k = 0;
        }
    }
    if (n) {
        s->odd = p[0];
        s->has_odd = 1;
    }
    return sink_out(s, buf, k);
}

/* The request's JSON for one turn. */
static char *speech_json(const ia_upstream *u, const char *text, size_t len, const char *voice) {
    json_t *in = json_stringn(text, len);
    if (!in) return NULL;
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(u->remote_model ? u->remote_model : u->name));
    json_object_set_new(j, "input", in);
    json_object_set_new(j, "voice", json_string(voice));
    json_object_set_new(j, "response_format", json_string("pcm"));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

/* One request: text[0, len) in voice, its audio into s. */
static int speak_turn(const ia_upstream *u, const char *text, size_t len, const char *voice, pcm_sink *s,
                      atomic_bool *cancel, ia_err *err) {
    char *json = speech_json(u, text, len, voice);
    if (!json) return ia_fail(err, IA_EINVALID, "upstream '%s': the text is not valid UTF-8", u->name);
    ia_up_call c = {.method = "POST", .path = IA_UPSTREAM_SPEECH_PATH, .json = json,
                    .deadline = ia_mono_ms() + (int64_t)u->timeout_s * 1000, .cancel = cancel,
                    .accept = "audio/pcm, application/octet-stream, */*", .sink = on_bytes, .sink_ud = s};
    ia_up_answer a;
    s->has_odd = 0;
    int rc = ia_up_send(u, &c, &a, err);
    free(json);
    if (rc != 0) return -1;
    if (a.status < 200 || a.status >= 300) rc = ia_up_status_error(u, &a, "POST " IA_UPSTREAM_SPEECH_PATH, false, err);
    ia_up_answer_free(&a);
    return rc;
}

/* IA_SPEECH_TURN_PAUSE_MS of silence between two speakers' turns. */
static int pause_between(pcm_sink *s) {
    static const int16_t zero[IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000];
    return sink_out(s, zero, sizeof zero / sizeof *zero);
}

static const char *voice_of(const ia_upstream *u, const ia_speech_cfg *cfg, size_t entry) {
    if (cfg && entry < cfg->n && cfg->v[entry].voice) return cfg->v[entry].voice;
    return u->voice ? u->voice : IA_UPSTREAM_SPEECH_DEFAULT_VOICE;
}

int ia_upstream_speak(const ia_upstream *u, const char *text, const ia_speech_cfg *cfg, ia_speech_pcm_fn on_pcm,
                      void *ud, atomic_bool *cancel, ia_err *err) {
    if (cfg && cfg->n == 0) cfg = NULL;
    ia_speech_turn *turns = NULL;
    size_t n = 0;
    ia_speech_split(text, strlen(text), cfg, &turns, &n);
    pcm_sink s = {.on_pcm = on_pcm, .ud = ud};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (s.samples && pause_between(&s) != 0) {
            rc = ia_fail(err, IA_ECANCELLED, "upstream '%s': cancelled", u->name);
            break;
        }
        rc = speak_turn(u, text + turns[i].off, turns[i].len, voice_of(u, cfg, turns[i].entry), &s, cancel, err);
    }
    free(turns);
    return rc;
}
