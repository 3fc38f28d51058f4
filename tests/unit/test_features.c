/*
 * models/features.c: encodings learned from training rows (categories by
 * mean target, then name; only categories seen in training), the matrix
 * with NaN for NULLs, date and datetime parts (weekday Monday 0), rows from
 * JSON (unknown categories and missing keys NaN, wrong types refused
 * naming the column), and a JSON round trip that encodes the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "models/features.h"

#define N 6

/* A coded column over dict (NULL entries of rows: FRAME_NULL). */
static struct frame_column coded(const char *name, enum column_kind kind, const char *const *dict,
				 size_t ndict, const int *rows)
{
	struct frame_column c = { 0 };
	c.name = xstrdup(name);
	c.kind = kind;
	c.n = N;
	c.valid = xmalloc(N);
	c.code = xmalloc(N * sizeof *c.code);
	c.ndict = ndict;
	c.dict = xmalloc(ndict * sizeof *c.dict);
	c.dict_len = xmalloc(ndict * sizeof *c.dict_len);
	for (size_t k = 0; k < ndict; k++) {
		c.dict[k] = xstrdup(dict[k]);
		c.dict_len[k] = (uint32_t)strlen(dict[k]);
	}
	for (size_t r = 0; r < N; r++) {
		c.code[r] = rows[r] < 0 ? FRAME_NULL : (uint32_t)rows[r];
		c.valid[r] = rows[r] >= 0;
	}
	return c;
}

static struct frame_column numeric(const char *name, const double *v, const uint8_t *valid)
{
	struct frame_column c = { 0 };
	c.name = xstrdup(name);
	c.kind = COLUMN_REAL;
	c.n = N;
	c.valid = xmalloc(N);
	c.num = xmalloc(N * sizeof *c.num);
	memcpy(c.valid, valid, N);
	memcpy(c.num, v, N * sizeof *v);
	return c;
}

static void check_row(const float *got, const float *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (isnan(want[i]))
			assert_true(isnan(got[i]));
		else if (got[i] != want[i])
			fail_msg("value %zu: %g, expected %g", i, got[i], want[i]);
	}
}

