"""Helpers for the dataset tests (tests/api/test_datasets_*.py).

- where the real Daegu files are (../shared/data/daegu, read in place, never
  copied into the repo) and how to read them with Python's csv module;
- ``upload_dataset`` / ``ready`` / ``wait_ready``: POST /api/datasets/upload
  as multipart (built by files_helpers.Multipart) and the dataset's life;
- ``Model``: an independent reading of the documented rules (import.h,
  infer.h, value.h): which type a column should get, which values are null,
  what a typed value's canonical form is, which text column is categorical,
  which numeric column is a latitude/longitude.  The tests compute their
  expectations with it from the source file parsed by Python's csv module,
  never from sheaf's own answers;
- ``export_rows`` / ``compare_export``: an export parsed back and checked,
  column by column, against the source after the documented conversions.
"""

import calendar
import collections
import datetime as dt
import csv
import functools
import io
import json
import math
import re
import time
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, serve_on_storage
from files_helpers import Field, FilePart, Multipart, make_storage, storage_params

DATA = REPO.parent / "shared" / "data" / "daegu"
TEST_CSV = DATA / "test.csv"
CCTV_CSV = DATA / "대구 CCTV 정보.csv"
SCHOOL_CSV = DATA / "대구 어린이 보호 구역 정보.csv"
PARKING_CSV = DATA / "대구 주차장 정보.csv"
TAAS_ZIP = DATA / "taas" / "data.zip"

DATASET_KEYS = {"id", "dataset_id", "name", "description", "rows", "columns",
                "size_bytes", "uploaded_at", "encoding", "delimiter", "status"}
COLUMN_KEYS = {"name", "type", "unique"}
TYPES = {"integer", "real", "boolean", "date", "datetime", "time", "text"}


def need_data(*paths):
    """Skip (with the reason) when the shared real data is not there."""
    for p in paths or (DATA,):
        if not Path(p).exists():
            pytest.skip(f"real data file {p} is not present (the issue's tests read "
                        f"../shared/data/daegu in place)")


# --------------------------------------------------------------------------
# uploads


def upload_dataset(who, data, filename="data.csv", fields=None, timeout=120, **kw):
    """POST /api/datasets/upload with ``data`` as the file part and the
    text ``fields`` ({name: value}) before it.  Returns the response."""
    parts = [Field(k, v) for k, v in (fields or {}).items()]
    parts.append(FilePart(filename, data))
    mp = Multipart(parts)
    headers = dict(kw.pop("headers", None) or {})
    headers["Content-Type"] = mp.content_type
    return who.post("/api/datasets/upload", data=mp.body(), headers=headers,
                     timeout=timeout, **kw)


def check_dataset(d):
    """The contract's shape of one dataset object."""
    missing = DATASET_KEYS - set(d)
    assert not missing, f"dataset lacks {sorted(missing)}: {d}"
    assert d["id"] == d["dataset_id"], d
    assert re.match(r"^[A-Za-z0-9_-]{16,}$", d["id"]), d
    for k in ("rows", "columns", "size_bytes"):
        assert type(d[k]) is int and d[k] >= 0, (k, d)
    assert d["status"] in ("processing", "ready", "failed"), d
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", d["uploaded_at"]), d
    return d


def ready(r, status=201):
    """The dataset of an upload answered with ``status`` (201: ingested)."""
    assert r.status_code == status, (r.status_code, r.text[:2000])
    ct = r.headers.get("Content-Type", "")
    assert ct.split(";")[0].strip() == "application/json", ct
    d = check_dataset(r.json())
    if status == 201:
        assert d["status"] == "ready", d
        assert d["progress"] == 100, d
        assert isinstance(d["columns_info"], list) and len(d["columns_info"]) == d["columns"], d
        for c in d["columns_info"]:
            assert COLUMN_KEYS <= set(c), c
            assert c["type"] in TYPES, c
    return d


def wait_ready(who, dataset_id, timeout=120, progress=None):
    """Poll GET /api/datasets/{id} until it is no longer processing; return
    the last body.  ``progress`` (a list) collects the progress values seen."""
    deadline = time.monotonic() + timeout
    while True:
        r = who.get(f"/api/datasets/{dataset_id}")
        assert r.status_code == 200, (r.status_code, r.text)
        d = check_dataset(r.json())
        if progress is not None:
            progress.append(d["progress"])
        if d["status"] != "processing":
            return d
        if time.monotonic() > deadline:
            pytest.fail(f"dataset {dataset_id} still processing after {timeout}s: {d}")
        time.sleep(0.1)


