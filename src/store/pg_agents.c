/* pg_agents.c: the PostgreSQL backend's custom agents (store/agents.h),
 * the same rows as sqlite_agents.c's; the table is pg_schema.c's
 * migration 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/pg_int.h"

#define AGENT_COLS "id, owner, base_agent, description, system_instruction, tools, agent_config, created"

typedef struct agent_arg {
    const ia_agent_def *in;
    const char *owner, *id, *after_id;
    int limit;
    ia_agent_def *out; /* get */
    ia_agent_def **list;
    size_t *n;
    char *next_id;
} agent_arg;

static void row(const PGresult *r, int i, ia_agent_def *d) {
    ia_pg_into(r, i, 0, d->id, sizeof d->id);
    d->owner = ia_pg_dup(r, i, 1);
    d->base_agent = ia_pg_dup(r, i, 2);
    d->description = ia_pg_dup(r, i, 3);
    d->system_instruction = ia_pg_dup(r, i, 4);
    d->tools = ia_pg_dup(r, i, 5);
    d->agent_config = ia_pg_dup(r, i, 6);
    d->created = ia_pg_int(r, i, 7);
}

static int op_create(pgx *x, void *p) {
    const ia_agent_def *d = ((agent_arg *)p)->in;
    pgargs a = {0};
    ia_pg_text(&a, d->id);
    ia_pg_text(&a, d->owner ? d->owner : "");
    ia_pg_text(&a, d->base_agent);
    ia_pg_text(&a, d->description);
    ia_pg_text(&a, d->system_instruction);
    ia_pg_text(&a, d->tools);
    ia_pg_text(&a, d->agent_config);
    ia_pg_i64(&a, d->created);
    /* DO NOTHING, then the count: a taken id is a conflict, not a failure
     * of the database (and a retry after a lost connection stays exact) */
    PGresult *r = ia_pg_qw(x, "agent create",
                           "INSERT INTO agents (" AGENT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                           "ON CONFLICT (owner, id) DO NOTHING",
                           &a);
    if (!r) return -1;
    int changed = ia_pg_changed(r);
    PQclear(r);
    if (changed == 0)
        return ia_fail(x->err, IA_ECONFLICT, "id: an agent '%s' already exists; delete it first or pick another id",
                       d->id);
    return 0;
}

static int op_get(pgx *x, void *p) {
    agent_arg *g = p;
    ia_agent_def_free(g->out); /* a retry begins clean */
    pgargs a = {0};
    ia_pg_text(&a, g->owner);
    ia_pg_text(&a, g->id);
    PGresult *r = ia_pg_q(x, "agent get", "SELECT " AGENT_COLS " FROM agents WHERE owner = $1 AND id = $2", &a);
    if (!r) return -1;
    int rc = 0;
    if (PQntuples(r) == 0) rc = ia_fail(x->err, IA_ENOTFOUND, "agent '%s' not found", g->id);
    else row(r, 0, g->out);
    PQclear(r);
    return rc;
}

static int op_list(pgx *x, void *p) {
    agent_arg *l = p;
    ia_agent_defs_free(*l->list, *l->n); /* a retry begins clean */
    *l->list = NULL;
    *l->n = 0;
    l->next_id[0] = 0;
    pgargs a = {0};
    ia_pg_text(&a, l->owner);
    ia_pg_text(&a, l->after_id);
    ia_pg_i64(&a, l->limit + 1); /* one more says whether a page follows */
    PGresult *r = ia_pg_q(x, "agent list",
                          "SELECT " AGENT_COLS " FROM agents WHERE owner = $1 AND id COLLATE \"C\" > $2 "
                          "ORDER BY id COLLATE \"C\" LIMIT $3",
                          &a);
    if (!r) return -1;
    int rows = PQntuples(r);
    *l->list = ia_xcalloc((size_t)l->limit, sizeof **l->list);
    for (int i = 0; i < rows; i++) {
        if (*l->n == (size_t)l->limit) {
            snprintf(l->next_id, IA_AGENT_ID_MAX, "%s", (*l->list)[*l->n - 1].id);
            break;
        }
        row(r, i, &(*l->list)[(*l->n)++]);
    }
    PQclear(r);
    return 0;
}

static int op_delete(pgx *x, void *p) {
    agent_arg *g = p;
    pgargs a = {0};
    ia_pg_text(&a, g->owner);
    ia_pg_text(&a, g->id);
    PGresult *r = ia_pg_qw(x, "agent delete", "DELETE FROM agents WHERE owner = $1 AND id = $2", &a);
    if (!r) return -1;
    int changed = ia_pg_changed(r);
    PQclear(r);
    return changed == 0 ? ia_fail(x->err, IA_ENOTFOUND, "agent '%s' not found", g->id) : 0;
}

int ia_pg_agent_create(ia_store *s, const ia_agent_def *d, ia_err *err) {
    agent_arg g = {.in = d};
    return ia_pg_run(s, op_create, &g, false, err);
}

int ia_pg_agent_get(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err) {
    agent_arg g = {.owner = owner, .id = id, .out = out};
    int rc = ia_pg_run(s, op_get, &g, true, err);
    if (rc != 0) ia_agent_def_free(out);
    return rc;
}

int ia_pg_agent_list(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                     size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err) {
    agent_arg l = {.owner = owner, .after_id = after_id, .limit = limit, .list = out, .n = n, .next_id = next_id};
    int rc = ia_pg_run(s, op_list, &l, true, err);
    if (rc != 0) {
        ia_agent_defs_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int ia_pg_agent_delete(ia_store *s, const char *owner, const char *id, ia_err *err) {
    agent_arg g = {.owner = owner, .id = id};
    return ia_pg_run(s, op_delete, &g, false, err);
}
