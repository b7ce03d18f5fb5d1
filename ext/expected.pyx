# cython: language_level=3
"""Native twin of ravenmigrate.verify.digests: verify's expected entries of a whole document run
(``add_documents``) and the server's documents of a read that are exactly as expected
(``match_documents``: the metadata's ``@id`` and ``@last-modified`` read from its bytes, the same
digests compared in place; everything else is left to verify's Python path, as the pure twin does).

A ``docrun.Run`` is read from its packed bytes (``Run.packed``; the layout is ``ext/docrun.pyx``'s
``FIELDS``): per document no result tuple, no copy of the document, and the two XXH3-128 digests
from ``xxhash``. Where the ``@metadata`` value lies the run says itself (``METADATA``: docrun wrote
the document, from an item the splitter accepted, as its compact body and then the metadata as its
last member); where it does not (-1), one scan by the ``jsonsplit`` Scanner finds it, exactly where
the carried offset would be (``tests/test_verify_expected_twins.py``). Anything the fast path does
not take (no literal ``@metadata`` object member, a document the scanner refuses or that does not
end where the run says) goes to the pure twin's ``add_document``, which is the specification.
Results as tuples (the pure ``docrun``) go to the pure twin too.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.ref cimport PyObject
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.string cimport memchr, memcmp, memcpy

from xxhash import xxh3_128_digest

from ravenmigrate._native.canonical import split_canonical
from ravenmigrate._native.jsonsplit import ScanError, Scanner
from ravenmigrate.verify import digests as _pure

DEF FIELDS = 9  # ext/docrun.pyx: offsets of data, id, collection, last-modified, etag, legacy, end; flags;
                # the offset of the @metadata value (METADATA) or -1
DEF HAS_LM = 1
DEF METADATA = 8
DEF ID_BUFFER = 256
DEF SEEN = 1024  # at most this many metadata digests remembered within a run
DEF CUTS = 8  # at most this many server-assigned members cut out of a metadata's shape


include "json_ws.pxi"

cdef object MATCHED = _pure.MATCHED


cdef extern from "Python.h":
    PyObject* PyDict_SetDefault(object d, object key, object default) except NULL  # borrowed
include "utf8.pxi"

# The server-assigned members a metadata's shape leaves out (_shape_digest): names the digests drop
# (verify.digests.SERVER_KEYS) whose values are strings, so their values do not change the digest.
if not {b'"@id"', b'"@change-vector"', b'"@flags"', b'"@last-modified"'} <= _pure.DROP:
    raise ImportError("ext/expected.pyx cuts a metadata member that verify.digests.DROP keeps")


cdef object _meta_digest(const char* b, Py_ssize_t ms, Py_ssize_t me, drop, dict seen):
    """XXH3-128 of the canonical text of the metadata value ``b[ms:me]`` without *drop*
    (``digests``), remembered in *seen* (at most ``SEEN``)."""
    meta = PyBytes_FromStringAndSize(NULL, me - ms + 14)
    cdef char* o = PyBytes_AS_STRING(meta)
    memcpy(o, b'{"@metadata":', 13)
    memcpy(o + 13, b + ms, me - ms)
    o[me - ms + 13] = 125
    canon = split_canonical(meta, drop)[1]
    digest = seen.get(canon)
    if digest is None:
        if len(seen) >= SEEN:
            seen.clear()
        digest = seen[canon] = xxh3_128_digest(canon)
    return digest


cdef object _shape_digest(const char* b, Py_ssize_t ms, Py_ssize_t me, const Py_ssize_t* cuts, int ncuts, drop,
                          dict seen, dict shapes):
    """``_meta_digest`` of the metadata value ``b[ms:me]``, remembered in *shapes* (at most ``SEEN``)
    under its shape: its bytes without the *ncuts* members ``cuts`` (``[start, end)`` pairs in order:
    server-assigned members whose names the digest drops and whose values are plain strings, see
    ``_top_members``). Two metadata of one shape differ only in such members, so they have the same
    canonical text, or both are refused (a refused one is not remembered); the server writes a
    distinct ``@id``, ``@change-vector`` and ``@last-modified`` in every document, but its shapes repeat.
    *ncuts* < 0: no shape, the digest is made from the bytes (``_meta_digest``)."""
    cdef Py_ssize_t n = me - ms, p = ms, k = 0
    cdef int j
    if ncuts < 0:
        return _meta_digest(b, ms, me, drop, seen)
    for j in range(ncuts):
        n -= cuts[2 * j + 1] - cuts[2 * j]
    key = PyBytes_FromStringAndSize(NULL, n)
    cdef char* o = PyBytes_AS_STRING(key)
    for j in range(ncuts):
        memcpy(o + k, b + p, cuts[2 * j] - p)
        k += cuts[2 * j] - p
        p = cuts[2 * j + 1]
    memcpy(o + k, b + p, me - p)
    digest = shapes.get(key)
    if digest is None:
        digest = _meta_digest(b, ms, me, drop, seen)
        if len(shapes) >= SEEN:
            shapes.clear()
        shapes[key] = digest
    return digest


cdef object _body_digest(const char* b, Py_ssize_t start, Py_ssize_t a, Py_ssize_t z, Py_ssize_t end):
    """XXH3-128 of ``b[start:a] + b[z:end]``: a document without its ``@metadata`` member."""
    body = PyBytes_FromStringAndSize(NULL, (a - start) + (end - z))
    cdef char* o = PyBytes_AS_STRING(body)
    memcpy(o, b + start, a - start)
    memcpy(o + (a - start), b + z, end - z)
    return xxh3_128_digest(body)


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
    i = _skip(b, k + 11, ms)
    if i >= ms or b[i] != 58:
        return False
    if _skip(b, i + 1, ms) != ms:
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


cdef bint _carried(const unsigned char* b, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t meta, Py_ssize_t* ms,
                   Py_ssize_t* me, Py_ssize_t* a, Py_ssize_t* z) noexcept nogil:
    """The ``@metadata`` value ``[ms, me)`` of the document ``b[start:stop]`` that docrun wrote, from the
    run's offset *meta* (``METADATA``), and the member ``[a, z)`` to leave out (``_member``): the
    document is ``{...,"@metadata":{...}}`` or ``{"@metadata":{...}}``. False when the run does not say
    or the bytes are not laid out so (then the scanner finds it)."""
    if meta < start + 13 or meta > stop - 3 or b[meta] != 123 or b[stop - 1] != 125 or b[stop - 2] != 125:
        return False
    if memcmp(b + meta - 12, b'"@metadata":', 12) != 0 or (b[meta - 13] != 44 and b[meta - 13] != 123):
        return False
    ms[0], me[0] = meta, stop - 1
    a[0] = meta - 13 if b[meta - 13] == 44 else meta - 12
    z[0] = stop - 1
    return True


cdef object _lower_key(const unsigned char* s, Py_ssize_t n):
    """``id.lower()`` of the UTF-8 id ``s[:n]``."""
    cdef char low[ID_BUFFER]
    cdef Py_ssize_t i
    cdef unsigned char c
    if n <= ID_BUFFER:
        for i in range(n):
            c = s[i]
            if c >= 128:
                break
            low[i] = <char>(c + 32 if 65 <= c <= 90 else c)
        else:
            return PyUnicode_DecodeASCII(low, n, NULL)
    return (<const char*>s)[:n].decode("utf-8").lower()


cdef _store(dict documents, dict ids, const unsigned char* s, Py_ssize_t n, value, dict early, list ready,
            set recheck):
    """``store`` (the pure twin's) under ``id.lower()`` (``str.lower``), and the id as written in *ids*
    only where it differs from the lower-cased one (*ids* holds no id *documents* does not: a new
    one is not looked up there). *early*, *ready*, *recheck*: the ``Join``'s, or None."""
    cdef Py_ssize_t i
    key = _lower_key(s, n)
    old = <object>PyDict_SetDefault(documents, key, value)  # one lookup where the id is new
    cdef bint new = old is value
    if not new:  # the source puts this document again
        if recheck is not None and PyBytes_GET_SIZE(old) == 0:  # MATCHED
            recheck.add(key)
        documents[key] = value
    if early and key in early:
        ready.append(key)
    for i in range(n):
        if s[i] >= 128 or 65 <= s[i] <= 90:
            break
    else:  # ASCII without a capital: the id is its own lower-cased form
        if ids and not new:
            ids.pop(key, None)
        return
    doc_id = (<const char*>s)[:n].decode("utf-8")
    if key != doc_id:
        ids[key] = doc_id
    elif not new:
        ids.pop(key, None)


def store_entries(list entries, dict documents, dict ids, join=None):
    """See ravenmigrate.verify.digests.store_entries."""
    cdef dict early = join.early if join is not None else None
    cdef list ready = join.ready if join is not None else None
    cdef set recheck = join.recheck if join is not None else None
    cdef bytes raw
    for pair in entries:
        raw = pair[0]
        _store(documents, ids, <const unsigned char*>PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), pair[1],
               early, ready, recheck)


