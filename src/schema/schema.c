/* schema.c: the keyword check in front of llama.cpp's schema-to-grammar
 * converter (see schema.h). check() mirrors the converter's own dispatch
 * (json-schema-to-grammar.cpp, visit()): it decides which branch the
 * converter will take for a schema object, and every keyword that branch
 * does not read — and that is not a mere annotation — is refused with the
 * path and the keyword, because the converter would drop it silently and
 * the output would no longer be bound by it. Along the way it rewrites what
 * the converter can express in another spelling (format email, \d \w \s in
 * patterns) into that spelling. */
#include "schema/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MAX_DEPTH 64
#define PATH_LEN 512
/* json-schema-to-grammar.cpp's MAX_PATTERN_DEPTH: deeper groups make it
 * drop the whole pattern. */
#define MAX_PATTERN_DEPTH 100
/* format email as a pattern the converter knows: RFC 5321's part lengths
 * bound every repetition, so a model that never writes '@' still ends. */
/* llama.cpp's grammar engine refuses a repetition of more than this many
 * (MAX_REPETITION_THRESHOLD in llama-grammar.cpp); a larger upper bound it
 * treats as none, which the token limit bounds anyway. */
#define GRAMMAR_MAX_REPEAT 2000

#define EMAIL_PATTERN "^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9-]{1,63}(\\.[a-zA-Z0-9-]{1,63}){0,4}\\.[a-zA-Z]{2,24}$"

typedef struct {
    json_t *root;
    ia_err *err;
    int depth;
} ctx;

static const char *const ANNOTATIONS[] = {
    "title", "description", "default", "examples", "$schema", "$comment",
    "$defs", "definitions", "deprecated", "readOnly", "writeOnly",
};

/* Keywords of one instance type: in a schema whose type is a list, those
 * of the other listed types are read by the converter's copy for that type. */
static const char *const STRING_KW[] = {"minLength", "maxLength", "pattern", "format"};
static const char *const NUMBER_KW[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
static const char *const ARRAY_KW[] = {"items", "prefixItems", "minItems", "maxItems"};
static const char *const OBJECT_KW[] = {"properties", "required", "additionalProperties"};

#define IN(k, list) in_list(k, list, sizeof list / sizeof *list)
static bool in_list(const char *k, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, list[i]) == 0) return true;
    return false;
}

static const char *const TYPES[] = {"string", "number", "integer", "boolean", "null", "array", "object"};

static int fail_kw(ctx *c, const char *path, const char *kw, const char *why) {
    return ia_fail(c->err, IA_EINVALID, "%s: schema keyword '%s' is not supported%s%s", path, kw,
                   why ? " " : "", why ? why : "");
}

static int check(ctx *c, json_t *s, const char *path, const char *type_override, json_t *types);

/* Is keyword k one that some other type listed in `types` reads? */
static bool other_type_kw(const char *k, json_t *types, const char *self) {
    if (!types) return false;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        const char *tn = json_string_value(t);
        if (!tn || strcmp(tn, self) == 0) continue;
        if (strcmp(tn, "string") == 0 && IN(k, STRING_KW)) return true;
        if ((strcmp(tn, "integer") == 0 || strcmp(tn, "number") == 0) && IN(k, NUMBER_KW)) return true;
        if (strcmp(tn, "array") == 0 && IN(k, ARRAY_KW)) return true;
        if (strcmp(tn, "object") == 0 && IN(k, OBJECT_KW)) return true;
    }
    return false;
}

/* Every key of s is an annotation, "type", or one of allowed[]; the first
 * that is not is refused with a reason saying what the schema's shape is. */
static int only(ctx *c, json_t *s, const char *path, const char *const *allowed, size_t n,
                json_t *types, const char *self, const char *shape) {
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) {
        if (strcmp(k, "type") == 0 || IN(k, ANNOTATIONS) || in_list(k, allowed, n)) continue;
        if (types && other_type_kw(k, types, self)) continue;
        char why[160];
        if (strcmp(k, "nullable") == 0)
            snprintf(why, sizeof why, "(write \"type\": [..., \"null\"] instead)");
        else
            snprintf(why, sizeof why, "%s%s(the grammar would ignore it)", shape ? shape : "",
                     shape ? " " : "");
        return fail_kw(c, path, k, why);
    }
    return 0;
}
#define ONLY(list, shape) only(c, s, path, list, sizeof list / sizeof *list, types, self, shape)

