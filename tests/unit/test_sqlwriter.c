/*
 * The direct SQLite file writer: every file written here is opened by
 * SQLite and must pass integrity_check and quick_check and read back with
 * exactly the values given.  Where the bytes are fully determined (one
 * row's cell, the database header) they are compared with what SQLite
 * itself writes for the same input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "ingest/sqlwriter.h"
#include "testutil.h"

static char dir[] = "/tmp/sheaf-sqlw-XXXXXX";
static char path_a[256], path_b[256];
static const uint32_t page_sizes[] = {512, 1024, 4096, 16384, 65536};
#define NPAGE_SIZES (sizeof page_sizes / sizeof page_sizes[0])

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path_a, sizeof path_a, "%s/a.db", dir);
	snprintf(path_b, sizeof path_b, "%s/b.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(dir);
	return 0;
}

static void clean(void)
{
	unlink(path_a);
	unlink(path_b);
}

/* "CREATE TABLE data(c0, c1, ...)" without types: no affinity, so SQLite
 * stores exactly what it is given and the cells can be compared. */
static char *untyped_sql(size_t ncols)
{
	size_t cap = 32 + ncols * 12;
	char *sql = xmalloc(cap);
	size_t n = (size_t)snprintf(sql, cap, "CREATE TABLE data(");
	for (size_t c = 0; c < ncols; c++)
		n += (size_t)snprintf(sql + n, cap - n, "%sc%zu", c ? ", " : "", c);
	snprintf(sql + n, cap - n, ")");
	return sql;
}

static void write_rows(const char *path, uint32_t page_size, const char *sql, size_t ncols,
		       const struct sqlw_value *rows, size_t nrows)
{
	struct error e = {{0}};
	struct sqlw *w = sqlw_create(path, page_size, "data", sql, ncols, &e);
	if (!w)
		fail_msg("create: %s", e.msg);
	for (size_t r = 0; r < nrows; r++)
		if (sqlw_append(w, rows + r * ncols, &e))
			fail_msg("append: %s", e.msg);
	assert_int_equal(sqlw_rows(w), (int64_t)nrows);
	if (sqlw_finish(w, &e))
		fail_msg("finish: %s", e.msg);
}

