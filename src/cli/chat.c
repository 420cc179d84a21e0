/* chat: `interactd chat MODEL`, a terminal chat against a running server.
 * Each message is a streamed create (libcurl; the SSE frames decoded by
 * api/chatwire.c) that carries previous_interaction_id = the last completed
 * answer's id, so the server keeps the conversation. Commands: /new,
 * /system TEXT, /model NAME, /quit, /help. Multi-line input: a line ending
 * in `\` continues, and a line `"""` opens a block that the next `"""`
 * closes. Ctrl-C during an answer stops it (the stream is closed and the
 * run cancelled on the server); at the prompt it clears the input, and a
 * second Ctrl-C in a row (or Ctrl-D, or /quit) leaves. Plain stdio: no line
 * editor beyond the terminal's own. */
#include "cli/chat.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/chatwire.h"
#include "lib/util.h"

#define MAX_FRAME ((size_t)64 << 20) /* an image or audio delta is one frame */
#define MAX_ERRBODY 65536

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
}

typedef struct chat {
    char url[512];
    const char *key;
    char *model, *system, *prev;
    long max_tokens;
    double temperature; /* < 0: not sent */
    bool color;
} chat;

/* What one streamed answer gathers. */
typedef struct turn {
    chat *c;
    ia_sse_reader sse;
    CURL *curl;
    long http;
    char *errbody;
    size_t errlen;
    char *id, *status, *error;
    bool in_thought, wrote;
} turn;

static const char *dim(const chat *c) { return c->color ? "\033[2m" : ""; }
static const char *plain(const chat *c) { return c->color ? "\033[0m" : ""; }

/* Prints what the server sent with its control characters made visible:
 * a model's text (or a page it quotes) may hold escape sequences that
 * would rewrite the screen, the title or the clipboard (OSC 52). C0 but
 * newline and tab, DEL and C1 (UTF-8 0xC2 0x80-0x9F) become '?'. */
static void put_safe(const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            putchar('?');
            p++;
        } else if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F) {
            putchar('?');
        } else {
            putchar(*p);
        }
    }
}

static void usage(FILE *f) {
    fprintf(f, "usage: interactd chat MODEL [--url URL] [--api-key KEY] [--system TEXT] [--max-output-tokens N]\n"
               "                           [--temperature T]\n"
               "  --url URL              the server (default http://127.0.0.1:8080; env INTERACTD_URL)\n"
               "  --api-key KEY          sent as x-goog-api-key (env INTERACTD_API_KEY)\n"
               "  --system TEXT          a system instruction (also /system TEXT)\n"
               "  --max-output-tokens N  cap each answer (default: the server's)\n"
               "  --temperature T        sampling temperature, 0 = greedy (default: the server's)\n"
               "In the chat: /new  /system [TEXT]  /model NAME  /quit  /help\n"
               "  a line ending in \\ continues; \"\"\" on its own line opens and closes a block.\n"
               "  Ctrl-C stops an answer; at the prompt, twice in a row leaves (as does Ctrl-D).\n");
}

/* ---- one streamed answer ------------------------------------------------- */