static int sub(ctx *c, json_t *s, const char *path, const char *fmt, const char *key) {
    char p[PATH_LEN];
    snprintf(p, sizeof p, fmt, path, key);
    return check(c, s, p, NULL, NULL);
}

static int nonneg_int(ctx *c, json_t *s, const char *path, const char *k) {
    json_t *v = json_object_get(s, k);
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000))
        return ia_fail(c->err, IA_EINVALID, "%s.%s: expected a non-negative integer", path, k);
    if (v && !strncmp(k, "min", 3) && json_integer_value(v) > GRAMMAR_MAX_REPEAT)
        return ia_fail(c->err, IA_EINVALID,
                       "%s.%s: %lld is more than llama.cpp's grammar engine can require (%d at most); "
                       "lower it", path, k, (long long)json_integer_value(v), GRAMMAR_MAX_REPEAT);
    return 0;
}

/* lo <= hi for a pair of count bounds (both already checked as counts): an
 * empty range would give llama.cpp's grammar a repetition {lo,hi} with
 * hi < lo, which its parser expands without end. */
static int ordered(ctx *c, json_t *s, const char *path, const char *lo, const char *hi) {
    json_t *a = json_object_get(s, lo), *b = json_object_get(s, hi);
    if (a && b && json_integer_value(a) > json_integer_value(b))
        return ia_fail(c->err, IA_EINVALID, "%s: %s (%lld) is greater than %s (%lld): no value fits",
                       path, lo, (long long)json_integer_value(a), hi, (long long)json_integer_value(b));
    return 0;
}

/* "#/a/b" resolved in the root document; NULL when it does not resolve. */
static json_t *resolve(json_t *root, const char *ref) {
    if (strncmp(ref, "#", 1) != 0) return NULL;
    const char *p = ref + 1;
    json_t *cur = root;
    if (!*p) return root;
    if (*p != '/') return NULL;
    while (*p == '/' && cur) {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[256];
        size_t o = 0;
        for (size_t i = 0; i < len && o + 1 < sizeof tok; i++) { /* ~1 -> /, ~0 -> ~ */
            if (p[i] == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[o++] = p[i + 1] == '1' ? '/' : '~';
                i++;
            } else {
                tok[o++] = p[i];
            }
        }
        tok[o] = '\0';
        if (json_is_object(cur)) cur = json_object_get(cur, tok);
        else if (json_is_array(cur)) cur = json_array_get(cur, strtoul(tok, NULL, 10));
        else cur = NULL;
        p += len;
    }
    return cur;
}

/* ---- patterns -------------------------------------------------------------- */

/* Rewrites a pattern into the converter's subset (schema.h), or returns
 * NULL with a reason. \d \w \s become classes; inside a class their ranges. */
