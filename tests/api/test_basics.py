"""Health, error shape, router, request ids, access log, CORS, docs/OpenAPI."""

import json
import os
import re
import shutil
import subprocess
import uuid

import pytest
import requests

from conftest import (GENERATED_ID_RE, REPO, SheafFactory, allow_set,
                      assert_error, assert_json_ct, assert_recent)


# --------------------------------------------------------------------------
# /health


def check_health_body(body, status):
    assert set(body) >= {"status", "timestamp", "version", "checks"}, body
    assert body["status"] == status, body
    assert_recent(body["timestamp"])
    assert isinstance(body["version"], str) and body["version"].strip(), body
    assert isinstance(body["checks"], dict), body
    assert set(body["checks"]) >= {"database", "storage"}, body
    return body["checks"]


def test_health_ok(shared_sheaf):
    r = shared_sheaf.get("/health")
    assert r.status_code == 200, r.text
    assert_json_ct(r)
    checks = check_health_body(r.json(), "healthy")
    assert checks["database"] == "ok"
    assert checks["storage"] == "ok"
    assert r.headers.get("X-Request-Id")


def test_health_ignores_query_string(shared_sheaf):
    r = shared_sheaf.get("/health?verbose=1&x=%20")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "healthy"


def test_health_head(shared_sheaf):
    r = shared_sheaf.request("HEAD", "/health")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers.get("X-Request-Id")


def test_health_storage_failure_and_recovery(sheaf):
    objects = sheaf.data_dir / "objects"
    sheaf.assert_healthy()
    shutil.rmtree(objects, ignore_errors=True)
    objects.write_text("not a directory\n")

    r = sheaf.get("/health")
    assert r.status_code == 503, r.text
    assert_json_ct(r)
    checks = check_health_body(r.json(), "unhealthy")
    assert checks["storage"] != "ok"
    assert isinstance(checks["storage"], str) and checks["storage"].startswith("error"), checks
    assert checks["database"] == "ok", checks
    assert r.headers.get("X-Request-Id")
    # why goes to the log, not to whoever asks
    assert str(sheaf.data_dir) not in r.text, r.text
    sheaf.wait_log(lambda l: "health: storage:" in l and str(objects) in l,
                   what="the storage failure with its path")

    objects.unlink()
    objects.mkdir()
    r = sheaf.get("/health")
    assert r.status_code == 200, f"health did not recover after restoring objects/: {r.text}"
    checks = check_health_body(r.json(), "healthy")
    assert checks["database"] == "ok" and checks["storage"] == "ok", checks


def test_health_database_failure_and_recovery(sheaf):
    db = sheaf.data_dir / "sheaf.db"
    moved = sheaf.data_dir / "sheaf.db.moved"
    sheaf.assert_healthy()
    assert db.is_file(), f"expected the SQLite file at {db}; data dir has {os.listdir(sheaf.data_dir)}"
    os.rename(db, moved)

    r = sheaf.get("/health")
    assert r.status_code == 503, r.text
    checks = check_health_body(r.json(), "unhealthy")
    assert checks["database"] != "ok", checks
    assert isinstance(checks["database"], str) and checks["database"].startswith("error"), checks

    os.rename(moved, db)
    r = sheaf.get("/health")
    assert r.status_code == 200, f"health did not recover after restoring sheaf.db: {r.text}"
    checks = check_health_body(r.json(), "healthy")
    assert checks["database"] == "ok" and checks["storage"] == "ok"
    # and the database is really usable again
    sheaf.create_session()


# --------------------------------------------------------------------------
# router


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/sessionz",
                                  "/api/session/abc/no-such-thing", "/healthz"])
def test_unknown_path_404(shared_sheaf, path):
    r = shared_sheaf.get(path)
    assert_error(r, 404, "not_found")


def test_unknown_path_other_methods_404(shared_sheaf):
    for m in ("POST", "DELETE", "PUT"):
        r = shared_sheaf.request(m, "/definitely/not/here")
        assert_error(r, 404, "not_found")


def test_options_unknown_path_404(shared_sheaf):
    assert_error(shared_sheaf.request("OPTIONS", "/nope"), 404, "not_found")


def test_head_on_post_only_path_405(shared_sheaf):
    r = shared_sheaf.request("HEAD", "/api/session")
    assert r.status_code == 405
    assert r.content == b""
    assert "POST" in allow_set(r)


@pytest.mark.parametrize("path", ["/%ff%fe", "/nope%22q%5Cb", "/%01%02%1b[31m",
                                  "/nope%0Aline2", "/%ed%a0%80", "/%c3%a4%c3"])