def upload_ready(who, data, filename="data.csv", fields=None, timeout=180):
    """Upload and return the ready dataset, whether the server ingested it
    within the request (201) or in the background (202)."""
    r = upload_dataset(who, data, filename, fields, timeout=timeout)
    if r.status_code == 202:
        d = wait_ready(who, ready(r, 202)["id"], timeout=timeout)
        assert d["status"] == "ready", d
        return d
    return ready(r)


def cols_by_name(d):
    return {c["name"]: c for c in d["columns_info"]}


def detail(who, dataset_id):
    r = who.get(f"/api/datasets/{dataset_id}")
    assert r.status_code == 200, (r.status_code, r.text)
    return check_dataset(r.json())


# --------------------------------------------------------------------------
# the real files, read with Python's csv module


def read_csv_text(text, delimiter=","):
    """Records of a decoded CSV text (newline='' semantics: embedded CR/LF
    kept, CRLF/LF/CR all end records)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_source(path, encoding):
    return read_csv_text(Path(path).read_bytes().decode(encoding))


def taas_members():
    """[(member name, bytes)] of the TAAS zip, in zip order (names stored
    in CP949 without the UTF-8 flag)."""
    with zipfile.ZipFile(TAAS_ZIP) as z:
        return [(i.filename.encode("cp437").decode("cp949"), z.read(i))
                for i in z.infolist() if not i.is_dir()]


def concat_csv_bytes(blobs):
    """One CSV from several with the same header: the first whole, the
    others without their BOM and header line."""
    out = [blobs[0]]
    for b in blobs[1:]:
        if b.startswith(b"\xef\xbb\xbf"):
            b = b[3:]
        out.append(b.split(b"\r\n", 1)[1] if b"\r\n" in b[:4096] else b.split(b"\n", 1)[1])
    return b"".join(out)


# --------------------------------------------------------------------------
# an independent model of the documented rules (infer.h, value.h, import.h)

NULL_WORDS = {"na", "n/a", "#n/a", "null", "none", "nan", "-"}
BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "y": True,
              "n": False, "t": True, "f": False, "예": True, "아니오": False,
              "참": True, "거짓": False}
_INT = r"(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*)"
INT_RE = re.compile(r"^[+-]?" + _INT + r"$")
REAL_RE = re.compile(r"^([+-]?)(" + _INT + r")?(?:\.(\d*))?(?:[eE]([+-]?\d+))?(%?)$")
DATE_NUM_RE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")
DATE_DOT_RE = re.compile(r"^(\d{4})\. *(\d{1,2})\. *(\d{1,2})\.?$")
DATE_KO_RE = re.compile(r"^(\d{4})년 *(\d{1,2})월 *(\d{1,2})일$")
TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
TIME_KO_RE = re.compile(r"^(\d{1,2})시(?: *(\d{1,2})분(?: *(\d{1,2})초)?)?$")
ZONE_RE = re.compile(r"^(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)$")
INT64 = (-(1 << 63), (1 << 63) - 1)


def strip(s):
    return s.strip(" \t")


def is_null(s):
    s = strip(s)
    return s == "" or s.lower() in NULL_WORDS


@functools.lru_cache(maxsize=1 << 18)
def parse_int(s):
    s = strip(s)
    if not INT_RE.match(s):
        return None
    v = int(s.replace(",", ""))
    return v if INT64[0] <= v <= INT64[1] else None


@functools.lru_cache(maxsize=1 << 18)
def parse_real(s):
    """(value, percent) or None."""
    s = strip(s)
    m = REAL_RE.match(s)
    if not m:
        return None
    sign, ip, frac, exp, pct = m.groups()
    if not ip and not frac:
        return None
    if ip is None and frac is None:
        return None
    if ip and ip != "0" and ip.startswith("0"):
        return None
    digits = ((ip or "").replace(",", "") + (frac or "")).lstrip("0")
    if len(digits.rstrip("0")) > 17:
        return None
    text = sign + (ip or "0").replace(",", "") + "." + (frac or "0")
    if exp:
        text += "e" + exp
    v = float(text)
    if math.isinf(v):
        return None
    if pct:
        v = v / 100
    return v, bool(pct)


@functools.lru_cache(maxsize=1 << 18)
def parse_bool(s):
    s = strip(s)
    return BOOL_WORDS.get(s.lower() if s.isascii() else s)


def _valid_date(y, m, d):
    return 1000 <= y <= 9999 and 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]


@functools.lru_cache(maxsize=1 << 18)
def parse_date(s):
    """(y, m, d, korean) or None."""
    s = strip(s)
    for rx, korean in ((DATE_NUM_RE, False), (DATE_DOT_RE, False), (DATE_KO_RE, True)):
        m = rx.match(s)
        if m:
            g = [x for x in m.groups() if x not in ("-", "/")]
            y, mo, d = int(g[0]), int(g[1]), int(g[2])
            return (y, mo, d, korean) if _valid_date(y, mo, d) else None
    return None


@functools.lru_cache(maxsize=1 << 18)
def parse_time(s):
    """(h, m, s, fraction digits text) or None."""
    s = strip(s)
    m = TIME_RE.match(s)
    if m:
        h, mi, se, fr = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), m.group(4) or ""
    else:
        m = TIME_KO_RE.match(s)
        if not m:
            return None
        h, mi, se, fr = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0), ""
    if h > 23 or mi > 59 or se > 59:
        return None
    return h, mi, se, fr


def fmt_time(t):
    h, mi, se, fr = t
    return f"{h:02d}:{mi:02d}:{se:02d}" + (f".{fr}" if fr else "")


def fmt_date(d):
    return f"{d[0]:04d}-{d[1]:02d}-{d[2]:02d}"


@functools.lru_cache(maxsize=1 << 18)
def parse_datetime(s):
    """Canonical datetime text or None (a date alone is not a datetime)."""
    s = strip(s)
    zone = ""
    # the split between date and time: 'T' or spaces after a date form
    for m in re.finditer(r"T| +", s):
        d = parse_date(s[:m.start()])
        if not d:
            continue
        rest = s[m.end():]
        zm = ZONE_RE.match(rest)
        if zm and not d[3]:
            rest, zone = zm.group(1), zm.group(2)
        t = parse_time(rest)
        if t is None and re.fullmatch(r"\d{2}", rest) and not d[3] and int(rest) <= 23:
            t = (int(rest), 0, 0, "")
        if t is None:
            continue
        if zone and zone != "Z":
            sign, hh, mm = zone[0], zone[1:3], zone[3:].lstrip(":") or "00"
            zone = f"{sign}{hh}:{mm}"
        return fmt_date(d) + "T" + fmt_time(t) + zone
    return None


def value_kinds(s):
    """The set of kinds a non-null field parses as."""
    kinds = set()
    if parse_bool(s) is not None:
        kinds.add("boolean")
    if parse_int(s) is not None:
        kinds.add("integer")
    r = parse_real(s)
    if r is not None:
        kinds.add("percent" if r[1] else "real")
    if parse_date(s):
        kinds.add("date")
    if parse_datetime(s):
        kinds.add("datetime")
    if parse_time(s):
        kinds.add("time")
    return kinds


class ColumnModel:
    """What the documented rules say of one column.  Work is done once per
    distinct value, so a 167k-row column costs little more than its set."""

    def __init__(self, name, values):
        self.name = name
        self.values = values
        counts = collections.Counter(values)
        nonnull = [v for v in counts if not is_null(v)]
        self.kind, self.percent = self._kind(nonnull)
        if self.kind == "text":
            # text keeps null words as text; only empty fields are NULL
            self.nulls = counts.get("", 0)
            text = {v: n for v, n in counts.items() if v != ""}
            n_text = sum(text.values())
            self.categorical = (bool(text) and len(text) <= max(20, 0.05 * n_text) and
                                len(text) < n_text)
        else:
            self.nulls = sum(n for v, n in counts.items() if is_null(v))
            self.categorical = False
        self.conv = {v: self._convert(v) for v in counts}
        self.role = self._role(nonnull)

    @staticmethod
    def _kind(nonnull):
        """Each candidate in the order of preference; all() stops at the
        first value that does not fit."""
        if not nonnull:
            return "text", False

        def real_np(v):
            r = parse_real(v)
            return r is not None and not r[1]

        def pct(v):
            r = parse_real(v)
            return r is not None and r[1]
        if all(parse_bool(v) is not None for v in nonnull):
            return "boolean", False
        if all(parse_int(v) is not None for v in nonnull):
            return "integer", False
        if all(parse_int(v) is not None or real_np(v) for v in nonnull):
            if any(parse_int(v) is not None and abs(parse_int(v)) > 2 ** 53 for v in nonnull):
                return "text", False
            return "real", False
        if all(pct(v) for v in nonnull):
            return "real", True
        if all(parse_date(v) for v in nonnull):
            return "date", False
        if all(parse_date(v) or parse_datetime(v) for v in nonnull):
            return "datetime", False
        if all(parse_time(v) for v in nonnull):
            return "time", False
        return "text", False

    def _role(self, nonnull):
        if self.kind not in ("integer", "real") or self.percent or not nonnull:
            return None
        n = self.name.strip(" ").lower()
        vals = [self.conv[v] for v in nonnull]
        lo, hi = min(vals), max(vals)
        if (n in ("lat", "latitude", "위도") or "위도" in n) and -90 <= lo and hi <= 90:
            return "latitude"
        if (n in ("lng", "lon", "long", "longitude", "경도") or "경도" in n) and \
                -180 <= lo and hi <= 180:
            return "longitude"
        if n == "y" and 33 <= lo and hi <= 39:
            return "latitude"
        if n == "x" and 124 <= lo and hi <= 132:
            return "longitude"
        return None

    def convert(self, v):
        """The stored value of field v (None for NULL)."""
        c = self.conv.get(v, self)
        return self._convert(v) if c is self else c

    def _convert(self, v):
        if self.kind == "text":
            return None if v == "" else v
        if is_null(v):
            return None
        if self.kind == "integer":
            return parse_int(v)
        if self.kind == "boolean":
            return parse_bool(v)
        if self.kind == "real":
            i = parse_int(v)
            return float(i) if i is not None else parse_real(v)[0]
        if self.kind == "date":
            return fmt_date(parse_date(v))
        if self.kind == "datetime":
            d = parse_date(v)
            return fmt_date(d) + "T00:00:00" if d else parse_datetime(v)
        if self.kind == "time":
            return fmt_time(parse_time(v))
        raise AssertionError(self.kind)


class Model:
    """A whole file: header row and records (lists of str)."""

    def __init__(self, records, header=True):
        if header:
            self.header, self.rows = records[0], records[1:]
        else:
            self.header = [f"column_{i + 1}" for i in range(len(records[0]))]
            self.rows = records
        width = len(self.header)
        padded = [(r + [""] * width)[:width] for r in self.rows]
        self.columns = [ColumnModel(self.header[i], [r[i] for r in padded])
                        for i in range(width)]
        self.padded = padded

    def column(self, name):
        return self.columns[self.header.index(name)]

    def expected_rows(self):
        """Every row as the dataset should hold it."""
        convs = [c.conv for c in self.columns]
        return [[cv[v] for cv, v in zip(convs, r)] for r in self.padded]


def check_schema(d, model, names=None):
    """Types, categorical flags, roles and null counts of ``d`` against the
    model; names default to the model's header."""
    cols = d["columns_info"]
    names = names or model.header
    assert [c["name"] for c in cols] == list(names), [c["name"] for c in cols]
    problems = []
    for c, m in zip(cols, model.columns):
        want = (m.kind, m.categorical, m.role, m.nulls)
        got = (c["type"], c["categorical"], c["role"], c["nulls"])
        if want != got:
            problems.append(f"{c['name']}: expected (type, categorical, role, nulls) "
                            f"{want}, got {got}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# exports


def export_csv(who, dataset_id, query="", prefix="/api/datasets"):
    r = who.get(f"{prefix}/{dataset_id}/export?format=csv{query}", timeout=300)
    assert r.status_code == 200, (r.status_code, r.text[:1000])
    assert r.headers["Content-Type"].startswith("text/csv"), r.headers
    text = r.content.decode("utf-8")
    assert not text.startswith("\ufeff")
    return read_csv_text(text)


def typed_from_csv(model, field, column):
    """An exported CSV field read back by the column's type."""
    if field == "":
        return None
    kind = column.kind
    if kind == "integer":
        return int(field)
    if kind == "real":
        return float(field)
    if kind == "boolean":
        assert field in ("true", "false"), field
        return field == "true"
    return field


def compare_export(records, model, names=None):
    """The parsed export equals the model's expected rows, column by
    column (first difference reported per column)."""
    header, rows = records[0], records[1:]
    assert header == list(names or model.header), header
    assert len(rows) == len(model.padded), (len(rows), len(model.padded))
    problems = []
    for j, col in enumerate(model.columns):
        got_col = [r[j] for r in rows]
        want_col = [col.conv[r[j]] for r in model.padded]
        if col.kind == "text":
            # NULL and "" both export as an empty field
            if got_col == [w or "" for w in want_col]:
                continue
        typed = {}
        for i, (g, w) in enumerate(zip(got_col, want_col)):
            if g not in typed:
                typed[g] = typed_from_csv(model, g, col)
            if typed[g] != w and not (col.kind == "text" and w == "" and typed[g] is None):
                problems.append(f"column {col.name!r} ({col.kind}) row {i + 1}: "
                                f"expected {w!r}, exported {g!r} "
                                f"(source {model.padded[i][j]!r})")
                break
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------
# the dataset file itself (import.h, "The dataset file (format 1)")

DECLARED = {"integer": "INTEGER", "boolean": "INTEGER", "real": "REAL", "text": "TEXT",
            "date": "TEXT", "datetime": "TEXT", "time": "TEXT"}


def fetch_dataset_file(storage, srv, dataset_id, into):
    """A local copy of the dataset's SQLite file (the stored object), read
    behind the server's back: from DATA_DIR/objects, or from the bucket."""
    import shutil
    keys = [k for k in storage.objects(srv, "datasets/")
            if f"/{dataset_id}/" in k and k.endswith(".sqlite")]
    assert len(keys) == 1, keys
    dst = Path(into) / f"{dataset_id}.sqlite"
    if storage.name == "file":
        shutil.copyfile(storage.root(srv) / keys[0], dst)
    else:
        r = storage.client.request("GET", storage.bucket(srv), keys[0])
        dst.write_bytes(r.content)
    return dst


def check_dataset_file(path, d, expected_rows=None):
    """Opens the file with Python's sqlite3: integrity, the documented
    tables and columns, meta, and (when given) the data rows."""
    import sqlite3
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"data", "sheaf_columns", "sheaf_meta"} <= tables, tables
        info = db.execute("PRAGMA table_info(data)").fetchall()
        cols = d["columns_info"]
        assert [r[1] for r in info] == [c["name"] for c in cols]
        assert [r[2].upper() for r in info] == [DECLARED[c["type"]] for c in cols], info
        sc = db.execute("SELECT position, name, source_name, type, role, categorical, percent "
                        "FROM sheaf_columns ORDER BY position").fetchall()
        assert [(r[0], r[1], r[3], r[4], bool(r[5]), bool(r[6])) for r in sc] == [
            (i, c["name"], c["type"], c["role"], c["categorical"], c["percent"])
            for i, c in enumerate(cols)]
        meta = dict(db.execute("SELECT key, value FROM sheaf_meta"))
        assert meta.get("format") == "1", meta
        assert int(meta["rows"]) == d["rows"] and int(meta["columns"]) == d["columns"]
        assert json.loads(meta["warnings"]) == d["warnings"]
        n = db.execute("SELECT count(*) FROM data").fetchone()[0]
        assert n == d["rows"]
        rowids = [r[0] for r in db.execute("SELECT rowid FROM data ORDER BY rowid")]
        assert rowids == list(range(1, n + 1))
        if expected_rows is not None:
            got = [list(r) for r in db.execute("SELECT * FROM data ORDER BY rowid")]
            assert len(got) == len(expected_rows)
            for i, (g, w) in enumerate(zip(got, expected_rows)):
                assert g == w, f"row {i + 1}: file has {g!r}, expected {w!r}"
        return db.execute("SELECT * FROM data ORDER BY rowid").fetchall()
    finally:
        db.close()


