/* events: the output items an event log describes (ia_events_fold; the
 * contract is in types.h). Crash recovery uses it: a run's outputs reach
 * the store only with its final record, while its events are flushed as it
 * goes, so after a crash the log is all that is left of what it produced. */
#include "model/types.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* The block being folded: what its start and parts gave, and its text. */
typedef struct block {
    bool open;
    int index;
    ia_content item;
    ia_buf text;  /* a text's deltas, a thought's summary pieces */
    bool summary; /* a thought: some summary piece came */
} block;

static void block_start(block *b, const ia_event *ev) {
    b->open = true;
    b->index = ev->index;
    if (ev->part) ia_content_copy(&b->item, ev->part);
    else memset(&b->item, 0, sizeof b->item);
    b->item.kind = ev->ckind;
    ia_buf_init(&b->text, 0);
    b->summary = false;
}

/* A call's or a tool item's part is the whole item (a call's start names
 * it, its delta adds the arguments): the latest one stands. */
static void take_item(block *b, const ia_content *p) {
    ia_content_kind k = b->item.kind;
    ia_content_clear(&b->item);
    ia_content_copy(&b->item, p);
    b->item.kind = k;
}

static void block_delta(block *b, const ia_event *ev) {
    const ia_content *p = ev->part;
    switch (b->item.kind) {
    case IA_CONTENT_TEXT:
        if (p && p->n_annotations) {
            ia_annotations_free(b->item.annotations, b->item.n_annotations);
            b->item.annotations = ia_annotations_copy(p->annotations, p->n_annotations);
            b->item.n_annotations = p->n_annotations;
        } else if (ev->text) {
            ia_buf_puts(&b->text, ev->text);
        }
        break;
    case IA_CONTENT_THOUGHT:
        if (p && p->signature) {
            free(b->item.signature);
            b->item.signature = ia_strdup(p->signature);
        } else if (p && p->text) {
            ia_buf_puts(&b->text, p->text);
            b->summary = true;
        }
        break;
    case IA_CONTENT_IMAGE:
    case IA_CONTENT_AUDIO: /* an output's data in pieces whose base64 texts join */
        if (p && p->text) ia_buf_puts(&b->text, p->text);
        break;
    default:
        if (p) take_item(b, p);
        break;
    }
}

/* The block as an item appended to out; its text and defaults set. */
static void block_emit(block *b, ia_turn *out) {
    ia_content *c = &b->item;
    if (c->kind == IA_CONTENT_TEXT || c->kind == IA_CONTENT_THOUGHT || c->kind == IA_CONTENT_IMAGE ||
        c->kind == IA_CONTENT_AUDIO) {
        free(c->text);
        c->text = ia_strndup(b->text.data ? b->text.data : "", b->text.len);
    }
    if (c->kind == IA_CONTENT_THOUGHT) {
        if (!c->signature) c->signature = ia_strdup("");
        /* No summary came when the client asked thinking_summaries "none":
         * the thought is then its signature only (the reasoning it seals is
         * not in the log), shown without a summary as it was streamed. */
        c->hide_summary = !b->summary;
    }
    if (!c->text) c->text = ia_strdup(c->kind == IA_CONTENT_TOOL_RESULT ? "null" : "{}");
    out->items = ia_xrealloc(out->items, (out->n + 1) * sizeof *out->items);
    out->items[out->n++] = *c;
    memset(c, 0, sizeof *c);
    ia_buf_free(&b->text);
    b->open = false;
}

static void block_drop(block *b) {
    ia_content_clear(&b->item);
    ia_buf_free(&b->text);
    b->open = false;
}

/* A block the log left open: its text when some reached the log (a thought
 * cut short has no signature to seal it, a call or tool item no stop). */
static void block_unfinished(block *b, ia_turn *out) {
    if (b->item.kind == IA_CONTENT_TEXT && b->text.len) block_emit(b, out);
    else block_drop(b);
}

void ia_events_fold(const ia_event *evs, size_t n, ia_turn *out) {
    out->role = IA_ROLE_MODEL;
    block b = {0};
    for (size_t i = 0; i < n; i++) {
        const ia_event *ev = &evs[i];
        if (ev->kind == IA_EV_CONTENT_START) {
            if (b.open) block_unfinished(&b, out);
            block_start(&b, ev);
        } else if (b.open && ev->index == b.index && ev->kind == IA_EV_CONTENT_DELTA) {
            block_delta(&b, ev);
        } else if (b.open && ev->index == b.index && ev->kind == IA_EV_CONTENT_STOP) {
            block_emit(&b, out);
        }
    }
    if (b.open) block_unfinished(&b, out);
}
