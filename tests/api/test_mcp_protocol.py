"""The MCP server's JSON-RPC and transport rules, spoken raw (no SDK):
stdio (`sheaf mcp`, one message per line) and Streamable HTTP (POST /mcp in
`sheaf serve`), for the 2026-07-28 revision (per-request _meta, standard
headers) and the 2025-11-25 one (initialize, Mcp-Session-Id).

What is expected comes from the specification texts (basic/index,
basic/versioning, basic/transports/*, server/tools), not from sheaf's
answers: error codes, HTTP statuses, which messages get no answer.
"""

import concurrent.futures
import datetime as dt
import json
import random
import signal
import threading
import time

import pytest
import requests

from conftest import SheafFactory, raw_exchange, raw_status
from datasets_helpers import TEST_CSV, need_data, ready, upload_dataset
from mcp_helpers import (CAPS_KEY, ENDLESS_SQL, HEADER_MISMATCH, INVALID_PARAMS,
                         INVALID_REQUEST, LEGACY, METHOD_NOT_FOUND, MODERN, PARSE_ERROR, RESOURCE_NOT_FOUND_2025,
                         UNSUPPORTED_VERSION, V_KEY, LegacySession, StdioMcp, b64_header,
                         error_code, import_dataset, initialize, modern_headers, modern_post,
                         post, req, result_of, rpc_json, sse_messages)

SLOW_QUERY_MS = 2000
JOIN_A, JOIN_B = 2000, 400


def join_csvs(seed=7):
    """Two small tables whose join on k (one value) is 2000 x 400 = 800,000
    rows of 13 columns: the new dataset's ingest takes long enough (about a
    second on the sanitizer build) for its progress to be reported more than
    once."""
    r = random.Random(seed)
    a = ["k," + ",".join(f"a{j}" for j in range(8))]
    for i in range(JOIN_A):
        a.append("1," + ",".join(f"v{i}_{j}_{r.randint(0, 10 ** 6)}" for j in range(8)))
    b = ["k," + ",".join(f"b{j}" for j in range(4))]
    for i in range(JOIN_B):
        b.append("1," + ",".join(f"{r.random():.5f}" for _ in range(4)))
    return ("\n".join(a) + "\n").encode(), ("\n".join(b) + "\n").encode()


def join_transform(a_id, b_id):
    return {"dataset_id": a_id, "steps": [{"op": "join", "dataset_id": b_id, "on": ["k"]}]}


def ingest_seconds(dataset):
    """How long the new dataset's ingest took (created when the derive
    ended, updated when the ingest did)."""
    t = [dt.datetime.fromisoformat(dataset[k].replace("Z", "+00:00"))
         for k in ("uploaded_at", "updated_at")]
    return (t[1] - t[0]).total_seconds()


def check_progress(notes, token, dataset):
    """Progress notifications of one transform: its token, progress strictly
    increasing within total.  The tool reports the ingest's progress every
    250 ms, so an ingest of 0.75 s or more must have been reported at least
    twice (its start, then some way in); a faster build may see one."""
    assert notes, "no progress notification"
    values = []
    for n in notes:
        assert n["method"] == "notifications/progress", n
        p = n["params"]
        assert p["progressToken"] == token, n
        assert isinstance(p["progress"], (int, float)), n
        if "total" in p:
            assert 0 <= p["progress"] <= p["total"], n
        values.append(p["progress"])
    assert values == sorted(values) and len(set(values)) == len(values), values
    if ingest_seconds(dataset) >= 0.75:
        assert len(values) >= 2, (values, ingest_seconds(dataset))


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def stdio_dir(tmp_path_factory):
    """A data dir with test.csv and the two join tables, owned by the local
    user (`sheaf import`)."""
    need_data(TEST_CSV)
    d = tmp_path_factory.mktemp("mcp-stdio")
    a, b = join_csvs()
    (d / "ja.csv").write_bytes(a)
    (d / "jb.csv").write_bytes(b)
    ids = {"test": import_dataset(d / "data", TEST_CSV),
           "ja": import_dataset(d / "data", d / "ja.csv"),
           "jb": import_dataset(d / "data", d / "jb.csv")}
    return d / "data", ids


@pytest.fixture
def mcp(stdio_dir):
    """A `sheaf mcp` process; at the end stdin closes and it must exit 0
    having written only JSON-RPC lines."""
    procs = []

    def start(env=None, args=()):
        p = StdioMcp(stdio_dir[0], env=env, args=args)
        procs.append(p)
        return p
    yield start
    for p in procs:
        try:
            p.close()
        finally:
            p.kill()


