/* The router: literal and parameter segments, precedence, 404 versus 405. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/api.h"
#include "http/request.h"
#include "http/router.h"

static void h_a(struct request *r) { (void)r; }
static void h_b(struct request *r) { (void)r; }
static void h_c(struct request *r) { (void)r; }
static void h_d(struct request *r) { (void)r; }

static const struct route routes[] = {
	{ HTTP_GET, "/health", h_a, "{}", ROUTE_USER },
	{ HTTP_GET, "/api/session/{session_id}", h_b, "{}", ROUTE_USER },
	{ HTTP_DELETE, "/api/session/{session_id}", h_c, "{}", ROUTE_USER },
	{ HTTP_GET, "/api/files/{file_id}/{part}", h_a, "{}", ROUTE_USER },
	{ HTTP_GET, "/api/files/session/{session_id}", h_d, "{}", ROUTE_USER },
	{ HTTP_GET, "/", h_c, "{}", ROUTE_USER },
};
#define N (sizeof routes / sizeof routes[0])

static enum router_result match(unsigned m, const char *path, const struct route **r,
				struct route_params *p, unsigned *allowed)
{
	return router_match(routes, N, m, path, r, p, allowed);
}

static void test_literal_and_params(void **state)
{
	(void)state;
	const struct route *r;
	struct route_params p;
	unsigned allowed;
	assert_int_equal(match(HTTP_GET, "/health", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r, &routes[0]);
	assert_int_equal(p.n, 0);

	assert_int_equal(match(HTTP_GET, "/api/session/abc-1", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r->handler, h_b);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.p[0].name_len, strlen("session_id"));
	assert_memory_equal(p.p[0].name, "session_id", p.p[0].name_len);
	assert_int_equal(p.p[0].value_len, 5);
	assert_memory_equal(p.p[0].value, "abc-1", 5);

	assert_int_equal(match(HTTP_DELETE, "/api/session/x", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r->handler, h_c);
	assert_int_equal(match(HTTP_GET, "/", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r->handler, h_c);
}

static void test_more_literals_win(void **state)
{
	(void)state;
	const struct route *r;
	struct route_params p;
	unsigned allowed;
	assert_int_equal(match(HTTP_GET, "/api/files/session/s1", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r->handler, h_d);
	assert_int_equal(match(HTTP_GET, "/api/files/f1/raw", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r->handler, h_a);
	assert_int_equal(p.n, 2);
}

static void test_not_found(void **state)
{
	(void)state;
	const struct route *r;
	struct route_params p;
	unsigned allowed;
	const char *paths[] = { "/nope", "/api/session", "/api/session/", "/api/session/a/b",
				"/health/", "//health", "", "health", "/api/session//" };
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		assert_int_equal(match(HTTP_GET, paths[i], &r, &p, &allowed), ROUTE_NOT_FOUND);
		assert_int_equal(allowed, 0);
		assert_null(r);
	}
}

static void test_method_not_allowed(void **state)
{
	(void)state;
	const struct route *r;
	struct route_params p;
	unsigned allowed;
	char allow[128];
	assert_int_equal(match(HTTP_POST, "/api/session/x", &r, &p, &allowed),
			 ROUTE_METHOD_NOT_ALLOWED);
	assert_string_equal(http_allow_list(allowed, allow, sizeof allow),
			    "GET, HEAD, DELETE, OPTIONS");
	assert_int_equal(match(0, "/health", &r, &p, &allowed), ROUTE_METHOD_NOT_ALLOWED);
	assert_int_equal(match(HTTP_OPTIONS, "/health", &r, &p, &allowed),
			 ROUTE_METHOD_NOT_ALLOWED);
	assert_true(allowed & HTTP_OPTIONS);
}

static void test_head_uses_get(void **state)
{
	(void)state;
	const struct route *r;
	struct route_params p;
	unsigned allowed;
	assert_int_equal(match(HTTP_HEAD, "/health", &r, &p, &allowed), ROUTE_FOUND);
	assert_ptr_equal(r, &routes[0]);
}

static void test_methods(void **state)
{
	(void)state;
	assert_int_equal(http_method_parse("GET"), HTTP_GET);
	assert_int_equal(http_method_parse("DELETE"), HTTP_DELETE);
	assert_int_equal(http_method_parse("get"), 0);
	assert_int_equal(http_method_parse("TRACE"), 0);
	assert_string_equal(http_method_name(HTTP_PATCH), "PATCH");
	char small[8];
	http_allow_list(HTTP_GET | HTTP_DELETE | HTTP_OPTIONS, small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

static void test_unescape(void **state)
{
	(void)state;
	char a[] = "/api/session/my%2Dsess%5f1";
	assert_int_equal(http_unescape(a), strlen("/api/session/my-sess_1"));
	assert_string_equal(a, "/api/session/my-sess_1");
	char b[] = "/x/victim%00junk";
	http_unescape(b);
	assert_string_equal(b, "/x/victim%00junk");
	char c[] = "%zz%4%";
	http_unescape(c);
	assert_string_equal(c, "%zz%4%");
	char d[] = "%C3%A4%2F";
	assert_int_equal(http_unescape(d), 3);
	assert_string_equal(d, "\xc3\xa4/");
}

/* The access policy of the real route table: routes under /api/auth/ are
 * public, every other route under /api/ runs as a signed-in user, so a new
 * route cannot slip through without a token by accident. */
