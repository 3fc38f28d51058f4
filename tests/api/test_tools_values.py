"""The value tools (value_counts, unique_values, categorical_summary,
crosstab, group_by), every number checked against pandas on the generated
table (nulls, Korean text, commas and quotes, booleans, dates) and on the
real Daegu data (test.csv and the first TAAS CSV).

Sheaf returns values in their JSON forms: booleans true/false, dates
"YYYY-MM-DD", datetimes "YYYY-MM-DDTHH:MM:SS"; the pandas side is brought to
the same forms with ``jv``.  Ascending value order is numbers, then text by
code point, then null; ties in a count go to the smaller value.
"""

import datetime as dt
import math

import jsonschema
import numpy as np
import pandas as pd
import pytest

from datasets_helpers import ready, upload_dataset
from tools_helpers import (GEN_DF, approx, gen, real, table_rows, taas, tool, tool_error,
                           tsrv)

VALUE_TOOLS = ["value_counts", "unique_values", "categorical_summary", "crosstab", "group_by"]
KINDS = {"day": "date", "ts": "datetime"}   # GEN columns whose values are dates


@pytest.fixture(scope="module")
def schemas(tsrv):
    return {t["name"]: t for t in tsrv.get("/api/tools").json()["tools"]}


def run(who, schemas, dataset_id, name, **args):
    """A tool's result, validated against its output_schema."""
    result = tool(who, dataset_id, name, **args)
    jsonschema.validate(result, schemas[name]["output_schema"])
    return result


def jv(x, kind=None):
    """A pandas/numpy value in the JSON form sheaf gives it."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, np.datetime64):
        x = pd.Timestamp(x)
    if isinstance(x, (pd.Timestamp, dt.datetime)):
        return x.strftime("%Y-%m-%d") if kind == "date" else x.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else float(x)
    return x


def order_key(v):
    """Sheaf's ascending value order: numbers, text, null."""
    if v is None:
        return (2, 0)
    if isinstance(v, str):
        return (1, v)
    return (0, v)


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return a == approx(b, rel=1e-9, abs_=1e-9)
    return a == b and type(a) is type(b)


def assert_rows(got, want):
    assert len(got) == len(want), (len(got), len(want), got[:5], want[:5])
    for g, w in zip(got, want):
        assert len(g) == len(w) and all(same(x, y) for x, y in zip(g, w)), (g, w)


def test_tools_are_listed(schemas):
    for name in VALUE_TOOLS:
        t = schemas[name]
        assert t["read_only"] is True
        jsonschema.Draft202012Validator.check_schema(t["input_schema"])
        jsonschema.Draft202012Validator.check_schema(t["output_schema"])
        s = t["input_schema"]
        assert s["type"] == "object" and s["additionalProperties"] is False
    assert "빈도" in schemas["value_counts"]["description"]
    assert "고유값" in schemas["unique_values"]["description"]
    assert "범주" in schemas["categorical_summary"]["description"]
    assert "교차표" in schemas["crosstab"]["description"]
    for word in ("그룹별 집계", "합계", "평균"):
        assert word in schemas["group_by"]["description"]


# --------------------------------------------------------------------------
# value_counts


def expected_counts(series, kind=None, include_null=False):
    """(value, count) pairs most frequent first, ties by value ascending."""
    vc = series.value_counts(dropna=not include_null)
    pairs = [(jv(v, kind), int(n)) for v, n in vc.items()]
    return sorted(pairs, key=lambda p: (-p[1], order_key(p[0])))


