/*
 * The frame kernels; see kernels.h.  Group ids come from the dictionary
 * codes directly when the only key is a text column (an array lookup per
 * row), else from a hash of the key tuple.  Medians gather each group's
 * values contiguously (a counting pass, then a fill) and select in place.
 */
#include "frame/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"

#define MAX_KEYS 16

bool kernel_usable(const struct frame_column *c)
{
	return c->num || (c->code && !c->dict_full);
}

static bool coded(const struct frame_column *c)
{
	return c->code != NULL;
}

/* A row's key part of column c as 64 bits (codes, or a double's bits with
 * -0 made 0). */
static uint64_t key_bits(const struct frame_column *c, size_t r)
{
	if (coded(c))
		return c->code[r];
	double x = c->num[r];
	if (x == 0)
		x = 0;
	uint64_t b;
	memcpy(&b, &x, sizeof b);
	return b;
}

static int cmp_key(const struct frame_column *c, size_t ra, size_t rb)
{
	if (coded(c)) {
		uint32_t a = c->code[ra], b = c->code[rb];
		if (a == b)
			return 0;
		size_t la = c->dict_len[a], lb = c->dict_len[b];
		int d = memcmp(c->dict[a], c->dict[b], la < lb ? la : lb);
		return d ? d : (la < lb ? -1 : la > lb);
	}
	double a = c->num[ra], b = c->num[rb];
	return a < b ? -1 : a > b;
}

/* ---- value counts ---- */

