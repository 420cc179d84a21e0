/* encode: core structs to the legacy dialect's wire JSON — the Interaction
 * resource, the SSE frames of a stream, the error body — and the wire
 * event_id. Key presence follows what Google's server does (recorded/): an
 * in_progress interaction has no `outputs` and no `usage` keys at all, zeros
 * in usage are sent, timestamps are RFC 3339 to the second. JSON is compact
 * and keys keep insertion order (jansson >= 2.8), so frames are byte-stable
 * and can be compared in tests. The steps dialect lives in steps.c; the
 * entry points here hand IA_DIALECT_STEPS over to it, and the helpers both
 * dialects use (strings, content lists, usage, frames) are shared through
 * api_int.h. */
#include "api/api.h"
#include "api/api_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* A JSON string from text the engine produced. jansson refuses invalid
 * UTF-8 (json_string returns NULL), and a model can emit a split or broken
 * sequence, so such text is repaired with U+FFFD rather than dropped. */
json_t *ia_api_jstr(const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    if (ia_utf8_valid(s, n)) return json_stringn(s, n);
    char *fixed = ia_utf8_sanitize(s, n);
    json_t *j = json_string(fixed);
    free(fixed);
    return j;
}

char *ia_api_dump(json_t *j) {
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

json_t *ia_api_text_content(const char *text) {
    json_t *c = json_object();
    json_object_set_new(c, "type", json_string("text"));
    json_object_set_new(c, "text", ia_api_jstr(text));
    return c;
}

/* [{type: url_citation, url, title?, start_index, end_index}] (byte
 * offsets, as the typings say); a place's: {type: place_citation, name,
 * place_id, url, start_index, end_index}; a file_search document's:
 * {type: file_citation, document_uri, file_name, source, start_index,
 * end_index}. */
json_t *ia_api_annotations_json(const ia_annotation *a, size_t n) {
    json_t *l = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        if (a[i].file) {
            /* a file_search chunk's document: its name as document_uri */
            json_object_set_new(o, "type", json_string("file_citation"));
            json_object_set_new(o, "document_uri", ia_api_jstr(a[i].url));
            json_object_set_new(o, "file_name", ia_api_jstr(a[i].title ? a[i].title : ""));
            json_object_set_new(o, "source", ia_api_jstr(a[i].url));
        } else if (a[i].place_id) {
            json_object_set_new(o, "type", json_string("place_citation"));
            json_object_set_new(o, "name", ia_api_jstr(a[i].title ? a[i].title : ""));
            json_object_set_new(o, "place_id", ia_api_jstr(a[i].place_id));
            json_object_set_new(o, "url", ia_api_jstr(a[i].url));
        } else {
            json_object_set_new(o, "type", json_string("url_citation"));
            json_object_set_new(o, "url", ia_api_jstr(a[i].url));
            if (a[i].title) json_object_set_new(o, "title", ia_api_jstr(a[i].title));
        }
        json_object_set_new(o, "start_index", json_integer(a[i].start));
        json_object_set_new(o, "end_index", json_integer(a[i].end));
        json_array_append_new(l, o);
    }
    return l;
}

/* A text item with its citations, when it has any. */
static json_t *text_item_json(const ia_content *c) {
    json_t *o = ia_api_text_content(c->text);
    if (c->n_annotations) json_object_set_new(o, "annotations", ia_api_annotations_json(c->annotations, c->n_annotations));
    return o;
}

/* A citations event's delta (types.h): its part's annotations as a delta
 * of type `type` (text_annotation in 1.52.0, text_annotation_delta in
 * 3.3.0). */
json_t *ia_api_annotation_delta(const ia_content *part, const char *type) {
    json_t *d = json_object();
    json_object_set_new(d, "type", json_string(type));
    json_object_set_new(d, "annotations", ia_api_annotations_json(part->annotations, part->n_annotations));
    return d;
}

