# cython: language_level=3
"""Native twin of ravenmigrate.verify.digests: verify's expected entries of a whole document run.

A ``docrun.Run`` is read from its packed bytes (``Run.packed``; the layout is ``ext/docrun.pyx``'s
``FIELDS``): per document no result tuple, no copy of the document, one scan by the ``jsonsplit``
Scanner to find ``@metadata``, and the two BLAKE2b digests from ``hashlib``. Anything the fast path
does not take (no literal ``@metadata`` object member, a document the scanner refuses or that does
not end where the run says) goes to the pure twin's ``add_document``, which is the specification.
Results as tuples (the pure ``docrun``) go to the pure twin too.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.string cimport memcmp, memcpy

from hashlib import blake2b

from ravenmigrate._native.canonical import split_canonical
from ravenmigrate._native.jsonsplit import ScanError, Scanner
from ravenmigrate.verify import digests as _pure

DEF FIELDS = 8  # ext/docrun.pyx: offsets of data, id, collection, last-modified, etag, legacy, end; flags
DEF HAS_LM = 1
DEF ID_BUFFER = 256
DEF SEEN = 1024  # at most this many metadata digests remembered within a run


cdef inline bint _ws(unsigned char c) noexcept nogil:
    return c == 32 or c == 9 or c == 13 or c == 10


cdef bint _member(const unsigned char* b, Py_ssize_t start, Py_ssize_t ms, Py_ssize_t me,
                  Py_ssize_t* a, Py_ssize_t* z) noexcept nogil:
    """ravenmigrate.verify.digests.metadata_member: the span ``[a, z)`` to leave out."""
    cdef Py_ssize_t k = ms - 11, i, p, q
    while k >= start:
        if b[k] == 34 and memcmp(b + k, b'"@metadata"', 11) == 0:
            break
        k -= 1
    if k < start:
        return False
    i = k + 11
    while i < ms and _ws(b[i]):
        i += 1
    if i >= ms or b[i] != 58:
        return False
    i += 1
    while i < ms and _ws(b[i]):
        i += 1
    if i != ms:
        return False
    p = k - 1
    while _ws(b[p]):
        p -= 1
    if b[p] == 44:
        a[0], z[0] = p, me
        return True
    q = me
    while _ws(b[q]):
        q += 1
    a[0] = k
    z[0] = q + 1 if b[q] == 44 else me
    return True


cdef _store(dict documents, dict ids, const unsigned char* s, Py_ssize_t n, value):
    """``documents[id.lower()] = value`` (``str.lower``), and the id as written in *ids* only where
    it differs from the lower-cased one."""
    cdef char low[ID_BUFFER]
    cdef Py_ssize_t i
    cdef bint changed = False
    cdef unsigned char c
    if n <= ID_BUFFER:
        for i in range(n):
            c = s[i]
            if c >= 128:
                break
            if 65 <= c <= 90:
                c += 32
                changed = True
            low[i] = <char>c
        else:
            key = PyUnicode_DecodeASCII(low, n, NULL)
            documents[key] = value
            if changed:
                ids[key] = PyUnicode_DecodeASCII(<const char*>s, n, NULL)
            elif ids:
                ids.pop(key, None)
            return
    doc_id = (<const char*>s)[:n].decode("utf-8")
    key = doc_id.lower()
    documents[key] = value
    if key != doc_id:
        ids[key] = doc_id
    else:
        ids.pop(key, None)


def add_documents(results, dict documents, dict ids, bint bulk):
    """See ravenmigrate.verify.digests.add_documents."""
    if not hasattr(results, "packed"):
        _pure.add_documents(results, documents, ids, bulk)
        return
    blob, index = results.packed()
    cdef const char* b = PyBytes_AS_STRING(blob)
    cdef const unsigned char* u = <const unsigned char*>b
    cdef const Py_ssize_t* x = <const Py_ssize_t*>PyBytes_AS_STRING(index)
    cdef Py_ssize_t count = PyBytes_GET_SIZE(index) // (FIELDS * sizeof(Py_ssize_t))
    cdef Py_ssize_t k, start, stop, end, ms, me, a = 0, z = 0, lm
    cdef char* o
    drop = _pure.DROP_BULK if bulk else _pure.DROP
    scanner = Scanner()
    cdef dict seen = {}  # canonical metadata -> its digest: documents of a collection mostly share it
    for k in range(count):
        start, stop = x[0], x[1]
        lm = x[4] - x[3] if x[7] & HAS_LM else 0
        end = -1
        scanner.reset(start)
        try:
            end = scanner.scan(blob, True)
        except ScanError:
            pass
        ms, me = scanner.meta_start, scanner.meta_end
        if (end <= start or end > stop or ms < 0 or u[ms] != 123
                or not _member(u, start, ms, me, &a, &z)):
            _pure.add_document(documents, ids, b[x[1]:x[2]].decode("utf-8"), b[start:stop],
                               b[x[3]:x[4]].decode("ascii") if x[7] & HAS_LM else None, bulk, scanner)
            x += FIELDS
            continue
        body = PyBytes_FromStringAndSize(NULL, (a - start) + (end - z))
        o = PyBytes_AS_STRING(body)
        memcpy(o, b + start, a - start)
        memcpy(o + (a - start), b + z, end - z)
        meta = PyBytes_FromStringAndSize(NULL, me - ms + 14)
        o = PyBytes_AS_STRING(meta)
        memcpy(o, b'{"@metadata":', 13)
        memcpy(o + 13, b + ms, me - ms)
        o[me - ms + 13] = 125
        canon = split_canonical(meta, drop)[1]
        meta_digest = seen.get(canon)
        if meta_digest is None:
            if len(seen) >= SEEN:
                seen.clear()
            meta_digest = seen[canon] = blake2b(canon, digest_size=16).digest()
        body_digest = blake2b(body, digest_size=16).digest()
        value = PyBytes_FromStringAndSize(NULL, 32 + lm)
        o = PyBytes_AS_STRING(value)
        memcpy(o, PyBytes_AS_STRING(body_digest), 16)
        memcpy(o + 16, PyBytes_AS_STRING(meta_digest), 16)
        memcpy(o + 32, b + x[3], lm)
        _store(documents, ids, u + x[1], x[2] - x[1], value)
        x += FIELDS
