"""The analysis tool registry (issue 6): GET /api/tools, argument checking
against each tool's JSON Schema (422 naming the bad field), and the dataset
overview tools, checked against pandas on generated and real data.

Each tool group has its own file (test_tools_<group>.py) with the same
fixtures (tools_helpers.py).
"""

import jsonschema
import pandas as pd
import pytest

from conftest import assert_error
from tools_helpers import (GEN_COLUMNS, GEN_DF, GEN_N, gen, real, table_rows, taas, tool,
                           tool_error, tsrv)

EXPECTED_TOOLS = {"dataframe_info", "missing_values", "type_detection", "missing_pattern",
                  "filter", "sort", "sample_rows", "date_range", "temporal_pattern", "geo_bounds",
                  "column_stats", "percentile", "histogram", "outliers", "correlation",
                  "correlation_with_target", "describe", "value_counts", "unique_values",
                  "categorical_summary", "crosstab", "group_by"}


def test_registry_lists_tools_with_schemas(tsrv):
    r = tsrv.get("/api/tools")
    assert r.status_code == 200, r.text
    tools = r.json()["tools"]
    names = [t["name"] for t in tools]
    assert len(names) == len(set(names))
    assert EXPECTED_TOOLS <= set(names)
    for t in tools:
        assert set(t) == {"name", "title", "description", "input_schema", "output_schema",
                          "read_only"}, t
        assert t["title"] and t["description"]
        # Real JSON Schemas, by a validator nobody here wrote.
        jsonschema.Draft202012Validator.check_schema(t["input_schema"])
        jsonschema.Draft202012Validator.check_schema(t["output_schema"])
        assert t["input_schema"]["type"] == "object"
    assert tsrv.get("/api/tools", auth=False).status_code == 401


def test_every_result_matches_its_output_schema(tsrv, gen):
    """Each tool, run with arguments its schema's examples or defaults allow,
    answers what its output_schema promises."""
    tools = {t["name"]: t for t in tsrv.get("/api/tools").json()["tools"]}
    ran = 0
    for name in EXPECTED_TOOLS:
        if tools[name]["input_schema"].get("required"):
            continue   # the group's own tests validate these with real arguments
        result = tool(tsrv, gen, name)
        jsonschema.validate(result, tools[name]["output_schema"])
        ran += 1
    assert ran >= 4


