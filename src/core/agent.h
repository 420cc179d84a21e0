/* agent: the Deep Research agent on a local model. An agent interaction
 * (`agent: "deep-research-pro-preview-12-2025"` or a newer name the SDKs
 * list, background: true) runs as a model interaction of the model
 * `--agent-model` names, with the server's google_search and url_context
 * tools and a system instruction that makes it research: plan, search,
 * read the pages it found, take notes, then write a report in Markdown
 * whose claims cite the sources by number (url_citation annotations, as
 * google_search's answers get). Its first step must call a tool (a search,
 * or reading the URLs the request names); the later ones choose. Its run is the run loop's (core/loop.c):
 * streamed, cancelled, resumed and recovered as any; its step limit is
 * --agent-max-steps. The record keeps the agent's name as its model, and
 * the wire shows it as `agent`, role "agent". */
#ifndef IA_CORE_AGENT_H
#define IA_CORE_AGENT_H

#include "lib/err.h"
#include "model/types.h"

struct ia_core;

/* Turns an agent request into the model request that runs it: the agent
 * checked (a name it does not know: 404; no --agent-model, no search
 * backend, not background: 400 naming what to do), req->model set to the
 * agent model, the research tools and instruction added. 0 or -1. */
int ia_agent_setup(struct ia_core *c, ia_request *req, ia_err *err);

/* The system text of an agent's model steps: the research instruction,
 * then the user's system_instruction (the record keeps the user's
 * alone). malloc'd. */
char *ia_agent_system(const char *user_system);

#endif
