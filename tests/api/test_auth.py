"""Accounts and tokens: sign-up, login, access-token checks (including
forged tokens), refresh-token rotation and reuse detection, logout, the
caller's own account (/api/users/me), rate limits, concurrency, restarts,
local mode (SHEAF_AUTH=off) and the auth-related configuration errors.

Tokens are crafted here with hmac/hashlib.  Against servers started with a
known SHEAF_JWT_SECRET (the ``keyed`` fixture) a crafted token is signed with
the server's own key, so each rejected case is refused for exactly the
reason named, not merely because its signature is wrong;
``test_crafted_token_with_server_secret_is_accepted`` proves the helper
produces tokens the server accepts.
"""

import base64
import hashlib
import hmac
import json
import secrets
import shutil
import statistics
import stat
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import (GENERATED_ID_RE, TEST_PASSWORD, SheafFactory, User,
                      assert_error, assert_json_ct, assert_recent, run_sheaf)

USER_KEYS = {"id", "email", "name", "created_at", "updated_at"}
PAIR_KEYS = {"access_token", "token_type", "expires_in", "refresh_token"}
REFRESH_CHARS = 43
B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# 32 bytes: the shortest secret SHEAF_JWT_SECRET accepts.
SECRET = secrets.token_urlsafe(24)
assert len(SECRET) == 32


# --------------------------------------------------------------------------
# helpers


