#!/usr/bin/python3
"""ECLO prediction side by side: sheaf against seed 003's stack.

Called by bench/predict/run (see README.md there).  sheaf serves
/api/predict/eclo from its built-in model; seed_app.py (FastAPI + uvicorn +
XGBoost) serves the same trees from models/eclo/eclo.model.  One server runs
at a time.  Measured: single-request latency, 50 concurrent requests (seed
003's "within 3 s" target), throughput under load, batch throughput, peak
memory, and training (sheaf train vs pandas + xgboost.train).  A Markdown
report goes to stdout and to results.md next to this file; progress to
stderr.
"""
import datetime
import http.client
import json
import math
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # importing seed_train leaves no __pycache__ here


def env_int(name, default, lo=0):
    v = os.environ.get(name, str(default))
    try:
        n = int(v)
    except ValueError:
        n = lo - 1
    if n < lo:
        sys.exit(f"bench: {name} must be an integer of at least {lo}, not {v!r}")
    return n


WARMUP = env_int("WARMUP", 3, 1)              # s of wrk -c CONNECTIONS before measuring
LAT_SECONDS = env_int("LAT_SECONDS", 5, 1)    # s of wrk -c1 (sequential latency)
LOAD_SECONDS = env_int("LOAD_SECONDS", 10, 1) # s of wrk -c CONNECTIONS (throughput)
CONNECTIONS = env_int("CONNECTIONS", 50, 1)
WRK_THREADS = env_int("WRK_THREADS", 2, 1)
BURSTS = env_int("BURSTS", 20, 1)
BURST_SIZE = env_int("BURST_SIZE", 50, 1)
BATCH_RUNS = env_int("BATCH_RUNS", 3, 1)
TRAIN_RUNS = env_int("TRAIN_RUNS", 3, 0)
CHECK_N = env_int("CHECK_N", 200, 1)
LOAD_WAIT = env_int("LOAD_WAIT", 60, 0)
try:
    LOAD_MAX = float(os.environ.get("LOAD_MAX", "1.0"))
    BATCH_SIZES = [int(x) for x in os.environ.get("BATCH_SIZES", "10000,100000").split(",") if x]
    assert all(n > 0 for n in BATCH_SIZES)
except (ValueError, AssertionError):
    sys.exit("bench: LOAD_MAX must be a number and BATCH_SIZES positive integers, comma-separated")
BENCH_LOGS = os.environ.get("BENCH_LOGS", "on")
if BENCH_LOGS not in ("on", "off"):
    sys.exit("bench: BENCH_LOGS must be on or off")
KEEP = os.environ.get("BENCH_KEEP") == "1"
TAAS_ZIP = os.path.abspath(os.environ.get("TAAS_ZIP", os.path.join(REPO, "..", "shared", "data",
                                                                   "daegu", "taas", "data.zip")))
SHEAF = os.path.abspath(os.environ.get("SHEAF_BIN", os.path.join(REPO, "build", "release",
                                                                 "sheaf")))
MODEL_FILE = os.path.join(REPO, "models", "eclo", "eclo.model")
TARGET_S = 3.0    # seed 003, T103: 50 concurrent predictions within 3 s
T0 = time.monotonic()

problems = []


def say(msg):
    print(f"bench [{time.monotonic() - T0:6.1f}s]: {msg}", file=sys.stderr, flush=True)


def flag(msg):
    problems.append(msg)
    say("PROBLEM: " + msg)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def load1():
    return float(loadavg().split()[0])


# ---- processes ----------------------------------------------------------------

def proc_status(pid, field):
    """VmRSS / VmHWM in kB (0 when gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def threads_of(pid):
    return proc_status(pid, "Threads")


def settle(pid, limit=15.0):
    """Wait until the server is idle: under 2 clock ticks of CPU in 0.2 s."""
    end = time.monotonic() + limit
    before = cpu_ticks(pid)
    while time.monotonic() < end:
        time.sleep(0.2)
        after = cpu_ticks(pid)
        if after - before < 2:
            return
        before = after
    say(f"server still busy {limit:.0f} s after the last phase; going on")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, argv, env, cwd, log):
        self.name, self.argv, self.env, self.cwd, self.log = name, argv, env, cwd, log
        self.proc = None
        self.port = None

    def start(self, port=None, timeout=60):
        self.logf = open(self.log, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=self.env, cwd=self.cwd)
        end = time.monotonic() + timeout
        self.port = port
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode} at "
                                   f"start: {tail(self.log)}")
            if self.port is None:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", read(self.log))
                if m:
                    self.port = int(m.group(1))
            if self.port is not None:
                try:
                    status, _, _ = request(self.port, "GET", "/health", timeout=5)
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /health within {timeout} s: "
                           f"{tail(self.log)}")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        """SIGTERM, 15 s, then SIGKILL.  Returns a sentence."""
        if self.proc is None:
            return "not started"
        how = "stopped within 15 s of SIGTERM"
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                how = "still running 15 s after SIGTERM; killed with SIGKILL"
        else:
            how = "had already exited"
        rc = self.proc.returncode
        self.logf.close()
        self.proc = None
        return f"{how}, exit status {rc}"


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def tail(path, n=5):
    return " | ".join(read(path).strip().splitlines()[-n:])


# ---- HTTP -----------------------------------------------------------------------

def request(port, method, path, body=None, timeout=600, conn=None):
    """(status, parsed JSON or None, raw bytes).  body: bytes or a JSON value."""
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {}
    if body is not None and not isinstance(body, (bytes, bytearray)):
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        if own:
            conn.close()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    return resp.status, data, raw


def check_prediction(d):
    """A complaint about a single-prediction body, or None."""
    if not isinstance(d, dict):
        return "body is not a JSON object"
    if not isinstance(d.get("eclo"), (int, float)) or not math.isfinite(d["eclo"]):
        return "no numeric eclo"
    for k in ("interpretation", "detail", "model_version"):
        if not isinstance(d.get(k), str):
            return f"no {k}"
    return None


# ---- wrk ------------------------------------------------------------------------------

def wrk(port, threads, conns, seconds, bodies, label):
    argv = ["wrk", f"-t{min(threads, conns)}", f"-c{conns}", f"-d{seconds}s", "--timeout", "30s",
            "-s", os.path.join(HERE, "eclo.lua"), f"http://127.0.0.1:{port}/api/predict/eclo",
            "--", bodies]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        flag(f"{label}: wrk did not finish")
        return None
    m = re.search(r"^RESULT (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        flag(f"{label}: wrk failed (status {out.returncode}): {(out.stdout + out.stderr)[-300:]}")
        return None
    r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    errs = {k: int(r[k]) for k in ("non2xx", "connect", "read", "write", "timeout") if r[k]}
    if errs:
        flag(f"{label}: wrk saw errors: {errs}")
    r["argv"] = " ".join(argv[:-2]).replace(HERE + "/", "") + " -- bodies.jsonl"
    return r


# ---- 50 at once ------------------------------------------------------------------

def http_complete(buf):
    """(done, status) for a raw HTTP/1.1 response in buf (Content-Length or close)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False, None
    head = buf[:end].decode("latin-1")
    status = int(head.split(" ", 2)[1])
    m = re.search(r"(?im)^content-length:\s*(\d+)", head)
    if m:
        return len(buf) - end - 4 >= int(m.group(1)), status
    return False, status


