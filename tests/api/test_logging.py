"""The text access log stays one readable, valid UTF-8 line per request
whatever bytes a client puts in its path."""
import socket


def test_text_log_escapes_hostile_path_bytes(sheaf):
    s = socket.create_connection(("127.0.0.1", sheaf.port), timeout=10)
    try:
        s.sendall(b"GET /caf\xc3\xa9/\xff\xfe%0Afake=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 404")
    finally:
        s.close()
    sheaf.wait_log(lambda l: "/caf" in l, what="the access line")
    raw = sheaf.log_path.read_bytes()
    raw.decode("utf-8")   # the whole log is valid UTF-8
    lines = [l for l in raw.split(b"\n") if b"/caf" in l]
    assert len(lines) == 1, lines
    line = lines[0].decode()
    assert 'path="/café/\\xff\\xfe\\x0afake=1"' in line, line


def test_long_path_is_cut_not_lost(sheaf_factory):
    for fmt in ("text", "json"):
        srv = sheaf_factory.start(env={"SHEAF_LOG_FORMAT": fmt})
        r = srv.get("/" + "p" * 20000, headers={"X-Request-Id": f"long-{fmt}"})
        assert r.status_code in (404, 414, 431), r.status_code
        if r.status_code != 404:
            continue
        line = srv.wait_log(lambda l: f"long-{fmt}" in l and "request" in l,
                            what=f"the {fmt} access line of a 20 KB path")
        assert "p" * 2000 in line and "(20001 bytes)" in line, line[:300]
        assert "status" in line and "404" in line
