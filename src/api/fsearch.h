/* api/fsearch: the file search stores' wire JSON — Google's classic REST
 * shape as SDK 1.52.0's fileSearchStores / documents / operations drive it
 * (camelCase, int64 values as strings, errors as the Files API's, the last
 * page without nextPageToken). Decoders refuse an unknown field or a wrong
 * type with IA_EINVALID naming the field path. */
#ifndef IA_API_FSEARCH_H
#define IA_API_FSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "model/fsearch.h"

/* fileSearchStores.create: {displayName?, embeddingModel?}. Out strings
 * malloc'd or NULL. An empty body is {}. */
int ia_api_fs_decode_create(const char *body, size_t len, char **display_name, char **embedding_model,
                            ia_err *err);

/* What uploadToFileSearchStore's start body ({mimeType?, displayName?,
 * customMetadata?, chunkingConfig?}) and importFile's ({fileName,
 * customMetadata?, chunkingConfig?}) carry. */
typedef struct ia_api_fs_add {
    char *display_name, *mime_type;
    char *file_id;      /* importFile: fileName without "files/" */
    ia_fs_meta *meta;
    size_t n_meta;
    ia_fs_chunking chunking;
} ia_api_fs_add;
/* import: the importFile body (fileName required); else the upload's. */
int ia_api_fs_decode_add(const char *body, size_t len, bool import, ia_api_fs_add *out, ia_err *err);
void ia_api_fs_add_free(ia_api_fs_add *a);

/* The FileSearchStore resource; a list page {fileSearchStores, nextPageToken?}
 * (the token from ia_api_files_page_token when next > 0). */
char *ia_api_fs_encode_store(const ia_fs_store *s);
char *ia_api_fs_encode_stores(const ia_fs_store *s, size_t n, int64_t next);
/* The Document resource; a list page {documents, nextPageToken?}. */
char *ia_api_fs_encode_doc(const ia_fs_doc *d);
char *ia_api_fs_encode_docs(const ia_fs_doc *d, size_t n, int64_t next);
/* The Operation of a document's ingestion: name
 * "fileSearchStores/S/operations/D" (upload: ".../upload/operations/D"),
 * done once the document left PENDING, then response {@type?, parent,
 * documentName} or, FAILED, error {code: 3, message}. */
char *ia_api_fs_encode_op(const ia_fs_doc *d, bool upload);

#endif
