/* test_upstream_chat: the upstream chat engine's protocol parts
 * (src/upstream/chat_req.c, chat_sse.c): the request body built from a
 * conversation (messages with calls, results and reasoning, tools,
 * tool_choice, response_format, sampling, a document's text in place of
 * its marker), and the answer's parser fed a llama-server stream split at
 * every byte boundary (content and reasoning deltas adding up, tool-call
 * argument deltas by index, the usage chunk, [DONE]), CRLF framing and
 * comments, error chunks, a whole JSON answer, and malformed chunks. The
 * --upstream spec's api=chat too. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "unit.h"
#include "upstream/chat_int.h"
#include "upstream/upstream.h"

static ia_upstream up(void) {
    ia_upstream u = {.name = "up", .url = "http://127.0.0.1:1", .remote_model = "remote-7b",
                     .kind = IA_UPSTREAM_CHAT, .api = IA_UPSTREAM_CHAT_API, .timeout_s = 5};
    return u;
}

static json_t *body_of(const ia_engine_msg *m, size_t n, const ia_engine_params *p) {
    ia_upstream u = up();
    char *s = ia_upchat_body(&u, m, n, p);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    return j;
}

IA_TEST(upchat_body_messages_and_sampling) {
    ia_engine_call calls[2] = {{"c1", "get_weather", "{\"city\":\"Paris\"}"}, {"c2", "get_weather", "{}"}};
    char *user = ia_asprintf("Read this: %s please", ia_engine_media_marker());
    static const char doc[] = "DOCUMENT TEXT";
    ia_engine_media media = {.modality = IA_MOD_DOCUMENT, .form = IA_EMEDIA_TEXT, .data = (const unsigned char *)doc,
                             .len = sizeof doc - 1};
    ia_engine_msg m[] = {
        {.role = IA_MSG_SYSTEM, .text = "Be brief."},
        {.role = IA_MSG_USER, .text = user, .media = &media, .n_media = 1},
        {.role = IA_MSG_ASSISTANT, .text = "", .reasoning = "hmm", .calls = calls, .n_calls = 2},
        {.role = IA_MSG_TOOL, .text = "{\"sky\":\"clear\"}", .call_id = "c1", .name = "get_weather"},
        {.role = IA_MSG_TOOL, .text = "{}", .call_id = "c2", .name = "get_weather"},
        {.role = IA_MSG_ASSISTANT, .text = "Sunny."},
    };
    const char *stops[] = {"END", "\n\n"};
    ia_engine_params p = {.has_temperature = true, .temperature = 0.5, .has_top_p = true, .top_p = 0.9,
                          .has_top_k = true, .top_k = 20, .has_seed = true, .seed = 42, .max_tokens = 64,
                          .stop = stops, .n_stop = 2};
    json_t *j = body_of(m, 6, &p);
    free(user);
    IA_CHECK(j);
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "model")), "remote-7b");
    IA_CHECK(json_is_true(json_object_get(j, "stream")));
    IA_CHECK(json_is_true(json_object_get(json_object_get(j, "stream_options"), "include_usage")));
    json_t *ms = json_object_get(j, "messages");
    IA_CHECK(json_array_size(ms) == 6);
    const char *roles[] = {"system", "user", "assistant", "tool", "tool", "assistant"};
    for (size_t i = 0; i < 6; i++)
        IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(ms, i), "role")), roles[i]);
    IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(ms, 1), "content")),
                   "Read this: DOCUMENT TEXT please");
    json_t *a = json_array_get(ms, 2);
    IA_CHECK(json_is_null(json_object_get(a, "content")));
    IA_CHECK_STREQ(json_string_value(json_object_get(a, "reasoning_content")), "hmm");
    json_t *tc = json_object_get(a, "tool_calls");
    IA_CHECK(json_array_size(tc) == 2);
    IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(tc, 1), "id")), "c2");
    IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(tc, 0), "type")), "function");
    json_t *fn = json_object_get(json_array_get(tc, 0), "function");
    IA_CHECK_STREQ(json_string_value(json_object_get(fn, "name")), "get_weather");
    IA_CHECK_STREQ(json_string_value(json_object_get(fn, "arguments")), "{\"city\":\"Paris\"}");
    IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(ms, 3), "tool_call_id")), "c1");
    IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(ms, 3), "content")), "{\"sky\":\"clear\"}");
    IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(ms, 5), "content")), "Sunny.");
    IA_CHECK(json_real_value(json_object_get(j, "temperature")) == 0.5);
    IA_CHECK(json_real_value(json_object_get(j, "top_p")) == 0.9);
    IA_CHECK(json_integer_value(json_object_get(j, "top_k")) == 20);
    IA_CHECK(json_integer_value(json_object_get(j, "seed")) == 42);
    IA_CHECK(json_integer_value(json_object_get(j, "max_tokens")) == 64);
    IA_CHECK(json_array_size(json_object_get(j, "stop")) == 2);
    IA_CHECK_STREQ(json_string_value(json_array_get(json_object_get(j, "stop"), 1)), "\n\n");
    IA_CHECK(!json_object_get(j, "tools") && !json_object_get(j, "tool_choice") &&
             !json_object_get(j, "parallel_tool_calls"));
    IA_CHECK(!json_object_get(j, "response_format") && !json_object_get(j, "chat_template_kwargs"));
    json_decref(j);
}

IA_TEST(upchat_body_tools_choice_schema) {
    ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "hi"}};
    ia_engine_tool tools[] = {
        {"get_weather", "The weather", "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"},
        {"now", NULL, NULL},
    };
    const char *want[] = {[IA_TOOLS_AUTO] = "auto", [IA_TOOLS_REQUIRED] = "required", [IA_TOOLS_NONE] = "none"};
    for (int c = IA_TOOLS_AUTO; c <= IA_TOOLS_NONE; c++) {
        ia_engine_params p = {.tools = tools, .n_tools = 2, .tool_choice = (ia_engine_tool_choice)c,
                              .json_schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}",
                              .grammar = "root ::= \"{}\"", .thinking_budget = -1};
        json_t *j = body_of(m, 1, &p);
        IA_CHECK(j);
        IA_CHECK_STREQ(json_string_value(json_object_get(j, "tool_choice")), want[c]);
        IA_CHECK(json_is_true(json_object_get(j, "parallel_tool_calls"))); /* llama-server's default is false */
        json_t *t = json_object_get(j, "tools");
        IA_CHECK(json_array_size(t) == 2);
        json_t *f0 = json_object_get(json_array_get(t, 0), "function");
        IA_CHECK_STREQ(json_string_value(json_object_get(json_array_get(t, 0), "type")), "function");
        IA_CHECK_STREQ(json_string_value(json_object_get(f0, "name")), "get_weather");
        IA_CHECK_STREQ(json_string_value(json_object_get(f0, "description")), "The weather");
        IA_CHECK_STREQ(json_string_value(json_object_get(
                           json_object_get(json_object_get(json_object_get(f0, "parameters"), "properties"), "city"),
                           "type")),
                       "string");
        json_t *f1 = json_object_get(json_array_get(t, 1), "function");
        IA_CHECK(!json_object_get(f1, "description"));
        IA_CHECK(json_is_object(json_object_get(f1, "parameters")) && json_object_size(json_object_get(f1, "parameters")) == 0);
        json_t *rf = json_object_get(j, "response_format");
        IA_CHECK_STREQ(json_string_value(json_object_get(rf, "type")), "json_schema");
        json_t *js = json_object_get(rf, "json_schema");
        IA_CHECK(json_is_true(json_object_get(js, "strict")));
        IA_CHECK(json_is_string(json_object_get(js, "name")));
        IA_CHECK_STREQ(json_string_value(json_object_get(json_object_get(js, "schema"), "type")), "object");
        IA_CHECK(json_is_false(json_object_get(json_object_get(j, "chat_template_kwargs"), "enable_thinking")));
        json_decref(j);
    }
}