static sqlite3 *open_db(const char *path, int flags)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
		fail_msg("open %s: %s", path, sqlite3_errmsg(db));
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static void assert_ok_check(sqlite3 *db, const char *pragma)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, pragma, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	const char *r = (const char *)sqlite3_column_text(st, 0);
	if (strcmp(r, "ok") != 0)
		fail_msg("%s: %s", pragma, r);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static void assert_intact(sqlite3 *db)
{
	assert_ok_check(db, "PRAGMA integrity_check");
	assert_ok_check(db, "PRAGMA quick_check");
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* What SQLite reads back for v (NaN reads as NULL). */
static void assert_value(sqlite3_stmt *st, int col, const struct sqlw_value *v, int64_t rowid)
{
	int t = sqlite3_column_type(st, col);
	switch (v->type) {
	case SQLW_NULL:
		if (t != SQLITE_NULL)
			fail_msg("row %lld col %d: type %d, want NULL", (long long)rowid, col, t);
		break;
	case SQLW_INT:
		if (t != SQLITE_INTEGER || sqlite3_column_int64(st, col) != v->i)
			fail_msg("row %lld col %d: type %d, want integer %lld", (long long)rowid, col,
				 t, (long long)v->i);
		break;
	case SQLW_REAL:
		if (isnan(v->r)) {
			if (t != SQLITE_NULL)
				fail_msg("row %lld col %d: NaN reads as type %d", (long long)rowid, col,
					 t);
			break;
		}
		if (t != SQLITE_FLOAT)
			fail_msg("row %lld col %d: type %d, want real", (long long)rowid, col, t);
		double d = sqlite3_column_double(st, col);
		if (memcmp(&d, &v->r, sizeof d) != 0)
			fail_msg("row %lld col %d: %.17g, want %.17g", (long long)rowid, col, d, v->r);
		break;
	case SQLW_TEXT: {
		if (t != SQLITE_TEXT)
			fail_msg("row %lld col %d: type %d, want text", (long long)rowid, col, t);
		const void *p = sqlite3_column_blob(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		if (n != v->len || (n && memcmp(p, v->s, n) != 0))
			fail_msg("row %lld col %d: text of %zu bytes differs (want %zu)",
				 (long long)rowid, col, n, v->len);
		break;
	}
	}
}

/* The rows of path's data table, in rowid order, against rows. */
static void assert_rows(const char *path, size_t ncols, const struct sqlw_value *rows,
			size_t nrows)
{
	sqlite3 *db = open_db(path, SQLITE_OPEN_READONLY);
	assert_intact(db);
	sqlite3_stmt *st;
	/* A result has at most 2000 columns: the widest table goes without rowid. */
	int first = ncols < 2000;
	assert_int_equal(sqlite3_prepare_v2(db,
					    first ? "SELECT rowid, * FROM data ORDER BY rowid"
						  : "SELECT * FROM data ORDER BY rowid",
					    -1, &st, NULL),
			 SQLITE_OK);
	for (size_t r = 0; r < nrows; r++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		if (first)
			assert_int_equal(sqlite3_column_int64(st, 0), (int64_t)r + 1);
		for (size_t c = 0; c < ncols; c++)
			assert_value(st, (int)c + first, &rows[r * ncols + c], (int64_t)r + 1);
	}
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(query_int(db, "SELECT count(*) FROM data"), (int64_t)nrows);
	sqlite3_close(db);
}

/* The same rows inserted by SQLite itself. */
static void sqlite_rows(const char *path, uint32_t page_size, const char *sql, size_t ncols,
			const struct sqlw_value *rows, size_t nrows)
{
	sqlite3 *db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA page_size=%u", page_size);
	exec(db, pragma);
	exec(db, "BEGIN");
	exec(db, sql);
	sqlite3_stmt *st;
	char *ins = xmalloc(32 + ncols * 2);
	size_t n = (size_t)sprintf(ins, "INSERT INTO data VALUES(");
	for (size_t c = 0; c < ncols; c++)
		n += (size_t)sprintf(ins + n, "%s?", c ? "," : "");
	sprintf(ins + n, ")");
	assert_int_equal(sqlite3_prepare_v2(db, ins, -1, &st, NULL), SQLITE_OK);
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const struct sqlw_value *v = &rows[r * ncols + c];
			int i = (int)c + 1;
			switch (v->type) {
			case SQLW_NULL:
				sqlite3_bind_null(st, i);
				break;
			case SQLW_INT:
				sqlite3_bind_int64(st, i, v->i);
				break;
			case SQLW_REAL:
				sqlite3_bind_double(st, i, v->r);
				break;
			case SQLW_TEXT:
				sqlite3_bind_text64(st, i, v->s ? v->s : "", v->len, SQLITE_STATIC,
						    SQLITE_UTF8);
				break;
			}
		}
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	free(ins);
	exec(db, "COMMIT");
	sqlite3_close(db);
}

static uint8_t *read_page(const char *path, uint32_t page_size, uint32_t pgno)
{
	uint8_t *p = xmalloc(page_size);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, p, page_size, (off_t)(pgno - 1) * page_size),
			 (ssize_t)page_size);
	close(fd);
	return p;
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t root_page(const char *path)
{
	sqlite3 *db = open_db(path, SQLITE_OPEN_READONLY);
	uint32_t root = (uint32_t)query_int(db, "SELECT rootpage FROM sqlite_schema WHERE name='data'");
	sqlite3_close(db);
	return root;
}

/*
 * The single cell of a one-row table's root leaf: its bytes from the cell
 * content start to the page end, without the overflow page number (page
 * numbers differ between writers).
 */
static uint8_t *single_cell(const char *path, uint32_t page_size, size_t *len)
{
	uint32_t root = root_page(path);
	uint8_t *p = read_page(path, page_size, root);
	assert_int_equal(p[0], 0x0d);
	assert_int_equal(get16(p + 3), 1);
	uint32_t top = get16(p + 8);
	assert_int_equal(get16(p + 5) ? get16(p + 5) : 65536, top);
	size_t n = page_size - top;
	/* Payload size varint, to know whether the cell ends in a page number. */
	uint64_t payload = 0;
	size_t i = 0;
	do
		payload = payload << 7 | (p[top + i] & 0x7f);
	while (p[top + i++] & 0x80);
	if (payload > page_size - 35)
		n -= 4;
	uint8_t *cell = xmalloc(n);
	memcpy(cell, p + top, n);
	free(p);
	*len = n;
	return cell;
}

