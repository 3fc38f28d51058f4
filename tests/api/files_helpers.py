"""Helpers for the file tests (tests/api/test_files.py).

- multipart bodies built by hand (so the tests control part order, raw
  filename bytes, streaming and broken bodies);
- ``Storage``: where a server keeps its objects (the file backend's
  DATA_DIR/objects, or a fresh S3 bucket per server) and how a test looks
  at what is stored there;
- a minimal S3 client (SigV4, path-style) for the S3 variant;
- ``raw_http``: an HTTP/1.1 exchange on a raw socket that keeps reading the
  answer even when the server stops reading the body (413 mid-upload);
- ``RssSampler``: VmRSS of a process, sampled in a thread.
"""

import hashlib
import hmac
import json
import os
import random
import re
import select
import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
import requests

FILE_KEYS = {"file_id", "session_id", "filename", "file_type", "size", "sha256",
             "storage_path", "uploaded_at", "url"}
PAGE_KEYS = {"session_id", "files", "total", "limit", "offset"}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STORAGE_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def uid(prefix="f"):
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def rand_bytes(n, seed=None):
    return random.Random(seed).randbytes(n)


# --------------------------------------------------------------------------
# multipart bodies


class Field:
    def __init__(self, name, value):
        self.name = name
        self.value = value.encode() if isinstance(value, str) else value

    def header(self):
        return (f'Content-Disposition: form-data; name="{self.name}"\r\n'
                "\r\n").encode()


class FilePart:
    """A file part.  ``filename`` is put in a quoted-string as UTF-8 with
    '"' and '\\' backslash-escaped; ``raw_filename`` (bytes) goes in as is.
    ``data`` is bytes, or an iterable of bytes with ``size`` given."""

    def __init__(self, filename, data=b"", name="file", content_type=None,
                 raw_filename=None, size=None, disposition=None):
        self.name = name
        self.disposition = disposition
        self.filename = filename
        self.raw_filename = raw_filename
        self.data = data
        self.content_type = content_type
        self.size = len(data) if isinstance(data, (bytes, bytearray)) else size
        assert self.size is not None, "a streamed part needs its size"

    def header(self):
        if self.disposition is not None:
            h = b"Content-Disposition: " + self.disposition + b"\r\n"
            if self.content_type:
                h += f"Content-Type: {self.content_type}\r\n".encode()
            return h + b"\r\n"
        if self.raw_filename is not None:
            fn = self.raw_filename
        else:
            fn = (self.filename.replace("\\", "\\\\").replace('"', '\\"')
                  .encode("utf-8"))
        h = (f'Content-Disposition: form-data; name="{self.name}"; '
             f'filename="').encode() + fn + b'"\r\n'
        if self.content_type:
            h += f"Content-Type: {self.content_type}\r\n".encode()
        return h + b"\r\n"

    def chunks(self):
        if isinstance(self.data, (bytes, bytearray)):
            yield bytes(self.data)
        else:
            yield from self.data


class Multipart:
    """A multipart/form-data body from parts, as bytes or streamed."""

    def __init__(self, parts, boundary=None):
        self.parts = list(parts)
        self.boundary = boundary or f"sheaf-test-{uuid.uuid4().hex}"

    @property
    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"

    def _pieces(self):
        """(bytes | part) sequence: the framing, and parts for their data."""
        for p in self.parts:
            yield f"--{self.boundary}\r\n".encode() + p.header()
            yield p
            yield b"\r\n"
        yield f"--{self.boundary}--\r\n".encode()

    def __len__(self):
        n = 0
        for piece in self._pieces():
            n += len(piece) if isinstance(piece, bytes) else (
                len(piece.value) if isinstance(piece, Field) else piece.size)
        return n

    def __iter__(self):
        for piece in self._pieces():
            if isinstance(piece, bytes):
                yield piece
            elif isinstance(piece, Field):
                yield piece.value
            else:
                yield from piece.chunks()

    def body(self):
        return b"".join(self)


