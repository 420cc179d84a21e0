/* chatwire: see chatwire.h. */
#include "api/chatwire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

char *ia_chatwire_request(const ia_chat_req *r) {
    if (!r || !r->model || !r->input) return NULL;
    /* jansson takes UTF-8 only; another encoding would drop the field */
    const char *strs[] = {r->model, r->input, r->system, r->previous_id};
    for (size_t i = 0; i < 4; i++)
        if (strs[i] && !ia_utf8_valid(strs[i], strlen(strs[i]))) return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(r->model));
    json_object_set_new(o, "input", json_string(r->input));
    if (r->system && *r->system) json_object_set_new(o, "system_instruction", json_string(r->system));
    if (r->previous_id && *r->previous_id)
        json_object_set_new(o, "previous_interaction_id", json_string(r->previous_id));
    json_t *gc = json_object();
    if (r->max_output_tokens > 0)
        json_object_set_new(gc, "max_output_tokens", json_integer((json_int_t)r->max_output_tokens));
    if (r->temperature >= 0) json_object_set_new(gc, "temperature", json_real(r->temperature));
    if (json_object_size(gc)) json_object_set(o, "generation_config", gc);
    json_decref(gc);
    if (r->stream) json_object_set_new(o, "stream", json_true());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static char *dup_str(json_t *v) {
    const char *s = json_string_value(v);
    return s ? ia_strdup(s) : NULL;
}

/* A call or tool delta as one line: its name (or type) and its arguments
 * or result, compact. */
static char *call_line(json_t *d) {
    const char *type = json_string_value(json_object_get(d, "type"));
    const char *name = json_string_value(json_object_get(d, "name"));
    json_t *what = json_object_get(d, "arguments");
    if (!what) what = json_object_get(d, "result");
    char *body = what ? json_dumps(what, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *line = ia_asprintf("%s%s%s %s", type ? type : "call", name ? " " : "", name ? name : "",
                             body ? body : "");
    free(body);
    return line;
}

static void delta(json_t *d, ia_chatev *out) {
    const char *type = json_string_value(json_object_get(d, "type"));
    if (!type) return;
    if (!strcmp(type, "text")) {
        out->kind = IA_CHATEV_TEXT;
        out->text = dup_str(json_object_get(d, "text"));
    } else if (!strcmp(type, "thought_summary")) {
        out->kind = IA_CHATEV_THOUGHT;
        out->text = dup_str(json_object_get(json_object_get(d, "content"), "text"));
    } else if (strstr(type, "_call") || strstr(type, "_result")) {
        out->kind = IA_CHATEV_CALL;
        out->text = call_line(d);
    }
}

void ia_chatwire_event(const char *data, size_t len, ia_chatev *out) {
    memset(out, 0, sizeof *out);
    if (len == 6 && !memcmp(data, "[DONE]", 6)) return;
    json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(o, "event_type"));
    if (!json_is_object(o) || !type) {
        out->kind = IA_CHATEV_BAD;
        json_decref(o);
        return;
    }
    json_t *it = json_object_get(o, "interaction");
    if (!strcmp(type, "interaction.start")) {
        out->kind = IA_CHATEV_START;
        out->id = dup_str(json_object_get(it, "id"));
    } else if (!strcmp(type, "interaction.complete")) {
        out->kind = IA_CHATEV_COMPLETE;
        out->id = dup_str(json_object_get(it, "id"));
        out->status = dup_str(json_object_get(it, "status"));
    } else if (!strcmp(type, "interaction.status_update")) {
        out->kind = IA_CHATEV_STATUS;
        out->status = dup_str(json_object_get(o, "status"));
    } else if (!strcmp(type, "error")) {
        out->kind = IA_CHATEV_ERROR;
        out->text = dup_str(json_object_get(json_object_get(o, "error"), "message"));
        if (!out->text) out->text = ia_strdup("error (no message)");
    } else if (!strcmp(type, "content.delta")) {
        delta(json_object_get(o, "delta"), out);
    }
    json_decref(o);
}

void ia_chatev_free(ia_chatev *ev) {
    if (!ev) return;
    free(ev->id);
    free(ev->status);
    free(ev->text);
    memset(ev, 0, sizeof *ev);
}

/* ---- SSE ------------------------------------------------------------------- */

/* One frame's lines (CR already stripped by the caller's split): data: values joined. */
static void emit(const char *f, size_t n, ia_sse_frame_fn fn, void *ud) {
    char *data = ia_xmalloc(n + 1);
    size_t dl = 0;
    bool any = false;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(f + i, '\n', n - i);
        size_t ll = nl ? (size_t)(nl - (f + i)) : n - i;
        const char *line = f + i;
        if (ll && line[ll - 1] == '\r') ll--;
        if (ll >= 5 && !memcmp(line, "data:", 5)) {
            size_t skip = ll > 5 && line[5] == ' ' ? 6 : 5;
            if (any) data[dl++] = '\n';
            memcpy(data + dl, line + skip, ll - skip);
            dl += ll - skip;
            any = true;
        }
        i += (nl ? (size_t)(nl - (f + i)) + 1 : n - i);
    }
    data[dl] = '\0';
    if (any) fn(ud, data, dl);
    free(data);
}

/* The end of the first frame in b[0..n): the offset just past its blank
 * line, or 0 when none is complete yet. */
static size_t frame_end(const char *b, size_t n, size_t *flen) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (b[i] != '\n') continue;
        size_t j = i + 1;
        if (j < n && b[j] == '\r') j++;
        if (j < n && b[j] == '\n') {
            *flen = i;
            return j + 1;
        }
    }
    return 0;
}

int ia_sse_feed(ia_sse_reader *r, const char *bytes, size_t n, size_t max_frame, ia_sse_frame_fn fn, void *ud) {
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n + 1) cap *= 2;
        r->buf = ia_xrealloc(r->buf, cap);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, bytes, n);
    r->len += n;
    size_t used = 0, flen = 0, end;
    while ((end = frame_end(r->buf + used, r->len - used, &flen)) > 0) {
        emit(r->buf + used, flen, fn, ud);
        used += end;
    }
    memmove(r->buf, r->buf + used, r->len - used);
    r->len -= used;
    if (r->len > max_frame) {
        r->len = 0;
        return -1;
    }
    return 0;
}

void ia_sse_reader_free(ia_sse_reader *r) {
    free(r->buf);
    memset(r, 0, sizeof *r);
}

char *ia_chatwire_error_message(const char *body, size_t len) {
    json_t *o = json_loadb(body, len, 0, NULL);
    char *m = dup_str(json_object_get(json_object_get(o, "error"), "message"));
    json_decref(o);
    return m;
}
