/* fs_sqlite: the SQLite backend's file search rows (store/fsearch.h;
 * migration 8). Statements are prepared per call, as store/files.c does:
 * these calls are few next to ingestion's work. Every call holds the
 * store's one mutex (store_int.h) for its whole run. Lexical ranking is
 * FTS5's bm25 over fs_chunks_fts (porter stemming over unicode61). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/fsearch.h"
#include "store/sq_util.h"
#include "store/store_int.h"

#define DOC_COLS "store, id, owner, display_name, mime_type, state, size, error, upload_id, metadata, " \
                 "chunk_max, chunk_overlap, created, updated, rowid"

static int fail_db(sqlite3 *db, ia_err *err, const char *what) {
    return ia_fail(err, IA_EINTERNAL, "store: file search %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, ia_err *err) {
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return fail_db(db, err, sql);
    return 0;
}

/* Runs a statement with no rows to read, and finalizes it. */
static int run(sqlite3 *db, sqlite3_stmt *st, ia_err *err, const char *what) {
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail_db(db, err, what);
}

/* ---- stores ---------------------------------------------------------------- */

#define STORE_SELECT                                                                              \
    "SELECT s.id, s.owner, s.display_name, s.embedding_model, s.created, s.updated, "             \
    "(SELECT count(*) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id AND d.state = 'active'), " \
    "(SELECT count(*) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id AND d.state = 'pending'), " \
    "(SELECT count(*) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id AND d.state = 'failed'), " \
    "(SELECT coalesce(sum(size), 0) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id "   \
    "AND d.state = 'active'), s.rowid FROM fs_stores s "

static void store_row(sqlite3_stmt *st, ia_fs_store *o) {
    memset(o, 0, sizeof *o);
    ia_sq_col_into(st, 0, o->id, sizeof o->id);
    o->owner = ia_sq_col(st, 1);
    o->display_name = ia_sq_col(st, 2);
    o->embedding_model = ia_sq_col(st, 3);
    o->created = sqlite3_column_int64(st, 4);
    o->updated = sqlite3_column_int64(st, 5);
    o->n_active = sqlite3_column_int64(st, 6);
    o->n_pending = sqlite3_column_int64(st, 7);
    o->n_failed = sqlite3_column_int64(st, 8);
    o->size_bytes = sqlite3_column_int64(st, 9);
}

static int sq_store_put(ia_store *s, const ia_fs_store *v, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "INSERT INTO fs_stores (owner, id, display_name, embedding_model, created, "
                                "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, v->owner ? v->owner : "");
        ia_sq_text(st, 2, v->id);
        ia_sq_text(st, 3, v->display_name);
        ia_sq_text(st, 4, v->embedding_model);
        sqlite3_bind_int64(st, 5, v->created);
        sqlite3_bind_int64(st, 6, v->updated);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_CONSTRAINT) ia_fail(err, IA_EINVALID, "fileSearchStores/%s already exists", v->id);
        else if (rc != SQLITE_DONE) fail_db(db, err, "insert store");
        else ret = 0;
    }
    ia_sq_unlock(s);
    return ret;
}

static int sq_store_get(ia_store *s, const char *owner, const char *id, ia_fs_store *out, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, STORE_SELECT "WHERE s.owner = ?1 AND s.id = ?2", "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            store_row(st, out);
            ret = 0;
        } else if (rc == SQLITE_DONE) {
            ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s not found", id);
        } else {
            fail_db(db, err, "get store");
        }
        sqlite3_finalize(st);
    }
    ia_sq_unlock(s);
    return ret;
}

