#!/usr/bin/python3
"""The seed stack's ingest, for bench/ingest/run: pandas read_csv, then
to_sql into a new SQLite file, all defaults (no dtype hints, no chunksize,
the index left out), as the seed backend did it.

    pandas_import.py CSV DB

Prints "rows N" (len of the DataFrame) on stdout.
"""
import sqlite3
import sys

import pandas as pd


def main():
    src, db = sys.argv[1], sys.argv[2]
    df = pd.read_csv(src)
    con = sqlite3.connect(db)
    df.to_sql("data", con, index=False)
    con.commit()
    con.close()
    print("rows %d" % len(df))


if __name__ == "__main__":
    main()
