/*
 * Dataset values as JSON and CSV; see render.h.  An export is a small state
 * machine (header, next row, field by field, row end, tail) that renders one
 * piece at a time into a buffer the reader drains, so a huge result never
 * sits in memory.
 */
#include "datasets/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/utf8.h"

size_t render_real(double v, char *out, size_t cap)
{
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	return n < 0 ? 0 : (size_t)n;
}

json_t *render_text_json(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	struct buf b;
	buf_init(&b, len * 3 + 1);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len; ) {
		size_t n = utf8_seqn((const char *)u + i, len - i);
		if (n) {
			buf_append(&b, u + i, n);
			i += n;
		} else {
			buf_puts(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	j = json_stringn(b.data ? b.data : "", b.len);
	buf_free(&b);
	return j ? j : json_null();
}

json_t *render_value_json(enum column_kind kind, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER: {
		sqlite3_int64 v = sqlite3_column_int64(st, i);
		if (kind == COLUMN_BOOL)
			return json_boolean(v != 0);
		if (kind == COLUMN_REAL)
			return json_real((double)v);
		return json_integer(v);
	}
	case SQLITE_FLOAT: {
		double v = sqlite3_column_double(st, i);
		return isfinite(v) ? json_real(v) : json_null();
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const char *s = (const char *)sqlite3_column_text(st, i);
		return s ? render_text_json(s, (size_t)sqlite3_column_bytes(st, i)) : json_null();
	}
	default:
		return json_null();
	}
}

const char *render_kind_name(enum column_kind kind, int sqlite_type)
{
	if (kind != RENDER_ANY)
		return column_kind_name(kind);
	switch (sqlite_type) {
	case SQLITE_INTEGER: return "integer";
	case SQLITE_FLOAT: return "real";
	case SQLITE_TEXT:
	case SQLITE_BLOB: return "text";
	default: return "null";
	}
}

int render_json_string(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	int rc = buf_puts(b, "\"");
	size_t run = 0;   /* bytes of u copied as they are, not yet appended */
	for (size_t i = 0; i < len && rc == 0; ) {
		size_t n = u[i] < 0x80 ? 1 : utf8_seqn((const char *)u + i, len - i);
		const char *esc = NULL;
		char uesc[7];
		if (n == 0) {
			esc = "\xef\xbf\xbd";
		} else if (u[i] == '"') {
			esc = "\\\"";
		} else if (u[i] == '\\') {
			esc = "\\\\";
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			switch (u[i]) {
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			default:
				memcpy(uesc, "\\u00", 4);
				uesc[4] = hex[u[i] >> 4];
				uesc[5] = hex[u[i] & 15];
				uesc[6] = '\0';
				esc = uesc;
			}
		}
		if (!esc) {
			run += n;
			i += n;
			continue;
		}
		rc = buf_append(b, u + i - run, run);
		if (rc == 0)
			rc = buf_puts(b, esc);
		run = 0;
		i += n ? n : 1;
	}
	if (rc == 0)
		rc = buf_append(b, u + len - run, run);
	return rc ? rc : buf_puts(b, "\"");
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int render_csv_text(struct buf *b, const char *s, size_t len)
{
	bool quote = len == 0 || is_blank(s[0]) || is_blank(s[len - 1]);
	for (size_t i = 0; i < len && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote)
		return buf_append(b, s, len);
	int rc = buf_puts(b, "\"");
	for (const char *p = s, *end = s + len; p < end && rc == 0; ) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		size_t n = q ? (size_t)(q - p) + 1 : (size_t)(end - p);
		rc = buf_append(b, p, n);
		if (rc == 0 && q)
			rc = buf_puts(b, "\"");
		p += n;
	}
	return rc ? rc : buf_puts(b, "\"");
}

/* ---- exports ---- */

enum export_state {
	X_START,
	X_NEXT_ROW,
	X_FIELD,
	X_ROW_END,
	X_TAIL,
	X_DONE,
	X_FAILED,
};

struct render_export {
	sqlite3_stmt *st;
	size_t ncols;
	char **names;
	enum column_kind *kinds;
	enum render_format format;
	int64_t max_rows;
	struct render_frame frame;
	enum export_state state;
	int pending;            /* a step the caller made, not yet used; 0: none */
	size_t col;             /* next field of the current row */
	uint64_t rows;
	bool truncated;
	struct buf out;         /* rendered bytes not yet read: out.data[pos..len) */
	size_t pos;
	char **keys;            /* JSON objects: "\"name\":" per column */
};

int render_value(struct buf *b, sqlite3_stmt *st, int i, enum column_kind kind,
		 enum render_format f, size_t ncols)
{
	bool csv = f == RENDER_CSV;
	char num[40];
	int rc;
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER: {
		sqlite3_int64 v = sqlite3_column_int64(st, i);
		if (kind == COLUMN_BOOL)
			return buf_puts(b, v ? "true" : "false");
		if (kind != COLUMN_REAL)
			return buf_printf(b, "%lld", (long long)v);
		render_real((double)v, num, sizeof num);
		break;
	}
	case SQLITE_FLOAT: {
		double v = sqlite3_column_double(st, i);
		if (!isfinite(v))
			return csv ? 0 : buf_puts(b, "null");
		render_real(v, num, sizeof num);
		break;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const char *s = (const char *)sqlite3_column_text(st, i);
		size_t len = (size_t)sqlite3_column_bytes(st, i);
		if (!s)
			return csv ? 0 : buf_puts(b, "null");
		return csv ? render_csv_text(b, s, len) : render_json_string(b, s, len);
	}
	default:
		if (!csv)
			return buf_puts(b, "null");
		return ncols == 1 ? buf_puts(b, "\"\"") : 0;
	}
	/* A real: JSON readers must see a real, so "1" becomes "1.0". */
	rc = buf_puts(b, num);
	if (rc == 0 && !csv && !strpbrk(num, ".eEn"))
		rc = buf_puts(b, ".0");
	return rc;
}

