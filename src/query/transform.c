/*
 * Transform steps compiled into nested SELECTs; see transform.h.  After each
 * step the SQL so far is prepared in the sandbox: that checks the step and
 * gives the column names the next step works with.
 */
#include "query/transform.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

#define SQL_LIMIT (1u << 20)
#define ROW_COLUMN "__sheaf_row"

struct compiler {
	struct table *t;
	const struct sql_limits *lim;
	struct transform_plan *plan;
	char *sql;              /* the SQL so far */
	size_t ncols;
	char **cols;            /* its result's columns */
	size_t step;            /* for messages */
	const char *op;
};

static void ident(struct buf *b, const char *name)
{
	buf_puts(b, "\"");
	for (const char *p = name; *p; p++) {
		buf_append(b, p, 1);
		if (*p == '"')
			buf_append(b, "\"", 1);
	}
	buf_puts(b, "\"");
}

static void free_cols(struct compiler *c)
{
	for (size_t i = 0; i < c->ncols; i++)
		free(c->cols[i]);
	free(c->cols);
	c->cols = NULL;
	c->ncols = 0;
}

static enum sql_status fail(struct compiler *c, enum sql_status s, struct error *e,
			    const char *fmt, const char *detail)
{
	char msg[sizeof e->msg];
	snprintf(msg, sizeof msg, fmt, detail);
	error_set(e, "steps[%zu] (%.40s): %.400s", c->step, c->op, msg);
	return s;
}

static bool has_col(const struct compiler *c, const char *name)
{
	for (size_t i = 0; i < c->ncols; i++)
		if (strcmp(c->cols[i], name) == 0)
			return true;
	return false;
}

/* Prepares sql as the new current SQL: checks it and learns its columns. */
static enum sql_status accept(struct compiler *c, struct buf *sql, struct error *e)
{
	if (!sql->data || sql->len + 1 >= SQL_LIMIT)
		return fail(c, SQL_INVALID, e, "%s", "the transformation is too long");
	struct sql_query *q;
	struct error qe;
	enum sql_status s = sql_prepare_joined(c->t, c->plan->att, c->plan->natt, sql->data, NULL,
					       c->lim, &q, &qe);
	if (s != SQL_OK)
		return fail(c, s, e, "%s", qe.msg);
	free_cols(c);
	c->ncols = sql_ncols(q);
	c->cols = xcalloc(c->ncols ? c->ncols : 1, sizeof *c->cols);
	for (size_t i = 0; i < c->ncols; i++)
		c->cols[i] = xstrdup(sql_name(q, i));
	sql_close(q);
	free(c->sql);
	c->sql = buf_detach(sql);
	return SQL_OK;
}

static const char *str(const json_t *step, const char *key)
{
	return json_string_value(json_object_get(step, key));
}

/* Whether an expression keeps to itself: parentheses balanced outside
 * quotes and comments, and no ';' -- so that it cannot close the SELECT
 * it is put in and start another shape of query. */
static bool self_contained(const char *s)
{
	int depth = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '\'' || *p == '"' || *p == '`' || *p == '[') {
			char close = *p == '[' ? ']' : *p;
			const char *end = strchr(p + 1, close);
			if (!end)
				return false;
			p = end;
		} else if (p[0] == '-' && p[1] == '-') {
			return false;   /* a comment would swallow what follows */
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			if (!end)
				return false;
			p = end + 1;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth < 0)
				return false;
		} else if (*p == ';') {
			return false;
		}
	}
	return depth == 0;
}

static enum sql_status expression(struct compiler *c, const json_t *step, const char *key,
				  const char **out, struct error *e)
{
	const char *x = str(step, key);
	if (!x || !*x)
		return fail(c, SQL_INVALID, e, "%s needs a non-empty SQL expression", key);
	if (!self_contained(x))
		return fail(c, SQL_INVALID, e, "%s must be one expression: balanced parentheses, "
			    "no ';' and no -- comment", key);
	*out = x;
	return SQL_OK;
}

/* A column list of the current columns, some replaced: col AS name. */
static void select_all(struct compiler *c, struct buf *b, const char *skip_prefix)
{
	for (size_t i = 0, n = 0; i < c->ncols; i++) {
		if (skip_prefix && strcmp(c->cols[i], skip_prefix) == 0)
			continue;
		if (n++)
			buf_puts(b, ", ");
		ident(b, c->cols[i]);
	}
}

