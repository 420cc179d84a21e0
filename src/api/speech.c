/* speech: generation_config.speech_config from the wire into ia_speech_cfg
 * (model/types.h), in both of the shapes clients send:
 *   - one object {voice?, language?, speaker?} — the guide's examples, and
 *     SDK 3.x's `SpeechConfig | SpeechConfig[]`;
 *   - a list of them — SDK 1.52.0's `Array<SpeechConfig>` and the guide's
 *     several speakers ([{voice: "Zephyr", speaker: "Alice", language},
 *     {voice: "Puck", speaker: "Bob", ...}]).
 * Both dialects take both. Everything is checked here, so that a request
 * the core accepts can be spoken: the voice is a name (which
 * names exist is the engine's: core checks the embedded engine's 30
 * prebuilt names once the model is known, an upstream has its own), the
 * language a BCP-47 tag the speech engine speaks, at most
 * IA_SPEECH_MAX_SPEAKERS entries (Gemini's limit), each named by a distinct
 * speaker when there are several, a speaker name usable as a transcript
 * label. generateContent's spellings (voice_config, prebuiltVoiceConfig,
 * language_code, multi_speaker_voice_config, ...) are named with the
 * Interactions API's. */
#include "api/api.h"
#include "api/api_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "speech/speech.h"

#define FIELD "generation_config.speech_config"
#define SPEAKER_MAX 64
#define VOICE_MAX 128

/* generateContent's names for what an entry holds, pointed at the
 * Interactions API's. */
static const struct {
    const char *seen, *hint;
} OTHER_SPELLINGS[] = {
    {"voice_config", "name the voice in 'voice' ({voice: 'Kore'})"},
    {"voiceConfig", "name the voice in 'voice' ({voice: 'Kore'})"},
    {"prebuilt_voice_config", "name the voice in 'voice' ({voice: 'Kore'})"},
    {"prebuiltVoiceConfig", "name the voice in 'voice' ({voice: 'Kore'})"},
    {"voice_name", "it is spelled voice"},
    {"voiceName", "it is spelled voice"},
    {"language_code", "it is spelled language"},
    {"languageCode", "it is spelled language"},
    {"multi_speaker_voice_config", "for several speakers, speech_config is a list of {voice, speaker}"},
    {"multiSpeakerVoiceConfig", "for several speakers, speech_config is a list of {voice, speaker}"},
    {"speaker_voice_configs", "for several speakers, speech_config is a list of {voice, speaker}"},
    {"speakerVoiceConfigs", "for several speakers, speech_config is a list of {voice, speaker}"},
};

static int other_field(const char *path, const char *key, ia_err *err) {
    for (size_t i = 0; i < sizeof OTHER_SPELLINGS / sizeof *OTHER_SPELLINGS; i++)
        if (strcmp(key, OTHER_SPELLINGS[i].seen) == 0)
            return ia_fail(err, IA_EINVALID, "%s.%s: not a field here; %s", path, key, OTHER_SPELLINGS[i].hint);
    char p[IA_API_PATH_MAX];
    ia_api_mkpath(p, "%s.%s", path, key);
    return ia_api_unknown_field(err, p);
}

static int nonempty_string(json_t *v, const char *path, const char **out, ia_err *err) {
    if (ia_api_get_string(v, path, out, err) < 0) return -1;
    if (json_string_length(v) == 0) return ia_fail(err, IA_EINVALID, "%s: must not be empty", path);
    return 0;
}

static int decode_voice(json_t *v, const char *path, ia_speech_entry *e, ia_err *err) {
    const char *s;
    if (nonempty_string(v, path, &s, err) < 0) return -1;
    if (json_string_length(v) > VOICE_MAX) return ia_fail(err, IA_EINVALID, "%s: at most %d bytes", path, VOICE_MAX);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f) return ia_fail(err, IA_EINVALID, "%s: a voice name has no control character", path);
    e->voice = ia_strdup(s);
    return 0;
}

static int decode_language(json_t *v, const char *path, ia_speech_entry *e, ia_err *err) {
    const char *s;
    char lang[32];
    if (ia_api_get_string(v, path, &s, err) < 0) return -1;
    if (ia_speech_language(s, path, lang, err) < 0) return -1;
    e->language = ia_strdup(s);
    return 0;
}

