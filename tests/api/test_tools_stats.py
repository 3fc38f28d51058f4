"""The statistics tools (src/tools/stats.c): column_stats, percentile,
histogram, outliers, correlation, correlation_with_target and describe.

Every number is checked against an independent computation with pandas,
numpy or scipy on the same data: the generated table (nulls, outliers,
ties, an all-null column, a constant column) and the real TAAS accident
records.  Every result is validated against the tool's output_schema from
GET /api/tools.
"""

import collections
import datetime as dt
import math

import jsonschema
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from conftest import SheafFactory
from datasets_helpers import ready, upload_dataset
from tools_helpers import (GEN_COLUMNS, GEN_DF, GEN_ROWS, gen, table_rows, taas, tool,
                           tool_error, tsrv)

STATS_TOOLS = {"column_stats", "percentile", "histogram", "outliers", "correlation",
               "correlation_with_target", "describe"}
GEN_NUMERIC = ["id", "amount", "qty", "ratio", "flag", "lat", "lng", "const"]
GEN_OTHER = ["city", "day", "ts", "empty", "grade"]
TAAS_NUMERIC = ["사망자수", "중상자수", "경상자수", "부상신고자수"]


@pytest.fixture(scope="module")
def schemas(tsrv):
    r = tsrv.get("/api/tools")
    assert r.status_code == 200, r.text
    return {t["name"]: t for t in r.json()["tools"]}


@pytest.fixture(scope="module")
def tiny(tsrv):
    """One row: n = 1 edge cases (no std, no correlation)."""
    return ready(upload_dataset(tsrv, b"x,y,word\n5,2.5,hello\n", "tiny.csv"))["id"]


def run(who, dataset_id, schemas, name, **args):
    result = tool(who, dataset_id, name, **args)
    jsonschema.validate(result, schemas[name]["output_schema"])
    return result


def values(df, col):
    """The non-null values of a numeric column as float64 (booleans 0/1)."""
    return df[col].astype("float64").dropna().to_numpy()


