"""The official MCP conformance suite against `sheaf serve`
(tests/mcp/conformance.sh): every scenario of the 2026-07-28 and 2025-11-25
requirement sets, plus http-header-validation and server-session-lifecycle,
passes or is listed in tests/mcp/expected-failures.yml.  An unexpected
failure, or a listed scenario that now passes (a stale entry), fails this
test; the failing checks are quoted with the server's answers."""

import glob
import json
import os
import re
import subprocess

import pytest

from conftest import REPO, SHEAF_BIN, base_env

SCRIPT = REPO / "tests" / "mcp" / "conformance.sh"
RUNS = ("requirements-2026-07-28", "requirements-2025-11-25", "http-header-validation",
        "server-session-lifecycle")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def verdict(text):
    """(unexpected, stale) entries the suite printed for one run."""
    unexpected, stale, section = [], [], None
    for line in ANSI.sub("", text).splitlines():
        if line.startswith("Unexpected failures (not in baseline)"):
            section = unexpected
        elif line.startswith("Stale baseline entries"):
            section = stale
        elif line.startswith("Expected failures (in baseline)"):
            section = None
        elif section is not None and re.match(r"^  [✗✓] ", line):
            section.append(line[4:].strip())
        elif not line.startswith("  "):
            section = None
    return unexpected, stale


def failing_checks(run_dir, entry):
    """The failing checks behind one baseline entry, with what the server said."""
    scenario, _, check = entry.partition(":")
    out = []
    for f in glob.glob(os.path.join(run_dir, f"server-{scenario}-*", "checks.json")):
        for c in json.load(open(f)):
            if c["status"] in ("FAILURE", "WARNING") and (not check or c["id"] == check):
                out.append(f"  {scenario}:{c['id']} {c['status']}: {c.get('errorMessage', '')}\n"
                           f"    details: {json.dumps(c.get('details'), ensure_ascii=False)[:1500]}")
    return out or [f"  {entry}: (no failing check found in {run_dir})"]


def test_conformance_suite(tmp_path, capsys):
    env = base_env()
    env["CONFORMANCE_OUT"] = str(tmp_path)
    try:
        p = subprocess.run([str(SCRIPT), SHEAF_BIN], env=env, cwd=str(tmp_path),
                           capture_output=True, timeout=600)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"conformance.sh did not finish in 600 s: {e.stdout!r}")
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    lines = [l for l in out.splitlines() if re.match(r"^(== conformance|Total: |Passed: |conformance: )", l)]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    problems = []
    for run in RUNS:
        txt = tmp_path / f"{run}.txt"
        if not txt.exists():
            problems.append(f"{run}: did not run")
            continue
        text = txt.read_text(errors="replace")
        if not re.search(r"^(Total|Passed): \d+", ANSI.sub("", text), re.M):
            problems.append(f"{run}: no results\n{text[-3000:]}")
        unexpected, stale = verdict(text)
        for entry in unexpected:
            problems.append(f"{run}: unexpected failure {entry}\n"
                            + "\n".join(failing_checks(str(tmp_path / run), entry)))
        for entry in stale:
            problems.append(f"{run}: {entry} passes now: remove it from expected-failures.yml")
    assert p.returncode == 0 and not problems, (
        f"conformance.sh exit {p.returncode}\n" + "\n\n".join(problems)
        + f"\n--- output ---\n{out[-6000:]}\n--- stderr ---\n{err[-3000:]}")
    assert lines[-1].startswith("conformance: ok"), out[-3000:]
