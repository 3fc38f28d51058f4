/*
 * Local-directory object storage, the embedded default.
 *
 * An object with key K lives at ROOT/K.  A put writes ROOT/.tmp/<random>,
 * fsyncs it, renames it over ROOT/K and fsyncs the directory, so a crash at
 * any point leaves either the old object or the new one, never half of one
 * (directories it creates are fsynced into their parents too);
 * stray temporaries are swept when the store opens.  The directories are
 * (re)created on demand, so an operator who wipes ROOT gets a working store
 * back without a restart.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "blob/backends.h"

#define PATH_LIMIT 4096
#define IO_CHUNK (64 * 1024)

struct fs_store {
	struct blob_store base;
	char *root;
};

static const struct blob_ops fs_ops;

static struct fs_store *impl(struct blob_store *bs)
{
	return (struct fs_store *)bs;
}

/* ROOT/rel, malloc'd; NULL when the path would be longer than PATH_LIMIT. */
static char *join(const struct fs_store *s, const char *rel)
{
	struct buf b;
	buf_init(&b, PATH_LIMIT);
	if (buf_printf(&b, "%s/%s", s->root, rel)) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Opens a fresh temporary in ROOT/.tmp; *path_out is malloc'd. */
static int open_temp(struct fs_store *s, char **path_out, struct error *e)
{
	char name[ID_CHARS(12) + 8];
	id_random(name, 12);
	char *rel = xmalloc(strlen(name) + 8);
	snprintf(rel, strlen(name) + 8, ".tmp/%s", name);
	char *path = join(s, rel);
	free(rel);
	if (!path) {
		error_set(e, "storage path too long under %s", s->root);
		return -1;
	}
	if (fs_mkdirs(path, false, true, e)) {
		free(path);
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		error_set(e, "cannot create %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	*path_out = path;
	return fd;
}

static void sweep_temps(struct fs_store *s)
{
	char *dir = join(s, ".tmp");
	DIR *d = dir ? opendir(dir) : NULL;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	free(dir);
}

struct blob_store *blob_fs_open(const char *root, struct error *e)
{
	if (!*root) {
		error_set(e, "empty storage directory");
		return NULL;
	}
	struct fs_store *s = xcalloc(1, sizeof *s);
	s->base.ops = &fs_ops;
	s->root = xstrdup(root);
	size_t n = strlen(s->root);
	while (n > 1 && s->root[n - 1] == '/')
		s->root[--n] = '\0';
	char *tmp = join(s, ".tmp/");
	int rc = tmp ? fs_mkdirs(tmp, false, true, e) : error_set(e, "storage path too long: %s", s->root);
	free(tmp);
	if (rc) {
		fs_ops.close(&s->base);
		return NULL;
	}
	sweep_temps(s);
	return &s->base;
}

static void fs_close(struct blob_store *bs)
{
	struct fs_store *s = impl(bs);
	free(s->root);
	free(s);
}

static enum blob_rc fs_check(struct blob_store *bs, struct error *e)
{
	struct fs_store *s = impl(bs);
	char *path;
	int fd = open_temp(s, &path, e);
	if (fd < 0)
		return BLOB_ERROR;
	enum blob_rc rc = BLOB_OK;
	/* No fsync: health is polled often, and a create + write already shows a
	 * missing, read-only or full directory. */
	if (fs_write_all(fd, "ok\n", 3)) {
		error_set(e, "cannot write %s: %s", path, strerror(errno));
		rc = BLOB_ERROR;
	}
	close(fd);
	unlink(path);
	free(path);
	return rc;
}

/* A writer starts the kernel's write-back of every this many bytes as it
 * goes, so the fsync at commit finds little left to write and does not stall
 * the thread that commits (for a large upload, an HTTP thread). */
#define WRITEBACK_STEP (8 << 20)

struct fs_writer {
	struct blob_writer base;
	int fd;
	char *tmp;
	char *key;
	uint64_t size;
	uint64_t flushed;   /* write-back started up to here */
};

static struct blob_writer *fs_writer_open(struct blob_store *bs, const char *key,
					  struct error *e)
{
	struct fs_store *s = impl(bs);
	if (!blob_key_valid(key)) {
		error_set(e, "invalid object key \"%.100s\"", key);
		return NULL;
	}
	char *tmp;
	int fd = open_temp(s, &tmp, e);
	if (fd < 0)
		return NULL;
	struct fs_writer *w = xcalloc(1, sizeof *w);
	w->base.bs = bs;
	w->fd = fd;
	w->tmp = tmp;
	w->key = xstrdup(key);
	return &w->base;
}

static enum blob_rc fs_writer_write(struct blob_writer *bw, const void *p, size_t n,
				    struct error *e)
{
	struct fs_writer *w = (struct fs_writer *)bw;
	if (fs_write_all(w->fd, p, n)) {
		error_set(e, "cannot write %s: %s", w->tmp, strerror(errno));
		return BLOB_ERROR;
	}
	w->size += n;
	if (w->size - w->flushed >= WRITEBACK_STEP) {
		/* Only starts the I/O; errors surface at the fsync. */
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->size - w->flushed),
				SYNC_FILE_RANGE_WRITE);
		w->flushed = w->size;
	}
	return BLOB_OK;
}

#define DIRECT_CHUNK (8 << 20)
#define DIRECT_ALIGN 4096

/* Turns O_DIRECT on or off for fd; false when the file system refuses. */
static bool set_direct(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && fcntl(fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) == 0;
}

/*
 * Copies the rest of fd with direct I/O: read (from the page cache, where
 * an upload usually is) into an aligned buffer, written straight to the
 * disk.  The page cache then holds no second copy of a file nobody reads
 * soon, and the kernel does not copy it page by page (for a gigabyte,
 * 0.5-3 s of CPU on a virtual machine, against 0.1-0.3 s).  The tail that
 * is not a whole block goes through the page cache.  Returns 1 when done,
 * 0 when direct I/O is refused before anything was written (the caller
 * copies another way), -1 on error (e set).
 */
static int copy_direct(struct fs_writer *w, int fd, struct error *e)
{
	if (!set_direct(w->fd, true))
		return 0;
	char *buf = xmalloc_huge(DIRECT_CHUNK);
	int rc = -1;
	for (;;) {
		size_t n = 0;
		while (n < DIRECT_CHUNK) {
			ssize_t k = read(fd, buf + n, DIRECT_CHUNK - n);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				error_set(e, "cannot read the file to store: %s", strerror(errno));
				goto out;
			}
			if (k == 0)
				break;
			n += (size_t)k;
		}
		size_t whole = n / DIRECT_ALIGN * DIRECT_ALIGN;
		if (whole && fs_write_all(w->fd, buf, whole)) {
			if (errno == EINVAL && w->size == 0) {
				/* refused: give back what was read, copy otherwise */
				rc = lseek(fd, -(off_t)n, SEEK_CUR) < 0 || ftruncate(w->fd, 0) ||
						     lseek(w->fd, 0, SEEK_SET) < 0
					     ? -1
					     : 0;
				if (rc < 0)
					error_set(e, "cannot rewind for a copy: %s", strerror(errno));
				goto out;
			}
			error_set(e, "cannot write %s: %s", w->tmp, strerror(errno));
			goto out;
		}
		w->size += whole;
		if (whole < n) {   /* the last, partial block */
			if (!set_direct(w->fd, false) || fs_write_all(w->fd, buf + whole, n - whole)) {
				error_set(e, "cannot write %s: %s", w->tmp, strerror(errno));
				goto out;
			}
			w->size += n - whole;
		}
		if (n < DIRECT_CHUNK) {
			rc = 1;
			break;
		}
	}
out:
	set_direct(w->fd, false);
	free(buf);
	return rc;
}

