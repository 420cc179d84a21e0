/* Fuzz target: custom agents' parsers of outside bytes — a create body
 * (ia_api_agent_decode), an agent id as a path segment or page token
 * (ia_api_agent_id_valid), and a decoded agent merged into a decoded
 * create request (ia_api_agent_apply).
 *
 * Input: the first byte picks the parser; the rest is its text (for the
 * merge: an agent body, a NUL, then a create body). Checks: a decoded
 * agent's id is empty or valid and its base_agent is not empty; its tools
 * and agent_config are JSON; its encoding is JSON and decodes again (once
 * the output-only create_time is dropped) to the same fields; a valid id is
 * 1-63 bytes; a merge keeps every function name unique, sets one of model
 * and agent, and names the agent the request named for the record. */
#include "fuzz.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}

static bool same(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static void round_trip(const ia_agent_def *d) {
    char *enc = ia_api_agent_encode(d);
    FUZZ_CHECK(fuzz_is_json(enc));
    json_t *o = json_loads(enc, 0, NULL);
    json_object_del(o, "create_time");
    if (!d->id[0]) json_object_del(o, "id");
    char *again = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    ia_agent_def e;
    ia_err err = {0};
    FUZZ_CHECK(ia_api_agent_decode(again, strlen(again), &e, &err) == 0);
    FUZZ_CHECK(!strcmp(e.id, d->id) && same(e.base_agent, d->base_agent) && same(e.description, d->description));
    FUZZ_CHECK(same(e.system_instruction, d->system_instruction));
    ia_agent_def_free(&e);
    free(again);
    free(enc);
}

static void agent(const char *s, size_t n) {
    ia_agent_def d;
    ia_err err = {0};
    if (ia_api_agent_decode(s, n, &d, &err) < 0) {
        FUZZ_CHECK(err.msg[0] != 0);
        return;
    }
    FUZZ_CHECK(!d.id[0] || ia_api_agent_id_valid(d.id));
    FUZZ_CHECK(d.base_agent && d.base_agent[0]);
    FUZZ_CHECK(!d.tools || fuzz_is_json(d.tools));
    FUZZ_CHECK(!d.agent_config || fuzz_is_json(d.agent_config));
    round_trip(&d);
    ia_agent_def_free(&d);
}

static void merge(const char *s, size_t n) {
    size_t cut = strnlen(s, n);
    if (cut >= n) return;
    ia_agent_def d;
    ia_err err = {0};
    if (ia_api_agent_decode(s, cut, &d, &err) < 0) return;
    snprintf(d.id, sizeof d.id, "fuzzed");
    ia_request r;
    const char *body = s + cut + 1;
    char named[IA_AGENT_ID_MAX * 4] = "";
    if (ia_api_decode_create_dialect(body, n - cut - 1, IA_DIALECT_LEGACY, &r, &err) == 0 && r.agent &&
        snprintf(named, sizeof named, "%s", r.agent) >= 0 && ia_api_agent_apply(&d, &r, &err) == 0) {
        /* the record names the agent the request named */
        FUZZ_CHECK(r.custom_agent && !strncmp(r.custom_agent, named, sizeof named - 1));
        FUZZ_CHECK((r.model != NULL) != (r.agent != NULL));
        for (size_t i = 0; i < r.n_tools; i++)
            for (size_t k = i + 1; k < r.n_tools; k++) FUZZ_CHECK(strcmp(r.tools[i].name, r.tools[k].name) != 0);
    }
    ia_request_free(&r);
    ia_agent_def_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *s = malloc(size); /* the text after the selector, NULs kept */
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] % 3) {
    case 0: agent(s, size - 1); break;
    case 1: FUZZ_CHECK(!ia_api_agent_id_valid(s) || (strlen(s) >= 1 && strlen(s) < IA_AGENT_ID_MAX)); break;
    default: merge(s, size - 1); break;
    }
    free(s);
    return 0;
}
