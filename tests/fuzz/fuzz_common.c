/* fuzz_common: the helpers of fuzz.h, and the decode targets' shared oracle
 * (the legacy and steps create decoders accept different bodies but promise
 * the same things about what they return). */
#include "fuzz.h"

#include <ctype.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/types.h"
#include "lib/b64.h"
#include "lib/util.h"
#include "store/store.h"

void fuzz_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", file, line, what);
    abort();
}

char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = ia_xmalloc(size + 1);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

bool fuzz_is_json(const char *s) {
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
    json_decref(j);
    return j != NULL;
}

static FILE *g_saved_stderr, *g_capture;
static char *g_captured;
static size_t g_captured_len;

void fuzz_stderr_begin(void) {
    g_capture = open_memstream(&g_captured, &g_captured_len);
    if (!g_capture) return;
    g_saved_stderr = stderr;
    stderr = g_capture;
}

bool fuzz_stderr_end_warned(void) {
    if (!g_capture) return false;
    stderr = g_saved_stderr;
    fclose(g_capture);
    g_capture = NULL;
    bool warned = g_captured && strstr(g_captured, "JSON schema conversion was incomplete") != NULL;
    if (warned) fputs(g_captured, stderr);
    free(g_captured);
    g_captured = NULL;
    return warned;
}

/* conv -> stored text -> conv -> stored text: the same text both times. */
static void check_conv_roundtrip(const ia_conv *c) {
    char *a = ia_codec_conv_encode(c);
    FUZZ_CHECK(a != NULL);
    ia_conv back;
    FUZZ_CHECK(ia_codec_conv_decode(a, &back) == 0);
    FUZZ_CHECK(back.n == c->n);
    char *b = ia_codec_conv_encode(&back);
    FUZZ_CHECK(b != NULL && strcmp(a, b) == 0);
    free(a);
    free(b);
    ia_conv_free(&back);
}

static void check_gen_roundtrip(const ia_gen_config *g) {
    char *a = ia_codec_gen_encode(g);
    FUZZ_CHECK((a != NULL) == ia_gen_config_is_set(g));
    ia_gen_config back;
    FUZZ_CHECK(ia_codec_gen_decode(a, &back) == 0);
    char *b = ia_codec_gen_encode(&back);
    FUZZ_CHECK((a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0));
    free(a);
    free(b);
    ia_gen_config_free(&back);
}

