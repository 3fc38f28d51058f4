/*
 * The XLS reader (ingest/xls.h) on workbooks from xlwt and on xlwt output
 * patched by hand (tests/unit/xls_fixtures/make_fixtures.py): every cell
 * type FreeXL reports, dates in both systems, around Excel's fake
 * 1900-02-29 and past FreeXL's 2100-02-29, sparse cells and rows, sheets
 * by name and index; each limit; encrypted, truncated, foreign and broken
 * files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ingest/xls.h"

#define FIX "tests/unit/xls_fixtures/"

struct rec {
	struct buf log;
	uint32_t last_row;
	int stop_at;   /* stop on this row callback (1-based; 0: never) */
	int rows;
	double numbers[16];   /* xlsx_cell.number of the last row's cells */
};

static int on_row(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t n)
{
	struct rec *r = ctx;
	static const char code[] = "_nsbdte";
	assert_true(row > r->last_row);
	r->last_row = row;
	assert_true(n > 0);   /* empty rows are skipped */
	assert_int_not_equal(cells[n - 1].type, XLSX_EMPTY);   /* trailing empties dropped */
	buf_printf(&r->log, "%u:", row);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(cells[i].text);
		if (cells[i].type == XLSX_EMPTY)
			assert_string_equal(cells[i].text, "");
		assert_true(cells[i].type != XLSX_BOOL && cells[i].type != XLSX_ERROR);
		buf_printf(&r->log, "%s%c=%s", i ? "|" : "", code[cells[i].type], cells[i].text);
		if (i < 16)
			r->numbers[i] = cells[i].number;
	}
	buf_puts(&r->log, "\n");
	return ++r->rows == r->stop_at ? 1 : 0;
}

static const struct xlsx_callbacks rec_cb = { on_row };

/* Rows of one sheet (name, or index when name is NULL) as text; on failure
 * "!!" and the message.  The caller frees. */
static char *dump_rec(const char *file, const char *name, size_t index,
		      const struct xls_limits *lim, struct rec *r)
{
	buf_init(&r->log, 1 << 20);
	buf_puts(&r->log, "");
	struct error e = { { 0 } };
	struct xls *x = xls_open(file, lim, &e);
	if (!x) {
		assert_true(e.msg[0]);
		buf_printf(&r->log, "!!%s", e.msg);
		return buf_detach(&r->log);
	}
	if (name) {
		long i = xls_sheet_find(x, name);
		assert_true(i >= 0);
		index = (size_t)i;
	}
	if (xls_read_sheet(x, index, &rec_cb, r, &e))
		buf_printf(&r->log, "!!%s", e.msg);
	xls_close(x);
	return buf_detach(&r->log);
}

static char *dump_lim(const char *file, const char *name, size_t index,
		      const struct xls_limits *lim, int stop_at)
{
	struct rec r;
	memset(&r, 0, sizeof r);
	r.stop_at = stop_at;
	return dump_rec(file, name, index, lim, &r);
}

static void expect(const char *file, const char *name, size_t index, const char *want)
{
	char *got = dump_lim(file, name, index, NULL, 0);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got  [%s]\n want [%s]", file, got, want);
	free(got);
}

static void expect_error(const char *file, const char *name, const struct xls_limits *lim,
			 const char *needle)
{
	char *got = dump_lim(file, name, 0, lim, 0);
	const char *bang = strstr(got, "!!");
	if (!bang || !strstr(bang, needle))
		fail_msg("%s: want an error with \"%s\", got [%s]", file, needle, got);
	free(got);
}

static void expect_ok(const char *file, const char *name, const struct xls_limits *lim)
{
	char *got = dump_lim(file, name, 0, lim, 0);
	if (strstr(got, "!!"))
		fail_msg("%s: want success, got [%s]", file, got);
	free(got);
}

static void test_basic(void **state)
{
	(void)state;
	expect(FIX "basic.xls", NULL, 0,
	       "1:s=name|s=int|s=neg|s=float|s=big|s=bool|s=date|s=datetime\n"
	       /* booleans are numbers: FreeXL reports BOOLERR as an integer */
	       "2:s=alpha|n=1|n=-42|n=0.1|n=9007199254740992|n=1|d=2024-02-29"
	       "|t=2024-01-02T03:04:05\n"
	       "3:s=베타|n=1234567890123|n=-0.5|n=0.3333333333333333|n=12345678901234568"
	       "|n=0|d=1900-03-01|t=1999-12-31T23:59:59\n"
	       "4:_=|n=0|n=-1e-300|n=1e+20|n=1.5e+300\n"
	       /* rows 5 and 6 (nothing, blank styled cells) are skipped; serials 59-61
		* around the fake 1900-02-29; 2100-03-01, which FreeXL calls
		* 2100-02-29; a time rounding up to midnight (FreeXL: 24:00:00); a time
		* only; an integer under a datetime format; a formula (empty: FreeXL
		* skips formulas); numeric-looking text */
	       "7:d=1900-02-28|d=1900-02-29|d=1900-03-01|d=2100-03-01|t=2023-03-16T00:00:00"
	       "|s=18:00:00|t=2023-03-15T00:00:00|_=|s=007\n");
}

