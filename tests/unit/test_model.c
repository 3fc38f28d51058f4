/*
 * models/model.c on generated columns (a category, a number with missing
 * values, a datetime): regression with and without log1p beats the mean
 * and reports metrics that predicting the held-out rows again reproduces;
 * a time split holds out the latest rows; binary and three-class
 * classification give classes and probabilities that sum to 1; a saved
 * and loaded model predicts the same; unknown categories and missing keys
 * predict, wrong types are refused naming the row and column; progress
 * rises and can stop training; bad targets are refused.
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

#include "base/alloc.h"
#include "models/metrics.h"
#include "models/model.h"

#define N 400

static const char *const weathers[] = { "맑음", "비", "눈", "흐림" };
static const double weather_effect[] = { 1, 4, 8, 2 };

struct data {
	struct frame_column weather, x, when, y, cls, cls3;
	char when_text[N][24];
};

static uint64_t rng = 99;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void coded_init(struct frame_column *c, const char *name, enum column_kind kind)
{
	c->name = xstrdup(name);
	c->kind = kind;
	c->n = N;
	c->valid = xmalloc(N);
	c->code = xmalloc(N * sizeof *c->code);
}

static void numeric_init(struct frame_column *c, const char *name, enum column_kind kind)
{
	c->name = xstrdup(name);
	c->kind = kind;
	c->n = N;
	c->valid = xmalloc(N);
	c->num = xmalloc(N * sizeof *c->num);
}

static void make(struct data *d)
{
	memset(d, 0, sizeof *d);
	coded_init(&d->weather, "weather", COLUMN_TEXT);
	d->weather.ndict = 4;
	d->weather.dict = xmalloc(4 * sizeof(char *));
	d->weather.dict_len = xmalloc(4 * sizeof(uint32_t));
	for (int k = 0; k < 4; k++) {
		d->weather.dict[k] = xstrdup(weathers[k]);
		d->weather.dict_len[k] = (uint32_t)strlen(weathers[k]);
	}
	numeric_init(&d->x, "x", COLUMN_REAL);
	coded_init(&d->when, "when", COLUMN_DATETIME);
	d->when.ndict = N;
	d->when.dict = xmalloc(N * sizeof(char *));
	d->when.dict_len = xmalloc(N * sizeof(uint32_t));
	numeric_init(&d->y, "severity", COLUMN_REAL);
	numeric_init(&d->cls, "serious", COLUMN_BOOL);
	coded_init(&d->cls3, "level", COLUMN_TEXT);
	static const char *const levels[] = { "high", "low", "mid" };
	d->cls3.ndict = 3;
	d->cls3.dict = xmalloc(3 * sizeof(char *));
	d->cls3.dict_len = xmalloc(3 * sizeof(uint32_t));
	for (int k = 0; k < 3; k++) {
		d->cls3.dict[k] = xstrdup(levels[k]);
		d->cls3.dict_len[k] = (uint32_t)strlen(levels[k]);
	}
	for (size_t r = 0; r < N; r++) {
		uint32_t w = (uint32_t)(uniform() * 4);
		d->weather.code[r] = w;
		d->weather.valid[r] = 1;
		d->x.valid[r] = r % 13 != 0;
		d->x.num[r] = d->x.valid[r] ? uniform() * 10 : 0;
		int hour = (int)(uniform() * 24);
		snprintf(d->when_text[r], sizeof d->when_text[r], "2020-%02zu-%02zu %02d:00:00",
			 1 + r * 12 / N, 1 + r % 28, hour);
		d->when.dict[r] = xstrdup(d->when_text[r]);
		d->when.dict_len[r] = (uint32_t)strlen(d->when_text[r]);
		d->when.code[r] = (uint32_t)r;
		d->when.valid[r] = 1;
		double v = weather_effect[w] + (d->x.valid[r] ? d->x.num[r] / 2 : 2) +
			   (hour < 6 ? 3 : 0) + uniform();
		d->y.valid[r] = r % 50 != 7;     /* a few rows without a target */
		d->y.num[r] = d->y.valid[r] ? v : 0;
		d->cls.valid[r] = 1;
		d->cls.num[r] = v > 7;
		d->cls3.valid[r] = 1;
		d->cls3.code[r] = v > 9 ? 0 : v < 5 ? 1 : 2;
	}
}

static void data_free(struct data *d)
{
	frame_column_free(&d->weather);
	frame_column_free(&d->x);
	frame_column_free(&d->when);
	frame_column_free(&d->y);
	frame_column_free(&d->cls);
	frame_column_free(&d->cls3);
}

