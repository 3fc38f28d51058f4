/*
 * Read access to one dataset file: the SQLite database the importer writes
 * (format 1, see ingest/import.h), opened read-only and immutable.
 *
 * The HTTP API uses it for a dataset's details, preview, row pages and
 * exports; the query engine will build on it.  A query (filters, sort,
 * offset/limit) is parsed from user text into SQL whose identifiers are
 * quoted by us and whose values are always bound parameters: no user text
 * is ever spliced into SQL.
 *
 * Threads: a struct table, and every query and export made from it, is used
 * by one thread at a time (the connection runs without SQLite's mutexes).
 * Open one table per request or keep a pool; opening is cheap.
 *
 * Filter expressions (table_query_filter; several filters are ANDed):
 *
 *   <column><op><value>      op: =  !=  <  <=  >  >=  ~ (contains)  !~
 *   <column> in <v1>|<v2>|.. any of the values ("in" any ASCII case)
 *
 * - The column is the LONGEST column name that the expression starts with
 *   and that is followed by an operator, so names may contain spaces,
 *   Korean or even '=' ("a=b=3" with columns "a" and "a=b" compares a=b
 *   with 3).  Operators are matched longest first ("!=" before "=").
 *   Spaces may stand between the name and the operator; when they do, the
 *   spaces after the operator are skipped too ("age > 30").
 * - Values convert by the column's type and compare typed: integer and
 *   real columns take value_parse_int/value_parse_real forms ("1,234",
 *   "12%" = 0.12, "1.5" against an integer column) and compare numerically;
 *   boolean columns take value_parse_bool forms and 1/0; date, datetime and
 *   time columns take the value_parse_* forms and compare as canonical ISO
 *   text (a datetime column also takes a bare date: its midnight); text
 *   columns compare the value as given, byte order.  A value that does not
 *   convert is an error naming the column and its type.
 * - An empty value: "col=" is IS NULL, "col!=" is IS NOT NULL; for the
 *   other operators it is an error.  In an "in" list an empty item matches
 *   NULL.
 * - NULLs: =, <, <=, >, >=, ~ and "in" never match NULL; != and !~ do
 *   (a missing value is not equal to 5 and does not contain "x"), as in
 *   pandas.
 * - ~ and !~: contains, ASCII case-insensitive (lower() on both sides),
 *   for every type but boolean; numbers and dates match on their stored
 *   text.  The value is taken as given, not converted.
 *
 * Sort keys (table_query_sort): "col" ascending, "-col" descending, "+col"
 * ascending (for a column whose own name starts with '-': "+-x").  "-x"
 * means descending x when a column x exists, else the column "-x".  The
 * first key is the primary one.  NULLs sort last in both directions, and
 * the rowid breaks ties, so pages are stable.
 *
 * Value typing, the same in row pages and JSON exports: integer -> JSON
 * integer, real -> JSON real, boolean -> true/false, date, datetime, time
 * and text -> strings, NULL -> null.  Real columns of percent type hold
 * fractions (12% is 0.12), as stored.
 */
#ifndef SHEAF_DATASETS_TABLE_H
#define SHEAF_DATASETS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/error.h"
#include "ingest/infer.h"

#define TABLE_MAX_FILTERS 64        /* filters in one query */
#define TABLE_MAX_IN_VALUES 500     /* items in one "in" list */
#define TABLE_MAX_SORT_KEYS 16
#define TABLE_MAX_FILTER_BYTES 65536 /* one filter expression */
#define TABLE_DEFAULT_LIMIT 100     /* a page when the query sets no limit */

struct table;
struct table_query;
struct table_export;

struct table_column {
	const char *name;          /* in data: unique, never empty */
	const char *source_name;   /* the header as written */
	enum column_kind kind;
	enum column_role role;
	bool categorical;
	bool percent;
	const char *profile;       /* JSON object text, or NULL */
};

/*
 * Opens the dataset file at path read-only.  Checks that it is a SQLite
 * database with sheaf_meta format "1" whose sheaf_columns match the data
 * table, and loads the columns and meta into memory.  Returns NULL with e
 * set ("not a dataset file: ...") when it is not, or cannot be read.
 */
struct table *table_open(const char *path, struct error *e);
/* The "file:PATH?immutable=1" URI that opens a dataset file read-only in
 * SQLite (the path percent-escaped), appended to b.  0, or -1 when b's
 * limit is crossed. */
