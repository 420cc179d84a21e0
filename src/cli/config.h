/* config: the settings file of `interactd serve --config FILE` and the
 * --print-config listing.
 *
 * The file: one setting a line, KEY = VALUE (or KEY=VALUE), KEY a serve
 * flag's name ("port", "max-tokens"; TOML's "max_tokens" too) or its
 * environment variable ("INTERACTD_PORT"), so a systemd EnvironmentFile or
 * a TOML file both read. VALUE bare (trimmed, a " #" comment cut), or
 * "double-quoted" (\" \\ \n \t escapes) or 'single-quoted' (literal), or a
 * TOML array of quoted strings for a repeatable flag (model, upstream,
 * mmproj, chat-template, search-index: each element one value; a key given
 * again adds values too). Blank lines, # comments and [section] headers
 * are skipped, an "export " prefix too. Precedence: a flag beats the
 * environment, which beats the file; a repeatable flag takes the values of
 * the first of the three that gives any. An unknown key or a line that is
 * no setting exits 2 naming FILE:LINE. */
#ifndef IA_CLI_CONFIG_H
#define IA_CLI_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "cli/flags.h"
#include "lib/err.h"

typedef struct cli_kv {
    char *key, *val;
    int line;
} cli_kv;

/* Parses text[0..n) into *out (*n_out settings, array elements one each);
 * -1 + err ("line N: ...") on a line that is no setting. */
int cli_config_parse(const char *text, size_t n, cli_kv **out, size_t *n_out, ia_err *err);
void cli_config_free(cli_kv *kv, size_t n);
/* Reads c->config_path and fills what the flags and the environment left
 * unset (see above); exits 2 naming the file and line on an error. */
void cli_config_apply(cfg *c);
/* Every serve flag's effective value and where it came from, TOML-like
 * (a file that --config reads back). */
void cli_print_config(const cfg *c, FILE *f);

#endif