def uemail(prefix="u"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def hs(key, signing_input, digest=hashlib.sha256):
    if isinstance(key, str):
        key = key.encode()
    return b64u(hmac.new(key, signing_input.encode(), digest).digest())


def make_token(claims, key, header=None, header_raw=None, payload_raw=None,
               digest=hashlib.sha256, encode=b64u):
    """A JWT signed with HMAC(key); ``header_raw``/``payload_raw`` give the
    exact JSON text, ``encode`` the base64 flavour of the first two parts."""
    h = header_raw if header_raw is not None else compact(
        header if header is not None else {"alg": "HS256", "typ": "JWT"})
    p = payload_raw if payload_raw is not None else compact(claims)
    signing_input = encode(h.encode()) + "." + encode(p.encode())
    return signing_input + "." + hs(key, signing_input, digest)


DROP = object()


def claims_for(user_id, **changes):
    now = int(time.time())
    c = {"sub": user_id, "iat": now, "exp": now + 600,
         "jti": secrets.token_urlsafe(16), "ver": 0}
    for k, v in changes.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def split_token(token):
    h, p, s = token.split(".")
    return json.loads(b64u_decode(h)), json.loads(b64u_decode(p)), s


def me_with(srv, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    return requests.get(srv.url + "/api/users/me", headers=headers, timeout=30)


def me_token(srv, token):
    return me_with(srv, f"Bearer {token}")


def assert_invalid_token(r):
    body = assert_error(r, 401, "invalid_token")
    www = r.headers.get("WWW-Authenticate")
    assert www, f"no WWW-Authenticate header on 401: {dict(r.headers)}"
    assert www.lower().startswith("bearer"), www
    assert "invalid_token" in www, www
    return body


def assert_me(r, user):
    assert r.status_code == 200, (r.status_code, r.text)
    body = r.json()
    assert body["id"] == user.id, body
    return body


def register(srv, email, password=TEST_PASSWORD, **extra):
    body = {"email": email, "password": password, **extra}
    return srv.post("/api/auth/register", json=body, auth=False)


def login(srv, email, password=TEST_PASSWORD):
    return srv.post("/api/auth/login", json={"email": email, "password": password},
                    auth=False)


def refresh(srv, token):
    return srv.post("/api/auth/refresh", json={"refresh_token": token}, auth=False)


def logout(srv, token):
    return srv.post("/api/auth/logout", json={"refresh_token": token}, auth=False)


def assert_pair(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    assert_json_ct(r)
    body = r.json()
    assert set(body) == PAIR_KEYS, body
    assert body["token_type"] == "bearer", body
    assert body["expires_in"] == 900, body
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    rt = body["refresh_token"]
    assert isinstance(rt, str) and len(rt) == REFRESH_CHARS and set(rt) <= B64URL, rt
    assert "no-store" in r.headers.get("Cache-Control", "").lower(), dict(r.headers)
    return body


def assert_no_secrets(r, password):
    text = r.text
    assert "password" not in text.lower(), text
    assert "argon2" not in text.lower(), text
    assert password not in text, text


def start_module_server(tmp_path_factory, name, env):
    f = SheafFactory(tmp_path_factory.mktemp(name))
    return f, f.start(env=env)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """A server whose signing key we know."""
    f, srv = start_module_server(tmp_path_factory, "keyed", {"SHEAF_JWT_SECRET": SECRET})
    yield srv
    f.finish()


@pytest.fixture(scope="module")
def victim(shared_sheaf):
    return shared_sheaf.new_user(email=uemail("victim"))


@pytest.fixture(scope="module")
def other(shared_sheaf):
    return shared_sheaf.new_user(email=uemail("other"))


@pytest.fixture(scope="module")
def keyed_user(keyed):
    return keyed.new_user(email=uemail("keyed"))


# --------------------------------------------------------------------------
# register


def test_register_returns_user_without_secrets(shared_sheaf):
    email = uemail("reg")
    r = register(shared_sheaf, email, name="Ada Lovelace")
    assert r.status_code == 201, (r.status_code, r.text)
    assert_json_ct(r)
    body = r.json()
    assert set(body) == USER_KEYS, body
    assert GENERATED_ID_RE.match(body["id"]), body
    assert body["email"] == email
    assert body["name"] == "Ada Lovelace"
    assert_recent(body["created_at"])
    assert_recent(body["updated_at"])
    assert_no_secrets(r, TEST_PASSWORD)


def test_register_without_name(shared_sheaf):
    r = register(shared_sheaf, uemail("noname"))
    assert r.status_code == 201, (r.status_code, r.text)
    body = r.json()
    assert set(body) == USER_KEYS, body
    assert isinstance(body["name"], str), body


def test_register_ids_are_distinct(shared_sheaf):
    a = register(shared_sheaf, uemail("ida"))
    b = register(shared_sheaf, uemail("idb"))
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert a.json()["id"] != b.json()["id"]


def test_register_normalises_email(shared_sheaf):
    r = register(shared_sheaf, " Kim@Example.COM ")
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.json()["email"] == "kim@example.com"
    assert login(shared_sheaf, "kim@example.com").status_code == 200


def test_register_duplicate_email_other_case_conflicts(shared_sheaf):
    local = f"dup-{uuid.uuid4().hex[:10]}"
    r = register(shared_sheaf, f"{local}@example.com")
    assert r.status_code == 201, r.text
    r = register(shared_sheaf, f"  {local.upper()}@EXAMPLE.com", password="Other-password-99")
    assert_error(r, 409, "conflict")


@pytest.mark.parametrize("password", [
    "Abcdefgh1",                  # 9 characters
    "가나다라마바사아1",              # 9 characters (25 bytes): length is in characters
    "abcdefghijkl",               # only lower-case letters
    "ABCDEFGHIJKL",               # only upper-case letters
    "123456789012",               # only digits
    "Aa1" * 342,                  # 1026 bytes
], ids=["9-chars", "9-chars-multibyte", "all-lower", "all-upper", "all-digits",
        "over-1024-bytes"])
def test_register_password_policy(shared_sheaf, password):
    email = uemail("weak")
    r = register(shared_sheaf, email, password=password)
    body = assert_error(r, 422, "invalid_field")
    assert body["detail"].startswith("password"), body
    assert login(shared_sheaf, email, password).status_code == 401


def test_register_password_equal_to_email(shared_sheaf):
    email = f"Same.{uuid.uuid4().hex[:8]}@Example.com"
    r = register(shared_sheaf, email, password=email)
    body = assert_error(r, 422, "invalid_field")
    assert body["detail"].startswith("password"), body
    # also when the case differs from what was typed
    r = register(shared_sheaf, email, password=email.lower())
    body = assert_error(r, 422, "invalid_field")
    assert body["detail"].startswith("password"), body


@pytest.mark.parametrize("password", [
    "abcdefghi1",                 # 10 characters, two kinds
    "Aa1" * 341 + "A",            # exactly 1024 bytes
], ids=["10-chars-two-kinds", "1024-bytes"])
def test_register_password_boundaries_accepted(shared_sheaf, password):
    email = uemail("okpw")
    r = register(shared_sheaf, email, password=password)
    assert r.status_code == 201, (r.status_code, r.text)
    assert_pair(login(shared_sheaf, email, password))


def test_register_and_login_with_utf8_password(shared_sheaf):
    email = uemail("korean")
    password = "비밀번호는안전해요123"
    r = register(shared_sheaf, email, password=password)
    assert r.status_code == 201, (r.status_code, r.text)
    assert_pair(login(shared_sheaf, email, password))
    r = login(shared_sheaf, email, "비밀번호는안전해요124")
    assert_error(r, 401, "invalid_credentials")


LONG_LOCAL = "a" * 64


@pytest.mark.parametrize("email", [
    "kim.example.com",
    "kim@@example.com",
    "kim@a@example.com",
    "kim@localhost",
    "kim @example.com",
    "kim@exa mple.com",
    "",
    "   ",
    LONG_LOCAL + "@" + ".".join(["b" * 63] * 3) + ".com",     # 260 bytes
    "kim@-example.com",
    "a@.com",
    "@example.com",
    "kim@example.com.",
    "kim@example..com",
], ids=["no-at", "two-at-adjacent", "two-at", "no-dot-in-domain", "space-in-local",
        "space-in-domain", "empty", "blank", "over-254-bytes", "label-starts-with-hyphen",
        "empty-first-label", "empty-local", "trailing-dot", "empty-middle-label"])
def test_register_rejects_bad_email(shared_sheaf, email):
    r = register(shared_sheaf, email)
    body = assert_error(r, 422, "invalid_field")
    assert body["detail"].startswith("email"), body


def test_register_accepts_254_byte_email(shared_sheaf):
    domain = "b" * 63 + "." + "c" * 63 + "." + uuid.uuid4().hex[:8] + "d" * 49 + ".com"
    email = LONG_LOCAL + "@" + domain
    assert len(email) == 254
    r = register(shared_sheaf, email)
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.json()["email"] == email


def test_register_name_length(shared_sheaf):
    r = register(shared_sheaf, uemail("longname"), name="n" * 101)
    body = assert_error(r, 422, "invalid_field")
    assert body["detail"].startswith("name"), body
    # 100 characters is fine, even when they take 300 bytes
    r = register(shared_sheaf, uemail("name100"), name="가" * 100)
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.json()["name"] == "가" * 100


@pytest.mark.parametrize("body,field", [
    ({}, "email"),
    ({"email": "kim-missing@example.com"}, "password"),
    ({"password": TEST_PASSWORD}, "email"),
    ({"email": 5, "password": TEST_PASSWORD}, "email"),
    ({"email": "kim-type@example.com", "password": 1234567890123}, "password"),
    ({"email": "kim-name@example.com", "password": TEST_PASSWORD, "name": 7}, "name"),
], ids=["empty-object", "no-password", "no-email", "email-number", "password-number",
        "name-number"])
def test_register_missing_or_mistyped_fields(shared_sheaf, body, field):
    r = shared_sheaf.post("/api/auth/register", json=body, auth=False)
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith(field), detail


def test_register_non_json_body(shared_sheaf):
    r = shared_sheaf.post("/api/auth/register", data=b'{"email": "a@b.com", "password": ',
                          headers={"Content-Type": "application/json"}, auth=False)
    assert_error(r, 400, "malformed_json")


def test_register_wrong_content_type(shared_sheaf):
    body = compact({"email": uemail("ctype"), "password": TEST_PASSWORD})
    r = shared_sheaf.post("/api/auth/register", data=body.encode(),
                          headers={"Content-Type": "text/plain"}, auth=False)
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("raw", [b"[]", b'"kim@example.com"', b"42", b"null", b"true"])
def test_register_body_not_an_object(shared_sheaf, raw):
    r = shared_sheaf.post("/api/auth/register", data=raw,
                          headers={"Content-Type": "application/json"}, auth=False)
    assert_error(r, 422, "invalid_field")


# --------------------------------------------------------------------------
# login


def test_login_returns_token_pair(shared_sheaf):
    email = uemail("login")
    reg = register(shared_sheaf, email)
    assert reg.status_code == 201, reg.text
    user_id = reg.json()["id"]
    r = login(shared_sheaf, email)
    body = assert_pair(r)
    header, payload, _ = split_token(body["access_token"])
    assert header.get("alg") == "HS256", header
    assert payload["sub"] == user_id, payload
    assert payload["exp"] - payload["iat"] == 900, payload
    assert abs(payload["iat"] - time.time()) < 300, payload
    assert_no_secrets(r, TEST_PASSWORD)
    assert me_token(shared_sheaf, body["access_token"]).json()["id"] == user_id


def test_login_wrong_password_and_unknown_email_look_the_same(shared_sheaf, victim):
    wrong = login(shared_sheaf, victim.email, "Wrong-password-123")
    unknown = login(shared_sheaf, uemail("nobody"), "Wrong-password-123")
    invalid = login(shared_sheaf, "not-an-email", "Wrong-password-123")
    bodies = [assert_error(r, 401, "invalid_credentials") for r in (wrong, unknown, invalid)]
    assert bodies[0]["detail"] == bodies[1]["detail"] == bodies[2]["detail"], bodies
    for r in (wrong, unknown, invalid):
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), \
            dict(r.headers)
    assert wrong.headers.get("WWW-Authenticate") == unknown.headers.get("WWW-Authenticate")


def test_login_email_is_case_insensitive(shared_sheaf, victim):
    local, domain = victim.email.split("@")
    assert_pair(login(shared_sheaf, f"  {local.upper()}@{domain.upper()} "))


def test_login_password_is_case_sensitive(shared_sheaf, victim):
    assert_error(login(shared_sheaf, victim.email, TEST_PASSWORD.upper()), 401,
                 "invalid_credentials")
    assert_error(login(shared_sheaf, victim.email, TEST_PASSWORD + " "), 401,
                 "invalid_credentials")


def test_login_unknown_email_costs_a_hash(shared_sheaf, victim):
    """Unknown emails are checked against a decoy hash, so they take about as
    long as a wrong password (lower bound only: no upper bound is asserted)."""
    def timed(email):
        t = time.perf_counter()
        r = login(shared_sheaf, email, "Wrong-password-123")
        elapsed = time.perf_counter() - t
        assert r.status_code == 401, r.text
        return elapsed

    timed(victim.email)
    timed(uemail("warm"))
    wrong, unknown = [], []
    for _ in range(5):
        wrong.append(timed(victim.email))
        unknown.append(timed(uemail("ghost")))
    assert statistics.median(unknown) >= 0.3 * statistics.median(wrong), (unknown, wrong)


@pytest.mark.parametrize("password", ["!", "", "local", TEST_PASSWORD])
def test_builtin_local_user_cannot_log_in(shared_sheaf, password):
    for email in ("local@localhost", "LOCAL@localhost"):
        r = login(shared_sheaf, email, password)
        assert_error(r, 401, "invalid_credentials")


@pytest.mark.parametrize("body,field", [
    ({"password": TEST_PASSWORD}, "email"),
    ({"email": "kim@example.com"}, "password"),
    ({"email": ["kim@example.com"], "password": TEST_PASSWORD}, "email"),
], ids=["no-email", "no-password", "email-array"])
def test_login_missing_fields(shared_sheaf, body, field):
    r = shared_sheaf.post("/api/auth/login", json=body, auth=False)
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith(field), detail


def test_login_non_json(shared_sheaf):
    r = shared_sheaf.post("/api/auth/login", data=b"email=a&password=b",
                          headers={"Content-Type": "application/json"}, auth=False)
    assert_error(r, 400, "malformed_json")
    r = shared_sheaf.post("/api/auth/login", data=b"email=a&password=b",
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          auth=False)
    assert_error(r, 415, "unsupported_media_type")


# --------------------------------------------------------------------------
# access tokens against a server with a generated key


def test_no_authorization_header(shared_sheaf):
    r = me_with(shared_sheaf, None)
    assert_error(r, 401, "unauthenticated")
    assert r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"), dict(r.headers)


def test_valid_token_and_case_insensitive_scheme(shared_sheaf, victim):
    assert_me(me_token(shared_sheaf, victim.token), victim)
    assert_me(me_with(shared_sheaf, f"bearer {victim.token}"), victim)


def _swap_header(token, header):
    _, p, s = token.split(".")
    return b64u(compact(header)) + "." + p + "." + s


def _flip_signature_bit(token):
    h, p, s = token.split(".")
    raw = bytearray(b64u_decode(s))
    raw[0] ^= 0x01
    return f"{h}.{p}.{b64u(bytes(raw))}"


def _tamper_sub(token, new_sub):
    h, p, s = token.split(".")
    payload = json.loads(b64u_decode(p))
    payload["sub"] = new_sub
    return f"{h}.{b64u(compact(payload))}.{s}"


def _resign(token, key):
    h, p, _ = token.split(".")
    return f"{h}.{p}.{hs(key, h + '.' + p)}"


FORGERIES = {
    "alg-none-empty-signature": lambda t, o: (
        b64u(compact({"alg": "none", "typ": "JWT"})) + "." + t.split(".")[1] + "."),
    "alg-none-original-signature": lambda t, o: _swap_header(t, {"alg": "none", "typ": "JWT"}),
    "alg-HS512": lambda t, o: _swap_header(t, {"alg": "HS512", "typ": "JWT"}),
    "alg-hs256-lowercase": lambda t, o: _swap_header(t, {"alg": "hs256", "typ": "JWT"}),
    "alg-RS256": lambda t, o: _swap_header(t, {"alg": "RS256", "typ": "JWT"}),
    "resigned-with-other-key": lambda t, o: _resign(t, secrets.token_bytes(32)),
    "sub-changed-keeping-signature": lambda t, o: _tamper_sub(t, o.id),
    "signature-bit-flipped": lambda t, o: _flip_signature_bit(t),
    "signature-missing": lambda t, o: t.rsplit(".", 1)[0] + ".",
    "signature-truncated": lambda t, o: t[:-2],
    "signature-padded": lambda t, o: t + "=",
    "signature-std-base64": lambda t, o: (
        t.rsplit(".", 1)[0] + "." + base64.b64encode(b64u_decode(t.rsplit(".", 1)[1])).decode()),
    "plus-slash-in-signature": lambda t, o: t[:-3] + "+/A",
    "invalid-char-in-payload": lambda t, o: t.replace(".", ".!", 1),
    "two-parts": lambda t, o: ".".join(t.split(".")[:2]),
    "four-parts": lambda t, o: t + "." + t.split(".")[2],
    "one-part": lambda t, o: t.split(".")[1],
    "dots-only": lambda t, o: "..",
    "garbage": lambda t, o: "not-a-token",
    "empty": lambda t, o: "",
    "token-with-space-inside": lambda t, o: t.replace(".", " .", 1),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_or_malformed_token_rejected(shared_sheaf, victim, other, name):
    token = FORGERIES[name](victim.token, other)
    assert token != victim.token
    r = me_token(shared_sheaf, token)
    assert_invalid_token(r)
    # the genuine token still works
    assert_me(me_token(shared_sheaf, victim.token), victim)


@pytest.mark.parametrize("authorization", [
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNzd29yZA==",
    "Token {token}",
    "{token}",
    "Bearer " + "a" * 10240,
    "Bearer {token}{token}",
], ids=["bearer-alone", "bearer-empty", "basic", "other-scheme", "no-scheme", "10kb",
        "token-twice"])
def test_bad_authorization_header(shared_sheaf, victim, authorization):
    r = me_with(shared_sheaf, authorization.format(token=victim.token))
    assert_invalid_token(r)


def test_token_of_one_server_fails_on_another(sheaf_factory):
    """Two servers with the same users but their own generated keys do not
    accept each other's tokens."""
    a = sheaf_factory.start()
    user = a.new_user(email=uemail("twin"))
    a_token = user.token
    a.check_clean_exit()
    key_a = (a.data_dir / "signing-key").read_text()

    twin_dir = sheaf_factory.new_dir("twin") / "data"
    shutil.copytree(a.data_dir, twin_dir)
    (twin_dir / "signing-key").unlink()
    b = sheaf_factory.start(data_dir=twin_dir)
    assert (twin_dir / "signing-key").read_text() != key_a
    assert_invalid_token(me_token(b, a_token))
    # same account on b (copied database): b's own token works there
    b_user = User(b, user.email, user.password, user.info)
    b_user.login()
    assert_me(me_token(b, b_user.token), user)
    b.check_clean_exit()

    a2 = sheaf_factory.start(data_dir=a.data_dir)
    assert_me(me_token(a2, a_token), user)
    assert_invalid_token(me_token(a2, b_user.token))


# --------------------------------------------------------------------------
# access tokens signed with the server's own key (SHEAF_JWT_SECRET)


def test_crafted_token_with_server_secret_is_accepted(keyed, keyed_user):
    token = make_token(claims_for(keyed_user.id), SECRET)
    body = assert_me(me_token(keyed, token), keyed_user)
    assert body["email"] == keyed_user.email
    # and the server's own tokens verify with the same key
    h, p, s = keyed_user.token.split(".")
    assert hs(SECRET, f"{h}.{p}") == s


def test_crafted_token_with_past_nbf_is_accepted(keyed, keyed_user):
    token = make_token(claims_for(keyed_user.id, nbf=int(time.time()) - 30), SECRET)
    assert_me(me_token(keyed, token), keyed_user)


def _now():
    return int(time.time())


CLAIM_CASES = {
    "expired": lambda uid: claims_for(uid, iat=_now() - 1000, exp=_now() - 10),
    "expires-before-issued": lambda uid: claims_for(uid, iat=_now() + 30, exp=_now() + 20),
    "missing-sub": lambda uid: claims_for(uid, sub=DROP),
    "missing-iat": lambda uid: claims_for(uid, iat=DROP),
    "missing-exp": lambda uid: claims_for(uid, exp=DROP),
    "missing-jti": lambda uid: claims_for(uid, jti=DROP),
    "missing-ver": lambda uid: claims_for(uid, ver=DROP),
    "exp-string": lambda uid: claims_for(uid, exp=str(_now() + 600)),
    "exp-float": lambda uid: claims_for(uid, exp=_now() + 600.5),
    "exp-null": lambda uid: claims_for(uid, exp=None),
    "iat-string": lambda uid: claims_for(uid, iat=str(_now())),
    "ver-string": lambda uid: claims_for(uid, ver="0"),
    "sub-number": lambda uid: claims_for(uid, sub=12345),
    "sub-empty": lambda uid: claims_for(uid, sub=""),
    "sub-path": lambda uid: claims_for(uid, sub="../" + uid),
    "jti-number": lambda uid: claims_for(uid, jti=7),
    "iat-far-future": lambda uid: claims_for(uid, iat=_now() + 3600, exp=_now() + 7200),
    "nbf-future": lambda uid: claims_for(uid, nbf=_now() + 3600),
    "nbf-string": lambda uid: claims_for(uid, nbf="0"),
    "unknown-sub": lambda uid: claims_for(secrets.token_urlsafe(16)),
    "wrong-ver": lambda uid: claims_for(uid, ver=1),
    "negative-ver": lambda uid: claims_for(uid, ver=-1),
}


@pytest.mark.parametrize("name", sorted(CLAIM_CASES))
def test_signed_token_with_bad_claims_rejected(keyed, keyed_user, name):
    token = make_token(CLAIM_CASES[name](keyed_user.id), SECRET)
    assert_invalid_token(me_token(keyed, token))


def test_signed_token_payload_not_an_object_rejected(keyed, keyed_user):
    for raw in ('["' + keyed_user.id + '"]', '"x"', "{", ""):
        token = make_token(None, SECRET, payload_raw=raw)
        assert_invalid_token(me_token(keyed, token))


def _std_b64(data):
    return base64.b64encode(data).decode()


def _padded_b64u(data):
    return base64.urlsafe_b64encode(data).decode()


def _claims_with_b64_specials(uid):
    """Claims whose base64url payload holds '-' or '_' and needs padding."""
    for i in range(10000):
        # '~' (0x7e) ends in six 1-bits: as the third byte of a group it
        # encodes to '_' ('/' in standard base64)
        c = claims_for(uid, jti=secrets.token_urlsafe(12 + i % 7) + "~~~")
        raw = compact(c).encode()
        enc = b64u(raw)
        if ("-" in enc or "_" in enc) and len(raw) % 3:
            return c
    raise AssertionError("could not build claims")


HEADER_CASES = {
    "alg-none": dict(header={"alg": "none", "typ": "JWT"}),
    "alg-none-no-typ": dict(header={"alg": "none"}),
    "alg-HS512-signed-sha512": dict(header={"alg": "HS512", "typ": "JWT"},
                                    digest=hashlib.sha512),
    "alg-HS384-signed-sha384": dict(header={"alg": "HS384", "typ": "JWT"},
                                    digest=hashlib.sha384),
    "alg-HS512-signed-sha256": dict(header={"alg": "HS512", "typ": "JWT"}),
    "alg-hs256-lowercase": dict(header={"alg": "hs256", "typ": "JWT"}),
    "alg-RS256": dict(header={"alg": "RS256", "typ": "JWT"}),
    "alg-ES256": dict(header={"alg": "ES256", "typ": "JWT"}),
    "alg-missing": dict(header={"typ": "JWT"}),
    "alg-not-string": dict(header={"alg": 256, "typ": "JWT"}),
    "alg-array": dict(header={"alg": ["HS256"], "typ": "JWT"}),
    "duplicate-alg-none-last": dict(header_raw='{"alg":"HS256","alg":"none","typ":"JWT"}'),
    "duplicate-alg-hs256-last": dict(header_raw='{"alg":"none","alg":"HS256","typ":"JWT"}'),
    "duplicate-alg-same": dict(header_raw='{"alg":"HS256","alg":"HS256","typ":"JWT"}'),
    "header-not-object": dict(header_raw='["HS256"]'),
    "header-not-json": dict(header_raw='{"alg":"HS256"'),
    "crit-extension": dict(header={"alg": "HS256", "typ": "JWT", "crit": ["exp"]}),
    "std-base64-padded": dict(encode=_std_b64),
    "padded-base64url": dict(encode=_padded_b64u),
}


@pytest.mark.parametrize("name", sorted(HEADER_CASES))
def test_signed_token_with_bad_header_or_encoding_rejected(keyed, keyed_user, name):
    case = HEADER_CASES[name]
    claims = _claims_with_b64_specials(keyed_user.id)
    token = make_token(claims, SECRET, **case)
    assert_invalid_token(me_token(keyed, token))
    # the same claims, properly encoded and signed, are fine
    assert_me(me_token(keyed, make_token(claims, SECRET)), keyed_user)


def test_keyed_server_rejects_tokens_with_other_key(keyed, keyed_user):
    token = make_token(claims_for(keyed_user.id), secrets.token_urlsafe(24))
    assert_invalid_token(me_token(keyed, token))
    # a key that merely shares a prefix with the real one
    token = make_token(claims_for(keyed_user.id), SECRET[:-1])
    assert_invalid_token(me_token(keyed, token))
    token = make_token(claims_for(keyed_user.id), SECRET + "x")
    assert_invalid_token(me_token(keyed, token))


# --------------------------------------------------------------------------
# refresh and logout


def test_refresh_rotates_the_pair(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("rot"))
    old_access, old_refresh = user.token, user.refresh
    r = refresh(shared_sheaf, old_refresh)
    body = assert_pair(r)
    assert body["refresh_token"] != old_refresh
    assert body["access_token"] != old_access
    assert_me(me_token(shared_sheaf, body["access_token"]), user)
    # the new one rotates again; the old one is spent
    assert_pair(refresh(shared_sheaf, body["refresh_token"]))
    r = refresh(shared_sheaf, old_refresh)
    assert r.status_code == 401, (r.status_code, r.text)


def test_refresh_reuse_revokes_the_family(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("reuse"))
    first = user.refresh
    second = assert_pair(refresh(shared_sheaf, first))["refresh_token"]
    third = assert_pair(refresh(shared_sheaf, second))["refresh_token"]
    # another login of the same user: another family
    other_pair = assert_pair(login(shared_sheaf, user.email))

    r = refresh(shared_sheaf, first)
    assert_error(r, 401, "token_reused")
    # the newest token of that family is dead too
    r = refresh(shared_sheaf, third)
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] in ("invalid_token", "token_reused"), r.text
    r = refresh(shared_sheaf, second)
    assert r.status_code == 401, (r.status_code, r.text)
    # the other family is untouched
    fresh = assert_pair(refresh(shared_sheaf, other_pair["refresh_token"]))
    assert_me(me_token(shared_sheaf, fresh["access_token"]), user)
    assert_pair(refresh(shared_sheaf, fresh["refresh_token"]))


@pytest.mark.parametrize("token", [
    "",
    "short",
    "A" * 42,
    "A" * 44,
    "A" * 42 + "!",
    "A" * 42 + "=",
    "A" * 21 + " " + "A" * 21,
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
], ids=["empty", "short", "42-chars", "44-chars", "bad-char", "padding", "space",
        "jwt-shaped"])
def test_refresh_malformed_token(shared_sheaf, token):
    assert_error(refresh(shared_sheaf, token), 401, "invalid_token")


def test_refresh_unknown_token(shared_sheaf):
    token = b64u(secrets.token_bytes(32))
    assert len(token) == REFRESH_CHARS
    assert_error(refresh(shared_sheaf, token), 401, "invalid_token")


def test_refresh_with_access_token_fails(shared_sheaf, victim):
    assert refresh(shared_sheaf, victim.token).status_code == 401


@pytest.mark.parametrize("path", ["/api/auth/refresh", "/api/auth/logout"])
def test_refresh_and_logout_missing_field(shared_sheaf, path):
    r = shared_sheaf.post(path, json={}, auth=False)
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith("refresh_token"), detail
    r = shared_sheaf.post(path, json={"refresh_token": 12}, auth=False)
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith("refresh_token"), detail
    r = shared_sheaf.post(path, data=b"nope", auth=False,
                          headers={"Content-Type": "application/json"})
    assert_error(r, 400, "malformed_json")


def test_logout_revokes_the_family(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("logout"))
    first = user.refresh
    second = assert_pair(refresh(shared_sheaf, first))["refresh_token"]
    other_pair = assert_pair(login(shared_sheaf, user.email))

    r = logout(shared_sheaf, second)
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.content == b""
    # a logged-out token is revoked, not "reused"
    assert_error(refresh(shared_sheaf, second), 401, "invalid_token")
    r = refresh(shared_sheaf, first)
    assert r.status_code == 401, (r.status_code, r.text)
    # the other login is still signed in
    assert_pair(refresh(shared_sheaf, other_pair["refresh_token"]))


def test_logout_with_an_older_token_of_the_family(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("logout-old"))
    first = user.refresh
    second = assert_pair(refresh(shared_sheaf, first))["refresh_token"]
    r = logout(shared_sheaf, first)
    assert r.status_code in (204, 401), (r.status_code, r.text)
    r = refresh(shared_sheaf, second)
    assert r.status_code == 401, (r.status_code, r.text)


def test_logout_unknown_or_malformed_token(shared_sheaf):
    assert_error(logout(shared_sheaf, b64u(secrets.token_bytes(32))), 401, "invalid_token")
    assert_error(logout(shared_sheaf, "nope"), 401, "invalid_token")


def test_concurrent_refresh_with_one_token(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("race"))
    token = user.refresh
    n = 8
    barrier = threading.Barrier(n)

    def go(_):
        barrier.wait()
        return refresh(shared_sheaf, token)

    with ThreadPoolExecutor(n) as ex:
        results = list(ex.map(go, range(n)))
    statuses = sorted(r.status_code for r in results)
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) <= 1, statuses
    losers = [r for r in results if r.status_code != 200]
    for r in losers:
        assert r.status_code == 401, statuses
        assert r.json()["error"] in ("token_reused", "invalid_token"), r.text
    assert any(r.json()["error"] == "token_reused" for r in losers), \
        [r.text for r in losers]
    if winners:
        new = winners[0].json()["refresh_token"]
        r = refresh(shared_sheaf, new)
        assert r.status_code == 401, ("the winner's token survived reuse detection",
                                      r.status_code, r.text)
    shared_sheaf.assert_healthy()


# --------------------------------------------------------------------------
# /api/users/me


def test_me_get(shared_sheaf):
    email = uemail("me")
    user = shared_sheaf.new_user(email=email, name="Me Myself")
    r = user.get("/api/users/me")
    assert r.status_code == 200, r.text
    assert_json_ct(r)
    body = r.json()
    assert set(body) == USER_KEYS, body
    assert body["id"] == user.id
    assert body["email"] == email
    assert body["name"] == "Me Myself"
    assert body["created_at"] == user.info["created_at"]
    assert_no_secrets(r, TEST_PASSWORD)


def test_me_patch_name(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("rename"), name="Before")
    r = user.patch("/api/users/me", json={"name": "After Name"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == USER_KEYS, body
    assert body["name"] == "After Name"
    assert body["email"] == user.email
    assert body["id"] == user.id
    assert body["created_at"] == user.info["created_at"]
    assert_recent(body["updated_at"])
    assert user.get("/api/users/me").json()["name"] == "After Name"


@pytest.mark.parametrize("body,field", [
    ({"name": "n" * 101}, "name"),
    ({"name": 5}, "name"),
    ({"email": "no-at-sign"}, "email"),
    ({"email": "kim@localhost"}, "email"),
    ({"nickname": "x"}, "nickname"),
    ({"password": "New-password-123"}, "password"),
    ({"id": "someone-else"}, "id"),
    ({"name": "ok", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
], ids=["name-too-long", "name-number", "email-invalid", "email-no-dot", "unknown-field",
        "password-field", "id-field", "created-at-field"])
def test_me_patch_invalid(shared_sheaf, victim, body, field):
    before = victim.get("/api/users/me").json()
    r = victim.patch("/api/users/me", json=body)
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith(field), detail
    assert victim.get("/api/users/me").json() == before


def test_me_patch_not_an_object(shared_sheaf, victim):
    r = victim.patch("/api/users/me", data=b"[]", headers={
        **victim.headers, "Content-Type": "application/json"})
    assert_error(r, 422, "invalid_field")


def test_me_patch_email(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("move"))
    old = user.email
    new_local = f"moved-{uuid.uuid4().hex[:8]}"
    r = user.patch("/api/users/me", json={"email": f"  {new_local.upper()}@Example.ORG "})
    assert r.status_code == 200, r.text
    new = f"{new_local}@example.org"
    assert r.json()["email"] == new
    assert user.get("/api/users/me").json()["email"] == new
    assert_pair(login(shared_sheaf, new))
    assert_error(login(shared_sheaf, old), 401, "invalid_credentials")
    # the old address is free again
    r = register(shared_sheaf, old)
    assert r.status_code == 201, r.text


def test_me_patch_email_to_own_address_in_other_case(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("same"))
    r = user.patch("/api/users/me", json={"email": user.email.upper()})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == user.email


def test_me_patch_email_taken(shared_sheaf, victim):
    user = shared_sheaf.new_user(email=uemail("taker"))
    r = user.patch("/api/users/me", json={"email": victim.email.upper()})
    assert_error(r, 409, "conflict")
    assert user.get("/api/users/me").json()["email"] == user.email
    # all or nothing: a name in the same request is not applied either
    r = user.patch("/api/users/me", json={"name": "Half", "email": victim.email})
    assert_error(r, 409, "conflict")
    assert user.get("/api/users/me").json()["name"] != "Half"
    assert_pair(login(shared_sheaf, victim.email))


def test_change_password_wrong_current(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("pwwrong"))
    r = user.post("/api/users/me/password", json={
        "current_password": "Not-the-password-1", "new_password": "Brand-new-pass-42"})
    assert_error(r, 403, "invalid_credentials")
    assert_me(user.get("/api/users/me"), user)
    assert_pair(login(shared_sheaf, user.email))
    assert_error(login(shared_sheaf, user.email, "Brand-new-pass-42"), 401,
                 "invalid_credentials")


@pytest.mark.parametrize("new", ["short1A", "alllowercaseletters", "1234567890123"],
                         ids=["too-short", "one-kind-letters", "one-kind-digits"])
def test_change_password_weak_new(shared_sheaf, victim, new):
    r = victim.post("/api/users/me/password", json={
        "current_password": TEST_PASSWORD, "new_password": new})
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith("new_password"), detail
    assert_me(victim.get("/api/users/me"), victim)


def test_change_password_new_equal_to_email(shared_sheaf):
    email = f"Pw.Mail-{uuid.uuid4().hex[:6]}@example.com"
    user = shared_sheaf.new_user(email=email)
    r = user.post("/api/users/me/password", json={
        "current_password": TEST_PASSWORD, "new_password": email.lower()})
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith("new_password"), detail


@pytest.mark.parametrize("body,field", [
    ({"new_password": "Brand-new-pass-42"}, "current_password"),
    ({"current_password": TEST_PASSWORD}, "new_password"),
    ({"current_password": TEST_PASSWORD, "new_password": "Brand-new-pass-42",
      "email": "x@example.com"}, "email"),
], ids=["no-current", "no-new", "extra-field"])
def test_change_password_bad_body(shared_sheaf, victim, body, field):
    r = victim.post("/api/users/me/password", json=body)
    detail = assert_error(r, 422, "invalid_field")["detail"]
    assert detail.startswith(field), detail
    assert_me(victim.get("/api/users/me"), victim)


def test_change_password_needs_a_token(shared_sheaf):
    r = shared_sheaf.post("/api/users/me/password", auth=False, json={
        "current_password": TEST_PASSWORD, "new_password": "Brand-new-pass-42"})
    assert_error(r, 401, "unauthenticated")


def test_change_password_success_revokes_everything_earlier(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("pwchange"))
    first = {"access": user.token, "refresh": user.refresh}
    rotated = assert_pair(refresh(shared_sheaf, first["refresh"]))
    second = assert_pair(login(shared_sheaf, user.email))
    third = assert_pair(login(shared_sheaf, user.email))
    new_password = "Brand-new-pass-42"

    r = requests.post(shared_sheaf.url + "/api/users/me/password", timeout=30,
                      headers={"Authorization": f"Bearer {second['access_token']}"},
                      json={"current_password": TEST_PASSWORD, "new_password": new_password})
    pair = assert_pair(r)
    assert_no_secrets(r, new_password)
    assert_me(me_token(shared_sheaf, pair["access_token"]), user)

    for access in (first["access"], rotated["access_token"], second["access_token"],
                   third["access_token"]):
        assert_invalid_token(me_token(shared_sheaf, access))
    for old in (first["refresh"], rotated["refresh_token"], second["refresh_token"],
                third["refresh_token"]):
        r = refresh(shared_sheaf, old)
        assert r.status_code == 401, (r.status_code, r.text)

    assert_error(login(shared_sheaf, user.email), 401, "invalid_credentials")
    again = assert_pair(login(shared_sheaf, user.email, new_password))
    assert_me(me_token(shared_sheaf, again["access_token"]), user)
    # the pair handed out by the change keeps working and rotates
    rotated2 = assert_pair(refresh(shared_sheaf, pair["refresh_token"]))
    assert_me(me_token(shared_sheaf, rotated2["access_token"]), user)


# --------------------------------------------------------------------------
# ownership


def test_each_user_sees_only_their_own_account(shared_sheaf):
    a = shared_sheaf.new_user(email=uemail("own-a"), name="Alice")
    b = shared_sheaf.new_user(email=uemail("own-b"), name="Bob")
    ra, rb = a.get("/api/users/me").json(), b.get("/api/users/me").json()
    assert ra["id"] == a.id and ra["email"] == a.email and ra["name"] == "Alice"
    assert rb["id"] == b.id and rb["email"] == b.email and rb["name"] == "Bob"
    assert a.id != b.id
    r = b.patch("/api/users/me", json={"name": "Bob Two"})
    assert r.status_code == 200 and r.json()["id"] == b.id, r.text
    assert a.get("/api/users/me").json()["name"] == "Alice"
    # B changing its password does not affect A's tokens
    r = b.post("/api/users/me/password", json={
        "current_password": TEST_PASSWORD, "new_password": "Bobs-new-pass-77"})
    assert r.status_code == 200, r.text
    assert_me(a.get("/api/users/me"), a)
    assert_pair(refresh(shared_sheaf, a.refresh))


# --------------------------------------------------------------------------
# rate limits


def assert_rate_limited(r, window=60):
    assert_error(r, 429, "rate_limited")
    retry = r.headers.get("Retry-After")
    assert retry is not None, dict(r.headers)
    assert retry.isdigit(), retry
    assert 1 <= int(retry) <= window, retry


def test_rate_limit_per_address(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH_RATE_PER_ADDRESS": "5",
                                   "SHEAF_AUTH_RATE_WINDOW": "60"})
    for i in range(5):
        r = login(srv, uemail(f"rl{i}"), "Wrong-password-123")
        assert_error(r, 401, "invalid_credentials")
    assert_rate_limited(login(srv, uemail("rl5"), "Wrong-password-123"))
    assert_rate_limited(register(srv, uemail("rl-reg")))
    assert_rate_limited(refresh(srv, b64u(secrets.token_bytes(32))))
    srv.assert_healthy()


def test_rate_limit_applies_to_register(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH_RATE_PER_ADDRESS": "3",
                                   "SHEAF_AUTH_RATE_WINDOW": "60"})
    emails = [uemail(f"many{i}") for i in range(4)]
    for email in emails[:3]:
        assert register(srv, email).status_code == 201
    assert_rate_limited(register(srv, emails[3]))
    # the refused sign-up created nothing (a login would say so, but logins
    # are limited too; the account count is checked after a restart)
    srv2 = sheaf_factory.restart(srv)
    assert_error(login(srv2, emails[3]), 401, "invalid_credentials")
    assert_pair(login(srv2, emails[0]))


def test_rate_limit_per_account(sheaf_factory):
    env = {"SHEAF_AUTH_RATE_PER_ADDRESS": "1000", "SHEAF_AUTH_RATE_PER_ACCOUNT": "3",
           "SHEAF_AUTH_RATE_WINDOW": "60"}
    srv = sheaf_factory.start(env=env)
    a, b = uemail("acct-a"), uemail("acct-b")
    assert register(srv, a).status_code == 201
    assert register(srv, b).status_code == 201
    # signing up is counted apart: the new account still has all 3 failures
    for _ in range(3):
        assert_error(login(srv, a, "Wrong-password-123"), 401, "invalid_credentials")
    assert_rate_limited(login(srv, a))
    assert_rate_limited(login(srv, a.upper()))
    # another account is unaffected
    assert_pair(login(srv, b))
    assert_pair(login(srv, b))


def test_sign_ups_per_email_are_limited(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH_RATE_PER_ADDRESS": "1000",
                                   "SHEAF_AUTH_RATE_PER_ACCOUNT": "3"})
    email = uemail("signup")
    assert register(srv, email).status_code == 201
    for _ in range(2):
        assert_error(register(srv, email), 409, "conflict")
    assert_rate_limited(register(srv, email))
    assert_pair(login(srv, email))


def test_rate_limit_window_lifts(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH_RATE_PER_ADDRESS": "1",
                                   "SHEAF_AUTH_RATE_WINDOW": "1"})
    # refreshes count too, and need no password hash: both requests below
    # land well inside one 1-second window
    assert_error(refresh(srv, b64u(secrets.token_bytes(32))), 401, "invalid_token")
    assert_rate_limited(login(srv, uemail("w2"), "Wrong-password-123"), window=1)
    time.sleep(1.5)
    assert_error(login(srv, uemail("w3"), "Wrong-password-123"), 401, "invalid_credentials")


# --------------------------------------------------------------------------
# concurrency


def test_concurrent_logins_of_one_user(shared_sheaf):
    user = shared_sheaf.new_user(email=uemail("crowd"))
    n = 10
    barrier = threading.Barrier(n)

    def go(_):
        barrier.wait()
        return login(shared_sheaf, user.email)

    with ThreadPoolExecutor(n) as ex:
        results = list(ex.map(go, range(n)))
    pairs = [assert_pair(r) for r in results]
    assert len({p["access_token"] for p in pairs}) == n
    assert len({p["refresh_token"] for p in pairs}) == n
    for p in pairs:
        assert_me(me_token(shared_sheaf, p["access_token"]), user)
    for p in pairs[:3]:
        assert_pair(refresh(shared_sheaf, p["refresh_token"]))


def test_concurrent_register_same_email(shared_sheaf):
    email = uemail("race-reg")
    n = 10
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        return register(shared_sheaf, email, password=f"Race-password-{i:02d}")

    with ThreadPoolExecutor(n) as ex:
        results = list(ex.map(go, range(n)))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] + [409] * (n - 1), [r.text for r in results]
    for r in results:
        if r.status_code == 409:
            assert_error(r, 409, "conflict")
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    # the account has the winner's password and no other
    assert_pair(login(shared_sheaf, email, f"Race-password-{winner:02d}"))
    loser = (winner + 1) % n
    assert_error(login(shared_sheaf, email, f"Race-password-{loser:02d}"), 401,
                 "invalid_credentials")


