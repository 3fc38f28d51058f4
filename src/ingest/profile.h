/*
 * Column profiles: summary statistics of one column, gathered in the same
 * streaming pass that writes the dataset (import.h) and stored with it as a
 * JSON object (sheaf_columns.profile).
 *
 * The importer makes one profile per column with the column's type (and, for
 * numbers, the range found by the inference pass), feeds it every field of
 * the column with one of the profile_add_* functions and finally asks for
 * profile_json().  Adding a value is cheap: the value is hashed once, and
 * nothing is allocated except while a structure grows to its bound.
 *
 * JSON (every key present for the kinds listed; null where there is no
 * value, e.g. in an all-null column):
 *
 *   all kinds       "count" (non-null values), "nulls", "distinct",
 *                   "distinct_exact", "top": [{"value","count"}...] most
 *                   frequent first, ties in value order (numbers ascending,
 *                   text bytewise), "top_exact"
 *   integer, real   "min", "max" (JSON integers for integer columns),
 *                   "mean", "std" (sample, n-1, as pandas; null below 2
 *                   values), "quantiles": {"p25","p50","p75"},
 *                   "quantiles_exact", "histogram": {"edges": [bins+1],
 *                   "counts": [bins]}, "histogram_exact"
 *   boolean         "mean" (the share of true); "top" holds the true/false
 *                   counts (values are JSON booleans)
 *   date, datetime  "min", "max", "quantiles" (ISO text, as stored),
 *                   "quantiles_exact", "histogram": {"unit": "month" |
 *                   "year", "labels": ["2024-03"...] | ["2024"...],
 *                   "counts": [...]}
 *   time            as date, with "unit": "hour", labels "00".."23"
 *   text            "min_length", "max_length" (in code points)
 *
 * Exact and estimated:
 *
 * - count, nulls, min, max, min_length, max_length: exact (integers as
 *   int64, never through a double).  Dates and times are ordered by their
 *   value (datetimes with a zone by the instant); min and max are shown as
 *   the text that was fed.
 * - mean, std: in double precision, by blocks of values whose own mean
 *   and squared deviations are merged into the running ones (Chan, Golub
 *   and LeVeque), so a large offset (1e9 + small noise) does not cancel
 *   the variance away.
 * - distinct: exact while at most INFER_MAX_DISTINCT values are distinct
 *   (a set of 64-bit hashes, so two values that collide count once; at
 *   10,000 values the odds are about 1e-11), then a HyperLogLog sketch
 *   (precision 14, Ertl's improved estimator: standard error about 0.8%)
 *   with distinct_exact false.  Dates, datetimes and times are told apart
 *   by their parsed fields (which their canonical text is a function of),
 *   text that does not parse as one by its bytes.
 * - top: exact counts while distinct is exact, then a Space-Saving summary
 *   (Metwally's Stream-Summary, O(1) per value) of PROFILE_SUMMARY_COUNTERS
 *   counters seeded with the largest exact counts so far; a reported count
 *   is then an upper bound that exceeds the true count by at most
 *   count / PROFILE_SUMMARY_COUNTERS (every value more frequent than that
 *   keeps a counter), and top_exact is false.
 *   Integer, real, datetime and time columns get no summary: past 10,000
 *   distinct values such a column holds ids, amounts or instants, whose
 *   most frequent values mean nothing, and the summary's work on every
 *   value (nearly all new) was most of a profile's cost; their "top" is
 *   then [] (top_exact false).  Integer columns whose range is small keep
 *   exact counts per value (see quantiles) and so exact top values.
 *   Text values are shown truncated to PROFILE_TOP_TEXT_MAX bytes (at a
 *   UTF-8 boundary); they are counted by their full text, so two long
 *   values sharing a prefix are two entries that may look alike.
 * - quantiles: numpy's default 'linear' interpolation (position (n-1)*q),
 *   exact while the column has at most opt->sample non-null values, which
 *   are all kept.  Past that, integer columns whose range is at most
 *   PROFILE_INT_COUNT_RANGE keep a count per value and stay exact (their
 *   distinct and top become exact again from those counts): over
 *   opt->min..max when given, else over a window of that width around the
 *   values seen, which moves while they keep within it; every other
 *   column keeps a uniform reservoir sample of opt->sample values (fixed
 *   seed: the same input gives the same profile) and quantiles_exact is
 *   false.  Date quantiles are interpolated in days and rounded down to a
 *   day; datetime and time quantiles in microseconds.
 * - histogram (numbers): equal-width bins over [opt->min, opt->max] when
 *   opt->have_range (a value outside is put in the first or last bin), else
 *   over the observed range; the last bin includes its upper edge (numpy's
 *   np.histogram rule, edges as np.linspace); a range of a single value
 *   gives one bin.  Binning over an observed range waits for the end, so it
 *   is exact only while all values (or per-value counts) are kept, else it
 *   is scaled from the sample with histogram_exact false.
 * - histogram (dates): by the month of the date as written (a datetime's
 *   own zone), when first to last month, inclusive, span at most
 *   PROFILE_MONTHS_MAX months, else by year; empty months or years in
 *   between are listed with 0.  Times: by hour.  Exact.
 *
 * Memory per column is bounded, whatever the number of rows: the kept
 * values or sample (8 * opt->sample bytes: 800 KB by default), the exact
 * hash table (at most 16,384 slots of 24 bytes and 10,000 text copies of at
 * most 200 bytes; freed when the summary takes over), the summary (about
 * 130 KB), the sketch (16 KB), per-value integer counts (at most 512 KB, in
 * place of the sample) and for dates a year table (72 KB): at most about
 * 3.5 MB, typically well under 1 MB.  A wide file should pass a smaller
 * opt->sample.
 *
 * Cost (release build, one core): about 10-20 ns per value while values
 * repeat, 40-60 ns per value on a column of millions of distinct values
 * (sketch and summary on every value); a date adds its parse.
 *
 * Values of the wrong kind are a caller bug (asserted), except that
 * profile_add_int on a real column adds the value as a real.  Text fed to a
 * date, datetime or time column that does not parse as one (value.h) is
 * counted (count, distinct, top) but left out of min, max, quantiles and
 * the histogram.
 */
