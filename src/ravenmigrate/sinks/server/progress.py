"""Progress on a terminal (documents/s, MB/s, ETA) and the end-of-run summary table."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from .streams import Stats


class Progress:
    """Redraws one status line every ``interval`` seconds while running; silent unless *out* is a TTY.

    ``fraction`` returns how much of the source has been read (0..1) or ``None`` when unknown.
    """

    def __init__(self, stats: Stats, fraction: Callable[[], float | None], out: TextIO = sys.stderr,
                 interval: float = 0.5, enabled: bool | None = None) -> None:
        self.stats = stats
        self.fraction = fraction
        self.out = out
        self.interval = interval
        self.enabled = out.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ravenmigrate-progress", daemon=True)

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()
            self.out.write("\n")
            self.out.flush()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        docs, size = self.stats.documents, self.stats.bytes
        text = f"{docs:,} documents  {docs / elapsed:,.0f} docs/s  {size / elapsed / 1e6:,.1f} MB/s"
        frac = self.fraction()
        if frac:
            eta = elapsed * (1 - frac) / frac
            text += f"  {frac * 100:5.1f}%  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
        if self.stats.retries:
            text += f"  ({self.stats.retries} retries)"
        return text

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.out.write("\r" + self.line().ljust(100))
            self.out.flush()


def table(rows: list[tuple[str, object]]) -> str:
    """A two-column summary table."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
