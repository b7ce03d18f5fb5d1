# cython: language_level=3
"""Native twin of ravenmigrate.sources.voron.pages: CRC32C and the node arrays of Voron pages.

Same results as the pure twin (the specification); layout facts in docs/formats/storage-3x.md §4.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

DEF PAGE_HEADER_SIZE = 17
DEF NODE_HEADER_SIZE = 13
DEF BRANCH = 1
DEF NODE_PAGE_REF = 2

cdef uint32_t _T[8][256]


cdef void _init_tables():
    cdef uint32_t c
    cdef int i, k
    for i in range(256):
        c = i
        for k in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        _T[0][i] = c
    for k in range(1, 8):
        for i in range(256):
            _T[k][i] = (_T[k - 1][i] >> 8) ^ _T[0][_T[k - 1][i] & 0xFF]


_init_tables()


def crc32c(const uint8_t[::1] data, uint32_t crc=0):
    """CRC32C of *data*, continuing from *crc* (slicing-by-8)."""
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t i = 0
    cdef uint32_t c = crc ^ 0xFFFFFFFF
    cdef uint64_t w
    cdef uint32_t lo, hi
    cdef const uint8_t* p
    if n == 0:
        return crc
    p = &data[0]
    with nogil:
        while i + 8 <= n:
            memcpy(&w, p + i, 8)
            lo = c ^ <uint32_t>w
            hi = <uint32_t>(w >> 32)
            c = (_T[7][lo & 0xFF] ^ _T[6][(lo >> 8) & 0xFF] ^ _T[5][(lo >> 16) & 0xFF] ^ _T[4][lo >> 24]
                 ^ _T[3][hi & 0xFF] ^ _T[2][(hi >> 8) & 0xFF] ^ _T[1][(hi >> 16) & 0xFF] ^ _T[0][hi >> 24])
            i += 8
        while i < n:
            c = _T[0][(c ^ p[i]) & 0xFF] ^ (c >> 8)
            i += 1
    return c ^ 0xFFFFFFFF


cdef inline uint16_t _u16(const uint8_t* p, Py_ssize_t off) noexcept nogil:
    cdef uint16_t v
    memcpy(&v, p + off, 2)
    return v


def nodes(const uint8_t[::1] page):
    """Every node of a branch or leaf page in key order as ``(key, flags, ref)`` (see the pure twin)."""
    cdef Py_ssize_t size = page.shape[0]
    if size < PAGE_HEADER_SIZE:
        raise ValueError("page shorter than its header")
    cdef const uint8_t* p = &page[0]
    cdef uint8_t flags = p[8]
    cdef uint16_t lower = _u16(p, 9)
    cdef Py_ssize_t count = (lower - PAGE_HEADER_SIZE) >> 1
    cdef Py_ssize_t i, off, kstart
    cdef uint16_t ksize
    cdef uint8_t nflags
    cdef int64_t number
    cdef int32_t dsize
    cdef list out = []
    cdef bint branch = flags & BRANCH
    if count < 0 or PAGE_HEADER_SIZE + 2 * count > size:
        raise ValueError("node offsets run past the page")
    for i in range(count):
        off = _u16(p, PAGE_HEADER_SIZE + 2 * i)
        if off + NODE_HEADER_SIZE > size:
            raise ValueError("node header runs past the page")
        nflags = p[off + 8]
        ksize = _u16(p, off + 9)
        kstart = off + NODE_HEADER_SIZE
        if kstart + ksize > size:
            raise ValueError("node key runs past the page")
        key = p[kstart:kstart + ksize]
        if branch or nflags == NODE_PAGE_REF:
            memcpy(&number, p + off, 8)
            out.append((key, nflags, number))
        else:
            memcpy(&dsize, p + off, 4)
            if dsize < 0 or kstart + ksize + dsize > size:
                raise ValueError("node value runs past the page")
            out.append((key, nflags, p[kstart + ksize:kstart + ksize + dsize]))
    return out
