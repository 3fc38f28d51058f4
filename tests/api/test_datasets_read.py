"""Datasets (issue 5): reading what was ingested.

List (pagination, total, sorts), details with column profiles (checked
against pandas/numpy on a real file), preview, rows (offset, limit, typed
filters, sorts), CSV/JSON exports, PATCH, DELETE (storage objects go too),
invalid ids, cross-user isolation, concurrent uploads.

Expectations are computed here from the data the test wrote or from the
real file read with Python's csv module.
"""

import csv
import datetime as dt
import io
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from conftest import assert_error, serve_on_storage
from datasets_helpers import (PARKING_CSV, TEST_CSV, Model, cols_by_name, detail,
                              export_csv, need_data, read_csv_text, read_source, ready,
                              upload_dataset)
from files_helpers import make_storage, parse_disposition, storage_params


@pytest.fixture(scope="module", params=storage_params())
def storage(request):
    return make_storage(request.param)


@pytest.fixture(scope="module")
def rsrv(storage, tmp_path_factory):
    yield from serve_on_storage(storage, tmp_path_factory, "ds-read")


def up_ok(who, data, filename="data.csv", **fields):
    return ready(upload_dataset(who, data, filename, fields))


# --------------------------------------------------------------------------
# a generated dataset with every type and some nulls

N = 60
_rnd = random.Random(42)
PEOPLE = []
for i in range(1, N + 1):
    PEOPLE.append({
        "id": i,
        "name": _rnd.choice(["Kim", "Lee", "Park", "Choi", "kimchi", "JUNG"]) + f" {i:02d}",
        "score": None if i % 7 == 0 else round(_rnd.uniform(-50, 150), 3),
        "day": None if i % 11 == 0 else (dt.date(2024, 1, 1) + dt.timedelta(days=_rnd.randrange(400))),
        "ts": dt.datetime(2023, 1, 1, 0, 0, 0) + dt.timedelta(minutes=_rnd.randrange(10 ** 6)),
        "flag": _rnd.random() < 0.5,
        "city": _rnd.choice(["대구", "서울", "부산", None]),
    })
PEOPLE_COLS = ["id", "name", "score", "day", "ts", "flag", "city"]


def people_csv():
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(PEOPLE_COLS)
    for p in PEOPLE:
        w.writerow([p["id"], p["name"], "" if p["score"] is None else repr(p["score"]),
                    "" if p["day"] is None else p["day"].strftime("%Y.%m.%d"),
                    p["ts"].strftime("%Y-%m-%d %H:%M:%S"), "true" if p["flag"] else "false",
                    p["city"] or ""])
    return buf.getvalue().encode()


def as_row(p):
    """A person as the API's JSON row."""
    return [p["id"], p["name"], p["score"], p["day"] and p["day"].isoformat(),
            p["ts"].isoformat(), p["flag"], p["city"]]


@pytest.fixture(scope="module")
def people(rsrv):
    d = up_ok(rsrv, people_csv(), "people.csv")
    assert [c["type"] for c in d["columns_info"]] == [
        "integer", "text", "real", "date", "datetime", "boolean", "text"]
    return d


@pytest.fixture(scope="module")
def parking(rsrv):
    need_data(PARKING_CSV)
    return up_ok(rsrv, PARKING_CSV.read_bytes(), PARKING_CSV.name)


def get_rows(who, d, prefix="/api/datasets", **params):
    r = who.get(f"{prefix}/{d['id']}/rows", params=params)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


# --------------------------------------------------------------------------
# list


def test_list_pagination_sorts_and_total(rsrv):
    u = rsrv.new_user()
    sizes = [5, 1, 3, 4, 2]
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    made = []
    for name, n in zip(names, sizes):
        data = ("x\n" + "".join(f"v{i}\n" for i in range(n)) + " " * (10 * n)).encode()
        made.append(up_ok(u, data, f"{name}.csv"))
        time.sleep(0.005)   # distinct upload times
    r = u.get("/api/datasets")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"datasets", "total", "limit", "offset"}
    assert body["total"] == 5 and body["offset"] == 0
    newest_first = [d["id"] for d in reversed(made)]
    assert [d["id"] for d in body["datasets"]] == newest_first
    for d in body["datasets"]:
        assert d["id"] == d["dataset_id"] and isinstance(d["rows"], int)
        assert isinstance(d["size_bytes"], int) and isinstance(d["columns"], int)
    # pages
    seen = []
    for off in range(0, 5, 2):
        page = u.get(f"/api/datasets?limit=2&offset={off}").json()
        assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == off
        seen += [d["id"] for d in page["datasets"]]
    assert seen == newest_first
    assert u.get("/api/datasets?offset=10").json()["datasets"] == []

    def order(sort):
        r = u.get("/api/datasets", params={"sort": sort})
        assert r.status_code == 200, r.text
        return [d["name"] for d in r.json()["datasets"]]
    assert order("oldest") == names
    assert order("name") == sorted(names)
    assert order("-name") == sorted(names, reverse=True)
    by_rows = [n for n, _ in sorted(zip(names, sizes), key=lambda t: -t[1])]
    assert order("-rows") == by_rows
    size_of = {d["name"]: d["size_bytes"] for d in made}
    assert order("-size") == sorted(names, key=lambda n: -size_of[n])
    assert_error(u.get("/api/datasets?sort=bogus"), 400, "bad_request", "sort")
    assert_error(u.get("/api/datasets?limit=0"), 422, "invalid_field", "limit")
    assert_error(u.get("/api/datasets?limit=abc"), 422, "invalid_field", "limit")
    assert_error(u.get("/api/datasets?offset=-1"), 422, "invalid_field", "offset")


