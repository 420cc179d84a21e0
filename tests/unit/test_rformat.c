/* test_rformat: response_format in every shape SDKs send it (issue 17) — a
 * bare JSON Schema, one typed format, a list of typed formats — in both
 * dialects: what each decodes to (grammar, normalized schema, the field as
 * given), the 400s with their exact messages, the steps dialect's echo, and
 * the field's way through the store codec and a store upgraded from the
 * schema before it. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "store/store.h"
#include "unit.h"

#define BODY(rf) "{\"model\":\"demo\",\"input\":\"x\",\"response_format\":" rf "}"
#define SCHEMA "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"format\":\"email\"}},\"required\":[\"a\"]}"
#define TEXT_JSON "{\"type\":\"text\",\"mime_type\":\"application/json\",\"schema\":" SCHEMA "}"

static int dec(const char *body, ia_dialect d, ia_request *r) {
    ia_err e;
    ia_err_clear(&e);
    int rc = ia_api_decode_create_dialect(body, strlen(body), d, r, &e);
    if (rc != 0) fprintf(stderr, "    body %s\n    failed: %s\n", body, e.msg);
    return rc;
}

/* body fails with code and exactly msg, in both dialects. */
static int fails(const char *body, ia_errcode code, const char *msg) {
    for (int d = 0; d < 2; d++) {
        ia_request r;
        ia_err e;
        ia_err_clear(&e);
        int rc = ia_api_decode_create_dialect(body, strlen(body), (ia_dialect)d, &r, &e);
        int ok = rc == -1 && e.code == code && strcmp(e.msg, msg) == 0;
        if (!ok)
            fprintf(stderr, "    body %s (dialect %d)\n    got rc=%d code=%s msg=\"%s\"\n    expected %s \"%s\"\n", body,
                    d, rc, ia_err_wire_code(e.code), e.msg, ia_err_wire_code(code), msg);
        ok = ok && r.grammar == NULL && r.rformat.shape == IA_RFORMAT_NONE;
        ia_request_free(&r);
        if (!ok) return 0;
    }
    return 1;
}

IA_TEST(rformat_typed_text_json_is_todays_schema) {
    for (int d = 0; d < 2; d++) {
        ia_request bare, one, list;
        IA_CHECK(dec(BODY(SCHEMA), (ia_dialect)d, &bare) == 0);
        IA_CHECK(dec(BODY(TEXT_JSON), (ia_dialect)d, &one) == 0);
        IA_CHECK(dec(BODY("[" TEXT_JSON "]"), (ia_dialect)d, &list) == 0);
        /* the same check, normalization and grammar as the bare schema */
        IA_CHECK(bare.grammar && one.grammar && list.grammar);
        IA_CHECK_STREQ(one.grammar, bare.grammar);
        IA_CHECK_STREQ(list.grammar, bare.grammar);
        IA_CHECK_STREQ(one.response_format, bare.response_format);
        IA_CHECK(strstr(one.response_format, "\"pattern\"")); /* email spelled as a pattern */
        /* and the field as given, for the echo */
        IA_CHECK(bare.rformat.shape == IA_RFORMAT_SCHEMA && !bare.rformat.mime_type);
        IA_CHECK_STREQ(bare.rformat.schema, SCHEMA);
        IA_CHECK(one.rformat.shape == IA_RFORMAT_TEXT && list.rformat.shape == IA_RFORMAT_TEXT_LIST);
        IA_CHECK_STREQ(one.rformat.mime_type, "application/json");
        IA_CHECK_STREQ(one.rformat.schema, SCHEMA); /* not the normalized one */
        ia_request_free(&bare);
        ia_request_free(&one);
        ia_request_free(&list);
    }
}

