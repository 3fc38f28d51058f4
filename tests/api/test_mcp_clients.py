"""sheaf's MCP server through the official TypeScript SDK clients: v1
(@modelcontextprotocol/sdk, the 2025-11-25 initialize handshake) and v2
(@modelcontextprotocol/client with version negotiation "auto", which lands
on 2026-07-28), each over stdio (`sheaf mcp`) and Streamable HTTP (/mcp of
`sheaf serve` with a bearer token).

Every combination runs one plan (tests/mcp/client_common.mjs) over real
data -- the Daegu accidents of test.csv and the CCTV list (cp949, with
numbers) -- and the tests check the answers against pandas, csv and the
xgboost reference on the same files.  The SDKs validate structuredContent
against each tool's outputSchema (a mismatch is a thrown error, and fails
here); jsonschema checks it again.

Resource listing runs with SHEAF_MCP_PAGE_SIZE=1, so the two datasets take
two pages and the clients must follow nextCursor.
"""

import csv
import datetime as dt
import io
import json

import jsonschema
import pytest

from conftest import SheafFactory
from datasets_helpers import CCTV_CSV, TAAS_ZIP, TEST_CSV, need_data, ready, upload_dataset
from eclo_helpers import known, label_of, reference, spread, taas_accidents
from mcp_helpers import (ENDLESS_SQL, INVALID_PARAMS, MODERN, RESOURCE_NOT_FOUND_2025, http_transport,
                         import_dataset, read_cctv_csv, read_test_csv, run_client, stdio_transport)

DATASET_TOOLS = {"dataframe_info", "missing_values", "type_detection", "missing_pattern",
                 "filter", "sort", "sample_rows", "date_range", "temporal_pattern", "geo_bounds",
                 "column_stats", "percentile", "histogram", "outliers", "correlation",
                 "correlation_with_target", "describe", "value_counts", "unique_values",
                 "categorical_summary", "crosstab", "group_by", "query_sql"}
ACCOUNT_TOOLS = {"list_datasets", "describe_dataset", "profile", "transform", "predict_eclo",
                 "predict_model", "list_models"}
COMBOS = [(1, "stdio"), (1, "http"), (2, "stdio"), (2, "http")]
ENV = {"SHEAF_MCP_PAGE_SIZE": "1"}
GROUP_SQL = ('SELECT "기상상태" AS weather, count(*) AS n FROM data '
             'GROUP BY "기상상태" ORDER BY n DESC, weather')


def eclo_accidents():
    """Five real accidents the model knows, plus one it cannot predict."""
    need_data(TAAS_ZIP)
    ref = reference()
    good = [dict(f) for f in spread([a[0] for a in taas_accidents() if known(ref, a[0])], 5)]
    return good, {**good[0], "weather": "화창"}