@pytest.fixture(scope="module")
def hsrv(tmp_path_factory):
    """A server with test.csv and the two join tables of its default user."""
    need_data(TEST_CSV)
    f = SheafFactory(tmp_path_factory.mktemp("mcp-http"))
    srv = f.start()
    a, b = join_csvs()
    srv.ids = {"test": ready(upload_dataset(srv, TEST_CSV.read_bytes(), "test.csv"))["id"],
               "ja": ready(upload_dataset(srv, a, "ja.csv"))["id"],
               "jb": ready(upload_dataset(srv, b, "jb.csv"))["id"]}
    yield srv
    f.finish()


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A server with a 2 KiB message limit and one extra allowed Origin."""
    f = SheafFactory(tmp_path_factory.mktemp("mcp-strict"))
    yield f.start(env={"SHEAF_MCP_MAX_MESSAGE": "2K",
                       "SHEAF_MCP_ORIGINS": "https://app.example.com"})
    f.finish()


def tok(srv):
    return srv.user.token


# --------------------------------------------------------------------------
# stdio: framing and JSON-RPC


def test_stdio_malformed_messages_answered_or_ignored(mcp):
    s = mcp()

    def one(raw, expect_id=None):
        """Send a line; the next message on stdout must be its error."""
        s.send_raw(raw + b"\n")
        m = s.next(30)
        assert m is not None and "error" in m, (raw, m)
        assert m["id"] == expect_id, (raw, m)
        return m["error"]["code"]

    assert one(b'{"jsonrpc": "2.0", "id": 1, "method": ') == PARSE_ERROR
    assert one(b'not json at all') == PARSE_ERROR
    assert one(b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]') == INVALID_REQUEST
    assert one(b'[]') == INVALID_REQUEST
    assert one(b'{"jsonrpc":"1.0","id":2,"method":"tools/list"}', 2) == INVALID_REQUEST
    assert one(b'{"id":3,"method":"tools/list"}', 3) == INVALID_REQUEST
    for bad_id in (b"null", b"1.5", b"true", b'{"a":1}', b"[1]"):
        assert one(b'{"jsonrpc":"2.0","id":' + bad_id + b',"method":"tools/list"}') \
            == INVALID_REQUEST, bad_id
    assert one(b'{"jsonrpc":"2.0","id":4,"method":"tools/list","params":[1,2]}', 4) \
        == INVALID_PARAMS
    assert one(b'{"jsonrpc":"2.0","id":"s5","method":"tools/list","params":"x"}', "s5") \
        == INVALID_PARAMS
    assert one(b'{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"_meta":[]}}', 6) \
        == INVALID_PARAMS
    # Messages that get no answer at all: a notification (known or not), a
    # response from the client, a malformed notification, a blank line.
    # The next request's answer must be the very next line.
    for raw in (b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
                b'{"jsonrpc":"2.0","method":"notifications/whatever","params":{}}',
                b'{"jsonrpc":"2.0","id":77,"result":{}}',
                b'{"jsonrpc":"2.0","id":78,"error":{"code":-1,"message":"x"}}',
                b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":999}}',
                b'{"jsonrpc":"2.0","method":"notifications/x","params":[1]}',
                b'', b'   \t'):
        s.send_raw(raw + b"\n")
    s.send(req("tools/list", "after"))
    m = s.next(30)
    assert m.get("id") == "after" and "result" in m, m
    # A string id and an integer id that look alike stay distinct.
    s.send(req("tools/list", "7"))
    s.send(req("tools/list", 7))
    got = {json.dumps(s.next(30)["id"]), json.dumps(s.next(30)["id"])}
    assert got == {'"7"', "7"}


def test_stdio_json_that_is_not_an_object_is_an_invalid_request(mcp):
    """Valid JSON that is not a request object is -32600, not -32700 (JSON-RPC
    2.0: a parse error is for invalid JSON only)."""
    s = mcp()
    for raw in (b'"a string"', b'42', b'null', b'true'):
        s.send_raw(raw + b"\n")
        m = s.next(30)
        assert m["id"] is None and error_code(m) == INVALID_REQUEST, (raw, m)


def test_stdio_oversized_line_is_refused_and_the_next_works(mcp):
    s = mcp(env={"SHEAF_MCP_MAX_MESSAGE": "2K"})
    big = req("tools/list", 1)
    big["params"]["padding"] = "x" * 3000
    s.send(big)
    m = s.next(30)
    assert m["id"] is None and error_code(m) == INVALID_REQUEST, m
    assert "2048" in m["error"]["message"]
    # Just under the limit still works (the line is 2 KiB with its padding).
    ok = req("tools/list", 2)
    ok["params"]["padding"] = ""
    ok["params"]["padding"] = "y" * (2048 - len(json.dumps(ok)))
    assert len(json.dumps(ok).encode()) == 2048
    s.send(ok)
    assert "tools" in result_of(s.response(2))
    # A huge line in several writes, then a normal one.
    s.send_raw(b'{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"p":"')
    for _ in range(20):
        s.send_raw(b"z" * 65536)
    s.send_raw(b'"}}\n')
    m = s.next(30)
    assert m["id"] is None and error_code(m) == INVALID_REQUEST, m
    assert "tools" in result_of(s.call(req("tools/list", 4)))


def test_stdio_versions_and_eras(mcp):
    s = mcp()
    # 2026-07-28: an unsupported version names the supported ones.
    m = s.call(req("tools/list", 1, **{V_KEY: "1999-01-01"}))
    assert error_code(m) == UNSUPPORTED_VERSION
    data = m["error"]["data"]
    assert MODERN in data["supported"] and LEGACY in data["supported"], data
    assert data["requested"] == "1999-01-01"
    m = s.call(req("tools/list", 2, **{V_KEY: 20260728}))
    assert error_code(m) == INVALID_PARAMS
    # Required _meta fields: clientCapabilities.
    msg = req("tools/list", 3)
    del msg["params"]["_meta"][CAPS_KEY]
    assert error_code(s.call(msg)) == INVALID_PARAMS
    msg = req("tools/list", 4)
    msg["params"]["_meta"][CAPS_KEY] = "all"
    assert error_code(s.call(msg)) == INVALID_PARAMS
    # No version and no session: malformed.
    m = s.call({"jsonrpc": "2.0", "id": 5, "method": "tools/list"})
    assert error_code(m) == INVALID_PARAMS
    m = s.call({"jsonrpc": "2.0", "id": 6, "method": "tools/list", "params": {}})
    assert error_code(m) == INVALID_PARAMS
    # Unknown method, and ping (removed in 2026-07-28).
    assert error_code(s.call(req("no/such/method", 7))) == METHOD_NOT_FOUND
    assert error_code(s.call(req("ping", 8))) == METHOD_NOT_FOUND
    # server/discover: versions, capabilities, identity.
    d = result_of(s.call(req("server/discover", 9)))
    assert MODERN in d["supportedVersions"] and LEGACY in d["supportedVersions"], d
    assert {"tools", "resources", "prompts"} <= set(d["capabilities"]), d
    assert d["resultType"] == "complete"
    assert d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "sheaf"
    # A modern result carries resultType and the cache hints.
    r = result_of(s.call(req("tools/list", 10)))
    assert r["resultType"] == "complete" and r["cacheScope"] in ("public", "private")
    assert isinstance(r["ttlMs"], int) and r["ttlMs"] >= 0


def test_stdio_modern_request_without_discover_meta_is_refused(mcp):
    """server/discover is a request like any other: missing _meta (or its
    protocolVersion) is malformed, -32602 (basic/index: "A request missing
    any required field is malformed; the server MUST reject it")."""
    s = mcp()
    m = s.call({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}})
    assert error_code(m) == INVALID_PARAMS, m
    m = s.call({"jsonrpc": "2.0", "id": 2, "method": "server/discover",
                "params": {"_meta": {CAPS_KEY: {}}}})
    assert error_code(m) == INVALID_PARAMS, m


