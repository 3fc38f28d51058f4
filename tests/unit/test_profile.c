/*
 * Column profiles (ingest/profile.h).  Expected numbers marked "pandas"
 * were computed with /usr/bin/python3 (pandas 1.5.3, numpy 1.24.2):
 * Series.mean(), Series.std() (ddof 1), Series.quantile([.25, .5, .75])
 * (numpy's 'linear' interpolation) and np.histogram(values, bins=edges).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ingest/profile.h"
#include "ingest/value.h"

#define S(lit) lit, strlen(lit)

static struct profile *new_kind(enum column_kind kind)
{
	struct profile_options o = { .kind = kind };
	return profile_new(&o);
}

static json_t *get(json_t *o, const char *path)
{
	/* "a.b" or "a.2" */
	char buf[64];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *cur = o;
	for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, ".")) {
		if (json_is_array(cur))
			cur = json_array_get(cur, (size_t)atoi(tok));
		else
			cur = json_object_get(cur, tok);
	}
	return cur;
}

static int64_t geti(json_t *o, const char *path)
{
	json_t *v = get(o, path);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", path);
	return json_integer_value(v);
}

static double getr(json_t *o, const char *path)
{
	json_t *v = get(o, path);
	if (!json_is_number(v))
		fail_msg("%s is not a number", path);
	return json_number_value(v);
}

static const char *gets_(json_t *o, const char *path)
{
	json_t *v = get(o, path);
	if (!json_is_string(v))
		fail_msg("%s is not a string", path);
	return json_string_value(v);
}

static bool getb(json_t *o, const char *path)
{
	json_t *v = get(o, path);
	if (!json_is_boolean(v))
		fail_msg("%s is not a boolean", path);
	return json_is_true(v);
}

static void assert_near(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

static void assert_int_array(json_t *a, const int64_t *want, size_t n)
{
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), n);
	for (size_t i = 0; i < n; i++) {
		assert_true(json_is_integer(json_array_get(a, i)));
		assert_int_equal(json_integer_value(json_array_get(a, i)), want[i]);
	}
}

static void test_int_small(void **state)
{
	(void)state;
	struct profile_options o = { .kind = COLUMN_INT, .have_range = true, .min = 1, .max = 9,
				     .bins = 4 };
	struct profile *p = profile_new(&o);
	static const int64_t v[] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5 };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		profile_add_int(p, v[i]);
		if (i == 3 || i == 7)
			profile_add_null(p);
	}
	json_t *j = profile_json(p);
	assert_int_equal(geti(j, "count"), 11);
	assert_int_equal(geti(j, "nulls"), 2);
	assert_int_equal(geti(j, "distinct"), 7);
	assert_true(getb(j, "distinct_exact"));
	assert_int_equal(geti(j, "min"), 1);
	assert_int_equal(geti(j, "max"), 9);
	/* pandas: mean 4.0, std 2.3664319132398464, quantiles [2.5, 4.0, 5.0] */
	assert_near(getr(j, "mean"), 4.0, 1e-12);
	assert_near(getr(j, "std"), 2.3664319132398464, 1e-12);
	assert_true(json_is_real(get(j, "quantiles.p25")));
	assert_near(getr(j, "quantiles.p25"), 2.5, 0);
	assert_int_equal(geti(j, "quantiles.p50"), 4);   /* exact ranks stay integers */
	assert_int_equal(geti(j, "quantiles.p75"), 5);
	assert_true(getb(j, "quantiles_exact"));
	/* top: 5 three times, then 1 and 3 twice (ties by value), then singles */
	assert_int_equal(json_array_size(get(j, "top")), 7);
	assert_int_equal(geti(j, "top.0.value"), 5);
	assert_int_equal(geti(j, "top.0.count"), 3);
	assert_int_equal(geti(j, "top.1.value"), 1);
	assert_int_equal(geti(j, "top.2.value"), 3);
	assert_int_equal(geti(j, "top.2.count"), 2);
	assert_int_equal(geti(j, "top.3.value"), 2);
	assert_int_equal(geti(j, "top.6.value"), 9);
	assert_true(getb(j, "top_exact"));
	/* pandas: np.histogram(v, bins=np.linspace(1, 9, 5)) -> [3, 3, 4, 1] */
	static const int64_t counts[] = { 3, 3, 4, 1 };
	assert_int_array(get(j, "histogram.counts"), counts, 4);
	assert_int_equal(json_array_size(get(j, "histogram.edges")), 5);
	assert_near(getr(j, "histogram.edges.1"), 3, 0);
	assert_near(getr(j, "histogram.edges.4"), 9, 0);
	json_decref(j);
	profile_free(p);
}

