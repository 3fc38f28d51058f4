/*
 * The cache interface (cache/cache.h) on the in-process backend, and the
 * rate limiter built on it: URL dispatch; set, get, del and misses;
 * replacing values; binary values; expiry; incr's Redis semantics (start,
 * kept expiry, restart after expiry, non-integers, overflow); key and ttl
 * limits; LRU eviction and expired-first eviction under a small budget;
 * values too large for the cache; random operations against a model; many
 * threads on one counter and on random keys; fixed-window rate limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"

#define LONG_TTL 600000     /* ms: outlives any test */
#define SHORT_TTL 50        /* ms: expires during a test */


static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts))
		;
}

static struct cache *open_memory(size_t max_bytes)
{
	struct error e = { { 0 } };
	struct cache *c = cache_open("memory:", max_bytes, &e);
	if (!c)
		fail_msg("cache_open: %s", e.msg);
	return c;
}

static void set_str(struct cache *c, const char *key, const char *value, int64_t ttl_ms)
{
	struct error e = { { 0 } };
	if (cache_set(c, key, value, strlen(value), ttl_ms, &e) != CACHE_OK)
		fail_msg("cache_set %s: %s", key, e.msg);
}

/* Asserts key holds exactly value. */
static void expect_str(struct cache *c, const char *key, const char *value)
{
	struct error e = { { 0 } };
	char *v = NULL;
	size_t len = 0;
	assert_int_equal(cache_get(c, key, &v, &len, &e), CACHE_OK);
	assert_int_equal(len, strlen(value));
	assert_string_equal(v, value);
	free(v);
}

static void expect_miss(struct cache *c, const char *key)
{
	struct error e = { { 0 } };
	char *v = (char *)"sentinel";
	size_t len = 99;
	assert_int_equal(cache_get(c, key, &v, &len, &e), CACHE_MISS);
	assert_null(v);
	assert_int_equal(len, 0);
}

static int64_t incr(struct cache *c, const char *key, int64_t delta, int64_t ttl_ms,
		    int64_t *ttl_left)
{
	struct error e = { { 0 } };
	int64_t v = 0, left = 0;
	if (cache_incr(c, key, delta, ttl_ms, &v, &left, &e) != CACHE_OK)
		fail_msg("cache_incr %s: %s", key, e.msg);
	assert_true(left > 0 && left <= ttl_ms);
	if (ttl_left)
		*ttl_left = left;
	return v;
}

/* xorshift64: deterministic randomness for the randomized tests. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}


static void test_open_urls(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct cache *c = cache_open("", 1 << 20, &e);
	assert_non_null(c);
	assert_string_equal(c->ops->name, "memory");
	cache_close(c);
	c = cache_open("memory:", 1 << 20, &e);
	assert_non_null(c);
	cache_close(c);
	cache_close(NULL);

	assert_null(cache_open("redis://localhost:6379/0", 1 << 20, &e));
	assert_non_null(strstr(e.msg, "redis:// is reserved for the Redis backend"));
	assert_null(cache_open("memory:big", 1 << 20, &e));
	assert_non_null(strstr(e.msg, "\"memory:big\""));
	assert_null(cache_open("memory://", 1 << 20, &e));
	assert_non_null(strstr(e.msg, "\"memory://\""));
	assert_null(cache_open("memcached://x", 1 << 20, &e));
	assert_non_null(strstr(e.msg, "\"memcached://x\""));
	assert_null(cache_open("memory:", 0, &e));
	assert_non_null(strstr(e.msg, "greater than 0"));

	/* A long URL is named, cut to 100 bytes. */
	char url[300];
	memset(url, 'u', sizeof url - 1);
	url[sizeof url - 1] = '\0';
	memcpy(url, "bogus:", 6);
	assert_null(cache_open(url, 1 << 20, &e));
	assert_non_null(strstr(e.msg, "bogus:uuu"));
	char *q = strchr(e.msg, '"');
	assert_non_null(q);
	char *end = strchr(q + 1, '"');
	assert_non_null(end);
	assert_int_equal(end - q - 1, 100);

	/* A NULL error pointer is allowed. */
	assert_null(cache_open("nope", 1 << 20, NULL));
}

