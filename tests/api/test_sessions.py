"""Sessions: create, read, list, delete, and request-body validation."""

import json
import re
import uuid

import pytest
import requests

from conftest import assert_error, assert_json_ct, assert_recent, parse_rfc3339

SESSION_KEYS = {"session_id", "created_at", "updated_at"}
GET_KEYS = SESSION_KEYS | {"file_count"}
SERVER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,}$")


def uid(prefix="s"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def check_created(r, expected_id=None):
    assert r.status_code == 201, (r.status_code, r.text)
    assert_json_ct(r)
    body = r.json()
    assert set(body) == SESSION_KEYS, body
    if expected_id is None:
        assert SERVER_ID_RE.match(body["session_id"]), body
    else:
        assert body["session_id"] == expected_id, body
    assert_recent(body["created_at"])
    assert_recent(body["updated_at"])
    assert body["created_at"] == body["updated_at"], body
    return body


# --------------------------------------------------------------------------
# create


def test_create_without_body(shared_sheaf):
    r = requests.post(shared_sheaf.url + "/api/session", timeout=30)
    b1 = check_created(r)
    r = requests.post(shared_sheaf.url + "/api/session", timeout=30)
    b2 = check_created(r)
    assert b1["session_id"] != b2["session_id"]


def test_create_with_empty_object(shared_sheaf):
    r = shared_sheaf.post("/api/session", json={})
    check_created(r)


def test_create_with_content_type_but_no_body(shared_sheaf):
    r = shared_sheaf.post("/api/session", data=b"",
                          headers={"Content-Type": "application/json"})
    check_created(r)


def test_create_with_other_content_type_and_empty_body(shared_sheaf):
    r = shared_sheaf.post("/api/session", data=b"",
                          headers={"Content-Type": "text/plain"})
    check_created(r)


def test_generated_ids_distinct(shared_sheaf):
    ids = {shared_sheaf.create_session()["session_id"] for _ in range(15)}
    assert len(ids) == 15


def test_create_explicit_id_then_conflict(shared_sheaf):
    sid = "my-sess_1"
    r = shared_sheaf.post("/api/session", json={"session_id": sid})
    first = check_created(r, sid)
    r = shared_sheaf.post("/api/session", json={"session_id": sid})
    assert_error(r, 409, "conflict")
    # the original is untouched
    g = shared_sheaf.get(f"/api/session/{sid}")
    assert g.status_code == 200
    assert g.json()["created_at"] == first["created_at"]


def test_conflict_with_generated_id(shared_sheaf):
    sid = shared_sheaf.create_session()["session_id"]
    r = shared_sheaf.post("/api/session", json={"session_id": sid})
    assert_error(r, 409, "conflict")


@pytest.mark.parametrize("sid", ["a", "Z", "0", "-", "_", "a" * 64,
                                 "A-b_C-9", "x" * 63 + "-"])
def test_valid_explicit_ids(shared_sheaf, sid):
    r = shared_sheaf.post("/api/session", json={"session_id": sid})
    check_created(r, sid)
    g = shared_sheaf.get(f"/api/session/{sid}")
    assert g.status_code == 200, g.text
    assert g.json()["session_id"] == sid


@pytest.mark.parametrize("sid", ["", "a" * 65, "a b", "ä", "../x", "a/b", "a.b",
                                 "a\nb", "a\u0000b", "x" * 1000, " a", "a ",
                                 "😀", "a%20b", "a?b", "a#b"],
                         ids=["empty", "65", "space", "umlaut", "dotdot", "slash",
                              "dot", "newline", "nul", "1000", "lead-space",
                              "trail-space", "emoji", "percent", "question", "hash"])
def test_invalid_explicit_ids(shared_sheaf, sid):
    r = shared_sheaf.post("/api/session", json={"session_id": sid})
    assert_error(r, 422, "invalid_field", detail_contains="session_id")


def test_invalid_id_raw_utf8(shared_sheaf):
    body = '{"session_id": "ä-raw"}'.encode("utf-8")
    r = shared_sheaf.post("/api/session", data=body,
                          headers={"Content-Type": "application/json"})
    assert_error(r, 422, "invalid_field", detail_contains="session_id")


@pytest.mark.parametrize("value", [42, None, True, False, 1.5, [], ["a"], {}, {"id": "x"}],
                         ids=["int", "null", "true", "false", "float", "emptylist",
                              "list", "emptyobj", "obj"])
def test_wrong_type_session_id(shared_sheaf, value):
    r = shared_sheaf.post("/api/session", json={"session_id": value})
    assert_error(r, 422, "invalid_field", detail_contains="session_id")


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"42", b"null", b"true", b"[{}]",
                                 b'["session_id"]', b"3.5"])
