/* store: the store.h entry points — picks a backend from the spec given to
 * ia_store_open and forwards every call through its ops table
 * (store/backend.h); also what the backends share beside the codec: the
 * stored names of event kinds and the output a recovered row keeps. */
#include "store/backend.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

bool ia_store_spec_is_pg(const char *spec) {
    if (!spec) return false;
    if (strncmp(spec, "postgres://", 11) == 0 || strncmp(spec, "postgresql://", 13) == 0) return true;
    static const char *const keys[] = {"host=", "hostaddr=", "dbname=", "user=", "port=", "service="};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strncmp(spec, keys[i], strlen(keys[i])) == 0) return true;
    return false;
}

char *ia_store_spec_redacted(const char *spec) {
    char *out = ia_strdup(spec ? spec : "");
    char *scheme = strstr(out, "://");
    if (scheme) {
        /* postgres://user:PASSWORD@host: mask what lies between ':' and '@' */
        char *at = strchr(scheme + 3, '@');
        char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - (scheme + 3))) : NULL;
        if (colon) memset(colon + 1, '*', (size_t)(at - colon - 1));
        /* ?password=... as a URI parameter */
        for (char *p = strstr(out, "password="); p; p = strstr(p, "password=")) {
            for (p += 9; *p && *p != '&'; p++) *p = '*';
        }
        return out;
    }
    for (char *p = strstr(out, "password"); p; p = strstr(p + 1, "password")) {
        char *q = p + 8;
        while (*q == ' ') q++;
        if (*q != '=') continue;
        q++;
        while (*q == ' ') q++;
        if (*q == '\'') {
            for (q++; *q && *q != '\''; q++) *q = '*';
        } else {
            for (; *q && *q != ' '; q++) *q = '*';
        }
    }
    return out;
}

ia_store *ia_store_open(const char *spec, ia_err *err) {
    if (ia_store_spec_is_pg(spec)) return ia_store_pg_open(spec, err);
    return ia_store_sqlite_open(spec, err);
}

const char *ia_store_backend(const ia_store *s) { return s ? s->ops->name : NULL; }

void ia_store_close(ia_store *s) {
    if (s) s->ops->close(s);
}

void ia_store_set_instance(ia_store *s, const char *instance) {
    if (s && s->ops->set_instance) s->ops->set_instance(s, instance);
}

int ia_store_put(ia_store *s, const ia_interaction *it, ia_err *err) { return s->ops->put(s, it, err); }

int ia_store_finish(ia_store *s, const ia_interaction *it, const ia_event *evs, size_t n, ia_err *err) {
    return s->ops->finish(s, it, evs, n, err);
}

int ia_store_append_events(ia_store *s, const char *id, const ia_event *evs, size_t n, ia_err *err) {
    return s->ops->append_events(s, id, evs, n, err);
}

int ia_store_last_seq(ia_store *s, const char *id, int64_t *out, ia_err *err) {
    return s->ops->last_seq(s, id, out, err);
}

int ia_store_get(ia_store *s, const char *id, const char *owner, int64_t now, ia_interaction *out,
                 ia_err *err) {
    return s->ops->get(s, id, owner, now, out, err);
}

int ia_store_delete(ia_store *s, const char *id, const char *owner, ia_err *err) {
    return s->ops->del(s, id, owner, err);
}

int ia_store_events(ia_store *s, const char *id, int64_t after_seq, ia_event **out, size_t *n,
                    ia_err *err) {
    return s->ops->events(s, id, after_seq, out, n, err);
}

int ia_store_recover(ia_store *s, int64_t now, const char *message, ia_err *err) {
    return s->ops->recover(s, now, message, err);
}

int ia_store_sweep(ia_store *s, int64_t now, ia_err *err) { return s->ops->sweep(s, now, err); }

int ia_store_tokens_put(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                        const int32_t *toks, size_t n, ia_err *err) {
    return s->ops->tokens_put(s, owner, vocab, hash, id, toks, n, err);
}

int ia_store_tokens_get(ia_store *s, const char *owner, const char *vocab, const char *hash, const char *id,
                        int32_t **out, size_t *n, ia_err *err) {
    return s->ops->tokens_get(s, owner, vocab, hash, id, out, n, err);
}

int ia_store_meta_get(ia_store *s, const char *key, char **out, ia_err *err) {
    return s->ops->meta_get(s, key, out, err);
}

int ia_store_meta_put(ia_store *s, const char *key, const char *value, ia_err *err) {
    return s->ops->meta_put(s, key, value, err);
}

int ia_store_file_insert(ia_store *s, const ia_file *f, int64_t now, char old_blob[48], ia_err *err) {
    return s->ops->file_insert(s, f, now, old_blob, err);
}

int ia_store_file_update(ia_store *s, const ia_file *f, ia_err *err) {
    return s->ops->file_update(s, f, err);
}