/* One row written by both writers: same cell bytes, same values read. */
static void assert_row_like_sqlite(uint32_t page_size, size_t ncols, const struct sqlw_value *row)
{
	char *sql = untyped_sql(ncols);
	clean();
	write_rows(path_a, page_size, sql, ncols, row, 1);
	sqlite_rows(path_b, page_size, sql, ncols, row, 1);
	assert_rows(path_a, ncols, row, 1);
	size_t na, nb;
	uint8_t *a = single_cell(path_a, page_size, &na);
	uint8_t *b = single_cell(path_b, page_size, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
	free(sql);
	clean();
}

/* Leaf depth below the root: 0 for a root leaf. */
static int tree_depth(const char *path, uint32_t page_size)
{
	uint32_t pgno = root_page(path);
	int depth = 0;
	for (;;) {
		uint8_t *p = read_page(path, page_size, pgno);
		if (p[0] == 0x0d) {
			free(p);
			return depth;
		}
		assert_int_equal(p[0], 0x05);
		assert_true(get16(p + 3) >= 1);
		pgno = get32(p + get16(p + 12));
		free(p);
		depth++;
	}
}

static void test_zero_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPAGE_SIZES; i++) {
		clean();
		write_rows(path_a, page_sizes[i], "CREATE TABLE data(a INTEGER, b TEXT)", 2, NULL, 0);
		assert_rows(path_a, 2, NULL, 0);
		struct stat sb;
		assert_int_equal(stat(path_a, &sb), 0);
		assert_int_equal(sb.st_size, 2 * (off_t)page_sizes[i]);
		assert_int_equal(tree_depth(path_a, page_sizes[i]), 0);
	}
	clean();
}

static void test_one_row(void **state)
{
	(void)state;
	struct sqlw_value row[3] = {
		{.type = SQLW_INT, .i = 42},
		{.type = SQLW_TEXT, .s = "hello", .len = 5},
		{.type = SQLW_REAL, .r = 2.5},
	};
	for (size_t i = 0; i < NPAGE_SIZES; i++)
		assert_row_like_sqlite(page_sizes[i], 3, row);
	clean();
	write_rows(path_a, 0, "CREATE TABLE data(a INTEGER, b TEXT, c REAL)", 3, row, 1);
	assert_rows(path_a, 3, row, 1);
	uint8_t *p = read_page(path_a, 100, 1);
	assert_int_equal(get16(p + 16), SQLW_DEFAULT_PAGE_SIZE);
	free(p);
	clean();
}

/* The database header equals SQLite's for a file holding just the table. */
static void test_header_like_sqlite(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPAGE_SIZES; i++) {
		const char *sql = "CREATE TABLE data(a INTEGER, b TEXT)";
		clean();
		write_rows(path_a, page_sizes[i], sql, 2, NULL, 0);
		sqlite_rows(path_b, page_sizes[i], sql, 2, NULL, 0);
		uint8_t *a = read_page(path_a, page_sizes[i], 1);
		uint8_t *b = read_page(path_b, page_sizes[i], 1);
		assert_memory_equal(a, b, 28);
		assert_memory_equal(a + 32, b + 32, 68);
		assert_int_equal(get32(a + 28), 2);
		/* sqlite_schema's page: same cell (the root differs: 2 here too). */
		assert_memory_equal(a + 100, b + 100, 8);
		uint32_t top = get16(a + 105) ? get16(a + 105) : 65536;
		assert_memory_equal(a + top, b + top, page_sizes[i] - top);
		free(a);
		free(b);
	}
	clean();
}

static void test_integer_boundaries(void **state)
{
	(void)state;
	static const int64_t vals[] = {
		0, 1, -1, 2, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769,
		8388607, 8388608, -8388608, -8388609, (int64_t)1 << 23, 2147483647, 2147483648LL,
		-2147483648LL, -2147483649LL, (int64_t)1 << 31, ((int64_t)1 << 47) - 1,
		(int64_t)1 << 47, -((int64_t)1 << 47), -((int64_t)1 << 47) - 1, (int64_t)1 << 48,
		INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1,
	};
	size_t n = sizeof vals / sizeof vals[0];
	struct sqlw_value *rows = xcalloc(n, sizeof *rows);
	for (size_t i = 0; i < n; i++) {
		rows[i] = (struct sqlw_value){.type = SQLW_INT, .i = vals[i]};
		assert_row_like_sqlite(4096, 1, &rows[i]);
	}
	/* All of them in one row and one per row. */
	assert_row_like_sqlite(512, n, rows);
	char *sql = untyped_sql(1);
	clean();
	write_rows(path_a, 512, sql, 1, rows, n);
	assert_rows(path_a, 1, rows, n);
	free(sql);
	free(rows);
	clean();
}

