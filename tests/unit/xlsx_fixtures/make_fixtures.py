#!/usr/bin/python3
"""Makes the XLSX fixtures for tests/unit/test_xlsx.c (run from anywhere;
writes next to this script).  Needs python3-openpyxl.

openpyxl makes the ordinary workbooks; the parts openpyxl cannot write
(cached formula values, inline strings, rich text, phonetic runs, t="d"),
the broken files and the zip bombs are written with zipfile directly.
The bombs stay a few KB: rows are streamed into the deflater in chunks, and
the declared sizes are patched afterwards where a bomb must lie."""
import datetime
import io
import os
import struct
import zipfile

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def fixed_times(z):
    for i in z.infolist():
        i.date_time = (2020, 1, 1, 0, 0, 0)


def basic():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["name", "int", "neg", "float", "big", "bool", "date", "datetime"])
    ws.append(["alpha", 1, -42, 0.1, 2 ** 53, True,
               datetime.date(2024, 2, 29), datetime.datetime(2024, 1, 2, 3, 4, 5)])
    ws.append(["베타", 1234567890123, -0.5, 1 / 3, 12345678901234567.0, False,
               datetime.date(1900, 3, 1), datetime.datetime(1999, 12, 31, 23, 59, 59)])
    ws.append(["", 0, -1e-300, 1e20, 1.5e300, None, None, None])
    s2 = wb.create_sheet("매출")
    s2["B2"] = "sparse"
    s2["E2"] = 5
    s2["AB7"] = "far"
    s3 = wb.create_sheet("요약 시트")
    s3["A1"] = "한국어 텍스트"
    wb.save(path("basic.xlsx"))


def date1904():
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Mac"
    ws.append([datetime.date(2024, 2, 29), datetime.datetime(1904, 1, 2, 12, 0, 0)])
    wb.save(path("date1904.xlsx"))


CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"""
RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


def workbook(sheets, extra=""):
    s = "".join('<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (n, i + 1, i + 1)
                for i, n in enumerate(sheets))
    return '<?xml version="1.0"?><workbook %s>%s<sheets>%s</sheets></workbook>' % (NS, extra, s)


def wb_rels(n, sst=True, styles=True):
    r = "".join('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>'
                % (i + 1, i + 1) for i in range(n))
    if sst:
        r += ('<Relationship Id="rS" Type="http://schemas.openxmlformats.org/officeDocument/'
              '2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/>')
    if styles:
        r += ('<Relationship Id="rY" Type="http://schemas.openxmlformats.org/officeDocument/'
              '2006/relationships/styles" Target="styles.xml"/>')
    return ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships">%s</Relationships>' % r)


def sheet(rows):
    return '<?xml version="1.0"?><worksheet %s><sheetData>%s</sheetData></worksheet>' % (NS, rows)


def write(name, parts, compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path(name), "w", compress) as z:
        for n, data in parts:
            z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), data, compress_type=compress)


def crafted():
    sst = ('<?xml version="1.0"?><sst %s count="3" uniqueCount="3">'
           '<si><t>plain</t></si>'
           '<si><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> and </t></r>'
           '<r><t>run</t></r></si>'
           '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>'
           '</sst>' % NS)
    styles = ('<?xml version="1.0"?><styleSheet %s><numFmts count="3">'
              '<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd hh:mm"/>'
              '<numFmt numFmtId="165" formatCode="[Red]0.00"/>'
              '<numFmt numFmtId="166" formatCode="&quot;day&quot; 0"/>'
              '</numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
              '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
              '<xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="21"/></cellXfs>'
              '</styleSheet>' % NS)
    rows = (
        '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'
        '<c r="C1" t="b"><f>TRUE()</f><v>1</v></c><c r="D1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="E1"><f>NOW()</f></c><c r="F1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t xml:space="preserve">  padded  </t></is></c>'
        '<c r="B2" t="inlineStr"><is><r><t>rich</t></r><r><rPr><i/></rPr><t>-text</t></r></is></c>'
        '<c r="C2" t="s"><v>1</v></c><c r="D2" t="s"><v>2</v></c><c r="E2" t="d"><v>2024-05-06T07:08:09</v></c></row>'
        '<row r="4"><c r="B4" s="1"><v>59</v></c><c r="C4" s="1"><v>60</v></c><c r="D4" s="1"><v>61</v></c>'
        '<c r="E4" s="2"><v>45000.25</v></c><c r="F4" s="3"><v>45000.25</v></c><c r="G4" s="4"><v>3</v></c>'
        '<c r="H4" s="5"><v>0.75</v></c><c r="I4" s="1"><v>-1</v></c><c r="J4" s="1"/></row>'
        '<row><c><v>1</v></c><c><v>2</v></c><c r="e5"><v>5</v></c></row>'
        '<row r="7"/>'
    )
    write("crafted.xlsx", [
        ("[Content_Types].xml", CT), ("_rels/.rels", RELS),
        ("xl/workbook.xml", workbook(["Crafted"])), ("xl/_rels/workbook.xml.rels", wb_rels(1)),
        ("xl/sharedStrings.xml", sst), ("xl/styles.xml", styles),
        ("xl/worksheets/sheet1.xml", sheet(rows)),
    ])
    # No package rels, no shared strings, no styles.
    write("minimal.xlsx", [
        ("xl/workbook.xml", workbook(["Only"])),
        ("xl/_rels/workbook.xml.rels", wb_rels(1, sst=False, styles=False)),
        ("xl/worksheets/sheet1.xml", sheet('<row r="1"><c r="A1"><v>7</v></c></row>')),
    ])


def minimal_with(sheet_xml, name, extra_parts=()):
    write(name, [
        ("_rels/.rels", RELS), ("xl/workbook.xml", workbook(["S"])),
        ("xl/_rels/workbook.xml.rels", wb_rels(1, sst=False, styles=False)),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ] + list(extra_parts))


def broken():
    with open(path("not_zip.xlsx"), "w") as f:
        f.write("name,value\na,1\n")
    write("no_workbook.xlsx", [("hello.txt", "hi")])
    minimal_with(sheet('<row r="1"><c r="A1"><v>1</v></c></row>')[:-30], "bad_xml.xlsx")
    minimal_with(sheet('<row r="1"><c r="ZZZZ1"><v>1</v></c></row>'), "bad_ref.xlsx")
    minimal_with('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                 '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                 '<worksheet><sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c></row>'
                 '</sheetData></worksheet>', "doctype.xlsx")
    minimal_with(sheet('<row r="1"><c r="A1"><v>0x10</v></c></row>'), "bad_number.xlsx")
    minimal_with(sheet('<row r="3"/><row r="2"/>'), "row_order.xlsx")
    minimal_with(sheet('<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>2</v></c></row>'),
                 "cell_order.xlsx")
    minimal_with(sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), "no_sst.xlsx")
    write("missing_sheet.xlsx", [
        ("xl/workbook.xml", workbook(["Gone"])),
        ("xl/_rels/workbook.xml.rels", wb_rels(1, sst=False, styles=False)),
    ])


BOMB_ROW = b'<row><c t="inlineStr"><is><t>zip bomb zip bomb zip bomb</t></is></c></row>'


def bomb_bytes(target):
    """A workbook whose sheet inflates to about target bytes, deflated in chunks."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(zipfile.ZipInfo("_rels/.rels", (2020, 1, 1, 0, 0, 0)), RELS)
        z.writestr(zipfile.ZipInfo("xl/workbook.xml", (2020, 1, 1, 0, 0, 0)), workbook(["Bomb"]))
        z.writestr(zipfile.ZipInfo("xl/_rels/workbook.xml.rels", (2020, 1, 1, 0, 0, 0)),
                   wb_rels(1, sst=False, styles=False))
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", (2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w") as f:
            f.write(b'<worksheet><sheetData>')
            block = BOMB_ROW * 1000
            n = 0
            while n < target:
                f.write(block)
                n += len(block)
            f.write(b'</sheetData></worksheet>')
    return bytearray(buf.getvalue())


