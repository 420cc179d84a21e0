/* agents (store): custom agents (SDK 3.3.0's agents.create / list / get /
 * delete), one row per (owner, id). A definition is kept as api/ checked
 * it: its strings, and its tools and agent_config as the compact JSON
 * api/agents.c wrote (opaque here). Visibility as store.h's: another
 * owner's agent reads exactly like a missing one (IA_ENOTFOUND), so ids
 * never leak across keys. Agents do not expire. Both backends:
 * store/sqlite_agents.c, store/pg_agents.c. */
#ifndef IA_STORE_AGENTS_H
#define IA_STORE_AGENTS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

typedef struct ia_store ia_store;

#define IA_AGENT_ID_MAX 64 /* 63 characters and the NUL */

typedef struct ia_agent_def {
    char id[IA_AGENT_ID_MAX];
    char *owner;
    char *base_agent;         /* a Deep Research agent's name or a served model's; never NULL once valid */
    char *description;        /* NULL: none */
    char *system_instruction; /* NULL: none */
    char *tools;              /* compact JSON array; NULL: none */
    char *agent_config;       /* compact JSON object; NULL: none */
    int64_t created;          /* epoch seconds */
} ia_agent_def;
void ia_agent_def_free(ia_agent_def *d); /* its members; zeroed */
void ia_agent_defs_free(ia_agent_def *v, size_t n); /* members and the array */

/* Inserts d (d->owner NULL is ""); an agent of that owner and id already
 * there: IA_ECONFLICT naming it, nothing written. */
int ia_store_agent_create(ia_store *s, const ia_agent_def *d, ia_err *err);
/* The owner's agent id into out (members malloc'd); IA_ENOTFOUND when it
 * has none of that id. */
int ia_store_agent_get(ia_store *s, const char *owner, const char *id, ia_agent_def *out, ia_err *err);
/* A page of the owner's agents in id order, those after after_id ("" or
 * NULL: from the first), at most limit (at least 1); next_id: the last
 * id of the page when another follows, else "". */
int ia_store_agent_list(ia_store *s, const char *owner, const char *after_id, int limit, ia_agent_def **out,
                        size_t *n, char next_id[IA_AGENT_ID_MAX], ia_err *err);
/* Deletes the owner's agent id; IA_ENOTFOUND when it has none. Interactions
 * it ran keep its name. */
int ia_store_agent_delete(ia_store *s, const char *owner, const char *id, ia_err *err);

#endif
