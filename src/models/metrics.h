/*
 * Validation metrics of a model's predictions, as scikit-learn defines them:
 * regression RMSE, MAE and RMSLE (log1p of both sides, so negative values
 * are an error: NAN); classification accuracy, log loss (probabilities
 * clipped to [eps, 1 - eps], eps the double's machine epsilon, as
 * scikit-learn 1.2 does) and AUC (binary: the area under the ROC
 * curve with ties counted half, the Mann-Whitney statistic; NAN when one
 * class is absent).
 */
#ifndef SHEAF_MODELS_METRICS_H
#define SHEAF_MODELS_METRICS_H

#include <stddef.h>

double metric_rmse(const float *y, const float *pred, size_t n);
double metric_mae(const float *y, const float *pred, size_t n);
double metric_rmsle(const float *y, const float *pred, size_t n);

/* Binary: p[i] is P(class 1), labels 0/1, a prediction counts as 1 when
 * p >= 0.5.  Multiclass (nclass > 2): p holds nclass probabilities per row
 * and the predicted class is the most probable (the first of ties). */
double metric_accuracy(const float *y, const float *p, size_t n, int nclass);
double metric_logloss(const float *y, const float *p, size_t n, int nclass);
double metric_auc(const float *y, const float *p, size_t n);

#endif
