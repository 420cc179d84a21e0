/* files: the Files API's HTTP side — the resumable upload protocol of the
 * SDKs (@google/genai 1.52.0 on /v1beta, 3.3.0 on /v1) and files.get /
 * list / delete, over core/files.h. The wire JSON comes from api/files.c.
 *
 * The resumable protocol, as the SDKs drive it:
 *   POST /upload/{v}/files, x-goog-upload-protocol: resumable,
 *     x-goog-upload-command: start, x-goog-upload-header-content-length: N,
 *     x-goog-upload-header-content-type: MIME, body {"file": {...}}
 *     → 200, x-goog-upload-url: <this path>?upload_id=ID&upload_protocol=
 *       resumable, x-goog-upload-status: active
 *   POST <upload url>, x-goog-upload-command: upload | upload, finalize,
 *     x-goog-upload-offset: O, the chunk as the body (8 MiB from the SDK)
 *     → 200, x-goog-upload-status: active (or final, with {"file": File}),
 *       x-goog-upload-size-received: bytes received
 *   x-goog-upload-command: query → the same headers (final: and the file),
 *     so an interrupted upload resumes from x-goog-upload-size-received;
 *   x-goog-upload-command: cancel → x-goog-upload-status: cancelled.
 * A chunk's body never passes through memory whole: precheck opens the
 * upload's writer from the headers, each piece libmicrohttpd hands over is
 * written to the blob, and the request's end closes it (finalizing when
 * asked). A client that leaves mid-chunk leaves the bytes that arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"
#include "lib/log.h"

/* ---- header parsers ---------------------------------------------------------- */

int ia_http_parse_int64(const char *s, int64_t *out) {
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    if (*s < '0' || *s > '9') return -1;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10) return -1;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\t') s++;
    if (*s) return -1;
    *out = v;
    return 0;
}

int ia_http_upload_command(const char *s, unsigned *out) {
    static const struct { const char *w; unsigned bit; } words[] = {
        {"start", IA_UPLOAD_START}, {"upload", IA_UPLOAD_UPLOAD}, {"finalize", IA_UPLOAD_FINALIZE},
        {"query", IA_UPLOAD_QUERY}, {"cancel", IA_UPLOAD_CANCEL},
    };
    unsigned bits = 0;
    if (!s) return -1;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        size_t n = strcspn(p, ", \t");
        const char *q = p + n;
        while (*q == ' ' || *q == '\t') q++;
        if (*q && *q != ',') return -1; /* two words without a comma */
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (strlen(words[i].w) == n && !strncasecmp(p, words[i].w, n)) bit = words[i].bit;
        if (!bit || (bits & bit)) return -1;
        bits |= bit;
        if (!*q) break;
        p = q + 1;
    }
    if (bits != IA_UPLOAD_START && bits != IA_UPLOAD_UPLOAD && bits != (IA_UPLOAD_UPLOAD | IA_UPLOAD_FINALIZE) &&
        bits != IA_UPLOAD_FINALIZE && bits != IA_UPLOAD_QUERY && bits != IA_UPLOAD_CANCEL)
        return -1;
    *out = bits;
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static const char *header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* http://HOST (the client's Host header when it is a plain host[:port],
 * else the address bound) + "/" + the route's version: the base of a file's
 * uri. The upload URL is built the same way; the SDKs swap its scheme, host
 * and port for their own base URL anyway. */
static char *base_url(ia_http *h, struct MHD_Connection *c, const char *prefix, const char *version) {
    const char *host = header(c, MHD_HTTP_HEADER_HOST);
    bool ok = host && *host && strlen(host) < 256;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr(".-:[]_", *p);
    if (ok) return ia_asprintf("http://%s%s/%s", host, prefix, version);
    bool v6 = strchr(h->host, ':') != NULL;
    return ia_asprintf("http://%s%s%s:%d%s/%s", v6 ? "[" : "", h->host, v6 ? "]" : "", h->port, prefix, version);
}

char *ia_http_base_url(ia_http *h, struct MHD_Connection *c, const char *prefix, const char *version) {
    return base_url(h, c, prefix, version);
}