static int render_field(struct render_export *x, size_t i)
{
	int rc = i > 0 ? buf_puts(&x->out, ",") : 0;
	if (x->keys && rc == 0)
		rc = buf_puts(&x->out, x->keys[i]);
	return rc ? rc : render_value(&x->out, x->st, (int)i, x->kinds[i], x->format, x->ncols);
}

static int start(struct render_export *x)
{
	struct buf *b = &x->out;
	int rc = x->frame.head ? x->frame.head(x->frame.arg, b) : 0;
	if (rc == 0 && x->format == RENDER_CSV) {
		for (size_t i = 0; i < x->ncols && rc == 0; i++) {
			if (i)
				rc = buf_puts(b, ",");
			if (rc == 0)
				rc = render_csv_text(b, x->names[i], strlen(x->names[i]));
		}
		if (rc == 0)
			rc = buf_puts(b, "\r\n");
	} else if (rc == 0 && x->format == RENDER_JSON) {
		rc = buf_puts(b, "[");
	}
	return rc;
}

static int finish(struct render_export *x)
{
	int rc = 0;
	if (x->format == RENDER_JSON)
		rc = buf_puts(&x->out, x->rows ? "\n]\n" : "]\n");
	if (rc == 0 && x->frame.tail)
		rc = x->frame.tail(x->frame.arg, &x->out, x->rows, x->truncated);
	return rc;
}

static int row_open(struct render_export *x)
{
	switch (x->format) {
	case RENDER_JSON: return buf_puts(&x->out, x->rows ? ",\n{" : "\n{");
	case RENDER_NDJSON: return buf_puts(&x->out, "{");
	case RENDER_ARRAYS: return buf_puts(&x->out, x->rows ? ",[" : "[");
	default: return 0;
	}
}

static int row_close(struct render_export *x)
{
	switch (x->format) {
	case RENDER_CSV: return buf_puts(&x->out, "\r\n");
	case RENDER_JSON: return buf_puts(&x->out, "}");
	case RENDER_NDJSON: return buf_puts(&x->out, "}\n");
	default: return buf_puts(&x->out, "]");
	}
}

static int next_step(struct render_export *x)
{
	if (x->pending) {
		int step = x->pending;
		x->pending = 0;
		return step;
	}
	return sqlite3_step(x->st);
}

