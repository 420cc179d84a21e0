/* main: the `interactd` binary — `serve`, `version`, `--help`. It turns
 * flags and INTERACTD_* environment variables (flags win) into the options
 * of each module, starts them in dependency order (engine backends, store,
 * models, core, HTTP), prints the line the tests wait for
 * ("interactd listening on http://HOST:PORT"), and on SIGINT/SIGTERM stops
 * them in reverse. A bad value exits 2 naming the flag; a failure to start
 * exits 1 saying what failed. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "core/files.h"
#include "engine/engine.h"
#include "http/http.h"
#include "lib/dirlock.h"
#include "lib/fetch.h"
#include "tools/search.h"
#include "upstream/upstream.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/util.h"
#include "store/store.h"

#define IA_VERSION "0.1.0"

/* The demo model, looked for relative to the executable (no path of the
 * build tree is compiled in): beside it in the build tree (build/demo.gguf;
 * build/asan/demo.gguf links to it), ../share/interactd/ in an install. */
static const char *const demo_rel[] = {"demo.gguf", "../share/interactd/demo.gguf"};

/* Every flag of `serve`: name, environment variable, default, help. The
 * table is the help text too, so the two cannot drift apart. */
enum {
    F_HOST, F_PORT, F_DATA, F_MODEL, F_CHAT_TEMPLATE, F_MMPROJ, F_ALLOW_PRIVATE, F_ALLOW_ADDRS, F_MAX_MEDIA, F_FETCH_TIMEOUT, F_CODE_TIMEOUT, F_CODE_MEMORY, F_CODE_OUTPUT, F_CODE_CHARS, F_URL_MAX_SIZE, F_SEARCH_URL, F_SEARCH_INDEX, F_SEARCH_RESCAN, F_UPSTREAM, F_MAX_STEPS, F_MAX_RUN_TIME, F_API_KEYS, F_THREADS, F_CTX_SIZE,
    F_MAX_QUEUE, F_MAX_TOKENS, F_PARALLEL, F_CONTEXTS, F_LAYOUT, F_PREFILL_CHUNK, F_PREFIX_CACHE, F_CACHE_RAM, F_MAX_BODY, F_MAX_FILE_SIZE, F_FILES_QUOTA, F_FILES_TTL, F_MAX_CONNS, F_MAX_CONNS_IP, F_READ_TIMEOUT, F_RETENTION, F_DEFAULT_DIALECT, F_BACKENDS, F_LOG_FORMAT, F_VERBOSE, F__COUNT
};
static const struct flagdef {
    const char *name, *env, *def, *arg, *help;
} flags[F__COUNT] = {
    [F_HOST] = {"host", "INTERACTD_HOST", "127.0.0.1", "ADDR",
                "address to listen on (without API keys: loopback only)"},
    [F_PORT] = {"port", "INTERACTD_PORT", "8080", "N", "port to listen on; 0 picks a free one"},
    [F_DATA] = {"data", "INTERACTD_DATA", "./data", "DIR",
                "data directory (created); the store is DIR/interactd.db"},
    [F_MODEL] = {"model", "INTERACTD_MODELS", "demo (random weights)", "NAME=PATH",
                 "serve a GGUF model under NAME; repeatable (env: comma-separated list)"},
    [F_CHAT_TEMPLATE] = {"chat-template", "INTERACTD_CHAT_TEMPLATE", "the model's own", "[NAME=]FILE",
                         "Jinja chat template file overriding a model's (all models without NAME); repeatable"},
    /* Media input (issue 16): a model's projector, and where a media
     * part's `uri` may point. */
    [F_MMPROJ] = {"mmproj", "INTERACTD_MMPROJ", "beside the model", "[NAME=]FILE",
                  "multimodal projector (GGUF) for image / audio / video input: all models without NAME; "
                  "repeatable; NAME=none for none. Without it, mmproj-STEM.gguf, STEM-mmproj.gguf or "
                  "STEM.mmproj.gguf beside the model (STEM: its file name without .gguf) is used"},
    [F_ALLOW_PRIVATE] = {"allow-private-urls", "INTERACTD_ALLOW_PRIVATE_URLS", "off", NULL,
                         "let a media part's uri, url_context and mcp_server URLs reach loopback, link-local and "
                         "private addresses (refused by default, also after a redirect)"},
    [F_ALLOW_ADDRS] = {"allow-addresses", "INTERACTD_ALLOW_ADDRESSES", "none", "LIST",
                       "non-public addresses a media part's uri, url_context and mcp_server may reach all "
                       "the same (an operator's own hosts): comma-separated addresses, address:port or "
                       "CIDR networks, e.g. 10.0.0.5:8080,[fd00::1],10.20.0.0/16; matched on the address connected to"},
    [F_MAX_MEDIA] = {"max-media-size", "INTERACTD_MAX_MEDIA_SIZE", "20m", "BYTES",
                     "largest media part fetched from a uri (suffixes k, m, g)"},
    [F_FETCH_TIMEOUT] = {"fetch-timeout", "INTERACTD_FETCH_TIMEOUT", "30", "SECONDS",
                         "longest a media part's uri may take to fetch, redirects included; also each request "
                         "to a url_context page and to an mcp_server (listing its tools, calling one)"},
    /* Built-in tools (issue 11): code_execution runs Python 3 under
     * bubblewrap (no network, read-only system, a private /tmp). */
    [F_CODE_TIMEOUT] = {"code-timeout", "INTERACTD_CODE_TIMEOUT", "10", "SECONDS",
                        "code_execution: wall time of one run of the model's Python in its sandbox "
                        "(bubblewrap: no network, read-only system, private /tmp); CPU time too"},
    [F_CODE_MEMORY] = {"code-memory", "INTERACTD_CODE_MEMORY", "512m", "BYTES",
                       "code_execution: address space of one run (suffixes k, m, g)"},
    [F_CODE_OUTPUT] = {"code-output", "INTERACTD_CODE_OUTPUT", "64k", "BYTES",
                       "code_execution: stdout (and stderr) kept of one run; past it the run is stopped"},
    [F_CODE_CHARS] = {"code-max-chars", "INTERACTD_CODE_MAX_CHARS", "10000", "N",
                      "code_execution: longest code the model may write in one call (its grammar ends the "
                      "call there)"},
    [F_URL_MAX_SIZE] = {"url-max-size", "INTERACTD_URL_MAX_SIZE", "10m", "BYTES",
                        "url_context: largest page fetched (suffixes k, m, g), and mcp_server: largest "
                        "answer of an MCP server; their time limit and the "
                        "addresses they may reach are --fetch-timeout, --allow-private-urls and "
                        "--allow-addresses, as for media"},
    /* google_search's backends (issue 11): what self-hosting users run. */
    [F_SEARCH_URL] = {"search-url", "INTERACTD_SEARCH_URL", "none", "URL",
                      "google_search: a SearxNG instance's base URL; its JSON API (URL/search?q=...&format=json, "
                      "json enabled in its settings.yml) is asked, at its own host:port only (allowed even on a "
                      "private address), 10 s and 4 MiB at most"},
    [F_SEARCH_INDEX] = {"search-index", "INTERACTD_SEARCH_INDEX", "none", "DIR",
                        "google_search: index the text, Markdown and HTML files under DIR (repeatable, or a "
                        "comma-separated list) with SQLite FTS5 into DATA/search-index.db, at start and then "
                        "every --search-rescan seconds; a result's url is the file's file:// URL"},
    [F_SEARCH_RESCAN] = {"search-rescan", "INTERACTD_SEARCH_RESCAN", "30", "SECONDS",
                         "google_search: how often the --search-index folders are looked at again (files "
                         "added, changed by mtime or size, removed)"},
    /* Engines outside the process by model name (issue 13: images, speech;
     * issue 14 adds chat). The operator's own URL: loopback and private
     * addresses are allowed for it (src/upstream/upstream.h). */
    [F_UPSTREAM] = {"upstream", "INTERACTD_UPSTREAMS", "none",
                    "NAME=URL[,key=KEY][,api=openai|sdcpp|speech][,model=REMOTE][,voice=V][,timeout=SECONDS]",
                    "serve image or speech output for model NAME from an engine at URL (repeatable; env: "
                    "specs separated by blanks): api=openai (default) OpenAI's images API (sd-server, "
                    "LocalAI), api=sdcpp sd-server's async jobs, api=speech OpenAI's /v1/audio/speech "
                    "(Kokoro, Piper; 24 kHz PCM streamed; voice= the default voice, else 'alloy'); key= a "
                    "bearer token (key=env:VAR reads it from VAR); model= the engine's name for it "
                    "(default NAME); timeout= seconds one request may take (default 300). The URL may be "
                    "loopback or private (it is the operator's); no redirect of the engine is followed"},
    [F_MAX_STEPS] = {"max-tool-steps", "INTERACTD_MAX_TOOL_STEPS", "10", "N",
                     "model steps of one interaction at most, each after the built-in tools' results of "
                     "the one before; past it the interaction ends incomplete"},
    [F_MAX_RUN_TIME] = {"max-run-time", "INTERACTD_MAX_RUN_TIME", "600", "SECONDS",
                        "no model step of an interaction with built-in tools starts this long after the "
                        "interaction did; past it the interaction ends incomplete"},
    [F_API_KEYS] = {"api-keys", "INTERACTD_API_KEYS_FILE", "none", "FILE",
                    "API keys, one a line (# comments); INTERACTD_API_KEYS adds comma-separated keys"},
    [F_THREADS] = {"threads", "INTERACTD_THREADS", "0", "N",
                   "CPU threads per context; 0 = automatic (see --contexts)"},
    [F_CTX_SIZE] = {"ctx-size", "INTERACTD_CTX_SIZE", "0", "N",
                    "context size in tokens; 0 = min(model's, 8192)"},
    [F_MAX_QUEUE] = {"max-queue", "INTERACTD_MAX_QUEUE", "64", "N",
                     "requests waiting per model before 503 + Retry-After"},
    [F_MAX_TOKENS] = {"max-tokens", "INTERACTD_MAX_TOKENS", "2048", "N",
                      "max_output_tokens when a request sets none"},
    [F_PARALLEL] = {"parallel", "INTERACTD_PARALLEL", "4", "N",
                     "requests generated at once per model, batched together; more wait in the queue"},
    [F_CONTEXTS] = {"contexts", "INTERACTD_CONTEXTS", "0", "N",
                    "llama.cpp contexts per model sharing its weights, the parallel requests split among "
                    "them; 0 = automatic (one 1-thread context per core on up to 4 cores, else one context "
                    "of all cores; with --threads: cores / threads)"},
    [F_LAYOUT] = {"layout", "INTERACTD_LAYOUT", "follow", "follow|fixed",
                  "with several contexts: follow = few requests run split across them, many run as one "
                  "batch in one context with every thread, moved with their KV as the load changes; "
                  "fixed = each request stays in the context it started in"},
    [F_PREFILL_CHUNK] = {"prefill-chunk", "INTERACTD_PREFILL_CHUNK", "0", "N",
                         "prompt tokens per decode step of a context: a long prompt delays the other "
                         "streams' next token by one chunk at most; 0 = 256 / contexts (at least 128)"},
    [F_PREFIX_CACHE] = {"prefix-cache", "INTERACTD_PREFIX_CACHE", "on", "on|off",
                         "reuse the computed prompt of earlier turns (kept in memory, then in DIR/kvcache)"},
    [F_CACHE_RAM] = {"cache-ram", "INTERACTD_CACHE_RAM", "auto", "BYTES|auto|0",
                     "RAM per model for kept turns beyond the context; auto = 1/8 of free memory, at most 2g"},
    [F_MAX_BODY] = {"max-body", "INTERACTD_MAX_BODY", "10m", "BYTES",
                    "request body limit (suffixes k, m, g); over it: 413"},
    /* The Files API (issue 16): Google's own limits by default. An upload
     * streams to DATA/files/, so these bound disk, not memory. */
    [F_MAX_FILE_SIZE] = {"max-file-size", "INTERACTD_MAX_FILE_SIZE", "2g", "BYTES",
                         "Files API: largest file (suffixes k, m, g); over it: 413. Uploads stream to "
                         "DIR/files and are not bound by --max-body"},
    [F_FILES_QUOTA] = {"files-quota", "INTERACTD_FILES_QUOTA", "20g", "BYTES",
                       "Files API: bytes of files (and uploads in progress) one API key may hold; over it: 413"},
    [F_FILES_TTL] = {"files-ttl", "INTERACTD_FILES_TTL", "48h", "DURATION",
                     "Files API: files expire this long after their upload started (expirationTime), then "
                     "are deleted with their bytes (s, m, h, d, w)"},
    /* Connection limits (issue 9). Each connection is a thread (a stream
     * or a waiting create holds one), ~65 KB resident when held
     * (bench/RESULTS.md: 4,000 held streams in 282 MB); 1,024 is nginx's usual worker_connections and
     * libmicrohttpd's own default. A quarter of it per address: one client
     * (or one attacker) never takes the whole server, while a busy client
     * still gets far more than --parallel + --max-queue can use at once.
     * Behind a reverse proxy every client has the proxy's address: raise
     * it or set 0. 30 s of inactivity: below nginx's 60 s header/body
     * timeouts, above the 4 s for which Node's fetch keeps an idle
     * connection (a server closing first would race its reuse). */
    [F_MAX_CONNS] = {"max-connections", "INTERACTD_MAX_CONNECTIONS", "1024", "N",
                     "connections served at once (streams, waiting creates, idle keep-alive); beyond: "
                     "503 + Connection: close for up to N/16 more, then closed at accept"},
    [F_MAX_CONNS_IP] = {"max-connections-per-ip", "INTERACTD_MAX_CONNECTIONS_PER_IP", "256", "N",
                        "connections at once from one client address; beyond: closed at accept; 0 = no limit"},
    [F_READ_TIMEOUT] = {"read-timeout", "INTERACTD_READ_TIMEOUT", "30", "SECONDS",
                        "a connection silent this long while sending headers or a body, or idle between "
                        "requests, is closed (not a stream, nor a create waiting for its answer); 0 = none"},
    [F_RETENTION] = {"retention", "INTERACTD_RETENTION", "55d", "DURATION",
                     "stored interactions expire after this (s, m, h, d, w)"},
    /* Issue 17: SDK 2.x / 3.x name themselves and get steps whatever this
     * says; it decides for the clients that say nothing (curl, the guide's
     * examples) and for SDK 1.x, which parses only legacy. */
    [F_DEFAULT_DIALECT] = {"default-dialect", "INTERACTD_DEFAULT_DIALECT", "legacy", "legacy|steps",
                           "wire dialect on /v1beta for a client that names none (no Api-Revision header, no "
                           "google-genai-sdk/2 or later in x-goog-api-client): legacy (outputs, content.*) or "
                           "steps (steps, step.*)"},
    [F_BACKENDS] = {"backends", "INTERACTD_BACKENDS", "beside libggml", "DIR",
                    "folder of llama.cpp's loadable backends (libggml-cpu-*.so variants, libggml-cuda.so) "
                    "when they are not beside the libggml the server loaded"},
    [F_LOG_FORMAT] = {"log-format", "INTERACTD_LOG_FORMAT", "text", "text|json", "log line format"},
    [F_VERBOSE] = {"verbose", "INTERACTD_VERBOSE", "off", NULL, "debug logs, and llama.cpp's own"},
};

