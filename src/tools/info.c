/*
 * Tools about a dataset's shape: its columns, types and missing values.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
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
	struct sql_query *q = tool_sql(ctx, sql.data, NULL, err);
	buf_free(&sql);
	if (!q)
		return -1;
	int rc = sql_step(q);
	if (rc != SQLITE_ROW) {
		tool_sql_failed(q, err);
		sql_close(q);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		counts[i] = sqlite3_column_int64(sql_stmt(q), (int)i);
	sql_close(q);
	return 0;
}

/* ---- dataframe_info ---- */

static int dataframe_info(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			  struct tool_error *err)
{
	(void)args;
	size_t n = table_ncolumns(ctx->t);
	int64_t rows = table_nrows(ctx->t);
	int64_t *counts = xcalloc(n ? n : 1, sizeof *counts);
	if (count_non_null(ctx, counts, err) < 0) {
		free(counts);
		return -1;
	}
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
	int64_t *counts = xcalloc(n ? n : 1, sizeof *counts);
	if (count_non_null(ctx, counts, err) < 0) {
		free(counts);
		return -1;
	}
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

const struct tool *const tools_info[] = {
	&dataframe_info_tool,
	&missing_values_tool,
	NULL,
};