static void test_real_observed_range(void **state)
{
	(void)state;
	struct profile_options o = { .kind = COLUMN_REAL, .bins = 4 };
	struct profile *p = profile_new(&o);
	static const double v[] = { 0.5, 2.25, -1.0, 10.0, 3.5, 7.75, 1.125 };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		profile_add_real(p, v[i]);
	profile_add_int(p, 0);   /* an integer field in a real column */
	profile_add_real(p, -0.0);
	json_t *j = profile_json(p);
	/* 0 and -0 are one value */
	assert_int_equal(geti(j, "distinct"), 8);
	assert_int_equal(geti(j, "top.0.count"), 2);
	assert_near(getr(j, "top.0.value"), 0, 0);
	assert_true(json_is_real(get(j, "min")));
	assert_near(getr(j, "min"), -1.0, 0);
	assert_near(getr(j, "max"), 10.0, 0);
	json_decref(j);
	profile_free(p);

	p = profile_new(&o);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		profile_add_real(p, v[i]);
	j = profile_json(p);
	/* pandas: mean 3.4464285714285716, std 4.015501955220661,
	 * quantiles [0.8125, 2.25, 5.625] */
	assert_near(getr(j, "mean"), 3.4464285714285716, 1e-14);
	assert_near(getr(j, "std"), 4.015501955220661, 1e-14);
	assert_near(getr(j, "quantiles.p25"), 0.8125, 0);
	assert_near(getr(j, "quantiles.p50"), 2.25, 0);
	assert_near(getr(j, "quantiles.p75"), 5.625, 0);
	/* pandas: np.histogram(v, bins=4) -> [3, 2, 0, 2], edges
	 * [-1, 1.75, 4.5, 7.25, 10] */
	static const int64_t counts[] = { 3, 2, 0, 2 };
	assert_int_array(get(j, "histogram.counts"), counts, 4);
	assert_near(getr(j, "histogram.edges.0"), -1, 0);
	assert_near(getr(j, "histogram.edges.1"), 1.75, 0);
	assert_near(getr(j, "histogram.edges.4"), 10, 0);
	assert_true(getb(j, "histogram_exact"));
	json_decref(j);
	profile_free(p);
}

static void test_quantiles_even(void **state)
{
	(void)state;
	struct profile *p = new_kind(COLUMN_INT);
	for (int v = 40; v >= 10; v -= 10)
		profile_add_int(p, v);
	json_t *j = profile_json(p);
	/* pandas: Series([10, 20, 30, 40]).quantile -> [17.5, 25.0, 32.5] */
	assert_near(getr(j, "quantiles.p25"), 17.5, 0);
	assert_near(getr(j, "quantiles.p50"), 25.0, 0);
	assert_near(getr(j, "quantiles.p75"), 32.5, 0);
	json_decref(j);
	profile_free(p);
}

static void test_constant_and_all_null(void **state)
{
	(void)state;
	struct profile_options o = { .kind = COLUMN_INT, .have_range = true, .min = 7, .max = 7 };
	struct profile *p = profile_new(&o);
	for (int i = 0; i < 5; i++)
		profile_add_int(p, 7);
	json_t *j = profile_json(p);
	assert_int_equal(geti(j, "distinct"), 1);
	assert_near(getr(j, "std"), 0, 0);   /* pandas: 0.0 */
	assert_int_equal(geti(j, "quantiles.p25"), 7);
	assert_int_equal(geti(j, "quantiles.p75"), 7);
	static const int64_t five[] = { 5 };
	assert_int_array(get(j, "histogram.counts"), five, 1);
	assert_int_equal(json_array_size(get(j, "histogram.edges")), 2);
	json_decref(j);
	profile_free(p);

	/* the same without a known range */
	p = new_kind(COLUMN_REAL);
	for (int i = 0; i < 5; i++)
		profile_add_real(p, 2.5);
	j = profile_json(p);
	assert_int_array(get(j, "histogram.counts"), five, 1);
	assert_near(getr(j, "histogram.edges.0"), 2.5, 0);
	assert_near(getr(j, "histogram.edges.1"), 2.5, 0);
	json_decref(j);
	profile_free(p);

	/* a single value: std is null */
	p = new_kind(COLUMN_REAL);
	profile_add_real(p, 1.5);
	j = profile_json(p);
	assert_true(json_is_null(get(j, "std")));
	assert_near(getr(j, "mean"), 1.5, 0);
	assert_near(getr(j, "quantiles.p50"), 1.5, 0);
	json_decref(j);
	profile_free(p);

	static const enum column_kind kinds[] = { COLUMN_TEXT, COLUMN_BOOL, COLUMN_INT,
						  COLUMN_REAL, COLUMN_DATE, COLUMN_DATETIME,
						  COLUMN_TIME };
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		p = new_kind(kinds[k]);
		for (int i = 0; i < 3; i++)
			profile_add_null(p);
		j = profile_json(p);
		char *text = json_dumps(j, JSON_COMPACT);
		assert_non_null(text);   /* no NaN anywhere */
		free(text);
		assert_int_equal(geti(j, "count"), 0);
		assert_int_equal(geti(j, "nulls"), 3);
		assert_int_equal(geti(j, "distinct"), 0);
		assert_int_equal(json_array_size(get(j, "top")), 0);
		if (kinds[k] == COLUMN_TEXT) {
			assert_true(json_is_null(get(j, "min_length")));
		} else if (kinds[k] == COLUMN_BOOL) {
			assert_true(json_is_null(get(j, "mean")));
		} else {
			assert_true(json_is_null(get(j, "min")));
			assert_true(json_is_null(get(j, "max")));
			assert_true(json_is_null(get(j, "quantiles")));
			assert_true(json_is_null(get(j, "histogram")));
		}
		if (kinds[k] == COLUMN_INT || kinds[k] == COLUMN_REAL) {
			assert_true(json_is_null(get(j, "mean")));
			assert_true(json_is_null(get(j, "std")));
		}
		json_decref(j);
		profile_free(p);
	}
}

