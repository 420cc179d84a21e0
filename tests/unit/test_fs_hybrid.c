/* test_fs_hybrid: hybrid file search (core/fs_vector.h at core/fsearch.c's
 * seams) over a real store on both backends and the random-weight
 * embedding model build/embed.gguf: each chunk's vector stored at
 * ingestion with its model's name (unit length, the model's dimension),
 * a store's embeddingModel checked against what is served, the vector
 * list's structure (a chunk's own text is its nearest; a query with no word
 * in the corpus still finds chunks, read back whole; a metadata filter
 * holds for them too), RRF keeping a distinctive phrase's document first,
 * lexical only when no model is set, and recall@5 on the known corpus
 * (fs_corpus.h) lexical vs hybrid, printed — with random weights the
 * vectors carry no meaning, so hybrid is only required to stay close to
 * lexical; with ../shared/models/stories260K.gguf mean-pooled (a real, if
 * tiny, language model, not an embedding model) measured too. */
#include "fs_corpus.h"
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/files.h"
#include "core/fs_filter.h"
#include "core/fs_vector.h"
#include "core/fsearch.h"
#include "engine/embed.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "pg_help.h"
#include "store/fsearch.h"
#include "store/store.h"

#define EMBED_MODEL IA_SOURCE_DIR "/build/embed.gguf"

typedef struct hx {
    char dir[512], db[1024];
    ia_store *store;
    ia_files *files;
    ia_fsearch *fs;
    ia_embedder *v[1];
    ia_embed_set set;
} hx;

static int hx_open(hx *x, const char *name, const char *model_path, int *failed) {
    memset(x, 0, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "%s/fsh-%s%s", ia_test_tmpdir(), name, ia_test_store_pg ? "-pg" : "");
    char file[512], db[64];
    snprintf(file, sizeof file, "%s/fsh-%s.db", ia_test_tmpdir(), name);
    snprintf(db, sizeof db, "fsh_%s", name);
    if (!ia_test_store_spec(x->db, sizeof x->db, db, file, failed)) return 1;
    ia_err e;
    ia_engine_global_init(NULL, false);
    ia_embed_spec spec = {.name = "e", .path = (char *)model_path};
    if (!(x->v[0] = ia_embedder_open(&spec, 1, &e))) return -1;
    x->set = (ia_embed_set){x->v, 1};
    if (!(x->store = ia_store_open(x->db, &e))) return -1;
    ia_files_opts o = {.store = x->store, .dir = x->dir};
    if (!(x->files = ia_files_new(&o, &e))) return -1;
    if (!(x->fs = ia_fsearch_new(x->store, x->files, &e))) return -1;
    ia_fsearch_set_embed(x->fs, &x->set);
    return 0;
}

#define HX_OPEN(x, name, path)                            \
    do {                                                  \
        int o_ = hx_open(x, name, path, ia_failed_);      \
        if (o_ == 1) return;                              \
        IA_CHECK(o_ == 0);                                \
    } while (0)

static void hx_close(hx *x) {
    ia_fsearch_free(x->fs);
    ia_files_free(x->files);
    ia_store_close(x->store);
    ia_embedder_free(x->v[0]);
}

/* A text document through the upload path, in whatever state ingestion
 * leaves it; -1 when it was not ingested. */
static int upload_doc(hx *x, const char *store, const char *name, const char *text, const ia_fs_meta *meta,
                      size_t n_meta, ia_fs_doc *doc) {
    ia_fs_add a = {.display_name = name, .mime_type = "text/plain", .meta = meta, .n_meta = n_meta};
    ia_file up, f;
    ia_err e;
    if (ia_fsearch_upload_start(x->fs, "k1", store, &a, (int64_t)strlen(text), &up, &e) < 0) return -1;
    ia_files_writer *w;
    int rc = ia_files_write_open(x->files, "k1", up.upload_id, 0, (int64_t)strlen(text), &w, &e);
    if (rc == 0) rc = ia_files_write(w, text, strlen(text), &e);
    if (rc == 0) rc = ia_files_write_close(w, true, &f, &e);
    if (rc == 0) {
        rc = ia_fsearch_upload_done(x->fs, "k1", &f, doc, &e) == 1 ? 0 : -1;
        ia_file_free(&f);
    }
    ia_file_free(&up);
    return rc;
}

/* A text document through the upload path (as test_fsearch.c's add_doc),
 * ACTIVE. */