static enum MHD_Result fail(ia_http_req *r, struct MHD_Connection *c, ia_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result fail(ia_http_req *r, struct MHD_Connection *c, ia_errcode code, const char *fmt, ...) {
    ia_err e;
    va_list ap;
    va_start(ap, fmt);
    ia_vfail(&e, code, fmt, ap);
    va_end(ap);
    return ia_http_send_err(r, c, &e, NULL);
}

/* The answer to an upload request: its status header and the bytes
 * received; final with {"file": File}. */
static enum MHD_Result upload_answer(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const ia_file *f,
                                     const char *status) {
    char got[24];
    snprintf(got, sizeof got, "%lld", (long long)f->size);
    const char *hdrs[] = {"x-goog-upload-status", status, "x-goog-upload-size-received", got, NULL};
    if (strcmp(status, "final") != 0) return ia_http_send(r, c, 200, ia_strdup(""), NULL, hdrs);
    char *base = base_url(h, c, "", r->rt.version);
    char *body = ia_api_files_encode(f, base, true);
    free(base);
    snprintf(r->iid, sizeof r->iid, "files/%s", f->id);
    return ia_http_send(r, c, 200, body, "application/json", hdrs);
}

/* ---- precheck: what the headers decide ---------------------------------------- */

bool ia_http_files_streams(const ia_http_req *r) { return r->writer != NULL; }

int ia_http_files_precheck(ia_http *h, ia_http_req *r, struct MHD_Connection *c, ia_err *e) {
    if (!h->files) return ia_fail(e, IA_ENOTFOUND, "the Files API is not served here: no such path: %s", r->path);
    if (r->rt.kind == IA_RT_FILE && r->rt.id_too_long)
        return ia_fail(e, IA_ENOTFOUND, "files/%s not found (a file's name is files/ then 1 to 40 of a-z, "
                       "0-9 and '-')", r->rt.id);
    if (r->rt.kind != IA_RT_UPLOAD) return 0;
    const char *cmd = header(c, "x-goog-upload-command");
    const char *uid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "upload_id");
    if (!cmd) {
        const char *proto = header(c, "x-goog-upload-protocol");
        return ia_fail(e, IA_EUNIMPLEMENTED, "x-goog-upload-protocol: %s%s%s is not served; use the resumable "
                       "protocol (x-goog-upload-protocol: resumable, x-goog-upload-command: start), as the SDKs do",
                       proto ? "'" : "", proto ? proto : "(missing, a simple or multipart upload)", proto ? "'" : "");
    }
    if (ia_http_upload_command(cmd, &r->upload_cmd) < 0)
        return ia_fail(e, IA_EINVALID, "x-goog-upload-command: '%.60s' is not one of start, upload, "
                       "'upload, finalize', finalize, query, cancel", cmd);
    if (r->upload_cmd == IA_UPLOAD_START) {
        const char *proto = header(c, "x-goog-upload-protocol");
        if (!proto || strcasecmp(proto, "resumable") != 0)
            return ia_fail(e, IA_EUNIMPLEMENTED, "x-goog-upload-protocol: '%.40s' is not served; send "
                           "'resumable' with x-goog-upload-command: start", proto ? proto : "");
        if (uid) return ia_fail(e, IA_EINVALID, "x-goog-upload-command: start goes to /upload/%s/files "
                                "without upload_id", r->rt.version);
        return 0;
    }
    if (!uid || !*uid || strlen(uid) >= sizeof r->upload_id)
        return ia_fail(e, IA_EINVALID, "upload_id: %s; send the chunk to the x-goog-upload-url the start "
                       "answered", uid ? "not an upload of this server" : "missing");
    snprintf(r->upload_id, sizeof r->upload_id, "%s", uid);
    if (!(r->upload_cmd & IA_UPLOAD_UPLOAD)) return 0; /* finalize, query, cancel: at dispatch */
    int64_t off = 0, len = -1;
    const char *o = header(c, "x-goog-upload-offset");
    if (!o) return ia_fail(e, IA_EINVALID, "x-goog-upload-offset: required with x-goog-upload-command: upload "
                           "(the chunk's first byte in the file)");
    if (ia_http_parse_int64(o, &off) < 0)
        return ia_fail(e, IA_EINVALID, "x-goog-upload-offset: '%.40s' is not a byte offset", o);
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && ia_http_parse_int64(cl, &len) < 0) len = -1;
    return ia_files_write_open(h->files, r->owner, r->upload_id, off, len, &r->writer, e);
}

