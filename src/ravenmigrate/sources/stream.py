"""Raw bytes of an export file, decompressed: gzip (every member) or plain, sniffed by content.

docs/formats/dumps-3x.md §1 and §15.1-§15.2: 3.x writes one gzip member per file, UTF-8 without BOM; the
importer falls back to plain JSON when the data is not gzip, and its ``StreamReader`` accepts a
UTF-8 BOM (also UTF-16/32 BOMs, which this stream transcodes to UTF-8). The fastest available
inflater is used: ``isal``, then ``zlib-ng``, then the stdlib ``zlib``.
"""

from __future__ import annotations

import codecs
import queue
import threading
import zlib
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"
READ_SIZE = 1 << 20  # compressed bytes per read
INFLATE_SLICE = 1 << 14  # compressed bytes per inflate call: a corrupt block loses little output
CHUNK_SIZE = 1 << 20  # at most this many decompressed bytes per chunk (bounded memory)

_TRANSCODED_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class StreamError(Exception):
    """Undecodable container data; the reader turns it into a SourceError with full context."""

    def __init__(self, message: str, compressed_offset: int | None = None) -> None:
        self.compressed_offset = compressed_offset
        super().__init__(message)


def inflater() -> tuple[str, ModuleType]:
    """The fastest zlib-compatible module installed: ``isal``, ``zlib-ng`` or ``zlib``."""
    try:
        from isal import isal_zlib

        return "isal", isal_zlib
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng

        return "zlib-ng", zlib_ng
    except ImportError:
        return "zlib", zlib


def sniff(path: Path) -> str:
    """``gzip``, ``zip`` or ``plain`` from the first bytes (docs/formats/dumps-3x.md §15.1)."""
    with open(path, "rb") as f:
        return _kind(f.read(4))


