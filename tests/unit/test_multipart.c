/*
 * The multipart/form-data parser (http/multipart.h): boundaries from
 * Content-Type; bodies as Chrome, Firefox and curl send them, byte-exact;
 * every way of cutting a body into pieces gives the same callbacks;
 * delimiter look-alikes inside content are content; empty parts; a missing
 * close delimiter; each limit, at and just past it; malformed headers;
 * filename, filename* and escapes; LF-only bodies; a receiver that stops;
 * and that data is handed over as soon as it cannot be a delimiter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "http/multipart.h"

/* What the callbacks saw, as one string: "<name|filename|type>" for a
 * begin (NULL shown as "~"), the data bytes as they are, "</>" for an end.
 * Adjacent data calls therefore look the same however the body was cut. */
struct rec {
	struct buf log;
	bool in_part;
	size_t parts, data_calls, data_bytes;
	int stop_at_begin, stop_at_data, stop_at_end;   /* stop on the Nth call (1-based) */
	size_t begins, ends;
};

#define CD "Content-Disposition: form-data; "

static int rec_begin(void *ctx, const struct multipart_part *p)
{
	struct rec *r = ctx;
	assert_false(r->in_part);
	assert_int_equal(p->index, r->parts);
	r->in_part = true;
	r->parts++;
	buf_printf(&r->log, "<%s|%s|%s>", p->name, p->filename ? p->filename : "~",
		   p->content_type ? p->content_type : "~");
	return ++r->begins == (size_t)r->stop_at_begin ? -1 : 0;
}

static int rec_data(void *ctx, const char *p, size_t n)
{
	struct rec *r = ctx;
	assert_true(r->in_part);
	assert_true(n > 0);
	buf_append(&r->log, p, n);
	r->data_calls++;
	r->data_bytes += n;
	return r->data_calls == (size_t)r->stop_at_data ? -1 : 0;
}

static int rec_end(void *ctx)
{
	struct rec *r = ctx;
	assert_true(r->in_part);
	r->in_part = false;
	buf_puts(&r->log, "</>");
	return ++r->ends == (size_t)r->stop_at_end ? -1 : 0;
}

static const struct multipart_callbacks rec_cb = { rec_begin, rec_data, rec_end };

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->log, 64 * 1024 * 1024);
	buf_puts(&r->log, "");
}

/* Parses body cut at the given positions (ascending, may be empty); the
 * log gets "!" and the error message appended on failure.  Returns rc. */
static int parse_cuts(const char *boundary, const struct multipart_limits *lim, const char *body,
		      size_t len, const size_t *cuts, size_t ncuts, struct rec *r)
{
	rec_init(r);
	struct multipart *mp = multipart_new(boundary, lim, &rec_cb, r);
	assert_non_null(mp);
	struct error e = { { 0 } };
	int rc = 0;
	size_t at = 0;
	for (size_t i = 0; i <= ncuts && rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		rc = multipart_feed(mp, body + at, end - at, &e);
		at = end;
	}
	if (rc == 0)
		rc = multipart_finish(mp, &e);
	if (rc)
		buf_printf(&r->log, "!%s", e.msg);
	multipart_free(mp);
	return rc;
}

static int parse_chunked(const char *boundary, const struct multipart_limits *lim,
			 const char *body, size_t len, size_t chunk, struct rec *r)
{
	size_t ncuts = 0;
	size_t *cuts = malloc((len / (chunk ? chunk : 1) + 1) * sizeof *cuts);
	for (size_t at = chunk; chunk && at < len; at += chunk)
		cuts[ncuts++] = at;
	int rc = parse_cuts(boundary, lim, body, len, cuts, ncuts, r);
	free(cuts);
	return rc;
}

static int parse(const char *boundary, const char *body, size_t len, struct rec *r)
{
	return parse_cuts(boundary, NULL, body, len, NULL, 0, r);
}

/* Whole, and one byte at a time: both must give want (which, when the
 * parse fails, ends in "!" + the message). */
static void expect(const char *boundary, const struct multipart_limits *lim, const char *body,
		   size_t len, const char *want, size_t want_len)
{
	struct rec r;
	for (size_t chunk = 0; chunk <= 1; chunk++) {
		parse_chunked(boundary, lim, body, len, chunk, &r);
		if (r.log.len != want_len || memcmp(r.log.data, want, want_len) != 0)
			fail_msg("chunk %zu:\n got  [%s]\n want [%s]", chunk, r.log.data, want);
		buf_free(&r.log);
	}
}

#define EXPECT(b, body, want) expect(b, NULL, body, sizeof body - 1, want, sizeof want - 1)

