"""Black-box harness for the sheaf HTTP server.

Every server a test starts goes through ``Sheaf``: it is launched as a real
process on 127.0.0.1 with an ephemeral port, its stdout+stderr go to a log
file, and at teardown it is stopped with SIGTERM and must exit 0 with a log
free of sanitizer reports.

Requests to /api/* need an access token.  ``srv.get/post/...`` attach one
for a default user that is registered on first use (``srv.user``); pass
``auth=False`` to send none, or use ``srv.new_user()`` for another account
(each ``User`` has the same get/post/... methods, with its own token).

Helpers used by several test files (``assert_error``, ``is_rfc3339`` ...)
live here too and are imported with ``from conftest import ...``.
"""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
SHEAF_BIN = os.environ.get("SHEAF_BIN", str(REPO / "build/san/sheaf"))

LISTEN_RE = re.compile(r"listening on http://([0-9.]+):(\d+)")
SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "runtime error:",
    "UndefinedBehaviorSanitizer",
)
# Auth rate limits are lifted for ordinary tests, which sign up and log in
# many times from 127.0.0.1; tests of the limits set their own values.
TEST_ENV_DEFAULTS = {
    "SHEAF_AUTH_RATE_PER_ADDRESS": "1000000",
    "SHEAF_AUTH_RATE_PER_ACCOUNT": "1000000",
}
TEST_PASSWORD = "Test-password-1234"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 30.0

ERROR_KEYS = {"error", "detail", "timestamp", "request_id"}
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
GENERATED_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,}$")


# --------------------------------------------------------------------------
# environment


