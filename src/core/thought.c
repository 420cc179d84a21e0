/* thought.c: sealing and opening reasoning signatures (thought.h) with
 * OpenSSL's AES-256-GCM. The nonce is random per signature (96 bits: no
 * reuse in any realistic number of thoughts under one key); the "v1."
 * prefix leaves room for a later scheme. */
#include "core/thought.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define NONCE 12
#define TAG 16

int ia_thought_key(ia_store *s, uint8_t key[IA_THOUGHT_KEY_LEN], ia_err *err) {
    char *hex = NULL;
    if (ia_store_meta_get(s, "thought_key", &hex, err) != 0) return -1;
    if (hex && strlen(hex) == 2 * IA_THOUGHT_KEY_LEN) {
        for (size_t i = 0; i < IA_THOUGHT_KEY_LEN; i++) {
            unsigned v;
            if (sscanf(hex + 2 * i, "%2x", &v) != 1) break;
            key[i] = (uint8_t)v;
        }
        free(hex);
        return 0;
    }
    free(hex);
    if (ia_random(key, IA_THOUGHT_KEY_LEN) != 0) return ia_fail(err, IA_EINTERNAL, "no randomness for the thought key");
    char out[2 * IA_THOUGHT_KEY_LEN + 1];
    for (size_t i = 0; i < IA_THOUGHT_KEY_LEN; i++) snprintf(out + 2 * i, 3, "%02x", key[i]);
    return ia_store_meta_put(s, "thought_key", out, err);
}

char *ia_thought_seal(const uint8_t key[IA_THOUGHT_KEY_LEN], const char *reasoning) {
    size_t n = strlen(reasoning ? reasoning : "");
    uint8_t *buf = ia_xmalloc(NONCE + n + TAG);
    char *out = NULL;
    int len = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || ia_random(buf, NONCE) != 0) goto done;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1) goto done;
    if (n && EVP_EncryptUpdate(ctx, buf + NONCE, &len, (const uint8_t *)reasoning, (int)n) != 1) goto done;
    if (EVP_EncryptFinal_ex(ctx, buf + NONCE + len, &len) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, buf + NONCE + n) != 1) goto done;
    out = ia_xmalloc(3 + 4 * ((NONCE + n + TAG + 2) / 3) + 1);
    memcpy(out, "v1.", 3);
    ia_b64url_encode(buf, NONCE + n + TAG, out + 3);
done:
    EVP_CIPHER_CTX_free(ctx);
    free(buf);
    return out;
}

char *ia_thought_open(const uint8_t key[IA_THOUGHT_KEY_LEN], const char *sig) {
    if (!sig || strncmp(sig, "v1.", 3) != 0) return NULL;
    size_t slen = strlen(sig + 3);
    uint8_t *buf = ia_xmalloc(slen + 1);
    char *out = NULL;
    long blen = ia_b64url_decode(sig + 3, slen, buf, slen + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || blen < NONCE + TAG) goto done;
    size_t n = (size_t)blen - NONCE - TAG;
    out = ia_xmalloc(n + 1);
    int len = 0;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf) != 1) goto fail;
    if (n && EVP_DecryptUpdate(ctx, (uint8_t *)out, &len, buf + NONCE, (int)n) != 1) goto fail;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, buf + NONCE + n) != 1) goto fail;
    if (EVP_DecryptFinal_ex(ctx, (uint8_t *)out + len, &len) != 1) goto fail; /* the tag did not match */
    out[n] = '\0';
    if (strlen(out) != n) goto fail; /* a NUL inside: never one of ours */
    goto done;
fail:
    free(out);
    out = NULL;
done:
    EVP_CIPHER_CTX_free(ctx);
    free(buf);
    return out;
}

int ia_thought_open_all(const uint8_t key[IA_THOUGHT_KEY_LEN], ia_conv *conv, ia_err *err) {
    for (size_t i = 0; i < conv->n; i++)
        for (size_t k = 0; k < conv->turns[i].n; k++) {
            ia_content *it = &conv->turns[i].items[k];
            if (it->kind != IA_CONTENT_THOUGHT) continue;
            char *reasoning = ia_thought_open(key, it->signature);
            if (!reasoning)
                return ia_fail(err, IA_EINVALID, "input: a thought's signature is not valid (forged, altered, or "
                                                 "issued by another server)");
            free(it->text);
            it->text = reasoning;
        }
    return 0;
}
