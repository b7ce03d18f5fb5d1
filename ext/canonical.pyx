# cython: language_level=3, boundscheck=False, wraparound=False
"""Native twin of ravenmigrate.codecs.canonical: the canonical text of JSON, in one pass over the
bytes (no parsed values, no Decimal). Same bytes as the pure twin, same inputs rejected.

Each value is written to a growing buffer as it is read; an object's members are written one
after the other, then put in order of their canonical names (a stable sort, so a repeated name
keeps its last value) and written back in place.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memcmp, memcpy

from ravenmigrate.codecs.canonical import MAX_DEPTH, MAX_EXPONENT, CanonicalError

include "utf8.pxi"


cdef struct Buf:
    char* p
    Py_ssize_t n
    Py_ssize_t cap


cdef struct Member:
    Py_ssize_t start      # the member's canonical name starts here (in the output)
    Py_ssize_t name_end   # and ends here; ':' and the value follow
    Py_ssize_t end
    Py_ssize_t order      # its place in the source (the sort is stable)


cdef int _grow(Buf* b, Py_ssize_t more) except -1:
    cdef Py_ssize_t cap
    cdef char* p
    if b.n + more <= b.cap:
        return 0
    cap = max(b.cap * 2, b.n + more + 256)
    p = <char*>realloc(b.p, cap)
    if p == NULL:
        raise MemoryError()
    b.p = p
    b.cap = cap
    return 0


cdef inline int _put(Buf* b, const char* s, Py_ssize_t k) except -1:
    _grow(b, k)
    memcpy(b.p + b.n, s, k)
    b.n += k
    return 0


cdef inline int _byte(Buf* b, char c) except -1:
    _grow(b, 1)
    b.p[b.n] = c
    b.n += 1
    return 0


cdef const char* _names_base = NULL  # the buffer _by_name compares in (only with the GIL held)


cdef int _by_name(const void* x, const void* y) noexcept nogil:
    cdef const Member* a = <const Member*>x
    cdef const Member* b = <const Member*>y
    cdef Py_ssize_t la = a.name_end - a.start, lb = b.name_end - b.start
    cdef int c = memcmp(_names_base + a.start, _names_base + b.start, la if la < lb else lb)
    if c == 0:
        c = (la > lb) - (la < lb)
    if c == 0:
        c = (a.order > b.order) - (a.order < b.order)
    return c


cdef class _Reader:
    cdef const unsigned char* s
    cdef Py_ssize_t n
    cdef Py_ssize_t i
    cdef object drop  # canonical member names split_canonical leaves out of the metadata

    cdef int fail(self, str what) except -1:
        raise CanonicalError(f"not JSON: {what} at offset {self.i}")

    cdef inline void ws(self) noexcept:
        cdef unsigned char c
        while self.i < self.n:
            c = self.s[self.i]
            if c == 32 or c == 10 or c == 13 or c == 9:
                self.i += 1
            else:
                break

    cdef int value(self, Buf* out, int depth) except -1:
        cdef unsigned char c
        self.ws()
        if self.i >= self.n:
            self.fail("a value expected")
        c = self.s[self.i]
        if c == 123:
            self.obj(out, depth, NULL, 0)
        elif c == 91:
            self.arr(out, depth)
        elif c == 34:
            self.string(out)
        elif c == 45 or 48 <= c <= 57:
            self.number(out)
        elif self._word(b"true", 4):
            _put(out, b"true", 4)
        elif self._word(b"false", 5):
            _put(out, b"false", 5)
        elif self._word(b"null", 4):
            _put(out, b"null", 4)
        else:
            self.fail("a value expected")
        return 0

    cdef inline bint take(self, unsigned char c) noexcept:
        """Consume *c* when it comes next."""
        if self.i < self.n and self.s[self.i] == c:
            self.i += 1
            return True
        return False

    cdef bint _word(self, const char* w, Py_ssize_t k) noexcept:
        if self.i + k <= self.n and memcmp(self.s + self.i, w, k) == 0:
            self.i += k
            return True
        return False

    cdef int arr(self, Buf* out, int depth) except -1:
        if depth >= MAX_DEPTH:
            raise CanonicalError(f"nested deeper than {MAX_DEPTH}")
        self.i += 1
        _byte(out, 91)
        self.ws()
        if not self.take(93):
            while True:
                self.value(out, depth + 1)
                self.ws()
                if not self.take(44):
                    break
                _byte(out, 44)
            if not self.take(93):
                self.fail("',' or ']' expected")
        _byte(out, 93)
        return 0

    cdef int obj(self, Buf* out, int depth, Buf* meta, int split) except -1:
        """An object at depth *depth*. With *split*, the ``@metadata`` member goes to *meta* instead
        (split 1: the body of a document; 2: the metadata itself, dropping the names in ``drop``)."""
        if depth >= MAX_DEPTH:
            raise CanonicalError(f"nested deeper than {MAX_DEPTH}")
        cdef Py_ssize_t start = out.n, count = 0, cap = 16, k, total, w
        cdef Member* members = <Member*>malloc(cap * sizeof(Member))
        cdef Member* grown
        cdef Member* m
        cdef char* tmp
        cdef Py_ssize_t name_start
        if members == NULL:
            raise MemoryError()
        try:
            self.i += 1
            _byte(out, 123)
            self.ws()
            if self.take(125):
                _byte(out, 125)
                return 0
            while True:
                self.ws()
                if self.i >= self.n or self.s[self.i] != 34:
                    self.fail("a member name expected")
                name_start = out.n
                self.string(out)
                self.ws()
                if self.i >= self.n or self.s[self.i] != 58:
                    self.fail("':' expected")
                self.i += 1
                if split == 1 and out.n - name_start == 11 and memcmp(out.p + name_start, b'"@metadata"', 11) == 0:
                    out.n = name_start  # the last @metadata counts, as in a parsed object
                    meta.n = 0
                    self.ws()
                    if self.i < self.n and self.s[self.i] == 123:
                        self.obj(meta, depth + 1, NULL, 2)
                    elif self._word(b"null", 4):
                        _put(meta, b"{}", 2)
                    else:
                        self.value(meta, depth + 1)
                    self.ws()
                else:
                    _byte(out, 58)
                    self.value(out, depth + 1)
                    self.ws()
                    if split == 2 and self._dropped(out.p + name_start):
                        out.n = name_start
                    else:
                        if count == cap:
                            cap *= 2
                            grown = <Member*>realloc(members, cap * sizeof(Member))
                            if grown == NULL:
                                raise MemoryError()
                            members = grown
                        m = members + count
                        m.start = name_start
                        m.end = out.n
                        m.order = count
                        k = name_start + 1
                        while out.p[k] != 34:  # the canonical name ends at its first unescaped quote
                            k += 2 if out.p[k] == 92 else 1
                        m.name_end = k + 1
                        count += 1
                if self.take(44):
                    continue
                if self.take(125):
                    break
                self.fail("',' or '}' expected")
            if count <= 1:  # nothing to order
                _byte(out, 125)
                return 0
            # order the members by name; of equal names keep the last
            global _names_base
            _names_base = out.p
            qsort(members, count, sizeof(Member), _by_name)
            total = out.n - start
            tmp = <char*>malloc(total + count + 2)
            if tmp == NULL:
                raise MemoryError()
            w = 0
            tmp[w] = 123
            w += 1
            for k in range(count):
                m = members + k
                if k + 1 < count and _by_name_equal(out.p, m, members + k + 1):
                    continue
                if w > 1:
                    tmp[w] = 44
                    w += 1
                memcpy(tmp + w, out.p + m.start, m.end - m.start)
                w += m.end - m.start
            tmp[w] = 125
            w += 1
            out.n = start
            try:
                _put(out, tmp, w)
            finally:
                free(tmp)
            return 0
        finally:
            free(members)

    cdef int _dropped(self, const char* member) except -1:
        cdef Py_ssize_t e = 1
        while member[e] != 34:
            e += 2 if member[e] == 92 else 1
        return PyBytes_FromStringAndSize(member, e + 1) in self.drop

    cdef int number(self, Buf* out) except -1:
        cdef Py_ssize_t i = self.i, int_start, int_end, frac_start = 0, frac_end = 0, j
        cdef bint negative = False
        cdef long long exponent = 0, e = 0
        cdef bint e_negative = False
        cdef Py_ssize_t first = -1, last = -1, digits
        cdef char tmp[32]
        if self.s[i] == 45:
            negative = True
            i += 1
        if i >= self.n or not 48 <= self.s[i] <= 57:
            self.i = i
            self.fail("a digit expected")
        int_start = i
        if self.s[i] == 48:
            i += 1
        else:
            while i < self.n and 48 <= self.s[i] <= 57:
                i += 1
        int_end = i
        if i < self.n and self.s[i] == 46:
            i += 1
            frac_start = i
            while i < self.n and 48 <= self.s[i] <= 57:
                i += 1
            frac_end = i
            if frac_end == frac_start:
                self.i = i
                self.fail("a digit expected")
        if i < self.n and (self.s[i] == 101 or self.s[i] == 69):
            i += 1
            if i < self.n and (self.s[i] == 43 or self.s[i] == 45):
                e_negative = self.s[i] == 45
                i += 1
            if i >= self.n or not 48 <= self.s[i] <= 57:
                self.i = i
                self.fail("a digit expected")
            while i < self.n and 48 <= self.s[i] <= 57:
                if e < 10_000_000_000_000:
                    e = e * 10 + (self.s[i] - 48)
                i += 1
            exponent = -e if e_negative else e
        self.i = i
        # the significant digits: integer then fraction digits, without leading and trailing zeros
        for j in range(int_start, int_end):
            if self.s[j] != 48:
                if first < 0:
                    first = j
                last = j
        for j in range(frac_start, frac_end):
            if self.s[j] != 48:
                if first < 0:
                    first = j
                last = j
        if first < 0:
            _put(out, b"0e0", 3)
            return 0
        # value = digits[first..last] * 10 ** (exponent + places after the last digit, negative in the fraction)
        if last < int_end:
            exponent += int_end - 1 - last
        else:
            exponent -= last - frac_start + 1
        if exponent > MAX_EXPONENT or exponent < -MAX_EXPONENT:
            raise CanonicalError("number is out of range")
        if negative:
            _byte(out, 45)
        for j in range(first, last + 1):
            if self.s[j] != 46:  # the digits on both sides of the point
                _byte(out, self.s[j])
        digits = _format_exponent(exponent, tmp)
        _byte(out, 101)
        _put(out, tmp, digits)
        return 0

    cdef int string(self, Buf* out) except -1:
        cdef Py_ssize_t i = self.i + 1, run
        cdef unsigned char c
        cdef unsigned int u = 0, lo
        _byte(out, 34)
        while True:
            run = i
            while i < self.n:
                c = self.s[i]
                if c == 34 or c == 92 or c < 32:
                    break
                i += 1
            if i > run:
                if not _utf8_scan(self.s + run, i - run, True):  # as Python decodes: surrogatepass
                    self.i = run
                    self.fail("invalid UTF-8")
                _put(out, <const char*>(self.s + run), i - run)
            if i >= self.n:
                self.i = i
                self.fail("an unterminated string")
            c = self.s[i]
            if c == 34:
                self.i = i + 1
                _byte(out, 34)
                return 0
            if c < 32:  # a raw control character (accepted, as the readers do)
                _char(out, c)
                i += 1
                continue
            i += 1
            if i >= self.n:
                self.i = i
                self.fail("an unterminated string")
            c = self.s[i]
            i += 1
            if c == 117:
                u = self._hex4(i)
                i += 4
                if 0xD800 <= u <= 0xDBFF and i + 6 <= self.n and self.s[i] == 92 and self.s[i + 1] == 117:
                    lo = self._hex4(i + 2)
                    if 0xDC00 <= lo <= 0xDFFF:
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        i += 6
            elif c == 34 or c == 92 or c == 47:
                u = c
            elif c == 98:
                u = 8
            elif c == 102:
                u = 12
            elif c == 110:
                u = 10
            elif c == 114:
                u = 13
            elif c == 116:
                u = 9
            else:
                self.i = i - 1
                self.fail("an invalid escape")
            _char(out, u)

    cdef unsigned int _hex4(self, Py_ssize_t i) except 0xFFFFFFFF:
        cdef unsigned int u = 0
        cdef unsigned char c
        cdef Py_ssize_t k
        if i + 4 > self.n:
            self.i = i
            self.fail("an invalid \\u escape")
        for k in range(4):
            c = self.s[i + k]
            if 48 <= c <= 57:
                u = u * 16 + (c - 48)
            elif 97 <= c <= 102:
                u = u * 16 + (c - 87)
            elif 65 <= c <= 70:
                u = u * 16 + (c - 55)
            else:
                self.i = i
                self.fail("an invalid \\u escape")
        return u


cdef bint _by_name_equal(const char* base, const Member* a, const Member* b) noexcept:
    cdef Py_ssize_t la = a.name_end - a.start
    return la == b.name_end - b.start and memcmp(base + a.start, base + b.start, la) == 0


cdef Py_ssize_t _format_exponent(long long e, char* tmp) noexcept:
    cdef char rev[24]
    cdef Py_ssize_t k = 0, n = 0
    cdef bint negative = e < 0
    if negative:
        e = -e
    while True:
        rev[k] = <char>(48 + e % 10)
        k += 1
        e //= 10
        if e == 0:
            break
    if negative:
        tmp[n] = 45
        n += 1
    while k:
        k -= 1
        tmp[n] = rev[k]
        n += 1
    return n


cdef int _char(Buf* out, unsigned int u) except -1:
    """The character *u* of a string, as the canonical text writes it."""
    if u < 32:
        return _control(out, u)
    if u == 34:
        return _put(out, b'\\"', 2)
    if u == 92:
        return _put(out, b"\\\\", 2)
    return _utf8(out, u)


cdef int _control(Buf* out, unsigned int c) except -1:
    cdef char esc[6]
    esc[0] = 92
    esc[1] = 117
    esc[2] = 48
    esc[3] = 48
    esc[4] = b"0123456789abcdef"[c >> 4]
    esc[5] = b"0123456789abcdef"[c & 15]
    return _put(out, esc, 6)


cdef int _utf8(Buf* out, unsigned int u) except -1:
    """*u* as UTF-8; a lone surrogate as its three bytes (Python's ``surrogatepass``)."""
    cdef char b[4]
    if u < 0x80:
        b[0] = <char>u
        return _put(out, b, 1)
    if u < 0x800:
        b[0] = <char>(0xC0 | (u >> 6))
        b[1] = <char>(0x80 | (u & 0x3F))
        return _put(out, b, 2)
    if u < 0x10000:
        b[0] = <char>(0xE0 | (u >> 12))
        b[1] = <char>(0x80 | ((u >> 6) & 0x3F))
        b[2] = <char>(0x80 | (u & 0x3F))
        return _put(out, b, 3)
    b[0] = <char>(0xF0 | (u >> 18))
    b[1] = <char>(0x80 | ((u >> 12) & 0x3F))
    b[2] = <char>(0x80 | ((u >> 6) & 0x3F))
    b[3] = <char>(0x80 | (u & 0x3F))
    return _put(out, b, 4)


cdef _Reader _reader(const unsigned char[:] data, object drop):
    cdef _Reader r = _Reader.__new__(_Reader)
    r.n = data.shape[0]
    r.s = &data[0] if r.n else <const unsigned char*>b""
    r.i = 0
    r.drop = drop
    return r


cdef bytes _done(_Reader r, Buf* out):
    r.ws()
    if r.i != r.n:
        r.fail("the end expected")
    return PyBytes_FromStringAndSize(out.p, out.n)


def canonical(const unsigned char[:] data):
    """See ravenmigrate.codecs.canonical.canonical."""
    cdef _Reader r = _reader(data, frozenset())
    cdef Buf out = Buf(NULL, 0, 0)
    try:
        r.value(&out, 0)
        return _done(r, &out)
    finally:
        free(out.p)


def split_canonical(const unsigned char[:] data, drop=frozenset()):
    """See ravenmigrate.codecs.canonical.split_canonical."""
    cdef _Reader r = _reader(data, drop)
    cdef Buf out = Buf(NULL, 0, 0)
    cdef Buf meta = Buf(NULL, 0, 0)
    try:
        r.ws()
        if r.i >= r.n or r.s[r.i] != 123:
            # not an object: the same error as the pure twin (after checking that it is JSON at all)
            r.value(&out, 0)
            _done(r, &out)
            raise CanonicalError("a document must be a JSON object")
        r.obj(&out, 0, &meta, 1)
        body = _done(r, &out)
        return body, (PyBytes_FromStringAndSize(meta.p, meta.n) if meta.n else b"{}")
    finally:
        free(out.p)
        free(meta.p)
