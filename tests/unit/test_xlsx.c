/*
 * The XLSX reader (ingest/xlsx.h) on workbooks from openpyxl and on parts
 * written by hand (tests/unit/xlsx_fixtures/make_fixtures.py): every cell
 * type, dates in both systems and around Excel's fake 1900-02-29, cached
 * formula values, inline and rich text, sparse cells and rows, sheets by
 * name and index; the same rows whatever size the inflated pieces fed to
 * expat; each limit; zip bombs honest and lying; broken files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>
#include <zip.h>

#include "base/buf.h"
#include "ingest/sheetval.h"
#include "ingest/xlsx.h"

#define FIX "tests/unit/xlsx_fixtures/"

struct rec {
	struct buf log;
	uint32_t last_row;
	int stop_at;   /* stop on this row callback (1-based; 0: never) */
	int rows;
};

static int on_row(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t n)
{
	struct rec *r = ctx;
	static const char code[] = "_nsbdteh";   /* h: XLSX_TIME */
	assert_true(row > r->last_row);
	r->last_row = row;
	if (n)
		assert_int_not_equal(cells[n - 1].type, XLSX_EMPTY);   /* trailing empties dropped */
	buf_printf(&r->log, "%u:", row);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(cells[i].text);
		if (cells[i].type == XLSX_EMPTY)
			assert_string_equal(cells[i].text, "");
		buf_printf(&r->log, "%s%c=%s", i ? "|" : "", code[cells[i].type], cells[i].text);
	}
	buf_puts(&r->log, "\n");
	return ++r->rows == r->stop_at ? 1 : 0;
}

static const struct xlsx_callbacks rec_cb = { on_row };

/* Rows of one sheet (name, or index when name is NULL) as text; on failure
 * "!!" and the message.  The caller frees. */
static char *dump_lim(const char *file, const char *name, size_t index,
		      const struct xlsx_limits *lim, int stop_at)
{
	struct rec r;
	memset(&r, 0, sizeof r);
	r.stop_at = stop_at;
	buf_init(&r.log, 64 * 1024 * 1024);
	buf_puts(&r.log, "");
	struct error e = { { 0 } };
	struct xlsx *x = xlsx_open(file, lim, &e);
	if (!x) {
		buf_printf(&r.log, "!!%s", e.msg);
		return buf_detach(&r.log);
	}
	if (name) {
		long i = xlsx_sheet_find(x, name);
		assert_true(i >= 0);
		index = (size_t)i;
	}
	if (xlsx_read_sheet(x, index, &rec_cb, &r, &e))
		buf_printf(&r.log, "!!%s", e.msg);
	xlsx_close(x);
	return buf_detach(&r.log);
}

/* The same rows with pieces of 1, 7, 4096 bytes and the default. */
static char *dump(const char *file, const char *name, size_t index)
{
	char *want = dump_lim(file, name, index, NULL, 0);
	static const size_t chunks[] = { 1, 7, 4096 };
	for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
		struct xlsx_limits lim = { 0 };
		lim.read_chunk = chunks[i];
		char *got = dump_lim(file, name, index, &lim, 0);
		if (strcmp(got, want) != 0)
			fail_msg("chunk %zu:\n got  [%s]\n want [%s]", chunks[i], got, want);
		free(got);
	}
	return want;
}

static void expect(const char *file, const char *name, size_t index, const char *want)
{
	char *got = dump(file, name, index);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got  [%s]\n want [%s]", file, got, want);
	free(got);
}

static void expect_error(const char *file, const struct xlsx_limits *lim, const char *needle)
{
	char *got = dump_lim(file, NULL, 0, lim, 0);
	const char *bang = strstr(got, "!!");
	if (!bang || !strstr(bang, needle))
		fail_msg("%s: want an error with \"%s\", got [%s]", file, needle, got);
	free(got);
}

static void expect_ok(const char *file, const char *name, const struct xlsx_limits *lim)
{
	char *got = dump_lim(file, name, 0, lim, 0);
	if (strstr(got, "!!"))
		fail_msg("%s: want success, got [%s]", file, got);
	free(got);
}

static void test_basic(void **state)
{
	(void)state;
	expect(FIX "basic.xlsx", NULL, 0,
	       "1:s=name|s=int|s=neg|s=float|s=big|s=bool|s=date|s=datetime\n"
	       "2:s=alpha|n=1|n=-42|n=0.1|n=9007199254740992|b=true|d=2024-02-29"
	       "|t=2024-01-02T03:04:05\n"
	       "3:s=베타|n=1234567890123|n=-0.5|n=0.3333333333333333|n=1.234567890123457e+16"
	       "|b=false|d=1900-03-01|t=1999-12-31T23:59:59\n"
	       "4:_=|n=0|n=-1e-300|n=1e+20|n=1.5e+300\n");
}

