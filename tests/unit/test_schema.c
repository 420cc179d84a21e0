/* test_schema: structured output. The keyword check (schema.c) accepts what
 * the grammar enforces and refuses, naming it, what the grammar would drop;
 * the validator (validate.c) tells valid from invalid instances; and a
 * corpus of schemas — every accepted keyword, the guide's moderation schema
 * as Pydantic and zod 4 emit it, nested $ref — is sampled on the demo model
 * (random weights) under the grammar built by llama.cpp's converter, and
 * every output must parse and validate. */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/engine.h"
#include "lib/util.h"
#include "schema/schema.h"
#include "unit.h"

const char *ia_test_demo_model(void);

/* ---- sampling through the engine ------------------------------------------ */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    ia_buf text;
    ia_engine_result res;
} sink;

static int s_item(void *ud, const ia_engine_item *it) {
    if (it->kind == IA_ITEM_TEXT) ia_buf_append(&((sink *)ud)->text, it->delta, it->len);
    return 0;
}

static void s_done(void *ud, const ia_engine_result *r) {
    sink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->res = *r;
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Samples one output under grammar; returns the text (malloc'd) or NULL. */
static char *sample(ia_engine *e, const char *grammar, uint64_t seed, int64_t max_tokens,
                    ia_engine_result *res) {
    sink s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    ia_buf_init(&s.text, 0);
    ia_engine_msg m[] = {{.role = IA_MSG_USER, .text = "Answer in JSON."}};
    ia_engine_params p = {.has_seed = true, .seed = seed, .max_tokens = max_tokens, .grammar = grammar};
    ia_engine_cb cb = {.ud = &s, .on_item = s_item, .on_done = s_done};
    ia_err err = {0};
    char *out = NULL;
    if (ia_engine_submit(e, m, 1, &p, &cb, NULL, &err) == 0) {
        pthread_mutex_lock(&s.mu);
        while (!s.done) pthread_cond_wait(&s.cv, &s.mu);
        pthread_mutex_unlock(&s.mu);
        *res = s.res;
        out = ia_buf_take(&s.text);
        if (!out) out = ia_strdup("");
    }
    ia_buf_free(&s.text);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    return out;
}

static ia_engine *load_demo(void) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = "demo", .path = ia_test_demo_model()};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load: %s\n", err.msg);
    return e;
}

/* ---- the corpus ------------------------------------------------------------ */

/* The guide's moderation schema as Pydantic's model_json_schema() writes it
 * (Union of two models -> anyOf of $refs into $defs; Literal -> enum). */
#define PYDANTIC_MODERATION                                                                      \
    "{\"$defs\":{\"NotSpamDetails\":{\"properties\":{\"summary\":{\"description\":\"A brief "     \
    "summary of the content.\",\"title\":\"Summary\",\"type\":\"string\"},\"is_safe\":{"           \
    "\"description\":\"Whether the content is safe for all audiences.\",\"title\":\"Is Safe\","    \
    "\"type\":\"boolean\"}},\"required\":[\"summary\",\"is_safe\"],\"title\":\"NotSpamDetails\","  \
    "\"type\":\"object\"},\"SpamDetails\":{\"properties\":{\"reason\":{\"description\":\"The "      \
    "reason why the content is considered spam.\",\"title\":\"Reason\",\"type\":\"string\"},"     \
    "\"spam_type\":{\"enum\":[\"phishing\",\"scam\",\"unsolicited promotion\",\"other\"],"         \
    "\"title\":\"Spam Type\",\"type\":\"string\"}},\"required\":[\"reason\",\"spam_type\"],"      \
    "\"title\":\"SpamDetails\",\"type\":\"object\"}},\"properties\":{\"decision\":{\"anyOf\":[{"   \
    "\"$ref\":\"#/$defs/SpamDetails\"},{\"$ref\":\"#/$defs/NotSpamDetails\"}],\"title\":"         \
    "\"Decision\"}},\"required\":[\"decision\"],\"title\":\"ModerationResult\",\"type\":\"object\"}"

/* ... and as zod 4's z.toJSONSchema() writes it (draft 2020-12, closed
 * objects, descriptions kept). */
