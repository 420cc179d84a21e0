/* flags: the flags of `interactd serve` — one table that is also the help
 * text, each flag read from its INTERACTD_* environment variable, a flag
 * on the command line winning — and the parsers of their values, which
 * exit 2 naming the flag on a bad one. */
#ifndef IA_CLI_FLAGS_H
#define IA_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IA_VERSION "0.1.0"

enum {
    F_CONFIG, F_HOST, F_PORT, F_DATA, F_STORE, F_LEASE, F_MODEL, F_MODELS_DIR, F_CHAT_TEMPLATE, F_MMPROJ, F_ALLOW_PRIVATE, F_ALLOW_ADDRS, F_MAX_MEDIA, F_FETCH_TIMEOUT, F_CODE_TIMEOUT, F_CODE_MEMORY, F_CODE_OUTPUT, F_CODE_CHARS, F_URL_MAX_SIZE, F_SEARCH_URL, F_SEARCH_INDEX, F_SEARCH_RESCAN, F_MAPS_URL, F_OVERPASS_URL, F_UPSTREAM, F_SPEECH_MODEL, F_EMBED_MODEL, F_MAX_STEPS, F_MAX_RUN_TIME, F_AGENT_MODEL, F_AGENT_MAX_STEPS, F_API_KEYS, F_THREADS, F_CTX_SIZE,
    F_MAX_QUEUE, F_MAX_TOKENS, F_PARALLEL, F_CONTEXTS, F_LAYOUT, F_PREFILL_CHUNK, F_PREFIX_CACHE, F_CACHE_RAM, F_MAX_BODY, F_MAX_FILE_SIZE, F_FILES_QUOTA, F_FILES_TTL, F_MAX_CONNS, F_MAX_CONNS_IP, F_READ_TIMEOUT, F_RETENTION, F_DEFAULT_DIALECT, F_BACKENDS, F_LOG_FORMAT, F_VERBOSE, F__COUNT
};

typedef struct cli_flagdef {
    const char *name, *env, *def, *arg, *help;
} cli_flagdef;
extern const cli_flagdef cli_flags[F__COUNT];

typedef struct cfg {
    const char *val[F__COUNT]; /* last value given, flag or env */
    bool from_flag[F__COUNT];
    /* where val[f] came from: "flag", "env", "file" or NULL (default) */
    const char *source[F__COUNT];
    int file_line[F__COUNT]; /* the config file's line of val[f] */
    const char *config_path; /* --config / INTERACTD_CONFIG, NULL: none */
    bool print_config;       /* --print-config */
    struct cli_kv *file_kv;  /* the config file's settings (owned) */
    size_t n_file_kv;
    const char **models, **templates, **mmprojs, **search_dirs, **upstreams, **speech_models; /* repeatable */
    size_t n_models, n_templates, n_mmprojs, n_search_dirs, n_upstreams, n_speech_models;
    const char **embed_models; /* repeatable --embedding-model (each may be a comma list) */
    size_t n_embed_models;
} cfg;

/* The help text of `interactd` and its serve flags. */
void cli_usage(FILE *f);
/* Prints "interactd: --FLAG: " fmt (with v) and exits 2. */
_Noreturn void cli_bad(const char *flag, const char *fmt, const char *v);
/* Appends v to the array *arr of *n. */
void cli_push(const char ***arr, size_t *n, const char *v);
/* Environment first, then argv over it; --help prints and exits 0, an
 * unknown flag exits 2. Strings point into argv / environ or into *owned
 * and *owned_up (the split INTERACTD_MODELS, and INTERACTD_UPSTREAMS and
 * INTERACTD_SPEECH_MODELS one after the other). */
void cli_parse_args(cfg *c, int argc, char **argv, char **owned, char **owned_up);
/* Frees what cli_parse_args allocated for c (not c itself). */
void cli_cfg_free(cfg *c);
/* The flag named name ("port", "max_tokens" as "max-tokens") or whose
 * environment variable is name ("INTERACTD_PORT"); -1 when none. */
int cli_flag_lookup(const char *name);
/* Flag f's value as an integer in [lo, hi], a byte size with k/m/g
 * suffixes, a boolean (1/true/yes/on); the first two exit 2 on a bad one. */
long long cli_int(int f, const char *v, long long lo, long long hi);
size_t cli_bytes(int f, const char *v);
bool cli_bool(const char *v);

#endif
