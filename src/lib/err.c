/* err: the error table and the helpers that fill an ia_err. */
#include "lib/err.h"

#include <stdio.h>
#include <string.h>

static const struct { int status; const char *code; } err_table[] = {
#define IA_X(name, status, code) {status, code},
    IA_ERR_MAP(IA_X)
#undef IA_X
};

int ia_vfail(ia_err *err, ia_errcode code, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        err->retry_after = 0;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -1;
}

int ia_fail(ia_err *err, ia_errcode code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ia_vfail(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

void ia_err_clear(ia_err *err) {
    if (err) memset(err, 0, sizeof *err);
}

int ia_err_http_status(ia_errcode code) {
    return (unsigned)code < IA_ERR__COUNT ? err_table[code].status : 500;
}

const char *ia_err_wire_code(ia_errcode code) {
    return (unsigned)code < IA_ERR__COUNT ? err_table[code].code : "internal";
}

ia_errcode ia_err_from_wire_code(const char *s) {
    if (!s) return IA_OK;
    for (int i = 0; i < IA_ERR__COUNT; i++)
        if (!strcmp(err_table[i].code, s)) return (ia_errcode)i;
    return IA_EINTERNAL;
}
