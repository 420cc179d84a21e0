/* fs_filter: the metadata_filter parser and evaluator (core/fs_filter.h).
 * A recursive-descent parser into a flat node array; depth is bounded by
 * the node limit and parentheses to 16 levels, so hostile nesting cannot
 * exhaust the stack. */
#include "core/fs_filter.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MAX_NODES 64
#define MAX_TEXT 4096

typedef enum { N_AND, N_OR, N_NOT, N_CMP } node_kind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op;

typedef struct {
    node_kind kind;
    int a, b;        /* children (AND, OR: both; NOT: a) */
    cmp_op op;
    char *key;
    char *str;       /* the value as text (always) */
    bool is_num;     /* the value was written as a number */
    double num;
} node;

struct ia_fs_filter {
    node n[MAX_NODES];
    int count, root;
};

typedef struct {
    const char *s, *p;
    const char *field;
    ia_fs_filter *f;
    ia_err *err;
    bool failed;
    int depth; /* open parentheses */
} parser;

static int bad(parser *ps, const char *what) {
    if (!ps->failed)
        ia_fail(ps->err, IA_EINVALID, "%s: does not parse at character %d: %s (AIP-160 syntax, e.g. "
                "author = \"Robert Graves\" AND year > 1900)", ps->field, (int)(ps->p - ps->s) + 1, what);
    ps->failed = true;
    return -1;
}

static void ws(parser *ps) {
    while (*ps->p && isspace((unsigned char)*ps->p)) ps->p++;
}

/* true (and consumed) when the next token is keyword kw, as a whole word. */
static bool keyword(parser *ps, const char *kw) {
    ws(ps);
    size_t n = strlen(kw);
    if (strncmp(ps->p, kw, n) != 0) return false;
    char c = ps->p[n];
    if (isalnum((unsigned char)c) || c == '_' || c == '.') return false;
    ps->p += n;
    return true;
}

static int add(parser *ps, node_kind k, int a, int b) {
    if (ps->f->count == MAX_NODES) return bad(ps, "the filter has too many terms (at most 64 nodes)");
    node *x = &ps->f->n[ps->f->count];
    memset(x, 0, sizeof *x);
    x->kind = k;
    x->a = a;
    x->b = b;
    return ps->f->count++;
}

static int expr(parser *ps);

static bool key_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-'; }

static int value(parser *ps, node *x) {
    ws(ps);
    if (*ps->p == '"') {
        ia_buf b;
        ia_buf_init(&b, 0);
        for (ps->p++; *ps->p && *ps->p != '"'; ps->p++) {
            if (*ps->p == '\\' && (ps->p[1] == '"' || ps->p[1] == '\\')) ps->p++;
            ia_buf_append(&b, ps->p, 1);
        }
        if (*ps->p != '"') {
            ia_buf_free(&b);
            return bad(ps, "a string value has no closing '\"'");
        }
        ps->p++;
        x->str = b.len ? ia_buf_take(&b) : (ia_buf_free(&b), ia_strdup(""));
        return 0;
    }
    const char *b = ps->p;
    while (key_char(*ps->p) || *ps->p == '+') ps->p++;
    if (ps->p == b) return bad(ps, "a value (a \"string\", a number or a word) was expected");
    x->str = ia_strndup(b, (size_t)(ps->p - b));
    char *end;
    double d = strtod(x->str, &end);
    if (*end == '\0' && isfinite(d) && (isdigit((unsigned char)x->str[0]) || x->str[0] == '-' || x->str[0] == '+' ||
                                        x->str[0] == '.')) {
        x->is_num = true;
        x->num = d;
    }
    return 0;
}

static int comparison(parser *ps) {
    ws(ps);
    const char *b = ps->p;
    while (key_char(*ps->p)) ps->p++;
    if (ps->p == b || *b == '-') return bad(ps, "a metadata key was expected");
    int i = add(ps, N_CMP, -1, -1);
    if (i < 0) return -1;
    node *x = &ps->f->n[i];
    x->key = ia_strndup(b, (size_t)(ps->p - b));
    ws(ps);
    static const struct { const char *t; cmp_op op; } ops[] = {
        {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"=", OP_EQ}, {":", OP_EQ}, {"<", OP_LT}, {">", OP_GT}};
    size_t k = 0;
    for (; k < sizeof ops / sizeof *ops; k++)
        if (!strncmp(ps->p, ops[k].t, strlen(ops[k].t))) break;
    if (k == sizeof ops / sizeof *ops) return bad(ps, "an operator (=, !=, <, <=, >, >=, :) was expected");
    x->op = ops[k].op;
    ps->p += strlen(ops[k].t);
    if (value(ps, x) < 0) return -1;
    if (!x->is_num && x->op != OP_EQ && x->op != OP_NE) return bad(ps, "<, <=, > and >= compare numbers only");
    return i;
}

