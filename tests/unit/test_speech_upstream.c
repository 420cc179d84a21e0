/* test_speech_upstream: speech output through an upstream engine speaking
 * OpenAI's /v1/audio/speech (src/upstream/speech.c), against a loopback
 * server written here: the request (path, headers, JSON), 24 kHz PCM
 * streamed in pieces of odd sizes and passed on in whole samples as it
 * comes, several speakers as one request per turn joined by silence, the
 * engine's errors as the API's, and a cancel that aborts the transfer.
 * The --upstream spec's api=speech and voice=: here too. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "unit.h"
#include "upstream/speech.h"
#include "upstream/upstream.h"

#define MAX_REQS 8
#define N_PCM 10001 /* samples the engine speaks per request */

typedef struct req {
    char head[4096];
    char *body;
} req;

typedef struct srv {
    int lfd, port, stop[2];
    pthread_t th;
    int mode; /* 0: PCM in odd pieces; 1: stall after a piece; else: that HTTP status with `body` */
    const char *body;
    req reqs[MAX_REQS];
    int n;
} srv;

static uint8_t g_pcm[N_PCM * 2]; /* what the engine sends: little-endian samples */

static void send_all(int fd, const void *p, size_t n) {
    for (const char *c = p; n;) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        c += w, n -= (size_t)w;
    }
}

static void sleep_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int read_req(int fd, req *r) {
    char buf[65536];
    size_t n = 0, want = 0;
    char *end = NULL;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (!(end && n >= want) && n < sizeof buf - 1 && poll(&p, 1, 3000) > 0) {
        ssize_t got = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (got <= 0) break;
        n += (size_t)got;
        buf[n] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            want = (size_t)(end + 4 - buf) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
        }
    }
    if (!end) return -1;
    snprintf(r->head, sizeof r->head, "%.*s", (int)(end - buf), buf);
    r->body = ia_strdup(end + 4);
    return 0;
}

/* PCM in pieces of odd sizes (a sample cut in two at each), 20 ms apart. */
static void send_pcm(srv *s, int fd) {
    char head[256];
    int hn = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: audio/pcm\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n", sizeof g_pcm);
    send_all(fd, head, (size_t)hn);
    static const size_t pieces[] = {1, 7, 4095, 3, 8191};
    size_t at = 0;
    for (int i = 0; at < sizeof g_pcm; i++) {
        size_t k = pieces[i % 5];
        if (k > sizeof g_pcm - at) k = sizeof g_pcm - at;
        send_all(fd, g_pcm + at, k);
        at += k;
        if (s->mode == 1 && at >= 4096) { /* stall until the client leaves */
            struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
            char junk[64];
            while (poll(p, 2, 5000) > 0 && !p[1].revents && recv(fd, junk, sizeof junk, 0) > 0) {}
            return;
        }
        sleep_ms(20);
    }
}

static void *serve(void *arg) {
    srv *s = arg;
    struct pollfd p[2] = {{.fd = s->lfd, .events = POLLIN}, {.fd = s->stop[0], .events = POLLIN}};
    while (poll(p, 2, -1) > 0 && !p[1].revents) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        req r = {0};
        if (read_req(fd, &r) == 0 && s->n < MAX_REQS) {
            s->reqs[s->n++] = r;
            if (s->mode <= 1) {
                send_pcm(s, fd);
            } else {
                char head[256];
                int hn = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                                  "Retry-After: 9\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", s->mode,
                                  strlen(s->body));
                send_all(fd, head, (size_t)hn);
                send_all(fd, s->body, strlen(s->body));
            }
        }
        close(fd);
    }
    return NULL;
}

static int srv_start(srv *s, int mode, const char *body) {
    memset(s, 0, sizeof *s);
    s->mode = mode;
    s->body = body;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 8) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &len) != 0 || pipe(s->stop) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, serve, s);
}

static void srv_stop(srv *s) {
    if (write(s->stop[1], "x", 1) != 1) perror("srv_stop");
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
}

static void srv_free(srv *s) {
    for (int i = 0; i < s->n; i++) free(s->reqs[i].body);
    s->n = 0;
}

static int upstream_at(const srv *s, const char *opts, ia_upstream *u) {
    char spec[256];
    snprintf(spec, sizeof spec, "kokoro=http://127.0.0.1:%d%s", s->port, opts);
    ia_err err = {0};
    int rc = ia_upstream_parse(spec, u, &err);
    if (rc != 0) fprintf(stderr, "  spec %s: %s\n", spec, err.msg);
    return rc;
}

/* What on_pcm got. */
typedef struct heard {
    int16_t *v;
    size_t n, calls;
    atomic_bool *cancel_after_first; /* set on the first call (the cancel test) */
} heard;

static int on_pcm(void *ud, const int16_t *pcm, size_t n) {
    heard *h = ud;
    h->v = realloc(h->v, (h->n + n) * sizeof *h->v);
    memcpy(h->v + h->n, pcm, n * sizeof *pcm);
    h->n += n;
    h->calls++;
    if (h->cancel_after_first) atomic_store(h->cancel_after_first, true);
    return 0;
}

