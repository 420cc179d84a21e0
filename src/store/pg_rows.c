/* pg_rows: the interactions, their event logs, meta and the sampled tokens
 * in PostgreSQL (store.h's contract), as ops run by pg.c's pool
 * (pg_int.h: each op clears its outputs first, so a retry starts clean). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "store/fsearch.h"
#include "store/pg_int.h"

#define VISIBLE "owner = $2 AND (expires = 0 OR expires > $3)"
#define ROW_COLS                                                                        \
    "id, owner, model, previous_id, system_instruction, status, created, updated, "    \
    "expires, background, input, output, has_usage, usage_input, usage_output, "       \
    "usage_thought, usage_cached, usage_tool_use, error, gen_config, error_code, "      \
    "response_format, usage_by, agent, agent_config"

/* ---- writing rows and events ------------------------------------------------- */

/* The row's columns as an UPDATE's SET list ($1 is the id, $26 the runner,
 * $27 the lease; the parameters upsert gives). */
#define SET_COLS                                                                                       \
    "owner = $2, model = $3, previous_id = $4, system_instruction = $5, status = $6, created = $7, "  \
    "updated = $8, expires = $9, background = $10, input = $11, output = $12, has_usage = $13, "      \
    "usage_input = $14, usage_output = $15, usage_thought = $16, usage_cached = $17, "                \
    "usage_tool_use = $18, error = $19, gen_config = $20, error_code = $21, response_format = $22, "  \
    "usage_by = $23, agent = $24, agent_config = $25, runner = $26, "                                 \
    "lease_until = CASE WHEN $6 = 'in_progress' THEN " IA_PG_NOW_MS " + $27::bigint ELSE 0 END"

/* Writes it; *changed: whether the row was written. A run's final write
 * (final) only updates the row it wrote in_progress and still holds: 0
 * when another instance ended it (a takeover, pg_lease.c) or deleted it,
 * which must stand — an upsert would write a taken-over end over, or
 * insert a deleted row again. */
