/*
 * Object storage: named byte streams (uploads, dataset files, models).
 *
 * Keys are relative paths of [A-Za-z0-9._-] segments separated by '/'
 * (`uploads/<session>/<file>`), at most 1024 bytes; no segment is empty, longer
 * than 255 bytes or starts with '.'.  Writing is atomic: until a writer's
 * commit returns BLOB_OK no reader sees the object, and an aborted or failed
 * write leaves nothing behind under the key (a crash may leave invisible
 * temporaries, which the backend cleans up).  Bytes are streamed, so memory
 * use does not grow with object size.
 *
 * Backends fill struct blob_ops: the local directory (blob/fs.c) is the
 * embedded default; any S3 API (blob/s3.c) is the shared one for many nodes.
 */
#ifndef SHEAF_BLOB_BLOB_H
#define SHEAF_BLOB_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

enum blob_rc { BLOB_OK = 0, BLOB_NOT_FOUND = 1, BLOB_ERROR = -1 };

struct blob_info {
	uint64_t size;
	int64_t mtime_ms;
};

/* Supplies the next bytes of a put: returns a count, 0 at the end, -1 to abort. */
typedef ssize_t (*blob_read_fn)(void *ctx, void *buf, size_t size);
/* Receives bytes of a get: returns 0 to go on, -1 to stop (the get then fails). */
typedef int (*blob_write_fn)(void *ctx, const void *buf, size_t size);
/* Receives one listed object: returns 0 to go on, non-zero to stop listing. */
typedef int (*blob_list_fn)(void *ctx, const char *key, const struct blob_info *info);

struct blob_store;

/* An object being written: opened, written to in pieces, then committed
 * (made durable and visible) or aborted.  Used by one thread at a time. */
struct blob_writer {
	struct blob_store *bs;
};

struct blob_ops {
	const char *name;
	void (*close)(struct blob_store *bs);
	/* Proves the store can take a write now (creates, writes and removes a probe). */
	enum blob_rc (*check)(struct blob_store *bs, struct error *e);
	/* Starts an object under key (replacing any old one at commit); NULL with e set. */
	struct blob_writer *(*writer_open)(struct blob_store *bs, const char *key,
					   struct error *e);
	enum blob_rc (*writer_write)(struct blob_writer *w, const void *p, size_t n,
				     struct error *e);
	/* Optional: writes the rest of the file open at fd (from its offset to
	 * its end), letting the kernel copy where it can. */
	enum blob_rc (*writer_copy_fd)(struct blob_writer *w, int fd, struct error *e);
	/* Makes the object durable, then visible; frees w whatever the outcome. */
	enum blob_rc (*writer_commit)(struct blob_writer *w, struct blob_info *out,
				      struct error *e);
	/* Discards what was written; frees w. */
	void (*writer_abort)(struct blob_writer *w);
	/* Streams length bytes from offset (length 0: to the end). */
	enum blob_rc (*get)(struct blob_store *bs, const char *key, uint64_t offset,
			    uint64_t length, blob_write_fn write, void *ctx, struct error *e);
	enum blob_rc (*stat)(struct blob_store *bs, const char *key, struct blob_info *out,
			     struct error *e);
	enum blob_rc (*remove)(struct blob_store *bs, const char *key, struct error *e);
	/* Optional (NULL when the backend has no files): opens the object for
	 * reading as a file descriptor (caller closes), so it can be sent with
	 * sendfile and keeps reading even if the object is removed meanwhile. */
	enum blob_rc (*open_fd)(struct blob_store *bs, const char *key, int *fd,
				struct blob_info *out, struct error *e);
	/* Calls fn for every object whose key starts with prefix (any order; an
	 * object written or removed meanwhile may or may not be seen). */
	enum blob_rc (*list)(struct blob_store *bs, const char *prefix, blob_list_fn fn,
			     void *ctx, struct error *e);
	/* Optional: the path of the object's file, for readers that need one
	 * (SQLite opens dataset files by name).  Objects are never rewritten in
	 * place, so the file stays what it was until the object is removed.
	 * -1 when the path does not fit in cap. */
	int (*local_path)(struct blob_store *bs, const char *key, char *out, size_t cap);
	/* Optional: makes the local file at path the object key, durably, by
	 * moving it (no copy); the file is gone from path afterwards. */
	enum blob_rc (*adopt)(struct blob_store *bs, const char *key, const char *path,
			      struct error *e);
};

struct blob_store {
	const struct blob_ops *ops;
};