static char *pattern_normalize(const char *pat, const char **why) {
    size_t n = strlen(pat);
    if (n < 2 || pat[0] != '^' || pat[n - 1] != '$' || (n >= 3 && pat[n - 2] == '\\')) {
        *why = "(a pattern must be anchored: ^...$)";
        return NULL;
    }
    ia_buf b;
    ia_buf_init(&b, 0);
    ia_buf_puts(&b, "^");
    bool in_class = false;
    int depth = 0;
    /* Whether a quantifier may come next: after an atom, not at the start,
     * after '(' or '|' ("nothing to repeat") or after a quantifier (stacked
     * "a**" or lazy "a+?" ones: the converter writes them as GBNF that
     * llama.cpp's grammar parser refuses, or that allows more than the
     * pattern, e.g. "a+?" as ("a"+)?). */
    bool can_repeat = false;
    /* Per open group, the atoms of its current alternative and whether one
     * of its alternatives is empty ("(a|)", "()"): such a group under * or +
     * is a rule llama.cpp's grammar engine refuses as left-recursive. */
    int alt_atoms[MAX_PATTERN_DEPTH + 1] = {0};
    bool empty_alt[MAX_PATTERN_DEPTH + 1] = {false};
    bool last_empty_group = false; /* the last atom is such a group */
#define ATOM() (alt_atoms[depth]++, last_empty_group = false)
    for (size_t i = 1; i + 1 < n; i++) {
        char ch = pat[i];
        if (ch == '\\') {
            can_repeat = true;
            if (!in_class) ATOM();
            char e = pat[i + 1];
            if (i + 2 >= n) goto bad_escape;
            const char *cls = e == 'd' ? "0-9" : e == 'w' ? "a-zA-Z0-9_" : e == 's' ? " \\t\\n\\r" : NULL;
            if (cls) {
                if (!in_class) ia_buf_puts(&b, "[");
                ia_buf_puts(&b, cls);
                if (!in_class) ia_buf_puts(&b, "]");
                i++;
                continue;
            }
            if (in_class && strchr(".()|{}*+?$", e)) { /* plain characters in a class */
                ia_buf_append(&b, &e, 1);
                i++;
                continue;
            }
            if (strchr("tnr\\\"[]", e) || (!in_class && strchr("^$.()|{}*+?", e))) {
                ia_buf_append(&b, pat + i, 2);
                i++;
                continue;
            }
            if (e == 'x' || e == 'u') {
                size_t k = e == 'x' ? 2 : 4;
                if (i + 2 + k > n - 1) goto bad_escape;
                for (size_t h = 0; h < k; h++)
                    if (!strchr("0123456789abcdefABCDEF", pat[i + 2 + h])) goto bad_escape;
                ia_buf_append(&b, pat + i, 2 + k);
                i += 1 + k;
                continue;
            }
            goto bad_escape;
        }
        if (in_class) {
            if (ch == ']') {
                in_class = false;
                can_repeat = true;
            }
            ia_buf_append(&b, &ch, 1);
            continue;
        }
        if (ch == '[') {
            in_class = true;
            ATOM();
        } else if (ch == '^' || ch == '$') {
            ia_buf_free(&b);
            *why = "(anchors are only allowed at the ends of a pattern)";
            return NULL;
        } else if (ch == '(') {
            if (pat[i + 1] == '?' && pat[i + 2] != ':') {
                ia_buf_free(&b);
                *why = "(lookarounds, named groups and flags have no grammar equivalent)";
                return NULL;
            }
            if (++depth > MAX_PATTERN_DEPTH) {
                ia_buf_free(&b);
                *why = "(groups nest at most 100 deep)";
                return NULL;
            }
            can_repeat = false;
            alt_atoms[depth - 1]++; /* the group is an atom of its parent */
            last_empty_group = false;
            alt_atoms[depth] = 0;
            empty_alt[depth] = false;
            if (pat[i + 1] == '?') { /* "(?:" whole: its '?' is no quantifier */
                ia_buf_puts(&b, "(?:");
                i += 2;
                continue;
            }
        } else if (ch == ')') {
            bool empty = empty_alt[depth] || alt_atoms[depth] == 0;
            if (--depth < 0) break;
            can_repeat = true;
            last_empty_group = empty;
        } else if (ch == '|') {
            can_repeat = false;
            if (alt_atoms[depth] == 0) empty_alt[depth] = true;
            alt_atoms[depth] = 0;
        } else if ((ch == '*' || ch == '+') && last_empty_group) {
            ia_buf_free(&b);
            *why = "(a group with an empty alternative cannot take * or +: llama.cpp's grammar engine "
                   "refuses it as left-recursive; write the group without the empty branch and use ?)";
            return NULL;
        } else if ((ch == '{' || ch == '*' || ch == '+' || ch == '?') && !can_repeat) {
            ia_buf_free(&b);
            *why = "(a quantifier must follow something to repeat, and not another quantifier: no "
                   "lazy or stacked quantifiers)";
            return NULL;
        } else if (ch == '*' || ch == '+' || ch == '?') {
            can_repeat = false;
        } else if (ch == '{') {
            /* {m}, {m,}, {m,n}: digits and one comma only */
            size_t k = i + 1;
            int commas = 0, digits = 0;
            while (k + 1 < n && pat[k] != '}') {
                if (pat[k] == ',') commas++;
                else if (pat[k] >= '0' && pat[k] <= '9') digits++;
                else break;
                k++;
            }
            if (pat[k] != '}' || commas > 1 || digits == 0 || (commas == 0 && pat[i + 1] == ',')) {
                ia_buf_free(&b);
                *why = "(a repetition must read {m}, {m,} or {m,n})";
                return NULL;
            }
            if (commas && pat[i + 1] == ',') {
                ia_buf_free(&b);
                *why = "(a repetition must read {m}, {m,} or {m,n})";
                return NULL;
            }
            /* {m,n} with n < m (or counts past what a grammar can unroll)
             * would make llama.cpp's grammar parser expand without end. */
            char *end = NULL;
            unsigned long long m = strtoull(pat + i + 1, &end, 10), hi = m;
            if (end && *end == ',' && end[1] != '}') hi = strtoull(end + 1, NULL, 10);
            if (hi < m || m > GRAMMAR_MAX_REPEAT || hi > 100000) {
                ia_buf_free(&b);
                *why = "(a repetition {m,n} needs m <= n, m at most 2000 (llama.cpp's grammar engine "
                       "repeats no more) and n at most 100000)";
                return NULL;
            }
            /* the whole {m,n}: its '}' is not a stray one */
            ia_buf_append(&b, pat + i, k - i + 1);
            i = k;
            can_repeat = false;
            continue;
        } else if (ch == ']' || ch == '}') {
            /* the converter reads a stray ']' or '}' as no pattern at all
             * ("accepting any string"), where a regex takes it literally */
            ia_buf_free(&b);
            *why = "(a literal ']' or '}' must be escaped)";
            return NULL;
        } else {
            can_repeat = true; /* a literal or '.' */
            ATOM();
        }
        ia_buf_append(&b, &ch, 1);
    }
#undef ATOM
    if (in_class || depth != 0) {
        ia_buf_free(&b);
        *why = "(unbalanced brackets or parentheses)";
        return NULL;
    }
    ia_buf_puts(&b, "$");
    return ia_buf_take(&b);
bad_escape:
    ia_buf_free(&b);
    *why = "(escapes allowed: \\d \\w \\s \\t \\n \\r \\xHH \\uHHHH and escaped metacharacters)";
    return NULL;
}

