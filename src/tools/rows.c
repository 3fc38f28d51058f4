/*
 * Tools that return rows: filter by typed conditions, sort, and a seeded
 * random sample.
 *
 * Every value a user gives is converted by the column's type (ingest/value.h
 * parsers, as the row-page filters of datasets/table.c do) and bound as a
 * parameter; only column names, quoted, enter the SQL text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "datasets/render.h"
#include "ingest/value.h"
#include "tools/groups.h"

/* JSON text, as written (no macro is expanded inside: false stays false).
 * Shared fragments are spliced in as string literals between pieces. */
#define JSON(...) #__VA_ARGS__

#define SQL_CAP (1u << 24)
#define DEFAULT_LIMIT 100
#define DEFAULT_SAMPLE 10

/* ---- shared by the three tools ---- */

/* An integer argument (the schema made sure it is one; 2.0 counts). */
static int64_t int_arg(const json_t *args, const char *key, int64_t def)
{
	const json_t *v = json_object_get(args, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return def;
}

/* A name for the rowid that no column shadows (SQLite matches names in any
 * ASCII case), or NULL. */
static const char *rowid_name(const struct table *t)
{
	static const char *const aliases[] = { "rowid", "_rowid_", "oid" };
	for (size_t a = 0; a < 3; a++) {
		bool taken = false;
		for (size_t i = 0; i < table_ncolumns(t) && !taken; i++)
			taken = strcasecmp(table_column(t, i)->name, aliases[a]) == 0;
		if (!taken)
			return aliases[a];
	}
	return NULL;
}

/* The columns a tool returns: args.columns in order, or all of them. */
struct projection {
	size_t n;
	const struct table_column **cols;
};

static int projection_of(struct tool_ctx *ctx, const json_t *args, struct projection *p,
			 struct tool_error *err)
{
	const json_t *list = json_object_get(args, "columns");
	p->n = list ? json_array_size(list) : table_ncolumns(ctx->t);
	p->cols = xcalloc(p->n ? p->n : 1, sizeof *p->cols);
	for (size_t i = 0; i < p->n; i++) {
		if (!list) {
			p->cols[i] = table_column(ctx->t, i);
			continue;
		}
		char path[64];
		snprintf(path, sizeof path, "args.columns[%zu]", i);
		p->cols[i] = tool_column_named(ctx, json_string_value(json_array_get(list, i)),
					       path, TOOL_KINDS_ANY, err);
		if (!p->cols[i]) {
			free(p->cols);
			p->cols = NULL;
			return -1;
		}
	}
	return 0;
}

/* "SELECT c1, c2, ..., rowid FROM data" into sql. */
static void select_list(struct buf *sql, const struct projection *p, const char *rowid)
{
	buf_puts(sql, "SELECT ");
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			buf_puts(sql, ", ");
		tool_ident(sql, p->cols[i]->name);
	}
	buf_printf(sql, "%s%s FROM data", p->n ? ", " : "", rowid);
}

/* Steps q to the end: each row's projected values typed into rows, and its
 * rowid (the last result column) into numbers. */
static int collect_rows(struct sql_query *q, const struct projection *p, json_t *rows,
			json_t *numbers, struct tool_error *err)
{
	int rc;
	while ((rc = sql_step(q)) == SQLITE_ROW) {
		json_t *row = json_array();
		for (size_t i = 0; i < p->n; i++)
			json_array_append_new(row, tool_value(q, (int)i, p->cols[i]->kind));
		json_array_append_new(rows, row);
		json_array_append_new(numbers, json_integer(
			sqlite3_column_int64(sql_stmt(q), (int)p->n)));
	}
	if (rc != SQLITE_DONE)
		return tool_sql_failed(q, err);
	return 0;
}

static json_t *projection_table(const struct projection *p, json_t *rows)
{
	const char **names = xcalloc(p->n ? p->n : 1, sizeof *names);
	for (size_t i = 0; i < p->n; i++)
		names[i] = p->cols[i]->name;
	json_t *t = tool_table(names, p->n, rows);
	free(names);
	return t;
}

static int no_rowid(struct tool_error *err)
{
	return tool_fail(err, TOOL_ERR_ARGUMENT, "this dataset has columns named rowid, _rowid_ "
			 "and oid, which hide the row numbers this tool needs");
}

