"""Replay Voron write-ahead journals in memory (docs/formats/storage-3x.md §4 "Journal" and "Recovery").

Each transaction starts on a 4 KB page with a TransactionHeader (marker ``0x1A4C92AD90ABC123``,
tx id, PageCount, CRC32C, root and free-space TreeRootHeaders, TxMarker, Compressed,
CompressedSize, UncompressedSize), followed by ``ceil(CompressedSize / 4096)`` pages holding a raw
LZ4 block that expands to the transaction's page images. The CRC32C covers the zero-padded
compressed pages. Recovery reads journals ``CurrentJournal - JournalFilesCount + 1 ..
CurrentJournal`` in order, skips transactions already synced into the data file, and lets the last
image of a page win; the last transaction's root header becomes the root tree.

The journal files are only read (``mmap`` read-only). A missing journal, a transaction that is not
committed, out of sequence, truncated, fails its checksum or does not decompress stops the read
with a :class:`SourceError` naming the journal file, its offset and the transaction id.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import lz4.block

from ...errors import SourceError
from .files import journal_name
from .header import FileHeader, TreeRootHeader
from .pages import OVERFLOW, PAGE_HEADER_SIZE, PAGE_SIZE

TX_MARKER = 0x1A4C92AD90ABC123
TX_COMMIT = 4
_TX_HEADER = struct.Struct("<QqqqiiI")
_TX_TAIL = struct.Struct("<BBii")
_PAGE_HEAD = struct.Struct("<qBHHi")


@dataclass
class Replay:
    """The result of journal recovery: page images that override the data file, and the root tree."""

    pages: dict[int, memoryview] = field(default_factory=dict)
    root: TreeRootHeader | None = None
    journals: list[str] = field(default_factory=list)
    transactions: int = 0
    first_tx: int | None = None
    last_tx: int | None = None


def replay_journals(header: FileHeader, journals_dir: Path, shown: str, native: ModuleType) -> Replay:
    """Replay every committed transaction of the header's journals, in memory."""
    result = Replay()
    expected: int | None = None
    for number in header.journal_numbers:
        path = journals_dir / journal_name(number)
        if not path.is_file():
            raise SourceError(
                f"journal {path.name} is missing from {journals_dir} (header {header.name} lists journals "
                f"{header.journal_numbers.start}..{header.journal_numbers.stop - 1}); without it recent "
                "transactions would be lost",
                path=shown,
            )
        result.journals.append(path.name)
        expected = _replay_one(path, header, result, expected, shown, native)
    return result


def _replay_one(path: Path, header: FileHeader, result: Replay, expected: int | None, shown: str,
                native: ModuleType) -> int | None:
    with open(path, "rb") as fh:
        size = path.stat().st_size
        if size == 0:
            return expected
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            offset = 0
            while offset + PAGE_SIZE <= size:
                marker, tx_id, _next, _last, page_count, _overflow, crc = _TX_HEADER.unpack_from(mm, offset)
                if marker != TX_MARKER:
                    break
                where = f"journal {path.name} at offset {offset}, transaction {tx_id}"
                if expected is not None and tx_id != expected:
                    raise SourceError(f"{where}: out of sequence, expected transaction {expected}", path=shown)
                tx_marker, compressed, csize, usize = _TX_TAIL.unpack_from(mm, offset + 168)
                if not tx_marker & TX_COMMIT:
                    raise SourceError(f"{where}: not committed (TxMarker {tx_marker}); the journal is torn",
                                      path=shown)
                stored = csize if compressed else page_count * PAGE_SIZE
                padded = -(-stored // PAGE_SIZE) * PAGE_SIZE
                start = offset + PAGE_SIZE
                if stored < 0 or start + padded > size:
                    raise SourceError(f"{where}: truncated ({padded} bytes of pages announced, "
                                      f"{size - start} left)", path=shown)
                body = memoryview(mm)[start:start + padded]
                try:
                    actual = native.crc32c(body)
                    if actual != crc:
                        raise SourceError(f"{where}: CRC32C mismatch (stored {crc:#010x}, computed {actual:#010x}); "
                                          "the journal is corrupt", path=shown)
                    if tx_id > header.last_synced_journal_tx:
                        images = _images(body, compressed, csize, usize, page_count, where, shown)
                        _overlay(images, result.pages, where, shown)
                        result.root = TreeRootHeader.parse(mm, offset + 44)
                        result.transactions += 1
                        if result.first_tx is None:
                            result.first_tx = tx_id
                        result.last_tx = tx_id
                finally:
                    body.release()
                expected = tx_id + 1
                offset = start + padded
    return expected


def _images(body: memoryview, compressed: int, csize: int, usize: int, page_count: int, where: str,
            shown: str) -> memoryview:
    if not compressed:
        return memoryview(bytes(body[: page_count * PAGE_SIZE]))
    try:
        raw = lz4.block.decompress(body[:csize], uncompressed_size=usize)
    except lz4.block.LZ4BlockError as exc:
        raise SourceError(f"{where}: LZ4 block does not decompress ({exc})", path=shown) from exc
    if len(raw) != usize or usize % PAGE_SIZE:
        raise SourceError(f"{where}: decompressed {len(raw)} bytes, expected {usize} (whole pages)", path=shown)
    return memoryview(raw)


def _overlay(images: memoryview, pages: dict[int, memoryview], where: str, shown: str) -> None:
    """Map each page image (an overflow run spans several pages) to its page number; last one wins."""
    total = len(images) // PAGE_SIZE
    i = 0
    while i < total:
        number, flags, _, _, overflow_size = _PAGE_HEAD.unpack_from(images, i * PAGE_SIZE)
        count = -(-(overflow_size + PAGE_HEADER_SIZE) // PAGE_SIZE) if flags & OVERFLOW else 1
        if i + count > total or number < 0:
            raise SourceError(f"{where}: page image {i} (page {number}) runs past the transaction", path=shown)
        pages[number] = images[i * PAGE_SIZE:(i + count) * PAGE_SIZE]
        i += count