static void test_reals(void **state)
{
	(void)state;
	const double vals[] = {
		0.0, -0.0, 1.0, -1.0, 0.1, 2.5, 1e308, -1e308, 5e-324, 2.2250738585072014e-308,
		INFINITY, -INFINITY, NAN, 9007199254740993.0, 1e15,
	};
	size_t n = sizeof vals / sizeof vals[0];
	struct sqlw_value *rows = xcalloc(n, sizeof *rows);
	for (size_t i = 0; i < n; i++) {
		rows[i] = (struct sqlw_value){.type = SQLW_REAL, .r = vals[i]};
		assert_row_like_sqlite(1024, 1, &rows[i]);
	}
	char *sql = untyped_sql(1);
	clean();
	write_rows(path_a, 512, sql, 1, rows, n);
	assert_rows(path_a, 1, rows, n);
	/* -0.0 keeps its sign; NaN is NULL. */
	sqlite3 *db = open_db(path_a, SQLITE_OPEN_READONLY);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT c0 FROM data WHERE rowid=2", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(signbit(sqlite3_column_double(st, 0)));
	sqlite3_finalize(st);
	assert_int_equal(query_int(db, "SELECT count(*) FROM data WHERE c0 IS NULL"), 1);
	sqlite3_close(db);
	/* A REAL column reads reals back as reals. */
	clean();
	write_rows(path_a, 4096, "CREATE TABLE data(x REAL)", 1, rows, n);
	assert_rows(path_a, 1, rows, n);
	free(sql);
	free(rows);
	clean();
}

static void test_texts(void **state)
{
	(void)state;
	static const char korean[] = "대구광역시 수성구 범어동 — 한글 텍스트";
	static const char nuls[] = "a\0b\0\0c";
	struct sqlw_value rows[] = {
		{.type = SQLW_TEXT, .s = "", .len = 0},
		{.type = SQLW_TEXT, .s = NULL, .len = 0},
		{.type = SQLW_TEXT, .s = korean, .len = sizeof korean - 1},
		{.type = SQLW_TEXT, .s = nuls, .len = sizeof nuls - 1},
		{.type = SQLW_TEXT, .s = "x", .len = 1},
		{.type = SQLW_NULL},
	};
	size_t n = sizeof rows / sizeof rows[0];
	for (size_t i = 0; i < n; i++)
		assert_row_like_sqlite(512, 1, &rows[i]);
	assert_row_like_sqlite(4096, n, rows);
	clean();
	write_rows(path_a, 512, "CREATE TABLE data(t TEXT)", 1, rows, n);
	assert_rows(path_a, 1, rows, n);
	sqlite3 *db = open_db(path_a, SQLITE_OPEN_READONLY);
	assert_int_equal(query_int(db, "SELECT length(t) FROM data WHERE rowid=3"), 22);
	assert_int_equal(query_int(db, "SELECT typeof(t)='text' FROM data WHERE rowid=1"), 1);
	sqlite3_close(db);
	clean();
}

/* Text of len bytes in a one-column record makes a payload of this size. */
static size_t one_text_payload(size_t len)
{
	uint64_t st = 2 * (uint64_t)len + 13;
	size_t stlen = 1;
	while (st >>= 7)
		stlen++;
	return 1 + stlen + len;
}

static char *filler(size_t n, unsigned seed)
{
	char *s = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + (i * 7 + seed + i / 97) % 26);
	s[n] = 0;
	return s;
}

static void test_overflow_thresholds(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPAGE_SIZES; i++) {
		uint32_t u = page_sizes[i];
		size_t x = u - 35, m = (u - 12) * 32 / 255 - 23;
		size_t targets[] = {
			m - 1, m, m + 1, x - 1, x, x + 1, x + 2, x + (u - 4) - 1, x + (u - 4),
			x + (u - 4) + 1, m + (u - 4), m + (u - 4) + 1, 2 * x, 3 * u + 17,
			10 * u - 5, 100 * u,
		};
		size_t nt = sizeof targets / sizeof targets[0];
		struct sqlw_value *rows = xcalloc(nt, sizeof *rows);
		char *text = filler(100 * u + 10, (unsigned)i);
		for (size_t t = 0; t < nt; t++) {
			size_t len = targets[t] > 3 ? targets[t] - 3 : 0;
			while (one_text_payload(len) < targets[t])
				len++;
			while (len > 0 && one_text_payload(len) > targets[t])
				len--;
			rows[t] = (struct sqlw_value){.type = SQLW_TEXT, .s = text, .len = len};
			assert_row_like_sqlite(u, 1, &rows[t]);
		}
		/* All of them in one table, next to each other. */
		char *sql = untyped_sql(1);
		clean();
		write_rows(path_a, u, sql, 1, rows, nt);
		assert_rows(path_a, 1, rows, nt);
		free(sql);
		free(text);
		free(rows);
	}
	clean();
}

static void test_huge_values(void **state)
{
	(void)state;
	size_t big = 6 * 1024 * 1024 + 123;
	char *text = filler(big, 3);
	for (size_t i = 0; i < NPAGE_SIZES; i++) {
		struct sqlw_value rows[] = {
			{.type = SQLW_INT, .i = 1},
			{.type = SQLW_TEXT, .s = text, .len = big},
			{.type = SQLW_TEXT, .s = text + 1, .len = big / 3},
			{.type = SQLW_INT, .i = 2},
			{.type = SQLW_TEXT, .s = "small", .len = 5},
			{.type = SQLW_NULL},
		};
		if (page_sizes[i] == 512 || page_sizes[i] == 65536)
			assert_row_like_sqlite(page_sizes[i], 2, rows);
		char *sql = untyped_sql(2);
		clean();
		write_rows(path_a, page_sizes[i], sql, 2, rows, 3);
		assert_rows(path_a, 2, rows, 3);
		free(sql);
	}
	free(text);
	clean();
}