int ia_http_files_piece(ia_http_req *r, const char *data, size_t n, ia_err *e) {
    if (ia_files_write(r->writer, data, n, e) == 0) return 0;
    ia_files_write_close(r->writer, false, NULL, NULL);
    r->writer = NULL;
    return -1;
}

void ia_http_files_done(ia_http_req *r) {
    if (!r->writer) return;
    ia_err e;
    if (ia_files_write_close(r->writer, false, NULL, &e) < 0) ia_warn("files: %s", e.msg);
    r->writer = NULL;
}

/* ---- the endpoints ------------------------------------------------------------ */

static enum MHD_Result do_start(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    ia_api_file_meta m;
    ia_err e;
    if (ia_api_files_decode_start(r->body.data, r->body.len, &m, &e) < 0) return ia_http_send_err(r, c, &e, NULL);
    int64_t hlen = -1;
    const char *hl = header(c, "x-goog-upload-header-content-length");
    const char *ht = header(c, "x-goog-upload-header-content-type");
    enum MHD_Result ret;
    if (hl && ia_http_parse_int64(hl, &hlen) < 0) {
        ret = fail(r, c, IA_EINVALID, "x-goog-upload-header-content-length: '%.40s' is not a byte count", hl);
        goto out;
    }
    if (hlen >= 0 && m.size >= 0 && hlen != m.size) {
        ret = fail(r, c, IA_EINVALID, "file.sizeBytes (%lld) and x-goog-upload-header-content-length (%lld) "
                   "differ; send one, or the same in both", (long long)m.size, (long long)hlen);
        goto out;
    }
    if (ht && *ht && m.mime_type && strcasecmp(ht, m.mime_type) != 0) {
        ret = fail(r, c, IA_EINVALID, "file.mimeType '%.80s' and x-goog-upload-header-content-type '%.80s' "
                   "differ; send one, or the same in both", m.mime_type, ht);
        goto out;
    }
    ia_file_start st = {.id = m.id, .display_name = m.display_name,
                        .mime_type = m.mime_type ? m.mime_type : ht, .size = hlen >= 0 ? hlen : m.size};
    ia_file up;
    if (ia_files_start(h->files, r->owner, &st, &up, &e) < 0) {
        ret = ia_http_send_err(r, c, &e, NULL);
        goto out;
    }
    char *base = base_url(h, c, "/upload", r->rt.version);
    char *url = ia_asprintf("%s/files?upload_id=%s&upload_protocol=resumable", base, up.upload_id);
    free(base);
    snprintf(r->iid, sizeof r->iid, "files/%s", up.id);
    const char *hdrs[] = {"x-goog-upload-url", url, "x-goog-upload-status", "active", NULL};
    ret = ia_http_send(r, c, 200, ia_strdup(""), NULL, hdrs);
    free(url);
    ia_file_free(&up);
out:
    ia_api_file_meta_free(&m);
    return ret;
}

static enum MHD_Result do_upload(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    ia_err e;
    ia_file f;
    memset(&f, 0, sizeof f);
    int rc;
    enum MHD_Result ret;
    if (r->upload_cmd == IA_UPLOAD_START) return do_start(h, r, c);
    if (r->upload_cmd == IA_UPLOAD_CANCEL) {
        if (ia_files_cancel(h->files, r->owner, r->upload_id, &e) < 0) return ia_http_send_err(r, c, &e, NULL);
        const char *hdrs[] = {"x-goog-upload-status", "cancelled", NULL};
        return ia_http_send(r, c, 200, ia_strdup(""), NULL, hdrs);
    }
    bool finalize = r->upload_cmd & IA_UPLOAD_FINALIZE;
    if (r->writer) {
        /* the chunk's body is in: close (and finalize) its writer */
        rc = ia_files_write_close(r->writer, finalize, &f, &e);
        r->writer = NULL;
    } else if (finalize) {
        rc = ia_files_finalize(h->files, r->owner, r->upload_id, &f, &e);
    } else {
        rc = ia_files_upload(h->files, r->owner, r->upload_id, &f, &e); /* query */
    }
    if (rc < 0) {
        /* A finalize refused for missing bytes still says how many arrived,
         * so the client knows where to resume. */
        ia_file cur;
        char got[24] = "";
        if (ia_files_upload(h->files, r->owner, r->upload_id, &cur, NULL) == 0) {
            snprintf(got, sizeof got, "%lld", (long long)cur.size);
            ia_file_free(&cur);
        }
        const char *hdrs[] = {"x-goog-upload-size-received", got, NULL};
        return ia_http_send_err(r, c, &e, got[0] ? hdrs : NULL);
    }
    if (f.state != IA_FILE_UPLOADING) {
        /* an upload to a file search store answers its Operation (fsearch.c) */
        bool handled;
        ret = ia_http_fsearch_finalized(h, r, c, &f, &handled);
        if (handled) {
            ia_file_free(&f);
            return ret;
        }
    }
    ret = upload_answer(h, r, c, &f, f.state == IA_FILE_UPLOADING ? "active" : "final");
    ia_file_free(&f);
    return ret;
}