/* ---- the walk ----------------------------------------------------------------- */

static int check_string(ctx *c, json_t *s, const char *path, json_t *types, const char *self,
                        bool typed) {
    json_t *pat = json_object_get(s, "pattern");
    json_t *fmt = json_object_get(s, "format");
    if (pat) {
        static const char *const kw[] = {"pattern"};
        if (ONLY(kw, "next to 'pattern'") < 0) return -1;
        if (!json_is_string(pat)) return ia_fail(c->err, IA_EINVALID, "%s.pattern: expected a string", path);
        const char *why = NULL;
        char *norm = pattern_normalize(json_string_value(pat), &why);
        if (!norm)
            return ia_fail(c->err, IA_EINVALID, "%s.pattern: '%s' is not supported %s", path,
                           json_string_value(pat), why);
        json_object_set_new(s, "pattern", json_string(norm));
        free(norm);
        return 0;
    }
    if (fmt) {
        static const char *const kw[] = {"format"};
        if (ONLY(kw, "next to 'format'") < 0) return -1;
        const char *f = json_string_value(fmt);
        if (!f) return ia_fail(c->err, IA_EINVALID, "%s.format: expected a string", path);
        if (strcmp(f, "email") == 0) {
            json_object_del(s, "format");
            json_object_set_new(s, "pattern", json_string(EMAIL_PATTERN));
            return 0;
        }
        if (strcmp(f, "date") && strcmp(f, "time") && strcmp(f, "date-time") && strcmp(f, "uuid"))
            return ia_fail(c->err, IA_EINVALID,
                           "%s.format: format '%s' is not supported (supported: date, time, "
                           "date-time, uuid, email)", path, f);
        return 0;
    }
    if (!typed && (json_object_get(s, "minLength") || json_object_get(s, "maxLength")))
        return ia_fail(c->err, IA_EINVALID,
                       "%s: minLength/maxLength need \"type\": \"string\" beside them", path);
    static const char *const kw[] = {"minLength", "maxLength"};
    if (ONLY(kw, "for a string") < 0) return -1;
    if (nonneg_int(c, s, path, "minLength") < 0 || nonneg_int(c, s, path, "maxLength") < 0) return -1;
    return ordered(c, s, path, "minLength", "maxLength");
}

