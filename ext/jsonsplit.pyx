# cython: language_level=3
"""Native twin of ravenmigrate.codecs.jsonsplit (the specification): same ends, same ``@metadata``
spans, same compacted bytes, same errors. One pass over the bytes in C; no Python objects are
built for the scanned values.
"""

cimport cython
from cpython cimport array
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy

from ravenmigrate.codecs.jsonsplit import error_message
from ravenmigrate.codecs.jsonvalue import JSONValueError

cdef extern from "simd.h":
    Py_ssize_t rm_skip_ws(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) nogil
    Py_ssize_t rm_dq_stop(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) nogil
    void rm_copy(unsigned char* out, const unsigned char* p, Py_ssize_t n, const unsigned char* end) nogil
    Py_ssize_t rm_ascii_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) nogil

import array as _array

ScanError = JSONValueError
SPAN_FIELDS = 8
cdef array.array _SPANS = _array.array("q")  # the template of scan_compact_items' packed spans
NEED_MORE = -1
DEF C_NEED_MORE = -1
DEF ERR = -2  # _scan failed: the reason is in the scanner's err_* fields (raised by _raise)
DEF E_UNEXPECTED = 1
DEF E_END = 2
DEF E_SLASH = 3
DEF E_COMMENT = 4
DEF E_LITERAL = 5
DEF E_MEMORY = 6

DEF VALUE = 0
DEF VALUE_OR_CLOSE = 1
DEF KEY_OR_CLOSE = 2
DEF COLON = 3
DEF COMMA_OR_CLOSE = 4
DEF DONE = 5

cdef unsigned char CLASS[256]  # 1 whitespace, 2 bare-word byte
cdef unsigned char STOP_SQ[256]  # bytes that end a run inside a 'string': the quote and backslash


cdef void _init_classes():
    cdef int i
    for i in range(256):
        CLASS[i] = 0
        STOP_SQ[i] = 0
    STOP_SQ[39] = STOP_SQ[92] = 1
    for i in b" \t\r\n\f\v":
        CLASS[i] = 1
    for i in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._":
        CLASS[i] = 2


_init_classes()


cdef inline Py_ssize_t _string_stop(const unsigned char* b, Py_ssize_t i, Py_ssize_t n,
                                     unsigned char quote) noexcept nogil:
    """The first *quote* or backslash at or after *i* in b[:n]; *n* when there is none."""
    if quote == 34:
        return rm_dq_stop(b, i, n)
    while i < n and not STOP_SQ[b[i]]:
        i += 1
    return i