#define ZOD_MODERATION                                                                           \
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","          \
    "\"properties\":{\"decision\":{\"anyOf\":[{\"description\":\"Details for content classified " \
    "as spam.\",\"type\":\"object\",\"properties\":{\"reason\":{\"description\":\"The reason why " \
    "the content is considered spam.\",\"type\":\"string\"},\"spam_type\":{\"description\":\"The " \
    "type of spam.\",\"type\":\"string\",\"enum\":[\"phishing\",\"scam\",\"unsolicited "           \
    "promotion\",\"other\"]}},\"required\":[\"reason\",\"spam_type\"],\"additionalProperties\":"   \
    "false},{\"description\":\"Details for content classified as not spam.\",\"type\":\"object\"," \
    "\"properties\":{\"summary\":{\"description\":\"A brief summary of the content.\",\"type\":"   \
    "\"string\"},\"is_safe\":{\"description\":\"Whether the content is safe for all audiences.\"," \
    "\"type\":\"boolean\"}},\"required\":[\"summary\",\"is_safe\"],\"additionalProperties\":"      \
    "false}]}},\"required\":[\"decision\"],\"additionalProperties\":false}"

static const char *const CORPUS[] = {
    /* primitives */
    "{\"type\":\"string\"}",
    "{\"type\":\"integer\"}",
    "{\"type\":\"number\"}",
    "{\"type\":\"boolean\"}",
    "{\"type\":\"null\"}",
    "{\"type\":\"object\"}",
    "{\"type\":\"array\"}",
    "{}",
    /* object */
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}",
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"boolean\"}},\"required\":[\"a\"]}",
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"}},\"required\":[\"a\"],\"additionalProperties\":false}",
    "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"],\"additionalProperties\":{\"type\":\"boolean\"}}",
    "{\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}",
    "{\"type\":\"object\",\"properties\":{\"inner\":{\"type\":\"object\",\"properties\":{\"deep\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"null\"}},\"required\":[\"v\"]}},\"required\":[\"deep\"]}},\"required\":[\"inner\"]}",
    /* array */
    "{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}",
    "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":2,\"maxItems\":3}",
    "{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"minItems\":4}",
    "{\"type\":\"array\",\"items\":{\"type\":\"number\"},\"maxItems\":1}",
    "{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"},{\"type\":\"boolean\"}]}",
    "{\"type\":\"array\",\"items\":[{\"type\":\"null\"},{\"type\":\"number\"}]}",
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"k\":{\"type\":\"string\"}},\"required\":[\"k\"]},\"minItems\":1,\"maxItems\":2}",
    /* string */
    "{\"type\":\"string\",\"enum\":[\"red\",\"green\",\"blue\"]}",
    "{\"enum\":[1,\"two\",null,true]}",
    "{\"const\":\"fixed\"}",
    "{\"type\":\"object\",\"properties\":{\"v\":{\"const\":42}},\"required\":[\"v\"]}",
    "{\"type\":\"string\",\"minLength\":3,\"maxLength\":5}",
    "{\"type\":\"string\",\"maxLength\":2}",
    "{\"type\":\"string\",\"format\":\"date\"}",
    "{\"type\":\"string\",\"format\":\"date-time\"}",
    "{\"type\":\"string\",\"format\":\"time\"}",
    "{\"type\":\"string\",\"format\":\"uuid\"}",
    "{\"type\":\"string\",\"format\":\"email\"}",
    "{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}-\\\\d{3}$\"}",
    "{\"type\":\"string\",\"pattern\":\"^(cat|dog)s?$\"}",
    "{\"type\":\"string\",\"pattern\":\"^(?:ab)+c*\\\\.x$\"}",
    /* integer bounds */
    "{\"type\":\"integer\",\"minimum\":10,\"maximum\":20}",
    "{\"type\":\"integer\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":5}",
    "{\"type\":\"integer\",\"minimum\":-3}",
    "{\"type\":\"integer\",\"maximum\":7}",
    /* nullable, unions */
    "{\"type\":[\"string\",\"null\"]}",
    "{\"type\":[\"integer\",\"string\"],\"minimum\":1,\"maximum\":3,\"maxLength\":2}",
    "{\"type\":\"object\",\"properties\":{\"n\":{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}]}},\"required\":[\"n\"]}",
    "{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"a\"},\"x\":{\"type\":\"integer\"}},\"required\":[\"kind\",\"x\"]},{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"b\"},\"y\":{\"type\":\"string\"}},\"required\":[\"kind\",\"y\"]}]}",
    "{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}},{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"string\"}}}]}",
    /* $ref / $defs */
    "{\"$defs\":{\"P\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"},\"y\":{\"type\":\"number\"}},\"required\":[\"x\",\"y\"]}},\"type\":\"object\",\"properties\":{\"from\":{\"$ref\":\"#/$defs/P\"},\"to\":{\"$ref\":\"#/$defs/P\"}},\"required\":[\"from\",\"to\"]}",
    "{\"definitions\":{\"Leaf\":{\"type\":\"string\",\"maxLength\":4},\"Node\":{\"type\":\"object\",\"properties\":{\"leaf\":{\"$ref\":\"#/definitions/Leaf\"}},\"required\":[\"leaf\"]}},\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/Node\"},\"maxItems\":3}",
    "{\"$defs\":{\"A\":{\"type\":\"object\",\"properties\":{\"b\":{\"$ref\":\"#/$defs/B\"}},\"required\":[\"b\"]},\"B\":{\"type\":\"object\",\"properties\":{\"c\":{\"$ref\":\"#/$defs/C\"}},\"required\":[\"c\"]},\"C\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9}},\"$ref\":\"#/$defs/A\"}",
    /* the guide's schemas */
    PYDANTIC_MODERATION,
    ZOD_MODERATION,
    "{\"type\":\"object\",\"properties\":{\"decision\":{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":\"string\",\"description\":\"The reason why the content is considered spam.\"},\"spam_type\":{\"type\":\"string\",\"description\":\"The type of spam.\"}},\"required\":[\"reason\",\"spam_type\"]}},\"required\":[\"decision\"]}",
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\",\"properties\":{\"winning_team\":{\"type\":\"string\"},\"score\":{\"type\":\"string\"}},\"required\":[\"winning_team\",\"score\"],\"additionalProperties\":false}",
};
#define N_CORPUS (sizeof CORPUS / sizeof *CORPUS)

