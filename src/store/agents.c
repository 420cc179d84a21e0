/* agents.c: store/agents.h's calls, forwarded to the backend's ops. */
#include "store/agents.h"

#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

void ia_agent_def_free(ia_agent_def *d) {
    if (!d) return;
    free(d->owner);
    free(d->base_agent);
    free(d->description);
    free(d->system_instruction);
    free(d->tools);
    free(d->agent_config);
    memset(d, 0, sizeof *d);
}

void ia_agent_defs_free(ia_agent_def *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) ia_agent_def_free(&v[i]);
    free(v);
}

int ia_store_agent_create(ia_store *s, const ia_agent_def *d, ia_err *err) {
    return s->ops->agent_create(s, d, err);
}

int ia_store_agent_get(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    if (!id || strlen(id) >= IA_AGENT_ID_MAX) return ia_fail(err, IA_ENOTFOUND, "agent '%s' not found", id ? id : "");
    return s->ops->agent_get(s, owner ? owner : "", id, out, err);
}

int ia_store_agent_list(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                        size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err) {
    *out = NULL;
    *n = 0;
    next_id[0] = 0;
    return s->ops->agent_list(s, owner ? owner : "", after_id ? after_id : "", limit < 1 ? 1 : limit, out, n,
                              next_id, err);
}

int ia_store_agent_delete(ia_store *s, const char *owner, const char *id, ia_err *err) {
    if (!id || strlen(id) >= IA_AGENT_ID_MAX) return ia_fail(err, IA_ENOTFOUND, "agent '%s' not found", id ? id : "");
    return s->ops->agent_delete(s, owner ? owner : "", id, err);
}