static int sq_store_list(ia_store *s, const char *owner, int64_t after, int limit, ia_fs_store **out, size_t *n,
                         int64_t *next, ia_err *err) {
    *out = NULL;
    *n = 0;
    *next = 0;
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, STORE_SELECT "WHERE s.owner = ?1 AND (?2 = 0 OR s.rowid < ?2) "
                                "ORDER BY s.rowid DESC LIMIT ?3", "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner);
        sqlite3_bind_int64(st, 2, after);
        sqlite3_bind_int(st, 3, limit + 1);
        ia_fs_store *v = ia_xcalloc((size_t)limit + 1, sizeof *v);
        size_t k = 0;
        int64_t last = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (k == (size_t)limit) {
                *next = last; /* there is more below the last row kept */
                break;
            }
            store_row(st, &v[k++]);
            last = sqlite3_column_int64(st, 10);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            for (size_t i = 0; i < k; i++) ia_fs_store_free(&v[i]);
            free(v);
            *next = 0;
            fail_db(db, err, "list stores");
        } else {
            *out = v;
            *n = k;
            ret = 0;
        }
        sqlite3_finalize(st);
    }
    ia_sq_unlock(s);
    return ret;
}

/* How many documents (not UPLOADING) a store holds, or chunks a document. */
static int count(sqlite3 *db, const char *sql, const char *owner, const char *a, const char *b, int64_t *out,
                 ia_err *err) {
    sqlite3_stmt *st = ia_sq_prep(db, sql, "file search prepare", err);
    if (!st) return -1;
    ia_sq_text(st, 1, owner);
    ia_sq_text(st, 2, a);
    ia_sq_text(st, 3, b);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : fail_db(db, err, "count");
}

/* Deletes rows of owner matching where (binding ?2 = a, ?3 = b) from each
 * table of the list. */
static int drop_rows(sqlite3 *db, const char *const *sqls, const char *owner, const char *a, const char *b,
                     ia_err *err) {
    for (; *sqls; sqls++) {
        sqlite3_stmt *st = ia_sq_prep(db, *sqls, "file search prepare", err);
        if (!st) return -1;
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, a);
        ia_sq_text(st, 3, b);
        if (run(db, st, err, "delete") < 0) return -1;
    }
    return 0;
}

static int sq_store_delete(ia_store *s, const char *owner, const char *id, bool force, ia_err *err) {
    static const char *const DROP[] = {
        "DELETE FROM fs_chunks WHERE owner = ?1 AND store = ?2 AND ?3 IS NULL",
        "DELETE FROM fs_docs WHERE owner = ?1 AND store = ?2 AND ?3 IS NULL",
        "DELETE FROM fs_stores WHERE owner = ?1 AND id = ?2 AND ?3 IS NULL", NULL};
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    int64_t docs = 0, found = 0;
    if (exec(db, "BEGIN IMMEDIATE", err) < 0) goto out;
    if (count(db, "SELECT count(*) FROM fs_stores WHERE owner = ?1 AND id = ?2 AND ?3 IS NULL", owner, id, NULL,
              &found, err) < 0 ||
        count(db, "SELECT count(*) FROM fs_docs WHERE owner = ?1 AND store = ?2 AND state != 'uploading' "
                  "AND ?3 IS NULL", owner, id, NULL, &docs, err) < 0)
        goto rollback;
    if (!found) {
        ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s not found", id);
        goto rollback;
    }
    if (docs && !force) {
        ia_fail(err, IA_EINVALID, "fileSearchStores/%s holds %lld document(s): delete them first, or delete the "
                "store with force=true (config: {force: true}), which deletes them too", id, (long long)docs);
        goto rollback;
    }
    if (drop_rows(db, DROP, owner, id, NULL, err) < 0 || exec(db, "COMMIT", err) < 0) goto rollback;
    ret = 0;
    goto out;
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    ia_sq_unlock(s);
    return ret;
}

/* ---- documents --------------------------------------------------------------- */

