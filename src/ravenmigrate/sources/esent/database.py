"""An ESE database file read page by page, with an overlay of pages changed by log replay.

The file header (``DBFILEHDR``, ``dev/ese/src/inc/daedef.hxx``) says the state (3 = clean shutdown,
2 = dirty), the log generations a recovery needs and the database time. Pages are read through
``mmap`` (one page at a time, a bounded cache of decoded pages); pages that replay changed live in
:attr:`EsentFile.overlay` and win over the file. Nothing is ever written to the input.
"""

from __future__ import annotations

import mmap
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from dissect.esedb.c_esedb import c_esedb

from ...errors import SourceError
from .overlay import Overlay
from .pages import DELETED, PageError, PageImage, checksum_ok, parse_page

MAGIC = 0x89ABCDEF
CLEAN_SHUTDOWN = 3
STATES = {1: "JustCreated", 2: "DirtyShutdown", 3: "CleanShutdown", 4: "BeingConverted", 5: "ForceDetach",
          6: "IncrementalReseedInProgress", 7: "DirtyAndPatchedShutdown", 8: "Revert"}
_CACHE_PAGES = 4096
OWN_EXTENT_ROOT = 2


@dataclass(frozen=True, slots=True)
class DatabaseHeader:
    """The fields of ``DBFILEHDR`` a reader needs."""

    page_size: int
    format_version: int
    format_update: int
    state: int
    dbtime: int
    gen_min_required: int
    gen_max_required: int
    log_signature: bytes

    @property
    def state_name(self) -> str:
        return STATES.get(self.state, f"unknown state {self.state}")

    @property
    def clean(self) -> bool:
        return self.state == CLEAN_SHUTDOWN


def read_header(buf: bytes, shown: str) -> DatabaseHeader:
    """Parse the first page of the file (the shadow copy at page 1 is used when page 0 is unreadable)."""
    try:
        hdr = c_esedb.DBFILEHDR(buf)
    except (EOFError, ValueError) as exc:
        raise SourceError(f"not an ESE database: the file header cannot be read ({exc})", path=shown) from exc
    if hdr.ulMagic != MAGIC:
        raise SourceError(f"not an ESE database: header magic {hdr.ulMagic:#x}, expected {MAGIC:#x}", path=shown,
                          offset=4)
    page_size = hdr.cbPageSize or 4096
    if page_size not in (2048, 4096, 8192, 16384, 32768):
        raise SourceError(f"ESE database header gives page size {page_size}", path=shown)
    sign = bytes(c_esedb.SIGNATURE.dumps(hdr.signLog)) if hasattr(c_esedb.SIGNATURE, "dumps") else b""
    return DatabaseHeader(page_size, hdr.ulVersion, hdr.ulDaeUpdateMajor, hdr.dbstate, hdr.dbtimeDirtied,
                          hdr.lGenMinRequired, hdr.lGenMaxRequired, sign)


