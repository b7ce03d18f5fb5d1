"""Gzip output through the fastest deflater installed: ISA-L, zlib-ng, or the standard zlib.

A RavenDB 4.x ``.ravendbdump`` is one gzip member (docs/formats/import-4x.md §11); the server wraps every
uploaded file part in a GZip decompressor (§2), so any conforming gzip stream is accepted. The
level follows zlib's scale 0-9: 0 stores without compression (stdlib zlib), 1-3 use ISA-L
(whose levels 1-3 are its own fast scale) when installed, every level uses zlib-ng before the
standard zlib. ``deflater=`` forces one library (an error if it is not installed).
"""

from __future__ import annotations

import importlib
import queue
import threading
from types import ModuleType
from typing import Protocol

DEFLATERS = ("isal", "zlib-ng", "zlib")
_MODULES = {"isal": "isal.isal_zlib", "zlib-ng": "zlib_ng.zlib_ng", "zlib": "zlib"}
GZIP_WBITS = 31  # deflate with a gzip header and trailer
# The level of the gzip bodies load sends (import file parts, compressed bulk inserts): the fastest.
# ISA-L's level 1 costs a quarter of the CPU of zlib's (1.2 against 5.2 ns per JSON byte, about as
# small), CPU the server needs on a shared machine.
TRANSPORT_LEVEL = 1


class Compressor(Protocol):
    def compress(self, data: bytes | bytearray | memoryview, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        return None


def available() -> list[str]:
    """The deflaters importable here, fastest first."""
    return [name for name in DEFLATERS if _module(name) is not None]


def choose(level: int, deflater: str = "auto") -> str:
    """The library used for *level*: ``auto`` picks the fastest one that offers that level."""
    if not 0 <= level <= 9:
        raise ValueError(f"gzip level must be 0-9, got {level}")
    if deflater != "auto":
        if deflater not in _MODULES:
            raise ValueError(f"unknown deflater {deflater!r}; expected auto or one of {', '.join(DEFLATERS)}")
        if _module(deflater) is None:
            raise ValueError(f"deflater {deflater!r} is not installed (pip install 'ravenmigrate[fast]')")
        if deflater == "isal" and not 0 <= level <= 3:
            raise ValueError(f"ISA-L offers levels 0-3, got {level}")
        return deflater
    if level == 0:
        return "zlib"
    if level <= 3 and _module("isal") is not None:
        return "isal"
    if _module("zlib-ng") is not None:
        return "zlib-ng"
    return "zlib"


def gzip_compressor(level: int, deflater: str = "auto") -> tuple[Compressor, str]:
    """A streaming compressor writing one gzip member, and the name of the library behind it."""
    name = choose(level, deflater)
    mod = _module(name)
    assert mod is not None
    return mod.compressobj(level, mod.DEFLATED, GZIP_WBITS), name


def gzip_decompressor(deflater: str = "auto"):
    """A streaming gzip decompressor from the fastest installed library (for readers and benchmarks)."""
    name = deflater if deflater != "auto" else available()[0]
    mod = _module(name)
    if mod is None:
        raise ValueError(f"deflater {name!r} is not installed")
    return mod.decompressobj(GZIP_WBITS)


class BackgroundWriter:
    """Compresses and writes chunks in one worker thread, in order, so deflating overlaps the work
    that produces the chunks (zlib, zlib-ng and ISA-L release the GIL while they compress).

    ``write`` hands a list of chunks over (they must not be changed afterwards) and raises the worker's error,
    if any; ``close`` drains the queue, writes the gzip trailer and raises the worker's error;
    ``json_bytes``/``gzip_bytes`` count what the worker has compressed so far.
    """

    def __init__(self, compressor: Compressor, out, depth: int = 4) -> None:
        self._compressor = compressor
        self._out = out
        self._queue: queue.Queue = queue.Queue(depth)
        self._error: BaseException | None = None
        self.json_bytes = 0
        self.gzip_bytes = 0
        self._thread = threading.Thread(target=self._run, name="ravenmigrate-deflate", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            pieces = self._queue.get()
            if pieces is None:
                return
            if self._error is not None:
                continue
            try:
                for piece in pieces:
                    chunk = self._compressor.compress(piece)
                    if chunk:
                        self._out.write(chunk)
                    self.json_bytes += len(piece)
                    self.gzip_bytes += len(chunk)
            except BaseException as exc:  # noqa: BLE001 - handed to the producer on its next call
                self._error = exc

    def write(self, pieces: list[bytes | bytearray]) -> None:
        """Queue *pieces*, compressed in order without joining them."""
        if self._error is not None:
            raise self._error
        self._queue.put(pieces)

    def close(self) -> None:
        self._stop()
        if self._error is not None:
            raise self._error
        tail = self._compressor.flush()
        self._out.write(tail)
        self.gzip_bytes += len(tail)

    def abort(self) -> None:
        """Stop without finishing the gzip member (after an error elsewhere)."""
        if self._error is None:
            self._error = RuntimeError("output aborted")
        self._stop()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