static json_t *row_json(const struct data *d, size_t r)
{
	json_t *o = json_pack("{s:s, s:s}", "weather", weathers[d->weather.code[r]], "when",
			      d->when_text[r]);
	if (d->x.valid[r])
		json_object_set_new(o, "x", json_real(d->x.num[r]));
	return o;
}

static int last_progress;

static bool note_progress(void *arg, int per_mille)
{
	(void)arg;
	assert_true(per_mille >= last_progress);
	last_progress = per_mille;
	return true;
}

static struct model_spec spec_for(enum xgb_task task)
{
	struct model_spec s = { .task = task, .split = "random", .fraction = 0.25, .seed = 5 };
	xgb_params_default(&s.params, task);
	s.params.rounds = 60;
	s.params.threads = 1;
	return s;
}

static void test_regression(void **state)
{
	(void)state;
	struct data d;
	make(&d);
	const struct frame_column *f[3] = { &d.weather, &d.x, &d.when };
	for (int logged = 0; logged < 2; logged++) {
		struct model_spec s = spec_for(XGB_REGRESSION);
		s.log_target = logged;
		struct error e;
		last_progress = 0;
		struct model *m = model_train(f, 3, &d.y, &s, note_progress, NULL, &e);
		if (!m)
			fail_msg("%s", e.msg);
		assert_int_equal(last_progress, 1000);
		json_t *info = model_info(m);
		json_t *metrics = json_object_get(json_object_get(info, "validation"), "metrics");
		double rmse = json_number_value(json_object_get(metrics, "rmse"));
		int64_t nvalid = json_integer_value(json_object_get(json_object_get(info, "validation"),
								    "rows"));
		int64_t ntrain = json_integer_value(json_object_get(info, "training_rows"));
		assert_int_equal(nvalid + ntrain, N - N / 50);   /* rows with a target */
		/* Better than always predicting the mean, by far. */
		double mean = 0, var = 0;
		size_t cnt = 0;
		for (size_t r = 0; r < N; r++)
			if (d.y.valid[r]) {
				mean += d.y.num[r];
				cnt++;
			}
		mean /= (double)cnt;
		for (size_t r = 0; r < N; r++)
			if (d.y.valid[r])
				var += (d.y.num[r] - mean) * (d.y.num[r] - mean);
		assert_true(rmse < 0.6 * sqrt(var / (double)cnt));
		/* Importance: the datetime (only its hour matters) comes last. */
		json_t *imp = json_object_get(info, "importance");
		assert_int_equal(json_array_size(imp), 3);
		assert_string_equal(json_string_value(json_object_get(json_array_get(imp, 2),
								      "feature")), "when");
		/* Predictions on the original scale for every row, saved and loaded alike. */
		json_t *rows = json_array();
		for (size_t r = 0; r < N; r++)
			json_array_append_new(rows, row_json(&d, r));
		json_t *p = model_predict(m, rows, &e);
		assert_non_null(p);
		assert_int_equal(json_array_size(p), N);
		double err = 0;
		for (size_t r = 0; r < N; r++)
			if (d.y.valid[r])
				err += fabs(json_number_value(json_array_get(p, r)) - d.y.num[r]);
		assert_true(err / (double)cnt < 1.5);
		char *bytes;
		size_t len;
		assert_int_equal(model_save(m, &bytes, &len, &e), 0);
		struct model *back = model_load(bytes, len, &e);
		assert_non_null(back);
		json_t *p2 = model_predict(back, rows, &e);
		assert_true(json_equal(p, p2));
		json_decref(p2);
		free(bytes);
		model_free(back);
		json_decref(p);
		json_decref(rows);
		json_decref(info);
		model_free(m);
	}
	data_free(&d);
}