static int doc_row(sqlite3_stmt *st, ia_fs_doc *o, ia_err *err) {
    memset(o, 0, sizeof *o);
    ia_sq_col_into(st, 0, o->store, sizeof o->store);
    ia_sq_col_into(st, 1, o->id, sizeof o->id);
    o->owner = ia_sq_col(st, 2);
    o->display_name = ia_sq_col(st, 3);
    o->mime_type = ia_sq_col(st, 4);
    int state = ia_doc_state_parse((const char *)sqlite3_column_text(st, 5));
    o->size = sqlite3_column_int64(st, 6);
    o->error = ia_sq_col(st, 7);
    ia_sq_col_into(st, 8, o->upload_id, sizeof o->upload_id);
    const char *meta = (const char *)sqlite3_column_text(st, 9);
    o->chunking.max_tokens = sqlite3_column_int(st, 10);
    o->chunking.overlap = sqlite3_column_int(st, 11);
    o->created = sqlite3_column_int64(st, 12);
    o->updated = sqlite3_column_int64(st, 13);
    if (state < 0 || ia_fs_meta_decode(meta, &o->meta, &o->n_meta) < 0) {
        ia_fail(err, IA_EINTERNAL, "store: document %s has a malformed row", o->id);
        ia_fs_doc_free(o);
        return -1;
    }
    o->state = (ia_doc_state)state;
    return 0;
}

static int sq_doc_put(ia_store *s, const ia_fs_doc *d, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    int64_t found = 0;
    if (count(db, "SELECT count(*) FROM fs_stores WHERE owner = ?1 AND id = ?2 AND ?3 IS NULL", d->owner,
              d->store, NULL, &found, err) < 0)
        goto out;
    if (!found) {
        ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s not found", d->store);
        goto out;
    }
    sqlite3_stmt *st = ia_sq_prep(db, "INSERT INTO fs_docs (store, id, owner, display_name, mime_type, state, size, "
                                "error, upload_id, metadata, chunk_max, chunk_overlap, created, updated) VALUES "
                                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", "file search prepare", err);
    if (!st) goto out;
    char *meta = ia_fs_meta_encode(d->meta, d->n_meta);
    ia_sq_text(st, 1, d->store);
    ia_sq_text(st, 2, d->id);
    ia_sq_text(st, 3, d->owner ? d->owner : "");
    ia_sq_text(st, 4, d->display_name);
    ia_sq_text(st, 5, d->mime_type ? d->mime_type : "");
    ia_sq_text(st, 6, ia_doc_state_name(d->state));
    sqlite3_bind_int64(st, 7, d->size);
    ia_sq_text(st, 8, d->error);
    ia_sq_text(st, 9, d->upload_id[0] ? d->upload_id : NULL);
    ia_sq_text(st, 10, meta);
    sqlite3_bind_int(st, 11, d->chunking.max_tokens);
    sqlite3_bind_int(st, 12, d->chunking.overlap);
    sqlite3_bind_int64(st, 13, d->created);
    sqlite3_bind_int64(st, 14, d->updated);
    free(meta);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) ia_fail(err, IA_EINVALID, "fileSearchStores/%s/documents/%s already exists",
                                         d->store, d->id);
    else if (rc != SQLITE_DONE) fail_db(db, err, "insert document");
    else ret = 0;
out:
    ia_sq_unlock(s);
    return ret;
}

