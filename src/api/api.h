/* api: the wire schema. The only module that knows the Interactions API's
 * JSON: it decodes request bodies into core structs (validating types,
 * unknown fields and field combinations, with messages that name the field
 * path) and encodes core structs back to the caller's dialect.
 *
 * Dialects: IA_DIALECT_LEGACY is the guide's and SDK 1.x's (`outputs`,
 * `role`, `interaction.start`/`content.*`/`interaction.complete`; encode.c).
 * IA_DIALECT_STEPS is SDK 3.x's (`/v1`, `Api-Revision: 2026-05-20`; steps.c):
 * `steps[]` of typed steps, `service_tier`, no `role`, events
 * `interaction.created`/`step.*`/`interaction.completed`. Both are encoded
 * from the same dialect-free core structs, so one stored chain reads in
 * either dialect.
 *
 * All returned strings are malloc'd; the caller frees them. */
#ifndef IA_API_API_H
#define IA_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/types.h"
#include "lib/err.h"
#include "store/agents.h"

typedef enum { IA_DIALECT_LEGACY = 0, IA_DIALECT_STEPS = 1 } ia_dialect;

/* Decodes a create body. On success *out is filled (free with
 * ia_request_free); store defaults to true, stream/background to false.
 * On failure *out is left empty (ia_request_free on it is harmless).
 * Every message starts with the field path; the first error in the body's
 * key order wins. Errors (IA_EINVALID unless said):
 * - malformed JSON ("malformed JSON at line L, column C: ..."), duplicate
 *   keys, a non-object body;
 * - a field of the wrong type ("generation_config.temperature: expected a
 *   number"); integers are fine where a number is expected; an integer
 *   field takes 100 or 100.0 but not 1.5; a range error ("...: must be
 *   between 0 and 2"; top_p 0..1; top_k, max_output_tokens >= 1;
 *   stop_sequences at most 16, none empty);
 * - an unknown field, top level or nested ("unknown field
 *   'generation_config.foo'", "unknown field 'input[0].x'");
 * - neither or both of model/agent; agent_config with a model;
 *   generation_config with a built-in agent (a custom agent's name passes:
 *   ia_api_agent_apply decides once its base is known);
 * - input missing or empty ("", [], or turns with no content at all); a list
 *   mixing turns and content objects; a turn role other than user/model;
 *   a content type that is not an API type ("input[0]: unknown content type
 *   'x'"); function_call {id, name, arguments: object}, function_result
 *   {call_id, name?, result: string | any JSON | [text/image content],
 *   is_error?} and thought {signature, summary?} are served (an image part
 *   of a result is IA_EUNIMPLEMENTED; a missing id / call_id / name /
 *   result / signature IA_EINVALID); so are the built-in tools' items
 *   (code_execution_call / _result, url_context_*, google_search_*,
 *   google_maps_*, mcp_server_tool_*, file_search_*: the fields of the SDK
 *   typings, checked by type and naming the path, "input[1].content[0].
 *   arguments: expected an object"; `signature` accepted and dropped; see
 *   api/toolitems.c), in whichever turn they come;
 * - store=false with background=true;
 * - tools: each {type:"function", name (required; letters, digits, _ . : -,
 *   at most 64, unique), description?, parameters? (a JSON Schema, checked as
 *   response_format is)} into out->tools; another tool type is
 *   IA_EUNIMPLEMENTED naming it ("tools[0]: tool type 'google_search' is not
 *   supported yet by this server"). generation_config.tool_choice: 'auto',
 *   'any', 'none', 'validated' or {allowed_tools: {mode?, tools?: [names]}}
 *   (the names must be among tools; the others are dropped from out->tools).
 *   generation_config.thinking_level ('minimal'|'low'|'medium'|'high') and
 *   thinking_summaries ('auto'|'none') go to out->gen.
 * - response_modalities: 'text' and 'image' in any case (the guide writes
 *   ["IMAGE"]) into out->modalities (IA_OUT_*); an image output is core's to
 *   route or refuse (src/upstream/: an upstream engine by model name);
 *   generation_config.image_config {aspect_ratio?, image_size? ('512',
 *   '1K', '2K', '4K'; '2k' read as '2K')} into out->gen.image, an unknown
 *   value IA_EINVALID listing the allowed ones.
 * - features of later issues, IA_EUNIMPLEMENTED "<path>: not supported yet by
 *   this server": agent_config, webhook_config, .
 * - response_modalities: 'text', 'image', 'audio', 'video', 'document' in
 *   any case (the guide writes ["AUDIO"]), repeats folded, into
 *   out->modalities (IA_MOD_BIT_*); once the body is read, one this server
 *   does not serve (ia_api_serve_outputs) is IA_EUNIMPLEMENTED
 *   ("response_modalities[0]: 'audio' output is not supported yet"); an
 *   image output is core's to route to an upstream (src/upstream/).
 * - generation_config.speech_config (api/speech.c), in both dialects: one
 *   {voice?, language?, speaker?} or a list of at most 2 (one per speaker,
 *   each then naming a distinct speaker); voice any name (printable, at
 *   most 128 bytes: which names exist is the engine's, checked by core
 *   once the model is known — the 30 prebuilt names for the embedded
 *   engine, an upstream's own), language a BCP-47 tag the speech engine
 *   speaks (src/speech/), else IA_EINVALID naming the entry's field
 *   ("generation_config.speech_config[1].language: ..."); into
 *   out->gen.speech. Then, without audio served,
 *   IA_EUNIMPLEMENTED; with it, speech_config without 'audio' among the
 *   modalities is IA_EINVALID.
 * - structured output (rformat.c), in both dialects: response_format is a
 *   JSON Schema object, one typed format ({type:'text', mime_type?,
 *   schema?}) or a non-empty list of them. A keyword the grammar would
 *   ignore is IA_EINVALID naming its path and the keyword
 *   (src/schema/schema.h has the accepted set; "response_format[0].schema.
 *   properties.n: ..."); mime_type (in the text format, or the top-level
 *   response_mime_type) is 'application/json' (implied by a schema; alone
 *   it asks for any JSON object) or 'text/plain' (IA_EINVALID beside a
 *   schema; without one, plain text), anything else IA_EUNIMPLEMENTED; the
 *   two places must agree. A list takes one format per output type
 *   ("response_format[1]: a second 'text' format ..."); an unknown type is
 *   IA_EINVALID ("response_format[0].type: unknown format type 'pdf' ...");
 *   an image format {aspect_ratio, image_size, mime_type (image/png,
 *   image/jpeg or image/webp), delivery ('inline')} is kept in
 *   out->rformat.image and asks for an image output (IA_MOD_BIT_IMAGE); an
 *   audio format {sample_rate, bit_rate, mime_type, delivery} is checked by
 *   src/speech/audiofmt.h (a mime type, rate or bit rate not served is
 *   named), kept in out->rformat.audio and asks for speech
 *   (IA_MOD_BIT_AUDIO; IA_EUNIMPLEMENTED on a server without speech); a
 *   video format {aspect_ratio, resolution, duration, gcs_uri, delivery}
 *   has its fields checked, then is IA_EUNIMPLEMENTED ("response_format[1]:
 *   the video format is not supported yet ..."). On success
 *   out->response_format holds the normalized schema, out->grammar its GBNF
 *   grammar, out->rformat the field as given.
 * Accepted leniently: a JSON null for any optional field means "not set";
 * a turn without role is a user turn; a turn's content may be one Content
 * object; a text Content's `annotations` (outputs replayed as history) are
 * ignored; service_tier ('flex'|'standard'|'priority') is checked and
 * ignored (one local tier) and is not echoed. input normalizes to turns: a
 * string, one Content or a list of Content become one user turn. */
