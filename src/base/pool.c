/*
 * Per-request memory arena; see pool.h.  Blocks are chained; a request that
 * asks for more than a block gets a block of its own, so one large string
 * does not waste the rest of a small block.
 */
#include "base/pool.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define POOL_BLOCK 4096

struct block {
	struct block *next;
	size_t used;
	size_t size;
	alignas(max_align_t) unsigned char data[];
};

struct pool {
	struct block *head;
};

struct pool *pool_new(void)
{
	return xcalloc(1, sizeof(struct pool));
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	struct block *b = p->head;
	while (b) {
		struct block *next = b->next;
		free(b);
		b = next;
	}
	free(p);
}

static struct block *block_new(size_t size)
{
	struct block *b = xmalloc(sizeof *b + size);
	b->next = NULL;
	b->used = 0;
	b->size = size;
	return b;
}

void *pool_alloc(struct pool *p, size_t n)
{
	const size_t align = alignof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;

	struct block *b = p->head;
	if (!b || b->size - b->used < n) {
		if (n > POOL_BLOCK / 4) {
			/* Big request: own block, chained behind the current one. */
			struct block *big = block_new(n);
			big->used = n;
			if (b) {
				big->next = b->next;
				b->next = big;
			} else {
				p->head = big;
			}
			memset(big->data, 0, n);
			return big->data;
		}
		b = block_new(POOL_BLOCK);
		b->next = p->head;
		p->head = b;
	}
	void *r = b->data + b->used;
	b->used += n;
	memset(r, 0, n);
	return r;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *r = pool_alloc(p, len + 1);
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

char *pool_strdup(struct pool *p, const char *s)
{
	return pool_strndup(p, s, strlen(s));
}

char *pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap, copy;
	va_start(ap, fmt);
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		n = 0;
	char *r = pool_alloc(p, (size_t)n + 1);
	vsnprintf(r, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return r;
}