# --------------------------------------------------------------------------
# fixtures and small helpers of the test_datasets_* modules (a module
# imports the fixtures it uses: storage, dsrv, start)

@pytest.fixture(scope="module", params=storage_params())
def storage(request):
    return make_storage(request.param)


@pytest.fixture(scope="module")
def dsrv(storage, tmp_path_factory, request):
    """One server shared by a module's simple tests, with small limits
    that the limit tests rely on (normal files stay far below them)."""
    yield from serve_on_storage(storage, tmp_path_factory, request.module.__name__,
                                {"SHEAF_DATASET_MAX_FIELD": "4K",
                                 "SHEAF_DATASET_MAX_UPLOAD": "48M",
                                 "SHEAF_DATASET_XLSX_MAX_RATIO": "50"})


@pytest.fixture
def start(storage, sheaf_factory):
    """start(env, like=None): a server of its own on this module's storage,
    or on the data dir and storage of the server ``like``."""
    envs = []

    def start(env=None, like=None):
        if like is not None:     # the same data dir and storage as ``like``
            return sheaf_factory.start(env={**like.extra_env, **(env or {})},
                                       data_dir=like.data_dir)
        senv = storage.env()
        envs.append(senv)
        return sheaf_factory.start(env={**senv, **(env or {})})
    yield start
    sheaf_factory.finish()
    for env in envs:
        storage.remove(env)