static void make_pcm(void) {
    for (size_t i = 0; i < N_PCM; i++) {
        int16_t v = (int16_t)((i * 7919u) & 0xffff);
        g_pcm[2 * i] = (uint8_t)((uint16_t)v & 0xff);
        g_pcm[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
    }
}

static int same_as_sent(const int16_t *v, size_t n) {
    if (n != N_PCM) return 0;
    for (size_t i = 0; i < n; i++)
        if ((uint16_t)v[i] != (uint16_t)(g_pcm[2 * i] | g_pcm[2 * i + 1] << 8)) return 0;
    return 1;
}

static const char *jstr(json_t *j, const char *k) { return json_string_value(json_object_get(j, k)); }

IA_TEST(speech_upstream_request_and_pcm_streamed_whole) {
    make_pcm();
    srv s;
    IA_CHECK(srv_start(&s, 0, NULL) == 0);
    ia_upstream u;
    IA_CHECK(upstream_at(&s, ",api=speech,model=kokoro-v1,voice=af_bella,key=sk-test", &u) == 0);
    IA_CHECK(u.kind == IA_UPSTREAM_SPEECH && strcmp(u.voice, "af_bella") == 0);
    heard h = {0};
    ia_speech_entry e = {.voice = "af_heart"};
    ia_speech_cfg cfg = {.v = &e, .n = 1};
    ia_err err = {0};
    int rc = ia_upstream_speak(&u, "Hello there.", &cfg, on_pcm, &h, NULL, &err);
    srv_stop(&s);
    IA_CHECK(rc == 0);
    IA_CHECK(same_as_sent(h.v, h.n));
    IA_CHECK(h.calls >= 4); /* handed on piece by piece as it came */
    IA_CHECK(s.n == 1);
    IA_CHECK(strncmp(s.reqs[0].head, "POST /v1/audio/speech HTTP/1.1", 30) == 0);
    IA_CHECK(strcasestr(s.reqs[0].head, "\r\nAuthorization: Bearer sk-test") != NULL);
    IA_CHECK(strcasestr(s.reqs[0].head, "\r\nContent-Type: application/json") != NULL);
    json_t *j = json_loads(s.reqs[0].body, 0, NULL);
    if (!j) fprintf(stderr, "  body: %s\n  head: %s\n", s.reqs[0].body, s.reqs[0].head);
    IA_CHECK(j && strcmp(jstr(j, "model"), "kokoro-v1") == 0 && strcmp(jstr(j, "input"), "Hello there.") == 0 &&
             strcmp(jstr(j, "voice"), "af_heart") == 0 && strcmp(jstr(j, "response_format"), "pcm") == 0);
    json_decref(j);
    srv_free(&s);
    free(h.v);
    ia_upstream_clear(&u);
}

IA_TEST(speech_upstream_default_voices_and_speakers) {
    make_pcm();
    srv s;
    IA_CHECK(srv_start(&s, 0, NULL) == 0);
    ia_upstream u;
    IA_CHECK(upstream_at(&s, ",api=speech,voice=af_bella", &u) == 0);
    heard h = {0};
    ia_err err = {0};
    IA_CHECK(ia_upstream_speak(&u, "One voice.", NULL, on_pcm, &h, NULL, &err) == 0 && same_as_sent(h.v, h.n));
    h.n = 0;
    ia_speech_entry two[2] = {{.voice = "af_heart", .speaker = "Alice"}, {.voice = "am_adam", .speaker = "Bob"}};
    ia_speech_cfg cfg = {.v = two, .n = 2, .listed = true};
    IA_CHECK(ia_upstream_speak(&u, "Alice: Hi Bob.\nBob: Hello Alice.", &cfg, on_pcm, &h, NULL, &err) == 0);
    IA_CHECK(ia_upstream_speak(&u, "  \n ", NULL, on_pcm, &h, NULL, &err) == 0); /* nothing to say: no request */
    srv_stop(&s);
    size_t pause = IA_SPEECH_RATE * IA_SPEECH_TURN_PAUSE_MS / 1000;
    IA_CHECK(h.n == 2 * N_PCM + pause);
    IA_CHECK(h.n == 2 * N_PCM + pause && same_as_sent(h.v, N_PCM) && same_as_sent(h.v + N_PCM + pause, N_PCM) &&
             h.v[N_PCM] == 0 && h.v[N_PCM + pause - 1] == 0);
    IA_CHECK(s.n == 3);
    const char *want[3][3] = {{"kokoro", "One voice.", "af_bella"}, {"kokoro", "Hi Bob.", "af_heart"},
                              {"kokoro", "Hello Alice.", "am_adam"}};
    for (int i = 0; i < 3 && i < s.n; i++) {
        json_t *j = json_loads(s.reqs[i].body, 0, NULL);
        const char *in = j ? jstr(j, "input") : NULL;
        IA_CHECK(j && strcmp(jstr(j, "model"), want[i][0]) == 0 && in && strstr(in, want[i][1]) &&
                 !strstr(in, "Alice:") && strcmp(jstr(j, "voice"), want[i][2]) == 0);
        json_decref(j);
    }
    srv_free(&s);
    free(h.v);
    ia_upstream_clear(&u);
    /* no voice= and none asked: alloy */
    IA_CHECK(srv_start(&s, 0, NULL) == 0);
    IA_CHECK(upstream_at(&s, ",api=speech", &u) == 0);
    h = (heard){0};
    IA_CHECK(ia_upstream_speak(&u, "Hi.", NULL, on_pcm, &h, NULL, &err) == 0);
    srv_stop(&s);
    IA_CHECK(s.n == 1 && strstr(s.reqs[0].body, "\"voice\":\"alloy\"") != NULL);
    srv_free(&s);
    free(h.v);
    ia_upstream_clear(&u);
}

static int one(int status, const char *body, ia_err *err) {
    srv s;
    if (srv_start(&s, status, body) != 0) return -2;
    ia_upstream u;
    upstream_at(&s, ",api=speech", &u);
    heard h = {0};
    int rc = ia_upstream_speak(&u, "Hi.", NULL, on_pcm, &h, NULL, err);
    srv_stop(&s);
    srv_free(&s);
    ia_upstream_clear(&u);
    free(h.v);
    return rc;
}

#define ERR_IS(rc, e, c, text) ((rc) == -1 && (e).code == (c) && strstr((e).msg, (text)) != NULL)

IA_TEST(speech_upstream_errors_named) {
    ia_err e = {0};
    int rc = one(400, "{\"error\":{\"message\":\"Voice 'Kore' not found\",\"type\":\"invalid_request_error\"}}", &e);
    IA_CHECK(ERR_IS(rc, e, IA_EINVALID, "upstream 'kokoro' refused the request (POST /v1/audio/speech: HTTP 400): "
                                        "Voice 'Kore' not found"));
    rc = one(422, "{\"detail\":\"input is empty\"}", &e);
    IA_CHECK(ERR_IS(rc, e, IA_EINVALID, "input is empty"));
    rc = one(429, "{}", &e);
    IA_CHECK(ERR_IS(rc, e, IA_ERATELIMIT, "upstream 'kokoro' is busy") && e.retry_after == 9);
    rc = one(503, "{}", &e);
    IA_CHECK(ERR_IS(rc, e, IA_EOVERLOADED, "upstream 'kokoro' is busy") && e.retry_after == 9);
    rc = one(500, "{\"error\":\"model crashed\"}", &e);
    IA_CHECK(ERR_IS(rc, e, IA_EUPSTREAM, "upstream 'kokoro' failed (POST /v1/audio/speech: HTTP 500): model crashed"));
    ia_upstream u;
    IA_CHECK(ia_upstream_parse("kokoro=http://127.0.0.1:1,api=speech", &u, &e) == 0);
    heard h = {0};
    rc = ia_upstream_speak(&u, "Hi.", NULL, on_pcm, &h, NULL, &e);
    ia_upstream_clear(&u);
    IA_CHECK(ERR_IS(rc, e, IA_EOVERLOADED, "upstream 'kokoro' is unreachable") && e.retry_after > 0 && h.n == 0);
    IA_CHECK(strstr(e.msg, "127.0.0.1") == NULL);
    /* the spec */
    IA_CHECK(ia_upstream_parse("sd=http://127.0.0.1:1,voice=x", &u, &e) == -1 &&
             strcmp(e.msg, "upstream 'sd': voice= is for a speech engine (api=speech)") == 0);
    IA_CHECK(ia_upstream_parse("sd=http://127.0.0.1:1,api=tts", &u, &e) == -1 && strstr(e.msg, "speech (OpenAI's /v1/audio/speech") != NULL);
}

IA_TEST(speech_upstream_timeout_and_cancel) {
    make_pcm();
    srv s;
    IA_CHECK(srv_start(&s, 1, NULL) == 0); /* one piece, then nothing */
    ia_upstream u;
    IA_CHECK(upstream_at(&s, ",api=speech,timeout=1", &u) == 0);
    heard h = {0};
    ia_err e = {0};
    int64_t t0 = ia_mono_ms();
    int rc = ia_upstream_speak(&u, "Hi.", NULL, on_pcm, &h, NULL, &e);
    IA_CHECK(ERR_IS(rc, e, IA_EDEADLINE, "upstream 'kokoro': no answer within 1 s"));
    ia_upstream_clear(&u);
    /* a cancel while the engine speaks aborts the transfer */
    IA_CHECK(upstream_at(&s, ",api=speech,timeout=30", &u) == 0);
    atomic_bool cancel = false;
    h.cancel_after_first = &cancel;
    t0 = ia_mono_ms();
    rc = ia_upstream_speak(&u, "Hi.", NULL, on_pcm, &h, &cancel, &e);
    int64_t ms = ia_mono_ms() - t0;
    srv_stop(&s);
    IA_CHECK(ERR_IS(rc, e, IA_ECANCELLED, "upstream 'kokoro': cancelled"));
    IA_CHECK(ms < 3000);
    srv_free(&s);
    free(h.v);
    ia_upstream_clear(&u);
}
