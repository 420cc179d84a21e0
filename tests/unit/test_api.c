/* test_api: the wire JSON of src/api/ — every input form decoded into the
 * right turns, every client error named by its field path and class, the
 * Interaction resource and each SSE frame compared byte for byte against
 * the legacy dialect, and the event-id codec. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "unit.h"

#define ID "v1_ChdDekJ5YVktZ0VlYUx4czBQczl5VDRRVRIXQ3pCeWFZLWdFZWFMeHMwUHM5eVQ0UVU"
/* sha256(ID)[:16], computed outside C (python hashlib) so the test does not
 * just repeat the implementation. */
#define TAG "80a335b3cd2c322a"
#define T0 1767006385 /* 2025-12-29T11:06:25Z */

/* Decodes body; returns 0/-1 like the API, filling *r and *e. */
static int dec(const char *body, ia_request *r, ia_err *e) {
    ia_err_clear(e);
    return ia_api_decode_create(body, strlen(body), r, e);
}

/* Expects body to fail with code and exactly msg. Returns 1 if so. */
static int fails_with(const char *body, ia_errcode code, const char *msg) {
    ia_request r;
    ia_err e;
    int rc = dec(body, &r, &e);
    int ok = rc == -1 && e.code == code && strcmp(e.msg, msg) == 0;
    if (!ok)
        fprintf(stderr, "    body %s\n    got rc=%d code=%s msg=\"%s\"\n    expected code=%s msg=\"%s\"\n",
                body, rc, ia_err_wire_code(e.code), e.msg, ia_err_wire_code(code), msg);
    /* On failure the request must be left empty: nothing to leak, nothing set. */
    ok = ok && r.model == NULL && r.input.n == 0 && r.input.turns == NULL && r.store;
    ia_request_free(&r);
    return ok;
}

static int decodes(const char *body) {
    ia_request r;
    ia_err e;
    int rc = dec(body, &r, &e);
    if (rc != 0) fprintf(stderr, "    body %s\n    failed: %s\n", body, e.msg);
    ia_request_free(&r);
    return rc == 0;
}

/* ---- decode: input forms ----------------------------------------------------- */

IA_TEST(api_decode_string_input_and_defaults) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"Tell me a joke\"}", &r, &e) == 0);
    IA_CHECK_STREQ(r.model, "demo");
    IA_CHECK(r.agent == NULL);
    IA_CHECK(r.input.n == 1);
    IA_CHECK(r.input.turns[0].role == IA_ROLE_USER);
    IA_CHECK(r.input.turns[0].n == 1);
    IA_CHECK(r.input.turns[0].items[0].kind == IA_CONTENT_TEXT);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "Tell me a joke");
    IA_CHECK(r.store == true && r.stream == false && r.background == false);
    IA_CHECK(!r.gen.has_temperature && !r.gen.has_top_p && !r.gen.has_top_k && !r.gen.has_seed &&
             !r.gen.has_max_output_tokens && r.gen.n_stop == 0);
    IA_CHECK(r.system_instruction == NULL && r.previous_interaction_id == NULL);
    ia_request_free(&r);
}

IA_TEST(api_decode_content_object_input) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":{\"type\":\"text\",\"text\":\"Hi\"}}", &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].role == IA_ROLE_USER && r.input.turns[0].n == 1);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "Hi");
    ia_request_free(&r);
}

IA_TEST(api_decode_content_list_is_one_user_turn) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"input\":[{\"type\":\"text\",\"text\":\"a\"},{\"text\":\"b\",\"type\":\"text\"}],"
                 "\"model\":\"demo\"}", &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].role == IA_ROLE_USER && r.input.turns[0].n == 2);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "a");
    IA_CHECK_STREQ(r.input.turns[0].items[1].text, "b");
    ia_request_free(&r);
}

IA_TEST(api_decode_turns) {
    ia_request r;
    ia_err e;
    const char *body =
        "{\"model\":\"demo\",\"input\":["
        "{\"role\":\"user\",\"content\":\"What are the three largest cities in Spain?\"},"
        "{\"role\":\"model\",\"content\":[{\"type\":\"text\",\"text\":\"Madrid, \"},"
        "{\"type\":\"text\",\"text\":\"Barcelona\",\"annotations\":[]}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"And the second?\"}]},"
        "{\"content\":\"no role means user\"}]}";
    IA_CHECK(dec(body, &r, &e) == 0);
    IA_CHECK(r.input.n == 4);
    IA_CHECK(r.input.turns[0].role == IA_ROLE_USER && r.input.turns[0].n == 1);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "What are the three largest cities in Spain?");
    IA_CHECK(r.input.turns[1].role == IA_ROLE_MODEL && r.input.turns[1].n == 2);
    IA_CHECK_STREQ(r.input.turns[1].items[0].text, "Madrid, ");
    IA_CHECK_STREQ(r.input.turns[1].items[1].text, "Barcelona");
    IA_CHECK(r.input.turns[2].role == IA_ROLE_USER && r.input.turns[2].n == 1);
    IA_CHECK_STREQ(r.input.turns[2].items[0].text, "And the second?");
    IA_CHECK(r.input.turns[3].role == IA_ROLE_USER);
    IA_CHECK_STREQ(r.input.turns[3].items[0].text, "no role means user");
    ia_request_free(&r);
}