static int sq_doc_update(ia_store *s, const ia_fs_doc *d, ia_doc_state from, const ia_fs_chunk *chunks, size_t n,
                         ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = NULL;
    if (exec(db, "BEGIN IMMEDIATE", err) < 0) goto out;
    st = ia_sq_prep(db, "UPDATE fs_docs SET state = ?4, size = ?5, error = ?6, upload_id = ?7, updated = ?8 "
                  "WHERE owner = ?1 AND store = ?2 AND id = ?3 AND state = ?9", "file search prepare", err);
    if (!st) goto rollback;
    ia_sq_text(st, 9, ia_doc_state_name(from));
    ia_sq_text(st, 1, d->owner ? d->owner : "");
    ia_sq_text(st, 2, d->store);
    ia_sq_text(st, 3, d->id);
    ia_sq_text(st, 4, ia_doc_state_name(d->state));
    sqlite3_bind_int64(st, 5, d->size);
    ia_sq_text(st, 6, d->error);
    ia_sq_text(st, 7, d->upload_id[0] ? d->upload_id : NULL);
    sqlite3_bind_int64(st, 8, d->updated);
    if (run(db, st, err, "update document") < 0) goto rollback;
    /* deleted meanwhile, or no longer in state `from`: its chunks would be orphans */
    if (sqlite3_changes(db) != 1) {
        ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s/documents/%s is no longer %s (deleted meanwhile?)", d->store,
                d->id, ia_doc_state_name(from));
        goto rollback;
    }
    for (size_t i = 0; i < n; i++) {
        st = ia_sq_prep(db, "INSERT INTO fs_chunks (owner, store, doc, seq, start_off, end_off, text, vec, vec_model) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", "file search prepare", err);
        if (!st) goto rollback;
        ia_sq_text(st, 1, d->owner ? d->owner : "");
        ia_sq_text(st, 2, d->store);
        ia_sq_text(st, 3, d->id);
        sqlite3_bind_int64(st, 4, (int64_t)i);
        sqlite3_bind_int64(st, 5, chunks[i].start);
        sqlite3_bind_int64(st, 6, chunks[i].end);
        ia_sq_text(st, 7, chunks[i].text);
        if (chunks[i].vec && chunks[i].dim > 0) {
            sqlite3_bind_blob(st, 8, chunks[i].vec, chunks[i].dim * (int)sizeof(float), SQLITE_STATIC);
            ia_sq_text(st, 9, chunks[i].vec_model);
        }
        if (run(db, st, err, "insert chunk") < 0) goto rollback;
    }
    if (exec(db, "COMMIT", err) < 0) goto rollback;
    ret = 0;
    goto out;
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    ia_sq_unlock(s);
    return ret;
}

static int doc_one(ia_store *s, const char *sql, const char *owner, const char *a, const char *b,
                   ia_fs_doc *out, ia_err *err, const char *what_store, const char *what_id) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, sql, "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, a);
        ia_sq_text(st, 3, b);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) ret = doc_row(st, out, err);
        else if (rc == SQLITE_DONE && what_store)
            ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s/documents/%s not found", what_store, what_id);
        else if (rc == SQLITE_DONE) ia_fail(err, IA_ENOTFOUND, "no document waits for upload %s", what_id);
        else fail_db(db, err, "get document");
        sqlite3_finalize(st);
    }
    ia_sq_unlock(s);
    return ret;
}

static int sq_doc_get(ia_store *s, const char *owner, const char *store, const char *id, ia_fs_doc *out,
                      ia_err *err) {
    return doc_one(s, "SELECT " DOC_COLS " FROM fs_docs WHERE owner = ?1 AND store = ?2 AND id = ?3 "
                      "AND state != 'uploading'", owner, store, id, out, err, store, id);
}

static int sq_doc_by_upload(ia_store *s, const char *owner, const char *upload_id, ia_fs_doc *out, ia_err *err) {
    return doc_one(s, "SELECT " DOC_COLS " FROM fs_docs WHERE owner = ?1 AND upload_id = ?2 AND ?3 IS NULL",
                   owner, upload_id, NULL, out, err, NULL, upload_id);
}

