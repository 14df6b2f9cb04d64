"""A polars monitor: one lazy query computing counts, nulls, mean, population std, min, max and
a histogram on driftscope's baseline edges per numeric column, and value counts per text column;
PSI and L-infinity against the baseline from its (small) results.

usage: python3 polars_stats.py CAPTURE.parquet BASELINE_DIR/profile.json RUNS
"""
import sys

import numpy as np
import polars as pl

from common import baseline, best_of, psi_linf, report


def run_sorted(path, num, cat):
    # search_sorted needs sorted values: sort each numeric column once in the same lazy query.
    lf = pl.scan_parquet(path)
    schema = lf.collect_schema()
    aggs = [pl.len().alias("__rows")]
    for n, (edges, _) in num.items():
        c = pl.col(n)
        # Numbers stored as text (driftscope types text per value) are parsed; others cast.
        c = c.cast(pl.String).cast(pl.Float64, strict=False) if not schema[n].is_numeric() else c.cast(pl.Float64)
        f = c.filter(c.is_finite())
        aggs += [
            c.null_count().alias(f"{n}__nulls"),
            f.mean().alias(f"{n}__mean"),
            f.std(ddof=0).alias(f"{n}__std"),
            c.min().alias(f"{n}__min"),
            c.max().alias(f"{n}__max"),
            f.sort().search_sorted(pl.lit(pl.Series(edges)), side="left").implode().alias(f"{n}__cut"),
        ]
    for n in cat:
        aggs.append(pl.col(n).cast(pl.String).value_counts().implode().alias(f"{n}__vc"))
    out = lf.select(aggs).collect()
    for n, (edges, base) in num.items():
        cut = np.asarray(out[f"{n}__cut"][0].to_list())
        total = out["__rows"][0] - out[f"{n}__nulls"][0]
        counts = np.diff(np.concatenate([[0], cut, [total]]))
        psi_linf(base, counts)
    for n, base in cat.items():
        vc = out[f"{n}__vc"][0].to_list()
        cur = {x[n]: x["count"] for x in vc if x[n] is not None}
        keys = sorted(set(base) | set(cur))
        psi_linf([base.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys])
    return out["__rows"][0]


path, prof, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
num, cat = baseline(prof)
t, rows = best_of(runs, lambda: run_sorted(path, num, cat))
report("polars (lazy query)", t, rows)
