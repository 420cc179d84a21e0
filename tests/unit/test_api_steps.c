/* test_api_steps: the steps dialect of src/api/ (SDK 3.x) — input given as
 * steps decoded into the same turns a legacy client's history makes, the
 * 3.x-only fields answered by name, the Interaction resource with `steps[]`
 * (create form and GET form) and every SSE frame compared byte for byte, and
 * the legacy dialect left as it was for the same bodies. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "unit.h"

#define ID "v1_ChdDekJ5YVktZ0VlYUx4czBQczl5VDRRVRIXQ3pCeWFZLWdFZWFMeHMwUHM5eVQ0UVU"
#define TAG "80a335b3cd2c322a" /* sha256(ID)[:16], as in test_api.c */
#define T0 1767006385          /* 2025-12-29T11:06:25Z */

static int dec_d(const char *body, ia_dialect d, ia_request *r, ia_err *e) {
    ia_err_clear(e);
    return ia_api_decode_create_dialect(body, strlen(body), d, r, e);
}

/* Expects body to fail in dialect d with code and exactly msg. */
static int fails_d(const char *body, ia_dialect d, ia_errcode code, const char *msg) {
    ia_request r;
    ia_err e;
    int rc = dec_d(body, d, &r, &e);
    int ok = rc == -1 && e.code == code && strcmp(e.msg, msg) == 0;
    if (!ok)
        fprintf(stderr, "    body %s\n    got rc=%d code=%s msg=\"%s\"\n    expected code=%s msg=\"%s\"\n",
                body, rc, ia_err_wire_code(e.code), e.msg, ia_err_wire_code(code), msg);
    ok = ok && r.model == NULL && r.input.n == 0 && r.store;
    ia_request_free(&r);
    return ok;
}
#define FAILS(body, code, msg) fails_d(body, IA_DIALECT_STEPS, code, msg)

static int decodes_d(const char *body, ia_dialect d) {
    ia_request r;
    ia_err e;
    int rc = dec_d(body, d, &r, &e);
    if (rc != 0) fprintf(stderr, "    body %s\n    failed: %s\n", body, e.msg);
    ia_request_free(&r);
    return rc == 0;
}

/* ---- decode ------------------------------------------------------------------ */

IA_TEST(steps_decode_string_and_content_inputs) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec_d("{\"model\":\"demo\",\"input\":\"Hello\"}", IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].role == IA_ROLE_USER);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "Hello");
    IA_CHECK(r.store && !r.stream && !r.background);
    ia_request_free(&r);
    /* Content[] is one user turn; one Content object too. */
    IA_CHECK(dec_d("{\"model\":\"demo\",\"input\":[{\"type\":\"text\",\"text\":\"a\"},"
                   "{\"type\":\"text\",\"text\":\"b\"}]}", IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].n == 2);
    IA_CHECK_STREQ(r.input.turns[0].items[1].text, "b");
    ia_request_free(&r);
    IA_CHECK(dec_d("{\"model\":\"demo\",\"input\":{\"type\":\"text\",\"text\":\"one\"}}", IA_DIALECT_STEPS,
                   &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].role == IA_ROLE_USER);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "one");
    ia_request_free(&r);
}