static enum MHD_Result do_list(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    int64_t after = 0, size = 10;
    const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pageSize");
    const char *pt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pageToken");
    if (ps && *ps && (ia_http_parse_int64(ps, &size) < 0 || size < 1))
        return fail(r, c, IA_EINVALID, "pageSize: '%.20s' is not a positive integer (at most 100)", ps);
    if (size > 100) size = 100; /* as Google's: larger asks get 100 */
    if (pt && *pt) {
        char tok[64];
        snprintf(tok, sizeof tok, "%s", pt);
        if (ia_http_pct_decode(tok) < 0 || ia_api_files_parse_page_token(tok, &after) < 0)
            return fail(r, c, IA_EINVALID, "pageToken: not a token this server gave; send the "
                        "nextPageToken of the previous page, or none for the first");
    }
    ia_file *files = NULL;
    size_t n = 0;
    int64_t next = 0;
    ia_err e;
    if (ia_files_list(h->files, r->owner, after, (int)size, &files, &n, &next, &e) < 0)
        return ia_http_send_err(r, c, &e, NULL);
    char *base = base_url(h, c, "", r->rt.version);
    char *body = ia_api_files_encode_list(files, n, base, next);
    free(base);
    ia_files_list_free(files, n);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

static enum MHD_Result do_file(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    ia_err e;
    snprintf(r->iid, sizeof r->iid, "files/%.40s", r->rt.id);
    if (!strcmp(r->method, "DELETE")) {
        if (ia_files_delete(h->files, r->owner, r->rt.id, &e) < 0) return ia_http_send_err(r, c, &e, NULL);
        return ia_http_send(r, c, 200, ia_strdup("{}"), "application/json", NULL);
    }
    ia_file f;
    if (ia_files_get(h->files, r->owner, r->rt.id, &f, &e) < 0) return ia_http_send_err(r, c, &e, NULL);
    char *base = base_url(h, c, "", r->rt.version);
    char *body = ia_api_files_encode(&f, base, false);
    free(base);
    ia_file_free(&f);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}

enum MHD_Result ia_http_files_dispatch(ia_http *h, ia_http_req *r, struct MHD_Connection *c) {
    switch (r->rt.kind) {
    case IA_RT_UPLOAD: return do_upload(h, r, c);
    case IA_RT_FILES: return do_list(h, r, c);
    case IA_RT_FILE: return do_file(h, r, c);
    default:
        return fail(r, c, IA_EUNIMPLEMENTED, "files:register (Google Cloud Storage files) is not served by this "
                    "server; upload the bytes (files.upload)");
    }
}

/* ---- Files URIs in a create's input ----------------------------------------------- */

typedef struct refcheck {
    ia_http *h;
    const char *owner;
    ia_err *e;
} refcheck;

static int check_ref(const char *path, const char *id, void *ud) {
    refcheck *rc = ud;
    ia_file f;
    ia_err e;
    if (ia_files_get(rc->h->files, rc->owner, id, &f, &e) == 0) {
        ia_file_free(&f);
        return 0;
    }
    if (e.code == IA_ENOTFOUND) ia_fail(rc->e, IA_ENOTFOUND, "%s.uri: files/%s not found", path, id);
    else *rc->e = e;
    return 1;
}

int ia_http_files_check_refs(ia_http *h, const char *owner, const char *body, size_t len, ia_err *e) {
    if (!h->files) return 0;
    refcheck rc = {.h = h, .owner = owner, .e = e};
    return ia_api_files_refs(body, len, check_ref, &rc) ? -1 : 0;
}
