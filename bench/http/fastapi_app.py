"""The Python peer for bench/http: the stack sheaf replaces, written the way
the seed backends were (FastAPI + pydantic + SQLite, PyJWT, argon2-cffi),
with the endpoints sheaf is measured on and the ones the benchmark needs to
set them up.

    GET  /health                    the same checks sheaf makes on every
                                    call: the database file is still the one
                                    opened at start, BEGIN IMMEDIATE +
                                    ROLLBACK (the write lock is obtainable),
                                    and create + write + unlink of a probe
                                    file in storage/.tmp (no fsync, as in
                                    sheaf's src/blob/fs.c)
    POST /api/auth/register         {"email","password","name"?} -> 201 user,
                                    409 if the email is taken, 422 if the
                                    email or password breaks sheaf's rules
    POST /api/auth/login            {"email","password"} -> 200 {access_token,
                                    token_type, expires_in, refresh_token},
                                    401 on a wrong email or password
    POST /api/session               bearer token; 201, or 409 if the caller
                                    already has a session with that id
    GET  /api/session/{session_id}  bearer token; 200, or 404 (also when the
                                    session is someone else's)

What each does mirrors sheaf (src/api/auth.c, src/auth/, src/store/sqlite.c):

- Passwords: argon2id, 2 passes, 64 MiB, parallelism 1, 16-byte salt,
  32-byte hash (libsodium's crypto_pwhash_str_alg with sheaf's defaults).
  A login for an unknown email verifies against a decoy hash.  A hash made
  with other parameters is upgraded at login.
- Login: look the user up by email, verify, then in one BEGIN IMMEDIATE
  transaction purge the user's expired refresh tokens and insert the new
  one (256 random bits, stored as hex SHA-256, one family per login), and
  sign an HS256 access token with sub, iat, exp, jti and ver.
- Every /api/* route but the two auth ones verifies the bearer token (HS256
  only; sub, iat, exp, jti and ver required; iat and nbf at most 60 s in the
  future; exp after iat and now), reads the user by id and compares the
  token's ver with users.token_version, then scopes the query by owner.
  Rate limits are not reproduced (the benchmark sets sheaf's very high).

Data lives in $FASTAPI_DATA_DIR (default ./fastapi-data): app.db (SQLite,
WAL), storage/ and signing-key (made on first start unless
$FASTAPI_JWT_SECRET is set, as sheaf does; every worker process uses the
same key).  Access tokens live $FASTAPI_ACCESS_TOKEN_TTL seconds (900).
Each worker thread keeps one SQLite connection, which is what a connection
pool gives a threaded app.  Endpoints are plain `def`, so FastAPI runs their
blocking work (SQLite, argon2) in its thread pool, as it should; argon2-cffi
releases the GIL while it hashes.  Nothing bounds how many hashes run at
once (sheaf allows one per core): that is FastAPI's usual shape, and the
benchmark reports the memory it costs.

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
from typing import Optional

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHash, VerificationError
from fastapi import FastAPI, Header, HTTPException, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, constr

VERSION = "0.1.0"
DATA_DIR = os.path.abspath(os.environ.get("FASTAPI_DATA_DIR", "fastapi-data"))
DB_PATH = os.path.join(DATA_DIR, "app.db")
STORAGE_DIR = os.path.join(DATA_DIR, "storage")
KEY_PATH = os.path.join(DATA_DIR, "signing-key")
ACCESS_TTL = int(os.environ.get("FASTAPI_ACCESS_TOKEN_TTL", "900"))
REFRESH_TTL = 30 * 24 * 3600
CLOCK_SKEW_S = 60

# sheaf's schema after its migrations (src/store/migrations.c).
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,  -- ms since the epoch
    updated_at    INTEGER NOT NULL,
    token_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_user ON refresh_tokens (user_id, expires_at);
CREATE TABLE IF NOT EXISTS sessions (
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, id)
);
CREATE INDEX IF NOT EXISTS sessions_by_owner_created ON sessions (owner_id, created_at, id);
"""
USER_COLUMNS = "id, email, name, password_hash, created_at, updated_at, token_version"

# libsodium's argon2id string hashes: 16-byte salt, 32-byte hash.
hasher = PasswordHasher(time_cost=2, memory_cost=64 * 1024, parallelism=1,
                        hash_len=32, salt_len=16, type=Type.ID)

_local = threading.local()
_db_identity = None  # (st_dev, st_ino) of the database file at start-up
_signing_key = b""
_decoy_hash = ""


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


def random_id(nbytes: int) -> str:
    return secrets.token_urlsafe(nbytes)


