/*
 * The in-process cache: the embedded default behind cache.h.
 *
 * Three structures index the same entries:
 *  - a chained hash table keyed by SipHash (libsodium's crypto_shorthash)
 *    under a random per-cache key, so clients who choose keys (rate-limit
 *    buckets carry IPs and user names) cannot pile them into one chain;
 *  - a doubly-linked list in order of use, newest first, whose tail is
 *    evicted when the cache is full;
 *  - a binary min-heap on expiry, so expired entries are dropped before any
 *    live one is evicted, even those nobody asks for again.
 * An expired entry is also removed as soon as an operation finds it.
 *
 * The byte budget counts each entry's key, value buffer and a fixed
 * overhead (the entry itself, its NULs, its share of the bucket array and
 * its heap slot), so many tiny counters cannot exceed it by hiding in
 * bookkeeping.  Expiry is on the monotonic clock, in milliseconds.
 *
 * One mutex guards everything.  Every operation is a hash lookup, O(log n)
 * heap work and at most one copy of a value, so a single lock is simpler
 * than striping and short enough for the request threads.  A set copies the
 * caller's bytes before taking it; a get copies under it, since the entry
 * may be evicted the moment the lock is released.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "cache/backends.h"

#define BUCKETS_MIN 64
#define COUNTER_CAP 20      /* digits of INT64_MIN with its sign */

struct entry {
	struct entry *chain;            /* next in the same bucket */
	struct entry *newer, *older;    /* use order; NULL at the ends */
	uint64_t hash;
	int64_t expires_ms;             /* monotonic; expired once now >= this */
	size_t heap_at;                 /* index in mem_cache.heap */
	char *value;                    /* vcap + 1 bytes, NUL after vlen */
	size_t vlen, vcap;
	size_t klen;
	char key[];                     /* klen bytes and a NUL */
};

/* Bookkeeping charged to every entry besides its key and value (the bucket
 * and heap arrays grow by doubling, so their share is roughly one slot each). */
#define ENTRY_OVERHEAD (sizeof(struct entry) + 2 + 2 * sizeof(void *))

struct mem_cache {
	struct cache base;
	pthread_mutex_t lock;
	unsigned char sipkey[crypto_shorthash_KEYBYTES];
	struct entry **buckets;
	size_t nbuckets;                /* a power of two */
	size_t count;
	struct entry *newest, *oldest;
	struct entry **heap;            /* count entries, earliest expiry first */
	size_t heap_cap;
	size_t bytes, max_bytes;
};

static const struct cache_ops mem_ops;

static struct mem_cache *impl(struct cache *c)
{
	return (struct mem_cache *)c;
}

static int64_t now_ms(void)
{
	return clock_mono_ns() / 1000000;
}

static size_t entry_cost(size_t klen, size_t vcap)
{
	return ENTRY_OVERHEAD + klen + vcap;
}

static bool expired(const struct entry *en, int64_t now)
{
	return now >= en->expires_ms;
}

static int64_t expiry(int64_t now, int64_t ttl_ms)
{
	return ttl_ms > INT64_MAX - now ? INT64_MAX : now + ttl_ms;
}

/* The expiry heap: a min-heap on expires_ms, so the soonest to expire goes first. */

static void heap_put(struct mem_cache *m, size_t i, struct entry *en)
{
	m->heap[i] = en;
	en->heap_at = i;
}

static void heap_up(struct mem_cache *m, size_t i)
{
	struct entry *en = m->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (m->heap[parent]->expires_ms <= en->expires_ms)
			break;
		heap_put(m, i, m->heap[parent]);
		i = parent;
	}
	heap_put(m, i, en);
}

static void heap_down(struct mem_cache *m, size_t i, size_t n)
{
	struct entry *en = m->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && m->heap[child + 1]->expires_ms < m->heap[child]->expires_ms)
			child++;
		if (en->expires_ms <= m->heap[child]->expires_ms)
			break;
		heap_put(m, i, m->heap[child]);
		i = child;
	}
	heap_put(m, i, en);
}

