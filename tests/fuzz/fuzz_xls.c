/*
 * Fuzz target: XLS workbooks (ingest/xls.c over FreeXL), every sheet read.
 *
 * Input: byte 0 picks the limits (bit 0: tight ones, else the defaults
 * with the file capped at 1 MiB so runs stay fast); the rest is the file.
 * FreeXL opens paths only, so the input is written to a temporary file
 * (one per process, rewritten for each input, removed at exit).  Each
 * sheet is read twice: both reads must succeed or fail alike and, on
 * success, give the same rows.  Always: row numbers increase and stay
 * within max_rows, rows are not empty and no wider than max_columns, the
 * last cell is not EMPTY, no cell text is NULL or longer than
 * max_cell_bytes, EMPTY cells are "", dates have their ISO shape, BOOL and
 * ERROR never occur, a failure says why.
 *
 * FreeXL itself allocates up to 256 MiB per DIMENSION record and spends
 * time in proportion to date serials (see xls.h); expect libFuzzer to find
 * those (-rss_limit_mb, -timeout) before anything in xls.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest/xls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	uint64_t hash;
	uint32_t last_row;
	const struct xls_limits *lim;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 1099511628211u;
}

static bool iso_shape(const char *s, size_t len)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; i < len; i++)
		if (pattern[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != pattern[i])
			return false;
	return true;
}

static int on_row(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t n)
{
	struct trace *t = ctx;
	if (row <= t->last_row || row > t->lim->max_rows || n == 0 || n > t->lim->max_columns)
		abort();
	if (cells[n - 1].type == XLSX_EMPTY)
		abort();
	t->last_row = row;
	mix(t, &row, sizeof row);
	for (size_t i = 0; i < n; i++) {
		const struct xlsx_cell *c = &cells[i];
		if (!c->text || (c->type == XLSX_EMPTY && c->text[0]) || c->type == XLSX_BOOL ||
		    c->type == XLSX_ERROR || c->type > XLSX_ERROR)
			abort();
		size_t len = strlen(c->text);
		if (len > t->lim->max_cell_bytes)
			abort();
		if ((c->type == XLSX_DATE && (len != 10 || !iso_shape(c->text, len))) ||
		    (c->type == XLSX_DATETIME && (len != 19 || !iso_shape(c->text, len))))
			abort();
		mix(t, &c->type, sizeof c->type);
		mix(t, c->text, len + 1);
		mix(t, &c->number, sizeof c->number);
	}
	return 0;
}

static const struct xlsx_callbacks callbacks = { on_row };

static int read_sheet(struct xls *x, size_t i, const struct xls_limits *lim, struct trace *t)
{
	memset(t, 0, sizeof *t);
	t->hash = 14695981039346656037u;
	t->lim = lim;
	struct error e = { { 0 } };
	int rc = xls_read_sheet(x, i, &callbacks, t, &e);
	if (rc != 0 && (rc != -1 || !e.msg[0]))
		abort();
	return rc;
}

static char tmp_path[64];

static void remove_tmp(void)
{
	unlink(tmp_path);
}

/* Writes the input to this process's temporary file; false if it cannot. */
static bool write_tmp(const uint8_t *data, size_t size)
{
	if (!tmp_path[0]) {
		snprintf(tmp_path, sizeof tmp_path, "/tmp/sheaf-fuzz-xls-XXXXXX");
		int fd = mkstemp(tmp_path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(remove_tmp);
	}
	FILE *f = fopen(tmp_path, "wb");
	if (!f)
		abort();
	bool ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct xls_limits lim = { 0 };
	lim.max_file_bytes = 1u << 20;
	lim.max_rows = XLS_DEFAULT_ROWS;
	lim.max_columns = XLS_DEFAULT_COLUMNS;
	lim.max_cell_bytes = XLS_DEFAULT_CELL_BYTES;
	lim.max_row_bytes = XLS_DEFAULT_ROW_BYTES;
	lim.max_sheets = XLS_DEFAULT_SHEETS;
	if (data[0] & 1) {
		lim.max_file_bytes = 64u << 10;
		lim.max_rows = 20;
		lim.max_columns = 5;
		lim.max_cell_bytes = 12;
		lim.max_row_bytes = 40;
		lim.max_sheets = 2;
	}
	if (!write_tmp(data + 1, size - 1))
		return 0;
	struct error e = { { 0 } };
	struct xls *x = xls_open(tmp_path, &lim, &e);
	if (!x) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	size_t n = xls_sheet_count(x);
	if (n == 0 || n > lim.max_sheets || xls_sheet_name(x, n))
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *name = xls_sheet_name(x, i);
		if (!name || xls_sheet_find(x, name) > (long)i)
			abort();
		struct trace a, b;
		int rc = read_sheet(x, i, &lim, &a);
		if (read_sheet(x, i, &lim, &b) != rc || (rc == 0 && a.hash != b.hash))
			abort();   /* a sheet reads the same every time */
	}
	xls_close(x);
	return 0;
}