def test_json_not_object(shared_sheaf, raw):
    r = shared_sheaf.post("/api/session", data=raw,
                          headers={"Content-Type": "application/json"})
    assert_error(r, 422, "invalid_field", detail_contains="object")


@pytest.mark.parametrize("raw", [b"{", b'{"session_id": }', b'{"a":1,}', b"nul",
                                 b'{"a" 1}', b"{'a': 1}", b'{"session_id": "x"} extra',
                                 b"\x00\x01", b'{"a": tru}', b'{"a": "unterminated}'])
def test_malformed_json(shared_sheaf, raw):
    r = shared_sheaf.post("/api/session", data=raw,
                          headers={"Content-Type": "application/json"})
    body = assert_error(r, 400, "malformed_json")
    d = body["detail"].lower()
    assert "line" in d and "column" in d, body["detail"]


def test_malformed_json_reports_right_line(shared_sheaf):
    raw = b'{\n  "session_id": "abc",\n  oops: 1\n}\n'
    r = shared_sheaf.post("/api/session", data=raw,
                          headers={"Content-Type": "application/json"})
    body = assert_error(r, 400, "malformed_json")
    m = re.search(r"line (\d+)", body["detail"])
    assert m, body["detail"]
    assert m.group(1) == "3", f"error is on line 3: {body['detail']!r}"
    assert re.search(r"column (\d+)", body["detail"]), body["detail"]


def test_malformed_json_creates_nothing(shared_sheaf):
    sid = uid("mal")
    raw = ('{"session_id": "%s",' % sid).encode()
    r = shared_sheaf.post("/api/session", data=raw,
                          headers={"Content-Type": "application/json"})
    assert_error(r, 400, "malformed_json")
    assert_error(shared_sheaf.get(f"/api/session/{sid}"), 404, "not_found")


@pytest.mark.parametrize("ctype,data", [
    ("text/plain", b'{"session_id": "ct-a"}'),
    ("application/x-www-form-urlencoded", b"session_id=ct-b"),
    ("multipart/form-data; boundary=xyz",
     b'--xyz\r\nContent-Disposition: form-data; name="session_id"\r\n\r\nct-c\r\n--xyz--\r\n'),
    ("application/xml", b"<session_id>ct-d</session_id>"),
    ("application/jsonx", b'{"session_id": "ct-e"}'),
])
def test_unsupported_media_type(shared_sheaf, ctype, data):
    r = shared_sheaf.post("/api/session", data=data, headers={"Content-Type": ctype})
    assert_error(r, 415, "unsupported_media_type")


def test_form_via_requests_is_415(shared_sheaf):
    r = shared_sheaf.post("/api/session", data={"session_id": "form-x"})
    assert_error(r, 415, "unsupported_media_type")
    assert_error(shared_sheaf.get("/api/session/form-x"), 404, "not_found")


def test_json_without_content_type_accepted(shared_sheaf):
    sid = uid("noct")
    r = shared_sheaf.post("/api/session", data=json.dumps({"session_id": sid}).encode())
    assert "Content-Type" not in r.request.headers
    check_created(r, sid)


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8",
                                   "Application/JSON", "application/json;charset=UTF-8"])
