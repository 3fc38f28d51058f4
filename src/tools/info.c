/*
 * Tools about a dataset's shape: its columns, types and missing values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "ingest/value.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

static const char *role_name(enum column_role r)
{
	switch (r) {
	case COLUMN_ROLE_LATITUDE: return "latitude";
	case COLUMN_ROLE_LONGITUDE: return "longitude";
	default: return NULL;
	}
}

/* The non-null count of every column, in one scan: counts[i]. */
static int count_non_null(struct tool_ctx *ctx, int64_t *counts, struct tool_error *err)
{
	size_t n = table_ncolumns(ctx->t);
	if (n == 0)
		return 0;
	struct buf sql;
	buf_init(&sql, 1 << 24);
	buf_puts(&sql, "SELECT ");
	for (size_t i = 0; i < n; i++) {
		buf_puts(&sql, i ? ", count(" : "count(");
		tool_ident(&sql, table_column(ctx->t, i)->name);
		buf_puts(&sql, ")");
	}
	buf_puts(&sql, " FROM data");
	struct sql_query *q = tool_sql_row(ctx, sql.data, NULL, err);
	buf_free(&sql);
	if (!q)
		return -1;
	for (size_t i = 0; i < n; i++)
		counts[i] = sqlite3_column_int64(sql_stmt(q), (int)i);
	sql_close(q);
	return 0;
}

/* The same as a new array (malloc'd), or NULL with err set. */
static int64_t *non_null_counts(struct tool_ctx *ctx, struct tool_error *err)
{
	size_t n = table_ncolumns(ctx->t);
	int64_t *counts = xcalloc(n ? n : 1, sizeof *counts);
	if (count_non_null(ctx, counts, err) < 0) {
		free(counts);
		return NULL;
	}
	return counts;
}

/* ---- dataframe_info ---- */

static int dataframe_info(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			  struct tool_error *err)
{
	(void)args;
	size_t n = table_ncolumns(ctx->t);
	int64_t rows = table_nrows(ctx->t);
	int64_t *counts = non_null_counts(ctx, err);
	if (!counts)
		return -1;
	json_t *list = json_array();
	size_t numeric = 0, text = 0, temporal = 0;
	for (size_t i = 0; i < n; i++) {
		const struct table_column *c = table_column(ctx->t, i);
		const char *role = role_name(c->role);
		json_array_append_new(list, json_pack("[s, s, s?, b, I, I]", c->name,
			column_kind_name(c->kind), role, c->categorical, (json_int_t)counts[i],
			(json_int_t)(rows - counts[i])));
		if ((1u << c->kind) & TOOL_KINDS_NUMERIC)
			numeric++;
		else if ((1u << c->kind) & TOOL_KINDS_TEMPORAL)
			temporal++;
		else
			text++;
	}
	free(counts);
	static const char *const names[] = {
		"name", "type", "role", "categorical", "non_null", "nulls",
	};
	out->result = json_pack("{s:I, s:I, s:o}", "rows", (json_int_t)rows, "columns",
				(json_int_t)n, "column_info", tool_table(names, 6, list));
	out->summary = tool_printf("%lld rows and %zu columns: %zu numeric, %zu date/time, "
				   "%zu text.", (long long)rows, n, numeric, temporal, text);
	return 0;
}