static int add_doc(hx *x, const char *store, const char *name, const char *text, const ia_fs_meta *meta,
                   size_t n_meta, ia_fs_doc *doc) {
    if (upload_doc(x, store, name, text, meta, n_meta, doc) < 0) return -1;
    if (doc->state == IA_DOC_ACTIVE) return 0;
    ia_fs_doc_free(doc);
    return -1;
}

/* The corpus in store *st (created with embedding model `model`). */
static int add_corpus(hx *x, const char *model, ia_fs_store *st) {
    ia_err e;
    if (ia_fsearch_create(x->fs, "k1", "corpus", model, st, &e) < 0) return -1;
    for (size_t i = 0; i < N_CORPUS; i++) {
        ia_fs_meta meta[] = {{.key = "n", .kind = IA_FS_META_NUMERIC, .num = (double)i}};
        ia_fs_doc d;
        if (add_doc(x, st->id, CORPUS[i][0], CORPUS[i][1], meta, 1, &d) < 0) return -1;
        ia_fs_doc_free(&d);
    }
    return 0;
}

/* Recall of the QUESTIONS over store id: *at1 right document first, the
 * return value within the first 5. */
static int recall(hx *x, const char *id, int *at1) {
    const char *stores[] = {id};
    int hits = 0;
    *at1 = 0;
    for (size_t q = 0; q < N_QUESTIONS; q++) {
        ia_fs_hit *h;
        size_t n;
        ia_err e;
        if (ia_fsearch_search(x->fs, "k1", stores, 1, QUESTIONS[q][0], NULL, 5, &h, &n, &e) < 0) return -1;
        bool found = false;
        for (size_t i = 0; i < n; i++) found = found || !strcmp(h[i].doc_title, QUESTIONS[q][1]);
        hits += found;
        *at1 += n && !strcmp(h[0].doc_title, QUESTIONS[q][1]);
        ia_fs_hits_free(h, n);
    }
    return hits;
}

/* Recall@5 of the vector list alone (what the vectors know). */
static int vector_recall(hx *x, const char *id) {
    const char *stores[] = {id};
    int hits = 0;
    for (size_t q = 0; q < N_QUESTIONS; q++) {
        ia_fs_hit *pool = NULL;
        size_t np = 0;
        int64_t *ids;
        ia_fs_ranked l;
        ia_err e;
        if (ia_fs_vec_list(x->store, x->v[0], "k1", stores, 1, QUESTIONS[q][0], NULL, &pool, &np, &ids, &l, &e) < 0)
            return -1;
        for (size_t r = 0; r < l.n && r < 5; r++)
            for (size_t i = 0; i < np; i++)
                if (pool[i].chunk_id == l.ids[r] && !strcmp(pool[i].doc_title, QUESTIONS[q][1])) hits++;
        ia_fs_hits_free(pool, np);
        free(ids);
    }
    return hits;
}

