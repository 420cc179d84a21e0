/* upstream: the --upstream registry (upstream.h states the contract).
 * A spec is split at commas: NAME=URL first, then key=value options. A
 * URL holding a comma cannot be given (none of the engines' needs one). */
#include "upstream/upstream.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define NAME_MAX_LEN 128

void ia_upstream_clear(ia_upstream *u) {
    if (!u) return;
    free(u->name);
    free(u->url);
    if (u->key) explicit_bzero(u->key, strlen(u->key));
    free(u->key);
    free(u->remote_model);
    free(u->voice);
    memset(u, 0, sizeof *u);
}

const char *ia_upstream_api_name(ia_upstream_api a) {
    return a == IA_UPSTREAM_SDCPP ? "sdcpp" : a == IA_UPSTREAM_SPEECH_API ? "speech" : a == IA_UPSTREAM_CHAT_API ? "chat" : "openai";
}

/* A model name: printable, no blank, no ',' or '=' (the spec's separators). */
static int check_name(const char *s, size_t n, ia_err *err) {
    if (n == 0) return ia_fail(err, IA_EINVALID, "expected NAME=URL[,key=...]: the model NAME is empty");
    if (n > NAME_MAX_LEN) return ia_fail(err, IA_EINVALID, "the model name is longer than %d bytes", NAME_MAX_LEN);
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)s[i]) && !((unsigned char)s[i] & 0x80))
            return ia_fail(err, IA_EINVALID, "the model name '%.*s' has a blank or control character", (int)n, s);
    return 0;
}

/* The engine's base URL: http(s), no user or password (key= is the way to
 * authenticate), no query or fragment (paths are appended to it). Any
 * address: the operator's (upstream.h). */
static int set_url(ia_upstream *u, const char *s, size_t n, ia_err *err) {
    char *url = ia_strndup(s, n);
    while (n > 0 && url[n - 1] == '/') url[--n] = '\0';
    ia_fetch_opts o = {.allow_private = true, .proxy = ""};
    ia_err e = {0};
    int rc = ia_fetch_check_url(url, &o, "URL", &e);
    if (rc == 0 && strpbrk(url, "?#"))
        rc = ia_fail(&e, IA_EINVALID, "URL: a base URL without a query or fragment (paths such as "
                                      "/v1/images/generations are appended to it)");
    if (rc != 0) {
        free(url);
        return ia_fail(err, IA_EINVALID, "upstream '%s': %s", u->name, e.msg);
    }
    u->url = url;
    return 0;
}

/* key=KEY, or key=env:VAR for a key kept out of the command line. */
static int set_key(ia_upstream *u, const char *v, size_t n, ia_err *err) {
    if (n > 4 && strncmp(v, "env:", 4) == 0) {
        char *var = ia_strndup(v + 4, n - 4);
        const char *val = getenv(var);
        int rc = val && *val ? 0 : ia_fail(err, IA_EINVALID, "upstream '%s': key=env:%s, but %s is not set",
                                           u->name, var, var);
        free(var);
        if (rc == 0) u->key = ia_strdup(val);
        return rc;
    }
    u->key = ia_strndup(v, n);
    return 0;
}

static int set_timeout(ia_upstream *u, const char *v, size_t n, ia_err *err) {
    char buf[24], *end;
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), v);
    errno = 0;
    long t = strtol(buf, &end, 10);
    if (errno || end == buf || *end || n >= sizeof buf || t < 1 || t > IA_UPSTREAM_MAX_TIMEOUT_S)
        return ia_fail(err, IA_EINVALID, "upstream '%s': timeout=%.*s: expected whole seconds, 1 to %d", u->name,
                       (int)(n < 24 ? n : 24), v, IA_UPSTREAM_MAX_TIMEOUT_S);
    u->timeout_s = (int)t;
    return 0;
}

/* One key=value option. seen: a bit per option already given (each is
 * given once at most). */
