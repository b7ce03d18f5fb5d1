"""4.x dump writer throughput on the converted real Northwind 3.5 export: the ``dump4_metadata`` twins,
and the whole writer per gzip level (stored, and level 1 with the fastest deflater).

Run: ``.venv/bin/python -m pytest benchmarks/bench_dump4.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ravenmigrate import _twins
from ravenmigrate.convert import Converter
from ravenmigrate.records import Document4
from ravenmigrate.sinks.dump4.writer import Dump4Writer
from ravenmigrate.sources import open_source

NORTHWIND = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "real" / "Northwind_3.5.35168.ravendump"


@pytest.fixture(scope="module")
def records():
    converter = Converter()
    return [c for r in open_source(NORTHWIND, compact=True).records() for c in converter.convert(r)]


@pytest.mark.parametrize("twin", [pytest.param(m, id=k) for k, m in _twins.both("dump4_metadata").items()])
def test_metadata_close(benchmark, twin, records):
    bodies = [r.data for r in records if isinstance(r, Document4)]
    benchmark(lambda: [twin.metadata_close(b) for b in bodies])


@pytest.mark.parametrize("level", [0, 1])
def test_writer(benchmark, records, level):
    def write():
        with Dump4Writer(io.BytesIO(), level=level) as w:
            w.write_all(records)

    benchmark(write)
