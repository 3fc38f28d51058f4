"""Datasets (issue 5): the upload request itself.

Size limits (413 leaving nothing behind: no dataset row, no object, no
spool file), the background path (202, progress, failure), malformed and
hostile multipart bodies, disconnects, chunked bodies, deleting or
stopping the server while a job ingests, and an upload by curl.  Runs on
each object storage, as the other dataset modules.
"""

import json
import random
import time

import pytest

import datasets_helpers
from conftest import assert_error
from datasets_helpers import (check_schema, detail, Model, read_csv_text, ready, up, up_ok,
                              wait_ready, write_csv, zip_bomb_xlsx)
from files_helpers import Field, FilePart, Multipart, raw_http

# the module's fixtures (one server per module and storage: datasets_helpers)
storage = datasets_helpers.storage
dsrv = datasets_helpers.dsrv
start = datasets_helpers.start


# --------------------------------------------------------------------------
# limits and the background path


def nothing_left(srv, storage):
    """No dataset listed, no object under datasets/, no spool file."""
    r = srv.get("/api/datasets")
    assert r.status_code == 200 and r.json()["total"] == 0, r.text
    assert storage.objects(srv, "datasets/") == {}
    tmp = srv.data_dir / "tmp"
    left = [p.name for p in tmp.iterdir()] if tmp.exists() else []
    assert not [n for n in left if n.startswith(("spool-", "ingest-"))], left


