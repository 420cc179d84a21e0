/* test_images: image output through an upstream engine (src/upstream/)
 * against loopback HTTP servers written here, which answer as OpenAI's
 * images API and sd-server's async jobs do: the request each engine gets
 * (path, headers, JSON or multipart body, the size from the aspect ratio),
 * a real PNG passed through byte for byte, sd-server's job followed over
 * several polls and cancelled, the engines' errors and timeouts as the
 * API's errors; and the check that bytes are an image. The request side
 * and the configuration: test_images_req.c. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/b64.h"
#include "lib/util.h"
#include "unit.h"
#include "upstream/images.h"
#include "upstream/images_int.h"
#include "upstream/upstream.h"

/* ---- a PNG made here ------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t crc(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* Appends chunk type+data with its length and CRC at out+*at. */
static void chunk(uint8_t *out, size_t *at, const char *type, const uint8_t *d, size_t n) {
    put32(out + *at, (uint32_t)n);
    memcpy(out + *at + 4, type, 4);
    if (n) memcpy(out + *at + 8, d, n);
    put32(out + *at + 8 + n, crc(out + *at + 4, n + 4));
    *at += 12 + n;
}

/* A valid w×h RGB PNG: its pixels in zlib "stored" blocks, no compressor
 * needed. */
static uint8_t *make_png(int w, int h, size_t *len) {
    size_t raw_n = (size_t)h * (1 + 3 * (size_t)w), blocks = raw_n / 65535 + 1;
    uint8_t *raw = malloc(raw_n), *z = malloc(raw_n + blocks * 5 + 6);
    for (int y = 0; y < h; y++) {
        uint8_t *row = raw + (size_t)y * (1 + 3 * (size_t)w);
        row[0] = 0;
        for (int x = 0; x < w; x++) row[1 + 3 * x] = (uint8_t)x, row[2 + 3 * x] = (uint8_t)y, row[3 + 3 * x] = 0x80;
    }
    size_t zn = 0, at = 0;
    uint32_t a = 1, b = 0;
    z[zn++] = 0x78, z[zn++] = 0x01;
    while (at < raw_n) {
        size_t n = raw_n - at > 65535 ? 65535 : raw_n - at;
        z[zn++] = at + n == raw_n;
        z[zn++] = (uint8_t)n, z[zn++] = (uint8_t)(n >> 8), z[zn++] = (uint8_t)~n, z[zn++] = (uint8_t)(~n >> 8);
        memcpy(z + zn, raw + at, n);
        zn += n, at += n;
    }
    for (size_t i = 0; i < raw_n; i++) a = (a + raw[i]) % 65521, b = (b + a) % 65521;
    put32(z + zn, b << 16 | a);
    zn += 4;
    uint8_t ihdr[13] = {0};
    put32(ihdr, (uint32_t)w), put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8, ihdr[9] = 2;
    uint8_t *png = malloc(8 + 25 + 12 + zn + 12);
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    size_t pn = 8;
    chunk(png, &pn, "IHDR", ihdr, 13);
    chunk(png, &pn, "IDAT", z, zn);
    chunk(png, &pn, "IEND", NULL, 0);
    free(raw);
    free(z);
    *len = pn;
    return png;
}

/* A PNG written by Debian's ffmpeg, when it is there: an encoder's real
 * output, deflated. NULL without ffmpeg. */
static uint8_t *ffmpeg_png(size_t *len) {
    char path[512], cmd[1024];
    snprintf(path, sizeof path, "%s/red.png", ia_test_tmpdir());
    snprintf(cmd, sizeof cmd, "ffmpeg -hide_banner -loglevel error -y -f lavfi -i color=red:s=96x64 -frames:v 1 '%s'",
             path);
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0 || system(cmd) != 0) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *d = malloc(1 << 20);
    *len = fread(d, 1, 1 << 20, f);
    fclose(f);
    return d;
}

/* ---- a scripted loopback server -------------------------------------------------- */

#define MAX_REQS 32

