/* pg_fsearch: the file search rows in PostgreSQL (store/fsearch.h), as ops
 * run by pg.c's pool; the semantics are fs_sqlite.c's, `seq` standing for
 * SQLite's rowid in the listings' order and cursors. Lexical ranking:
 * a tsvector column (english) under a GIN index, matched by the OR of the
 * query's words (websearch_to_tsquery) and ranked by ts_rank. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/fsearch.h"
#include "store/pg_int.h"

typedef struct {
    const char *owner, *store, *id;
    const ia_fs_store *st;
    const ia_fs_doc *doc;
    const ia_fs_chunk *chunks;
    size_t n_chunks;
    ia_doc_state from; /* doc_update: the state the row must be in */
    bool force;
    int64_t after, now;
    int limit;
    const char *message, *query, *stores;
    ia_fs_store *out_store, *stores_out;
    ia_fs_doc *out_doc, *docs_out;
    ia_fs_hit *hits;
    size_t n;
    int64_t next;
    int changed;
} fs_arg;

#define STORE_SELECT                                                                              \
    "SELECT s.id, s.owner, s.display_name, s.embedding_model, s.created, s.updated, "             \
    "(SELECT count(*) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id AND d.state = 'active'), " \
    "(SELECT count(*) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id AND d.state = 'pending'), " \
    "(SELECT count(*) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id AND d.state = 'failed'), " \
    "(SELECT coalesce(sum(size), 0) FROM fs_docs d WHERE d.owner = s.owner AND d.store = s.id "   \
    "AND d.state = 'active'), s.seq FROM fs_stores s "
#define DOC_COLS "store, id, owner, display_name, mime_type, state, size, error, upload_id, metadata, " \
                 "chunk_max, chunk_overlap, created, updated, seq"

static void store_row(const PGresult *r, int i, ia_fs_store *o) {
    memset(o, 0, sizeof *o);
    ia_pg_into(r, i, 0, o->id, sizeof o->id);
    o->owner = ia_pg_dup(r, i, 1);
    o->display_name = ia_pg_dup(r, i, 2);
    o->embedding_model = ia_pg_dup(r, i, 3);
    o->created = ia_pg_int(r, i, 4);
    o->updated = ia_pg_int(r, i, 5);
    o->n_active = ia_pg_int(r, i, 6);
    o->n_pending = ia_pg_int(r, i, 7);
    o->n_failed = ia_pg_int(r, i, 8);
    o->size_bytes = ia_pg_int(r, i, 9);
}

static int doc_row(const PGresult *r, int i, ia_fs_doc *o, ia_err *err) {
    memset(o, 0, sizeof *o);
    ia_pg_into(r, i, 0, o->store, sizeof o->store);
    ia_pg_into(r, i, 1, o->id, sizeof o->id);
    o->owner = ia_pg_dup(r, i, 2);
    o->display_name = ia_pg_dup(r, i, 3);
    o->mime_type = ia_pg_dup(r, i, 4);
    int state = ia_doc_state_parse(PQgetvalue(r, i, 5));
    o->size = ia_pg_int(r, i, 6);
    o->error = ia_pg_dup(r, i, 7);
    ia_pg_into(r, i, 8, o->upload_id, sizeof o->upload_id);
    const char *meta = PQgetisnull(r, i, 9) ? NULL : PQgetvalue(r, i, 9);
    o->chunking.max_tokens = (int)ia_pg_int(r, i, 10);
    o->chunking.overlap = (int)ia_pg_int(r, i, 11);
    o->created = ia_pg_int(r, i, 12);
    o->updated = ia_pg_int(r, i, 13);
    if (state < 0 || ia_fs_meta_decode(meta, &o->meta, &o->n_meta) < 0) {
        ia_fail(err, IA_EINTERNAL, "store: document %s has a malformed row", o->id);
        ia_fs_doc_free(o);
        return -1;
    }
    o->state = (ia_doc_state)state;
    return 0;
}

/* count(*) of sql over ($1 owner, $2 a[, $3 b]); -1 on failure. */
static int64_t count(pgx *x, const char *sql, const char *owner, const char *a, const char *b) {
    pgargs p = {0};
    ia_pg_text(&p, owner);
    ia_pg_text(&p, a);
    if (b) ia_pg_text(&p, b);
    PGresult *r = ia_pg_q(x, "file search count", sql, &p);
    if (!r) return -1;
    int64_t n = ia_pg_int(r, 0, 0);
    PQclear(r);
    return n;
}

