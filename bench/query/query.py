#!/usr/bin/python3
"""Analysis operations side by side: sheaf's tools over HTTP, pandas, sqlite3.

Run through bench/query/run (see README.md next to this file).  For each
dataset (the TAAS CSVs concatenated; a generated CSV of GEN_ROWS rows made
with bench/ingest/gencsv.py) and each operation (group_by, percentile,
value_counts, correlation) it times

  - sheaf: `POST /api/datasets/{id}/tools/{name}` against `sheaf serve`
    (the real binary, a dataset imported with `sheaf import`), from the
    client: the first call on a freshly started server (cold), then the
    median of RUNS more calls (warm);
  - pandas: the same operation on a DataFrame loaded once with read_csv
    (load time reported apart), the computation alone, median of RUNS
    (pandas_worker.py, a separate process);
  - sqlite3: Debian's sqlite3 CLI running equivalent SQL on sheaf's own
    dataset file, the whole process timed, median of RUNS;

checks every sheaf answer and every sqlite3 answer against pandas', and
writes a Markdown report to stdout and results.md.  Progress goes to
stderr.  Exit status: 0 measured and every answer matched, 3 something
mismatched or failed (a missing tool included), 1 could not measure.
"""
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
GENCSV = os.path.join(REPO, "bench", "ingest", "gencsv.py")
WORKER = os.path.join(HERE, "pandas_worker.py")
OPS = ["group_by", "percentile", "value_counts", "correlation"]

problems = []
notes = []


def say(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def flag(msg):
    problems.append(msg)
    say("PROBLEM: " + msg)


def note(msg):
    notes.append(msg)
    say("note: " + msg)


class Fatal(Exception):
    """Could not measure: exit 1."""


def env_int(name, default, minimum=0):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    raw = raw.replace("_", "")
    if not raw.isdigit() or int(raw) < minimum:
        raise Fatal("%s must be a whole number of at least %d, not '%s'" % (name, minimum, raw))
    return int(raw)


def env_float(name, default):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise Fatal("%s must be a number, not '%s'" % (name, raw)) from None


# ---- formatting -------------------------------------------------------------------

def secs(s):
    if s is None:
        return "—"
    if s >= 10:
        return "%.1f s" % s
    if s >= 1:
        return "%.2f s" % s
    ms = s * 1000
    if ms >= 10:
        return "%.0f ms" % ms
    if ms >= 1:
        return "%.1f ms" % ms
    return "%.2f ms" % ms


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return "—"
    r = a / b
    if r >= 10:
        return "%.0f×" % r
    if r >= 0.1:
        return "%.2f×" % r
    return "%.2g×" % r


def mib(b):
    return "%.0f MiB" % (b / 1048576)


def mb(b):
    return "%.1f MB" % (b / 1e6)


def median(xs):
    """The lower middle for an even count (a value that was measured)."""
    xs = sorted(xs)
    return xs[(len(xs) - 1) // 2] if xs else None


def short(obj, n=300):
    t = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return t if len(t) <= n else t[:n] + "…"


def ident(name):
    return '"' + name.replace('"', '""') + '"'


# ---- comparing answers ----------------------------------------------------------------

REL = 1e-9          # floats: relative tolerance
CORR_ABS = 1e-12    # correlations (in [-1, 1]): also this much absolute


def num_close(a, b, rel=REL, abs_tol=0.0):
    """a, b: numbers or None (null/NaN).  Both missing, or within rel."""
    if isinstance(a, float) and math.isnan(a):
        a = None
    if isinstance(b, float) and math.isnan(b):
        b = None
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (str, list, dict)) or isinstance(b, (str, list, dict)):
        return False
    a, b = float(a), float(b)
    return a == b or abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_tol)