static const struct tool dataframe_info_tool = {
	.name = "dataframe_info",
	.title = "Dataset overview",
	.description = "Rows, columns, and each column's type, role (latitude/longitude), "
		       "categorical flag and non-null/null counts, like pandas DataFrame.info(). "
		       "Korean: 데이터 개요, 행 수, 열 정보, 컬럼 타입.",
	.input_schema = JSON({"type": "object", "properties": {}, "additionalProperties": false}),
	.output_schema = JSON({"type": "object", "required": ["rows", "columns", "column_info"],
		"properties": {
			"rows": {"type": "integer"}, "columns": {"type": "integer"},
			"column_info": {"type": "object", "description": "A table: name, type, role, categorical, non_null, nulls",
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array"}}}}}}),
	.read_only = true,
	.run = dataframe_info,
};

/* ---- missing_values ---- */

static int missing_values(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			  struct tool_error *err)
{
	bool only = json_is_true(json_object_get(args, "only_missing"));
	size_t n = table_ncolumns(ctx->t);
	int64_t rows = table_nrows(ctx->t);
	int64_t *counts = non_null_counts(ctx, err);
	if (!counts)
		return -1;
	json_t *list = json_array();
	int64_t total = 0;
	size_t with = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t missing = rows - counts[i];
		total += missing;
		with += missing > 0;
		if (only && missing == 0)
			continue;
		json_array_append_new(list, json_pack("[s, I, o]", table_column(ctx->t, i)->name,
			(json_int_t)missing, tool_real(rows ? 100.0 * (double)missing / (double)rows : 0)));
	}
	free(counts);
	static const char *const names[] = { "column", "missing", "percent" };
	out->result = json_pack("{s:I, s:I, s:I, s:o}", "rows", (json_int_t)rows,
				"total_missing", (json_int_t)total, "columns_with_missing",
				(json_int_t)with, "missing", tool_table(names, 3, list));
	out->summary = with ? tool_printf("%zu of %zu columns have missing values (%lld cells "
					  "in all).", with, n, (long long)total)
			    : tool_printf("No missing values in %zu columns.", n);
	return 0;
}

static const struct tool missing_values_tool = {
	.name = "missing_values",
	.title = "Missing values per column",
	.description = "How many values each column is missing (null or empty), with the "
		       "percentage of rows, like pandas isnull().sum(). Korean: 결측치, 결측값, 빈 값.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"only_missing": {"type": "boolean", "default": false,
				 "description": "List only columns that miss at least one value"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["rows", "total_missing", "columns_with_missing", "missing"],
		"properties": {
			"rows": {"type": "integer"}, "total_missing": {"type": "integer"},
			"columns_with_missing": {"type": "integer"},
			"missing": {"type": "object", "description": "A table: column, missing, percent"}}}),
	.read_only = true,
	.run = missing_values,
};

/* ---- type_detection ---- */

#define SAMPLES 3          /* example values per column */
#define MISFITS 5          /* values that keep a text column from a type */

/* How many of a text column's values read as each other type. */
struct fit_counts {
	int64_t values, ints, reals, bools, dates, datetimes, times;
	json_t *misfit[6];     /* per candidate: up to MISFITS values that did not read */
};

enum { FIT_INT, FIT_REAL, FIT_BOOL, FIT_DATE, FIT_DATETIME, FIT_TIME, FIT_KINDS };

static const char *const fit_names[FIT_KINDS] = {
	"integer", "real", "boolean", "date", "datetime", "time",
};

static void note_misfit(struct fit_counts *f, int k, const char *s, size_t len)
{
	if (json_array_size(f->misfit[k]) < MISFITS)
		json_array_append_new(f->misfit[k], json_stringn(s, len));
}

static void fit_value(struct fit_counts *f, const char *s, size_t len)
{
	int64_t i;
	double r;
	bool pct, b;
	struct value_datetime dt;
	f->values++;
	bool fits[FIT_KINDS] = {
		value_parse_int(s, len, &i),
		value_parse_real(s, len, &r, &pct),
		value_parse_bool(s, len, &b),
		value_parse_date(s, len, &dt),
		value_parse_datetime(s, len, &dt) || value_parse_date(s, len, &dt),
		value_parse_time(s, len, &dt),
	};
	int64_t *counts[FIT_KINDS] = {
		&f->ints, &f->reals, &f->bools, &f->dates, &f->datetimes, &f->times,
	};
	for (int k = 0; k < FIT_KINDS; k++) {
		if (fits[k])
			(*counts[k])++;
		else
			note_misfit(f, k, s, len);
	}
}

/* For a text column: the other type most of its values read as, with the
 * share and examples of those that do not.  NULL when no value reads as
 * anything else. */
static json_t *closest_type(struct fit_counts *f)
{
	int64_t counts[FIT_KINDS] = {
		f->ints, f->reals, f->bools, f->dates, f->datetimes, f->times,
	};
	int best = -1;
	for (int k = 0; k < FIT_KINDS; k++)
		if (counts[k] > 0 && (best < 0 || counts[k] > counts[best]))
			best = k;
	if (best < 0)
		return json_null();
	return json_pack("{s:s, s:I, s:o, s:O}", "type", fit_names[best],
			 "values_that_fit", (json_int_t)counts[best],
			 "percent", tool_real(100.0 * (double)counts[best] / (double)f->values),
			 "values_that_do_not", f->misfit[best]);
}

static int scan_text(struct tool_ctx *ctx, const struct table_column *c, struct fit_counts *f,
		     json_t *samples, struct tool_error *err)
{
	struct sql_query *q = tool_non_null(ctx, c, err);
	if (!q)
		return -1;
	int rc;
	bool text = c->kind == COLUMN_TEXT;
	while ((rc = sql_step(q)) == SQLITE_ROW) {
		sqlite3_stmt *st = sql_stmt(q);
		if (json_array_size(samples) < SAMPLES) {
			json_t *v = tool_value(q, 0, c->kind);
			size_t i;
			json_t *seen;
			bool dup = false;
			json_array_foreach(samples, i, seen)
				dup = dup || json_equal(seen, v);
			if (dup)
				json_decref(v);
			else
				json_array_append_new(samples, v);
		} else if (!text) {
			break;
		}
		if (text)
			fit_value(f, (const char *)sqlite3_column_text(st, 0),
				  (size_t)sqlite3_column_bytes(st, 0));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		tool_sql_failed(q, err);
		sql_close(q);
		return -1;
	}
	sql_close(q);
	return 0;
}

static int type_detection(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			  struct tool_error *err)
{
	const json_t *only = json_object_get(args, "columns");
	size_t n = table_ncolumns(ctx->t);
	json_t *list = json_array();
	size_t shown = 0, could = 0;
	for (size_t i = 0; i < n; i++) {
		const struct table_column *c = table_column(ctx->t, i);
		if (only) {
			size_t k;
			json_t *name;
			bool wanted = false;
			json_array_foreach(only, k, name)
				wanted = wanted || strcmp(json_string_value(name), c->name) == 0;
			if (!wanted)
				continue;
		}
		struct fit_counts f = { 0 };
		for (int k = 0; k < FIT_KINDS; k++)
			f.misfit[k] = json_array();
		json_t *samples = json_array();
		int rc = scan_text(ctx, c, &f, samples, err);
		json_t *closest = rc == 0 && c->kind == COLUMN_TEXT ? closest_type(&f) : json_null();
		for (int k = 0; k < FIT_KINDS; k++)
			json_decref(f.misfit[k]);
		if (rc < 0) {
			json_decref(samples);
			json_decref(closest);
			json_decref(list);
			return -1;
		}
		could += !json_is_null(closest);
		const char *why = c->kind != COLUMN_TEXT ? "every non-empty value reads as this type"
			: json_is_null(closest) ? "the values are words, not numbers, dates or booleans"
			: "some values do not read as the closest type, so the column keeps its text";
		json_array_append_new(list, json_pack("[s, s, s, s?, b, b, o, o, s]", c->name,
			c->source_name, column_kind_name(c->kind), role_name(c->role), c->categorical,
			c->percent, samples, closest, why));
		shown++;
	}
	/* Names asked for that do not exist. */
	size_t k;
	json_t *name;
	json_array_foreach(only, k, name) {
		if (table_find_column(ctx->t, json_string_value(name)) < 0) {
			json_decref(list);
			char path[64];
			snprintf(path, sizeof path, "args.columns[%zu]", k);
			return tool_column_named(ctx, json_string_value(name), path, TOOL_KINDS_ANY,
						 err) ? 0 : -1;
		}
	}
	static const char *const names[] = {
		"name", "source_name", "type", "role", "categorical", "percent", "examples",
		"closest_other_type", "why",
	};
	out->result = json_pack("{s:o}", "columns", tool_table(names, 9, list));
	out->summary = could ? tool_printf("%zu columns typed; %zu text column%s hold values that "
					   "almost read as another type.", shown, could,
					   could == 1 ? "" : "s")
			     : tool_printf("%zu columns typed.", shown);
	return 0;
}

static const struct tool type_detection_tool = {
	.name = "type_detection",
	.title = "Column types and why",
	.description = "Each column's inferred type (integer, real, boolean, date, datetime, time, "
		       "text), role (latitude/longitude), categorical and percent flags, example "
		       "values, and for text columns the closest other type with the share of "
		       "values that fit it and examples of those that do not (why the column stayed "
		       "text). Korean: 타입 감지, 자료형, 데이터 타입.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"columns": {"type": "array", "items": {"type": "string"}, "minItems": 1,
			    "maxItems": 2000, "description": "Only these columns (default: all)"}}}),
	.output_schema = JSON({"type": "object", "required": ["columns"], "properties": {
		"columns": {"type": "object", "description": "A table: name, source_name, type, role, categorical, percent, examples, closest_other_type ({type, values_that_fit, percent, values_that_do_not} or null), why"}}}),
	.read_only = true,
	.run = type_detection,
};