def add_documents(results, dict documents, dict ids, bint bulk, join=None):
    """See ravenmigrate.verify.digests.add_documents."""
    if not hasattr(results, "packed"):
        _pure.add_documents(results, documents, ids, bulk, join)
        return
    cdef dict early = join.early if join is not None else None
    cdef list ready = join.ready if join is not None else None
    cdef set recheck = join.recheck if join is not None else None
    blob, index = results.packed()
    cdef const char* b = PyBytes_AS_STRING(blob)
    cdef const unsigned char* u = <const unsigned char*>b
    cdef const Py_ssize_t* x = <const Py_ssize_t*>PyBytes_AS_STRING(index)
    cdef Py_ssize_t count = PyBytes_GET_SIZE(index) // (FIELDS * sizeof(Py_ssize_t))
    cdef Py_ssize_t k, start, stop, end, ms, me, a = 0, z = 0, lm
    cdef bint carried
    cdef char* o
    drop = _pure.DROP_BULK if bulk else _pure.DROP
    scanner = Scanner()
    cdef dict seen = {}  # canonical metadata -> its digest: documents of a collection mostly share it
    cdef dict shapes = {}  # metadata bytes -> its digest: the same bytes in most documents of a collection
    for k in range(count):
        start, stop = x[0], x[1]
        lm = x[4] - x[3] if x[7] & HAS_LM else 0
        carried = _carried(u, start, stop, x[METADATA], &ms, &me, &a, &z)
        if carried:
            end = stop
        else:
            end = -1
            scanner.reset(start)
            try:
                end = scanner.scan(blob, True)
            except ScanError:
                pass
            ms, me = scanner.meta_start, scanner.meta_end
        if not carried and (end <= start or end > stop or ms < 0 or u[ms] != 123
                or not _member(u, start, ms, me, &a, &z)):
            _pure.add_document(documents, ids, b[x[1]:x[2]].decode("utf-8"), b[start:stop],
                               b[x[3]:x[4]].decode("ascii") if x[7] & HAS_LM else None, bulk, scanner, join)
            x += FIELDS
            continue
        meta_digest = _shape_digest(b, ms, me, NULL, 0, drop, seen, shapes)
        body_digest = _body_digest(b, start, a, z, end)
        value = PyBytes_FromStringAndSize(NULL, 32 + lm)
        o = PyBytes_AS_STRING(value)
        memcpy(o, PyBytes_AS_STRING(body_digest), 16)
        memcpy(o + 16, PyBytes_AS_STRING(meta_digest), 16)
        memcpy(o + 32, b + x[3], lm)
        _store(documents, ids, u + x[1], x[2] - x[1], value, early, ready, recheck)
        x += FIELDS


