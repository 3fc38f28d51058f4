/*
 * Tools about when and where: the range of a date column, counts per
 * period (year, month, weekday, hour ...), and the bounding box of
 * latitude/longitude columns.
 *
 * Dates and datetimes are stored as canonical ISO text (ingest/import.h):
 * "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SS[.fff][Z|+09:00]", so the calendar
 * fields are fixed substrings.  Periods are taken from the text as written
 * (local time when a value carries a UTC offset), which is what a person
 * reading the data means by "the hour of the accident".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "datasets/render.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

#define SQL_CAP (1u << 20)
#define DATE_KINDS ((1u << COLUMN_DATE) | (1u << COLUMN_DATETIME))
#define MAX_FILLED 5000   /* periods listed with the empty ones in between */

/* ---- date_range ---- */

static int date_range(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		      struct tool_error *err)
{
	const struct table_column *c = tool_column(ctx, args, "column", DATE_KINDS, err);
	if (!c)
		return -1;
	struct buf col, sql;
	buf_init(&col, SQL_CAP);
	buf_init(&sql, SQL_CAP);
	tool_ident(&col, c->name);
	const char *C = col.data;
	buf_printf(&sql, "SELECT min(%s), max(%s), count(%s), count(*), "
		   "count(DISTINCT substr(%s, 1, 10)), "
		   /* julianday keeps milliseconds: round the difference to them */
		   "round((julianday(max(%s)) - julianday(min(%s))) * 86400000) / 86400000.0 "
		   "FROM data", C, C, C, C, C, C);
	struct sql_query *q = tool_sql_row(ctx, sql.data, NULL, err);
	buf_free(&sql);
	buf_free(&col);
	if (!q)
		return -1;
	sqlite3_stmt *st = sql_stmt(q);
	int64_t count = sqlite3_column_int64(st, 2), rows = sqlite3_column_int64(st, 3);
	int64_t days = sqlite3_column_int64(st, 4);
	json_t *min = tool_value(q, 0, c->kind), *max = tool_value(q, 1, c->kind);
	json_t *span = json_null(), *first = json_null(), *last = json_null();
	if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
		double d = sqlite3_column_double(st, 5);
		span = c->kind == COLUMN_DATE ? json_integer((json_int_t)llround(d)) : tool_real(d);
	}
	const char *lo = (const char *)sqlite3_column_text(st, 0);
	if (lo && strlen(lo) >= 4)
		first = json_integer(strtol(lo, NULL, 10));
	const char *hi = (const char *)sqlite3_column_text(st, 1);
	if (hi && strlen(hi) >= 4)
		last = json_integer(strtol(hi, NULL, 10));
	char *summary = count
		? tool_printf("%s runs from %s to %s (%.6g days) over %lld values on %lld "
			      "distinct days; %lld missing.", c->name, json_string_value(min),
			      json_string_value(max), sqlite3_column_double(st, 5),
			      (long long)count, (long long)days, (long long)(rows - count))
		: tool_printf("%s has no values (%lld rows, all missing).", c->name,
			      (long long)rows);
	sql_close(q);
	out->result = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o}",
				"column", c->name, "type", column_kind_name(c->kind),
				"min", min, "max", max, "span_days", span,
				"count", (json_int_t)count, "nulls", (json_int_t)(rows - count),
				"distinct_days", (json_int_t)days, "first_year", first,
				"last_year", last);
	out->summary = summary;
	return 0;
}

static const struct tool date_range_tool = {
	.name = "date_range",
	.title = "Date range of a column",
	.description = "The earliest and latest value of a date or datetime column, the span "
		       "between them in days (fractional for datetimes), how many values and "
		       "missing values it has, on how many distinct calendar days, and the first "
		       "and last year. Korean: 기간, 날짜 범위, 시작일, 종료일, 데이터 기간.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["column"], "properties": {
			"column": {"type": "string", "minLength": 1,
				   "description": "A date or datetime column"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "type", "min", "max", "span_days", "count", "nulls",
			     "distinct_days", "first_year", "last_year"],
		"properties": {
			"column": {"type": "string"},
			"type": {"enum": ["date", "datetime"]},
			"min": {"type": ["string", "null"]},
			"max": {"type": ["string", "null"]},
			"span_days": {"type": ["number", "null"], "minimum": 0,
				      "description": "max - min in days"},
			"count": {"type": "integer", "minimum": 0},
			"nulls": {"type": "integer", "minimum": 0},
			"distinct_days": {"type": "integer", "minimum": 0},
			"first_year": {"type": ["integer", "null"]},
			"last_year": {"type": ["integer", "null"]}}}),
	.read_only = true,
	.run = date_range,
};