static json_t *parse(const char *s) {
    json_error_t e;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
    if (!j) fprintf(stderr, "  bad JSON in test: %s: %s\n", s, e.text);
    return j;
}

IA_TEST(schema_corpus_sampled_outputs_validate) {
    IA_CHECK(N_CORPUS >= 40);
    ia_engine *e = load_demo();
    IA_CHECK(e != NULL);
    int bad = 0, samples = 0;
    int64_t tokens = 0;
    for (size_t i = 0; i < N_CORPUS && !bad; i++) {
        json_t *sch = parse(CORPUS[i]);
        ia_err err = {0};
        json_t *prep = sch ? ia_schema_prepare(sch, "response_format", &err) : NULL;
        char *g = prep ? ia_schema_grammar(prep, "response_format", &err) : NULL;
        if (!g) {
            fprintf(stderr, "  corpus[%zu] refused: %s\n", i, err.msg);
            bad = 1;
        }
        for (uint64_t seed = 1; g && seed <= 4 && !bad; seed++) {
            ia_engine_result r = {0};
            char *t = sample(e, g, seed * 7919 + i, 3000, &r);
            json_t *inst = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
            char why[256] = "";
            samples++;
            tokens += r.n_output;
            if (!t || r.finish != IA_FINISH_STOP || !inst ||
                !ia_schema_validate(prep, inst, why, sizeof why)) {
                fprintf(stderr, "  corpus[%zu] seed %llu (finish %d): %.400s\n    %s\n", i,
                        (unsigned long long)seed, r.finish, t ? t : "(none)", inst ? why : "does not parse");
                bad = 1;
            }
            json_decref(inst);
            free(t);
        }
        free(g);
        json_decref(prep);
        json_decref(sch);
    }
    ia_engine_free(e);
    IA_CHECK(!bad);
    IA_CHECK(samples == (int)N_CORPUS * 4);
    IA_CHECK(tokens > samples); /* the outputs were really generated */
}