json_t *ia_api_json_value(const char *text, bool object) {
    json_t *v = json_loads(text ? text : "", JSON_DECODE_ANY, NULL);
    if (v && object && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v ? v : object ? json_object() : ia_api_jstr(text);
}

json_t *ia_api_call_json(const char *id, const char *name, const char *arguments) {
    json_t *c = json_object();
    json_object_set_new(c, "type", json_string("function_call"));
    json_object_set_new(c, "id", ia_api_jstr(id));
    json_object_set_new(c, "name", ia_api_jstr(name));
    json_object_set_new(c, "arguments", ia_api_json_value(arguments, true));
    return c;
}

json_t *ia_api_item_json(const ia_content *c) {
    switch (c->kind) {
    case IA_CONTENT_TEXT: return text_item_json(c);
    case IA_CONTENT_FUNCTION_CALL: return ia_api_call_json(c->id, c->name, c->text);
    case IA_CONTENT_FUNCTION_RESULT: {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string("function_result"));
        json_object_set_new(o, "call_id", ia_api_jstr(c->id));
        if (c->name) json_object_set_new(o, "name", ia_api_jstr(c->name));
        json_object_set_new(o, "result", ia_api_json_value(c->text, false));
        if (c->is_error) json_object_set_new(o, "is_error", json_true());
        return o;
    }
    case IA_CONTENT_THOUGHT: {
        /* The summary is the reasoning itself (a local model writes no
         * other); the signature seals it for stateless replay. */
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string("thought"));
        json_object_set_new(o, "signature", ia_api_jstr(c->signature));
        if (!c->hide_summary) {
            json_t *sum = json_array();
            json_array_append_new(sum, ia_api_text_content(c->text));
            json_object_set_new(o, "summary", sum);
        }
        return o;
    }
    case IA_CONTENT_IMAGE:
    case IA_CONTENT_AUDIO:
    case IA_CONTENT_VIDEO:
    case IA_CONTENT_DOCUMENT: return ia_api_media_json(c);
    case IA_CONTENT_TOOL_CALL:
    case IA_CONTENT_TOOL_RESULT: return ia_api_tool_item_json(c);
    }
    return ia_api_text_content("");
}

json_t *ia_api_content_list(const ia_turn *t) {
    json_t *a = json_array();
    for (size_t i = 0; i < t->n; i++) json_array_append_new(a, ia_api_item_json(&t->items[i]));
    return a;
}

/* [{modality, tokens}] for each modality with tokens (text always when
 * `text` is set); a record from before the split (all zero) is all text. */
static json_t *by_modality(const int64_t by[IA_N_MODALITIES], int64_t total, bool text) {
    int64_t sum = 0;
    for (int m = 0; m < IA_N_MODALITIES; m++) sum += by[m];
    json_t *a = json_array();
    for (int m = 0; m < IA_N_MODALITIES; m++) {
        int64_t n = sum ? by[m] : m == 0 ? total : 0;
        if (!n && !(m == 0 && text)) continue;
        json_t *e = json_object();
        json_object_set_new(e, "modality", json_string(ia_modality_name(m)));
        json_object_set_new(e, "tokens", json_integer(n));
        json_array_append_new(a, e);
    }
    return a;
}

json_t *ia_api_usage_json(const ia_usage *u) {
    json_t *o = json_object();
    json_object_set_new(o, "total_input_tokens", json_integer(u->input));
    json_object_set_new(o, "total_output_tokens", json_integer(u->output));
    json_object_set_new(o, "total_thought_tokens", json_integer(u->thought));
    json_object_set_new(o, "total_cached_tokens", json_integer(u->cached));
    json_object_set_new(o, "total_tool_use_tokens", json_integer(u->tool_use));
    /* Google's total leaves cached and tool-use tokens out (recorded: 81+188+43=312). */
    json_object_set_new(o, "total_tokens", json_integer(u->input + u->output + u->thought));
    json_object_set_new(o, "input_tokens_by_modality", by_modality(u->input_by, u->input, true));
    if (u->cached) json_object_set_new(o, "cached_tokens_by_modality", by_modality(u->cached_by, u->cached, false));
    if (u->output_audio) { /* speech among the output: the rest is text */
        int64_t out_by[IA_N_MODALITIES] = {0};
        out_by[0] = u->output > u->output_audio ? u->output - u->output_audio : 0;
        out_by[2] = u->output_audio; /* ia_modality_name(2) is "audio" */
        json_object_set_new(o, "output_tokens_by_modality", by_modality(out_by, u->output, false));
    }
    if (u->search_calls || u->maps_calls) { /* as Google counts grounding: the calls run, per tool */
        json_t *g = json_array();
        if (u->search_calls)
            json_array_append_new(g, json_pack("{s:s, s:I}", "type", "google_search", "count", (json_int_t)u->search_calls));
        if (u->maps_calls)
            json_array_append_new(g, json_pack("{s:s, s:I}", "type", "google_maps", "count", (json_int_t)u->maps_calls));
        json_object_set_new(o, "grounding_tool_count", g);
    }
    return o;
}