/* ---- stores ---------------------------------------------------------------- */

static int op_store_put(pgx *x, void *p) {
    const ia_fs_store *v = ((fs_arg *)p)->st;
    pgargs a = {0};
    ia_pg_text(&a, v->owner ? v->owner : "");
    ia_pg_text(&a, v->id);
    ia_pg_text(&a, v->display_name);
    ia_pg_text(&a, v->embedding_model);
    ia_pg_i64(&a, v->created);
    ia_pg_i64(&a, v->updated);
    PGresult *r = ia_pg_qw(x, "store insert", "INSERT INTO fs_stores (owner, id, display_name, embedding_model, "
                           "created, updated) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING", &a);
    if (!r) return -1;
    int n = ia_pg_changed(r);
    PQclear(r);
    return n ? 0 : ia_fail(x->err, IA_EINVALID, "fileSearchStores/%s already exists", v->id);
}

static int pg_store_put(ia_store *s, const ia_fs_store *st, ia_err *err) {
    fs_arg a = {.st = st};
    return ia_pg_run(s, op_store_put, &a, false, err);
}

static int op_store_get(pgx *x, void *p) {
    fs_arg *a = p;
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->id);
    PGresult *r = ia_pg_q(x, "store get", STORE_SELECT "WHERE s.owner = $1 AND s.id = $2", &q);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) == 1) store_row(r, 0, a->out_store);
    else rc = ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s not found", a->id);
    PQclear(r);
    return rc;
}

static int pg_store_get(ia_store *s, const char *owner, const char *id, ia_fs_store *out, ia_err *err) {
    fs_arg a = {.owner = owner, .id = id, .out_store = out};
    return ia_pg_run(s, op_store_get, &a, true, err);
}

static int op_store_list(pgx *x, void *p) {
    fs_arg *a = p;
    a->stores_out = NULL;
    a->n = 0;
    a->next = 0;
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_i64(&q, a->after);
    ia_pg_i64(&q, a->limit + 1);
    PGresult *r = ia_pg_q(x, "store list", STORE_SELECT "WHERE s.owner = $1 AND ($2 = 0 OR s.seq < $2) "
                          "ORDER BY s.seq DESC LIMIT $3", &q);
    if (!r) return -1;
    int rows = PQntuples(r), k = rows > a->limit ? a->limit : rows;
    a->stores_out = ia_xcalloc((size_t)k + 1, sizeof *a->stores_out);
    for (int i = 0; i < k; i++) store_row(r, i, &a->stores_out[i]);
    a->n = (size_t)k;
    if (rows > a->limit && k > 0) a->next = ia_pg_int(r, k - 1, 10);
    PQclear(r);
    return 0;
}

static int pg_store_list(ia_store *s, const char *owner, int64_t after, int limit, ia_fs_store **out, size_t *n,
                         int64_t *next, ia_err *err) {
    fs_arg a = {.owner = owner, .after = after, .limit = limit};
    int rc = ia_pg_run(s, op_store_list, &a, true, err);
    *out = rc == 0 ? a.stores_out : NULL;
    *n = rc == 0 ? a.n : 0;
    *next = rc == 0 ? a.next : 0;
    if (rc != 0) free(a.stores_out);
    return rc;
}

static int op_store_delete(pgx *x, void *p) {
    fs_arg *a = p;
    if (ia_pg_exec(x, "store delete", "BEGIN", NULL) != 0) return -1;
    /* FOR UPDATE: a document put or ingestion's end holds the row FOR
     * SHARE, so it either ends first (its rows deleted here) or waits and
     * then finds no store (no orphans either way) */
    int64_t found = count(x, "SELECT count(*) FROM (SELECT 1 FROM fs_stores WHERE owner = $1 AND id = $2 "
                          "FOR UPDATE) s", a->owner, a->id, NULL);
    int64_t docs = count(x, "SELECT count(*) FROM fs_docs WHERE owner = $1 AND store = $2 AND state != 'uploading'",
                         a->owner, a->id, NULL);
    if (found < 0 || docs < 0) return -1;
    if (!found) return ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s not found", a->id);
    if (docs && !a->force)
        return ia_fail(x->err, IA_EINVALID, "fileSearchStores/%s holds %lld document(s): delete them first, or "
                       "delete the store with force=true (config: {force: true}), which deletes them too", a->id,
                       (long long)docs);
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->id);
    if (ia_pg_exec(x, "store delete", "DELETE FROM fs_chunks WHERE owner = $1 AND store = $2", &q) != 0 ||
        ia_pg_exec(x, "store delete", "DELETE FROM fs_docs WHERE owner = $1 AND store = $2", &q) != 0 ||
        ia_pg_exec(x, "store delete", "DELETE FROM fs_stores WHERE owner = $1 AND id = $2", &q) != 0)
        return -1;
    x->committing = true;
    return ia_pg_exec(x, "store delete", "COMMIT", NULL);
}

