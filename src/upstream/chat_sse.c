/* chat_sse: an OpenAI chat completions answer read as it arrives
 * (chat_int.h). The SSE framing (lines ending LF, CRLF or CR; `data:`
 * fields joined by LF; an event ends at a blank line; comments and other
 * fields ignored) is undone here, and each event's chunk read into the
 * answer: choices[0].delta.{reasoning_content (or reasoning), content,
 * tool_calls[]}, choices[0].finish_reason, usage, error. Outside bytes: every field is
 * type-checked, sizes are bounded. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/chat_int.h"

#define LINE_MAX_BYTES ((size_t)8 << 20)
#define ANSWER_MAX_BYTES ((size_t)64 << 20)
#define CALLS_MAX 128

void ia_upchat_answer_init(ia_upchat_answer *a) {
    memset(a, 0, sizeof *a);
    ia_buf_init(&a->reasoning, ANSWER_MAX_BYTES);
    ia_buf_init(&a->content, ANSWER_MAX_BYTES);
    ia_buf_init(&a->line, LINE_MAX_BYTES);
    ia_buf_init(&a->data, LINE_MAX_BYTES);
    ia_buf_init(&a->doc, ANSWER_MAX_BYTES);
}

void ia_upchat_answer_free(ia_upchat_answer *a) {
    ia_buf_free(&a->reasoning);
    ia_buf_free(&a->content);
    ia_buf_free(&a->line);
    ia_buf_free(&a->data);
    ia_buf_free(&a->doc);
    for (size_t i = 0; i < a->n_calls; i++) {
        free(a->calls[i].id);
        free(a->calls[i].name);
        ia_buf_free(&a->calls[i].args);
    }
    free(a->calls);
    free(a->error);
    memset(a, 0, sizeof *a);
}

static int bad(ia_err *err, const char *who, const char *what) {
    return ia_fail(err, IA_EUPSTREAM, "upstream '%s': %s", who, what);
}

/* A text delta: NUL bytes dropped (the item stream carries none), appended,
 * handed on. */
static int add_text(ia_upchat_answer *a, bool reasoning, json_t *v, const char *who, ia_err *err) {
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return bad(err, who, "a delta's content is not a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char *clean = NULL;
    if (memchr(s, '\0', n)) {
        clean = ia_xmalloc(n + 1);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i]) clean[k++] = s[i];
        s = clean;
        n = k;
    }
    int rc = 0;
    if (n) {
        if (ia_buf_append(reasoning ? &a->reasoning : &a->content, s, n) != 0) {
            rc = bad(err, who, "the answer is too long");
        } else {
            a->n_deltas++;
            a->n_reasoning_deltas += reasoning;
            if (a->on_delta && a->on_delta(a->ud, reasoning, s, n)) rc = 1;
        }
    }
    free(clean);
    return rc;
}

static int opt_string(json_t *o, const char *key, const char **out, const char *who, ia_err *err) {
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return ia_fail(err, IA_EUPSTREAM, "upstream '%s': a call's %s is not a string", who, key);
    *out = json_string_value(v);
    return 0;
}

/* One tool_calls[] entry: its index picks the call; id and name set it
 * (the first delta), arguments grow it. A whole answer's calls have no
 * index: their place is. */
static int add_call(ia_upchat_answer *a, json_t *tc, size_t place, const char *who, ia_err *err) {
    if (!json_is_object(tc)) return bad(err, who, "a tool_calls entry is not an object");
    json_t *ix = json_object_get(tc, "index");
    json_int_t idx = ix ? (json_is_integer(ix) ? json_integer_value(ix) : -1) : (json_int_t)place;
    if (idx < 0 || idx >= CALLS_MAX) return bad(err, who, "a tool call's index is not a small whole number");
    while (a->n_calls <= (size_t)idx) {
        a->calls = ia_xrealloc(a->calls, (a->n_calls + 1) * sizeof *a->calls);
        ia_upchat_call *c = &a->calls[a->n_calls++];
        memset(c, 0, sizeof *c);
        ia_buf_init(&c->args, ANSWER_MAX_BYTES);
    }
    ia_upchat_call *c = &a->calls[idx];
    json_t *fn = json_object_get(tc, "function");
    if (fn && !json_is_object(fn)) return bad(err, who, "a tool call's function is not an object");
    const char *id, *name = NULL, *args = NULL;
    if (opt_string(tc, "id", &id, who, err) || (fn && opt_string(fn, "name", &name, who, err)) ||
        (fn && opt_string(fn, "arguments", &args, who, err)))
        return -1;
    if (id && *id && !c->id) c->id = ia_strdup(id);
    if (name && *name) {
        if (!c->name) c->name = ia_strdup(name);
        else if (strcmp(c->name, name) != 0) { /* a few engines repeat it; a different one is an error */
            return bad(err, who, "a tool call's name changed midway");
        }
    }
    if (args && ia_buf_puts(&c->args, args) != 0) return bad(err, who, "a tool call's arguments are too long");
    return 0;
}

