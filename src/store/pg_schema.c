/* pg_schema: the PostgreSQL store's schema as ordered migrations, applied
 * once under an advisory lock (pg_int.h). The tables mirror SQLite's
 * (store/schema.c) at its version 7, with PostgreSQL's types; the version
 * numbers are this backend's own. Append only: a shipped entry is never
 * edited, later issues add entries. */
#include <stdio.h>
#include <stdlib.h>

#include "store/pg_int.h"

static const char *const migrations[] = {
    /* 1: interactions and their event log (cascading with their row), meta,
     * the sampled tokens of answers, the Files API rows. `seq` columns give
     * the insertion order SQLite's rowid gave. */
    "CREATE TABLE interactions ("
    "  id TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  model TEXT,"
    "  previous_id TEXT,"
    "  system_instruction TEXT,"
    "  status TEXT NOT NULL,"
    "  created BIGINT NOT NULL,"
    "  updated BIGINT NOT NULL,"
    "  expires BIGINT NOT NULL DEFAULT 0,"
    "  background INTEGER NOT NULL DEFAULT 0,"
    "  input TEXT NOT NULL,"
    "  output TEXT NOT NULL,"
    "  has_usage INTEGER NOT NULL DEFAULT 0,"
    "  usage_input BIGINT NOT NULL DEFAULT 0,"
    "  usage_output BIGINT NOT NULL DEFAULT 0,"
    "  usage_thought BIGINT NOT NULL DEFAULT 0,"
    "  usage_cached BIGINT NOT NULL DEFAULT 0,"
    "  usage_tool_use BIGINT NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  gen_config TEXT,"
    "  error_code TEXT,"
    "  response_format TEXT,"
    "  usage_by TEXT"
    ");"
    "CREATE INDEX interactions_expires ON interactions(expires);"
    "CREATE INDEX interactions_status ON interactions(status);"
    "CREATE TABLE events ("
    "  id TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,"
    "  seq BIGINT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  idx INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT,"
    "  ckind TEXT,"
    "  text TEXT,"
    "  code TEXT,"
    "  PRIMARY KEY (id, seq)"
    ");"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE output_tokens ("
    "  id TEXT PRIMARY KEY REFERENCES interactions(id) ON DELETE CASCADE,"
    "  owner TEXT NOT NULL,"
    "  vocab TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  tokens BYTEA NOT NULL,"
    "  seq BIGSERIAL"
    ");"
    "CREATE INDEX output_tokens_text ON output_tokens(owner, vocab, hash);"
    "CREATE TABLE files ("
    "  owner TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  upload_id TEXT NOT NULL UNIQUE,"
    "  blob TEXT NOT NULL,"
    "  display_name TEXT,"
    "  mime_type TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  declared BIGINT NOT NULL DEFAULT -1,"
    "  size BIGINT NOT NULL DEFAULT 0,"
    "  sha256 TEXT,"
    "  error TEXT,"
    "  created BIGINT NOT NULL,"
    "  updated BIGINT NOT NULL,"
    "  expires BIGINT NOT NULL,"
    "  seq BIGSERIAL,"
    "  PRIMARY KEY (owner, id)"
    ");"
    "CREATE INDEX files_expires ON files(expires);"
    "CREATE INDEX files_blob ON files(blob);",
    /* 2: the instance that last wrote a row (ia_store_set_instance), so a
     * starting server recovers its own interrupted runs and not those a
     * live neighbour on the same database is running. NULL: none said. */
    "ALTER TABLE interactions ADD COLUMN runner TEXT;",
    /* 3: several instances on one database (pg_lease.c): the lease of an
     * in_progress row (ms on the database's clock; its runner renews it,
     * another instance takes the row over once it has passed), a cancel
     * asked of an instance that does not run the row, and an index for the
     * renewals and takeover scans, which only look at in_progress rows. */
    "ALTER TABLE interactions ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE interactions ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false;"
    "CREATE INDEX interactions_running ON interactions(runner) WHERE status = 'in_progress';",
    /* 4: file search (store/pg_fsearch.c), SQLite's migration 8 with a
     * tsvector column (english: stemmed as SQLite's porter tokenizer) under
     * a GIN index in place of its FTS5 table. */
    "CREATE TABLE fs_stores ("
    "  owner TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  display_name TEXT,"
    "  embedding_model TEXT,"
    "  created BIGINT NOT NULL,"
    "  updated BIGINT NOT NULL,"
    "  seq BIGSERIAL,"
    "  PRIMARY KEY (owner, id)"
    ");"
    "CREATE TABLE fs_docs ("
    "  owner TEXT NOT NULL,"
    "  store TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  display_name TEXT,"
    "  mime_type TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  size BIGINT NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  upload_id TEXT,"
    "  metadata TEXT,"
    "  chunk_max INTEGER NOT NULL DEFAULT 0,"
    "  chunk_overlap INTEGER NOT NULL DEFAULT 0,"
    "  created BIGINT NOT NULL,"
    "  updated BIGINT NOT NULL,"
    "  seq BIGSERIAL,"
    "  PRIMARY KEY (owner, store, id)"
    ");"
    "CREATE INDEX fs_docs_upload ON fs_docs(upload_id);"
    "CREATE TABLE fs_chunks ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  store TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  start_off BIGINT NOT NULL,"
    "  end_off BIGINT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
    ");"
    "CREATE INDEX fs_chunks_doc ON fs_chunks(owner, store, doc);"
    "CREATE INDEX fs_chunks_tsv ON fs_chunks USING GIN (tsv);",
    /* 5: custom agents (store/agents.h, pg_agents.c), and on an
     * interaction the custom agent that ran it (NULL: none) and the
     * agent_config it was given (api/'s compact JSON; NULL: none). */
    "CREATE TABLE agents ("
    "  owner TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  base_agent TEXT NOT NULL,"
    "  description TEXT,"
    "  system_instruction TEXT,"
    "  tools TEXT,"
    "  agent_config TEXT,"
    "  created BIGINT NOT NULL,"
    "  PRIMARY KEY (owner, id)"
    ");"
    "ALTER TABLE interactions ADD COLUMN agent TEXT;"
    "ALTER TABLE interactions ADD COLUMN agent_config TEXT;",
    /* 6: each chunk's embedding for hybrid file search, as SQLite's
     * migration 10: dim float32 (little-endian, as every supported build
     * writes them) and the model that made it (store/pg_fs_vec.c). */
    "ALTER TABLE fs_chunks ADD COLUMN vec BYTEA, ADD COLUMN vec_model TEXT;",
    /* 7: the instance ingesting a document (ia_store_set_instance's id), so
     * that start-up recovery fails only its own PENDING documents, never
     * those another live instance is ingesting (store/pg_fsearch.c). */
    "ALTER TABLE fs_docs ADD COLUMN runner TEXT;",
};
const int ia_pg_schema_version = (int)(sizeof migrations / sizeof migrations[0]);

/* The advisory lock's key: any constant that other software on the same
 * database is unlikely to pick ("iact" in ASCII). */
#define SCHEMA_LOCK "1767989108"

static int step(pgx *x, const char *sql) { return ia_pg_exec(x, "migrate", sql, NULL); }

static int migrate_locked(pgx *x) {
    if (step(x, "CREATE TABLE IF NOT EXISTS interactd_schema (version INTEGER NOT NULL)") != 0) return -1;
    PGresult *r = ia_pg_q(x, "migrate", "SELECT coalesce(max(version), 0) FROM interactd_schema", NULL);
    if (!r) return -1;
    int version = (int)ia_pg_int(r, 0, 0);
    PQclear(r);
    if (version > ia_pg_schema_version)
        return ia_fail(x->err, IA_EINTERNAL,
                       "store: the database has schema version %d, newer than this build's %d", version,
                       ia_pg_schema_version);
    /* One transaction per migration (PostgreSQL's DDL is transactional): a
     * crash mid-upgrade leaves a consistent version behind. */
    for (int v = version; v < ia_pg_schema_version; v++) {
        pgargs a = {0};
        ia_pg_i64(&a, v + 1);
        if (step(x, "BEGIN") != 0) return -1;
        if (step(x, migrations[v]) != 0 ||
            ia_pg_exec(x, "migrate", "DELETE FROM interactd_schema", NULL) != 0 ||
            ia_pg_exec(x, "migrate", "INSERT INTO interactd_schema (version) VALUES ($1::integer)", &a) != 0 ||
            step(x, "COMMIT") != 0) {
            ia_pg_rollback(x);
            return -1;
        }
    }
    return 0;
}

int ia_pg_migrate(PGconn *c, ia_err *err) {
    pgx x = {.c = c, .err = err};
    /* Session-level: held across the migrations' transactions; another
     * instance starting at the same time waits here, then sees the new
     * version. */
    if (step(&x, "SELECT pg_advisory_lock(" SCHEMA_LOCK ")") != 0) return -1;
    int rc = migrate_locked(&x);
    ia_err ignored = {0};
    x.err = &ignored;
    step(&x, "SELECT pg_advisory_unlock(" SCHEMA_LOCK ")");
    return rc;
}
