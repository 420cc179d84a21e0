/* test_audiofmt.c: speech's audio formats (src/speech/audiofmt.c) through
 * the real ffmpeg, each output read back by Debian's ffprobe: codec, rate,
 * channels and length; streamed pieces join to the whole; the same PCM
 * gives the same bytes; a WAV's stored sizes are its real ones. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "speech/audiofmt.h"
#include "speech/speech.h"
#include "unit.h"

/* One second of a 440 Hz tone at the engines' rate. */
static int16_t *tone(size_t *n) {
    *n = IA_SPEECH_RATE;
    int16_t *p = malloc(*n * sizeof *p);
    for (size_t i = 0; i < *n; i++) p[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * (double)i / IA_SPEECH_RATE));
    return p;
}

/* Encodes pcm in four pieces, taking the bytes after each; returns the
 * whole as stored (and in *streamed the pieces joined). */
static uint8_t *encode(const ia_audio_spec *spec, const int16_t *pcm, size_t n, size_t *len, uint8_t **streamed,
                       size_t *slen) {
    ia_err err = {0};
    ia_audio_enc *e = ia_audio_enc_open(spec, &err);
    if (!e) {
        fprintf(stderr, "    open: %s\n", err.msg);
        return NULL;
    }
    uint8_t *all = NULL;
    size_t got = 0;
    for (int k = 0; k < 4; k++) {
        if (ia_audio_enc_write(e, pcm + k * (n / 4), n / 4, &err) < 0) fprintf(stderr, "    write: %s\n", err.msg);
        uint8_t *b = NULL;
        size_t l = ia_audio_enc_take(e, got, &b);
        all = ia_xrealloc(all, l + 1);
        if (b) memcpy(all + got, b, l - got);
        free(b);
        got = l;
    }
    int rc = ia_audio_enc_finish(e, &err);
    if (rc < 0) fprintf(stderr, "    finish: %s\n", err.msg);
    uint8_t *b = NULL;
    size_t l = ia_audio_enc_take(e, got, &b);
    all = ia_xrealloc(all, l + 1);
    if (b) memcpy(all + got, b, l - got);
    free(b);
    *streamed = all;
    *slen = l;
    uint8_t *stored = rc == 0 ? ia_audio_enc_stored(e, len) : NULL;
    ia_audio_enc_free(e);
    return stored;
}

/* ffprobe's "codec_name,sample_rate,channels,duration" of the bytes. */
static void probe(const uint8_t *b, size_t len, const char *demux, char *out, size_t cap) {
    char path[] = "/tmp/ia-audiofmt-XXXXXX";
    int fd = mkstemp(path);
    out[0] = '\0';
    if (fd < 0) return;
    if (write(fd, b, len) != (ssize_t)len) {
        close(fd);
        return;
    }
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error %s%s -show_entries stream=codec_name,sample_rate,channels:format=duration "
             "-of csv=p=0 %s 2>&1 | tr '\\n' ','", demux ? "-f " : "", demux ? demux : "", path);
    FILE *p = popen(cmd, "r");
    if (p) {
        size_t n = fread(out, 1, cap - 1, p);
        out[n] = '\0';
        pclose(p);
    }
    unlink(path);
}

static ia_audio_spec spec_of(const char *mime, int64_t rate, int64_t br) {
    ia_audio_fmt f = {.set = true, .sample_rate = rate, .bit_rate = br};
    snprintf(f.mime_type, sizeof f.mime_type, "%s", mime);
    ia_audio_spec s;
    ia_err err = {0};
    if (ia_audio_spec_resolve(&f, "response_format", &s, &err) < 0) fprintf(stderr, "    %s\n", err.msg);
    return s;
}

IA_TEST(audiofmt_defaults_and_passthrough) {
    ia_audio_spec s;
    ia_err err = {0};
    IA_CHECK(ia_audio_spec_resolve(NULL, "response_format", &s, &err) == 0);
    IA_CHECK(s.passthrough && s.rate == IA_SPEECH_RATE && strcmp(s.mime, IA_SPEECH_MIME) == 0);
    s = spec_of("audio/l16", 16000, 0);
    IA_CHECK(!s.passthrough && strcmp(s.mime, "audio/L16;codec=pcm;rate=16000") == 0);
    s = spec_of("audio/mulaw", 0, 0);
    IA_CHECK(s.rate == 8000 && strcmp(s.mime, "audio/mulaw") == 0);
    s = spec_of("AUDIO/MP3", 0, 0);
    IA_CHECK(s.rate == 24000 && s.bit_rate == 64000 && strcmp(s.mime, "audio/mp3") == 0);
    s = spec_of("audio/ogg_opus", 48000, 0);
    IA_CHECK(s.rate == 48000 && s.bit_rate == 32000 && strcmp(s.mime, "audio/ogg") == 0);
}