/* What a backend needs besides its URL; zero fields take the defaults. */
struct blob_options {
	const char *s3_access_key;   /* required for s3:// (copied) */
	const char *s3_secret_key;   /* required for s3:// (copied, wiped at close) */
	uint64_t s3_part_size;       /* bytes per part: 0 = 8 MiB; 5 MiB to 1 GiB */
	int s3_attempts;             /* tries per request: 0 = 5; 1 = no retries */
	int s3_timeout_ms;           /* to connect, and longest stall: 0 = 30 s */
	int s3_list_page;            /* keys per ListObjectsV2 request: 0 = 1000 */
};

/*
 * Opens the store named by url: "file:PATH", or
 * "s3://BUCKET?endpoint=URL&region=REGION&style=path|virtual" (all three
 * parameters optional; see blob/s3.c).  NULL with e set on failure.  opts may
 * be NULL (then s3:// fails for want of keys); it is not kept.
 */
struct blob_store *blob_open_with(const char *url, const struct blob_options *opts,
				  struct error *e);
/* blob_open_with(url, NULL, e). */
struct blob_store *blob_open(const char *url, struct error *e);
struct config;
/* The options cfg's settings describe (SHEAF_S3_*); its strings stay cfg's. */
struct blob_options blob_options_from_config(const struct config *cfg);
void blob_close(struct blob_store *bs);   /* NULL is fine */

/* Whether key is acceptable to every backend. */
bool blob_key_valid(const char *key);

static inline enum blob_rc blob_check(struct blob_store *bs, struct error *e)
{
	return bs->ops->check(bs, e);
}

/* Whether objects are local files (see blob_local_path). */
static inline bool blob_has_local_paths(const struct blob_store *bs)
{
	return bs->ops->local_path != NULL;
}

/* The object's file: 0, or -1 when the backend has no files or the path is
 * too long. */
static inline int blob_local_path(struct blob_store *bs, const char *key, char *out, size_t cap)
{
	return bs->ops->local_path ? bs->ops->local_path(bs, key, out, cap) : -1;
}

/* Stores the local file at path as object key: moved when the backend has
 * files on the same file system (*moved true: path is gone), else copied
 * (*moved false: path is left for the caller). */
enum blob_rc blob_adopt(struct blob_store *bs, const char *key, const char *path, bool *moved,
			struct error *e);

/* Stock callbacks for put and get: ctx points at an int file descriptor. */
ssize_t blob_read_fd(void *ctx, void *buf, size_t size);
int blob_write_fd(void *ctx, const void *buf, size_t size);

/* Writes a whole object from read (a writer, opened, filled and committed). */
enum blob_rc blob_put(struct blob_store *bs, const char *key, blob_read_fn read, void *ctx,
		      struct blob_info *out, struct error *e);

/* The same from the file open at fd, from its offset to its end: a copy in
 * the kernel (copy_file_range) where the backend has files. */
enum blob_rc blob_put_file(struct blob_store *bs, const char *key, int fd,
			   struct blob_info *out, struct error *e);

static inline struct blob_writer *blob_writer_open(struct blob_store *bs, const char *key,
						   struct error *e)
{
	return bs->ops->writer_open(bs, key, e);
}

static inline enum blob_rc blob_writer_write(struct blob_writer *w, const void *p, size_t n,
					     struct error *e)
{
	return w->bs->ops->writer_write(w, p, n, e);
}

static inline enum blob_rc blob_writer_commit(struct blob_writer *w, struct blob_info *out,
					      struct error *e)
{
	return w->bs->ops->writer_commit(w, out, e);
}

static inline void blob_writer_abort(struct blob_writer *w)
{
	if (w)
		w->bs->ops->writer_abort(w);
}

/* BLOB_ERROR without touching e when the backend has no files to open. */
static inline enum blob_rc blob_open_fd(struct blob_store *bs, const char *key, int *fd,
					struct blob_info *out, struct error *e)
{
	return bs->ops->open_fd ? bs->ops->open_fd(bs, key, fd, out, e) : BLOB_ERROR;
}

static inline enum blob_rc blob_list(struct blob_store *bs, const char *prefix, blob_list_fn fn,
				     void *ctx, struct error *e)
{
	return bs->ops->list(bs, prefix, fn, ctx, e);
}

static inline enum blob_rc blob_get(struct blob_store *bs, const char *key, uint64_t offset,
				    uint64_t length, blob_write_fn write, void *ctx,
				    struct error *e)
{
	return bs->ops->get(bs, key, offset, length, write, ctx, e);
}

static inline enum blob_rc blob_stat(struct blob_store *bs, const char *key,
				     struct blob_info *out, struct error *e)
{
	return bs->ops->stat(bs, key, out, e);
}

static inline enum blob_rc blob_remove(struct blob_store *bs, const char *key, struct error *e)
{
	return bs->ops->remove(bs, key, e);
}

#endif
