"""Byte-level JSON helpers for the metadata rewrite: scan values without parsing bodies.

The 3.x body bytes must reach 4.x untouched (numbers are never round-tripped through floats,
docs/formats/dumps-3x.md §5), so the converter works on raw UTF-8 JSON: it finds value boundaries, keeps
scalars byte for byte, and only re-emits the objects it rewrites (compactly).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

_WS = b" \t\r\n"
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_SCALAR = re.compile(rb"[^,}\] \t\r\n]+")
_COMPACT = re.compile(rb'("(?:[^"\\]|\\.)*")|[ \t\r\n]+', re.S)


class JsonBytesError(ValueError):
    """Malformed JSON at a byte offset (callers turn it into a SourceError with the record's position)."""

    def __init__(self, message: str, offset: int) -> None:
        self.offset = offset
        super().__init__(f"{message} at byte {offset}")


def skip_ws(data: bytes, pos: int) -> int:
    n = len(data)
    while pos < n and data[pos] in _WS:
        pos += 1
    return pos


def string_end(data: bytes, pos: int) -> int:
    """End (exclusive) of the JSON string starting at ``data[pos] == '"'``."""
    m = _STRING.match(data, pos)
    if m is None:
        raise JsonBytesError("unterminated string", pos)
    return m.end()


def value_end(data: bytes, pos: int) -> int:
    """End (exclusive) of the JSON value starting at *pos* (no leading whitespace)."""
    if pos >= len(data):
        raise JsonBytesError("expected a value, found end of input", pos)
    c = data[pos]
    if c == 0x22:  # "
        return string_end(data, pos)
    if c == 0x7B or c == 0x5B:  # { [
        depth = 0
        n = len(data)
        while pos < n:
            c = data[pos]
            if c == 0x22:
                pos = string_end(data, pos)
                continue
            if c == 0x7B or c == 0x5B:
                depth += 1
            elif c == 0x7D or c == 0x5D:
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
        raise JsonBytesError("unterminated object or array", pos)
    m = _SCALAR.match(data, pos)
    if m is None:
        raise JsonBytesError(f"unexpected byte {bytes([c])!r}", pos)
    return m.end()


def iter_object(data: bytes, start: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(key_start, key_end, value_start, value_end)`` for each member of the object at *start*."""
    if data[start] != 0x7B:
        raise JsonBytesError("expected '{'", start)
    pos = skip_ws(data, start + 1)
    if pos < len(data) and data[pos] == 0x7D:
        return
    while True:
        if pos >= len(data) or data[pos] != 0x22:
            raise JsonBytesError("expected a property name", pos)
        kend = string_end(data, pos)
        colon = skip_ws(data, kend)
        if colon >= len(data) or data[colon] != 0x3A:
            raise JsonBytesError("expected ':'", colon)
        vstart = skip_ws(data, colon + 1)
        vend = value_end(data, vstart)
        yield pos, kend, vstart, vend
        pos = skip_ws(data, vend)
        if pos < len(data) and data[pos] == 0x2C:
            pos = skip_ws(data, pos + 1)
            if pos < len(data) and data[pos] == 0x7D:
                return  # trailing comma (2.0 Studio sample data, docs/formats/dumps-3x.md §14)
            continue
        if pos < len(data) and data[pos] == 0x7D:
            return
        raise JsonBytesError("expected ',' or '}'", pos)


def iter_array(data: bytes, start: int) -> Iterator[tuple[int, int]]:
    """Yield ``(value_start, value_end)`` for each element of the array at *start*."""
    pos = skip_ws(data, start + 1)
    if pos < len(data) and data[pos] == 0x5D:
        return
    while True:
        vend = value_end(data, pos)
        yield pos, vend
        pos = skip_ws(data, vend)
        if pos < len(data) and data[pos] == 0x2C:
            pos = skip_ws(data, pos + 1)
            if pos < len(data) and data[pos] == 0x5D:
                return
            continue
        if pos < len(data) and data[pos] == 0x5D:
            return
        raise JsonBytesError("expected ',' or ']'", pos)


def decode_key(raw: bytes) -> str:
    """The property name of a raw JSON string token (escapes resolved only when present)."""
    if b"\\" in raw:
        return json.loads(raw)
    return raw[1:-1].decode("utf-8")


def scalar(raw: bytes):
    """The Python value of one raw JSON value (strings without escapes decoded directly)."""
    if raw[:1] == b'"' and b"\\" not in raw:
        return raw[1:-1].decode("utf-8")
    return json.loads(raw)


def compact(data: bytes) -> bytes:
    """*data* with insignificant whitespace removed (string contents untouched)."""
    return _COMPACT.sub(lambda m: m.group(1) or b"", data)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of parsed source values (``Decimal`` numbers written exactly as read)."""
    return _dump(value).encode("utf-8")


def _dump(value: Any) -> str:
    if isinstance(value, str):
        return encode_basestring(value)  # json.dumps(value, ensure_ascii=False) without a new encoder
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{encode_basestring(str(k))}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
