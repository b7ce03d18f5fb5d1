"""Thread hand-off for pipelines of native work.

``convert`` and ``load`` overlap a reader thread (inflate), the main thread (scan, convert) and
worker threads (deflate, HTTP). The libraries release the GIL while they work, but a thread that
finishes a call waits up to ``sys.getswitchinterval()`` (5 ms) to get the GIL back from a main
thread busy in Cython code; per 1 MiB chunk that is a large share of the chunk's own time.
Measured on the 200 MB benchmark dump (docs/benchmarks.md): 0.5 ms cuts convert's wall time at
gzip level 6 from 2.34 s to 1.93 s.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def responsive() -> Iterator[None]:
    """Run the block with a short GIL switch interval; the previous one is restored after."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
