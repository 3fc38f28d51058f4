"""Helpers for tests/api/test_eclo.py (the ECLO preset, seed 003).

Everything the tests expect is computed here independently of sheaf:

- ``taas_accidents()``: the TAAS Daegu records (../shared/data/daegu/taas/
  data.zip, read in place), each turned into the eleven request fields the
  way models/eclo/request.json's SQL derives them, with its real ECLO
  (10 x deaths + 5 x serious + 3 x light + 1 x reported injuries);
- ``Reference``: the model file the binary embeds (models/eclo/eclo.model:
  one JSON header line, then XGBoost UBJSON) loaded into python3-xgboost,
  predicting from the header's feature list (a category is its index in
  the header's "categories", a number is itself) and expm1;
- ``label_of``: the documented interpretation thresholds;
- small polling helpers for batch jobs.
"""

import csv
import functools
import hashlib
import io
import json
import math
import re
import time
import zipfile

import pytest

from conftest import REPO

MODEL_FILE = REPO / "models" / "eclo" / "eclo.model"
TAAS_ZIP = REPO.parent / "shared" / "data" / "daegu" / "taas" / "data.zip"

FIELDS = ["weather", "road_surface", "road_type", "accident_type", "time_period",
          "district", "day_of_week", "accident_hour", "accident_year",
          "accident_month", "accident_day"]
TEXT_FIELDS = FIELDS[:7]
INT_FIELDS = FIELDS[7:]
INT_RANGES = {"accident_hour": (0, 23), "accident_year": (1970, 2100),
              "accident_month": (1, 12), "accident_day": (1, 31)}
LABELS = ["경미", "일반", "심각", "매우 심각"]
THRESHOLDS = [3.0, 5.0, 10.0]          # 경미 < 3 <= 일반 < 5 <= 심각 < 10 <= 매우 심각
ERROR_422_KEYS = {"error", "detail", "timestamp", "request_id", "fields"}
BATCH_STATES = {"pending", "processing", "success", "failed", "cancelled"}

# seed 003's example request: road_type, time_period and district are not
# values the model (trained on TAAS) knows.
SEED_EXAMPLE = {"weather": "맑음", "road_surface": "건조", "road_type": "교차로",
                "accident_type": "차대차", "time_period": "낮", "district": "중구",
                "day_of_week": "월요일", "accident_hour": 14, "accident_year": 2024,
                "accident_month": 12, "accident_day": 10}

DATE_RE = re.compile(r"^(\d{4})년 (\d{1,2})월 (\d{1,2})일 (\d{1,2})시$")


def time_period(hour):
    """시간대 as request.json's SQL computes it."""
    if 7 <= hour <= 9:
        return "출근시간대"
    if 17 <= hour <= 19:
        return "퇴근시간대"
    if hour >= 22 or hour <= 5:
        return "심야"
    return "일반시간대"


def label_of(eclo):
    for t, label in zip(THRESHOLDS, LABELS):
        if eclo < t:
            return label
    return LABELS[-1]


# --------------------------------------------------------------------------
# the real data


@functools.lru_cache(maxsize=None)
def taas_accidents():
    """[(fields dict, real eclo, raw 사고일시)] of every TAAS record, in zip
    order."""
    if not TAAS_ZIP.exists():
        pytest.skip(f"real data file {TAAS_ZIP} is not present")
    out = []
    with zipfile.ZipFile(TAAS_ZIP) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            text = z.read(info).decode("utf-8-sig")
            for r in csv.DictReader(io.StringIO(text)):
                m = DATE_RE.match(r["사고일시"])
                assert m, f"unexpected 사고일시 {r['사고일시']!r}"
                y, mo, d, h = (int(g) for g in m.groups())
                kind = r["사고유형"]
                if " - " in kind:
                    kind = kind[:kind.index(" - ")]
                fields = {
                    "weather": r["기상상태"], "road_surface": r["노면상태"],
                    "road_type": r["도로형태"], "accident_type": kind,
                    "time_period": time_period(h), "district": r["시군구"],
                    "day_of_week": r["요일"], "accident_hour": h, "accident_year": y,
                    "accident_month": mo, "accident_day": d,
                }
                eclo = (10 * int(r["사망자수"]) + 5 * int(r["중상자수"])
                        + 3 * int(r["경상자수"]) + int(r["부상신고자수"]))
                out.append((fields, eclo, r["사고일시"]))
    return out


def known(ref, fields):
    """Whether every text value of ``fields`` is one the model knows."""
    return all(fields[k] in ref.categories[k] for k in TEXT_FIELDS)


def spread(items, n):
    """n items spread evenly over ``items`` (deterministic)."""
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


# --------------------------------------------------------------------------
# the reference model


class Reference:
    """The embedded model, evaluated by python3-xgboost."""

    def __init__(self, path=MODEL_FILE):
        import numpy as np
        import xgboost
        self.np = np
        data = path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        nl = data.index(b"\n")
        self.header = json.loads(data[:nl])
        info = self.header["info"]
        assert info["task"] == "regression" and info["log_target"] is True, info
        self.features = info["features"]
        self.names = [f["name"] for f in self.features]
        self.categories = {f["name"]: f["categories"] for f in self.features
                           if f["encoding"] == "category"}
        self.codes = {k: {v: i for i, v in enumerate(c)}
                      for k, c in self.categories.items()}
        self.booster = xgboost.Booster()
        self.booster.load_model(bytearray(data[nl + 1:]))
        self.xgboost = xgboost

    def row(self, fields):
        out = []
        for f in self.features:
            v = fields.get(f["name"])
            if f["encoding"] == "category":
                out.append(float(self.codes[f["name"]].get(v, math.nan))
                           if v is not None else math.nan)
            else:
                out.append(float(v) if v is not None else math.nan)
        return out

    def predict(self, rows):
        """ECLO of each of ``rows`` (dicts of the eleven fields; time_period
        derived from the hour when absent)."""
        np = self.np
        filled = []
        for r in rows:
            r = dict(r)
            if "time_period" not in r:
                r["time_period"] = time_period(int(r["accident_hour"]))
            filled.append(self.row(r))
        x = np.array(filled, dtype=np.float32)
        dm = self.xgboost.DMatrix(x, missing=np.nan, feature_names=None)
        margin = self.booster.predict(dm)
        return [float(np.expm1(np.float64(v))) for v in margin]