/* Expects failure with a message containing needle. */
static void expect_error(const char *boundary, const struct multipart_limits *lim,
			 const char *body, const char *needle)
{
	struct rec r;
	for (size_t chunk = 0; chunk <= 1; chunk++) {
		int rc = parse_chunked(boundary, lim, body, strlen(body), chunk, &r);
		const char *bang = strrchr(r.log.data, '!');
		if (rc != -1 || !bang || !strstr(bang, needle))
			fail_msg("chunk %zu: want an error with \"%s\", got [%s]", chunk, needle,
				 r.log.data);
		buf_free(&r.log);
	}
}

static void test_boundary(void **state)
{
	(void)state;
	char b[MULTIPART_BOUNDARY_MAX + 1];
	struct error e = { { 0 } };
	static const struct {
		const char *ct, *want;
	} ok[] = {
		{ "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
		  "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
		{ "Multipart/Form-Data; BOUNDARY=\"a b:c=d?\"", "a b:c=d?" },
		{ "multipart/form-data;boundary=abc;charset=utf-8", "abc" },
		{ "  multipart/form-data ; charset=\"utf-8\" ;  boundary=\"x y\"  ", "x y" },
		{ "multipart/form-data; boundary=a/b:c", "a/b:c" },
		{ "multipart/form-data; boundary=z;", "z" },
		{ "multipart/form-data; boundary=-----------------------------9051914041544843",
		  "-----------------------------9051914041544843" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		if (multipart_boundary(ok[i].ct, b, sizeof b, &e) != 0)
			fail_msg("%s: %s", ok[i].ct, e.msg);
		assert_string_equal(b, ok[i].want);
	}

	static const struct {
		const char *ct, *needle;
	} bad[] = {
		{ "multipart/mixed; boundary=x", "not multipart/form-data" },
		{ "text/plain; boundary=x", "not multipart/form-data" },
		{ "multipart/form-datax; boundary=x", "not multipart/form-data" },
		{ "multipart/form-data/x; boundary=x", "not multipart/form-data" },
		{ "", "not multipart/form-data" },
		{ "multipart/form-data", "no boundary" },
		{ "multipart/form-data; charset=utf-8", "no boundary" },
		{ "multipart/form-data; boundary=", "empty parameter value" },
		{ "multipart/form-data; boundary=\"\"", "1-70 valid" },
		{ "multipart/form-data; boundary=\"abc \"", "1-70 valid" },
		{ "multipart/form-data; boundary=ab@c", "1-70 valid" },
		{ "multipart/form-data; boundary=\"a\\\"b\"", "1-70 valid" },
		{ "multipart/form-data; boundary=\"a\\\\b\"", "1-70 valid" },
		/* Only \" and \\ are escapes. */
		{ "multipart/form-data; boundary=\"\\'q\\'\"", "1-70 valid" },
		{ "multipart/form-data; boundary=\"a\xc3\xa9\"", "1-70 valid" },
		{ "multipart/form-data; boundary=\"abc", "unterminated" },
		{ "multipart/form-data; boundary=abc def", "expected ';'" },
		{ "multipart/form-data; boundary=a\"b\"", "stray quote" },
		{ "multipart/form-data; boundary", "malformed parameter" },
		{ "multipart/form-data; =x", "malformed parameter" },
		{ "multipart/form-data; boundary=a; boundary=b", "two boundary" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memcpy(b, "junk", 5);
		e.msg[0] = '\0';
		if (multipart_boundary(bad[i].ct, b, sizeof b, &e) != -1 ||
		    !strstr(e.msg, bad[i].needle))
			fail_msg("%s: want \"%s\", got \"%s\"", bad[i].ct, bad[i].needle, e.msg);
		assert_string_equal(b, "");
	}

	/* 70 characters is the most. */
	char ct[200], want[72];
	memset(want, 'q', 70);
	want[70] = '\0';
	snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", want);
	assert_int_equal(multipart_boundary(ct, b, sizeof b, &e), 0);
	assert_string_equal(b, want);
	assert_int_equal(multipart_boundary(ct, b, 70, &e), -1);   /* no room for the NUL */
	assert_non_null(strstr(e.msg, "does not fit"));
	snprintf(ct, sizeof ct, "multipart/form-data; boundary=%sq", want);
	assert_int_equal(multipart_boundary(ct, b, sizeof b, &e), -1);
	assert_int_equal(multipart_boundary("multipart/form-data; boundary=x", b, 0, &e), -1);

	/* multipart_new checks the boundary too. */
	assert_null(multipart_new("", NULL, NULL, NULL));
	assert_null(multipart_new("a\r\nb", NULL, NULL, NULL));
	assert_null(multipart_new("trailing ", NULL, NULL, NULL));
	snprintf(ct, sizeof ct, "%sq", want);
	assert_null(multipart_new(ct, NULL, NULL, NULL));
	struct multipart *mp = multipart_new(want, NULL, NULL, NULL);
	assert_non_null(mp);
	multipart_free(mp);
	multipart_free(NULL);
}

/* Binary file content with everything a careless parser trips on. */
static const char png_like[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n--\r\n\r\n-\xff\xfe";

static void test_chrome_body(void **state)
{
	(void)state;
	const char *b = "----WebKitFormBoundaryx7MA4YWxkTrZu0gW";
	struct buf body, want;
	buf_init(&body, 1 << 20);
	buf_init(&want, 1 << 20);
	buf_printf(&body,
		   "------WebKitFormBoundaryx7MA4YWxkTrZu0gW\r\n"
		   "Content-Disposition: form-data; name=\"title\"\r\n"
		   "\r\n"
		   "Quarterly report\r\n"
		   "------WebKitFormBoundaryx7MA4YWxkTrZu0gW\r\n"
		   "Content-Disposition: form-data; name=\"note\"\r\n"
		   "\r\n"
		   "line one\r\nline two\r\n\r\n"
		   "------WebKitFormBoundaryx7MA4YWxkTrZu0gW\r\n"
		   "Content-Disposition: form-data; name=\"file\"; filename=\"%s.png\"\r\n"
		   "Content-Type: image/png\r\n"
		   "\r\n",
		   "\xeb\xb3\xb4\xea\xb3\xa0\xec\x84\x9c");   /* 보고서 */
	buf_append(&body, png_like, sizeof png_like - 1);
	buf_puts(&body, "\r\n"
			"------WebKitFormBoundaryx7MA4YWxkTrZu0gW\r\n"
			"Content-Disposition: form-data; name=\"file2\"; filename=\"\"\r\n"
			"Content-Type: application/octet-stream\r\n"
			"\r\n"
			"\r\n"
			"------WebKitFormBoundaryx7MA4YWxkTrZu0gW--\r\n");

	buf_puts(&want, "<title|~|~>Quarterly report</>"
			"<note|~|~>line one\r\nline two\r\n</>"
			"<file|\xeb\xb3\xb4\xea\xb3\xa0\xec\x84\x9c.png|image/png>");
	buf_append(&want, png_like, sizeof png_like - 1);
	buf_puts(&want, "</><file2||application/octet-stream></>");
	expect(b, NULL, body.data, body.len, want.data, want.len);

	/* Every chunk size gives the same, and so does every cut in two. */
	struct rec r;
	for (size_t chunk = 1; chunk <= body.len; chunk++) {
		assert_int_equal(parse_chunked(b, NULL, body.data, body.len, chunk, &r), 0);
		assert_int_equal(r.log.len, want.len);
		assert_memory_equal(r.log.data, want.data, want.len);
		buf_free(&r.log);
	}
	for (size_t cut = 0; cut <= body.len; cut++) {
		assert_int_equal(parse_cuts(b, NULL, body.data, body.len, &cut, 1, &r), 0);
		assert_int_equal(r.log.len, want.len);
		assert_memory_equal(r.log.data, want.data, want.len);
		buf_free(&r.log);
	}
	buf_free(&body);
	buf_free(&want);
}

static void test_firefox_and_curl_bodies(void **state)
{
	(void)state;
	/* Firefox: digits boundary, Content-Type on text files, an emoji name. */
	EXPECT("---------------------------9051914041544843365972754266",
	       "-----------------------------9051914041544843365972754266\r\n"
	       "Content-Disposition: form-data; name=\"text\"\r\n"
	       "\r\n"
	       "text default\r\n"
	       "-----------------------------9051914041544843365972754266\r\n"
	       CD "name=\"file1\"; filename=\"a \xf0\x9f\x98\x80.txt\"\r\n"
	       "Content-Type: text/plain\r\n"
	       "\r\n"
	       "Content of a.txt.\n\r\n"
	       "-----------------------------9051914041544843365972754266\r\n"
	       "Content-Disposition: form-data; name=\"file2\"; filename=\"a.html\"\r\n"
	       "Content-Type: text/html\r\n"
	       "\r\n"
	       "<!DOCTYPE html><title>Content of a.html.</title>\n\r\n"
	       "-----------------------------9051914041544843365972754266--\r\n",
	       "<text|~|~>text default</>"
	       "<file1|a \xf0\x9f\x98\x80.txt|text/plain>Content of a.txt.\n</>"
	       "<file2|a.html|text/html><!DOCTYPE html><title>Content of a.html.</title>\n</>");

	/* curl -F: 24 dashes + hex, lower-case type parameter order. */
	EXPECT("------------------------d74496d66958873e",
	       "--------------------------d74496d66958873e\r\n"
	       "Content-Disposition: form-data; name=\"person\"\r\n"
	       "\r\n"
	       "anonymous\r\n"
	       "--------------------------d74496d66958873e\r\n"
	       "Content-Disposition: form-data; name=\"secret\"; filename=\"file.txt\"\r\n"
	       "Content-Type: text/plain\r\n"
	       "\r\n"
	       "contents of the file\n\r\n"
	       "--------------------------d74496d66958873e--\r\n",
	       "<person|~|~>anonymous</><secret|file.txt|text/plain>contents of the file\n</>");
}

static void test_preamble_epilogue(void **state)
{
	(void)state;
	EXPECT("b",
	       "This is the preamble.\r\n--bX not it\r\n-b\r\n"
	       "--b\r\n"
	       "Content-Disposition: form-data; name=a\r\n"
	       "X-Extra: ignored\r\n"
	       "\r\n"
	       "1\r\n"
	       "--b--\r\n"
	       "epilogue\r\n--b\r\nContent-Disposition: nonsense\r\n\r\n",
	       "<a|~|~>1</>");
	/* Transport padding after the delimiter, close without a line end. */
	EXPECT("b", "--b \t\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b\t\r\n"
		    "Content-Disposition: form-data; name=c\r\n\r\ny\r\n--b--",
	       "<a|~|~>x</><c|~|~>y</>");
	/* An empty form: just the close delimiter. */
	EXPECT("b", "--b--\r\n", "");
	EXPECT("b", "preamble\r\n--b--", "");
}

static void test_delimiter_lookalikes(void **state)
{
	(void)state;
	const char *b = "AaB03x";
	static const char content[] =
		"--AaB03x at the start of a line but without CRLF\r\n"
		"x--AaB03x\r\n"
		"\r\n--AaB03"
		"\r\n--AaB03x_not_it\r\n"
		"\r\n--AaB03xX"
		"\r\n--AaB03x-x"
		"\r\n--AaB03x-"
		"\r\n--AaB03x\rx"
		"\r\n--AaB03x\r"
		"\r\r\n--AaB03\r\n--AaB03\r"
		"x\n--AaB03x\r\n"   /* a bare LF delimiter in a CRLF body */
		"\r\n-"
		"\r\n--"
		"\r";
	struct buf body, want;
	buf_init(&body, 1 << 20);
	buf_init(&want, 1 << 20);
	buf_puts(&body, "--AaB03x\r\n" CD "name=\"f\"; filename=\"x\"\r\n\r\n");
	buf_append(&body, content, sizeof content - 1);
	buf_puts(&body, "\r\n--AaB03x--");
	buf_puts(&want, "<f|x|~>");
	buf_append(&want, content, sizeof content - 1);
	buf_puts(&want, "</>");
	expect(b, NULL, body.data, body.len, want.data, want.len);
	struct rec r;
	for (size_t i = 0; i < body.len; i++)
		for (size_t j = i; j < body.len; j++) {
			size_t cuts[2] = { i, j };
			assert_int_equal(parse_cuts(b, NULL, body.data, body.len, cuts, 2, &r), 0);
			assert_int_equal(r.log.len, want.len);
			assert_memory_equal(r.log.data, want.data, want.len);
			buf_free(&r.log);
		}
	buf_free(&body);
	buf_free(&want);

	/* The CR before the delimiter is the delimiter's; one more is data. */
	EXPECT("b", "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\r\n--b--",
	       "<a|~|~>x\r</>");
	/* Padding followed by anything but a line end cannot be data. */
	expect_error("b", NULL, "--b\r\n" CD "name=a\r\n\r\nx\r\n--b  y\r\n",
		     "malformed delimiter line after part 1");
	expect_error("b", NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b \rx",
		     "malformed delimiter line");
}

static void test_empty_parts(void **state)
{
	(void)state;
	EXPECT("b",
	       "--b\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"e.bin\"\r\n\r\n"
	       "\r\n--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n"
	       "\r\n--b\r\nContent-Disposition: form-data; name=\"z\"\r\nContent-Type:\r\n\r\n"
	       "\r\n--b--\r\n",
	       "<empty|e.bin|~></><|~|~></><z|~|~></>");
}

static void test_missing_close(void **state)
{
	(void)state;
	const char *part = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ndata";
	expect_error("b", NULL, part, "ended in part 1 (no close delimiter)");
	expect_error("b", NULL, "--b\r\nContent-Disposition: form-data; name=a\r\n\r\ndata\r\n--b",
		     "ended in part 1");
	expect_error("b", NULL, "--b\r\n" CD "name=a\r\n\r\ndata\r\n--b\r\n",
		     "ended in the headers of part 2");
	expect_error("b", NULL, "--b\r\nContent-Disp", "ended in the headers of part 1");
	/* The delimiter is CRLF "--" boundary: without the CRLF it is data. */
	expect_error("b", NULL, "--b\r\n" CD "name=a\r\n\r\ndata--b--\r\n", "ended in part 1");
	expect_error("b", NULL, "", "no delimiter");
	expect_error("b", NULL, "no delimiter here\r\n--c--\r\n", "no delimiter");
	expect_error("b", NULL, "--b-", "no delimiter");

	/* What came before the end was delivered. */
	struct rec r;
	assert_int_equal(parse("b", part, strlen(part), &r), -1);
	assert_int_equal(r.begins, 1);
	assert_int_equal(r.ends, 0);
	assert_int_equal(r.data_bytes, 4);
	buf_free(&r.log);
}

static void test_limits(void **state)
{
	(void)state;
	struct multipart_limits lim = { .max_header_bytes = 60, .max_parts = 3,
					.max_name_bytes = 5, .max_filename_bytes = 8 };
	/* "Content-Disposition: form-data; name=a\r\n" is 40 bytes, the blank line 2;
	 * an 18-byte header brings the block to exactly 60, one more byte is over. */
	const char *at = "--b\r\n" CD "name=a\r\nX: 1234567890123\r\n\r\nv\r\n--b--";
	const char *over = "--b\r\n" CD "name=a\r\nX: 12345678901234\r\n\r\nv\r\n--b--";
	expect("b", &lim, at, strlen(at), "<a|~|~>v</>", 11);
	expect_error("b", &lim, over, "headers longer than 60 bytes (max_header_bytes)");

	const char *three = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
			    "--b\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n"
			    "--b\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n--b--";
	expect("b", &lim, three, strlen(three), "<a|~|~>1</><b|~|~>2</><c|~|~>3</>", 33);
	const char *four = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
			   "--b\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n"
			   "--b\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n"
			   "--b\r\nContent-Disposition: form-data; name=d\r\n\r\n4\r\n--b--";
	expect_error("b", &lim, four, "more than 3 parts (max_parts)");
	struct rec r;
	assert_int_equal(parse_cuts("b", &lim, four, strlen(four), NULL, 0, &r), -1);
	assert_int_equal(r.ends, 3);   /* the three parts were complete */
	buf_free(&r.log);

	const char *body = "--b\r\n" CD "name=\"12345\"; filename=\"12345678\"\r\n\r\n\r\n--b--";
	struct multipart_limits wide = lim;
	wide.max_header_bytes = 200;
	expect("b", &wide, body, strlen(body), "<12345|12345678|~></>", 21);
	expect_error("b", &wide,
		     "--b\r\nContent-Disposition: form-data; name=\"123456\"\r\n\r\n\r\n--b--",
		     "field name longer than 5 bytes (max_name_bytes)");
	expect_error("b", &wide,
		     "--b\r\n" CD "name=a; filename=\"123456789\"\r\n\r\n\r\n--b--",
		     "filename longer than 8 bytes (max_filename_bytes)");
	/* Measured after decoding: 9 bytes of %-escapes are 3 bytes. */
	expect("b", &wide,
	       "--b\r\n" CD "name=a; filename*=UTF-8''%41%42%43\r\n\r\n\r\n--b--",
	       strlen("--b\r\n" CD "name=a; filename*=UTF-8''%41%42%43\r\n\r\n\r\n--b--"),
	       "<a|ABC|~></>", 12);

	/* Defaults: a NULL limits pointer and zero fields. */
	struct multipart_limits zero = { 0 };
	struct buf big;
	buf_init(&big, 1 << 20);
	buf_puts(&big, "--b\r\nContent-Disposition: form-data; name=a\r\nX: ");
	while (big.len < MULTIPART_DEFAULT_HEADER_BYTES + 5)   /* "--b\r\n" is not header */
		buf_puts(&big, "y");
	buf_puts(&big, "\r\n\r\n\r\n--b--");
	assert_int_equal(parse_cuts("b", &zero, big.data, big.len, NULL, 0, &r), -1);
	assert_non_null(strstr(r.log.data, "longer than 8192 bytes (max_header_bytes)"));
	buf_free(&r.log);
	buf_free(&big);

	buf_init(&big, 1 << 20);
	for (int i = 0; i <= MULTIPART_DEFAULT_PARTS; i++)
		buf_puts(&big, "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n");
	buf_puts(&big, "--b--");
	assert_int_equal(parse("b", big.data, big.len, &r), -1);
	assert_non_null(strstr(r.log.data, "more than 1000 parts (max_parts)"));
	assert_int_equal(r.ends, 1000);
	buf_free(&r.log);
	buf_free(&big);
}

static void test_malformed_headers(void **state)
{
	(void)state;
#define PART(h) "--b\r\n" h "\r\n\r\ndata\r\n--b--\r\n"
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ PART("Content-Type: text/plain"), "part 1: no Content-Disposition" },
		{ "--b\r\n\r\ndata\r\n--b--", "part 1: no Content-Disposition" },
		{ PART("Content-Disposition: attachment; name=a"), "not form-data" },
		{ PART("Content-Disposition: form-datax; name=a"), "not form-data" },
		{ PART("Content-Disposition: form-data"), "has no name" },
		{ PART(CD "filename=a"), "has no name" },
		{ PART("Content-Disposition form-data; name=a"), "without a colon" },
		{ PART(CD "name=a\r\nno colon here"), "without a colon" },
		{ PART(": x\r\n" CD "name=a"), "empty header name" },
		{ PART("Bad Name: x\r\n" CD "name=a"), "bad header name" },
		{ PART("Content-Disposition: form-data;\r\n name=a"), "folded header" },
		{ PART(CD "name=a\r\n\tx"), "folded header" },
		{ PART(CD "name=a\rX: y"), "bare CR" },
		{ PART(CD "name=a\r\n" CD "name=b"), "two Content-Disposition" },
		{ PART(CD "name=a\r\nContent-Type: a\r\ncontent-type: b"), "two Content-Type" },
		{ PART(CD "name=a; NAME=b"), "repeated NAME parameter" },
		{ PART(CD "name=a; filename=x; filename=y"), "repeated filename" },
		{ PART(CD "name=\"a"), "unterminated quoted string" },
		{ PART(CD "name=\"a\\\""), "unterminated quoted string" },
		{ PART(CD "name=a b"), "expected ';'" },
		{ PART(CD "name"), "malformed parameter" },
		{ PART("Content-Disposition: form-data name=a"), "expected ';'" },
		{ PART(CD "name=\"\xff\""), "field name is not UTF-8" },
		{ PART(CD "name=\"\xc0\xaf\""), "field name is not UTF-8" },
		{ PART(CD "name=a; filename=\"\xed\xa0\x80.txt\""), "filename is not UTF-8" },
		{ PART(CD "name=a; filename*=UTF-8''%ff.txt"), "filename is not UTF-8" },
		{ PART(CD "name=a; filename*=UTF-8''%4"), "bad percent-encoding" },
		{ PART(CD "name=a; filename*=UTF-8''%zz"), "bad percent-encoding" },
		{ PART(CD "name=a; filename*=UTF-8''a%00b"), "NUL byte" },
		{ PART(CD "name=a; filename*=KOI8-R''x"), "charset" },
		{ PART(CD "name=a; filename*=x.txt"), "charset'language'" },
		{ PART(CD "name=a; filename*=ISO-8859-1''\xc3\xa9"), "raw non-ASCII" },
	};
#undef PART
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct rec r;
		for (size_t chunk = 0; chunk <= 1; chunk++) {
			const char *body = bad[i].body;
			int rc = parse_chunked("b", NULL, body, strlen(body), chunk, &r);
			if (rc != -1 || !strstr(r.log.data, bad[i].needle))
				fail_msg("case %zu chunk %zu: want \"%s\", got [%s]", i, chunk,
					 bad[i].needle, r.log.data);
			assert_int_equal(r.begins, 0);
			buf_free(&r.log);
		}
	}
	static const char nul[] = "--b\r\n" CD "name=\"a\0\"\r\n\r\n--b--";
	struct rec r;
	assert_int_equal(parse("b", nul, sizeof nul - 1, &r), -1);
	assert_non_null(strstr(r.log.data, "part 1: NUL byte in a header"));
	buf_free(&r.log);
}

static void test_filenames(void **state)
{
	(void)state;
	/* filename* wins, in either order, and any case. */
	EXPECT("b",
	       "--b\r\nContent-Disposition: form-data; name=f; filename=\"fallback.txt\"; "
	       "filename*=UTF-8''%ED%95%9C%EA%B8%80.txt\r\n\r\n\r\n"
	       "--b\r\nContent-Disposition: form-data; name=g; FILENAME*=utf-8'ko'%F0%9F%98%80; "
	       "Filename=\"x\"\r\n\r\n\r\n"
	       "--b\r\ncontent-disposition: Form-Data; name=h; filename*=\"UTF-8''a%20b\"\r\n"
	       "\r\n\r\n"
	       "--b\r\n" CD "name=i; filename*=iso-8859-1''caf%E9\r\n\r\n\r\n"
	       "--b--",
	       "<f|\xed\x95\x9c\xea\xb8\x80.txt|~></>"
	       "<g|\xf0\x9f\x98\x80|~></>"
	       "<h|a b|~></>"
	       "<i|caf\xc3\xa9|~></>");
	/* Escaped quotes and backslashes; other backslashes stay, as in the
	 * Windows paths old browsers send; raw UTF-8 in a quoted filename. */
	EXPECT("b",
	       "--b\r\n" CD "name=\"a\\\"b\"; filename=\"say \\\"hi\\\".txt\"\r\n\r\n\r\n"
	       "--b\r\n" CD "name=p; filename=\"C:\\Users\\x\\report.csv\"\r\n\r\n\r\n"
	       "--b\r\nContent-Disposition: form-data; name=q; filename=\"a\\\\b\"\r\n\r\n\r\n"
	       "--b\r\nContent-Disposition: form-data; name=\"\xec\x9d\xb4\xeb\xa6\x84\"; "
	       "filename=\"\xed\x95\x9c\xea\xb8\x80 \xf0\x9f\x8e\x89.txt\"\r\n"
	       "Content-Type: text/plain; charset=utf-8\r\n\r\nok\r\n"
	       "--b\r\nContent-Disposition: form-data ; name = \"spaced\"\r\n\r\n\r\n"
	       "--b--",
	       "<a\"b|say \"hi\".txt|~></>"
	       "<p|C:\\Users\\x\\report.csv|~></>"
	       "<q|a\\b|~></>"
	       "<\xec\x9d\xb4\xeb\xa6\x84|\xed\x95\x9c\xea\xb8\x80 \xf0\x9f\x8e\x89.txt|"
	       "text/plain; charset=utf-8>ok</>"
	       "!multipart: part 5: bad Content-Disposition: malformed parameter");
	/* Unquoted values, unknown parameters, other headers. */
	EXPECT("b",
	       "--b\r\nContent-Disposition: form-data; name=up; filename=r.txt; size=3\r\n"
	       "Content-Transfer-Encoding: binary\r\n"
	       "Content-Type:  text/plain  \r\n\r\nabc\r\n--b--",
	       "<up|r.txt|text/plain>abc</>");
}

static void test_lf_only(void **state)
{
	(void)state;
	/* Hand-made bodies with bare LF: the first delimiter line decides. */
	EXPECT("b",
	       "--b\n"
	       "Content-Disposition: form-data; name=a\n"
	       "\n"
	       "one\n"
	       "--b\n"
	       "Content-Disposition: form-data; name=c; filename=t.txt\r\n"
	       "\r\n"
	       "two\r\n--b\r\n"   /* in LF mode the CR is data */
	       "Content-Disposition: form-data; name=d\n\nthree\n--b--\n",
	       "<a|~|~>one</><c|t.txt|~>two\r</><d|~|~>three</>");
	/* In CRLF mode a bare LF delimiter is data. */
	EXPECT("b",
	       "--b\r\nContent-Disposition: form-data; name=a\n\nx\n--b\ny\r\n--b--",
	       "<a|~|~>x\n--b\ny</>");
}

static void test_receiver_stops(void **state)
{
	(void)state;
	const char *body = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n12345\r\n"
			   "--b\r\nContent-Disposition: form-data; name=c\r\n\r\n67890\r\n--b--";
	for (int which = 0; which < 3; which++) {
		for (size_t chunk = 0; chunk <= 1; chunk++) {
			struct rec r;
			rec_init(&r);
			if (which == 0)
				r.stop_at_begin = 2;
			else if (which == 1)
				r.stop_at_data = 1;
			else
				r.stop_at_end = 1;
			struct multipart *mp = multipart_new("b", NULL, &rec_cb, &r);
			struct error e = { { 0 } };
			int rc = 0;
			size_t len = strlen(body), step = chunk ? chunk : len;
			for (size_t at = 0; at < len && rc == 0; at += step)
				rc = multipart_feed(mp, body + at, step, &e);
			assert_int_equal(rc, -1);
			assert_non_null(strstr(e.msg, "stopped by the receiver"));
			size_t calls = r.begins + r.data_calls + r.ends;
			/* Failed for good, without more callbacks. */
			memset(&e, 0, sizeof e);
			assert_int_equal(multipart_feed(mp, "x", 1, &e), -1);
			assert_non_null(strstr(e.msg, "stopped by the receiver"));
			memset(&e, 0, sizeof e);
			assert_int_equal(multipart_finish(mp, &e), -1);
			assert_non_null(strstr(e.msg, "stopped by the receiver"));
			assert_int_equal(r.begins + r.data_calls + r.ends, calls);
			assert_int_equal(multipart_finish(mp, NULL), -1);
			multipart_free(mp);
			buf_free(&r.log);
		}
	}
	/* NULL callbacks are skipped. */
	struct multipart *mp = multipart_new("b", NULL, NULL, NULL);
	assert_int_equal(multipart_feed(mp, body, strlen(body), NULL), 0);
	assert_int_equal(multipart_finish(mp, NULL), 0);
	multipart_free(mp);
}

/* Only a possible delimiter's start is ever held back. */
static void test_data_is_prompt(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r);
	struct multipart *mp = multipart_new("boundary", NULL, &rec_cb, &r);
	struct error e;
	const char *head = "--boundary\r\nContent-Disposition: form-data; name=f\r\n\r\n";
	assert_int_equal(multipart_feed(mp, head, strlen(head), &e), 0);
	assert_int_equal(multipart_feed(mp, "abc", 3, &e), 0);
	assert_int_equal(r.data_bytes, 3);
	assert_int_equal(multipart_feed(mp, NULL, 0, &e), 0);
	assert_int_equal(multipart_feed(mp, "def\r\n--boundar", 14, &e), 0);
	assert_int_equal(r.data_bytes, 6);   /* "\r\n--boundar" may still be a delimiter */
	assert_int_equal(multipart_feed(mp, "y", 1, &e), 0);
	assert_int_equal(r.data_bytes, 6);   /* the whole delimiter: wait for what follows */
	assert_int_equal(multipart_feed(mp, "-", 1, &e), 0);
	assert_int_equal(r.data_bytes, 6);   /* could be the close delimiter */
	assert_int_equal(multipart_feed(mp, "x", 1, &e), 0);
	assert_int_equal(r.data_bytes, 6 + 2 + 2 + 8 + 1 + 1);   /* it was data */
	assert_int_equal(multipart_feed(mp, "\r", 1, &e), 0);
	assert_int_equal(r.data_bytes, 20);
	assert_int_equal(multipart_feed(mp, "\n", 1, &e), 0);
	assert_int_equal(multipart_feed(mp, "--boundary--", 12, &e), 0);
	assert_int_equal(multipart_finish(mp, &e), 0);
	assert_int_equal(r.data_bytes, 20);
	assert_string_equal(r.log.data, "<f|~|~>abcdef\r\n--boundary-x</>");
	multipart_free(mp);
	buf_free(&r.log);
}

