"""What the Python tests share: the repository's paths and the CLI binary to compare with."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def cli():
    """The CLI binary the README's test command built (or DRIFTSCOPE_BIN); skips without one."""
    for p in (os.environ.get("DRIFTSCOPE_BIN"), ROOT / "target/debug/driftscope", ROOT / "target/release/driftscope"):
        if p and Path(p).is_file():
            return str(p)
    pytest.skip("no driftscope binary: run cargo build first")