def check_value_counts(who, schemas, dataset_id, df, column, kind=None, **args):
    r = run(who, schemas, dataset_id, "value_counts", column=column, **args)
    s = df[column]
    include_null = args.get("include_null", False)
    top = args.get("top", 10)
    want = expected_counts(s, kind, include_null)
    non_null = int(s.notna().sum())
    base = len(s) if include_null else non_null
    got = table_rows(r["values"])
    assert [(g["value"], g["count"]) for g in got] == want[:top]
    for g in got:
        assert g["percent"] == approx(100 * g["count"] / base)
    assert r["distinct"] == int(s.nunique(dropna=True))
    assert r["total"] == len(s) and r["non_null"] == non_null
    assert r["nulls"] == len(s) - non_null
    assert r["other"] == base - sum(n for _, n in want[:top])
    assert r["include_null"] is include_null
    return r


def test_value_counts_generated(tsrv, schemas, gen):
    r = check_value_counts(tsrv, schemas, gen, GEN_DF, "city")
    top = table_rows(r["values"])[0]
    assert top["value"] == "대구"
    body = tsrv.post(f"/api/datasets/{gen}/tools/value_counts", json={"column": "city"}).json()
    assert body["summary"].startswith("city: 7 distinct values; 대구 is the most frequent (")
    check_value_counts(tsrv, schemas, gen, GEN_DF, "city", include_null=True)
    check_value_counts(tsrv, schemas, gen, GEN_DF, "city", top=3)
    check_value_counts(tsrv, schemas, gen, GEN_DF, "flag", include_null=True)
    check_value_counts(tsrv, schemas, gen, GEN_DF, "grade")
    check_value_counts(tsrv, schemas, gen, GEN_DF, "qty", top=1000)
    check_value_counts(tsrv, schemas, gen, GEN_DF, "day", kind="date", top=25)
    check_value_counts(tsrv, schemas, gen, GEN_DF, "ratio", top=40, include_null=True)
    r = check_value_counts(tsrv, schemas, gen, GEN_DF, "empty", include_null=True)
    assert table_rows(r["values"]) == [{"value": None, "count": 2000, "percent": 100.0}]
    r = check_value_counts(tsrv, schemas, gen, GEN_DF, "empty")
    assert r["values"]["rows"] == [] and r["distinct"] == 0 and r["other"] == 0
    check_value_counts(tsrv, schemas, gen, GEN_DF, "const")


def test_repeated_calls_agree(tsrv, schemas, gen):
    """The second call reads the columns kept warm: the same answers."""
    calls = [("value_counts", {"column": "amount", "top": 30}),
             ("categorical_summary", {}),
             ("crosstab", {"row": "city", "column": "flag", "normalize": "index"}),
             ("group_by", {"by": ["grade", "flag"], "aggregations": [
                 {"column": "amount", "function": "median"},
                 {"column": "qty", "function": "nunique"},
                 {"column": "day", "function": "min"}]})]
    for name, args in calls:
        first = tsrv.post(f"/api/datasets/{gen}/tools/{name}", json=args).json()
        second = tsrv.post(f"/api/datasets/{gen}/tools/{name}", json=args).json()
        assert first["result"] == second["result"] and first["summary"] == second["summary"]


def test_value_counts_real(tsrv, schemas, real, taas):
    dataset_id, df = real
    for col in ("요일", "기상상태", "시군구", "도로형태", "노면상태", "사고유형"):
        check_value_counts(tsrv, schemas, dataset_id, df, col, top=50)
    check_value_counts(tsrv, schemas, dataset_id, df, "시군구", top=1000, include_null=True)
    taas_id, tdf = taas
    check_value_counts(tsrv, schemas, taas_id, tdf, "경상자수")
    check_value_counts(tsrv, schemas, taas_id, tdf, "가해운전자 연령", top=100)


# --------------------------------------------------------------------------
# unique_values


def check_unique(who, schemas, dataset_id, df, column, kind=None, **args):
    r = run(who, schemas, dataset_id, "unique_values", column=column, **args)
    s = df[column]
    want = sorted((jv(v, kind) for v in s.dropna().unique()), key=order_key)
    limit = args.get("limit", 100)
    assert r["values"] == want[:limit]
    assert all(type(a) is type(b) for a, b in zip(r["values"], want))
    assert r["distinct"] == len(want)
    assert r["truncated"] is (len(want) > limit)
    assert r["has_null"] is bool(s.isna().any())
    assert r["nulls"] == int(s.isna().sum())
    return r