static int upsert(pgx *x, const ia_interaction *it, bool final, int *changed) {
    const char *status = ia_status_name(it->status);
    if (!it->id[0]) return ia_fail(x->err, IA_EINTERNAL, "store: interaction without an id");
    if (!status) return ia_fail(x->err, IA_EINTERNAL, "store: unknown status %d", (int)it->status);
    char *input = ia_codec_conv_encode(&it->input);
    char *output = ia_codec_turn_encode(&it->output);
    char *gen = ia_codec_gen_encode(&it->gen);
    char *rformat = ia_codec_rformat_encode(&it->rformat);
    char by[512];
    int rc = -1;
    if (!input || !output) {
        ia_fail(x->err, IA_EINTERNAL, "store: cannot encode the conversation of %s", it->id);
        goto out;
    }
    pgargs a = {0};
    ia_pg_text(&a, it->id);
    ia_pg_text(&a, it->owner ? it->owner : "");
    ia_pg_text(&a, it->model);
    ia_pg_text(&a, it->previous_id);
    ia_pg_text(&a, it->system_instruction);
    ia_pg_text(&a, status);
    ia_pg_i64(&a, it->created);
    ia_pg_i64(&a, it->updated);
    ia_pg_i64(&a, it->expires);
    ia_pg_i64(&a, it->background ? 1 : 0);
    ia_pg_text(&a, input);
    ia_pg_text(&a, output);
    ia_pg_i64(&a, it->has_usage ? 1 : 0);
    ia_pg_i64(&a, it->usage.input);
    ia_pg_i64(&a, it->usage.output);
    ia_pg_i64(&a, it->usage.thought);
    ia_pg_i64(&a, it->usage.cached);
    ia_pg_i64(&a, it->usage.tool_use);
    ia_pg_text(&a, it->error);
    ia_pg_text(&a, gen);
    ia_pg_text(&a, it->error_code != IA_OK ? ia_err_wire_code(it->error_code) : NULL);
    ia_pg_text(&a, rformat);
    ia_pg_text(&a, ia_codec_usage_by_encode(&it->usage, by, sizeof by));
    ia_pg_text(&a, it->agent);
    ia_pg_text(&a, it->agent_config);
    ia_pg_text(&a, x->instance);
    ia_pg_i64(&a, x->lease_ms);
    /* An upsert: a replaced row keeps its event log. `runner`: the
     * instance that wrote it last (ia_store_set_instance); an in_progress
     * row gets a fresh lease (pg_lease.c). A row another instance ended (it
     * took the run over when this one's lease had passed) is not written
     * again: its end stands. */
    PGresult *r = final ? ia_pg_q(x, "finish",
                                  "UPDATE interactions SET " SET_COLS " WHERE id = $1 AND "
                                  "status = 'in_progress' AND runner IS NOT DISTINCT FROM $26", &a)
                        : ia_pg_q(x, "put",
                    "INSERT INTO interactions (" ROW_COLS ", runner, lease_until) VALUES ($1, $2, $3, $4, $5, "
                    "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, "
                    "$25, $26, CASE WHEN $6 = 'in_progress' THEN " IA_PG_NOW_MS " + $27::bigint ELSE 0 END) "
                    "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, model = excluded.model, "
                    "previous_id = excluded.previous_id, system_instruction = excluded.system_instruction, "
                    "status = excluded.status, created = excluded.created, updated = excluded.updated, "
                    "expires = excluded.expires, background = excluded.background, input = excluded.input, "
                    "output = excluded.output, has_usage = excluded.has_usage, "
                    "usage_input = excluded.usage_input, usage_output = excluded.usage_output, "
                    "usage_thought = excluded.usage_thought, usage_cached = excluded.usage_cached, "
                    "usage_tool_use = excluded.usage_tool_use, error = excluded.error, "
                    "gen_config = excluded.gen_config, error_code = excluded.error_code, "
                    "response_format = excluded.response_format, usage_by = excluded.usage_by, "
                    "agent = excluded.agent, agent_config = excluded.agent_config, "
                    "runner = excluded.runner, lease_until = excluded.lease_until "
                    "WHERE interactions.status = 'in_progress' OR "
                    "interactions.runner IS NOT DISTINCT FROM excluded.runner",
                    &a);
    if (r) {
        *changed = ia_pg_changed(r);
        PQclear(r);
        rc = 0;
    }
out:
    free(input);
    free(output);
    free(gen);
    free(rformat);
    return rc;
}

static int max_seq(pgx *x, const char *id, int64_t *out) {
    pgargs a = {0};
    ia_pg_text(&a, id);
    PGresult *r = ia_pg_q(x, "events", "SELECT coalesce(max(seq), 0) FROM events WHERE id = $1", &a);
    if (!r) return -1;
    *out = ia_pg_int(r, 0, 0);
    PQclear(r);
    return 0;
}

/* Inserts evs inside the caller's transaction; a seq <= 0 gets the next
 * free one. */
