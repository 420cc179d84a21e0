/* validate.c: a JSON Schema validator for the keywords schema.c accepts, so
 * tests (and the server, on what a model wrote under a grammar) can confirm
 * that an output really satisfies its schema. It reads the prepared
 * (normalized) schema: patterns are already in the subset that POSIX
 * extended regexes understand once "(?:" is read as "(", and format email
 * has become a pattern. oneOf is checked as JSON Schema defines it (exactly
 * one alternative), which is stricter than the grammar: schemas should keep
 * their alternatives disjoint. */
#include "schema/schema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

typedef struct {
    json_t *root;
    char *why;
    size_t n;
    int depth;
} vctx;

__attribute__((format(printf, 3, 4))) static bool no(vctx *c, const char *path, const char *fmt, ...) {
    if (c->why && c->n) {
        int k = snprintf(c->why, c->n, "%s: ", path[0] ? path : "(root)");
        if (k >= 0 && (size_t)k < c->n) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->why + k, c->n - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

static json_t *resolve(json_t *root, const char *ref) {
    if (ref[0] != '#') return NULL;
    const char *p = ref + 1;
    json_t *cur = root;
    while (*p == '/' && cur) {
        p++;
        size_t len = strcspn(p, "/");
        char tok[256];
        size_t o = 0;
        for (size_t i = 0; i < len && o + 1 < sizeof tok; i++) {
            if (p[i] == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[o++] = p[i + 1] == '1' ? '/' : '~';
                i++;
            } else {
                tok[o++] = p[i];
            }
        }
        tok[o] = '\0';
        cur = json_is_object(cur) ? json_object_get(cur, tok)
              : json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10)) : NULL;
        p += len;
    }
    return *p ? NULL : cur;
}

static bool is_type(json_t *v, const char *t) {
    if (strcmp(t, "string") == 0) return json_is_string(v);
    if (strcmp(t, "number") == 0) return json_is_number(v);
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v) || (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)));
    if (strcmp(t, "boolean") == 0) return json_is_boolean(v);
    if (strcmp(t, "null") == 0) return json_is_null(v);
    if (strcmp(t, "array") == 0) return json_is_array(v);
    if (strcmp(t, "object") == 0) return json_is_object(v);
    return false;
}

/* Equality as JSON Schema means it: 1 and 1.0 are the same number. */
static bool equal(json_t *a, json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

static size_t utf8_len(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* The prepared pattern as a POSIX ERE: "(?:" is a plain group; \t \n \r
 * become the characters; \xHH \uHHHH (ASCII only) the character. */
static bool pattern_match(const char *pat, const char *s) {
    ia_buf b;
    ia_buf_init(&b, 0);
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == '(' && pat[i + 1] == '?' && pat[i + 2] == ':') {
            ia_buf_puts(&b, "(");
            i += 2;
        } else if (pat[i] == '\\' && pat[i + 1]) {
            char e = pat[++i];
            char ch = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : 0;
            if (e == 'x' || e == 'u') {
                size_t k = e == 'x' ? 2 : 4;
                char hex[5] = {0};
                memcpy(hex, pat + i + 1, k);
                ch = (char)strtol(hex, NULL, 16);
                i += k;
            }
            if (ch) {
                char lit[2] = {ch, 0};
                if (strchr("^$.[]()|{}*+?\\", ch)) ia_buf_puts(&b, "\\");
                ia_buf_puts(&b, lit);
            } else {
                char esc[3] = {'\\', e, 0};
                ia_buf_puts(&b, esc);
            }
        } else {
            ia_buf_append(&b, pat + i, 1);
        }
    }
    char *ere = ia_buf_take(&b);
    regex_t re;
    bool ok = false;
    if (ere && regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) == 0) {
        ok = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
    }
    free(ere);
    return ok;
}

static bool format_ok(const char *f, const char *s) {
    const char *re = NULL;
    if (strcmp(f, "date") == 0) re = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
    else if (strcmp(f, "time") == 0)
        re = "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
    else if (strcmp(f, "date-time") == 0)
        re = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
             "(\\.[0-9]{3})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
    else if (strncmp(f, "uuid", 4) == 0)
        re = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
    else return true;
    return pattern_match(re, s);
}

static bool v(vctx *c, json_t *s, json_t *x, const char *path);

static bool v_sub(vctx *c, json_t *s, json_t *x, const char *path, const char *fmt, ...) {
    char p[512];
    int k = snprintf(p, sizeof p, "%s", path);
    va_list ap;
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < sizeof p) vsnprintf(p + k, sizeof p - (size_t)k, fmt, ap);
    va_end(ap);
    return v(c, s, x, p);
}