static enum sql_status check_names(struct compiler *c, const json_t *names, const char *what,
				   struct error *e)
{
	size_t i;
	const json_t *n;
	json_array_foreach(names, i, n) {
		if (!json_is_string(n))
			return fail(c, SQL_INVALID, e, "%s must be column names", what);
		if (!has_col(c, json_string_value(n))) {
			char msg[200];
			snprintf(msg, sizeof msg, "%s[%zu]: no column \"%.100s\"", what, i,
				 json_string_value(n));
			return fail(c, SQL_INVALID, e, "%s", msg);
		}
	}
	return SQL_OK;
}

/* step[key] as a non-empty list of current column names, in *out. */
static enum sql_status column_list(struct compiler *c, const json_t *step, const char *key,
				   const json_t **out, struct error *e)
{
	const json_t *cols = json_object_get(step, key);
	if (!json_is_array(cols) || json_array_size(cols) == 0)
		return fail(c, SQL_INVALID, e, "%s must list at least one column", key);
	*out = cols;
	return check_names(c, cols, key, e);
}

/* The names of a JSON array as quoted identifiers, comma-separated. */
static void ident_list(struct buf *b, const json_t *names)
{
	size_t i;
	const json_t *n;
	json_array_foreach(names, i, n) {
		if (i)
			buf_puts(b, ", ");
		ident(b, json_string_value(n));
	}
}

static enum sql_status step_filter(struct compiler *c, const json_t *step, struct buf *b,
				   struct error *e)
{
	const char *x;
	enum sql_status s = expression(c, step, "where", &x, e);
	if (s != SQL_OK)
		return s;
	buf_printf(b, "SELECT * FROM (%s) WHERE (%s)", c->sql, x);
	return SQL_OK;
}

static enum sql_status step_select(struct compiler *c, const json_t *step, struct buf *b,
				   struct error *e)
{
	const json_t *cols;
	enum sql_status s = column_list(c, step, "columns", &cols, e);
	if (s != SQL_OK)
		return s;
	buf_puts(b, "SELECT ");
	ident_list(b, cols);
	buf_printf(b, " FROM (%s)", c->sql);
	return SQL_OK;
}

static enum sql_status step_rename(struct compiler *c, const json_t *step, struct buf *b,
				   struct error *e)
{
	const json_t *map = json_object_get(step, "columns");
	if (!json_is_object(map) || json_object_size(map) == 0)
		return fail(c, SQL_INVALID, e, "%s", "columns must map old names to new ones");
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)map, key, v) {
		if (!has_col(c, key))
			return fail(c, SQL_INVALID, e, "no column \"%.100s\" to rename", key);
		if (!json_is_string(v) || !*json_string_value(v))
			return fail(c, SQL_INVALID, e, "the new name of \"%.100s\" must be a "
				    "non-empty string", key);
	}
	buf_puts(b, "SELECT ");
	for (size_t i = 0; i < c->ncols; i++) {
		if (i)
			buf_puts(b, ", ");
		ident(b, c->cols[i]);
		const char *to = json_string_value(json_object_get(map, c->cols[i]));
		buf_puts(b, " AS ");
		ident(b, to ? to : c->cols[i]);
	}
	buf_printf(b, " FROM (%s)", c->sql);
	return SQL_OK;
}

static enum sql_status step_derive(struct compiler *c, const json_t *step, struct buf *b,
				   struct error *e)
{
	const char *name = str(step, "name"), *x;
	if (!name || !*name)
		return fail(c, SQL_INVALID, e, "%s", "name must be a non-empty column name");
	enum sql_status s = expression(c, step, "expression", &x, e);
	if (s != SQL_OK)
		return s;
	buf_puts(b, "SELECT ");
	bool replaced = false;
	for (size_t i = 0; i < c->ncols; i++) {
		if (i)
			buf_puts(b, ", ");
		if (strcmp(c->cols[i], name) == 0) {
			buf_printf(b, "(%s) AS ", x);
			replaced = true;
		}
		ident(b, c->cols[i]);
	}
	if (!replaced) {
		buf_printf(b, "%s(%s) AS ", c->ncols ? ", " : "", x);
		ident(b, name);
	}
	buf_printf(b, " FROM (%s)", c->sql);
	return SQL_OK;
}