class StreamBody:
    """An iterable with a length: requests sends it with Content-Length and
    without holding it in memory."""

    def __init__(self, mp):
        self.mp = mp
        self.n = len(mp)

    def __len__(self):
        return self.n

    def __iter__(self):
        return iter(self.mp)


def upload(who, session_id, files, fields=None, query_session=False,
           session_last=False, stream=False, **kw):
    """POST /api/files/upload as ``who`` (a Sheaf or a User).  ``files`` is
    a list of FilePart, or (filename, bytes) pairs."""
    files = [f if isinstance(f, FilePart) else FilePart(*f) for f in files]
    parts = list(fields or [])
    path = "/api/files/upload"
    if query_session:
        path += "?session_id=" + quote(session_id, safe="")
        parts += files
    elif session_id is None:
        parts += files
    elif session_last:
        parts += files + [Field("session_id", session_id)]
    else:
        parts = [Field("session_id", session_id)] + parts + files
    mp = Multipart(parts)
    headers = dict(kw.pop("headers", None) or {})
    headers["Content-Type"] = mp.content_type
    data = StreamBody(mp) if stream else mp.body()
    kw.setdefault("timeout", 120)
    return who.post(path, data=data, headers=headers, **kw)


def check_file(f, session_id=None, filename=None, data=None, size=None):
    """The shape of one file object, and what the test knows of it."""
    assert set(f) == FILE_KEYS, f"file keys {sorted(f)}: {f}"
    assert isinstance(f["file_id"], str) and re.match(r"^[A-Za-z0-9_-]{16,}$", f["file_id"]), f
    assert type(f["size"]) is int and f["size"] >= 0, f
    assert re.match(r"^[0-9a-f]{64}$", f["sha256"]), f
    assert f["url"] == f"/api/files/{f['file_id']}/download", f
    assert isinstance(f["file_type"], str) and "/" in f["file_type"], f
    sp = f["storage_path"]
    prefix = f"uploads/{f['session_id']}/{f['file_id']}-"
    assert sp.startswith(prefix), f
    assert STORAGE_NAME_RE.match(sp[len(prefix):]), f"storage name not ASCII-safe: {sp!r}"
    assert ".." not in sp.split("/"), sp
    assert sp.isascii(), sp
    if session_id is not None:
        assert f["session_id"] == session_id, f
    if filename is not None:
        assert f["filename"] == filename, (f["filename"], filename)
    if data is not None:
        assert f["size"] == len(data), (f["size"], len(data))
        assert f["sha256"] == sha256(data), f
    if size is not None:
        assert f["size"] == size, f
    return f


def uploaded(r, n=None):
    """The file list of a 201 upload response."""
    assert r.status_code == 201, (r.status_code, r.text[:1000])
    ct = r.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip() == "application/json", ct
    body = r.json()
    assert set(body) == {"files"}, body
    assert isinstance(body["files"], list)
    if n is not None:
        assert len(body["files"]) == n, body
    return body["files"]


def list_all(who, session_id):
    """Every file of a session, through the paged listing."""
    out, offset = [], 0
    while True:
        r = who.get(f"/api/files/session/{session_id}?limit=100&offset={offset}")
        assert r.status_code == 200, (r.status_code, r.text)
        page = r.json()
        out += page["files"]
        offset += len(page["files"])
        if not page["files"] or offset >= page["total"]:
            assert len(out) == page["total"], page
            return out


def download_hash(who, file_id, timeout=300):
    """(status, size, sha256) of a download, streamed (constant memory)."""
    with who.get(f"/api/files/{file_id}/download", stream=True, timeout=timeout) as r:
        if r.status_code != 200:
            return r.status_code, None, None
        h = hashlib.sha256()
        n = 0
        for chunk in r.iter_content(1 << 20):
            h.update(chunk)
            n += len(chunk)
        assert n == int(r.headers["Content-Length"]), (n, r.headers)
        return 200, n, h.hexdigest()


