/* imgsize.c: image dimensions from headers (imgsize.h). */
#include "lib/imgsize.h"

#include <string.h>

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le24(const uint8_t *p) { return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }
static uint32_t le32(const uint8_t *p) { return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]; }

/* JPEG: the first start-of-frame marker (SOF0..SOF15 but DHT, JPG, DAC). */
static int jpeg(const uint8_t *d, size_t len, uint32_t *w, uint32_t *h) {
    size_t i = 2;
    while (i + 4 <= len) {
        if (d[i] != 0xFF) return -1;
        uint8_t m = d[i + 1];
        if (m == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { /* no length */
            i += 2;
            continue;
        }
        size_t seg = be16(d + i + 2);
        if (seg < 2) return -1;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > len) return -1;
            *h = be16(d + i + 5);
            *w = be16(d + i + 7);
            return 0;
        }
        i += 2 + seg;
    }
    return -1;
}

/* WebP: the first chunk of a RIFF "WEBP" file says. */
static int webp(const uint8_t *d, size_t len, uint32_t *w, uint32_t *h) {
    if (len < 30) return -1;
    if (!memcmp(d + 12, "VP8X", 4)) {
        *w = le24(d + 24) + 1;
        *h = le24(d + 27) + 1;
        return 0;
    }
    if (!memcmp(d + 12, "VP8L", 4)) {
        uint32_t b = le32(d + 21);
        *w = (b & 0x3FFF) + 1;
        *h = ((b >> 14) & 0x3FFF) + 1;
        return 0;
    }
    if (!memcmp(d + 12, "VP8 ", 4)) {
        *w = le16(d + 26) & 0x3FFF;
        *h = le16(d + 28) & 0x3FFF;
        return 0;
    }
    return -1;
}

int ia_image_size(const uint8_t *d, size_t len, uint32_t *w, uint32_t *h) {
    if (len >= 24 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8) && !memcmp(d + 12, "IHDR", 4)) {
        *w = be32(d + 16);
        *h = be32(d + 20);
        return 0;
    }
    if (len >= 10 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) {
        *w = le16(d + 6);
        *h = le16(d + 8);
        return 0;
    }
    if (len >= 26 && d[0] == 'B' && d[1] == 'M') {
        int32_t bw = (int32_t)le32(d + 18), bh = (int32_t)le32(d + 22);
        *w = bw < 0 ? (uint32_t)0 - (uint32_t)bw : (uint32_t)bw;
        *h = bh < 0 ? (uint32_t)0 - (uint32_t)bh : (uint32_t)bh; /* negative: stored top-down */
        return 0;
    }
    if (len >= 4 && d[0] == 0xFF && d[1] == 0xD8) return jpeg(d, len, w, h);
    if (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return webp(d, len, w, h);
    return -1;
}
