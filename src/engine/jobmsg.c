/* jobmsg.c: deep copies of what a job carries into the chat shim — the
 * conversation's messages (with their calls and tool results) and the
 * functions — so that the caller's memory may die once ia_engine_submit
 * returns. Used by llama.c (ia_engine_submit, the queue); sched.c hands the
 * copies to the chat shim when it admits the job. */
#include "engine/jobmsg.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char *role_name(ia_msg_role r) {
    switch (r) {
    case IA_MSG_SYSTEM: return "system";
    case IA_MSG_ASSISTANT: return "assistant";
    case IA_MSG_TOOL: return "tool";
    default: return "user";
    }
}

static char *dup_or_null(const char *s) { return s ? ia_strdup(s) : NULL; }

ia_chat_msg *ia_jobmsg_copy(const ia_engine_msg *msgs, size_t n) {
    ia_chat_msg *out = ia_xcalloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].role = role_name(msgs[i].role);
        out[i].content = ia_strdup(msgs[i].text ? msgs[i].text : "");
        out[i].tool_call_id = dup_or_null(msgs[i].call_id);
        out[i].tool_name = dup_or_null(msgs[i].name);
        out[i].reasoning = dup_or_null(msgs[i].reasoning);
        if (msgs[i].n_tokens) {
            int32_t *t = ia_xmalloc(msgs[i].n_tokens * sizeof *t);
            memcpy(t, msgs[i].tokens, msgs[i].n_tokens * sizeof *t);
            out[i].tokens = t;
            out[i].n_tokens = msgs[i].n_tokens;
        }
        if (msgs[i].n_calls) {
            ia_chat_call *c = ia_xcalloc(msgs[i].n_calls, sizeof *c);
            for (size_t k = 0; k < msgs[i].n_calls; k++) {
                c[k].id = dup_or_null(msgs[i].calls[k].id);
                c[k].name = dup_or_null(msgs[i].calls[k].name);
                c[k].arguments = dup_or_null(msgs[i].calls[k].arguments);
            }
            out[i].calls = c;
            out[i].n_calls = msgs[i].n_calls;
        }
    }
    return out;
}

ia_engine_media *ia_jobmsg_copy_media(const ia_engine_msg *msgs, size_t n, size_t *n_media) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += msgs[i].n_media;
    *n_media = k;
    if (!k) return NULL;
    ia_engine_media *out = ia_xcalloc(k, sizeof *out);
    k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < msgs[i].n_media; m++) {
            out[k] = msgs[i].media[m];
            unsigned char *d = ia_xmalloc(out[k].len ? out[k].len : 1);
            if (out[k].len) memcpy(d, msgs[i].media[m].data, out[k].len);
            out[k++].data = d;
        }
    return out;
}

void ia_jobmsg_free(ia_chat_msg *msgs, size_t n) {
    if (!msgs) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)msgs[i].content);
        free((char *)msgs[i].tool_call_id);
        free((char *)msgs[i].tool_name);
        free((char *)msgs[i].reasoning);
        free((int32_t *)msgs[i].tokens);
        for (size_t k = 0; k < msgs[i].n_calls; k++) {
            free((char *)msgs[i].calls[k].id);
            free((char *)msgs[i].calls[k].name);
            free((char *)msgs[i].calls[k].arguments);
        }
        free((ia_chat_call *)msgs[i].calls);
    }
    free(msgs);
}

ia_chat_tool *ia_jobmsg_copy_tools(const ia_engine_tool *tools, size_t n) {
    if (!n) return NULL;
    ia_chat_tool *out = ia_xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].name = dup_or_null(tools[i].name);
        out[i].description = dup_or_null(tools[i].description);
        out[i].parameters = dup_or_null(tools[i].parameters);
    }
    return out;
}

void ia_jobmsg_free_tools(ia_chat_tool *tools, size_t n) {
    if (!tools) return;
    for (size_t i = 0; i < n; i++) {
        free((char *)tools[i].name);
        free((char *)tools[i].description);
        free((char *)tools[i].parameters);
    }
    free(tools);
}