def _kind(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == ZIP_MAGIC:
        return "zip"
    return "plain"


class ByteStream:
    """Decompressed chunks of one file; ``chunk()`` returns ``b""`` at the end.

    ``encoding`` is ``utf-8`` or the transcoded BOM encoding; ``members`` counts gzip members.
    ``fileobj``: read this binary stream (an HTTP response body, ``sources.live3x``) instead of
    opening *path*, which then only names it; its kind is sniffed from its first bytes.
    """

    def __init__(self, path: Path, *, read_size: int = READ_SIZE, chunk_size: int = CHUNK_SIZE,
                 zlib_module: ModuleType | None = None, fileobj: BinaryIO | None = None) -> None:
        self.path = Path(path)
        if fileobj is None:
            self.kind = sniff(self.path)
            self._file = open(self.path, "rb")
        else:
            self._file = _Peeked(fileobj, 4)
            self.kind = _kind(self._file.head)
        self._read_size = read_size
        self._chunk_size = chunk_size
        self._zlib = zlib_module or inflater()[1]
        self._decomp = None
        self._pending = b""  # compressed bytes given back by the inflater (tail, or the next member)
        self._input = b""  # the last block read from the file
        self._ipos = 0
        self._compressed_pos = 0  # compressed bytes consumed from the file
        self._file_eof = False
        self.members = 0
        self.encoding = "utf-8"
        self._decoder = None
        self._first = True

    @property
    def compressed_position(self) -> int:
        """File bytes consumed so far (for progress)."""
        return self._compressed_pos

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ByteStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def chunk(self) -> bytes:
        while True:
            data = self._gzip_chunk() if self.kind == "gzip" else self._plain_chunk()
            if self._first and data:
                data = self._detect_encoding(data)
            if self._decoder is not None:
                data = self._decoder.decode(data, final=not data).encode("utf-8", "surrogatepass")
                if not data and not self._at_end():
                    continue
            return data

    def _at_end(self) -> bool:
        return self._file_eof and not self._pending and self._ipos >= len(self._input) and (
            self._decomp is None or self._decomp.eof)

    def _detect_encoding(self, data: bytes) -> bytes:
        while len(data) < 4 and not self._file_eof:
            more = self._gzip_chunk() if self.kind == "gzip" else self._plain_chunk()
            if not more:
                break
            data += more
        self._first = False
        if data.startswith(UTF8_BOM):
            return data
        for bom, encoding in _TRANSCODED_BOMS:
            if data.startswith(bom):
                self.encoding = encoding
                self._decoder = codecs.getincrementaldecoder(encoding)("strict")
                return data[len(bom):]
        return data

    def _plain_chunk(self) -> bytes:
        data = self._file.read(self._chunk_size)
        if not data:
            self._file_eof = True
        self._compressed_pos += len(data)
        return data

    def _read(self) -> bytes:
        data = self._file.read(self._read_size)
        if not data:
            self._file_eof = True
        return data

    def _next_input(self) -> bytes:
        """Up to INFLATE_SLICE compressed bytes: first what the inflater gave back, then the file."""
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        if self._ipos >= len(self._input):
            self._input = self._read()
            self._ipos = 0
        data = self._input[self._ipos:self._ipos + INFLATE_SLICE]
        self._ipos += len(data)
        return data

    def _gzip_chunk(self) -> bytes:
        while True:
            if self._decomp is None or self._decomp.eof:
                self._decomp = None
                head = self._next_input()
                if not head:
                    return b""
                while len(head) < 2 and (more := self._next_input()):
                    head += more
                if not head.startswith(GZIP_MAGIC):
                    rest = head + self._next_input()
                    while not rest.strip(b"\x00") and (more := self._next_input()):
                        rest = more
                    if not rest.strip(b"\x00"):
                        return b""  # zero padding after the last member
                    raise StreamError("unexpected data after the end of a gzip member", self._compressed_pos)
                self._pending = head
                self._decomp = self._zlib.decompressobj(31)
                self.members += 1
            data = self._next_input()
            if not data:
                raise StreamError("truncated gzip data: the file ends inside a gzip member", self._compressed_pos)
            try:
                out = self._decomp.decompress(data, self._chunk_size)
            except self._zlib.error as exc:
                raise StreamError(f"corrupt gzip data ({exc})", self._compressed_pos) from None
            if self._decomp.eof:
                self._pending = self._decomp.unused_data
            else:
                self._pending = self._decomp.unconsumed_tail
            self._compressed_pos += len(data) - len(self._pending)
            if out:
                return out


class _Peeked:
    """A binary stream whose first *n* bytes were read ahead (``head``) and are read again."""

    def __init__(self, fileobj: BinaryIO, n: int) -> None:
        self._f = fileobj
        self.head = b""
        while len(self.head) < n and (more := fileobj.read(n - len(self.head))):
            self.head += more
        self._pending = self.head

    def read(self, size: int) -> bytes:
        if self._pending:
            data, self._pending = self._pending[:size], self._pending[size:]
            return data
        return self._f.read(size)

    def close(self) -> None:
        self._f.close()


class Prefetch:
    """Decompress in a background thread while the caller parses (the inflaters release the GIL).

    Same interface as :class:`ByteStream`; at most ``depth`` chunks wait in between, so memory
    stays bounded. The thread gathers small chunks up to ``gather`` bytes (one inflate call gives
    what its compressed slice holds, about 200 KB of JSON; the caller's work per chunk is then done
    once per ``gather`` bytes), once the first ``gather`` bytes went out as they came (progress of a
    small file stays fine-grained). :meth:`pieces` hands a gathered chunk over as its pieces, for a
    caller that appends them to its own buffer anyway: joining them first copied every byte once more
    (200 MB benchmark dump: 1.7 % of verify's CPU). Errors of the stream are raised by :meth:`chunk`
    and :meth:`pieces` in the caller's thread, after every byte decompressed before them.
    """

    def __init__(self, stream: ByteStream, depth: int = 4, gather: int = CHUNK_SIZE) -> None:
        self.stream = stream
        self._gather = gather
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._done = False
        self._position = 0  # compressed position after the last chunk handed out
        self._thread = threading.Thread(target=self._run, name=f"inflate {stream.path.name}", daemon=True)
        self._thread.start()

    @property
    def kind(self) -> str:
        return self.stream.kind

    @property
    def compressed_position(self) -> int:
        return self._position

    def _run(self) -> None:
        pending: list[bytes] = []
        size = 0
        position = 0
        handed = 0
        try:
            while not self._stop.is_set():
                data = self.stream.chunk()
                if data:
                    pending.append(data)
                    size += len(data)
                    position = self.stream.compressed_position
                    if size < self._gather and handed >= self._gather:
                        continue
                if pending:
                    self._put((pending, None, position))
                    handed += size
                    pending, size = [], 0
                if not data:
                    self._put(([], None, self.stream.compressed_position))
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            if pending:
                self._put((pending, None, position))
            self._put(([], exc, self.stream.compressed_position))

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def chunk(self) -> bytes:
        pieces = self.pieces()
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def pieces(self) -> list[bytes]:
        """The next chunk as the pieces the inflater gave (in order; none at the end)."""
        if self._done:
            return []
        pieces, exc, self._position = self._queue.get()
        if exc is not None:
            self._done = True
            raise exc
        if not pieces:
            self._done = True
        return pieces

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.stream.close()

    def __enter__(self) -> Prefetch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def uncompressed_size(path: Path) -> int | None:
    """The decompressed size of a single file (gzip: its ISIZE trailer, trusted below 4 GiB), for the ETA."""
    try:
        if not path.is_file():
            return None
        size = path.stat().st_size
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return size
            f.seek(-4, 2)
            isize = int.from_bytes(f.read(4), "little")
    except OSError:
        return None
    return isize if size < 1 << 30 and isize >= size else None
