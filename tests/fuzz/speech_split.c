/* Fuzz target: the speech engine's text splitting (src/speech/split.c) —
 * a transcript cut into speakers' turns at "Name:" labels, each turn cut
 * into the sentences spoken one at a time. The text is the client's (or a
 * model's answer to it), the speaker names too.
 *
 * Input: up to two speaker names on the first line, split by a tab (an
 * empty name means none), then the text, all of its bytes (NUL included).
 * Checks: turns are in order, disjoint and within the text, each trimmed
 * (no blank at either end) and of a configured entry; a turn after the
 * first starts right after its speaker's label on some line, in the text;
 * each turn's sentences are 1 to IA_SPEECH_SEGMENT_MAX bytes and add up to
 * the turn; in valid UTF-8 text every sentence is valid UTF-8 (no cut
 * inside a character). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "speech/speech.h"

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* Turn t starts right after a label of name: blanks back to a ':', and
 * the name just before it, or before blanks before it. */
static bool after_label(const char *s, const ia_speech_turn *t, const char *name) {
    size_t i = t->off, n = strlen(name);
    while (i > 0 && blank(s[i - 1])) i--;
    if (i == 0 || s[i - 1] != ':') return false;
    for (size_t end = i - 1;; end--) {
        if (end >= n && strncasecmp(s + end - n, name, n) == 0) return true;
        if (end == 0 || (s[end - 1] != ' ' && s[end - 1] != '\t')) return false;
    }
}

static void check_sentences(const char *s, size_t len, bool utf8) {
    size_t at = 0;
    while (at < len) {
        size_t n = ia_speech_sentence(s + at, len - at);
        FUZZ_CHECK(n >= 1 && n <= IA_SPEECH_SEGMENT_MAX && n <= len - at);
        if (utf8) FUZZ_CHECK(ia_utf8_valid(s + at, n));
        at += n;
    }
    FUZZ_CHECK(at == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *nl = memchr(data, '\n', size);
    if (!nl) return 0;
    size_t head = (size_t)(nl - (const char *)data);
    char *names = ia_strndup((const char *)data, head);
    char *tab = strchr(names, '\t');
    if (tab) *tab = '\0';
    ia_speech_entry v[2] = {{NULL, NULL, names[0] ? names : NULL}, {NULL, NULL, tab && tab[1] ? tab + 1 : NULL}};
    ia_speech_cfg cfg = {.v = v, .n = tab ? 2 : 1, .listed = tab != NULL};
    const char *text = nl + 1;
    size_t len = size - head - 1;
    ia_speech_turn *t = NULL;
    size_t n = 0;
    ia_speech_split(text, len, &cfg, &t, &n);
    FUZZ_CHECK((n == 0) == (t == NULL));
    bool utf8 = ia_utf8_valid(text, len);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(t[i].len > 0 && t[i].off + t[i].len <= len && t[i].entry < cfg.n);
        if (i) FUZZ_CHECK(t[i].off >= t[i - 1].off + t[i - 1].len);
        FUZZ_CHECK(!blank(text[t[i].off]) && !blank(text[t[i].off + t[i].len - 1]));
        if (i && t[i].entry != t[i - 1].entry) FUZZ_CHECK(after_label(text, &t[i], v[t[i].entry].speaker));
        check_sentences(text + t[i].off, t[i].len, utf8 && ia_utf8_valid(text + t[i].off, t[i].len));
    }
    free(t);
    free(names);
    return 0;
}
