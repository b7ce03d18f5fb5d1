"""Small JSON helpers for the sinks: encoding parsed values (``Decimal`` kept exact) and adding
members at the start of a document's top-level ``@metadata`` without re-serialising the body."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_META = b'"@metadata":{'


def dumps(value: Any) -> bytes:
    """Compact JSON; ``Decimal`` numbers are written with their exact digits."""
    return _dump(value).encode("utf-8")


def _dump(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + _dump(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def loads(data: bytes) -> Any:
    """Parse keeping non-integral numbers exact (``Decimal``)."""
    return json.loads(data, parse_float=Decimal, strict=False)


def top_metadata_value(data: bytes) -> int | None:
    """Offset of the ``{`` of the top-level ``@metadata`` value of compact *data*, when it is the
    first or the last member (where 3.x exports and the converter put it), else ``None``."""
    if data.startswith(b"{" + _META):
        return len(_META)
    pos = data.rfind(b"," + _META)
    if pos < 0:
        return None
    start = pos + 1 + len(_META) - 1
    tail = data[start:-1]
    if tail.count(b"{") == tail.count(b"}") and tail.count(b"[") == tail.count(b"]"):
        return start
    try:
        json.loads(tail, strict=False)
    except ValueError:
        return None
    return start


def prepend_metadata(data: bytes, members: bytes) -> bytes:
    """*data* with the compact JSON *members* (``"k":v,...``) first in its top-level ``@metadata``.

    Creates ``@metadata`` when absent; falls back to a full parse when the metadata is in the
    middle of the object."""
    start = top_metadata_value(data)
    if start is None:
        obj = loads(data)
        meta = obj.pop("@metadata", None) if isinstance(obj.get("@metadata"), dict) else None
        extra = loads(b"{" + members + b"}")
        obj["@metadata"] = {**extra, **(meta or {})}
        return dumps(obj)
    sep = b"" if data[start + 1:start + 2] == b"}" else b","
    return data[:start + 1] + members + sep + data[start + 1:]


_PLAIN = re.compile(r'[^"\\\x00-\x1f]*\Z')


def string(value: str) -> bytes:
    """A JSON string literal (UTF-8)."""
    if _PLAIN.match(value):
        return b'"' + value.encode() + b'"'
    return json.dumps(value, ensure_ascii=False).encode()


def member(key: str, value: str) -> bytes:
    return string(key) + b":" + string(value)
