"""Datasets (issue 5): spreadsheets.

XLSX written with openpyxl (numbers, dates, datetimes, booleans, formulas
with cached values, several sheets) or by hand as Excel writes it (shared
strings, built-in date formats); hostile workbooks (zip bombs, lying zip
sizes, entity expansion, external entities, damage); XLS written with
xlwt.  Runs on each object storage, as the other dataset modules.
"""

import datetime as dt
import io
import json
import random
import time
import zipfile

import pytest

import datasets_helpers
from conftest import assert_error
from datasets_helpers import (XLSX_HEADER, XLSX_ROWS, make_xlsx, ready, rows_of, up,
                              up_ok, upload_ready, zip_bomb_xlsx)

# the module's fixtures (one server per module and storage: datasets_helpers)
storage = datasets_helpers.storage
dsrv = datasets_helpers.dsrv
start = datasets_helpers.start


# --------------------------------------------------------------------------
# XLSX


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
# hostile workbooks


def test_xlsx_zip_bomb_is_422(dsrv):
    body = assert_error(up(dsrv, zip_bomb_xlsx(), "bomb.xlsx"), 422, "invalid_file")
    assert "zip bomb" in body["detail"].lower(), body
    dsrv.assert_healthy()


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


def test_xlsx_corrupt_is_422(dsrv):
    data = make_xlsx()
    body = assert_error(up(dsrv, data[: len(data) // 2], "cut.xlsx"), 422, "invalid_file")
    assert "cut.xlsx" in body["detail"]
    body = assert_error(up(dsrv, b"PK\x03\x04" + b"\0" * 200, "junk.xlsx"), 422, "invalid_file")
    dsrv.assert_healthy()


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


# --------------------------------------------------------------------------
# XLS


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


def dated_xlsx(date1904, when, with_time_column):
    """A workbook of serials: a date (numFmt 14), a datetime (22) and, if
    asked, a time of day (21, "h:mm:ss") column, in the 1900 or 1904 date
    system."""
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    serial = [(w - base) / dt.timedelta(days=1) for w in when]
    head = '<c r="C1" t="inlineStr"><is><t>clock</t></is></c>' if with_time_column else ""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>day</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>at</t></is></c>' + head + '</row>'
             + "".join(f'<row r="{i + 2}"><c r="A{i + 2}" s="1"><v>{int(v)}</v></c>'
                       f'<c r="B{i + 2}" s="2"><v>{v!r}</v></c>'
                       + (f'<c r="C{i + 2}" s="3"><v>{v - int(v)!r}</v></c>'
                          if with_time_column else "") + '</row>'
                       for i, v in enumerate(serial))
             + '</sheetData></worksheet>')
    styles = ('<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.'
              'openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="4"><xf numFmtId="0"/>'
              '<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="22" applyNumberFormat="1"/>'
              '<xf numFmtId="21" applyNumberFormat="1"/></cellXfs></styleSheet>')
    data = make_xlsx()
    data = replace_member(data, "xl/worksheets/sheet1.xml", sheet.encode())
    data = replace_member(data, "xl/styles.xml", styles.encode())
    if date1904:
        wbx = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
        wbx = wbx.replace("<workbookPr", '<workbookPr date1904="1"', 1) if "<workbookPr" in wbx \
            else wbx.replace("<sheets>", '<workbookPr date1904="1"/><sheets>', 1)
        data = replace_member(data, "xl/workbook.xml", wbx.encode())
    return data


WHEN = [dt.datetime(2024, 3, 5, 10, 20, 30), dt.datetime(2016, 1, 1, 1, 0, 0)]


@pytest.mark.parametrize("date1904", [False, True], ids=["1900", "1904"])
def test_xlsx_date_systems(dsrv, date1904):
    """Serials read in the workbook's date system (Excel for Mac's 1904
    one too)."""
    d = up_ok(dsrv, dated_xlsx(date1904, WHEN, False), "dates.xlsx")
    assert [c["type"] for c in d["columns_info"]] == ["date", "datetime"]
    assert rows_of(dsrv, d) == [[w.date().isoformat(), w.isoformat()] for w in WHEN]


def test_xlsx_time_of_day_format_is_a_time(dsrv):
    """A time-of-day format (built-in 18-21, 45-47, custom hh:mm) gives a time."""
    d = up_ok(dsrv, dated_xlsx(False, WHEN, True), "clock.xlsx")
    assert [c["type"] for c in d["columns_info"]] == ["date", "datetime", "time"]
    assert [r[2] for r in rows_of(dsrv, d)] == [w.time().isoformat() for w in WHEN]


def test_xls_time_of_day_format_is_a_time(dsrv):
    """The XLS reader (FreeXL) gives time-formatted cells as times."""
    import xlwt
    wb = xlwt.Workbook()
    ws = wb.add_sheet("S")
    ws.write(0, 0, "clock")
    style = xlwt.easyxf(num_format_str="hh:mm:ss")
    for i, w in enumerate(WHEN, start=1):
        ws.write(i, 0, w.time(), style)
    buf = io.BytesIO()
    wb.save(buf)
    d = up_ok(dsrv, buf.getvalue(), "clock.xls")
    assert [c["type"] for c in d["columns_info"]] == ["time"]
    assert [r[0] for r in rows_of(dsrv, d)] == [w.time().isoformat() for w in WHEN]


NS_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
H1 = '<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>'


def sheet_xlsx(rows_xml):
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS_MAIN}><sheetData>'
           f'{rows_xml}</sheetData></worksheet>')
    return replace_member(make_xlsx(), "xl/worksheets/sheet1.xml", xml.encode())