def key_of(v):
    """A group key or counted value, comparable across JSON sources."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return str(v)


def tables(obj, path="result"):
    """Every {"columns": [names], "rows": [[...]...]} inside obj, as
    (path, columns, rows)."""
    if isinstance(obj, dict):
        cols, rows = obj.get("columns"), obj.get("rows")
        if (isinstance(cols, list) and all(isinstance(c, str) for c in cols)
                and isinstance(rows, list) and all(isinstance(r, list) for r in rows)):
            yield path, cols, rows
        for k, v in obj.items():
            yield from tables(v, path + "." + k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from tables(v, "%s[%d]" % (path, i))


class Unreadable(Exception):
    """The answer does not hold what was looked for."""


def agg_name(a):
    return "%s(%s)" % (a["function"], a.get("column", "*"))


# Readers: a sheaf result (tolerant about names) -> the normalized form.

def sheaf_group_by(result, args):
    by = args["by"]
    aggs = args["aggregations"]
    agg_cols = [a["column"] for a in aggs if "column" in a]
    for path, cols, rows in tables(result):
        if not all(b in cols for b in by):
            continue
        kidx = [cols.index(b) for b in by]
        aidx = []
        for a in aggs:
            fn, col = a["function"], a.get("column")
            exact = agg_name(a)
            if exact in cols:
                aidx.append(cols.index(exact))
                continue
            found = None
            for i, name in enumerate(cols):
                low = name.lower()
                if i in kidx or i in aidx:
                    continue
                if col is None:
                    if (fn in low or "size" in low or "rows" in low or low == "n") and \
                            not any(c in name for c in agg_cols):
                        found = i
                        break
                elif fn in low and col in name:
                    found = i
                    break
            if found is None:
                raise Unreadable("%s has no column for %s (columns: %s)" % (path, exact, cols))
            aidx.append(found)
        groups = {}
        for r in rows:
            groups[tuple(key_of(r[i]) for i in kidx)] = [r[i] for i in aidx]
        return groups
    raise Unreadable("no table with the column(s) %s in the result" % by)


def sheaf_percentile(result, args):
    ps = args["percentiles"]
    want = [float(p) for p in ps]
    for path, cols, rows in tables(result):
        if len(cols) < 2 or len(rows) != len(ps):
            continue
        for scale in (1.0, 0.01):
            firsts = [r[0] for r in rows]
            if all(isinstance(x, (int, float)) for x in firsts) and \
                    all(num_close(x, w * scale) for x, w in zip(firsts, want)):
                vidx = cols.index("value") if "value" in cols else 1
                return {w: r[vidx] for w, r in zip(want, rows)}
    # An object with keys p25 / 25 / 0.25 ...
    def search(o):
        if isinstance(o, dict):
            got = {}
            for w in want:
                for k in ("p%g" % w, "%g" % w, "%g" % (w / 100), "p%d" % w if w == int(w) else ""):
                    if k and k in o and (o[k] is None or isinstance(o[k], (int, float))):
                        got[w] = o[k]
                        break
            if len(got) == len(want):
                return got
            for v in o.values():
                r = search(v)
                if r:
                    return r
        return None
    got = search(result)
    if got:
        return got
    raise Unreadable("no table of (percentile, value) for %s in the result" % ps)


def sheaf_value_counts(result, args):
    col = args["column"]
    for path, cols, rows in tables(result):
        low = [c.lower() for c in cols]
        if "count" in low:
            cidx = low.index("count")
        else:
            cand = [i for i, c in enumerate(low) if "count" in c or c in ("n", "freq", "frequency")]
            if not cand:
                continue
            cidx = cand[0]
        if "value" in low:
            vidx = low.index("value")
        elif col in cols:
            vidx = cols.index(col)
        else:
            vidx = 0 if cidx != 0 else 1
        if vidx == cidx or vidx >= len(cols):
            continue
        return [(r[vidx], r[cidx]) for r in rows]
    raise Unreadable("no table of (value, count) in the result")


def sheaf_correlation(result, args):
    want = args["columns"]
    for path, cols, rows in tables(result):
        if not all(c in cols for c in want):
            continue
        lab = [i for i, c in enumerate(cols) if c not in want]
        lidx = lab[0] if lab else 0
        m = {}
        for r in rows:
            a = r[lidx]
            for b in want:
                m[(a, b)] = r[cols.index(b)]
        if all((a, b) in m for a in want for b in want):
            return m
    names, mat = result.get("columns"), result.get("matrix")
    if isinstance(names, list) and isinstance(mat, list) and len(mat) == len(names):
        m = {}
        for a, row in zip(names, mat):
            for b, v in zip(names, row):
                m[(a, b)] = v
        if all((a, b) in m for a in want for b in want):
            return m
    raise Unreadable("no correlation matrix over %s in the result" % want)


SHEAF_READERS = {"group_by": sheaf_group_by, "percentile": sheaf_percentile,
                 "value_counts": sheaf_value_counts, "correlation": sheaf_correlation}


# pandas' answer (pandas_worker.py) -> the normalized form.

def pandas_norm(op, ans, args):
    if op == "group_by":
        nk = len(args["by"])
        return {tuple(key_of(k) for k in r[:nk]): r[nk:] for r in ans["rows"]}
    if op == "percentile":
        return {float(p): v for p, v in ans}
    if op == "value_counts":
        return ans
    if op == "correlation":
        cols = ans["columns"]
        return {(a, b): v for a, row in zip(cols, ans["matrix"]) for b, v in zip(cols, row)}
    raise ValueError(op)


class Diffs:
    """The differences found, and the largest gap between floats that
    matched (to see how far inside the tolerance an answer is)."""

    def __init__(self):
        self.list = []
        self.rel = 0.0
        self.abs = 0.0

    def add(self, text):
        if len(self.list) < 8:
            self.list.append(text)

    def floats(self, w, g, abs_tol=0.0):
        ok = num_close(w, g, REL, abs_tol)
        if ok and isinstance(w, (int, float)) and isinstance(g, (int, float)) and \
                not isinstance(w, bool) and not isinstance(g, bool) and \
                math.isfinite(w) and math.isfinite(g) and w != g:
            d = abs(float(w) - float(g))
            self.abs = max(self.abs, d)
            self.rel = max(self.rel, d / max(abs(float(w)), abs(float(g))))
        return ok


def compare(op, want, got, args):
    """want: pandas' answer (normalized), got: sheaf's or sqlite3's
    (normalized).  Returns (Diffs, a description of what was compared);
    no differences listed: it matches."""
    d = Diffs()
    if op == "group_by":
        names = [agg_name(a) for a in args["aggregations"]]
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        def show(k):
            return repr(k[0]) if len(k) == 1 else repr(k)
        for k in missing[:3]:
            d.add("group %s missing" % show(k))
        for k in extra[:3]:
            d.add("group %s not in pandas' answer" % show(k))
        if missing or extra:
            d.add("%d groups, pandas %d" % (len(got), len(want)))
        for k in want:
            if k not in got:
                continue
            for name, w, g in zip(names, want[k], got[k]):
                ok = (w == g) if name.startswith("count(") else d.floats(w, g)
                if not ok:
                    d.add("group %s %s: %r, pandas %r" % (show(k), name, g, w))
        return d, "%d groups × %d aggregations" % (len(want), len(names))
    if op == "percentile":
        for p, w in want.items():
            g = got.get(p, "absent")
            if not d.floats(w, g):
                d.add("p%g: %r, pandas %r" % (p, g, w))
        return d, "%d percentiles" % len(want)
    if op == "value_counts":
        top = args.get("top", 10)
        allc = {key_of(k): c for k, c in want["all"]}
        n = min(top, len(allc))
        if len(got) != n:
            d.add("%d values listed, expected %d" % (len(got), n))
        seen = set()
        prev = None
        for v, c in got:
            k = key_of(v)
            if k in seen:
                d.add("%r listed twice" % (v,))
            seen.add(k)
            if k not in allc:
                d.add("%r (count %r) does not occur in pandas' counts" % (v, c))
            elif allc[k] != c:
                d.add("%r: count %r, pandas %r" % (v, c, allc[k]))
            if prev is not None and isinstance(c, (int, float)) and c > prev:
                d.add("not most frequent first (%r after %r)" % (c, prev))
            prev = c if isinstance(c, (int, float)) else prev
        unlisted = [c for k, c in allc.items() if k not in seen]
        listed = [c for _, c in got if isinstance(c, (int, float))]
        if unlisted and listed and max(unlisted) > min(listed):
            d.add("a value counted %d is left out while one counted %d is listed"
                  % (max(unlisted), min(listed)))
        return d, "the top %d of %d distinct values and their counts" % (n, len(allc))
    if op == "correlation":
        cols = args["columns"]
        for a in cols:
            for b in cols:
                w, g = want.get((a, b)), got.get((a, b), "absent")
                if not d.floats(w, g, CORR_ABS):
                    d.add("r(%s, %s): %r, pandas %r" % (a, b, g, w))
        return d, "%d×%d matrix" % (len(cols), len(cols))
    raise ValueError(op)


# ---- the datasets ---------------------------------------------------------------------

def make_taas(zip_path, out):
    """The CSVs of the zip in name order, the first whole, the others without
    their header line.  Rows by Python's csv module."""
    import csv
    z = zipfile.ZipFile(zip_path)
    members = sorted((i for i in z.infolist() if i.filename.lower().endswith(".csv")),
                     key=lambda i: i.filename)
    if not members:
        raise Fatal("%s holds no CSV" % zip_path)
    with open(out, "wb") as f:
        for n, info in enumerate(members):
            d = z.read(info)
            if n:
                d = d[d.index(b"\n") + 1:]
            f.write(d)
    with open(out, newline="", encoding="utf-8-sig") as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    return rows, len(members)


