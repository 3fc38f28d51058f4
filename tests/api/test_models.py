"""Models: POST /api/models trains a gradient-boosted model as a job,
GET/DELETE /api/models/{id}, /predict and /predict/batch, and the jobs
behind them.

Every trained model is checked against a twin trained here with the python
xgboost package on a matrix built independently (models_helpers: the split,
the mean-target category codes, the date parts), and every reported metric
against scikit-learn on the predictions.  Bad requests are refused naming the
field; models belong to their owner; training can be cancelled.
"""

import concurrent.futures as cf
import csv
import datetime as dt
import io
import json
import math
import random
import time

import numpy as np
import pytest
from sklearn import metrics as skm

from conftest import SheafFactory, assert_error
from datasets_helpers import (TAAS_ZIP, ColumnModel, need_data, read_csv_text,
                              taas_members, upload_dataset, upload_ready, wait_ready)
from models_helpers import (Feature, booster, holdout, importance_shares, matrix,
                            predict, predict_rows, random_split, time_split, train,
                            trained, wait_job, wait_model)

MODEL_KEYS = {"id", "model_id", "name", "version", "dataset_id", "target", "task", "status",
              "progress", "error", "job_id", "size_bytes", "created_at", "updated_at",
              "request"}
READY_KEYS = {"features", "params", "validation", "training_rows", "importance",
              "training_ms", "xgboost", "dataset_version"}


# --------------------------------------------------------------------------
# generated data: text, numbers, dates, datetimes, booleans, with nulls

N_GEN = 1200
CITIES = ["대구", "서울", "부산", "광주", "a,b"]
CITY_EFFECT = {"대구": 1.0, "서울": -0.6, "부산": 0.3, "광주": -1.2, "a,b": 0.0}
GEN_COLS = ["id", "city", "amount", "qty", "day", "seen", "clock", "label", "score", "grade"]


def make_gen():
    """Rows as dicts of typed values (None: null) and the CSV text.  The
    targets follow the features with noise, so the models learn something."""
    r = random.Random(20240601)
    rows = []
    for i in range(N_GEN):
        city = None if r.random() < 0.06 else r.choice(CITIES)
        amount = None if r.random() < 0.08 else float(f"{r.uniform(-20, 180):.2f}")
        qty = r.randrange(0, 12)
        day = None if r.random() < 0.05 else \
            (dt.date(2023, 1, 1) + dt.timedelta(days=r.randrange(365))).isoformat()
        seen = dt.datetime(2022, 1, 1) + dt.timedelta(minutes=r.randrange(2 * 365 * 24 * 60))
        clock = None if r.random() < 0.05 else f"{r.randrange(24):02d}:{r.randrange(60):02d}:00"
        z = (0.02 * (amount if amount is not None else 50) - 1 + CITY_EFFECT.get(city, 0.2) +
             0.1 * qty - 0.6 + (0.5 if day and dt.date.fromisoformat(day).weekday() >= 5 else 0)
             + 0.05 * seen.hour - 0.5 + (0.4 if clock and clock < "08" else 0)
             + r.gauss(0, 0.8))
        rows.append({
            "id": f"r{i:05d}", "city": city, "amount": amount, "qty": qty, "day": day,
            "seen": seen.strftime("%Y-%m-%dT%H:%M:%S"), "clock": clock,
            "label": z > 0,
            "score": float(f"{max(0.0, 3 + 2 * z + r.gauss(0, 0.5)):.3f}"),
            "grade": None if r.random() < 0.04 else ("low" if z < -0.5 else
                                                     "mid" if z < 0.8 else "high"),
        })
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(GEN_COLS)
    for row in rows:
        cells = []
        for c in GEN_COLS:
            v = row[c]
            if v is None:
                cells.append("")
            elif isinstance(v, bool):
                cells.append("true" if v else "false")
            elif c == "seen":
                cells.append(v.replace("T", " "))     # stored as the canonical form
            elif c == "clock":
                cells.append(v[:5])                   # HH:MM, stored as HH:MM:00
            elif c == "amount":
                cells.append(f"{v:.2f}")
            else:
                cells.append(str(v))
        w.writerow(cells)
    return rows, out.getvalue().encode()


GEN_ROWS, GEN_CSV = make_gen()
GEN_TYPES = {"id": "text", "city": "text", "amount": "real", "qty": "integer", "day": "date",
             "seen": "datetime", "clock": "time", "label": "boolean", "score": "real",
             "grade": "text"}
FEATURE_KIND = {"text": "category", "real": "number", "integer": "number",
                "boolean": "number", "date": "date", "datetime": "datetime", "time": "time"}


def gen_values(col):
    vals = [row[col] for row in GEN_ROWS]
    if GEN_TYPES[col] == "boolean":
        return [None if v is None else float(v) for v in vals]
    return vals


def gen_features(names, y, train_rows):
    return [Feature(n, FEATURE_KIND[GEN_TYPES[n]], gen_values(n)).fit(y, train_rows)
            for n in names]


def api_row(i, names):
    """Row i as a /predict row: JSON values of the named columns, nulls
    left out (times as HH:MM, as in the file)."""
    out = {}
    for n in names:
        v = GEN_ROWS[i][n]
        if v is not None:
            out[n] = v[:5] if n == "clock" else v
    return out


def predict_all(who, model_id, rows, chunk=1000):
    out = []
    for at in range(0, len(rows), chunk):
        out += predict_rows(who, model_id, rows[at:at + chunk])["predictions"]
    return out


def check_model_shape(m):
    missing = MODEL_KEYS - set(m)
    assert not missing, f"model lacks {sorted(missing)}: {m}"
    assert m["id"] == m["model_id"], m
    assert m["status"] in ("training", "ready", "failed"), m
    assert isinstance(m["progress"], int) and 0 <= m["progress"] <= 100, m
    if m["status"] == "ready":
        missing = READY_KEYS - set(m)
        assert not missing, f"ready model lacks {sorted(missing)}: {m}"
        assert m["progress"] == 100 and m["error"] is None and m["size_bytes"] > 0, m
    return m


