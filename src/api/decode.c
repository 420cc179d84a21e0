/* decode: the create request (POST /interactions) from wire JSON into an
 * ia_request. This is where a client's mistakes are caught and named: every
 * message starts with the field path ("generation_config.temperature:
 * expected a number", "input[1].content[0]: content type 'image' is not
 * supported yet"), unknown fields are refused rather than ignored, and the
 * features of later issues answer IA_EUNIMPLEMENTED naming themselves, so a
 * client never gets a silent ignore. Validation walks the object in the
 * client's key order and stops at the first error, so the answer is
 * deterministic for a given body. Both dialects go through here: the steps
 * dialect (SDK 3.x) takes its `input` from steps.c and adds its own fields
 * (continuation_token, labels, ...), named in decode_field; the rest of the
 * body is the same. The output's form (response_format, response_mime_type,
 * response_modalities) is rformat.c's. */
#include "api/api.h"
#include "api/api_int.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define PATH_MAX_LEN IA_API_PATH_MAX
#define MAX_STOP_SEQUENCES 16

/* Content types of the Interactions API that later issues serve: naming one
 * is IA_EUNIMPLEMENTED; any other type string is a client error. Every
 * legacy type is served today (the built-in tools' items by toolitems.c);
 * the list stays for the next type the API adds. */
static const char *const known_content_types[] = {
    "image", "audio", "video", "document", "thought", "function_call", "function_result",
};

/* Formats a field path; a pathological key is cut short, which only
 * shortens the message that names it. */
void ia_api_mkpath(char p[PATH_MAX_LEN], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p, PATH_MAX_LEN, fmt, ap);
    va_end(ap);
}

/* SDK 3.x narrowed Content to these; its thoughts and tool calls are steps. */
static const char *const steps_content_types[] = {"image", "audio", "video", "document"};

static bool is_known_content_type(const char *t, ia_dialect d) {
    if (d == IA_DIALECT_STEPS) {
        for (size_t i = 0; i < sizeof steps_content_types / sizeof *steps_content_types; i++)
            if (strcmp(t, steps_content_types[i]) == 0) return true;
        return false;
    }
    for (size_t i = 0; i < sizeof known_content_types / sizeof *known_content_types; i++)
        if (strcmp(t, known_content_types[i]) == 0) return true;
    return false;
}

static int unimplemented(ia_err *err, const char *path) {
    return ia_fail(err, IA_EUNIMPLEMENTED, "%s: not supported yet by this server", path);
}

/* Known fields in the wrong place, and their usual other spellings: the
 * 400 says where each belongs rather than only that it is unknown. */
static const struct {
    const char *seen, *where;
} MISPLACED[] = {
    {"temperature", "generation_config.temperature"},
    {"top_p", "generation_config.top_p"},
    {"top_k", "generation_config.top_k"},
    {"seed", "generation_config.seed"},
    {"max_output_tokens", "generation_config.max_output_tokens"},
    {"max_tokens", "generation_config.max_output_tokens"},
    {"maxOutputTokens", "generation_config.max_output_tokens"},
    {"stop_sequences", "generation_config.stop_sequences"},
    {"stop", "generation_config.stop_sequences"},
    {"tool_choice", "generation_config.tool_choice"},
    {"thinking_level", "generation_config.thinking_level"},
    {"thinking_summaries", "generation_config.thinking_summaries"},
    {"thinking_config", "generation_config.thinking_level"},
    {"speech_config", "generation_config.speech_config"},
    {"image_config", "generation_config.image_config"},
    {"generationConfig", "generation_config"},
    {"systemInstruction", "system_instruction"},
    {"previousInteractionId", "previous_interaction_id"},
    {"responseFormat", "response_format"},
    {"generation_config.response_format", "response_format (top level)"},
    {"generation_config.response_mime_type", "response_mime_type (top level)"},
    {"generation_config.response_modalities", "response_modalities (top level)"},
    {"generation_config.tools", "tools (top level)"},
    {"generation_config.system_instruction", "system_instruction (top level)"},
    {"generation_config.stream", "stream (top level)"},
    {"generation_config.background", "background (top level)"},
    {"generation_config.store", "store (top level)"},
    {"generation_config.max_tokens", "generation_config.max_output_tokens"},
    {"generation_config.stop", "generation_config.stop_sequences"},
};

