"""The project's own RavenDB-BSON writer (the 2.x body format, docs/formats/dumps-3x.md §11.1), for tests and
benchmarks: builds the rows a 2.x store holds so the decoder can be checked against them.

Python values map to BSON as Json.NET's writer maps .NET values: dict → document (0x03), list →
array (0x04), str → string (0x02), bool → 0x08, None → null (0x0A), int → int32 (0x10) or int64
(0x12), float → double (0x01); the markers :class:`Float32`, :class:`DotNetDecimal` and
:class:`BsonDate` select RavenDB's float32 (0x1E), the .NET decimal (0x13) and dates (0x09, ms).
"""

from __future__ import annotations

import decimal
import struct
from typing import Any


class Float32(float):
    """A value written as RavenDB's custom 4-byte float (type 0x1E)."""


class BsonDate(int):
    """Milliseconds since 1970-01-01, written as a BSON date (type 0x09)."""


class DotNetDecimal:
    """A .NET ``decimal``: 96-bit mantissa, scale 0..28, sign; written as type 0x13 (16 bytes)."""

    def __init__(self, mantissa: int, scale: int = 0, negative: bool = False) -> None:
        if not 0 <= mantissa < 2**96 or not 0 <= scale <= 28:
            raise ValueError(f"not a .NET decimal: mantissa {mantissa}, scale {scale}")
        flags = (scale << 16) | (0x80000000 if negative else 0)
        self.raw = struct.pack("<IIII", mantissa & 0xFFFFFFFF, (mantissa >> 32) & 0xFFFFFFFF, mantissa >> 64, flags)

    @classmethod
    def from_decimal(cls, value: decimal.Decimal) -> DotNetDecimal:
        sign, digits, exp = value.as_tuple()
        mantissa = int("".join(map(str, digits)) or "0")
        if exp > 0:
            mantissa, exp = mantissa * 10**exp, 0
        return cls(mantissa, -exp, bool(sign))


def _cstring(name: str) -> bytes:
    b = name.encode("utf-8")
    if b"\x00" in b:
        raise ValueError(f"BSON element name {name!r} contains a NUL byte")
    return b + b"\x00"


def _element(name: str, v: Any) -> bytes:
    key = _cstring(name)
    if v is None:
        return b"\x0a" + key
    if isinstance(v, bool):
        return b"\x08" + key + (b"\x01" if v else b"\x00")
    if isinstance(v, BsonDate):
        return b"\x09" + key + struct.pack("<q", v)
    if isinstance(v, int):
        if -(2**31) <= v < 2**31:
            return b"\x10" + key + struct.pack("<i", v)
        return b"\x12" + key + struct.pack("<q", v)
    if isinstance(v, Float32):
        return b"\x1e" + key + struct.pack("<f", v)
    if isinstance(v, float):
        return b"\x01" + key + struct.pack("<d", v)
    if isinstance(v, DotNetDecimal):
        return b"\x13" + key + v.raw
    if isinstance(v, decimal.Decimal):
        return b"\x13" + key + DotNetDecimal.from_decimal(v).raw
    if isinstance(v, str):
        b = v.encode("utf-8")
        return b"\x02" + key + struct.pack("<i", len(b) + 1) + b + b"\x00"
    if isinstance(v, (bytes, bytearray)):
        return b"\x05" + key + struct.pack("<i", len(v)) + b"\x00" + bytes(v)
    if isinstance(v, (list, tuple)):
        return b"\x04" + key + to_bson({str(i): x for i, x in enumerate(v)})
    if isinstance(v, dict):
        return b"\x03" + key + to_bson(v)
    raise TypeError(f"cannot write {type(v).__name__} as BSON")


def to_bson(doc: dict[str, Any]) -> bytes:
    """One BSON document for *doc*."""
    body = b"".join(_element(k, v) for k, v in doc.items())
    return struct.pack("<i", len(body) + 5) + body + b"\x00"
