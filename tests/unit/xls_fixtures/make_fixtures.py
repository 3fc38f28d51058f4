#!/usr/bin/python3
"""Makes the XLS fixtures for tests/unit/test_xls.c (run from anywhere;
writes next to this script).  Needs python3-xlwt (BIFF8 writer).

xlwt makes the workbooks; the broken files are xlwt output patched at the
byte level (a renamed Workbook stream, a FILEPASS record, a shrunken
DIMENSION, a truncated compound file) or not XLS at all (CSV text, a zip).
xlwt's output is deterministic, so re-running gives the same bytes.

freexl_bugs/ is not made here: inputs libFuzzer found (tests/fuzz/fuzz_xls.c)
that crash FreeXL 1.0.6 itself inside freexl_open (an invalid free in
destroy_workbook, a heap over-read in parse_unicode_string), kept to check
a fix or an isolating wrapper against.  Nothing runs them in-process."""
import datetime
import io
import os
import struct
import zipfile

import xlwt

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def style(fmt):
    return xlwt.easyxf(num_format_str=fmt)


DATE = style("YYYY-MM-DD")
DATETIME = style("YYYY-MM-DD HH:MM:SS")
TIME = style("HH:MM:SS")


def basic_book():
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Data")
    rows = [
        ["name", "int", "neg", "float", "big", "bool", "date", "datetime"],
        ["alpha", 1, -42, 0.1, 2.0 ** 53, True,
         datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5)],
        ["베타", 1234567890123, -0.5, 1 / 3, 12345678901234567.0, False,
         datetime.date(1900, 3, 1), datetime.datetime(1999, 12, 31, 23, 59, 59)],
        ["", 0, -1e-300, 1e20, 1.5e300, None, None, None],
    ]
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, datetime.datetime):
                ws.write(r, c, v, DATETIME)
            elif isinstance(v, datetime.date):
                ws.write(r, c, v, DATE)
            else:
                ws.write(r, c, v)
    # Row 5 (index 4) is left empty; row 6 holds only blank styled cells.
    ws.write(5, 0, None, DATE)
    ws.write(5, 3, "", DATE)
    # Row 7: serials written as plain numbers under date formats: Excel's
    # fake 1900-02-29 (60), 2100-03-01 (past FreeXL's every-4-years leap
    # rule), a time that rounds up to the next midnight, a time only, an
    # integer under a datetime format, a formula (xlwt stores no cached
    # value), text that looks like a number.
    ws.write(6, 0, 59, DATE)
    ws.write(6, 1, 60, DATE)
    ws.write(6, 2, 61, DATE)
    ws.write(6, 3, 73110, DATE)
    ws.write(6, 4, 45000.9999999, DATETIME)
    ws.write(6, 5, 0.75, TIME)
    ws.write(6, 6, 45000, DATETIME)
    ws.write(6, 7, xlwt.Formula("B2+C2"))
    ws.write(6, 8, "007")
    s2 = wb.add_sheet("매출")
    s2.write(1, 1, "sparse")
    s2.write(1, 4, 5)
    s2.write(6, 27, "far")
    s3 = wb.add_sheet("요약 시트")
    s3.write(0, 0, "한국어 텍스트")
    s3.write(0, 1, "tab\tand\nnewline")
    return wb


def basic():
    basic_book().save(path("basic.xls"))


def date1904():
    wb = xlwt.Workbook()
    wb.dates_1904 = True
    ws = wb.add_sheet("Mac")
    ws.write(0, 0, datetime.date(2024, 2, 29), DATE)
    ws.write(0, 1, datetime.datetime(1904, 1, 2, 12, 0, 0), DATETIME)
    wb.save(path("date1904.xls"))


def big():
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Big")
    for i in range(1, 501):
        ws.write(i - 1, 0, i * 7)
        ws.write(i - 1, 2, "r%d" % i)
    wb.save(path("big.xls"))


def data(wb):
    f = io.BytesIO()
    wb.save(f)
    return f.getvalue()


def patched(name, raw, old, new):
    assert len(old) == len(new) and raw.count(old) == 1, name
    with open(path(name), "wb") as f:
        f.write(raw.replace(old, new))


