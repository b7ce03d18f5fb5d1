"""A canonical text of JSON values, for comparing documents by value (``ravenmigrate verify``).

Two JSON texts have the same canonical text exactly when they hold the same values: object
members in any order (a repeated name: the last one counts, as every JSON reader here takes it),
strings with any escaping, numbers in any notation (``1.50``, ``15e-1`` and ``1.5E0`` are equal;
compared exactly, never through a double). The canonical text is itself JSON:

- an object's members sorted by their canonical names (bytewise), ``{"a":1e0,"b":[]}``;
- a string as UTF-8 with only ``"``, ``\\`` and the control characters escaped (``\\u00XX``,
  lower-case hex); a lone surrogate escape (``\\ud800``) as its three UTF-8 bytes, as Python's
  ``surrogatepass`` writes it;
- a number as its significant digits and a power of ten: ``15e-1``, ``-2e3``, ``0e0`` for every
  zero; ``true``, ``false``, ``null`` as they are.

This module is the pure twin (the specification); ``ext/canonical.pyx`` gives the same bytes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

METADATA = b'"@metadata"'
MAX_EXPONENT = 999_999_999
MAX_DEPTH = 500  # nested objects and arrays
_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)} | {0x22: '\\"', 0x5C: "\\\\"}


class CanonicalError(ValueError):
    """Not JSON, or past a limit: a power of ten past ``MAX_EXPONENT``, nesting past ``MAX_DEPTH``."""


def _reject(name: str) -> Any:
    raise CanonicalError(f"{name} is not JSON")


def _parse(data: bytes) -> Any:
    try:
        text = bytes(data).decode("utf-8", "surrogatepass")
        return json.loads(text, parse_float=Decimal, parse_int=Decimal, parse_constant=_reject, strict=False)
    except CanonicalError:
        raise
    except (ValueError, RecursionError) as exc:
        raise CanonicalError(f"not JSON: {exc}") from None


def _string(value: str) -> bytes:
    return b'"' + value.translate(_ESCAPES).encode("utf-8", "surrogatepass") + b'"'


def _number(value: Decimal) -> bytes:
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return b"0e0"
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    if abs(exponent) > MAX_EXPONENT:
        raise CanonicalError(f"number {value} is out of range")
    return f"{'-' if sign else ''}{stripped}e{exponent}".encode()


def _canonical(value: Any, out: list[bytes], depth: int = 0) -> None:
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        raise CanonicalError(f"nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        members = sorted((_string(k), v) for k, v in value.items())
        out.append(b"{")
        for i, (key, item) in enumerate(members):
            out.append(b"," + key + b":" if i else key + b":")
            _canonical(item, out, depth + 1)
        out.append(b"}")
    elif isinstance(value, list):
        out.append(b"[")
        for i, item in enumerate(value):
            if i:
                out.append(b",")
            _canonical(item, out, depth + 1)
        out.append(b"]")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, Decimal):
        out.append(_number(value))
    else:
        out.append(b"true" if value is True else b"false" if value is False else b"null")


def canonical(data: bytes) -> bytes:
    """The canonical text of the JSON value in *data*; :class:`CanonicalError` if it is not JSON."""
    out: list[bytes] = []
    _canonical(_parse(data), out)
    return b"".join(out)


def split_canonical(data: bytes, drop: frozenset[bytes] = frozenset()) -> tuple[bytes, bytes]:
    """``(body, metadata)`` of the JSON object in *data* (a document): the canonical text of the object
    without its ``@metadata`` member, and of that member's value without the members whose canonical
    names are in *drop* (``{}`` when it is absent or null)."""
    value = _parse(data)
    if not isinstance(value, dict):
        raise CanonicalError("a document must be a JSON object")
    metadata = None
    body: dict[str, Any] = {}
    for key, item in value.items():
        if _string(key) == METADATA:
            metadata = item
        else:
            body[key] = item
    if metadata is None:
        metadata = {}
    elif isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if _string(k) not in drop}
    out: list[bytes] = []
    _canonical(body, out)
    meta: list[bytes] = []
    _canonical(metadata, meta, 1)
    return b"".join(out), b"".join(meta)