static void test_set_get_del(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	struct error e = { { 0 } };
	expect_miss(c, "a");
	set_str(c, "a", "apple", LONG_TTL);
	set_str(c, "b", "banana", LONG_TTL);
	expect_str(c, "a", "apple");
	expect_str(c, "b", "banana");
	expect_miss(c, "c");
	expect_miss(c, "A");
	expect_miss(c, "a ");

	/* Replacing, with a longer value, then a shorter, then an empty one. */
	set_str(c, "a", "apple pie with cream", LONG_TTL);
	expect_str(c, "a", "apple pie with cream");
	set_str(c, "a", "ax", LONG_TTL);
	expect_str(c, "a", "ax");
	assert_int_equal(cache_set(c, "a", NULL, 0, LONG_TTL, &e), CACHE_OK);
	expect_str(c, "a", "");

	assert_int_equal(cache_del(c, "a", &e), CACHE_OK);
	expect_miss(c, "a");
	assert_int_equal(cache_del(c, "a", &e), CACHE_MISS);
	expect_str(c, "b", "banana");
	cache_close(c);

	/* Closing with entries left frees them (LSan checks). */
	c = open_memory(1 << 20);
	for (int i = 0; i < 1000; i++) {
		char k[32];
		snprintf(k, sizeof k, "k%d", i);
		set_str(c, k, k, LONG_TTL);
	}
	for (int i = 0; i < 1000; i += 7) {
		char k[32];
		snprintf(k, sizeof k, "k%d", i);
		expect_str(c, k, k);
	}
	cache_close(c);
}