def test_json_content_type_variants(shared_sheaf, ctype):
    sid = uid("ctv")
    r = shared_sheaf.post("/api/session", data=json.dumps({"session_id": sid}).encode(),
                          headers={"Content-Type": ctype})
    check_created(r, sid)


def test_unknown_fields_ignored(shared_sheaf):
    sid = uid("extra")
    r = shared_sheaf.post("/api/session", json={"session_id": sid, "foo": 1,
                                                "bar": [1, {"x": None}], "created_at": "1999"})
    body = check_created(r, sid)
    assert not body["created_at"].startswith("1999")
    r = shared_sheaf.post("/api/session", json={"foo": "bar"})
    check_created(r)


def test_whitespace_around_json_ok(shared_sheaf):
    sid = uid("ws")
    r = shared_sheaf.post("/api/session", data=f' \n {{ "session_id" : "{sid}" }} \n'.encode(),
                          headers={"Content-Type": "application/json"})
    check_created(r, sid)


# --------------------------------------------------------------------------
# read


def test_get_session(shared_sheaf):
    created = shared_sheaf.create_session()
    sid = created["session_id"]
    r = shared_sheaf.get(f"/api/session/{sid}")
    assert r.status_code == 200, r.text
    assert_json_ct(r)
    body = r.json()
    assert set(body) == GET_KEYS, body
    assert body["session_id"] == sid
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] == created["updated_at"]
    assert body["file_count"] == 0 and type(body["file_count"]) is int


def test_ids_are_case_sensitive(shared_sheaf):
    check_created(shared_sheaf.post("/api/session", json={"session_id": "CaseTest"}), "CaseTest")
    check_created(shared_sheaf.post("/api/session", json={"session_id": "casetest"}), "casetest")
    assert_error(shared_sheaf.get("/api/session/CASETEST"), 404, "not_found")
    assert shared_sheaf.get("/api/session/CaseTest?x=1&y").json()["session_id"] == "CaseTest"


def test_get_unknown_session(shared_sheaf):
    assert_error(shared_sheaf.get("/api/session/" + uid("never")), 404, "not_found")
    assert_error(shared_sheaf.get("/api/session/" + "z" * 64), 404, "not_found")


@pytest.mark.parametrize("bad", ["a" * 65, "bad%20id", "a.b", "%C3%A4", "a:b", "a'b",
                                 "a%2Bb", "~x"])
def test_get_invalid_id_in_path(shared_sheaf, bad):
    assert_error(shared_sheaf.get(f"/api/session/{bad}"), 400, "invalid_id")


def test_get_nul_in_path_id(shared_sheaf):
    # "nul-victim" exists: an id cut at the NUL must not find it
    shared_sheaf.post("/api/session", json={"session_id": "nul-victim"})
    r = shared_sheaf.get("/api/session/nul-victim%00xyz")
    assert r.status_code == 400, (r.status_code, r.text)
    body = assert_error(r, 400, r.json().get("error"))
    assert body["error"] in ("invalid_id", "bad_request"), body


# --------------------------------------------------------------------------
# list


def test_list_defaults_and_shape(shared_sheaf):
    for _ in range(3):
        shared_sheaf.create_session()
    r = shared_sheaf.get("/api/sessions")
    assert r.status_code == 200, r.text
    assert_json_ct(r)
    body = r.json()
    assert set(body) == {"sessions", "total", "limit", "offset"}, body
    assert body["limit"] == 20 and body["offset"] == 0
    assert type(body["total"]) is int and body["total"] >= 3
    assert isinstance(body["sessions"], list)
    assert len(body["sessions"]) == min(20, body["total"])
    for s in body["sessions"]:
        assert set(s) == GET_KEYS, s
        parse_rfc3339(s["created_at"])
        g = shared_sheaf.get(f"/api/session/{s['session_id']}").json()
        assert g == s