def burst(port, bodies):
    """BURST_SIZE requests on fresh connections, all sent at once.  Returns
    (wall seconds from the first connect to the last whole answer, list of
    per-request seconds, list of problems)."""
    sel = selectors.DefaultSelector()
    states = []
    t0 = time.perf_counter()
    for body in bodies:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        out = (f"POST /api/predict/eclo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
               f"Connection: close\r\n\r\n").encode() + body
        st = {"sock": s, "out": out, "in": bytearray(), "t": None, "status": None, "err": None}
        states.append(st)
        sel.register(s, selectors.EVENT_WRITE, st)
    pending = len(states)
    deadline = t0 + 60
    while pending and time.perf_counter() < deadline:
        for key, ev in sel.select(timeout=1):
            st = key.data
            s = st["sock"]
            try:
                if ev & selectors.EVENT_WRITE:
                    n = s.send(st["out"])
                    st["out"] = st["out"][n:]
                    if not st["out"]:
                        sel.modify(s, selectors.EVENT_READ, st)
                    continue
                chunk = s.recv(1 << 16)
                st["in"] += chunk
                done, status = http_complete(st["in"])
                if not done and not chunk:
                    done = True
                    if status is None:
                        st["err"] = "connection closed before an answer"
            except OSError as e:
                done, status = True, None
                st["err"] = str(e)
            if done:
                st["t"] = time.perf_counter()
                st["status"] = status
                sel.unregister(s)
                s.close()
                pending -= 1
    errs = []
    for st in states:
        if st["t"] is None:
            errs.append("no answer within 60 s")
            sel.unregister(st["sock"])
            st["sock"].close()
        elif st["err"]:
            errs.append(st["err"])
        elif st["status"] != 200:
            errs.append(f"status {st['status']}")
        else:
            body = bytes(st["in"][st["in"].find(b"\r\n\r\n") + 4:])
            try:
                msg = check_prediction(json.loads(body))
            except ValueError:
                msg = "body is not JSON"
            if msg:
                errs.append(msg)
    sel.close()
    times = [st["t"] - t0 for st in states if st["t"] is not None]
    wall = max(times) if times else float("nan")
    return wall, times, errs


# ---- the servers' runs -------------------------------------------------------------------

