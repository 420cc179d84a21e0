/* fsearch: freeing and copying the file search types (model/fsearch.h). */
#include "model/fsearch.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void ia_fs_meta_free(ia_fs_meta *m, size_t n) {
    if (!m) return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].str);
        for (size_t j = 0; j < m[i].n_list; j++) free(m[i].list[j]);
        free(m[i].list);
    }
    free(m);
}

ia_fs_meta *ia_fs_meta_dup(const ia_fs_meta *m, size_t n) {
    if (!n) return NULL;
    ia_fs_meta *o = ia_xcalloc(n, sizeof *o);
    for (size_t i = 0; i < n; i++) {
        o[i].key = ia_strdup(m[i].key);
        o[i].kind = m[i].kind;
        o[i].str = m[i].str ? ia_strdup(m[i].str) : NULL;
        o[i].num = m[i].num;
        if (m[i].n_list) {
            o[i].list = ia_xcalloc(m[i].n_list, sizeof *o[i].list);
            for (size_t j = 0; j < m[i].n_list; j++) o[i].list[j] = ia_strdup(m[i].list[j]);
            o[i].n_list = m[i].n_list;
        }
    }
    return o;
}

void ia_fs_store_free(ia_fs_store *s) {
    if (!s) return;
    free(s->owner);
    free(s->display_name);
    free(s->embedding_model);
    memset(s, 0, sizeof *s);
}

void ia_fs_doc_free(ia_fs_doc *d) {
    if (!d) return;
    free(d->owner);
    free(d->display_name);
    free(d->mime_type);
    free(d->error);
    ia_fs_meta_free(d->meta, d->n_meta);
    memset(d, 0, sizeof *d);
}

void ia_fs_chunks_free(ia_fs_chunk *c, size_t n) {
    if (!c) return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].text);
        free(c[i].vec);
    }
    free(c);
}

void ia_fs_hits_free(ia_fs_hit *h, size_t n) {
    if (!h) return;
    for (size_t i = 0; i < n; i++) {
        free(h[i].doc_title);
        free(h[i].text);
        ia_fs_meta_free(h[i].meta, h[i].n_meta);
    }
    free(h);
}

static const char *const STATES[] = {"uploading", "pending", "active", "failed"};

const char *ia_doc_state_name(ia_doc_state s) {
    return (unsigned)s < sizeof STATES / sizeof *STATES ? STATES[s] : NULL;
}

int ia_doc_state_parse(const char *s) {
    for (size_t i = 0; s && i < sizeof STATES / sizeof *STATES; i++)
        if (!strcmp(s, STATES[i])) return (int)i;
    return -1;
}