typedef struct seen {
    char method[8], path[256];
    char head[4096];
    char *body;
    size_t len;
} seen;

typedef struct srv srv;
/* Answers request number nth (0-based) on fd. */
typedef void (*handler)(srv *s, int fd, const seen *r, int nth);

struct srv {
    int lfd, port, stop[2];
    pthread_t th;
    pthread_mutex_t mu;
    handler h;
    const char *body; /* what the handlers answer with, by their own rules */
    seen reqs[MAX_REQS];
    int n;
};

static void send_all(int fd, const void *p, size_t n) {
    for (const char *c = p; n;) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        c += w, n -= (size_t)w;
    }
}

static void answer(int fd, int status, const char *extra, const char *body) {
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, extra ? extra : "", strlen(body));
    send_all(fd, head, (size_t)n);
    send_all(fd, body, strlen(body));
}

/* Waits until the client leaves or the server stops. */
static void stall(srv *s, int fd) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    char junk[256];
    while (poll(p, 2, 5000) > 0 && !p[1].revents && recv(fd, junk, sizeof junk, 0) > 0) {}
}

/* Reads one request (head, then Content-Length bytes of body). */
static int read_request(int fd, seen *r) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1), *end = NULL;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    size_t want = 0;
    for (;;) {
        if (end && n >= want) break;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
        if (poll(&p, 1, 3000) <= 0) break;
        ssize_t got = recv(fd, buf + n, cap - n, 0);
        if (got <= 0) break;
        n += (size_t)got;
        buf[n] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
    }
    if (!end) {
        free(buf);
        return -1;
    }
    snprintf(r->head, sizeof r->head, "%.*s", (int)(end - buf), buf);
    sscanf(buf, "%7s %255s", r->method, r->path);
    r->len = n - (size_t)(end + 4 - buf);
    r->body = malloc(r->len + 1);
    memcpy(r->body, end + 4, r->len);
    r->body[r->len] = '\0';
    free(buf);
    return 0;
}

static void *serve(void *arg) {
    srv *s = arg;
    struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    while (poll(p, 2, -1) > 0 && !p[1].revents) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        seen r = {0};
        if (read_request(fd, &r) == 0) {
            pthread_mutex_lock(&s->mu);
            int nth = s->n;
            if (s->n < MAX_REQS) s->reqs[s->n++] = r;
            else free(r.body);
            pthread_mutex_unlock(&s->mu);
            s->h(s, fd, &s->reqs[nth < MAX_REQS ? nth : MAX_REQS - 1], nth);
        }
        close(fd);
    }
    return NULL;
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int srv_start(srv *s, handler h, const char *body) {
    memset(s, 0, sizeof *s);
    s->h = h;
    s->body = body;
    pthread_mutex_init(&s->mu, NULL);
    if ((s->lfd = listen_loopback(&s->port)) < 0 || pipe(s->stop) != 0) return -1;
    return pthread_create(&s->th, NULL, serve, s);
}

/* Stops the server; the requests it saw stay readable until srv_free. */
static void srv_stop(srv *s) {
    if (write(s->stop[1], "x", 1) != 1) perror("srv_stop");
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
    pthread_mutex_destroy(&s->mu);
}

static void srv_free(srv *s) {
    for (int i = 0; i < s->n; i++) free(s->reqs[i].body);
    s->n = 0;
}

/* An upstream at the server, spec options after the URL (",api=sdcpp"). */
static void upstream_at(srv *s, const char *opts, ia_upstream *u) {
    char spec[256];
    snprintf(spec, sizeof spec, "sd=http://127.0.0.1:%d%s", s->port, opts);
    ia_err err = {0};
    if (ia_upstream_parse(spec, u, &err) != 0) fprintf(stderr, "  spec %s: %s\n", spec, err.msg);
    u->poll_ms = 20;
}

static const ia_image_req SQUARE = {.prompt = "a red square", .width = 1024, .height = 1024, .n = 1};

/* ---- OpenAI's API ------------------------------------------------------------------- */

