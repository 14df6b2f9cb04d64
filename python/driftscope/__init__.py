"""driftscope for Python: profile Arrow data at full volume, merge profiles made anywhere, and
judge them against a SageMaker-compatible baseline exactly as the ``driftscope`` CLI does.

>>> import pyarrow as pa, driftscope
>>> p = driftscope.Profiler()
>>> p.update(pa.table({"x": [1.0, 2.0, 3.0]}))
>>> p.rows
3

A Spark job profiles each partition (``mapInArrow``), sends ``Profile.to_bytes()`` to the driver,
which merges them with ``Profile.from_bytes`` and ``merge`` and writes the outputs with
``compare(baseline, profile).write_outputs(dir)``.
"""

from ._driftscope import Comparison, Plan, Profile, Profiler, __version__, baseline, compare

__all__ = ["Comparison", "Plan", "Profile", "Profiler", "baseline", "compare", "__version__"]
