"""Makes the reference figures of Clarify's bias metrics with smclarify, the open-source library
SageMaker Clarify runs, independently of the Rust code.

Writes tests/data/bias_smclarify.json: per case, the rows (facet value, label, prediction, group)
and smclarify's pre- and post-training metrics ("Infinity" for an infinite value, null where
smclarify reports an error). Run from the repository root:
    python3 tests/reference/make_bias.py
(needs pandas and smclarify; the output is committed, so tests do not need Python).
"""
import json
import math

import numpy as np
import pandas as pd

# smclarify 0.5 predates pandas 3's string dtype: text columns stay Python objects.
pd.options.future.infer_string = False
from smclarify.bias import report


def figures(result, at=0):
    out = {}
    for m in result[at]["metrics"]:
        v = m.get("value")
        if v is None or "error" in m:
            out[m["name"]] = None
        elif isinstance(v, str):
            out[m["name"]] = v
        elif math.isinf(v):
            out[m["name"]] = "Infinity" if v > 0 else "-Infinity"
        else:
            out[m["name"]] = float(v)
    return out


def case(name, df, facet_values=None, facet_threshold=None, with_group=True):
    # A float facet with one value is a threshold (smclarify reads the column as continuous).
    facet = report.FacetColumn("facet", [facet_threshold] if facet_threshold is not None else facet_values)
    # Labels as categories: smclarify would read a small table's 0/1 integers as continuous.
    label = report.LabelColumn("label", df["label"].astype("category"), [1])
    predicted = report.LabelColumn("predicted", df["predicted"].astype("category"), [1])
    group = df["group"] if with_group else None
    data = df.drop(columns=["label", "predicted"])
    pre = report.bias_report(data, facet, label, report.StageType.PRE_TRAINING, metrics=["all"], group_variable=group)
    post = report.bias_report(
        data, facet, label, report.StageType.POST_TRAINING, predicted_label_column=predicted, metrics=["all"], group_variable=group
    )
    per_value = None
    if facet_values is None and facet_threshold is None:
        # Each value against the rest: smclarify reports one entry per value.
        per_value = {
            "pre_training": {r["value_or_threshold"]: figures(pre, i) for i, r in enumerate(pre)},
            "post_training": {r["value_or_threshold"]: figures(post, i) for i, r in enumerate(post)},
        }
    return {
        "name": name,
        "per_value": per_value,
        "facet_values": facet_values,
        "facet_threshold": facet_threshold,
        "rows": {
            "facet": [str(x) if facet_threshold is None else float(x) for x in df["facet"]],
            "label": [int(x) for x in df["label"]],
            "predicted": [int(x) for x in df["predicted"]],
            "group": [str(x) for x in df["group"]] if with_group else None,
        },
        "pre_training": figures(pre),
        "post_training": figures(post),
    }


def biased(rng, n, facet):
    """Labels and predictions whose positive rate depends on the facet and the group."""
    group = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    base = np.where(group == "north", 0.5, np.where(group == "south", 0.35, 0.25))
    return group, base


def main():
    rng = np.random.default_rng(20261206)
    cases = []
    # A categorical facet, the sensitive value less often labelled positive; predictions that
    # follow the labels with errors that depend on the facet.
    n = 2000
    gender = rng.choice(["F", "M", "X"], n, p=[0.45, 0.5, 0.05])
    group, base = biased(rng, n, gender)
    p_label = np.clip(base - 0.12 * (gender == "F"), 0.01, 0.99)
    label = (rng.random(n) < p_label).astype(int)
    flip = rng.random(n) < np.where(gender == "F", 0.25, 0.1)
    predicted = np.where(flip, 1 - label, label)
    df = pd.DataFrame({"facet": gender, "label": label, "predicted": predicted, "group": group})
    cases.append(case("gender_F", df, facet_values=["F"]))
    cases.append(case("gender_F_or_X", df, facet_values=["F", "X"]))
    cases.append(case("gender_no_group", df, facet_values=["M"], with_group=False))
    cases.append(case("gender_each_value", df))
    # A continuous facet with a threshold: the sensitive rows are above it.
    age = rng.uniform(18.0, 80.0, n)
    p_label = np.clip(base + 0.004 * (age - 40.0), 0.01, 0.99)
    label = (rng.random(n) < p_label).astype(int)
    predicted = (rng.random(n) < np.clip(p_label + 0.1 * (age > 60), 0.0, 1.0)).astype(int)
    df = pd.DataFrame({"facet": age, "label": label, "predicted": predicted, "group": group})
    cases.append(case("age_over_40", df, facet_threshold=40.0))
    # Small and lopsided: the sensitive rows are all predicted positive and never labelled
    # positive, so ratios divide by zero (infinities) and label values go unshared.
    df = pd.DataFrame(
        {
            "facet": ["d"] * 5 + ["a"] * 7,
            "label": [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0],
            "predicted": [1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0],
            "group": ["g1", "g2", "g1", "g2", "g1", "g1", "g2", "g1", "g2", "g1", "g2", "g2"],
        }
    )
    cases.append(case("lopsided", df, facet_values=["d"]))
    with open("tests/data/bias_smclarify.json", "w") as f:
        json.dump(cases, f, indent=None)


if __name__ == "__main__":
    main()
