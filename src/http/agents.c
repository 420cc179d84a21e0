/* agents: SDK 3.3.0's custom agents — POST /{v}/agents (create), GET
 * /{v}/agents (list: page_size, default 50, at most 1000; page_token),
 * GET and DELETE /{v}/agents/{id} — per API key (core/agentdefs.h; the
 * wire is api/agents.c's), and the lookup that runs one: a create whose
 * `agent` names a custom agent of the caller gets it merged in. An id of
 * another key reads as a missing one (404), never a leak. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/agentdefs.h"
#include "core/core.h"
#include "http/http_int.h"
#include "lib/util.h"

static enum MHD_Result do_create(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    ia_agent_def d;
    ia_err e = {0};
    if (ia_api_agent_decode(r->body.data, r->body.len, &d, &e) < 0 ||
        ia_core_agent_create(h->core, r->owner, &d, &e) < 0) {
        ia_agent_def_free(&d);
        return ia_http_send_err(r, c, &e, NULL);
    }
    char *body = ia_api_agent_encode(&d);
    ia_agent_def_free(&d);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

static enum MHD_Result do_list(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_size");
    const char *pt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_token");
    int64_t size = 50;
    ia_err e = {0};
    if (ps && *ps && (ia_http_parse_int64(ps, &size) < 0 || size < 1)) {
        ia_fail(&e, IA_EINVALID, "page_size: '%.20s' is not a positive integer (at most 1000)", ps);
        return ia_http_send_err(r, c, &e, NULL);
    }
    if (size > 1000) size = 1000;
    /* the token is the page's last id: a keyset, right whatever was
     * created or deleted since */
    if (pt && *pt && !ia_api_agent_id_valid(pt)) {
        ia_fail(&e, IA_EINVALID, "page_token: not a token this server gave; send the next_page_token of the "
                                 "previous page, or none for the first");
        return ia_http_send_err(r, c, &e, NULL);
    }
    ia_agent_def *v = NULL;
    size_t n = 0;
    char next[IA_AGENT_ID_MAX];
    if (ia_core_agent_list(h->core, r->owner, pt, (int)size, &v, &n, next, &e) < 0)
        return ia_http_send_err(r, c, &e, NULL);
    char *body = ia_api_agent_list_encode(v, n, next);
    ia_agent_defs_free(v, n);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

enum MHD_Result ia_http_agents_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const char *method) {
    if (r->rt.kind == IA_RT_AGENTS) return !strcmp(method, "POST") ? do_create(h, r, c) : do_list(h, r, c);
    ia_err e = {0};
    if (r->rt.id_too_long) {
        ia_fail(&e, IA_ENOTFOUND, "agent '%s' not found", r->rt.id);
        return ia_http_send_err(r, c, &e, NULL);
    }
    if (!strcmp(method, "DELETE")) {
        if (ia_core_agent_delete(h->core, r->owner, r->rt.id, &e) < 0) return ia_http_send_err(r, c, &e, NULL);
        return ia_http_send(r, c, 200, ia_strdup("{}"), "application/json", NULL);
    }
    ia_agent_def d;
    if (ia_core_agent_get(h->core, r->owner, r->rt.id, &d, &e) < 0) return ia_http_send_err(r, c, &e, NULL);
    char *body = ia_api_agent_encode(&d);
    ia_agent_def_free(&d);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

int ia_http_agents_resolve(ia_http *h, const char *owner, ia_request *rq, ia_err *e) {
    if (!rq->agent || ia_agent_name_known(rq->agent)) return 0;
    ia_agent_def d;
    if (ia_core_agent_get(h->core, owner, rq->agent, &d, e) < 0) {
        if (e->code == IA_ENOTFOUND)
            ia_fail(e, IA_ENOTFOUND, "agent: '%.80s' is neither an agent of this key (agents.create makes one) nor "
                    "a built-in agent (%s)", rq->agent, ia_agent_names());
        return -1;
    }
    int rc = ia_api_agent_apply(&d, rq, e);
    ia_agent_def_free(&d);
    return rc;
}
