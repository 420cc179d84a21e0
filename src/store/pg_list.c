/* pg_list.c: the PostgreSQL backend's interaction list (store.h's
 * ia_store_list), the same keyset page as sqlite_list.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/pg_int.h"

typedef struct list_arg {
    const char *owner, *after_id;
    int64_t now, after_created;
    int limit;
    ia_entry **out;
    size_t *n;
    int64_t *next_created;
    char *next_id;
} list_arg;

static void entry(const PGresult *r, int row, ia_entry *e) {
    ia_pg_into(r, row, 0, e->id, sizeof e->id);
    e->model = ia_pg_dup(r, row, 1);
    e->previous_id = ia_pg_dup(r, row, 2);
    int s = ia_status_parse(PQgetvalue(r, row, 3));
    e->status = s < 0 ? IA_STATUS_FAILED : (ia_status)s;
    e->created = ia_pg_int(r, row, 4);
    e->updated = ia_pg_int(r, row, 5);
    e->title = PQgetisnull(r, row, 6) ? NULL : ia_store_title_of(PQgetvalue(r, row, 6));
    if (!PQgetisnull(r, row, 7)) { /* a custom agent's run names the agent */
        free(e->model);
        e->model = ia_pg_dup(r, row, 7);
        e->custom_agent = true;
    }
}

static int op_list(pgx *x, void *p) {
    list_arg *l = p;
    ia_entries_free(*l->out, *l->n); /* a retry begins clean */
    *l->out = NULL;
    *l->n = 0;
    *l->next_created = 0;
    l->next_id[0] = 0;
    pgargs a = {0};
    ia_pg_text(&a, l->owner ? l->owner : "");
    ia_pg_i64(&a, l->now);
    ia_pg_i64(&a, l->after_created);
    ia_pg_text(&a, l->after_id ? l->after_id : "");
    ia_pg_i64(&a, l->limit + 1); /* one more says whether a page follows */
    PGresult *r = ia_pg_q(x, "list",
                          "SELECT id, model, previous_id, status, created, updated, input, agent FROM interactions "
                          "WHERE owner = $1 AND (expires = 0 OR expires > $2) AND ($4 = '' OR created < $3 OR "
                          "(created = $3 AND id < $4)) ORDER BY created DESC, id DESC LIMIT $5",
                          &a);
    if (!r) return -1;
    int rows = PQntuples(r);
    *l->out = ia_xcalloc((size_t)l->limit, sizeof **l->out);
    for (int i = 0; i < rows; i++) {
        if (*l->n == (size_t)l->limit) {
            *l->next_created = (*l->out)[*l->n - 1].created;
            snprintf(l->next_id, 80, "%s", (*l->out)[*l->n - 1].id);
            break;
        }
        entry(r, i, &(*l->out)[(*l->n)++]);
    }
    PQclear(r);
    return 0;
}

int ia_pg_list(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id, int limit,
               ia_entry **out, size_t *n, int64_t *next_created, char next_id[80], ia_err *err) {
    *out = NULL;
    *n = 0;
    list_arg l = {.owner = owner, .after_id = after_id, .now = now, .after_created = after_created,
                  .limit = limit < 1 ? 1 : limit, .out = out, .n = n, .next_created = next_created,
                  .next_id = next_id};
    int rc = ia_pg_run(s, op_list, &l, true, err);
    if (rc != 0) {
        ia_entries_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
