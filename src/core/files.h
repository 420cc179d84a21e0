/* files: the Files API service — uploads, their bytes on disk, the check
 * that makes a file ACTIVE or FAILED, quotas and expiry. It knows neither
 * HTTP nor the wire JSON: http/upload.c drives the resumable protocol
 * through it, api/files.c writes what it returns.
 *
 * Bytes: each file is one blob under `dir` (DATA/files/), named by 32
 * random hex digits (never by anything a client sent), written as the body
 * arrives, piece by piece: nothing holds a file in memory. An upload's
 * bytes received are the blob's length, so an upload interrupted mid-chunk
 * (even by a crash) resumes from what reached the disk.
 *
 * An upload: start (a row in state UPLOADING and an empty blob) → writers,
 * one at a time, each appending a chunk from an offset no later than the
 * bytes received (an earlier offset drops what lies past it, so a chunk may
 * be sent again) → finalize: the file goes PROCESSING, one pass over the
 * blob computes its SHA-256 and runs the content check (core/filecheck.h),
 * and it ends ACTIVE, or FAILED with the reason; all before finalize
 * returns.
 *
 * Limits: a file is at most max_file_size bytes (IA_ETOOLARGE, 413); the
 * bytes one owner holds (files and uploads, an upload counted at the larger
 * of its announced and received sizes) at most quota (IA_ETOOLARGE too: a
 * retry does not fix it, deleting files does). Files expire ttl_s after
 * their upload started; ia_files_sweep (called by core's sweeper) deletes
 * expired rows and their blobs; until then they are invisible.
 *
 * Isolation: every call takes the caller's owner; another owner's file or
 * upload is reported as missing (IA_ENOTFOUND), as for interactions.
 *
 * Threads: every function may be called from any thread. A writer belongs
 * to the thread that opened it until it is closed. */
#ifndef IA_CORE_FILES_H
#define IA_CORE_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "model/types.h"
#include "lib/err.h"
#include "store/store.h"

typedef struct ia_files ia_files;

#define IA_FILES_DEFAULT_MAX ((int64_t)2 << 30)    /* 2 GiB a file, as Google's */
#define IA_FILES_DEFAULT_QUOTA ((int64_t)20 << 30) /* 20 GiB a key, as Google's */
#define IA_FILES_DEFAULT_TTL ((int64_t)48 * 3600)  /* 48 h, as Google's */

typedef struct ia_files_opts {
    ia_store *store;        /* borrowed; outlives the service */
    const char *dir;        /* the blobs' folder (created); DATA/files */
    int64_t max_file_size;  /* 0 = IA_FILES_DEFAULT_MAX */
    int64_t quota;          /* per owner; 0 = IA_FILES_DEFAULT_QUOTA */
    int64_t ttl_s;          /* 0 = IA_FILES_DEFAULT_TTL */
} ia_files_opts;

/* Creates dir if needed and removes blobs no row names (a crash between a
 * row's delete and its blob's). NULL + err when dir cannot be made. */
ia_files *ia_files_new(const ia_files_opts *o, ia_err *err);
void ia_files_free(ia_files *f); /* NULL is a no-op */
int64_t ia_files_max_size(const ia_files *f);
int64_t ia_files_quota(const ia_files *f);

/* true when id is a file id the API allows: 1..40 of [a-z0-9-], neither
 * first nor last a dash. */
bool ia_file_id_valid(const char *id);
/* The file id a Files API URI names ("files/abc", or a full URL whose path
 * is /vN.../files/abc): 0, or -1 when uri is not one. */
int ia_files_uri_id(const char *uri, char id[IA_FILE_ID_MAX]);

/* What a start asks for. */
typedef struct ia_file_start {
    const char *id;           /* the client's id (valid), or NULL: one is made */
    const char *display_name; /* or NULL */
    const char *mime_type;    /* required */
    int64_t size;             /* announced bytes; -1 when not announced */
} ia_file_start;

/* Starts an upload. Errors: a mime type the API does not take (IA_EINVALID
 * naming the accepted ones), size 0 (IA_EINVALID), size over the limit or
 * the quota (IA_ETOOLARGE), an id already taken (IA_EINVALID). *out: the
 * upload (its upload_id goes into the upload URL). */
int ia_files_start(ia_files *f, const char *owner, const ia_file_start *s, ia_file *out, ia_err *err);

/* The upload of upload_id as it stands (any state; size: bytes received). */
int ia_files_upload(ia_files *f, const char *owner, const char *upload_id, ia_file *out, ia_err *err);

typedef struct ia_files_writer ia_files_writer;
/* Opens upload_id to append `length` bytes (-1: not known) from offset.
 * Errors: no such upload (IA_ENOTFOUND); already finalized (IA_EINVALID);
 * another writer open on it (IA_ECONFLICT, retry); offset past the bytes
 * received, or the chunk ending past the announced size (IA_EINVALID);
 * past the limit or the quota (IA_ETOOLARGE). */
int ia_files_write_open(ia_files *f, const char *owner, const char *upload_id, int64_t offset,
                        int64_t length, ia_files_writer **w, ia_err *err);
/* Appends n bytes. -1 when they pass the announced size (IA_EINVALID), the
 * limit or the quota (IA_ETOOLARGE), or the disk fails (IA_EINTERNAL); the
 * writer is then spent (close it). */
int ia_files_write(ia_files_writer *w, const void *p, size_t n, ia_err *err);
/* Closes w (always freed), recording the bytes received. finalize: the
 * upload is then checked (see above) and *out is the file, ACTIVE or
 * FAILED; without it *out is the upload still UPLOADING. A finalize when
 * fewer bytes than announced arrived is IA_EINVALID (the upload stays
 * open). out may be NULL. */
int ia_files_write_close(ia_files_writer *w, bool finalize, ia_file *out, ia_err *err);
/* Finalize with no bytes: open + close. On an upload already finalized, its
 * file as it is (a repeated finalize is harmless). */
int ia_files_finalize(ia_files *f, const char *owner, const char *upload_id, ia_file *out, ia_err *err);
/* Cancels an unfinished upload: row and blob go. */
int ia_files_cancel(ia_files *f, const char *owner, const char *upload_id, ia_err *err);

/* A file by id (not an upload in progress). */
int ia_files_get(ia_files *f, const char *owner, const char *id, ia_file *out, ia_err *err);
/* An ACTIVE file's bytes, read whole (malloc'd) with its row in meta (the
 * caller frees both); an error naming the file when it is missing, not
 * ACTIVE, or over max bytes (0 = no limit). */
int ia_files_read(ia_files *f, const char *owner, const char *id, int64_t max, ia_file *meta, unsigned char **data,
                  size_t *len, ia_err *err);
/* A page of files, newest first; after is the cursor of the previous page
 * (0: the first); *next the cursor of the next one (0: this is the last). */
int ia_files_list(ia_files *f, const char *owner, int64_t after, int limit, ia_file **out, size_t *n,
                  int64_t *next, ia_err *err);
void ia_files_list_free(ia_file *files, size_t n);
/* Deletes a file and its blob. */
int ia_files_delete(ia_files *f, const char *owner, const char *id, ia_err *err);
/* Deletes expired files and uploads with their blobs; logs; returns how many. */
int ia_files_sweep(ia_files *f, int64_t now);

#endif