static void test_bool(void **state)
{
	(void)state;
	struct profile *p = new_kind(COLUMN_BOOL);
	profile_add_int(p, 1);
	profile_add_int(p, 0);
	profile_add_null(p);
	profile_add_int(p, 1);
	profile_add_int(p, 1);
	json_t *j = profile_json(p);
	assert_int_equal(geti(j, "count"), 4);
	assert_int_equal(geti(j, "nulls"), 1);
	assert_int_equal(geti(j, "distinct"), 2);
	assert_near(getr(j, "mean"), 0.75, 0);   /* pandas: 0.75 */
	assert_true(json_is_true(get(j, "top.0.value")));
	assert_int_equal(geti(j, "top.0.count"), 3);
	assert_true(json_is_false(get(j, "top.1.value")));
	assert_int_equal(geti(j, "top.1.count"), 1);
	json_decref(j);
	profile_free(p);
}

static void test_dates(void **state)
{
	(void)state;
	struct profile *p = new_kind(COLUMN_DATE);
	static const char *const d[] = { "2024-01-31", "2024-03-01", "2023-12-15", "2024-03-20" };
	for (size_t i = 0; i < 4; i++)
		profile_add_text(p, d[i], strlen(d[i]));
	profile_add_null(p);
	json_t *j = profile_json(p);
	assert_string_equal(gets_(j, "min"), "2023-12-15");
	assert_string_equal(gets_(j, "max"), "2024-03-20");
	/* pandas: 2024-01-19 06:00, 2024-02-15, 2024-03-05 18:00; a date
	 * quantile is rounded down to its day */
	assert_string_equal(gets_(j, "quantiles.p25"), "2024-01-19");
	assert_string_equal(gets_(j, "quantiles.p50"), "2024-02-15");
	assert_string_equal(gets_(j, "quantiles.p75"), "2024-03-05");
	assert_string_equal(gets_(j, "histogram.unit"), "month");
	assert_int_equal(json_array_size(get(j, "histogram.labels")), 4);
	assert_string_equal(gets_(j, "histogram.labels.0"), "2023-12");
	assert_string_equal(gets_(j, "histogram.labels.1"), "2024-01");
	assert_string_equal(gets_(j, "histogram.labels.3"), "2024-03");
	static const int64_t months[] = { 1, 1, 0, 2 };
	assert_int_array(get(j, "histogram.counts"), months, 4);
	assert_null(get(j, "mean"));   /* not for dates */
	json_decref(j);
	profile_free(p);

	/* exactly 120 months: still by month */
	p = new_kind(COLUMN_DATE);
	profile_add_text(p, S("2015-01-01"));
	profile_add_text(p, S("2024-12-31"));
	j = profile_json(p);
	assert_string_equal(gets_(j, "histogram.unit"), "month");
	assert_int_equal(json_array_size(get(j, "histogram.counts")), 120);
	json_decref(j);
	profile_free(p);

	/* 121 months, either direction from the first value: by year */
	static const char *const spans[][2] = { { "2015-01-01", "2025-01-01" },
						{ "2025-01-01", "2015-01-01" },
						{ "2025-01-01", "1999-06-30" } };
	for (int s = 0; s < 3; s++) {
		p = new_kind(COLUMN_DATE);
		profile_add_text(p, spans[s][0], 10);
		profile_add_text(p, spans[s][1], 10);
		profile_add_text(p, S("2020-06-15"));
		j = profile_json(p);
		assert_string_equal(gets_(j, "histogram.unit"), "year");
		int64_t first = s == 2 ? 1999 : 2015;
		size_t n = (size_t)(2025 - first + 1);
		assert_int_equal(json_array_size(get(j, "histogram.labels")), n);
		char label[8];
		snprintf(label, sizeof label, "%d", (int)first);
		assert_string_equal(gets_(j, "histogram.labels.0"), label);
		char path[32];
		snprintf(path, sizeof path, "histogram.counts.%d", (int)(2020 - first));
		assert_int_equal(geti(j, path), 1);
		snprintf(path, sizeof path, "histogram.counts.%d", (int)(2021 - first));
		assert_int_equal(geti(j, path), 0);
		json_decref(j);
		profile_free(p);
	}
}

