/* prompt.c: the conversation as chat messages for the engine (prompt.h).
 * This is where the content kinds meet the chat template's roles: text is
 * joined by blank lines per run of same-role turns (templates expect roles
 * to alternate), a model turn's function calls and reasoning ride on its
 * assistant message, and each function result becomes a `tool` message
 * named after the call it answers. */
#include "core/prompt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tools/mcp.h"

/* The conversation as engine messages, and the memory behind them. */

static const char *keep(ia_msgbuf *m, char *s) {
    m->strs = ia_xrealloc(m->strs, (m->n_strs + 1) * sizeof *m->strs);
    m->strs[m->n_strs++] = s;
    return s;
}

static ia_engine_msg *add_msg(ia_msgbuf *m, ia_msg_role role, const char *text) {
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->msgs = ia_xrealloc(m->msgs, m->cap * sizeof *m->msgs);
    }
    ia_engine_msg *e = &m->msgs[m->n++];
    memset(e, 0, sizeof *e);
    e->role = role;
    e->text = text;
    return e;
}

void ia_msgbuf_free(ia_msgbuf *m) {
    for (size_t i = 0; i < m->n_strs; i++) free(m->strs[i]);
    for (size_t i = 0; i < m->n_calls; i++) free(m->calls[i]);
    for (size_t i = 0; i < m->n_media; i++) free(m->media[i]);
    free(m->media);
    free(m->strs);
    free(m->calls);
    free(m->msgs);
    memset(m, 0, sizeof *m);
}

/* A prepared media part as the engine takes it (the bytes stay the
 * conversation's). */
static ia_engine_media as_engine(const ia_media_part *mp) {
    return (ia_engine_media){.modality = (ia_modality)mp->modality, .form = (ia_media_form)mp->form,
                             .data = mp->data, .len = mp->len, .width = mp->w, .height = mp->h,
                             .max_side = mp->max_side};
}

/* Whether a result is a list of content ({type, ...} parts): then each
 * image is read by core/media.c (every element of type "image"). */
static bool typed_list(json_t *v) {
    size_t i;
    json_t *part;
    json_array_foreach(v, i, part) if (json_is_string(json_object_get(part, "type"))) return true;
    return false;
}

/* A function result as the model reads it: a string as itself, a list of
 * content as its text parts' text, images where they are (marked) and any
 * other element as compact JSON, any other value as compact JSON. */
static char *result_text(const char *json, bool is_error) {
    json_t *v = json_loads(json ? json : "", JSON_DECODE_ANY, NULL);
    char *out = NULL;
    if (json_is_string(v)) {
        out = ia_strdup(json_string_value(v));
    } else if (typed_list(v)) {
        ia_buf b;
        ia_buf_init(&b, 0);
        size_t i;
        json_t *part;
        json_array_foreach(v, i, part) {
            const char *ty = json_string_value(json_object_get(part, "type"));
            char *dump = NULL;
            const char *t = ty && !strcmp(ty, "image") ? ia_engine_media_marker() /* core/media.c read it */
                          : ty && !strcmp(ty, "text") ? json_string_value(json_object_get(part, "text"))
                                                      : (dump = json_dumps(part, JSON_COMPACT | JSON_ENCODE_ANY));
            if (b.len) ia_buf_puts(&b, "\n");
            ia_buf_puts(&b, t ? t : "");
            free(dump);
        }
        out = ia_buf_take(&b);
        if (!out) out = ia_strdup("");
    } else {
        out = ia_strdup(json ? json : "");
    }
    json_decref(v);
    if (is_error) {
        char *e = ia_asprintf("error: %s", out);
        free(out);
        out = e;
    }
    return out;
}

/* A message being gathered from a run of same-role turns. */
typedef struct {
    ia_role role;
    ia_buf b;
    bool first; /* no text or media yet */
    ia_engine_call *calls;
    size_t n_calls;
    const char *reasoning;
    ia_engine_media *media;
    size_t n_media;
} pending;

