/* metrics: the body of GET /metrics in Prometheus' text exposition format
 * (version 0.0.4, as llama-server's /metrics), for operators and benchmarks.
 * Every served model's engine counters (ia_engine_get_stats) and its layout
 * (parallel sequences, contexts, threads, context size) become one sample
 * each, labelled model="NAME". It is not Interactions wire JSON, so it lives
 * here rather than in src/api/. Each family is written once with its HELP
 * and TYPE lines, then one sample per engine, as the format wants a family's
 * samples together. The counters are read under each engine's own lock, one
 * engine at a time: a scrape sees each model consistent with itself. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"

typedef enum { COUNTER, GAUGE } kind;

/* One metric family: its name (counters end in _total), how it is kept, its
 * help text, and where its value is in the engine's stats or layout. */
typedef struct family {
    const char *name;
    kind kind;
    const char *help;
    size_t off; /* offset in ia_engine_stats, or LAYOUT_* below */
} family;

/* Values that are not in ia_engine_stats but in the engine's layout. */
enum { LAYOUT_PARALLEL = 1000, LAYOUT_CONTEXTS, LAYOUT_THREADS, LAYOUT_N_CTX };

#define ST(f) offsetof(ia_engine_stats, f)

/* max_batch_seqs, max_contexts_busy and ram_peak only grow, yet are
 * high-water marks, not counts of events: gauges (rate() of them means
 * nothing). */
static const family FAMILIES[] = {
    {"interactd_jobs_done_total", COUNTER, "Generation jobs finished (any outcome).", ST(jobs_done)},
    {"interactd_tokens_generated_total", COUNTER, "Tokens sampled, end-of-generation tokens included.",
     ST(tokens_generated)},
    {"interactd_prompt_tokens_cached_total", COUNTER,
     "Prompt tokens whose KV was reused from a kept sequence instead of computed.", ST(tokens_cached)},
    {"interactd_decode_steps_total", COUNTER, "llama.cpp decode calls (batches).", ST(steps)},
    {"interactd_jobs_routed_total", COUNTER, "Jobs sent to the context holding their prefix.",
     ST(routed)},
    {"interactd_jobs_fetched_total", COUNTER,
     "Jobs whose prefix a busy context copied into the kept-sequence cache for them.", ST(fetched)},
    {"interactd_sequences_moved_total", COUNTER,
     "Running sequences moved to another context with their KV as the layout followed the load.", ST(moved)},
    {"interactd_layout_changes_total", COUNTER,
     "Switches between sequences split across the contexts and one batch in one context.",
     ST(layout_changes)},
    {"interactd_layout_one_batch", GAUGE, "1 while every sequence runs as one batch in one context.",
     ST(one_batch)},
    {"interactd_contexts_busy", GAUGE, "Contexts running jobs now.", ST(contexts_busy)},
    {"interactd_jobs_queued", GAUGE, "Jobs waiting for a free sequence.", ST(queued)},
    {"interactd_jobs_running", GAUGE, "Jobs generating now.", ST(running)},
    {"interactd_max_batch_seqs", GAUGE, "Most sequences one decode step has held.",
     ST(max_batch_seqs)},
    {"interactd_max_contexts_busy", GAUGE, "Most contexts running jobs at once.",
     ST(max_contexts_busy)},
    {"interactd_kvcache_ram_bytes", GAUGE, "Bytes of kept sequences held in RAM.", ST(ram_bytes)},
    {"interactd_kvcache_ram_budget_bytes", GAUGE, "RAM budget for kept sequences.", ST(ram_budget)},
    {"interactd_kvcache_ram_peak_bytes", GAUGE, "Most bytes of kept sequences held in RAM at once.",
     ST(ram_peak)},
    {"interactd_kvcache_ram_entries", GAUGE, "Kept sequences held in RAM.", ST(ram_entries)},
    {"interactd_kvcache_disk_bytes", GAUGE, "Bytes of kept sequences saved on disk.", ST(disk_bytes)},
    {"interactd_kvcache_disk_budget_bytes", GAUGE, "Disk budget for kept sequences.",
     ST(disk_budget)},
    {"interactd_kvcache_disk_entries", GAUGE, "Kept sequences saved on disk.", ST(disk_entries)},
    {"interactd_kvcache_saved_total", COUNTER, "Kept sequences written to disk.", ST(saved)},
    {"interactd_kvcache_restored_total", COUNTER, "Kept sequences loaded back into a context.",
     ST(restored)},
    {"interactd_kvcache_evicted_to_disk_total", COUNTER,
     "Kept sequences moved from RAM to disk past the RAM budget.", ST(evicted_to_disk)},
    {"interactd_parallel", GAUGE, "Jobs that run at once (sequences).", LAYOUT_PARALLEL},
    {"interactd_contexts", GAUGE, "llama.cpp contexts sharing the model's weights.", LAYOUT_CONTEXTS},
    {"interactd_threads", GAUGE, "Threads per context.", LAYOUT_THREADS},
    {"interactd_n_ctx", GAUGE, "Context size in tokens each job gets.", LAYOUT_N_CTX},
};
#define N_FAMILIES (sizeof FAMILIES / sizeof FAMILIES[0])

static int64_t value(const family *f, const ia_engine *e, const ia_engine_stats *st) {
    switch (f->off) {
    case LAYOUT_PARALLEL: return ia_engine_parallel(e);
    case LAYOUT_CONTEXTS: return ia_engine_contexts(e);
    case LAYOUT_THREADS: return ia_engine_threads(e);
    case LAYOUT_N_CTX: return ia_engine_n_ctx(e);
    default: {
        int64_t v;
        memcpy(&v, (const char *)st + f->off, sizeof v);
        return v;
    }
    }
}

/* A label value as the format wants it: backslash, double quote and newline
 * escaped (a model name is the operator's choice and may hold any of them). */
static void put_label(ia_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\') ia_buf_puts(b, "\\\\");
        else if (*s == '"') ia_buf_puts(b, "\\\"");
        else if (*s == '\n') ia_buf_puts(b, "\\n");
        else ia_buf_append(b, s, 1);
    }
}

char *ia_http_metrics_text(ia_core *core) {
    size_t n = core ? ia_core_n_engines(core) : 0;
    ia_engine_stats *st = ia_xcalloc(n ? n : 1, sizeof *st);
    for (size_t i = 0; i < n; i++) ia_engine_get_stats(ia_core_engine(core, i), &st[i]);
    ia_buf b;
    ia_buf_init(&b, 0);
    for (size_t k = 0; k < N_FAMILIES; k++) {
        const family *f = &FAMILIES[k];
        ia_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                      f->kind == COUNTER ? "counter" : "gauge");
        for (size_t i = 0; i < n; i++) {
            const ia_engine *e = ia_core_engine(core, i);
            ia_buf_printf(&b, "%s{model=\"", f->name);
            put_label(&b, ia_engine_name(e));
            ia_buf_printf(&b, "\"} %lld\n", (long long)value(f, e, &st[i]));
        }
    }
    free(st);
    return ia_buf_take(&b);
}