IA_TEST(rformat_text_forms_without_schema) {
    ia_request r;
    /* text/plain, or no mime type, and no schema: plain text */
    IA_CHECK(dec(BODY("{\"type\":\"text\",\"mime_type\":\"text/plain\"}"), IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.grammar == NULL && r.rformat.shape == IA_RFORMAT_TEXT && !r.rformat.schema);
    IA_CHECK_STREQ(r.rformat.mime_type, "text/plain");
    ia_request_free(&r);
    IA_CHECK(dec(BODY("[{\"type\":\"text\",\"mime_type\":null,\"schema\":null}]"), IA_DIALECT_LEGACY, &r) == 0);
    IA_CHECK(r.grammar == NULL && r.rformat.shape == IA_RFORMAT_TEXT_LIST && !r.rformat.mime_type);
    ia_request_free(&r);
    /* application/json without a schema: any JSON object */
    IA_CHECK(dec(BODY("{\"type\":\"text\",\"mime_type\":\"application/json\"}"), IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.grammar && strstr(r.grammar, "root ::= object"));
    ia_request_free(&r);
    /* a schema without a mime type: JSON implied, as for the bare schema */
    IA_CHECK(dec(BODY("{\"type\":\"text\",\"schema\":{\"type\":\"integer\"}}"), IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.grammar != NULL);
    ia_request_free(&r);
    /* the deprecated top-level response_mime_type may say it instead */
    IA_CHECK(dec("{\"model\":\"demo\",\"input\":\"x\",\"response_mime_type\":\"application/json\","
                 "\"response_format\":{\"type\":\"text\"}}", IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.grammar && strstr(r.grammar, "root ::= object"));
    ia_request_free(&r);
    /* a JSON Schema whose type is a list of types is still a schema */
    IA_CHECK(dec(BODY("{\"type\":[\"string\",\"null\"]}"), IA_DIALECT_LEGACY, &r) == 0);
    IA_CHECK(r.grammar && r.rformat.shape == IA_RFORMAT_SCHEMA);
    ia_request_free(&r);
}

IA_TEST(rformat_conflicts_name_the_entry) {
    IA_CHECK(fails(BODY("[" TEXT_JSON ",{\"type\":\"text\"}]"), IA_EINVALID,
                   "response_format[1]: a second 'text' format (response_format[0] is one already); give one "
                   "format per output type"));
    IA_CHECK(fails(BODY("{\"type\":\"text\",\"mime_type\":\"text/plain\",\"schema\":{\"type\":\"string\"}}"), IA_EINVALID,
                   "response_format.schema: a JSON Schema asks for JSON, but mime_type is 'text/plain'; set it to "
                   "'application/json', or leave the schema out for plain text"));
    IA_CHECK(fails("{\"model\":\"demo\",\"input\":\"x\",\"response_mime_type\":\"text/plain\","
                   "\"response_format\":[{\"type\":\"text\",\"schema\":{\"type\":\"string\"}}]}", IA_EINVALID,
                   "response_format[0].schema: a JSON Schema asks for JSON, but response_mime_type is 'text/plain'; "
                   "set it to 'application/json', or leave the schema out for plain text"));
    IA_CHECK(fails("{\"model\":\"demo\",\"input\":\"x\",\"response_mime_type\":\"text/plain\",\"response_format\":["
                   TEXT_JSON "]}", IA_EINVALID,
                   "response_mime_type: 'text/plain' contradicts response_format[0].mime_type 'application/json'; "
                   "give the MIME type once, in the format"));
    IA_CHECK(fails(BODY("{\"type\":\"text\",\"mime_type\":\"text/csv\"}"), IA_EUNIMPLEMENTED,
                   "response_format.mime_type: 'text/csv' is not supported (text/plain or application/json)"));
    /* a schema the grammar cannot enforce names its path inside the format */
    IA_CHECK(fails(BODY("[{\"type\":\"text\",\"schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
                        "\"number\",\"multipleOf\":3}}}}]"), IA_EINVALID,
                   "response_format[0].schema.properties.n: schema keyword 'multipleOf' is not supported for a "
                   "number (bounds are supported for integers only) (the grammar would ignore it)"));
}

IA_TEST(rformat_shapes_and_types_refused) {
    IA_CHECK(fails(BODY("\"json\""), IA_EINVALID,
                   "response_format: expected a JSON Schema object, a response format ({type: 'text', mime_type, "
                   "schema}) or a list of response formats"));
    IA_CHECK(fails(BODY("[]"), IA_EINVALID,
                   "response_format: an empty list; give at least one format, or leave the field out"));
    IA_CHECK(fails(BODY("[{\"type\":\"pdf\"}]"), IA_EINVALID,
                   "response_format[0].type: unknown format type 'pdf' (expected 'text', 'image', 'audio' or "
                   "'video')"));
    IA_CHECK(fails(BODY("{\"type\":\"pdf\"}"), IA_EINVALID,
                   "response_format.type: unknown type 'pdf' (a response format's type is 'text', 'image', "
                   "'audio' or 'video'; a JSON Schema's is 'object', 'array', 'string', 'number', 'integer', "
                   "'boolean' or 'null')"));
    IA_CHECK(fails(BODY("[" SCHEMA "]"), IA_EINVALID,
                   "response_format[0].type: 'object' is a JSON Schema type; in a list each entry is a typed "
                   "format: {type: 'text', mime_type: 'application/json', schema: {...}}"));
    IA_CHECK(fails(BODY("[{\"mime_type\":\"application/json\"}]"), IA_EINVALID,
                   "response_format[0].type: required ('text', 'image', 'audio' or 'video')"));
    IA_CHECK(fails(BODY("{\"mime_type\":\"application/json\",\"schema\":{}}"), IA_EINVALID,
                   "response_format.type: required ('text' for a text format with mime_type and schema)"));
    IA_CHECK(fails(BODY("[" TEXT_JSON ",7]"), IA_EINVALID,
                   "response_format[1]: expected a response format object ({type: 'text'|'image'|'audio'|'video', "
                   "...})"));
    IA_CHECK(fails(BODY("[{\"type\":1}]"), IA_EINVALID, "response_format[0].type: expected a string"));
    IA_CHECK(fails(BODY("{\"type\":\"text\",\"schema\":\"{}\"}"), IA_EINVALID,
                   "response_format.schema: expected a JSON Schema object"));
    IA_CHECK(fails(BODY("{\"type\":\"text\",\"format\":\"json\"}"), IA_EINVALID,
                   "unknown field 'response_format.format'"));
    IA_CHECK(fails(BODY("[{\"type\":\"text\",\"mimeType\":\"application/json\"}]"), IA_EINVALID,
                   "response_format[0].mimeType: not a field here; it is spelled mime_type"));
    /* a format where its schema belongs: misplaced, not an unknown type */
    IA_CHECK(fails(BODY("[{\"type\":\"text\",\"schema\":" TEXT_JSON "}]"), IA_EINVALID,
                   "response_format[0].schema: this is a response format (type 'text'), not a JSON Schema; put "
                   "the schema itself here ({type: 'object', properties: {...}}), without wrapping it in another "
                   "format"));
    IA_CHECK(fails(BODY("{\"type\":\"text\",\"schema\":{\"type\":\"image\"}}"), IA_EINVALID,
                   "response_format.schema: this is a response format (type 'image'), not a JSON Schema; put "
                   "the schema itself here ({type: 'object', properties: {...}}), without wrapping it in another "
                   "format"));
}

/* The audio format asks for speech in its format (kept; the image format:
 * test_images.c); its values are judged by src/speech/audiofmt.c; the
 * video format is refused after its settings are checked. */
IA_TEST(rformat_audio_format_asks_for_speech) {
    unsigned was = ia_api_served_outputs(); /* another test may have turned speech off */
    ia_api_serve_outputs(was | IA_MOD_BIT_AUDIO);
    ia_request r;
    IA_CHECK(dec(BODY("{\"type\":\"audio\",\"sample_rate\":16000,\"mime_type\":\"audio/wav\",\"delivery\":"
                      "\"inline\"}"), IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.modalities & IA_MOD_BIT_AUDIO);
    IA_CHECK(r.rformat.shape == IA_RFORMAT_AUDIO && r.rformat.audio.set);
    IA_CHECK(strcmp(r.rformat.audio.mime_type, "audio/wav") == 0 && r.rformat.audio.sample_rate == 16000);
    char *rec = ia_codec_rformat_encode(&r.rformat);
    ia_rformat back;
    IA_CHECK(rec && ia_codec_rformat_decode(rec, &back) == 0);
    IA_CHECK(back.shape == IA_RFORMAT_AUDIO && back.audio.sample_rate == 16000);
    IA_CHECK(strcmp(back.audio.mime_type, "audio/wav") == 0 && strcmp(back.audio.delivery, "inline") == 0);
    free(rec);
    ia_rformat_free(&back);
    ia_request_free(&r);
    IA_CHECK(dec(BODY("[{\"type\":\"text\"},{\"type\":\"audio\",\"mime_type\":\"audio/mp3\",\"bit_rate\":"
                      "96000}]"), IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.rformat.shape == IA_RFORMAT_TEXT_LIST && strcmp(r.rformat.list, "ta") == 0);
    IA_CHECK(r.rformat.audio.bit_rate == 96000 && (r.modalities & IA_MOD_BIT_AUDIO));
    ia_request_free(&r);
    IA_CHECK(fails(BODY("[{\"type\":\"audio\",\"mime_type\":\"audio/flac\"}]"), IA_EUNIMPLEMENTED,
                   "response_format[0].mime_type: 'audio/flac' is not served; speech comes as audio/l16, "
                   "audio/wav, audio/mp3, audio/ogg_opus, audio/alaw or audio/mulaw"));
    IA_CHECK(fails(BODY("{\"type\":\"audio\",\"mime_type\":\"audio/mp3\",\"sample_rate\":17000}"),
                   IA_EINVALID, "response_format.sample_rate: audio/mp3 takes 8000, 11025, 12000, 16000, 22050, "
                   "24000, 32000, 44100, 48000 Hz, not 17000"));
    IA_CHECK(fails(BODY("{\"type\":\"audio\",\"sample_rate\":96000}"), IA_EINVALID,
                   "response_format.sample_rate: 96000 Hz is out of range (8000 to 48000)"));
    IA_CHECK(fails(BODY("{\"type\":\"audio\",\"mime_type\":\"audio/wav\",\"bit_rate\":64000}"), IA_EINVALID,
                   "response_format.bit_rate: applies to the compressed formats (audio/mp3, audio/ogg_opus), not "
                   "audio/wav; leave it out"));
    IA_CHECK(fails(BODY("{\"type\":\"audio\",\"mime_type\":\"audio/ogg_opus\",\"bit_rate\":1000}"),
                   IA_EINVALID, "response_format.bit_rate: 1000 b/s is out of range for audio/ogg_opus (6000 to "
                   "510000)"));
    IA_CHECK(fails(BODY("{\"type\":\"audio\",\"delivery\":\"uri\"}"), IA_EUNIMPLEMENTED,
                   "response_format.delivery: 'uri' delivery is not served (audio comes inline, as base64 data)"));
    /* a server without speech refuses the format as an output it does not serve */
    ia_api_serve_outputs(IA_MOD_BIT_TEXT);
    IA_CHECK(fails(BODY("{\"type\":\"audio\",\"mime_type\":\"audio/wav\"}"), IA_EUNIMPLEMENTED,
                   "response_format: speech output is not supported by this server"));
    ia_api_serve_outputs(was);
}

IA_TEST(rformat_outputs_are_checked_then_not_served) {
    IA_CHECK(fails(BODY("[{\"type\":\"video\",\"aspect_ratio\":\"9:16\",\"resolution\":\"720p\",\"duration\":"
                        "\"8s\"}]"), IA_EUNIMPLEMENTED,
                   "response_format[0]: the video format is not supported yet by this server; leave it out"));
    /* their settings are checked first, as strictly as any field */
    IA_CHECK(fails(BODY("[{\"type\":\"image\",\"aspect_ratio\":\"7:5\"}]"), IA_EINVALID,
                   "response_format[0].aspect_ratio: expected one of '1:1', '2:3', '3:2', '3:4', '4:3', '4:5', "
                   "'5:4', '9:16', '16:9', '21:9', '1:8', '8:1', '1:4', '4:1', got '7:5'"));
    IA_CHECK(fails(BODY("[{\"type\":\"image\",\"image_size\":\"8K\"}]"), IA_EINVALID,
                   "response_format[0].image_size: expected one of '512', '1K', '2K', '4K', got '8K'"));
    IA_CHECK(fails(BODY("[{\"type\":\"audio\",\"sample_rate\":\"24k\"}]"), IA_EINVALID,
                   "response_format[0].sample_rate: expected a positive integer"));
    IA_CHECK(fails(BODY("[{\"type\":\"audio\",\"sample_rate\":0}]"), IA_EINVALID,
                   "response_format[0].sample_rate: expected a positive integer"));
    IA_CHECK(fails(BODY("[{\"type\":\"audio\",\"mime_type\":\"video/mp4\"}]"), IA_EINVALID,
                   "response_format[0].mime_type: expected a MIME type audio/..., such as 'audio/wav', got "
                   "'video/mp4'"));
    IA_CHECK(fails(BODY("[{\"type\":\"video\",\"resolution\":\"8k\"}]"), IA_EINVALID,
                   "response_format[0].resolution: expected one of '360p', '720p', '1080p', '4k', got '8k'"));
    IA_CHECK(fails(BODY("[{\"type\":\"image\",\"aspectRatio\":\"1:1\"}]"), IA_EINVALID,
                   "response_format[0].aspectRatio: not a field here; it is spelled aspect_ratio"));
    /* SDK 3.3.0's VideoResponseFormat has no mime_type, in either spelling */
    IA_CHECK(fails(BODY("[{\"type\":\"video\",\"resolution\":\"720p\",\"mime_type\":\"video/mp4\"}]"),
                   IA_EINVALID, "unknown field 'response_format[0].mime_type'"));
    IA_CHECK(fails(BODY("{\"type\":\"video\",\"mimeType\":\"video/mp4\"}"), IA_EINVALID,
                   "unknown field 'response_format.mimeType'"));
    IA_CHECK(fails(BODY("[{\"type\":\"image\",\"mimeType\":\"image/png\"}]"), IA_EINVALID,
                   "response_format[0].mimeType: not a field here; it is spelled mime_type"));
    IA_CHECK(fails(BODY("[{\"type\":\"audio\",\"voice\":\"Kore\"}]"), IA_EINVALID,
                   "unknown field 'response_format[0].voice'"));
    /* a repeated entry is named before an output that is not served */
    IA_CHECK(fails(BODY("[{\"type\":\"image\"},{\"type\":\"image\"}]"), IA_EINVALID,
                   "response_format[1]: a second 'image' format (response_format[0] is one already); give one "
                   "format per output type"));
    /* Python's json writes 24000.0 for a float: an integer all the same */
    unsigned was = ia_api_served_outputs();
    ia_api_serve_outputs(was | IA_MOD_BIT_AUDIO);
    ia_request r;
    IA_CHECK(dec(BODY("[{\"type\":\"audio\",\"sample_rate\":24000.0}]"), IA_DIALECT_STEPS, &r) == 0);
    IA_CHECK(r.rformat.audio.sample_rate == 24000);
    ia_request_free(&r);
    ia_api_serve_outputs(was);
}

/* ---- the echo ------------------------------------------------------------------ */

static void fixture(ia_interaction *it, ia_rformat_shape shape, const char *mime, const char *schema) {
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "v1_rf");
    it->model = ia_strdup("demo");
    it->status = IA_STATUS_COMPLETED;
    it->output.role = IA_ROLE_MODEL;
    ia_turn_add_text(&it->output, "{}", 2);
    it->rformat.shape = shape;
    it->rformat.mime_type = mime ? ia_strdup(mime) : NULL;
    it->rformat.schema = schema ? ia_strdup(schema) : NULL;
}

static char *echo(ia_rformat_shape shape, const char *mime, const char *schema, ia_dialect d) {
    ia_interaction it;
    fixture(&it, shape, mime, schema);
    char *s = ia_api_encode_fetched(&it, false, d);
    ia_interaction_free(&it);
    return s;
}

IA_TEST(rformat_echo_in_the_shape_given) {
    char *bare = echo(IA_RFORMAT_SCHEMA, NULL, "{\"type\":\"integer\"}", IA_DIALECT_STEPS);
    char *one = echo(IA_RFORMAT_TEXT, "application/json", "{\"type\":\"integer\"}", IA_DIALECT_STEPS);
    char *list = echo(IA_RFORMAT_TEXT_LIST, NULL, NULL, IA_DIALECT_STEPS);
    char *legacy = echo(IA_RFORMAT_TEXT, "application/json", "{\"type\":\"integer\"}", IA_DIALECT_LEGACY);
    char *none = echo(IA_RFORMAT_NONE, NULL, NULL, IA_DIALECT_STEPS);
    int ok = strstr(bare, ",\"response_format\":{\"type\":\"integer\"}}") &&
             strstr(one, ",\"response_format\":{\"type\":\"text\",\"mime_type\":\"application/json\","
                         "\"schema\":{\"type\":\"integer\"}}}") &&
             strstr(list, ",\"response_format\":[{\"type\":\"text\"}]}") && !strstr(legacy, "response_format") &&
             !strstr(none, "response_format");
    if (!ok) fprintf(stderr, "  %s\n  %s\n  %s\n  %s\n", bare, one, list, legacy);
    free(bare), free(one), free(list), free(legacy), free(none);
    IA_CHECK(ok);
    /* not in the lifecycle events' partial interaction */
    ia_interaction it;
    fixture(&it, IA_RFORMAT_TEXT, "text/plain", NULL);
    ia_event ev = {.seq = 9, .kind = IA_EV_COMPLETE};
    char *f = ia_api_encode_frame(it.id, &it, &ev, IA_DIALECT_STEPS);
    ia_interaction_free(&it);
    int in_frame = f && strstr(f, "response_format") != NULL;
    free(f);
    IA_CHECK(!in_frame);
}

/* ---- the store ------------------------------------------------------------------ */

IA_TEST(rformat_codec_roundtrip) {
    ia_rformat in = {.shape = IA_RFORMAT_TEXT_LIST, .mime_type = ia_strdup("application/json"),
                     .schema = ia_strdup("{\"type\":\"string\",\"enum\":[\"\xc3\xa9\"]}")};
    char *enc = ia_codec_rformat_encode(&in);
    ia_rformat out, none, future, bad;
    int rc = ia_codec_rformat_decode(enc, &out);
    int ok = rc == 0 && out.shape == in.shape && strcmp(out.mime_type, in.mime_type) == 0 &&
             strcmp(out.schema, in.schema) == 0;
    ia_rformat empty = {0};
    char *enc_none = ia_codec_rformat_encode(&empty);
    int rn = ia_codec_rformat_decode(NULL, &none);
    /* a newer build's shape reads as none (only echoed); a mistyped field is malformed */
    int rf = ia_codec_rformat_decode("{\"shape\":\"image_list\",\"mime_type\":\"image/png\"}", &future);
    int rb = ia_codec_rformat_decode("{\"shape\":\"text\",\"schema\":{}}", &bad);
    free(enc);
    ia_rformat_free(&in);
    ia_rformat_free(&out);
    IA_CHECK(ok);
    IA_CHECK(enc_none == NULL && rn == 0 && none.shape == IA_RFORMAT_NONE);
    IA_CHECK(rf == 0 && future.shape == IA_RFORMAT_NONE && future.mime_type == NULL);
    IA_CHECK(rb == -1 && bad.shape == IA_RFORMAT_NONE);
}

/* A file from before the response_format column (user_version 4) is
 * upgraded in place: its rows read with none, and a new row keeps it. */
IA_TEST(rformat_store_migration_and_roundtrip) {
    char path[512];
    snprintf(path, sizeof path, "%s/rformat.db", ia_test_tmpdir());
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction it;
    fixture(&it, IA_RFORMAT_NONE, NULL, NULL);
    it.owner = ia_strdup("o");
    it.created = it.updated = 1700000000;
    int put = ia_store_put(s, &it, &err);
    ia_store_close(s);
    IA_CHECK(put == 0);
    sqlite3 *db = NULL;
    int down = sqlite3_open(path, &db) == SQLITE_OK &&
               sqlite3_exec(db, "DROP TABLE agents; ALTER TABLE interactions DROP COLUMN agent; "
                            "ALTER TABLE interactions DROP COLUMN agent_config; DROP TABLE files; ALTER TABLE interactions DROP COLUMN usage_by; ALTER TABLE interactions DROP COLUMN response_format; DROP TABLE fs_chunks_fts; DROP TABLE fs_chunks; DROP TABLE fs_docs; DROP TABLE fs_stores; PRAGMA user_version = 4",
                            NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    IA_CHECK(down);
    s = ia_store_open(path, &err);
    IA_CHECK(s);
    ia_interaction old, fresh;
    int g = ia_store_get(s, "v1_rf", "o", 0, &old, &err);
    int old_ok = g == 0 && old.rformat.shape == IA_RFORMAT_NONE;
    if (g == 0) ia_interaction_free(&old);
    snprintf(it.id, sizeof it.id, "v1_rf2");
    it.rformat.shape = IA_RFORMAT_TEXT;
    it.rformat.mime_type = ia_strdup("application/json");
    it.rformat.schema = ia_strdup("{\"type\":\"integer\"}");
    int g2 = ia_store_put(s, &it, &err) == 0 ? ia_store_get(s, "v1_rf2", "o", 0, &fresh, &err) : -1;
    int new_ok = g2 == 0 && fresh.rformat.shape == IA_RFORMAT_TEXT &&
                 strcmp(fresh.rformat.mime_type, "application/json") == 0 &&
                 strcmp(fresh.rformat.schema, "{\"type\":\"integer\"}") == 0;
    if (g2 == 0) ia_interaction_free(&fresh);
    ia_interaction_free(&it);
    ia_store_close(s);
    IA_CHECK(old_ok);
    IA_CHECK(new_ok);
}
