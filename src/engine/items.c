/* items.c: a job's output as the typed item stream (items.h). */
#include "engine/items.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

void ia_items_init(ia_items *it) {
    memset(it, 0, sizeof *it);
    it->open = -1;
    ia_buf_init(&it->sent_r, 0);
    ia_buf_init(&it->sent_c, 0);
}

void ia_items_free(ia_items *it) {
    ia_buf_free(&it->sent_r);
    ia_buf_free(&it->sent_c);
}

static int emit(ia_items *it, const ia_engine_cb *cb, ia_item_kind kind, const char *s, size_t len, bool end,
                const ia_engine_call *call) {
    if (!cb->on_item) return 0;
    ia_engine_item item = {.kind = kind, .index = it->n - 1, .delta = s ? s : "", .len = len, .end = end,
                           .cut = end && it->cut, .call = call, .n_output = it->n_output};
    return cb->on_item(cb->ud, &item);
}

void ia_items_end_open(ia_items *it, const ia_engine_cb *cb, bool cut) {
    if (it->open < 0) return;
    it->cut = cut;
    ia_item_kind k = (ia_item_kind)it->open;
    it->open = -1;
    if (k == IA_ITEM_THOUGHT) it->thought_done = true;
    emit(it, cb, k, "", 0, true, NULL);
}

/* The item kind's delta, NULs dropped (a model can emit a <0x00> byte
 * token; it carries no meaning in text and would cut a C string short). */
static int add(ia_items *it, const ia_engine_cb *cb, ia_item_kind kind, const char *s, size_t len) {
    char stack[256], *buf = len < sizeof stack ? stack : ia_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i]) buf[n++] = s[i];
    buf[n] = '\0';
    int rc = 0;
    if (n) {
        if (it->open != (int)kind) {
            ia_items_end_open(it, cb, false);
            it->n++;
            it->open = (int)kind;
        }
        ia_buf_append(kind == IA_ITEM_THOUGHT ? &it->sent_r : &it->sent_c, buf, n);
        rc = emit(it, cb, kind, buf, n, false, NULL);
    }
    if (buf != stack) free(buf);
    return rc;
}

int ia_items_delta(ia_items *it, const ia_engine_cb *cb, ia_item_kind kind, const char *s, size_t len) {
    if (kind == IA_ITEM_THOUGHT && (it->thought_done || it->open == IA_ITEM_TEXT)) return 0;
    if (kind == IA_ITEM_TEXT) it->thought_done = true; /* no thought after text */
    return add(it, cb, kind, s, len);
}

/* What of final is beyond what was passed on (sent): all of it when
 * nothing was; NULL when final does not start with it. */
static const char *rest_of(const ia_buf *sent, const char *final) {
    if (!sent->len) return final;
    if (strlen(final) >= sent->len && memcmp(final, sent->data, sent->len) == 0) return final + sent->len;
    return NULL;
}

void ia_items_final(ia_items *it, const ia_engine_cb *cb, ia_engine_result *res, bool calls) {
    const char *r = res->reasoning ? res->reasoning : "";
    const char *rest = it->thought_done ? NULL : rest_of(&it->sent_r, r);
    if (rest) ia_items_delta(it, cb, IA_ITEM_THOUGHT, rest, strlen(rest));
    else if (strcmp(r, it->sent_r.data ? it->sent_r.data : "") != 0)
        ia_warn("engine: the reasoning passed on live differs from the final parse's; the live one stands");
    if (it->open == IA_ITEM_THOUGHT) ia_items_end_open(it, cb, false);
    const char *c = res->content ? res->content : "";
    rest = rest_of(&it->sent_c, c);
    if (rest) ia_items_delta(it, cb, IA_ITEM_TEXT, rest, strlen(rest));
    else ia_warn("engine: the text passed on live differs from the final parse's; the live one stands");
    ia_items_end_open(it, cb, false);
    res->reasoning = it->sent_r.data ? it->sent_r.data : "";
    res->content = it->sent_c.data ? it->sent_c.data : "";
    if (!calls) {
        res->n_calls = 0;
        return;
    }
    for (size_t i = 0; i < res->n_calls; i++) {
        it->n++;
        emit(it, cb, IA_ITEM_CALL, NULL, 0, true, &res->calls[i]);
    }
}
