#!/usr/bin/env python3
"""Checks a built wheel as PyPI and pip would see it: abi3 and manylinux tags, the package's
metadata (licence expression and files, classifiers, the readme, project URLs), and the type
hints beside the extension.

    python3 python/tests/check_wheel.py dist/driftscope-*.whl
"""
import sys
import zipfile
from email.parser import Parser


def check(path):
    name = path.rsplit("/", 1)[-1]
    parts = name[:-4].split("-")
    assert name.endswith(".whl") and len(parts) == 5, f"{name}: not a wheel name"
    _, version, python, abi, platform = parts
    assert (python, abi) == ("cp39", "abi3"), f"{name}: not an abi3 wheel for CPython 3.9+"
    assert platform.startswith("manylinux"), f"{name}: not a manylinux wheel"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for needed in ["driftscope/__init__.py", "driftscope/_driftscope.pyi", "driftscope/py.typed"]:
            assert needed in names, f"{name}: no {needed}"
        assert any(n.startswith("driftscope/_driftscope") and n.endswith(".so") for n in names), "no extension"
        info = f"driftscope-{version}.dist-info"
        for licence in ["LICENSE-MIT", "LICENSE-APACHE"]:
            assert f"{info}/licenses/{licence}" in names, f"{name}: no {licence}"
        meta = Parser().parsestr(z.read(f"{info}/METADATA").decode())
    assert meta["Name"] == "driftscope" and meta["Version"] == version
    assert meta["License-Expression"] == "MIT OR Apache-2.0", meta["License-Expression"]
    assert meta["Requires-Python"] == ">=3.9"
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and any(c.startswith("Topic ::") for c in classifiers), classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Issues"} <= set(urls), urls
    assert meta["Description-Content-Type"].startswith("text/markdown")
    assert "driftscope for Python" in meta.get_payload(), "the readme is not the long description"
    print(f"{name}: abi3 {platform}, {len(classifiers)} classifiers, {len(urls)} project URLs, type hints")


if __name__ == "__main__":
    for p in sys.argv[1:]:
        check(p)
