/* split: a transcript cut into speakers' turns, and a turn into sentences
 * (speech.h says the rules). Pure functions over outside bytes — the text
 * is the client's, or a model's answer to the client — so every index
 * stays within [0, len) and nothing assumes valid UTF-8 or a NUL
 * (tests/fuzz/speech_split.c holds them to that). */
#include "speech/speech.h"

#include <string.h>
#include <strings.h>

#include "lib/util.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static size_t skip_inline_blanks(const char *s, size_t i, size_t len) {
    while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
    return i;
}

/* If a speaker's label ("Name:" with blanks allowed before the colon)
 * starts at s[i], the entry it names and where its words start. */
static bool label_at(const char *s, size_t i, size_t len, const ia_speech_cfg *cfg, size_t *entry,
                     size_t *words) {
    for (size_t e = 0; cfg && e < cfg->n; e++) {
        const char *name = cfg->v[e].speaker;
        size_t nl = name ? strlen(name) : 0;
        if (!nl || len - i < nl || strncasecmp(s + i, name, nl) != 0) continue;
        size_t j = skip_inline_blanks(s, i + nl, len);
        if (j >= len || s[j] != ':') continue;
        *entry = e;
        *words = j + 1;
        return true;
    }
    return false;
}

typedef struct {
    ia_speech_turn *v;
    size_t n, cap;
} turns;

/* Adds text[from, to) as a turn of entry, trimmed; nothing if all blank. */
static void add_turn(turns *t, const char *s, size_t from, size_t to, size_t entry) {
    while (from < to && blank(s[from])) from++;
    while (to > from && blank(s[to - 1])) to--;
    if (from == to) return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->v = ia_xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = (ia_speech_turn){.entry = entry, .off = from, .len = to - from};
}

void ia_speech_split(const char *text, size_t len, const ia_speech_cfg *cfg, ia_speech_turn **out, size_t *n) {
    turns t = {0};
    size_t cur = 0, start = 0; /* the open turn: its entry, where its words start */
    for (size_t line = 0; line < len;) {
        size_t entry, words;
        if (label_at(text, skip_inline_blanks(text, line, len), len, cfg, &entry, &words)) {
            add_turn(&t, text, start, line, cur);
            cur = entry;
            start = words;
        }
        const char *nl = memchr(text + line, '\n', len - line);
        line = nl ? (size_t)(nl - text) + 1 : len;
    }
    add_turn(&t, text, start, len, cur);
    *out = t.v;
    *n = t.n;
}

/* The length of a sentence end (one of ". ! ? ;" or the full-width
 * "。！？") at s[i], 0 if none is there. */
static size_t stop_at(const char *s, size_t i, size_t len) {
    if (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == ';') return 1;
    static const char *const wide[] = {"\xe3\x80\x82", "\xef\xbc\x81", "\xef\xbc\x9f"};
    for (size_t k = 0; k < sizeof wide / sizeof *wide; k++)
        if (len - i >= 3 && memcmp(s + i, wide[k], 3) == 0) return 3;
    return 0;
}

/* Where a sentence too long to speak at once is cut, s holding more than
 * max bytes: after the last blank in its second half, else at max on a
 * character boundary. */
static size_t forced_cut(const char *s, size_t max) {
    for (size_t i = max; i > max / 2; i--)
        if (blank(s[i - 1])) return i;
    size_t i = max;
    while (i > 1 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    return i;
}

/* Every bound below keeps a sentence within IA_SPEECH_SEGMENT_MAX bytes:
 * a stop is looked for only where a whole one (3 bytes) fits. */
size_t ia_speech_sentence(const char *s, size_t len) {
    const size_t max = IA_SPEECH_SEGMENT_MAX;
    for (size_t i = 0; i < len; i++) {
        if (i + 3 > max) return forced_cut(s, i);
        size_t end = 0, w;
        if (s[i] == '\n') {
            end = i + 1;
        } else {
            if (!(w = stop_at(s, i, len))) continue;
            end = i + w;
            size_t more;
            while (end + 3 <= max && end < len && (more = stop_at(s, end, len))) end += more; /* "?!", "..." */
            /* An ASCII stop ends a sentence only before a blank or the end
             * ("3.14", "e.g.x" go on); a full-width one always does. */
            if (w == 1 && end < len && !blank(s[end])) {
                i = end - 1;
                continue;
            }
        }
        while (end < len && end < max && blank(s[end])) end++;
        return end;
    }
    return len;
}