int ia_api_unknown_field(ia_err *err, const char *path) {
    for (size_t i = 0; i < sizeof MISPLACED / sizeof *MISPLACED; i++)
        if (strcmp(path, MISPLACED[i].seen) == 0)
            return ia_fail(err, IA_EINVALID, "%s: not a field here; it belongs in %s", path, MISPLACED[i].where);
    return ia_fail(err, IA_EINVALID, "unknown field '%s'", path);
}

/* ---- typed getters: each names the path in its error ---------------------- */

int ia_api_get_string(json_t *v, const char *path, const char **out, ia_err *err) {
    if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", path);
    *out = json_string_value(v);
    return 0;
}

int ia_api_get_bool(json_t *v, const char *path, bool *out, ia_err *err) {
    if (!json_is_boolean(v)) return ia_fail(err, IA_EINVALID, "%s: expected a boolean", path);
    *out = json_is_true(v);
    return 0;
}

/* Integers are numbers too: `"temperature": 1` is fine. */
static int get_number(json_t *v, const char *path, double *out, ia_err *err) {
    if (!json_is_number(v)) return ia_fail(err, IA_EINVALID, "%s: expected a number", path);
    *out = json_number_value(v);
    return 0;
}

/* An integer field takes a JSON integer, or a real with no fraction (Python's
 * json writes 100.0 for a float the user meant as 100); 1.5 is an error. */
static int get_int(json_t *v, const char *path, int64_t *out, ia_err *err) {
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return ia_fail(err, IA_EINVALID, "%s: expected an integer", path);
}

/* ---- input ------------------------------------------------------------------ */

/* One Content object at path, appended to turn. */
int ia_api_decode_content(json_t *c, const char *path, ia_turn *turn, ia_dialect d, ia_err *err) {
    if (!json_is_object(c)) return ia_fail(err, IA_EINVALID, "%s: expected a content object", path);
    json_t *type = json_object_get(c, "type");
    if (!type) return ia_fail(err, IA_EINVALID, "%s.type: required", path);
    char p[PATH_MAX_LEN];
    ia_api_mkpath(p, "%s.type", path);
    const char *t = NULL;
    if (ia_api_get_string(type, p, &t, err) < 0) return -1;
    if (d == IA_DIALECT_LEGACY && (strcmp(t, "function_call") == 0 || strcmp(t, "function_result") == 0))
        return ia_api_decode_function_item(c, path, turn, err);
    if (d == IA_DIALECT_LEGACY && strcmp(t, "thought") == 0) return ia_api_decode_thought(c, path, turn, err);
    if (d == IA_DIALECT_LEGACY && ia_api_tool_item_type(t)) return ia_api_decode_tool_item(c, path, turn, err);
    if (ia_api_is_media_type(t)) return ia_api_decode_media(c, path, turn, err);
    if (strcmp(t, "text") != 0) {
        if (is_known_content_type(t, d))
            return ia_fail(err, IA_EUNIMPLEMENTED,
                           "%s: content type '%s' is not supported yet", path, t);
        return ia_fail(err, IA_EINVALID, "%s: unknown content type '%s'", path, t);
    }
    const char *text = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        ia_api_mkpath(p, "%s.%s", path, key);
        if (strcmp(key, "type") == 0) continue;
        if (strcmp(key, "text") == 0) {
            if (ia_api_get_string(v, p, &text, err) < 0) return -1;
        } else if (strcmp(key, "annotations") == 0) {
            /* Citations on text the model returned earlier: they describe the
             * output, not the prompt, so a turn replayed from `outputs` keeps
             * working; the model never sees them. */
            if (!json_is_array(v) && !json_is_null(v))
                return ia_fail(err, IA_EINVALID, "%s: expected an array", p);
        } else {
            return ia_api_unknown_field(err, p);
        }
    }
    if (!text) return ia_fail(err, IA_EINVALID, "%s.text: required", path);
    ia_turn_add_text(turn, text, json_string_length(json_object_get(c, "text")));
    return 0;
}

/* A function result's value: a string, any JSON value, or a list of text
 * and image content (the guide's screenshot); an image part is checked as
 * image input is (api/media.c) and read by core/media.c. */