static char *g_png_b64; /* what the OpenAI handlers answer with */

static void openai_ok(srv *s, int fd, const seen *r, int nth) {
    (void)s, (void)r, (void)nth;
    char *body = ia_asprintf("{\"created\":1,\"data\":[{\"b64_json\":\"%s\"}]}", g_png_b64);
    answer(fd, 200, NULL, body);
    free(body);
}

IA_TEST(images_openai_request_mapping_and_png_byte_identical) {
    size_t len = 0;
    uint8_t *png = ffmpeg_png(&len);
    bool real = png != NULL;
    if (!png) png = make_png(96, 64, &len);
    g_png_b64 = ia_b64_encode(png, len);
    srv s;
    IA_CHECK(srv_start(&s, openai_ok, NULL) == 0);
    ia_upstream u;
    upstream_at(&s, ",key=sekrit,model=sd-turbo", &u);
    ia_image_cfg cfg = {.set = true, .aspect_ratio = "16:9"};
    ia_image_req q = {.prompt = "a futuristic city", .n = 1};
    ia_err err = {0};
    IA_CHECK(ia_image_dims(&cfg, &q.width, &q.height, &err) == 0 && q.width == 1024 && q.height == 576);
    ia_image_out *out = NULL;
    size_t n = 0;
    int rc = ia_images_generate(&u, &q, NULL, &out, &n, &err);
    if (rc) fprintf(stderr, "  %s\n", err.msg);
    srv_stop(&s);
    IA_CHECK(rc == 0 && n == 1);
    IA_CHECK(out[0].len == len && memcmp(out[0].data, png, len) == 0); /* unchanged */
    IA_CHECK_STREQ(out[0].mime_type, "image/png");
    IA_CHECK(out[0].width == 96 && out[0].height == 64);
    if (!real) printf("  (no ffmpeg: a PNG written by the test)\n");
    /* the request: path, headers, body */
    IA_CHECK(s.n == 1);
    IA_CHECK_STREQ(s.reqs[0].method, "POST");
    IA_CHECK_STREQ(s.reqs[0].path, "/v1/images/generations");
    IA_CHECK_CONTAINS(s.reqs[0].head, "Authorization: Bearer sekrit");
    IA_CHECK_CONTAINS(s.reqs[0].head, "Content-Type: application/json");
    json_t *j = json_loads(s.reqs[0].body, 0, NULL);
    IA_CHECK(j != NULL);
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "model")), "sd-turbo");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "prompt")), "a futuristic city");
    IA_CHECK(json_integer_value(json_object_get(j, "n")) == 1);
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "size")), "1024x576");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "response_format")), "b64_json");
    IA_CHECK(json_object_get(j, "output_format") == NULL); /* PNG: the engines' default, not sent */
    json_decref(j);
    srv_free(&s);
    ia_image_outs_free(out, n);
    ia_upstream_clear(&u);
    free(g_png_b64);
    free(png);
}

/* JPEG asked for: output_format sent, and a JPEG passed through as one. */
static void openai_jpeg(srv *s, int fd, const seen *r, int nth) {
    (void)s, (void)r, (void)nth;
    static const uint8_t jpg[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x40, 0x00, 0x80,
                                  0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9};
    char *b = ia_b64_encode(jpg, sizeof jpg);
    char *body = ia_asprintf("{\"data\":[{\"b64_json\":\"data:image/jpeg;base64,%s\"}]}", b);
    answer(fd, 200, NULL, body);
    free(body);
    free(b);
}

