/* outputs.c: speech and image outputs as content blocks of a run (outputs.h). */
#include "core/outputs.h"

#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "lib/b64.h"
#include "lib/util.h"
#include "speech/audiofmt.h"
#include "speech/speech.h"
#include "speech/tts.h"
#include "upstream/speech.h"

char *ia_outputs_input_text(const ia_conv *input) {
    ia_buf b;
    ia_buf_init(&b, 0);
    for (size_t i = 0; i < input->n; i++) {
        const ia_turn *t = &input->turns[i];
        for (size_t k = 0; t->role == IA_ROLE_USER && k < t->n; k++) {
            if (t->items[k].kind != IA_CONTENT_TEXT || !t->items[k].text || !*t->items[k].text) continue;
            if (b.len) ia_buf_puts(&b, "\n");
            ia_buf_puts(&b, t->items[k].text);
        }
    }
    char *s = ia_buf_take(&b);
    return s ? s : ia_strdup("");
}

/* A media part: kind, format, and (for a delta) data. */
static ia_content *media_part(ia_content_kind kind, const char *mime, int64_t rate, int64_t channels, char *data) {
    ia_content *p = ia_xcalloc(1, sizeof *p);
    p->kind = kind;
    p->mime_type = ia_strdup(mime);
    p->sample_rate = rate;
    p->channels = channels;
    p->text = data;
    return p;
}

/* The block's start at the next output index; returns the index. */
static int open_block(ia_run *r, ia_content_kind kind, const char *mime, int64_t rate, int64_t channels) {
    int index = (int)r->parsed_out.n;
    ia_run_emit_part_locked(r, IA_EV_CONTENT_START, index, media_part(kind, mime, rate, channels, NULL));
    r->open_media = index;
    return index;
}

/* The whole item into the outputs, and the block's stop. */
static void close_block(ia_core *c, ia_run *r, int index, ia_content_kind kind, const char *mime, int64_t rate,
                        int64_t channels, char *data) {
    ia_content *item = media_part(kind, mime, rate, channels, data);
    ia_turn *out = &r->parsed_out;
    out->items = ia_xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    out->items[out->n++] = *item; /* taken over */
    free(item);
    ia_run_emit_locked(r, IA_EV_CONTENT_STOP, index, IA_STATUS_IN_PROGRESS, NULL, NULL);
    r->open_media = -1;
    r->step_text = true; /* the step has an output: no empty text after it */
    ia_core_flush_locked(c, r);
}

/* ---- speech ------------------------------------------------------------------ */

typedef struct speech_sink {
    ia_core *c;
    ia_run *r;
    int index;
    int16_t *all; /* every sample so far: the item's data (passthrough) */
    size_t n_all, cap_all;
    size_t sent;  /* samples of all already sent as deltas (passthrough) */
    /* A format other than the engines' own PCM: the encoder, and how many
     * of its bytes are sent; n_all then counts samples only. */
    const ia_audio_spec *spec;
    ia_audio_enc *enc;
    size_t enc_sent;
    ia_err enc_err;
    bool enc_failed;
} speech_sink;

static const char *sink_mime(const speech_sink *s) { return s->enc ? s->spec->mime : IA_SPEECH_MIME; }
static int64_t sink_rate(const speech_sink *s) { return s->enc ? s->spec->rate : IA_SPEECH_RATE; }

/* Sends the delta's base64, unless the run has ended. 1 when it has. */
static int send_delta(speech_sink *s, char *b64) {
    pthread_mutex_lock(&s->r->mu);
    bool ended = s->r->ended;
    if (!ended) {
        ia_run_emit_part_locked(s->r, IA_EV_CONTENT_DELTA, s->index,
                                media_part(IA_CONTENT_AUDIO, sink_mime(s), sink_rate(s), IA_SPEECH_CHANNELS, b64));
        if (s->r->n_evs - s->r->n_persisted >= IA_CORE_FLUSH_EVERY) ia_core_flush_locked(s->c, s->r);
    } else {
        free(b64);
    }
    pthread_mutex_unlock(&s->r->mu);
    return ended ? 1 : 0;
}

/* The encoder's bytes not yet sent, in whole 3-byte groups (base64 without
 * padding, as for PCM), all of them when last. */
static int send_encoded(speech_sink *s, bool last) {
    uint8_t *b = NULL;
    size_t len = ia_audio_enc_take(s->enc, s->enc_sent, &b);
    size_t n = len - s->enc_sent;
    if (!last) n -= n % 3;
    if (!n) {
        free(b);
        return 0;
    }
    char *b64 = ia_b64_encode(b, n);
    free(b);
    s->enc_sent += n;
    return send_delta(s, b64);
}

/* Sends what is not yet sent in whole 3-sample groups (6 bytes: a base64
 * text without padding, so the deltas' texts concatenate), all of it when
 * last. */
static int send_pending(speech_sink *s, bool last) {
    size_t n = s->n_all - s->sent;
    if (!last) n -= n % 3;
    if (!n) return 0;
    char *b64 = ia_speech_pcm_b64(s->all + s->sent, n);
    s->sent += n;
    return send_delta(s, b64);
}