def parse_disposition(value):
    """(type, {param: value}) of a Content-Disposition value, with
    quoted-strings unescaped and filename* decoded."""
    m = re.match(r"\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*", value)
    assert m, value
    kind, rest, params = m.group(1).lower(), value[m.end():], {}
    pat = re.compile(r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*'
                     r'("(?:[^"\\]|\\.)*"|[^;\s]*)\s*')
    pos = 0
    while pos < len(rest):
        m = pat.match(rest, pos)
        assert m, f"bad Content-Disposition parameters at {rest[pos:]!r} in {value!r}"
        name, v = m.group(1).lower(), m.group(2)
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        if name.endswith("*"):
            charset, _, enc = v.partition("'")
            _, _, enc = enc.partition("'")
            assert charset.lower() == "utf-8", value
            assert re.match(r"^[A-Za-z0-9!#$&+.^_`|~%-]*$", enc), \
                f"filename* is not attr-chars and %XX: {value!r}"
            v = unquote(enc, encoding="utf-8", errors="strict")
        assert name not in params, f"{name} twice in {value!r}"
        params[name] = v
        pos = m.end()
    return kind, params


# --------------------------------------------------------------------------
# S3 (SigV4, path-style), only what the tests need


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class S3:
    def __init__(self, endpoint, region, access_key, secret_key):
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key

    def request(self, method, bucket, key="", query=None, body=b"", ok=(200, 204)):
        path = "/" + bucket + ("/" + quote(key, safe="/~") if key else "")
        q = sorted((quote(k, safe="~"), quote(v, safe="~"))
                   for k, v in (query or {}).items())
        cq = "&".join(f"{k}={v}" for k, v in q)
        now = time.gmtime()
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", now)
        date = amz_date[:8]
        payload = hashlib.sha256(body).hexdigest()
        host = urlsplit(self.endpoint).netloc
        hdrs = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        signed = ";".join(sorted(hdrs))
        canon = "\n".join([method, path, cq,
                           "".join(f"{k}:{hdrs[k]}\n" for k in sorted(hdrs)),
                           signed, payload])
        scope = f"{date}/{self.region}/s3/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canon.encode()).hexdigest()])
        k = _hmac(("AWS4" + self.secret_key).encode(), date)
        for part in (self.region, "s3", "aws4_request"):
            k = _hmac(k, part)
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers = {
            "x-amz-content-sha256": payload, "x-amz-date": amz_date,
            "Authorization": (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                              f"SignedHeaders={signed}, Signature={sig}"),
        }
        r = requests.request(method, self.endpoint + path + ("?" + cq if cq else ""),
                             headers=headers, data=body, timeout=60)
        if ok and r.status_code not in ok:
            raise AssertionError(f"S3 {method} {path}?{cq}: {r.status_code} {r.text[:500]}")
        return r

    @staticmethod
    def _elements(xml_text, tag):
        root = ET.fromstring(xml_text)
        return [el for el in root.iter() if el.tag.split("}")[-1] == tag]

    @staticmethod
    def _child(el, tag):
        for c in el:
            if c.tag.split("}")[-1] == tag:
                return c.text or ""
        return None

    def create_bucket(self, bucket):
        self.request("PUT", bucket)

    def put(self, bucket, key, body):
        self.request("PUT", bucket, key, body=body)

    def list(self, bucket, prefix=""):
        """{key: size} of the objects under prefix."""
        out, token = {}, None
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            r = self.request("GET", bucket, query=q)
            for el in self._elements(r.text, "Contents"):
                out[self._child(el, "Key")] = int(self._child(el, "Size"))
            truncated = [e.text for e in self._elements(r.text, "IsTruncated")]
            nxt = [e.text for e in self._elements(r.text, "NextContinuationToken")]
            if truncated and truncated[0] == "true" and nxt:
                token = nxt[0]
            else:
                return out

    def multipart_uploads(self, bucket, with_ids=False):
        """Keys (or (key, upload id) pairs) of the multipart uploads begun
        and neither completed nor aborted."""
        r = self.request("GET", bucket, query={"uploads": ""})
        ups = [(self._child(el, "Key"), self._child(el, "UploadId"))
               for el in self._elements(r.text, "Upload")]
        return ups if with_ids else [k for k, _ in ups]

    def remove_bucket(self, bucket):
        """Everything in the bucket, then the bucket (the test S3 server
        keeps all in memory)."""
        for key, upload_id in self.multipart_uploads(bucket, with_ids=True):
            self.request("DELETE", bucket, key, query={"uploadId": upload_id}, ok=None)
        for key in self.list(bucket):
            self.request("DELETE", bucket, key, ok=None)
        self.request("DELETE", bucket, ok=None)


