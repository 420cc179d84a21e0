/* api_int: what the files of src/api/ share among themselves — JSON helpers
 * used by both dialects' encoders (encode.c: legacy, steps.c: steps) and the
 * Content decoder that both dialects' input decoding uses. Not part of the
 * module's contract (api.h is); tests use api.h only. */
#ifndef IA_API_API_INT_H
#define IA_API_API_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

/* A JSON string of s ("" for NULL); invalid UTF-8 is repaired with U+FFFD. */
json_t *ia_api_jstr(const char *s);
/* Compact text of j, which is consumed; malloc'd. */
char *ia_api_dump(json_t *j);
/* {"type":"text","text":...} */
json_t *ia_api_text_content(const char *text);
/* The Content list of a turn: [{"type":"text","text"}, ...]. */
json_t *ia_api_content_list(const ia_turn *t);
/* One item as Content ({"type":"function_call","id","name","arguments"},
 * {"type":"function_result","call_id","name","result","is_error"}, text). */
json_t *ia_api_item_json(const ia_content *c);
/* A built-in tool's call or result item as its wire content (toolitems.c). */
json_t *ia_api_tool_item_json(const ia_content *c);
/* {"type":"function_call","id","name","arguments": the parsed object} */
json_t *ia_api_call_json(const char *id, const char *name, const char *arguments);
/* Stored JSON text as a value (object: only an object, else {}). */
json_t *ia_api_json_value(const char *text, bool object);
/* A function call event's Content, from its part (types.h): named, with
 * the arguments when `arguments` (else {}). */
json_t *ia_api_call_event_json(const ia_event *ev, bool arguments);
/* The delta of a thought's stream event (thought_summary /
 * thought_signature), from its part (NULL: an empty summary). */
json_t *ia_api_thought_delta(const ia_content *part);
/* A text item's citations as the wire's url_citation annotations; a
 * citations event's delta (ia_event_is_annotations) of the given type. */
json_t *ia_api_annotations_json(const ia_annotation *a, size_t n);
json_t *ia_api_annotation_delta(const ia_content *part, const char *type);
/* The usage object (same in both dialects). */
json_t *ia_api_usage_json(const ia_usage *u);
/* response_modalities' echo: the names asked (IA_MOD_BIT_*), lower case
 * as the SDKs type them, in ia_modality order; NULL for none. */
json_t *ia_api_modalities_json(unsigned bits);
/* {"code": code or "internal", "message": message or fallback} */
json_t *ia_api_error_json(const char *code, const char *message, const char *fallback);
/* The SSE frame for payload o (consumed): appends "event_id" for (id, seq)
 * and "event_type", then "event: <type>\ndata: <json>\n\n". */
char *ia_api_sse_frame(const char *type, json_t *o, const char *interaction_id, int64_t seq);

/* Field paths are short ("input[12].content[3]"); a fixed buffer keeps them
 * simple. */
#define IA_API_PATH_MAX 160

/* decode.c's helpers for the other decoders (tools.c, toolitems.c,
 * steps.c). mkpath formats a field path; a pathological key is cut short,
 * which only shortens the message that names it. unknown_field is the 400
 * for a field that is not one here (naming where it belongs when it is a
 * known field misplaced). The getters check a value's type, naming path. */
__attribute__((format(printf, 2, 3))) void ia_api_mkpath(char p[IA_API_PATH_MAX], const char *fmt, ...);
int ia_api_unknown_field(ia_err *err, const char *path);
int ia_api_get_string(json_t *v, const char *path, const char **out, ia_err *err);
int ia_api_get_bool(json_t *v, const char *path, bool *out, ia_err *err);

/* tools.c: tools[] into r->tools / r->builtins; generation_config.
 * tool_choice into *out, with *allowed set to allowed_tools.tools when
 * given; apply_allowed narrows r->tools to those names once the body is
 * read (a name not among tools is a 400). */
int ia_api_decode_tools(json_t *v, ia_request *r, ia_err *err);
/* agent_config (api/agent.c). */
int ia_api_decode_agent_config(json_t *v, ia_request *r, ia_err *err);
int ia_api_decode_tool_choice(json_t *v, ia_tool_choice *out, json_t **allowed, ia_err *err);
int ia_api_apply_allowed(json_t *names, ia_request *r, ia_err *err);

/* toolitems.c: built-in tools' call and result items on the wire, the same
 * fields in both dialects (a legacy Content, a steps step). tool_item_type
 * says whether t is one of their wire types ("code_execution_call",
 * "mcp_server_tool_result", ...); decode_tool_item decodes one at path and
 * appends it to turn. */
