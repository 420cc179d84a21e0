/* seqstate.c: see seqstate.h. The neutral form is llama.cpp's bytes
 * behind a fixed header that says where each section's one non-empty
 * stream lies:
 *   u32 MAGIC, u32 sections (1 or 2), u32 the source's stream count, u32 0,
 *   per section (two slots): u64 offset and u64 length of that stream's
 *   bytes (its cell count and cells) within llama.cpp's bytes, length 0
 *   when the section is empty;
 *   then llama.cpp's bytes as it wrote them.
 * A section of n streams holds the sequence in one stream at most (a
 * sequence lives in its own stream). A context with the source's stream
 * count reads llama.cpp's bytes as they are (no copy: llama.cpp puts a
 * single sequence's cells into that sequence's own stream, whatever their
 * place among the counts); another gets each section rebuilt with its own
 * count of streams around the one that holds cells. */
#include "engine/seqstate.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MAGIC 0x32535149u /* "IQS2" */
#define MAX_SECTIONS 2
#define HEADER (16 + 16 * MAX_SECTIONS)
#define PREFIX 8 /* llama_context's state magic and sequence id */

static uint32_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Finds in a section of raw bytes [p, p+len) the sequence's stream: its
 * offset and length (0 when every stream is empty). False when the bytes
 * are not a stream-count header, zero counts around one stream. */
static bool find_stream(const uint8_t *p, size_t len, uint32_t ns, size_t *off, size_t *n) {
    if (len < 4 || rd32(p) != ns || (size_t)ns > (len - 4) / 4) return false;
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
    size_t h = streams ? HEADER : 0;
    uint8_t *buf = ia_xmalloc_big(h + total), *raw = buf + h;
    if (llama_state_seq_get_data(ctx, raw, total, seq) != total) {
        free(buf);
        return NULL;
    }
    *size = h + total;
    if (!streams) return buf;
    /* Two caches (a sliding-window model's): the second alone is what
     * PARTIAL_ONLY writes. */
    size_t part = llama_state_seq_get_size_ext(ctx, seq, LLAMA_STATE_SEQ_FLAGS_PARTIAL_ONLY);
    size_t lens[MAX_SECTIONS] = {total - PREFIX, 0};
    uint32_t nsec = 1, ns = llama_n_seq_max(ctx);
    if (part > PREFIX && part < total) {
        lens[0] = total - part;
        lens[1] = part - PREFIX;
        nsec = 2;
    }
    memset(buf, 0, HEADER);
    wr32(buf, MAGIC);
    wr32(buf + 4, nsec);
    wr32(buf + 8, ns);
    size_t at = PREFIX;
    for (uint32_t i = 0; i < nsec; i++) {
        size_t off, n;
        if (!find_stream(raw + at, lens[i], ns, &off, &n)) {
            free(buf);
            return NULL;
        }
        wr64(buf + 16 + 16 * (size_t)i, n ? at + off : 0);
        wr64(buf + 24 + 16 * (size_t)i, n);
        at += lens[i];
    }
    return buf;
}

bool ia_seqstate_streams_ok(struct llama_model *model) {
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512;
    cp.n_batch = cp.n_ubatch = 32;
    cp.n_seq_max = 2;
    cp.kv_unified = false;
    cp.n_threads = cp.n_threads_batch = 1;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return false;
    size_t size = 0;
    uint8_t *st = ia_seqstate_get(ctx, 1, true, &size); /* empty: every section's streams are zero counts */
    bool ok = st != NULL;
    free(st);
    llama_free(ctx);
    return ok;
}

bool ia_seqstate_set(struct llama_context *ctx, int seq, bool streams, const uint8_t *buf, size_t size) {
    if (!streams) return llama_state_seq_set_data(ctx, buf, size, seq) == size;
    if (size < HEADER + PREFIX || rd32(buf) != MAGIC) return false;
    uint32_t nsec = rd32(buf + 4), n_src = rd32(buf + 8), n_stream = llama_n_seq_max(ctx);
    if (nsec < 1 || nsec > MAX_SECTIONS || n_src < 1) return false;
    const uint8_t *raw = buf + HEADER;
    size_t total = size - HEADER;
    uint64_t offs[MAX_SECTIONS], lens[MAX_SECTIONS];
    size_t need = PREFIX;
    for (uint32_t i = 0; i < nsec; i++) {
        offs[i] = rd64(buf + 16 + 16 * (size_t)i);
        lens[i] = rd64(buf + 24 + 16 * (size_t)i);
        if (lens[i] && (offs[i] < PREFIX || lens[i] < 4 || offs[i] > total || lens[i] > total - offs[i])) return false;
        need += 4 + (lens[i] ? lens[i] : 4) + 4 * (size_t)(n_stream - 1);
    }
    if (n_stream == n_src) return llama_state_seq_set_data(ctx, raw, total, seq) == total;
    uint8_t *wide = ia_xmalloc_big(need), *w = wide;
    memcpy(w, raw, PREFIX);
    w += PREFIX;
    for (uint32_t i = 0; i < nsec; i++) {
        /* [n_stream][the stream, or a zero count][n_stream - 1 zero counts] */
        wr32(w, n_stream);
        if (lens[i]) memcpy(w + 4, raw + offs[i], lens[i]);
        else wr32(w + 4, 0);
        w += 4 + (lens[i] ? lens[i] : 4);
        memset(w, 0, 4 * (size_t)(n_stream - 1));
        w += 4 * (size_t)(n_stream - 1);
    }
    bool ok = llama_state_seq_set_data(ctx, wide, need, seq) == need;
    free(wide);
    return ok;
}
