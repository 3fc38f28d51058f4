/*
 * Aggregates SQLite lacks, registered on every query connection:
 *
 *   median(x)          the middle value (mean of the two middle ones), as pandas
 *   percentile(x, p)   the p-th percentile, p in [0, 100], linear between ranks
 *   stddev(x)          sample standard deviation (n - 1), NULL below 2 values
 *   variance(x)        sample variance, the same
 *
 * NULLs and values that are not numbers (text, blobs) are skipped, as
 * SQLite's avg() skips NULLs.  median and percentile keep the values in
 * SQLite's heap (sqlite3_realloc64), so the query's memory budget bounds
 * them; stddev and variance run in constant memory (Welford).
 */
#include "query/functions.h"

#include <math.h>
#include <stdlib.h>

struct values {
	double *v;
	sqlite3_int64 n, cap;
	double p;              /* percentile asked for, 0..100 */
	int have_p;
};

static int number(sqlite3_value *arg, double *out)
{
	int type = sqlite3_value_numeric_type(arg);
	if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
		return 0;
	*out = sqlite3_value_double(arg);
	return 1;
}

static void collect(sqlite3_context *ctx, sqlite3_value *arg)
{
	double x;
	if (!number(arg, &x))
		return;
	struct values *s = sqlite3_aggregate_context(ctx, sizeof *s);
	if (!s) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (s->n == s->cap) {
		sqlite3_int64 cap = s->cap ? 2 * s->cap : 64;
		double *v = sqlite3_realloc64(s->v, (sqlite3_uint64)cap * sizeof *v);
		if (!v) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

static void median_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	collect(ctx, argv[0]);
}

static void percentile_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	double p;
	if (!number(argv[1], &p) || p < 0 || p > 100) {
		sqlite3_result_error(ctx, "percentile(x, p): p must be a number from 0 to 100", -1);
		return;
	}
	struct values *s = sqlite3_aggregate_context(ctx, sizeof *s);
	if (!s) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (s->have_p && s->p != p) {
		sqlite3_result_error(ctx, "percentile(x, p): p must be the same on every row", -1);
		return;
	}
	s->p = p;
	s->have_p = 1;
	collect(ctx, argv[0]);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void finish_quantile(sqlite3_context *ctx, double p)
{
	struct values *s = sqlite3_aggregate_context(ctx, 0);
	if (!s || s->n == 0) {
		if (s)
			sqlite3_free(s->v);
		sqlite3_result_null(ctx);
		return;
	}
	qsort(s->v, (size_t)s->n, sizeof *s->v, by_value);
	double h = (double)(s->n - 1) * p;
	sqlite3_int64 lo = (sqlite3_int64)floor(h);
	double r = lo + 1 >= s->n ? s->v[s->n - 1]
				  : s->v[lo] + (h - (double)lo) * (s->v[lo + 1] - s->v[lo]);
	sqlite3_free(s->v);
	s->v = NULL;
	sqlite3_result_double(ctx, r);
}

static void median_final(sqlite3_context *ctx)
{
	finish_quantile(ctx, 0.5);
}

static void percentile_final(sqlite3_context *ctx)
{
	struct values *s = sqlite3_aggregate_context(ctx, 0);
	finish_quantile(ctx, s ? s->p / 100 : 0);
}

struct moments {
	sqlite3_int64 n;
	double mean, m2;
};

static void moments_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	double x;
	if (!number(argv[0], &x))
		return;
	struct moments *m = sqlite3_aggregate_context(ctx, sizeof *m);
	if (!m) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	m->n++;
	double d = x - m->mean;
	m->mean += d / (double)m->n;
	m->m2 += d * (x - m->mean);
}

static void variance_final(sqlite3_context *ctx)
{
	struct moments *m = sqlite3_aggregate_context(ctx, 0);
	if (!m || m->n < 2)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_double(ctx, m->m2 / (double)(m->n - 1));
}

static void stddev_final(sqlite3_context *ctx)
{
	struct moments *m = sqlite3_aggregate_context(ctx, 0);
	if (!m || m->n < 2)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_double(ctx, sqrt(m->m2 / (double)(m->n - 1)));
}

int sql_functions_register(sqlite3 *db)
{
	const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
	int rc = sqlite3_create_function(db, "median", 1, flags, NULL, NULL, median_step,
					 median_final);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "percentile", 2, flags, NULL, NULL,
					     percentile_step, percentile_final);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "stddev", 1, flags, NULL, NULL, moments_step,
					     stddev_final);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "variance", 1, flags, NULL, NULL, moments_step,
					     variance_final);
	return rc;
}
