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


def split_node(raw: bytes, flags: int, prefix: bytes) -> tuple[bytes, bytes]:
    """``(key, data)`` of one node's bytes; *prefix* is the page's external header."""
    pos = 0
    head = b""
    if flags & COMPRESSED:
        if len(raw) < 2:
            raise PageError("compressed node shorter than its prefix length")
        cb_prefix = (raw[0] | raw[1] << 8) & 0x1FFF
        head = prefix[:cb_prefix]
        if len(head) < cb_prefix:
            raise PageError(f"node prefix of {cb_prefix} bytes but the page prefix has {len(prefix)}")
        pos = 2
    if len(raw) < pos + 2:
        raise PageError("node shorter than its key length")
    cb_suffix = (raw[pos] | raw[pos + 1] << 8) & 0x1FFF
    pos += 2
    if pos + cb_suffix > len(raw):
        raise PageError(f"node key of {cb_suffix} bytes runs past the node ({len(raw)} bytes)")
    return head + raw[pos:pos + cb_suffix], raw[pos + cb_suffix:]


def parse_page(buf: bytes, pgno: int, page_size: int) -> PageImage:
    """Decode page *pgno* from its *page_size* bytes; raises :class:`PageError` when inconsistent."""
    if len(buf) != page_size:
        raise PageError(f"page {pgno}: {len(buf)} bytes, expected {page_size}")
    _, dbtime, prev, nxt, objid, _, _, mic_free, itag_state, flags = PGHDR.unpack_from(buf, 0)
    small = page_size <= 8192
    start = SMALL_HEADER if small else LARGE_HEADER
    mask = 0x1FFF if small else 0x7FFF
    count = itag_state & 0x0FFF
    if count == 0:
        return PageImage(pgno, dbtime, prev, nxt, objid, flags, b"")
    if start + mic_free > page_size or page_size - 4 * count < start:
        raise PageError(f"page {pgno}: {count} tags and {mic_free} bytes of nodes do not fit the page")
    end = page_size
    raw_tags = struct.unpack_from(f"<{2 * count}H", buf, end - 4 * count)
    lines: list[tuple[int, bytes, bytes]] = []
    prefix = b""
    for itag in range(count):
        # Tags are stored from the page end backwards: tag 0 is the last 4 bytes.
        cb, ib = raw_tags[2 * (count - 1 - itag)], raw_tags[2 * (count - 1 - itag) + 1]
        size, offset = cb & mask, ib & mask
        lo = start + offset
        if lo + size > end - 4 * count:
            raise PageError(f"page {pgno}: tag {itag} (offset {offset}, {size} bytes) runs into the tag array")
        raw = buf[lo:lo + size]
        if small:
            nflags = ib >> 13
        else:
            nflags = raw[1] >> 5 if size >= 2 else 0
            if size >= 2:
                raw = bytes((raw[0], raw[1] & 0x1F)) + raw[2:]
        if itag == 0:
            prefix = raw
            continue
        if size == 0:
            raise PageError(f"page {pgno}: node {itag - 1} is empty")
        try:
            key, data = split_node(raw, nflags, b"" if flags & ROOT else prefix)
        except PageError as exc:
            raise PageError(f"page {pgno}, node {itag - 1}: {exc}") from None
        lines.append((nflags, key, data))
    return PageImage(pgno, dbtime, prev, nxt, objid, flags, prefix, lines)


def xor_checksum(buf: bytes, number: int) -> int:
    """The XOR half of ESE's page checksum (``ChecksumNewFormat``, ``dev/ese/src/checksum/``).

    The low 32 bits of the stored 64-bit checksum are the page number (for log segments: the
    segment number) XORed with every 32-bit word of the page after the 8-byte checksum field.
    """
    x = int.from_bytes(bytes(8) + buf[8:], "little")
    width = len(buf) * 8
    while width > 32:
        width //= 2
        x = (x >> width) ^ (x & ((1 << width) - 1))
    return x ^ number


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
