/*
 * models/xgb.c: regression, binary and multiclass training on generated
 * data with missing values, predictions compared with Debian's
 * python3-xgboost trained on the same rows with the same parameters
 * (xgb_reference.py), a save/load round trip that predicts the same,
 * feature importances that favour the informative features, progress and
 * stopping, wrong shapes refused, and predictions from several threads at
 * once equal to one thread's; the validation metrics (models/metrics.c)
 * against scikit-learn on the same predictions, ties included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "models/metrics.h"
#include "models/xgb.h"

#include "testutil.h"

#define NTRAIN 600
#define NTEST 100
#define NCOL 4
#define ROUNDS 15

static uint64_t rng = 7;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

/* Rows whose label depends on features 0 and 1 (feature 3 is noise);
 * about one value in 20 missing. */
static void make(float *x, float *y, size_t n, enum xgb_task task)
{
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < NCOL; c++)
			x[r * NCOL + c] = uniform() < 0.05 ? NAN : (float)(uniform() * 10 - 5);
		float a = isnan(x[r * NCOL]) ? 0 : x[r * NCOL];
		float b = isnan(x[r * NCOL + 1]) ? 0 : x[r * NCOL + 1];
		double v = 2 * a - b * b / 4 + uniform();
		y[r] = task == XGB_REGRESSION ? (float)v : task == XGB_BINARY ? (float)(v > 0)
		       : (float)(v < -2 ? 0 : v < 2 ? 1 : 2);
	}
}

static void write_csv(const char *path, const float *x, const float *y, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < NCOL; c++) {
			if (!isnan(x[r * NCOL + c]))
				fprintf(f, "%.9g", x[r * NCOL + c]);
			fputc(',', f);
		}
		fprintf(f, "%.9g\n", y[r]);
	}
	fclose(f);
}

static bool count_rounds(void *arg, int round, int rounds, double metric)
{
	int *seen = arg;
	(void)rounds;
	assert_int_equal(round, *seen + 1);
	assert_false(isnan(metric));
	*seen = round;
	return true;
}

static void against_python(enum xgb_task task, int nclass, const char *name)
{
	float *xtr = xmalloc(NTRAIN * NCOL * sizeof *xtr), *ytr = xmalloc(NTRAIN * sizeof *ytr);
	float *xte = xmalloc(NTEST * NCOL * sizeof *xte), *yte = xmalloc(NTEST * sizeof *yte);
	make(xtr, ytr, NTRAIN, task);
	make(xte, yte, NTEST, task);
	struct xgb_params p;
	xgb_params_default(&p, task);
	p.nclass = nclass;
	p.rounds = ROUNDS;
	p.eta = 0.3;
	p.max_depth = 4;
	p.threads = 1;
	struct xgb_matrix tr = { xtr, NTRAIN, NCOL, ytr }, te = { xte, NTEST, NCOL, yte };
	struct error e = { "" };
	int seen = 0;
	struct xgb_model *m = xgb_train(&tr, &te, &p, count_rounds, &seen, &e);
	if (!m)
		fail_msg("%s", e.msg);
	assert_int_equal(seen, ROUNDS);
	size_t per = task == XGB_MULTICLASS ? (size_t)nclass : 1;
	float *got = xmalloc(NTEST * per * sizeof *got);
	expect_rc(xgb_predict(m, &te, got, &e), 0, e);

	char dir[] = "/tmp/sheaf-xgb-XXXXXX", path[128], cmd[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/train.csv", dir);
	write_csv(path, xtr, ytr, NTRAIN);
	snprintf(path, sizeof path, "%s/test.csv", dir);
	write_csv(path, xte, yte, NTEST);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/unit/xgb_reference.py %s %s %d %d",
		 dir, name, nclass, ROUNDS);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof path, "%s/reference.txt", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	for (size_t i = 0; i < NTEST * per; i++) {
		double want;
		assert_int_equal(fscanf(f, "%lf", &want), 1);
		if (fabs(got[i] - want) > 1e-5 * (1 + fabs(want)))
			fail_msg("%s prediction %zu: %.9g, python3-xgboost %.9g", name, i, got[i], want);
	}
	fclose(f);
	rm_rf(dir);

	/* Saved and loaded, the model predicts the same. */
	char *bytes;
	size_t len;
	expect_rc(xgb_save(m, &bytes, &len, &e), 0, e);
	struct xgb_model *back = xgb_load(bytes, len, &e);
	assert_non_null(back);
	assert_int_equal(xgb_ncol(back), NCOL);
	float *again = xmalloc(NTEST * per * sizeof *again);
	expect_rc(xgb_predict(back, &te, again, &e), 0, e);
	assert_memory_equal(got, again, NTEST * per * sizeof *got);
	free(bytes);
	xgb_free(back);

	/* The informative features matter more than the noise. */
	double gain[NCOL];
	expect_rc(xgb_importance(m, gain, &e), 0, e);
	assert_true(gain[0] > gain[3]);
	assert_true(gain[0] + gain[1] > 0);

	xgb_free(m);
	free(xtr);
	free(ytr);
	free(xte);
	free(yte);
	free(got);
	free(again);
}

static void test_regression(void **state)
{
	(void)state;
	against_python(XGB_REGRESSION, 1, "regression");
}

static void test_binary(void **state)
{
	(void)state;
	against_python(XGB_BINARY, 2, "binary");
}

static void test_multiclass(void **state)
{
	(void)state;
	against_python(XGB_MULTICLASS, 3, "multiclass");
}

static bool stop_at_3(void *arg, int round, int rounds, double metric)
{
	(void)arg;
	(void)rounds;
	(void)metric;
	return round < 3;
}

