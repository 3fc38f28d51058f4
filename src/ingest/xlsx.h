/*
 * XLSX (Office Open XML spreadsheet) reader for dataset ingestion.
 *
 * xlsx_open reads the small parts of the workbook (package and workbook
 * relationships, workbook.xml, sharedStrings.xml, styles.xml) and lists the
 * sheets; xlsx_read_sheet then streams one sheet's XML through expat in
 * 64 KiB pieces, so a sheet is never inflated whole in memory, and hands
 * over one row at a time.
 *
 * Values:
 *   - Numbers as the shortest decimal that reads back to the same double:
 *     integers below 2^53 in plain digits, others in printf's %g form with
 *     the fewest significant digits that round-trip ("0.1", "1e+20",
 *     "1.5e-07"); -0 is "0".  A <v> that is not an XML Schema double
 *     (hex, inf, nan, spaces) is an error.
 *   - Shared strings, inline strings (<is>), formula strings (t="str"), rich
 *     text runs concatenated; phonetic runs (<rPh>) are left out.  Text is
 *     kept byte for byte whatever xml:space says (Excel writes
 *     xml:space="preserve" where it matters, and trimming would lose data).
 *   - Booleans as "true"/"false" (number 1/0); errors (t="e") as Excel
 *     writes them ("#DIV/0!").
 *   - Formulas are never evaluated: the cached <v> is the value, and a
 *     formula without one is an empty cell.
 *   - A number whose cell style has a date or time number format (built-in
 *     14-22, 45-47, or a custom format with y, m, d, h or s outside quotes,
 *     brackets and escapes; "m" right after an hour or right before seconds
 *     is minutes, else months) is a DATE (date parts only: "YYYY-MM-DD"), a
 *     TIME (time parts only, built-in 18-21 and 45-47: "HH:MM:SS" of the
 *     serial's fraction of a day) or a DATETIME ("YYYY-MM-DDTHH:MM:SS",
 *     rounded to the second) counted from the workbook's epoch: 1900 with
 *     Excel's leap-year bug (serial 60 is "1900-02-29", as Excel shows it;
 *     serial 0 is 1899-12-31) or 1904 (date1904).  Serials outside
 *     0..2958465 (9999-12-31) stay numbers.  t="d" cells (ISO text) keep
 *     their text.
 *   - OOXML's "_xHHHH_" escapes in strings are decoded (sheetval.h), as
 *     Excel shows them: "a_x000D_b" holds a carriage return.
 *
 * Positions: each row's cells are placed by their reference (B7 is index 1),
 * missing ones filled with EMPTY cells; trailing empty cells are dropped.
 * Rows carry their 1-based number; gaps in row numbers are NOT filled with
 * empty rows (a sheet can jump to row 1048576): the caller sees the number
 * and pads if it wants positional rows.  Rows or cells out of order are an
 * error.
 *
 * Errors: every failure returns -1 / NULL with a message naming the member
 * and, for sheets, the cell.  A member larger than max_member_bytes or
 * inflating more than max_ratio times its compressed size (checked from the
 * zip directory before inflating, and again while inflating by counting
 * bytes, since the directory can lie) is rejected with a message that
 * starts "zip bomb: " -- callers answer that (and "too large" limits) with
 * 422.  DOCTYPEs are refused (OOXML has none; this stops entity tricks).
 * styles.xml may hold at most 4096 custom number formats and 65536 cell
 * styles, the relationship parts 10000 entries.
 *
 * Not thread-safe: one struct xlsx per thread.
 */
