/* flags.c: the serve flags' table (also the help text), the command line
 * and environment read into a cfg, and the value parsers (flags.h). */
#include "cli/flags.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/config.h"
#include "lib/util.h"

/* Every flag of `serve`: name, environment variable, default, help. The
 * table is the help text too, so the two cannot drift apart. */
const cli_flagdef cli_flags[F__COUNT] = {
    /* Issue 15: a file of settings under the environment and the flags. */
    [F_CONFIG] = {"config", "INTERACTD_CONFIG", "none", "FILE",
                  "settings file: KEY = VALUE lines, KEY a flag's name (port = 8080) or its environment "
                  "variable (INTERACTD_PORT=8080), # comments, TOML's [sections] ignored, values optionally "
                  "quoted; a flag beats the environment, which beats the file"},
    [F_HOST] = {"host", "INTERACTD_HOST", "127.0.0.1", "ADDR",
                "address to listen on (without API keys: loopback only)"},
    [F_PORT] = {"port", "INTERACTD_PORT", "8080", "N", "port to listen on; 0 picks a free one"},
    [F_DATA] = {"data", "INTERACTD_DATA", "./data", "DIR",
                "data directory (created); the store is DIR/interactd.db unless --store names PostgreSQL"},
    /* The store's backend (issue 14): the embedded SQLite file, or a
     * PostgreSQL database through libpq (src/store/pg.c). */
    [F_STORE] = {"store", "INTERACTD_STORE", "sqlite", "sqlite|postgres://...",
                 "where interactions, their events and the Files API rows live: sqlite (DATA/interactd.db), "
                 "or a PostgreSQL database as a postgres:// or postgresql:// URL or a libpq keyword string "
                 "(host=... dbname=...); its schema is made or upgraded at start (once, under an advisory "
                 "lock); a lost connection is made again on the next call. Uploaded files' bytes stay "
                 "under DATA/files either way"},
    /* Several instances on one PostgreSQL database (core/lease.h). */
    [F_LEASE] = {"lease-seconds", "INTERACTD_LEASE_SECONDS", "30", "SECONDS",
                 "with --store PostgreSQL: an interaction running on this instance holds a lease this long, "
                 "renewed every second; when the instance dies, another instance on the same database "
                 "ends its runs (failed, saying so) once their lease has passed, and a cancel sent "
                 "elsewhere waits at most this long (plus 10 s) for it. Shorter: faster takeover; it must "
                 "outlast a database restart, or live runs are taken over (3..3600)"},
    [F_MODEL] = {"model", "INTERACTD_MODELS", "demo (random weights)", "NAME=PATH",
                 "serve a GGUF model under NAME; repeatable (env: comma-separated list). PATH alone: "
                 "served as its file name without .gguf; a NAME with no '/' that is no file: the model of "
                 "the models folder whose name is NAME, else the only one whose name starts with it "
                 "(interactd models lists them)"},
    [F_MODELS_DIR] = {"models-dir", "INTERACTD_MODELS_DIR", "$XDG_DATA_HOME/interactd/models", "DIR",
                      "the models folder that interactd pull fills and --model NAME reads (without "
                      "XDG_DATA_HOME: ~/.local/share/interactd/models)"},
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
    /* google_maps' backends (issue 12): OpenStreetMap's APIs, self-hostable. */
    [F_MAPS_URL] = {"maps-url", "INTERACTD_MAPS_URL", "none", "URL",
                    "google_maps: an OpenStreetMap Nominatim instance's base URL; its search API "
                    "(URL/search?q=...&format=jsonv2) is asked, at its own host:port only (allowed even on a "
                    "private address), 10 s and 4 MiB at most"},
    [F_OVERPASS_URL] = {"overpass-url", "INTERACTD_OVERPASS_URL", "none", "URL",
                        "google_maps: an Overpass API instance's base URL (POST URL/api/interpreter), asked first "
                        "when the request gives latitude/longitude: places within 3 km of a kind the query names "
                        "('cafes'), else named like it; same limits"},
    /* Engines outside the process by model name (issue 13: images, speech;
     * issue 14: chat). The operator's own URL: loopback and private
     * addresses are allowed for it (src/upstream/upstream.h). */
    [F_UPSTREAM] = {"upstream", "INTERACTD_UPSTREAMS", "none",
                    "NAME=URL[,key=KEY][,api=openai|sdcpp|speech|chat][,model=REMOTE][,voice=V][,timeout=SECONDS]",
                    "serve model NAME from an engine at URL (repeatable; env: specs separated by blanks): "
                    "api=openai (default) image output through OpenAI's images API (sd-server, LocalAI), "
                    "api=sdcpp sd-server's async jobs, api=speech OpenAI's /v1/audio/speech (Kokoro, "
                    "Piper; 24 kHz PCM streamed; voice= the default voice, else 'alloy'), api=chat a text "
                    "model behind OpenAI's /v1/chat/completions (llama-server, vLLM, Ollama, SGLang; "
                    "streamed; tools, structured output, reasoning; text input only; timeout= bounds each "
                    "model step's answer); key= a "
                    "bearer token (key=env:VAR reads it from VAR); model= the engine's name for it "
                    "(default NAME); timeout= seconds one request may take (default 300). The URL may be "
                    "loopback or private (it is the operator's); no redirect of the engine is followed"},
    /* Natural voices in process (issue 13): llama.cpp's own speech
     * generation (src/speech/tts.h). */
    [F_SPEECH_MODEL] = {"speech-model", "INTERACTD_SPEECH_MODELS", "none",
                        "NAME=BACKBONE.gguf[,mmproj=FILE][,speaker=REF.wav][,voice=VOICE:REF.wav]",
                        "serve speech output for model NAME with llama.cpp's own speech generation (a "
                        "Qwen3-TTS or PocketTTS GGUF and its projector; repeatable; env: specs separated by "
                        "blanks): mmproj= the projector (default: found beside the backbone as --mmproj's), "
                        "speaker= the default voice's reference audio (WAV, MP3, FLAC), voice= a reference "
                        "for speech_config voice VOICE (repeatable; other voices get the default); the "
                        "model's own 24 kHz-or-resampled PCM is streamed frame by frame"},
    /* Text embeddings in process (issue 12): models.embedContent and file
     * search's vectors (src/engine/embed.h). Repeatable, and a value may be
     * a comma list (the environment's is). */
    [F_EMBED_MODEL] = {"embedding-model", "INTERACTD_EMBEDDING_MODEL", "none", "[NAME=]FILE.gguf[,...]",
                       "serve text embeddings (models.embedContent / batchEmbedContents) with a GGUF "
                       "embedding model run in process on its own context (BERT-style or a pooled decoder; "
                       "repeatable, or a comma-separated list): NAME defaults to the file's name without .gguf, "
                       "and the first also answers as gemini-embedding-001 and text-embedding-004; the first "
                       "is file search's default embedding model"},
    [F_MAX_STEPS] = {"max-tool-steps", "INTERACTD_MAX_TOOL_STEPS", "10", "N",
                     "model steps of one interaction at most, each after the built-in tools' results of "
                     "the one before; past it the interaction ends incomplete"},
    [F_MAX_RUN_TIME] = {"max-run-time", "INTERACTD_MAX_RUN_TIME", "600", "SECONDS",
                        "no model step of an interaction with built-in tools starts this long after the "
                        "interaction did; past it the interaction ends incomplete"},
    /* Agents (issue 12): Deep Research on a local model (core/agent.h). */
    [F_AGENT_MODEL] = {"agent-model", "INTERACTD_AGENT_MODEL", "none", "NAME",
                       "the served model the Deep Research agents (deep-research-pro-preview-12-2025, ...) run on, "
                       "with google_search (needs --search-url or --search-index) and url_context; without it an "
                       "agent request is a 400 naming this flag"},
    [F_AGENT_MAX_STEPS] = {"agent-max-steps", "INTERACTD_AGENT_MAX_STEPS", "30", "N",
                           "model steps of one agent run at most (each after the tools' results of the one before); "
                           "past it the report so far ends incomplete; --max-run-time bounds it too"},
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



void cli_usage(FILE *f) {
    fprintf(f,
            "interactd %s: a server for the Gemini Interactions API, with llama.cpp in process\n\n"
            "usage:\n"
            "  interactd serve [flags]   serve the API (flags below)\n"
            "  interactd serve --print-config [flags]   print each setting's value and its source, then exit\n"
            "  interactd pull OWNER/REPO[:QUANT]   download a GGUF from Hugging Face into the models folder\n"
            "  interactd models          list the models folder\n"
            "  interactd chat MODEL      a terminal chat with a running server (chat --help)\n"
            "  interactd version         print the version\n"
            "  interactd --help          this text\n\n"
            "serve flags (each also read from its environment variable and the --config file; flag > env > file):\n",
            IA_VERSION);
    for (int i = 0; i < F__COUNT; i++) {
        char lhs[128];
        snprintf(lhs, sizeof lhs, "--%s%s%s", cli_flags[i].name, cli_flags[i].arg ? " " : "",
                 cli_flags[i].arg ? cli_flags[i].arg : "");
        fprintf(f, "  %-28s %s\n  %-28s env %s, default %s\n", lhs, cli_flags[i].help, "", cli_flags[i].env,
                cli_flags[i].def);
    }
    fprintf(f, "  %-28s API keys, comma-separated, added to those of --api-keys\n"
               "  %-28s env INTERACTD_API_KEYS, default none\n\n"
               "With no --model the build's demo model is served as \"demo\": its weights are\n"
               "random, so its text is noise. Serve a real GGUF with\n"
               "  make run MODEL=path/to/model.gguf   or   interactd serve --model NAME=PATH\n",
            "(environment only)", "");
}

_Noreturn void cli_bad(const char *flag, const char *fmt, const char *v) {
    fprintf(stderr, "interactd: --%s: ", flag);
    fprintf(stderr, fmt, v ? v : "");
    fprintf(stderr, "\n(see interactd serve --help)\n");
    exit(2);
}

static int find_flag(const char *name, size_t n) {
    for (int i = 0; i < F__COUNT; i++)
        if (strlen(cli_flags[i].name) == n && !strncmp(cli_flags[i].name, name, n)) return i;
    return -1;
}

void cli_push(const char ***arr, size_t *n, const char *v) {
    *arr = ia_xrealloc(*arr, (*n + 1) * sizeof **arr);
    (*arr)[(*n)++] = v;
}

int cli_flag_lookup(const char *name) {
    for (int i = 0; i < F__COUNT; i++) {
        if (!strcmp(cli_flags[i].env, name)) return i;
        const char *a = cli_flags[i].name, *b = name;
        while (*a && (*a == *b || (*a == '-' && *b == '_'))) a++, b++;
        if (!*a && !*b) return i;
    }
    return -1;
}

/* --config FILE / --config=FILE in argv, else INTERACTD_CONFIG */
static void find_config(cfg *c, int argc, char **argv) {
    const char *e = getenv(cli_flags[F_CONFIG].env);
    if (e && *e) c->config_path = e, c->source[F_CONFIG] = "env";
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--config=", 9)) c->config_path = argv[i] + 9;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc) c->config_path = argv[++i];
        else continue;
        c->source[F_CONFIG] = "flag";
    }
    c->val[F_CONFIG] = c->config_path;
}

