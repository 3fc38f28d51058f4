"""`sheaf import FILE` (issue 5): ingest from the shell into a data dir,
then serve that data dir and read the dataset through the API.

The server runs with SHEAF_AUTH=off, where every request acts as the
built-in local user, the owner `sheaf import` gives a dataset by default
(the harness's ``auth=False`` sends no token).
"""

import re

import pytest

from conftest import run_sheaf
from datasets_helpers import (CCTV_CSV, Model, check_schema, need_data, read_source,
                              upload_dataset)
from files_helpers import make_storage, storage_params

ID_RE = r"[A-Za-z0-9_-]{16,}"


def imp(args, timeout=120, env=None):
    return run_sheaf(["import"] + [str(a) for a in args], timeout=timeout, env=env)


def serve_local(sheaf_factory, data_dir, env=None):
    return sheaf_factory.start(env={"SHEAF_AUTH": "off", **(env or {})}, data_dir=data_dir)


@pytest.fixture(params=storage_params())
def storage_env(request):
    """The object storage of the import and of the server that reads it:
    the data dir's files, or a fresh S3 bucket."""
    storage = make_storage(request.param)
    env = storage.env()
    yield storage, env
    storage.remove(env)


def listed(srv):
    r = srv.get("/api/datasets?limit=100", auth=False)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def test_import_real_file_then_serve(sheaf_factory, tmp_path, storage_env):
    need_data(CCTV_CSV)
    storage, env = storage_env
    data_dir = tmp_path / "data"
    p = imp([CCTV_CSV, "--data-dir", data_dir, "--description", "cameras"], env=env)
    assert p.returncode == 0, (p.stdout, p.stderr)
    records = read_source(CCTV_CSV, "cp949")
    model = Model(records)
    first = p.stdout.splitlines()[0]
    m = re.match(rf'^dataset ({ID_RE}) "(.*)": (\d+) rows, (\d+) columns, CP949$', first)
    assert m, p.stdout
    dataset_id = m.group(1)
    assert m.group(2) == CCTV_CSV.stem
    assert int(m.group(3)) == len(records) - 1 and int(m.group(4)) == len(records[0])
    # one line per column: name, type, flags
    lines = p.stdout.splitlines()[1:1 + len(model.header)]
    for line, col in zip(lines, model.columns):
        parts = line.split()
        assert parts[0] == col.name and parts[1] == col.kind, (line, col.name, col.kind)
        assert ("categorical" in parts) == col.categorical, line
        assert (col.role in parts) if col.role else True, line
    # not a terminal: plain progress lines, no bar
    assert "import: 100%" in p.stderr and "\r" not in p.stderr

    srv = serve_local(sheaf_factory, data_dir, env)
    body = listed(srv)
    assert body["total"] == 1 and body["datasets"][0]["id"] == dataset_id
    d = srv.get(f"/api/datasets/{dataset_id}", auth=False).json()
    assert d["status"] == "ready" and d["encoding"] == "CP949"
    assert d["description"] == "cameras" and d["size_bytes"] == CCTV_CSV.stat().st_size
    check_schema(d, model)
    r = srv.get(f"/api/datasets/{dataset_id}/rows?limit=3", auth=False)
    assert r.status_code == 200
    rows = r.json()["rows"]
    want = [[c.convert(v) for c, v in zip(model.columns, rec)] for rec in model.padded[:3]]
    assert rows == want
    # the original and the dataset file are kept as objects, as for an upload
    objects = storage.objects(srv, "datasets/")
    originals = [k for k in objects if k.endswith(f"/{dataset_id}/original")]
    assert len(originals) == 1 and objects[originals[0]] == CCTV_CSV.stat().st_size
    assert [k for k in objects if k.endswith(".sqlite") and f"/{dataset_id}/" in k]
    # the local cache is only a cache: without it the server fetches the file
    srv.check_clean_exit()
    for f in (data_dir / "cache").rglob("*.sqlite"):
        f.unlink()
    srv = serve_local(sheaf_factory, data_dir, env)
    r = srv.get(f"/api/datasets/{dataset_id}/rows?limit=3", auth=False)
    assert r.status_code == 200 and r.json()["rows"] == want


