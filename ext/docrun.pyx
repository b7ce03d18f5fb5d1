# cython: language_level=3, boundscheck=False, wraparound=False
"""Native twin of ravenmigrate.convert.docrun (the specification): the common 3.x document read
and converted in one pass over its bytes in C (compaction, the ``@metadata`` rewrite of
docs/formats/import-4x.md §3.2, the last-modified of §3.4), stopping at the first document that needs the
general path. Same results, same stopping point as the pure twin.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "simd.h":
    Py_ssize_t rm_skip_ws(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) nogil
    Py_ssize_t rm_dq_stop(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) nogil

cdef unsigned char WS[256]
cdef unsigned char WORD[256]


cdef void _init():
    cdef int i
    for i in range(256):
        WS[i] = 0
        WORD[i] = 0
    for i in b" \t\r\n\f\v":
        WS[i] = 1
    for i in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._":
        WORD[i] = 1


_init()

include "unicode_escapes.pxi"
include "bytes_out.pxi"

# Metadata keys with a rule (docs/formats/import-4x.md §3.2); anything else is kept verbatim.
DEF K_OTHER = 0
DEF K_ID = 1
DEF K_LAST_MODIFIED = 2      # @last-modified, Raven-Last-Modified
DEF K_ETAG = 3
DEF K_LEGACY_LM = 4          # Last-Modified: dropped, seen by the era evidence
DEF K_DROPPED = 5
DEF K_DROPPED_ARRAY = 6
DEF K_ENTITY_NAME = 7        # Raven-Entity-Name -> @collection
DEF K_COLLECTION = 8         # @collection, kept as it is
DEF K_GENERAL = 9            # needs the general path: @flags, @change-vector, revisions, expiration

cdef inline bint _is(const unsigned char* k, Py_ssize_t n, const char* name, Py_ssize_t m) noexcept nogil:
    return n == m and memcmp(k, name, m) == 0


cdef int _kind(const unsigned char* k, Py_ssize_t n) noexcept nogil:
    """The rule of the metadata key *k* (the names of the pure twin's sets)."""
    if n == 0:
        return K_OTHER
    if k[0] == 64:  # @
        if _is(k, n, b"@id", 3):
            return K_ID
        if _is(k, n, b"@etag", 5):
            return K_ETAG
        if _is(k, n, b"@last-modified", 14):
            return K_LAST_MODIFIED
        if _is(k, n, b"@collection", 11):
            return K_COLLECTION
        if _is(k, n, b"@index-score", 12):
            return K_DROPPED
        if _is(k, n, b"@flags", 6) or _is(k, n, b"@change-vector", 14) or _is(k, n, b"@expires", 8):
            return K_GENERAL
        return K_OTHER
    if k[0] == 82 and n > 6 and memcmp(k, b"Raven-", 6) == 0:  # Raven-
        if _is(k, n, b"Raven-Last-Modified", 19):
            return K_LAST_MODIFIED
        if _is(k, n, b"Raven-Entity-Name", 17):
            return K_ENTITY_NAME
        if _is(k, n, b"Raven-Replication-History", 25):
            return K_DROPPED_ARRAY
        if (_is(k, n, b"Raven-Read-Only", 15) or _is(k, n, b"Raven-Document-Revision", 23)
                or _is(k, n, b"Raven-Replication-Source", 24) or _is(k, n, b"Raven-Replication-Version", 25)
                or _is(k, n, b"Raven-Document-Parent-Revision", 30)
                or _is(k, n, b"Raven-Replication-Merged-History", 32)):
            return K_DROPPED
        if _is(k, n, b"Raven-Document-Revision-Status", 30) or _is(k, n, b"Raven-Expiration-Date", 21):
            return K_GENERAL
        return K_OTHER
    if _is(k, n, b"Last-Modified", 13):
        return K_LEGACY_LM
    if _is(k, n, b"Non-Authoritative-Information", 29):
        return K_DROPPED
    return K_OTHER


cdef bint _collection_key(const unsigned char* k, Py_ssize_t n) noexcept nogil:
    """*k* is ``Raven-Entity-Name`` or ``@collection`` in any (ASCII) case."""
    cdef const char* name
    cdef Py_ssize_t i
    cdef unsigned char c
    if n == 17:
        name = b"raven-entity-name"
    elif n == 11:
        name = b"@collection"
    else:
        return False
    for i in range(n):
        c = k[i]
        if 65 <= c <= 90:
            c += 32
        if c != <unsigned char>name[i]:
            return False
    return True


cdef inline Py_ssize_t _string_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t n, bint* escaped) noexcept nogil:
    """End (after the closing quote) of the string opening at *i*; -1 when unterminated. Sets
    *escaped* when the string holds a backslash."""
    i += 1
    while True:
        i = rm_dq_stop(b, i, n)
        if i >= n:
            return -1
        if b[i] == 34:
            return i + 1
        escaped[0] = True
        i += 2