json_t *ia_api_modalities_json(unsigned bits) {
    if (!bits) return NULL;
    json_t *a = json_array();
    for (int m = 0; m < IA_N_MODALITIES; m++)
        if (bits & (1u << m)) json_array_append_new(a, json_string(ia_modality_name(m)));
    return a;
}

enum snap_mode { SNAP_FULL, SNAP_START, SNAP_COMPLETE };

/* The Interaction object. START shows the run as it begins (in_progress,
 * nothing generated yet); COMPLETE is the final state without `outputs`,
 * which the client rebuilds from the content.* events. */
static json_t *interaction_json(const ia_interaction *it, bool include_input, enum snap_mode mode) {
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
    /* an agent's interaction names its agent, as the real API does */
    bool agent = ia_agent_name_known(it->model);
    if (it->model) json_object_set_new(o, agent ? "agent" : "model", ia_api_jstr(it->model));
    json_object_set_new(o, "role", json_string(agent ? "agent" : "model"));
    if (mode == SNAP_FULL && st != IA_STATUS_IN_PROGRESS)
        json_object_set_new(o, "outputs", ia_api_content_list(&it->output));
    if (mode != SNAP_START && it->has_usage) json_object_set_new(o, "usage", ia_api_usage_json(&it->usage));
    if (it->previous_id && it->previous_id[0])
        json_object_set_new(o, "previous_interaction_id", ia_api_jstr(it->previous_id));
    if (it->system_instruction)
        json_object_set_new(o, "system_instruction", ia_api_jstr(it->system_instruction));
    /* an echo of the request, as 1.52.0's Interaction types it */
    json_t *mods = ia_api_modalities_json(it->rformat.modalities);
    if (mods) json_object_set_new(o, "response_modalities", mods);
    if (include_input) {
        json_t *turns = json_array();
        for (size_t i = 0; i < it->input.n; i++) {
            const ia_turn *t = &it->input.turns[i];
            json_t *turn = json_object();
            json_object_set_new(turn, "role", json_string(t->role == IA_ROLE_MODEL ? "model" : "user"));
            json_object_set_new(turn, "content", ia_api_content_list(t));
            json_array_append_new(turns, turn);
        }
        json_object_set_new(o, "input", turns);
    }
    /* Our extension: Google documents nothing for a failed interaction's
     * reason. The SDK passes unknown keys through untouched. */
    if (mode != SNAP_START && st == IA_STATUS_FAILED) {
        json_t *e = json_object();
        json_object_set_new(e, "message", ia_api_jstr(it->error ? it->error : "the interaction failed"));
        json_object_set_new(e, "code", json_string(ia_err_wire_code(
                                           it->error_code != IA_OK ? it->error_code : IA_EINTERNAL)));
        json_object_set_new(o, "error", e);
    }
    return o;
}

char *ia_api_encode_interaction(const ia_interaction *it, bool include_input, ia_dialect d) {
    if (!it) return NULL;
    if (d == IA_DIALECT_STEPS) return ia_api_steps_interaction(it, include_input, false);
    return ia_api_dump(interaction_json(it, include_input, SNAP_FULL));
}

char *ia_api_encode_fetched(const ia_interaction *it, bool include_input, ia_dialect d) {
    if (!it) return NULL;
    if (d == IA_DIALECT_STEPS) return ia_api_steps_interaction(it, include_input, true);
    return ia_api_dump(interaction_json(it, include_input, SNAP_FULL));
}

/* ---- SSE ---------------------------------------------------------------------- */

/* A thought's delta (its part has the summary piece as text, or the
 * signature): thought_summary {content: {type: text, text}} /
 * thought_signature {signature}, the same in both dialects. */
