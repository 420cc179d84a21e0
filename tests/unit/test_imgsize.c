/* test_imgsize: image dimensions from headers (lib/imgsize.c) for real
 * files made at test time by Debian's ffmpeg (PNG, GIF, BMP, JPEG, WebP
 * lossy and lossless, when ffmpeg is there), a PNG header claiming a huge
 * image, and cut or foreign bytes refused. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imgsize.h"
#include "lib/util.h"

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = ia_xmalloc(1 << 22);
    *len = fread(buf, 1, 1 << 22, f);
    fclose(f);
    return buf;
}

IA_TEST(imgsize_real_files_from_ffmpeg) {
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        printf("  (skipped: no ffmpeg)\n");
        return;
    }
    static const char *const ext[] = {"png", "gif", "bmp", "jpg", "webp"};
    for (int lossless = 0; lossless < 2; lossless++)
        for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
            if (lossless && strcmp(ext[i], "webp")) continue;
            char path[512], cmd[1024];
            snprintf(path, sizeof path, "%s/img-%d.%s", ia_test_tmpdir(), lossless, ext[i]);
            snprintf(cmd, sizeof cmd,
                     "ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=321x123:rate=1 -frames:v 1 %s '%s'",
                     lossless ? "-lossless 1" : "", path);
            if (system(cmd) != 0) {
                printf("  (ffmpeg could not write %s; skipped)\n", ext[i]);
                continue;
            }
            size_t len = 0;
            unsigned char *d = slurp(path, &len);
            uint32_t w = 0, h = 0;
            int rc = d ? ia_image_size(d, len, &w, &h) : -1;
            if (rc != 0 || w != 321 || h != 123) printf("  %s%s: rc %d, %u x %u\n", ext[i], lossless ? " lossless" : "", rc, w, h);
            IA_CHECK(rc == 0 && w == 321 && h == 123);
            /* every cut of the header is refused or reads within bounds */
            for (size_t k = 0; d && k < len && k < 64; k++) {
                uint32_t a, b;
                (void)ia_image_size(d, k, &a, &b);
            }
            free(d);
        }
}

IA_TEST(imgsize_claims_and_refusals) {
    unsigned char png[24] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    png[16] = 0; png[17] = 0; png[18] = 0x4e; png[19] = 0x20; /* 20000 */
    png[20] = 0; png[21] = 0; png[22] = 0x4e; png[23] = 0x20;
    uint32_t w = 0, h = 0;
    IA_CHECK(ia_image_size(png, sizeof png, &w, &h) == 0 && w == 20000 && h == 20000);
    IA_CHECK(ia_image_size(png, 20, &w, &h) == -1);
    IA_CHECK(ia_image_size((const uint8_t *)"hello world, not an image", 25, &w, &h) == -1);
    IA_CHECK(ia_image_size((const uint8_t *)"", 0, &w, &h) == -1);
    const uint8_t jpeg_cut[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10};
    IA_CHECK(ia_image_size(jpeg_cut, sizeof jpeg_cut, &w, &h) == -1);
}