@functools.lru_cache(maxsize=None)
def reference():
    try:
        return Reference()
    except ImportError as e:   # python3-xgboost is installed by scripts/bootstrap
        pytest.fail(f"python3-xgboost is needed for the ECLO reference: {e}")


def close(a, b, rel=1e-4):
    return a is not None and b is not None and abs(a - b) <= rel * max(abs(a), abs(b), 1e-9)


# --------------------------------------------------------------------------
# checks and polling


def check_prediction(body):
    """The contract's shape of a 200 from POST /api/predict/eclo; returns the
    eclo."""
    for k in ("eclo", "interpretation", "detail", "prediction_id", "model_version",
              "timestamp"):
        assert k in body, f"prediction lacks {k}: {body}"
    e = body["eclo"]
    assert isinstance(e, (int, float)) and not isinstance(e, bool), body
    assert math.isfinite(e) and e > 0, body
    assert body["interpretation"] == label_of(e), \
        f"eclo {e} is labelled {body['interpretation']!r}, thresholds say {label_of(e)!r}"
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    return e


def check_422(r, fields=None):
    """A 422 invalid_accident; returns {field: problem}.  With ``fields``
    (a set), exactly those fields must be named."""
    assert r.status_code == 422, (r.status_code, r.text[:2000])
    assert r.headers.get("Content-Type", "").split(";")[0].strip() == "application/json"
    body = r.json()
    assert set(body) == ERROR_422_KEYS, f"keys {sorted(body)}: {body}"
    assert body["error"] == "invalid_accident", body
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    assert body["request_id"] == r.headers.get("X-Request-Id"), body
    problems = body["fields"]
    assert isinstance(problems, list) and problems, body
    by_field = {}
    for p in problems:
        assert isinstance(p, dict) and {"field", "message"} <= set(p), p
        assert set(p) <= {"field", "message", "allowed"}, p
        assert isinstance(p["message"], str) and p["message"].strip(), p
        assert p["field"] not in by_field, f"field {p['field']} listed twice: {problems}"
        by_field[p["field"]] = p
    if fields is not None:
        assert set(by_field) == set(fields), \
            f"expected problems with {sorted(fields)}, got {sorted(by_field)}: {problems}"
    return by_field


def wait_batch(who, batch_id, until=("success", "failed", "cancelled"), timeout=120,
               seen=None, interval=0.1):
    """Poll GET /api/predict/batch/{id}/results until its status is in
    ``until``; returns the body.  ``seen`` (a list) collects (status,
    progress, processed) of every poll."""
    deadline = time.monotonic() + timeout
    while True:
        r = who.get(f"/api/predict/batch/{batch_id}/results", timeout=60)
        assert r.status_code == 200, (r.status_code, r.text[:1000])
        b = r.json()
        assert b["batch_id"] == batch_id, b
        assert b["status"] in BATCH_STATES, b
        if seen is not None:
            seen.append((b["status"], b["progress"], b["processed"]))
        if b["status"] in until:
            return b
        if time.monotonic() > deadline:
            pytest.fail(f"batch {batch_id} still {b['status']} after {timeout}s: "
                        f"{ {k: v for k, v in b.items() if k != 'results'} }")
        time.sleep(interval)


def wait_job(who, job_id, pred, timeout=60, what="job state", interval=0.05):
    """Poll GET /api/jobs/{id} until pred(body); returns the body."""
    deadline = time.monotonic() + timeout
    while True:
        r = who.get(f"/api/jobs/{job_id}", timeout=60)
        assert r.status_code == 200, (r.status_code, r.text[:1000])
        j = r.json()
        if pred(j):
            return j
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id}: no {what} within {timeout}s: "
                        f"{ {k: v for k, v in j.items() if k != 'result'} }")
        time.sleep(interval)


def check_items(items, accidents, expected):
    """Batch result items against the inputs: one per accident, in order,
    index from 1; ``expected[i]`` is the reference eclo of accident i, or
    None when the accident must get an error."""
    assert isinstance(items, list) and len(items) == len(accidents), \
        (len(items) if isinstance(items, list) else items, len(accidents))
    for i, (item, want) in enumerate(zip(items, expected)):
        assert set(item) == {"index", "eclo", "interpretation", "detail", "error"}, item
        assert item["index"] == i + 1, (i, item)
        if want is None:
            assert item["eclo"] is None and item["interpretation"] is None, (i, item)
            assert isinstance(item["error"], str) and item["error"].strip(), (i, item)
        else:
            assert item["error"] is None, (i, accidents[i], item)
            assert close(item["eclo"], want), (i, accidents[i], item, want)
            assert item["interpretation"] == label_of(item["eclo"]), (i, item)
            assert isinstance(item["detail"], str) and item["detail"], (i, item)
