"""Makes the reference figures of feature attribution drift with scikit-learn, independently of
the Rust code: Clarify's nDCG between the baseline's and the current global attributions is
scikit-learn's ndcg_score with the baseline's attributions as the true relevance and the
current ones as the scores (Clarify's documentation links to it).

Writes tests/data/attribution_ndcg.json. Run from the repository root:
    python3 tests/reference/make_attribution.py
(needs numpy and scikit-learn; the output is committed, so tests do not need Python).
"""
import json

import numpy as np
from sklearn.metrics import ndcg_score


def case(name, baseline, current):
    features = sorted(baseline)
    y_true = np.array([[baseline[f] for f in features]])
    y_score = np.array([[current.get(f, -1.0) for f in features]])
    return {
        "name": name,
        "baseline": baseline,
        "current": current,
        "ndcg": float(ndcg_score(y_true, y_score)),
    }


def main():
    rng = np.random.default_rng(20261206)
    cases = [
        # Clarify's college admissions example.
        case("college", {"sat": 0.70, "gpa": 0.50, "rank": 0.05}, {"sat": 0.10, "gpa": 0.20, "rank": 0.70}),
        case("same_order", {"a": 3.0, "b": 2.0, "c": 1.0}, {"a": 0.3, "b": 0.2, "c": 0.1}),
    ]
    for k, n in enumerate([5, 12, 40, 200]):
        names = [f"f{i:03d}" for i in range(n)]
        base = rng.exponential(1.0, n)
        # Small, then larger reshuffles of the current attributions.
        for j, noise in enumerate([0.05, 0.5, 3.0]):
            cur = base * np.exp(rng.normal(0.0, noise, n))
            cases.append(case(f"n{n}_noise{noise}", dict(zip(names, map(float, base))), dict(zip(names, map(float, cur)))))
    with open("tests/data/attribution_ndcg.json", "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
