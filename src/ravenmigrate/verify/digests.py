"""The digests verify compares documents by, and the expected entry of a converted document.

The pure twin of ``ext/expected.pyx`` (``ravenmigrate._native.expected``): :func:`add_documents`
fills verify's expected dicts from the results of a document run (``DocumentRun.results``: tuples
here, a ``docrun.Run``'s packed bytes natively). Per document the body is digested from its raw
bytes without the ``@metadata`` member (:func:`raw_digests`; the 4.x server returns a body as it
was sent) and the metadata from its canonical text (``codecs.canonical``), or both canonically
(:func:`digests`) where the raw form does not apply. :func:`match_documents` takes the server's
documents that are exactly as expected out of the expected entries a read at a time, so verify
looks at the others only. docs/loading.md ("Verify").
"""

from __future__ import annotations

import json
from typing import Any

from xxhash import xxh3_128, xxh3_128_digest

from .. import _twins
from ..codecs import jsonvalue

_twins.register("canonical", "ravenmigrate.codecs.canonical")
_canonical = _twins.load("canonical")
_twins.register("jsonsplit", "ravenmigrate.codecs.jsonsplit")
_split = _twins.load("jsonsplit")

SERVER_KEYS = frozenset({"@id", "@change-vector", "@flags", "@attachments", "@counters", "@last-modified"})
LEGACY_ATTACHMENT_METADATA = "@legacy-attachment-metadata"


def _names(names: frozenset[str]) -> frozenset[bytes]:
    return frozenset(json.dumps(n).encode() for n in names)


DROP = _names(SERVER_KEYS)
DROP_BULK = _names(SERVER_KEYS | {LEGACY_ATTACHMENT_METADATA})


def digests(data: bytes, bulk: bool) -> tuple[bytes, bytes]:
    """(body digest, metadata digest) of a document's JSON: XXH3-128 of the canonical texts
    (``codecs.canonical``: numbers by value, key order and escaping ignored) of the document without
    ``@metadata`` and of ``@metadata`` without what the server assigns (``SERVER_KEYS``)."""
    body, meta = _canonical.split_canonical(data, DROP_BULK if bulk else DROP)
    return xxh3_128_digest(body), xxh3_128_digest(meta)


_WS = b" \t\r\n"
_META_MEMBER = b'"@metadata"'


def metadata_member(buf: Any, start: int, ms: int, me: int) -> tuple[int, int] | None:
    """Where the ``@metadata`` member whose value is ``buf[ms:me]`` lies in the document that starts
    at *start*, with the one comma beside it: ``[a, b)`` to leave out for the document's raw body
    (``{"A":1,"@metadata":{}}`` and ``{"@metadata":{},"A":1}`` both leave ``{"A":1}``). None when
    the member's name is not written literally."""
    k = buf.rfind(_META_MEMBER, start, ms)
    if k < 0 or buf[k + 11:ms].strip(_WS) != b":":
        return None
    p = k - 1
    while buf[p] in _WS:
        p -= 1
    if buf[p] == 0x2C:
        return p, me
    q = me
    while buf[q] in _WS:
        q += 1
    return (k, q + 1) if buf[q] == 0x2C else (k, me)


def raw_digests(buf: Any, start: int, end: int, ms: int, me: int, bulk: bool) -> tuple[bytes, bytes] | None:
    """The fast pair of digests of the document ``buf[start:end]`` whose ``@metadata`` value is
    ``buf[ms:me]``: XXH3-128 of its raw bytes without the ``@metadata`` member (``metadata_member``),
    and the metadata's digest as :func:`digests` gives it (canonical, small). Equal raw bodies hold
    equal values; different ones may still hold equal values written differently, which
    :func:`digests` decides. None when there is no literal ``@metadata`` object member."""
    if ms < 0 or buf[ms] != 0x7B:
        return None
    span = metadata_member(buf, start, ms, me)
    if span is None:
        return None
    view = memoryview(buf)
    h = xxh3_128(view[start:span[0]])
    h.update(view[span[1]:end])
    _, meta = _canonical.split_canonical(b'{"@metadata":' + view[ms:me] + b"}", DROP_BULK if bulk else DROP)
    return h.digest(), xxh3_128_digest(meta)