json_t *ia_api_thought_delta(const ia_content *part) {
    json_t *d = json_object();
    if (part && part->signature) {
        json_object_set_new(d, "type", json_string("thought_signature"));
        json_object_set_new(d, "signature", ia_api_jstr(part->signature));
    } else {
        json_object_set_new(d, "type", json_string("thought_summary"));
        json_object_set_new(d, "content", ia_api_text_content(part ? part->text : NULL));
    }
    return d;
}

/* A function call event's Content (function_call): named by its part, with
 * the arguments when `arguments` (the delta: the whole object; the start:
 * {}). A missing part frames as an unnamed call. */
json_t *ia_api_call_event_json(const ia_event *ev, bool arguments) {
    const ia_content *p = ev->part;
    return ia_api_call_json(p ? p->id : NULL, p ? p->name : NULL, arguments && p ? p->text : NULL);
}

static const char *legacy_event_type(ia_event_kind k) {
    switch (k) {
    case IA_EV_START: return "interaction.start";
    case IA_EV_STATUS: return "interaction.status_update";
    case IA_EV_CONTENT_START: return "content.start";
    case IA_EV_CONTENT_DELTA: return "content.delta";
    case IA_EV_CONTENT_STOP: return "content.stop";
    case IA_EV_COMPLETE: return "interaction.complete";
    case IA_EV_ERROR: return "error";
    }
    return NULL;
}

json_t *ia_api_error_json(const char *code, const char *message, const char *fallback) {
    json_t *e = json_object();
    json_object_set_new(e, "code", ia_api_jstr(code && code[0] ? code : ia_err_wire_code(IA_EINTERNAL)));
    json_object_set_new(e, "message", ia_api_jstr(message ? message : fallback));
    return e;
}

char *ia_api_sse_frame(const char *type, json_t *o, const char *interaction_id, int64_t seq) {
    char *eid = ia_api_event_id(interaction_id, seq);
    json_object_set_new(o, "event_id", json_string(eid));
    free(eid);
    /* The SDK reads the type only from here; the `event:` line is for humans
     * and other SSE clients. */
    json_object_set_new(o, "event_type", json_string(type));
    char *data = ia_api_dump(o);
    if (!data) return NULL;
    char *frame = ia_asprintf("event: %s\ndata: %s\n\n", type, data);
    free(data);
    return frame;
}

/* content.start's content. An empty block: the guide's reconstruction
 * reads content.type, then appends each delta to it. A call's block names
 * the call; its arguments come whole in the one delta. A built-in tool's
 * call or result is whole here already (the event carries it so) and
 * again in its one delta, whose type carries the same fields (1.52.0's
 * ContentDelta.CodeExecutionCall, ...): a client that replaces the block
 * and one that merges the delta into it end with the same item. */
static json_t *content_start(const ia_event *ev) {
    if (ev->ckind == IA_CONTENT_TOOL_CALL || ev->ckind == IA_CONTENT_TOOL_RESULT)
        return ia_api_tool_event_json(ev, false);
    if (ia_content_is_media(ev->ckind) && ev->part) return ia_api_media_json(ev->part); /* its format, no data */
    if (ev->ckind == IA_CONTENT_FUNCTION_CALL) return ia_api_call_event_json(ev, false);
    if (ev->ckind != IA_CONTENT_THOUGHT) return ia_api_text_content("");
    json_t *t = json_object();
    json_object_set_new(t, "type", json_string("thought"));
    return t;
}

static json_t *content_delta(const ia_event *ev) {
    if (ev->ckind == IA_CONTENT_TOOL_CALL || ev->ckind == IA_CONTENT_TOOL_RESULT)
        return ia_api_tool_event_json(ev, false);
    if (ia_content_is_media(ev->ckind) && ev->part) return ia_api_media_json(ev->part); /* a piece of the data */
    if (ev->ckind == IA_CONTENT_THOUGHT) return ia_api_thought_delta(ev->part);
    if (ia_event_is_annotations(ev)) return ia_api_annotation_delta(ev->part, "text_annotation");
    if (ev->ckind == IA_CONTENT_FUNCTION_CALL) return ia_api_call_event_json(ev, true);
    json_t *d = json_object();
    json_object_set_new(d, "type", json_string("text"));
    json_object_set_new(d, "text", ia_api_jstr(ev->text));
    return d;
}

