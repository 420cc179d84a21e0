/* steps: the steps dialect of the wire (SDK 3.x on /v1, and any client that
 * sends `Api-Revision: 2026-05-20` or later) — the Interaction resource with
 * `steps[]`, the `interaction.created` / `step.*` / `interaction.completed`
 * SSE frames, and the create request's `input` given as steps. It encodes
 * the same dialect-free core structs as the legacy encoder (encode.c), which
 * is what lets one stored chain be read and continued in either dialect.
 *
 * The mapping, and why:
 * - A user turn is a `user_input` step, a model turn a `model_output` step,
 *   each holding the turn's Content list; decoding maps them back, so history
 *   sent as steps is the very conversation a legacy client sends as turns.
 * - Each output item is a step of its own (a text item: a `model_output` step
 *   with one text Content). The core numbers content blocks 0, 1, ... and the
 *   stream's `step.*` index must name the step the client rebuilds, so one
 *   item per step keeps the two equal — and it is what later kinds need
 *   anyway (a thought, a function call, a built-in tool's call or result
 *   is its own step type). A built-in tool's step.start carries the whole
 *   step (3.3.0's CodeExecutionCallStep ... require arguments / result) and
 *   its one step.delta the same fields less the ids, as its *Delta type.
 * - Google's create response leaves the input out of `steps`; its GET puts
 *   it first as a `user_input` step (recorded/07). `fetched` selects that.
 * - Key presence follows the legacy encoder where Google's behaviour is the
 *   same (no `steps`/`usage` while in_progress, usage zeros sent), and
 *   recorded/07 and /09 where it differs: `service_tier: "standard"`, no
 *   `role`, `step.start` carrying only the step's type, `step.delta` as
 *   {"text", "type"}. A failed interaction carries `errors: [{code,
 *   message}]`, the field SDK 3.x's typings have for it, and the resource
 *   echoes the `generation_config` the client set (3.x's Interaction has it;
 *   the lifecycle events' partial interaction does not), and likewise the
 *   `response_format`, in the shape the client sent it (a schema, one typed
 *   format or a list: 3.x's Interaction types it as the request's union).
 *   The legacy encoder echoes neither: Google's legacy answers did not
 *   (recorded/06 is a structured-output answer without it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "lib/util.h"

/* ---- encode ------------------------------------------------------------------ */

/* Whether an item is Content inside a user_input / model_output step (SDK
 * 3.x narrowed Content to text and media) rather than a step of its own. */
static bool is_step_content(const ia_content *c) {
    return c->kind == IA_CONTENT_TEXT || ia_content_is_media(c->kind);
}

/* A thought, a function's or a built-in tool's call or result as a step:
 * the same fields as the legacy Content (SDK 3.x made them step types:
 * ThoughtStep, FunctionCallStep, CodeExecutionCallStep, ...). */
static json_t *item_step(const ia_content *c) {
    return ia_api_item_json(c);
}

/* A turn (input and history) as steps: its text and media in one
 * user_input / model_output step, each other item a step of its own, in
 * order. */
static void append_turn_steps(json_t *steps, const ia_turn *t) {
    json_t *s = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const ia_content *c = &t->items[i];
        if (!is_step_content(c)) {
            s = NULL;
            json_array_append_new(steps, item_step(c));
            continue;
        }
        if (!s) {
            s = json_object();
            json_object_set_new(s, "type", json_string(t->role == IA_ROLE_MODEL ? "model_output" : "user_input"));
            json_object_set_new(s, "content", json_array());
            json_array_append_new(steps, s);
        }
        json_array_append_new(json_object_get(s, "content"), ia_api_item_json(c));
    }
    if (t->n == 0) {
        s = json_object();
        json_object_set_new(s, "type", json_string(t->role == IA_ROLE_MODEL ? "model_output" : "user_input"));
        json_object_set_new(s, "content", json_array());
        json_array_append_new(steps, s);
    }
}

static void append_input_steps(json_t *steps, const ia_conv *input) {
    for (size_t i = 0; i < input->n; i++) append_turn_steps(steps, &input->turns[i]);
}

