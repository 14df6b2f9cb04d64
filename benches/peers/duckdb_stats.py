"""A DuckDB monitor: one SQL query over the Parquet file computing, per numeric column, counts,
nulls, mean, population std, min, max over the finite values and a histogram on driftscope's
baseline edges; value counts per text column; an approximate distinct count for the identifier.
PSI and L-infinity against the baseline from its (small) results. Two threads.

usage: python3 duckdb_stats.py CAPTURE.parquet BASELINE_DIR/profile.json RUNS
"""
import json
import sys

import duckdb

from common import baseline, best_of, psi_linf, report


def q(name):
    return '"' + name.replace('"', '""') + '"'


def run(con, path, num, cat, ident):
    cols = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()}
    aggs = ["count(*) AS __rows"]
    for i, (n, (edges, _)) in enumerate(num.items()):
        # Numbers stored as text (driftscope types text per value) are parsed; others cast.
        x = f"TRY_CAST({q(n)} AS DOUBLE)" if cols[n] == "VARCHAR" else f"CAST({q(n)} AS DOUBLE)"
        fin = f"FILTER (WHERE isfinite({x}))"
        aggs += [
            f"count(*) - count({x}) AS n{i}_nulls",
            f"avg({x}) {fin} AS n{i}_mean",
            f"stddev_pop({x}) {fin} AS n{i}_std",
            f"min({x}) {fin} AS n{i}_min",
            f"max({x}) {fin} AS n{i}_max",
            f"histogram({x}, {json.dumps(edges + [1e308])}::DOUBLE[]) {fin} AS n{i}_hist",
        ]
    for i, n in enumerate(cat):
        aggs.append(f"histogram(CAST({q(n)} AS VARCHAR)) AS c{i}_vc")
    for i, n in enumerate(ident):
        aggs.append(f"approx_count_distinct({q(n)}) AS d{i}")
    row = con.execute(f"SELECT {', '.join(aggs)} FROM read_parquet('{path}')").fetchone()
    names = [d[0] for d in con.description]
    out = dict(zip(names, row))
    for i, (n, (edges, base)) in enumerate(num.items()):
        hist = out[f"n{i}_hist"] or {}
        psi_linf(base, [hist.get(b, 0) for b in edges + [1e308]])
    for i, (n, base) in enumerate(cat.items()):
        cur = {k: v for k, v in (out[f"c{i}_vc"] or {}).items() if k is not None}
        keys = sorted(set(base) | set(cur))
        psi_linf([base.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys])
    return out["__rows"]


path, prof, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
num, cat = baseline(prof)
ident = [c["name"] for c in json.load(open(prof))["columns"] if c["role"] == "identifier"]
con = duckdb.connect()
con.execute("SET threads = 2")
t, rows = best_of(runs, lambda: run(con, path, num, cat, ident))
report("duckdb (one SQL query, 2 threads)", t, rows)