typedef struct cfg {
    const char *val[F__COUNT]; /* last value given, flag or env */
    bool from_flag[F__COUNT];
    const char **models, **templates, **mmprojs, **search_dirs, **upstreams; /* repeatable flags */
    size_t n_models, n_templates, n_mmprojs, n_search_dirs, n_upstreams;
} cfg;

static void usage(FILE *f) {
    fprintf(f,
            "interactd %s: a server for the Gemini Interactions API, with llama.cpp in process\n\n"
            "usage:\n"
            "  interactd serve [flags]   serve the API (flags below)\n"
            "  interactd version         print the version\n"
            "  interactd --help          this text\n\n"
            "serve flags (each also read from its environment variable; a flag wins):\n",
            IA_VERSION);
    for (int i = 0; i < F__COUNT; i++) {
        char lhs[128];
        snprintf(lhs, sizeof lhs, "--%s%s%s", flags[i].name, flags[i].arg ? " " : "",
                 flags[i].arg ? flags[i].arg : "");
        fprintf(f, "  %-28s %s\n  %-28s env %s, default %s\n", lhs, flags[i].help, "", flags[i].env,
                flags[i].def);
    }
    fprintf(f, "  %-28s API keys, comma-separated, added to those of --api-keys\n"
               "  %-28s env INTERACTD_API_KEYS, default none\n\n"
               "With no --model the build's demo model is served as \"demo\": its weights are\n"
               "random, so its text is noise. Serve a real GGUF with\n"
               "  make run MODEL=path/to/model.gguf   or   interactd serve --model NAME=PATH\n",
            "(environment only)", "");
}

