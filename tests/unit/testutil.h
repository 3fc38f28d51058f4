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

#endif