static int check_integer(ctx *c, json_t *s, const char *path, json_t *types, const char *self) {
    static const char *const kw[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
    if (ONLY(kw, "for an integer") < 0) return -1;
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(s, kw[i]);
        if (v && !json_is_integer(v))
            return ia_fail(c->err, IA_EINVALID, "%s.%s: expected an integer (bounds of an integer are integers)",
                           path, kw[i]);
    }
    if (json_object_get(s, "minimum") && json_object_get(s, "exclusiveMinimum"))
        return fail_kw(c, path, "exclusiveMinimum", "next to 'minimum' (give one lower bound)");
    if (json_object_get(s, "maximum") && json_object_get(s, "exclusiveMaximum"))
        return fail_kw(c, path, "exclusiveMaximum", "next to 'maximum' (give one upper bound)");
    /* An empty range would leave the grammar with no value to write, and
     * llama.cpp's sampler throws on a grammar with no way forward. */
    json_t *mn = json_object_get(s, "minimum"), *xmn = json_object_get(s, "exclusiveMinimum");
    json_t *mx = json_object_get(s, "maximum"), *xmx = json_object_get(s, "exclusiveMaximum");
    if ((mn || xmn) && (mx || xmx)) {
        /* 128-bit, so the +1/-1 of exclusive bounds cannot overflow. */
        __int128 lo = mn ? (__int128)json_integer_value(mn) : (__int128)json_integer_value(xmn) + 1;
        __int128 hi = mx ? (__int128)json_integer_value(mx) : (__int128)json_integer_value(xmx) - 1;
        if (lo > hi) return ia_fail(c->err, IA_EINVALID, "%s: the bounds leave no integer that fits", path);
    }
    return 0;
}

static int check_object(ctx *c, json_t *s, const char *path, json_t *types, const char *self) {
    static const char *const kw[] = {"properties", "required", "additionalProperties"};
    if (ONLY(kw, "for an object") < 0) return -1;
    json_t *props = json_object_get(s, "properties");
    if (props && !json_is_object(props))
        return ia_fail(c->err, IA_EINVALID, "%s.properties: expected an object", path);
    const char *k;
    json_t *v;
    json_object_foreach(props, k, v) {
        if (sub(c, v, path, "%s.properties.%s", k) < 0) return -1;
    }
    json_t *req = json_object_get(s, "required");
    if (req) {
        if (!json_is_array(req)) return ia_fail(c->err, IA_EINVALID, "%s.required: expected an array of strings", path);
        size_t i;
        json_t *r;
        json_array_foreach(req, i, r) {
            if (!json_is_string(r))
                return ia_fail(c->err, IA_EINVALID, "%s.required[%zu]: expected a string", path, i);
            if (!props || !json_object_get(props, json_string_value(r)))
                return ia_fail(c->err, IA_EINVALID,
                               "%s.required: '%s' is not among the properties (the grammar can only "
                               "require declared properties)", path, json_string_value(r));
        }
    }
    json_t *ap = json_object_get(s, "additionalProperties");
    if (ap && !json_is_boolean(ap)) {
        if (!json_is_object(ap))
            return ia_fail(c->err, IA_EINVALID, "%s.additionalProperties: expected a boolean or a schema", path);
        char p[PATH_LEN];
        snprintf(p, sizeof p, "%s.additionalProperties", path);
        if (check(c, ap, p, NULL, NULL) < 0) return -1;
    }
    if (!props && !ap && req && json_array_size(req))
        return ia_fail(c->err, IA_EINVALID, "%s.required: needs properties", path);
    return 0;
}