IA_TEST(images_openai_jpeg_passed_through_as_jpeg) {
    srv s;
    IA_CHECK(srv_start(&s, openai_jpeg, NULL) == 0);
    ia_upstream u;
    upstream_at(&s, "", &u);
    ia_image_req q = SQUARE;
    q.mime_type = "image/jpeg";
    ia_image_out *out = NULL;
    size_t n = 0;
    ia_err err = {0};
    int rc = ia_images_generate(&u, &q, NULL, &out, &n, &err);
    srv_stop(&s);
    IA_CHECK(rc == 0 && n == 1);
    IA_CHECK_STREQ(out[0].mime_type, "image/jpeg");
    IA_CHECK(out[0].width == 128 && out[0].height == 64);
    IA_CHECK_CONTAINS(s.reqs[0].body, "\"output_format\":\"jpeg\"");
    IA_CHECK_CONTAINS(s.reqs[0].body, "\"model\":\"sd\""); /* no model=: the name */
    IA_CHECK(strstr(s.reqs[0].head, "Authorization") == NULL);
    srv_free(&s);
    ia_image_outs_free(out, n);
    ia_upstream_clear(&u);
}

/* Each handler answers with s->body, by status in its name. */
static void body_500(srv *s, int fd, const seen *r, int nth) { (void)r, (void)nth; answer(fd, 500, NULL, s->body); }
static void body_200(srv *s, int fd, const seen *r, int nth) { (void)r, (void)nth; answer(fd, 200, NULL, s->body); }
static void body_400(srv *s, int fd, const seen *r, int nth) { (void)r, (void)nth; answer(fd, 400, NULL, s->body); }
static void body_401(srv *s, int fd, const seen *r, int nth) { (void)r, (void)nth; answer(fd, 401, NULL, s->body); }
static void body_404(srv *s, int fd, const seen *r, int nth) { (void)r, (void)nth; answer(fd, 404, NULL, s->body); }
static void body_429(srv *s, int fd, const seen *r, int nth) {
    (void)r, (void)nth;
    answer(fd, 429, "Retry-After: 7\r\n", s->body);
}
static void redirect(srv *s, int fd, const seen *r, int nth) {
    (void)r, (void)nth;
    answer(fd, 302, "Location: http://127.0.0.1:1/elsewhere\r\n", s->body);
}
static void never(srv *s, int fd, const seen *r, int nth) { (void)r, (void)nth, stall(s, fd); }

/* One generation against a server answering with h and body: rc, *err. */
static int one(handler h, const char *body, const char *opts, const ia_image_req *q, ia_err *err) {
    srv s;
    if (srv_start(&s, h, body) != 0) return -2;
    ia_upstream u;
    upstream_at(&s, opts, &u);
    ia_image_out *out = NULL;
    size_t n = 0;
    int rc = ia_images_generate(&u, q ? q : &SQUARE, NULL, &out, &n, err);
    srv_stop(&s);
    srv_free(&s);
    ia_image_outs_free(out, n);
    ia_upstream_clear(&u);
    return rc;
}

#define ERR_IS(rc, e, c, text) ((rc) == -1 && (e).code == (c) && strstr((e).msg, (text)) != NULL)

IA_TEST(images_openai_errors_named) {
    ia_err e = {0};
    int rc = one(body_500, "{\"error\":{\"message\":\"CUDA out of memory\",\"type\":\"server_error\"}}", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'sd' failed (POST /v1/images/generations: HTTP 500): CUDA out of memory"));
    rc = one(body_400, "{\"error\":\"size must be a multiple of 64\"}", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EINVALID, "upstream 'sd' refused the request (POST /v1/images/generations: HTTP 400): "
                                        "size must be a multiple of 64"));
    rc = one(body_401, "{\"detail\":\"bad token\"}", ",key=wrong", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "check key= in --upstream") && strstr(e.msg, "wrong") == NULL);
    rc = one(body_429, "{}", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_ERATELIMIT, "is busy") && e.retry_after == 7);
    rc = one(body_200, "this is not JSON", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'sd' answered something that is not a JSON object"));
    rc = one(body_200, "{\"created\":1,\"data\":[]}", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'sd' answered no image (data is empty)"));
    rc = one(body_200, "{\"data\":[{\"b64_json\":\"R0lGODlhAQABAAAAACw=\"}]}", "", NULL, &e); /* a GIF */
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'sd' answered image 0: bytes that are not a PNG, JPEG or WebP"));
    rc = one(body_200, "{\"data\":[{\"b64_json\":\"%%%\"}]}", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "data[0].b64_json: not valid base64"));
    rc = one(body_200, "{\"data\":[{\"revised_prompt\":\"x\"}]}", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "data[0] without b64_json or an http(s) url"));
    rc = one(redirect, "", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "redirect, which is not followed"));
    /* nothing listens: unreachable, retry later */
    ia_upstream u;
    ia_err pe = {0};
    IA_CHECK(ia_upstream_parse("sd=http://127.0.0.1:1", &u, &pe) == 0);
    ia_image_out *out = NULL;
    size_t n = 0;
    rc = ia_images_generate(&u, &SQUARE, NULL, &out, &n, &e);
    ia_upstream_clear(&u);
    IA_CHECK(ERR_IS(rc, e, IA_EOVERLOADED, "upstream 'sd' is unreachable") && e.retry_after > 0 && !out && !n);
    /* the URL never appears in what the client reads */
    IA_CHECK(strstr(e.msg, "127.0.0.1") == NULL);
}

