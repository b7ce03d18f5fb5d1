"""Bounded memory: inspecting a ~1 GB (uncompressed) dump stays under 256 MB peak RSS."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.mark.slow
def test_inspect_1gb_dump_peak_rss_below_256mb():
    import reader_memory

    path = reader_memory.dump_of(1 << 30)
    report, peak, _ = reader_memory.inspect_peak_rss(path)
    assert report["counts"]["Attachments"] == 50
    assert report["sizes"]["largest_attachment"]["bytes"] > 512 << 10
    assert report["sizes"]["documents_bytes"] > 900 << 20
    assert peak < 256 << 20, f"peak RSS {peak >> 20} MB"
