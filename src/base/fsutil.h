/*
 * Small file-system helpers shared by the stores and the CLI.
 */
#ifndef SHEAF_BASE_FSUTIL_H
#define SHEAF_BASE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

/*
 * mkdir -p for every directory above path, and for path itself when it ends
 * in '/' or `whole` is true.  With `sync`, each directory it creates is
 * fsynced into its parent, so what is later put inside survives a power
 * loss.  Returns 0, or -1 with e naming the directory that failed.
 */
int fs_mkdirs(const char *path, bool whole, bool sync, struct error *e);

/* fsyncs the directory that holds path.  Returns 0 or -1. */
int fs_sync_parent(const char *path);

/* All n bytes to fd, across short writes and EINTR.  0, or -1 (errno set). */
int fs_write_all(int fd, const void *p, size_t n);

/* read(2) that retries on EINTR. */
ssize_t fs_read(int fd, void *buf, size_t n);

#endif