static void test_time_split_and_rows(void **state)
{
	(void)state;
	struct data d;
	make(&d);
	const struct frame_column *f[2] = { &d.weather, &d.x };
	struct model_spec s = spec_for(XGB_REGRESSION);
	s.split = "time";
	s.time_column = &d.when;
	s.fraction = 0.2;
	struct error e;
	struct model *m = model_train(f, 2, &d.y, &s, NULL, NULL, &e);
	if (!m)
		fail_msg("%s", e.msg);
	json_t *info = model_info(m);
	assert_string_equal(json_string_value(json_object_get(json_object_get(info, "validation"),
							      "split")), "time");
	json_decref(info);
	/* An unseen category and a missing key still predict; wrong types do not. */
	json_t *rows = json_loads("[{\"weather\": \"태풍\"}, {}, {\"weather\": \"비\", \"x\": \"3.5\"}]",
				  0, NULL);
	json_t *p = model_predict(m, rows, &e);
	assert_non_null(p);
	assert_int_equal(json_array_size(p), 3);
	assert_true(json_is_number(json_array_get(p, 0)));
	json_decref(p);
	json_decref(rows);
	rows = json_loads("[{\"weather\": \"비\"}, {\"x\": [1]}]", 0, NULL);
	assert_null(model_predict(m, rows, &e));
	assert_non_null(strstr(e.msg, "rows[1].x"));
	json_decref(rows);
	rows = json_loads("[3]", 0, NULL);
	assert_null(model_predict(m, rows, &e));
	assert_non_null(strstr(e.msg, "rows[0]"));
	json_decref(rows);
	model_free(m);
	/* A time split without a time column, and garbage that is no model. */
	s.time_column = NULL;
	assert_null(model_train(f, 2, &d.y, &s, NULL, NULL, &e));
	assert_null(model_load("{}\nxx", 5, &e));
	assert_null(model_load("nothing", 7, &e));
	data_free(&d);
}

static void check_classification(struct model *m, const struct data *d, size_t nclass)
{
	json_t *rows = json_array();
	for (size_t r = 0; r < N; r++)
		json_array_append_new(rows, row_json(d, r));
	struct error e;
	json_t *p = model_predict(m, rows, &e);
	assert_non_null(p);
	size_t i;
	json_t *one;
	json_array_foreach(p, i, one) {
		json_t *probs = json_object_get(one, "probabilities");
		assert_int_equal(json_object_size(probs), nclass);
		double sum = 0, best = -1;
		const char *key;
		json_t *v;
		const char *argmax = NULL;
		json_object_foreach(probs, key, v) {
			sum += json_number_value(v);
			if (json_number_value(v) > best) {
				best = json_number_value(v);
				argmax = key;
			}
		}
		assert_true(fabs(sum - 1) < 1e-5);
		assert_string_equal(json_string_value(json_object_get(one, "class")), argmax);
	}
	json_decref(p);
	json_decref(rows);
	json_t *info = model_info(m);
	json_t *metrics = json_object_get(json_object_get(info, "validation"), "metrics");
	assert_true(json_number_value(json_object_get(metrics, "accuracy")) > 0.6);
	assert_int_equal(json_array_size(json_object_get(info, "classes")), nclass);
	json_decref(info);
}

static void test_classification(void **state)
{
	(void)state;
	struct data d;
	make(&d);
	const struct frame_column *f[3] = { &d.weather, &d.x, &d.when };
	struct model_spec s = spec_for(XGB_BINARY);
	struct error e;
	struct model *m = model_train(f, 3, &d.cls, &s, NULL, NULL, &e);
	if (!m)
		fail_msg("%s", e.msg);
	check_classification(m, &d, 2);
	model_free(m);
	m = model_train(f, 3, &d.cls3, &s, NULL, NULL, &e);
	if (!m)
		fail_msg("%s", e.msg);
	check_classification(m, &d, 3);
	char *bytes;
	size_t len;
	assert_int_equal(model_save(m, &bytes, &len, &e), 0);
	struct model *back = model_load(bytes, len, &e);
	assert_non_null(back);
	check_classification(back, &d, 3);
	model_free(back);
	free(bytes);
	model_free(m);
	data_free(&d);
}

static bool stop_early(void *arg, int per_mille)
{
	(void)arg;
	return per_mille < 300;
}

static void test_refusals(void **state)
{
	(void)state;
	struct data d;
	make(&d);
	const struct frame_column *f[1] = { &d.x };
	struct model_spec s = spec_for(XGB_REGRESSION);
	struct error e;
	/* Regression on text; classes of a real column with hundreds of values. */
	assert_null(model_train(f, 1, &d.weather, &s, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "number column"));
	struct model_spec c = spec_for(XGB_BINARY);
	assert_null(model_train(f, 1, &d.y, &c, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "classes"));
	/* log1p of values at or below -1. */
	d.y.num[0] = -3;
	s.log_target = true;
	assert_null(model_train(f, 1, &d.y, &s, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "log1p"));
	s.log_target = false;
	/* Stopped by its progress callback. */
	assert_null(model_train(f, 1, &d.y, &s, stop_early, NULL, &e));
	assert_non_null(strstr(e.msg, "stopped"));
	/* Too few rows with a target. */
	for (size_t r = 5; r < N; r++)
		d.y.valid[r] = 0;
	assert_null(model_train(f, 1, &d.y, &s, NULL, NULL, &e));
	assert_non_null(strstr(e.msg, "at least"));
	data_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regression),
		cmocka_unit_test(test_time_split_and_rows),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