static int append(pgx *x, const char *id, const ia_event *evs, size_t n) {
    int64_t stored = -1, hi = 0;
    for (size_t i = 0; i < n; i++) {
        const ia_event *e = &evs[i];
        const char *kind = ia_store_event_kind_name(e->kind);
        if (!kind) return ia_fail(x->err, IA_EINTERNAL, "store: unknown event kind %d", (int)e->kind);
        int64_t seq = e->seq;
        if (seq <= 0) {
            if (stored < 0 && max_seq(x, id, &stored) != 0) return -1;
            seq = (stored > hi ? stored : hi) + 1;
        }
        if (seq > hi) hi = seq;
        char *part = ia_codec_event_encode(e);
        pgargs a = {0};
        ia_pg_text(&a, id);
        ia_pg_i64(&a, seq);
        ia_pg_text(&a, kind);
        ia_pg_i64(&a, e->index);
        ia_pg_text(&a, ia_status_name(e->status));
        ia_pg_text(&a, ia_codec_content_kind_name(e->ckind));
        ia_pg_text(&a, part ? part : e->text);
        ia_pg_text(&a, ia_codec_event_code(e));
        int rc = ia_pg_exec(x, "append event",
                            "INSERT INTO events (id, seq, kind, idx, status, ckind, text, code) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                            "ON CONFLICT (id, seq) DO NOTHING", &a);
        free(part);
        if (rc != 0) return -1;
    }
    return 0;
}

static int commit(pgx *x) { return ia_pg_exec(x, "commit", "COMMIT", NULL) == 0 ? 0 : -1; }

/* Wakes the streams other instances follow from the store (sent at
 * COMMIT; pg_int.h). */
static int notify_events(pgx *x, const char *id) {
    pgargs a = {0};
    ia_pg_text(&a, id);
    return ia_pg_exec(x, "notify", "SELECT pg_notify('" IA_PG_EVENTS_CHANNEL "', $1)", &a);
}

typedef struct {
    const ia_interaction *it;
    const char *id;
    const ia_event *evs;
    size_t n;
} write_arg;

static int op_put(pgx *x, void *p) {
    int changed = 0;
    return upsert(x, ((write_arg *)p)->it, false, &changed);
}

static int lost_run(pgx *x, const char *id) {
    return ia_fail(x->err, IA_ECONFLICT,
                   "store: %s was ended or deleted by another instance (its lease had passed); "
                   "this instance's write is dropped", id);
}

static int op_finish(pgx *x, void *p) {
    write_arg *w = p;
    int changed = 0;
    if (ia_pg_exec(x, "begin", "BEGIN", NULL) != 0) return -1;
    if (upsert(x, w->it, true, &changed) != 0) return -1;
    if (!changed) return lost_run(x, w->it->id);
    if (append(x, w->it->id, w->evs, w->n) != 0 || notify_events(x, w->it->id) != 0) return -1;
    x->committing = true;
    return commit(x);
}

/* Events go only to a row this instance still runs: locked FOR SHARE till
 * the COMMIT, so a takeover (FOR UPDATE SKIP LOCKED) cannot end it in
 * between, and a late runner's events never land after a takeover's end.
 * A row that is not there at all is the caller's mistake (IA_EINTERNAL, as
 * the events' foreign key would say). */
static int own_running_row(pgx *x, const char *id) {
    pgargs a = {0};
    ia_pg_text(&a, id);
    ia_pg_text(&a, x->instance);
    PGresult *r = ia_pg_q(x, "append event",
                          "SELECT status = 'in_progress' AND runner IS NOT DISTINCT FROM $2 FROM interactions "
                          "WHERE id = $1 FOR SHARE", &a);
    if (!r) return -1;
    int rows = PQntuples(r);
    bool mine = rows == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (rows == 0) return ia_fail(x->err, IA_EINTERNAL, "store: events for %s, which is not stored", id);
    return mine ? 0 : lost_run(x, id);
}

static int op_append(pgx *x, void *p) {
    write_arg *w = p;
    if (ia_pg_exec(x, "begin", "BEGIN", NULL) != 0) return -1;
    if (own_running_row(x, w->id) != 0) return -1;
    if (append(x, w->id, w->evs, w->n) != 0 || notify_events(x, w->id) != 0) return -1;
    x->committing = true;
    return commit(x);
}

static int pg_put(ia_store *s, const ia_interaction *it, ia_err *err) {
    write_arg w = {.it = it};
    return ia_pg_run(s, op_put, &w, true, err);
}

static int pg_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err) {
    write_arg w = {.it = it, .evs = evs, .n = n};
    return ia_pg_run(s, op_finish, &w, false, err);
}

static int pg_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n, ia_err *err) {
    if (n == 0) return 0;
    write_arg w = {.id = id, .evs = evs, .n = n};
    /* Events with their seqs are idempotent (ON CONFLICT (id, seq) DO
     * NOTHING): one whose COMMIT landed unseen is retried, here and by the
     * writer's next pass, without wedging on the primary key. A seq <= 0
     * ("the next") would be stored twice, so such a batch is not retried. */
    bool numbered = true;
    for (size_t i = 0; i < n; i++) numbered = numbered && evs[i].seq > 0;
    return ia_pg_run(s, op_append, &w, numbered, err);
}