static _Noreturn void bad(const char *flag, const char *fmt, const char *v) {
    fprintf(stderr, "interactd: --%s: ", flag);
    fprintf(stderr, fmt, v ? v : "");
    fprintf(stderr, "\n(see interactd serve --help)\n");
    exit(2);
}

static int find_flag(const char *name, size_t n) {
    for (int i = 0; i < F__COUNT; i++)
        if (strlen(flags[i].name) == n && !strncmp(flags[i].name, name, n)) return i;
    return -1;
}

static void push(const char ***arr, size_t *n, const char *v) {
    *arr = ia_xrealloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = v;
}

/* Env first, then flags over it. Strings point into argv/environ or into
 * `owned` (the split INTERACTD_MODELS list). */
static void parse_args(cfg *c, int argc, char **argv, char **owned, char **owned_up) {
    for (int i = 0; i < F__COUNT; i++) {
        if (i == F_MODEL || i == F_UPSTREAM) continue;
        const char *e = getenv(flags[i].env);
        if (e && *e) c->val[i] = e;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (strncmp(a, "--", 2) != 0) bad("", "unexpected argument %s", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        int f = find_flag(name, eq ? (size_t)(eq - name) : strlen(name));
        if (f < 0) {
            fprintf(stderr, "interactd: unknown flag %s (see interactd serve --help)\n", a);
            exit(2);
        }
        const char *v;
        if (!flags[f].arg) { /* a switch: --verbose, --allow-private-urls[=false] */
            v = eq ? eq + 1 : "true";
        } else if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc) bad(flags[f].name, "needs a value%s", "");
            v = argv[++i];
        }
        if (f == F_MODEL) push(&c->models, &c->n_models, v);
        else if (f == F_CHAT_TEMPLATE) push(&c->templates, &c->n_templates, v);
        else if (f == F_MMPROJ) push(&c->mmprojs, &c->n_mmprojs, v);
        else if (f == F_SEARCH_INDEX) push(&c->search_dirs, &c->n_search_dirs, v);
        else if (f == F_UPSTREAM) push(&c->upstreams, &c->n_upstreams, v);
        else c->val[f] = v;
        c->from_flag[f] = true;
    }
    if (!c->n_templates && c->val[F_CHAT_TEMPLATE]) push(&c->templates, &c->n_templates, c->val[F_CHAT_TEMPLATE]);
    if (!c->n_mmprojs && c->val[F_MMPROJ]) push(&c->mmprojs, &c->n_mmprojs, c->val[F_MMPROJ]);
    if (!c->n_search_dirs && c->val[F_SEARCH_INDEX]) push(&c->search_dirs, &c->n_search_dirs, c->val[F_SEARCH_INDEX]);
    /* a spec holds commas: the environment's are separated by blanks */
    const char *eu = getenv(flags[F_UPSTREAM].env);
    if (!c->n_upstreams && eu && *eu) {
        *owned_up = ia_strdup(eu);
        for (char *save = NULL, *t = strtok_r(*owned_up, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save))
            push(&c->upstreams, &c->n_upstreams, t);
    }
    const char *em = getenv("INTERACTD_MODELS");
    if (!c->n_models && em && *em) {
        *owned = ia_strdup(em);
        for (char *save = NULL, *t = strtok_r(*owned, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t) push(&c->models, &c->n_models, t);
    }
}

