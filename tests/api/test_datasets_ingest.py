"""Datasets (issue 5): ingestion through POST /api/datasets/upload.

Real files from ../shared/data/daegu (read in place), then generated files
written by the tests: quoting, line endings, encodings, delimiters, ragged
rows, headers, widths, long fields, garbage, type inference, XLSX (openpyxl)
and XLS (xlwt), zip bombs; upload limits, the background path, and
malformed multipart bodies.

Expectations come from the source parsed with Python's csv module and the
documented rules (datasets_helpers.Model), never from sheaf's answers.
Every test runs on the file object store and, when SHEAF_TEST_S3_URL is
set, on S3 (the module-level ``storage`` param, as in test_files.py).
"""

import codecs
import collections
import datetime as dt
import io
import json
import random
import time
import zipfile

import pandas as pd
import pytest

from conftest import SheafFactory, assert_error
from datasets_helpers import (CCTV_CSV, ColumnModel, check_dataset_file, fetch_dataset_file, PARKING_CSV, SCHOOL_CSV, TEST_CSV, Model,
                              check_schema, cols_by_name, compare_export,
                              concat_csv_bytes, detail, export_csv, need_data,
                              read_csv_text, read_source, ready, taas_members,
                              upload_dataset, upload_ready, wait_ready)
from files_helpers import Field, FilePart, Multipart, make_storage, storage_params


@pytest.fixture(scope="module", params=storage_params())
def storage(request):
    return make_storage(request.param)


@pytest.fixture(scope="module")
def dsrv(storage, tmp_path_factory):
    """One server shared by the module's simple tests, with small limits
    that the limit tests rely on (normal files stay far below them)."""
    f = SheafFactory(tmp_path_factory.mktemp(f"ds-ingest-{storage.name}"))
    env = storage.env()
    try:
        yield f.start(env={**env, "SHEAF_DATASET_MAX_FIELD": "4K",
                           "SHEAF_DATASET_MAX_UPLOAD": "48M",
                           "SHEAF_DATASET_XLSX_MAX_RATIO": "50"})
        f.finish()
    finally:
        storage.remove(env)


@pytest.fixture
def start(storage, sheaf_factory):
    """start(env, like=None): a server of its own on this module's storage,
    or on the data dir and storage of the server ``like``."""
    envs = []

    def start(env=None, like=None):
        if like is not None:     # the same data dir and storage as ``like``
            return sheaf_factory.start(env={**like.extra_env, **(env or {})},
                                       data_dir=like.data_dir)
        senv = storage.env()
        envs.append(senv)
        return sheaf_factory.start(env={**senv, **(env or {})})
    yield start
    sheaf_factory.finish()
    for env in envs:
        storage.remove(env)


def up(srv, data, filename="data.csv", **fields):
    return upload_dataset(srv, data, filename, fields)


def up_ok(srv, data, filename="data.csv", **fields):
    return ready(up(srv, data, filename, **fields))


def rows_of(srv, d, limit=10000):
    r = srv.get(f"/api/datasets/{d['id']}/rows?limit={limit}")
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["rows"]


# --------------------------------------------------------------------------
# real files


REAL = [
    # path, encoding of the bytes, codec Python decodes them with
    (TEST_CSV, "UTF-8", "utf-8"),
    (CCTV_CSV, "CP949", "cp949"),
    (SCHOOL_CSV, "CP949", "cp949"),
    (PARKING_CSV, "CP949", "cp949"),
]


@pytest.mark.parametrize("path,encoding,codec", REAL, ids=["test", "cctv", "school", "parking"])
def test_real_file(dsrv, path, encoding, codec):
    need_data(path)
    data = path.read_bytes()
    records = read_source(path, codec)
    model = Model(records)
    d = up_ok(dsrv, data, path.name)
    assert d["rows"] == len(records) - 1
    assert d["columns"] == len(records[0])
    assert d["encoding"] == encoding
    assert d["delimiter"] == ","
    assert d["format"] == "csv"
    assert d["size_bytes"] == len(data)
    assert d["name"] == path.stem
    assert d["warnings"] == []
    check_schema(d, model)
    # whole columns: the export is the source after the documented conversions
    compare_export(export_csv(dsrv, d["id"]), model)


def test_real_file_details(dsrv):
    """Named expectations on the real files (the model above is general;
    these pin down what the issue asks for by name)."""
    need_data(TEST_CSV, CCTV_CSV, PARKING_CSV, SCHOOL_CSV)
    t = up_ok(dsrv, TEST_CSV.read_bytes(), "test.csv")
    c = cols_by_name(t)
    assert c["사고일시"]["type"] == "datetime"
    src = read_source(TEST_CSV, "utf-8")
    first = src[1][1]                      # "2022-01-01 01"
    assert first == "2022-01-01 01"
    page = dsrv.get(f"/api/datasets/{t['id']}/preview?rows=3").json()
    assert page["rows"][0][1] == "2022-01-01T01:00:00"
    assert page["rows"][0][0] == src[1][0]
    # low-cardinality text is categorical, ids are not
    assert c["요일"]["categorical"] is True and c["요일"]["unique"] == 7
    assert c["ID"]["categorical"] is False
    for path in (CCTV_CSV, PARKING_CSV, SCHOOL_CSV):
        d = up_ok(dsrv, path.read_bytes(), path.name)
        cc = cols_by_name(d)
        assert cc["위도"]["role"] == "latitude", (path.name, cc["위도"])
        assert cc["경도"]["role"] == "longitude", (path.name, cc["경도"])
        assert cc["위도"]["type"] in ("real", "integer")


@pytest.fixture(scope="module")
def taas(tmp_path_factory):
    """The TAAS zip's four CSVs, extracted into a temporary directory."""
    need_data()
    from datasets_helpers import TAAS_ZIP
    need_data(TAAS_ZIP)
    out = tmp_path_factory.mktemp("taas")
    files = []
    for name, data in taas_members():
        p = out / name.replace("/", "_")
        p.write_bytes(data)
        files.append(p)
    return files


def taas_checks(d, data, model):
    assert d["rows"] == len(model.rows)
    assert d["columns"] == 22 == len(model.header)
    assert d["encoding"] == "UTF-8"
    c = cols_by_name(d)
    assert c["사망자수"]["type"] == "integer"
    assert c["사고일시"]["type"] == "datetime"
    assert c["사고번호"]["type"] == "integer"
    check_schema(d, model)


def test_taas_member(dsrv, taas):
    """One member alone: BOM, CRLF, Korean datetimes; the whole export."""
    p = taas[0]
    data = p.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data[:2000]
    model = Model(read_csv_text(data.decode("utf-8-sig")))
    d = upload_ready(dsrv, data, p.name)
    taas_checks(d, data, model)
    first = model.rows[0][1]
    assert first.startswith("20") and "년" in first and first.endswith("시")
    rows = dsrv.get(f"/api/datasets/{d['id']}/preview?rows=1").json()["rows"]
    assert rows[0][1] == model.column("사고일시").convert(first)
    compare_export(export_csv(dsrv, d["id"]), model)