static int by_count_then_value(const void *pa, const void *pb, void *arg)
{
	const struct kernel_count *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	const struct frame_column *c = arg;
	if (coded(c)) {
		size_t la = c->dict_len[a->code], lb = c->dict_len[b->code];
		int d = memcmp(c->dict[a->code], c->dict[b->code], la < lb ? la : lb);
		return d ? d : (la < lb ? -1 : la > lb);
	}
	return a->value < b->value ? -1 : a->value > b->value;
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void kernel_value_counts(const struct frame_column *c, struct kernel_count **out, size_t *n,
			 int64_t *nulls)
{
	*nulls = 0;
	size_t m = 0;
	struct kernel_count *counts;
	if (coded(c)) {
		int64_t *per = xcalloc(c->ndict ? c->ndict : 1, sizeof *per);
		for (size_t r = 0; r < c->n; r++) {
			if (c->code[r] == FRAME_NULL)
				(*nulls)++;
			else
				per[c->code[r]]++;
		}
		counts = xmalloc((c->ndict ? c->ndict : 1) * sizeof *counts);
		for (size_t k = 0; k < c->ndict; k++)
			if (per[k])
				counts[m++] = (struct kernel_count){ (uint32_t)k, 0, per[k] };
		free(per);
	} else {
		size_t nv;
		double *v = kernel_values(c, &nv);
		*nulls = (int64_t)(c->n - nv);
		qsort(v, nv, sizeof *v, by_double);
		counts = xmalloc((nv ? nv : 1) * sizeof *counts);
		for (size_t i = 0; i < nv; ) {
			size_t j = i;
			while (j < nv && v[j] == v[i])
				j++;
			counts[m++] = (struct kernel_count){ 0, v[i], (int64_t)(j - i) };
			i = j;
		}
		free(v);
	}
	qsort_r(counts, m, sizeof *counts, by_count_then_value, (void *)c);
	*out = counts;
	*n = m;
}

/* ---- quantiles ---- */

double *kernel_values(const struct frame_column *c, size_t *n)
{
	double *v = xmalloc((c->n ? c->n : 1) * sizeof *v);
	size_t m = 0;
	for (size_t r = 0; r < c->n; r++) {
		v[m] = c->num[r];
		m += c->valid[r];
	}
	*n = m;
	return v;
}

/* Puts the k-th smallest of v[lo..hi] at v[k] (Hoare's selection). */
static void select_kth(double *v, size_t lo, size_t hi, size_t k)
{
	while (hi > lo) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

/* The smallest value of v[from..n). */
static double min_from(const double *v, size_t from, size_t n)
{
	double m = v[from];
	for (size_t i = from + 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static int by_p(const void *a, const void *b, const double *p)
{
	double x = p[*(const size_t *)a], y = p[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

void kernel_quantiles(double *v, size_t n, const double *p, size_t np, double *out)
{
	if (n == 0) {
		for (size_t i = 0; i < np; i++)
			out[i] = NAN;
		return;
	}
	/* Ascending p, so each selection narrows the next one's range. */
	size_t *order = xmalloc((np ? np : 1) * sizeof *order);
	for (size_t i = 0; i < np; i++)
		order[i] = i;
	for (size_t i = 1; i < np; i++)
		for (size_t j = i; j > 0 && by_p(&order[j], &order[j - 1], p) < 0; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	size_t lo = 0;
	for (size_t oi = 0; oi < np; oi++) {
		size_t i = order[oi];
		double h = (double)(n - 1) * p[i];
		size_t k = (size_t)floor(h);
		if (k >= n)
			k = n - 1;
		select_kth(v, lo, n - 1, k);
		double below = v[k];
		double r = below;
		if (k + 1 < n && h > (double)k)
			r = below + (h - (double)k) * (min_from(v, k + 1, n) - below);
		out[i] = r;
		lo = k;
	}
	free(order);
}

/* ---- correlation ---- */

static double pearson_of(const double *x, const double *y, size_t n)
{
	if (n < 2)
		return NAN;
	double mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	double sxy = 0, sxx = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		double dx = x[i] - mx, dy = y[i] - my;
		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	if (sxx == 0 || syy == 0)
		return NAN;
	double r = sxy / sqrt(sxx * syy);
	return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* The rows where both are valid, as two arrays. */
static size_t pairs(const struct frame_column *a, const struct frame_column *b, double **x,
		    double **y)
{
	size_t n = a->n < b->n ? a->n : b->n;
	*x = xmalloc((n ? n : 1) * sizeof **x);
	*y = xmalloc((n ? n : 1) * sizeof **y);
	size_t m = 0;
	for (size_t r = 0; r < n; r++) {
		(*x)[m] = a->num[r];
		(*y)[m] = b->num[r];
		m += a->valid[r] & b->valid[r];
	}
	return m;
}

double kernel_pearson(const struct frame_column *a, const struct frame_column *b, size_t *rows)
{
	double *x, *y;
	size_t n = pairs(a, b, &x, &y);
	double r = pearson_of(x, y, n);
	free(x);
	free(y);
	*rows = n;
	return r;
}

struct ranked {
	double v;
	size_t i;
};

static int by_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
	return x < y ? -1 : x > y;
}

/* v replaced by its average ranks (1-based; ties share their mean rank). */
static void rank(double *v, size_t n)
{
	struct ranked *r = xmalloc((n ? n : 1) * sizeof *r);
	for (size_t i = 0; i < n; i++)
		r[i] = (struct ranked){ v[i], i };
	qsort(r, n, sizeof *r, by_ranked);
	for (size_t i = 0; i < n; ) {
		size_t j = i;
		while (j < n && r[j].v == r[i].v)
			j++;
		double avg = (double)(i + 1 + j) / 2;   /* ranks i+1 .. j */
		for (size_t k = i; k < j; k++)
			v[r[k].i] = avg;
		i = j;
	}
	free(r);
}

double kernel_spearman(const struct frame_column *a, const struct frame_column *b, size_t *rows)
{
	double *x, *y;
	size_t n = pairs(a, b, &x, &y);
	rank(x, n);
	rank(y, n);
	double r = pearson_of(x, y, n);
	free(x);
	free(y);
	*rows = n;
	return r;
}

/* ---- grouped aggregates ---- */

struct acc {
	int64_t rows, count;
	double sum, mean, m2, min, max;
	size_t min_row, max_row;   /* coded columns: where the least and greatest text is */
};

/* Group ids per row (-1: a NULL key); returns the group count and fills
 * first[g], the first row of each group. */
static size_t assign_groups(const struct frame_column *const *keys, size_t nkeys, int64_t *gid,
			    size_t **first)
{
	size_t n = keys[0]->n, ng = 0, cap = 64;
	*first = xmalloc(cap * sizeof **first);
	if (nkeys == 1 && coded(keys[0])) {
		const struct frame_column *c = keys[0];
		int64_t *map = xmalloc((c->ndict ? c->ndict : 1) * sizeof *map);
		for (size_t k = 0; k < c->ndict; k++)
			map[k] = -1;
		for (size_t r = 0; r < n; r++) {
			uint32_t code = c->code[r];
			if (code == FRAME_NULL) {
				gid[r] = -1;
				continue;
			}
			if (map[code] < 0) {
				if (ng == cap)
					*first = xrealloc(*first, (cap *= 2) * sizeof **first);
				(*first)[ng] = r;
				map[code] = (int64_t)ng++;
			}
			gid[r] = map[code];
		}
		free(map);
		return ng;
	}
	size_t nslots = 1024;
	int64_t *slots = xmalloc(nslots * sizeof *slots);   /* group + 1, 0 empty */
	memset(slots, 0, nslots * sizeof *slots);
	uint64_t *hashes = xmalloc(cap * sizeof *hashes);
	for (size_t r = 0; r < n; r++) {
		uint64_t parts[MAX_KEYS];
		bool null = false;
		for (size_t k = 0; k < nkeys; k++) {
			null |= !keys[k]->valid[r] || (coded(keys[k]) && keys[k]->code[r] == FRAME_NULL);
			parts[k] = key_bits(keys[k], r);
		}
		if (null) {
			gid[r] = -1;
			continue;
		}
		uint64_t h = hash_bytes(parts, nkeys * sizeof *parts);
		size_t i = (size_t)h & (nslots - 1);
		int64_t g = -1;
		while (slots[i]) {
			size_t cand = (size_t)slots[i] - 1;
			if (hashes[cand] == h) {
				size_t fr = (*first)[cand];
				bool same = true;
				for (size_t k = 0; k < nkeys && same; k++)
					same = key_bits(keys[k], fr) == parts[k];
				if (same) {
					g = (int64_t)cand;
					break;
				}
			}
			i = (i + 1) & (nslots - 1);
		}
		if (g < 0) {
			if (ng == cap) {
				cap *= 2;
				*first = xrealloc(*first, cap * sizeof **first);
				hashes = xrealloc(hashes, cap * sizeof *hashes);
			}
			(*first)[ng] = r;
			hashes[ng] = h;
			g = (int64_t)ng++;
			slots[i] = g + 1;
			if (ng * 2 > nslots) {
				size_t nn = nslots * 2;
				int64_t *ns = xmalloc(nn * sizeof *ns);
				memset(ns, 0, nn * sizeof *ns);
				for (size_t q = 0; q < ng; q++) {
					size_t j = (size_t)hashes[q] & (nn - 1);
					while (ns[j])
						j = (j + 1) & (nn - 1);
					ns[j] = (int64_t)q + 1;
				}
				free(slots);
				slots = ns;
				nslots = nn;
			}
		}
		gid[r] = g;
	}
	free(slots);
	free(hashes);
	return ng;
}

struct key_order {
	const struct frame_column *const *keys;
	size_t nkeys;
	const size_t *first;
};

static int by_group_key(const void *pa, const void *pb, void *arg)
{
	const struct key_order *o = arg;
	size_t a = o->first[*(const size_t *)pa], b = o->first[*(const size_t *)pb];
	for (size_t k = 0; k < o->nkeys; k++) {
		int d = cmp_key(o->keys[k], a, b);
		if (d)
			return d;
	}
	return 0;
}

/* Medians of a numeric column per group: NAN for a group without values. */
static void group_medians(const struct frame_column *c, const int64_t *gid, size_t ng,
			  double *out, size_t stride)
{
	size_t n = c->n;
	size_t *start = xcalloc(ng + 1, sizeof *start);
	for (size_t r = 0; r < n; r++)
		if (gid[r] >= 0 && c->valid[r])
			start[gid[r] + 1]++;
	for (size_t g = 0; g < ng; g++)
		start[g + 1] += start[g];
	double *v = xmalloc((start[ng] ? start[ng] : 1) * sizeof *v);
	size_t *fill = xmalloc((ng ? ng : 1) * sizeof *fill);
	memcpy(fill, start, ng * sizeof *fill);
	for (size_t r = 0; r < n; r++)
		if (gid[r] >= 0 && c->valid[r])
			v[fill[gid[r]]++] = c->num[r];
	const double half = 0.5;
	for (size_t g = 0; g < ng; g++)
		kernel_quantiles(v + start[g], start[g + 1] - start[g], &half, 1, &out[g * stride]);
	free(fill);
	free(v);
	free(start);
}

/* Distinct non-NULL values per group. */
static void group_nunique(const struct frame_column *c, const int64_t *gid, size_t ng,
			  double *out, size_t stride)
{
	size_t n = c->n, nslots = 1024, used = 0;
	struct pair { int64_t g; uint64_t v; } *slots = xmalloc(nslots * sizeof *slots);
	for (size_t i = 0; i < nslots; i++)
		slots[i].g = -1;
	int64_t *counts = xcalloc(ng ? ng : 1, sizeof *counts);
	for (size_t r = 0; r < n; r++) {
		if (gid[r] < 0 || !c->valid[r] || (coded(c) && c->code[r] == FRAME_NULL))
			continue;
		uint64_t v = key_bits(c, r);
		uint64_t parts[2] = { (uint64_t)gid[r], v };
		size_t i = (size_t)hash_bytes(parts, sizeof parts) & (nslots - 1);
		while (slots[i].g >= 0 && !(slots[i].g == gid[r] && slots[i].v == v))
			i = (i + 1) & (nslots - 1);
		if (slots[i].g >= 0)
			continue;
		slots[i].g = gid[r];
		slots[i].v = v;
		counts[gid[r]]++;
		if (++used * 2 > nslots) {
			size_t nn = nslots * 2;
			struct pair *ns = xmalloc(nn * sizeof *ns);
			for (size_t q = 0; q < nn; q++)
				ns[q].g = -1;
			for (size_t q = 0; q < nslots; q++) {
				if (slots[q].g < 0)
					continue;
				uint64_t pp[2] = { (uint64_t)slots[q].g, slots[q].v };
				size_t j = (size_t)hash_bytes(pp, sizeof pp) & (nn - 1);
				while (ns[j].g >= 0)
					j = (j + 1) & (nn - 1);
				ns[j] = slots[q];
			}
			free(slots);
			slots = ns;
			nslots = nn;
		}
	}
	for (size_t g = 0; g < ng; g++)
		out[g * stride] = (double)counts[g];
	free(counts);
	free(slots);
}

size_t kernel_group(const struct frame_column *const *keys, size_t nkeys,
		    const struct kernel_agg_spec *specs, size_t nspecs, size_t **group_rows,
		    double **values)
{
	if (nkeys > MAX_KEYS)
		nkeys = MAX_KEYS;
	size_t n = keys[0]->n;
	int64_t *gid = xmalloc((n ? n : 1) * sizeof *gid);
	size_t *first;
	size_t ng = assign_groups(keys, nkeys, gid, &first);
	double *vals = xmalloc((ng * nspecs + 1) * sizeof *vals);
	struct acc *acc = xmalloc((ng ? ng : 1) * sizeof *acc);
	for (size_t s = 0; s < nspecs; s++) {
		const struct frame_column *c = specs[s].col;
		enum kernel_agg agg = specs[s].agg;
		if (agg == AGG_MEDIAN) {
			group_medians(c, gid, ng, vals + s, nspecs);
			continue;
		}
		if (agg == AGG_NUNIQUE) {
			group_nunique(c, gid, ng, vals + s, nspecs);
			continue;
		}
		for (size_t g = 0; g < ng; g++)
			acc[g] = (struct acc){ 0, 0, 0, 0, 0, NAN, NAN, 0, 0 };
		for (size_t r = 0; r < n; r++) {
			int64_t g = gid[r];
			if (g < 0)
				continue;
			struct acc *a = &acc[g];
			a->rows++;
			if (!c || !c->valid[r] || (coded(c) && c->code[r] == FRAME_NULL))
				continue;
			a->count++;
			if (coded(c)) {
				/* min/max of text: by bytes; the answer is the code. */
				if (a->count == 1 || cmp_key(c, r, a->min_row) < 0) {
					a->min_row = r;
					a->min = c->code[r];
				}
				if (a->count == 1 || cmp_key(c, r, a->max_row) > 0) {
					a->max_row = r;
					a->max = c->code[r];
				}
				continue;
			}
			double x = c->num[r];
			a->sum += x;
			double d = x - a->mean;
			a->mean += d / (double)a->count;
			a->m2 += d * (x - a->mean);
			if (a->count == 1 || x < a->min)
				a->min = x;
			if (a->count == 1 || x > a->max)
				a->max = x;
		}
		for (size_t g = 0; g < ng; g++) {
			const struct acc *a = &acc[g];
			double v = NAN;
			switch (agg) {
			case AGG_COUNT_ROWS: v = (double)a->rows; break;
			case AGG_COUNT: v = (double)a->count; break;
			case AGG_SUM: v = a->sum; break;
			case AGG_MEAN: v = a->count ? a->sum / (double)a->count : NAN; break;
			case AGG_MIN: v = a->count ? a->min : NAN; break;
			case AGG_MAX: v = a->count ? a->max : NAN; break;
			case AGG_STD: v = a->count > 1 ? sqrt(a->m2 / (double)(a->count - 1)) : NAN; break;
			default: break;
			}
			vals[g * nspecs + s] = v;
		}
	}
	free(acc);
	free(gid);
	/* Key order. */
	size_t *order = xmalloc((ng ? ng : 1) * sizeof *order);
	for (size_t g = 0; g < ng; g++)
		order[g] = g;
	struct key_order ko = { keys, nkeys, first };
	qsort_r(order, ng, sizeof *order, by_group_key, &ko);
	size_t *rows = xmalloc((ng ? ng : 1) * sizeof *rows);
	double *sorted = xmalloc((ng * nspecs + 1) * sizeof *sorted);
	for (size_t g = 0; g < ng; g++) {
		rows[g] = first[order[g]];
		memcpy(sorted + g * nspecs, vals + order[g] * nspecs, nspecs * sizeof *vals);
	}
	free(order);
	free(first);
	free(vals);
	*group_rows = rows;
	*values = sorted;
	return ng;
}