def broken():
    raw = data(basic_book())
    # A compound file whose stream is not called Workbook (as a .doc is).
    patched("no_workbook.xls", raw, "Workbook".encode("utf-16-le"),
            "Document".encode("utf-16-le"))
    # DIMENSION of sheet 1 (BIFF8: first row, last row + 1, first column,
    # last column + 1) claims 1 row and 1 column while its cells go further.
    small = data(minimal_book())
    dim = struct.pack("<HHIIHHH", 0x0200, 14, 0, 3, 0, 2, 0)
    patched("bad_dimension.xls", small, dim,
            struct.pack("<HHIIHHH", 0x0200, 14, 0, 1, 0, 1, 0))
    # A sheet declaring 65536 rows by 65535 columns: more than FreeXL holds.
    patched("huge_dimension.xls", small, dim,
            struct.pack("<HHIIHHH", 0x0200, 14, 0, 65536, 0, 65535, 0))
    # The Root Entry's name length (22 bytes with its NUL) set past the
    # 64-byte name field: FreeXL would read beyond its buffer.
    root = "Root Entry".encode("utf-16-le") + b"\0" * 44
    patched("long_name.xls", raw, root + struct.pack("<H", 22), root + struct.pack("<H", 65535))
    # FreeXL passes over a Workbook entry without a start sector and reads
    # the next entry's name: that one's length is the bad one here.
    at = raw.index("Workbook".encode("utf-16-le") + b"\0\0")
    skip = bytearray(raw)
    struct.pack_into("<I", skip, at + 0x74, 0xFFFFFFFF)
    struct.pack_into("<H", skip, at + 128 + 64, 65000)
    with open(path("long_name_after.xls"), "wb") as f:
        f.write(skip)
    # An empty sheet declaring 4294967295 rows of no columns: FreeXL takes
    # it (its size check multiplies by the columns), and walking those rows
    # would take minutes.
    wb = xlwt.Workbook()
    wb.add_sheet("S").write(0, 0, 7)
    wb.add_sheet("E")
    patched("no_columns.xls", data(wb), struct.pack("<HHIIHHH", 0x0200, 14, 0, 0, 0, 0, 0),
            struct.pack("<HHIIHHH", 0x0200, 14, 0, 0xFFFFFFFF, 0, 0, 0))
    # Cut in the middle of the compound file.
    with open(path("truncated.xls"), "wb") as f:
        f.write(raw[:len(raw) // 2])
    # A FILEPASS record (XOR obfuscation) after the globals' BOF.  The rest
    # is left in the clear: enough for the flag, which is what is tested.
    wb = minimal_book()
    wb._Workbook__intf_hdr_rec = lambda: (struct.pack("<HHHHH", 0x002F, 6, 0, 0x1234, 0x5678)
                                          + xlwt.BIFFRecords.InteraceHdrRecord().get())
    with open(path("password.xls"), "wb") as f:
        f.write(data(wb))
    with open(path("not_xls.xls"), "wb") as f:
        f.write(b"name,value\nalpha,1\n")
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        info = zipfile.ZipInfo("xl/workbook.xml", (2020, 1, 1, 0, 0, 0))
        zf.writestr(info, "<workbook/>")
    with open(path("zip.xls"), "wb") as f:
        f.write(z.getvalue())
    with open(path("empty.xls"), "wb") as f:
        pass


def minimal_book():
    wb = xlwt.Workbook()
    ws = wb.add_sheet("S")
    ws.write(0, 0, 7)
    ws.write(2, 1, "x")
    return wb


def minimal():
    minimal_book().save(path("minimal.xls"))


def corpus():
    """Seeds for tests/fuzz/fuzz_xls.c: byte 0 picks the limits (0: the
    defaults, 1: tight ones), then the file."""
    out = os.path.join(HERE, "..", "..", "fuzz", "corpus", "xls")
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".xls"):
            with open(path(name), "rb") as f:
                data = f.read()
            with open(os.path.join(out, name[:-4]), "wb") as f:
                f.write(b"\0" + data)
    for name in ("basic.xls", "minimal.xls"):
        with open(path(name), "rb") as f:
            data = f.read()
        with open(os.path.join(out, name[:-4] + "_tight"), "wb") as f:
            f.write(b"\1" + data)


if __name__ == "__main__":
    basic()
    date1904()
    big()
    minimal()
    broken()
    corpus()