def plan_ops(ids, accidents):
    t, c = ids["test"], ids["cctv"]
    uri = f"sheaf://datasets/{t}"
    return [
        ("tools", {"op": "listTools"}),
        ("info", {"op": "callTool", "name": "dataframe_info", "arguments": {"dataset_id": t}}),
        ("counts", {"op": "callTool", "name": "value_counts",
                    "arguments": {"dataset_id": t, "column": "요일"}}),
        ("sql", {"op": "callTool", "name": "query_sql",
                 "arguments": {"dataset_id": t, "sql": GROUP_SQL}}),
        ("stats", {"op": "callTool", "name": "column_stats",
                   "arguments": {"dataset_id": c, "column": "제한속도"}}),
        ("describe", {"op": "callTool", "name": "describe", "arguments": {"dataset_id": c}}),
        ("bad_column", {"op": "callTool", "name": "column_stats",
                        "arguments": {"dataset_id": c, "column": "no such column"}}),
        ("bad_sql", {"op": "callTool", "name": "query_sql",
                     "arguments": {"dataset_id": t, "sql": "SELECT nope FROM data"}}),
        ("write_sql", {"op": "callTool", "name": "query_sql",
                       "arguments": {"dataset_id": t, "sql": "DELETE FROM data"}}),
        ("no_dataset", {"op": "callTool", "name": "dataframe_info",
                        "arguments": {"dataset_id": "nope-nope-nope"}}),
        ("unknown_tool", {"op": "callTool", "name": "no_such_tool", "arguments": {}}),
        ("read", {"op": "readResource", "uri": uri}),
        ("preview", {"op": "readResource", "uri": uri + "/preview"}),
        ("preview50", {"op": "readResource", "uri": uri + "/preview?rows=50"}),
        ("read_missing", {"op": "readResource", "uri": "sheaf://datasets/nope"}),
        ("read_foreign", {"op": "readResource", "uri": "file:///etc/passwd"}),
        ("resources", {"op": "listResources"}),
        ("templates", {"op": "listResourceTemplates"}),
        ("prompts", {"op": "listPrompts"}),
        ("explore", {"op": "getPrompt", "name": "explore_dataset",
                     "arguments": {"dataset_id": t}}),
        ("ask", {"op": "getPrompt", "name": "ask_dataset",
                 "arguments": {"dataset_id": t, "question": "요일별 사고 건수는?"}}),
        ("eclo_prompt", {"op": "getPrompt", "name": "explain_eclo",
                         "arguments": {"accident": json.dumps(accidents[0][0],
                                                              ensure_ascii=False)}}),
        ("ask_missing", {"op": "getPrompt", "name": "ask_dataset",
                         "arguments": {"dataset_id": t}}),
        ("eclo_missing", {"op": "getPrompt", "name": "explain_eclo", "arguments": {}}),
        ("prompt_unknown", {"op": "getPrompt", "name": "no_such_prompt", "arguments": {}}),
        ("prompt_other", {"op": "getPrompt", "name": "explore_dataset",
                          "arguments": {"dataset_id": "nope"}}),
        ("complete", {"op": "complete", "ref": {"type": "ref/prompt", "name": "explore_dataset"},
                      "argument": {"name": "dataset_id", "value": t[:3]}}),
        ("list_datasets", {"op": "callTool", "name": "list_datasets", "arguments": {}}),
        ("describe_dataset", {"op": "callTool", "name": "describe_dataset",
                              "arguments": {"dataset_id": t}}),
        ("profile", {"op": "callTool", "name": "profile",
                     "arguments": {"dataset_id": c, "column": "제한속도"}}),
        ("predict_eclo", {"op": "callTool", "name": "predict_eclo",
                          "arguments": {"accidents": accidents[0] + [accidents[1]]}}),
        ("list_models", {"op": "callTool", "name": "list_models", "arguments": {}}),
        ("predict_model", {"op": "callTool", "name": "predict_model",
                           "arguments": {"model_id": "no-such-model", "rows": [{"x": 1}]}}),
        ("transform", {"op": "callTool", "name": "transform", "progress": True, "arguments": {
            "dataset_id": t, "steps": [{"op": "filter", "where": "\"요일\" = '금요일'"},
                                       {"op": "select", "columns": ["ID", "요일", "기상상태"]}]}}),
    ]


class Run:
    """One plan's output, by step name."""

    def __init__(self, sdk, transport, ids, out, names):
        self.sdk, self.transport, self.ids, self.out = sdk, transport, ids, out
        assert out["connected"], (out.get("error"), out["stderr"][-6000:])
        assert len(out["results"]) == len(names), out
        self.steps = dict(zip(names, out["results"]))

    def __repr__(self):
        return f"<v{self.sdk} {self.transport}>"

    @property
    def modern(self):
        return self.sdk == 2

    def ok(self, name):
        r = self.steps[name]
        assert "error" not in r, (self, name, r["error"])
        return r["result"]

    def err(self, name):
        r = self.steps[name]
        assert "error" in r, (self, name, "expected a protocol error", r.get("result"))
        return r["error"]

    def tool(self, name):
        """A successful tool result: structuredContent, checked against the
        listed outputSchema, and its text content."""
        r = self.ok(name)
        assert r.get("isError") is False, (self, name, r)
        sc = r["structuredContent"]
        texts = [c["text"] for c in r["content"] if c["type"] == "text"]
        assert len(texts) == 2 and texts[0].strip(), (self, name, r["content"])
        assert json.loads(texts[1]) == sc, (self, name)
        tool_name = dict((s, op) for s, op in self.ops)[name]["name"]
        jsonschema.validate(sc, self.tool_defs()[tool_name]["outputSchema"])
        return sc

    def tool_error(self, name):
        r = self.ok(name)
        assert r.get("isError") is True, (self, name, r)
        assert "structuredContent" not in r
        text = r["content"][0]["text"]
        assert r["content"][0]["type"] == "text" and text.strip()
        return text

    def tool_defs(self):
        return {t["name"]: t for t in self.ok("tools")["tools"]}