/* The output schema fragment of a returned table. */
#define TABLE_SCHEMA JSON( \
	{"type": "object", "required": ["columns", "rows"], \
	 "description": "A table: the columns asked for, one array of typed values per row", \
	 "properties": {"columns": {"type": "array", "items": {"type": "string"}}, \
			"rows": {"type": "array", "items": {"type": "array"}}}})

#define COLUMNS_ARG JSON( \
	{"type": "array", "minItems": 1, "maxItems": 2000, "uniqueItems": true, \
	 "items": {"type": "string", "minLength": 1}, \
	 "description": "Columns to return, in this order (default: all)"})

/* ---- filter ---- */

enum op {
	OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_CONTAINS, OP_IN, OP_BETWEEN,
	OP_IS_NULL, OP_NOT_NULL,
};

static const struct {
	const char *name;
	enum op op;
	const char *sql;      /* for the plain comparisons */
} ops[] = {
	{ "==", OP_EQ, "=" }, { "!=", OP_NE, "<>" }, { ">", OP_GT, ">" }, { "<", OP_LT, "<" },
	{ ">=", OP_GE, ">=" }, { "<=", OP_LE, "<=" }, { "contains", OP_CONTAINS, NULL },
	{ "in", OP_IN, NULL }, { "between", OP_BETWEEN, NULL }, { "is_null", OP_IS_NULL, NULL },
	{ "is_not_null", OP_NOT_NULL, NULL },
};

/* v as short JSON text for a message. */
static void show_json(const json_t *v, char *out, size_t cap)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(out, cap, "%.80s%s", s ? s : "?", s && strlen(s) > 80 ? "..." : "");
	free(s);
}

/* Text of a JSON scalar as a user would write it (numbers, true/false). */
static char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return tool_printf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v)) {
		char b[64];
		render_real(json_real_value(v), b, sizeof b);
		return xstrdup(b);
	}
	return xstrdup(json_is_true(v) ? "true" : "false");
}

/*
 * v (a JSON string, number or boolean) converted for a comparison with
 * column c: a new JSON parameter (integer, real or string), or NULL with
 * err naming path.  Numbers compare numerically, booleans as 1/0, dates and
 * times as canonical ISO text, text as given.
 */
static json_t *convert_value(const struct table_column *c, const json_t *v, const char *path,
			     struct tool_error *err)
{
	struct value_datetime dt;
	char text[VALUE_TEXT_MAX];
	const char *s = json_string_value(v);
	size_t len = s ? json_string_length(v) : 0;
	int64_t i;
	double r;
	bool b, pct;
	switch (c->kind) {
	case COLUMN_TEXT: {
		char *t = scalar_text(v);
		json_t *out = json_string(t);
		free(t);
		if (out)
			return out;
		break;   /* not UTF-8: cannot happen for JSON input */
	}
	case COLUMN_INT:
	case COLUMN_REAL:
		if (json_is_integer(v))
			return json_integer(json_integer_value(v));
		if (json_is_real(v))
			return json_real(json_real_value(v));
		if (json_is_boolean(v))
			return json_integer(json_is_true(v));
		if (c->kind == COLUMN_INT && value_parse_int(s, len, &i))
			return json_integer(i);
		if (value_parse_real(s, len, &r, &pct))
			return json_real(r);
		break;
	case COLUMN_BOOL:
		if (json_is_boolean(v))
			return json_integer(json_is_true(v));
		if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
			return json_integer(json_integer_value(v));
		if (s && value_parse_int(s, len, &i) && (i == 0 || i == 1))
			return json_integer(i);
		if (s && value_parse_bool(s, len, &b))
			return json_integer(b);
		break;
	case COLUMN_DATE:
		if (s && value_parse_date(s, len, &dt))
			return json_stringn(text, value_format_date(&dt, text, sizeof text));
		if (s && value_parse_datetime(s, len, &dt)) {
			/* A midnight without a zone is the date itself; any
			 * other time sorts after its date's midnight. */
			if (!dt.has_tz && !dt.hour && !dt.minute && !dt.second && !dt.nanos)
				return json_stringn(text, value_format_date(&dt, text, sizeof text));
			return json_stringn(text, value_format_datetime(&dt, text, sizeof text));
		}
		break;
	case COLUMN_DATETIME:
		if (s && (value_parse_datetime(s, len, &dt) || value_parse_date(s, len, &dt)))
			return json_stringn(text, value_format_datetime(&dt, text, sizeof text));
		break;
	case COLUMN_TIME:
		if (s && value_parse_time(s, len, &dt))
			return json_stringn(text, value_format_time(&dt, text, sizeof text));
		break;
	}
	char shown[100];
	show_json(v, shown, sizeof shown);
	tool_fail(err, TOOL_ERR_ARGUMENT, "%s: %s is not a valid value for column \"%.100s\" "
		  "(type %s)", path, shown, c->name, column_kind_name(c->kind));
	return NULL;
}