IA_TEST(api_decode_unicode_text_kept_exactly) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"caf\\u00e9 \xe2\x82\xac \\ud83d\\ude00\"}", &r, &e) == 0);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    ia_request_free(&r);
}

IA_TEST(api_decode_all_fields) {
    ia_request r;
    ia_err e;
    const char *body =
        "{\"model\":\"demo\",\"input\":\"x\",\"system_instruction\":\"Be brief.\","
        "\"generation_config\":{\"temperature\":1,\"top_p\":0.5,\"top_k\":40,\"seed\":-7,"
        "\"stop_sequences\":[\"END\",\"\\n\\n\"],\"max_output_tokens\":100.0},"
        "\"stream\":true,\"background\":true,\"store\":true,"
        "\"previous_interaction_id\":\"v1_abc\",\"service_tier\":\"flex\",\"tools\":[],"
        "\"response_mime_type\":\"text/plain\",\"response_modalities\":[\"text\"]}";
    IA_CHECK(dec(body, &r, &e) == 0);
    IA_CHECK_STREQ(r.system_instruction, "Be brief.");
    IA_CHECK(r.gen.has_temperature && r.gen.temperature == 1.0);
    IA_CHECK(r.gen.has_top_p && r.gen.top_p == 0.5);
    IA_CHECK(r.gen.has_top_k && r.gen.top_k == 40);
    IA_CHECK(r.gen.has_seed && r.gen.seed == -7);
    IA_CHECK(r.gen.has_max_output_tokens && r.gen.max_output_tokens == 100);
    IA_CHECK(r.gen.n_stop == 2);
    IA_CHECK_STREQ(r.gen.stop[0], "END");
    IA_CHECK_STREQ(r.gen.stop[1], "\n\n");
    IA_CHECK(r.stream && r.background && r.store);
    IA_CHECK_STREQ(r.previous_interaction_id, "v1_abc");
    ia_request_free(&r);
}

IA_TEST(api_decode_tools_and_tool_choice) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\","
                 "\"description\":\"Weather.\",\"parameters\":{\"type\":\"object\",\"properties\":{\"location\":"
                 "{\"type\":\"string\"}},\"required\":[\"location\"]}},{\"type\":\"function\",\"name\":\"now\"}],"
                 "\"generation_config\":{\"tool_choice\":{\"allowed_tools\":{\"mode\":\"any\",\"tools\":[\"get_weather\"]}}}}",
                 &r, &e) == 0);
    IA_CHECK(r.n_tools == 1 && strcmp(r.tools[0].name, "get_weather") == 0);
    IA_CHECK(r.tool_choice == IA_TOOL_CHOICE_ANY && strstr(r.tools[0].parameters, "\"required\""));
    ia_request_free(&r);
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"model\",\"content\":"
                 "[{\"type\":\"function_call\",\"id\":\"c1\",\"name\":\"f\",\"arguments\":{\"a\":1}}]},{\"role\":\"user\","
                 "\"content\":[{\"type\":\"function_result\",\"call_id\":\"c1\",\"name\":\"f\",\"result\":{\"ok\":true},"
                 "\"is_error\":true}]}]}", &r, &e) == 0);
    IA_CHECK(r.input.n == 3 && r.input.turns[1].items[0].kind == IA_CONTENT_FUNCTION_CALL);
    IA_CHECK_STREQ(r.input.turns[1].items[0].text, "{\"a\":1}");
    IA_CHECK(r.input.turns[2].items[0].kind == IA_CONTENT_FUNCTION_RESULT && r.input.turns[2].items[0].is_error);
    IA_CHECK_STREQ(r.input.turns[2].items[0].text, "{\"ok\":true}");
    ia_request_free(&r);
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"description\":\"d\"}]}",
                        IA_EINVALID, "tools[0].name: required (a function needs a name)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\","
                        "\"parameters\":\"not a schema\"}]}", IA_EINVALID, "tools[0].parameters: expected a JSON Schema object"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\","
                        "\"parameters\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"number\",\"maximum\":2}}}}]}",
                        IA_EINVALID, "tools[0].parameters.properties.n: schema keyword 'maximum' is not supported for a number "
                        "(bounds are supported for integers only) (the grammar would ignore it)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"tool_choice\":\"sometimes\"}}",
                        IA_EINVALID, "generation_config.tool_choice: expected one of 'auto', 'any', 'none', 'validated'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"function\",\"name\":\"f\"}],"
                        "\"generation_config\":{\"tool_choice\":{\"allowed_tools\":{\"tools\":[\"g\"]}}}}",
                        IA_EINVALID, "generation_config.tool_choice.allowed_tools.tools[0]: 'g' is not among tools"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":{\"type\":\"function_result\",\"call_id\":\"c\",\"result\":"
                        "[{\"type\":\"text\",\"text\":\"shot\"},{\"type\":\"image\",\"mime_type\":\"audio/wav\",\"data\":\"AA==\"}]}}",
                        IA_EINVALID, "input.result[1].mime_type: 'audio/wav' is not an image type"));
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":{\"type\":\"function_result\",\"call_id\":\"c\",\"result\":"
                     "[{\"type\":\"text\",\"text\":\"shot\"},{\"type\":\"image\",\"mime_type\":\"image/png\",\"data\":\"AA==\"}]}}"));
}