/* xlsx_cell.number: the serial behind dates, the value of numbers. */
static void test_serials(void **state)
{
	(void)state;
	struct rec r;
	memset(&r, 0, sizeof r);
	char *got = dump_rec(FIX "date1904.xls", NULL, 0, NULL, &r);
	assert_string_equal(got, "1:d=2024-02-29|t=1904-01-02T12:00:00\n");
	free(got);
	/* 2024-02-29 is serial 45351 in the 1900 system, 1462 less in 1904's */
	assert_true(r.numbers[0] == 45351 - 1462);
	assert_true(r.numbers[1] == 1.5);

	memset(&r, 0, sizeof r);
	r.stop_at = 2;
	free(dump_rec(FIX "basic.xls", NULL, 0, NULL, &r));
	static const double row2[] = { 0, 1, -42, 0.1, 9007199254740992.0, 1, 45351,
				       45293 + (3 * 3600 + 4 * 60 + 5) / 86400.0 };
	for (size_t i = 0; i < sizeof row2 / sizeof *row2; i++)
		if (r.numbers[i] != row2[i])
			fail_msg("row 2 cell %zu: %.17g, want %.17g", i, r.numbers[i], row2[i]);
	memset(&r, 0, sizeof r);
	r.stop_at = 5;   /* row 7 */
	free(dump_rec(FIX "basic.xls", NULL, 0, NULL, &r));
	static const double row7[] = { 59, 60, 61, 73110, 45001, 0, 45000, 0, 0 };
	for (size_t i = 0; i < sizeof row7 / sizeof *row7; i++)
		if (r.numbers[i] != row7[i])
			fail_msg("row 7 cell %zu: %.17g, want %.17g", i, r.numbers[i], row7[i]);
}

static void test_sheets(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct xls *x = xls_open(FIX "basic.xls", NULL, &e);
	assert_non_null(x);
	assert_int_equal(xls_sheet_count(x), 3);
	assert_string_equal(xls_sheet_name(x, 0), "Data");
	assert_string_equal(xls_sheet_name(x, 1), "매출");
	assert_string_equal(xls_sheet_name(x, 2), "요약 시트");
	assert_null(xls_sheet_name(x, 3));
	assert_int_equal(xls_sheet_find(x, "요약 시트"), 2);
	assert_int_equal(xls_sheet_find(x, "nope"), -1);
	assert_int_equal(xls_read_sheet(x, 3, &rec_cb, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "no sheet 4: the workbook has 3"));
	/* Sheets in any order, one more than once. */
	struct rec r;
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1 << 20);
	assert_int_equal(xls_read_sheet(x, 2, &rec_cb, &r, &e), 0);
	r.last_row = 0;
	assert_int_equal(xls_read_sheet(x, 0, &rec_cb, &r, &e), 0);
	r.last_row = 0;
	assert_int_equal(xls_read_sheet(x, 2, &rec_cb, &r, &e), 0);
	assert_int_equal(r.rows, 1 + 5 + 1);
	buf_free(&r.log);
	xls_close(x);
	/* Sparse: cells placed by column, row gaps reported by number. */
	expect(FIX "basic.xls", "매출", 0,
	       "2:_=|s=sparse|_=|_=|n=5\n"
	       "7:_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|"
	       "s=far\n");
	expect(FIX "basic.xls", NULL, 2, "1:s=한국어 텍스트|s=tab\tand\nnewline\n");
	expect(FIX "minimal.xls", NULL, 0, "1:n=7\n3:_=|s=x\n");
	expect(FIX "no_columns.xls", "E", 0, "");   /* at once, not row by row */
	expect(FIX "no_columns.xls", "S", 0, "1:n=7\n");
}

static void test_big(void **state)
{
	(void)state;
	char *got = dump_lim(FIX "big.xls", NULL, 0, NULL, 0);
	struct buf want;
	buf_init(&want, 1 << 20);
	for (int i = 1; i <= 500; i++)
		buf_printf(&want, "%d:n=%d|_=|s=r%d\n", i, i * 7, i);
	assert_string_equal(got, want.data);
	buf_free(&want);
	free(got);
}

