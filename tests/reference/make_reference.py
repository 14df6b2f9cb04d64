"""Makes driftscope's reference figures with numpy/scipy, independently of the Rust code.

Writes:
  tests/data/reference_metrics.json  drift metrics on binned and categorical inputs
  tests/data/stats_input.parquet     a table with nulls, NaN, +-inf, numeric text, an all-null column
  tests/data/stats_expected.json     numpy's statistics of that table
  tests/data/bad_utf8.parquet        a text column holding bytes that are not UTF-8

Run from the repository root:  python3 tests/reference/make_reference.py
(needs numpy, scipy, pyarrow; the outputs are committed, so tests do not need Python).
"""
import json
import math
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPS = 1e-6
C_ALPHA = 1.8


def smooth(p):
    return (p + EPS) / (1.0 + len(p) * EPS)


def divergence_groups(base, n, m):
    """Groups of adjacent bins for PSI, KL, JS and Hellinger (README, "Drift metrics")."""
    size = len(base)
    target = max(10, 1 + math.floor(0.01 * n * m / (n + m)))
    inner = base[1:-1]
    if size < 3 or size - 2 <= target or inner.sum() <= 0:
        return np.arange(size)
    middle = np.cumsum(inner) - inner / 2.0
    g = np.minimum((target * middle / inner.sum()).astype(int), target - 1)
    # The end bins join the first and last groups.
    _, ids = np.unique(np.concatenate([[g[0]], g, [g[-1]]]), return_inverse=True)
    return ids


def binned_w1(edges, p, q, span, tails, discrete):
    """Wasserstein-1 between the binned distributions, by numerical integration of |F - G|:
    values spread evenly within a bin, at its lower edge when the bins are one per value, and
    the current's end bins by their mean when it is known."""
    from scipy import integrate

    edges = np.asarray(edges, dtype=float)
    gap = np.concatenate([[0.0], np.cumsum(p) - np.cumsum(q)])
    gap[-1] = 0.0
    total = 0.0
    k_last = len(p) - 1
    for k in range(len(p)):
        if k == 0:
            lo, hi = min(span[0], edges[0]), edges[0]
            if tails[0] is not None:
                # F = 0 below the baseline, G = the current's lower tail: mass times distance.
                total += q[0] * (edges[0] - tails[0])
                continue
        elif k == k_last:
            lo, hi = edges[-1], max(span[1], edges[-1])
            if tails[1] is not None:
                total += q[-1] * (tails[1] - edges[-1])
                continue
        else:
            lo, hi = edges[k - 1], edges[k]
        if hi <= lo:
            continue
        a, b = gap[k], gap[k + 1]
        if discrete and 0 < k < k_last:
            total += (hi - lo) * abs(b)
            continue
        f = lambda x, a=a, b=b, lo=lo, hi=hi: abs(a + (b - a) * (x - lo) / (hi - lo))
        val, _ = integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-12, limit=200)
        total += val
    return total


def binned_energy(edges, p, q, span, tails, discrete):
    """Energy distance sqrt(2 * integral of (F - G)^2) between the binned distributions, by
    numerical integration: values spread evenly within a bin, at its lower edge when the bins
    are one per value. The current's values beyond the baseline's range, when their mean is
    known, sit at that mean for one bin per value (F - G constant from the edge to it), and are
    spread evenly over twice the distance to it otherwise."""
    from scipy import integrate

    edges = np.asarray(edges, dtype=float)
    gap = np.concatenate([[0.0], np.cumsum(p) - np.cumsum(q)])
    gap[-1] = 0.0
    total = 0.0
    k_last = len(p) - 1
    for k in range(len(p)):
        if k == 0:
            lo, hi = min(span[0], edges[0]), edges[0]
            if tails[0] is not None:
                if discrete:
                    total += gap[1] ** 2 * (edges[0] - tails[0])
                    continue
                lo = edges[0] - 2.0 * (edges[0] - tails[0])
        elif k == k_last:
            lo, hi = edges[-1], max(span[1], edges[-1])
            if tails[1] is not None:
                if discrete:
                    total += gap[k] ** 2 * (tails[1] - edges[-1])
                    continue
                hi = edges[-1] + 2.0 * (tails[1] - edges[-1])
        else:
            lo, hi = edges[k - 1], edges[k]
        if hi <= lo:
            continue
        a, b = gap[k], gap[k + 1]
        if discrete and 0 < k < k_last:
            total += (hi - lo) * b * b
            continue
        f = lambda x, a=a, b=b, lo=lo, hi=hi: (a + (b - a) * (x - lo) / (hi - lo)) ** 2
        val, _ = integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-12, limit=200)
        total += val
    return math.sqrt(2.0 * total)


