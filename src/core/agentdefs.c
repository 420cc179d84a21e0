/* agentdefs.c: custom agents in the service (agentdefs.h). */
#include "core/agentdefs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "engine/engine.h"
#include "lib/util.h"

static bool served(const ia_core *c, const char *model) {
    for (size_t i = 0; i < c->n_engines; i++)
        if (!strcmp(ia_engine_name(c->engines[i]), model)) return true;
    return false;
}

int ia_core_agent_create(ia_core *c, const char *owner, ia_agent_def *d, ia_err *err) {
    if (!ia_agent_name_known(d->base_agent) && !served(c, d->base_agent))
        return ia_fail(err, IA_EINVALID, "base_agent: '%s' is neither an agent (%s) nor a model served here (%s)",
                       d->base_agent, ia_agent_names(), c->names);
    if (!d->id[0]) {
        unsigned char rnd[6];
        if (ia_random(rnd, sizeof rnd) != 0) return ia_fail(err, IA_EINTERNAL, "could not draw a random id");
        snprintf(d->id, sizeof d->id, "agent-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
                 rnd[5]);
    }
    free(d->owner);
    d->owner = ia_strdup(owner ? owner : "");
    d->created = ia_now();
    return ia_store_agent_create(c->store, d, err);
}

int ia_core_agent_get(ia_core *c, const char *owner, const char *id, ia_agent_def *out, ia_err *err) {
    return ia_store_agent_get(c->store, owner, id, out, err);
}

int ia_core_agent_list(ia_core *c, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                       size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err) {
    return ia_store_agent_list(c->store, owner, after_id, limit, out, n, next_id, err);
}

int ia_core_agent_delete(ia_core *c, const char *owner, const char *id, ia_err *err) {
    return ia_store_agent_delete(c->store, owner, id, err);
}