static void test_binary_values(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	struct error e = { { 0 } };
	unsigned char bin[256];
	for (size_t i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(255 - i);
	bin[10] = 0;
	bin[0] = 0;
	assert_int_equal(cache_set(c, "bin", bin, sizeof bin, LONG_TTL, &e), CACHE_OK);
	char *v;
	size_t len;
	assert_int_equal(cache_get(c, "bin", &v, &len, &e), CACHE_OK);
	assert_int_equal(len, sizeof bin);
	assert_memory_equal(v, bin, sizeof bin);
	assert_int_equal(v[len], '\0');
	free(v);

	/* Keys are C strings but any other bytes are fine. */
	const char *key = "\xff\x01/ \t\xc3\xa9";
	assert_int_equal(cache_set(c, key, "\0\0\0", 3, LONG_TTL, &e), CACHE_OK);
	assert_int_equal(cache_get(c, key, &v, &len, &e), CACHE_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "\0\0\0\0", 4);
	free(v);
	cache_close(c);
}

static void test_ttl_expiry(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	struct error e = { { 0 } };
	set_str(c, "short", "s", SHORT_TTL);
	set_str(c, "long", "l", LONG_TTL);
	set_str(c, "renewed", "r1", SHORT_TTL);
	expect_str(c, "short", "s");
	sleep_ms(SHORT_TTL / 2);
	set_str(c, "renewed", "r2", LONG_TTL);   /* a set replaces the expiry too */
	sleep_ms(SHORT_TTL);
	expect_miss(c, "short");
	expect_str(c, "long", "l");
	expect_str(c, "renewed", "r2");
	assert_int_equal(cache_del(c, "short", &e), CACHE_MISS);

	/* An expired entry is gone for del too, without a get first. */
	set_str(c, "gone", "g", 30);
	sleep_ms(60);
	assert_int_equal(cache_del(c, "gone", &e), CACHE_MISS);

	/* ttl must be positive. */
	assert_int_equal(cache_set(c, "k", "v", 1, 0, &e), CACHE_ERROR);
	assert_non_null(strstr(e.msg, "ttl"));
	assert_int_equal(cache_set(c, "k", "v", 1, -5, &e), CACHE_ERROR);
	expect_miss(c, "k");
	/* A huge ttl does not overflow into the past. */
	set_str(c, "forever", "f", INT64_MAX);
	expect_str(c, "forever", "f");
	cache_close(c);
}

static void test_incr(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	struct error e = { { 0 } };
	int64_t v, left, left2;

	/* An absent key starts at 0 and takes ttl_ms. */
	assert_int_equal(incr(c, "n", 5, 200, &left), 5);
	assert_true(left > 150);
	expect_str(c, "n", "5");
	/* An existing one keeps its expiry whatever ttl_ms says. */
	sleep_ms(40);
	assert_int_equal(incr(c, "n", 1, LONG_TTL, &left2), 6);
	assert_true(left2 <= 200 - 30);
	assert_int_equal(incr(c, "n", -10, LONG_TTL, NULL), -4);
	expect_str(c, "n", "-4");
	assert_int_equal(incr(c, "n", 0, LONG_TTL, NULL), -4);
	/* After expiry it starts again, with the new ttl. */
	sleep_ms(200);
	assert_int_equal(incr(c, "n", 3, LONG_TTL, &left), 3);
	assert_true(left > LONG_TTL - 1000);

	/* incr by 0 creates a zero counter. */
	assert_int_equal(incr(c, "z", 0, LONG_TTL, NULL), 0);
	expect_str(c, "z", "0");

	/* Values written by set count when they are integers... */
	set_str(c, "s", "41", LONG_TTL);
	assert_int_equal(incr(c, "s", 1, LONG_TTL, NULL), 42);
	set_str(c, "s", "9", LONG_TTL);     /* grows from one byte to two */
	assert_int_equal(incr(c, "s", 1, LONG_TTL, NULL), 10);
	expect_str(c, "s", "10");
	set_str(c, "s", "-9223372036854775807", LONG_TTL);
	assert_int_equal(incr(c, "s", -1, LONG_TTL, NULL), INT64_MIN);
	expect_str(c, "s", "-9223372036854775808");

	/* ...and are errors, left as they were, when they are not (Redis's rules). */
	static const char *const bad[] = {
		"", "abc", "1.5", " 1", "1 ", "+1", "01", "-0", "-", "1e3", "0x10",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		set_str(c, "bad", bad[i], LONG_TTL);
		e.msg[0] = '\0';
		assert_int_equal(cache_incr(c, "bad", 1, LONG_TTL, &v, &left, &e), CACHE_ERROR);
		assert_non_null(strstr(e.msg, "not an integer"));
		expect_str(c, "bad", bad[i]);
	}
	assert_int_equal(cache_set(c, "bad", "1\0", 2, LONG_TTL, &e), CACHE_OK);
	assert_int_equal(cache_incr(c, "bad", 1, LONG_TTL, &v, &left, &e), CACHE_ERROR);

	/* Overflow either way is an error and changes nothing. */
	set_str(c, "big", "9223372036854775807", LONG_TTL);
	assert_int_equal(cache_incr(c, "big", 1, LONG_TTL, &v, &left, &e), CACHE_ERROR);
	assert_non_null(strstr(e.msg, "overflow"));
	expect_str(c, "big", "9223372036854775807");
	assert_int_equal(incr(c, "big", INT64_MIN, LONG_TTL, NULL), -1);
	set_str(c, "small", "-9223372036854775808", LONG_TTL);
	assert_int_equal(cache_incr(c, "small", -1, LONG_TTL, &v, &left, &e), CACHE_ERROR);
	assert_int_equal(cache_incr(c, "small", INT64_MIN, LONG_TTL, &v, &left, &e), CACHE_ERROR);
	expect_str(c, "small", "-9223372036854775808");
	assert_int_equal(incr(c, "fresh", INT64_MIN, LONG_TTL, NULL), INT64_MIN);

	/* ttl must be positive even for an existing counter. */
	assert_int_equal(cache_incr(c, "z", 1, 0, &v, &left, &e), CACHE_ERROR);
	assert_int_equal(cache_incr(c, "new", 1, -1, &v, &left, &e), CACHE_ERROR);
	expect_miss(c, "new");
	expect_str(c, "z", "0");
	cache_close(c);
}

static void test_key_limits(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	struct error e = { { 0 } };
	char key[CACHE_KEY_MAX + 2];
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	key[CACHE_KEY_MAX] = '\0';                  /* exactly CACHE_KEY_MAX bytes */
	set_str(c, key, "max", LONG_TTL);
	expect_str(c, key, "max");
	assert_int_equal(cache_del(c, key, &e), CACHE_OK);
	assert_int_equal(incr(c, key, 2, LONG_TTL, NULL), 2);

	key[CACHE_KEY_MAX] = 'k';                   /* one byte too many */
	char *v = NULL;
	size_t len = 0;
	int64_t n, left;
	const char *const keys[] = { key, "" };
	for (size_t i = 0; i < 2; i++) {
		e.msg[0] = '\0';
		assert_int_equal(cache_set(c, keys[i], "v", 1, LONG_TTL, &e), CACHE_ERROR);
		assert_non_null(strstr(e.msg, "cache key"));
		assert_int_equal(cache_get(c, keys[i], &v, &len, &e), CACHE_ERROR);
		assert_null(v);
		assert_int_equal(cache_incr(c, keys[i], 1, LONG_TTL, &n, &left, &e), CACHE_ERROR);
		assert_int_equal(cache_del(c, keys[i], &e), CACHE_ERROR);
		assert_int_equal(ratelimit_hit(c, keys[i], 10, 1000, &n, &e), -1);
	}
	/* The long key did not reach its 512-byte prefix. */
	key[CACHE_KEY_MAX] = '\0';
	expect_str(c, key, "2");
	cache_close(c);
}

/* Room for three 1000-byte values with short keys, not four. */
#define SMALL_CACHE 3500
#define SMALL_VALUE 1000

static void set_big(struct cache *c, const char *key, char fill, int64_t ttl_ms)
{
	char v[SMALL_VALUE + 1];
	memset(v, fill, SMALL_VALUE);
	v[SMALL_VALUE] = '\0';
	set_str(c, key, v, ttl_ms);
}

static bool present(struct cache *c, const char *key)
{
	char *v = NULL;
	size_t len;
	enum cache_rc rc = cache_get(c, key, &v, &len, NULL);
	assert_int_not_equal(rc, CACHE_ERROR);
	free(v);
	return rc == CACHE_OK;
}

static void test_eviction(void **state)
{
	(void)state;
	struct cache *c = open_memory(SMALL_CACHE);
	set_big(c, "a", 'a', LONG_TTL);
	set_big(c, "b", 'b', LONG_TTL);
	set_big(c, "c", 'c', LONG_TTL);
	/* Use order, newest first, noted after each step. */
	assert_true(present(c, "a"));               /* a c b */
	set_big(c, "d", 'd', LONG_TTL);             /* d a c: b was the oldest */
	assert_false(present(c, "b"));
	assert_int_equal(incr(c, "n", 1, LONG_TTL, NULL), 1);  /* n d a c: a counter fits */
	set_big(c, "e", 'e', LONG_TTL);             /* e n d a */
	assert_false(present(c, "c"));
	assert_true(present(c, "a"));               /* a e n d */
	set_big(c, "f", 'f', LONG_TTL);             /* f a e n */
	assert_false(present(c, "d"));
	assert_true(present(c, "a"));
	assert_true(present(c, "e"));
	assert_true(present(c, "f"));
	assert_int_equal(incr(c, "n", 1, LONG_TTL, NULL), 2);
	cache_close(c);

	/* An expired entry goes before the least recently used live one. */
	c = open_memory(SMALL_CACHE);
	set_big(c, "old", 'o', LONG_TTL);
	set_big(c, "brief", 'b', SHORT_TTL);
	set_big(c, "new", 'n', LONG_TTL);
	sleep_ms(SHORT_TTL * 2);
	set_big(c, "newer", 'N', LONG_TTL);
	assert_true(present(c, "old"));
	assert_true(present(c, "new"));
	assert_true(present(c, "newer"));
	assert_false(present(c, "brief"));
	cache_close(c);
}

/*
 * Many expiries in random order, with removals from the middle of the
 * expiry order: once the short ones have passed, new entries take exactly
 * their room and every long-lived entry stays.
 */
static void test_expired_first(void **state)
{
	(void)state;
	enum { N = 300 };
	size_t max = N * 150;
	char key[32], val[101];
	memset(val, 'v', 100);
	val[100] = '\0';
	struct cache *c = open_memory(max);
	for (int i = 0; i < 3 * N; i++) {
		snprintf(key, sizeof key, "p%04d", i);
		set_str(c, key, val, LONG_TTL);
	}
	int fits = 0;
	for (int i = 0; i < 3 * N; i++) {
		snprintf(key, sizeof key, "p%04d", i);
		fits += present(c, key);
	}
	cache_close(c);

	c = open_memory(max);
	uint64_t seed = 42;
	bool brief[3 * N] = { false };
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < fits; i++) {
			if (round && rnd(&seed) % 3)
				continue;
			snprintf(key, sizeof key, "e%04d", i);
			if (round && rnd(&seed) % 2)
				assert_int_not_equal(cache_del(c, key, NULL), CACHE_ERROR);
			brief[i] = rnd(&seed) % 2;
			set_str(c, key, val, brief[i] ? 30 + (int64_t)(rnd(&seed) % 40) : LONG_TTL);
		}
	}
	int gone = 0;
	for (int i = 0; i < fits; i++)
		gone += brief[i];
	sleep_ms(100);
	for (int i = 0; i < gone; i++) {
		snprintf(key, sizeof key, "n%04d", i);
		set_str(c, key, val, LONG_TTL);
	}
	for (int i = 0; i < fits; i++) {
		snprintf(key, sizeof key, "e%04d", i);
		assert_int_equal(present(c, key), !brief[i]);
	}
	for (int i = 0; i < gone; i++) {
		snprintf(key, sizeof key, "n%04d", i);
		assert_true(present(c, key));
	}
	cache_close(c);
}

