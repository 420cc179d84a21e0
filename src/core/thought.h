/* thought: the signatures that make a model's reasoning safe to hand to a
 * client and take back. A signature seals the exact reasoning with
 * AES-256-GCM under a server key kept in the store's meta table: the
 * client cannot read more than the summary we chose to show, cannot alter
 * it, and in stateless mode the server recovers the very text the model
 * wrote, so the re-rendered prompt matches what the model saw. Internal to
 * src/core/. */
#ifndef IA_CORE_THOUGHT_H
#define IA_CORE_THOUGHT_H

#include <stdint.h>

#include "lib/err.h"
#include "store/store.h"

#define IA_THOUGHT_KEY_LEN 32

/* Loads the key from meta "thought_key" (hex), creating and storing a fresh
 * random one the first time. 0 / -1 with err. */
int ia_thought_key(ia_store *s, uint8_t key[IA_THOUGHT_KEY_LEN], ia_err *err);
/* "v1." + base64url(nonce 12 | ciphertext | tag 16) of reasoning; malloc'd. */
char *ia_thought_seal(const uint8_t key[IA_THOUGHT_KEY_LEN], const char *reasoning);
/* The reasoning sealed in sig (malloc'd), or NULL when sig is not one of
 * ours under this key (forged, altered, another server's). */
char *ia_thought_open(const uint8_t key[IA_THOUGHT_KEY_LEN], const char *sig);
/* Thoughts sent back (stateless history) are replayed from their
 * signature: each thought item of conv gets its exact reasoning, or a 400
 * for one this server did not seal. */
int ia_thought_open_all(const uint8_t key[IA_THOUGHT_KEY_LEN], ia_conv *conv, ia_err *err);

#endif
