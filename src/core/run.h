/* run: one interaction being generated, and the subscriptions that read it.
 * Internal to src/core/ (core.c is its only user besides run.c).
 *
 * A run holds the interaction as it is being built and the whole log of its
 * events in memory (seq 1..n, dense). Every consumer reads that one log: the
 * blocking create waits for `finalized`, a streaming client or a resumed one
 * reads events by seq, the core's store writer (writer.h) copies the events
 * not yet stored. The engine thread appends; HTTP threads read; one mutex +
 * condvar per run.
 *
 * The end of a run has two moments. `ended`: the terminal status is set and
 * the closing events are appended (ia_core_finalize); nothing is appended
 * after. `finalized`: the record is in the store (a stored run: written by
 * the writer) and the run is out of the core's table; only now may anyone
 * be told it ended. Visibility rule: a live subscriber hands out only the
 * events appended before the run ended (n_live) until it is finalized, so
 * a client that reads the terminal event and at once continues the chain
 * (previous_interaction_id) or GETs it finds the stored record. And, for a
 * stored run, at most IA_RUN_AHEAD events past those in the store
 * (n_persisted): recovery numbers its events past a gap of
 * IA_STORE_RECOVER_SEQ_GAP after the last stored one, so no id a client
 * saw live is ever reused, however far the writer lags.
 *
 * Lifetime: reference counted (atomic). The core's table holds one reference
 * while the run is live, the engine job holds one until its on_done, and each
 * subscription holds one; the last release frees the run. */
#ifndef IA_CORE_RUN_H
#define IA_CORE_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/core.h"
#include "lib/util.h"

typedef struct ia_run {
    atomic_int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ia_interaction it;  /* status, usage, output are final once finalized */
    ia_event *evs;      /* evs[i].seq == i + 1 */
    size_t n_evs, cap_evs;
    size_t n_persisted; /* events already in the store (advanced by the writer) */
    size_t n_live;      /* events appended before the run ended (visibility rule above) */
    bool store;         /* persisted (store=true) and visible to GET */
    bool started;       /* the engine took the job (on_start came) */
    bool ended;         /* terminal status set, closing events appended: no more events */
    bool finalized;     /* ended, stored, out of the table: readers may be told (see above) */
    ia_errcode err_code; /* why it failed, when it did */
    bool cancel_on_close; /* a non-background streaming create: its client leaving cancels */
    atomic_bool cancel; /* read by the engine every token */
    atomic_bool lost;   /* its lease was lost (lease.c): cancelled once */
    bool hide_summary;  /* thinking_summaries "none" */
    const ia_engine_result *done_res; /* during on_done: the engine's result (finalize copies its tokens) */
    struct ia_outtok_kept *kept; /* the answer's tokens, for the writer (outtok.h); owned */
    const char *vocab;  /* the engine's vocabulary id (borrowed), for kept tokens */
    /* The outputs so far: every item of the steps before, and those of
     * the current model step that have ended. base_index is where the
     * current step's items begin. */
    ia_turn parsed_out;
    int base_index;
    /* The current step's open thought or text block (the engine's item
     * stream, loop.c): its kind (ia_item_kind; -1 when none), its output
     * index, what it holds so far, and whether its content.start was sent
     * (a thought with a hidden summary sends it only as it ends); what the
     * step has written (a text, client calls, built-in calls). */
    int open_kind, open_index;
    ia_buf open_text;
    bool open_sent;
    int open_media;     /* a media output's block being streamed (outputs.c), or -1 */
    bool step_text;     /* also set by a media output: no empty text then */
    size_t step_client, step_builtin;
    struct ia_loop *loop; /* owned: what the next model step needs */
    struct ia_run *next; /* in the core's table */
    struct ia_run *wnext; /* in the writer's queue; wnext and wqueued are guarded by its lock */
    bool wqueued;
} ia_run;

/* How far a live stored run's readers may get ahead of the store (the
 * visibility rule above); well within recovery's seq gap. */
#define IA_RUN_AHEAD 500

ia_run *ia_run_new(void);
void ia_run_ref(ia_run *r);
void ia_run_unref(ia_run *r);

/* Appends an event under r->mu (the caller holds it) and wakes readers.
 * text and code are copied. Returns the event's seq. Once r has ended only
 * ia_core_finalize appends (its closing events), and those stay hidden
 * until r is finalized. */
int64_t ia_run_emit_locked(ia_run *r, ia_event_kind kind, int index, ia_status status,
                           const char *text, const char *code);

/* Appends a content event whose payload is part (taken: malloc'd, owned by
 * the event from here; its kind is the event's ckind), in progress, under
 * r->mu. Returns its seq. */
int64_t ia_run_emit_part_locked(ia_run *r, ia_event_kind kind, int index, ia_content *part);

/* A snapshot of the interaction as the event `kind` describes it, under
 * r->mu: START → in_progress with no outputs and no usage; otherwise the
 * current state (outputs filled from the text once finalized). */
void ia_run_snapshot_locked(ia_run *r, ia_event_kind kind, ia_interaction *out);

/* One piece of a model step's item stream (engine.h, on_item), under
 * r->mu, as events and outputs: a thought's or text's delta opens its
 * block at the next output index if needed (a thought's content.start and
 * summary deltas unless hide_summary) and streams it; its end closes the
 * block — a thought sealed under key (a signature delta), a text with its
 * citations from the google_search results so far (an annotations delta)
 * — and appends the item to parsed_out. A call: a built-in tool's among
 * builtins as a TOOL_CALL output, any other as a client's FUNCTION_CALL
 * (content.start / one delta with the whole arguments / stop), under a
 * fresh "call_" id; counted in step_builtin / step_client. Nothing once
 * the run has ended. */
void ia_run_item_locked(ia_run *r, const ia_engine_item *item, const uint8_t key[32],
                        const ia_builtin_tool *builtins, size_t n_builtins);
/* The end of the run (ia_core_finalize): a block still open (a run that
 * ends while the engine still generates: cancel, shutdown) ended as a cut
 * one unless answered, a media block still open stopped; and when the
 * last step answered (completed or incomplete) but wrote no text, media
 * and no call, one empty text output. */
void ia_run_step_end_locked(ia_run *r, const uint8_t key[32], bool answered);
/* Appends item to parsed_out (copied) and streams it whole: content.start,
 * one delta, content.stop, at its output index. For a built-in tool's
 * result (or call). Under r->mu. */
void ia_run_emit_item_locked(ia_run *r, const ia_content *item);
/* Between model steps, under r->mu: the next step's items start after the
 * outputs so far; its live state starts empty. */
void ia_run_next_step_locked(ia_run *r);

/* Subscriptions over a live run, or over events loaded from the store. */
ia_sub *ia_sub_for_run(ia_run *r, int64_t after_seq, bool owner);
ia_sub *ia_sub_for_stored(ia_interaction *it, ia_event *evs, size_t n); /* takes both */
/* A run that another instance on a shared store runs: evs (those after
 * after_seq already stored), then the events that instance writes next,
 * read from st as they land — woken by wake's events notifications
 * (lease.h), or polling when wake is NULL — until the complete event (its
 * own, or a takeover's). Takes it and evs. */
struct ia_lease;
ia_sub *ia_sub_for_tail(ia_store *st, struct ia_lease *wake, const char *owner, ia_interaction *it,
                        ia_event *evs, size_t n, int64_t after_seq);

#endif