def test_taas_concatenated(dsrv, taas, storage, tmp_path):
    """All four members as one file (167k rows, ~41 MB, ingested in the
    background): counts, types, and the profile of 사망자수 against pandas."""
    blobs = [p.read_bytes() for p in taas]
    data = concat_csv_bytes(blobs)
    records = read_csv_text(data.decode("utf-8-sig"))
    header, rows = records[0], records[1:]
    assert len(rows) == sum(len(read_csv_text(b.decode("utf-8-sig"))) - 1 for b in blobs)
    r = upload_dataset(dsrv, data, "taas.csv", timeout=300)
    # above SHEAF_DATASET_SYNC_BYTES (8M by default): ingested by a job
    progress = []
    d = wait_ready(dsrv, ready(r, 202)["id"], timeout=300, progress=progress)
    assert d["status"] == "ready" and d["error"] is None, d
    assert all(0 <= p <= 100 for p in progress), progress
    assert progress == sorted(progress), progress
    assert d["rows"] == len(rows) == 167093   # SOURCE.md agrees with the csv module
    assert d["columns"] == len(header) == 22
    assert d["encoding"] == "UTF-8"
    c = cols_by_name(d)
    deaths = ColumnModel("사망자수", [row[header.index("사망자수")] for row in rows])
    when = ColumnModel("사고일시", [row[header.index("사고일시")] for row in rows])
    assert deaths.kind == c["사망자수"]["type"] == "integer"
    assert when.kind == c["사고일시"]["type"] == "datetime"
    prof = c["사망자수"]["profile"]
    s = pd.Series([deaths.conv[v] for v in deaths.values])
    assert prof["count"] == len(s) and prof["nulls"] == 0
    assert prof["min"] == s.min() and prof["max"] == s.max()
    assert prof["mean"] == pytest.approx(s.mean(), rel=1e-9)
    assert prof["std"] == pytest.approx(s.std(), rel=1e-9)
    for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):
        assert prof["quantiles"][key] == pytest.approx(s.quantile(q)), key
    assert prof["distinct"] == s.nunique()
    top = s.value_counts()
    assert prof["top"][0] == {"value": int(top.index[0]), "count": int(top.iloc[0])}
    # the newest accident by a sorted page; the earliest by the profile
    page = dsrv.get(f"/api/datasets/{d['id']}/rows?sort=-사고일시&limit=1").json()
    times = [when.conv[v] for v in when.values]
    assert page["rows"][0][1] == max(times)
    assert cols_by_name(detail(dsrv, d["id"]))["사고일시"]["profile"]["min"] == min(times)
    # past the exact bounds (10,000 distinct, 100,000 kept values): the
    # estimates keep their documented promises
    import numpy as np
    ids_col = ColumnModel("사고번호", [row[header.index("사고번호")] for row in rows])
    ids = np.array(sorted(ids_col.conv[v] for v in ids_col.values), dtype=np.int64)
    prof = cols_by_name(detail(dsrv, d["id"]))["사고번호"]["profile"]
    assert prof["count"] == len(ids) and prof["min"] == ids[0] and prof["max"] == ids[-1]
    true_distinct = len(np.unique(ids))
    assert prof["distinct_exact"] is False
    assert abs(prof["distinct"] - true_distinct) / true_distinct < 0.03, prof["distinct"]
    counts = collections.Counter(ids_col.values)
    for t in prof["top"]:           # Space-Saving: an upper bound, by at most n/512
        true = counts[str(t["value"])]
        assert true <= t["count"] <= true + len(ids) / 512 + 1, t
    if not prof["quantiles_exact"]:  # a uniform sample: ranks within 1%
        for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):
            rank = np.searchsorted(ids, prof["quantiles"][key]) / len(ids)
            assert abs(rank - q) < 0.01, (key, rank)
    else:
        for q, key in ((0.25, "p25"), (0.5, "p50"), (0.75, "p75")):
            assert prof["quantiles"][key] == pytest.approx(np.quantile(ids.astype(float), q))
    h = prof["histogram"]
    if prof["histogram_exact"]:
        want, _ = np.histogram(ids.astype(np.float64), bins=len(h["counts"]),
                               range=(float(ids[0]), float(ids[-1])))
        assert h["counts"] == want.tolist()
    assert sum(h["counts"]) == pytest.approx(len(ids), rel=0.01)
    # the file itself: sound, every row, the ids in order
    stored = check_dataset_file(fetch_dataset_file(storage, dsrv, d["id"], tmp_path), d)
    at = header.index("사고번호")
    assert [r[at] for r in stored] == [int(row[at]) for row in rows]


# --------------------------------------------------------------------------
# generated CSV: quoting, line endings, encodings, delimiters


def write_csv(records, delimiter=",", newline="\n", quote_all=False):
    """RFC 4180 text: a field is quoted (inner quotes doubled) when it holds
    the delimiter, a quote, CR or LF (csv.writer would leave a LF unquoted
    with a CR line terminator)."""
    def field(v):
        if quote_all or any(ch in v for ch in (delimiter, '"', "\r", "\n")):
            return '"' + v.replace('"', '""') + '"'
        return v
    return "".join(delimiter.join(field(v) for v in r) + newline for r in records)


QUOTING = [
    ["id", "text", "note"],
    ["1", "plain", "x"],
    ["2", "a, b, c", "embedded delimiters"],
    ["3", 'she said "hi"', 'doubled ""quotes"""'],
    ["4", "line one\r\nline two", "embedded CRLF"],
    ["5", "line one\nline two\nthree", "embedded LF"],
    ["6", "", "empty field"],
    ["7", " padded ", "spaces kept in text"],
    ["8", '"', "a lone quote"],
    ["9", "한국어, 텍스트", "Korean with a comma"],
]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_quoting_and_line_endings(dsrv, newline):
    text = write_csv(QUOTING, newline=newline)
    # the writer quoted what needs quoting; the file has every form
    assert '"a, b, c"' in text and '""hi""' in text and '"line one\r\nline two"' in text
    model = Model(read_csv_text(text))
    assert len(model.rows) == 9
    d = up_ok(dsrv, text.encode(), f"quoting-{len(newline)}.csv")
    assert d["rows"] == 9 and d["columns"] == 3
    assert d["warnings"] == []
    check_schema(d, model)
    got = rows_of(dsrv, d)
    assert [r[1] for r in got] == [r[1] or None for r in QUOTING[1:]]
    compare_export(export_csv(dsrv, d["id"]), model)


def test_quote_all_and_trailing_newline_variants(dsrv):
    recs = [["a", "b"], ["1", "x"], ["2", "y"]]
    for text in (write_csv(recs, quote_all=True), write_csv(recs).rstrip("\n"),
                 write_csv(recs) + "\n"):
        d = up_ok(dsrv, text.encode(), "q.csv")
        assert d["rows"] == 2, (text, d)
        assert rows_of(dsrv, d) == [[1, "x"], [2, "y"]]


ENC_TEXT = [
    ["이름", "도시", "메모", "값"],
    ["김철수", "대구광역시 수성구", "교차로 부근 사고 다발 지역", "10"],
    ["이영희", "대구광역시 남구 대명동", "어린이 보호 구역 안내 표지판 설치", "20"],
    ["박민수", "대구광역시 달서구 상인동", "주차장 요금 정보 및 운영 시간 확인", "30"],
    ["최지우", "대구광역시 북구 산격동", "무인 교통 단속 카메라 설치 장소", "40"],
]
LATIN_TEXT = [
    ["name", "city", "note", "value"],
    ["José", "Málaga", "café au lait, crème brûlée", "1"],
    ["Zoë", "Zürich", "naïve façade; déjà vu", "2"],
    ["François", "Besançon", "garçon à la mode", "3"],
]
W1252_TEXT = LATIN_TEXT + [["Ørjan", "Kraków", "“smart quotes” – en dash € 5", "4"]]


