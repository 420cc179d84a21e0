/* test_agent: an agent create as the decoder reads it (src/api/agent.c,
 * decode.c) and the agents the record may name (model/types.c). */
#include <string.h>

#include "api/api.h"
#include "unit.h"

static int decode(const char *body, ia_request *r, ia_err *e) {
    memset(r, 0, sizeof *r);
    memset(e, 0, sizeof *e);
    return ia_api_decode_create(body, strlen(body), r, e);
}

IA_TEST(agent_names_known) {
    IA_CHECK(ia_agent_name_known("deep-research-pro-preview-12-2025"));
    IA_CHECK(ia_agent_name_known("deep-research-preview-04-2026"));
    IA_CHECK(ia_agent_name_known("deep-research-max-preview-04-2026"));
    IA_CHECK(!ia_agent_name_known("demo") && !ia_agent_name_known(NULL) && !ia_agent_name_known(""));
    IA_CHECK_CONTAINS(ia_agent_names(), "deep-research-pro-preview-12-2025");
}

IA_TEST(agent_config_decoded) {
    ia_request r;
    ia_err e;
    IA_CHECK(decode("{\"agent\":\"deep-research-pro-preview-12-2025\",\"input\":\"x\",\"background\":true,"
                    "\"agent_config\":{\"type\":\"deep-research\",\"thinking_summaries\":\"none\","
                    "\"visualization\":\"auto\",\"collaborative_planning\":false}}", &r, &e) == 0);
    IA_CHECK_STREQ(r.agent, "deep-research-pro-preview-12-2025");
    IA_CHECK(r.model == NULL && r.agent_summaries_none && r.background);
    ia_request_free(&r);
    IA_CHECK(decode("{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\","
                    "\"thinking_summaries\":\"auto\"}}", &r, &e) == 0);
    IA_CHECK(!r.agent_summaries_none);
    ia_request_free(&r);
}

IA_TEST(agent_config_errors_name_the_field) {
    static const struct {
        const char *body, *msg;
    } cases[] = {
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"thinking_summaries\":\"none\"}}", "agent_config.type: required"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep\"}}", "agent_config.type: expected 'deep-research'"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\",\"thinking_summaries\":\"all\"}}",
         "agent_config.thinking_summaries: expected 'auto' or 'none'"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\",\"visualization\":\"on\"}}",
         "agent_config.visualization: expected 'auto' or 'off'"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\",\"depth\":3}}", "agent_config.depth"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\",\"collaborative_planning\":true}}",
         "agent_config.collaborative_planning: a plan reviewed"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":[]}", "agent_config: expected an object"},
        {"{\"agent\":\"a\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\",\"enable_bigquery_tool\":true}}",
         "agent_config.enable_bigquery_tool: BigQuery is not a tool of this server"},
        /* a built-in agent; a custom one on a model takes generation_config (api/agents.c) */
        {"{\"agent\":\"deep-research-pro-preview-12-2025\",\"input\":\"x\",\"generation_config\":{}}",
         "generation_config: an agent takes agent_config"},
        {"{\"agent\":\"a\",\"model\":\"m\",\"input\":\"x\"}", "give either 'model' or 'agent'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ia_request r;
        ia_err e;
        int rc = decode(cases[i].body, &r, &e);
        if (rc == 0 || !strstr(e.msg, cases[i].msg)) fprintf(stderr, "  case %zu: rc %d, %s\n", i, rc, e.msg);
        IA_CHECK(rc < 0);
        IA_CHECK_CONTAINS(e.msg, cases[i].msg);
        ia_request_free(&r);
    }
}
