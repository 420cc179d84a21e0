/* test_images_req: image output's request side and configuration (the
 * engines themselves: test_images.c) — the size table, the --upstream
 * parser, the check core makes, response_modalities / image_config / the
 * image response format decoded and refused as documented, and the
 * settings through the store codec and the steps dialect's echo. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/core.h"
#include "lib/util.h"
#include "store/store.h"
#include "unit.h"
#include "upstream/images.h"
#include "upstream/upstream.h"

/* ---- the size table --------------------------------------------------------------- */

IA_TEST(images_dims_table) {
    static const struct {
        const char *ratio, *size;
        int w, h;
    } cases[] = {
        {"", "", 1024, 1024},       {"1:1", "512", 512, 512},    {"1:1", "4K", 4096, 4096},
        {"2:3", "1K", 704, 1024},   {"3:2", "1K", 1024, 704},    {"3:4", "1K", 768, 1024},
        {"4:3", "1K", 1024, 768},   {"4:5", "1K", 832, 1024},    {"5:4", "1K", 1024, 832},
        {"9:16", "1K", 576, 1024},  {"16:9", "1K", 1024, 576},   {"16:9", "2K", 2048, 1152},
        {"21:9", "1K", 1024, 448},  {"1:8", "1K", 128, 1024},    {"8:1", "512", 512, 64},
        {"1:4", "1K", 256, 1024},   {"4:1", "4K", 4096, 1024},   {"9:16", "512", 320, 512},
        {"21:9", "512", 512, 192},  {"16:9", "4K", 4096, 2304},  {"", "2K", 2048, 2048},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ia_image_cfg c = {.set = true};
        snprintf(c.aspect_ratio, sizeof c.aspect_ratio, "%s", cases[i].ratio);
        snprintf(c.image_size, sizeof c.image_size, "%s", cases[i].size);
        int w = 0, h = 0;
        ia_err e = {0};
        int rc = ia_image_dims(&c, &w, &h, &e);
        if (rc || w != cases[i].w || h != cases[i].h)
            fprintf(stderr, "  %s %s: %dx%d, want %dx%d\n", cases[i].ratio, cases[i].size, w, h, cases[i].w, cases[i].h);
        IA_CHECK(rc == 0 && w == cases[i].w && h == cases[i].h && w % 64 == 0 && h % 64 == 0);
    }
    int w, h;
    ia_err e = {0};
    IA_CHECK(ia_image_dims(NULL, &w, &h, &e) == 0 && w == 1024 && h == 1024);
    ia_image_cfg c = {.set = true, .image_size = "8K"};
    IA_CHECK(ia_image_dims(&c, &w, &h, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_STREQ(e.msg, "image_config.image_size: expected one of '512', '1K', '2K', '4K', got '8K'");
    /* the format's settings win over image_config's */
    ia_image_cfg gen = {.set = true, .aspect_ratio = "9:16", .image_size = "2K"}, fmt = {.set = true, .aspect_ratio = "4:3"},
                 m;
    ia_image_cfg_merge(&gen, &fmt, &m);
    IA_CHECK(m.set && !strcmp(m.aspect_ratio, "4:3") && !strcmp(m.image_size, "2K"));
    ia_image_cfg_merge(NULL, NULL, &m);
    IA_CHECK(!m.set && !m.aspect_ratio[0]);
}

/* ---- --upstream ------------------------------------------------------------------------- */

IA_TEST(images_upstream_specs) {
    ia_upstreams r = {0};
    ia_err e = {0};
    IA_CHECK(ia_upstreams_add(&r, "sd=http://127.0.0.1:7860/", &e) == 0);
    setenv("IA_TEST_UPSTREAM_KEY", "from-env", 1);
    IA_CHECK(ia_upstreams_add(&r, "flux=https://gpu.internal:8443/api,key=env:IA_TEST_UPSTREAM_KEY,api=sdcpp,"
                                  "model=flux-dev,timeout=900", &e) == 0);
    const ia_upstream *sd = ia_upstream_for(&r, "sd"), *flux = ia_upstream_for(&r, "flux");
    IA_CHECK(sd && flux && !ia_upstream_for(&r, "demo") && !ia_upstream_for(NULL, "sd"));
    IA_CHECK_STREQ(sd->url, "http://127.0.0.1:7860"); /* the trailing slash dropped */
    IA_CHECK(sd->api == IA_UPSTREAM_OPENAI && !sd->key && !sd->remote_model && sd->timeout_s == 300);
    IA_CHECK_STREQ(flux->url, "https://gpu.internal:8443/api");
    IA_CHECK_STREQ(flux->key, "from-env");
    IA_CHECK_STREQ(flux->remote_model, "flux-dev");
    IA_CHECK(flux->api == IA_UPSTREAM_SDCPP && flux->timeout_s == 900);
    char *d = ia_upstream_describe(flux);
    IA_CHECK(strstr(d, "key set") && !strstr(d, "from-env"));
    free(d);
    IA_CHECK(ia_upstreams_add(&r, "sd=http://127.0.0.1:1", &e) == -1);
    IA_CHECK_STREQ(e.msg, "upstream 'sd' given twice");
    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"sd", "expected NAME=URL[,key=KEY][,api=openai|sdcpp|speech|chat][,model=REMOTE][,voice=VOICE][,timeout=SECONDS]"},
        {"a,b=http://x", "expected NAME=URL"},
        {"=http://x", "the model NAME is empty"},
        {"x=file:///etc/passwd", "upstream 'x': URL: file:///etc/passwd: only http and https URLs are fetched"},
        {"x=http://u:secret@h/", "upstream 'x': URL: a URL with a user name or password is not fetched"},
        {"x=http://h/?a=1", "without a query or fragment"},
        {"x=http://h,api=comfy", "upstream 'x': api=comfy: expected openai"},
        {"x=http://h,timeout=1.5", "upstream 'x': timeout=1.5: expected whole seconds, 1 to 86400"},
        {"x=http://h,timeout=86401", "timeout=86401: expected whole seconds"},
        {"x=http://h,key=a,key=b", "upstream 'x': key= given twice"},
        {"x=http://h,key=", "upstream 'x': key= needs a value"},
        {"x=http://h,proxy=y", "upstream 'x': unknown option 'proxy'"},
        {"x=http://h,", "upstream 'x': an empty option"},
        {"x=http://h,key=env:IA_TEST_NOT_SET_ANYWHERE", "IA_TEST_NOT_SET_ANYWHERE is not set"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ia_upstream u;
        int rc = ia_upstream_parse(bad[i].spec, &u, &e);
        if (rc != -1 || !strstr(e.msg, bad[i].msg)) fprintf(stderr, "  %s: %s\n", bad[i].spec, e.msg);
        IA_CHECK(rc == -1 && strstr(e.msg, bad[i].msg) && !strstr(e.msg, "secret") && !u.name);
    }
    ia_upstreams_free(&r);
    unsetenv("IA_TEST_UPSTREAM_KEY");
}

/* ---- the request side -------------------------------------------------------------------- */

static int decode(const char *body, ia_dialect d, ia_request *r, ia_err *e) {
    return ia_api_decode_create_dialect(body, strlen(body), d, r, e);
}

IA_TEST(images_request_decoded_and_checked) {
    ia_request r;
    ia_err e = {0};
    /* the guide's spelling, upper case; image_config with "2k" */
    IA_CHECK(decode("{\"model\":\"gemini-3-pro-image-preview\",\"input\":\"a city\",\"response_modalities\":[\"IMAGE\"],"
                    "\"generation_config\":{\"image_config\":{\"aspect_ratio\":\"9:16\",\"image_size\":\"2k\"}}}",
                    IA_DIALECT_LEGACY, &r, &e) == 0);
    IA_CHECK(r.modalities == IA_MOD_BIT_IMAGE && r.gen.image.set);
    IA_CHECK_STREQ(r.gen.image.aspect_ratio, "9:16");
    IA_CHECK_STREQ(r.gen.image.image_size, "2K");
    /* core's check: no upstream serves the model -> a 400 naming the flag */
    IA_CHECK(ia_upstream_check_outputs(NULL, &r, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_CONTAINS(e.msg, "start the server with --upstream gemini-3-pro-image-preview=URL");
    ia_upstreams reg = {0};
    IA_CHECK(ia_upstreams_add(&reg, "gemini-3-pro-image-preview=http://127.0.0.1:7860", &e) == 0);
    IA_CHECK(ia_upstream_check_outputs(&reg, &r, &e) == 0);
    ia_request_free(&r);
    IA_CHECK(decode("{\"model\":\"demo\",\"input\":\"x\",\"response_modalities\":[\"Text\",\"image\"]}",
                    IA_DIALECT_LEGACY, &r, &e) == 0 && r.modalities == (IA_MOD_BIT_TEXT | IA_MOD_BIT_IMAGE));
    IA_CHECK(ia_upstream_check_outputs(&reg, &r, &e) == -1 && strstr(e.msg, "--upstream demo=URL"));
    ia_request_free(&r);
    IA_CHECK(decode("{\"model\":\"demo\",\"input\":\"x\",\"response_modalities\":[\"TEXT\"]}", IA_DIALECT_LEGACY, &r, &e) == 0 &&
             r.modalities == IA_MOD_BIT_TEXT && ia_upstream_check_outputs(NULL, &r, &e) == 0);
    ia_request_free(&r);
    ia_upstreams_free(&reg);
    /* values outside the API's lists, named with the allowed ones */
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"generation_config\":{\"image_config\":{\"aspect_ratio\":\"7:5\"}}}",
                    IA_DIALECT_LEGACY, &r, &e) == -1 && e.code == IA_EINVALID);
    IA_CHECK_STREQ(e.msg, "generation_config.image_config.aspect_ratio: expected one of '1:1', '2:3', '3:2', '3:4', "
                          "'4:3', '4:5', '5:4', '9:16', '16:9', '21:9', '1:8', '8:1', '1:4', '4:1', got '7:5'");
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"generation_config\":{\"image_config\":{\"image_size\":\"8K\"}}}",
                    IA_DIALECT_STEPS, &r, &e) == -1);
    IA_CHECK_STREQ(e.msg, "generation_config.image_config.image_size: expected one of '512', '1K', '2K', '4K', got '8K'");
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"generation_config\":{\"image_config\":{\"imageSize\":\"1K\"}}}",
                    IA_DIALECT_LEGACY, &r, &e) == -1);
    IA_CHECK_STREQ(e.msg, "generation_config.image_config.imageSize: not a field here; it is spelled image_size");
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"generation_config\":{\"image_config\":\"1K\"}}", IA_DIALECT_LEGACY,
                    &r, &e) == -1 && strstr(e.msg, "generation_config.image_config: expected an object"));
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"response_modalities\":[\"smell\"]}", IA_DIALECT_LEGACY, &r, &e) == -1 &&
             e.code == IA_EINVALID);
}

