"""Pure-Python twin ``dump4_metadata``: where a document's own ``@metadata`` object closes.

The dump writer splices ``@id`` and ``@last-modified`` in front of that brace (docs/formats/import-4x.md §11)
instead of re-serialising the document. The native twin is ``ext/dump4_metadata.pyx``.
"""

from __future__ import annotations

import json

from ...convert.jsonbytes import decode_key, iter_object

METADATA_KEY = b'"@metadata":'
_DECODER = json.JSONDecoder(strict=False)
_VALUE_OFFSET = len(METADATA_KEY)


def _last_member_metadata(data: bytes) -> tuple[int, bool] | None:
    """Fast path of :func:`metadata_close`: the ``@metadata`` object is the document's last member.

    The tail from the last ``"@metadata":`` key is decoded and its value parsed by the C JSON
    scanner; if only the document's closing brace follows, that value is the document's own
    metadata (a nested one would be followed by at least two closers).
    """
    key = data.rfind(METADATA_KEY)
    if key <= 0:
        return None
    try:
        tail = data[key:].decode("utf-8")
        start = _VALUE_OFFSET
        while tail[start] in " \t\r\n":
            start += 1
        value, end = _DECODER.raw_decode(tail, start)
    except (ValueError, IndexError):
        return None
    if not isinstance(value, dict) or tail[end:].strip() != "}":
        return None
    close = data[:data.rstrip().rfind(b"}")].rstrip()
    return len(close) - 1, not value


def metadata_close(data: bytes) -> tuple[int, bool]:
    """Where the document's own ``@metadata`` object closes, and whether it is empty.

    Returns ``(index of its '}', empty)``, or ``(-1, True)`` when the document has no
    top-level ``@metadata`` object. 3.x exports and the converter keep the metadata last (fast
    path); otherwise the top-level members are walked.
    """
    found = _last_member_metadata(data)
    if found is not None:
        return found
    for ks, ke, vs, ve in iter_object(data, data.index(b"{")):
        if data[vs] == 0x7B and decode_key(data[ks:ke]) == "@metadata":
            return ve - 1, not data[vs + 1:ve - 1].strip()
    return -1, True


