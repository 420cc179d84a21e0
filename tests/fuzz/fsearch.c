/* Fuzz target: file search's parsers of outside bytes — a file_search
 * tool's metadata_filter (src/core/fs_filter.c), a document's text cut into
 * chunks (src/core/fs_ingest.c), and the bodies of uploadToFileSearchStore
 * and importFile (src/api/fsearch.c: customMetadata, chunkingConfig).
 *
 * Byte 0 picks: 0, the filter (then matched against fixed metadata);
 * 1, chunking with the next two bytes as max tokens and overlap; 2, the
 * upload body; 3, the import body. Checks: a refused filter or body names
 * its field; each chunk is a non-empty slice of the text at its offsets,
 * in order, no longer than max words; decoded metadata has keys. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "api/fsearch.h"
#include "core/fs_filter.h"
#include "core/fs_ingest.h"
#include "lib/util.h"

static const ia_fs_meta META[] = {
    {.key = "author", .kind = IA_FS_META_STRING, .str = "Robert Graves"},
    {.key = "year", .kind = IA_FS_META_NUMERIC, .num = 1934},
    {.key = "tags", .kind = IA_FS_META_LIST, .list = (char *[]){"a", "b"}, .n_list = 2},
};

static void filter(const char *s) {
    ia_fs_filter *f = NULL;
    ia_err e;
    if (ia_fs_filter_parse(s, "metadata_filter", &f, &e) < 0) {
        FUZZ_CHECK(!strncmp(e.msg, "metadata_filter: ", 17));
        return;
    }
    (void)ia_fs_filter_match(f, META, 3);
    ia_fs_filter_free(f);
}

static int count_words(const char *s, size_t n) {
    int w = 0;
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        bool sp = strchr(" \t\n\r\f\v", s[i]) != NULL;
        if (!sp && !in) w++;
        in = !sp;
    }
    return w;
}

static void chunks(const char *s, int max, int overlap) {
    ia_fs_chunking c = {.max_tokens = max, .overlap = overlap};
    ia_err e;
    if (ia_fs_chunking_check(&c, &e) < 0) {
        FUZZ_CHECK(strstr(e.msg, "chunkingConfig.whiteSpaceConfig.") == e.msg);
        return;
    }
    ia_fs_chunk *v;
    size_t n;
    if (ia_fs_chunk_text(s, &c, &v, &n, &e) < 0) {
        FUZZ_CHECK(strstr(e.msg, "chunkingConfig") == e.msg);
        return;
    }
    int64_t last = -1;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(v[i].start > last && v[i].end > v[i].start && v[i].end <= (int64_t)strlen(s));
        FUZZ_CHECK(strlen(v[i].text) == (size_t)(v[i].end - v[i].start));
        FUZZ_CHECK(!memcmp(s + v[i].start, v[i].text, strlen(v[i].text)));
        FUZZ_CHECK(count_words(v[i].text, strlen(v[i].text)) <= (max ? max : IA_FS_CHUNK_DEFAULT));
        last = v[i].start;
    }
    ia_fs_chunks_free(v, n);
}

static void body(const char *s, size_t n, bool import) {
    ia_api_fs_add a;
    ia_err e;
    if (ia_api_fs_decode_add(s, n, import, &a, &e) < 0) {
        FUZZ_CHECK(e.msg[0] != '\0');
        return;
    }
    for (size_t i = 0; i < a.n_meta; i++) FUZZ_CHECK(a.meta[i].key && *a.meta[i].key);
    FUZZ_CHECK(!import || a.file_id);
    ia_api_fs_add_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    char *s = ia_strndup((const char *)data + 3, size - 3); /* up to the first NUL */
    switch (data[0] % 4) {
    case 0: filter(s); break;
    case 1: chunks(s, data[1] % 40, data[2] % 40); break;
    case 2: body((const char *)data + 3, size - 3, false); break;
    default: body((const char *)data + 3, size - 3, true); break;
    }
    free(s);
    return 0;
}
