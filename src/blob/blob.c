/* Picks the blob backend from a URL, and the key rules; see blob.h. */
#include "blob/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/config.h"
#include "base/fsutil.h"
#include "blob/backends.h"

#define BLOB_KEY_MAX 1024
#define BLOB_SEGMENT_MAX 255
#define BLOB_PUT_CHUNK (64 * 1024)

bool blob_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > BLOB_KEY_MAX)
		return false;
	const char *seg = key;
	for (const char *p = key;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - seg);
			/* No empty, "." or ".." segment, nor hidden names (.tmp is ours);
			 * a segment must fit a file name (NAME_MAX). */
			if (len == 0 || seg[0] == '.' || len > BLOB_SEGMENT_MAX)
				return false;
			if (*p == '\0')
				return true;
			seg = p + 1;
			continue;
		}
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
}

enum blob_rc blob_put(struct blob_store *bs, const char *key, blob_read_fn read, void *ctx,
		      struct blob_info *out, struct error *e)
{
	struct blob_writer *w = blob_writer_open(bs, key, e);
	if (!w)
		return BLOB_ERROR;
	char *chunk = xmalloc(BLOB_PUT_CHUNK);
	enum blob_rc rc = BLOB_OK;
	for (;;) {
		ssize_t n = read(ctx, chunk, BLOB_PUT_CHUNK);
		if (n < 0) {
			error_set(e, "the source of %s failed", key);
			rc = BLOB_ERROR;
			break;
		}
		if (n == 0 || (rc = blob_writer_write(w, chunk, (size_t)n, e)) != BLOB_OK)
			break;
	}
	free(chunk);
	if (rc != BLOB_OK) {
		blob_writer_abort(w);
		return rc;
	}
	return blob_writer_commit(w, out, e);
}

enum blob_rc blob_put_file(struct blob_store *bs, const char *key, int fd,
			   struct blob_info *out, struct error *e)
{
	if (!bs->ops->writer_copy_fd)
		return blob_put(bs, key, blob_read_fd, &fd, out, e);
	struct blob_writer *w = blob_writer_open(bs, key, e);
	if (!w)
		return BLOB_ERROR;
	enum blob_rc rc = bs->ops->writer_copy_fd(w, fd, e);
	if (rc != BLOB_OK) {
		blob_writer_abort(w);
		return rc;
	}
	return blob_writer_commit(w, out, e);
}

struct blob_store *blob_open_with(const char *url, const struct blob_options *opts,
				  struct error *e)
{
	if (strncmp(url, "file:", 5) == 0) {
		const char *path = url + 5;
		if (strncmp(path, "//", 2) == 0)
			path += 2;
		return blob_fs_open(path, e);
	}
	if (strncmp(url, "s3://", 5) == 0)
		return blob_s3_open(url + 5, opts, e);
	error_set(e, "unsupported storage URL \"%.100s\" (accepts file:PATH or s3://BUCKET?...)",
		  url);
	return NULL;
}

struct blob_store *blob_open(const char *url, struct error *e)
{
	return blob_open_with(url, NULL, e);
}

struct blob_options blob_options_from_config(const struct config *cfg)
{
	struct blob_options o = {
		.s3_access_key = cfg->s3_access_key,
		.s3_secret_key = cfg->s3_secret_key,
		.s3_part_size = (uint64_t)cfg->s3_part_size,
		.s3_attempts = (int)cfg->s3_retries + 1,
		.s3_timeout_ms = (int)cfg->s3_timeout * 1000,
	};
	return o;
}

void blob_close(struct blob_store *bs)
{
	if (bs)
		bs->ops->close(bs);
}

ssize_t blob_read_fd(void *ctx, void *buf, size_t size)
{
	return fs_read(*(int *)ctx, buf, size);
}

int blob_write_fd(void *ctx, const void *buf, size_t size)
{
	return fs_write_all(*(int *)ctx, buf, size);
}

enum blob_rc blob_adopt(struct blob_store *bs, const char *key, const char *path, bool *moved,
			struct error *e)
{
	*moved = false;
	if (bs->ops->adopt && bs->ops->adopt(bs, key, path, NULL) == BLOB_OK) {
		*moved = true;
		return BLOB_OK;
	}
	/* No files, another file system, or a failed move: copy instead. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_set(e, "opening %s: %s", path, strerror(errno));
		return BLOB_ERROR;
	}
	enum blob_rc rc = blob_put(bs, key, blob_read_fd, &fd, NULL, e);
	close(fd);
	return rc;
}