static void pend_start(pending *p, ia_role role) {
    memset(p, 0, sizeof *p);
    p->role = role;
    p->first = true;
    ia_buf_init(&p->b, 0);
}

/* Adds the gathered message to m (when it says anything, or always for a
 * model turn's only message: a model may have answered nothing) and hands
 * its arrays over to m. */
static void pend_flush(ia_msgbuf *m, pending *p, bool only) {
    char *text = ia_buf_take(&p->b);
    if (!text) text = ia_strdup("");
    bool say = !p->first || p->n_calls || (p->role == IA_ROLE_MODEL && (p->reasoning || only));
    if (say) {
        ia_engine_msg *e = add_msg(m, p->role == IA_ROLE_MODEL ? IA_MSG_ASSISTANT : IA_MSG_USER, keep(m, text));
        e->calls = p->calls;
        e->n_calls = p->n_calls;
        e->media = p->media;
        e->n_media = p->n_media;
        if (p->role == IA_ROLE_MODEL) e->reasoning = p->reasoning;
    } else {
        free(text);
    }
    if (p->media) {
        m->media = ia_xrealloc(m->media, (m->n_media + 1) * sizeof *m->media);
        m->media[m->n_media++] = p->media;
    }
    if (p->calls) {
        m->calls = ia_xrealloc(m->calls, (m->n_calls + 1) * sizeof *m->calls);
        m->calls[m->n_calls++] = p->calls;
    }
    ia_role role = p->role;
    pend_start(p, role);
}

/* A function result as a tool message named after the call it answers,
 * with its images. */
static void add_result(ia_msgbuf *m, const ia_conv *conv, const ia_content *c) {
    const char *name = c->name;
    for (size_t a = 0; !name && a < conv->n; a++) /* named after its call */
        for (size_t q = 0; q < conv->turns[a].n; q++)
            if (conv->turns[a].items[q].kind == IA_CONTENT_FUNCTION_CALL &&
                strcmp(conv->turns[a].items[q].id, c->id) == 0)
                name = conv->turns[a].items[q].name;
    ia_engine_msg *e = add_msg(m, IA_MSG_TOOL, keep(m, result_text(c->text, c->is_error)));
    e->call_id = c->id;
    e->name = name;
    if (c->n_parts) { /* its images, where result_text marked them */
        ia_engine_media *rm = ia_xcalloc(c->n_parts, sizeof *rm);
        for (size_t p = 0; p < c->n_parts; p++) rm[p] = as_engine(&c->parts[p]);
        e->media = rm;
        e->n_media = c->n_parts;
        m->media = ia_xrealloc(m->media, (m->n_media + 1) * sizeof *m->media);
        m->media[m->n_media++] = rm;
    }
}

/* The function a built-in tool's call or result was offered as: the
 * tool's name, or an mcp_server tool's "<server>__<tool>" (tools/mcp.h;
 * a result sent back without its names is named after its call). */
static const char *tool_fn_name(ia_msgbuf *m, const ia_conv *conv, const ia_content *c) {
    for (size_t a = 0; c->tool == IA_BUILTIN_MCP_SERVER && !(c->name && c->server_name) && a < conv->n; a++)
        for (size_t q = 0; q < conv->turns[a].n; q++) /* a result sent back bare: its call's names */
            if (conv->turns[a].items[q].kind == IA_CONTENT_TOOL_CALL && c->id &&
                strcmp(conv->turns[a].items[q].id, c->id) == 0)
                c = &conv->turns[a].items[q];
    if (c->tool != IA_BUILTIN_MCP_SERVER || !c->name || !c->server_name) return ia_builtin_name(c->tool);
    return keep(m, ia_mcp_fn_name(c->server_name, c->name));
}

/* One item into the message being gathered (p) or, for results, as tool
 * messages of their own. */