int ia_api_decode_create(const char *body, size_t len, ia_request *out, ia_err *err);

/* The outputs this process serves (IA_MOD_BIT_*; text always): a modality
 * asked beyond them is refused by the decoder, as above. Text alone until
 * the speech engine is hooked into runs; the server sets it once at start,
 * before it serves (an atomic, read per request). */
void ia_api_serve_outputs(unsigned modality_bits);
unsigned ia_api_served_outputs(void);

/* The same for a given dialect (ia_api_decode_create is the legacy one).
 * The steps dialect differs in:
 * - input: string | Content | Content[] | Step[]; a step is {type:
 *   'user_input'|'model_output', content: Content[] (or a string)}; a
 *   user_input step becomes a user turn, a model_output step a model turn,
 *   so history given as steps is the same conversation as history given as
 *   turns. Content is text (image, audio, video, document:
 *   IA_EUNIMPLEMENTED); function_call and thought steps become model turns,
 *   function_result steps user turns (fields as the legacy Content of the
 *   same type); the built-in tools' *_call / *_result steps become model
 *   turns (fields as the legacy Content of the same type); processing_* and
 *   retrieval_* steps are IA_EUNIMPLEMENTED ("input[1]: step type
 *   'processing_call' is not supported yet"); a legacy turn ({role, content})
 *   is IA_EINVALID, naming the steps form; steps and content objects cannot
 *   be mixed in one list.
 * - fields of SDK 3.x: continuation_token is IA_EINVALID (this server never
 *   issues one: every run decodes to its end in one request); cached_content,
 *   environment, labels, safety_settings, generation_config.
 *   transcription_config / video_config are IA_EUNIMPLEMENTED naming the
 *   field; service_tier also takes 'deferred'. */
