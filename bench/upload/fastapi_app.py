"""The Python peer for bench/upload: seed 000's file service (FastAPI +
python-multipart, files on disk, metadata in SQLite), with the work sheaf
does per upload (src/api/files.c, src/blob/fs.c) and nothing more.

    GET    /health                       200 {"status": "healthy"}
    POST   /api/session                  {"session_id"} -> 201 (409 if taken)
    POST   /api/files/upload             multipart/form-data: a session_id
                                         field before the file parts (or
                                         ?session_id=), then one or more file
                                         parts -> 201 {"files": [...]}.
                                         Streamed: python-multipart's parser
                                         is fed the body as it arrives.
    POST   /api/files/upload-form        the same request and answer, written
                                         the idiomatic FastAPI way: UploadFile
                                         parameters, so Starlette parses the
                                         whole body first, spooling each file
                                         to a temporary file (in memory up to
                                         1 MB), and the handler copies it.
    GET    /api/files/{file_id}/download FileResponse (Content-Type from the
                                         bytes, Content-Disposition, ETag)
    DELETE /api/files/{file_id}          204: the row, then the file

Per file, like sheaf: check the session exists before any byte is stored;
write to storage/.tmp/<random> (O_EXCL) while computing SHA-256 (hashlib)
and keeping the first 64 KiB for libmagic (python-magic); fsync; rename to
storage/uploads/{session_id}/{file_id}-{ASCII-safe name}; fsync the
directory (and any directory made on the way into its parent).  When the
body is complete, all the rows go into SQLite (WAL, synchronous=FULL) in one
BEGIN IMMEDIATE transaction; on any failure the request's files are removed.

No authentication: the benchmark runs sheaf with SHEAF_AUTH=off (every
request is its built-in local user), and this app likewise acts as one user.

Where the work runs: the streamed upload runs its parser and the buffered
write(2)s of each chunk on the event loop (short: they land in the page
cache), and moves what blocks for long (fsync, rename + directory fsync,
the SQLite transaction) to the thread pool.  The UploadFile endpoint is a
plain `async def` as FastAPI's docs show; Starlette writes the spooled file
in its thread pool, and the handler copies it out in the thread pool.

Data lives in $FASTAPI_DATA_DIR (default ./fastapi-data): app.db and
storage/.  One process, one client at a time: run it without --workers.

Run:  python3 -m uvicorn fastapi_app:app --host 127.0.0.1 --port 8000
"""

import hashlib
import os
import re
import secrets
import sqlite3
import threading
import time
from datetime import datetime, timezone
from typing import List, Optional

import magic
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from multipart.multipart import MultipartParser, parse_options_header
from pydantic import BaseModel, constr