/* Appends condition k (cond) as SQL to w and its parameters to params. */
static int build_condition(struct tool_ctx *ctx, const json_t *cond, size_t k, struct buf *w,
			   json_t *params, struct tool_error *err)
{
	char path[96];
	snprintf(path, sizeof path, "args.conditions[%zu].column", k);
	const struct table_column *c = tool_column_named(ctx, json_string_value(
		json_object_get(cond, "column")), path, TOOL_KINDS_ANY, err);
	if (!c)
		return -1;
	const char *opname = json_string_value(json_object_get(cond, "op"));
	size_t which = 0;
	while (which < sizeof ops / sizeof *ops && strcmp(ops[which].name, opname) != 0)
		which++;
	if (which == sizeof ops / sizeof *ops)   /* the schema's enum lets none through */
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.conditions[%zu].op: unknown "
				 "operator \"%.40s\"", k, opname);
	enum op op = ops[which].op;
	const json_t *value = json_object_get(cond, "value");
	const json_t *values = json_object_get(cond, "values");

	struct buf col;
	buf_init(&col, SQL_CAP);
	tool_ident(&col, c->name);
	int rc = 0;
	json_t *p = NULL;
	switch (op) {
	case OP_IS_NULL:
	case OP_NOT_NULL:
		buf_printf(w, "%s IS %sNULL", col.data, op == OP_NOT_NULL ? "NOT " : "");
		break;
	case OP_CONTAINS: {
		if (!value) {
			rc = tool_fail(err, TOOL_ERR_ARGUMENT, "args.conditions[%zu].value is "
				       "required for op \"contains\" (the text to look for)", k);
			break;
		}
		char *t = scalar_text(value);
		json_array_append_new(params, json_string(t));
		free(t);
		/* The text form the results show: true/false for booleans. */
		if (c->kind == COLUMN_BOOL)
			buf_printf(w, "instr(lower(CASE %s WHEN 1 THEN 'true' WHEN 0 THEN 'false' "
				   "END), lower(?)) > 0", col.data);
		else
			buf_printf(w, "instr(lower(CAST(%s AS TEXT)), lower(?)) > 0", col.data);
		break;
	}
	case OP_IN: {
		if (!values) {
			rc = tool_fail(err, TOOL_ERR_ARGUMENT, "args.conditions[%zu].values is "
				       "required for op \"in\" (a list of values)", k);
			break;
		}
		json_t *list = json_array();
		size_t i;
		const json_t *v;
		json_array_foreach(values, i, v) {
			char vp[96];
			snprintf(vp, sizeof vp, "args.conditions[%zu].values[%zu]", k, i);
			if (!(p = convert_value(c, v, vp, err))) {
				rc = -1;
				break;
			}
			json_array_append_new(list, p);
		}
		if (rc == 0) {
			/* One parameter however long the list: a JSON array. */
			char *text = json_dumps(list, JSON_COMPACT);
			json_array_append_new(params, json_string(text));
			free(text);
			buf_printf(w, "%s IN (SELECT value FROM json_each(?))", col.data);
		}
		json_decref(list);
		break;
	}
	case OP_BETWEEN: {
		if (!values || json_array_size(values) != 2) {
			rc = tool_fail(err, TOOL_ERR_ARGUMENT, "args.conditions[%zu].values: op "
				       "\"between\" needs exactly two values [low, high]", k);
			break;
		}
		for (size_t i = 0; i < 2 && rc == 0; i++) {
			char vp[96];
			snprintf(vp, sizeof vp, "args.conditions[%zu].values[%zu]", k, i);
			if (!(p = convert_value(c, json_array_get(values, i), vp, err)))
				rc = -1;
			else
				json_array_append_new(params, p);
		}
		if (rc == 0)
			buf_printf(w, "%s BETWEEN ? AND ?", col.data);
		break;
	}
	default: {
		char vp[64];
		snprintf(vp, sizeof vp, "args.conditions[%zu].value", k);
		if (!value) {
			rc = tool_fail(err, TOOL_ERR_ARGUMENT, "%s is required for op \"%s\"", vp,
				       opname);
			break;
		}
		if (!(p = convert_value(c, value, vp, err))) {
			rc = -1;
			break;
		}
		json_array_append_new(params, p);
		/* A missing value is not equal to anything (pandas: NaN != x). */
		if (op == OP_NE)
			buf_printf(w, "(%s IS NULL OR %s <> ?)", col.data, col.data);
		else
			buf_printf(w, "%s %s ?", col.data, ops[which].sql);
		break;
	}
	}
	buf_free(&col);
	return rc;
}

