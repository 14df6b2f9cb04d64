"""pyarrow's multi-threaded read_table of the capture: the C++ decoder, the floor to beat.

usage: python3 pyarrow_read.py CAPTURE.parquet RUNS
"""
import sys

import pyarrow.parquet as pq

from common import best_of, report

path, runs = sys.argv[1], int(sys.argv[2])
t, table = best_of(runs, lambda: pq.read_table(path, use_threads=True))
report("pyarrow read_table", t, table.num_rows)