# --------------------------------------------------------------------------
# restarts


def test_restart_keeps_users_passwords_and_key(sheaf_factory):
    srv = sheaf_factory.start()
    user = srv.new_user(email=uemail("persist"))
    key_path = srv.data_dir / "signing-key"
    assert key_path.is_file()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600, oct(key_path.stat().st_mode)
    key = key_path.read_text()
    assert len(key.strip()) == 64 and all(c in "0123456789abcdefABCDEF" for c in key.strip())
    access, refresh_token = user.token, user.refresh

    srv2 = sheaf_factory.restart(srv)
    assert key_path.read_text() == key
    assert_me(me_token(srv2, access), user)
    assert_pair(refresh(srv2, refresh_token))
    assert_pair(login(srv2, user.email))
    assert_error(login(srv2, user.email, "Wrong-password-123"), 401, "invalid_credentials")
    # the email stays taken
    assert_error(register(srv2, user.email.upper()), 409, "conflict")


def test_restart_with_jwt_secret(sheaf_factory):
    env = {"SHEAF_JWT_SECRET": SECRET}
    srv = sheaf_factory.start(env=env)
    user = srv.new_user(email=uemail("secret"))
    assert not (srv.data_dir / "signing-key").exists(), \
        sorted(p.name for p in srv.data_dir.iterdir())
    h, p, s = user.token.split(".")
    assert hs(SECRET, f"{h}.{p}") == s, "token not signed with SHEAF_JWT_SECRET"
    srv2 = sheaf_factory.restart(srv)
    assert not (srv2.data_dir / "signing-key").exists()
    assert_me(me_token(srv2, user.token), user)
    assert_me(me_token(srv2, make_token(claims_for(user.id), SECRET)), user)


