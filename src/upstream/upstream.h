/* upstream: engines outside this process that serve a model name, as the
 * operator names them at start-up:
 *
 *     --upstream NAME=URL[,key=KEY][,api=openai|sdcpp|speech|chat][,model=REMOTE][,voice=V][,timeout=SECONDS]
 *
 * (repeatable). An upstream serves image output (images.h), or with
 * api=speech speech output (speech.h; voice= its default voice): NAME is
 * the model name requests use, URL the engine's base URL, key a bearer
 * token (key=env:VAR reads it from the environment, so it is not in the
 * process's command line), api its protocol (openai: OpenAI's images API,
 * which stable-diffusion.cpp's sd-server and LocalAI speak — the default;
 * sdcpp: sd-server's native async jobs), model the name the engine knows
 * (default NAME), timeout the longest one image request may take (default
 * 300 s; sdcpp: the whole job; chat: one model step's whole answer). With
 * api=chat the upstream is a text model (chat.h): core runs it as an
 * engine (main.c makes one per chat upstream), under NAME.
 *
 * Addresses: the URL is the operator's, given at start-up, so loopback and
 * private addresses are allowed for it (an engine usually runs beside the
 * server or on a private network), unlike the URLs a client names
 * (lib/fetch.h). What the engine answers cannot widen that: requests to it
 * follow no redirect (a 3xx is an error), and an image it points at by URL
 * on another origin is fetched under the server's rules for client URLs
 * (`other`: --allow-private-urls, --allow-addresses). No proxy from the
 * environment is used for an upstream. The key goes only to its upstream,
 * and is never logged, echoed or put in a message.
 *
 * Threads: the registry is built at start-up, then only read: any thread
 * may look an upstream up and call it. */
#ifndef IA_UPSTREAM_UPSTREAM_H
#define IA_UPSTREAM_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"
#include "lib/fetch.h"
#include "model/types.h"

#define IA_UPSTREAM_DEFAULT_TIMEOUT_S 300
#define IA_UPSTREAM_MAX_TIMEOUT_S 86400
/* One answer of an engine, at most: a 4K PNG is tens of MiB as base64. */
#define IA_UPSTREAM_DEFAULT_MAX_BYTES ((size_t)64 << 20)

/* SPEECH: OpenAI's /v1/audio/speech (Kokoro-FastAPI, Piper's OpenAI
 * servers, LocalAI): the upstream speaks (speech.h), kind IA_UPSTREAM_SPEECH. */
/* CHAT_API: OpenAI's /v1/chat/completions (llama-server, vLLM, Ollama,
 * SGLang): the upstream is a text model (chat.h), kind IA_UPSTREAM_CHAT. */
typedef enum { IA_UPSTREAM_OPENAI = 0, IA_UPSTREAM_SDCPP, IA_UPSTREAM_SPEECH_API, IA_UPSTREAM_CHAT_API } ia_upstream_api;
/* What an upstream serves. */
typedef enum { IA_UPSTREAM_IMAGES = 0, IA_UPSTREAM_SPEECH, IA_UPSTREAM_CHAT } ia_upstream_kind;

typedef struct ia_upstream {
    char *name;         /* the model name requests use */
    char *url;          /* base URL, http(s), without a trailing '/' */
    char *key;          /* bearer token; NULL: none sent */
    char *remote_model; /* model=; NULL: name */
    char *voice;        /* voice= (api=speech only): the voice when a request names none; NULL: "alloy" */
    ia_upstream_api api;
    ia_upstream_kind kind;
    int timeout_s;      /* one request (sdcpp: one job), at most */
    size_t max_bytes;   /* one answer of the engine, at most */
    int poll_ms;        /* sdcpp: the first wait between polls, growing to 2 s
                         * (250 by default; tests shorten it) */
    ia_fetch_opts other; /* an image URL on another origin: client rules */
} ia_upstream;

typedef struct ia_upstreams {
    ia_upstream *v;
    size_t n;
} ia_upstreams;

/* One spec into *out (zeroed first; on failure left empty). The message
 * names the upstream and the part at fault, never the key. 0 / -1. */
int ia_upstream_parse(const char *spec, ia_upstream *out, ia_err *err);
void ia_upstream_clear(ia_upstream *u);
/* Parses spec and adds it; a NAME given twice is refused. 0 / -1. */
int ia_upstreams_add(ia_upstreams *r, const char *spec, ia_err *err);
/* The rules for image URLs on another origin (copied into each upstream;
 * the strings must outlive the registry). */
void ia_upstreams_set_fetch(ia_upstreams *r, const ia_fetch_opts *other);
void ia_upstreams_free(ia_upstreams *r);

/* The upstream serving model, or NULL (r may be NULL). */
const ia_upstream *ia_upstream_for(const ia_upstreams *r, const char *model);
/* The same, only when it is an api=speech one. */
const ia_upstream *ia_upstream_speech_for(const ia_upstreams *r, const char *model);
const char *ia_upstream_api_name(ia_upstream_api a); /* "openai", "sdcpp", "speech", "chat" */
/* One line for the start-up log: name, URL, api, remote model, timeout,
 * whether a key is set (not the key). malloc'd. */
char *ia_upstream_describe(const ia_upstream *u);

/* The check core makes on a create before anything else about its model:
 * a request for image output (req->modalities & IA_MOD_BIT_IMAGE) needs an
 * image upstream serving req->model, else IA_EINVALID (400) naming the
 * flag that configures one ("--upstream NAME=URL"; a speech upstream's
 * name: ask it for 'AUDIO'). 0 when the outputs can be served so: no
 * image, or an image upstream for the model. */
int ia_upstream_check_outputs(const ia_upstreams *r, const ia_request *req, ia_err *err);

#endif