def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def run_batch_sheaf(port, payload, n):
    """(wall s, submit s, server job s, polls, result bytes, results)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    status, d, raw = request(port, "POST", "/api/predict/eclo/batch", payload, conn=conn)
    t_submit = time.perf_counter() - t0
    if status != 202 or not isinstance(d, dict) or "batch_id" not in d:
        conn.close()
        raise RuntimeError(f"sheaf batch of {n}: status {status}: {raw[:300]!r}")
    url = f"/api/predict/batch/{d['batch_id']}/results"
    polls = 0
    poll_max = 0.0   # the slowest GET that found the batch not done yet
    while True:
        tp = time.perf_counter()
        status, r, raw = request(port, "GET", url, conn=conn)
        tp = time.perf_counter() - tp
        polls += 1
        if status != 200:
            conn.close()
            raise RuntimeError(f"sheaf batch results: status {status}: {raw[:300]!r}")
        if r.get("status") == "success":
            break
        poll_max = max(poll_max, tp)
        if r.get("status") in ("failed", "cancelled"):
            conn.close()
            raise RuntimeError(f"sheaf batch {r.get('status')}: {r.get('error')}")
        if time.perf_counter() - t0 > 600:
            conn.close()
            raise RuntimeError("sheaf batch not done within 600 s")
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    conn.close()
    server = None
    try:
        a = datetime.datetime.fromisoformat(r["created_at"].replace("Z", "+00:00"))
        b = datetime.datetime.fromisoformat(r["finished_at"].replace("Z", "+00:00"))
        server = (b - a).total_seconds()
    except (KeyError, TypeError, ValueError, AttributeError):
        pass
    return (wall, t_submit, server, polls, len(raw), r.get("results") or [],
            {"poll_max": poll_max, "last_get": tp})


def run_batch_seed(port, payload, n):
    t0 = time.perf_counter()
    status, d, raw = request(port, "POST", "/api/predict/eclo/batch", payload)
    wall = time.perf_counter() - t0
    if status != 200 or not isinstance(d, dict):
        raise RuntimeError(f"seed batch of {n}: status {status}: {raw[:300]!r}")
    return wall, None, (d.get("elapsed_us") or 0) / 1e6, 1, len(raw), d.get("results") or [], {}


def check_batch(name, n, results):
    if len(results) != n:
        flag(f"{name} batch of {n}: {len(results)} results")
        return
    bad = [it for it in results if not isinstance(it, dict) or it.get("error") is not None or
           not isinstance(it.get("eclo"), (int, float))]
    if bad:
        flag(f"{name} batch of {n}: {len(bad)} items without a prediction, e.g. {bad[0]}")
    if [it.get("index") for it in results[:3]] != [1, 2, 3][:min(3, n)]:
        flag(f"{name} batch of {n}: items not indexed 1, 2, 3...: "
             f"{[it.get('index') for it in results[:3]]}")


def measure(server, kind, accidents, bodies_file, batch_payloads, work):
    """Every serving phase against one running server.  Returns a dict."""
    r = {"name": server.name}
    port, pid = server.port, server.pid
    time.sleep(1)
    r["rss_idle_kb"] = proc_status(pid, "VmRSS")
    r["threads_idle"] = threads_of(pid)
    r["load_start"] = loadavg()

    # The answers: CHECK_N accidents one at a time, and one the model cannot know.
    say(f"{server.name}: {CHECK_N} single predictions checked")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    singles = []
    for a in accidents[:CHECK_N]:
        status, d, raw = request(port, "POST", "/api/predict/eclo", a, conn=conn)
        msg = check_prediction(d) if status == 200 else f"status {status}: {raw[:200]!r}"
        if msg:
            flag(f"{server.name} POST /api/predict/eclo: {msg}")
            break
        singles.append(d["eclo"])
    r["sample"] = json.dumps(d, ensure_ascii=False)[:400]
    r["model_version"] = d.get("model_version") if isinstance(d, dict) else None
    bad = dict(accidents[0], district="대구광역시 없는구 없는동")
    status, d, raw = request(port, "POST", "/api/predict/eclo", bad, conn=conn)
    r["unknown_status"] = status
    if status != 422:
        flag(f"{server.name}: an unknown district answered {status}, not 422: {raw[:200]!r}")
    conn.close()
    r["singles"] = singles

    say(f"{server.name}: warm-up, wrk -c{CONNECTIONS} {WARMUP} s and -c1 1 s")
    wrk(port, WRK_THREADS, CONNECTIONS, WARMUP, bodies_file, f"{server.name} warm-up")
    wrk(port, 1, 1, 1, bodies_file, f"{server.name} warm-up -c1")
    settle(pid)

    say(f"{server.name}: sequential latency, wrk -t1 -c1 {LAT_SECONDS} s")
    r["load_lat"] = loadavg()
    r["lat"] = wrk(port, 1, 1, LAT_SECONDS, bodies_file, f"{server.name} latency")
    settle(pid)

    say(f"{server.name}: {BURSTS} bursts of {BURST_SIZE} concurrent requests")
    walls, per_req, errs = [], [], []
    for b in range(BURSTS):
        k = (b * BURST_SIZE) % max(1, len(accidents) - BURST_SIZE)
        bodies = [json.dumps(a, ensure_ascii=False, separators=(",", ":")).encode()
                  for a in accidents[k:k + BURST_SIZE]]
        wall, times, e = burst(port, bodies)
        walls.append(wall)
        per_req.extend(times)
        errs.extend(e)
        time.sleep(0.1)
    if errs:
        flag(f"{server.name} bursts: {len(errs)} failed requests, e.g. {errs[0]}")
    r["burst"] = {"walls": walls, "median": statistics.median(walls), "max": max(walls),
                  "min": min(walls), "req_p50": percentile(per_req, 50),
                  "req_max": max(per_req) if per_req else float("nan"), "errors": len(errs)}
    settle(pid)

    say(f"{server.name}: throughput, wrk -t{WRK_THREADS} -c{CONNECTIONS} {LOAD_SECONDS} s")
    r["load_thr"] = loadavg()
    c0, w0 = cpu_ticks(pid), time.monotonic()
    r["thr"] = wrk(port, WRK_THREADS, CONNECTIONS, LOAD_SECONDS, bodies_file,
                   f"{server.name} throughput")
    r["thr_cpu"] = (cpu_ticks(pid) - c0) / os.sysconf("SC_CLK_TCK") / (time.monotonic() - w0)
    r["threads_load"] = threads_of(pid)
    settle(pid)
    r["hwm_requests_kb"] = proc_status(pid, "VmHWM")

    r["batch"] = {}
    r["batch_results"] = None
    for n in BATCH_SIZES:
        payload = batch_payloads[n]
        runs = []
        for i in range(BATCH_RUNS):
            say(f"{server.name}: batch of {n} accidents, run {i + 1} of {BATCH_RUNS}")
            try:
                if kind == "sheaf":
                    out = run_batch_sheaf(port, payload, n)
                else:
                    out = run_batch_seed(port, payload, n)
            except (RuntimeError, OSError) as e:
                flag(f"{server.name} batch of {n}: {e}")
                break
            wall, submit, srv, polls, nbytes, results, extra = out
            if i == 0:
                check_batch(server.name, n, results)
                if n == min(BATCH_SIZES):
                    r["batch_results"] = [it.get("eclo") for it in results]
            del results, out
            settle(pid)
            runs.append(dict(extra, wall=wall, submit=submit, server=srv, polls=polls,
                             bytes=nbytes, hwm_kb=proc_status(pid, "VmHWM"),
                             rss_kb=proc_status(pid, "VmRSS")))
        if runs:
            walls = [x["wall"] for x in runs]
            med = statistics.median(walls)
            r["batch"][n] = {"runs": runs, "median": med, "rows_per_s": n / med,
                             "bytes": runs[0]["bytes"]}
    r["data_bytes"] = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in
                          os.walk(os.path.join(work, "sheaf-data")) for f in fs) \
        if kind == "sheaf" else None
    r["hwm_kb"] = proc_status(pid, "VmHWM")
    r["rss_end_kb"] = proc_status(pid, "VmRSS")
    r["load_end"] = loadavg()
    return r


# ---- training -------------------------------------------------------------------------

def run_child(argv, env=None, cwd=None):
    """Run argv; (wall s, stdout, stderr, status, maxrss kB, cpu s), rusage of that child alone."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    # Read both pipes to the end, then reap with wait4 for this child's own rusage.
    out_chunks, err_chunks = [], []
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, out_chunks)
    sel.register(p.stderr, selectors.EVENT_READ, err_chunks)
    open_pipes = 2
    while open_pipes:
        for key, _ in sel.select():
            chunk = os.read(key.fileobj.fileno(), 1 << 16)
            if chunk:
                key.data.append(chunk)
            else:
                sel.unregister(key.fileobj)
                open_pipes -= 1
    sel.close()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stdout.close()
    p.stderr.close()
    return (wall, b"".join(out_chunks).decode(errors="replace"),
            b"".join(err_chunks).decode(errors="replace"), p.returncode, ru.ru_maxrss,
            ru.ru_utime + ru.ru_stime)