IA_TEST(images_openai_timeout_is_a_gateway_timeout) {
    ia_err e = {0};
    int64_t t0 = ia_mono_ms();
    int rc = one(never, "", ",timeout=1", NULL, &e);
    int64_t ms = ia_mono_ms() - t0;
    IA_CHECK(ERR_IS(rc, e, IA_EDEADLINE, "upstream 'sd': no answer within 1 s"));
    IA_CHECK(ms >= 900 && ms < 5000);
    IA_CHECK(ia_err_http_status(e.code) == 504);
}

/* An image given by URL on the engine's own origin is fetched; elsewhere
 * (a private address, refused for client URLs) it is not. */
static void openai_url(srv *s, int fd, const seen *r, int nth) {
    (void)nth;
    if (!strcmp(r->path, "/files/out.png")) {
        size_t n = 0;
        uint8_t *png = make_png(64, 64, &n);
        char head[256];
        int k = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %zu\r\n"
                                            "Connection: close\r\n\r\n", n);
        send_all(fd, head, (size_t)k);
        send_all(fd, png, n);
        free(png);
        return;
    }
    char *body = ia_asprintf("{\"data\":[{\"url\":\"%s\"}]}", s->body ? s->body : "");
    if (!s->body) {
        free(body);
        body = ia_asprintf("{\"data\":[{\"url\":\"http://127.0.0.1:%d/files/out.png\"}]}", s->port);
    }
    answer(fd, 200, NULL, body);
    free(body);
}

IA_TEST(images_openai_url_answers) {
    srv s;
    IA_CHECK(srv_start(&s, openai_url, NULL) == 0);
    ia_upstream u;
    upstream_at(&s, "", &u);
    ia_image_out *out = NULL;
    size_t n = 0;
    ia_err e = {0};
    int rc = ia_images_generate(&u, &SQUARE, NULL, &out, &n, &e);
    srv_stop(&s);
    ia_upstream_clear(&u);
    IA_CHECK(rc == 0 && n == 1 && out[0].width == 64 && s.n == 2);
    IA_CHECK_STREQ(s.reqs[1].path, "/files/out.png");
    srv_free(&s);
    ia_image_outs_free(out, n);
    rc = one(openai_url, "http://10.255.255.1/x.png", "", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "an image URL that could not be fetched (its address is not one"));
}

/* Editing: multipart to /v1/images/edits with the image; an engine
 * without the endpoint is a clear 400. */
