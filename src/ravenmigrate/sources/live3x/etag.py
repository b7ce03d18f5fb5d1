"""3.x etags: 16 bytes shown as ``01000000-0000-0001-0000-000000000005`` (docs/live3x.md).

The first eight bytes are the ``restarts`` part, the last eight the ``changes`` counter, both
big-endian, so ordering the 32 hex digits as one number orders etags as 3.x's ``Etag.CompareTo``
(mynkow/ravendb v3.5 ``Raven.Abstractions/Util/Etag.cs``).
"""

from __future__ import annotations

EMPTY = "00000000-0000-0000-0000-000000000000"


def to_int(etag: str | None) -> int:
    """The etag as a 128-bit number (``None`` and the empty etag are 0)."""
    if not etag:
        return 0
    digits = etag.replace("-", "")
    if len(digits) != 32:
        raise ValueError(f"not a 3.x etag: {etag!r}")
    return int(digits, 16)


def to_str(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