def close(a, b, rel=1e-6, abs_=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def msrv(tmp_path_factory):
    f = SheafFactory(tmp_path_factory.mktemp("models"))
    yield f.start()
    f.finish()


@pytest.fixture(scope="module")
def gen(msrv):
    d = upload_ready(msrv, GEN_CSV, "gen.csv")
    types = {c["name"]: c["type"] for c in d["columns_info"]}
    assert types == GEN_TYPES, types
    assert d["rows"] == N_GEN
    return d["id"]


@pytest.fixture(scope="module")
def quick(msrv, gen):
    """A small ready regression model on the generated data."""
    return trained(msrv, {"dataset_id": gen, "target": "score", "name": "quick",
                          "features": ["city", "amount", "qty", "day", "seen", "clock", "label"],
                          "params": {"rounds": 20, "max_depth": 4}})


@pytest.fixture(scope="module")
def binary(msrv, gen):
    """A binary classifier (boolean target) and the matching pieces."""
    names = ["city", "amount", "qty", "day", "seen"]
    body = {"dataset_id": gen, "target": "label", "task": "classification", "name": "binary",
            "features": names,
            "params": {"rounds": 30, "max_depth": 4, "eta": 0.3, "threads": 1},
            "validation": {"split": "random", "fraction": 0.25, "seed": 7}}
    return trained(msrv, body), body


# --------------------------------------------------------------------------
# 1. regression on the real TAAS records, reproduced with python xgboost

TAAS_ROWS = 20000
TAAS_TEXT = ["요일", "시군구", "사고유형", "노면상태", "기상상태", "도로형태", "가해운전자 차종"]
TAAS_SQL = ('SELECT 사고일시, 요일, 시군구, 사고유형, 노면상태, 기상상태, 도로형태, '
            '"가해운전자 차종", 10*사망자수 + 5*중상자수 + 3*경상자수 + 부상신고자수 AS ECLO '
            'FROM data')


def test_taas_eclo_regression_matches_python_xgboost(msrv):
    need_data(TAAS_ZIP)
    member, blob = taas_members()[0]
    assert member.endswith("외부데이터1_csv.csv"), member     # a CP949 name, decoded
    assert blob.startswith(b"\xef\xbb\xbf") and b"\r\n" in blob[:4096], member
    lines = blob.split(b"\r\n")
    data = b"\r\n".join(lines[:TAAS_ROWS + 1]) + b"\r\n"
    d = upload_ready(msrv, data, "taas-slice.csv")
    assert d["rows"] == TAAS_ROWS, d

    # The source as the documented ingestion rules read it.
    recs = read_csv_text(data.decode("utf-8-sig"))
    header, recs = recs[0], recs[1:]
    assert len(recs) == TAAS_ROWS
    cols = {}
    for i, name in enumerate(header):
        cm = ColumnModel(name, [r[i] for r in recs])
        cols[name] = (cm.kind, [cm.convert(r[i]) for r in recs])
    assert cols["사고일시"][0] == "datetime"
    times = cols["사고일시"][1]
    assert all(t is not None and len(t) == 19 for t in times), times[:3]
    eclo = [10 * a + 5 * b + 3 * c + e for a, b, c, e in zip(
        cols["사망자수"][1], cols["중상자수"][1], cols["경상자수"][1], cols["부상신고자수"][1])]
    for t in TAAS_TEXT:
        assert cols[t][0] == "text", (t, cols[t][0])

    params = {"rounds": 40, "eta": 0.3, "max_depth": 5, "threads": 1}
    features = ["사고일시"] + TAAS_TEXT
    body = {"dataset_id": d["id"], "target": "ECLO", "sql": TAAS_SQL, "log_target": True,
            "features": features, "name": "eclo-taas", "params": params,
            "validation": {"split": "time", "time_column": "사고일시", "fraction": 0.2}}
    queued = check_model_shape(train(msrv, body))
    assert queued["status"] == "training" and queued["version"] == 1, queued
    assert queued["request"]["params"] == {
        "rounds": 40, "eta": 0.3, "max_depth": 5, "min_child_weight": 1, "subsample": 1,
        "colsample_bytree": 1, "lambda": 1, "alpha": 0, "seed": 0, "threads": 1}, queued
    assert queued["request"]["validation"] == {"split": "time", "time_column": "사고일시",
                                               "fraction": 0.2, "seed": 0}, queued
    seen = []
    m = check_model_shape(wait_model(msrv, queued["id"], seen=seen))
    assert m["status"] == "ready", m
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    assert m["task"] == "regression" and m["log_target"] is True and m["target"] == "ECLO"

    # The split: latest 20% by time, ties by row order.
    y_orig = np.array(eclo, dtype=np.float32)
    y = np.log1p(y_orig.astype(np.float64)).astype(np.float32)
    train_rows, valid_rows = time_split(range(TAAS_ROWS), times, 0.2)
    assert len(valid_rows) == holdout(TAAS_ROWS, 0.2) == 4000
    assert max(times[r] for r in train_rows) <= min(times[r] for r in valid_rows)
    assert m["training_rows"] == len(train_rows), m["training_rows"]
    assert m["validation"]["rows"] == len(valid_rows), m["validation"]
    assert m["validation"]["split"] == "time" and m["validation"]["fraction"] == 0.2

    # The encoding: the model's features, and each text column's categories
    # in the order of their mean log1p(ECLO) over the training rows.
    feats = [Feature("사고일시", "datetime", times)] + [
        Feature(t, "category", cols[t][1]).fit(y, train_rows) for t in TAAS_TEXT]
    assert [(f["name"], f["type"], f["encoding"]) for f in m["features"]] == \
        [("사고일시", "datetime", "date")] + [(t, "text", "category") for t in TAAS_TEXT]
    for f, mf in zip(feats[1:], m["features"][1:]):
        assert mf["categories"] == f.categories, \
            f"{f.name}: categories {mf['categories'][:8]}... expected {f.categories[:8]}..."

    # The twin, and the validation rows predicted through the API.
    x_train, x_valid = matrix(feats, train_rows), matrix(feats, valid_rows)
    assert x_train.shape[1] == 5 + len(TAAS_TEXT)
    bst = booster("regression", params, x_train, y[train_rows], x_valid, y[valid_rows])
    want = np.expm1(predict(bst, x_valid).astype(np.float64))
    rows = [{f.name: f.values[r] for f in feats} for r in valid_rows]
    got = np.array(predict_all(msrv, m["id"], rows), dtype=np.float64)
    diff = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    assert diff.max() < 1e-5, (
        f"sheaf and python xgboost ({m['xgboost']}) disagree on {int((diff >= 1e-5).sum())} "
        f"of {len(rows)} validation rows; worst row {valid_rows[int(diff.argmax())]}: "
        f"sheaf {got[diff.argmax()]}, python {want[diff.argmax()]}")

    # The metrics, on the original scale.
    yv = y_orig[valid_rows].astype(np.float64)
    mets = m["validation"]["metrics"]
    assert set(mets) == {"rmse", "mae", "rmsle"}, mets
    for name, value in (("rmse", math.sqrt(skm.mean_squared_error(yv, want))),
                        ("mae", skm.mean_absolute_error(yv, want)),
                        ("rmsle", math.sqrt(skm.mean_squared_log_error(yv, want)))):
        assert close(mets[name], value, 1e-5), (name, mets[name], value)
        assert close(mets[name], {"rmse": math.sqrt(skm.mean_squared_error(yv, got)),
                                  "mae": skm.mean_absolute_error(yv, got),
                                  "rmsle": math.sqrt(skm.mean_squared_log_error(yv, got))}[name],
                     1e-5), name

    # Importance: each feature's share of the total gain, largest first.
    shares = importance_shares(bst, feats)
    imp = m["importance"]
    assert sorted(i["feature"] for i in imp) == sorted(features), imp
    assert [i["share"] for i in imp] == sorted((i["share"] for i in imp), reverse=True), imp
    assert close(sum(i["share"] for i in imp), 1.0, 1e-9)
    for i in imp:
        assert close(i["share"], shares[i["feature"]], 1e-4, 1e-7), (i, shares[i["feature"]])

    # The job that trained it.
    j = wait_job(msrv, m["job_id"])
    assert j["kind"] == "train" and j["subject_id"] == m["id"] and j["status"] == "done", j
    assert j["result"]["model_id"] == m["id"] and j["result"]["version"] == 1, j
    assert j["result"]["validation"] == m["validation"], j


# --------------------------------------------------------------------------
# 2. classification (binary, multiclass) and a time split from a date


def test_binary_classification_matches_python_xgboost(msrv, binary):
    m, body = binary
    check_model_shape(m)
    names = body["features"]
    assert m["task"] == "classification" and m["classes"] == ["false", "true"], m
    y = np.array([1.0 if row["label"] else 0.0 for row in GEN_ROWS], dtype=np.float32)
    train_rows, valid_rows = random_split(range(N_GEN), 0.25, 7)
    assert m["training_rows"] == len(train_rows) == N_GEN - 300
    assert m["validation"]["rows"] == len(valid_rows) == 300
    feats = gen_features(names, y, train_rows)
    assert [(f["name"], f["type"], f["encoding"]) for f in m["features"]] == [
        ("city", "text", "category"), ("amount", "real", "number"),
        ("qty", "integer", "number"), ("day", "date", "date"), ("seen", "datetime", "date")]
    assert m["features"][0]["categories"] == feats[0].categories

    bst = booster("binary", body["params"], matrix(feats, train_rows), y[train_rows],
                  matrix(feats, valid_rows), y[valid_rows])
    p = predict(bst, matrix(feats, valid_rows)).astype(np.float64)
    got = predict_all(msrv, m["id"], [api_row(i, names) for i in valid_rows])
    for i, (g, want) in enumerate(zip(got, p)):
        assert set(g) == {"class", "probabilities"}, g
        assert set(g["probabilities"]) == {"false", "true"}, g
        assert abs(g["probabilities"]["true"] - want) < 1e-6, (valid_rows[i], g, want)
        assert abs(g["probabilities"]["false"] - (1 - want)) < 1e-6, (valid_rows[i], g, want)
        assert g["class"] == ("true" if want > 0.5 else "false"), (g, want)

    yv = y[valid_rows]
    mets = m["validation"]["metrics"]
    assert set(mets) == {"accuracy", "log_loss", "auc"}, mets
    assert close(mets["accuracy"], skm.accuracy_score(yv, p >= 0.5))
    assert close(mets["log_loss"], skm.log_loss(yv, p, labels=[0, 1]), 1e-5)
    assert close(mets["auc"], skm.roc_auc_score(yv, p), 1e-6)
    assert mets["accuracy"] > 0.6, mets     # it learnt something
    # And from sheaf's own answers.
    ps = np.array([g["probabilities"]["true"] for g in got])
    assert close(mets["log_loss"], skm.log_loss(yv, ps, labels=[0, 1]), 1e-5)
    assert close(mets["auc"], skm.roc_auc_score(yv, ps), 1e-6)


def test_multiclass_classification_matches_python_xgboost(msrv, gen):
    names = ["city", "amount", "qty", "day", "seen", "label", "clock"]
    params = {"rounds": 25, "max_depth": 3, "eta": 0.3, "threads": 1, "subsample": 0.8,
              "colsample_bytree": 0.9, "lambda": 2, "alpha": 0.1, "seed": 5}
    m = trained(msrv, {"dataset_id": gen, "target": "grade", "task": "classification",
                       "features": names, "params": params,
                       "validation": {"fraction": 0.3, "seed": 12345}})
    classes = ["high", "low", "mid"]
    assert m["classes"] == classes, m
    codes = {c: i for i, c in enumerate(classes)}
    y = np.array([math.nan if row["grade"] is None else codes[row["grade"]]
                  for row in GEN_ROWS], dtype=np.float32)
    labelled = [i for i in range(N_GEN) if not np.isnan(y[i])]
    assert len(labelled) < N_GEN          # rows without a target are left out
    train_rows, valid_rows = random_split(labelled, 0.3, 12345)
    assert m["training_rows"] == len(train_rows) and m["validation"]["rows"] == len(valid_rows)
    feats = gen_features(names, y, train_rows)
    assert m["features"][0]["categories"] == feats[0].categories
    assert m["features"][5] == {"name": "label", "type": "boolean", "encoding": "number"}
    assert m["features"][6] == {"name": "clock", "type": "time", "encoding": "time"}

    bst = booster("multiclass", params, matrix(feats, train_rows), y[train_rows],
                  matrix(feats, valid_rows), y[valid_rows], nclass=3)
    p = predict(bst, matrix(feats, valid_rows)).astype(np.float64)
    assert p.shape == (len(valid_rows), 3)
    got = predict_all(msrv, m["id"], [api_row(i, names) for i in valid_rows])
    for i, (g, want) in enumerate(zip(got, p)):
        probs = [g["probabilities"][c] for c in classes]
        assert np.abs(np.array(probs) - want).max() < 1e-6, (valid_rows[i], g, want)
        assert g["class"] == classes[int(np.argmax(want))], (g, want)
    yv = y[valid_rows]
    mets = m["validation"]["metrics"]
    assert close(mets["accuracy"], skm.accuracy_score(yv, p.argmax(axis=1)))
    assert close(mets["log_loss"], skm.log_loss(yv, p, labels=[0, 1, 2]), 1e-5)
    assert mets["auc"] is None, mets       # AUC only for two classes


def test_number_and_boolean_targets_name_their_classes(msrv, gen):
    """Classes of a number target are its distinct values in numeric order
    (not text order); a boolean target's are false, true."""
    m = trained(msrv, {"dataset_id": gen, "target": "qty", "task": "classification",
                       "features": ["amount", "city"], "params": {"rounds": 2, "max_depth": 2}})
    assert m["classes"] == [str(i) for i in range(12)], m["classes"]
    p = predict_rows(msrv, m["id"], [{"amount": 10, "city": "대구"}])["predictions"][0]
    assert sorted(p["probabilities"], key=int) == m["classes"], p
    assert close(sum(p["probabilities"].values()), 1.0, 1e-5), p
    assert p["class"] == max(p["probabilities"], key=p["probabilities"].get), p


def test_close_number_classes_keep_distinct_names(sheaf_factory):
    """Two different numbers are two classes: their names must differ, or
    the answer's probabilities (an object keyed by class) lose one."""
    srv = sheaf_factory.start()
    rnd = random.Random(4)
    values = ["1", "1.0000000000000002", "2.5"]
    data = "t,x\n" + "".join(f"{values[i % 3]},{rnd.random():.4f}\n" for i in range(300))
    ds = upload_ready(srv, data.encode(), "close.csv")
    assert {c["name"]: c["type"] for c in ds["columns_info"]}["t"] == "real"
    m = trained(srv, {"dataset_id": ds["id"], "target": "t", "task": "classification",
                      "params": {"rounds": 2}})
    assert len(m["classes"]) == 3, m["classes"]
    assert len(set(m["classes"])) == 3, f"class names repeat: {m['classes']}"
    p = predict_rows(srv, m["id"], [{"x": 0.5}])["predictions"][0]
    assert len(p["probabilities"]) == 3, p


def test_boolean_feature_takes_its_own_text_values(msrv, quick):
    """A boolean feature (type "boolean" in the model) accepts the values the
    dataset itself holds for it, "true" and "false", like JSON true and
    false."""
    mid = quick["id"]
    feats = {f["name"]: f for f in quick["features"]}
    assert feats["label"]["type"] == "boolean", feats["label"]
    for text, value in (("true", True), ("false", False)):
        want = predict_rows(msrv, mid, [{"label": value}])["predictions"]
        r = msrv.post(f"/api/models/{mid}/predict", json={"rows": [{"label": text}]})
        assert r.status_code == 200, (text, r.status_code, r.text[:300])
        assert r.json()["predictions"] == want, text


def test_time_split_from_a_date(msrv, gen):
    """Regression held out from validation.from on, by a datetime column."""
    names = ["city", "amount", "qty", "day", "label"]
    params = {"rounds": 25, "max_depth": 4, "threads": 1, "min_child_weight": 3}
    m = trained(msrv, {"dataset_id": gen, "target": "score", "features": names,
                       "params": params,
                       "validation": {"split": "time", "time_column": "seen",
                                      "from": "2023-07-01"}})
    assert m["validation"]["split"] == "time" and m["validation"]["from"] == "2023-07-01", m
    y = np.array([row["score"] for row in GEN_ROWS], dtype=np.float32)
    seen = [row["seen"] for row in GEN_ROWS]
    train_rows, valid_rows = time_split(range(N_GEN), seen, start="2023-07-01")
    assert 0 < len(valid_rows) < N_GEN
    assert m["validation"]["rows"] == len(valid_rows) and m["training_rows"] == len(train_rows)
    feats = gen_features(names, y, train_rows)
    bst = booster("regression", params, matrix(feats, train_rows), y[train_rows],
                  matrix(feats, valid_rows), y[valid_rows])
    want = predict(bst, matrix(feats, valid_rows)).astype(np.float64)
    got = np.array(predict_all(msrv, m["id"], [api_row(i, names) for i in valid_rows]))
    assert np.abs(got - want).max() < 1e-5
    yv = y[valid_rows].astype(np.float64)
    mets = m["validation"]["metrics"]
    assert close(mets["rmse"], math.sqrt(skm.mean_squared_error(yv, want)), 1e-5)
    assert close(mets["mae"], skm.mean_absolute_error(yv, want), 1e-5)
    if want.min() > -1:
        assert close(mets["rmsle"], math.sqrt(skm.mean_squared_log_error(yv, want)), 1e-5)
    # Every row on or after the date is held out, none before.
    assert all(seen[r] >= "2023-07-01" for r in valid_rows)
    assert all(seen[r] < "2023-07-01" for r in train_rows)


def test_default_features_and_same_request_same_model(msrv, gen):
    """Without features: every usable column but the target and the time
    column; the identifier-like text column (a distinct value per row, more
    than a thousand) is left out.  The same request trains the same model
    again, as the next version."""
    body = {"dataset_id": gen, "target": "score", "name": "defaults",
            "params": {"rounds": 10, "threads": 1},
            "validation": {"split": "time", "time_column": "day"}}
    a = trained(msrv, body)
    names = [f["name"] for f in a["features"]]
    assert names == ["city", "amount", "qty", "seen", "clock", "label", "grade"], names
    b = trained(msrv, body)
    assert (a["version"], b["version"]) == (1, 2), (a["version"], b["version"])
    assert b["name"] == a["name"] == "defaults"
    assert b["validation"] == a["validation"] and b["features"] == a["features"]
    assert b["size_bytes"] == a["size_bytes"]
    rows = [api_row(i, names) for i in range(0, N_GEN, 37)]
    assert predict_rows(msrv, a["id"], rows)["predictions"] == \
        predict_rows(msrv, b["id"], rows)["predictions"]
    # Time split: rows with no day are kept for training.
    days = [row["day"] for row in GEN_ROWS]
    train_rows, valid_rows = time_split(range(N_GEN), days, 0.2)
    assert all(days[r] is not None for r in valid_rows)
    assert a["training_rows"] == len(train_rows) and a["validation"]["rows"] == len(valid_rows)


def test_training_failures_are_reported(msrv, gen):
    """Requests that pass the checks but cannot be trained end failed with
    the reason, on the model and on its job."""
    cases = [
        ({"target": "city"}, "regression needs a number column"),
        ({"target": "score", "sql": "SELECT score, qty FROM data LIMIT 5"}, "rows have a target"),
        ({"target": "one", "task": "classification",
          "sql": "SELECT 'x' AS one, qty FROM data"}, "at least 2"),
        ({"target": "score", "validation": {"split": "time", "time_column": "qty"}},
         "date or datetime"),
        ({"target": "score", "validation": {"split": "time", "time_column": "seen",
                                            "from": "2030-01-01"}}, "2030-01-01"),
        ({"target": "score", "log_target": True, "sql": "SELECT qty - 5 AS score, city FROM data"},
         "log1p"),
        ({"target": "id", "task": "classification"}, "at most 100"),
    ]
    queued = [train(msrv, {"dataset_id": gen, "params": {"rounds": 3}, **body})
              for body, _ in cases]
    for q, (body, why) in zip(queued, cases):
        m = wait_model(msrv, q["id"])
        assert m["status"] == "failed", (body, m)
        assert why in (m["error"] or ""), (body, m["error"])
        assert "features" not in m, m
        j = wait_job(msrv, m["job_id"])
        assert j["status"] == "failed" and why in j["error"], (body, j)
        assert_error(msrv.post(f"/api/models/{m['id']}/predict", json={"rows": [{}]}),
                     409, "not_ready", "failed")


# --------------------------------------------------------------------------
# 3. request validation


@pytest.fixture(scope="module")
def vuser(msrv):
    """A user of its own with a small dataset: no request of the
    validation tests may leave a model behind."""
    u = msrv.new_user()
    data = b"t,x,word,day\n" + b"".join(
        f"{i % 7 * 1.5},{i},{'abc'[i % 3]},2024-01-{1 + i % 28:02d}\n".encode() for i in range(60))
    d = upload_ready(u, data, "v.csv")
    return u, d["id"]


BAD_BODIES = [
    # (id, the body besides dataset_id, what the 422 detail names)
    ("unknown-field", {"target": "t", "bogus": 1}, "body.bogus"),
    ("no-target", {}, "body.target"),
    ("target-number", {"target": 5}, "body.target"),
    ("target-empty", {"target": ""}, "body.target"),
    ("target-long", {"target": "t" * 256}, "body.target"),
    ("name-empty", {"target": "t", "name": ""}, "body.name"),
    ("name-number", {"target": "t", "name": 3}, "body.name"),
    ("task-unknown", {"target": "t", "task": "clustering"}, "body.task"),
    ("task-null", {"target": "t", "task": None}, "body.task"),
    ("log-target-text", {"target": "t", "log_target": "yes"}, "body.log_target"),
    ("log-target-classification", {"target": "word", "task": "classification",
                                   "log_target": True}, "body.log_target"),
    ("features-empty", {"target": "t", "features": []}, "body.features"),
    ("features-string", {"target": "t", "features": "x"}, "body.features"),
    ("features-number", {"target": "t", "features": [1]}, "body.features[0]"),
    ("features-repeat", {"target": "t", "features": ["x", "x"]}, "body.features"),
    ("features-target", {"target": "t", "features": ["x", "t"]}, "body.features[1]"),
    ("features-unknown", {"target": "t", "features": ["x", "nope"]}, "body.features[1]"),
    ("target-unknown", {"target": "nope"}, "body.target"),
    ("sql-empty", {"target": "t", "sql": ""}, "body.sql"),
    ("sql-syntax", {"target": "t", "sql": "SELEC t FROM data"}, "body.sql"),
    ("sql-write", {"target": "t", "sql": "DELETE FROM data"}, "body.sql"),
    ("sql-table", {"target": "t", "sql": "SELECT * FROM nope"}, "body.sql"),
    ("sql-column", {"target": "t", "sql": "SELECT x FROM data"}, "body.target"),
    ("params-array", {"target": "t", "params": [1]}, "body.params"),
    ("params-unknown", {"target": "t", "params": {"gamma": 1}}, "body.params.gamma"),
    ("rounds-0", {"target": "t", "params": {"rounds": 0}}, "body.params.rounds"),
    ("rounds-5001", {"target": "t", "params": {"rounds": 5001}}, "body.params.rounds"),
    ("rounds-fraction", {"target": "t", "params": {"rounds": 2.5}}, "body.params.rounds"),
    ("rounds-text", {"target": "t", "params": {"rounds": "10"}}, "body.params.rounds"),
    ("eta-0", {"target": "t", "params": {"eta": 0}}, "body.params.eta"),
    ("eta-big", {"target": "t", "params": {"eta": 1.5}}, "body.params.eta"),
    ("eta-text", {"target": "t", "params": {"eta": "0.1"}}, "body.params.eta"),
    ("depth-0", {"target": "t", "params": {"max_depth": 0}}, "body.params.max_depth"),
    ("depth-21", {"target": "t", "params": {"max_depth": 21}}, "body.params.max_depth"),
    ("mcw-neg", {"target": "t", "params": {"min_child_weight": -1}},
     "body.params.min_child_weight"),
    ("subsample-0", {"target": "t", "params": {"subsample": 0}}, "body.params.subsample"),
    ("subsample-big", {"target": "t", "params": {"subsample": 1.01}}, "body.params.subsample"),
    ("colsample-0", {"target": "t", "params": {"colsample_bytree": 0}},
     "body.params.colsample_bytree"),
    ("lambda-neg", {"target": "t", "params": {"lambda": -0.5}}, "body.params.lambda"),
    ("alpha-neg", {"target": "t", "params": {"alpha": -1}}, "body.params.alpha"),
    ("seed-neg", {"target": "t", "params": {"seed": -1}}, "body.params.seed"),
    ("seed-fraction", {"target": "t", "params": {"seed": 1.5}}, "body.params.seed"),
    ("threads-neg", {"target": "t", "params": {"threads": -1}}, "body.params.threads"),
    ("threads-257", {"target": "t", "params": {"threads": 257}}, "body.params.threads"),
    ("validation-string", {"target": "t", "validation": "random"}, "body.validation"),
    ("validation-unknown", {"target": "t", "validation": {"folds": 5}},
     "body.validation.folds"),
    ("split-unknown", {"target": "t", "validation": {"split": "kfold"}},
     "body.validation.split"),
    ("fraction-0", {"target": "t", "validation": {"fraction": 0}}, "body.validation.fraction"),
    ("fraction-1", {"target": "t", "validation": {"fraction": 1}}, "body.validation.fraction"),
    ("fraction-text", {"target": "t", "validation": {"fraction": "0.2"}},
     "body.validation.fraction"),
    ("vseed-neg", {"target": "t", "validation": {"seed": -3}}, "body.validation.seed"),
    ("time-without-column", {"target": "t", "validation": {"split": "time"}},
     "body.validation.time_column"),
    ("column-without-time", {"target": "t", "validation": {"time_column": "day"}},
     "body.validation"),
    ("from-without-time", {"target": "t", "validation": {"from": "2024-01-10"}},
     "body.validation"),
    ("from-empty", {"target": "t", "validation": {"split": "time", "time_column": "day",
                                                  "from": ""}}, "body.validation.from"),
    ("from-long", {"target": "t", "validation": {"split": "time", "time_column": "day",
                                                 "from": "2" * 41}}, "body.validation.from"),
    ("time-column-unknown", {"target": "t", "validation": {"split": "time",
                                                           "time_column": "when"}},
     "body.validation.time_column"),
    ("dataset-id-number", {"target": "t", "dataset_id": 5}, "body.dataset_id"),
    ("dataset-id-missing", {"target": "t", "dataset_id": None}, "body.dataset_id"),
]


@pytest.mark.parametrize("body,fragment", [b[1:] for b in BAD_BODIES],
                         ids=[b[0] for b in BAD_BODIES])
def test_invalid_request_is_422_naming_the_field(vuser, body, fragment):
    u, ds = vuser
    body = {"dataset_id": ds, **body}
    if body.get("dataset_id") is None:
        del body["dataset_id"]
    r = u.post("/api/models", json=body)
    err = assert_error(r, 422, "invalid_argument", fragment)
    assert "not valid UTF-8" not in err["detail"], err
    # Nothing was recorded.
    lst = u.get("/api/models").json()
    assert lst["total"] == 0 and lst["models"] == [], lst


def test_unknown_column_with_a_long_korean_name_is_named(vuser):
    """A 422 about a column names the field even when the column's name is
    long and not ASCII (the detail is cut on a character, not a byte)."""
    u, ds = vuser
    for body, fragment in (({"target": "가" * 40}, "body.target"),
                           ({"target": "t", "features": ["x", "나" * 40]}, "body.features[1]"),
                           ({"target": "t", "validation": {"split": "time",
                                                           "time_column": "다" * 60}},
                            "body.validation.time_column")):
        r = u.post("/api/models", json={"dataset_id": ds, **body})
        err = assert_error(r, 422, "invalid_argument")
        assert fragment in err["detail"], (body, err["detail"])
    assert u.get("/api/models").json()["total"] == 0


def test_request_body_errors(vuser):
    u, ds = vuser
    url = "/api/models"
    hdr = {"Content-Type": "application/json"}
    assert_error(u.post(url, data=b'{"dataset_id": "x", "target": ', headers=hdr), 400,
                 "malformed_json")
    assert_error(u.post(url, data=b'{"target": "t", "target": "x"}', headers=hdr), 400,
                 "malformed_json")
    assert_error(u.post(url, data=b'[{"target": "t"}]', headers=hdr), 422, "invalid_field",
                 "object")
    assert_error(u.post(url, data=b'"t"', headers=hdr), 422, "invalid_field", "object")
    assert_error(u.post(url, data=b"", headers=hdr), 400, "bad_request")
    assert_error(u.post(url, data=json.dumps({"dataset_id": ds, "target": "t"}).encode(),
                        headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type")
    big = {"dataset_id": ds, "target": "t", "sql": "SELECT * FROM data" + " " * (1 << 20)}
    r = u.post(url, json=big)
    assert_error(r, 413, "payload_too_large")
    assert u.get("/api/models").json()["total"] == 0


def test_dataset_must_exist_be_yours(msrv, vuser, gen):
    u, ds = vuser
    assert_error(u.post("/api/models", json={"dataset_id": "A" * 22, "target": "t"}),
                 404, "not_found")
    assert_error(u.post("/api/models", json={"dataset_id": "../etc/x", "target": "t"}),
                 404, "not_found")
    # gen belongs to the default user.
    assert_error(u.post("/api/models", json={"dataset_id": gen, "target": "score"}),
                 404, "not_found")
    assert u.get("/api/models").json()["total"] == 0


def test_accepted_edge_values_and_defaults(msrv, gen):
    """Integral numbers written as reals are integers; the stored request
    holds every default."""
    r = msrv.post("/api/models", json={"dataset_id": gen, "target": "score", "features": ["qty"],
                                       "params": {"rounds": 3.0, "max_depth": 2.0},
                                       "validation": {"fraction": 0.5}})
    assert r.status_code == 202, r.text
    m = check_model_shape(r.json())
    assert r.headers.get("Location") == f"/api/models/{m['id']}", r.headers
    assert m["status"] == "training" and m["error"] is None and m["size_bytes"] == 0, m
    assert m["name"] == "score" and m["request"]["name"] == "score"
    assert m["request"]["task"] == "regression" and m["request"]["log_target"] is False
    p = m["request"]["params"]
    assert p == {"rounds": 3, "eta": 0.1, "max_depth": 2, "min_child_weight": 1,
                 "subsample": 1, "colsample_bytree": 1, "lambda": 1, "alpha": 0, "seed": 0,
                 "threads": 0}, p
    assert m["request"]["validation"] == {"split": "random", "fraction": 0.5, "seed": 0}
    done = wait_model(msrv, m["id"])
    assert done["status"] == "ready", done
    assert done["validation"]["rows"] == holdout(N_GEN, 0.5) == 600
    assert done["params"]["rounds"] == 3 and done["params"]["max_depth"] == 2, done["params"]


@pytest.mark.parametrize("where,seed", [("params", 2 ** 62), ("params", 2 ** 63 - 1),
                                        ("validation", 2 ** 63 - 1)])
def test_large_seed_is_kept_or_refused(msrv, gen, where, seed):
    """A seed is any integer >= 0 by the schema: one that large must either
    be refused with a 422 naming it, or be kept exactly and train."""
    r = msrv.post("/api/models", json={"dataset_id": gen, "target": "score",
                                       "features": ["qty"], "params": {"rounds": 2},
                                       where: {"seed": seed}})
    if r.status_code == 422:
        assert_error(r, 422, "invalid_argument", f"body.{where}.seed")
        return
    assert r.status_code == 202, r.text
    m = r.json()
    assert m["request"][where]["seed"] == seed, \
        f"asked for seed {seed}, the stored request says {m['request'][where]['seed']}"
    done = wait_model(msrv, m["id"])
    assert done["status"] == "ready", done


def test_long_non_ascii_name_is_kept_or_refused(msrv, gen):
    """name allows 255 characters: 101 Korean-and-ASCII characters (301
    bytes) must be stored whole (or refused with a 422), never cut inside a
    character."""
    name = "a" + "가" * 100
    r = msrv.post("/api/models", json={"dataset_id": gen, "target": "score", "name": name,
                                       "features": ["qty"], "params": {"rounds": 2}})
    if r.status_code == 422:
        assert_error(r, 422, "invalid_argument", "body.name")
    else:
        assert r.status_code == 202, (r.status_code, r.text[:300])
        assert r.json()["name"] == name, r.json()["name"]
        m = wait_model(msrv, r.json()["id"])
        assert m["name"] == name
    # Whatever happened, the list is whole.
    lst = msrv.get("/api/models?limit=100").json()
    assert len(lst["models"]) == min(lst["total"], 100), \
        f"list total {lst['total']} but {len(lst['models'])} models listed"


# --------------------------------------------------------------------------
# 4. predictions


def test_predict_values_and_errors(msrv, quick):
    mid = quick["id"]
    base = {"city": "대구", "amount": 12.5, "qty": 3, "day": "2023-05-06",
            "seen": "2022-03-04T05:06:07", "clock": "07:30", "label": True}
    ref = predict_rows(msrv, mid, [base])
    assert ref["model_id"] == mid and ref["version"] == quick["version"], ref
    assert isinstance(ref["predictions"][0], float), ref
    one = ref["predictions"][0]

    def pred(row):
        return predict_rows(msrv, mid, [row])["predictions"][0]

    # Equivalent spellings give the same answer.
    assert pred({**base, "amount": "12.5"}) == one
    assert pred({**base, "qty": 3.0}) == one
    assert pred({**base, "unrelated": [1, 2], "score": 99}) == one     # not features: ignored
    assert pred({**base, "seen": "2022-03-04 05:06:07"}) == one
    assert pred({**base, "day": "2023년 5월 6일"}) == one
    assert pred({**base, "clock": "07:59:59"}) == one       # a time is its hour
    assert pred({**base, "clock": "7시 5분"}) == one
    assert pred({**base, "label": 1}) == one
    # Unknown category = missing = null = left out.
    no_city = {k: v for k, v in base.items() if k != "city"}
    missing = pred(no_city)
    assert pred({**base, "city": None}) == missing
    assert pred({**base, "city": "제주"}) == missing
    assert pred({**base, "city": ""}) == missing
    # All missing still predicts.
    assert isinstance(pred({}), float)
    # Order is kept.
    rows = [{**base, "qty": q} for q in range(12)]
    got = predict_rows(msrv, mid, rows)["predictions"]
    assert got == [pred(r) for r in rows]
    # Empty list.
    assert predict_rows(msrv, mid, [])["predictions"] == []

    url = f"/api/models/{mid}/predict"
    for rows, status, code, where in [
        ([base, {**base, "amount": "lots"}], 422, "invalid_argument", "rows[1].amount"),
        ([{**base, "amount": {"v": 1}}], 422, "invalid_argument", "rows[0].amount"),
        ([{**base, "city": 5}], 422, "invalid_argument", "rows[0].city"),
        ([{**base, "city": ["대구"]}], 422, "invalid_argument", "rows[0].city"),
        ([{**base, "day": "2023-02-30"}], 422, "invalid_argument", "rows[0].day"),
        ([{**base, "day": 20230506}], 422, "invalid_argument", "rows[0].day"),
        ([{**base, "clock": "25:00"}], 422, "invalid_argument", "rows[0].clock"),
        ([{**base, "clock": 730}], 422, "invalid_argument", "rows[0].clock"),
        ([base, base, 7], 422, "invalid_argument", "rows[2]"),
        ([base, ["대구", 1]], 422, "invalid_argument", "rows[1]"),
    ]:
        r = msrv.post(url, json={"rows": rows})
        assert_error(r, status, code, where)
    assert_error(msrv.post(url, json={}), 422, "invalid_argument", "body.rows")
    assert_error(msrv.post(url, json={"rows": {"city": "대구"}}), 422, "invalid_argument",
                 "body.rows")
    assert_error(msrv.post(url, data=b"{rows", headers={"Content-Type": "application/json"}),
                 400, "malformed_json")
    r = msrv.post(url, json={"rows": [{}] * 10000}, timeout=120)
    assert r.status_code == 200, r.text[:300]
    assert len(r.json()["predictions"]) == 10000
    assert set(r.json()["predictions"]) == {pred({})}
    assert_error(msrv.post(url, json={"rows": [{}] * 10001}), 413, "too_many_rows")
    assert_error(msrv.post("/api/models/AAAAAAAAAAAAAAAAAAAAAA/predict", json={"rows": []}),
                 404, "not_found")


def test_batch_prediction(msrv, binary):
    m, body = binary
    names = body["features"]
    rows = [api_row(i, names) for i in range(40)]
    rows[5] = {**rows[5], "amount": "n/a?"}
    rows[17] = "not a row"
    rows[30] = {**rows[30], "day": "yesterday"}
    r = msrv.post(f"/api/models/{m['id']}/predict/batch", json={"rows": rows})
    assert r.status_code == 202, r.text
    b = r.json()
    assert b["status"] == "pending" and b["total"] == 40, b
    assert b["results_url"] == f"/api/predict/batch/{b['batch_id']}/results", b
    deadline = time.monotonic() + 60
    while True:
        res = msrv.get(b["results_url"])
        assert res.status_code == 200, res.text
        res = res.json()
        assert res["status"] in ("pending", "processing", "success"), res
        if res["status"] == "success":
            break
        assert time.monotonic() < deadline, res
        time.sleep(0.05)
    items = res["results"]
    assert [it["index"] for it in items] == list(range(1, 41))
    good = [i for i in range(40) if i not in (5, 17, 30)]
    want = predict_rows(msrv, m["id"], [rows[i] for i in good])["predictions"]
    for i, w in zip(good, want):
        assert items[i]["error"] is None and items[i]["prediction"] == w, (i, items[i], w)
    for i, col in ((5, "amount"), (17, "object"), (30, "day")):
        assert items[i]["prediction"] is None and col in items[i]["error"], items[i]
    assert res["total"] == 40 and res["processed"] == 40, res
    # Limits.
    url = f"/api/models/{m['id']}/predict/batch"
    assert_error(msrv.post(url, json={"rows": [{}] * 10001}), 413, "too_many_rows")
    assert_error(msrv.post(url, json={"rows": "x"}), 422, "invalid_argument", "body.rows")
    assert_error(msrv.get("/api/predict/batch/AAAAAAAAAAAAAAAAAAAAAA/results"), 404, "not_found")
    # A training job is not a batch.
    assert_error(msrv.get(f"/api/predict/batch/{m['job_id']}/results"), 404, "not_found")


# --------------------------------------------------------------------------
# 5. lifecycle


def small_dataset(who, n=120, name="small.csv"):
    rnd = random.Random(n)
    data = "a,b,y\n" + "".join(f"{rnd.random():.4f},{'pq'[i % 2]},{i % 9}\n" for i in range(n))
    return upload_ready(who, data.encode(), name)["id"]


def test_list_versions_and_delete(msrv):
    u = msrv.new_user()
    ds = small_dataset(u)
    made = []
    for name in ("alpha", "beta", "alpha", "gamma", "alpha"):
        made.append(trained(u, {"dataset_id": ds, "target": "y", "name": name,
                                "params": {"rounds": 2}}))
    assert [m["version"] for m in made] == [1, 1, 2, 1, 3]
    lst = u.get("/api/models").json()
    assert lst["total"] == 5 and lst["limit"] == 20 and lst["offset"] == 0, lst
    assert [m["id"] for m in lst["models"]] == [m["id"] for m in reversed(made)]
    for m in lst["models"]:
        check_model_shape(m)
    page = u.get("/api/models?limit=2&offset=1").json()
    assert [m["id"] for m in page["models"]] == [made[3]["id"], made[2]["id"]], page
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert u.get("/api/models?offset=5").json()["models"] == []
    for q in ("limit=0", "limit=101", "offset=-1", "limit=x"):
        assert_error(u.get(f"/api/models?{q}"), 422, "invalid_field")

    # Delete the middle alpha: gone everywhere; the next alpha is still 4.
    gone = made[2]
    assert u.delete(f"/api/models/{gone['id']}").status_code == 204
    assert_error(u.get(f"/api/models/{gone['id']}"), 404, "not_found")
    assert_error(u.post(f"/api/models/{gone['id']}/predict", json={"rows": [{}]}),
                 404, "not_found")
    assert_error(u.post(f"/api/models/{gone['id']}/predict/batch", json={"rows": [{}]}),
                 404, "not_found")
    assert_error(u.delete(f"/api/models/{gone['id']}"), 404, "not_found")
    lst = u.get("/api/models").json()
    assert lst["total"] == 4 and gone["id"] not in [m["id"] for m in lst["models"]]
    nxt = trained(u, {"dataset_id": ds, "target": "y", "name": "alpha",
                      "params": {"rounds": 2}})
    assert nxt["version"] == 4, nxt["version"]
    # The other models still predict.
    assert len(predict_rows(u, made[0]["id"], [{"a": 0.5}])["predictions"]) == 1
    # Deleting the dataset leaves trained models working.
    assert u.delete(f"/api/datasets/{ds}").status_code == 204
    assert len(predict_rows(u, made[4]["id"], [{"a": 0.5, "b": "p"}])["predictions"]) == 1
    assert u.get(f"/api/models/{made[4]['id']}").json()["status"] == "ready"


def test_other_users_cannot_see_use_or_delete(msrv, quick, gen):
    other = msrv.new_user()
    mid, job = quick["id"], quick["job_id"]
    assert_error(other.get(f"/api/models/{mid}"), 404, "not_found")
    assert_error(other.post(f"/api/models/{mid}/predict", json={"rows": [{}]}), 404, "not_found")
    assert_error(other.post(f"/api/models/{mid}/predict/batch", json={"rows": [{}]}),
                 404, "not_found")
    assert_error(other.delete(f"/api/models/{mid}"), 404, "not_found")
    assert_error(other.get(f"/api/jobs/{job}"), 404, "not_found")
    assert_error(other.delete(f"/api/jobs/{job}"), 404, "not_found")
    assert_error(other.post("/api/models", json={"dataset_id": gen, "target": "score"}),
                 404, "not_found")
    lst = other.get("/api/models").json()
    assert lst["total"] == 0 and lst["models"] == []
    # A batch of mine is not theirs.
    r = msrv.post(f"/api/models/{mid}/predict/batch", json={"rows": [{}]})
    assert r.status_code == 202
    assert_error(other.get(r.json()["results_url"]), 404, "not_found")
    # Still mine, still working.
    assert msrv.get(f"/api/models/{mid}").json()["status"] == "ready"
    assert len(predict_rows(msrv, mid, [{}])["predictions"]) == 1
    assert_error(msrv.delete(f"/api/jobs/{job}"), 409, "already_finished")
    assert_error(msrv.get("/api/models", auth=False), 401, "unauthenticated")


SLOW = {"rounds": 5000, "max_depth": 12, "eta": 0.01}


def slow_data(n=3000):
    rnd = random.Random(5)
    return ("x1,x2,c,y\n" + "".join(
        f"{rnd.random():.5f},{rnd.random():.5f},{rnd.choice('abcdefgh')},{rnd.random() * 10:.4f}\n"
        for _ in range(n))).encode()


def wait_running(who, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        j = who.get(f"/api/jobs/{job_id}").json()
        if j["status"] == "running" and j["progress"] > 5:
            return j
        assert j["status"] in ("queued", "running"), j
        assert time.monotonic() < deadline, j
        time.sleep(0.05)


def test_queue_cancel_delete_and_vanished_dataset(sheaf_factory):
    """One job worker: a long training holds it while other work queues up
    behind, so what happens to queued work is certain."""
    srv = sheaf_factory.start(env={"SHEAF_JOB_WORKERS": "1", "SHEAF_DATASET_SYNC_BYTES": "1K"})
    base = upload_dataset(srv, slow_data())
    assert base.status_code == 202, base.text
    base = wait_ready(srv, base.json()["id"])["id"]
    other_ds = wait_ready(srv, upload_dataset(srv, slow_data(400)).json()["id"])["id"]
    m0 = trained(srv, {"dataset_id": base, "target": "y", "params": {"rounds": 3}})
    # A dataset that failed to ingest is not ready.
    bad = upload_dataset(srv, b"a,b\n" + b"1,2\n" * 600 + b"3\n", "bad.csv",
                         {"strict": "true"})
    bad = wait_ready(srv, bad.json()["id"])
    assert bad["status"] == "failed", bad
    assert_error(srv.post("/api/models", json={"dataset_id": bad["id"], "target": "a"}),
                 409, "not_ready", "failed")

    slow = train(srv, {"dataset_id": base, "target": "y", "name": "slow", "params": SLOW})
    wait_running(srv, slow["job_id"])
    assert_error(srv.post(f"/api/models/{slow['id']}/predict", json={"rows": [{}]}),
                 409, "not_ready", "training")
    assert_error(srv.post(f"/api/models/{slow['id']}/predict/batch", json={"rows": [{}]}),
                 409, "not_ready", "training")
    # Queued behind it: an ingest (its dataset is processing), a training
    # whose dataset will vanish, one to cancel, and a batch whose model will.
    proc = upload_dataset(srv, slow_data(300), "later.csv")
    assert proc.status_code == 202 and proc.json()["status"] == "processing", proc.text
    assert_error(srv.post("/api/models", json={"dataset_id": proc.json()["id"],
                                               "target": "y"}), 409, "not_ready", "processing")
    orphan = train(srv, {"dataset_id": other_ds, "target": "y", "params": {"rounds": 3}})
    assert srv.delete(f"/api/datasets/{other_ds}").status_code == 204
    victim = train(srv, {"dataset_id": base, "target": "y", "params": {"rounds": 3}})
    r = srv.delete(f"/api/jobs/{victim['job_id']}")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "cancelled", r.json()
    m = srv.get(f"/api/models/{victim['id']}").json()
    assert m["status"] == "failed" and m["error"] == "cancelled", m
    assert_error(srv.delete(f"/api/jobs/{victim['job_id']}"), 409, "already_finished")
    b = srv.post(f"/api/models/{m0['id']}/predict/batch", json={"rows": [{"x1": 0.5}]})
    assert b.status_code == 202
    assert srv.delete(f"/api/models/{m0['id']}").status_code == 204

    # Delete the running model: its training stops, the model is gone.
    seen = [srv.get(f"/api/models/{slow['id']}").json()["progress"]]
    assert srv.delete(f"/api/models/{slow['id']}").status_code == 204
    assert_error(srv.get(f"/api/models/{slow['id']}"), 404, "not_found")
    j = wait_job(srv, slow["job_id"], timeout=60)
    assert j["status"] == "cancelled", j
    assert 0 < seen[0] < 100, seen

    j = wait_job(srv, orphan["job_id"])
    assert j["status"] == "failed" and "deleted" in j["error"], j
    m = srv.get(f"/api/models/{orphan['id']}").json()
    assert m["status"] == "failed" and "deleted before training" in m["error"], m
    res = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        res = srv.get(b.json()["results_url"]).json()
        if res["status"] in ("success", "failed", "cancelled"):
            break
        time.sleep(0.05)
    # Deleting the model ended its queued batch (cancelled with it, or
    # failed for want of the model), never a success or a hang.
    assert res["status"] in ("cancelled", "failed"), res
    assert res["status"] == "cancelled" or "deleted" in res["error"], res
    assert wait_ready(srv, proc.json()["id"])["status"] == "ready"
    assert srv.get("/api/models").json()["total"] == 2     # victim, orphan (failed)

    # Cancel a running training through its job.
    slow2 = train(srv, {"dataset_id": base, "target": "y", "params": SLOW})
    wait_running(srv, slow2["job_id"])
    r = srv.delete(f"/api/jobs/{slow2['job_id']}")
    assert r.status_code == 202 and r.json()["cancel_requested"] is True, r.text
    m = wait_model(srv, slow2["id"], timeout=60)
    assert m["status"] == "failed" and m["error"] == "cancelled", m
    assert wait_job(srv, slow2["job_id"])["status"] == "cancelled"
    assert_error(srv.delete(f"/api/jobs/{slow2['job_id']}"), 409, "already_finished")
    assert_error(srv.post(f"/api/models/{slow2['id']}/predict", json={"rows": [{}]}),
                 409, "not_ready")


def test_models_survive_a_restart_and_training_resumes(sheaf_factory):
    srv = sheaf_factory.start()
    ds = upload_ready(srv, slow_data(1500))["id"]
    done = trained(srv, {"dataset_id": ds, "target": "y", "features": ["x1", "c"],
                         "params": {"rounds": 10}})
    rows = [{"x1": i / 10, "c": "abcdefgh"[i % 8]} for i in range(10)]
    before = predict_rows(srv, done["id"], rows)["predictions"]
    long = train(srv, {"dataset_id": ds, "target": "y",
                       "params": {"rounds": 600, "max_depth": 8, "eta": 0.05}})
    wait_running(srv, long["job_id"])
    user = srv.user
    stopped_at = dt.datetime.now(dt.timezone.utc)
    srv2 = sheaf_factory.restart(srv)       # SIGTERM: exits 0 while training
    srv2.adopt_user(user)
    assert srv2.get(f"/api/models/{long['id']}").json()["status"] in ("training", "ready")
    assert predict_rows(srv2, done["id"], rows)["predictions"] == before
    m = wait_model(srv2, long["id"], timeout=150)
    assert m["status"] == "ready", m
    # It ran again from the start on the new server.
    j = wait_job(srv2, long["job_id"])
    assert j["status"] == "done", j
    started = dt.datetime.fromisoformat(j["started_at"].replace("Z", "+00:00"))
    assert started > stopped_at, (j["started_at"], stopped_at)


# --------------------------------------------------------------------------
# 6. concurrency


def test_concurrent_predictions_equal_sequential(msrv, binary):
    m, body = binary
    names = body["features"]
    batches = [[api_row((k * 7 + i) % N_GEN, names) for i in range(1 + k % 9)]
               for k in range(50)]
    seq = [predict_rows(msrv, m["id"], rows)["predictions"] for rows in batches]

    def one(k):
        r = msrv.post(f"/api/models/{m['id']}/predict", json={"rows": batches[k]})
        return r.status_code, (r.json() if r.status_code == 200 else r.text)

    with cf.ThreadPoolExecutor(50) as ex:
        got = list(ex.map(one, range(50)))
    for k, (status, b) in enumerate(got):
        assert status == 200, (k, b)
        assert b["predictions"] == seq[k], k
    msrv.assert_healthy()


def tiny_cache_server(sheaf_factory, n_models):
    srv = sheaf_factory.start(env={"SHEAF_MODEL_CACHE": "1", "SHEAF_WORKERS": "8"})
    ds = upload_ready(srv, slow_data(500))["id"]
    models = [trained(srv, {"dataset_id": ds, "target": "y", "params": {"rounds": 8, "seed": s},
                            "validation": {"seed": s}}) for s in range(n_models - 1)]
    models.append(trained(srv, {"dataset_id": ds, "target": "c", "task": "classification",
                                "features": ["x1", "x2"], "params": {"rounds": 5}}))
    rows = [{"x1": i / 20, "x2": 1 - i / 20, "c": "abcdefgh"[i % 8]} for i in range(20)]
    seq = {m["id"]: predict_rows(srv, m["id"], rows)["predictions"] for m in models}
    return srv, models, rows, seq


def test_concurrent_predictions_with_a_tiny_model_cache(sheaf_factory):
    """SHEAF_MODEL_CACHE=1 with four models used at once: models are evicted
    and reloaded under load; every answer is right."""
    srv, models, rows, seq = tiny_cache_server(sheaf_factory, 4)

    def one(k):
        mid = models[k % 4]["id"]
        r = srv.post(f"/api/models/{mid}/predict", json={"rows": rows})
        return mid, r.status_code, (r.json()["predictions"] if r.status_code == 200 else r.text)

    with cf.ThreadPoolExecutor(40) as ex:
        got = list(ex.map(one, range(160)))
    for mid, status, preds in got:
        assert status == 200, (mid, status, preds)
        assert preds == seq[mid], mid
    srv.assert_healthy()


def test_predict_racing_a_delete_is_200_or_404(sheaf_factory):
    """Predictions of a model deleted meanwhile answer with the prediction
    or 404, never a 500 (the model file is gone, but so is the model)."""
    srv, models, rows, seq = tiny_cache_server(sheaf_factory, 8)
    keep = [m["id"] for m in models[-3:]]
    for doomed in [m["id"] for m in models[:-3]]:
        def one(k, doomed=doomed):
            if k == 40:
                return "delete", srv.delete(f"/api/models/{doomed}").status_code, None
            # The other models keep the one-model cache turning, so the
            # doomed one is loaded again and again.
            mid = doomed if k % 2 else keep[k // 2 % 3]
            r = srv.post(f"/api/models/{mid}/predict", json={"rows": rows})
            return mid, r.status_code, (r.json()["predictions"] if r.status_code == 200
                                        else r.text)

        with cf.ThreadPoolExecutor(40) as ex:
            got = list(ex.map(one, range(100)))
        assert ("delete", 204, None) in got
        for mid, status, body in got:
            if mid == "delete":
                continue
            if mid == doomed and status == 404:
                continue
            assert status == 200, (mid == doomed, status, body)
            assert body == seq[mid]
        assert_error(srv.get(f"/api/models/{doomed}"), 404, "not_found")
    srv.assert_healthy()
