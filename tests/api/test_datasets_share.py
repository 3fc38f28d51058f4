"""Datasets (issue 5): share links.

Create (expires_in_days, default and fractional), the public read endpoints
under the token (details + preview, rows, export), expiry with a short TTL,
revocation, listing, other users, and tokens of deleted datasets.
"""

import re
import time

import pytest

from conftest import assert_error, assert_recent, parse_rfc3339, serve_on_storage
from datasets_helpers import read_csv_text, ready, upload_dataset
from files_helpers import make_storage, storage_params

SHARE_KEYS = {"share_token", "share_url", "expires_at"}
LIST_KEYS = {"share_id", "dataset_id", "created_at", "expires_at", "revoked_at", "status"}
CSV = ("city,count,day\n대구,3,2024-03-05\n서울,10,2024-03-06\n부산,7,2024-03-07\n"
       "대구,1,2024-03-08\n").encode()
ROWS = [["대구", 3, "2024-03-05"], ["서울", 10, "2024-03-06"], ["부산", 7, "2024-03-07"],
        ["대구", 1, "2024-03-08"]]


@pytest.fixture(scope="module", params=storage_params())
def storage(request):
    return make_storage(request.param)


@pytest.fixture(scope="module")
def ssrv(storage, tmp_path_factory):
    yield from serve_on_storage(storage, tmp_path_factory, "ds-share")


@pytest.fixture
def ds(ssrv):
    return ready(upload_dataset(ssrv, CSV, "shared.csv", {"description": "공유"}))


def share(who, dataset_id, body=None, status=201):
    r = who.post(f"/api/datasets/{dataset_id}/share",
                 json={"expires_in_days": 7} if body is None else body)
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def token_path(s):
    return "/api/datasets/shared/" + s["share_token"]


def anon(srv, path, **kw):
    return srv.get(path, auth=False, **kw)


def test_create_and_read_without_auth(ssrv, ds):
    before = time.time()
    s = share(ssrv, ds["id"])
    assert SHARE_KEYS <= set(s), s
    tok = s["share_token"]
    # 256 random bits: at least 43 base64url characters (or 64 hex)
    assert re.match(r"^[A-Za-z0-9_-]{43,}$", tok), tok
    assert s["share_url"].endswith("/api/datasets/shared/" + tok), s
    assert s["share_url"].startswith("http"), s
    exp = parse_rfc3339(s["expires_at"]).timestamp()
    assert abs(exp - (before + 7 * 86400)) < 60, s
    r = anon(ssrv, token_path(s))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["id"] == ds["id"] and d["name"] == ds["name"] and d["rows"] == 4
    assert d["description"] == "공유"
    assert [c["name"] for c in d["columns_info"]] == ["city", "count", "day"]
    assert d["preview"]["rows"] == ROWS
    assert "job_id" not in d and "source_name" not in d
    # the URL handed out works as given
    path = "/" + s["share_url"].split("://", 1)[1].split("/", 1)[1]
    assert anon(ssrv, path).status_code == 200