#ifndef SHEAF_INGEST_XLSX_H
#define SHEAF_INGEST_XLSX_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Ceilings.  A field of 0 (or a NULL limits pointer) means the default. */
struct xlsx_limits {
	uint64_t max_member_bytes;    /* uncompressed size of any zip member (1 GiB) */
	unsigned max_ratio;           /* uncompressed / compressed, per member (100); members
				       * of at most XLSX_RATIO_FLOOR bytes are exempt */
	size_t max_shared_strings;    /* entries in sharedStrings.xml (1,000,000) */
	size_t max_shared_bytes;      /* their text, in total (64 MiB) */
	size_t max_columns;           /* columns in a row, i.e. the highest column (16384,
				       * also the most it can be set to: column XFD) */
	size_t max_cell_bytes;        /* one cell's or shared string's text (128 KiB) */
	size_t max_row_bytes;         /* all text of one row, a NUL per cell counted, shared
				       * strings not (16 MiB) */
	size_t max_sheets;            /* sheets in the workbook (1000) */
	size_t read_chunk;            /* bytes inflated per expat feed (64 KiB); not a
				       * ceiling: the result never depends on it */
};

#define XLSX_DEFAULT_MEMBER_BYTES (1024ull * 1024 * 1024)
#define XLSX_DEFAULT_RATIO 100
#define XLSX_DEFAULT_SHARED_STRINGS 1000000
#define XLSX_DEFAULT_SHARED_BYTES (64u * 1024 * 1024)
#define XLSX_DEFAULT_COLUMNS 16384
#define XLSX_DEFAULT_CELL_BYTES (128u * 1024)
#define XLSX_DEFAULT_ROW_BYTES (16u * 1024 * 1024)
#define XLSX_DEFAULT_SHEETS 1000
#define XLSX_DEFAULT_READ_CHUNK (64u * 1024)
#define XLSX_RATIO_FLOOR (1024u * 1024)   /* small XML compresses well; no ratio check below */
/* What expat must hold whole (a start tag, a comment, a PI): checked after
 * each piece, so it can be crossed by up to one piece before it is caught. */
#define XLSX_MAX_TAG_BYTES (1024u * 1024)

enum xlsx_type {
	XLSX_EMPTY,
	XLSX_NUMBER,
	XLSX_STRING,
	XLSX_BOOL,
	XLSX_DATE,
	XLSX_DATETIME,
	XLSX_ERROR,
	XLSX_TIME,      /* a time-only number format: "HH:MM:SS" of the serial's fraction */
};

struct xlsx_cell {
	enum xlsx_type type;
	const char *text;   /* NUL-terminated UTF-8 as described above; "" when EMPTY */
	double number;      /* NUMBER, DATE/DATETIME (the serial; 0 for t="d"), BOOL (0/1) */
};

/* row: 1-based row number, strictly increasing within a sheet.  cells and
 * their text are valid only during the call.  Return 0 to go on, anything
 * else to stop: xlsx_read_sheet then fails with "stopped by the receiver". */
struct xlsx_callbacks {
	int (*row)(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t ncells);
};

struct xlsx;

/* Opens the workbook at path; lim is copied.  NULL with e set when it is not
 * a zip, has no workbook, a part is malformed or a limit is crossed. */
struct xlsx *xlsx_open(const char *path, const struct xlsx_limits *lim, struct error *e);

/* The same from memory.  data is NOT copied: it must stay valid and
 * unchanged until xlsx_close. */
struct xlsx *xlsx_open_buffer(const void *data, size_t len, const struct xlsx_limits *lim,
			      struct error *e);

void xlsx_close(struct xlsx *x);   /* NULL is fine */

size_t xlsx_sheet_count(const struct xlsx *x);   /* at least 1 after a successful open */

/* Name of sheet i (0-based, workbook order), owned by x; NULL when out of range. */
const char *xlsx_sheet_name(const struct xlsx *x, size_t i);

/* Index of the sheet with this exact name, or -1. */
long xlsx_sheet_find(const struct xlsx *x, const char *name);

/* Streams sheet index (0 is the default, the first) through cb.row.
 * Returns 0, or -1 with e set; rows already delivered stay delivered.  May
 * be called again, for the same or another sheet. */
int xlsx_read_sheet(struct xlsx *x, size_t index, const struct xlsx_callbacks *cb, void *ctx,
		    struct error *e);

#endif