static int unary(parser *ps) {
    ws(ps);
    bool neg = false;
    if (*ps->p == '-' && !isdigit((unsigned char)ps->p[1])) {
        ps->p++;
        neg = true;
    } else if (keyword(ps, "NOT")) {
        neg = true;
    }
    ws(ps);
    int i;
    if (*ps->p == '(') {
        ps->p++;
        if (++ps->depth > 16) return bad(ps, "parentheses nest deeper than 16");
        i = expr(ps);
        ps->depth--;
        if (i < 0) return -1;
        ws(ps);
        if (*ps->p != ')') return bad(ps, "')' was expected");
        ps->p++;
    } else {
        i = comparison(ps);
        if (i < 0) return -1;
    }
    return neg ? add(ps, N_NOT, i, -1) : i;
}

static int and_expr(parser *ps) {
    int i = unary(ps);
    while (i >= 0 && keyword(ps, "AND")) {
        int j = unary(ps);
        if (j < 0) return -1;
        i = add(ps, N_AND, i, j);
    }
    return i;
}

static int expr(parser *ps) {
    int i = and_expr(ps);
    while (i >= 0 && keyword(ps, "OR")) {
        int j = and_expr(ps);
        if (j < 0) return -1;
        i = add(ps, N_OR, i, j);
    }
    return i;
}

int ia_fs_filter_parse(const char *text, const char *field, ia_fs_filter **out, ia_err *err) {
    *out = NULL;
    const char *t = text ? text : "";
    while (isspace((unsigned char)*t)) t++;
    if (!*t) return 0;
    if (strlen(text) > MAX_TEXT)
        return ia_fail(err, IA_EINVALID, "%s: longer than %d bytes", field, MAX_TEXT);
    ia_fs_filter *f = ia_xcalloc(1, sizeof *f);
    parser ps = {.s = text, .p = text, .field = field, .f = f, .err = err};
    f->root = expr(&ps);
    ws(&ps);
    if (f->root >= 0 && *ps.p) bad(&ps, "AND, OR or the end was expected (keywords are in capitals)");
    if (ps.failed || f->root < 0) {
        ia_fs_filter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

static bool cmp_num(cmp_op op, double a, double b) {
    switch (op) {
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    default: return a >= b;
    }
}

static bool cmp_one(const node *x, const ia_fs_meta *m) {
    switch (m->kind) {
    case IA_FS_META_NUMERIC: return x->is_num && cmp_num(x->op, m->num, x->num);
    case IA_FS_META_STRING:
        if (x->op == OP_EQ) return strcmp(m->str ? m->str : "", x->str) == 0;
        if (x->op == OP_NE) return strcmp(m->str ? m->str : "", x->str) != 0;
        return false;
    default: {
        bool any = false;
        for (size_t i = 0; i < m->n_list && !any; i++) any = strcmp(m->list[i], x->str) == 0;
        return x->op == OP_EQ ? any : x->op == OP_NE ? !any : false;
    }
    }
}

static bool eval(const ia_fs_filter *f, int i, const ia_fs_meta *meta, size_t n) {
    const node *x = &f->n[i];
    switch (x->kind) {
    case N_AND: return eval(f, x->a, meta, n) && eval(f, x->b, meta, n);
    case N_OR: return eval(f, x->a, meta, n) || eval(f, x->b, meta, n);
    case N_NOT: return !eval(f, x->a, meta, n);
    default:
        for (size_t k = 0; k < n; k++)
            if (meta[k].key && !strcmp(meta[k].key, x->key)) return cmp_one(x, &meta[k]);
        return false;
    }
}

bool ia_fs_filter_match(const ia_fs_filter *f, const ia_fs_meta *meta, size_t n) {
    return !f || eval(f, f->root, meta, n);
}

void ia_fs_filter_free(ia_fs_filter *f) {
    if (!f) return;
    for (int i = 0; i < f->count; i++) {
        free(f->n[i].key);
        free(f->n[i].str);
    }
    free(f);
}