/* One step per output item; see the file comment for why. */
static void append_output_steps(json_t *steps, const ia_turn *out) {
    for (size_t i = 0; i < out->n; i++) {
        const ia_content *c = &out->items[i];
        if (!is_step_content(c)) {
            json_array_append_new(steps, item_step(c));
            continue;
        }
        json_t *content = json_array();
        json_array_append_new(content, ia_api_item_json(c));
        json_t *s = json_object();
        json_object_set_new(s, "type", json_string("model_output"));
        json_object_set_new(s, "content", content);
        json_array_append_new(steps, s);
    }
}

/* Image settings as given ({} when none was): image_config's, or an
 * image format's fields beside its type. */
static json_t *image_json(json_t *o, const ia_image_cfg *c) {
    if (c->aspect_ratio[0]) json_object_set_new(o, "aspect_ratio", json_string(c->aspect_ratio));
    if (c->image_size[0]) json_object_set_new(o, "image_size", json_string(c->image_size));
    if (c->mime_type[0]) json_object_set_new(o, "mime_type", json_string(c->mime_type));
    if (c->delivery[0]) json_object_set_new(o, "delivery", json_string(c->delivery));
    return o;
}

/* generation_config as the client set it: SDK 3.x's Interaction echoes it. */
static json_t *gen_json(const ia_gen_config *g) {
    json_t *o = json_object();
    if (g->has_temperature) json_object_set_new(o, "temperature", json_real(g->temperature));
    if (g->has_top_p) json_object_set_new(o, "top_p", json_real(g->top_p));
    if (g->has_top_k) json_object_set_new(o, "top_k", json_integer(g->top_k));
    if (g->has_seed) json_object_set_new(o, "seed", json_integer(g->seed));
    if (g->has_max_output_tokens)
        json_object_set_new(o, "max_output_tokens", json_integer(g->max_output_tokens));
    if (g->n_stop) {
        json_t *a = json_array();
        for (size_t i = 0; i < g->n_stop; i++) json_array_append_new(a, ia_api_jstr(g->stop[i]));
        json_object_set_new(o, "stop_sequences", a);
    }
    if (g->has_thinking_level)
        json_object_set_new(o, "thinking_level", json_string(ia_thinking_level_name(g->thinking_level)));
    if (g->has_thinking_summaries) {
        json_object_set_new(o, "thinking_summaries", json_string(g->thinking_summaries_none ? "none" : "auto"));
    }
    if (g->speech.n) json_object_set_new(o, "speech_config", ia_api_speech_json(&g->speech));
    if (g->image.set) json_object_set_new(o, "image_config", image_json(json_object(), &g->image));
    return o;
}

static json_t *image_format_json(const ia_rformat *f) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("image"));
    return image_json(o, &f->image);
}

static json_t *audio_format_json(const ia_rformat *f) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("audio"));
    const ia_audio_fmt *a = &f->audio;
    if (a->mime_type[0]) json_object_set_new(o, "mime_type", ia_api_jstr(a->mime_type));
    if (a->sample_rate) json_object_set_new(o, "sample_rate", json_integer(a->sample_rate));
    if (a->bit_rate) json_object_set_new(o, "bit_rate", json_integer(a->bit_rate));
    if (a->delivery[0]) json_object_set_new(o, "delivery", ia_api_jstr(a->delivery));
    return o;
}

static json_t *text_format_json(const ia_rformat *f) {
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("text"));
    if (f->mime_type) json_object_set_new(o, "mime_type", ia_api_jstr(f->mime_type));
    if (f->schema) json_object_set_new(o, "schema", ia_api_json_value(f->schema, true));
    return o;
}

/* response_format in the shape the client gave it: a bare schema as
 * itself, a typed text, image or audio format with the fields it set, alone or
 * in a list (its entries in the order given). NULL when none was given. */
static json_t *rformat_json(const ia_rformat *f) {
    if (f->shape == IA_RFORMAT_NONE) return NULL;
    if (f->shape == IA_RFORMAT_SCHEMA) return f->schema ? ia_api_json_value(f->schema, true) : json_object();
    if (f->shape == IA_RFORMAT_TEXT) return text_format_json(f);
    if (f->shape == IA_RFORMAT_IMAGE) return image_format_json(f);
    if (f->shape == IA_RFORMAT_AUDIO) return audio_format_json(f);
    json_t *list = json_array();
    for (const char *t = f->list[0] ? f->list : "t"; *t; t++)
        json_array_append_new(list, *t == 'i'   ? image_format_json(f)
                                    : *t == 'a' ? audio_format_json(f)
                                                : text_format_json(f));
    return list;
}