def patch_size(data, member, size):
    """Sets the uncompressed size of member in its local and central headers."""
    name = member.encode()
    i = data.find(b"PK\x03\x04")
    while i >= 0:
        nlen, = struct.unpack_from("<H", data, i + 26)
        if data[i + 30:i + 30 + nlen] == name:
            struct.pack_into("<I", data, i + 22, size)
        i = data.find(b"PK\x03\x04", i + 4)
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        nlen, = struct.unpack_from("<H", data, i + 28)
        if data[i + 46:i + 46 + nlen] == name:
            struct.pack_into("<I", data, i + 24, size)
        i = data.find(b"PK\x01\x02", i + 4)


def bombs():
    # Honest directory, 5 MB from about 17 KB: refused before inflating.
    with open(path("bomb_ratio.xlsx"), "wb") as f:
        f.write(bomb_bytes(5 * 1000 * 1000))
    # Directory claims 1000 bytes (below the ratio floor): caught while inflating.
    d = bomb_bytes(5 * 1000 * 1000)
    patch_size(d, "xl/worksheets/sheet1.xml", 1000)
    with open(path("bomb_lie.xlsx"), "wb") as f:
        f.write(d)
    # Directory claims 4 GB: refused from the directory by the size limit.
    d = bomb_bytes(1000)
    patch_size(d, "xl/worksheets/sheet1.xml", 0xFFFFFFF0)
    with open(path("bomb_declared.xlsx"), "wb") as f:
        f.write(d)


def big():
    """About 120 KB of sheet XML, so rows and cells cross 64 KiB feeds."""
    rows = "".join('<row r="%d"><c r="A%d"><v>%d</v></c><c r="C%d" t="inlineStr"><is><t>r%d</t>'
                   '</is></c></row>' % (i, i, i * 7, i, i) for i in range(1, 2001))
    minimal_with(sheet(rows), "big.xlsx")


def corpus():
    """Seeds for tests/fuzz/fuzz_xlsx.c: byte 0 picks limits and feed size
    (0: defaults), then the file.  Stored (uncompressed) copies of the
    hand-made parts let mutations reach the XML.  The fuzz-* files there
    are inputs libFuzzer found (small ones, after -merge=1); they are left
    alone."""
    out = os.path.join(HERE, "..", "..", "fuzz", "corpus", "xlsx")
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".xlsx"):
            with open(path(name), "rb") as f:
                data = f.read()
            with open(os.path.join(out, name[:-5]), "wb") as f:
                f.write(b"\0" + data)
    for name in ("crafted.xlsx", "minimal.xlsx"):
        with zipfile.ZipFile(path(name)) as z:
            parts = [(i.filename, z.read(i)) for i in z.infolist()]
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for n, data in parts:
                z.writestr(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), data)
        for prefix in (b"\x00", b"\x0b"):
            with open(os.path.join(out, "stored_%s_%02x" % (name[:-5], prefix[0])), "wb") as f:
                f.write(prefix + buf.getvalue())


if __name__ == "__main__":
    basic()
    date1904()
    crafted()
    broken()
    bombs()
    big()
    corpus()