/* ---- temporal_pattern ---- */

enum period { BY_YEAR, BY_MONTH, BY_WEEKDAY, BY_HOUR, BY_DAY_OF_MONTH, BY_YEAR_MONTH };

static const char *const period_names[] = {
	"year", "month", "weekday", "hour", "day_of_month", "year_month",
};

static const char *const month_names[] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};
static const char *const weekday_names[] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};
static const char *const weekday_ko[] = {
	"월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일",
};

/* The period of the ISO text in column C, as an integer key, into sql.
 * Weekdays: 0 = Monday (SQLite's %w has 0 = Sunday).  Year-months:
 * year * 12 + month - 1. */
static void period_key(struct buf *sql, enum period by, const char *C)
{
	switch (by) {
	case BY_YEAR: buf_printf(sql, "CAST(substr(%s, 1, 4) AS INTEGER)", C); break;
	case BY_MONTH: buf_printf(sql, "CAST(substr(%s, 6, 2) AS INTEGER)", C); break;
	case BY_DAY_OF_MONTH: buf_printf(sql, "CAST(substr(%s, 9, 2) AS INTEGER)", C); break;
	case BY_HOUR: buf_printf(sql, "CAST(substr(%s, 12, 2) AS INTEGER)", C); break;
	case BY_WEEKDAY:
		buf_printf(sql, "(CAST(strftime('%%w', substr(%s, 1, 10)) AS INTEGER) + 6) %% 7", C);
		break;
	case BY_YEAR_MONTH:
		buf_printf(sql, "CAST(substr(%s, 1, 4) AS INTEGER) * 12 + "
			   "CAST(substr(%s, 6, 2) AS INTEGER) - 1", C, C);
		break;
	}
}

/* The fixed range of keys a period has, or false (years: the data's). */
static bool fixed_range(enum period by, int64_t *lo, int64_t *hi)
{
	switch (by) {
	case BY_MONTH: *lo = 1; *hi = 12; return true;
	case BY_WEEKDAY: *lo = 0; *hi = 6; return true;
	case BY_HOUR: *lo = 0; *hi = 23; return true;
	case BY_DAY_OF_MONTH: *lo = 1; *hi = 31; return true;
	default: return false;
	}
}

/* [period, label, label_ko] of key k. */
static void period_labels(enum period by, int64_t k, json_t **period, char **label,
			  char **label_ko)
{
	switch (by) {
	case BY_YEAR:
		*period = json_integer(k);
		*label = tool_printf("%lld", (long long)k);
		*label_ko = tool_printf("%lld년", (long long)k);
		break;
	case BY_MONTH:
		*period = json_integer(k);
		*label = xstrdup(month_names[k - 1]);
		*label_ko = tool_printf("%lld월", (long long)k);
		break;
	case BY_WEEKDAY:
		*period = json_integer(k);
		*label = xstrdup(weekday_names[k]);
		*label_ko = xstrdup(weekday_ko[k]);
		break;
	case BY_HOUR:
		*period = json_integer(k);
		*label = tool_printf("%02lld:00", (long long)k);
		*label_ko = tool_printf("%lld시", (long long)k);
		break;
	case BY_DAY_OF_MONTH:
		*period = json_integer(k);
		*label = tool_printf("%lld", (long long)k);
		*label_ko = tool_printf("%lld일", (long long)k);
		break;
	case BY_YEAR_MONTH: {
		long long y = (long long)(k / 12), m = (long long)(k % 12 + 1);
		*label = tool_printf("%04lld-%02lld", y, m);
		*period = json_string(*label);
		*label_ko = tool_printf("%lld년 %lld월", y, m);
		break;
	}
	}
}

enum agg { AGG_NONE, AGG_SUM, AGG_MEAN, AGG_COUNT };

