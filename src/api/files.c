/* files: the Files API's wire JSON (api.h, "Files API"). Unlike the
 * Interactions API it is Google's classic REST shape: camelCase fields,
 * int64 values as strings, errors as {"error": {"code": HTTP status,
 * "message", "status": "NOT_FOUND"}}, and list pages whose last one has no
 * nextPageToken (an empty token makes the SDK's pager loop forever). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/files.h"
#include "lib/util.h"

/* ---- the start body ------------------------------------------------------- */

void ia_api_file_meta_free(ia_api_file_meta *m) {
    if (!m) return;
    free(m->id);
    free(m->display_name);
    free(m->mime_type);
    memset(m, 0, sizeof *m);
    m->size = -1;
}

/* sizeBytes: an int64 as proto JSON writes it (a string), or a number. */
static int get_size(json_t *v, const char *path, int64_t *out, ia_err *err) {
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || *s == '-' || *s == '+' || *s == ' ') goto bad;
        long long n = strtoll(s, &end, 10);
        if (*end || n < 0) goto bad;
        *out = n;
    } else {
        goto bad;
    }
    if (*out < 0) goto bad;
    return 0;
bad:
    return ia_fail(err, IA_EINVALID, "%s: expected a non-negative integer (a string of digits)", path);
}

static int get_str(json_t *v, const char *path, char **out, ia_err *err) {
    if (!json_is_string(v)) return ia_fail(err, IA_EINVALID, "%s: expected a string", path);
    free(*out);
    *out = ia_strndup(json_string_value(v), json_string_length(v));
    if (strlen(*out) != json_string_length(v)) return ia_fail(err, IA_EINVALID, "%s: contains a NUL", path);
    return 0;
}

int ia_api_files_decode_start(const char *body, size_t len, ia_api_file_meta *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    out->size = -1;
    /* The SDK always sends {"file": {...}}; curl may send nothing at all. */
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) i++;
    if (i == len) return 0;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    int rc = -1;
    if (!root) {
        ia_fail(err, IA_EINVALID, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        ia_fail(err, IA_EINVALID, "the request body must be a JSON object ({\"file\": {...}})");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "file") != 0) {
            ia_fail(err, IA_EINVALID, "unknown field '%s' (the body is {\"file\": {mimeType, displayName, "
                    "name, sizeBytes}})", key);
            goto out;
        }
    }
    json_t *file = json_object_get(root, "file");
    if (file && !json_is_null(file) && !json_is_object(file)) {
        ia_fail(err, IA_EINVALID, "file: expected an object");
        goto out;
    }
    char *name = NULL;
    json_object_foreach(file, key, v) {
        char p[IA_API_PATH_MAX];
        snprintf(p, sizeof p, "file.%.60s", key);
        int r = 0;
        if (json_is_null(v)) continue;
        /* proto JSON takes a field by its camelCase or its proto name */
        if (!strcmp(key, "mimeType") || !strcmp(key, "mime_type")) r = get_str(v, p, &out->mime_type, err);
        else if (!strcmp(key, "displayName") || !strcmp(key, "display_name")) r = get_str(v, p, &out->display_name, err);
        else if (!strcmp(key, "name")) r = get_str(v, p, &name, err);
        else if (!strcmp(key, "sizeBytes") || !strcmp(key, "size_bytes")) r = get_size(v, p, &out->size, err);
        else r = ia_fail(err, IA_EINVALID, "unknown field '%s' (a new file takes mimeType, displayName, "
                         "name and sizeBytes)", p);
        if (r < 0) {
            free(name);
            goto out;
        }
    }
    if (out->display_name && strlen(out->display_name) > 512) {
        ia_fail(err, IA_EINVALID, "file.displayName: at most 512 bytes");
        free(name);
        goto out;
    }
    if (name && *name) {
        const char *id = strncmp(name, "files/", 6) == 0 ? name + 6 : name;
        if (!ia_file_id_valid(id)) {
            ia_fail(err, IA_EINVALID, "file.name: '%.60s' is not a valid name: files/ then 1 to 40 of a-z, "
                    "0-9 and '-', not starting or ending with '-'", name);
            free(name);
            goto out;
        }
        out->id = ia_strdup(id);
    }
    free(name);
    rc = 0;