static void test_too_large(void **state)
{
	(void)state;
	struct cache *c = open_memory(SMALL_CACHE);
	struct error e = { { 0 } };
	set_big(c, "keep", 'k', LONG_TTL);
	set_str(c, "x", "small", LONG_TTL);
	char *big = malloc(SMALL_CACHE + 1);
	memset(big, 'B', SMALL_CACHE);
	assert_int_equal(cache_set(c, "y", big, SMALL_CACHE, LONG_TTL, &e), CACHE_ERROR);
	assert_non_null(strstr(e.msg, "value too large for the cache"));
	assert_int_equal(cache_set(c, "y", big, SIZE_MAX, LONG_TTL, &e), CACHE_ERROR);
	assert_true(present(c, "keep"));
	/* A refused replacement drops the old value rather than keep serving it. */
	assert_int_equal(cache_set(c, "x", big, SMALL_CACHE, LONG_TTL, &e), CACHE_ERROR);
	assert_false(present(c, "x"));
	assert_true(present(c, "keep"));
	/* The largest value that fits evicts everything else. */
	assert_int_equal(cache_set(c, "y", big, SMALL_CACHE - 200, LONG_TTL, &e), CACHE_OK);
	assert_false(present(c, "keep"));
	assert_true(present(c, "y"));
	free(big);
	cache_close(c);

	/* A cache too small for even a counter says so. */
	c = open_memory(40);
	int64_t n, left;
	assert_int_equal(cache_incr(c, "n", 1, LONG_TTL, &n, &left, &e), CACHE_ERROR);
	assert_non_null(strstr(e.msg, "value too large for the cache"));
	assert_int_equal(cache_set(c, "n", "1", 1, LONG_TTL, &e), CACHE_ERROR);
	assert_false(present(c, "n"));
	cache_close(c);
}

