"""Read pages: journal images first, then the data file ``Raven.voron`` (mapped read-only).

Page size 4096 (docs/formats/storage-3x.md §4 "Files"). An overflow value starts after the 17-byte header of
its first page and is ``OverflowSize`` bytes long, spanning ``ceil((size + 17) / 4096)`` pages
(docs/formats/storage-3x.md §4 "Overflow").
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

from ...errors import SourceError
from .pages import OVERFLOW, PAGE_HEADER_SIZE, PAGE_SIZE

_PAGE_HEAD = struct.Struct("<qBHHi")
PREAD_FROM = 32 << 10


class Pager:
    """Page access over the data file with the replayed journal pages laid on top."""

    def __init__(self, data_path: Path, overlay: dict[int, memoryview], shown: str) -> None:
        self.shown = shown
        self.overlay = overlay
        self._file = None
        self._map: mmap.mmap | None = None
        self._view: memoryview | None = None
        size = data_path.stat().st_size if data_path.is_file() else 0
        if size:
            self._file = open(data_path, "rb")
            self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
            self._view = memoryview(self._map)
        self.data_pages = size // PAGE_SIZE

    def page(self, number: int) -> memoryview:
        """The page image (for an overflow page from the journal: the whole run)."""
        view = self.overlay.get(number)
        if view is not None:
            return view
        if 0 <= number < self.data_pages and self._view is not None:
            return self._view[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]
        raise SourceError(f"page {number} is in no journal transaction and beyond the data file "
                          f"({self.data_pages} pages)", path=self.shown)

    def checked_page(self, number: int) -> memoryview:
        """:meth:`page`, verifying the page header names the same page number."""
        view = self.page(number)
        stored = _PAGE_HEAD.unpack_from(view, 0)[0]
        if stored != number:
            raise SourceError(f"page {number} carries page number {stored} in its header; the storage is corrupt",
                              path=self.shown)
        return view

    def overflow_value(self, number: int) -> bytes:
        """The value stored in the overflow run starting at page *number*."""
        large = self._read_large(number)
        if large is not None:
            return large
        view = self.checked_page(number)
        _, flags, _, _, size = _PAGE_HEAD.unpack_from(view, 0)
        if not flags & OVERFLOW:
            raise SourceError(f"page {number} should be an overflow page (flags {flags})", path=self.shown)
        end = PAGE_HEADER_SIZE + size
        if len(view) < end:
            if number not in self.overlay and self._view is not None and (number * PAGE_SIZE + end
                                                                          <= self.data_pages * PAGE_SIZE):
                start = number * PAGE_SIZE
                return bytes(self._view[start + PAGE_HEADER_SIZE:start + end])
            raise SourceError(f"overflow value at page {number} ({size} bytes) runs past the stored pages",
                              path=self.shown)
        return bytes(view[PAGE_HEADER_SIZE:end])

    def _read_large(self, number: int) -> bytes | None:
        """A value of :data:`PREAD_FROM` bytes or more in the data file, read with ``pread``; else ``None``.

        Not through the map: every page a map touches (with the kernel's fault-around, its
        neighbours too) stays resident in this process until the map is closed, so the pages of a
        RavenFS file of gigabytes would all count against the process's memory.
        """
        if number in self.overlay or self._file is None or not 0 <= number < self.data_pages:
            return None
        fd = self._file.fileno()
        stored, flags, _, _, size = _PAGE_HEAD.unpack(os.pread(fd, PAGE_HEADER_SIZE, number * PAGE_SIZE))
        if (stored != number or not flags & OVERFLOW or size < PREAD_FROM
                or number * PAGE_SIZE + PAGE_HEADER_SIZE + size > self.data_pages * PAGE_SIZE):
            return None  # the general path checks it and names what is wrong
        return os.pread(fd, size, number * PAGE_SIZE + PAGE_HEADER_SIZE)

    def close(self) -> None:
        self.overlay = {}
        if self._view is not None:
            self._view.release()
            self._view = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass  # a page view is still referenced (e.g. by a traceback); unmapped when it is freed
            self._map = None
        if self._file is not None:
            self._file.close()
            self._file = None