static int check_result(json_t *r, const char *path, ia_err *err) {
    if (!json_is_array(r)) return 0;
    size_t i;
    json_t *part;
    json_array_foreach(r, i, part) {
        json_t *ty = json_object_get(part, "type");
        const char *tn = json_string_value(ty);
        if (!json_is_object(part) || !tn) continue; /* a plain JSON list */
        if (strcmp(tn, "image") == 0) {
            char p[PATH_MAX_LEN];
            ia_api_mkpath(p, "%s.result[%zu]", path, i);
            ia_turn scratch = {0};
            int rc = ia_api_decode_media(part, p, &scratch, err);
            ia_turn_free(&scratch);
            if (rc < 0) return -1;
        }
        if (strcmp(tn, "text") == 0 && !json_is_string(json_object_get(part, "text")))
            return ia_fail(err, IA_EINVALID, "%s.result[%zu].text: expected a string", path, i);
    }
    return 0;
}

int ia_api_decode_function_item(json_t *c, const char *path, ia_turn *turn, ia_err *err) {
    const char *t = json_string_value(json_object_get(c, "type"));
    bool call = strcmp(t, "function_call") == 0;
    const char *id = NULL, *name = NULL;
    json_t *args = NULL, *result = NULL;
    bool is_error = false;
    char p[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        ia_api_mkpath(p, "%s.%s", path, key);
        if (strcmp(key, "type") == 0) continue;
        if (json_is_null(v)) continue;
        if (strcmp(key, call ? "id" : "call_id") == 0) {
            if (ia_api_get_string(v, p, &id, err) < 0) return -1;
        } else if (strcmp(key, "name") == 0) {
            if (ia_api_get_string(v, p, &name, err) < 0) return -1;
        } else if (call && strcmp(key, "arguments") == 0) {
            if (!json_is_object(v)) return ia_fail(err, IA_EINVALID, "%s: expected an object", p);
            args = v;
        } else if (!call && strcmp(key, "result") == 0) {
            if (check_result(v, path, err) < 0) return -1;
            result = v;
        } else if (!call && strcmp(key, "is_error") == 0) {
            if (ia_api_get_bool(v, p, &is_error, err) < 0) return -1;
        } else if (strcmp(key, "signature") == 0) {
            if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", p);
        } else {
            return ia_api_unknown_field(err, p);
        }
    }
    if (!id || !*id) return ia_fail(err, IA_EINVALID, "%s.%s: required", path, call ? "id" : "call_id");
    if (call && (!name || !*name)) return ia_fail(err, IA_EINVALID, "%s.name: required", path);
    if (!call && !result) return ia_fail(err, IA_EINVALID, "%s.result: required", path);
    char *text = call && !args ? ia_strdup("{}")
                               : json_dumps(call ? args : result, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return ia_fail(err, IA_EINVALID, "%s: cannot be encoded", path);
    ia_content *it = call ? ia_turn_add_call(turn, id, name, text) : ia_turn_add_result(turn, id, name, text, is_error);
    it->path = ia_strdup(path); /* a result's images are named by it (core/media.c) */
    free(text);
    return 0;
}

int ia_api_decode_thought(json_t *c, const char *path, ia_turn *turn, ia_err *err) {
    const char *sig = NULL;
    char p[PATH_MAX_LEN];
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        ia_api_mkpath(p, "%s.%s", path, key);
        if (strcmp(key, "type") == 0 || json_is_null(v)) continue;
        if (strcmp(key, "signature") == 0) {
            if (ia_api_get_string(v, p, &sig, err) < 0) return -1;
        } else if (strcmp(key, "summary") == 0) {
            /* the summary is what the model wrote; the signature is the
             * authority, so the summary is not read back */
            if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected a list of content", p);
        } else {
            return ia_api_unknown_field(err, p);
        }
    }
    if (!sig || !*sig)
        return ia_fail(err, IA_EINVALID, "%s.signature: required (a thought is replayed by its signature)", path);
    ia_turn_add_thought(turn, "", sig, false);
    return 0;
}

static int decode_content_list(json_t *arr, const char *path, ia_turn *turn, ia_err *err) {
    size_t i;
    json_t *c;
    char p[PATH_MAX_LEN];
    json_array_foreach(arr, i, c) {
        ia_api_mkpath(p, "%s[%zu]", path, i);
        if (ia_api_decode_content(c, p, turn, IA_DIALECT_LEGACY, err) < 0) return -1;
    }
    return 0;
}

