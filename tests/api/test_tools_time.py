"""The time and place tools (tools/time.c): date_range, temporal_pattern and
geo_bounds, checked against pandas (.dt accessors, value counts, groupby,
min/max/mean) on the generated table and on the real Daegu files.  Every
answer is validated against the tool's output_schema from GET /api/tools.
"""

import datetime as dt

import jsonschema
import pandas as pd
import pytest

from datasets_helpers import PARKING_CSV, need_data, ready, upload_dataset
from tools_helpers import GEN_DF, GEN_N, approx, gen, real, table_rows, taas, tool, tool_error, tsrv

TIME_TOOLS = ("date_range", "temporal_pattern", "geo_bounds")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS_KO = ["월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"]


@pytest.fixture(scope="module")
def schemas(tsrv):
    return {t["name"]: t for t in tsrv.get("/api/tools").json()["tools"]}


@pytest.fixture(scope="module")
def parking(tsrv):
    """대구 주차장 정보.csv (CP949; 위도/경도 with gaps): (id, DataFrame)."""
    need_data(PARKING_CSV)
    d = ready(upload_dataset(tsrv, PARKING_CSV.read_bytes(), "parking.csv"))
    return d["id"], pd.read_csv(PARKING_CSV, encoding="cp949")


def run(tsrv, dataset_id, schemas, name, **args):
    result = tool(tsrv, dataset_id, name, **args)
    jsonschema.validate(result, schemas[name]["output_schema"])
    return result


def real_when(df):
    return pd.to_datetime(df["사고일시"], format="%Y-%m-%d %H")


def taas_when(df):
    return pd.to_datetime(df["사고일시"], format="%Y년 %m월 %d일 %H시")


# --------------------------------------------------------------------------
# date_range


def check_range(r, s, date):
    s = s.dropna()
    fmt = "%Y-%m-%d" if date else "%Y-%m-%dT%H:%M:%S"
    assert r["type"] == ("date" if date else "datetime")
    assert r["min"] == s.min().strftime(fmt) and r["max"] == s.max().strftime(fmt)
    span = (s.max() - s.min()).total_seconds() / 86400
    if date:
        assert r["span_days"] == int(span) and isinstance(r["span_days"], int)
    else:
        assert r["span_days"] == approx(span, rel=1e-12, abs_=1e-12)
    assert r["count"] == len(s)
    assert r["distinct_days"] == s.dt.normalize().nunique()
    assert r["first_year"] == s.min().year and r["last_year"] == s.max().year


def test_date_range_generated(tsrv, gen, schemas):
    for col, date in (("day", True), ("ts", False)):
        r = run(tsrv, gen, schemas, "date_range", column=col)
        assert r["column"] == col
        check_range(r, GEN_DF[col], date)
        assert r["nulls"] == int(GEN_DF[col].isna().sum()) > 0


def test_date_range_real(tsrv, real, taas, schemas):
    for (dataset_id, df), when in ((real, real_when), (taas, taas_when)):
        r = run(tsrv, dataset_id, schemas, "date_range", column="사고일시")
        check_range(r, when(df), False)
        assert r["nulls"] == 0


# --------------------------------------------------------------------------
# temporal_pattern


def period_counts(s, by):
    s = s.dropna()
    if by == "year":
        keys = s.dt.year
        full = range(keys.min(), keys.max() + 1)
    elif by == "month":
        keys, full = s.dt.month, range(1, 13)
    elif by == "weekday":
        keys, full = s.dt.weekday, range(7)
    elif by == "hour":
        keys, full = s.dt.hour, range(24)
    elif by == "day_of_month":
        keys, full = s.dt.day, range(1, 32)
    else:
        keys = s.dt.strftime("%Y-%m")
        full = [p.strftime("%Y-%m") for p in
                pd.period_range(s.min().strftime("%Y-%m"), s.max().strftime("%Y-%m"), freq="M")]
    return keys.value_counts().reindex(list(full), fill_value=0)