IA_TEST(api_decode_thinking) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"thinking_level\":\"low\","
                 "\"thinking_summaries\":\"none\"}}", &r, &e) == 0);
    IA_CHECK(r.gen.has_thinking_level && r.gen.thinking_level == IA_THINKING_LOW);
    IA_CHECK(r.gen.has_thinking_summaries && r.gen.thinking_summaries_none);
    ia_request_free(&r);
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"thinking_level\":\"max\"}}",
                        IA_EINVALID, "generation_config.thinking_level: expected one of 'minimal', 'low', 'medium', 'high'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"thinking_summaries\":\"all\"}}",
                        IA_EINVALID, "generation_config.thinking_summaries: expected 'auto' or 'none'"));
}

IA_TEST(api_decode_response_format) {
    ia_request r;
    ia_err e;
    /* a schema: checked, normalized, and its grammar built; JSON implied */
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"response_format\":{\"type\":\"object\","
                 "\"properties\":{\"a\":{\"type\":\"string\",\"format\":\"email\"}},\"required\":[\"a\"]}}",
                 &r, &e) == 0);
    IA_CHECK(r.grammar && strstr(r.grammar, "root ::=") && strstr(r.grammar, "@"));
    IA_CHECK(r.response_format && strstr(r.response_format, "\"pattern\""));
    ia_request_free(&r);
    /* application/json alone: a JSON object; text/plain alone: free text */
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"response_mime_type\":\"application/json\"}", &r, &e) == 0);
    IA_CHECK(r.grammar && strstr(r.grammar, "root ::= object"));
    ia_request_free(&r);
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"response_mime_type\":\"text/plain\"}", &r, &e) == 0);
    IA_CHECK(r.grammar == NULL && r.response_format == NULL);
    ia_request_free(&r);
    /* the mime type may come first or last */
    IA_CHECK(decodes("{\"model\":\"demo\",\"response_mime_type\":\"application/json\",\"input\":\"x\","
                     "\"response_format\":{\"type\":\"integer\"}}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_format\":{\"type\":\"string\"},"
                        "\"response_mime_type\":\"text/plain\"}",
                        IA_EINVALID, "response_mime_type: 'text/plain' contradicts response_format (a JSON Schema asks for "
                        "JSON: use 'application/json' or leave it out)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_format\":\"json\"}", IA_EINVALID,
                        "response_format: expected a JSON Schema object, a response format ({type: 'text', "
                        "mime_type, schema}) or a list of response formats"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_format\":{\"type\":\"object\","
                        "\"properties\":{\"n\":{\"type\":\"number\",\"multipleOf\":3}}}}", IA_EINVALID,
                        "response_format.properties.n: schema keyword 'multipleOf' is not supported for a number "
                        "(bounds are supported for integers only) (the grammar would ignore it)"));
}

IA_TEST(api_decode_null_means_unset) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"system_instruction\":null,\"store\":null,"
                 "\"tools\":null,\"response_format\":null,"
                 "\"generation_config\":{\"temperature\":null,\"thinking_level\":null}}", &r, &e) == 0);
    IA_CHECK(r.system_instruction == NULL && r.store && !r.gen.has_temperature);
    ia_request_free(&r);
    IA_CHECK(fails_with("{\"model\":null,\"input\":\"x\"}", IA_EINVALID,
                        "model: required (provide a 'model' or an 'agent' parameter)"));
}

/* ---- decode: client errors -------------------------------------------------- */

IA_TEST(api_decode_malformed_json) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\n \"input\": }", &r, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "malformed JSON at line 2, column");
    IA_CHECK(dec("", &r, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "malformed JSON");
    /* Invalid UTF-8 inside a string is malformed JSON too. */
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"\xff\"}", &r, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "malformed JSON");
    /* \u0000 would cut a C string short: refused. */
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"a\\u0000b\"}", &r, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK(fails_with("[1,2]", IA_EINVALID, "the request body must be a JSON object"));
    IA_CHECK(fails_with("\"hi\"", IA_EINVALID, "the request body must be a JSON object"));
    IA_CHECK(dec("{\"model\":\"demo\",\"model\":\"other\",\"input\":\"x\"}", &r, &e) == -1);
    IA_CHECK(e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "duplicate");
}