static void add_item_msg(ia_msgbuf *m, const ia_conv *conv, pending *p, const ia_content *c, bool *flushed) {
    if (c->kind == IA_CONTENT_FUNCTION_CALL || c->kind == IA_CONTENT_TOOL_CALL) {
        /* a built-in tool's call is offered and called as a function of its name */
        const char *name = c->kind == IA_CONTENT_TOOL_CALL ? tool_fn_name(m, conv, c) : c->name;
        p->calls = ia_xrealloc(p->calls, (p->n_calls + 1) * sizeof *p->calls);
        p->calls[p->n_calls++] = (ia_engine_call){c->id, name, c->text};
    } else if (c->kind == IA_CONTENT_THOUGHT) {
        if (c->text && *c->text) p->reasoning = c->text; /* the turn's (last) reasoning */
    } else if (c->kind == IA_CONTENT_FUNCTION_RESULT) {
        add_result(m, conv, c);
    } else if (c->kind == IA_CONTENT_TOOL_RESULT) {
        /* within a model turn: the calls so far go first, the result
         * answers them, what the model wrote after comes in a new message */
        pend_flush(m, p, false);
        *flushed = true;
        /* what the tool gave the model (a page's text) when it is more than the wire result */
        char *t = c->fetched ? ia_strdup(c->fetched) : result_text(c->text, c->is_error);
        ia_engine_msg *e = add_msg(m, IA_MSG_TOOL, keep(m, t));
        e->call_id = c->id;
        e->name = tool_fn_name(m, conv, c);
    } else if (ia_content_is_media(c->kind)) {
        /* each part where it was sent, marked for the engine */
        for (size_t k = 0; k < c->n_parts; k++) {
            if (!p->first) ia_buf_puts(&p->b, "\n\n");
            ia_buf_puts(&p->b, ia_engine_media_marker());
            p->first = false;
            p->media = ia_xrealloc(p->media, (p->n_media + 1) * sizeof *p->media);
            p->media[p->n_media++] = as_engine(&c->parts[k]);
        }
    } else {
        if (!p->first) ia_buf_puts(&p->b, "\n\n");
        ia_buf_puts(&p->b, c->text ? c->text : "");
        p->first = false;
    }
}

/* The conversation as engine messages: the system instruction first, then
 * one message per run of same-role turns (chat templates expect roles to
 * alternate; several user turns in a row are one user message), text items
 * joined by blank lines. A model turn's calls go with its message (a
 * built-in tool's results, which the run wrote into the model turn after
 * its calls, as tool messages between its assistant messages); a user
 * turn's function results become tool messages (named after their call),
 * ahead of its text. */
void ia_prompt_messages(const char *system, const ia_conv *conv, ia_msgbuf *m) {
    if (system) add_msg(m, IA_MSG_SYSTEM, keep(m, ia_strdup(system)));
    for (size_t i = 0; i < conv->n;) {
        pending p;
        pend_start(&p, conv->turns[i].role);
        bool flushed = false;
        for (; i < conv->n && conv->turns[i].role == p.role; i++)
            for (size_t k = 0; k < conv->turns[i].n; k++) add_item_msg(m, conv, &p, &conv->turns[i].items[k], &flushed);
        pend_flush(m, &p, !flushed);
        ia_buf_free(&p.b);
    }
}

/* Every function result must answer a call of this conversation. */
int ia_prompt_check_results(const ia_conv *conv, ia_err *err) {
    for (size_t i = 0; i < conv->n; i++)
        for (size_t k = 0; k < conv->turns[i].n; k++) {
            const ia_content *r = &conv->turns[i].items[k];
            if (r->kind != IA_CONTENT_FUNCTION_RESULT) continue;
            bool found = false;
            for (size_t a = 0; a < conv->n && !found; a++)
                for (size_t q = 0; q < conv->turns[a].n && !found; q++)
                    found = conv->turns[a].items[q].kind == IA_CONTENT_FUNCTION_CALL &&
                            strcmp(conv->turns[a].items[q].id, r->id) == 0;
            if (!found)
                return ia_fail(err, IA_EINVALID,
                               "input: function_result call_id '%s' matches no function_call of this "
                               "conversation", r->id);
        }
    return 0;
}