static int pg_store_delete(ia_store *s, const char *owner, const char *id, bool force, ia_err *err) {
    fs_arg a = {.owner = owner, .id = id, .force = force};
    return ia_pg_run(s, op_store_delete, &a, false, err);
}

/* ---- documents ---------------------------------------------------------------- */

/* Locks owner's store `store` against a concurrent delete until the
 * transaction ends: 1, 0 when there is none, -1 on error. */
static int64_t store_share(pgx *x, const char *owner, const char *store) {
    return count(x, "SELECT count(*) FROM (SELECT 1 FROM fs_stores WHERE owner = $1 AND id = $2 FOR SHARE) s",
                 owner ? owner : "", store, NULL);
}

static int op_doc_put(pgx *x, void *p) {
    const ia_fs_doc *d = ((fs_arg *)p)->doc;
    if (ia_pg_exec(x, "document insert", "BEGIN", NULL) != 0) return -1;
    int64_t found = store_share(x, d->owner, d->store);
    if (found < 0) return -1;
    if (!found) return ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s not found", d->store);
    char *meta = ia_fs_meta_encode(d->meta, d->n_meta);
    pgargs a = {0};
    ia_pg_text(&a, d->store);
    ia_pg_text(&a, d->id);
    ia_pg_text(&a, d->owner ? d->owner : "");
    ia_pg_text(&a, d->display_name);
    ia_pg_text(&a, d->mime_type ? d->mime_type : "");
    ia_pg_text(&a, ia_doc_state_name(d->state));
    ia_pg_i64(&a, d->size);
    ia_pg_text(&a, d->error);
    ia_pg_text(&a, d->upload_id[0] ? d->upload_id : NULL);
    ia_pg_text(&a, meta);
    ia_pg_i64(&a, d->chunking.max_tokens);
    ia_pg_i64(&a, d->chunking.overlap);
    ia_pg_i64(&a, d->created);
    ia_pg_i64(&a, d->updated);
    ia_pg_text(&a, x->instance); /* runner: whose recovery fails it if left PENDING */
    PGresult *r = ia_pg_qw(x, "document insert", "INSERT INTO fs_docs (store, id, owner, display_name, mime_type, "
                           "state, size, error, upload_id, metadata, chunk_max, chunk_overlap, created, updated, "
                           "runner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
                           "ON CONFLICT DO NOTHING", &a);
    free(meta);
    if (!r) return -1;
    int n = ia_pg_changed(r);
    PQclear(r);
    if (!n) return ia_fail(x->err, IA_EINVALID, "fileSearchStores/%s/documents/%s already exists", d->store, d->id);
    return ia_pg_exec(x, "document insert", "COMMIT", NULL);
}

static int pg_doc_put(ia_store *s, const ia_fs_doc *d, ia_err *err) {
    fs_arg a = {.doc = d};
    return ia_pg_run(s, op_doc_put, &a, false, err);
}