int ia_api_decode_create_dialect(const char *body, size_t len, ia_dialect d, ia_request *out,
                                 ia_err *err);

/* The Interaction resource as JSON (compact, keys in a fixed order):
 * id, object:"interaction", status, created, updated (RFC 3339), model,
 * role:"model", outputs, usage, previous_interaction_id, system_instruction,
 * input, error. include_input adds `input` (this turn's normalized input, as
 * a list of turns {role, content:[{type:"text",text}]}). `outputs` is present
 * iff the status is not in_progress; `usage` iff it->has_usage (total_tokens
 * = input + output + thought; input_tokens_by_modality is [{modality:"text"}]);
 * `previous_interaction_id` and `system_instruction` iff set.
 * Our extension: a failed interaction carries `error: {message, code}`
 * (message = it->error, code = it->error_code's wire name, "internal" when
 * unknown: the same the stream's error event carried); Google documents
 * nothing there and the SDK passes unknown keys through.
 *
 * IA_DIALECT_STEPS: id, object, status, created, updated, model,
 * service_tier:"standard", steps, usage, previous_interaction_id,
 * system_instruction, generation_config (iff the client set any of it: the
 * fields it set), response_format (iff given, in the shape given), input,
 * errors. No `role`. `steps` is present iff the
 * status is not in_progress: each output item is one step of its own (a text
 * item is {"type":"model_output","content":[{"type":"text","text"}]}), so the
 * stream's step index is the item's index. include_input adds `input` as a
 * list of steps (user turn -> user_input step, model turn -> model_output
 * step, each holding the turn's content). A failed interaction carries
 * `errors: [{code:"internal", message}]` (the SDK 3.x typings' field). */
char *ia_api_encode_interaction(const ia_interaction *it, bool include_input, ia_dialect d);

/* The Interaction as GET answers it. Legacy: ia_api_encode_interaction.
 * Steps: `steps` also begins with this turn's input as steps (user_input,
 * and model_output for history given in the input), as Google's GET does
 * while its create response leaves them out; an in_progress interaction then
 * has `steps` with only those. */
char *ia_api_encode_fetched(const ia_interaction *it, bool include_input, ia_dialect d);

