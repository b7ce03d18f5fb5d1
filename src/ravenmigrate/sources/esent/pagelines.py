"""Pure twin of ``esent_pages`` (native: ``ext/esent_pages.pyx``): the tag and node loop of an ESE
page and the XOR page checksum. This module is the specification; layout in docs/esent.md "Pages".
"""

from __future__ import annotations

import struct

COMPRESSED = 0x4


def page_lines(buf: bytes, page_size: int, header: int, count: int, root: bool
               ) -> tuple[bytes, list[tuple[int, bytes, bytes]]]:
    """``(external header, [(flags, full key, data), ...])`` of a page's *count* tags.

    *header* is the page header size (40 or 80 bytes); *root* pages have no key prefix. Raises
    ``ValueError`` naming the tag or node that does not fit.
    """
    small = page_size <= 8192
    mask = 0x1FFF if small else 0x7FFF
    end = page_size - 4 * count
    raw_tags = struct.unpack_from(f"<{2 * count}H", buf, end)
    lines: list[tuple[int, bytes, bytes]] = []
    prefix = b""
    for itag in range(count):
        at = 2 * (count - 1 - itag)  # tag 0 is the last 4 bytes of the page
        cb, ib = raw_tags[at], raw_tags[at + 1]
        size, offset = cb & mask, ib & mask
        lo = header + offset
        if lo + size > end:
            raise ValueError(f"tag {itag} (offset {offset}, {size} bytes) runs into the tag array")
        raw = buf[lo:lo + size]
        if small:
            flags = ib >> 13
        else:
            flags = raw[1] >> 5 if size >= 2 else 0
            if size >= 2:
                raw = bytes((raw[0], raw[1] & 0x1F)) + raw[2:]
        if itag == 0:
            prefix = raw
            continue
        if size == 0:
            raise ValueError(f"node {itag - 1} is empty")
        pos = 0
        head = b""
        if flags & COMPRESSED:
            if size < 2:
                raise ValueError(f"node {itag - 1}: shorter than its prefix length")
            cb_prefix = (raw[0] | raw[1] << 8) & 0x1FFF
            page_prefix = b"" if root else prefix
            if cb_prefix > len(page_prefix):
                raise ValueError(f"node {itag - 1}: prefix of {cb_prefix} bytes but the page prefix has "
                                 f"{len(page_prefix)}")
            head = page_prefix[:cb_prefix]
            pos = 2
        if size < pos + 2:
            raise ValueError(f"node {itag - 1}: shorter than its key length")
        cb_suffix = (raw[pos] | raw[pos + 1] << 8) & 0x1FFF
        pos += 2
        if pos + cb_suffix > size:
            raise ValueError(f"node {itag - 1}: key of {cb_suffix} bytes runs past the node ({size} bytes)")
        lines.append((flags, head + raw[pos:pos + cb_suffix], raw[pos + cb_suffix:]))
    return prefix, lines


def xor_checksum(buf: bytes, number: int) -> int:
    """The XOR half of ESE's page checksum (``ChecksumNewFormat``, ``dev/ese/src/checksum/``).

    *number* XOR every little-endian 32-bit word of *buf* after its first 8 bytes (the checksum
    field). For log segments *number* is the segment number.
    """
    x = int.from_bytes(bytes(8) + buf[8:], "little")
    width = len(buf) * 8
    while width > 32:
        width //= 2
        x = (x >> width) ^ (x & ((1 << width) - 1))
    return x ^ number