# --------------------------------------------------------------------------
# where a server keeps its objects

S3_URL = os.environ.get("SHEAF_TEST_S3_URL", "")
S3_ACCESS_KEY = os.environ.get("SHEAF_TEST_S3_ACCESS_KEY", "")
S3_SECRET_KEY = os.environ.get("SHEAF_TEST_S3_SECRET_KEY", "")
# The server's own configuration names (src/base/config.c).
SERVER_S3_ACCESS_KEY = "SHEAF_S3_ACCESS_KEY"
SERVER_S3_SECRET_KEY = "SHEAF_S3_SECRET_KEY"


class FileStorage:
    """The default: objects are plain files under DATA_DIR/objects."""

    name = "file"

    def env(self):
        return {}

    def root(self, srv):
        return Path(srv.data_dir) / "objects"

    def objects(self, srv, prefix="uploads/"):
        """{key: size} of the stored objects under prefix."""
        root = self.root(srv)
        out = {}
        base = root / prefix.rstrip("/")
        if not base.exists():
            return out
        for dirpath, _dirs, names in os.walk(base):
            for n in names:
                p = Path(dirpath) / n
                try:
                    out[str(p.relative_to(root))] = p.stat().st_size
                except FileNotFoundError:   # removed while we looked
                    pass
        return out

    def temporaries(self, srv):
        """Objects being written (not committed)."""
        try:
            return sorted(os.listdir(self.root(srv) / ".tmp"))
        except FileNotFoundError:
            return []

    def plant(self, srv, key, data, age_s=0):
        """Put an object behind the server's back (as a crash would leave)."""
        p = self.root(srv) / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        if age_s:
            t = time.time() - age_s
            os.utime(p, (t, t))

    def can_age(self):
        return True

    def remove(self, env):
        pass


class S3Storage:
    """SHEAF_STORAGE_URL=s3://<fresh bucket>?endpoint=...: every server gets
    its own bucket, so what a test lists is only its own server's."""

    name = "s3"

    def __init__(self):
        u = urlsplit(S3_URL)
        assert u.scheme == "s3" and u.netloc, f"SHEAF_TEST_S3_URL={S3_URL!r}"
        self.query = u.query
        q = parse_qs(u.query)
        self.client = S3(q["endpoint"][0], q.get("region", ["us-east-1"])[0],
                         S3_ACCESS_KEY, S3_SECRET_KEY)

    def env(self):
        bucket = f"sheaf-files-{uuid.uuid4().hex[:20]}"
        self.client.create_bucket(bucket)
        return {"SHEAF_STORAGE_URL": f"s3://{bucket}?{self.query}",
                SERVER_S3_ACCESS_KEY: S3_ACCESS_KEY,
                SERVER_S3_SECRET_KEY: S3_SECRET_KEY}

    @staticmethod
    def bucket(srv):
        return urlsplit(srv.extra_env["SHEAF_STORAGE_URL"]).netloc

    def objects(self, srv, prefix="uploads/"):
        return self.client.list(self.bucket(srv), prefix)

    def temporaries(self, srv):
        return self.client.multipart_uploads(self.bucket(srv))

    def plant(self, srv, key, data, age_s=0):
        assert not age_s, "S3 objects cannot be back-dated"
        self.client.put(self.bucket(srv), key, data)

    def can_age(self):
        return False

    def remove(self, env):
        """Drop the bucket made for a server's env (after the server stopped)."""
        url = env.get("SHEAF_STORAGE_URL", "")
        if url.startswith("s3://"):
            self.client.remove_bucket(urlsplit(url).netloc)


