/* auth: the set of API keys the server accepts. Keys are kept only as their
 * SHA-256 (the same hash that becomes an interaction's owner), and a lookup
 * hashes the presented key and compares it with every entry without stopping
 * early, so neither timing nor a memory dump gives keys away. */
#include "http/http.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct ia_http_keys {
    char (*hash)[65];
    size_t n, cap;
};

ia_http_keys *ia_http_keys_new(void) { return ia_xcalloc(1, sizeof(ia_http_keys)); }

void ia_http_keys_free(ia_http_keys *k) {
    if (!k) return;
    free(k->hash);
    free(k);
}

/* Adds s[0..n) after trimming blanks. */
static void add_span(ia_http_keys *k, const char *s, size_t n) {
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (!n) return;
    char h[65];
    ia_sha256_hex(s, n, h);
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->hash[i], h)) return; /* a duplicate changes nothing */
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4;
        k->hash = ia_xrealloc(k->hash, k->cap * sizeof *k->hash);
    }
    memcpy(k->hash[k->n++], h, 65);
}

void ia_http_keys_add(ia_http_keys *k, const char *key) {
    if (key) add_span(k, key, strlen(key));
}

void ia_http_keys_add_list(ia_http_keys *k, const char *csv) {
    if (!csv) return;
    while (*csv) {
        const char *comma = strchr(csv, ',');
        size_t n = comma ? (size_t)(comma - csv) : strlen(csv);
        add_span(k, csv, n);
        csv += n;
        if (*csv == ',') csv++;
    }
}

int ia_http_keys_load_file(ia_http_keys *k, const char *path, ia_err *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ia_fail(err, IA_EINVALID, "cannot read API keys file %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        const char *p = line;
        while (*p && isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == '\0') continue;
        add_span(k, line, (size_t)n);
    }
    free(line);
    fclose(f);
    return 0;
}

size_t ia_http_keys_count(const ia_http_keys *k) { return k ? k->n : 0; }

bool ia_http_keys_check(const ia_http_keys *k, const char *key, char owner[65]) {
    if (!k || !key) return false;
    char h[65];
    ia_sha256_hex(key, strlen(key), h);
    int found = 0;
    for (size_t i = 0; i < k->n; i++) found |= CRYPTO_memcmp(k->hash[i], h, 64) == 0;
    if (found) memcpy(owner, h, 65);
    return found != 0;
}