static int sq_doc_list(ia_store *s, const char *owner, const char *store, int64_t after, int limit,
                       ia_fs_doc **out, size_t *n, int64_t *next, ia_err *err) {
    *out = NULL;
    *n = 0;
    *next = 0;
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    int64_t found = 0;
    if (count(db, "SELECT count(*) FROM fs_stores WHERE owner = ?1 AND id = ?2 AND ?3 IS NULL", owner, store,
              NULL, &found, err) < 0)
        goto out;
    if (!found) {
        ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s not found", store);
        goto out;
    }
    sqlite3_stmt *st = ia_sq_prep(db, "SELECT " DOC_COLS " FROM fs_docs WHERE owner = ?1 AND store = ?2 AND "
                                "state != 'uploading' AND (?3 = 0 OR rowid < ?3) ORDER BY rowid DESC LIMIT ?4", "file search prepare", err);
    if (!st) goto out;
    ia_sq_text(st, 1, owner);
    ia_sq_text(st, 2, store);
    sqlite3_bind_int64(st, 3, after);
    sqlite3_bind_int(st, 4, limit + 1);
    ia_fs_doc *v = ia_xcalloc((size_t)limit + 1, sizeof *v);
    size_t k = 0;
    int rc;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == (size_t)limit) {
            *next = last;
            break;
        }
        if (doc_row(st, &v[k], err) < 0) {
            rc = SQLITE_ERROR;
            break;
        }
        last = sqlite3_column_int64(st, 14);
        k++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (size_t i = 0; i < k; i++) ia_fs_doc_free(&v[i]);
        free(v);
        if (rc != SQLITE_ERROR) fail_db(db, err, "list documents");
        *next = 0;
        goto out;
    }
    *out = v;
    *n = k;
    ret = 0;
out:
    ia_sq_unlock(s);
    return ret;
}

static int sq_doc_delete(ia_store *s, const char *owner, const char *store, const char *id, bool force,
                         ia_err *err) {
    static const char *const DROP[] = {
        "DELETE FROM fs_chunks WHERE owner = ?1 AND store = ?2 AND doc = ?3",
        "DELETE FROM fs_docs WHERE owner = ?1 AND store = ?2 AND id = ?3", NULL};
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    int64_t found = 0, chunks = 0;
    if (exec(db, "BEGIN IMMEDIATE", err) < 0) goto out;
    if (count(db, "SELECT count(*) FROM fs_docs WHERE owner = ?1 AND store = ?2 AND id = ?3 AND "
                  "state != 'uploading'", owner, store, id, &found, err) < 0 ||
        count(db, "SELECT count(*) FROM fs_chunks WHERE owner = ?1 AND store = ?2 AND doc = ?3", owner, store, id,
              &chunks, err) < 0)
        goto rollback;
    if (!found) {
        ia_fail(err, IA_ENOTFOUND, "fileSearchStores/%s/documents/%s not found", store, id);
        goto rollback;
    }
    if (chunks && !force) {
        ia_fail(err, IA_EINVALID, "fileSearchStores/%s/documents/%s has %lld chunk(s): delete it with force=true "
                "(config: {force: true}), which deletes its chunks too", store, id, (long long)chunks);
        goto rollback;
    }
    if (drop_rows(db, DROP, owner, store, id, err) < 0 || exec(db, "COMMIT", err) < 0) goto rollback;
    ret = 0;
    goto out;
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    ia_sq_unlock(s);
    return ret;
}

/* ---- search and recovery -------------------------------------------------------- */

/* The FTS5 query: each term quoted (a '"' doubled), joined with OR. */
static char *fts_query(const char *const *terms, size_t n) {
    ia_buf b;
    ia_buf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        if (i) ia_buf_puts(&b, " OR ");
        ia_buf_puts(&b, "\"");
        for (const char *p = terms[i]; *p; p++) ia_buf_puts(&b, *p == '"' ? "\"\"" : (char[2]){*p, 0});
        ia_buf_puts(&b, "\"");
    }
    return ia_buf_take(&b);
}