out:
    json_decref(root);
    if (rc < 0) ia_api_file_meta_free(out);
    return rc;
}

/* ---- the File resource ------------------------------------------------------ */

/* Standard base64 with padding (proto JSON's bytes). */
static void b64(const uint8_t *in, size_t n, char *out) {
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = T[v >> 18 & 63];
        out[o++] = T[v >> 12 & 63];
        out[o++] = i + 1 < n ? T[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? T[v & 63] : '=';
    }
    out[o] = '\0';
}

static json_t *jint64(int64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    return json_string(s);
}

static json_t *jtime(int64_t t) {
    char s[32];
    ia_time_rfc3339(t, s);
    return json_string(s);
}

static const char *state_name(ia_file_state s) {
    switch (s) {
    case IA_FILE_PROCESSING: return "PROCESSING";
    case IA_FILE_ACTIVE: return "ACTIVE";
    case IA_FILE_FAILED: return "FAILED";
    default: return "STATE_UNSPECIFIED";
    }
}

static json_t *file_json(const ia_file *f, const char *base) {
    json_t *o = json_object();
    char name[64];
    snprintf(name, sizeof name, "files/%s", f->id);
    json_object_set_new(o, "name", json_string(name));
    if (f->display_name) json_object_set_new(o, "displayName", ia_api_jstr(f->display_name));
    json_object_set_new(o, "mimeType", ia_api_jstr(f->mime_type));
    json_object_set_new(o, "sizeBytes", jint64(f->size));
    json_object_set_new(o, "createTime", jtime(f->created));
    json_object_set_new(o, "updateTime", jtime(f->updated));
    json_object_set_new(o, "expirationTime", jtime(f->expires));
    if (f->sha256[0]) {
        /* Google's sha256Hash is a bytes field whose bytes are the hex
         * digest; proto JSON writes bytes as base64. */
        char h[96];
        b64((const uint8_t *)f->sha256, strlen(f->sha256), h);
        json_object_set_new(o, "sha256Hash", json_string(h));
    }
    char *uri = ia_asprintf("%s/%s", base ? base : "", name);
    json_object_set_new(o, "uri", ia_api_jstr(uri));
    free(uri);
    json_object_set_new(o, "state", json_string(state_name(f->state)));
    json_object_set_new(o, "source", json_string("UPLOADED"));
    if (f->state == IA_FILE_FAILED)
        /* google.rpc.Status: code 3 is INVALID_ARGUMENT (the content). */
        json_object_set_new(o, "error", json_pack("{s:i,s:o}", "code", 3, "message",
                                                  ia_api_jstr(f->error ? f->error : "the file was refused")));
    return o;
}

char *ia_api_files_encode(const ia_file *f, const char *base, bool wrap) {
    json_t *o = file_json(f, base);
    if (wrap) o = json_pack("{s:o}", "file", o);
    return ia_api_dump(o);
}

char *ia_api_files_encode_list(const ia_file *files, size_t n, const char *base, int64_t next) {
    json_t *o = json_object();
    if (n) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) json_array_append_new(a, file_json(&files[i], base));
        json_object_set_new(o, "files", a);
    }
    if (next > 0) {
        char tok[40];
        ia_api_files_page_token(next, tok);
        json_object_set_new(o, "nextPageToken", json_string(tok));
    }
    return ia_api_dump(o);
}

/* The page token is opaque to clients: "p" + base64url of the cursor's
 * decimal digits, so a token is recognisably ours and tampering shows. */
void ia_api_files_page_token(int64_t cursor, char out[40]) {
    char d[24];
    int n = snprintf(d, sizeof d, "%lld", (long long)cursor);
    out[0] = 'p';
    ia_b64url_encode((const uint8_t *)d, (size_t)n, out + 1);
}

int ia_api_files_parse_page_token(const char *s, int64_t *cursor) {
    size_t n = s ? strlen(s) : 0;
    if (n < 2 || n > 30 || s[0] != 'p') return -1;
    uint8_t d[24];
    long k = ia_b64url_decode(s + 1, n - 1, d, sizeof d - 1);
    if (k <= 0 || k > 19) return -1;
    int64_t v = 0;
    for (long i = 0; i < k; i++) {
        if (d[i] < '0' || d[i] > '9' || (i == 0 && d[i] == '0')) return -1;
        v = v * 10 + (d[i] - '0');
    }
    if (v <= 0) return -1;
    /* base64url lets a last character carry stray low bits ("pND" decodes
     * as "pNA" does): only the spelling we write is ours */
    char again[40];
    ia_api_files_page_token(v, again);
    if (strcmp(again, s) != 0) return -1;
    *cursor = v;
    return 0;
}

