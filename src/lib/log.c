/* log: process-wide logging to stderr, one line per event, as text
 * ("2026-11-25T18:00:00Z INFO message") or as JSON lines ({"ts":..,"level":..,
 * "msg":..}). A mutex keeps lines from different threads whole; the level and
 * format are atomics so the hot path (a filtered-out debug line) takes no lock.
 * JSON escaping is jansson's, after the message is made valid UTF-8 (jansson
 * refuses anything else, and a log line must never be lost to a bad byte). */
#include "lib/log.h"

#include "lib/util.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int log_format = IA_LOG_TEXT;
static atomic_int log_level = IA_LOG_INFO;

static const char *level_text[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *level_json[] = {"debug", "info", "warn", "error"};

void ia_log_set_format(ia_log_format f) { atomic_store(&log_format, (int)f); }
void ia_log_set_level(ia_log_level l) { atomic_store(&log_level, (int)l); }

static bool enabled(ia_log_level level) {
    return (int)level >= atomic_load(&log_level) && (unsigned)level <= IA_LOG_ERROR;
}

static void emit(const char *line, size_t n) {
    pthread_mutex_lock(&log_mu);
    fwrite(line, 1, n, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_mu);
}

/* Appends msg to b for a text line: control characters are escaped so one
 * event stays one line (a client-supplied newline must not forge entries). */
static void put_text_escaped(ia_buf *b, const char *msg) {
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '\n') ia_buf_puts(b, "\\n");
        else if (*p == '\r') ia_buf_puts(b, "\\r");
        else if (*p == '\t') ia_buf_puts(b, "\\t");
        else if (*p < 0x20 || *p == 0x7F) ia_buf_printf(b, "\\x%02x", *p);
        else ia_buf_append(b, p, 1);
    }
}

/* A jansson string that is always valid UTF-8. */
static json_t *jstr(const char *s) {
    if (!s) return json_null();
    size_t n = strlen(s);
    if (ia_utf8_valid(s, n)) return json_stringn(s, n);
    char *fixed = ia_utf8_sanitize(s, n);
    json_t *j = json_string(fixed);
    free(fixed);
    return j;
}

/* Dumps obj as one line and releases it. */
static void emit_json(json_t *obj) {
    /* 10 significant digits print 12.3 as "12.3", not 12.300000000000001. */
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(obj);
    if (!s) return;
    size_t n = strlen(s);
    s[n] = '\0';
    char *line = ia_xmalloc(n + 2);
    memcpy(line, s, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    free(s);
    emit(line, n + 1);
    free(line);
}

static json_t *json_head(ia_log_level level) {
    char ts[32];
    ia_time_rfc3339(ia_now(), ts);
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level_json[level]));
    return o;
}

static void text_head(ia_buf *b, ia_log_level level) {
    char ts[32];
    ia_time_rfc3339(ia_now(), ts);
    ia_buf_printf(b, "%s %s ", ts, level_text[level]);
}

void ia_log(ia_log_level level, const char *fmt, ...) {
    if (!enabled(level)) return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int r = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (r < 0) return;
    if (atomic_load(&log_format) == IA_LOG_JSON) {
        json_t *o = json_head(level);
        json_object_set_new(o, "msg", jstr(msg));
        emit_json(o);
    } else {
        ia_buf b;
        ia_buf_init(&b, 0);
        text_head(&b, level);
        put_text_escaped(&b, msg);
        ia_buf_puts(&b, "\n");
        emit(b.data, b.len);
        ia_buf_free(&b);
    }
    free(msg);
}

void ia_log_request(const char *req_id, const char *method, const char *path, int status,
                    double ms, const char *interaction_id, int64_t tokens, const char *error,
                    const char *reason) {
    if (!enabled(IA_LOG_INFO)) return;
    if (!isfinite(ms) || ms < 0) ms = 0;
    if (atomic_load(&log_format) == IA_LOG_JSON) {
        json_t *o = json_head(IA_LOG_INFO);
        json_object_set_new(o, "req_id", jstr(req_id ? req_id : ""));
        json_object_set_new(o, "method", jstr(method ? method : ""));
        json_object_set_new(o, "path", jstr(path ? path : ""));
        json_object_set_new(o, "status", json_integer(status));
        json_object_set_new(o, "ms", json_real(round(ms * 1000) / 1000));
        if (interaction_id && *interaction_id)
            json_object_set_new(o, "interaction_id", jstr(interaction_id));
        if (tokens >= 0) json_object_set_new(o, "tokens", json_integer(tokens));
        if (error && *error) json_object_set_new(o, "error", jstr(error));
        if (reason && *reason) json_object_set_new(o, "reason", jstr(reason));
        emit_json(o);
        return;
    }
    ia_buf b;
    ia_buf_init(&b, 0);
    text_head(&b, IA_LOG_INFO);
    ia_buf_puts(&b, "req=");
    put_text_escaped(&b, req_id ? req_id : "-");
    ia_buf_puts(&b, " ");
    put_text_escaped(&b, method ? method : "-");
    ia_buf_puts(&b, " ");
    put_text_escaped(&b, path ? path : "-");
    ia_buf_printf(&b, " %d %.1fms", status, ms);
    if (interaction_id && *interaction_id) {
        ia_buf_puts(&b, " interaction=");
        put_text_escaped(&b, interaction_id);
    }
    if (tokens >= 0) ia_buf_printf(&b, " tokens=%lld", (long long)tokens);
    if (error && *error) {
        ia_buf_puts(&b, " error=");
        put_text_escaped(&b, error);
    }
    if (reason && *reason) {
        ia_buf_puts(&b, " reason=\"");
        put_text_escaped(&b, reason);
        ia_buf_puts(&b, "\"");
    }
    ia_buf_puts(&b, "\n");
    emit(b.data, b.len);
    ia_buf_free(&b);
}