cdef inline bint _at(const unsigned char* b, Py_ssize_t i, Py_ssize_t e, Py_ssize_t* after, const char* what,
                     Py_ssize_t m) noexcept nogil:
    """*what* (``m`` bytes) occurs at ``b[i]``, inside ``b[:e]`` and not overlapping the last one found
    (which ended at *after*), as ``bytes.count`` counts; *after* moves past it."""
    if i < after[0] or i + m > e or memcmp(b + i, what, m) != 0:
        return False
    after[0] = i + m
    return True


cdef bint _names_once(const unsigned char* b, Py_ssize_t s, Py_ssize_t e) noexcept nogil:
    """``"@id"`` occurs exactly once in ``b[s:e]``, ``"@last-modified"`` at most once and
    ``"@attachments"`` not at all (each counted as ``bytes.count`` counts: not overlapping), found in
    one pass over its quotes."""
    cdef Py_ssize_t i = s, after_id = s, after_lm = s, after_att = s, ids = 0, modified = 0
    cdef const unsigned char* q
    while i < e:
        q = <const unsigned char*>memchr(b + i, 34, e - i)
        if q == NULL:
            break
        i = q - b
        if i + 1 < e and b[i + 1] == 64:
            if _at(b, i, e, &after_id, b'"@id"', 5):
                ids += 1
                if ids > 1:
                    return False
            elif _at(b, i, e, &after_lm, b'"@last-modified"', 16):
                modified += 1
                if modified > 1:
                    return False
            elif _at(b, i, e, &after_att, b'"@attachments"', 14):
                return False
        i += 1
    return ids == 1


