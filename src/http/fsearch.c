/* fsearch: the file search stores' HTTP side (SDK 1.52.0's
 * fileSearchStores, documents and operations), over core/fsearch.h; the
 * JSON comes from api/fsearch.c. Paths (under /v1beta or /v1):
 *   /fileSearchStores                         GET list, POST create
 *   /fileSearchStores/S                       GET, DELETE (?force=true)
 *   /fileSearchStores/S:importFile            POST → Operation
 *   /upload/{v}/fileSearchStores/S:uploadToFileSearchStore
 *                                             POST start of the resumable
 *     upload: the upload URL answered is a Files API upload's (http/files.c
 *     takes the chunks); its finalize answers the Operation instead of the
 *     File (ia_http_fsearch_finalized)
 *   /fileSearchStores/S/documents             GET list
 *   /fileSearchStores/S/documents/D           GET, DELETE (?force=true)
 *   /fileSearchStores/S/operations/D          GET (also .../upload/operations/D)
 * An operation is its document's ingestion, so its name carries the
 * document's id and no table of its own is needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fsearch.h"
#include "core/fsearch.h"
#include "http/http_int.h"

typedef enum { P_NONE, P_STORES, P_STORE, P_IMPORT, P_UPLOAD, P_DOCS, P_DOC, P_OP } path_kind;

typedef struct {
    path_kind kind;
    bool upload_op;
    char store[IA_FS_ID_MAX + 24];
    char doc[IA_FS_ID_MAX + 24];
} fs_path;

/* Copies the segment [b, e) percent-decoded into out (cap bytes); false
 * when it does not fit or is malformed (then a 404 naming what was seen). */
static bool seg(const char *b, const char *e, char *out, size_t cap) {
    size_t n = (size_t)(e - b);
    if (n == 0 || n >= cap) return false;
    memcpy(out, b, n);
    out[n] = '\0';
    return ia_http_pct_decode(out) > 0;
}

static void parse(const char *raw, fs_path *p) {
    memset(p, 0, sizeof *p);
    const char *s = raw;
    bool upload = !strncmp(s, "/upload/", 8);
    if (upload) s += 7;
    s = !strncmp(s, "/v1beta/", 8) ? s + 7 : !strncmp(s, "/v1/", 4) ? s + 3 : s;
    if (strncmp(s, "/fileSearchStores", 17)) return;
    s += 17;
    if (!*s) {
        p->kind = upload ? P_NONE : P_STORES;
        return;
    }
    if (*s++ != '/') return;
    const char *e = s + strcspn(s, "/:");
    if (!seg(s, e, p->store, sizeof p->store)) return;
    if (!*e) {
        p->kind = upload ? P_NONE : P_STORE;
        return;
    }
    if (*e == ':') {
        if (upload && !strcmp(e, ":uploadToFileSearchStore")) p->kind = P_UPLOAD;
        else if (!upload && !strcmp(e, ":importFile")) p->kind = P_IMPORT;
        return;
    }
    if (upload) return;
    if (!strcmp(e, "/documents")) {
        p->kind = P_DOCS;
        return;
    }
    const char *rest = NULL;
    if (!strncmp(e, "/documents/", 11)) {
        rest = e + 11;
        p->kind = P_DOC;
    } else if (!strncmp(e, "/operations/", 12)) {
        rest = e + 12;
        p->kind = P_OP;
    } else if (!strncmp(e, "/upload/operations/", 19)) {
        rest = e + 19;
        p->kind = P_OP;
        p->upload_op = true;
    }
    if (!rest || strchr(rest, '/') || !seg(rest, rest + strlen(rest), p->doc, sizeof p->doc)) p->kind = P_NONE;
}