# --------------------------------------------------------------------------
# details and profiles


def test_details_profile_matches_pandas(rsrv, parking):
    """Every integer and real column of the parking file: count, nulls,
    distinct, min, max, mean, std, quartiles, top values and histogram
    against pandas/numpy on the csv module's reading."""
    records = read_source(PARKING_CSV, "cp949")
    model = Model(records)
    d = detail(rsrv, parking["id"])
    assert d["rows"] == len(records) - 1
    cols = cols_by_name(d)
    numeric = [c for c in model.columns if c.kind in ("integer", "real")]
    assert len(numeric) >= 3, [(c.name, c.kind) for c in model.columns]
    assert {"위도", "경도"} <= {c.name for c in numeric}
    for mc in numeric:
        prof = cols[mc.name]["profile"]
        s = pd.Series([mc.conv[v] for v in mc.values], dtype="float64").dropna()
        ctx = (mc.name, prof)
        assert prof["count"] == len(s), ctx
        assert prof["nulls"] == cols[mc.name]["nulls"] == mc.nulls, ctx
        assert prof["distinct"] == s.nunique(), ctx
        assert prof["distinct_exact"] is True
        assert prof["min"] == s.min() and prof["max"] == s.max(), ctx
        if mc.kind == "integer":
            assert type(prof["min"]) is int and type(prof["max"]) is int, ctx
        assert prof["mean"] == pytest.approx(s.mean(), rel=1e-9, abs=1e-12), ctx
        if len(s) >= 2:
            assert prof["std"] == pytest.approx(s.std(), rel=1e-9, abs=1e-12), ctx
        assert prof["quantiles_exact"] is True
        for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):
            assert prof["quantiles"][key] == pytest.approx(s.quantile(q), rel=1e-12), (key, ctx)
        # top: most frequent first, ties by value ascending
        vc = s.value_counts()
        want = sorted(vc.items(), key=lambda t: (-t[1], t[0]))[:len(prof["top"])]
        assert [(t["value"], t["count"]) for t in prof["top"]] == \
            [(pytest.approx(v), n) for v, n in want], ctx
        assert len(prof["top"]) == min(10, len(vc)), ctx
        # histogram: numpy's rule over [min, max]
        h = prof["histogram"]
        bins = len(h["counts"])
        if s.min() == s.max():
            assert bins == 1 and h["counts"] == [len(s)], ctx
            continue
        counts, edges = np.histogram(s.to_numpy(), bins=bins, range=(s.min(), s.max()))
        assert h["counts"] == counts.tolist(), ctx
        assert h["edges"] == pytest.approx(edges.tolist(), rel=1e-12), ctx
        assert sum(h["counts"]) == len(s)


def test_details_text_date_boolean_profiles(rsrv, people):
    d = detail(rsrv, people["id"])
    c = cols_by_name(d)
    names = [p["name"] for p in PEOPLE]
    prof = c["name"]["profile"]
    assert prof["count"] == N and prof["nulls"] == 0 and prof["distinct"] == N
    assert prof["min_length"] == min(map(len, names))
    assert prof["max_length"] == max(map(len, names))
    days = sorted(p["day"] for p in PEOPLE if p["day"])
    prof = c["day"]["profile"]
    assert prof["count"] == len(days) and prof["nulls"] == N - len(days)
    assert prof["min"] == days[0].isoformat() and prof["max"] == days[-1].isoformat()
    months = pd.Series([x.strftime("%Y-%m") for x in days]).value_counts()
    h = prof["histogram"]
    assert h["unit"] == "month"
    assert dict(zip(h["labels"], h["counts"])) == {
        m: int(months.get(m, 0)) for m in h["labels"]}
    assert h["labels"][0] == days[0].strftime("%Y-%m") and h["labels"][-1] == days[-1].strftime("%Y-%m")
    flags = [p["flag"] for p in PEOPLE]
    prof = c["flag"]["profile"]
    assert prof["mean"] == pytest.approx(sum(flags) / N)
    assert {t["value"]: t["count"] for t in prof["top"]} == {
        True: sum(flags), False: N - sum(flags)}
    cities = [p["city"] for p in PEOPLE]
    assert c["city"]["nulls"] == cities.count(None)
    assert c["city"]["categorical"] is True


def test_details_of_unknown_and_processing(rsrv):
    assert_error(rsrv.get("/api/datasets/NoSuchDataset0000"), 404, "not_found")


# --------------------------------------------------------------------------
# preview and rows


