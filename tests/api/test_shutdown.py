"""Graceful shutdown, step by step: a request that is half-way through when
SIGTERM arrives still gets its answer, new connections are refused at once,
and the process exits 0 once the request is done."""
import json
import signal
import socket
import sqlite3
import threading

import requests

from conftest import STOP_TIMEOUT


def test_inflight_request_finishes_after_sigterm(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_LOG_LEVEL": "debug"})
    token = srv.user.token.encode()  # sign up and log in before anything else
    body = json.dumps({"session_id": "late-arrival"}).encode()
    half = len(body) // 2
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
    try:
        s.sendall(b"POST /api/session HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer %s\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (token, len(body)) + body[:half])
        # Once the server has read the headers the request is in flight.
        srv.wait_log(lambda t: "request started" in t and "/api/session" in t,
                     what="the request-started debug line")
        srv.proc.send_signal(signal.SIGTERM)
        srv.wait_log(lambda t: "received SIGTERM" in t, what="the shutdown line")

        # No new connections once shutdown has begun.
        refused = False
        try:
            requests.get(srv.url + "/health", timeout=5)
        except requests.ConnectionError:
            refused = True
        assert refused, "a new connection was accepted after SIGTERM"
        assert srv.proc.poll() is None, "the server exited with a request in flight"

        s.sendall(body[half:])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    finally:
        s.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    assert b'"session_id":"late-arrival"' in reply
    assert b"Connection: close" in reply or b"connection: close" in reply.lower()
    assert srv.wait_exit(STOP_TIMEOUT) == 0
    srv.check_clean_exit()

    again = sheaf_factory.restart(srv)
    again.adopt_user(srv.user)
    assert again.get("/api/session/late-arrival").status_code == 200


def test_shutdown_does_not_wait_out_a_store_lock(sheaf_factory):
    """A request stuck waiting for the database lock is cut off when the
    shutdown timeout ends, instead of holding the process for the whole
    (here 60 s) lock timeout."""
    srv = sheaf_factory.start(env={"SHEAF_DATABASE_LOCK_TIMEOUT": "60000",
                                   "SHEAF_SHUTDOWN_TIMEOUT": "1",
                                   "SHEAF_LOG_LEVEL": "debug"})
    # Sign up and log in first: both write to the store, which is about to be
    # locked.
    assert srv.user.token
    holder = sqlite3.connect(srv.data_dir / "sheaf.db", timeout=5, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    outcome = []

    def create():
        try:
            outcome.append(srv.post("/api/session", json={}, timeout=90).status_code)
        except requests.RequestException as e:
            outcome.append(type(e).__name__)

    t = threading.Thread(target=create, daemon=True)
    t.start()
    try:
        srv.wait_log(lambda l: "request started" in l and "/api/session" in l,
                     what="the blocked request")
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait_exit(30) == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    t.join(30)
    assert outcome and outcome[0] != 201, outcome
    assert "cut off" in srv.log_text()
    srv.check_clean_exit()
