/*
 * The small pieces everything stands on: the JSON error body, id generation
 * and validation, bounded buffers, the request pool, timestamps, and the
 * OpenAPI document built from the real route table, background writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/bgwrite.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/pool.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "http/request.h"
#include "testutil.h"

static void test_error_body(void **state)
{
	(void)state;
	json_t *b = http_error_body("not_found", "no session x", "req-1", 1795304400123LL);
	assert_non_null(b);
	assert_int_equal(json_object_size(b), 4);
	assert_string_equal(json_string_value(json_object_get(b, "error")), "not_found");
	assert_string_equal(json_string_value(json_object_get(b, "detail")), "no session x");
	assert_string_equal(json_string_value(json_object_get(b, "timestamp")),
			    "2026-11-21T23:40:00.123Z");
	assert_string_equal(json_string_value(json_object_get(b, "request_id")), "req-1");
	json_decref(b);

	/* A detail that is not UTF-8 still yields a valid body. */
	b = http_error_body("bad_request", "bad \xff byte", "r", 0);
	assert_non_null(b);
	assert_non_null(json_string_value(json_object_get(b, "detail")));
	assert_string_equal(json_string_value(json_object_get(b, "timestamp")),
			    "1970-01-01T00:00:00.000Z");
	json_decref(b);
}

static bool base64url(const char *s)
{
	for (; *s; s++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *s))
			return false;
	return true;
}

static void test_random_ids(void **state)
{
	(void)state;
	enum { COUNT = 2000 };
	char (*ids)[ID_CHARS(18)] = calloc(COUNT, sizeof *ids);
	for (int i = 0; i < COUNT; i++) {
		id_random(ids[i], 18);
		assert_int_equal(strlen(ids[i]), 24);
		assert_true(base64url(ids[i]));
		assert_true(id_session_valid(ids[i]));
	}
	for (int i = 0; i < COUNT; i++)
		for (int j = i + 1; j < COUNT; j++)
			assert_string_not_equal(ids[i], ids[j]);
	free(ids);
	char rid[ID_CHARS(16)];
	id_random(rid, 16);
	assert_int_equal(strlen(rid), 22);
	assert_true(id_request_valid(rid));
}

static void test_id_validation(void **state)
{
	(void)state;
	char max[SESSION_ID_MAX + 2];
	memset(max, 'a', SESSION_ID_MAX);
	max[SESSION_ID_MAX] = '\0';
	assert_true(id_session_valid(max));
	max[SESSION_ID_MAX] = 'a';
	max[SESSION_ID_MAX + 1] = '\0';
	assert_false(id_session_valid(max));
	assert_true(id_session_valid("my-sess_1"));
	assert_false(id_session_valid(""));
	assert_false(id_session_valid(NULL));
	assert_false(id_session_valid("a b"));
	assert_false(id_session_valid("a.b"));
	assert_false(id_session_valid("../x"));
	assert_false(id_session_valid("\xc3\xa4"));
	assert_true(id_request_valid("trace-1.2:3"));
	assert_false(id_request_valid("has space"));
	assert_false(id_request_valid("quote\""));
	assert_false(id_request_valid(""));
	char longid[REQUEST_ID_MAX + 2];
	memset(longid, 'r', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	assert_false(id_request_valid(longid));
	longid[REQUEST_ID_MAX] = '\0';
	assert_true(id_request_valid(longid));
}

static void test_buf_limit(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, "%d", 12345), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "hello12345");
	assert_int_equal(buf_append(&b, "x", 1), -1);   /* over the ceiling */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "hello12345");
	assert_int_equal(buf_printf(&b, "%s", "y"), -1);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "0123456789", 10), 0);
	char *s = buf_detach(&b);
	assert_string_equal(s, "0123456789");
	assert_null(b.data);
	free(s);
	buf_free(&b);
}

