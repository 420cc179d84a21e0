/* list.c: what both backends' interaction lists share (store.h's
 * ia_store_list): an entry's title from its input. */
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"

#define TITLE_MAX 100

char *ia_store_title_of(const char *input_json) {
    ia_conv c = {0};
    if (!input_json || ia_codec_conv_decode(input_json, &c) != 0) return NULL;
    char *title = NULL;
    for (size_t i = 0; i < c.n && !title; i++)
        for (size_t k = 0; k < c.turns[i].n && !title; k++) {
            const ia_content *it = &c.turns[i].items[k];
            if (it->kind != IA_CONTENT_TEXT || !it->text || !*it->text) continue;
            size_t len = strlen(it->text);
            if (len > TITLE_MAX) { /* cut on a character's start */
                len = TITLE_MAX;
                while (len > 0 && ((unsigned char)it->text[len] & 0xC0) == 0x80) len--;
            }
            title = ia_strndup(it->text, len);
        }
    ia_conv_free(&c);
    return title;
}
