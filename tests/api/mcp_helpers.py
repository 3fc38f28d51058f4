"""Helpers for the MCP tests (tests/api/test_mcp*.py).

- ``StdioMcp``: ``sheaf mcp`` as a subprocess spoken to in raw JSON-RPC
  lines; every stdout line is kept and must parse as a JSON-RPC message, and
  at the end the process must exit 0 with a sanitizer-free stderr;
- ``post`` / ``modern_post`` / ``LegacySession``: raw Streamable HTTP
  requests to /mcp of a ``sheaf serve`` (conftest.Sheaf), with the
  2026-07-28 headers built from the body, or a 2025-11-25 session;
- ``run_client``: the official TypeScript SDK clients (tests/mcp/client_v1.mjs,
  client_v2.mjs) driven by a JSON plan, for the SDK tests;
- ``import_dataset``: ``sheaf import`` into a data dir for the stdio tests;
- the real Daegu files read with pandas, independently of sheaf.
"""

import base64
import json
import queue
import re
import subprocess
import threading
import time

import pandas as pd
import pytest
import requests

from conftest import REPO, SHEAF_BIN, base_env, sanitizer_reports
from datasets_helpers import CCTV_CSV, TEST_CSV

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
V_KEY = "io.modelcontextprotocol/protocolVersion"
CAPS_KEY = "io.modelcontextprotocol/clientCapabilities"
INFO_KEY = "io.modelcontextprotocol/clientInfo"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"

NODE = REPO / "node_modules" / ".bin" / "node"
CLIENTS = {1: REPO / "tests" / "mcp" / "client_v1.mjs", 2: REPO / "tests" / "mcp" / "client_v2.mjs"}

# Codes (2026-07-28 basic/index and schema).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
HEADER_MISMATCH = -32020
UNSUPPORTED_VERSION = -32022
RESOURCE_NOT_FOUND_2025 = -32002


def meta(**extra):
    m = {V_KEY: MODERN, CAPS_KEY: {}, INFO_KEY: {"name": "sheaf-tests", "version": "1"}}
    m.update(extra)
    return m


# A statement that never ends on its own: a time limit or a cancellation
# stops it.
ENDLESS_SQL = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
               "SELECT count(*) FROM c")


def req(method, id=1, params=None, modern=True, **meta_extra):
    """A request; modern ones carry the 2026-07-28 _meta."""
    p = dict(params or {})
    if modern:
        p["_meta"] = {**meta(**meta_extra), **p.get("_meta", {})}
    msg = {"jsonrpc": "2.0", "id": id, "method": method}
    if p or not modern:
        msg["params"] = p
    return msg


