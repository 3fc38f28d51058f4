"""Documentation that must move with the code: the README's configuration
table is the output of `sheaf config --markdown`, and `--help` lists every
option that table lists."""
import re
import subprocess
from pathlib import Path

import conftest

ROOT = Path(__file__).resolve().parents[2]


def run(*args):
    return subprocess.run([str(conftest.SHEAF_BIN), *args], capture_output=True,
                          text=True, timeout=30, check=True).stdout


def test_readme_config_table_is_generated():
    table = run("config", "--markdown").strip()
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- config-table:[^>]*-->\n(.*?)\n<!-- /config-table -->", readme, re.S)
    assert m, "README.md lost its config-table markers"
    assert m.group(1).strip() == table, \
        "README.md configuration table is stale: run scripts/update-readme"


def test_help_lists_every_table_row():
    table = run("config", "--markdown")
    names = re.findall(r"^\| `(SHEAF_[A-Z_]+)`", table, re.M)
    assert len(names) >= 9
    help_text = run("serve", "--help")
    for name in names:
        assert name in help_text