IA_TEST(api_decode_wrong_types_name_the_path) {
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"temperature\":\"hot\"}}",
                        IA_EINVALID, "generation_config.temperature: expected a number"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"top_p\":true}}",
                        IA_EINVALID, "generation_config.top_p: expected a number"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"top_k\":1.5}}",
                        IA_EINVALID, "generation_config.top_k: expected an integer"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"seed\":\"1\"}}",
                        IA_EINVALID, "generation_config.seed: expected an integer"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"max_output_tokens\":2.5}}",
                        IA_EINVALID, "generation_config.max_output_tokens: expected an integer"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"stop_sequences\":\"END\"}}",
                        IA_EINVALID, "generation_config.stop_sequences: expected an array of strings"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"stop_sequences\":[\"a\",3]}}",
                        IA_EINVALID, "generation_config.stop_sequences[1]: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":[]}",
                        IA_EINVALID, "generation_config: expected an object"));
    IA_CHECK(fails_with("{\"model\":5,\"input\":\"x\"}", IA_EINVALID, "model: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"stream\":\"yes\"}", IA_EINVALID,
                        "stream: expected a boolean"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"background\":1}", IA_EINVALID,
                        "background: expected a boolean"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"store\":0}", IA_EINVALID,
                        "store: expected a boolean"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"system_instruction\":{\"text\":\"a\"}}",
                        IA_EINVALID, "system_instruction: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"previous_interaction_id\":7}",
                        IA_EINVALID, "previous_interaction_id: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":{}}", IA_EINVALID,
                        "tools: expected an array"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":5}", IA_EINVALID,
                        "input: expected a string, a content object, or a list of content objects or turns"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[\"a\"]}", IA_EINVALID,
                        "input[0]: expected a content object or a turn"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":"
                        "[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":1}]}]}",
                        IA_EINVALID, "input[0].content[1].text: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":5}]}", IA_EINVALID,
                        "input[0].content: expected a string or a list of content objects"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":1,\"content\":\"a\"}]}", IA_EINVALID,
                        "input[0].role: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"assistant\",\"content\":\"a\"}]}",
                        IA_EINVALID, "input[0].role: expected 'user' or 'model', got 'assistant'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\"}]}", IA_EINVALID,
                        "input[0].content: required"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":{\"type\":7}}", IA_EINVALID,
                        "input.type: expected a string"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"text\"}]}", IA_EINVALID,
                        "input[0].text: required"));
}

IA_TEST(api_decode_ranges) {
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"temperature\":2.5}}",
                        IA_EINVALID, "generation_config.temperature: must be between 0 and 2"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"temperature\":-0.1}}",
                        IA_EINVALID, "generation_config.temperature: must be between 0 and 2"));
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"temperature\":2,\"top_p\":0}}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"top_p\":1.01}}",
                        IA_EINVALID, "generation_config.top_p: must be between 0 and 1"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"top_k\":0}}",
                        IA_EINVALID, "generation_config.top_k: must be at least 1"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"top_k\":3000000000}}",
                        IA_EINVALID, "generation_config.top_k: must be at most 2147483647"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"max_output_tokens\":0}}",
                        IA_EINVALID, "generation_config.max_output_tokens: must be at least 1"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"stop_sequences\":[\"a\",\"\"]}}",
                        IA_EINVALID, "generation_config.stop_sequences[1]: must not be empty"));
    const char *s16 = "{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"stop_sequences\":"
                      "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\"]}}";
    IA_CHECK(decodes(s16));
    const char *s17 = "{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"stop_sequences\":"
                      "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}}";
    IA_CHECK(fails_with(s17, IA_EINVALID, "generation_config.stop_sequences: at most 16 stop sequences"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"service_tier\":\"gold\"}", IA_EINVALID,
                        "service_tier: expected one of 'flex', 'standard', 'priority'"));
    IA_CHECK(fails_with("{\"model\":\"\",\"input\":\"x\"}", IA_EINVALID, "model: must not be empty"));
}

IA_TEST(api_decode_unknown_fields) {
    /* a known field in the wrong place says where it belongs */
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"temperature\":1}", IA_EINVALID,
                        "temperature: not a field here; it belongs in generation_config.temperature"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"response_modalities\":[]}}",
                        IA_EINVALID, "generation_config.response_modalities: not a field here; it belongs in "
                        "response_modalities (top level)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"candidate_count\":2}}",
                        IA_EINVALID, "unknown field 'generation_config.candidate_count'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"text\",\"text\":\"a\",\"lang\":\"en\"}]}",
                        IA_EINVALID, "unknown field 'input[0].lang'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"a\"},"
                        "{\"role\":\"model\",\"content\":\"b\",\"name\":\"x\"}]}",
                        IA_EINVALID, "unknown field 'input[1].name'"));
    /* The first error in key order wins. */
    IA_CHECK(fails_with("{\"zz\":1,\"model\":5}", IA_EINVALID, "unknown field 'zz'"));
}