def ad_pvalue_and_standardized(a2kn, nx, ny):
    """scipy's anderson_ksamp from A2kN on: the standardization by Scholz and Stephens' variance
    and the interpolated p-value (the same lines as scipy.stats.anderson_ksamp, for k = 2)."""
    k, n = 2, np.array([nx, ny], dtype=float)
    N = n.sum()
    H = (1.0 / n).sum()
    hs_cs = (1.0 / np.arange(N - 1, 1, -1)).cumsum()
    h = hs_cs[-1] + 1
    g = (hs_cs / np.arange(2, N)).sum()
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * N**3 + b * N**2 + c * N + d) / ((N - 1.0) * (N - 2.0) * (N - 3.0))
    a2 = (a2kn - (k - 1)) / math.sqrt(sigmasq)
    critical = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085]) + np.array(
        [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615]) + np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    sig = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    if a2 < critical.min():
        p = sig.max()
    elif a2 > critical.max():
        p = sig.min()
    else:
        p = math.exp(np.polyval(np.polyfit(critical, np.log(sig), 2), a2))
    return float(a2), float(p)


def rank_tests(base, cur, discrete):
    """Cramér-von Mises and Anderson-Darling on the bins. With one bin per value the values of a
    bin are tied: scipy itself on the bin numbers (mid-ranks). Otherwise the values of a bin are
    spread evenly and interleaved: T = nx*ny/N * integral of (F - G)^2 dH (H pooled, F - G linear
    in H across a bin) and Scholz and Stephens' continuous A2kN with the sum over pooled ranks an
    integral, both by numerical integration; the p-values then by scipy's own formulas."""
    from scipy import integrate
    from scipy._lib._array_api import array_namespace
    from scipy.stats._hypotests import _pval_cvm_2samp_asymptotic

    nx, ny = base.sum(), cur.sum()
    N = nx + ny
    out = {}
    if discrete:
        x = np.repeat(np.arange(len(base)), base.astype(int))
        y = np.repeat(np.arange(len(cur)), cur.astype(int))
        cvm = stats.cramervonmises_2samp(x, y, method="asymptotic")
        out = {"cvm_statistic": float(cvm.statistic), "cvm_pvalue": float(cvm.pvalue)}
        if len(np.unique(np.concatenate([x, y]))) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ad = stats.anderson_ksamp([x, y], variant="midrank")
            out["anderson_statistic"] = float(ad.statistic)
            out["anderson_pvalue"] = float(ad.pvalue)
        return out
    F = np.concatenate([[0.0], np.cumsum(base) / nx])
    G = np.concatenate([[0.0], np.cumsum(cur) / ny])
    Hc = np.concatenate([[0.0], np.cumsum(base + cur) / N])
    t = 0.0
    for k in range(len(base)):
        if Hc[k + 1] <= Hc[k]:
            continue
        g0, g1 = F[k] - G[k], F[k + 1] - G[k + 1]
        val, _ = integrate.quad(lambda s, g0=g0, g1=g1: (g0 + (g1 - g0) * s) ** 2, 0.0, 1.0, epsabs=0.0, epsrel=1e-13)
        t += (Hc[k + 1] - Hc[k]) * val
    t *= nx * ny / N
    out["cvm_statistic"] = float(t)
    tt = np.asarray(t)
    out["cvm_pvalue"] = float(_pval_cvm_2samp_asymptotic(tt, N, nx, ny, nx * ny, xp=array_namespace(tt)))
    a2 = 0.0
    for sample, ni in [(base, nx), (cur, ny)]:
        M = np.concatenate([[0.0], np.cumsum(sample)])
        inner = 0.0
        for k in range(len(base)):
            j0, j1 = Hc[k] * N, Hc[k + 1] * N
            if j1 <= j0:
                continue
            f = lambda j, k=k, j0=j0, j1=j1: (N * (M[k] + (M[k + 1] - M[k]) * (j - j0) / (j1 - j0)) - j * ni) ** 2 / (j * (N - j))
            val, _ = integrate.quad(f, j0, j1, epsabs=0.0, epsrel=1e-12, limit=200)
            inner += val
        a2 += inner / ni
    a2 /= N
    if np.count_nonzero(base + cur) > 1:
        out["anderson_statistic"], out["anderson_pvalue"] = ad_pvalue_and_standardized(a2, nx, ny)
    return out


