/* agent.c: Deep Research as a model run (agent.h). */
#include "core/agent.h"

#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "lib/util.h"

static const char IA_AGENT_INSTRUCTION[] =
    "You are a research agent. Research the user's request thoroughly before you answer:\n"
    "1. Plan: break the request into the questions a good report must answer.\n"
    "2. Search: call google_search with short, specific queries for each question; search again with other "
    "words when the results are thin.\n"
    "3. Read: call url_context on the most relevant result URLs to read the pages themselves, not only "
    "their snippets.\n"
    "4. Take notes of the facts you find and the number of the source each comes from.\n"
    "5. When you know enough, write the final report in Markdown: a title, a short summary, sections with "
    "headings, and a conclusion. Support every claim with its source's number in brackets, as [1], and do "
    "not state facts that no source supports.";

char *ia_agent_system(const char *user_system) {
    return user_system ? ia_asprintf("%s\n\n%s", IA_AGENT_INSTRUCTION, user_system) : ia_strdup(IA_AGENT_INSTRUCTION);
}

static bool has_builtin(const ia_request *req, ia_builtin b) {
    for (size_t i = 0; i < req->n_builtins; i++)
        if (req->builtins[i].type == b) return true;
    return false;
}

static void add_builtin(ia_request *req, ia_builtin b) {
    if (has_builtin(req, b)) return;
    req->builtins = ia_xrealloc(req->builtins, (req->n_builtins + 1) * sizeof *req->builtins);
    req->builtins[req->n_builtins++] = (ia_builtin_tool){.type = b, .field = ia_strdup("agent")};
}

static int check(const ia_core *c, const ia_request *req, ia_err *err) {
    if (!ia_agent_name_known(req->agent))
        return ia_fail(err, IA_ENOTFOUND, "agent: '%s' is not an agent this server runs; agents: %s", req->agent,
                       ia_agent_names());
    if (!c->agent_model)
        return ia_fail(err, IA_EINVALID, "agent: %s needs a local model to run on: start the server with "
                       "--agent-model NAME (one of the served models)", req->agent);
    if (!c->tools.search)
        return ia_fail(err, IA_EINVALID, "agent: %s searches with google_search, which has no backend on this "
                       "server: start it with --search-url URL (a SearxNG instance) or --search-index DIR",
                       req->agent);
    if (!req->background)
        return ia_fail(err, IA_EINVALID, "background: an agent's research runs in the background: set "
                       "background to true and poll the interaction (or stream it)");
    return 0;
}

int ia_agent_setup(ia_core *c, ia_request *req, ia_err *err) {
    if (check(c, req, err) != 0) return -1;
    req->model = ia_strdup(c->agent_model);
    add_builtin(req, IA_BUILTIN_GOOGLE_SEARCH);
    add_builtin(req, IA_BUILTIN_URL_CONTEXT);
    /* research begins with a search (or with reading the URLs the request
     * names): the first step must call a tool, the later ones choose */
    req->tool_choice = IA_TOOL_CHOICE_ANY;
    if (req->agent_summaries_none) {
        req->gen.has_thinking_summaries = true;
        req->gen.thinking_summaries_none = true;
    }
    return 0;
}
