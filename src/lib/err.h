/* err: the project's one error type.
 *
 * Every fallible function returns 0 on success or -1 on failure and, on
 * failure, fills the caller's ia_err (when not NULL) with a code and a message
 * that names the offending field path ("generation_config.temperature: must be
 * a number"). The code decides the HTTP status and the wire's snake_case
 * `error.code`; the table below is the only place that mapping lives.
 *
 * Statuses the SDK retries by itself (408, 409, 429, >=500) are reserved for
 * what a retry can fix: a client mistake is always a 4xx it will not retry. */
#ifndef IA_LIB_ERR_H
#define IA_LIB_ERR_H

#include <stdarg.h>

/* X(name, http status, wire code). Append only; never renumber. */
#define IA_ERR_MAP(X)                                            \
    X(IA_OK,                 200, "ok")                          \
    X(IA_EINVALID,           400, "invalid_request")             \
    X(IA_EUNIMPLEMENTED,     400, "unimplemented")               \
    X(IA_EUNAUTHENTICATED,   401, "unauthenticated")             \
    X(IA_EPERMISSION,        403, "permission_denied")           \
    X(IA_ENOTFOUND,          404, "not_found")                   \
    X(IA_EMETHOD,            405, "method_not_allowed")          \
    X(IA_ETOOLARGE,          413, "payload_too_large")           \
    X(IA_EOVERLOADED,        503, "unavailable")                 \
    X(IA_ERATELIMIT,         429, "resource_exhausted")          \
    X(IA_EINTERNAL,          500, "internal")                    \
    X(IA_ECANCELLED,         499, "cancelled")                   \
    X(IA_ECONFLICT,          409, "aborted")                     \
    /* an upstream engine (src/upstream/) answered badly or failed */ \
    X(IA_EUPSTREAM,          502, "bad_gateway")                 \
    /* an upstream engine did not answer in time */              \
    X(IA_EDEADLINE,          504, "deadline_exceeded")

typedef enum {
#define IA_X(name, status, code) name,
    IA_ERR_MAP(IA_X)
#undef IA_X
    IA_ERR__COUNT
} ia_errcode;

typedef struct ia_err {
    ia_errcode code;
    int retry_after; /* seconds, for IA_EOVERLOADED / IA_ERATELIMIT; 0 = none */
    char msg[512];
} ia_err;

/* Fills err (if not NULL) and returns -1, so callers can `return ia_fail(...)`. */
int ia_fail(ia_err *err, ia_errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ia_vfail(ia_err *err, ia_errcode code, const char *fmt, va_list ap);
void ia_err_clear(ia_err *err);

int ia_err_http_status(ia_errcode code);
const char *ia_err_wire_code(ia_errcode code);
/* The code whose wire name is s ("invalid_request" -> IA_EINVALID); IA_OK for
 * NULL, and IA_EINTERNAL for a name this build does not know. */
ia_errcode ia_err_from_wire_code(const char *s);

#endif