/* The cheapest copy the file system offers: a clone of the whole file
 * (reflink: shared blocks, copied on write, so later changes to the source
 * do not reach the object) when fd is at its start, else direct I/O, else
 * the kernel's copy, else read and write. */
static enum blob_rc fs_writer_copy_fd(struct blob_writer *bw, int fd, struct error *e)
{
	struct fs_writer *w = (struct fs_writer *)bw;
	struct stat st;
	if (w->size == 0 && lseek(fd, 0, SEEK_CUR) == 0 && fstat(fd, &st) == 0 &&
	    ioctl(w->fd, FICLONE, fd) == 0) {
		w->size = (uint64_t)st.st_size;
		return BLOB_OK;
	}
	int done = copy_direct(w, fd, e);
	if (done != 0)
		return done > 0 ? BLOB_OK : BLOB_ERROR;
	for (;;) {
		ssize_t n = copy_file_range(fd, NULL, w->fd, NULL, WRITEBACK_STEP, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && w->size == 0 &&
		    (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
			break;
		if (n < 0) {
			error_set(e, "cannot copy into %s: %s", w->tmp, strerror(errno));
			return BLOB_ERROR;
		}
		if (n == 0)
			return BLOB_OK;
		w->size += (uint64_t)n;
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->size - w->flushed),
				SYNC_FILE_RANGE_WRITE);
		w->flushed = w->size;
	}
	char *buf = xmalloc(1 << 20);
	enum blob_rc rc = BLOB_OK;
	for (;;) {
		ssize_t n = blob_read_fd(&fd, buf, 1 << 20);
		if (n < 0) {
			rc = BLOB_ERROR;
			error_set(e, "cannot read the file to store: %s", strerror(errno));
			break;
		}
		if (n == 0 || (rc = fs_writer_write(bw, buf, (size_t)n, e)) != BLOB_OK)
			break;
	}
	free(buf);
	return rc;
}