/* ---- reading ------------------------------------------------------------------- */

typedef struct {
    const char *id, *owner;
    int64_t now, after;
    ia_interaction *it;
    ia_event *evs;
    size_t n;
    int64_t seq;
    int count;
} read_arg;

static int row_to_interaction(const PGresult *r, ia_interaction *out, ia_err *err) {
    ia_pg_into(r, 0, 0, out->id, sizeof out->id);
    out->owner = ia_pg_dup(r, 0, 1);
    out->model = ia_pg_dup(r, 0, 2);
    out->previous_id = ia_pg_dup(r, 0, 3);
    out->system_instruction = ia_pg_dup(r, 0, 4);
    int sv = ia_status_parse(PQgetvalue(r, 0, 5));
    out->created = ia_pg_int(r, 0, 6);
    out->updated = ia_pg_int(r, 0, 7);
    out->expires = ia_pg_int(r, 0, 8);
    out->background = ia_pg_int(r, 0, 9) != 0;
    out->has_usage = ia_pg_int(r, 0, 12) != 0;
    out->usage.input = ia_pg_int(r, 0, 13);
    out->usage.output = ia_pg_int(r, 0, 14);
    out->usage.thought = ia_pg_int(r, 0, 15);
    out->usage.cached = ia_pg_int(r, 0, 16);
    out->usage.tool_use = ia_pg_int(r, 0, 17);
    ia_codec_usage_by_decode(PQgetisnull(r, 0, 22) ? NULL : PQgetvalue(r, 0, 22), &out->usage);
    out->error = ia_pg_dup(r, 0, 18);
    out->agent = ia_pg_dup(r, 0, 23);
    out->agent_config = ia_pg_dup(r, 0, 24);
    out->error_code = ia_err_from_wire_code(PQgetisnull(r, 0, 20) ? NULL : PQgetvalue(r, 0, 20));
    if (sv < 0) return ia_fail(err, IA_EINTERNAL, "store: %s has an unknown status", out->id);
    out->status = (ia_status)sv;
    if (ia_codec_conv_decode(PQgetvalue(r, 0, 10), &out->input) != 0 ||
        ia_codec_turn_decode(PQgetvalue(r, 0, 11), &out->output) != 0)
        return ia_fail(err, IA_EINTERNAL, "store: %s has an undecodable conversation", out->id);
    if (ia_codec_gen_decode(PQgetisnull(r, 0, 19) ? NULL : PQgetvalue(r, 0, 19), &out->gen) != 0)
        return ia_fail(err, IA_EINTERNAL, "store: %s has an undecodable generation_config", out->id);
    if (ia_codec_rformat_decode(PQgetisnull(r, 0, 21) ? NULL : PQgetvalue(r, 0, 21), &out->rformat) != 0)
        return ia_fail(err, IA_EINTERNAL, "store: %s has an undecodable response_format", out->id);
    return 0;
}

static int op_get(pgx *x, void *p) {
    read_arg *g = p;
    memset(g->it, 0, sizeof *g->it);
    pgargs a = {0};
    ia_pg_text(&a, g->id);
    ia_pg_text(&a, g->owner ? g->owner : "");
    ia_pg_i64(&a, g->now);
    PGresult *r = ia_pg_q(x, "get", "SELECT " ROW_COLS " FROM interactions WHERE id = $1 AND " VISIBLE, &a);
    if (!r) return -1;
    int ret;
    if (PQntuples(r) == 0) {
        ret = ia_fail(x->err, IA_ENOTFOUND, "interaction %s not found", g->id);
    } else {
        ret = row_to_interaction(r, g->it, x->err);
        if (ret != 0) ia_interaction_free(g->it);
    }
    PQclear(r);
    return ret;
}