cdef Py_ssize_t _value_end(const unsigned char* b, Py_ssize_t i, Py_ssize_t e) noexcept nogil:
    """The end of the JSON value at ``b[i]`` (no backslash in ``b``: strings end at the next quote);
    -1 when it does not end before *e*."""
    cdef Py_ssize_t depth = 0
    cdef unsigned char c
    while i < e:
        c = b[i]
        if c == 34:
            q = <const unsigned char*>memchr(b + i + 1, 34, e - i - 1)
            if q == NULL:
                return -1
            i = q - b + 1
            if depth == 0:
                return i
            continue
        if c == 123 or c == 91:
            depth += 1
        elif c == 125 or c == 93:
            if depth == 0:
                return i
            depth -= 1
            if depth == 0:
                return i + 1
        elif depth == 0 and (c == 44 or _ws(c)):
            return i
        i += 1
    return -1


cdef inline bint _cut(const unsigned char* k, Py_ssize_t n) noexcept nogil:
    """The member name ``k[:n]`` is one ``_shape_digest`` may cut (the module's check above)."""
    return ((n == 3 and memcmp(k, b"@id", 3) == 0) or (n == 14 and memcmp(k, b"@change-vector", 14) == 0)
            or (n == 6 and memcmp(k, b"@flags", 6) == 0) or (n == 14 and memcmp(k, b"@last-modified", 14) == 0))


cdef inline bint _plain_string(const unsigned char* s, Py_ssize_t n) noexcept nogil:
    """``s[:n]`` (a string's characters, no backslash among them) holds no control character and is
    strict UTF-8: a string every JSON reader here takes."""
    cdef Py_ssize_t i
    for i in range(n):
        if s[i] < 32:
            return False
    return _utf8_valid(s, n)