static void test_depth(void **state)
{
	(void)state;
	/* 512-byte pages: three 130-byte rows a leaf and ~50 children an
	 * interior page, so 1000 rows need two interior levels and 20000 three. */
	char *text = filler(200, 9);
	const size_t counts[] = {3, 4, 120, 1000, 20000};
	const int depths[] = {0, 1, 1, 2, 3};
	for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
		size_t n = counts[k];
		struct sqlw_value *rows = xcalloc(n * 2, sizeof *rows);
		for (size_t r = 0; r < n; r++) {
			rows[2 * r] = (struct sqlw_value){.type = SQLW_INT, .i = (int64_t)r * 3};
			rows[2 * r + 1] = (struct sqlw_value){.type = SQLW_TEXT, .s = text + r % 50,
							      .len = 120 + r % 10};
		}
		clean();
		write_rows(path_a, 512, "CREATE TABLE data(a INTEGER, b TEXT)", 2, rows, n);
		assert_rows(path_a, 2, rows, n);
		int d = tree_depth(path_a, 512);
		if (d != depths[k])
			fail_msg("%zu rows: depth %d, want %d", n, d, depths[k]);
		sqlite3 *db = open_db(path_a, SQLITE_OPEN_READONLY);
		assert_int_equal(query_int(db, "SELECT a FROM data WHERE rowid=3"), 6);
		assert_int_equal(query_int(db, "SELECT max(rowid) FROM data"), (int64_t)n);
		char q[96];
		snprintf(q, sizeof q, "SELECT a FROM data WHERE rowid=%zu", n);
		assert_int_equal(query_int(db, q), (int64_t)(n - 1) * 3);
		sqlite3_close(db);
		free(rows);
	}
	assert_int_equal(tree_depth(path_a, 512), 3);
	free(text);
	clean();
}

static void test_columns(void **state)
{
	(void)state;
	/* 1 column, and 2000 (SQLite's default limit): the CREATE statement
	 * then spills from page 1 to overflow pages. */
	const size_t widths[] = {1, 2000};
	char *text = filler(100, 1);
	for (size_t k = 0; k < 2; k++) {
		size_t nc = widths[k], nr = 30;
		char *sql = untyped_sql(nc);
		struct sqlw_value *rows = xcalloc(nc * nr, sizeof *rows);
		for (size_t r = 0; r < nr; r++)
			for (size_t c = 0; c < nc; c++) {
				struct sqlw_value *v = &rows[r * nc + c];
				switch ((r + c) % 4) {
				case 0:
					*v = (struct sqlw_value){.type = SQLW_INT, .i = (int64_t)(r * c)};
					break;
				case 1:
					*v = (struct sqlw_value){.type = SQLW_TEXT, .s = text, .len = c % 40};
					break;
				case 2:
					*v = (struct sqlw_value){.type = SQLW_REAL, .r = (double)c / 7};
					break;
				default:
					*v = (struct sqlw_value){.type = SQLW_NULL};
				}
			}
		for (size_t i = 0; i < NPAGE_SIZES; i++) {
			assert_row_like_sqlite(page_sizes[i], nc, rows);
			clean();
			write_rows(path_a, page_sizes[i], sql, nc, rows, nr);
			assert_rows(path_a, nc, rows, nr);
		}
		free(rows);
		free(sql);
	}
	free(text);
	clean();
}

/*
 * sqlite_schema's row in both shapes of page 1: a leaf holding it, and
 * (when the cell does not fit after the header) an interior page without
 * cells over a leaf.
 */
static void test_page1_shapes(void **state)
{
	(void)state;
	int leaf = 0, interior = 0;
	for (size_t nc = 1; nc < 400; nc += 3) {
		char *sql = untyped_sql(nc);
		clean();
		write_rows(path_a, 512, sql, nc, NULL, 0);
		uint8_t *p = read_page(path_a, 512, 1);
		if (p[100] == 0x0d)
			leaf++;
		else if (p[100] == 0x05)
			interior++;
		else
			fail_msg("page 1 type %d", p[100]);
		free(p);
		sqlite3 *db = open_db(path_a, SQLITE_OPEN_READWRITE);
		assert_intact(db);
		char q[64];
		snprintf(q, sizeof q, "SELECT count(*) FROM pragma_table_info('data')");
		assert_int_equal(query_int(db, q), (int64_t)nc);
		/* SQLite can add to sqlite_schema in either shape. */
		exec(db, "CREATE TABLE more(x); INSERT INTO data(c0) VALUES(7)");
		assert_intact(db);
		sqlite3_close(db);
		free(sql);
	}
	assert_true(leaf > 0);
	assert_true(interior > 0);
	clean();
}

