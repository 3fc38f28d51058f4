/*
 * The CSV reader (ingest/csv.h): quoting forms, embedded line ends, doubled
 * quotes and bytes after a closing quote; LF, CRLF, lone CR and mixes; the
 * BOM; empty input, header only, one column, 2000 columns; each limit at
 * and just past it; every cut of a tricky input gives the same records;
 * sniffing; line numbers; a receiver that stops; an unclosed quote.
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
#include "ingest/csv.h"

/* What the callback saw, as one string: "<line>" then "[field]" per field
 * and "\n" per record; a failure appends "!" and the message. */
struct rec {
	struct buf log;
	size_t records;
	size_t max_n;   /* most fields in a record */
	size_t stop_at; /* stop on this record (1-based; 0: never) */
};

static int on_record(void *ctx, const struct csv_field *f, size_t n, size_t line)
{
	struct rec *r = ctx;
	assert_true(n >= 1);
	buf_printf(&r->log, "%zu", line);
	for (size_t i = 0; i < n; i++) {
		buf_puts(&r->log, "[");
		buf_append(&r->log, f[i].ptr, f[i].len);
		buf_puts(&r->log, "]");
	}
	buf_puts(&r->log, "\n");
	if (n > r->max_n)
		r->max_n = n;
	return ++r->records == r->stop_at ? -1 : 0;
}

static const struct csv_callbacks cb = { on_record };

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->log, 256 * 1024 * 1024);
	buf_puts(&r->log, "");
}

/* Parses in[0, n) cut at cuts[] (ascending) into r; returns rc. */
static int parse_cuts(const struct csv_options *o, const char *in, size_t n, const size_t *cuts,
		      size_t ncuts, struct rec *r)
{
	rec_init(r);
	struct csv_reader *cr = csv_reader_new(o, &cb, r);
	assert_non_null(cr);
	struct error e = { { 0 } };
	int rc = 0;
	size_t at = 0;
	for (size_t i = 0; i <= ncuts && rc == 0; i++) {
		size_t to = i < ncuts ? cuts[i] : n;
		rc = csv_reader_feed(cr, in + at, to - at, &e);
		at = to;
	}
	if (rc == 0)
		rc = csv_reader_finish(cr, &e);
	if (rc) {
		assert_true(e.msg[0] != '\0');
		buf_printf(&r->log, "!%s", e.msg);
	}
	csv_reader_free(cr);
	return rc;
}

/* Parses s whole with delimiter ',' and checks the log. */
static void expect_opt(const struct csv_options *o, const char *s, size_t n, const char *want)
{
	struct rec r;
	parse_cuts(o, s, n, NULL, 0, &r);
	assert_string_equal(r.log.data, want);
	buf_free(&r.log);
}

static const struct csv_options comma = { ',', 0, 0 };

static void expect(const char *s, const char *want)
{
	expect_opt(&comma, s, strlen(s), want);
}

static void test_quoting(void **state)
{
	(void)state;
	expect("a,\"b,c\",\"d\"\"e\",\"\",x\"y,\"f\"g,\"h\"\"i\"j\n",
	       "1[a][b,c][d\"e][][x\"y][fg][h\"ij]\n");
	expect("\"\"\"\"\n", "1[\"]\n");
	expect("\"\"\n", "1[]\n");
	expect("a\"\"b,\"c\"\"\"\"\"\n", "1[a\"\"b][c\"\"]\n");
	expect("\"a\" \"b\",c\n", "1[a \"b\"][c]\n");   /* after the close: literal */
	expect("a,\nb,\"\"\n,\n", "1[a][]\n2[b][]\n3[][]\n");
	expect("a,b,c,", "1[a][b][c][]\n");
	expect("\"a,b\"", "1[a,b]\n");
	expect("\"a\"\"\"", "1[a\"]\n");
	expect("\"abc", "!line 1: a quoted field is not closed at the end of the input");
	expect("x\n\"a\n\nb", "1[x]\n!line 2: a quoted field is not closed at the end of the input");
	/* NUL bytes are data. */
	expect_opt(&comma, "a\0b,c\n", 6, "1[a");
	struct rec r;
	parse_cuts(&comma, "a\0b,c\n", 6, NULL, 0, &r);
	assert_int_equal(r.log.len, 10);
	assert_memory_equal(r.log.data, "1[a\0b][c]\n", 10);
	buf_free(&r.log);
	/* Other delimiters; a comma is then data. */
	struct csv_options o = { ';', 0, 0 };
	expect_opt(&o, "a,b;\"c;d\";e\n", 12, "1[a,b][c;d][e]\n");
	o.delimiter = '\t';
	expect_opt(&o, "a b\t\"\t\"\t\n", 9, "1[a b][\t][]\n");
	o.delimiter = '"';
	assert_null(csv_reader_new(&o, &cb, NULL));
	o.delimiter = '\n';
	assert_null(csv_reader_new(&o, &cb, NULL));
}