int ia_store_file_get(ia_store *s, const char *owner, const char *id, int64_t now, ia_file *out,
                      ia_err *err) {
    return s->ops->file_get(s, owner, id, now, out, err);
}

int ia_store_file_by_upload(ia_store *s, const char *owner, const char *upload_id, int64_t now,
                            ia_file *out, ia_err *err) {
    return s->ops->file_by_upload(s, owner, upload_id, now, out, err);
}

int ia_store_file_list(ia_store *s, const char *owner, int64_t now, int64_t after, int limit,
                       ia_file **out, size_t *n, int64_t *next, ia_err *err) {
    return s->ops->file_list(s, owner, now, after, limit, out, n, next, err);
}

int ia_store_list(ia_store *s, const char *owner, int64_t now, int64_t after_created, const char *after_id,
                  int limit, ia_entry **out, size_t *n, int64_t *next_created, char next_id[80],
                  ia_err *err) {
    return s->ops->list(s, owner, now, after_created, after_id, limit, out, n, next_created, next_id, err);
}

int ia_store_file_delete(ia_store *s, const char *owner, const char *key, bool by_upload, int64_t now,
                         char blob[48], ia_err *err) {
    return s->ops->file_delete(s, owner, key, by_upload, now, blob, err);
}

int ia_store_file_usage(ia_store *s, const char *owner, int64_t now, const char *except, int64_t *out,
                        ia_err *err) {
    return s->ops->file_usage(s, owner, now, except, out, err);
}

int ia_store_file_sweep(ia_store *s, int64_t now, char ***blobs, size_t *n, ia_err *err) {
    return s->ops->file_sweep(s, now, blobs, n, err);
}

int ia_store_file_blob_known(ia_store *s, const char *blob, bool *known, ia_err *err) {
    return s->ops->file_blob_known(s, blob, known, err);
}

bool ia_store_shared(const ia_store *s) { return s && s->ops->lease_renew; }

void ia_store_set_lease(ia_store *s, int64_t lease_ms) {
    if (s && s->ops->set_lease) s->ops->set_lease(s, lease_ms);
}

int ia_store_lease_renew(ia_store *s, char *const *live, size_t n, char ***cancel, size_t *n_cancel,
                         char ***lost, size_t *n_lost, ia_err *err) {
    *cancel = *lost = NULL;
    *n_cancel = *n_lost = 0;
    return s->ops->lease_renew ? s->ops->lease_renew(s, live, n, cancel, n_cancel, lost, n_lost, err) : 0;
}

int ia_store_takeover(ia_store *s, char *const *live, size_t n, int64_t now, const char *message, ia_err *err) {
    return s->ops->takeover ? s->ops->takeover(s, live, n, now, message, err) : 0;
}

int ia_store_cancel_request(ia_store *s, const char *id, const char *owner, int64_t now, bool *pending,
                            ia_err *err) {
    *pending = false;
    return s->ops->cancel_request ? s->ops->cancel_request(s, id, owner, now, pending, err) : 0;
}

int ia_store_listen(ia_store *s, int timeout_ms, char ***ids, size_t *n, bool *events) {
    *ids = NULL;
    *n = 0;
    *events = false;
    return s->ops->listen ? s->ops->listen(s, timeout_ms, ids, n, events) : 0;
}

void ia_store_ids_free(char **ids, size_t n) {
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

/* ---- shared by the backends ------------------------------------------------ */

static const char *const event_kind_names[] = {
    [IA_EV_START] = "start",
    [IA_EV_STATUS] = "status",
    [IA_EV_CONTENT_START] = "content_start",
    [IA_EV_CONTENT_DELTA] = "content_delta",
    [IA_EV_CONTENT_STOP] = "content_stop",
    [IA_EV_COMPLETE] = "complete",
    [IA_EV_ERROR] = "error",
};
#define N_EVENT_KINDS ((int)(sizeof event_kind_names / sizeof event_kind_names[0]))

const char *ia_store_event_kind_name(ia_event_kind k) {
    return (int)k >= 0 && (int)k < N_EVENT_KINDS ? event_kind_names[k] : NULL;
}

int ia_store_event_kind_parse(const char *s) {
    for (int i = 0; s && i < N_EVENT_KINDS; i++)
        if (event_kind_names[i] && strcmp(event_kind_names[i], s) == 0) return i;
    return -1;
}

char *ia_store_recovered_output(const ia_event *evs, size_t n) {
    ia_turn out = {0};
    ia_events_fold(evs, n, &out);
    /* a text cut mid-character by the crash must not stop the start-up */
    for (size_t i = 0; i < out.n; i++) {
        char *t = out.items[i].text;
        if (t && !ia_utf8_valid(t, strlen(t))) {
            out.items[i].text = ia_utf8_sanitize(t, strlen(t));
            free(t);
        }
    }
    char *json = out.n ? ia_codec_turn_encode(&out) : NULL;
    ia_turn_free(&out);
    return json;
}