static int pg_get(ia_store *s, const char *id, const char *owner, int64_t now, ia_interaction *out,
                  ia_err *err) {
    memset(out, 0, sizeof *out);
    if (!id) return ia_fail(err, IA_ENOTFOUND, "interaction not found");
    read_arg g = {.id = id, .owner = owner, .now = now, .it = out};
    return ia_pg_run(s, op_get, &g, true, err);
}

static int op_delete(pgx *x, void *p) {
    read_arg *g = p;
    pgargs a = {0};
    ia_pg_text(&a, g->id);
    ia_pg_text(&a, g->owner ? g->owner : "");
    ia_pg_i64(&a, ia_now());
    PGresult *r = ia_pg_qw(x, "delete", "DELETE FROM interactions WHERE id = $1 AND " VISIBLE, &a);
    if (!r) return -1;
    int changed = ia_pg_changed(r);
    PQclear(r);
    return changed ? 0 : ia_fail(x->err, IA_ENOTFOUND, "interaction %s not found", g->id);
}

static int pg_delete(ia_store *s, const char *id, const char *owner, ia_err *err) {
    if (!id) return ia_fail(err, IA_ENOTFOUND, "interaction not found");
    read_arg g = {.id = id, .owner = owner};
    return ia_pg_run(s, op_delete, &g, false, err);
}

static int op_last_seq(pgx *x, void *p) {
    read_arg *g = p;
    return max_seq(x, g->id, &g->seq);
}

static int pg_last_seq(ia_store *s, const char *id, int64_t *out, ia_err *err) {
    read_arg g = {.id = id};
    int rc = ia_pg_run(s, op_last_seq, &g, true, err);
    if (rc == 0) *out = g.seq;
    return rc;
}

/* The events of id past after into *out / *n (ia_store_events). */
static int events_of(pgx *x, const char *id, int64_t after, ia_event **out, size_t *n) {
    *out = NULL;
    *n = 0;
    pgargs a = {0};
    ia_pg_text(&a, id);
    ia_pg_i64(&a, after);
    PGresult *r = ia_pg_q(x, "events",
                          "SELECT seq, kind, idx, status, ckind, text, code FROM events "
                          "WHERE id = $1 AND seq > $2 ORDER BY seq", &a);
    if (!r) return -1;
    int rows = PQntuples(r);
    ia_event *evs = rows ? ia_xcalloc((size_t)rows, sizeof *evs) : NULL;
    int ret = 0, len = 0;
    for (; len < rows; len++) {
        ia_event *e = &evs[len];
        e->seq = ia_pg_int(r, len, 0);
        int kind = ia_store_event_kind_parse(PQgetvalue(r, len, 1));
        e->index = (int)ia_pg_int(r, len, 2);
        int sv = PQgetisnull(r, len, 3) ? 0 : ia_status_parse(PQgetvalue(r, len, 3));
        int cv = PQgetisnull(r, len, 4) ? 0 : ia_codec_content_kind_parse(PQgetvalue(r, len, 4));
        if (kind < 0 || sv < 0 || cv < 0) {
            ret = ia_fail(x->err, IA_EINTERNAL, "store: event %lld of %s is unreadable", (long long)e->seq, id);
            len++;
            break;
        }
        e->kind = (ia_event_kind)kind;
        e->status = (ia_status)sv;
        e->ckind = (ia_content_kind)cv;
        ia_codec_event_decode(e, PQgetisnull(r, len, 5) ? NULL : PQgetvalue(r, len, 5),
                              PQgetisnull(r, len, 6) ? NULL : PQgetvalue(r, len, 6));
    }
    PQclear(r);
    if (ret != 0) {
        ia_events_free(evs, (size_t)len);
        return -1;
    }
    *out = evs;
    *n = (size_t)rows;
    return 0;
}

static int op_events(pgx *x, void *p) {
    read_arg *g = p;
    return events_of(x, g->id, g->after, &g->evs, &g->n);
}

static int pg_events(ia_store *s, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                     ia_err *err) {
    read_arg g = {.id = id, .after = after_seq};
    int rc = ia_pg_run(s, op_events, &g, true, err);
    *out = rc == 0 ? g.evs : NULL;
    *n = rc == 0 ? g.n : 0;
    return rc;
}