/* ---- what is refused, and why ------------------------------------------------ */

static const struct {
    const char *schema, *msg;
} REFUSED[] = {
    {"{\"type\":\"number\",\"minimum\":0}", "response_format: schema keyword 'minimum' is not supported for a number"},
    {"{\"type\":\"integer\",\"multipleOf\":2}", "'multipleOf' is not supported"},
    {"{\"type\":\"integer\",\"minimum\":1.5}", "response_format.minimum: expected an integer"},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"maximum\":3,\"exclusiveMaximum\":4}}}",
     "response_format.properties.a: schema keyword 'exclusiveMaximum'"},
    {"{\"type\":\"string\",\"minLength\":1,\"pattern\":\"^a+$\"}", "'minLength' is not supported next to 'pattern'"},
    {"{\"type\":\"string\",\"format\":\"date\",\"maxLength\":3}", "'maxLength' is not supported next to 'format'"},
    {"{\"type\":\"string\",\"format\":\"uri\"}", "format 'uri' is not supported"},
    {"{\"type\":\"string\",\"pattern\":\"^(?=a)b$\"}", "lookarounds"},
    {"{\"type\":\"string\",\"pattern\":\"abc\"}", "anchored"},
    {"{\"type\":\"string\",\"pattern\":\"^a\\\\bc$\"}", "escapes allowed"},
    {"{\"minLength\":2}", "minLength/maxLength need \"type\": \"string\""},
    {"{\"type\":\"string\",\"nullable\":true}", "'nullable' is not supported (write \"type\": [..., \"null\"] instead)"},
    {"{\"type\":\"strin\"}", "response_format.type: unknown type 'strin'"},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"minProperties\":1}", "'minProperties'"},
    {"{\"type\":\"object\",\"patternProperties\":{\"^x$\":{}}}", "'patternProperties'"},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"b\"]}", "'b' is not among the properties"},
    {"{\"type\":\"object\",\"properties\":{\"a\":true}}", "response_format.properties.a: expected a schema"},
    {"{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true}", "'uniqueItems'"},
    {"{\"type\":\"array\",\"contains\":{\"type\":\"string\"}}", "'contains'"},
    {"{\"type\":\"array\",\"minItems\":1}", "minItems/maxItems need 'items'"},
    {"{\"type\":\"array\",\"prefixItems\":[{}],\"items\":{\"type\":\"string\"}}", "'prefixItems' is not supported next to 'items'"},
    {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"}],\"minItems\":1}", "'minItems' is not supported for a tuple"},
    {"{\"anyOf\":[{\"type\":\"string\"}],\"properties\":{}}", "'properties' is not supported next to 'anyOf'"},
    {"{\"oneOf\":[{\"type\":\"string\"}],\"anyOf\":[{\"type\":\"string\"}]}", "'anyOf' is not supported next to 'oneOf'"},
    {"{\"type\":\"object\",\"anyOf\":[{\"type\":\"object\"}]}", "'type' is not supported next to 'anyOf'"},
    {"{\"allOf\":[{\"type\":\"string\"}]}", "an allOf component must be an object schema"},
    {"{\"not\":{\"type\":\"string\"}}", "'not' is not supported"},
    {"{\"type\":\"string\",\"if\":{},\"then\":{}}", "'if' is not supported"},
    {"{\"$ref\":\"http://example.com/s.json\"}", "only references inside this schema"},
    {"{\"$ref\":\"#/$defs/Missing\"}", "only references inside this schema"},
    {"{\"$defs\":{\"X\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/X\",\"maxLength\":2}", "'maxLength' is not supported next to '$ref'"},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/X\",\"$defs\":{\"X\":{}}}}}", "'$defs' is not supported next to '$ref' below the root"},
    {"{\"$defs\":{\"X\":{\"type\":\"number\",\"maximum\":1}},\"type\":\"string\"}", "response_format.$defs.X: schema keyword 'maximum'"},
    {"{\"type\":\"boolean\",\"format\":\"x\"}", "'format' is not supported for a boolean"},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"contentEncoding\":\"base64\"}}}", "response_format.properties.a: schema keyword 'contentEncoding'"},
};

