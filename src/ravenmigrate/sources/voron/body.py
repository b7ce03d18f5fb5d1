"""Decode a stored document body to JSON bytes (interim plain codec until ``ravenmigrate.codecs`` lands).

formats-3x.md §11.1: 3.x stores BOM‖JSON text; a ``Cmpr`` prefix marks the Compression bundle (raw
deflate follows); byte 4 ≤ 30 marks a BSON body written by 2.x.
"""

from __future__ import annotations

import zlib

from ...errors import SourceError, UnsupportedSource

BOM = b"\xef\xbb\xbf"
CMPR = b"Cmpr"


def decode_document(stored: bytes, key: str, *, compression: bool | None = None, encryption: object = None,
                    path: str | None = None) -> bytes:
    """JSON bytes (no BOM) of a stored body; *key* names it in errors."""
    if encryption is not None:
        raise UnsupportedSource("encrypted bodies need ravenmigrate.codecs", path=path)
    inner = stored
    if compression is not False and inner[:4] == CMPR:
        try:
            inner = zlib.decompressobj(-15).decompress(inner[4:])
        except zlib.error as exc:
            raise SourceError(f"document {key!r}: Cmpr body does not inflate ({exc})", path=path) from exc
    if inner[:3] == BOM:
        inner = inner[3:]
    elif len(inner) >= 5 and inner[4] <= 30:
        raise UnsupportedSource(f"document {key!r} is BSON (2.x); needs ravenmigrate.codecs", path=path)
    return inner
