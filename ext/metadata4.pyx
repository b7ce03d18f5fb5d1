# cython: language_level=3
"""Native twin of ravenmigrate.convert.metadata (the specification): the 3.x -> 4.x ``@metadata``
rewrite of docs/formats/import-4x.md §3.2/§3.3, scanning the raw bytes in C and re-emitting only the
metadata object. Same API, same results, same errors as the pure twin."""

import json

from ravenmigrate.convert.metadata import (
    CONSUMED_STRING,
    DROPPED,
    DROPPED_ARRAY,
    ETAG,
    RENAMED,
    REVISION_STATUS,
    MetadataError,
)
from ravenmigrate.convert.jsonbytes import JsonBytesError, scalar

_RENAMED_NAMES = {"Raven-Entity-Name": "@collection", "Raven-Expiration-Date": "@expires"}


cdef inline bint _is_ws(unsigned char c):
    return c == 32 or c == 9 or c == 13 or c == 10


cdef Py_ssize_t _skip_ws(const unsigned char* p, Py_ssize_t i, Py_ssize_t n):
    while i < n and _is_ws(p[i]):
        i += 1
    return i


cdef Py_ssize_t _string_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) except -1:
    cdef Py_ssize_t start = i
    i += 1
    while i < n:
        if p[i] == 92:  # backslash
            if i + 1 >= n:
                break
            i += 2
            continue
        if p[i] == 34:
            return i + 1
        i += 1
    raise JsonBytesError("unterminated string", start)


cdef Py_ssize_t _value_end(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) except -1:
    cdef unsigned char c
    cdef Py_ssize_t depth = 0
    cdef Py_ssize_t start = i
    if i >= n:
        raise JsonBytesError("expected a value, found end of input", i)
    c = p[i]
    if c == 34:
        return _string_end(p, i, n)
    if c == 123 or c == 91:
        while i < n:
            c = p[i]
            if c == 34:
                i = _string_end(p, i, n)
                continue
            if c == 123 or c == 91:
                depth += 1
            elif c == 125 or c == 93:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise JsonBytesError("unterminated object or array", i)
    while i < n:
        c = p[i]
        if c == 44 or c == 125 or c == 93 or _is_ws(c):
            break
        i += 1
    if i == start:
        raise JsonBytesError(f"unexpected byte {bytes([c])!r}", start)
    return i


cdef str _decode_key(bytes raw):
    if b"\\" in raw:
        return json.loads(raw)
    return raw[1:-1].decode("utf-8")


cdef list _members(bytes data, Py_ssize_t start, list events, bint nested):
    cdef const unsigned char* p = data
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t pos, ks, ke, vs, ve, colon
    cdef unsigned char first
    cdef bint composite
    cdef list out = []
    cdef str name
    if start >= n or p[start] != 123:
        raise JsonBytesError("expected '{'", start)
    pos = _skip_ws(p, start + 1, n)
    if pos < n and p[pos] == 125:
        return out
    while True:
        if pos >= n or p[pos] != 34:
            raise JsonBytesError("expected a property name", pos)
        ks = pos
        ke = _string_end(p, pos, n)
        colon = _skip_ws(p, ke, n)
        if colon >= n or p[colon] != 58:
            raise JsonBytesError("expected ':'", colon)
        vs = _skip_ws(p, colon + 1, n)
        ve = _value_end(p, vs, n)
        name = _decode_key(data[ks:ke])
        first = p[vs]
        composite = first == 123 or first == 91
        if name in CONSUMED_STRING:
            if first != 34:
                raise MetadataError(f"metadata key {name!r} must be a string", vs)
            events.append((CONSUMED_STRING[name], scalar(data[vs:ve]), nested))
        elif name == ETAG:
            if composite:
                raise MetadataError(f"metadata key {name!r} must be a primitive value", vs)
            events.append(("etag", scalar(data[vs:ve]), nested))
        elif name == REVISION_STATUS:
            value = scalar(data[vs:ve])
            if not isinstance(value, (str, int)) or isinstance(value, bool):
                raise MetadataError(f"metadata key {name!r} must be a string or an integer", vs)
            events.append(("status", value, nested))
        elif name in DROPPED:
            if composite:
                raise MetadataError(f"metadata key {name!r} must be a primitive value", vs)
        elif name == DROPPED_ARRAY:
            if first != 91:
                raise MetadataError(f"metadata key {name!r} must be an array", vs)
        else:
            out.append((_RENAMED_NAMES.get(name, name),
                        RENAMED.get(name, data[ks:ke]) + b":" + _value(data, vs, ve, events)))
        pos = _skip_ws(p, ve, n)
        if pos < n and p[pos] == 44:
            pos = _skip_ws(p, pos + 1, n)
            if pos < n and p[pos] == 125:
                return out
            continue
        if pos < n and p[pos] == 125:
            return out
        raise JsonBytesError("expected ',' or '}'", pos)


cdef bytes _value(bytes data, Py_ssize_t vs, Py_ssize_t ve, list events):
    cdef const unsigned char* p = data
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t pos, e
    cdef list parts
    cdef unsigned char first = p[vs]
    if first == 123:
        return b"{" + b",".join([m for _, m in _members(data, vs, events, True)]) + b"}"
    if first == 91:
        parts = []
        pos = _skip_ws(p, vs + 1, n)
        if pos < n and p[pos] == 93:
            return b"[]"
        while True:
            e = _value_end(p, pos, n)
            parts.append(_value(data, pos, e, events))
            pos = _skip_ws(p, e, n)
            if pos < n and p[pos] == 44:
                pos = _skip_ws(p, pos + 1, n)
                if pos < n and p[pos] == 93:
                    break
                continue
            if pos < n and p[pos] == 93:
                break
            raise JsonBytesError("expected ',' or ']'", pos)
        return b"[" + b",".join(parts) + b"]"
    return data[vs:ve]


def rewrite_metadata(bytes data, Py_ssize_t start, bint nested):
    """See ravenmigrate.convert.metadata.rewrite_metadata."""
    cdef list events = []
    cdef list members = _members(data, start, events, nested)
    return members, events
