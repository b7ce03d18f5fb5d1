"""Pure-Python twin ``attachrun``: read and convert the common 3.x attachment in one step.

The general path builds an ``Attachment`` per record (the reader parses the record and decodes its
base64), converts it into the ``files/{Key}`` document and its ``AttachmentPut4`` (with the BLAKE2b
hash, docs/formats/import-4x.md §6), and the dump writer turns that pair back into a legacy
``Attachments`` element ``{"Key","Metadata","Data"}`` (docs/dump4.md). For the common record that
element is the record itself, compacted: the key and the base64 text as they are, the metadata
compact. :func:`legacy_run` writes those elements for consecutive common records (exactly the
bytes of the general path: ``tests/test_attachrun.py``) and stops at the first record that needs
the general path; the native twin (``ext/attachrun.pyx``) does it in C, without a Python object
per attachment.

A record is common when it is strict JSON (whitespace `` \\t\\r\\n`` only) with the members
``Data``, ``Metadata``, ``Key`` and an optional ``Etag``, each once, in any order and spelt so, and:
``Key`` a string without a backslash or a control character, not ending with ``.deleting`` or
``.downloading`` (4.x skips those, §6); ``Etag`` such a string or ``null``; ``Data`` a string of
canonical base64 (standard alphabet, ``=`` padding, the unused bits zero: what re-encoding the
decoded bytes gives back); ``Metadata`` an object whose member names are such strings, each once in any case and
none ``Raven-Delete-Marker`` (4.x skips a deleted attachment), whose values are such
strings, ``true``, ``false``, ``null`` or integers of at most 18 digits without a sign on zero
(which the general path writes back as they are). Anything else (escapes, other numbers, nested
values, damaged records) takes the general path, which reports what is wrong where.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

RUN_BYTES = 1 << 20
"""A run ends after the element that takes its elements to this many bytes (memory stays bounded)."""
MAX_MEMBERS = 64
"""An object with more members takes the general path (the native twin's fixed table)."""

_WS = rb"[ \t\r\n]*+"
_PLAIN = rb'"[^"\\\x00-\x1f]*+"'
_SCALAR = re.compile(_PLAIN + rb"|true|false|null|0|-?[1-9][0-9]{0,17}")
_NAME = re.compile(_PLAIN + _WS + rb":" + _WS)
_SEPARATOR = re.compile(_WS + rb"([,}])" + _WS)
_SPACE = re.compile(_WS)
_STRING = re.compile(rb'"[^"\\]*+"')
_BARE = re.compile(rb"[^ \t\r\n,}]++")
_BASE64 = re.compile(rb'"((?:[A-Za-z0-9+/]{4})*+(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?)"')
_SKIPPED_SUFFIXES = (b'.deleting"', b'.downloading"')
_MEMBERS = frozenset({b"Data", b"Metadata", b"Key", b"Etag"})
_DELETE_MARKER = b"raven-delete-marker"

Run = tuple[bytes, int, int, int]
"""``(elements, stop, data_bytes, null_etags)``: the elements joined by commas, the index of the
first item not converted, the decoded size of the payloads and how many records have no ``Etag``
(or a null one: what the reader's era evidence counts)."""


def legacy_run(buf: bytes | bytearray | memoryview, items: Sequence[tuple[int, int, int, int]], first: int,
               stop: int) -> Run:
    """The legacy elements of ``items[first:stop]`` (``(start, end, ...)`` spans in *buf*, as the
    splitter delimits them) while they are common attachments (the module doc), up to
    :data:`RUN_BYTES` of elements."""
    elements: list[bytes] = []
    size = data_bytes = null_etags = 0
    i = first
    while i < stop and size < RUN_BYTES:
        start, end = items[i][:2]
        one = _one(bytes(buf[start:end]))
        if one is None:
            break
        element, n, no_etag = one
        size += len(element) + (1 if elements else 0)
        elements.append(element)
        data_bytes += n
        null_etags += no_etag
        i += 1
    return b",".join(elements), i, data_bytes, null_etags


def _one(record: bytes) -> tuple[bytes, int, bool] | None:
    """The element of one record, the decoded size of its payload and whether it has no etag; None
    when the record is not a common one."""
    members = _members(record, 0)
    if members is None or len(members) != len({name for name, _ in members}):
        return None
    found = dict(members)
    if not _MEMBERS.issuperset(found) or not {b"Data", b"Metadata", b"Key"} <= found.keys():
        return None
    key, metadata, data = found[b"Key"], found[b"Metadata"], found[b"Data"]
    etag = found.get(b"Etag", b"null")
    if (_SCALAR.fullmatch(key) is None or key[:1] != b'"' or key.endswith(_SKIPPED_SUFFIXES)
            or (_SCALAR.fullmatch(etag) is None or etag[:1] != b'"') and etag != b"null"):
        return None
    if _BASE64.fullmatch(data) is None or metadata[:1] != b"{":
        return None
    inner = _members(metadata, 0)
    if inner is None or len(inner) != len({name.lower() for name, _ in inner}):
        return None
    if any(name.lower() == _DELETE_MARKER or _SCALAR.fullmatch(value) is None for name, value in inner):
        return None
    compact = b"{" + b",".join(b'"' + name + b'":' + value for name, value in inner) + b"}"
    payload = len(data) - 2
    size = payload // 4 * 3 - (data.endswith(b'=="') + data.endswith(b'="')) if payload else 0
    element = b'{"Key":' + key + b',"Metadata":' + compact + b',"Data":' + data + b"}"
    return element, size, etag == b"null"


def _members(data: bytes, start: int) -> list[tuple[bytes, bytes]] | None:
    """The ``(name, raw value)`` pairs of the strict object at ``data[start]`` spanning the rest of
    *data*; values are scalars or one level of object (the record's ``Metadata``); None otherwise."""
    if data[start:start + 1] != b"{":
        return None
    i = _SPACE.match(data, start + 1).end()
    out: list[tuple[bytes, bytes]] = []
    if data[i:i + 1] == b"}":
        return out if i + 1 == len(data) else None
    while True:
        if len(out) == MAX_MEMBERS:
            return None
        name = _NAME.match(data, i)
        if name is None:
            return None
        vs = name.end()
        if data[vs:vs + 1] == b"{":
            ve = data.find(b"}", vs)
            if ve < 0:
                return None
            ve += 1
        elif data[vs:vs + 1] == b'"':
            value = _STRING.match(data, vs)
            if value is None:
                return None
            ve = value.end()
        else:
            value = _BARE.match(data, vs)
            if value is None:
                return None
            ve = value.end()
        out.append((data[i + 1:data.index(b'"', i + 1)], data[vs:ve]))
        sep = _SEPARATOR.match(data, ve)
        if sep is None:
            return None
        if sep.group(1) == b"}":
            return out if sep.end() == len(data) else None
        i = sep.end()
