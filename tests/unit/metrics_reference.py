#!/usr/bin/python3
"""Reference metrics for test_xgb.c from scikit-learn (Debian's python3-sklearn).

    metrics_reference.py FILE NCLASS

FILE has one row per line: label, then the prediction (regression and
binary) or NCLASS probabilities.  Prints rmse mae rmsle accuracy logloss auc
(nan where the metric does not apply), space-separated.
"""
import sys

import numpy as np
from sklearn import metrics


def main():
    rows = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
    nclass = int(sys.argv[2])
    y, p = rows[:, 0], rows[:, 1:]
    out = []
    if nclass == 1:
        pr = p[:, 0]
        out += [np.sqrt(metrics.mean_squared_error(y, pr)), metrics.mean_absolute_error(y, pr),
                np.sqrt(metrics.mean_squared_log_error(y, pr)), np.nan, np.nan, np.nan]
    elif nclass == 2:
        pr = p[:, 0]
        out += [np.nan, np.nan, np.nan, metrics.accuracy_score(y, pr >= 0.5),
                metrics.log_loss(y, pr, labels=[0, 1]), metrics.roc_auc_score(y, pr)]
    else:
        out += [np.nan, np.nan, np.nan, metrics.accuracy_score(y, p.argmax(axis=1)),
                metrics.log_loss(y, p, labels=list(range(nclass))), np.nan]
    print(" ".join(repr(float(v)) for v in out))


main()