IA_TEST(images_openai_edit_multipart_and_no_endpoint) {
    size_t len = 0;
    uint8_t *png = make_png(64, 64, &len);
    g_png_b64 = ia_b64_encode(png, len);
    srv s;
    IA_CHECK(srv_start(&s, openai_ok, NULL) == 0);
    ia_upstream u;
    upstream_at(&s, "", &u);
    ia_image_req q = SQUARE;
    q.prompt = "make it blue";
    q.init = png, q.init_len = len, q.init_mime = "image/png";
    ia_image_out *out = NULL;
    size_t n = 0;
    ia_err e = {0};
    int rc = ia_images_generate(&u, &q, NULL, &out, &n, &e);
    srv_stop(&s);
    IA_CHECK(rc == 0 && n == 1);
    IA_CHECK_STREQ(s.reqs[0].path, "/v1/images/edits");
    IA_CHECK_CONTAINS(s.reqs[0].head, "multipart/form-data; boundary=");
    IA_CHECK_CONTAINS(s.reqs[0].body, "name=\"prompt\"\r\n\r\nmake it blue");
    IA_CHECK_CONTAINS(s.reqs[0].body, "name=\"size\"\r\n\r\n1024x1024");
    IA_CHECK_CONTAINS(s.reqs[0].body, "name=\"image[]\"; filename=\"image.png\"\r\nContent-Type: image/png");
    IA_CHECK(memmem(s.reqs[0].body, s.reqs[0].len, png, len) != NULL); /* the bytes as they are */
    srv_free(&s);
    ia_image_outs_free(out, n);
    ia_upstream_clear(&u);
    rc = one(body_404, "{\"error\":{\"message\":\"Not Found\"}}", "", &q, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUNIMPLEMENTED, "upstream 'sd' does not edit images (POST /v1/images/edits: HTTP 404)"));
    IA_CHECK(ia_err_http_status(e.code) == 400);
    free(g_png_b64);
    free(png);
}

/* ---- sd-server's async jobs --------------------------------------------------------- */

/* Submission: 202 queued; polls: queued, generating, then completed (or
 * s->body's status forever: "queued", "failed", "gone"). */
static void sdcpp(srv *s, int fd, const seen *r, int nth) {
    (void)nth;
    if (!strcmp(r->method, "POST") && !strcmp(r->path, "/sdcpp/v1/img_gen")) {
        answer(fd, 202, NULL, "{\"id\":\"job_01HTX\",\"kind\":\"img_gen\",\"status\":\"queued\",\"created\":1,"
                              "\"poll_url\":\"/sdcpp/v1/jobs/job_01HTX\"}");
        return;
    }
    if (!strcmp(r->method, "POST")) { /* the cancel */
        answer(fd, 200, NULL, "{\"id\":\"job_01HTX\",\"status\":\"cancelled\"}");
        return;
    }
    int polls = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n; i++) polls += !strcmp(s->reqs[i].method, "GET");
    pthread_mutex_unlock(&s->mu);
    const char *mode = s->body ? s->body : "";
    if (!strcmp(mode, "gone")) return answer(fd, 410, NULL, "{\"error\":\"expired\"}");
    if (!strcmp(mode, "failed"))
        return answer(fd, 200, NULL, "{\"id\":\"job_01HTX\",\"status\":\"failed\",\"result\":null,\"error\":"
                                     "{\"code\":\"generation_failed\",\"message\":\"generate_image returned empty results\"}}");
    if (!strcmp(mode, "queued") || polls < 2) {
        answer(fd, 200, NULL, "{\"id\":\"job_01HTX\",\"status\":\"queued\",\"queue_position\":1,\"result\":null}");
        return;
    }
    if (polls < 3) return answer(fd, 200, NULL, "{\"id\":\"job_01HTX\",\"status\":\"generating\",\"result\":null}");
    char *body = ia_asprintf("{\"id\":\"job_01HTX\",\"status\":\"completed\",\"result\":{\"output_format\":\"png\","
                             "\"images\":[{\"index\":0,\"b64_json\":\"%s\"}]},\"error\":null}", g_png_b64);
    answer(fd, 200, NULL, body);
    free(body);
}