enum snap_mode { SNAP_FULL, SNAP_START, SNAP_COMPLETE };

static json_t *interaction_json(const ia_interaction *it, bool include_input, bool fetched,
                                enum snap_mode mode) {
    ia_status st = mode == SNAP_START ? IA_STATUS_IN_PROGRESS : it->status;
    char ts[32];
    json_t *o = json_object();
    json_object_set_new(o, "id", ia_api_jstr(it->id));
    json_object_set_new(o, "object", json_string("interaction"));
    json_object_set_new(o, "status", json_string(ia_status_name(st)));
    ia_time_rfc3339(it->created, ts);
    json_object_set_new(o, "created", json_string(ts));
    ia_time_rfc3339(mode == SNAP_START ? it->created : it->updated, ts);
    json_object_set_new(o, "updated", json_string(ts));
    if (it->model) json_object_set_new(o, ia_agent_name_known(it->model) ? "agent" : "model", ia_api_jstr(it->model));
    /* One local tier; Google's steps-dialect responses always name theirs. */
    json_object_set_new(o, "service_tier", json_string("standard"));
    if (mode == SNAP_FULL && (fetched || st != IA_STATUS_IN_PROGRESS)) {
        json_t *steps = json_array();
        if (fetched) append_input_steps(steps, &it->input);
        if (st != IA_STATUS_IN_PROGRESS) append_output_steps(steps, &it->output);
        json_object_set_new(o, "steps", steps);
    }
    if (mode != SNAP_START && it->has_usage)
        json_object_set_new(o, "usage", ia_api_usage_json(&it->usage));
    if (it->previous_id && it->previous_id[0])
        json_object_set_new(o, "previous_interaction_id", ia_api_jstr(it->previous_id));
    if (it->system_instruction)
        json_object_set_new(o, "system_instruction", ia_api_jstr(it->system_instruction));
    if (mode == SNAP_FULL && ia_gen_config_is_set(&it->gen))
        json_object_set_new(o, "generation_config", gen_json(&it->gen));
    json_t *rf = mode == SNAP_FULL ? rformat_json(&it->rformat) : NULL;
    if (rf) json_object_set_new(o, "response_format", rf);
    json_t *mods = mode == SNAP_FULL ? ia_api_modalities_json(it->rformat.modalities) : NULL;
    if (mods) json_object_set_new(o, "response_modalities", mods);
    if (include_input && mode == SNAP_FULL) {
        json_t *in = json_array();
        append_input_steps(in, &it->input);
        json_object_set_new(o, "input", in);
    }
    if (mode != SNAP_START && st == IA_STATUS_FAILED) {
        json_t *errs = json_array();
        ia_errcode code = it->error_code != IA_OK ? it->error_code : IA_EINTERNAL;
        json_array_append_new(errs, ia_api_error_json(ia_err_wire_code(code), it->error,
                                                      "the interaction failed"));
        json_object_set_new(o, "errors", errs);
    }
    return o;
}

char *ia_api_steps_interaction(const ia_interaction *it, bool include_input, bool fetched) {
    if (!it) return NULL;
    return ia_api_dump(interaction_json(it, include_input, fetched, SNAP_FULL));
}

static const char *event_type(ia_event_kind k) {
    switch (k) {
    case IA_EV_START: return "interaction.created";
    case IA_EV_STATUS: return "interaction.status_update";
    case IA_EV_CONTENT_START: return "step.start";
    case IA_EV_CONTENT_DELTA: return "step.delta";
    case IA_EV_CONTENT_STOP: return "step.stop";
    case IA_EV_COMPLETE: return "interaction.completed";
    case IA_EV_ERROR: return "error";
    }
    return NULL;
}

/* step.start's step. Text: only the step's type, as Google sends it
 * (recorded/09), its content arriving as deltas. A function call: named,
 * its arguments to come as one arguments_delta. A built-in tool's call or
 * result: the whole step as the event carries it (3.3.0's
 * CodeExecutionCallStep, CodeExecutionResultStep, ... require arguments /
 * result), repeated by its one delta. */