@pytest.mark.parametrize("codec,override,expected,records", [
    ("utf-8", None, "UTF-8", ENC_TEXT),
    ("utf-8-sig", None, "UTF-8", ENC_TEXT),
    ("cp949", None, "CP949", [ENC_TEXT[0]] + ENC_TEXT[1:] * 3),
    ("euc-kr", "euc-kr", "CP949", ENC_TEXT),
    ("utf-16-le-bom", None, "UTF-16LE", ENC_TEXT),
    ("utf-16-be-bom", None, "UTF-16BE", ENC_TEXT),
    ("latin-1", None, "WINDOWS-1252", LATIN_TEXT),
    ("latin-1", "latin-1", "WINDOWS-1252", LATIN_TEXT),
    ("windows-1252", None, "WINDOWS-1252", W1252_TEXT),
    ("utf-16-le-bom", "utf-16le", "UTF-16LE", ENC_TEXT),
], ids=["utf8", "utf8-bom", "cp949", "euc-kr-override", "utf16le", "utf16be",
        "latin1", "latin1-override", "cp1252", "utf16le-override"])
def test_encodings(dsrv, codec, override, expected, records):
    text = write_csv(records, newline="\r\n")
    if codec == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    elif codec == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(codec)
    fields = {"encoding": override} if override else {}
    d = up_ok(dsrv, data, f"enc-{codec}.csv", **fields)
    assert d["encoding"] == expected, d
    assert d["rows"] == len(records) - 1
    assert [c["name"] for c in d["columns_info"]] == records[0]
    got = rows_of(dsrv, d)
    assert [r[:3] for r in got] == [r[:3] for r in records[1:]]
    assert [r[3] for r in got] == [int(r[3]) for r in records[1:]]


def test_wrong_encoding_override_is_refused_or_kept_readable(dsrv):
    """CP949 bytes declared UTF-8: a clear 422 naming the encoding."""
    data = write_csv(ENC_TEXT).encode("cp949")
    r = up(dsrv, data, "wrong.csv", encoding="utf-8")
    body = assert_error(r, 422, "invalid_file")
    assert "utf-8" in body["detail"].lower(), body


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
@pytest.mark.parametrize("given", [False, True], ids=["sniffed", "given"])
def test_delimiters(dsrv, delim, given):
    others = ",;\t|".replace(delim, "")
    recs = [["name", "amount", "memo"]] + [
        [f"item{i}", str(i * 10), f"has {others[i % 3]} inside"] for i in range(1, 12)]
    text = write_csv(recs, delimiter=delim)
    fields = {"delimiter": {"\t": "tab"}.get(delim, delim) if given else None}
    fields = {k: v for k, v in fields.items() if v}
    d = up_ok(dsrv, text.encode(), "delim.csv", **fields)
    assert d["delimiter"] == delim, d
    assert d["columns"] == 3 and d["rows"] == 11
    model = Model(read_csv_text(text, delimiter=delim))
    check_schema(d, model)
    compare_export(export_csv(dsrv, d["id"]), model)


def test_tsv_format_field(dsrv):
    d = up_ok(dsrv, b"a\tb\n1\t2\n", "x.txt", format="tsv")
    assert d["delimiter"] == "\t" and rows_of(dsrv, d) == [[1, 2]]


# --------------------------------------------------------------------------
# shapes: ragged rows, empty, header only, widths, long fields, garbage


def test_ragged_rows_default_pads_and_truncates(dsrv):
    text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n13\n"
    d = up_ok(dsrv, text.encode(), "ragged.csv")
    assert d["rows"] == 5
    w = [x for x in d["warnings"] if x["code"] == "ragged_row"]
    assert [x["line"] for x in w] == [3, 4, 6], d["warnings"]
    assert all(f"line {x['line']}" in x["message"] for x in w)
    assert rows_of(dsrv, d) == [[1, 2, 3], [4, 5, None], [6, 7, 8], [10, 11, 12],
                                [13, None, None]]


def test_ragged_line_numbers_count_embedded_newlines(dsrv):
    """Lines are the file's lines: a quoted field spanning two lines moves
    the next record's line number by one."""
    text = 'a,b\n"x\ny",1\nshort\n'
    d = up_ok(dsrv, text.encode(), "ragged2.csv")
    w = [x for x in d["warnings"] if x["code"] == "ragged_row"]
    assert [x["line"] for x in w] == [4], d["warnings"]


def test_ragged_rows_strict_is_422_naming_the_line(dsrv):
    text = "a,b,c\n1,2,3\n4,5,6\n7,8\n"
    body = assert_error(up(dsrv, text.encode(), "strict.csv", strict="true"), 422,
                        "invalid_file")
    assert "line 4" in body["detail"], body
    # nothing listed
    names = [x["name"] for x in dsrv.get("/api/datasets?limit=100").json()["datasets"]]
    assert "strict" not in names


def test_many_ragged_rows_are_counted(dsrv):
    text = "a,b\n" + "1\n" * 250
    d = up_ok(dsrv, text.encode(), "manyragged.csv")
    listed = [x for x in d["warnings"] if x["code"] == "ragged_row"]
    assert len(listed) == 100
    total = [x for x in d["warnings"] if x["code"] == "ragged_rows"]
    assert total and "250" in total[0]["message"], d["warnings"]


def test_empty_file_is_422(dsrv):
    assert_error(up(dsrv, b"", "empty.csv"), 422, "invalid_file", "empty")


def test_blank_lines_only_is_422(dsrv):
    r = up(dsrv, b"\n\n\r\n", "blank.csv")
    assert_error(r, 422, "invalid_file")


def test_header_only_file(dsrv):
    d = up_ok(dsrv, "이름,나이\r\n".encode(), "header.csv")
    assert d["rows"] == 0 and d["columns"] == 2
    assert [c["name"] for c in d["columns_info"]] == ["이름", "나이"]
    assert rows_of(dsrv, d) == []
    assert export_csv(dsrv, d["id"]) == [["이름", "나이"]]


def test_one_column(dsrv):
    vals = ["x", "", "y", "z"]
    text = "only\n" + "\n".join(vals) + "\n"
    d = up_ok(dsrv, text.encode(), "one.csv")
    # a blank line in a one-column file is an empty value or no record;
    # either way the other values keep their order
    got = [r[0] for r in rows_of(dsrv, d)]
    assert [v for v in got if v is not None] == ["x", "y", "z"], got
    assert d["columns"] == 1
    back = export_csv(dsrv, d["id"])
    assert back[0] == ["only"] and [r[0] for r in back[1:] if r[0]] == ["x", "y", "z"]


def test_2000_columns(dsrv):
    header = [f"c{i}" for i in range(2000)]
    rows = [[str(i * j) for i in range(2000)] for j in range(3)]
    d = up_ok(dsrv, write_csv([header] + rows).encode(), "wide.csv")
    assert d["columns"] == 2000 and d["rows"] == 3
    got = rows_of(dsrv, d)
    assert got == [[int(v) for v in r] for r in rows]


def test_2001_columns_is_422(dsrv):
    header = [f"c{i}" for i in range(2001)]
    body = assert_error(up(dsrv, write_csv([header, header]).encode(), "wider.csv"),
                        422, "invalid_file")
    assert "2001" in body["detail"] and "2000" in body["detail"], body


