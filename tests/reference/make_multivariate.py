"""Makes the reference figures of multivariate drift (PCA reconstruction error) with NannyML's
DataReconstructionDriftCalculator, on the California housing data NannyML ships, independently
of the Rust code.

Writes tests/data/multivariate/: reference.parquet and analysis.parquet (the eight features of
NannyML's modified California housing data set, in its order), and nannyml.json: the calculator's
settings, the number of components it kept, each chunk's reconstruction error and sampling
error, and the thresholds. Chunks are 1,000 rows in the data's order (the last one shorter), as
driftscope's windows of rows are. Run from the repository root:
    python3 tests/reference/make_multivariate.py
(needs nannyml and pyarrow; the outputs are committed, so tests do not need Python).
"""
import json
import os

import numpy as np
import nannyml as nml
import pyarrow as pa
import pyarrow.parquet as pq

FEATURES = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
CHUNK = 1000
OUT = "tests/data/multivariate"


def main():
    reference, analysis, _ = nml.load_modified_california_housing_dataset()
    os.makedirs(OUT, exist_ok=True)
    for name, frame in [("reference", reference), ("analysis", analysis)]:
        table = pa.table({f: pa.array(frame[f].to_numpy(dtype=np.float64)) for f in FEATURES})
        pq.write_table(table, f"{OUT}/{name}.parquet", compression="zstd")
    calc = nml.DataReconstructionDriftCalculator(column_names=FEATURES, chunk_size=CHUNK)
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
        "features": FEATURES,
        "chunk_rows": CHUNK,
        "n_components": int(calc._pca.n_components_),
        "explained_variance_ratio": [float(v) for v in calc._pca.explained_variance_ratio_],
        "lower_threshold": None if lower is None else float(lower),
        "upper_threshold": float(calc.upper_threshold_value),
        "reference": chunks("reference"),
        "analysis": chunks("analysis"),
    }
    with open(f"{OUT}/nannyml.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