struct bucket {
	int64_t key, count;
	json_t *value;       /* NULL without a value column */
};

/* The aggregate of a period with no rows, as pandas' groupby gives it. */
static json_t *empty_value(enum agg agg, const struct table_column *v)
{
	if (agg == AGG_MEAN)
		return json_null();
	if (agg == AGG_SUM && v->kind == COLUMN_REAL)
		return json_real(0);
	return json_integer(0);
}

static int temporal_pattern(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			    struct tool_error *err)
{
	const struct table_column *c = tool_column(ctx, args, "column", DATE_KINDS, err);
	if (!c)
		return -1;
	const char *byname = json_string_value(json_object_get(args, "by"));
	enum period by = BY_MONTH;
	for (size_t i = 0; byname && i < sizeof period_names / sizeof *period_names; i++)
		if (strcmp(byname, period_names[i]) == 0)
			by = (enum period)i;
	if (by == BY_HOUR && c->kind == COLUMN_DATE)
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.by: \"hour\" needs a datetime "
				 "column; \"%.100s\" is a date column (no time of day)", c->name);
	const char *aggname = json_string_value(json_object_get(args, "agg"));
	const struct table_column *v = NULL;
	enum agg agg = AGG_NONE;
	if (json_object_get(args, "value_column")) {
		agg = !aggname || strcmp(aggname, "sum") == 0 ? AGG_SUM
		    : strcmp(aggname, "mean") == 0 ? AGG_MEAN : AGG_COUNT;
		v = tool_column(ctx, args, "value_column",
				agg == AGG_COUNT ? TOOL_KINDS_ANY : TOOL_KINDS_NUMERIC, err);
		if (!v)
			return -1;
	} else if (aggname) {
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.agg: needs args.value_column (the "
				 "column to aggregate); without it each period counts rows");
	}

	struct buf col, sql;
	buf_init(&col, SQL_CAP);
	buf_init(&sql, SQL_CAP);
	tool_ident(&col, c->name);
	buf_puts(&sql, "SELECT k, count(*)");
	if (v) {
		static const char *const fn[] = { "", "sum", "avg", "count" };
		buf_printf(&sql, ", %s(v)", fn[agg]);
	}
	buf_puts(&sql, " FROM (SELECT ");
	period_key(&sql, by, col.data);
	buf_puts(&sql, " AS k");
	if (v) {
		buf_puts(&sql, ", ");
		tool_ident(&sql, v->name);
		buf_puts(&sql, " AS v");
	}
	buf_printf(&sql, " FROM data WHERE %s IS NOT NULL) WHERE k IS NOT NULL GROUP BY k "
		   "ORDER BY k", col.data);
	buf_free(&col);
	struct sql_query *q = tool_sql(ctx, sql.data, NULL, err);
	buf_free(&sql);
	if (!q)
		return -1;

	struct bucket *b = NULL;
	size_t n = 0, cap = 0;
	int64_t total = 0;
	int rc;
	while ((rc = sql_step(q)) == SQLITE_ROW) {
		sqlite3_stmt *st = sql_stmt(q);
		int64_t key = sqlite3_column_int64(st, 0);
		int64_t lo, hi;
		if (fixed_range(by, &lo, &hi) ? key < lo || key > hi
					      : key < 0 || key > 10000 * 12)
			continue;   /* not a calendar value: cannot happen with ISO text */
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			b = xrealloc(b, cap * sizeof *b);
		}
		b[n].key = key;
		b[n].count = sqlite3_column_int64(st, 1);
		b[n].value = NULL;
		if (v)
			b[n].value = sqlite3_column_type(st, 2) == SQLITE_NULL && agg == AGG_SUM
				? empty_value(agg, v) : tool_value(q, 2, RENDER_ANY);
		total += b[n].count;
		n++;
	}
	if (rc != SQLITE_DONE) {
		tool_sql_failed(q, err);
		sql_close(q);
		for (size_t i = 0; i < n; i++)
			json_decref(b[i].value);
		free(b);
		return -1;
	}
	sql_close(q);

	/* Every period in the range, the empty ones too, unless the range is
	 * absurdly long (a stray year 1000): then only those with rows. */
	int64_t lo = 0, hi = -1;
	if (!fixed_range(by, &lo, &hi) && n) {
		lo = b[0].key;
		hi = b[n - 1].key;
	}
	bool filled = hi - lo + 1 <= MAX_FILLED;
	json_t *rows = json_array();
	json_t *peak = json_null();
	double best = -INFINITY;
	bool have_best = false;
	size_t j = 0;
	for (int64_t k = lo; filled ? k <= hi : j < n; k++) {
		if (!filled)
			k = b[j].key;
		int64_t count = 0;
		json_t *value = v ? empty_value(agg, v) : NULL;
		if (j < n && b[j].key == k) {
			count = b[j].count;
			if (v) {
				json_decref(value);
				value = json_incref(b[j].value);
			}
			j++;
		}
		json_t *period = NULL;
		char *label = NULL, *label_ko = NULL;
		period_labels(by, k, &period, &label, &label_ko);
		double pct = total ? 100.0 * (double)count / (double)total : 0;
		json_t *row = json_pack("[o, s, s, I, o]", period, label, label_ko,
					(json_int_t)count, tool_real(pct));
		if (v)
			json_array_append(row, value);
		/* The peak: the largest count, or value; the first of ties. */
		double measure = v ? (json_is_number(value) ? json_number_value(value) : NAN)
				   : (double)count;
		if (total && !isnan(measure) && (!have_best || measure > best)) {
			have_best = true;
			best = measure;
			json_decref(peak);
			peak = json_pack("{s:O, s:s, s:s, s:I, s:o}", "period", period, "label",
					 label, "label_ko", label_ko, "count", (json_int_t)count,
					 "percent", tool_real(pct));
			if (v)
				json_object_set(peak, "value", value);
		}
		json_decref(value);
		json_array_append_new(rows, row);
		free(label);
		free(label_ko);
	}
	for (size_t i = 0; i < n; i++)
		json_decref(b[i].value);
	free(b);

	static const char *const names[] = {
		"period", "label", "label_ko", "count", "percent", "value",
	};
	int64_t nulls = table_nrows(ctx->t) - total;
	static const char *const agg_names[] = { NULL, "sum", "mean", "count" };
	char *summary;
	json_t *pk = json_object_get(peak, "label");
	if (!json_is_object(peak))
		summary = tool_printf("%s has no values to count by %s.", c->name,
				      period_names[by]);
	else if (v)
		summary = tool_printf("By %s of %s, the %s of %s peaks in %s.", period_names[by],
				      c->name, agg_names[agg], v->name, json_string_value(pk));
	else
		summary = tool_printf("By %s of %s, most rows fall in %s (%lld, %.1f%% of %lld).",
				      period_names[by], c->name, json_string_value(pk),
				      (long long)json_integer_value(json_object_get(peak, "count")),
				      json_number_value(json_object_get(peak, "percent")),
				      (long long)total);
	out->result = json_pack("{s:s, s:s, s:s?, s:s?, s:I, s:I, s:b, s:o, s:o}",
				"column", c->name, "by", period_names[by],
				"value_column", v ? v->name : NULL, "agg", agg_names[agg],
				"total", (json_int_t)total, "nulls", (json_int_t)nulls,
				"filled", filled, "periods", tool_table(names, v ? 6 : 5, rows),
				"peak", peak);
	out->summary = summary;
	return 0;
}

