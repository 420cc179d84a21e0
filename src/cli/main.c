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

#include "cli/config.h"
#include "cli/chat.h"
#include "cli/embed.h"
#include "cli/flags.h"
#include "cli/pull.h"
#include "core/core.h"
#include "core/files.h"
#include "core/fsearch.h"
#include "engine/engine.h"
#include "http/http.h"
#include "lib/dirlock.h"
#include "lib/fetch.h"
#include "tools/maps.h"
#include "tools/search.h"
#include "upstream/chat.h"
#include "speech/tts.h"
#include "upstream/upstream.h"
#include "lib/log.h"
#include "lib/netaddr.h"
#include "lib/util.h"
#include "pull/models.h"
#include "store/store.h"


/* The demo model, looked for relative to the executable (no path of the
 * build tree is compiled in): beside it in the build tree (build/demo.gguf;
 * build/asan/demo.gguf links to it), ../share/interactd/ in an install. */
static const char *const demo_rel[] = {"demo.gguf", "../share/interactd/demo.gguf"};

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

/* google_maps' backends from --maps-url and --overpass-url; NULL when
 * neither is given (the tool is then a 400 naming them). Exits on a bad
 * value. */
static ia_maps *open_maps(const cfg *c) {
    if (!c->val[F_MAPS_URL] && !c->val[F_OVERPASS_URL]) return NULL;
    ia_maps_opts o = {.url = c->val[F_MAPS_URL], .overpass_url = c->val[F_OVERPASS_URL]};
    ia_err err = {0};
    ia_maps *m = ia_maps_new(&o, &err);
    if (!m) cli_bad(strstr(err.msg, "--overpass-url:") == err.msg ? cli_flags[F_OVERPASS_URL].name
                                                                  : cli_flags[F_MAPS_URL].name, "%s",
                    strstr(err.msg, ": ") ? strstr(err.msg, ": ") + 2 : err.msg);
    ia_info("google_maps: %s", ia_maps_describe(m));
    return m;
}

/* --speech-model specs' syntax, before anything is allocated; exits 2
 * naming the flag on a bad one. */
static void check_speech_models(const cfg *c) {
    for (size_t i = 0; i < c->n_speech_models; i++) {
        ia_err err = {0};
        ia_tts_spec spec;
        if (ia_tts_spec_parse(c->speech_models[i], &spec, &err) != 0)
            cli_bad(cli_flags[F_SPEECH_MODEL].name, "%s", err.msg);
        ia_tts_spec_free(&spec);
    }
}

/* --speech-model specs, loaded (llama.cpp's speech generation). The
 * projector, when mmproj= does not name one, is found beside the backbone
 * as --mmproj's is. A name may not be a --model's too. -1 with err (the
 * caller names the flag and stops, freeing what was loaded). */
static int open_speech_models(const cfg *c, const model_spec *ms, size_t nm, int threads, ia_tts_set *set,
                              ia_err *err) {
    set->v = ia_xcalloc(c->n_speech_models + 1, sizeof *set->v);
    for (size_t i = 0; i < c->n_speech_models; i++) {
        ia_tts_spec spec;
        if (ia_tts_spec_parse(c->speech_models[i], &spec, err) != 0) return -1;
        int bad = 0;
        for (size_t k = 0; !bad && k < nm; k++)
            if (!strcmp(ms[k].name, spec.name)) bad = ia_fail(err, IA_EINVALID, "'%s' is already a --model's name", spec.name);
        if (!bad && ia_tts_find(set, spec.name)) bad = ia_fail(err, IA_EINVALID, "'%s' is given twice", spec.name);
        if (!bad && !spec.mmproj && !(spec.mmproj = mmproj_beside(spec.model)))
            bad = ia_fail(err, IA_EINVALID, "no projector for the speech model beside its backbone; name it with "
                          "mmproj=FILE (%s)", spec.model);
        if (bad) {
            ia_tts_spec_free(&spec);
            return -1;
        }
        ia_info("loading speech model %s from %s (projector %s)", spec.name, spec.model, spec.mmproj);
        ia_tts *t = ia_tts_open(&spec, threads, err);
        ia_tts_spec_free(&spec);
        if (!t) return -1;
        ia_info("speech model %s ready (%s)", ia_tts_name(t), ia_tts_describe(t));
        set->v[set->n++] = t;
    }
    return 0;
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
            if (*t) cli_push(&dirs, &n, t);
    }
    char *path = ia_asprintf("%s/search-index.db", data);
    ia_search_opts so = {.url = c->val[F_SEARCH_URL], .dirs = dirs, .n_dirs = n, .index_path = path,
                         .rescan_s = rescan_s};
    ia_err err = {0};
    ia_search *s = ia_search_new(&so, &err);
    if (!s) cli_bad(c->val[F_SEARCH_URL] && !n ? cli_flags[F_SEARCH_URL].name : cli_flags[F_SEARCH_INDEX].name, "%s",
                err.msg);
    ia_info("google_search: %s", ia_search_describe(s));
    for (size_t i = 0; i < c->n_search_dirs; i++) free(owned[i]);
    free(owned);
    free(dirs);
    free(path);
    return s;
}