static void test_line_ends(void **state)
{
	(void)state;
	expect("a\nb\n", "1[a]\n2[b]\n");
	expect("a\r\nb\r\n", "1[a]\n2[b]\n");
	expect("a\rb\r", "1[a]\n2[b]\n");
	expect("a\nb\r\nc\rd", "1[a]\n2[b]\n3[c]\n4[d]\n");
	expect("a,b\rc,d\r\ne,f\n\rg", "1[a][b]\n2[c][d]\n3[e][f]\n5[g]\n");
	/* Empty lines give no record but count. */
	expect("a\n\nb\r\n\r\nc\r\rd\n\n", "1[a]\n3[b]\n5[c]\n7[d]\n");
	expect("\n\n\na", "4[a]\n");
	expect("\r\n\r\n", "");
	expect("a\n\n", "1[a]\n");
	/* Embedded line ends keep the numbering physical. */
	expect("h1,h2\n\"a\nb\",c\r\n\"x\r\ny\rz\",2\nlast,3",
	       "1[h1][h2]\n2[a\nb][c]\n4[x\r\ny\rz][2]\n7[last][3]\n");
	expect("\"a\r\",\"\r\nb\"\nc", "1[a\r][\r\nb]\n4[c]\n");
	expect("\"\n\n\"\"\n\"\nz", "1[\n\n\"\n]\n5[z]\n");
}

static void test_bom_and_empty(void **state)
{
	(void)state;
	expect("", "");
	expect("\n", "");
	expect("\xEF\xBB\xBF", "");
	expect("\xEF\xBB\xBF" "a,b\n", "1[a][b]\n");
	expect("\xEF\xBB\xBF\"a\",b\n", "1[a][b]\n");
	expect("\xEF\xBB", "1[\xEF\xBB]\n");
	expect("\xEF\xBBx,y", "1[\xEF\xBBx][y]\n");
	expect("x\n\xEF\xBB\xBFy", "1[x]\n2[\xEF\xBB\xBFy]\n");   /* only at the start */
	expect("\xEF\xBB\xBF\xEF\xBB\xBF" "a", "1[\xEF\xBB\xBF" "a]\n");
	/* The BOM cut into bytes. */
	const char *s = "\xEF\xBB\xBF" "a,b\nc";
	for (size_t i = 0; i <= 3; i++)
		for (size_t j = i; j <= 4; j++) {
			size_t cuts[2] = { i, j };
			struct rec r;
			parse_cuts(&comma, s, strlen(s), cuts, 2, &r);
			assert_string_equal(r.log.data, "1[a][b]\n2[c]\n");
			buf_free(&r.log);
		}
}

static void test_shapes(void **state)
{
	(void)state;
	expect("id,name,price", "1[id][name][price]\n");
	expect("id,name,price\n", "1[id][name][price]\n");
	expect("x\ny\n\"z\"\n", "1[x]\n2[y]\n3[z]\n");
	struct csv_options sniff = { 0, 0, 0 };
	const char *one = "name\nalice\nbob, jr\n";
	expect_opt(&sniff, one, strlen(one), "1[name]\n2[alice]\n3[bob][ jr]\n");
	/* Ragged records come as they are. */
	expect("a,b,c\n1\n1,2,3,4\n", "1[a][b][c]\n2[1]\n3[1][2][3][4]\n");

	/* 2000 columns. */
	struct buf in;
	buf_init(&in, 1 << 20);
	struct rec r;
	struct csv_options o = { ',', 0, 0 };
	for (int row = 0; row < 3; row++) {
		for (int c = 0; c < 2000; c++)
			buf_printf(&in, "%s%d", c ? "," : "", row * 10000 + c);
		buf_puts(&in, "\r\n");
	}
	size_t cuts[] = { 7, 5000, 5001, 12000 };
	assert_int_equal(parse_cuts(&o, in.data, in.len, cuts, 4, &r), 0);
	assert_int_equal(r.records, 3);
	assert_int_equal(r.max_n, 2000);
	assert_non_null(strstr(r.log.data, "3[20000][20001]"));
	assert_non_null(strstr(r.log.data, "[21999]\n"));
	buf_free(&r.log);
	/* Sniffed, too. */
	o.delimiter = 0;
	assert_int_equal(parse_cuts(&o, in.data, in.len, NULL, 0, &r), 0);
	assert_int_equal(r.max_n, 2000);
	buf_free(&r.log);
	buf_free(&in);
}

