"""Seed 003's prediction stack, rebuilt to serve sheaf's own ECLO trees.

FastAPI + uvicorn + XGBoost, as seed 003 built it (FastAPI request and
response models in Pydantic, the model loaded once at start-up), but
loading the very model sheaf serves: models/eclo/eclo.model, one JSON
header line then XGBoost's UBJSON bytes.  Requests are encoded as sheaf
encodes them (src/models/features.c): a text field becomes the index of its
value in the header's "categories" list, an unknown value is missing (NaN),
numbers stay numbers, the columns in the header's feature order; the
prediction is expm1'd back to the ECLO scale (log_target).

    SEED_MODEL=models/eclo/eclo.model uvicorn seed_app:app --port 8000

Endpoints:
  GET  /health
  POST /api/predict/eclo        the 11 fields -> {eclo, interpretation, detail,
                                prediction_id, model_version, timestamp, elapsed_us};
                                422 for a value the model does not know
  POST /api/predict/eclo/batch  {"accidents": [...]} -> the results at once
                                (synchronous: seed 003 queued a Celery task and
                                stored its results in Redis; this does neither,
                                which favours this side of the benchmark)

Choices that favour this side (see README.md): the single prediction encodes
straight into a NumPy row (no one-row pandas DataFrame), the
batch answers in the same request, and its answer is a JSONResponse (no
jsonable_encoder pass over 100,000 items).
"""
import datetime
import hashlib
import json
import math
import os
import secrets
import time
from typing import List, Optional

import numpy as np
import pandas as pd
import xgboost as xgb
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, root_validator, validator

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_PATH = os.environ.get("SEED_MODEL", os.path.join(HERE, "..", "..", "models", "eclo",
                                                        "eclo.model"))
BATCH_MAX = int(os.environ.get("SEED_BATCH_MAX_ROWS", "1000000"))

with open(MODEL_PATH, "rb") as f:
    RAW = f.read()
_nl = RAW.index(b"\n")
INFO = json.loads(RAW[:_nl])["info"]
BOOSTER = xgb.Booster()
BOOSTER.load_model(bytearray(RAW[_nl + 1:]))
# One OpenMP thread per prediction, as sheaf sets on every model it loads
# (src/models/xgb.c, xgb_load): a team of threads woken for one row costs
# more than the trees, and on a busy 2-core machine it waits for a core.
BOOSTER.set_param({"nthread": int(os.environ.get("SEED_NTHREAD", "1"))})
# The same version string as sheaf's: eclo- and the first 12 hex digits of
# the model bytes' SHA-256.
MODEL_VERSION = "eclo-" + hashlib.sha256(RAW).hexdigest()[:12]
FEATURES = [f["name"] for f in INFO["features"]]
CODES = {f["name"]: {c: float(i) for i, c in enumerate(f["categories"])}
         for f in INFO["features"] if f["encoding"] == "category"}
LOG_TARGET = bool(INFO.get("log_target"))
del RAW

LEVELS = [
    (3.0, "경미", "경미한 사고 수준입니다. 부상 가능성이 낮고, 대부분 경상 또는 부상신고 수준으로 "
     "예상됩니다."),
    (5.0, "일반", "일반적인 사고 수준입니다. 경상 가능성이 있으며, 치료가 필요할 수 있습니다."),
    (10.0, "심각", "심각한 사고 수준입니다. 중상 가능성이 있으며, 장기 치료나 입원이 필요할 수 "
     "있습니다."),
    (math.inf, "매우 심각", "매우 심각한 사고 수준입니다. 사망에 준하는 피해 가능성이 있으며, "
     "즉각적인 응급 처치가 필요합니다."),
]


def interpret(eclo):
    for below, label, detail in LEVELS:
        if eclo < below:
            return label, detail
    return LEVELS[-1][1], LEVELS[-1][2]


def time_period(hour):
    if 7 <= hour <= 9:
        return "출근시간대"
    if 17 <= hour <= 19:
        return "퇴근시간대"
    if hour >= 22 or hour <= 5:
        return "심야"
    return "일반시간대"


DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


