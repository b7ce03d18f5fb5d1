# JSON whitespace, shared by the native twins (``include``): attachrun, expected and dump4_metadata
# step over the blanks between tokens of a record they have already delimited.


cdef inline bint _ws(unsigned char c) noexcept nogil:
    """*c* is JSON whitespace (space, tab, line feed, carriage return)."""
    return c == 32 or c == 9 or c == 10 or c == 13


cdef inline Py_ssize_t _skip(const unsigned char* p, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    """The first position from *i* before *end* that is not JSON whitespace (*end* when none is)."""
    while i < end and _ws(p[i]):
        i += 1
    return i
