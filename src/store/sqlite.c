/* sqlite: the embedded store, SQLite in WAL mode behind the store.h contract.
 *
 * One connection serves the whole process, guarded by a mutex; every
 * statement is prepared once at open and reused (reset after each use so no
 * read transaction lingers and blocks WAL checkpoints). A single writer is
 * what SQLite allows anyway, and the work per call is small next to model
 * inference, so a pool would buy little today; the mutex keeps the contract
 * ("every function is thread-safe") trivially true. Rows hold the
 * conversation through the neutral codec (store/codec.c), statuses and kinds
 * as stable names rather than enum numbers, so old files stay readable as the
 * enums grow. The schema is versioned with PRAGMA user_version and upgraded
 * by the ordered `migrations` list below; a file from a newer build is
 * refused rather than misread. */
#include "store/store.h"
#include "store/store_int.h"
#include "store/backend.h"
#include "store/fsearch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "lib/util.h"

/* ---- schema -------------------------------------------------------------- */

#define SCHEMA_VERSION ia_store_n_migrations

/* The visibility rule of store.h in SQL: the caller's own, unexpired rows. */
#define VISIBLE "owner = ?2 AND (expires = 0 OR expires > ?3)"
#define ROW_COLS                                                                        \
    "id, owner, model, previous_id, system_instruction, status, created, updated, "    \
    "expires, background, input, output, has_usage, usage_input, usage_output, "       \
    "usage_thought, usage_cached, usage_tool_use, error, gen_config, error_code, "  \
    "response_format, usage_by, agent, agent_config"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_UPSERT,
    ST_GET,
    ST_DELETE,
    ST_EV_INSERT,
    ST_EV_MAXSEQ,
    ST_EV_LIST,
    ST_IN_PROGRESS,
    ST_FAIL_ROW,
    ST_SET_OUTPUT,
    ST_SWEEP,
    ST_META_GET,
    ST_META_PUT,
    ST_TOK_PUT,
    ST_TOK_GET,
    ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    /* An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first,
     * and that delete would cascade to (and wipe) the event log. */
    [ST_UPSERT] = "INSERT INTO interactions (" ROW_COLS ") VALUES "
                  "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                  "?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25) ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, "
                  "model = excluded.model, previous_id = excluded.previous_id, "
                  "system_instruction = excluded.system_instruction, status = excluded.status, "
                  "created = excluded.created, updated = excluded.updated, "
                  "expires = excluded.expires, background = excluded.background, "
                  "input = excluded.input, output = excluded.output, "
                  "has_usage = excluded.has_usage, usage_input = excluded.usage_input, "
                  "usage_output = excluded.usage_output, usage_thought = excluded.usage_thought, "
                  "usage_cached = excluded.usage_cached, "
                  "usage_tool_use = excluded.usage_tool_use, error = excluded.error, "
                  "gen_config = excluded.gen_config, error_code = excluded.error_code, "
                  "response_format = excluded.response_format, usage_by = excluded.usage_by, "
                  "agent = excluded.agent, agent_config = excluded.agent_config",
    [ST_GET] = "SELECT " ROW_COLS " FROM interactions WHERE id = ?1 AND " VISIBLE,
    [ST_DELETE] = "DELETE FROM interactions WHERE id = ?1 AND " VISIBLE,
    [ST_EV_INSERT] = "INSERT INTO events (id, seq, kind, idx, status, ckind, text, code) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id, seq) DO NOTHING",
    [ST_EV_MAXSEQ] = "SELECT coalesce(max(seq), 0) FROM events WHERE id = ?1",
    [ST_EV_LIST] = "SELECT seq, kind, idx, status, ckind, text, code FROM events "
                   "WHERE id = ?1 AND seq > ?2 ORDER BY seq",
    [ST_IN_PROGRESS] = "SELECT id FROM interactions WHERE status = 'in_progress'",
    [ST_FAIL_ROW] = "UPDATE interactions SET status = 'failed', error = ?2, updated = ?3, "
                    "error_code = 'internal' "
                    "WHERE id = ?1",
    [ST_SET_OUTPUT] = "UPDATE interactions SET output = ?2 WHERE id = ?1",
    [ST_SWEEP] = "DELETE FROM interactions WHERE expires > 0 AND expires <= ?1",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_TOK_PUT] = "INSERT OR REPLACE INTO output_tokens (owner, vocab, hash, id, tokens) VALUES (?1, ?2, ?3, ?4, ?5)",
    /* ?4: the interaction that wrote them, when known (a chain): its own
     * tokens, whatever other answer has the same text */
    [ST_TOK_GET] = "SELECT tokens FROM output_tokens WHERE owner = ?1 AND vocab = ?2 AND hash = ?3 "
                   "AND (?4 IS NULL OR id = ?4) ORDER BY rowid DESC LIMIT 1",
    [ST_META_PUT] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
};