cdef inline Py_ssize_t _gap(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Past the spaces, tabs, CRs and LFs at *i* (what separates the items scan_items accepts)."""
    while i < n and (b[i] == 32 or b[i] == 9 or b[i] == 13 or b[i] == 10):
        i += 1
    return i


cdef inline bint _digits(const unsigned char* w, Py_ssize_t* i, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t start = i[0]
    while i[0] < n and 48 <= w[i[0]] <= 57:
        i[0] += 1
    return i[0] > start


cdef bint _valid_word(const unsigned char* w, Py_ssize_t n) noexcept nogil:
    """A JSON number or a literal Json.NET reads (the pure twin's ``valid_word``)."""
    cdef Py_ssize_t i = 0
    if n == 4 and (memcmp(w, b"true", 4) == 0 or memcmp(w, b"null", 4) == 0):
        return True
    if (n == 5 and memcmp(w, b"false", 5) == 0) or (n == 3 and memcmp(w, b"NaN", 3) == 0):
        return True
    if (n == 8 and memcmp(w, b"Infinity", 8) == 0) or (n == 9 and (memcmp(w, b"+Infinity", 9) == 0
                                                                   or memcmp(w, b"-Infinity", 9) == 0)):
        return True
    if i < n and w[i] == 45:  # -
        i += 1
    if not _digits(w, &i, n):
        return False
    if i < n and w[i] == 46:  # .
        i += 1
        if not _digits(w, &i, n):
            return False
    if i < n and (w[i] == 101 or w[i] == 69):  # e E
        i += 1
        if i < n and (w[i] == 43 or w[i] == 45):
            i += 1
        if not _digits(w, &i, n):
            return False
    return i == n


DEF F_VALUE = 0  # the strict path's states (_strict_item)
DEF F_KEY = 1
DEF F_AFTER = 2
DEF BAIL = -3  # _strict_item met something it leaves to the general scanner


cdef inline Py_ssize_t _strict_item(const unsigned char* b, Py_ssize_t i, Py_ssize_t n, unsigned char* out,
                                    Py_ssize_t* k_io, Py_ssize_t* meta) noexcept nogil:
    """The common case of ``scan_compact_items``, in locals: one object of strict JSON at ``b[i]``
    (a ``{``) that ends inside ``b[:n]``, nested at most 63 deep. Compacts it into
    ``out + k_io[0]`` and returns its end, with ``k_io[0]`` advanced and ``meta`` = (start, end,
    compact start, compact end) of the depth-1 ``@metadata`` value, all -1 when it has none: what
    ``Scanner._scan`` gives for the same bytes. *out* NULL: nothing is written (``scan_items``; the
    compact offsets are then meaningless). Anything else (lenient JSON, an error, the end of
    the buffer) returns BAIL with ``k_io[0]`` unchanged; the general scanner then takes the item
    from its start, so errors and lenient forms have one implementation."""
    cdef Py_ssize_t k = k_io[0], j
    cdef unsigned long long objects = 0  # bit d-1: the container at depth d is an object
    cdef int depth = 0, state = F_VALUE
    cdef bint meta_pending = False
    cdef unsigned char c, last = 0  # last: the last byte of the compact output so far (out[k - 1])
    cdef const unsigned char* end = b + n
    meta[0] = meta[1] = meta[2] = meta[3] = -1
    while True:
        i = rm_skip_ws(b, i, n)
        if i >= n:
            return BAIL
        c = b[i]
        if state == F_KEY:
            if c == 34:
                j = _string_end(b, i + 1, n, 34)
                if j + 1 >= n:  # unterminated here, or closed by the last byte: the caller's turn
                    return BAIL
                if depth == 1:
                    meta_pending = j - i - 1 == 9 and memcmp(b + i + 1, b"@metadata", 9) == 0
                if out != NULL:
                    rm_copy(out + k, b + i, j + 1 - i, end)
                    out[k + j + 1 - i] = 58
                k += j + 2 - i
                last = 58
                i = rm_skip_ws(b, j + 1, n)
                if i >= n or b[i] != 58:
                    return BAIL
                i += 1
                state = F_VALUE
                continue
            if c != 125 or last != 123:  # only '{}' closes where a key may stand (not ',}')
                return BAIL
        elif state == F_AFTER:
            if c == 44:
                if out != NULL:
                    out[k] = 44
                k += 1
                last = 44
                i += 1
                state = F_KEY if (objects >> (depth - 1)) & 1 else F_VALUE
                continue
            if c != (125 if (objects >> (depth - 1)) & 1 else 93):
                return BAIL
        elif c != 93 or depth == 0 or last != 91:  # a value ('[]' closes below)
            if meta_pending and depth == 1:
                meta[0] = i
                meta[2] = k
            if c == 34:
                j = _string_end(b, i + 1, n, 34)
                if j + 1 >= n:  # unterminated here, or closed by the last byte: the caller's turn
                    return BAIL
                if out != NULL:
                    rm_copy(out + k, b + i, j + 1 - i, end)
                k += j + 1 - i
                last = 34
                i = j + 1
            elif c == 123 or c == 91:
                if depth == 63:
                    return BAIL
                if c == 123:
                    objects |= 1ULL << depth
                    state = F_KEY
                else:
                    objects &= ~(1ULL << depth)
                depth += 1
                if out != NULL:
                    out[k] = c
                k += 1
                last = c
                i += 1
                continue
            elif CLASS[c] == 2:
                j = i + 1
                while j < n and CLASS[b[j]] == 2:
                    j += 1
                if j == n or not _valid_word(b + i, j - i):
                    return BAIL
                if out != NULL:
                    rm_copy(out + k, b + i, j - i, end)
                k += j - i
                last = b[j - 1]
                i = j
            else:
                return BAIL
        if c == 125 or c == 93:  # a close: the value that ends is the container
            depth -= 1
            if out != NULL:
                out[k] = c
            k += 1
            last = c
            i += 1
        # a value ended at i
        if depth == 0:
            k_io[0] = k
            return i
        if depth == 1 and meta_pending:
            meta[1] = i
            meta[3] = k
            meta_pending = False
        state = F_AFTER


@cython.final  # direct C calls (inlinable) instead of the method table: a call per token
cdef class Scanner:
    """See ravenmigrate.codecs.jsonsplit.Scanner."""

    cdef public Py_ssize_t pos, token_start, meta_candidate, meta_start, meta_end
    cdef public int state, in_string
    cdef public bint meta_pending
    cdef unsigned char* stack
    cdef Py_ssize_t depth, capacity
    # Compaction while scanning (scan_compact_items): the output, its length, where the @metadata
    # value went, and whether the item holds lenient JSON (comment, 'string', trailing comma).
    cdef unsigned char* out
    cdef const unsigned char* in_end  # end of the scanned buffer (rm_copy reads up to 16 bytes)
    cdef Py_ssize_t k, meta_candidate_k, meta_start_k, meta_end_k
    cdef bint irregular
    cdef int err_kind, err_state, err_top, err_c
    cdef Py_ssize_t err_at, err_end

    def __cinit__(self):
        self.capacity = 64
        self.stack = <unsigned char*>malloc(self.capacity)
        if self.stack == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.stack)

    def __init__(self):
        self.reset(0)

    cpdef reset(self, Py_ssize_t pos):
        self._reset(pos)

    cdef inline void _reset(self, Py_ssize_t pos) noexcept nogil:
        self.pos = pos
        self.state = VALUE
        self.depth = 0
        self.in_string = 0
        self.token_start = -1
        self.meta_pending = False
        self.meta_candidate = -1
        self.meta_start = -1
        self.meta_end = -1
        self.meta_start_k = -1
        self.meta_end_k = -1
        self.irregular = False

    cdef inline int _top(self) noexcept nogil:
        return self.stack[self.depth - 1] if self.depth else 0

    cdef inline Py_ssize_t _fail(self, int kind, int c, Py_ssize_t at) noexcept nogil:
        """Record why the scan failed (raised later, with the GIL, by _raise); returns ERR."""
        self.err_kind = kind
        self.err_state = self.state
        self.err_top = self._top()
        self.err_c = c
        self.err_at = at
        return ERR

    cdef _raise(self, const unsigned char* b):
        """The ScanError (or MemoryError) of the last failed scan."""
        kind = self.err_kind
        if kind == E_UNEXPECTED:
            raise ScanError(error_message(self.err_state, self.err_top, self.err_c), self.err_at)
        if kind == E_END:
            raise ScanError("unexpected end of input inside " + ("a string" if self.err_c else "a value"), self.err_at)
        if kind == E_SLASH:
            raise ScanError("unexpected character '/', expected a comment", self.err_at)
        if kind == E_COMMENT:
            raise ScanError("unterminated comment", self.err_at)
        if kind == E_LITERAL:
            word = PyBytes_FromStringAndSize(<const char*>(b + self.err_at), self.err_end - self.err_at)
            raise ScanError(f"invalid literal {word[:40].decode('latin-1')!r}", self.err_at)
        raise MemoryError()

    cdef inline void _value_begin(self, Py_ssize_t start) noexcept nogil:
        if self.meta_pending and self.depth == 1:
            self.meta_candidate = start
            self.meta_candidate_k = self.k

    cdef inline bint _value_end(self, Py_ssize_t end) noexcept nogil:
        if self.depth == 0:
            self.state = DONE
            self.pos = end
            return True
        if self.depth == 1 and self.meta_pending:
            self.meta_start = self.meta_candidate
            self.meta_end = end
            self.meta_start_k = self.meta_candidate_k
            self.meta_end_k = self.k
            self.meta_pending = False
        self.state = COMMA_OR_CLOSE
        return False

    cdef int _push(self, unsigned char c) noexcept nogil:
        cdef unsigned char* grown
        if self.depth == self.capacity:
            grown = <unsigned char*>realloc(self.stack, self.capacity * 2)
            if grown == NULL:
                return -1
            self.stack = grown
            self.capacity *= 2
        self.stack[self.depth] = c
        self.depth += 1
        return 0

    cdef int _resume_string(self, const unsigned char* b, Py_ssize_t n) noexcept nogil:
        """1 when the string completed the outermost value, else 0 (``in_string`` says if it is open);
        ERR when a string stands where it may not."""
        cdef unsigned char quote = <unsigned char>self.in_string
        cdef Py_ssize_t i = self.pos
        cdef Py_ssize_t start
        while True:
            i = _string_stop(b, i, n, quote)
            if i >= n or b[i] == quote:
                break
            if i + 1 >= n:  # a backslash whose escaped byte is not here yet
                break
            i += 2
        if i >= n or b[i] != quote:
            self.pos = i if i < n else n
            return 0
        self.in_string = 0
        self.pos = i + 1
        start = self.token_start
        if self.state == KEY_OR_CLOSE:
            if self.depth == 1:
                self.meta_pending = (i - start - 1 == 9 and memcmp(b + start + 1, b"@metadata", 9) == 0)
            self.state = COLON
            self._copy(b + start, i + 1 - start)
            return 0
        if self.state == VALUE or self.state == VALUE_OR_CLOSE:
            self._value_begin(start)
            self._copy(b + start, i + 1 - start)
            return 1 if self._value_end(i + 1) else 0
        return <int>self._fail(E_UNEXPECTED, b[start], start)

    cdef inline void _copy(self, const unsigned char* p, Py_ssize_t n) noexcept nogil:
        if self.out != NULL:
            rm_copy(self.out + self.k, p, n, self.in_end)
            self.k += n

    cdef inline void _put(self, unsigned char c) noexcept nogil:
        if self.out != NULL:
            self.out[self.k] = c
            self.k += 1

    cdef inline Py_ssize_t _need_more(self, bint final, Py_ssize_t at) noexcept nogil:
        if final:
            return self._fail(E_END, self.in_string != 0, at)
        return C_NEED_MORE

    def scan(self, const unsigned char[:] buf, bint final=False):
        cdef Py_ssize_t n = buf.shape[0]
        cdef const unsigned char* b = &buf[0] if n > 0 else NULL
        cdef Py_ssize_t r
        with nogil:
            r = self._scan(b, n, final)
        if r == ERR:
            self._raise(b)
        return r

    def scan_items(self, const unsigned char[:] buf, Py_ssize_t pos, Py_ssize_t limit):
        """See the pure twin: consecutive ``{...},`` items; stops without consuming anything else."""
        items, _, pos = self._items(buf, pos, limit, False, False)
        return items, pos

    def scan_spans(self, const unsigned char[:] buf, Py_ssize_t pos, Py_ssize_t limit):
        """See the pure twin: :meth:`scan_items` with the spans packed in an ``array('q')``."""
        spans, _, pos = self._items(buf, pos, limit, False, True)
        return spans, pos

    def scan_compact_items(self, const unsigned char[:] buf, Py_ssize_t pos, Py_ssize_t limit):
        """See the pure twin: :meth:`scan_items`, and the items compacted in the same pass (the
        spans packed in an ``array('q')``)."""
        return self._items(buf, pos, limit, True, True)

    cdef tuple _items(self, const unsigned char[:] buf, Py_ssize_t pos, Py_ssize_t limit, bint compacted,
                      bint packed_spans):
        cdef Py_ssize_t n = buf.shape[0]
        cdef const unsigned char* b = &buf[0] if n > 0 else NULL
        cdef Py_ssize_t p, q, end, count = 0, i, capacity = 1024, k0, width = 8 if compacted else 4
        cdef Py_ssize_t meta[4]
        cdef array.array packed
        cdef bint no_memory = False
        cdef Py_ssize_t* grown
        cdef Py_ssize_t* spans
        cdef PyObject* data = out_new(n - pos + 16) if compacted else NULL  # compaction only drops bytes
        self.in_end = b + n
        spans = <Py_ssize_t*>malloc(width * capacity * sizeof(Py_ssize_t))
        if spans == NULL:
            if data != NULL:
                out_drop(data)
            raise MemoryError()
        self.k = 0
        self.out = <unsigned char*>_bytes_data(data) if compacted else NULL
        try:
            with nogil:  # the inflate and deflate threads run meanwhile
                while count < limit:
                    if count == capacity:
                        grown = <Py_ssize_t*>realloc(spans, 2 * width * capacity * sizeof(Py_ssize_t))
                        if grown == NULL:
                            no_memory = True
                            break
                        spans = grown
                        capacity *= 2
                    p = _gap(b, pos, n)
                    if p >= n or b[p] != 123:
                        break
                    k0 = self.k
                    end = _strict_item(b, p, n, self.out, &self.k, meta)
                    if end == BAIL:
                        self._reset(p)
                        end = self._scan(b, n, False)
                        meta[0] = self.meta_start
                        meta[1] = self.meta_end
                        meta[2] = -1 if self.irregular else self.meta_start_k
                        meta[3] = -1 if self.irregular else self.meta_end_k
                    if end >= 0:
                        q = _gap(b, end, n)
                    if end < 0 or q >= n or b[q] != 44:  # NEED_MORE, ERR or no comma: the caller's turn
                        self.k = k0
                        break
                    spans[width * count] = p
                    spans[width * count + 1] = end
                    spans[width * count + 2] = meta[0]
                    spans[width * count + 3] = meta[1]
                    if compacted:
                        spans[width * count + 4] = k0
                        spans[width * count + 5] = self.k
                        spans[width * count + 6] = meta[2]
                        spans[width * count + 7] = meta[3]
                    count += 1
                    pos = q + 1
            if no_memory:
                raise MemoryError()
            if not packed_spans:
                items = [(spans[4 * i], spans[4 * i + 1], spans[4 * i + 2], spans[4 * i + 3]) for i in range(count)]
                return items, None, pos
            packed = array.clone(_SPANS, width * count, zero=False)
            for i in range(width * count):
                packed.data.as_longlongs[i] = spans[i]
            if not compacted:
                return packed, None, pos
            compact = out_done(&data, self.k)
            return packed, compact, pos
        finally:
            self.out = NULL
            free(spans)
            if data != NULL:
                out_drop(data)

    cdef Py_ssize_t _scan(self, const unsigned char* b, Py_ssize_t n, bint final) noexcept nogil:
        """End of the value (>= 0), NEED_MORE, or ERR (see _fail)."""
        cdef Py_ssize_t pos = self.pos, start, end
        cdef unsigned char c, top
        cdef int state, r
        cdef const unsigned char* hit
        if self.in_string:
            r = self._resume_string(b, n)
            if r == ERR:
                return ERR
            if r:
                return self.pos
            if self.in_string:
                return self._need_more(final, self.token_start)
            pos = self.pos
        while True:
            pos = rm_skip_ws(b, pos, n)
            if pos >= n:
                self.pos = n
                return self._need_more(final, n)
            start = pos
            c = b[start]
            state = self.state
            if c == 123 or c == 91:  # { [
                if state != VALUE and state != VALUE_OR_CLOSE:
                    return self._fail(E_UNEXPECTED, c, start)
                self._value_begin(start)
                self._put(c)
                if self._push(c) < 0:
                    return self._fail(E_MEMORY, c, start)
                self.state = KEY_OR_CLOSE if c == 123 else VALUE_OR_CLOSE
                pos = start + 1
            elif c == 125 or c == 93:  # } ]
                top = self._top()
                if not ((state == COMMA_OR_CLOSE and c == top + 2) or (state == KEY_OR_CLOSE and c == 125)
                        or (state == VALUE_OR_CLOSE and c == 93)):
                    return self._fail(E_UNEXPECTED, c, start)
                self.depth -= 1
                pos = start + 1
                if self.out != NULL:
                    if self.out[self.k - 1] == 44:  # a trailing comma: dropped
                        self.k -= 1
                        self.irregular = True
                    self.out[self.k] = c
                    self.k += 1
                if self._value_end(pos):
                    return pos
            elif c == 44:  # ,
                if state != COMMA_OR_CLOSE:
                    return self._fail(E_UNEXPECTED, 44, start)
                self.state = KEY_OR_CLOSE if self._top() == 123 else VALUE_OR_CLOSE
                self._put(44)
                pos = start + 1
            elif c == 58:  # :
                if state != COLON:
                    return self._fail(E_UNEXPECTED, 58, start)
                self.state = VALUE
                self._put(58)
                pos = start + 1
            elif c == 34 or c == 39:  # " '
                if c == 39:
                    self.irregular = True
                self.in_string = c
                self.token_start = start
                self.pos = start + 1
                r = self._resume_string(b, n)
                if r == ERR:
                    return ERR
                if r:
                    return self.pos
                if self.in_string:
                    return self._need_more(final, start)
                pos = self.pos
            elif c == 47:  # /
                self.irregular = True
                if start + 1 >= n:
                    if final:
                        return self._fail(E_SLASH, c, start)
                    self.pos = start
                    return C_NEED_MORE
                if b[start + 1] == 47:
                    hit = <const unsigned char*>memchr(b + start + 2, 10, n - start - 2)
                    if hit == NULL:
                        if not final:
                            self.pos = start
                            return C_NEED_MORE
                        pos = n
                    else:
                        pos = hit - b + 1
                elif b[start + 1] == 42:
                    end = start + 2
                    while end + 1 < n and not (b[end] == 42 and b[end + 1] == 47):
                        end += 1
                    if end + 1 >= n:
                        if final:
                            return self._fail(E_COMMENT, c, start)
                        self.pos = start
                        return C_NEED_MORE
                    pos = end + 2
                else:
                    return self._fail(E_SLASH, c, start)
            elif CLASS[c] == 2:
                end = start + 1
                while end < n and CLASS[b[end]] == 2:
                    end += 1
                if end == n and not final:
                    self.pos = start
                    return C_NEED_MORE
                if state != VALUE and state != VALUE_OR_CLOSE:
                    return self._fail(E_UNEXPECTED, c, start)
                if not _valid_word(b + start, end - start):
                    self.err_end = end
                    return self._fail(E_LITERAL, c, start)
                self._value_begin(start)
                self._copy(b + start, end - start)
                if self._value_end(end):
                    return end
                pos = end
            else:
                return self._fail(E_UNEXPECTED, c, start)


cdef inline Py_ssize_t _string_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t end,
                                   unsigned char quote) noexcept nogil:
    """Index of the closing *quote* of a string whose body starts at *i*, or *end* when unterminated."""
    while True:
        i = _string_stop(b, i, end, quote)
        if i >= end or b[i] == quote:
            return i
        if i + 1 >= end:
            return end
        i += 2


