/* seqstate.c: see seqstate.h. The neutral form:
 *   u32 MAGIC, u32 n (sections, 1 or 2), u64 length of each section,
 *   llama.cpp's own 8-byte prefix (its magic and the sequence id), then
 *   each section as a one-stream cache writes it: u32 1, then the
 *   sequence's stream (u32 cell count, cells) — or u32 1, u32 0 when empty.
 * A section of n streams holds the sequence in one stream at most (a
 * sequence lives in its own stream), so narrowing drops the other
 * streams' zero counts and widening adds them back. */
#include "engine/seqstate.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MAGIC 0x31535149u /* "IQS1" */
#define MAX_SECTIONS 2
#define PREFIX 8 /* llama_context's state magic and sequence id */

static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Finds in a section of raw bytes [p, p+len) the sequence's stream: its
 * offset and length (0 when every stream is empty). False when the bytes
 * are not a stream-count header, zero counts around one stream. */
static bool find_stream(const uint8_t *p, size_t len, size_t *off, size_t *n) {
    if (len < 4) return false;
    uint32_t ns = rd32(p);
    if (ns == 0 || (size_t)ns > (len - 4) / 4) return false;
    uint32_t k = 0;
    while (k < ns && rd32(p + 4 + 4 * (size_t)k) == 0) k++;
    if (k == ns) { /* empty: the section is the header and ns zeros */
        *off = *n = 0;
        return len == 4 + 4 * (size_t)ns;
    }
    size_t tail = 4 * (size_t)(ns - k - 1), start = 4 + 4 * (size_t)k;
    if (start + 4 + tail > len) return false;
    for (size_t i = 0; i < tail; i += 4)
        if (rd32(p + len - tail + i) != 0) return false;
    *off = start;
    *n = len - tail - start;
    return true;
}

uint8_t *ia_seqstate_get(struct llama_context *ctx, int seq, bool streams, size_t *size) {
    size_t total = llama_state_seq_get_size(ctx, seq);
    if (total <= PREFIX) return NULL;
    uint8_t *raw = ia_xmalloc_big(total);
    if (llama_state_seq_get_data(ctx, raw, total, seq) != total) {
        free(raw);
        return NULL;
    }
    if (!streams) {
        *size = total;
        return raw;
    }
    /* Two caches (a sliding-window model's): the second alone is what
     * PARTIAL_ONLY writes. */
    size_t part = llama_state_seq_get_size_ext(ctx, seq, LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY);
    size_t lens[MAX_SECTIONS] = {total - PREFIX, 0}, offs[MAX_SECTIONS], ns[MAX_SECTIONS];
    int nsec = 1;
    if (part > PREFIX && part < total) {
        lens[0] = total - part;
        lens[1] = part - PREFIX;
        nsec = 2;
    }
    size_t out = 8 + 8 * (size_t)nsec + PREFIX, at = PREFIX;
    for (int i = 0; i < nsec; i++) {
        if (!find_stream(raw + at, lens[i], &offs[i], &ns[i])) {
            free(raw);
            return NULL;
        }
        offs[i] += at;
        at += lens[i];
        out += 4 + (ns[i] ? ns[i] : 4);
    }
    uint8_t *buf = ia_xmalloc_big(out), *w = buf + 8 + 8 * (size_t)nsec;
    memcpy(w, raw, PREFIX);
    w += PREFIX;
    wr32(buf, MAGIC);
    wr32(buf + 4, (uint32_t)nsec);
    for (int i = 0; i < nsec; i++) {
        uint64_t l = 4 + (ns[i] ? ns[i] : 4);
        memcpy(buf + 8 + 8 * (size_t)i, &l, 8);
        wr32(w, 1);
        if (ns[i]) memcpy(w + 4, raw + offs[i], ns[i]);
        else wr32(w + 4, 0);
        w += l;
    }
    free(raw);
    *size = out;
    return buf;
}

bool ia_seqstate_set(struct llama_context *ctx, int seq, bool streams, const uint8_t *buf, size_t size) {
    if (!streams) return llama_state_seq_set_data(ctx, buf, size, seq) == size;
    if (size < 8 || rd32(buf) != MAGIC) return false;
    uint32_t nsec = rd32(buf + 4);
    if (nsec < 1 || nsec > MAX_SECTIONS || size < 8 + 8 * (size_t)nsec + PREFIX) return false;
    uint32_t n_stream = llama_n_seq_max(ctx);
    size_t at = 8 + 8 * (size_t)nsec + PREFIX, need = PREFIX;
    uint64_t lens[MAX_SECTIONS];
    for (uint32_t i = 0; i < nsec; i++) {
        memcpy(&lens[i], buf + 8 + 8 * (size_t)i, 8);
        if (lens[i] < 8 || lens[i] > size - at || rd32(buf + at) != 1) return false;
        at += lens[i];
        need += lens[i] + 4 * (size_t)(n_stream - 1);
    }
    if (at != size) return false;
    uint8_t *wide = ia_xmalloc_big(need), *w = wide;
    at = 8 + 8 * (size_t)nsec;
    memcpy(w, buf + at, PREFIX);
    w += PREFIX;
    at += PREFIX;
    for (uint32_t i = 0; i < nsec; i++) {
        /* [n_stream][the stream][n_stream - 1 zero counts]: llama.cpp puts
         * a single sequence's cells into that sequence's own stream
         * whatever their place among the counts. */
        wr32(w, n_stream);
        memcpy(w + 4, buf + at + 4, lens[i] - 4);
        w += lens[i];
        memset(w, 0, 4 * (size_t)(n_stream - 1));
        w += 4 * (size_t)(n_stream - 1);
        at += lens[i];
    }
    bool ok = llama_state_seq_set_data(ctx, wide, need, seq) == need;
    free(wide);
    return ok;
}
