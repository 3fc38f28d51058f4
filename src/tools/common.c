/*
 * What tool handlers share: errors, column lookup with clear messages,
 * trusted SQL through the sandbox, JSON shapes, loading a numeric column,
 * quantiles.
 */
#include "tools/tools.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "datasets/render.h"

#define NAMES_SHOWN 400   /* bytes of column names listed in an error */

int tool_fail(struct tool_error *err, enum tool_error_kind kind, const char *fmt, ...)
{
	err->kind = kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void tool_page(struct tool_output *out, const char *key, const char *what, json_t *list,
	       int64_t total, int64_t limit, int64_t offset)
{
	size_t n = json_array_size(list);
	out->result = json_pack("{s:o, s:I, s:I, s:I}", key, list, "total", (json_int_t)total,
				"limit", (json_int_t)limit, "offset", (json_int_t)offset);
	out->summary = n ? tool_printf("%c%s %lld to %lld of %lld, newest first.",
				       what[0] - 'a' + 'A', what + 1, (long long)offset + 1,
				       (long long)offset + (long long)n, (long long)total)
			 : tool_printf("No %s here (%lld in all).", what, (long long)total);
}

void tool_report(struct tool_ctx *ctx, double done, double total, const char *message)
{
	if (ctx->progress && ctx->progress->report)
		ctx->progress->report(ctx->progress->arg, done, total, message);
}

bool tool_cancelled(struct tool_ctx *ctx)
{
	return ctx->progress && ctx->progress->cancelled &&
	       ctx->progress->cancelled(ctx->progress->arg);
}

char *tool_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static const char *kinds_words(unsigned kinds)
{
	if (kinds == TOOL_KINDS_NUMERIC)
		return "a number (integer, real or boolean) column";
	if (kinds == TOOL_KINDS_TEMPORAL)
		return "a date, datetime or time column";
	if (kinds == ((1u << COLUMN_DATE) | (1u << COLUMN_DATETIME)))
		return "a date or datetime column";
	return "a column of another type";
}

const struct table_column *tool_column_named(struct tool_ctx *ctx, const char *name,
					     const char *path, unsigned kinds,
					     struct tool_error *err)
{
	long i = table_find_column(ctx->t, name);
	if (i < 0) {
		char names[NAMES_SHOWN + 8] = "";
		size_t n = table_ncolumns(ctx->t);
		for (size_t k = 0; k < n; k++) {
			const char *cn = table_column(ctx->t, k)->name;
			if (strlen(names) + strlen(cn) + 2 > NAMES_SHOWN) {
				strcat(names, ", ...");
				break;
			}
			if (k)
				strcat(names, ", ");
			strcat(names, cn);
		}
		tool_fail(err, TOOL_ERR_ARGUMENT, "%s: no column \"%.100s\" in this dataset; it has: "
			  "%s", path, name, names);
		return NULL;
	}
	const struct table_column *c = table_column(ctx->t, (size_t)i);
	if (!(kinds & (1u << c->kind))) {
		tool_fail(err, TOOL_ERR_ARGUMENT, "%s: \"%.100s\" is a %s column; this needs %s",
			  path, name, column_kind_name(c->kind), kinds_words(kinds));
		return NULL;
	}
	return c;
}

const struct table_column *tool_column(struct tool_ctx *ctx, const json_t *args,
				       const char *field, unsigned kinds,
				       struct tool_error *err)
{
	char path[128];
	snprintf(path, sizeof path, "args.%s", field);
	const char *name = json_string_value(json_object_get(args, field));
	if (!name) {
		tool_fail(err, TOOL_ERR_ARGUMENT, "%s is required", path);
		return NULL;
	}
	return tool_column_named(ctx, name, path, kinds, err);
}

int tool_ident(struct buf *b, const char *name)
{
	int rc = buf_puts(b, "\"");
	for (const char *p = name; *p && rc == 0; p++)
		rc = buf_append(b, p, 1) || (*p == '"' ? buf_append(b, "\"", 1) : 0);
	return rc ? rc : buf_puts(b, "\"");
}

static enum tool_error_kind kind_of(enum sql_status s)
{
	switch (s) {
	case SQL_TIMEOUT: return TOOL_ERR_TIMEOUT;
	case SQL_CANCELLED: return TOOL_ERR_CANCELLED;
	case SQL_TOO_BIG: return TOOL_ERR_TOO_BIG;
	case SQL_FAILED: return TOOL_ERR_INTERNAL;
	default: return TOOL_ERR_ARGUMENT;
	}
}

struct sql_query *tool_sql(struct tool_ctx *ctx, const char *sql, const json_t *params,
			   struct tool_error *err)
{
	struct sql_query *q;
	struct error e;
	enum sql_status s = sql_prepare(ctx->t, sql, params, &ctx->lim, &q, &e);
	if (s != SQL_OK) {
		tool_fail(err, kind_of(s), "%s", e.msg);
		return NULL;
	}
	return q;
}

struct sql_query *tool_sql_row(struct tool_ctx *ctx, const char *sql, const json_t *params,
			       struct tool_error *err)
{
	struct sql_query *q = tool_sql(ctx, sql, params, err);
	if (q && sql_step(q) != SQLITE_ROW) {
		tool_sql_failed(q, err);
		sql_close(q);
		q = NULL;
	}
	return q;
}

int tool_sql_failed(struct sql_query *q, struct tool_error *err)
{
	struct error e;
	enum sql_status s = sql_failure(q, &e);
	if (s == SQL_TIMEOUT)   /* sql.c's advice (add LIMIT) is for people writing SQL */
		return tool_fail(err, TOOL_ERR_TIMEOUT, "the tool ran longer than its time limit "
				 "(SHEAF_QUERY_TIMEOUT_MS, %lld ms)", (long long)sql_time_limit_ms(q));
	return tool_fail(err, kind_of(s), "%s", e.msg);
}

json_t *tool_value(struct sql_query *q, int i, enum column_kind kind)
{
	return render_value_json(kind, sql_stmt(q), i);
}

json_t *tool_real(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

json_t *tool_table(const char *const *names, size_t n, json_t *rows)
{
	json_t *cols = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(cols, json_string(names[i]));
	return json_pack("{s:o, s:o}", "columns", cols, "rows", rows);
}

struct sql_query *tool_non_null(struct tool_ctx *ctx, const struct table_column *c,
				struct tool_error *err)
{
	struct buf sql;
	buf_init(&sql, 1 << 16);
	buf_puts(&sql, "SELECT ");
	tool_ident(&sql, c->name);
	buf_puts(&sql, " FROM data WHERE ");
	tool_ident(&sql, c->name);
	buf_puts(&sql, " IS NOT NULL");
	struct sql_query *q = tool_sql(ctx, sql.data, NULL, err);
	buf_free(&sql);
	return q;
}

double tool_quantile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return NAN;
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

int tool_frame(struct tool_ctx *ctx, const char *const *names, size_t n,
	       const struct frame_column **cols, struct tool_error *err)
{
	struct error e;
	enum sql_status why;
	if (frame_get(ctx->frames, ctx->t, ctx->key ? ctx->key : table_path(ctx->t), names, n,
		      &ctx->lim, cols, &why, &e) < 0)
		return tool_fail(err, kind_of(why), "%s", e.msg);
	return 0;
}

void tool_frame_release(struct tool_ctx *ctx, const struct frame_column **cols, size_t n)
{
	frame_release(ctx->frames, cols, n);
}
