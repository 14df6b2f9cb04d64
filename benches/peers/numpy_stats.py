"""A hand-written numpy monitor: read with pyarrow, then per column on a thread pool: counts,
nulls, NaN, mean, population std, min, max, a histogram on driftscope's baseline edges, PSI and
L-infinity against the baseline; value counts, PSI and L-infinity for text columns.

usage: python3 numpy_stats.py CAPTURE.parquet BASELINE_DIR/profile.json RUNS
"""
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow.parquet as pq

from common import baseline, best_of, psi_linf, report

def numeric(col, edges, base):
    v = col.to_numpy(zero_copy_only=False)
    v = v.astype(float)
    nulls = col.null_count
    fin = v[np.isfinite(v)]
    out = dict(n=len(v), nulls=nulls, nan=int(np.isnan(v).sum()) - nulls)
    if fin.size:
        out.update(mean=fin.mean(), std=fin.std(), min=fin.min(), max=fin.max())
    counts = np.bincount(np.searchsorted(np.asarray(edges), fin, side="right"), minlength=len(edges) + 1)
    out["psi"], out["linf"] = psi_linf(base, counts)
    return out


def categorical(col, base):
    vc = col.value_counts()
    cur = {str(x["values"]): x["counts"] for x in vc.to_pylist() if x["values"] is not None}
    keys = sorted(set(base) | set(cur))
    return psi_linf([base.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys])


def run(path, num, cat):
    table = pq.read_table(path, use_threads=True)
    with ThreadPoolExecutor() as pool:
        jobs = [pool.submit(numeric, table.column(n).combine_chunks(), e, b) for n, (e, b) in num.items()]
        jobs += [pool.submit(categorical, table.column(n), b) for n, b in cat.items()]
        return table.num_rows, [j.result() for j in jobs]


path, prof, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
num, cat = baseline(prof)
t, (rows, _) = best_of(runs, lambda: run(path, num, cat))
report("numpy (thread pool)", t, rows)
