"""ESE database pages as lines: header fields, external header (tag 0) and nodes (docs/esent.md "Pages").

Layout from ESE's ``dev/ese/src/inc/cpage.hxx`` (``CPAGE::PGHDR``, tags) and ``node.hxx``
(``fNDVersion``/``fNDDeleted``/``fNDCompressed``): a 40-byte header (80 bytes on pages over 8 KB),
node data growing up from the header, and a tag array of (size, offset) pairs growing down from the
page end. Tag 0 is the external header (the key prefix on non-root pages); tags 1.. are the nodes
(*lines*; ``iline`` = tag - 1), each ``[prefix length] suffix length, suffix, data``.

A :class:`PageImage` is what the table reader walks and what log replay edits (copy-on-write).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ... import _twins

_twins.register("esent_pages", "ravenmigrate.sources.esent.pagelines")
_LINES = _twins.load("esent_pages")

PGHDR = struct.Struct("<QqIIIHHHHI")
SMALL_HEADER = 40
LARGE_HEADER = 80

# Page flags (cpage.hxx fPage*).
ROOT, LEAF, PARENT_OF_LEAF, EMPTY = 0x1, 0x2, 0x4, 0x8
SPACE_TREE, INDEX, LONG_VALUE = 0x20, 0x40, 0x80
NEW_RECORD_FORMAT = 0x800
NEW_CHECKSUM_FORMAT = 0x2000

# Node flags (node.hxx).
VERSIONED, DELETED, COMPRESSED = 0x1, 0x2, 0x4


class PageError(ValueError):
    """A page whose bytes do not hold together (names the page and what is wrong)."""


@dataclass(slots=True)
class PageImage:
    """One page: header fields, external header and lines ``(flags, key, data)`` with full keys."""

    pgno: int
    dbtime: int
    prev: int
    next: int
    objid: int
    flags: int
    prefix: bytes
    lines: list[tuple[int, bytes, bytes]] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return bool(self.flags & LEAF)

    @property
    def is_root(self) -> bool:
        return bool(self.flags & ROOT)

    def copy(self) -> PageImage:
        return PageImage(self.pgno, self.dbtime, self.prev, self.next, self.objid, self.flags, self.prefix,
                         list(self.lines))


def parse_page(buf: bytes, pgno: int, page_size: int) -> PageImage:
    """Decode page *pgno* from its *page_size* bytes; raises :class:`PageError` when inconsistent."""
    if len(buf) != page_size:
        raise PageError(f"page {pgno}: {len(buf)} bytes, expected {page_size}")
    _, dbtime, prev, nxt, objid, _, _, mic_free, itag_state, flags = PGHDR.unpack_from(buf, 0)
    start = SMALL_HEADER if page_size <= 8192 else LARGE_HEADER
    count = itag_state & 0x0FFF
    if count == 0:
        return PageImage(pgno, dbtime, prev, nxt, objid, flags, b"")
    if start + mic_free > page_size or page_size - 4 * count < start:
        raise PageError(f"page {pgno}: {count} tags and {mic_free} bytes of nodes do not fit the page")
    try:
        prefix, lines = _LINES.page_lines(buf, page_size, start, count, bool(flags & ROOT))
    except ValueError as exc:
        raise PageError(f"page {pgno}: {exc}") from None
    return PageImage(pgno, dbtime, prev, nxt, objid, flags, prefix, lines)


xor_checksum = _LINES.xor_checksum


def stored_checksum(buf: bytes) -> int:
    return int.from_bytes(buf[:4], "little")


def checksum_ok(buf: bytes, pgno: int) -> bool:
    """A database page's checksum holds (never-written all-zero pages have none).

    Pages flagged ``fPageNewChecksumFormat`` (0x2000) carry the new format; older pages the old one
    (``ChecksumOldFormat``: ``0x89ABCDEF`` XOR every 32-bit word after the first).
    """
    stored = stored_checksum(buf)
    if int.from_bytes(buf[36:40], "little") & NEW_CHECKSUM_FORMAT:
        return xor_checksum(buf, pgno) == stored
    if not buf.strip(b"\0"):
        return True
    return xor_checksum(bytes(4) + buf[4:], 0x89ABCDEF) == stored
