/*
 * Fixed-window rate limits on cache counters; see cache.h.
 *
 * The first hit in a window creates the counter with the window as its time
 * to live, later hits only add to it, and when it expires the next hit opens
 * a new window.  Built on cache_incr alone, so it behaves the same on every
 * backend and, with a shared cache, across nodes.
 */
#include "cache/cache.h"

#include <stdbool.h>

/* Whole seconds until ttl_left_ms has passed, at least 1. */
static int64_t retry_seconds(int64_t ttl_left_ms)
{
	int64_t s = ttl_left_ms / 1000 + (ttl_left_ms % 1000 > 0);
	return s > 0 ? s : 1;
}

/* Adds delta; 1 when count + extra is within limit, 0 when not, -1 on error. */
static int count(struct cache *c, const char *key, int64_t delta, int64_t extra, int64_t limit,
		 int64_t window_ms, int64_t *retry_after_s, struct error *e)
{
	int64_t n, left;
	if (cache_incr(c, key, delta, window_ms, &n, &left, e) != CACHE_OK)
		return -1;
	/* limit - extra cannot overflow once limit >= 0; a negative limit denies all. */
	bool within = limit >= 0 && n <= limit - extra;
	if (retry_after_s)
		*retry_after_s = within ? 0 : retry_seconds(left);
	return within;
}

int ratelimit_hit(struct cache *c, const char *key, int64_t limit, int64_t window_ms,
		  int64_t *retry_after_s, struct error *e)
{
	return count(c, key, 1, 0, limit, window_ms, retry_after_s, e);
}

int ratelimit_peek(struct cache *c, const char *key, int64_t limit, int64_t window_ms,
		   int64_t *retry_after_s, struct error *e)
{
	return count(c, key, 0, 1, limit, window_ms, retry_after_s, e);
}