/* A deterministic generator of random rows. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void random_value(uint64_t *s, const char *text, size_t text_len, uint32_t page_size,
			 struct sqlw_value *v)
{
	uint64_t k = rng_next(s) % 100;
	if (k < 10) {
		*v = (struct sqlw_value){.type = SQLW_NULL};
	} else if (k < 40) {
		int bits = (int)(rng_next(s) % 64);
		int64_t i = (int64_t)(rng_next(s) >> (63 - bits));
		*v = (struct sqlw_value){.type = SQLW_INT, .i = rng_next(s) & 1 ? -i : i};
	} else if (k < 55) {
		uint64_t bits = rng_next(s);
		double d;
		memcpy(&d, &bits, sizeof d);
		if (k == 41)
			d = -0.0;
		else if (k > 47)
			d = (double)(int64_t)(rng_next(s) % 2000000) / 1000.0;
		*v = (struct sqlw_value){.type = SQLW_REAL, .r = d};
	} else {
		size_t len;
		uint64_t sz = rng_next(s) % 1000;
		if (sz < 900)
			len = rng_next(s) % 40;
		else if (sz < 990)
			len = rng_next(s) % (3 * page_size);
		else
			len = rng_next(s) % (text_len / 2);
		size_t off = rng_next(s) % (text_len - len + 1);
		*v = (struct sqlw_value){.type = SQLW_TEXT, .s = text + off, .len = len};
	}
}

static void test_random_rows(void **state)
{
	(void)state;
	size_t text_len = 300000;
	char *text = xmalloc(text_len);
	uint64_t s = 0x9e3779b97f4a7c15u;
	for (size_t i = 0; i < text_len; i++)
		text[i] = (char)(i % 53 == 0 ? 0 : 'A' + rng_next(&s) % 58);
	static const uint32_t all_sizes[] = {512, 1024, 2048, 4096, 8192, 16384, 32768, 65536};
	for (size_t i = 0; i < sizeof all_sizes / sizeof all_sizes[0]; i++) {
		uint32_t u = all_sizes[i];
		size_t nc = 1 + i * 2, nr = 3000;
		struct sqlw_value *rows = xcalloc(nc * nr, sizeof *rows);
		s = 12345 + i;
		for (size_t j = 0; j < nc * nr; j++)
			random_value(&s, text, text_len, u, &rows[j]);
		char *sql = untyped_sql(nc);
		clean();
		write_rows(path_a, u, sql, nc, rows, nr);
		assert_rows(path_a, nc, rows, nr);
		free(sql);
		free(rows);
	}
	free(text);
	clean();
}

/* SQLite opens the file read-write and keeps it intact while it changes it. */
static void test_reopen_and_write(void **state)
{
	(void)state;
	char *text = filler(5000, 2);
	for (size_t i = 0; i < NPAGE_SIZES; i++) {
		size_t n = 4000;
		struct sqlw_value *rows = xcalloc(n * 2, sizeof *rows);
		for (size_t r = 0; r < n; r++) {
			rows[2 * r] = (struct sqlw_value){.type = SQLW_INT, .i = (int64_t)r};
			rows[2 * r + 1] = (struct sqlw_value){.type = SQLW_TEXT, .s = text,
							      .len = r % 97 == 0 ? 4000 : r % 60};
		}
		clean();
		write_rows(path_a, page_sizes[i], "CREATE TABLE data(a INTEGER, b TEXT)", 2, rows, n);
		sqlite3 *db = open_db(path_a, SQLITE_OPEN_READWRITE);
		exec(db, "CREATE TABLE sheaf_meta(key TEXT PRIMARY KEY, value TEXT);"
			 "CREATE TABLE sheaf_columns(position INTEGER PRIMARY KEY, name TEXT)");
		exec(db, "BEGIN");
		for (int k = 0; k < 2000; k++) {
			char q[160];
			snprintf(q, sizeof q,
				 "INSERT INTO sheaf_meta VALUES('key%d', printf('%%.*c', %d, 'v'))", k,
				 k % 300);
			exec(db, q);
		}
		exec(db, "COMMIT");
		exec(db, "INSERT INTO data SELECT a + 100000, b FROM data WHERE rowid <= 700");
		exec(db, "UPDATE data SET b = b || b WHERE rowid % 13 = 0");
		exec(db, "DELETE FROM data WHERE rowid % 11 = 0");
		exec(db, "CREATE INDEX data_a ON data(a)");
		assert_intact(db);
		assert_int_equal(query_int(db, "SELECT count(*) FROM sheaf_meta"), 2000);
		assert_int_equal(query_int(db, "SELECT count(*) FROM data"),
				 (int64_t)(n + 700) - (int64_t)(n + 700) / 11);
		exec(db, "VACUUM");
		assert_intact(db);
		sqlite3_close(db);
		free(rows);
	}
	free(text);
	clean();
}

