/* Helpers shared by the unit tests (header-only: each test is one binary). */
#ifndef SHEAF_TESTS_TESTUTIL_H
#define SHEAF_TESTS_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

static inline int testutil_rm_entry(const char *path, const struct stat *sb, int flag,
				    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf path (no symlinks followed). */
static inline void rm_rf(const char *path)
{
	nftw(path, testutil_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Fails the test (cmocka) when call does not return want, with err.msg,
 * the message the call left. */
#define expect_rc(call, want, err)                                                       \
	do {                                                                             \
		int got_ = (int)(call);                                                  \
		if (got_ != (int)(want)) {                                               \
			print_error("%s returned %d, expected %d (message: \"%s\")\n", #call, \
				    got_, (int)(want), (err).msg);                           \
			fail();                                                          \
		}                                                                        \
	} while (0)

/* Bytes from memory as a blob_put/import reader. */
struct mem_reader {
	const char *p;
	size_t left;
};

static inline ssize_t mem_read(void *ctx, void *buf, size_t size)
{
	struct mem_reader *r = ctx;
	size_t n = size < r->left ? size : r->left;
	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return (ssize_t)n;
}

#endif
