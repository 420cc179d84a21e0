/* loop: an interaction's run as a loop of steps (internal to src/core/).
 *
 * A model step is one engine job over the conversation so far: the chain
 * and this turn's input, then the outputs of the earlier steps (a model
 * turn whose built-in tool calls and results render as calls and tool
 * messages). When a step's output calls built-in tools (code_execution
 * ...), a tool step runs them on a thread of its own (never the engine's),
 * appends each result as an output, and submits the next model step. The
 * run ends on an answer (completed), on a call of a client function
 * (requires_action: the client's result comes with the next turn), on a
 * limit (model steps, output tokens: incomplete), on a cancel, or on an
 * error; every ending goes through the core's one finalization, so a
 * stored run is never left in_progress. Cancel, background, streaming and
 * resume see one event log across all the steps. */
#ifndef IA_CORE_LOOP_H
#define IA_CORE_LOOP_H

#include "core/outtok.h"
#include "core/prompt.h"
#include "core/run.h"

typedef struct ia_loop ia_loop;

/* What the model steps of a run need, taken from a create's request:
 * conv (the chain and the input, media prepared: taken over), the
 * generation settings, the client functions and the built-in tools, the
 * chain's answers for their kept tokens (oc: taken over). */
ia_loop *ia_loop_new(struct ia_core *c, ia_run *r, ia_engine *eng, const char *owner, ia_conv *conv,
                     ia_request *req, ia_outtok_chain *oc);
/* Whether req's built-in tools can run here and none clashes with a
 * client function's name: 0, or -1 with err (before anything is stored). */
int ia_loop_check(struct ia_core *c, const ia_request *req, ia_err *err);
void ia_loop_free(ia_loop *L);
/* Lists the tools of req's mcp_server tools (tools/mcp.h) into their
 * offers, filtered by allowed_tools: on the creating thread, before
 * anything is stored, so a server that cannot be listed (down, slow past
 * --fetch-timeout, a refused address, a JSON-RPC error) is the create's
 * error (400 naming tools[i] and why), never a run that hangs. */
int ia_loop_list_mcp(struct ia_core *c, ia_request *req, ia_err *err);

/* Submits r's next model step (the first one from create, under no lock).
 * 0, or -1 with err (IA_EOVERLOADED when the engine's queue is full);
 * the run is then not finalized: the caller decides. */
int ia_loop_submit(ia_loop *L, ia_run *r, ia_err *err);

#endif