/* Adds en as the count-th heap element (count already includes it). */
static void heap_push(struct mem_cache *m, struct entry *en)
{
	if (m->count > m->heap_cap) {
		m->heap_cap = m->heap_cap ? 2 * m->heap_cap : BUCKETS_MIN;
		m->heap = xrealloc(m->heap, m->heap_cap * sizeof *m->heap);
	}
	heap_put(m, m->count - 1, en);
	heap_up(m, m->count - 1);
}

/* Takes en out of a heap of n elements (before count is decremented). */
static void heap_remove(struct mem_cache *m, struct entry *en, size_t n)
{
	size_t i = en->heap_at;
	struct entry *last = m->heap[n - 1];
	if (last == en)
		return;
	heap_put(m, i, last);
	heap_down(m, i, n - 1);
	heap_up(m, last->heap_at);
}


static uint64_t hash_key(const struct mem_cache *m, const char *key, size_t klen)
{
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, (const unsigned char *)key, klen, m->sipkey);
	uint64_t h;
	memcpy(&h, out, sizeof h);
	return h;
}

static void grow_buckets(struct mem_cache *m)
{
	size_t n = m->nbuckets * 2;
	struct entry **b = xcalloc(n, sizeof *b);
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *en = m->buckets[i];
		while (en) {
			struct entry *next = en->chain;
			size_t j = en->hash & (n - 1);
			en->chain = b[j];
			b[j] = en;
			en = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

static struct entry *find(const struct mem_cache *m, const char *key, size_t klen, uint64_t hash)
{
	for (struct entry *en = m->buckets[hash & (m->nbuckets - 1)]; en; en = en->chain)
		if (en->hash == hash && en->klen == klen && memcmp(en->key, key, klen) == 0)
			return en;
	return NULL;
}

static void lru_unlink(struct mem_cache *m, struct entry *en)
{
	if (en->newer)
		en->newer->older = en->older;
	else
		m->newest = en->older;
	if (en->older)
		en->older->newer = en->newer;
	else
		m->oldest = en->newer;
}

static void lru_push(struct mem_cache *m, struct entry *en)
{
	en->newer = NULL;
	en->older = m->newest;
	if (m->newest)
		m->newest->newer = en;
	else
		m->oldest = en;
	m->newest = en;
}

static void touch(struct mem_cache *m, struct entry *en)
{
	if (m->newest != en) {
		lru_unlink(m, en);
		lru_push(m, en);
	}
}

static void entry_free(struct entry *en)
{
	free(en->value);
	free(en);
}

static void remove_entry(struct mem_cache *m, struct entry *en)
{
	struct entry **p = &m->buckets[en->hash & (m->nbuckets - 1)];
	while (*p != en)
		p = &(*p)->chain;
	*p = en->chain;
	lru_unlink(m, en);
	heap_remove(m, en, m->count);
	m->count--;
	m->bytes -= entry_cost(en->klen, en->vcap);
	entry_free(en);
}

/*
 * Frees space until need more bytes fit: expired entries first, then the
 * least recently used.  keep (may be NULL) is never evicted; false when
 * only keep is left and it still does not fit.
 */
static bool make_room(struct mem_cache *m, size_t need, const struct entry *keep, int64_t now)
{
	while (m->max_bytes - m->bytes < need) {
		struct entry *victim = NULL;
		if (m->count && expired(m->heap[0], now) && m->heap[0] != keep)
			victim = m->heap[0];
		else if (m->oldest && m->oldest != keep)
			victim = m->oldest;
		else if (m->oldest && m->oldest->newer)
			victim = m->oldest->newer;
		if (!victim)
			return false;
		remove_entry(m, victim);
	}
	return true;
}

/* Adds a fresh entry (the key is known to be absent and room is made). */
static struct entry *insert(struct mem_cache *m, const char *key, size_t klen, uint64_t hash,
			    char *value, size_t vlen, size_t vcap, int64_t expires_ms)
{
	struct entry *en = xmalloc(sizeof *en + klen + 1);
	memcpy(en->key, key, klen);
	en->key[klen] = '\0';
	en->klen = klen;
	en->hash = hash;
	en->value = value;
	en->vlen = vlen;
	en->vcap = vcap;
	en->expires_ms = expires_ms;
	if (m->count >= m->nbuckets)
		grow_buckets(m);
	size_t b = hash & (m->nbuckets - 1);
	en->chain = m->buckets[b];
	m->buckets[b] = en;
	lru_push(m, en);
	m->count++;
	heap_push(m, en);
	m->bytes += entry_cost(klen, vcap);
	return en;
}

/* The live entry for key, dropping it when it has expired. */
static struct entry *lookup(struct mem_cache *m, const char *key, size_t klen, uint64_t hash,
			    int64_t now)
{
	struct entry *en = find(m, key, klen, hash);
	if (en && expired(en, now)) {
		remove_entry(m, en);
		en = NULL;
	}
	return en;
}


static int check_key(const char *key, size_t *klen, struct error *e)
{
	size_t n = key ? strnlen(key, CACHE_KEY_MAX + 1) : 0;
	if (n == 0 || n > CACHE_KEY_MAX)
		return error_set(e, "cache key must be 1 to %d bytes", CACHE_KEY_MAX);
	*klen = n;
	return 0;
}

static int check_ttl(int64_t ttl_ms, struct error *e)
{
	if (ttl_ms <= 0)
		return error_set(e, "cache ttl must be positive (got %" PRId64 " ms)", ttl_ms);
	return 0;
}

/*
 * Parses a counter the way Redis does: an optional '-', then digits with
 * no leading zero (except "0" itself), fitting in int64; nothing else.
 */
static bool parse_counter(const char *s, size_t len, int64_t *out)
{
	if (len == 0 || len > COUNTER_CAP)
		return false;
	bool neg = s[0] == '-';
	size_t i = neg;
	if (i == len || (s[i] == '0' && (len - i > 1 || neg)))
		return false;
	uint64_t v = 0;
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}


struct cache *cache_memory_open(size_t max_bytes, struct error *e)
{
	if (max_bytes == 0) {
		error_set(e, "the in-process cache needs a size greater than 0");
		return NULL;
	}
	struct mem_cache *m = xcalloc(1, sizeof *m);
	m->base.ops = &mem_ops;
	pthread_mutex_init(&m->lock, NULL);
	randombytes_buf(m->sipkey, sizeof m->sipkey);
	m->nbuckets = BUCKETS_MIN;
	m->buckets = xcalloc(m->nbuckets, sizeof *m->buckets);
	m->max_bytes = max_bytes;
	return &m->base;
}

static void mem_close(struct cache *c)
{
	struct mem_cache *m = impl(c);
	struct entry *en = m->newest;
	while (en) {
		struct entry *next = en->older;
		entry_free(en);
		en = next;
	}
	free(m->buckets);
	free(m->heap);
	pthread_mutex_destroy(&m->lock);
	sodium_memzero(m->sipkey, sizeof m->sipkey);
	free(m);
}

static enum cache_rc mem_get(struct cache *c, const char *key, char **value, size_t *len,
			     struct error *e)
{
	struct mem_cache *m = impl(c);
	size_t klen = 0;
	*value = NULL;
	*len = 0;
	if (check_key(key, &klen, e))
		return CACHE_ERROR;
	uint64_t hash = hash_key(m, key, klen);
	enum cache_rc rc = CACHE_MISS;
	pthread_mutex_lock(&m->lock);
	struct entry *en = lookup(m, key, klen, hash, now_ms());
	if (en) {
		touch(m, en);
		*value = xmalloc(en->vlen + 1);
		memcpy(*value, en->value, en->vlen + 1);
		*len = en->vlen;
		rc = CACHE_OK;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static enum cache_rc mem_set(struct cache *c, const char *key, const void *value, size_t len,
			     int64_t ttl_ms, struct error *e)
{
	struct mem_cache *m = impl(c);
	size_t klen = 0;
	if (check_key(key, &klen, e) || check_ttl(ttl_ms, e))
		return CACHE_ERROR;
	uint64_t hash = hash_key(m, key, klen);
	/* The copy is made outside the lock; the caller's value may be large. */
	bool fits = entry_cost(klen, 0) <= m->max_bytes && len <= m->max_bytes - entry_cost(klen, 0);
	char *copy = NULL;
	if (fits) {
		copy = xmalloc(len + 1);
		if (len)
			memcpy(copy, value, len);
		copy[len] = '\0';
	}
	pthread_mutex_lock(&m->lock);
	int64_t now = now_ms();
	/* The old value goes even when the new one is refused: a caller who
	 * meant to replace it must not go on reading what it replaced. */
	struct entry *old = find(m, key, klen, hash);
	if (old)
		remove_entry(m, old);
	if (fits) {
		make_room(m, entry_cost(klen, len), NULL, now);
		insert(m, key, klen, hash, copy, len, len, expiry(now, ttl_ms));
	}
	pthread_mutex_unlock(&m->lock);
	if (!fits) {
		error_set(e, "value too large for the cache (%zu bytes, the cache holds %zu)", len,
			  m->max_bytes);
		return CACHE_ERROR;
	}
	return CACHE_OK;
}

static enum cache_rc mem_incr(struct cache *c, const char *key, int64_t delta, int64_t ttl_ms,
			      int64_t *value, int64_t *ttl_left_ms, struct error *e)
{
	struct mem_cache *m = impl(c);
	size_t klen = 0;
	if (check_key(key, &klen, e) || check_ttl(ttl_ms, e))
		return CACHE_ERROR;
	uint64_t hash = hash_key(m, key, klen);
	enum cache_rc rc = CACHE_ERROR;
	char text[COUNTER_CAP + 1];
	pthread_mutex_lock(&m->lock);
	int64_t now = now_ms();
	struct entry *en = lookup(m, key, klen, hash, now);
	int64_t old = 0, sum;
	if (en && !parse_counter(en->value, en->vlen, &old)) {
		error_set(e, "cache value at \"%.100s\" is not an integer", key);
		goto out;
	}
	if (__builtin_add_overflow(old, delta, &sum)) {
		error_set(e, "cache counter at \"%.100s\" would overflow", key);
		goto out;
	}
	size_t tlen = (size_t)snprintf(text, sizeof text, "%" PRId64, sum);
	if (!en) {
		size_t cost = entry_cost(klen, COUNTER_CAP);
		if (cost > m->max_bytes) {
			error_set(e, "value too large for the cache (a counter needs %zu bytes, "
				  "the cache holds %zu)", cost, m->max_bytes);
			goto out;
		}
		make_room(m, cost, NULL, now);
		char *v = xmalloc(COUNTER_CAP + 1);
		en = insert(m, key, klen, hash, v, 0, COUNTER_CAP, expiry(now, ttl_ms));
	} else {
		touch(m, en);
		if (tlen > en->vcap) {
			/* A value set as short text grows into a counter buffer. */
			if (!make_room(m, COUNTER_CAP - en->vcap, en, now)) {
				error_set(e, "value too large for the cache (counter at \"%.100s\")",
					  key);
				goto out;
			}
			en->value = xrealloc(en->value, COUNTER_CAP + 1);
			m->bytes += COUNTER_CAP - en->vcap;
			en->vcap = COUNTER_CAP;
		}
	}
	memcpy(en->value, text, tlen + 1);
	en->vlen = tlen;
	*value = sum;
	*ttl_left_ms = en->expires_ms - now;
	rc = CACHE_OK;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static enum cache_rc mem_del(struct cache *c, const char *key, struct error *e)
{
	struct mem_cache *m = impl(c);
	size_t klen = 0;
	if (check_key(key, &klen, e))
		return CACHE_ERROR;
	uint64_t hash = hash_key(m, key, klen);
	pthread_mutex_lock(&m->lock);
	struct entry *en = lookup(m, key, klen, hash, now_ms());
	enum cache_rc rc = en ? CACHE_OK : CACHE_MISS;
	if (en)
		remove_entry(m, en);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static const struct cache_ops mem_ops = {
	.name = "memory",
	.close = mem_close,
	.get = mem_get,
	.set = mem_set,
	.incr = mem_incr,
	.del = mem_del,
};
