"""Makes the reference figures of performance estimation without labels (confidence-based,
CBPE) with NannyML, on three data sets NannyML ships, independently of the Rust code: the
modified California housing data (binary; scores rounded to two decimals: many ties), NannyML's
synthetic binary classification data (continuous scores), and its synthetic multiclass
classification data (three credit-card classes, a score column per class).

Writes tests/data/estimation/: per data set, its reference rows (score, prediction, label)
and analysis rows (score, prediction, and the label NannyML ships apart) as Parquet, and a
JSON of NannyML's figures: whether it calibrated the scores, and per metric its thresholds
and each chunk's estimate, sampling error, confidence band, realized value and alert.
Chunks are of fixed rows in the data's order (the last one shorter), as driftscope's windows
of rows are. Run from the repository root:
    python3 tests/reference/make_estimation.py
(needs nannyml and pyarrow; the outputs are committed, so tests do not need Python).
"""
import json
import os

# No usage analytics from NannyML (the run is offline, and records figures only).
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"

import numpy as np  # noqa: E402
import nannyml as nml  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

OUT = "tests/data/estimation"
METRICS = ["roc_auc", "f1", "precision", "recall", "specificity", "accuracy"]


def record(prefix, reference, analysis, target, chunk, classes=None):
    analysis = analysis.merge(target, on="id")
    for name, frame in [("reference", reference), ("analysis", analysis)]:
        if classes is None:
            columns = {
                "score": pa.array(frame["y_pred_proba"].to_numpy(dtype=np.float64)),
                "prediction": pa.array(frame["y_pred"].to_numpy(dtype=np.int64)),
                "label": pa.array(frame["target"].to_numpy(dtype=np.int64)),
            }
        else:
            columns = {f"score_{c}": pa.array(frame[f"y_pred_proba_{c}"].to_numpy(dtype=np.float64)) for c in classes}
            columns["prediction"] = pa.array(frame["y_pred"].astype(str).tolist(), pa.string())
            columns["label"] = pa.array(frame["target"].astype(str).tolist(), pa.string())
        pq.write_table(pa.table(columns), f"{OUT}/{prefix}{name}.parquet", compression="zstd")
    est = nml.CBPE(
        y_pred_proba="y_pred_proba" if classes is None else {c: f"y_pred_proba_{c}" for c in classes},
        y_pred="y_pred",
        y_true="target",
        problem_type="classification_binary" if classes is None else "classification_multiclass",
        metrics=METRICS,
        chunk_size=chunk,
    )
    est.fit(reference)
    result = est.estimate(analysis).to_df()

    def chunks(period, metric):
        rows = result[result[("chunk", "period")] == period]
        out = []
        for _, r in rows.iterrows():
            def num(key):
                v = r[(metric, key)]
                return None if v is None or v != v else float(v)

            out.append(
                {
                    "start": int(r[("chunk", "start_index")]),
                    "end": int(r[("chunk", "end_index")]) + 1,
                    "value": num("value"),
                    "sampling_error": num("sampling_error"),
                    "realized": num("realized"),
                    "upper_confidence_boundary": num("upper_confidence_boundary"),
                    "lower_confidence_boundary": num("lower_confidence_boundary"),
                    "alert": bool(r[(metric, "alert")]),
                }
            )
        return out

    metrics = {}
    for m in est.metrics:
        metrics[m.name] = {
            "lower_threshold": m.lower_threshold_value,
            "upper_threshold": m.upper_threshold_value,
            "analysis": chunks("analysis", m.name),
        }
    doc = {
        "nannyml": nml.__version__,
        "chunk_rows": chunk,
        "reference_rows": len(reference),
        "analysis_rows": len(analysis),
        "calibrated": bool(est.needs_calibration)
        if classes is None
        else {c: type(est._calibrators[c]).__name__ != "NoopCalibrator" for c in classes},
        "metrics": metrics,
    }
    with open(f"{OUT}/{prefix}nannyml.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    reference, analysis, target = nml.load_modified_california_housing_dataset()
    for frame in (reference, analysis, target):
        frame.rename(columns={"clf_target": "target"}, inplace=True)
    record("housing_", reference, analysis, target, 1000)

    reference, analysis, target = nml.load_synthetic_binary_classification_dataset()
    for frame in (reference, analysis, target):
        frame.rename(columns={"work_home_actual": "target"}, inplace=True)
    reference, analysis = reference.head(20000), analysis.head(20000)
    record("synthetic_", reference, analysis, target, 2000)

    reference, analysis, target = nml.load_synthetic_multiclass_classification_dataset()
    for frame in (reference, analysis, target):
        frame.rename(columns={"y_true": "target"}, inplace=True)
    analysis = analysis.drop(columns=["target"], errors="ignore")
    reference, analysis = reference.head(20000), analysis.head(20000)
    record("multiclass_", reference, analysis, target, 2000, ["highstreet_card", "prepaid_card", "upmarket_card"])


if __name__ == "__main__":
    main()