def test_restart_with_other_jwt_secret_invalidates_tokens(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_JWT_SECRET": SECRET})
    user = srv.new_user(email=uemail("rotate-key"))
    srv2 = sheaf_factory.restart(srv, env={"SHEAF_JWT_SECRET": "y" * 40})
    assert_invalid_token(me_token(srv2, user.token))
    # tokens the new server issues work there
    assert_me(me_token(srv2, make_token(claims_for(user.id), "y" * 40)), user)


# --------------------------------------------------------------------------
# local mode (SHEAF_AUTH=off)


def test_auth_off_acts_as_local_user(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH": "off"})
    r = me_with(srv, None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "local", body
    assert body["email"] == "local@localhost", body
    assert_no_secrets(r, "!")
    # a junk Authorization header changes nothing
    assert me_with(srv, "Bearer junk").json()["id"] == "local"
    # and the local user still cannot log in
    assert_error(login(srv, "local@localhost", "!"), 401, "invalid_credentials")


def test_auth_off_refused_on_public_address(tmp_path):
    r = run_sheaf(["serve", "--listen", "0.0.0.0:0", "--data-dir", str(tmp_path / "d")],
                  env={"SHEAF_AUTH": "off"})
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "SHEAF_AUTH_OFF_FORCE" in r.stdout + r.stderr, (r.stdout, r.stderr)


def test_auth_off_forced_on_public_address(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_AUTH": "off", "SHEAF_AUTH_OFF_FORCE": "yes"},
                              listen=False, extra_args=["--listen", "0.0.0.0:0"])
    assert srv.host == "0.0.0.0", srv.host
    r = me_with(srv, None)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == "local"
    srv.check_clean_exit()


# --------------------------------------------------------------------------
# configuration errors


@pytest.mark.parametrize("secret", ["short-secret-VALUE-xyzzy", "k" * 31],
                         ids=["short", "31-bytes"])
def test_short_jwt_secret_refused(tmp_path, secret):
    r = run_sheaf(["serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d")],
                  env={"SHEAF_JWT_SECRET": secret})
    out = r.stdout + r.stderr
    assert r.returncode == 2, (r.returncode, out)
    assert "SHEAF_JWT_SECRET" in out, out
    assert secret not in out, out


def test_redis_cache_url_refused(tmp_path):
    r = run_sheaf(["serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d")],
                  env={"SHEAF_CACHE_URL": "redis://x"})
    out = r.stdout + r.stderr
    assert r.returncode == 2, (r.returncode, out)
    assert "not available in this build" in out, out
    assert "SHEAF_CACHE_URL" in out, out


def test_rate_limit_per_account_holds_for_simultaneous_guesses(sheaf_factory):
    """Guesses sent all at once cannot slip past the per-account limit while
    the first ones are still being hashed: each counts before its check."""
    srv = sheaf_factory.start(env={"SHEAF_AUTH_RATE_PER_ADDRESS": "1000",
                                   "SHEAF_AUTH_RATE_PER_ACCOUNT": "5"})
    email = uemail("burst")
    assert register(srv, email).status_code == 201
    n = 20
    barrier = threading.Barrier(n)

    def guess(_):
        barrier.wait()
        return login(srv, email, "Wrong-password-123").status_code

    with ThreadPoolExecutor(n) as pool:
        codes = list(pool.map(guess, range(n)))
    assert codes.count(401) <= 5, codes
    assert codes.count(429) >= n - 5, codes