def initialize(id=0, version=LEGACY):
    return {"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "sheaf-tests", "version": "1"}}}


def error_code(msg):
    assert "error" in msg, f"expected an error response, got {json.dumps(msg)[:1500]}"
    assert "result" not in msg, msg
    return msg["error"]["code"]


def result_of(msg):
    assert "result" in msg and "error" not in msg, \
        f"expected a result, got {json.dumps(msg, ensure_ascii=False)[:1500]}"
    return msg["result"]


def check_message(msg):
    """A JSON-RPC 2.0 message as the server may send it."""
    assert isinstance(msg, dict) and msg.get("jsonrpc") == "2.0", msg
    if "method" in msg:
        assert "id" not in msg, f"the server sent a request: {msg}"   # sheaf never asks
        assert msg["method"] == "notifications/progress", msg
    else:
        assert "id" in msg and (("result" in msg) != ("error" in msg)), msg
        if "error" in msg:
            e = msg["error"]
            assert isinstance(e.get("code"), int) and isinstance(e.get("message"), str), msg
    return msg


# --------------------------------------------------------------------------
# stdio


class StdioMcp:
    """``sheaf mcp`` over pipes.  Lines are read by a thread; ``lines`` keeps
    every one, ``messages`` the parsed ones."""

    def __init__(self, data_dir, env=None, args=()):
        self.args = [SHEAF_BIN, "mcp", "--data-dir", str(data_dir), *args]
        self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=base_env(env))
        self.lines = []
        self.messages = []
        self._q = queue.Queue()
        self._err = []
        self._t_out = threading.Thread(target=self._read_out, daemon=True)
        self._t_err = threading.Thread(target=self._read_err, daemon=True)
        self._t_out.start()
        self._t_err.start()
        self.pending = []        # messages received but not yet taken
        self.returncode = None

    def _read_out(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            try:
                msg = json.loads(line)
            except ValueError:
                msg = {"unparsable": line}
            self.messages.append(msg)
            self._q.put(msg)
        self._q.put(None)

    def _read_err(self):
        for raw in self.proc.stderr:
            self._err.append(raw.decode("utf-8", "replace"))

    @property
    def stderr(self):
        return "".join(self._err)

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg):
        self.send_raw(json.dumps(msg, ensure_ascii=False).encode() + b"\n")

    def next(self, timeout=60):
        """The next message not yet taken (None when stdout ended)."""
        if self.pending:
            return self.pending.pop(0)
        try:
            return self._q.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no message from sheaf mcp within {timeout}s\n--- stderr ---\n"
                        f"{self.stderr[-4000:]}")

    def wait_for(self, pred, timeout=60, what="message"):
        """The first message satisfying pred; the others are kept for later."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            for i, m in enumerate(self.pending):
                if m is not None and pred(m):
                    return self.pending.pop(i)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"no {what} within {timeout}s; got {skipped}\n--- stderr ---\n"
                                f"{self.stderr[-4000:]}")
                try:
                    m = self._q.get(timeout=left)
                except queue.Empty:
                    continue
                if m is None:
                    pytest.fail(f"sheaf mcp closed stdout before the {what}; got {skipped}\n"
                                f"--- stderr ---\n{self.stderr[-4000:]}")
                if pred(m):
                    return m
                skipped.append(m)
        finally:
            self.pending.extend(skipped)

    def response(self, id, timeout=60):
        return check_message(self.wait_for(lambda m: m.get("id") == id and "method" not in m,
                                           timeout, f"response to id {id!r}"))

    def call(self, msg, timeout=60):
        self.send(msg)
        return self.response(msg["id"], timeout)

    def close(self, timeout=60):
        """Close stdin, wait for the exit; it must be 0 with a clean stderr and
        stdout must hold only JSON-RPC messages.  Returns the messages."""
        if self.returncode is None:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"sheaf mcp did not exit within {timeout}s of stdin closing\n"
                            f"--- stderr ---\n{self.stderr[-4000:]}")
            self._t_out.join(10)
            self._t_err.join(10)
        bad = sanitizer_reports(self.stderr)
        assert not bad, f"sanitizer report(s) {bad}:\n{self.stderr[-12000:]}"
        assert self.returncode == 0, (self.returncode, self.stderr[-4000:])
        for line in self.lines:
            assert line.endswith("\n"), f"stdout line without its newline: {line!r}"
            try:
                msg = json.loads(line)
            except ValueError:
                pytest.fail(f"stdout line is not JSON: {line!r}")
            check_message(msg)
        return self.messages

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def import_dataset(data_dir, path, env=None, name=None):
    """``sheaf import path`` into data_dir; returns the new dataset's id."""
    args = [SHEAF_BIN, "import", str(path), "--data-dir", str(data_dir), "--quiet"]
    if name:
        args += ["--name", name]
    p = subprocess.run(args, env=base_env(env), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert not sanitizer_reports(p.stderr), p.stderr
    m = re.search(r"^dataset (\S+) ", p.stdout, re.M)
    assert m, p.stdout
    return m.group(1)


# --------------------------------------------------------------------------
# HTTP


def b64_header(value):
    return "=?base64?" + base64.b64encode(value.encode()).decode() + "?="


def modern_headers(msg, **override):
    """The 2026-07-28 request headers for msg; override replaces (None
    removes) one."""
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
         "MCP-Protocol-Version": MODERN, "Mcp-Method": msg["method"]}
    params = msg.get("params") or {}
    name = params.get("uri") if msg["method"] == "resources/read" else params.get("name")
    if msg["method"] in ("tools/call", "resources/read", "prompts/get") and name is not None:
        h["Mcp-Name"] = name if name.isascii() else b64_header(name)
    for k, v in override.items():
        k = k.replace("_", "-")
        h = {a: b for a, b in h.items() if a.lower() != k.lower()}
        if v is not None:
            h[k] = v
    return h


def post(srv, body, token=None, headers=None, timeout=120):
    """POST /mcp with body (a dict is sent as JSON, bytes as they are)."""
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    h.update(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False).encode()
    return requests.post(srv.url + "/mcp", data=data, headers=h, timeout=timeout)