static void writer_free(struct fs_writer *w, bool discard)
{
	close(w->fd);
	if (discard)
		unlink(w->tmp);
	free(w->tmp);
	free(w->key);
	free(w);
}

static enum blob_rc fs_writer_commit(struct blob_writer *bw, struct blob_info *out,
				     struct error *e)
{
	struct fs_writer *w = (struct fs_writer *)bw;
	struct fs_store *s = impl(w->base.bs);
	char *final = NULL;
	enum blob_rc rc = BLOB_ERROR;
	if (fsync(w->fd)) {
		error_set(e, "cannot sync %s: %s", w->tmp, strerror(errno));
		goto out;
	}
	if (!(final = join(s, w->key))) {
		error_set(e, "object path too long for %s", w->key);
		goto out;
	}
	if (fs_mkdirs(final, false, true, e))
		goto out;
	if (rename(w->tmp, final)) {
		error_set(e, "cannot move %s into place: %s", w->key, strerror(errno));
		goto out;
	}
	fs_sync_parent(final);
	if (out) {
		struct stat st;
		out->size = w->size;
		out->mtime_ms = fstat(w->fd, &st) == 0
			? (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 : 0;
	}
	rc = BLOB_OK;
out:
	free(final);
	writer_free(w, rc != BLOB_OK);
	return rc;
}

static void fs_writer_abort(struct blob_writer *bw)
{
	writer_free((struct fs_writer *)bw, true);
}

static enum blob_rc open_key(struct fs_store *s, const char *key, int *fd, struct stat *st,
			     struct error *e)
{
	if (!blob_key_valid(key)) {
		error_set(e, "invalid object key \"%.100s\"", key);
		return BLOB_ERROR;
	}
	char *path = join(s, key);
	if (!path) {
		error_set(e, "object path too long for %.100s", key);
		return BLOB_ERROR;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	enum blob_rc rc = BLOB_OK;
	if (*fd < 0) {
		rc = (errno == ENOENT || errno == ENOTDIR) ? BLOB_NOT_FOUND : BLOB_ERROR;
		error_set(e, "cannot open %s: %s", path, strerror(errno));
	} else if (fstat(*fd, st) || !S_ISREG(st->st_mode)) {
		close(*fd);
		*fd = -1;
		rc = BLOB_NOT_FOUND;
		error_set(e, "%s is not an object", key);
	}
	free(path);
	return rc;
}

static enum blob_rc fs_get(struct blob_store *bs, const char *key, uint64_t offset,
			   uint64_t length, blob_write_fn write, void *ctx, struct error *e)
{
	int fd;
	struct stat st;
	enum blob_rc rc = open_key(impl(bs), key, &fd, &st, e);
	if (rc != BLOB_OK)
		return rc;
	uint64_t size = (uint64_t)st.st_size;
	if (offset > size) {
		close(fd);
		error_set(e, "offset %llu is past the end of %s", (unsigned long long)offset, key);
		return BLOB_ERROR;
	}
	uint64_t left = length && length < size - offset ? length : size - offset;
	char *chunk = xmalloc(IO_CHUNK);
	while (left) {
		size_t want = left < IO_CHUNK ? (size_t)left : IO_CHUNK;
		ssize_t n = pread(fd, chunk, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = BLOB_ERROR;
			error_set(e, "cannot read %s: %s", key, n ? strerror(errno) : "short file");
			break;
		}
		if (write(ctx, chunk, (size_t)n)) {
			rc = BLOB_ERROR;
			error_set(e, "the reader of %s stopped", key);
			break;
		}
		offset += (uint64_t)n;
		left -= (uint64_t)n;
	}
	free(chunk);
	close(fd);
	return rc;
}

static enum blob_rc fs_stat(struct blob_store *bs, const char *key, struct blob_info *out,
			    struct error *e)
{
	int fd;
	struct stat st;
	enum blob_rc rc = open_key(impl(bs), key, &fd, &st, e);
	if (rc != BLOB_OK)
		return rc;
	close(fd);
	out->size = (uint64_t)st.st_size;
	out->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	return BLOB_OK;
}

static enum blob_rc fs_remove(struct blob_store *bs, const char *key, struct error *e)
{
	struct fs_store *s = impl(bs);
	if (!blob_key_valid(key)) {
		error_set(e, "invalid object key \"%.100s\"", key);
		return BLOB_ERROR;
	}
	char *path = join(s, key);
	if (!path) {
		error_set(e, "object path too long for %.100s", key);
		return BLOB_ERROR;
	}
	enum blob_rc rc = BLOB_OK;
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A directory that holds objects is not itself an object. */
		rc = BLOB_NOT_FOUND;
		error_set(e, "%s is not an object", key);
	} else if (unlink(path)) {
		rc = errno == ENOENT || errno == ENOTDIR ? BLOB_NOT_FOUND : BLOB_ERROR;
		error_set(e, "cannot remove %s: %s", key, strerror(errno));
	} else {
		fs_sync_parent(path);
	}
	free(path);
	return rc;
}

static enum blob_rc fs_open_fd(struct blob_store *bs, const char *key, int *fd,
			      struct blob_info *out, struct error *e)
{
	struct stat st;
	enum blob_rc rc = open_key(impl(bs), key, fd, &st, e);
	if (rc == BLOB_OK) {
		out->size = (uint64_t)st.st_size;
		out->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	}
	return rc;
}

struct walk {
	struct fs_store *s;
	const char *prefix;
	size_t prefix_len;
	blob_list_fn fn;
	void *ctx;
	bool stopped;
	struct error *e;
};

/* Visits the regular files under ROOT/rel (rel "" or ending in '/'). */
static int fs_local_path(struct blob_store *bs, const char *key, char *out, size_t cap)
{
	char *p = join(impl(bs), key);
	int rc = p && strlen(p) < cap ? 0 : -1;
	if (rc == 0)
		memcpy(out, p, strlen(p) + 1);
	free(p);
	return rc;
}

static enum blob_rc fs_adopt(struct blob_store *bs, const char *key, const char *path,
			     struct error *e)
{
	char *final = join(impl(bs), key);
	enum blob_rc rc = BLOB_ERROR;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!final || fd < 0) {
		error_set(e, "cannot adopt %s as %s", path, key);
		goto out;
	}
	/* Durable before visible, as for a written object. */
	if (fsync(fd)) {
		error_set(e, "cannot sync %s: %s", path, strerror(errno));
		goto out;
	}
	if (fs_mkdirs(final, false, true, e))
		goto out;
	if (rename(path, final)) {   /* EXDEV: another file system; the caller copies */
		error_set(e, "cannot move %s into place: %s", key, strerror(errno));
		goto out;
	}
	fs_sync_parent(final);
	rc = BLOB_OK;
out:
	if (fd >= 0)
		close(fd);
	free(final);
	return rc;
}