def test_stdio_legacy_session(mcp):
    s = mcp()
    # Before initialize: ping is allowed, other methods are not.
    assert result_of(s.call({"jsonrpc": "2.0", "id": 1, "method": "ping"})) == {}
    m = s.call({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
    assert error_code(m) == INVALID_PARAMS
    # initialize needs its params.
    m = s.call({"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {
        "protocolVersion": LEGACY}})
    assert error_code(m) == INVALID_PARAMS
    # An unknown version gets the server's latest legacy one.
    r = result_of(s.call(initialize(4, "2099-01-01")))
    assert r["protocolVersion"] == LEGACY, r
    r = result_of(s.call(initialize(5, "2025-06-18")))
    assert r["protocolVersion"] == "2025-06-18", r
    assert r["serverInfo"]["name"] == "sheaf"
    assert {"tools", "resources", "prompts", "completions"} <= set(r["capabilities"])
    r = result_of(s.call(initialize(6, LEGACY)))
    assert r["protocolVersion"] == LEGACY
    s.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    # In the session: plain requests, no 2026 fields in the results.
    r = result_of(s.call({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}}))
    assert "tools" in r and "resultType" not in r and "ttlMs" not in r, sorted(r)
    assert result_of(s.call({"jsonrpc": "2.0", "id": 8, "method": "ping"})) == {}
    m = s.call({"jsonrpc": "2.0", "id": 9, "method": "no/such/method", "params": {}})
    assert error_code(m) == METHOD_NOT_FOUND
    # 2025 resource-not-found code.
    m = s.call({"jsonrpc": "2.0", "id": 10, "method": "resources/read",
                "params": {"uri": "sheaf://datasets/nope"}})
    assert error_code(m) == RESOURCE_NOT_FOUND_2025, m
    # A modern request is still served modern in the same process.
    r = result_of(s.call(req("tools/list", 11)))
    assert r["resultType"] == "complete"


# --------------------------------------------------------------------------
# stdio: concurrency, cancellation, progress


def test_stdio_pipelined_requests_all_answered(mcp, stdio_dir):
    s = mcp()
    tid = stdio_dir[1]["test"]
    batch = b""
    for i in range(20):
        msg = req("tools/call", f"q{i}" if i % 2 else i, {"name": "query_sql", "arguments": {
            "dataset_id": tid, "sql": f"SELECT {i} * 1000 + count(*) AS n FROM data"}})
        batch += json.dumps(msg).encode() + b"\n"
    s.send_raw(batch)   # one write: the reader sees them together
    for i in range(20):
        m = s.response(f"q{i}" if i % 2 else i)
        r = result_of(m)
        assert r["isError"] is False, r
        assert r["structuredContent"]["rows"] == [[i * 1000 + 10963]], (i, r)
    msgs = s.close()
    assert len([m for m in msgs if "id" in m]) == 20