static bool v(vctx *c, json_t *s, json_t *x, const char *path) {
    if (json_is_true(s)) return true;
    if (json_is_false(s)) return no(c, path, "no value is allowed here");
    if (!json_is_object(s)) return no(c, path, "bad schema");
    if (++c->depth > 200) return no(c, path, "schema recursion too deep");
    bool ok = false;
    json_t *k;
    if ((k = json_object_get(s, "$ref"))) {
        json_t *t = json_is_string(k) ? resolve(c->root, json_string_value(k)) : NULL;
        ok = t ? v(c, t, x, path) : no(c, path, "unresolved $ref");
        goto out;
    }
    if ((k = json_object_get(s, "type"))) {
        bool match = false;
        if (json_is_string(k)) match = is_type(x, json_string_value(k));
        size_t i;
        json_t *t;
        json_array_foreach(k, i, t) match = match || (json_is_string(t) && is_type(x, json_string_value(t)));
        if (!match) {
            ok = no(c, path, "wrong type");
            goto out;
        }
    }
    if ((k = json_object_get(s, "const")) && !equal(k, x)) {
        ok = no(c, path, "not the const value");
        goto out;
    }
    if ((k = json_object_get(s, "enum"))) {
        bool found = false;
        size_t i;
        json_t *e;
        json_array_foreach(k, i, e) found = found || equal(e, x);
        if (!found) {
            ok = no(c, path, "not one of the enum values");
            goto out;
        }
    }
    if ((k = json_object_get(s, "anyOf")) || (k = json_object_get(s, "oneOf"))) {
        bool is_one = json_object_get(s, "oneOf") == k;
        size_t hits = 0, i;
        json_t *a;
        json_array_foreach(k, i, a) {
            vctx quiet = {c->root, NULL, 0, c->depth};
            if (v(&quiet, a, x, path)) hits++;
        }
        if (hits == 0 || (is_one && hits != 1)) {
            ok = no(c, path, hits ? "matches %zu oneOf alternatives" : "matches none of the alternatives (%zu)", hits ? hits : json_array_size(k));
            goto out;
        }
    }
    if ((k = json_object_get(s, "allOf"))) {
        size_t i;
        json_t *a;
        json_array_foreach(k, i, a) if (!v(c, a, x, path)) goto out;
    }
    if (json_is_string(x)) {
        const char *str = json_string_value(x);
        if ((k = json_object_get(s, "minLength")) && (json_int_t)utf8_len(str) < json_integer_value(k)) {
            ok = no(c, path, "shorter than minLength");
            goto out;
        }
        if ((k = json_object_get(s, "maxLength")) && (json_int_t)utf8_len(str) > json_integer_value(k)) {
            ok = no(c, path, "longer than maxLength");
            goto out;
        }
        if ((k = json_object_get(s, "pattern")) && !pattern_match(json_string_value(k), str)) {
            ok = no(c, path, "does not match the pattern %s", json_string_value(k));
            goto out;
        }
        if ((k = json_object_get(s, "format")) && json_is_string(k) && !format_ok(json_string_value(k), str)) {
            ok = no(c, path, "not a valid %s", json_string_value(k));
            goto out;
        }
    }
    if (json_is_number(x)) {
        double d = json_number_value(x);
        if (((k = json_object_get(s, "minimum")) && d < json_number_value(k)) ||
            ((k = json_object_get(s, "maximum")) && d > json_number_value(k)) ||
            ((k = json_object_get(s, "exclusiveMinimum")) && d <= json_number_value(k)) ||
            ((k = json_object_get(s, "exclusiveMaximum")) && d >= json_number_value(k))) {
            ok = no(c, path, "out of bounds");
            goto out;
        }
    }
    if (json_is_array(x)) {
        size_t n = json_array_size(x);
        if ((k = json_object_get(s, "minItems")) && (json_int_t)n < json_integer_value(k)) {
            ok = no(c, path, "fewer than minItems");
            goto out;
        }
        if ((k = json_object_get(s, "maxItems")) && (json_int_t)n > json_integer_value(k)) {
            ok = no(c, path, "more than maxItems");
            goto out;
        }
        json_t *tuple = json_object_get(s, "prefixItems");
        json_t *items = json_object_get(s, "items");
        if (json_is_array(items)) tuple = items, items = NULL;
        size_t start = 0;
        if (tuple) {
            /* the grammar writes exactly the tuple; so do we require it */
            if (n != json_array_size(tuple)) {
                ok = no(c, path, "expected %zu items", json_array_size(tuple));
                goto out;
            }
            for (size_t i = 0; i < n; i++)
                if (!v_sub(c, json_array_get(tuple, i), json_array_get(x, i), path, "[%zu]", i)) goto out;
            start = n;
        }
        if (items)
            for (size_t i = start; i < n; i++)
                if (!v_sub(c, items, json_array_get(x, i), path, "[%zu]", i)) goto out;
    }
    if (json_is_object(x)) {
        json_t *props = json_object_get(s, "properties");
        json_t *ap = json_object_get(s, "additionalProperties");
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(s, "required"), i, r) {
            if (!json_object_get(x, json_string_value(r))) {
                ok = no(c, path, "missing required property '%s'", json_string_value(r));
                goto out;
            }
        }
        const char *key;
        json_t *val;
        json_object_foreach(x, key, val) {
            json_t *ps = props ? json_object_get(props, key) : NULL;
            if (ps) {
                if (!v_sub(c, ps, val, path, ".%s", key)) goto out;
            } else if (ap && !v_sub(c, ap, val, path, ".%s", key)) {
                goto out;
            }
        }
    }
    ok = true;
out:
    c->depth--;
    return ok;
}

bool ia_schema_validate(json_t *prepared, json_t *instance, char *why, size_t n) {
    if (why && n) why[0] = '\0';
    vctx c = {prepared, why, n, 0};
    return v(&c, prepared, instance, "");
}