static void on_frame(void *ud, const char *data, size_t len) {
    turn *t = ud;
    chat *c = t->c;
    ia_chatev ev;
    ia_chatwire_event(data, len, &ev);
    switch (ev.kind) {
    case IA_CHATEV_START:
        free(t->id);
        t->id = ev.id, ev.id = NULL;
        break;
    case IA_CHATEV_TEXT:
        if (t->in_thought) printf("%s\n", plain(c)), t->in_thought = false;
        put_safe(ev.text);
        t->wrote = true;
        break;
    case IA_CHATEV_THOUGHT:
        if (!t->in_thought) printf("%s[thinking] ", dim(c)), t->in_thought = true;
        put_safe(ev.text);
        t->wrote = true;
        break;
    case IA_CHATEV_CALL:
        printf("%s%s[", t->wrote ? "\n" : "", dim(c));
        put_safe(ev.text);
        printf("]%s\n", plain(c));
        t->wrote = false;
        break;
    case IA_CHATEV_COMPLETE:
        free(t->status);
        t->status = ev.status, ev.status = NULL;
        if (ev.id) free(t->id), t->id = ev.id, ev.id = NULL;
        break;
    case IA_CHATEV_ERROR:
        free(t->error);
        t->error = ev.text, ev.text = NULL;
        break;
    default: break;
    }
    fflush(stdout);
    ia_chatev_free(&ev);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
    turn *t = ud;
    size_t len = sz * n;
    if (!t->http) curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->http);
    if (t->http != 200) { /* an error body: kept for its message */
        size_t take = t->errlen + len > MAX_ERRBODY ? MAX_ERRBODY - t->errlen : len;
        t->errbody = ia_xrealloc(t->errbody, t->errlen + take + 1);
        memcpy(t->errbody + t->errlen, p, take);
        t->errlen += take;
        t->errbody[t->errlen] = '\0';
        return len;
    }
    if (ia_sse_feed(&t->sse, p, len, MAX_FRAME, on_frame, ud) < 0) return 0; /* an absurd frame: stop */
    return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t d, curl_off_t e) {
    (void)ud, (void)a, (void)b, (void)d, (void)e;
    return g_interrupted ? 1 : 0; /* non-zero aborts the transfer */
}

static struct curl_slist *headers(const chat *c) {
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Api-Revision: " IA_CHATWIRE_REVISION);
    if (c->key && *c->key) {
        char *k = ia_asprintf("x-goog-api-key: %s", c->key);
        h = curl_slist_append(h, k);
        free(k);
    }
    return h;
}

/* POST {url}/v1beta/interactions/{id}/cancel: the run stops on the server
 * even if closing the stream had not already stopped it. */
static void cancel_run(const chat *c, const char *id) {
    CURL *cu = curl_easy_init();
    if (!cu) return;
    char *esc = curl_easy_escape(cu, id, 0);
    char *u = ia_asprintf("%s/v1beta/interactions/%s/cancel", c->url, esc ? esc : id);
    struct curl_slist *h = headers(c);
    FILE *sink = fopen("/dev/null", "w");
    curl_easy_setopt(cu, CURLOPT_URL, u);
    curl_easy_setopt(cu, CURLOPT_POST, 1L);
    curl_easy_setopt(cu, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT, 10L);
    if (sink) curl_easy_setopt(cu, CURLOPT_WRITEDATA, sink);
    curl_easy_perform(cu);
    if (sink) fclose(sink);
    curl_slist_free_all(h);
    curl_free(esc);
    free(u);
    curl_easy_cleanup(cu);
}

static void turn_free(turn *t) {
    ia_sse_reader_free(&t->sse);
    free(t->errbody);
    free(t->id);
    free(t->status);
    free(t->error);
}

/* Sends text and prints the answer as it streams; the chain moves on to it
 * when it completed. */
