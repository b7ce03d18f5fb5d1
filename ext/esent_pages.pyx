# cython: language_level=3, boundscheck=False, wraparound=False
"""Native twin of ravenmigrate.sources.esent.pagelines (the specification): the tag and node loop
of an ESE page and the XOR page checksum. Same results and the same ValueError messages; layout
in docs/esent.md "Pages"."""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

DEF COMPRESSED = 0x4


cdef inline uint16_t _u16(const uint8_t* p) noexcept nogil:
    return <uint16_t>(p[0] | (p[1] << 8))


def page_lines(bytes buf, int page_size, int header, int count, bint root):
    cdef const uint8_t* b = buf
    cdef Py_ssize_t n = len(buf)
    cdef bint small = page_size <= 8192
    cdef uint16_t mask = 0x1FFF if small else 0x7FFF
    cdef Py_ssize_t end = page_size - 4 * count
    cdef int itag, flags
    cdef Py_ssize_t at, size, offset, lo, pos, cb_prefix, cb_suffix
    cdef uint16_t cb, ib
    cdef bytes prefix = b""
    cdef bytes raw, head
    cdef list lines = []
    if end < 0 or page_size > n:
        raise ValueError(f"{count} tags do not fit a {page_size}-byte page")
    for itag in range(count):
        at = end + 4 * (count - 1 - itag)
        cb = _u16(b + at)
        ib = _u16(b + at + 2)
        size = cb & mask
        offset = ib & mask
        lo = header + offset
        if lo + size > end:
            raise ValueError(f"tag {itag} (offset {offset}, {size} bytes) runs into the tag array")
        raw = buf[lo:lo + size]
        if small:
            flags = ib >> 13
        else:
            flags = (b[lo + 1] >> 5) if size >= 2 else 0
            if size >= 2:
                raw = bytes((b[lo], b[lo + 1] & 0x1F)) + raw[2:]
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
            cb_prefix = (raw[0] | (raw[1] << 8)) & 0x1FFF
            page_prefix = b"" if root else prefix
            if cb_prefix > len(page_prefix):
                raise ValueError(f"node {itag - 1}: prefix of {cb_prefix} bytes but the page prefix has "
                                 f"{len(page_prefix)}")
            head = page_prefix[:cb_prefix]
            pos = 2
        if size < pos + 2:
            raise ValueError(f"node {itag - 1}: shorter than its key length")
        cb_suffix = (raw[pos] | (raw[pos + 1] << 8)) & 0x1FFF
        pos += 2
        if pos + cb_suffix > size:
            raise ValueError(f"node {itag - 1}: key of {cb_suffix} bytes runs past the node ({size} bytes)")
        lines.append((flags, head + raw[pos:pos + cb_suffix], raw[pos + cb_suffix:]))
    return prefix, lines


def xor_checksum(bytes buf, number):
    cdef const uint8_t* b = buf
    cdef Py_ssize_t n = len(buf)
    cdef Py_ssize_t i
    cdef uint32_t acc = 0
    cdef uint32_t w
    cdef uint64_t acc64 = 0
    cdef uint64_t q
    i = 8
    while i + 8 <= n:
        memcpy(&q, b + i, 8)
        acc64 ^= q
        i += 8
    acc = <uint32_t>(acc64 ^ (acc64 >> 32))
    while i + 4 <= n:
        memcpy(&w, b + i, 4)
        acc ^= w
        i += 4
    if i < n:
        w = 0
        memcpy(&w, b + i, n - i)
        acc ^= w
    return acc ^ (<uint32_t>(number & 0xFFFFFFFF))
