/* tts: llama.cpp's speech generation behind a model name (tts.h). */
#include "speech/tts.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gguf.h>
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "speech/speech_int.h"

/* Room for a turn's prompt and its frames (a frame is one position). */
#define IA_TTS_CTX 4096

struct ia_tts {
    ia_tts_spec spec;
    struct llama_model *model;
    struct llama_context *lctx;
    mtmd_context *mctx;
    mtmd_helper_gen_audio *gen;
    struct mtmd_gen_audio_info info;
    mtmd_bitmap *refs[IA_TTS_MAX_VOICES + 1]; /* spec.voices' audio, decoded */
    pthread_mutex_t mu;                       /* one turn at a time on the context */
    char desc[160];
};

/* ---- the spec ------------------------------------------------------------------ */

void ia_tts_spec_free(ia_tts_spec *s) {
    free(s->name);
    free(s->model);
    free(s->mmproj);
    for (size_t i = 0; i < s->n_voices; i++) {
        free(s->voices[i].name);
        free(s->voices[i].file);
    }
    memset(s, 0, sizeof *s);
}

static int add_voice(ia_tts_spec *s, const char *name, size_t nl, const char *file, ia_err *err) {
    if (!*file) return ia_fail(err, IA_EINVALID, "'%s': a voice needs a reference audio file", s->name);
    for (size_t i = 0; i < s->n_voices; i++) {
        const char *o = s->voices[i].name;
        if ((!o && !name) || (o && name && strlen(o) == nl && strncasecmp(o, name, nl) == 0))
            return ia_fail(err, IA_EINVALID, "'%s': voice '%.*s' given twice", s->name, name ? (int)nl : 7,
                           name ? name : "default");
    }
    if (s->n_voices == IA_TTS_MAX_VOICES + 1)
        return ia_fail(err, IA_EINVALID, "'%s': at most %d named voices", s->name, IA_TTS_MAX_VOICES);
    s->voices[s->n_voices].name = name ? ia_strndup(name, nl) : NULL;
    s->voices[s->n_voices++].file = ia_strdup(file);
    return 0;
}