/* ---- errors ---------------------------------------------------------------- */

static const char *rpc_status(ia_errcode c) {
    switch (c) {
    case IA_EINVALID: return "INVALID_ARGUMENT";
    case IA_EUNIMPLEMENTED: return "UNIMPLEMENTED";
    case IA_EUNAUTHENTICATED: return "UNAUTHENTICATED";
    case IA_EPERMISSION: return "PERMISSION_DENIED";
    case IA_ENOTFOUND: return "NOT_FOUND";
    case IA_EMETHOD: return "UNIMPLEMENTED";
    case IA_ETOOLARGE: return "RESOURCE_EXHAUSTED";
    case IA_EOVERLOADED: return "UNAVAILABLE";
    case IA_ERATELIMIT: return "RESOURCE_EXHAUSTED";
    case IA_ECANCELLED: return "CANCELLED";
    case IA_ECONFLICT: return "ABORTED";
    case IA_EDEADLINE: return "DEADLINE_EXCEEDED";
    default: return "INTERNAL";
    }
}

char *ia_api_files_encode_error(const ia_err *err) {
    ia_errcode code = err ? err->code : IA_EINTERNAL;
    const char *msg = err && err->msg[0] ? err->msg : "internal error";
    json_t *o = json_pack("{s:{s:i,s:o,s:s}}", "error", "code", ia_err_http_status(code), "message",
                          ia_api_jstr(msg), "status", rpc_status(code));
    return ia_api_dump(o);
}

/* ---- Files URIs in content -------------------------------------------------- */

int ia_api_file_ref(const char *uri, char id[IA_FILE_ID_MAX]) { return ia_files_uri_id(uri, id); }

static bool is_media(json_t *o) {
    const char *t = json_string_value(json_object_get(o, "type"));
    return t && (!strcmp(t, "image") || !strcmp(t, "audio") || !strcmp(t, "video") || !strcmp(t, "document"));
}

/* Depth-first over every object and array; cb on each media content whose
 * uri names a file. Returns cb's first non-zero, else 0. */
static int walk(json_t *v, char *path, size_t plen, size_t cap, int depth,
                int (*cb)(const char *path, const char *id, void *ud), void *ud) {
    if (depth > 64) return 0;
    if (json_is_object(v)) {
        char id[IA_FILE_ID_MAX];
        const char *uri = json_string_value(json_object_get(v, "uri"));
        if (is_media(v) && uri && ia_api_file_ref(uri, id) == 0) {
            int r = cb(plen ? path : "input", id, ud);
            if (r) return r;
        }
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x) {
            if (!json_is_object(x) && !json_is_array(x)) continue;
            int k = snprintf(path + plen, cap - plen, "%s%.40s", plen ? "." : "", key);
            size_t np = k > 0 && (size_t)k < cap - plen ? plen + (size_t)k : plen;
            int r = walk(x, path, np, cap, depth + 1, cb, ud);
            path[plen] = '\0';
            if (r) return r;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            int k = snprintf(path + plen, cap - plen, "[%zu]", i);
            size_t np = k > 0 && (size_t)k < cap - plen ? plen + (size_t)k : plen;
            int r = walk(x, path, np, cap, depth + 1, cb, ud);
            path[plen] = '\0';
            if (r) return r;
        }
    }
    return 0;
}

int ia_api_files_refs(const char *body, size_t len, int (*cb)(const char *path, const char *id, void *ud),
                      void *ud) {
    json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
    if (!root) return 0;
    char path[IA_API_PATH_MAX] = "";
    int r = 0;
    json_t *in = json_object_get(root, "input");
    if (in) {
        snprintf(path, sizeof path, "input");
        r = walk(in, path, strlen(path), sizeof path, 0, cb, ud);
    }
    json_decref(root);
    return r;
}