/* ---- the answer ------------------------------------------------------------------ */

static const char STREAM[] =
    ": keep-alive\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Let me \"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"think \\u00e9.\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Caf\\u00e9 \"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\u65e5\\u672c.\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":"
    "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":"
    "\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"x\\\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\"{\\\"a\\\":1}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":"
    "\":2}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":9,\"total_tokens\":39,"
    "\"prompt_tokens_details\":{\"cached_tokens\":12}}}\n\n"
    "data: [DONE]\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"after done\"}}]}\n\n";

typedef struct seen {
    ia_buf r, c;
    int n;
    bool bad_utf8;
} seen;

static int on_delta(void *ud, bool reasoning, const char *p, size_t n) {
    seen *s = ud;
    if (!n || !ia_utf8_valid(p, n) || memchr(p, '\0', n)) s->bad_utf8 = true;
    ia_buf_append(reasoning ? &s->r : &s->c, p, n);
    s->n++;
    return 0;
}

/* Feeds text in pieces: the first cut at `at`, the rest one piece. */
static int feed_split(ia_upchat_answer *a, const char *text, size_t len, size_t at, ia_err *err) {
    int rc = ia_upchat_feed(a, text, at, "up", err);
    if (rc == 0) rc = ia_upchat_feed(a, text + at, len - at, "up", err);
    if (rc == 0) rc = ia_upchat_end(a, "up", err);
    return rc;
}