IA_STORE_TEST(fs_hybrid_vectors_stored_and_model_checked) {
    hx x;
    HX_OPEN(&x, "vec", EMBED_MODEL);
    ia_err e;
    ia_fs_store st, bad;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, "models/nope-embedding", &bad, &e) < 0);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "embeddingModel: 'models/nope-embedding' is not an embedding model this server serves");
    IA_CHECK_CONTAINS(e.msg, "--embedding-model");
    /* Google's names resolve to the default model */
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, "models/gemini-embedding-001", &st, &e) == 0);
    ia_fs_doc d;
    IA_CHECK(add_doc(&x, st.id, "one", CORPUS[0][1], NULL, 0, &d) == 0);
    ia_fs_doc_free(&d);
    IA_CHECK(add_doc(&x, st.id, "two", CORPUS[1][1], NULL, 0, &d) == 0);
    const char *stores[] = {st.id};
    int64_t *ids;
    float *vecs;
    int dim;
    size_t n;
    IA_CHECK(ia_store_fs_vectors(x.store, "k1", stores, 1, "e", &ids, &vecs, &dim, &n, &e) == 0);
    IA_CHECK(n == 2 && dim == 64);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < dim; j++) s += (double)vecs[i * 64 + j] * vecs[i * 64 + j];
        IA_CHECK(fabs(s - 1) < 1e-5);
    }
    /* the stored vector is the embedder's for the chunk's text */
    float v[64];
    size_t len = strlen(CORPUS[0][1]);
    IA_CHECK(ia_embedder_embed(x.v[0], &CORPUS[0][1], &len, 1, v, NULL, &e) == 0);
    IA_CHECK(ia_embed_cosine(v, vecs, 64) > 0.9999f);
    free(ids);
    free(vecs);
    /* another model's name, another owner: nothing */
    IA_CHECK(ia_store_fs_vectors(x.store, "k1", stores, 1, "other", &ids, &vecs, &dim, &n, &e) == 0 && n == 0);
    IA_CHECK(ia_store_fs_vectors(x.store, "k2", stores, 1, "e", &ids, &vecs, &dim, &n, &e) == 0 && n == 0);
    ia_fs_doc_free(&d);
    ia_fs_store_free(&st);
    /* a store naming the second model gets its vectors, not the default's */
    ia_embed_spec spec = {.name = "f", .path = EMBED_MODEL};
    ia_embedder *two[2] = {x.v[0], ia_embedder_open(&spec, 1, &e)};
    IA_CHECK(two[1] != NULL);
    ia_embed_set set2 = {two, 2};
    ia_fsearch_set_embed(x.fs, &set2);
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, "models/f", &st, &e) == 0);
    IA_CHECK_STREQ(st.embedding_model, "models/f");
    IA_CHECK(add_doc(&x, st.id, "three", CORPUS[2][1], NULL, 0, &d) == 0);
    stores[0] = st.id;
    IA_CHECK(ia_store_fs_vectors(x.store, "k1", stores, 1, "f", &ids, &vecs, &dim, &n, &e) == 0 && n == 1);
    free(ids);
    free(vecs);
    IA_CHECK(ia_store_fs_vectors(x.store, "k1", stores, 1, "e", &ids, &vecs, &dim, &n, &e) == 0 && n == 0);
    ia_fsearch_set_embed(x.fs, &x.set);
    ia_embedder_free(two[1]);
    ia_fs_doc_free(&d);
    ia_fs_store_free(&st);
    hx_close(&x);
}

IA_STORE_TEST(fs_hybrid_ranking_on_known_corpus) {
    hx x;
    HX_OPEN(&x, "rank", EMBED_MODEL);
    ia_err e;
    ia_fs_store st;
    IA_CHECK(add_corpus(&x, NULL, &st) == 0);
    const char *stores[] = {st.id};
    /* the vector list alone: a chunk's own text is its nearest (cosine 1) */
    ia_fs_hit *pool = NULL;
    size_t np = 0;
    int64_t *ids;
    ia_fs_ranked l;
    IA_CHECK(ia_fs_vec_list(x.store, x.v[0], "k1", stores, 1, CORPUS[7][1], NULL, &pool, &np, &ids, &l, &e) == 0);
    IA_CHECK(l.n == N_CORPUS && np == N_CORPUS); /* every chunk, each read back once */
    ia_fs_hit *top = NULL;
    for (size_t i = 0; i < np; i++)
        if (pool[i].chunk_id == l.ids[0]) top = &pool[i];
    IA_CHECK(top && !strcmp(top->doc_title, "crypto") && !strcmp(top->text, CORPUS[7][1]));
    ia_fs_hits_free(pool, np);
    free(ids);
    /* a query with no word of the corpus: nothing lexical, five by vector */
    ia_fs_hit *h;
    size_t n;
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "zyxwvut qqqq", NULL, 5, &h, &n, &e) == 0);
    IA_CHECK(n == 5);
    for (size_t i = 0; i < n; i++) IA_CHECK(h[i].text && h[i].doc_title && h[i].n_meta == 1 && h[i].score > 0);
    ia_fs_hits_free(h, n);
    /* ... filtered like the lexical list */
    ia_fs_filter *f = NULL;
    IA_CHECK(ia_fs_filter_parse("n < 3", "metadata_filter", &f, &e) == 0);
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "zyxwvut qqqq", f, 5, &h, &n, &e) == 0);
    IA_CHECK(n == 3);
    for (size_t i = 0; i < n; i++) IA_CHECK(h[i].meta[0].num < 3);
    ia_fs_hits_free(h, n);
    ia_fs_filter_free(f);
    /* RRF keeps a distinctive phrase's document first */
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "waggle dance", NULL, 5, &h, &n, &e) == 0);
    IA_CHECK(n == 5 && !strcmp(h[0].doc_title, "bees"));
    double fused = h[0].score;
    ia_fs_hits_free(h, n);
    /* without embedders: lexical only (one list: a lower fused score) */
    ia_fsearch_set_embed(x.fs, NULL);
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "zyxwvut qqqq", NULL, 5, &h, &n, &e) == 0 && n == 0);
    IA_CHECK(ia_fsearch_search(x.fs, "k1", stores, 1, "waggle dance", NULL, 5, &h, &n, &e) == 0);
    IA_CHECK(n >= 1 && !strcmp(h[0].doc_title, "bees") && h[0].score < fused);
    ia_fs_hits_free(h, n);
    ia_fs_store_free(&st);
    hx_close(&x);
}