static int set_option(ia_upstream *u, const char *opt, size_t n, unsigned *seen, ia_err *err) {
    static const char *const names[] = {"key", "api", "model", "timeout", "voice"};
    const char *eq = memchr(opt, '=', n);
    size_t kn = eq ? (size_t)(eq - opt) : n;
    int which = -1;
    for (int i = 0; i < 5; i++)
        if (strlen(names[i]) == kn && strncmp(opt, names[i], kn) == 0) which = i;
    if (which < 0)
        return ia_fail(err, IA_EINVALID, "upstream '%s': unknown option '%.*s' (expected key=, api=, model=, "
                                         "voice=, timeout=)", u->name, (int)(kn < 40 ? kn : 40), opt);
    if (!eq || eq + 1 == opt + n)
        return ia_fail(err, IA_EINVALID, "upstream '%s': %s= needs a value", u->name, names[which]);
    if (*seen & (1u << which))
        return ia_fail(err, IA_EINVALID, "upstream '%s': %s= given twice", u->name, names[which]);
    *seen |= 1u << which;
    const char *v = eq + 1;
    size_t vn = n - kn - 1;
    switch (which) {
    case 0: return set_key(u, v, vn, err);
    case 1:
        if (vn == 6 && strncmp(v, "openai", 6) == 0) u->api = IA_UPSTREAM_OPENAI;
        else if (vn == 5 && strncmp(v, "sdcpp", 5) == 0) u->api = IA_UPSTREAM_SDCPP;
        else if (vn == 6 && strncmp(v, "speech", 6) == 0) u->api = IA_UPSTREAM_SPEECH_API;
        else if (vn == 4 && strncmp(v, "chat", 4) == 0) u->api = IA_UPSTREAM_CHAT_API;
        else
            return ia_fail(err, IA_EINVALID, "upstream '%s': api=%.*s: expected openai (OpenAI's images API: "
                                             "sd-server, LocalAI), sdcpp (sd-server's async jobs), speech "
                                             "(OpenAI's /v1/audio/speech: Kokoro, Piper) or chat (OpenAI's "
                                             "/v1/chat/completions: llama-server, vLLM, Ollama, SGLang)",
                           u->name, (int)(vn < 40 ? vn : 40), v);
        u->kind = u->api == IA_UPSTREAM_SPEECH_API ? IA_UPSTREAM_SPEECH
                  : u->api == IA_UPSTREAM_CHAT_API ? IA_UPSTREAM_CHAT
                                                   : IA_UPSTREAM_IMAGES;
        return 0;
    case 2: u->remote_model = ia_strndup(v, vn); return 0;
    case 4: u->voice = ia_strndup(v, vn); return 0;
    default: return set_timeout(u, v, vn, err);
    }
}

int ia_upstream_parse(const char *spec, ia_upstream *out, ia_err *err) {
    memset(out, 0, sizeof *out);
    const char *eq = spec ? strchr(spec, '=') : NULL;
    const char *comma = spec ? strchr(spec, ',') : NULL;
    if (!eq || (comma && comma < eq))
        return ia_fail(err, IA_EINVALID, "expected NAME=URL[,key=KEY][,api=openai|sdcpp|speech|chat][,model=REMOTE]"
                                         "[,voice=VOICE][,timeout=SECONDS]");
    if (check_name(spec, (size_t)(eq - spec), err) != 0) return -1;
    out->name = ia_strndup(spec, (size_t)(eq - spec));
    out->kind = IA_UPSTREAM_IMAGES;
    out->timeout_s = IA_UPSTREAM_DEFAULT_TIMEOUT_S;
    out->max_bytes = IA_UPSTREAM_DEFAULT_MAX_BYTES;
    out->poll_ms = 250;
    const char *p = eq + 1;
    size_t n = strcspn(p, ",");
    if (set_url(out, p, n, err) != 0) goto bad;
    unsigned seen = 0;
    for (p += n; *p == ',';) {
        p++;
        n = strcspn(p, ",");
        if (n == 0) {
            ia_fail(err, IA_EINVALID, "upstream '%s': an empty option (two commas, or one at the end)", out->name);
            goto bad;
        }
        if (set_option(out, p, n, &seen, err) != 0) goto bad;
        p += n;
    }
    if (out->voice && out->kind != IA_UPSTREAM_SPEECH) {
        ia_fail(err, IA_EINVALID, "upstream '%s': voice= is for a speech engine (api=speech)", out->name);
        goto bad;
    }
    return 0;
bad:
    ia_upstream_clear(out);
    return -1;
}