class AccidentInput(BaseModel):
    """Seed 003's ECLOPredictionRequest: the eleven fields, typed and ranged."""
    weather: str
    road_surface: str
    road_type: str
    accident_type: str
    time_period: Optional[str] = None
    district: str
    day_of_week: str
    accident_hour: int = Field(..., ge=0, le=23)
    accident_year: int = Field(..., ge=1970, le=2100)
    accident_month: int = Field(..., ge=1, le=12)
    accident_day: int = Field(..., ge=1, le=31)

    class Config:
        extra = "forbid"

    @root_validator(skip_on_failure=True)
    def date_and_period(cls, v):
        y, m, d = v["accident_year"], v["accident_month"], v["accident_day"]
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        if d > (29 if m == 2 and leap else DAYS[m - 1]):
            raise ValueError(f"{y:04d}-{m:02d}-{d:02d} is not a date")
        if v.get("time_period") is None:
            v["time_period"] = time_period(v["accident_hour"])
        return v


class ECLOPredictionRequest(AccidentInput):
    """A single prediction also refuses values the model does not know (422)."""

    @validator("weather", "road_surface", "road_type", "accident_type", "time_period",
               "district", "day_of_week")
    def known(cls, value, field):
        if value is not None and value not in CODES[field.name]:
            raise ValueError(f'"{value[:150]}" is not one of the values the model knows')
        return value


class ECLOPredictionResponse(BaseModel):
    eclo: float
    interpretation: str
    detail: str
    prediction_id: str
    model_version: str
    timestamp: str
    elapsed_us: int


class BatchRequest(BaseModel):
    accidents: List[AccidentInput] = Field(..., max_items=BATCH_MAX)


app = FastAPI(title="seed 003 ECLO prediction (benchmark copy)")


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


@app.get("/health")
async def health():
    return {"status": "healthy", "model_version": MODEL_VERSION}


@app.post("/api/predict/eclo", response_model=ECLOPredictionResponse)
async def predict(req: ECLOPredictionRequest):
    t0 = time.perf_counter_ns()
    d = req.dict()
    x = np.empty((1, len(FEATURES)), dtype=np.float32)
    for j, name in enumerate(FEATURES):
        codes = CODES.get(name)
        x[0, j] = codes.get(d[name], math.nan) if codes is not None else d[name]
    p = float(BOOSTER.inplace_predict(x)[0])
    eclo = math.expm1(p) if LOG_TARGET else p
    label, detail = interpret(eclo)
    return ECLOPredictionResponse(eclo=eclo, interpretation=label, detail=detail,
                                  prediction_id="pred_" + secrets.token_urlsafe(16),
                                  model_version=MODEL_VERSION, timestamp=now(),
                                  elapsed_us=(time.perf_counter_ns() - t0) // 1000)


@app.post("/api/predict/eclo/batch")
async def predict_batch(req: BatchRequest):
    t0 = time.perf_counter_ns()
    n = len(req.accidents)
    df = pd.DataFrame([a.dict() for a in req.accidents], columns=FEATURES)
    x = np.empty((n, len(FEATURES)), dtype=np.float32)
    unknown = np.zeros(n, dtype=bool)
    for j, name in enumerate(FEATURES):
        codes = CODES.get(name)
        if codes is not None:
            col = df[name].map(codes)   # unknown -> NaN
            unknown |= col.isna().to_numpy()
            x[:, j] = col.to_numpy(dtype=np.float32, na_value=np.nan)
        else:
            x[:, j] = df[name].to_numpy(dtype=np.float32)
    pred = BOOSTER.inplace_predict(x).astype(np.float64) if n else np.zeros(0)
    eclo = np.expm1(pred) if LOG_TARGET else pred
    level = np.searchsorted(np.array([b for b, _, _ in LEVELS[:-1]]), eclo, side="right")
    results = []
    for i in range(n):
        if unknown[i]:
            bad = [name for name in CODES if df[name].iat[i] not in CODES[name]]
            results.append({"index": i + 1, "eclo": None, "interpretation": None,
                            "detail": None, "error": f"{bad[0]}: not one of the values "
                            "the model knows"})
        else:
            _, label, detail = LEVELS[level[i]]
            results.append({"index": i + 1, "eclo": float(eclo[i]), "interpretation": label,
                            "detail": detail, "error": None})
    return JSONResponse({"batch_id": secrets.token_urlsafe(16), "status": "success",
                         "total": n, "processed": n, "model_version": MODEL_VERSION,
                         "elapsed_us": (time.perf_counter_ns() - t0) // 1000,
                         "results": results})