def up(srv, data, filename="data.csv", **fields):
    return upload_dataset(srv, data, filename, fields)


def up_ok(srv, data, filename="data.csv", **fields):
    return ready(up(srv, data, filename, **fields))


def rows_of(srv, d, limit=10000):
    r = srv.get(f"/api/datasets/{d['id']}/rows?limit={limit}")
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["rows"]


def write_csv(records, delimiter=",", newline="\n", quote_all=False):
    """RFC 4180 text: a field is quoted (inner quotes doubled) when it holds
    the delimiter, a quote, CR or LF (csv.writer would leave a LF unquoted
    with a CR line terminator)."""
    def field(v):
        if quote_all or any(ch in v for ch in (delimiter, '"', "\r", "\n")):
            return '"' + v.replace('"', '""') + '"'
        return v
    return "".join(delimiter.join(field(v) for v in r) + newline for r in records)


def db_rows(model):
    """The model's rows as SQLite holds them (booleans are 0/1)."""
    return [[int(v) if isinstance(v, bool) else v for v in r] for r in model.expected_rows()]


XLSX_ROWS = [
    # id, amount, when_date, when_dt, flag, label
    [1, 1234.5, dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 20, 30), True, "대구"],
    [2, -7.25, dt.date(2016, 1, 1), dt.datetime(2016, 1, 1, 1, 0, 0), False, "Seoul, KR"],
    [3, 0.0, dt.date(2000, 2, 29), dt.datetime(1999, 12, 31, 23, 59, 59), True, 'say "x"'],
    [4, 1e15, dt.date(1970, 1, 1), dt.datetime(2020, 6, 1, 12, 0, 0), False, "끝"],
]


