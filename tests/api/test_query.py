"""SQL queries over datasets (issue 6): POST /api/datasets/{id}/query.

Typed answers checked against Python's sqlite3 over the same rows, bound
parameters, limits and truncation, the cache (and when it must not answer),
streamed JSON and CSV in constant memory, malformed bodies, and a hostile
corpus against the sandbox: after every hostile query the dataset is
unchanged and the server still answers.
"""

import csv
import io
import json
import os
import random
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import SheafFactory, assert_error
from datasets_helpers import ready, upload_dataset, wait_ready

N = 500
_rnd = random.Random(7)
ROWS = []
for i in range(1, N + 1):
    ROWS.append((
        i,
        _rnd.choice(["대구", "서울", "부산", "Kim \"Q\"", "a,b"]),
        None if i % 9 == 0 else round(_rnd.uniform(-100, 100), 3),
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
        _rnd.random() < 0.5,
    ))
HEADER = ["id", "city", "score", "day", "flag"]


def rows_csv(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r[0], r[1], "" if r[2] is None else r[2], r[3], "true" if r[4] else "false"])
    return out.getvalue().encode()


def reference_db():
    """The same rows in an in-memory SQLite, typed as sheaf types them."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE data (id INTEGER, city TEXT, score REAL, day TEXT, flag INTEGER)")
    db.executemany("INSERT INTO data VALUES (?,?,?,?,?)",
                   [(r[0], r[1], r[2], r[3], int(r[4])) for r in ROWS])
    return db


@pytest.fixture(scope="module")
def factory(tmp_path_factory):
    f = SheafFactory(tmp_path_factory.mktemp("query"))
    yield f
    f.finish()


@pytest.fixture(scope="module")
def qsrv(factory):
    return factory.start()


@pytest.fixture(scope="module")
def ds(qsrv):
    return ready(upload_dataset(qsrv, rows_csv(ROWS), "people.csv"))["id"]


@pytest.fixture(scope="module")
def ref():
    return reference_db()


def query(who, dataset_id, sql, **kw):
    headers = kw.pop("headers", None)
    body = {"sql": sql, **kw}
    return who.post(f"/api/datasets/{dataset_id}/query", json=body, headers=headers,
                    timeout=60)


def ok(r):
    assert r.status_code == 200, (r.status_code, r.text[:1000])
    body = r.json()
    assert set(body) == {"columns", "rows", "row_count", "truncated", "elapsed_ms", "cached"}, body
    assert body["row_count"] == len(body["rows"])
    assert isinstance(body["elapsed_ms"], int) and body["elapsed_ms"] >= 0
    return body


def unchanged(who, dataset_id):
    """The dataset still holds exactly ROWS."""
    b = ok(query(who, dataset_id, "SELECT id, city, score, day, flag FROM data ORDER BY id",
                 limit=N + 10))
    assert b["row_count"] == N
    assert [tuple(r) for r in b["rows"]] == [tuple(r) for r in ROWS]


# --------------------------------------------------------------------------
# answers


def test_typed_answer_matches_sqlite(qsrv, ds, ref):
    b = ok(query(qsrv, ds, "SELECT * FROM data ORDER BY id"))
    assert b["columns"] == [{"name": "id", "type": "integer"}, {"name": "city", "type": "text"},
                            {"name": "score", "type": "real"}, {"name": "day", "type": "date"},
                            {"name": "flag", "type": "boolean"}]
    assert b["truncated"] is False
    assert [tuple(r) for r in b["rows"]] == ROWS
    # Aggregates are typed by their values.
    sql = ("SELECT city, count(*) AS n, avg(score) AS mean, sum(flag) AS t, min(day) AS first "
           "FROM data GROUP BY city ORDER BY city")
    b = ok(query(qsrv, ds, sql))
    # min(day) is an expression: typed by its value (dates are text in SQLite).
    assert [c["type"] for c in b["columns"]] == ["text", "integer", "real", "integer", "text"]
    want = ref.execute(sql).fetchall()
    assert len(b["rows"]) == len(want)
    for got, exp in zip(b["rows"], want):
        assert got[0] == exp[0] and got[1] == exp[1] and got[3] == exp[3] and got[4] == exp[4]
        assert got[2] == pytest.approx(exp[2], rel=1e-12)


def test_with_values_and_explain(qsrv, ds):
    b = ok(query(qsrv, ds, "WITH t AS (SELECT id FROM data WHERE id <= 3) SELECT sum(id) FROM t"))
    assert b["rows"] == [[6]]
    b = ok(query(qsrv, ds, "VALUES (1, 'a'), (2, NULL)"))
    assert b["rows"] == [[1, "a"], [2, None]]
    b = ok(query(qsrv, ds, "EXPLAIN QUERY PLAN SELECT * FROM data WHERE id = 1"))
    assert b["row_count"] >= 1
    b = ok(query(qsrv, ds, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
                            "WHERE x < 100) SELECT sum(x) FROM r"))
    assert b["rows"] == [[5050]]
    b = ok(query(qsrv, ds, "SELECT value FROM json_each('[3, 4]') ORDER BY value"))
    assert b["rows"] == [[3], [4]]
    b = ok(query(qsrv, ds, "SELECT id FROM data WHERE 0"))
    assert b["rows"] == [] and b["row_count"] == 0
    assert b["columns"] == [{"name": "id", "type": "integer"}]


def test_parameters(qsrv, ds, ref):
    b = ok(query(qsrv, ds, "SELECT id FROM data WHERE score > ? AND city = ? ORDER BY id",
                 params=[10, "대구"]))
    want = [r[0] for r in ref.execute("SELECT id FROM data WHERE score > 10 AND city = '대구' "
                                      "ORDER BY id")]
    assert [r[0] for r in b["rows"]] == want
    b = ok(query(qsrv, ds, "SELECT count(*) FROM data WHERE city = :c AND flag = @f",
                 params={"c": "a,b", "f": True}))
    assert b["rows"] == [[sum(1 for r in ROWS if r[1] == "a,b" and r[4])]]
    # A parameter is never SQL: quotes in it are data.
    b = ok(query(qsrv, ds, "SELECT count(*) FROM data WHERE city = ?",
                 params=["x'; DROP TABLE data; --"]))
    assert b["rows"] == [[0]]
    b = ok(query(qsrv, ds, "SELECT ?, ?, ?", params=[None, 1.5, "x"]))
    assert b["rows"] == [[None, 1.5, "x"]]


@pytest.mark.parametrize("sql,params,fragment", [
    ("SELECT ?", None, "1 parameter"),
    ("SELECT ?", [], "1 parameter"),
    ("SELECT ?, ?", [1], "2 parameters"),
    ("SELECT ?", [1, 2], "gives 2"),
    ("SELECT :a", {"b": 1}, ":a"),
    ("SELECT :a", {"a": 1, "zz": 2}, "zz"),
    ("SELECT :a", [1], "object"),
    ("SELECT ?", {"a": 1}, "array"),
    ("SELECT ?", [[1]], "number, string"),
    ("SELECT ?", [{"a": 1}], "number, string"),
])
def test_bad_parameters(qsrv, ds, sql, params, fragment):
    assert_error(query(qsrv, ds, sql, params=params), 400, "bad_sql", fragment)


def test_sql_errors_are_clear(qsrv, ds):
    assert_error(query(qsrv, ds, "SELEC 1"), 400, "bad_sql", "syntax error")
    assert_error(query(qsrv, ds, "SELECT nope FROM data"), 400, "bad_sql", "no such column")
    assert_error(query(qsrv, ds, "SELECT * FROM nope"), 400, "bad_sql", "no such table")
    assert_error(query(qsrv, ds, "SELECT nosuchfn(1)"), 400, "bad_sql", "no such function")
    assert_error(query(qsrv, ds, "   -- only a comment"), 400, "bad_sql", "no statement")
    assert_error(query(qsrv, ds, "SELECT json_extract('{bad', '$')"), 400, "bad_sql", "JSON")
    assert_error(query(qsrv, ds, "SELECT 1 " + "+ 1 " * 30000), 400, "bad_sql", "100000")


def test_limit_and_truncation(qsrv, ds):
    b = ok(query(qsrv, ds, "SELECT id FROM data ORDER BY id", limit=7))
    assert [r[0] for r in b["rows"]] == list(range(1, 8)) and b["truncated"] is True
    b = ok(query(qsrv, ds, "SELECT id FROM data ORDER BY id LIMIT 7", limit=7))
    assert b["row_count"] == 7 and b["truncated"] is False
    b = ok(query(qsrv, ds, "SELECT id FROM data"))   # default limit 1000 > N
    assert b["row_count"] == N and b["truncated"] is False


# --------------------------------------------------------------------------
# the cache


def test_cache_answers_equal_queries(qsrv, ds):
    sql = "SELECT city, count(*) FROM data GROUP BY city ORDER BY 1 -- cache test"
    first = ok(query(qsrv, ds, sql))
    second = ok(query(qsrv, ds, sql))
    assert first["cached"] is False and second["cached"] is True
    assert first["rows"] == second["rows"] and first["columns"] == second["columns"]
    # Other parameters or another limit are other answers.
    a = ok(query(qsrv, ds, "SELECT count(*) FROM data WHERE id > ? -- c2", params=[10]))
    b = ok(query(qsrv, ds, "SELECT count(*) FROM data WHERE id > ? -- c2", params=[20]))
    assert b["cached"] is False and a["rows"] != b["rows"]
    c = ok(query(qsrv, ds, sql, limit=2))
    assert c["cached"] is False and c["row_count"] == 2


@pytest.mark.parametrize("sql", [
    "SELECT random()",
    "SELECT hex(randomblob(8))",
    "SELECT CURRENT_TIMESTAMP",
    "SELECT datetime('now')",
    "SELECT date('NOW', '+1 day')",
])
def test_volatile_queries_are_not_cached(qsrv, ds, sql):
    ok(query(qsrv, ds, sql))
    assert ok(query(qsrv, ds, sql))["cached"] is False


def test_now_in_a_parameter_is_not_cached(qsrv, ds):
    ok(query(qsrv, ds, "SELECT date(?)", params=["now"]))
    assert ok(query(qsrv, ds, "SELECT date(?)", params=["now"]))["cached"] is False


def test_each_dataset_version_has_its_own_answers(qsrv, ds):
    """Same SQL over another dataset file (a new upload of other rows) is
    never answered from the first one's cache."""
    sql = "SELECT count(*), sum(id) FROM data -- versions"
    a = ok(query(qsrv, ds, sql))
    ok(query(qsrv, ds, sql))
    other = ready(upload_dataset(qsrv, rows_csv(ROWS[:10]), "people.csv"))["id"]
    b = ok(query(qsrv, other, sql))
    assert b["cached"] is False
    assert b["rows"] == [[10, 55]] and a["rows"] == [[N, N * (N + 1) // 2]]
    assert qsrv.delete(f"/api/datasets/{other}").status_code == 204
    assert_error(query(qsrv, other, sql), 404, "not_found")


# --------------------------------------------------------------------------
# streams


def test_stream_json_and_csv(qsrv, ds):
    r = query(qsrv, ds, "SELECT * FROM data ORDER BY id", stream=True)
    b = ok(r)
    assert [tuple(x) for x in b["rows"]] == ROWS and b["truncated"] is False
    assert b["columns"][4] == {"name": "flag", "type": "boolean"}
    r = query(qsrv, ds, "SELECT id, city, score FROM data ORDER BY id", limit=5, stream=True)
    b = ok(r)
    assert b["row_count"] == 5 and b["truncated"] is True
    r = query(qsrv, ds, "SELECT id, city, score, flag FROM data ORDER BY id",
              headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    got = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert got[0] == ["id", "city", "score", "flag"]
    assert len(got) == N + 1
    for row, src in zip(got[1:], ROWS):
        assert int(row[0]) == src[0] and row[1] == src[1]
        assert (row[2] == "") if src[2] is None else float(row[2]) == src[2]
        assert row[3] == ("true" if src[4] else "false")


def test_stream_errors_before_the_first_row_get_a_status(qsrv, ds):
    assert_error(query(qsrv, ds, "DELETE FROM data", stream=True), 400, "forbidden_sql")
    assert_error(query(qsrv, ds, "SELECT nope", headers={"Accept": "text/csv"}), 400, "bad_sql")


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def lean(factory):
    """A server whose AddressSanitizer keeps little freed memory aside (its
    quarantine would otherwise grow the resident size by up to 256 MB)."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    return factory.start(env={"ASAN_OPTIONS": (opts + ":" if opts else "") +
                              "quarantine_size_mb=1"})


def test_large_stream_in_constant_memory(lean):
    """A 3-million-row answer (about 100 MB of JSON) streams while the
    server's resident memory stays put; the whole answer would not fit in
    the non-streamed byte limit."""
    qsrv = lean
    ds = ready(upload_dataset(qsrv, rows_csv(ROWS[:5]), "few.csv"))["id"]
    n = 3_000_000
    sql = ("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < %d) "
           "SELECT x, 'row ' || x || ' of a long answer' AS label FROM r" % n)
    pid = qsrv.proc.pid
    before = rss_kib(pid)
    peak = before
    r = qsrv.post(f"/api/datasets/{ds}/query", json={"sql": sql, "stream": True},
                  stream=True, timeout=300)
    assert r.status_code == 200
    size = 0
    tail = b""
    for chunk in r.iter_content(1 << 16):
        size += len(chunk)
        tail = (tail + chunk)[-200:]
        peak = max(peak, rss_kib(pid))
    assert size > 90_000_000
    assert b'"row_count":%d,"truncated":false,' % n in tail and tail.endswith(b"}")
    # Sanitizer builds carry shadow memory, so the bound is loose; a buffered
    # answer would add hundreds of MB.
    assert peak - before < 64 * 1024, (before, peak)
    # Not streamed, the same query stops at the row limit.
    b = ok(query(qsrv, ds, sql, limit=10))
    assert b["row_count"] == 10 and b["truncated"] is True


# --------------------------------------------------------------------------
# malformed requests


@pytest.mark.parametrize("body,status,code,fragment", [
    (b"not json", 400, None, None),
    (b"[1,2]", None, None, None),
    (b"{}", 422, None, "sql"),
    (b'{"sql": 5}', 422, None, "sql"),
    (b'{"sql": ""}', 422, "invalid_field", "empty"),
    (b'{"sql": "SELECT 1", "nope": 1}', 422, None, "nope"),
    (b'{"sql": "SELECT 1", "limit": 0}', 422, "invalid_field", "limit"),
    (b'{"sql": "SELECT 1", "limit": "5"}', 422, "invalid_field", "limit"),
    (b'{"sql": "SELECT 1", "limit": 1.5}', 422, "invalid_field", "limit"),
    (b'{"sql": "SELECT 1", "limit": 100000000}', 422, "invalid_field", "SHEAF_QUERY_MAX_ROWS"),
    (b'{"sql": "SELECT 1", "params": "x"}', 422, "invalid_field", "params"),
    (b'{"sql": "SELECT 1", "stream": "yes"}', 422, "invalid_field", "stream"),
])
def test_malformed_bodies(qsrv, ds, body, status, code, fragment):
    r = qsrv.post(f"/api/datasets/{ds}/query", data=body,
                  headers={"Content-Type": "application/json"})
    if status is None:
        assert r.status_code in (400, 422), r.text
        return
    assert r.status_code == status, r.text
    if code:
        assert r.json()["error"] == code, r.text
    if fragment:
        assert fragment in r.json()["detail"], r.text


def test_oversized_body_and_ids(qsrv, ds):
    r = qsrv.post(f"/api/datasets/{ds}/query", json={"sql": "SELECT '" + "x" * 2_000_000 + "'"})
    assert r.status_code == 413, r.text
    assert query(qsrv, "../etc", "SELECT 1").status_code in (400, 404)
    assert_error(query(qsrv, "A" * 22, "SELECT 1"), 404, "not_found")
    r = qsrv.post(f"/api/datasets/{ds}/query", json={"sql": "SELECT 1"}, auth=False)
    assert r.status_code == 401


def test_other_users_dataset_is_not_found(qsrv, ds):
    other = qsrv.new_user()
    assert_error(query(other, ds, "SELECT count(*) FROM data"), 404, "not_found")


# --------------------------------------------------------------------------
# the sandbox


def data_files(srv):
    return sorted(Path(srv.data_dir).rglob("*.sqlite"))


HOSTILE_FORBIDDEN = [
    "DELETE FROM data",
    "delete from data where 1",
    "UPDATE data SET score = 0",
    "INSERT INTO data (id) VALUES (1)",
    "REPLACE INTO data (id) VALUES (1)",
    "DROP TABLE data",
    "CREATE TABLE t (a)",
    "CREATE TEMP TABLE t AS SELECT * FROM data",
    "CREATE VIEW v AS SELECT 1",
    "CREATE INDEX i ON data (id)",
    "CREATE TRIGGER tr AFTER INSERT ON data BEGIN SELECT 1; END",
    "CREATE VIRTUAL TABLE v USING fts5(a)",
    "ALTER TABLE data ADD COLUMN z",
    "ALTER TABLE data RENAME TO d2",
    "VACUUM",
    "VACUUM INTO '/tmp/sheaf-stolen.db'",
    "ANALYZE",
    "REINDEX",
    "BEGIN",
    "COMMIT",
    "SAVEPOINT s",
    "PRAGMA writable_schema = 1",
    "PRAGMA query_only = 0",
    "pragma table_info(data)",
    "PRAGMA journal_mode = DELETE",
    "SELECT * FROM pragma_table_info('data')",
    "SELECT * FROM pragma_database_list",
    "SELECT * FROM sqlite_master",
    "SELECT sql FROM sqlite_schema",
    "SELECT * FROM sqlite_temp_master",
    "SELECT * FROM sheaf_meta",
    "SELECT * FROM sheaf_columns",
    "SELECT * FROM dbstat",
    "SELECT * FROM sqlite_dbpage",
    "SELECT * FROM sqlite_stmt",
    "SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
    "SELECT fts3_tokenizer('simple')",
    "SELECT sqlite_compileoption_get(0)",
    "DETACH main",
    "/* a comment */ DeLeTe FROM data",
    "-- a comment\nDROP TABLE data",
    "SELECT 1; DELETE FROM data",
    "SELECT 1;; DROP TABLE data",
    "SELECT 1; SELECT 2",
    "WITH x AS (SELECT 1) DELETE FROM data",
    "WITH x AS (SELECT 1) INSERT INTO data (id) SELECT * FROM x",
    "WITH x AS (SELECT 1) UPDATE data SET id = 0",
    "EXPLAIN DELETE FROM data",
    "EXPLAIN QUERY PLAN DROP TABLE data",
    "SELECT * FROM (SELECT * FROM sheaf_meta)",
    "SELECT (SELECT value FROM sheaf_meta LIMIT 1)",
    "WITH m AS (SELECT * FROM sqlite_master) SELECT * FROM m",
    # Reading no column of a table still opens it: counts and existence tests.
    "SELECT count(*) FROM sheaf_meta",
    "SELECT count(*) FROM sqlite_master",
    "SELECT EXISTS (SELECT 1 FROM sheaf_columns)",
    "SELECT id FROM data WHERE (SELECT count(*) FROM sheaf_meta) > 0",
    "SELECT 1 FROM sheaf_meta LIMIT 1",
]


@pytest.mark.parametrize("sql", HOSTILE_FORBIDDEN)
def test_hostile_statements_are_refused(qsrv, ds, sql):
    r = query(qsrv, ds, sql)
    assert r.status_code == 400, (sql, r.status_code, r.text)
    assert r.json()["error"] in ("forbidden_sql", "bad_sql"), r.text


def test_attach_of_another_datasets_file_is_refused(qsrv, ds):
    other = qsrv.new_user()
    victim = ready(upload_dataset(other, rows_csv(ROWS[:3]), "victim.csv"))["id"]
    paths = [p for p in data_files(qsrv) if victim in str(p)]
    assert paths, list(data_files(qsrv))
    for sql in (f"ATTACH '{paths[0]}' AS v",
                f"ATTACH DATABASE 'file:{paths[0]}?mode=ro' AS v",
                f"SELECT * FROM v.data",
                f"ATTACH '{paths[0]}' AS v; SELECT * FROM v.data"):
        r = query(qsrv, ds, sql)
        assert r.status_code == 400, (sql, r.text)
        assert "victim" not in r.text


def test_hostile_queries_leave_everything_as_it_was(qsrv, ds):
    before = {p: p.read_bytes() for p in data_files(qsrv)}
    for sql in HOSTILE_FORBIDDEN:
        query(qsrv, ds, sql)
    assert {p: p.read_bytes() for p in data_files(qsrv)} == before
    assert not Path("/tmp/sheaf-stolen.db").exists()
    unchanged(qsrv, ds)
    qsrv.assert_healthy()


def test_files_cannot_be_read_or_written(qsrv, ds):
    for sql in ("SELECT readfile('/etc/passwd')", "SELECT writefile('/tmp/x', 'y')",
                "SELECT edit('x')", "SELECT * FROM zipfile('/tmp/x.zip')",
                "SELECT * FROM fsdir('/')"):
        r = query(qsrv, ds, sql)
        assert r.status_code == 400, (sql, r.text)


@pytest.fixture(scope="module")
def tight(factory):
    """A server with small limits, so that bombs hit them quickly."""
    return factory.start(env={
        "SHEAF_QUERY_TIMEOUT_MS": "400",
        "SHEAF_QUERY_MEMORY": "32M",
        "SHEAF_QUERY_MAX_VALUE": "1M",
        "SHEAF_QUERY_MAX_ROWS": "50",
        "SHEAF_QUERY_MAX_BYTES": "4K",
    })


@pytest.fixture(scope="module")
def tds(tight):
    return ready(upload_dataset(tight, rows_csv(ROWS), "people.csv"))["id"]


@pytest.mark.parametrize("sql", [
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r",
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x FROM r) SELECT max(x) FROM r",
    "SELECT count(*) FROM data a, data b, data c, data d",
    "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
    "SELECT x FROM r ORDER BY x DESC LIMIT 1",
])
def test_runaway_queries_time_out_or_hit_the_memory_limit(tight, tds, sql):
    r = query(tight, tds, sql)
    assert r.status_code == 422, (sql, r.text)
    assert r.json()["error"] in ("query_timeout", "query_too_big"), r.text
    if r.json()["error"] == "query_timeout":
        assert "400 ms" in r.json()["detail"]
    tight.assert_healthy()


@pytest.mark.parametrize("sql", [
    "SELECT randomblob(2000000)",
    "SELECT zeroblob(2000000)",
    "SELECT length(randomblob(1000000000))",
    "SELECT replace(hex(zeroblob(600000)), '0', 'xx')",
    "SELECT group_concat(hex(randomblob(200))) FROM data a, data b",
])
def test_value_bombs_hit_the_value_limit(tight, tds, sql):
    r = query(tight, tds, sql)
    assert r.status_code == 422, (sql, r.text)
    assert r.json()["error"] in ("query_too_big", "query_timeout"), r.text


def test_memory_limit(tight, tds):
    """Sixty values of 0.9 MB each in one row: every value is within the
    value limit, the row is not within 32 MB of memory."""
    cols = ", ".join(f"randomblob(900000) AS b{i}" for i in range(60))
    assert_error(query(tight, tds, f"SELECT {cols}"), 422, "query_too_big", "memory")
    # A sort that needs more memory than the limit fails the same way.
    r = query(tight, tds, "SELECT hex(randomblob(1000)) AS h FROM data a, data b ORDER BY h")
    assert r.status_code == 422 and r.json()["error"] in ("query_too_big", "query_timeout"), r.text
    tight.assert_healthy()


def test_byte_limit_truncates_between_rows(tight, tds):
    b = ok(query(tight, tds, "SELECT id, printf('%080d', id) AS pad FROM data ORDER BY id"))
    assert b["truncated"] is True
    assert 0 < b["row_count"] < 50   # 50: the row limit, 4K fills sooner
    assert [r[0] for r in b["rows"]] == list(range(1, b["row_count"] + 1))
    assert_error(query(tight, tds, "SELECT 1", limit=51), 422, "invalid_field", "1 to 50")
    # A stream is not bound by the answer's row and byte limits.
    b = ok(query(tight, tds, "SELECT * FROM data", stream=True))
    assert b["row_count"] == N and b["truncated"] is False


def test_concurrent_queries(qsrv, ds, ref):
    """Good and hostile queries at once: each gets its own right answer."""
    good = [("SELECT count(*) FROM data WHERE score > ?", [t]) for t in range(-90, 90, 9)]
    bad = ["DELETE FROM data", "SELECT * FROM sheaf_meta", "SELECT nope", "PRAGMA x"]
    jobs = [("good", q) for q in good] + [("bad", q) for q in bad] * 3
    random.Random(3).shuffle(jobs)

    def run(job):
        kind, q = job
        if kind == "good":
            sql, params = q
            return job, query(qsrv, ds, sql + " -- %d" % random.random(), params=params)
        return job, query(qsrv, ds, q)

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(run, jobs))
    for (kind, q), r in results:
        if kind == "good":
            sql, params = q
            want = ref.execute(sql, params).fetchone()[0]
            assert ok(r)["rows"] == [[want]], (q, r.text)
        else:
            assert r.status_code == 400, (q, r.text)
    unchanged(qsrv, ds)


def test_added_aggregates_match_pandas(qsrv, ds):
    import pandas as pd
    df = pd.DataFrame(ROWS, columns=HEADER)
    b = ok(query(qsrv, ds, "SELECT city, median(score), percentile(score, 90), stddev(score), "
                            "variance(score) FROM data GROUP BY city ORDER BY city"))
    g = df.groupby("city").score
    want = pd.DataFrame({"median": g.median(), "p90": g.quantile(0.9), "std": g.std(),
                         "var": g.var()}).sort_index()
    assert [r[0] for r in b["rows"]] == list(want.index)
    for row, (_, w) in zip(b["rows"], want.iterrows()):
        for got, exp in zip(row[1:], w.values):
            assert got == pytest.approx(exp, rel=1e-12)
    # NULLs and text are skipped; one value has no deviation; p is checked.
    b = ok(query(qsrv, ds, "WITH t(x) AS (VALUES (NULL), ('a'), (4)) "
                            "SELECT median(x), stddev(x), variance(x) FROM t"))
    assert b["rows"] == [[4.0, None, None]]
    b = ok(query(qsrv, ds, "SELECT median(x) FROM (SELECT 1 AS x WHERE 0)"))
    assert b["rows"] == [[None]]
    assert_error(query(qsrv, ds, "SELECT percentile(score, 101) FROM data"), 400, "bad_sql",
                 "0 to 100")
