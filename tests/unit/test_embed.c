/* test_embed: text embeddings in process (src/engine/embed.c) with the
 * random-weight embedding model tools/mkdemo.c writes (build/embed.gguf:
 * llama blocks, bidirectional attention, mean pooling, 64 dimensions, 512
 * tokens). Its vectors carry no meaning; what is checked is what the path
 * guarantees: the model's dimension, unit norm, the same vector for the
 * same text, another for another text, a batch equal to one-by-one, a long
 * text cut to the context and flagged, Matryoshka reduction, the spec
 * parser, the aliases, and the refusal of a file that is no model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "engine/embed.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "unit.h"

#define EMBED_MODEL IA_SOURCE_DIR "/build/embed.gguf"

static ia_embedder *open_embed(ia_err *err) {
    ia_engine_global_init(NULL, false);
    ia_embed_spec spec;
    if (ia_embed_spec_parse("e=" EMBED_MODEL, &spec, err) != 0) return NULL;
    ia_embedder *e = ia_embedder_open(&spec, 1, err);
    ia_embed_spec_free(&spec);
    return e;
}

static int embed1(ia_embedder *e, const char *text, float *out, bool *cut) {
    size_t len = strlen(text);
    ia_embed_info in = {0};
    int rc = ia_embedder_embed(e, &text, &len, 1, out, &in, NULL);
    if (cut) *cut = in.truncated;
    return rc;
}

static double norm(const float *v, int dim) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

static float maxdiff(const float *a, const float *b, int dim) {
    float m = 0;
    for (int i = 0; i < dim; i++) m = fabsf(a[i] - b[i]) > m ? fabsf(a[i] - b[i]) : m;
    return m;
}

IA_TEST(embed_shape_norm_determinism) {
    ia_err err = {0};
    ia_embedder *e = open_embed(&err);
    if (!e) fprintf(stderr, "  %s\n", err.msg);
    IA_CHECK(e != NULL);
    int dim = ia_embedder_dim(e);
    IA_CHECK(dim == 64);
    IA_CHECK(ia_embedder_n_ctx(e) == 512);
    IA_CHECK_CONTAINS(ia_embedder_describe(e), "mean pooling, 64 dimensions");
    float a[64], b[64], c[64];
    bool cut = true;
    IA_CHECK(embed1(e, "the cat saw a dog in the house", a, &cut) == 0);
    IA_CHECK(!cut);
    IA_CHECK(fabs(norm(a, dim) - 1.0) < 1e-5);
    IA_CHECK(embed1(e, "the cat saw a dog in the house", b, NULL) == 0);
    IA_CHECK(maxdiff(a, b, dim) == 0); /* the same bits for the same text */
    IA_CHECK(embed1(e, "three little trees by the sun", c, NULL) == 0);
    IA_CHECK(maxdiff(a, c, dim) > 1e-3);
    IA_CHECK(ia_embed_cosine(a, b, dim) > 0.99999f);
    IA_CHECK(ia_embed_cosine(a, c, dim) < 0.9999f);
    ia_embedder_free(e);
}

IA_TEST(embed_batch_equals_one_by_one) {
    ia_err err = {0};
    ia_embedder *e = open_embed(&err);
    IA_CHECK(e != NULL);
    /* 20 texts: more than IA_EMBED_MAX_SEQ, so two decodes */
    enum { N = 20 };
    const char *texts[N];
    size_t lens[N];
    char buf[N][80];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "text %d: %s the dog %s", i, i % 2 ? "once upon a time" : "hello world",
                 i % 3 ? "went out" : "was happy");
        texts[i] = buf[i];
        lens[i] = strlen(buf[i]);
    }
    float *all = ia_xcalloc(N * 64, sizeof *all), one[64];
    ia_embed_info in[N];
    IA_CHECK(ia_embedder_embed(e, texts, lens, N, all, in, &err) == 0);
    for (int i = 0; i < N; i++) {
        IA_CHECK(!in[i].truncated && in[i].n_tokens > 3);
        IA_CHECK(embed1(e, texts[i], one, NULL) == 0);
        /* the same vector up to float summation order (decoded beside 15
         * other texts, a matrix product sums in another order): measured
         * 4e-5 at most per value, a cosine 1 - 1e-9 */
        IA_CHECK(maxdiff(all + i * 64, one, 64) < 1e-4f);
        IA_CHECK(ia_embed_cosine(all + i * 64, one, 64) > 1 - 1e-6f);
    }
    IA_CHECK(maxdiff(all, all + 64, 64) > 1e-3f);
    free(all);
    ia_embedder_free(e);
}