def base_env(extra=None, drop=()):
    """os.environ without any SHEAF_* variable (so the developer's shell does
    not leak into the tests), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEAF_")}
    for k in drop:
        env.pop(k, None)
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def sanitizer_reports(text):
    return [m for m in SANITIZER_MARKERS if m in text]


# --------------------------------------------------------------------------
# one server process


class Sheaf:
    def __init__(self, data_dir, workdir, env=None, listen=True,
                 pass_data_dir=True, extra_args=()):
        self.data_dir = Path(data_dir)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / f"sheaf-{time.monotonic_ns()}.log"
        self.extra_env = dict(env or {})
        self.env = base_env({**TEST_ENV_DEFAULTS, **self.extra_env})
        self._user = None
        self._n_users = 0
        args = [SHEAF_BIN, "serve"]
        if listen:
            args += ["--listen", "127.0.0.1:0"]
        if pass_data_dir:
            args += ["--data-dir", str(self.data_dir)]
        args += list(extra_args)
        self.args = args
        self.url = None
        self.host = None
        self.port = None
        self.returncode = None
        self._checked = False
        self._logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                args, cwd=str(self.workdir), env=self.env,
                stdin=subprocess.DEVNULL, stdout=self._logf,
                stderr=subprocess.STDOUT)
        except Exception:
            self._logf.close()
            raise

    # -- startup ----------------------------------------------------------
    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            m = LISTEN_RE.search(self.log_text())
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                self.url = f"http://127.0.0.1:{self.port}"
                return self
            rc = self.proc.poll()
            if rc is not None:
                self._close_log()
                pytest.fail(
                    f"sheaf exited with {rc} before listening; args={self.args}\n"
                    f"--- log ---\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self._close_log()
                pytest.fail(
                    f"sheaf did not log 'listening on' within {timeout}s; "
                    f"args={self.args}\n--- log ---\n{self.log_text()}")
            time.sleep(0.05)

    # -- logs -------------------------------------------------------------
    def log_text(self):
        try:
            return self.log_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_lines(self):
        return [l for l in self.log_text().splitlines() if l.strip()]

    def wait_log(self, predicate, timeout=15.0, what="log line"):
        """Wait until some log line satisfies predicate; return that line.
        (The access log may be written just after the response is sent.)"""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines():
                if predicate(line):
                    return line
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} in the log within {timeout}s\n"
                            f"--- log ---\n{self.log_text()[-6000:]}")
            time.sleep(0.05)

    # -- shutdown ---------------------------------------------------------
    def _close_log(self):
        if not self._logf.closed:
            self._logf.close()

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send ``sig`` and wait for exit; return the exit code.  Idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            return self.wait_exit(timeout, f" of signal {sig!s}")
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=STOP_TIMEOUT, after=""):
        """Wait (without signalling) for the process to exit; return the
        exit code, or fail the test after ``timeout`` seconds."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = "timeout"
            self._close_log()
            pytest.fail(f"sheaf did not exit within {timeout}s{after}\n"
                        f"--- log ---\n{self.log_text()[-6000:]}")
        if self.returncode is None:
            self.returncode = self.proc.returncode
        self._close_log()
        return self.returncode

    def check_clean_exit(self):
        """Stop (if running) and assert exit code 0 and a sanitizer-free log."""
        if self._checked:
            return
        self._checked = True
        rc = self.stop()
        text = self.log_text()
        bad = sanitizer_reports(text)
        assert not bad, (f"sanitizer report(s) {bad} in the server log:\n"
                         f"{text[-12000:]}")
        assert rc == 0, (f"sheaf exited with {rc} after SIGTERM (expected 0)\n"
                         f"--- log ---\n{text[-6000:]}")

    def alive(self):
        return self.proc.poll() is None

    # -- users --------------------------------------------------------------
    def new_user(self, email=None, password=TEST_PASSWORD, name=None):
        """Register and log in a new account; returns a ``User``."""
        self._n_users += 1
        if email is None:
            email = f"user{self._n_users}-{time.monotonic_ns()}@example.com"
        body = {"email": email, "password": password}
        if name is not None:
            body["name"] = name
        r = self.request("POST", "/api/auth/register", json=body, auth=False)
        assert r.status_code == 201, (r.status_code, r.text)
        user = User(self, email, password, r.json())
        user.login()
        return user

    @property
    def user(self):
        """The default user, registered on first use."""
        if self._user is None:
            self._user = self.new_user()
        return self._user

    def adopt_user(self, user):
        """Make ``user``, an account made through an earlier server on the
        same data dir (which keeps the accounts and the signing key, so its
        tokens stay valid), this server's default user.  Returns the
        ``User`` bound to this server."""
        u = User(self, user.email, user.password, user.info)
        u.token, u.refresh = user.token, user.refresh
        self._user = u
        return u

    # -- convenience --------------------------------------------------------
    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def request(self, method, path, auth=True, **kw):
        """``auth``: True adds the default user's token to /api/* requests
        outside /api/auth/; a ``User`` uses that user's; False sends none."""
        kw.setdefault("timeout", 30)
        if auth and path.startswith("/api/") and not path.startswith("/api/auth/"):
            who = self.user if auth is True else auth
            headers = dict(kw.pop("headers", None) or {})
            headers.setdefault("Authorization", f"Bearer {who.token}")
            kw["headers"] = headers
        return requests.request(method, self.url + path, **kw)

    def assert_healthy(self):
        assert self.alive(), f"server died\n--- log ---\n{self.log_text()[-6000:]}"
        r = self.get("/health")
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.json()["status"] == "healthy"

    def create_session(self, session_id=None):
        body = {} if session_id is None else {"session_id": session_id}
        r = self.post("/api/session", json=body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()


class User:
    """An account on one server, with its current tokens."""

    def __init__(self, srv, email, password, info):
        self.srv = srv
        self.email = email
        self.password = password
        self.info = info
        self.id = info["id"]
        self.token = None
        self.refresh = None

    def login(self, password=None):
        r = self.srv.request("POST", "/api/auth/login", auth=False, json={
            "email": self.email, "password": password or self.password})
        assert r.status_code == 200, (r.status_code, r.text)
        self.take(r.json())
        return r.json()

    def take(self, pair):
        self.token = pair["access_token"]
        self.refresh = pair["refresh_token"]

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method, path, **kw):
        return self.srv.request(method, path, auth=self, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def create_session(self, session_id=None):
        body = {} if session_id is None else {"session_id": session_id}
        r = self.post("/api/session", json=body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()


class SheafFactory:
    """Starts servers and guarantees each one is stopped and checked."""

    def __init__(self, tmp_root):
        self.tmp_root = Path(tmp_root)
        self.servers = []
        self._n = 0

    def new_dir(self, name):
        self._n += 1
        p = self.tmp_root / f"{name}-{self._n}"
        p.mkdir(parents=True)
        return p

    def start(self, env=None, data_dir=None, cwd=None, listen=True,
              pass_data_dir=True, extra_args=(), wait=True):
        data_dir = Path(data_dir) if data_dir is not None else self.new_dir("data")
        cwd = Path(cwd) if cwd is not None else self.new_dir("cwd")
        srv = Sheaf(data_dir, cwd, env=env, listen=listen,
                    pass_data_dir=pass_data_dir, extra_args=extra_args)
        self.servers.append(srv)
        if wait:
            srv.wait_ready()
        return srv

    def restart(self, srv, env=None):
        """Stop ``srv`` (must exit 0, sanitizer-clean) and start a new server
        on the same data dir."""
        srv.check_clean_exit()
        return self.start(env=srv.extra_env if env is None else env,
                          data_dir=srv.data_dir)

    def finish(self):
        errors = []
        for srv in self.servers:
            try:
                srv.check_clean_exit()
            except BaseException as e:  # collect, report all
                errors.append(str(e))
        if errors:
            pytest.fail("server teardown problems:\n" + "\n\n".join(errors))


@pytest.fixture
def sheaf_factory(tmp_path):
    f = SheafFactory(tmp_path)
    yield f
    f.finish()


@pytest.fixture
def sheaf(sheaf_factory):
    """A fresh default server for this test only."""
    return sheaf_factory.start()


def serve_on_storage(storage, tmp_path_factory, name, env=None):
    """A module's server on one storage variant (files_helpers.make_storage),
    for a module-scoped fixture to ``yield from``; the storage's directory or
    bucket is removed afterwards."""
    f = SheafFactory(tmp_path_factory.mktemp(f"{name}-{storage.name}"))
    senv = storage.env()
    try:
        yield f.start(env={**senv, **(env or {})})
        f.finish()
    finally:
        storage.remove(senv)


@pytest.fixture(scope="module")
def shared_sheaf(tmp_path_factory):
    """One default server shared by the simple tests of a module."""
    f = SheafFactory(tmp_path_factory.mktemp("shared"))
    srv = f.start()
    yield srv
    f.finish()


# --------------------------------------------------------------------------
# running the binary as a command


def run_sheaf(args, env=None, cwd=None, timeout=30):
    """Run ``sheaf <args>`` to completion; returns CompletedProcess (text).
    Fails the test if it does not finish within ``timeout``."""
    try:
        return subprocess.run([SHEAF_BIN] + list(args), env=base_env(env),
                              cwd=cwd or tempfile.gettempdir(),
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, text=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"sheaf {args} did not finish within {timeout}s "
                    f"(stdout={e.stdout!r}, stderr={e.stderr!r})")


# --------------------------------------------------------------------------
# assertions


def parse_rfc3339(value):
    assert isinstance(value, str), f"timestamp is not a string: {value!r}"
    assert RFC3339_RE.match(value), f"not RFC 3339: {value!r}"
    s = value[:-1] + "+00:00" if value.endswith("Z") else value
    t = dt.datetime.fromisoformat(s)
    assert t.tzinfo is not None
    return t


def assert_recent(value):
    """RFC 3339 and within a day of the local clock (catches epoch / local
    time / garbage bugs without depending on speed)."""
    t = parse_rfc3339(value)
    now = dt.datetime.now(dt.timezone.utc)
    assert abs((now - t).total_seconds()) < 86400, f"timestamp far from now: {value}"
    return t


def assert_json_ct(r):
    ct = r.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip().lower() == "application/json", \
        f"Content-Type {ct!r} for {r.request.method} {r.request.url}"


def assert_error(r, status, code, detail_contains=None):
    """Assert ``r`` is a JSON error of the contract's shape."""
    assert r.status_code == status, (
        f"{r.request.method} {r.request.url}: expected {status} {code}, "
        f"got {r.status_code}: {r.text[:500]}")
    assert_json_ct(r)
    body = r.json()
    assert isinstance(body, dict), body
    assert set(body) == ERROR_KEYS, f"error body keys {sorted(body)}: {body}"
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    assert_recent(body["timestamp"])
    rid = r.headers.get("X-Request-Id")
    assert rid, "no X-Request-Id header on error response"
    assert body["request_id"] == rid, (body["request_id"], rid)
    if detail_contains is not None:
        assert detail_contains.lower() in body["detail"].lower(), \
            f"detail {body['detail']!r} does not mention {detail_contains!r}"
    return body


def allow_set(r):
    allow = r.headers.get("Allow")
    assert allow is not None, f"no Allow header: {dict(r.headers)}"
    return {m.strip().upper() for m in allow.split(",") if m.strip()}


# --------------------------------------------------------------------------
# raw sockets (for requests that `requests` refuses to send)


def raw_exchange(url, payload, timeout=20.0):
    """Send raw bytes, read until the server closes or stops sending.

    Returns the bytes received ('' if the server closed / reset without a
    response).  Fails the test if the server neither answers nor closes
    within ``timeout``."""
    u = urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    chunks = []
    try:
        try:
            s.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                if chunks:  # answered, kept the connection open: fine
                    break
                pytest.fail(f"server neither answered nor closed within "
                            f"{timeout}s for payload {payload[:80]!r}")
            if not data:
                break
            chunks.append(data)
            got = b"".join(chunks)
            # a complete response with Content-Length: stop reading
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep:
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                if m and len(body) >= int(m.group(1)):
                    break
    finally:
        s.close()
    return b"".join(chunks)


def raw_status(resp):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp)
    return int(m.group(1)) if m else None
