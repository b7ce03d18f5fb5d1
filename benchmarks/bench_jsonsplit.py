"""pytest-benchmark: the jsonsplit twins delimiting every document of the bundled sample, and compacting them.

Run: ``.venv/bin/python -m pytest benchmarks/bench_jsonsplit.py``. Both twins run on the same
decompressed bytes so their rows compare directly (``benchmarks/reader_throughput.py`` compares
the whole reader with decompress-only throughput).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ravenmigrate import _twins

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample-3.5.ravendump"
DATA = bytearray(gzip.decompress(SAMPLE.read_bytes()))
FIRST = DATA.index(b"[") + 1

TWINS = [pytest.param(module, id=kind) for kind, module in _twins.both("jsonsplit").items()]


def split_all(impl) -> int:
    items, _ = impl.Scanner().scan_items(DATA, FIRST, 1 << 30)
    return len(items)


def compact_all(impl, spans) -> int:
    return sum(len(impl.compact(DATA, a, b)) for a, b in spans)


@pytest.mark.parametrize("impl", TWINS)
def test_split(benchmark, impl):
    assert benchmark(split_all, impl) > 1000


@pytest.mark.parametrize("impl", TWINS)
def test_compact(benchmark, impl):
    items, _ = impl.Scanner().scan_items(DATA, FIRST, 1 << 30)
    spans = [(a, b) for a, b, _, _ in items]
    assert benchmark(compact_all, impl, spans) < len(DATA)