/* recall@5 (and @1) lexical vs hybrid on the known corpus, and the
 * vectors' own recall@5, printed. */
static void measure(hx *x, const char *what, int *ia_failed_) {
    ia_fs_store st;
    IA_CHECK(add_corpus(x, NULL, &st) == 0);
    int h1, l1;
    int hybrid = recall(x, st.id, &h1), vec = vector_recall(x, st.id);
    ia_fsearch_set_embed(x->fs, NULL);
    int lexical = recall(x, st.id, &l1);
    ia_fsearch_set_embed(x->fs, &x->set);
    int q = (int)N_QUESTIONS;
    fprintf(stderr, "  file search (%s, %s) over %d questions: recall@5 lexical %d (%.3f), hybrid %d (%.3f), "
            "vectors alone %d (%.3f); recall@1 lexical %d, hybrid %d\n", ia_store_backend(x->store), what, q,
            lexical, (double)lexical / q, hybrid, (double)hybrid / q, vec, (double)vec / q, l1, h1);
    IA_CHECK(lexical >= 0 && hybrid >= 0 && vec >= 0);
    /* random vectors add noise, never the right document on purpose: RRF
     * must not lose more than a few of lexical's finds */
    IA_CHECK(hybrid + 3 >= lexical);
    ia_fs_store_free(&st);
}

IA_STORE_TEST(fs_hybrid_recall_at_5) {
    hx x;
    HX_OPEN(&x, "recall", EMBED_MODEL);
    measure(&x, "random-weight embed.gguf", ia_failed_);
    hx_close(&x);
}

IA_STORE_TEST(fs_hybrid_recall_at_5_stories) {
    const char *dir = ia_test_shared_models();
    char path[1024];
    snprintf(path, sizeof path, "%s/stories260K.gguf", dir ? dir : "");
    if (!dir || access(path, R_OK) != 0) {
        fprintf(stderr, "  skipped: ../shared/models/stories260K.gguf is not here\n");
        return;
    }
    hx x;
    HX_OPEN(&x, "stories", path);
    IA_CHECK_CONTAINS(ia_embedder_describe(x.v[0]), "mean pooling");
    measure(&x, "stories260K mean-pooled", ia_failed_);
    hx_close(&x);
}

/* Review S7: a store made under an embedding model the server no longer
 * serves (restarted without it) fails a new document, naming the model and
 * the flag, instead of storing it without vectors. */
IA_STORE_TEST(fs_hybrid_store_model_gone_fails_the_document) {
    hx x;
    HX_OPEN(&x, "gone", EMBED_MODEL);
    ia_err e;
    ia_fs_store st;
    IA_CHECK(ia_fsearch_create(x.fs, "k1", NULL, "e", &st, &e) == 0);
    /* the restart: another embedding model served, "e" no longer */
    ia_embed_spec spec = {.name = "other", .path = (char *)EMBED_MODEL};
    ia_embedder *other[1] = {ia_embedder_open(&spec, 1, &e)};
    IA_CHECK(other[0] != NULL);
    if (other[0]) {
        ia_embed_set set = {other, 1};
        ia_fsearch_set_embed(x.fs, &set);
        ia_fs_doc d;
        IA_CHECK(upload_doc(&x, st.id, "one.txt", "Alpha bravo charlie.", NULL, 0, &d) == 0);
        IA_CHECK(d.state == IA_DOC_FAILED && d.error);
        if (d.error) {
            IA_CHECK_CONTAINS(d.error, "'e'");
            IA_CHECK_CONTAINS(d.error, "--embedding-model");
        }
        ia_fs_doc_free(&d);
        ia_fsearch_set_embed(x.fs, &x.set);
        ia_embedder_free(other[0]);
    }
    ia_fs_store_free(&st);
    hx_close(&x);
}
