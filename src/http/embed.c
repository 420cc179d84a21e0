/* embed: POST /{v}/models/{name}:embedContent and :batchEmbedContents —
 * models.embedContent of the SDKs (1.x and 3.x post the batch form) over
 * the --embedding-model embedders (engine/embed.h). All texts of a request
 * go to the embedder in one call (it packs them into decodes); each
 * answer is cut to its outputDimensionality and renormalised. Errors in
 * Google's classic shape: a model that is not an embedding model this
 * server serves is a 404 naming it and the flag; a request's model that is
 * not the URL's, or an outputDimensionality past the model's, a 400. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/core.h"
#include "engine/embed.h"
#include "http/http_int.h"
#include "lib/util.h"

static enum MHD_Result send_fail(ia_http_req *r, struct MHD_Connection *c, ia_err *e) {
    return ia_http_send_err(r, c, e, NULL);
}

/* The 404 for name: what is served instead, and how to serve one. */
static int unknown_model(const ia_embed_set *set, const char *name, ia_err *e) {
    char *names = ia_embed_names(set);
    int rc = ia_fail(e, IA_ENOTFOUND, "models/%s is not an embedding model this server serves (embedding models: "
                     "%s); serve one with --embedding-model [NAME=]FILE.gguf", name, names);
    free(names);
    return rc;
}

/* Each request's model is the URL's, and its dimensionality fits. */
static int check_reqs(const ia_embed_set *set, ia_embedder *m, const char *url_name, const ia_api_embed_req *q,
                      size_t n, bool batch, ia_err *e) {
    for (size_t i = 0; i < n; i++) {
        char at[40] = "";
        if (batch) snprintf(at, sizeof at, "requests[%zu].", i);
        if (q[i].model && ia_embed_find(set, q[i].model) != m)
            return ia_fail(e, IA_EINVALID, "%smodel: models/%.100s is not the URL's models/%s (one batch, one model)",
                           at, q[i].model, url_name);
        if (q[i].out_dim > ia_embedder_dim(m))
            return ia_fail(e, IA_EINVALID, "%soutputDimensionality: %lld is more than models/%s's %d dimensions", at,
                           (long long)q[i].out_dim, url_name, ia_embedder_dim(m));
    }
    return 0;
}

static enum MHD_Result answer(ia_http_req *r, struct MHD_Connection *c, ia_embedder *m, ia_api_embed_req *q,
                              size_t n, bool batch) {
    int dim = ia_embedder_dim(m);
    const char **texts = ia_xcalloc(n, sizeof *texts);
    size_t *lens = ia_xcalloc(n, sizeof *lens);
    for (size_t i = 0; i < n; i++) texts[i] = q[i].text, lens[i] = q[i].len;
    float *vecs = ia_xcalloc(n * (size_t)dim, sizeof *vecs);
    ia_embed_info *info = ia_xcalloc(n, sizeof *info);
    ia_api_embedding *out = ia_xcalloc(n, sizeof *out);
    ia_err e;
    enum MHD_Result ret;
    if (ia_embedder_embed(m, texts, lens, n, vecs, info, &e) != 0) {
        ret = send_fail(r, c, &e);
    } else {
        for (size_t i = 0; i < n; i++) {
            float *v = vecs + i * (size_t)dim;
            int k = q[i].out_dim > 0 ? (int)q[i].out_dim : dim;
            ia_embed_reduce(v, dim, k, v);
            out[i] = (ia_api_embedding){.v = v, .dim = k, .truncated = info[i].truncated,
                                        .n_tokens = info[i].n_tokens};
        }
        ret = ia_http_send(r, c, 200, ia_api_embed_encode(out, n, batch), "application/json", NULL);
    }
    free(out);
    free(info);
    free(vecs);
    free(lens);
    free(texts);
    return ret;
}

enum MHD_Result ia_http_embed_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    const ia_embed_set *set = ia_core_embed(h->core);
    ia_err e;
    const char *name = r->rt.id_too_long ? "?" : r->rt.id;
    ia_embedder *m = r->rt.id_too_long ? NULL : ia_embed_find(set, name);
    if (!m) {
        unknown_model(set, name, &e);
        return send_fail(r, c, &e);
    }
    ia_api_embed_req *q = NULL;
    size_t n = 0;
    bool batch = r->rt.embed_batch;
    enum MHD_Result ret;
    if (ia_api_embed_decode(r->body.data, r->body.len, batch, &q, &n, &e) != 0 ||
        check_reqs(set, m, name, q, n, batch, &e) != 0)
        ret = send_fail(r, c, &e);
    else
        ret = answer(r, c, m, q, n, batch);
    ia_api_embed_free(q, n);
    return ret;
}