def check_pattern(r, s, by):
    want = period_counts(s, by)
    rows = table_rows(r["periods"])
    total = int(s.notna().sum())
    assert r["by"] == by and r["total"] == total and r["nulls"] == int(s.isna().sum())
    assert r["filled"] is True
    assert [p["period"] for p in rows] == [k if isinstance(k, str) else int(k) for k in want.index]
    assert [p["count"] for p in rows] == [int(n) for n in want]
    for p in rows:
        assert p["percent"] == approx(100 * p["count"] / total)
    peak = want.idxmax()   # the first of ties, in period order
    assert r["peak"]["period"] == (peak if isinstance(peak, str) else int(peak))
    assert r["peak"]["count"] == int(want.max())
    if by == "weekday":
        assert [p["label"] for p in rows] == WEEKDAYS
        assert [p["label_ko"] for p in rows] == WEEKDAYS_KO
    if by == "year_month":
        assert all(p["label"] == p["period"] for p in rows)
    return rows


def test_temporal_pattern_generated(tsrv, gen, schemas):
    for col, bys in (("day", ("year", "month", "weekday", "day_of_month", "year_month")),
                     ("ts", ("year", "month", "weekday", "hour", "day_of_month", "year_month"))):
        for by in bys:
            r = run(tsrv, gen, schemas, "temporal_pattern", column=col, by=by)
            assert r["column"] == col and r["value_column"] is None and r["agg"] is None
            check_pattern(r, GEN_DF[col], by)
    r = run(tsrv, gen, schemas, "temporal_pattern", column="day")   # by month
    assert r["by"] == "month"
    rows = check_pattern(r, GEN_DF["day"], "month")
    assert rows[0]["label"] == "January" and rows[0]["label_ko"] == "1월"


def test_temporal_pattern_values(tsrv, gen, schemas):
    df = GEN_DF[GEN_DF["ts"].notna()]
    for col, agg in (("amount", "sum"), ("amount", "mean"), ("qty", "sum"), ("qty", "mean"),
                     ("amount", "count"), ("city", "count"), ("flag", "sum")):
        for by, key in (("weekday", df["ts"].dt.weekday), ("hour", df["ts"].dt.hour)):
            r = run(tsrv, gen, schemas, "temporal_pattern", column="ts", by=by,
                    value_column=col, agg=agg)
            assert r["value_column"] == col and r["agg"] == agg
            g = df[col].groupby(key)
            want = {"sum": g.sum, "mean": g.mean, "count": g.count}[agg]()
            want = want.reindex(range(7 if by == "weekday" else 24))
            if agg != "mean":
                want = want.fillna(0)
            rows = table_rows(r["periods"])
            assert r["periods"]["columns"][-1] == "value"
            for p, w in zip(rows, want):
                assert p["value"] == approx(float(w), rel=1e-9), (col, agg, by, p)
            assert r["peak"]["value"] == approx(float(want.max()))
            assert r["peak"]["period"] == int(want.idxmax())
    r = run(tsrv, gen, schemas, "temporal_pattern", column="ts", by="weekday",
            value_column="amount")
    assert r["agg"] == "sum"
    # a period with no rows: sum 0, mean null
    few = run(tsrv, gen, schemas, "temporal_pattern", column="day", by="day_of_month",
              value_column="empty", agg="count")
    assert all(p["value"] == 0 for p in table_rows(few["periods"]))
    r = run(tsrv, gen, schemas, "temporal_pattern", column="day", by="year",
            value_column="ratio", agg="mean")
    want = GEN_DF.groupby(GEN_DF["day"].dt.year)["ratio"].mean()
    assert [p["value"] for p in table_rows(r["periods"])] == [approx(float(x)) for x in want]


