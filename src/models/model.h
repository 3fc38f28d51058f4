/*
 * A trained model: what it predicts, from which features encoded how
 * (features.h), the booster (xgb.h), how well it did on held-out rows
 * (metrics.h), and how it was made.  Trained from frame columns, saved as
 * one byte string (a JSON header line, then XGBoost's bytes), predicted
 * from JSON rows on the original scale.
 *
 * Validation: "random" holds out a seeded random fraction of the rows with
 * a target; "time" holds out the latest fraction by a date or datetime
 * column (ISO text sorts by time).  Regression may train on log1p of the
 * target (for skewed, non-negative targets); predictions and metrics are
 * always on the original scale.  Classification targets are classes: the
 * distinct values of a text or boolean column, or of an integer column
 * with few values; predictions are the most probable class with each
 * class's probability.
 *
 * A model predicts from many threads at once.
 */
#ifndef SHEAF_MODELS_MODEL_H
#define SHEAF_MODELS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "frame/frame.h"
#include "models/features.h"
#include "models/xgb.h"

#define MODEL_MAX_CLASSES 100

struct model_spec {
	enum xgb_task task;         /* XGB_REGRESSION, or XGB_BINARY (classification) */
	bool log_target;            /* regression: train on log1p(target) */
	struct xgb_params params;
	const char *split;          /* "random" or "time" */
	double fraction;            /* held out, 0 < f < 1 */
	const struct frame_column *time_column;   /* split "time" */
	const char *valid_from;     /* split "time": hold out rows at or after this time
				     * (ISO text, e.g. "2018" or "2018-07-01") instead of
				     * a fraction; NULL to use fraction */
	uint64_t seed;              /* split "random" */
};

struct model;

/* Called with per mille of training done; false stops. */
typedef bool (*model_progress_fn)(void *arg, int per_mille);

/*
 * Trains on features[0..n) to predict target (frame columns of one
 * dataset).  Rows without a target are left out.  NULL with e set: too few
 * rows, a target of the wrong kind, too many classes, training failed.
 */
struct model *model_train(const struct frame_column *const *features, size_t n,
			  const struct frame_column *target, const struct model_spec *spec,
			  model_progress_fn progress, void *arg, struct error *e);

/* {"task","target","log_target","features":[…],"classes"?,"params":{…},
 *  "validation":{"split","fraction","rows","metrics":{…}},"training_rows",
 *  "importance":[{"feature","gain"}…],"training_ms","xgboost"} (a new reference). */
json_t *model_info(const struct model *m);

/*
 * Predictions for rows (an array of objects), in order: regression an
 * array of numbers; classification an array of {"class","probabilities"}.
 * NULL with e set (naming the row and the column) when a row is not an
 * object or holds a value of the wrong type.
 */
json_t *model_predict(struct model *m, const json_t *rows, struct error *e);

/*
 * Like model_predict, but a bad row does not stop the others: item i of
 * the array is row i's prediction, or null with errors[i] set to a
 * malloc'd message (errors has a slot per row, all set to NULL first).
 * NULL with e set only when prediction itself failed.
 */
json_t *model_predict_each(struct model *m, const json_t *rows, char **errors,
			   struct error *e);

/* What the model reads from a row: its features (names, encodings and,
 * for categories, the values seen in training). */
const struct feature_set *model_features(const struct model *m);

/* The model as bytes (its info without training_ms: equal training gives
 * equal bytes), and back. */
int model_save(struct model *m, char **out, size_t *len, struct error *e);
struct model *model_load(const char *data, size_t len, struct error *e);
void model_free(struct model *m);   /* NULL is fine */

#endif
