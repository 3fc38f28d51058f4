"""Transformations (issue 6): POST /api/datasets/{id}/transform makes a new
dataset owned by the caller and linked to its parent.  Every result is
compared with the same steps done in pandas on the source rows; bad steps
are refused naming the step; the source never changes.
"""

import csv
import io
import random

import numpy as np
import pandas as pd
import pytest

from conftest import SheafFactory, assert_error
from datasets_helpers import upload_dataset, wait_ready

N = 300
_r = random.Random(11)
PEOPLE = []
for i in range(1, N + 1):
    PEOPLE.append({
        "id": i,
        "city": None if i % 19 == 0 else _r.choice(["대구", "서울", "부산", "a,b"]),
        "score": None if i % 7 == 0 else round(_r.uniform(-50, 150), 2),
        "qty": _r.randrange(0, 9),
        "day": f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}",
        "vip": _r.random() < 0.3,
    })
COLS = ["id", "city", "score", "qty", "day", "vip"]
CITIES = [{"city": "대구", "region": "영남", "pop": 2.4}, {"city": "서울", "region": "수도권", "pop": 9.4},
          {"city": "광주", "region": "호남", "pop": 1.4}]


def to_csv(rows, cols):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow(["" if r[c] is None else ("true" if r[c] is True else "false" if r[c] is False
                                            else r[c]) for c in cols])
    return out.getvalue().encode()


def source_df():
    return pd.DataFrame(PEOPLE, columns=COLS)


@pytest.fixture(scope="module")
def xsrv(tmp_path_factory):
    f = SheafFactory(tmp_path_factory.mktemp("transform"))
    yield f.start(env={"SHEAF_DATASET_SYNC_BYTES": "4K"})
    f.finish()


def up(who, data, name):
    """An upload, waited for (small SHEAF_DATASET_SYNC_BYTES makes most 202)."""
    return made(who, upload_dataset(who, data, name))["id"]


@pytest.fixture(scope="module")
def people(xsrv):
    return up(xsrv, to_csv(PEOPLE, COLS), "people.csv")


@pytest.fixture(scope="module")
def cities(xsrv):
    return up(xsrv, to_csv(CITIES, ["city", "region", "pop"]), "cities.csv")


def transform(who, dataset_id, steps, **kw):
    return who.post(f"/api/datasets/{dataset_id}/transform", json={"steps": steps, **kw},
                    timeout=120)


def made(who, r):
    """The new dataset of a transform answer (waiting when it is 202)."""
    assert r.status_code in (201, 202), r.text
    d = r.json()
    if r.status_code == 202:
        d = wait_ready(who, d["id"])
    assert d["status"] == "ready", d
    return d


def rows_of(who, dataset_id):
    r = who.post(f"/api/datasets/{dataset_id}/query",
                 json={"sql": "SELECT * FROM data", "limit": 100000})
    assert r.status_code == 200, r.text
    b = r.json()
    return pd.DataFrame(b["rows"], columns=[c["name"] for c in b["columns"]]), b["columns"]


def frame_rows(df):
    """Rows as tuples with NaN/None made None, for exact comparison."""
    out = []
    for row in df.itertuples(index=False):
        out.append(tuple(None if (isinstance(v, float) and np.isnan(v)) or v is pd.NA else
                         (v.item() if hasattr(v, "item") else v) for v in row))
    return out


def test_filter_select_derive_sort(xsrv, people):
    steps = [
        {"op": "filter", "where": "score > 10 AND city IS NOT NULL"},
        {"op": "derive", "name": "double", "expression": "score * 2"},
        {"op": "select", "columns": ["id", "city", "score", "double"]},
        {"op": "sort", "by": [{"column": "city"}, {"column": "score", "descending": True}]},
    ]
    d = made(xsrv, transform(xsrv, people, steps, name="big scores"))
    assert d["parent_id"] == people and d["name"] == "big scores"
    got, cols = rows_of(xsrv, d["id"])
    df = source_df()
    want = df[(df.score > 10) & df.city.notna()].copy()
    want["double"] = want.score * 2
    want = want[["id", "city", "score", "double"]].sort_values(
        ["city", "score"], ascending=[True, False], kind="stable")
    assert list(got.columns) == ["id", "city", "score", "double"]
    assert frame_rows(got) == frame_rows(want)
    assert [c["type"] for c in cols] == ["integer", "text", "real", "real"]
    # The source is untouched.
    src, _ = rows_of(xsrv, people)
    assert len(src) == N


def test_sort_order_survives_later_steps(xsrv, people):
    steps = [{"op": "sort", "by": [{"column": "score", "descending": True}]},
             {"op": "filter", "where": "qty >= 3"},
             {"op": "derive", "name": "q2", "expression": "qty * qty"},
             {"op": "limit", "n": 40}]
    got, _ = rows_of(xsrv, made(xsrv, transform(xsrv, people, steps))["id"])
    df = source_df().sort_values("score", ascending=False, kind="stable", na_position="last")
    df = df[df.qty >= 3].copy()
    df["q2"] = df.qty * df.qty
    assert frame_rows(got) == frame_rows(df.head(40))


def test_rename_and_deduplicate(xsrv, people):
    steps = [{"op": "rename", "columns": {"city": "도시", "qty": "count"}},
             {"op": "deduplicate", "columns": ["도시", "count"]}]
    got, _ = rows_of(xsrv, made(xsrv, transform(xsrv, people, steps))["id"])
    df = source_df().rename(columns={"city": "도시", "qty": "count"})
    want = df.drop_duplicates(subset=["도시", "count"], keep="first")
    assert list(got.columns) == list(want.columns)
    assert frame_rows(got) == frame_rows(want)
    steps = [{"op": "select", "columns": ["city", "vip"]}, {"op": "deduplicate"}]
    got, _ = rows_of(xsrv, made(xsrv, transform(xsrv, people, steps))["id"])
    want = source_df()[["city", "vip"]].drop_duplicates()
    assert sorted(frame_rows(got), key=str) == sorted(frame_rows(want), key=str)


