/* schema.c: the store's SQLite schema as its ordered migrations (store_int.h). */
#include "store/store_int.h"

/* migrations[i] takes a file from user_version i to i + 1. Append only: a
 * shipped entry is never edited, later issues add entries. */
const char *const ia_store_migrations[] = {
    /* 1: the spine. expires = 0 means "never expires". Events cascade with
     * their interaction, so delete and sweep cannot leave orphans. */
    "CREATE TABLE interactions ("
    "  id TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  model TEXT,"
    "  previous_id TEXT,"
    "  system_instruction TEXT,"
    "  status TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL DEFAULT 0,"
    "  background INTEGER NOT NULL DEFAULT 0,"
    "  input TEXT NOT NULL,"
    "  output TEXT NOT NULL,"
    "  has_usage INTEGER NOT NULL DEFAULT 0,"
    "  usage_input INTEGER NOT NULL DEFAULT 0,"
    "  usage_output INTEGER NOT NULL DEFAULT 0,"
    "  usage_thought INTEGER NOT NULL DEFAULT 0,"
    "  usage_cached INTEGER NOT NULL DEFAULT 0,"
    "  usage_tool_use INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT"
    ");"
    "CREATE INDEX interactions_expires ON interactions(expires);"
    "CREATE INDEX interactions_status ON interactions(status);"
    "CREATE TABLE events ("
    "  id TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  idx INTEGER NOT NULL DEFAULT 0,"
    "  status TEXT,"
    "  ckind TEXT,"
    "  text TEXT,"
    "  code TEXT,"
    "  PRIMARY KEY (id, seq)"
    ") WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
    /* 2: the request's generation_config (codec.c's neutral JSON; NULL when
     * the client set none), echoed by the steps dialect. */
    "ALTER TABLE interactions ADD COLUMN gen_config TEXT;",
    /* 3: a failed interaction's error code by its wire name
     * ("invalid_request"), so GET reports what the stream reported; NULL
     * (rows failed before this column, or not failed) reads as "internal". */
    "ALTER TABLE interactions ADD COLUMN error_code TEXT;",
    /* 4: the tokens a model sampled for an interaction's answer, found by
     * its id (a chain) or by the owner, the vocabulary (an id of it: token
     * ids mean text only there) and a hash of the text (a stateless resend:
     * the newest such answer); they go with the interaction (delete,
     * sweep). */
    "CREATE TABLE output_tokens ("
    "  id TEXT PRIMARY KEY REFERENCES interactions(id) ON DELETE CASCADE,"
    "  owner TEXT NOT NULL,"
    "  vocab TEXT NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  tokens BLOB NOT NULL"
    ");"
    "CREATE INDEX output_tokens_text ON output_tokens(owner, vocab, hash);",
    /* 5: the request's response_format as given (codec.c's neutral JSON;
     * NULL when none, as every older row reads), echoed by the steps
     * dialect. */
    "ALTER TABLE interactions ADD COLUMN response_format TEXT;",
    /* 6: Files API files (store/files.c): metadata only, the bytes are a
     * blob under DATA/files/ named by `blob`. Keyed by owner, so each key
     * has its own names and never learns another's. An upload in progress
     * is a row in state 'uploading' found by its secret upload_id; size is
     * the bytes received so far, declared what the start announced (-1:
     * nothing). Rows expire like interactions (never 0 here). */
    "CREATE TABLE files ("
    "  owner TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  upload_id TEXT NOT NULL UNIQUE,"
    "  blob TEXT NOT NULL,"
    "  display_name TEXT,"
    "  mime_type TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  declared INTEGER NOT NULL DEFAULT -1,"
    "  size INTEGER NOT NULL DEFAULT 0,"
    "  sha256 TEXT,"
    "  error TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  PRIMARY KEY (owner, id)"
    ");"
    "CREATE INDEX files_expires ON files(expires);"
    "CREATE INDEX files_blob ON files(blob);",
    /* 7: usage by modality (input and cached tokens of text, image, audio,
     * video, document), as ia_codec_usage_by_encode writes it. */
    "ALTER TABLE interactions ADD COLUMN usage_by TEXT;",
    /* 8: file search (store/fs_sqlite.c): stores, their documents (custom
     * metadata as fs_codec.c's neutral JSON; an UPLOADING document names
     * the Files API upload it waits for), the documents' chunks and an
     * external-content FTS5 index over the chunks' text kept by triggers.
     * Per owner, as files. A vector table keyed by fs_chunks.id would sit
     * beside fs_chunks_fts (store/fsearch.h). */
    "CREATE TABLE fs_stores ("
    "  owner TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  display_name TEXT,"
    "  embedding_model TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (owner, id)"
    ");"
    "CREATE TABLE fs_docs ("
    "  owner TEXT NOT NULL,"
    "  store TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  display_name TEXT,"
    "  mime_type TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  size INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  upload_id TEXT,"
    "  metadata TEXT,"
    "  chunk_max INTEGER NOT NULL DEFAULT 0,"
    "  chunk_overlap INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (owner, store, id)"
    ");"
    "CREATE INDEX fs_docs_upload ON fs_docs(upload_id);"
    "CREATE TABLE fs_chunks ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  store TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  start_off INTEGER NOT NULL,"
    "  end_off INTEGER NOT NULL,"
    "  text TEXT NOT NULL"
    ");"
    "CREATE INDEX fs_chunks_doc ON fs_chunks(owner, store, doc);"
    "CREATE VIRTUAL TABLE fs_chunks_fts USING fts5(text, content='fs_chunks', content_rowid='id', "
    "  tokenize='porter unicode61 remove_diacritics 2');"
    "CREATE TRIGGER fs_chunks_ai AFTER INSERT ON fs_chunks BEGIN "
    "  INSERT INTO fs_chunks_fts(rowid, text) VALUES (new.id, new.text); END;"
    "CREATE TRIGGER fs_chunks_ad AFTER DELETE ON fs_chunks BEGIN "
    "  INSERT INTO fs_chunks_fts(fs_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); END;",
    /* 9: custom agents (store/agents.h, sqlite_agents.c), and on an
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
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (owner, id)"
    ") WITHOUT ROWID;"
    "ALTER TABLE interactions ADD COLUMN agent TEXT;"
    "ALTER TABLE interactions ADD COLUMN agent_config TEXT;",
    /* 10: each chunk's embedding for hybrid file search (core/fs_vector.h):
     * dim float32 in the machine's byte order (the store is local to it)
     * and the embedding model that made it; NULL without one. Vectors are
     * only compared with vectors of the same model. */
    "ALTER TABLE fs_chunks ADD COLUMN vec BLOB; ALTER TABLE fs_chunks ADD COLUMN vec_model TEXT;",
};
const int ia_store_n_migrations = (int)(sizeof ia_store_migrations / sizeof ia_store_migrations[0]);