/* A Turn {role, content}: role defaults to user (the typings make it
 * optional); content is a string, a list of Content, or (leniently) one
 * Content object. A model turn carries the `outputs` returned earlier. */
static int decode_turn(json_t *o, const char *path, ia_conv *conv, ia_err *err) {
    char p[PATH_MAX_LEN];
    ia_role role = IA_ROLE_USER;
    json_t *content = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        ia_api_mkpath(p, "%s.%s", path, key);
        if (strcmp(key, "role") == 0) {
            const char *r = NULL;
            if (ia_api_get_string(v, p, &r, err) < 0) return -1;
            if (strcmp(r, "user") == 0) role = IA_ROLE_USER;
            else if (strcmp(r, "model") == 0) role = IA_ROLE_MODEL;
            else return ia_fail(err, IA_EINVALID, "%s: expected 'user' or 'model', got '%s'", p, r);
        } else if (strcmp(key, "content") == 0) {
            content = v;
        } else {
            return ia_api_unknown_field(err, p);
        }
    }
    ia_api_mkpath(p, "%s.content", path);
    if (!content || json_is_null(content)) return ia_fail(err, IA_EINVALID, "%s: required", p);
    ia_turn *t = ia_conv_add_turn(conv, role);
    if (json_is_string(content)) {
        ia_turn_add_text(t, json_string_value(content), json_string_length(content));
        return 0;
    }
    if (json_is_array(content)) return decode_content_list(content, p, t, err);
    if (json_is_object(content)) return ia_api_decode_content(content, p, t, IA_DIALECT_LEGACY, err);
    return ia_fail(err, IA_EINVALID, "%s: expected a string or a list of content objects", p);
}

/* A list element is a turn if it has `role` or `content` and no `type`. */
static bool looks_like_turn(json_t *o) {
    return json_is_object(o) && !json_object_get(o, "type") &&
           (json_object_get(o, "role") || json_object_get(o, "content"));
}

int ia_api_decode_input(json_t *in, const ia_api_input_forms *f, ia_conv *conv, ia_err *err) {
    if (json_is_string(in)) {
        if (json_string_length(in) == 0) return ia_fail(err, IA_EINVALID, "input: must not be empty");
        ia_turn *t = ia_conv_add_turn(conv, IA_ROLE_USER);
        ia_turn_add_text(t, json_string_value(in), json_string_length(in));
        return 0;
    }
    if (json_is_object(in)) {
        if (f->refuse && f->refuse(in, "input", err) < 0) return -1;
        /* One history item is accepted leniently, as a list of one. */
        if (f->is_item(in)) return f->decode_item(in, "input", conv, err);
        return ia_api_decode_content(in, "input", ia_conv_add_turn(conv, IA_ROLE_USER), f->dialect,
                                     err);
    }
    if (!json_is_array(in))
        return ia_fail(err, IA_EINVALID,
                       "input: expected a string, a content object, or a list of content "
                       "objects or %s", f->items);
    if (json_array_size(in) == 0) return ia_fail(err, IA_EINVALID, "input: must not be empty");

    bool history = f->is_item(json_array_get(in, 0));
    ia_turn *user = NULL; /* the one turn a list of content objects becomes */
    size_t i;
    json_t *e;
    char p[PATH_MAX_LEN];
    json_array_foreach(in, i, e) {
        ia_api_mkpath(p, "input[%zu]", i);
        if (!json_is_object(e))
            return ia_fail(err, IA_EINVALID, "%s: expected a content object or %s", p, f->item);
        if (f->refuse && f->refuse(e, p, err) < 0) return -1;
        if (f->is_item(e) != history) return ia_fail(err, IA_EINVALID, "%s: %s", p, f->mixed);
        if (history) {
            if (f->decode_item(e, p, conv, err) < 0) return -1;
        } else {
            if (!user) user = ia_conv_add_turn(conv, IA_ROLE_USER);
            if (ia_api_decode_content(e, p, user, f->dialect, err) < 0) return -1;
        }
    }
    size_t items = 0;
    for (size_t k = 0; k < conv->n; k++) items += conv->turns[k].n;
    if (items == 0) return ia_fail(err, IA_EINVALID, "input: must not be empty");
    return 0;
}

