/* Constructors of the cache backends; only cache.c calls them. */
#ifndef SHEAF_CACHE_BACKENDS_H
#define SHEAF_CACHE_BACKENDS_H

#include "cache/cache.h"

struct cache *cache_memory_open(size_t max_bytes, struct error *e);

#endif