cdef Py_ssize_t _composite_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """End of the object/array at *i* made of double-quoted strings only; -1 otherwise."""
    cdef Py_ssize_t depth = 0
    cdef bint esc = False
    cdef unsigned char c
    while i < n:
        c = b[i]
        if c == 34:
            i = _string_end(b, i, n, &esc)
            if i < 0:
                return -1
            continue
        if c == 39 or c == 47:
            return -1
        if c == 123 or c == 91:
            depth += 1
        elif c == 125 or c == 93:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


cdef Py_ssize_t _compact(const unsigned char* b, Py_ssize_t i, Py_ssize_t end, unsigned char* out,
                         Py_ssize_t k) noexcept nogil:
    """Copy b[i:end] to out[k:] without whitespace; -1 for a single quote, a comment or a trailing comma."""
    cdef Py_ssize_t j, s
    cdef unsigned char c
    cdef bint esc = False
    while i < end:
        c = b[i]
        if WS[c]:
            i = rm_skip_ws(b, i, end)
        elif c == 34:
            j = _string_end(b, i, end, &esc)
            if j < 0:
                return -1
            memcpy(out + k, b + i, j - i)
            k += j - i
            i = j
        elif c == 39 or c == 47:
            return -1
        else:
            if c == 44:
                s = rm_skip_ws(b, i + 1, end)
                if s < end and (b[s] == 125 or b[s] == 93):
                    return -1
            out[k] = c
            k += 1
            i += 1
    return k


cdef inline int _d2(const unsigned char* p) noexcept nogil:
    if not (48 <= p[0] <= 57 and 48 <= p[1] <= 57):
        return -1
    return (p[0] - 48) * 10 + p[1] - 48


cdef bint _last_modified(const unsigned char* v, Py_ssize_t n, char* out) noexcept nogil:
    """§3.4 for the shapes that need no deviation: 19/20 and 27/28 characters -> 28 in *out*."""
    cdef int year, month, day, i
    cdef int days
    if n != 19 and n != 20 and n != 27 and n != 28:
        return False
    if n % 2 == 0 and v[n - 1] != 90:
        return False
    if v[4] != 45 or v[7] != 45 or v[10] != 84 or v[13] != 58 or v[16] != 58:
        return False
    if _d2(v) < 0 or _d2(v + 2) < 0:
        return False
    year = _d2(v) * 100 + _d2(v + 2)
    month = _d2(v + 5)
    day = _d2(v + 8)
    if year < 1 or month < 1 or month > 12 or day < 1:
        return False
    if month == 2:
        days = 29 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 28
    elif month == 4 or month == 6 or month == 9 or month == 11:
        days = 30
    else:
        days = 31
    if day > days or not (0 <= _d2(v + 11) < 24) or not (0 <= _d2(v + 14) < 60) or not (0 <= _d2(v + 17) < 60):
        return False
    memcpy(out, v, 19)
    if n >= 27:
        if v[19] != 46:
            return False
        for i in range(20, 27):
            if not (48 <= v[i] <= 57):
                return False
        memcpy(out + 19, v + 19, 8)
    else:
        memcpy(out + 19, b".0000000", 8)
    out[27] = 90
    return True


