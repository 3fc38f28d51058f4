"""Sessions: create, read, list, delete, and request-body validation."""

import json
import re
import socket
import uuid

import pytest
import requests

from conftest import (SheafFactory, assert_error, assert_json_ct, assert_recent,
                      parse_rfc3339, raw_status)

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
    auth = shared_sheaf.user.headers
    r = requests.post(shared_sheaf.url + "/api/session", headers=auth, timeout=30)
    assert "Content-Type" not in r.request.headers and not r.request.body
    b1 = check_created(r)
    r = requests.post(shared_sheaf.url + "/api/session", headers=auth, timeout=30)
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


# --------------------------------------------------------------------------
# ownership: a session belongs to the user who made it


@pytest.fixture(scope="module")
def two_users(shared_sheaf):
    """Two accounts on the shared server, apart from its default user."""
    return shared_sheaf.new_user(), shared_sheaf.new_user()


def test_other_users_session_is_not_found(two_users):
    a, b = two_users
    generated = a.create_session()["session_id"]
    chosen = a.create_session(uid("mine"))["session_id"]
    for sid in (generated, chosen):
        before = a.get(f"/api/session/{sid}")
        assert before.status_code == 200, before.text
        # the same answer as for an id nobody has: no way to tell them apart
        assert_error(b.get(f"/api/session/{sid}"), 404, "not_found")
        assert_error(b.delete(f"/api/session/{sid}"), 404, "not_found")
        assert_error(b.get(f"/api/session/{sid}"), 404, "not_found")
        after = a.get(f"/api/session/{sid}")
        assert after.status_code == 200, f"B's DELETE touched A's session: {after.text}"
        assert after.json() == before.json()
    # A can still delete its own
    assert a.delete(f"/api/session/{chosen}").status_code == 204
    assert_error(a.get(f"/api/session/{chosen}"), 404, "not_found")


def test_same_explicit_id_for_two_users(two_users):
    """Ids are unique per user: B taking an id A uses is 201, not 409, so
    nobody can probe another user's ids."""
    a, b = two_users
    sid = uid("both")
    made_a = check_created(a.post("/api/session", json={"session_id": sid}), sid)
    made_b = check_created(b.post("/api/session", json={"session_id": sid}), sid)
    # each is still 409 against its own
    assert_error(a.post("/api/session", json={"session_id": sid}), 409, "conflict")
    assert_error(b.post("/api/session", json={"session_id": sid}), 409, "conflict")
    ga, gb = a.get(f"/api/session/{sid}").json(), b.get(f"/api/session/{sid}").json()
    assert ga["created_at"] == made_a["created_at"], (ga, made_a)
    assert gb["created_at"] == made_b["created_at"], (gb, made_b)
    # deleting one leaves the other
    assert a.delete(f"/api/session/{sid}").status_code == 204
    assert_error(a.get(f"/api/session/{sid}"), 404, "not_found")
    r = b.get(f"/api/session/{sid}")
    assert r.status_code == 200, r.text
    assert r.json() == gb
    # and A can take the id again
    check_created(a.post("/api/session", json={"session_id": sid}), sid)


def listed_ids(user):
    ids, offset = [], 0
    while True:
        b = user.get("/api/sessions", params={"limit": 100, "offset": offset}).json()
        ids += [s["session_id"] for s in b["sessions"]]
        if len(b["sessions"]) < 100:
            return ids, b["total"]
        offset += 100


def test_list_shows_only_own_sessions(shared_sheaf):
    a, b = shared_sheaf.new_user(), shared_sheaf.new_user()
    shared_sheaf.create_session()  # the default user's, seen by neither
    mine_a = {a.create_session()["session_id"] for _ in range(3)}
    mine_b = {b.create_session()["session_id"] for _ in range(2)}
    both = uid("dup")
    mine_a.add(a.create_session(both)["session_id"])
    mine_b.add(b.create_session(both)["session_id"])

    ids_a, total_a = listed_ids(a)
    ids_b, total_b = listed_ids(b)
    assert sorted(ids_a) == sorted(mine_a) and total_a == 4, (ids_a, total_a)
    assert sorted(ids_b) == sorted(mine_b) and total_b == 3, (ids_b, total_b)
    # the default page reports the same total
    r = a.get("/api/sessions")
    assert r.status_code == 200 and r.json()["total"] == 4, r.text
    # B deleting its copy of the shared id changes only B's list
    assert b.delete(f"/api/session/{both}").status_code == 204
    assert listed_ids(a) == (ids_a, 4)
    ids_b2, total_b2 = listed_ids(b)
    assert sorted(ids_b2) == sorted(mine_b - {both}) and total_b2 == 2


def test_new_user_sees_no_sessions(shared_sheaf):
    shared_sheaf.create_session()
    fresh = shared_sheaf.new_user()
    r = fresh.get("/api/sessions")
    assert r.status_code == 200, r.text
    assert r.json()["sessions"] == [] and r.json()["total"] == 0, r.json()


# --------------------------------------------------------------------------
# every session route needs a token


SESSION_ROUTES = [("POST", "/api/session"), ("GET", "/api/session/{sid}"),
                  ("DELETE", "/api/session/{sid}"), ("GET", "/api/sessions")]
ROUTE_IDS = ["create", "get", "delete", "list"]


def check_401(r, code):
    assert_error(r, 401, code)
    www = r.headers.get("WWW-Authenticate")
    assert www, f"no WWW-Authenticate header on a 401: {dict(r.headers)}"
    assert www.startswith("Bearer ") and 'realm="sheaf"' in www, www
    if code == "invalid_token":  # RFC 6750 section 3.1
        assert 'error="invalid_token"' in www, www