cdef inline Py_ssize_t _skip_unit(const unsigned char* b, Py_ssize_t i, Py_ssize_t end):
    """End of one whitespace run or complete comment at *i*, or *i* when there is none."""
    cdef Py_ssize_t j
    if CLASS[b[i]] == 1:
        j = i + 1
        while j < end and CLASS[b[j]] == 1:
            j += 1
        return j
    if b[i] == 47 and i + 1 < end:
        if b[i + 1] == 47:
            j = i + 2
            while j < end and b[j] != 10:
                j += 1
            return j
        if b[i + 1] == 42:
            j = i + 2
            while j + 1 < end and not (b[j] == 42 and b[j + 1] == 47):
                j += 1
            if j + 1 < end:
                return j + 2
    return i


def compact(const unsigned char[:] buf, Py_ssize_t start, Py_ssize_t end):
    """``buf[start:end]`` without whitespace, comments and trailing commas outside strings."""
    cdef Py_ssize_t ms = -1, me = -1
    return _compact(buf, start, end, -1, -1, &ms, &me)


def compact_document(const unsigned char[:] buf, Py_ssize_t start, Py_ssize_t end, Py_ssize_t meta_start,
                     Py_ssize_t meta_end):
    """See the pure twin: one pass, mapping the ``@metadata`` span into the compacted bytes."""
    cdef Py_ssize_t ms = 0, me = 0
    data = _compact(buf, start, end, meta_start, meta_end, &ms, &me)
    return data, ms, me