def test_error_body_valid_json_for_hostile_paths(shared_sheaf, path):
    # the detail may mention the path; the body must stay valid UTF-8 JSON
    r = shared_sheaf.get(path)
    r.content.decode("utf-8")  # strict
    assert_error(r, 404, "not_found")


def test_head_unknown_path_404_no_body(shared_sheaf):
    r = shared_sheaf.request("HEAD", "/nope")
    assert r.status_code == 404
    assert r.content == b""


@pytest.mark.parametrize("method,path,must,must_not", [
    ("POST", "/health", {"GET"}, {"POST", "DELETE"}),
    ("DELETE", "/health", {"GET"}, {"POST", "DELETE"}),
    ("PUT", "/api/session/some-id", {"GET", "DELETE"}, {"POST", "PUT"}),
    ("POST", "/api/session/some-id", {"GET", "DELETE"}, {"POST", "PUT"}),
    ("PATCH", "/api/session/some-id", {"GET", "DELETE"}, {"POST", "PATCH"}),
    ("DELETE", "/api/session", {"POST"}, {"DELETE"}),
    ("POST", "/api/sessions", {"GET"}, {"POST", "DELETE"}),
    ("POST", "/openapi.json", {"GET"}, {"POST"}),
    ("DELETE", "/docs", {"GET"}, {"DELETE"}),
])
def test_wrong_method_405(shared_sheaf, method, path, must, must_not):
    r = shared_sheaf.request(method, path)
    assert_error(r, 405, "method_not_allowed")
    allowed = allow_set(r)
    assert must <= allowed, (r.headers["Allow"], must)
    assert not (must_not & allowed), (r.headers["Allow"], must_not)


def test_wrong_method_with_body_is_405_not_parsed(shared_sheaf):
    r = shared_sheaf.post("/health", data=b"{broken", headers={"Content-Type": "application/json"})
    assert_error(r, 405, "method_not_allowed")


@pytest.mark.parametrize("path,must,must_not", [
    ("/health", {"GET"}, {"POST", "DELETE"}),
    ("/api/session", {"POST"}, {"DELETE"}),
    ("/api/session/some-id", {"GET", "DELETE"}, {"POST"}),
    ("/api/sessions", {"GET"}, {"POST", "DELETE"}),
    ("/openapi.json", {"GET"}, {"POST"}),
    ("/docs", {"GET"}, {"POST"}),
])
def test_options_known_path(shared_sheaf, path, must, must_not):
    r = shared_sheaf.request("OPTIONS", path)
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.content == b""
    allowed = allow_set(r)
    assert must <= allowed, r.headers["Allow"]
    assert not (must_not & allowed), r.headers["Allow"]
    assert r.headers.get("X-Request-Id")


def test_head_where_get_works(shared_sheaf):
    sid = shared_sheaf.create_session()["session_id"]
    for path in ("/health", "/openapi.json", "/docs", "/api/sessions",
                 f"/api/session/{sid}", "/api/sessions?limit=3"):
        g = shared_sheaf.get(path)
        h = shared_sheaf.request("HEAD", path)
        assert g.status_code == 200, (path, g.status_code)
        assert h.status_code == 200, (path, h.status_code)
        assert h.content == b"", path
        assert h.headers.get("Content-Type", "").split(";")[0] == \
            g.headers.get("Content-Type", "").split(";")[0], path
    h = shared_sheaf.request("HEAD", "/api/session/never-created-xyz")
    assert h.status_code == 404
    assert h.content == b""


# --------------------------------------------------------------------------
# request ids


@pytest.mark.parametrize("rid", ["abc", "A", "req-1.2_3:4", "x" * 128,
                                 "0123456789", "a.b:c-d_e"])
def test_request_id_echoed(shared_sheaf, rid):
    r = shared_sheaf.get("/health", headers={"X-Request-Id": rid})
    assert r.status_code == 200
    assert r.headers.get("X-Request-Id") == rid


def test_request_id_echoed_on_errors(shared_sheaf):
    r = shared_sheaf.get("/nope", headers={"X-Request-Id": "err-trace-1"})
    body = assert_error(r, 404, "not_found")
    assert r.headers["X-Request-Id"] == "err-trace-1"
    assert body["request_id"] == "err-trace-1"


@pytest.mark.parametrize("rid", ["", "x" * 129, "a b", 'a"b', "a\tb", "a;b",
                                 "a/b", "<script>", "ä".encode("utf-8"),
                                 "é".encode("latin-1")],
                         ids=["empty", "129", "space", "quote", "tab", "semicolon",
                              "slash", "angle", "utf8", "latin1"])
