/*
 * XLS (Excel 97-2003, BIFF) reader for dataset ingestion, built on FreeXL.
 *
 * The twin of ingest/xlsx.h: the same cell types, value conventions and
 * row callback, so the importer treats both formats alike.  FreeXL reads
 * the whole workbook at xls_open (every sheet's cells and the shared
 * strings go into memory; FreeXL itself refuses a sheet of more than
 * 256 MiB of cells); xls_read_sheet then walks one sheet's grid and hands
 * over one row at a time.  FreeXL opens paths only, so there is no
 * xls_open_buffer: write an upload to a file first.
 *
 * Values (as in xlsx.h unless said otherwise):
 *   - Numbers as the shortest decimal that reads back to the same double
 *     ("0.1", "1e+20", integers below 2^53 in plain digits, -0 is "0").  A
 *     NaN or infinity (which Excel cannot write) is an error.
 *   - Text as FreeXL converts it to UTF-8 (BIFF8 is UTF-16; older files
 *     use the workbook's code page).
 *   - Booleans are NUMBER "1" / "0": FreeXL reports a BOOLERR record as an
 *     integer, and an error cell (#DIV/0! and the like) as the integer 1.
 *     XLSX_BOOL and XLSX_ERROR never occur.
 *   - Formulas: FreeXL ignores FORMULA records, so a formula cell is EMPTY
 *     even when the file caches its value.
 *   - Dates: FreeXL decides from the cell's number format (built-in 14-17
 *     DATE, 22 DATETIME, 18-21 and 45-47 TIME; a custom format with y, m, d
 *     and h is DATETIME, y and m or m and d DATE, h and m or m and s TIME)
 *     and gives text; it is turned back into the serial (xlsx_cell.number)
 *     and written the way xlsx.h writes it: DATE "YYYY-MM-DD", DATETIME
 *     "YYYY-MM-DDTHH:MM:SS" (to the second), 1900 system with Excel's fake
 *     1900-02-29 (serial 60) or 1904 system.  This also corrects FreeXL's
 *     calendar, which makes every fourth year a leap year (2100-02-29) and
 *     can print 24:00:00.  FreeXL drops the time of day of a DATE cell and
 *     cannot show serials below 1 (they come out as the first day of the
 *     epoch); a serial past 9999-12-31 is a NUMBER, as in xlsx.
 *   - TIME cells are XLSX_STRING "HH:MM:SS" (number 0): FreeXL keeps only
 *     the time of day, so no date can be given (xlsx.h makes these
 *     DATETIMEs on 1899-12-31).  A time that rounds up to midnight is
 *     "00:00:00".
 *
 * Positions: row r holds cells 0..n-1 by column, trailing empty cells
 * dropped; rows without any value are skipped (FreeXL cannot tell a stored
 * empty row from a missing one), so the 1-based row numbers show the gaps.
 *
 * Errors: -1 / NULL with a message.  What the file is wrong about starts
 * "not an XLS file", "password-protected workbook" or "corrupt XLS file";
 * a crossed limit says "too large" or "more than"; cell errors name the
 * sheet and the cell ("sheet \"Data\": cell C7: ...").
 *
 * FreeXL (1.0.6) is not safe on hostile files, and the limits here do not
 * make it so.  Each DIMENSION record makes it allocate and clear up to
 * 256 MiB (a 6 KB file whose four sheets declare 65536 x 256 cells takes
 * 1 GiB at xls_open); it turns a date serial into text by counting days
 * one at a time (about 1.6 s for a serial of 2e9; ten such cells, 16 s);
 * and fuzzing finds memory errors in freexl_open (a double free, leaks).  The one found in the
 * directory (a name length read past its buffer) is refused before FreeXL
 * sees the file; the rest call for running imports of untrusted .xls in a
 * process of their own with memory and CPU limits.
 *
 * Not thread-safe: one struct xls per thread (FreeXL keeps per-handle
 * state only, so separate handles in separate threads are fine).
 */
#ifndef SHEAF_INGEST_XLS_H
#define SHEAF_INGEST_XLS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ingest/xlsx.h"

/* Ceilings.  A field of 0 (or a NULL limits pointer) means the default. */
struct xls_limits {
	uint64_t max_file_bytes;   /* size of the .xls file (128 MiB): FreeXL holds all of
				    * it, decoded, in memory */
	uint32_t max_rows;         /* highest row with a value, per sheet (65536, BIFF8's
				    * own limit, also the most it can be set to) */
	size_t max_columns;        /* highest column with a value (256: IV, BIFF8's own
				    * limit, also the most it can be set to) */
	size_t max_cell_bytes;     /* one cell's text (128 KiB) */
	size_t max_row_bytes;      /* all text of one row, a NUL per cell counted (16 MiB) */
	size_t max_sheets;         /* sheets in the workbook (1000) */
};

#define XLS_DEFAULT_FILE_BYTES (128ull * 1024 * 1024)
#define XLS_DEFAULT_ROWS 65536
#define XLS_DEFAULT_COLUMNS 256
#define XLS_DEFAULT_CELL_BYTES (128u * 1024)
#define XLS_DEFAULT_ROW_BYTES (16u * 1024 * 1024)
#define XLS_DEFAULT_SHEETS 1000

struct xls;

/* Opens and reads the workbook at path; lim is copied.  NULL with e set
 * when the file cannot be read, is not an XLS workbook, is encrypted or
 * corrupt, or crosses a limit. */
struct xls *xls_open(const char *path, const struct xls_limits *lim, struct error *e);

void xls_close(struct xls *x);   /* NULL is fine */

size_t xls_sheet_count(const struct xls *x);   /* at least 1 after a successful open */

/* Name of sheet i (0-based, workbook order), owned by x; NULL when out of range. */
const char *xls_sheet_name(const struct xls *x, size_t i);

/* Index of the first sheet with this exact name, or -1. */
long xls_sheet_find(const struct xls *x, const char *name);

/* Hands sheet index's rows to cb.row (see struct xlsx_callbacks: cells and
 * their text are valid only during the call; a non-zero return stops the
 * read with "stopped by the receiver").  Returns 0, or -1 with e set; rows
 * already delivered stay delivered.  May be called again, for the same or
 * another sheet. */
int xls_read_sheet(struct xls *x, size_t index, const struct xlsx_callbacks *cb, void *ctx,
		   struct error *e);

#endif
