"""Helpers for the model tests (tests/api/test_models.py).

An independent reading of the documented training rules, written from the
API description (README, the route's description) and the model code's
comments, never from sheaf's answers:

- ``holdout``, ``random_split``, ``time_split``: which rows are held out
  for validation (a seeded Fisher-Yates shuffle driven by splitmix64 over
  the rows that have a target, the last round(fraction * n) rows held out;
  or the latest rows by the time column's text, ties by row order);
- ``fit_categories``: a text column's categories coded by their mean
  target over the training rows (ties by name);
- ``date_parts``, ``matrix``: the feature matrix (numbers as they are,
  dates as year, month, day, weekday with Monday 0, plus hour for a
  datetime; a time of day as its hour; a missing value or unknown category
  is NaN);
- ``booster``: the same model trained with the python xgboost package and
  the parameters sheaf documents (hist trees);
- ``train`` / ``wait_model``: POST /api/models and polling its status.
"""

import datetime as dt
import math
import time

import numpy as np
import pytest

MASK64 = (1 << 64) - 1


# --------------------------------------------------------------------------
# the split


def splitmix64(state):
    """One step of splitmix64: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def holdout(m, fraction):
    """How many of m rows are held out: round(m * fraction) (halves away
    from zero), at least 1 and at most m - 1."""
    k = int(math.floor(m * fraction + 0.5))
    return max(1, min(k, m - 1))


def random_split(rows, fraction, seed):
    """(train, valid) row indexes: rows (those with a target, in row order)
    shuffled by Fisher-Yates from the end with splitmix64(seed), the last
    k held out."""
    rows = list(rows)
    m = len(rows)
    k = holdout(m, fraction)
    state = seed & MASK64
    for i in range(m - 1, 0, -1):
        state, r = splitmix64(state)
        j = r % (i + 1)
        rows[i], rows[j] = rows[j], rows[i]
    return rows[:m - k], rows[m - k:]


def time_split(rows, times, fraction=0.2, start=None):
    """(train, valid): rows sorted by their time text (no time first, ties
    by row order); the last round(fraction * n) held out, or with ``start``
    the rows whose time text is >= start."""
    rows = sorted(rows, key=lambda r: (times[r] is not None, times[r] or "", r))
    m = len(rows)
    if start is None:
        k = holdout(m, fraction)
    else:
        k = sum(1 for r in rows if times[r] is not None and times[r] >= start)
    return rows[:m - k], rows[m - k:]


# --------------------------------------------------------------------------
# features


def fit_categories(values, y, train_rows):
    """Category names in code order: by the mean of y (float32 targets,
    summed as doubles in training-row order) over the training rows with a
    value, ties by name; names never seen in training are left out."""
    sums, counts = {}, {}
    for r in train_rows:
        v = values[r]
        if v is None or np.isnan(y[r]):
            continue
        sums[v] = sums.get(v, 0.0) + float(y[r])
        counts[v] = counts.get(v, 0) + 1
    return sorted(sums, key=lambda v: (sums[v] / counts[v], v.encode()))


def date_parts(text, with_hour):
    """[year, month, day, weekday (Mon 0)] (+ hour) of a canonical date or
    datetime text; NaNs for None."""
    width = 5 if with_hour else 4
    if text is None:
        return [math.nan] * width
    d = dt.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    out = [d.year, d.month, d.day, d.weekday()]
    if with_hour:
        out.append(int(text[11:13]) if len(text) > 10 else 0)
    return out


def time_hour(text):
    """The hour of a canonical time text ("HH:MM:SS"); NaN for None."""
    return math.nan if text is None else int(text[0:2])


class Feature:
    """One feature: its column's values (None: missing) and how it is
    encoded ("number", "category", "date", "datetime" or "time")."""

    def __init__(self, name, kind, values):
        self.name, self.kind, self.values = name, kind, values
        self.categories = None

    @property
    def width(self):
        return {"date": 4, "datetime": 5}.get(self.kind, 1)

    def fit(self, y, train_rows):
        if self.kind == "category":
            self.categories = fit_categories(self.values, y, train_rows)
        return self

    def encode(self, v):
        if self.kind == "number":
            return [math.nan if v is None else float(v)]
        if self.kind == "category":
            codes = {c: i for i, c in enumerate(self.categories)}
            return [codes.get(v, math.nan) if v is not None else math.nan]
        if self.kind == "time":
            return [time_hour(v)]
        return date_parts(v, self.kind == "datetime")


def matrix(features, rows):
    """The float32 matrix of rows (one row per index, the features' columns
    side by side)."""
    out = np.empty((len(rows), sum(f.width for f in features)), dtype=np.float32)
    at = 0
    for f in features:
        if f.kind == "category":
            codes = {c: float(i) for i, c in enumerate(f.categories)}
            col = [codes.get(f.values[r], math.nan) if f.values[r] is not None else math.nan
                   for r in rows]
            out[:, at] = np.array(col, dtype=np.float32)
        else:
            out[:, at:at + f.width] = np.array([f.encode(f.values[r]) for r in rows],
                                               dtype=np.float32).reshape(len(rows), f.width)
        at += f.width
    return out


# --------------------------------------------------------------------------
# python xgboost


DEFAULT_PARAMS = {"rounds": 200, "eta": 0.1, "max_depth": 6, "min_child_weight": 1,
                  "subsample": 1, "colsample_bytree": 1, "lambda": 1, "alpha": 0, "seed": 0,
                  "threads": 0}


def booster(task, params, x_train, y_train, x_valid, y_valid, nclass=2):
    """The python-xgboost twin of a sheaf model: objective per task, hist
    trees, the request's parameters (defaults as documented)."""
    import xgboost as xgb
    p = {**DEFAULT_PARAMS, **(params or {})}
    objective = {"regression": "reg:squarederror", "binary": "binary:logistic",
                 "multiclass": "multi:softprob"}[task]
    metric = {"regression": "rmse", "binary": "logloss", "multiclass": "mlogloss"}[task]
    xp = {"objective": objective, "tree_method": "hist", "verbosity": 0, "eval_metric": metric,
          "eta": p["eta"], "max_depth": p["max_depth"], "min_child_weight": p["min_child_weight"],
          "subsample": p["subsample"], "colsample_bytree": p["colsample_bytree"],
          "lambda": p["lambda"], "alpha": p["alpha"], "seed": p["seed"]}
    if task == "multiclass":
        xp["num_class"] = nclass
    if p["threads"]:
        xp["nthread"] = p["threads"]
    dtrain = xgb.DMatrix(x_train, label=y_train, missing=np.nan)
    dvalid = xgb.DMatrix(x_valid, label=y_valid, missing=np.nan)
    return xgb.train(xp, dtrain, num_boost_round=p["rounds"], evals=[(dvalid, "valid")],
                     verbose_eval=False)