/* Renders the next piece of output into x->out. */
static int produce(struct render_export *x, struct error *e)
{
	int rc = 0;
	switch (x->state) {
	case X_START:
		rc = start(x);
		x->state = X_NEXT_ROW;
		break;
	case X_NEXT_ROW: {
		int step = next_step(x);
		if (step == SQLITE_ROW && x->max_rows >= 0 && x->rows >= (uint64_t)x->max_rows) {
			x->truncated = true;
			step = SQLITE_DONE;
		}
		if (step == SQLITE_ROW) {
			rc = row_open(x);
			x->rows++;
			x->col = 0;
			x->state = x->ncols ? X_FIELD : X_ROW_END;
		} else if (step == SQLITE_DONE) {
			x->state = X_TAIL;
		} else {
			sqlite3 *db = sqlite3_db_handle(x->st);
			return error_set(e, "%s", sqlite3_errmsg(db));
		}
		break;
	}
	case X_FIELD:
		rc = render_field(x, x->col);
		if (++x->col == x->ncols)
			x->state = X_ROW_END;
		break;
	case X_ROW_END:
		rc = row_close(x);
		x->state = X_NEXT_ROW;
		break;
	case X_TAIL:
		rc = finish(x);
		x->state = X_DONE;
		break;
	case X_DONE:
	case X_FAILED:
		break;
	}
	if (rc)
		return error_set(e, "a value is larger than %u bytes", RENDER_FIELD_MAX);
	return 0;
}

struct render_export *render_new(sqlite3_stmt *st, size_t ncols, const char *const *names,
				 const enum column_kind *kinds, enum render_format f,
				 int64_t max_rows, const struct render_frame *frame)
{
	struct render_export *x = xcalloc(1, sizeof *x);
	x->st = st;
	x->ncols = ncols;
	x->format = f;
	x->max_rows = max_rows;
	if (frame)
		x->frame = *frame;
	x->state = X_START;
	buf_init(&x->out, RENDER_FIELD_MAX);
	x->names = xcalloc(ncols ? ncols : 1, sizeof *x->names);
	x->kinds = xcalloc(ncols ? ncols : 1, sizeof *x->kinds);
	for (size_t i = 0; i < ncols; i++) {
		x->names[i] = xstrdup(names[i]);
		x->kinds[i] = kinds[i];
	}
	if (f == RENDER_JSON || f == RENDER_NDJSON) {
		x->keys = xcalloc(ncols ? ncols : 1, sizeof *x->keys);
		for (size_t i = 0; i < ncols; i++) {
			struct buf k;
			buf_init(&k, RENDER_FIELD_MAX);
			render_json_string(&k, names[i], strlen(names[i]));
			buf_puts(&k, ":");
			x->keys[i] = buf_detach(&k);
		}
	}
	return x;
}

void render_stepped(struct render_export *x, int step)
{
	x->pending = step;
}

ssize_t render_read(struct render_export *x, char *buf, size_t cap, struct error *e)
{
	if (x->state == X_FAILED)
		return error_set(e, "read after an error");
	size_t n = 0;
	while (n < cap) {
		if (x->pos < x->out.len) {
			size_t k = x->out.len - x->pos;
			if (k > cap - n)
				k = cap - n;
			memcpy(buf + n, x->out.data + x->pos, k);
			x->pos += k;
			n += k;
			continue;
		}
		buf_reset(&x->out);
		x->pos = 0;
		if (x->state == X_DONE)
			break;
		if (produce(x, e) < 0) {
			x->state = X_FAILED;
			return -1;
		}
	}
	return (ssize_t)n;
}

uint64_t render_rows(const struct render_export *x)
{
	return x->rows;
}

bool render_truncated(const struct render_export *x)
{
	return x->truncated;
}

bool render_failed(const struct render_export *x)
{
	return x->state == X_FAILED;
}

void render_free(struct render_export *x)
{
	if (!x)
		return;
	sqlite3_finalize(x->st);
	for (size_t i = 0; i < x->ncols; i++) {
		free(x->names[i]);
		if (x->keys)
			free(x->keys[i]);
	}
	free(x->names);
	free(x->kinds);
	free(x->keys);
	buf_free(&x->out);
	free(x);
}
