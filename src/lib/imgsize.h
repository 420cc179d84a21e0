/* imgsize: an image's width and height from its header alone (PNG, GIF,
 * BMP, JPEG, WebP), so that a file tiny on the wire but huge decoded (a
 * "decompression bomb") is refused before any decoder allocates for it.
 * Pure; reads only within data[0..len). */
#ifndef IA_LIB_IMGSIZE_H
#define IA_LIB_IMGSIZE_H

#include <stddef.h>
#include <stdint.h>

/* 0 with *w and *h, or -1 when the format is not one of these or its header
 * is cut short. */
int ia_image_size(const uint8_t *data, size_t len, uint32_t *w, uint32_t *h);

#endif