static void set_error(ia_upchat_answer *a, json_t *e) {
    json_t *m = json_is_object(e) ? json_object_get(e, "message") : e;
    const char *s = json_is_string(m) ? json_string_value(m) : "the engine reported an error";
    size_t n = strlen(s) > 300 ? ia_utf8_complete_prefix(s, 300) : strlen(s);
    a->error = ia_utf8_sanitize(s, n);
    for (char *p = a->error; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
}

static int64_t count(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : 0;
}

static void read_usage(ia_upchat_answer *a, json_t *u) {
    if (!json_is_object(u)) return;
    a->has_usage = true;
    a->prompt = count(u, "prompt_tokens");
    a->completion = count(u, "completion_tokens");
    json_t *d = json_object_get(u, "prompt_tokens_details");
    a->cached = json_is_object(d) ? count(d, "cached_tokens") : 0;
    d = json_object_get(u, "completion_tokens_details");
    a->reasoning_tokens = json_is_object(d) ? count(d, "reasoning_tokens") : 0;
}

/* One chunk (or, whole, the document: `message` in place of `delta`). */
static int read_chunk(ia_upchat_answer *a, json_t *j, bool whole, const char *who, ia_err *err) {
    if (!json_is_object(j)) return bad(err, who, "a chunk of the answer is not a JSON object");
    json_t *e = json_object_get(j, "error");
    if (e && !json_is_null(e)) {
        set_error(a, e);
        return 0;
    }
    json_t *ob = json_object_get(j, "object"); /* older vLLM: {"object": "error", "message": ...} */
    if (json_is_string(ob) && strcmp(json_string_value(ob), "error") == 0) {
        set_error(a, j);
        return 0;
    }
    read_usage(a, json_object_get(j, "usage"));
    json_t *ch = json_object_get(j, "choices");
    if (ch && !json_is_array(ch)) return bad(err, who, "choices is not an array");
    json_t *c0 = json_array_get(ch, 0);
    if (!c0) return 0; /* the usage chunk has no choice */
    if (!json_is_object(c0)) return bad(err, who, "a choice is not an object");
    json_t *fr = json_object_get(c0, "finish_reason");
    if (json_is_string(fr)) snprintf(a->finish, sizeof a->finish, "%s", json_string_value(fr));
    json_t *d = json_object_get(c0, whole ? "message" : "delta");
    if (!d || json_is_null(d)) return 0;
    if (!json_is_object(d)) return bad(err, who, "a choice's delta is not an object");
    /* llama-server, SGLang and older vLLM say reasoning_content; Ollama and newer vLLM reasoning */
    json_t *r = json_object_get(d, "reasoning_content");
    int rc = add_text(a, true, r && !json_is_null(r) ? r : json_object_get(d, "reasoning"), who, err);
    if (rc == 0) rc = add_text(a, false, json_object_get(d, "content"), who, err);
    json_t *tcs = json_object_get(d, "tool_calls");
    if (rc >= 0 && tcs && !json_is_null(tcs)) {
        if (!json_is_array(tcs)) return bad(err, who, "tool_calls is not an array");
        for (size_t i = 0; i < json_array_size(tcs); i++)
            if (add_call(a, json_array_get(tcs, i), i, who, err) != 0) return -1;
    }
    return rc;
}

static int parse_and_read(ia_upchat_answer *a, const char *s, size_t n, bool whole, const char *who, ia_err *err) {
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, NULL); /* a NUL is valid JSON: dropped (add_text) */
    if (!j) return bad(err, who, whole ? "the answer is not JSON" : "an event's data is not JSON");
    int rc = read_chunk(a, j, whole, who, err);
    json_decref(j);
    if (rc == 0 && whole) a->done = true;
    return rc;
}

/* The event's data is whole (a blank line, or the body's end). */
static int dispatch(ia_upchat_answer *a, const char *who, ia_err *err) {
    if (!a->started) return 0;
    a->started = false;
    const char *s = a->data.data;
    size_t n = a->data.len;
    int rc = 0;
    if (n == 6 && memcmp(s, "[DONE]", 6) == 0) a->done = true;
    else if (n) rc = parse_and_read(a, s, n, false, who, err);
    a->data.len = 0;
    return rc;
}

/* One line (without its end). */
static int line(ia_upchat_answer *a, const char *s, size_t n, const char *who, ia_err *err) {
    if (n == 0) return dispatch(a, who, err);
    if (s[0] == ':') return 0; /* a comment (keep-alive) */
    const char *colon = memchr(s, ':', n);
    size_t fn = colon ? (size_t)(colon - s) : n;
    if (fn != 4 || memcmp(s, "data", 4) != 0) return 0; /* event:, id:, retry: have no part here */
    const char *v = colon ? colon + 1 : s + n;
    if (v < s + n && *v == ' ') v++;
    if (a->started && ia_buf_append(&a->data, "\n", 1) != 0) return bad(err, who, "an event is too long");
    a->started = true;
    if (ia_buf_append(&a->data, v, (size_t)(s + n - v)) != 0) return bad(err, who, "an event is too long");
    return 0;
}

int ia_upchat_feed(ia_upchat_answer *a, const char *p, size_t n, const char *who, ia_err *err) {
    for (size_t i = 0; i < n; i++) {
        if (a->done || a->error) return 0;
        if (!a->begun) { /* the first byte decides: one JSON document, or a stream */
            a->begun = true;
            a->whole = p[i] == '{';
        }
        if (a->whole) {
            if (ia_buf_append(&a->doc, p + i, n - i) != 0) return bad(err, who, "the answer is too long");
            return 0;
        }
        char ch = p[i];
        if (ch == '\n' && a->cr) { /* the LF of a CRLF */
            a->cr = false;
            continue;
        }
        a->cr = ch == '\r';
        if (ch == '\n' || ch == '\r') {
            int rc = line(a, a->line.data, a->line.len, who, err);
            a->line.len = 0;
            if (rc != 0) return rc;
            continue;
        }
        if (ia_buf_append(&a->line, &ch, 1) != 0) return bad(err, who, "a line of the stream is too long");
    }
    return 0;
}

int ia_upchat_end(ia_upchat_answer *a, const char *who, ia_err *err) {
    if (a->done || a->error) return 0;
    if (a->whole) return parse_and_read(a, a->doc.data, a->doc.len, true, who, err);
    if (a->line.len) {
        int rc = line(a, a->line.data, a->line.len, who, err);
        a->line.len = 0;
        if (rc != 0) return rc;
    }
    return dispatch(a, who, err);
}
