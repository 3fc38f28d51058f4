"""Configuration (environment, .env, flags), migrate, startup log."""

import json
import re
import uuid

import pytest

from conftest import (LISTEN_RE, assert_recent, run_sheaf, sanitizer_reports)

OPTION_NAMES = ["SHEAF_LISTEN", "SHEAF_DATA_DIR", "SHEAF_DATABASE_URL",
                "SHEAF_STORAGE_URL", "SHEAF_WORKERS", "SHEAF_MAX_BODY",
                "SHEAF_LOG_LEVEL", "SHEAF_LOG_FORMAT", "SHEAF_CORS_ORIGINS"]


# --------------------------------------------------------------------------
# bad configuration is refused at start


@pytest.mark.parametrize("var,value", [
    ("SHEAF_WORKERS", "abc"),
    ("SHEAF_WORKERS", "-1"),
    ("SHEAF_WORKERS", "4x"),
    ("SHEAF_WORKERS", "99999999999999999999999"),
    ("SHEAF_LISTEN", "nonsense"),
    ("SHEAF_LISTEN", "127.0.0.1:99999"),
    ("SHEAF_LOG_LEVEL", "loud"),
    ("SHEAF_LOG_FORMAT", "xml"),
    ("SHEAF_MAX_BODY", "-5"),
    ("SHEAF_MAX_BODY", "abc"),
    ("SHEAF_MAX_BODY", "10Q"),
    ("SHEAF_MAX_BODY", "99999999999999999999999G"),
    ("SHEAF_DATABASE_URL", "postgres://x"),
    ("SHEAF_DATABASE_URL", "nosuchscheme://x"),
    ("SHEAF_DATABASE_URL", "sqlite::memory:"),
    ("SHEAF_DATABASE_LOCK_TIMEOUT", "-1"),
    ("SHEAF_STORAGE_URL", "ftp://x"),
])
def test_bad_config_refused(tmp_path, var, value):
    args = ["serve", "--data-dir", str(tmp_path / "data")]
    if var != "SHEAF_LISTEN":
        args += ["--listen", "127.0.0.1:0"]
    p = run_sheaf(args, env={var: value}, cwd=str(tmp_path))
    assert p.returncode > 0, (
        f"{var}={value!r}: expected a non-zero exit, got {p.returncode}\n"
        f"stdout={p.stdout}\nstderr={p.stderr}")
    assert var in p.stderr, f"stderr does not name {var}:\n{p.stderr}"
    assert not sanitizer_reports(p.stdout + p.stderr), p.stderr
    assert "listening on" not in p.stdout + p.stderr


def test_bad_config_in_dotenv_refused(tmp_path):
    (tmp_path / ".env").write_text("SHEAF_WORKERS=many\n")
    p = run_sheaf(["serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d")],
                  cwd=str(tmp_path))
    assert p.returncode > 0, p.stderr
    assert "SHEAF_WORKERS" in p.stderr, p.stderr


def test_overlong_dotenv_line_refused(tmp_path):
    (tmp_path / ".env").write_text("SHEAF_DATA_DIR=" + "d" * 5000 + "\nSHEAF_WORKERS=2\n")
    p = run_sheaf(["serve", "--listen", "127.0.0.1:0"], cwd=str(tmp_path))
    assert p.returncode > 0, p.stderr
    assert "line 1" in p.stderr and "longer than" in p.stderr, p.stderr


def test_unknown_flag_and_command(tmp_path):
    p = run_sheaf(["serve", "--no-such-flag", "--data-dir", str(tmp_path)], cwd=str(tmp_path))
    assert p.returncode > 0, (p.stdout, p.stderr)
    assert "no-such-flag" in p.stderr, p.stderr
    assert not sanitizer_reports(p.stdout + p.stderr)
    p = run_sheaf(["no-such-command"], cwd=str(tmp_path))
    assert p.returncode > 0, (p.stdout, p.stderr)
    assert not sanitizer_reports(p.stdout + p.stderr)


def test_serve_help(tmp_path):
    p = run_sheaf(["serve", "--help"], cwd=str(tmp_path))
    assert p.returncode == 0, (p.stdout, p.stderr)
    missing = [n for n in OPTION_NAMES if n not in p.stdout]
    assert not missing, f"`sheaf serve --help` does not mention {missing}:\n{p.stdout}"
    assert "--listen" in p.stdout and "--data-dir" in p.stdout
    assert not sanitizer_reports(p.stdout + p.stderr)


# --------------------------------------------------------------------------
# good configuration is used


def test_valid_config_values_start(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_WORKERS": "2", "SHEAF_LOG_LEVEL": "debug",
                                   "SHEAF_MAX_BODY": "4M", "SHEAF_LOG_FORMAT": "text"})
    srv.assert_healthy()
    srv.create_session()


