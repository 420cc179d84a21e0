/* test_store_list: the store's interaction list (store.h's ia_store_list)
 * on both backends: newest first, the owner's unexpired rows only, pages
 * that add up to the whole with no row twice, the title from the input;
 * and the wire's page token (api/list.c). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "pg_help.h"
#include "store/store.h"

static bool db_path(char *buf, size_t n, const char *name, int *failed) {
    char file[512];
    snprintf(file, sizeof file, "%s/store-list-%s.db", ia_test_tmpdir(), name);
    remove(file);
    return ia_test_store_spec(buf, n, name, file, failed);
}

static void put(ia_store *s, const char *id, const char *owner, int64_t created, int64_t expires, const char *text) {
    ia_interaction it = {0};
    snprintf(it.id, sizeof it.id, "%s", id);
    it.owner = ia_strdup(owner);
    it.model = ia_strdup("demo");
    it.previous_id = created > 1000 ? ia_strdup("v1_before") : NULL;
    it.status = IA_STATUS_COMPLETED;
    it.created = created;
    it.updated = created + 1;
    it.expires = expires;
    ia_turn *u = ia_conv_add_turn(&it.input, IA_ROLE_USER);
    if (text) ia_turn_add_text(u, text, strlen(text));
    it.output.role = IA_ROLE_MODEL;
    ia_err err = {0};
    ia_store_put(s, &it, &err);
    ia_interaction_free(&it);
}

IA_STORE_TEST(store_list_pages_newest_first) {
    char spec[512];
    if (!db_path(spec, sizeof spec, "pages", ia_failed_)) return;
    ia_err err = {0};
    ia_store *s = ia_store_open(spec, &err);
    IA_CHECK(s);
    char id[32];
    for (int i = 0; i < 7; i++) { /* created 1000..1006; two share 1003 */
        snprintf(id, sizeof id, "v1_row%d", i);
        put(s, id, "alice", i == 4 ? 1003 : 1000 + i, 0, i == 6 ? "ü" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789xyz" : "hello");
    }
    put(s, "v1_bob", "bob", 2000, 0, "bob's");
    put(s, "v1_gone", "alice", 3000, 5, "expired");
    char seen[16][80];
    int n_seen = 0, pages = 0;
    int64_t after_c = 0, prev_created = INT64_MAX;
    char after_id[80] = "";
    bool ordered = true, titled = true;
    do {
        ia_entry *v = NULL;
        size_t n = 0;
        int64_t nc = 0;
        char nid[80];
        IA_CHECK(ia_store_list(s, "alice", 100, after_c, after_id, 3, &v, &n, &nc, nid, &err) == 0);
        for (size_t i = 0; i < n && n_seen < 16; i++) {
            ordered &= v[i].created <= prev_created && v[i].updated == v[i].created + 1;
            prev_created = v[i].created;
            memcpy(seen[n_seen++], v[i].id, 80);
            titled &= v[i].title != NULL && v[i].model && !strcmp(v[i].model, "demo") && v[i].status == IA_STATUS_COMPLETED;
            if (!strcmp(v[i].id, "v1_row6")) /* cut at 100 bytes on a character's start: ü is 2 bytes */
                titled &= strlen(v[i].title) == 100 && !strncmp(v[i].title, "ü0", 3);
        }
        ia_entries_free(v, n);
        after_c = nc;
        memcpy(after_id, nid, 80);
        pages++;
    } while (after_id[0] && pages < 10);
    ia_store_close(s);
    bool unique = true;
    for (int i = 0; i < n_seen; i++)
        for (int k = i + 1; k < n_seen; k++) unique &= strcmp(seen[i], seen[k]) != 0;
    if (n_seen != 7 || pages != 3) fprintf(stderr, "  %d rows in %d pages\n", n_seen, pages);
    IA_CHECK(n_seen == 7 && pages == 3 && unique && ordered && titled);
    IA_CHECK(!strcmp(seen[0], "v1_row6") && !strcmp(seen[6], "v1_row0")); /* newest first; bob's and the expired absent */
}

IA_TEST(api_list_token_round_trip_and_refusals) {
    ia_entry e = {.id = "v1_x", .model = "deep-research-pro-preview-12-2025", .status = IA_STATUS_IN_PROGRESS,
                  .created = 5, .updated = 6};
    char *body = ia_api_list_encode(&e, 1, 1700000000, "v1_AbC-d_9");
    IA_CHECK_CONTAINS(body, "\"agent\":\"deep-research-pro-preview-12-2025\"");
    IA_CHECK_CONTAINS(body, "\"status\":\"in_progress\"");
    const char *t = strstr(body, "\"next_page_token\":\"");
    IA_CHECK(t != NULL);
    char tok[200];
    snprintf(tok, sizeof tok, "%s", t + 19);
    *strchr(tok, '"') = 0;
    int64_t c = 0;
    char id[80];
    IA_CHECK(ia_api_list_parse_token(tok, &c, id) == 0 && c == 1700000000 && !strcmp(id, "v1_AbC-d_9"));
    free(body);
    body = ia_api_list_encode(NULL, 0, 0, "");
    IA_CHECK_STREQ(body, "{\"interactions\":[]}");
    free(body);
    const char *bad[] = {"", "zzz", "MTIz", /* "123": no slash */ "LzEyMw", /* "/123" */ "MTIzL3YxIGE" /* "123/v1 a" */};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) IA_CHECK(ia_api_list_parse_token(bad[i], &c, id) == -1);
}