def numeric_case(name, edges, base, cur, span, base_std, tails=(None, None), discrete=False, exact=None, bounded=False, raw=None):
    base = np.asarray(base, dtype=float)
    cur = np.asarray(cur, dtype=float)
    n, m = base.sum(), cur.sum()
    p, q = base / n, cur / m
    cdf_gap = np.abs(np.cumsum(p) - np.cumsum(q))[:-1]
    linf = float(cdf_gap.max()) if len(cdf_gap) else 0.0
    ids = divergence_groups(base, n, m)
    pg = np.bincount(ids, weights=p)
    qg = np.bincount(ids, weights=q)
    ps, qs = smooth(pg), smooth(qg)
    w1 = binned_w1(edges, p, q, span, tails, discrete)
    case = {
        "name": name,
        "edges": list(map(float, edges)),
        "base": base.tolist(),
        "cur": cur.tolist(),
        "span": [float(span[0]), float(span[1])],
        "tails": [None if t is None else float(t) for t in tails],
        "discrete": bool(discrete),
        "base_std": float(base_std),
        "groups": int(ids.max() + 1),
        "expected": {
            "linf_simple": linf,
            "linf_robust": max(0.0, linf - C_ALPHA * math.sqrt((n + m) / (n * m))),
            "ks_pvalue": float(stats.kstwobign.sf(math.sqrt(n * m / (n + m)) * linf)),
            "psi": float(np.sum((qs - ps) * np.log(qs / ps))),
            "kl_divergence": float(stats.entropy(qs, ps)),
            "js_distance": float(jensenshannon(pg, qg, base=2)),
            "hellinger": float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(pg * qg))))),
            "wasserstein": float(w1),
            "wasserstein_normalized": float(w1 / base_std),
            "tv_distance": float(0.5 * np.abs(p - q).sum()),
            "energy_distance": binned_energy(edges, p, q, span, tails, discrete),
            **rank_tests(base, cur, discrete),
        },
    }
    if raw is not None:
        # scipy's tests on the samples themselves, for how close the binned figures come.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ad = stats.anderson_ksamp(list(raw), variant="midrank")
        cvm = stats.cramervonmises_2samp(raw[0], raw[1], method="asymptotic")
        case["raw"] = {
            "cvm_statistic": float(cvm.statistic),
            "cvm_pvalue": float(cvm.pvalue),
            "anderson_statistic": float(ad.statistic),
            "energy_distance": float(stats.energy_distance(raw[0], raw[1])),
        }
    if exact is not None:
        # scipy's Wasserstein-1 on the samples themselves.
        case["wasserstein_exact"] = float(exact)
        case["bounded"] = bool(bounded)
    return case


def pool(obs, exp):
    small = exp < 5.0
    cells_o, cells_e = list(obs[~small]), list(exp[~small])
    if small.any():
        po, pe = obs[small].sum(), exp[small].sum()
        if pe < 5.0 and cells_e:
            i = int(np.argmin(cells_e))
            cells_o[i] += po
            cells_e[i] += pe
        else:
            cells_o.append(po)
            cells_e.append(pe)
    return np.array(cells_o), np.array(cells_e)