def test_upload_limit_413_leaves_nothing(start, storage):
    srv = start({"SHEAF_DATASET_MAX_UPLOAD": "64K"})
    line = b"1234567,abcdefgh\n"
    over = b"a,b\n" + line * (65536 // len(line) + 1)
    assert 65536 < len(over) < 65536 + 4096
    r = up(srv, over, "over.csv")
    assert_error(r, 413, "payload_too_large", "SHEAF_DATASET_MAX_UPLOAD")
    nothing_left(srv, storage)
    # far over: refused on Content-Length, before the body
    mp = Multipart([FilePart("big.csv", b"a\n" + b"1\n" * (1 << 20))])
    resp, _sent, _err = raw_http(srv.url, "POST", "/api/datasets/upload", {
        "Authorization": f"Bearer {srv.user.token}", "Content-Type": mp.content_type,
        "Content-Length": str(len(mp))}, [mp.body()])
    assert resp is not None and resp.status == 413, resp and resp.body
    nothing_left(srv, storage)
    # exactly at the limit is fine
    exact = over[:65536]
    exact = exact[: exact.rindex(b"\n") + 1]
    d = up_ok(srv, exact, "exact.csv")
    assert d["rows"] == exact.count(b"\n") - 1


def test_chunked_upload_over_the_limit_is_413(start, storage):
    """No Content-Length: the limit is enforced on the bytes as they come."""
    srv = start({"SHEAF_DATASET_MAX_UPLOAD": "64K"})
    mp = Multipart([FilePart("chunked.csv", b"a,b\n" + b"1,2\n" * 40000)])
    body = mp.body()
    pieces = [body[i:i + 16384] for i in range(0, len(body), 16384)]
    resp, _sent, _err = raw_http(srv.url, "POST", "/api/datasets/upload", {
        "Authorization": f"Bearer {srv.user.token}", "Content-Type": mp.content_type},
        pieces, chunked=True)
    assert resp is not None and resp.status == 413, resp and resp.body[:300]
    assert resp.json()["error"] == "payload_too_large"
    time.sleep(0.2)
    nothing_left(srv, storage)
    srv.assert_healthy()


def test_background_ingest_with_progress(start, storage):
    srv = start({"SHEAF_DATASET_SYNC_BYTES": "1K"})
    rnd = random.Random(7)
    recs = [["id", "value", "city"]] + [[str(i), f"{rnd.random():.6f}", rnd.choice(["대구", "서울"])]
                                        for i in range(20000)]
    data = write_csv(recs).encode()
    r = up(srv, data, "bg.csv")
    d = ready(r, 202)
    assert d["status"] == "processing" and 0 <= d["progress"] <= 100, d
    assert d["rows"] == 0
    progress = []
    d = wait_ready(srv, d["id"], progress=progress)
    assert d["status"] == "ready", d
    assert all(0 <= p <= 100 for p in progress) and progress[-1] == 100, progress
    assert d["rows"] == 20000 and d["columns"] == 3
    model = Model(read_csv_text(data.decode()))
    check_schema(d, model)
    # the original and the dataset file are stored
    keys = storage.objects(srv, "datasets/")
    assert any(k.endswith("/original") for k in keys) and any(k.endswith(".sqlite") for k in keys)
    assert keys[[k for k in keys if k.endswith("/original")][0]] == len(data)


@pytest.mark.parametrize("late", ["nothing", "word_in_int", "ints_in_empty_column"])
def test_large_file_types_hold_over_the_whole_file(dsrv, late):
    """A CSV over 8 MiB has its types guessed from its first 4 MiB and
    checked on every later value (import.h): whatever comes late, the
    result is that of whole-file inference (a word near the end makes the
    column text with every value kept; integers after an empty stretch make
    it integer)."""
    rnd = random.Random(11)
    n = 180000
    recs = [["id", "n", "late", "r", "city"]]
    for i in range(n):
        late_value = ""
        if late == "ints_in_empty_column" and i > n * 9 // 10:
            late_value = str(rnd.randrange(1000))
        recs.append([str(i), str(rnd.randrange(100000)), late_value, f"{rnd.random():.9f}",
                     rnd.choice(["대구광역시 수성구", "서울특별시 중구", "부산광역시 해운대구"])])
    if late == "word_in_int":
        recs[n - 5][1] = "abc"
    data = write_csv(recs).encode()
    assert len(data) > 8 << 20
    d = wait_ready(dsrv, ready(up(dsrv, data, "late.csv"), 202)["id"])
    assert d["status"] == "ready" and d["rows"] == n, d
    model = Model(read_csv_text(data.decode()))
    check_schema(d, model)
    types = {c["name"]: c["type"] for c in d["columns_info"]}
    want = {"nothing": "integer", "word_in_int": "text", "ints_in_empty_column": "integer"}
    assert types["n" if late != "ints_in_empty_column" else "late"] == want[late], types
    if late == "word_in_int":
        # recs[0] is the header: recs[n - 5] is the row at offset n - 6
        r = dsrv.get(f"/api/datasets/{d['id']}/rows?offset={n - 6}&limit=1")
        assert r.status_code == 200, r.text
        row = r.json()["rows"][0]
        assert row[1] == "abc", row


def test_background_failure_shows_the_error(start):
    srv = start({"SHEAF_DATASET_SYNC_BYTES": "1K"})
    data = b"a,b\n" + b"1,2\n" * 400 + b"3\n"
    r = up(srv, data, "bgbad.csv", strict="true")
    d = wait_ready(srv, ready(r, 202)["id"])
    assert d["status"] == "failed", d
    assert "line 402" in d["error"], d
    r = srv.get(f"/api/datasets/{d['id']}/rows")
    assert_error(r, 409, "not_ready")
    assert srv.delete(f"/api/datasets/{d['id']}").status_code == 204


def dataset_objects(storage, srv, dataset_id):
    return {k: v for k, v in storage.objects(srv, "datasets/").items() if f"/{dataset_id}/" in k}


def test_delete_while_processing_leaves_nothing(start, storage):
    srv = start({"SHEAF_DATASET_SYNC_BYTES": "1K"})
    rnd = random.Random(3)
    data = write_csv([["a", "b", "c"]] + [[str(i), f"{rnd.random():.9f}", f"t{i % 97}"]
                                          for i in range(150000)]).encode()
    d = ready(up(srv, data, "slow.csv"), 202)
    r = srv.delete(f"/api/datasets/{d['id']}")
    assert r.status_code == 204, r.text
    assert_error(srv.get(f"/api/datasets/{d['id']}"), 404, "not_found")
    # The job may not have started (it goes with the dataset) or may be
    # running: then it notices at its end and removes what it wrote.  Wait
    # until nothing is left, then once more past any ingest of this size.
    deadline = time.monotonic() + 30
    while True:
        try:
            assert dataset_objects(storage, srv, d["id"]) == {}
            nothing_left(srv, storage)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    time.sleep(2.0)
    assert dataset_objects(storage, srv, d["id"]) == {}
    cache = srv.data_dir / "cache"
    assert not [p for p in cache.rglob("*") if d["id"] in str(p) and p.is_file()]
    nothing_left(srv, storage)


def test_rows_of_a_processing_dataset_is_409(start):
    srv = start({"SHEAF_DATASET_SYNC_BYTES": "1K"})
    data = write_csv([["a", "b"]] + [[str(i), str(i * 3)] for i in range(200000)]).encode()
    d = ready(up(srv, data, "busy.csv"), 202)
    codes = {srv.get(f"/api/datasets/{d['id']}/{p}").status_code for p in ("rows", "export")}
    d2 = detail(srv, d["id"])
    if d2["status"] == "processing":   # it may have finished already on a fast machine
        assert codes <= {409, 200}, codes
        r = srv.get(f"/api/datasets/{d['id']}/preview")
        if r.status_code != 200:
            assert_error(r, 409, "not_ready", "processing")
    assert wait_ready(srv, d["id"])["rows"] == 200000


def test_sigterm_during_a_background_ingest_then_restart(start):
    """A server stopped while a job ingests stops promptly and cleanly; the
    next server on the data dir finishes the job: all rows, once."""
    srv = start({"SHEAF_DATASET_SYNC_BYTES": "1K"})
    user = srv.user
    rnd = random.Random(29)
    n = 400000
    data = ("id,x,city\n" + "".join(f"{i},{rnd.random():.6f},{rnd.choice('ABC')}\n"
                                     for i in range(n))).encode()
    d = ready(up(srv, data, "stopped.csv"), 202)
    time.sleep(0.05)
    srv.check_clean_exit()
    srv = start(like=srv)
    user = srv.adopt_user(user)
    done = wait_ready(user, d["id"], timeout=60)
    assert done["status"] == "ready" and done["rows"] == n, done
    assert user.get("/api/datasets").json()["total"] == 1
    last = user.get(f"/api/datasets/{d['id']}/rows?sort=-id&limit=1").json()["rows"]
    assert last[0][0] == n - 1


# --------------------------------------------------------------------------
# malformed and hostile requests


def post_raw(srv, body, ctype):
    return srv.post("/api/datasets/upload", data=body, headers={"Content-Type": ctype})


def test_not_multipart_is_415(dsrv):
    assert_error(post_raw(dsrv, b"a,b\n1,2\n", "text/csv"), 415, "unsupported_media_type")
    assert_error(post_raw(dsrv, b'{"file": "x"}', "application/json"), 415,
                 "unsupported_media_type")
    r = dsrv.post("/api/datasets/upload", data=b"a,b\n")
    assert r.status_code == 415, r.text


def test_multipart_problems_are_400(dsrv):
    mp = Multipart([Field("name", "x")])
    assert_error(post_raw(dsrv, mp.body(), mp.content_type), 400, "bad_request", "file")
    mp = Multipart([FilePart("a.csv", b"a\n1\n"), FilePart("b.csv", b"b\n2\n")])
    assert_error(post_raw(dsrv, mp.body(), mp.content_type), 400, "bad_request", "one file")
    mp = Multipart([FilePart("a.csv", b"a\n1\n", name="upload")])
    assert_error(post_raw(dsrv, mp.body(), mp.content_type), 400, "bad_request")
    mp = Multipart([FilePart("a.csv", b"a\n1\n")])
    cut = mp.body()[:-20]
    assert_error(post_raw(dsrv, cut, mp.content_type), 400, "bad_request")
    assert_error(post_raw(dsrv, mp.body(), "multipart/form-data"), 400, "bad_request")


@pytest.mark.parametrize("field,value", [
    ("name", "n" * 300),
    ("description", "d" * 4001),
    ("sheet", "s" * 300),
    ("encoding", "e" * 300),
], ids=["name", "description", "sheet", "encoding"])
def test_oversized_text_fields_are_422(dsrv, field, value):
    assert_error(up(dsrv, b"a\n1\n", "f.csv", **{field: value}), 422, "invalid_field", field)


@pytest.mark.parametrize("field,value", [
    ("encoding", "klingon"), ("delimiter", "x"), ("delimiter", ",,"), ("header", "maybe"),
    ("strict", "sometimes"), ("format", "pdf"), ("name", "\udcff"),
], ids=["encoding", "delimiter", "delimiter2", "header", "strict", "format", "name-not-utf8"])
def test_bad_option_values_are_422(dsrv, field, value):
    v = value.encode("utf-8", "surrogateescape")
    mp = Multipart([Field(field, v), FilePart("f.csv", b"a\n1\n")])
    r = post_raw(dsrv, mp.body(), mp.content_type)
    assert_error(r, 422, "invalid_field", field)


def test_name_and_description_fields(dsrv):
    d = up_ok(dsrv, b"a\n1\n", "orig name.csv", name="내 데이터", description="설명 ✓")
    assert d["name"] == "내 데이터" and d["description"] == "설명 ✓"
    d = up_ok(dsrv, b"a\n1\n", "orig name.v2.csv")
    assert d["name"] == "orig name.v2" and d["description"] == ""


def test_upload_needs_auth(dsrv):
    mp = Multipart([FilePart("a.csv", b"a\n1\n")])
    r = dsrv.post("/api/datasets/upload", data=mp.body(),
                  headers={"Content-Type": mp.content_type}, auth=False)
    assert_error(r, 401, r.json().get("error", "unauthorized"))


def test_failed_uploads_leave_nothing(start, storage):
    srv = start()
    for data, fields in ((b"", {}), (b"a,b\n1\n", {"strict": "true"}),
                         (b"a\n1\n", {"encoding": "nope"}), (zip_bomb_xlsx(), {})):
        r = up(srv, data, "x.csv", **fields)
        assert r.status_code == 422, r.text
    nothing_left(srv, storage)


@pytest.mark.parametrize("cut", ["in-file", "before-end"])
def test_client_disconnect_mid_upload_leaves_nothing(start, storage, cut):
    srv = start({"SHEAF_CONNECTION_TIMEOUT": "2"})
    payload = b"a,b\n" + b"12345,abcdef\n" * 30000
    mp = Multipart([Field("name", "cut"), FilePart("cut.csv", payload)])
    body = mp.body()
    n = body.index(payload) + len(payload) // 2 if cut == "in-file" else len(body) - 10
    pieces = [body[i:min(i + 32768, n)] for i in range(0, n, 32768)]
    raw_http(srv.url, "POST", "/api/datasets/upload", {
        "Authorization": f"Bearer {srv.user.token}", "Content-Type": mp.content_type,
        "Content-Length": str(len(body))}, pieces, close_after_send=True)
    deadline = time.monotonic() + 15
    while True:
        try:
            nothing_left(srv, storage)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    srv.assert_healthy()
    assert up_ok(srv, b"x\n1\n", "after.csv")["rows"] == 1


def test_upload_with_curl(dsrv, tmp_path):
    """A real client: curl -F sends Expect: 100-continue for a big body and
    streams the file; the dataset arrives whole."""
    import shutil
    import subprocess
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    src = tmp_path / "curl upload.csv"
    rows = [[str(i), f"이름{i}", f"{i * 1.5}"] for i in range(60000)]
    src.write_bytes(write_csv([["id", "name", "x"]] + rows).encode())
    assert src.stat().st_size > 1 << 20
    p = subprocess.run(["curl", "-sS", "--max-time", "60", "-H",
                        f"Authorization: Bearer {dsrv.user.token}",
                        "-F", f"file=@{src}", "-F", "name=from curl",
                        dsrv.url + "/api/datasets/upload"], capture_output=True, timeout=90)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["status"] in ("ready", "processing"), d
    if d["status"] == "processing":
        d = wait_ready(dsrv, d["id"])
    assert d["name"] == "from curl" and d["rows"] == 60000
    assert d["size_bytes"] == src.stat().st_size
    last = dsrv.get(f"/api/datasets/{d['id']}/rows?offset=59999").json()["rows"]
    assert last == [[59999, "이름59999", 59999 * 1.5]]


def test_object_storage_failure_is_503_and_leaves_nothing(start, storage):
    """Object storage refusing writes (file backend: the datasets tree is
    not a directory; S3: the bucket is gone): 503, no dataset listed, no
    spool file; once storage is back, uploads work again."""
    srv = start()
    assert up_ok(srv, b"a\n1\n", "before.csv")["rows"] == 1
    before = srv.get("/api/datasets").json()["total"]
    if storage.name == "file":
        tree = storage.root(srv) / "datasets"
        moved = tree.with_name("datasets.moved")
        tree.rename(moved)
        tree.write_text("not a directory")
    else:
        bucket = storage.bucket(srv)
        storage.client.remove_bucket(bucket)
    try:
        r = up(srv, b"a,b\n1,2\n", "during.csv")
        assert_error(r, 503, "unavailable", "storage")
        assert srv.get("/api/datasets").json()["total"] == before
        tmp = srv.data_dir / "tmp"
        assert not [p for p in tmp.iterdir() if p.name.startswith("spool-")] \
            if tmp.exists() else True
    finally:
        if storage.name == "file":
            tree.unlink()
            moved.rename(tree)
        else:
            storage.client.create_bucket(bucket)
    assert up_ok(srv, b"a\n2\n", "after.csv")["rows"] == 1
    srv.assert_healthy()


def test_orphan_sweep_removes_unlisted_dataset_objects_only(start, storage):
    """Objects under datasets/ that no dataset lists (left by a crash) go
    at the start-up sweep; a listed dataset's original and file stay."""
    srv = start()
    user = srv.user
    d = up_ok(srv, b"k,v\n1,2\n", "kept.csv")
    kept = dict(storage.objects(srv, "datasets/"))
    assert len(kept) == 2, kept
    owner = next(iter(kept)).split("/")[1]
    orphans = [f"datasets/{owner}/OrphanDataset00001/original",
               f"datasets/{owner}/OrphanDataset00001/v1-crash.sqlite",
               "datasets/NoSuchOwner00000001/OrphanDataset00002/original"]
    for key in orphans:
        storage.plant(srv, key, b"left by a crash", age_s=3600 if storage.can_age() else 0)
    srv.check_clean_exit()
    srv = start({"SHEAF_ORPHAN_GRACE": "0"}, like=srv)
    user = srv.adopt_user(user)
    deadline = time.monotonic() + 20
    while set(storage.objects(srv, "datasets/")) != set(kept):
        left = set(storage.objects(srv, "datasets/"))
        assert set(kept) <= left, ("a listed object was swept", set(kept) - left)
        assert time.monotonic() < deadline, left - set(kept)
        time.sleep(0.1)
    assert user.get(f"/api/datasets/{d['id']}/rows").json()["rows"] == [[1, 2]]