/* One SSE frame, "event: <type>\ndata: <compact JSON>\n\n", for ev; the JSON
 * ends with "event_id" (ia_api_event_id(interaction_id, ev->seq)) and
 * "event_type". Payloads (legacy):
 *   START          {"interaction": snapshot as it began: status in_progress,
 *                   updated = created, no outputs/usage/error}
 *   STATUS         {"interaction_id", "status": ev->status}
 *   CONTENT_START  {"index", "content": {"type":"text","text":""}}; for a
 *                  call (ckind FUNCTION_CALL) {"type":"function_call","id",
 *                  "name","arguments":{}}, for a thought {"type":"thought"};
 *                  for a built-in tool's call or result (ckind TOOL_CALL /
 *                  TOOL_RESULT) the whole item as in `outputs`
 *                  ({"type":"code_execution_call","id","arguments"}, ...)
 *   CONTENT_DELTA  {"index", "delta": {"type":"text","text": ev->text}}; a
 *                  call's one delta {"type":"function_call","id","name",
 *                  "arguments": the whole object}; a thought's
 *                  {"type":"thought_summary","content":{"type":"text",..}}
 *                  and {"type":"thought_signature","signature"}; a
 *                  built-in tool's item, whole again; a text's citations
 *                  {"type":"text_annotation","annotations":[url_citation]}
 *                  (all but plain text from ev->part, model/types.h)
 *   CONTENT_STOP   {"index"}
 *   COMPLETE       {"interaction": snapshot with its final status, usage (and
 *                   error if failed), WITHOUT outputs}
 *   ERROR          {"error": {"code": ev->code or "internal", "message": ev->text}}
 * Payloads (steps), same event_id / event_type ending:
 *   START          interaction.created {"interaction": snapshot as it began:
 *                   status in_progress, no steps/usage}
 *   STATUS         interaction.status_update {"interaction_id", "status"}
 *   CONTENT_START  step.start {"index", "step": {"type":"model_output"}} (a
 *                  call: {"type":"function_call","id","name","arguments":{}};
 *                  a thought: {"type":"thought"}; a built-in tool's call or
 *                  result: the whole step, as in `steps`)
 *   CONTENT_DELTA  step.delta {"index", "delta": {"text", "type":"text"}} (a
 *                  call: {"arguments": JSON text, "type":"arguments_delta"};
 *                  a thought: thought_summary / thought_signature as legacy;
 *                  a built-in tool's: the step less id / call_id /
 *                  search_type, SDK 3.3.0's CodeExecutionCallDelta, ...)
 *   CONTENT_STOP   step.stop {"index"}
 *   COMPLETE       interaction.completed {"interaction": final snapshot with
 *                   usage (and errors if failed), WITHOUT steps}
 *   ERROR          error {"error": {"code", "message"}}
 * snapshot is needed only for START and COMPLETE (NULL otherwise is fine);
 * ia_api_encode_frame takes the interaction id separately for that reason
 * (e.g. from ia_sub_id), while ia_api_encode_event reads it from
 * snapshot->id and so needs a snapshot for every event. Returns NULL for a
 * missing id/snapshot. */
char *ia_api_encode_event(const ia_interaction *snapshot, const ia_event *ev, ia_dialect d);
char *ia_api_encode_frame(const char *interaction_id, const ia_interaction *snapshot,
                          const ia_event *ev, ia_dialect d);
/* The stream terminator frame ("event: done\ndata: [DONE]\n\n"). */
const char *ia_api_sse_done(void);

/* {"error": {"message": ..., "code": ...}} */
char *ia_api_encode_error(const ia_err *err);

/* event_id on the wire for (interaction id, seq), and back:
 * "evt_" + first 16 hex digits of SHA-256(interaction id) + "_" + seq in
 * decimal, e.g. "evt_9f86d081884c7d65_12". Unique across interactions;
 * parse returns the seq (>= 1), or -1 when the string is not one of ours for
 * that interaction (malformed, or another interaction's id). */
char *ia_api_event_id(const char *interaction_id, int64_t seq);
int64_t ia_api_parse_event_id(const char *interaction_id, const char *event_id);