cdef bytes _compact(const unsigned char[:] buf, Py_ssize_t start, Py_ssize_t end, Py_ssize_t mark_a,
                    Py_ssize_t mark_b, Py_ssize_t* out_a, Py_ssize_t* out_b):
    cdef Py_ssize_t n = buf.shape[0]
    if end > n:
        end = n
    if start >= end:
        return b""
    cdef const unsigned char* b = &buf[0]
    cdef unsigned char* out = <unsigned char*>malloc(end - start)
    cdef Py_ssize_t i = start, j, k = 0, s
    cdef unsigned char c
    if out == NULL:
        raise MemoryError()
    try:
        while i < end:
            if i == mark_a:
                out_a[0] = k
            if i == mark_b:
                out_b[0] = k
            c = b[i]
            if c == 34 or c == 39:
                j = _string_end(b, i + 1, end, c)
                if j < end:
                    memcpy(out + k, b + i, j + 1 - i)
                    k += j + 1 - i
                    i = j + 1
                    continue
                out[k] = c
                k += 1
                i += 1
                continue
            j = _skip_unit(b, i, end)
            if j > i:
                i = j
                continue
            if c == 44:
                s = i + 1
                while s < end:
                    j = _skip_unit(b, s, end)
                    if j == s:
                        break
                    s = j
                if s < end and (b[s] == 93 or b[s] == 125):
                    i += 1
                    continue
            out[k] = c
            k += 1
            i += 1
        if end == mark_b:
            out_b[0] = k
        return PyBytes_FromStringAndSize(<const char*>out, k)
    finally:
        free(out)