static int op_doc_update(pgx *x, void *p) {
    fs_arg *fa = p;
    const ia_fs_doc *d = fa->doc;
    if (ia_pg_exec(x, "document update", "BEGIN", NULL) != 0) return -1;
    int64_t store_found = store_share(x, d->owner, d->store);
    if (store_found < 0) return -1;
    pgargs a = {0};
    ia_pg_text(&a, d->owner ? d->owner : "");
    ia_pg_text(&a, d->store);
    ia_pg_text(&a, d->id);
    ia_pg_text(&a, ia_doc_state_name(d->state));
    ia_pg_i64(&a, d->size);
    ia_pg_text(&a, d->error);
    ia_pg_text(&a, d->upload_id[0] ? d->upload_id : NULL);
    ia_pg_i64(&a, d->updated);
    ia_pg_text(&a, ia_doc_state_name(fa->from));
    ia_pg_text(&a, x->instance);
    /* runner: the claim (UPLOADING -> PENDING) makes this instance the one
     * whose recovery fails the document if it stops mid-ingestion */
    PGresult *r = ia_pg_qw(x, "document update", "UPDATE fs_docs SET state = $4, size = $5, error = $6, "
                           "upload_id = $7, updated = $8, runner = coalesce($10::text, runner) "
                           "WHERE owner = $1 AND store = $2 AND id = $3 AND state = $9", &a);
    if (!r) return -1;
    int changed = ia_pg_changed(r);
    PQclear(r);
    /* deleted meanwhile (or no longer in state `from`): its chunks would be orphans */
    if (!store_found || changed != 1)
        return ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s/documents/%s is no longer %s (deleted "
                       "meanwhile?)", d->store, d->id, ia_doc_state_name(fa->from));
    for (size_t i = 0; i < fa->n_chunks; i++) {
        pgargs c = {0};
        ia_pg_text(&c, d->owner ? d->owner : "");
        ia_pg_text(&c, d->store);
        ia_pg_text(&c, d->id);
        ia_pg_i64(&c, (int64_t)i);
        ia_pg_i64(&c, fa->chunks[i].start);
        ia_pg_i64(&c, fa->chunks[i].end);
        ia_pg_text(&c, fa->chunks[i].text);
        char *vec = ia_pg_vec_hex(fa->chunks[i].vec, fa->chunks[i].dim); /* NULL: none */
        ia_pg_text(&c, vec);
        ia_pg_text(&c, vec ? fa->chunks[i].vec_model : NULL);
        int rc = ia_pg_exec(x, "chunk insert", "INSERT INTO fs_chunks (owner, store, doc, seq, start_off, end_off, "
                            "text, vec, vec_model) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9)", &c);
        free(vec);
        if (rc != 0) return -1;
    }
    x->committing = true;
    return ia_pg_exec(x, "document update", "COMMIT", NULL);
}

static int pg_doc_update(ia_store *s, const ia_fs_doc *d, ia_doc_state from, const ia_fs_chunk *chunks, size_t n,
                         ia_err *err) {
    fs_arg a = {.doc = d, .from = from, .chunks = chunks, .n_chunks = n};
    return ia_pg_run(s, op_doc_update, &a, false, err);
}

static int op_doc_get(pgx *x, void *p) {
    fs_arg *a = p;
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    PGresult *r;
    if (a->store) {
        ia_pg_text(&q, a->store);
        ia_pg_text(&q, a->id);
        r = ia_pg_q(x, "document get", "SELECT " DOC_COLS " FROM fs_docs WHERE owner = $1 AND store = $2 AND "
                    "id = $3 AND state != 'uploading'", &q);
    } else {
        ia_pg_text(&q, a->id);
        r = ia_pg_q(x, "document get", "SELECT " DOC_COLS " FROM fs_docs WHERE owner = $1 AND upload_id = $2", &q);
    }
    if (!r) return -1;
    int rc;
    if (PQntuples(r) >= 1) rc = doc_row(r, 0, a->out_doc, x->err);
    else if (a->store)
        rc = ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s/documents/%s not found", a->store, a->id);
    else rc = ia_fail(x->err, IA_ENOTFOUND, "no document waits for upload %s", a->id);
    PQclear(r);
    return rc;
}

static int pg_doc_get(ia_store *s, const char *owner, const char *store, const char *id, ia_fs_doc *out,
                      ia_err *err) {
    fs_arg a = {.owner = owner, .store = store, .id = id, .out_doc = out};
    return ia_pg_run(s, op_doc_get, &a, true, err);
}

static int pg_doc_by_upload(ia_store *s, const char *owner, const char *upload_id, ia_fs_doc *out, ia_err *err) {
    fs_arg a = {.owner = owner, .id = upload_id, .out_doc = out};
    return ia_pg_run(s, op_doc_get, &a, true, err);
}