static long long parse_int(int f, const char *v, long long lo, long long hi) {
    if (!v || !*v) bad(flags[f].name, "needs a number%s", "");
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < lo || n > hi) bad(flags[f].name, "invalid value '%s'", v);
    return n;
}

static size_t parse_bytes(int f, const char *v) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-') bad(flags[f].name, "invalid size '%s'", v);
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1ull << 10, end++;
    else if (*end == 'm' || *end == 'M') mul = 1ull << 20, end++;
    else if (*end == 'g' || *end == 'G') mul = 1ull << 30, end++;
    if ((*end == 'b' || *end == 'B') && mul > 1) end++; /* "10mb" */
    if (*end || n == 0 || n > (1ull << 40) / mul) bad(flags[f].name, "invalid size '%s'", v);
    return (size_t)(n * mul);
}

static bool parse_flag_bool(const char *v) {
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* mkdir -p */
static int mkdirs(const char *dir) {
    char *p = ia_strdup(dir);
    int rc = 0;
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, 0755) < 0 && errno != EEXIST) rc = -1;
            *s = saved;
            if (!saved) break;
        }
    }
    free(p);
    struct stat st;
    return rc < 0 || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ? -1 : 0;
}

/* The executable's folder + "/" + rel, or NULL. */
static char *exe_relative(const char *rel) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = '\0';
    return ia_asprintf("%s/%s", exe, rel);
}

/* The first demo model found (demo_rel), else the first place looked at,
 * for the error message. */
static char *demo_model_path(void) {
    char *first = NULL;
    for (size_t i = 0; i < sizeof demo_rel / sizeof *demo_rel; i++) {
        char *p = exe_relative(demo_rel[i]);
        if (!p) continue;
        if (access(p, R_OK) == 0) {
            free(first);
            return p;
        }
        if (!first) first = p;
        else free(p);
    }
    return first ? first : ia_strdup("demo.gguf");
}

typedef struct model_spec {
    char *name, *path;
    const char *tmpl;
    char *mmproj;
} model_spec;

/* The projector found beside a model by the usual names, or NULL. */
static char *mmproj_beside(const char *model) {
    const char *slash = strrchr(model, '/');
    size_t dl = slash ? (size_t)(slash - model + 1) : 0;
    const char *base = model + dl;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
    const char *fmt[] = {"%.*smmproj-%.*s.gguf", "%.*s%.*s-mmproj.gguf", "%.*s%.*s.mmproj.gguf"};
    for (size_t i = 0; i < 3; i++) {
        char *p = ia_asprintf(fmt[i], (int)dl, model, (int)n, base);
        if (access(p, R_OK) == 0) return p;
        free(p);
    }
    return NULL;
}

/* --mmproj [NAME=]FILE (repeatable), then the projector beside each model
 * that got none; NAME=none: none. */
