"""The row tools (tools/rows.c): filter, sort and sample_rows, checked
against pandas masks, sort_values and row lookups on the generated table
and on the real Daegu files.  Every answer is validated against the tool's
output_schema from GET /api/tools.
"""

import math

import jsonschema
import pandas as pd
import pytest

from tools_helpers import GEN_DF, GEN_N, gen, real, taas, tool, tool_error, tsrv

ROW_TOOLS = ("filter", "sort", "sample_rows")


@pytest.fixture(scope="module")
def schemas(tsrv):
    return {t["name"]: t for t in tsrv.get("/api/tools").json()["tools"]}


def run(tsrv, dataset_id, schemas, name, **args):
    result = tool(tsrv, dataset_id, name, **args)
    jsonschema.validate(result, schemas[name]["output_schema"])
    return result


# --------------------------------------------------------------------------
# the JSON form sheaf gives each GEN_DF value, computed from pandas


def gen_json(col, v):
    """A GEN_DF cell as sheaf's JSON: dates "YYYY-MM-DD", datetimes
    "YYYY-MM-DDTHH:MM:SS", missing values null."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d" if col == "day" else "%Y-%m-%dT%H:%M:%S")
    return v.item() if hasattr(v, "item") else v


def expected_rows(df, columns):
    return [[gen_json(c, df.at[i, c]) for c in columns] for i in df.index]


def check_rows(result, df, columns=None, limit=None, offset=0):
    """result's table and row numbers are df's rows (in df's order)."""
    columns = columns or list(GEN_DF.columns)
    part = df.iloc[offset:offset + limit] if limit else df.iloc[offset:]
    assert result["table"]["columns"] == columns
    assert result["row_numbers"] == [int(i) + 1 for i in part.index]
    assert result["table"]["rows"] == expected_rows(part, columns)
    assert result["returned"] == len(part)


def mask_of(s, pred, null_result=False):
    """pred applied to the non-null values of s; null_result where null."""
    out = pd.Series(null_result, index=s.index)
    nn = s.notna()
    out[nn] = [bool(pred(x)) for x in s[nn]]
    return out


def check_filter(tsrv, gen, schemas, mask, conditions, **kw):
    r = run(tsrv, gen, schemas, "filter", conditions=conditions, limit=10000, **kw)
    want = GEN_DF[mask.astype(bool)]
    assert r["total"] == len(want), (conditions, r["total"], len(want))
    assert r["truncated"] is False and r["offset"] == 0
    check_rows(r, want, kw.get("columns"))
    return r


# --------------------------------------------------------------------------
# filter


def test_filter_numeric_ops(tsrv, gen, schemas):
    qty, amount, ratio = GEN_DF["qty"], GEN_DF["amount"], GEN_DF["ratio"]
    cases = [
        ("qty", "==", 3, mask_of(qty, lambda x: x == 3)),
        ("qty", "!=", 3, mask_of(qty, lambda x: x != 3, True)),
        ("qty", ">", 40, mask_of(qty, lambda x: x > 40)),
        ("qty", "<", 0, mask_of(qty, lambda x: x < 0)),
        ("qty", ">=", "45", mask_of(qty, lambda x: x >= 45)),
        ("qty", "<=", 2.5, mask_of(qty, lambda x: x <= 2.5)),
        ("amount", ">", "1,500", mask_of(amount, lambda x: x > 1500)),
        ("amount", "<=", 612.5, mask_of(amount, lambda x: x <= 612.5)),
        ("ratio", "<", "12%", mask_of(ratio, lambda x: x < 0.12)),
        ("const", "==", 7, mask_of(GEN_DF["const"], lambda x: x == 7)),
        ("id", "contains", "12", mask_of(GEN_DF["id"], lambda x: "12" in str(x))),
    ]
    for col, op, value, mask in cases:
        check_filter(tsrv, gen, schemas, mask, [{"column": col, "op": op, "value": value}])


def test_filter_in_between_and_nulls(tsrv, gen, schemas):
    qty, amount, day = GEN_DF["qty"], GEN_DF["amount"], GEN_DF["day"]
    check_filter(tsrv, gen, schemas, mask_of(qty, lambda x: x in (1, 2, 3, 10 ** 6)),
                 [{"column": "qty", "op": "in", "values": [1, "2", 3.0, 10 ** 6]}])
    check_filter(tsrv, gen, schemas, mask_of(amount, lambda x: 800 <= x <= 1200),
                 [{"column": "amount", "op": "between", "values": [800, "1,200"]}])
    # low > high matches nothing, as Series.between
    check_filter(tsrv, gen, schemas, mask_of(qty, lambda x: False),
                 [{"column": "qty", "op": "between", "values": [10, 5]}])
    check_filter(tsrv, gen, schemas, amount.isna(), [{"column": "amount", "op": "is_null"}])
    check_filter(tsrv, gen, schemas, day.notna(), [{"column": "day", "op": "is_not_null"}])
    check_filter(tsrv, gen, schemas, GEN_DF["empty"].isna(),
                 [{"column": "empty", "op": "is_null"}])
    check_filter(tsrv, gen, schemas, GEN_DF["empty"].notna(),
                 [{"column": "empty", "op": "is_not_null"}])
    # "!=" matches the missing values, every other comparison does not
    check_filter(tsrv, gen, schemas, pd.Series(True, index=GEN_DF.index),
                 [{"column": "empty", "op": "!=", "value": "x"}])


def test_filter_text(tsrv, gen, schemas):
    city = GEN_DF["city"]
    check_filter(tsrv, gen, schemas, mask_of(city, lambda x: x == "대구"),
                 [{"column": "city", "op": "==", "value": "대구"}])
    check_filter(tsrv, gen, schemas, mask_of(city, lambda x: x == 'q"t'),
                 [{"column": "city", "op": "==", "value": 'q"t'}])
    check_filter(tsrv, gen, schemas, mask_of(city, lambda x: x != "서울", True),
                 [{"column": "city", "op": "!=", "value": "서울"}])
    check_filter(tsrv, gen, schemas, mask_of(city, lambda x: x in ("서울", "a,b")),
                 [{"column": "city", "op": "in", "values": ["서울", "a,b", "없음"]}])
    want = city.str.contains("DAE", case=False, regex=False, na=False)
    check_filter(tsrv, gen, schemas, want, [{"column": "city", "op": "contains", "value": "DAE"}])
    check_filter(tsrv, gen, schemas, mask_of(city, lambda x: x > "가"),
                 [{"column": "city", "op": ">", "value": "가"}])


def test_filter_boolean(tsrv, gen, schemas):
    flag = GEN_DF["flag"]
    for value in (True, "yes", "true", 1, "1"):
        check_filter(tsrv, gen, schemas, mask_of(flag, lambda x: x),
                     [{"column": "flag", "op": "==", "value": value}])
    check_filter(tsrv, gen, schemas, mask_of(flag, lambda x: not x, True),
                 [{"column": "flag", "op": "!=", "value": True}])
    check_filter(tsrv, gen, schemas, mask_of(flag, lambda x: not x),
                 [{"column": "flag", "op": "==", "value": "아니오"}])
    # contains looks at the text shown: true/false
    check_filter(tsrv, gen, schemas, mask_of(flag, lambda x: "ru" in str(x).lower()),
                 [{"column": "flag", "op": "contains", "value": "RU"}])


def test_filter_dates(tsrv, gen, schemas):
    day, ts = GEN_DF["day"], GEN_DF["ts"]
    cut = pd.Timestamp("2021-03-05")
    for value in ("2021-03-05", "2021. 3. 5.", "2021/3/5", "2021년 3월 5일"):
        check_filter(tsrv, gen, schemas, mask_of(day, lambda x: x >= cut),
                     [{"column": "day", "op": ">=", "value": value}])
    some = sorted(day.dropna().unique())[:3]
    check_filter(tsrv, gen, schemas, day.isin(some),
                 [{"column": "day", "op": "in",
                   "values": [pd.Timestamp(d).strftime("%Y-%m-%d") for d in some]}])
    lo, hi = pd.Timestamp("2020-05-01 12:00"), pd.Timestamp("2020-05-31")
    check_filter(tsrv, gen, schemas, mask_of(ts, lambda x: lo <= x <= hi),
                 [{"column": "ts", "op": "between", "values": ["2020-05-01 12:00", "2020-05-31"]}])
    # a bare date against a datetime column is its midnight
    check_filter(tsrv, gen, schemas, mask_of(ts, lambda x: x < pd.Timestamp("2021-06-01")),
                 [{"column": "ts", "op": "<", "value": "2021-06-01"}])
    one = ts.dropna().iloc[5]
    check_filter(tsrv, gen, schemas, mask_of(ts, lambda x: x == one),
                 [{"column": "ts", "op": "==", "value": one.strftime("%Y-%m-%d %H:%M:%S")}])
    # a date column against a datetime value: noon is after the date's midnight
    noon = pd.Timestamp("2021-03-05 12:00")
    check_filter(tsrv, gen, schemas, mask_of(day, lambda x: x > noon),
                 [{"column": "day", "op": ">", "value": "2021-03-05 12:00"}])
    check_filter(tsrv, gen, schemas, mask_of(day, lambda x: "2021-03" in x.strftime("%Y-%m-%d")),
                 [{"column": "day", "op": "contains", "value": "2021-03"}])


def test_filter_match_projection_and_pages(tsrv, gen, schemas):
    city, qty, amount = GEN_DF["city"], GEN_DF["qty"], GEN_DF["amount"]
    conds = [{"column": "city", "op": "==", "value": "대구"},
             {"column": "qty", "op": ">", "value": 40}]
    a, b = mask_of(city, lambda x: x == "대구"), mask_of(qty, lambda x: x > 40)
    check_filter(tsrv, gen, schemas, a & b, conds)
    check_filter(tsrv, gen, schemas, a & b, conds, match="all")
    check_filter(tsrv, gen, schemas, a | b, conds, match="any", columns=["qty", "city", "id"])
    three = conds + [{"column": "amount", "op": "between", "values": [500, 1500]}]
    c = mask_of(amount, lambda x: 500 <= x <= 1500)
    check_filter(tsrv, gen, schemas, a & b & c, three)
    check_filter(tsrv, gen, schemas, a | b | c, three, match="any")

    # default limit 100, offsets and truncation
    mask = mask_of(amount, lambda x: x > 900)
    want = GEN_DF[mask]
    r = run(tsrv, gen, schemas, "filter", conditions=[{"column": "amount", "op": ">", "value": 900}])
    assert r["total"] == len(want) > 100 and r["truncated"] is True
    check_rows(r, want, limit=100)
    r = run(tsrv, gen, schemas, "filter", conditions=[{"column": "amount", "op": ">", "value": 900}],
            limit=7, offset=20, columns=["amount"])
    assert r["offset"] == 20 and r["truncated"] is True
    check_rows(r, want, ["amount"], limit=7, offset=20)
    r = run(tsrv, gen, schemas, "filter", conditions=[{"column": "amount", "op": ">", "value": 900}],
            offset=len(want) - 3)
    assert r["truncated"] is False
    check_rows(r, want, offset=len(want) - 3)
    r = run(tsrv, gen, schemas, "filter", conditions=[{"column": "qty", "op": ">", "value": 10 ** 7}])
    assert r["total"] == 0 and r["returned"] == 0 and r["table"]["rows"] == []


def test_filter_real_data(tsrv, real, taas, schemas):
    dataset_id, df = real
    when = pd.to_datetime(df["사고일시"], format="%Y-%m-%d %H")
    mask = (when >= "2022-01-01") & (when <= "2022-01-31 23:00") & (df["기상상태"] == "비")
    r = run(tsrv, dataset_id, schemas, "filter", limit=10000, columns=["ID", "사고일시"],
            conditions=[{"column": "사고일시", "op": "between", "values": ["2022-01-01", "2022-01-31 23"]},
                        {"column": "기상상태", "op": "==", "value": "비"}])
    assert r["total"] == int(mask.sum())
    assert r["row_numbers"] == [int(i) + 1 for i in df.index[mask]]
    assert [row[0] for row in r["table"]["rows"]] == list(df["ID"][mask])
    assert [row[1] for row in r["table"]["rows"]] == \
        [t.strftime("%Y-%m-%dT%H:%M:%S") for t in when[mask]]
    r = run(tsrv, dataset_id, schemas, "filter", limit=1,
            conditions=[{"column": "시군구", "op": "contains", "value": "수성구"}])
    assert r["total"] == int(df["시군구"].str.contains("수성구", regex=False).sum())

    dataset_id, df = taas
    mask = (df["사망자수"] >= 1) | (df["중상자수"] > 2)
    r = run(tsrv, dataset_id, schemas, "filter", limit=10000, columns=["사고번호"], match="any",
            conditions=[{"column": "사망자수", "op": ">=", "value": 1},
                        {"column": "중상자수", "op": ">", "value": "2"}])
    assert r["total"] == int(mask.sum())
    assert [row[0] for row in r["table"]["rows"]] == [int(x) for x in df["사고번호"][mask]]
    when = pd.to_datetime(df["사고일시"], format="%Y년 %m월 %d일 %H시")
    mask = (when >= "2016-03-01") & (when < "2016-04-01")
    r = run(tsrv, dataset_id, schemas, "filter", limit=1, conditions=[
        {"column": "사고일시", "op": ">=", "value": "2016년 3월 1일"},
        {"column": "사고일시", "op": "<", "value": "2016-04-01"}])
    assert r["total"] == int(mask.sum())


# --------------------------------------------------------------------------
# sort


def check_sort(tsrv, gen, schemas, by, limit=10000, columns=None):
    args = {"by": by, "limit": limit}
    if columns:
        args["columns"] = columns
    r = run(tsrv, gen, schemas, "sort", **args)
    want = GEN_DF.sort_values([k["column"] for k in by],
                              ascending=[not k.get("descending", False) for k in by],
                              na_position="last", kind="stable")
    assert r["total"] == GEN_N and r["truncated"] == (limit < GEN_N)
    check_rows(r, want, columns, limit=limit)


def test_sort_generated(tsrv, gen, schemas):
    check_sort(tsrv, gen, schemas, [{"column": "amount"}])
    check_sort(tsrv, gen, schemas, [{"column": "amount", "descending": True}], limit=25)
    check_sort(tsrv, gen, schemas, [{"column": "qty", "descending": True}])
    check_sort(tsrv, gen, schemas, [{"column": "grade"}, {"column": "qty", "descending": True}])
    check_sort(tsrv, gen, schemas, [{"column": "city", "descending": True}, {"column": "flag"},
                                    {"column": "ts", "descending": True}], columns=["city", "flag", "ts"])
    check_sort(tsrv, gen, schemas, [{"column": "day"}], limit=50, columns=["day", "id"])
    check_sort(tsrv, gen, schemas, [{"column": "flag", "descending": True}])
    check_sort(tsrv, gen, schemas, [{"column": "const"}])  # all ties: dataset order
    check_sort(tsrv, gen, schemas, [{"column": "empty", "descending": True}, {"column": "id",
                                                                                "descending": True}])
    r = run(tsrv, gen, schemas, "sort", by=[{"column": "ratio"}])
    assert r["returned"] == 100 and r["truncated"] is True   # default limit


def test_sort_real(tsrv, taas, real, schemas):
    dataset_id, df = taas
    r = run(tsrv, dataset_id, schemas, "sort", limit=300, columns=["사고번호", "경상자수"],
            by=[{"column": "경상자수", "descending": True}, {"column": "사고번호"}])
    want = df.sort_values(["경상자수", "사고번호"], ascending=[False, True], kind="stable")[:300]
    assert [row[0] for row in r["table"]["rows"]] == [int(x) for x in want["사고번호"]]
    assert r["row_numbers"] == [int(i) + 1 for i in want.index]
    dataset_id, df = real
    r = run(tsrv, dataset_id, schemas, "sort", limit=500, columns=["ID"],
            by=[{"column": "사고일시", "descending": True}, {"column": "시군구"}])
    df = df.assign(when=pd.to_datetime(df["사고일시"], format="%Y-%m-%d %H"))
    want = df.sort_values(["when", "시군구"], ascending=[False, True], kind="stable")[:500]
    assert [row[0] for row in r["table"]["rows"]] == list(want["ID"])


# --------------------------------------------------------------------------
# sample_rows


def test_sample_rows(tsrv, gen, schemas):
    r = run(tsrv, gen, schemas, "sample_rows")
    assert r["returned"] == 10 and r["seed"] == 0 and r["total"] == GEN_N
    nums = r["row_numbers"]
    assert len(set(nums)) == 10 and nums == sorted(nums) and all(1 <= n <= GEN_N for n in nums)
    check_rows(r, GEN_DF.iloc[[n - 1 for n in nums]])
    # repeatable, and another seed is another sample
    assert run(tsrv, gen, schemas, "sample_rows")["row_numbers"] == nums
    assert run(tsrv, gen, schemas, "sample_rows", seed=0, n=10) == r
    samples = {tuple(run(tsrv, gen, schemas, "sample_rows", seed=s, n=20)["row_numbers"])
               for s in (1, 2, 3, -1, 2 ** 62)}
    assert len(samples) == 5

    big = run(tsrv, gen, schemas, "sample_rows", n=1000, seed=7, columns=["id", "day"])
    nums = big["row_numbers"]
    assert len(set(nums)) == 1000 and all(1 <= n <= GEN_N for n in nums)
    check_rows(big, GEN_DF.iloc[[n - 1 for n in nums]], ["id", "day"])
    # loosely uniform: a uniform draw of 1000 of 2000 has mean 1000.5 with a
    # standard error near 13, and about half falls in each half
    mean = sum(nums) / len(nums)
    assert abs(mean - (GEN_N + 1) / 2) < 80, mean
    assert 420 < sum(n <= GEN_N // 2 for n in nums) < 580
    # different seeds overlap about as two random halves do
    other = set(run(tsrv, gen, schemas, "sample_rows", n=1000, seed=8)["row_numbers"])
    assert 380 < len(other & set(nums)) < 620

    every = run(tsrv, gen, schemas, "sample_rows", n=10000, columns=["id"])
    assert every["returned"] == GEN_N and every["row_numbers"] == list(range(1, GEN_N + 1))


def test_sample_rows_real(tsrv, taas, schemas):
    dataset_id, df = taas
    r = run(tsrv, dataset_id, schemas, "sample_rows", n=200, seed=42,
            columns=["사고번호", "사망자수", "요일"])
    nums = r["row_numbers"]
    assert len(set(nums)) == 200 and all(1 <= n <= len(df) for n in nums)
    want = df.iloc[[n - 1 for n in nums]]
    assert r["table"]["rows"] == [[int(a), int(b), c] for a, b, c in
                                  zip(want["사고번호"], want["사망자수"], want["요일"])]


# --------------------------------------------------------------------------
# errors


def test_row_tools_bad_arguments(tsrv, gen):
    def bad(name, fragment, **args):
        tool_error(tsrv, gen, name, 422, "invalid_argument", fragment, **args)

    ok = {"column": "qty", "op": ">", "value": 1}
    bad("filter", "args.conditions[1].column", conditions=[ok, {"column": "nope", "op": "==",
                                                                  "value": 1}])
    bad("filter", "no column", conditions=[{"column": "nope", "op": "is_null"}])
    bad("filter", "args.conditions[0].value", conditions=[{"column": "qty", "op": "==",
                                                           "value": "abc"}])
    bad("filter", "args.conditions[0].value", conditions=[{"column": "day", "op": "<",
                                                           "value": "2020-13-45"}])
    bad("filter", "args.conditions[0].value", conditions=[{"column": "day", "op": "<", "value": 5}])
    bad("filter", "args.conditions[0].value", conditions=[{"column": "flag", "op": "==",
                                                           "value": 2}])
    bad("filter", "args.conditions[0].values[1]",
        conditions=[{"column": "ts", "op": "in", "values": ["2020-01-01", "soon"]}])
    bad("filter", "args.conditions[0].op", conditions=[{"column": "qty", "op": "~=", "value": 1}])
    bad("filter", "between", conditions=[{"column": "qty", "op": "between", "values": [1]}])
    bad("filter", "args.conditions[0].values",
        conditions=[{"column": "qty", "op": "between", "values": [1, 2, 3]}])
    bad("filter", "args.conditions[0].values", conditions=[{"column": "qty", "op": "in"}])
    bad("filter", "args.conditions[0].value", conditions=[{"column": "qty", "op": ">"}])
    bad("filter", "args.conditions[0].value",
        conditions=[{"column": "qty", "op": "==", "value": None}])
    bad("filter", "args.conditions[0].bogus",
        conditions=[{"column": "qty", "op": "is_null", "bogus": 1}])
    bad("filter", "args.conditions", conditions=[])
    bad("filter", "args.conditions", conditions=[ok] * 33)
    bad("filter", "args.conditions")
    bad("filter", "args.match", conditions=[ok], match="some")
    bad("filter", "args.limit", conditions=[ok], limit=0)
    bad("filter", "args.limit", conditions=[ok], limit=10001)
    bad("filter", "args.offset", conditions=[ok], offset=-1)
    bad("filter", "args.columns[1]", conditions=[ok], columns=["id", "nope"])
    bad("filter", "args.bogus", conditions=[ok], bogus=True)

    bad("sort", "args.by[1].column", by=[{"column": "id"}, {"column": "nope"}])
    bad("sort", "args.by", by=[])
    bad("sort", "args.by")
    bad("sort", "args.by[0].descending", by=[{"column": "id", "descending": "yes"}])
    bad("sort", "args.columns[0]", by=[{"column": "id"}], columns=["nope"])
    bad("sort", "args.limit", by=[{"column": "id"}], limit=0)
    bad("sort", "args.bogus", by=[{"column": "id"}], bogus=1)

    bad("sample_rows", "args.n", n=0)
    bad("sample_rows", "args.n", n=10001)
    bad("sample_rows", "args.seed", seed="x")
    bad("sample_rows", "args.columns[0]", columns=["nope"])
    bad("sample_rows", "args.bogus", bogus=1)


def test_row_tools_listed(schemas):
    for name in ROW_TOOLS:
        t = schemas[name]
        assert t["read_only"] is True and t["title"] and t["description"]
        jsonschema.Draft202012Validator.check_schema(t["input_schema"])
        jsonschema.Draft202012Validator.check_schema(t["output_schema"])
        assert t["input_schema"]["type"] == "object"
        assert t["input_schema"]["additionalProperties"] is False
    assert "필터" in schemas["filter"]["description"]
    assert "조건" in schemas["filter"]["description"]
    assert "정렬" in schemas["sort"]["description"]
    assert "표본" in schemas["sample_rows"]["description"]
    assert "샘플" in schemas["sample_rows"]["description"]
