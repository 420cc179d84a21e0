/* fs_filter: file_search's metadata_filter — the AIP-160 filter syntax
 * Google documents for file search, over a document's customMetadata.
 *
 * Grammar (a subset of AIP-160; keywords in capitals, as AIP-160 wants):
 *   expr    := and { OR and }
 *   and     := unary { AND unary }       (AND binds tighter than OR)
 *   unary   := [NOT | '-'] primary
 *   primary := '(' expr ')' | KEY OP VALUE
 *   OP      := = | != | < | <= | > | >= | :   (':' is "has": as '=')
 *   KEY     := letters, digits, '_', '.', '-' (not starting with '-')
 *   VALUE   := "string" (with \" and \\) | number | bare word (a string)
 * Meaning: a string entry compares as text (= and != only; ordering on
 * strings is refused at parse time when the value is a string), a numeric
 * entry as a number, a string list entry matches = when any element is
 * equal. A comparison on a key the document lacks, or of a number with a
 * string, is false. At most 64 nodes and 4 KiB of text.
 * Pure; a parsed filter is read-only and may be shared across threads. */
#ifndef IA_CORE_FS_FILTER_H
#define IA_CORE_FS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"
#include "model/fsearch.h"

typedef struct ia_fs_filter ia_fs_filter;

/* Parses text; -1 with err (IA_EINVALID, message starting with field and
 * saying where and what was expected). An empty text gives NULL (no filter)
 * and 0. */
int ia_fs_filter_parse(const char *text, const char *field, ia_fs_filter **out, ia_err *err);
/* true when meta[0..n) passes f (NULL: everything passes). */
bool ia_fs_filter_match(const ia_fs_filter *f, const ia_fs_meta *meta, size_t n);
void ia_fs_filter_free(ia_fs_filter *f);

#endif
