#!/usr/bin/python3
"""The ECLO model trained the Python way, as sheaf's `sheaf train` does it.

    seed_train.py TAAS_CSV [--compare SHEAF_MODEL] [--json]

pandas reads the TAAS CSV, derives the eleven fields and the target as the
SQL of models/eclo/request.json does, splits by time (trained on 2007-2017,
validated on 2018), codes each text field by the mean of the training
target (log1p ECLO) per value, lowest mean first, ties by name; values not
seen in training are missing), and trains XGBoost with the parameters sheaf
passes (src/models/xgb.c; the numbers from request.json).  It prints one
JSON object: the phase times, the validation metrics on the ECLO scale and,
with --compare, how the categories and validation predictions compare with
a sheaf model file.

The same module gives bench/predict/predict.py its accidents (derive()).
"""
import json
import re
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xgboost as xgb  # noqa: E402

T_IMPORTED = time.perf_counter()

FEATURES = ["weather", "road_surface", "road_type", "accident_type", "time_period", "district",
            "day_of_week", "accident_hour", "accident_year", "accident_month", "accident_day"]
CATEGORICAL = FEATURES[:7]
NUMERIC = FEATURES[7:]

# models/eclo/request.json's "params", with what src/models/xgb.c adds:
# objective, tree_method hist, eval_metric rmse, verbosity 0; max_bin is
# left at XGBoost's default (256), as sheaf leaves it.
ROUNDS = 600
PARAMS = {
    "objective": "reg:squarederror", "tree_method": "hist", "verbosity": 0,
    "eval_metric": "rmse", "eta": 0.03, "max_depth": 6, "min_child_weight": 20,
    "subsample": 1, "colsample_bytree": 1, "lambda": 1, "alpha": 0, "seed": 0, "nthread": 2,
}
VALID_FROM = "2018"

# "2016년 1월 1일 01시": sheaf's importer reads it as the datetime
# 2016-01-01T01:00:00, which the request's SQL cuts into year, month, day
# and hour.
WHEN = re.compile(r"^\s*(\d{4})년\s*(\d{1,2})월\s*(\d{1,2})일\s*(\d{1,2})시\s*$")


def derive(df):
    """The eleven fields, occurred_at (ISO text) and eclo from TAAS columns."""
    when = df["사고일시"].str.extract(WHEN.pattern)
    if when.isna().any().any():
        bad = df["사고일시"][when.isna().any(axis=1)].iloc[0]
        raise SystemExit(f"seed_train: 사고일시 {bad!r} is not like '2016년 1월 1일 01시'")
    year, month, day, hour = (when[i].astype("int64") for i in range(4))
    kind = df["사고유형"]
    accident_type = kind.where(~kind.str.contains(" - ", regex=False, na=False),
                               kind.str.split(" - ", n=1).str[0])
    period = np.select([(hour >= 7) & (hour <= 9), (hour >= 17) & (hour <= 19),
                        (hour >= 22) | (hour <= 5)],
                       ["출근시간대", "퇴근시간대", "심야"], "일반시간대")
    out = pd.DataFrame({
        "weather": df["기상상태"], "road_surface": df["노면상태"], "road_type": df["도로형태"],
        "accident_type": accident_type, "time_period": period, "district": df["시군구"],
        "day_of_week": df["요일"], "accident_hour": hour, "accident_year": year,
        "accident_month": month, "accident_day": day,
    })
    out["occurred_at"] = (year.map("{:04d}".format) + "-" + month.map("{:02d}".format) + "-" +
                          day.map("{:02d}".format) + "T" + hour.map("{:02d}".format) + ":00:00")
    out["eclo"] = 10 * df["사망자수"] + 5 * df["중상자수"] + 3 * df["경상자수"] + df["부상신고자수"]
    return out


def fit_categories(values, y):
    """Values of one text column ordered by the mean of y, then by name."""
    codes, uniques = pd.factorize(values)   # NaN -> -1
    ok = codes >= 0
    # Summed in row order in double, as sheaf sums (the order matters for ties).
    sums = np.bincount(codes[ok], weights=y[ok].astype(np.float64), minlength=len(uniques))
    counts = np.bincount(codes[ok], minlength=len(uniques))
    means = sums / counts
    order = sorted(range(len(uniques)), key=lambda i: (means[i], uniques[i]))
    return [uniques[i] for i in order]