static int on_pcm(void *ud, const int16_t *pcm, size_t n) {
    speech_sink *s = ud;
    if (s->index < 0) { /* the block opens with the first audio: nothing to say, no output */
        pthread_mutex_lock(&s->r->mu);
        bool ended = s->r->ended;
        if (!ended) s->index = open_block(s->r, IA_CONTENT_AUDIO, sink_mime(s), sink_rate(s), IA_SPEECH_CHANNELS);
        pthread_mutex_unlock(&s->r->mu);
        if (ended) return 1;
    }
    if (s->enc) {
        s->n_all += n;
        if (ia_audio_enc_write(s->enc, pcm, n, &s->enc_err) < 0) {
            s->enc_failed = true;
            return 1; /* stops the engine; the encoder's error is the run's */
        }
        return send_encoded(s, false);
    }
    if (s->n_all + n > s->cap_all) {
        s->cap_all = (s->n_all + n) * 2;
        s->all = ia_xrealloc(s->all, s->cap_all * sizeof *s->all);
    }
    memcpy(s->all + s->n_all, pcm, n * sizeof *pcm);
    s->n_all += n;
    return send_pending(s, false);
}

/* A --speech-model's frames at most: max_output_tokens at Gemini's 25
 * tokens a second of audio, a frame 80 ms (2 tokens) for PocketTTS and
 * Qwen3-TTS alike (12.5 frames a second); else the module's cap. */
static int64_t tts_frames(const ia_gen_config *gen) {
    if (!gen->has_max_output_tokens || gen->max_output_tokens <= 0) return 0;
    return gen->max_output_tokens / 2 > 0 ? gen->max_output_tokens / 2 : 1;
}

/* The rest of an encoded output after the engine's last sample: the
 * encoder flushed and its last bytes sent. 0, 1 when the run ended, -1
 * with err when the encoder failed. */
static int finish_encoded(speech_sink *s, ia_err *err) {
    if (ia_audio_enc_finish(s->enc, err) < 0) return -1;
    return send_encoded(s, true);
}

/* The stored item's data: the PCM sent, or the encoder's whole output
 * (when every byte of it was sent: a WAV with its real sizes). */
static char *sink_data(speech_sink *s, bool finished) {
    if (!s->enc) return ia_speech_pcm_b64(s->all, s->sent);
    size_t len = 0;
    uint8_t *b = finished ? ia_audio_enc_stored(s->enc, &len) : NULL;
    if (!finished) ia_audio_enc_take(s->enc, 0, &b), len = s->enc_sent;
    char *b64 = ia_b64_encode(b ? b : (const uint8_t *)"", b ? len : 0);
    free(b);
    return b64;
}

int ia_outputs_speech(ia_core *c, ia_run *r, const ia_upstream *up, struct ia_tts *tts, const char *text,
                      const ia_gen_config *gen, const ia_audio_fmt *fmt, ia_err *err) {
    ia_audio_spec spec;
    if (ia_audio_spec_resolve(fmt, "response_format", &spec, err) < 0) return -1;
    speech_sink s = {.c = c, .r = r, .index = -1, .spec = &spec};
    if (!spec.passthrough && !(s.enc = ia_audio_enc_open(&spec, err))) return -1;
    const ia_speech_cfg *cfg = &gen->speech;
    ia_speech_req q = {.text = text, .len = strlen(text), .cfg = cfg->n ? cfg : NULL};
    uint32_t seed = gen->has_seed ? (uint32_t)gen->seed : IA_OUTPUTS_TTS_SEED;
    int rc = up    ? ia_upstream_speak(up, text, q.cfg, on_pcm, &s, &r->cancel, err)
             : tts ? ia_tts_speak(tts, &q, tts_frames(gen), seed, on_pcm, &s, &r->cancel, err)
                   : ia_speech_synth(&q, on_pcm, &s, &r->cancel, err);
    if (s.enc_failed) rc = -1, *err = s.enc_err;
    bool finished = false;
    if (rc == 0 && s.index >= 0 && s.enc) {
        int f = finish_encoded(&s, err);
        rc = f < 0 ? -1 : f ? ia_fail(err, IA_ECANCELLED, "cancelled") : 0;
        finished = f == 0;
    } else if (rc == 0 && s.index >= 0) {
        rc = send_pending(&s, true) ? ia_fail(err, IA_ECANCELLED, "cancelled") : 0;
    }
    pthread_mutex_lock(&r->mu);
    if (!r->ended && s.index >= 0) {
        /* also when cut short: what was streamed stays the output */
        char *data = sink_data(&s, finished);
        close_block(c, r, s.index, IA_CONTENT_AUDIO, sink_mime(&s), sink_rate(&s), IA_SPEECH_CHANNELS, data);
        /* usage: 25 tokens a second of audio, rounded up, as Gemini counts
         * them (of the speech made, whatever its format) */
        size_t samples = s.enc ? s.n_all : s.sent;
        r->it.usage.output_audio += ((int64_t)samples * 25 + IA_SPEECH_RATE - 1) / IA_SPEECH_RATE;
    }
    pthread_mutex_unlock(&r->mu);
    ia_audio_enc_free(s.enc);
    free(s.all);
    return rc;
}

/* ---- images ------------------------------------------------------------------ */

int ia_outputs_images(ia_core *c, ia_run *r, const ia_upstream *u, const ia_image_req *q, ia_err *err) {
    ia_image_out *imgs = NULL;
    size_t n = 0;
    if (ia_images_generate(u, q, &r->cancel, &imgs, &n, err) != 0) return -1;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < n && !r->ended; i++) {
        int index = open_block(r, IA_CONTENT_IMAGE, imgs[i].mime_type, 0, 0);
        char *b64 = ia_b64_encode(imgs[i].data, imgs[i].len);
        ia_run_emit_part_locked(r, IA_EV_CONTENT_DELTA, index,
                                media_part(IA_CONTENT_IMAGE, imgs[i].mime_type, 0, 0, ia_strdup(b64)));
        close_block(c, r, index, IA_CONTENT_IMAGE, imgs[i].mime_type, 0, 0, b64);
    }
    pthread_mutex_unlock(&r->mu);
    ia_image_outs_free(imgs, n);
    return 0;
}
