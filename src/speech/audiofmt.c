/* audiofmt.c: audio output formats and their ffmpeg encoder (audiofmt.h). */
#include "speech/audiofmt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "speech/speech.h"

extern char **environ;

/* The rates libmp3lame and libopus take; the PCM formats take any rate in
 * [MIN_RATE, MAX_RATE]. */
static const int MP3_RATES[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 0};
static const int OPUS_RATES[] = {8000, 12000, 16000, 24000, 48000, 0};
#define MIN_RATE 8000
#define MAX_RATE 48000

static const struct format {
    const char *mime;     /* as the client names it */
    const char *out_mime; /* as the output says it (NULL: the L16 form) */
    const char *muxer, *codec;
    const int *rates;     /* NULL: any in range */
    int def_rate;
    int64_t def_bit_rate, min_bit_rate, max_bit_rate; /* 0: no bit rate */
} FORMATS[] = {
    {"audio/l16", NULL, "s16le", "pcm_s16le", NULL, IA_SPEECH_RATE, 0, 0, 0},
    {"audio/wav", "audio/wav", "wav", "pcm_s16le", NULL, IA_SPEECH_RATE, 0, 0, 0},
    {"audio/mp3", "audio/mp3", "mp3", "libmp3lame", MP3_RATES, IA_SPEECH_RATE, 64000, 8000, 320000},
    {"audio/ogg_opus", "audio/ogg", "ogg", "libopus", OPUS_RATES, IA_SPEECH_RATE, 32000, 6000, 510000},
    {"audio/alaw", "audio/alaw", "alaw", "pcm_alaw", NULL, 8000, 0, 0, 0},
    {"audio/mulaw", "audio/mulaw", "mulaw", "pcm_mulaw", NULL, 8000, 0, 0, 0},
};
#define N_FORMATS (sizeof FORMATS / sizeof *FORMATS)

static const char *served_list(void) {
    return "audio/l16, audio/wav, audio/mp3, audio/ogg_opus, audio/alaw or audio/mulaw";
}

static int check_rate(const struct format *f, int64_t rate, const char *path, ia_err *err) {
    if (f->rates) {
        for (const int *r = f->rates; *r; r++)
            if (*r == rate) return 0;
        char list[128] = "";
        for (const int *r = f->rates; *r; r++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%d", n ? ", " : "", *r);
        }
        return ia_fail(err, IA_EINVALID, "%s.sample_rate: %s takes %s Hz, not %lld", path, f->mime, list,
                       (long long)rate);
    }
    if (rate < MIN_RATE || rate > MAX_RATE)
        return ia_fail(err, IA_EINVALID, "%s.sample_rate: %lld Hz is out of range (%d to %d)", path, (long long)rate,
                       MIN_RATE, MAX_RATE);
    return 0;
}

static int check_bit_rate(const struct format *f, int64_t br, const char *path, ia_err *err) {
    if (!f->def_bit_rate)
        return ia_fail(err, IA_EINVALID, "%s.bit_rate: applies to the compressed formats (audio/mp3, "
                       "audio/ogg_opus), not %s; leave it out", path, f->mime);
    if (br < f->min_bit_rate || br > f->max_bit_rate)
        return ia_fail(err, IA_EINVALID, "%s.bit_rate: %lld b/s is out of range for %s (%lld to %lld)", path,
                       (long long)br, f->mime, (long long)f->min_bit_rate, (long long)f->max_bit_rate);
    return 0;
}