cdef bint _top_members(const unsigned char* b, Py_ssize_t ms, Py_ssize_t me, Py_ssize_t* id_s, Py_ssize_t* id_e,
                       Py_ssize_t* lm_s, Py_ssize_t* lm_e, Py_ssize_t* cuts, int* ncuts) noexcept nogil:
    """The values of the ``@id`` and ``@last-modified`` members of the metadata object ``b[ms:me]``
    (no backslash in it); False when its shape is not read here (then the caller's pure path decides).
    *cuts*: the spans (``"name": "value"``) of up to ``CUTS`` members ``_shape_digest`` leaves out of
    the metadata's shape (``_cut`` names with plain string values), *ncuts* how many; -1 when the
    object ends with a comma (the shape would not tell that from a cut last member)."""
    cdef Py_ssize_t i = ms + 1, ks, ke, ve
    cdef bint comma = False
    id_s[0] = lm_s[0] = -1
    ncuts[0] = 0
    while True:
        i = _skip(b, i, me)
        if i >= me:
            return False
        if b[i] == 125:
            if comma:
                ncuts[0] = -1
            return i + 1 == me
        if b[i] != 34:
            return False
        ks = i + 1
        q = <const unsigned char*>memchr(b + ks, 34, me - ks)
        if q == NULL:
            return False
        ke = q - b
        i = _skip(b, ke + 1, me)
        if i >= me or b[i] != 58:
            return False
        i = _skip(b, i + 1, me)
        ve = _value_end(b, i, me)
        if ve <= i:
            return False
        if ke - ks == 3 and memcmp(b + ks, b"@id", 3) == 0:
            id_s[0], id_e[0] = i, ve
        elif ke - ks == 14 and memcmp(b + ks, b"@last-modified", 14) == 0:
            lm_s[0], lm_e[0] = i, ve
        if (0 <= ncuts[0] < CUTS and b[i] == 34 and _cut(b + ks, ke - ks)
                and _plain_string(b + i + 1, ve - i - 2)):
            cuts[2 * ncuts[0]], cuts[2 * ncuts[0] + 1] = ks - 1, ve
            ncuts[0] += 1
        i = _skip(b, ve, me)
        comma = i < me and b[i] == 44
        if comma:
            i += 1
        elif not (i < me and b[i] == 125):
            return False


def match_documents(const unsigned char[:] buf, const long long[:] spans, dict documents, bint bulk, dict early=None):
    """See ravenmigrate.verify.digests.match_documents."""
    cdef Py_ssize_t n = buf.shape[0], kept = 0
    cdef const unsigned char* b = &buf[0] if n > 0 else NULL
    cdef Py_ssize_t i, start, end, ms, me, a = 0, z = 0, id_s, id_e = 0, lm_s, lm_e = 0, matched = 0
    cdef const char* w
    cdef list others = []
    cdef dict seen = {}
    cdef dict shapes = {}
    cdef Py_ssize_t cuts[2 * CUTS]
    cdef int ncuts = 0
    drop = _pure.DROP_BULK if bulk else _pure.DROP
    for i in range(spans.shape[0] // 4):
        start, end, ms, me = spans[4 * i], spans[4 * i + 1], spans[4 * i + 2], spans[4 * i + 3]
        if (ms < 0 or me > n or b[ms] != 123 or memchr(b + ms, 92, me - ms) != NULL
                or not _names_once(b, ms, me)
                or not _top_members(b, ms, me, &id_s, &id_e, &lm_s, &lm_e, cuts, &ncuts)
                or id_s < 0 or b[id_s] != 34 or not _member(b, start, ms, me, &a, &z)):
            others.append(i)
            continue
        try:
            key = _lower_key(b + id_s + 1, id_e - id_s - 2)
        except UnicodeDecodeError:
            others.append(i)
            continue
        want = documents.get(key)
        if want is None and early is not None:  # its entry has not come yet
            early[key] = (PyBytes_FromStringAndSize(<const char*>b + start, end - start), ms - start, me - start)
            kept += end - start
            continue
        if want is None or PyBytes_GET_SIZE(want) == 0:  # none, or MATCHED: verify decides
            others.append(i)
            continue
        w = PyBytes_AS_STRING(want)
        if PyBytes_GET_SIZE(want) > 32 and (lm_s < 0 or b[lm_s] != 34 or lm_e - lm_s - 2 != PyBytes_GET_SIZE(want) - 32
                                            or memcmp(b + lm_s + 1, w + 32, lm_e - lm_s - 2) != 0):
            others.append(i)
            continue
        try:
            meta_digest = _shape_digest(<const char*>b, ms, me, cuts, ncuts, drop, seen, shapes)
        except ValueError:
            others.append(i)
            continue
        if memcmp(PyBytes_AS_STRING(meta_digest), w + 16, 16) != 0:
            others.append(i)
            continue
        body_digest = _body_digest(<const char*>b, start, a, z, end)
        if memcmp(PyBytes_AS_STRING(body_digest), w, 16) != 0:
            others.append(i)
            continue
        documents[key] = MATCHED
        matched += 1
    return matched, others, kept