/* ---- recovery and retention ------------------------------------------------------ */

typedef struct {
    int64_t now;
    const char *message;
    int count;
} recover_arg;

/* One in_progress row failed as store.h's ia_store_recover says, inside the
 * caller's transaction. */
static int recover_one(pgx *x, const char *id, const recover_arg *ra) {
    return ia_pg_end_row(x, id, IA_STATUS_FAILED, ra->message, ra->now);
}

int ia_pg_end_row(pgx *x, const char *id, ia_status status, const char *message, int64_t now) {
    bool failed = status == IA_STATUS_FAILED;
    pgargs a = {0};
    ia_pg_text(&a, id);
    ia_pg_text(&a, failed ? message : NULL);
    ia_pg_i64(&a, now);
    ia_pg_text(&a, ia_status_name(status));
    ia_pg_text(&a, failed ? "internal" : NULL);
    ia_pg_text(&a, x->instance);
    /* runner: the instance that ended it (a takeover's, pg_lease.c) */
    if (ia_pg_exec(x, "recover",
                   "UPDATE interactions SET status = $4, error = $2, updated = $3, "
                   "error_code = $5, runner = coalesce($6::text, runner), lease_until = 0 WHERE id = $1",
                   &a) != 0)
        return -1;
    ia_event *evs = NULL;
    size_t n = 0;
    ia_err rerr = {0};
    ia_err *keep = x->err;
    x->err = &rerr;
    int rc = events_of(x, id, 0, &evs, &n);
    x->err = keep;
    if (rc != 0) {
        if (PQstatus(x->c) != CONNECTION_OK) return ia_fail(x->err, IA_EINTERNAL, "%s", rerr.msg);
        /* a log this build cannot read must not stop the start-up */
        ia_warn("recovery: the events of %s could not be read (%s); its outputs are left as stored", id,
                rerr.msg);
    } else {
        char *json = ia_store_recovered_output(evs, n);
        ia_events_free(evs, n);
        if (json) {
            pgargs o = {0};
            ia_pg_text(&o, id);
            ia_pg_text(&o, json);
            rc = ia_pg_exec(x, "recover outputs", "UPDATE interactions SET output = $2 WHERE id = $1", &o);
            free(json);
            if (rc != 0) return -1;
        }
    }
    /* Past whatever the run flushed, plus the gap (store.h says why). */
    int64_t last = 0;
    if (max_seq(x, id, &last) != 0) return -1;
    int64_t at = last + IA_STORE_RECOVER_SEQ_GAP;
    ia_event tail[3] = {
        {.seq = at + 1, .kind = IA_EV_ERROR, .status = IA_STATUS_FAILED, .text = (char *)message,
         .code = (char *)ia_err_wire_code(IA_EINTERNAL)},
        {.seq = at + 2, .kind = IA_EV_STATUS, .status = status},
        {.seq = at + 3, .kind = IA_EV_COMPLETE, .status = status},
    };
    /* a cancel ends without an error event */
    if (!failed) {
        tail[1].seq = at + 1;
        tail[2].seq = at + 2;
    }
    if (append(x, id, failed ? tail : tail + 1, failed ? 3 : 2) != 0) return -1;
    return notify_events(x, id); /* its followers end with it */
}

static int op_recover(pgx *x, void *p) {
    recover_arg *ra = p;
    ra->count = 0;
    if (ia_pg_exec(x, "begin", "BEGIN", NULL) != 0) return -1;
    /* this instance's runs, or those no instance claimed; a neighbour's
     * live runs are not ours to fail */
    pgargs a = {0};
    ia_pg_text(&a, x->instance);
    PGresult *r = ia_pg_q(x, "recover",
                          "SELECT id FROM interactions WHERE status = 'in_progress' AND "
                          "($1::text IS NULL OR runner IS NULL OR runner = $1::text) ORDER BY id FOR UPDATE", &a);
    if (!r) return -1;
    int rows = PQntuples(r), rc = 0;
    for (int i = 0; i < rows && rc == 0; i++) rc = recover_one(x, PQgetvalue(r, i, 0), ra);
    PQclear(r);
    if (rc != 0) return -1;
    x->committing = true;
    if (commit(x) != 0) return -1;
    ra->count = rows;
    return 0;
}

