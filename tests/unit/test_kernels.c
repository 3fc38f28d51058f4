/*
 * Frame kernels (frame/kernels.h) against slow, obvious computations on
 * random columns with NULLs, ties, negative zero and a text key: value
 * counts and their order, quantiles (selection against a full sort),
 * Pearson and Spearman with ties, grouped aggregates by one text key, by
 * a number key and by two keys, in key order.
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
#include "frame/kernels.h"

#define N 3000

static uint64_t rng = 42;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct frame_column numeric(enum column_kind kind, int nulls_every, int distinct)
{
	struct frame_column c = { 0 };
	c.kind = kind;
	c.n = N;
	c.valid = xmalloc(N);
	c.num = xmalloc(N * sizeof *c.num);
	for (size_t r = 0; r < N; r++) {
		c.valid[r] = nulls_every ? r % (size_t)nulls_every != 0 : 1;
		double x = (double)(next() % (uint64_t)distinct) - distinct / 2.0;
		if (kind == COLUMN_REAL)
			x /= 4;
		c.num[r] = c.valid[r] ? (x == 0 && r % 2 ? -0.0 : x) : 0;
	}
	return c;
}

static const char *const words[] = { "대구", "서울", "b", "a", "a,b", "" };

static struct frame_column text(int nulls_every)
{
	struct frame_column c = { 0 };
	c.kind = COLUMN_TEXT;
	c.n = N;
	c.valid = xmalloc(N);
	c.code = xmalloc(N * sizeof *c.code);
	c.ndict = 6;
	c.dict = xmalloc(6 * sizeof *c.dict);
	c.dict_len = xmalloc(6 * sizeof *c.dict_len);
	for (size_t k = 0; k < 6; k++) {
		c.dict[k] = xstrdup(words[k]);
		c.dict_len[k] = (uint32_t)strlen(words[k]);
	}
	for (size_t r = 0; r < N; r++) {
		bool null = nulls_every && r % (size_t)nulls_every == 0;
		c.valid[r] = !null;
		c.code[r] = null ? FRAME_NULL : (uint32_t)(next() % 6);
	}
	return c;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void test_value_counts(void **state)
{
	(void)state;
	struct frame_column t = text(10), x = numeric(COLUMN_INT, 7, 9);
	struct kernel_count *vc;
	size_t n;
	int64_t nulls;
	kernel_value_counts(&t, &vc, &n, &nulls);
	assert_int_equal(nulls, N / 10);
	int64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t want = 0;
		for (size_t r = 0; r < N; r++)
			want += t.code[r] == vc[i].code;
		assert_int_equal(vc[i].count, want);
		total += vc[i].count;
		if (i) {   /* count descending, then text ascending */
			assert_true(vc[i - 1].count >= vc[i].count);
			if (vc[i - 1].count == vc[i].count)
				assert_true(strcmp(t.dict[vc[i - 1].code], t.dict[vc[i].code]) < 0);
		}
	}
	assert_int_equal(total + nulls, N);
	free(vc);
	kernel_value_counts(&x, &vc, &n, &nulls);
	assert_int_equal(n, 9);                       /* -0 and 0 are one value */
	total = 0;
	for (size_t i = 0; i < n; i++)
		total += vc[i].count;
	assert_int_equal(total + nulls, N);
	free(vc);
	frame_column_free(&t);
	frame_column_free(&x);
}

static void test_quantiles(void **state)
{
	(void)state;
	for (int distinct = 1; distinct <= 2000; distinct *= 7) {
		struct frame_column c = numeric(COLUMN_REAL, 5, distinct);
		size_t n;
		double *v = kernel_values(&c, &n);
		double *sorted = xmalloc(n * sizeof *sorted);
		memcpy(sorted, v, n * sizeof *v);
		qsort(sorted, n, sizeof *sorted, cmp_double);
		const double p[] = { 0.9, 0, 0.25, 0.5, 0.75, 1, 0.01, 0.5 };
		double out[8];
		kernel_quantiles(v, n, p, 8, out);
		for (size_t i = 0; i < 8; i++) {
			double h = (double)(n - 1) * p[i];
			size_t lo = (size_t)floor(h);
			double want = lo + 1 < n ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo])
						 : sorted[n - 1];
			assert_true(fabs(out[i] - want) <= 1e-12 * (1 + fabs(want)));
		}
		free(v);
		free(sorted);
		frame_column_free(&c);
	}
	double none[1];
	const double half = 0.5;
	kernel_quantiles(none, 0, &half, 1, none);
	assert_true(isnan(none[0]));
}

static double naive_pearson(const double *x, const double *y, size_t n)
{
	double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
	}
	double mx = sx / n, my = sy / n;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	return sxy / sqrt(sxx * syy);
}