/* A large part in odd pieces arrives whole, in few calls. */
static void test_large_part(void **state)
{
	(void)state;
	enum { SIZE = 3 * 1024 * 1024 + 11 };
	const char *b = "----WebKitFormBoundaryQ";
	char *content = malloc(SIZE);
	uint32_t x = 12345;
	for (size_t i = 0; i < SIZE; i++) {
		x = x * 1103515245u + 12345u;
		content[i] = (char)(x >> 24);
	}
	/* Near-delimiters: cut short, and whole but followed by a letter. */
	static const char cut[] = "\r\n------WebKitFormBoundary";
	static const char letter[] = "\r\n------WebKitFormBoundaryQx";
	for (size_t i = 0; i + sizeof letter < SIZE; i += 4099) {
		if (i % 2)
			memcpy(content + i, cut, sizeof cut - 1);
		else
			memcpy(content + i, letter, sizeof letter - 1);
	}
	struct buf body;
	buf_init(&body, SIZE + 1024);
	buf_puts(&body, "------WebKitFormBoundaryQ\r\n"
			"Content-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n");
	size_t start = body.len;
	buf_append(&body, content, SIZE);
	buf_puts(&body, "\r\n------WebKitFormBoundaryQ--\r\n");

	struct rec r;
	size_t pieces[] = { 1, 7, 4096, 65536, 100003 };
	for (size_t k = 0; k < sizeof pieces / sizeof *pieces; k++) {
		if (parse_chunked(b, NULL, body.data, body.len, pieces[k], &r) != 0)
			fail_msg("%s", (char *)memrchr(r.log.data, '!', r.log.len));
		assert_int_equal(r.data_bytes, SIZE);
		assert_memory_equal(r.log.data + strlen("<f|big.bin|~>"), body.data + start, SIZE);
		/* Runs, not a call at every CR (the content has about 12000):
		 * one per piece, plus one for a look-alike cut by a piece end, and
		 * two more for each whole delimiter followed by a letter. */
		if (pieces[k] >= 4096)
			assert_true(r.data_calls <=
				    2 * (SIZE / pieces[k] + 1) + 2 * (SIZE / 4099 + 1));
		buf_free(&r.log);
	}
	free(content);
	buf_free(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_chrome_body),
		cmocka_unit_test(test_firefox_and_curl_bodies),
		cmocka_unit_test(test_preamble_epilogue),
		cmocka_unit_test(test_delimiter_lookalikes),
		cmocka_unit_test(test_empty_parts),
		cmocka_unit_test(test_missing_close),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_filenames),
		cmocka_unit_test(test_lf_only),
		cmocka_unit_test(test_receiver_stops),
		cmocka_unit_test(test_data_is_prompt),
		cmocka_unit_test(test_large_part),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