def test_unique_values(tsrv, schemas, gen, real):
    r = check_unique(tsrv, schemas, gen, GEN_DF, "city")
    assert r["values"][:2] == ["Daejeon", "a,b"] and 'q"t' in r["values"]
    check_unique(tsrv, schemas, gen, GEN_DF, "flag")
    check_unique(tsrv, schemas, gen, GEN_DF, "qty", limit=10000)
    check_unique(tsrv, schemas, gen, GEN_DF, "qty", limit=5)
    check_unique(tsrv, schemas, gen, GEN_DF, "amount", limit=10000)
    check_unique(tsrv, schemas, gen, GEN_DF, "day", kind="date", limit=3000)
    check_unique(tsrv, schemas, gen, GEN_DF, "ts", kind="datetime", limit=7)
    check_unique(tsrv, schemas, gen, GEN_DF, "empty")
    r = check_unique(tsrv, schemas, gen, GEN_DF, "const")
    assert r["values"] == [7]
    dataset_id, df = real
    for col in ("요일", "시군구", "사고유형"):
        check_unique(tsrv, schemas, dataset_id, df, col, limit=1000)


# --------------------------------------------------------------------------
# categorical_summary


def check_summary_row(row, detail, s, kind=None):
    want = expected_counts(s, kind)
    n = int(s.notna().sum())
    assert row["non_null"] == n and row["nulls"] == len(s) - n
    assert row["distinct"] == len(want)
    if not want:
        assert row["top"] is None and row["least"] is None and row["entropy_bits"] is None
        return
    assert (row["top"], row["top_count"]) == want[0]
    assert row["top_percent"] == approx(100 * want[0][1] / n)
    least = min(c for _, c in want)
    least_value = min((v for v, c in want if c == least), key=order_key)
    assert (row["least"], row["least_count"]) == (least_value, least)
    p = np.array([c for _, c in want], dtype=float) / n
    assert row["entropy_bits"] == approx(float(-(p * np.log2(p)).sum()))
    top = table_rows(detail["top_values"])
    assert [(t["value"], t["count"]) for t in top] == want[:5]
    for t in top:
        assert t["percent"] == approx(100 * t["count"] / n)


def test_categorical_summary_default(tsrv, schemas, gen, real):
    r = run(tsrv, schemas, gen, "categorical_summary")
    assert r["selection"] == "categorical"
    rows = table_rows(r["summary"])
    # text columns flagged categorical, plus booleans, in column order
    assert [x["column"] for x in rows] == ["city", "flag", "grade"]
    assert [d["column"] for d in r["details"]] == ["city", "flag", "grade"]
    for row, detail in zip(rows, r["details"]):
        check_summary_row(row, detail, GEN_DF[row["column"]])
    dataset_id, df = real
    r = run(tsrv, schemas, dataset_id, "categorical_summary")
    rows = table_rows(r["summary"])
    assert {"요일", "기상상태", "노면상태", "사고유형"} <= {x["column"] for x in rows}
    for row, detail in zip(rows, r["details"]):
        check_summary_row(row, detail, df[row["column"]])


def test_categorical_summary_given_columns(tsrv, schemas, gen):
    cols = ["qty", "day", "empty", "const", "city"]
    r = run(tsrv, schemas, gen, "categorical_summary", columns=cols)
    assert r["selection"] == "given"
    rows = table_rows(r["summary"])
    assert [x["column"] for x in rows] == cols
    for row, detail in zip(rows, r["details"]):
        check_summary_row(row, detail, GEN_DF[row["column"]], KINDS.get(row["column"]))
    assert rows[0]["type"] == "integer" and rows[1]["type"] == "date"