#define MODEL_KEYS 64

/* What a key should hold: absent, a counter, or a string that is no integer. */
struct model {
	enum { M_NONE, M_COUNTER, M_STRING } kind[MODEL_KEYS];
	int64_t count[MODEL_KEYS];
	char str[MODEL_KEYS][400];
};

/*
 * Random sets, dels, incrs and gets over MODEL_KEYS keys.  Without eviction
 * (evicting == false) the cache must agree with the model exactly; with it,
 * a key may be missing, but whatever is there is what was last written.
 */
static void run_model(struct cache *c, uint64_t seed, int ops, size_t max_value, bool evicting)
{
	uint64_t tag = seed;    /* runs sharing a cache use their own keys */
	struct model *m = calloc(1, sizeof *m);
	struct error e = { { 0 } };
	for (int op = 0; op < ops; op++) {
		int k = (int)(rnd(&seed) % MODEL_KEYS);
		char key[32];
		snprintf(key, sizeof key, "model%" PRIx64 ":%d", tag, k);
		int64_t ttl = evicting && rnd(&seed) % 4 == 0 ? 1 + (int64_t)(rnd(&seed) % 3) : LONG_TTL;
		char *v = NULL;
		size_t len = 0;
		int64_t n, left;
		enum cache_rc rc;
		switch (rnd(&seed) % 4) {
		case 0: {
			size_t want = (size_t)(rnd(&seed) % max_value);
			int w = snprintf(m->str[k], sizeof m->str[k], "v%d.%d:", k, op);
			for (size_t i = (size_t)w; i < want && i < sizeof m->str[k] - 1; i++)
				m->str[k][i] = (char)('a' + rnd(&seed) % 26);
			m->str[k][want > (size_t)w ? want : (size_t)w] = '\0';
			set_str(c, key, m->str[k], ttl);
			m->kind[k] = M_STRING;
			break;
		}
		case 1:
			rc = cache_del(c, key, &e);
			if (!evicting)
				assert_int_equal(rc, m->kind[k] == M_NONE ? CACHE_MISS : CACHE_OK);
			assert_int_not_equal(rc, CACHE_ERROR);
			m->kind[k] = M_NONE;
			break;
		case 2: {
			int64_t delta = (int64_t)(rnd(&seed) % 201) - 100;
			rc = cache_incr(c, key, delta, ttl, &n, &left, &e);
			if (rc == CACHE_ERROR) {
				/* Only a string refuses (evicting, it may expire right after). */
				assert_int_equal(m->kind[k], M_STRING);
				assert_true(evicting || present(c, key));
				break;
			}
			assert_int_equal(rc, CACHE_OK);
			if (!evicting)
				assert_int_not_equal(m->kind[k], M_STRING);
			if (m->kind[k] == M_COUNTER && (!evicting || n == m->count[k] + delta))
				assert_int_equal(n, m->count[k] + delta);
			else
				assert_int_equal(n, delta);
			m->kind[k] = M_COUNTER;
			m->count[k] = n;
			break;
		}
		default:
			rc = cache_get(c, key, &v, &len, &e);
			assert_int_not_equal(rc, CACHE_ERROR);
			if (!evicting)
				assert_int_equal(rc, m->kind[k] == M_NONE ? CACHE_MISS : CACHE_OK);
			if (rc == CACHE_OK) {
				char want[400];
				if (m->kind[k] == M_COUNTER)
					snprintf(want, sizeof want, "%" PRId64, m->count[k]);
				else
					snprintf(want, sizeof want, "%s", m->str[k]);
				assert_int_not_equal(m->kind[k], M_NONE);
				assert_int_equal(len, strlen(want));
				assert_string_equal(v, want);
			} else {
				m->kind[k] = M_NONE;
			}
			free(v);
		}
	}
	free(m);
}