IA_TEST(schema_refuses_what_the_grammar_would_ignore) {
    for (size_t i = 0; i < sizeof REFUSED / sizeof *REFUSED; i++) {
        json_t *s = parse(REFUSED[i].schema);
        IA_CHECK(s != NULL);
        ia_err err = {0};
        json_t *p = ia_schema_prepare(s, "response_format", &err);
        json_decref(s);
        if (p) fprintf(stderr, "  accepted: %s\n", REFUSED[i].schema);
        json_decref(p);
        IA_CHECK(p == NULL);
        IA_CHECK(err.code == IA_EINVALID);
        IA_CHECK_CONTAINS(err.msg, REFUSED[i].msg);
    }
}

IA_TEST(schema_normalizes_email_and_class_escapes) {
    json_t *s = parse("{\"type\":\"object\",\"properties\":{\"e\":{\"type\":\"string\",\"format\":\"email\"},"
                      "\"p\":{\"type\":\"string\",\"pattern\":\"^\\\\d+[\\\\w.]$\"}}}");
    ia_err err = {0};
    json_t *p = ia_schema_prepare(s, "rf", &err);
    json_decref(s);
    IA_CHECK(p != NULL);
    json_t *props = json_object_get(p, "properties");
    const char *pat = json_string_value(json_object_get(json_object_get(props, "p"), "pattern"));
    int ok = json_object_get(json_object_get(props, "e"), "format") == NULL &&
             json_object_get(json_object_get(props, "e"), "pattern") != NULL && pat &&
             strcmp(pat, "^[0-9]+[a-zA-Z0-9_.]$") == 0;
    json_t *good = parse("{\"e\":\"ann@example.org\",\"p\":\"12x\"}");
    json_t *bad = parse("{\"e\":\"not an email\",\"p\":\"12x\"}");
    char why[200];
    int v1 = ia_schema_validate(p, good, why, sizeof why);
    int v2 = ia_schema_validate(p, bad, why, sizeof why);
    json_decref(good);
    json_decref(bad);
    json_decref(p);
    IA_CHECK(ok);
    IA_CHECK(v1);
    IA_CHECK(!v2);
    IA_CHECK_CONTAINS(why, ".e: does not match");
}

/* ---- the validator tells valid from invalid ------------------------------------ */

static const struct {
    const char *schema, *instance;
    bool valid;
} VALIDATE[] = {
    {PYDANTIC_MODERATION, "{\"decision\":{\"reason\":\"won a cruise\",\"spam_type\":\"scam\"}}", true},
    {PYDANTIC_MODERATION, "{\"decision\":{\"summary\":\"fine\",\"is_safe\":true}}", true},
    {PYDANTIC_MODERATION, "{\"decision\":{\"reason\":\"x\",\"spam_type\":\"bogus\"}}", false},
    {PYDANTIC_MODERATION, "{}", false},
    {ZOD_MODERATION, "{\"decision\":{\"summary\":\"fine\",\"is_safe\":true,\"extra\":1}}", false},
    {"{\"type\":\"string\",\"format\":\"date\"}", "\"2024-02-29\"", true},
    {"{\"type\":\"string\",\"format\":\"date\"}", "\"2024-13-01\"", false},
    {"{\"type\":\"string\",\"format\":\"uuid\"}", "\"123e4567-e89b-12d3-a456-426614174000\"", true},
    {"{\"type\":\"string\",\"format\":\"date-time\"}", "\"2024-01-02T03:04:05Z\"", true},
    {"{\"type\":\"string\",\"format\":\"date-time\"}", "\"2024-01-02 03:04:05\"", false},
    {"{\"type\":\"integer\",\"minimum\":10,\"maximum\":20}", "21", false},
    {"{\"type\":\"integer\",\"exclusiveMinimum\":0}", "0", false},
    {"{\"type\":\"integer\"}", "1.5", false},
    {"{\"type\":\"integer\"}", "2.0", true},
    {"{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":2}", "[\"a\"]", false},
    {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "[\"a\",1]", true},
    {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "[1,\"a\"]", false},
    {"{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}", "\"\xc3\xa9\xc3\xa9\"", true},
    {"{\"type\":\"string\",\"maxLength\":3}", "\"abcd\"", false},
    {"{\"type\":\"string\",\"pattern\":\"^(cat|dog)s?$\"}", "\"dogs\"", true},
    {"{\"type\":\"string\",\"pattern\":\"^(cat|dog)s?$\"}", "\"cow\"", false},
    {"{\"type\":[\"string\",\"null\"]}", "null", true},
    {"{\"type\":[\"string\",\"null\"]}", "3", false},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "1", false},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", "1", true},
    {"{\"allOf\":[{\"properties\":{\"a\":{\"type\":\"integer\"}}},{\"properties\":{\"b\":{\"type\":\"string\"}}}]}", "{\"a\":1,\"b\":2}", false},
    {"{\"const\":42}", "42.0", true},
    {"{\"enum\":[1,\"two\"]}", "\"three\"", false},
    {"{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}", "{\"x\":\"y\"}", false},
};

