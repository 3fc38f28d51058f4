/*
 * The importer end to end: files written here, imported into dataset
 * files, read back with SQLite.  Covers what the API tests cannot see from
 * outside: many batches through the pipeline, the failure taxonomy, the
 * temporary output removed on failure, cancellation through progress.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ingest/import.h"
#include "ingest/pipeline.h"
#include "testutil.h"

static char dir[] = "/tmp/sheaf-import-XXXXXX";
static char src[256], dst[256];

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof src, "%s/in", dir);
	snprintf(dst, sizeof dst, "%s/out.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static void write_file(const char *data, size_t n)
{
	FILE *f = fopen(src, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	unlink(dst);
}

static int import_text(const char *text, const struct import_options *opt,
		       struct import_result *r, struct error *e)
{
	write_file(text, strlen(text));
	struct import_options none = { 0 };
	return import_file(src, dst, opt ? opt : &none, r, e);
}

/* One value of the dataset file as text ("NULL" for null). */
static void query1(const char *sql, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(dst, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const char *v = (const char *)sqlite3_column_text(st, 0);
	snprintf(out, cap, "%s", v ? v : "NULL");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* One value of the dataset file, as query1 gives it, must be want. */
static void expect1(const char *sql, const char *want)
{
	char v[256];
	query1(sql, v, sizeof v);
	assert_string_equal(v, want);
}

static const char *col_type(const struct import_result *r, size_t i)
{
	return json_string_value(json_object_get(json_array_get(r->columns_info, i), "type"));
}

static void test_types_and_values(void **state)
{
	(void)state;
	struct import_result r;
	struct error e;
	assert_int_equal(import_text("id,amount,rate,ok,day,at,code,name\n"
				     "1,\"1,234\",12%,yes,2024.03.05,2016년 1월 1일 01시,007,김\n"
				     "2,-5,0.5%,no,2024-03-06,2019-01-01 00,010,\n"
				     "3,,NA,,2024/3/7,2019-01-01T02:30:00,,\"a,\"\"b\"\"\"\n",
				     NULL, &r, &e),
			 0);
	assert_int_equal(r.rows, 3);
	assert_int_equal(r.columns, 8);
	assert_string_equal(r.encoding, "UTF-8");
	assert_int_equal(r.delimiter, ',');
	assert_string_equal(col_type(&r, 0), "integer");
	assert_string_equal(col_type(&r, 1), "integer");
	assert_string_equal(col_type(&r, 2), "real");
	assert_string_equal(col_type(&r, 3), "boolean");
	assert_string_equal(col_type(&r, 4), "date");
	assert_string_equal(col_type(&r, 5), "datetime");
	assert_string_equal(col_type(&r, 6), "text");
	assert_string_equal(col_type(&r, 7), "text");
	expect1("SELECT amount FROM data WHERE rowid = 1", "1234");
	expect1("SELECT rate FROM data WHERE rowid = 1", "0.12");
	expect1("SELECT rate FROM data WHERE rowid = 3", "NULL");
	expect1("SELECT day FROM data WHERE rowid = 1", "2024-03-05");
	expect1("SELECT at FROM data WHERE rowid = 1", "2016-01-01T01:00:00");
	expect1("SELECT at FROM data WHERE rowid = 2", "2019-01-01T00:00:00");
	expect1("SELECT code FROM data WHERE rowid = 1", "007");
	expect1("SELECT name FROM data WHERE rowid = 3", "a,\"b\"");
	expect1("SELECT typeof(ok) || ok FROM data WHERE rowid = 2", "integer0");
	expect1("SELECT value FROM sheaf_meta WHERE key = 'rows'", "3");
	expect1("SELECT type FROM sheaf_columns WHERE name = 'ok'", "boolean");
	import_result_clear(&r);
}

/* Far more rows than a pipeline batch, with long fields that make the
 * batch arena grow: every row arrives, in order, intact. */
static void test_many_batches(void **state)
{
	(void)state;
	size_t rows = PIPELINE_BATCH_ROWS * 7 + 13;
	size_t cap = rows * 2200 + 64, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "n,s,x\n");
	for (size_t i = 1; i <= rows; i++) {
		char big[2048];
		size_t blen = i % 97 == 0 ? 2000 : 5;
		memset(big, 'a' + (int)(i % 26), blen);
		big[blen] = 0;
		len += (size_t)snprintf(text + len, cap - len, "%zu,%s,%zu.5\n", i, big, i);
	}
	write_file(text, len);
	free(text);
	struct import_options opt = { 0 };
	struct import_result r;
	struct error e;
	assert_int_equal(import_file(src, dst, &opt, &r, &e), 0);
	assert_int_equal(r.rows, (int64_t)rows);
	char v[64], want[64];
	query1("SELECT count(*) FROM data WHERE n = rowid AND x = n + 0.5", v, sizeof v);
	snprintf(want, sizeof want, "%zu", rows);
	assert_string_equal(v, want);
	query1("SELECT sum(length(s)) FROM data", v, sizeof v);
	size_t total = 0;
	for (size_t i = 1; i <= rows; i++)
		total += i % 97 == 0 ? 2000 : 5;
	snprintf(want, sizeof want, "%zu", total);
	assert_string_equal(v, want);
	/* The profile saw every row too. */
	json_t *p = json_object_get(json_array_get(r.columns_info, 0), "profile");
	assert_int_equal(json_integer_value(json_object_get(p, "count")), (json_int_t)rows);
	assert_int_equal(json_integer_value(json_object_get(p, "max")), (json_int_t)rows);
	import_result_clear(&r);
}

static void test_header_rules(void **state)
{
	(void)state;
	struct import_result r;
	struct error e;
	/* Numbers in the first row: it is data. */
	assert_int_equal(import_text("1,2\n3,4\n", NULL, &r, &e), 0);
	assert_int_equal(r.rows, 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.columns_info, 0),
							      "name")),
			    "column_1");
	import_result_clear(&r);
	/* Empty and duplicate names, case-insensitively (SQLite's rule). */
	assert_int_equal(import_text("a,,A,a\n1,2,3,4\n", NULL, &r, &e), 0);
	const char *names[4];
	for (size_t i = 0; i < 4; i++)
		names[i] = json_string_value(
			json_object_get(json_array_get(r.columns_info, i), "name"));
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "column_2");
	assert_string_equal(names[2], "A_2");
	assert_string_equal(names[3], "a_3");
	assert_true(json_array_size(r.warnings) >= 3);
	import_result_clear(&r);
	/* Words that are also booleans over numbers: a header after all. */
	assert_int_equal(import_text("t,y\n1,2.5\n2,3.5\n", NULL, &r, &e), 0);
	assert_int_equal(r.rows, 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.columns_info, 0),
							      "name")),
			    "t");
	assert_string_equal(col_type(&r, 0), "integer");
	assert_string_equal(col_type(&r, 1), "real");
	import_result_clear(&r);
	/* Booleans over booleans: data. */
	assert_int_equal(import_text("yes,no\nno,yes\n", NULL, &r, &e), 0);
	assert_int_equal(r.rows, 2);
	assert_string_equal(col_type(&r, 0), "boolean");
	import_result_clear(&r);
	/* Forced off: the header row is data. */
	struct import_options opt = { .header = IMPORT_HEADER_NO };
	assert_int_equal(import_text("x,y\n1,2\n", &opt, &r, &e), 0);
	assert_int_equal(r.rows, 2);
	import_result_clear(&r);
}

