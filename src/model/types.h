/* types (model/, the bottom layer beside lib/): the conversation and the
 * interaction as core, api/ and store/ all speak them — no JSON, no I/O.
 *
 * These are dialect-free: the legacy (`outputs`, `content.*`) and the steps
 * (`steps`, `step.*`) wire formats are both encoded from these structs by
 * src/api/, and the store persists them through its neutral codec
 * (store/codec.c, declared in store/store.h). Every pointer member is malloc'd and owned by the struct that
 * holds it; the *_free functions release members (not the struct itself) and
 * leave it zeroed, so freeing twice is harmless. */
#ifndef IA_MODEL_TYPES_H
#define IA_MODEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

typedef enum { IA_ROLE_USER = 0, IA_ROLE_MODEL = 1 } ia_role;

/* Kinds of content; api/ maps each to both dialects, store/codec.c to a
 * stored "kind" name. */
typedef enum {
    IA_CONTENT_TEXT = 0,
    IA_CONTENT_FUNCTION_CALL,   /* a model turn's call of a client function */
    IA_CONTENT_FUNCTION_RESULT, /* a user turn's answer to a call */
    IA_CONTENT_THOUGHT,         /* a model turn's reasoning */
    IA_CONTENT_IMAGE,           /* media input (core/media.c) */
    IA_CONTENT_AUDIO,
    IA_CONTENT_VIDEO,
    IA_CONTENT_DOCUMENT,
    IA_CONTENT_TOOL_CALL,   /* a model turn's call of a built-in tool, run by the server */
    IA_CONTENT_TOOL_RESULT, /* that call's result, also a model turn's item */
} ia_content_kind;
bool ia_content_is_media(ia_content_kind k);

/* The built-in (server-side) tools, by the `type` a request's tools[] names
 * them with. A TOOL_CALL / TOOL_RESULT item says which in ia_content.tool;
 * the wire content types are NAME_call / NAME_result (mcp_server:
 * mcp_server_tool_call / mcp_server_tool_result). */
typedef enum {
    IA_BUILTIN_NONE = 0,
    IA_BUILTIN_CODE_EXECUTION,
    IA_BUILTIN_URL_CONTEXT,
    IA_BUILTIN_GOOGLE_SEARCH,
    IA_BUILTIN_GOOGLE_MAPS,
    IA_BUILTIN_MCP_SERVER,
    IA_BUILTIN_FILE_SEARCH,
    IA_BUILTIN__COUNT,
} ia_builtin;
const char *ia_builtin_name(ia_builtin b); /* "code_execution", ...; NULL for NONE */
int ia_builtin_parse(const char *s);       /* -1 if unknown */
/* Whether name is one of the agents the API names (the Deep Research
 * ones, core/agent.h): an interaction whose `model` holds one is an
 * agent's, and the wire says `agent` and role "agent" for it. */
bool ia_agent_name_known(const char *name);
/* The agents' names, comma-separated (static storage). */
const char *ia_agent_names(void);

/* A media item made ready for the model (core/media.c; never stored): the
 * bytes of a file (form 0), a rendered page as packed RGB (form 1, w x h),
 * or a document's text (form 2); modality as the engine counts it
 * (ia_modality's values). */
typedef struct ia_media_part {
    int form, modality;
    unsigned char *data;
    size_t len;
    int w, h;
    int max_side; /* from `resolution`: the longer side's limit, 0 = none */
} ia_media_part;

/* A citation on a text item (the wire's `url_citation` annotation): the
 * byte range [start, end) of the text that the source at url supports.
 * title may be NULL. With place_id, a `place_citation` (google_maps):
 * the place named title, its id and page url. */
typedef struct ia_annotation {
    char *url, *title;
    int64_t start, end;
    char *place_id;
    bool file; /* a file_search chunk's document (url: its name): file_citation */
} ia_annotation;
void ia_annotations_free(ia_annotation *a, size_t n);
ia_annotation *ia_annotations_copy(const ia_annotation *a, size_t n);