def test_long_field_over_the_limit_is_422_naming_the_line(dsrv):
    # dsrv runs with SHEAF_DATASET_MAX_FIELD=4K
    ok = "a,b\n1," + "x" * 4000 + "\n"
    d = up_ok(dsrv, ok.encode(), "long-ok.csv")
    assert rows_of(dsrv, d)[0][1] == "x" * 4000
    bad = "a,b\n1,x\n2,y\n3,\"" + "y" * 5000 + "\"\n"
    body = assert_error(up(dsrv, bad.encode(), "long.csv"), 422, "invalid_file")
    assert "line 4" in body["detail"], body


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binary_garbage_is_a_clear_422_or_text(dsrv, seed):
    data = random.Random(seed).randbytes(20000)
    r = up(dsrv, data, "garbage.csv")
    if r.status_code == 201:  # decoded as some single-byte text: still a table
        d = ready(r)
        assert d["columns"] >= 1
    else:
        body = assert_error(r, 422, "invalid_file")
        assert "garbage.csv" in body["detail"]
    dsrv.assert_healthy()


def test_nul_bytes_and_elf_header(dsrv):
    for data in (b"\x7fELF\x02\x01\x01" + b"\0" * 5000, b"a,b\n1,\0\0\0\n"):
        r = up(dsrv, data, "bin.csv")
        assert r.status_code in (201, 422), (r.status_code, r.text)
        if r.status_code == 422:
            assert_error(r, 422, "invalid_file")
    dsrv.assert_healthy()


def test_duplicate_and_empty_header_names(dsrv):
    text = "a,a,,b,a, \n1,2,3,4,5,6\n"
    d = up_ok(dsrv, text.encode(), "dups.csv")
    names = [c["name"] for c in d["columns_info"]]
    assert len(set(names)) == 6 and all(n.strip() for n in names), names
    assert names[0] == "a" and names[3] == "b"
    assert names[1] == "a_2" and names[4] == "a_3", names
    assert names[2] == "column_3", names
    assert [c["source_name"] for c in d["columns_info"]][:5] == ["a", "a", "", "b", "a"]
    codes = {w["code"] for w in d["warnings"]}
    assert {"duplicate_header", "empty_header"} <= codes, d["warnings"]
    # the unique names are usable in filters and sorts
    r = dsrv.get(f"/api/datasets/{d['id']}/rows", params={"filter": "a_3=5", "sort": "-a_2"})
    assert r.status_code == 200 and r.json()["rows"] == [[1, 2, 3, 4, 5, 6]], r.text


def test_header_detection(dsrv):
    numeric = "1,2.5,2024-03-05\n3,4.5,2024-03-06\n"
    d = up_ok(dsrv, numeric.encode(), "nohead.csv")
    assert [c["name"] for c in d["columns_info"]] == ["column_1", "column_2", "column_3"]
    assert d["rows"] == 2
    assert [c["type"] for c in d["columns_info"]] == ["integer", "real", "date"]
    # forced: header=true reads the numbers as names; header=false the names as data
    d = up_ok(dsrv, numeric.encode(), "head.csv", header="true")
    assert [c["name"] for c in d["columns_info"]] == ["1", "2.5", "2024-03-05"]
    assert d["rows"] == 1
    d = up_ok(dsrv, b"x,y\n1,2\n", "noh.csv", header="false")
    assert d["rows"] == 2 and [c["type"] for c in d["columns_info"]] == ["text", "text"]
    # a text first row is a header
    d = up_ok(dsrv, b"x,y\n1,2\n", "h.csv")
    assert [c["name"] for c in d["columns_info"]] == ["x", "y"] and d["rows"] == 1


# --------------------------------------------------------------------------
# type inference


INFER = [
    ["int_sep", "pct", "code", "flag", "kflag", "dot_date", "kdate", "iso_dt", "mixed",
     "real", "time", "with_nulls", "big"],
    ["1,234,567", "12%", "007", "true", "예", "2024.03.05", "2016년 1월 1일",
     "2024-03-05T10:20:30Z", "12", "1.5", "09:30", "5", "9007199254740993"],
    ["-45", "7.5%", "0123", "FALSE", "아니오", "2024. 3. 5.", "2016년 12월 31일",
     "2024-03-05 23:59:59+09:00", "abc", "-2.25e3", "23:59:59", "NA", "1.5"],
    ["0", "-3%", "42", "yes", "예", "2023.12.31", "2020년 2월 29일",
     "2024-03-05T00:00:00.125", "2024-03-05", "0.1", "00:00", "", "2"],
    ["12,345", "100%", "00", "N", "아니오", "2000.02.29", "2016년 1월 1일",
     "2019-01-01 00", "12%", "3", "12:00:00.5", "-", "3"],
]


def test_type_inference(dsrv):
    text = write_csv(INFER)
    model = Model(read_csv_text(text))
    expected_types = {"int_sep": "integer", "pct": "real", "code": "text", "flag": "boolean",
                      "kflag": "boolean", "dot_date": "date", "kdate": "date",
                      "iso_dt": "datetime", "mixed": "text", "real": "real", "time": "time",
                      "with_nulls": "integer", "big": "text"}
    assert {c.name: c.kind for c in model.columns} == expected_types  # the model agrees
    d = up_ok(dsrv, text.encode(), "infer.csv")
    check_schema(d, model)
    c = cols_by_name(d)
    assert c["pct"]["percent"] is True and c["real"]["percent"] is False
    rows = rows_of(dsrv, d)
    col = {name: [r[i] for r in rows] for i, name in enumerate(INFER[0])}
    assert col["int_sep"] == [1234567, -45, 0, 12345]
    assert col["pct"] == pytest.approx([0.12, 0.075, -0.03, 1.0])
    assert col["code"] == ["007", "0123", "42", "00"]       # leading zeros survive
    assert col["flag"] == [True, False, True, False]
    assert col["kflag"] == [True, False, True, False]
    assert col["dot_date"] == ["2024-03-05", "2024-03-05", "2023-12-31", "2000-02-29"]
    assert col["kdate"] == ["2016-01-01", "2016-12-31", "2020-02-29", "2016-01-01"]
    assert col["iso_dt"] == ["2024-03-05T10:20:30Z", "2024-03-05T23:59:59+09:00",
                             "2024-03-05T00:00:00.125", "2019-01-01T00:00:00"]
    assert col["mixed"] == ["12", "abc", "2024-03-05", "12%"]   # originals kept
    assert col["real"] == [1.5, -2250.0, 0.1, 3.0]
    assert col["time"] == ["09:30:00", "23:59:59", "00:00:00", "12:00:00.5"]
    assert col["with_nulls"] == [5, None, None, None]
    assert col["big"] == ["9007199254740993", "1.5", "2", "3"]
    compare_export(export_csv(dsrv, d["id"]), model)


def test_categorical_flag_by_cardinality(dsrv):
    rnd = random.Random(5)
    recs = [["grade", "name"]] + [[rnd.choice("ABCD"), f"person {i}"] for i in range(200)]
    d = up_ok(dsrv, write_csv(recs).encode(), "cat.csv")
    c = cols_by_name(d)
    assert c["grade"]["categorical"] is True
    assert c["grade"]["unique"] == len({r[0] for r in recs[1:]})
    assert c["name"]["categorical"] is False and c["name"]["unique"] == 200


def test_lat_lng_by_name_and_range(dsrv):
    recs = [["lat", "lng", "y", "x", "위도_wgs84", "경도", "lat_out"]] + [
        [f"35.{i}", f"128.{i}", f"36.{i}", f"127.{i}", f"35.8{i}", f"128.5{i}", f"95.{i}"]
        for i in range(1, 9)]
    text = write_csv(recs)
    model = Model(read_csv_text(text))
    d = up_ok(dsrv, text.encode(), "geo.csv")
    check_schema(d, model)
    roles = {c["name"]: c["role"] for c in d["columns_info"]}
    assert roles == {"lat": "latitude", "lng": "longitude", "y": "latitude", "x": "longitude",
                     "위도_wgs84": "latitude", "경도": "longitude", "lat_out": None}
    # y and x outside the Korea box are no coordinates
    d = up_ok(dsrv, b"y,x\n1,2\n3,4\n", "yx.csv")
    assert [c["role"] for c in d["columns_info"]] == [None, None]