@pytest.fixture(scope="module")
def data():
    need_data(TEST_CSV, CCTV_CSV)
    return {"test": read_test_csv(), "cctv": read_cctv_csv()}


@pytest.fixture(scope="module")
def accidents():
    return eclo_accidents()


@pytest.fixture(scope="module")
def hsrv(tmp_path_factory):
    need_data(TEST_CSV, CCTV_CSV)
    f = SheafFactory(tmp_path_factory.mktemp("mcp-clients"))
    yield f.start(env=ENV)
    f.finish()


@pytest.fixture(scope="module", params=COMBOS, ids=[f"v{s}-{t}" for s, t in COMBOS])
def run(request, hsrv, tmp_path_factory, accidents):
    """The plan run by one SDK over one transport, on datasets of its own
    (test.csv, then the CCTV list: the CCTV list is the newest)."""
    sdk, kind = request.param
    if kind == "stdio":
        d = tmp_path_factory.mktemp(f"mcp-v{sdk}") / "data"
        ids = {"test": import_dataset(d, TEST_CSV), "cctv": import_dataset(d, CCTV_CSV)}
        transport = stdio_transport(d, ENV)
    else:
        user = hsrv.new_user()
        ids = {"test": ready(upload_dataset(user, TEST_CSV.read_bytes(), "test.csv"))["id"],
               "cctv": ready(upload_dataset(user, CCTV_CSV.read_bytes(), CCTV_CSV.name))["id"]}
        transport = http_transport(hsrv, user.token)
    ops = plan_ops(ids, accidents)
    out = run_client(sdk, {"transport": transport, "negotiation": "auto",
                           "ops": [op for _, op in ops]})
    r = Run(sdk, kind, ids, out, [n for n, _ in ops])
    r.ops = ops
    return r


# --------------------------------------------------------------------------
# the connection


def test_connection_era_and_server_identity(run):
    out = run.out
    assert out["serverInfo"]["name"] == "sheaf" and out["serverInfo"]["version"]
    assert {"tools", "resources", "prompts", "completions"} <= set(out["capabilities"])
    if run.modern:
        assert out["era"] == "modern" and out["protocolVersion"] == MODERN, out
        assert "initialize" not in out["sent"], out["sent"]
        assert out["sessionId"] is None
    else:
        assert out["sent"].get("initialize") == 1, out["sent"]
        if run.transport == "http":
            assert out["sessionId"], out
    assert "closeError" not in out, out["closeError"]


# --------------------------------------------------------------------------
# tools


def test_every_registry_tool_is_listed_with_schemas_and_hints(run, hsrv):
    tools = run.tool_defs()
    assert set(tools) == DATASET_TOOLS | ACCOUNT_TOOLS, sorted(tools)
    assert len(run.ok("tools")["tools"]) == len(tools)
    api = {t["name"]: t for t in hsrv.get("/api/tools").json()["tools"]}
    assert set(api) <= DATASET_TOOLS
    for name, t in tools.items():
        assert t["description"].strip() and t["title"].strip(), t
        s = t["inputSchema"]
        jsonschema.Draft202012Validator.check_schema(s)
        jsonschema.Draft202012Validator.check_schema(t["outputSchema"])
        assert s["type"] == "object" and t["outputSchema"]["type"] == "object"
        ann = t["annotations"]
        assert isinstance(ann["readOnlyHint"], bool) and isinstance(ann["destructiveHint"], bool)
        if name in DATASET_TOOLS:
            assert s["required"][0] == "dataset_id", (name, s)
            assert s["properties"]["dataset_id"]["type"] == "string"
            assert ann["readOnlyHint"] is True and ann["destructiveHint"] is False
        if name in api:
            # The MCP schema is the API's plus dataset_id.
            props = dict(s["properties"])
            props.pop("dataset_id")
            assert props == api[name]["input_schema"].get("properties", {}), name
            assert set(s["required"]) - {"dataset_id"} == \
                set(api[name]["input_schema"].get("required", [])), name
            assert t["outputSchema"] == api[name]["output_schema"], name
    assert tools["transform"]["annotations"]["readOnlyHint"] is False
    for name in ("list_datasets", "describe_dataset", "profile", "predict_eclo",
                 "predict_model", "list_models"):
        assert tools[name]["annotations"]["readOnlyHint"] is True, name
    assert "dataset_id" in tools["transform"]["inputSchema"]["required"]
    assert tools["predict_eclo"]["inputSchema"]["required"] == ["accidents"]