def test_request_id_replaced_when_insane(shared_sheaf, rid):
    r = shared_sheaf.get("/health", headers={"X-Request-Id": rid})
    assert r.status_code == 200, r.text
    got = r.headers.get("X-Request-Id")
    assert got, "no X-Request-Id"
    sent = rid.decode("latin-1") if isinstance(rid, bytes) else rid
    assert got != sent
    assert GENERATED_ID_RE.match(got), got


def test_request_id_replaced_on_error_response_too(shared_sheaf):
    r = shared_sheaf.get("/nope", headers={"X-Request-Id": "bad id"})
    body = assert_error(r, 404, "not_found")
    assert r.headers["X-Request-Id"] != "bad id"
    assert GENERATED_ID_RE.match(r.headers["X-Request-Id"])
    assert body["request_id"] == r.headers["X-Request-Id"]


def test_generated_request_ids_distinct(shared_sheaf):
    ids = []
    with requests.Session() as s:
        for _ in range(20):
            r = s.get(shared_sheaf.url + "/health", timeout=30)
            ids.append(r.headers.get("X-Request-Id"))
    for _ in range(10):
        ids.append(shared_sheaf.get("/nope").headers.get("X-Request-Id"))
    assert all(i and GENERATED_ID_RE.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids), ids


# --------------------------------------------------------------------------
# access log (text format)


def _kv(line):
    return dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))


def test_access_log_line_per_request(shared_sheaf):
    rid = "alog-" + uuid.uuid4().hex
    r = shared_sheaf.get("/health", headers={"X-Request-Id": rid})
    assert r.status_code == 200
    line = shared_sheaf.wait_log(lambda l: f"request_id={rid}" in l,
                                 what=f"access log line for {rid}")
    kv = _kv(line)
    assert " request " in f" {line} ", line
    assert kv.get("method") == "GET", line
    assert kv.get("path") == "/health", line
    assert kv.get("status") == "200", line
    assert re.fullmatch(r"\d+", kv.get("bytes", "")), line
    assert re.fullmatch(r"\d+(\.\d+)?", kv.get("duration_ms", "")), line
    assert kv.get("request_id") == rid
    assert "info" in line.split()[:3], line

    # generated id on an error response, and exactly one line per request
    r2 = shared_sheaf.get("/nope-logged")
    gen = r2.headers["X-Request-Id"]
    line2 = shared_sheaf.wait_log(lambda l: f"request_id={gen}" in l,
                                  what=f"access log line for generated id {gen}")
    kv2 = _kv(line2)
    assert kv2.get("status") == "404", line2
    assert kv2.get("path") == "/nope-logged", line2
    assert sum(f"request_id={rid}" in l for l in shared_sheaf.log_lines()) == 1
    assert sum(f"request_id={gen}" in l for l in shared_sheaf.log_lines()) == 1


def test_access_log_cannot_be_forged(shared_sheaf):
    rid = "inject-" + uuid.uuid4().hex[:8]
    r = shared_sheaf.get("/nope%0Dforged-line%0Aforged-line%20level=error",
                         headers={"X-Request-Id": rid})
    assert r.status_code == 404
    shared_sheaf.wait_log(lambda l: rid in l)
    for line in shared_sheaf.log_lines():
        assert re.match(r"^\d{4}-\d{2}-\d{2}T", line), f"log line does not start with a timestamp: {line!r}"
        assert not line.startswith("forged-line"), line
    assert "\r" not in shared_sheaf.log_text()


def test_access_log_has_method_and_status_for_post(shared_sheaf):
    rid = "alog-post-" + uuid.uuid4().hex[:8]
    r = shared_sheaf.post("/api/session", json={}, headers={"X-Request-Id": rid})
    assert r.status_code == 201
    line = shared_sheaf.wait_log(lambda l: f"request_id={rid}" in l)
    kv = _kv(line)
    assert kv.get("method") == "POST" and kv.get("status") == "201", line
    assert kv.get("path") == "/api/session", line


# --------------------------------------------------------------------------
# CORS


@pytest.fixture(scope="module")
def cors_servers(tmp_path_factory):
    f = SheafFactory(tmp_path_factory.mktemp("cors"))
    one = f.start(env={"SHEAF_CORS_ORIGINS": "https://a.example"})
    star = f.start(env={"SHEAF_CORS_ORIGINS": "*"})
    two = f.start(env={"SHEAF_CORS_ORIGINS": "https://a.example,https://b.example"})
    yield one, star, two
    f.finish()