static void test_api_access_policy(void **state)
{
	(void)state;
	for (size_t i = 0; i < api_routes_count; i++) {
		const struct route *r = &api_routes[i];
		/* Sign-in, and share links (the token is the permission). */
		if (strncmp(r->pattern, "/api/auth/", 10) == 0 ||
		    strncmp(r->pattern, "/api/datasets/shared/", 21) == 0)
			assert_true(r->flags & ROUTE_PUBLIC);
		else if (strncmp(r->pattern, "/api/", 5) == 0)
			assert_false(r->flags & ROUTE_PUBLIC);
		else if (strcmp(r->pattern, "/mcp") == 0)
			/* Public to the router: the handler checks Origin, then
			 * calls the same authenticate hook (tests/api prove it). */
			assert_true(strstr(r->operation, "bearerAuth") != NULL);
		else
			assert_true(r->flags & ROUTE_PUBLIC);
	}
}

static void expect_json(json_t *v, const char *want)
{
	char *text = http_json_text(v);
	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
	json_decref(v);
}

static void test_json_reals(void **state)
{
	(void)state;
	expect_json(json_pack("[f,f,f,f,f]", 35.83885696, 0.1 + 0.2, 99.0, -1e-300, 1e21),
		    "[35.83885696,0.30000000000000004,99.0,-1e-300,1e21]");
	/* Strings that look like numbers are left alone, escapes included. */
	expect_json(json_pack("{s:s,s:f,s:I}", "a\"35.838856960000001", "35.838856960000001",
			      "k", 0.1, "i", (json_int_t)12345678901234567),
		    "{\"a\\\"35.838856960000001\":\"35.838856960000001\",\"k\":0.1,"
		    "\"i\":12345678901234567}");
}

static void expect_range(const char *h, uint64_t size, int want, uint64_t start,
			 uint64_t length)
{
	uint64_t s = 999, l = 999;
	int got = http_range(h, size, &s, &l);
	assert_int_equal(got, want);
	if (want == 1) {
		assert_int_equal(s, start);
		assert_int_equal(l, length);
	}
}

static void test_range(void **state)
{
	(void)state;
	expect_range(NULL, 100, 0, 0, 0);
	expect_range("bytes=0-0", 100, 1, 0, 1);
	expect_range("bytes=0-99", 100, 1, 0, 100);
	expect_range("bytes=10-", 100, 1, 10, 90);
	expect_range("bytes=90-1000", 100, 1, 90, 10);
	expect_range("bytes=-1", 100, 1, 99, 1);
	expect_range("bytes=-500", 100, 1, 0, 100);
	expect_range("bytes=100-", 100, -1, 0, 0);
	expect_range("bytes=100-200", 100, -1, 0, 0);
	expect_range("bytes=-0", 100, -1, 0, 0);
	expect_range("bytes=0-", 0, -1, 0, 0);
	expect_range("bytes=-5", 0, -1, 0, 0);
	/* Ignored: the whole entity is sent. */
	expect_range("bytes=5-2", 100, 0, 0, 0);
	expect_range("bytes=0-1,5-6", 100, 0, 0, 0);
	expect_range("items=0-1", 100, 0, 0, 0);
	expect_range("bytes=a-b", 100, 0, 0, 0);
	expect_range("bytes=1-2x", 100, 0, 0, 0);
	expect_range("bytes=-", 100, 0, 0, 0);
	expect_range("bytes=99999999999999999999999-", 100, 0, 0, 0);
}

static void test_etag(void **state)
{
	(void)state;
	const char *tag = "\"abc\"";
	assert_false(http_etag_matches(NULL, tag));
	assert_true(http_etag_matches("\"abc\"", tag));
	assert_true(http_etag_matches("*", tag));
	assert_true(http_etag_matches("W/\"abc\"", tag));
	assert_true(http_etag_matches("\"x\", \"abc\"", tag));
	assert_true(http_etag_matches("\"x\",\"abc\" ", tag));
	assert_false(http_etag_matches("\"abcd\"", tag));
	assert_false(http_etag_matches("abc", tag));
	assert_false(http_etag_matches("", tag));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_and_params),
		cmocka_unit_test(test_more_literals_win),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_head_uses_get),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_api_access_policy),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_json_reals),
		cmocka_unit_test(test_etag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