#ifndef SHEAF_INGEST_PROFILE_H
#define SHEAF_INGEST_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ingest/infer.h"

#define PROFILE_DEFAULT_BINS 20
#define PROFILE_MAX_BINS 1000
#define PROFILE_DEFAULT_TOP 10
#define PROFILE_MAX_TOP 100
#define PROFILE_DEFAULT_SAMPLE 100000
#define PROFILE_SUMMARY_COUNTERS 512
#define PROFILE_TOP_TEXT_MAX 200
#define PROFILE_INT_COUNT_RANGE 65536   /* max - min, for exact integer quantiles */
#define PROFILE_MONTHS_MAX 120          /* date histograms by month up to this span */

struct profile_options {
	enum column_kind kind;
	bool have_range;           /* min/max below hold the column's range */
	double min, max;           /* numeric range from inference (histogram bins) */
	unsigned bins;             /* histogram bins; 0: 20, at most PROFILE_MAX_BINS */
	unsigned top;              /* top values listed; 0: 10, at most PROFILE_MAX_TOP */
	unsigned sample;           /* values kept for quantiles; 0: PROFILE_DEFAULT_SAMPLE */
};

struct profile;

/* A fresh profile; never NULL (aborts on out of memory).  opt is copied. */
struct profile *profile_new(const struct profile_options *opt);
/* Frees the profile; NULL is allowed. */
void profile_free(struct profile *p);

void profile_add_null(struct profile *p);
/* Integer and boolean (0 or 1) columns; on a real column, adds (double)v. */
void profile_add_int(struct profile *p, int64_t v);
/* Real columns; v must be finite (the parsers never give NaN or inf). */
void profile_add_real(struct profile *p, double v);
/* Text columns, and date, datetime and time columns in their canonical ISO
 * text (import.h).  The bytes are not kept beyond the call (copies of at
 * most PROFILE_TOP_TEXT_MAX bytes are). */
void profile_add_text(struct profile *p, const char *s, size_t len);

/* An integer or real column's smallest and largest value so far; false
 * while it has none (and for other kinds). */
bool profile_range(const struct profile *p, double *min, double *max);

/* A date, datetime or time column's value in its canonical text s and
 * already parsed as v (value.h): profile_add_text without parsing s. */
struct value_datetime;
void profile_add_temporal(struct profile *p, const char *s, size_t len,
			  const struct value_datetime *v);

/* The profile so far as a new JSON object (the caller owns the reference).
 * May be called more than once; p is not changed. */
json_t *profile_json(const struct profile *p);

#endif
