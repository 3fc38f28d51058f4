"""Datasets (issue 5): CSV ingestion through POST /api/datasets/upload.

Real files from ../shared/data/daegu (read in place, never copied), then
CSV written by the tests: quoting, line endings, encodings, delimiters,
ragged rows, empty and header-only files, widths, long fields, garbage,
headers, type inference, categorical and coordinate columns.

Expectations come from the source parsed with Python's csv module and the
documented rules (datasets_helpers.Model), never from sheaf's answers.
Every test runs on the file object store and, when SHEAF_TEST_S3_URL is
set, on S3 (the module-level ``storage`` param, as in test_files.py).
"""

import codecs
import collections
import random

import numpy as np
import pandas as pd
import pytest

import datasets_helpers
from conftest import assert_error
from datasets_helpers import (CCTV_CSV, PARKING_CSV, SCHOOL_CSV, TAAS_ZIP, TEST_CSV,
                              check_dataset_file, check_schema, cols_by_name, ColumnModel,
                              compare_export, concat_csv_bytes, db_rows, detail, export_csv,
                              fetch_dataset_file, Model, need_data, read_csv_text, read_source,
                              ready, rows_of, taas_members, up, up_ok, upload_dataset,
                              upload_ready, wait_ready, write_csv)

# the module's fixtures (one server per module and storage: datasets_helpers)
storage = datasets_helpers.storage
dsrv = datasets_helpers.dsrv
start = datasets_helpers.start


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
# quoting, line endings, encodings, delimiters


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


# --------------------------------------------------------------------------
# shapes: ragged rows, empty, header only, widths, long fields, garbage, headers


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


def test_header_of_boolean_words_over_numbers(dsrv):
    """A first row of boolean words over numbers is a header: the rows below
    decide what an all-value first row is."""
    d = up_ok(dsrv, b"t,y\n1,2.5\n2,3.5\n", "ty.csv")
    assert [c["name"] for c in d["columns_info"]] == ["t", "y"]
    assert [c["type"] for c in d["columns_info"]] == ["integer", "real"]


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