static int op_doc_list(pgx *x, void *p) {
    fs_arg *a = p;
    a->docs_out = NULL;
    a->n = 0;
    a->next = 0;
    int64_t found = count(x, "SELECT count(*) FROM fs_stores WHERE owner = $1 AND id = $2", a->owner, a->store, NULL);
    if (found < 0) return -1;
    if (!found) return ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s not found", a->store);
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->store);
    ia_pg_i64(&q, a->after);
    ia_pg_i64(&q, a->limit + 1);
    PGresult *r = ia_pg_q(x, "document list", "SELECT " DOC_COLS " FROM fs_docs WHERE owner = $1 AND store = $2 AND "
                          "state != 'uploading' AND ($3 = 0 OR seq < $3) ORDER BY seq DESC LIMIT $4", &q);
    if (!r) return -1;
    int rows = PQntuples(r), k = rows > a->limit ? a->limit : rows;
    a->docs_out = ia_xcalloc((size_t)k + 1, sizeof *a->docs_out);
    for (int i = 0; i < k; i++)
        if (doc_row(r, i, &a->docs_out[a->n], x->err) == 0) a->n++;
    if (rows > a->limit && k > 0) a->next = ia_pg_int(r, k - 1, 14);
    PQclear(r);
    return 0;
}

static int pg_doc_list(ia_store *s, const char *owner, const char *store, int64_t after, int limit, ia_fs_doc **out,
                       size_t *n, int64_t *next, ia_err *err) {
    fs_arg a = {.owner = owner, .store = store, .after = after, .limit = limit};
    int rc = ia_pg_run(s, op_doc_list, &a, true, err);
    if (rc != 0) {
        for (size_t i = 0; i < a.n; i++) ia_fs_doc_free(&a.docs_out[i]);
        free(a.docs_out);
    }
    *out = rc == 0 ? a.docs_out : NULL;
    *n = rc == 0 ? a.n : 0;
    *next = rc == 0 ? a.next : 0;
    return rc;
}

static int op_doc_delete(pgx *x, void *p) {
    fs_arg *a = p;
    if (ia_pg_exec(x, "document delete", "BEGIN", NULL) != 0) return -1;
    /* FOR UPDATE: ingestion's end updates this row before it adds chunks,
     * so it either ends first (its chunks counted and deleted here) or
     * waits and then finds no row (and adds none) */
    int64_t found = count(x, "SELECT count(*) FROM (SELECT 1 FROM fs_docs WHERE owner = $1 AND store = $2 AND "
                          "id = $3 AND state != 'uploading' FOR UPDATE) d", a->owner, a->store, a->id);
    int64_t chunks = count(x, "SELECT count(*) FROM fs_chunks WHERE owner = $1 AND store = $2 AND doc = $3",
                           a->owner, a->store, a->id);
    if (found < 0 || chunks < 0) return -1;
    if (!found) return ia_fail(x->err, IA_ENOTFOUND, "fileSearchStores/%s/documents/%s not found", a->store, a->id);
    if (chunks && !a->force)
        return ia_fail(x->err, IA_EINVALID, "fileSearchStores/%s/documents/%s has %lld chunk(s): delete it with "
                       "force=true (config: {force: true}), which deletes its chunks too", a->store, a->id,
                       (long long)chunks);
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->store);
    ia_pg_text(&q, a->id);
    if (ia_pg_exec(x, "document delete", "DELETE FROM fs_chunks WHERE owner = $1 AND store = $2 AND doc = $3", &q) != 0 ||
        ia_pg_exec(x, "document delete", "DELETE FROM fs_docs WHERE owner = $1 AND store = $2 AND id = $3", &q) != 0)
        return -1;
    x->committing = true;
    return ia_pg_exec(x, "document delete", "COMMIT", NULL);
}

static int pg_doc_delete(ia_store *s, const char *owner, const char *store, const char *id, bool force,
                         ia_err *err) {
    fs_arg a = {.owner = owner, .store = store, .id = id, .force = force};
    return ia_pg_run(s, op_doc_delete, &a, false, err);
}

/* ---- search and recovery ---------------------------------------------------------- */

