# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Native twin of ravenmigrate.convert.attachrun: the legacy elements of common 3.x attachments.

The same rules as the pure twin (its module doc), checked in one pass over each record's bytes in
the reader's buffer; the element is written straight into the run's bytes object. No Python object
is made per attachment.
"""

from libc.string cimport memcpy, memchr
from cpython.buffer cimport PyBuffer_Release, PyObject_GetBuffer, PyBUF_SIMPLE

include "bytes_out.pxi"

RUN_BYTES = 1 << 20
DEF MAX_MEMBERS = 64

cdef struct Member:
    Py_ssize_t ks, ke, vs, ve  # name without its quotes; raw value

cdef signed char B64[256]
cdef int _k
for _k in range(256):
    B64[_k] = -1
cdef bytes _ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
for _k in range(64):
    B64[<unsigned char>_ALPHABET[_k]] = _k


include "json_ws.pxi"


cdef Py_ssize_t _members(const unsigned char* p, Py_ssize_t start, Py_ssize_t end, Member* out) noexcept nogil:
    """The members of the strict object at p[start] spanning p[start:end] (the pure ``_members``);
    their count, or -1."""
    cdef Py_ssize_t i, j, vs, ve, n = 0
    cdef const unsigned char* hit
    if start >= end or p[start] != 123:
        return -1
    i = _skip(p, start + 1, end)
    if i < end and p[i] == 125:
        return 0 if i + 1 == end else -1
    while True:
        if n == MAX_MEMBERS or i >= end or p[i] != 34:
            return -1
        j = i + 1
        while j < end and p[j] != 34 and p[j] != 92 and p[j] >= 0x20:
            j += 1
        if j >= end or p[j] != 34:
            return -1
        out[n].ks = i + 1
        out[n].ke = j
        j = _skip(p, j + 1, end)
        if j >= end or p[j] != 58:
            return -1
        vs = _skip(p, j + 1, end)
        if vs >= end:
            return -1
        if p[vs] == 123:
            hit = <const unsigned char*>memchr(p + vs, 125, end - vs)
            if hit == NULL:
                return -1
            ve = hit - p + 1
        elif p[vs] == 34:  # up to the next quote, which must not follow a backslash in between
            hit = <const unsigned char*>memchr(p + vs + 1, 34, end - vs - 1)
            if hit == NULL or memchr(p + vs + 1, 92, hit - p - vs - 1) != NULL:
                return -1
            ve = hit - p + 1
        else:
            ve = vs
            while ve < end and not _ws(p[ve]) and p[ve] != 44 and p[ve] != 125:
                ve += 1
            if ve == vs:
                return -1
        out[n].vs = vs
        out[n].ve = ve
        n += 1
        i = _skip(p, ve, end)
        if i >= end or (p[i] != 44 and p[i] != 125):
            return -1
        if p[i] == 125:
            return n if _skip(p, i + 1, end) == end else -1
        i = _skip(p, i + 1, end)


cdef inline bint _is(const unsigned char* p, Py_ssize_t s, Py_ssize_t e, const char* text, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    if e - s != n:
        return False
    for k in range(n):
        if p[s + k] != <unsigned char>text[k]:
            return False
    return True


cdef inline unsigned char _lower(unsigned char c) noexcept nogil:
    return c + 32 if 65 <= c <= 90 else c


cdef bint _is_lower(const unsigned char* p, Py_ssize_t s, Py_ssize_t e, const char* text, Py_ssize_t n) noexcept nogil:
    """p[s:e], ASCII letters lower-cased, is *text* (lower case)."""
    cdef Py_ssize_t k
    if e - s != n:
        return False
    for k in range(n):
        if _lower(p[s + k]) != <unsigned char>text[k]:
            return False
    return True


cdef bint _same_lower(const unsigned char* p, Member* a, Member* b) noexcept nogil:
    cdef Py_ssize_t k
    if a.ke - a.ks != b.ke - b.ks:
        return False
    for k in range(a.ke - a.ks):
        if _lower(p[a.ks + k]) != _lower(p[b.ks + k]):
            return False
    return True


cdef bint _plain(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) noexcept nogil:
    """A string value without a backslash or a control character (the value's bytes, quotes included)."""
    cdef Py_ssize_t k
    if e - s < 2 or p[s] != 34 or p[e - 1] != 34:
        return False
    for k in range(s + 1, e - 1):
        if p[k] < 0x20 or p[k] == 92 or p[k] == 34:
            return False
    return True


cdef bint _scalar(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) noexcept nogil:
    cdef Py_ssize_t k, digits, first
    if p[s] == 34:
        return _plain(p, s, e)
    if _is(p, s, e, "true", 4) or _is(p, s, e, "false", 5) or _is(p, s, e, "null", 4) or _is(p, s, e, "0", 1):
        return True
    first = s + 1 if p[s] == 45 else s
    digits = e - first
    if digits < 1 or digits > 18 or not (49 <= p[first] <= 57):
        return False
    for k in range(first + 1, e):
        if not (48 <= p[k] <= 57):
            return False
    return True


cdef bint _alphabet(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """Every byte of p[:n] is of the base64 alphabet (range tests without branches, which the
    compiler vectorises)."""
    cdef Py_ssize_t k
    cdef unsigned char c, ok = 1
    for k in range(n):
        c = p[k]
        ok &= (<unsigned char>(c - 65) < 26) | (<unsigned char>(c - 97) < 26) | (<unsigned char>(c - 48) < 10) | (c == 43) | (c == 47)
    return ok


cdef Py_ssize_t _base64_size(const unsigned char* p, Py_ssize_t s, Py_ssize_t e) noexcept nogil:
    """The decoded size of the quoted canonical base64 at p[s:e], or -1."""
    cdef Py_ssize_t n = e - s - 2, k, pad = 0
    if n < 0 or p[s] != 34 or p[e - 1] != 34 or n % 4:
        return -1
    if n == 0:
        return 0
    s += 1
    if p[s + n - 1] == 61:
        pad = 2 if p[s + n - 2] == 61 else 1
    if not _alphabet(p + s, n - pad):
        return -1
    if pad == 2 and B64[p[s + n - 3]] & 15:
        return -1
    if pad == 1 and B64[p[s + n - 2]] & 3:
        return -1
    return n // 4 * 3 - pad


cdef Py_ssize_t _element(const unsigned char* p, Py_ssize_t start, Py_ssize_t end, unsigned char* out,
                         Py_ssize_t* data_size, bint* no_etag) noexcept nogil:
    """Write the record's element to *out* (room for end - start bytes); its length, or -1 when the
    record is not a common one (the pure ``_one``)."""
    cdef Member top[MAX_MEMBERS]
    cdef Member meta[MAX_MEMBERS]
    cdef Py_ssize_t n, m, a, b, w, size, length
    cdef Member* data = NULL
    cdef Member* metadata = NULL
    cdef Member* key = NULL
    cdef Member* etag = NULL
    cdef Member* x
    cdef Member** slot
    n = _members(p, start, end, top)
    if n < 0:
        return -1
    for a in range(n):
        x = &top[a]
        if _is(p, x.ks, x.ke, "Data", 4):
            slot = &data
        elif _is(p, x.ks, x.ke, "Metadata", 8):
            slot = &metadata
        elif _is(p, x.ks, x.ke, "Key", 3):
            slot = &key
        elif _is(p, x.ks, x.ke, "Etag", 4):
            slot = &etag
        else:
            return -1
        if slot[0] != NULL:  # given twice
            return -1
        slot[0] = x
    if data == NULL or metadata == NULL or key == NULL:
        return -1
    if not _plain(p, key.vs, key.ve):
        return -1
    length = key.ve - key.vs
    if ((length >= 10 and _is(p, key.ve - 10, key.ve, '.deleting"', 10))
            or (length >= 13 and _is(p, key.ve - 13, key.ve, '.downloading"', 13))):
        return -1
    if etag != NULL and not _plain(p, etag.vs, etag.ve) and not _is(p, etag.vs, etag.ve, "null", 4):
        return -1
    size = _base64_size(p, data.vs, data.ve)
    if size < 0 or p[metadata.vs] != 123:
        return -1
    m = _members(p, metadata.vs, metadata.ve, meta)
    if m < 0:
        return -1
    for a in range(m):
        x = &meta[a]
        if _is_lower(p, x.ks, x.ke, b"raven-delete-marker", 19) or not _scalar(p, x.vs, x.ve):
            return -1
        for b in range(a):
            if _same_lower(p, x, &meta[b]):
                return -1
    memcpy(out, b'{"Key":', 7)
    w = 7
    memcpy(out + w, p + key.vs, key.ve - key.vs)
    w += key.ve - key.vs
    memcpy(out + w, b',"Metadata":{', 13)
    w += 13
    for a in range(m):
        x = &meta[a]
        if a:
            out[w] = 44
            w += 1
        memcpy(out + w, p + x.ks - 1, x.ke - x.ks + 2)
        w += x.ke - x.ks + 2
        out[w] = 58
        w += 1
        memcpy(out + w, p + x.vs, x.ve - x.vs)
        w += x.ve - x.vs
    memcpy(out + w, b'},"Data":', 9)
    w += 9
    memcpy(out + w, p + data.vs, data.ve - data.vs)
    w += data.ve - data.vs
    out[w] = 125
    w += 1
    data_size[0] = size
    no_etag[0] = etag == NULL or p[etag.vs] != 34
    return w


def legacy_run(buf, list items, Py_ssize_t first, Py_ssize_t stop):
    """See the pure twin: ``(elements, stop, data_bytes, null_etags)``."""
    cdef Py_buffer view
    cdef PyObject* out = NULL
    cdef Py_ssize_t i = first, start, end, capacity = 0, w = 0, length, size, data_bytes = 0, null_etags = 0
    cdef bint no_etag
    cdef Py_ssize_t run_bytes = RUN_BYTES
    cdef const unsigned char* p
    PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
    try:
        p = <const unsigned char*>view.buf
        capacity = 1 << 16
        out = out_new(capacity)
        while i < stop and w < run_bytes:
            start, end = items[i][0], items[i][1]
            if w + (end - start) + 1 > capacity:
                capacity = max(2 * capacity, w + (end - start) + 1)
                if _bytes_resize(&out, capacity) < 0:
                    out = NULL
                    raise MemoryError()
            length = _element(p, start, end, <unsigned char*>_bytes_data(out) + w + (1 if w else 0), &size, &no_etag)
            if length < 0:
                break
            if w:
                _bytes_data(out)[w] = 44
                w += 1
            w += length
            data_bytes += size
            null_etags += no_etag
            i += 1
        elements = out_done(&out, w)
    finally:
        if out != NULL:
            out_drop(out)
        PyBuffer_Release(&view)
    return elements, i, data_bytes, null_etags
