/* remote.c: an engine whose model runs outside this process (engine.h,
 * ia_engine_backend). It is an ia_engine with only a name and the
 * backend's operations, so that core finds, checks and runs it as it does
 * a local model; what it takes is text and documents' text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "lib/util.h"

ia_engine *ia_engine_remote(const char *name, const ia_engine_backend *be) {
    ia_engine *e = ia_xcalloc(1, sizeof *e);
    e->name = ia_strdup(name);
    e->remote = true;
    e->be = *be;
    /* not a hex hash, so never equal to a local model's: no kept tokens are shared */
    snprintf(e->vocab_id, sizeof e->vocab_id, "remote:%.9s", name);
    return e;
}

bool ia_engine_is_remote(const ia_engine *e) { return e && e->remote; }

bool ia_remote_takes(ia_modality m) { return m == IA_MOD_TEXT || m == IA_MOD_DOCUMENT; }

int ia_remote_media_check(const ia_engine *e, const ia_engine_media *m, const char *field, ia_err *err) {
    if (m->form == IA_EMEDIA_TEXT) return 0;
    static const char *const mn[IA_MOD__COUNT] = {"text", "image", "audio", "video", "document"};
    return ia_fail(err, IA_EUNIMPLEMENTED,
                   "%s: model %s is an upstream chat engine (--upstream ...,api=chat), and %s input is not "
                   "forwarded to upstream engines yet; send text (documents go as their text)",
                   field, e->name, mn[m->modality < IA_MOD__COUNT ? m->modality : 0]);
}

void ia_remote_stats(ia_engine *e, ia_engine_stats *st) {
    memset(st, 0, sizeof *st);
    if (e->be.get_stats) e->be.get_stats(e->be.impl, st);
}

void ia_remote_free(ia_engine *e) {
    if (e->be.free) e->be.free(e->be.impl);
    free(e->name);
    free(e);
}