cdef inline bint _has(const unsigned char* b, Py_ssize_t n, const char* what, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n - m + 1):
        if b[i] == <unsigned char>what[0] and memcmp(b + i, what, m) == 0:
            return True
    return False


cdef inline int _count(const unsigned char* b, Py_ssize_t n, const char* what, Py_ssize_t m, int limit) noexcept nogil:
    """Occurrences of what[:m] in b[:n] (non-overlapping), counting up to *limit*."""
    cdef const unsigned char* q
    cdef Py_ssize_t i = 0
    cdef int found = 0
    while i <= n - m:
        q = <const unsigned char*>memchr(b + i, <unsigned char>what[0], n - m + 1 - i)
        if q == NULL:
            return found
        i = q - b
        if memcmp(b + i, what, m) == 0:
            found += 1
            if found >= limit:
                return found
            i += m
        else:
            i += 1
    return found


cdef inline bint _plain(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    """No control byte (the string had no escape: checked by the caller)."""
    cdef Py_ssize_t i
    for i in range(n):
        if s[i] < 32:
            return False
    return True


cdef bint _surrogate_escape(const unsigned char* b, Py_ssize_t n) noexcept nogil:
    """A backslash-u escape of a surrogate (d800-dfff) in b[:n]."""
    cdef const unsigned char* q
    cdef Py_ssize_t i = 0
    while i + 3 < n:
        q = <const unsigned char*>memchr(b + i, 92, n - 3 - i)
        if q == NULL:
            return False
        i = q - b
        if b[i + 1] == 117 and (b[i + 2] == 100 or b[i + 2] == 68) and (
                (56 <= b[i + 3] <= 57) or (97 <= b[i + 3] <= 102) or (65 <= b[i + 3] <= 70)):
            return True
        i += 2 if b[i + 1] == 92 else 1
    return False


cdef struct Info:
    Py_ssize_t id_s, id_e, co_s, co_e, et_s, et_e, ll_s, ll_e, meta
    bint coll_null, etag_string, legacy_string, has_lm
    char lm[28]


cdef Py_ssize_t _convert(const unsigned char* b, Py_ssize_t start, Py_ssize_t end, Py_ssize_t ms, Py_ssize_t me,
                         unsigned char* out, Info* info, bint compacted) noexcept nogil:
    """The converted document at b[start:end] written to *out* (its length; the values in *info*),
    or -1 when it needs the general path (see the pure twin). No Python object: runs without the GIL."""
    cdef Py_ssize_t i, k, ks, ke, vs, ve, id_s = -1, id_e = -1, lm_s = -1, lm_e = -1
    cdef Py_ssize_t et_s = -1, et_e = -1, ll_s = -1, ll_e = -1, co_s = -1, co_e = -1, members = 0
    cdef bint esc, etag_string = False, legacy_string = False, coll_null = False
    cdef unsigned char c
    cdef int kind, collection_keys = 0
    if ms < 0 or b[start] != 123 or b[ms] != 123 or me <= ms:
        return -1
    if _count(b + start, end - start, b"@metadata", 9, 2) != 1:
        return -1
    i = rm_skip_ws(b, me, end)
    if i != end - 1 or b[i] != 125:
        return -1
    if compacted:  # the splitter's output: nothing to drop before the metadata (see convert_run)
        memcpy(out, b + start, ms - start)
        k = ms - start
    else:
        k = _compact(b, start, ms, out, 0)
        if k < 0:
            return -1
    info.meta = k
    out[k] = 123
    k += 1
    i = rm_skip_ws(b, ms + 1, me)
    if i < me and b[i] == 125:
        i += 1
    else:
        while True:
            if i >= me or b[i] != 34:
                return -1
            ks = i
            esc = False
            ke = _string_end(b, i, me, &esc)
            if ke < 0 or esc:
                return -1
            i = rm_skip_ws(b, ke, me)
            if i >= me or b[i] != 58:
                return -1
            vs = rm_skip_ws(b, i + 1, me)
            if vs >= me:
                return -1
            c = b[vs]
            esc = False
            if c == 34:
                ve = _string_end(b, vs, me, &esc)
            elif c == 123 or c == 91:
                ve = _composite_end(b, vs, me)
            elif WORD[c]:
                ve = vs + 1
                while ve < me and WORD[b[ve]]:
                    ve += 1
            else:
                return -1
            if ve < 0:
                return -1
            kind = _kind(b + ks + 1, ke - ks - 2)
            if kind == K_GENERAL:
                return -1
            if _collection_key(b + ks + 1, ke - ks - 2):
                collection_keys += 1
                if collection_keys > 1 or (kind != K_ENTITY_NAME and kind != K_COLLECTION):
                    return -1  # given twice or in another case: inspect reads it case-insensitively
            if c == 123 or (c == 91 and kind != K_DROPPED_ARRAY):
                return -1  # kept or dropped composites: nested rules (§3.3), the general path
            if kind == K_ID:
                if c != 34 or esc:
                    return -1
                id_s, id_e = vs + 1, ve - 1
            elif kind == K_LAST_MODIFIED:
                if c != 34 or esc:
                    return -1
                lm_s, lm_e = vs + 1, ve - 1
            elif kind == K_ETAG:
                if esc:
                    return -1
                etag_string = c == 34
                et_s, et_e = vs + 1, ve - 1
            elif kind == K_LEGACY_LM:
                if esc:
                    return -1
                legacy_string = c == 34
                ll_s, ll_e = vs + 1, ve - 1
            elif kind == K_DROPPED:
                pass
            elif kind == K_DROPPED_ARRAY:
                if c != 91:
                    return -1
            else:
                if kind == K_ENTITY_NAME or kind == K_COLLECTION:
                    if c == 34 and not esc:
                        co_s, co_e = vs + 1, ve - 1
                        coll_null = False
                    elif ve - vs == 4 and memcmp(b + vs, b"null", 4) == 0:
                        coll_null = True
                    else:
                        return -1
                if members:
                    out[k] = 44
                    k += 1
                if kind == K_ENTITY_NAME:
                    memcpy(out + k, b'"@collection"', 13)
                    k += 13
                else:
                    memcpy(out + k, b + ks, ke - ks)
                    k += ke - ks
                out[k] = 58
                memcpy(out + k + 1, b + vs, ve - vs)
                k += 1 + ve - vs
                members += 1
            i = rm_skip_ws(b, ve, me)
            if i < me and b[i] == 44:
                i = rm_skip_ws(b, i + 1, me)
                if i < me and b[i] == 125:
                    return -1  # trailing comma
                continue
            if i < me and b[i] == 125:
                break
            return -1
    if id_s < 0 or not _plain(b + id_s, id_e - id_s):
        return -1
    if _has(b + id_s, id_e - id_s, b"Raven/", 6):
        return -1  # system documents and @hilo (§3.1)
    if lm_s >= 0 and not _last_modified(b + lm_s, lm_e - lm_s, info.lm):
        return -1
    out[k] = 125
    out[k + 1] = 125
    k += 2
    if _count(b + start, end - start, b"\\u", 2, 1):
        if _surrogate_escape(b + start, end - start):
            return -1  # reported as a deviation by the general path
        k = _raw_unicode(out, k, out)
        info.meta = -1  # moved by the unescaping (and the body may now name "@metadata" itself)
    info.id_s, info.id_e, info.co_s, info.co_e = id_s, id_e, co_s, co_e
    info.et_s, info.et_e, info.ll_s, info.ll_e = et_s, et_e, ll_s, ll_e
    info.coll_null, info.etag_string, info.legacy_string, info.has_lm = coll_null, etag_string, legacy_string, lm_s >= 0
    return k


include "utf8.pxi"


DEF FIELDS = 9  # per document in Run.index: the offsets of data, id, collection, last-modified, etag,
                # legacy last-modified and the end (each field runs to the next offset), then flags,
                # then the offset of the @metadata value (METADATA)
DEF HAS_LM = 1
DEF ETAG_STRING = 2
DEF LEGACY_STRING = 4
DEF NAMED = 8  # a string collection (else @empty, whether null or absent)
DEF METADATA = 8  # the field of where the document's "@metadata" value starts in the blob: the document
                  # is written as its compact body, then '"@metadata":{...}}' (the metadata its last
                  # member, the name written once); -1 where escapes were unescaped after writing


cdef class Run:
    """The results of one :func:`convert_run`, packed in one bytes object: a read-only sequence of
    the pure twin's result tuples, each built only when asked for (``convert`` writes a run with
    :func:`dump4_elements` straight from the packed bytes; ``load`` and sampling ask for tuples)."""

    cdef bytes blob
    cdef Py_ssize_t* index
    cdef Py_ssize_t n

    def __dealloc__(self):
        free(self.index)

    def __len__(self):
        return self.n

    def packed(self):
        """``(blob, index)``: the packed bytes and a copy of the index (``FIELDS`` Py_ssize_t per
        document), for a native reader of the run in another module (``ext/expected.pyx``)."""
        return self.blob, PyBytes_FromStringAndSize(<const char*>self.index, self.n * FIELDS * sizeof(Py_ssize_t))

    cdef tuple _tuple(self, Py_ssize_t k):
        cdef const char* b = PyBytes_AS_STRING(self.blob)
        cdef Py_ssize_t* x = self.index + FIELDS * k
        cdef Py_ssize_t flags = x[7]
        return (b[x[1]:x[2]].decode("utf-8"), PyBytes_FromStringAndSize(b + x[0], x[1] - x[0]),
                b[x[2]:x[3]].decode("utf-8"), b[x[3]:x[4]].decode("ascii") if flags & HAS_LM else None,
                b[x[4]:x[5]].decode("utf-8") if flags & ETAG_STRING else None,
                b[x[5]:x[6]].decode("utf-8") if flags & LEGACY_STRING else None)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self._tuple(i) for i in range(*k.indices(self.n))]
        cdef Py_ssize_t i = k
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError("run index out of range")
        return self._tuple(i)

    def __iter__(self):
        cdef Py_ssize_t i
        for i in range(self.n):
            yield self._tuple(i)

    def __eq__(self, other):
        try:
            return list(self) == list(other)
        except TypeError:
            return NotImplemented

    def __repr__(self):
        return f"Run({list(self)!r})"


