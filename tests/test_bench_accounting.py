"""The e2e benchmark's accounting of server threads and its projection (benchmarks/e2e.py): the
per-kind split of two runaway-threads snapshots, .NET TimeSpan parsing, the projection formula of
docs/benchmarks.md. Importing the script also catches a rename it depends on."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "e2e.py"
spec = importlib.util.spec_from_file_location("e2e_bench", SCRIPT)
e2e = importlib.util.module_from_spec(spec)
sys.modules["e2e_bench"] = e2e  # its dataclasses look their module up
spec.loader.exec_module(e2e)


def test_timespan():
    assert e2e._timespan("00:00:03.8300000") == pytest.approx(3.83)
    assert e2e._timespan("01:02:03") == 3723
    assert e2e._timespan("2.01:00:00.5") == pytest.approx(2 * 86400 + 3600.5)


def test_thread_kinds_as_ravendb_names_them():
    assert e2e.thread_kind("'bench-1' Transaction Merging Thread") == "transaction merger"
    assert e2e.thread_kind("Indexing of Orders/ByCompany of bench-1") == "indexing"
    assert e2e.thread_kind("Unknown") == "request threads"
    assert e2e.thread_kind("RavenDB Tasks Executer") == "other"


def test_split_counts_deltas_new_threads_and_the_rest_as_other():
    before = {1: ("Unknown", 4.0), 2: ("'db' Transaction Merging Thread", 1.0), 3: ("Unknown", 2.0)}
    after = {1: ("Unknown", 6.5), 2: ("'db' Transaction Merging Thread", 2.0), 3: ("Unknown", 2.0),
             4: ("Indexing of I of db", 0.75)}  # 4 started during the stage
    split, busiest, name = e2e.thread_split(before, after, total=5.0)
    assert split == {"transaction merger": 1.0, "request threads": 2.5, "indexing": 0.75, "other": 0.75}
    assert (busiest, name) == (2.5, "Unknown")


def test_projection_is_bounded_by_the_busiest_thread_and_by_the_cores():
    m = e2e.Measure(wall=10.0, client_cpu=2.0, peak_rss_mb=1, server_cpu=16.0, server_busiest=5.0,
                    client_busiest=1.5)
    assert m.projected(8) == 5.0  # one request thread parses everything
    assert m.projected(2) == 8.0  # 16 s of server CPU on 2 cores
    spread = e2e.Measure(wall=10.0, client_cpu=2.0, peak_rss_mb=1, server_cpu=16.0, server_busiest=1.0,
                         client_busiest=1.8)
    assert spread.projected(8) == 2.0
    assert e2e.Measure(wall=3.0, client_cpu=2.0, peak_rss_mb=1).projected(8) == 3.0  # offline: as measured
    assert m.utilisation == pytest.approx(18.0 / (e2e.os.cpu_count() or 1) / 10.0)