static const struct tool temporal_pattern_tool = {
	.name = "temporal_pattern",
	.title = "Counts by period (year, month, weekday, hour)",
	.description = "How rows spread over time: the count and percent of rows per year, "
		       "month (1-12), weekday (0 = Monday ... 6 = Sunday, with English and Korean "
		       "names 월요일...일요일), hour of day (0-23, datetime columns only), day of "
		       "month (1-31) or year-month (\"YYYY-MM\"), every period in the range listed "
		       "even when empty, and the peak period. With value_column and agg (sum, "
		       "mean or count), each period also aggregates that column and the peak "
		       "follows it. Periods are read from the values as written (local time). "
		       "Korean: 시간대별, 요일별, 월별, 연도별, 시간 패턴, 추세.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["column"], "properties": {
			"column": {"type": "string", "minLength": 1,
				   "description": "A date or datetime column"},
			"by": {"enum": ["year", "month", "weekday", "hour", "day_of_month",
					"year_month"], "default": "month"},
			"value_column": {"type": "string", "minLength": 1,
					 "description": "A column to aggregate per period"},
			"agg": {"enum": ["sum", "mean", "count"], "default": "sum",
				"description": "How value_column is aggregated"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "by", "total", "nulls", "filled", "periods", "peak"],
		"properties": {
			"column": {"type": "string"},
			"by": {"type": "string"},
			"value_column": {"type": ["string", "null"]},
			"agg": {"enum": ["sum", "mean", "count", null]},
			"total": {"type": "integer", "minimum": 0,
				  "description": "Rows with a value in column"},
			"nulls": {"type": "integer", "minimum": 0},
			"filled": {"type": "boolean",
				   "description": "Empty periods between the first and last are listed"},
			"periods": {"type": "object", "required": ["columns", "rows"],
				"description": "A table: period, label, label_ko, count, percent (of total), and value with value_column",
				"properties": {
					"columns": {"type": "array", "items": {"type": "string"}},
					"rows": {"type": "array", "items": {"type": "array",
						"minItems": 5, "maxItems": 6}}}},
			"peak": {"type": ["object", "null"],
				"required": ["period", "label", "label_ko", "count", "percent"],
				"properties": {
					"period": {"type": ["integer", "string"]},
					"label": {"type": "string"}, "label_ko": {"type": "string"},
					"count": {"type": "integer"}, "percent": {"type": "number"},
					"value": {"type": ["number", "null"]}}}}}),
	.read_only = true,
	.run = temporal_pattern,
};