static int check_array(ctx *c, json_t *s, const char *path, json_t *types, const char *self) {
    json_t *items = json_object_get(s, "items");
    json_t *prefix = json_object_get(s, "prefixItems");
    if (items && prefix)
        return fail_kw(c, path, "prefixItems", "next to 'items' (give either a tuple or one item schema)");
    json_t *tuple = json_is_array(items) ? items : prefix;
    if (tuple) {
        static const char *const kw[] = {"items", "prefixItems"};
        if (ONLY(kw, "for a tuple (its length is fixed)") < 0) return -1;
        if (!json_is_array(tuple)) return ia_fail(c->err, IA_EINVALID, "%s.prefixItems: expected an array", path);
        size_t i;
        json_t *t;
        json_array_foreach(tuple, i, t) {
            char p[PATH_LEN];
            snprintf(p, sizeof p, "%s.%s[%zu]", path, items ? "items" : "prefixItems", i);
            if (check(c, t, p, NULL, NULL) < 0) return -1;
        }
        return 0;
    }
    if (!items) {
        if (json_object_get(s, "minItems") || json_object_get(s, "maxItems"))
            return ia_fail(c->err, IA_EINVALID, "%s: minItems/maxItems need 'items' beside them", path);
        static const char *const none[] = {"items"};
        return ONLY(none, "for an array");
    }
    static const char *const kw[] = {"items", "minItems", "maxItems"};
    if (ONLY(kw, "for an array") < 0) return -1;
    if (nonneg_int(c, s, path, "minItems") < 0 || nonneg_int(c, s, path, "maxItems") < 0) return -1;
    if (ordered(c, s, path, "minItems", "maxItems") < 0) return -1;
    char p[PATH_LEN];
    snprintf(p, sizeof p, "%s.items", path);
    if (!json_is_object(items)) return ia_fail(c->err, IA_EINVALID, "%s: expected a schema", p);
    return check(c, items, p, NULL, NULL);
}

/* allOf: the converter merges object components (each one's properties all
 * required) and intersects enum components; nothing else. */
static int check_allof(ctx *c, json_t *s, const char *path, json_t *types, const char *self) {
    static const char *const kw[] = {"allOf"};
    if (ONLY(kw, "next to 'allOf'") < 0) return -1;
    json_t *all = json_object_get(s, "allOf");
    if (!json_is_array(all) || json_array_size(all) == 0)
        return ia_fail(c->err, IA_EINVALID, "%s.allOf: expected a non-empty array of schemas", path);
    size_t i;
    json_t *comp;
    json_array_foreach(all, i, comp) {
        char p[PATH_LEN];
        snprintf(p, sizeof p, "%s.allOf[%zu]", path, i);
        json_t *target = comp;
        json_t *ref = json_object_get(comp, "$ref");
        if (ref) {
            if (!json_is_string(ref) || !(target = resolve(c->root, json_string_value(ref))))
                return ia_fail(c->err, IA_EINVALID, "%s.$ref: does not resolve in this schema", p);
        }
        if (!json_is_object(target) || !(json_object_get(target, "properties") || json_object_get(target, "enum")))
            return ia_fail(c->err, IA_EINVALID,
                           "%s: an allOf component must be an object schema with properties (or an "
                           "enum)", p);
        if (check(c, comp, p, NULL, NULL) < 0) return -1;
    }
    return 0;
}