def test_preview(rsrv, people):
    r = rsrv.get(f"/api/datasets/{people['id']}/preview")
    assert r.status_code == 200
    page = r.json()
    assert page["rows"] == [as_row(p) for p in PEOPLE[:20]]
    assert [c["name"] for c in page["columns"]] == PEOPLE_COLS
    assert page["total"] == N
    page = rsrv.get(f"/api/datasets/{people['id']}/preview?rows=5").json()
    assert page["rows"] == [as_row(p) for p in PEOPLE[:5]]
    page = rsrv.get(f"/api/datasets/{people['id']}/preview?rows=1000").json()
    assert len(page["rows"]) == N
    for bad in ("0", "1001", "x", "-3"):
        assert_error(rsrv.get(f"/api/datasets/{people['id']}/preview?rows={bad}"), 422,
                     "invalid_field", "rows")


def test_rows_offset_limit(rsrv, people):
    got = []
    for off in range(0, N, 25):
        page = get_rows(rsrv, people, offset=off, limit=25)
        assert page["total"] == N and page["offset"] == off and page["limit"] == 25
        got += page["rows"]
    assert got == [as_row(p) for p in PEOPLE]
    assert get_rows(rsrv, people, offset=N)["rows"] == []
    assert len(get_rows(rsrv, people)["rows"]) == N      # default limit 100
    for q in ("limit=0", "limit=10001", "offset=-1", "limit=1.5"):
        assert rsrv.get(f"/api/datasets/{people['id']}/rows?{q}").status_code == 422, q


def expect_sorted(rows, col, desc):
    i = PEOPLE_COLS.index(col)
    have = [r for r in rows if r[i] is not None]
    nulls = [r for r in rows if r[i] is None]
    return sorted(have, key=lambda r: r[i], reverse=desc) + nulls


@pytest.mark.parametrize("col", ["score", "day", "ts", "name", "id"])
@pytest.mark.parametrize("desc", [False, True], ids=["asc", "desc"])
def test_rows_sort(rsrv, people, col, desc):
    rows = [as_row(p) for p in PEOPLE]
    page = get_rows(rsrv, people, sort=("-" if desc else "") + col, limit=N)
    i = PEOPLE_COLS.index(col)
    want = expect_sorted(rows, col, desc)
    assert [r[i] for r in page["rows"]] == [r[i] for r in want]
    # ties keep file order (stable), NULLs last either way
    assert [r for r in page["rows"] if r[i] is None] == [r for r in rows if r[i] is None]


def test_rows_multi_key_sort(rsrv, people):
    rows = [as_row(p) for p in PEOPLE]
    page = get_rows(rsrv, people, sort=["-flag", "city", "id"], limit=N)
    ci = PEOPLE_COLS.index("city")
    want = sorted(rows, key=lambda r: (not r[5], r[ci] is None, r[ci] or "", r[0]))
    assert page["rows"] == want


FILTERS = [
    ("score>50", lambda p: p["score"] is not None and p["score"] > 50),
    ("score <= 0", lambda p: p["score"] is not None and p["score"] <= 0),
    ("id=7", lambda p: p["id"] == 7),
    ("id!=7", lambda p: p["id"] != 7),
    ("id>=1,000", lambda p: False),
    ("day>=2024-06-01", lambda p: p["day"] is not None and p["day"] >= dt.date(2024, 6, 1)),
    ("day<2024.03.01", lambda p: p["day"] is not None and p["day"] < dt.date(2024, 3, 1)),
    ("ts>2024-01-01", lambda p: p["ts"] > dt.datetime(2024, 1, 1)),
    ("name~kim", lambda p: "kim" in p["name"].lower()),
    ("name!~KIM", lambda p: "kim" not in p["name"].lower()),
    ("score=", lambda p: p["score"] is None),
    ("score!=", lambda p: p["score"] is not None),
    ("city=", lambda p: p["city"] is None),
    ("city=대구", lambda p: p["city"] == "대구"),
    ("flag=true", lambda p: p["flag"]),
    ("flag=0", lambda p: not p["flag"]),
    ("city in 대구|부산", lambda p: p["city"] in ("대구", "부산")),
    ("id in 1|2|3|99", lambda p: p["id"] in (1, 2, 3)),
]


@pytest.mark.parametrize("expr,pred", FILTERS, ids=[f[0] for f in FILTERS])
def test_rows_filter(rsrv, people, expr, pred):
    page = get_rows(rsrv, people, filter=expr, limit=N)
    want = [as_row(p) for p in PEOPLE if pred(p)]
    assert page["total"] == len(want), (expr, page["total"], len(want))
    assert page["rows"] == want


def test_rows_filters_and_together_with_sort_and_page(rsrv, people):
    want = [as_row(p) for p in PEOPLE
            if p["score"] is not None and p["score"] > 0 and p["flag"]]
    want.sort(key=lambda r: -r[2])
    page = get_rows(rsrv, people, filter=["score>0", "flag=yes"], sort="-score",
                    offset=2, limit=3)
    assert page["total"] == len(want)
    assert page["rows"] == want[2:5]


@pytest.mark.parametrize("expr,mentions", [
    ("nosuch=1", "nosuch"),
    ("score>abc", "score"),
    ("day>yesterday", "day"),
    ("flag=maybe", "flag"),
    ("score>", "score"),
    ("justtext", "justtext"),
], ids=["unknown-column", "not-a-number", "not-a-date", "not-a-bool", "empty-compare",
        "no-operator"])
def test_bad_filter_is_400_naming_the_problem(rsrv, people, expr, mentions):
    r = rsrv.get(f"/api/datasets/{people['id']}/rows", params={"filter": expr})
    assert_error(r, 400, "bad_filter", mentions)