/* Env first, then flags over it, then the config file under both.
 * Strings point into argv/environ, `owned` (the split INTERACTD_MODELS
 * list) or the file's settings (c->file_kv). */
void cli_parse_args(cfg *c, int argc, char **argv, char **owned, char **owned_up) {
    find_config(c, argc, argv);
    for (int i = 0; i < F__COUNT; i++) {
        if (i == F_MODEL || i == F_UPSTREAM || i == F_CONFIG || i == F_SPEECH_MODEL) continue;
        const char *e = getenv(cli_flags[i].env);
        if (e && *e) c->val[i] = e, c->source[i] = "env";
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli_usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--print-config")) {
            c->print_config = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) cli_bad("", "unexpected argument %s", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        int f = find_flag(name, eq ? (size_t)(eq - name) : strlen(name));
        if (f < 0) {
            fprintf(stderr, "interactd: unknown flag %s (see interactd serve --help)\n", a);
            exit(2);
        }
        const char *v;
        if (!cli_flags[f].arg) { /* a switch: --verbose, --allow-private-urls[=false] */
            v = eq ? eq + 1 : "true";
        } else if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc) cli_bad(cli_flags[f].name, "needs a value%s", "");
            v = argv[++i];
        }
        if (f == F_MODEL) cli_push(&c->models, &c->n_models, v);
        else if (f == F_CHAT_TEMPLATE) cli_push(&c->templates, &c->n_templates, v);
        else if (f == F_MMPROJ) cli_push(&c->mmprojs, &c->n_mmprojs, v);
        else if (f == F_SEARCH_INDEX) cli_push(&c->search_dirs, &c->n_search_dirs, v);
        else if (f == F_EMBED_MODEL) cli_push(&c->embed_models, &c->n_embed_models, v);
        else if (f == F_UPSTREAM) cli_push(&c->upstreams, &c->n_upstreams, v);
        else if (f == F_SPEECH_MODEL) cli_push(&c->speech_models, &c->n_speech_models, v);
        else c->val[f] = v;
        c->from_flag[f] = true;
        c->source[f] = "flag";
    }
    if (!c->n_templates && c->val[F_CHAT_TEMPLATE]) cli_push(&c->templates, &c->n_templates, c->val[F_CHAT_TEMPLATE]);
    if (!c->n_mmprojs && c->val[F_MMPROJ]) cli_push(&c->mmprojs, &c->n_mmprojs, c->val[F_MMPROJ]);
    if (!c->n_search_dirs && c->val[F_SEARCH_INDEX]) cli_push(&c->search_dirs, &c->n_search_dirs, c->val[F_SEARCH_INDEX]);
    if (!c->n_embed_models && c->val[F_EMBED_MODEL])
        cli_push(&c->embed_models, &c->n_embed_models, c->val[F_EMBED_MODEL]);
    /* a spec holds commas: the environment's are separated by blanks (both
     * lists in *owned_up, NUL-separated) */
    const char *eu = getenv(cli_flags[F_UPSTREAM].env), *es = getenv(cli_flags[F_SPEECH_MODEL].env);
    bool use_u = !c->n_upstreams && eu && *eu, use_s = !c->n_speech_models && es && *es;
    if (use_u || use_s) {
        size_t lu = use_u ? strlen(eu) : 0;
        char *both = ia_xcalloc(lu + (use_s ? strlen(es) : 0) + 2, 1);
        if (use_u) memcpy(both, eu, lu);
        if (use_s) strcpy(both + lu + 1, es);
        *owned_up = both;
        for (char *save = NULL, *t = strtok_r(both, " \t\n", &save); use_u && t; t = strtok_r(NULL, " \t\n", &save))
            cli_push(&c->upstreams, &c->n_upstreams, t);
        if (use_u) c->source[F_UPSTREAM] = "env";
        char *sp = both + lu + 1;
        for (char *save = NULL, *t = strtok_r(sp, " \t\n", &save); use_s && t; t = strtok_r(NULL, " \t\n", &save))
            cli_push(&c->speech_models, &c->n_speech_models, t);
        if (use_s) c->source[F_SPEECH_MODEL] = "env";
    }
    const char *em = getenv("INTERACTD_MODELS");
    if (!c->n_models && em && *em) {
        *owned = ia_strdup(em);
        for (char *save = NULL, *t = strtok_r(*owned, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (*t) cli_push(&c->models, &c->n_models, t);
        c->source[F_MODEL] = "env";
    }
    if (c->config_path) cli_config_apply(c);
}

void cli_cfg_free(cfg *c) {
    free(c->models);
    free(c->templates);
    free(c->mmprojs);
    free(c->search_dirs);
    free(c->embed_models);
    c->embed_models = NULL;
    free(c->upstreams);
    free(c->speech_models);
    cli_config_free(c->file_kv, c->n_file_kv);
    c->models = c->templates = c->mmprojs = c->search_dirs = c->upstreams = NULL;
    c->file_kv = NULL;
    c->n_file_kv = 0;
}

long long cli_int(int f, const char *v, long long lo, long long hi) {
    if (!v || !*v) cli_bad(cli_flags[f].name, "needs a number%s", "");
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < lo || n > hi) cli_bad(cli_flags[f].name, "invalid value '%s'", v);
    return n;
}

size_t cli_bytes(int f, const char *v) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || v[0] == '-') cli_bad(cli_flags[f].name, "invalid size '%s'", v);
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1ull << 10, end++;
    else if (*end == 'm' || *end == 'M') mul = 1ull << 20, end++;
    else if (*end == 'g' || *end == 'G') mul = 1ull << 30, end++;
    if ((*end == 'b' || *end == 'B') && mul > 1) end++; /* "10mb" */
    if (*end || n == 0 || n > (1ull << 40) / mul) cli_bad(cli_flags[f].name, "invalid size '%s'", v);
    return (size_t)(n * mul);
}

bool cli_bool(const char *v) {
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}
