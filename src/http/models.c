/* models: GET /{v}/models and /{v}/models/{name} — the served models as
 * Google's models.list / models.get answer them (api/models.c): each local
 * engine (its context as both token limits, what it takes as input in its
 * description; a chat upstream is one of them), then each image or speech
 * --upstream engine, in the order configured, then the speech models
 * (--speech-model's, the embedded engine's names), then the embedding
 * models (--embedding-model's, then the Google names the first answers to);
 * pageSize (default 50, at most 1000, as Google's) and pageToken. Errors in
 * Google's classic shape; an unknown name is a 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/core.h"
#include "engine/embed.h"
#include "engine/engine.h"
#include "http/http_int.h"
#include "speech/speech.h"
#include "speech/tts.h"
#include "upstream/upstream.h"

typedef struct model_list {
    ia_api_model *v;
    char **owned; /* descriptions */
    size_t n;
    char **names; /* the speech models' names (owned) */
    size_t n_names;
} model_list;

/* The speech models: --speech-model's (llama.cpp), then the embedded
 * engine's names (ia_speech_model_names: "a, b, c"). */
static void add_speech(ia_core *core, model_list *l) {
    const ia_tts_set *t = ia_core_tts(core);
    size_t nt = t ? t->n : 0;
    char *names = ia_strdup(ia_speech_model_names());
    size_t ne = 1;
    for (const char *p = names; *p; p++) ne += *p == ',';
    l->v = ia_xrealloc(l->v, (l->n + nt + ne + 1) * sizeof *l->v);
    l->owned = ia_xrealloc(l->owned, (l->n + nt + ne + 1) * sizeof *l->owned);
    for (size_t i = 0; i < nt; i++) {
        char *d = ia_asprintf("speech output by llama.cpp's speech generation (%s)", ia_tts_describe(t->v[i]));
        l->owned[l->n] = d;
        l->v[l->n++] = (ia_api_model){.name = ia_tts_name(t->v[i]), .description = d, .version = "speech"};
    }
    for (char *save = NULL, *n = strtok_r(names, ", ", &save); n; n = strtok_r(NULL, ", ", &save)) {
        if (t && ia_tts_find(t, n)) continue;
        char *nm = ia_strdup(n); /* kept with the list, as the descriptions are */
        l->names = ia_xrealloc(l->names, (l->n_names + 1) * sizeof *l->names);
        l->names[l->n_names++] = nm;
        l->owned[l->n] = ia_strdup("speech output by the embedded espeak-ng engine (24 kHz PCM, Gemini's voice names)");
        l->v[l->n] = (ia_api_model){.name = nm, .description = l->owned[l->n], .version = "speech"};
        l->n++;
    }
    free(names);
}

/* The --embedding-model embedders, then the names the first also answers
 * to (engine/embed.h), so models.get finds each. */
static void add_embed(ia_core *core, model_list *l) {
    const ia_embed_set *s = ia_core_embed(core);
    static const char *const ALIASES[] = {IA_EMBED_ALIASES};
    size_t na = sizeof ALIASES / sizeof *ALIASES, n = s ? s->n : 0;
    if (!n) return;
    l->v = ia_xrealloc(l->v, (l->n + n + na + 1) * sizeof *l->v);
    l->owned = ia_xrealloc(l->owned, (l->n + n + na + 1) * sizeof *l->owned);
    for (size_t i = 0; i < n + na; i++) {
        ia_embedder *e = i < n ? s->v[i] : s->v[0];
        const char *name = i < n ? ia_embedder_name(e) : ALIASES[i - n];
        if (i >= n && ia_embed_find(s, name) != s->v[0]) continue; /* a model of that name is loaded */
        bool dup = false;
        for (size_t k = 0; k < n && i >= n; k++) dup = dup || !strcmp(ia_embedder_name(s->v[k]), name);
        if (dup) continue;
        char *d = i < n ? ia_asprintf("text embeddings by a GGUF model run in process by llama.cpp (%s)",
                                      ia_embedder_describe(e))
                        : ia_asprintf("text embeddings: the name of %s here (%s)", ia_embedder_name(e),
                                      ia_embedder_describe(e));
        l->owned[l->n] = d;
        l->v[l->n++] = (ia_api_model){.name = name, .description = d, .version = "embedding",
                                      .input_limit = ia_embedder_n_ctx(e), .output_limit = 1, .embedding = true};
    }
}