static enum blob_rc walk_dir(struct walk *w, const char *rel, int depth)
{
	char *path = join(w->s, rel);
	DIR *d = path ? opendir(path) : NULL;
	free(path);
	if (!d)   /* gone meanwhile, or never there: nothing to list */
		return BLOB_OK;
	enum blob_rc rc = BLOB_OK;
	struct dirent *de;
	while (rc == BLOB_OK && !w->stopped && (de = readdir(d))) {
		if (de->d_name[0] == '.')   /* ".", "..", our .tmp: never objects */
			continue;
		struct buf key;
		buf_init(&key, PATH_LIMIT);
		if (buf_printf(&key, "%s%s", rel, de->d_name)) {
			buf_free(&key);
			continue;
		}
		/* Skip subtrees that cannot hold the prefix. */
		size_t n = key.len < w->prefix_len ? key.len : w->prefix_len;
		if (strncmp(key.data, w->prefix, n) != 0) {
			buf_free(&key);
			continue;
		}
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode) && depth < 64) {
				buf_puts(&key, "/");
				rc = walk_dir(w, key.data, depth + 1);
			} else if (S_ISREG(st.st_mode) && key.len >= w->prefix_len &&
				   blob_key_valid(key.data)) {
				struct blob_info info = {
					.size = (uint64_t)st.st_size,
					.mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
						    st.st_mtim.tv_nsec / 1000000,
				};
				if (w->fn(w->ctx, key.data, &info))
					w->stopped = true;
			}
		}
		buf_free(&key);
	}
	closedir(d);
	return rc;
}

static enum blob_rc fs_list(struct blob_store *bs, const char *prefix, blob_list_fn fn,
			    void *ctx, struct error *e)
{
	struct walk w = { .s = impl(bs), .prefix = prefix, .prefix_len = strlen(prefix),
			  .fn = fn, .ctx = ctx, .e = e };
	return walk_dir(&w, "", 0);
}

static const struct blob_ops fs_ops = {
	.name = "file",
	.close = fs_close,
	.check = fs_check,
	.writer_open = fs_writer_open,
	.writer_write = fs_writer_write,
	.writer_copy_fd = fs_writer_copy_fd,
	.writer_commit = fs_writer_commit,
	.writer_abort = fs_writer_abort,
	.get = fs_get,
	.stat = fs_stat,
	.remove = fs_remove,
	.open_fd = fs_open_fd,
	.list = fs_list,
	.local_path = fs_local_path,
	.adopt = fs_adopt,
};
