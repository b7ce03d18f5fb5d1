"""Progress in every context: the live line on a terminal, plain or JSON lines in a log, same counters."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ravenmigrate.progress import Progress, choose_mode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "fixtures"))
from generate import generated  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_text_and_json_lines_carry_the_same_counters():
    counters = {"documents": 5000, "bytes": 20_000_000, "fraction": 0.25, "retries": 2}
    clock = Clock()
    text, js = io.StringIO(), io.StringIO()
    for mode, out in (("text", text), ("json", js)):
        p = Progress("load", lambda: counters, mode=mode, out=out, clock=clock)
        p.started = clock.now - 10
        p.emit()
    record = json.loads(js.getvalue())
    assert record["event"] == "progress" and record["command"] == "load"
    assert {k: record[k] for k in ("elapsed_s", "documents", "documents_per_s", "mb", "mb_per_s", "percent",
                                   "eta_s", "retries")} == {
        "elapsed_s": 10.0, "documents": 5000, "documents_per_s": 500, "mb": 20.0, "mb_per_s": 2.0,
        "percent": 25.0, "eta_s": 30, "retries": 2}
    line = text.getvalue()
    assert line.endswith("\n") and "\r" not in line
    for shown in ("load:", "5,000 documents", "500 docs/s", "20.0 MB", "2.0 MB/s", "25.0%", "ETA 0:30", "retries 2"):
        assert shown in line, (shown, line)


def test_pushed_snapshots_and_a_final_report():
    out = io.StringIO()
    with Progress("convert", mode="json", interval=0.05, out=out) as p:
        for n in range(1, 6):
            p.update({"documents": n * 100, "bytes": n * 1000, "attachments": n})
            time.sleep(0.03)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[-1]["event"] == "done" and records[-1]["documents"] == 500 and records[-1]["attachments"] == 5
    assert len(records) >= 2 and all(r["event"] == "progress" for r in records[:-1])


def test_modes():
    assert choose_mode(quiet=True, log_format="json") == "off"
    assert choose_mode(log_format="json") == "json"
    assert choose_mode(out=io.StringIO()) == "text"
    out = io.StringIO()
    with Progress("load", lambda: {"documents": 1, "bytes": 1}, mode="off", interval=0.01, out=out):
        time.sleep(0.05)
    assert out.getvalue() == ""


@pytest.mark.server
def test_load_into_a_log_file_writes_progress_lines_while_it_runs(tmp_path, ravendb_url, new_database):
    """``load ... 2> log.txt``: with stderr a file, plain progress lines appear while the load runs."""
    source = generated("progress-8mb.ravendump", size=8 << 20)
    db = new_database("progress")
    log = tmp_path / "log.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "ravenmigrate", "load", str(source), "--url", ravendb_url,
                                 "-d", db, "--progress-interval", "0.2", "--streams", "1", "--operation-docs", "500",
                                 "--rate-limit", "4000"],
                                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        seen_while_running = []
        while proc.poll() is None:
            lines = [ln for ln in log.read_text().splitlines() if " load: " in ln]
            if lines:
                seen_while_running = lines
            time.sleep(0.1)
    assert proc.returncode == 0, log.read_text()
    assert seen_while_running, f"no progress line while the load ran:\n{log.read_text()}"
    final = [ln for ln in log.read_text().splitlines() if " load done: " in ln]
    assert len(final) == 1 and "documents" in final[0]
    assert "\r" not in log.read_text()


def test_throttle_keeps_both_budgets_with_one_second_of_burst():
    from ravenmigrate.sinks.server.throttle import Throttle

    clock = Clock()
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock.now += s

    t = Throttle(docs_per_s=1000, bytes_per_s=1e6, clock=clock, sleep=sleep)
    for _ in range(10):
        t.take(500, 100_000)  # documents bind: 0.5 s each
    assert clock.now - 100.0 == pytest.approx(5.0)  # 5 s of budget; no burst credit at the start
    clock.now += 100  # a long pause carries over at most one second
    start = clock.now
    for _ in range(4):
        t.take(10, 500_000)  # bytes bind: 0.5 s each
    assert clock.now - start == pytest.approx(2.0 - 1.0)
    unlimited = Throttle()
    unlimited.take(10**9, 10**12)
    assert not unlimited.active and unlimited.slept == 0


def test_convert_reports_the_fraction_read(tmp_path, monkeypatch):
    from ravenmigrate.sinks.dump4 import convert as dump4_convert

    monkeypatch.setattr(dump4_convert, "PROGRESS_EVERY", 0.0)
    seen: list[float] = []
    dump4_convert.convert_to_dump4(REPO / "fixtures" / "sample-3.5.ravendump", tmp_path / "out.ravendbdump",
                                   progress=lambda r: seen.append(r["fraction"]))
    assert seen and all(f is not None and 0 <= f <= 1 for f in seen) and seen[-1] > 0.5
