#!/usr/bin/env python3
"""A prototype of the change-point model the signals issue asks for, kept to be ported and
measured further (not used by driftscope yet): a robust AR(1) long-run noise scale, a penalty
derived from a false-alarm rate, and seeded binary segmentation.

    python3 benches/changepoints/model_prototype.py simulate          # false alarms on AR(1) series
    python3 benches/changepoints/model_prototype.py tcpd SERIES.json  # F1 / covering on TCPD

SERIES.json is what benches/changepoints/tcpd.py writes (river's seven annotated series). Needs
numpy and scipy.

Model:
- noise: phi = 1 + 2·rho_d, rho_d the Gnanadesikan–Kettenring correlation of consecutive
  differences on MAD scales (level shifts barely move it); phi raised by two standard errors
  (2·2/sqrt(n)) and clamped to [-0.5, 0.95]; sigma_eps from the MAD of the differences (mean
  absolute deviation when the MAD is 0); sigma_LR = sigma_eps / (1 - phi);
- penalty: the gain of the best split of a segment of length L is the square of the maximum
  standardized CUSUM; its two-sided tail under the null is about 2·log((1-e)/e)·b·pdf(b) with
  e = m/L (Ornstein–Uhlenbeck approximation); solved for p = rate·L/1000 (capped at 0.5), divided
  over the scales of the seeded intervals;
- search: seeded binary segmentation (Kovács, Li, Bühlmann, Munk, Biometrika 2023), intervals of
  length n/2^k at half-length steps, the best split of each over its penalty, chosen greedily by
  gain. O(n log n).
"""
import json
import sys
from math import log, sqrt

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm


def _scale_of(v):
    v = np.asarray(v)
    m = np.median(np.abs(v - np.median(v))) / 0.6744897501960817
    if m > 0:
        return m
    return np.mean(np.abs(v - np.median(v))) * 1.2533141373155


def long_run_scale(x, clamp=0.95):
    d = np.diff(x)
    n = len(x)
    if len(d) < 3:
        return max(np.std(x), 1e-12), 0.0
    a, b = d[1:], d[:-1]
    su, sd = _scale_of(a + b) ** 2, _scale_of(a - b) ** 2
    rho = (su - sd) / (su + sd) if su + sd > 0 else 0.0
    phi = min(max(1 + 2 * rho + 4 / sqrt(n), -0.5), clamp)
    s_eps = _scale_of(d) * sqrt((1 + phi) / 2)
    return max(s_eps / (1 - phi), 1e-12 * max(1, np.max(np.abs(x)))), phi


def _tail(b, eps):
    return 2 * log((1 - eps) / eps) * b * norm.pdf(b)


_PENALTIES = {}


def penalty(length, p, m):
    key = (length, round(p, 12), m)
    if key not in _PENALTIES:
        eps = m / length
        if eps >= 0.5:
            _PENALTIES[key] = float("inf")
        else:
            f = lambda b: _tail(b, eps) - p
            b = brentq(f, 0.5, 60) if f(0.5) > 0 else 0.5
            _PENALTIES[key] = b * b
    return _PENALTIES[key]


def seeded(z, rate, m=2, decay=2.0):
    n = len(z)
    s = np.concatenate([[0], np.cumsum(z)])
    scales, length = [], n
    while length >= 2 * m:
        scales.append(int(length))
        length /= decay
    cands = []
    for length in scales:
        step = max(1, length // 2)
        starts = list(range(0, max(1, n - length + 1), step))
        if starts[-1] != n - length:
            starts.append(n - length)
        for a in starts:
            b = a + length
            ks = np.arange(a + m, b - m + 1)
            if len(ks) == 0:
                continue
            s1, s2 = s[ks] - s[a], s[b] - s[ks]
            gain = s1 * s1 / (ks - a) + s2 * s2 / (b - ks) - (s[b] - s[a]) ** 2 / length
            i = int(np.argmax(gain))
            if gain[i] > penalty(length, min(rate * length / 1000 / (2 * max(1, len(scales))), 0.5), m):
                cands.append((gain[i], a, b, int(ks[i])))
    chosen = []
    for _, a, b, k in sorted(cands, key=lambda c: -c[0]):
        if any(a < q < b for q in chosen) or any(abs(k - q) < m for q in chosen):
            continue
        chosen.append(k)
    return sorted(chosen)


def detect(x, rate=1.0):
    x = np.asarray(x, float)
    scale, _ = long_run_scale(x)
    return seeded((x - np.median(x)) / scale, rate)


def simulate():
    rng = np.random.default_rng(1)
    for phi in [0.0, 0.5, 0.9]:
        for n in [100, 1000, 10000]:
            reps = min(400, max(10, 100000 // n))
            found = 0
            for _ in range(reps):
                e = rng.standard_normal(n + 300)
                x = np.empty_like(e)
                x[0] = e[0]
                for i in range(1, len(e)):
                    x[i] = phi * x[i - 1] + e[i]
                found += len(detect(x[300:], 1.0))
            print(f"phi {phi} n {n}: {found / reps / (n / 1000):.2f} false alarms per 1,000 windows (rate asked 1)")


def _hits(truth, found, margin=5):
    left, hits = set(found), 0
    for t in sorted(truth):
        near = sorted((abs(t - x), x) for x in left if abs(t - x) <= margin)
        if near:
            left.remove(near[0][1])
            hits += 1
    return hits


def f1(annotations, found):
    x = set(found) | {0}
    truths = [set(a) | {0} for a in annotations]
    p = _hits(set().union(*truths), x) / len(x)
    r = np.mean([_hits(t, x) / len(t) for t in truths])
    return 0 if p + r == 0 else 2 * p * r / (p + r)


def covering(annotations, found, n):
    def segments(points):
        cuts, out, start = sorted(set(q for q in points if 0 < q < n)), [], 0
        for c in cuts:
            out.append((start, c))
            start = c
        return out + [(start, n)]

    mine = segments(found)

    def jaccard(a, b):
        return max(0, min(a[1], b[1]) - max(a[0], b[0])) / (max(a[1], b[1]) - min(a[0], b[0]))

    return np.mean([sum((a[1] - a[0]) * max(jaccard(a, b) for b in mine) for a in segments(t)) / n for t in annotations])


def tcpd(path):
    scores = []
    for s in json.load(open(path)):
        found = sorted(set().union(*[set(detect(d)) for d in s["dims"]]))
        scores.append((f1(s["annotations"], found), covering(s["annotations"], found, s["n"])))
        print(f"{s['name']}: F1 {scores[-1][0]:.3f} cover {scores[-1][1]:.3f} ({len(found)} change points)")
    print(f"mean: F1 {np.mean([a for a, _ in scores]):.3f} cover {np.mean([b for _, b in scores]):.3f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["simulate"]:
        simulate()
    elif sys.argv[1:2] == ["tcpd"] and len(sys.argv) == 3:
        tcpd(sys.argv[2])
    else:
        print(__doc__)