def test_shared_rows_preview_and_export(ssrv, ds):
    p = token_path(share(ssrv, ds["id"]))
    r = anon(ssrv, p + "/rows", params={"filter": "city=대구", "sort": "-count"})
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [["대구", 3, "2024-03-05"], ["대구", 1, "2024-03-08"]]
    assert r.json()["total"] == 2
    r = anon(ssrv, p + "/rows?offset=1&limit=2")
    assert r.json()["rows"] == ROWS[1:3]
    r = anon(ssrv, p + "/preview?rows=2")
    assert r.status_code == 200 and r.json()["rows"] == ROWS[:2]
    r = anon(ssrv, p + "/export?format=csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    got = read_csv_text(r.content.decode())
    assert got[0] == ["city", "count", "day"]
    assert [[a, int(b), c] for a, b, c in got[1:]] == ROWS
    r = anon(ssrv, p + "/export?format=json")
    assert r.json() == [dict(zip(["city", "count", "day"], row)) for row in ROWS]
    assert_error(anon(ssrv, p + "/rows", params={"filter": "nope=1"}), 400, "bad_filter")


def test_share_expiry_with_a_short_ttl(ssrv, ds):
    s = share(ssrv, ds["id"], {"expires_in_days": 0.00002})   # ~1.7 s
    p = token_path(s)
    exp = parse_rfc3339(s["expires_at"]).timestamp()
    assert 0.5 < exp - time.time() < 3.0, s
    assert anon(ssrv, p).status_code == 200
    time.sleep(max(0.0, exp - time.time()) + 0.3)
    for suffix in ("", "/rows", "/preview", "/export"):
        assert_error(anon(ssrv, p + suffix), 404, "not_found")
    shares = ssrv.get(f"/api/datasets/{ds['id']}/shares").json()["shares"]
    assert [x["status"] for x in shares] == ["expired"], shares


def test_revoke_and_list(ssrv, ds):
    a = share(ssrv, ds["id"])
    b = share(ssrv, ds["id"], {"expires_in_days": 1})
    c = share(ssrv, ds["id"], {})              # the default lifetime
    assert abs(parse_rfc3339(c["expires_at"]).timestamp() - time.time() - 7 * 86400) < 60
    r = ssrv.get(f"/api/datasets/{ds['id']}/shares")
    assert r.status_code == 200
    shares = r.json()["shares"]
    assert len(shares) == 3
    for x in shares:
        assert LIST_KEYS <= set(x), x
        assert x["dataset_id"] == ds["id"] and x["status"] == "active"
        assert x["revoked_at"] is None
        assert "share_token" not in x and not any(
            v == a["share_token"] for v in x.values())
        assert_recent(x["created_at"])
    assert len({x["share_id"] for x in shares}) == 3
    # which share is which: by expiry
    b_id = [x["share_id"] for x in shares if x["expires_at"] == b["expires_at"]]
    assert len(b_id) == 1
    r = ssrv.delete(f"/api/datasets/{ds['id']}/shares/{b_id[0]}")
    assert r.status_code == 204
    assert_error(anon(ssrv, token_path(b)), 404, "not_found")
    assert_error(anon(ssrv, token_path(b) + "/rows"), 404, "not_found")
    assert anon(ssrv, token_path(a)).status_code == 200
    after = {x["share_id"]: x for x in ssrv.get(f"/api/datasets/{ds['id']}/shares").json()["shares"]}
    assert after[b_id[0]]["status"] == "revoked"
    assert_recent(after[b_id[0]]["revoked_at"])
    # revoking twice, or an unknown share
    r = ssrv.delete(f"/api/datasets/{ds['id']}/shares/{b_id[0]}")
    assert r.status_code in (204, 404), r.text
    assert_error(ssrv.delete(f"/api/datasets/{ds['id']}/shares/NoSuchShare000000"), 404,
                 "not_found")
    assert_error(ssrv.delete(f"/api/datasets/{ds['id']}/shares/bad$id"), 400, "invalid_id")


@pytest.mark.parametrize("body", [
    {"expires_in_days": 0}, {"expires_in_days": -1}, {"expires_in_days": 3651},
    {"expires_in_days": "7"}, {"expires_in_days": True}, {"other": 1},
], ids=["zero", "negative", "too-long", "string", "bool", "unknown-field"])
def test_bad_share_bodies(ssrv, ds, body):
    r = ssrv.post(f"/api/datasets/{ds['id']}/share", json=body)
    assert r.status_code in (400, 422), (r.status_code, r.text)
    assert r.json()["error"] in ("invalid_field", "bad_request", "unknown_field"), r.text


def test_other_user_cannot_share_list_or_revoke(ssrv, ds):
    s = share(ssrv, ds["id"])
    sid = ssrv.get(f"/api/datasets/{ds['id']}/shares").json()["shares"][0]["share_id"]
    other = ssrv.new_user()
    assert_error(other.post(f"/api/datasets/{ds['id']}/share", json={"expires_in_days": 1}),
                 404, "not_found")
    assert_error(other.get(f"/api/datasets/{ds['id']}/shares"), 404, "not_found")
    assert_error(other.delete(f"/api/datasets/{ds['id']}/shares/{sid}"), 404, "not_found")
    # the other user's own dataset cannot revoke it either
    theirs = ready(upload_dataset(other, b"a\n1\n", "o.csv"))
    assert_error(other.delete(f"/api/datasets/{theirs['id']}/shares/{sid}"), 404, "not_found")
    assert anon(ssrv, token_path(s)).status_code == 200
    # a token works for anyone, with or without an account
    assert other.get(token_path(s)).status_code == 200


def test_token_of_a_deleted_dataset_is_404(ssrv):
    d = ready(upload_dataset(ssrv, CSV, "gone.csv"))
    s = share(ssrv, d["id"])
    assert anon(ssrv, token_path(s)).status_code == 200
    assert ssrv.delete(f"/api/datasets/{d['id']}").status_code == 204
    for suffix in ("", "/rows", "/preview", "/export"):
        assert_error(anon(ssrv, token_path(s) + suffix), 404, "not_found")


@pytest.mark.parametrize("tok", ["x", "A" * 43, "A" * 200, "bad$token", "%00"])
def test_unknown_tokens_are_404(ssrv, tok):
    assert_error(anon(ssrv, "/api/datasets/shared/" + tok), 404, "not_found")
    assert_error(anon(ssrv, "/api/datasets/shared/" + tok + "/rows"), 404, "not_found")


def test_share_of_unknown_dataset(ssrv):
    assert_error(ssrv.post("/api/datasets/NoSuchDataset0000/share", json={}), 404, "not_found")
    assert_error(ssrv.get("/api/datasets/NoSuchDataset0000/shares"), 404, "not_found")


def test_share_url_host_header_and_public_url(ssrv, ds, sheaf_factory):
    r = ssrv.post(f"/api/datasets/{ds['id']}/share", json={},
                  headers={"Host": "evil.example/<script>"})
    assert r.status_code == 201, r.text
    url = r.json()["share_url"]
    assert "<" not in url and "evil.example/" not in url.split("/api/")[0], url
    r = ssrv.post(f"/api/datasets/{ds['id']}/share", json={},
                  headers={"Host": "data.example.org:8443"})
    assert r.json()["share_url"].startswith("http://data.example.org:8443/api/datasets/shared/")
    srv = sheaf_factory.start(env={"SHEAF_PUBLIC_URL": "https://sheaf.example.com/base"})
    d = ready(upload_dataset(srv, CSV, "p.csv"))
    s = share(srv, d["id"])
    assert s["share_url"] == "https://sheaf.example.com/base/api/datasets/shared/" + s["share_token"]


def test_tokens_are_stored_hashed(ssrv, ds):
    """The metadata store never holds a share token as given (the database
    file and its WAL are searched for it, as text and as base64url)."""
    tokens = [share(ssrv, ds["id"])["share_token"] for _ in range(3)]
    files = [p for p in ssrv.data_dir.iterdir() if p.name.startswith("sheaf.db")]
    assert files, list(ssrv.data_dir.iterdir())
    blob = b"".join(p.read_bytes() for p in files)
    for t in tokens:
        assert t.encode() not in blob
        assert t[:24].encode() not in blob
    # and the links still open
    assert all(anon(ssrv, "/api/datasets/shared/" + t).status_code == 200 for t in tokens)