static void test_ragged_rows(void **state)
{
	(void)state;
	struct import_result r;
	struct error e;
	assert_int_equal(import_text("a,b\n1\n2,3,4\n5,6\n", NULL, &r, &e), 0);
	assert_int_equal(r.rows, 3);
	assert_int_equal(json_array_size(r.warnings), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r.warnings, 0), "line")),
			 2);
	expect1("SELECT coalesce(b, 'NULL') FROM data WHERE rowid = 1", "NULL");
	import_result_clear(&r);

	struct import_options strict = { .strict = true };
	assert_int_equal(import_text("a,b\n1,2\n3\n", &strict, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	assert_non_null(strstr(e.msg, "line 3"));
	assert_int_equal(access(dst, F_OK), -1);   /* nothing half-written left */
	import_result_clear(&r);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct import_result r;
	struct error e;
	assert_int_equal(import_text("", NULL, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	import_result_clear(&r);
	assert_int_equal(import_text("a\n\"open quote\n", NULL, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	import_result_clear(&r);
	struct import_options narrow = { .max_columns = 3 };
	assert_int_equal(import_text("a,b,c,d\n1,2,3,4\n", &narrow, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	assert_non_null(strstr(e.msg, "limit"));
	import_result_clear(&r);
	struct import_options small = { .max_field_bytes = 8 };
	assert_int_equal(import_text("a\n123456789\n", &small, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	import_result_clear(&r);
	struct import_options enc = { .encoding = "klingon" };
	assert_int_equal(import_text("a\n1\n", &enc, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	import_result_clear(&r);
	assert_int_equal(access(dst, F_OK), -1);
}

/* ASCII for the first 64 KiB, then CP949: detection looks again. */
static void test_late_korean(void **state)
{
	(void)state;
	size_t cap = 80 * 1024, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "name,n\n");
	while (len < 70 * 1024)
		len += (size_t)snprintf(text + len, cap - len, "abc,%zu\n", len);
	/* Korean lines in CP949: "대구광역시 수성구" and "서울특별시 중구" */
	const char cp949[] = "\xB4\xEB\xB1\xB8\xB1\xA4\xBF\xAA\xBD\xC3 \xBC\xF6\xBC\xBA\xB1\xB8,1\n"
			     "\xBC\xAD\xBF\xEF\xC6\xAF\xBA\xB0\xBD\xC3 \xC1\xDF\xB1\xB8,2\n";
	for (int i = 0; i < 40; i++) {
		memcpy(text + len, cp949, sizeof cp949 - 1);
		len += sizeof cp949 - 1;
	}
	write_file(text, len);
	free(text);
	struct import_options opt = { 0 };
	struct import_result r;
	struct error e;
	assert_int_equal(import_file(src, dst, &opt, &r, &e), 0);
	assert_string_equal(r.encoding, "CP949");
	/* The warning names where UTF-8 broke: the first Korean byte. */
	json_t *w = json_array_get(r.warnings, 0);
	assert_string_equal(json_string_value(json_object_get(w, "code")), "encoding_redetected");
	char where[64];
	snprintf(where, sizeof where, "byte %zu is not", len - 40 * (sizeof cp949 - 1));
	assert_non_null(strstr(json_string_value(json_object_get(w, "message")), where));
	expect1("SELECT name FROM data ORDER BY rowid DESC LIMIT 1", "서울특별시 중구");
	import_result_clear(&r);
}

static bool stop_at_half(void *ctx, int64_t per_mille)
{
	int64_t *seen = ctx;
	*seen = per_mille;
	return per_mille >= 500;
}

static void test_cancel(void **state)
{
	(void)state;
	size_t cap = 4 << 20, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "a,b\n");
	while (len < cap - 64)
		len += (size_t)snprintf(text + len, cap - len, "%zu,x\n", len);
	write_file(text, len);
	free(text);
	int64_t seen = -1;
	struct import_options opt = { .progress = stop_at_half, .progress_ctx = &seen };
	struct import_result r;
	struct error e;
	assert_int_equal(import_file(src, dst, &opt, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_CANCELLED);
	assert_true(seen >= 500);
	assert_int_equal(access(dst, F_OK), -1);
	import_result_clear(&r);
}

static void test_xlsx(void **state)
{
	(void)state;
	struct import_options opt = { 0 };
	struct import_result r;
	struct error e;
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xlsx_fixtures/basic.xlsx", dst, &opt, &r, &e), 0);
	assert_string_equal(r.format, "xlsx");
	assert_non_null(r.sheet);
	assert_true(r.rows > 0);
	import_result_clear(&r);
	opt.sheet = "no such sheet";
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xlsx_fixtures/basic.xlsx", dst, &opt, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	assert_non_null(strstr(e.msg, "no sheet"));
	import_result_clear(&r);
	opt.sheet = NULL;
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xlsx_fixtures/bomb_ratio.xlsx", dst, &opt, &r, &e),
			 -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	assert_non_null(strstr(e.msg, "zip bomb"));
	import_result_clear(&r);
}

static void test_xls(void **state)
{
	(void)state;
	struct import_options opt = { 0 };
	struct import_result r;
	struct error e;
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xls_fixtures/basic.xls", dst, &opt, &r, &e), 0);
	assert_string_equal(r.format, "xls");
	assert_true(r.rows > 0);
	import_result_clear(&r);
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xls_fixtures/password.xls", dst, &opt, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	import_result_clear(&r);
	/* A file that makes FreeXL free an invalid pointer: the sandboxed
	 * reader dies, the importer (and its process) carries on. */
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xls_fixtures/freexl_bugs/"
				     "bad_free_in_destroy_workbook.xls", dst, &opt, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	assert_non_null(strstr(e.msg, "could not be read safely"));
	assert_int_equal(access(dst, F_OK), -1);
	import_result_clear(&r);
	/* The other FreeXL bugs libFuzzer found (over-reads): refused, never a
	 * crash of this process, whatever the child made of them. */
	static const char *const hostile[] = {
		"tests/unit/xls_fixtures/freexl_bugs/heap_overflow_in_parse_unicode_string.xls",
		"tests/unit/xls_fixtures/freexl_bugs/heap_overflow_memcpy_in_open.xls",
	};
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		unlink(dst);
		assert_int_equal(import_file(hostile[i], dst, &opt, &r, &e), -1);
		assert_int_equal(r.failure, IMPORT_BAD_INPUT);
		import_result_clear(&r);
	}
	/* The sheet is read through CSV: values and types survive. */
	unlink(dst);
	assert_int_equal(import_file("tests/unit/xls_fixtures/basic.xls", dst, &opt, &r, &e), 0);
	assert_string_equal(r.encoding, "");
	assert_int_equal(r.delimiter, 0);
	import_result_clear(&r);
}

/* ---- guessed types (import.h): a large CSV file's types come from a
 * prefix, checked over the whole file.  Each case is imported twice, with
 * the guess (prefix_bytes 1: the first 1 MiB read) and with two full
 * passes, and the two results must agree. ---- */

enum late {
	LATE_NOTHING,      /* the guess holds */
	LATE_OPEN_INT,     /* a column empty in the prefix gets integers */
	LATE_WORD_IN_INT,  /* "abc" in an integer column */
	LATE_PERCENT,      /* "5%" in a plain real column */
	LATE_BIG_INT,      /* an integer past 2^53 in a real column */
	LATE_LAT_RANGE,    /* 95 in a latitude column */
	LATE_DATETIME,     /* a datetime in a date column */
	LATE_RAGGED,       /* rows with too few and too many fields */
	LATE_CP949,        /* Korean in CP949 after UTF-8-looking ASCII */
	LATE_OPEN_NO_HEADER, /* LATE_OPEN_INT in a file whose first row is data */
};

#define GUESS_ROWS 36000   /* about 3 MiB */

static void write_guess_file(enum late late)
{
	size_t cap = GUESS_ROWS * 160, len = 0;
	char *t = malloc(cap);
	if (late != LATE_OPEN_NO_HEADER)
		len += (size_t)snprintf(t + len, cap - len, "id,n,r,pct,day,at,word,lat,open\n");
	else   /* a first row of values only: its role waits for the types */
		len += (size_t)snprintf(t + len, cap - len,
					"0,0,0.25,0%%,2024-01-01,2019-01-01 00,7,35.00,\n");
	size_t late_row = GUESS_ROWS * 4 / 5;
	static const char *const words[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
	for (size_t i = 1; i <= GUESS_ROWS; i++) {
		char n[32], r[48], lat[32], open[32], day[32];
		snprintf(n, sizeof n, "%zu", i % 1000);
		snprintf(r, sizeof r, "%zu.25", i);
		snprintf(lat, sizeof lat, "%.2f", 35 + (double)(i % 100) / 100);
		snprintf(day, sizeof day, "2024-01-%02zu", i % 28 + 1);
		open[0] = 0;
		if (i > late_row) {
			if (late == LATE_OPEN_INT || late == LATE_OPEN_NO_HEADER)
				snprintf(open, sizeof open, "%zu", i);
			else if (late == LATE_NOTHING)
				snprintf(open, sizeof open, "w%zu", i % 7);
		}
		if (i == late_row + 1) {
			if (late == LATE_WORD_IN_INT)
				snprintf(n, sizeof n, "abc");
			else if (late == LATE_PERCENT)
				snprintf(r, sizeof r, "5%%");
			else if (late == LATE_BIG_INT)
				snprintf(r, sizeof r, "12345678901234567");
			else if (late == LATE_LAT_RANGE)
				snprintf(lat, sizeof lat, "95");
			else if (late == LATE_DATETIME)
				snprintf(day, sizeof day, "2024-01-01 05");
		}
		if (i > late_row && late == LATE_CP949) {
			/* Korean place names in CP949 as the word (varied enough
			 * for the detector to tell CP949 from Chinese encodings) */
			static const char *const places[] = {
				"\xB4\xEB\xB1\xB8\xB1\xA4\xBF\xAA\xBD\xC3 \xBC\xF6\xBC\xBA\xB1\xB8 \xB9\xFC\xBE\xEE\xB5\xBF",
				"\xBC\xAD\xBF\xEF\xC6\xAF\xBA\xB0\xBD\xC3 \xC1\xDF\xB1\xB8 \xB8\xED\xB5\xBF",
				"\xBA\xCE\xBB\xEA\xB1\xA4\xBF\xAA\xBD\xC3 \xC7\xD8\xBF\xEE\xB4\xEB\xB1\xB8 \xBF\xEC\xB5\xBF",
				"\xB0\xE6\xB1\xE2\xB5\xB5 \xBC\xF6\xBF\xF8\xBD\xC3 \xC6\xC8\xB4\xDE\xB1\xB8",
				"\xC0\xCE\xC3\xB5\xB1\xA4\xBF\xAA\xBD\xC3 \xB3\xB2\xB5\xBF\xB1\xB8 \xB1\xB8\xBF\xF9\xB5\xBF",
				"\xB1\xA4\xC1\xD6\xB1\xA4\xBF\xAA\xBD\xC3 \xBA\xCF\xB1\xB8 \xBF\xEB\xBA\xC0\xB5\xBF",
			};
			len += (size_t)snprintf(t + len, cap - len,
						"%zu,%s,%s,%zu%%,%s,2019-01-01 %02zu,%s,%s,\n", i, n, r,
						i % 100, day, i % 24, places[i % 6], lat);
			continue;
		}
		if (i > late_row && late == LATE_RAGGED && i % 1000 == 0) {
			if (i % 2000)
				len += (size_t)snprintf(t + len, cap - len, "%zu,%s\n", i, n);
			else
				len += (size_t)snprintf(t + len, cap - len,
							"%zu,%s,%s,1%%,%s,2019-01-01 00,x,35.5,,more,more\n",
							i, n, r, day);
			continue;
		}
		len += (size_t)snprintf(t + len, cap - len, "%zu,%s,%s,%zu%%,%s,2019-01-01 %02zu,%s,%s,%s\n",
					i, n, r, i % 100, day, i % 24, words[i % 5], lat, open);
	}
	write_file(t, len);
	free(t);
}

/* A digest of every value of the data table with its storage class. */
static uint64_t data_digest(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t h = 1469598103934665603ull;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM data ORDER BY rowid", -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *v = sqlite3_column_text(st, c);
			h = (h ^ (uint64_t)sqlite3_column_type(st, c)) * 1099511628211ull;
			for (; v && *v; v++)
				h = (h ^ *v) * 1099511628211ull;
			h = (h ^ 0xFF) * 1099511628211ull;
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return h;
}

/* columns_info without numeric histograms (binned over the observed range
 * when the types were guessed, so perhaps from a sample). */
static json_t *comparable_columns(const json_t *columns_info)
{
	json_t *copy = json_deep_copy(columns_info);
	size_t i;
	json_t *c;
	json_array_foreach(copy, i, c) {
		json_t *p = json_object_get(c, "profile");
		if (json_object_get(json_object_get(p, "histogram"), "edges")) {
			json_object_del(p, "histogram");
			json_object_del(p, "histogram_exact");
		}
	}
	return copy;
}

static bool progress_log(void *ctx, int64_t per_mille)
{
	int64_t *last = ctx;
	assert_true(per_mille >= *last);   /* never backwards, also when reading again */
	assert_true(per_mille <= 1000);
	*last = per_mille;
	return false;
}

static void check_guess(enum late late, int passes)
{
	write_guess_file(late);
	char classic[300];
	snprintf(classic, sizeof classic, "%s/classic.db", dir);
	unlink(classic);
	int64_t last = -1;
	struct import_options guess = { .prefix_bytes = 1, .progress = progress_log,
					.progress_ctx = &last };
	struct import_options full = { .prefix_bytes = UINT64_MAX };
	struct import_result g, f;
	struct error e;
	if (import_file(src, classic, &full, &f, &e) < 0)
		fail_msg("full: %s", e.msg);
	if (import_file(src, dst, &guess, &g, &e) < 0)
		fail_msg("guessed: %s", e.msg);
	assert_int_equal(last, 1000);
	assert_int_equal(f.passes, 2);
	assert_int_equal(g.passes, passes);
	assert_int_equal(g.rows, f.rows);
	assert_int_equal(g.columns, f.columns);
	assert_string_equal(g.encoding, f.encoding);
	assert_int_equal(g.delimiter, f.delimiter);
	assert_true(json_equal(g.warnings, f.warnings));
	json_t *gc = comparable_columns(g.columns_info), *fc = comparable_columns(f.columns_info);
	if (!json_equal(gc, fc)) {
		char *a = json_dumps(gc, JSON_COMPACT), *b = json_dumps(fc, JSON_COMPACT);
		fprintf(stderr, "guessed: %s\nfull:    %s\n", a, b);
		free(a);
		free(b);
		fail();
	}
	json_decref(gc);
	json_decref(fc);
	assert_true(data_digest(dst) == data_digest(classic));
	import_result_clear(&g);
	import_result_clear(&f);
}

/* The file of late, imported with the guess (and kept in dst). */
static void import_guessed(enum late late, struct import_result *r)
{
	struct error e;
	struct import_options guess = { .prefix_bytes = 1 };
	write_guess_file(late);
	if (import_file(src, dst, &guess, r, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_guess_holds(void **state)
{
	(void)state;
	check_guess(LATE_NOTHING, 1);
	struct import_result r;
	import_guessed(LATE_NOTHING, &r);
	assert_string_equal(col_type(&r, 1), "integer");
	assert_string_equal(col_type(&r, 3), "real");
	assert_string_equal(col_type(&r, 5), "datetime");
	assert_string_equal(col_type(&r, 8), "text");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r.columns_info, 7),
							       "role")),
			    "latitude");
	/* Small integers keep a count per value: exact, with no range given. */
	json_t *p = json_object_get(json_array_get(r.columns_info, 1), "profile");
	assert_true(json_is_true(json_object_get(p, "quantiles_exact")));
	assert_true(json_is_true(json_object_get(p, "histogram_exact")));
	import_result_clear(&r);
}

static void test_guess_retyped(void **state)
{
	(void)state;
	check_guess(LATE_OPEN_INT, 2);
	check_guess(LATE_OPEN_NO_HEADER, 3);   /* the header question is open again */
}

static void test_guess_fails(void **state)
{
	(void)state;
	check_guess(LATE_WORD_IN_INT, 3);
	check_guess(LATE_PERCENT, 3);
	check_guess(LATE_BIG_INT, 3);
	check_guess(LATE_DATETIME, 3);
	check_guess(LATE_CP949, 3);
	check_guess(LATE_LAT_RANGE, 1);   /* the role comes from the profile's range */
	check_guess(LATE_RAGGED, 1);
	struct import_result r;
	struct error e;
	struct import_options guess = { .prefix_bytes = 1 };
	import_guessed(LATE_WORD_IN_INT, &r);
	assert_string_equal(col_type(&r, 1), "text");
	import_result_clear(&r);
	import_guessed(LATE_LAT_RANGE, &r);
	assert_true(json_is_null(json_object_get(json_array_get(r.columns_info, 7), "role")));
	import_result_clear(&r);
	/* Strict mode stops at the first ragged row past the prefix too. */
	write_guess_file(LATE_RAGGED);
	guess.strict = true;
	assert_int_equal(import_file(src, dst, &guess, &r, &e), -1);
	assert_int_equal(r.failure, IMPORT_BAD_INPUT);
	char line[32];
	snprintf(line, sizeof line, "line %d:", GUESS_ROWS * 4 / 5 / 1000 * 1000 + 1000 + 1);
	assert_non_null(strstr(e.msg, line));
	assert_int_equal(access(dst, F_OK), -1);
	import_result_clear(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types_and_values),
		cmocka_unit_test(test_many_batches),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_ragged_rows),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_late_korean),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_guess_holds),
		cmocka_unit_test(test_guess_retyped),
		cmocka_unit_test(test_guess_fails),
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_xls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