def digits_upto(n):
    """Total decimal digits of 1..n."""
    total, lo, d = 0, 1, 1
    while lo <= n:
        hi = min(n, lo * 10 - 1)
        total += (hi - lo + 1) * d
        lo, d = lo * 10, d + 1
    return total


def gencsv(out, nbytes):
    p = subprocess.run([PY, GENCSV, out, str(nbytes)], capture_output=True, text=True)
    if p.returncode != 0:
        raise Fatal("gencsv.py failed: %s" % p.stderr[-400:])
    return int(p.stdout.strip())


def make_generated(out, rows, work):
    """gencsv.py writes whole rows up to a byte count; ask for a little more
    than `rows` rows take (estimated from a small run of the same stream),
    then cut the file after `rows` rows (no field holds a newline)."""
    calib = os.path.join(work, "calibrate.csv")
    r1 = gencsv(calib, 2_000_000)
    with open(calib, "rb") as f:
        header = len(f.readline())
    b1 = os.path.getsize(calib)
    os.unlink(calib)
    per_row = (b1 - header - digits_upto(r1) - r1) / r1   # bytes besides the id and its \n... roughly
    target = header + rows * (per_row + 1) + digits_upto(rows)
    target = int(target * 1.003) + 65536
    for _ in range(4):
        got = gencsv(out, target)
        if got >= rows:
            break
        target = int(target * 1.05)
    else:
        raise Fatal("gencsv.py wrote %d rows, fewer than the %d asked" % (got, rows))
    # Cut after the header and `rows` lines.
    need = rows + 1
    off = 0
    with open(out, "rb") as f:
        while need:
            chunk = f.read(1 << 24)
            if not chunk:
                raise Fatal("%s ended before %d rows" % (out, rows))
            c = chunk.count(b"\n")
            if c < need:
                need -= c
                off += len(chunk)
                continue
            pos = -1
            for _ in range(need):
                pos = chunk.index(b"\n", pos + 1)
            off += pos + 1
            need = 0
    os.truncate(out, off)
    return rows


# ---- sheaf ----------------------------------------------------------------------------

