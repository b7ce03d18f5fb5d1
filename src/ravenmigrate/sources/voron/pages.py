"""Voron page layout: node arrays of branch and leaf pages, and CRC32C (pure twin of ``voron_pages``).

This module is the specification; ``ext/voron_pages.pyx`` must return identical results.
Layout facts from docs/formats/storage-3x.md §4 ("Page", "Node"): a 17-byte page header (page number i64,
flags u8, Lower u16, Upper u16, OverflowSize i32), then ``(Lower - 17) / 2`` u16 node offsets
sorted by key; a node is a 13-byte header (DataSize i32 / PageNumber i64 union, flags u8,
KeySize u16, Version u16) followed by the key and, for ``Data`` nodes, the inline value.
The journal checksum is CRC32C (Castagnoli, reflected polynomial 0x82F63B78), docs/formats/storage-3x.md §4
"Journal".
"""

from __future__ import annotations

import struct

PAGE_SIZE = 4096
PAGE_HEADER_SIZE = 17
NODE_HEADER_SIZE = 13

# Page flags (docs/formats/storage-3x.md §4 "Page").
BRANCH = 1
LEAF = 2
OVERFLOW = 4
KEYS_PREFIXED = 8
FIXED_SIZE = 16

# Node flags (docs/formats/storage-3x.md §4 "Node"): Data = 1 (value inline), PageRef = 2 (overflow run),
# MultiValuePageRef = 3 (nested tree root, returned like Data).
NODE_PAGE_REF = 2

_HEADER = struct.Struct("<qBHHi")
_NODE = struct.Struct("<qBHH")
_NODE_SIZE = struct.Struct("<i")


def _table() -> list[list[int]]:
    base = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        base.append(c)
    tables = [base]
    for _ in range(7):
        prev = tables[-1]
        tables.append([(prev[i] >> 8) ^ base[prev[i] & 0xFF] for i in range(256)])
    return tables


_T0, _T1, _T2, _T3, _T4, _T5, _T6, _T7 = _table()


def crc32c(data: bytes | memoryview, crc: int = 0) -> int:
    """CRC32C of *data*, continuing from *crc* (slicing-by-8)."""
    c = crc ^ 0xFFFFFFFF
    mv = memoryview(data).cast("B")
    n = len(mv)
    body = n - n % 8
    if body:
        for (w,) in struct.iter_unpack("<Q", mv[:body]):
            x = c ^ (w & 0xFFFFFFFF)
            hi = w >> 32
            c = (
                _T7[x & 0xFF] ^ _T6[(x >> 8) & 0xFF] ^ _T5[(x >> 16) & 0xFF] ^ _T4[x >> 24]
                ^ _T3[hi & 0xFF] ^ _T2[(hi >> 8) & 0xFF] ^ _T1[(hi >> 16) & 0xFF] ^ _T0[hi >> 24]
            )
    t0 = _T0
    for b in mv[body:]:
        c = t0[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def nodes(page: bytes | memoryview) -> list[tuple[bytes, int, int | bytes]]:
    """Every node of a branch or leaf page in key order as ``(key, flags, ref)``.

    ``ref`` is the value bytes of a ``Data`` node, else the page number the node points to
    (child page on branch pages, overflow page for ``PageRef``). ``MultiValuePageRef`` nodes
    carry the nested tree's 62-byte root header as value bytes, like ``Data``. A node array or
    node that runs past the page raises ``ValueError``.
    """
    size = len(page)
    if size < PAGE_HEADER_SIZE:
        raise ValueError("page shorter than its header")
    _, flags, lower, _, _ = _HEADER.unpack_from(page, 0)
    count = (lower - PAGE_HEADER_SIZE) >> 1
    if count < 0 or PAGE_HEADER_SIZE + 2 * count > size:
        raise ValueError("node offsets run past the page")
    offsets = struct.unpack_from(f"<{count}H", page, PAGE_HEADER_SIZE)
    out = []
    branch = flags & BRANCH
    for off in offsets:
        if off + NODE_HEADER_SIZE > size:
            raise ValueError("node header runs past the page")
        number, nflags, ksize, _ = _NODE.unpack_from(page, off)
        kstart = off + NODE_HEADER_SIZE
        if kstart + ksize > size:
            raise ValueError("node key runs past the page")
        key = bytes(page[kstart : kstart + ksize])
        if branch or nflags == NODE_PAGE_REF:
            out.append((key, nflags, number))
        else:
            dsize = _NODE_SIZE.unpack_from(page, off)[0]
            vstart = kstart + ksize
            if dsize < 0 or vstart + dsize > size:
                raise ValueError("node value runs past the page")
            out.append((key, nflags, bytes(page[vstart : vstart + dsize])))
    return out