/* How many of 200 equal entries a cache keeps: a probe of its accounting. */
static int capacity(struct cache *c)
{
	char key[32];
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "cap%03d", i);
		set_big(c, key, 'c', LONG_TTL);
	}
	int kept = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "cap%03d", i);
		kept += present(c, key);
	}
	return kept;
}

static void test_model(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 24);
	run_model(c, 0x9e3779b97f4a7c15u, 50000, 300, false);
	cache_close(c);

	/* Small, so eviction and expiry happen all the time. */
	size_t max = 20 * SMALL_VALUE;
	struct cache *fresh = open_memory(max);
	int want = capacity(fresh);
	cache_close(fresh);
	assert_true(want >= 15 && want < 20);
	c = open_memory(max);
	for (uint64_t seed = 1; seed <= 8; seed++)
		run_model(c, seed * 0x2545f4914f6cdd1du, 5000, 399, true);
	/* Churn left the byte count where it should be: the same room as new. */
	assert_int_equal(capacity(c), want);
	cache_close(c);
}

#define THREADS 8
#define THREAD_OPS 4000

struct worker {
	pthread_t tid;
	struct cache *c;
	int id;
	int errors;             /* cmocka's asserts are not for other threads */
};

static void *incr_worker(void *arg)
{
	struct worker *w = arg;
	struct error e;
	for (int i = 0; i < THREAD_OPS; i++) {
		int64_t n, left;
		if (cache_incr(w->c, "shared", 1, LONG_TTL, &n, &left, &e) != CACHE_OK || n < 1)
			w->errors++;
		if (ratelimit_hit(w->c, "rl", THREADS * THREAD_OPS / 2, LONG_TTL, &n, &e) < 0)
			w->errors++;
	}
	return NULL;
}

