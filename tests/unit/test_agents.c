/* test_agents: custom agents in the store (store/agents.h) on both
 * backends — create, a taken id, get per owner (another owner's reads as
 * missing), pages in id order that add up to the whole, delete, and
 * survival of a reopen; an interaction's agent and agent_config columns;
 * and the wire (api/agents.c): what a create body may hold, and how an
 * agent merges into a create request. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "pg_help.h"
#include "store/agents.h"
#include "store/store.h"

static bool db_path(char *buf, size_t n, const char *name, int *failed) {
    char file[512];
    snprintf(file, sizeof file, "%s/agents-%s.db", ia_test_tmpdir(), name);
    remove(file);
    return ia_test_store_spec(buf, n, name, file, failed);
}

static int make(ia_store *s, const char *owner, const char *id, ia_err *err) {
    ia_agent_def d = {0};
    snprintf(d.id, sizeof d.id, "%s", id);
    d.owner = ia_strdup(owner);
    d.base_agent = ia_strdup("demo");
    d.system_instruction = ia_strdup("Answer as a pirate.");
    d.tools = ia_strdup("[{\"type\":\"url_context\"}]");
    d.created = 1000;
    int rc = ia_store_agent_create(s, &d, err);
    ia_agent_def_free(&d);
    return rc;
}

IA_STORE_TEST(store_agents_per_owner_pages_delete_reopen) {
    char spec[512];
    if (!db_path(spec, sizeof spec, "crud", ia_failed_)) return;
    ia_err err = {0};
    ia_store *s = ia_store_open(spec, &err);
    IA_CHECK(s);
    const char *ids[] = {"b-agent", "a-agent", "c-agent", "a-agent-2", "z"};
    for (size_t i = 0; i < 5; i++) IA_CHECK(make(s, "alice", ids[i], &err) == 0);
    IA_CHECK(make(s, "bob", "bobs", &err) == 0);
    IA_CHECK(make(s, "bob", "a-agent", &err) == 0); /* the same id under another key is its own */
    IA_CHECK(make(s, "alice", "a-agent", &err) == -1 && err.code == IA_ECONFLICT);
    IA_CHECK_CONTAINS(err.msg, "a-agent");

    ia_agent_def d;
    IA_CHECK(ia_store_agent_get(s, "alice", "c-agent", &d, &err) == 0);
    IA_CHECK_STREQ(d.id, "c-agent");
    IA_CHECK_STREQ(d.base_agent, "demo");
    IA_CHECK_STREQ(d.system_instruction, "Answer as a pirate.");
    IA_CHECK_STREQ(d.tools, "[{\"type\":\"url_context\"}]");
    IA_CHECK(d.description == NULL && d.agent_config == NULL && d.created == 1000);
    ia_agent_def_free(&d);
    IA_CHECK(ia_store_agent_get(s, "alice", "bobs", &d, &err) == -1 && err.code == IA_ENOTFOUND);

    /* pages of 2: a-agent, a-agent-2 | b-agent, c-agent | z */
    char after[IA_AGENT_ID_MAX] = "", seen[8][IA_AGENT_ID_MAX];
    int n_seen = 0, pages = 0;
    do {
        ia_agent_def *v = NULL;
        size_t n = 0;
        char next[IA_AGENT_ID_MAX];
        IA_CHECK(ia_store_agent_list(s, "alice", after, 2, &v, &n, next, &err) == 0);
        for (size_t i = 0; i < n && n_seen < 8; i++) memcpy(seen[n_seen++], v[i].id, IA_AGENT_ID_MAX);
        ia_agent_defs_free(v, n);
        memcpy(after, next, sizeof after);
        pages++;
    } while (after[0] && pages < 10);
    IA_CHECK(n_seen == 5 && pages == 3);
    IA_CHECK(!strcmp(seen[0], "a-agent") && !strcmp(seen[1], "a-agent-2") && !strcmp(seen[4], "z"));

    IA_CHECK(ia_store_agent_delete(s, "bob", "c-agent", &err) == -1 && err.code == IA_ENOTFOUND);
    IA_CHECK(ia_store_agent_delete(s, "alice", "c-agent", &err) == 0);
    IA_CHECK(ia_store_agent_get(s, "alice", "c-agent", &d, &err) == -1 && err.code == IA_ENOTFOUND);
    IA_CHECK(ia_store_agent_delete(s, "alice", "c-agent", &err) == -1 && err.code == IA_ENOTFOUND);

    /* an interaction keeps the custom agent that ran it and its agent_config */
    ia_interaction it = {0};
    snprintf(it.id, sizeof it.id, "v1_agentrun");
    it.owner = ia_strdup("alice");
    it.model = ia_strdup("deep-research-pro-preview-12-2025");
    it.agent = ia_strdup("b-agent");
    it.agent_config = ia_strdup("{\"type\":\"deep-research\",\"thinking_summaries\":\"none\"}");
    it.status = IA_STATUS_COMPLETED;
    it.created = it.updated = 1000;
    it.output.role = IA_ROLE_MODEL;
    IA_CHECK(ia_store_put(s, &it, &err) == 0);
    ia_interaction_free(&it);
    ia_store_close(s);

    s = ia_store_open(spec, &err); /* what was written survives a reopen */
    IA_CHECK(s);
    IA_CHECK(ia_store_agent_get(s, "alice", "b-agent", &d, &err) == 0);
    ia_agent_def_free(&d);
    IA_CHECK(ia_store_agent_get(s, "bob", "a-agent", &d, &err) == 0 && !strcmp(d.owner, "bob"));
    ia_agent_def_free(&d);
    IA_CHECK(ia_store_get(s, "v1_agentrun", "alice", 1001, &it, &err) == 0);
    IA_CHECK_STREQ(it.agent, "b-agent");
    IA_CHECK_STREQ(it.agent_config, "{\"type\":\"deep-research\",\"thinking_summaries\":\"none\"}");
    IA_CHECK_STREQ(it.model, "deep-research-pro-preview-12-2025");
    ia_interaction_free(&it);
    ia_store_close(s);
}