IA_TEST(api_decode_model_and_agent) {
    IA_CHECK(fails_with("{\"input\":\"x\"}", IA_EINVALID,
                        "model: required (provide a 'model' or an 'agent' parameter)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"agent\":\"deep-research-pro-preview-12-2025\",\"input\":\"x\"}",
                        IA_EINVALID, "model, agent: give either 'model' or 'agent', not both"));
    /* an agent's request decodes; core checks the agent (test_agent.c, e2e agents) */
}

IA_TEST(api_decode_input_required_and_not_empty) {
    IA_CHECK(fails_with("{\"model\":\"demo\"}", IA_EINVALID, "input: required"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"\"}", IA_EINVALID, "input: must not be empty"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[]}", IA_EINVALID, "input: must not be empty"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":[]}]}", IA_EINVALID,
                        "input: must not be empty"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"text\",\"text\":\"a\"},"
                        "{\"role\":\"user\",\"content\":\"b\"}]}", IA_EINVALID,
                        "input[1]: a list of turns ({role, content}) cannot be mixed with content "
                        "objects ({type, ...})"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"b\"},"
                        "{\"type\":\"text\",\"text\":\"a\"}]}", IA_EINVALID,
                        "input[1]: a list of turns ({role, content}) cannot be mixed with content "
                        "objects ({type, ...})"));
}

IA_TEST(api_decode_content_types) {
    /* Media: data or uri, valid base64, a mime type of the content's kind. */
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"a\"},"
                     "{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"uri\":\"files/x\"}]}]}"));
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":[{\"type\":\"text\",\"text\":\"a\"},"
                     "{\"type\":\"audio\",\"data\":\"AAAA\",\"mime_type\":\"audio/wav\",\"sample_rate\":16000}]}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"mime_type\":\"image/png\"}]}",
                        IA_EINVALID, "input[0]: image content needs data (base64) or uri (a URL or a Files API URI)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"data\":\"AAAA\",\"uri\":\"files/x\"}]}",
                        IA_EINVALID, "input[0]: give data or uri, not both"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"data\":\"AA*A\"}]}",
                        IA_EINVALID, "input[0].data: not valid base64 (bad character at offset 2); send the "
                        "file's bytes base64-encoded"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"data\":\"AAAAA\"}]}",
                        IA_EINVALID, "input[0].data: not valid base64 (truncated: length 5); send the "
                        "file's bytes base64-encoded"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"data\":\"AAAA\",\"mime_type\":\"audio/wav\"}]}",
                        IA_EINVALID, "input[0].mime_type: 'audio/wav' is not an image type"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"document\",\"data\":\"AAAA\",\"mime_type\":\"image/png\"}]}",
                        IA_EINVALID, "input[0].mime_type: 'image/png' is not a document type (application/pdf or a text type)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"data\":\"AAAA\",\"resolution\":\"huge\"}]}",
                        IA_EINVALID, "input[0].resolution: expected low, medium, high or ultra_high, got 'huge'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"image\",\"data\":\"AAAA\",\"sample_rate\":8000}]}",
                        IA_EINVALID, "unknown field 'input[0].sample_rate'"));
    /* A model turn replaying outputs that hold a thought or a function call. */
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"a\"},"
                     "{\"role\":\"model\",\"content\":[{\"type\":\"thought\",\"signature\":\"x\"},"
                     "{\"type\":\"text\",\"text\":\"b\"}]}]}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"model\",\"content\":[{\"type\":\"thought\","
                        "\"summary\":[]}]}]}", IA_EINVALID,
                        "input[0].content[0].signature: required (a thought is replayed by its signature)"));
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":{\"type\":\"function_result\",\"call_id\":\"c\",\"result\":1}}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":{\"type\":\"function_result\",\"call_id\":\"c\"}}",
                        IA_EINVALID, "input.result: required"));
    /* A built-in tool's call is served (test_api_tools.c); without arguments it is {}. */
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":[{\"type\":\"google_search_call\",\"id\":\"c\"}]}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"type\":\"hologram\"}]}", IA_EINVALID,
                        "input[0]: unknown content type 'hologram'"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]}]}",
                        IA_EINVALID, "input[0].content[0].type: required"));
}