static void test_datetime_and_time(void **state)
{
	(void)state;
	struct profile *p = new_kind(COLUMN_DATETIME);
	static const char *const d[] = { "2024-01-02T00:00:00", "2024-01-01T00:00:01",
					 "2024-01-01T12:00:00", "2024-01-01T00:00:00" };
	for (size_t i = 0; i < 4; i++)
		profile_add_text(p, d[i], strlen(d[i]));
	json_t *j = profile_json(p);
	assert_string_equal(gets_(j, "min"), "2024-01-01T00:00:00");
	assert_string_equal(gets_(j, "max"), "2024-01-02T00:00:00");
	/* pandas: 00:00:00.750000128 (its float rounding), 06:00:00.5, 15:00 */
	assert_string_equal(gets_(j, "quantiles.p25"), "2024-01-01T00:00:00.75");
	assert_string_equal(gets_(j, "quantiles.p50"), "2024-01-01T06:00:00.5");
	assert_string_equal(gets_(j, "quantiles.p75"), "2024-01-01T15:00:00");
	assert_string_equal(gets_(j, "histogram.unit"), "month");
	json_decref(j);
	profile_free(p);

	/* zones: ordered by instant, quantiles in the one zone used */
	p = new_kind(COLUMN_DATETIME);
	profile_add_text(p, S("2024-01-01T09:00:00+09:00"));   /* 00:00Z */
	profile_add_text(p, S("2024-01-01T08:00:00+09:00"));   /* 23:00Z the day before */
	profile_add_text(p, S("2024-01-01T10:00:00+09:00"));
	j = profile_json(p);
	assert_string_equal(gets_(j, "min"), "2024-01-01T08:00:00+09:00");
	assert_string_equal(gets_(j, "quantiles.p50"), "2024-01-01T09:00:00+09:00");
	assert_string_equal(gets_(j, "quantiles.p75"), "2024-01-01T09:30:00+09:00");
	json_decref(j);
	profile_free(p);

	/* mixed zones: quantiles in UTC */
	p = new_kind(COLUMN_DATETIME);
	profile_add_text(p, S("2024-01-01T09:00:00+09:00"));
	profile_add_text(p, S("2024-01-01T01:00:00Z"));
	profile_add_text(p, S("2024-01-01T02:00:00Z"));
	j = profile_json(p);
	assert_string_equal(gets_(j, "quantiles.p50"), "2024-01-01T01:00:00Z");
	assert_string_equal(gets_(j, "max"), "2024-01-01T02:00:00Z");
	json_decref(j);
	profile_free(p);

	p = new_kind(COLUMN_TIME);
	static const char *const t[] = { "09:00:00.5", "08:00:00", "23:59:59", "08:30:00" };
	for (size_t i = 0; i < 4; i++)
		profile_add_text(p, t[i], strlen(t[i]));
	profile_add_text(p, S("not a time"));   /* counted, not ordered */
	j = profile_json(p);
	assert_int_equal(geti(j, "count"), 5);
	assert_string_equal(gets_(j, "min"), "08:00:00");
	assert_string_equal(gets_(j, "max"), "23:59:59");
	/* pandas (timedeltas): 08:22:30, 08:45:00.25, 12:45:00.125 */
	assert_string_equal(gets_(j, "quantiles.p25"), "08:22:30");
	assert_string_equal(gets_(j, "quantiles.p50"), "08:45:00.25");
	assert_string_equal(gets_(j, "quantiles.p75"), "12:45:00.125");
	assert_string_equal(gets_(j, "histogram.unit"), "hour");
	assert_int_equal(json_array_size(get(j, "histogram.counts")), 24);
	assert_int_equal(geti(j, "histogram.counts.8"), 2);
	assert_int_equal(geti(j, "histogram.counts.9"), 1);
	assert_int_equal(geti(j, "histogram.counts.23"), 1);
	json_decref(j);
	profile_free(p);
}

/* Distinct and top count a date or time by its value (profile_add_temporal
 * hashes the parsed fields, not the text): one value fed as text and as a
 * parsed value is one, and values that differ only in fraction digits or
 * zone are different values, as their canonical texts are. */