MATCHED = b""  # the entry of a document the server's stream has matched already (an entry is >= 32 bytes)


class Join:
    """Where the source's side and the server's stream meet when verify runs them side by side
    (docs/loading.md "Verify"): ``early`` holds the server's documents that came before their
    expected entry (by lower-cased id), ``ready`` the ids of those whose entry has come since, and
    ``recheck`` the ids the source put again or deleted after the server's document had matched
    (their entry was ``MATCHED``): the last word on those is the source's, checked at the end."""

    __slots__ = ("early", "ready", "recheck")

    def __init__(self) -> None:
        self.early: dict[str, Any] = {}
        self.ready: list[str] = []
        self.recheck: set[str] = set()


def store(documents: dict[str, bytes], low: str, value: bytes, join: Join | None) -> bool:
    """``documents[low] = value``, telling *join* (when given) of an entry replacing a matched one
    (``recheck``) and of one a server's document is waiting for (``ready``); whether *low* is new."""
    old = documents.setdefault(low, value)  # one lookup where the id is new (the common case)
    if old is not value:  # the source puts this document again
        if join is not None and old == MATCHED:
            join.recheck.add(low)
        documents[low] = value
    if join is not None and join.early and low in join.early:
        join.ready.append(low)
    return old is value


def add_document(documents: dict[str, bytes], ids: dict[str, str], doc_id: str, data: bytes,
                 last_modified: str | None, bulk: bool, scanner: Any, join: Join | None = None) -> None:
    """The expected entry of one converted document: under its lower-cased id, one bytes object,
    the body and metadata digests (16 bytes each, :func:`raw_digests` where it applies, else
    :func:`digests`) and the last-modified value when it has one (:func:`store`); its id as written
    in *ids* only where that differs from the lower-cased one. *scanner*: a ``jsonsplit`` Scanner
    to reuse."""
    pair = None
    scanner.reset(0)
    try:
        end = scanner.scan(data, True)
    except _split.ScanError:
        end = 0
    if end > 0:
        pair = raw_digests(data, 0, end, scanner.meta_start, scanner.meta_end, bulk)
    body, meta = pair or digests(data, bulk)
    store_entry(documents, ids, doc_id, body + meta + (last_modified.encode("ascii") if last_modified else b""),
                join)


def store_entry(documents: dict[str, bytes], ids: dict[str, str], doc_id: str, entry: bytes,
                join: Join | None = None) -> None:
    """The expected *entry* of the document *doc_id* under its lower-cased id (:func:`store`), its id
    as written in *ids* only where that differs from the lower-cased one."""
    low = doc_id.lower()
    new = store(documents, low, entry, join)
    if doc_id != low:
        ids[low] = doc_id
    elif not new:  # ids holds only ids documents holds: a new one is not there
        ids.pop(low, None)


def add_documents(results: Any, documents: dict[str, bytes], ids: dict[str, str], bulk: bool,
                  join: Join | None = None) -> None:
    """:func:`add_document` for every ``(id, data, collection, last_modified, ...)`` of a document
    run's *results*, in order."""
    scanner = _split.Scanner()
    for r in results:
        add_document(documents, ids, r[0], r[1], r[3], bulk, scanner, join)


def store_entries(entries: Any, documents: dict[str, bytes], ids: dict[str, str], join: Join | None = None) -> None:
    """The entries of an expected list's document event (``verify.expected_list``): ``[id, entry]``
    each, the id as written in UTF-8 bytes and the entry :func:`add_document` made of the document,
    stored as :func:`add_document` stores it (:func:`store_entry`)."""
    for raw_id, entry in entries:
        store_entry(documents, ids, raw_id.decode("utf-8"), entry, join)


