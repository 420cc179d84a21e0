/* test_computer_use: the computer_use tool as the decoder turns it into
 * functions (src/tools/computer_use.c, src/api/tools.c): every predefined
 * action offered with a schema llama.cpp's converter takes, the excluded
 * ones left out in either spelling, a custom function in an excluded
 * action's place, and the 400s that name the field. */
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "schema/schema.h"
#include "tools/computer_use.h"
#include "unit.h"

static int decode(const char *body, ia_dialect d, ia_request *r, ia_err *e) {
    memset(r, 0, sizeof *r);
    memset(e, 0, sizeof *e);
    return ia_api_decode_create_dialect(body, strlen(body), d, r, e);
}

static bool offered(const ia_request *r, const char *name) {
    for (size_t i = 0; i < r->n_tools; i++)
        if (strcmp(r->tools[i].name, name) == 0) return true;
    return false;
}

IA_TEST(computer_use_offers_every_action_with_a_grammar) {
    ia_request r;
    ia_err e;
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"computer_use\",\"environment\":\"browser\"}]}",
                    IA_DIALECT_LEGACY, &r, &e) == 0);
    size_t n;
    const ia_cu_function *f = ia_cu_functions(&n);
    IA_CHECK(n == 13 && r.n_tools == n && r.n_builtins == 0);
    for (size_t i = 0; i < n; i++) {
        IA_CHECK_STREQ(r.tools[i].name, f[i].name);
        IA_CHECK(ia_cu_find(f[i].name) == (int)i);
        json_error_t je;
        json_t *s = json_loads(r.tools[i].parameters, 0, &je);
        IA_CHECK(s != NULL);
        char *g = ia_schema_grammar(s, "p", &e); /* the call grammar is built from it */
        if (!g) fprintf(stderr, "  %s: %s\n", f[i].name, e.msg);
        IA_CHECK(g != NULL);
        free(g);
        json_decref(s);
    }
    IA_CHECK(strstr(r.tools[6].parameters, "\"maximum\":999") != NULL); /* click_at's grid */
    ia_request_free(&r);
}

IA_TEST(computer_use_excludes_in_both_spellings) {
    ia_request r;
    ia_err e;
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"computer_use\",\"environment\":\"browser\","
                    "\"excludedPredefinedFunctions\":[\"drag_and_drop\",\"search\"]},"
                    "{\"type\":\"function\",\"name\":\"drag_and_drop\"}]}", IA_DIALECT_LEGACY, &r, &e) == 0);
    IA_CHECK(r.n_tools == 12 && !offered(&r, "search") && offered(&r, "drag_and_drop") && offered(&r, "click_at"));
    IA_CHECK_STREQ(r.tools[11].description, ""); /* the client's own drag_and_drop */
    ia_request_free(&r);
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"tools\":[{\"type\":\"computer_use\","
                    "\"excluded_predefined_functions\":[\"navigate\"],\"disabled_safety_policies\":[],"
                    "\"enable_prompt_injection_detection\":false}]}", IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.n_tools == 12 && !offered(&r, "navigate"));
    ia_request_free(&r);
}

IA_TEST(computer_use_errors_name_the_field) {
    static const struct {
        const char *tools, *msg;
    } cases[] = {
        {"[{\"type\":\"computer_use\",\"environment\":\"mobile\"}]", "tools[0].environment: expected 'browser'"},
        {"[{\"type\":\"computer_use\",\"excludedPredefinedFunctions\":\"click_at\"}]",
         "tools[0].excludedPredefinedFunctions: expected a list"},
        {"[{\"type\":\"computer_use\",\"excludedPredefinedFunctions\":[\"click_at\",7]}]",
         "tools[0].excludedPredefinedFunctions[1]: not a predefined function"},
        {"[{\"type\":\"function\",\"name\":\"go_back\"},{\"type\":\"computer_use\"}]",
         "tools[1]: the function 'go_back' is declared and is also one of computer_use's"},
        {"[{\"type\":\"computer_use\"},{\"type\":\"function\",\"name\":\"go_back\"}]",
         "tools[1].name: function 'go_back' is declared twice (computer_use offers it"},
        {"[{\"type\":\"computer_use\"},{\"type\":\"computer_use\"}]", "tools[1]: the tool 'computer_use' is given twice"},
        {"[{\"type\":\"computer_use\",\"enable_prompt_injection_detection\":true}]",
         "tools[0].enable_prompt_injection_detection: prompt injection detection"},
        {"[{\"type\":\"computer_use\",\"viewport\":[1,2]}]", "tools[0].viewport"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *body = ia_asprintf("{\"model\":\"m\",\"input\":\"x\",\"tools\":%s}", cases[i].tools);
        ia_request r;
        ia_err e;
        int rc = decode(body, IA_DIALECT_LEGACY, &r, &e);
        if (rc == 0 || !strstr(e.msg, cases[i].msg)) fprintf(stderr, "  case %zu: rc %d, %s\n", i, rc, e.msg);
        IA_CHECK(rc < 0);
        IA_CHECK_CONTAINS(e.msg, cases[i].msg);
        ia_request_free(&r);
        free(body);
    }
}
