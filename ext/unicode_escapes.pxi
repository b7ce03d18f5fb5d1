# Included by jsonsplit.pyx and docrun.pyx: ``\\uXXXX`` escapes written as raw UTF-8 (the pure
# specification is ravenmigrate.codecs.jsonsplit.raw_unicode; docs/deviations.md says why).
# _raw_unicode may run in place (out == b): it never writes ahead of what it has read.

cdef inline int _hex4(const unsigned char* b) noexcept nogil:
    """The value of 4 hex digits at *b*, or -1."""
    cdef int v = 0, i, c
    for i in range(4):
        c = b[i]
        if 48 <= c <= 57:
            v = v * 16 + c - 48
        elif 97 <= c <= 102:
            v = v * 16 + c - 87
        elif 65 <= c <= 70:
            v = v * 16 + c - 55
        else:
            return -1
    return v


cdef inline Py_ssize_t _utf8(unsigned char* out, Py_ssize_t k, unsigned int code) noexcept nogil:
    if code < 0x80:
        out[k] = code
        return k + 1
    if code < 0x800:
        out[k] = 0xC0 | (code >> 6)
        out[k + 1] = 0x80 | (code & 0x3F)
        return k + 2
    if code < 0x10000:
        out[k] = 0xE0 | (code >> 12)
        out[k + 1] = 0x80 | ((code >> 6) & 0x3F)
        out[k + 2] = 0x80 | (code & 0x3F)
        return k + 3
    out[k] = 0xF0 | (code >> 18)
    out[k + 1] = 0x80 | ((code >> 12) & 0x3F)
    out[k + 2] = 0x80 | ((code >> 6) & 0x3F)
    out[k + 3] = 0x80 | (code & 0x3F)
    return k + 4


cdef Py_ssize_t _raw_unicode(const unsigned char* b, Py_ssize_t n, unsigned char* out) noexcept nogil:
    """See the pure twin's ``raw_unicode``; writes at most *n* bytes to *out*, returns how many."""
    cdef Py_ssize_t i = 0, k = 0, j
    cdef int code, low
    cdef unsigned char c
    cdef bint in_string = False
    while i < n:
        c = b[i]
        if not in_string:
            out[k] = c
            k += 1
            i += 1
            if c == 34:
                # a string only when it closes: like the pure twin's regex, an unterminated one is copied
                j = i
                while j < n and b[j] != 34:
                    j += 2 if b[j] == 92 else 1
                in_string = j < n
            continue
        if c == 34:
            in_string = False
            out[k] = c
            k += 1
            i += 1
        elif c == 92 and i + 1 < n:
            if b[i + 1] == 117 and i + 6 <= n and _hex4(b + i + 2) >= 0:
                code = _hex4(b + i + 2)
                if 0xD800 <= code < 0xDC00 and i + 12 <= n and b[i + 6] == 92 and b[i + 7] == 117:
                    low = _hex4(b + i + 8)
                    if 0xDC00 <= low < 0xE000:
                        k = _utf8(out, k, 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
                        i += 12
                        continue
                i += 6
                if code == 0x22 or code == 0x5C:
                    out[k] = 92
                    out[k + 1] = code
                    k += 2
                elif 0xD800 <= code < 0xE000:
                    k = _utf8(out, k, 0xFFFD)
                else:
                    k = _utf8(out, k, code)
            else:
                out[k] = 92
                out[k + 1] = b[i + 1]
                k += 2
                i += 2
        else:
            out[k] = c
            k += 1
            i += 1
    return k