def test_dataset_tools_agree_with_pandas(run, data):
    df, cc = data["test"], data["cctv"]
    info = run.tool("info")
    assert (info["rows"], info["columns"]) == df.shape
    cols = [dict(zip(info["column_info"]["columns"], r)) for r in info["column_info"]["rows"]]
    assert [c["name"] for c in cols] == list(df.columns)
    assert all(c["non_null"] == len(df) and c["nulls"] == 0 for c in cols), cols
    types = {c["name"]: c["type"] for c in cols}
    assert types["사고일시"] == "datetime" and types["요일"] == "text"

    counts = run.tool("counts")
    got = {row[0]: row[1] for row in counts["values"]["rows"]}
    want = df["요일"].value_counts()
    assert got == {k: int(v) for k, v in want.items()}
    assert counts["distinct"] == df["요일"].nunique() and counts["total"] == len(df)
    pct = {row[0]: row[2] for row in counts["values"]["rows"]}
    assert pct["금요일"] == pytest.approx(100 * want["금요일"] / len(df))

    sql = run.tool("sql")
    assert [c["name"] for c in sql["columns"]] == ["weather", "n"]
    want = df.groupby("기상상태").size().reset_index(name="n")
    want = want.sort_values(["n", "기상상태"], ascending=[False, True])
    assert sql["rows"] == [[w, int(n)] for w, n in zip(want["기상상태"], want["n"])]
    assert sql["row_count"] == len(want) and sql["truncated"] is False

    s = cc["제한속도"]
    st = run.tool("stats")
    assert st["count"] == s.count() and st["nulls"] == int(s.isna().sum())
    assert st["mean"] == pytest.approx(s.mean(), rel=1e-12)
    assert st["std"] == pytest.approx(s.std(), rel=1e-9)
    assert (st["min"], st["max"], st["sum"]) == (s.min(), s.max(), s.sum())
    assert [st["p25"], st["p50"], st["p75"]] == pytest.approx(
        s.quantile([0.25, 0.5, 0.75]).tolist())
    assert st["distinct"] == s.nunique()

    d = run.tool("describe")
    rows = {r[0]: dict(zip(d["describe"]["columns"], r)) for r in d["describe"]["rows"]}
    assert d["rows"] == len(cc) and d["columns"] == len(cc.columns)
    for col in ("위도", "경도", "제한속도", "설치연도"):
        s, r = cc[col], rows[col]
        assert r["count"] == s.count() and r["nulls"] == int(s.isna().sum()), col
        assert r["mean"] == pytest.approx(s.mean(), rel=1e-9), col
        assert r["std"] == pytest.approx(s.std(), rel=1e-9), col
        assert [r["min"], r["25%"], r["50%"], r["75%"], r["max"]] == pytest.approx(
            [s.min(), *s.quantile([0.25, 0.5, 0.75]).tolist(), s.max()]), col


def test_tool_failures_are_results_unknown_tools_are_errors(run):
    assert "no such column" in run.tool_error("bad_column")
    assert "nope" in run.tool_error("bad_sql")
    run.tool_error("write_sql")
    assert "nope-nope-nope" in run.tool_error("no_dataset")
    e = run.err("unknown_tool")
    assert e["code"] == INVALID_PARAMS and "no_such_tool" in e["message"], e


# --------------------------------------------------------------------------
# resources


def test_dataset_resource_is_its_details_and_profile(run, data):
    df = data["test"]
    r = run.ok("read")
    uri = f"sheaf://datasets/{run.ids['test']}"
    (c,) = r["contents"]
    assert c["uri"] == uri and c["mimeType"] == "application/json"
    doc = json.loads(c["text"])
    assert doc["id"] == run.ids["test"] and doc["status"] == "ready"
    assert (doc["rows"], doc["columns"]) == df.shape
    assert [col["name"] for col in doc["columns_profile"]] == list(df.columns)
    for col in doc["columns_profile"]:
        p = col["profile"]
        assert p["count"] == len(df) and p["nulls"] == 0, col["name"]
        assert p["distinct"] == df[col["name"]].nunique(), col["name"]
    if run.modern:
        assert r["ttlMs"] > 0 and r["cacheScope"] == "private", r


