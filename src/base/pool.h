/*
 * Per-request memory arena.
 *
 * A pool hands out memory that lives until pool_free(); nothing allocated
 * from it is freed one by one.  The HTTP layer hangs one pool on every
 * request and frees it when the response is done, so handlers can build
 * strings without bookkeeping.  Not thread-safe: one pool, one thread.
 */
#ifndef SHEAF_BASE_POOL_H
#define SHEAF_BASE_POOL_H

#include <stdarg.h>
#include <stddef.h>

struct pool;

struct pool *pool_new(void);
void pool_free(struct pool *p);   /* releases every block; NULL is fine */

void *pool_alloc(struct pool *p, size_t n);   /* zeroed, aligned for any type */
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
