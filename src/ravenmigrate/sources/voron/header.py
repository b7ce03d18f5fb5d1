"""Voron file headers (``headers.one`` / ``headers.two``) and tree root headers.

Layouts from docs/formats/storage-3x.md §4 ("FileHeader", "TreeRootHeader"): packed little-endian structs,
magic ``0xB16BAADC0DEF0015``, version 4; the valid header with the higher revision wins.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...errors import SourceError

FILE_HEADER_MAGIC = 0xB16BAADC0DEF0015
VORON_VERSION = 4
FILE_HEADER_SIZE = 216

_TREE_ROOT = struct.Struct("<qqqqqqqiBB")
_FILE_HEAD = struct.Struct("<Qiqqq")
_JOURNAL_INFO = struct.Struct("<qiqq")


@dataclass(frozen=True, slots=True)
class TreeRootHeader:
    """Where a B+tree starts and how big it is (62 bytes, docs/formats/storage-3x.md §4).

    Root page i64 @0, page counters @8..@40 (kept as read), entries i64 @48, depth i32 @56,
    flags u8 @60, keys-prefixing bool @61.
    """

    root_page: int
    page_counters: tuple[int, ...]
    entries: int
    depth: int
    flags: int
    keys_prefixed: bool

    @classmethod
    def parse(cls, buf: bytes | memoryview, offset: int = 0) -> TreeRootHeader:
        root, c1, c2, c3, c4, c5, entries, depth, flags, prefixed = _TREE_ROOT.unpack_from(buf, offset)
        return cls(root, (c1, c2, c3, c4, c5), entries, depth, flags, bool(prefixed))


@dataclass(frozen=True, slots=True)
class FileHeader:
    """One of the two alternating file headers (docs/formats/storage-3x.md §4 "FileHeader")."""

    name: str
    revision: int
    last_synced_tx: int
    last_page: int
    free_space: TreeRootHeader
    root: TreeRootHeader
    current_journal: int
    journal_files_count: int
    last_synced_journal: int
    last_synced_journal_tx: int

    @property
    def journal_numbers(self) -> range:
        """Journals recovery reads: ``CurrentJournal - JournalFilesCount + 1 .. CurrentJournal`` (§4 "Recovery")."""
        return range(self.current_journal - self.journal_files_count + 1, self.current_journal + 1)


def parse_file_header(name: str, raw: bytes, shown: str | None = None) -> FileHeader | None:
    """The header in *raw* (file *name* of storage *shown*), or ``None`` when it is too short or lacks the magic."""
    if len(raw) < FILE_HEADER_SIZE:
        return None
    magic, version, revision, last_tx, last_page = _FILE_HEAD.unpack_from(raw, 0)
    if magic != FILE_HEADER_MAGIC:
        return None
    if version != VORON_VERSION:
        raise SourceError(f"{name}: Voron header version {version}, expected {VORON_VERSION} (RavenDB 3.x)",
                          path=shown)
    current, count, synced_journal, synced_tx = _JOURNAL_INFO.unpack_from(raw, 160)
    return FileHeader(
        name=name,
        revision=revision,
        last_synced_tx=last_tx,
        last_page=last_page,
        free_space=TreeRootHeader.parse(raw, 36),
        root=TreeRootHeader.parse(raw, 98),
        current_journal=current,
        journal_files_count=count,
        last_synced_journal=synced_journal,
        last_synced_journal_tx=synced_tx,
    )


def choose_header(headers: dict[str, bytes], shown: str | None = None) -> FileHeader:
    """The valid header with the higher revision (``HeaderAccessor``, docs/formats/storage-3x.md §4)."""
    valid = [h for h in (parse_file_header(n, raw, shown) for n, raw in headers.items()) if h is not None]
    if not valid:
        raise SourceError(
            f"no valid Voron file header (magic {FILE_HEADER_MAGIC:#x}) in {', '.join(sorted(headers)) or 'none'}",
            path=shown,
        )
    return max(valid, key=lambda h: h.revision)