/* ---- missing_pattern ---- */

#define PATTERN_COLUMNS 64     /* columns with missing values a pattern can name */

struct pattern {
	uint64_t mask;
	int64_t count;
};

static int by_count(const void *a, const void *b)
{
	const struct pattern *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->mask < y->mask ? -1 : x->mask > y->mask;
}

static int missing_pattern(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			   struct tool_error *err)
{
	json_int_t top = json_integer_value(json_object_get(args, "top"));
	if (!top)
		top = 20;
	size_t n = table_ncolumns(ctx->t);
	int64_t rows = table_nrows(ctx->t);
	int64_t *counts = non_null_counts(ctx, err);
	if (!counts)
		return -1;
	size_t cols[PATTERN_COLUMNS], ncols = 0;
	for (size_t i = 0; i < n; i++)
		if (counts[i] < rows) {
			if (ncols == PATTERN_COLUMNS) {
				free(counts);
				return tool_fail(err, TOOL_ERR_ARGUMENT, "more than %d columns miss "
						 "values; a pattern can name at most %d",
						 PATTERN_COLUMNS, PATTERN_COLUMNS);
			}
			cols[ncols++] = i;
		}
	free(counts);
	struct pattern *pats = NULL;
	size_t npats = 0, cap = 0;
	if (ncols) {
		struct buf sql;
		buf_init(&sql, 1 << 20);
		buf_puts(&sql, "SELECT ");
		for (size_t k = 0; k < ncols; k++) {
			/* SQLite's | and << share a precedence: each term in parentheses. */
			buf_puts(&sql, k ? " | ((" : "((");
			tool_ident(&sql, table_column(ctx->t, cols[k])->name);
			buf_printf(&sql, " IS NULL) << %zu)", k);
		}
		buf_puts(&sql, " AS m, count(*) FROM data GROUP BY m");
		struct sql_query *q = tool_sql(ctx, sql.data, NULL, err);
		buf_free(&sql);
		if (!q)
			return -1;
		int rc;
		while ((rc = sql_step(q)) == SQLITE_ROW) {
			if (npats == cap) {
				cap = cap ? 2 * cap : 64;
				pats = xrealloc(pats, cap * sizeof *pats);
			}
			pats[npats].mask = (uint64_t)sqlite3_column_int64(sql_stmt(q), 0);
			pats[npats++].count = sqlite3_column_int64(sql_stmt(q), 1);
		}
		if (rc != SQLITE_DONE) {
			tool_sql_failed(q, err);
			sql_close(q);
			free(pats);
			return -1;
		}
		sql_close(q);
		qsort(pats, npats, sizeof *pats, by_count);
	} else if (rows > 0) {
		pats = xmalloc(sizeof *pats);   /* every row complete: one pattern */
		pats[0] = (struct pattern){ 0, rows };
		npats = 1;
	}
	json_t *list = json_array();
	int64_t complete = ncols ? 0 : rows;   /* the rows of the empty pattern */
	for (size_t p = 0; p < npats; p++) {
		if (pats[p].mask == 0)
			complete = pats[p].count;
		if ((json_int_t)json_array_size(list) >= top)
			continue;
		json_t *missing = json_array();
		for (size_t k = 0; k < ncols; k++)
			if (pats[p].mask >> k & 1)
				json_array_append_new(missing,
						      json_string(table_column(ctx->t, cols[k])->name));
		json_array_append_new(list, json_pack("[o, I, I, o]", missing,
			(json_int_t)json_array_size(missing), (json_int_t)pats[p].count,
			tool_real(rows ? 100.0 * (double)pats[p].count / (double)rows : 0)));
	}
	free(pats);
	json_t *with = json_array();
	for (size_t k = 0; k < ncols; k++)
		json_array_append_new(with, json_string(table_column(ctx->t, cols[k])->name));
	static const char *const names[] = { "missing", "missing_count", "rows", "percent" };
	out->result = json_pack("{s:I, s:I, s:I, s:o, s:o}", "rows", (json_int_t)rows,
				"complete_rows", (json_int_t)complete, "patterns",
				(json_int_t)npats, "columns_with_missing", with,
				"pattern_counts", tool_table(names, 4, list));
	out->summary = tool_printf("%lld of %lld rows are complete; %zu pattern%s of missing "
				   "values over %zu column%s.", (long long)complete,
				   (long long)rows, npats, npats == 1 ? "" : "s", ncols,
				   ncols == 1 ? "" : "s");
	return 0;
}

static const struct tool missing_pattern_tool = {
	.name = "missing_pattern",
	.title = "Patterns of missing values",
	.description = "Which combinations of columns are missing together, and in how many "
		       "rows (the empty combination is the complete rows), most frequent first, "
		       "like pandas df.isnull().value_counts(). Korean: 결측 패턴, 결측치 조합.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"top": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20,
			"description": "Patterns listed"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["rows", "complete_rows", "patterns", "columns_with_missing", "pattern_counts"],
		"properties": {
			"rows": {"type": "integer"}, "complete_rows": {"type": "integer"},
			"patterns": {"type": "integer", "description": "Distinct patterns, the complete one included"},
			"columns_with_missing": {"type": "array", "items": {"type": "string"}},
			"pattern_counts": {"type": "object", "description": "A table: missing (column names), missing_count, rows, percent"}}}),
	.read_only = true,
	.run = missing_pattern,
};

const struct tool *const tools_info[] = {
	&dataframe_info_tool,
	&missing_values_tool,
	&type_detection_tool,
	&missing_pattern_tool,
	NULL,
};