# --------------------------------------------------------------------------
# spreadsheets


XLSX_ROWS = [
    # id, amount, when_date, when_dt, flag, label
    [1, 1234.5, dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 20, 30), True, "대구"],
    [2, -7.25, dt.date(2016, 1, 1), dt.datetime(2016, 1, 1, 1, 0, 0), False, "Seoul, KR"],
    [3, 0.0, dt.date(2000, 2, 29), dt.datetime(1999, 12, 31, 23, 59, 59), True, 'say "x"'],
    [4, 1e15, dt.date(1970, 1, 1), dt.datetime(2020, 6, 1, 12, 0, 0), False, "끝"],
]
XLSX_HEADER = ["id", "amount", "when_date", "when_dt", "flag", "label", "doubled"]


def set_cached_values(xlsx, member, values):
    """openpyxl writes formulas without results ("<v></v>"); put a cached
    value into each formula cell, in order, as Excel would have saved it."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                text = data.decode()
                for v in values:
                    assert "<v></v>" in text or "<v />" in text, text[:500]
                    text = text.replace("<v></v>" if "<v></v>" in text else "<v />",
                                        f"<v>{v}</v>", 1)
                data = text.encode()
            z.writestr(info.filename, data)
    return out.getvalue()


def make_xlsx():
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(XLSX_HEADER)
    for i, r in enumerate(XLSX_ROWS, start=2):
        ws.append(r + [f"=A{i}*2"])
        ws.cell(row=i, column=3).number_format = "yyyy-mm-dd"
        ws.cell(row=i, column=4).number_format = "yyyy-mm-dd hh:mm:ss"
    second = wb.create_sheet("Second")
    second.append(["k", "v"])
    second.append(["a", 1])
    second.append(["b", 2])
    third = wb.create_sheet("세번째")
    third.append(["only"])
    third.append(["z"])
    buf = io.BytesIO()
    wb.save(buf)
    return set_cached_values(buf.getvalue(), "xl/worksheets/sheet1.xml",
                             [r[0] * 2 for r in XLSX_ROWS])


def test_xlsx_types_and_formula_cached_values(dsrv):
    data = make_xlsx()
    d = up_ok(dsrv, data, "book.xlsx")
    assert d["format"] == "xlsx" and d["sheet"] == "Data"
    assert d["rows"] == len(XLSX_ROWS) and d["columns"] == len(XLSX_HEADER)
    types = [c["type"] for c in d["columns_info"]]
    assert [c["name"] for c in d["columns_info"]] == XLSX_HEADER
    assert types == ["integer", "real", "date", "datetime", "boolean", "text", "integer"]
    rows = rows_of(dsrv, d)
    want = [[r[0], float(r[1]), r[2].isoformat(), r[3].isoformat(), r[4], r[5], r[0] * 2]
            for r in XLSX_ROWS]
    assert rows == want


@pytest.mark.parametrize("sheet,header,rows", [
    ("Second", ["k", "v"], [["a", 1], ["b", 2]]),
    ("1", ["k", "v"], [["a", 1], ["b", 2]]),
    ("세번째", ["only"], [["z"]]),
    ("2", ["only"], [["z"]]),
    ("0", XLSX_HEADER, None),
], ids=["by-name", "by-index", "korean-name", "index-2", "index-0"])
def test_xlsx_pick_sheet(dsrv, sheet, header, rows):
    d = up_ok(dsrv, make_xlsx(), "book.xlsx", sheet=sheet)
    assert [c["name"] for c in d["columns_info"]] == header
    if rows is not None:
        assert rows_of(dsrv, d) == rows
    assert d["sheet"] in ("Second", "세번째", "Data")


def test_xlsx_unknown_sheet_lists_sheets(dsrv):
    body = assert_error(up(dsrv, make_xlsx(), "book.xlsx", sheet="nope"), 422, "invalid_file")
    for name in ("nope", "Data", "Second", "세번째"):
        assert name in body["detail"], body
    body = assert_error(up(dsrv, make_xlsx(), "book.xlsx", sheet="7"), 422, "invalid_file")
    assert "Data" in body["detail"], body


def zip_bomb_xlsx(inflated=24 << 20):
    """A real workbook whose first sheet is a valid but huge, highly
    compressible XML (spaces between tags)."""
    src = zipfile.ZipFile(io.BytesIO(make_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                pad = " " * (inflated - len(text))
                data = text.replace("<sheetData>", "<sheetData>" + pad, 1).encode()
            z.writestr(info.filename, data)
    blob = out.getvalue()
    info = zipfile.ZipFile(io.BytesIO(blob)).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size / info.compress_size > 100, "not a bomb"
    return blob


def test_xlsx_zip_bomb_is_422(dsrv):
    body = assert_error(up(dsrv, zip_bomb_xlsx(), "bomb.xlsx"), 422, "invalid_file")
    assert "zip bomb" in body["detail"].lower(), body
    dsrv.assert_healthy()


def test_xlsx_corrupt_is_422(dsrv):
    data = make_xlsx()
    body = assert_error(up(dsrv, data[: len(data) // 2], "cut.xlsx"), 422, "invalid_file")
    assert "cut.xlsx" in body["detail"]
    body = assert_error(up(dsrv, b"PK\x03\x04" + b"\0" * 200, "junk.xlsx"), 422, "invalid_file")
    dsrv.assert_healthy()


def test_xls_written_by_xlwt(dsrv):
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("시트1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    header = ["id", "amount", "day", "flag", "label"]
    rows = [[1, 2.5, dt.date(2024, 3, 5), True, "대구"],
            [2, -1.0, dt.date(2016, 1, 1), False, "text, with comma"],
            [3, 1e6, dt.date(2000, 2, 29), True, "끝"]]
    for j, h in enumerate(header):
        ws.write(0, j, h)
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r):
            if isinstance(v, dt.date):
                ws.write(i, j, v, date_style)
            else:
                ws.write(i, j, v)
    ws2 = wb.add_sheet("Other")
    ws2.write(0, 0, "x")
    ws2.write(1, 0, 42)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    assert data[:8] == b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"
    d = up_ok(dsrv, data, "old.xls")
    assert d["format"] == "xls" and d["sheet"] == "시트1"
    assert [c["name"] for c in d["columns_info"]] == header
    types = [c["type"] for c in d["columns_info"]]
    # FreeXL has no boolean cell type: an XLS BOOLERR cell arrives as the
    # integer 1/0, so either reading is accepted, with the right values.
    assert types[:3] + types[4:] == ["integer", "real", "date", "text"], types
    assert types[3] in ("boolean", "integer"), types
    got = rows_of(dsrv, d)
    assert [r[:3] + r[4:] for r in got] == [[r[0], r[1], r[2].isoformat(), r[4]] for r in rows]
    assert [r[3] for r in got] == [r[3] if types[3] == "boolean" else int(r[3]) for r in rows]
    d = up_ok(dsrv, data, "old.xls", sheet="Other")
    assert rows_of(dsrv, d) == [[42]]


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
    from files_helpers import raw_http
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


def dataset_objects(storage, srv, dataset_id):
    return {k: v for k, v in storage.objects(srv, "datasets/").items() if f"/{dataset_id}/" in k}


def test_chunked_upload_over_the_limit_is_413(start, storage):
    """No Content-Length: the limit is enforced on the bytes as they come."""
    from files_helpers import raw_http
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


@pytest.mark.parametrize("cut", ["in-file", "before-end"])
def test_client_disconnect_mid_upload_leaves_nothing(start, storage, cut):
    from files_helpers import raw_http
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


def test_delete_while_processing_leaves_nothing(start, storage):
    srv = start({"SHEAF_DATASET_SYNC_BYTES": "1K"})
    rnd = random.Random(3)
    data = write_csv([["a", "b", "c"]] + [[str(i), f"{rnd.random():.9f}", f"t{i % 97}"]
                                          for i in range(150000)]).encode()
    d = ready(up(srv, data, "slow.csv"), 202)
    r = srv.delete(f"/api/datasets/{d['id']}")
    assert r.status_code == 204, r.text
    assert_error(srv.get(f"/api/datasets/{d['id']}"), 404, "not_found")
    # the job notices (at its end at the latest) and removes what it wrote
    srv.wait_log(lambda l: "job_ended" in l and "kind=ingest" in l, timeout=60,
                 what="the ingest job's end")
    deadline = time.monotonic() + 10
    while dataset_objects(storage, srv, d["id"]):
        assert time.monotonic() < deadline, dataset_objects(storage, srv, d["id"])
        time.sleep(0.1)
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


def make_xlsx_shared_strings():
    """A workbook written by hand as Excel writes it: shared strings, a
    sparse row (a missing cell), a date from a built-in number format
    (14) and a boolean."""
    files = {
        "[Content_Types].xml":
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '</Types>',
        "_rels/.rels":
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>',
        "xl/workbook.xml":
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="시트1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '</Relationships>',
        "xl/styles.xml":
            '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>',
        "xl/sharedStrings.xml":
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="6" uniqueCount="6">'
            '<si><t>구분</t></si><si><t>값</t></si><si><t>날짜</t></si><si><t>참</t></si>'
            '<si><t>대구 &amp; 경북</t></si><si><r><t>rich </t></r><r><t>text</t></r></si></sst>',
        "xl/worksheets/sheet1.xml":
            '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
            '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2"><v>1.5</v></c><c r="C2" s="1"><v>45356</v></c><c r="D2" t="b"><v>1</v></c></row>'
            '<row r="3"><c r="A3" t="s"><v>5</v></c><c r="C3" s="1"><v>42370</v></c><c r="D3" t="b"><v>0</v></c></row>'
            '<row r="5"><c r="A5" t="inlineStr"><is><t>inline</t></is></c><c r="B5"><v>-2</v></c><c r="C5" s="1"><v>36585</v></c><c r="D5" t="b"><v>1</v></c></row>'
            '</sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text.encode())
    return out.getvalue()


def test_xlsx_shared_strings_sparse_rows_and_builtin_date_format(dsrv):
    d = up_ok(dsrv, make_xlsx_shared_strings(), "excel.xlsx")
    assert [c["name"] for c in d["columns_info"]] == ["구분", "값", "날짜", "참"]
    assert [c["type"] for c in d["columns_info"]] == ["text", "real", "date", "boolean"]
    rows = rows_of(dsrv, d)
    # Excel serials: 45356 = 2024-03-05, 42370 = 2016-01-01, 36585 = 2000-02-29
    base = dt.date(1899, 12, 30)
    days = [(base + dt.timedelta(days=n)).isoformat() for n in (45356, 42370, 36585)]
    assert days == ["2024-03-05", "2016-01-01", "2000-02-29"]
    want = [["대구 & 경북", 1.5, days[0], True], ["rich text", None, days[1], False],
            ["inline", -2.0, days[2], True]]
    # row 4 is absent from the sheet: an empty row or none at all
    assert [r for r in rows if any(v is not None for v in r)] == want, rows


@pytest.mark.parametrize("which", ["quoting", "infer", "encodings"])
def test_export_reimport_roundtrip(dsrv, which):
    """The CSV export, uploaded again, gives the same rows and types."""
    if which == "quoting":
        data = write_csv(QUOTING, newline="\r").encode()
    elif which == "infer":
        data = write_csv(INFER).encode()
    else:
        data = write_csv(ENC_TEXT).encode("cp949")
    a = up_ok(dsrv, data, f"{which}.csv")
    r = dsrv.get(f"/api/datasets/{a['id']}/export?format=csv")
    assert r.status_code == 200
    b = up_ok(dsrv, r.content, f"{which}-again.csv")
    assert b["encoding"] == "UTF-8"
    assert [(c["name"], c["type"]) for c in b["columns_info"]] == \
        [(c["name"], c["type"]) for c in a["columns_info"]]
    ra, rb = rows_of(dsrv, a), rows_of(dsrv, b)
    assert rb == ra


def test_encoding_problem_after_the_detection_sample(dsrv):
    """Plain ASCII for a long stretch, Korean CP949 only at the end: the
    whole file must still be read right (or refused clearly), never
    silently garbled."""
    head = write_csv([["id", "memo"]] + [[str(i), "plain ascii text"] for i in range(20000)])
    tail = write_csv([[str(20000 + i), r[2]] for i, r in enumerate(ENC_TEXT[1:])])
    data = (head + tail).encode("cp949")
    assert len(head) > 300000
    r = up(dsrv, data, "late.csv")
    if r.status_code == 422:
        body = assert_error(r, 422, "invalid_file")
        assert "encoding" in body["detail"].lower() or "utf-8" in body["detail"].lower()
        return
    d = ready(r)
    assert d["encoding"] == "CP949", d
    last = dsrv.get(f"/api/datasets/{d['id']}/rows?offset=20000&limit=10").json()["rows"]
    assert [x[1] for x in last] == [r[2] for r in ENC_TEXT[1:]]


def replace_member(xlsx, member, data):
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, data if info.filename == member else src.read(info))
    return out.getvalue()


SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>{dtd}<worksheet xmlns="http://schemas.'
              'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              '<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'
              '<row r="2"><c r="A2" t="inlineStr"><is><t>{value}</t></is></c></row>'
              '</sheetData></worksheet>')


def test_xlsx_billion_laughs_is_refused(dsrv):
    ents = '<!ENTITY l0 "ha">' + "".join(
        f'<!ENTITY l{i} "{"&l%d;" % (i - 1) * 10}">' for i in range(1, 10))
    sheet = SHEET_HEAD.format(dtd=f"<!DOCTYPE worksheet [{ents}]>", value="&l9;")
    data = replace_member(make_xlsx(), "xl/worksheets/sheet1.xml", sheet.encode())
    t0 = time.monotonic()
    r = up(dsrv, data, "laughs.xlsx")
    assert time.monotonic() - t0 < 20
    if r.status_code == 201:     # entities not expanded: the value is short
        d = ready(r)
        v = rows_of(dsrv, d)[0][0]
        assert v is None or len(v) < 10000, len(v)
    else:
        assert_error(r, 422, "invalid_file")
    dsrv.assert_healthy()


def test_xlsx_external_entity_is_not_read(dsrv, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    dtd = f'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file://{secret}">]>'
    sheet = SHEET_HEAD.format(dtd=dtd, value="&x;")
    data = replace_member(make_xlsx(), "xl/worksheets/sheet1.xml", sheet.encode())
    r = up(dsrv, data, "xxe.xlsx")
    if r.status_code == 201:
        rows = rows_of(dsrv, ready(r))
        assert "TOP-SECRET" not in json.dumps(rows), rows
    else:
        body = assert_error(r, 422, "invalid_file")
        assert "TOP-SECRET" not in body["detail"]


def test_xlsx_bomb_with_lying_sizes_is_refused(dsrv):
    """The sheet's sizes in the zip directory claim it is small; the
    inflate itself must stop it."""
    blob = bytearray(zip_bomb_xlsx())
    z = zipfile.ZipFile(io.BytesIO(bytes(blob)))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    real = info.file_size
    small = info.compress_size  # claim no inflation at all
    packed_real = real.to_bytes(4, "little")
    n = blob.count(packed_real)
    assert n >= 2, n              # local header and central directory
    blob = bytes(blob).replace(packed_real, small.to_bytes(4, "little"))
    r = up(dsrv, blob, "liar.xlsx")
    body = assert_error(r, 422, "invalid_file")
    dsrv.assert_healthy()
    assert "liar.xlsx" in body["detail"]


def xlsx_of(rows, title="S"):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_ragged_and_unnamed_columns(dsrv):
    data = xlsx_of([["a", None, "c"], [1, 2, 3], [4, None, None, 9], [5]])
    d = up_ok(dsrv, data, "ragged.xlsx")
    names = [c["name"] for c in d["columns_info"]]
    assert names[0] == "a" and names[2] == "c" and names[1] == "column_2", names
    assert "empty_header" in {w["code"] for w in d["warnings"]}
    rows = rows_of(dsrv, d)
    assert [r[:3] for r in rows] == [[1, 2, 3], [4, None, None], [5, None, None]]
    ragged = [w for w in d["warnings"] if w["code"] == "ragged_row"]
    assert 3 in [w.get("line") for w in ragged], d["warnings"]


def test_xlsx_numeric_first_row_is_data(dsrv):
    d = up_ok(dsrv, xlsx_of([[1, 2.5], [3, 4.5]]), "nohead.xlsx")
    assert [c["name"] for c in d["columns_info"]] == ["column_1", "column_2"]
    assert rows_of(dsrv, d) == [[1, 2.5], [3, 4.5]]


def test_xlsx_limits(dsrv):
    assert_error(up(dsrv, xlsx_of([]), "empty.xlsx"), 422, "invalid_file")
    body = assert_error(up(dsrv, xlsx_of([list(range(2001)), list(range(2001))]), "wide.xlsx"),
                        422, "invalid_file")
    assert "2000" in body["detail"], body
    # dsrv: SHEAF_DATASET_MAX_FIELD=4K
    body = assert_error(up(dsrv, xlsx_of([["a"], ["ok"], ["y" * 5000]]), "long.xlsx"),
                        422, "invalid_file")
    assert "3" in body["detail"], body
    dsrv.assert_healthy()


def test_format_field_overrides_the_bytes(dsrv):
    body = assert_error(up(dsrv, b"a,b\n1,2\n", "x.xlsx", format="xlsx"), 422, "invalid_file")
    assert "xlsx" in body["detail"].lower()
    body = assert_error(up(dsrv, b"a,b\n1,2\n", "x.xls", format="xls"), 422, "invalid_file")
    d = up_ok(dsrv, b"a,b\n1,2\n", "x.xlsx")     # sniffed from the bytes: CSV
    assert d["format"] == "csv"


# --------------------------------------------------------------------------
# the dataset file, opened with Python's sqlite3 behind the server's back


def db_rows(model):
    """The model's rows as SQLite holds them (booleans are 0/1)."""
    return [[int(v) if isinstance(v, bool) else v for v in r] for r in model.expected_rows()]


