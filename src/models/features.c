/*
 * Features; see features.h.  Categories are looked up by binary search over
 * their sorted names; a date column's dictionary strings are parsed once
 * each, not once per row.
 */
#include "models/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "ingest/value.h"

#define DATE_PARTS 4      /* year, month, day, weekday */

static const char *const date_part_names[] = { "year", "month", "day", "weekday", "hour" };

size_t feature_width(const struct feature *f)
{
	switch (f->enc) {
	case FEATURE_DATE:
		return DATE_PARTS + (f->kind == COLUMN_DATETIME);
	default:
		return 1;
	}
}

static enum feature_encoding encoding_of(enum column_kind k)
{
	switch (k) {
	case COLUMN_INT:
	case COLUMN_REAL:
	case COLUMN_BOOL:
		return FEATURE_NUMBER;
	case COLUMN_DATE:
	case COLUMN_DATETIME:
		return FEATURE_DATE;
	case COLUMN_TIME:
		return FEATURE_TIME;
	default:
		return FEATURE_CATEGORY;
	}
}

/* Monday 0 .. Sunday 6 (1970-01-01 was a Thursday). */
static int weekday(int y, int m, int d)
{
	int64_t days = value_days_from_civil(y, m, d);
	return (int)(((days % 7) + 7 + 3) % 7);
}

/* The parts of a date or datetime text into out (width floats); NaN when
 * it does not parse. */
static void date_parts(const struct feature *f, const char *s, size_t len, float *out)
{
	struct value_datetime v;
	size_t w = feature_width(f);
	bool ok = f->kind == COLUMN_DATETIME
		  ? value_parse_datetime(s, len, &v) || value_parse_date(s, len, &v)
		  : value_parse_date(s, len, &v);
	if (!ok) {
		for (size_t i = 0; i < w; i++)
			out[i] = NAN;
		return;
	}
	out[0] = (float)v.year;
	out[1] = (float)v.month;
	out[2] = (float)v.day;
	out[3] = (float)weekday(v.year, v.month, v.day);
	if (w > DATE_PARTS)
		out[4] = (float)v.hour;
}

static float time_hour(const char *s, size_t len)
{
	struct value_datetime v;
	return value_parse_time(s, len, &v) ? (float)v.hour : NAN;
}

/* ---- categories ---- */

struct cat_stat {
	uint32_t code;          /* dictionary code in the frame */
	double sum;
	size_t n;
	const char *name;
};

