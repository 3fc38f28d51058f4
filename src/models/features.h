/*
 * Features: how a dataset's columns become the numeric matrix a model
 * trains on and predicts from, learned once from the training rows and
 * stored with the model.
 *
 *   number     integer, real and boolean columns: the value (true = 1)
 *   category   text columns: a code per category, ordered by the mean
 *              target of its training rows (then by name), so that trees
 *              split categories into low and high groups; a category never
 *              seen in training, or a NULL, is missing (NaN)
 *   date       date and datetime columns: year, month, day and weekday
 *              (Monday 0) features, and the hour for datetimes
 *
 * Time columns (a time of day alone) are used as the hour.  Missing values
 * are NaN everywhere: XGBoost learns where they go.
 */
#ifndef SHEAF_MODELS_FEATURES_H
#define SHEAF_MODELS_FEATURES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "frame/frame.h"

enum feature_encoding { FEATURE_NUMBER, FEATURE_CATEGORY, FEATURE_DATE, FEATURE_TIME };

struct feature {
	char *name;                /* the dataset column */
	enum column_kind kind;
	enum feature_encoding enc;
	char **categories;         /* category: the names in code order */
	size_t ncategories;
	char **sorted;             /* category: the names sorted, for lookup */
	float *sorted_code;        /* their codes */
};

struct feature_set {
	struct feature *f;
	size_t n;
	size_t width;              /* matrix columns */
};

/* Matrix columns one feature makes. */
size_t feature_width(const struct feature *f);

/*
 * Learns the features of columns cols[0..n) (frame columns, all rows) from
 * the training rows rows[0..nrows) with targets y (indexed by row).  Text
 * columns must have their dictionary (not dict_full).  0, or -1 with e set.
 */
int features_fit(struct feature_set *fs, const struct frame_column *const *cols, size_t n,
		 const float *y, const size_t *rows, size_t nrows, struct error *e);

/* The matrix of rows[0..nrows) (nrows * width floats, row-major). */
void features_matrix(const struct feature_set *fs, const struct frame_column *const *cols,
		     const size_t *rows, size_t nrows, float *out);

/* One matrix row (width floats) from an object {column: value}: a missing
 * or null value and an unknown category are NaN; a value of the wrong type
 * is an error naming the column. */
int features_row_json(const struct feature_set *fs, const json_t *obj, float *out,
		      struct error *e);

/* The name of matrix column i ("요일", "사고일시.hour"), written to buf. */
const char *features_column_name(const struct feature_set *fs, size_t i, char *buf, size_t cap);

/* As JSON (stored with the model) and back. */
json_t *features_json(const struct feature_set *fs);
int features_from_json(struct feature_set *fs, const json_t *j, struct error *e);
void features_free(struct feature_set *fs);

#endif