# orjson costs about 12 ms to import (jsonvalue's ORJSON_AFTER); verify parses only a few hundred
# @metadata objects one by one when the documents are as expected, so it is imported only past this.
SERVER_ORJSON_AFTER = 2_000
_SERVER_FAST = jsonvalue.LazyOrjson(SERVER_ORJSON_AFTER)


def server_metadata(data: memoryview) -> Any:
    """A server's ``@metadata`` object, of which verify reads only strings (``@id``,
    ``@last-modified``, ``@attachments``; the digests come from the bytes): orjson (the "fast"
    extra; a third of the time of ``jsonvalue.loads``, measured on 38 904 documents: 0.028 s against
    0.09) once :data:`SERVER_ORJSON_AFTER` were parsed, ``jsonvalue.loads`` before, for what orjson
    refuses (a number past a double's range) and when it is not installed."""
    fast = _SERVER_FAST.loads if _SERVER_FAST.loads is not False else _SERVER_FAST.get()
    if fast is not None:
        try:
            return fast(data)
        except ValueError:
            pass
    return jsonvalue.loads(data)


def match_documents(buf: Any, spans: Any, documents: dict[str, bytes],
                    bulk: bool, early: dict[str, Any] | None = None) -> tuple[int, list[int], int]:
    """The server's documents *spans* (``start, end, meta_start, meta_end`` of each in *buf*, one
    after the other in an ``array('q')``, as ``jsonsplit``'s ``scan_spans`` delimits them) that are
    exactly as expected, their entries in *documents* replaced by ``MATCHED``: how many; the
    positions (document numbers) in *spans* of all the others, for verify to look at one
    by one (differing, with attachments, or anything this does not decide: metadata with a
    backslash, with ``"@id"`` not exactly once or ``"@last-modified"`` more than once, not JSON);
    and the bytes of those kept in *early* when it is given: a document without an entry is then
    kept there under its lower-cased id as ``(its bytes, meta_start, meta_end)`` (``Join.early``),
    else it is one of the others."""
    matched, kept = 0, 0
    others = []
    for i in range(len(spans) // 4):
        start, end, ms, me = spans[4 * i:4 * i + 4]
        outcome = _matches(buf, start, end, ms, me, documents, bulk, early)
        if outcome == "matched":
            matched += 1
        elif outcome == "kept":
            kept += end - start
        else:
            others.append(i)
    return matched, others, kept


def _matches(buf: Any, start: int, end: int, ms: int, me: int, documents: dict[str, bytes], bulk: bool,
             early: dict[str, Any] | None) -> str:
    if ms < 0 or buf[ms] != 0x7B:
        return "other"
    meta_bytes = bytes(buf[ms:me])
    if (b"\\" in meta_bytes or meta_bytes.count(b'"@id"') != 1 or meta_bytes.count(b'"@last-modified"') > 1
            or b'"@attachments"' in meta_bytes):
        return "other"
    try:
        meta = server_metadata(meta_bytes)
        doc_id = meta.get("@id")
        if not isinstance(doc_id, str) or metadata_member(buf, start, ms, me) is None:
            return "other"
        want = documents.get(doc_id.lower())
        if want is None and early is not None:  # its entry has not come yet
            early[doc_id.lower()] = (bytes(buf[start:end]), ms - start, me - start)
            return "kept"
        pair = raw_digests(buf, start, end, ms, me, bulk) if want else None  # none, or MATCHED: verify decides
    except ValueError:
        return "other"
    if pair is None or pair[0] != want[:16] or pair[1] != want[16:32]:
        return "other"
    if len(want) > 32 and meta.get("@last-modified") != want[32:].decode("ascii"):
        return "other"
    documents[doc_id.lower()] = MATCHED
    return "matched"