def training(csv, work, sheaf_env):
    req = os.path.join(REPO, "models", "eclo", "request.json")
    out_model = os.path.join(work, "x.model")
    sheaf_argv = [SHEAF, "train", csv, "--request", req, "--out", out_model, "--quiet", "--json"]
    py_argv = [PY, os.path.join(HERE, "seed_train.py"), csv]
    res = {"sheaf": [], "python": [], "sheaf_argv": sheaf_argv, "py_argv": py_argv}

    say("training: warm-up and check (one sheaf train, one seed_train.py --compare, not timed)")
    wall, out, err, rc, rss, cpu = run_child(sheaf_argv, env=sheaf_env, cwd=work)
    if rc != 0:
        flag(f"sheaf train failed (status {rc}): {err[-300:]}")
        return res
    try:
        res["sheaf_info"] = json.loads(out)
    except ValueError:
        flag(f"sheaf train --json printed no JSON: {out[:200]!r}")
        return res
    wall, out, err, rc, rss, cpu = run_child(py_argv + ["--compare", out_model])
    if rc != 0:
        flag(f"seed_train.py failed (status {rc}): {err[-300:]}")
        return res
    res["py_check"] = json.loads(out)
    cmp_ = res["py_check"].get("compare", {})
    if cmp_.get("categories_differ"):
        flag(f"Python's category codes differ from sheaf's for {cmp_['categories_differ']}")

    for i in range(TRAIN_RUNS):
        say(f"training: run {i + 1} of {TRAIN_RUNS} (sheaf train, then pandas + xgboost)")
        load = loadavg()
        wall, out, err, rc, rss, cpu = run_child(sheaf_argv, env=sheaf_env, cwd=work)
        if rc != 0:
            flag(f"sheaf train run {i + 1} failed (status {rc}): {err[-300:]}")
            continue
        info = json.loads(out)
        res["sheaf"].append({"wall": wall, "train_ms": info.get("training_ms"), "rss_kb": rss,
                             "cpu": cpu, "load": load,
                             "rmsle": info["validation"]["metrics"]["rmsle"]})
        load = loadavg()
        wall, out, err, rc, rss, cpu = run_child(py_argv)
        if rc != 0:
            flag(f"seed_train.py run {i + 1} failed (status {rc}): {err[-300:]}")
            continue
        d = json.loads(out)
        res["python"].append({"wall": wall, "times": d["times"], "rss_kb": rss, "cpu": cpu,
                              "load": load, "rmsle": d["metrics"]["rmsle"]})
    return res


# ---- data ----------------------------------------------------------------------------

def make_csv(work):
    """The TAAS CSV exactly as models/eclo/train.sh makes build/eclo/taas.csv."""
    if not os.path.exists(TAAS_ZIP):
        sys.exit(f"bench: error: {TAAS_ZIP} is missing (set TAAS_ZIP)")
    csv = os.path.join(work, "taas.csv")
    cmd = f"unzip -p '{TAAS_ZIP}' | awk 'NR == 1 || !/사고번호,사고일시,/' > '{csv}'"
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True)
    return csv


def sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def accidents_from(csv):
    """Real TAAS accidents as request bodies, those whose every text field the
    model knows (its categories), in a fixed random order."""
    import numpy as np
    import pandas as pd
    import seed_train
    with open(MODEL_FILE, "rb") as f:
        raw = f.read()
    info = json.loads(raw[:raw.index(b"\n")])["info"]
    cats = {f["name"]: set(f["categories"]) for f in info["features"]
            if f["encoding"] == "category"}
    d = seed_train.derive(pd.read_csv(csv, encoding="utf-8-sig"))
    ok = np.ones(len(d), dtype=bool)
    for name, values in cats.items():
        ok &= d[name].isin(values).to_numpy()
    rows = d.loc[ok, seed_train.FEATURES]
    order = np.random.default_rng(3).permutation(len(rows))
    out = []
    for rec in rows.iloc[order].to_dict("records"):
        out.append({k: (v if isinstance(v, str) else int(v)) for k, v in rec.items()})
    return out, len(d)


# ---- report ---------------------------------------------------------------------------

def ms(s):
    if s is None or not isinstance(s, (int, float)) or math.isnan(s):
        return "–"
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    v = s * 1000
    return f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms" if v >= 1 else f"{v:.2f} ms"


def mib(kb):
    return f"{kb / 1024:.0f} MiB" if kb >= 10240 else f"{kb / 1024:.1f} MiB"


def ratio(seed, sheaf):
    if not seed or not sheaf or any(isinstance(x, float) and math.isnan(x) for x in (seed, sheaf)):
        return "–"
    x = seed / sheaf
    return f"{x:.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def num(x):
    return f"{x:,.0f}"


def versions():
    def deb(pkg):
        try:
            return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                                  text=True, timeout=10).stdout.strip() or "?"
        except OSError:
            return "?"
    code = ("import sys, fastapi, uvicorn, pydantic, xgboost, pandas, numpy, h11;"
            "print(sys.version.split()[0], fastapi.__version__, uvicorn.__version__,"
            " pydantic.VERSION, xgboost.__version__, pandas.__version__, numpy.__version__,"
            " h11.__version__)")
    v = subprocess.run([PY, "-c", code], capture_output=True, text=True).stdout.split()
    keys = ["python", "fastapi", "uvicorn", "pydantic", "xgboost", "pandas", "numpy", "h11"]
    d = dict(zip(keys, v))
    d["wrk"] = deb("wrk")
    d["libxgboost"] = deb("libxgboost-dev")
    try:
        d["sheaf"] = subprocess.run([SHEAF, "version"], capture_output=True, text=True,
                                    timeout=10).stdout.strip()
    except OSError:
        d["sheaf"] = "?"
    try:
        import uvloop  # noqa: F401
        d["loop"] = "uvloop"
    except ImportError:
        d["loop"] = "asyncio"
    try:
        import httptools  # noqa: F401
        d["http"] = "httptools"
    except ImportError:
        d["http"] = "h11"
    return d


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    osname = "?"
    try:
        with open("/etc/os-release") as f:
            osname = re.search(r'PRETTY_NAME="([^"]*)"', f.read()).group(1)
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {osname}, Linux {platform.release()}"


def git_id():
    try:
        return subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