class EsentFile:
    """A read-only ESE database file: header, pages (file or overlay), B+tree walks."""

    def __init__(self, path: str | os.PathLike[str], shown: str | None = None) -> None:
        self.path = Path(path)
        self.shown = shown or str(path)
        try:
            self._fh = open(self.path, "rb")
        except OSError as exc:
            raise SourceError(f"cannot open the Esent database file ({exc.strerror})", path=self.shown) from exc
        try:
            self.size = os.fstat(self._fh.fileno()).st_size
            if self.size < 8192:
                raise SourceError(f"Esent database file of {self.size} bytes: too short for its two header pages",
                                  path=self.shown)
            self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
            self.header = read_header(self._map[:4096], self.shown)
        except BaseException:
            self._fh.close()
            raise
        self.page_size = self.header.page_size
        self.page_count = self.size // self.page_size - 2
        self.overlay = Overlay()
        self._cache: OrderedDict[int, PageImage] = OrderedDict()
        self.pages_read = 0

    def raw_page(self, pgno: int) -> bytes | None:
        """The file's bytes of page *pgno* (``None`` past the end of the file)."""
        start = (pgno + 1) * self.page_size
        if pgno < 1 or start + self.page_size > self.size:
            return None
        return self._map[start:start + self.page_size]

    def file_page(self, pgno: int) -> PageImage | None:
        """Page *pgno* as the file holds it (``None`` past the end of the file)."""
        cached = self._cache.get(pgno)
        if cached is not None:
            self._cache.move_to_end(pgno)
            return cached
        raw = self.raw_page(pgno)
        if raw is None:
            return None
        if not checksum_ok(raw, pgno):
            raise SourceError(f"database page {pgno} fails its checksum: the page is damaged", path=self.shown,
                              offset=(pgno + 1) * self.page_size)
        try:
            image = parse_page(raw, pgno, self.page_size)
        except PageError as exc:
            raise SourceError(f"damaged database page: {exc}", path=self.shown,
                              offset=(pgno + 1) * self.page_size) from None
        self.pages_read += 1
        self._cache[pgno] = image
        if len(self._cache) > _CACHE_PAGES:
            self._cache.popitem(last=False)
        return image

    def page(self, pgno: int) -> PageImage:
        """Page *pgno* as replay left it (overlay first, then the file)."""
        image = self.overlay.get(pgno)
        if image is not None:
            if self.overlay.over:
                self.overlay.trim()
            return image
        image = self.file_page(pgno)
        if image is None:
            raise SourceError(f"page {pgno} is past the end of the database file ({self.page_count} pages): "
                              "the file is truncated", path=self.shown, offset=self.size)
        return image

    def leaf_lines(self, root: int, *, low: bytes | None = None) -> Iterator[tuple[bytes, bytes, int]]:
        """``(key, data, page number)`` of every live leaf line of the tree at *root*, in key order.

        Lines flagged deleted (``fNDDeleted``: deleted by a committed transaction and not yet
        cleaned up) are skipped. With *low*, the walk starts at the first key ``>= low``.
        """
        stack = [(root, 0)]
        seen = 0
        while stack:
            pgno, depth = stack.pop()
            if depth > 64:
                raise SourceError(f"B+tree at page {root} is deeper than 64 levels: the pages form a cycle",
                                  path=self.shown)
            seen += 1
            if seen > self.page_count + len(self.overlay) + 1:
                raise SourceError(f"B+tree at page {root} visits more pages than the file has: the pages form a cycle",
                                  path=self.shown)
            page = self.page(pgno)
            if page.is_leaf:
                for flags, key, data in page.lines:
                    if flags & DELETED or (low is not None and key < low):
                        continue
                    yield key, data, pgno
                continue
            children = []
            for _, key, data in page.lines:
                if len(data) < 4:
                    raise SourceError(f"branch page {pgno}: a node has {len(data)} data bytes, expected a page number",
                                      path=self.shown)
                # A separator bounds its child from above; children wholly below *low* are skipped.
                if low is not None and key and key < low:
                    continue
                children.append(int.from_bytes(data[:4], "little"))
            stack.extend((child, depth + 1) for child in reversed(children))

    def check_size(self) -> None:
        """Refuse a file shorter than the pages the database owns (its root space tree, page 2).

        The database's own-extent tree (``pgnoSystemRoot`` 1, its OwnExt root 2: ``daedef.hxx``)
        lists extents keyed by their last page number (big-endian); the last one is the file's
        size in pages. A copy cut short loses whatever those pages held, so it is an error.
        """
        if self.page_count < 2:
            raise SourceError("the database file holds no pages after its headers: truncated", path=self.shown)
        last = 0
        for key, _, _ in self.leaf_lines(OWN_EXTENT_ROOT):
            if len(key) >= 4:
                last = max(last, int.from_bytes(key[-4:], "big"))
        if last > self.page_count:
            raise SourceError(f"the database owns pages up to {last} but the file holds {self.page_count}: "
                              f"it is truncated ({(last - self.page_count) * self.page_size:,} bytes missing)",
                              path=self.shown, offset=self.size)

    def locate(self, root: int, key: bytes, data: bytes | None = None) -> tuple[int, int] | None:
        """``(page, line)`` of the leaf line with *key* (and *data*, when given: trees whose keys are not
        unique) in the tree at *root*, deleted lines included; ``None`` when there is none.

        Equal keys may sit on both sides of a separator, so every child whose range can hold *key*
        is searched.
        """
        stack = [(root, 0)]
        while stack:
            pgno, depth = stack.pop()
            if depth > 64:
                return None
            page = self.page(pgno)
            if page.is_leaf:
                for i, (_, k, d) in enumerate(page.lines):
                    if k == key and (data is None or d == data):
                        return pgno, i
                continue
            children = []
            low = b""
            for _, sep, ptr in page.lines:
                if low <= key and (not sep or key <= sep):
                    children.append(int.from_bytes(ptr[:4], "little"))
                if sep and sep > key:
                    break
                low = sep
            stack.extend((c, depth + 1) for c in reversed(children))
        return None

    def seek(self, root: int, key: bytes) -> Iterator[tuple[bytes, bytes, int]]:
        """Live leaf lines of the tree at *root* from the first key ``>= key`` on, in key order."""
        return self.leaf_lines(root, low=key)

    def close(self) -> None:
        self.overlay.close()
        self._map.close()
        self._fh.close()

    def __enter__(self) -> EsentFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