/* This server's instance id for a shared store (ia_store_set_instance):
 * DATA/instance-id, made once (16 random bytes, hex) and kept, so a server
 * restarted on its folder recovers its own interrupted runs. NULL (said
 * why) when it can be neither read nor made: the caller refuses to start,
 * since without it this server's rows carry no runner, its recovery would
 * end its neighbours' live runs and its own would have no lease to keep. */
static char *instance_id(const char *data) {
    char *path = ia_asprintf("%s/instance-id", data);
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = '\0';
        fclose(f);
        buf[strcspn(buf, "\r\n")] = '\0';
    }
    if (strlen(buf) != 32) {
        unsigned char r[16];
        f = ia_random(r, sizeof r) == 0 ? fopen(path, "w") : NULL;
        for (size_t i = 0; f && i < sizeof r; i++) snprintf(buf + 2 * i, 3, "%02x", r[i]);
        bool ok = f && fprintf(f, "%s\n", buf) >= 0;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            ia_error("cannot read or write %s (DATA/instance-id: this server's name on a shared "
                     "PostgreSQL store): %s", path, strerror(errno));
            buf[0] = '\0';
        }
    }
    free(path);
    return buf[0] ? ia_strdup(buf) : NULL;
}

/* The --upstream registry; exits naming the flag on a bad spec. Image URLs
 * an engine points at on another origin follow the client URLs' rules. */
static void open_upstreams(const cfg *c, ia_upstreams *reg, const ia_fetch_opts *client_rules) {
    for (size_t i = 0; i < c->n_upstreams; i++) {
        ia_err err = {0};
        if (ia_upstreams_add(reg, c->upstreams[i], &err) != 0) cli_bad(cli_flags[F_UPSTREAM].name, "%s", err.msg);
    }
    ia_upstreams_set_fetch(reg, client_rules);
    for (size_t i = 0; i < reg->n; i++) {
        char *d = ia_upstream_describe(&reg->v[i]);
        ia_info("%s", d);
        free(d);
    }
}

/* A model given as a bare NAME (no '/', no such file): the models
 * folder's file for it (pull/models.h), served under the NAME given. */
static void resolve_in_models_dir(const cfg *c, model_spec *m, const char *v) {
    if (strchr(m->path, '/') || access(m->path, F_OK) == 0) return;
    char *dir = ia_models_dir(c->val[F_MODELS_DIR]);
    ia_err err = {0};
    char *path = ia_models_resolve(dir, m->path, &err);
    free(dir);
    if (!path) cli_bad(cli_flags[F_MODEL].name, "%s", err.msg);
    if (!strchr(v, '=')) { /* served under the NAME typed, not the file's stem */
        free(m->name);
        m->name = ia_strdup(v);
    }
    free(m->path);
    m->path = path;
}

/* The chat upstreams (each served as an engine); one named as a local
 * model is refused. */