struct worker {
	struct xgb_model *m;
	const struct xgb_matrix *x;
	const float *want;
	int bad;
};

static void *predict_many(void *arg)
{
	struct worker *w = arg;
	float out[NTEST];
	for (int i = 0; i < 50; i++) {
		struct error e;
		if (xgb_predict(w->m, w->x, out, &e) < 0 ||
		    memcmp(out, w->want, sizeof out) != 0)
			w->bad++;
	}
	return NULL;
}

static void test_errors_and_threads(void **state)
{
	(void)state;
	float *x = xmalloc(NTRAIN * NCOL * sizeof *x), *y = xmalloc(NTRAIN * sizeof *y);
	make(x, y, NTRAIN, XGB_REGRESSION);
	struct xgb_params p;
	xgb_params_default(&p, XGB_REGRESSION);
	p.rounds = 10;
	struct xgb_matrix tr = { x, NTRAIN, NCOL, y };
	struct error e;
	/* A progress callback that says stop. */
	assert_null(xgb_train(&tr, NULL, &p, stop_at_3, NULL, &e));
	assert_non_null(strstr(e.msg, "stopped after 3"));
	/* Nothing to train on. */
	struct xgb_matrix none = { x, 0, NCOL, y };
	assert_null(xgb_train(&none, NULL, &p, NULL, NULL, &e));
	struct xgb_model *m = xgb_train(&tr, NULL, &p, NULL, NULL, &e);
	assert_non_null(m);
	/* The wrong number of features. */
	struct xgb_matrix narrow = { x, 5, NCOL - 1, NULL };
	float out[NTEST];
	assert_int_equal(xgb_predict(m, &narrow, out, &e), -1);
	assert_non_null(strstr(e.msg, "features"));
	/* Garbage is not a model. */
	assert_null(xgb_load("not a model", 11, &e));
	/* Four threads predicting at once agree with one. */
	struct xgb_matrix te = { x, NTEST, NCOL, NULL };
	float want[NTEST];
	expect_rc(xgb_predict(m, &te, want, &e), 0, e);
	pthread_t th[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ m, &te, want, 0 };
		pthread_create(&th[i], NULL, predict_many, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	char v[32];
	xgb_version(v, sizeof v);
	assert_true(v[0] >= '1' && strchr(v, '.'));
	xgb_free(m);
	free(x);
	free(y);
}

/* metric(s) of (y, p) against metrics_reference.py's. */
static void check_metrics(const float *y, const float *p, size_t n, int nclass)
{
	char path[] = "/tmp/sheaf-metrics-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	size_t per = nclass > 2 ? (size_t)nclass : 1;
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%.9g", y[i]);
		for (size_t k = 0; k < per; k++)
			fprintf(f, ",%.9g", p[i * per + k]);
		fputc('\n', f);
	}
	fclose(f);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/unit/metrics_reference.py %s %d",
		 path, nclass);
	FILE *out = popen(cmd, "r");
	assert_non_null(out);
	double want[6];
	int read = 0;
	for (int i = 0; i < 6; i++)
		read += fscanf(out, "%lf", &want[i]) == 1;
	while (fgetc(out) != EOF)   /* all of it, so the writer never sees a closed pipe */
		;
	assert_int_equal(pclose(out), 0);
	assert_int_equal(read, 6);
	unlink(path);
	double got[6] = {
		nclass == 1 ? metric_rmse(y, p, n) : NAN,
		nclass == 1 ? metric_mae(y, p, n) : NAN,
		nclass == 1 ? metric_rmsle(y, p, n) : NAN,
		nclass > 1 ? metric_accuracy(y, p, n, nclass) : NAN,
		nclass > 1 ? metric_logloss(y, p, n, nclass) : NAN,
		nclass == 2 ? metric_auc(y, p, n) : NAN,
	};
	for (int i = 0; i < 6; i++) {
		if (isnan(want[i]))
			assert_true(isnan(got[i]));
		else if (fabs(got[i] - want[i]) > 1e-6 * (1 + fabs(want[i])))
			fail_msg("metric %d: %.12g, scikit-learn %.12g", i, got[i], want[i]);
	}
}

static void test_metrics(void **state)
{
	(void)state;
	enum { N = 500 };
	float y[N], p[N * 3];
	for (size_t i = 0; i < N; i++) {   /* regression: non-negative, as RMSLE wants */
		y[i] = (float)(uniform() * 20);
		p[i] = (float)fmax(0, y[i] + uniform() * 6 - 3);
	}
	check_metrics(y, p, N, 1);
	for (size_t i = 0; i < N; i++) {   /* binary, with tied scores and a certain 0 */
		y[i] = uniform() < 0.4;
		p[i] = i % 50 == 0 ? 0.0f : (float)(round((y[i] * 0.3 + uniform() * 0.7) * 20) / 20);
	}
	check_metrics(y, p, N, 2);
	for (size_t i = 0; i < N; i++) {   /* three classes */
		y[i] = (float)(i % 3);
		double a = uniform(), b = uniform(), c = uniform() + (i % 3 == 2 ? 0.5 : 0);
		double s = a + b + c;
		p[i * 3] = (float)(a / s);
		p[i * 3 + 1] = (float)(b / s);
		p[i * 3 + 2] = (float)(c / s);
	}
	check_metrics(y, p, N, 3);
	/* One class only: no AUC; a negative value: no RMSLE. */
	float ones[3] = { 1, 1, 1 }, half[3] = { 0.5f, 0.7f, 0.9f }, neg[3] = { -2, 1, 1 };
	assert_true(isnan(metric_auc(ones, half, 3)));
	assert_true(isnan(metric_rmsle(ones, neg, 3)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regression),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_multiclass),
		cmocka_unit_test(test_errors_and_threads),
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