def clean_env(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEAF_")}
    env.update(extra)
    return env


SERVE_ENV = {"SHEAF_AUTH": "off", "SHEAF_QUERY_TIMEOUT_MS": "600000", "SHEAF_QUERY_MEMORY": "8G"}
BAD_LOG = re.compile(r"^\S+\s+(warn|warning|error|fatal|crit|critical|alert|emerg)\b", re.I)


def sheaf_import(sheaf, csv_path, data_dir, name):
    cmd = [sheaf, "import", csv_path, "--data-dir", data_dir, "--name", name, "--quiet"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=clean_env({}))
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise Fatal("'%s' failed with status %d: %s" % (" ".join(cmd), p.returncode,
                                                       (p.stderr or p.stdout)[-400:]))
    lines = p.stdout.splitlines()
    m = re.match(r'^dataset (\S+) "(.*)": (\d+) rows, (\d+) columns', lines[0] if lines else "")
    if not m:
        raise Fatal("could not read the dataset id from sheaf import's output: %s" % short(p.stdout))
    types = {}
    for line in lines[1:]:
        t2 = re.match(r"^  (.*?\S)\s+(text|boolean|integer|real|date|datetime|time)(\s.*)?$", line)
        if t2:
            types[t2.group(1)] = t2.group(2)
        elif line.strip().startswith("warning:"):
            note("sheaf import %s: %s" % (name, line.strip()))
    for line in p.stderr.splitlines():
        if BAD_LOG.match(line):
            flag("sheaf import %s: %s" % (name, line[:300]))
    ds_id = m.group(1)
    files = sorted(glob.glob(os.path.join(data_dir, "objects", "datasets", "*", glob.escape(ds_id), "*.sqlite")) +
                   glob.glob(os.path.join(data_dir, "cache", "**", "*.sqlite"), recursive=True))
    if not files:
        raise Fatal("no dataset file (*.sqlite) for %s under %s/objects/datasets" % (ds_id, data_dir))
    return {"id": ds_id, "rows": int(m.group(3)), "columns": int(m.group(4)), "types": types,
            "file": files[0], "seconds": t}


class Server:
    """`sheaf serve` on a free loopback port, started and stopped by us."""

    def __init__(self, sheaf, data_dir, log_path):
        self.log = open(log_path, "a", encoding="utf-8", errors="replace")
        self.bad = []
        self.tail = []
        self.port = None
        self.ready = threading.Event()
        self.p = subprocess.Popen(
            [sheaf, "serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=clean_env(SERVE_ENV), text=True, encoding="utf-8", errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 60
        while not self.ready.wait(0.05):
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Fatal("sheaf serve did not start (see %s): %s" % (
                    log_path, " | ".join(self.tail[-5:]) if self.tail else "no output"))
        self.base = "http://127.0.0.1:%d" % self.port

    def _read(self):
        for line in self.p.stdout:
            self.log.write(line)
            self.log.flush()
            self.tail = (self.tail + [line.rstrip()])[-20:]
            if self.port is None:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    self.ready.set()
            if BAD_LOG.match(line):
                self.bad.append(line.rstrip())

    def peak_rss(self):
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                say("sheaf serve (pid %d) did not stop within 60 s of SIGTERM: killing it" % self.p.pid)
                self.p.kill()
                self.p.wait()
        self.reader.join(10)
        self.log.close()
        return self.p.returncode


# ---- pandas ---------------------------------------------------------------------------

class Pandas:
    def __init__(self, csv_path):
        self.p = subprocess.Popen([PY, WORKER, csv_path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, encoding="utf-8")
        line = self.p.stdout.readline()
        if not line:
            self.p.wait()
            raise Fatal("pandas could not load %s (status %s)" % (csv_path, self.p.returncode))
        self.info = json.loads(line)

    def run(self, op, args, answer):
        self.p.stdin.write(json.dumps({"op": op, "args": args, "answer": answer},
                                      ensure_ascii=False) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise Fatal("the pandas worker died (status %s)" % self.p.wait())
        return json.loads(line)

    def peak_rss(self):
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# ---- sqlite3 ----------------------------------------------------------------------------

def sql_for(op, args):
    if op == "group_by":
        keys = ", ".join(ident(b) for b in args["by"])
        sel = []
        for a in args["aggregations"]:
            fn, col = a["function"], a.get("column")
            if col is None:
                sel.append("count(*)")
            elif fn == "mean":
                sel.append("avg(%s)" % ident(col))
            elif fn in ("sum", "min", "max", "count"):
                sel.append("%s(%s)" % (fn, ident(col)))
            else:
                raise ValueError("no SQL for %s" % fn)
        where = " AND ".join("%s IS NOT NULL" % ident(b) for b in args["by"])
        return "SELECT %s, %s FROM data WHERE %s GROUP BY %s ORDER BY %s" % (
            keys, ", ".join(sel), where, keys, keys)
    if op == "value_counts":
        c = ident(args["column"])
        return ("SELECT %s AS value, count(*) AS n FROM data WHERE %s IS NOT NULL "
                "GROUP BY %s ORDER BY n DESC, value LIMIT %d" % (c, c, c, args.get("top", 10)))
    if op == "percentile":
        c = ident(args["column"])
        ps = ", ".join("(%r)" % float(p) for p in args["percentiles"])
        # numpy's linear: h = (n - 1) p; v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h])
        return (
            "WITH n(c) AS (SELECT count(%(c)s) FROM data), "
            "pos(p, h) AS (SELECT q.column1, (n.c - 1) * q.column1 / 100.0 FROM (VALUES %(ps)s) AS q, n), "
            "s(i, v) AS MATERIALIZED (SELECT row_number() OVER (ORDER BY %(c)s) - 1, %(c)s FROM data "
            "WHERE %(c)s IS NOT NULL), "
            "picked(i, v) AS MATERIALIZED (SELECT i, v FROM s WHERE i IN "
            "(SELECT CAST(h AS INTEGER) FROM pos UNION SELECT CAST(h AS INTEGER) + 1 FROM pos)) "
            "SELECT pos.p AS p, lo.v + (pos.h - CAST(pos.h AS INTEGER)) * (coalesce(hi.v, lo.v) - lo.v) AS value "
            "FROM pos LEFT JOIN picked lo ON lo.i = CAST(pos.h AS INTEGER) "
            "LEFT JOIN picked hi ON hi.i = CAST(pos.h AS INTEGER) + 1 ORDER BY pos.p"
            % {"c": c, "ps": ps})
    if op == "correlation":
        cols = args["columns"]
        k = len(cols)
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        means, sums = [], []
        # The diagonal: 1 when the column varies (pandas gives NaN for a
        # constant column or fewer than two values).
        for i, c in enumerate(cols):
            a = ident(c)
            means.append("avg(%s) AS m%d" % (a, i))
            sums.append("CASE WHEN sum((%s - m%d) * (%s - m%d)) > 0 THEN 1.0 END AS r%d_%d"
                        % (a, i, a, i, i, i))
        for n, (i, j) in enumerate(pairs):
            a, b = ident(cols[i]), ident(cols[j])
            both = "%s IS NOT NULL AND %s IS NOT NULL" % (a, b)
            means.append("avg(CASE WHEN %s THEN %s END) AS a%d, avg(CASE WHEN %s THEN %s END) AS b%d"
                         % (both, a, n, both, b, n))
            da, db = "(%s - a%d)" % (a, n), "(%s - b%d)" % (b, n)
            sums.append("sum(%s * %s) / sqrt(sum(CASE WHEN %s IS NOT NULL THEN %s * %s END) * "
                        "sum(CASE WHEN %s IS NOT NULL THEN %s * %s END)) AS r%d_%d"
                        % (da, db, b, da, da, a, db, db, i, j))
        # Two passes, as a careful SQL user would: each pair's means over
        # the rows where both have values, then the centred sums (one pass
        # of raw sums loses digits to cancellation when a mean is large, as
        # with lat and lng).
        return "WITH m AS (SELECT %s FROM data) SELECT %s FROM data, m" % (
            ", ".join(means), ", ".join(sums))
    raise ValueError(op)


def sqlite_norm(op, rows, args):
    if op == "group_by":
        nk = len(args["by"])
        out = {}
        for r in rows:
            vals = list(r.values())
            out[tuple(key_of(v) for v in vals[:nk])] = vals[nk:]
        return out
    if op == "value_counts":
        return [(r["value"], r["n"]) for r in rows]
    if op == "percentile":
        return {float(r["p"]): r["value"] for r in rows}
    if op == "correlation":
        cols = args["columns"]
        r = rows[0] if rows else {}
        m = {}
        for i in range(len(cols)):
            for j in range(i, len(cols)):
                v = r.get("r%d_%d" % (i, j))
                m[(cols[i], cols[j])] = m[(cols[j], cols[i])] = v
        return m
    raise ValueError(op)


def sqlite_run(db, sql, timeout):
    t0 = time.perf_counter()
    try:
        p = subprocess.run(["sqlite3", "-readonly", "-json", db, sql], capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, "took over %d s (SQLITE_TIMEOUT)" % timeout
    t = time.perf_counter() - t0
    if p.returncode != 0:
        return None, None, "status %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-300:])
    out = p.stdout.decode()
    try:
        rows = json.loads(out) if out.strip() else []
    except ValueError:
        return None, None, "unreadable output: %s" % short(out)
    return t, rows, None


# ---- what is run ---------------------------------------------------------------------

def op_args(kind):
    if kind == "taas":
        return {
            "group_by": {"by": ["요일"], "aggregations": [
                {"column": "사망자수", "function": "mean"},
                {"column": "중상자수", "function": "mean"},
                {"column": "경상자수", "function": "mean"},
                {"column": "부상신고자수", "function": "mean"},
                {"function": "count"}]},
            "percentile": {"column": "경상자수", "percentiles": [25, 50, 75, 90, 99]},
            "value_counts": {"column": "시군구", "top": 10},
            "correlation": {"columns": ["사망자수", "중상자수", "경상자수", "부상신고자수"],
                            "method": "pearson"},
        }
    return {
        "group_by": {"by": ["district"], "aggregations": [
            {"column": "amount", "function": "mean"}, {"function": "count"}]},
        "percentile": {"column": "amount", "percentiles": [25, 50, 75, 90, 99]},
        "value_counts": {"column": "category", "top": 10},
        "correlation": {"columns": ["amount", "quantity", "score", "lat", "lng"],
                        "method": "pearson"},
    }


def pandas_expr(op, args):
    if op == "group_by":
        named = ", ".join('"%s": (%r, %r)' % (agg_name(a), a.get("column", args["by"][0]),
                                             "size" if "column" not in a else a["function"])
                          for a in args["aggregations"])
        return "df.groupby(%r).agg(**{%s})" % (args["by"], named)
    if op == "percentile":
        return "df[%r].quantile(%r)" % (args["column"], [p / 100 for p in args["percentiles"]])
    if op == "value_counts":
        return "df[%r].value_counts().head(%d)" % (args["column"], args.get("top", 10))
    if op == "correlation":
        return "df[%r].corr(method=%r)" % (args["columns"], args.get("method", "pearson"))
    raise ValueError(op)


def op_label(op, args):
    if op == "group_by":
        fns = {}
        for a in args["aggregations"]:
            fns[a["function"]] = fns.get(a["function"], 0) + 1
        return "group_by %s (%s)" % (", ".join(args["by"]),
                                     ", ".join(f if n == 1 else "%s ×%d" % (f, n) for f, n in fns.items()))
    if op == "percentile":
        return "percentile %s (%s)" % (args["column"], ", ".join("%g" % p for p in args["percentiles"]))
    if op == "value_counts":
        return "value_counts %s (top %d)" % (args["column"], args.get("top", 10))
    if op == "correlation":
        return "correlation %s (%d columns)" % (args.get("method", "pearson"), len(args["columns"]))
    return op


# ---- the run --------------------------------------------------------------------------

def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_load(load_max, load_wait):
    if load1() < load_max:
        return
    if load_wait <= 0:
        note("the 1-minute load average was %.2f, at or above LOAD_MAX=%g, and LOAD_WAIT=0: "
             "measured on a busy machine" % (load1(), load_max))
        return
    say("1-minute load average %.2f ≥ %g: waiting up to %d s for it to drop" % (load1(), load_max, load_wait))
    waited = 0
    while load1() >= load_max and waited < load_wait:
        time.sleep(10)
        waited += 10
    if load1() < load_max:
        say("load average %.2f after %d s" % (load1(), waited))
    else:
        note("the 1-minute load average stayed at or above %g for %d s (it was %.2f): measured anyway, "
             "on a busy machine" % (load_max, load_wait, load1()))


def measure(ds, sheaf, runs, sqlite_timeout, http_timeout, available, work):
    """Every operation on one dataset; fills ds["ops"]."""
    import requests
    say("%s: pandas read_csv (once; its time is the load column)" % ds["name"])
    pd_ = Pandas(ds["csv"])
    ds["pandas_load"] = pd_.info["load_s"]
    ds["pandas_dtypes"] = pd_.info.get("dtypes", {})
    if pd_.info["rows"] != ds["rows"]:
        flag("%s: pandas read %d rows, expected %d" % (ds["name"], pd_.info["rows"], ds["rows"]))
    say("%s: pandas loaded %d rows in %s" % (ds["name"], pd_.info["rows"], secs(pd_.info["load_s"])))
    ds["ops"] = {}
    server_peak = 0
    try:
        for op in OPS:
            args = ds["args"][op]
            r = {"args": args, "sheaf_cold": None, "sheaf_warm": [], "sheaf_server_ms": [],
                 "pandas": [], "sqlite": [], "sheaf_check": None, "sqlite_check": None,
                 "sheaf_error": None, "pandas_error": None, "sqlite_error": None,
                 "sql": sql_for(op, args), "expr": pandas_expr(op, args)}
            ds["ops"][op] = r
            label = "%s: %s" % (ds["name"], op)

            # pandas' answer first: the reference for both checks.
            res = pd_.run(op, args, True)
            if "error" in res:
                r["pandas_error"] = res["error"]
                flag("%s: pandas failed: %s" % (label, res["error"]))
                want = None
            else:
                want = pandas_norm(op, res["answer"], args)
                r["pandas"].append(res["seconds"])   # its first run counts too
                # what the check covers (and the comparison run on pandas itself)
                own = [tuple(x) for x in want["top"]] if op == "value_counts" else want
                d, r["check_what"] = compare(op, want, own, args)
                if d.list:
                    flag("%s: the check does not accept pandas' own answer: %s" % (label, d.list))

            sheaf_diffs = []
            gap = [0.0, 0.0]

            def check_sheaf(body, which):
                if want is None:
                    return
                try:
                    got = SHEAF_READERS[op](body.get("result", body), args)
                except Unreadable as e:
                    sheaf_diffs.append("%s call: %s: %s" % (which, e, short(body.get("result"), 400)))
                    return
                d, _ = compare(op, want, got, args)
                for x in d.list:
                    sheaf_diffs.append("%s call: %s" % (which, x))
                gap[0], gap[1] = max(gap[0], d.rel), max(gap[1], d.abs)

            server = None
            session = None
            if op in available:
                say("%s: starting sheaf serve" % label)
                server = Server(sheaf, ds["data_dir"], os.path.join(work, "serve.log"))
                session = requests.Session()
                url = "%s/api/datasets/%s/tools/%s" % (server.base, ds["id"], op)
                body = json.dumps(args, ensure_ascii=False).encode()
                hdr = {"Content-Type": "application/json"}

                def call(which):
                    t0 = time.perf_counter()
                    resp = session.post(url, data=body, headers=hdr, timeout=http_timeout)
                    content = resp.content
                    t = time.perf_counter() - t0
                    if resp.status_code != 200:
                        raise RuntimeError("HTTP %d: %s" % (resp.status_code,
                                                           short(content.decode(errors="replace"), 400)))
                    js = json.loads(content)
                    check_sheaf(js, which)
                    if isinstance(js.get("elapsed_ms"), (int, float)):
                        r["sheaf_server_ms"].append(js["elapsed_ms"])
                    return t
            try:
                if server:
                    try:
                        r["sheaf_cold"] = call("cold")
                    except (RuntimeError, requests.RequestException, ValueError) as e:
                        r["sheaf_error"] = str(e)
                        flag("%s: sheaf: POST %s %s failed: %s" % (label, url[len(server.base):],
                                                                    short(args), e))
                for i in range(runs):
                    say("%s: run %d of %d" % (label, i + 1, runs))
                    if server and not r["sheaf_error"]:
                        try:
                            r["sheaf_warm"].append(call("warm %d" % (i + 1)))
                        except (RuntimeError, requests.RequestException, ValueError) as e:
                            r["sheaf_error"] = str(e)
                            flag("%s: sheaf: warm call %d failed: %s" % (label, i + 1, e))
                    if not r["pandas_error"] and len(r["pandas"]) < runs:
                        res = pd_.run(op, args, False)
                        if "error" in res:
                            r["pandas_error"] = res["error"]
                            flag("%s: pandas failed: %s" % (label, res["error"]))
                        else:
                            r["pandas"].append(res["seconds"])
                    if not r["sqlite_error"]:
                        t, rows, err = sqlite_run(ds["file"], r["sql"], sqlite_timeout)
                        if err:
                            r["sqlite_error"] = err
                            flag("%s: sqlite3 failed: %s" % (label, err))
                        else:
                            r["sqlite"].append(t)
                            if i == 0 and want is not None:
                                d, _ = compare(op, want, sqlite_norm(op, rows, args), args)
                                r["sqlite_check"] = d.list
                                r["sqlite_gap"] = (d.rel, d.abs)
                                if d.list:
                                    flag("%s: sqlite3's answer differs from pandas' (SQL in the report): %s"
                                         % (label, "; ".join(d.list)))
            finally:
                if server:
                    server_peak = max(server_peak, server.peak_rss() or 0)
                    rc = server.stop()
                    if session:
                        session.close()
                    if rc not in (0, None):
                        flag("%s: sheaf serve exited with status %s on SIGTERM" % (label, rc))
                    for line in server.bad:
                        flag("%s: sheaf serve logged: %s" % (label, line[:300]))
            if server and want is not None and (r["sheaf_cold"] is not None or r["sheaf_warm"]):
                r["sheaf_check"] = sheaf_diffs
                r["sheaf_gap"] = tuple(gap)
                if sheaf_diffs:
                    flag("%s: sheaf's answer differs from pandas' (POST /api/datasets/%s/tools/%s %s): %s"
                         % (label, ds["id"], op, json.dumps(args, ensure_ascii=False),
                            "; ".join(sheaf_diffs[:6])))
            if op not in available:
                r["sheaf_error"] = "missing"
    finally:
        ds["pandas_peak"] = pd_.peak_rss()
        pd_.close()
    ds["server_peak"] = server_peak


def main():
    runs = env_int("RUNS", 5, 1)
    gen_rows = env_int("GEN_ROWS", 10_000_000, 0)
    do_taas = os.environ.get("TAAS", "1") != "0"
    taas_zip = os.environ.get("TAAS_ZIP") or os.path.join(REPO, "..", "shared", "data", "daegu",
                                                            "taas", "data.zip")
    sheaf = os.environ.get("SHEAF_BIN") or os.path.join(REPO, "build", "release", "sheaf")
    sheaf = os.path.abspath(sheaf)
    bench_dir = os.environ.get("BENCH_DIR") or os.environ.get("TMPDIR") or "/tmp"
    keep = os.environ.get("BENCH_KEEP") == "1"
    sqlite_timeout = env_int("SQLITE_TIMEOUT", 3600, 1)
    http_timeout = env_int("HTTP_TIMEOUT", 3600, 1)
    load_max = env_float("LOAD_MAX", 1.0)
    load_wait = env_int("LOAD_WAIT", 300)
    if not do_taas and gen_rows == 0:
        raise Fatal("nothing to measure: TAAS=0 and GEN_ROWS=0")
    if do_taas and not os.path.isfile(taas_zip):
        raise Fatal("TAAS_ZIP=%s: no such file" % taas_zip)
    if not (os.path.isfile(sheaf) and os.access(sheaf, os.X_OK)):
        raise Fatal("%s is not an executable file (build it with 'make release' or set SHEAF_BIN)" % sheaf)
    if not os.path.isdir(bench_dir):
        raise Fatal("BENCH_DIR=%s is not a directory" % bench_dir)
    if not shutil.which("sqlite3"):
        raise Fatal("no sqlite3 on PATH")
    import importlib.util
    if importlib.util.find_spec("requests") is None:
        raise Fatal("python3-requests is missing")

    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    commit_line = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%h %s"],
                                 capture_output=True, text=True).stdout.strip()[:100]
    sheaf_version = subprocess.run([sheaf, "--version"], capture_output=True,
                                   text=True).stdout.strip().splitlines()[:1]
    load_start = loadavg()
    if sheaf_version and commit.split("-dirty")[0] not in sheaf_version[0]:
        note("the sheaf binary reports \"%s\" but the repository is at %s: it was built from "
             "another commit than the one this report names" % (sheaf_version[0], commit))

    work = tempfile.mkdtemp(prefix="sheaf-query-bench.", dir=bench_dir)
    say("working in %s" % work)
    try:
        return run(locals())
    finally:
        if keep:
            say("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(c):
    work, runs, sheaf = c["work"], c["runs"], c["sheaf"]
    st = os.statvfs(work)
    avail = st.f_bavail * st.f_frsize
    # The generated CSV (~126 bytes a row), sheaf's copy of it and its
    # dataset file, plus 1 GiB.
    need = c["gen_rows"] * 130 * 3 + (1 << 30)
    if need > avail:
        raise Fatal("%s has %s free; GEN_ROWS=%d needs about %s" % (work, mib(avail), c["gen_rows"], mib(need)))

    datasets = []
    if c["do_taas"]:
        path = os.path.join(work, "taas.csv")
        say("TAAS: concatenating the CSVs of %s into %s" % (c["taas_zip"], path))
        rows, members = make_taas(c["taas_zip"], path)
        datasets.append({"kind": "taas", "name": "TAAS (%d CSVs concatenated)" % members,
                         "short": "taas", "csv": path, "rows": rows})
    if c["gen_rows"]:
        path = os.path.join(work, "generated.csv")
        say("generating %s with %d rows (bench/ingest/gencsv.py)" % (path, c["gen_rows"]))
        t0 = time.perf_counter()
        rows = make_generated(path, c["gen_rows"], work)
        say("generated in %s" % secs(time.perf_counter() - t0))
        datasets.append({"kind": "generated", "name": "generated (gencsv.py, %d rows)" % rows,
                         "short": "generated", "csv": path, "rows": rows})
    for ds in datasets:
        ds["bytes"] = os.path.getsize(ds["csv"])
        ds["args"] = op_args(ds["kind"])
        ds["data_dir"] = os.path.join(work, "sheaf-" + ds["short"])
        say("%s: sheaf import (%s)" % (ds["name"], mb(ds["bytes"])))
        imp = sheaf_import(sheaf, ds["csv"], ds["data_dir"], ds["short"])
        ds.update({"id": imp["id"], "file": imp["file"], "types": imp["types"],
                   "import_s": imp["seconds"], "ncols": imp["columns"]})
        if imp["rows"] != ds["rows"]:
            flag("%s: sheaf import reported %d rows, expected %d" % (ds["name"], imp["rows"], ds["rows"]))
        say("%s: dataset %s, %d rows, %d columns, in %s" % (ds["name"], imp["id"], imp["rows"],
                                                           imp["columns"], secs(imp["seconds"])))
        used = set()
        for a in ds["args"].values():
            used.update(a.get("by", []))
            used.update(x["column"] for x in a.get("aggregations", []) if "column" in x)
            used.update(a.get("columns", []))
            if "column" in a:
                used.add(a["column"])
        for col in sorted(used):
            if col not in imp["types"]:
                raise Fatal("%s: sheaf's import has no column %s (it has %s)" % (
                    ds["name"], col, ", ".join(imp["types"])))
        ds["used_types"] = {col: imp["types"][col] for col in sorted(used)}

    # Which tools this build has.
    say("asking the server for its tools (GET /api/tools)")
    import requests
    server = Server(sheaf, datasets[0]["data_dir"], os.path.join(work, "serve.log"))
    try:
        resp = requests.get(server.base + "/api/tools", timeout=60)
        tools = resp.json().get("tools", []) if resp.status_code == 200 else None
        if tools is None:
            raise Fatal("GET /api/tools answered %d: %s" % (resp.status_code, short(resp.text)))
        available = {t.get("name") for t in tools if isinstance(t, dict)}
    finally:
        server.stop()
    missing = [op for op in OPS if op not in available]
    if missing:
        flag("sheaf has no tool %s (GET /api/tools lists %d: %s): not measured on sheaf"
             % (", ".join(missing), len(available), ", ".join(sorted(available))))

    wait_load(c["load_max"], c["load_wait"])
    load_before = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for ds in datasets:
        measure(ds, sheaf, runs, c["sqlite_timeout"], c["http_timeout"], available, work)
    load_end = loadavg()

    report = make_report(c, datasets, available, missing, started, load_before, load_end)
    sys.stdout.write(report)
    sys.stdout.flush()
    with open(os.path.join(HERE, "results.md"), "w", encoding="utf-8") as f:
        f.write(report)
    return 3 if problems else 0


# ---- the report -------------------------------------------------------------------------

def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    return cpu, os.cpu_count(), mem


def make_report(c, datasets, available, missing, started, load_before, load_end):
    import numpy
    import pandas
    cpu, cores, mem = machine()
    sqlite_version = subprocess.run(["sqlite3", "--version"], capture_output=True,
                                    text=True).stdout.split()[0]
    out = []
    w = out.append
    w("# Query: sheaf tools, pandas, sqlite3\n")
    w("%s · %s · %d cores · %.0f GiB RAM · commit %s (%s) · %s · load average %s at start, %s when "
      "measuring began, %s at the end\n" % (
          started, cpu, cores, mem / 2**30, c["commit"], c["commit_line"],
          (c["sheaf_version"] or ["sheaf ?"])[0], c["load_start"], load_before, load_end))
    w("sheaf cold = the first call of the tool on a freshly started `sheaf serve` (a new process "
      "for each operation); sheaf warm = the median of the next %d calls on the same server; both "
      "timed by the client (Python requests, keep-alive), request sent to whole answer received. "
      "pandas compute = the pandas expression alone on a DataFrame already in memory, median of "
      "%d; pandas load+compute = read_csv's time (once) plus that. sqlite3 = the whole `sqlite3 "
      "-readonly -json FILE SQL` process on sheaf's own dataset file, median of %d. Ratios divide "
      "by sheaf warm: above 1, sheaf is that many times faster. The OS page cache is warm for "
      "everyone (nothing is dropped).\n" % (c["runs"], c["runs"], c["runs"]))
    for ds in datasets:
        w("## %s: %s, %d rows, %d columns\n" % (ds["name"], mb(ds["bytes"]), ds["rows"], ds["ncols"]))
        w("Loading, not in the table: pandas read_csv %s (peak RSS of the pandas process %s); "
          "`sheaf import` %s; sheaf serve peak RSS %s.\n" % (
              secs(ds["pandas_load"]), mib(ds["pandas_peak"]) if ds["pandas_peak"] else "?",
              secs(ds["import_s"]), mib(ds["server_peak"]) if ds.get("server_peak") else "—"))
        w("| operation | sheaf cold | sheaf warm (median) | pandas compute | pandas load+compute | "
          "sqlite3 | pandas÷sheaf (warm) | sqlite3÷sheaf |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for op in OPS:
            r = ds["ops"].get(op)
            if r is None:
                continue
            sw = median(r["sheaf_warm"])
            pc = median(r["pandas"])
            sq = median(r["sqlite"])
            if r["sheaf_error"] == "missing":
                cold = warm = "missing tool"
            elif r["sheaf_error"]:
                cold = secs(r["sheaf_cold"]) if r["sheaf_cold"] else "failed"
                warm = secs(sw) if sw and len(r["sheaf_warm"]) == c["runs"] else "failed"
            else:
                cold, warm = secs(r["sheaf_cold"]), secs(sw)
            if r["sheaf_check"]:
                warm += " **wrong**"
            pl = (ds["pandas_load"] + pc) if pc is not None else None
            sqs = secs(sq) if sq is not None else ("failed" if r["sqlite_error"] else "—")
            if r["sqlite_check"]:
                sqs += " **wrong**"
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                op_label(op, r["args"]), cold, warm, secs(pc) if pc is not None else "failed",
                secs(pl), sqs, ratio(pc, sw), ratio(sq, sw)))
        w("")
        w("Answers (each checked against pandas: floats within %g relative, correlations also "
          "within %g absolute; counts exact):\n" % (REL, CORR_ABS))
        for op in OPS:
            r = ds["ops"].get(op)
            if r is None:
                continue
            what = r.get("check_what", "")

            def gap(g):
                if not g or (g[0] == 0 and g[1] == 0):
                    return "identical"
                return "largest difference %.1e relative, %.1e absolute" % g
            if r["pandas_error"]:
                s = "**not checked**: pandas failed (%s)" % r["pandas_error"]
            elif r["sheaf_error"] == "missing":
                s = "sheaf: **not measured**, no tool %s in this build" % op
            elif r["sheaf_check"] is None:
                s = "sheaf: **failed**: %s" % r["sheaf_error"]
            elif r["sheaf_check"]:
                s = "sheaf: **MISMATCH** with pandas: %s" % "; ".join(r["sheaf_check"][:6])
            else:
                calls = (r["sheaf_cold"] is not None) + len(r["sheaf_warm"])
                s = "sheaf matches pandas (%s; all %d calls; %s)" % (what, calls, gap(r.get("sheaf_gap")))
                if r["sheaf_error"]:
                    s += ", then **failed**: %s" % r["sheaf_error"]
            if r["sqlite_error"]:
                s += "; sqlite3: **failed**: %s" % r["sqlite_error"]
            elif r["sqlite_check"] is None:
                s += "; sqlite3: not checked"
            elif r["sqlite_check"]:
                s += "; sqlite3: **MISMATCH** with pandas: %s" % "; ".join(r["sqlite_check"][:6])
            else:
                s += "; sqlite3 matches pandas (%s)" % gap(r.get("sqlite_gap"))
            w("- %s: %s." % (op, s))
        w("")

    w("## All runs\n")
    w("Seconds of wall time in order; sheaf's first is the cold call. \"server\" is the "
      "elapsed_ms sheaf reports in each answer (from reading the request to building the answer).\n")
    w("| dataset | operation | sheaf | sheaf server (ms) | pandas compute | sqlite3 |")
    w("| --- | --- | --- | --- | --- | --- |")
    for ds in datasets:
        for op in OPS:
            r = ds["ops"].get(op)
            if r is None:
                continue
            sh = ([r["sheaf_cold"]] if r["sheaf_cold"] is not None else []) + r["sheaf_warm"]
            fmt = lambda xs: " / ".join("%.4g" % x for x in xs) or "—"
            w("| %s | %s | %s | %s | %s | %s |" % (ds["short"], op, fmt(sh),
                                                  " / ".join(str(x) for x in r["sheaf_server_ms"]) or "—",
                                                  fmt(r["pandas"]), fmt(r["sqlite"])))
    w("")

    w("## Setup\n")
    w("- sheaf: `%s`, %s. Each dataset imported once with `sheaf import FILE --data-dir DIR --name "
      "NAME --quiet` into its own data dir; served by `sheaf serve --data-dir DIR --listen "
      "127.0.0.1:0` with %s (no other SHEAF_* settings), stopped with SIGTERM. Every call is "
      "`POST /api/datasets/{id}/tools/{name}` with the arguments below as its JSON body."
      % (c["sheaf"], (c["sheaf_version"] or ["?"])[0],
         ", ".join("%s=%s" % kv for kv in SERVE_ENV.items())))
    w("- pandas: %s, pandas %s, NumPy %s (Debian's), bench/query/pandas_worker.py: `df = "
      "pd.read_csv(path)` (all defaults) once, then the expressions below, timed with "
      "time.perf_counter around the expression alone." % (
          "Python " + platform.python_version(), pandas.__version__, numpy.__version__))
    w("- sqlite3: Debian's sqlite3 %s, `sqlite3 -readonly -json FILE SQL` on the dataset file "
      "sheaf made (the table `data`, typed columns, nulls as NULL); the wall time of the whole "
      "process, so it includes starting sqlite3 and opening the file (a few ms)." % sqlite_version)
    w("- Data, made under %s and deleted at the end: TAAS: the CSVs of %s in name order, the first "
      "whole (UTF-8 BOM, CRLF, header), the others without their header line; rows counted with "
      "Python's csv module. Generated: bench/ingest/gencsv.py (fixed seed) asked for a few more "
      "bytes than GEN_ROWS rows take, cut after GEN_ROWS rows." % (
          c["bench_dir"], os.path.basename(c["taas_zip"])))
    for ds in datasets:
        w("- %s: dataset %s; the columns used, as sheaf typed them: %s; as pandas read them: %s." % (
            ds["name"], ds["id"], ", ".join("%s %s" % kv for kv in ds["used_types"].items()),
            ", ".join("%s %s" % (k, ds["pandas_dtypes"].get(k, "?")) for k in ds["used_types"])))
    for n in notes:
        w("- Note: %s" % n)
    w("")
    for ds in datasets:
        w("### The operations on %s\n" % ds["name"])
        for op in OPS:
            r = ds["ops"].get(op)
            if r is None:
                continue
            w("- **%s**: `POST /api/datasets/%s/tools/%s` `%s`\n  - pandas: `%s`\n  - sqlite3: `%s`"
              % (op, ds["id"], op, json.dumps(r["args"], ensure_ascii=False), r["expr"], r["sql"]))
        w("")
    if problems:
        w("Problems:\n")
        for p in problems:
            w("- %s" % p)
    else:
        w("Problems: none (every tool present, every call succeeded, every answer matched pandas).")
    w("")
    return "\n".join(out)


if __name__ == "__main__":
    # SIGTERM unwinds like an exception, so the servers and the pandas
    # process are stopped and the temporary directory removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except Fatal as e:
        print("bench: error: %s" % e, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
