"""The Python peer for bench/http: the stack sheaf replaces, written the way
the seed backends were (FastAPI + pydantic + SQLite), with the same two
read endpoints sheaf is measured on and the POST the benchmark needs to
create the session it reads.

    GET  /health                    the same checks sheaf makes on every
                                    call: the database file is still the one
                                    opened at start, BEGIN IMMEDIATE +
                                    ROLLBACK (the write lock is obtainable),
                                    and create + write + unlink of a probe
                                    file in storage/.tmp (no fsync, as in
                                    sheaf's src/blob/fs.c)
    POST /api/session               201, or 409 if the id is taken
    GET  /api/session/{session_id}  200, or 404

Data lives in $FASTAPI_DATA_DIR (default ./fastapi-data): app.db (SQLite,
WAL) and storage/.  Each worker thread keeps one SQLite connection, which
is what a connection pool gives a threaded app.  Endpoints are plain `def`
so FastAPI runs their blocking I/O in its thread pool, as it should.

Run:  python3 -m uvicorn fastapi_app:app --host 127.0.0.1 --port 8000
"""

import os
import secrets
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Optional

from fastapi import FastAPI, HTTPException, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, constr

VERSION = "0.1.0"
DATA_DIR = os.path.abspath(os.environ.get("FASTAPI_DATA_DIR", "fastapi-data"))
DB_PATH = os.path.join(DATA_DIR, "app.db")
STORAGE_DIR = os.path.join(DATA_DIR, "storage")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,  -- ms since the epoch
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_created ON sessions (created_at, id);
"""

_local = threading.local()
_db_identity = None  # (st_dev, st_ino) of the database file at start-up


def get_db() -> sqlite3.Connection:
    """This thread's connection, opened on first use."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DB_PATH, timeout=10.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        _local.conn = conn
    return conn


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def rfc3339(ms: Optional[int] = None) -> str:
    t = datetime.now(timezone.utc) if ms is None else \
        datetime.fromtimestamp(ms / 1000, timezone.utc)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SessionCreate(BaseModel):
    session_id: Optional[constr(regex=r"^[A-Za-z0-9_-]{1,64}$")] = None


class SessionCreated(BaseModel):
    session_id: str
    created_at: str
    updated_at: str


class SessionOut(SessionCreated):
    file_count: int


class HealthOut(BaseModel):
    status: str
    timestamp: str
    version: str
    checks: dict


app = FastAPI(title="sheaf peer (FastAPI)", version=VERSION)


@app.on_event("startup")
def startup() -> None:
    global _db_identity
    os.makedirs(STORAGE_DIR, exist_ok=True)
    get_db().executescript(SCHEMA)
    st = os.stat(DB_PATH)
    _db_identity = (st.st_dev, st.st_ino)


def check_database() -> str:
    try:
        # A database file removed or replaced under us would swallow writes.
        st = os.stat(DB_PATH)
        if (st.st_dev, st.st_ino) != _db_identity:
            return "error"
        conn = get_db()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return "ok"
    except (OSError, sqlite3.Error):
        return "error"


def check_storage() -> str:
    # A fresh random name in storage/.tmp, created exclusively, as uploads
    # would be: concurrent probes never collide.  No fsync: a create + write
    # already shows a missing, read-only or full directory.
    tmp = os.path.join(STORAGE_DIR, ".tmp")
    probe = os.path.join(tmp, secrets.token_urlsafe(9))
    try:
        os.makedirs(tmp, exist_ok=True)
        with open(probe, "xb") as f:
            f.write(b"ok\n")
        os.unlink(probe)
        return "ok"
    except OSError:
        return "error"


@app.get("/health", response_model=HealthOut)
def health(response: Response):
    checks = {"database": check_database(), "storage": check_storage()}
    healthy = all(v == "ok" for v in checks.values())
    body = HealthOut(status="healthy" if healthy else "unhealthy",
                     timestamp=rfc3339(), version=VERSION, checks=checks)
    if not healthy:
        return JSONResponse(status_code=503, content=body.dict(),
                            headers={"Cache-Control": "no-store"})
    response.headers["Cache-Control"] = "no-store"
    return body


@app.post("/api/session", response_model=SessionCreated, status_code=201)
def create_session(body: Optional[SessionCreate] = None):
    sid = (body.session_id if body else None) or uuid.uuid4().hex
    ts = now_ms()
    try:
        get_db().execute(
            "INSERT INTO sessions (id, created_at, updated_at) VALUES (?, ?, ?)",
            (sid, ts, ts))
    except sqlite3.IntegrityError:
        raise HTTPException(status_code=409, detail=f"session {sid} exists")
    return SessionCreated(session_id=sid, created_at=rfc3339(ts),
                          updated_at=rfc3339(ts))


@app.get("/api/session/{session_id}", response_model=SessionOut)
def get_session(session_id: str):
    row = get_db().execute(
        "SELECT id, created_at, updated_at FROM sessions WHERE id = ?",
        (session_id,)).fetchone()
    if row is None:
        raise HTTPException(status_code=404,
                            detail=f"session {session_id} not found")
    sid, created, updated = row
    # No files table yet (as in sheaf today): a session holds no files.
    return SessionOut(session_id=sid, created_at=rfc3339(created),
                      updated_at=rfc3339(updated), file_count=0)