/* The first query's single integer. */
static int count_of(struct tool_ctx *ctx, const char *sql, const json_t *params, int64_t *n,
		    struct tool_error *err)
{
	struct sql_query *q = tool_sql_row(ctx, sql, params, err);
	if (!q)
		return -1;
	*n = sqlite3_column_int64(sql_stmt(q), 0);
	sql_close(q);
	return 0;
}

static int filter_rows(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		       struct tool_error *err)
{
	const char *rowid = rowid_name(ctx->t);
	if (!rowid)
		return no_rowid(err);
	const json_t *conds = json_object_get(args, "conditions");
	const char *match = json_string_value(json_object_get(args, "match"));
	bool any = match && strcmp(match, "any") == 0;
	int64_t limit = int_arg(args, "limit", DEFAULT_LIMIT);
	int64_t offset = int_arg(args, "offset", 0);

	struct buf where;
	buf_init(&where, SQL_CAP);
	json_t *params = json_array();
	size_t k;
	const json_t *cond;
	json_array_foreach(conds, k, cond) {
		buf_puts(&where, k ? (any ? ") OR (" : ") AND (") : "(");
		if (build_condition(ctx, cond, k, &where, params, err) < 0) {
			buf_free(&where);
			json_decref(params);
			return -1;
		}
	}
	buf_puts(&where, ")");

	struct projection p;
	if (projection_of(ctx, args, &p, err) < 0) {
		buf_free(&where);
		json_decref(params);
		return -1;
	}
	struct buf sql;
	buf_init(&sql, SQL_CAP);
	buf_printf(&sql, "SELECT count(*) FROM data WHERE %s", where.data);
	int64_t total = 0;
	int rc = count_of(ctx, sql.data, params, &total, err);
	json_t *rows = json_array(), *numbers = json_array();
	if (rc == 0) {
		buf_reset(&sql);
		select_list(&sql, &p, rowid);
		buf_printf(&sql, " WHERE %s ORDER BY %s LIMIT ? OFFSET ?", where.data, rowid);
		json_t *all = json_copy(params);
		json_array_append_new(all, json_integer(limit));
		json_array_append_new(all, json_integer(offset));
		struct sql_query *q = tool_sql(ctx, sql.data, all, err);
		json_decref(all);
		rc = q ? collect_rows(q, &p, rows, numbers, err) : -1;
		sql_close(q);
	}
	buf_free(&sql);
	buf_free(&where);
	json_decref(params);
	if (rc < 0) {
		json_decref(rows);
		json_decref(numbers);
		free(p.cols);
		return -1;
	}
	size_t returned = json_array_size(rows);
	bool truncated = offset + (int64_t)returned < total;
	out->result = json_pack("{s:I, s:I, s:I, s:b, s:o, s:o}", "total", (json_int_t)total,
				"returned", (json_int_t)returned, "offset", (json_int_t)offset,
				"truncated", truncated, "row_numbers", numbers, "table",
				projection_table(&p, rows));
	free(p.cols);
	size_t nconds = json_array_size(conds);
	out->summary = tool_printf("%lld of %lld rows match %s%zu condition%s; %zu returned%s.",
				   (long long)total, (long long)table_nrows(ctx->t),
				   nconds == 1 ? "" : any ? "any of " : "all of ", nconds,
				   nconds == 1 ? "" : "s", returned,
				   truncated ? " (more rows match: raise limit or offset)" : "");
	return 0;
}