def test_stdio_cancelled_call_is_never_answered(mcp, stdio_dir):
    s = mcp(env={"SHEAF_QUERY_TIMEOUT_MS": str(SLOW_QUERY_MS)})
    tid = stdio_dir[1]["test"]
    slow = {"name": "query_sql", "arguments": {"dataset_id": tid, "sql": ENDLESS_SQL}}
    s.send(req("tools/call", "slow-cancelled", slow))
    s.send(req("tools/call", "slow-kept", slow))
    s.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": "slow-cancelled", "reason": "test"}})
    # Other requests are answered while the slow ones run: before them.
    r = result_of(s.call(req("tools/list", "list")))
    assert "tools" in r
    assert not [m for m in s.pending if m.get("id") == "slow-kept"], \
        "tools/list was answered only after the slow call"
    # The kept one ends with its timeout, as a tool error.
    kept = result_of(s.response("slow-kept", timeout=60))
    assert kept["isError"] is True, kept
    # Closing stdin lets every call still running end and be written: the
    # cancelled one must not be among them.
    msgs = s.close()
    assert not [m for m in msgs if m.get("id") == "slow-cancelled"], msgs
    assert "cancelled by the client" in s.stderr


def test_stdio_running_query_stops_at_cancel_and_at_the_call_limit(mcp, stdio_dir):
    """The call's end reaches inside SQLite: with an hour-long query limit,
    the call limit (SHEAF_MCP_TIMEOUT) still stops an endless query_sql, and
    a cancelled one stops at once (stdin's end waits for running calls, so
    the process could not exit within the test's minute otherwise)."""
    s = mcp(env={"SHEAF_QUERY_TIMEOUT_MS": "3600000", "SHEAF_MCP_TIMEOUT": "2"})
    tid = stdio_dir[1]["test"]
    slow = {"name": "query_sql", "arguments": {"dataset_id": tid, "sql": ENDLESS_SQL}}
    r = result_of(s.call(req("tools/call", "limited", slow), timeout=60))
    assert r["isError"] is True and "SHEAF_MCP_TIMEOUT" in r["content"][0]["text"], r
    s2 = mcp(env={"SHEAF_QUERY_TIMEOUT_MS": "3600000", "SHEAF_MCP_TIMEOUT": "3600"})
    s2.send(req("tools/call", "gone", slow))
    assert "tools" in result_of(s2.call(req("tools/list", "list")))   # it is running
    s2.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
             "params": {"requestId": "gone"}})
    msgs = s2.close(timeout=60)
    assert not [m for m in msgs if m.get("id") == "gone"], msgs


def test_stdio_progress_notifications_precede_the_result(mcp, stdio_dir):
    s = mcp()
    ids = stdio_dir[1]
    s.send(req("tools/call", 1, {"name": "transform", "arguments": join_transform(ids["ja"], ids["jb"]),
                                 "_meta": {"progressToken": "tok-1"}}))
    notes = []
    while True:
        m = s.next(120)
        assert m is not None
        if "method" in m:
            notes.append(m)
            continue
        assert m["id"] == 1
        break
    r = result_of(m)
    assert r["isError"] is False, r
    assert r["structuredContent"]["rows"] == JOIN_A * JOIN_B
    assert r["structuredContent"]["status"] == "ready"
    check_progress(notes, "tok-1", r["structuredContent"])
    # Without a token: no notifications.
    s.send(req("tools/call", 2, {"name": "transform", "arguments": {
        "dataset_id": ids["test"], "steps": [{"op": "limit", "n": 5}]}}))
    m = s.next(120)
    assert m.get("id") == 2 and result_of(m)["isError"] is False, m


def test_stdio_logs_go_to_stderr_only(mcp):
    s = mcp(env={"SHEAF_LOG_LEVEL": "debug"})
    s.call(req("tools/list", 1))
    s.call(req("tools/call", 2, {"name": "list_datasets", "arguments": {}}))
    s.call(req("resources/list", 3))
    msgs = s.close()   # checks every stdout line is a JSON-RPC message
    assert len(msgs) == 3
    assert "MCP on stdio" in s.stderr
    assert "mcp_tool" in s.stderr   # the debug log of the call


# --------------------------------------------------------------------------
# HTTP: JSON-RPC over POST


def test_http_malformed_bodies(hsrv):
    t = tok(hsrv)
    cases = [
        (b'{"jsonrpc": "2.0", "id": 1, "method": ', PARSE_ERROR, None),
        (b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]', INVALID_REQUEST, None),
        (b'{"jsonrpc":"1.0","id":2,"method":"tools/list"}', INVALID_REQUEST, 2),
        (b'{"jsonrpc":"2.0","id":null,"method":"tools/list"}', INVALID_REQUEST, None),
        (b'{"jsonrpc":"2.0","id":2.5,"method":"tools/list"}', INVALID_REQUEST, None),
        (b'{"jsonrpc":"2.0","id":false,"method":"tools/list"}', INVALID_REQUEST, None),
        (b'{"jsonrpc":"2.0","id":{},"method":"tools/list"}', INVALID_REQUEST, None),
        (b'{"jsonrpc":"2.0","id":3,"method":"tools/list","params":[]}', INVALID_PARAMS, 3),
        (b'', PARSE_ERROR, None),
    ]
    for body, code, id in cases:
        r = post(hsrv, body, t)
        assert r.status_code == 400, (body, r.status_code, r.text)
        m = rpc_json(r, 400)
        assert error_code(m) == code and m["id"] == id, (body, m)