IA_TEST(images_sdcpp_job_followed_to_its_end) {
    size_t len = 0;
    uint8_t *png = make_png(128, 64, &len);
    g_png_b64 = ia_b64_encode(png, len);
    srv s;
    IA_CHECK(srv_start(&s, sdcpp, NULL) == 0);
    ia_upstream u;
    upstream_at(&s, ",api=sdcpp,key=k1", &u);
    ia_image_cfg cfg = {.set = true, .aspect_ratio = "2:1"};
    ia_image_req q = {.prompt = "a cat", .n = 1, .has_seed = true, .seed = 42};
    ia_err e = {0};
    IA_CHECK(ia_image_dims(&cfg, &q.width, &q.height, &e) == -1); /* 2:1 is not the API's */
    snprintf(cfg.aspect_ratio, sizeof cfg.aspect_ratio, "21:9");
    IA_CHECK(ia_image_dims(&cfg, &q.width, &q.height, &e) == 0 && q.width == 1024 && q.height == 448);
    ia_image_out *out = NULL;
    size_t n = 0;
    int rc = ia_images_generate(&u, &q, NULL, &out, &n, &e);
    if (rc) fprintf(stderr, "  %s\n", e.msg);
    srv_stop(&s);
    IA_CHECK(rc == 0 && n == 1 && out[0].len == len && memcmp(out[0].data, png, len) == 0);
    /* submitted (queued), then polled until completed: queued, generating, completed */
    IA_CHECK(s.n == 4);
    IA_CHECK_STREQ(s.reqs[0].path, "/sdcpp/v1/img_gen");
    for (int i = 1; i < s.n; i++) IA_CHECK_STREQ(s.reqs[i].path, "/sdcpp/v1/jobs/job_01HTX");
    IA_CHECK_CONTAINS(s.reqs[1].head, "Authorization: Bearer k1");
    json_t *j = json_loads(s.reqs[0].body, 0, NULL);
    IA_CHECK(j && json_integer_value(json_object_get(j, "width")) == 1024);
    IA_CHECK(json_integer_value(json_object_get(j, "height")) == 448);
    IA_CHECK(json_integer_value(json_object_get(j, "seed")) == 42);
    IA_CHECK(json_integer_value(json_object_get(j, "batch_count")) == 1);
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "output_format")), "png");
    IA_CHECK_STREQ(json_string_value(json_object_get(j, "prompt")), "a cat");
    IA_CHECK(json_object_get(j, "init_image") == NULL);
    json_decref(j);
    srv_free(&s);
    ia_image_outs_free(out, n);
    ia_upstream_clear(&u);
    free(g_png_b64);
    free(png);
}

typedef struct {
    atomic_bool *flag;
    int after_ms;
} setter;

static void *set_later(void *arg) {
    setter *st = arg;
    struct timespec ts = {0, (long)st->after_ms * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(st->flag, true);
    return NULL;
}

IA_TEST(images_sdcpp_cancel_cancels_the_job) {
    srv s;
    IA_CHECK(srv_start(&s, sdcpp, "queued") == 0);
    ia_upstream u;
    upstream_at(&s, ",api=sdcpp", &u);
    atomic_bool cancel = false;
    setter st = {&cancel, 300};
    pthread_t th;
    pthread_create(&th, NULL, set_later, &st);
    ia_image_out *out = NULL;
    size_t n = 0;
    ia_err e = {0};
    int64_t t0 = ia_mono_ms();
    int rc = ia_images_generate(&u, &SQUARE, &cancel, &out, &n, &e);
    int64_t ms = ia_mono_ms() - t0;
    pthread_join(th, NULL);
    srv_stop(&s);
    ia_upstream_clear(&u);
    IA_CHECK(ERR_IS(rc, e, IA_ECANCELLED, "upstream 'sd': cancelled"));
    IA_CHECK(ms < 3000);
    IA_CHECK(s.n >= 3); /* submitted, polled at least once, cancelled */
    IA_CHECK_STREQ(s.reqs[s.n - 1].method, "POST");
    IA_CHECK_STREQ(s.reqs[s.n - 1].path, "/sdcpp/v1/jobs/job_01HTX/cancel");
    srv_free(&s);
}

IA_TEST(images_sdcpp_errors_named) {
    ia_err e = {0};
    int rc = one(sdcpp, "failed", ",api=sdcpp", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'sd': the job failed: generate_image returned empty results"));
    rc = one(sdcpp, "gone", ",api=sdcpp", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'sd': job job_01HTX is expired (HTTP 410)"));
    /* the timeout passes while it is queued: a 504, and the job cancelled */
    srv s;
    IA_CHECK(srv_start(&s, sdcpp, "queued") == 0);
    ia_upstream u;
    upstream_at(&s, ",api=sdcpp,timeout=1", &u);
    ia_image_out *out = NULL;
    size_t n = 0;
    rc = ia_images_generate(&u, &SQUARE, NULL, &out, &n, &e);
    srv_stop(&s);
    ia_upstream_clear(&u);
    IA_CHECK(ERR_IS(rc, e, IA_EDEADLINE, "no answer within 1 s"));
    IA_CHECK(s.n >= 3 && !strcmp(s.reqs[s.n - 1].path, "/sdcpp/v1/jobs/job_01HTX/cancel"));
    srv_free(&s);
    /* a full queue at submission */
    rc = one(body_429, "{\"error\":\"queue is full\"}", ",api=sdcpp", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_ERATELIMIT, "(POST /sdcpp/v1/img_gen: HTTP 429): queue is full"));
    /* a job document that is none */
    rc = one(body_200, "{\"id\":\"../../x\",\"status\":\"queued\"}", ",api=sdcpp", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "a job without a usable id"));
    rc = one(body_200, "{\"id\":\"j\",\"status\":\"paused\"}", ",api=sdcpp", NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "a job status that is not queued"));
}