static enum sql_status order_by(struct compiler *c, const json_t *by, struct buf *b,
				struct error *e)
{
	if (!json_is_array(by) || json_array_size(by) == 0)
		return fail(c, SQL_INVALID, e, "%s", "by must list at least one column");
	buf_puts(b, " ORDER BY ");
	size_t i;
	const json_t *k;
	json_array_foreach(by, i, k) {
		const char *col = json_is_string(k) ? json_string_value(k) : str(k, "column");
		if (!col || !has_col(c, col)) {
			char msg[200];
			snprintf(msg, sizeof msg, "by[%zu]: no column \"%.100s\"", i, col ? col : "");
			return fail(c, SQL_INVALID, e, "%s", msg);
		}
		if (i)
			buf_puts(b, ", ");
		ident(b, col);
		bool desc = json_is_true(json_object_get(k, "descending"));
		buf_puts(b, desc ? " DESC NULLS LAST" : " ASC NULLS LAST");
	}
	buf_puts(b, ", " ROW_COLUMN);
	return SQL_OK;
}

static enum sql_status step_sort(struct compiler *c, const json_t *step, struct buf *b,
				 struct error *e)
{
	/* The row number makes ties keep their order (a stable sort). */
	buf_puts(b, "SELECT ");
	select_all(c, b, NULL);
	buf_printf(b, " FROM (SELECT *, row_number() OVER () AS " ROW_COLUMN " FROM (%s))",
		   c->sql);
	return order_by(c, json_object_get(step, "by"), b, e);
}

static enum sql_status step_deduplicate(struct compiler *c, const json_t *step, struct buf *b,
					struct error *e)
{
	const json_t *cols;
	if (!json_object_get(step, "columns")) {
		buf_printf(b, "SELECT DISTINCT * FROM (%s)", c->sql);
		return SQL_OK;
	}
	enum sql_status s = column_list(c, step, "columns", &cols, e);
	if (s != SQL_OK)
		return s;
	buf_puts(b, "SELECT ");
	select_all(c, b, NULL);
	buf_puts(b, " FROM (SELECT *, row_number() OVER (PARTITION BY ");
	ident_list(b, cols);
	buf_printf(b, " ORDER BY " ROW_COLUMN ") AS __sheaf_dup FROM (SELECT *, row_number() "
		   "OVER () AS " ROW_COLUMN " FROM (%s))) WHERE __sheaf_dup = 1 ORDER BY "
		   ROW_COLUMN, c->sql);
	return SQL_OK;
}

static const struct {
	const char *name, *sql;
} functions[] = {
	{ "sum", "sum" }, { "mean", "avg" }, { "count", "count" }, { "min", "min" },
	{ "max", "max" }, { "median", "median" }, { "std", "stddev" }, { "nunique", "count" },
};

static enum sql_status step_aggregate(struct compiler *c, const json_t *step, struct buf *b,
				      struct error *e)
{
	const json_t *by = json_object_get(step, "by");
	const json_t *aggs = json_object_get(step, "aggregations");
	if (by && !json_is_array(by))
		return fail(c, SQL_INVALID, e, "%s", "by must list columns");
	if (by && check_names(c, by, "by", e) != SQL_OK)
		return SQL_INVALID;
	if (!json_is_array(aggs) || json_array_size(aggs) == 0)
		return fail(c, SQL_INVALID, e, "%s", "aggregations must list at least one");
	buf_puts(b, "SELECT ");
	size_t i, nby = json_array_size(by);
	const json_t *k;
	ident_list(b, by);
	json_array_foreach(aggs, i, k) {
		const char *fn = str(k, "function"), *col = str(k, "column"), *as = str(k, "as");
		size_t f;
		for (f = 0; fn && f < sizeof functions / sizeof *functions; f++)
			if (strcmp(fn, functions[f].name) == 0)
				break;
		char msg[200];
		if (!fn || f == sizeof functions / sizeof *functions) {
			snprintf(msg, sizeof msg, "aggregations[%zu].function must be one of sum, "
				 "mean, count, min, max, median, std, nunique", i);
			return fail(c, SQL_INVALID, e, "%s", msg);
		}
		if (col && !has_col(c, col)) {
			snprintf(msg, sizeof msg, "aggregations[%zu].column: no column \"%.100s\"", i,
				 col);
			return fail(c, SQL_INVALID, e, "%s", msg);
		}
		if (!col && strcmp(fn, "count") != 0) {
			snprintf(msg, sizeof msg, "aggregations[%zu] needs a column (only count "
				 "counts rows)", i);
			return fail(c, SQL_INVALID, e, "%s", msg);
		}
		if (nby || i)
			buf_puts(b, ", ");
		buf_printf(b, "%s(%s", functions[f].sql, strcmp(fn, "nunique") == 0 ? "DISTINCT " : "");
		if (col)
			ident(b, col);
		else
			buf_puts(b, "*");
		buf_puts(b, ") AS ");
		char name[300];
		snprintf(name, sizeof name, "%s(%.250s)", fn, col ? col : "*");
		ident(b, as && *as ? as : name);
	}
	buf_printf(b, " FROM (%s)", c->sql);
	if (nby) {
		json_array_foreach(by, i, k) {
			buf_puts(b, i ? " AND " : " WHERE ");
			ident(b, json_string_value(k));
			buf_puts(b, " IS NOT NULL");
		}
		buf_puts(b, " GROUP BY ");
		ident_list(b, by);
		buf_puts(b, " ORDER BY ");
		ident_list(b, by);
	}
	return SQL_OK;
}