XLSX_HEADER = ["id", "amount", "when_date", "when_dt", "flag", "label", "doubled"]


def set_cached_values(xlsx, member, values):
    """openpyxl writes formulas without results ("<v></v>"); put a cached
    value into each formula cell, in order, as Excel would have saved it."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                text = data.decode()
                for v in values:
                    assert "<v></v>" in text or "<v />" in text, text[:500]
                    text = text.replace("<v></v>" if "<v></v>" in text else "<v />",
                                        f"<v>{v}</v>", 1)
                data = text.encode()
            z.writestr(info.filename, data)
    return out.getvalue()


def make_xlsx():
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(XLSX_HEADER)
    for i, r in enumerate(XLSX_ROWS, start=2):
        ws.append(r + [f"=A{i}*2"])
        ws.cell(row=i, column=3).number_format = "yyyy-mm-dd"
        ws.cell(row=i, column=4).number_format = "yyyy-mm-dd hh:mm:ss"
    second = wb.create_sheet("Second")
    second.append(["k", "v"])
    second.append(["a", 1])
    second.append(["b", 2])
    third = wb.create_sheet("세번째")
    third.append(["only"])
    third.append(["z"])
    buf = io.BytesIO()
    wb.save(buf)
    return set_cached_values(buf.getvalue(), "xl/worksheets/sheet1.xml",
                             [r[0] * 2 for r in XLSX_ROWS])


def zip_bomb_xlsx(inflated=24 << 20):
    """A real workbook whose first sheet is a valid but huge, highly
    compressible XML (spaces between tags)."""
    src = zipfile.ZipFile(io.BytesIO(make_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                pad = " " * (inflated - len(text))
                data = text.replace("<sheetData>", "<sheetData>" + pad, 1).encode()
            z.writestr(info.filename, data)
    blob = out.getvalue()
    info = zipfile.ZipFile(io.BytesIO(blob)).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > 100, "not a bomb"
    return blob