static void *set_get_worker(void *arg)
{
	struct worker *w = arg;
	struct error e;
	uint64_t seed = 0x1234567u + (uint64_t)w->id * 977;
	for (int i = 0; i < THREAD_OPS; i++) {
		char key[32], val[160];
		snprintf(key, sizeof key, "k%d", (int)(rnd(&seed) % 200));
		int len = snprintf(val, sizeof val, "%s=%d.%d.", key, w->id, i);
		size_t pad = (size_t)(rnd(&seed) % 100);
		memset(val + len, 'x', pad);
		val[(size_t)len + pad] = '\0';
		switch (rnd(&seed) % 5) {
		case 0:
			if (cache_set(w->c, key, val, strlen(val), 1 + (int64_t)(rnd(&seed) % 20), &e))
				w->errors++;
			break;
		case 1:
			if (cache_del(w->c, key, &e) == CACHE_ERROR)
				w->errors++;
			break;
		case 2:
			if (cache_set(w->c, key, val, strlen(val), LONG_TTL, &e))
				w->errors++;
			break;
		default: {
			char *v = NULL;
			size_t n;
			enum cache_rc rc = cache_get(w->c, key, &v, &n, &e);
			/* Whoever wrote it, the value belongs to this key. */
			if (rc == CACHE_ERROR || (rc == CACHE_OK && (n != strlen(v) ||
					strncmp(v, key, strlen(key)) || v[strlen(key)] != '=')))
				w->errors++;
			free(v);
		}
		}
	}
	return NULL;
}

static void run_workers(struct cache *c, void *(*fn)(void *))
{
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .c = c, .id = i };
		assert_int_equal(pthread_create(&w[i].tid, NULL, fn, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		assert_int_equal(w[i].errors, 0);
	}
}