def test_temporal_pattern_real(tsrv, real, taas, schemas):
    for dataset_id, df, when in ((*real, real_when), (*taas, taas_when)):
        s = when(df)
        for by in ("hour", "weekday", "month", "year", "year_month"):
            r = run(tsrv, dataset_id, schemas, "temporal_pattern", column="사고일시", by=by)
            rows = check_pattern(r, s, by)
            if by == "weekday":
                # the files' own 요일 column agrees with the computed weekday
                counts = df["요일"].value_counts()
                assert {p["label_ko"]: p["count"] for p in rows} == \
                    {k: int(counts.get(k, 0)) for k in WEEKDAYS_KO}
    dataset_id, df = taas
    s = taas_when(df)
    r = run(tsrv, dataset_id, schemas, "temporal_pattern", column="사고일시", by="hour",
            value_column="사망자수", agg="sum")
    want = df["사망자수"].groupby(s.dt.hour).sum().reindex(range(24), fill_value=0)
    assert [p["value"] for p in table_rows(r["periods"])] == [int(x) for x in want]
    assert r["peak"]["period"] == int(want.idxmax())


# --------------------------------------------------------------------------
# geo_bounds


def check_bounds(r, lat, lng):
    both = lat.notna() & lng.notna()
    ok = both & (lat.abs() <= 90) & (lng.abs() <= 180)
    assert r["count"] == int(ok.sum())
    assert r["missing"] == int((~both).sum())
    assert r["out_of_range"] == int((both & ~ok).sum())
    assert r["rows"] == len(lat)
    if not ok.any():
        assert r["bbox"] is None and r["center"] is None and r["min_lat"] is None
        return
    a, b = lat[ok].astype(float), lng[ok].astype(float)
    assert r["min_lat"] == a.min() and r["max_lat"] == a.max()
    assert r["min_lng"] == b.min() and r["max_lng"] == b.max()
    assert r["bbox"] == [[a.min(), b.min()], [a.max(), b.max()]]
    assert r["center"] == [approx(a.mean()), approx(b.mean())]


def test_geo_bounds_generated(tsrv, gen, schemas):
    r = run(tsrv, gen, schemas, "geo_bounds")
    assert r["lat_column"] == "lat" and r["lng_column"] == "lng"
    check_bounds(r, GEN_DF["lat"], GEN_DF["lng"])
    assert r["count"] == GEN_N
    # other number columns: nulls, and values out of range counted and left out
    r = run(tsrv, gen, schemas, "geo_bounds", lat="qty", lng="amount")
    assert r["out_of_range"] > 0 and r["missing"] > 0 and r["count"] > 0
    check_bounds(r, GEN_DF["qty"], GEN_DF["amount"])
    r = run(tsrv, gen, schemas, "geo_bounds", lat="lng", lng="lat")   # swapped: none valid
    check_bounds(r, GEN_DF["lng"], GEN_DF["lat"])
    assert r["count"] == 0 and r["out_of_range"] == GEN_N
    r = run(tsrv, gen, schemas, "geo_bounds", lng="ratio")
    assert r["lat_column"] == "lat"
    check_bounds(r, GEN_DF["lat"], GEN_DF["ratio"])


def test_geo_bounds_real(tsrv, parking, schemas):
    dataset_id, df = parking
    r = run(tsrv, dataset_id, schemas, "geo_bounds")
    assert r["lat_column"] == "위도" and r["lng_column"] == "경도"
    assert r["missing"] > 0
    check_bounds(r, df["위도"], df["경도"])


# --------------------------------------------------------------------------
# errors