typedef struct ia_content {
    ia_content_kind kind;
    /* TEXT: the text (valid UTF-8). FUNCTION_CALL: the arguments, a JSON
     * object as compact text. FUNCTION_RESULT: the result as compact JSON
     * text of the value the client sent (a string result is a JSON string).
     * THOUGHT: the reasoning, exactly as the model wrote it ("" on an item
     * decoded from a request until core opens its signature). */
    char *text;
    char *id;      /* FUNCTION_CALL: the call's id; FUNCTION_RESULT: call_id */
    char *name;    /* FUNCTION_*: the function's name (may be NULL on a result) */
    bool is_error; /* FUNCTION_RESULT */
    char *signature;   /* THOUGHT: the sealed reasoning (core/thought.c) */
    bool hide_summary; /* THOUGHT: thinking_summaries "none": no summary on the wire */
    /* Media (IMAGE ... DOCUMENT): text is the base64 `data` as sent (NULL
     * without), uri as sent, mime_type and resolution as sent (NULL when
     * absent); audio's sample_rate / channels (0 when absent); fetched is
     * the base64 of what an http(s) uri gave when it was sent, so a chain
     * replays the same bytes (stored, never on the wire). */
    char *uri, *mime_type, *resolution, *fetched;
    int64_t sample_rate, channels;
    /* Transient (core/media.c, never stored or copied): the item made ready
     * for the engine. */
    ia_media_part *parts;
    size_t n_parts;
    char *path; /* transient: the item's place in the request ("input[1]"), for errors */
    /* TOOL_CALL / TOOL_RESULT: which built-in tool. A call's id is `id`
     * and its text the `arguments` object as compact JSON ({"code": ...,
     * "language": "python"} for code_execution); a result's `id` is the
     * call_id, its text the wire `result` value as compact JSON (a JSON
     * string for code_execution), is_error as above. mcp_server: `name` is
     * the MCP tool's name and server_name the server's. google_search's
     * call: search_type ("web_search" ...; NULL when absent). A result's
     * `fetched`, when set, is what the model read of it (url_context: each
     * page's text), stored, never on the wire: a chain's later turns
     * render the same. */
    ia_builtin tool;
    char *server_name, *search_type;
    /* TEXT: the citations of a model's answer (google_search's sources). */
    ia_annotation *annotations;
    size_t n_annotations;
} ia_content;

typedef struct ia_turn {
    ia_role role;
    ia_content *items;
    size_t n;
} ia_turn;

typedef struct ia_conv {
    ia_turn *turns;
    size_t n;
} ia_conv;

void ia_turn_free(ia_turn *t);
void ia_content_parts_free(ia_content *c); /* the transient parts only */
void ia_content_clear(ia_content *c);      /* every member; zeroed */
void ia_conv_free(ia_conv *c);
/* Appends a text item to t (copying text). */
void ia_turn_add_text(ia_turn *t, const char *text, size_t len);
/* Appends a function_call / function_result item (copying the strings;
 * name may be NULL on a result) and returns it. */
ia_content *ia_turn_add_call(ia_turn *t, const char *id, const char *name, const char *arguments);
ia_content *ia_turn_add_result(ia_turn *t, const char *call_id, const char *name, const char *result_json,
                               bool is_error);
ia_content *ia_turn_add_thought(ia_turn *t, const char *reasoning, const char *signature, bool hide_summary);
/* Appends a built-in tool's call / result item (copying the strings; name
 * and server_name may be NULL) and returns it. */
ia_content *ia_turn_add_tool_call(ia_turn *t, ia_builtin tool, const char *id, const char *name,
                                  const char *arguments_json);
ia_content *ia_turn_add_tool_result(ia_turn *t, ia_builtin tool, const char *call_id, const char *name,
                                    const char *result_json, bool is_error);
/* Appends a new empty turn of the given role and returns it. */
ia_turn *ia_conv_add_turn(ia_conv *c, ia_role role);
/* Deep copies. ia_content_copy is exact (a NULL member stays NULL; the
 * transient parts are not copied); ia_turn_copy gives a non-media item
 * without text "". */
void ia_content_copy(ia_content *dst, const ia_content *src);
ia_content *ia_content_dup(const ia_content *src); /* malloc'd copy */
void ia_turn_copy(ia_turn *dst, const ia_turn *src);
void ia_conv_append_copy(ia_conv *dst, const ia_conv *src);

typedef enum {
    IA_STATUS_IN_PROGRESS = 0,
    IA_STATUS_REQUIRES_ACTION,
    IA_STATUS_COMPLETED,
    IA_STATUS_FAILED,
    IA_STATUS_CANCELLED,
    IA_STATUS_INCOMPLETE,
} ia_status;
const char *ia_status_name(ia_status s);
int ia_status_parse(const char *s); /* -1 if unknown */
bool ia_status_terminal(ia_status s);