IA_TEST(steps_decode_history_as_steps_is_turns) {
    ia_request r;
    ia_err e;
    const char *body =
        "{\"model\":\"demo\",\"input\":["
        "{\"type\":\"user_input\",\"content\":[{\"type\":\"text\",\"text\":\"My name is Ada.\"}]},"
        "{\"type\":\"model_output\",\"content\":[{\"type\":\"text\",\"text\":\"Hi Ada\","
        "\"annotations\":[]}]},"
        "{\"type\":\"user_input\",\"content\":\"What is my name?\"}]}";
    IA_CHECK(dec_d(body, IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.input.n == 3);
    IA_CHECK(r.input.turns[0].role == IA_ROLE_USER && r.input.turns[1].role == IA_ROLE_MODEL &&
             r.input.turns[2].role == IA_ROLE_USER);
    IA_CHECK_STREQ(r.input.turns[0].items[0].text, "My name is Ada.");
    IA_CHECK_STREQ(r.input.turns[1].items[0].text, "Hi Ada");
    IA_CHECK_STREQ(r.input.turns[2].items[0].text, "What is my name?");
    ia_request_free(&r);
    /* One step object alone is taken as a list of one; a step without content
     * is allowed as long as the input has some. */
    IA_CHECK(dec_d("{\"model\":\"demo\",\"input\":{\"type\":\"user_input\",\"content\":"
                   "[{\"type\":\"text\",\"text\":\"x\"}]}}", IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.input.n == 1 && r.input.turns[0].n == 1);
    ia_request_free(&r);
    IA_CHECK(decodes_d("{\"model\":\"demo\",\"input\":[{\"type\":\"model_output\"},"
                       "{\"type\":\"user_input\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}]}",
                       IA_DIALECT_STEPS));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":[]}]}", IA_EINVALID,
                   "input: must not be empty"));
}

IA_TEST(steps_decode_input_errors_name_the_path) {
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"hi\"}]}", IA_EINVALID,
                   "input[0]: turns ({role, content}) are not part of this API version; give history "
                   "as steps ({\"type\": \"user_input\" or \"model_output\", \"content\": [...]})"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":\"a\"},"
                   "{\"type\":\"text\",\"text\":\"b\"}]}", IA_EINVALID,
                   "input[1]: a list of steps ({type: 'user_input' | 'model_output', ...}) cannot be "
                   "mixed with content objects ({type: 'text', ...})"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":\"a\"},"
                   "{\"type\":\"thought\"}]}", IA_EINVALID,
                   "input[1].signature: required (a thought is replayed by its signature)"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"function_result\",\"call_id\":\"c\"}]}",
                   IA_EINVALID, "input[0].result: required"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":"
                   "[{\"type\":\"image\",\"data\":\"AA!A\",\"mime_type\":\"image/png\"}]}]}",
                   IA_EINVALID, "input[0].content[0].data: not valid base64 (bad character at offset 2); send the "
                   "file's bytes base64-encoded"));
    /* In 3.x a function call is a step, not a Content. */
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":"
                   "[{\"type\":\"function_call\",\"name\":\"f\"}]}]}",
                   IA_EINVALID, "input[0].content[0]: unknown content type 'function_call'"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"role\":\"user\"}]}",
                   IA_EINVALID, "unknown field 'input[0].role'"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"model_output\",\"content\":7}]}",
                   IA_EINVALID, "input[0].content: expected a list of content objects"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[\"a\"]}", IA_EINVALID,
                   "input[0]: expected a content object or a step"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[]}", IA_EINVALID, "input: must not be empty"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":[{\"type\":\"hologram\"}]}", IA_EINVALID,
                   "input[0]: unknown content type 'hologram'"));
}