IA_TEST(embed_truncates_long_text) {
    ia_err err = {0};
    ia_embedder *e = open_embed(&err);
    IA_CHECK(e != NULL);
    ia_buf b = {0}, b2 = {0};
    for (int i = 0; i < 400; i++) ia_buf_printf(&b, "the cat and the dog ");
    ia_buf_printf(&b2, "%s", b.data);
    ia_buf_printf(&b2, "something else entirely at the end");
    float x[64], y[64], s[64];
    bool cut = false, cut2 = false, cs = true;
    IA_CHECK(embed1(e, b.data, x, &cut) == 0);
    IA_CHECK(cut);
    IA_CHECK(fabs(norm(x, 64) - 1.0) < 1e-5);
    /* what lies past the context does not reach the vector */
    IA_CHECK(embed1(e, b2.data, y, &cut2) == 0);
    IA_CHECK(cut2);
    IA_CHECK(maxdiff(x, y, 64) < 1e-5f);
    /* a long text beside a short one in one call: each its own flag */
    const char *t2[2] = {"hello", b.data};
    size_t l2[2] = {5, strlen(b.data)};
    float both[128];
    ia_embed_info c2[2];
    IA_CHECK(ia_embedder_embed(e, t2, l2, 2, both, c2, &err) == 0);
    IA_CHECK(!c2[0].truncated && c2[1].truncated);
    IA_CHECK(c2[1].n_tokens > 512 && c2[0].n_tokens < 10);
    IA_CHECK(embed1(e, "hello", s, &cs) == 0);
    IA_CHECK(!cs);
    IA_CHECK(maxdiff(both, s, 64) < 1e-5f);
    IA_CHECK(maxdiff(both + 64, x, 64) < 1e-5f);
    free(b.data);
    free(b2.data);
    ia_embedder_free(e);
}

IA_TEST(embed_reduce_renormalises) {
    float v[4] = {0.5f, 0.5f, 0.5f, 0.5f}, out[4];
    ia_embed_reduce(v, 4, 2, out);
    IA_CHECK(fabsf(out[0] - 0.70710678f) < 1e-6f && fabsf(out[1] - 0.70710678f) < 1e-6f);
    ia_embed_reduce(v, 4, 9, out); /* past the dimension: all of it */
    IA_CHECK(fabsf(out[3] - 0.5f) < 1e-6f);
    float z[2] = {0, 0};
    IA_CHECK(ia_embed_cosine(z, v, 2) == 0);
}

IA_TEST(embed_spec_and_names) {
    ia_embed_spec s;
    ia_err err = {0};
    IA_CHECK(ia_embed_spec_parse("/x/y/minilm.gguf", &s, &err) == 0);
    IA_CHECK_STREQ(s.name, "minilm");
    IA_CHECK_STREQ(s.path, "/x/y/minilm.gguf");
    ia_embed_spec_free(&s);
    IA_CHECK(ia_embed_spec_parse("mine=a.gguf", &s, &err) == 0);
    IA_CHECK_STREQ(s.name, "mine");
    ia_embed_spec_free(&s);
    IA_CHECK(ia_embed_spec_parse("=a.gguf", &s, &err) < 0);
    IA_CHECK_CONTAINS(err.msg, "name is empty");
    IA_CHECK(ia_embed_spec_parse("n=", &s, &err) < 0);
    IA_CHECK(ia_embed_spec_parse("a:b=x.gguf", &s, &err) < 0);
    IA_CHECK_CONTAINS(err.msg, "may not hold");
    IA_CHECK(ia_embed_spec_parse("", &s, &err) < 0);

    ia_embedder *e = open_embed(&err);
    IA_CHECK(e != NULL);
    ia_embedder *v[1] = {e};
    ia_embed_set set = {.v = v, .n = 1};
    IA_CHECK(ia_embed_find(&set, "e") == e);
    IA_CHECK(ia_embed_find(&set, "models/e") == e);
    IA_CHECK(ia_embed_find(&set, "gemini-embedding-001") == e);
    IA_CHECK(ia_embed_find(&set, "text-embedding-004") == e);
    IA_CHECK(ia_embed_find(&set, "demo") == NULL);
    char *names = ia_embed_names(&set);
    IA_CHECK_CONTAINS(names, "e (and as gemini-embedding-001, text-embedding-004)");
    free(names);
    ia_embedder_free(e);
}