/* input: string | Content | Content[] | Turn[], normalized to turns. */
static const ia_api_input_forms legacy_input = {
    .dialect = IA_DIALECT_LEGACY,
    .items = "turns",
    .item = "a turn",
    .mixed = "a list of turns ({role, content}) cannot be mixed with content objects ({type, ...})",
    .is_item = looks_like_turn,
    .decode_item = decode_turn,
};

/* ---- generation_config -------------------------------------------------------- */

static int decode_stop(json_t *v, ia_gen_config *g, ia_err *err) {
    const char *path = "generation_config.stop_sequences";
    if (!json_is_array(v)) return ia_fail(err, IA_EINVALID, "%s: expected an array of strings", path);
    if (json_array_size(v) > MAX_STOP_SEQUENCES)
        return ia_fail(err, IA_EINVALID, "%s: at most %d stop sequences", path, MAX_STOP_SEQUENCES);
    g->stop = ia_xcalloc(json_array_size(v) ? json_array_size(v) : 1, sizeof *g->stop);
    size_t i;
    json_t *s;
    char p[PATH_MAX_LEN];
    json_array_foreach(v, i, s) {
        ia_api_mkpath(p, "%s[%zu]", path, i);
        const char *str = NULL;
        if (ia_api_get_string(s, p, &str, err) < 0) return -1;
        if (json_string_length(s) == 0) return ia_fail(err, IA_EINVALID, "%s: must not be empty", p);
        g->stop[g->n_stop++] = ia_strndup(str, json_string_length(s));
    }
    return 0;
}

static int decode_gen(json_t *o, ia_gen_config *g, ia_dialect d, ia_tool_choice *choice, json_t **allowed,
                      ia_err *err) {
    if (!json_is_object(o)) return ia_fail(err, IA_EINVALID, "generation_config: expected an object");
    const char *key;
    json_t *v;
    char p[PATH_MAX_LEN];
    json_object_foreach(o, key, v) {
        ia_api_mkpath(p, "generation_config.%s", key);
        if (json_is_null(v)) continue; /* null means "not set", as for any optional field */
        if (strcmp(key, "temperature") == 0) {
            if (get_number(v, p, &g->temperature, err) < 0) return -1;
            if (g->temperature < 0 || g->temperature > 2)
                return ia_fail(err, IA_EINVALID, "%s: must be between 0 and 2", p);
            g->has_temperature = true;
        } else if (strcmp(key, "top_p") == 0) {
            if (get_number(v, p, &g->top_p, err) < 0) return -1;
            if (g->top_p < 0 || g->top_p > 1)
                return ia_fail(err, IA_EINVALID, "%s: must be between 0 and 1", p);
            g->has_top_p = true;
        } else if (strcmp(key, "top_k") == 0) { /* our extension */
            int64_t k;
            if (get_int(v, p, &k, err) < 0) return -1;
            if (k < 1) return ia_fail(err, IA_EINVALID, "%s: must be at least 1", p);
            if (k > INT32_MAX) return ia_fail(err, IA_EINVALID, "%s: must be at most %d", p, INT32_MAX);
            g->top_k = (int)k;
            g->has_top_k = true;
        } else if (strcmp(key, "seed") == 0) {
            if (get_int(v, p, &g->seed, err) < 0) return -1;
            g->has_seed = true;
        } else if (strcmp(key, "max_output_tokens") == 0) {
            if (get_int(v, p, &g->max_output_tokens, err) < 0) return -1;
            if (g->max_output_tokens < 1) return ia_fail(err, IA_EINVALID, "%s: must be at least 1", p);
            g->has_max_output_tokens = true;
        } else if (strcmp(key, "stop_sequences") == 0) {
            if (decode_stop(v, g, err) < 0) return -1;
        } else if (strcmp(key, "tool_choice") == 0) {
            if (ia_api_decode_tool_choice(v, choice, allowed, err) < 0) return -1;
        } else if (strcmp(key, "thinking_level") == 0) {
            const char *lv = NULL;
            if (ia_api_get_string(v, p, &lv, err) < 0) return -1;
            int l = ia_thinking_level_parse(lv);
            if (l < 0) return ia_fail(err, IA_EINVALID, "%s: expected one of 'minimal', 'low', 'medium', 'high'", p);
            g->thinking_level = (ia_thinking_level)l;
            g->has_thinking_level = true;
        } else if (strcmp(key, "thinking_summaries") == 0) {
            const char *ts = NULL;
            if (ia_api_get_string(v, p, &ts, err) < 0) return -1;
            if (strcmp(ts, "auto") && strcmp(ts, "none"))
                return ia_fail(err, IA_EINVALID, "%s: expected 'auto' or 'none'", p);
            g->thinking_summaries_none = strcmp(ts, "none") == 0;
            g->has_thinking_summaries = true;
        } else if (strcmp(key, "speech_config") == 0) {
            if (ia_api_decode_speech(v, &g->speech, err) < 0) return -1;
        } else if (strcmp(key, "image_config") == 0) {
            if (ia_api_decode_image_config(v, &g->image, err) < 0) return -1;
        } else if (d == IA_DIALECT_STEPS && (strcmp(key, "transcription_config") == 0 ||
                                             strcmp(key, "video_config") == 0)) {
            return unimplemented(err, p); /* added in SDK 3.x */
        } else {
            return ia_api_unknown_field(err, p);
        }
    }
    return 0;
}