IA_TEST(steps_decode_sdk3_fields) {
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":\"x\",\"continuation_token\":\"abc\"}", IA_EINVALID,
                   "continuation_token: this server never issues continuation tokens (every "
                   "interaction decodes to its end in one request, so nothing is left to continue)"));
    static const char *const later[] = {"cached_content", "environment", "labels", "safety_settings"};
    for (size_t i = 0; i < sizeof later / sizeof *later; i++) {
        char body[160], msg[96];
        snprintf(body, sizeof body, "{\"model\":\"demo\",\"input\":\"x\",\"%s\":\"v\"}", later[i]);
        snprintf(msg, sizeof msg, "%s: not supported yet by this server", later[i]);
        IA_CHECK(FAILS(body, IA_EUNIMPLEMENTED, msg));
        /* The legacy dialect never had them. */
        snprintf(msg, sizeof msg, "unknown field '%s'", later[i]);
        IA_CHECK(fails_d(body, IA_DIALECT_LEGACY, IA_EINVALID, msg));
    }
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"transcription_config\":{}}}",
                   IA_EUNIMPLEMENTED, "generation_config.transcription_config: not supported yet by this server"));
    IA_CHECK(fails_d("{\"model\":\"demo\",\"input\":\"x\",\"generation_config\":{\"video_config\":{}}}",
                     IA_DIALECT_LEGACY, IA_EINVALID, "unknown field 'generation_config.video_config'"));
    IA_CHECK(decodes_d("{\"model\":\"demo\",\"input\":\"x\",\"service_tier\":\"deferred\"}", IA_DIALECT_STEPS));
    IA_CHECK(fails_d("{\"model\":\"demo\",\"input\":\"x\",\"service_tier\":\"deferred\"}", IA_DIALECT_LEGACY,
                     IA_EINVALID, "service_tier: expected one of 'flex', 'standard', 'priority'"));
    /* Shared rules hold in both dialects. */
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":\"x\",\"store\":false,\"background\":true}", IA_EINVALID,
                   "store: store=false is incompatible with background=true (a background "
                   "interaction must be stored to be polled)"));
    IA_CHECK(FAILS("{\"input\":\"x\"}", IA_EINVALID,
                   "model: required (provide a 'model' or an 'agent' parameter)"));
    IA_CHECK(FAILS("{\"model\":\"demo\",\"input\":\"x\",\"bogus\":1}", IA_EINVALID, "unknown field 'bogus'"));
    ia_request r;
    ia_err e;
    IA_CHECK(dec_d("{\"model\":\"demo\",\"input\":\"x\",\"stream\":true,\"generation_config\":"
                   "{\"temperature\":0,\"max_output_tokens\":5},\"system_instruction\":\"Be brief\","
                   "\"previous_interaction_id\":\"v1_p\"}", IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.stream && r.gen.has_temperature && r.gen.max_output_tokens == 5);
    IA_CHECK_STREQ(r.system_instruction, "Be brief");
    IA_CHECK_STREQ(r.previous_interaction_id, "v1_p");
    ia_request_free(&r);
}

IA_TEST(steps_legacy_decoding_is_unchanged) {
    /* A steps list sent to the legacy dialect is what it always was: content
     * of an unknown type. */
    IA_CHECK(fails_d("{\"model\":\"demo\",\"input\":[{\"type\":\"user_input\",\"content\":\"a\"}]}",
                     IA_DIALECT_LEGACY, IA_EINVALID, "input[0]: unknown content type 'user_input'"));
    IA_CHECK(decodes_d("{\"model\":\"demo\",\"input\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                       IA_DIALECT_LEGACY));
    IA_CHECK(fails_d("{\"model\":\"demo\",\"input\":\"x\",\"continuation_token\":\"t\"}", IA_DIALECT_LEGACY,
                     IA_EINVALID, "unknown field 'continuation_token'"));
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
    "\"created\":\"2025-12-29T11:06:25Z\",\"updated\":\"" upd "\",\"model\":\"demo\","     \
    "\"service_tier\":\"standard\""
#define UPD "2025-12-29T11:06:27Z"
#define USAGE "\"usage\":{\"total_input_tokens\":5,\"total_output_tokens\":7,\"total_thought_tokens\":2," \
    "\"total_cached_tokens\":3,\"total_tool_use_tokens\":0,\"total_tokens\":14," \
    "\"input_tokens_by_modality\":[{\"modality\":\"text\",\"tokens\":5}]," \
    "\"cached_tokens_by_modality\":[{\"modality\":\"text\",\"tokens\":3}]}"
#define OUT_STEP "{\"type\":\"model_output\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"}]}"
#define IN_STEP "{\"type\":\"user_input\",\"content\":[{\"type\":\"text\",\"text\":\"Hi\"}]}"

IA_TEST(steps_encode_completed_create_and_get) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("completed", UPD) ",\"steps\":[" OUT_STEP "]," USAGE "}");
    free(s);
    /* GET puts this turn's input first, as Google's does. */
    s = ia_api_encode_fetched(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("completed", UPD) ",\"steps\":[" IN_STEP "," OUT_STEP "]," USAGE "}");
    IA_CHECK(strstr(s, "\"role\"") == NULL && strstr(s, "\"outputs\"") == NULL);
    free(s);
    it.previous_id = ia_strdup("v1_prev");
    it.system_instruction = ia_strdup("Be brief.");
    s = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("completed", UPD) ",\"steps\":[" OUT_STEP "]," USAGE
                      ",\"previous_interaction_id\":\"v1_prev\",\"system_instruction\":\"Be brief.\"}");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(steps_encode_in_progress_and_history_input) {
    ia_interaction it;
    fixture(&it, IA_STATUS_IN_PROGRESS);
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("in_progress", UPD) "}");
    free(s);
    /* History given in the input: a model turn is a model_output step. */
    ia_turn_add_text(ia_conv_add_turn(&it.input, IA_ROLE_MODEL), "Yo", 2);
    ia_turn_add_text(ia_conv_add_turn(&it.input, IA_ROLE_USER), "Again", 5);
    s = ia_api_encode_fetched(&it, true, IA_DIALECT_STEPS);
#define HIST IN_STEP ",{\"type\":\"model_output\",\"content\":[{\"type\":\"text\",\"text\":\"Yo\"}]}," \
    "{\"type\":\"user_input\",\"content\":[{\"type\":\"text\",\"text\":\"Again\"}]}"
    IA_CHECK_STREQ(s, HEAD("in_progress", UPD) ",\"steps\":[" HIST "],\"input\":[" HIST "]}");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(steps_encode_failed_and_cancelled) {
    ia_interaction it;
    fixture(&it, IA_STATUS_FAILED);
    it.has_usage = false;
    ia_turn_free(&it.output);
    it.error = ia_strdup("server restarted while this interaction was running");
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("failed", UPD) ",\"steps\":[],\"errors\":[{\"code\":\"internal\",\"message\":"
                      "\"server restarted while this interaction was running\"}]}");
    free(s);
    ia_interaction_free(&it);
    fixture(&it, IA_STATUS_CANCELLED);
    it.has_usage = false;
    s = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("cancelled", UPD) ",\"steps\":[" OUT_STEP "]}");
    free(s);
    ia_interaction_free(&it);
}