def test_aggregate(xsrv, people):
    steps = [{"op": "aggregate", "by": ["city"], "aggregations": [
        {"function": "count"},
        {"column": "score", "function": "sum"},
        {"column": "score", "function": "mean"},
        {"column": "score", "function": "median"},
        {"column": "score", "function": "std", "as": "score_sd"},
        {"column": "qty", "function": "nunique"},
        {"column": "qty", "function": "min"},
        {"column": "day", "function": "max"},
    ]}]
    got, _ = rows_of(xsrv, made(xsrv, transform(xsrv, people, steps))["id"])
    g = source_df().groupby("city")   # pandas drops the NULL key, as sheaf does
    want = pd.DataFrame({
        "city": g.size().index,
        "count(*)": g.size().values,
        "sum(score)": g.score.sum().values,
        "mean(score)": g.score.mean().values,
        "median(score)": g.score.median().values,
        "score_sd": g.score.std().values,
        "nunique(qty)": g.qty.nunique().values,
        "min(qty)": g.qty.min().values,
        "max(day)": g.day.max().values,
    })
    assert list(got.columns) == list(want.columns)
    assert list(got.city) == list(want.city)
    for col in want.columns[1:]:
        if want[col].dtype == object:
            assert list(got[col]) == list(want[col]), col
        else:
            assert np.allclose(got[col].astype(float), want[col].astype(float), rtol=1e-9), col


def test_join(xsrv, people, cities):
    for how in ("inner", "left"):
        steps = [{"op": "join", "dataset_id": cities, "on": ["city"], "how": how}]
        got, cols = rows_of(xsrv, made(xsrv, transform(xsrv, people, steps))["id"])
        want = source_df().merge(pd.DataFrame(CITIES), on="city", how=how)
        # sheaf keeps the left rows' order; pandas' inner merge groups rows by
        # key, so compare in id order.
        want = want.sort_values("id", kind="stable")
        assert list(got.columns) == COLS + ["region", "pop"]
        assert frame_rows(got) == frame_rows(want), how
    # Keys with other names, and a clashing column name gets a suffix.
    steps = [{"op": "derive", "name": "region", "expression": "'x'"},
             {"op": "join", "dataset_id": cities, "on": [{"left": "city", "right": "city"}],
              "columns": ["region"]}]
    got, _ = rows_of(xsrv, made(xsrv, transform(xsrv, people, steps))["id"])
    assert list(got.columns) == COLS + ["region", "region_right"]
    assert set(got.region) == {"x"}
    assert set(got.region_right) <= {"영남", "수도권"}


def test_large_result_is_ingested_in_the_background(xsrv, people):
    """Over SHEAF_DATASET_SYNC_BYTES (4K here): 202, then ready."""
    r = transform(xsrv, people, [{"op": "derive", "name": "pad",
                                  "expression": "printf('%040d', id)"}])
    assert r.status_code == 202, r.text
    d = wait_ready(xsrv, r.json()["id"])
    assert d["status"] == "ready" and d["rows"] == N and d["parent_id"] == people


@pytest.mark.parametrize("steps,status,fragment", [
    ([{"op": "explode"}], 422, "body.steps[0].op"),
    ([], 422, "body.steps"),
    ([{"op": "select", "columns": ["nope"]}], 400, "steps[0] (select): columns[0]: no column"),
    ([{"op": "filter", "where": "nope > 1"}], 400, "steps[0] (filter): no such column: nope"),
    ([{"op": "filter", "where": "1) UNION SELECT * FROM sheaf_meta --"}], 400, "steps[0] (filter)"),
    ([{"op": "filter", "where": "1; DROP TABLE data"}], 400, "one expression"),
    ([{"op": "derive", "name": "x", "expression": "load_extension('x')"}], 400, "not allowed"),
    ([{"op": "derive", "name": "x", "expression": "(SELECT count(*) FROM sheaf_meta)"}], 400,
     "may not read other tables"),
    ([{"op": "rename", "columns": {"nope": "x"}}], 400, "no column \"nope\""),
    ([{"op": "sort", "by": [{"column": "nope"}]}], 400, "by[0]"),
    ([{"op": "aggregate", "by": ["city"], "aggregations": [{"function": "sum"}]}], 400,
     "needs a column"),
    ([{"op": "aggregate", "by": ["city"], "aggregations": [{"function": "mode", "column": "qty"}]}],
     422, "function"),
    ([{"op": "join", "dataset_id": "A" * 22, "on": ["city"]}], 400, "no dataset"),
    ([{"op": "limit", "n": 0}], 422, "n"),
    ([{"op": "filter", "where": "1", "bogus": 2}], 422, "bogus"),
])
def test_bad_steps(xsrv, people, steps, status, fragment):
    r = transform(xsrv, people, steps)
    assert r.status_code == status, r.text
    assert fragment in r.json()["detail"], r.text


def test_ownership(xsrv, people, cities):
    other = xsrv.new_user()
    assert_error(transform(other, people, [{"op": "limit", "n": 1}]), 404, "not_found")
    mine = up(other, to_csv(PEOPLE[:5], COLS), "mine.csv")
    r = transform(other, mine, [{"op": "join", "dataset_id": cities, "on": ["city"]}])
    assert_error(r, 400, "bad_transform", "no dataset")
    d = made(other, transform(other, mine, [{"op": "limit", "n": 2}]))
    assert other.get(f"/api/datasets/{d['id']}").status_code == 200
    assert xsrv.get(f"/api/datasets/{d['id']}").status_code == 404
