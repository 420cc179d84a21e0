/* chatwire: the client side of the wire for `interactd chat` (cli/chat.c):
 * the create body it sends, the SSE stream it reads back (legacy dialect:
 * the chat pins it with Api-Revision), split into frames and decoded into
 * the few things a terminal shows, and the message of an error body.
 * Everything it parses comes from the network: any bytes are safe input
 * (tests/fuzz/chatwire.c). Returned strings are malloc'd. */
#ifndef IA_API_CHATWIRE_H
#define IA_API_CHATWIRE_H

#include <stdbool.h>
#include <stddef.h>

/* The Api-Revision the chat sends: a date before the steps dialect's. */
#define IA_CHATWIRE_REVISION "2025-12-01"

typedef struct ia_chat_req {
    const char *model;       /* required */
    const char *input;       /* the user's text, required */
    const char *system;      /* system_instruction, or NULL */
    const char *previous_id; /* previous_interaction_id, or NULL */
    long max_output_tokens;  /* 0: the server's default */
    double temperature;      /* < 0: the server's default */
    bool stream;
} ia_chat_req;

/* The JSON body of a create; NULL only when model or input is missing. */
char *ia_chatwire_request(const ia_chat_req *r);

typedef enum {
    IA_CHATEV_OTHER = 0, /* nothing a terminal shows (content.start/stop, signature, ...) */
    IA_CHATEV_START,     /* interaction.start: id */
    IA_CHATEV_TEXT,      /* a text delta: text */
    IA_CHATEV_THOUGHT,   /* a thought summary delta: text */
    IA_CHATEV_CALL,      /* a function or tool call/result delta: text = "name args" (JSON) */
    IA_CHATEV_STATUS,    /* interaction.status_update: status */
    IA_CHATEV_COMPLETE,  /* interaction.complete: id, status */
    IA_CHATEV_ERROR,     /* error: text = the message */
    IA_CHATEV_BAD,       /* the data is not a JSON object with event_type */
} ia_chatev_kind;

typedef struct ia_chatev {
    ia_chatev_kind kind;
    char *id;     /* START, COMPLETE */
    char *status; /* STATUS, COMPLETE */
    char *text;   /* TEXT, THOUGHT, CALL, ERROR */
} ia_chatev;

/* Decodes one frame's data (the JSON after `data:`); "[DONE]" is OTHER. */
void ia_chatwire_event(const char *data, size_t len, ia_chatev *out);
void ia_chatev_free(ia_chatev *ev);

/* An SSE reader: bytes in (any split), each complete frame's data out (its
 * data: lines joined with '\n'). Frames end at a blank line (LF or CRLF);
 * comment lines (": ping") and other fields are skipped. */
typedef struct ia_sse_reader {
    char *buf;
    size_t len, cap;
} ia_sse_reader;
typedef void (*ia_sse_frame_fn)(void *ud, const char *data, size_t len);
/* Feeds n bytes; calls fn for each frame they complete. -1 when a frame
 * grows past max_frame bytes (the reader is then reset). */
int ia_sse_feed(ia_sse_reader *r, const char *bytes, size_t n, size_t max_frame, ia_sse_frame_fn fn, void *ud);
void ia_sse_reader_free(ia_sse_reader *r);

/* The message of an error body ({"error": {"message"}}), or NULL. */
char *ia_chatwire_error_message(const char *body, size_t len);

#endif