def parse_file_datetime(s):
    return dt.datetime.strptime(s, "%Y-%m-%d %H")


def test_preview_resource_is_the_first_rows_as_csv(run):
    with open(TEST_CSV, encoding="utf-8", newline="") as f:
        source = list(csv.reader(f))
    for step, n in (("preview", 20), ("preview50", 50)):
        (c,) = run.ok(step)["contents"]
        assert c["mimeType"] == "text/csv"
        rows = list(csv.reader(io.StringIO(c["text"])))
        assert rows[0] == source[0]
        assert len(rows) == n + 1, (step, len(rows))
        when = source[0].index("사고일시")
        for got, want in zip(rows[1:], source[1:n + 1]):
            assert got[:when] + got[when + 1:] == want[:when] + want[when + 1:]
            assert dt.datetime.fromisoformat(got[when]) == parse_file_datetime(want[when])


def test_missing_resources_are_errors(run):
    for step, uri in (("read_missing", "sheaf://datasets/nope"),
                      ("read_foreign", "file:///etc/passwd")):
        e = run.err(step)
        # 2025-11-25: -32002; 2026-07-28: -32602 with data.uri (SEP-2164).
        assert e["code"] == (INVALID_PARAMS if run.modern else RESOURCE_NOT_FOUND_2025), e
        assert e["data"]["uri"] == uri, e


def test_resource_list_is_paged_and_followed(run):
    res = run.ok("resources")["resources"]
    t, c = run.ids["test"], run.ids["cctv"]
    # Newest first: the CCTV list, then test.csv; each twice.
    assert [x["uri"] for x in res] == [f"sheaf://datasets/{c}", f"sheaf://datasets/{c}/preview",
                                       f"sheaf://datasets/{t}", f"sheaf://datasets/{t}/preview"]
    assert [x["mimeType"] for x in res] == ["application/json", "text/csv"] * 2
    assert res[2]["name"] == "test" and res[0]["name"] == CCTV_CSV.stem
    assert all(x["name"] and x["title"] for x in res)
    # SHEAF_MCP_PAGE_SIZE=1: one dataset a page, and the client followed.
    if "pages" in run.steps["resources"]:
        assert run.steps["resources"]["pages"] == 2
    else:
        assert run.out["sent"]["resources/list"] == 2, run.out["sent"]


def test_resource_templates(run):
    ts = {t["uriTemplate"]: t for t in run.ok("templates")["resourceTemplates"]}
    assert set(ts) == {"sheaf://datasets/{id}", "sheaf://datasets/{id}/preview{?rows}"}
    assert ts["sheaf://datasets/{id}"]["mimeType"] == "application/json"
    assert ts["sheaf://datasets/{id}/preview{?rows}"]["mimeType"] == "text/csv"


# --------------------------------------------------------------------------
# prompts and completion


def test_prompts_list_and_get(run):
    ps = {p["name"]: p for p in run.ok("prompts")["prompts"]}
    assert set(ps) == {"explore_dataset", "ask_dataset", "explain_eclo"}
    assert [a["name"] for a in ps["ask_dataset"]["arguments"]] == ["dataset_id", "question"]
    assert all(a["required"] for p in ps.values() for a in p["arguments"])
    t = run.ids["test"]
    for step in ("explore", "ask"):
        msgs = run.ok(step)["messages"]
        assert [m["role"] for m in msgs] == ["user", "user"]
        assert msgs[0]["content"]["type"] == "text" and t in msgs[0]["content"]["text"]
        res = msgs[1]["content"]
        assert res["type"] == "resource" and res["resource"]["uri"] == f"sheaf://datasets/{t}"
        doc = json.loads(res["resource"]["text"])
        assert doc["rows"] == 10963 and len(doc["columns_profile"]) == 8
    assert "요일별 사고 건수는?" in run.ok("ask")["messages"][0]["content"]["text"]