def test_categorical_summary_fallback(tsrv, schemas):
    # No text column is categorical (none repeats a value), no booleans:
    # text columns with at most 50 distinct values are taken.
    lines = ["code,name,n"] + [f"c{i},name {i},{i}" for i in range(30)]
    lines += [f"c{i},name {i},{i}" for i in range(30, 40)]
    wide = ["code,word,n"] + [f"k{i},w{i},{i}" for i in range(60)]
    d = ready(upload_dataset(tsrv, "\n".join(lines).encode(), "few.csv"))
    r = run(tsrv, schemas, d["id"], "categorical_summary")
    assert r["selection"] == "few_distinct"
    assert [x["column"] for x in table_rows(r["summary"])] == ["code", "name"]
    df = pd.DataFrame([line.split(",") for line in lines[1:]], columns=["code", "name", "n"])
    for row, detail in zip(table_rows(r["summary"]), r["details"]):
        check_summary_row(row, detail, df[row["column"]])
    d = ready(upload_dataset(tsrv, "\n".join(wide).encode(), "wide.csv"))
    r = run(tsrv, schemas, d["id"], "categorical_summary")
    assert r["summary"]["rows"] == [] and r["details"] == []


# --------------------------------------------------------------------------
# crosstab


def fold(series, keep):
    """pandas values outside keep become "(other)"."""
    return series.where(series.isin(keep) | series.isna(), "(other)")


def check_crosstab(who, schemas, dataset_id, df, row, column, kinds=(None, None), **args):
    r = run(who, schemas, dataset_id, "crosstab", row=row, column=column, **args)
    normalize = args.get("normalize", "none")
    margins = args.get("margins", False)
    max_cat = args.get("max_categories", 50)
    both = df[row].notna() & df[column].notna()
    a = df[row][both].map(lambda v: jv(v, kinds[0])).rename("r")
    b = df[column][both].map(lambda v: jv(v, kinds[1])).rename("c")
    folded = [0, 0]
    for i, s in enumerate((a, b)):
        counts = expected_counts(s)
        if len(counts) > max_cat:
            folded[i] = len(counts) - max_cat
            keep = [v for v, _ in counts[:max_cat]]
            s2 = fold(s.astype(object), keep)
            if i == 0:
                a = s2
            else:
                b = s2
    want = pd.crosstab(a, b, margins=margins,
                       normalize=False if normalize == "none" else normalize)
    # pandas sorts "(other)" among the values; sheaf puts it last
    def reorder(labels):
        lab = [x for x in labels if x not in ("(other)", "All")]
        lab = sorted(lab, key=order_key)
        return lab + [x for x in ("(other)", "All") if x in labels]
    want = want.reindex(index=reorder(list(want.index)), columns=reorder(list(want.columns)))
    t = r["table"]
    assert t["columns"][0] == row
    header = [x if x in ("(other)", "All") else
              ("true" if x is True else "false" if x is False else str(x))
              for x in want.columns]
    assert t["columns"][1:] == header
    assert r["column_values"] == [x for x in want.columns if x not in ("(other)", "All")]
    assert r["row_values"] == [x for x in want.index if x not in ("(other)", "All")]
    assert [x[0] for x in t["rows"]] == list(want.index)
    for got_row, (_, want_row) in zip(t["rows"], want.iterrows()):
        for g, w in zip(got_row[1:], want_row.tolist()):
            if normalize == "none":
                assert g == int(w)
            else:
                assert g == approx(float(w))
    assert r["total"] == int(both.sum()) and r["dropped"] == len(df) - int(both.sum())
    assert (r["other_rows"], r["other_columns"]) == tuple(folded)
    assert r["normalize"] == normalize and r["margins"] is margins
    return r