def test_bad_sort_is_400(rsrv, people):
    r = rsrv.get(f"/api/datasets/{people['id']}/rows", params={"sort": "nosuch"})
    assert_error(r, 400, "bad_sort", "nosuch")


def test_many_filters_are_refused(rsrv, people):
    r = rsrv.get(f"/api/datasets/{people['id']}/rows", params={"filter": ["id>0"] * 40})
    assert_error(r, 400, "bad_request")


# --------------------------------------------------------------------------
# export


def test_export_csv_parses_back_to_the_rows(rsrv, people):
    r = rsrv.get(f"/api/datasets/{people['id']}/export?format=csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    kind, params = parse_disposition(r.headers["Content-Disposition"])
    assert kind == "attachment" and params.get("filename", "").endswith(".csv"), params
    assert r.content.endswith(b"\r\n")
    recs = read_csv_text(r.content.decode("utf-8"))
    assert recs[0] == PEOPLE_COLS
    for rec, p in zip(recs[1:], PEOPLE):
        want = as_row(p)
        got = [int(rec[0]), rec[1], float(rec[2]) if rec[2] else None, rec[3] or None,
               rec[4], {"true": True, "false": False}[rec[5]], rec[6] or None]
        assert got == want, rec
    assert len(recs) == N + 1


def test_export_json_is_an_array_of_objects(rsrv, people):
    r = rsrv.get(f"/api/datasets/{people['id']}/export?format=json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = json.loads(r.content)
    assert isinstance(body, list) and len(body) == N
    assert body == [dict(zip(PEOPLE_COLS, as_row(p))) for p in PEOPLE]
    assert all(list(o) == PEOPLE_COLS for o in body)


def test_export_applies_filters_and_sort(rsrv, people):
    want = [as_row(p) for p in PEOPLE if p["city"] == "서울"]
    want.sort(key=lambda r: r[1])
    r = rsrv.get(f"/api/datasets/{people['id']}/export",
                 params={"format": "json", "filter": "city=서울", "sort": "name"})
    assert r.status_code == 200
    assert [list(o.values()) for o in r.json()] == want
    assert_error(rsrv.get(f"/api/datasets/{people['id']}/export?format=xml"), 400,
                 "bad_request", "format")
    assert_error(rsrv.get(f"/api/datasets/{people['id']}/export",
                          params={"filter": "nosuch=1"}), 400, "bad_filter")


def test_export_real_file_streams_whole(rsrv):
    """test.csv (11k rows): the streamed export is the source's rows."""
    need_data(TEST_CSV)
    d = up_ok(rsrv, TEST_CSV.read_bytes(), "test.csv")
    records = read_source(TEST_CSV, "utf-8")
    with rsrv.get(f"/api/datasets/{d['id']}/export?format=csv", stream=True) as r:
        assert r.status_code == 200
        assert "Content-Length" not in r.headers or int(r.headers["Content-Length"]) > 0
        data = b"".join(r.iter_content(1 << 16))
    got = read_csv_text(data.decode("utf-8"))
    when = records[0].index("사고일시")
    want = [[v.replace(" ", "T") + ":00:00" if j == when else v for j, v in enumerate(rec)]
            for rec in records[1:]]
    assert got[0] == records[0] and got[1:] == want
    body = rsrv.get(f"/api/datasets/{d['id']}/export?format=json").json()
    assert len(body) == len(records) - 1
    assert body[-1] == dict(zip(records[0], want[-1]))


# --------------------------------------------------------------------------
# update and delete


def test_patch_name_and_description(rsrv):
    d = up_ok(rsrv, b"a\n1\n", "p.csv")
    r = rsrv.patch(f"/api/datasets/{d['id']}", json={"name": "새 이름", "description": "desc"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "새 이름" and r.json()["description"] == "desc"
    got = detail(rsrv, d["id"])
    assert got["name"] == "새 이름" and got["description"] == "desc"
    assert got["rows"] == 1
    r = rsrv.patch(f"/api/datasets/{d['id']}", json={"description": ""})
    assert r.status_code == 200 and r.json()["name"] == "새 이름"
    assert_error(rsrv.patch(f"/api/datasets/{d['id']}", json={"name": ""}), 422, "invalid_field")
    assert_error(rsrv.patch(f"/api/datasets/{d['id']}", json={"name": "x" * 256}), 422,
                 "invalid_field")
    assert_error(rsrv.patch(f"/api/datasets/{d['id']}", json={"description": "x" * 4001}),
                 422, "invalid_field")
    r = rsrv.patch(f"/api/datasets/{d['id']}", json={"rows": 5})
    assert r.status_code in (400, 422), r.text
    r = rsrv.patch(f"/api/datasets/{d['id']}", json={"name": 5})
    assert r.status_code in (400, 422), r.text
    r = rsrv.patch(f"/api/datasets/{d['id']}", data=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert_error(rsrv.patch("/api/datasets/NoSuchDataset0000", json={"name": "x"}), 404, "not_found")


def test_delete_removes_rows_objects_and_cache(rsrv, storage):
    d = up_ok(rsrv, b"a,b\n1,2\n", "del.csv")
    owner_prefix = "datasets/"
    mine = {k: v for k, v in storage.objects(rsrv, owner_prefix).items() if f"/{d['id']}/" in k}
    assert len(mine) == 2, mine    # the original and the dataset file
    r = rsrv.delete(f"/api/datasets/{d['id']}")
    assert r.status_code == 204 and r.content == b""
    for path in ("", "/rows", "/preview", "/export"):
        assert_error(rsrv.get(f"/api/datasets/{d['id']}{path}"), 404, "not_found")
    assert_error(rsrv.delete(f"/api/datasets/{d['id']}"), 404, "not_found")
    assert not [k for k in storage.objects(rsrv, owner_prefix) if f"/{d['id']}/" in k]
    cache = rsrv.data_dir / "cache"
    assert not [p for p in cache.rglob("*") if d["id"] in str(p) and p.is_file()]
    assert d["id"] not in [x["id"] for x in rsrv.get("/api/datasets?limit=100").json()["datasets"]]


# --------------------------------------------------------------------------
# ids, isolation, concurrency


@pytest.mark.parametrize("bad", ["bad$id", "a" * 65, "bad%20id", "..", "ko%ED%95%9C"])
def test_invalid_ids_are_400(rsrv, bad):
    for method, path in (("GET", ""), ("GET", "/rows"), ("GET", "/preview"), ("GET", "/export"),
                         ("DELETE", ""), ("PATCH", ""), ("POST", "/share"), ("GET", "/shares")):
        kw = {"json": {"name": "x"}} if method == "PATCH" else (
            {"json": {}} if method == "POST" else {})
        r = rsrv.request(method, f"/api/datasets/{bad}{path}", **kw)
        assert r.status_code in (400, 404), (method, path, r.status_code, r.text)
        if r.status_code == 400:
            assert r.json()["error"] == "invalid_id", r.text
    r = rsrv.get(f"/api/datasets/{'a' * 65}")
    assert_error(r, 400, "invalid_id")
    r = rsrv.get("/api/datasets/bad$id/rows")
    assert_error(r, 400, "invalid_id")


def test_other_user_gets_404_everywhere(rsrv, people):
    other = rsrv.new_user()
    i = people["id"]
    for method, path, kw in (
            ("GET", "", {}), ("GET", "/rows", {}), ("GET", "/preview", {}),
            ("GET", "/export", {}), ("GET", "/export?format=json", {}),
            ("PATCH", "", {"json": {"name": "stolen"}}), ("DELETE", "", {}),
            ("POST", "/share", {"json": {"expires_in_days": 1}}), ("GET", "/shares", {}),
            ("DELETE", "/shares/AAAAAAAAAAAAAAAAAAAAAA", {})):
        r = other.request(method, f"/api/datasets/{i}{path}", **kw)
        assert_error(r, 404, "not_found")
    assert other.get("/api/datasets").json()["total"] == 0
    mine = other_user_upload = up_ok(other, b"z\n1\n", "theirs.csv")
    ids = [d["id"] for d in other.get("/api/datasets").json()["datasets"]]
    assert ids == [mine["id"]]
    assert other_user_upload["id"] not in [
        d["id"] for d in rsrv.get("/api/datasets?limit=100").json()["datasets"]]
    # still intact for its owner
    assert detail(rsrv, i)["name"] == people["name"]
    assert rsrv.get(f"/api/datasets/{i}", auth=False).status_code == 401


def test_concurrent_uploads(rsrv):
    u = rsrv.new_user()

    def one(k):
        data = f"k,v\n{k},{k * k}\n{k + 1},x\n".encode()
        return upload_dataset(u, data, f"c{k}.csv")
    with ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(one, range(8)))
    ds = [ready(r) for r in rs]
    listed = u.get("/api/datasets?limit=100").json()
    assert listed["total"] == 8
    assert sorted(d["id"] for d in listed["datasets"]) == sorted(d["id"] for d in ds)
    for k, d in enumerate(ds):
        rows = u.get(f"/api/datasets/{d['id']}/rows").json()["rows"]
        assert rows == [[k, str(k * k)], [k + 1, "x"]]
    # uploads of the same millisecond still page without gaps or repeats,
    # in every sort
    for sort in ("newest", "oldest", "name", "-rows", "-size"):
        whole = [x["id"] for x in u.get(f"/api/datasets?limit=100&sort={sort}").json()["datasets"]]
        paged = []
        for off in range(0, 8, 3):
            paged += [x["id"] for x in u.get(
                f"/api/datasets?limit=3&offset={off}&sort={sort}").json()["datasets"]]
        assert paged == whole and len(set(whole)) == 8, sort
    rsrv.assert_healthy()


# --------------------------------------------------------------------------
# hostile column names and values at the edges


WEIRD = ["rowid", "oid", "_rowid_", 'say "hi"', "[x]", "`y`", "select", "a b", "a", "a=b",
         "-neg", "x>y", "세 글자", "a;--"]


@pytest.fixture(scope="module")
def weird(rsrv):
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(WEIRD)
    rows = []
    for i in range(1, 13):
        row = [i * 10 % 7, i, -i, f"v{i % 3}", i % 4, i % 5, f"s{i}", f"ab{i % 2}", i % 3,
               i % 2, 100 - i, i % 6, f"가{i % 3}", i]
        rows.append(row)
        w.writerow(row)
    d = up_ok(rsrv, buf.getvalue().encode(), "weird.csv")
    assert [c["name"] for c in d["columns_info"]] == WEIRD
    return d, rows


@pytest.mark.parametrize("col", WEIRD)
def test_sort_by_hostile_column_names(rsrv, weird, col):
    d, rows = weird
    j = WEIRD.index(col)
    # "-neg" itself: "+-neg" ascending, "--neg" descending
    spec_asc = "+" + col if col.startswith("-") else col
    got = get_rows(rsrv, d, sort=spec_asc, limit=100)["rows"]
    assert [r[j] for r in got] == sorted(r[j] for r in rows), col
    # stable: ties in file order
    assert got == sorted(rows, key=lambda r: r[j])
    got = get_rows(rsrv, d, sort="-" + col, limit=100)["rows"]
    assert got == sorted(rows, key=lambda r: r[j], reverse=True) or \
        [r[j] for r in got] == sorted((r[j] for r in rows), reverse=True)


@pytest.mark.parametrize("expr,pred", [
    ("rowid=3", lambda r: r[0] == 3),
    ("oid>5", lambda r: r[1] > 5),
    ("_rowid_<=-10", lambda r: r[2] <= -10),
    ('say "hi"=v1', lambda r: r[3] == "v1"),
    ("[x]=0", lambda r: r[4] == 0),
    ("`y`!=0", lambda r: r[5] != 0),
    ("select~S1", lambda r: "s1" in r[6]),
    ("a b=ab1", lambda r: r[7] == "ab1"),
    ("a=2", lambda r: r[8] == 2),
    ("a=b=1", lambda r: r[9] == 1),
    ("a = 2", lambda r: r[8] == 2),
    ("-neg>=95", lambda r: r[10] >= 95),
    ("x>y>3", lambda r: r[11] > 3),
    ("세 글자=가1", lambda r: r[12] == "가1"),
    ("a;--<3", lambda r: r[13] < 3),
    ("select=s1' OR '1'='1", lambda r: False),
])
def test_filter_by_hostile_column_names(rsrv, weird, expr, pred):
    d, rows = weird
    page = get_rows(rsrv, d, filter=expr, limit=100)
    assert page["rows"] == [r for r in rows if pred(r)], expr


def test_numbers_at_the_edges(rsrv):
    big = ["9223372036854775807", "-9223372036854775808", "9007199254740993", "0"]
    reals = ["0.1", "0.30000000000000004", "1e308", "5e-324", "-0.0", "123456789.12345678",
             "2.5E-3", "1e-7"]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["big", "real", "over"])
    overs = ["9223372036854775808", "1", "2", "3"]
    for i in range(8):
        w.writerow([big[i % 4], reals[i], overs[i % 4]])
    d = up_ok(rsrv, buf.getvalue().encode(), "edges.csv")
    types = [c["type"] for c in d["columns_info"]]
    # int64 max/min are integers; one past it is not an integer, and mixed
    # with integers a value above 2^53 cannot be a real either: text
    assert types == ["integer", "real", "text"], types
    rows = get_rows(rsrv, d)["rows"]
    assert [r[0] for r in rows] == [int(big[i % 4]) for i in range(8)]
    assert [r[1] for r in rows] == [float(x) for x in reals]
    assert [r[2] for r in rows] == [overs[i % 4] for i in range(8)]
    # the CSV export reads back to the same doubles, bit for bit
    recs = export_csv(rsrv, d["id"])
    assert [float(r[1]) for r in recs[1:]] == [float(x) for x in reals]
    assert [int(r[0]) for r in recs[1:]] == [int(big[i % 4]) for i in range(8)]
    body = json.loads(rsrv.get(f"/api/datasets/{d['id']}/export?format=json").content)
    assert [o["big"] for o in body] == [int(big[i % 4]) for i in range(8)]
    assert [o["real"] for o in body] == [float(x) for x in reals]
    prof = cols_by_name(detail(rsrv, d["id"]))["big"]["profile"]
    assert prof["max"] == 9223372036854775807 and prof["min"] == -9223372036854775808


def test_export_file_name_from_a_korean_dataset_name(rsrv):
    d = up_ok(rsrv, b"a\n1\n", "x.csv", name='대구 "사고" 통계')
    for fmt in ("csv", "json"):
        r = rsrv.get(f"/api/datasets/{d['id']}/export?format={fmt}")
        kind, params = parse_disposition(r.headers["Content-Disposition"])
        assert kind == "attachment"
        assert params.get("filename*") == f'대구 "사고" 통계.{fmt}', params


def test_cache_is_only_a_cache_and_restart_keeps_datasets(storage, sheaf_factory):
    """Datasets survive a restart, and a dataset file missing from the
    local cache is fetched again from object storage."""
    env = storage.env()
    try:
        _cache_and_restart(env, sheaf_factory, storage.name == "file")
    finally:
        sheaf_factory.finish()
        storage.remove(env)


def _cache_and_restart(env, sheaf_factory, local):
    srv = sheaf_factory.start(env=env)
    d = up_ok(srv, people_csv(), "cached.csv")
    user = srv.user
    cache = srv.data_dir / "cache"
    files = [p for p in cache.rglob("*.sqlite")]
    if local:
        # Objects are local files: the dataset file is read where it is
        # stored, and nothing is copied into a cache.
        assert files == [], files
        stored = [p for p in (srv.data_dir / "objects").rglob("*.sqlite")]
        assert len(stored) == 1, stored
    else:
        assert len(files) == 1, files
        files[0].unlink()
    assert get_rows(srv, d, limit=N)["rows"] == [as_row(p) for p in PEOPLE]
    if not local:
        assert [p for p in cache.rglob("*.sqlite")], "fetched back into the cache"
    srv2 = sheaf_factory.restart(srv)
    user = srv2.adopt_user(user)
    for p in (srv2.data_dir / "cache").rglob("*.sqlite"):
        p.unlink()
    assert detail(user, d["id"])["rows"] == N
    assert get_rows(user, d, limit=N)["rows"] == [as_row(p) for p in PEOPLE]


def test_real_file_datetime_and_text_profiles(rsrv):
    """test.csv: 사고일시's min, max, quartiles (numpy 'linear' on the
    instants) and monthly histogram; text columns' top values (count
    descending, ties bytewise) and lengths in code points."""
    need_data(TEST_CSV)
    records = read_source(TEST_CSV, "utf-8")
    model = Model(records)
    d = up_ok(rsrv, TEST_CSV.read_bytes(), "test.csv")
    cols = cols_by_name(detail(rsrv, d["id"]))
    when = model.column("사고일시")
    instants = sorted(dt.datetime.fromisoformat(when.conv[v]) for v in when.values)
    prof = cols["사고일시"]["profile"]
    assert prof["count"] == len(instants) and prof["nulls"] == 0
    assert prof["min"] == instants[0].isoformat() and prof["max"] == instants[-1].isoformat()
    epoch = dt.datetime(1970, 1, 1)
    us = np.array([(t - epoch) // dt.timedelta(microseconds=1) for t in instants], dtype=np.int64)
    for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):
        want = epoch + dt.timedelta(microseconds=float(np.quantile(us.astype(np.float64), q)))
        got = dt.datetime.fromisoformat(prof["quantiles"][key])
        assert abs((got - want).total_seconds()) < 0.001, (key, got, want)
    months = pd.Series([t.strftime("%Y-%m") for t in instants]).value_counts()
    h = prof["histogram"]
    assert h["unit"] == "month" and h["labels"] == sorted(months.index)
    assert h["counts"] == [int(months[m]) for m in h["labels"]]
    for name in ("요일", "기상상태", "시군구", "도로형태", "노면상태", "사고유형"):
        col = model.column(name)
        counts = pd.Series(col.values).value_counts()
        ranked = sorted(counts.items(), key=lambda t: (-t[1], t[0].encode()))
        prof = cols[name]["profile"]
        assert prof["top_exact"] is True and prof["distinct"] == len(counts)
        assert cols[name]["unique"] == len(counts)
        assert [(t["value"], t["count"]) for t in prof["top"]] == ranked[:10], name
        assert prof["min_length"] == min(len(v) for v in col.values), name
        assert prof["max_length"] == max(len(v) for v in col.values), name


def test_date_quantiles_round_down_to_a_day(rsrv, people):
    days = sorted(p["day"] for p in PEOPLE if p["day"])
    prof = cols_by_name(detail(rsrv, people["id"]))["day"]["profile"]
    ords = np.array([x.toordinal() for x in days], dtype=np.float64)
    for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):
        want = dt.date.fromordinal(int(np.floor(np.quantile(ords, q))))
        assert prof["quantiles"][key] == want.isoformat(), key


MORE_FILTERS = [
    ("score!=5", lambda p: p["score"] != 5),                       # NULLs included
    ("city!=대구", lambda p: p["city"] != "대구"),
    ("city!~대", lambda p: p["city"] is None or "대" not in p["city"]),
    ("city in 대구|", lambda p: p["city"] in ("대구", None)),
    ("id~1", lambda p: "1" in str(p["id"])),
    ("day>=2024년 6월 1일", lambda p: p["day"] is not None and p["day"] >= dt.date(2024, 6, 1)),
    ("ts<=2023-06-01 12:00", lambda p: p["ts"] <= dt.datetime(2023, 6, 1, 12, 0)),
    ("score>1,0", None),
    ("name in Kim 01|kim 02|Lee 03", lambda p: p["name"] in ("Kim 01", "Lee 03")),
]


@pytest.mark.parametrize("expr,pred", MORE_FILTERS, ids=[f[0] for f in MORE_FILTERS])
def test_rows_filter_nulls_lists_and_forms(rsrv, people, expr, pred):
    r = rsrv.get(f"/api/datasets/{people['id']}/rows", params={"filter": expr, "limit": N})
    if pred is None:      # "1,0" is no number (bad grouping): an error naming the column
        assert_error(r, 400, "bad_filter", "score")
        return
    assert r.status_code == 200, r.text
    want = [as_row(p) for p in PEOPLE if pred(p)]
    assert r.json()["rows"] == want and r.json()["total"] == len(want)


def test_filter_and_sort_limits(rsrv, people):
    i = people["id"]
    assert_error(rsrv.get(f"/api/datasets/{i}/rows", params={"filter": "flag~t"}), 400,
                 "bad_filter", "flag")
    many = "id in " + "|".join(str(k) for k in range(600))
    assert_error(rsrv.get(f"/api/datasets/{i}/rows", params={"filter": many}), 400, "bad_filter")
    assert_error(rsrv.get(f"/api/datasets/{i}/rows", params={"sort": ["id"] * 9}), 400,
                 "bad_request", "sort")
    r = rsrv.get(f"/api/datasets/{i}/rows", params={"filter": "name~" + "x" * 70000})
    assert r.status_code in (400, 414, 431), r.status_code
    rsrv.assert_healthy()


def test_percent_filter_and_values(rsrv):
    d = up_ok(rsrv, b"rate,n\n12%,1\n7.5%,2\n100%,3\n-3%,4\n", "pct.csv")
    c = cols_by_name(d)["rate"]
    assert c["type"] == "real" and c["percent"] is True
    for expr, ns in (("rate>10%", [1, 3]), ("rate>0.1", [1, 3]), ("rate<=0.075", [2, 4]),
                     ("rate=100%", [3]), ("rate=1", [3])):
        rows = get_rows(rsrv, d, filter=expr)["rows"]
        assert [r[1] for r in rows] == ns, expr


def test_patch_changes_updated_at_only(rsrv):
    d = up_ok(rsrv, b"a\n1\n", "t.csv")
    time.sleep(0.01)
    r = rsrv.patch(f"/api/datasets/{d['id']}", json={"name": "renamed"})
    got = r.json()
    assert got["uploaded_at"] == d["uploaded_at"]
    assert got["updated_at"] > d["updated_at"]
    listed = [x for x in rsrv.get("/api/datasets?limit=100").json()["datasets"]
              if x["id"] == d["id"]]
    assert listed and listed[0]["name"] == "renamed"


def test_delete_during_a_streaming_export(rsrv, storage):
    """An export in flight when its dataset is deleted ends (whole or cut),
    and the server stays sound (the sanitizer checks at teardown)."""
    rnd = random.Random(9)
    data = ("k,v,w\n" + "".join(f"{i},{rnd.random()},{'x' * 40}\n" for i in range(60000))).encode()
    d = up_ok(rsrv, data, "streamed.csv")
    with rsrv.get(f"/api/datasets/{d['id']}/export?format=json", stream=True) as r:
        assert r.status_code == 200
        it = r.iter_content(4096)
        first = next(it)
        assert first.startswith(b"[")
        assert rsrv.delete(f"/api/datasets/{d['id']}").status_code == 204
        n = len(first)
        try:
            for chunk in it:
                n += len(chunk)
        except Exception:
            pass
    assert_error(rsrv.get(f"/api/datasets/{d['id']}/export"), 404, "not_found")
    assert not [k for k in storage.objects(rsrv, "datasets/") if f"/{d['id']}/" in k]
    rsrv.assert_healthy()


def test_strings_with_controls_quotes_and_astral_characters(rsrv):
    """Every control character, backslashes, quotes, NUL, emoji and other
    non-BMP text come back byte for byte in rows, JSON and CSV exports."""
    values = ["".join(chr(c) for c in range(1, 32) if c not in (10, 13)),
              'back\\slash "quoted" \'single\'', "nul\x00inside", "emoji 🚗💥 and 𝔘𝔫𝔦",
              "line\nbreak", "cr\rreturn", "\u2028\u2029 separators", "\ufeffbom inside",
              "trailing space ", " leading", "tab\tinside", "é composed e\u0301"]
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([["k", "v"]] + [[str(i), v] for i, v in
                                                                  enumerate(values)])
    d = up_ok(rsrv, buf.getvalue().encode(), "controls.csv")
    assert get_rows(rsrv, d)["rows"] == [[i, v] for i, v in enumerate(values)]
    body = rsrv.get(f"/api/datasets/{d['id']}/export?format=json").content
    assert json.loads(body) == [{"k": i, "v": v} for i, v in enumerate(values)]
    got = export_csv(rsrv, d["id"])
    assert got[1:] == [[str(i), v] for i, v in enumerate(values)]


def test_concurrent_reads_on_a_cold_cache(rsrv, people):
    """Many readers at once, right after the local copies are dropped
    (remote storage: each may fetch the file; local: read in place): every
    answer is whole and right."""
    for p in (rsrv.data_dir / "cache").rglob("*.sqlite"):
        p.unlink()
    rows = [as_row(p) for p in PEOPLE]
    want_big = [r for r in rows if r[2] is not None and r[2] > 50]

    def one(k):
        kind = k % 4
        if kind == 0:
            return get_rows(rsrv, people, filter="score>50", limit=N)["rows"] == want_big
        if kind == 1:
            r = rsrv.get(f"/api/datasets/{people['id']}/export?format=json")
            return [list(o.values()) for o in r.json()] == rows
        if kind == 2:
            return detail(rsrv, people["id"])["columns_info"][2]["profile"]["count"] == \
                sum(1 for r in rows if r[2] is not None)
        return get_rows(rsrv, people, sort="-id", limit=5)["rows"] == rows[::-1][:5]
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(48)))
    assert all(results), results
    rsrv.assert_healthy()
