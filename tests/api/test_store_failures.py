"""When the metadata store cannot take a write (another process holds its
write lock past SHEAF_DATABASE_LOCK_TIMEOUT), writes fail with a JSON 500,
/health reports the database, reads go on (WAL), and everything recovers
when the lock is released."""
import sqlite3

from conftest import assert_error


def test_locked_database(sheaf_factory):
    srv = sheaf_factory.start(env={"SHEAF_DATABASE_LOCK_TIMEOUT": "200"})
    assert srv.post("/api/session", json={"session_id": "before"}).status_code == 201

    holder = sqlite3.connect(srv.data_dir / "sheaf.db", timeout=5, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")

        r = srv.post("/api/session", json={"session_id": "during"})
        assert_error(r, 500, "internal")
        rid = r.headers["X-Request-Id"]
        line = srv.wait_log(lambda l: rid in l and "create session" in l,
                            what="the store error naming the request")
        assert "locked" in line or "busy" in line, line

        h = srv.get("/health")
        assert h.status_code == 503, h.text
        body = h.json()
        assert body["status"] == "unhealthy"
        assert body["checks"]["database"].startswith("error"), body
        assert body["checks"]["storage"] == "ok", body

        listing = srv.get("/api/sessions")
        assert listing.status_code == 200, listing.text
        assert [s["session_id"] for s in listing.json()["sessions"]] == ["before"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert srv.post("/api/session", json={"session_id": "during"}).status_code == 201
    assert srv.get("/health").status_code == 200
