"""Thread hand-off for pipelines of native work.

``convert``, ``load`` and ``inspect`` overlap a reader thread (inflate), the main thread (scan,
convert) and, for the first two, worker threads (deflate, HTTP). The libraries release the GIL while they work, but a thread that
finishes a call waits up to ``sys.getswitchinterval()`` (5 ms) to get the GIL back from a main
thread busy in Cython code; per 1 MiB chunk that is a large share of the chunk's own time.
Measured on the 200 MB benchmark dump (docs/benchmarks.md): 0.5 ms cuts convert's wall time at
gzip level 6 from 2.34 s to 1.93 s.

The same pipelines allocate and free buffers of about 1 MB all the time (inflated chunks, the
splitter's compact bytes, packed runs). glibc serves such blocks with mmap and returns them with
munmap, so every one costs fresh page faults; :func:`reuse_freed_memory` keeps blocks up to
64 MB on the heap and the heap's top unreturned up to 128 MB (memory stays bounded by the
pipeline's own bounds). Measured on the 200 MB dump at level 1: the main thread's CPU time,
median of 6 interleaved runs, 0.76 -> 0.64 s; ``inspect`` of the same dump, 5 runs by turns:
0.565 -> 0.453 s wall (both changes).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

from . import _twins

_twins.register("malloc_tuning", "ravenmigrate.malloc_tuning")

SWITCH_INTERVAL = 0.0005
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_malloc_tuned: bool | None = None
T = TypeVar("T")


def reuse_freed_memory() -> bool:
    """Tune glibc's malloc once per process (see the module docstring); False where it is not glibc."""
    global _malloc_tuned
    if _malloc_tuned is None:
        mallopt = _twins.load("malloc_tuning").mallopt
        _malloc_tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _malloc_tuned


@contextlib.contextmanager
def responsive() -> Iterator[None]:
    """Run the block with a short GIL switch interval (the previous one is restored after) and
    malloc tuned for reuse (:func:`reuse_freed_memory`, for the rest of the process)."""
    reuse_freed_memory()
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_behind(niceness: int = 10) -> bool:
    """Give the calling thread (and the threads it starts later, which inherit it) a lower CPU
    priority, *niceness* above the process's. For a thread that only works ahead of another
    (verify's source, read ahead of the server's stream): where the cores are all busy, the
    scheduler then runs the threads on the critical path first, and where a core is free it
    changes nothing. Linux only (a niceness per thread); False where it is not applied."""
    if not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
    except OSError:
        return False
    return True


def on_thread_behind(work: Callable[[], T], niceness: int, name: str) -> T:
    """Run *work* on a new thread *name* that runs behind (:func:`run_behind` by *niceness*, and so
    every thread it starts) and return what it returns, or raise what it raised. For a caller whose
    own thread keeps its priority: the threads it started before (verify's reader of the server's
    answer) stay ahead of the work, and the caller's thread is not lowered for good (a thread's
    niceness cannot be raised back without privileges)."""
    outcome: list = []

    def run() -> None:
        run_behind(niceness)
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # raised again in the caller's thread
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