static void ask(chat *c, const char *text) {
    ia_chat_req rq = {.model = c->model, .input = text, .system = c->system, .previous_id = c->prev,
                      .max_output_tokens = c->max_tokens, .temperature = c->temperature, .stream = true};
    char *body = ia_chatwire_request(&rq);
    if (!body) {
        fprintf(stderr, "interactd chat: the message (or /system, /model) is not valid UTF-8; set a UTF-8 locale\n");
        return;
    }
    turn t = {.c = c};
    t.curl = curl_easy_init();
    if (!t.curl) {
        fprintf(stderr, "interactd chat: out of memory\n");
        free(body);
        return;
    }
    char *u = ia_asprintf("%s/v1beta/interactions", c->url);
    struct curl_slist *h = headers(c);
    curl_easy_setopt(t.curl, CURLOPT_URL, u);
    curl_easy_setopt(t.curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(t.curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(t.curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t.curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(t.curl, CURLOPT_NOSIGNAL, 1L);
    g_interrupted = 0;
    CURLcode rc = curl_easy_perform(t.curl);
    if (!t.http) curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &t.http);
    if (t.in_thought) printf("%s", plain(c));
    if (t.wrote) printf("\n");
    if (rc == CURLE_ABORTED_BY_CALLBACK && g_interrupted) {
        if (t.id) cancel_run(c, t.id);
        printf("%s[cancelled%s%s]%s\n", dim(c), t.id ? " " : "", t.id ? t.id : "", plain(c));
    } else if (rc != CURLE_OK) {
        fprintf(stderr, "interactd chat: %s: %s\n", c->url, curl_easy_strerror(rc));
    } else if (t.http != 200) {
        char *m = t.errbody ? ia_chatwire_error_message(t.errbody, t.errlen) : NULL;
        fprintf(stderr, "interactd chat: the server answered %ld: %s\n", t.http, m ? m : "(no message)");
        free(m);
    } else if (t.error) {
        fprintf(stderr, "interactd chat: the run failed: %s\n", t.error);
    } else if (!t.status) {
        fprintf(stderr, "interactd chat: the stream ended before the answer did\n");
    } else {
        if (!strcmp(t.status, "completed") || !strcmp(t.status, "incomplete")) {
            free(c->prev);
            c->prev = ia_strdup(t.id);
        }
        printf("%s[%s %s]%s\n", dim(c), t.status, t.id ? t.id : "", plain(c));
    }
    g_interrupted = 0;
    fflush(stdout);
    turn_free(&t);
    curl_slist_free_all(h);
    curl_easy_cleanup(t.curl);
    free(u);
    free(body);
}

/* ---- input --------------------------------------------------------------- */

typedef enum { IN_TEXT, IN_EOF, IN_INTERRUPT } in_kind;

/* One line without its newline into *line; IN_INTERRUPT on Ctrl-C. */
static in_kind read_line(char **line, size_t *cap) {
    errno = 0;
    ssize_t n = getline(line, cap, stdin);
    if (n < 0) {
        bool intr = g_interrupted || errno == EINTR;
        clearerr(stdin);
        g_interrupted = 0;
        return intr ? IN_INTERRUPT : IN_EOF;
    }
    while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r')) (*line)[--n] = '\0';
    return IN_TEXT;
}

/* A whole message (continuations and """ blocks joined) into *msg. */
static in_kind read_message(const chat *c, char **msg) {
    ia_buf b;
    ia_buf_init(&b, (size_t)16 << 20);
    char *line = NULL;
    size_t cap = 0;
    bool block = false;
    in_kind k;
    printf("%s> %s", dim(c), plain(c));
    fflush(stdout);
    for (;;) {
        k = read_line(&line, &cap);
        if (k != IN_TEXT) break;
        if (!strcmp(line, "\"\"\"")) {
            block = !block;
            if (!block) break;
        } else {
            size_t n = strlen(line);
            bool more = !block && n > 0 && line[n - 1] == '\\';
            if (more) line[--n] = '\0';
            if (b.len) ia_buf_append(&b, "\n", 1);
            ia_buf_append(&b, line, n);
            if (!block && !more) break;
        }
        printf("%s. %s", dim(c), plain(c));
        fflush(stdout);
    }
    free(line);
    if (k == IN_TEXT) {
        *msg = b.data ? ia_buf_take(&b) : ia_strdup("");
        return IN_TEXT;
    }
    ia_buf_free(&b);
    return k;
}

/* A /command; false when it is /quit. */
static bool command(chat *c, const char *line) {
    const char *arg = strchr(line, ' ');
    size_t n = arg ? (size_t)(arg - line) : strlen(line);
    while (arg && *arg == ' ') arg++;
    if (n == 5 && !strncmp(line, "/quit", 5)) return false;
    if (n == 4 && !strncmp(line, "/new", 4)) {
        free(c->prev);
        c->prev = NULL;
        printf("%s[a new conversation]%s\n", dim(c), plain(c));
    } else if (n == 7 && !strncmp(line, "/system", 7)) {
        free(c->system);
        c->system = arg && *arg ? ia_strdup(arg) : NULL;
        printf("%s[system instruction %s]%s\n", dim(c), c->system ? "set" : "cleared", plain(c));
    } else if (n == 6 && !strncmp(line, "/model", 6)) {
        if (!arg || !*arg) {
            printf("%s[model: %s]%s\n", dim(c), c->model, plain(c));
        } else {
            free(c->model);
            c->model = ia_strdup(arg);
            printf("%s[model %s; the conversation goes on]%s\n", dim(c), c->model, plain(c));
        }
    } else if (n == 5 && !strncmp(line, "/help", 5)) {
        usage(stdout);
    } else {
        printf("unknown command %.*s (try /help)\n", (int)n, line);
    }
    return true;
}

/* ---- entry ------------------------------------------------------------------- */

static int parse_args(chat *c, int argc, char **argv) {
    const char *url = getenv("INTERACTD_URL");
    c->key = getenv("INTERACTD_API_KEY");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--url") && v) url = v, i++;
        else if (!strcmp(a, "--api-key") && v) c->key = v, i++;
        else if (!strcmp(a, "--system") && v) c->system = ia_strdup(v), i++;
        else if (!strcmp(a, "--max-output-tokens") && v) {
            char *end;
            c->max_tokens = strtol(v, &end, 10);
            if (*end || c->max_tokens <= 0) {
                fprintf(stderr, "interactd chat: --max-output-tokens: '%s' is not a positive number\n", v);
                return -1;
            }
            i++;
        } else if (!strcmp(a, "--temperature") && v) {
            char *end;
            c->temperature = strtod(v, &end);
            if (*end || end == v || c->temperature < 0 || c->temperature > 2) {
                fprintf(stderr, "interactd chat: --temperature: '%s' is not a number from 0 to 2\n", v);
                return -1;
            }
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "interactd chat: unknown flag or missing value: %s (see interactd chat --help)\n", a);
            return -1;
        } else if (!c->model) c->model = ia_strdup(a);
        else {
            fprintf(stderr, "interactd chat: unexpected argument %s (one MODEL)\n", a);
            return -1;
        }
    }
    if (!c->model) {
        fprintf(stderr, "interactd chat: name the MODEL to chat with (see interactd chat --help)\n");
        return -1;
    }
    snprintf(c->url, sizeof c->url, "%s", url && *url ? url : "http://127.0.0.1:8080");
    size_t n = strlen(c->url);
    while (n && c->url[n - 1] == '/') c->url[--n] = '\0';
    return 0;
}

int cli_chat(int argc, char **argv) {
    chat c = {.temperature = -1};
    if (parse_args(&c, argc, argv) < 0) {
        free(c.model);
        free(c.system);
        return 2;
    }
    c.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* No SA_RESTART: Ctrl-C must end a getline at the prompt. */
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    printf("interactd chat with %s at %s (/help for commands)\n", c.model, c.url);
    bool interrupted = false;
    for (;;) {
        char *msg = NULL;
        in_kind k = read_message(&c, &msg);
        if (k == IN_EOF) {
            printf("\n");
            break;
        }
        if (k == IN_INTERRUPT) {
            if (interrupted) {
                printf("\n");
                break;
            }
            printf("\n%s[Ctrl-C again, Ctrl-D or /quit to leave]%s\n", dim(&c), plain(&c));
            interrupted = true;
            continue;
        }
        interrupted = false;
        bool go = true;
        if (msg[0] == '/') go = command(&c, msg);
        else if (msg[strspn(msg, " \t\n")]) ask(&c, msg);
        free(msg);
        if (!go) break;
    }
    free(c.model);
    free(c.system);
    free(c.prev);
    curl_global_cleanup();
    return 0;
}
