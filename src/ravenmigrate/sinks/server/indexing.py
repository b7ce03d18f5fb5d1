"""Waiting for a loaded database's indexes: the time until the database is usable.

A database is usable when its documents are loaded and every index is up to date (non-stale), or
errored (it will never be). RavenDB 4.1 answers both questions (docs/loading.md, "Waiting for
the indexes"): ``GET /databases/DB/indexes/stats`` lists every index with ``IsStale``,
``EntriesCount``, ``ErrorsCount``, ``State`` (``Error`` when the server gave up on it) and
``Status`` (``Running``, ``Paused``, ``Disabled``); ``GET /databases/DB/indexes/progress`` lists
the stale ones with, per collection, ``TotalNumberOfDocuments`` and
``NumberOfDocumentsToProcess``, and ``ProcessedPerSecond``. Server source:
``src/Raven.Server/Documents/Handlers/IndexHandler.cs`` (``Stats``, ``Progress``) and
``src/Raven.Client/Documents/Indexes/IndexProgress.cs``, ``IndexStats.cs``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from ...progress import LOG_INTERVAL, TTY_INTERVAL
from .client import RavenClient
from .http import db_path

# Indexes that will not become non-stale by waiting: errored, or stopped by someone.
_NOT_RUNNING = ("Paused", "Disabled")


@dataclass
class IndexState:
    """One index as the server last described it."""

    name: str
    stale: bool
    processed: int  # documents of its collections processed (all of them once it is up to date)
    total: int  # documents of its collections
    per_second: float
    entries: int
    errors: int
    state: str  # Normal, Error, Idle, Disabled (IndexState)
    status: str  # Running, Paused, Disabled (IndexRunningStatus)

    @property
    def settled(self) -> bool:
        """Up to date, or never going to be without a user: errored, paused or disabled."""
        return not self.stale or self.state == "Error" or self.status in _NOT_RUNNING

    @property
    def eta(self) -> float | None:
        left = self.total - self.processed
        return left / self.per_second if self.stale and self.per_second > 0 and left > 0 else None


def index_states(client: RavenClient, database: str) -> list[IndexState]:
    """Every index of *database*: the stats of each, the progress of the stale ones."""
    stats = client.json("GET", db_path(database, "indexes/stats")).get("Results") or []
    progress = {p.get("Name"): p for p in client.json("GET", db_path(database, "indexes/progress")).get("Results") or []}
    out = []
    for s in stats:
        name = s.get("Name")
        p = progress.get(name)
        stale = bool(s.get("IsStale")) or (p is not None and bool(p.get("IsStale")))
        total = processed = 0
        if p is not None:
            for c in (p.get("Collections") or {}).values():
                total += int(c.get("TotalNumberOfDocuments") or 0)
                processed += int(c.get("TotalNumberOfDocuments") or 0) - int(c.get("NumberOfDocumentsToProcess") or 0)
        else:  # not listed: up to date; its own figure of what it mapped
            processed = total = int(s.get("MapSuccesses") or s.get("MapAttempts") or 0)
        out.append(IndexState(str(name), stale, max(processed, 0), total,
                              float((p or {}).get("ProcessedPerSecond") or 0.0), int(s.get("EntriesCount") or 0),
                              int(s.get("ErrorsCount") or 0), str(s.get("State") or ""),
                              str((p or {}).get("IndexRunningStatus") or s.get("Status") or "")))
    return out


def line(states: list[IndexState], elapsed: float, shown: int = 3) -> str:
    """The progress line: how many indexes are settled, then each stale one (processed/total,
    docs/s, ETA, errors), the slowest first."""
    settled = sum(s.settled for s in states)
    errors = sum(s.errors for s in states)
    text = f"indexing {elapsed:,.0f} s: {settled}/{len(states)} up to date"
    if errors:
        text += f", {errors:,} errors"
    waiting = sorted((s for s in states if not s.settled), key=lambda s: -(s.eta or 0.0))
    for s in waiting[:shown]:
        eta = (f"ETA {int(s.eta) // 60}:{int(s.eta) % 60:02d}" if s.eta is not None
               else "finishing" if s.processed >= s.total else "ETA ?")  # every document mapped: reducing, committing
        text += f" | {s.name} {s.processed:,}/{s.total:,} {s.per_second:,.0f} docs/s {eta}"
        if s.errors:
            text += f" {s.errors:,} errors"
    if len(waiting) > shown:
        text += f" | +{len(waiting) - shown} more"
    return text


def wait_for_indexes(client: RavenClient, database: str, *, timeout: float | None = None, poll: float = 0.5,
                     mode: str = "tty", interval: float | None = None, out: TextIO | None = None,
                     clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll until every index of *database* is settled (or *timeout* seconds passed), reporting in
    a :mod:`ravenmigrate.progress` *mode* (the live line on a terminal, a text or JSON line every
    *interval* seconds in a log, nothing when ``off``). Returns the report's ``indexing`` part:
    ``usable`` (every index up to date or errored: the database answers every query it can),
    ``settled`` (also paused or disabled ones left behind), ``wait_s`` and each index."""
    out = out if out is not None else sys.stderr
    every = interval if interval is not None else TTY_INTERVAL if mode == "tty" else LOG_INTERVAL
    started = clock()
    shown = None
    while True:
        states = index_states(client, database)
        elapsed = clock() - started
        done = all(s.settled for s in states) or (timeout is not None and elapsed >= timeout)
        if mode != "off" and (done or shown is None or elapsed - shown >= every):
            shown = elapsed
            _report(out, mode, states, elapsed, done)
        if done:
            break
        time.sleep(poll)
    return {"usable": all(not s.stale or s.state == "Error" for s in states),
            "settled": all(s.settled for s in states), "wait_s": elapsed, "indexes": [asdict(s) for s in states]}


def _report(out: TextIO, mode: str, states: list[IndexState], elapsed: float, final: bool) -> None:
    if mode == "tty":
        text = "\r" + line(states, elapsed).ljust(100) + ("\n" if final else "")
    elif mode == "json":
        text = json.dumps({"time": _utc(), "event": "indexing-done" if final else "indexing", "command": "load",
                           "elapsed_s": round(elapsed, 1), "indexes": [asdict(s) for s in states]}) + "\n"
    else:
        text = f"{_utc()} load {line(states, elapsed)}\n"
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):  # a closed or broken log must not stop the migration
        pass


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