/* ---- top level ---------------------------------------------------------------- */

static int dup_string(json_t *v, const char *path, char **out, ia_err *err) {
    const char *s = NULL;
    if (ia_api_get_string(v, path, &s, err) < 0) return -1;
    if (json_string_length(v) == 0) return ia_fail(err, IA_EINVALID, "%s: must not be empty", path);
    free(*out);
    *out = ia_strndup(s, json_string_length(v));
    return 0;
}

/* Fields read after the walk, because they depend on each other. */
typedef struct {
    json_t *response_format;
    const char *mime;
    json_t *allowed_tools; /* generation_config.tool_choice.allowed_tools.tools */
    json_t *modalities;    /* response_modalities, checked against what is served */
    bool generation_config; /* given (an agent takes agent_config instead) */
    bool agent_config;      /* given (only an agent takes it) */
} later_fields;

static int decode_field(const char *key, json_t *v, ia_request *r, bool *has_input, ia_dialect d,
                        later_fields *later, ia_err *err) {
    /* null means "not set": clients that serialize unset optionals as null
     * (and Google's own JSON mapping) expect that. */
    if (json_is_null(v)) return 0;
    if (strcmp(key, "model") == 0) return dup_string(v, key, &r->model, err);
    if (strcmp(key, "agent") == 0) return dup_string(v, key, &r->agent, err);
    if (strcmp(key, "input") == 0) {
        *has_input = true;
        if (d == IA_DIALECT_STEPS) return ia_api_steps_decode_input(v, &r->input, err);
        return ia_api_decode_input(v, &legacy_input, &r->input, err);
    }
    if (strcmp(key, "system_instruction") == 0) {
        const char *s = NULL;
        if (ia_api_get_string(v, key, &s, err) < 0) return -1;
        r->system_instruction = ia_strndup(s, json_string_length(v));
        return 0;
    }
    if (strcmp(key, "generation_config") == 0 && (later->generation_config = true))
        return decode_gen(v, &r->gen, d, &r->tool_choice, &later->allowed_tools, err);
    if (strcmp(key, "stream") == 0) return ia_api_get_bool(v, key, &r->stream, err);
    if (strcmp(key, "background") == 0) return ia_api_get_bool(v, key, &r->background, err);
    if (strcmp(key, "store") == 0) return ia_api_get_bool(v, key, &r->store, err);
    if (strcmp(key, "previous_interaction_id") == 0)
        return dup_string(v, key, &r->previous_interaction_id, err);
    if (strcmp(key, "service_tier") == 0) {
        /* One local tier: the value is checked and then has no effect. */
        const char *s = NULL;
        if (ia_api_get_string(v, key, &s, err) < 0) return -1;
        if (d == IA_DIALECT_STEPS) {
            /* SDK 3.x adds 'deferred'. */
            if (strcmp(s, "flex") && strcmp(s, "standard") && strcmp(s, "priority") &&
                strcmp(s, "deferred"))
                return ia_fail(err, IA_EINVALID, "service_tier: expected one of 'flex', "
                                                 "'standard', 'priority', 'deferred'");
            return 0;
        }
        if (strcmp(s, "flex") && strcmp(s, "standard") && strcmp(s, "priority"))
            return ia_fail(err, IA_EINVALID,
                           "service_tier: expected one of 'flex', 'standard', 'priority'");
        return 0;
    }
    if (strcmp(key, "tools") == 0) return ia_api_decode_tools(v, r, err);
    if (strcmp(key, "response_mime_type") == 0) return ia_api_rformat_check_mime(v, &later->mime, err);
    if (strcmp(key, "response_format") == 0) {
        /* Its shape now; the schema once response_mime_type is known too. */
        if (ia_api_rformat_check_shape(v, err) < 0) return -1;
        later->response_format = v;
        return 0;
    }
    if (strcmp(key, "response_modalities") == 0) {
        later->modalities = v;
        return ia_api_decode_modalities(v, &r->modalities, err);
    }
    if (strcmp(key, "agent_config") == 0 && (later->agent_config = true))
        return ia_api_decode_agent_config(v, r, err);
    if (strcmp(key, "webhook_config") == 0) return unimplemented(err, key);
    if (d == IA_DIALECT_STEPS) {
        /* SDK 3.x's own fields. A continuation token can only be one this
         * server issued, and it issues none: every run decodes to its end
         * (or max_output_tokens) within one request. */
        if (strcmp(key, "continuation_token") == 0)
            return ia_fail(err, IA_EINVALID,
                           "continuation_token: this server never issues continuation tokens "
                           "(every interaction decodes to its end in one request, so nothing "
                           "is left to continue)");
        if (strcmp(key, "cached_content") == 0 || strcmp(key, "environment") == 0 ||
            strcmp(key, "labels") == 0 || strcmp(key, "safety_settings") == 0)
            return unimplemented(err, key);
    }
    return ia_api_unknown_field(err, key);
}