def report(ctx, S, P, T):
    L = []
    w = L.append
    w("# ECLO prediction: sheaf vs. seed 003's stack (FastAPI + uvicorn + XGBoost)")
    w("")
    w(f"{ctx['date']} · {ctx['machine']} · commit {ctx['git']} · {ctx['v']['sheaf']} · "
      f"load average {ctx['load_start']} at start, {ctx['load_end']} at the end "
      f"({ctx['load_note']}) · whole run {ctx['elapsed']:.0f} s")
    w("")
    w("Both servers answer with the same trees (models/eclo/eclo.model; sheaf's built-in copy, "
      "the seed stack loads the file) and encode requests the same way; one server runs at a "
      "time on the same 2 cores as the load generator. seed ÷ sheaf: for times and memory, "
      "above 1 means sheaf is faster / smaller; for rates (req/s, rows/s), below 1 means sheaf "
      "is faster.")
    w("")
    w("## Serving")
    w("")
    w("| measure | sheaf | seed stack | seed ÷ sheaf |")
    w("| --- | ---: | ---: | ---: |")

    def lat(r, k):
        return r["lat"][k] / 1e6 if r.get("lat") else None
    for k, label in (("p50_us", "p50"), ("p90_us", "p90"), ("p99_us", "p99"),
                     ("p999_us", "p99.9"), ("max_us", "max")):
        a, b = lat(S, k), lat(P, k)
        w(f"| single request, one at a time (wrk -c1), {label} | {ms(a)} | {ms(b)} | "
          f"{ratio(b, a)} |")
    if S.get("lat") and P.get("lat"):
        a, b = S["lat"]["rps"], P["lat"]["rps"]
        w(f"| … requests/s one at a time (one connection, {LAT_SECONDS} s) | {num(a)} | {num(b)} "
          f"| {ratio(b, a)} |")
    a, b = S["burst"], P["burst"]
    w(f"| {BURST_SIZE} concurrent requests, wall time for all {BURST_SIZE}, median of {BURSTS} "
      f"| {ms(a['median'])} | {ms(b['median'])} | {ratio(b['median'], a['median'])} |")
    w(f"| … slowest of the {BURSTS} bursts | {ms(a['max'])} | {ms(b['max'])} | "
      f"{ratio(b['max'], a['max'])} |")
    w(f"| … seed 003's target {TARGET_S:.0f} s ÷ median burst (headroom) | "
      f"{TARGET_S / a['median']:,.0f}× | {TARGET_S / b['median']:,.0f}× | |")
    if S.get("thr") and P.get("thr"):
        w(f"| throughput, wrk -t{WRK_THREADS} -c{CONNECTIONS} {LOAD_SECONDS} s, req/s | "
          f"{num(S['thr']['rps'])} | {num(P['thr']['rps'])} | "
          f"{ratio(P['thr']['rps'], S['thr']['rps'])} |")
        w(f"| … p99 latency under that load | {ms(S['thr']['p99_us'] / 1e6)} | "
          f"{ms(P['thr']['p99_us'] / 1e6)} | {ratio(P['thr']['p99_us'], S['thr']['p99_us'])} |")
        w(f"| … server CPU during that run (cores busy) | {S['thr_cpu']:.2f} | "
          f"{P['thr_cpu']:.2f} | |")
    for n in BATCH_SIZES:
        a, b = S["batch"].get(n), P["batch"].get(n)
        if not a or not b:
            w(f"| batch of {num(n)} | {'–' if not a else ms(a['median'])} | "
              f"{'–' if not b else ms(b['median'])} | – |")
            continue
        w(f"| batch of {num(n)} accidents, wall time (median of {len(a['runs'])}) | "
          f"{ms(a['median'])} | {ms(b['median'])} | {ratio(b['median'], a['median'])} |")
        w(f"| … rows/s | {num(a['rows_per_s'])} | {num(b['rows_per_s'])} | "
          f"{ratio(b['rows_per_s'], a['rows_per_s'])} |")
    w(f"| memory, idle after start (VmRSS) | {mib(S['rss_idle_kb'])} | "
      f"{mib(P['rss_idle_kb'])} | {ratio(P['rss_idle_kb'], S['rss_idle_kb'])} |")
    w(f"| memory, peak through the single-request runs (VmHWM) | {mib(S['hwm_requests_kb'])} | "
      f"{mib(P['hwm_requests_kb'])} | {ratio(P['hwm_requests_kb'], S['hwm_requests_kb'])} |")
    big = max(BATCH_SIZES)
    if S["batch"].get(big) and P["batch"].get(big):
        a, b = S["batch"][big]["runs"][0]["hwm_kb"], P["batch"][big]["runs"][0]["hwm_kb"]
        w(f"| memory, peak after the first batch of {num(big)} (VmHWM) | {mib(a)} | {mib(b)} | "
          f"{ratio(b, a)} |")
    w(f"| memory, peak of the whole run, {BATCH_RUNS} batches of each size included (VmHWM) | "
      f"{mib(S['hwm_kb'])} | {mib(P['hwm_kb'])} | {ratio(P['hwm_kb'], S['hwm_kb'])} |")
    w("")

    w("## Training (the ECLO model, 167,093 TAAS rows, 600 rounds)")
    w("")
    sh, py = T.get("sheaf", []), T.get("python", [])
    if sh and py:
        def med(xs):
            return statistics.median(xs)
        s_wall, p_wall = med([x["wall"] for x in sh]), med([x["wall"] for x in py])
        s_tr = med([x["train_ms"] / 1000 for x in sh])
        p_fit = med([x["times"]["derive_encode_s"] + x["times"]["dmatrix_s"] +
                     x["times"]["xgb_train_s"] + x["times"]["validate_s"] for x in py])
        p_xgb = med([x["times"]["xgb_train_s"] for x in py])
        p_read = med([x["times"]["read_csv_s"] for x in py])
        p_imp = med([x["times"]["import_s"] for x in py])
        w(f"| measure (median of {len(sh)}) | sheaf | Python (pandas + xgboost) | "
          "Python ÷ sheaf |")
        w("| --- | ---: | ---: | ---: |")
        w(f"| end to end: one process, CSV in, model out (wall) | {ms(s_wall)} | {ms(p_wall)} | "
          f"{ratio(p_wall, s_wall)} |")
        w(f"| … of which: loading (sheaf: wall − training_ms = the CSV into SQLite, the "
          f"request's SQL into columns, writing the model; Python: imports + read_csv) | "
          f"{ms(s_wall - s_tr)} | {ms(p_imp + p_read)} | {ratio(p_imp + p_read, s_wall - s_tr)} |")
        w(f"| … … Python's imports (pandas, xgboost) / read_csv alone | | {ms(p_imp)} / "
          f"{ms(p_read)} | |")
        w(f"| … of which: model (sheaf's training_ms: category coding, matrices, 600 rounds "
          f"with validation, metrics; Python: derive the fields, the same coding, DMatrix, "
          f"xgboost.train, metrics) | {ms(s_tr)} | {ms(p_fit)} | {ratio(p_fit, s_tr)} |")
        w(f"| xgboost.train alone (Python) | | {ms(p_xgb)} | |")
        w(f"| peak RSS of the process | {mib(med([x['rss_kb'] for x in sh]))} | "
          f"{mib(med([x['rss_kb'] for x in py]))} | "
          f"{ratio(med([x['rss_kb'] for x in py]), med([x['rss_kb'] for x in sh]))} |")
        w(f"| CPU time (user + sys) | {ms(med([x['cpu'] for x in sh]))} | "
          f"{ms(med([x['cpu'] for x in py]))} | "
          f"{ratio(med([x['cpu'] for x in py]), med([x['cpu'] for x in sh]))} |")
        w(f"| validation RMSLE on 2018 (13,199 rows) | {sh[0]['rmsle']:.6f} | "
          f"{py[0]['rmsle']:.6f} | |")
        w("")
    elif TRAIN_RUNS:
        w("Training was not measured: see Problems.")
        w("")
    else:
        w("Not run (TRAIN_RUNS=0).")
        w("")

    w("## Checks")
    w("")
    for c in ctx["checks"]:
        w(f"- {c}")
    w("")
    w("## Problems")
    w("")
    if problems:
        for p in problems:
            w(f"- {p}")
    else:
        w("None: every response 2xx (422 where asked for), no socket errors, both servers "
          "stopped cleanly on SIGTERM, both answered every accident with the same ECLO.")
    w("")
    w("## All runs")
    w("")
    for R in (S, P):
        w(f"- **{R['name']}**")
        if R.get("lat"):
            x = R["lat"]
            w(f"  - latency (wrk -t1 -c1 {LAT_SECONDS} s): {num(x['requests'])} requests, "
              f"mean {x['mean_us']:.0f} µs (stdev {x['stdev_us']:.0f}), min {x['min_us']:.0f}, "
              f"p50 {x['p50_us']:.0f}, p90 {x['p90_us']:.0f}, p99 {x['p99_us']:.0f}, "
              f"p99.9 {x['p999_us']:.0f}, max {x['max_us']:.0f} µs; load average then "
              f"{R['load_lat']}")
        b = R["burst"]
        w(f"  - bursts of {BURST_SIZE} (ms, in order): " +
          ", ".join(f"{t * 1000:.1f}" for t in b["walls"]) +
          f"; one request's own time, over all bursts: median {ms(b['req_p50'])}, "
          f"slowest {ms(b['req_max'])}")
        if R.get("thr"):
            x = R["thr"]
            w(f"  - throughput: {num(x['requests'])} requests in {x['duration_us'] / 1e6:.1f} s, "
              f"p50 {x['p50_us'] / 1000:.2f} ms, p99 {x['p99_us'] / 1000:.2f} ms, max "
              f"{x['max_us'] / 1000:.1f} ms; server threads {R['threads_load']}; load average "
              f"then {R['load_thr']}")
        for n, bb in R["batch"].items():
            parts = []
            for x in bb["runs"]:
                s = f"{x['wall']:.3f} s"
                extra = []
                if x["submit"] is not None:
                    extra.append(f"POST {x['submit']:.3f} s")
                if x["server"] is not None:
                    extra.append(f"{'job' if x['submit'] is not None else 'handler'} "
                                 f"{x['server']:.3f} s")
                if x["polls"] > 1:
                    extra.append(f"{x['polls']} polls, the slowest not-yet-done one "
                                 f"{x['poll_max']:.3f} s")
                if "last_get" in x:
                    extra.append(f"last GET {x['last_get']:.3f} s")
                parts.append(s + (f" ({', '.join(extra)})" if extra else ""))
            w(f"  - batch of {num(n)}: " + "; ".join(parts) +
              f"; answer {bb['bytes'] / 1e6:.1f} MB; VmHWM / VmRSS after each run: " +
              ", ".join(f"{mib(x['hwm_kb'])} / {mib(x['rss_kb'])}" for x in bb["runs"]))
        w(f"  - memory: VmRSS {mib(R['rss_idle_kb'])} idle, {mib(R['rss_end_kb'])} at the end; "
          f"threads {R['threads_idle']} idle; {R['stop']}"
          + (f"; data dir {R['data_bytes'] / 1e6:.0f} MB at the end (the batches' accidents and "
             f"results stay in the jobs table)" if R.get("data_bytes") else ""))
    if T.get("sheaf"):
        w("- **training** (wall s; in order, sheaf and Python alternating):")
        for i, (a, b) in enumerate(zip(T["sheaf"], T["python"])):
            t = b["times"]
            w(f"  - run {i + 1}: sheaf {a['wall']:.2f} s (training_ms {a['train_ms']}, load "
              f"{a['load']}); Python {b['wall']:.2f} s = imports {t['import_s']:.2f} + read_csv "
              f"{t['read_csv_s']:.2f} + derive/encode {t['derive_encode_s']:.2f} + DMatrix "
              f"{t['dmatrix_s']:.2f} + xgboost.train {t['xgb_train_s']:.2f} + validate "
              f"{t['validate_s']:.2f} (load {b['load']})")
    w("")
    w("## Setup")
    w("")
    for s in ctx["setup"]:
        w(f"- {s}")
    w("")
    w("Caveats (README.md says more):")
    w("")
    for c in ctx["caveats"]:
        w(f"- {c}")
    return "\n".join(L) + "\n"