static void check_stream(int *ia_failed_, const char *text, size_t len) {
    for (size_t at = 0; at <= len; at++) {
        seen s = {0};
        ia_buf_init(&s.r, 0);
        ia_buf_init(&s.c, 0);
        ia_upchat_answer a;
        ia_upchat_answer_init(&a);
        a.on_delta = on_delta;
        a.ud = &s;
        ia_err err = {0};
        int rc = feed_split(&a, text, len, at, &err);
        bool ok = rc == 0 && a.done && !a.error && !s.bad_utf8 && s.n == 4 && a.n_deltas == 4 &&
                  a.n_reasoning_deltas == 2 && strcmp(s.r.data, "Let me think \xc3\xa9.") == 0 &&
                  strcmp(a.reasoning.data, s.r.data) == 0 && strcmp(s.c.data, "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.") == 0 &&
                  strcmp(a.content.data, s.c.data) == 0 && a.n_calls == 2 && strcmp(a.calls[0].id, "call_a") == 0 &&
                  strcmp(a.calls[0].name, "f") == 0 && strcmp(a.calls[0].args.data, "{\"a\":1}") == 0 &&
                  strcmp(a.calls[1].name, "g") == 0 && strcmp(a.calls[1].args.data, "{\"x\":2}") == 0 &&
                  strcmp(a.finish, "tool_calls") == 0 && a.has_usage && a.prompt == 30 && a.completion == 9 &&
                  a.cached == 12;
        if (!ok) fprintf(stderr, "  split at %zu: rc %d (%s)\n", at, rc, err.msg);
        ia_upchat_answer_free(&a);
        ia_buf_free(&s.r);
        ia_buf_free(&s.c);
        IA_CHECK(ok);
    }
}

IA_TEST(upchat_sse_every_split) { check_stream(ia_failed_, STREAM, sizeof STREAM - 1); }

IA_TEST(upchat_sse_crlf_and_byte_by_byte) {
    /* the same stream with CRLF line ends (and one bare CR), fed a byte at a time */
    ia_buf b;
    ia_buf_init(&b, 0);
    int k = 0;
    for (const char *p = STREAM; *p; p++)
        if (*p == '\n') ia_buf_puts(&b, k++ == 3 ? "\r" : "\r\n");
        else ia_buf_append(&b, p, 1);
    seen s = {0};
    ia_buf_init(&s.r, 0);
    ia_buf_init(&s.c, 0);
    ia_upchat_answer a;
    ia_upchat_answer_init(&a);
    a.on_delta = on_delta;
    a.ud = &s;
    ia_err err = {0};
    int rc = 0;
    for (size_t i = 0; i < b.len && rc == 0; i++) rc = ia_upchat_feed(&a, b.data + i, 1, "up", &err);
    if (rc == 0) rc = ia_upchat_end(&a, "up", &err);
    bool ok = rc == 0 && a.done && a.n_calls == 2 && a.cached == 12 && strcmp(s.c.data, a.content.data) == 0 &&
              strcmp(a.content.data, "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.") == 0;
    ia_upchat_answer_free(&a);
    ia_buf_free(&s.r);
    ia_buf_free(&s.c);
    ia_buf_free(&b);
    IA_CHECK(ok);
}

static int parse_all(const char *text, ia_upchat_answer *a, ia_err *err) {
    ia_upchat_answer_init(a);
    int rc = ia_upchat_feed(a, text, strlen(text), "up", err);
    return rc == 0 ? ia_upchat_end(a, "up", err) : rc;
}

IA_TEST(upchat_sse_error_chunk_and_end_without_blank_line) {
    ia_upchat_answer a;
    ia_err err = {0};
    IA_CHECK(parse_all("data: {\"choices\":[{\"delta\":{\"content\":\"Hal\"}}]}\n\n"
                       "data: {\"error\":{\"code\":500,\"message\":\"decode\\nfailed\",\"type\":\"server_error\"}}\n\n"
                       "data: {\"choices\":[{\"delta\":{\"content\":\"more\"}}]}\n\n",
                       &a, &err) == 0);
    IA_CHECK_STREQ(a.error, "decode failed");
    IA_CHECK_STREQ(a.content.data, "Hal");
    ia_upchat_answer_free(&a);
    /* the last event without its blank line still counts; a finish without [DONE] */
    IA_CHECK(parse_all("data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}", &a, &err) == 0);
    IA_CHECK_STREQ(a.content.data, "x");
    IA_CHECK_STREQ(a.finish, "length");
    IA_CHECK(!a.done);
    ia_upchat_answer_free(&a);
    /* older vLLM's error event; Ollama's `reasoning` */
    IA_CHECK(parse_all("data: {\"object\":\"error\",\"message\":\"bad schema\",\"code\":400}\n\n", &a, &err) == 0);
    IA_CHECK_STREQ(a.error, "bad schema");
    ia_upchat_answer_free(&a);
    IA_CHECK(parse_all("data: {\"choices\":[{\"delta\":{\"reasoning\":\"hm\"}}]}\n\ndata: [DONE]\n\n", &a, &err) == 0);
    IA_CHECK_STREQ(a.reasoning.data, "hm");
    IA_CHECK(a.done && a.n_reasoning_deltas == 1);
    ia_upchat_answer_free(&a);
    /* a NUL in a delta is dropped */
    IA_CHECK(parse_all("data: {\"choices\":[{\"delta\":{\"content\":\"a\\u0000b\"}}]}\n\n", &a, &err) == 0);
    IA_CHECK(a.content.len == 2 && memcmp(a.content.data, "ab", 2) == 0);
    ia_upchat_answer_free(&a);
}