def test_http_notifications_and_responses_get_202(hsrv):
    t = tok(hsrv)
    for body in ({"jsonrpc": "2.0", "method": "notifications/initialized"},
                 {"jsonrpc": "2.0", "method": "notifications/whatever", "params": {}},
                 {"jsonrpc": "2.0", "id": 5, "result": {}},
                 {"jsonrpc": "2.0", "id": 6, "error": {"code": 1, "message": "x"}}):
        r = post(hsrv, body, t, {"MCP-Protocol-Version": MODERN})
        assert r.status_code == 202 and r.content == b"", (body, r.status_code, r.text)


def test_http_unknown_method_404_modern_but_not_in_a_session(hsrv):
    t = tok(hsrv)
    r = modern_post(hsrv, t, req("no/such/method", 1))
    m = rpc_json(r, 404)
    assert error_code(m) == METHOD_NOT_FOUND and m["id"] == 1
    s = LegacySession(hsrv, t)
    m = rpc_json(s.post({"jsonrpc": "2.0", "id": 2, "method": "no/such/method", "params": {}}))
    assert error_code(m) == METHOD_NOT_FOUND


def test_http_versions(hsrv):
    t = tok(hsrv)
    msg = req("tools/list", 1, **{V_KEY: "1999-01-01"})
    m = rpc_json(modern_post(hsrv, t, msg, MCP_Protocol_Version="1999-01-01"), 400)
    assert error_code(m) == UNSUPPORTED_VERSION
    assert MODERN in m["error"]["data"]["supported"], m
    msg = req("tools/list", 2)
    del msg["params"]["_meta"][CAPS_KEY]
    m = rpc_json(modern_post(hsrv, t, msg), 400)
    assert error_code(m) == INVALID_PARAMS
    # No version, no session.
    m = rpc_json(post(hsrv, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, t,
                      {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}), 400)
    assert error_code(m) == INVALID_PARAMS
    # A modern result.
    r = result_of(rpc_json(modern_post(hsrv, t, req("tools/list", 4))))
    assert r["resultType"] == "complete" and "ttlMs" in r


def test_http_discover_without_meta_is_refused(hsrv):
    """As on stdio: a request without the required _meta fields is
    malformed, -32602 with HTTP 400 (basic/index)."""
    t = tok(hsrv)
    r = post(hsrv, {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {}}, t,
             {"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"})
    m = rpc_json(r, 400)
    assert error_code(m) == INVALID_PARAMS, m


def test_http_standard_headers(hsrv):
    t = tok(hsrv)
    tid = hsrv.ids["test"]
    call = req("tools/call", 1, {"name": "dataframe_info", "arguments": {"dataset_id": tid}})

    def mismatch(msg, **h):
        m = rpc_json(modern_post(hsrv, t, msg, **h), 400)
        assert error_code(m) == HEADER_MISMATCH and m["id"] == msg["id"], (h, m)
        return m["error"]["message"]

    mismatch(call, MCP_Protocol_Version=None)
    mismatch(call, MCP_Protocol_Version=LEGACY)
    mismatch(call, Mcp_Method=None)
    mismatch(call, Mcp_Method="tools/list")
    mismatch(call, Mcp_Name=None)
    mismatch(call, Mcp_Name="describe")
    mismatch(call, Mcp_Name="DATAFRAME_INFO")
    mismatch(call, Mcp_Name=b64_header("describe"))
    mismatch(call, Mcp_Name="=?base64?@@not base64@@?=")
    mismatch(req("tools/list", 2), Mcp_Method="tools/call")
    uri = f"sheaf://datasets/{tid}"
    read = req("resources/read", 3, {"uri": uri})
    mismatch(read, Mcp_Name=uri + "/preview")
    prompt = req("prompts/get", 4, {"name": "explore_dataset", "arguments": {"dataset_id": tid}})
    mismatch(prompt, Mcp_Name="ask_dataset")
    # The right headers, plain or base64 (the sentinel form), are accepted.
    for name in ("dataframe_info", b64_header("dataframe_info")):
        r = result_of(rpc_json(modern_post(hsrv, t, call, Mcp_Name=name)))
        assert r["isError"] is False and r["structuredContent"]["rows"] == 10963
    r = result_of(rpc_json(modern_post(hsrv, t, read, Mcp_Name=b64_header(uri))))
    assert r["contents"][0]["uri"] == uri
    assert result_of(rpc_json(modern_post(hsrv, t, prompt)))["messages"]
    # Header names are case-insensitive.
    h = {k.lower(): v for k, v in modern_headers(call).items()}
    r = result_of(rpc_json(post(hsrv, call, t, h)))
    assert r["isError"] is False
    # A session id on a modern request is ignored.
    h = modern_headers(call)
    h["Mcp-Session-Id"] = "no-such-session"
    assert result_of(rpc_json(post(hsrv, call, t, h)))["isError"] is False


