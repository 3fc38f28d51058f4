#!/usr/bin/python3
"""Reference predictions for test_xgb.c from Debian's python3-xgboost.

    xgb_reference.py DIR TASK NCLASS ROUNDS

Reads DIR/train.csv and DIR/test.csv (features..., label; empty = missing),
trains with the same parameters test_xgb.c gives the C API, and writes the
test rows' predictions to DIR/reference.txt, one number per line (nclass
per row for multiclass, row by row).
"""
import sys

import numpy as np
import xgboost as xgb


def load(path):
    rows = [line.rstrip("\n").split(",") for line in open(path)]
    m = np.array([[float(v) if v != "" else np.nan for v in r] for r in rows], dtype=np.float32)
    return m[:, :-1], m[:, -1]


def main():
    d, task, nclass, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    xtr, ytr = load(f"{d}/train.csv")
    xte, _ = load(f"{d}/test.csv")
    objective = {"regression": "reg:squarederror", "binary": "binary:logistic",
                 "multiclass": "multi:softprob"}[task]
    params = {"objective": objective, "tree_method": "hist", "eta": 0.3, "max_depth": 4,
              "min_child_weight": 1, "subsample": 1, "colsample_bytree": 1, "lambda": 1,
              "alpha": 0, "seed": 0, "nthread": 1, "verbosity": 0}
    if task == "multiclass":
        params["num_class"] = nclass
    booster = xgb.train(params, xgb.DMatrix(xtr, label=ytr, missing=np.nan), rounds)
    pred = booster.predict(xgb.DMatrix(xte, missing=np.nan))
    with open(f"{d}/reference.txt", "w") as f:
        for v in np.asarray(pred).ravel():
            f.write(f"{float(v):.9g}\n")


main()
