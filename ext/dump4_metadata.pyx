# cython: language_level=3
"""Native twin of ravenmigrate.sinks.dump4.metadata: where a document's own ``@metadata`` closes.

Fast path in C: walk back from the document's closing brace over the last member (strings
skipped by their unescaped opening quote) and check that its key is ``"@metadata"``. Anything
else (metadata not last, not an object, escaped key) goes to the pure twin, so both give the
same answer.
"""

from ravenmigrate.sinks.dump4 import metadata as _pure

cdef bytes KEY = b'"@metadata"'


include "json_ws.pxi"


cdef Py_ssize_t _skip_back(const unsigned char* p, Py_ssize_t i):
    while i >= 0 and _ws(p[i]):
        i -= 1
    return i


cdef Py_ssize_t _string_start(const unsigned char* p, Py_ssize_t i):
    """Index of the quote opening the string whose closing quote is at *i* (-1 if none)."""
    cdef Py_ssize_t j, slashes
    i -= 1
    while i >= 0:
        if p[i] == 34:
            slashes = 0
            j = i - 1
            while j >= 0 and p[j] == 92:
                slashes += 1
                j -= 1
            if slashes % 2 == 0:
                return i
        i -= 1
    return -1


def metadata_close(bytes data):
    cdef const unsigned char* p = data
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t i, close, opening, depth = 0
    cdef unsigned char c
    i = _skip_back(p, n - 1)
    if i < 1 or p[i] != 125:
        return _pure.metadata_close(data)
    i = _skip_back(p, i - 1)
    if i < 0 or p[i] != 125:
        return _pure.metadata_close(data)
    close = i
    while i >= 0:
        c = p[i]
        if c == 34:
            i = _string_start(p, i)
            if i < 0:
                return _pure.metadata_close(data)
        elif c == 125 or c == 93:
            depth += 1
        elif c == 123 or c == 91:
            depth -= 1
            if depth == 0:
                break
        i -= 1
    if i < 0 or p[i] != 123:
        return _pure.metadata_close(data)
    opening = i
    i = _skip_back(p, opening - 1)
    if i < 0 or p[i] != 58:
        return _pure.metadata_close(data)
    i = _skip_back(p, i - 1)
    if i < 10 or data[i - 10:i + 1] != KEY:
        return _pure.metadata_close(data)
    i = _skip_back(p, i - 11)
    if i < 0 or (p[i] != 44 and p[i] != 123):
        return _pure.metadata_close(data)
    return close, _skip_back(p, close - 1) == opening