static void test_correlation(void **state)
{
	(void)state;
	struct frame_column a = numeric(COLUMN_REAL, 3, 50), b = numeric(COLUMN_INT, 4, 7);
	for (size_t r = 0; r < N; r++)   /* related, with ties in b */
		a.num[r] += b.valid[r] ? 3 * b.num[r] : 0;
	double *x = xmalloc(N * sizeof *x), *y = xmalloc(N * sizeof *y);
	size_t m = 0;
	for (size_t r = 0; r < N; r++)
		if (a.valid[r] && b.valid[r]) {
			x[m] = a.num[r];
			y[m++] = b.num[r];
		}
	size_t rows;
	double r = kernel_pearson(&a, &b, &rows);
	assert_int_equal(rows, m);
	assert_true(fabs(r - naive_pearson(x, y, m)) < 1e-12);
	assert_true(r > 0.5);
	/* Spearman: Pearson of average ranks, computed the slow way. */
	double *rx = xmalloc(m * sizeof *rx), *ry = xmalloc(m * sizeof *ry);
	for (size_t i = 0; i < m; i++) {
		double lx = 0, ex = 0, ly = 0, ey = 0;
		for (size_t j = 0; j < m; j++) {
			lx += x[j] < x[i];
			ex += x[j] == x[i];
			ly += y[j] < y[i];
			ey += y[j] == y[i];
		}
		rx[i] = lx + (ex + 1) / 2;
		ry[i] = ly + (ey + 1) / 2;
	}
	double s = kernel_spearman(&a, &b, &rows);
	assert_true(fabs(s - naive_pearson(rx, ry, m)) < 1e-12);
	/* A constant column has no correlation. */
	struct frame_column k = numeric(COLUMN_INT, 0, 1);
	assert_true(isnan(kernel_pearson(&a, &k, &rows)));
	free(x);
	free(y);
	free(rx);
	free(ry);
	frame_column_free(&a);
	frame_column_free(&b);
	frame_column_free(&k);
}

/* The slow way: for group g (rows where key(r) == key(row)), each spec. */
static void check_groups(const struct frame_column *const *keys, size_t nkeys,
			 const struct kernel_agg_spec *specs, size_t nspecs)
{
	size_t *rows;
	double *vals;
	size_t ng = kernel_group(keys, nkeys, specs, nspecs, &rows, &vals);
	size_t covered = 0;
	for (size_t g = 0; g < ng; g++) {
		double *v = xmalloc(N * sizeof *v);
		for (size_t s = 0; s < nspecs; s++) {
			const struct frame_column *c = specs[s].col;
			size_t nv = 0, nrows = 0;
			for (size_t r = 0; r < N; r++) {
				bool same = true;
				for (size_t k = 0; k < nkeys; k++) {
					const struct frame_column *kc = keys[k];
					same = same && kc->valid[r] &&
					       (kc->code ? kc->code[r] == kc->code[rows[g]]
							 : kc->num[r] == kc->num[rows[g]]);
				}
				if (!same)
					continue;
				nrows++;
				if (c && c->valid[r])
					v[nv++] = c->num[r];
			}
			if (s == 0)
				covered += nrows;
			double want = NAN, sum = 0;
			for (size_t i = 0; i < nv; i++)
				sum += v[i];
			qsort(v, nv, sizeof *v, cmp_double);
			switch (specs[s].agg) {
			case AGG_COUNT_ROWS: want = (double)nrows; break;
			case AGG_COUNT: want = (double)nv; break;
			case AGG_SUM: want = sum; break;
			case AGG_MEAN: want = nv ? sum / nv : NAN; break;
			case AGG_MIN: want = nv ? v[0] : NAN; break;
			case AGG_MAX: want = nv ? v[nv - 1] : NAN; break;
			case AGG_MEDIAN:
				want = nv ? (nv % 2 ? v[nv / 2] : (v[nv / 2 - 1] + v[nv / 2]) / 2) : NAN;
				break;
			case AGG_STD: {
				double ss = 0, mean = nv ? sum / nv : 0;
				for (size_t i = 0; i < nv; i++)
					ss += (v[i] - mean) * (v[i] - mean);
				want = nv > 1 ? sqrt(ss / (nv - 1)) : NAN;
				break;
			}
			case AGG_NUNIQUE: {
				size_t d = 0;
				for (size_t i = 0; i < nv; i++)
					d += i == 0 || v[i] != v[i - 1];
				want = (double)d;
				break;
			}
			}
			double got = vals[g * nspecs + s];
			if (isnan(want))
				assert_true(isnan(got));
			else
				assert_true(fabs(got - want) <= 1e-9 * (1 + fabs(want)));
		}
		free(v);
		/* Key order. */
		if (g) {
			int d = 0;
			for (size_t k = 0; k < nkeys && !d; k++) {
				const struct frame_column *kc = keys[k];
				if (kc->code)
					d = strcmp(kc->dict[kc->code[rows[g - 1]]], kc->dict[kc->code[rows[g]]]);
				else
					d = kc->num[rows[g - 1]] < kc->num[rows[g]] ? -1
					    : kc->num[rows[g - 1]] > kc->num[rows[g]];
			}
			assert_true(d < 0);
		}
	}
	size_t keyed = 0;   /* rows with no NULL key: every one in some group */
	for (size_t r = 0; r < N; r++) {
		bool ok = true;
		for (size_t k = 0; k < nkeys; k++)
			ok = ok && keys[k]->valid[r];
		keyed += ok;
	}
	assert_int_equal(covered, keyed);
	free(rows);
	free(vals);
}

static void test_group(void **state)
{
	(void)state;
	struct frame_column t = text(13), k = numeric(COLUMN_INT, 11, 5), v = numeric(COLUMN_REAL, 6, 40);
	const struct kernel_agg_spec specs[] = {
		{ AGG_COUNT_ROWS, NULL }, { AGG_COUNT, &v }, { AGG_SUM, &v }, { AGG_MEAN, &v },
		{ AGG_MIN, &v }, { AGG_MAX, &v }, { AGG_MEDIAN, &v }, { AGG_STD, &v },
		{ AGG_NUNIQUE, &v },
	};
	const struct frame_column *by_text[] = { &t }, *by_num[] = { &k }, *by_both[] = { &t, &k };
	check_groups(by_text, 1, specs, 9);
	check_groups(by_num, 1, specs, 9);
	check_groups(by_both, 2, specs, 9);
	frame_column_free(&t);
	frame_column_free(&k);
	frame_column_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_counts),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_correlation),
		cmocka_unit_test(test_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