/*
 * The lock-byte page (at offset 1 GiB) must stay unused.  Both SQLite and
 * the writer move it here, to 64 KiB (inside the first output buffer) and
 * to 2.5 MiB (past the first buffer flush), so it falls inside small files.
 */
static void test_lock_byte_page(void **state)
{
	(void)state;
	const uint32_t pendings[] = {0x10000, 0x280000};
	char *text = filler(30000, 4);
	for (size_t j = 0; j < 2; j++) {
		uint32_t pending = pendings[j];
		assert_int_equal(sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, pending),
				 0x40000000);
		uint32_t old = sqlw_test_pending_byte(pending);
		assert_int_equal(old, 0x40000000);
		for (size_t i = 0; i < NPAGE_SIZES; i++) {
			uint32_t u = page_sizes[i];
			size_t n = 1000;
			struct sqlw_value *rows = xcalloc(n, sizeof *rows);
			for (size_t r = 0; r < n; r++)
				rows[r] = (struct sqlw_value){
					.type = SQLW_TEXT, .s = text,
					.len = r % 5 == 0 ? 5000 + r * 20 : 100};
			clean();
			write_rows(path_a, u, "CREATE TABLE data(t TEXT)", 1, rows, n);
			assert_rows(path_a, 1, rows, n);
			uint32_t lock = pending / u + 1;
			struct stat sb;
			assert_int_equal(stat(path_a, &sb), 0);
			assert_true(sb.st_size > (off_t)lock * u);
			uint8_t *p = read_page(path_a, u, lock);
			for (uint32_t k = 0; k < u; k++)
				assert_int_equal(p[k], 0);
			free(p);
			sqlite3 *db = open_db(path_a, SQLITE_OPEN_READWRITE);
			exec(db, "CREATE TABLE more(x); INSERT INTO more SELECT t FROM data");
			assert_intact(db);
			sqlite3_close(db);
			free(rows);
		}
		sqlw_test_pending_byte(old);
		sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, 0x40000000);
	}
	free(text);
	clean();
}

/* Puts the lock-byte page back even when test_lock_byte_page fails. */
static int restore_pending_byte(void **state)
{
	(void)state;
	sqlw_test_pending_byte(0x40000000);
	sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, 0x40000000);
	return 0;
}

static void test_create_errors(void **state)
{
	(void)state;
	struct error e = {{0}};
	clean();
	int fd = open(path_a, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_null(sqlw_create(path_a, 4096, "data", "CREATE TABLE data(a)", 1, &e));
	assert_non_null(strstr(e.msg, "File exists"));
	struct stat sb;
	assert_int_equal(stat(path_a, &sb), 0);
	assert_int_equal(sb.st_size, 4);
	clean();
	const uint32_t bad[] = {256, 1000, 131072, 3 * 1024};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_null(sqlw_create(path_a, bad[i], "data", "CREATE TABLE data(a)", 1, &e));
		assert_int_equal(access(path_a, F_OK), -1);
	}
	assert_null(sqlw_create(path_a, 4096, "data", "CREATE TABLE data(a)", 0, &e));
	assert_int_equal(access(path_a, F_OK), -1);
	snprintf(path_b, sizeof path_b, "%s/no/such/dir.db", dir);
	assert_null(sqlw_create(path_b, 4096, "data", "CREATE TABLE data(a)", 1, &e));
	snprintf(path_b, sizeof path_b, "%s/b.db", dir);
}

static void test_abort(void **state)
{
	(void)state;
	struct error e = {{0}};
	sqlw_abort(NULL);
	clean();
	struct sqlw *w = sqlw_create(path_a, 512, "data", "CREATE TABLE data(a)", 1, &e);
	assert_non_null(w);
	char *text = filler(100000, 5);
	struct sqlw_value v = {.type = SQLW_TEXT, .s = text, .len = 100000};
	for (int i = 0; i < 50; i++)
		assert_int_equal(sqlw_append(w, &v, &e), 0);
	assert_int_equal(access(path_a, F_OK), 0);
	sqlw_abort(w);
	assert_int_equal(access(path_a, F_OK), -1);
	free(text);
}