INT_EDGES = [0, 1, -1, 2, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769,
             8388607, 8388608, -8388608, -8388609, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1,
             2 ** 47 - 1, 2 ** 47, -2 ** 47, -2 ** 47 - 1, 2 ** 53, 2 ** 63 - 1, -2 ** 63]


def test_dataset_file_integer_classes_reals_nulls_and_overflow(dsrv, storage, tmp_path):
    """Every SQLite integer size class, reals, NULLs, empty and long text
    (past a page: overflow chains) are stored exactly, in a sound file."""
    rnd = random.Random(11)
    recs = [["n", "r", "t", "maybe"]]
    for i, n in enumerate(INT_EDGES):
        text = "".join(rnd.choice("가나다abc,\"\n ") for _ in range(rnd.choice([0, 1, 50, 700, 1300])))
        recs.append([str(n), repr(rnd.uniform(-1e6, 1e6)) if i % 5 else "",
                     text, "" if i % 3 == 0 else str(i % 2 == 0).lower()])
    text = write_csv(recs)
    model = Model(read_csv_text(text))
    assert [c.kind for c in model.columns] == ["integer", "real", "text", "boolean"]
    d = up_ok(dsrv, text.encode(), "classes.csv")
    check_schema(d, model)
    path = fetch_dataset_file(storage, dsrv, d["id"], tmp_path)
    got = check_dataset_file(path, d, db_rows(model))
    assert [r[0] for r in got] == INT_EDGES