cdef inline Py_ssize_t _put(unsigned char* o, Py_ssize_t k, const unsigned char* b, Py_ssize_t s,
                            Py_ssize_t e) noexcept nogil:
    memcpy(o + k, b + s, e - s)
    return k + e - s


def convert_run(const unsigned char[:] buf, list items, Py_ssize_t first, Py_ssize_t stop):
    """See ravenmigrate.convert.docrun.convert_run; the results come as a :class:`Run`. The spans are
    read first; then every document is converted without the GIL, so the inflate and deflate
    threads are not held up."""
    cdef Py_ssize_t i, count = 0
    if stop > len(items):
        stop = len(items)
    cdef long long* spans = <long long*>malloc((stop - first if stop > first else 1) * 4 * sizeof(long long))
    if spans == NULL:
        raise MemoryError()
    try:
        for i in range(first, stop):
            spans[4 * count], spans[4 * count + 1], spans[4 * count + 2], spans[4 * count + 3] = items[i]
            count += 1
        return _convert_spans(buf, spans, 4, count, first, False)
    finally:
        free(spans)


DEF SPAN_FIELDS = 8  # per item in jsonsplit's packed spans (ravenmigrate.codecs.jsonsplit.SPAN_FIELDS)


def convert_compact_run(const unsigned char[:] compact, const long long[:] packed, Py_ssize_t first, Py_ssize_t stop):
    """See ravenmigrate.convert.docrun.convert_compact_run: the spans are read from the packed
    array in place (the compact span of item i at ``SPAN_FIELDS * i + 4``), no Python object per item."""
    if stop > packed.shape[0] // SPAN_FIELDS:
        stop = packed.shape[0] // SPAN_FIELDS
    if stop <= first:
        return _convert_spans(compact, NULL, SPAN_FIELDS, 0, first, True)
    return _convert_spans(compact, &packed[SPAN_FIELDS * first + 4], SPAN_FIELDS, stop - first, first, True)