char *ia_api_encode_frame(const char *interaction_id, const ia_interaction *snapshot,
                          const ia_event *ev, ia_dialect d) {
    if (!ev) return NULL;
    if (!interaction_id && snapshot) interaction_id = snapshot->id;
    if (!interaction_id) return NULL;
    if (d == IA_DIALECT_STEPS) return ia_api_steps_frame(interaction_id, snapshot, ev);
    const char *type = legacy_event_type(ev->kind);
    if (!type) return NULL;
    if ((ev->kind == IA_EV_START || ev->kind == IA_EV_COMPLETE) && !snapshot) return NULL;

    json_t *o = json_object();
    switch (ev->kind) {
    case IA_EV_START:
        json_object_set_new(o, "interaction", interaction_json(snapshot, false, SNAP_START));
        break;
    case IA_EV_COMPLETE:
        json_object_set_new(o, "interaction", interaction_json(snapshot, false, SNAP_COMPLETE));
        break;
    case IA_EV_STATUS:
        json_object_set_new(o, "interaction_id", ia_api_jstr(interaction_id));
        json_object_set_new(o, "status", json_string(ia_status_name(ev->status)));
        break;
    case IA_EV_CONTENT_START:
        json_object_set_new(o, "index", json_integer(ev->index));
        json_object_set_new(o, "content", content_start(ev));
        break;
    case IA_EV_CONTENT_DELTA:
        json_object_set_new(o, "index", json_integer(ev->index));
        json_object_set_new(o, "delta", content_delta(ev));
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

char *ia_api_encode_event(const ia_interaction *snapshot, const ia_event *ev, ia_dialect d) {
    return ia_api_encode_frame(snapshot ? snapshot->id : NULL, snapshot, ev, d);
}

const char *ia_api_sse_done(void) { return "event: done\ndata: [DONE]\n\n"; }

/* ---- errors ------------------------------------------------------------------- */

char *ia_api_encode_error(const ia_err *err) {
    json_t *o = json_object();
    json_t *e = json_object();
    ia_errcode code = err ? err->code : IA_EINTERNAL;
    const char *msg = err && err->msg[0] ? err->msg : "internal error";
    json_object_set_new(e, "message", ia_api_jstr(msg));
    json_object_set_new(e, "code", json_string(ia_err_wire_code(code)));
    json_object_set_new(o, "error", e);
    return ia_api_dump(o);
}

/* ---- event ids ---------------------------------------------------------------- */

/* "evt_" + the first 16 hex digits of SHA-256(interaction id) + "_" + seq.
 * The tag makes ids unique across interactions and lets parse refuse an id
 * that belongs to another interaction; the seq is plain decimal so a resume
 * is a number comparison. */
#define EVT_TAG_LEN 16

static void event_tag(const char *interaction_id, char tag[EVT_TAG_LEN + 1]) {
    char hex[65];
    ia_sha256_hex(interaction_id, strlen(interaction_id), hex);
    memcpy(tag, hex, EVT_TAG_LEN);
    tag[EVT_TAG_LEN] = '\0';
}

char *ia_api_event_id(const char *interaction_id, int64_t seq) {
    char tag[EVT_TAG_LEN + 1];
    event_tag(interaction_id ? interaction_id : "", tag);
    return ia_asprintf("evt_%s_%" PRId64, tag, seq);
}

int64_t ia_api_parse_event_id(const char *interaction_id, const char *event_id) {
    if (!interaction_id || !event_id) return -1;
    char tag[EVT_TAG_LEN + 1];
    event_tag(interaction_id, tag);
    if (strncmp(event_id, "evt_", 4) != 0) return -1;
    const char *p = event_id + 4;
    if (strncmp(p, tag, EVT_TAG_LEN) != 0 || p[EVT_TAG_LEN] != '_') return -1;
    p += EVT_TAG_LEN + 1;
    /* Exactly what ia_api_event_id writes: digits, no sign, no leading zero. */
    if (*p < '1' || *p > '9') return -1;
    int64_t seq = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        if (seq > (INT64_MAX - (*p - '0')) / 10) return -1;
        seq = seq * 10 + (*p - '0');
    }
    return seq;
}