/* One "key=value" option after the model path. */
static int spec_option(ia_tts_spec *s, const char *opt, ia_err *err) {
    const char *eq = strchr(opt, '=');
    if (!eq) return ia_fail(err, IA_EINVALID, "'%s': option '%s' is not KEY=VALUE", s->name, opt);
    size_t kl = (size_t)(eq - opt);
    const char *v = eq + 1;
    if (kl == 6 && !strncmp(opt, "mmproj", 6)) {
        if (!*v || s->mmproj) return ia_fail(err, IA_EINVALID, "'%s': mmproj= needs one file", s->name);
        s->mmproj = ia_strdup(v);
        return 0;
    }
    if (kl == 7 && !strncmp(opt, "speaker", 7)) return add_voice(s, NULL, 0, v, err);
    if (kl == 5 && !strncmp(opt, "voice", 5)) {
        const char *colon = strchr(v, ':');
        if (!colon || colon == v)
            return ia_fail(err, IA_EINVALID, "'%s': voice= is VOICE:REF.wav, got '%s'", s->name, v);
        for (const char *p = v; p < colon; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
                return ia_fail(err, IA_EINVALID, "'%s': voice name '%.*s' is not letters, digits, '_' or '-'",
                               s->name, (int)(colon - v), v);
        return add_voice(s, v, (size_t)(colon - v), colon + 1, err);
    }
    return ia_fail(err, IA_EINVALID, "'%s': unknown option '%.*s' (mmproj=, speaker=, voice=)", s->name, (int)kl,
                   opt);
}

int ia_tts_spec_parse(const char *spec, ia_tts_spec *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) return ia_fail(err, IA_EINVALID, "'%s' is not NAME=BACKBONE.gguf[,...]", spec);
    for (const char *p = spec; p < eq; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-:", *p))
            return ia_fail(err, IA_EINVALID, "model name '%.*s': letters, digits and . _ - : only", (int)(eq - spec),
                           spec);
    out->name = ia_strndup(spec, (size_t)(eq - spec));
    char *rest = ia_strdup(eq + 1), *save = NULL;
    int rc = 0;
    char *model = strtok_r(rest, ",", &save);
    if (!model || rest[0] == ',') rc = ia_fail(err, IA_EINVALID, "'%s': no backbone GGUF after '='", out->name);
    else out->model = ia_strdup(model);
    for (char *o = NULL; rc == 0 && (o = strtok_r(NULL, ",", &save));) rc = spec_option(out, o, err);
    free(rest);
    if (rc != 0) ia_tts_spec_free(out);
    return rc;
}

/* ---- loading ------------------------------------------------------------------- */

static void quiet_log(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (level == GGML_LOG_LEVEL_ERROR) ia_debug("mtmd: %s", text);
}

static int load_voices(ia_tts *t, ia_err *err) {
    if (t->spec.n_voices && !mtmd_support_audio(t->mctx))
        return ia_fail(err, IA_EINVALID, "'%s': the projector %s cannot encode a speaker reference (no voice encoder)",
                       t->spec.name, t->spec.mmproj);
    for (size_t i = 0; i < t->spec.n_voices; i++) {
        struct mtmd_helper_bitmap_wrapper w =
            mtmd_helper_bitmap_init_from_file(t->mctx, t->spec.voices[i].file, false, mtmd_helper_init_opt_default());
        if (!w.bitmap || !mtmd_bitmap_is_audio(w.bitmap)) {
            if (w.bitmap) mtmd_bitmap_free(w.bitmap);
            return ia_fail(err, IA_EINVALID, "'%s': cannot read the speaker reference %s (WAV, MP3 or FLAC)",
                           t->spec.name, t->spec.voices[i].file);
        }
        t->refs[i] = w.bitmap;
    }
    return 0;
}

/* Whether the projector file says it generates audio, read from its keys
 * before libmtmd loads it: a clearer refusal, and libmtmd leaks the
 * contexts it made when its loader throws on a projector that does not
 * fit the backbone. -1: not a GGUF. */
static int generates_audio(const char *path) {
    struct gguf_init_params p = {.no_alloc = true, .ctx = NULL};
    struct gguf_context *g = gguf_init_from_file(path, p);
    if (!g) return -1;
    int64_t k = gguf_find_key(g, "clip.has_gen_audio_encoder");
    bool yes = k >= 0 && gguf_get_kv_type(g, k) == GGUF_TYPE_BOOL && gguf_get_val_bool(g, k);
    gguf_free(g);
    return yes;
}

static int load(ia_tts *t, int threads, ia_err *err) {
    struct llama_model_params mp = llama_model_default_params();
    if (!(t->model = llama_model_load_from_file(t->spec.model, mp)))
        return ia_fail(err, IA_EINVALID, "'%s': cannot load the backbone %s", t->spec.name, t->spec.model);
    struct llama_context_params cp = llama_context_default_params();
    cp.embeddings = true; /* the pipeline reads the backbone's hidden state */
    cp.n_ctx = IA_TTS_CTX;
    cp.n_batch = cp.n_ubatch = 512;
    cp.n_seq_max = 1;
    /* more threads than cores spin against each other: a frame is small */
    cp.n_threads = cp.n_threads_batch = threads;
    if (!(t->lctx = llama_init_from_model(t->model, cp)))
        return ia_fail(err, IA_EINVALID, "'%s': cannot make a context for %s", t->spec.name, t->spec.model);
    int gen = generates_audio(t->spec.mmproj);
    if (gen < 0) return ia_fail(err, IA_EINVALID, "'%s': cannot read the projector %s (not a GGUF)", t->spec.name,
                                t->spec.mmproj);
    if (!gen)
        return ia_fail(err, IA_EINVALID, "'%s': the projector %s does not generate audio (not a Qwen3-TTS or "
                       "PocketTTS mmproj)", t->spec.name, t->spec.mmproj);
    mtmd_helper_log_set(quiet_log, NULL);
    struct mtmd_context_params p = mtmd_context_params_default();
    p.use_gpu = true;
    p.print_timings = false;
    p.n_threads = threads;
    p.warmup = false; /* the generator's graphs are made per call anyway */
    if (!(t->mctx = mtmd_init_from_file(t->spec.mmproj, t->model, p)))
        return ia_fail(err, IA_EINVALID, "'%s': cannot load the projector %s with %s", t->spec.name, t->spec.mmproj,
                       t->spec.model);
    t->info = mtmd_gen_audio_get_info(t->mctx);
    if (t->info.type == MTMD_GEN_AUDIO_TYPE_NONE || t->info.sample_rate <= 0)
        return ia_fail(err, IA_EINVALID, "'%s': the projector %s does not generate audio (not a Qwen3-TTS or "
                       "PocketTTS mmproj)", t->spec.name, t->spec.mmproj);
    t->gen = mtmd_helper_gen_audio_init(t->lctx, t->mctx);
    return load_voices(t, err);
}

ia_tts *ia_tts_open(ia_tts_spec *spec, int threads, ia_err *err) {
    ia_tts *t = ia_xcalloc(1, sizeof *t);
    t->spec = *spec;
    memset(spec, 0, sizeof *spec);
    pthread_mutex_init(&t->mu, NULL);
    if (load(t, threads > 0 ? threads : 1, err) != 0) {
        ia_tts_free(t);
        return NULL;
    }
    const char *type = t->info.type == MTMD_GEN_AUDIO_TYPE_QWEN3TTS ? "qwen3-tts" : "pockettts";
    snprintf(t->desc, sizeof t->desc, "%s, %d Hz, %zu speaker reference%s", type, (int)t->info.sample_rate,
             t->spec.n_voices, t->spec.n_voices == 1 ? "" : "s");
    return t;
}

void ia_tts_free(ia_tts *t) {
    if (!t) return;
    for (size_t i = 0; i < t->spec.n_voices; i++)
        if (t->refs[i]) mtmd_bitmap_free(t->refs[i]);
    if (t->gen) mtmd_helper_gen_audio_free(t->gen);
    if (t->mctx) mtmd_free(t->mctx);
    if (t->lctx) llama_free(t->lctx);
    if (t->model) llama_model_free(t->model);
    pthread_mutex_destroy(&t->mu);
    ia_tts_spec_free(&t->spec);
    free(t);
}

const char *ia_tts_name(const ia_tts *t) { return t->spec.name; }
const char *ia_tts_describe(const ia_tts *t) { return t->desc; }

ia_tts *ia_tts_find(const ia_tts_set *s, const char *name) {
    for (size_t i = 0; s && name && i < s->n; i++)
        if (strcmp(s->v[i]->spec.name, name) == 0) return s->v[i];
    return NULL;
}

void ia_tts_set_free(ia_tts_set *s) {
    for (size_t i = 0; i < s->n; i++) ia_tts_free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* ---- speaking ------------------------------------------------------------------ */

typedef struct sink {
    ia_tts *t;
    ia_speech_pcm_fn on_pcm;
    void *ud;
    atomic_bool *cancel;
    ia_resampler *rs; /* NULL: the model speaks at IA_SPEECH_RATE */
    ia_pcm out;       /* 24 kHz samples not yet handed on */
    int64_t taken;    /* the pipeline's samples of this turn already converted */
    int64_t frames, max_frames;
} sink;

static bool cancelled(const sink *s) { return s->cancel && atomic_load(s->cancel); }

static int hand_on(sink *s, ia_err *err) {
    for (size_t off = 0; off < s->out.n;) {
        size_t n = s->out.n - off < IA_SPEECH_CHUNK_MAX ? s->out.n - off : IA_SPEECH_CHUNK_MAX;
        if (s->on_pcm(s->ud, s->out.v + off, n) != 0) return ia_fail(err, IA_ECANCELLED, "cancelled");
        off += n;
    }
    s->out.n = 0;
    return 0;
}

/* The pipeline's new samples (it keeps the turn's whole audio) to 16 bits,
 * at 24 kHz, handed on. */
static int collect(sink *s, ia_err *err) {
    int32_t rate = 0;
    const char *data = NULL;
    size_t len = 0;
    int64_t n = 0;
    if (mtmd_helper_gen_audio_get_output(s->t->gen, &rate, &data, &len, &n) != 0)
        return ia_fail(err, IA_EINTERNAL, "speech model '%s': decoding the audio failed", s->t->spec.name);
    const float *f = (const float *)data;
    size_t fresh = n > s->taken ? (size_t)(n - s->taken) : 0;
    int16_t *pcm = ia_xcalloc(fresh ? fresh : 1, sizeof *pcm);
    for (size_t i = 0; i < fresh; i++) {
        float v = f[s->taken + (int64_t)i];
        v = v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
        pcm[i] = (int16_t)(v * 32767.0f);
    }
    s->taken = n;
    int rc = 0;
    if (s->rs) rc = ia_resampler_push(s->rs, pcm, fresh, &s->out, err);
    else ia_pcm_append(&s->out, pcm, fresh);
    free(pcm);
    return rc == 0 ? hand_on(s, err) : -1;
}

/* The primary subtag, lower case: "en-US" -> "en" (Qwen3-TTS's codes). */
static void lang_of(const char *tag, char out[16]) {
    size_t i = 0;
    for (; tag && tag[i] && tag[i] != '-' && tag[i] != '_' && i < 15; i++) out[i] = (char)tolower((unsigned char)tag[i]);
    out[i] = 0;
}

static mtmd_bitmap *voice_ref(ia_tts *t, const char *voice) {
    mtmd_bitmap *def = NULL;
    for (size_t i = 0; i < t->spec.n_voices; i++) {
        const char *n = t->spec.voices[i].name;
        if (!n) def = t->refs[i];
        else if (voice && strcasecmp(n, voice) == 0) return t->refs[i];
    }
    return def;
}

/* The backbone's token, for pipelines that take one (Qwen3-TTS's first
 * codebook): top-k 50 at temperature 0.9 as its reference, from seed. */
static struct llama_sampler *sampler(uint32_t seed) {
    struct llama_sampler *c = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(c, llama_sampler_init_top_k(50));
    llama_sampler_chain_add(c, llama_sampler_init_temp(0.9f));
    llama_sampler_chain_add(c, llama_sampler_init_dist(seed));
    return c;
}

/* libmtmd's generator keeps one random stream per projector and reseeds
 * it only when a call brings another seed than the call before: a turn
 * with the seed of the turn before would go on with that turn's stream.
 * One throwaway step with another seed makes the turn's own seed start
 * its stream afresh, so that a text, voice and seed give the same audio
 * whatever ran before. Under the model's lock. */
static int reseed(ia_tts *t, uint32_t seed, ia_err *err) {
    int32_t n = llama_model_n_embd(t->model);
    float *zero = ia_xcalloc((size_t)n, sizeof *zero);
    struct mtmd_gen_inp in = mtmd_gen_inp_default(t->mctx);
    in.type = MTMD_GEN_PROCESS_TYPE_GEN_CODE;
    in.embd = zero;
    in.seed = seed ^ 0x5bd1e995u;
    struct mtmd_gen_out out;
    int rc = mtmd_gen_audio_process(t->mctx, &in, &out);
    free(zero);
    return rc == 0 ? 0 : ia_fail(err, IA_EINTERNAL, "speech model '%s': the generator failed", t->spec.name);
}

/* The frames of one prepared turn, under the model's lock. */
static int frames(sink *s, struct llama_sampler *smpl, ia_err *err) {
    ia_tts *t = s->t;
    int32_t left;
    while ((left = mtmd_helper_gen_audio_step_prompt(t->gen, 512)) > 0)
        if (cancelled(s)) return ia_fail(err, IA_ECANCELLED, "cancelled");
    if (left < 0) return ia_fail(err, IA_EINTERNAL, "speech model '%s': the prompt failed", t->spec.name);
    bool tok = t->info.type == MTMD_GEN_AUDIO_TYPE_QWEN3TTS;
    const float *h = llama_get_embeddings_ith(t->lctx, -1);
    int since = 0;
    for (bool stop = false; !stop && s->frames < s->max_frames;) {
        if (cancelled(s)) return ia_fail(err, IA_ECANCELLED, "cancelled");
        llama_token sampled = tok ? llama_sampler_sample(smpl, t->lctx, -1) : LLAMA_TOKEN_NULL;
        const float *next = NULL;
        if (mtmd_helper_gen_audio_step_gen(t->gen, sampled, h, &next, &stop) != 0)
            return ia_fail(err, IA_EINTERNAL, "speech model '%s': generating frame %lld failed", t->spec.name,
                           (long long)s->frames);
        if (!next) break;
        h = next;
        s->frames++;
        if (++since == IA_TTS_FLUSH_FRAMES) {
            since = 0;
            if (collect(s, err) != 0) return -1;
        }
    }
    return collect(s, err);
}

static int turn(sink *s, const char *text, size_t len, const ia_speech_entry *e, uint32_t seed, ia_err *err) {
    ia_tts *t = s->t;
    char lang[16];
    lang_of(e ? e->language : NULL, lang);
    struct mtmd_helper_gen_audio_inp in = {
        .seq_id = 0, .prompt = text, .prompt_len = len, .speaker_ref = voice_ref(t, e ? e->voice : NULL),
        .lang = lang[0] ? lang : NULL, .top_k = 0, .top_p = 0, .seed = seed,
        .out_type = MTMD_HELPER_GEN_AUDIO_OUTTYPE_PCM};
    s->taken = 0;
    s->rs = NULL;
    if (t->info.sample_rate != IA_SPEECH_RATE &&
        !(s->rs = ia_resampler_new(t->info.sample_rate, IA_SPEECH_RATE, err)))
        return -1;
    struct llama_sampler *smpl = sampler(seed);
    pthread_mutex_lock(&t->mu);
    llama_memory_clear(llama_get_memory(t->lctx), true);
    int rc = reseed(t, seed, err);
    if (rc == 0 && mtmd_helper_gen_audio_set_input(t->gen, &in) != 0)
        rc = ia_fail(err, IA_EINTERNAL, "speech model '%s': the pipeline refused the text", t->spec.name);
    if (rc == 0) rc = frames(s, smpl, err);
    mtmd_helper_gen_audio_reset(t->gen);
    pthread_mutex_unlock(&t->mu);
    llama_sampler_free(smpl);
    if (rc == 0 && s->rs && (rc = ia_resampler_end(s->rs, &s->out, err)) == 0) rc = hand_on(s, err);
    ia_resampler_free(s->rs);
    s->rs = NULL;
    return rc;
}

int ia_tts_speak(ia_tts *t, const ia_speech_req *req, int64_t max_frames, uint32_t seed, ia_speech_pcm_fn on_pcm,
                 void *ud, atomic_bool *cancel, ia_err *err) {
    sink s = {.t = t, .on_pcm = on_pcm, .ud = ud, .cancel = cancel,
              .max_frames = max_frames > 0 ? max_frames : IA_TTS_MAX_FRAMES};
    ia_speech_turn *turns = NULL;
    size_t n = 0;
    const ia_speech_cfg *cfg = req->cfg && req->cfg->n ? req->cfg : NULL;
    ia_speech_split(req->text, req->len, cfg, &turns, &n);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n && s.frames < s.max_frames; i++) {
        if (i > 0) { /* the pause between two speakers' turns */
            ia_pcm_silence(&s.out, (size_t)IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000);
            if ((rc = hand_on(&s, err)) != 0) break;
        }
        const ia_speech_entry *e = cfg ? &cfg->v[turns[i].entry] : NULL;
        rc = turn(&s, req->text + turns[i].off, turns[i].len, e, seed, err);
    }
    free(turns);
    ia_pcm_free(&s.out);
    return rc;
}