/* Usage by modality: text, image, audio, video, document (the engine's
 * ia_modality order). */
#define IA_N_MODALITIES 5
const char *ia_modality_name(int m); /* "text", "image", ... */
enum { IA_MOD_BIT_TEXT = 1u << 0, IA_MOD_BIT_IMAGE = 1u << 1, IA_MOD_BIT_AUDIO = 1u << 2,
       IA_MOD_BIT_VIDEO = 1u << 3, IA_MOD_BIT_DOCUMENT = 1u << 4 };
typedef struct ia_usage {
    int64_t input, output, thought, cached, tool_use;
    int64_t search_calls; /* google_search calls run (grounding_tool_count) */
    int64_t maps_calls;   /* google_maps calls run (grounding_tool_count) */
    int64_t output_audio; /* of output: speech, 25 tokens a second of audio (as Gemini counts it) */
    int64_t input_by[IA_N_MODALITIES], cached_by[IA_N_MODALITIES];
} ia_usage;

/* generation_config.thinking_level; the default is high. */
typedef enum {
    IA_THINKING_MINIMAL = 0,
    IA_THINKING_LOW,
    IA_THINKING_MEDIUM,
    IA_THINKING_HIGH,
} ia_thinking_level;
const char *ia_thinking_level_name(ia_thinking_level l);
int ia_thinking_level_parse(const char *s); /* -1 if unknown */

/* generation_config.speech_config: the voices of speech output, as the
 * client gave them — the guide's single object {voice, language} or the
 * SDKs' list [{voice, language, speaker}] (one entry per speaker the
 * prompt names; at most IA_SPEECH_MAX_SPEAKERS, Gemini's limit). The
 * decoder (api/speech.c) has checked every entry: a known prebuilt voice
 * name (any case), a language the speech engine speaks, distinct speakers
 * (every entry names one when there are several). Each string is kept as
 * given (the steps dialect echoes it); NULL = not set (the engine's
 * default voice / language). */
#define IA_SPEECH_MAX_SPEAKERS 2
typedef struct ia_speech_entry {
    char *voice, *language, *speaker;
} ia_speech_entry;
typedef struct ia_speech_cfg {
    ia_speech_entry *v;
    size_t n;    /* 0 = no speech_config */
    bool listed; /* given as a list (else one object), for the echo */
} ia_speech_cfg;
void ia_speech_cfg_free(ia_speech_cfg *c);
/* Deep copy of src into dst (dst is overwritten, not freed first). */
void ia_speech_cfg_copy(ia_speech_cfg *dst, const ia_speech_cfg *src);
/* Image output settings, as the client gave them (canonical spellings;
 * "" = not given): generation_config.image_config, or an image response
 * format (SDK 3.x), which also carries mime_type and delivery. Plain
 * arrays, so a struct copy is a deep copy. upstream/images.h turns them
 * into a width and a height. */
typedef struct ia_image_cfg {
    bool set;             /* given at all ({} counts) */
    char aspect_ratio[8]; /* "1:1", "16:9", ... */
    char image_size[8];   /* "512", "1K", "2K", "4K" ("2k" is read as "2K") */
    char mime_type[16];   /* a format's: "image/png", "image/jpeg", "image/webp" */
    char delivery[8];     /* a format's: "inline" */
} ia_image_cfg;


/* generation_config as decoded; has_* tells what the client set. */
typedef struct ia_gen_config {
    bool has_temperature, has_top_p, has_top_k, has_seed, has_max_output_tokens;
    double temperature, top_p;
    int top_k;
    int64_t seed;
    int64_t max_output_tokens;
    char **stop; /* stop_sequences */
    size_t n_stop;
    bool has_thinking_level, has_thinking_summaries;
    ia_thinking_level thinking_level;
    bool thinking_summaries_none; /* thinking_summaries: "none" (else "auto") */
    ia_speech_cfg speech;         /* speech_config; speech.n == 0: not set */
    ia_image_cfg image;           /* image_config (image.set: given) */
} ia_gen_config;
void ia_gen_config_free(ia_gen_config *g);
/* Deep copy of src into dst (dst is overwritten, not freed first). */
void ia_gen_config_copy(ia_gen_config *dst, const ia_gen_config *src);
/* true when the client set any field. */
bool ia_gen_config_is_set(const ia_gen_config *g);