@pytest.mark.parametrize("path,codec", [(TEST_CSV, "utf-8"), (CCTV_CSV, "cp949")],
                         ids=["test", "cctv"])
def test_dataset_file_of_a_real_file(dsrv, storage, tmp_path, path, codec):
    need_data(path)
    model = Model(read_source(path, codec))
    d = up_ok(dsrv, path.read_bytes(), path.name)
    f = fetch_dataset_file(storage, dsrv, d["id"], tmp_path)
    check_dataset_file(f, d, db_rows(model))


def test_dataset_file_wide_and_deep(dsrv, storage, tmp_path):
    """2000 columns with long-ish values (a record far larger than a
    page), then 300,000 one-column rows (a B-tree several levels deep)."""
    header = [f"c{i}" for i in range(2000)]
    rows = [[f"{'v' * (j % 40)}{i}" for i in range(2000)] for j in range(5)]
    text = write_csv([header] + rows)
    d = up_ok(dsrv, text.encode(), "wide.csv")
    f = fetch_dataset_file(storage, dsrv, d["id"], tmp_path)
    check_dataset_file(f, d, db_rows(Model(read_csv_text(text))))
    # (a header "n" would be data: "n" is a boolean word, see import.h)
    data = ("num\n" + "".join(f"{i * 7 - 1000}\n" for i in range(300000))).encode()
    d = upload_ready(dsrv, data, "deep.csv")
    assert d["rows"] == 300000
    f = fetch_dataset_file(storage, dsrv, d["id"], tmp_path)
    got = check_dataset_file(f, d)
    assert [r[0] for r in got] == [i * 7 - 1000 for i in range(300000)]


def test_dataset_file_near_the_field_limit(start, storage, tmp_path):
    """Fields up to the default 1 MiB limit (long overflow chains), with
    multibyte text, and a row of several such fields."""
    srv = start()
    rnd = random.Random(13)
    big = ["".join(rnd.choice("대구abc") for _ in range(n)) for n in (100_000, 300_000, 349_000)]
    assert max(len(b.encode()) for b in big) < 1 << 20
    recs = [["id", "a", "b"], ["1", big[0], big[1]], ["2", big[2], ""], ["3", "", big[0]]]
    text = write_csv(recs)
    d = up_ok(srv, text.encode(), "big.csv")
    rows = srv.get(f"/api/datasets/{d['id']}/rows").json()["rows"]
    assert rows == [[1, big[0], big[1]], [2, big[2], None], [3, None, big[0]]]
    f = fetch_dataset_file(storage, srv, d["id"], tmp_path)
    check_dataset_file(f, d, [[1, big[0], big[1]], [2, big[2], None], [3, None, big[0]]])