/* ---- Files API (files.c) ----------------------------------------------------
 * Google's classic REST JSON, not the Interactions API's: camelCase,
 * int64 values as strings, errors {"error": {"code": <HTTP status>,
 * "message", "status": "INVALID_ARGUMENT" | "NOT_FOUND" | ...}} (the shape
 * Google's Files endpoints answer; the SDK's classic client throws on the
 * status whatever the body). */

/* What the start of a resumable upload says in its body,
 * {"file": {mimeType?, displayName?, name?, sizeBytes?}} (an empty body is
 * fine; camelCase or proto names). id is the name without "files/",
 * checked (1-40 of a-z, 0-9, '-'); size -1 when absent. IA_EINVALID naming
 * the field on malformed JSON, an unknown field, a wrong type, a bad name
 * or a displayName over 512 bytes. */
typedef struct ia_api_file_meta {
    char *id, *display_name, *mime_type;
    int64_t size;
} ia_api_file_meta;
int ia_api_files_decode_start(const char *body, size_t len, ia_api_file_meta *out, ia_err *err);
void ia_api_file_meta_free(ia_api_file_meta *m);

/* The File resource: name "files/ID", displayName (iff set), mimeType,
 * sizeBytes, createTime, updateTime, expirationTime, sha256Hash (base64 of
 * the hex digest, iff processed), uri (base + "/files/ID"; base is e.g.
 * "http://host:port/v1beta"), state (PROCESSING | ACTIVE | FAILED), source
 * "UPLOADED", and for FAILED error {code: 3, message: why}. wrap: inside
 * {"file": ...}, as the final upload answer is. */
char *ia_api_files_encode(const ia_file *f, const char *base, bool wrap);
/* {"files": [...], "nextPageToken"} — files left out when n is 0, the
 * token when next is 0 (the last page). */
char *ia_api_files_encode_list(const ia_file *files, size_t n, const char *base, int64_t next);
/* Page tokens for a list cursor (> 0); parse: 0, or -1 for a string that is
 * not a token of ours. */
void ia_api_files_page_token(int64_t cursor, char out[40]);
int ia_api_files_parse_page_token(const char *s, int64_t *cursor);
char *ia_api_files_encode_error(const ia_err *err);

/* The file id a Files URI names: "files/ID" or "http(s)://HOST/vN.../files/ID"
 * (any host: clients rewrite it). 0, or -1 when uri is not one. */
int ia_api_file_ref(const char *uri, char id[IA_FILE_ID_MAX]);
/* Calls cb(path, id, ud) for every image / audio / video / document content
 * under a create body's `input` whose uri is a Files URI, in order, until cb
 * returns non-zero (returned). Malformed JSON: 0, no call. */
int ia_api_files_refs(const char *body, size_t len, int (*cb)(const char *path, const char *id, void *ud),
                      void *ud);

/* ---- Models (models.c) -------------------------------------------------------
 * models.list / models.get: Google's Model resource for each served model
 * (local GGUF engines and --upstream engines). */
typedef struct ia_api_model {
    const char *name;         /* as requests name it; the wire says "models/NAME" */
    const char *display_name; /* NULL: name */
    const char *description;  /* NULL: none */
    const char *version;      /* NULL: "local" */
    int64_t input_limit, output_limit; /* tokens; 0: not said */
    bool embedding;           /* an embedding model: embedContent, batchEmbedContents */
} ia_api_model;
char *ia_api_model_encode(const ia_api_model *m);

/* GET /{v}/interactions (not in Google's API; the console lists a key's
 * conversations with it): a page of entries as {interactions: [{id,
 * object, status, created, updated, model | agent, previous_interaction_id,
 * title}], next_page_token} (api/list.c). The page token is opaque: the
 * cursor (created, id) as base64url; parse gives -1 for one this server
 * did not write. */
