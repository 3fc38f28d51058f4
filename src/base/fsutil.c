/* File-system helpers; see fsutil.h. */
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

int fs_sync_parent(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	const char *target = ".";
	if (slash == dir) {
		target = "/";
	} else if (slash) {
		*slash = '\0';
		target = dir;
	}
	int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);   /* after the open: target may point into dir */
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int make_one(const char *dir, bool sync, struct error *e)
{
	if (mkdir(dir, 0755) == 0) {
		if (sync)
			fs_sync_parent(dir);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return error_set(e, "cannot create directory %s: %s", dir, strerror(errno));
}

int fs_mkdirs(const char *path, bool whole, bool sync, struct error *e)
{
	if (!*path)
		return 0;
	char *dir = xstrdup(path);
	int rc = 0;
	for (char *p = dir + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		rc = make_one(dir, sync, e);
		*p = '/';
	}
	if (rc == 0 && whole)
		rc = make_one(dir, sync, e);
	free(dir);
	return rc;
}

int fs_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t fs_read(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t got = read(fd, buf, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}
