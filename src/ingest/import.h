/*
 * From an uploaded file to a dataset file: the importer.
 *
 * import_file reads a CSV/TSV, XLSX or XLS file (format detected from its
 * bytes unless given), infers each column's type over the whole file, and
 * writes one SQLite database -- the dataset file, immutable once written --
 * plus a summary for the API.  It streams: memory is bounded by the limits
 * (the longest row, the per-column inference and profile state), never by
 * the file's size.  The source is read twice (inference, then writing), so
 * it must be a local file.
 *
 * A large CSV file is not read twice in full: pass 1 reads a prefix
 * (opt->prefix_bytes) and guesses the types from it, and pass 2 converts
 * every value with the guessed types while checking that each fits its
 * type as whole-file inference would decide (infer.h).  When all fit, the
 * guess was the whole file's answer.  A column with no value in the
 * prefix is inferred during pass 2; if it turns out not to be text, pass 2
 * runs again with its type.  When a value does not fit (or the encoding
 * breaks after the prefix), the import starts over with a full pass 1.
 * The results are the same as two full passes, except that without the
 * numeric ranges a full pass 1 finds, histograms of numeric columns are
 * binned over the observed range at the end (exact while the profile
 * keeps every value or per-value counts, else scaled from its sample;
 * profile.h).
 *
 * The dataset file (format 1):
 *
 *   data            one row per record, in file order (rowid 1, 2, ...), one
 *                   column per source column, declared as
 *                     INTEGER  integer, boolean (0/1)
 *                     REAL     real (percent columns hold fractions: 12% is 0.12)
 *                     TEXT     text; date "YYYY-MM-DD"; datetime
 *                              "YYYY-MM-DDTHH:MM:SS[.fff][Z|+09:00]"; time
 *                              "HH:MM:SS[.fff]" (canonical ISO 8601, so text
 *                              order is time order)
 *                   Empty fields are NULL; in typed (non-text) columns the
 *                   null words of infer.h are NULL too.  Text keeps every
 *                   byte as uploaded (after conversion to UTF-8).
 *   sheaf_columns   position INTEGER PRIMARY KEY (0-based), name TEXT (the
 *                   column's name in data: unique, never empty), source_name
 *                   TEXT (the header as written), type TEXT (integer, real,
 *                   boolean, date, datetime, time, text), role TEXT
 *                   (latitude, longitude or NULL), categorical INTEGER,
 *                   percent INTEGER, profile TEXT (JSON object, profile.h)
 *   sheaf_meta      key TEXT PRIMARY KEY, value TEXT: format ("1"),
 *                   source_format, encoding, delimiter, sheet, header
 *                   ("1"/"0"), rows, columns, warnings (JSON array),
 *                   created_at (ms)
 *
 * Header: the first row names the columns unless opt->header says
 * otherwise; in auto mode it is data only when every non-empty field in it
 * is a number, boolean, date, datetime or time AND each fits the type the
 * rows below give its column (then columns are "column_1", ...): "1,2" over
 * numbers is data, "t,y" over numbers (words that are also booleans) is a
 * header.  Empty names become "column_N", duplicates get "_2", "_3"... and
 * both are reported as warnings.
 *
 * Ragged rows: a row with fewer fields is padded with NULLs, one with more
 * is cut; each is a warning naming its line (the first 100 are listed, all
 * are counted).  With opt->strict the first one is an error instead.
 */
#ifndef SHEAF_INGEST_IMPORT_H
#define SHEAF_INGEST_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"

#define IMPORT_FORMAT_VERSION 1
#define IMPORT_DEFAULT_MAX_COLUMNS 2000
#define IMPORT_DEFAULT_MAX_FIELD_BYTES (1024 * 1024)
#define IMPORT_WARNINGS_LISTED 100
#define IMPORT_PREFIX_BYTES (4u << 20)

enum import_header {
	IMPORT_HEADER_AUTO,
	IMPORT_HEADER_YES,
	IMPORT_HEADER_NO,
};

struct import_options {
	const char *format;        /* "csv", "xlsx", "xls"; NULL: from the bytes */
	const char *encoding;      /* CSV override (encoding_normalize names); NULL detects */
	char delimiter;            /* CSV: ',', ';', '\t', '|'; 0 sniffs */
	const char *sheet;         /* spreadsheets: a name, or a 0-based index in
				    * decimal when no sheet has that name; NULL: first */
	enum import_header header;
	bool strict;               /* ragged rows are errors */
	size_t max_columns;        /* 0: IMPORT_DEFAULT_MAX_COLUMNS */
	size_t max_field_bytes;    /* 0: IMPORT_DEFAULT_MAX_FIELD_BYTES */
	uint64_t xlsx_max_bytes;   /* uncompressed size of a sheet member; 0: xlsx default */
	unsigned xlsx_max_ratio;   /* zip bomb ratio; 0: xlsx default */
	uint64_t prefix_bytes;     /* CSV: pass 1 reads about this much of a file over
				    * twice its size (above); 0: IMPORT_PREFIX_BYTES,
				    * UINT64_MAX: always the whole file */
	/* Called now and then with the share of work done (per mille; never
	 * decreasing, also when the import has to read again).  Returning true
	 * stops the import ("cancelled").  May be NULL. */
	bool (*progress)(void *ctx, int64_t per_mille);
	void *progress_ctx;
};

/* Why an import failed: the user's file (a 422 with the message), the
 * user asked it to stop, or our side (a 500). */
enum import_failure {
	IMPORT_OK = 0,
	IMPORT_BAD_INPUT,
	IMPORT_CANCELLED,
	IMPORT_INTERNAL,
};

struct import_result {
	enum import_failure failure;
	int64_t rows;
	int64_t columns;
	char format[8];            /* csv, xlsx, xls */
	char encoding[16];         /* CSV: the canonical name read; "" otherwise */
	char delimiter;            /* CSV: the one used; 0 otherwise */
	char *sheet;               /* spreadsheets: the sheet's name (malloc'd); NULL for CSV */
	json_t *columns_info;      /* [{"name","source_name","type","role","categorical",
				    *   "percent","unique","nulls","profile":{...}}] */
	json_t *warnings;          /* [{"code","message","line"?, "count"?}] */
	int64_t data_bytes;        /* size of the dataset file written */
	int passes;                /* passes over the file (a prefix not counted): 2, or 1
				    * when the guessed types held, 3 when they did not */
};

void import_result_clear(struct import_result *r);

/*
 * Imports src_path into a new SQLite file at dst_path (created; must not
 * exist; removed again on failure).  Returns 0 with *out filled, or -1 with
 * e set and out->failure saying whose fault it was.
 */
int import_file(const char *src_path, const char *dst_path, const struct import_options *opt,
		struct import_result *out, struct error *e);

#endif