def test_explain_eclo_prompt_carries_the_models_prediction(run, accidents):
    (m,) = run.ok("eclo_prompt")["messages"]
    text = m["content"]["text"]
    pred = json.loads(text.split("sheaf's model predicts: ", 1)[1].split("\n", 1)[0])
    want = reference().predict([accidents[0][0]])[0]
    assert pred["eclo"] == pytest.approx(want, rel=1e-4)
    assert pred["interpretation"] == label_of(pred["eclo"])
    assert json.dumps(accidents[0][0]["district"], ensure_ascii=False)[1:-1] in text


def test_prompt_errors(run):
    for step, word in (("ask_missing", "question"), ("eclo_missing", "accident"),
                       ("prompt_unknown", "no_such_prompt")):
        e = run.err(step)
        assert e["code"] == INVALID_PARAMS and word in e["message"], (step, e)
    e = run.err("prompt_other")
    assert e["code"] in (INVALID_PARAMS, RESOURCE_NOT_FOUND_2025), e


def test_completion_of_dataset_ids(run):
    c = run.ok("complete")["completion"]
    assert c["values"] == [run.ids["test"]] or run.ids["test"] in c["values"], c
    assert all(v.startswith(run.ids["test"][:3]) for v in c["values"])
    assert c["total"] == len(c["values"]) and c["hasMore"] is False


# --------------------------------------------------------------------------
# account tools


def test_account_tools(run, data):
    t, c = run.ids["test"], run.ids["cctv"]
    ls = run.tool("list_datasets")
    assert ls["total"] == 2 and [d["id"] for d in ls["datasets"]] == [c, t], ls
    assert [d["rows"] for d in ls["datasets"]] == [len(data["cctv"]), len(data["test"])]
    dd = run.tool("describe_dataset")
    assert dd["id"] == t and dd["rows"] == len(data["test"]) and dd["status"] == "ready"
    assert [x["name"] for x in dd["columns_info"]] == list(data["test"].columns)
    p = run.tool("profile")
    s = data["cctv"]["제한속도"]
    assert p["dataset_id"] == c and p["rows"] == len(data["cctv"])
    (col,) = p["columns"]
    assert col["name"] == "제한속도" and col["type"] == "integer"
    prof = col["profile"]
    assert (prof["count"], prof["min"], prof["max"]) == (s.count(), s.min(), s.max())
    assert prof["mean"] == pytest.approx(s.mean(), rel=1e-9)
    lm = run.tool("list_models")
    assert lm["total"] == 0 and lm["models"] == []
    assert "no-such-model" in run.tool_error("predict_model")


def test_predict_eclo_agrees_with_xgboost(run, accidents):
    good, bad = accidents
    r = run.tool("predict_eclo")
    preds = r["predictions"]
    assert [p["index"] for p in preds] == list(range(1, len(good) + 2))
    want = reference().predict(good)
    for p, w in zip(preds, want):
        assert p["error"] is None and p["eclo"] == pytest.approx(w, rel=1e-4), p
        assert p["interpretation"] == label_of(p["eclo"]) and p["detail"]
    last = preds[-1]
    assert last["eclo"] is None and "화창" in last["error"], last
    assert r["model_version"].startswith("eclo-")


def test_transform_makes_a_dataset_and_reports_progress(run, data):
    df = data["test"]
    r = run.tool("transform")
    assert r["status"] == "ready" and r["parent_id"] == run.ids["test"], r
    assert r["rows"] == int((df["요일"] == "금요일").sum()) and r["columns"] == 3
    assert [c["name"] for c in r["columns_info"]] == ["ID", "요일", "기상상태"]
    prog = run.steps["transform"]["progress"]
    assert prog, "no progress notification reached the client's onprogress"
    values = [p["progress"] for p in prog]
    assert values == sorted(values) and all(p.get("total") == 100 for p in prog), prog


# --------------------------------------------------------------------------
# the other ways to connect


@pytest.fixture(scope="module")
def small(hsrv, tmp_path_factory):
    """test.csv alone, for stdio and for an HTTP user: (stdio transport,
    stdio id, http user, http id)."""
    d = tmp_path_factory.mktemp("mcp-small") / "data"
    sid = import_dataset(d, TEST_CSV)
    user = hsrv.new_user()
    hid = ready(upload_dataset(user, TEST_CSV.read_bytes(), "test.csv"))["id"]
    return stdio_transport(d), sid, user, hid


