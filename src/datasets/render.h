/*
 * How dataset values look outside SQLite: as JSON values and as CSV fields,
 * one at a time (pages) or as a stream of rows pulled by a reader (exports
 * and query results), in constant memory.
 *
 * Typing, the same everywhere: a column of kind integer -> JSON integer,
 * real -> JSON real (an integer stored in a real column too), boolean ->
 * true/false, date, datetime, time and text -> strings, NULL -> null.  A
 * column whose kind is unknown (an expression in a query) is typed by each
 * value's storage class.  Reals are the shortest text that reads back to
 * the same double ("0.1", "1e+20", "-0"); JSON reals always carry a '.' or
 * an exponent; NaN and infinities are null.  Strings escape '"', '\\' and
 * every control character; invalid UTF-8 becomes U+FFFD.
 *
 * CSV: RFC 4180, "," delimiter, CRLF line ends.  A field is quoted (inner
 * quotes doubled) when it contains ',', '"', CR or LF, starts or ends with
 * a space or tab, or is an empty string.  NULL is an empty field (written
 * "" when there is a single column, so that the line is not blank).
 */
#ifndef SHEAF_DATASETS_RENDER_H
#define SHEAF_DATASETS_RENDER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/error.h"
#include "ingest/infer.h"

/* A column's kind when it is not a dataset column: typed per value. */
#define RENDER_ANY ((enum column_kind)-1)

enum render_format {
	RENDER_CSV,          /* a header row, then one line per row */
	RENDER_JSON,         /* [ {"name": value, ...}, ... ] */
	RENDER_NDJSON,       /* one object per line */
	RENDER_ARRAYS,       /* [v, ...] per row, joined by ","; the caller writes around them */
};

/* The shortest %g text of v that reads back to v; returns its length. */
size_t render_real(double v, char *out, size_t cap);
/* s as a JSON string, quotes included. */
int render_json_string(struct buf *b, const char *s, size_t len);
/* s as one CSV field. */
int render_csv_text(struct buf *b, const char *s, size_t len);
/* Value i of st's current row appended to b as JSON (RENDER_JSON,
 * RENDER_NDJSON, RENDER_ARRAYS) or as a CSV field (RENDER_CSV; ncols, the
 * row's width, decides how a lone NULL is written).  0, or -1 when b's
 * limit is crossed. */
int render_value(struct buf *b, sqlite3_stmt *st, int i, enum column_kind kind,
		 enum render_format f, size_t ncols);
/* Text as a JSON string with invalid UTF-8 sequences replaced by U+FFFD
 * (a new reference; never NULL). */
json_t *render_text_json(const char *s, size_t len);
/* Value i of st's current row as a new JSON reference (never NULL). */
json_t *render_value_json(enum column_kind kind, sqlite3_stmt *st, int i);
/* A column kind's name as the API shows it ("integer", ...); RENDER_ANY
 * gives the storage class of the value v ("integer", "real", "text", or
 * "null" for NULL). */
const char *render_kind_name(enum column_kind kind, int sqlite_type);

/*
 * Rows of a prepared statement rendered as they are pulled.
 *
 * The export steps st only as render_read asks for bytes and keeps one
 * field's text at a time.  names and kinds (ncols of them) describe the
 * result columns; they are copied.  At most max_rows rows are written
 * (< 0: all); when more were there, render_truncated says so (one extra
 * step finds out).  head and tail, when set, write bytes before the first
 * row and after the last (tail learns the row count and whether rows were
 * left out): a caller wraps RENDER_ARRAYS in its own object that way.
 * st is finalized by render_free; the caller keeps its connection open.
 */
struct render_export;

struct render_frame {
	int (*head)(void *arg, struct buf *b);
	int (*tail)(void *arg, struct buf *b, uint64_t rows, bool truncated);
	void *arg;
};

struct render_export *render_new(sqlite3_stmt *st, size_t ncols, const char *const *names,
				 const enum column_kind *kinds, enum render_format f,
				 int64_t max_rows, const struct render_frame *frame);
/* The first row was already stepped by the caller (SQLITE_ROW or
 * SQLITE_DONE in step): the export starts from it instead of stepping. */
void render_stepped(struct render_export *x, int step);
/* Fills buf with up to cap (> 0) bytes.  Returns the number written; 0
 * only at the end; -1 with e set when SQLite fails (e holds its message;
 * the output so far is then incomplete) or one field's text is larger
 * than RENDER_FIELD_MAX. */
ssize_t render_read(struct render_export *x, char *buf, size_t cap, struct error *e);
uint64_t render_rows(const struct render_export *x);
bool render_truncated(const struct render_export *x);
bool render_failed(const struct render_export *x);
void render_free(struct render_export *x);   /* NULL is allowed */

#define RENDER_FIELD_MAX (64u << 20)

#endif