static void test_threads(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	run_workers(c, incr_worker);
	expect_str(c, "shared", "32000");
	int64_t n, left;
	assert_int_equal(cache_incr(c, "rl", 0, LONG_TTL, &n, &left, NULL), CACHE_OK);
	assert_int_equal(n, THREADS * THREAD_OPS);
	cache_close(c);

	/* Small enough that the threads evict each other's entries. */
	c = open_memory(8000);
	run_workers(c, set_get_worker);
	cache_close(c);
}

static void test_ratelimit(void **state)
{
	(void)state;
	struct cache *c = open_memory(1 << 20);
	struct error e = { { 0 } };
	int64_t retry = -1;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(ratelimit_hit(c, "ip:1", 5, 10000, &retry, &e), 1);
		assert_int_equal(retry, 0);
	}
	for (int i = 0; i < 3; i++) {
		retry = -1;
		assert_int_equal(ratelimit_hit(c, "ip:1", 5, 10000, &retry, &e), 0);
		assert_true(retry >= 1 && retry <= 10);
	}
	/* Another key has its own window. */
	assert_int_equal(ratelimit_hit(c, "ip:2", 5, 10000, &retry, &e), 1);
	/* Seconds round up: 1.5 s left is 2. */
	assert_int_equal(ratelimit_hit(c, "half", 0, 1500, &retry, &e), 0);
	assert_int_equal(retry, 2);
	/* Short windows still say at least 1 s. */
	assert_int_equal(ratelimit_hit(c, "tiny", 0, 5, &retry, &e), 0);
	assert_int_equal(retry, 1);
	assert_int_equal(ratelimit_hit(c, "tiny", 0, 5, NULL, &e), 0);

	/* The window ends and the count starts again. */
	assert_int_equal(ratelimit_hit(c, "w", 2, SHORT_TTL, &retry, &e), 1);
	assert_int_equal(ratelimit_hit(c, "w", 2, SHORT_TTL, &retry, &e), 1);
	assert_int_equal(ratelimit_hit(c, "w", 2, SHORT_TTL, &retry, &e), 0);
	assert_int_equal(retry, 1);
	sleep_ms(SHORT_TTL * 2);
	assert_int_equal(ratelimit_hit(c, "w", 2, SHORT_TTL, &retry, &e), 1);
	assert_int_equal(ratelimit_hit(c, "w", 2, SHORT_TTL, &retry, &e), 1);
	assert_int_equal(ratelimit_hit(c, "w", 2, SHORT_TTL, &retry, &e), 0);

	/* Peeking counts nothing. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(ratelimit_peek(c, "p", 2, 10000, &retry, &e), 1);
	assert_int_equal(ratelimit_hit(c, "p", 2, 10000, &retry, &e), 1);
	assert_int_equal(ratelimit_peek(c, "p", 2, 10000, &retry, &e), 1);
	assert_int_equal(ratelimit_hit(c, "p", 2, 10000, &retry, &e), 1);
	retry = -1;
	assert_int_equal(ratelimit_peek(c, "p", 2, 10000, &retry, &e), 0);
	assert_true(retry >= 1 && retry <= 10);
	expect_str(c, "p", "2");
	assert_int_equal(ratelimit_peek(c, "none", 0, 10000, &retry, &e), 0);

	/* A cache error is -1 with the reason; callers fail open. */
	e.msg[0] = '\0';
	assert_int_equal(ratelimit_hit(c, "x", 5, 0, &retry, &e), -1);
	assert_true(e.msg[0] != '\0');
	set_str(c, "text", "hello", LONG_TTL);
	assert_int_equal(ratelimit_hit(c, "text", 5, 10000, &retry, &e), -1);
	assert_int_equal(ratelimit_peek(c, "text", 5, 10000, &retry, &e), -1);
	cache_close(c);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_urls),
		cmocka_unit_test(test_set_get_del),
		cmocka_unit_test(test_binary_values),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_incr),
		cmocka_unit_test(test_key_limits),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_expired_first),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_ratelimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