def categorical_case(name, base, cur, unseen):
    base = np.asarray(base, dtype=float)
    cur = np.asarray(cur, dtype=float)
    n, m = base.sum(), cur.sum()
    p, q = base / n, cur / m
    linf = float(np.abs(p - q).max())
    ps, qs = smooth(p), smooth(q)
    o, e = pool(cur, p * m)
    chi = stats.chisquare(o, e) if len(o) > 1 else None
    return {
        "name": name,
        "base": base.tolist(),
        "cur": cur.tolist(),
        "unseen": unseen,
        "expected": {
            "linf_simple": linf,
            "linf_robust": max(0.0, linf - C_ALPHA * math.sqrt((n + m) / (n * m))),
            "psi": float(np.sum((qs - ps) * np.log(qs / ps))),
            "chi2_statistic": float(chi.statistic) if chi is not None else 0.0,
            "chi2_dof": len(o) - 1,
            "chi2_pvalue": float(chi.pvalue) if chi is not None else 1.0,
            "js_distance": float(jensenshannon(p, q, base=2)),
            "unseen_share": float(q[np.array(unseen)].sum()),
            "tv_distance": float(0.5 * np.abs(p - q).sum()),
        },
    }


def binned(base_sample, cur_sample, bins):
    """Bins as driftscope makes them (profile::bin_edges): one per value for a column with at
    most `bins` values, else quantiles; the minimum and the next number above the maximum are
    edges too. Returns the case's arguments, with the current's tail means and the exact W1."""
    lo, hi = base_sample.min(), base_sample.max()
    values = np.unique(base_sample)
    discrete = len(values) <= bins
    edges = values if discrete else np.unique(np.quantile(base_sample, np.arange(1, bins) / bins))
    edges = edges[(edges > lo) & (edges <= hi)]
    edges = np.concatenate([[lo], edges, [np.nextafter(hi, np.inf)]])
    b = np.bincount(np.searchsorted(edges, base_sample, side="right"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, cur_sample, side="right"), minlength=len(edges) + 1)
    span = (min(lo, cur_sample.min()), max(hi, cur_sample.max()))
    below, above = cur_sample[cur_sample < edges[0]], cur_sample[cur_sample >= edges[-1]]
    tails = (below.mean() if below.size else None, above.mean() if above.size else None)
    exact = stats.wasserstein_distance(base_sample, cur_sample)
    return dict(edges=edges, base=b, cur=c, span=span, base_std=base_sample.std(), tails=tails,
                discrete=discrete, exact=exact, raw=(base_sample, cur_sample))