static void test_sheets(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct xlsx *x = xlsx_open(FIX "basic.xlsx", NULL, &e);
	assert_non_null(x);
	assert_int_equal(xlsx_sheet_count(x), 3);
	assert_string_equal(xlsx_sheet_name(x, 0), "Data");
	assert_string_equal(xlsx_sheet_name(x, 1), "매출");
	assert_string_equal(xlsx_sheet_name(x, 2), "요약 시트");
	assert_null(xlsx_sheet_name(x, 3));
	assert_int_equal(xlsx_sheet_find(x, "요약 시트"), 2);
	assert_int_equal(xlsx_sheet_find(x, "nope"), -1);
	assert_int_equal(xlsx_read_sheet(x, 3, &rec_cb, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "no sheet 4"));
	xlsx_close(x);
	/* Sparse: cells placed by reference, row gaps reported by number. */
	expect(FIX "basic.xlsx", "매출", 0,
	       "2:_=|s=sparse|_=|_=|n=5\n"
	       "7:_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|_=|"
	       "s=far\n");
	expect(FIX "basic.xlsx", NULL, 2, "1:s=한국어 텍스트\n");
}

static void test_1904(void **state)
{
	(void)state;
	expect(FIX "date1904.xlsx", NULL, 0, "1:d=2024-02-29|t=1904-01-02T12:00:00\n");
}

static void test_crafted(void **state)
{
	(void)state;
	expect(FIX "crafted.xlsx", NULL, 0,
	       /* cached formula values; a formula without one is empty */
	       "1:n=2|s=ab|b=true|e=#DIV/0!|_=|s=plain\n"
	       /* inline, rich inline, rich shared, phonetic run left out, t=d */
	       "2:s=  padded  |s=rich-text|s=bold and run|s=東京|t=2024-05-06T07:08:09\n"
	       /* 1900 leap-year bug around serial 60; custom formats; time only;
		* out of range stays a number; styled empty cell dropped */
	       "4:_=|d=1900-02-28|d=1900-02-29|d=1900-03-01|t=2023-03-15T06:00:00|n=45000.25"
	       "|n=3|h=18:00:00|n=-1\n"
	       /* no r attributes: next column; lowercase reference */
	       "5:n=1|n=2|_=|_=|n=5\n"
	       "7:\n");
	expect(FIX "minimal.xlsx", NULL, 0, "1:n=7\n");
}

static void test_big(void **state)
{
	(void)state;
	char *got = dump(FIX "big.xlsx", NULL, 0);
	struct buf want;
	buf_init(&want, 1 << 20);
	for (int i = 1; i <= 2000; i++)
		buf_printf(&want, "%d:n=%d|_=|s=r%d\n", i, i * 7, i);
	assert_string_equal(got, want.data);
	buf_free(&want);
	free(got);
}

static void test_stop(void **state)
{
	(void)state;
	char *got = dump_lim(FIX "big.xlsx", NULL, 0, NULL, 3);
	assert_non_null(strstr(got, "3:n=21|_=|s=r3\n!!"));
	assert_non_null(strstr(got, "stopped by the receiver"));
	assert_null(strstr(got, "4:"));
	free(got);
}