/* ---- geo_bounds ---- */

/* args[field] or the first column with the role; NULL with err set. */
static const struct table_column *geo_column(struct tool_ctx *ctx, const json_t *args,
					     const char *field, enum column_role role,
					     const char *word, struct tool_error *err)
{
	const struct table_column *c = NULL;
	if (json_object_get(args, field)) {
		c = tool_column(ctx, args, field, TOOL_KINDS_ANY, err);
		if (!c)
			return NULL;
		if (c->kind != COLUMN_INT && c->kind != COLUMN_REAL) {
			tool_fail(err, TOOL_ERR_ARGUMENT, "args.%s: \"%.100s\" is a %s column; %s "
				  "needs a number column", field, c->name, column_kind_name(c->kind),
				  word);
			return NULL;
		}
		return c;
	}
	for (size_t i = 0; i < table_ncolumns(ctx->t); i++)
		if (table_column(ctx->t, i)->role == role)
			return table_column(ctx->t, i);
	tool_fail(err, TOOL_ERR_ARGUMENT, "args.%s: this dataset has no %s column (none is named "
		  "like %s with values in range); name the column with args.%s", field, word,
		  role == COLUMN_ROLE_LATITUDE ? "lat, latitude or 위도" : "lng, lon, longitude or 경도",
		  field);
	return NULL;
}

