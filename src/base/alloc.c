/* Aborting allocation wrappers; see alloc.h. */
#include "base/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void oom(size_t n)
{
	fprintf(stderr, "sheaf: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		oom(count * size);
	return p;
}

void *xzalloc_touched(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		oom(SIZE_MAX);
	void *p = xmalloc(count * size);
	memset(p, 0, count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xmalloc_aligned(size_t align, size_t n)
{
	void *p;
	if (posix_memalign(&p, align, n ? n : 1) != 0)
		oom(n);
	return p;
}

#define HUGE_PAGE (2u << 20)

void *xmalloc_huge(size_t n)
{
	if (n < HUGE_PAGE / 2)
		return xmalloc_aligned(4096, n);
	size_t size = (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	void *p = xmalloc_aligned(HUGE_PAGE, size);
	madvise(p, size, MADV_HUGEPAGE);   /* a hint: without it, small pages */
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