IA_TEST(images_sdcpp_edit_sends_init_image) {
    size_t len = 0;
    uint8_t *png = make_png(64, 64, &len);
    srv s;
    IA_CHECK(srv_start(&s, sdcpp, "failed") == 0);
    ia_upstream u;
    upstream_at(&s, ",api=sdcpp", &u);
    ia_image_req q = SQUARE;
    q.init = png, q.init_len = len, q.init_mime = "image/png";
    ia_image_out *out = NULL;
    size_t n = 0;
    ia_err e = {0};
    (void)ia_images_generate(&u, &q, NULL, &out, &n, &e);
    srv_stop(&s);
    ia_upstream_clear(&u);
    json_t *j = json_loads(s.reqs[0].body, 0, NULL);
    const char *init = json_string_value(json_object_get(j, "init_image"));
    uint8_t *dec = NULL;
    size_t dn = 0, bad_at = 0;
    IA_CHECK(init && ia_b64_decode(init, strlen(init), &dec, &dn, &bad_at) == 0 && dn == len &&
             memcmp(dec, png, len) == 0);
    IA_CHECK(json_integer_value(json_object_get(j, "seed")) == -1); /* no seed: the engine's random one */
    free(dec);
    json_decref(j);
    srv_free(&s);
    free(png);
}

/* ---- the image check ------------------------------------------------------------------ */

IA_TEST(images_identify_png_header) {
    size_t len = 0;
    uint8_t *png = make_png(70, 30, &len);
    const char *mime;
    uint32_t w, h;
    ia_err e = {0};
    IA_CHECK(ia_image_identify(png, len, "x", &mime, &w, &h, &e) == 0 && w == 70 && h == 30);
    IA_CHECK_STREQ(mime, "image/png");
    for (size_t k = 0; k < 40; k++) /* every cut of the header is refused, never read past */
        IA_CHECK(ia_image_identify(png, k, "x", &mime, &w, &h, &e) == (k >= 33 ? 0 : -1));
    png[17] ^= 1; /* the width changed: the IHDR CRC no longer matches */
    IA_CHECK(ia_image_identify(png, len, "img", &mime, &w, &h, &e) == -1 && e.code == IA_EUPSTREAM && mime == NULL);
    IA_CHECK_STREQ(e.msg, "img: a PNG whose IHDR checksum is wrong");
    IA_CHECK(ia_image_identify((const uint8_t *)"GIF89a\x01\x00\x01\x00", 10, "img", &mime, &w, &h, &e) == -1);
    free(png);
}