/* An audio response format's settings (SDK 3.x's AudioResponseFormat), as
 * given (0 / "" = not given); src/speech/audiofmt.h checks and resolves
 * them. Plain arrays: a struct copy is a deep copy. */
typedef struct ia_audio_fmt {
    bool set;            /* given at all ({type: "audio"} counts) */
    char mime_type[24];  /* "audio/l16", "audio/wav", "audio/mp3", "audio/ogg_opus", "audio/alaw", "audio/mulaw" */
    int64_t sample_rate; /* Hz */
    int64_t bit_rate;    /* bits a second: the compressed formats' */
    char delivery[8];    /* "inline" */
} ia_audio_fmt;

/* response_format as the client wrote it, kept for the steps dialect's
 * echo (the engine needs nothing but ia_request.grammar): which of the
 * wire's shapes it came in, and the text, image and audio formats' fields
 * as given. The video format never gets here: it is refused until that
 * output exists. */
typedef enum {
    IA_RFORMAT_NONE = 0,
    IA_RFORMAT_SCHEMA,    /* a bare JSON Schema (the guide's form) */
    IA_RFORMAT_TEXT,      /* one typed text format {type: "text", ...} */
    IA_RFORMAT_TEXT_LIST, /* a list of typed formats (the text one, the image one) */
    IA_RFORMAT_IMAGE,     /* one typed image format {type: "image", ...} */
    IA_RFORMAT_AUDIO,     /* one typed audio format {type: "audio", ...} */
} ia_rformat_shape;
typedef struct ia_rformat {
    ia_rformat_shape shape;
    char *mime_type; /* the text format's mime_type as given; NULL = absent */
    char *schema;    /* the JSON Schema as given (compact JSON); NULL = none */
    ia_image_cfg image; /* the image format's settings (image.set: one was given) */
    ia_audio_fmt audio; /* the audio format's settings (audio.set: one was given) */
    /* TEXT_LIST: the entries' types in list order, 't' text, 'i' image,
     * 'a' audio ("ti", "ta", ...); "" (rows from before images) is "t". */
    char list[4];
    /* response_modalities as the client asked them (IA_MOD_BIT_*; the
     * speech models' implied audio not added), for the echo; 0 = not given */
    unsigned modalities;
} ia_rformat;
void ia_rformat_free(ia_rformat *f);
/* Deep copy of src into dst (dst is overwritten, not freed first). */
void ia_rformat_copy(ia_rformat *dst, const ia_rformat *src);

/* A client function (tools[] of type "function"). */
typedef struct ia_tool {
    char *name, *description, *parameters;
} ia_tool;
void ia_tool_clear(ia_tool *t); /* every member; zeroed */

/* generation_config.tool_choice. `validated` is `auto` here: a call is
 * always grammar-bound to its schema. allowed_tools narrows the functions
 * (the decoder drops the others from ia_request.tools) with its own mode. */
typedef enum {
    IA_TOOL_CHOICE_AUTO = 0,
    IA_TOOL_CHOICE_ANY,  /* a call is required */
    IA_TOOL_CHOICE_NONE, /* no call */
    IA_TOOL_CHOICE_VALIDATED,
} ia_tool_choice;

/* mcp_server: one tool its server listed, offered to the model as the
 * function `fn` ("<server name>__<tool name>", tools/mcp.h). */
typedef struct ia_mcp_offer {
    char *fn, *tool, *description, *parameters; /* parameters: a JSON Schema */
} ia_mcp_offer;

/* A built-in tool a request offers (tools[] of a type ia_builtin names),
 * run by the server within the interaction's run. */