def storage_params():
    s3 = pytest.param("s3", marks=pytest.mark.skipif(
        not (S3_URL and S3_ACCESS_KEY and S3_SECRET_KEY),
        reason="S3 variant: set SHEAF_TEST_S3_URL, SHEAF_TEST_S3_ACCESS_KEY and "
               "SHEAF_TEST_S3_SECRET_KEY (scripts/s3-test-server start DIR prints them)"))
    return ["file", s3]


def make_storage(name):
    return FileStorage() if name == "file" else S3Storage()


def wait_until(pred, timeout=15.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; return it (fail on timeout
    with the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# raw HTTP


class RawResponse:
    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw

    def json(self):
        return json.loads(self.body)


def parse_response(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        return None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return RawResponse(int(m.group(1)), headers, body, raw)


def _response_complete(raw):
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    if head.startswith(b"HTTP/1.1 100") or head.startswith(b"HTTP/1.0 100"):
        return _response_complete(body)
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(m) and len(body) >= int(m.group(1))


def raw_http(url, method, path, headers, body_chunks=(), chunked=False,
             close_after_send=False, read_timeout=30.0, send_timeout=10.0):
    """Send a request on a raw socket.  The body is sent piece by piece;
    as soon as the server answers (or stops reading for ``send_timeout``, or
    resets), sending stops and the answer is read.  Returns
    (RawResponse or None, bytes_sent_of_body, send_error)."""
    u = urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=send_timeout)
    hdr = f"{method} {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
    for k, v in headers.items():
        hdr += f"{k}: {v}\r\n"
    if chunked:
        hdr += "Transfer-Encoding: chunked\r\n"
    hdr += "\r\n"
    sent, error, got = 0, None, b""
    try:
        s.sendall(hdr.encode("utf-8"))
        for chunk in body_chunks:
            r, _, _ = select.select([s], [], [], 0)
            if r:
                break   # the server answered (or closed) early
            piece = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") if chunked and chunk else chunk
            if not piece:
                continue
            s.sendall(piece)
            sent += len(chunk)
        else:
            if chunked:
                s.sendall(b"0\r\n\r\n")
        if close_after_send:
            return None, sent, None
        s.settimeout(read_timeout)
        while not _response_complete(got):
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            got += data
    except (BrokenPipeError, ConnectionResetError, socket.timeout) as e:
        error = e
        # whatever answer there is may already be in the receive buffer
        s.settimeout(2.0)
        try:
            while not _response_complete(got):
                data = s.recv(65536)
                if not data:
                    break
                got += data
        except (OSError, socket.timeout):
            pass
    finally:
        s.close()
    raw = got
    resp = parse_response(raw)
    # skip an interim 100 Continue
    while resp is not None and resp.status == 100:
        resp = parse_response(resp.body)
    return resp, sent, error


# --------------------------------------------------------------------------
# memory of a process


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RssSampler:
    """Samples VmRSS of pid every ``interval`` seconds in a thread."""

    def __init__(self, pid, interval=0.05):
        self.pid = pid
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append(vm_rss_kb(self.pid))
            except (FileNotFoundError, ProcessLookupError, AssertionError):
                return
            self._stop.wait(self.interval)

    def __enter__(self):
        self.samples.append(vm_rss_kb(self.pid))
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        try:
            self.samples.append(vm_rss_kb(self.pid))
        except (FileNotFoundError, ProcessLookupError):
            pass

    @property
    def peak_kb(self):
        return max(self.samples)