static json_t *step_start(const ia_event *ev) {
    if (ev->ckind == IA_CONTENT_TOOL_CALL || ev->ckind == IA_CONTENT_TOOL_RESULT)
        return ia_api_tool_event_json(ev, false);
    if (ev->ckind == IA_CONTENT_FUNCTION_CALL) return ia_api_call_event_json(ev, false);
    json_t *step = json_object();
    json_object_set_new(step, "type", json_string(ev->ckind == IA_CONTENT_THOUGHT ? "thought" : "model_output"));
    return step;
}

/* step.delta's delta: text; a call's arguments whole, as the one
 * arguments_delta; a thought's summary or signature as in legacy; a
 * built-in tool's item as its 3.3.0 *Delta type (CodeExecutionCallDelta,
 * ...: the step's fields less id / call_id). */
static json_t *step_delta(const ia_event *ev) {
    if (ev->ckind == IA_CONTENT_TOOL_CALL || ev->ckind == IA_CONTENT_TOOL_RESULT)
        return ia_api_tool_event_json(ev, true);
    if (ia_content_is_media(ev->ckind) && ev->part) return ia_api_media_json(ev->part); /* a piece of the data */
    if (ev->ckind == IA_CONTENT_THOUGHT) return ia_api_thought_delta(ev->part);
    if (ia_event_is_annotations(ev)) return ia_api_annotation_delta(ev->part, "text_annotation_delta");
    json_t *delta = json_object();
    if (ev->ckind == IA_CONTENT_FUNCTION_CALL) {
        const char *args = ev->part && ev->part->text ? ev->part->text : "{}";
        json_object_set_new(delta, "arguments", ia_api_jstr(args));
        json_object_set_new(delta, "type", json_string("arguments_delta"));
        return delta;
    }
    json_object_set_new(delta, "text", ia_api_jstr(ev->text));
    json_object_set_new(delta, "type", json_string("text"));
    return delta;
}

char *ia_api_steps_frame(const char *interaction_id, const ia_interaction *snapshot,
                         const ia_event *ev) {
    const char *type = event_type(ev->kind);
    if (!type || !interaction_id) return NULL;
    if ((ev->kind == IA_EV_START || ev->kind == IA_EV_COMPLETE) && !snapshot) return NULL;
    json_t *o = json_object();
    switch (ev->kind) {
    case IA_EV_START:
        json_object_set_new(o, "interaction", interaction_json(snapshot, false, false, SNAP_START));
        break;
    case IA_EV_COMPLETE:
        /* Without steps, like the legacy complete without outputs: the client
         * has them from the step.* events. */
        json_object_set_new(o, "interaction", interaction_json(snapshot, false, false, SNAP_COMPLETE));
        break;
    case IA_EV_STATUS:
        json_object_set_new(o, "interaction_id", ia_api_jstr(interaction_id));
        json_object_set_new(o, "status", json_string(ia_status_name(ev->status)));
        break;
    case IA_EV_CONTENT_START:
        json_object_set_new(o, "index", json_integer(ev->index));
        json_object_set_new(o, "step", step_start(ev));
        break;
    case IA_EV_CONTENT_DELTA:
        json_object_set_new(o, "index", json_integer(ev->index));
        json_object_set_new(o, "delta", step_delta(ev));
        break;
    case IA_EV_CONTENT_STOP:
        json_object_set_new(o, "index", json_integer(ev->index));
        break;
    case IA_EV_ERROR:
        json_object_set_new(o, "error", ia_api_error_json(ev->code, ev->text, "internal error"));
        break;
    }
    return ia_api_sse_frame(type, o, interaction_id, ev->seq);
}

/* ---- decode: input ------------------------------------------------------------- */

/* Step types of SDK 3.x that this server does not take as input yet: naming
 * one is IA_EUNIMPLEMENTED, any other type that is not Content is an error.
 * (The built-in tools' *_call / *_result steps are served: toolitems.c.) */
static const char *const later_step_types[] = {
    "processing_call", "processing_result",
    "retrieval_call", "retrieval_result",
};