static int check(ctx *c, json_t *s, const char *path, const char *type_override, json_t *types) {
    if (!json_is_object(s)) return ia_fail(c->err, IA_EINVALID, "%s: expected a schema (a JSON object)", path);
    if (++c->depth > MAX_DEPTH) return ia_fail(c->err, IA_EINVALID, "%s: the schema nests too deeply", path);
    int rc = -1;
    const char *self = type_override;
    json_t *type = json_object_get(s, "type");
    if (!self && json_is_string(type)) self = json_string_value(type);
    if (type && !json_is_string(type) && !json_is_array(type)) {
        ia_fail(c->err, IA_EINVALID, "%s.type: expected a type name or a list of them", path);
        goto out;
    }
    if (self && !IN(self, TYPES)) {
        ia_fail(c->err, IA_EINVALID, "%s.type: unknown type '%s'", path, self);
        goto out;
    }
    /* Definitions may be referenced from anywhere: checked where they stand. */
    const char *const defkeys[] = {"$defs", "definitions"};
    for (size_t i = 0; i < 2 && !type_override; i++) {
        json_t *defs = json_object_get(s, defkeys[i]);
        if (!defs) continue;
        if (!json_is_object(defs)) {
            ia_fail(c->err, IA_EINVALID, "%s.%s: expected an object", path, defkeys[i]);
            goto out;
        }
        const char *k;
        json_t *v;
        char fmt[32];
        snprintf(fmt, sizeof fmt, "%%s.%s.%%s", defkeys[i]);
        json_object_foreach(defs, k, v) {
            if (sub(c, v, path, fmt, k) < 0) goto out;
        }
    }
    json_t *ref = json_object_get(s, "$ref");
    if (ref) {
        static const char *const kw[] = {"$ref"};
        if (only(c, s, path, kw, 1, NULL, NULL, "next to '$ref'") < 0) goto out;
        if (type) {
            fail_kw(c, path, "type", "next to '$ref' (the grammar would ignore it)");
            goto out;
        }
        if (json_object_get(s, "$defs") || json_object_get(s, "definitions")) {
            /* llama.cpp's resolver does not look past a $ref */
            fail_kw(c, path, json_object_get(s, "$defs") ? "$defs" : "definitions",
                    "next to '$ref' below the root (move the definitions to the root)");
            goto out;
        }
        if (!json_is_string(ref) || strncmp(json_string_value(ref), "#", 1) != 0 ||
            !resolve(c->root, json_string_value(ref))) {
            ia_fail(c->err, IA_EINVALID, "%s.$ref: only references inside this schema (\"#/...\") that "
                    "resolve are supported", path);
            goto out;
        }
        rc = 0;
        goto out;
    }
    json_t *any = json_object_get(s, "anyOf"), *one = json_object_get(s, "oneOf");
    if (any || one) {
        if (any && one) {
            fail_kw(c, path, "anyOf", "next to 'oneOf' (the grammar would ignore it)");
            goto out;
        }
        static const char *const kw1[] = {"anyOf"}, *const kw2[] = {"oneOf"};
        if (only(c, s, path, one ? kw2 : kw1, 1, NULL, NULL, one ? "next to 'oneOf'" : "next to 'anyOf'") < 0)
            goto out;
        if (type) {
            fail_kw(c, path, "type", one ? "next to 'oneOf' (the grammar would ignore it)"
                                         : "next to 'anyOf' (the grammar would ignore it)");
            goto out;
        }
        json_t *alts = one ? one : any;
        if (!json_is_array(alts) || json_array_size(alts) == 0) {
            ia_fail(c->err, IA_EINVALID, "%s.%s: expected a non-empty array of schemas", path, one ? "oneOf" : "anyOf");
            goto out;
        }
        size_t i;
        json_t *a;
        json_array_foreach(alts, i, a) {
            char p[PATH_LEN];
            snprintf(p, sizeof p, "%s.%s[%zu]", path, one ? "oneOf" : "anyOf", i);
            if (check(c, a, p, NULL, NULL) < 0) goto out;
        }
        rc = 0;
        goto out;
    }
    if (json_is_array(type) && !type_override) {
        if (json_array_size(type) == 0) {
            ia_fail(c->err, IA_EINVALID, "%s.type: must not be empty", path);
            goto out;
        }
        size_t i;
        json_t *t;
        json_array_foreach(type, i, t) {
            if (!json_is_string(t)) {
                ia_fail(c->err, IA_EINVALID, "%s.type[%zu]: expected a type name", path, i);
                goto out;
            }
            if (check(c, s, path, json_string_value(t), type) < 0) goto out;
        }
        rc = 0;
        goto out;
    }
    if (json_object_get(s, "const")) {
        static const char *const kw[] = {"const"};
        rc = only(c, s, path, kw, 1, NULL, NULL, "next to 'const'");
        goto out;
    }
    json_t *en = json_object_get(s, "enum");
    if (en) {
        static const char *const kw[] = {"enum"};
        if (!json_is_array(en) || json_array_size(en) == 0) {
            ia_fail(c->err, IA_EINVALID, "%s.enum: expected a non-empty array", path);
            goto out;
        }
        rc = only(c, s, path, kw, 1, NULL, NULL, "next to 'enum'");
        goto out;
    }
    json_t *ap = json_object_get(s, "additionalProperties");
    if ((!self || strcmp(self, "object") == 0) &&
        (json_object_get(s, "properties") || (ap && !json_is_true(ap)))) {
        rc = check_object(c, s, path, types, self ? self : "object");
        goto out;
    }
    if ((!self || strcmp(self, "object") == 0 || strcmp(self, "string") == 0) && json_object_get(s, "allOf")) {
        rc = check_allof(c, s, path, types, self ? self : "object");
        goto out;
    }
    if ((!self || strcmp(self, "array") == 0) && (json_object_get(s, "items") || json_object_get(s, "prefixItems"))) {
        rc = check_array(c, s, path, types, "array");
        goto out;
    }
    if (!self) {
        /* no type: string keywords still select the string branches */
        if (json_object_get(s, "pattern") || json_object_get(s, "format") || json_object_get(s, "minLength") ||
            json_object_get(s, "maxLength")) {
            rc = check_string(c, s, path, types, "string", false);
            goto out;
        }
        static const char *const none[] = {"$defs"};
        rc = only(c, s, path, none, 1, NULL, NULL, "in a schema without a type");
        goto out;
    }
    if (strcmp(self, "string") == 0) rc = check_string(c, s, path, types, self, true);
    else if (strcmp(self, "integer") == 0) rc = check_integer(c, s, path, types, self);
    else if (strcmp(self, "object") == 0) rc = check_object(c, s, path, types, self);
    else if (strcmp(self, "array") == 0) rc = check_array(c, s, path, types, self);
    else {
        static const char *const none[] = {"$defs"};
        const char *shape = strcmp(self, "number") == 0 ? "for a number (bounds are supported for integers only)"
                            : strcmp(self, "boolean") == 0 ? "for a boolean" : "for null";
        rc = only(c, s, path, none, 1, types, self, shape);
    }
out:
    c->depth--;
    return rc;
}