static enum sql_status step_join(struct compiler *c, const json_t *step, struct buf *b,
				 transform_open_fn open, void *arg, struct error *e)
{
	struct transform_plan *p = c->plan;
	const char *id = str(step, "dataset_id");
	if (!id)
		return fail(c, SQL_INVALID, e, "%s", "dataset_id names the dataset to join");
	if (p->natt == SQL_ATTACH_MAX)
		return fail(c, SQL_INVALID, e, "at most %s joins", "4");
	struct error oe;
	struct table *other = open(arg, id, &oe);
	if (!other)
		return fail(c, SQL_INVALID, e, "%s", oe.msg);
	snprintf(p->alias[p->natt], sizeof p->alias[0], "j%zu", p->natt + 1);
	p->att[p->natt] = (struct sql_attach){ p->alias[p->natt], other };
	p->natt++;
	const char *alias = p->alias[p->natt - 1];
	const char *how = str(step, "how");
	if (how && strcmp(how, "inner") != 0 && strcmp(how, "left") != 0)
		return fail(c, SQL_INVALID, e, "%s", "how must be inner or left");
	const json_t *on = json_object_get(step, "on");
	if (!json_is_array(on) || json_array_size(on) == 0)
		return fail(c, SQL_INVALID, e, "%s", "on must list the key columns");
	struct buf cond;
	buf_init(&cond, SQL_LIMIT);
	size_t i;
	const json_t *k;
	/* Right-hand key columns named like their left key are not repeated. */
	const char **same = xcalloc(json_array_size(on), sizeof *same);
	size_t nsame = 0;
	enum sql_status s = SQL_OK;
	json_array_foreach(on, i, k) {
		const char *l = json_is_string(k) ? json_string_value(k) : str(k, "left");
		const char *r = json_is_string(k) ? json_string_value(k) : str(k, "right");
		char msg[300];
		if (!l || !has_col(c, l)) {
			snprintf(msg, sizeof msg, "on[%zu]: no column \"%.100s\" here", i, l ? l : "");
			s = fail(c, SQL_INVALID, e, "%s", msg);
			break;
		}
		if (!r || table_find_column(other, r) < 0) {
			snprintf(msg, sizeof msg, "on[%zu]: no column \"%.100s\" in dataset %.40s", i,
				 r ? r : "", id);
			s = fail(c, SQL_INVALID, e, "%s", msg);
			break;
		}
		if (strcmp(l, r) == 0)
			same[nsame++] = r;
		buf_puts(&cond, i ? " AND l." : "l.");
		ident(&cond, l);
		buf_puts(&cond, " = r.");
		ident(&cond, r);
	}
	const json_t *want = json_object_get(step, "columns");
	size_t w;
	const json_t *wn;
	json_array_foreach(want, w, wn) {
		if (s == SQL_OK && (!json_is_string(wn) ||
				    table_find_column(other, json_string_value(wn)) < 0)) {
			char msg[300];
			snprintf(msg, sizeof msg, "columns[%zu]: no column \"%.100s\" in dataset %.40s",
				 w, json_is_string(wn) ? json_string_value(wn) : "", id);
			s = fail(c, SQL_INVALID, e, "%s", msg);
		}
	}
	if (s == SQL_OK) {
		buf_puts(b, "SELECT ");
		for (size_t ci = 0; ci < c->ncols; ci++) {
			if (ci)
				buf_puts(b, ", ");
			buf_puts(b, "l.");
			ident(b, c->cols[ci]);
		}
		for (size_t ci = 0; ci < table_ncolumns(other); ci++) {
			const char *name = table_column(other, ci)->name;
			bool skip = false;
			for (size_t j = 0; j < nsame; j++)
				skip = skip || strcmp(same[j], name) == 0;
			if (want) {
				bool listed = false;
				json_array_foreach(want, w, wn)
					listed = listed || strcmp(json_string_value(wn), name) == 0;
				skip = skip || !listed;
			}
			if (skip)
				continue;
			buf_puts(b, c->ncols || ci ? ", r." : "r.");
			ident(b, name);
			buf_puts(b, " AS ");
			char renamed[300];
			snprintf(renamed, sizeof renamed, "%.250s%s", name,
				 has_col(c, name) ? "_right" : "");
			ident(b, renamed);
		}
		buf_printf(b, " FROM (SELECT *, row_number() OVER () AS " ROW_COLUMN " FROM (%s)) "
			   "AS l %sJOIN \"%s\".data AS r ON %s ORDER BY l." ROW_COLUMN, c->sql,
			   how && strcmp(how, "left") == 0 ? "LEFT " : "", alias, cond.data);
	}
	free(same);
	buf_free(&cond);
	return s;
}

