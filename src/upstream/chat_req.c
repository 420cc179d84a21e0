/* chat_req: the body of POST /v1/chat/completions for a job (chat_int.h),
 * in OpenAI's shape, which llama-server, vLLM, Ollama and SGLang read. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/chat_int.h"

/* A message's text with each media marker replaced by its part's text (a
 * document's), or dropped (other media do not come here). */
static json_t *text_of(const ia_engine_msg *m) {
    const char *t = m->text ? m->text : "";
    if (!m->n_media) return json_string(t);
    const char *mark = ia_engine_media_marker();
    size_t ml = strlen(mark), k = 0;
    ia_buf b;
    ia_buf_init(&b, 0);
    for (const char *at; (at = strstr(t, mark));) {
        ia_buf_append(&b, t, (size_t)(at - t));
        if (k < m->n_media && m->media[k].form == IA_EMEDIA_TEXT)
            ia_buf_append(&b, m->media[k].data, m->media[k].len);
        k++;
        t = at + ml;
    }
    ia_buf_puts(&b, t);
    json_t *s = json_stringn(b.data, b.len);
    ia_buf_free(&b);
    return s ? s : json_string("");
}

static json_t *calls_of(const ia_engine_msg *m) {
    json_t *a = json_array();
    for (size_t i = 0; i < m->n_calls; i++) {
        const ia_engine_call *c = &m->calls[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", c->id ? c->id : "", "type", "function", "function",
                         "name", c->name ? c->name : "", "arguments", c->arguments ? c->arguments : "{}"));
    }
    return a;
}

static json_t *message(const ia_engine_msg *m) {
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    json_t *o = json_pack("{s:s}", "role", roles[m->role]);
    if (m->role == IA_MSG_ASSISTANT) {
        /* an assistant turn of calls only has no text: null, as OpenAI writes it */
        json_object_set_new(o, "content", m->text && *m->text ? text_of(m) : json_null());
        if (m->reasoning && *m->reasoning) json_object_set_new(o, "reasoning_content", json_string(m->reasoning));
        if (m->n_calls) json_object_set_new(o, "tool_calls", calls_of(m));
        return o;
    }
    json_object_set_new(o, "content", text_of(m));
    if (m->role == IA_MSG_TOOL) json_object_set_new(o, "tool_call_id", json_string(m->call_id ? m->call_id : ""));
    return o;
}

/* A JSON text as a value; not JSON (never from core, which checked it):
 * the empty object. */
static json_t *parsed(const char *s) {
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : json_object();
}

static json_t *tools_of(const ia_engine_params *p) {
    json_t *a = json_array();
    for (size_t i = 0; i < p->n_tools; i++) {
        const ia_engine_tool *t = &p->tools[i];
        json_t *fn = json_pack("{s:s}", "name", t->name ? t->name : "");
        if (t->description && *t->description) json_object_set_new(fn, "description", json_string(t->description));
        json_object_set_new(fn, "parameters", parsed(t->parameters));
        json_array_append_new(a, json_pack("{s:s, s:o}", "type", "function", "function", fn));
    }
    return a;
}

static void sampling(json_t *o, const ia_engine_params *p) {
    if (p->has_temperature) json_object_set_new(o, "temperature", json_real(p->temperature));
    if (p->has_top_p) json_object_set_new(o, "top_p", json_real(p->top_p));
    /* not OpenAI's, but llama-server, vLLM, Ollama and SGLang read it */
    if (p->has_top_k) json_object_set_new(o, "top_k", json_integer(p->top_k));
    if (p->has_seed) json_object_set_new(o, "seed", json_integer((json_int_t)(p->seed & INT64_MAX)));
    if (p->max_tokens > 0) json_object_set_new(o, "max_tokens", json_integer(p->max_tokens));
    if (p->n_stop) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n_stop; i++) json_array_append_new(a, json_string(p->stop[i] ? p->stop[i] : ""));
        json_object_set_new(o, "stop", a);
    }
    /* thinking off (thinking_level minimal): the chat templates' switch,
     * which llama-server, vLLM and SGLang pass to the template */
    if (p->thinking_budget < 0)
        json_object_set_new(o, "chat_template_kwargs", json_pack("{s:b}", "enable_thinking", 0));
}

char *ia_upchat_body(const ia_upstream *u, const ia_engine_msg *msgs, size_t n, const ia_engine_params *p) {
    json_t *ms = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(ms, message(&msgs[i]));
    json_t *o = json_pack("{s:s, s:o, s:b, s:{s:b}}", "model", u->remote_model ? u->remote_model : u->name,
                          "messages", ms, "stream", 1, "stream_options", "include_usage", 1);
    sampling(o, p);
    if (p->n_tools) {
        json_object_set_new(o, "tools", tools_of(p));
        static const char *const choice[] = {[IA_TOOLS_AUTO] = "auto", [IA_TOOLS_REQUIRED] = "required",
                                             [IA_TOOLS_NONE] = "none"};
        json_object_set_new(o, "tool_choice", json_string(choice[p->tool_choice]));
        /* Gemini's models may answer with several calls at once; OpenAI's
         * default says so too, but llama-server's is false (one call). */
        json_object_set_new(o, "parallel_tool_calls", json_true());
    }
    if (p->json_schema)
        json_object_set_new(o, "response_format",
                            json_pack("{s:s, s:{s:s, s:o, s:b}}", "type", "json_schema", "json_schema", "name",
                                      "response", "schema", parsed(p->json_schema), "strict", 1));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
