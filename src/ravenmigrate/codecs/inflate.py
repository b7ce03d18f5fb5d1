"""Pure twin of ``ravenmigrate._native.inflate``: raw DEFLATE after the ``Cmpr`` magic.

docs/formats/bundles.md §1: no zlib/gzip header, no length, no checksum; trailing bytes are ignored.
"""

from __future__ import annotations

import zlib

from ravenmigrate.codecs.errors import BundleDecodeError


def inflate_raw(data: bytes, offset: int, what: str, path: str | None) -> bytes:
    """Inflate the raw DEFLATE stream that starts at *offset* of *data*."""
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(memoryview(data)[offset:])
    except zlib.error as exc:
        raise BundleDecodeError(
            "deflate", f"{what}: corrupt DEFLATE stream after the 'Cmpr' magic ({exc})", path=path
        ) from None
    if not d.eof:
        raise BundleDecodeError(
            "deflate",
            f"{what}: DEFLATE stream truncated after {len(data) - offset} compressed bytes "
            "(expected a final block after the 'Cmpr' magic)",
            path=path,
        )
    return out