bool ia_api_tool_item_type(const char *t);
int ia_api_decode_tool_item(json_t *c, const char *path, ia_turn *turn, ia_err *err);
/* The wire object of the item a TOOL_CALL / TOOL_RESULT stream event
 * carries (its part, model/types.h): the whole item as
 * ia_api_tool_item_json writes it, or (delta) the steps dialect's delta of
 * it, which names no id / call_id (the step.start did). */
json_t *ia_api_tool_event_json(const ia_event *ev, bool delta);

/* Decodes one Content object at path and appends it to turn. The dialect
 * decides which non-text types are known (and so IA_EUNIMPLEMENTED rather
 * than IA_EINVALID): the legacy Content union includes thoughts and tool
 * calls, SDK 3.x's is text, image, audio, video and document only. */
int ia_api_decode_content(json_t *c, const char *path, ia_turn *turn, ia_dialect d, ia_err *err);

/* A function_call or function_result object (legacy Content, or a steps
 * step of that type) at path, appended to turn. */
int ia_api_decode_function_item(json_t *c, const char *path, ia_turn *turn, ia_err *err);
/* A thought ({type: "thought", signature, summary?}) at path, appended to
 * turn with its signature (core opens it). */
int ia_api_decode_thought(json_t *c, const char *path, ia_turn *turn, ia_err *err);
/* media.c: image / audio / video / document content, both dialects. */
bool ia_api_is_media_type(const char *t);
int ia_api_decode_media(json_t *o, const char *path, ia_turn *turn, ia_err *err);
json_t *ia_api_media_json(const ia_content *c);

/* rformat.c: response_format. The walk of the body checks its shape (an
 * object, or a non-empty list); once the walk is done the whole field is
 * decoded beside response_mime_type (mime, NULL when absent; its value is
 * checked by the walk): out->grammar, out->response_format (the normalized
 * schema) and out->rformat (the field as given) are set when it asks for
 * JSON or was given. rf may be NULL (response_mime_type alone). */
int ia_api_rformat_check_shape(json_t *v, ia_err *err);
/* response_mime_type (*out: its value) and response_modalities (into
 * *bits, IA_MOD_BIT_*), checked during the walk; check_outputs, once the
 * body is read, refuses an output this server does not serve
 * (ia_api_serve_outputs) with IA_EUNIMPLEMENTED naming the field — a
 * modality in `modalities` (the field as given, may be NULL), or
 * speech_config without audio — and speech_config without 'audio' among
 * the modalities asked (IA_EINVALID). */
int ia_api_rformat_check_mime(json_t *v, const char **out, ia_err *err);
int ia_api_decode_modalities(json_t *v, unsigned *bits, ia_err *err);
int ia_api_check_outputs(const ia_request *r, json_t *modalities, ia_err *err);
/* An image response format also sets out->rformat.image and IA_MOD_BIT_IMAGE
 * in out->modalities. */
int ia_api_decode_rformat(json_t *rf, const char *mime, ia_request *out, ia_err *err);
/* generation_config.image_config into *out (aspect_ratio, image_size). */
int ia_api_decode_image_config(json_t *v, ia_image_cfg *out, ia_err *err);

/* speech.c: generation_config.speech_config (one object or a list) into
 * *out, every entry checked (api/speech.c says what); on failure *out may
 * hold part of it (ia_speech_cfg_free). speech_json: the field as given,
 * for the steps dialect's echo. */
int ia_api_decode_speech(json_t *v, ia_speech_cfg *out, ia_err *err);
json_t *ia_api_speech_json(const ia_speech_cfg *c);

/* steps.c: the steps dialect. */
char *ia_api_steps_interaction(const ia_interaction *it, bool include_input, bool fetched);
char *ia_api_steps_frame(const char *interaction_id, const ia_interaction *snapshot,
                         const ia_event *ev);
/* input in the steps dialect: string | Content | Content[] | Step[]. */
int ia_api_steps_decode_input(json_t *in, ia_conv *conv, ia_err *err);

/* The shape both dialects share for `input` (decode.c): a string, one
 * object, or a list of content objects (one user turn) or of history items
 * (turns in legacy, steps in the steps dialect), never mixed. A dialect
 * names its history items and how to recognise and decode one. */
typedef struct ia_api_input_forms {
    ia_dialect dialect;
    const char *items; /* "turns" / "steps", for messages */
    const char *item;  /* "a turn" / "a step" */
    const char *mixed; /* what the "cannot be mixed" message says after the path */
    bool (*is_item)(json_t *o);
    int (*decode_item)(json_t *o, const char *path, ia_conv *conv, ia_err *err);
    /* -1 with err for an object this dialect refuses outright; may be NULL. */
    int (*refuse)(json_t *o, const char *path, ia_err *err);
} ia_api_input_forms;
int ia_api_decode_input(json_t *in, const ia_api_input_forms *f, ia_conv *conv, ia_err *err);

#endif
