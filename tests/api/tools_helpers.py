"""Shared fixtures for the analysis tool tests (tests/api/test_tools*.py).

Every tool's numbers are checked against an independent computation with
pandas/numpy on the same data:

- ``GEN``: a generated table with integers, reals, booleans, dates,
  datetimes, categories, latitude/longitude, nulls and edge cases
  (negatives, zeros, ties, a column that is all null, a constant column).
  Its pandas DataFrame ``GEN_DF`` is built from the Python values directly,
  never from sheaf's answers; the CSV sheaf ingests is written from the
  same values.
- the real Daegu files: ``test.csv`` (10,962 accidents, Korean categories
  and datetimes like ``2022-01-01 01``) and the first CSV of the TAAS zip
  (accident records with injury counts), read with pandas.

``tool(who, dataset_id, name, **args)`` runs a tool and checks the answer's
shape; ``tool_error`` expects a failure.
"""

import datetime as dt
import io
import random
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import SheafFactory, assert_error
from datasets_helpers import TAAS_ZIP, TEST_CSV, need_data, ready, upload_dataset, wait_ready

# --------------------------------------------------------------------------
# the generated table

GEN_N = 2000
_r = random.Random(20261122)
_cities = ["대구", "서울", "부산", "광주", "Daejeon", "a,b", 'q"t']
_weights = [30, 25, 15, 10, 10, 5, 5]
GEN_COLUMNS = ["id", "city", "amount", "qty", "ratio", "flag", "day", "ts", "lat", "lng",
               "empty", "const", "grade"]
GEN_ROWS = []
for i in range(GEN_N):
    day = dt.date(2019, 1, 1) + dt.timedelta(days=_r.randrange(0, 5 * 365))
    ts = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=_r.randrange(0, 4 * 365 * 86400))
    GEN_ROWS.append({
        "id": i + 1,
        "city": None if i % 23 == 0 else _r.choices(_cities, _weights)[0],
        "amount": None if i % 17 == 0 else round(_r.gauss(1000, 400), 2),
        "qty": None if i % 29 == 0 else _r.randrange(-5, 50),
        "ratio": None if i % 13 == 0 else round(_r.random(), 4),
        "flag": None if i % 31 == 0 else _r.random() < 0.3,
        "day": None if i % 37 == 0 else day,
        "ts": None if i % 41 == 0 else ts,
        "lat": round(_r.uniform(35.75, 35.95), 6),
        "lng": round(_r.uniform(128.45, 128.75), 6),
        "empty": None,
        "const": 7,
        "grade": _r.choice(["A", "B", "B", "C", "C", "C"]),
    })
# Outliers and ties that the tools must handle.
GEN_ROWS[5]["amount"] = 25000.0
GEN_ROWS[6]["amount"] = -9000.0
GEN_ROWS[7]["qty"] = 10 ** 6


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def gen_csv():
    import csv
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(GEN_COLUMNS)
    for row in GEN_ROWS:
        w.writerow([_cell(row[c]) for c in GEN_COLUMNS])
    return out.getvalue().encode()


def gen_df():
    df = pd.DataFrame(GEN_ROWS, columns=GEN_COLUMNS)
    for c in ("amount", "ratio", "lat", "lng"):
        df[c] = df[c].astype("float64")
    for c in ("qty", "id", "const"):
        df[c] = df[c].astype("Int64")
    df["flag"] = df["flag"].astype("boolean")
    df["day"] = pd.to_datetime(df["day"])
    df["ts"] = pd.to_datetime(df["ts"])
    df["empty"] = df["empty"].astype("object")
    return df


GEN_DF = gen_df()


# --------------------------------------------------------------------------
# real files


def taas_first_csv():
    with zipfile.ZipFile(TAAS_ZIP) as z:
        name = sorted(z.namelist())[0]
        return z.read(name)


def taas_df():
    return pd.read_csv(io.BytesIO(taas_first_csv()), encoding="utf-8-sig")


def read_test_csv():
    return pd.read_csv(TEST_CSV, encoding="utf-8")


# --------------------------------------------------------------------------
# servers and datasets


@pytest.fixture(scope="module", params=["frames", "sql"])
def tsrv(request, tmp_path_factory):
    """The tools' server, twice: with the frame cache (column arrays kept
    in memory) and without it (SHEAF_FRAME_CACHE=0: every call reads the
    dataset file through SQLite), so both ways of reading are checked."""
    f = SheafFactory(tmp_path_factory.mktemp("tools"))
    env = {"SHEAF_FRAME_CACHE": "0"} if request.param == "sql" else {}
    yield f.start(env=env)
    f.finish()


@pytest.fixture(scope="module")
def gen(tsrv):
    return ready(upload_dataset(tsrv, gen_csv(), "gen.csv"))["id"]


@pytest.fixture(scope="module")
def real(tsrv):
    """test.csv as a dataset: (id, DataFrame)."""
    need_data(TEST_CSV)
    d = ready(upload_dataset(tsrv, TEST_CSV.read_bytes(), "test.csv"))
    return d["id"], read_test_csv()


@pytest.fixture(scope="module")
def taas(tsrv):
    """The first TAAS CSV as a dataset: (id, DataFrame)."""
    need_data(TAAS_ZIP)
    r = upload_dataset(tsrv, taas_first_csv(), "taas1.csv")
    assert r.status_code in (201, 202), r.text
    d = r.json() if r.status_code == 201 else wait_ready(tsrv, r.json()["id"])
    assert d["status"] == "ready", d
    return d["id"], taas_df()


# --------------------------------------------------------------------------
# calling tools


def tool(who, dataset_id, name, **args):
    r = who.post(f"/api/datasets/{dataset_id}/tools/{name}", json=args, timeout=120)
    assert r.status_code == 200, (name, args, r.status_code, r.text[:2000])
    body = r.json()
    assert set(body) == {"tool", "dataset_id", "result", "summary", "elapsed_ms"}, body
    assert body["tool"] == name and body["dataset_id"] == dataset_id
    assert isinstance(body["summary"], str) and body["summary"], body
    assert isinstance(body["result"], dict)
    return body["result"]


def tool_error(who, dataset_id, name, status, code, fragment=None, **args):
    r = who.post(f"/api/datasets/{dataset_id}/tools/{name}", json=args, timeout=120)
    return assert_error(r, status, code, fragment)


def table_rows(t):
    """A {"columns","rows"} table as a list of dicts."""
    return [dict(zip(t["columns"], row)) for row in t["rows"]]


def approx(x, rel=1e-9, abs_=1e-9):
    return pytest.approx(x, rel=rel, abs=abs_)