def test_list_explicit_limits(shared_sheaf):
    for _ in range(3):
        shared_sheaf.create_session()
    r = shared_sheaf.get("/api/sessions", params={"limit": 1})
    assert r.status_code == 200
    b = r.json()
    assert b["limit"] == 1 and len(b["sessions"]) == 1
    r = shared_sheaf.get("/api/sessions", params={"limit": 100, "offset": 1})
    assert r.status_code == 200
    b = r.json()
    assert b["limit"] == 100 and b["offset"] == 1
    assert len(b["sessions"]) == min(100, b["total"] - 1)
    r = shared_sheaf.get("/api/sessions", params={"offset": 1000000})
    assert r.status_code == 200
    b = r.json()
    assert b["sessions"] == [] and b["offset"] == 1000000 and b["total"] >= 3


@pytest.mark.parametrize("param,value", [
    ("limit", "0"), ("limit", "101"), ("limit", "abc"), ("limit", "-1"),
    ("limit", "5abc"), ("limit", "1.5"), ("limit", "99999999999999999999999"),
    ("limit", ""), ("offset", "-1"), ("offset", "abc"), ("offset", "1e3"),
    ("offset", "2x"), ("offset", ""),
])
def test_list_invalid_params(shared_sheaf, param, value):
    r = shared_sheaf.get(f"/api/sessions?{param}={value}")
    assert_error(r, 422, "invalid_field", detail_contains=param)


def test_list_order_and_paging(sheaf):
    created = [sheaf.create_session()["session_id"] for _ in range(25)]
    seen = []
    offset = 0
    pages = 0
    while True:
        r = sheaf.get("/api/sessions", params={"limit": 7, "offset": offset})
        assert r.status_code == 200, r.text
        b = r.json()
        assert b["total"] == 25 and b["limit"] == 7 and b["offset"] == offset, b
        if not b["sessions"]:
            break
        assert len(b["sessions"]) == min(7, 25 - offset)
        seen.extend(b["sessions"])
        offset += 7
        pages += 1
        assert pages <= 5, "paging does not terminate"
    ids = [s["session_id"] for s in seen]
    assert len(ids) == 25
    assert sorted(ids) == sorted(created), "paging must visit each session exactly once"
    times = [parse_rfc3339(s["created_at"]) for s in seen]
    assert times == sorted(times, reverse=True), "sessions not newest first"
    # the newest one comes first, the oldest last (distinct timestamps only)
    by_id = {s["session_id"]: parse_rfc3339(s["created_at"]) for s in seen}
    if by_id[created[-1]] > by_id[created[-2]]:
        assert ids[0] == created[-1]
    if by_id[created[0]] < by_id[created[1]]:
        assert ids[-1] == created[0]


# --------------------------------------------------------------------------
# delete


def test_delete_session(shared_sheaf):
    sid = shared_sheaf.create_session()["session_id"]
    total = shared_sheaf.get("/api/sessions").json()["total"]
    r = shared_sheaf.delete(f"/api/session/{sid}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert r.headers.get("X-Request-Id")
    assert_error(shared_sheaf.get(f"/api/session/{sid}"), 404, "not_found")
    assert_error(shared_sheaf.delete(f"/api/session/{sid}"), 404, "not_found")
    assert shared_sheaf.get("/api/sessions").json()["total"] == total - 1


def test_delete_unknown_and_invalid(shared_sheaf):
    assert_error(shared_sheaf.delete("/api/session/" + uid("gone")), 404, "not_found")
    assert_error(shared_sheaf.delete("/api/session/a.b"), 400, "invalid_id")
    assert_error(shared_sheaf.delete("/api/session/" + "a" * 65), 400, "invalid_id")
    assert_error(shared_sheaf.delete("/api/session/bad%20id"), 400, "invalid_id")


def test_delete_only_deletes_target(shared_sheaf):
    a = shared_sheaf.create_session()["session_id"]
    b = shared_sheaf.create_session()["session_id"]
    assert shared_sheaf.delete(f"/api/session/{a}").status_code == 204
    assert shared_sheaf.get(f"/api/session/{b}").status_code == 200