IA_TEST(upchat_whole_json_answer) {
    ia_upchat_answer a;
    ia_err err = {0};
    IA_CHECK(parse_all("{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
                       "{\"role\":\"assistant\",\"content\":\"Hi.\",\"reasoning_content\":\"r\",\"tool_calls\":"
                       "[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                       "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,"
                       "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}",
                       &a, &err) == 0);
    IA_CHECK(a.done);
    IA_CHECK_STREQ(a.content.data, "Hi.");
    IA_CHECK_STREQ(a.reasoning.data, "r");
    IA_CHECK(a.n_calls == 1 && strcmp(a.calls[0].name, "f") == 0 && strcmp(a.calls[0].args.data, "{}") == 0);
    IA_CHECK(a.prompt == 3 && a.completion == 2 && a.reasoning_tokens == 1 && a.cached == 0);
    ia_upchat_answer_free(&a);
}

IA_TEST(upchat_sse_malformed) {
    const char *bad[] = {
        "data: {not json\n\n",
        "data: [1,2]\n\n",
        "data: {\"choices\":{}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":5}}]}\n\n",
        "data: {\"choices\":[{\"delta\":\"x\"}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":100000}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":7}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":{}}}]}\n\n",
        "{\"choices\": [",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ia_upchat_answer a;
        ia_err err = {0};
        int rc = parse_all(bad[i], &a, &err);
        ia_upchat_answer_free(&a);
        if (rc != -1 || err.code != IA_EUPSTREAM || !strstr(err.msg, "upstream 'up'"))
            fprintf(stderr, "  case %zu: rc %d %s\n", i, rc, err.msg);
        IA_CHECK(rc == -1 && err.code == IA_EUPSTREAM);
        IA_CHECK_CONTAINS(err.msg, "upstream 'up'");
    }
}

static int stop_at_second(void *ud, bool reasoning, const char *p, size_t n) {
    (void)reasoning, (void)p, (void)n;
    return ++*(int *)ud == 2;
}

IA_TEST(upchat_sse_delta_callback_stops) {
    int n = 0;
    ia_upchat_answer a;
    ia_upchat_answer_init(&a);
    a.on_delta = stop_at_second;
    a.ud = &n;
    ia_err err = {0};
    int rc = ia_upchat_feed(&a, STREAM, sizeof STREAM - 1, "up", &err);
    ia_upchat_answer_free(&a);
    IA_CHECK(rc == 1 && n == 2);
}

IA_TEST(upchat_spec_api_chat) {
    ia_upstream u;
    ia_err err = {0};
    IA_CHECK(ia_upstream_parse("llama=http://10.0.0.5:8080/,api=chat,model=qwen,timeout=30", &u, &err) == 0);
    IA_CHECK(u.kind == IA_UPSTREAM_CHAT && u.api == IA_UPSTREAM_CHAT_API && u.timeout_s == 30);
    IA_CHECK_STREQ(u.url, "http://10.0.0.5:8080");
    char *d = ia_upstream_describe(&u);
    IA_CHECK_CONTAINS(d, "(chat, api chat, model qwen");
    free(d);
    ia_upstream_clear(&u);
    IA_CHECK(ia_upstream_parse("llama=http://h,api=chat,voice=x", &u, &err) == -1);
    IA_CHECK_CONTAINS(err.msg, "voice= is for a speech engine");
    IA_CHECK(ia_upstream_parse("llama=http://h,api=chatty", &u, &err) == -1);
    IA_CHECK_CONTAINS(err.msg, "or chat (OpenAI's /v1/chat/completions");
    /* a chat model asked for image output: a 400 that says it answers in text */
    ia_upstreams r = {0};
    IA_CHECK(ia_upstreams_add(&r, "llama=http://h,api=chat", &err) == 0);
    ia_request req = {.model = "llama", .modalities = IA_MOD_BIT_IMAGE};
    IA_CHECK(ia_upstream_check_outputs(&r, &req, &err) == -1);
    IA_CHECK_CONTAINS(err.msg, "is an upstream chat engine");
    ia_upstreams_free(&r);
}