def test_crosstab_generated(tsrv, schemas, gen):
    for normalize in ("none", "all", "index", "columns"):
        for margins in (False, True):
            check_crosstab(tsrv, schemas, gen, GEN_DF, "city", "grade", normalize=normalize,
                           margins=margins)
    check_crosstab(tsrv, schemas, gen, GEN_DF, "flag", "city", margins=True)
    check_crosstab(tsrv, schemas, gen, GEN_DF, "grade", "flag", normalize="index")
    check_crosstab(tsrv, schemas, gen, GEN_DF, "qty", "grade", max_categories=10,
                   margins=True)
    check_crosstab(tsrv, schemas, gen, GEN_DF, "city", "day", kinds=(None, "date"),
                   max_categories=4, normalize="columns", margins=True)
    # a column against itself: the diagonal
    r = check_crosstab(tsrv, schemas, gen, GEN_DF, "grade", "grade", margins=True)
    assert [row[1:4] for row in r["table"]["rows"][:3]] == \
        [[int((GEN_DF["grade"] == g).sum()) if g == h else 0 for h in "ABC"] for g in "ABC"]
    r = check_crosstab(tsrv, schemas, gen, GEN_DF, "city", "empty")
    assert r["table"]["rows"] == [] and r["total"] == 0


def test_crosstab_real(tsrv, schemas, real, taas):
    dataset_id, df = real
    check_crosstab(tsrv, schemas, dataset_id, df, "요일", "기상상태", margins=True)
    check_crosstab(tsrv, schemas, dataset_id, df, "노면상태", "사고유형", normalize="index",
                   margins=True)
    r = check_crosstab(tsrv, schemas, dataset_id, df, "시군구", "요일", max_categories=12,
                       normalize="all")
    assert r["other_rows"] > 0 and r["table"]["rows"][-1][0] == "(other)"
    taas_id, tdf = taas
    check_crosstab(tsrv, schemas, taas_id, tdf, "기상상태", "사망자수", margins=True)


# --------------------------------------------------------------------------
# group_by

PANDAS_FN = {"sum": "sum", "mean": "mean", "count": "count", "min": "min", "max": "max",
             "median": "median", "std": "std", "nunique": "nunique"}


def text_min(s):
    return min(s.dropna()) if s.notna().any() else None


def text_max(s):
    return max(s.dropna()) if s.notna().any() else None


def expected_groups(df, by, aggs, kinds=None):
    """Rows [keys..., aggregates...] from pandas, keys ascending."""
    kinds = kinds or {}
    g = df.groupby(by, dropna=True, sort=True)
    cols = []
    for a in aggs:
        if a.get("column") is None:
            cols.append(g.size())
        else:
            fn = PANDAS_FN[a["function"]]
            if df[a["column"]].dtype == object and fn in ("min", "max"):
                # pandas 1.5 cannot take min/max of text with None in it
                fn = text_min if fn == "min" else text_max
            cols.append(g[a["column"]].agg(fn))
    out = pd.concat(cols, axis=1)
    rows = []
    for key, values in zip(out.index, out.itertuples(index=False)):
        key = key if isinstance(key, tuple) else (key,)
        row = [jv(k, kinds.get(c)) for k, c in zip(key, by)]
        for a, v in zip(aggs, values):
            row.append(jv(v, kinds.get(a.get("column"))))
        rows.append(row)
    return [tuple(r) for r in rows]


def agg_name(a):
    return f"{a['function']}({a['column']})" if a.get("column") else "count(*)"