IA_TEST(embed_refuses_what_is_not_a_model) {
    ia_engine_global_init(NULL, false);
    ia_err err = {0};
    ia_embed_spec s = {.name = "x", .path = IA_SOURCE_DIR "/Makefile"};
    IA_CHECK(ia_embedder_open(&s, 1, &err) == NULL);
    IA_CHECK_CONTAINS(err.msg, "cannot load");
}

/* The wire (src/api/embed.c): what each form decodes to and each refusal. */
IA_TEST(embed_wire_decode) {
    ia_api_embed_req *q;
    size_t n;
    ia_err err = {0};
    const char *b = "{\"requests\":[{\"model\":\"models/m\",\"content\":{\"role\":\"user\",\"parts\":[{\"text\":\"a\"},"
                    "{\"text\":\"\"},{\"text\":\"b\"}]},\"taskType\":\"RETRIEVAL_DOCUMENT\",\"title\":\"T\","
                    "\"outputDimensionality\":8},{\"content\":{\"parts\":[{\"text\":\"c\"}]}}]}";
    IA_CHECK(ia_api_embed_decode(b, strlen(b), true, &q, &n, &err) == 0);
    IA_CHECK(n == 2);
    IA_CHECK_STREQ(q[0].model, "m");
    IA_CHECK_STREQ(q[0].text, "T\n\na\nb");
    IA_CHECK(q[0].out_dim == 8 && q[1].out_dim == 0 && !q[1].model);
    ia_api_embed_free(q, n);
    struct { const char *body; bool batch; const char *msg; } bad[] = {
        {"{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"title\":\"T\"}", false, "title: only with taskType RETRIEVAL_DOCUMENT"},
        {"{\"content\":{\"parts\":[{\"text\":\" \\n\"}]}}", false, "content: no text to embed"},
        {"{\"content\":{\"parts\":[]}}", false, "content: no text to embed"},
        {"{\"requests\":[]}", true, "requests: expected a non-empty array"},
        {"{\"requests\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"bogus\":1}]}", true, "requests[0].bogus: unknown field"},
        {"{\"requests\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]},\"outputDimensionality\":0}]}", true,
         "requests[0].outputDimensionality: expected a positive integer"},
        {"{\"content\":{\"parts\":[{\"fileData\":{}}]}}", false, "content.parts[0].fileData: only text parts"},
        {"[1]", false, "must be a JSON object"},
        /* the fuzzer's find: a name left with a '/' after the prefix is none */
        {"{\"model\":\"models/models/m\",\"content\":{\"parts\":[{\"text\":\"x\"}]}}", false,
         "model: not a model name: expected \"models/NAME\" or NAME"},
        {"{\"model\":\"models/\",\"content\":{\"parts\":[{\"text\":\"x\"}]}}", false, "model: not a model name"},
        {"{", true, "malformed JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        IA_CHECK(ia_api_embed_decode(bad[i].body, strlen(bad[i].body), bad[i].batch, &q, &n, &err) < 0);
        IA_CHECK(!q && n == 0);
        IA_CHECK_CONTAINS(err.msg, bad[i].msg);
    }
    ia_buf many = {0};
    ia_buf_printf(&many, "{\"requests\":[");
    for (int i = 0; i < IA_API_EMBED_MAX + 1; i++)
        ia_buf_printf(&many, "%s{\"content\":{\"parts\":[{\"text\":\"x\"}]}}", i ? "," : "");
    ia_buf_printf(&many, "]}");
    IA_CHECK(ia_api_embed_decode(many.data, many.len, true, &q, &n, &err) < 0);
    IA_CHECK_CONTAINS(err.msg, "at most 100 in one batch");
    free(many.data);
    /* the answer: values and statistics, batch or single */
    float v[2] = {0.6f, 0.8f};
    ia_api_embedding e = {.v = v, .dim = 2, .truncated = true, .n_tokens = 600};
    char *s = ia_api_embed_encode(&e, 1, true);
    IA_CHECK_STREQ(s, "{\"embeddings\":[{\"values\":[0.600000024,0.800000012],\"statistics\":{\"truncated\":true,"
                      "\"tokenCount\":600}}]}");
    free(s);
    s = ia_api_embed_encode(&e, 1, false);
    IA_CHECK_CONTAINS(s, "{\"embedding\":{\"values\":[");
    free(s);
}