int ia_audio_spec_resolve(const ia_audio_fmt *a, const char *path, ia_audio_spec *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    const char *mime = a && a->set && a->mime_type[0] ? a->mime_type : "audio/l16";
    size_t k = 0;
    while (k < N_FORMATS && strcasecmp(FORMATS[k].mime, mime) != 0) k++;
    if (k == N_FORMATS)
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s.mime_type: '%s' is not served; speech comes as %s", path, mime,
                       served_list());
    const struct format *f = &FORMATS[k];
    if (a && a->set && a->delivery[0] && strcmp(a->delivery, "inline") != 0)
        return ia_fail(err, IA_EUNIMPLEMENTED, "%s.delivery: '%s' delivery is not served (audio comes inline, as "
                       "base64 data)", path, a->delivery);
    int64_t rate = a && a->set && a->sample_rate ? a->sample_rate : f->def_rate;
    if (check_rate(f, rate, path, err) < 0) return -1;
    if (a && a->set && a->bit_rate && check_bit_rate(f, a->bit_rate, path, err) < 0) return -1;
    out->kind = (int)k;
    out->rate = (int)rate;
    out->bit_rate = a && a->set && a->bit_rate ? a->bit_rate : f->def_bit_rate;
    if (f->out_mime) snprintf(out->mime, sizeof out->mime, "%s", f->out_mime);
    else snprintf(out->mime, sizeof out->mime, "audio/L16;codec=pcm;rate=%d", out->rate);
    out->passthrough = k == 0 && rate == IA_SPEECH_RATE;
    return 0;
}

/* ---- the encoder ------------------------------------------------------------ */

struct ia_audio_enc {
    const struct format *f;
    pid_t pid;
    int in_fd, out_fd;
    pthread_t reader;
    bool reading;
    pthread_mutex_t mu;
    uint8_t *buf;
    size_t len, cap;
};

/* Drains ffmpeg's output into buf until it closes it. */
static void *reader_main(void *arg) {
    ia_audio_enc *e = arg;
    uint8_t chunk[16384];
    for (;;) {
        ssize_t n = read(e->out_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pthread_mutex_lock(&e->mu);
        if (e->len + (size_t)n > e->cap) {
            e->cap = (e->len + (size_t)n) * 2;
            e->buf = ia_xrealloc(e->buf, e->cap);
        }
        memcpy(e->buf + e->len, chunk, (size_t)n);
        e->len += (size_t)n;
        pthread_mutex_unlock(&e->mu);
    }
    return NULL;
}

static pid_t spawn_ffmpeg(const ia_audio_spec *s, int in_rd, int out_wr) {
    const struct format *f = &FORMATS[s->kind];
    char in_rate[16], out_rate[16], br[24];
    snprintf(in_rate, sizeof in_rate, "%d", IA_SPEECH_RATE);
    snprintf(out_rate, sizeof out_rate, "%d", s->rate);
    snprintf(br, sizeof br, "%lld", (long long)s->bit_rate);
    const char *argv[40];
    int n = 0;
    const char *head[] = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar",
                          in_rate, "-ac", "1", "-i", "pipe:0", "-map_metadata", "-1", "-fflags", "+bitexact",
                          "-flags:a", "+bitexact", "-c:a", f->codec, "-ar", out_rate, "-ac", "1"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) argv[n++] = head[i];
    if (s->bit_rate) { argv[n++] = "-b:a"; argv[n++] = br; }
    if (strcmp(f->muxer, "mp3") == 0) { /* no ID3 tag, no Xing frame: plain frames, as streamed */
        argv[n++] = "-id3v2_version"; argv[n++] = "0"; argv[n++] = "-write_xing"; argv[n++] = "0";
    }
    argv[n++] = "-f"; argv[n++] = f->muxer; argv[n++] = "pipe:1"; argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_rd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_wr, 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawnp(&pid, "ffmpeg", &fa, NULL, (char *const *)argv, environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

ia_audio_enc *ia_audio_enc_open(const ia_audio_spec *s, ia_err *err) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0) {
        ia_fail(err, IA_EINTERNAL, "speech: cannot make a pipe for the %s encoder: %s", FORMATS[s->kind].mime,
                strerror(errno));
        return NULL;
    }
    if (pipe2(out, O_CLOEXEC) != 0) {
        ia_fail(err, IA_EINTERNAL, "speech: cannot make a pipe for the %s encoder: %s", FORMATS[s->kind].mime,
                strerror(errno));
        close(in[0]), close(in[1]);
        return NULL;
    }
    pid_t pid = spawn_ffmpeg(s, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]), close(out[0]);
        ia_fail(err, IA_EINTERNAL, "speech: cannot start ffmpeg to encode %s (is Debian's ffmpeg installed?)",
                FORMATS[s->kind].mime);
        return NULL;
    }
    ia_audio_enc *e = ia_xcalloc(1, sizeof *e);
    e->f = &FORMATS[s->kind];
    e->pid = pid;
    e->in_fd = in[1];
    e->out_fd = out[0];
    pthread_mutex_init(&e->mu, NULL);
    e->reading = pthread_create(&e->reader, NULL, reader_main, e) == 0;
    if (!e->reading) {
        ia_fail(err, IA_EINTERNAL, "speech: cannot start the encoder's reader thread");
        ia_audio_enc_free(e);
        return NULL;
    }
    return e;
}

