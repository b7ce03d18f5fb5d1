"""Compression bundle: ``Cmpr`` magic + raw DEFLATE (docs/formats/bundles.md §1, docs/formats/dumps-3x.md §11.1)."""

from __future__ import annotations

import zlib

from ravenmigrate import _twins

MAGIC = b"Cmpr"  # the little-endian uint 0x72706D43 written by CompressStream (docs/formats/bundles.md §1)

_twins.register("inflate", "ravenmigrate.codecs.inflate")
_inflate = _twins.load("inflate")


def is_compressed(data: bytes) -> bool:
    """True when *data* starts with the ``Cmpr`` magic (docs/formats/bundles.md §1, "How to recognise it")."""
    return data[:4] == MAGIC


def decompress(data: bytes, *, what: str = "value", path: str | None = None) -> bytes:
    """Decode a compression-bundle value.

    Like RavenDB's ``DecompressStream`` (docs/formats/bundles.md §1): a value without the magic passes through
    unchanged; bytes after the end of the DEFLATE stream are ignored. A truncated or corrupt stream
    raises ``BundleDecodeError`` code ``deflate``.
    """
    if data[:4] != MAGIC:
        return data
    return _inflate.inflate_raw(data, 4, what, path)


def compress(data: bytes, *, level: int = 6) -> bytes:
    """The project's own encoder: ``Cmpr`` + raw DEFLATE (zlib level 6, window -15).

    On Mono this reproduces RavenDB's bytes exactly; .NET Framework output may differ byte for
    byte, which never matters for decoding (docs/formats/bundles.md §1, §8).
    """
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    return MAGIC + co.compress(data) + co.flush()