static int sq_search(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                     const char *const *terms, size_t n_terms, int limit, ia_fs_hit **out, size_t *n,
                     ia_err *err) {
    *out = NULL;
    *n = 0;
    if (!n_terms || !n_stores || limit <= 0) return 0;
    ia_buf sql;
    ia_buf_init(&sql, 0);
    ia_buf_puts(&sql, "SELECT c.id, c.store, c.doc, coalesce(d.display_name, d.id), c.text, "
                      "bm25(fs_chunks_fts), d.metadata FROM fs_chunks_fts JOIN fs_chunks c ON c.id = "
                      "fs_chunks_fts.rowid JOIN fs_docs d ON d.owner = c.owner AND d.store = c.store AND "
                      "d.id = c.doc WHERE fs_chunks_fts MATCH ?1 AND c.owner = ?2 AND d.state = 'active' "
                      "AND c.store IN (");
    /* numbered: a bare '?' would take the number after the largest seen (3 below) */
    for (size_t i = 0; i < n_stores; i++) ia_buf_printf(&sql, "%s?%zu", i ? ", " : "", i + 4);
    ia_buf_puts(&sql, ") ORDER BY bm25(fs_chunks_fts), c.id LIMIT ?3");
    char *q = fts_query(terms, n_terms);
    char *sqls = ia_buf_take(&sql);
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, sqls, "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, q);
        ia_sq_text(st, 2, owner);
        sqlite3_bind_int(st, 3, limit);
        for (size_t i = 0; i < n_stores; i++) ia_sq_text(st, 4 + (int)i, stores[i]);
        ia_fs_hit *v = ia_xcalloc((size_t)limit, sizeof *v);
        size_t k = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < (size_t)limit) {
            ia_fs_hit *h = &v[k++];
            h->chunk_id = sqlite3_column_int64(st, 0);
            ia_sq_col_into(st, 1, h->store, sizeof h->store);
            ia_sq_col_into(st, 2, h->doc, sizeof h->doc);
            h->doc_title = ia_sq_col(st, 3);
            h->text = ia_sq_col(st, 4);
            h->score = -sqlite3_column_double(st, 5); /* bm25: lower is better */
            if (ia_fs_meta_decode((const char *)sqlite3_column_text(st, 6), &h->meta, &h->n_meta) < 0) h->n_meta = 0;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            ia_fs_hits_free(v, k);
            fail_db(db, err, "search");
        } else {
            *out = v;
            *n = k;
            ret = 0;
        }
    }
    ia_sq_unlock(s);
    free(q);
    free(sqls);
    return ret;
}

/* ---- vectors (hybrid ranking; store/fsearch.h) ------------------------------------ */

/* "?, ?, ..." n times, from parameter `first` on. */
static void placeholders(ia_buf *b, size_t n, int first) {
    for (size_t i = 0; i < n; i++) ia_buf_printf(b, "%s?%d", i ? ", " : "", first + (int)i);
}

static int sq_vectors(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                      const char *model, int64_t **ids, float **vecs, int *dim, size_t *n, ia_err *err) {
    if (!n_stores || !model) return 0;
    ia_buf sql;
    ia_buf_init(&sql, 0);
    ia_buf_puts(&sql, "SELECT c.id, c.vec FROM fs_chunks c JOIN fs_docs d ON d.owner = c.owner AND d.store = "
                      "c.store AND d.id = c.doc WHERE c.owner = ?1 AND c.vec_model = ?2 AND d.state = 'active' "
                      "AND c.store IN (");
    placeholders(&sql, n_stores, 3);
    ia_buf_puts(&sql, ") ORDER BY c.id");
    char *sqls = ia_buf_take(&sql);
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1, rc = SQLITE_DONE;
    size_t k = 0, cap = 0;
    sqlite3_stmt *st = ia_sq_prep(db, sqls, "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner);
        ia_sq_text(st, 2, model);
        for (size_t i = 0; i < n_stores; i++) ia_sq_text(st, 3 + (int)i, stores[i]);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int bytes = sqlite3_column_bytes(st, 1);
            if (!*dim && bytes >= (int)sizeof(float)) *dim = bytes / (int)sizeof(float);
            if (!*dim || bytes != *dim * (int)sizeof(float)) continue;
            if (k == cap) {
                cap = cap ? cap * 2 : 256;
                *ids = ia_xrealloc(*ids, cap * sizeof **ids);
                *vecs = ia_xrealloc(*vecs, cap * (size_t)*dim * sizeof **vecs);
            }
            (*ids)[k] = sqlite3_column_int64(st, 0);
            memcpy(*vecs + k * (size_t)*dim, sqlite3_column_blob(st, 1), (size_t)bytes);
            k++;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) fail_db(db, err, "read chunk vectors");
        else ret = 0;
    }
    ia_sq_unlock(s);
    free(sqls);
    *n = ret == 0 ? k : 0;
    return ret;
}