@pytest.mark.parametrize("rows_xml,types,rows", [
    (H1 + '<row r="2"><c r="A2" t="d"><v>2024-03-05T10:20:30</v></c></row>'
     '<row r="3"><c r="A3" t="d"><v>2024-03-06</v></c></row>',
     ["datetime"], [["2024-03-05T10:20:30"], ["2024-03-06T00:00:00"]]),
    (H1 + '<row r="2"><c r="A2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c></row>',
     ["text"], [["ab"]]),
    (H1 + '<row r="2"><c r="A2"><v>1</v></c></row>'
     '<row r="3"><c r="A3" t="e"><v>#DIV/0!</v></c></row>', ["text"], [["1"], ["#DIV/0!"]]),
    ('<row><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>b</t></is></c></row>'
     '<row><c><v>1</v></c><c><v>2</v></c></row>', ["integer", "integer"], [[1, 2]]),
    (H1 + '<row r="2"><c r="A2" t="inlineStr"><is><r><t>a</t></r><r><rPr><b/></rPr>'
     '<t xml:space="preserve"> b</t></r></is></c></row>', ["text"], [["a b"]]),
    (H1 + '<row r="2"><c r="A2" t="inlineStr"><is><t>大邱</t><rPh sb="0" eb="2"><t>テグ</t>'
     '</rPh></is></c></row>', ["text"], [["大邱"]]),
    (H1 + '<row r="2"><c r="A2"><v>1.5E+3</v></c></row><row r="3"><c r="A3"><v>-2.5e-3</v>'
     '</c></row>', ["real"], [[1500.0], [-0.0025]]),
    (H1 + '<row r="1048576"><c r="A1048576"><v>7</v></c></row>', ["integer"], [[7]]),
], ids=["iso-date-cells", "formula-string", "error-cell", "no-cell-refs", "rich-text",
        "phonetic-runs-skipped", "exponents", "last-row"])
def test_xlsx_cell_forms(dsrv, rows_xml, types, rows):
    d = up_ok(dsrv, sheet_xlsx(rows_xml), "forms.xlsx")
    assert [c["type"] for c in d["columns_info"]] == types
    assert rows_of(dsrv, d) == rows


def test_xlsx_escaped_characters_are_decoded(dsrv):
    """OOXML _xHHHH_ escapes (ST_Xstring) are decoded as Excel does."""
    xml = H1 + ('<row r="2"><c r="A2" t="inlineStr"><is><t>a_x000D_b_x0009_c</t></is></c></row>'
                '<row r="3"><c r="A3" t="inlineStr"><is><t>keep_x005F_x000D_</t></is></c></row>')
    d = up_ok(dsrv, sheet_xlsx(xml), "escapes.xlsx")
    assert rows_of(dsrv, d) == [["a\rb\tc"], ["keep_x000D_"]]