IA_TEST(api_decode_unimplemented_fields_name_themselves) {
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"file_search\"}]}",
                        IA_EINVALID, "tools[0].file_search_store_names: required, the stores to search"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[{\"type\":\"file_search\","
                        "\"file_search_store_names\":[\"s\"],\"top_k\":0}]}",
                        IA_EINVALID, "tools[0].top_k: expected an integer from 1 to 50"));
    IA_CHECK(decodes("{\"model\":\"demo\",\"input\":\"x\",\"tools\":[]}"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_mime_type\":\"text/csv\"}",
                        IA_EUNIMPLEMENTED, "response_mime_type: 'text/csv' is not supported (text/plain or application/json)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_modalities\":[\"text\",\"video\"]}",
                        IA_EUNIMPLEMENTED, "response_modalities[1]: 'video' output is not supported yet"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_modalities\":[\"DOCUMENT\"]}",
                        IA_EUNIMPLEMENTED, "response_modalities[0]: 'document' output is not supported yet"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"response_modalities\":[\"smell\"]}", IA_EINVALID,
                        "response_modalities[0]: expected one of 'text', 'image', 'audio', 'video', 'document' "
                        "(in any case)"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"agent_config\":{\"type\":\"deep-research\"}}",
                        IA_EINVALID, "agent_config: only an agent takes agent_config; a model takes generation_config"));
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"webhook_config\":{\"uris\":[]}}",
                        IA_EUNIMPLEMENTED, "webhook_config: not supported yet by this server"));
    /* speech_config: test_api_speech.c; image_config: test_images_req.c */
}

IA_TEST(api_decode_store_background_rule) {
    IA_CHECK(fails_with("{\"model\":\"demo\",\"input\":\"x\",\"store\":false,\"background\":true}", IA_EINVALID,
                        "store: store=false is incompatible with background=true (a background "
                        "interaction must be stored to be polled)"));
    ia_request r;
    ia_err e;
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"store\":false,\"stream\":true}", &r, &e) == 0);
    IA_CHECK(!r.store && r.stream && !r.background);
    ia_request_free(&r);
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"background\":true}", &r, &e) == 0);
    IA_CHECK(r.store && r.background);
    ia_request_free(&r);
}

/* ---- encode ------------------------------------------------------------------ */

static void fixture(ia_interaction *it, ia_status st) {
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%s", ID);
    it->model = ia_strdup("demo");
    it->status = st;
    it->created = T0;
    it->updated = T0 + 2;
    ia_turn_add_text(ia_conv_add_turn(&it->input, IA_ROLE_USER), "Hi", 2);
    it->output.role = IA_ROLE_MODEL;
    if (st != IA_STATUS_IN_PROGRESS) {
        ia_turn_add_text(&it->output, "Hello", 5);
        it->has_usage = true;
        it->usage = (ia_usage){.input = 5, .output = 7, .thought = 2, .cached = 3, .tool_use = 0};
    }
}

#define HEAD(st, upd) "{\"id\":\"" ID "\",\"object\":\"interaction\",\"status\":\"" st "\"," \
    "\"created\":\"2025-12-29T11:06:25Z\",\"updated\":\"" upd "\",\"model\":\"demo\",\"role\":\"model\""
#define USAGE "\"usage\":{\"total_input_tokens\":5,\"total_output_tokens\":7,\"total_thought_tokens\":2," \
    "\"total_cached_tokens\":3,\"total_tool_use_tokens\":0,\"total_tokens\":14," \
    "\"input_tokens_by_modality\":[{\"modality\":\"text\",\"tokens\":5}]," \
    "\"cached_tokens_by_modality\":[{\"modality\":\"text\",\"tokens\":3}]}"

IA_TEST(api_encode_in_progress_has_no_outputs_or_usage) {
    ia_interaction it;
    fixture(&it, IA_STATUS_IN_PROGRESS);
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, HEAD("in_progress", "2025-12-29T11:06:27Z") "}");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(api_encode_completed) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, HEAD("completed", "2025-12-29T11:06:27Z")
                      ",\"outputs\":[{\"type\":\"text\",\"text\":\"Hello\"}]," USAGE "}");
    free(s);
    /* Optional echoes appear only when set. */
    it.previous_id = ia_strdup("v1_prev");
    it.system_instruction = ia_strdup("Be \"brief\".");
    s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, HEAD("completed", "2025-12-29T11:06:27Z")
                      ",\"outputs\":[{\"type\":\"text\",\"text\":\"Hello\"}]," USAGE
                      ",\"previous_interaction_id\":\"v1_prev\",\"system_instruction\":\"Be \\\"brief\\\".\"}");
    free(s);
    /* The legacy GET form is the same resource. */
    s = ia_api_encode_fetched(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_CONTAINS(s, "\"outputs\":[{\"type\":\"text\",\"text\":\"Hello\"}]");
    IA_CHECK(strstr(s, "user_input") == NULL);
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(api_encode_cancelled_keeps_partial_outputs_without_usage) {
    ia_interaction it;
    fixture(&it, IA_STATUS_CANCELLED);
    it.has_usage = false;
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, HEAD("cancelled", "2025-12-29T11:06:27Z")
                      ",\"outputs\":[{\"type\":\"text\",\"text\":\"Hello\"}]}");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(api_encode_include_input) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    ia_turn *m = ia_conv_add_turn(&it.input, IA_ROLE_MODEL);
    ia_turn_add_text(m, "Yo", 2);
    char *s = ia_api_encode_interaction(&it, true, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, HEAD("completed", "2025-12-29T11:06:27Z")
                      ",\"outputs\":[{\"type\":\"text\",\"text\":\"Hello\"}]," USAGE
                      ",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]},"
                      "{\"role\":\"model\",\"content\":[{\"type\":\"text\",\"text\":\"Yo\"}]}]}");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(api_encode_failed_carries_error) {
    ia_interaction it;
    fixture(&it, IA_STATUS_FAILED);
    it.has_usage = false;
    ia_turn_free(&it.output); /* failed before generating anything */
    it.error = ia_strdup("server restarted while this interaction was running");
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, HEAD("failed", "2025-12-29T11:06:27Z")
                      ",\"outputs\":[],\"error\":{\"message\":\"server restarted while this interaction "
                      "was running\",\"code\":\"internal\"}}");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(api_encode_invalid_utf8_is_repaired) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    free(it.output.items[0].text);
    it.output.items[0].text = ia_strdup("ok\xe2\x82"); /* a split euro sign */
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK_CONTAINS(s, "\"text\":\"ok\xef\xbf\xbd");
    free(s);
    ia_interaction_free(&it);
}

