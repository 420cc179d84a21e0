/* agentdefs: the service's custom agents (SDK 3.3.0's agents API) over
 * store/agents.h, per owner. Creating one checks its base: a Deep Research
 * agent's name (core/agent.h) or a model this server serves (a 400 naming
 * base_agent otherwise), and draws an id when the client gave none. The
 * wire is api/agents.c's; a create request naming an agent is merged with
 * it by http/ (api's ia_api_agent_apply) before ia_core_create. */
#ifndef IA_CORE_AGENTDEFS_H
#define IA_CORE_AGENTDEFS_H

#include "lib/err.h"
#include "store/agents.h"

struct ia_core;

/* d->owner and d->created are set here; d->id drawn when empty. */
int ia_core_agent_create(struct ia_core *c, const char *owner, ia_agent_def *d, ia_err *err);
int ia_core_agent_get(struct ia_core *c, const char *owner, const char *id, ia_agent_def *out, ia_err *err);
int ia_core_agent_list(struct ia_core *c, const char *owner, const char *after_id, int limit,
                       ia_agent_def **out, size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err);
int ia_core_agent_delete(struct ia_core *c, const char *owner, const char *id, ia_err *err);

#endif