static const char *arg(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_err(ia_http_req *r, struct MHD_Connection *c, const ia_err *e) {
    return ia_http_send_err(r, c, e, NULL);
}

static enum MHD_Result send_json(ia_http_req *r, struct MHD_Connection *c, char *body) {
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

/* ?force=: absent is false; -1 with e when malformed. */
static int force_arg(struct MHD_Connection *c, bool *force, ia_err *e) {
    const char *f = arg(c, "force");
    *force = false;
    if (f && ia_http_parse_bool(f, force) < 0)
        return ia_fail(e, IA_EINVALID, "force: '%.20s' is not true or false", f);
    return 0;
}

/* pageSize (1..100, default 10; larger asks get 100, as Google's) and
 * pageToken (a token of ours). */
static int page_args(struct MHD_Connection *c, int64_t *after, int *size, ia_err *e) {
    const char *ps = arg(c, "pageSize"), *pt = arg(c, "pageToken");
    int64_t v = 10;
    *after = 0;
    if (ps && *ps && (ia_http_parse_int64(ps, &v) < 0 || v < 1))
        return ia_fail(e, IA_EINVALID, "pageSize: '%.20s' is not a positive integer (at most 100)", ps);
    *size = v > 100 ? 100 : (int)v;
    if (pt && *pt) {
        char tok[64];
        snprintf(tok, sizeof tok, "%s", pt);
        if (ia_http_pct_decode(tok) < 0 || ia_api_files_parse_page_token(tok, after) < 0)
            return ia_fail(e, IA_EINVALID, "pageToken: not a token this server gave; send the nextPageToken of "
                           "the previous page, or none for the first");
    }
    return 0;
}

static enum MHD_Result stores(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    ia_err e;
    if (!strcmp(r->method, "POST")) {
        char *dn, *em;
        if (ia_api_fs_decode_create(r->body.data, r->body.len, &dn, &em, &e) < 0) return send_err(r, c, &e);
        ia_fs_store st;
        int rc = ia_fsearch_create(h->fsearch, r->owner, dn, em, &st, &e);
        free(dn);
        free(em);
        if (rc < 0) return send_err(r, c, &e);
        snprintf(r->iid, sizeof r->iid, "fileSearchStores/%s", st.id);
        char *body = ia_api_fs_encode_store(&st);
        ia_fs_store_free(&st);
        return send_json(r, c, body);
    }
    int64_t after, next = 0;
    int size;
    ia_fs_store *v = NULL;
    size_t n = 0;
    if (page_args(c, &after, &size, &e) < 0 ||
        ia_fsearch_list(h->fsearch, r->owner, after, size, &v, &n, &next, &e) < 0)
        return send_err(r, c, &e);
    char *body = ia_api_fs_encode_stores(v, n, next);
    for (size_t i = 0; i < n; i++) ia_fs_store_free(&v[i]);
    free(v);
    return send_json(r, c, body);
}

static enum MHD_Result store(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const fs_path *p) {
    ia_err e;
    snprintf(r->iid, sizeof r->iid, "fileSearchStores/%.40s", p->store);
    if (!strcmp(r->method, "DELETE")) {
        bool force;
        if (force_arg(c, &force, &e) < 0 || ia_fsearch_delete(h->fsearch, r->owner, p->store, force, &e) < 0)
            return send_err(r, c, &e);
        return send_json(r, c, ia_strdup("{}"));
    }
    ia_fs_store st;
    if (ia_fsearch_get(h->fsearch, r->owner, p->store, &st, &e) < 0) return send_err(r, c, &e);
    char *body = ia_api_fs_encode_store(&st);
    ia_fs_store_free(&st);
    return send_json(r, c, body);
}

static void add_from(const ia_api_fs_add *a, ia_fs_add *out) {
    *out = (ia_fs_add){.display_name = a->display_name, .mime_type = a->mime_type, .meta = a->meta,
                       .n_meta = a->n_meta, .chunking = a->chunking};
}

static enum MHD_Result import(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const fs_path *p) {
    ia_err e;
    ia_api_fs_add a;
    if (ia_api_fs_decode_add(r->body.data, r->body.len, true, &a, &e) < 0) return send_err(r, c, &e);
    ia_fs_add add;
    add_from(&a, &add);
    ia_fs_doc d;
    int rc = ia_fsearch_import(h->fsearch, r->owner, p->store, a.file_id, &add, &d, &e);
    ia_api_fs_add_free(&a);
    if (rc < 0) return send_err(r, c, &e);
    snprintf(r->iid, sizeof r->iid, "%.40s/%.30s", d.store, d.id);
    char *body = ia_api_fs_encode_op(&d, false);
    ia_fs_doc_free(&d);
    return send_json(r, c, body);
}

static const char *header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum MHD_Result upload_start(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const fs_path *p) {
    ia_err e;
    const char *proto = header(c, "x-goog-upload-protocol"), *cmd = header(c, "x-goog-upload-command");
    if (!proto || strcasecmp(proto, "resumable") || !cmd || strcasecmp(cmd, "start")) {
        ia_fail(&e, IA_EUNIMPLEMENTED, "uploadToFileSearchStore takes the resumable protocol only: send "
                "x-goog-upload-protocol: resumable and x-goog-upload-command: start, as the SDKs do");
        return send_err(r, c, &e);
    }
    int64_t size = -1;
    const char *hl = header(c, "x-goog-upload-header-content-length");
    if (hl && ia_http_parse_int64(hl, &size) < 0) {
        ia_fail(&e, IA_EINVALID, "x-goog-upload-header-content-length: '%.40s' is not a byte count", hl);
        return send_err(r, c, &e);
    }
    ia_api_fs_add a;
    if (ia_api_fs_decode_add(r->body.data, r->body.len, false, &a, &e) < 0) return send_err(r, c, &e);
    const char *ht = header(c, "x-goog-upload-header-content-type");
    if (!a.mime_type && ht && *ht) a.mime_type = ia_strdup(ht);
    ia_fs_add add;
    add_from(&a, &add);
    ia_file up;
    int rc = ia_fsearch_upload_start(h->fsearch, r->owner, p->store, &add, size, &up, &e);
    ia_api_fs_add_free(&a);
    if (rc < 0) return send_err(r, c, &e);
    char *base = ia_http_base_url(h, c, "/upload", r->rt.version);
    char *url = ia_asprintf("%s/files?upload_id=%s&upload_protocol=resumable", base, up.upload_id);
    free(base);
    snprintf(r->iid, sizeof r->iid, "fileSearchStores/%.40s", p->store);
    const char *hdrs[] = {"x-goog-upload-url", url, "x-goog-upload-status", "active", NULL};
    enum MHD_Result ret = ia_http_send(r, c, 200, ia_strdup(""), NULL, hdrs);
    free(url);
    ia_file_free(&up);
    return ret;
}

static enum MHD_Result docs(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const fs_path *p) {
    ia_err e;
    int64_t after, next = 0;
    int size;
    ia_fs_doc *v = NULL;
    size_t n = 0;
    if (page_args(c, &after, &size, &e) < 0 ||
        ia_fsearch_doc_list(h->fsearch, r->owner, p->store, after, size, &v, &n, &next, &e) < 0)
        return send_err(r, c, &e);
    char *body = ia_api_fs_encode_docs(v, n, next);
    for (size_t i = 0; i < n; i++) ia_fs_doc_free(&v[i]);
    free(v);
    return send_json(r, c, body);
}

static enum MHD_Result doc(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const fs_path *p) {
    ia_err e;
    snprintf(r->iid, sizeof r->iid, "%.40s/%.30s", p->store, p->doc);
    if (p->kind == P_DOC && !strcmp(r->method, "DELETE")) {
        bool force;
        if (force_arg(c, &force, &e) < 0 ||
            ia_fsearch_doc_delete(h->fsearch, r->owner, p->store, p->doc, force, &e) < 0)
            return send_err(r, c, &e);
        return send_json(r, c, ia_strdup("{}"));
    }
    ia_fs_doc d;
    if (ia_fsearch_doc_get(h->fsearch, r->owner, p->store, p->doc, &d, &e) < 0) {
        if (p->kind == P_OP && e.code == IA_ENOTFOUND)
            ia_fail(&e, IA_ENOTFOUND, "fileSearchStores/%.60s/operations/%.60s not found", p->store, p->doc);
        return send_err(r, c, &e);
    }
    char *body = p->kind == P_OP ? ia_api_fs_encode_op(&d, p->upload_op) : ia_api_fs_encode_doc(&d);
    ia_fs_doc_free(&d);
    return send_json(r, c, body);
}

/* The methods each path takes. */
static const char *allowed(path_kind k) {
    switch (k) {
    case P_STORES: return "GET, POST";
    case P_STORE:
    case P_DOC: return "GET, DELETE";
    case P_IMPORT:
    case P_UPLOAD: return "POST";
    default: return "GET";
    }
}

enum MHD_Result ia_http_fsearch_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    ia_err e;
    fs_path p;
    parse(r->path, &p);
    if (p.kind == P_NONE) {
        ia_fail(&e, IA_ENOTFOUND, "no such path: %s", r->path);
        return send_err(r, c, &e);
    }
    const char *allow = allowed(p.kind);
    if (!strstr(allow, r->method)) {
        ia_fail(&e, IA_EMETHOD, "method %s is not allowed on %s (allowed: %s)", r->method, r->path, allow);
        const char *hdrs[] = {"Allow", allow, NULL};
        return ia_http_send_err(r, c, &e, hdrs);
    }
    if (!h->fsearch) {
        ia_fail(&e, IA_EUNIMPLEMENTED, "file search stores are not served by this server (no store)");
        return send_err(r, c, &e);
    }
    switch (p.kind) {
    case P_STORES: return stores(h, r, c);
    case P_STORE: return store(h, r, c, &p);
    case P_IMPORT: return import(h, r, c, &p);
    case P_UPLOAD: return upload_start(h, r, c, &p);
    case P_DOCS: return docs(h, r, c, &p);
    default: return doc(h, r, c, &p);
    }
}

enum MHD_Result ia_http_fsearch_finalized(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const ia_file *f,
                                          bool *handled) {
    *handled = false;
    if (!h->fsearch) return MHD_YES;
    ia_fs_doc d;
    ia_err e;
    int k = ia_fsearch_upload_done(h->fsearch, r->owner, f, &d, &e);
    if (k == 0) return MHD_YES;
    *handled = true;
    if (k < 0) return send_err(r, c, &e);
    char got[24];
    snprintf(got, sizeof got, "%lld", (long long)f->size);
    const char *hdrs[] = {"x-goog-upload-status", "final", "x-goog-upload-size-received", got, NULL};
    snprintf(r->iid, sizeof r->iid, "%.40s/%.30s", d.store, d.id);
    char *body = ia_api_fs_encode_op(&d, true);
    ia_fs_doc_free(&d);
    return ia_http_send(r, c, 200, body, "application/json", hdrs);
}