/* ---- SSE frames ---------------------------------------------------------------- */

static char *frame(const ia_interaction *snap, ia_event_kind k, int64_t seq, int index,
                   ia_status st, const char *text, const char *code) {
    ia_event ev = {.seq = seq, .kind = k, .index = index, .status = st, .ckind = IA_CONTENT_TEXT,
                   .text = (char *)text, .code = (char *)code};
    return ia_api_encode_event(snap, &ev, IA_DIALECT_LEGACY);
}

#define EVT(n) "\"event_id\":\"evt_" TAG "_" #n "\""

IA_TEST(api_encode_event_frames) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    char *s;

    s = frame(&it, IA_EV_START, 1, 0, IA_STATUS_IN_PROGRESS, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.start\ndata: {\"interaction\":"
                      HEAD("in_progress", "2025-12-29T11:06:25Z") "}," EVT(1)
                      ",\"event_type\":\"interaction.start\"}\n\n");
    free(s);

    s = frame(&it, IA_EV_STATUS, 2, 0, IA_STATUS_IN_PROGRESS, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.status_update\ndata: {\"interaction_id\":\"" ID
                      "\",\"status\":\"in_progress\"," EVT(2)
                      ",\"event_type\":\"interaction.status_update\"}\n\n");
    free(s);

    s = frame(&it, IA_EV_CONTENT_START, 3, 0, 0, NULL, NULL);
    IA_CHECK_STREQ(s, "event: content.start\ndata: {\"index\":0,\"content\":{\"type\":\"text\",\"text\":\"\"},"
                      EVT(3) ",\"event_type\":\"content.start\"}\n\n");
    free(s);

    s = frame(&it, IA_EV_CONTENT_DELTA, 4, 0, 0, "Hel\"lo\n", NULL);
    IA_CHECK_STREQ(s, "event: content.delta\ndata: {\"index\":0,\"delta\":{\"type\":\"text\",\"text\":"
                      "\"Hel\\\"lo\\n\"}," EVT(4) ",\"event_type\":\"content.delta\"}\n\n");
    free(s);

    s = frame(&it, IA_EV_CONTENT_STOP, 5, 0, 0, NULL, NULL);
    IA_CHECK_STREQ(s, "event: content.stop\ndata: {\"index\":0," EVT(5)
                      ",\"event_type\":\"content.stop\"}\n\n");
    free(s);

    s = frame(&it, IA_EV_COMPLETE, 6, 0, 0, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.complete\ndata: {\"interaction\":"
                      HEAD("completed", "2025-12-29T11:06:27Z") "," USAGE "}," EVT(6)
                      ",\"event_type\":\"interaction.complete\"}\n\n");
    free(s);

    s = frame(&it, IA_EV_ERROR, 7, 0, 0, "model overloaded", "unavailable");
    IA_CHECK_STREQ(s, "event: error\ndata: {\"error\":{\"code\":\"unavailable\",\"message\":\"model overloaded\"},"
                      EVT(7) ",\"event_type\":\"error\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_ERROR, 8, 0, 0, "boom", NULL);
    IA_CHECK_CONTAINS(s, "{\"error\":{\"code\":\"internal\",\"message\":\"boom\"}");
    free(s);

    IA_CHECK_STREQ(ia_api_sse_done(), "event: done\ndata: [DONE]\n\n");

    ia_interaction_free(&it);
}

IA_TEST(api_encode_frame_without_snapshot) {
    ia_event ev = {.seq = 9, .kind = IA_EV_CONTENT_STOP, .index = 2};
    char *s = ia_api_encode_frame(ID, NULL, &ev, IA_DIALECT_LEGACY);
    IA_CHECK_STREQ(s, "event: content.stop\ndata: {\"index\":2," EVT(9) ",\"event_type\":\"content.stop\"}\n\n");
    free(s);
    /* START and COMPLETE need the snapshot: refused rather than half-encoded. */
    ev.kind = IA_EV_COMPLETE;
    IA_CHECK(ia_api_encode_frame(ID, NULL, &ev, IA_DIALECT_LEGACY) == NULL);
    IA_CHECK(ia_api_encode_event(NULL, &ev, IA_DIALECT_LEGACY) == NULL);
}

/* ---- errors and event ids ------------------------------------------------------- */

IA_TEST(api_encode_error_body) {
    ia_err e;
    ia_fail(&e, IA_EINVALID, "generation_config.temperature: expected a number");
    char *s = ia_api_encode_error(&e);
    IA_CHECK_STREQ(s, "{\"error\":{\"message\":\"generation_config.temperature: expected a number\","
                      "\"code\":\"invalid_request\"}}");
    free(s);
    ia_fail(&e, IA_ENOTFOUND, "interaction 'x' not found");
    s = ia_api_encode_error(&e);
    IA_CHECK_STREQ(s, "{\"error\":{\"message\":\"interaction 'x' not found\",\"code\":\"not_found\"}}");
    free(s);
    ia_fail(&e, IA_EUNIMPLEMENTED, "tools: not supported yet by this server");
    s = ia_api_encode_error(&e);
    IA_CHECK_STREQ(s, "{\"error\":{\"message\":\"tools: not supported yet by this server\","
                      "\"code\":\"unimplemented\"}}");
    free(s);
}

IA_TEST(api_event_id_round_trip) {
    char *id = ia_api_event_id(ID, 1);
    IA_CHECK_STREQ(id, "evt_" TAG "_1");
    IA_CHECK(ia_api_parse_event_id(ID, id) == 1);
    free(id);
    id = ia_api_event_id(ID, 1234567890123LL);
    IA_CHECK(ia_api_parse_event_id(ID, id) == 1234567890123LL);
    /* Another interaction's event id is not ours. */
    IA_CHECK(ia_api_parse_event_id("v1_other", id) == -1);
    free(id);
    id = ia_api_event_id("v1_other", 3);
    IA_CHECK_STREQ(id, "evt_0cb45955423c5b47_3");
    IA_CHECK(ia_api_parse_event_id(ID, id) == -1);
    free(id);
    /* Only what we write parses. */
    static const char *const bad[] = {
        "", "3", "evt_", "evt_" TAG, "evt_" TAG "_", "evt_" TAG "_0", "evt_" TAG "_01",
        "evt_" TAG "_-1", "evt_" TAG "_+1", "evt_" TAG "_1x", "evt_" TAG "_ 1",
        "evt_" TAG "_99999999999999999999", "EVT_" TAG "_1", "evt_" TAG "1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (ia_api_parse_event_id(ID, bad[i]) != -1) fprintf(stderr, "    accepted '%s'\n", bad[i]);
        IA_CHECK(ia_api_parse_event_id(ID, bad[i]) == -1);
    }
    IA_CHECK(ia_api_parse_event_id(ID, NULL) == -1);
    IA_CHECK(ia_api_parse_event_id(NULL, "evt_" TAG "_1") == -1);
}

/* The guide's stateless conversation: the client pushes {role: "model",
 * content: interaction.outputs} into its history and sends it back. */
IA_TEST(api_stateless_history_round_trip) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    ia_turn_add_text(&it.output, "\xc3\xa9 second \"block\"", 17);
    char *res = ia_api_encode_interaction(&it, true, IA_DIALECT_LEGACY);
    IA_CHECK(res != NULL);
    /* Cut the outputs array out of the encoded resource, as a client would. */
    const char *o = strstr(res, "\"outputs\":");
    IA_CHECK(o != NULL);
    o += strlen("\"outputs\":");
    const char *end = strstr(o, "],\"usage\"");
    IA_CHECK(end != NULL);
    char *body = ia_asprintf("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"Hi\"},"
                             "{\"role\":\"model\",\"content\":%.*s]},"
                             "{\"role\":\"user\",\"content\":\"and?\"}]}",
                             (int)(end - o), o);
    ia_request r;
    ia_err e;
    int rc = dec(body, &r, &e);
    free(body);
    if (rc != 0) fprintf(stderr, "    %s\n", e.msg);
    IA_CHECK(rc == 0);
    IA_CHECK(r.input.n == 3);
    IA_CHECK(r.input.turns[1].role == IA_ROLE_MODEL && r.input.turns[1].n == it.output.n);
    for (size_t i = 0; i < it.output.n; i++)
        IA_CHECK_STREQ(r.input.turns[1].items[i].text, it.output.items[i].text);
    ia_request_free(&r);

    /* include_input's `input` is itself valid create input. */
    const char *in = strstr(res, "\"input\":");
    IA_CHECK(in != NULL);
    body = ia_asprintf("{\"model\":\"demo\",%s", in);
    rc = dec(body, &r, &e);
    free(body);
    IA_CHECK(rc == 0 && r.input.n == it.input.n);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "Hi");
    ia_request_free(&r);
    free(res);
    ia_interaction_free(&it);
}