def modern_post(srv, token, msg, timeout=120, **header_override):
    return post(srv, msg, token, modern_headers(msg, **header_override), timeout)


def rpc_json(r, status=200):
    """The JSON-RPC message of an application/json answer."""
    assert r.status_code == status, (status, r.status_code, r.text[:2000])
    ct = r.headers.get("Content-Type", "").split(";")[0].strip()
    assert ct == "application/json", (ct, r.text[:500])
    return check_message(r.json())


def sse_messages(r):
    """The JSON-RPC messages of a text/event-stream answer, in order."""
    assert r.status_code == 200, (r.status_code, r.text[:2000])
    ct = r.headers.get("Content-Type", "").split(";")[0].strip()
    assert ct == "text/event-stream", (ct, r.text[:500])
    out = []
    for block in r.text.replace("\r\n", "\n").split("\n\n"):
        data = [l[5:].lstrip() for l in block.split("\n") if l.startswith("data:")]
        if data:
            out.append(check_message(json.loads("\n".join(data))))
    return out


class LegacySession:
    """A 2025-11-25 session on /mcp: initialize, then requests with
    Mcp-Session-Id and MCP-Protocol-Version."""

    def __init__(self, srv, token, version=LEGACY):
        self.srv, self.token, self.version = srv, token, version
        r = post(srv, initialize(0, version), token)
        self.init = result_of(rpc_json(r))
        self.id = r.headers.get("Mcp-Session-Id")
        assert self.id and re.fullmatch(r"[\x21-\x7e]+", self.id), dict(r.headers)
        r = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)

    def headers(self, **extra):
        h = {"Mcp-Session-Id": self.id, "MCP-Protocol-Version": self.version}
        for k, v in extra.items():
            k = k.replace("_", "-")
            h = {a: b for a, b in h.items() if a.lower() != k.lower()}
            if v is not None:
                h[k] = v
        return h

    def post(self, msg, token=None, **extra):
        return post(self.srv, msg, token or self.token, self.headers(**extra))

    def call(self, method, params=None, id=1):
        return rpc_json(self.post({"jsonrpc": "2.0", "id": id, "method": method,
                                   "params": params or {}}))

    def delete(self, token=None):
        return requests.delete(self.srv.url + "/mcp", timeout=30, headers={
            "Authorization": f"Bearer {token or self.token}", "Mcp-Session-Id": self.id})


# --------------------------------------------------------------------------
# the SDK clients


def node_env():
    env = base_env()
    env.pop("NODE_OPTIONS", None)
    return env


def run_client(sdk, plan, timeout=180):
    """Runs tests/mcp/client_v{sdk}.mjs with plan; returns its JSON output
    (stderr, the server's log on stdio, is attached as "stderr")."""
    if not NODE.exists():
        pytest.fail(f"{NODE} is missing: run npm ci (package.json lists the MCP SDKs)")
    try:
        p = subprocess.run([str(NODE), str(CLIENTS[sdk])], input=json.dumps(plan).encode(),
                           capture_output=True, timeout=timeout, env=node_env(), cwd=str(REPO))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"client_v{sdk} did not finish within {timeout}s\n"
                    f"stdout={e.stdout!r}\nstderr={(e.stderr or b'')[-4000:]!r}")
    out = p.stdout.decode("utf-8", "replace").strip().splitlines()
    err = p.stderr.decode("utf-8", "replace")
    assert out, f"client_v{sdk} printed nothing (exit {p.returncode})\n{err[-6000:]}"
    res = json.loads(out[-1])
    res["stderr"] = err
    assert "fatal" not in res, (res["fatal"], err[-6000:])
    # On stdio the server's stderr is the client's: no sanitizer report.
    bad = sanitizer_reports(err)
    assert not bad, f"sanitizer report(s) {bad}:\n{err[-12000:]}"
    return res


def stdio_transport(data_dir, env=None, args=()):
    return {"type": "stdio", "command": SHEAF_BIN,
            "args": ["mcp", "--data-dir", str(data_dir), *args], "env": base_env(env)}


def http_transport(srv, token):
    return {"type": "http", "url": srv.url + "/mcp", "token": token}


# --------------------------------------------------------------------------
# the real data, read independently


def read_test_csv():
    return pd.read_csv(TEST_CSV, encoding="utf-8", dtype=str, keep_default_na=False)


def read_cctv_csv():
    return pd.read_csv(CCTV_CSV, encoding="cp949")