# ---- main ------------------------------------------------------------------------------

def main():
    for tool in ("wrk", "unzip"):
        if not shutil.which(tool):
            sys.exit(f"bench: error: {tool} is missing (scripts/bootstrap --bench)")
    if not os.access(SHEAF, os.X_OK):
        sys.exit(f"bench: error: {SHEAF} is not an executable (make release, or set SHEAF_BIN)")
    work = tempfile.mkdtemp(prefix="sheaf-predict.", dir=os.environ.get("BENCH_DIR"))
    servers = []

    def cleanup(*_):
        for s in servers:
            if s.proc is not None:
                s.stop()
        if KEEP:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    def on_signal(signum, _frame):
        cleanup()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return run(work, servers)
    finally:
        cleanup()


def run(work, servers):
    ctx = {"checks": [], "setup": [], "caveats": []}
    ctx["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    ctx["machine"] = machine()
    ctx["git"] = git_id()
    ctx["v"] = V = versions()
    ctx["load_start"] = loadavg()

    say(f"data: the TAAS CSV from {TAAS_ZIP}, as models/eclo/train.sh makes it")
    csv = make_csv(work)
    csv_sha = sha256(csv)
    record = read(os.path.join(REPO, "models", "eclo", "RECORD.md"))
    same_as_record = csv_sha in record
    if not same_as_record:
        flag(f"the TAAS CSV (sha256 {csv_sha}) is not the one models/eclo/RECORD.md names")
    accidents, nrows = accidents_from(csv)
    need = max(BATCH_SIZES + [CHECK_N, 2000, BURST_SIZE])
    if len(accidents) < need:
        sys.exit(f"bench: error: only {len(accidents)} usable accidents, {need} needed")
    bodies_file = os.path.join(work, "bodies.jsonl")
    with open(bodies_file, "w", encoding="utf-8") as f:
        for a in accidents[:2000]:
            f.write(json.dumps(a, ensure_ascii=False, separators=(",", ":")) + "\n")
    say(f"{len(accidents)} of {nrows} TAAS accidents have only values the model knows; "
        f"building batch bodies of {', '.join(map(str, BATCH_SIZES))}")
    batch_payloads = {n: json.dumps({"accidents": accidents[:n]}, ensure_ascii=False,
                                    separators=(",", ":")).encode() for n in BATCH_SIZES}
    biggest = max(len(p) for p in batch_payloads.values())
    body_limit_mb = max(1, math.ceil(biggest * 1.25 / 2**20))
    if body_limit_mb > 1024:
        sys.exit("bench: error: the largest batch body is over sheaf's 1G SHEAF_MAX_BODY limit")

    # Quiet machine first: other people's builds share it.
    t_wait = time.monotonic()
    while load1() > LOAD_MAX and time.monotonic() - t_wait < LOAD_WAIT:
        if int(time.monotonic() - t_wait) % 15 == 0:
            say(f"waiting for the 1-minute load average ({load1():.2f}) to drop below "
                f"{LOAD_MAX} (at most {LOAD_WAIT} s)")
        time.sleep(1)
    waited = time.monotonic() - t_wait
    ctx["load_note"] = (f"waited {waited:.0f} s for it to drop below {LOAD_MAX}"
                        if load1() <= LOAD_MAX else
                        f"still {load1():.2f} after waiting {waited:.0f} s: other work shared the machine")
    ctx["load_measure"] = loadavg()

    # sheaf: its defaults, but auth off and room for the largest batch.
    sheaf_env = {k: v for k, v in os.environ.items() if not k.startswith("SHEAF_")}
    serve_env = dict(sheaf_env, SHEAF_AUTH="off",
                     SHEAF_BATCH_MAX_ROWS=str(max(10000, max(BATCH_SIZES))))
    # Batch routes take bodies up to SHEAF_BATCH_MAX_BODY (64M by default) in
    # builds that have it; older builds only know SHEAF_MAX_BODY (1M).
    config = subprocess.run([SHEAF, "config"], capture_output=True, text=True, env=sheaf_env,
                            cwd=work).stdout
    if "SHEAF_BATCH_MAX_BODY" in config:
        if biggest > 64 * 2**20:
            serve_env["SHEAF_BATCH_MAX_BODY"] = f"{body_limit_mb}M"
    elif biggest > 2**20:
        serve_env["SHEAF_MAX_BODY"] = f"{body_limit_mb}M"
    body_setting = ", ".join(f"{k}={serve_env[k]}" for k in ("SHEAF_BATCH_MAX_BODY",
                                                             "SHEAF_MAX_BODY") if k in serve_env)
    if BENCH_LOGS == "off":
        serve_env["SHEAF_LOG_LEVEL"] = "warn"
    sheaf_data = os.path.join(work, "sheaf-data")
    sheaf_log = os.path.join(work, "sheaf.log")
    sheaf = Server("sheaf", [SHEAF, "serve", "--data-dir", sheaf_data, "--listen",
                             "127.0.0.1:0"], serve_env, work, sheaf_log)
    servers.append(sheaf)
    say("sheaf: starting")
    try:
        sheaf.start()
    except RuntimeError as e:
        sys.exit(f"bench: error: {e}")
    # The schema's allowed values must cover every accident sent.
    status, schema, raw = request(sheaf.port, "GET", "/api/predict/eclo/schema")
    if status != 200:
        flag(f"sheaf GET /api/predict/eclo/schema answered {status}")
    else:
        allowed = {f["name"]: set(f["allowed"]) for f in schema["fields"] if "allowed" in f}
        outside = sum(1 for a in accidents[:need] if any(a[k] not in v for k, v in allowed.items()))
        ctx["checks"].append(f"every accident sent ({num(need)} distinct) has only values GET "
                             f"/api/predict/eclo/schema allows"
                             + ("" if not outside else f" — except {outside}"))
        if outside:
            flag(f"{outside} accidents have values the schema does not allow")
    S = measure(sheaf, "sheaf", accidents, bodies_file, batch_payloads, work)
    S["stop"] = sheaf.stop()
    if not S["stop"].endswith("exit status 0"):
        flag(f"sheaf {S['stop']}")
    log = read(sheaf_log)
    # Text log lines: "TIME LEVEL message"; the level is the second word.
    worrying = [line for line in log.splitlines() if re.match(r"\S+\s+(error|warn)\b", line)]
    if worrying:
        flag(f"sheaf's log has {len(worrying)} error/warn lines, e.g. {worrying[0][:200]}")
    S["log_bytes"] = len(log.encode())

    seed_env = dict(sheaf_env, SEED_MODEL=MODEL_FILE, PYTHONDONTWRITEBYTECODE="1",
                    SEED_NTHREAD=os.environ.get("SEED_NTHREAD", "1"))
    port = free_port()
    seed_argv = [PY, "-m", "uvicorn", "seed_app:app", "--host", "127.0.0.1", "--port", str(port),
                 "--app-dir", HERE]
    if BENCH_LOGS == "off":
        seed_argv += ["--log-level", "warning", "--no-access-log"]
    seed_log = os.path.join(work, "seed.log")
    seed = Server("seed stack", seed_argv, seed_env, work, seed_log)
    servers.append(seed)
    say("seed stack: starting uvicorn seed_app:app (1 worker)")
    try:
        seed.start(port=port)
    except RuntimeError as e:
        sys.exit(f"bench: error: {e}")
    P = measure(seed, "seed", accidents, bodies_file, batch_payloads, work)
    P["stop"] = seed.stop()
    if "SIGKILL" in P["stop"]:
        flag(f"seed stack {P['stop']}")
    log = read(seed_log)
    if "Traceback" in log or "ERROR" in log:
        flag(f"the seed stack's log has errors: {tail(seed_log, 3)}")
    P["log_bytes"] = len(log.encode())

    # Same answers from both?
    n = min(len(S["singles"]), len(P["singles"]))
    if n:
        d = max(abs(a - b) for a, b in zip(S["singles"][:n], P["singles"][:n]))
        ctx["checks"].append(f"single predictions of the first {n} accidents: sheaf and the seed "
                             f"stack agree to {d:.2g} (largest absolute difference in ECLO)")
        if d > 1e-9:
            flag(f"sheaf and the seed stack disagree on single predictions by up to {d}")
    if S["batch_results"] and P["batch_results"]:
        sb, pb = S["batch_results"], P["batch_results"]
        m = min(len(sb), len(pb))
        d = max((abs(a - b) for a, b in zip(sb[:m], pb[:m]) if a is not None and b is not None),
                default=float("nan"))
        d1 = max(abs(a - b) for a, b in zip(sb, S["singles"]))
        ctx["checks"].append(f"batch of {num(m)}: sheaf and the seed stack agree to {d:.2g}; "
                             f"sheaf's batch and its single answers agree to {d1:.2g}")
        if not d <= 1e-9:
            flag(f"sheaf and the seed stack disagree on the batch by up to {d}")
    if S.get("model_version") and S["model_version"] == P.get("model_version"):
        ctx["checks"].append(f"same model bytes: both report model_version {S['model_version']} "
                             "(eclo- and the SHA-256 of the model file)")
    else:
        flag(f"model versions differ: sheaf {S.get('model_version')}, seed "
             f"{P.get('model_version')}")
    ctx["checks"].append(f"an unknown district is refused: sheaf {S['unknown_status']}, seed "
                         f"stack {P['unknown_status']}")

    T = {}
    if TRAIN_RUNS:
        T = training(csv, work, sheaf_env)
        c = T.get("py_check", {}).get("compare")
        if c:
            ctx["checks"].append(
                f"training: Python's category codes are identical to sheaf's for "
                f"{len(c['categories_identical'])} of 7 text fields; its validation predictions "
                f"differ from sheaf's model (models/eclo/eclo.model) by at most "
                f"{c['max_abs_diff_eclo']:.2g} ECLO; validation RMSLE Python "
                f"{T['py_check']['metrics']['rmsle']:.6f}, sheaf train "
                f"{T['sheaf_info']['validation']['metrics']['rmsle']:.6f}, RECORD.md "
                f"{c['sheaf_rmsle']:.6f}")

    ctx["load_end"] = loadavg()
    ctx["elapsed"] = time.monotonic() - T0
    ctx["checks"].append(f"TAAS CSV: {num(nrows)} rows, sha256 {csv_sha[:16]}…"
                         + (" (the one models/eclo/RECORD.md names)" if same_as_record else
                            " (NOT the one RECORD.md names)") +
                         f"; {num(len(accidents))} accidents have only values the model knows; "
                         f"requests draw from them in a fixed random order (seed 3)")
    ctx["setup"] += [
        f"sheaf: `{os.path.relpath(SHEAF, REPO)} serve --data-dir TMP --listen 127.0.0.1:0` "
        f"({V['sheaf']}), run in a temp dir with no SHEAF_* from the caller but "
        f"SHEAF_AUTH=off, SHEAF_BATCH_MAX_ROWS={serve_env['SHEAF_BATCH_MAX_ROWS']}"
        + (f", {body_setting}" if body_setting else "") +
        f" (the largest batch body is {biggest / 1e6:.1f} MB"
        + ("" if body_setting else ", within the default SHEAF_BATCH_MAX_BODY of 64M") + ")"
        + (", SHEAF_LOG_LEVEL=warn" if BENCH_LOGS == "off" else
           ", default log level (an access-log line per request, to a file)") +
        f"; everything else default: {S['threads_idle']} threads at idle (HTTP workers one per "
        f"core, 2 job workers), the built-in ECLO model",
        f"seed stack: `{PY} -m uvicorn seed_app:app --host 127.0.0.1 --port PORT` (one "
        f"process, one worker) with bench/predict/seed_app.py; Python {V.get('python')}, "
        f"FastAPI {V.get('fastapi')}, pydantic {V.get('pydantic')}, uvicorn {V.get('uvicorn')} "
        f"({V['loop']} loop + {V['http']}; Debian packages no uvloop/httptools), XGBoost "
        f"{V.get('xgboost')} predicting on one OpenMP thread as sheaf does "
        f"(SEED_NTHREAD={os.environ.get('SEED_NTHREAD', '1')}), pandas {V.get('pandas')}, "
        f"NumPy {V.get('numpy')}"
        + ("; --log-level warning --no-access-log" if BENCH_LOGS == "off" else
           "; default log level with the access log, to a file"),
        f"load: wrk {V['wrk']} with eclo.lua (POST, a different real accident each request, "
        f"from 2,000): sequential `wrk -t1 -c1 -d{LAT_SECONDS}s`, load `wrk -t{WRK_THREADS} "
        f"-c{CONNECTIONS} -d{LOAD_SECONDS}s`, each server warmed first with "
        f"`-c{CONNECTIONS} -d{WARMUP}s` and `-c1 -d1s`. Bursts: a Python client opens "
        f"{BURST_SIZE} new connections at once (non-blocking), sends one accident on each "
        f"(Connection: close) and times from the first connect to the last whole answer; "
        f"{BURSTS} bursts, 0.1 s apart. Batches: Python http.client; sheaf = POST "
        f"/api/predict/eclo/batch (202) then GET /api/predict/batch/ID/results every 10 ms "
        f"until status success, the wall time includes the last GET that carries every result; "
        f"seed = one synchronous POST answering with every result",
        f"training: `{os.path.relpath(SHEAF, REPO)} train TAAS_CSV --request "
        f"models/eclo/request.json --out TMP/x.model --quiet --json` against "
        f"`{PY} bench/predict/seed_train.py TAAS_CSV` (pandas read_csv, the request's SQL "
        f"redone in pandas, mean-target category coding, xgboost.train with sheaf's parameters: "
        f"reg:squarederror, tree_method hist, max_bin 256 (the default, as sheaf), eta 0.03, "
        f"max_depth 6, min_child_weight 20, lambda 1, alpha 0, subsample 1, colsample_bytree 1, "
        f"seed 0, nthread 2, 600 rounds, evaluated on the 2018 rows every round); one untimed "
        f"run of each first, then {TRAIN_RUNS} timed runs alternating",
        f"TAAS CSV: `unzip -p ../shared/data/daegu/taas/data.zip | awk 'NR == 1 || "
        f"!/사고번호,사고일시,/' > TMP/taas.csv` (the bytes of build/eclo/taas.csv)",
        f"sheaf sample answer: `{S.get('sample', '')}`",
        f"seed sample answer: `{P.get('sample', '')}`",
        f"logs: sheaf {S['log_bytes'] / 1e6:.1f} MB, seed stack {P['log_bytes'] / 1e6:.1f} MB",
    ]
    ctx["caveats"] += [
        "wrk and the Python clients share the 2 cores with the server: absolute numbers are "
        "below what a separate load generator would see, and under load the faster server "
        "loses relatively more CPU to wrk.",
        "The machine is a shared VM; the load averages above say how busy it was. Compare "
        "ratios within one run.",
        "The seed stack's batch is synchronous (seed 003 queued a Celery task, stored results "
        "in Redis and had the client poll); it skips the queue, the store and the polling that "
        "sheaf's batch pays for, which favours the seed stack. Its single prediction encodes "
        "into a NumPy row (no one-row DataFrame), and its batch answer skips FastAPI's "
        "jsonable_encoder: also in its favour.",
        "sheaf's batch stores the accidents and the results in its SQLite job table (they "
        "survive a restart) and the client polls; the wall time counts all of that.",
        "XGBoost's nthread is 2 for both trainings (the request's threads); on a busy 2-core "
        "VM each boosting round waits for the slower OpenMP thread, so training times vary "
        "far more than serving times.",
    ]
    text = report(ctx, S, P, T)
    with open(os.path.join(HERE, "results.md"), "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    say(f"done in {time.monotonic() - T0:.0f} s; report in bench/predict/results.md")
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