static void test_temporal_identity(void **state)
{
	(void)state;
	struct profile *p = new_kind(COLUMN_DATETIME);
	static const char *const d[] = {
		"2024-03-05T10:00:00",   "2024-03-05T10:00:00.5", "2024-03-05T10:00:00.50",
		"2024-03-05T10:00:00Z",  "2024-03-05T10:00:00+09:00",
		"2024-03-05T10:00:00-09:00", "2024-03-05T00:00:00",
	};
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof d / sizeof *d; i++) {
			struct value_datetime v;
			assert_true(value_parse_datetime(d[i], strlen(d[i]), &v));
			if (round == 1)
				profile_add_temporal(p, d[i], strlen(d[i]), &v);
			else
				profile_add_text(p, d[i], strlen(d[i]));
		}
	/* A date in a datetime column is that day's midnight: the same value. */
	struct value_datetime day;
	assert_true(value_parse_date(S("2024-03-05"), &day));
	profile_add_temporal(p, S("2024-03-05T00:00:00"), &day);
	profile_add_text(p, S("not a date"));
	profile_add_text(p, S("not a date"));
	json_t *j = profile_json(p);
	assert_int_equal(geti(j, "count"), 3 * 7 + 3);
	assert_int_equal(geti(j, "distinct"), 8);
	assert_true(getb(j, "distinct_exact"));
	assert_string_equal(gets_(j, "top.0.value"), "2024-03-05T00:00:00");
	assert_int_equal(geti(j, "top.0.count"), 4);
	for (size_t i = 1; i < 8; i++) {
		char value[32], count[32];
		snprintf(value, sizeof value, "top.%zu.value", i);
		snprintf(count, sizeof count, "top.%zu.count", i);
		bool text = strcmp(gets_(j, value), "not a date") == 0;
		assert_int_equal(geti(j, count), text ? 2 : 3);
		assert_int_equal(i == 7, text);   /* the fewest: last */
	}
	json_decref(j);
	profile_free(p);

	/* Times: the same for fraction digits. */
	p = new_kind(COLUMN_TIME);
	profile_add_text(p, S("08:00:00.1"));
	profile_add_text(p, S("08:00:00.10"));
	profile_add_text(p, S("08:00:00.1"));
	j = profile_json(p);
	assert_int_equal(geti(j, "distinct"), 2);
	json_decref(j);
	profile_free(p);
}