int ia_api_decode_create(const char *body, size_t len, ia_request *out, ia_err *err) {
    return ia_api_decode_create_dialect(body, len, IA_DIALECT_LEGACY, out, err);
}

int ia_api_decode_create_dialect(const char *body, size_t len, ia_dialect d, ia_request *out,
                                 ia_err *err) {
    int rc = -1;
    memset(out, 0, sizeof *out);
    out->store = true;

    json_error_t jerr;
    /* Duplicate keys are refused: which one wins differs between parsers,
     * and a client sending two is confused about what it asked for. */
    /* DECODE_ANY: a scalar body is valid JSON and gets the clearer "must be
     * a JSON object" message below. */
    json_t *root = json_loadb(body ? body : "", body ? len : 0,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        ia_fail(err, IA_EINVALID, "malformed JSON at line %d, column %d: %s", jerr.line,
                jerr.column, jerr.text);
        goto done;
    }
    if (!json_is_object(root)) {
        ia_fail(err, IA_EINVALID, "the request body must be a JSON object");
        goto done;
    }
    bool has_input = false;
    later_fields later = {0};
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (decode_field(key, v, out, &has_input, d, &later, err) < 0) goto done;
    }
    if (out->model && out->agent) {
        ia_fail(err, IA_EINVALID, "model, agent: give either 'model' or 'agent', not both");
        goto done;
    }
    if (!out->model && !out->agent) {
        ia_fail(err, IA_EINVALID, "model: required (provide a 'model' or an 'agent' parameter)");
        goto done;
    }
    if (out->model && later.agent_config) {
        ia_fail(err, IA_EINVALID, "agent_config: only an agent takes agent_config; a model takes generation_config");
        goto done;
    }
    /* a custom agent on a model takes generation_config: ia_api_agent_apply
     * decides once its base is known */
    if (out->agent && ia_agent_name_known(out->agent) && later.generation_config) {
        ia_fail(err, IA_EINVALID, "generation_config: an agent takes agent_config, not generation_config");
        goto done;
    }
    if (!has_input) {
        ia_fail(err, IA_EINVALID, "input: required");
        goto done;
    }
    if (!out->store && out->background) {
        ia_fail(err, IA_EINVALID,
                "store: store=false is incompatible with background=true (a background "
                "interaction must be stored to be polled)");
        goto done;
    }
    if ((later.response_format || later.mime) &&
        ia_api_decode_rformat(later.response_format, later.mime, out, err) < 0)
        goto done;
    if (later.allowed_tools && ia_api_apply_allowed(later.allowed_tools, out, err) < 0) goto done;
    if (ia_api_check_outputs(out, later.modalities, err) < 0) goto done;
    rc = 0;
done:
    json_decref(root);
    if (rc < 0) {
        ia_request_free(out);
        out->store = true;
    }
    return rc;
}