def main():
    rng = np.random.default_rng(20261128)
    numeric = []
    base = rng.normal(0.0, 1.0, 50_000)
    for name, cur in [
        ("normal_same", rng.normal(0.0, 1.0, 40_000)),
        ("normal_shift_0.1", rng.normal(0.1, 1.0, 40_000)),
        ("normal_scale_1.5", rng.normal(0.0, 1.5, 30_000)),
        ("normal_small_current", rng.normal(0.3, 1.0, 200)),
    ]:
        numeric.append(numeric_case(name, **binned(base, cur, 256)))
    expo = rng.exponential(2.0, 20_000)
    numeric.append(numeric_case("exponential_vs_lognormal", **binned(expo, rng.lognormal(0.5, 0.6, 20_000), 256)))
    # Hand-made counts with empty bins on both sides.
    numeric.append(numeric_case("empty_bins", [0.0, 1.0, 2.0, 3.0], [10, 0, 30, 60, 0], [0, 5, 5, 80, 10], (-1.0, 3.0), 1.2))
    # Wasserstein-1 against the exact value: bounded data (within 2%), then long tails (within
    # the documented bound).
    r2 = np.random.default_rng(20261129)
    for name, b, c, bounded in [
        ("uniform_shift", r2.uniform(0, 1, 50_000), r2.uniform(0.1, 1.1, 40_000), True),
        ("beta_shape", r2.beta(2, 5, 50_000), r2.beta(3, 4, 40_000), True),
        ("beyond_max", r2.uniform(0, 1, 20_000), np.concatenate([r2.uniform(0, 1, 19_000), r2.uniform(1, 3, 1_000)]), True),
        ("small_integers", r2.integers(0, 5, 20_000).astype(float), r2.integers(0, 6, 20_000).astype(float), True),
        ("rating_shift", r2.choice([1.0, 2.0, 3.0, 4.0, 5.0], 30_000, p=[.1, .2, .4, .2, .1]),
         r2.choice([1.0, 2.0, 3.0, 4.0, 5.0], 30_000, p=[.05, .15, .3, .3, .2]), True),
        ("uniform_small_300", r2.uniform(0, 1, 300), r2.uniform(0.2, 1.2, 300), True),
        ("pareto_tail", r2.pareto(1.5, 20_000), r2.pareto(1.2, 20_000), False),
        ("lognormal_wide", r2.lognormal(0, 1.5, 30_000), r2.lognormal(0.3, 1.5, 30_000), False),
    ]:
        numeric.append(numeric_case(name, bounded=bounded, **binned(b, c, 256)))

    categorical = [
        categorical_case("same_shape", [600, 300, 100], [590, 310, 100], [False, False, False]),
        categorical_case("shifted", [600, 300, 100, 0], [350, 350, 200, 100], [False, False, False, True]),
        categorical_case("small_cells", [500, 400, 60, 30, 10, 0], [480, 420, 50, 25, 20, 5], [False] * 5 + [True]),
        categorical_case("many_small", [1000] + [3] * 10, [900] + [10] * 10, [False] * 11),
    ]
    with open("tests/data/reference_metrics.json", "w") as f:
        json.dump({"numeric": numeric, "categorical": categorical}, f, indent=1)

    # Statistics reference.
    n = 5000
    f = rng.normal(10.0, 3.0, n)
    f[rng.random(n) < 0.01] = np.nan
    f[:3] = [np.inf, -np.inf, np.inf]
    f_null = rng.random(n) < 0.05
    i = rng.integers(-1000, 1000, n)
    i_null = rng.random(n) < 0.1
    words = np.array(["alpha", "beta", "gamma", "delta"])
    s = words[rng.integers(0, 4, n)]
    numtext = np.array([f"{v:.3f}" for v in rng.normal(5.0, 2.0, n)], dtype=object)
    numtext[rng.random(n) < 0.02] = "n/a"
    table = pa.table(
        {
            "f": pa.array(f, mask=f_null),
            "i": pa.array(i, mask=i_null),
            "s": pa.array(s).dictionary_encode(),
            "numtext": pa.array(numtext.tolist(), type=pa.string()),
            "allnull": pa.array([None] * n, type=pa.float64()),
        }
    )
    pq.write_table(table, "tests/data/stats_input.parquet", row_group_size=1000)

    def num_stats(values, null_mask):
        present = values[~null_mask]
        fin = present[np.isfinite(present)]
        return {
            "rows": n,
            "missing": int(null_mask.sum()),
            "nan": int(np.isnan(present).sum()),
            "pos_inf": int(np.isposinf(present).sum()),
            "neg_inf": int(np.isneginf(present).sum()),
            "count": int(fin.size),
            "mean": float(fin.mean()),
            "std_dev": float(fin.std()),
            "sum": float(math.fsum(fin)),
            "min": float(fin.min()),
            "max": float(fin.max()),
        }

    is_num = np.array([t != "n/a" for t in numtext])
    parsed = np.array([float(t) for t in numtext[is_num]])
    numtext_stats = num_stats(parsed, np.zeros(parsed.size, dtype=bool))
    numtext_stats.update({"rows": n, "missing": 0, "string_values": int((~is_num).sum())})
    expected = {
        "f": num_stats(f, f_null),
        "i": num_stats(i.astype(float), i_null),
        "numtext": numtext_stats,
        "s": {w: int((s == w).sum()) for w in words},
        "allnull": {"rows": n, "missing": n},
    }
    with open("tests/data/stats_expected.json", "w") as fh:
        json.dump(expected, fh, indent=1)


def bad_utf8():
    raw = pa.array([b"ok", b"\xff\xfebad", b"fine"], type=pa.binary())
    text = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers())
    pq.write_table(pa.table({"name": text, "x": [1.0, 2.0, 3.0]}), "tests/data/bad_utf8.parquet")


if __name__ == "__main__":
    main()
    bad_utf8()
