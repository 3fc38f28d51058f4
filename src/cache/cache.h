/*
 * The cache: short-lived shared values and counters with a time to live.
 *
 * Query results, LLM answers and rate-limit counters go through this
 * interface.  A backend fills struct cache_ops; callers never learn which
 * one they have.  The in-process backend (cache/memory.c) is the embedded
 * default: a bounded LRU with TTLs.  Redis (hiredis) slots in behind the
 * same operations for several nodes, so the semantics below are Redis's:
 * values are byte strings, counters are values holding a decimal integer.
 *
 * A cache may forget anything at any time (eviction, restart); callers
 * treat a miss as normal.  All operations are safe from many threads.
 */
#ifndef SHEAF_CACHE_CACHE_H
#define SHEAF_CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum cache_rc { CACHE_OK = 0, CACHE_MISS = 1, CACHE_ERROR = -1 };

#define CACHE_KEY_MAX 512      /* longer keys are refused (CACHE_ERROR) */

struct cache;

struct cache_ops {
	const char *name;
	void (*close)(struct cache *c);
	/* A copy of the value: *value is malloc'd (caller frees), NUL-terminated
	 * after *len bytes.  CACHE_MISS when absent or expired. */
	enum cache_rc (*get)(struct cache *c, const char *key, char **value, size_t *len,
			     struct error *e);
	/* Stores a copy of value for ttl_ms (> 0), replacing any old value. */
	enum cache_rc (*set)(struct cache *c, const char *key, const void *value, size_t len,
			     int64_t ttl_ms, struct error *e);
	/*
	 * Adds delta to the counter at key.  An absent or expired key starts at 0
	 * and gets ttl_ms (> 0); an existing one keeps its expiry (Redis INCRBY
	 * plus EXPIRE NX).  *value is the new count, *ttl_left_ms the time until
	 * the counter expires.  A key holding a non-integer is CACHE_ERROR.
	 */
	enum cache_rc (*incr)(struct cache *c, const char *key, int64_t delta, int64_t ttl_ms,
			      int64_t *value, int64_t *ttl_left_ms, struct error *e);
	/* Removes key; CACHE_MISS when it was not there. */
	enum cache_rc (*del)(struct cache *c, const char *key, struct error *e);
};

struct cache {
	const struct cache_ops *ops;
};

/*
 * Opens the cache named by url: "" or "memory:" is the in-process cache
 * holding at most max_bytes of keys and values (least recently used go
 * first).  NULL with e set on failure.
 */
struct cache *cache_open(const char *url, size_t max_bytes, struct error *e);
void cache_close(struct cache *c);   /* NULL is fine */

static inline enum cache_rc cache_get(struct cache *c, const char *key, char **value,
				      size_t *len, struct error *e)
{
	return c->ops->get(c, key, value, len, e);
}

static inline enum cache_rc cache_set(struct cache *c, const char *key, const void *value,
				      size_t len, int64_t ttl_ms, struct error *e)
{
	return c->ops->set(c, key, value, len, ttl_ms, e);
}

static inline enum cache_rc cache_incr(struct cache *c, const char *key, int64_t delta,
				       int64_t ttl_ms, int64_t *value, int64_t *ttl_left_ms,
				       struct error *e)
{
	return c->ops->incr(c, key, delta, ttl_ms, value, ttl_left_ms, e);
}

static inline enum cache_rc cache_del(struct cache *c, const char *key, struct error *e)
{
	return c->ops->del(c, key, e);
}

/*
 * Fixed-window rate limiting on cache counters (cache/ratelimit.c).
 *
 * ratelimit_hit counts one event against key in a window of window_ms and
 * returns 1 when the count is still within limit, 0 when it is over (then
 * *retry_after_s is the whole seconds until the window ends, at least 1), or
 * -1 on a cache error (e set; callers should fail open and log).
 * ratelimit_peek counts nothing and returns 1 when one more event would
 * still be within limit (it is an incr by 0, so it may start an empty
 * window).
 */
int ratelimit_hit(struct cache *c, const char *key, int64_t limit, int64_t window_ms,
		  int64_t *retry_after_s, struct error *e);
int ratelimit_peek(struct cache *c, const char *key, int64_t limit, int64_t window_ms,
		   int64_t *retry_after_s, struct error *e);

#endif
