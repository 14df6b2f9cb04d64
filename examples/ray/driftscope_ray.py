"""driftscope on Ray Data: profile every block where it lives, merge on the driver, and write the
files `driftscope monitor` writes.

    python3 examples/ray/driftscope_ray.py --baseline out/baseline --output out/ray data/current.parquet

`map_batches` runs a `driftscope.Profiler` over each block's Arrow table (``batch_format="pyarrow"``,
no conversion to rows) and returns one serialized partial profile; the driver merges the partials
in the order Ray returns them and judges the result against the baseline. The verdicts, counts,
extremes and means are the CLI's (means to rounding); for byte-identical files merge per Parquet row
group in the CLI's order, as examples/spark does. The baseline folder must be readable by the
workers (on a cluster, a shared or object-store path).
"""

import argparse
import sys

import pyarrow as pa

import driftscope


class ProfileBlocks:
    """The function map_batches runs on each block: one partial profile per block."""

    def __init__(self, baseline, columns):
        self.plan = driftscope.Plan(columns=columns, baseline=baseline)

    def __call__(self, table):
        p = driftscope.Profiler(self.plan)
        p.update(table)
        return pa.table({"profile": pa.array([p.to_bytes()], pa.binary())})


def merged_profile(ds, baseline, columns=None):
    """Profiles a Ray Dataset block by block; returns the merged driftscope.Profile."""
    partials = ds.map_batches(
        ProfileBlocks, fn_constructor_args=(baseline, columns), batch_format="pyarrow", batch_size=None,
        concurrency=1,
    )
    merged = driftscope.Profile()
    for row in partials.iter_rows():
        merged.merge(driftscope.Profile.from_bytes(bytes(row["profile"])))
    return merged


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="baseline folder (driftscope's or SageMaker's)")
    ap.add_argument("--output", required=True, help="folder for the monitor's files")
    ap.add_argument("--columns", default=None, help="comma-separated columns to profile")
    ap.add_argument("--num-cpus", type=int, default=None, help="CPUs for a local Ray (default: all)")
    ap.add_argument("inputs", nargs="+", help="Parquet files or folders")
    a = ap.parse_args(argv)

    import ray

    ray.init(num_cpus=a.num_cpus, include_dashboard=False, ignore_reinit_error=True, logging_level="ERROR")
    try:
        columns = a.columns.split(",") if a.columns else None
        ds = ray.data.read_parquet(a.inputs, columns=columns)
        profile = merged_profile(ds, a.baseline, columns)
        result = driftscope.compare(a.baseline, profile)
        result.write_outputs(a.output)
        print(result.markdown())
        return 1 if result.violation_count else 0
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