static const struct tool filter_tool = {
	.name = "filter",
	.title = "Filter rows by conditions",
	.description = "Rows that match conditions on columns, like a pandas boolean mask. Each "
		       "condition is {column, op, value} with op one of ==, !=, >, <, >=, <=, "
		       "contains (case-insensitive substring of the value's text), in (values: a "
		       "list), between (values: [low, high], inclusive), is_null, is_not_null. "
		       "Values are converted by the column's type: numbers compare numerically "
		       "(\"1,234\" and \"12%\" are read too), booleans as true/false, dates and "
		       "datetimes in any usual form (\"2024-03-05\", \"2024. 3. 5.\", "
		       "\"2016년 1월 1일 01시\"). A missing value matches only != and is_null. "
		       "match \"all\" (default) needs every condition, \"any\" one of them. "
		       "Returns the matching rows (row_numbers count from 1), the total that "
		       "match, and whether more were left out. Korean: 필터, 조건, 조건 검색, 행 선택.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["conditions"],
		"properties": {
			"conditions": {"type": "array", "minItems": 1, "maxItems": 32,
				"items": {"type": "object", "additionalProperties": false,
					"required": ["column", "op"],
					"properties": {
						"column": {"type": "string", "minLength": 1},
						"op": {"enum": ["==", "!=", ">", "<", ">=", "<=", "contains",
								"in", "between", "is_null", "is_not_null"]},
						"value": {"type": ["string", "number", "boolean"]},
						"values": {"type": "array", "minItems": 1, "maxItems": 1000,
							   "items": {"type": ["string", "number", "boolean"]}}}}},
			"match": {"enum": ["all", "any"], "default": "all"},
			"columns":) COLUMNS_ARG JSON(,
			"limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100},
			"offset": {"type": "integer", "minimum": 0, "maximum": 9007199254740991,
				   "default": 0}}}),
	.output_schema = JSON({"type": "object",
		"required": ["total", "returned", "offset", "truncated", "row_numbers", "table"],
		"properties": {
			"total": {"type": "integer", "minimum": 0,
				  "description": "Rows that match"},
			"returned": {"type": "integer", "minimum": 0},
			"offset": {"type": "integer", "minimum": 0},
			"truncated": {"type": "boolean",
				      "description": "More rows match than were returned"},
			"row_numbers": {"type": "array", "items": {"type": "integer"},
					"description": "Each returned row's position in the dataset, from 1"},
			"table":) TABLE_SCHEMA JSON(}}),
	.read_only = true,
	.run = filter_rows,
};

/* ---- sort ---- */

