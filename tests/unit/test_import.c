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
	char v[128];
	query1("SELECT amount FROM data WHERE rowid = 1", v, sizeof v);
	assert_string_equal(v, "1234");
	query1("SELECT rate FROM data WHERE rowid = 1", v, sizeof v);
	assert_string_equal(v, "0.12");
	query1("SELECT rate FROM data WHERE rowid = 3", v, sizeof v);
	assert_string_equal(v, "NULL");
	query1("SELECT day FROM data WHERE rowid = 1", v, sizeof v);
	assert_string_equal(v, "2024-03-05");
	query1("SELECT at FROM data WHERE rowid = 1", v, sizeof v);
	assert_string_equal(v, "2016-01-01T01:00:00");
	query1("SELECT at FROM data WHERE rowid = 2", v, sizeof v);
	assert_string_equal(v, "2019-01-01T00:00:00");
	query1("SELECT code FROM data WHERE rowid = 1", v, sizeof v);
	assert_string_equal(v, "007");
	query1("SELECT name FROM data WHERE rowid = 3", v, sizeof v);
	assert_string_equal(v, "a,\"b\"");
	query1("SELECT typeof(ok) || ok FROM data WHERE rowid = 2", v, sizeof v);
	assert_string_equal(v, "integer0");
	query1("SELECT value FROM sheaf_meta WHERE key = 'rows'", v, sizeof v);
	assert_string_equal(v, "3");
	query1("SELECT type FROM sheaf_columns WHERE name = 'ok'", v, sizeof v);
	assert_string_equal(v, "boolean");
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
	char v[32];
	query1("SELECT coalesce(b, 'NULL') FROM data WHERE rowid = 1", v, sizeof v);
	assert_string_equal(v, "NULL");
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
	char v[32];
	query1("SELECT name FROM data ORDER BY rowid DESC LIMIT 1", v, sizeof v);
	assert_string_equal(v, "서울특별시 중구");
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
		cmocka_unit_test(test_xlsx),
		cmocka_unit_test(test_xls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