def load_signing_key() -> bytes:
    """$FASTAPI_JWT_SECRET, else DATA_DIR/signing-key (64 hex digits), made
    by whichever worker gets there first: written under a temporary name,
    then linked into place, so the others read a complete file."""
    configured = os.environ.get("FASTAPI_JWT_SECRET", "")
    if configured:
        if len(configured.encode()) < 32:
            raise RuntimeError("FASTAPI_JWT_SECRET must be at least 32 bytes")
        return configured.encode()
    try:
        with open(KEY_PATH, encoding="ascii") as f:
            return bytes.fromhex(f.read().strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    tmp = f"{KEY_PATH}.{secrets.token_urlsafe(9)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (key.hex() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, KEY_PATH)
    except FileExistsError:
        with open(KEY_PATH, encoding="ascii") as f:
            key = bytes.fromhex(f.read().strip())
    finally:
        os.unlink(tmp)
    return key


# ---- sheaf's rules for emails, names and passwords (src/auth/) ------------

_EMAIL_LOCAL = re.compile(r'[^\x00-\x20\x7f"(),:;<>@\[\\\]]{1,64}')
_EMAIL_DOMAIN = re.compile(r"(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+(?<!-)")


def normalise_email(given: str) -> Optional[str]:
    """Trimmed and ASCII-lower-cased, or None when it cannot be an address."""
    s = given.strip(" \t\r\n\f\v")
    s = s.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                  "abcdefghijklmnopqrstuvwxyz"))
    if not s or len(s.encode()) > 254 or s.count("@") != 1:
        return None
    local, domain = s.split("@")
    if not _EMAIL_LOCAL.fullmatch(local) or len(local.encode()) > 64:
        return None
    ascii_domain = re.sub(r"[^\x00-\x7f]", "a", domain)
    if not _EMAIL_DOMAIN.fullmatch(ascii_domain) or ".." in domain or \
            "-." in domain or ".-" in domain:
        return None
    return s


def password_problem(pw: str, email: str) -> Optional[str]:
    if len(pw.encode()) > 1024:
        return "must be at most 1024 bytes long"
    if any(ord(c) < 0x20 or c == "\x7f" for c in pw):
        return "must not contain control characters"
    if len(pw) < 10:
        return f"must be at least 10 characters long (this one has {len(pw)})"
    kinds = (any("a" <= c <= "z" for c in pw) + any("A" <= c <= "Z" for c in pw) +
             any("0" <= c <= "9" for c in pw) +
             any(not ("a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9") for c in pw))
    if kinds < 2:
        return "must mix at least two kinds of characters"
    if pw.lower() == email.lower():
        return "must not be the email address"
    return None


# ---- models ------------------------------------------------------------------

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


class RegisterIn(BaseModel):
    email: str
    password: str
    name: Optional[str] = None


class LoginIn(BaseModel):
    email: str
    password: str


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    created_at: str
    updated_at: str


class TokensOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str


app = FastAPI(title="sheaf peer (FastAPI)", version=VERSION)


@app.on_event("startup")
def startup() -> None:
    global _db_identity, _signing_key, _decoy_hash
    os.makedirs(STORAGE_DIR, exist_ok=True)
    get_db().executescript(SCHEMA)
    st = os.stat(DB_PATH)
    _db_identity = (st.st_dev, st.st_ino)
    _signing_key = load_signing_key()
    _decoy_hash = hasher.hash(secrets.token_hex(32))


# ---- health ------------------------------------------------------------------

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


# ---- accounts and tokens -----------------------------------------------------

def unauthorized(detail: str, invalid: bool = True) -> HTTPException:
    challenge = 'Bearer realm="sheaf"' + (', error="invalid_token"' if invalid else "")
    return HTTPException(status_code=401, detail=detail,
                         headers={"WWW-Authenticate": challenge})


def user_out(row) -> UserOut:
    uid, email, name, _, created, updated, _ = row
    return UserOut(id=uid, email=email, name=name, created_at=rfc3339(created),
                   updated_at=rfc3339(updated))