IA_TEST(schema_validator_accepts_and_rejects) {
    for (size_t i = 0; i < sizeof VALIDATE / sizeof *VALIDATE; i++) {
        json_t *s = parse(VALIDATE[i].schema), *x = parse(VALIDATE[i].instance);
        ia_err err = {0};
        json_t *p = s ? ia_schema_prepare(s, "rf", &err) : NULL;
        char why[256] = "";
        bool got = p && x && ia_schema_validate(p, x, why, sizeof why);
        if (got != VALIDATE[i].valid)
            fprintf(stderr, "  [%zu] %s on %s: got %d (%s%s)\n", i, VALIDATE[i].instance, VALIDATE[i].schema,
                    got, why, p ? "" : err.msg);
        json_decref(s);
        json_decref(x);
        json_decref(p);
        IA_CHECK(got == VALIDATE[i].valid);
        IA_CHECK(got || why[0]); /* a refusal says why */
    }
}

IA_TEST(schema_grammar_is_the_converters_with_bounded_exponents) {
    json_t *s = parse("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"number\"},\"c\":{\"enum\":[\"x\"]}},"
                      "\"required\":[\"n\",\"c\"]}");
    ia_err err = {0};
    json_t *p = ia_schema_prepare(s, "rf", &err);
    char *g = p ? ia_schema_grammar(p, "rf", &err) : NULL;
    json_decref(s);
    json_decref(p);
    IA_CHECK(g != NULL);
    int ok = strstr(g, "root ::= \"{\" space n-kv \",\" space c-kv space \"}\"") != NULL &&
             strstr(g, "[eE] [-+]? [0-9]{1,2}") != NULL && strstr(g, "integral-part)?") == NULL;
    if (!ok) fprintf(stderr, "%s\n", g);
    free(g);
    IA_CHECK(ok);
}

/* Bounds that leave no value are refused before any grammar exists: an
 * inverted repetition would make llama.cpp's grammar parser expand without
 * end, and an empty integer range leaves its sampler no token. */
IA_TEST(schema_refuses_empty_ranges) {
    static const char *const bad[] = {
        "{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}",
        "{\"type\":\"string\",\"pattern\":\"^a{5,2}$\"}",
        "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":3,\"maxItems\":1}",
        "{\"type\":\"integer\",\"minimum\":5,\"maximum\":3}",
        "{\"type\":\"integer\",\"exclusiveMinimum\":3,\"exclusiveMaximum\":4}",
        "{\"type\":\"integer\",\"minimum\":4,\"exclusiveMaximum\":4}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *s = json_loads(bad[i], 0, NULL);
        IA_CHECK(s);
        ia_err err = {0};
        json_t *p = ia_schema_prepare(s, "response_format", &err);
        if (p) fprintf(stderr, "  accepted: %s\n", bad[i]);
        json_decref(p);
        json_decref(s);
        IA_CHECK(p == NULL && err.code == IA_EINVALID);
    }
    static const char *const good[] = {
        "{\"type\":\"integer\",\"exclusiveMinimum\":3,\"exclusiveMaximum\":5}",
        "{\"type\":\"integer\",\"minimum\":4,\"maximum\":4}",
        "{\"type\":\"string\",\"minLength\":2,\"maxLength\":2}",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        json_t *s = json_loads(good[i], 0, NULL);
        ia_err err = {0};
        json_t *p = ia_schema_prepare(s, "response_format", &err);
        if (!p) fprintf(stderr, "  refused: %s: %s\n", good[i], err.msg);
        json_decref(s);
        IA_CHECK(p != NULL);
        json_decref(p);
    }
}