/* ---- SSE frames ---------------------------------------------------------------- */

static char *frame(const ia_interaction *snap, ia_event_kind k, int64_t seq, int index,
                   ia_status st, const char *text, const char *code) {
    ia_event ev = {.seq = seq, .kind = k, .index = index, .status = st, .ckind = IA_CONTENT_TEXT,
                   .text = (char *)text, .code = (char *)code};
    return ia_api_encode_event(snap, &ev, IA_DIALECT_STEPS);
}

#define EVT(n) "\"event_id\":\"evt_" TAG "_" #n "\""

IA_TEST(steps_encode_event_frames) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    char *s;
    s = frame(&it, IA_EV_START, 1, 0, IA_STATUS_IN_PROGRESS, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.created\ndata: {\"interaction\":"
                      HEAD("in_progress", "2025-12-29T11:06:25Z") "}," EVT(1)
                      ",\"event_type\":\"interaction.created\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_STATUS, 2, 0, IA_STATUS_IN_PROGRESS, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.status_update\ndata: {\"interaction_id\":\"" ID
                      "\",\"status\":\"in_progress\"," EVT(2)
                      ",\"event_type\":\"interaction.status_update\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_CONTENT_START, 3, 0, 0, "", NULL);
    IA_CHECK_STREQ(s, "event: step.start\ndata: {\"index\":0,\"step\":{\"type\":\"model_output\"},"
                      EVT(3) ",\"event_type\":\"step.start\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_CONTENT_DELTA, 4, 0, 0, "Hel\"lo\n", NULL);
    IA_CHECK_STREQ(s, "event: step.delta\ndata: {\"index\":0,\"delta\":{\"text\":\"Hel\\\"lo\\n\","
                      "\"type\":\"text\"}," EVT(4) ",\"event_type\":\"step.delta\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_CONTENT_STOP, 5, 0, 0, NULL, NULL);
    IA_CHECK_STREQ(s, "event: step.stop\ndata: {\"index\":0," EVT(5) ",\"event_type\":\"step.stop\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_COMPLETE, 6, 0, 0, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.completed\ndata: {\"interaction\":" HEAD("completed", UPD)
                      "," USAGE "}," EVT(6) ",\"event_type\":\"interaction.completed\"}\n\n");
    free(s);
    s = frame(&it, IA_EV_ERROR, 7, 0, 0, "model overloaded", "unavailable");
    IA_CHECK_STREQ(s, "event: error\ndata: {\"error\":{\"code\":\"unavailable\",\"message\":\"model overloaded\"},"
                      EVT(7) ",\"event_type\":\"error\"}\n\n");
    free(s);
    ia_interaction_free(&it);
    /* Without a snapshot: fine for step events, refused for lifecycle ones. */
    ia_event ev = {.seq = 9, .kind = IA_EV_CONTENT_STOP, .index = 2};
    s = ia_api_encode_frame(ID, NULL, &ev, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, "event: step.stop\ndata: {\"index\":2," EVT(9) ",\"event_type\":\"step.stop\"}\n\n");
    free(s);
    ev.kind = IA_EV_START;
    IA_CHECK(ia_api_encode_frame(ID, NULL, &ev, IA_DIALECT_STEPS) == NULL);
}

IA_TEST(steps_failed_complete_frame_carries_errors) {
    ia_interaction it;
    fixture(&it, IA_STATUS_FAILED);
    it.has_usage = false;
    it.error = ia_strdup("boom");
    char *s = frame(&it, IA_EV_COMPLETE, 3, 0, 0, NULL, NULL);
    IA_CHECK_STREQ(s, "event: interaction.completed\ndata: {\"interaction\":" HEAD("failed", UPD)
                      ",\"errors\":[{\"code\":\"internal\",\"message\":\"boom\"}]}," EVT(3)
                      ",\"event_type\":\"interaction.completed\"}\n\n");
    free(s);
    ia_interaction_free(&it);
}

IA_TEST(steps_encode_echoes_generation_config_as_set) {
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    it.gen.has_temperature = true;
    it.gen.temperature = 0.5;
    it.gen.has_max_output_tokens = true;
    it.gen.max_output_tokens = 8;
    it.gen.stop = calloc(1, sizeof *it.gen.stop);
    it.gen.stop[0] = ia_strdup("\n\n");
    it.gen.n_stop = 1;
    char *s = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("completed", UPD) ",\"steps\":[" OUT_STEP "]," USAGE
                      ",\"generation_config\":{\"temperature\":0.5,\"max_output_tokens\":8,"
                      "\"stop_sequences\":[\"\\n\\n\"]}}");
    free(s);
    /* Not in the lifecycle events' partial interaction, not in legacy. */
    s = frame(&it, IA_EV_COMPLETE, 6, 0, 0, NULL, NULL);
    IA_CHECK(strstr(s, "generation_config") == NULL);
    free(s);
    s = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    IA_CHECK(strstr(s, "generation_config") == NULL);
    free(s);
    ia_interaction_free(&it);
}

/* Media is Content in 3.x (ImageContent ...), so a user turn's image stays
 * in its user_input step beside the text, never a step of its own. */
IA_TEST(steps_encode_media_inside_its_input_step) {
    ia_request r;
    ia_err e;
    IA_CHECK(dec_d("{\"model\":\"demo\",\"input\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
                   "{\"type\":\"image\",\"data\":\"AAAA\",\"mime_type\":\"image/png\"}]}",
                   IA_DIALECT_STEPS, &r, &e) == 0);
    ia_interaction it;
    fixture(&it, IA_STATUS_COMPLETED);
    ia_conv_free(&it.input);
    it.input = r.input;
    memset(&r.input, 0, sizeof r.input);
    ia_request_free(&r);
    char *s = ia_api_encode_fetched(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_STREQ(s, HEAD("completed", UPD) ",\"steps\":[{\"type\":\"user_input\",\"content\":["
                      "{\"type\":\"text\",\"text\":\"What is this?\"},{\"type\":\"image\",\"data\":\"AAAA\","
                      "\"mime_type\":\"image/png\"}]}," OUT_STEP "]," USAGE "}");
    free(s);
    ia_interaction_free(&it);
}
