"""glibc's ``mallopt`` through ctypes: the pure twin of ``ext/malloc_tuning.pyx``.

Used by :func:`ravenmigrate.threads.reuse_freed_memory`.
"""

from __future__ import annotations

import sys


def mallopt(param: int, value: int) -> int:
    """glibc's ``mallopt(param, value)``: 1 when accepted, 0 when refused or where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return 0
    import ctypes  # here: ctypes.util alone would cost 9 ms of every command's start-up

    try:
        function = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return 0
    return int(function(param, value))