def same(got, want, rel=1e-9, abs_=1e-9):
    """got (JSON) equals want (a float, NaN meaning null)."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    return got is not None and got == pytest.approx(float(want), rel=rel, abs=abs_)


def text_of(v):
    """A generated value as sheaf shows it."""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def gen_texts(col):
    return [text_of(r[col]) for r in GEN_ROWS if r[col] is not None]


# --------------------------------------------------------------------------
# the registry


def test_stats_tools_are_listed_with_schemas(schemas):
    assert STATS_TOOLS <= set(schemas)
    for name in STATS_TOOLS:
        t = schemas[name]
        jsonschema.Draft202012Validator.check_schema(t["input_schema"])
        jsonschema.Draft202012Validator.check_schema(t["output_schema"])
        assert t["input_schema"]["type"] == "object"
        assert t["input_schema"]["additionalProperties"] is False
        assert t["read_only"] is True
        assert any("\uac00" <= ch <= "\ud7a3" for ch in t["description"]), name


# --------------------------------------------------------------------------
# column_stats


def check_numeric_stats(r, df, col, type_=None):
    s = values(df, col)
    assert r["column"] == col
    if type_:
        assert r["type"] == type_
    assert r["count"] == len(s)
    assert r["nulls"] == len(df) - len(s)
    assert same(r["mean"], s.mean() if len(s) else None)
    assert same(r["std"], s.std(ddof=1) if len(s) > 1 else None)
    assert same(r["min"], s.min())
    assert same(r["max"], s.max())
    for key, p in (("p25", 25), ("p50", 50), ("p75", 75)):
        assert same(r[key], np.percentile(s, p)), (col, key)
    assert r["distinct"] == len(np.unique(s))
    raw = df[col].dropna()
    if r["type"] in ("integer", "boolean"):
        exact = sum(int(v) for v in raw)
        if abs(exact) < 2 ** 63:
            assert r["sum"] == exact and isinstance(r["sum"], int)
        else:   # past int64: a real, close to the exact sum
            assert r["sum"] == pytest.approx(exact, rel=1e-12)
        assert r["min"] == int(s.min()) and isinstance(r["min"], int)
    else:
        assert same(r["sum"], math.fsum(s), rel=1e-12)


def test_column_stats_numeric_generated(tsrv, gen, schemas):
    types = {"id": "integer", "amount": "real", "qty": "integer", "ratio": "real",
             "flag": "boolean", "lat": "real", "lng": "real", "const": "integer"}
    for col in GEN_NUMERIC:
        r = run(tsrv, gen, schemas, "column_stats", column=col)
        check_numeric_stats(r, GEN_DF, col, types[col])
    # the constant column: no spread, one distinct value
    r = run(tsrv, gen, schemas, "column_stats", column="const")
    assert r["std"] == 0 and r["distinct"] == 1 and r["min"] == r["max"] == 7


def test_column_stats_numeric_taas(tsrv, taas, schemas):
    dataset_id, df = taas
    for col in TAAS_NUMERIC + ["사고번호"]:
        r = run(tsrv, dataset_id, schemas, "column_stats", column=col)
        check_numeric_stats(r, df, col, "integer")


def test_column_stats_summary(tsrv, gen):
    r = tsrv.post(f"/api/datasets/{gen}/tools/column_stats", json={"column": "amount"})
    s = values(GEN_DF, "amount")
    summary = r.json()["summary"]
    assert summary.startswith("amount: mean ")
    assert f"{len(s):,} values" in summary
    assert f"{len(GEN_DF) - len(s):,} missing" in summary


def check_text_stats(r, texts, nrows, type_):
    assert r["type"] == type_
    assert r["count"] == len(texts)
    assert r["nulls"] == nrows - len(texts)
    counts = collections.Counter(texts)
    assert r["distinct"] == len(counts)
    if not texts:
        assert r["top"] is None and r["freq"] is None
        assert r["min"] is None and r["max"] is None
        return
    freq = max(counts.values())
    assert r["freq"] == freq
    assert r["top"] == min(v for v, n in counts.items() if n == freq)
    assert r["min"] == min(texts) and r["max"] == max(texts)
    if type_ == "text":
        assert r["min_length"] == min(len(t) for t in texts)
        assert r["max_length"] == max(len(t) for t in texts)
    else:
        assert "min_length" not in r


def test_column_stats_text_and_dates_generated(tsrv, gen, schemas):
    types = {"city": "text", "day": "date", "ts": "datetime", "empty": "text",
             "grade": "text"}
    for col in GEN_OTHER:
        r = run(tsrv, gen, schemas, "column_stats", column=col)
        check_text_stats(r, gen_texts(col), len(GEN_ROWS), types[col])
    r = run(tsrv, gen, schemas, "column_stats", column="empty")
    assert r["count"] == 0 and r["nulls"] == len(GEN_ROWS) and r["min_length"] is None


def test_column_stats_text_taas(tsrv, taas, schemas):
    dataset_id, df = taas
    for col in ("요일", "시군구", "사고유형", "가해운전자 연령"):
        r = run(tsrv, dataset_id, schemas, "column_stats", column=col)
        check_text_stats(r, [str(v) for v in df[col].dropna()], len(df), "text")


def test_column_stats_one_row(tsrv, tiny, schemas):
    r = run(tsrv, tiny, schemas, "column_stats", column="x")
    assert r["count"] == 1 and r["mean"] == 5 and r["std"] is None
    assert r["p25"] == r["p75"] == 5 and r["sum"] == 5


# --------------------------------------------------------------------------
# percentile


def test_percentile(tsrv, gen, taas, schemas):
    ps = [0, 1, 2.5, 33.3, 50, 66.6, 99, 99.9, 100]
    cases = [(gen, GEN_DF, c) for c in ("amount", "qty", "flag", "ratio", "const")]
    cases += [(taas[0], taas[1], c) for c in TAAS_NUMERIC]
    for dataset_id, df, col in cases:
        s = values(df, col)
        r = run(tsrv, dataset_id, schemas, "percentile", column=col, percentiles=ps)
        assert r["count"] == len(s) and r["nulls"] == len(df) - len(s)
        rows = table_rows(r["percentiles"])
        assert [x["percentile"] for x in rows] == ps
        for x in rows:
            assert same(x["value"], np.percentile(s, x["percentile"])), (col, x)
        # the default: quartiles, also as pandas' quantile
        r = run(tsrv, dataset_id, schemas, "percentile", column=col)
        want = pd.Series(s).quantile([0.25, 0.5, 0.75]).tolist()
        got = table_rows(r["percentiles"])
        assert [x["percentile"] for x in got] == [25, 50, 75]
        for x, w in zip(got, want):
            assert same(x["value"], w)


# --------------------------------------------------------------------------
# histogram


def check_histogram(r, s, nulls, bins, rng=None):
    counts, edges = np.histogram(s, bins=bins, range=rng)
    got = table_rows(r["histogram"])
    assert len(got) == bins
    assert [b["count"] for b in got] == counts.tolist()
    for b, lo, hi in zip(got, edges[:-1], edges[1:]):
        assert same(b["bin_start"], lo, rel=1e-12) and same(b["bin_end"], hi, rel=1e-12)
    assert r["count"] == len(s) and r["nulls"] == nulls
    assert r["total"] == int(counts.sum())
    assert r["outside"] == len(s) - int(counts.sum())
    assert same(r["min"], edges[0]) and same(r["max"], edges[-1])
    assert same(r["bin_width"], (edges[-1] - edges[0]) / bins)


def test_histogram_generated(tsrv, gen, schemas):
    n = len(GEN_DF)
    for col, bins in (("amount", 10), ("amount", 7), ("amount", 1), ("qty", 13),
                      ("ratio", 1000), ("flag", 2), ("lat", 25), ("const", 10)):
        s = values(GEN_DF, col)
        args = {} if bins == 10 else {"bins": bins}
        r = run(tsrv, gen, schemas, "histogram", column=col, **args)
        check_histogram(r, s, n - len(s), bins)
    # a range of our own: values outside are left out; the edges are closed
    s = values(GEN_DF, "qty")
    r = run(tsrv, gen, schemas, "histogram", column="qty", bins=8, min=0, max=40)
    check_histogram(r, s, n - len(s), 8, (0, 40))
    assert r["outside"] > 0
    s = values(GEN_DF, "amount")
    r = run(tsrv, gen, schemas, "histogram", column="amount", bins=6, min=500.5, max=1500.25)
    check_histogram(r, s, n - len(s), 6, (500.5, 1500.25))
    # a range of one point widens to +-0.5, as in numpy
    s = values(GEN_DF, "qty")
    r = run(tsrv, gen, schemas, "histogram", column="qty", bins=4, min=5, max=5)
    check_histogram(r, s, n - len(s), 4, (5, 5))
    assert r["total"] == int((s == 5).sum()) > 0


def test_histogram_taas(tsrv, taas, schemas):
    dataset_id, df = taas
    for col in TAAS_NUMERIC:
        s = values(df, col)
        r = run(tsrv, dataset_id, schemas, "histogram", column=col, bins=12)
        check_histogram(r, s, 0, 12)


# --------------------------------------------------------------------------
# outliers


def expected_outliers(df, col, k):
    raw = df[col].astype("float64")
    s = raw.dropna().to_numpy()
    q1, q3 = np.percentile(s, 25), np.percentile(s, 75)
    lower, upper = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    rows = []
    for i, v in enumerate(raw.tolist()):
        if math.isnan(v):
            continue
        if v < lower:
            rows.append((lower - v, i + 1, v, "low"))
        elif v > upper:
            rows.append((v - upper, i + 1, v, "high"))
    rows.sort(key=lambda t: (-t[0], t[1]))
    return s, q1, q3, lower, upper, rows


def check_outliers(r, df, col, k, limit):
    s, q1, q3, lower, upper, rows = expected_outliers(df, col, k)
    assert r["count"] == len(s) and r["nulls"] == len(df) - len(s)
    assert r["multiplier"] == k
    for key, want in (("q1", q1), ("q3", q3), ("iqr", q3 - q1), ("lower", lower),
                      ("upper", upper)):
        assert same(r[key], want), key
    assert r["below"] == sum(1 for t in rows if t[3] == "low")
    assert r["above"] == sum(1 for t in rows if t[3] == "high")
    assert r["outliers"] == len(rows)
    assert same(r["percent"], 100 * len(rows) / len(s))
    got = table_rows(r["outlier_rows"])
    assert len(got) == min(limit, len(rows))
    for g, (dist, row, v, side) in zip(got, rows):
        assert (g["row"], g["side"]) == (row, side)
        assert same(g["value"], v) and same(g["distance"], dist)
    # the row numbers point at the rows in the dataset
    for g in got:
        assert same(g["value"], df[col].astype("float64").iloc[g["row"] - 1])


def test_outliers_generated(tsrv, gen, schemas):
    r = run(tsrv, gen, schemas, "outliers", column="amount")
    check_outliers(r, GEN_DF, "amount", 1.5, 20)
    # the planted outliers come first
    top = table_rows(r["outlier_rows"])[:2]
    assert [(t["row"], t["value"]) for t in top] == [(6, 25000.0), (7, -9000.0)]
    r = run(tsrv, gen, schemas, "outliers", column="qty", multiplier=0.5, limit=5)
    check_outliers(r, GEN_DF, "qty", 0.5, 5)
    assert table_rows(r["outlier_rows"])[0]["value"] == 10 ** 6
    r = run(tsrv, gen, schemas, "outliers", column="amount", multiplier=3, limit=1000)
    check_outliers(r, GEN_DF, "amount", 3, 1000)
    r = run(tsrv, gen, schemas, "outliers", column="const")
    check_outliers(r, GEN_DF, "const", 1.5, 20)
    assert r["outliers"] == 0 and r["iqr"] == 0


def test_outliers_taas(tsrv, taas, schemas):
    dataset_id, df = taas
    for col, k in (("경상자수", 1.5), ("부상신고자수", 1.5), ("중상자수", 2.5)):
        r = run(tsrv, dataset_id, schemas, "outliers", column=col, multiplier=k, limit=50)
        check_outliers(r, df, col, k, 50)


# --------------------------------------------------------------------------
# correlation


def pair_corr(df, a, b, method):
    """pandas semantics, computed independently: the rows where both have
    values; scipy for Spearman; NaN when undefined."""
    x = df[a].astype("float64").to_numpy()
    y = df[b].astype("float64").to_numpy()
    m = ~np.isnan(x) & ~np.isnan(y)
    x, y = x[m], y[m]
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan"), int(m.sum())
    if method == "spearman":
        return float(sps.spearmanr(x, y)[0]), int(m.sum())
    return float(sps.pearsonr(x, y)[0]), int(m.sum())


def check_matrix(r, df, cols, method):
    assert r["method"] == method and r["columns"] == cols and r["rows"] == len(df)
    m = r["matrix"]
    assert m["columns"] == ["column"] + cols
    want = df[cols].astype("float64").corr(method=method)
    assert [row[0] for row in m["rows"]] == cols
    for row in m["rows"]:
        a = row[0]
        for b, got in zip(cols, row[1:]):
            assert same(got, want.loc[a, b], rel=1e-7, abs_=1e-9), (method, a, b, got)
            if a != b:
                assert same(got, pair_corr(df, a, b, method)[0], rel=1e-7, abs_=1e-9)
    # the strongest pairs: every defined pair by |r|, strongest first
    pairs = []
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            r_, n = pair_corr(df, a, b, method)
            if not math.isnan(r_):
                pairs.append((abs(r_), a, b, r_, n))
    pairs.sort(key=lambda t: -t[0])
    got = table_rows(r["strongest_pairs"])
    assert len(got) == min(20, len(pairs))
    for g, (strength, a, b, r_, n) in zip(got, pairs):
        assert abs(g["correlation"]) == pytest.approx(strength, rel=1e-7)
    lookup = {frozenset((a, b)): (r_, n) for _, a, b, r_, n in pairs}
    for g in got:
        r_, n = lookup[frozenset((g["column_a"], g["column_b"]))]
        assert same(g["correlation"], r_, rel=1e-7) and g["n"] == n


def test_correlation_generated(tsrv, gen, schemas):
    for method in ("pearson", "spearman"):
        args = {} if method == "pearson" else {"method": method}
        r = run(tsrv, gen, schemas, "correlation", **args)
        check_matrix(r, GEN_DF, GEN_NUMERIC, method)
        # the constant column has no correlation, not even with itself
        const = table_rows(r["matrix"])[GEN_NUMERIC.index("const")]
        assert all(const[c] is None for c in GEN_NUMERIC)
        assert table_rows(r["matrix"])[0]["id"] == 1
    cols = ["qty", "amount", "flag"]
    r = run(tsrv, gen, schemas, "correlation", columns=cols, method="spearman")
    check_matrix(r, GEN_DF, cols, "spearman")


def test_correlation_taas(tsrv, taas, schemas):
    dataset_id, df = taas
    for method in ("pearson", "spearman"):
        r = run(tsrv, dataset_id, schemas, "correlation", columns=TAAS_NUMERIC, method=method)
        check_matrix(r, df, TAAS_NUMERIC, method)


def test_correlation_one_row(tsrv, tiny, schemas):
    r = run(tsrv, tiny, schemas, "correlation")
    assert r["columns"] == ["x", "y"]
    assert all(v is None for row in r["matrix"]["rows"] for v in row[1:])
    assert r["strongest_pairs"]["rows"] == []


def check_target(r, df, target, cols, method):
    assert r["target"] == target and r["method"] == method and r["rows"] == len(df)
    got = table_rows(r["correlations"])
    assert sorted(g["column"] for g in got) == sorted(cols)
    for g in got:
        want, n = pair_corr(df, target, g["column"], method)
        assert same(g["correlation"], want, rel=1e-7), g
        assert g["n"] == n
        if method == "pearson":
            assert same(g["correlation"], df[g["column"]].astype("float64").corr(
                df[target].astype("float64")), rel=1e-7)
    # strongest first, nulls last
    keys = [math.inf if g["correlation"] is None else -abs(g["correlation"]) for g in got]
    assert keys == sorted(keys)


def test_correlation_with_target(tsrv, gen, taas, schemas):
    others = [c for c in GEN_NUMERIC if c != "amount"]
    for method in ("pearson", "spearman"):
        r = run(tsrv, gen, schemas, "correlation_with_target", target="amount", method=method)
        check_target(r, GEN_DF, "amount", others, method)
        assert table_rows(r["correlations"])[-1]["column"] == "const"
    r = run(tsrv, gen, schemas, "correlation_with_target", target="qty",
            columns=["ratio", "qty", "flag"])
    check_target(r, GEN_DF, "qty", ["ratio", "flag"], "pearson")
    dataset_id, df = taas
    for method in ("pearson", "spearman"):
        r = run(tsrv, dataset_id, schemas, "correlation_with_target", target="경상자수",
                columns=TAAS_NUMERIC, method=method)
        check_target(r, df, "경상자수", [c for c in TAAS_NUMERIC if c != "경상자수"], method)


# --------------------------------------------------------------------------
# describe


def check_describe(r, df, cols, texts):
    assert r["rows"] == len(df) and r["columns"] == len(cols)
    got = table_rows(r["describe"])
    assert [g["column"] for g in got] == cols
    for g in got:
        col = g["column"]
        if col in texts:
            t = texts[col]
            assert g["count"] == len(t) and g["nulls"] == len(df) - len(t)
            assert g["mean"] is None and g["25%"] is None
            counts = collections.Counter(t)
            assert g["unique"] == len(counts)
            if t:
                freq = max(counts.values())
                assert g["freq"] == freq
                assert g["top"] == min(v for v, n in counts.items() if n == freq)
                assert g["min"] == min(t) and g["max"] == max(t)
            else:
                assert g["top"] is None and g["freq"] is None
            continue
        want = df[col].astype("float64").describe()
        assert g["count"] == int(want["count"])
        assert g["nulls"] == len(df) - int(want["count"])
        for key in ("mean", "std", "min", "25%", "50%", "75%", "max"):
            assert same(g[key], want[key]), (col, key)
        assert g["unique"] is None and g["top"] is None and g["freq"] is None


def test_describe(tsrv, gen, taas, schemas):
    r = run(tsrv, gen, schemas, "describe")
    check_describe(r, GEN_DF, GEN_COLUMNS, {c: gen_texts(c) for c in GEN_OTHER})
    cols = ["grade", "amount", "flag", "empty"]
    r = run(tsrv, gen, schemas, "describe", columns=cols)
    check_describe(r, GEN_DF, cols, {c: gen_texts(c) for c in ("grade", "empty")})
    dataset_id, df = taas
    cols = TAAS_NUMERIC + ["요일", "사고유형"]
    r = run(tsrv, dataset_id, schemas, "describe", columns=cols)
    check_describe(r, df, cols, {c: [str(v) for v in df[c].dropna()] for c in ("요일", "사고유형")})


# --------------------------------------------------------------------------
# bad arguments


@pytest.mark.parametrize("name, args, field", [
    ("column_stats", {}, "args.column"),
    ("column_stats", {"column": "nope"}, "args.column"),
    ("column_stats", {"column": "amount", "bogus": 1}, "args.bogus"),
    ("column_stats", {"column": 3}, "args.column"),
    ("percentile", {"column": "city"}, "args.column"),
    ("percentile", {"column": "day"}, "args.column"),
    ("percentile", {"column": "amount", "percentiles": [50, 101]}, "args.percentiles[1]"),
    ("percentile", {"column": "amount", "percentiles": [-1]}, "args.percentiles[0]"),
    ("percentile", {"column": "amount", "percentiles": []}, "args.percentiles"),
    ("percentile", {"column": "amount", "percentiles": list(range(102))}, "args.percentiles"),
    ("percentile", {"column": "amount", "percentiles": ["50"]}, "args.percentiles[0]"),
    ("histogram", {"column": "city"}, "args.column"),
    ("histogram", {"column": "amount", "bins": 0}, "args.bins"),
    ("histogram", {"column": "amount", "bins": 1001}, "args.bins"),
    ("histogram", {"column": "amount", "bins": 2.5}, "args.bins"),
    ("histogram", {"column": "amount", "min": 10, "max": 5}, "args.min"),
    ("histogram", {"column": "amount", "min": 10 ** 9}, "args.min"),
    ("histogram", {"column": "amount", "max": -10 ** 9}, "args.max"),
    ("histogram", {"column": "amount", "min": -1e308, "max": 1e308}, "args.min"),
    ("outliers", {"column": "grade"}, "args.column"),
    ("outliers", {"column": "amount", "multiplier": 0}, "args.multiplier"),
    ("outliers", {"column": "amount", "multiplier": -1}, "args.multiplier"),
    ("outliers", {"column": "amount", "limit": 0}, "args.limit"),
    ("outliers", {"column": "amount", "limit": 1001}, "args.limit"),
    ("correlation", {"columns": ["amount"]}, "args.columns"),
    ("correlation", {"columns": ["amount", "amount"]}, "args.columns"),
    ("correlation", {"columns": ["amount", "city"]}, "args.columns[1]"),
    ("correlation", {"columns": ["nope", "amount"]}, "args.columns[0]"),
    ("correlation", {"method": "kendall"}, "args.method"),
    ("correlation", {"bogus": True}, "args.bogus"),
    ("correlation_with_target", {}, "args.target"),
    ("correlation_with_target", {"target": "city"}, "args.target"),
    ("correlation_with_target", {"target": "amount", "columns": ["amount"]}, "args.columns"),
    ("correlation_with_target", {"target": "amount", "columns": ["ts"]}, "args.columns[0]"),
    ("describe", {"columns": ["nope"]}, "args.columns[0]"),
    ("describe", {"columns": []}, "args.columns"),
])
def test_bad_arguments(tsrv, gen, name, args, field):
    tool_error(tsrv, gen, name, 422, "invalid_argument", field, **args)


def test_too_few_numeric_columns(tsrv, tiny):
    tool_error(tsrv, tiny, "correlation_with_target", 422, "invalid_argument", "args.columns",
               target="x", columns=["x"])
    tool_error(tsrv, tiny, "percentile", 422, "invalid_argument", "args.column",
               column="word")


# --------------------------------------------------------------------------
# limits


@pytest.fixture(scope="module")
def small_memory(tmp_path_factory):
    """A server whose query memory limit (which the tools' arrays count
    against) is 1 MB, with a dataset of 60,000 rows."""
    f = SheafFactory(tmp_path_factory.mktemp("stats-limits"))
    srv = f.start(env={"SHEAF_QUERY_MEMORY": "1M"})
    data = "x,y,t\n" + "".join(f"{i},{i % 7},v{i}\n" for i in range(60000))
    yield srv, ready(upload_dataset(srv, data.encode(), "big.csv"))["id"]
    f.finish()


@pytest.mark.parametrize("name, args", [
    ("column_stats", {"column": "x"}),
    ("column_stats", {"column": "t"}),
    ("outliers", {"column": "x"}),
    ("correlation", {"method": "spearman"}),
    ("correlation_with_target", {"target": "x"}),
    ("describe", {"columns": ["t"]}),
])
def test_memory_limit(small_memory, name, args):
    srv, dataset_id = small_memory
    tool_error(srv, dataset_id, name, 422, "query_too_big", "memory", **args)