static int op_search(pgx *x, void *p) {
    fs_arg *a = p;
    a->hits = NULL;
    a->n = 0;
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->stores);
    ia_pg_text(&q, a->query);
    ia_pg_i64(&q, a->limit);
    PGresult *r = ia_pg_q(x, "search", "SELECT c.id, c.store, c.doc, coalesce(d.display_name, d.id), c.text, "
                          "ts_rank(c.tsv, q), d.metadata FROM fs_chunks c JOIN fs_docs d ON d.owner = c.owner AND "
                          "d.store = c.store AND d.id = c.doc, websearch_to_tsquery('english', $3) q "
                          "WHERE c.tsv @@ q AND c.owner = $1 AND c.store = ANY(string_to_array($2, ',')) AND "
                          "d.state = 'active' ORDER BY 6 DESC, c.id LIMIT $4", &q);
    if (!r) return -1;
    int rows = PQntuples(r);
    a->hits = ia_xcalloc((size_t)rows + 1, sizeof *a->hits);
    for (int i = 0; i < rows; i++) {
        ia_fs_hit *h = &a->hits[i];
        h->chunk_id = ia_pg_int(r, i, 0);
        ia_pg_into(r, i, 1, h->store, sizeof h->store);
        ia_pg_into(r, i, 2, h->doc, sizeof h->doc);
        h->doc_title = ia_pg_dup(r, i, 3);
        h->text = ia_pg_dup(r, i, 4);
        h->score = strtod(PQgetvalue(r, i, 5), NULL);
        if (ia_fs_meta_decode(PQgetisnull(r, i, 6) ? NULL : PQgetvalue(r, i, 6), &h->meta, &h->n_meta) < 0)
            h->n_meta = 0;
    }
    a->n = (size_t)rows;
    PQclear(r);
    return 0;
}

static int pg_search(ia_store *s, const char *owner, const char *const *stores, size_t n_stores,
                     const char *const *terms, size_t n_terms, int limit, ia_fs_hit **out, size_t *n, ia_err *err) {
    *out = NULL;
    *n = 0;
    if (!n_terms || !n_stores || limit <= 0) return 0;
    /* the words OR'd in websearch syntax (which never fails to parse); a
     * store id holds no ',' (core checks ids) */
    ia_buf q, st;
    ia_buf_init(&q, 0);
    ia_buf_init(&st, 0);
    for (size_t i = 0; i < n_terms; i++) {
        if (i) ia_buf_puts(&q, " or ");
        for (const char *c = terms[i]; *c; c++) ia_buf_append(&q, *c == '"' || *c == '-' ? " " : c, 1);
    }
    for (size_t i = 0; i < n_stores; i++) ia_buf_printf(&st, "%s%s", i ? "," : "", stores[i]);
    char *qs = ia_buf_take(&q), *ss = ia_buf_take(&st);
    fs_arg a = {.owner = owner, .stores = ss, .query = qs, .limit = limit};
    int rc = ia_pg_run(s, op_search, &a, true, err);
    free(qs);
    free(ss);
    if (rc != 0) {
        ia_fs_hits_free(a.hits, a.n);
        return rc;
    }
    *out = a.hits;
    *n = a.n;
    return 0;
}

static int op_recover(pgx *x, void *p) {
    fs_arg *a = p;
    pgargs q = {0};
    ia_pg_text(&q, a->message);
    ia_pg_i64(&q, a->now);
    ia_pg_text(&q, x->instance);
    /* this instance's own documents only: another live instance may be
     * ingesting its own (no instance id: every one, as runs' recovery) */
    PGresult *r = ia_pg_qw(x, "file search recover", "UPDATE fs_docs SET state = 'failed', error = $1, updated = $2 "
                           "WHERE state = 'pending' AND ($3::text IS NULL OR runner IS NULL OR runner = $3)", &q);
    if (!r) return -1;
    a->changed = ia_pg_changed(r);
    PQclear(r);
    return 0;
}

static int pg_recover(ia_store *s, int64_t now, const char *message, ia_err *err) {
    fs_arg a = {.now = now, .message = message};
    return ia_pg_run(s, op_recover, &a, true, err) == 0 ? a.changed : -1;
}

const ia_store_fs_ops ia_pg_fs_ops = {
    .store_put = pg_store_put,
    .store_get = pg_store_get,
    .store_list = pg_store_list,
    .store_delete = pg_store_delete,
    .doc_put = pg_doc_put,
    .doc_update = pg_doc_update,
    .doc_get = pg_doc_get,
    .doc_by_upload = pg_doc_by_upload,
    .doc_list = pg_doc_list,
    .doc_delete = pg_doc_delete,
    .search = pg_search,
    .recover = pg_recover,
    .vectors = ia_pg_fs_vectors,
    .hits = ia_pg_fs_hits,
};