static int by_mean_then_name(const void *pa, const void *pb)
{
	const struct cat_stat *a = pa, *b = pb;
	double ma = a->sum / (double)a->n, mb = b->sum / (double)b->n;
	if (ma != mb)
		return ma < mb ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int by_name(const void *pa, const void *pb, void *arg)
{
	const struct feature *f = arg;
	return strcmp(f->sorted[*(const size_t *)pa], f->sorted[*(const size_t *)pb]);
}

/* The sorted lookup table of f's categories. */
static void index_categories(struct feature *f)
{
	size_t n = f->ncategories;
	size_t *order = xmalloc((n ? n : 1) * sizeof *order);
	f->sorted = xmalloc((n ? n : 1) * sizeof *f->sorted);
	f->sorted_code = xmalloc((n ? n : 1) * sizeof *f->sorted_code);
	for (size_t i = 0; i < n; i++) {
		order[i] = i;
		f->sorted[i] = f->categories[i];
	}
	qsort_r(order, n, sizeof *order, by_name, f);
	char **names = xmalloc((n ? n : 1) * sizeof *names);
	for (size_t i = 0; i < n; i++) {
		names[i] = f->categories[order[i]];
		f->sorted_code[i] = (float)order[i];
	}
	free(f->sorted);
	f->sorted = names;
	free(order);
}

static float category_code(const struct feature *f, const char *s)
{
	size_t lo = 0, hi = f->ncategories;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(f->sorted[mid], s);
		if (d == 0)
			return f->sorted_code[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NAN;
}

static void fit_categories(struct feature *f, const struct frame_column *c, const float *y,
			   const size_t *rows, size_t nrows)
{
	struct cat_stat *st = xcalloc(c->ndict ? c->ndict : 1, sizeof *st);
	for (size_t i = 0; i < nrows; i++) {
		uint32_t code = c->code[rows[i]];
		if (code == FRAME_NULL || isnan(y[rows[i]]))
			continue;
		st[code].sum += y[rows[i]];
		st[code].n++;
	}
	size_t m = 0;
	for (size_t k = 0; k < c->ndict; k++)
		if (st[k].n)
			st[m++] = (struct cat_stat){ (uint32_t)k, st[k].sum, st[k].n, c->dict[k] };
	qsort(st, m, sizeof *st, by_mean_then_name);
	f->categories = xmalloc((m ? m : 1) * sizeof *f->categories);
	for (size_t k = 0; k < m; k++)
		f->categories[k] = xstrdup(st[k].name);
	f->ncategories = m;
	free(st);
	index_categories(f);
}

int features_fit(struct feature_set *fs, const struct frame_column *const *cols, size_t n,
		 const float *y, const size_t *rows, size_t nrows, struct error *e)
{
	memset(fs, 0, sizeof *fs);
	fs->f = xcalloc(n ? n : 1, sizeof *fs->f);
	for (size_t i = 0; i < n; i++) {
		const struct frame_column *c = cols[i];
		struct feature *f = &fs->f[fs->n++];
		f->name = xstrdup(c->name);
		f->kind = c->kind;
		f->enc = encoding_of(c->kind);
		if (f->enc != FEATURE_NUMBER && (!c->code || c->dict_full)) {
			error_set(e, "column %s has too many distinct values to use as a feature",
				  c->name);
			features_free(fs);
			return -1;
		}
		if (f->enc == FEATURE_CATEGORY)
			fit_categories(f, c, y, rows, nrows);
		fs->width += feature_width(f);
	}
	return 0;
}

void features_matrix(const struct feature_set *fs, const struct frame_column *const *cols,
		     const size_t *rows, size_t nrows, float *out)
{
	size_t at = 0;
	for (size_t i = 0; i < fs->n; i++) {
		const struct feature *f = &fs->f[i];
		const struct frame_column *c = cols[i];
		size_t w = feature_width(f);
		/* Per dictionary entry once: a code's value (or parts). */
		float *by_code = NULL;
		if (f->enc != FEATURE_NUMBER) {
			by_code = xmalloc((c->ndict * w + 1) * sizeof *by_code);
			for (size_t k = 0; k < c->ndict; k++) {
				float *v = by_code + k * w;
				if (f->enc == FEATURE_CATEGORY)
					v[0] = category_code(f, c->dict[k]);
				else if (f->enc == FEATURE_DATE)
					date_parts(f, c->dict[k], c->dict_len[k], v);
				else
					v[0] = time_hour(c->dict[k], c->dict_len[k]);
			}
		}
		for (size_t r = 0; r < nrows; r++) {
			size_t row = rows[r];
			float *dst = out + r * fs->width + at;
			if (f->enc == FEATURE_NUMBER) {
				dst[0] = c->valid[row] ? (float)c->num[row] : NAN;
				continue;
			}
			uint32_t code = c->code[row];
			for (size_t k = 0; k < w; k++)
				dst[k] = code == FRAME_NULL ? NAN : by_code[code * w + k];
		}
		free(by_code);
		at += w;
	}
}

int features_row_json(const struct feature_set *fs, const json_t *obj, float *out,
		      struct error *e)
{
	size_t at = 0;
	for (size_t i = 0; i < fs->n; i++) {
		const struct feature *f = &fs->f[i];
		size_t w = feature_width(f);
		const json_t *v = json_object_get(obj, f->name);
		float *dst = out + at;
		at += w;
		for (size_t k = 0; k < w; k++)
			dst[k] = NAN;
		if (!v || json_is_null(v))
			continue;
		switch (f->enc) {
		case FEATURE_NUMBER: {
			double x;
			bool pct, truth;
			if (json_is_number(v))
				dst[0] = (float)json_number_value(v);
			else if (json_is_boolean(v))
				dst[0] = json_is_true(v);
			else if (f->kind == COLUMN_BOOL && json_is_string(v) &&
				 value_parse_bool(json_string_value(v), json_string_length(v), &truth))
				dst[0] = truth;   /* the column's own words: true, 예, Y... */
			else if (json_is_string(v) &&
				 value_parse_real(json_string_value(v), json_string_length(v), &x, &pct))
				dst[0] = (float)x;
			else
				return error_set(e, "%s: a number is needed", f->name);
			break;
		}
		case FEATURE_CATEGORY:
			if (!json_is_string(v))
				return error_set(e, "%s: a text value is needed", f->name);
			/* A NUL inside is no category (the name would stop there). */
			dst[0] = strlen(json_string_value(v)) == json_string_length(v)
				 ? category_code(f, json_string_value(v)) : NAN;
			break;
		case FEATURE_DATE:
			if (!json_is_string(v))
				return error_set(e, "%s: a date text is needed", f->name);
			date_parts(f, json_string_value(v), json_string_length(v), dst);
			if (isnan(dst[0]))
				return error_set(e, "%s: \"%.40s\" is not a date", f->name,
						 json_string_value(v));
			break;
		case FEATURE_TIME:
			if (!json_is_string(v) ||
			    isnan(dst[0] = time_hour(json_string_value(v), json_string_length(v))))
				return error_set(e, "%s: a time of day is needed", f->name);
			break;
		}
	}
	return 0;
}

const char *features_column_name(const struct feature_set *fs, size_t i, char *buf, size_t cap)
{
	for (size_t k = 0; k < fs->n; k++) {
		const struct feature *f = &fs->f[k];
		size_t w = feature_width(f);
		if (i >= w) {
			i -= w;
			continue;
		}
		if (f->enc == FEATURE_DATE)
			snprintf(buf, cap, "%s.%s", f->name,
				 date_part_names[i < DATE_PARTS ? i : DATE_PARTS]);
		else if (f->enc == FEATURE_TIME)
			snprintf(buf, cap, "%s.hour", f->name);
		else
			snprintf(buf, cap, "%s", f->name);
		return buf;
	}
	snprintf(buf, cap, "?");
	return buf;
}

static const char *const encoding_names[] = { "number", "category", "date", "time" };

json_t *features_json(const struct feature_set *fs)
{
	json_t *list = json_array();
	for (size_t i = 0; i < fs->n; i++) {
		const struct feature *f = &fs->f[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "name", f->name, "type",
				      column_kind_name(f->kind), "encoding", encoding_names[f->enc]);
		if (f->enc == FEATURE_CATEGORY) {
			json_t *cats = json_array();
			for (size_t k = 0; k < f->ncategories; k++)
				json_array_append_new(cats, json_string(f->categories[k]));
			json_object_set_new(o, "categories", cats);
		}
		json_array_append_new(list, o);
	}
	return list;
}

static bool kind_named(const char *s, enum column_kind *out)
{
	static const enum column_kind kinds[] = {
		COLUMN_TEXT, COLUMN_BOOL, COLUMN_INT, COLUMN_REAL, COLUMN_DATE, COLUMN_DATETIME,
		COLUMN_TIME,
	};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (s && strcmp(s, column_kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return true;
		}
	return false;
}

int features_from_json(struct feature_set *fs, const json_t *j, struct error *e)
{
	memset(fs, 0, sizeof *fs);
	if (!json_is_array(j))
		return error_set(e, "features: not a list");
	fs->f = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof *fs->f);
	size_t i;
	const json_t *o;
	json_array_foreach(j, i, o) {
		struct feature *f = &fs->f[fs->n++];
		const char *name = json_string_value(json_object_get(o, "name"));
		f->name = xstrdup(name ? name : "");
		if (!name || !kind_named(json_string_value(json_object_get(o, "type")), &f->kind)) {
			features_free(fs);
			return error_set(e, "features[%zu]: a name and a column type are needed", i);
		}
		f->enc = encoding_of(f->kind);
		if (f->enc == FEATURE_CATEGORY) {
			const json_t *cats = json_object_get(o, "categories");
			f->categories = xmalloc((json_array_size(cats) + 1) * sizeof *f->categories);
			size_t k;
			const json_t *c;
			json_array_foreach(cats, k, c)
				f->categories[f->ncategories++] = xstrdup(json_string_value(c) ?
									  json_string_value(c) : "");
			index_categories(f);
		}
		fs->width += feature_width(f);
	}
	return 0;
}

void features_free(struct feature_set *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct feature *f = &fs->f[i];
		free(f->name);
		for (size_t k = 0; k < f->ncategories; k++)
			free(f->categories[k]);
		free(f->categories);
		free(f->sorted);
		free(f->sorted_code);
	}
	free(fs->f);
	memset(fs, 0, sizeof *fs);
}