/* Refused rows are not written, take no rowid, and the writer goes on. */
static void test_refused_rows(void **state)
{
	(void)state;
	struct error e = {{0}};
	clean();
	struct sqlw *w = sqlw_create(path_a, 1024, "data", "CREATE TABLE data(a, b, c)", 3, &e);
	assert_non_null(w);
	struct sqlw_value ok[3] = {
		{.type = SQLW_INT, .i = 5}, {.type = SQLW_TEXT, .s = "ok", .len = 2}, {.type = SQLW_NULL},
	};
	assert_int_equal(sqlw_append(w, ok, &e), 0);
	struct sqlw_value bad[3] = {ok[0], {.type = (enum sqlw_type)9}, ok[2]};
	assert_int_equal(sqlw_append(w, bad, &e), -1);
	assert_non_null(strstr(e.msg, "type"));
	/* Too large: refused before any byte of the text is read, so the
	 * pointer can be to a short string. */
	struct sqlw_value big[3] = {
		{.type = SQLW_TEXT, .s = "x", .len = 400000000},
		{.type = SQLW_TEXT, .s = "x", .len = 400000000},
		{.type = SQLW_TEXT, .s = "x", .len = 400000000},
	};
	assert_int_equal(sqlw_append(w, big, &e), -1);
	assert_non_null(strstr(e.msg, "too large"));
	big[0].len = 2000000000;
	assert_int_equal(sqlw_append(w, big, &e), -1);
	assert_non_null(strstr(e.msg, "too large"));
	assert_int_equal(sqlw_rows(w), 1);
	assert_int_equal(sqlw_append(w, ok, &e), 0);
	assert_int_equal(sqlw_finish(w, &e), 0);
	struct sqlw_value want[6] = {ok[0], ok[1], ok[2], ok[0], ok[1], ok[2]};
	assert_rows(path_a, 3, want, 2);
	clean();
}

/* A failing write (file size limit): the error is reported, the file removed. */
static void test_write_failure(void **state)
{
	(void)state;
	struct error e = {{0}};
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 3 * 1024 * 1024;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	clean();
	struct sqlw *w = sqlw_create(path_a, 4096, "data", "CREATE TABLE data(a)", 1, &e);
	assert_non_null(w);
	char *text = filler(100000, 6);
	struct sqlw_value v = {.type = SQLW_TEXT, .s = text, .len = 100000};
	int failed = 0;
	for (int i = 0; i < 200 && !failed; i++)
		failed = sqlw_append(w, &v, &e) != 0;
	assert_true(failed);
	assert_non_null(strstr(e.msg, "write"));
	assert_int_equal(sqlw_append(w, &v, &e), -1);
	assert_int_equal(sqlw_finish(w, &e), -1);
	assert_int_equal(access(path_a, F_OK), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	free(text);
}

/*
 * The importer's shape, timed: 22 columns of ints, reals and short text.
 * The ratio printed is only indicative under sanitizers; the release-build
 * number is bench/ingest/sqlwbench.c's.
 */
static void test_timing(void **state)
{
	(void)state;
	size_t nc = 22, nr = 20000;
	struct sqlw_value *rows = xcalloc(nc * nr, sizeof *rows);
	char *text = filler(64, 8);
	for (size_t r = 0; r < nr; r++)
		for (size_t c = 0; c < nc; c++) {
			struct sqlw_value *v = &rows[r * nc + c];
			if (c % 3 == 0)
				*v = (struct sqlw_value){.type = SQLW_INT, .i = (int64_t)(r * 31 + c)};
			else if (c % 3 == 1)
				*v = (struct sqlw_value){.type = SQLW_TEXT, .s = text,
							 .len = 5 + (r + c) % 20};
			else
				*v = (struct sqlw_value){.type = SQLW_REAL,
							 .r = (double)r / (double)(c + 1)};
		}
	char *sql = untyped_sql(nc);
	clean();
	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	write_rows(path_a, 16384, sql, nc, rows, nr);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sqlite_rows(path_b, 16384, sql, nc, rows, nr);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double a = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double b = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	print_message("sqlwriter %zu rows x %zu columns: %.1f ms; sqlite inserts %.1f ms (%.1fx)\n",
		      nr, nc, a * 1e3, b * 1e3, b / a);
	assert_rows(path_a, nc, rows, nr);
	free(sql);
	free(text);
	free(rows);
	clean();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_rows),
		cmocka_unit_test(test_one_row),
		cmocka_unit_test(test_header_like_sqlite),
		cmocka_unit_test(test_integer_boundaries),
		cmocka_unit_test(test_reals),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_overflow_thresholds),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_page1_shapes),
		cmocka_unit_test(test_random_rows),
		cmocka_unit_test(test_reopen_and_write),
		cmocka_unit_test_teardown(test_lock_byte_page, restore_pending_byte),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_refused_rows),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_timing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