static void test_fit_and_encode(void **state)
{
	(void)state;
	static const char *const weather[] = { "맑음", "비", "눈", "흐림" };
	static const int wrows[N] = { 0, 1, 2, 0, -1, 3 };   /* 흐림 only in row 5 */
	static const char *const days[] = { "2024-01-01", "2024-03-09", "not a date" };
	static const int drows[N] = { 0, 1, 0, -1, 2, 1 };
	static const char *const times[] = { "2024-01-07 23:15:00", "2019-01-01 00" };
	static const int trows[N] = { 0, 1, 1, 0, 0, -1 };
	static const double num[N] = { 1.5, 0, -2, 4, 5, 6 };
	static const uint8_t valid[N] = { 1, 1, 1, 0, 1, 1 };
	struct frame_column c[4] = {
		coded("기상상태", COLUMN_TEXT, weather, 4, wrows),
		coded("day", COLUMN_DATE, days, 3, drows),
		coded("at", COLUMN_DATETIME, times, 2, trows),
		numeric("x", num, valid),
	};
	const struct frame_column *cols[4] = { &c[0], &c[1], &c[2], &c[3] };
	/* Targets: 맑음 rows 0, 3 (mean 4), 비 row 1 (9), 눈 row 2 (1). */
	float y[N] = { 3, 9, 1, 5, 7, 2 };
	size_t train[5] = { 0, 1, 2, 3, 4 };      /* row 5 (흐림) is not trained on */
	struct feature_set fs;
	struct error e;
	assert_int_equal(features_fit(&fs, cols, 4, y, train, 5, &e), 0);
	assert_int_equal(fs.width, 1 + 4 + 5 + 1);
	assert_int_equal(fs.f[0].ncategories, 3);
	assert_string_equal(fs.f[0].categories[0], "눈");
	assert_string_equal(fs.f[0].categories[1], "맑음");
	assert_string_equal(fs.f[0].categories[2], "비");
	char name[64];
	assert_string_equal(features_column_name(&fs, 4, name, sizeof name), "day.weekday");
	assert_string_equal(features_column_name(&fs, 9, name, sizeof name), "at.hour");
	assert_string_equal(features_column_name(&fs, 10, name, sizeof name), "x");

	size_t all[N] = { 0, 1, 2, 3, 4, 5 };
	float *m = xmalloc(N * fs.width * sizeof *m);
	features_matrix(&fs, cols, all, N, m);
	/* Row 0: 맑음 (1), 2024-01-01 a Monday, 2024-01-07 23h a Sunday, 1.5. */
	const float row0[] = { 1, 2024, 1, 1, 0, 2024, 1, 7, 6, 23, 1.5f };
	check_row(m, row0, fs.width);
	/* Row 3: NULL date, x not valid; row 4: a category-less NULL, a bad date. */
	const float row3[] = { 1, NAN, NAN, NAN, NAN, 2024, 1, 7, 6, 23, NAN };
	check_row(m + 3 * fs.width, row3, fs.width);
	const float row4[] = { NAN, NAN, NAN, NAN, NAN, 2024, 1, 7, 6, 23, 5 };
	check_row(m + 4 * fs.width, row4, fs.width);
	/* Row 5: 흐림 was not in training: missing; 2019-01-01 00 a Tuesday. */
	const float row5[] = { NAN, 2024, 3, 9, 5, NAN, NAN, NAN, NAN, NAN, 6 };
	check_row(m + 5 * fs.width, row5, fs.width);

	/* The same from JSON, and through a JSON round trip of the encodings. */
	json_t *j = features_json(&fs);
	struct feature_set back;
	assert_int_equal(features_from_json(&back, j, &e), 0);
	json_decref(j);
	assert_int_equal(back.width, fs.width);
	json_t *obj = json_pack("{s:s, s:s, s:s, s:f}", "기상상태", "맑음", "day", "2024-01-01",
				"at", "2024-01-07 23:15:00", "x", 1.5);
	float r[16];
	assert_int_equal(features_row_json(&back, obj, r, &e), 0);
	check_row(r, row0, fs.width);
	json_decref(obj);
	obj = json_pack("{s:s, s:s, s:n}", "기상상태", "태풍", "x", "1,234", "day");
	assert_int_equal(features_row_json(&back, obj, r, &e), 0);
	const float unknown[] = { NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 1234 };
	check_row(r, unknown, fs.width);
	json_decref(obj);
	static const char *const bad[] = {
		"{\"x\": \"many\"}", "{\"기상상태\": 3}", "{\"day\": \"yesterday\"}", "{\"at\": []}",
	};
	static const char *const named[] = { "x:", "기상상태:", "day:", "at:" };
	for (size_t i = 0; i < 4; i++) {
		obj = json_loads(bad[i], 0, NULL);
		assert_int_equal(features_row_json(&back, obj, r, &e), -1);
		assert_non_null(strstr(e.msg, named[i]));
		json_decref(obj);
	}
	features_free(&back);
	features_free(&fs);
	free(m);
	for (int i = 0; i < 4; i++)
		frame_column_free(&c[i]);
}

static void test_refusals(void **state)
{
	(void)state;
	struct frame_column c = { 0 };
	c.name = xstrdup("memo");
	c.kind = COLUMN_TEXT;
	c.n = N;
	c.dict_full = true;      /* too many distinct values to encode */
	const struct frame_column *cols[1] = { &c };
	float y[N] = { 0 };
	size_t rows[N] = { 0, 1, 2, 3, 4, 5 };
	struct feature_set fs;
	struct error e;
	assert_int_equal(features_fit(&fs, cols, 1, y, rows, N, &e), -1);
	assert_non_null(strstr(e.msg, "memo"));
	free(c.name);
	json_t *j = json_loads("[{\"name\": \"a\", \"type\": \"nonsense\"}]", 0, NULL);
	assert_int_equal(features_from_json(&fs, j, &e), -1);
	json_decref(j);
	j = json_loads("{}", 0, NULL);
	assert_int_equal(features_from_json(&fs, j, &e), -1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_and_encode),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
