"""``--rate-limit`` / ``--max-mb-per-s``: keep a load under a documents-per-second and a bytes-per-second
budget, for a target that serves production traffic at the same time.

A virtual clock advances by each batch's cost (its documents over the document rate, or its bytes
over the byte rate, whichever is longer); the feeding thread sleeps while the virtual clock is ahead
of the real one. At most one second of unused budget carries over, so a pause is not followed by a
burst above the limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable

BURST_S = 1.0


class Throttle:
    def __init__(self, docs_per_s: float | None = None, bytes_per_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        for name, rate in (("documents per second", docs_per_s), ("bytes per second", bytes_per_s)):
            if rate is not None and rate <= 0:
                raise ValueError(f"{name} must be positive, got {rate}")
        self.docs_per_s = docs_per_s
        self.bytes_per_s = bytes_per_s
        self.clock = clock
        self.sleep = sleep
        self._at = clock()
        self.slept = 0.0

    @property
    def active(self) -> bool:
        return self.docs_per_s is not None or self.bytes_per_s is not None

    def take(self, docs: int, nbytes: int) -> None:
        """Account for a batch of *docs* documents and *nbytes* bytes; sleep until the budget allows it."""
        if not self.active:
            return
        now = self.clock()
        cost = max(docs / self.docs_per_s if self.docs_per_s else 0.0,
                   nbytes / self.bytes_per_s if self.bytes_per_s else 0.0)
        self._at = max(self._at, now - BURST_S) + cost
        wait = self._at - now
        if wait > 0:
            self.slept += wait
            self.sleep(wait)
