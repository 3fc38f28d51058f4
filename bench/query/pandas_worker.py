#!/usr/bin/python3
"""The pandas side of bench/query: loads one CSV and runs operations on it.

    pandas_worker.py CSV

Loads CSV with pd.read_csv (all defaults) and writes one JSON line to
stdout: {"load_s", "rows", "columns", "memory_bytes"}.  Then reads requests,
one JSON object per line on stdin, {"op", "args", "answer"}, where op and
args are a sheaf tool call (group_by, percentile, value_counts,
correlation, with the tool's arguments), and for each writes one JSON line:
{"seconds": the computation alone (time.perf_counter around the pandas
expression), "answer": the result in plain JSON when "answer" was true}.
Turning the result into JSON is not timed.  An error gives {"error": text}.
EOF on stdin ends it.

The expressions (what the seed stack would write):
  group_by      df.groupby(by).agg(**{"mean(c)": (c, "mean"), ...,
                                      "count(*)": (by[0], "size")})
  percentile    df[column].quantile([p / 100 for p in percentiles])
  value_counts  df[column].value_counts().head(top)
  correlation   df[columns].corr(method=method)
"""
import json
import math
import sys
import time

import pandas as pd


def plain(x):
    """A numpy or Python scalar as JSON: NaN becomes null."""
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def agg_name(a):
    return "%s(%s)" % (a["function"], a.get("column", "*"))


def run_group_by(df, args):
    by = args["by"]
    named = {}
    for a in args.get("aggregations", [{"function": "count"}]):
        fn, col = a["function"], a.get("column")
        if col is None:   # count without a column: rows per group
            named[agg_name(a)] = (by[0], "size")
        else:
            named[agg_name(a)] = (col, fn)
    t0 = time.perf_counter()
    res = df.groupby(by).agg(**named)
    t1 = time.perf_counter()

    def answer():
        rows = []
        for key, vals in zip(res.index.tolist(), res.itertuples(index=False)):
            key = list(key) if isinstance(key, tuple) else [key]
            rows.append([plain(k) for k in key] + [plain(v) for v in vals])
        return {"columns": list(by) + list(named), "rows": rows}
    return t1 - t0, answer


def run_percentile(df, args):
    ps = args.get("percentiles", [25, 50, 75])
    col = df[args["column"]]
    t0 = time.perf_counter()
    res = col.quantile([p / 100 for p in ps])
    t1 = time.perf_counter()
    return t1 - t0, lambda: [[p, plain(v)] for p, v in zip(ps, res.tolist())]


def run_value_counts(df, args):
    top = args.get("top", 10)
    col = df[args["column"]]
    t0 = time.perf_counter()
    res = col.value_counts().head(top)
    t1 = time.perf_counter()

    def answer():
        # The whole count (not timed), to check a top list whose ties at
        # its last place may be broken differently.
        full = col.value_counts()
        return {"top": [[plain(k), int(v)] for k, v in res.items()],
                "all": [[plain(k), int(v)] for k, v in full.items()],
                "non_null": int(col.notna().sum()), "nulls": int(col.isna().sum())}
    return t1 - t0, answer


def run_correlation(df, args):
    cols = args["columns"]
    method = args.get("method", "pearson")
    t0 = time.perf_counter()
    res = df[cols].corr(method=method)
    t1 = time.perf_counter()
    return t1 - t0, lambda: {"columns": list(res.columns),
                             "matrix": [[plain(v) for v in row] for row in res.values.tolist()]}


OPS = {"group_by": run_group_by, "percentile": run_percentile,
       "value_counts": run_value_counts, "correlation": run_correlation}


def main():
    path = sys.argv[1]
    t0 = time.perf_counter()
    df = pd.read_csv(path)
    load = time.perf_counter() - t0
    mem = int(df.memory_usage(deep=False).sum())
    print(json.dumps({"load_s": load, "rows": len(df), "columns": list(df.columns),
                      "dtypes": {c: str(t) for c, t in df.dtypes.items()},
                      "memory_bytes": mem}, ensure_ascii=False), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            seconds, answer = OPS[req["op"]](df, req["args"])
            out = {"seconds": seconds}
            if req.get("answer"):
                out["answer"] = answer()
        except Exception as e:  # report it, keep serving
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