def test_cors_allowed_origin(cors_servers):
    one, _, _ = cors_servers
    r = one.get("/health", headers={"Origin": "https://a.example"})
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "https://a.example"
    # the answer depends on Origin, so shared caches must be told
    assert "origin" in r.headers.get("Vary", "").lower(), dict(r.headers)
    # error responses carry it too (or the browser hides the error body)
    r = one.get("/nope", headers={"Origin": "https://a.example"})
    assert r.status_code == 404
    assert r.headers.get("Access-Control-Allow-Origin") == "https://a.example"
    r = one.post("/api/session", json={}, headers={"Origin": "https://a.example"})
    assert r.status_code == 201
    assert r.headers.get("Access-Control-Allow-Origin") == "https://a.example"


def test_cors_vary_even_when_blocked(cors_servers):
    one, star, _ = cors_servers
    r = one.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    assert "origin" in r.headers.get("Vary", "").lower(), dict(r.headers)
    r = one.get("/health")
    assert "origin" in r.headers.get("Vary", "").lower(), dict(r.headers)
    assert "Vary" not in star.get("/health").headers


def test_not_found_detail_keeps_utf8_at_the_cut(shared_sheaf):
    path = "/" + "a" * 198 + "한국"
    r = shared_sheaf.get(path)
    assert r.status_code == 404
    detail = r.json()["detail"]
    assert "not valid UTF-8" not in detail, detail
    assert "a" * 150 in detail, detail


def test_cors_disallowed_origin(cors_servers):
    one, _, _ = cors_servers
    for origin in ("https://evil.example", "https://a.example.evil.example",
                   "http://a.example", "null"):
        r = one.get("/health", headers={"Origin": origin})
        assert r.status_code == 200
        assert "Access-Control-Allow-Origin" not in r.headers, (origin, dict(r.headers))


