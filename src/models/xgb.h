/*
 * Gradient-boosted trees through XGBoost's C API (Debian libxgboost-dev):
 * training on a dense matrix, prediction, saving and loading, feature
 * importances.  Everything above this file (features, encodings, metrics,
 * the model registry) is sheaf's; this is only the library's calls, their
 * errors turned into struct error, and the JSON they take.
 *
 * Matrices are row-major floats with NAN for a missing value, all features
 * numeric (categories arrive already encoded as numbers: see features.h).
 *
 * Threads: a struct xgb_model predicts from many threads at once (XGBoost's
 * in-place prediction does not change the booster); training is one call
 * on one thread.
 */
#ifndef SHEAF_MODELS_XGB_H
#define SHEAF_MODELS_XGB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum xgb_task {
	XGB_REGRESSION,     /* reg:squarederror */
	XGB_BINARY,         /* binary:logistic: predictions are P(class 1) */
	XGB_MULTICLASS,     /* multi:softprob: predictions are nclass probabilities */
};

struct xgb_matrix {
	const float *x;            /* nrow * ncol, row-major, NAN = missing */
	size_t nrow, ncol;
	const float *y;            /* nrow labels (training only) */
};

struct xgb_params {
	enum xgb_task task;
	int nclass;                /* XGB_MULTICLASS only */
	int rounds;                /* boosting rounds */
	double eta, max_depth, min_child_weight, subsample, colsample_bytree, lambda, alpha;
	uint64_t seed;
	int threads;               /* 0: XGBoost's default */
};

/* The defaults: 200 rounds, eta 0.1, depth 6, min_child_weight 1,
 * subsample 1, colsample 1, lambda 1, alpha 0, seed 0. */
void xgb_params_default(struct xgb_params *p, enum xgb_task task);

struct xgb_model;

/* Called after each round with the round (1-based) and the validation
 * metric when there is a validation matrix (else NAN); false stops. */
typedef bool (*xgb_progress_fn)(void *arg, int round, int rounds, double valid_metric);

/* Trains on train (valid may be NULL).  NULL with e set on failure. */
struct xgb_model *xgb_train(const struct xgb_matrix *train, const struct xgb_matrix *valid,
			    const struct xgb_params *p, xgb_progress_fn progress, void *arg,
			    struct error *e);

/* Predictions for x's rows into out: nrow values, or nrow * nclass for
 * XGB_MULTICLASS.  0, or -1 with e set. */
int xgb_predict(struct xgb_model *m, const struct xgb_matrix *x, float *out, struct error *e);

/* The model as bytes (XGBoost's UBJSON form, malloc'd), and back. */
int xgb_save(struct xgb_model *m, char **out, size_t *len, struct error *e);
struct xgb_model *xgb_load(const void *data, size_t len, struct error *e);

/* Total gain per feature (ncol values, 0 for unused features). */
int xgb_importance(struct xgb_model *m, double *gain, struct error *e);

size_t xgb_ncol(const struct xgb_model *m);
void xgb_free(struct xgb_model *m);   /* NULL is fine */

/* XGBoost's version, e.g. "1.7.4" ("unavailable" when the library cannot be
 * loaded: it is loaded on first use, see base/dynlib.h). */
void xgb_version(char *out, size_t cap);

#endif