cdef tuple _convert_spans(const unsigned char[:] buf, const long long* spans, Py_ssize_t width, Py_ssize_t count,
                          Py_ssize_t first, bint compacted):
    """convert_run of *count* spans (``start, end, meta_start, meta_end``, *width* apart) in *buf*;
    it stops at the first span that does not lie inside *buf*."""
    cdef Py_ssize_t n = buf.shape[0]
    cdef const unsigned char* b = &buf[0] if n > 0 else NULL
    cdef Py_ssize_t i, start, end, ms, me, k = 0, d, missing = 0, capacity = 0
    cdef Py_ssize_t* x
    cdef Info info
    cdef unsigned char* out
    cdef Run run = Run.__new__(Run)
    cdef PyObject* blob = NULL
    for i in range(count):
        if spans[width * i + 1] > n or spans[width * i] < 0:
            count = i
            break
    run.index = <Py_ssize_t*>malloc((count if count else 1) * FIELDS * sizeof(Py_ssize_t))
    if run.index == NULL:
        raise MemoryError()
    try:
        for i in range(count):  # the document, then its values (all taken from it)
            capacity += 2 * (spans[width * i + 1] - spans[width * i]) + 128
        blob = out_new(capacity)
        out = <unsigned char*>_bytes_data(blob)
        with nogil:
            for i in range(count):
                start, end = <Py_ssize_t>spans[width * i], <Py_ssize_t>spans[width * i + 1]
                ms, me = <Py_ssize_t>spans[width * i + 2], <Py_ssize_t>spans[width * i + 3]
                d = _convert(b, start, end, ms, me, out + k, &info, compacted)
                if d < 0:
                    break
                if not (_utf8_valid(b + info.id_s, info.id_e - info.id_s)
                        and (info.co_s < 0 or info.coll_null or _utf8_valid(b + info.co_s, info.co_e - info.co_s))
                        and (not info.etag_string or _utf8_valid(b + info.et_s, info.et_e - info.et_s))
                        and (not info.legacy_string or _utf8_valid(b + info.ll_s, info.ll_e - info.ll_s))):
                    break  # the general path decodes (and reports) it
                x = run.index + FIELDS * i
                x[0] = k
                k += d
                x[1] = k
                k = _put(out, k, b, info.id_s, info.id_e)
                x[2] = k
                if info.co_s >= 0 and not info.coll_null:
                    k = _put(out, k, b, info.co_s, info.co_e)
                else:
                    memcpy(out + k, b"@empty", 6)
                    k += 6
                x[3] = k
                if info.has_lm:
                    memcpy(out + k, info.lm, 28)
                    k += 28
                else:
                    missing += 1
                x[4] = k
                if info.etag_string:
                    k = _put(out, k, b, info.et_s, info.et_e)
                x[5] = k
                if info.legacy_string:
                    k = _put(out, k, b, info.ll_s, info.ll_e)
                x[6] = k
                x[7] = ((HAS_LM if info.has_lm else 0) | (ETAG_STRING if info.etag_string else 0)
                        | (LEGACY_STRING if info.legacy_string else 0)
                        | (NAMED if info.co_s >= 0 and not info.coll_null else 0))
                x[METADATA] = x[0] + info.meta if info.meta >= 0 else -1
                run.n += 1
        run.blob = out_done(&blob, k)
    finally:
        if blob != NULL:
            out_drop(blob)
    return run, first + run.n, missing