def test_cors_preflight(cors_servers):
    one, _, _ = cors_servers
    r = one.request("OPTIONS", "/api/session", headers={
        "Origin": "https://a.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.headers.get("Access-Control-Allow-Origin") == "https://a.example"
    methods = {m.strip().upper() for m in
               r.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert "POST" in methods, dict(r.headers)
    # a browser POSTing JSON asks for content-type; without it the POST is blocked
    allowed_headers = {h.strip().lower() for h in
                       r.headers.get("Access-Control-Allow-Headers", "").split(",")}
    assert "content-type" in allowed_headers or "*" in allowed_headers, dict(r.headers)

    r = one.request("OPTIONS", "/api/session/abc", headers={
        "Origin": "https://a.example",
        "Access-Control-Request-Method": "DELETE"})
    assert r.status_code == 204
    methods = {m.strip().upper() for m in
               r.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert "DELETE" in methods, dict(r.headers)

    r = one.request("OPTIONS", "/api/session", headers={
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers, dict(r.headers)


def test_cors_star(cors_servers):
    _, star, _ = cors_servers
    for origin in ("https://a.example", "https://anything.example", "http://localhost:3000"):
        r = star.get("/health", headers={"Origin": origin})
        assert r.status_code == 200
        assert r.headers.get("Access-Control-Allow-Origin") == "*", dict(r.headers)


def test_cors_origin_list(cors_servers):
    _, _, two = cors_servers
    for origin in ("https://a.example", "https://b.example"):
        r = two.get("/health", headers={"Origin": origin})
        assert r.headers.get("Access-Control-Allow-Origin") == origin, dict(r.headers)
    r = two.get("/health", headers={"Origin": "https://c.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_no_cors_by_default(shared_sheaf):
    for origin in ("https://a.example", "https://evil.example"):
        r = shared_sheaf.get("/health", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in r.headers, dict(r.headers)
        r = shared_sheaf.request("OPTIONS", "/api/session", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in r.headers, dict(r.headers)


# --------------------------------------------------------------------------
# /openapi.json and /docs

REQUIRED_PATHS = {"/health", "/openapi.json", "/docs", "/api/session",
                  "/api/session/{session_id}", "/api/sessions"}
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@pytest.fixture(scope="module")
def openapi_doc(shared_sheaf):
    r = shared_sheaf.get("/openapi.json")
    assert r.status_code == 200, r.text
    assert_json_ct(r)
    return r.json()


def test_openapi_shape(openapi_doc):
    doc = openapi_doc
    assert isinstance(doc.get("openapi"), str) and doc["openapi"].startswith("3.1"), doc.get("openapi")
    assert isinstance(doc.get("paths"), dict)
    missing = REQUIRED_PATHS - set(doc["paths"])
    assert not missing, f"paths missing from OpenAPI: {missing}"
    ops = doc["paths"]["/api/session/{session_id}"]
    assert "get" in ops and "delete" in ops
    assert "post" in doc["paths"]["/api/session"]
    assert "get" in doc["paths"]["/api/sessions"]


def test_openapi_validates(openapi_doc, tmp_path):
    validator = REPO / "node_modules/.bin/validate-api"
    assert validator.exists(), "run `npm ci` (scripts/bootstrap) in the repo root"
    f = tmp_path / "openapi.json"
    f.write_text(json.dumps(openapi_doc))
    p = subprocess.run([str(validator), str(f)], cwd=str(REPO), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, f"validator failed:\n{p.stdout}\n{p.stderr}"
    out = json.loads(p.stdout)
    assert out.get("valid") is True, p.stdout


def test_openapi_no_drift(shared_sheaf, openapi_doc):
    """Everything the document promises is routed."""
    checked = 0
    for path, item in openapi_doc["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            concrete = path
            if "{session_id}" in path:
                concrete = path.replace("{session_id}",
                                        shared_sheaf.create_session()["session_id"])
            if "{file_id}" in path:
                sid = shared_sheaf.create_session()["session_id"]
                up = shared_sheaf.post("/api/files/upload", data={"session_id": sid},
                                       files={"file": ("a.txt", b"hello\n")})
                assert up.status_code == 201, up.text
                concrete = path.replace("{file_id}", up.json()["files"][0]["file_id"])
            if "{dataset_id}" in path or "{token}" in path:
                # A fresh dataset each time: a DELETE may come first.
                up = shared_sheaf.post("/api/datasets/upload",
                                       files={"file": ("d.csv", b"a,b\n1,x\n2,y\n")})
                assert up.status_code == 201, up.text
                did = up.json()["id"]
                concrete = concrete.replace("{dataset_id}", did)
                if "{share_id}" in path or "{token}" in path:
                    sh = shared_sheaf.post(f"/api/datasets/{did}/share", json={})
                    assert sh.status_code == 201, sh.text
                    concrete = concrete.replace("{share_id}", sh.json()["share_id"])
                    concrete = concrete.replace("{token}", sh.json()["share_token"])
            if "{name}" in path:   # a tool
                concrete = concrete.replace("{name}", "dataframe_info")
            if "{model_id}" in path or "{job_id}" in path:
                rows = "".join(f"{i},{i % 3}\n" for i in range(30))
                up = shared_sheaf.post("/api/datasets/upload",
                                       files={"file": ("m.csv", ("x,y\n" + rows).encode())})
                assert up.status_code == 201, up.text
                m = shared_sheaf.post("/api/models", json={
                    "dataset_id": up.json()["id"], "target": "y", "params": {"rounds": 3}})
                assert m.status_code == 202, m.text
                concrete = concrete.replace("{model_id}", m.json()["model_id"])
                concrete = concrete.replace("{job_id}", m.json()["job_id"])
            if "{batch_id}" in path:
                b = shared_sheaf.post("/api/predict/eclo/batch", json={"accidents": []})
                assert b.status_code == 202, b.text
                concrete = concrete.replace("{batch_id}", b.json()["batch_id"])
            assert "{" not in concrete, f"don't know how to fill {path}"
            kw = {}
            if method in ("post", "put", "patch"):
                kw["json"] = {}
            r = shared_sheaf.request(method.upper(), concrete, **kw)
            assert r.status_code != 405, f"{method.upper()} {path} documented but 405"
            assert r.status_code != 404, \
                f"{method.upper()} {path} documented but 404: {r.text[:300]}"
            assert r.status_code < 500, f"{method.upper()} {path}: {r.status_code} {r.text[:300]}"
            checked += 1
    assert checked >= 6


def test_docs_page(shared_sheaf):
    r = shared_sheaf.get("/docs")
    assert r.status_code == 200
    ct = r.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip().lower() == "text/html", ct
    html = r.text
    assert "<html" in html.lower()
    assert "openapi.json" in html
    low = html.lower().replace(" ", "")
    for bad in ('src="http', "src='http", 'href="http', "href='http",
                'src="//', "src='//", 'href="//', "href='//",
                "url(http", "url('http", 'url("http', "url(//"):
        assert bad not in low, f"/docs loads an external resource ({bad!r})"
