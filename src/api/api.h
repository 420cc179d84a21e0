/* api: the wire schema. The only module that knows the Interactions API's
 * JSON: it decodes request bodies into core structs (validating types,
 * unknown fields and field combinations, with messages that name the field
 * path) and encodes core structs back to the caller's dialect.
 *
 * Dialects: IA_DIALECT_LEGACY is the guide's and SDK 1.x's (`outputs`,
 * `role`, `interaction.start`/`content.*`/`interaction.complete`).
 * IA_DIALECT_STEPS (SDK 3.x, `/v1`, `Api-Revision: 2026-05-20`) is not
 * encoded yet: the HTTP layer refuses it with a clear error, and adding it is
 * a second encoder here over the same structs.
 *
 * All returned strings are malloc'd; the caller frees them. */
#ifndef IA_API_API_H
#define IA_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/types.h"
#include "lib/err.h"

typedef enum { IA_DIALECT_LEGACY = 0, IA_DIALECT_STEPS = 1 } ia_dialect;

/* Decodes a create body. On success *out is filled (free with
 * ia_request_free); store defaults to true, stream/background to false.
 * Errors (IA_EINVALID unless said): malformed JSON; a non-object body; a
 * field of the wrong type ("generation_config.temperature: expected a
 * number"); an unknown field; neither or both of model/agent; agent (not
 * served yet: IA_EUNIMPLEMENTED); an empty input; store=false with
 * background=true; features of later issues — tools, response_format,
 * response_mime_type, response_modalities, agent_config, thinking_level,
 * thinking_summaries, tool_choice, speech_config, image_config, non-text
 * content — are IA_EUNIMPLEMENTED naming the field. */
int ia_api_decode_create(const char *body, size_t len, ia_request *out, ia_err *err);

/* The Interaction resource as JSON. include_input adds `input` (this turn's
 * normalized input, as a list of turns). Keys follow the rules of the spec:
 * `outputs` is present iff the status is not in_progress; `usage` iff
 * it->has_usage; `previous_interaction_id` and `system_instruction` iff set. */
char *ia_api_encode_interaction(const ia_interaction *it, bool include_input, ia_dialect d);

/* One SSE frame, "event: <type>\ndata: <compact JSON>\n\n", for ev.
 * snapshot is the interaction the event belongs to: START encodes it as the
 * running interaction (in_progress, no outputs, no usage); COMPLETE encodes it
 * with its final status and usage and without outputs. */
char *ia_api_encode_event(const ia_interaction *snapshot, const ia_event *ev, ia_dialect d);
/* The stream terminator frame ("event: done\ndata: [DONE]\n\n"). */
const char *ia_api_sse_done(void);

/* {"error": {"message": ..., "code": ...}} */
char *ia_api_encode_error(const ia_err *err);

/* event_id on the wire for (interaction id, seq), and back. parse returns the
 * seq, or -1 when the string is not one of ours for that interaction. */
char *ia_api_event_id(const char *interaction_id, int64_t seq);
int64_t ia_api_parse_event_id(const char *interaction_id, const char *event_id);

#endif
