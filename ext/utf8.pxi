# Strict UTF-8 validation shared by the native twins (``include``): bson decides whether a string
# can be emitted as it is, docrun whether a value leaves the fast lane.
from libc.stdint cimport uint64_t
from libc.string cimport memcpy


cdef inline bint _utf8_valid(const unsigned char* s, Py_ssize_t k) noexcept nogil:
    """Strict UTF-8 as Python's decoder accepts it (no surrogates, overlongs or > U+10FFFF)."""
    return _utf8_scan(s, k, False)


cdef bint _utf8_scan(const unsigned char* s, Py_ssize_t k, bint surrogates) noexcept nogil:
    """UTF-8 as Python's decoder accepts it; with *surrogates* also encoded surrogates (U+D800 to
    U+DFFF), as the ``surrogatepass`` error handler does."""
    cdef Py_ssize_t i = 0
    cdef unsigned char c, lo, hi
    cdef int extra, j
    cdef uint64_t word
    while i < k:
        if i + 8 <= k:  # ASCII runs (ids, names, dates) eight bytes at a time
            memcpy(&word, s + i, 8)
            if not (word & 0x8080808080808080ULL):
                i += 8
                continue
        c = s[i]
        if c < 0x80:
            i += 1
            continue
        lo = 0x80
        hi = 0xBF
        if 0xC2 <= c <= 0xDF:
            extra = 1
        elif c == 0xE0:
            extra = 2
            lo = 0xA0
        elif 0xE1 <= c <= 0xEC or c == 0xEE or c == 0xEF:
            extra = 2
        elif c == 0xED:
            extra = 2
            if not surrogates:
                hi = 0x9F
        elif c == 0xF0:
            extra = 3
            lo = 0x90
        elif 0xF1 <= c <= 0xF3:
            extra = 3
        elif c == 0xF4:
            extra = 3
            hi = 0x8F
        else:
            return False
        if i + extra >= k:
            return False
        if not (lo <= s[i + 1] <= hi):
            return False
        for j in range(2, extra + 1):
            if not (0x80 <= s[i + j] <= 0xBF):
                return False
        i += extra + 1
    return True