json_t *ia_schema_prepare(json_t *schema, const char *path, ia_err *err) {
    if (!json_is_object(schema)) {
        ia_fail(err, IA_EINVALID, "%s: expected a JSON Schema object", path);
        return NULL;
    }
    json_t *copy = json_deep_copy(schema);
    /* A root that is a $ref: llama.cpp's ref resolver does not look past a
     * $ref, so the definitions beside it would go unresolved. The root
     * becomes the schema it names, keeping the definitions. */
    for (int hop = 0; copy && hop < 8 && json_is_string(json_object_get(copy, "$ref")); hop++) {
        bool bare = true; /* only annotations beside it, or check() must see them */
        const char *k;
        json_t *v;
        json_object_foreach(copy, k, v) bare = bare && (strcmp(k, "$ref") == 0 || IN(k, ANNOTATIONS));
        if (!bare) break;
        json_t *target = resolve(copy, json_string_value(json_object_get(copy, "$ref")));
        if (!json_is_object(target) || target == copy) break; /* check() reports it */
        json_t *root = json_deep_copy(target);
        const char *const defkeys[] = {"$defs", "definitions"};
        for (size_t i = 0; i < 2; i++) {
            json_t *d = json_object_get(copy, defkeys[i]);
            if (d && !json_object_get(root, defkeys[i])) json_object_set(root, defkeys[i], d);
        }
        json_decref(copy);
        copy = root;
    }
    ctx c = {.root = copy, .err = err};
    if (!copy || check(&c, copy, path, NULL, NULL) < 0) {
        if (!copy) ia_fail(err, IA_EINTERNAL, "out of memory");
        json_decref(copy);
        return NULL;
    }
    return copy;
}

char *ia_schema_offer(const char *schema_json, const char *path, ia_err *err) {
    json_error_t jerr;
    json_t *sc = json_loads(schema_json ? schema_json : "", 0, &jerr);
    if (!sc) {
        ia_fail(err, IA_EINVALID, "%s: not a JSON Schema (%s)", path, jerr.text);
        return NULL;
    }
    json_t *prep = ia_schema_prepare(sc, path, err);
    char *g = prep ? ia_schema_grammar(prep, path, err) : NULL;
    char *out = g ? json_dumps(prep, JSON_COMPACT) : NULL;
    if (g && !out) ia_fail(err, IA_EINTERNAL, "out of memory");
    free(g);
    json_decref(prep);
    json_decref(sc);
    return out;
}