static int pg_recover(ia_store *s, int64_t now, const char *message, ia_err *err) {
    recover_arg ra = {.now = now, .message = message ? message : "interrupted by a server restart"};
    return ia_pg_run(s, op_recover, &ra, false, err) == 0 ? ra.count : -1;
}

static int op_sweep(pgx *x, void *p) {
    recover_arg *ra = p;
    pgargs a = {0};
    ia_pg_i64(&a, ra->now);
    /* events and tokens go with their rows (ON DELETE CASCADE) */
    PGresult *r = ia_pg_qw(x, "sweep", "DELETE FROM interactions WHERE expires > 0 AND expires <= $1", &a);
    if (!r) return -1;
    ra->count = ia_pg_changed(r);
    PQclear(r);
    return 0;
}

static int pg_sweep(ia_store *s, int64_t now, ia_err *err) {
    recover_arg ra = {.now = now};
    /* idempotent: a second sweep deletes what the first left */
    return ia_pg_run(s, op_sweep, &ra, true, err) == 0 ? ra.count : -1;
}

/* ---- meta and output tokens ------------------------------------------------------ */

typedef struct {
    const char *key, *value, *owner, *vocab, *hash, *id;
    char *out;
    const int32_t *toks;
    int32_t *got;
    size_t n;
} kv_arg;

static int op_meta_get(pgx *x, void *p) {
    kv_arg *k = p;
    free(k->out);
    k->out = NULL;
    pgargs a = {0};
    ia_pg_text(&a, k->key);
    PGresult *r = ia_pg_q(x, "meta get", "SELECT value FROM meta WHERE key = $1", &a);
    if (!r) return -1;
    if (PQntuples(r) > 0) k->out = ia_pg_dup(r, 0, 0);
    PQclear(r);
    return 0;
}

static int pg_meta_get(ia_store *s, const char *key, char **out, ia_err *err) {
    kv_arg k = {.key = key};
    int rc = ia_pg_run(s, op_meta_get, &k, true, err);
    *out = rc == 0 ? k.out : NULL;
    if (rc != 0) free(k.out);
    return rc;
}

static int op_meta_put(pgx *x, void *p) {
    kv_arg *k = p;
    pgargs a = {0};
    ia_pg_text(&a, k->key);
    ia_pg_text(&a, k->value);
    return ia_pg_exec(x, "meta put",
                      "INSERT INTO meta (key, value) VALUES ($1, $2) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value", &a);
}

static int pg_meta_put(ia_store *s, const char *key, const char *value, ia_err *err) {
    if (!key || !value) return ia_fail(err, IA_EINTERNAL, "store: meta key and value required");
    kv_arg k = {.key = key, .value = value};
    return ia_pg_run(s, op_meta_put, &k, true, err);
}

static int op_tokens_put(pgx *x, void *p) {
    kv_arg *k = p;
    /* bytea's hex input form: native-endian int32s, as SQLite keeps them */
    size_t bytes = k->n * sizeof *k->toks;
    char *hex = ia_xmalloc(2 * bytes + 3);
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = (const unsigned char *)k->toks;
    hex[0] = '\\';
    hex[1] = 'x';
    for (size_t i = 0; i < bytes; i++) {
        hex[2 + 2 * i] = digits[b[i] >> 4];
        hex[3 + 2 * i] = digits[b[i] & 15];
    }
    hex[2 + 2 * bytes] = '\0';
    pgargs a = {0};
    ia_pg_text(&a, k->owner ? k->owner : "");
    ia_pg_text(&a, k->vocab ? k->vocab : "");
    ia_pg_text(&a, k->hash);
    ia_pg_text(&a, k->id);
    ia_pg_text(&a, hex);
    int rc = ia_pg_exec(x, "output tokens put",
                        "INSERT INTO output_tokens (owner, vocab, hash, id, tokens) VALUES ($1, $2, $3, $4, "
                        "$5::bytea) ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, "
                        "vocab = excluded.vocab, hash = excluded.hash, tokens = excluded.tokens, seq = DEFAULT",
                        &a);
    free(hex);
    return rc;
}