typedef struct ia_builtin_tool {
    ia_builtin type;
    unsigned search_types; /* google_search: IA_SEARCH_* bits as given; 0 = none named */
    /* google_maps: the user's latitude and longitude, when given (both) */
    bool has_location;
    double latitude, longitude;
    char *field; /* its place in the request ("tools[2]"), for messages; may be NULL */
    /* mcp_server (NULL / 0 for the other types): the request's settings,
     * headers as "Name: value" lines; allowed: the tool names
     * allowed_tools lets the model call (has_allowed false: all), denied
     * those its entries of mode "none" take out. */
    char *name, *url;
    char **headers;
    size_t n_headers;
    char **allowed, **denied;
    size_t n_allowed, n_denied;
    bool has_allowed;
    /* mcp_server: the tools its server lists, filtered, as offered (core
     * fills them when the interaction is created). */
    ia_mcp_offer *offers;
    size_t n_offers;
    /* file_search: the stores' ids (without "fileSearchStores/"), top_k
     * (0: the default), metadata_filter as given (NULL: none) */
    char **stores;
    size_t n_stores;
    int top_k;
    char *filter;
} ia_builtin_tool;
void ia_builtin_tool_clear(ia_builtin_tool *b); /* every member; zeroed */
/* google_search's search_types. */
enum { IA_SEARCH_WEB = 1, IA_SEARCH_IMAGE = 2, IA_SEARCH_ENTERPRISE = 4 };

/* A decoded create request (POST /interactions). */
typedef struct ia_request {
    char *model;  /* served model name; NULL with agent */
    char *agent;  /* an agent's name (core/agent.h); NULL with model. The
                   * record keeps it in ia_interaction.model */
    bool agent_summaries_none; /* agent_config.thinking_summaries: "none" */
    ia_conv input; /* the new input, normalized to turns */
    char *system_instruction;
    ia_gen_config gen;
    /* response_modalities: bit (1u << m) for each modality m asked
     * (ia_modality_name's order: text, image, audio, video, document), in
     * any case, repeats folded; 0 = not given (text). */
    unsigned modalities;
    bool stream, background, store;
    char *previous_interaction_id;
    /* Structured output: the request's response_format as checked and
     * normalized by src/schema/ (compact JSON), and the GBNF grammar built
     * from it that constrains the engine's sampling. Both NULL = free text. */
    char *response_format;
    char *grammar;
    ia_rformat rformat; /* response_format as given, for the record */
    /* Function calling: the client's functions (parameters: the checked
     * JSON Schema as compact JSON) and generation_config.tool_choice. */
    struct ia_tool *tools;
    size_t n_tools;
    ia_tool_choice tool_choice;
    /* Built-in tools (each type at most once), in the order given. */
    ia_builtin_tool *builtins;
    size_t n_builtins;
} ia_request;
void ia_request_free(ia_request *r);

/* A stored (or in-flight) interaction: one turn of a conversation. */
typedef struct ia_interaction {
    char id[80];
    char *owner; /* sha256 hex of the API key that made it; "" with auth off */
    char *model;
    char *previous_id;
    char *system_instruction;
    ia_status status;
    int64_t created, updated, expires; /* epoch seconds */
    bool background;
    ia_conv input;  /* this turn's new input only (history lives in the chain) */
    ia_turn output; /* role model; its items are the `outputs` */
    bool has_usage;
    ia_usage usage;
    char *error; /* message when failed; NULL otherwise */
    ia_errcode error_code; /* why it failed (the code the stream and a blocking
                            * create reported); IA_OK when not failed or not
                            * known (rows from before it was stored): read
                            * as IA_EINTERNAL */
    ia_gen_config gen; /* generation_config as the client set it (the steps
                        * dialect echoes it); not inherited along a chain */
    ia_rformat rformat; /* response_format as the client gave it (the steps
                         * dialect echoes it); not inherited along a chain */
} ia_interaction;
void ia_interaction_free(ia_interaction *it);

/* A stored interaction as a list shows it (store.h's ia_store_list). */
typedef struct ia_entry {
    char id[80];
    char *model, *previous_id; /* previous_id: NULL when none */
    char *title;               /* the input's first text, at most 100 bytes of whole UTF-8 characters; may be NULL */
    ia_status status;
    int64_t created, updated;
} ia_entry;
void ia_entries_free(ia_entry *v, size_t n); /* members and the array */
/* Deep copy of src into dst (dst is overwritten, not freed first). */
void ia_interaction_copy(ia_interaction *dst, const ia_interaction *src);

/* Stream events, dialect-free. The wire event_id is derived from (id, seq)
 * by api/; seq starts at 1 and is dense within one interaction. */
typedef enum {
    IA_EV_START = 0,     /* interaction.start / interaction.created */
    IA_EV_STATUS,        /* interaction.status_update: status */
    IA_EV_CONTENT_START, /* index, ckind, part */
    IA_EV_CONTENT_DELTA, /* index, ckind, text or part */
    IA_EV_CONTENT_STOP,  /* index */
    IA_EV_COMPLETE,      /* interaction.complete / interaction.completed */
    IA_EV_ERROR,         /* text = message, code = wire code */
} ia_event_kind;

