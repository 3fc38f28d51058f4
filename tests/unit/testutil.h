/* Helpers shared by the unit tests (header-only: each test is one binary). */
#ifndef SHEAF_TESTS_TESTUTIL_H
#define SHEAF_TESTS_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

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

#endif
