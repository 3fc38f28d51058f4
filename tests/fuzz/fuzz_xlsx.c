/*
 * Fuzz target: XLSX workbooks (ingest/xlsx.c) opened from memory, every
 * sheet read.
 *
 * Input: byte 0 picks the limits (bit 0: tight ones, else the defaults
 * with members capped at 16 MiB so runs stay fast) and, in bits 1-3, the
 * size of the pieces fed to expat for the second read; the rest is the
 * file.  Each sheet is read twice, with the default pieces and the chosen
 * ones: both must succeed or fail alike and, on success, give the same
 * rows.  Always: row numbers increase, no row is wider than max_columns,
 * no cell text is NULL or longer than max_cell_bytes, EMPTY cells are ""
 * and never last, a failure says why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/xlsx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct trace {
	uint64_t hash;
	uint32_t last_row;
	const struct xlsx_limits *lim;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 1099511628211u;
}

static int on_row(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t n)
{
	struct trace *t = ctx;
	if (row <= t->last_row || row > 1048576 || n > t->lim->max_columns)
		abort();
	if (n && cells[n - 1].type == XLSX_EMPTY)
		abort();
	t->last_row = row;
	mix(t, &row, sizeof row);
	for (size_t i = 0; i < n; i++) {
		const struct xlsx_cell *c = &cells[i];
		if (!c->text || (c->type == XLSX_EMPTY && c->text[0]) || c->type > XLSX_TIME)
			abort();
		size_t len = strlen(c->text);
		if (len > t->lim->max_cell_bytes && len > 64)
			abort();   /* numbers and dates are short even when the limit is tiny */
		mix(t, &c->type, sizeof c->type);
		mix(t, c->text, len + 1);
	}
	return 0;
}

static const struct xlsx_callbacks callbacks = { on_row };

static int read_sheet(struct xlsx *x, size_t i, const struct xlsx_limits *lim, struct trace *t)
{
	memset(t, 0, sizeof *t);
	t->hash = 14695981039346656037u;
	t->lim = lim;
	struct error e = { { 0 } };
	int rc = xlsx_read_sheet(x, i, &callbacks, t, &e);
	if (rc != 0 && (rc != -1 || !e.msg[0]))
		abort();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t chunks[] = { 1, 2, 3, 17, 256, 4096, 65536, 1 << 20 };
	struct xlsx_limits lim = { 0 };
	lim.max_member_bytes = 16u << 20;
	if (data[0] & 1) {
		lim.max_member_bytes = 4u << 20;
		lim.max_shared_strings = 50;
		lim.max_shared_bytes = 2048;
		lim.max_columns = 30;
		lim.max_cell_bytes = 64;
		lim.max_row_bytes = 512;
		lim.max_sheets = 4;
	} else {
		lim.max_shared_strings = XLSX_DEFAULT_SHARED_STRINGS;
		lim.max_shared_bytes = XLSX_DEFAULT_SHARED_BYTES;
		lim.max_columns = XLSX_DEFAULT_COLUMNS;
		lim.max_cell_bytes = XLSX_DEFAULT_CELL_BYTES;
		lim.max_row_bytes = XLSX_DEFAULT_ROW_BYTES;
		lim.max_sheets = XLSX_DEFAULT_SHEETS;
	}
	struct xlsx_limits pieces = lim;
	pieces.read_chunk = chunks[(data[0] >> 1) & 7];
	if (pieces.read_chunk < 17 && size > 4096)
		pieces.read_chunk = 17;   /* byte-sized feeds of megabytes would only be slow */

	struct error e = { { 0 } };
	struct xlsx *x = xlsx_open_buffer(data + 1, size - 1, &lim, &e);
	struct xlsx *y = xlsx_open_buffer(data + 1, size - 1, &pieces, NULL);
	if (!x != !y)
		abort();
	if (!x) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	size_t n = xlsx_sheet_count(x);
	if (n == 0 || n > lim.max_sheets || n != xlsx_sheet_count(y) || xlsx_sheet_name(x, n))
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *name = xlsx_sheet_name(x, i);
		if (!name || xlsx_sheet_find(x, name) > (long)i)
			abort();
		struct trace a, b;
		int rc = read_sheet(x, i, &lim, &a);
		if (read_sheet(y, i, &pieces, &b) != rc || (rc == 0 && a.hash != b.hash))
			abort();   /* the piece size must not matter */
	}
	xlsx_close(x);
	xlsx_close(y);
	return 0;
}