def era_values(results, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step):
    """See ravenmigrate.convert.docrun.era_values (from a :class:`Run`'s packed bytes: no tuple or
    copy of the documents)."""
    if not isinstance(results, Run):
        sample = results[start:stop:step]
        return [r[4] for r in sample], [r[5] for r in sample]
    cdef Run run = <Run>results
    cdef const char* b = PyBytes_AS_STRING(run.blob)
    cdef Py_ssize_t* x
    cdef Py_ssize_t k
    start, stop, step = slice(start, stop, step).indices(run.n)
    etags = []
    modified = []
    for k in range(start, stop, step):
        x = run.index + FIELDS * k
        etags.append(b[x[4]:x[5]].decode("utf-8") if x[7] & ETAG_STRING else None)
        modified.append(b[x[5]:x[6]].decode("utf-8") if x[7] & LEGACY_STRING else None)
    return etags, modified


EXAMPLES = 5


cdef inline bint _raven_prefix(const char* s, Py_ssize_t n) noexcept nogil:
    """*s* starts with ``raven/`` in any (ASCII) case."""
    cdef const char* p = b"raven/"
    cdef Py_ssize_t i
    cdef char c
    if n < 6:
        return False
    for i in range(6):
        c = s[i]
        if 65 <= c <= 90:
            c += 32
        if c != p[i]:
            return False
    return True