static int sort_rows(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		     struct tool_error *err)
{
	const char *rowid = rowid_name(ctx->t);
	if (!rowid)
		return no_rowid(err);
	int64_t limit = int_arg(args, "limit", DEFAULT_LIMIT);
	const json_t *by = json_object_get(args, "by");
	struct buf order, words;
	buf_init(&order, SQL_CAP);
	buf_init(&words, 4096);
	size_t k;
	const json_t *key;
	json_array_foreach(by, k, key) {
		char path[64];
		snprintf(path, sizeof path, "args.by[%zu].column", k);
		const struct table_column *c = tool_column_named(ctx, json_string_value(
			json_object_get(key, "column")), path, TOOL_KINDS_ANY, err);
		if (!c) {
			buf_free(&order);
			buf_free(&words);
			return -1;
		}
		bool desc = json_is_true(json_object_get(key, "descending"));
		tool_ident(&order, c->name);
		/* NULLs last either way, as pandas' na_position="last". */
		buf_puts(&order, desc ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
		buf_printf(&words, "%s%.100s%s", k ? ", " : "", c->name, desc ? " (descending)" : "");
	}
	buf_puts(&order, rowid);   /* ties keep the dataset's order */

	struct projection p;
	if (projection_of(ctx, args, &p, err) < 0) {
		buf_free(&order);
		buf_free(&words);
		return -1;
	}
	struct buf sql;
	buf_init(&sql, SQL_CAP);
	select_list(&sql, &p, rowid);
	buf_printf(&sql, " ORDER BY %s LIMIT ?", order.data);
	json_t *params = json_pack("[I]", (json_int_t)limit);
	struct sql_query *q = tool_sql(ctx, sql.data, params, err);
	json_decref(params);
	buf_free(&sql);
	buf_free(&order);
	json_t *rows = json_array(), *numbers = json_array();
	int rc = q ? collect_rows(q, &p, rows, numbers, err) : -1;
	sql_close(q);
	if (rc < 0) {
		json_decref(rows);
		json_decref(numbers);
		free(p.cols);
		buf_free(&words);
		return -1;
	}
	int64_t total = table_nrows(ctx->t);
	size_t returned = json_array_size(rows);
	bool truncated = (int64_t)returned < total;
	out->result = json_pack("{s:I, s:I, s:b, s:o, s:o}", "total", (json_int_t)total,
				"returned", (json_int_t)returned, "truncated", truncated,
				"row_numbers", numbers, "table", projection_table(&p, rows));
	free(p.cols);
	out->summary = tool_printf("%s %zu of %lld rows sorted by %s; missing values last.",
				   truncated ? "The first" : "All", returned, (long long)total,
				   words.data ? words.data : "");
	buf_free(&words);
	return 0;
}

static const struct tool sort_tool = {
	.name = "sort",
	.title = "Sort rows",
	.description = "The dataset's rows sorted by one or more columns, each ascending or "
		       "descending, like pandas sort_values(na_position=\"last\", kind=\"stable\"): "
		       "missing values go last in either direction and ties keep the dataset's "
		       "order. Numbers sort numerically, dates in time order, text by Unicode code "
		       "point. Returns the first rows (limit) with their row numbers (from 1); use "
		       "it for top-N and bottom-N questions. Korean: 정렬, 순위, 상위, 하위, 내림차순, 오름차순.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "required": ["by"],
		"properties": {
			"by": {"type": "array", "minItems": 1, "maxItems": 8,
				"items": {"type": "object", "additionalProperties": false,
					"required": ["column"],
					"properties": {
						"column": {"type": "string", "minLength": 1},
						"descending": {"type": "boolean", "default": false}}}},
			"limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100},
			"columns":) COLUMNS_ARG JSON(}}),
	.output_schema = JSON({"type": "object",
		"required": ["total", "returned", "truncated", "row_numbers", "table"],
		"properties": {
			"total": {"type": "integer", "minimum": 0, "description": "Rows in the dataset"},
			"returned": {"type": "integer", "minimum": 0},
			"truncated": {"type": "boolean"},
			"row_numbers": {"type": "array", "items": {"type": "integer"},
					"description": "Each returned row's position in the dataset, from 1"},
			"table":) TABLE_SCHEMA JSON(}}),
	.read_only = true,
	.run = sort_rows,
};

/* ---- sample_rows ---- */

/* splitmix64: a small, well-mixed generator; the same seed, the same stream. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* Uniform in [0, bound] (bound < 2^64 - 1), without modulo bias. */
static uint64_t random_upto(uint64_t *state, uint64_t bound)
{
	uint64_t span = bound + 1;
	uint64_t reject = (UINT64_MAX - span + 1) % span;   /* 2^64 mod span */
	uint64_t r;
	do
		r = next_random(state);
	while (r < reject);
	return r % span;
}

/* An open-addressing set of row indices (never 0 after +1). */
struct index_set {
	uint64_t *slots;
	size_t mask;
};

