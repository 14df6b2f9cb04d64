"""Makes the reference figures of multivariate drift (PCA reconstruction error) with NannyML's
DataReconstructionDriftCalculator, on two data sets NannyML ships, independently of the Rust
code: the California housing data (eight numeric features) and the US census employment data
of Massachusetts (age and fifteen categorical features, which NannyML encodes by their
frequency; the first 20,000 reference and 40,000 analysis rows, to keep the files small).

Writes tests/data/multivariate/: per data set, its reference and analysis rows as Parquet (the
features in NannyML's order; categories as text) and a JSON of NannyML's figures: the number of
components it kept, each chunk's reconstruction error and sampling error, and the thresholds.
Chunks are of fixed rows in the data's order (the last one shorter), as driftscope's windows of
rows are. Run from the repository root:
    python3 tests/reference/make_multivariate.py
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

FEATURES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
CHUNK = 1000
OUT = "tests/data/multivariate"


def record(prefix, reference, analysis, features, categorical, chunk):
    for name, frame in [("reference", reference), ("analysis", analysis)]:
        columns = {}
        for f in features:
            if f in categorical:
                columns[f] = pa.array([None if v != v else str(v) for v in frame[f].astype(object)], pa.string())
            else:
                columns[f] = pa.array(frame[f].to_numpy(dtype=np.float64))
        pq.write_table(pa.table(columns), f"{OUT}/{prefix}{name}.parquet", compression="zstd")
    calc = nml.DataReconstructionDriftCalculator(column_names=features, chunk_size=chunk)
    calc.fit(reference)
    result = calc.calculate(analysis).to_df()

    def chunks(period):
        rows = result[result[("chunk", "period")] == period]
        return [
            {
                "start": int(r[("chunk", "start_index")]),
                "end": int(r[("chunk", "end_index")]) + 1,
                "value": float(r[("reconstruction_error", "value")]),
                "sampling_error": float(r[("reconstruction_error", "sampling_error")]),
                "alert": bool(r[("reconstruction_error", "alert")]),
            }
            for _, r in rows.iterrows()
        ]

    lower = calc.lower_threshold_value
    doc = {
        "nannyml": nml.__version__,
        "features": features,
        "categorical": categorical,
        "chunk_rows": chunk,
        "n_components": int(calc._pca.n_components_),
        "explained_variance_ratio": [float(v) for v in calc._pca.explained_variance_ratio_],
        "lower_threshold": None if lower is None else float(lower),
        "upper_threshold": float(calc.upper_threshold_value),
        "reference": chunks("reference"),
        "analysis": chunks("analysis"),
    }
    with open(f"{OUT}/{prefix}nannyml.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    reference, analysis, _ = nml.load_modified_california_housing_dataset()
    record("", reference, analysis, FEATURES, [], CHUNK)
    reference, analysis, _ = nml.load_us_census_ma_employment_data()
    features = [c for c in reference.columns if c not in ("id", "employed", "year", "prediction", "predicted_probability")]
    categorical = [c for c in features if str(reference[c].dtype) == "category"]
    record("census_", reference.head(20_000).copy(), analysis.head(40_000).copy(), features, categorical, 5_000)


if __name__ == "__main__":
    main()