def tally(results, const long long[:] spans):
    """See ravenmigrate.convert.docrun.tally (a :class:`Run` from its bytes: one string per change
    of collection, none per document)."""
    if not isinstance(results, Run):
        from ravenmigrate.convert.docrun import tally as pure

        return pure(results, spans)
    cdef Run run = <Run>results
    cdef const char* b = PyBytes_AS_STRING(run.blob)
    cdef const Py_ssize_t* x
    cdef const Py_ssize_t* last = NULL
    cdef Py_ssize_t k, size, same = 0, total = 0, largest = -1, largest_size = -1, unnamed = 0, empty = 0
    cdef dict collections = {}
    cdef list examples = []
    if spans.shape[0] < SPAN_FIELDS * run.n:
        raise ValueError("fewer spans than documents")
    for k in range(run.n):
        x = run.index + FIELDS * k
        if x[7] & NAMED:
            if last != NULL and x[3] - x[2] == last[3] - last[2] and memcmp(b + x[2], b + last[2], x[3] - x[2]) == 0:
                same += 1
            else:
                if last != NULL:
                    _count_in(collections, b, last, same)
                last = x
                same = 1
        else:
            empty += 1
            if not _raven_prefix(b + x[1], x[2] - x[1]):
                unnamed += 1
                if len(examples) < EXAMPLES:
                    examples.append(b[x[1]:x[2]].decode("utf-8"))
        size = spans[SPAN_FIELDS * k + 1] - spans[SPAN_FIELDS * k]
        total += size
        if size > largest_size:
            largest, largest_size = k, size
    if last != NULL:
        _count_in(collections, b, last, same)
    if empty:
        collections["@empty"] = collections.get("@empty", 0) + empty
    return collections, unnamed, examples, total, largest, largest_size


cdef void _count_in(dict collections, const char* b, const Py_ssize_t* x, Py_ssize_t n) except *:
    name = b[x[2]:x[3]].decode("utf-8")
    collections[name] = collections.get(name, 0) + n


def dump4_elements(results):
    """See ravenmigrate.convert.docrun.dump4_elements (a :class:`Run` straight from its bytes)."""
    if isinstance(results, Run):
        return _run_elements(<Run>results)
    return _list_elements(results)


