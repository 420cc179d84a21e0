/* items: one job's output as the engine's typed item stream (engine.h,
 * on_item). Internal to src/engine/; one per running job, used by its
 * worker thread only (no locking).
 *
 * A job's items come in the order of the output: its thought (a model that
 * reasons), its text, then its calls. Thought and text grow by deltas and
 * end once; a call comes whole, in one item. An unparsed job's text grows
 * by the output filter's pieces; a parsed job's thought and text by what
 * the partial parses of the text so far add (never retracted), and at the
 * job's end by the rest of the final parse. Whatever was passed on stands:
 * when the final parse no longer starts with it (a partial parse read the
 * text otherwise), the item keeps what was passed on and the final field
 * is replaced by it, so the deltas of each item add up exactly to the
 * result's field (ia_engine_result.reasoning / content). */
#ifndef IA_ENGINE_ITEMS_H
#define IA_ENGINE_ITEMS_H

#include <stdbool.h>

#include "engine/engine.h"
#include "lib/util.h"

typedef struct ia_items {
    int n;             /* items begun */
    int open;          /* the open item's kind (ia_item_kind), or -1 */
    bool thought_done; /* the thought ended, or text began (no thought after) */
    ia_buf sent_r;     /* the thought's deltas so far */
    ia_buf sent_c;     /* the text's deltas so far */
    int64_t n_output;  /* the job's tokens so far, for each item */
    bool cut;          /* the end being passed on is a cut one */
} ia_items;

void ia_items_init(ia_items *it);
void ia_items_free(ia_items *it);

/* A delta of the thought (IA_ITEM_THOUGHT) or of the text (IA_ITEM_TEXT):
 * opens the item if it is not open (a text delta first ends the thought),
 * drops NUL bytes (strings downstream are C strings) and a thought delta
 * once text has begun. Returns the callback's verdict (nonzero: stop). */
int ia_items_delta(ia_items *it, const ia_engine_cb *cb, ia_item_kind kind, const char *s, size_t len);

/* Ends the open item, if any; cut: the job was cancelled or failed
 * (ia_engine_item.cut). */
void ia_items_end_open(ia_items *it, const ia_engine_cb *cb, bool cut);

/* The end of a parsed job whose final parse is in res (reasoning,
 * content, calls): the rest of the thought and of the text beyond what was
 * passed on, their ends, then each call as one item when calls is set.
 * Rewrites res->reasoning and res->content to exactly what the items
 * carry (pointing into it: valid until ia_items_free). */
void ia_items_final(ia_items *it, const ia_engine_cb *cb, ia_engine_result *res, bool calls);

#endif