def test_time_tools_bad_arguments(tsrv, gen, real, taas):
    def bad(name, fragment, dataset_id=gen, **args):
        tool_error(tsrv, dataset_id, name, 422, "invalid_argument", fragment, **args)

    bad("date_range", "args.column", column="nope")
    bad("date_range", "args.column", column="city")
    bad("date_range", "args.column", column="qty")
    bad("date_range", "args.column")
    bad("date_range", "args.bogus", column="day", bogus=1)
    bad("temporal_pattern", "args.column", column="nope")
    bad("temporal_pattern", "args.column", column="amount", by="month")
    bad("temporal_pattern", "args.by", column="day", by="hour")
    bad("temporal_pattern", "date column", column="day", by="hour")
    bad("temporal_pattern", "args.by", column="ts", by="minute")
    bad("temporal_pattern", "args.agg", column="ts", agg="mean")
    bad("temporal_pattern", "args.agg", column="ts", value_column="amount", agg="median")
    bad("temporal_pattern", "args.value_column", column="ts", value_column="nope")
    bad("temporal_pattern", "args.value_column", column="ts", value_column="city", agg="sum")
    bad("temporal_pattern", "args.bogus", column="ts", bogus=1)
    bad("geo_bounds", "args.lat", lat="nope")
    bad("geo_bounds", "args.lat", lat="city")
    bad("geo_bounds", "args.lng", lng="day")
    bad("geo_bounds", "args.bogus", bogus=1)
    # a dataset without coordinates: say so
    bad("geo_bounds", "no latitude column", dataset_id=real[0])
    bad("geo_bounds", "args.lat", dataset_id=real[0], lat="ID")
    bad("geo_bounds", "no longitude column", dataset_id=taas[0], lat="사망자수")


def test_time_tools_listed(schemas):
    for name in TIME_TOOLS:
        t = schemas[name]
        assert t["read_only"] is True and t["title"] and t["description"]
        jsonschema.Draft202012Validator.check_schema(t["input_schema"])
        jsonschema.Draft202012Validator.check_schema(t["output_schema"])
        assert t["input_schema"]["type"] == "object"
        assert t["input_schema"]["additionalProperties"] is False
    for word in ("기간", "날짜 범위"):
        assert word in schemas["date_range"]["description"]
    for word in ("시간대", "요일별", "월별"):
        assert word in schemas["temporal_pattern"]["description"]
    for word in ("위치", "위도", "경도"):
        assert word in schemas["geo_bounds"]["description"]


def test_time_tools_far_apart_and_zoned(tsrv, schemas):
    """Years 1000 and 9999: the periods in between are too many to list, so
    only those with rows are (filled false).  A UTC offset does not move a
    value's hour or day: periods are read as written."""
    csv = ("when,d,n\n"
           "1000-01-01 00:00,1000-01-01,1\n"
           "2020-05-05T23:30:00+09:00,2020-05-05,2\n"
           "2020-05-06T00:10:00Z,2020-05-06,\n"
           "9999-12-31 12:00,9999-12-31,4\n").encode()
    ds = ready(upload_dataset(tsrv, csv, "far.csv"))["id"]
    r = run(tsrv, ds, schemas, "temporal_pattern", column="d", by="year_month")
    assert r["filled"] is False
    assert [p["period"] for p in table_rows(r["periods"])] == \
        ["1000-01", "2020-05", "9999-12"]
    assert [p["count"] for p in table_rows(r["periods"])] == [1, 2, 1]
    r = run(tsrv, ds, schemas, "temporal_pattern", column="d", by="year", value_column="n")
    assert r["filled"] is False and r["agg"] == "sum"
    assert [(p["period"], p["value"]) for p in table_rows(r["periods"])] == \
        [(1000, 1), (2020, 2), (9999, 4)]
    assert r["peak"]["period"] == 9999
    r = run(tsrv, ds, schemas, "temporal_pattern", column="when", by="hour")
    counts = {p["period"]: p["count"] for p in table_rows(r["periods"])}
    assert counts[0] == 2 and counts[23] == 1 and counts[12] == 1 and sum(counts.values()) == 4
    r = run(tsrv, ds, schemas, "temporal_pattern", column="when", by="day_of_month")
    counts = {p["period"]: p["count"] for p in table_rows(r["periods"])}
    assert counts[5] == 1 and counts[6] == 1
    r = run(tsrv, ds, schemas, "date_range", column="d")
    assert (r["min"], r["max"], r["first_year"], r["last_year"]) == \
        ("1000-01-01", "9999-12-31", 1000, 9999)
    assert r["span_days"] == (dt.date(9999, 12, 31) - dt.date(1000, 1, 1)).days
    assert r["distinct_days"] == 4