static enum sql_status compile_step(struct compiler *c, const json_t *step,
				    transform_open_fn open, void *arg, struct error *e)
{
	struct buf b;
	buf_init(&b, SQL_LIMIT);
	enum sql_status s;
	const char *op = c->op;
	if (strcmp(op, "filter") == 0)
		s = step_filter(c, step, &b, e);
	else if (strcmp(op, "select") == 0)
		s = step_select(c, step, &b, e);
	else if (strcmp(op, "rename") == 0)
		s = step_rename(c, step, &b, e);
	else if (strcmp(op, "derive") == 0)
		s = step_derive(c, step, &b, e);
	else if (strcmp(op, "sort") == 0)
		s = step_sort(c, step, &b, e);
	else if (strcmp(op, "deduplicate") == 0)
		s = step_deduplicate(c, step, &b, e);
	else if (strcmp(op, "join") == 0)
		s = step_join(c, step, &b, open, arg, e);
	else if (strcmp(op, "aggregate") == 0)
		s = step_aggregate(c, step, &b, e);
	else if (strcmp(op, "limit") == 0) {
		json_int_t n = json_integer_value(json_object_get(step, "n"));
		if (n < 1)
			s = fail(c, SQL_INVALID, e, "%s", "n must be a positive integer");
		else
			s = SQL_OK, buf_printf(&b, "SELECT * FROM (%s) LIMIT %lld", c->sql,
					       (long long)n);
	} else
		s = fail(c, SQL_INVALID, e, "%s", "op must be one of filter, select, rename, "
			 "derive, sort, deduplicate, join, aggregate, limit");
	if (s == SQL_OK)
		s = accept(c, &b, e);
	buf_free(&b);
	return s;
}

enum sql_status transform_compile(struct table *t, const json_t *steps,
				  const struct sql_limits *lim, transform_open_fn open,
				  void *arg, struct transform_plan *plan, struct error *e)
{
	memset(plan, 0, sizeof *plan);
	struct compiler c = { .t = t, .lim = lim, .plan = plan, .op = "data" };
	struct buf b;
	buf_init(&b, SQL_LIMIT);
	buf_puts(&b, "SELECT * FROM data");
	enum sql_status s = accept(&c, &b, e);
	buf_free(&b);
	if (s == SQL_OK && (!json_is_array(steps) || json_array_size(steps) == 0 ||
			    json_array_size(steps) > TRANSFORM_MAX_STEPS)) {
		error_set(e, "steps must list 1 to %d steps", TRANSFORM_MAX_STEPS);
		s = SQL_INVALID;
	}
	size_t i;
	const json_t *step;
	json_array_foreach(steps, i, step) {
		if (s != SQL_OK)
			break;
		c.step = i;
		c.op = str(step, "op");
		if (!json_is_object(step) || !c.op) {
			c.op = "?";
			s = fail(&c, SQL_INVALID, e, "%s", "a step is an object with an op");
			break;
		}
		s = compile_step(&c, step, open, arg, e);
	}
	if (s == SQL_OK) {
		plan->sql = c.sql;
		c.sql = NULL;
	}
	free(c.sql);
	free_cols(&c);
	if (s != SQL_OK)
		transform_plan_free(plan);
	return s;
}

void transform_plan_free(struct transform_plan *plan)
{
	for (size_t i = 0; i < plan->natt; i++)
		table_close((struct table *)plan->att[i].t);
	free(plan->sql);
	memset(plan, 0, sizeof *plan);
}