static int geo_bounds(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		      struct tool_error *err)
{
	const struct table_column *la = geo_column(ctx, args, "lat", COLUMN_ROLE_LATITUDE,
						   "latitude", err);
	if (!la)
		return -1;
	const struct table_column *lo = geo_column(ctx, args, "lng", COLUMN_ROLE_LONGITUDE,
						   "longitude", err);
	if (!lo)
		return -1;
	struct buf sql;
	buf_init(&sql, SQL_CAP);
	buf_puts(&sql, "SELECT count(*), count(*) FILTER (WHERE ok), min(a) FILTER (WHERE ok), "
		 "max(a) FILTER (WHERE ok), min(b) FILTER (WHERE ok), max(b) FILTER (WHERE ok), "
		 "avg(a) FILTER (WHERE ok), avg(b) FILTER (WHERE ok) FROM (SELECT a, b, "
		 "abs(a) <= 90 AND abs(b) <= 180 AS ok FROM (SELECT ");
	tool_ident(&sql, la->name);
	buf_puts(&sql, " AS a, ");
	tool_ident(&sql, lo->name);
	buf_puts(&sql, " AS b FROM data) WHERE a IS NOT NULL AND b IS NOT NULL)");
	struct sql_query *q = tool_sql_row(ctx, sql.data, NULL, err);
	buf_free(&sql);
	if (!q)
		return -1;
	sqlite3_stmt *st = sql_stmt(q);
	int64_t both = sqlite3_column_int64(st, 0), count = sqlite3_column_int64(st, 1);
	double v[6];
	for (int i = 0; i < 6; i++)
		v[i] = sqlite3_column_type(st, i + 2) == SQLITE_NULL ? NAN
		       : sqlite3_column_double(st, i + 2);
	sql_close(q);
	int64_t rows = table_nrows(ctx->t);
	json_t *box = json_null(), *center = json_null();
	if (count) {
		box = json_pack("[[o, o], [o, o]]", tool_real(v[0]), tool_real(v[2]),
				tool_real(v[1]), tool_real(v[3]));
		center = json_pack("[o, o]", tool_real(v[4]), tool_real(v[5]));
	}
	out->result = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
				 "lat_column", la->name, "lng_column", lo->name,
				 "count", (json_int_t)count, "missing", (json_int_t)(rows - both),
				 "out_of_range", (json_int_t)(both - count), "rows", (json_int_t)rows,
				 "min_lat", tool_real(v[0]), "max_lat", tool_real(v[1]),
				 "min_lng", tool_real(v[2]), "max_lng", tool_real(v[3]),
				 "center", center, "bbox", box);
	out->summary = count
		? tool_printf("%lld points between latitude %.6f..%.6f and longitude %.6f..%.6f, "
			      "centred at (%.6f, %.6f); %lld missing, %lld out of range.",
			      (long long)count, v[0], v[1], v[2], v[3], v[4], v[5],
			      (long long)(rows - both), (long long)(both - count))
		: tool_printf("No row has both a valid %s and %s.", la->name, lo->name);
	return 0;
}

static const struct tool geo_bounds_tool = {
	.name = "geo_bounds",
	.title = "Geographic bounds of latitude/longitude",
	.description = "The bounding box, extent and centre (mean) of the points given by a "
		       "latitude and a longitude column: min/max latitude and longitude, the box "
		       "as [[min_lat, min_lng], [max_lat, max_lng]], and how many rows have both "
		       "values. Rows missing either are counted as missing; values outside "
		       "|lat| <= 90, |lng| <= 180 are counted as out of range and left out. By "
		       "default the columns detected as latitude and longitude are used. "
		       "Korean: 위치, 위도, 경도, 좌표 범위, 지도 영역, 중심점.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"lat": {"type": "string", "minLength": 1,
			"description": "Latitude column (default: the one detected as latitude)"},
		"lng": {"type": "string", "minLength": 1,
			"description": "Longitude column (default: the one detected as longitude)"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["lat_column", "lng_column", "count", "missing", "out_of_range", "rows",
			     "min_lat", "max_lat", "min_lng", "max_lng", "center", "bbox"],
		"properties": {
			"lat_column": {"type": "string"}, "lng_column": {"type": "string"},
			"count": {"type": "integer", "minimum": 0,
				  "description": "Rows with both values, in range"},
			"missing": {"type": "integer", "minimum": 0},
			"out_of_range": {"type": "integer", "minimum": 0},
			"rows": {"type": "integer", "minimum": 0},
			"min_lat": {"type": ["number", "null"]}, "max_lat": {"type": ["number", "null"]},
			"min_lng": {"type": ["number", "null"]}, "max_lng": {"type": ["number", "null"]},
			"center": {"anyOf": [{"type": "null"}, {"type": "array", "minItems": 2,
				"maxItems": 2, "items": {"type": "number"}}],
				"description": "[mean latitude, mean longitude]"},
			"bbox": {"anyOf": [{"type": "null"}, {"type": "array", "minItems": 2,
				"maxItems": 2, "items": {"type": "array", "minItems": 2, "maxItems": 2,
				"items": {"type": "number"}}}],
				"description": "[[min_lat, min_lng], [max_lat, max_lng]]"}}}),
	.read_only = true,
	.run = geo_bounds,
};

const struct tool *const tools_time[] = {
	&date_range_tool,
	&temporal_pattern_tool,
	&geo_bounds_tool,
	NULL,
};