static int decode(const char *body, ia_agent_def *d, ia_err *err) {
    return ia_api_agent_decode(body, strlen(body), d, err);
}

IA_TEST(api_agent_decode_fields_and_refusals) {
    ia_agent_def d;
    ia_err err = {0};
    IA_CHECK(decode("{\"id\":\"my-bot\",\"base_agent\":\"demo\",\"description\":\"d\",\"system_instruction\":\"s\","
                    "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":{\"type\":\"object\"}},"
                    "{\"type\":\"google_search\"}]}", &d, &err) == 0);
    IA_CHECK(!strcmp(d.id, "my-bot") && !strcmp(d.base_agent, "demo") && !strcmp(d.description, "d"));
    IA_CHECK_CONTAINS(d.tools, "\"google_search\"");
    char *out = ia_api_agent_encode(&d);
    IA_CHECK_CONTAINS(out, "\"id\":\"my-bot\"");
    IA_CHECK_CONTAINS(out, "\"base_agent\":\"demo\"");
    IA_CHECK_CONTAINS(out, "\"system_instruction\":\"s\"");
    IA_CHECK_CONTAINS(out, "\"name\":\"f\"");
    free(out);
    ia_agent_def_free(&d);
    /* the model in agent_config stands for base_agent */
    IA_CHECK(decode("{\"agent_config\":{\"type\":\"antigravity\",\"model\":\"demo\"}}", &d, &err) == 0);
    IA_CHECK(!d.id[0] && !strcmp(d.base_agent, "demo"));
    ia_agent_def_free(&d);
    struct { const char *body, *needle; ia_errcode code; } bad[] = {
        {"{\"system_instruction\":\"x\"}", "base_agent: required", IA_EINVALID},
        {"{\"id\":\"Bad_Id\",\"base_agent\":\"demo\"}", "id: 'Bad_Id' is not an agent id", IA_EINVALID},
        {"{\"id\":\"deep-research-pro-preview-12-2025\",\"base_agent\":\"demo\"}", "built-in agent", IA_EINVALID},
        {"{\"base_agent\":\"demo\",\"tools\":[{\"type\":\"google_maps\"}]}", "tools[0].type", IA_EINVALID},
        {"{\"base_agent\":\"demo\",\"tools\":[{\"type\":\"function\"}]}", "tools[0].name", IA_EINVALID},
        {"{\"base_agent\":\"demo\",\"colour\":1}", "unknown field 'colour'", IA_EINVALID},
        {"{\"base_agent\":7}", "base_agent: expected a string", IA_EINVALID},
        {"{\"base_agent\":\"demo\",\"base_environment\":\"x\"}", "base_environment", IA_EUNIMPLEMENTED},
        {"{\"base_agent\":\"demo\",\"agent_config\":{\"type\":\"antigravity\",\"max_total_tokens\":\"5\"}}",
         "agent_config.max_total_tokens", IA_EUNIMPLEMENTED},
        {"{\"base_agent\":\"demo\",\"agent_config\":{\"type\":\"deep-research\"}}", "agent_config.type", IA_EINVALID},
        {"{\"base_agent\":\"a\",\"agent_config\":{\"type\":\"antigravity\",\"model\":\"b\"}}", "differs", IA_EINVALID},
        {"[1]", "expected an Agent object", IA_EINVALID},
        {"{", "malformed JSON", IA_EINVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ia_err_clear(&err);
        int rc = decode(bad[i].body, &d, &err);
        if (rc != -1 || err.code != bad[i].code || !strstr(err.msg, bad[i].needle))
            fprintf(stderr, "  %s -> %d %s\n", bad[i].body, rc, err.msg);
        IA_CHECK(rc == -1 && err.code == bad[i].code && strstr(err.msg, bad[i].needle));
        ia_agent_def_free(&d);
    }
}

IA_TEST(api_agent_apply_merges_request_wins) {
    ia_agent_def d = {.id = "pirate"};
    d.base_agent = ia_strdup("demo");
    d.system_instruction = ia_strdup("Talk like a pirate.");
    d.tools = ia_strdup("[{\"type\":\"function\",\"name\":\"f\",\"description\":\"agent's\"},"
                        "{\"type\":\"function\",\"name\":\"g\"},{\"type\":\"url_context\"}]");
    const char *body = "{\"agent\":\"pirate\",\"input\":\"hi\",\"system_instruction\":\"Be brief.\","
                       "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"description\":\"request's\"}]}";
    ia_request r = {0};
    ia_err err = {0};
    IA_CHECK(ia_api_decode_create_dialect(body, strlen(body), IA_DIALECT_LEGACY, &r, &err) == 0);
    IA_CHECK(ia_api_agent_apply(&d, &r, &err) == 0);
    IA_CHECK_STREQ(r.model, "demo");
    IA_CHECK(r.agent == NULL);
    IA_CHECK_STREQ(r.custom_agent, "pirate");
    IA_CHECK_STREQ(r.system_instruction, "Talk like a pirate.\n\nBe brief.");
    IA_CHECK(r.n_tools == 2 && !strcmp(r.tools[0].name, "f") && !strcmp(r.tools[0].description, "request's"));
    IA_CHECK(!strcmp(r.tools[1].name, "g"));
    IA_CHECK(r.n_builtins == 1 && r.builtins[0].type == IA_BUILTIN_URL_CONTEXT);
    ia_request_free(&r);
    /* a research base runs the research loop and takes agent_config; a model base refuses it */
    free(d.base_agent);
    d.base_agent = ia_strdup("deep-research-pro-preview-12-2025");
    body = "{\"agent\":\"pirate\",\"input\":\"hi\",\"background\":true,"
           "\"agent_config\":{\"type\":\"deep-research\",\"thinking_summaries\":\"none\",\"enable_bigquery_tool\":false,"
           "\"visualization\":null}}";
    memset(&r, 0, sizeof r);
    IA_CHECK(ia_api_decode_create_dialect(body, strlen(body), IA_DIALECT_STEPS, &r, &err) == 0);
    /* kept as checked: known keys in the order given, nulls dropped */
    IA_CHECK_STREQ(r.agent_config,
                   "{\"type\":\"deep-research\",\"thinking_summaries\":\"none\",\"enable_bigquery_tool\":false}");
    IA_CHECK(ia_api_agent_apply(&d, &r, &err) == 0);
    IA_CHECK_STREQ(r.agent, "deep-research-pro-preview-12-2025");
    IA_CHECK(r.model == NULL && r.agent_summaries_none);
    ia_request_free(&r);
    free(d.base_agent);
    d.base_agent = ia_strdup("demo");
    memset(&r, 0, sizeof r);
    IA_CHECK(ia_api_decode_create_dialect(body, strlen(body), IA_DIALECT_STEPS, &r, &err) == 0);
    IA_CHECK(ia_api_agent_apply(&d, &r, &err) == -1 && err.code == IA_EINVALID);
    IA_CHECK_CONTAINS(err.msg, "agent_config");
    ia_request_free(&r);
    ia_agent_def_free(&d);
}
