"""driftscope on Spark: profile every partition where the data lives, merge on the driver, and
write the files `driftscope monitor` writes — the same bytes as the CLI on the same files.

    spark-submit examples/spark/driftscope_spark.py --baseline out/baseline --output out/spark data/current.parquet
    python3 examples/spark/driftscope_spark.py --master 'local[2]' --baseline out/baseline --output out/spark data/current.parquet

Why the bytes match. driftscope's quantile sketch depends on how rows are cut into batches, and
floating-point merges on their order, so partials must be made and merged in a canonical way: the
CLI's. Its unit of work is a Parquet row group, folded in batches of 65,536 rows from its first row,
merged into its file's profile in row-group order, the files then merged in order. Spark keeps each
row group whole in one partition; every task tags its rows with `_metadata.file_path` and
`_metadata.row_index`, cuts them back into row groups using the file's footer, casts them to the
file's own Arrow types (Spark turns dictionaries into strings and timestamps into microseconds),
and folds each row group with `Profiler.update_unit` (no conversion to rows: ``mapInArrow``). The
driver merges the partials in the CLI's order and judges the result against the baseline. The
baseline folder and the input files must be readable by the executors (on a cluster, shared or
object-store paths).
"""

import argparse
import sys
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa

import driftscope

SCHEMA = "file string, row_group long, rows long, profile binary"
FILE_COL, ROW_COL = "_driftscope_file", "_driftscope_row"


def local_path(uri):
    """Spark's `file:/x/y` as the path the CLI names; other URIs (s3a://…) as they are."""
    u = urlparse(uri)
    return unquote(u.path) if u.scheme == "file" else uri


def footer(uri):
    """The file's Arrow schema and the first row index of each row group (plus the end)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(local_path(uri)) if urlparse(uri).scheme in ("", "file") else pq.ParquetFile(uri)
    counts = [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)]
    return f.schema_arrow, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def as_file_types(table, schema):
    """The columns the file has, in its order and with its Arrow types."""
    names = [n for n in schema.names if n in table.column_names]
    return pa.Table.from_arrays([table[n].cast(schema.field(n).type) for n in names], names=names)


def profile_row_groups(baseline, columns):
    """The function mapInArrow runs on each partition: one partial profile per row group."""

    def run(batches):
        plan = driftscope.Plan(columns=columns, baseline=baseline)
        footers = {}
        unit, pieces = None, []

        def emit():
            uri, rg = unit
            schema, starts = footers[uri]
            table = as_file_types(pa.Table.from_batches(pieces), schema)
            expected = int(starts[rg + 1] - starts[rg])
            if table.num_rows != expected:
                raise RuntimeError(f"{uri}: row group {rg} arrived with {table.num_rows} of its {expected} rows")
            p = driftscope.Profiler(plan)
            p.update_unit(table)
            return pa.RecordBatch.from_pydict(
                {"file": [uri], "row_group": [rg], "rows": [expected], "profile": [p.to_bytes()]},
                schema=pa.schema(
                    [("file", pa.string()), ("row_group", pa.int64()), ("rows", pa.int64()), ("profile", pa.binary())]
                ),
            )

        for b in batches:
            uris = b.column(FILE_COL).to_pylist()
            rows = b.column(ROW_COL).to_numpy()
            data = b.drop_columns([FILE_COL, ROW_COL])
            at = 0
            while at < b.num_rows:
                uri = uris[at]
                end = at
                while end < b.num_rows and uris[end] == uri:
                    end += 1
                if uri not in footers:
                    footers[uri] = footer(uri)
                starts = footers[uri][1]
                groups = np.searchsorted(starts, rows[at:end], side="right") - 1
                cuts = np.flatnonzero(np.diff(groups)) + 1
                for lo, hi in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [end - at]])):
                    key = (uri, int(groups[lo]))
                    if key != unit:
                        if unit is not None:
                            yield emit()
                        unit, pieces = key, []
                    pieces.append(data.slice(at + int(lo), int(hi - lo)))
                at = end
        if unit is not None:
            yield emit()

    return run


def merged_profile(df, baseline, columns=None):
    """Profiles a DataFrame read from Parquet files row group by row group; returns the merged
    driftscope.Profile and the files as `(path, rows)`, merged as the CLI merges them: a file's
    row groups in order, then the files in path order into an empty profile."""
    from pyspark.sql import functions as F

    if columns:
        df = df.select(*columns)
    tagged = df.select(
        "*", F.col("_metadata.file_path").alias(FILE_COL), F.col("_metadata.row_index").alias(ROW_COL)
    )
    by_file = {}
    for u in tagged.mapInArrow(profile_row_groups(baseline, columns), SCHEMA).collect():
        by_file.setdefault(u["file"], []).append(u)
    total, files = driftscope.Profile(), []
    for uri in sorted(by_file, key=local_path):
        units = sorted(by_file[uri], key=lambda u: u["row_group"])
        acc = driftscope.Profile.from_bytes(bytes(units[0]["profile"]))
        for u in units[1:]:
            acc.merge(driftscope.Profile.from_bytes(bytes(u["profile"])))
        total.merge(acc)
        files.append((local_path(uri), sum(u["rows"] for u in units)))
    return total, files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="baseline folder (driftscope's or SageMaker's)")
    ap.add_argument("--output", required=True, help="folder for the monitor's files")
    ap.add_argument("--master", default=None, help="Spark master, e.g. local[2] (default: spark-submit's)")
    ap.add_argument("--columns", default=None, help="comma-separated columns to profile")
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    ap.add_argument("inputs", nargs="+", help="Parquet files or folders")
    a = ap.parse_args(argv)

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("driftscope")
    if a.master:
        builder = builder.master(a.master)
    for kv in a.conf:
        key, _, value = kv.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        df = spark.read.parquet(*a.inputs)
        columns = a.columns.split(",") if a.columns else None
        profile, files = merged_profile(df, a.baseline, columns)
        result = driftscope.compare(a.baseline, profile, files=files)
        result.write_outputs(a.output)
        print(result.markdown())
        return 1 if result.violation_count else 0
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