def test_listen_from_env(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_LISTEN": "127.0.0.1:0"}, listen=False)
    srv.assert_healthy()


def test_data_dir_from_env(sheaf_factory, tmp_path):
    d = tmp_path / "envdata"
    d.mkdir()
    srv = sheaf_factory.start(env={"SHEAF_DATA_DIR": str(d)}, data_dir=d, pass_data_dir=False)
    srv.assert_healthy()
    sid = srv.create_session()["session_id"]
    assert (d / "sheaf.db").is_file(), list(d.iterdir())
    # a second server pointed at it by flag sees the same data
    srv.check_clean_exit()
    srv2 = sheaf_factory.start(data_dir=d)
    srv2.adopt_user(srv.user)  # same data dir: same account, token still valid
    assert srv2.get(f"/api/session/{sid}").status_code == 200


def _json_lines(srv):
    out = []
    for raw in srv.log_path.read_bytes().splitlines():
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")  # strict: JSON logs must be UTF-8
            obj = json.loads(line)
        except ValueError:
            line = raw
            pytest.fail(f"log line is not JSON: {line!r}\n--- log ---\n{srv.log_text()}")
        assert isinstance(obj, dict), line
        out.append(obj)
    return out


def _check_json_access_log(srv):
    rid = "jlog-" + uuid.uuid4().hex[:12]
    r = srv.get("/health", headers={"X-Request-Id": rid})
    assert r.status_code == 200
    srv.wait_log(lambda l: rid in l, what=f"JSON access line for {rid}")
    objs = _json_lines(srv)
    listening = [o for o in objs if "listening on http://" in str(o.get("msg", ""))]
    assert listening, objs
    reqs = [o for o in objs if o.get("request_id") == rid]
    assert len(reqs) == 1, reqs
    o = reqs[0]
    assert o.get("msg") == "request", o
    assert o.get("level") == "info", o
    assert o.get("method") == "GET" and o.get("path") == "/health", o
    assert o.get("status") == 200 and type(o["status"]) is int, o
    assert type(o.get("bytes")) is int and o["bytes"] >= 0, o
    assert isinstance(o.get("duration_ms"), (int, float)) and o["duration_ms"] >= 0, o
    raw = re.search(r'"duration_ms":([0-9.eE+-]+)', next(
        l for l in srv.log_lines() if rid in l and '"request"' in l)).group(1)
    assert len(raw.replace(".", "").lstrip("0")) <= 6, f"duration_ms printed as {raw}"
    assert_recent(o.get("ts"))


def test_json_log_format(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_LOG_FORMAT": "json"})
    # hostile input first: every line must still be one valid JSON object
    for path in ("/%ff%fe", "/nope%0Aforged", "/x%22y%5C", "/%01%1b[31m"):
        srv.get(path, headers={"User-Agent": "\xff\xfe"})
    srv.request("PROPFIND", "/health")
    _check_json_access_log(srv)
    r = srv.get("/nope", headers={"X-Request-Id": "jlog-404"})
    assert r.status_code == 404
    line = srv.wait_log(lambda l: "jlog-404" in l)
    o = json.loads(line)
    assert o["status"] == 404 and o["path"] == "/nope", o


def test_dotenv_is_read(sheaf_factory, tmp_path):
    cwd = tmp_path / "withenv"
    cwd.mkdir()
    (cwd / ".env").write_text("# sheaf settings\n\nSHEAF_LOG_FORMAT=json\n")
    srv = sheaf_factory.start(cwd=cwd)
    _check_json_access_log(srv)


def test_real_env_overrides_dotenv(sheaf_factory, tmp_path):
    cwd = tmp_path / "override"
    cwd.mkdir()
    (cwd / ".env").write_text("SHEAF_LOG_FORMAT=json\nSHEAF_CORS_ORIGINS=https://dotenv.example\n")
    srv = sheaf_factory.start(cwd=cwd, env={"SHEAF_LOG_FORMAT": "text"})
    srv.assert_healthy()
    rid = "txt-" + uuid.uuid4().hex[:10]
    srv.get("/health", headers={"X-Request-Id": rid})
    line = srv.wait_log(lambda l: rid in l)
    assert not line.lstrip().startswith("{"), line
    assert f"request_id={rid}" in line, line
    # the .env value not overridden is still used
    r = srv.get("/health", headers={"Origin": "https://dotenv.example"})
    assert r.headers.get("Access-Control-Allow-Origin") == "https://dotenv.example", dict(r.headers)


def test_no_dotenv_no_json(sheaf):
    lines = sheaf.log_lines()
    assert lines and not any(l.lstrip().startswith("{") for l in lines), lines


# --------------------------------------------------------------------------
# migrate


def test_migrate_fresh_dir_twice_then_serve(sheaf_factory, tmp_path):
    d = tmp_path / "mig"
    d.mkdir()
    p = run_sheaf(["migrate", "--data-dir", str(d)], cwd=str(tmp_path))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert (d / "sheaf.db").is_file(), list(d.iterdir())
    assert not sanitizer_reports(p.stdout + p.stderr), p.stderr
    p = run_sheaf(["migrate", "--data-dir", str(d)], cwd=str(tmp_path))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert not sanitizer_reports(p.stdout + p.stderr), p.stderr
    srv = sheaf_factory.start(data_dir=d)
    srv.assert_healthy()
    sid = srv.create_session()["session_id"]
    srv.check_clean_exit()
    # migrate on a database that has data keeps the data
    p = run_sheaf(["migrate", "--data-dir", str(d)], cwd=str(tmp_path))
    assert p.returncode == 0, (p.stdout, p.stderr)
    first = srv
    srv = sheaf_factory.start(data_dir=d)
    srv.adopt_user(first.user)  # the account and signing key survived too
    assert srv.get(f"/api/session/{sid}").status_code == 200


# --------------------------------------------------------------------------
# startup log


def test_startup_log_mentions_address_and_data_dir(sheaf):
    text = sheaf.log_text()
    m = LISTEN_RE.search(text)
    assert m
    head = text[:m.end()]
    assert str(sheaf.data_dir) in head, \
        f"data dir {sheaf.data_dir} not logged before 'listening on':\n{head}"
    lines = text.splitlines()
    idx = next(i for i, l in enumerate(lines) if LISTEN_RE.search(l))
    assert idx < 20, f"'listening on' is line {idx + 1} of the log"
    assert m.group(1) == "127.0.0.1"
    assert int(m.group(2)) > 0