static void test_limits(void **state)
{
	(void)state;
	const size_t M = CSV_DEFAULT_MAX_FIELD_BYTES;
	char *big = malloc(2 * M + 64);
	struct rec r;
	for (int quoted = 0; quoted < 2; quoted++) {
		for (size_t extra = 0; extra < 2; extra++) {
			/* "a,b\nx,<field>\n" with the field M + extra bytes long. */
			size_t n = 0;
			memcpy(big, "a,b\nx,", 6);
			n = 6;
			if (quoted)
				big[n++] = '"';
			size_t vstart = n;
			memset(big + n, 'v', M + extra);
			if (quoted)
				memcpy(big + vstart + 100, "\"\"\n,", 4);   /* "" is one byte */
			n += M + extra;
			if (quoted) {
				big[n++] = 'v';   /* the "" took two */
				big[n++] = '"';
			}
			big[n++] = '\n';
			size_t cuts[] = { 3, 10, 5000, M / 2 };
			for (int cut = 0; cut < 2; cut++) {
				int rc = parse_cuts(NULL, big, n, cut ? cuts : NULL, cut ? 4 : 0, &r);
				if (extra == 0) {
					assert_int_equal(rc, 0);
					assert_int_equal(r.records, 2);
					assert_int_equal(r.log.len, M + 15);
				} else {
					assert_int_equal(rc, -1);
					assert_int_equal(r.records, 1);
					assert_non_null(strstr(r.log.data,
						"!line 2: a field is longer than 1048576 bytes (max_field_bytes)"));
				}
				buf_free(&r.log);
			}
		}
	}
	/* An unclosed quoted field is refused before the input ends. */
	memset(big, '"', 1);
	memset(big + 1, 'q', 2 * M + 63);
	rec_init(&r);
	struct csv_reader *cr = csv_reader_new(NULL, &cb, &r);
	struct error e;
	int rc = 0;
	for (size_t at = 0; at < 2 * M + 64 && rc == 0; at += 4096)
		rc = csv_reader_feed(cr, big + at, 4096 < 2 * M + 64 - at ? 4096 : 2 * M + 64 - at, &e);
	assert_int_equal(rc, -1);
	assert_string_equal(e.msg, "line 1: a field is longer than 1048576 bytes (max_field_bytes)");
	assert_int_equal(csv_reader_finish(cr, &e), -1);
	csv_reader_free(cr);
	buf_free(&r.log);
	free(big);

	/* Fields: 10000 fine, 10001 not. */
	struct buf in;
	buf_init(&in, 1 << 20);
	for (int i = 0; i < 10001; i++)
		buf_puts(&in, i ? ",x" : "x");
	assert_int_equal(parse_cuts(NULL, in.data, in.len - 2, NULL, 0, &r), 0);
	assert_int_equal(r.max_n, 10000);
	buf_free(&r.log);
	assert_int_equal(parse_cuts(NULL, in.data, in.len, NULL, 0, &r), -1);
	assert_string_equal(r.log.data, "!line 1: a record has more than 10000 fields (max_fields)");
	buf_free(&r.log);
	buf_free(&in);

	/* Tight limits, at and past them. */
	struct csv_options o = { ',', 3, 2 };
	expect_opt(&o, "abc,\"d\"\"e\"\n", 11, "1[abc][d\"e]\n");
	expect_opt(&o, "ab,c\n\"\n\",abcd\n", 14,
		   "1[ab][c]\n!line 2: a field is longer than 3 bytes (max_field_bytes)");
	expect_opt(&o, "a,b,c\n", 6, "!line 1: a record has more than 2 fields (max_fields)");
	expect_opt(&o, "\"ab\"cd", 6, "!line 1: a field is longer than 3 bytes (max_field_bytes)");
}