/* A speaker is found in the text as "Name:" at a line's start, so a name
 * with a colon or a line break in it could never be. */
static int decode_speaker(json_t *v, const char *path, ia_speech_entry *e, ia_err *err) {
    const char *s;
    if (nonempty_string(v, path, &s, err) < 0) return -1;
    if (json_string_length(v) > SPEAKER_MAX)
        return ia_fail(err, IA_EINVALID, "%s: at most %d bytes", path, SPEAKER_MAX);
    if (strpbrk(s, ":\r\n"))
        return ia_fail(err, IA_EINVALID,
                       "%s: '%s' cannot label a line of the transcript (no ':' or line break in a speaker's name)",
                       path, s);
    e->speaker = ia_strdup(s);
    return 0;
}

static int decode_entry(json_t *o, const char *path, ia_speech_entry *e, ia_err *err) {
    if (!json_is_object(o))
        return ia_fail(err, IA_EINVALID, "%s: expected an object {voice, language, speaker}", path);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (json_is_null(v)) continue;
        char p[IA_API_PATH_MAX];
        ia_api_mkpath(p, "%s.%s", path, key);
        int rc;
        if (strcmp(key, "voice") == 0) rc = decode_voice(v, p, e, err);
        else if (strcmp(key, "language") == 0) rc = decode_language(v, p, e, err);
        else if (strcmp(key, "speaker") == 0) rc = decode_speaker(v, p, e, err);
        else rc = other_field(path, key, err);
        if (rc < 0) return -1;
    }
    return 0;
}

/* Several entries: each names its speaker, and no two the same one (a
 * label matches in any case, so neither may two names that differ only
 * in case). */
static int check_speakers(const ia_speech_cfg *c, ia_err *err) {
    if (c->n < 2) return 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->v[i].speaker)
            return ia_fail(err, IA_EINVALID,
                           FIELD "[%zu].speaker: required when several voices are given (the name that labels "
                                 "this voice's lines in the text, as in 'Alice: Hi')", i);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(c->v[i].speaker, c->v[j].speaker) == 0)
                return ia_fail(err, IA_EINVALID, FIELD "[%zu].speaker: '%s' is already " FIELD "[%zu]'s", i,
                               c->v[i].speaker, j);
    }
    return 0;
}

int ia_api_decode_speech(json_t *v, ia_speech_cfg *out, ia_err *err) {
    size_t n;
    if (json_is_object(v)) {
        n = 1;
    } else if (json_is_array(v)) {
        n = json_array_size(v);
        if (n == 0)
            return ia_fail(err, IA_EINVALID,
                           FIELD ": an empty list; give one {voice, language}, one {voice, speaker} per speaker, "
                                 "or leave the field out");
        if (n > IA_SPEECH_MAX_SPEAKERS)
            return ia_fail(err, IA_EINVALID, FIELD ": at most %d speakers, got %zu", IA_SPEECH_MAX_SPEAKERS, n);
    } else {
        return ia_fail(err, IA_EINVALID,
                       FIELD ": expected an object {voice, language, speaker} or a list of them (one per speaker)");
    }
    out->listed = json_is_array(v);
    out->v = ia_xcalloc(n, sizeof *out->v);
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        char p[IA_API_PATH_MAX];
        if (out->listed) ia_api_mkpath(p, FIELD "[%zu]", i);
        else ia_api_mkpath(p, FIELD);
        if (decode_entry(out->listed ? json_array_get(v, i) : v, p, &out->v[i], err) < 0) return -1;
    }
    return check_speakers(out, err);
}

json_t *ia_api_speech_json(const ia_speech_cfg *c) {
    json_t *list = json_array();
    for (size_t i = 0; i < c->n; i++) {
        json_t *o = json_object();
        if (c->v[i].voice) json_object_set_new(o, "voice", ia_api_jstr(c->v[i].voice));
        if (c->v[i].language) json_object_set_new(o, "language", ia_api_jstr(c->v[i].language));
        if (c->v[i].speaker) json_object_set_new(o, "speaker", ia_api_jstr(c->v[i].speaker));
        if (!c->listed) {
            json_decref(list);
            return o;
        }
        json_array_append_new(list, o);
    }
    return list;
}