int ia_upstreams_add(ia_upstreams *r, const char *spec, ia_err *err) {
    ia_upstream u;
    if (ia_upstream_parse(spec, &u, err) != 0) return -1;
    if (ia_upstream_for(r, u.name)) {
        ia_fail(err, IA_EINVALID, "upstream '%s' given twice", u.name);
        ia_upstream_clear(&u);
        return -1;
    }
    r->v = ia_xrealloc(r->v, (r->n + 1) * sizeof *r->v);
    r->v[r->n++] = u;
    return 0;
}

void ia_upstreams_set_fetch(ia_upstreams *r, const ia_fetch_opts *other) {
    for (size_t i = 0; r && i < r->n; i++) r->v[i].other = *other;
}

void ia_upstreams_free(ia_upstreams *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) ia_upstream_clear(&r->v[i]);
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

const ia_upstream *ia_upstream_for(const ia_upstreams *r, const char *model) {
    for (size_t i = 0; r && model && i < r->n; i++)
        if (strcmp(r->v[i].name, model) == 0) return &r->v[i];
    return NULL;
}

const ia_upstream *ia_upstream_speech_for(const ia_upstreams *r, const char *model) {
    const ia_upstream *u = ia_upstream_for(r, model);
    return u && u->kind == IA_UPSTREAM_SPEECH ? u : NULL;
}

char *ia_upstream_describe(const ia_upstream *u) {
    return ia_asprintf("upstream %s: %s (%s, api %s%s%s%s%s, timeout %d s, %s)", u->name, u->url,
                       u->kind == IA_UPSTREAM_SPEECH ? "speech" : u->kind == IA_UPSTREAM_CHAT ? "chat" : "images", ia_upstream_api_name(u->api),
                       u->remote_model ? ", model " : "", u->remote_model ? u->remote_model : "",
                       u->voice ? ", voice " : "", u->voice ? u->voice : "", u->timeout_s,
                       u->key ? "key set" : "no key");
}

int ia_upstream_check_outputs(const ia_upstreams *r, const ia_request *req, ia_err *err) {
    if (!(req->modalities & IA_MOD_BIT_IMAGE)) return 0;
    const char *model = req->model ? req->model : "";
    const ia_upstream *u = ia_upstream_for(r, model);
    if (u && u->kind == IA_UPSTREAM_IMAGES) return 0;
    if (u && u->kind == IA_UPSTREAM_CHAT)
        return ia_fail(err, IA_EINVALID, "response_modalities: model '%s' is an upstream chat engine (--upstream "
                                         "...,api=chat) and answers in text; ask it for 'TEXT'", model);
    if (u)
        return ia_fail(err, IA_EINVALID, "response_modalities: model '%s' is a speech engine (--upstream "
                                         "...,api=speech) and does not draw; ask it for 'AUDIO'", model);
    return ia_fail(err, IA_EINVALID,
                   "model: image output from '%s' needs an image engine, and none is configured for it; "
                   "start the server with --upstream %s=URL (an OpenAI-style images API such as "
                   "stable-diffusion.cpp's sd-server or LocalAI; ,api=sdcpp for sd-server's own)",
                   model, *model ? model : "NAME");
}