include "unicode_escapes.pxi"
include "bytes_out.pxi"
include "utf8.pxi"


def utf8_valid(const unsigned char[:] buf, Py_ssize_t start, Py_ssize_t end):
    """See ravenmigrate.codecs.jsonsplit.utf8_valid (no decoding, no output, without the GIL)."""
    cdef bint ok
    if start < 0 or end > buf.shape[0] or start > end:
        raise IndexError("utf8_valid: span outside the buffer")
    if start == end:
        return True
    with nogil:
        ok = _utf8_runs_valid(&buf[start], end - start)
    return ok


cdef bint _utf8_runs_valid(const unsigned char* s, Py_ssize_t k) noexcept nogil:
    """_utf8_valid of s[:k], skipping ASCII 16 bytes at a time: each stretch of non-ASCII bytes is
    checked alone (a valid sequence holds no ASCII byte, and one cut by an ASCII byte is invalid
    within its stretch)."""
    cdef Py_ssize_t i = 0, j
    while True:
        i = rm_ascii_end(s, i, k)
        if i >= k:
            return True
        j = i + 1
        while j < k and s[j] >= 0x80:
            j += 1
        if not _utf8_valid(s + i, j - i):
            return False
        i = j


cdef inline bint _hex(unsigned char c) noexcept nogil:
    return 48 <= c <= 57 or 65 <= c <= 70 or 97 <= c <= 102