def matrix(frame, categories):
    x = np.empty((len(frame), len(FEATURES)), dtype=np.float32)
    for j, name in enumerate(FEATURES):
        if name in categories:
            code = {v: float(i) for i, v in enumerate(categories[name])}
            x[:, j] = frame[name].map(code).to_numpy(dtype=np.float32, na_value=np.nan)
        else:
            x[:, j] = frame[name].to_numpy(dtype=np.float32)
    return x


def rmsle(y, p):
    return float(np.sqrt(np.mean((np.log1p(p.astype(np.float64)) -
                                  np.log1p(y.astype(np.float64))) ** 2)))


def main():
    args = sys.argv[1:]
    compare = None
    if "--compare" in args:
        k = args.index("--compare")
        compare = args[k + 1]
        del args[k:k + 2]
    if len(args) != 1:
        raise SystemExit("usage: seed_train.py TAAS_CSV [--compare SHEAF_MODEL]")
    t = {"import_s": T_IMPORTED - T_START}

    t0 = time.perf_counter()
    df = pd.read_csv(args[0], encoding="utf-8-sig")
    t["read_csv_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    data = derive(df)
    y_orig = data["eclo"].to_numpy(dtype=np.float32)
    data = data[~np.isnan(y_orig)]
    # Time order (ties in file order), as sheaf sorts before splitting.
    data = data.sort_values("occurred_at", kind="stable")
    y_orig = data["eclo"].to_numpy(dtype=np.float32)
    y = np.log1p(y_orig.astype(np.float64)).astype(np.float32)
    is_valid = (data["occurred_at"] >= VALID_FROM).to_numpy()
    train, valid = data[~is_valid], data[is_valid]
    y_train, y_valid, y_valid_orig = y[~is_valid], y[is_valid], y_orig[is_valid]
    categories = {name: fit_categories(train[name].to_numpy(dtype=object), y_train)
                  for name in CATEGORICAL}
    x_train, x_valid = matrix(train, categories), matrix(valid, categories)
    t["derive_encode_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    d_train = xgb.DMatrix(x_train, label=y_train, missing=np.nan)
    d_valid = xgb.DMatrix(x_valid, label=y_valid, missing=np.nan)
    t["dmatrix_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    booster = xgb.train(PARAMS, d_train, num_boost_round=ROUNDS, evals=[(d_valid, "valid")],
                        verbose_eval=False)
    t["xgb_train_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    p = np.expm1(booster.inplace_predict(x_valid).astype(np.float64)).astype(np.float32)
    metrics = {
        "rmse": float(np.sqrt(np.mean((p.astype(np.float64) - y_valid_orig) ** 2))),
        "mae": float(np.mean(np.abs(p.astype(np.float64) - y_valid_orig))),
        "rmsle": rmsle(y_valid_orig, p),
    }
    t["validate_s"] = time.perf_counter() - t0
    t["total_s"] = time.perf_counter() - T_START

    out = {"times": t, "metrics": metrics, "training_rows": int(len(train)),
           "validation_rows": int(len(valid)), "xgboost": xgb.__version__,
           "pandas": pd.__version__, "numpy": np.__version__}

    if compare:
        raw = open(compare, "rb").read()
        nl = raw.index(b"\n")
        info = json.loads(raw[:nl])["info"]
        theirs = {f["name"]: f.get("categories") for f in info["features"]}
        same = [name for name in CATEGORICAL if theirs.get(name) == categories[name]]
        sheaf = xgb.Booster()
        sheaf.load_model(bytearray(raw[nl + 1:]))
        x_theirs = matrix(valid, {n: theirs[n] for n in CATEGORICAL})
        q = np.expm1(sheaf.inplace_predict(x_theirs).astype(np.float64)).astype(np.float32)
        out["compare"] = {
            "categories_identical": same,
            "categories_differ": [n for n in CATEGORICAL if n not in same],
            "sheaf_rmsle_recomputed": rmsle(y_valid_orig, q),
            "max_abs_diff_eclo": float(np.max(np.abs(p.astype(np.float64) - q))),
            "sheaf_validation_rows": int(info.get("validation", {}).get("rows", -1)),
            "sheaf_training_rows": int(info.get("training_rows", -1)),
            "sheaf_rmsle": info.get("validation", {}).get("metrics", {}).get("rmsle"),
        }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
