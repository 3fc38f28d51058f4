/* Picks the cache backend from a URL; see cache.h. */
#include "cache/cache.h"

#include <string.h>

#include "cache/backends.h"

struct cache *cache_open(const char *url, size_t max_bytes, struct error *e)
{
	if (strcmp(url, "") == 0 || strcmp(url, "memory:") == 0)
		return cache_memory_open(max_bytes, e);
	if (strncmp(url, "redis://", 8) == 0 || strncmp(url, "rediss://", 9) == 0) {
		error_set(e, "redis:// is reserved for the Redis backend (not in this build yet)");
		return NULL;
	}
	if (strncmp(url, "memory:", 7) == 0) {
		error_set(e, "unsupported cache URL \"%.100s\" (memory: takes no path or options)",
			  url);
		return NULL;
	}
	error_set(e, "unsupported cache URL \"%.100s\" (this build accepts memory: or nothing)",
		  url);
	return NULL;
}

void cache_close(struct cache *c)
{
	if (c)
		c->ops->close(c);
}