static void test_text(void **state)
{
	(void)state;
	struct profile_options o = { .kind = COLUMN_TEXT, .top = 3 };
	struct profile *p = profile_new(&o);
	static const char *const v[] = { "pear", "apple", "fig", "apple", "pear", "서울",
					 "서울", "", "banana" };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		profile_add_text(p, v[i], strlen(v[i]));
	profile_add_null(p);
	json_t *j = profile_json(p);
	assert_int_equal(geti(j, "count"), 9);
	assert_int_equal(geti(j, "distinct"), 6);
	assert_int_equal(geti(j, "min_length"), 0);
	assert_int_equal(geti(j, "max_length"), 6);   /* code points: 서울 is 2 */
	/* three values twice: byte order, so "서울" (UTF-8 0xEC...) last */
	assert_int_equal(json_array_size(get(j, "top")), 3);
	assert_string_equal(gets_(j, "top.0.value"), "apple");
	assert_string_equal(gets_(j, "top.1.value"), "pear");
	assert_string_equal(gets_(j, "top.2.value"), "서울");
	assert_int_equal(geti(j, "top.2.count"), 2);
	assert_true(getb(j, "top_exact"));
	json_decref(j);
	profile_free(p);

	/* long values are shown cut at a UTF-8 boundary; invalid bytes as U+FFFD */
	p = new_kind(COLUMN_TEXT);
	char longv[600];
	for (size_t i = 0; i < 200; i++)
		memcpy(longv + 3 * i, "가", 3);   /* 600 bytes, 200 code points */
	profile_add_text(p, longv, sizeof longv);
	profile_add_text(p, longv, sizeof longv);
	profile_add_text(p, S("a\xff" "b"));
	j = profile_json(p);
	assert_int_equal(geti(j, "max_length"), 200);
	assert_int_equal(strlen(gets_(j, "top.0.value")), 198);   /* 66 whole characters */
	assert_string_equal(gets_(j, "top.1.value"), "a\xEF\xBF\xBD" "b");
	json_decref(j);
	profile_free(p);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

static void test_distinct_bound(void **state)
{
	(void)state;
	/* exactly the bound: still exact */
	struct profile *p = new_kind(COLUMN_TEXT);
	char buf[32];
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < INFER_MAX_DISTINCT; i++) {
			int n = snprintf(buf, sizeof buf, "v%d", i);
			profile_add_text(p, buf, (size_t)n);
		}
	}
	json_t *j = profile_json(p);
	assert_int_equal(geti(j, "distinct"), INFER_MAX_DISTINCT);
	assert_true(getb(j, "distinct_exact"));
	assert_int_equal(geti(j, "top.0.count"), 2);
	assert_string_equal(gets_(j, "top.0.value"), "v0");   /* ties by value */
	json_decref(j);
	profile_free(p);

	/* 1,000,000 distinct texts and a few heavy hitters */
	p = new_kind(COLUMN_TEXT);
	for (int i = 0; i < 1000000; i++) {
		int n = snprintf(buf, sizeof buf, "value-%d", i);
		profile_add_text(p, buf, (size_t)n);
		if (i % 100 == 0)
			profile_add_text(p, S("heavy"));
		if (i % 250 == 0)
			profile_add_text(p, S("medium"));
	}
	j = profile_json(p);
	assert_false(getb(j, "distinct_exact"));
	assert_false(getb(j, "top_exact"));
	double d = (double)geti(j, "distinct");
	printf("text: distinct estimate %.0f for 1000002\n", d);
	assert_near(d, 1000002, 0.02 * 1000002);
	assert_string_equal(gets_(j, "top.0.value"), "heavy");
	assert_string_equal(gets_(j, "top.1.value"), "medium");
	/* Space-Saving over-counts by at most n / counters */
	int64_t n = geti(j, "count");
	assert_in_range(geti(j, "top.0.count"), 10000, 10000 + n / PROFILE_SUMMARY_COUNTERS);
	assert_in_range(geti(j, "top.1.count"), 4000, 4000 + n / PROFILE_SUMMARY_COUNTERS);
	json_decref(j);
	profile_free(p);

	/* integers, in random order */
	p = new_kind(COLUMN_REAL);
	uint64_t seed = 42;
	for (int i = 0; i < 1000000; i++)
		profile_add_real(p, (double)(lcg(&seed) % 400000) / 8);
	j = profile_json(p);
	/* distinct draws of 1e6 from 4e5: 4e5 (1 - e^-2.5) = 367166 */
	d = (double)geti(j, "distinct");
	printf("real: distinct estimate %.0f for about 367166\n", d);
	assert_near(d, 367166, 0.02 * 367166);
	/* A measurement past the exact bound reports no top values. */
	assert_int_equal(json_array_size(json_object_get(j, "top")), 0);
	assert_false(json_is_true(json_object_get(j, "top_exact")));
	json_decref(j);
	profile_free(p);

	/* just past the bound: estimate and the exact lower bound */
	p = new_kind(COLUMN_INT);
	for (int i = 0; i < 20000; i++)
		profile_add_int(p, i * 7919);
	j = profile_json(p);
	d = (double)geti(j, "distinct");
	printf("int: distinct estimate %.0f for 20000\n", d);
	assert_near(d, 20000, 0.02 * 20000);
	json_decref(j);
	profile_free(p);
}

/* A skewed stream over many values: every reported count is an upper bound
 * that exceeds the true count by at most count / counters. */
