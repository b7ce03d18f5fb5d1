"""Progress in every context, the same counters everywhere.

A long ``load`` or ``convert`` reports while it runs: on a terminal one live line redrawn in place;
anywhere else (a log file, ``nohup``, CI, systemd) one plain line every ``--progress-interval``
seconds, or one JSON object per line with ``--log-format json``. Every mode shows the counters of
:meth:`Progress.counters`: elapsed seconds, documents, documents/s, MB, MB/s, percent read and ETA
when the size is known, and whatever extra counters the command passes (retries, attachments).

The command either gives a *snapshot* function the reporting thread calls (``load``: counters the
streams update under a lock), or pushes snapshots with :meth:`Progress.update` (``convert``: its
main thread owns the counters).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

MODES = ("tty", "text", "json", "off")
LOG_FORMATS = ("text", "json")
TTY_INTERVAL = 0.5
LOG_INTERVAL = 10.0

Snapshot = dict[str, Any]
"""``documents`` and ``bytes`` (required), ``fraction`` (0..1 or None), other int counters."""


def choose_mode(quiet: bool = False, log_format: str = "text", out: TextIO = sys.stderr) -> str:
    """``off`` when quiet, ``json`` when asked, ``tty`` on a terminal, else ``text`` lines."""
    if quiet:
        return "off"
    if log_format == "json":
        return "json"
    return "tty" if out.isatty() else "text"


class Progress:
    """Reports every *interval* seconds (default: 0.5 on a terminal, 10 in a log) on a daemon thread,
    and once more at the end (text and json modes) with the final counters."""

    def __init__(self, label: str, snapshot: Callable[[], Snapshot] | None = None, *, mode: str = "tty",
                 interval: float | None = None, out: TextIO = sys.stderr,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if mode not in MODES:
            raise ValueError(f"progress mode {mode!r} is not one of {MODES}")
        self.label = label
        self._snapshot = snapshot
        self._latest: Snapshot = {"documents": 0, "bytes": 0}
        self.mode = mode
        self.interval = interval if interval is not None else TTY_INTERVAL if mode == "tty" else LOG_INTERVAL
        self.out = out
        self.clock = clock
        self.started = clock()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="ravenmigrate-progress", daemon=True)

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def update(self, snapshot: Snapshot) -> None:
        """Push the latest counters (when no *snapshot* function was given)."""
        self._latest = snapshot

    def __enter__(self) -> Progress:
        self.started = self.clock()
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if not self.enabled:
            return
        self._thread.join()
        if self.mode == "tty":
            self._write("\r" + self.line().ljust(100) + "\n")
        else:
            self.emit(final=True)

    def counters(self) -> dict[str, Any]:
        """The counters every mode shows, computed from the latest snapshot."""
        snap = dict(self._snapshot() if self._snapshot is not None else self._latest)
        elapsed = max(self.clock() - self.started, 1e-6)
        docs, size = int(snap.pop("documents", 0)), int(snap.pop("bytes", 0))
        frac = snap.pop("fraction", None)
        out: dict[str, Any] = {"elapsed_s": round(elapsed, 1), "documents": docs,
                               "documents_per_s": round(docs / elapsed), "mb": round(size / 1e6, 1),
                               "mb_per_s": round(size / elapsed / 1e6, 1), "percent": None, "eta_s": None}
        if frac:
            out["percent"] = round(frac * 100, 1)
            out["eta_s"] = round(elapsed * (1 - frac) / frac)
        out.update(snap)
        return out

    def line(self, counters: dict[str, Any] | None = None) -> str:
        c = self.counters() if counters is None else counters
        text = (f"{c['documents']:,} documents  {c['documents_per_s']:,} docs/s  {c['mb']:,.1f} MB  "
                f"{c['mb_per_s']:,.1f} MB/s")
        if c["percent"] is not None:
            eta = int(c["eta_s"])
            text += f"  {c['percent']:5.1f}%  ETA {eta // 60}:{eta % 60:02d}"
        extra = {k: v for k, v in c.items() if k not in _MAIN and v}
        if extra:
            text += "  (" + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in extra.items()) + ")"
        return text

    def emit(self, final: bool = False) -> None:
        """One report in the current mode."""
        counters = self.counters()
        if self.mode == "tty":
            self._write("\r" + self.line(counters).ljust(100))
        elif self.mode == "json":
            record = {"time": _utc(), "event": "done" if final else "progress", "command": self.label, **counters}
            self._write(json.dumps(record) + "\n")
        elif self.mode == "text":
            self._write(f"{_utc()} {self.label}{' done' if final else ''}: {self.line(counters)}\n")

    def _write(self, text: str) -> None:
        with self._lock:
            try:
                self.out.write(text)
                self.out.flush()
            except (OSError, ValueError):  # a closed or broken log must not stop the migration
                self.mode = "off"

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.emit()


_MAIN = ("elapsed_s", "documents", "documents_per_s", "mb", "mb_per_s", "percent", "eta_s")


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def table(rows: list[tuple[str, object]]) -> str:
    """A two-column summary table."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