/* google_search's backends from --search-url and --search-index (each
 * value a folder or a comma-separated list of them); NULL when neither is
 * given (the tool is then a 400 naming them). Exits on a bad value. */
static ia_search *open_search(const cfg *c, const char *data, int rescan_s) {
    if (!c->val[F_SEARCH_URL] && !c->n_search_dirs) return NULL;
    const char **dirs = NULL;
    size_t n = 0;
    char **owned = ia_xcalloc(c->n_search_dirs + 1, sizeof *owned);
    for (size_t i = 0; i < c->n_search_dirs; i++) {
        owned[i] = ia_strdup(c->search_dirs[i]);
        for (char *save = NULL, *t = strtok_r(owned[i], ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t) push(&dirs, &n, t);
    }
    char *path = ia_asprintf("%s/search-index.db", data);
    ia_search_opts so = {.url = c->val[F_SEARCH_URL], .dirs = dirs, .n_dirs = n, .index_path = path,
                         .rescan_s = rescan_s};
    ia_err err = {0};
    ia_search *s = ia_search_new(&so, &err);
    if (!s) bad(c->val[F_SEARCH_URL] && !n ? flags[F_SEARCH_URL].name : flags[F_SEARCH_INDEX].name, "%s",
                err.msg);
    ia_info("google_search: %s", ia_search_describe(s));
    for (size_t i = 0; i < c->n_search_dirs; i++) free(owned[i]);
    free(owned);
    free(dirs);
    free(path);
    return s;
}

/* The --upstream registry; exits naming the flag on a bad spec. Image URLs
 * an engine points at on another origin follow the client URLs' rules. */
static void open_upstreams(const cfg *c, ia_upstreams *reg, const ia_fetch_opts *client_rules) {
    for (size_t i = 0; i < c->n_upstreams; i++) {
        ia_err err = {0};
        if (ia_upstreams_add(reg, c->upstreams[i], &err) != 0) bad(flags[F_UPSTREAM].name, "%s", err.msg);
    }
    ia_upstreams_set_fetch(reg, client_rules);
    for (size_t i = 0; i < reg->n; i++) {
        char *d = ia_upstream_describe(&reg->v[i]);
        ia_info("%s", d);
        free(d);
    }
}

static void assign_mmprojs(const cfg *c, model_spec *ms, size_t nm) {
    bool *set = ia_xcalloc(nm ? nm : 1, sizeof *set);
    for (size_t i = 0; i < c->n_mmprojs; i++) {
        const char *v = c->mmprojs[i], *eq = strchr(v, '=');
        const char *file = v;
        bool named = false;
        if (eq)
            for (size_t j = 0; j < nm; j++)
                if (strlen(ms[j].name) == (size_t)(eq - v) && !strncmp(ms[j].name, v, (size_t)(eq - v))) {
                    file = eq + 1;
                    named = set[j] = true;
                    free(ms[j].mmproj);
                    ms[j].mmproj = strcmp(file, "none") ? ia_strdup(file) : NULL;
                }
        if (eq && !named) {
            char who[128];
            snprintf(who, sizeof who, "%.*s", (int)(eq - v), v);
            bad(flags[F_MMPROJ].name, "no model is served as '%s'", who);
        }
        if (strcmp(file, "none") && access(file, R_OK) < 0)
            bad(flags[F_MMPROJ].name, "cannot read projector file '%s'", file);
        if (!named)
            for (size_t j = 0; j < nm; j++)
                if (!set[j] && !ms[j].mmproj && strcmp(file, "none")) ms[j].mmproj = ia_strdup(file);
    }
    for (size_t j = 0; j < nm; j++)
        if (!set[j] && !ms[j].mmproj) ms[j].mmproj = mmproj_beside(ms[j].path);
    free(set);
}

static int serve(int argc, char **argv) {
    cfg c;
    memset(&c, 0, sizeof c);
    char *owned_models = NULL, *owned_upstreams = NULL;
    parse_args(&c, argc, argv, &owned_models, &owned_upstreams);

    /* ---- values ---- */
    const char *host = c.val[F_HOST] ? c.val[F_HOST] : "127.0.0.1";
    int port = (int)parse_int(F_PORT, c.val[F_PORT] ? c.val[F_PORT] : "8080", 0, 65535);
    const char *data = c.val[F_DATA] ? c.val[F_DATA] : "./data";
    int threads = (int)parse_int(F_THREADS, c.val[F_THREADS] ? c.val[F_THREADS] : "0", 0, 1024);
    int ctx = (int)parse_int(F_CTX_SIZE, c.val[F_CTX_SIZE] ? c.val[F_CTX_SIZE] : "0", 0, 1 << 24);
    int max_queue = (int)parse_int(F_MAX_QUEUE, c.val[F_MAX_QUEUE] ? c.val[F_MAX_QUEUE] : "64", 1, 1 << 20);
    int max_tokens = (int)parse_int(F_MAX_TOKENS, c.val[F_MAX_TOKENS] ? c.val[F_MAX_TOKENS] : "2048", 1, 1 << 24);
    int parallel = (int)parse_int(F_PARALLEL, c.val[F_PARALLEL] ? c.val[F_PARALLEL] : "4", 1, 256);
    int contexts = (int)parse_int(F_CONTEXTS, c.val[F_CONTEXTS] ? c.val[F_CONTEXTS] : "0", 0, 256);
    int chunk = (int)parse_int(F_PREFILL_CHUNK, c.val[F_PREFILL_CHUNK] ? c.val[F_PREFILL_CHUNK] : "0", 0, 65536);
    const char *lay = c.val[F_LAYOUT] ? c.val[F_LAYOUT] : "follow";
    if (strcmp(lay, "follow") && strcmp(lay, "fixed"))
        bad(flags[F_LAYOUT].name, "expected follow or fixed, not '%s'", lay);
    const char *pc = c.val[F_PREFIX_CACHE] ? c.val[F_PREFIX_CACHE] : "on";
    bool prefix_cache = parse_flag_bool(pc);
    if (!prefix_cache && strcmp(pc, "0") && strcasecmp(pc, "false") && strcasecmp(pc, "off") && strcasecmp(pc, "no"))
        bad(flags[F_PREFIX_CACHE].name, "expected on or off, not '%s'", pc);
    const char *cr = c.val[F_CACHE_RAM] ? c.val[F_CACHE_RAM] : "auto";
    int64_t cache_ram = !strcmp(cr, "auto") ? 0 : !strcmp(cr, "0") ? -1 : (int64_t)parse_bytes(F_CACHE_RAM, cr);
    size_t max_body = parse_bytes(F_MAX_BODY, c.val[F_MAX_BODY] ? c.val[F_MAX_BODY] : "10m");
    unsigned max_conns = (unsigned)parse_int(F_MAX_CONNS, c.val[F_MAX_CONNS] ? c.val[F_MAX_CONNS] : "1024", 1, 1 << 20);
    unsigned max_conns_ip =
        (unsigned)parse_int(F_MAX_CONNS_IP, c.val[F_MAX_CONNS_IP] ? c.val[F_MAX_CONNS_IP] : "256", 0, 1 << 20);
    unsigned read_timeout =
        (unsigned)parse_int(F_READ_TIMEOUT, c.val[F_READ_TIMEOUT] ? c.val[F_READ_TIMEOUT] : "30", 0, 86400);
    const char *ret_s = c.val[F_RETENTION] ? c.val[F_RETENTION] : "55d";
    int64_t retention = ia_parse_duration(ret_s);
    if (retention <= 0) bad(flags[F_RETENTION].name, "invalid duration '%s' (e.g. 55d, 12h, 30m)", ret_s);
    int64_t max_file = (int64_t)parse_bytes(F_MAX_FILE_SIZE, c.val[F_MAX_FILE_SIZE] ? c.val[F_MAX_FILE_SIZE] : "2g");
    int64_t files_quota = (int64_t)parse_bytes(F_FILES_QUOTA, c.val[F_FILES_QUOTA] ? c.val[F_FILES_QUOTA] : "20g");
    const char *fttl_s = c.val[F_FILES_TTL] ? c.val[F_FILES_TTL] : "48h";
    int64_t files_ttl = ia_parse_duration(fttl_s);
    if (files_ttl <= 0) bad(flags[F_FILES_TTL].name, "invalid duration '%s' (e.g. 48h, 2d, 30m)", fttl_s);
    const char *dd = c.val[F_DEFAULT_DIALECT] ? c.val[F_DEFAULT_DIALECT] : "legacy";
    if (strcmp(dd, "legacy") && strcmp(dd, "steps"))
        bad(flags[F_DEFAULT_DIALECT].name, "expected legacy or steps, not '%s'", dd);
    ia_dialect default_dialect = !strcmp(dd, "steps") ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY;
    const char *lf = c.val[F_LOG_FORMAT] ? c.val[F_LOG_FORMAT] : "text";
    if (strcmp(lf, "text") && strcmp(lf, "json")) bad(flags[F_LOG_FORMAT].name, "expected text or json, not '%s'", lf);
    bool verbose = parse_flag_bool(c.val[F_VERBOSE]);
    if (c.val[F_VERBOSE] && !verbose && strcmp(c.val[F_VERBOSE], "0") && strcasecmp(c.val[F_VERBOSE], "false") &&
        strcasecmp(c.val[F_VERBOSE], "off") && strcasecmp(c.val[F_VERBOSE], "no"))
        bad(flags[F_VERBOSE].name, "expected true or false, not '%s'", c.val[F_VERBOSE]);
    ia_log_set_format(!strcmp(lf, "json") ? IA_LOG_JSON : IA_LOG_TEXT);
    ia_log_set_level(verbose ? IA_LOG_DEBUG : IA_LOG_INFO);

    /* ---- models ---- */
    bool demo = c.n_models == 0;
    size_t nm = demo ? 1 : c.n_models;
    model_spec *ms = ia_xcalloc(nm, sizeof *ms);
    if (demo) {
        ms[0].name = ia_strdup("demo");
        ms[0].path = demo_model_path();
    }
    for (size_t i = 0; i < c.n_models; i++) {
        const char *v = c.models[i], *eq = strchr(v, '=');
        if (eq) {
            ms[i].name = ia_strndup(v, (size_t)(eq - v));
            ms[i].path = ia_strdup(eq + 1);
        } else { /* PATH alone: the file's name without .gguf */
            const char *base = strrchr(v, '/') ? strrchr(v, '/') + 1 : v;
            size_t n = strlen(base);
            if (n > 5 && !strcmp(base + n - 5, ".gguf")) n -= 5;
            ms[i].name = ia_strndup(base, n);
            ms[i].path = ia_strdup(v);
        }
        if (!*ms[i].name || !*ms[i].path || strchr(ms[i].name, ','))
            bad(flags[F_MODEL].name, "expected NAME=PATH, not '%s'", v);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ms[j].name, ms[i].name)) bad(flags[F_MODEL].name, "model name '%s' given twice", ms[i].name);
    }
    for (size_t i = 0; i < c.n_templates; i++) {
        const char *v = c.templates[i], *eq = strchr(v, '=');
        const char *file = v;
        bool named = false;
        if (eq) {
            for (size_t j = 0; j < nm; j++)
                if (strlen(ms[j].name) == (size_t)(eq - v) && !strncmp(ms[j].name, v, (size_t)(eq - v))) {
                    ms[j].tmpl = eq + 1;
                    file = eq + 1;
                    named = true;
                }
        }
        if (access(file, R_OK) < 0) bad(flags[F_CHAT_TEMPLATE].name, "cannot read template file '%s'", file);
        if (!named)
            for (size_t j = 0; j < nm; j++)
                if (!ms[j].tmpl) ms[j].tmpl = file;
    }

    assign_mmprojs(&c, ms, nm);
    bool allow_private = parse_flag_bool(c.val[F_ALLOW_PRIVATE]);
    const char *allow_addrs = c.val[F_ALLOW_ADDRS];
    {
        ia_err aerr;
        if (allow_addrs && ia_addr_list_check(allow_addrs, "--allow-addresses", &aerr) < 0)
            bad(flags[F_ALLOW_ADDRS].name, "%s", aerr.msg + (strncmp(aerr.msg, "--allow-addresses: ", 19) ? 0 : 19));
        if (ia_fetch_global_init(&aerr) < 0) bad(flags[F_ALLOW_ADDRS].name, "%s", aerr.msg);
    }
    int64_t max_media = (int64_t)parse_bytes(F_MAX_MEDIA, c.val[F_MAX_MEDIA] ? c.val[F_MAX_MEDIA] : "20m");
    int fetch_timeout = (int)parse_int(F_FETCH_TIMEOUT, c.val[F_FETCH_TIMEOUT] ? c.val[F_FETCH_TIMEOUT] : "30", 1,
                                       3600);
    ia_upstreams upstreams = {0};
    open_upstreams(&c, &upstreams, &(ia_fetch_opts){.allow_private = allow_private, .allow_addrs = allow_addrs});

    int code_timeout = (int)parse_int(F_CODE_TIMEOUT, c.val[F_CODE_TIMEOUT] ? c.val[F_CODE_TIMEOUT] : "10", 1, 3600);
    int64_t code_memory = (int64_t)parse_bytes(F_CODE_MEMORY, c.val[F_CODE_MEMORY] ? c.val[F_CODE_MEMORY] : "512m");
    size_t code_output = parse_bytes(F_CODE_OUTPUT, c.val[F_CODE_OUTPUT] ? c.val[F_CODE_OUTPUT] : "64k");
    int code_chars = (int)parse_int(F_CODE_CHARS, c.val[F_CODE_CHARS] ? c.val[F_CODE_CHARS] : "10000", 16, 1000000);
    size_t url_max = parse_bytes(F_URL_MAX_SIZE, c.val[F_URL_MAX_SIZE] ? c.val[F_URL_MAX_SIZE] : "10m");
    int search_rescan = (int)parse_int(F_SEARCH_RESCAN, c.val[F_SEARCH_RESCAN] ? c.val[F_SEARCH_RESCAN] : "30", 1,
                                       86400);
    int max_run = (int)parse_int(F_MAX_RUN_TIME, c.val[F_MAX_RUN_TIME] ? c.val[F_MAX_RUN_TIME] : "600", 1, 86400 * 7);
    int max_steps = (int)parse_int(F_MAX_STEPS, c.val[F_MAX_STEPS] ? c.val[F_MAX_STEPS] : "10", 1, 1000);

    /* ---- keys ---- */
    ia_http_keys *keys = ia_http_keys_new();
    ia_err err;
    ia_err_clear(&err);
    if (c.val[F_API_KEYS] && ia_http_keys_load_file(keys, c.val[F_API_KEYS], &err) < 0)
        bad(flags[F_API_KEYS].name, "%s", err.msg);
    ia_http_keys_add_list(keys, getenv("INTERACTD_API_KEYS"));

    /* Signals are taken by sigwait below; blocking them before any thread
     * exists keeps every later thread (engines, core, HTTP) from taking them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    ia_store *store = NULL;
    ia_engine **engines = ia_xcalloc(nm, sizeof *engines);
    ia_core *core = NULL;
    ia_files *files = NULL;
    ia_http *http = NULL;
    ia_search *search = NULL;
    char *dbpath = NULL, *filesdir = NULL;
    int lock_fd = -1;
    ia_http_listener lis = {.fd = -1};

    ia_engine_global_init(c.val[F_BACKENDS], verbose);
    if (mkdirs(data) < 0) {
        ia_error("cannot create the data directory %s: %s", data, strerror(errno));
        goto out;
    }
    /* The folder is ours before the store is touched (recovery would fail a
     * live server's runs), and the port before anything slow: either
     * refusal comes in a second, not after the models have loaded. */
    if ((lock_fd = ia_dirlock(data, &err)) < 0) {
        ia_error("%s", err.msg);
        goto out;
    }
    if (ia_http_listen(host, port, ia_http_keys_count(keys) > 0, &lis, &err) < 0) {
        ia_error("%s", err.msg);
        goto out;
    }
    dbpath = ia_asprintf("%s/interactd.db", data);
    store = ia_store_open(dbpath, &err);
    if (!store) {
        ia_error("cannot open the store %s: %s", dbpath, err.msg);
        goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        if (access(ms[i].path, R_OK) < 0) {
            ia_error("model %s: cannot read %s: %s%s", ms[i].name, ms[i].path, strerror(errno),
                     demo ? " (the demo model is looked for beside the executable and in its "
                            "../share/interactd/; build it with `make`, or serve one with --model NAME=PATH)"
                          : "");
            goto out;
        }
        /* Kept turns of each model in a folder of their own: the files only
         * fit the model that wrote them. */
        char *kvdir = ia_asprintf("%s/kvcache/%s", data, ms[i].name);
        ia_engine_opts eo = {.name = ms[i].name, .path = ms[i].path, .chat_template = ms[i].tmpl,
                             .threads = threads, .n_ctx = ctx, .max_queue = max_queue,
                             .default_max_tokens = max_tokens, .parallel = parallel, .contexts = contexts,
                             .prefill_chunk = chunk, .fixed_layout = !strcmp(lay, "fixed"),
                             .no_prefix_cache = !prefix_cache, .cache_ram_bytes = cache_ram,
                             .cache_dir = kvdir, .mmproj = ms[i].mmproj};
        ia_info("loading model %s from %s", ms[i].name, ms[i].path);
        engines[i] = ia_engine_load(&eo, &err);
        free(kvdir);
        if (!engines[i]) {
            ia_error("model %s: cannot load %s: %s", ms[i].name, ms[i].path, err.msg);
            goto out;
        }
        ia_info("model %s ready (chat template: %s)", ms[i].name, ia_engine_template_kind(engines[i]));
    }
    search = open_search(&c, data, search_rescan); /* its index is built before serving */
    filesdir = ia_asprintf("%s/files", data);
    ia_files_opts fo = {.store = store, .dir = filesdir, .max_file_size = max_file, .quota = files_quota,
                        .ttl_s = files_ttl};
    files = ia_files_new(&fo, &err);
    if (!files) {
        ia_error("cannot start the Files API: %s", err.msg);
        goto out;
    }
    /* The sweeper runs at least four times per the shorter retention (at
     * most hourly), so a short --files-ttl or --retention is kept. */
    int64_t shortest = retention < files_ttl ? retention : files_ttl;
    int64_t sweep = shortest / 4 < 3600 ? (shortest / 4 > 0 ? shortest / 4 : 1) : 3600;
    ia_core_opts co = {.store = store, .engines = engines, .n_engines = nm, .retention_s = retention,
                       .sweep_interval_s = sweep, .files = files,
                       .media = {.max_bytes = max_media, .timeout_ms = fetch_timeout * 1000,
                                 .allow_private = allow_private, .allow_addrs = allow_addrs},
                       .sandbox = {.wall_ms = code_timeout * 1000, .cpu_s = code_timeout,
                                   .mem_bytes = code_memory, .max_output = code_output},
                       .max_steps = max_steps, .max_run_s = max_run, .code_max_chars = code_chars, .url_max_bytes = url_max,
                       .search = search, .upstreams = &upstreams};
    core = ia_core_new(&co, &err);
    if (!core) {
        ia_error("cannot start the interaction service: %s", err.msg);
        goto out;
    }
    ia_http_opts ho = {.host = host, .port = port, .max_body = max_body, .core = core, .keys = keys,
                       .listener = &lis, .max_connections = max_conns,
                       .max_connections_per_ip = max_conns_ip, .read_timeout_s = read_timeout,
                       .default_dialect = default_dialect, .files = files};
    http = ia_http_start(&ho, &err);
    if (!http) {
        ia_error("%s", err.msg);
        goto out;
    }
    if (demo)
        ia_warn("serving the demo model as \"demo\": its weights are RANDOM, so its text is noise. "
                "To serve a real GGUF: make run MODEL=path/to/model.gguf "
                "(or interactd serve --model NAME=PATH)");
    if (ia_http_auth_enabled(http))
        ia_info("auth: on (%zu API key%s); each key sees only its own interactions",
                ia_http_keys_count(keys), ia_http_keys_count(keys) == 1 ? "" : "s");
    else
        ia_info("auth: off (no API keys configured), so listening on loopback only");
    ia_info("models: %s; store: %s; retention: %s", ia_core_model_names(core), dbpath, ret_s);
    ia_info("files: %s; at most %s a file, %s a key; kept %s", filesdir, c.val[F_MAX_FILE_SIZE] ? c.val[F_MAX_FILE_SIZE] : "2g",
            c.val[F_FILES_QUOTA] ? c.val[F_FILES_QUOTA] : "20g", fttl_s);
    if (default_dialect == IA_DIALECT_STEPS)
        ia_info("default dialect: steps (/v1beta clients that name no dialect get steps)");
    const char *bh = ia_http_host(http);
    bool v6 = strchr(bh, ':') != NULL;
    ia_info("interactd listening on http://%s%s%s:%d", v6 ? "[" : "", bh, v6 ? "]" : "", ia_http_port(http));

    int sig = 0;
    sigwait(&sigs, &sig);
    ia_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    /* Runs stop first (blocked creates return, queued jobs end as failed),
     * then the HTTP server, then the engines, whose last callbacks still
     * find the core, and the core last. */
    if (core) ia_core_shutdown(core);
    ia_http_stop(http);
    for (size_t i = 0; i < nm; i++)
        if (engines[i]) {
            ia_engine_free(engines[i]);
            engines[i] = NULL;
        }
    if (core) ia_core_free(core);
    ia_search_free(search);
    ia_upstreams_free(&upstreams);
    ia_files_free(files);
    ia_store_close(store);
    ia_http_listener_close(&lis);
    ia_dirunlock(lock_fd);
    free(engines);
    for (size_t i = 0; i < nm; i++) {
        free(ms[i].name);
        free(ms[i].path);
        free(ms[i].mmproj);
    }
    free(ms);
    free(dbpath);
    free(filesdir);
    ia_http_keys_free(keys);
    free(c.models);
    free(c.templates);
    free(c.mmprojs);
    free(c.search_dirs);
    free(c.upstreams);
    free(owned_models);
    free(owned_upstreams);
    if (rc == 0) ia_info("stopped");
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("interactd %s (Gemini Interactions API, legacy and steps dialects; llama.cpp in process)\n",
               IA_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "serve")) {
        /* glibc gives each new thread that allocates its own malloc arena,
         * up to 8 per core, each keeping freed memory resident; with a
         * thread per connection that was ~5 MB of arenas at 8 streams
         * (bench/mem). Allocation here is light (the hot loop is in
         * llama.cpp's preallocated buffers), so one shared arena costs
         * nothing measurable. MALLOC_ARENA_MAX in the environment wins. */
        if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 1);
        return serve(argc - 2, argv + 2);
    }
    fprintf(stderr, "interactd: unknown command '%s' (see interactd --help)\n", argv[1]);
    return 2;
}
