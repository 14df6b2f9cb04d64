"""driftwatch on Spark: profile every partition where the data lives, merge on the driver, and
write the files `driftwatch monitor` writes.

    spark-submit examples/spark/driftwatch_spark.py --baseline out/baseline --output out/spark data/current.parquet
    python3 examples/spark/driftwatch_spark.py --master 'local[2]' --baseline out/baseline --output out/spark data/current.parquet

Each task runs `driftwatch.Profiler` over its partition's Arrow batches (``mapInArrow``, no
conversion to rows) and sends back one serialized partial profile; the driver merges the partials
in partition order — a canonical order, so that the same partitioning gives the same bytes
whatever the scheduling — and judges the result against the baseline. The baseline folder must be
readable by the executors (a shared path; on a cluster, a path on the shared file system).
"""

import argparse
import sys

import pyarrow as pa

import driftwatch

SCHEMA = "partition long, profile binary"


def profile_partitions(baseline, columns):
    """The function mapInArrow runs on each partition."""

    def run(batches):
        from pyspark import TaskContext

        plan = driftwatch.Plan(columns=columns, baseline=baseline)
        p = driftwatch.Profiler(plan)
        for b in batches:
            p.update(b)
        ctx = TaskContext.get()
        part = ctx.partitionId() if ctx is not None else 0
        yield pa.RecordBatch.from_pydict(
            {"partition": [part], "profile": [p.to_bytes()]},
            schema=pa.schema([("partition", pa.int64()), ("profile", pa.binary())]),
        )

    return run


def merged_profile(df, baseline, columns=None):
    """Profiles a Spark DataFrame partition by partition; returns the merged driftwatch.Profile."""
    rows = df.mapInArrow(profile_partitions(baseline, columns), SCHEMA).collect()
    merged = driftwatch.Profile()
    for r in sorted(rows, key=lambda r: r["partition"]):
        merged.merge(driftwatch.Profile.from_bytes(bytes(r["profile"])))
    return merged


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="baseline folder (driftwatch's or SageMaker's)")
    ap.add_argument("--output", required=True, help="folder for the monitor's files")
    ap.add_argument("--master", default=None, help="Spark master, e.g. local[2] (default: spark-submit's)")
    ap.add_argument("--columns", default=None, help="comma-separated columns to profile")
    ap.add_argument("inputs", nargs="+", help="Parquet files or folders")
    a = ap.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("driftwatch")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    try:
        df = spark.read.parquet(*a.inputs)
        columns = a.columns.split(",") if a.columns else None
        profile = merged_profile(df, a.baseline, columns)
        result = driftwatch.compare(a.baseline, profile)
        result.write_outputs(a.output)
        print(result.markdown())
        return 1 if result.violation_count else 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