/* Each format: ffprobe reads the codec and rate asked for, about a second
 * long; the streamed pieces are the stored bytes (a WAV's header sizes
 * aside); the same PCM encodes to the same bytes. */
IA_TEST(audiofmt_each_format_is_what_ffprobe_reads) {
    static const struct {
        const char *mime, *demux, *expect;
        int64_t rate;
    } cases[] = {
        {"audio/wav", NULL, "pcm_s16le,16000,1", 16000},
        {"audio/mp3", NULL, "mp3,22050,1", 22050},
        {"audio/ogg_opus", NULL, "opus,48000,1", 0}, /* Ogg Opus always decodes at 48 kHz */
        {"audio/alaw", "alaw -ar 8000 -ac 1", "pcm_alaw,8000,1", 0},
        {"audio/mulaw", "mulaw -ar 8000 -ac 1", "pcm_mulaw,8000,1", 0},
        {"audio/l16", "s16le -ar 16000 -ac 1", "pcm_s16le,16000,1", 16000},
    };
    size_t n;
    int16_t *pcm = tone(&n);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ia_audio_spec s = spec_of(cases[i].mime, cases[i].rate, 0);
        size_t len = 0, slen = 0, len2 = 0, slen2 = 0;
        uint8_t *streamed = NULL, *streamed2 = NULL;
        uint8_t *b = encode(&s, pcm, n, &len, &streamed, &slen);
        uint8_t *b2 = encode(&s, pcm, n, &len2, &streamed2, &slen2);
        IA_CHECK(b && len > 100 && slen == len);
        char info[256];
        probe(b, len, cases[i].demux, info, sizeof info);
        if (!strstr(info, cases[i].expect)) fprintf(stderr, "    %s: ffprobe says '%s'\n", cases[i].mime, info);
        IA_CHECK(strstr(info, cases[i].expect) != NULL);
        const char *d = strrchr(info, ',') ? info : "";
        double secs = 0;
        for (const char *c = d; *c; c++) /* the duration: the last number in the report */
            if ((c == d || c[-1] == ',') && *c >= '0' && *c <= '9') secs = atof(c);
        IA_CHECK(secs > 0.9 && secs < 1.2);
        bool wav = strcmp(cases[i].mime, "audio/wav") == 0;
        IA_CHECK(len == slen && (wav ? memcmp(b + 44, streamed + 44, len - 44) == 0 : memcmp(b, streamed, len) == 0));
        IA_CHECK(len2 == len && memcmp(b, b2, len) == 0); /* bit-exact */
        if (wav) {
            IA_CHECK(memcmp(streamed + 4, "\xff\xff\xff\xff", 4) == 0); /* streamed: size unknown */
            uint32_t riff = b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24;
            uint32_t data = b[40] | b[41] << 8 | b[42] << 16 | (uint32_t)b[43] << 24;
            IA_CHECK(riff == len - 8 && data == len - 44 && data == 2 * 16000);
        }
        free(b), free(b2), free(streamed), free(streamed2);
    }
    free(pcm);
}

IA_TEST(audiofmt_bit_rate_changes_the_size) {
    size_t n;
    int16_t *pcm = tone(&n);
    size_t lo = 0, hi = 0, s1 = 0, s2 = 0;
    uint8_t *x1 = NULL, *x2 = NULL;
    ia_audio_spec a = spec_of("audio/mp3", 24000, 32000), b = spec_of("audio/mp3", 24000, 128000);
    uint8_t *p = encode(&a, pcm, n, &lo, &x1, &s1), *q = encode(&b, pcm, n, &hi, &x2, &s2);
    IA_CHECK(p && q && hi > lo * 3); /* 4x the bits a second, about 4x the bytes */
    free(p), free(q), free(x1), free(x2), free(pcm);
}

/* Freed before finish (a cancelled run): the child is killed and reaped. */
IA_TEST(audiofmt_free_midway_stops_the_encoder) {
    size_t n;
    int16_t *pcm = tone(&n);
    ia_audio_spec s = spec_of("audio/ogg_opus", 0, 0);
    ia_err err = {0};
    ia_audio_enc *e = ia_audio_enc_open(&s, &err);
    IA_CHECK(e && ia_audio_enc_write(e, pcm, n / 2, &err) == 0);
    ia_audio_enc_free(e);
    free(pcm);
}
