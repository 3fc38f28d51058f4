"""The connection ceiling (SHEAF_MAX_CONNECTIONS): connections beyond it are
closed at once, and once clients go away the server serves again straight
away (libmicrohttpd's own limit could stall a thread for a whole idle
timeout when the per-thread share was a multiple of 128)."""
import selectors
import socket
import time

import requests


def open_idle(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(s)
    return socks


def served(url):
    try:
        return requests.get(url + "/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_over_the_limit_is_refused_then_recovers(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_MAX_CONNECTIONS": "4", "SHEAF_WORKERS": "1"})
    idle = open_idle(srv.port, 4)
    try:
        # Each idle connection is accepted; make sure the server has them all
        # by talking over one of them.
        idle[0].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle[0].recv(4096).startswith(b"HTTP/1.1 200")
        assert not served(srv.url), "a fifth connection was served over a limit of 4"
    finally:
        for s in idle:
            s.close()
    # The server needs a moment to see the four closes.
    deadline = time.monotonic() + 15
    while not served(srv.url):
        assert time.monotonic() < deadline, "not serving 15 s after the clients left"
        time.sleep(0.2)
    srv.wait_log(lambda l: "refusing connections" in l, what="the refusal warning")


def busy_clients(port, n, seconds):
    """n keep-alive clients sending GET /health back to back for a while,
    then all closing at once (what a load generator does)."""
    sel = selectors.DefaultSelector()
    req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE)
        socks.append(s)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, ev in sel.select(0.1):
            s = key.fileobj
            try:
                if ev & selectors.EVENT_WRITE:
                    s.send(req)
                    sel.modify(s, selectors.EVENT_READ)
                elif s.recv(65536):
                    s.send(req)
                else:
                    sel.unregister(s)
            except OSError:
                sel.unregister(s)
    sel.close()
    for s in socks:
        s.close()


def test_full_share_of_128_does_not_stall(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_MAX_CONNECTIONS": "128", "SHEAF_WORKERS": "1",
                                   "SHEAF_CONNECTION_TIMEOUT": "60"})
    busy_clients(srv.port, 130, 1.5)
    # The server may take a moment to see 130 closes; with the library's
    # limit it stayed deaf for the whole 60 s idle timeout.
    deadline = time.monotonic() + 15
    while not served(srv.url):
        assert time.monotonic() < deadline, "not serving 15 s after the clients left"
        time.sleep(0.2)