static void test_top_summary_bounds(void **state)
{
	(void)state;
	enum { VALUES = 50000, N = 600000 };
	uint64_t *truth = calloc(VALUES, sizeof *truth);
	/* Text: the kind that keeps a summary past the exact bound (words,
	 * names, addresses); numbers there report no top values. */
	struct profile_options o = { .kind = COLUMN_TEXT, .top = PROFILE_MAX_TOP };
	struct profile *p = profile_new(&o);
	uint64_t seed = 11;
	for (int i = 0; i < N; i++) {
		double u = (double)(lcg(&seed) % 1000000) / 1e6;
		int v = (int)(VALUES * u * u * u);   /* small values are frequent */
		truth[v]++;
		char text[16];
		int len = snprintf(text, sizeof text, "%d", v);
		profile_add_text(p, text, (size_t)len);
	}
	json_t *j = profile_json(p);
	assert_false(getb(j, "top_exact"));
	json_t *top = get(j, "top");
	assert_int_equal(json_array_size(top), PROFILE_MAX_TOP);
	int64_t prev = INT64_MAX;
	for (size_t i = 0; i < json_array_size(top); i++) {
		int64_t v = strtoll(json_string_value(json_object_get(json_array_get(top, i),
								     "value")), NULL, 10);
		int64_t c = json_integer_value(json_object_get(json_array_get(top, i), "count"));
		assert_in_range(v, 0, VALUES - 1);
		assert_true(c <= prev);
		prev = c;
		assert_in_range(c, truth[v], truth[v] + N / PROFILE_SUMMARY_COUNTERS);
	}
	/* the most frequent value is first */
	int64_t best = 0;
	for (int v = 1; v < VALUES; v++)
		if (truth[v] > truth[best])
			best = v;
	assert_int_equal(strtoll(json_string_value(json_object_get(json_array_get(top, 0),
								    "value")), NULL, 10), best);
	json_decref(j);
	profile_free(p);
	free(truth);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double exact_quantile(const double *sorted, size_t n, double q)
{
	double pos = (double)(n - 1) * q;
	size_t r = (size_t)pos;
	double t = pos - (double)r;
	return r + 1 < n ? sorted[r] + (sorted[r + 1] - sorted[r]) * t : sorted[r];
}

static void test_quantiles_sampled(void **state)
{
	(void)state;
	const size_t n = 1000000;
	double *v = malloc(n * sizeof *v);
	uint64_t seed = 7;
	struct profile_options o = { .kind = COLUMN_REAL, .have_range = true, .min = 0,
				     .max = 1000 };
	struct profile *p = profile_new(&o);
	for (size_t i = 0; i < n; i++) {
		v[i] = (double)(lcg(&seed) % 1000001) / 1000;
		profile_add_real(p, v[i]);
	}
	json_t *j = profile_json(p);
	qsort(v, n, sizeof *v, cmp_double);
	assert_false(getb(j, "quantiles_exact"));
	assert_true(getb(j, "histogram_exact"));   /* binned as they came */
	static const char *const names[] = { "quantiles.p25", "quantiles.p50", "quantiles.p75" };
	for (int q = 0; q < 3; q++) {
		double want = exact_quantile(v, n, 0.25 * (q + 1));
		double got = getr(j, names[q]);
		printf("uniform %s: sample %.4f exact %.4f\n", names[q], got, want);
		assert_near(got, want, 0.01 * 1000);
	}
	/* the sample is the same every time */
	json_t *again;
	profile_free(p);
	p = profile_new(&o);
	seed = 7;
	for (size_t i = 0; i < n; i++)
		profile_add_real(p, (double)(lcg(&seed) % 1000001) / 1000);
	again = profile_json(p);
	assert_true(json_equal(j, again));
	json_decref(again);
	json_decref(j);
	profile_free(p);

	/* exactly at the sample size: still exact */
	p = new_kind(COLUMN_REAL);
	for (size_t i = 0; i < PROFILE_DEFAULT_SAMPLE; i++)
		profile_add_real(p, (double)(PROFILE_DEFAULT_SAMPLE - i));
	j = profile_json(p);
	assert_true(getb(j, "quantiles_exact"));
	assert_near(getr(j, "quantiles.p50"), 50000.5, 0);
	json_decref(j);
	profile_free(p);

	/* without a range, the histogram of a sampled column is scaled */
	p = new_kind(COLUMN_REAL);
	for (size_t i = 0; i < 200000; i++)
		profile_add_real(p, (double)(i % 1000));
	j = profile_json(p);
	assert_false(getb(j, "histogram_exact"));
	int64_t total = 0;
	for (int b = 0; b < 20; b++) {
		char path[32];
		snprintf(path, sizeof path, "histogram.counts.%d", b);
		total += geti(j, path);
		assert_near((double)geti(j, path), 10000, 500);
	}
	assert_near((double)total, 200000, 20);
	json_decref(j);
	profile_free(p);

	/* the sample is uniform over time too: values that are their own
	 * position, so each histogram bin is a twentieth of the stream and
	 * should hold 50,000 (a sample of 5,000 scaled by 10; sd about 700) */
	p = new_kind(COLUMN_REAL);
	for (size_t i = 0; i < n; i++)
		profile_add_real(p, (double)i);
	j = profile_json(p);
	for (int b = 0; b < 20; b++) {
		char path[32];
		snprintf(path, sizeof path, "histogram.counts.%d", b);
		assert_near((double)geti(j, path), 50000, 3500);
	}
	json_decref(j);
	profile_free(p);
	free(v);
}

/* The profile's quartiles are exact and numpy's, for the n values v
 * (sorted here). */
static void assert_exact_quartiles(json_t *j, double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	assert_true(getb(j, "quantiles_exact"));
	assert_near(getr(j, "quantiles.p25"), exact_quantile(v, n, 0.25), 0);
	assert_near(getr(j, "quantiles.p50"), exact_quantile(v, n, 0.5), 0);
	assert_near(getr(j, "quantiles.p75"), exact_quantile(v, n, 0.75), 0);
}

static void test_quantiles_int_counts(void **state)
{
	(void)state;
	/* a small integer range stays exact past the sample size */
	const size_t n = 300001;
	double *v = malloc(n * sizeof *v);
	uint64_t seed = 3;
	struct profile_options o = { .kind = COLUMN_INT, .have_range = true, .min = -100,
				     .max = 50000 };
	struct profile *p = profile_new(&o);
	for (size_t i = 0; i < n; i++) {
		int64_t x = (int64_t)(lcg(&seed) % 50101) - 100;
		if (i == 5)
			x = 50000;
		v[i] = (double)x;
		profile_add_int(p, x);
	}
	json_t *j = profile_json(p);
	assert_exact_quartiles(j, v, n);
	/* per-value counts make distinct and top exact again */
	size_t distinct = 1;
	for (size_t i = 1; i < n; i++)
		distinct += v[i] != v[i - 1];
	assert_true(getb(j, "distinct_exact"));
	assert_int_equal(geti(j, "distinct"), distinct);
	assert_true(getb(j, "top_exact"));
	assert_int_equal(geti(j, "max"), 50000);
	assert_int_equal(geti(j, "min"), -100);
	json_decref(j);

	/* a value outside the promised range: sampled from then on */
	profile_add_int(p, 1000000);
	j = profile_json(p);
	assert_false(getb(j, "quantiles_exact"));
	assert_near(getr(j, "quantiles.p50"), exact_quantile(v, n, 0.5), 0.01 * 50100);
	json_decref(j);
	profile_free(p);
	free(v);
}

/* Without a promised range (types guessed from a prefix, import.h) the
 * counts' window follows the values while they span at most
 * PROFILE_INT_COUNT_RANGE, also when later values lie far from the first. */
static void test_quantiles_int_counts_moving(void **state)
{
	(void)state;
	const size_t n = 400000;
	double *v = malloc((n + 1) * sizeof *v);
	uint64_t seed = 5;
	struct profile *p = new_kind(COLUMN_INT);
	for (size_t i = 0; i < n; i++) {
		/* first values in [1000, 1100], later ones spread over
		 * [-30000, 30000], and the extremes near the end */
		int64_t x = i < n / 2 ? 1000 + (int64_t)(lcg(&seed) % 101)
				      : (int64_t)(lcg(&seed) % 60001) - 30000;
		if (i == n - 2)
			x = -30000 - 5000;
		if (i == n - 1)
			x = 30000;
		v[i] = (double)x;
		profile_add_int(p, x);
	}
	json_t *j = profile_json(p);
	assert_exact_quartiles(j, v, n);
	assert_true(getb(j, "histogram_exact"));
	/* numpy: np.histogram over [min, max] in 20 bins, here by hand */
	double lo = v[0], hi = v[n - 1], width = (hi - lo) / 20;
	json_t *counts = get(j, "histogram.counts");
	for (unsigned b = 0; b < 20; b++) {
		size_t want = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned k = v[i] >= hi ? 19 : (unsigned)((v[i] - lo) / width);
			want += k == b;
		}
		assert_int_equal(json_integer_value(json_array_get(counts, b)), want);
	}
	json_decref(j);
	/* past a span of PROFILE_INT_COUNT_RANGE: sampled from then on */
	profile_add_int(p, 40000);
	v[n] = 40000;
	qsort(v, n + 1, sizeof *v, cmp_double);
	j = profile_json(p);
	assert_false(getb(j, "quantiles_exact"));
	assert_near(getr(j, "quantiles.p50"), exact_quantile(v, n + 1, 0.5), 0.01 * 75000);
	json_decref(j);
	profile_free(p);
	free(v);
}

