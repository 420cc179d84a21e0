/* pg_fs_vec: chunk vectors for hybrid file search in PostgreSQL
 * (store/fsearch.h's vectors and hits ops; pg_int.h), the semantics of
 * fs_sqlite.c's: fs_chunks.vec BYTEA (dim float32) and vec_model
 * (migration 6). Parameters travel as text, so a vector goes in as bytea's
 * hex input and comes back through encode(vec, 'hex'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/fsearch.h"
#include "store/pg_int.h"

char *ia_pg_vec_hex(const float *v, int dim) {
    if (!v || dim <= 0) return NULL;
    static const char HEX[] = "0123456789abcdef";
    size_t bytes = (size_t)dim * sizeof *v;
    char *out = ia_xcalloc(2 * bytes + 3, 1), *o = out;
    const unsigned char *b = (const unsigned char *)v;
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < bytes; i++) {
        *o++ = HEX[b[i] >> 4];
        *o++ = HEX[b[i] & 15];
    }
    return out;
}

static int nibble(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* hex (2 * bytes digits) into out; -1 on a bad digit. */
static int unhex(const char *hex, size_t bytes, unsigned char *out) {
    for (size_t i = 0; i < bytes; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

typedef struct vec_arg {
    const char *owner, *model, *list; /* list: stores or ids, comma-separated */
    int64_t *ids;
    float *vecs;
    int dim;
    ia_fs_hit *hits;
    size_t n;
} vec_arg;

static int op_vectors(pgx *x, void *p) {
    vec_arg *a = p;
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->model);
    ia_pg_text(&q, a->list);
    PGresult *r = ia_pg_q(x, "chunk vectors", "SELECT c.id, encode(c.vec, 'hex') FROM fs_chunks c JOIN fs_docs d ON "
                          "d.owner = c.owner AND d.store = c.store AND d.id = c.doc WHERE c.owner = $1 AND "
                          "c.vec_model = $2 AND d.state = 'active' AND c.store = ANY(string_to_array($3, ',')) "
                          "AND c.vec IS NOT NULL ORDER BY c.id", &q);
    if (!r) return -1;
    int rows = PQntuples(r);
    free(a->ids);
    free(a->vecs);
    a->ids = NULL;
    a->vecs = NULL;
    a->n = 0;
    a->dim = 0;
    for (int i = 0; i < rows; i++) {
        size_t hexlen = (size_t)PQgetlength(r, i, 1), bytes = hexlen / 2;
        if (!a->dim && bytes >= sizeof(float)) {
            a->dim = (int)(bytes / sizeof(float));
            a->ids = ia_xcalloc((size_t)rows, sizeof *a->ids);
            a->vecs = ia_xcalloc((size_t)rows * (size_t)a->dim, sizeof *a->vecs);
        }
        if (!a->dim || bytes != (size_t)a->dim * sizeof(float)) continue;
        if (unhex(PQgetvalue(r, i, 1), bytes, (unsigned char *)(a->vecs + a->n * (size_t)a->dim)) < 0) continue;
        a->ids[a->n++] = ia_pg_int(r, i, 0);
    }
    PQclear(r);
    return 0;
}

int ia_pg_fs_vectors(ia_store *s, const char *owner, const char *const *stores, size_t n_stores, const char *model,
                     int64_t **ids, float **vecs, int *dim, size_t *n, ia_err *err) {
    if (!n_stores || !model) return 0;
    ia_buf st;
    ia_buf_init(&st, 0);
    for (size_t i = 0; i < n_stores; i++) ia_buf_printf(&st, "%s%s", i ? "," : "", stores[i]);
    char *list = ia_buf_take(&st);
    vec_arg a = {.owner = owner, .model = model, .list = list};
    int rc = ia_pg_run(s, op_vectors, &a, true, err);
    free(list);
    if (rc != 0) {
        free(a.ids);
        free(a.vecs);
        return rc;
    }
    *ids = a.ids;
    *vecs = a.vecs;
    *dim = a.dim;
    *n = a.n;
    return 0;
}

static int op_hits(pgx *x, void *p) {
    vec_arg *a = p;
    pgargs q = {0};
    ia_pg_text(&q, a->owner);
    ia_pg_text(&q, a->list);
    PGresult *r = ia_pg_q(x, "chunks", "SELECT c.id, c.store, c.doc, coalesce(d.display_name, d.id), c.text, "
                          "d.metadata FROM fs_chunks c JOIN fs_docs d ON d.owner = c.owner AND d.store = c.store AND "
                          "d.id = c.doc WHERE c.owner = $1 AND d.state = 'active' AND "
                          "c.id = ANY(string_to_array($2, ',')::bigint[])", &q);
    if (!r) return -1;
    int rows = PQntuples(r);
    ia_fs_hits_free(a->hits, a->n);
    a->hits = ia_xcalloc((size_t)rows + 1, sizeof *a->hits);
    for (int i = 0; i < rows; i++) {
        ia_fs_hit *h = &a->hits[i];
        h->chunk_id = ia_pg_int(r, i, 0);
        ia_pg_into(r, i, 1, h->store, sizeof h->store);
        ia_pg_into(r, i, 2, h->doc, sizeof h->doc);
        h->doc_title = ia_pg_dup(r, i, 3);
        h->text = ia_pg_dup(r, i, 4);
        if (ia_fs_meta_decode(PQgetisnull(r, i, 5) ? NULL : PQgetvalue(r, i, 5), &h->meta, &h->n_meta) < 0)
            h->n_meta = 0;
    }
    a->n = (size_t)rows;
    PQclear(r);
    return 0;
}

int ia_pg_fs_hits(ia_store *s, const char *owner, const int64_t *ids, size_t n_ids, ia_fs_hit **out, size_t *n,
                  ia_err *err) {
    if (!n_ids) return 0;
    ia_buf b;
    ia_buf_init(&b, 0);
    for (size_t i = 0; i < n_ids; i++) ia_buf_printf(&b, "%s%lld", i ? "," : "", (long long)ids[i]);
    char *list = ia_buf_take(&b);
    vec_arg a = {.owner = owner, .list = list};
    int rc = ia_pg_run(s, op_hits, &a, true, err);
    free(list);
    if (rc != 0) {
        ia_fs_hits_free(a.hits, a.n);
        return rc;
    }
    *out = a.hits;
    *n = a.n;
    return 0;
}