IA_TEST(images_response_format_image_kept) {
    ia_request r;
    ia_err e = {0};
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"response_format\":{\"type\":\"image\",\"aspect_ratio\":\"16:9\","
                    "\"image_size\":\"4k\",\"mime_type\":\"image/png\",\"delivery\":\"inline\"}}",
                    IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.modalities == IA_MOD_BIT_IMAGE && r.rformat.shape == IA_RFORMAT_IMAGE && r.rformat.image.set);
    IA_CHECK_STREQ(r.rformat.image.image_size, "4K");
    IA_CHECK_STREQ(r.rformat.image.mime_type, "image/png");
    IA_CHECK(r.grammar == NULL);
    ia_request_free(&r);
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"response_format\":[{\"type\":\"image\",\"aspect_ratio\":\"1:1\"},"
                    "{\"type\":\"text\",\"mime_type\":\"text/plain\"}]}", IA_DIALECT_STEPS, &r, &e) == 0);
    IA_CHECK(r.rformat.shape == IA_RFORMAT_TEXT_LIST && !strcmp(r.rformat.list, "it"));
    IA_CHECK_STREQ(r.rformat.mime_type, "text/plain");
    ia_request_free(&r);
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"response_format\":{\"type\":\"image\",\"mime_type\":\"image/gif\"}}",
                    IA_DIALECT_STEPS, &r, &e) == -1 && e.code == IA_EUNIMPLEMENTED);
    IA_CHECK_STREQ(e.msg, "response_format.mime_type: 'image/gif' is not produced here (image/png, image/jpeg or image/webp)");
    IA_CHECK(decode("{\"model\":\"m\",\"input\":\"x\",\"response_format\":[{\"type\":\"image\",\"delivery\":\"uri\"}]}",
                    IA_DIALECT_STEPS, &r, &e) == -1 && e.code == IA_EUNIMPLEMENTED);
    IA_CHECK_CONTAINS(e.msg, "response_format[0].delivery: 'uri' delivery is not served");
}