/* Adds x; false when it was already there. */
static bool set_add(struct index_set *s, uint64_t x)
{
	uint64_t key = x + 1;
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15u) >> 17) & s->mask;
	while (s->slots[i]) {
		if (s->slots[i] == key)
			return false;
		i = (i + 1) & s->mask;
	}
	s->slots[i] = key;
	return true;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int sample_rows(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		       struct tool_error *err)
{
	const char *rowid = rowid_name(ctx->t);
	if (!rowid)
		return no_rowid(err);
	int64_t want = int_arg(args, "n", DEFAULT_SAMPLE);
	int64_t seed = int_arg(args, "seed", 0);
	struct projection p;
	if (projection_of(ctx, args, &p, err) < 0)
		return -1;
	uint64_t total = (uint64_t)table_nrows(ctx->t);
	uint64_t k = (uint64_t)want < total ? (uint64_t)want : total;

	/* Floyd's algorithm: every k-subset of 0..total-1 equally likely. */
	uint64_t *picked = xcalloc(k ? k : 1, sizeof *picked);
	size_t cap = 16;
	while (cap < 2 * k)
		cap *= 2;
	struct index_set set = { xcalloc(cap, sizeof *set.slots), cap - 1 };
	uint64_t state = (uint64_t)seed;
	size_t n = 0;
	for (uint64_t j = total - k; j < total; j++) {
		uint64_t t = random_upto(&state, j);
		uint64_t x = set_add(&set, t) ? t : j;
		if (x == j)
			set_add(&set, j);
		picked[n++] = x;
	}
	free(set.slots);
	qsort(picked, n, sizeof *picked, by_u64);

	/* The rows by rowid (1-based, in file order), listed as one JSON
	 * array parameter. */
	json_t *ids = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_integer((json_int_t)(picked[i] + 1)));
	free(picked);
	char *idtext = json_dumps(ids, JSON_COMPACT);
	json_decref(ids);
	json_t *params = json_pack("[s]", idtext);
	free(idtext);
	struct buf sql;
	buf_init(&sql, SQL_CAP);
	select_list(&sql, &p, rowid);
	buf_printf(&sql, " WHERE %s IN (SELECT value FROM json_each(?)) ORDER BY %s", rowid, rowid);
	struct sql_query *q = tool_sql(ctx, sql.data, params, err);
	json_decref(params);
	buf_free(&sql);
	json_t *rows = json_array(), *numbers = json_array();
	int rc = q ? collect_rows(q, &p, rows, numbers, err) : -1;
	sql_close(q);
	if (rc < 0) {
		json_decref(rows);
		json_decref(numbers);
		free(p.cols);
		return -1;
	}
	size_t returned = json_array_size(rows);
	out->result = json_pack("{s:I, s:I, s:I, s:o, s:o}", "total", (json_int_t)total,
				"returned", (json_int_t)returned, "seed", (json_int_t)seed,
				"row_numbers", numbers, "table", projection_table(&p, rows));
	free(p.cols);
	out->summary = (int64_t)returned < want
		? tool_printf("All %zu rows (fewer than the %lld asked for).", returned,
			      (long long)want)
		: tool_printf("%zu of %llu rows sampled at random with seed %lld, in dataset "
			      "order.", returned, (unsigned long long)total, (long long)seed);
	return 0;
}

static const struct tool sample_rows_tool = {
	.name = "sample_rows",
	.title = "Random sample of rows",
	.description = "n rows drawn at random without replacement, every row equally likely, "
		       "like pandas sample(n). The seed makes it repeatable: the same seed gives "
		       "the same rows, another seed another sample. Rows come back in dataset "
		       "order with their row numbers (from 1); asking for more rows than there "
		       "are returns them all. Korean: 표본, 샘플, 무작위 추출, 랜덤 샘플.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"n": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
		"seed": {"type": "integer", "default": 0},
		"columns":) COLUMNS_ARG JSON(}}),
	.output_schema = JSON({"type": "object",
		"required": ["total", "returned", "seed", "row_numbers", "table"],
		"properties": {
			"total": {"type": "integer", "minimum": 0, "description": "Rows in the dataset"},
			"returned": {"type": "integer", "minimum": 0},
			"seed": {"type": "integer"},
			"row_numbers": {"type": "array", "items": {"type": "integer"},
					"description": "The sampled rows' positions in the dataset, from 1"},
			"table":) TABLE_SCHEMA JSON(}}),
	.read_only = true,
	.run = sample_rows,
};

const struct tool *const tools_rows[] = {
	&filter_tool,
	&sort_tool,
	&sample_rows_tool,
	NULL,
};