DATA_DIR = os.path.abspath(os.environ.get("FASTAPI_DATA_DIR", "fastapi-data"))
DB_PATH = os.path.join(DATA_DIR, "app.db")
STORAGE_DIR = os.path.join(DATA_DIR, "storage")
TMP_DIR = os.path.join(STORAGE_DIR, ".tmp")
OWNER = "local"
SNIFF_BYTES = 64 * 1024
MAX_FILES = 100
COPY_CHUNK = 1024 * 1024  # UploadFile endpoint: bytes read from the spool at a time

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    owner_id   TEXT NOT NULL,
    id         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, id)
);
CREATE TABLE IF NOT EXISTS files (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    filename    TEXT NOT NULL,
    file_type   TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    uploaded_at BIGINT NOT NULL,
    FOREIGN KEY (owner_id, session_id) REFERENCES sessions (owner_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS files_by_session ON files (owner_id, session_id, uploaded_at, id);
"""
FILE_COLUMNS = "id, owner_id, session_id, filename, file_type, size, sha256, storage_key, uploaded_at"

_local = threading.local()
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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


def rfc3339(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, timezone.utc)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def random_id(nbytes: int) -> str:
    return secrets.token_urlsafe(nbytes)


# ---- names (sheaf's src/files/filename.c, in short) -------------------------

def display_name(given: Optional[str]) -> str:
    """No directory part, no control characters."""
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if ord(c) >= 0x20 and c != "\x7f").strip()
    return name[:255] or "file"


def storage_name(display: str) -> str:
    """ASCII-safe: other characters become _, runs of _ collapse, no leading dot."""
    out = []
    for c in display:
        c = c if c.isascii() and (c.isalnum() or c in "._-") else "_"
        if (c == "_" and out and out[-1] == "_") or (c == "." and not out):
            continue
        out.append(c)
    return "".join(out)[:100] or "file"


# ---- storage (sheaf's src/blob/fs.c) -----------------------------------------

def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: str) -> None:
    """mkdir -p, fsyncing each directory made into its parent."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    make_dirs(parent)
    try:
        os.mkdir(path)
    except FileExistsError:
        return
    fsync_dir(parent)


class Stored:
    """One file of an upload: being written, then committed."""

    def __init__(self, session_id: str, filename: Optional[str]):
        self.id = random_id(16)
        self.session_id = session_id
        self.filename = display_name(filename)
        self.key = f"uploads/{session_id}/{self.id}-{storage_name(self.filename)}"
        self.sha = hashlib.sha256()
        self.head = bytearray()
        self.size = 0
        self.file_type = ""
        self.sha256 = ""
        self.tmp = os.path.join(TMP_DIR, random_id(12))
        self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self.committed = False

    def write(self, data) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.sha.update(data)
        if len(self.head) < SNIFF_BYTES:
            self.head += data[:SNIFF_BYTES - len(self.head)]
        self.size += len(data)

    def commit(self) -> None:
        """Blocking: fsync, rename into place, fsync the directory."""
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        final = os.path.join(STORAGE_DIR, self.key)
        make_dirs(os.path.dirname(final))
        os.rename(self.tmp, final)
        fsync_dir(os.path.dirname(final))
        self.committed = True
        self.sha256 = self.sha.hexdigest()
        self.file_type = magic.from_buffer(bytes(self.head), mime=True) or "application/octet-stream"
        self.head = bytearray()

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        try:
            os.unlink(os.path.join(STORAGE_DIR, self.key) if self.committed else self.tmp)
        except OSError:
            pass

    def row(self, at: int) -> tuple:
        return (self.id, OWNER, self.session_id, self.filename, self.file_type, self.size,
                self.sha256, self.key, at)


def file_json(row: tuple) -> dict:
    fid, _, sid, name, ftype, size, sha, key, at = row
    return {"file_id": fid, "session_id": sid, "filename": name, "file_type": ftype,
            "size": size, "sha256": sha, "storage_path": key, "uploaded_at": rfc3339(at),
            "url": f"/api/files/{fid}/download"}


def session_exists(sid: str) -> bool:
    return get_db().execute("SELECT 1 FROM sessions WHERE owner_id = ? AND id = ?",
                            (OWNER, sid)).fetchone() is not None


def list_files(files: List[Stored]) -> List[tuple]:
    """All rows in one transaction (an fsync of the WAL at COMMIT)."""
    at = now_ms()
    rows = [f.row(at) for f in files]
    db = get_db()
    db.execute("BEGIN IMMEDIATE")
    try:
        if not session_exists(files[0].session_id):
            raise HTTPException(status_code=404, detail="the session was deleted during the upload")
        db.executemany("INSERT INTO files (" + FILE_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       rows)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return rows


def check_session(sid: str) -> None:
    if not _ID.fullmatch(sid):
        raise HTTPException(status_code=422,
                            detail="session_id: must be 1-64 characters of A-Z, a-z, 0-9, _ and -")
    if not session_exists(sid):
        raise HTTPException(status_code=404, detail=f"no session {sid}")


app = FastAPI(title="sheaf peer for bench/upload (FastAPI)")


@app.on_event("startup")
def startup() -> None:
    os.makedirs(TMP_DIR, exist_ok=True)
    get_db().executescript(SCHEMA)


@app.get("/health")
def health():
    return {"status": "healthy"}


class SessionCreate(BaseModel):
    session_id: constr(regex=r"^[A-Za-z0-9_-]{1,64}$")


@app.post("/api/session", status_code=201)
def create_session(body: SessionCreate):
    ts = now_ms()
    try:
        get_db().execute("INSERT INTO sessions (owner_id, id, created_at, updated_at) "
                         "VALUES (?, ?, ?, ?)", (OWNER, body.session_id, ts, ts))
    except sqlite3.IntegrityError:
        raise HTTPException(status_code=409, detail=f"session {body.session_id} already exists")
    return {"session_id": body.session_id, "created_at": rfc3339(ts), "updated_at": rfc3339(ts)}


# ---- upload, streamed ---------------------------------------------------------

class StreamedUpload:
    """python-multipart callbacks: the session_id field, then file parts
    written as their bytes arrive.  A finished file waits in `pending` for
    its commit (fsync, rename), which runs in the thread pool after the
    chunk that ended it."""

    def __init__(self, session_id: Optional[str]):
        self.session_id = session_id
        self.session_checked = False
        self.files: List[Stored] = []
        self.pending = []               # Stored objects to commit
        self.field_name = b""
        self.header_value = b""
        self.disposition = {}
        self.part = None                # "session", "file" or None
        self.field = bytearray()
        self.error: Optional[HTTPException] = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value_cb, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_part_data": self.part_data,
                "on_part_end": self.part_end}

    def part_begin(self) -> None:
        self.disposition = {}
        self.part = None
        self.field = bytearray()

    def header_field(self, data, start, end) -> None:
        self.field_name += data[start:end]

    def header_value_cb(self, data, start, end) -> None:
        self.header_value += data[start:end]

    def header_end(self) -> None:
        if self.field_name.lower() == b"content-disposition":
            _, self.disposition = parse_options_header(self.header_value)
        self.field_name = b""
        self.header_value = b""

    def headers_finished(self) -> None:
        if self.error:
            return
        filename = self.disposition.get(b"filename")
        if filename is not None:
            if not self.session_id or not self.session_checked:
                self.error = HTTPException(status_code=400, detail="the session_id field must "
                                           "come before the files (or pass ?session_id=)")
                return
            if len(self.files) == MAX_FILES:
                self.error = HTTPException(status_code=413,
                                           detail=f"at most {MAX_FILES} files per upload")
                return
            self.part = "file"
            self.files.append(Stored(self.session_id, filename.decode("utf-8", "replace")))
        elif self.disposition.get(b"name") == b"session_id":
            self.part = "session"

    def part_data(self, data, start, end) -> None:
        if self.error:
            return
        if self.part == "file":
            self.files[-1].write(memoryview(data)[start:end])
        elif self.part == "session":
            self.field += data[start:end]
            if len(self.field) > 256:
                self.error = HTTPException(status_code=422, detail="session_id: too long")

    def part_end(self) -> None:
        if self.error:
            return
        if self.part == "file":
            self.pending.append(self.files[-1])
        elif self.part == "session":
            sid = self.field.decode("utf-8", "replace")
            if self.session_id and sid != self.session_id:
                self.error = HTTPException(status_code=400,
                                           detail="session_id is given twice, differently")
            elif not self.session_checked:
                # One primary-key SELECT, on the loop: the next part may begin
                # in this same chunk, and it must know the session is real.
                try:
                    check_session(sid)
                    self.session_id = sid
                    self.session_checked = True
                except HTTPException as e:
                    self.error = e
        self.part = None


@app.post("/api/files/upload", status_code=201)
async def upload(request: Request, session_id: Optional[str] = None):
    ctype = request.headers.get("content-type", "")
    kind, params = parse_options_header(ctype)
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise HTTPException(status_code=415, detail="an upload is multipart/form-data with a "
                            "session_id field and file parts")
    up = StreamedUpload(session_id)
    if session_id:
        await run_in_threadpool(check_session, session_id)
        up.session_checked = True
    parser = MultipartParser(params[b"boundary"], up.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            while up.pending:
                await run_in_threadpool(up.pending.pop(0).commit)
            if up.error:
                raise up.error
        parser.finalize()
        while up.pending:
            await run_in_threadpool(up.pending.pop(0).commit)
        if up.error:
            raise up.error
        if not up.files or not all(f.committed for f in up.files):
            raise HTTPException(status_code=400,
                                detail="no complete file part in the upload (a part with a filename)")
        rows = await run_in_threadpool(list_files, up.files)
    except BaseException:
        for f in up.files:
            f.discard()
        raise
    return {"files": [file_json(r) for r in rows]}


# ---- upload, the idiomatic FastAPI way -----------------------------------------

def store_spooled(session_id: str, spooled: UploadFile) -> Stored:
    """Blocking: copy Starlette's spooled file into storage."""
    f = Stored(session_id, spooled.filename)
    try:
        src = spooled.file
        src.seek(0)
        while True:
            chunk = src.read(COPY_CHUNK)
            if not chunk:
                break
            f.write(chunk)
        f.commit()
    except BaseException:
        f.discard()
        raise
    return f


@app.post("/api/files/upload-form", status_code=201)
async def upload_form(session_id: str = Form(...), file: List[UploadFile] = File(...)):
    await run_in_threadpool(check_session, session_id)
    if len(file) > MAX_FILES:
        raise HTTPException(status_code=413, detail=f"at most {MAX_FILES} files per upload")
    stored: List[Stored] = []
    try:
        for spooled in file:
            stored.append(await run_in_threadpool(store_spooled, session_id, spooled))
        rows = await run_in_threadpool(list_files, stored)
    except BaseException:
        for f in stored:
            f.discard()
        raise
    finally:
        for spooled in file:
            await spooled.close()
    return {"files": [file_json(r) for r in rows]}


# ---- download and delete --------------------------------------------------------

def file_row(file_id: str) -> tuple:
    if not _ID.fullmatch(file_id):
        raise HTTPException(status_code=400, detail="a file id is 1-64 characters of "
                            "A-Z, a-z, 0-9, _ and -")
    row = get_db().execute("SELECT " + FILE_COLUMNS + " FROM files WHERE owner_id = ? AND id = ?",
                           (OWNER, file_id)).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail=f"no file {file_id}")
    return row


@app.get("/api/files/{file_id}/download")
def download(file_id: str):
    row = file_row(file_id)
    return FileResponse(os.path.join(STORAGE_DIR, row[7]), media_type=row[4], filename=row[3],
                        headers={"Cache-Control": "private, no-cache",
                                 "X-Content-Type-Options": "nosniff"})


@app.delete("/api/files/{file_id}", status_code=204)
def delete(file_id: str):
    row = file_row(file_id)
    get_db().execute("DELETE FROM files WHERE owner_id = ? AND id = ?", (OWNER, file_id))
    try:
        os.unlink(os.path.join(STORAGE_DIR, row[7]))
    except FileNotFoundError:
        pass
    return Response(status_code=204)