/* Every one- and two-cut split of a tricky input gives the same records. */
static void test_every_split(void **state)
{
	(void)state;
	static const char *inputs[] = {
		"\xEF\xBB\xBFh1,\"h,2\",h3\r\n\"a\"\"b\",\"c\r\nd\"x,e\r\r\n\n\"\"\"\",,\"\"\n"
		"plain,\"q\"\"\",\"\rz\"\rlast,\"",
		"a;b|c\t\"d;\"\"e\"\r\n1,5;2\r\n\r\n;\"\";\"\n\"\n",
	};
	for (size_t k = 0; k < 2; k++) {
		const char *s = inputs[k];
		size_t n = strlen(s);
		for (int d = 0; d < 2; d++) {
			struct csv_options o = { d ? ';' : ',', 0, 0 };
			struct rec whole;
			int rc = parse_cuts(&o, s, n, NULL, 0, &whole);
			for (size_t i = 0; i <= n; i++)
				for (size_t j = i; j <= n; j++) {
					size_t cuts[2] = { i, j };
					struct rec r;
					assert_int_equal(parse_cuts(&o, s, n, cuts, 2, &r), rc);
					assert_string_equal(r.log.data, whole.log.data);
					buf_free(&r.log);
				}
			size_t cuts[256];
			for (size_t i = 0; i < n; i++)
				cuts[i] = i;
			struct rec r;
			assert_int_equal(parse_cuts(&o, s, n, cuts, n, &r), rc);
			assert_string_equal(r.log.data, whole.log.data);
			buf_free(&r.log);
			if (k == 0 && d == 0)
				assert_string_equal(whole.log.data,
					"1[h1][h,2][h3]\n2[a\"b][c\r\ndx][e]\n6[\"][][]\n"
					"7[plain][q\"][\rz]\n!line 9: a quoted field is not closed at the end of the input");
			buf_free(&whole.log);
		}
	}
}

/* A large sniffed input in many cuts: past CSV_SNIFF_BYTES and the slices. */
static void test_large_cuts(void **state)
{
	(void)state;
	struct buf in;
	buf_init(&in, 64 << 20);
	for (int i = 0; i < 40000; i++)
		buf_printf(&in, "%d;\"x%d\"\"y\";%s;z\r\n", i, i, i % 7 ? "plain" : "\"multi\nline\"");
	struct csv_options o = { 0, 0, 0 };
	struct rec whole;
	assert_int_equal(parse_cuts(&o, in.data, in.len, NULL, 0, &whole), 0);
	assert_int_equal(whole.records, 40000);
	assert_int_equal(whole.max_n, 4);
	static const size_t steps[] = { 1, 7, 4095, 65536, 100000, 1 << 20 };
	for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
		size_t ncuts = in.len / steps[s];
		size_t *cuts = malloc((ncuts + 1) * sizeof *cuts);
		for (size_t i = 0; i < ncuts; i++)
			cuts[i] = (i + 1) * steps[s];
		struct rec r;
		assert_int_equal(parse_cuts(&o, in.data, in.len, cuts, ncuts, &r), 0);
		assert_string_equal(r.log.data, whole.log.data);
		buf_free(&r.log);
		free(cuts);
	}
	buf_free(&whole.log);
	buf_free(&in);
}

