"""Makes driftscope's model-quality reference figures with scikit-learn, independently of the Rust code.

Writes, under tests/data/quality/:
  <case>.csv        label, prediction and (for binary cases) probability per row, with an id
  expected.json     scikit-learn's metrics for every case
  bc_capture.jsonl  the breast_cancer test rows as SageMaker capture records (CSV input, the
                    probability as CSV output), bc_truth_1.jsonl / bc_truth_2.jsonl their labels as
                    ground-truth records split over two files (the second arriving later), with
                    some predictions never labelled and some labels for no prediction

Cases: generated data with many tied scores (binary, multiclass with string classes, regression),
and the real labelled sets that scikit-learn ships (breast_cancer, diabetes, wine), each with a
model this script fits on the first half and predicts for every row.

Run from the repository root:  python3 tests/reference/make_quality.py
(needs numpy and scikit-learn; the outputs are committed, so tests do not need Python).
"""
import csv
import json
import os

import numpy as np
from sklearn import datasets, metrics
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = "tests/data/quality"


def fbeta(y, p, beta, **kw):
    return metrics.fbeta_score(y, p, beta=beta, zero_division=0, **kw)


def binary(y, pred, prob):
    cm = metrics.confusion_matrix(y, pred, labels=[0, 1])
    tn, fp, fn, tp = (int(v) for v in cm.ravel())
    # SageMaker's best constant classifier (containers since 2021) predicts the majority label;
    # the positive class on a tie. (The 2020 container always predicted the positive class.)
    positives = int(np.sum(y == 1))
    constant = np.ones_like(y) if positives >= len(y) - positives else np.zeros_like(y)
    out = {
        "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(y, pred),
        "recall": metrics.recall_score(y, pred),
        "f0_5": fbeta(y, pred, 0.5),
        "f1": metrics.f1_score(y, pred),
        "f2": fbeta(y, pred, 2.0),
        "true_positive_rate": tp / (tp + fn),
        "true_negative_rate": tn / (tn + fp),
        "false_positive_rate": fp / (fp + tn),
        "false_negative_rate": fn / (fn + tp),
        "auc": metrics.roc_auc_score(y, prob),
        "au_prc": metrics.average_precision_score(y, prob),
        "accuracy_best_constant_classifier": metrics.accuracy_score(y, constant),
        "precision_best_constant_classifier": metrics.precision_score(y, constant, zero_division=0),
        "recall_best_constant_classifier": metrics.recall_score(y, constant, zero_division=0),
        "f0_5_best_constant_classifier": fbeta(y, constant, 0.5),
        "f1_best_constant_classifier": metrics.f1_score(y, constant),
        "f2_best_constant_classifier": fbeta(y, constant, 2.0),
    }
    return {k: (float(v) if not isinstance(v, dict) else v) for k, v in out.items()}


def multiclass(y, pred):
    labels = sorted(set(map(str, y)) | set(map(str, pred)))
    y, pred = np.array(list(map(str, y))), np.array(list(map(str, pred)))
    cm = metrics.confusion_matrix(y, pred, labels=labels)
    values, counts = np.unique(y, return_counts=True)
    majority = values[np.argmax(counts)]  # ties: the smallest label, as np.unique sorts
    constant = np.full_like(y, majority)
    w = dict(average="weighted", zero_division=0)
    out = {
        "confusion_matrix": {a: {p: int(cm[i, j]) for j, p in enumerate(labels)} for i, a in enumerate(labels)},
        "accuracy": metrics.accuracy_score(y, pred),
        "weighted_recall": metrics.recall_score(y, pred, **w),
        "weighted_precision": metrics.precision_score(y, pred, **w),
        "weighted_f0_5": metrics.fbeta_score(y, pred, beta=0.5, **w),
        "weighted_f1": metrics.f1_score(y, pred, **w),
        "weighted_f2": metrics.fbeta_score(y, pred, beta=2.0, **w),
        "accuracy_best_constant_classifier": metrics.accuracy_score(y, constant),
        "weighted_recall_best_constant_classifier": metrics.recall_score(y, constant, **w),
        "weighted_precision_best_constant_classifier": metrics.precision_score(y, constant, **w),
        "weighted_f0_5_best_constant_classifier": metrics.fbeta_score(y, constant, beta=0.5, **w),
        "weighted_f1_best_constant_classifier": metrics.f1_score(y, constant, **w),
        "weighted_f2_best_constant_classifier": metrics.fbeta_score(y, constant, beta=2.0, **w),
    }
    return {k: (float(v) if not isinstance(v, dict) else v) for k, v in out.items()}


def regression(y, pred):
    mse = metrics.mean_squared_error(y, pred)
    return {
        "mae": float(metrics.mean_absolute_error(y, pred)),
        "mse": float(mse),
        "rmse": float(np.sqrt(mse)),
        "r2": float(metrics.r2_score(y, pred)),
    }


