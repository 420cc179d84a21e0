/* bsink: see bsink.h. */
#include "bsink.h"

#include <stdio.h>
#include <string.h>

void bs_init(bsink *s) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    ia_buf_init(&s->text, 0);
}

void bs_free(bsink *s) {
    ia_buf_free(&s->text);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

void bs_start(void *ud, int64_t n) {
    bsink *s = ud;
    (void)n;
    pthread_mutex_lock(&s->mu);
    s->started = true;
    pthread_cond_broadcast(&s->cv);
    while (s->gated && !s->gate_open) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

void bs_wait_started(bsink *s) {
    pthread_mutex_lock(&s->mu);
    while (!s->started && !s->done) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

void bs_open(bsink *s) {
    pthread_mutex_lock(&s->mu);
    s->gate_open = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int bs_item(void *ud, const ia_engine_item *it) {
    bsink *s = ud;
    if (it->kind != IA_ITEM_TEXT || !it->len) return 0;
    ia_buf_append(&s->text, it->delta, it->len);
    /* Set on the first text, so a cancelled job is surely generating. */
    if (s->cancel_on_start) atomic_store(s->cancel_on_start, true);
    return 0;
}

void bs_done(void *ud, const ia_engine_result *res) {
    bsink *s = ud;
    pthread_mutex_lock(&s->mu);
    s->res = *res;
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void bs_wait(bsink *s) {
    pthread_mutex_lock(&s->mu);
    while (!s->done) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

int bs_submit(ia_engine *e, const ia_engine_msg *m, size_t n, const ia_engine_params *p, bsink *s,
                     atomic_bool *cancel) {
    ia_engine_cb cb = {s, bs_start, bs_item, bs_done};
    ia_err err = {0};
    int rc = ia_engine_submit(e, m, n, p, &cb, cancel, &err);
    if (rc != 0) fprintf(stderr, "  submit: %s\n", err.msg);
    return rc;
}

ia_engine *load_ctx(const char *path, const char *name, int parallel, int contexts, bool cold,
                           const char *dir, int64_t ram) {
    ia_engine_global_init(NULL, false);
    ia_engine_opts o = {.name = name, .path = path, .threads = 1, .parallel = parallel, .contexts = contexts,
                        .no_prefix_cache = cold, .cache_dir = dir, .cache_ram_bytes = ram, .max_queue = 16};
    ia_err err = {0};
    ia_engine *e = ia_engine_load(&o, &err);
    if (!e) fprintf(stderr, "  load %s: %s\n", path, err.msg);
    if (e && ia_engine_contexts(e) != (contexts > 0 ? contexts : 1)) {
        fprintf(stderr, "  load %s: %d contexts, not %d\n", path, ia_engine_contexts(e), contexts);
        ia_engine_free(e);
        e = NULL;
    }
    return e;
}