static void test_pool(void **state)
{
	(void)state;
	struct pool *p = pool_new();
	char *last = NULL;
	for (int i = 0; i < 1000; i++) {
		last = pool_printf(p, "item-%d", i);
		assert_non_null(last);
	}
	assert_string_equal(last, "item-999");
	unsigned char *big = pool_alloc(p, 100000);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(big[i], 0);
	assert_string_equal(pool_strndup(p, "abcdef", 3), "abc");
	assert_int_equal((uintptr_t)pool_alloc(p, 3) % _Alignof(max_align_t), 0);
	pool_free(p);
	pool_free(NULL);
}

static void test_rfc3339(void **state)
{
	(void)state;
	char ts[RFC3339_LEN];
	assert_string_equal(clock_rfc3339(0, ts), "1970-01-01T00:00:00.000Z");
	assert_string_equal(clock_rfc3339(951782400999LL, ts), "2000-02-29T00:00:00.999Z");
	assert_string_equal(clock_rfc3339(-1, ts), "1969-12-31T23:59:59.999Z");
	assert_true(clock_now_ms() > 1700000000000LL);
}

static void test_openapi_from_routes(void **state)
{
	(void)state;
	struct error e;
	json_t *doc = openapi_build(api_routes, api_routes_count, "test", &e);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	json_t *paths = json_object_get(doc, "paths");
	for (size_t i = 0; i < api_routes_count; i++) {
		json_t *item = json_object_get(paths, api_routes[i].pattern);
		assert_non_null(item);
		char m[16];
		const char *name = http_method_name(api_routes[i].method);
		size_t k = 0;
		for (; name[k]; k++)
			m[k] = (char)(name[k] | 0x20);
		m[k] = '\0';
		json_t *op = json_object_get(item, m);
		assert_non_null(op);
		assert_non_null(json_object_get(json_object_get(op, "responses"), "4XX"));
	}
	/* The path parameter was documented from the pattern. */
	json_t *get = json_object_get(json_object_get(paths, "/api/session/{session_id}"), "get");
	json_t *param = json_array_get(json_object_get(get, "parameters"), 0);
	assert_string_equal(json_string_value(json_object_get(param, "name")), "session_id");
	assert_string_equal(json_string_value(json_object_get(param, "in")), "path");
	assert_true(json_is_true(json_object_get(param, "required")));
	json_decref(doc);

	static const struct route broken[] = { { HTTP_GET, "/x", NULL, "{not json", ROUTE_USER } };
	assert_null(openapi_build(broken, 1, "test", &e));
	assert_non_null(strstr(e.msg, "GET /x"));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_int_equal(utf8_seq("a"), 1);
	assert_int_equal(utf8_seq("\xc3\xa9"), 2);
	assert_int_equal(utf8_seq("\xed\x95\x9c"), 3);           /* 한 */
	assert_int_equal(utf8_seq("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(utf8_seq("\xff"), 0);
	assert_int_equal(utf8_seq("\xc0\xaf"), 0);                /* overlong '/' */
	assert_int_equal(utf8_seq("\xed\xa0\x80"), 0);           /* surrogate */
	assert_int_equal(utf8_seq("\xe2\x82"), 0);                /* cut short */
	assert_int_equal(utf8_prefix("ab\xed\x95\x9c", 4), 2);   /* never half a 한 */
	assert_int_equal(utf8_prefix("ab\xed\x95\x9c", 5), 5);
	assert_int_equal(utf8_prefix("\xff\xff", 1), 1);
	assert_int_equal(utf8_prefix("", 10), 0);
}

static uint64_t lcg_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

/* utf8_valid_n (16 or 32 bytes at a time) against the byte-wise utf8_seqn. */
static bool utf8_valid_slow(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seqn(s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static void check_utf8_blocks(void)
{
	static const unsigned char odd[] = { 0x00, 'a',  0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
					     0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
					     0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF };
	const size_t nodd = sizeof odd;
	char buf[64];
	/* every sequence of up to four interesting bytes, across a 16-byte
	 * block (or AVX2 lane) edge and a 32-byte one */
	for (size_t a = 0; a < nodd; a++)
		for (size_t b = 0; b < nodd; b++)
			for (size_t c = 0; c < nodd; c++)
				for (size_t d = 0; d <= nodd; d++) {
					size_t len = d < nodd ? 4 : 3;
					for (size_t at = 12; at <= 32; at += at == 16 ? 12 : 2) {
						memset(buf, 'x', sizeof buf);
						buf[at] = (char)odd[a];
						buf[at + 1] = (char)odd[b];
						buf[at + 2] = (char)odd[c];
						if (d < nodd)
							buf[at + 3] = (char)odd[d];
						size_t n = at + len + (a & 1) * 9;   /* some end there */
						if (utf8_valid_n(buf, n) != utf8_valid_slow(buf, n))
							fail_msg("%02x %02x %02x %s at %zu, n %zu", odd[a],
								 odd[b], odd[c], d < nodd ? "+1" : "", at,
								 n);
					}
				}
	/* random text: mostly valid characters of every length, now and then an
	 * interesting byte, 0 to 63 bytes long */
	uint64_t seed = 42;
	for (int round = 0; round < 200000; round++) {
		size_t n = 0, want = (size_t)(lcg_next(&seed) % 64);
		while (n < want) {
			uint32_t r = (uint32_t)lcg_next(&seed);
			if (r % 23 == 0) {
				buf[n++] = (char)odd[(r >> 8) % nodd];
				continue;
			}
			static const uint32_t cps[] = { 'a', 0xE9, 0x7FF, 0x800, 0xD55C, 0xFFFD, 0x10000, 0x10FFFF };
			uint32_t cp = cps[(r >> 8) % 8];
			char tmp[4];
			size_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
			if (k == 1) {
				tmp[0] = (char)cp;
			} else {
				for (size_t j = k - 1; j > 0; j--, cp >>= 6)
					tmp[j] = (char)(0x80 | (cp & 0x3F));
				tmp[0] = (char)((0xF00 >> k) | cp);
			}
			for (size_t j = 0; j < k && n < sizeof buf; j++)
				buf[n++] = tmp[j];
		}
		if (utf8_valid_n(buf, n) != utf8_valid_slow(buf, n))
			fail_msg("round %d, %zu bytes", round, n);
	}
	assert_true(utf8_valid_n("", 0));
	assert_true(utf8_valid_n("\xeb\x8c\x80\xea\xb5\xac", 6));   /* 대구 */
	assert_false(utf8_valid_n("\xeb\x8c\x80\xea\xb5", 5));       /* cut */
}

static void test_utf8_blocks(void **state)
{
	(void)state;
	check_utf8_blocks();             /* AVX2 where the CPU has it */
	bool old = utf8_test_no_avx2(true);
	check_utf8_blocks();             /* SSSE3 */
	utf8_test_no_avx2(old);
}

static void test_sha256(void **state)
{
	(void)state;
	char hex[SHA256_HEX];
	struct sha256 *h = sha256_new();
	sha256_finish(h, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	h = sha256_new();
	sha256_update(h, "a", 1);
	sha256_update(h, "", 0);
	sha256_update(h, "bc", 2);
	sha256_finish(h, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_free(sha256_new());
	sha256_free(NULL);
}

/* Pieces of a file written in the background land at their offsets, in
 * any order, through more pieces than buffers; one written now lands too. */
static void bgwrite_file(const char *path, bool direct)
{
	enum { PIECE = 3 * BGWRITE_ALIGN, PIECES = 11 };
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0), 0600);
	if (fd < 0 && direct && errno == EINVAL)
		return;   /* a file system without direct I/O: the other run covers it */
	assert_true(fd >= 0);
	struct error e = { 0 };
	struct bgwrite *b = bgwrite_new(fd, path, 3, PIECE, direct);
	for (int k = 0; k < PIECES; k++) {
		uint8_t *p = bgwrite_buffer(b, &e);
		assert_non_null(p);
		memset(p, 'a' + k, PIECE);
		/* Pieces 1..PIECES, last first, so no write extends the file in order. */
		expect_rc(bgwrite_submit(b, PIECE, (uint64_t)(PIECES - k) * PIECE, &e), 0, e);
	}
	expect_rc(bgwrite_drain(b, &e), 0, e);
	uint8_t *head = bgwrite_buffer(b, &e);
	memset(head, 'Z', PIECE);
	expect_rc(bgwrite_now(b, head, PIECE, 0, &e), 0, e);
	/* A length direct I/O refuses: written through the page cache instead. */
	uint8_t *tail = bgwrite_buffer(b, &e);
	memcpy(tail, "tail", 4);
	expect_rc(bgwrite_submit(b, 4, (uint64_t)(PIECES + 1) * PIECE, &e), 0, e);
	expect_rc(bgwrite_drain(b, &e), 0, e);
	bgwrite_free(b);
	close(fd);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	static uint8_t got[(PIECES + 1) * PIECE + 4];
	assert_int_equal(pread(fd, got, sizeof got, 0), sizeof got);
	assert_int_equal(pread(fd, got, 1, sizeof got), 0);   /* nothing beyond */
	close(fd);
	for (size_t i = 0; i < PIECE; i++)
		assert_int_equal(got[i], 'Z');
	for (int k = 0; k < PIECES; k++) {
		const uint8_t *piece = got + (size_t)(PIECES - k) * PIECE;
		for (size_t i = 0; i < PIECE; i += 1021)
			assert_int_equal(piece[i], 'a' + k);
		assert_int_equal(piece[PIECE - 1], 'a' + k);
	}
	assert_memory_equal(got + (PIECES + 1) * PIECE, "tail", 4);
	unlink(path);
}

static void test_bgwrite(void **state)
{
	(void)state;
	char dir[] = "/tmp/sheaf-bgwrite-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/f", dir);
	bgwrite_file(path, false);
	bgwrite_file(path, true);

	/* A write that fails (the file is open read-only): its message comes
	 * back from every later call, and freeing drops what is left. */
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	struct error e = { 0 };
	struct bgwrite *b = bgwrite_new(fd, "the-name", 2, 4096, false);
	uint8_t *p = bgwrite_buffer(b, &e);
	memset(p, 'x', 4096);
	expect_rc(bgwrite_submit(b, 4096, 0, &e), 0, e);
	assert_int_equal(bgwrite_drain(b, &e), -1);
	assert_non_null(strstr(e.msg, "write the-name: Bad file descriptor"));
	e.msg[0] = 0;
	assert_null(bgwrite_buffer(b, &e));
	assert_non_null(strstr(e.msg, "the-name"));
	e.msg[0] = 0;
	assert_int_equal(bgwrite_submit(b, 10, 0, &e), -1);
	assert_non_null(strstr(e.msg, "the-name"));
	assert_int_equal(bgwrite_now(b, "x", 1, 0, &e), -1);
	bgwrite_free(b);
	close(fd);

	/* Freed with writes still pending: dropped, nothing leaks. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	b = bgwrite_new(fd, path, 2, 4096, false);
	for (int k = 0; k < 5; k++) {
		p = bgwrite_buffer(b, &e);
		assert_non_null(p);
		memset(p, 'y', 4096);
		expect_rc(bgwrite_submit(b, 4096, (uint64_t)k * 4096, &e), 0, e);
	}
	bgwrite_free(b);
	close(fd);
	bgwrite_free(NULL);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_random_ids),
		cmocka_unit_test(test_id_validation),
		cmocka_unit_test(test_buf_limit),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_openapi_from_routes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_blocks),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_bgwrite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