static bool is_later_step_type(const char *t) {
    for (size_t i = 0; i < sizeof later_step_types / sizeof *later_step_types; i++)
        if (strcmp(t, later_step_types[i]) == 0) return true;
    return false;
}

/* The object's string `type`, or NULL. */
static const char *type_of(json_t *o) {
    json_t *t = json_is_object(o) ? json_object_get(o, "type") : NULL;
    return json_is_string(t) ? json_string_value(t) : NULL;
}

static bool is_step(json_t *o) {
    const char *t = type_of(o);
    return t && (!strcmp(t, "user_input") || !strcmp(t, "model_output") || !strcmp(t, "function_call") ||
                 !strcmp(t, "thought") ||
                 !strcmp(t, "function_result") || ia_api_tool_item_type(t) || is_later_step_type(t));
}

/* A legacy Turn: {role, content} with no type. SDK 3.x removed it. */
static bool is_turn(json_t *o) {
    return json_is_object(o) && !json_object_get(o, "type") &&
           (json_object_get(o, "role") || json_object_get(o, "content"));
}

static int turn_refused(ia_err *err, const char *path) {
    return ia_fail(err, IA_EINVALID,
                   "%s: turns ({role, content}) are not part of this API version; give history "
                   "as steps ({\"type\": \"user_input\" or \"model_output\", \"content\": [...]})",
                   path);
}

/* One step at path, appended to conv as a turn. */
static int decode_step(json_t *o, const char *path, ia_conv *conv, ia_err *err) {
    const char *t = type_of(o);
    if (is_later_step_type(t))
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s: step type '%s' is not supported yet", path, t);
    if (strcmp(t, "thought") == 0) return ia_api_decode_thought(o, path, ia_conv_add_turn(conv, IA_ROLE_MODEL), err);
    /* The server ran the tool within the model's turn: call and result are
     * both the model's (model/types.h). */
    if (ia_api_tool_item_type(t)) return ia_api_decode_tool_item(o, path, ia_conv_add_turn(conv, IA_ROLE_MODEL), err);
    if (strcmp(t, "function_call") == 0 || strcmp(t, "function_result") == 0)
        return ia_api_decode_function_item(o, path,
                                           ia_conv_add_turn(conv, strcmp(t, "function_call") == 0 ? IA_ROLE_MODEL : IA_ROLE_USER), err);
    ia_role role = strcmp(t, "model_output") == 0 ? IA_ROLE_MODEL : IA_ROLE_USER;
    char p[IA_API_PATH_MAX];
    json_t *content = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "type") == 0) continue;
        ia_api_mkpath(p, "%s.%s", path, key);
        if (strcmp(key, "content") == 0) content = v;
        else return ia_fail(err, IA_EINVALID, "unknown field '%s'", p);
    }
    ia_turn *turn = ia_conv_add_turn(conv, role);
    ia_api_mkpath(p, "%s.content", path);
    if (!content || json_is_null(content)) return 0; /* optional in the typings */
    if (json_is_string(content)) { /* leniently, as the legacy turn takes it */
        ia_turn_add_text(turn, json_string_value(content), json_string_length(content));
        return 0;
    }
    if (!json_is_array(content))
        return ia_fail(err, IA_EINVALID, "%s: expected a list of content objects", p);
    size_t i;
    json_t *c;
    char cp[IA_API_PATH_MAX];
    json_array_foreach(content, i, c) {
        ia_api_mkpath(cp, "%s[%zu]", p, i);
        if (ia_api_decode_content(c, cp, turn, IA_DIALECT_STEPS, err) < 0) return -1;
    }
    return 0;
}

static int refuse_turn(json_t *o, const char *path, ia_err *err) {
    return is_turn(o) ? turn_refused(err, path) : 0;
}

static const ia_api_input_forms steps_input = {
    .dialect = IA_DIALECT_STEPS,
    .items = "steps",
    .item = "a step",
    .mixed = "a list of steps ({type: 'user_input' | 'model_output', ...}) cannot be mixed with "
             "content objects ({type: 'text', ...})",
    .is_item = is_step,
    .decode_item = decode_step,
    .refuse = refuse_turn,
};

int ia_api_steps_decode_input(json_t *in, ia_conv *conv, ia_err *err) {
    return ia_api_decode_input(in, &steps_input, conv, err);
}