struct buf;
int table_uri(const char *path, struct buf *b);
/* Frees t.  Every export made from t must be freed first.  NULL is allowed. */
void table_close(struct table *t);

/* The file t was opened from (valid until table_close). */
const char *table_path(const struct table *t);
size_t table_ncolumns(const struct table *t);
/* Column i (i < table_ncolumns); valid until table_close. */
const struct table_column *table_column(const struct table *t, size_t i);
/* The index of the column with exactly this name, or -1. */
long table_find_column(const struct table *t, const char *name);
/* The number of data rows (sheaf_meta "rows"). */
int64_t table_nrows(const struct table *t);
/* Bounds the SQLite work of each later table_page_json and
 * table_export_read call to about ms milliseconds (0, the default: no
 * bound).  A call that runs longer fails with "... the query ran longer
 * than N ms"; a stopped export cannot go on.  Keeps a slow filter or sort
 * on a big dataset from holding a request thread. */
void table_set_time_limit(struct table *t, int64_t ms);
/* A sheaf_meta value (valid until table_close), or NULL when absent. */
const char *table_meta(const struct table *t, const char *key);

/* The columns as the API shows them, a new reference:
 * [{"name","source_name","type","role","categorical","percent","profile"}]
 * with role null when none and profile the parsed object (null if absent). */
json_t *table_columns_json(const struct table *t);

/* A new query on t: no filter, file order, offset 0, no limit.  It keeps a
 * pointer to t, so it must be used with t only, and before table_close. */
struct table_query *table_query_new(const struct table *t);
void table_query_free(struct table_query *q);   /* NULL is allowed */

/* Adds one filter expression (see above).  Returns 0, or -1 with a message
 * meant for the user (a 400) and q unchanged. */
int table_query_filter(struct table_query *q, const char *expr, struct error *e);
/* Adds one sort key (see above).  Returns 0, or -1 with a message for the
 * user (unknown column, too many keys) and q unchanged. */
int table_query_sort(struct table_query *q, const char *spec, struct error *e);
/* offset >= 0 rows skipped; limit < 0 means no limit (exports: every row;
 * pages: TABLE_DEFAULT_LIMIT).  The caller bounds limit for pages. */
void table_query_page(struct table_query *q, int64_t offset, int64_t limit);

/*
 * One page of q's rows, a new reference:
 *   {"columns":[{"name","type"}], "rows":[[v,...],...],
 *    "total": rows matching the filters, "offset", "limit"}
 * Returns NULL with e set when SQLite fails (a server-side error).
 */
json_t *table_page_json(struct table *t, const struct table_query *q, struct error *e);

enum table_format {
	TABLE_CSV,     /* RFC 4180, see table_export_new */
	TABLE_JSON,    /* one JSON array of objects */
	TABLE_NDJSON,  /* one JSON object per line */
};

/*
 * A streaming export of q's rows (filters, sort, offset and limit all
 * apply).  q may be freed once this returns; t must outlive the export.
 * Memory stays constant whatever the dataset's size: rows are read from
 * SQLite as the bytes are pulled.
 *
 * CSV: UTF-8 without BOM, "," delimiter, CRLF line ends (RFC 4180), a
 * header row of column names.  A field is quoted (with inner quotes
 * doubled) when it contains ',', '"', CR or LF, starts or ends with a space
 * or tab, or is an empty string.  NULL is an empty field (written "" when
 * the table has a single column, so that the line is not blank).  Booleans
 * are true/false, integers plain, reals the shortest text that reads back
 * to the same double ("0.1", "1e+20", "-0").  Text is written byte for
 * byte.
 *
 * JSON: "[\n", rows joined by ",\n", "\n]\n" ("[]\n" when empty); each row
 * an object keyed by column name in column order, typed as in pages (reals
 * always carry a '.' or an exponent).  Strings escape '"', '\\' and every
 * control character; invalid UTF-8 (never written by the importer) becomes
 * U+FFFD.  NDJSON: the same objects, each followed by "\n".
 *
 * Returns NULL with e set when SQLite fails.
 */
struct table_export *table_export_new(struct table *t, const struct table_query *q,
				      enum table_format f, struct error *e);
/* Fills buf with up to cap (> 0) bytes.  Returns the number written; 0
 * only at the end; -1 with e set on a read error (the output so far is then
 * incomplete). */
ssize_t table_export_read(struct table_export *x, char *buf, size_t cap, struct error *e);
void table_export_free(struct table_export *x);   /* NULL is allowed */

#endif