def check_group_by(who, schemas, dataset_id, df, by, aggs, kinds=None, **args):
    r = run(who, schemas, dataset_id, "group_by", by=by, aggregations=aggs, **args)
    want = expected_groups(df, by, aggs, kinds)
    t = r["table"]
    assert t["columns"] == by + [agg_name(a) for a in aggs]
    assert r["by"] == by and r["aggregations"] == [agg_name(a) for a in aggs]
    assert r["groups"] == len(want)
    used = int(df[by].notna().all(axis=1).sum())
    assert r["rows_used"] == used and r["dropped_rows"] == len(df) - used
    if "sort" in args:
        name = args["sort"]
        desc = name.startswith("-") and name not in t["columns"]
        col = t["columns"].index(name[1:] if desc else name)
        nkeys = len(by)
        # stable sorts: keys ascending, then the sort column (nulls last)
        want = sorted(want, key=lambda row: tuple(order_key(v) for v in row[:nkeys]))
        present = [w for w in want if w[col] is not None]
        absent = [w for w in want if w[col] is None]
        # reverse=True keeps ties in their (key) order: Python's sort is stable
        want = sorted(present, key=lambda row: order_key(row[col]), reverse=desc) + absent
    limit = args.get("limit", 1000)
    assert r["truncated"] is (len(want) > limit)
    assert_rows([tuple(x) for x in t["rows"]], want[:limit])
    return r


ALL_NUMERIC = ["sum", "mean", "count", "min", "max", "median", "std", "nunique"]


def test_group_by_generated(tsrv, schemas, gen):
    aggs = [{"column": c, "function": f} for c in ("amount", "qty") for f in ALL_NUMERIC]
    aggs.append({"function": "count"})
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city"], aggs)
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city", "grade"], aggs)
    mixed = [{"column": "flag", "function": f} for f in ALL_NUMERIC]
    mixed += [{"column": "day", "function": f} for f in ("min", "max", "count", "nunique")]
    mixed += [{"column": "city", "function": f} for f in ("min", "max", "count", "nunique")]
    mixed += [{"column": "ts", "function": "max"}, {"column": "ratio", "function": "std"},
              {"column": "empty", "function": "count"}, {"column": "empty", "function": "max"}]
    check_group_by(tsrv, schemas, gen, GEN_DF, ["grade"], mixed,
                   kinds={"day": "date", "ts": "datetime"})
    check_group_by(tsrv, schemas, gen, GEN_DF, ["flag"], aggs[:8])
    check_group_by(tsrv, schemas, gen, GEN_DF, ["day"], [{"column": "amount", "function": "sum"}],
                   kinds={"day": "date"}, limit=50)
    # groups of one: std is null; keys of many types at once
    r = check_group_by(tsrv, schemas, gen, GEN_DF, ["qty", "flag", "grade", "city"],
                       [{"column": "amount", "function": f} for f in ("std", "median", "mean")],
                       limit=10000)
    assert any(row[4] is None for row in r["table"]["rows"])
    # a key aggregated too
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city"],
                   [{"column": "city", "function": f} for f in ("count", "nunique", "max")])
    r = check_group_by(tsrv, schemas, gen, GEN_DF, ["id"], [{"function": "count"}], limit=10)
    assert r["truncated"] and r["groups"] == 2000
    # the default aggregation: the row count
    r = run(tsrv, schemas, gen, "group_by", by=["grade"])
    assert r["table"]["columns"] == ["grade", "count(*)"]
    assert [tuple(x) for x in r["table"]["rows"]] == \
        [(k, int(n)) for k, n in GEN_DF.groupby("grade").size().items()]


def test_group_by_sort(tsrv, schemas, gen):
    aggs = [{"column": "amount", "function": "mean"}, {"column": "qty", "function": "sum"},
            {"function": "count"}, {"column": "day", "function": "max"}]
    kinds = {"day": "date"}
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city"], aggs, kinds, sort="-mean(amount)")
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city"], aggs, kinds, sort="sum(qty)")
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city"], aggs, kinds, sort="-city")
    check_group_by(tsrv, schemas, gen, GEN_DF, ["city", "grade"], aggs, kinds,
                   sort="-count(*)", limit=5)
    check_group_by(tsrv, schemas, gen, GEN_DF, ["grade", "flag"], aggs, kinds, sort="-max(day)")
    r = run(tsrv, schemas, gen, "group_by", by=["city"], sort="-count(*)", limit=1)
    top_city = GEN_DF["city"].value_counts().index[0]
    assert r["table"]["rows"] == [[top_city, int(GEN_DF["city"].value_counts().iloc[0])]]


