/* mkmedia: small media files made in memory for the engine tests, in
 * formats libmtmd's decoders read (stb_image, miniaudio). Each returns a
 * malloc'd file of *len bytes. */
#ifndef IA_TESTS_UNIT_MKMEDIA_H
#define IA_TESTS_UNIT_MKMEDIA_H

#include <stddef.h>
#include <stdint.h>

/* Little-endian 16 and 32-bit fields. */
void le16(unsigned char *p, unsigned v);
void le32(unsigned char *p, uint32_t v);
/* A w×h binary PPM whose pixels follow seed. */
unsigned char *ppm(int w, int h, unsigned seed, size_t *len);
/* A w×h 24-bit BMP: a diagonal gradient, unlike any ppm() image. */
unsigned char *bmp(int w, int h, size_t *len);
/* secs of a 440 Hz sine, 16 kHz mono PCM16, as a WAV file. */
unsigned char *wav(double secs, size_t *len);

#endif