static void test_limits(void **state)
{
	(void)state;
	struct xlsx_limits lim = { 0 };
	lim.max_columns = 27;
	expect_ok(FIX "basic.xlsx", NULL, &lim);   /* sheet 0 fits */
	char *got = dump_lim(FIX "basic.xlsx", "매출", 0, &lim, 0);
	assert_non_null(strstr(got, "!!xl/worksheets/sheet2.xml: cell AB7: more than 27 columns"));
	free(got);
	lim.max_columns = 28;
	expect_ok(FIX "basic.xlsx", "매출", &lim);

	memset(&lim, 0, sizeof lim);
	lim.max_cell_bytes = 9;
	expect_error(FIX "crafted.xlsx", &lim, "shared string 1 longer than 9 bytes");
	lim.max_cell_bytes = 19;   /* the longest text, E2's t="d" value */
	expect_ok(FIX "crafted.xlsx", NULL, &lim);
	lim.max_cell_bytes = 9;
	expect_ok(FIX "big.xlsx", NULL, &lim);
	lim.max_cell_bytes = 2;
	expect_error(FIX "big.xlsx", &lim, "cell C10: text longer than 2 bytes");

	memset(&lim, 0, sizeof lim);
	lim.max_shared_strings = 2;
	expect_error(FIX "crafted.xlsx", &lim, "more than 2 shared strings");
	lim.max_shared_strings = 3;
	lim.max_shared_bytes = 5 + 12 + 6 - 1;
	expect_error(FIX "crafted.xlsx", &lim, "shared strings longer than 22 bytes in total");
	lim.max_shared_bytes++;
	expect_ok(FIX "crafted.xlsx", NULL, &lim);

	memset(&lim, 0, sizeof lim);
	lim.max_row_bytes = 13;   /* row 1: "2", "ab", "#DIV/0!", each with its NUL */
	expect_error(FIX "crafted.xlsx", &lim, "row 2: more than 13 bytes of text");
	memset(&lim, 0, sizeof lim);
	lim.max_sheets = 2;
	expect_error(FIX "basic.xlsx", &lim, "more than 2 sheets");
	memset(&lim, 0, sizeof lim);
	lim.max_member_bytes = 100;
	expect_error(FIX "crafted.xlsx", &lim,
		     "zip bomb: _rels/.rels would inflate to 281 bytes, more than the limit of 100");
}

static void test_bombs(void **state)
{
	(void)state;
	expect_error(FIX "bomb_ratio.xlsx", NULL,
		     "zip bomb: xl/worksheets/sheet1.xml would inflate");
	expect_error(FIX "bomb_declared.xlsx", NULL,
		     "zip bomb: xl/worksheets/sheet1.xml would inflate to 4294967280 bytes");
	expect_error(FIX "bomb_lie.xlsx", NULL,
		     "zip bomb: xl/worksheets/sheet1.xml inflates past 1000 bytes");
	/* A looser ratio lets the honest one through, with all its rows. */
	struct xlsx_limits lim = { 0 };
	lim.max_ratio = 1000;
	expect_ok(FIX "bomb_ratio.xlsx", NULL, &lim);
	char *got = dump_lim(FIX "bomb_ratio.xlsx", NULL, 0, &lim, 0);
	assert_non_null(strstr(got, "\n68000:s=zip bomb zip bomb zip bomb\n"));
	free(got);
	/* And the size limit still holds while inflating it. */
	lim.max_member_bytes = 2 * 1000 * 1000;
	expect_error(FIX "bomb_ratio.xlsx", &lim, "would inflate to");
}

static void test_broken(void **state)
{
	(void)state;
	expect_error(FIX "not_zip.xlsx", NULL, "not an XLSX workbook: Not a zip archive");
	expect_error(FIX "no_workbook.xlsx", NULL, "not an XLSX workbook: no xl/workbook.xml");
	expect_error(FIX "nonexistent.xlsx", NULL, "cannot read " FIX "nonexistent.xlsx: No such file");
	expect_error(FIX "bad_xml.xlsx", NULL, "xl/worksheets/sheet1.xml: malformed XML at line");
	expect_error(FIX "bad_ref.xlsx", NULL, "bad cell reference \"ZZZZ1\" in row 1");
	expect_error(FIX "doctype.xlsx", NULL, "DOCTYPE is not allowed");
	expect_error(FIX "bad_number.xlsx", NULL, "cell A1: \"0x10\" is not a number");
	expect_error(FIX "row_order.xlsx", NULL, "row 2 comes after row 3");
	expect_error(FIX "cell_order.xlsx", NULL, "cell A1 is out of order in row 1");
	expect_error(FIX "missing_sheet.xlsx", NULL,
		     "sheet \"Gone\": xl/worksheets/sheet1.xml is missing");
	expect_error(FIX "no_sst.xlsx", NULL, "cell A1: shared string \"0\" does not exist");

	struct error e = { { 0 } };
	assert_null(xlsx_open_buffer("", 0, NULL, &e));
	assert_non_null(strstr(e.msg, "not an XLSX workbook"));
	assert_null(xlsx_open_buffer("PK\x03\x04garbage", 13, NULL, &e));
	xlsx_close(NULL);
}

/* A workbook around one sheet XML, stored (not deflated) in a temporary
 * file whose name goes into path (PATH_MAX bytes). */
