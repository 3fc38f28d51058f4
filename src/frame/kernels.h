/*
 * Tight loops over frame columns (frame.h) for the analysis tools: value
 * counts, quantiles, pairwise correlation sums and grouped aggregates.
 * Pure computation: no JSON, no SQL; the tools shape the answers.
 *
 * Semantics follow pandas: NULLs (invalid rows) are skipped, groups with a
 * NULL key are left out, quantiles interpolate linearly between ranks, the
 * standard deviation is the sample one (n - 1).
 */
#ifndef SHEAF_FRAME_KERNELS_H
#define SHEAF_FRAME_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame/frame.h"

/* Whether the kernels can work on c: numbers, or text with its dictionary. */
bool kernel_usable(const struct frame_column *c);

/* ---- value counts ---- */

/* One distinct value and how many rows hold it.  For a coded column,
 * code indexes its dictionary; for a numeric one, value is the number. */
struct kernel_count {
	uint32_t code;
	double value;
	int64_t count;
};

/*
 * Counts of c's distinct non-NULL values, most frequent first, ties by
 * value ascending (text in byte order, numbers numerically).  *out holds
 * all of them (*n), malloc'd; *nulls the NULL rows.
 */
void kernel_value_counts(const struct frame_column *c, struct kernel_count **out, size_t *n,
			 int64_t *nulls);

/* ---- quantiles ---- */

/* The valid values of a numeric column, copied (malloc'd, *n of them). */
double *kernel_values(const struct frame_column *c, size_t *n);
/* The p-quantiles (each in 0..1) of v[0..n), written to out[0..np);
 * reorders v (selection, not a full sort). */
void kernel_quantiles(double *v, size_t n, const double *p, size_t np, double *out);

/* ---- correlation ---- */

/* Pearson's r of the rows where both a and b are valid (NAN when fewer
 * than 2 rows or a constant side), and that row count. */
double kernel_pearson(const struct frame_column *a, const struct frame_column *b, size_t *rows);
/* Spearman's rho: Pearson's r of average ranks over the same rows. */
double kernel_spearman(const struct frame_column *a, const struct frame_column *b, size_t *rows);

/* ---- grouped aggregates ---- */

enum kernel_agg {
	AGG_COUNT_ROWS,   /* rows of the group */
	AGG_COUNT,        /* non-NULL values */
	AGG_SUM,
	AGG_MEAN,
	AGG_MIN,
	AGG_MAX,
	AGG_MEDIAN,
	AGG_STD,          /* sample */
	AGG_NUNIQUE,
};

struct kernel_agg_spec {
	enum kernel_agg agg;
	const struct frame_column *col;   /* NULL for AGG_COUNT_ROWS */
};

/*
 * Groups rows by keys[0..nkeys) (rows with a NULL key are left out) and
 * computes specs[0..nspecs) per group.  Groups come out in key order (each
 * key ascending: text by bytes, numbers numerically).  *group_rows[g] is a
 * representative row of group g (to read its key values), values[g *
 * nspecs + s] the result (NAN when undefined: mean of nothing, std of one
 * value); min and max of a coded column are codes (as doubles) into its
 * dictionary.  All malloc'd.  Returns the number of groups.
 */
size_t kernel_group(const struct frame_column *const *keys, size_t nkeys,
		    const struct kernel_agg_spec *specs, size_t nspecs, size_t **group_rows,
		    double **values);

#endif
