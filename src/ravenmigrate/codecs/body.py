"""The payload under the codecs: JSON text (3.x, UTF-8 with BOM) or RavenDB-BSON (1.x/2.x).

docs/formats/dumps-3x.md §11.1 / docs/formats/bundles.md §1: per value, fewer than 5 bytes or byte[4] > 30
(``BsonType.RavenDBCustomFloat``) means JSON text, otherwise BSON.
"""

from __future__ import annotations

from ravenmigrate import _twins
from ravenmigrate.codecs.compression import MAGIC
from ravenmigrate.codecs.errors import BundleDecodeError

BOM = b"\xef\xbb\xbf"
_LAST_BSON_TYPE = 30  # BsonType.RavenDBCustomFloat = 0x1E

_twins.register("bson", "ravenmigrate.codecs.bson")
_bson = _twins.load("bson")


def is_json(value: bytes) -> bool:
    """RavenDB's ``IsJson`` rule (docs/formats/dumps-3x.md §11.1)."""
    return len(value) < 5 or value[4] > _LAST_BSON_TYPE


def decode_body(
    value: bytes | bytearray | memoryview, *, what: str = "value", path: str | None = None, hint: str = ""
) -> bytes:
    """JSON bytes without BOM for a decoded body (or metadata) value.

    JSON text passes through unchanged apart from the BOM (3.x already wrote compact JSON); BSON is
    rendered as compact JSON (see :mod:`ravenmigrate.codecs.bson`). A value that is neither raises
    ``BundleDecodeError`` code ``body-parse``; *hint* is appended to that message.
    """
    if not isinstance(value, bytes):
        value = bytes(value)
    if is_json(value):
        start = 3 if value[:3] == BOM else 0
        first = value[start : start + 1]
        if first != b"{":
            if value[:4] == MAGIC:
                hint = ": it is compressed, but the compression bundle is not enabled (pass --compression)"
            raise BundleDecodeError(
                "body-parse",
                f"{what}: expected a JSON object or a BSON document, got {value[:16]!r}{hint}",
                path=path,
            )
        return value[start:] if start else value
    try:
        return _bson.to_json(value)
    except ValueError as exc:
        raise BundleDecodeError("body-parse", f"{what}: bad BSON body: {exc}{hint}", path=path) from None
