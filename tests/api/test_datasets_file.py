"""Datasets (issue 5): the dataset file (import.h, format 1).

The stored SQLite file is read behind the server's back with Python's
sqlite3: PRAGMA integrity_check, the documented tables, declared types and
metadata, and every row exactly, for inputs aimed at the direct B-tree
writer (every integer size class, records on the edges of the overflow
split, long overflow chains, 2000 columns, 300,000 rows).  Runs on each
object storage, as the other dataset modules.
"""

import random

import pytest

import datasets_helpers
from datasets_helpers import (CCTV_CSV, TEST_CSV, check_dataset_file, check_schema, db_rows,
                              export_csv, fetch_dataset_file, Model, need_data, read_csv_text,
                              read_source, up_ok, upload_ready, write_csv)

# the module's fixtures (one server per module and storage: datasets_helpers)
storage = datasets_helpers.storage
dsrv = datasets_helpers.dsrv
start = datasets_helpers.start


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
