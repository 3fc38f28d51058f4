/* Validation metrics; see metrics.h. */
#include "models/metrics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "base/alloc.h"

double metric_rmse(const float *y, const float *pred, size_t n)
{
	if (!n)
		return NAN;
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += ((double)pred[i] - y[i]) * ((double)pred[i] - y[i]);
	return sqrt(s / (double)n);
}

double metric_mae(const float *y, const float *pred, size_t n)
{
	if (!n)
		return NAN;
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += fabs((double)pred[i] - y[i]);
	return s / (double)n;
}

double metric_rmsle(const float *y, const float *pred, size_t n)
{
	if (!n)
		return NAN;
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		if (y[i] <= -1 || pred[i] <= -1)
			return NAN;
		double d = log1p(pred[i]) - log1p(y[i]);
		s += d * d;
	}
	return sqrt(s / (double)n);
}

static int predicted_class(const float *p, size_t i, int nclass)
{
	if (nclass <= 2)
		return p[i] >= 0.5f;
	int best = 0;
	for (int k = 1; k < nclass; k++)
		if (p[i * (size_t)nclass + k] > p[i * (size_t)nclass + best])
			best = k;
	return best;
}

double metric_accuracy(const float *y, const float *p, size_t n, int nclass)
{
	if (!n)
		return NAN;
	size_t right = 0;
	for (size_t i = 0; i < n; i++)
		right += predicted_class(p, i, nclass) == (int)y[i];
	return (double)right / (double)n;
}

static double clip(double p)
{
	return p < DBL_EPSILON ? DBL_EPSILON : p > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : p;
}

double metric_logloss(const float *y, const float *p, size_t n, int nclass)
{
	if (!n)
		return NAN;
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		if (nclass <= 2) {
			double q = clip(p[i]);
			s -= y[i] >= 0.5f ? log(q) : log(1 - q);
		} else {
			/* Rows renormalised after clipping, as scikit-learn does. */
			double sum = 0;
			for (int k = 0; k < nclass; k++)
				sum += clip(p[i * (size_t)nclass + k]);
			s -= log(clip(p[i * (size_t)nclass + (size_t)y[i]]) / sum);
		}
	}
	return s / (double)n;
}

struct scored {
	float p;
	int y;
};

static int by_score(const void *a, const void *b)
{
	float x = ((const struct scored *)a)->p, z = ((const struct scored *)b)->p;
	return x < z ? -1 : x > z;
}

double metric_auc(const float *y, const float *p, size_t n)
{
	struct scored *s = xmalloc((n ? n : 1) * sizeof *s);
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		s[i] = (struct scored){ p[i], y[i] >= 0.5f };
		pos += s[i].y;
	}
	size_t neg = n - pos;
	if (!pos || !neg) {
		free(s);
		return NAN;
	}
	qsort(s, n, sizeof *s, by_score);
	/* Sum of the positives' ranks, ties at their average rank. */
	double ranks = 0;
	for (size_t i = 0; i < n; ) {
		size_t j = i, npos = 0;
		while (j < n && s[j].p == s[i].p)
			npos += (size_t)s[j++].y;
		ranks += (double)npos * ((double)(i + 1 + j) / 2);
		i = j;
	}
	free(s);
	return (ranks - (double)pos * (double)(pos + 1) / 2) / ((double)pos * (double)neg);
}