cdef inline Py_ssize_t _element(const char* b, const Py_ssize_t* x, char* o) noexcept nogil:
    """Write document *x* of a run's blob *b* as its Docs element at *o*; the bytes written
    (:func:`_element_size`)."""
    cdef Py_ssize_t k = x[1] - x[0] - 2
    memcpy(o, b + x[0], k)  # the document without its closing braces
    if b[x[1] - 3] == 123:
        memcpy(o + k, b'"@id":"', 7)
        k += 7
    else:
        memcpy(o + k, b',"@id":"', 8)
        k += 8
    memcpy(o + k, b + x[1], x[2] - x[1])
    k += x[2] - x[1]
    memcpy(o + k, b'","@last-modified":"', 20)
    k += 20
    memcpy(o + k, b + x[3], 28)
    k += 28
    memcpy(o + k, b'"}}', 3)
    return k + 3


cdef inline Py_ssize_t _element_size(const char* b, const Py_ssize_t* x) noexcept nogil:
    return x[1] - x[0] - 2 + (7 if b[x[1] - 3] == 123 else 8) + x[2] - x[1] + 51


cdef int _check_last_modified(Run run) except -1:
    cdef Py_ssize_t i
    for i in range(run.n):
        if not run.index[FIELDS * i + 7] & HAS_LM:
            raise ValueError("a run with a document without a last-modified goes document by document")
    return 0


cdef bytes _run_elements(Run run):
    _check_last_modified(run)
    cdef const char* b = PyBytes_AS_STRING(run.blob)
    cdef Py_ssize_t i, k = 0, total = len(run.blob) + 40 * run.n
    cdef PyObject* out = out_new(total)
    cdef char* o = _bytes_data(out)
    with nogil:
        for i in range(run.n):
            if i:
                o[k] = 44
                k += 1
            k += _element(b, run.index + FIELDS * i, o + k)
    return out_done(&out, k)


def document_elements(results):
    """See ravenmigrate.convert.docrun.document_elements (a :class:`Run` straight from its bytes)."""
    if not isinstance(results, Run):
        return [r[0] for r in results], [_list_elements([r]) for r in results]
    cdef Run run = <Run>results
    _check_last_modified(run)
    cdef const char* b = PyBytes_AS_STRING(run.blob)
    cdef const Py_ssize_t* x
    cdef Py_ssize_t i
    cdef bytes element
    cdef list ids = [None] * run.n
    cdef list elements = [None] * run.n
    for i in range(run.n):
        x = run.index + FIELDS * i
        ids[i] = b[x[1]:x[2]].decode("utf-8")
        element = PyBytes_FromStringAndSize(NULL, _element_size(b, x))
        _element(b, x, PyBytes_AS_STRING(element))
        elements[i] = element
    return ids, elements


cdef bytes _list_elements(list results):
    cdef Py_ssize_t total = 0, k = 0, n, m
    cdef tuple r
    cdef bytes data, doc_id, lm
    cdef list ids = []
    cdef list lms = []
    for r in results:
        data = r[1]
        doc_id = (<str>r[0]).encode("utf-8")
        lm = (<str>r[3]).encode("ascii")
        ids.append(doc_id)
        lms.append(lm)
        total += len(data) + len(doc_id) + len(lm) + 40
    out = PyBytes_FromStringAndSize(NULL, total)
    cdef char* o = PyBytes_AS_STRING(out)
    cdef const char* d
    cdef Py_ssize_t i
    for i in range(len(results)):
        data = (<tuple>results[i])[1]
        d = PyBytes_AS_STRING(data)
        n = len(data)
        if i:
            o[k] = 44
            k += 1
        memcpy(o + k, d, n - 2)
        k += n - 2
        if n >= 3 and d[n - 3] == 123:
            memcpy(o + k, b'"@id":"', 7)
            k += 7
        else:
            memcpy(o + k, b',"@id":"', 8)
            k += 8
        doc_id = ids[i]
        m = len(doc_id)
        memcpy(o + k, PyBytes_AS_STRING(doc_id), m)
        k += m
        memcpy(o + k, b'","@last-modified":"', 20)
        k += 20
        lm = lms[i]
        memcpy(o + k, PyBytes_AS_STRING(lm), len(lm))
        k += len(lm)
        memcpy(o + k, b'"}}', 3)
        k += 3
    return out[:k]