def test_import_options_name_and_delimiter(sheaf_factory, tmp_path):
    src = tmp_path / "semi.txt"
    src.write_text("a;b\n1;x\n2;y\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    p = imp([src, "--data-dir", data_dir, "--name", "세미콜론", "--delimiter", ";", "--quiet"])
    assert p.returncode == 0, p.stderr
    assert '"세미콜론": 2 rows, 2 columns' in p.stdout
    assert "import:" not in p.stderr
    srv = serve_local(sheaf_factory, data_dir)
    d = listed(srv)["datasets"][0]
    assert d["name"] == "세미콜론" and d["delimiter"] == ";"
    rows = srv.get(f"/api/datasets/{d['id']}/rows", auth=False).json()["rows"]
    assert rows == [[1, "x"], [2, "y"]]


@pytest.mark.parametrize("content,args,mentions", [
    (b"", [], "empty"),
    (b"a,b\n1,2\n3\n", ["--strict"], "line 3"),
    (b"a\n1\n", ["--encoding", "klingon"], "encoding"),
    (b"a\n1\n", ["--format", "pdf"], "format"),
], ids=["empty", "strict-ragged", "bad-encoding", "bad-format"])
def test_import_bad_file_fails_clearly_and_leaves_nothing(sheaf_factory, tmp_path, content,
                                                          args, mentions):
    src = tmp_path / "bad.csv"
    src.write_bytes(content)
    data_dir = tmp_path / "data"
    p = imp([src, "--data-dir", data_dir] + args)
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert mentions in p.stderr.lower() or mentions in p.stderr, p.stderr
    assert "sheaf:" in p.stderr
    assert "dataset " not in p.stdout
    if data_dir.exists():
        srv = serve_local(sheaf_factory, data_dir)
        assert listed(srv)["total"] == 0
        left = list((data_dir / "objects" / "datasets").rglob("*")) \
            if (data_dir / "objects" / "datasets").exists() else []
        assert not [x for x in left if x.is_file()], left


def test_import_with_a_broken_metadata_store_fails_and_leaves_nothing(tmp_path):
    """The store opens on a thread of its own while the file is imported:
    when it cannot be opened, the import stops, says why, and removes what
    it stored."""
    src = tmp_path / "a.csv"
    src.write_bytes(b"a,b\n" + b"1,2\n" * 300000)
    data_dir = tmp_path / "data"
    (data_dir / "sheaf.db").mkdir(parents=True)   # not a database file
    p = imp([src, "--data-dir", data_dir, "--quiet"])
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert "metadata store" in p.stderr, p.stderr
    assert "dataset " not in p.stdout
    left = [x for x in data_dir.rglob("*") if x.is_file()]
    assert not left, left


def test_import_missing_file_and_no_file(tmp_path):
    p = imp([tmp_path / "nope.csv", "--data-dir", tmp_path / "d"])
    assert p.returncode != 0 and "nope.csv" in p.stderr
    assert "no such file" in p.stderr.lower()
    p = run_sheaf(["import"])
    assert p.returncode != 0 and "usage" in p.stderr.lower()
    p = imp(["--name", "x"])
    assert p.returncode != 0 and "FILE" in p.stderr


def test_import_help():
    p = imp(["--help"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: sheaf import FILE")
    for flag in ("--name", "--sheet", "--encoding", "--delimiter", "--strict", "--format",
                 "--user", "--quiet"):
        assert flag in p.stdout, flag


def test_import_for_a_user_account(sheaf_factory, tmp_path):
    """--user EMAIL: the dataset belongs to that account (and not to the
    local user); an unknown email is refused."""
    data_dir = tmp_path / "data"
    srv = sheaf_factory.start(data_dir=data_dir)
    user = srv.user
    srv.check_clean_exit()
    src = tmp_path / "mine.csv"
    src.write_bytes("구,건수\n수성구,3\n남구,5\n".encode("cp949"))
    p = imp([src, "--data-dir", data_dir, "--user", user.email.upper(), "-q"])
    assert p.returncode == 0, p.stderr
    assert ", CP949" in p.stdout.splitlines()[0]
    p = imp([src, "--data-dir", data_dir, "--user", "nobody@example.com"])
    assert p.returncode != 0 and "no such account" in p.stderr
    srv = sheaf_factory.start(data_dir=data_dir)
    u = srv.adopt_user(user)
    body = u.get("/api/datasets").json()
    assert body["total"] == 1
    d = body["datasets"][0]
    assert d["name"] == "mine" and d["rows"] == 2
    assert u.get(f"/api/datasets/{d['id']}/rows").json()["rows"] == [["수성구", 3], ["남구", 5]]
    other = srv.new_user()
    assert other.get("/api/datasets").json()["total"] == 0
    assert src.exists(), "the source file is the user's: import must not remove it"


def test_import_xlsx_sheet(sheaf_factory, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "first"
    wb.active.append(["a"])
    wb.active.append([1])
    ws = wb.create_sheet("둘째")
    ws.append(["name", "n"])
    ws.append(["x", 2.5])
    src = tmp_path / "book.xlsx"
    wb.save(src)
    data_dir = tmp_path / "data"
    p = imp([src, "--data-dir", data_dir, "--sheet", "둘째"])
    assert p.returncode == 0, p.stderr
    assert 'sheet "둘째"' in p.stdout.splitlines()[0]
    p = imp([src, "--data-dir", data_dir, "--sheet", "셋째"])
    assert p.returncode != 0
    assert "셋째" in p.stderr and "first" in p.stderr and "둘째" in p.stderr
    srv = serve_local(sheaf_factory, data_dir)
    body = listed(srv)
    assert body["total"] == 1
    d = body["datasets"][0]
    assert srv.get(f"/api/datasets/{d['id']}/rows", auth=False).json()["rows"] == [["x", 2.5]]


def test_import_long_multibyte_name_is_refused_or_cut_cleanly(sheaf_factory, tmp_path):
    src = tmp_path / "f.csv"
    src.write_text("a\n1\n")
    data_dir = tmp_path / "data"
    name = "a" + "가" * 100          # 301 bytes: byte 255 falls inside a character
    p = imp([src, "--data-dir", data_dir, "--name", name, "-q"])
    if p.returncode != 0:
        assert "name" in p.stderr, p.stderr
        return
    srv = serve_local(sheaf_factory, data_dir)
    body = listed(srv)
    assert body["total"] == 1 and len(body["datasets"]) == 1, body
    d = body["datasets"][0]
    assert name.startswith(d["name"]) and len(d["name"].encode()) <= 255, d["name"]
    assert srv.get(f"/api/datasets/{d['id']}", auth=False).status_code == 200


def test_import_while_a_server_runs_on_the_data_dir(sheaf_factory, tmp_path):
    """The server sees a dataset imported beside it at once, and keeps
    serving; its own uploads go on working."""
    data_dir = tmp_path / "data"
    srv = serve_local(sheaf_factory, data_dir)
    src = tmp_path / "beside.csv"
    src.write_text("k,v\n1,2\n3,4\n")
    p = imp([src, "--data-dir", data_dir, "-q"])
    assert p.returncode == 0, p.stderr
    body = listed(srv)
    assert body["total"] == 1
    d = body["datasets"][0]
    assert srv.get(f"/api/datasets/{d['id']}/rows", auth=False).json()["rows"] == [[1, 2], [3, 4]]
    r = upload_dataset(srv, b"a\n1\n", "served.csv", auth=False)
    assert r.status_code == 201, r.text
    assert listed(srv)["total"] == 2