def test_unknown_tool_and_bad_arguments(tsrv, gen):
    assert_error(tsrv.post(f"/api/datasets/{gen}/tools/nope", json={}), 404, "not_found", "nope")
    tool_error(tsrv, gen, "missing_values", 422, "invalid_argument", "args.only_missing",
               only_missing="yes")
    tool_error(tsrv, gen, "missing_values", 422, "invalid_argument", "args.bogus", bogus=1)
    r = tsrv.post(f"/api/datasets/{gen}/tools/missing_values", data=b"[1]",
                  headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    r = tsrv.post(f"/api/datasets/{gen}/tools/missing_values", data=b"{bad",
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    other = tsrv.new_user()
    assert_error(other.post(f"/api/datasets/{gen}/tools/dataframe_info", json={}), 404,
                 "not_found")


def check_info(result, df, types=None):
    assert result["rows"] == len(df) and result["columns"] == len(df.columns)
    info = table_rows(result["column_info"])
    assert [c["name"] for c in info] == list(df.columns)
    for c in info:
        nn = int(df[c["name"]].notna().sum())
        assert c["non_null"] == nn, c
        assert c["nulls"] == len(df) - nn, c
        if types:
            assert c["type"] == types[c["name"]], c


def test_dataframe_info_generated(tsrv, gen):
    r = tool(tsrv, gen, "dataframe_info")
    check_info(r, GEN_DF, {"id": "integer", "city": "text", "amount": "real", "qty": "integer",
                           "ratio": "real", "flag": "boolean", "day": "date",
                           "ts": "datetime", "lat": "real", "lng": "real", "empty": "text",
                           "const": "integer", "grade": "text"})
    roles = {c["name"]: c["role"] for c in table_rows(r["column_info"])}
    assert roles["lat"] == "latitude" and roles["lng"] == "longitude" and roles["id"] is None


def test_dataframe_info_real(tsrv, real, taas):
    for dataset_id, df in (real, taas):
        check_info(tool(tsrv, dataset_id, "dataframe_info"), df)


def test_missing_values(tsrv, gen, taas):
    for dataset_id, df in ((gen, GEN_DF), taas):
        r = tool(tsrv, dataset_id, "missing_values")
        want = df.isnull().sum()
        got = {m["column"]: m for m in table_rows(r["missing"])}
        assert list(got) == list(df.columns)
        for col, n in want.items():
            assert got[col]["missing"] == int(n)
            assert got[col]["percent"] == pytest.approx(100 * n / len(df))
        assert r["total_missing"] == int(want.sum())
        assert r["columns_with_missing"] == int((want > 0).sum())
        only = tool(tsrv, dataset_id, "missing_values", only_missing=True)
        assert [m["column"] for m in table_rows(only["missing"])] == \
            [c for c in df.columns if want[c] > 0]


def test_type_detection(tsrv, gen, real):
    r = tool(tsrv, gen, "type_detection")
    cols = {c["name"]: c for c in table_rows(r["columns"])}
    assert list(cols) == GEN_COLUMNS
    assert cols["amount"]["type"] == "real" and cols["day"]["type"] == "date"
    assert cols["lat"]["role"] == "latitude"
    # Examples are real values of the column, distinct.
    for name in ("city", "grade", "qty"):
        ex = cols[name]["examples"]
        assert len(ex) == len(set(map(str, ex))) and 1 <= len(ex) <= 3
    assert set(cols["grade"]["examples"]) <= {"A", "B", "C"}
    assert cols["empty"]["examples"] == []
    assert cols["city"]["closest_other_type"] is None
    # A text column of mostly numbers says which values keep it text.
    mixed = "code\n" + "\n".join(["12", "7", "N/A", "30", "x1", "5"] * 10) + "\n"
    from datasets_helpers import ready, upload_dataset
    d = ready(upload_dataset(tsrv, mixed.encode(), "mixed.csv"))["id"]
    c = table_rows(tool(tsrv, d, "type_detection")["columns"])[0]
    assert c["type"] == "text"
    closest = c["closest_other_type"]
    assert closest["type"] == "integer" and closest["values_that_fit"] == 40
    assert closest["percent"] == pytest.approx(100 * 40 / 60)
    assert set(closest["values_that_do_not"]) == {"N/A", "x1"}
    only = tool(tsrv, gen, "type_detection", columns=["qty", "day"])
    assert [c["name"] for c in table_rows(only["columns"])] == ["qty", "day"]
    tool_error(tsrv, gen, "type_detection", 422, "invalid_argument", "args.columns[1]",
               columns=["qty", "nope"])
    rid, df = real
    names = [c["name"] for c in table_rows(tool(tsrv, rid, "type_detection")["columns"])]
    assert names == list(df.columns)


def test_missing_pattern(tsrv, gen, taas):
    for dataset_id, df in ((gen, GEN_DF), taas):
        r = tool(tsrv, dataset_id, "missing_pattern", top=1000)
        with_missing = [c for c in df.columns if df[c].isnull().any()]
        assert r["columns_with_missing"] == with_missing
        assert r["rows"] == len(df)
        assert r["complete_rows"] == int(df.notna().all(axis=1).sum())
        want = df[with_missing].isnull().value_counts() if with_missing else None
        got = table_rows(r["pattern_counts"])
        assert r["patterns"] == (len(want) if with_missing else 1)
        assert sum(p["rows"] for p in got) == len(df)
        for p in got:
            key = tuple(c in p["missing"] for c in with_missing)
            assert p["rows"] == int(want[key]), p
            assert p["missing_count"] == len(p["missing"])
        counts = [p["rows"] for p in got]
        assert counts == sorted(counts, reverse=True)
    top = tool(tsrv, gen, "missing_pattern", top=3)
    assert len(top["pattern_counts"]["rows"]) == 3
    tool_error(tsrv, gen, "missing_pattern", 422, "invalid_argument", "args.top", top=0)


def test_oversized_and_concurrent_calls(tsrv, gen):
    r = tsrv.post(f"/api/datasets/{gen}/tools/filter",
                  json={"conditions": [{"column": "city", "op": "in",
                                        "values": ["x" * 1000] * 2000}]})
    assert r.status_code == 413, r.text
    from concurrent.futures import ThreadPoolExecutor
    want_missing = {c: int(n) for c, n in GEN_DF.isnull().sum().items()}
    want_over = int((GEN_DF.qty > 20).sum())

    def call(i):
        kind = i % 4
        if kind == 0:
            res = tool(tsrv, gen, "missing_values")
            return {m["column"]: m["missing"] for m in table_rows(res["missing"])} == want_missing
        if kind == 1:
            res = tool(tsrv, gen, "filter", conditions=[{"column": "qty", "op": ">", "value": 20}])
            return res["total"] == want_over
        if kind == 2:
            return tool(tsrv, gen, "dataframe_info")["rows"] == GEN_N
        r = tsrv.post(f"/api/datasets/{gen}/tools/filter",
                      json={"conditions": [{"column": "nope", "op": "==", "value": 1}]})
        return r.status_code == 422 and "args.conditions[0].column" in r.json()["detail"]

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(call, range(48)))
    assert all(results), results