def write(name, header, rows):
    with open(os.path.join(OUT, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([repr(v) if isinstance(v, float) else v for v in r])


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    expected = {}

    # Generated binary: scores on a 0.01 grid, so that many rows tie.
    n = 3000
    z = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * z))).astype(int)
    prob = np.round(1 / (1 + np.exp(-z)), 2)
    pred = (prob >= 0.5).astype(int)
    write("gen_binary", ["id", "label", "prediction", "probability"],
          [(f"g{i}", int(y[i]), int(pred[i]), float(prob[i])) for i in range(n)])
    expected["gen_binary"] = {"problem_type": "BinaryClassification", "rows": n,
                              "binary_classification_metrics": binary(y, pred, prob)}

    # Generated multiclass with text classes and a class never predicted.
    n = 2000
    classes = np.array(["cat", "dog", "eel", "fox"])
    y = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    pred = np.where(rng.random(n) < 0.7, y, rng.choice(3, size=n))
    write("gen_multiclass", ["id", "label", "prediction"],
          [(f"m{i}", classes[y[i]], classes[pred[i]]) for i in range(n)])
    expected["gen_multiclass"] = {"problem_type": "MulticlassClassification", "rows": n,
                                  "multiclass_classification_metrics": multiclass(classes[y], classes[pred])}

    # Generated regression.
    n = 1500
    x = rng.normal(size=n)
    y = 3 * x + rng.normal(size=n)
    pred = np.round(3.2 * x + 0.1, 3)
    write("gen_regression", ["id", "label", "prediction"], [(f"r{i}", float(y[i]), float(pred[i])) for i in range(n)])
    expected["gen_regression"] = {"problem_type": "Regression", "rows": n,
                                  "regression_metrics": regression(y, pred)}

    # breast_cancer: logistic regression fitted on the first half.
    bc = datasets.load_breast_cancer()
    X, y = bc.data, bc.target
    half = len(y) // 2
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X[:half], y[:half])
    prob = model.predict_proba(X)[:, 1]
    pred = (prob >= 0.5).astype(int)
    write("breast_cancer", ["id", "label", "prediction", "probability"],
          [(f"b{i}", int(y[i]), int(pred[i]), float(prob[i])) for i in range(len(y))])
    expected["breast_cancer"] = {"problem_type": "BinaryClassification", "rows": len(y),
                                 "binary_classification_metrics": binary(y, pred, prob)}

    # The breast_cancer rows from `half` on as captures (first 5 features in, probability out), and
    # their labels as ground truth: 20 predictions unlabelled, 7 labels for no prediction, the
    # labels split over two files.
    test = range(half, len(y))
    with open(os.path.join(OUT, "bc_capture.jsonl"), "w") as f:
        for k, i in enumerate(test):
            t = f"2026-11-{1 + k // 100:02d}T{(k % 100) // 10:02d}:{k % 10:02d}:00Z"
            rec = {"captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": ",".join(repr(float(v)) for v in X[i, :5]), "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                   "data": repr(float(prob[i])), "encoding": "CSV"}},
                "eventMetadata": {"eventId": f"e{i}", "inferenceTime": t}, "eventVersion": "0"}
            f.write(json.dumps(rec) + "\n")
    labelled = [i for i in test][20:]
    first, second = labelled[: len(labelled) // 2], labelled[len(labelled) // 2:]
    for name, ids in (("bc_truth_1.jsonl", first), ("bc_truth_2.jsonl", second + [f"x{j}" for j in range(7)])):
        with open(os.path.join(OUT, name), "w") as f:
            for i in ids:
                label, eid = (int(y[i]), f"e{i}") if isinstance(i, (int, np.integer)) else (1, i)
                f.write(json.dumps({"groundTruthData": {"data": str(label), "encoding": "CSV"},
                                    "eventMetadata": {"eventId": eid}, "eventVersion": "0"}) + "\n")
    yl, pl = y[labelled], prob[labelled]
    expected["bc_capture_joined"] = {"problem_type": "BinaryClassification", "rows": len(labelled),
                                     "unmatched_predictions": 20, "unmatched_labels": 7,
                                     "binary_classification_metrics": binary(yl, (pl >= 0.5).astype(int), pl)}

    # diabetes: least squares on the first half.
    db = datasets.load_diabetes()
    X, y = db.data, db.target
    half = len(y) // 2
    pred = LinearRegression().fit(X[:half], y[:half]).predict(X)
    write("diabetes", ["id", "label", "prediction"], [(f"d{i}", float(y[i]), float(pred[i])) for i in range(len(y))])
    expected["diabetes"] = {"problem_type": "Regression", "rows": len(y), "regression_metrics": regression(y, pred)}

    # wine: multinomial logistic regression on every other row.
    wn = datasets.load_wine()
    X, y = wn.data, wn.target
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=0.05)).fit(X[::2], y[::2])
    pred = model.predict(X)
    write("wine", ["id", "label", "prediction"], [(f"w{i}", int(y[i]), int(pred[i])) for i in range(len(y))])
    expected["wine"] = {"problem_type": "MulticlassClassification", "rows": len(y),
                        "multiclass_classification_metrics": multiclass(y, pred)}

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
