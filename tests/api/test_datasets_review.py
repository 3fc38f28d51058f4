"""Datasets (issue 5): behaviours a code review asked for.

- A share link's token never reaches the access log.
- Deleting a dataset whose ingest job is still queued removes this node's
  spool of its upload (with S3 storage; local storage keeps no spool).
"""

import time

import pytest

from conftest import SheafFactory
from datasets_helpers import upload_dataset
from files_helpers import make_storage, storage_params

CSV = b"a,b\n1,x\n2,y\n"


def test_share_token_not_in_access_log(tmp_path):
    f = SheafFactory(tmp_path)
    try:
        srv = f.start()
        d = upload_dataset(srv, CSV, "t.csv").json()
        sh = srv.post(f"/api/datasets/{d['id']}/share", json={})
        assert sh.status_code == 201, sh.text
        token = sh.json()["share_token"]
        for tail in ("", "/rows"):
            r = srv.get(f"/api/datasets/shared/{token}{tail}", auth=False)
            assert r.status_code == 200, r.text
        time.sleep(0.2)
        log = srv.log_text()
        assert "/api/datasets/shared/-/rows" in log, log[-2000:]
        assert token not in log
    finally:
        f.finish()


def big_csv(rows):
    return ("n,city,day\n" + "".join(f"{i},대구광역시 수성구 상동,2024-03-{i % 28 + 1:02d}\n"
                                     for i in range(rows))).encode()


@pytest.mark.parametrize("storage_name", storage_params())
def test_deleting_a_queued_dataset_removes_its_spool(tmp_path, storage_name):
    storage = make_storage(storage_name)
    env = storage.env()
    f = SheafFactory(tmp_path)
    try:
        # One worker, busy with a large import, so the second one queues.
        srv = f.start(env={**env, "SHEAF_DATASET_SYNC_BYTES": "0", "SHEAF_JOB_WORKERS": "1"})
        first = upload_dataset(srv, big_csv(300000), "big.csv")
        assert first.status_code == 202, first.text
        second = upload_dataset(srv, CSV, "small.csv")
        assert second.status_code == 202, second.text
        d = second.json()
        spool = srv.data_dir / "tmp" / f"spool-{d['id']}"
        if storage_name == "file":
            assert not spool.exists(), "local storage keeps no second copy"
        else:
            assert spool.exists(), "the upload is spooled while its job waits"
        r = srv.delete(f"/api/datasets/{d['id']}")
        assert r.status_code == 204, r.text
        assert not spool.exists()
    finally:
        f.finish()
        storage.remove(env)


@pytest.mark.parametrize("storage_name", [p for p in storage_params() if p != "file"])
def test_dataset_cache_is_trimmed_to_its_size(tmp_path, storage_name):
    """With S3 storage, local copies of dataset files are bounded by
    SHEAF_DATASET_CACHE_SIZE: the least recently used goes, and comes back
    from storage when read again."""
    storage = make_storage(storage_name)
    env = storage.env()
    f = SheafFactory(tmp_path)
    try:
        srv = f.start(env={**env, "SHEAF_DATASET_CACHE_SIZE": "1K"})
        a = upload_dataset(srv, CSV, "a.csv").json()
        b = upload_dataset(srv, b"a,b\n3,z\n", "b.csv").json()
        cache = srv.data_dir / "cache"
        for p in cache.rglob("*.sqlite"):   # the ingests' copies: start empty
            p.unlink()
        assert srv.get(f"/api/datasets/{a['id']}/rows").status_code == 200
        assert srv.get(f"/api/datasets/{b['id']}/rows").status_code == 200
        files = [p.name for p in cache.rglob("*.sqlite")]
        assert len(files) == 1, files     # each file is over 1K: only the newest stays
        assert b["id"] in str(next(cache.rglob("*.sqlite"))), files
        r = srv.get(f"/api/datasets/{a['id']}/rows")
        assert r.status_code == 200 and r.json()["rows"] == [[1, "x"], [2, "y"]], r.text
        assert a["id"] in str(next(cache.rglob("*.sqlite")))
    finally:
        f.finish()
        storage.remove(env)


def test_csv_export_with_a_bom_for_excel(tmp_path):
    f = SheafFactory(tmp_path)
    try:
        srv = f.start()
        d = upload_dataset(srv, "도시,n\n대구,1\n서울,2\n".encode(), "k.csv").json()
        plain = srv.get(f"/api/datasets/{d['id']}/export?format=csv")
        bom = srv.get(f"/api/datasets/{d['id']}/export?format=csv&bom=1")
        assert plain.status_code == 200 and bom.status_code == 200
        assert not plain.content.startswith(b"\xef\xbb\xbf")
        assert bom.content == b"\xef\xbb\xbf" + plain.content
        assert bom.content.decode("utf-8-sig").splitlines()[1] == "대구,1"
        js = srv.get(f"/api/datasets/{d['id']}/export?format=json&bom=1")
        assert js.content.startswith(b"[") and js.json()[0]["도시"] == "대구"
    finally:
        f.finish()