/* A content event's typed payload is `part` (owned; NULL when none), an
 * ia_content whose kind is the event's ckind:
 * - a text block: START and plain DELTAs carry no part (a delta's piece is
 *   `text`); its citations come as one more DELTA before its STOP whose
 *   part (kind TEXT) holds only the annotations (ia_event_is_annotations);
 * - a thought (ckind THOUGHT): START's part is empty; each DELTA's part has
 *   either `text` (a piece of the summary) or `signature` set;
 * - a client's function call (ckind FUNCTION_CALL): START's part has id and
 *   name, its one DELTA's also `text` = the whole arguments (JSON text);
 * - a built-in tool's call or result (ckind TOOL_CALL / TOOL_RESULT): START
 *   and its one DELTA each carry the whole item, less `fetched` (what the
 *   model read is never on the wire; the interaction's output keeps it).
 * STOPs carry none; ERROR has text = message, code = wire code. api/ turns
 * parts into either dialect's frames; the store keeps them in its events
 * table as the neutral JSON its codec documents (store/codec.c). */
typedef struct ia_event {
    int64_t seq;
    ia_event_kind kind;
    int index;
    ia_status status;
    ia_content_kind ckind;
    char *text;
    char *code;
    ia_content *part;
} ia_event;
void ia_event_free(ia_event *e);
void ia_events_free(ia_event *evs, size_t n); /* frees members and the array */
/* Deep copy of src into dst (dst is overwritten, not freed first). */
void ia_event_copy(ia_event *dst, const ia_event *src);
/* Whether ev is a text block's citations (a DELTA whose part has annotations). */
bool ia_event_is_annotations(const ia_event *ev);
/* The output items an event log describes (model/events.c), appended to
 * out (role model): each CONTENT_START..CONTENT_STOP group becomes one item
 * (blocks do not interleave and their indexes ascend, so the order of the
 * log is the order of the outputs): a text's deltas concatenate and its
 * citations attach, a thought's summary pieces concatenate into its text
 * and its signature is set, a call's or a tool item's part is the item. A
 * block left open by the end of the log (a crash) is kept only when it is
 * a text with some text. For crash recovery: the store keeps the log. */
void ia_events_fold(const ia_event *evs, size_t n, ia_turn *out);

/* A Files API file (core/files.c; stored by store/files.c). Dialect-free:
 * api/files.c writes it as the API's camelCase `File`. An upload in
 * progress is a file in state UPLOADING, seen only through its upload id. */
typedef enum {
    IA_FILE_UPLOADING = 0, /* bytes still coming: not listed, not gettable */
    IA_FILE_PROCESSING,    /* all bytes in, being checked */
    IA_FILE_ACTIVE,        /* checked: usable */
    IA_FILE_FAILED,        /* checked and refused: `error` says why */
} ia_file_state;

/* An id ("abc-123", the name without "files/"): 1 to 40 of [a-z0-9-], no
 * dash first or last, as the API allows for a name the client picks. */
#define IA_FILE_ID_MAX 41
#define IA_FILE_UPLOAD_ID_MAX 48
typedef struct ia_file {
    char id[IA_FILE_ID_MAX];
    char upload_id[IA_FILE_UPLOAD_ID_MAX]; /* secret of the upload URL */
    char blob[48];      /* the blob's file name under DATA/files/ */
    char *owner;        /* as for interactions: hex SHA-256 of the key, or "" */
    char *display_name; /* NULL when none was given */
    char *mime_type;    /* as given (parameters kept) */
    ia_file_state state;
    int64_t declared;   /* bytes announced at start; -1 when not announced */
    int64_t size;       /* bytes received so far; the file's size once in */
    char sha256[65];    /* hex digest once processed; "" before */
    char *error;        /* FAILED: why; NULL otherwise */
    int64_t created, updated, expires; /* epoch seconds */
} ia_file;
void ia_file_free(ia_file *f);
/* Stored names of the states ("uploading", ...); -1 / NULL when unknown. */
const char *ia_file_state_name(ia_file_state s);
int ia_file_state_parse(const char *s);

#endif