static void write_stored(char *path, const char *sheet_xml, size_t len)
{
	static const char wb[] =
		"<workbook xmlns:r=\"r\"><sheets><sheet name=\"S\" r:id=\"rId1\"/></sheets></workbook>";
	static const char rels[] =
		"<Relationships><Relationship Id=\"rId1\" Type=\"t/worksheet\" "
		"Target=\"worksheets/sheet1.xml\"/></Relationships>";
	snprintf(path, 4096, "/tmp/sheaf-xlsx-%ld.xlsx", (long)getpid());
	int err = 0;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
	assert_non_null(za);
	const char *names[] = { "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
				"xl/worksheets/sheet1.xml" };
	const char *parts[] = { wb, rels, sheet_xml };
	size_t lens[] = { sizeof wb - 1, sizeof rels - 1, len };
	for (int i = 0; i < 3; i++) {
		zip_source_t *src = zip_source_buffer(za, parts[i], lens[i], 0);
		zip_int64_t idx = zip_file_add(za, names[i], src, 0);
		assert_true(idx >= 0);
		assert_int_equal(zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0), 0);
	}
	assert_int_equal(zip_close(za), 0);
}

/* What expat must buffer whole (a tag, a comment) has a ceiling of its own. */
static void test_long_tag(void **state)
{
	(void)state;
	char path[4096];
	size_t n = XLSX_MAX_TAG_BYTES + 300000;   /* checked once per 64 KiB piece */
	char *xml = malloc(n + 200);
	strcpy(xml, "<worksheet><sheetData><row><c><v>1</v></c></row><!--");
	size_t at = strlen(xml);
	memset(xml + at, 'x', n);
	strcpy(xml + at + n, "--><row><c><v>2</v></c></row></sheetData></worksheet>");
	write_stored(path, xml, strlen(xml));
	expect_error(path, NULL, "a tag, comment or text longer than 1048576 bytes");
	/* Text is handed over as it comes: a long one is only a cell limit. */
	strcpy(xml, "<worksheet><sheetData><row><c t=\"str\"><v>");
	at = strlen(xml);
	memset(xml + at, 'y', n);
	strcpy(xml + at + n, "</v></c></row></sheetData></worksheet>");
	write_stored(path, xml, strlen(xml));
	struct xlsx_limits lim = { 0 };
	lim.max_cell_bytes = n;
	expect_ok(path, NULL, &lim);
	lim.max_cell_bytes = n - 1;
	expect_error(path, &lim, "cell #1:1: text longer than");
	unlink(path);
	free(xml);
}

static void test_buffer(void **state)
{
	(void)state;
	FILE *f = fopen(FIX "crafted.xlsx", "rb");
	assert_non_null(f);
	char data[8192];
	size_t n = fread(data, 1, sizeof data, f);
	fclose(f);
	struct error e = { { 0 } };
	struct xlsx *x = xlsx_open_buffer(data, n, NULL, &e);
	assert_non_null(x);
	struct rec r;
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1 << 20);
	assert_int_equal(xlsx_read_sheet(x, 0, &rec_cb, &r, &e), 0);
	assert_int_equal(r.rows, 5);
	/* Again: a sheet can be read twice. */
	r.last_row = 0;
	assert_int_equal(xlsx_read_sheet(x, 0, &rec_cb, &r, &e), 0);
	assert_int_equal(r.rows, 10);
	buf_free(&r.log);
	xlsx_close(x);
}

static void expect_decoded(const char *in, const char *want)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", in);
	size_t n = sheet_decode_escapes(buf, strlen(buf));
	buf[n] = 0;
	assert_string_equal(buf, want);
}

static void test_escapes_and_times(void **state)
{
	(void)state;
	expect_decoded("a_x000D_b_x0009_c", "a\rb\tc");
	expect_decoded("keep_x005F_x000D_", "keep_x000D_");
	expect_decoded("_xD83D__xDE00_", "\xF0\x9F\x98\x80");   /* a surrogate pair */
	expect_decoded("_xD83D_x", "_xD83D_x");                       /* lone: kept */
	expect_decoded("_x0000_ _xZZZZ_ _x41", "_x0000_ _xZZZZ_ _x41");
	expect_decoded("_xAC00_", "가");
	char t[16];
	sheet_format_time(0.4309027777777778, t, sizeof t);
	assert_string_equal(t, "10:20:30");
	sheet_format_time(45000.75, t, sizeof t);
	assert_string_equal(t, "18:00:00");
	sheet_format_time(0.9999999, t, sizeof t);
	assert_string_equal(t, "00:00:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_and_times),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_sheets),
		cmocka_unit_test(test_1904),
		cmocka_unit_test(test_crafted),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_long_tag),
		cmocka_unit_test(test_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