int ia_audio_enc_write(ia_audio_enc *e, const int16_t *pcm, size_t n, ia_err *err) {
    const uint8_t *p = (const uint8_t *)pcm; /* little-endian hosts: s16le as is */
    size_t left = n * sizeof *pcm;
    while (left) {
        ssize_t w = write(e->in_fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return ia_fail(err, IA_EINTERNAL, "speech: the %s encoder (ffmpeg) stopped: %s", e->f->mime,
                           w < 0 ? strerror(errno) : "no progress");
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

size_t ia_audio_enc_take(ia_audio_enc *e, size_t from, uint8_t **out) {
    pthread_mutex_lock(&e->mu);
    size_t len = e->len;
    *out = NULL;
    if (from < len) {
        *out = ia_xmalloc(len - from);
        memcpy(*out, e->buf + from, len - from);
    }
    pthread_mutex_unlock(&e->mu);
    return len;
}

static int reap(ia_audio_enc *e) {
    int status = 0;
    while (waitpid(e->pid, &status, 0) < 0 && errno == EINTR) {}
    e->pid = -1;
    return status;
}

int ia_audio_enc_finish(ia_audio_enc *e, ia_err *err) {
    if (e->in_fd >= 0) close(e->in_fd);
    e->in_fd = -1;
    if (e->reading) pthread_join(e->reader, NULL);
    e->reading = false;
    int status = e->pid > 0 ? reap(e) : 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return ia_fail(err, IA_EINTERNAL, "speech: ffmpeg failed to encode %s (status %d)", e->f->mime, status);
    return 0;
}

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A WAV streamed with 0xFFFFFFFF sizes gets its real RIFF and data sizes. */
static void fix_wav(uint8_t *b, size_t len) {
    if (len < 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0 || len - 8 > UINT32_MAX) return;
    put_le32(b + 4, (uint32_t)(len - 8));
    for (size_t at = 12; at + 8 <= len;) {
        uint32_t sz = (uint32_t)b[at + 4] | (uint32_t)b[at + 5] << 8 | (uint32_t)b[at + 6] << 16 |
                      (uint32_t)b[at + 7] << 24;
        if (memcmp(b + at, "data", 4) == 0) {
            put_le32(b + at + 4, (uint32_t)(len - at - 8));
            return;
        }
        if (sz > len - at - 8) return;
        at += 8 + sz + (sz & 1);
    }
}

uint8_t *ia_audio_enc_stored(ia_audio_enc *e, size_t *len) {
    uint8_t *b = NULL;
    *len = ia_audio_enc_take(e, 0, &b);
    if (b && strcmp(e->f->muxer, "wav") == 0) fix_wav(b, *len);
    return b;
}

void ia_audio_enc_free(ia_audio_enc *e) {
    if (!e) return;
    if (e->in_fd >= 0) close(e->in_fd);
    if (e->pid > 0) kill(e->pid, SIGKILL); /* cut short: the output is not wanted */
    if (e->reading) pthread_join(e->reader, NULL);
    if (e->pid > 0) reap(e);
    if (e->out_fd >= 0) close(e->out_fd);
    pthread_mutex_destroy(&e->mu);
    free(e->buf);
    free(e);
}