static bool same_str(const char *a, const char *b) {
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* response_format as given -> stored text -> back: the same fields, and the
 * same text again. */
static void check_rformat_roundtrip(const ia_rformat *f) {
    char *a = ia_codec_rformat_encode(f);
    FUZZ_CHECK((a != NULL) == (f->shape != IA_RFORMAT_NONE));
    ia_rformat back;
    FUZZ_CHECK(ia_codec_rformat_decode(a, &back) == 0);
    FUZZ_CHECK(back.shape == f->shape);
    FUZZ_CHECK(same_str(back.mime_type, f->mime_type) && same_str(back.schema, f->schema));
    char *b = ia_codec_rformat_encode(&back);
    FUZZ_CHECK(same_str(a, b));
    free(a);
    free(b);
    ia_rformat_free(&back);
}

/* A string field of an image format in its canonical spelling (image_size
 * read in any case, "2k" -> "2K"; a MIME type in lower case). */
static void canonical_case(json_t *entry, const char *key, int (*conv)(int)) {
    json_t *v = json_object_get(entry, key);
    if (!json_is_string(v)) return;
    char *s = ia_strdup(json_string_value(v));
    for (char *p = s; *p; p++) *p = (char)conv((unsigned char)*p);
    json_object_set_new(entry, key, json_string(s));
    free(s);
}

/* What the steps dialect must echo for the request's response_format: the
 * field as sent, less the JSON nulls in a typed format's entries (a null
 * is "not set"), an image format's settings in their canonical spelling;
 * NULL when nothing is to be echoed. */
static json_t *expected_rformat_echo(const char *body, size_t len) {
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    json_t *rf = json_object_get(root, "response_format");
    json_t *want = rf && !json_is_null(rf) ? json_deep_copy(rf) : NULL;
    json_decref(root);
    size_t n = json_is_array(want) ? json_array_size(want) : 1;
    for (size_t i = 0; want && i < n; i++) {
        json_t *entry = json_is_array(want) ? json_array_get(want, i) : want;
        json_t *type = json_object_get(entry, "type");
        bool image = json_is_string(type) && strcmp(json_string_value(type), "image") == 0;
        if (!json_is_string(type) || (strcmp(json_string_value(type), "text") != 0 && !image)) continue;
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(entry, tmp, key, v) {
            if (json_is_null(v)) json_object_del(entry, key);
        }
        if (image) {
            canonical_case(entry, "image_size", toupper);
            canonical_case(entry, "mime_type", tolower);
        }
    }
    return want;
}

/* The steps dialect echoes response_format as sent (a fetched or created
 * resource alike); the legacy dialect never does. */
static void check_rformat_echo(const char *encoded, ia_dialect d, const json_t *want) {
    json_t *o = json_loads(encoded, 0, NULL);
    FUZZ_CHECK(o != NULL);
    json_t *got = json_object_get(o, "response_format");
    if (d == IA_DIALECT_LEGACY) FUZZ_CHECK(got == NULL);
    else FUZZ_CHECK((got == NULL && want == NULL) || (got && want && json_equal(got, want)));
    json_decref(o);
}

/* An interaction as core would store it for this request, encoded; want:
 * the response_format echo expected (expected_rformat_echo). */
static void check_encodes(const ia_request *r, const json_t *want) {
    ia_interaction it;
    memset(&it, 0, sizeof it);
    char own[24] = "AAAAAAAAAAAAAAAAAAAAAAA";
    ia_id_format(NULL, own, it.id);
    it.model = ia_strdup(r->model);
    it.system_instruction = ia_strdup(r->system_instruction);
    it.previous_id = ia_strdup(r->previous_interaction_id);
    it.created = it.updated = 1767000000;
    ia_conv_append_copy(&it.input, &r->input);
    ia_gen_config_copy(&it.gen, &r->gen);
    ia_rformat_copy(&it.rformat, &r->rformat); /* as core keeps it, for the steps echo */
    /* the model answers with the user's first turn, as if echoing it */
    if (r->input.n) ia_turn_copy(&it.output, &r->input.turns[0]);
    it.output.role = IA_ROLE_MODEL;
    for (int status = IA_STATUS_IN_PROGRESS; status <= IA_STATUS_COMPLETED; status++) {
        it.status = (ia_status)status;
        for (int d = IA_DIALECT_LEGACY; d <= IA_DIALECT_STEPS; d++) {
            char *a = ia_api_encode_interaction(&it, true, (ia_dialect)d);
            char *b = ia_api_encode_fetched(&it, true, (ia_dialect)d);
            FUZZ_CHECK(fuzz_is_json(a));
            FUZZ_CHECK(fuzz_is_json(b));
            check_rformat_echo(a, (ia_dialect)d, want);
            check_rformat_echo(b, (ia_dialect)d, want);
            free(a);
            free(b);
        }
    }
    ia_interaction_free(&it);
}

void fuzz_decode_create(const uint8_t *body, size_t len, ia_dialect d) {
    ia_request r;
    ia_err err;
    memset(&err, 0, sizeof err);
    /* As a server with speech would: requests with speech_config then
     * decode whole, through the codec and the echo below. */
    ia_api_serve_outputs(IA_MOD_BIT_AUDIO);
    fuzz_stderr_begin();
    int rc = ia_api_decode_create_dialect((const char *)body, len, d, &r, &err);
    bool warned = fuzz_stderr_end_warned();
    /* an accepted response_format or tool schema the converter only partly
     * turned into grammar */
    FUZZ_CHECK(rc != 0 || !warned);
    if (rc != 0) {
        FUZZ_CHECK(err.code == IA_EINVALID || err.code == IA_EUNIMPLEMENTED);
        FUZZ_CHECK(err.msg[0] != '\0');
        char *e = ia_api_encode_error(&err);
        FUZZ_CHECK(fuzz_is_json(e));
        free(e);
        ia_request_free(&r);
        return;
    }
    FUZZ_CHECK((r.model != NULL) != (r.agent != NULL)); /* a model, or an agent (custom ones by id) */
    FUZZ_CHECK(r.input.n > 0);
    FUZZ_CHECK((r.response_format == NULL) == (r.grammar == NULL));
    if (r.response_format) FUZZ_CHECK(fuzz_is_json(r.response_format));
    for (size_t i = 0; i < r.n_tools; i++) {
        FUZZ_CHECK(r.tools[i].name && r.tools[i].name[0]);
        if (r.tools[i].parameters) FUZZ_CHECK(fuzz_is_json(r.tools[i].parameters));
    }
    for (size_t t = 0; t < r.input.n; t++)
        for (size_t i = 0; i < r.input.turns[t].n; i++) {
            const ia_content *c = &r.input.turns[t].items[i];
            if (ia_content_is_media(c->kind)) {
                /* data or uri, exactly one; data is base64 (api/media.c) */
                FUZZ_CHECK((c->text == NULL) != (c->uri == NULL));
                if (c->text) FUZZ_CHECK(ia_b64_decode(c->text, strlen(c->text), NULL, NULL, NULL) == 0);
                if (c->uri) FUZZ_CHECK(c->uri[0] && ia_utf8_valid(c->uri, strlen(c->uri)));
                FUZZ_CHECK(c->fetched == NULL && c->parts == NULL);
                continue;
            }
            FUZZ_CHECK(c->text != NULL);
            FUZZ_CHECK(ia_utf8_valid(c->text, strlen(c->text)));
            if (c->kind == IA_CONTENT_FUNCTION_CALL || c->kind == IA_CONTENT_FUNCTION_RESULT ||
                c->kind == IA_CONTENT_TOOL_CALL || c->kind == IA_CONTENT_TOOL_RESULT)
                FUZZ_CHECK(fuzz_is_json(c->text));
            if (c->kind == IA_CONTENT_TOOL_CALL || c->kind == IA_CONTENT_TOOL_RESULT)
                FUZZ_CHECK(ia_builtin_name(c->tool) != NULL && c->id && c->id[0]);
        }
    check_conv_roundtrip(&r.input);
    check_gen_roundtrip(&r.gen);
    check_rformat_roundtrip(&r.rformat);
    json_t *want = expected_rformat_echo((const char *)body, len);
    check_encodes(&r, want);
    json_decref(want);
    ia_request_free(&r);
}