static int sq_hits(ia_store *s, const char *owner, const int64_t *ids, size_t n_ids, ia_fs_hit **out, size_t *n,
                   ia_err *err) {
    if (!n_ids) return 0;
    ia_buf sql;
    ia_buf_init(&sql, 0);
    ia_buf_puts(&sql, "SELECT c.id, c.store, c.doc, coalesce(d.display_name, d.id), c.text, d.metadata FROM "
                      "fs_chunks c JOIN fs_docs d ON d.owner = c.owner AND d.store = c.store AND d.id = c.doc "
                      "WHERE c.owner = ?1 AND d.state = 'active' AND c.id IN (");
    placeholders(&sql, n_ids, 2);
    ia_buf_puts(&sql, ")");
    char *sqls = ia_buf_take(&sql);
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1, rc = SQLITE_DONE;
    ia_fs_hit *v = ia_xcalloc(n_ids, sizeof *v);
    size_t k = 0;
    sqlite3_stmt *st = ia_sq_prep(db, sqls, "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, owner);
        for (size_t i = 0; i < n_ids; i++) sqlite3_bind_int64(st, 2 + (int)i, ids[i]);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < n_ids) {
            ia_fs_hit *h = &v[k++];
            h->chunk_id = sqlite3_column_int64(st, 0);
            ia_sq_col_into(st, 1, h->store, sizeof h->store);
            ia_sq_col_into(st, 2, h->doc, sizeof h->doc);
            h->doc_title = ia_sq_col(st, 3);
            h->text = ia_sq_col(st, 4);
            if (ia_fs_meta_decode((const char *)sqlite3_column_text(st, 5), &h->meta, &h->n_meta) < 0) h->n_meta = 0;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail_db(db, err, "read chunks");
        else ret = 0;
    }
    ia_sq_unlock(s);
    free(sqls);
    if (ret < 0) {
        ia_fs_hits_free(v, k);
        return -1;
    }
    *out = v;
    *n = k;
    return 0;
}

static int sq_recover(ia_store *s, int64_t now, const char *message, ia_err *err) {
    sqlite3 *db = ia_sq_lock(s);
    int ret = -1;
    sqlite3_stmt *st = ia_sq_prep(db, "UPDATE fs_docs SET state = 'failed', error = ?1, updated = ?2 WHERE "
                                "state = 'pending'", "file search prepare", err);
    if (st) {
        ia_sq_text(st, 1, message);
        sqlite3_bind_int64(st, 2, now);
        if (run(db, st, err, "recover") == 0) ret = sqlite3_changes(db);
    }
    ia_sq_unlock(s);
    return ret;
}

const ia_store_fs_ops ia_sq_fs_ops = {
    .store_put = sq_store_put,
    .store_get = sq_store_get,
    .store_list = sq_store_list,
    .store_delete = sq_store_delete,
    .doc_put = sq_doc_put,
    .doc_update = sq_doc_update,
    .doc_get = sq_doc_get,
    .doc_by_upload = sq_doc_by_upload,
    .doc_list = sq_doc_list,
    .doc_delete = sq_doc_delete,
    .search = sq_search,
    .recover = sq_recover,
    .vectors = sq_vectors,
    .hits = sq_hits,
};