def overflow_lengths(page=16384):
    """Text lengths whose one-column records sit on the edges of SQLite's
    local/overflow split for table leaves (U = page size): max_local =
    U-35, min_local = (U-12)*32/255-23, overflow pages carry U-4 bytes."""
    max_local, min_local, ovfl = page - 35, (page - 12) * 32 // 255 - 23, page - 4
    payloads = set()
    for m in range(0, 4):
        for base in (max_local + ovfl * m, min_local + ovfl * m, min_local + ovfl * (m + 1)):
            payloads.update(range(base - 3, base + 4))
    lengths = set()
    for p in payloads:
        for hdr in (3, 4):   # header: its length byte and a 2- or 3-byte serial type
            if p - hdr > 0:
                lengths.add(p - hdr)
    return sorted(lengths)


def test_dataset_file_text_on_overflow_boundaries(start, storage, tmp_path):
    """Records whose size falls on each edge of the local/overflow split
    and of overflow-page chains, then records of random sizes: the file is
    sound and every value is whole."""
    srv = start()
    rnd = random.Random(17)
    lengths = overflow_lengths()
    lengths += [rnd.randrange(0, 70000) for _ in range(150)]
    values = ["".join(rnd.choice("abcdefghij") for _ in range(n)) for n in lengths]
    data = ("txt\n" + "".join(v + "\n" if v else '""\n' for v in values)).encode()
    d = upload_ready(srv, data, "edges.csv")
    want = [[v or None] for v in values]
    f = fetch_dataset_file(storage, srv, d["id"], tmp_path)
    check_dataset_file(f, d, want)
    got = export_csv(srv, d["id"])
    assert [r[0] for r in got[1:]] == values


def test_header_of_boolean_words_over_numbers(dsrv):
    """A first row of boolean words over numbers is a header: the rows below
    decide what an all-value first row is."""
    d = up_ok(dsrv, b"t,y\n1,2.5\n2,3.5\n", "ty.csv")
    assert [c["name"] for c in d["columns_info"]] == ["t", "y"]
    assert [c["type"] for c in d["columns_info"]] == ["integer", "real"]


def test_many_columns_of_every_type(dsrv, storage, tmp_path):
    """100 columns x 2000 rows, the column types in rotation, a few nulls
    and late surprises (a column that turns text on its last row): types,
    whole export and the stored rows all as the model says."""
    rnd = random.Random(23)
    gens = [
        lambda i: str(rnd.randrange(-10 ** 6, 10 ** 6)),
        lambda i: f"{rnd.uniform(-1e3, 1e3):.4f}",
        lambda i: rnd.choice(["true", "false", "Y", "N"]),
        lambda i: f"2024-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}",
        lambda i: f"2016년 {rnd.randrange(1, 13)}월 {rnd.randrange(1, 29)}일 {rnd.randrange(24):02d}시",
        lambda i: f"{rnd.randrange(24):02d}:{rnd.randrange(60):02d}",
        lambda i: rnd.choice(["대구", "서울", "부산", "광주"]),
        lambda i: f"{rnd.randrange(0, 10 ** 6):,}",
        lambda i: f"{rnd.randrange(0, 1000) / 10}%",
    ]
    ncols, nrows = 100, 2000
    header = [f"col{j}" for j in range(ncols)]
    recs = [header]
    for i in range(nrows):
        row = []
        for j in range(ncols):
            if rnd.random() < 0.01:
                row.append("")
            elif j % 37 == 5 and i == nrows - 1:
                row.append("late text")
            else:
                row.append(gens[j % len(gens)](i))
        recs.append(row)
    text = write_csv(recs)
    model = Model(read_csv_text(text))
    kinds = {c.kind for c in model.columns}
    assert kinds == {"integer", "real", "boolean", "date", "datetime", "time", "text"}, kinds
    d = up_ok(dsrv, text.encode(), "many.csv")
    check_schema(d, model)
    compare_export(export_csv(dsrv, d["id"]), model)
    check_dataset_file(fetch_dataset_file(storage, dsrv, d["id"], tmp_path), d, db_rows(model))


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


def xls_bytes(rows, sheet="S"):
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            ws.write(i, j, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xls_damaged_files_are_clear_422s(dsrv):
    good = xls_bytes([["a", "b"], [1, "x"], [2, "y"]] + [[i, f"row {i}"] for i in range(500)])
    assert ready(up(dsrv, good, "good.xls"))["rows"] == 502
    rnd = random.Random(31)
    cases = [good[: len(good) // 2], good[:512], good[:8] + b"\0" * 4000]
    for _ in range(4):
        b = bytearray(good)
        for _ in range(40):
            b[rnd.randrange(512, len(b))] = rnd.randrange(256)
        cases.append(bytes(b))
    for data in cases:
        r = up(dsrv, data, "bad.xls")
        if r.status_code == 201:     # damage in unused bytes: still a table
            assert ready(r)["columns"] >= 1
        else:
            body = assert_error(r, 422, "invalid_file")
            assert "bad.xls" in body["detail"]
    dsrv.assert_healthy()


def test_xls_wide_and_many_rows(dsrv):
    rows = [[f"h{j}" for j in range(60)]] + [[i * 60 + j for j in range(60)] for i in range(3000)]
    d = upload_ready(dsrv, xls_bytes(rows), "big.xls")
    assert d["rows"] == 3000 and d["columns"] == 60
    assert {c["type"] for c in d["columns_info"]} == {"integer"}
    got = dsrv.get(f"/api/datasets/{d['id']}/rows?offset=2990&limit=10").json()["rows"]
    assert got == rows[2991:3001]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_ragged_line_numbers_with_each_line_ending(dsrv, newline):
    """Line numbers are physical lines whatever the line ending, with a
    quoted field spanning lines before the ragged one."""
    nl = newline
    text = (f"a,b{nl}1,2{nl}\"multi{nl}line\",3{nl}4{nl}5,6,7{nl}8,9{nl}")
    # lines: 1 header, 2 "1,2", 3-4 the quoted field, 5 "4", 6 "5,6,7", 7 "8,9"
    d = up_ok(dsrv, text.encode(), "lines.csv")
    w = [x["line"] for x in d["warnings"] if x["code"] == "ragged_row"]
    assert w == [5, 6], d["warnings"]
    assert rows_of(dsrv, d)[1] == [f"multi{nl}line", 3]
    body = assert_error(up(dsrv, text.encode(), "lines.csv", strict="yes"), 422, "invalid_file")
    assert "line 5" in body["detail"], body


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


def test_categorical_and_unique_of_columns_that_turn_text(dsrv):
    """Columns that are text from the start or only from their last value,
    with few or many distinct values: unique counts, nulls and the
    categorical flag as the model computes them."""
    rnd = random.Random(37)
    n = 3000
    recs = [["early_cat", "late_cat", "late_many", "na_words", "ints_then_word"]]
    for i in range(n):
        last = i == n - 1
        recs.append([rnd.choice(["가", "나", "다"]),
                     "x" if last else str(rnd.randrange(1, 4)),
                     "end" if last else str(i),
                     rnd.choice(["NA", "", "a", "b", "-"]),
                     "many" if last else str(rnd.randrange(10 ** 6))])
    text = write_csv(recs)
    model = Model(read_csv_text(text))
    d = up_ok(dsrv, text.encode(), "turns.csv")
    check_schema(d, model)
    for c, m in zip(d["columns_info"], model.columns):
        distinct = len({v for v in m.values if v != ""})
        assert c["unique"] == distinct, (c["name"], c["unique"], distinct)
    assert [c["categorical"] for c in d["columns_info"]] == [True, True, False, True, False]
