/* kvcache: the engine's store of kept sequences outside the llama.cpp
 * context. An entry is a token prefix and the KV state of a sequence that
 * held exactly those tokens (llama_state_seq_get_data), kept in RAM under a
 * byte budget, and on disk under cache_dir past it (least recently used
 * first) or at shutdown. A later job whose prompt starts with (part of) an
 * entry's tokens restores it into its sequence and prefills only the rest;
 * the disk entries are found again after a restart (the files carry the
 * tokens and a fingerprint of the model, so another model's files are
 * ignored). An entry that is a prefix of a newer one is dropped: the newer
 * one serves both. Engine thread only; no locking (the stats are copied out
 * under the engine's mutex by the caller). */
#ifndef IA_ENGINE_KVCACHE_H
#define IA_ENGINE_KVCACHE_H

#include <llama.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ia_kvc ia_kvc;
typedef struct ia_kvc_entry ia_kvc_entry;

typedef struct ia_kvc_stats {
    int64_t ram_bytes, ram_budget, ram_peak, ram_entries;
    int64_t disk_bytes, disk_budget, disk_entries;
    int64_t saved, restored, evicted_to_disk;
} ia_kvc_stats;

/* dir: NULL = RAM only (created if missing); ram_budget < 0 = no RAM tier;
 * fingerprint: identifies the model (files with another are ignored);
 * streams: the contexts' KV layout, as ia_seqstate_get takes it. */
ia_kvc *ia_kvc_new(const char *dir, int64_t ram_budget, int64_t disk_budget, const char *fingerprint, bool streams);
/* Writes the RAM entries not yet on disk to disk (when there is a dir), frees. */
void ia_kvc_free(ia_kvc *c);

/* Keeps sequence seq of ctx, whose KV holds toks[0..n). No-op when an entry
 * already covers toks (equal, or toks is its prefix). */
void ia_kvc_save(ia_kvc *c, struct llama_context *ctx, int seq, const llama_token *toks, int n);
/* The entry sharing the longest prefix with toks[0..n) among entries of at
 * most max_tokens tokens; returns that prefix length (0: *best = NULL). */
int ia_kvc_match(ia_kvc *c, const llama_token *toks, int n, int max_tokens, ia_kvc_entry **best);
/* Loads entry en into sequence seq (which the caller emptied). Returns the
 * entry's token count and sets *toks to them (owned by the entry, valid
 * until the next call into the cache), or -1 (a broken or vanished file:
 * the entry is dropped). */
int ia_kvc_restore(ia_kvc *c, ia_kvc_entry *en, struct llama_context *ctx, int seq, const llama_token **toks);
void ia_kvc_get_stats(const ia_kvc *c, ia_kvc_stats *st);
/* Whether saving keeps anything (a RAM budget or a folder). */
bool ia_kvc_can_keep(const ia_kvc *c);

/* The common prefix length of two token arrays. */
int ia_kvc_lcp(const llama_token *a, int na, const llama_token *b, int nb);

#endif