static int pg_tokens_put(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                         const int32_t *toks, size_t n, ia_err *err) {
    if (!n || n > (size_t)INT32_MAX / sizeof *toks) return 0;
    kv_arg k = {.owner = owner, .vocab = vocab, .hash = hash, .id = id, .toks = toks, .n = n};
    return ia_pg_run(s, op_tokens_put, &k, true, err);
}

static int op_tokens_get(pgx *x, void *p) {
    kv_arg *k = p;
    free(k->got);
    k->got = NULL;
    k->n = 0;
    pgargs a = {0};
    ia_pg_text(&a, k->owner ? k->owner : "");
    ia_pg_text(&a, k->vocab ? k->vocab : "");
    ia_pg_text(&a, k->hash);
    ia_pg_text(&a, k->id);
    /* $4: the interaction that wrote them, when known (a chain) */
    PGresult *r = ia_pg_q(x, "output tokens get",
                          "SELECT tokens FROM output_tokens WHERE owner = $1 AND vocab = $2 AND hash = $3 "
                          "AND ($4::text IS NULL OR id = $4::text) ORDER BY seq DESC LIMIT 1", &a);
    if (!r) return -1;
    if (PQntuples(r) > 0) {
        size_t bytes = 0;
        unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &bytes);
        if (b && bytes > 0 && bytes % sizeof *k->got == 0) {
            k->got = ia_xmalloc(bytes);
            memcpy(k->got, b, bytes);
            k->n = bytes / sizeof *k->got;
        }
        PQfreemem(b);
    }
    PQclear(r);
    return 0;
}

static int pg_tokens_get(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                         int32_t **out, size_t *n, ia_err *err) {
    kv_arg k = {.owner = owner, .vocab = vocab, .hash = hash, .id = id};
    int rc = ia_pg_run(s, op_tokens_get, &k, true, err);
    *out = rc == 0 ? k.got : NULL;
    *n = rc == 0 ? k.n : 0;
    if (rc != 0) free(k.got);
    return rc;
}

/* ---- the backend's table (store/backend.h) ------------------------------------------ */

const ia_store_ops ia_pg_ops = {
    .name = "postgres",
    .close = ia_pg_close,
    .set_instance = ia_pg_set_instance,
    .put = pg_put,
    .finish = pg_finish,
    .append_events = pg_append_events,
    .last_seq = pg_last_seq,
    .get = pg_get,
    .del = pg_delete,
    .events = pg_events,
    .recover = pg_recover,
    .sweep = pg_sweep,
    .tokens_put = pg_tokens_put,
    .tokens_get = pg_tokens_get,
    .meta_get = pg_meta_get,
    .meta_put = pg_meta_put,
    .file_insert = ia_pg_file_insert,
    .file_update = ia_pg_file_update,
    .file_get = ia_pg_file_get,
    .file_by_upload = ia_pg_file_by_upload,
    .file_list = ia_pg_file_list,
    .file_delete = ia_pg_file_delete,
    .file_usage = ia_pg_file_usage,
    .file_sweep = ia_pg_file_sweep,
    .file_blob_known = ia_pg_file_blob_known,
    .list = ia_pg_list,
    .set_lease = ia_pg_set_lease,
    .lease_renew = ia_pg_lease_renew,
    .takeover = ia_pg_takeover,
    .cancel_request = ia_pg_cancel_request,
    .listen = ia_pg_listen,
    .fs = &ia_pg_fs_ops,
    .agent_create = ia_pg_agent_create,
    .agent_get = ia_pg_agent_get,
    .agent_list = ia_pg_agent_list,
    .agent_delete = ia_pg_agent_delete,
};