/* The settings as stored (generation_config, response_format) and as the
 * steps dialect echoes them. */
IA_TEST(images_settings_stored_and_echoed) {
    ia_gen_config g = {.image = {.set = true, .aspect_ratio = "21:9", .image_size = "512"}}, g2;
    char *enc = ia_codec_gen_encode(&g);
    IA_CHECK(enc && ia_codec_gen_decode(enc, &g2) == 0);
    IA_CHECK(g2.image.set && !strcmp(g2.image.aspect_ratio, "21:9") && !strcmp(g2.image.image_size, "512"));
    free(enc);
    ia_gen_config empty = {.image = {.set = true}}, e2;
    enc = ia_codec_gen_encode(&empty); /* image_config: {} is set all the same */
    IA_CHECK(enc && ia_codec_gen_decode(enc, &e2) == 0 && e2.image.set && !e2.image.aspect_ratio[0]);
    free(enc);
    IA_CHECK(ia_codec_gen_decode("{\"image_config\":{\"aspect_ratio\":\"a-very-long-ratio\"}}", &e2) == -1);
    ia_rformat f = {.shape = IA_RFORMAT_TEXT_LIST, .mime_type = ia_strdup("text/plain"), .list = "ti",
                    .image = {.set = true, .aspect_ratio = "3:4", .mime_type = "image/webp"}},
               f2;
    enc = ia_codec_rformat_encode(&f);
    IA_CHECK(enc && ia_codec_rformat_decode(enc, &f2) == 0);
    IA_CHECK(f2.shape == IA_RFORMAT_TEXT_LIST && !strcmp(f2.list, "ti") && f2.image.set &&
             !strcmp(f2.image.mime_type, "image/webp") && !strcmp(f2.mime_type, "text/plain"));
    free(enc);
    ia_rformat_free(&f2);
    /* the echo, in the order given */
    ia_interaction it = {.status = IA_STATUS_COMPLETED, .model = "m", .gen = g};
    memcpy(it.id, "v1_x", 5);
    ia_rformat_copy(&it.rformat, &f);
    char *json = ia_api_encode_interaction(&it, false, IA_DIALECT_STEPS);
    IA_CHECK_CONTAINS(json, "\"generation_config\":{\"image_config\":{\"aspect_ratio\":\"21:9\",\"image_size\":\"512\"}}");
    IA_CHECK_CONTAINS(json, "\"response_format\":[{\"type\":\"text\",\"mime_type\":\"text/plain\"},{\"type\":\"image\","
                            "\"aspect_ratio\":\"3:4\",\"mime_type\":\"image/webp\"}]");
    free(json);
    ia_rformat_free(&it.rformat);
    ia_rformat_free(&f);
}