static size_t count_chat_upstreams(const ia_upstreams *reg, const model_spec *ms, size_t nm) {
    size_t n = 0;
    for (size_t i = 0; i < reg->n; i++) {
        if (reg->v[i].kind != IA_UPSTREAM_CHAT) continue;
        for (size_t j = 0; j < nm; j++)
            if (strcmp(ms[j].name, reg->v[i].name) == 0)
                cli_bad(cli_flags[F_UPSTREAM].name, "upstream '%s' has the name of a local model (--model); "
                        "give one of them another name", reg->v[i].name);
        n++;
    }
    return n;
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
            cli_bad(cli_flags[F_MMPROJ].name, "no model is served as '%s'", who);
        }
        if (strcmp(file, "none") && access(file, R_OK) < 0)
            cli_bad(cli_flags[F_MMPROJ].name, "cannot read projector file '%s'", file);
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
    cli_parse_args(&c, argc, argv, &owned_models, &owned_upstreams);
    if (c.print_config) {
        cli_print_config(&c, stdout);
        cli_cfg_free(&c);
        free(owned_models);
        free(owned_upstreams);
        return 0;
    }

    /* ---- values ---- */
    const char *host = c.val[F_HOST] ? c.val[F_HOST] : "127.0.0.1";
    int port = (int)cli_int(F_PORT, c.val[F_PORT] ? c.val[F_PORT] : "8080", 0, 65535);
    const char *data = c.val[F_DATA] ? c.val[F_DATA] : "./data";
    int threads = (int)cli_int(F_THREADS, c.val[F_THREADS] ? c.val[F_THREADS] : "0", 0, 1024);
    int ctx = (int)cli_int(F_CTX_SIZE, c.val[F_CTX_SIZE] ? c.val[F_CTX_SIZE] : "0", 0, 1 << 24);
    int max_queue = (int)cli_int(F_MAX_QUEUE, c.val[F_MAX_QUEUE] ? c.val[F_MAX_QUEUE] : "64", 1, 1 << 20);
    int max_tokens = (int)cli_int(F_MAX_TOKENS, c.val[F_MAX_TOKENS] ? c.val[F_MAX_TOKENS] : "2048", 1, 1 << 24);
    int parallel = (int)cli_int(F_PARALLEL, c.val[F_PARALLEL] ? c.val[F_PARALLEL] : "4", 1, 256);
    int contexts = (int)cli_int(F_CONTEXTS, c.val[F_CONTEXTS] ? c.val[F_CONTEXTS] : "0", 0, 256);
    int chunk = (int)cli_int(F_PREFILL_CHUNK, c.val[F_PREFILL_CHUNK] ? c.val[F_PREFILL_CHUNK] : "0", 0, 65536);
    const char *lay = c.val[F_LAYOUT] ? c.val[F_LAYOUT] : "follow";
    if (strcmp(lay, "follow") && strcmp(lay, "fixed"))
        cli_bad(cli_flags[F_LAYOUT].name, "expected follow or fixed, not '%s'", lay);
    const char *pc = c.val[F_PREFIX_CACHE] ? c.val[F_PREFIX_CACHE] : "on";
    bool prefix_cache = cli_bool(pc);
    if (!prefix_cache && strcmp(pc, "0") && strcasecmp(pc, "false") && strcasecmp(pc, "off") && strcasecmp(pc, "no"))
        cli_bad(cli_flags[F_PREFIX_CACHE].name, "expected on or off, not '%s'", pc);
    const char *cr = c.val[F_CACHE_RAM] ? c.val[F_CACHE_RAM] : "auto";
    int64_t cache_ram = !strcmp(cr, "auto") ? 0 : !strcmp(cr, "0") ? -1 : (int64_t)cli_bytes(F_CACHE_RAM, cr);
    size_t max_body = cli_bytes(F_MAX_BODY, c.val[F_MAX_BODY] ? c.val[F_MAX_BODY] : "10m");
    unsigned max_conns = (unsigned)cli_int(F_MAX_CONNS, c.val[F_MAX_CONNS] ? c.val[F_MAX_CONNS] : "1024", 1, 1 << 20);
    unsigned max_conns_ip =
        (unsigned)cli_int(F_MAX_CONNS_IP, c.val[F_MAX_CONNS_IP] ? c.val[F_MAX_CONNS_IP] : "256", 0, 1 << 20);
    unsigned read_timeout =
        (unsigned)cli_int(F_READ_TIMEOUT, c.val[F_READ_TIMEOUT] ? c.val[F_READ_TIMEOUT] : "30", 0, 86400);
    const char *ret_s = c.val[F_RETENTION] ? c.val[F_RETENTION] : "55d";
    int64_t retention = ia_parse_duration(ret_s);
    if (retention <= 0) cli_bad(cli_flags[F_RETENTION].name, "invalid duration '%s' (e.g. 55d, 12h, 30m)", ret_s);
    int64_t max_file = (int64_t)cli_bytes(F_MAX_FILE_SIZE, c.val[F_MAX_FILE_SIZE] ? c.val[F_MAX_FILE_SIZE] : "2g");
    int64_t files_quota = (int64_t)cli_bytes(F_FILES_QUOTA, c.val[F_FILES_QUOTA] ? c.val[F_FILES_QUOTA] : "20g");
    const char *fttl_s = c.val[F_FILES_TTL] ? c.val[F_FILES_TTL] : "48h";
    int64_t files_ttl = ia_parse_duration(fttl_s);
    if (files_ttl <= 0) cli_bad(cli_flags[F_FILES_TTL].name, "invalid duration '%s' (e.g. 48h, 2d, 30m)", fttl_s);
    const char *dd = c.val[F_DEFAULT_DIALECT] ? c.val[F_DEFAULT_DIALECT] : "legacy";
    if (strcmp(dd, "legacy") && strcmp(dd, "steps"))
        cli_bad(cli_flags[F_DEFAULT_DIALECT].name, "expected legacy or steps, not '%s'", dd);
    ia_dialect default_dialect = !strcmp(dd, "steps") ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY;
    const char *lf = c.val[F_LOG_FORMAT] ? c.val[F_LOG_FORMAT] : "text";
    if (strcmp(lf, "text") && strcmp(lf, "json")) cli_bad(cli_flags[F_LOG_FORMAT].name, "expected text or json, not '%s'", lf);
    bool verbose = cli_bool(c.val[F_VERBOSE]);
    if (c.val[F_VERBOSE] && !verbose && strcmp(c.val[F_VERBOSE], "0") && strcasecmp(c.val[F_VERBOSE], "false") &&
        strcasecmp(c.val[F_VERBOSE], "off") && strcasecmp(c.val[F_VERBOSE], "no"))
        cli_bad(cli_flags[F_VERBOSE].name, "expected true or false, not '%s'", c.val[F_VERBOSE]);
    ia_log_set_format(!strcmp(lf, "json") ? IA_LOG_JSON : IA_LOG_TEXT);
    ia_log_set_level(verbose ? IA_LOG_DEBUG : IA_LOG_INFO);

    check_speech_models(&c);

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
            cli_bad(cli_flags[F_MODEL].name, "expected NAME=PATH, not '%s'", v);
        resolve_in_models_dir(&c, &ms[i], v);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ms[j].name, ms[i].name)) cli_bad(cli_flags[F_MODEL].name, "model name '%s' given twice", ms[i].name);
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
        if (access(file, R_OK) < 0) cli_bad(cli_flags[F_CHAT_TEMPLATE].name, "cannot read template file '%s'", file);
        if (!named)
            for (size_t j = 0; j < nm; j++)
                if (!ms[j].tmpl) ms[j].tmpl = file;
    }

    assign_mmprojs(&c, ms, nm);
    {
        const char **names = ia_xcalloc(nm, sizeof *names);
        for (size_t i = 0; i < nm; i++) names[i] = ms[i].name;
        cli_embed_check(&c, names, nm);
        free(names);
    }
    bool allow_private = cli_bool(c.val[F_ALLOW_PRIVATE]);
    const char *allow_addrs = c.val[F_ALLOW_ADDRS];
    {
        ia_err aerr;
        if (allow_addrs && ia_addr_list_check(allow_addrs, "--allow-addresses", &aerr) < 0)
            cli_bad(cli_flags[F_ALLOW_ADDRS].name, "%s", aerr.msg + (strncmp(aerr.msg, "--allow-addresses: ", 19) ? 0 : 19));
        if (ia_fetch_global_init(&aerr) < 0) cli_bad(cli_flags[F_ALLOW_ADDRS].name, "%s", aerr.msg);
    }
    int64_t max_media = (int64_t)cli_bytes(F_MAX_MEDIA, c.val[F_MAX_MEDIA] ? c.val[F_MAX_MEDIA] : "20m");
    int fetch_timeout = (int)cli_int(F_FETCH_TIMEOUT, c.val[F_FETCH_TIMEOUT] ? c.val[F_FETCH_TIMEOUT] : "30", 1,
                                       3600);
    ia_upstreams upstreams = {0};
    open_upstreams(&c, &upstreams, &(ia_fetch_opts){.allow_private = allow_private, .allow_addrs = allow_addrs});

    int code_timeout = (int)cli_int(F_CODE_TIMEOUT, c.val[F_CODE_TIMEOUT] ? c.val[F_CODE_TIMEOUT] : "10", 1, 3600);
    int64_t code_memory = (int64_t)cli_bytes(F_CODE_MEMORY, c.val[F_CODE_MEMORY] ? c.val[F_CODE_MEMORY] : "512m");
    size_t code_output = cli_bytes(F_CODE_OUTPUT, c.val[F_CODE_OUTPUT] ? c.val[F_CODE_OUTPUT] : "64k");
    int code_chars = (int)cli_int(F_CODE_CHARS, c.val[F_CODE_CHARS] ? c.val[F_CODE_CHARS] : "10000", 16, 1000000);
    size_t url_max = cli_bytes(F_URL_MAX_SIZE, c.val[F_URL_MAX_SIZE] ? c.val[F_URL_MAX_SIZE] : "10m");
    int search_rescan = (int)cli_int(F_SEARCH_RESCAN, c.val[F_SEARCH_RESCAN] ? c.val[F_SEARCH_RESCAN] : "30", 1,
                                       86400);
    int lease_s = (int)cli_int(F_LEASE, c.val[F_LEASE] ? c.val[F_LEASE] : "30", 3, 3600);
    int max_run = (int)cli_int(F_MAX_RUN_TIME, c.val[F_MAX_RUN_TIME] ? c.val[F_MAX_RUN_TIME] : "600", 1, 86400 * 7);
    int agent_steps =
        (int)cli_int(F_AGENT_MAX_STEPS, c.val[F_AGENT_MAX_STEPS] ? c.val[F_AGENT_MAX_STEPS] : "30", 1, 1000);
    /* --store: checked before anything slow */
    const char *store_spec = c.val[F_STORE] ? c.val[F_STORE] : "sqlite";
    bool store_pg = ia_store_spec_is_pg(store_spec);
    if (!store_pg && strcmp(store_spec, "sqlite") != 0)
        cli_bad(cli_flags[F_STORE].name,
                "expected sqlite, a postgres:// or postgresql:// URL, or a libpq keyword string "
                "starting with host=, hostaddr=, dbname=, user=, port= or service= (got '%s')", store_spec);
    int max_steps = (int)cli_int(F_MAX_STEPS, c.val[F_MAX_STEPS] ? c.val[F_MAX_STEPS] : "10", 1, 1000);

    /* ---- keys ---- */
    ia_http_keys *keys = ia_http_keys_new();
    ia_err err;
    ia_err_clear(&err);
    if (c.val[F_API_KEYS] && ia_http_keys_load_file(keys, c.val[F_API_KEYS], &err) < 0)
        cli_bad(cli_flags[F_API_KEYS].name, "%s", err.msg);
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
    /* engines: the local models, then one per chat upstream (upstream/chat.h) */
    size_t ne = nm + count_chat_upstreams(&upstreams, ms, nm);
    ia_engine **engines = ia_xcalloc(ne ? ne : 1, sizeof *engines);
    ia_core *core = NULL;
    ia_files *files = NULL;
    ia_fsearch *fsearch = NULL;
    ia_http *http = NULL;
    ia_search *search = NULL;
    ia_maps *maps = NULL;
    ia_tts_set tts = {0};
    ia_embed_set embed = {0};
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
    dbpath = store_pg ? ia_strdup(store_spec) : ia_asprintf("%s/interactd.db", data);
    store = ia_store_open(dbpath, &err);
    if (!store) {
        char *label = ia_store_spec_redacted(dbpath); /* no password in the log */
        ia_error("cannot open the store %s: %s", label, err.msg);
        free(label);
        goto out;
    }
    if (store_pg) {
        char *label = ia_store_spec_redacted(dbpath);
        char *me = instance_id(data);
        if (!me) {
            ia_error("refusing to serve the PostgreSQL store %s without an instance id (fix DATA/instance-id "
                     "or the data folder's permissions)", label);
            free(label);
            goto out;
        }
        ia_store_set_instance(store, me); /* before the core's recovery */
        ia_info("store: PostgreSQL %s, instance %s", label, me);
        free(me);
        free(label);
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
    for (size_t i = 0, k = nm; i < upstreams.n; i++)
        if (upstreams.v[i].kind == IA_UPSTREAM_CHAT) engines[k++] = ia_upstream_chat_engine(&upstreams.v[i]);
    if (open_speech_models(&c, ms, nm, threads, &tts, &err) != 0) {
        ia_error("--%s: %s", cli_flags[F_SPEECH_MODEL].name, err.msg);
        goto out;
    }
    if (cli_embed_open(&c, threads, &embed, &err) != 0) {
        ia_error("--%s: %s", cli_flags[F_EMBED_MODEL].name, err.msg);
        goto out;
    }
    search = open_search(&c, data, search_rescan); /* its index is built before serving */
    maps = open_maps(&c);
    filesdir = ia_asprintf("%s/files", data);
    ia_files_opts fo = {.store = store, .dir = filesdir, .max_file_size = max_file, .quota = files_quota,
                        .ttl_s = files_ttl};
    files = ia_files_new(&fo, &err);
    if (!files) {
        ia_error("cannot start the Files API: %s", err.msg);
        goto out;
    }
    /* File search stores over the store and the Files API (a PostgreSQL
     * store answers their calls with a clear 400: not built there yet). */
    fsearch = ia_fsearch_new(store, files, &err);
    if (!fsearch) {
        ia_error("cannot start file search: %s", err.msg);
        goto out;
    }
    ia_fsearch_set_embed(fsearch, &embed);
    /* The sweeper runs at least four times per the shorter retention (at
     * most hourly), so a short --files-ttl or --retention is kept. */
    int64_t shortest = retention < files_ttl ? retention : files_ttl;
    int64_t sweep = shortest / 4 < 3600 ? (shortest / 4 > 0 ? shortest / 4 : 1) : 3600;
    ia_core_opts co = {.store = store, .engines = engines, .n_engines = ne, .retention_s = retention,
                       .sweep_interval_s = sweep, .files = files, .fsearch = fsearch,
                       .media = {.max_bytes = max_media, .timeout_ms = fetch_timeout * 1000,
                                 .allow_private = allow_private, .allow_addrs = allow_addrs},
                       .sandbox = {.wall_ms = code_timeout * 1000, .cpu_s = code_timeout,
                                   .mem_bytes = code_memory, .max_output = code_output},
                       .max_steps = max_steps, .max_run_s = max_run, .lease_s = lease_s,
                       .agent_model = c.val[F_AGENT_MODEL], .agent_max_steps = agent_steps, .code_max_chars = code_chars, .url_max_bytes = url_max,
                       .search = search, .maps = maps, .upstreams = &upstreams, .tts = &tts,
                       .embed = &embed};
    core = ia_core_new(&co, &err);
    if (!core) {
        ia_error("cannot start the interaction service: %s", err.msg);
        goto out;
    }
    ia_http_opts ho = {.host = host, .port = port, .max_body = max_body, .core = core, .keys = keys,
                       .listener = &lis, .max_connections = max_conns,
                       .max_connections_per_ip = max_conns_ip, .read_timeout_s = read_timeout,
                       .default_dialect = default_dialect, .files = files, .fsearch = fsearch};
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
    char *store_label = ia_store_spec_redacted(dbpath); /* no password in the log */
    ia_info("models: %s; store: %s; retention: %s", ia_core_model_names(core), store_label, ret_s);
    free(store_label);
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
    for (size_t i = 0; i < ne; i++)
        if (engines[i]) {
            ia_engine_free(engines[i]);
            engines[i] = NULL;
        }
    if (core) ia_core_free(core);
    ia_search_free(search);
    ia_maps_free(maps);
    ia_upstreams_free(&upstreams);
    ia_tts_set_free(&tts);
    ia_embed_set_free(&embed);
    ia_fsearch_free(fsearch);
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
    cli_cfg_free(&c);
    free(owned_models);
    free(owned_upstreams);
    if (rc == 0) ia_info("stopped");
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        cli_usage(argc < 2 ? stderr : stdout);
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
    if (!strcmp(argv[1], "pull")) return cli_pull(argc - 2, argv + 2);
    if (!strcmp(argv[1], "models")) return cli_models(argc - 2, argv + 2);
    if (!strcmp(argv[1], "chat")) return cli_chat(argc - 2, argv + 2);
    fprintf(stderr, "interactd: unknown command '%s' (see interactd --help)\n", argv[1]);
    return 2;
}
