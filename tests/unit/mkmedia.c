/* mkmedia.c: media files written by hand for the engine tests (mkmedia.h). */
#include "mkmedia.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

/* A w×h binary PPM whose pixels follow seed. */
unsigned char *ppm(int w, int h, unsigned seed, size_t *len) {
    char hdr[32];
    int k = snprintf(hdr, sizeof hdr, "P6\n%d %d\n255\n", w, h);
    *len = (size_t)k + (size_t)w * h * 3;
    unsigned char *p = ia_xmalloc(*len);
    memcpy(p, hdr, (size_t)k);
    for (int i = 0; i < w * h * 3; i++) p[k + i] = (unsigned char)((i * (int)seed + (i / (w * 3)) * 37) ^ seed);
    return p;
}

void le16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
void le32(unsigned char *p, uint32_t v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }

/* A w×h 24-bit BMP (bottom-up BGR rows, each padded to 4 bytes): a
 * diagonal gradient, unlike any ppm() image. */
unsigned char *bmp(int w, int h, size_t *len) {
    size_t row = ((size_t)w * 3 + 3) & ~(size_t)3;
    *len = 54 + row * (size_t)h;
    unsigned char *p = ia_xcalloc(1, *len);
    p[0] = 'B';
    p[1] = 'M';
    le32(p + 2, (uint32_t)*len);
    le32(p + 10, 54);
    le32(p + 14, 40);
    le32(p + 18, (uint32_t)w);
    le32(p + 22, (uint32_t)h);
    le16(p + 26, 1);
    le16(p + 28, 24);
    le32(p + 34, (uint32_t)(row * (size_t)h));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *px = p + 54 + (size_t)y * row + (size_t)x * 3;
            px[0] = (unsigned char)(x * 8);
            px[1] = (unsigned char)(y * 8);
            px[2] = (unsigned char)((x + y) * 4);
        }
    return p;
}

/* secs of a 440 Hz sine, 16 kHz mono PCM16, as a WAV file. */
unsigned char *wav(double secs, size_t *len) {
    uint32_t n = (uint32_t)(16000 * secs), bytes = n * 2;
    *len = 44 + bytes;
    unsigned char *p = ia_xmalloc(*len);
    memcpy(p, "RIFF", 4);
    le32(p + 4, 36 + bytes);
    memcpy(p + 8, "WAVEfmt ", 8);
    le32(p + 16, 16);
    le16(p + 20, 1);      /* PCM */
    le16(p + 22, 1);      /* mono */
    le32(p + 24, 16000);  /* rate */
    le32(p + 28, 32000);  /* bytes per second */
    le16(p + 32, 2);      /* block align */
    le16(p + 34, 16);     /* bits */
    memcpy(p + 36, "data", 4);
    le32(p + 40, bytes);
    for (uint32_t i = 0; i < n; i++)
        le16(p + 44 + 2 * i, (unsigned)(uint16_t)(int16_t)(12000.0 * sin(2 * M_PI * 440.0 * i / 16000.0)));
    return p;
}
