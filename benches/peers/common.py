"""Shared helpers for the peer scripts: timing, and the baseline driftscope wrote."""
import json

import numpy as np
import sys
import time


def best_of(runs, fn):
    best, out = float("inf"), None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def baseline(profile_path):
    """Per numeric column: bin edges and baseline counts; per text column: value counts."""
    prof = json.load(open(profile_path))
    numeric, categorical = {}, {}
    for c in prof["columns"]:
        if c.get("histogram") and c["role"] == "feature":
            numeric[c["name"]] = (c["histogram"]["edges"], c["histogram"]["counts"])
        elif c["categories"]["exact"] and c["role"] == "feature":
            categorical[c["name"]] = c["categories"]["exact"]
    return numeric, categorical


def report(name, seconds, rows):
    print(f"{name}\t{seconds:.3f}\t{rows / seconds:.3e}")
    sys.stdout.flush()


EPS = 1e-6


def psi_linf(b, c):
    b = np.asarray(b, float)
    c = np.asarray(c, float)
    p, q = b / b.sum(), c / max(c.sum(), 1)
    ps, qs = (p + EPS) / (1 + len(p) * EPS), (q + EPS) / (1 + len(q) * EPS)
    return float(np.sum((qs - ps) * np.log(qs / ps))), float(np.abs(np.cumsum(p) - np.cumsum(q)).max())