def predict(bst, x):
    import xgboost as xgb
    return bst.predict(xgb.DMatrix(x, missing=np.nan))


def importance_shares(bst, features):
    """Each feature's share of the total gain (its matrix columns summed),
    as {name: share}."""
    score = bst.get_score(importance_type="total_gain")
    per, at = {}, 0
    for f in features:
        per[f.name] = sum(score.get(f"f{at + k}", 0.0) for k in range(f.width))
        at += f.width
    total = sum(per.values())
    return {k: (v / total if total > 0 else 0.0) for k, v in per.items()}


# --------------------------------------------------------------------------
# the API


def train(who, body, status=202):
    r = who.post("/api/models", json=body)
    assert r.status_code == status, (r.status_code, r.text[:2000])
    return r.json()


def wait_model(who, model_id, timeout=120, seen=None):
    """Poll GET /api/models/{id} until it is no longer training; return the
    last body.  ``seen`` (a list) collects the progress values seen."""
    deadline = time.monotonic() + timeout
    while True:
        r = who.get(f"/api/models/{model_id}")
        assert r.status_code == 200, (r.status_code, r.text)
        m = r.json()
        if seen is not None:
            seen.append(m["progress"])
        if m["status"] != "training":
            return m
        if time.monotonic() > deadline:
            pytest.fail(f"model {model_id} still training after {timeout}s: {m}")
        time.sleep(0.05)


def wait_job(who, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while True:
        r = who.get(f"/api/jobs/{job_id}")
        assert r.status_code == 200, (r.status_code, r.text)
        j = r.json()
        if j["status"] in ("done", "failed", "cancelled"):
            return j
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {j['status']} after {timeout}s: {j}")
        time.sleep(0.05)


def trained(who, body, timeout=120):
    """Train and wait; the model must end ready."""
    m = train(who, body)
    done = wait_model(who, m["id"], timeout)
    assert done["status"] == "ready", done
    return done


def predict_rows(who, model_id, rows, status=200):
    r = who.post(f"/api/models/{model_id}/predict", json={"rows": rows}, timeout=120)
    assert r.status_code == status, (r.status_code, r.text[:2000])
    return r.json()