/* ---- core's create -------------------------------------------------------------------- */

static void image_request(ia_request *r, const char *model) {
    memset(r, 0, sizeof *r);
    r->model = ia_strdup(model);
    r->store = true;
    r->modalities = IA_MOD_BIT_IMAGE;
    ia_turn *t = ia_conv_add_turn(&r->input, IA_ROLE_USER);
    ia_turn_add_text(t, "a city", 6);
}

/* A model without an upstream gets the 400 naming --upstream; one whose
 * upstream cannot be reached fails its run with the engine's 503 (naming
 * the upstream); an upstream's name is no text model. */
IA_TEST(images_core_create_answers_image_requests) {
    ia_engine_global_init(NULL, false);
    char path[512];
    snprintf(path, sizeof path, "%s/images-core.db", ia_test_tmpdir());
    ia_err err = {0};
    ia_store *store = ia_store_open(path, &err);
    ia_engine_opts eo = {.name = "demo", .path = ia_test_demo_model(), .threads = 1, .n_ctx = 512, .parallel = 1};
    ia_engine *eng = store ? ia_engine_load(&eo, &err) : NULL;
    ia_upstreams ups = {0};
    IA_CHECK(eng && ia_upstreams_add(&ups, "img=http://127.0.0.1:9", &err) == 0);
    ia_core_opts co = {.store = store, .engines = &eng, .n_engines = 1, .upstreams = &ups};
    ia_core *core = ia_core_new(&co, &err);
    IA_CHECK(core != NULL);
    ia_request r;
    ia_interaction out = {0};
    image_request(&r, "demo");
    int rc1 = ia_core_create(core, "", &r, &out, NULL, &err);
    ia_errcode c1 = err.code;
    bool named = strstr(err.msg, "start the server with --upstream demo=URL") != NULL;
    ia_request_free(&r);
    image_request(&r, "img");
    int rc2 = ia_core_create(core, "", &r, &out, NULL, &err);
    ia_errcode c2 = err.code;
    bool up_named = strstr(err.msg, "upstream 'img'") != NULL;
    ia_request_free(&r);
    image_request(&r, "img");
    r.modalities = 0;
    int rc3 = ia_core_create(core, "", &r, &out, NULL, &err);
    ia_errcode c3 = err.code;
    ia_request_free(&r);
    ia_core_shutdown(core);
    ia_core_free(core);
    ia_engine_free(eng);
    ia_store_close(store);
    ia_upstreams_free(&ups);
    IA_CHECK(rc1 == -1 && c1 == IA_EINVALID && named);
    IA_CHECK(rc2 == -1 && c2 == IA_EOVERLOADED && up_named);
    IA_CHECK(rc3 == -1 && c3 == IA_ENOTFOUND);
}