@pytest.fixture(scope="module")
def foreign_token(tmp_path_factory):
    """A well-formed access token signed by another server's key."""
    f = SheafFactory(tmp_path_factory.mktemp("foreign"))
    try:
        yield f.start().user.token
    finally:
        f.finish()


def garbage_tokens(user, foreign):
    head, payload, sig = user.token.split(".")
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    return {
        "garbage": {"Authorization": "Bearer garbage"},
        "empty": {"Authorization": "Bearer "},
        "bad-signature": {"Authorization": f"Bearer {head}.{payload}.{flipped}"},
        "other-server": {"Authorization": f"Bearer {foreign}"},
        "refresh-token": {"Authorization": f"Bearer {user.refresh}"},
        "basic-scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
    }


@pytest.mark.parametrize("method,path", SESSION_ROUTES, ids=ROUTE_IDS)
def test_session_routes_need_a_token(shared_sheaf, foreign_token, method, path):
    owner = shared_sheaf.user
    sid = owner.create_session()["session_id"]
    url = path.format(sid=sid)
    body = {"json": {"session_id": uid("noauth")}} if method == "POST" else {}

    check_401(shared_sheaf.request(method, url, auth=False, **body), "unauthenticated")
    for name, headers in garbage_tokens(owner, foreign_token).items():
        r = shared_sheaf.request(method, url, auth=False, headers=headers, **body)
        try:
            check_401(r, "invalid_token")
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None

    # nothing happened: the session is still there, the chosen id still free
    assert owner.get(f"/api/session/{sid}").status_code == 200
    if method == "POST":
        check_created(owner.post("/api/session", json=body["json"]),
                      body["json"]["session_id"])


def test_401_does_not_reveal_whether_a_session_exists(shared_sheaf):
    sid = shared_sheaf.create_session()["session_id"]
    for method in ("GET", "DELETE"):
        for target in (sid, uid("nobody"), "bad.id"):
            check_401(shared_sheaf.request(method, f"/api/session/{target}", auth=False),
                      "unauthenticated")
            check_401(shared_sheaf.request(method, f"/api/session/{target}", auth=False,
                                           headers={"Authorization": "Bearer x.y.z"}),
                      "invalid_token")
    assert shared_sheaf.get(f"/api/session/{sid}").status_code == 200


@pytest.fixture
def limited_session_server(sheaf_factory):
    return sheaf_factory.start(env={"SHEAF_MAX_BODY": "1K"})


def test_checks_that_come_before_authentication(limited_session_server):
    """Unknown paths, wrong methods and over-long bodies are answered as
    before, without a token (the router and body limit run first)."""
    srv = limited_session_server
    assert_error(srv.get("/api/sessionz", auth=False), 404, "not_found")
    assert_error(srv.get("/api/session/a/b", auth=False), 404, "not_found")
    r = srv.request("PUT", "/api/session", auth=False, json={})
    assert_error(r, 405, "method_not_allowed")
    assert "POST" in r.headers.get("Allow", ""), dict(r.headers)
    r = srv.request("PATCH", "/api/sessions", auth=False)
    assert_error(r, 405, "method_not_allowed")
    big = json.dumps({"pad": "x" * 4000}).encode()
    assert_error(srv.post("/api/session", auth=False, data=big,
                          headers={"Content-Type": "application/json"}),
                 413, "payload_too_large")
    # a small body without a token is a 401, not a parse or validation error
    check_401(srv.post("/api/session", auth=False, data=b"{not json",
                       headers={"Content-Type": "application/json"}), "unauthenticated")
    check_401(srv.post("/api/session", auth=False, json={"session_id": "a.b"}),
              "unauthenticated")


# --------------------------------------------------------------------------
# SHEAF_AUTH=off: one built-in local user, no tokens


def test_auth_off_local_user(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH": "off"})
    sid = uid("local")
    check_created(srv.post("/api/session", auth=False, json={"session_id": sid}), sid)
    generated = check_created(srv.post("/api/session", auth=False))["session_id"]
    r = srv.get(f"/api/session/{sid}", auth=False)
    assert r.status_code == 200, r.text
    assert r.json()["session_id"] == sid
    r = srv.get("/api/sessions", auth=False)
    assert r.status_code == 200, r.text
    assert {s["session_id"] for s in r.json()["sessions"]} == {sid, generated}
    assert r.json()["total"] == 2
    assert_error(srv.post("/api/session", auth=False, json={"session_id": sid}),
                 409, "conflict")

    me = srv.get("/api/users/me", auth=False)
    assert me.status_code == 200, me.text
    assert_json_ct(me)
    assert me.json()["id"] == "local", me.json()

    assert srv.delete(f"/api/session/{generated}", auth=False).status_code == 204
    assert_error(srv.get(f"/api/session/{generated}", auth=False), 404, "not_found")

    # Back with authentication on, the local user's sessions belong to it
    # alone: a token is needed, and a real account does not see them.
    srv2 = sheaf_factory.restart(srv, env={})
    check_401(srv2.get(f"/api/session/{sid}", auth=False), "unauthenticated")
    assert_error(srv2.get(f"/api/session/{sid}"), 404, "not_found")
    assert srv2.get("/api/sessions").json()["total"] == 0
    check_created(srv2.post("/api/session", json={"session_id": sid}), sid)


def test_no_token_is_refused_before_the_body(shared_sheaf):
    """A client without a token is answered from its headers alone: the
    server does not wait for (or hold) the body it announced."""
    u = shared_sheaf.url.split("//")[1]
    host, port = u.split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(b"POST /api/session HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n{")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    assert raw_status(got) == 401, got[:300]
    assert b"unauthenticated" in got or b"WWW-Authenticate" in got, got[:300]