char *ia_api_list_encode(const ia_entry *v, size_t n, int64_t next_created, const char *next_id);
int ia_api_list_parse_token(const char *tok, int64_t *created, char id[80]);
/* {"models": [...], "nextPageToken"}: the token (of index next) when next > 0. */
char *ia_api_models_encode_list(const ia_api_model *v, size_t n, size_t next);
void ia_api_models_page_token(size_t next, char out[40]);
/* The index a token of ours stands for (> 0), or -1. */
long ia_api_models_parse_page_token(const char *s);

/* Custom agents (api/agents.c), SDK 3.3.0's `Agent`: {id, base_agent,
 * description, system_instruction, tools, agent_config, base_environment}.
 * decode checks a create body into *out (free with ia_agent_def_free):
 * id optional (1-63 of a-z 0-9 '-', a letter first, not a built-in
 * agent's name; core draws one when absent); base_agent (a Deep Research
 * agent's name or a served model's; or agent_config.model, the
 * antigravity config's, naming the model) required; tools of AgentTool's
 * types (code_execution, function, google_search, mcp_server,
 * url_context), each checked as a request's tools[]; max_total_tokens and
 * base_environment are IA_EUNIMPLEMENTED; an unknown field IA_EINVALID.
 * encode writes an Agent (with create_time), list {agents, next_page_token}. */
bool ia_api_agent_id_valid(const char *id);
int ia_api_agent_decode(const char *body, size_t len, ia_agent_def *out, ia_err *err);
char *ia_api_agent_encode(const ia_agent_def *d);
char *ia_api_agent_list_encode(const ia_agent_def *v, size_t n, const char *next_id);
/* Merges the custom agent d into r, a decoded create whose `agent` named
 * it: the agent's system_instruction comes first and the request's (if
 * any) follows it; the agent's tools join the request's, a request tool of
 * the same function name or built-in type winning; the base becomes the
 * request's agent (a Deep Research base: the research loop, which takes the
 * request's agent_config, and generation_config is a 400) or its model (a
 * model base: generation_config applies, agent_config is a 400);
 * r->custom_agent keeps d's id for the record. */
int ia_api_agent_apply(const ia_agent_def *d, ia_request *r, ia_err *err);

/* ---- Embeddings (embed.c) ----------------------------------------------------
 * models.embedContent as the SDKs send it: POST /{v}/models/{model}
 * :batchEmbedContents {requests: [{model?, content, taskType?, title?,
 * outputDimensionality?}]} (what @google/genai 1.x and 3.x call), and the
 * single :embedContent {model?, content, ...} that curl users post.
 * content is {parts: [{text}], role?}: text parts only, joined by "\n";
 * a title (RETRIEVAL_DOCUMENT only, as Google's) goes before the text,
 * "title\n\n". taskType is checked against Google's names and otherwise
 * does not change the vector (the served GGUF has no task prompts).
 * A text with nothing in it, an unknown field, a wrong type, more than
 * IA_API_EMBED_MAX requests: IA_EINVALID naming the field path. */
#define IA_API_EMBED_MAX 100 /* requests in one batch, as Google's */
typedef struct ia_api_embed_req {
    char *model;     /* "models/" stripped; NULL: not given (the URL's) */
    char *text;      /* what is embedded (malloc'd) */
    size_t len;
    int64_t out_dim; /* outputDimensionality; 0: the model's */
} ia_api_embed_req;
int ia_api_embed_decode(const char *body, size_t len, bool batch, ia_api_embed_req **out, size_t *n, ia_err *err);
void ia_api_embed_free(ia_api_embed_req *v, size_t n);
/* One answer: values, and statistics {truncated, tokenCount} (the SDK's
 * ContentEmbeddingStatistics) so a cut text is never silent. */
typedef struct ia_api_embedding {
    const float *v;
    int dim;
    bool truncated;
    int n_tokens;
} ia_api_embedding;
/* {"embeddings": [...]} (batch) or {"embedding": {...}}; malloc'd. */
char *ia_api_embed_encode(const ia_api_embedding *e, size_t n, bool batch);

#endif