def test_http_header_values_ignore_surrounding_whitespace(hsrv):
    """RFC 9110 5.5: a field value excludes leading and trailing whitespace
    (the conformance suite's sep-2243-server-accepts-whitespace-header-value)."""
    t = tok(hsrv)
    call = req("tools/call", 1, {"name": "dataframe_info",
                                 "arguments": {"dataset_id": hsrv.ids["test"]}})
    body = json.dumps(call).encode()
    for value in (b"  dataframe_info  ", b"dataframe_info \t", b"\tdataframe_info"):
        head = (b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"Authorization: Bearer " + t.encode() + b"\r\n"
                b"Content-Type: application/json\r\nAccept: application/json\r\n"
                b"MCP-Protocol-Version: " + MODERN.encode() + b"  \r\n"
                b"Mcp-Method:  tools/call \r\nMcp-Name:" + value + b"\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        resp = raw_exchange(hsrv.url, head + body)
        status = raw_status(resp)
        payload = resp.partition(b"\r\n\r\n")[2]
        assert status == 200, (value, status, payload[:400])
        assert json.loads(payload)["result"]["isError"] is False


def test_http_origin_checks(strict):
    t = strict.user.token
    msg = req("tools/list", 1)
    for origin in ("http://evil.example", "https://app.example.com.evil.example",
                   "http://localhost.evil.example", "null", "http://127.0.0.1.evil.example"):
        r = modern_post(strict, t, msg, Origin=origin)
        assert r.status_code == 403, (origin, r.status_code, r.text)
        m = r.json()
        assert "error" in m and "result" not in m, m
    for origin in ("http://localhost:1234", "http://127.0.0.1:9", "http://[::1]:8080",
                   "http://localhost", "https://app.example.com"):
        r = modern_post(strict, t, msg, Origin=origin)
        assert r.status_code == 200, (origin, r.status_code, r.text)
        assert "tools" in result_of(r.json())
    # Without a token, or with a bad one, a bad Origin is still 403: the
    # Origin is checked first, as the transport page asks.
    for token in (None, "not-a-token"):
        r = post(strict, msg, token, {**modern_headers(msg), "Origin": "http://evil.example"})
        assert r.status_code == 403, (token, r.status_code, r.text)
        assert error_code(r.json()) == INVALID_REQUEST
    # GET and DELETE too.
    for method in ("GET", "DELETE"):
        r = requests.request(method, strict.url + "/mcp", timeout=30,
                             headers={"Origin": "http://evil.example"})
        assert r.status_code == 403, (method, r.status_code, r.text)
    # A good Origin without a token: 401.
    r = post(strict, msg, None, {**modern_headers(msg), "Origin": "http://localhost:3000"})
    assert r.status_code == 401, (r.status_code, r.text)


def test_http_oversized_body_413(strict):
    t = strict.user.token
    msg = req("tools/list", 1)
    msg["params"]["padding"] = "x" * 3000
    r = modern_post(strict, t, msg)
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert error_code(r.json()) == INVALID_REQUEST
    # Under the limit still works.
    assert "tools" in result_of(rpc_json(modern_post(strict, t, req("tools/list", 2))))


def test_http_declared_oversized_body_is_refused_before_it_is_read(strict):
    """A Content-Length over the limit is answered 413 at once: the body is
    never sent here, so an answer proves sheaf did not wait for it."""
    t = strict.user.token
    head = (f"POST /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            "Content-Length: 50000000\r\n\r\n").encode()
    resp = raw_exchange(strict.url, head)
    assert raw_status(resp) == 413, resp[:300]
    # Without a token the answer is 401, also before the body.
    resp = raw_exchange(strict.url, head.replace(f"Bearer {t}".encode(), b"Bearer x"))
    assert raw_status(resp) == 401, resp[:300]


def test_http_needs_a_bearer_token(hsrv):
    msg = req("tools/list", 1)
    r = post(hsrv, msg, None, modern_headers(msg))
    assert r.status_code == 401, (r.status_code, r.text)
    r = post(hsrv, msg, "not-a-token", modern_headers(msg))
    assert r.status_code == 401, (r.status_code, r.text)
    r = post(hsrv, initialize(), None)
    assert r.status_code == 401 and "Mcp-Session-Id" not in r.headers


def test_http_other_users_datasets_are_not_found(hsrv):
    other = hsrv.new_user()
    tid = hsrv.ids["test"]
    call = req("tools/call", 1, {"name": "dataframe_info", "arguments": {"dataset_id": tid}})
    r = result_of(rpc_json(modern_post(hsrv, other.token, call)))
    assert r["isError"] is True and tid in r["content"][0]["text"], r
    assert "structuredContent" not in r
    call = req("tools/call", 2, {"name": "describe_dataset", "arguments": {"dataset_id": tid}})
    r = result_of(rpc_json(modern_post(hsrv, other.token, call)))
    assert r["isError"] is True, r
    read = req("resources/read", 3, {"uri": f"sheaf://datasets/{tid}"})
    m = rpc_json(modern_post(hsrv, other.token, read))
    assert error_code(m) == INVALID_PARAMS and m["error"]["data"]["uri"] == read["params"]["uri"]
    res = result_of(rpc_json(modern_post(hsrv, other.token, req("resources/list", 4))))
    assert res["resources"] == []
    call = req("tools/call", 5, {"name": "list_datasets", "arguments": {}})
    r = result_of(rpc_json(modern_post(hsrv, other.token, call)))
    assert r["structuredContent"]["total"] == 0, r
    # The owner sees it.
    r = result_of(rpc_json(modern_post(hsrv, tok(hsrv), req("tools/call", 6, {
        "name": "dataframe_info", "arguments": {"dataset_id": tid}}))))
    assert r["isError"] is False


def test_http_legacy_session_lifecycle(hsrv):
    t = tok(hsrv)
    s = LegacySession(hsrv, t)
    assert s.init["protocolVersion"] == LEGACY
    r = s.call("tools/list", id=1)
    assert "tools" in result_of(r) and "resultType" not in r["result"]
    assert result_of(s.call("ping", id=2)) == {}
    # Without the session id: no version, no session.
    m = rpc_json(post(hsrv, {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}}, t,
                      {"MCP-Protocol-Version": LEGACY}), 400)
    assert error_code(m) == INVALID_PARAMS
    # Unknown session id: 404.
    r = post(hsrv, {"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {}}, t,
             {"Mcp-Session-Id": "x" * 32, "MCP-Protocol-Version": LEGACY})
    assert r.status_code == 404, (r.status_code, r.text)
    # Another user with this session id: 404, and the session survives.
    other = hsrv.new_user()
    r = s.post({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {}}, other.token)
    assert r.status_code == 404, (r.status_code, r.text)
    assert s.delete(other.token).status_code == 404
    assert "tools" in result_of(s.call("tools/list", id=6))
    # Unsupported MCP-Protocol-Version header in a session: 400.
    r = s.post({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}},
               MCP_Protocol_Version="1999-01-01")
    assert r.status_code == 400, (r.status_code, r.text)
    # GET: no standalone stream.
    r = requests.get(hsrv.url + "/mcp", headers={"Authorization": f"Bearer {t}",
                                                 "Accept": "text/event-stream"}, timeout=30)
    assert r.status_code == 405 and "POST" in r.headers.get("Allow", ""), r.status_code
    # DELETE ends it; then it is unknown.
    r = s.delete()
    assert r.status_code == 204, (r.status_code, r.text)
    r = s.post({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": {}})
    assert r.status_code == 404, (r.status_code, r.text)
    assert s.delete().status_code == 404
    # Two sessions are independent, each with its own id.
    a, b = LegacySession(hsrv, t), LegacySession(hsrv, t, "2025-06-18")
    assert a.id != b.id and b.init["protocolVersion"] == "2025-06-18"
    assert a.delete().status_code == 204
    assert "tools" in result_of(b.call("tools/list", id=9))


def test_http_legacy_resource_not_found_code(hsrv):
    s = LegacySession(hsrv, tok(hsrv))
    m = s.call("resources/read", {"uri": "sheaf://datasets/nope"})
    assert error_code(m) == RESOURCE_NOT_FOUND_2025, m
    m = rpc_json(modern_post(hsrv, tok(hsrv), req("resources/read", 1, {"uri": "sheaf://x"})))
    assert error_code(m) == INVALID_PARAMS and m["error"]["data"]["uri"] == "sheaf://x"


def test_http_progress_as_server_sent_events(hsrv):
    t = tok(hsrv)
    ids = hsrv.ids
    msg = req("tools/call", "p1", {"name": "transform",
                                   "arguments": join_transform(ids["ja"], ids["jb"]),
                                   "_meta": {"progressToken": 42}})
    r = modern_post(hsrv, t, msg)
    events = sse_messages(r)
    assert r.headers.get("X-Accel-Buffering") == "no"
    *notes, last = events
    assert last.get("id") == "p1", events
    res = result_of(last)
    assert res["isError"] is False and res["structuredContent"]["rows"] == JOIN_A * JOIN_B, res
    check_progress(notes, 42, res["structuredContent"])
    # The client that accepts only JSON gets JSON, without the notifications.
    msg = req("tools/call", "p2", {"name": "transform", "arguments": {
        "dataset_id": ids["test"], "steps": [{"op": "limit", "n": 3}]},
        "_meta": {"progressToken": "t2"}})
    r = modern_post(hsrv, t, msg, Accept="application/json")
    m = rpc_json(r)
    assert m["id"] == "p2" and result_of(m)["structuredContent"]["rows"] == 3


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    """A server with a single slow-work thread (where MCP calls run) and
    time limits far beyond any test's patience: a call that is not
    cancelled holds the thread, and the next call waits for it."""
    need_data(TEST_CSV)
    f = SheafFactory(tmp_path_factory.mktemp("mcp-one-worker"))
    srv = f.start(env={"SHEAF_PASSWORD_CONCURRENCY": "1", "SHEAF_QUERY_TIMEOUT_MS": "3600000",
                       "SHEAF_MCP_TIMEOUT": "3600"})
    srv.ids = {"test": ready(upload_dataset(srv, TEST_CSV.read_bytes(), "test.csv"))["id"]}
    yield srv
    f.finish()


def endless_call(srv, id, modern=True):
    return req("tools/call", id, {"name": "query_sql", "arguments": {
        "dataset_id": srv.ids["test"], "sql": ENDLESS_SQL},
        "_meta": {"progressToken": f"tok-{id}"}}, modern=modern)


def quick_call_works(srv, t, id):
    """A short call on the single worker answers (within the client's 60 s;
    the query it waits behind would take an hour)."""
    msg = req("tools/call", id, {"name": "query_sql", "arguments": {
        "dataset_id": srv.ids["test"], "sql": "SELECT count(*) AS n FROM data"}})
    r = result_of(rpc_json(modern_post(srv, t, msg, timeout=60)))
    assert r["isError"] is False and r["structuredContent"]["rows"][0][0] > 0, r


def test_http_closing_the_event_stream_cancels_the_call(one_worker):
    """2026-07-28: closing the SSE response stream MUST be treated as
    cancellation.  The stream's headers arrive while the endless query
    runs (the events are live, not sent at the end); closing it stops the
    query, which frees the only worker for the next call."""
    t = tok(one_worker)
    msg = endless_call(one_worker, "e1")
    r = requests.post(one_worker.url + "/mcp", data=json.dumps(msg), stream=True, timeout=60,
                      headers={**modern_headers(msg), "Authorization": f"Bearer {t}"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/event-stream"), r.headers
    assert r.headers.get("X-Accel-Buffering") == "no"
    r.close()
    quick_call_works(one_worker, t, "q1")
    # And again: each cancellation frees the worker.
    r = requests.post(one_worker.url + "/mcp", data=json.dumps(msg), stream=True, timeout=60,
                      headers={**modern_headers(msg), "Authorization": f"Bearer {t}"})
    assert r.status_code == 200
    r.close()
    quick_call_works(one_worker, t, "q2")


def test_http_closing_the_connection_cancels_a_json_answered_call(one_worker):
    """The same for a call answered as one JSON body: a 2026-07-28 client
    that stops waiting (here a read timeout closes the connection) cancels
    it."""
    t = tok(one_worker)
    msg = req("tools/call", "j1", {"name": "query_sql", "arguments": {
        "dataset_id": one_worker.ids["test"], "sql": ENDLESS_SQL}})
    with pytest.raises(requests.exceptions.ReadTimeout):
        modern_post(one_worker, t, msg, timeout=2, Accept="application/json")
    quick_call_works(one_worker, t, "q4")


def test_http_legacy_cancelled_notification_ends_the_stream_unanswered(one_worker):
    """2025-11-25: notifications/cancelled in the session stops the call;
    its event stream ends without a response (the receiver SHOULD NOT
    answer a cancelled request)."""
    t = tok(one_worker)
    s = LegacySession(one_worker, t)
    msg = endless_call(one_worker, 77, modern=False)
    r = requests.post(one_worker.url + "/mcp", data=json.dumps(msg), stream=True, timeout=60,
                      headers={**s.headers(), "Authorization": f"Bearer {t}",
                               "Content-Type": "application/json",
                               "Accept": "application/json, text/event-stream"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 77, "reason": "the user gave up"}}
    assert s.post(note).status_code == 202
    body = r.raw.read().decode()   # returns when the stream ends
    msgs = [json.loads(l[5:]) for l in body.splitlines() if l.startswith("data:")]
    assert all("id" not in m for m in msgs), msgs
    quick_call_works(one_worker, t, "q3")


def test_http_shutdown_stops_running_calls(tmp_path):
    """SIGTERM while MCP calls run, one streamed, one answered as JSON,
    both with hour-long limits: once the shutdown timeout has passed they
    are cancelled, and the server exits cleanly within seconds."""
    need_data(TEST_CSV)
    f = SheafFactory(tmp_path)
    srv = f.start(env={"SHEAF_PASSWORD_CONCURRENCY": "2", "SHEAF_QUERY_TIMEOUT_MS": "3600000",
                       "SHEAF_MCP_TIMEOUT": "3600", "SHEAF_SHUTDOWN_TIMEOUT": "1",
                       "SHEAF_LOG_LEVEL": "debug"})
    try:
        srv.ids = {"test": ready(upload_dataset(srv, TEST_CSV.read_bytes(), "test.csv"))["id"]}
        t = tok(srv)
        msg = endless_call(srv, "s1")
        streamed = requests.post(srv.url + "/mcp", data=json.dumps(msg), stream=True,
                                 timeout=60, headers={**modern_headers(msg),
                                                      "Authorization": f"Bearer {t}"})
        assert streamed.status_code == 200
        outcome = []

        def json_call():
            m = endless_call(srv, "j1")
            try:
                r = modern_post(srv, t, m, timeout=60, Accept="application/json")
                outcome.append(r.status_code)
            except requests.RequestException as e:
                outcome.append(type(e).__name__)
        th = threading.Thread(target=json_call, daemon=True)
        th.start()
        deadline = time.monotonic() + 30
        while sum("request started" in l and "path=/mcp" in l for l in srv.log_lines()) < 2:
            assert time.monotonic() < deadline, "the JSON call did not start"
            time.sleep(0.05)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(30) == 0
        th.join(30)
        assert outcome, "the JSON call neither answered nor failed"
        streamed.close()
    finally:
        f.finish()


def test_http_concurrent_calls(hsrv):
    t = tok(hsrv)
    tid = hsrv.ids["test"]

    def one(i):
        msg = req("tools/call", f"c{i}", {"name": "query_sql", "arguments": {
            "dataset_id": tid,
            "sql": f"SELECT {i} AS i, count(*) AS n FROM data WHERE \"요일\" = ?",
            "params": ["금요일"]}})
        return i, rpc_json(modern_post(hsrv, t, msg))

    start = threading.Barrier(20)

    def gated(i):
        start.wait(30)
        return one(i)

    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        got = list(ex.map(gated, range(20)))
    for i, m in got:
        assert m["id"] == f"c{i}", m
        r = result_of(m)
        assert r["structuredContent"]["rows"] == [[i, 1743]], r

