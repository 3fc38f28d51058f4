/*
 * query_sql: one read-only SQL statement over the dataset (the table
 * "data"), run through the sandbox (query/sql.h) with the tool's limits.
 * The answer is shaped as POST /api/datasets/{id}/query's, without its
 * cache, streaming and timing: what a model asking questions needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/render.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

#define ROWS_DEFAULT 100
#define VALUES_MAX (4 << 20)   /* bytes of rendered rows in one answer */

/* {"name","type"} of each result column: a dataset column's kind, or for
 * an expression the storage class of its first value (as the API does). */
static json_t *columns_json(struct sql_query *q, int first_step)
{
	json_t *cols = json_array();
	for (size_t i = 0; i < sql_ncols(q); i++) {
		int type = first_step == SQLITE_ROW ? sqlite3_column_type(sql_stmt(q), (int)i)
						    : SQLITE_NULL;
		const char *name = sql_name(q, i);
		json_array_append_new(cols, json_pack("{s:o, s:s}", "name",
			render_text_json(name, strlen(name)), "type",
			render_kind_name(sql_kind(q, i), type)));
	}
	return cols;
}

static int query_sql(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		     struct tool_error *err)
{
	const char *sql = json_string_value(json_object_get(args, "sql"));
	const json_t *given = json_object_get(args, "limit");
	int64_t limit = given ? (int64_t)json_number_value(given) : ROWS_DEFAULT;
	struct sql_query *q = tool_sql(ctx, sql, json_object_get(args, "params"), err);
	if (!q)
		return -1;
	int step = sql_step(q);
	json_t *cols = columns_json(q, step);
	json_t *rows = json_array();
	size_t ncols = sql_ncols(q), bytes = 0;
	int64_t count = 0;
	bool truncated = false;
	while (step == SQLITE_ROW) {
		if (count == limit) {
			truncated = true;
			break;
		}
		json_t *row = json_array();
		for (size_t i = 0; i < ncols; i++)
			json_array_append_new(row, tool_value(q, (int)i, sql_kind(q, i)));
		bytes += json_dumpb(row, NULL, 0, JSON_COMPACT) + 1;
		if (bytes > VALUES_MAX) {
			json_decref(row);
			truncated = true;
			break;
		}
		json_array_append_new(rows, row);
		count++;
		step = sql_step(q);
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		/* sql.c's message for a timeout advises the one who wrote the SQL:
		 * here that is the caller. */
		struct error e;
		if (sql_failure(q, &e) == SQL_TIMEOUT)
			tool_fail(err, TOOL_ERR_TIMEOUT, "%s", e.msg);
		else
			tool_sql_failed(q, err);
		sql_close(q);
		json_decref(cols);
		json_decref(rows);
		return -1;
	}
	sql_close(q);
	out->result = json_pack("{s:o, s:o, s:I, s:b}", "columns", cols, "rows", rows,
				"row_count", (json_int_t)count, "truncated", truncated);
	out->summary = truncated ? tool_printf("%lld row%s shown; the query gave more (raise limit, "
					       "or aggregate).", (long long)count,
					       count == 1 ? "" : "s")
				 : tool_printf("%lld row%s.", (long long)count, count == 1 ? "" : "s");
	return 0;
}

static const struct tool query_sql_tool = {
	.name = "query_sql",
	.title = "SQL query",
	.description = "Runs one read-only SQLite statement (SELECT, WITH ... SELECT, VALUES) over "
		       "the dataset, whose rows are the table data (quote column names with \"...\"). "
		       "SQLite's functions plus median, percentile, stddev and variance aggregates; "
		       "parameters bind ? (params as an array) or :name (params as an object). "
		       "Returns typed columns and rows, at most limit rows and about 4 MB; "
		       "truncated says more were left out. Time and memory are limited. "
		       "Korean: SQL 쿼리, 질의, 데이터 조회, 집계.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "required": ["sql"],
		"properties": {
		"sql": {"type": "string", "minLength": 1,
			"description": "One statement, e.g. SELECT \"city\", count(*) FROM data GROUP BY 1 ORDER BY 2 DESC"},
		"params": {"type": ["array", "object"],
			   "description": "Values for ? in order (an array), or for :name, @name, $name by name without the sign (an object): numbers, strings, booleans or null"},
		"limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100,
			  "description": "Most rows returned"}}}),
	.output_schema = JSON({"type": "object", "required": ["columns", "rows", "row_count", "truncated"],
		"properties": {
			"columns": {"type": "array", "items": {"type": "object", "required": ["name", "type"],
				"properties": {"name": {"type": "string"},
					       "type": {"type": "string", "description": "integer, real, boolean, date, datetime, time, text, or null (an expression whose first value is NULL)"}}}},
			"rows": {"type": "array", "items": {"type": "array"},
				 "description": "One array of values per row, in column order"},
			"row_count": {"type": "integer", "description": "Rows returned"},
			"truncated": {"type": "boolean", "description": "More rows were left out (limit, or the 4 MB cap)"}}}),
	.read_only = true,
	.run = query_sql,
};

const struct tool *const tools_sql[] = {
	&query_sql_tool,
	NULL,
};
