/* embed: --embedding-model's value (a comma list of [NAME=]FILE.gguf specs,
 * engine/embed.h) checked before anything slow and loaded at start-up. */
#ifndef IA_CLI_EMBED_H
#define IA_CLI_EMBED_H

#include <stddef.h>

#include "cli/flags.h"
#include "engine/embed.h"

/* Each spec's syntax, a name given twice or taken by a --model (names[0..n)):
 * exits 2 naming the flag. */
void cli_embed_check(const cfg *c, const char *const *names, size_t n);
/* Loads every spec into set (empty when the flag is not given). -1 with
 * err (the caller names the flag and frees what was loaded). */
int cli_embed_open(const cfg *c, int threads, ia_embed_set *set, ia_err *err);

#endif