def escape_error(const unsigned char[:] buf, Py_ssize_t start, Py_ssize_t end):
    """See ravenmigrate.codecs.jsonsplit.escape_error (memchr to each backslash, without the GIL)."""
    if start < 0 or end > buf.shape[0] or start > end:
        raise IndexError("escape_error: span outside the buffer")
    if start == end:
        return -1
    cdef const unsigned char* b = &buf[0]
    cdef const unsigned char* hit
    cdef Py_ssize_t at = start
    cdef unsigned char c
    with nogil:
        while True:
            hit = <const unsigned char*>memchr(b + at, 92, end - at)
            if hit == NULL:
                at = -1
                break
            at = hit - b
            if at + 1 >= end:
                break
            c = b[at + 1]
            if c == 34 or c == 92 or c == 47 or c == 98 or c == 102 or c == 110 or c == 114 or c == 116 or c == 39:
                at += 2
            elif c == 117 and at + 6 <= end and _hex(b[at + 2]) and _hex(b[at + 3]) and _hex(b[at + 4]) and _hex(b[at + 5]):
                at += 6
            else:
                break
            if at >= end:
                at = -1
                break
    return at

def raw_unicode(bytes data):
    """See ravenmigrate.codecs.jsonsplit.raw_unicode."""
    cdef const unsigned char* b = data
    cdef Py_ssize_t n = len(data)
    if memmem_u(b, n) < 0:
        return data
    cdef unsigned char* out = <unsigned char*>malloc(n if n > 0 else 1)
    if out == NULL:
        raise MemoryError()
    try:
        return PyBytes_FromStringAndSize(<const char*>out, _raw_unicode(b, n, out))
    finally:
        free(out)


cdef inline Py_ssize_t memmem_u(const unsigned char* b, Py_ssize_t n) noexcept:
    """Index of the first backslash-u pair in *b*, or -1."""
    cdef const unsigned char* hit
    cdef Py_ssize_t i = 0
    while i + 1 < n:
        hit = <const unsigned char*>memchr(b + i, 92, n - i - 1)
        if hit == NULL:
            return -1
        i = hit - b
        if b[i + 1] == 117:
            return i
        i += 2
    return -1