static void test_sniff(void **state)
{
	(void)state;
	assert_int_equal(csv_sniff("a,b,c\n1,2,3\n", 12), ',');
	const char *eu = "name;price;qty\nfoo;1,5;2\nbar;22,25;3\nbaz;0,1;4\n";
	assert_int_equal(csv_sniff(eu, strlen(eu)), ';');
	const char *eu2 = "1,5;2,5;3,5\n4,5;6,5;7,5\n";   /* commas split as evenly */
	assert_int_equal(csv_sniff(eu2, strlen(eu2)), ';');
	const char *tab = "id\tnote\n1\ta, b; c\n2\tx|y\n";
	assert_int_equal(csv_sniff(tab, strlen(tab)), '\t');
	const char *pipe = "a|b|c\n1|2,5|3\n4|5|6\n";
	assert_int_equal(csv_sniff(pipe, strlen(pipe)), '|');
	const char *quoted = "\"x,y\";\"z,w\"\n\"1,2,3\";\"4\"\n\"a\nb,c\";d\n";
	assert_int_equal(csv_sniff(quoted, strlen(quoted)), ';');
	const char *quoted2 = "\"a;b\",c\n\"d;e;f\",g\n";
	assert_int_equal(csv_sniff(quoted2, strlen(quoted2)), ',');
	const char *text = "id,note\n1,a;b\n2,c;d\n3,e\n";   /* ';' in text, unevenly */
	assert_int_equal(csv_sniff(text, strlen(text)), ',');
	assert_int_equal(csv_sniff("single\ncolumn\n", 14), ',');
	assert_int_equal(csv_sniff("", 0), ',');
	assert_int_equal(csv_sniff("\xEF\xBB\xBF" "a\tb\n", 7), '\t');
	/* The unfinished last line is left out. */
	const char *cut = "a;b\nc;d\ne,f,g,h,i";
	assert_int_equal(csv_sniff(cut, strlen(cut)), ';');
	assert_int_equal(csv_sniff("a,b,c", 5), ',');

	/* The reader sniffs when no delimiter is given. */
	struct csv_options o = { 0, 0, 0 };
	struct rec r;
	rec_init(&r);
	struct csv_reader *cr = csv_reader_new(&o, &cb, &r);
	assert_int_equal(csv_reader_delimiter(cr), 0);
	assert_int_equal(csv_reader_feed(cr, eu, 10, NULL), 0);
	assert_int_equal(csv_reader_feed(cr, eu + 10, strlen(eu) - 10, NULL), 0);
	assert_int_equal(r.records, 0);   /* still collecting the sample */
	assert_int_equal(csv_reader_finish(cr, NULL), 0);
	assert_int_equal(csv_reader_delimiter(cr), ';');
	assert_string_equal(r.log.data,
			    "1[name][price][qty]\n2[foo][1,5][2]\n3[bar][22,25][3]\n4[baz][0,1][4]\n");
	csv_reader_free(cr);
	buf_free(&r.log);
	expect_opt(&o, pipe, strlen(pipe), "1[a][b][c]\n2[1][2,5][3]\n3[4][5][6]\n");
}

static void test_receiver_stops(void **state)
{
	(void)state;
	struct rec r;
	rec_init(&r);
	r.stop_at = 2;
	struct csv_reader *cr = csv_reader_new(&comma, &cb, &r);
	struct error e;
	assert_int_equal(csv_reader_feed(cr, "a\n\nb\nc\n", 7, &e), -1);
	assert_string_equal(e.msg, "line 3: stopped by the receiver");
	assert_int_equal(r.records, 2);
	struct error again;
	assert_int_equal(csv_reader_feed(cr, "d\n", 2, &again), -1);
	assert_string_equal(again.msg, e.msg);
	assert_int_equal(csv_reader_finish(cr, NULL), -1);
	assert_int_equal(r.records, 2);
	csv_reader_free(cr);
	buf_free(&r.log);

	/* Stopping on the last record, emitted by finish. */
	rec_init(&r);
	r.stop_at = 1;
	cr = csv_reader_new(&comma, &cb, &r);
	assert_int_equal(csv_reader_feed(cr, "a,b", 3, &e), 0);
	assert_int_equal(csv_reader_finish(cr, &e), -1);
	assert_string_equal(e.msg, "line 1: stopped by the receiver");
	csv_reader_free(cr);
	buf_free(&r.log);
	csv_reader_free(NULL);
	/* No callback at all is fine. */
	cr = csv_reader_new(NULL, NULL, NULL);
	assert_int_equal(csv_reader_feed(cr, "a,b\n", 4, NULL), 0);
	assert_int_equal(csv_reader_finish(cr, NULL), 0);
	assert_int_equal(csv_reader_delimiter(cr), ',');
	csv_reader_free(cr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_bom_and_empty),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_large_cuts),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_receiver_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