/* A grammar with no value at all (what llama.cpp's converter writes for an
 * empty integer range, built here without our check) makes llama.cpp's
 * sampler throw; the engine fails that one job, and goes on serving. */
IA_TEST(schema_grammar_dead_end_fails_the_job_not_the_process) {
    json_t *s = json_loads("{\"type\":\"integer\",\"minimum\":5,\"maximum\":3}", 0, NULL);
    ia_err err = {0};
    char *g = ia_schema_grammar(s, "response_format", &err);
    json_decref(s);
    IA_CHECK(g != NULL);
    ia_engine *e = load_demo();
    IA_CHECK(e != NULL);
    ia_engine_result res;
    char *out = sample(e, g, 1, 16, &res);
    free(g);
    IA_CHECK(out != NULL);
    free(out);
    IA_CHECK(res.finish == IA_FINISH_ERROR);
    /* The engine still serves. */
    out = sample(e, NULL, 1, 4, &res);
    IA_CHECK(out != NULL && res.finish != IA_FINISH_ERROR);
    free(out);
    ia_engine_free(e);
}

/* The net under the schema check: llama.cpp's own grammar parser, run while
 * the request is decoded, gives its reason and the rule it failed in. */
IA_TEST(schema_grammar_check_names_rule_and_reason) {
    char *why = NULL, *rule = NULL;
    IA_CHECK(ia_chat_grammar_check("root ::= item+\nitem ::= [a-z]{1,8} \" \"\n", &why, &rule) == 0);
    IA_CHECK(why == NULL && rule == NULL);
    int rc = ia_chat_grammar_check("root ::= word\n# a comment\nword ::= \"a\"{3000}\n", &why, &rule);
    IA_CHECK(rc == -1);
    IA_CHECK_STREQ(rule, "word");
    IA_CHECK_CONTAINS(why, "repetitions");
    free(why);
    free(rule);
    rc = ia_chat_grammar_check("word ::= \"a\"\n", &why, &rule);
    IA_CHECK(rc == -1);
    IA_CHECK_CONTAINS(why, "root");
    free(why);
    free(rule);
}

/* An MCP tool's inputSchema as offered (core/loop.c): prepared and its
 * grammar checked; text that is not JSON, or a schema the converter would
 * ignore parts of, is refused with a message naming the path. */
IA_TEST(schema_offer_prepares_or_refuses) {
    ia_err e = {0};
    char *ok = ia_schema_offer("{\"type\":\"object\",\"properties\":{\"m\":{\"type\":\"string\",\"format\":\"email\"}}}",
                               "inputSchema", &e);
    IA_CHECK(ok && strstr(ok, "\"type\":\"object\"") && !strstr(ok, "\"format\":\"email\""));
    free(ok);
    IA_CHECK(ia_schema_offer("{\"type\":", "inputSchema", &e) == NULL && e.code == IA_EINVALID);
    IA_CHECK(strncmp(e.msg, "inputSchema: not a JSON Schema", 30) == 0);
    ia_err_clear(&e);
    IA_CHECK(ia_schema_offer("{\"type\":\"string\",\"contentEncoding\":\"base64\"}", "inputSchema", &e) == NULL);
    IA_CHECK(e.code == IA_EINVALID && strstr(e.msg, "inputSchema"));
    IA_CHECK(ia_schema_offer(NULL, "inputSchema", &e) == NULL);
}
