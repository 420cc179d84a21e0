/* log: process-wide logging to stderr. One line per event; JSON lines when
 * the format is set to json (--log-format json). Thread-safe. */
#ifndef IA_LIB_LOG_H
#define IA_LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { IA_LOG_TEXT, IA_LOG_JSON } ia_log_format;
typedef enum { IA_LOG_DEBUG, IA_LOG_INFO, IA_LOG_WARN, IA_LOG_ERROR } ia_log_level;

void ia_log_set_format(ia_log_format f);
void ia_log_set_level(ia_log_level l);
void ia_log(ia_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The access log: one line per request. tokens < 0 leaves the field out;
 * error (the wire code) and reason (the message, cut to a line) say why a
 * request was refused or failed, NULL when it was not. */
void ia_log_request(const char *req_id, const char *method, const char *path, int status,
                    double ms, const char *interaction_id, int64_t tokens, const char *error,
                    const char *reason);

#define ia_info(...) ia_log(IA_LOG_INFO, __VA_ARGS__)
#define ia_warn(...) ia_log(IA_LOG_WARN, __VA_ARGS__)
#define ia_error(...) ia_log(IA_LOG_ERROR, __VA_ARGS__)
#define ia_debug(...) ia_log(IA_LOG_DEBUG, __VA_ARGS__)

#endif