static void test_stop(void **state)
{
	(void)state;
	char *got = dump_lim(FIX "big.xls", NULL, 0, NULL, 3);
	assert_non_null(strstr(got, "3:n=21|_=|s=r3\n!!"));
	assert_non_null(strstr(got, "sheet \"Big\": stopped by the receiver at row 3"));
	assert_null(strstr(got, "4:"));
	free(got);
}

static void test_limits(void **state)
{
	(void)state;
	struct xls_limits lim = { 0 };
	lim.max_columns = 27;
	expect_ok(FIX "basic.xls", NULL, &lim);   /* sheet 0 fits */
	expect_error(FIX "basic.xls", "매출", &lim, "sheet \"매출\": cell AB7: more than 27 columns");
	lim.max_columns = 28;
	expect_ok(FIX "basic.xls", "매출", &lim);

	memset(&lim, 0, sizeof lim);
	lim.max_rows = 6;
	expect_error(FIX "basic.xls", NULL, &lim, "sheet \"Data\": row 7: more than 6 rows");
	lim.max_rows = 7;
	expect_ok(FIX "basic.xls", NULL, &lim);
	lim.max_rows = 499;
	expect_error(FIX "big.xls", NULL, &lim, "row 500: more than 499 rows");

	memset(&lim, 0, sizeof lim);
	lim.max_cell_bytes = 10;
	expect_error(FIX "basic.xls", NULL, &lim,
		     "sheet \"Data\": cell E2: text longer than 10 bytes");   /* 2^53 */
	lim.max_cell_bytes = 19;   /* 2024-01-02T03:04:05, the longest */
	expect_ok(FIX "basic.xls", NULL, &lim);
	lim.max_cell_bytes = 18;
	expect_error(FIX "basic.xls", NULL, &lim, "cell H2: text longer than 18 bytes");

	memset(&lim, 0, sizeof lim);
	/* row 1: name int neg float big bool date datetime, each with its NUL */
	lim.max_row_bytes = 5 + 4 + 4 + 6 + 4 + 5 + 5 + 9 - 1;
	expect_error(FIX "basic.xls", NULL, &lim, "sheet \"Data\": row 1: more than 41 bytes of "
		     "text");
	lim.max_row_bytes = 97;   /* row 7, the longest; EMPTY cells take nothing */
	expect_ok(FIX "basic.xls", NULL, &lim);
	lim.max_row_bytes = 96;
	expect_error(FIX "basic.xls", NULL, &lim, "sheet \"Data\": row 7: more than 96 bytes");

	memset(&lim, 0, sizeof lim);
	lim.max_sheets = 2;
	expect_error(FIX "basic.xls", NULL, &lim, "more than 2 sheets");
	lim.max_sheets = 3;
	expect_ok(FIX "basic.xls", NULL, &lim);

	memset(&lim, 0, sizeof lim);
	lim.max_file_bytes = 5631;
	expect_error(FIX "basic.xls", NULL, &lim,
		     "too large: " FIX "basic.xls is 5632 bytes, more than the limit of 5631");
	lim.max_file_bytes = 5632;
	expect_ok(FIX "basic.xls", NULL, &lim);
}

static void test_broken(void **state)
{
	(void)state;
	expect_error(FIX "nonexistent.xls", NULL, NULL,
		     "cannot read " FIX "nonexistent.xls: No such file");
	expect_error(FIX, NULL, NULL, "not a regular file");
	expect_error(FIX "empty.xls", NULL, NULL, "not an XLS file: " FIX "empty.xls is empty");
	expect_error(FIX "not_xls.xls", NULL, NULL, "not an XLS file: no compound-file signature");
	expect_error(FIX "zip.xls", NULL, NULL, "not an XLS file: it is a zip archive");
	expect_error(FIX "no_workbook.xls", NULL, NULL,
		     "not an XLS file: a compound file without a Workbook stream");
	expect_error(FIX "password.xls", NULL, NULL, "password-protected workbook");
	expect_error(FIX "truncated.xls", NULL, NULL, "corrupt XLS file: truncated");
	expect_error(FIX "long_name.xls", NULL, NULL,
		     "corrupt XLS file: a directory entry declares a 65535-byte name");
	expect_error(FIX "long_name_after.xls", NULL, NULL,
		     "corrupt XLS file: a directory entry declares a 65000-byte name");
	expect_error(FIX "bad_dimension.xls", NULL, NULL,
		     "corrupt XLS file: a sheet's declared dimensions are wrong");
	expect_error(FIX "huge_dimension.xls", NULL, NULL, "larger than FreeXL holds");
	xls_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_serials),
		cmocka_unit_test(test_sheets),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