@app.post("/api/auth/register", response_model=UserOut, status_code=201)
def register(body: RegisterIn):
    email = normalise_email(body.email)
    if email is None:
        raise HTTPException(status_code=422, detail="email: not an address")
    name = (body.name or "").strip(" \t\r\n\f\v")
    if len(name) > 100 or any(ord(c) < 0x20 or c == "\x7f" for c in name):
        raise HTTPException(status_code=422, detail="name: too long or has control characters")
    problem = password_problem(body.password, email)
    if problem:
        raise HTTPException(status_code=422, detail=f"password: {problem}")
    db = get_db()
    # A cheap look first, so a taken email costs no hash; the UNIQUE
    # constraint still settles a race between two sign-ups.
    if db.execute("SELECT " + USER_COLUMNS + " FROM users WHERE email = ?",
                  (email,)).fetchone():
        raise HTTPException(status_code=409, detail="an account with this email already exists")
    ts = now_ms()
    row = (random_id(16), email, name, hasher.hash(body.password), ts, ts, 0)
    try:
        db.execute("INSERT INTO users (" + USER_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    except sqlite3.IntegrityError:
        raise HTTPException(status_code=409, detail="an account with this email already exists")
    return user_out(row)


def access_token(user_id: str, token_version: int, now_s: int) -> str:
    claims = {"sub": user_id, "iat": now_s, "exp": now_s + ACCESS_TTL,
              "jti": random_id(16), "ver": token_version}
    return jwt.encode(claims, _signing_key, algorithm="HS256")


@app.post("/api/auth/login", response_model=TokensOut)
def login(body: LoginIn, response: Response):
    email = normalise_email(body.email)
    db = get_db()
    row = db.execute("SELECT " + USER_COLUMNS + " FROM users WHERE email = ?",
                     (email,)).fetchone() if email else None
    stored = row[3] if row else None
    try:
        ok = hasher.verify(stored if stored and stored.startswith("$argon2id$") else _decoy_hash,
                           body.password) and row is not None
    except (VerificationError, InvalidHash):
        ok = False
    if not ok:
        raise unauthorized("wrong email or password", invalid=False)
    uid, ver = row[0], row[6]
    if hasher.check_needs_rehash(stored):
        # Stronger settings since this hash was made: upgrade it while we
        # have the password.
        db.execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                   (hasher.hash(body.password), now_ms(), uid))
    now = now_ms()
    refresh = secrets.token_urlsafe(32)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM refresh_tokens WHERE user_id = ? AND expires_at <= ?",
                   (uid, now))
        db.execute("INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, "
                   "expires_at) VALUES (?, ?, ?, ?, ?)",
                   (hashlib.sha256(refresh.encode()).hexdigest(), uid, random_id(16), now,
                    now + REFRESH_TTL * 1000))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    response.headers["Cache-Control"] = "no-store"
    return TokensOut(access_token=access_token(uid, ver, now // 1000), token_type="bearer",
                     expires_in=ACCESS_TTL, refresh_token=refresh)


_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def current_user(authorization: Optional[str]) -> str:
    """The caller's user id, from a valid bearer token whose ver still
    matches the account's token_version; 401 otherwise.

    Called at the top of each handler rather than declared as
    Depends(current_user): FastAPI runs a plain-def dependency in its
    thread pool separately from the endpoint, and that second hop cost
    about a quarter of the session read's throughput on the benchmark
    machine.  This way the peer does the same work without the handicap."""
    if authorization is None:
        raise unauthorized("this needs an access token: send Authorization: Bearer <token>",
                           invalid=False)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise unauthorized('the Authorization header must be "Bearer <access token>"')
    try:
        claims = jwt.decode(token.lstrip(" "), _signing_key, algorithms=["HS256"],
                            options={"require": ["sub", "iat", "exp", "jti", "ver"],
                                     "verify_iat": False, "verify_nbf": False})
    except jwt.InvalidTokenError as e:
        raise unauthorized(f"invalid token: {e}")
    now = int(time.time())
    sub, jti = claims["sub"], claims["jti"]
    ints = [claims[k] for k in ("iat", "exp", "ver")] + [claims.get("nbf", 0)]
    if not (isinstance(sub, str) and _ID.fullmatch(sub) and isinstance(jti, str) and jti
            and all(type(v) is int for v in ints)):
        raise unauthorized("the token's claims are missing or malformed")
    iat, exp, ver, nbf = ints
    if iat > now + CLOCK_SKEW_S or nbf > now + CLOCK_SKEW_S:
        raise unauthorized("the token is not valid yet")
    if exp <= iat:
        raise unauthorized("the token expires before it was issued")
    row = get_db().execute("SELECT " + USER_COLUMNS + " FROM users WHERE id = ?",
                           (sub,)).fetchone()
    if row is None:
        raise unauthorized("the token's account no longer exists")
    if row[6] != ver:
        raise unauthorized("the token was issued before the password changed; log in again")
    return sub


# ---- sessions ----------------------------------------------------------------

@app.post("/api/session", response_model=SessionCreated, status_code=201)
def create_session(body: Optional[SessionCreate] = None,
                   authorization: Optional[str] = Header(None)):
    user = current_user(authorization)
    sid = (body.session_id if body else None) or random_id(18)
    ts = now_ms()
    try:
        get_db().execute(
            "INSERT INTO sessions (owner_id, id, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (user, sid, ts, ts))
    except sqlite3.IntegrityError:
        raise HTTPException(status_code=409, detail=f"session {sid} already exists")
    return SessionCreated(session_id=sid, created_at=rfc3339(ts),
                          updated_at=rfc3339(ts))


@app.get("/api/session/{session_id}", response_model=SessionOut)
def get_session(session_id: str, authorization: Optional[str] = Header(None)):
    user = current_user(authorization)
    if not _ID.fullmatch(session_id):
        raise HTTPException(status_code=400, detail="a session id is 1-64 of [A-Za-z0-9_-]")
    row = get_db().execute(
        "SELECT id, created_at, updated_at FROM sessions WHERE owner_id = ? AND id = ?",
        (user, session_id)).fetchone()
    if row is None:
        raise HTTPException(status_code=404, detail=f"no session {session_id}")
    sid, created, updated = row
    # No files table yet (as in sheaf today): a session holds no files.
    return SessionOut(session_id=sid, created_at=rfc3339(created),
                      updated_at=rfc3339(updated), file_count=0)