static void test_welford(void **state)
{
	(void)state;
	struct profile *p = new_kind(COLUMN_REAL);
	double sum = 0, sumsq = 0;
	const int n = 100000;
	for (int i = 0; i < n; i++) {
		double x = 1e9 + (i % 7 - 3) * 0.001;
		profile_add_real(p, x);
		sum += x;
		sumsq += x * x;
	}
	json_t *j = profile_json(p);
	/* pandas: std 0.0020000058109839124 (two-pass), mean 999999999.9999999 */
	double std = getr(j, "std");
	double naive = sqrt((sumsq - sum * sum / n) / (n - 1));
	printf("std: welford %.17g, naive %.17g\n", std, naive);
	assert_near(std, 0.0020000058109839124, 1e-9);
	assert_near(getr(j, "mean"), 999999999.9999999, 1e-6);
	assert_false(fabs(naive - 0.0020000058109839124) < 1e-4);   /* what Welford avoids */
	json_decref(j);
	profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int_small),
		cmocka_unit_test(test_real_observed_range),
		cmocka_unit_test(test_quantiles_even),
		cmocka_unit_test(test_constant_and_all_null),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_datetime_and_time),
		cmocka_unit_test(test_temporal_identity),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_distinct_bound),
		cmocka_unit_test(test_top_summary_bounds),
		cmocka_unit_test(test_quantiles_sampled),
		cmocka_unit_test(test_quantiles_int_counts),
		cmocka_unit_test(test_quantiles_int_counts_moving),
		cmocka_unit_test(test_welford),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
