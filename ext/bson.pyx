# cython: language_level=3
"""Native twin of ravenmigrate.codecs.bson: RavenDB-BSON → compact JSON in one pass over the bytes.

The pure twin is the specification (docs/formats/dumps-3x.md §11.1; rendering rules in its docstring). Hot
element types (documents, arrays, strings, int32/int64, double, float32, date, bool, null) are
rendered here straight into a byte buffer; rare ones (decimal, binary, ObjectId, regex) reuse the
pure helpers, so the output is byte-identical by construction. Errors carry the same messages.
"""

import base64

from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.math cimport isinf, isnan
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.stdio cimport snprintf
from libc.stdlib cimport free, malloc, realloc, strtod
from libc.string cimport memchr, memcpy

from ravenmigrate.codecs.bson import format_decimal, quote

cdef int64_t MIN_MS = -62135596800000  # 0001-01-01T00:00:00
cdef int64_t MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999
cdef const char* HEX = b"0123456789abcdef"
cdef const char* SHORT_ESCAPES = b"btn?fr"  # \b \t \n (0x0B unused) \f \r


cdef class _Walker:
    cdef bytes data
    cdef const uint8_t* d
    cdef Py_ssize_t size
    cdef char* buf
    cdef Py_ssize_t n
    cdef Py_ssize_t cap

    def __cinit__(self, bytes data):
        self.data = data
        self.d = <const uint8_t*>(<const char*>data)
        self.size = len(data)
        self.cap = 256 + 2 * self.size
        self.n = 0
        self.buf = <char*>malloc(self.cap)
        if self.buf == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.buf)

    cdef int reserve(self, Py_ssize_t extra) except -1:
        cdef char* grown
        cdef Py_ssize_t want = self.n + extra
        if want <= self.cap:
            return 0
        while self.cap < want:
            self.cap *= 2
        grown = <char*>realloc(self.buf, self.cap)
        if grown == NULL:
            raise MemoryError()
        self.buf = grown
        return 0

    cdef inline int put(self, const char* s, Py_ssize_t k) except -1:
        self.reserve(k)
        memcpy(self.buf + self.n, s, k)
        self.n += k
        return 0

    cdef inline int putc(self, char c) except -1:
        self.reserve(1)
        self.buf[self.n] = c
        self.n += 1
        return 0

    cdef int put_str(self, str s) except -1:
        b = s.encode("utf-8")
        return self.put(<const char*>b, len(b))

    cdef fail(self, Py_ssize_t pos, str msg):
        return ValueError(f"BSON offset {pos}: {msg}")

    cdef int need(self, Py_ssize_t pos, Py_ssize_t k) except -1:
        if k < 0 or pos + k > self.size:
            raise self.fail(pos, f"needs {k} bytes but only {self.size - pos} remain")
        return 0

    cdef int32_t int32(self, Py_ssize_t pos) except? -1:
        self.need(pos, 4)
        cdef const uint8_t* q = self.d + pos
        return <int32_t>(<uint32_t>q[0] | (<uint32_t>q[1] << 8) | (<uint32_t>q[2] << 16) | (<uint32_t>q[3] << 24))

    cdef int64_t int64(self, Py_ssize_t pos) except? -1:
        self.need(pos, 8)
        cdef int64_t v
        memcpy(&v, self.d + pos, 8)
        return v

    cdef Py_ssize_t cstring_end(self, Py_ssize_t pos) except -1:
        cdef const void* hit = NULL
        if pos < self.size:
            hit = memchr(self.d + pos, 0, self.size - pos)
        if hit == NULL:
            raise self.fail(pos, "unterminated name (no NUL byte)")
        return <const uint8_t*>hit - self.d

    cdef Py_ssize_t string_end(self, Py_ssize_t p) except -1:
        """Checks a length-prefixed string at p; returns the offset after its NUL."""
        cdef int32_t k = self.int32(p)
        if k < 1:
            raise self.fail(p, f"string length {k} < 1")
        self.need(p + 4, k)
        if self.d[p + 3 + k] != 0:
            raise self.fail(p + 3 + k, "string is not NUL-terminated")
        return p + 4 + k

    cdef int emit_string(self, Py_ssize_t start, Py_ssize_t k) except -1:
        cdef const uint8_t* s = self.d + start
        cdef Py_ssize_t i = 0
        cdef uint8_t c
        if not _utf8_valid(s, k):
            return self.put_str(quote(self.data[start : start + k].decode("utf-8", "replace")))
        self.reserve(6 * k + 2)
        self.buf[self.n] = b'"'
        self.n += 1
        while i < k:
            c = s[i]
            if c < 0x20 or c == 0x22 or c == 0x5C:
                self.buf[self.n] = b"\\"
                if c == 0x22 or c == 0x5C:
                    self.buf[self.n + 1] = c
                    self.n += 2
                elif c == 0x08 or c == 0x09 or c == 0x0A or c == 0x0C or c == 0x0D:
                    self.buf[self.n + 1] = SHORT_ESCAPES[c - 8]
                    self.n += 2
                else:
                    memcpy(self.buf + self.n + 1, b"u00", 3)
                    self.buf[self.n + 4] = HEX[c >> 4]
                    self.buf[self.n + 5] = HEX[c & 15]
                    self.n += 6
                i += 1
            elif c == 0xC2 and s[i + 1] == 0x85:
                memcpy(self.buf + self.n, b"\\u0085", 6)
                self.n += 6
                i += 2
            elif c == 0xE2 and s[i + 1] == 0x80 and (s[i + 2] == 0xA8 or s[i + 2] == 0xA9):
                memcpy(self.buf + self.n, b"\\u202", 5)
                self.buf[self.n + 5] = b"8" if s[i + 2] == 0xA8 else b"9"
                self.n += 6
                i += 3
            else:
                self.buf[self.n] = c
                self.n += 1
                i += 1
        self.buf[self.n] = b'"'
        self.n += 1
        return 0

    cdef int emit_number(self, double v, bint single) except -1:
        cdef char tmp[40]
        cdef int k, i
        cdef bint mark = False
        cdef float y
        cdef double back
        if isnan(v):
            return self.put(b'"NaN"', 5)
        if isinf(v):
            return self.put(b'"Infinity"', 10) if v > 0 else self.put(b'"-Infinity"', 11)
        k = snprintf(tmp, 40, b"%.7g" if single else b"%.15g", v)
        back = strtod(tmp, NULL)
        if single:
            y = <float>back
            if (isinf(y) and not isinf(back)) or <double>y != v:
                k = snprintf(tmp, 40, b"%.9g", v)
        elif back != v:
            k = snprintf(tmp, 40, b"%.17g", v)
        for i in range(k):
            if tmp[i] == b"e":
                tmp[i] = b"E"
                mark = True
            elif tmp[i] == b".":
                mark = True
        self.put(tmp, k)
        if not mark:
            self.put(b".0", 2)
        return 0

    cdef int emit_date(self, Py_ssize_t p, int64_t ms) except -1:
        cdef char tmp[48]
        cdef int64_t days, rem, z, era, doe, yoe, y, doy, mp, dd, mm
        if ms < MIN_MS or ms > MAX_MS:
            raise self.fail(p, f"date {ms} ms since 1970 is outside years 1..9999")
        days = ms // 86400000
        rem = ms % 86400000
        z = days + 719468  # civil-from-days over 400-year eras (proleptic Gregorian)
        era = z // 146097
        doe = z - era * 146097
        yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
        y = yoe + era * 400
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        dd = doy - (153 * mp + 2) // 5 + 1
        mm = mp + 3 if mp < 10 else mp - 9
        if mm <= 2:
            y += 1
        k = snprintf(tmp, 48, b'"%04d-%02d-%02dT%02d:%02d:%02d.%03d0000"', <int>y, <int>mm, <int>dd,
                     <int>(rem // 3600000), <int>(rem // 60000 % 60), <int>(rem // 1000 % 60), <int>(rem % 1000))
        return self.put(tmp, k)

    cdef Py_ssize_t document(self, Py_ssize_t pos, bint array) except -1:
        cdef int32_t size = self.int32(pos)
        cdef Py_ssize_t end, p, name_end
        cdef uint8_t t
        cdef bint first = True
        if size < 5:
            raise self.fail(pos, f"document size {size} < 5")
        self.need(pos, size)
        end = pos + size - 1
        if self.d[end] != 0:
            raise self.fail(end, "document does not end with a NUL byte")
        self.putc(b"[" if array else b"{")
        p = pos + 4
        while p < end:
            t = self.d[p]
            name_end = self.cstring_end(p + 1)
            if name_end + 1 > end:
                raise self.fail(name_end + 1, "element name runs past the end of its document")
            if not first:
                self.putc(b",")
            first = False
            if not array:
                self.emit_string(p + 1, name_end - p - 1)
                self.putc(b":")
            p = self.value(t, name_end + 1)
            if p > end:
                raise self.fail(p, "element runs past the end of its document")
        if p != end:
            raise self.fail(p, "document content does not end at its declared size")
        self.putc(b"]" if array else b"}")
        return pos + size

    cdef Py_ssize_t value(self, uint8_t t, Py_ssize_t p) except -1:
        cdef char tmp[32]
        cdef Py_ssize_t q, a, start, stop
        cdef int32_t k, inner, total
        cdef double dv
        cdef float fv
        if t == 0x02 or t == 0x0D or t == 0x0E:
            q = self.string_end(p)
            self.emit_string(p + 4, q - p - 5)
            return q
        if t == 0x03 or t == 0x04:
            return self.document(p, t == 0x04)
        if t == 0x10:
            k = self.int32(p)
            self.put(tmp, snprintf(tmp, 32, b"%d", k))
            return p + 4
        if t == 0x12 or t == 0x11:
            self.put(tmp, snprintf(tmp, 32, b"%lld", <long long>self.int64(p)))
            return p + 8
        if t == 0x01:
            self.need(p, 8)
            memcpy(&dv, self.d + p, 8)
            self.emit_number(dv, False)
            return p + 8
        if t == 0x1E:
            self.need(p, 4)
            memcpy(&fv, self.d + p, 4)
            self.emit_number(<double>fv, True)
            return p + 4
        if t == 0x13:
            self.need(p, 16)
            try:
                text = format_decimal(self.data[p : p + 16])
            except ValueError as exc:
                raise self.fail(p, str(exc)) from None
            self.put_str(text)
            return p + 16
        if t == 0x08:
            self.need(p, 1)
            if self.d[p]:
                self.put(b"true", 4)
            else:
                self.put(b"false", 5)
            return p + 1
        if t == 0x0A or t == 0x06:
            self.put(b"null", 4)
            return p
        if t == 0x09:
            self.emit_date(p, self.int64(p))
            return p + 8
        if t == 0x05:
            k = self.int32(p)
            self.need(p + 5, k)
            start = p + 5
            stop = p + 5 + k
            if self.d[p + 4] == 0x02:
                inner = self.int32(start)
                if inner != k - 4:
                    raise self.fail(start, f"old binary inner length {inner} != {k - 4}")
                start += 4
            self.put_str('"' + base64.b64encode(self.data[start:stop]).decode("ascii") + '"')
            return stop
        if t == 0x07:
            self.need(p, 12)
            self.put_str('"' + base64.b64encode(self.data[p : p + 12]).decode("ascii") + '"')
            return p + 12
        if t == 0x0B:
            a = self.cstring_end(p)
            q = self.cstring_end(a + 1)
            pattern = self.data[p:a].decode("utf-8", "replace")
            options = self.data[a + 1 : q].decode("utf-8", "replace")
            self.put_str(quote(f"/{pattern}/{options}"))
            return q + 1
        if t == 0x0C:
            q = self.string_end(p)
            ref = self.data[p + 4 : q - 1].decode("utf-8", "replace")
            self.need(q, 12)
            self.put_str('{"$ref":' + quote(ref) + ',"$id":"' + base64.b64encode(self.data[q : q + 12]).decode("ascii") + '"}')
            return q + 12
        if t == 0x0F:
            total = self.int32(p)
            self.need(p, total)
            q = self.string_end(p + 4)
            code = self.data[p + 8 : q - 1].decode("utf-8", "replace")
            self.put_str('{"$code":' + quote(code) + ',"$scope":')
            q = self.document(q, False)
            self.putc(b"}")
            if q != p + total:
                raise self.fail(p, f"code-with-scope size {total} does not match its content")
            return q
        raise self.fail(p - 1, f"unknown BSON element type 0x{t:02x}")

    cdef bytes result(self):
        return PyBytes_FromStringAndSize(self.buf, self.n)



include "utf8.pxi"


def to_json(data):
    """Compact JSON (UTF-8, no BOM) for the BSON document at the start of *data*."""
    cdef _Walker w = _Walker(bytes(data))
    w.document(0, False)
    return w.result()