@pytest.mark.parametrize("kind", ["stdio", "http"])
@pytest.mark.parametrize("mode", [MODERN, "legacy"])
def test_v2_pinned_and_legacy_modes(small, hsrv, kind, mode):
    stdio, sid, user, hid = small
    transport, tid = (stdio, sid) if kind == "stdio" else (http_transport(hsrv, user.token), hid)
    out = run_client(2, {"transport": transport, "negotiation": mode, "ops": [
        {"op": "callTool", "name": "dataframe_info", "arguments": {"dataset_id": tid}},
        {"op": "readResource", "uri": "sheaf://datasets/nope"}]})
    assert out["connected"], out.get("error")
    if mode == "legacy":
        assert out["era"] == "legacy" and out["sent"].get("initialize") == 1, out
    else:
        assert out["era"] == "modern" and out["protocolVersion"] == MODERN, out
        assert "initialize" not in out["sent"]
    info, missing = out["results"]
    assert info["result"]["structuredContent"]["rows"] == 10963, info
    # v2 maps the 2025 code (-32002) and the 2026 one (-32602 with data.uri)
    # to one ResourceNotFoundError; the raw codes are in test_mcp_protocol.py.
    assert missing["error"]["name"] == "ResourceNotFoundError", missing
    assert missing["error"]["data"]["uri"] == "sheaf://datasets/nope", missing


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """A server with one slow-work thread (where MCP calls run) and
    hour-long limits: a call that is not stopped holds the thread, and every
    later call waits behind it."""
    need_data(TEST_CSV)
    f = SheafFactory(tmp_path_factory.mktemp("mcp-one-worker"))
    srv = f.start(env={**ENV, "SHEAF_PASSWORD_CONCURRENCY": "1",
                       "SHEAF_QUERY_TIMEOUT_MS": "3600000", "SHEAF_MCP_TIMEOUT": "3600"})
    srv.tid = ready(upload_dataset(srv, TEST_CSV.read_bytes(), "test.csv"))["id"]
    yield srv
    f.finish()


@pytest.mark.parametrize("sdk,mode,progress", [(1, "auto", False), (2, "auto", True),
                                               (2, "auto", False), (2, "legacy", True)])
def test_an_sdk_abort_stops_the_call_on_the_server(one_worker, sdk, mode, progress):
    """A client that gives up on a call (AbortSignal) stops it in sheaf, each
    the way its era has: v2 in the 2026-07-28 era closes the event stream
    (with progress) or its connection (a JSON answer), the 2025 clients send
    notifications/cancelled in their session.  The endless query would hold
    the only worker for an hour; the call after it answers within its 60 s
    only if the first was stopped."""
    endless = {"op": "callTool", "name": "query_sql", "progress": progress, "abortAfterMs": 1500,
               "arguments": {"dataset_id": one_worker.tid, "sql": ENDLESS_SQL}}
    quick = {"op": "callTool", "name": "query_sql", "timeout": 60000,
             "arguments": {"dataset_id": one_worker.tid, "sql": "SELECT count(*) AS n FROM data"}}
    out = run_client(sdk, {"transport": http_transport(one_worker, one_worker.user.token),
                           "negotiation": mode, "ops": [endless, quick]})
    assert out["connected"], out.get("error")
    gave_up, after = out["results"]
    assert "error" in gave_up, gave_up
    assert after.get("result", {}).get("isError") is False, after
    assert after["result"]["structuredContent"]["rows"] == [[10963]], after
    if out.get("era") == "modern":
        assert "notifications/cancelled" not in out["sent"], out["sent"]
    else:
        assert out["sent"].get("notifications/cancelled") == 1, out["sent"]


def test_v1_http_session_ends_with_delete(small, hsrv):
    _, _, user, _ = small
    out = run_client(1, {"transport": http_transport(hsrv, user.token), "ops": [
        {"op": "listTools"}, {"op": "terminateSession"}, {"op": "listTools"}]})
    sid = out["sessionId"]
    assert sid, out
    listed, ended, after = out["results"]
    assert len(listed["result"]["tools"]) == len(DATASET_TOOLS | ACCOUNT_TOOLS)
    assert "error" not in ended, ended
    assert "error" in after, after   # no session any more
    r = hsrv.post("/mcp", headers={"Authorization": f"Bearer {user.token}",
                                   "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25",
                                   "Accept": "application/json, text/event-stream"},
                  json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    assert r.status_code == 404, (r.status_code, r.text)