def test_group_by_real(tsrv, schemas, real, taas):
    taas_id, tdf = taas
    injuries = ["사망자수", "중상자수", "경상자수", "부상신고자수"]
    aggs = [{"column": c, "function": f} for c in injuries for f in ALL_NUMERIC]
    for by in (["요일"], ["기상상태"], ["요일", "기상상태"], ["노면상태", "사고내용"]):
        check_group_by(tsrv, schemas, taas_id, tdf, by, aggs)
    check_group_by(tsrv, schemas, taas_id, tdf, ["기상상태"], aggs, sort="-sum(경상자수)")
    dataset_id, df = real
    check_group_by(tsrv, schemas, dataset_id, df, ["요일", "기상상태"],
                   [{"function": "count"}, {"column": "시군구", "function": "nunique"},
                    {"column": "사고유형", "function": "max"}])


# --------------------------------------------------------------------------
# bad arguments


def test_bad_arguments(tsrv, gen):
    e = "invalid_argument"
    tool_error(tsrv, gen, "value_counts", 422, e, "args.column", column="nope")
    tool_error(tsrv, gen, "value_counts", 422, e, "args.column")
    tool_error(tsrv, gen, "value_counts", 422, e, "args.top", column="city", top=0)
    tool_error(tsrv, gen, "value_counts", 422, e, "args.top", column="city", top=1001)
    tool_error(tsrv, gen, "value_counts", 422, e, "args.bogus", column="city", bogus=1)
    tool_error(tsrv, gen, "unique_values", 422, e, "args.limit", column="city", limit=10001)
    tool_error(tsrv, gen, "categorical_summary", 422, e, "args.columns[1]",
               columns=["city", "nope"])
    tool_error(tsrv, gen, "categorical_summary", 422, e, "args.columns", columns=[])
    tool_error(tsrv, gen, "crosstab", 422, e, "args.column", row="city", column="nope")
    tool_error(tsrv, gen, "crosstab", 422, e, "args.normalize", row="city", column="grade",
               normalize="rows")
    tool_error(tsrv, gen, "crosstab", 422, e, "args.max_categories", row="city",
               column="grade", max_categories=0)
    tool_error(tsrv, gen, "group_by", 422, e, "args.by[1]: no column \"nope\"",
               by=["city", "nope"])
    tool_error(tsrv, gen, "group_by", 422, e, "args.by", by=[])
    tool_error(tsrv, gen, "group_by", 422, e, "args.by",
               by=["city", "grade", "flag", "day", "qty", "id"])
    tool_error(tsrv, gen, "group_by", 422, e, "args.by", by=["city", "city"])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[0].column: \"city\" is a text",
               by=["grade"], aggregations=[{"column": "city", "function": "mean"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[1].column",
               by=["grade"], aggregations=[{"function": "count"},
                                           {"column": "day", "function": "sum"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[0].function",
               by=["grade"], aggregations=[{"column": "qty", "function": "average"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[0].column is required",
               by=["grade"], aggregations=[{"function": "sum"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[0].colum",
               by=["grade"], aggregations=[{"colum": "qty", "function": "sum"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[0].column: no column",
               by=["grade"], aggregations=[{"column": "nope", "function": "min"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.aggregations[1]: repeats",
               by=["grade"], aggregations=[{"column": "qty", "function": "sum"},
                                           {"column": "qty", "function": "sum"}])
    tool_error(tsrv, gen, "group_by", 422, e, "args.sort: no output column",
               by=["grade"], sort="-sum(qty)")
    tool_error(tsrv, gen, "group_by", 422, e, "args.limit", by=["grade"], limit=0)
    tool_error(tsrv, gen, "group_by", 422, e, "args.extra", by=["grade"], extra=True)