typedef struct sq_store {
    ia_store base; /* first: the ops table (store/backend.h) */
    sqlite3 *db;
    pthread_mutex_t mu;
    sqlite3_stmt *st[ST__COUNT];
} sq_store;

static const ia_store_ops sq_ops;

/* ---- helpers (all called with s->mu held) -------------------------------- */

static int db_fail(sq_store *s, ia_err *err, const char *what) {
    return ia_fail(err, IA_EINTERNAL, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* The cached statement, ready to bind. */
static sqlite3_stmt *stmt(sq_store *s, int which) {
    sqlite3_stmt *st = s->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Releases a statement after use so it holds no read snapshot. */
static void done(sqlite3_stmt *st) { sqlite3_reset(st); }

/* Runs a statement that returns no rows. */
static int step_done(sq_store *s, sqlite3_stmt *st, ia_err *err, const char *what) {
    int rc = sqlite3_step(st);
    done(st);
    if (rc != SQLITE_DONE) return db_fail(s, err, what);
    return 0;
}

static int begin(sq_store *s, ia_err *err) {
    return step_done(s, stmt(s, ST_BEGIN), err, "begin");
}

static int commit(sq_store *s, ia_err *err) {
    if (step_done(s, stmt(s, ST_COMMIT), err, "commit") != 0) {
        /* A failed COMMIT can leave the transaction open; end it so the
         * connection stays usable for the next caller. */
        if (!sqlite3_get_autocommit(s->db)) step_done(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
        return -1;
    }
    return 0;
}

static void rollback(sq_store *s) {
    if (!sqlite3_get_autocommit(s->db)) step_done(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i) {
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? ia_strdup((const char *)v) : NULL;
}

static int upsert_locked(sq_store *s, const ia_interaction *it, ia_err *err) {
    const char *status = ia_status_name(it->status);
    if (!it->id[0]) return ia_fail(err, IA_EINTERNAL, "store: interaction without an id");
    if (!status) return ia_fail(err, IA_EINTERNAL, "store: unknown status %d", (int)it->status);
    char *input = ia_codec_conv_encode(&it->input);
    char *output = ia_codec_turn_encode(&it->output);
    char *gen = ia_codec_gen_encode(&it->gen); /* NULL: none set */
    char *rformat = ia_codec_rformat_encode(&it->rformat); /* NULL: none given */
    int rc = -1;
    if (!input || !output) {
        ia_fail(err, IA_EINTERNAL, "store: cannot encode the conversation of %s", it->id);
        goto out;
    }
    sqlite3_stmt *st = stmt(s, ST_UPSERT);
    bind_text(st, 1, it->id);
    bind_text(st, 2, it->owner ? it->owner : "");
    bind_text(st, 3, it->model);
    bind_text(st, 4, it->previous_id);
    bind_text(st, 5, it->system_instruction);
    bind_text(st, 6, status);
    sqlite3_bind_int64(st, 7, it->created);
    sqlite3_bind_int64(st, 8, it->updated);
    sqlite3_bind_int64(st, 9, it->expires);
    sqlite3_bind_int(st, 10, it->background ? 1 : 0);
    bind_text(st, 11, input);
    bind_text(st, 12, output);
    sqlite3_bind_int(st, 13, it->has_usage ? 1 : 0);
    sqlite3_bind_int64(st, 14, it->usage.input);
    sqlite3_bind_int64(st, 15, it->usage.output);
    sqlite3_bind_int64(st, 16, it->usage.thought);
    sqlite3_bind_int64(st, 17, it->usage.cached);
    sqlite3_bind_int64(st, 18, it->usage.tool_use);
    bind_text(st, 19, it->error);
    bind_text(st, 20, gen);
    bind_text(st, 21, it->error_code != IA_OK ? ia_err_wire_code(it->error_code) : NULL);
    bind_text(st, 22, rformat);
    char by[512];
    bind_text(st, 23, ia_codec_usage_by_encode(&it->usage, by, sizeof by));
    bind_text(st, 24, it->agent);
    bind_text(st, 25, it->agent_config);
    rc = step_done(s, st, err, "put");
out:
    free(input);
    free(output);
    free(gen);
    free(rformat);
    return rc;
}

static int max_seq_locked(sq_store *s, const char *id, int64_t *out, ia_err *err) {
    sqlite3_stmt *st = stmt(s, ST_EV_MAXSEQ);
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        done(st);
        return db_fail(s, err, "events");
    }
    *out = sqlite3_column_int64(st, 0);
    done(st);
    return 0;
}

/* Inserts evs; an event whose seq is <= 0 gets the next free one. */
static int append_locked(sq_store *s, const char *id, const ia_event *evs, size_t n,
                         ia_err *err) {
    int64_t stored = -1; /* max seq in the table before this batch; read lazily */
    int64_t hi = 0;      /* max seq of this batch so far */
    for (size_t i = 0; i < n; i++) {
        const ia_event *e = &evs[i];
        const char *kind = ia_store_event_kind_name(e->kind);
        if (!kind) return ia_fail(err, IA_EINTERNAL, "store: unknown event kind %d", (int)e->kind);
        int64_t seq = e->seq;
        if (seq <= 0) {
            if (stored < 0 && max_seq_locked(s, id, &stored, err) != 0) return -1;
            seq = (stored > hi ? stored : hi) + 1;
        }
        if (seq > hi) hi = seq;
        sqlite3_stmt *st = stmt(s, ST_EV_INSERT);
        bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, seq);
        bind_text(st, 3, kind);
        sqlite3_bind_int(st, 4, e->index);
        bind_text(st, 5, ia_status_name(e->status));
        bind_text(st, 6, ia_codec_content_kind_name(e->ckind));
        char *part = ia_codec_event_encode(e);
        bind_text(st, 7, part ? part : e->text);
        bind_text(st, 8, ia_codec_event_code(e));
        int rc = step_done(s, st, err, "append event");
        free(part);
        if (rc != 0) return -1;
    }
    return 0;
}

/* ---- open / close -------------------------------------------------------- */

static int exec(sqlite3 *db, const char *sql, ia_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ia_fail(err, IA_EINTERNAL, "store: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int *out, ia_err *err) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        ia_fail(err, IA_EINTERNAL, "store: %s: %s", sql, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Brings the file to SCHEMA_VERSION, one migration per transaction so a
 * crash mid-upgrade leaves a consistent version behind. */
static int migrate(sqlite3 *db, ia_err *err) {
    int version;
    if (pragma_int(db, "PRAGMA user_version", &version, err) != 0) return -1;
    if (version > SCHEMA_VERSION)
        return ia_fail(err, IA_EINTERNAL,
                       "store: the database has schema version %d, newer than this build's %d",
                       version, SCHEMA_VERSION);
    for (int v = version; v < SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if (exec(db, "BEGIN IMMEDIATE", err) != 0) return -1;
        if (exec(db, ia_store_migrations[v], err) != 0 || exec(db, bump, err) != 0 ||
            exec(db, "COMMIT", err) != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    return 0;
}

ia_store *ia_store_sqlite_open(const char *path, ia_err *err) {
    if (!path) {
        ia_fail(err, IA_EINTERNAL, "store: no path");
        return NULL;
    }
    sq_store *s = ia_xcalloc(1, sizeof *s);
    /* NOMUTEX: s->mu already serializes every use of the connection. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
        ia_fail(err, IA_EINTERNAL, "store: cannot open %s: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* Another process (an operator's sqlite3 shell, a backup) may hold the
     * lock briefly: wait rather than fail a request. */
    sqlite3_busy_timeout(s->db, 5000);
    /* WAL + synchronous=NORMAL: the requirement is that an interaction
     * acknowledged to a client survives a crash of this process (kill -9).
     * In WAL mode a COMMIT has written the transaction into the WAL file
     * before returning; once in the OS page cache it survives the process
     * dying, so NORMAL meets that requirement. What NORMAL gives up versus
     * FULL is only durability of the last commits across a power loss or
     * kernel crash (never corruption), and it saves an fsync per commit,
     * which matters because events are appended many times per request. */
    char *mode = NULL;
    {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            mode = col_dup(st, 0);
        sqlite3_finalize(st);
    }
    /* An in-memory database (tests) reports "memory"; any real file must
     * really be in WAL, or the durability argument above does not hold. */
    if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)) {
        ia_fail(err, IA_EINTERNAL, "store: cannot enable WAL on %s (journal mode %s): %s", path,
                mode ? mode : "?", sqlite3_errmsg(s->db));
        free(mode);
        goto fail;
    }
    free(mode);
    if (exec(s->db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;", err) != 0)
        goto fail;
    if (migrate(s->db, err) != 0) goto fail;
    for (int i = 0; i < ST__COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            ia_fail(err, IA_EINTERNAL, "store: prepare: %s", sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    pthread_mutex_init(&s->mu, NULL);
    s->base.ops = &sq_ops;
    return &s->base;
fail:
    for (int i = 0; i < ST__COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

static void sq_close(ia_store *b_) {
    sq_store *s = (sq_store *)b_;
    if (!s) return;
    for (int i = 0; i < ST__COUNT; i++) sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

sqlite3 *ia_sq_lock(ia_store *b_) {
    sq_store *s = (sq_store *)b_;
    pthread_mutex_lock(&s->mu);
    return s->db;
}

void ia_sq_unlock(ia_store *b_) { pthread_mutex_unlock(&((sq_store *)b_)->mu); }

/* ---- interactions -------------------------------------------------------- */

static int sq_put(ia_store *b_, const ia_interaction *it, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    pthread_mutex_lock(&s->mu);
    int rc = upsert_locked(s, it, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_finish(ia_store *b_, const ia_interaction *it, const ia_event *evs, size_t n,
                    ia_err *err) {
    sq_store *s = (sq_store *)b_;
    pthread_mutex_lock(&s->mu);
    int rc = begin(s, err);
    if (rc == 0) {
        if (upsert_locked(s, it, err) != 0 || append_locked(s, it->id, evs, n, err) != 0 ||
            commit(s, err) != 0) {
            rollback(s);
            rc = -1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int sq_append_events(ia_store *b_, const char *id, const ia_event *evs, size_t n,
                           ia_err *err) {
    sq_store *s = (sq_store *)b_;
    if (n == 0) return 0;
    pthread_mutex_lock(&s->mu);
    /* One transaction for the batch: one WAL commit instead of n. */
    int rc = begin(s, err);
    if (rc == 0) {
        if (append_locked(s, id, evs, n, err) != 0 || commit(s, err) != 0) {
            rollback(s);
            rc = -1;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int row_to_interaction(sqlite3_stmt *st, ia_interaction *out, ia_err *err) {
    const char *id = (const char *)sqlite3_column_text(st, 0);
    snprintf(out->id, sizeof out->id, "%s", id ? id : "");
    out->owner = col_dup(st, 1);
    out->model = col_dup(st, 2);
    out->previous_id = col_dup(st, 3);
    out->system_instruction = col_dup(st, 4);
    const char *status = (const char *)sqlite3_column_text(st, 5);
    int sv = status ? ia_status_parse(status) : -1;
    out->created = sqlite3_column_int64(st, 6);
    out->updated = sqlite3_column_int64(st, 7);
    out->expires = sqlite3_column_int64(st, 8);
    out->background = sqlite3_column_int(st, 9) != 0;
    out->has_usage = sqlite3_column_int(st, 12) != 0;
    out->usage.input = sqlite3_column_int64(st, 13);
    out->usage.output = sqlite3_column_int64(st, 14);
    out->usage.thought = sqlite3_column_int64(st, 15);
    out->usage.cached = sqlite3_column_int64(st, 16);
    out->usage.tool_use = sqlite3_column_int64(st, 17);
    ia_codec_usage_by_decode((const char *)sqlite3_column_text(st, 22), &out->usage);
    out->error = col_dup(st, 18);
    out->agent = col_dup(st, 23);
    out->agent_config = col_dup(st, 24);
    out->error_code = ia_err_from_wire_code((const char *)sqlite3_column_text(st, 20));
    if (sv < 0) return ia_fail(err, IA_EINTERNAL, "store: %s has an unknown status", out->id);
    out->status = (ia_status)sv;
    if (ia_codec_conv_decode((const char *)sqlite3_column_text(st, 10), &out->input) != 0 ||
        ia_codec_turn_decode((const char *)sqlite3_column_text(st, 11), &out->output) != 0)
        return ia_fail(err, IA_EINTERNAL, "store: %s has an undecodable conversation", out->id);
    if (ia_codec_gen_decode((const char *)sqlite3_column_text(st, 19), &out->gen) != 0)
        return ia_fail(err, IA_EINTERNAL, "store: %s has an undecodable generation_config", out->id);
    if (ia_codec_rformat_decode((const char *)sqlite3_column_text(st, 21), &out->rformat) != 0)
        return ia_fail(err, IA_EINTERNAL, "store: %s has an undecodable response_format", out->id);
    return 0;
}

static int sq_get(ia_store *b_, const char *id, const char *owner, int64_t now,
                 ia_interaction *out, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    memset(out, 0, sizeof *out);
    if (!id) return ia_fail(err, IA_ENOTFOUND, "interaction not found");
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, ST_GET);
    bind_text(st, 1, id);
    bind_text(st, 2, owner ? owner : "");
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    int ret;
    if (rc == SQLITE_ROW) {
        ret = row_to_interaction(st, out, err);
        if (ret != 0) ia_interaction_free(out);
    } else if (rc == SQLITE_DONE) {
        ret = ia_fail(err, IA_ENOTFOUND, "interaction %s not found", id);
    } else {
        ret = db_fail(s, err, "get");
    }
    done(st);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

static int sq_delete(ia_store *b_, const char *id, const char *owner, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    if (!id) return ia_fail(err, IA_ENOTFOUND, "interaction not found");
    pthread_mutex_lock(&s->mu);
    /* An expired row counts as missing here too; the sweeper removes it. */
    sqlite3_stmt *st = stmt(s, ST_DELETE);
    bind_text(st, 1, id);
    bind_text(st, 2, owner ? owner : "");
    sqlite3_bind_int64(st, 3, ia_now());
    int ret = step_done(s, st, err, "delete");
    if (ret == 0 && sqlite3_changes(s->db) == 0)
        ret = ia_fail(err, IA_ENOTFOUND, "interaction %s not found", id);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

static int sq_last_seq(ia_store *b_, const char *id, int64_t *out, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    pthread_mutex_lock(&s->mu);
    int rc = max_seq_locked(s, id, out, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* One row of ST_EV_LIST into e (zeroed by the caller); -1 when a stored
 * name is unknown. */
static int row_to_event(sqlite3_stmt *st, ia_event *e) {
    e->seq = sqlite3_column_int64(st, 0);
    int kind = ia_store_event_kind_parse((const char *)sqlite3_column_text(st, 1));
    e->index = sqlite3_column_int(st, 2);
    const char *status = (const char *)sqlite3_column_text(st, 3);
    int sv = status ? ia_status_parse(status) : 0;
    const char *ckind = (const char *)sqlite3_column_text(st, 4);
    int cv = ckind ? ia_codec_content_kind_parse(ckind) : 0;
    if (kind < 0 || sv < 0 || cv < 0) return -1;
    e->kind = (ia_event_kind)kind;
    e->status = (ia_status)sv;
    e->ckind = (ia_content_kind)cv;
    ia_codec_event_decode(e, (const char *)sqlite3_column_text(st, 5), (const char *)sqlite3_column_text(st, 6));
    return 0;
}

/* The events of id past after_seq, decoded (ia_store_events' contract),
 * under s->mu. */
static int events_locked(sq_store *s, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                         ia_err *err) {
    *out = NULL;
    *n = 0;
    ia_event *evs = NULL;
    size_t len = 0, cap = 0;
    int ret = 0;
    sqlite3_stmt *st = stmt(s, ST_EV_LIST);
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, after_seq);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            evs = ia_xrealloc(evs, cap * sizeof *evs);
        }
        ia_event *e = &evs[len++];
        memset(e, 0, sizeof *e);
        if (row_to_event(st, e) != 0) {
            ret = ia_fail(err, IA_EINTERNAL, "store: event %lld of %s is unreadable", (long long)e->seq, id);
            break;
        }
    }
    if (ret == 0 && rc != SQLITE_DONE) ret = db_fail(s, err, "events");
    done(st);
    if (ret != 0) {
        ia_events_free(evs, len);
        return -1;
    }
    *out = evs;
    *n = len;
    return 0;
}

static int sq_events(ia_store *b_, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                    ia_err *err) {
    sq_store *s = (sq_store *)b_;
    pthread_mutex_lock(&s->mu);
    int rc = events_locked(s, id, after_seq, out, n, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- recovery and retention ---------------------------------------------- */

/* A run's outputs reach its row only with its final record, its events as
 * it goes: the items of id's event log (ia_events_fold) become the row's
 * output, so a recovered interaction keeps what it produced. A log that
 * describes no item leaves the row's output as it was. A tool result comes
 * back without what the model read of it (`fetched` is in no event): a
 * chain continued from it renders the result itself. Under s->mu, inside
 * the recovery's transaction. */
static int recover_outputs_locked(sq_store *s, const char *id, ia_err *err) {
    ia_event *evs = NULL;
    size_t n = 0;
    ia_err rerr = {0};
    if (events_locked(s, id, 0, &evs, &n, &rerr) != 0) {
        /* a row this build cannot read (a newer one's kind) must not stop
         * the start-up: the record stays as it is, failed */
        ia_warn("recovery: the events of %s could not be read (%s); its outputs are left as stored", id, rerr.msg);
        (void)err;
        return 0;
    }
    char *json = ia_store_recovered_output(evs, n);
    ia_events_free(evs, n);
    if (!json) return 0; /* nothing (encodable) to keep: the row's output stands */
    sqlite3_stmt *st = stmt(s, ST_SET_OUTPUT);
    bind_text(st, 1, id);
    bind_text(st, 2, json);
    int rc = step_done(s, st, err, "recover outputs");
    free(json);
    return rc;
}

static int sq_recover(ia_store *b_, int64_t now, const char *message, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    if (!message) message = "interrupted by a server restart";
    char **ids = NULL;
    size_t n = 0, cap = 0;
    int ret = -1;
    pthread_mutex_lock(&s->mu);
    if (begin(s, err) != 0) goto out;
    /* Collect first: updating rows while stepping a query over the same
     * table is allowed in SQLite but easy to get wrong. */
    sqlite3_stmt *st = stmt(s, ST_IN_PROGRESS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ids = ia_xrealloc(ids, cap * sizeof *ids);
        }
        ids[n++] = col_dup(st, 0);
    }
    done(st);
    if (rc != SQLITE_DONE) {
        db_fail(s, err, "recover");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        st = stmt(s, ST_FAIL_ROW);
        bind_text(st, 1, ids[i]);
        bind_text(st, 2, message);
        sqlite3_bind_int64(st, 3, now);
        if (step_done(s, st, err, "recover") != 0) goto fail;
        if (recover_outputs_locked(s, ids[i], err) != 0) goto fail;
        /* The events land past whatever the run had flushed plus
         * IA_STORE_RECOVER_SEQ_GAP: a live client may have seen events that
         * never reached the store, and their ids must not name these. So a
         * client resuming by any last_event_id it saw gets the error, the
         * failed status and the closing interaction.complete, as a live
         * failure would send them. */
        int64_t last = 0;
        if (max_seq_locked(s, ids[i], &last, err) != 0) goto fail;
        ia_event evs[3] = {
            {.seq = last + IA_STORE_RECOVER_SEQ_GAP + 1, .kind = IA_EV_ERROR,
             .status = IA_STATUS_FAILED, .text = (char *)message,
             .code = (char *)ia_err_wire_code(IA_EINTERNAL)},
            {.seq = last + IA_STORE_RECOVER_SEQ_GAP + 2, .kind = IA_EV_STATUS,
             .status = IA_STATUS_FAILED},
            {.seq = last + IA_STORE_RECOVER_SEQ_GAP + 3, .kind = IA_EV_COMPLETE,
             .status = IA_STATUS_FAILED},
        };
        if (append_locked(s, ids[i], evs, 3, err) != 0) goto fail;
    }
    if (commit(s, err) != 0) goto fail;
    ret = (int)n;
    goto out;
fail:
    rollback(s);
out:
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
    return ret;
}

static int sq_sweep(ia_store *b_, int64_t now, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, ST_SWEEP);
    sqlite3_bind_int64(st, 1, now);
    /* The events go with their rows through ON DELETE CASCADE, in the same
     * implicit transaction. */
    int ret = step_done(s, st, err, "sweep");
    if (ret == 0) ret = sqlite3_changes(s->db);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* ---- meta ---------------------------------------------------------------- */

static int sq_meta_get(ia_store *b_, const char *key, char **out, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    *out = NULL;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, ST_META_GET);
    bind_text(st, 1, key);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) *out = col_dup(st, 0);
    else if (rc != SQLITE_DONE) ret = db_fail(s, err, "meta get");
    done(st);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

static int sq_meta_put(ia_store *b_, const char *key, const char *value, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    if (!key || !value) return ia_fail(err, IA_EINTERNAL, "store: meta key and value required");
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, ST_META_PUT);
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    int ret = step_done(s, st, err, "meta put");
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* ---- output tokens ----------------------------------------------------------- */

static int sq_tokens_put(ia_store *b_, const char *owner, const char *vocab, const char *hash, const char *id,
                        const int32_t *toks, size_t n, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    if (!n || n > (size_t)INT32_MAX / sizeof *toks) return 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, ST_TOK_PUT);
    bind_text(st, 1, owner ? owner : "");
    bind_text(st, 2, vocab ? vocab : "");
    bind_text(st, 3, hash);
    bind_text(st, 4, id);
    /* native-endian int32s: the file is read back by this build's machine
     * kind (the kept KV files are no more portable) */
    sqlite3_bind_blob(st, 5, toks, (int)(n * sizeof *toks), SQLITE_STATIC);
    int ret = step_done(s, st, err, "output tokens put");
    pthread_mutex_unlock(&s->mu);
    return ret;
}

static int sq_tokens_get(ia_store *b_, const char *owner, const char *vocab, const char *hash, const char *id,
                        int32_t **out, size_t *n, ia_err *err) {
    sq_store *s = (sq_store *)b_;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = stmt(s, ST_TOK_GET);
    bind_text(st, 1, owner ? owner : "");
    bind_text(st, 2, vocab ? vocab : "");
    bind_text(st, 3, hash);
    if (id) bind_text(st, 4, id);
    else sqlite3_bind_null(st, 4);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        int bytes = sqlite3_column_bytes(st, 0);
        const void *b = sqlite3_column_blob(st, 0);
        if (b && bytes > 0 && bytes % (int)sizeof **out == 0) {
            *out = ia_xmalloc((size_t)bytes);
            memcpy(*out, b, (size_t)bytes);
            *n = (size_t)bytes / sizeof **out;
        }
    } else if (rc != SQLITE_DONE) {
        ret = db_fail(s, err, "output tokens get");
    }
    done(st);
    pthread_mutex_unlock(&s->mu);
    return ret;
}

/* ---- the backend's table (store/backend.h) --------------------------------- */

static const ia_store_ops sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .put = sq_put,
    .finish = sq_finish,
    .append_events = sq_append_events,
    .last_seq = sq_last_seq,
    .get = sq_get,
    .del = sq_delete,
    .events = sq_events,
    .recover = sq_recover,
    .sweep = sq_sweep,
    .tokens_put = sq_tokens_put,
    .tokens_get = sq_tokens_get,
    .meta_get = sq_meta_get,
    .meta_put = sq_meta_put,
    .file_insert = ia_sq_file_insert,
    .file_update = ia_sq_file_update,
    .file_get = ia_sq_file_get,
    .file_by_upload = ia_sq_file_by_upload,
    .file_list = ia_sq_file_list,
    .file_delete = ia_sq_file_delete,
    .file_usage = ia_sq_file_usage,
    .file_sweep = ia_sq_file_sweep,
    .file_blob_known = ia_sq_file_blob_known,
    .list = ia_sq_list,
    .fs = &ia_sq_fs_ops,
    .agent_create = ia_sq_agent_create,
    .agent_get = ia_sq_agent_get,
    .agent_list = ia_sq_agent_list,
    .agent_delete = ia_sq_agent_delete,
};