static void list_build(ia_core *core, model_list *l) {
    const ia_upstreams *up = ia_core_upstreams(core);
    size_t ne = ia_core_n_engines(core), nu = up ? up->n : 0;
    l->v = ia_xcalloc(ne + nu + 1, sizeof *l->v);
    l->owned = ia_xcalloc(ne + nu + 1, sizeof *l->owned);
    l->n = 0;
    l->names = NULL;
    l->n_names = 0;
    for (size_t i = 0; i < ne; i++) {
        ia_engine *e = ia_core_engine(core, i);
        const ia_upstream *u = up && ia_engine_is_remote(e) ? ia_upstream_for(up, ia_engine_name(e)) : NULL;
        char *d = u ? ia_asprintf("chat model of an upstream engine (api=chat, its model %s); input: %s",
                                  u->remote_model ? u->remote_model : u->name, ia_engine_modalities(e))
                    : ia_asprintf("GGUF model run in process by llama.cpp; input: %s", ia_engine_modalities(e));
        l->owned[l->n] = d;
        l->v[l->n++] = (ia_api_model){.name = ia_engine_name(e), .description = d,
                                      .input_limit = ia_engine_n_ctx(e), .output_limit = ia_engine_n_ctx(e)};
    }
    for (size_t i = 0; i < nu; i++) {
        const ia_upstream *u = &up->v[i];
        if (u->kind == IA_UPSTREAM_CHAT) continue; /* an engine, listed above */
        char *d = ia_asprintf("%s output from an upstream engine (api=%s, its model %s)",
                              u->kind == IA_UPSTREAM_SPEECH ? "speech" : "image", ia_upstream_api_name(u->api),
                              u->remote_model ? u->remote_model : u->name);
        l->owned[l->n] = d;
        l->v[l->n++] = (ia_api_model){.name = u->name, .description = d, .version = "upstream"};
    }
    add_speech(core, l);
    add_embed(core, l);
}

static void list_free(model_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->owned[i]);
    for (size_t i = 0; i < l->n_names; i++) free(l->names[i]);
    free(l->names);
    free(l->owned);
    free(l->v);
}

static enum MHD_Result do_list(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const model_list *l) {
    int64_t size = 50;
    const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pageSize");
    const char *pt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pageToken");
    ia_err e;
    if (ps && *ps && (ia_http_parse_int64(ps, &size) < 0 || size < 1)) {
        ia_fail(&e, IA_EINVALID, "pageSize: '%.20s' is not a positive integer (at most 1000)", ps);
        return ia_http_send_err(r, c, &e, NULL);
    }
    if (size > 1000) size = 1000; /* as Google's: larger asks get 1000 */
    size_t start = 0;
    if (pt && *pt) {
        long at = ia_api_models_parse_page_token(pt);
        if (at < 0) {
            ia_fail(&e, IA_EINVALID, "pageToken: not a token this server gave; send the nextPageToken of the "
                                     "previous page, or none for the first");
            return ia_http_send_err(r, c, &e, NULL);
        }
        start = (size_t)at < l->n ? (size_t)at : l->n;
    }
    size_t n = l->n - start < (size_t)size ? l->n - start : (size_t)size;
    (void)h;
    char *body = ia_api_models_encode_list(l->v + start, n, start + n < l->n ? start + n : 0);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

enum MHD_Result ia_http_models_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    model_list l;
    list_build(h->core, &l);
    enum MHD_Result ret;
    if (r->rt.kind == IA_RT_MODELS) {
        ret = do_list(h, r, c, &l);
    } else {
        const ia_api_model *m = NULL;
        for (size_t i = 0; i < l.n && !r->rt.id_too_long && !m; i++)
            if (!strcmp(l.v[i].name, r->rt.id)) m = &l.v[i];
        ia_err e;
        if (m) {
            ret = ia_http_send(r, c, 200, ia_api_model_encode(m), "application/json", NULL);
        } else {
            ia_fail(&e, IA_ENOTFOUND, "models/%s is not found: this server serves %s", r->rt.id_too_long ? "?" : r->rt.id,
                    ia_core_model_names(h->core));
            ret = ia_http_send_err(r, c, &e, NULL);
        }
    }
    list_free(&l);
    return ret;
}
