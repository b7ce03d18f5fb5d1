"""Pure-Python twin ``docrun``: read and convert the common 3.x document in one step.

The general path builds a ``Document`` per record (the reader parses its ``@metadata``) and then
a ``Document4`` (the converter rewrites it, docs/formats/import-4x.md §3). Most documents of a real export
need none of the rules that carry state or report deviations; for those, :func:`convert_run`
produces exactly what the two steps produce (the same compact bytes, id, collection and
last-modified; ``tests/test_docrun.py`` checks it on every real and generated dump) and stops at
the first document that needs the general path. The native twin (``ext/docrun.pyx``) does it in
one pass in C, which is what makes ``convert`` and ``load`` cost little more than the gzip work.

Escapes ``\\uXXXX`` are written as raw UTF-8 as the general path writes them
(``jsonsplit.raw_unicode``). A document takes the general path when any of these holds: an
escaped surrogate (reported as a deviation there); ``@metadata`` missing, not last, or appearing more than once
(nested metadata, §3.3); a single-quoted string, a comment or a trailing comma (lenient 3.x
JSON, docs/formats/dumps-3x.md §5); an escaped metadata key, an escaped or non-string ``@id`` or
last-modified, a composite metadata value other than ``Raven-Replication-History``'s array;
``@flags``, ``@change-vector``, ``Raven-Document-Revision-Status`` (revisions, §4),
``Raven-Expiration-Date``/``@expires`` (expiration); a last-modified with a 3-digit fraction
(§3.4 deviation) or an invalid one; an id containing ``Raven/`` (system
documents and ``@hilo``, §3.1); a collection that is neither a plain string nor null, or a
collection key (``Raven-Entity-Name``, ``@collection``) given twice or in another case (3.x
reads metadata keys case-insensitively; ``inspect`` names the collection that way).

:func:`tally` sums up a run for ``inspect``: the same collections, sizes and findings its general
path makes from each document's ``@metadata``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..codecs.jsonsplit import SPAN_FIELDS, compact, raw_unicode
from .lastmodified import is_date_time

Result = tuple[str, bytes, str, str | None, str | None, str | None]
"""``(id, data, collection, last_modified, etag, legacy_last_modified)``: the ``Document4`` fields
(``last_modified`` None: the document has none; the converter applies the section's carry-over
rule, §3.4) and the two values the reader's era evidence samples (``@etag``, ``Last-Modified``;
None when not a string)."""

_WS = b" \t\r\n\f\v"
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_TRAILING_COMMA = re.compile(rb",[ \t\r\n\f\v]*[}\]]")
_WORD = re.compile(rb"[A-Za-z0-9+\-._]+")
_DATE = re.compile(rb"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{7})?Z?\Z")
_DROPPED = frozenset({
    b"@index-score", b"Raven-Read-Only", b"Raven-Document-Revision", b"Raven-Replication-Source",
    b"Raven-Replication-Version", b"Non-Authoritative-Information", b"Raven-Document-Parent-Revision",
    b"Raven-Replication-Merged-History",
})
_GENERAL = frozenset({b"@flags", b"@change-vector", b"Raven-Document-Revision-Status", b"Raven-Expiration-Date",
                      b"@expires"})
_LAST_MODIFIED = frozenset({b"@last-modified", b"Raven-Last-Modified"})
_SURROGATE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F]")
_COLLECTION_KEYS = frozenset({b"raven-entity-name", b"@collection"})
_NAMED = b'"@collection":"'
EXAMPLES = 5
"""Ids :func:`tally` lists of the documents without a collection (inspect shows five)."""


def convert_run(buf: bytes | bytearray | memoryview, items: list[tuple[int, int, int, int]], first: int,
                stop: int) -> tuple[list[Result], int, int]:
    """Convert ``items[first:stop]`` (``(start, end, meta_start, meta_end)`` spans in *buf*, as the
    splitter delimits them) while they are common documents; returns the results and the index of
    the first item not converted (*stop* when all were), and how many results have no last-modified."""
    results: list[Result] = []
    i = first
    missing = 0
    while i < stop:
        start, end, ms, me = items[i]
        record = bytes(buf[start:end])
        result = _one(record, ms - start, me - start)
        if result is None:
            break
        results.append(result)
        missing += result[3] is None
        i += 1
    return results, i, missing


def convert_compact_run(compact: bytes, spans: Sequence[int], first: int, stop: int) -> tuple[list[Result], int, int]:
    """:func:`convert_run` of what ``Scanner.scan_compact_items`` returns: the compact bytes and the
    packed spans (``SPAN_FIELDS`` per item, the compact span at 4-7; lenient items have no metadata
    span there, so they stop the run as their raw bytes would). The results are the same as for
    the raw items; the native twin copies the bytes before the metadata as they are instead of
    compacting them again, and reads the spans without a Python object per item."""
    w = SPAN_FIELDS
    items = [tuple(spans[w * i + 4:w * i + 8]) for i in range(first, min(stop, len(spans) // w))]
    results, i, missing = convert_run(compact, items, 0, len(items))
    return results, first + i, missing


def _clean(raw: bytes) -> bool:
    """No single quote, comment or trailing comma outside the strings of *raw*."""
    rest = _STRING.sub(b'""', raw)
    return b"'" not in rest and b"/" not in rest and _TRAILING_COMMA.search(rest) is None


def _last_modified(value: bytes) -> str | None:
    if len(value) not in (19, 20, 27, 28) or (len(value) % 2 == 0 and not value.endswith(b"Z")):
        return None
    m = _DATE.match(value)
    if m is None or (len(value) >= 27) != (m.group(7) is not None):
        return None
    if not is_date_time(*(int(g) for g in m.groups()[:6])):
        return None
    return value[:19].decode() + (m.group(7) or b".0000000").decode() + "Z"


def _scalar_end(data: bytes, vs: int) -> int:
    if data[vs] == 0x22:
        m = _STRING.match(data, vs)
        return m.end() if m else -1
    m = _WORD.match(data, vs)
    return m.end() if m else -1


def _composite_end(data: bytes, vs: int) -> int:
    depth = 0
    i = vs
    while i < len(data):
        c = data[i]
        if c == 0x22:
            m = _STRING.match(data, i)
            if m is None:
                return -1
            i = m.end()
            continue
        if c in b"'/":
            return -1
        if c in b"{[":
            depth += 1
        elif c in b"}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _skip(data: bytes, i: int, end: int) -> int:
    while i < end and data[i] in _WS:
        i += 1
    return i


def _one(data: bytes, ms: int, me: int) -> Result | None:
    if ms < 0 or data[:1] != b"{" or data[ms:ms + 1] != b"{" or me <= ms or data.count(b"@metadata") != 1:
        return None
    if _skip(data, me, len(data)) != len(data) - 1 or data[-1] != 0x7D:
        return None
    if not _clean(data[:ms]):
        return None
    members: list[bytes] = []
    doc_id: bytes | None = None
    last_modified: bytes | None = None
    etag: bytes | None = None
    legacy: bytes | None = None
    collection: bytes | None = None
    collection_keys = 0
    i = _skip(data, ms + 1, me)
    if i < me and data[i] == 0x7D:
        i += 1
    else:
        while True:
            if i >= me or data[i] != 0x22:
                return None
            key = _STRING.match(data, i)
            if key is None or b"\\" in key.group():
                return None
            name = key.group()[1:-1]
            i = _skip(data, key.end(), me)
            if i >= me or data[i] != 0x3A:
                return None
            vs = _skip(data, i + 1, me)
            if vs >= me:
                return None
            first = data[vs]
            ve = _composite_end(data, vs) if first in b"{[" else _scalar_end(data, vs)
            if ve < 0 or ve > me:
                return None
            value = data[vs:ve]
            escaped = first == 0x22 and b"\\" in value
            if name in _GENERAL:
                return None
            if name.lower() in _COLLECTION_KEYS:
                collection_keys += 1
                if collection_keys > 1 or name not in (b"Raven-Entity-Name", b"@collection"):
                    return None
            if first == 0x7B or (first == 0x5B and name != b"Raven-Replication-History"):
                return None
            if name == b"@id" or name in _LAST_MODIFIED:
                if first != 0x22 or escaped:
                    return None
                if name == b"@id":
                    doc_id = value[1:-1]
                else:
                    last_modified = value[1:-1]
            elif name == b"@etag" or name == b"Last-Modified":
                if escaped:
                    return None
                text = value[1:-1] if first == 0x22 else None
                if name == b"@etag":
                    etag = text
                else:
                    legacy = text
            elif name in _DROPPED:
                pass
            elif name == b"Raven-Replication-History":
                if first != 0x5B:
                    return None
            else:
                if name in (b"Raven-Entity-Name", b"@collection"):
                    if first == 0x22 and not escaped:
                        collection = value[1:-1]
                    elif value == b"null":
                        collection = None
                    else:
                        return None
                out_key = b'"@collection"' if name == b"Raven-Entity-Name" else key.group()
                members.append(out_key + b":" + value)
            i = _skip(data, ve, me)
            if i < me and data[i] == 0x2C:
                i = _skip(data, i + 1, me)
                if i < me and data[i] == 0x7D:
                    return None
                continue
            if i < me and data[i] == 0x7D:
                break
            return None
    if doc_id is None or any(c < 0x20 for c in doc_id) or b"Raven/" in doc_id:
        return None
    lm = _last_modified(last_modified) if last_modified is not None else None
    if last_modified is not None and lm is None:
        return None
    try:
        text_id = doc_id.decode("utf-8")
        text_collection = collection.decode("utf-8") if collection is not None else "@empty"
        text_etag = etag.decode("utf-8") if etag is not None else None
        text_legacy = legacy.decode("utf-8") if legacy is not None else None
    except UnicodeDecodeError:
        return None
    out = compact(data, 0, ms) + b"{" + b",".join(members) + b"}}"
    if b"\\u" in data:
        if _SURROGATE.search(data):
            return None
        out = raw_unicode(out)
    return text_id, out, text_collection, lm, text_etag, text_legacy


def tally(results: Sequence[Result], spans: Sequence[int]) -> tuple[dict[str, int], int, list[str], int, int, int]:
    """What ``inspect`` counts of a run: ``(collections, unnamed, examples, total, largest, largest_size)``.

    *spans* are the run's packed splitter spans (``SPAN_FIELDS`` per document, its raw span first),
    so a size is the document's length in the source, as the general path's ``len(record.data)``.
    ``collections``: documents per collection (the 3.x ``Raven-Entity-Name``; ``@empty`` without
    one); ``unnamed``: documents without a collection whose id does not start with ``raven/`` (any
    case), ``examples`` the first :data:`EXAMPLES` of their ids; ``total``: the sum of the sizes;
    ``largest``: the index of the first largest document (-1 for an empty run) and its size."""
    collections: dict[str, int] = {}
    unnamed = total = 0
    examples: list[str] = []
    largest, largest_size = -1, -1
    w = SPAN_FIELDS
    for k, r in enumerate(results):
        data = r[1]
        if _NAMED in data[data.rindex(b'"@metadata":{'):]:
            name = r[2]
        else:
            name = "@empty"
            if not r[0].lower().startswith("raven/"):
                unnamed += 1
                if len(examples) < EXAMPLES:
                    examples.append(r[0])
        collections[name] = collections.get(name, 0) + 1
        size = spans[w * k + 1] - spans[w * k]
        total += size
        if size > largest_size:
            largest, largest_size = k, size
    return collections, unnamed, examples, total, largest, largest_size


def dump4_elements(results: list[Result]) -> bytes:
    """The run's documents (each with a last-modified) as comma-separated 4.x dump ``Docs`` elements
    (:func:`document_elements`)."""
    return b",".join(document_elements(results)[1])


def document_elements(results: list[Result]) -> tuple[list[str], list[bytes]]:
    """The ids of the run's documents (each with a last-modified) and each one as a ``Docs`` element:
    ``@id`` and ``@last-modified`` spliced in front of the closing brace of its ``@metadata`` (its
    last member, only scalars inside), exactly as ``sinks.dump4.records.document_parts`` frames a
    document (§11); the legacy ``Docs`` section of an import reads them the same way (§2)."""
    return [r[0] for r in results], [
        b"".join((data[:-2], b'"@id":"' if data[-3] == 0x7B else b',"@id":"', doc_id.encode(),
                  b'","@last-modified":"', last_modified.encode(), b'"}}'))
        for doc_id, data, _, last_modified, _, _ in results]


def era_values(results: list[Result], start: int, stop: int, step: int
               ) -> tuple[list[str | None], list[str | None]]:
    """The etags and the legacy last-modified values of ``results[start:stop:step]`` (two lists):
    what the era evidence of a reader samples (``sources/era.py``), without the rest of each result."""
    sample = results[start:stop:step]
    return [r[4] for r in sample], [r[5] for r in sample]
